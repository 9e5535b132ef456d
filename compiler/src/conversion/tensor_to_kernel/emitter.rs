//! The text writer of kernel bodies: tensor types, SSA names, linalg generics.

use std::collections::HashMap;

use super::transform::Tiling;
use crate::ir::{Op, Val};

/// A ranked tensor type: dims (`-1` dynamic) and the element type text.
#[derive(Clone, Debug, PartialEq)]
pub(super) struct Tt {
    pub(super) shape: Vec<i64>,
    pub(super) elem: String,
}

impl Tt {
    pub(super) fn of(value: Val) -> Option<Tt> {
        let ty = value.ty();
        let raw = melior::ir::TypeLike::to_raw(&ty);
        unsafe {
            if !mlir_sys::mlirTypeIsARankedTensor(raw) {
                return None;
            }
            let rank = mlir_sys::mlirShapedTypeGetRank(raw);
            let shape = (0..rank)
                .map(|i| if mlir_sys::mlirShapedTypeIsDynamicDim(raw, i as isize) { -1 } else { mlir_sys::mlirShapedTypeGetDimSize(raw, i as isize) })
                .collect();
            let elem = melior::ir::Type::from_raw(mlir_sys::mlirShapedTypeGetElementType(raw)).to_string();
            Some(Tt { shape, elem })
        }
    }
    pub(super) fn rank(&self) -> usize {
        self.shape.len()
    }
    pub(super) fn dims_text(&self) -> String {
        self.shape.iter().map(|d| if *d < 0 { "?".to_string() } else { d.to_string() }).map(|d| d + "x").collect()
    }
    pub(super) fn tensor(&self) -> String {
        format!("tensor<{}{}>", self.dims_text(), self.elem)
    }
    pub(super) fn memref(&self) -> String {
        format!("memref<{}{}>", self.dims_text(), self.elem)
    }
    pub(super) fn is_static(&self) -> bool {
        self.shape.iter().all(|d| *d >= 0)
    }
    pub(super) fn is_float(&self) -> bool {
        matches!(self.elem.as_str(), "f16" | "bf16" | "f32" | "f64")
    }
}

/// The first candidate that divides `n`, else `n` itself.
pub(super) fn pick(n: i64, candidates: &[i64]) -> i64 {
    candidates.iter().copied().find(|c| *c <= n && n % c == 0).unwrap_or(n)
}

pub(super) fn dims_list(n: usize) -> String {
    (0..n).map(|i| format!("d{i}")).collect::<Vec<_>>().join(", ")
}

pub(super) fn identity_map(n: usize) -> String {
    format!("affine_map<({0}) -> ({0})>", dims_list(n))
}

pub(super) fn iterators(kinds: &[&str]) -> String {
    kinds.iter().map(|k| format!("\"{k}\"")).collect::<Vec<_>>().join(", ")
}

/// Writes the body of one kernel as MLIR text.
pub(super) struct Emitter {
    pub(super) body: String,
    pub(super) next: usize,
    pub(super) names: HashMap<usize, String>,
    pub(super) tilings: Vec<(usize, Tiling)>,
    pub(super) next_op: usize,
    /// The model weights bound so far, in order of first use: (safetensors name, type).
    pub(super) weights: Vec<(String, Tt)>,
    /// The 2-D transposes of static tensors seen so far: result value → source. A matmul over dynamic rows
    /// (or one static row) reads the source in place (`basic::matmul_transposed`); a transpose whose users are
    /// all such matmuls is not materialised.
    pub(super) transposed: HashMap<usize, (String, Tt)>,
    /// The quantised weights (and transposes of them) read in their planar arrays
    /// (`quantized.rs`).
    pub(super) quantized: super::quantized::Quantized,
    /// The byte dot-product helpers the kernel calls (`dot_i8.rs`),
    /// defined once in the module.
    pub(super) helpers: std::collections::BTreeSet<super::dot_i8::DotHelper>,
    /// RoPE's cos and sin tables made so far in this function, by positions value and
    /// frequencies (`attention.rs`): every head and layer of a step shares them.
    pub(super) rope_tables: HashMap<String, (String, String)>,
    /// The CPU the kernels are for (its vector registers size the GEMM's tiles).
    pub(super) cpu: super::target::CpuTarget,
}

