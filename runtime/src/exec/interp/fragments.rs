//! Model and tensor fragments: `prefill`, `decode` (the decode loop of `generate`),
//! `encode` (`embed`) and `compute` (a tensor `fn`), run through the compiled kernels: on
//! the CUDA device when the fragment is placed on a GPU of the plan's target and the
//! executable opened one at start-up, else on the CPU pool (`--fallback cpu`, or a CPU
//! placement).

use std::io::Write;
use std::sync::{Arc, Mutex};
use std::time::Instant;

use super::{Env, Interpreter, error};
use crate::grammar::Grammar;
use crate::exec::{KvValue, RunError, Tensor, TensorData, Value, NEEDS_KERNELS};
use crate::kernels::{Executor, Memref};
use crate::models::DecodeObserver;
use crate::plan::{Op, Type};
use crate::sampling::{GenerateOptions, Pcg32, Sampling};
use crate::trace::Trace;

/// The random stream of a generate call: its call site (`loc`) and the iteration numbers of
/// the enclosing bodies, so parallel `map` bodies draw the same numbers on every run.
fn stream_of(loc: &str, path: &[i64]) -> u64 {
    // FNV-1a, 64 bits.
    let mut hash = 0xcbf2_9ce4_8422_2325u64;
    let mut eat = |bytes: &[u8]| {
        for b in bytes {
            hash ^= u64::from(*b);
            hash = hash.wrapping_mul(0x0100_0000_01b3);
        }
    };
    eat(loc.as_bytes());
    for i in path {
        eat(&i.to_le_bytes());
    }
    hash
}

/// How a model call is named in its errors: `llm.generate (in agent `main`, iteration 3)`;
/// nested bodies give every iteration number, outermost first (`iterations 1, 3`).
fn call_name(model: &str, method: &str, caller: &str, path: &[i64]) -> String {
    let iterations = match path {
        [] => String::new(),
        [one] => format!(", iteration {one}"),
        many => format!(", iterations {}", many.iter().map(i64::to_string).collect::<Vec<_>>().join(", ")),
    };
    format!("{model}.{method} (in agent `{caller}`{iterations})")
}

/// Streams new text to stderr and records decode steps on the trace.
struct Observer<'a> {
    stream: bool,
    trace: Option<(&'a Trace, &'a str, &'a str)>,
}

impl DecodeObserver for Observer<'_> {
    fn text(&mut self, new_text: &str) {
        if self.stream {
            let mut err = std::io::stderr().lock();
            let _ = err.write_all(new_text.as_bytes());
            let _ = err.flush();
        }
    }

    fn decode_step(&mut self, index: usize, start: Instant, end: Instant) {
        if let Some((trace, device, model)) = self.trace {
            trace.slice(trace.track(device), &format!("decode step {model}"), "decode_step", start, end, &[("step", index.to_string())]);
        }
    }
}

/// A scalar or tensor argument of a compute fragment, held until the kernel has run.
enum Buffer {
    F32(Vec<f32>),
    I32(Vec<i32>),
    I64(Vec<i64>),
}

impl Buffer {
    /// A descriptor of the buffer with dims `shape` (its element type's size).
    fn memref(&mut self, shape: &[usize]) -> Memref {
        match self {
            Buffer::F32(v) => Memref::new(v.as_mut_ptr(), shape),
            Buffer::I32(v) => Memref::new(v.as_mut_ptr(), shape),
            Buffer::I64(v) => Memref::new(v.as_mut_ptr(), shape),
        }
    }
}

/// The elements and dims of a compute argument of type `ty` holding `value`.
fn input_buffer(value: &Value, ty: &Type) -> Result<(Buffer, Vec<usize>), String> {
    Ok(match (ty, value) {
        (Type::Tensor { shape, .. }, Value::Tensor(t)) => {
            let fits = shape.len() == t.shape.len() && shape.iter().zip(&t.shape).all(|(want, got)| want.is_none_or(|w| w as usize == *got));
            if !fits {
                let dims: Vec<String> = t.shape.iter().map(usize::to_string).collect();
                return Err(format!("expects {ty}, given a tensor of dims [{}]", dims.join(", ")));
            }
            let buffer = match &t.data {
                TensorData::F32(d) => Buffer::F32(d.to_vec()),
                TensorData::I32(d) => Buffer::I32(d.to_vec()),
                TensorData::I64(d) => Buffer::I64(d.to_vec()),
            };
            (buffer, t.shape.clone())
        }
        (Type::Scalar(s), Value::Float(x)) if s == "f32" => (Buffer::F32(vec![*x as f32]), vec![]),
        (Type::Scalar(s), Value::Int(x)) if s == "i32" => (Buffer::I32(vec![*x as i32]), vec![]),
        (Type::Int, Value::Int(x)) => (Buffer::I64(vec![*x]), vec![]),
        (ty, value) => return Err(format!("an argument of type {ty} holding a {} is not supported by the runtime yet", value.kind())),
    })
}

