//! Passes at the kernel level after bufferisation (memrefs). The kernel passes that predate
//! this folder live with the conversion that creates their input
//! (`conversion/tensor_to_kernel`: `kernel-drop-transform-scripts`, `kernel-free-buffers`)
//! or with codegen (`kernel-lower-workgroup-ids`, `kernel-outline-gpu`).

pub mod guard_argument_copies;
pub mod noinline_parallel_bodies;
pub mod pack_buffers;
pub mod x86_vnni;
