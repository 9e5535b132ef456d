//! Why a workload cannot be scheduled on a target: one variant per cause, each displayed
//! as one sentence the compiler turns into a diagnostic on the fragment's source span.

use std::fmt;

/// A scheduling failure.
#[derive(Clone, Debug, PartialEq)]
pub enum ScheduleError {
    /// An edge or model reference points outside the workload.
    InvalidWorkload {
        /// What is wrong.
        message: String,
    },
    /// The fragment graph has a cycle through this fragment.
    Cycle {
        /// A fragment on the cycle.
        fragment: usize,
        /// Its name.
        name: String,
    },
    /// An `@device` pin no device of the target satisfies.
    PinUnsatisfiable {
        /// The pinned fragment.
        fragment: usize,
        /// Its name.
        name: String,
        /// The pin as written (`gpu`, `h100_3`).
        pin: String,
        /// Why no device qualifies.
        reason: String,
    },
    /// A model too large for every device, even sharded over a whole node.
    ModelFitsNowhere {
        /// The model.
        model: String,
        /// Its weights plus its largest fragment's working memory, bytes.
        bytes: f64,
        /// The same at the smallest precision offered for it, bytes.
        smallest_bytes: f64,
        /// That precision (`int4`; `native` when no quantized format is smaller).
        smallest_precision: String,
        /// The largest single device's memory, bytes.
        largest_device_bytes: f64,
    },
    /// No device can run this fragment (its kind runs nowhere, or memory is taken).
    NoDevice {
        /// The fragment.
        fragment: usize,
        /// Its name.
        name: String,
        /// Why.
        reason: String,
    },
    /// The exact oracle only handles small graphs.
    TooLargeForOracle {
        /// Fragments in the workload.
        fragments: usize,
        /// The oracle's limit.
        limit: usize,
    },
}

impl fmt::Display for ScheduleError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ScheduleError::InvalidWorkload { message } => write!(f, "invalid workload: {message}"),
            ScheduleError::Cycle { name, .. } => {
                write!(f, "the fragment graph has a cycle through `{name}`")
            }
            ScheduleError::PinUnsatisfiable {
                name, pin, reason, ..
            } => {
                write!(f, "cannot place `{name}` on `@device({pin})`: {reason}")
            }
            ScheduleError::ModelFitsNowhere {
                model,
                bytes,
                smallest_bytes,
                smallest_precision,
                largest_device_bytes,
            } if smallest_precision != "native" => write!(
                f,
                "model `{model}` needs {:.1} GB ({:.1} GB at {smallest_precision}), which fits on no device of the target, even sharded over one node and quantized (largest device: {:.1} GB)",
                bytes / 1e9,
                smallest_bytes / 1e9,
                largest_device_bytes / 1e9
            ),
            ScheduleError::ModelFitsNowhere {
                model,
                bytes,
                largest_device_bytes,
                ..
            } => write!(
                f,
                "model `{model}` needs {:.1} GB, which fits on no device of the target, even sharded over one node (largest device: {:.1} GB)",
                bytes / 1e9,
                largest_device_bytes / 1e9
            ),
            ScheduleError::NoDevice { name, reason, .. } => {
                write!(f, "no device can run `{name}`: {reason}")
            }
            ScheduleError::TooLargeForOracle { fragments, limit } => write!(
                f,
                "the exact oracle handles at most {limit} fragments, this workload has {fragments}"
            ),
        }
    }
}

impl std::error::Error for ScheduleError {}
