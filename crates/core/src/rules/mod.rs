//! The numbered rules of SPEC §2, one module per concern; each rule's functions start their doc with its number.

pub mod advisory;
pub mod eligibility;
pub mod engagement;
pub mod lifecycle;
pub mod migration;
pub mod relationship;
pub mod request;