/// A destination buffer for a result of type `ty`.
fn output_buffer(ty: &Type) -> Result<(Buffer, Vec<usize>), String> {
    let (dtype, shape) = match ty {
        Type::Tensor { shape, dtype } => {
            let dims: Option<Vec<usize>> = shape.iter().map(|d| d.map(|n| n as usize)).collect();
            let dims = dims.ok_or_else(|| format!("a result of type {ty} has dynamic dims, which the runtime cannot allocate yet"))?;
            (dtype.as_str(), dims)
        }
        Type::Scalar(s) => (s.as_str(), vec![]),
        Type::Int => ("i64", vec![]),
        _ => return Err(format!("a result of type {ty} is not supported by the runtime yet")),
    };
    let n: usize = shape.iter().product();
    let buffer = match dtype {
        "f32" => Buffer::F32(vec![0.0; n]),
        "i32" => Buffer::I32(vec![0; n]),
        "i64" => Buffer::I64(vec![0; n]),
        other => return Err(format!("{other} tensors are not supported by the runtime yet (f32, i32, i64 are)")),
    };
    Ok((buffer, shape))
}

/// The value of a filled destination buffer.
fn output_value(buffer: Buffer, shape: Vec<usize>, ty: &Type) -> Value {
    match (ty, buffer) {
        (Type::Tensor { .. }, Buffer::F32(v)) => Value::Tensor(Tensor { shape, data: TensorData::F32(v.into()) }),
        (Type::Tensor { .. }, Buffer::I32(v)) => Value::Tensor(Tensor { shape, data: TensorData::I32(v.into()) }),
        (Type::Tensor { .. }, Buffer::I64(v)) => Value::Tensor(Tensor { shape, data: TensorData::I64(v.into()) }),
        // A fn's f32 result is held as f64, rounded to f32 (as the interpreter's fn scalars).
        (_, Buffer::F32(v)) => Value::Float(f64::from(v[0])),
        (_, Buffer::I32(v)) => Value::Int(i64::from(v[0])),
        (_, Buffer::I64(v)) => Value::Int(v[0]),
    }
}

