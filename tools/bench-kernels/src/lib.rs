//! Benchmark crate: see benches/matmul.rs.
