//! Passes on the fragment level.

pub mod schedule;
