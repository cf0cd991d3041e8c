//! The FastTrack programme's rules, pure: no I/O, no async, no clock. Callers pass `now` in.
#![forbid(unsafe_code)]

pub mod calendar;
pub mod error;
pub mod language;
pub mod policy;
pub mod role;
pub mod rules;
pub mod scheduling;
pub mod types;

pub use error::{FieldError, Invalid, Rule, RuleViolation};
pub use language::{Language, SpokenLanguage};
pub use role::{OrgKind, Role};