/// Conversion error: an op or type this slice does not lower yet.
pub(super) struct Unsupported(pub(super) Op, pub(super) String);

impl Emitter {
    /// An empty writer for kernels that run on `cpu`.
    pub(super) fn new(cpu: super::target::CpuTarget) -> Emitter {
        Emitter { body: String::new(), next: 0, names: HashMap::new(), tilings: Vec::new(), next_op: 0, weights: Vec::new(), transposed: HashMap::new(), quantized: HashMap::new(), helpers: Default::default(), rope_tables: HashMap::new(), cpu }
    }

    /// Size `i` of `v` as an `index` value (a constant where static).
    pub(super) fn dim(&mut self, v: &(String, Tt), i: usize) -> String {
        if v.1.shape[i] >= 0 {
            return self.index(v.1.shape[i]);
        }
        let c = self.index(i as i64);
        let d = self.fresh("d");
        self.line(&format!("{d} = tensor.dim {}, {c} : {}", v.0, v.1.tensor()));
        d
    }

    /// `tensor.empty` of `ty` whose dynamic sizes are the `index` values `sizes[i]` (one per
    /// dimension; static ones are ignored).
    pub(super) fn empty_sized(&mut self, ty: &Tt, sizes: &[String]) -> String {
        let dynamic: Vec<String> = ty.shape.iter().zip(sizes).filter(|(d, _)| **d < 0).map(|(_, s)| s.clone()).collect();
        let name = self.fresh("e");
        self.line(&format!("{name} = tensor.empty({}) : {}", dynamic.join(", "), ty.tensor()));
        name
    }

    /// `v` cast to a type with every size dynamic. The model ops that run as scalar loops
    /// (gathers, rope, attention) compute on such tensors: the vectoriser leaves ops with
    /// dynamic loop bounds alone, so they never become huge unrolled vectors.
    pub(super) fn dynamic(&mut self, v: &(String, Tt)) -> (String, Tt) {
        if v.1.shape.iter().all(|d| *d < 0) {
            return v.clone();
        }
        let ty = Tt { shape: vec![-1; v.1.rank()], elem: v.1.elem.clone() };
        let name = self.fresh("dyn");
        self.line(&format!("{name} = tensor.cast {} : {} to {}", v.0, v.1.tensor(), ty.tensor()));
        (name, ty)
    }

    /// `v` cast back to the (static or partly static) type `ty`.
    pub(super) fn cast_to(&mut self, v: &str, from: &Tt, ty: &Tt) -> String {
        if from == ty {
            return v.to_string();
        }
        let name = self.fresh("cast");
        self.line(&format!("{name} = tensor.cast {v} : {} to {}", from.tensor(), ty.tensor()));
        name
    }

    /// A `linalg.generic` with explicit indexing maps: `ins` are (value, type, map), the
    /// output `init` of type `out` has `out_map`; `body` gets the block arguments.
    #[allow(clippy::too_many_arguments)]
    pub(super) fn linalg(
        &mut self,
        ins: &[(String, Tt, String)],
        init: &str,
        out: &Tt,
        iters: &[&str],
        out_map: &str,
        tiling: Tiling,
        body: &dyn Fn(&mut Emitter, &[String]) -> String,
    ) -> String {
        let args: Vec<String> = ins.iter().map(|_| self.fresh("in")).collect();
        let acc = self.fresh("acc");
        let mut block_args: Vec<String> = args.iter().zip(ins).map(|(a, (_, t, _))| format!("{a}: {}", t.elem)).collect();
        block_args.push(format!("{acc}: {}", out.elem));
        let saved = std::mem::take(&mut self.body);
        // A 16-bit float input of an f32 op (a weight kept in its stored format) is
        // extended to f32 as it is read: the body sees f32 values only.
        let mut all: Vec<String> = args
            .iter()
            .zip(ins)
            .map(|(a, (_, t, _))| {
                if matches!(t.elem.as_str(), "f16" | "bf16") && out.elem == "f32" {
                    self.let_(&format!("arith.extf {a} : {} to f32", t.elem))
                } else {
                    a.clone()
                }
            })
            .collect();
        all.push(acc);
        let yielded = body(self, &all);
        let inner = std::mem::replace(&mut self.body, saved);
        let tag = self.tag(tiling);
        let name = self.fresh("g");
        let mut maps: Vec<String> = ins.iter().map(|(_, _, m)| m.clone()).collect();
        maps.push(out_map.to_string());
        let ins_text = if ins.is_empty() {
            String::new()
        } else {
            format!(
                " ins({} : {})",
                ins.iter().map(|(n, _, _)| n.clone()).collect::<Vec<_>>().join(", "),
                ins.iter().map(|(_, t, _)| t.tensor()).collect::<Vec<_>>().join(", ")
            )
        };
        self.line(&format!(
            "{name} = linalg.generic {{indexing_maps = [{}], iterator_types = [{}]}}{ins_text} outs({init} : {}) attrs = {{kernel.op = {tag} : i64}} {{",
            maps.join(", "),
            iterators(iters),
            out.tensor()
        ));
        self.body.push_str(&format!("    ^bb0({}):\n", block_args.join(", ")));
        self.body.push_str(&inner);
        self.line(&format!("  linalg.yield {yielded} : {}", out.elem));
        self.line(&format!("}} -> {}", out.tensor()));
        name
    }