impl Interpreter<'_> {
    /// Where `op`'s kernels run: the CUDA device for a GPU placement when one was opened,
    /// else the CPU pool (the start-up check allowed that only with `--fallback cpu`).
    fn executor<'c>(&self, op: &Op, compiled: &'c crate::exec::Compiled) -> Executor<'c> {
        let on_gpu = op.placement.as_ref().is_some_and(|p| self.plan.placed_on(&p.device, |kind| kind == "gpu"));
        match (&compiled.gpu, on_gpu) {
            (Some(gpu), true) => Executor::Gpu(gpu),
            _ => Executor::Cpu(&compiled.pool),
        }
    }

    /// Runs a model or tensor fragment.
    pub(super) fn run_compiled(&self, caller: &str, op: &Op, env: &Env<'_>, args: Vec<Value>) -> Result<Vec<Value>, RunError> {
        let attr = |name: &str| op.attrs.get(name).and_then(|v| v.as_str()).unwrap_or("");
        let Some(compiled) = self.compiled else {
            let what = match op.op.as_str() {
                "compute" => format!("`compute` of fn `{}`", attr("callee")),
                other => format!("`{other}` of model `{}`", attr("model")),
            };
            return Err(error(op, format!("{what}: {NEEDS_KERNELS}")));
        };
        let on = self.executor(op, compiled);
        let model = || {
            let name = attr("model");
            compiled.models.get(name).ok_or_else(|| error(op, format!("internal error: model `{name}` is not loaded")))
        };
        let text = |i: usize| match args.get(i) {
            Some(Value::Text(t)) => Ok(t.clone()),
            _ => Err(error(op, format!("internal error: `{}` operand {i} is not text", op.op))),
        };
        match op.op.as_str() {
            "prefill" => {
                let model = model()?;
                // The executor prefixes the call's location; the call names the agent it runs
                // in and the iteration of the enclosing map / for / loop bodies.
                // `chat`: the template wrote the special tokens; the post-processor adds none.
                let chat = op.attrs.get("chat").is_some_and(|c| c.as_bool() == Some(true));
                let call = call_name(&model.name, if chat { "chat" } else { "generate" }, caller, &env.path);
                let prefilled = model.prefill(&text(0)?, !chat, &call, on).map_err(|m| error(op, m))?;
                if let Some(trace) = self.trace {
                    // The kernel alone, with the prompt's length: what `agentc calibrate` and
                    // tools/bench_models.py read prefill throughput from; and the prompt's
                    // token ids: what `agentc distill --args` calibrates on.
                    let device = op.placement.as_ref().map(|p| p.device.as_str()).unwrap_or("none");
                    let (start, end) = prefilled.kernel_span();
                    let tokens = prefilled.prompt_tokens().to_string();
                    let ids = prefilled.prompt_ids().iter().map(u32::to_string).collect::<Vec<_>>().join(",");
                    let args = [("tokens", tokens), ("model", model.name.clone()), ("prompt_ids", ids)];
                    trace.slice(trace.track(device), &format!("prefill kernel {}", model.name), "prefill_kernel", start, end, &args);
                }
                Ok(vec![Value::Kv(KvValue(Arc::new(Mutex::new(Some(prefilled)))))])
            }
            "decode" => {
                let Some(Value::Kv(kv)) = args.first() else { return Err(error(op, "internal error: `decode` without a kv")) };
                let prefilled = kv.0.lock().unwrap_or_else(|e| e.into_inner()).take();
                let prefilled = prefilled.ok_or_else(|| error(op, "internal error: a KV cache decoded twice"))?;
                let stop = match args.get(1) {
                    Some(Value::List(items)) => items.iter().map(Value::to_text).collect(),
                    _ => Vec::new(),
                };
                let max_tokens = op.attrs.get("max_tokens").and_then(|v| v.as_u64()).unwrap_or(128) as usize;
                let temperature = op.attrs.get("temperature").and_then(|v| v.as_f64()).unwrap_or(0.0) as f32;
                let sampling = Sampling::of_attrs(&op.attrs);
                // A call's own `seed:` replaces the executable's --seed for that call.
                let seed = sampling.seed.unwrap_or(self.seed);
                let chat = op.attrs.get("chat").is_some_and(|c| c.as_bool() == Some(true));
                // `json:` (checked by the plan loader): the schema's grammar constrains the tokens.
                let json = match op.attrs.get("json_schema").and_then(|v| v.as_str()) {
                    Some(schema) => Some(Arc::new(Grammar::parse(schema).map_err(|m| error(op, format!("json_schema: {m}")))?)),
                    None => None,
                };
                let constrained = json.is_some();
                let options = GenerateOptions { max_tokens, temperature, stop, sampling, end_ids: Vec::new(), chat, json };
                let rng = Pcg32::new(seed, stream_of(&op.loc, &env.path));
                let device = op.placement.as_ref().map(|p| p.device.as_str()).unwrap_or("none");
                let mut observer = Observer { stream: self.stream, trace: self.trace.map(|t| (t, device, attr("model"))) };
                let text = prefilled.generate(options, rng, on, &mut observer).map_err(|m| {
                    // A `json:` call that cannot finish its value names the call.
                    if constrained {
                        error(op, format!("{}: {m}", call_name(attr("model"), if chat { "chat" } else { "generate" }, caller, &env.path)))
                    } else {
                        error(op, m)
                    }
                })?;
                if self.stream {
                    eprintln!();
                }
                Ok(vec![Value::Text(text)])
            }
            "encode" => {
                let model = model()?;
                let call = call_name(&model.name, "embed", caller, &env.path);
                let embedding = model.encode(&text(0)?, &call, on).map_err(|m| error(op, m))?;
                let shape = vec![embedding.len()];
                Ok(vec![Value::Tensor(Tensor { shape, data: TensorData::F32(embedding.into()) })])
            }
            "compute" => self.run_compute(op, compiled, on, &args),
            other => Err(error(op, format!("internal error: `{other}` is not a compiled fragment"))),
        }
    }

    fn run_compute(&self, op: &Op, compiled: &crate::exec::Compiled, on: Executor, args: &[Value]) -> Result<Vec<Value>, RunError> {
        let callee = op.attrs.get("callee").and_then(|v| v.as_str()).unwrap_or("");
        let signature = self.plan.fns.iter().find(|f| f.name == callee).ok_or_else(|| error(op, format!("internal error: no fn `{callee}` in the plan")))?;
        let kernel = compiled.kernels.get(callee).ok_or_else(|| error(op, format!("the executable has no kernel for fn `{callee}`")))?;
        let fail = |m: String| error(op, format!("fn `{callee}`: {m}"));
        let mut inputs = Vec::new();
        for (value, ty) in args.iter().zip(&signature.params) {
            inputs.push(input_buffer(value, ty).map_err(fail)?);
        }
        let mut outputs = Vec::new();
        for ty in &signature.results {
            outputs.push(output_buffer(ty).map_err(fail)?);
        }
        // Inputs are copies the kernel only reads; outputs are read and written.
        let descriptors: Vec<Memref> = inputs
            .iter_mut()
            .map(|(buffer, shape)| buffer.memref(shape).read_only())
            .chain(outputs.iter_mut().map(|(buffer, shape)| buffer.memref(shape)))
            .collect();
        let args: Vec<&Memref> = descriptors.iter().collect();
        on.launch(kernel, &args).map_err(fail)?;
        Ok(outputs.into_iter().zip(&signature.results).map(|((buffer, shape), ty)| output_value(buffer, shape, ty)).collect())
    }
}

