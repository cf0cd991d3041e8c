//! R10/R11 slot search and fair assignment of staff.

pub mod batch;
mod engine;
pub mod plan;
pub mod search;
pub mod validate;

#[cfg(test)]
mod proptests;

pub use batch::{
    batch, Assignment, BatchOutcome, BatchRequest, BatchSettings, Unplaced, UnplacedReason,
};
pub use plan::{phase_purpose, plan_steps, propose_plan, PlanStep, ProposedMeeting};
pub use search::{
    find_slots, find_slots_in, SearchLayout, Slot, SlotQuery, StaffAvailability,
    DEFAULT_GRID_MINUTES, DEFAULT_HORIZON_DAYS,
};
pub use validate::validate_booking;