    /// Emits `{name} = {rhs}` in a generic body (indented) and returns the name.
    pub(super) fn let_(&mut self, rhs: &str) -> String {
        let name = self.fresh("v");
        self.line(&format!("  {name} = {rhs}"));
        name
    }
    pub(super) fn fresh(&mut self, prefix: &str) -> String {
        self.next += 1;
        format!("%{prefix}{}", self.next)
    }
    pub(super) fn name(&self, value: Val) -> String {
        self.names.get(&(value.0.ptr as usize)).cloned().unwrap_or_else(|| "%undefined".into())
    }
    pub(super) fn bind(&mut self, value: Val, name: String) {
        self.names.insert(value.0.ptr as usize, name);
    }
    pub(super) fn line(&mut self, text: &str) {
        self.body.push_str("    ");
        self.body.push_str(text);
        self.body.push('\n');
    }
    pub(super) fn tag(&mut self, tiling: Tiling) -> usize {
        self.next_op += 1;
        self.tilings.push((self.next_op, tiling));
        self.next_op
    }
    pub(super) fn index(&mut self, value: i64) -> String {
        let name = self.fresh("c");
        self.line(&format!("{name} = arith.constant {value} : index"));
        name
    }
    pub(super) fn float(&mut self, literal: &str, elem: &str) -> String {
        let name = self.fresh("cst");
        self.line(&format!("{name} = arith.constant {literal} : {elem}"));
        name
    }

    /// `tensor.empty` of `ty`, taking dynamic sizes from `sources` (right-aligned dims).
    pub(super) fn empty(&mut self, ty: &Tt, sources: &[(String, Tt)]) -> String {
        let mut dynamic = Vec::new();
        for (i, d) in ty.shape.iter().enumerate() {
            if *d >= 0 {
                continue;
            }
            let from = sources.iter().find_map(|(name, t)| {
                let offset = ty.rank() as i64 - t.rank() as i64;
                let j = i as i64 - offset;
                (j >= 0 && t.shape[j as usize] < 0).then(|| (name.clone(), j))
            });
            let (src, j) = from.unwrap_or_else(|| (sources[0].0.clone(), i as i64));
            let c = self.index(j);
            let d = self.fresh("d");
            let src_ty = sources.iter().find(|(n, _)| *n == src).map(|(_, t)| t.tensor()).unwrap_or_default();
            self.line(&format!("{d} = tensor.dim {src}, {c} : {src_ty}"));
            dynamic.push(d);
        }
        let name = self.fresh("e");
        self.line(&format!("{name} = tensor.empty({}) : {}", dynamic.join(", "), ty.tensor()));
        name
    }

    pub(super) fn fill(&mut self, init: &str, ty: &Tt, literal: &str) -> String {
        let value = self.float(literal, &ty.elem);
        let name = self.fresh("f");
        let tag = self.tag(Tiling::Loops(loop_tiles(ty)));
        self.line(&format!(
            "{name} = linalg.fill {{kernel.op = {tag} : i64}} ins({value} : {}) outs({init} : {}) -> {}",
            ty.elem,
            ty.tensor(),
            ty.tensor()
        ));
        name
    }

