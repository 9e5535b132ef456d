//! Conversions between levels (`convert-<a>-to-<b>`), outside any one dialect.

pub mod workflow_to_fragment;
