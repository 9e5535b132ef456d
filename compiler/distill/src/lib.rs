//! The distillation engine behind `agentc distill` (docs/distillation.md): shrink a
//! workflow's decoder to a measured accuracy budget.
//!
//! - [`checkpoint`]: the teacher (shape, f32 weights, tokenizer) through the runtime's loaders.
//! - [`forward`]: the decoder's forward on candle (logits, KV cache, linear-layer inputs).
//! - [`hessian`], [`quant`], [`gptq`]: calibration statistics, RTN and GPTQ.
//! - [`student`], [`gguf_writer`]: a plan applied and written as GGUF.
//! - [`recovery`]: the student's norms fine-tuned on the teacher's logits (KL, candle autodiff).
//! - [`runs`]: calibration prompts from runs of the program itself (`--args`).
//! - [`measure`], [`search`]: the budget figures and the plan search; [`speed`]: predicted
//!   and measured decode speed through `agentc`; [`cli`]: the command.
#![deny(missing_docs)]

pub mod checkpoint;
pub mod cli;
pub mod forward;
pub mod gptq;
pub mod hessian;
pub mod quant;
pub mod gguf_writer;
pub mod student;
pub mod measure;
pub mod recovery;
pub mod runs;
pub mod search;
pub mod speed;