    /// An elementwise generic over `result`, with NumPy broadcasting of `inputs`; `body`
    /// maps the block argument names to (lines, yielded value).
    pub(super) fn elementwise(&mut self, inputs: &[(String, Tt)], result: &Tt, body: &dyn Fn(&mut Emitter, &[String]) -> String) -> String {
        let init = self.empty(result, inputs);
        self.generic(inputs, &init, result, &vec!["parallel"; result.rank()], None, body)
    }

    /// A linalg.generic with loops over `iters`; inputs are broadcast to the loop space
    /// (right-aligned), the output map is `out_map` or the identity.
    pub(super) fn generic(
        &mut self,
        inputs: &[(String, Tt)],
        init: &str,
        out: &Tt,
        iters: &[&str],
        out_map: Option<String>,
        body: &dyn Fn(&mut Emitter, &[String]) -> String,
    ) -> String {
        let loops = iters.len();
        let loop_shape: Vec<i64> = if out_map.is_none() { out.shape.clone() } else { inputs[0].1.shape.clone() };
        let mut maps = Vec::new();
        for (_, t) in inputs {
            let offset = loops - t.rank();
            let exprs: Vec<String> = (0..t.rank())
                .map(|i| {
                    let j = offset + i;
                    if t.shape[i] == 1 && loop_shape.get(j).copied() != Some(1) { "0".to_string() } else { format!("d{j}") }
                })
                .collect();
            maps.push(format!("affine_map<({}) -> ({})>", dims_list(loops), exprs.join(", ")));
        }
        let out_map = out_map.unwrap_or_else(|| identity_map(loops));
        let ins: Vec<(String, Tt, String)> =
            inputs.iter().zip(maps).map(|((name, ty), map)| (name.clone(), ty.clone(), map)).collect();
        let tiling = Tiling::Loops(loop_tiles(&Tt { shape: loop_shape, elem: out.elem.clone() }));
        self.linalg(&ins, init, out, iters, &out_map, tiling, body)
    }

    /// A full reduction of `input` to a 0-d tensor: `combine(elem, acc)` from `init`.
    pub(super) fn reduce_all(&mut self, input: (String, Tt), init: &str, combine: &'static str, square: bool) -> String {
        let out = Tt { shape: vec![], elem: input.1.elem.clone() };
        let empty = self.empty(&out, &[]);
        let filled = self.fill(&empty, &out, init);
        let rank = input.1.rank();
        let out_map = format!("affine_map<({}) -> ()>", dims_list(rank));
        let elem = out.elem.clone();
        self.generic(&[input], &filled, &out, &vec!["reduction"; rank], Some(out_map), &move |e, a| {
            let x = if square {
                let s = e.fresh("sq");
                e.line(&format!("  {s} = arith.mulf {}, {} : {elem}", a[0], a[0]));
                s
            } else {
                a[0].clone()
            };
            let r = e.fresh("r");
            e.line(&format!("  {r} = {combine} {x}, {} : {elem}", a[1]));
            r
        })
    }

    /// A reduction of the last dimension of `input`: result has the leading dims.
    pub(super) fn reduce_last(&mut self, input: (String, Tt), init: &str, combine: &'static str) -> (String, Tt) {
        let rank = input.1.rank();
        let out = Tt { shape: input.1.shape[..rank - 1].to_vec(), elem: input.1.elem.clone() };
        let sizes: Vec<String> = (0..rank - 1).map(|i| self.dim(&input, i)).collect();
        let empty = self.empty_sized(&out, &sizes);
        let filled = self.fill(&empty, &out, init);
        let out_map = format!("affine_map<({}) -> ({})>", dims_list(rank), dims_list(rank - 1));
        let mut iters = vec!["parallel"; rank - 1];
        iters.push("reduction");
        let elem = out.elem.clone();
        let name = self.generic(&[input], &filled, &out, &iters, Some(out_map), &move |e, a| {
            let r = e.fresh("r");
            e.line(&format!("  {r} = {combine} {}, {} : {elem}", a[0], a[1]));
            r
        });
        (name, out)
    }

    /// A 0-d tensor `t` mapped through scalar code `f(scalar) -> (lines, value)`.
    pub(super) fn scalar_map(&mut self, t: &str, ty: &Tt, f: &dyn Fn(&mut Emitter, &str) -> String) -> String {
        let s = self.fresh("s");
        self.line(&format!("{s} = tensor.extract {t}[] : {}", ty.tensor()));
        let v = f(self, &s);
        let r = self.fresh("t");
        self.line(&format!("{r} = tensor.from_elements {v} : {}", ty.tensor()));
        r
    }

