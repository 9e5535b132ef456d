//! A small writer of tgraph IR as MLIR text (generic form), with static-where-known result
//! types and weights checked against the safetensors header as they are bound.

use std::fmt::Write;

use crate::verify::tensor::Shape;
use crate::weights::safetensors::Header;

/// A value of the function being written: its SSA name and type.
#[derive(Clone, Debug)]
pub struct V {
    /// `%v12`.
    pub name: String,
    /// Its tensor type.
    pub shape: Shape,
}

impl V {
    /// Its dimensions.
    pub fn dims(&self) -> &[Option<i64>] {
        &self.shape.dims
    }
}


/// An f32 tensor shape.
pub fn f32s(sizes: &[Option<i64>]) -> Shape {
    Shape { dims: sizes.to_vec(), elem: "f32".into() }
}

/// A float attribute literal (`1.000000000e-5 : f32`).
pub fn float(value: f64, ty: &str) -> String {
    format!("{value:.9e} : {ty}")
}

/// Writes one function body.
pub struct Emitter<'h> {
    body: String,
    next: usize,
    /// The `workflow.model` symbol weights belong to.
    model: String,
    header: &'h Header,
    /// The first weight that is missing or misshapen.
    pub error: Option<String>,
}

impl<'h> Emitter<'h> {
    /// A writer for a function of `model` whose weights are in `header`.
    pub fn new(model: &str, header: &'h Header) -> Emitter<'h> {
        Emitter { body: String::new(), next: 0, model: model.to_string(), header, error: None }
    }

    fn fresh(&mut self) -> String {
        self.next += 1;
        format!("%v{}", self.next - 1)
    }

    /// Emits `name(operands) {attrs}` with result type `result`; returns the result.
    pub fn op(&mut self, name: &str, operands: &[&V], attrs: &str, result: Shape) -> V {
        let value = self.fresh();
        let args = operands.iter().map(|v| v.name.as_str()).collect::<Vec<_>>().join(", ");
        let types = operands.iter().map(|v| v.shape.type_text()).collect::<Vec<_>>().join(", ");
        let attrs = if attrs.is_empty() { String::new() } else { format!(" {{{attrs}}}") };
        let _ = writeln!(self.body, "    {value} = \"{name}\"({args}){attrs} : ({types}) -> {}", result.type_text());
        V { name: value, shape: result }
    }

    /// An `arith.constant` splat of `literal` (`0`, `0.0`).
    pub fn splat(&mut self, literal: &str, shape: Shape) -> V {
        let value = self.fresh();
        let _ = writeln!(self.body, "    {value} = arith.constant dense<{literal}> : {}", shape.type_text());
        V { name: value, shape }
    }

    /// `tgraph.weight` `name`, which must have `shape` in the header. Its element type is
    /// the stored one (f32, f16 or bf16: a 16-bit weight is extended to f32 where it is
    /// read), or f32 with `tgraph.stored = "BF16"` when the header says to convert 16-bit
    /// weights at load ([`Header::convert_to_f32`]). Other dtypes are an error.
    pub fn weight(&mut self, name: &str, shape: &[i64]) -> V {
        let mut elem = "f32";
        let mut stored = String::new();
        match self.header.expect(name, shape) {
            Err(error) => {
                self.error.get_or_insert(error.0);
            }
            Ok(info) => match info.dtype.as_str() {
                "F32" => {}
                "F16" | "BF16" if self.header.convert_to_f32 => stored = format!(", tgraph.stored = \"{}\"", info.dtype),
                "F16" => elem = "f16",
                "BF16" => elem = "bf16",
                // A GGUF matrix read by the quantised kernels: f32 values, computed from its
                // blocks repacked at load (agentc_runtime::gguf::quant).
                ggml if let Some(scheme) = agentc_runtime::gguf::dequant::GgmlType::from_name(ggml).and_then(agentc_runtime::gguf::quant::Scheme::of) => {
                    stored = format!(", tgraph.stored = \"{ggml}\", tgraph.quant = \"{}\"", scheme.name());
                    if self.header.int8_activations {
                        stored.push_str(", tgraph.activations = \"int8\"");
                    }
                }
                other => {
                    self.error.get_or_insert(format!(
                        "`{}`: tensor `{name}` is {other}; agentc reads F32, F16 and BF16 weights",
                        self.header.path.display()
                    ));
                }
            },
        }
        let want = Shape { dims: shape.iter().map(|&d| Some(d)).collect(), elem: elem.into() };
        let attrs = format!("model = @{}, name = \"{name}\"{stored}", self.model);
        self.op("tgraph.weight", &[], &attrs, want)
    }

    /// `x · Wᵀ (+ b)` for an HF linear layer whose weight is `[out, in]`.
    pub fn linear(&mut self, x: &V, weight: &str, out: i64, bias: Option<&str>) -> V {
        let input = x.dims().last().copied().flatten().unwrap_or(0);
        let w = self.weight(weight, &[out, input]);
        let transposed = Shape { dims: vec![Some(input), Some(out)], elem: w.shape.elem.clone() };
        let wt = self.op("tgraph.transpose", &[&w], "permutation = array<i64: 1, 0>", transposed);
        let mut result_dims = x.dims().to_vec();
        if let Some(last) = result_dims.last_mut() {
            *last = Some(out);
        }
        let y = self.op("tgraph.matmul", &[x, &wt], "", f32s(&result_dims));
        match bias {
            Some(bias) => {
                let b = self.weight(bias, &[out]);
                self.op("tgraph.add", &[&y, &b], "", f32s(&result_dims))
            }
            None => y,
        }
    }

    /// `tgraph.reshape` to `sizes`.
    pub fn reshape(&mut self, x: &V, sizes: &[Option<i64>]) -> V {
        let shape = Shape { dims: sizes.to_vec(), elem: x.shape.elem.clone() };
        self.op("tgraph.reshape", &[x], "", shape)
    }

    /// A same-type elementwise op.
    pub fn unary(&mut self, name: &str, x: &V) -> V {
        let shape = x.shape.clone();
        self.op(name, &[x], "", shape)
    }

    /// A binary elementwise op with the shape of `a` (callers broadcast b into a).
    pub fn binary(&mut self, name: &str, a: &V, b: &V) -> V {
        let shape = a.shape.clone();
        self.op(name, &[a, b], "", shape)
    }

    /// The function text: `func.func @name(args) -> (results) attributes {attrs} { body }`.
    pub fn finish(self, name: &str, args: &[(&str, Shape)], results: &[&V], attrs: &str) -> String {
        let params = args.iter().map(|(n, s)| format!("%{n}: {}", s.type_text())).collect::<Vec<_>>().join(", ");
        let result_types = results.iter().map(|v| v.shape.type_text()).collect::<Vec<_>>().join(", ");
        let values = results.iter().map(|v| v.name.as_str()).collect::<Vec<_>>().join(", ");
        format!(
            "  func.func @{name}({params}) -> ({result_types}) attributes {{{attrs}}} {{\n{}    return {values} : {result_types}\n  }}\n",
            self.body
        )
    }
}

/// An argument of the function being written, as a value.
pub fn arg(name: &str, shape: Shape) -> V {
    V { name: format!("%{name}"), shape }
}
