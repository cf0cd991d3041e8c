//! R10/R11 slot search and fair assignment of staff.