    /// The number of elements of `input` as a scalar of its element type.
    pub(super) fn count(&mut self, input: &(String, Tt)) -> String {
        if input.1.is_static() {
            let n: i64 = input.1.shape.iter().product();
            return self.float(&format!("{n}.0"), &input.1.elem);
        }
        let mut total = self.index(1);
        for (i, d) in input.1.shape.clone().iter().enumerate() {
            let size = if *d >= 0 {
                self.index(*d)
            } else {
                let c = self.index(i as i64);
                let n = self.fresh("d");
                self.line(&format!("{n} = tensor.dim {}, {c} : {}", input.0, input.1.tensor()));
                n
            };
            let m = self.fresh("n");
            self.line(&format!("{m} = arith.muli {total}, {size} : index"));
            total = m;
        }
        let i = self.fresh("n");
        self.line(&format!("{i} = arith.index_cast {total} : index to i64"));
        let f = self.fresh("n");
        self.line(&format!("{f} = arith.sitofp {i} : i64 to {}", input.1.elem));
        f
    }
}

/// Tile sizes for an op whose loops cover `ty`: 1 on leading dims, up to 64 on the last.
/// None (scalar loops) where a size is dynamic: tiling those gives nests of `scf.for`
/// over slices that the vectoriser cannot use, and that make empty-tensor elimination
/// and one-shot bufferisation slow (seconds per function in a BERT encoder).
pub(super) fn loop_tiles(ty: &Tt) -> Vec<i64> {
    let rank = ty.rank();
    if !ty.is_static() {
        return vec![];
    }
    (0..rank)
        .map(|i| {
            let d = ty.shape[i];
            if i + 1 == rank {
                if d > 0 { pick(d, &[64, 32, 16, 8, 4, 2, 1]) } else { 0 }
            } else {
                1
            }
        })
        .collect()
}

pub(super) const NEG_INF: &str = "0xFF800000";

pub(super) fn op_tensor(e: &Emitter, op: Op, i: usize) -> Result<(String, Tt), Unsupported> {
    let v = op.operand(i);
    let t = Tt::of(v).ok_or_else(|| Unsupported(op, "an operand is not a ranked tensor".into()))?;
    if !t.is_float() {
        return Err(Unsupported(op, format!("element type `{}` (only floating-point tensors are lowered yet)", t.elem)));
    }
    Ok((e.name(v), t))
}

/// Operand `i` of `op` as a ranked tensor of any element type.
pub(super) fn operand(e: &Emitter, op: Op, i: usize) -> Result<(String, Tt), Unsupported> {
    let v = op.operand(i);
    let t = Tt::of(v).ok_or_else(|| Unsupported(op, "an operand is not a ranked tensor".into()))?;
    Ok((e.name(v), t))
}

/// An `i64` attribute of `op`.
pub(super) fn int_attr(op: Op, name: &str) -> Result<i64, Unsupported> {
    op.attribute(name)
        .and_then(|a| a.to_string().split(':').next().and_then(|v| v.trim().parse().ok()))
        .ok_or_else(|| Unsupported(op, format!("missing integer attribute `{name}`")))
}

/// A float attribute of `op` (`1.0e-5 : f32`), as its literal text.
pub(super) fn float_attr(op: Op, name: &str) -> Result<String, Unsupported> {
    op.attribute(name)
        .and_then(|a| a.to_string().split(':').next().map(|v| v.trim().to_string()))
        .filter(|v| !v.is_empty())
        .ok_or_else(|| Unsupported(op, format!("missing float attribute `{name}`")))
}

/// A `dense_array<i64>` attribute of `op`, if present.
pub(super) fn array_attr(op: Op, name: &str) -> Option<Vec<i64>> {
    op.attribute(name)
        .map(|a| a.to_string())
        .and_then(|t| t.strip_prefix("array<i64").map(|s| s.trim_start_matches(':').trim_end_matches('>').to_string()))
        .map(|s| s.split(',').filter_map(|x| x.trim().parse().ok()).collect())
}

pub(super) fn result_tensor(op: Op) -> Result<Tt, Unsupported> {
    Tt::of(op.result(0)).ok_or_else(|| Unsupported(op, "the result is not a ranked tensor".into()))
}

