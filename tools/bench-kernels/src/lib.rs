//! Benchmark crate: see benches/matmul.rs (generated matmul vs the gemm crate) and
//! benches/llama.rs (tiny-Llama prefill and decode-step time).
