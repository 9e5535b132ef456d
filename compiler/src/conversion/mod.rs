//! Conversions between levels (`convert-<a>-to-<b>`), outside any one dialect.

pub mod workflow_to_fragment;
pub mod fragment_to_tensor;
pub mod tensor_to_kernel;
