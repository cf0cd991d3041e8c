//! R12 business hours, holidays and daylight saving; R15 business-minute clocks.
