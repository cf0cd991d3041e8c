//! R12 business hours, holidays and daylight saving; R15 business-minute clocks.

pub mod hours;
pub mod ics;
pub mod region;
pub mod sla;

pub use hours::{parse_intervals, parse_weekday, parse_weekdays, DayInterval, WorkingHours};
pub use ics::{parse_holidays_ics, IcsError};
pub use region::{resolve_local, CustomerHours, RegionCalendar};
pub use sla::{business_minutes, deadline, SlaStatus};
