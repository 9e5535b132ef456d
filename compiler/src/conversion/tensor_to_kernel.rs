//! `convert-tensor-to-kernel`: tensor functions (tgraph on builtin tensors) become
//! per-workgroup kernels in upstream linalg on tensors, with the tiling and vectorisation
//! recipe attached as a transform-dialect script.
//!
//! Why: tgraph ops have no tiling interface of their own; upstream linalg does, and the
//! transform dialect tiles and vectorises it (../shared/MLIR-NOTES.md §1, §2).
//!
//! Input invariant: a module whose `func.func {workflow.fn}` functions hold tgraph ops,
//! `arith.constant` (dense), `tensor.from_elements`/`tensor.extract` and `func.return`
//! (what `--emit=tensor` prints). Other top-level ops (agents, models, tools) are dropped:
//! the kernel level holds kernels only.
//!
//! Output: for every tensor fn `@f(args) -> results` a kernel
//! `func.func @f(args..., %out0: memref<...>, ...) attributes {kernel.grid = array<i64: N>,
//! kernel.target = "cpu", llvm.emit_c_interface}` that computes ONE workgroup, whose id it
//! reads with `kernel.workgroup_id`; results are written in destination-passing style
//! (`bufferization.to_tensor ... restrict writable` + `materialize_in_destination`, or
//! `memref.store` for a scalar). A function that is one 2-D matmul is split over a grid
//! of output tiles (64 × up to 256; subviews indexed by the workgroup id); every other
//! function is one workgroup. Every linalg op carries `kernel.op = N`, and a
//! `module attributes {transform.with_named_sequence}` holding `@__transform_main` tiles
//! each op (matmul: K cache tile, then a 4×64×1 register tile; others: the innermost
//! dimension by up to 64), vectorises, hoists loop-invariant subsets and lowers
//! contractions to outer products. [`kernel_pipeline`](crate::kernel_pipeline) then runs
//! the interpreter, `kernel-drop-transform-scripts` and one-shot bufferisation.

use std::collections::HashMap;
use std::fmt::Write;


use crate::ir::{self, Op, Val};
use crate::passes::{PassContext, PassFailed};

/// A ranked tensor type: dims (`-1` dynamic) and the element type text.
#[derive(Clone, Debug, PartialEq)]
struct Tt {
    shape: Vec<i64>,
    elem: String,
}

impl Tt {
    fn of(value: Val) -> Option<Tt> {
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
    fn rank(&self) -> usize {
        self.shape.len()
    }
    fn dims_text(&self) -> String {
        self.shape.iter().map(|d| if *d < 0 { "?".to_string() } else { d.to_string() }).map(|d| d + "x").collect()
    }
    fn tensor(&self) -> String {
        format!("tensor<{}{}>", self.dims_text(), self.elem)
    }
    fn memref(&self) -> String {
        format!("memref<{}{}>", self.dims_text(), self.elem)
    }
    fn is_static(&self) -> bool {
        self.shape.iter().all(|d| *d >= 0)
    }
    fn is_float(&self) -> bool {
        matches!(self.elem.as_str(), "f16" | "bf16" | "f32" | "f64")
    }
}

/// The first candidate that divides `n`, else `n` itself.
fn pick(n: i64, candidates: &[i64]) -> i64 {
    candidates.iter().copied().find(|c| *c <= n && n % c == 0).unwrap_or(n)
}

fn dims_list(n: usize) -> String {
    (0..n).map(|i| format!("d{i}")).collect::<Vec<_>>().join(", ")
}

fn identity_map(n: usize) -> String {
    format!("affine_map<({0}) -> ({0})>", dims_list(n))
}

fn iterators(kinds: &[&str]) -> String {
    kinds.iter().map(|k| format!("\"{k}\"")).collect::<Vec<_>>().join(", ")
}

/// How one tagged linalg op is tiled by the transform script.
enum Tiling {
    /// Tile sizes over the op's loops (0 = not tiled).
    Loops(Vec<i64>),
    /// A matmul: K cache tile, then the register tile `[m, n, 1]`.
    Matmul { k_tile: i64, k: i64, m: i64, n: i64 },
}

/// Writes the body of one kernel as MLIR text.
struct Emitter {
    body: String,
    next: usize,
    names: HashMap<usize, String>,
    tilings: Vec<(usize, Tiling)>,
    next_op: usize,
}

/// Conversion error: an op or type this slice does not lower yet.
struct Unsupported(Op, String);

impl Emitter {
    fn fresh(&mut self, prefix: &str) -> String {
        self.next += 1;
        format!("%{prefix}{}", self.next)
    }
    fn name(&self, value: Val) -> String {
        self.names.get(&(value.0.ptr as usize)).cloned().unwrap_or_else(|| "%undefined".into())
    }
    fn bind(&mut self, value: Val, name: String) {
        self.names.insert(value.0.ptr as usize, name);
    }
    fn line(&mut self, text: &str) {
        self.body.push_str("    ");
        self.body.push_str(text);
        self.body.push('\n');
    }
    fn tag(&mut self, tiling: Tiling) -> usize {
        self.next_op += 1;
        self.tilings.push((self.next_op, tiling));
        self.next_op
    }
    fn index(&mut self, value: i64) -> String {
        let name = self.fresh("c");
        self.line(&format!("{name} = arith.constant {value} : index"));
        name
    }
    fn float(&mut self, literal: &str, elem: &str) -> String {
        let name = self.fresh("cst");
        self.line(&format!("{name} = arith.constant {literal} : {elem}"));
        name
    }

    /// `tensor.empty` of `ty`, taking dynamic sizes from `sources` (right-aligned dims).
    fn empty(&mut self, ty: &Tt, sources: &[(String, Tt)]) -> String {
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

    fn fill(&mut self, init: &str, ty: &Tt, literal: &str) -> String {
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
    fn elementwise(&mut self, inputs: &[(String, Tt)], result: &Tt, body: &dyn Fn(&mut Emitter, &[String]) -> String) -> String {
        let init = self.empty(result, inputs);
        self.generic(inputs, &init, result, &vec!["parallel"; result.rank()], None, body)
    }

    /// A linalg.generic with loops over `iters`; inputs are broadcast to the loop space
    /// (right-aligned), the output map is `out_map` or the identity.
    fn generic(
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
        maps.push(out_map.unwrap_or_else(|| identity_map(loops)));
        let args: Vec<String> = inputs.iter().map(|_| self.fresh("in")).collect();
        let acc = self.fresh("acc");
        let mut block_args: Vec<String> = args.iter().zip(inputs).map(|(a, (_, t))| format!("{a}: {}", t.elem)).collect();
        block_args.push(format!("{acc}: {}", out.elem));
        let mut all = args.clone();
        all.push(acc);
        let saved = std::mem::take(&mut self.body);
        let yielded = body(self, &all);
        let inner = std::mem::replace(&mut self.body, saved);
        let tag = self.tag(Tiling::Loops(loop_tiles(&Tt { shape: loop_shape, elem: out.elem.clone() })));
        let name = self.fresh("g");
        let ins = if inputs.is_empty() {
            String::new()
        } else {
            format!(
                " ins({} : {})",
                inputs.iter().map(|(n, _)| n.clone()).collect::<Vec<_>>().join(", "),
                inputs.iter().map(|(_, t)| t.tensor()).collect::<Vec<_>>().join(", ")
            )
        };
        self.line(&format!(
            "{name} = linalg.generic {{indexing_maps = [{}], iterator_types = [{}]}}{ins} outs({init} : {}) attrs = {{kernel.op = {tag} : i64}} {{",
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

    /// A full reduction of `input` to a 0-d tensor: `combine(elem, acc)` from `init`.
    fn reduce_all(&mut self, input: (String, Tt), init: &str, combine: &'static str, square: bool) -> String {
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
    fn reduce_last(&mut self, input: (String, Tt), init: &str, combine: &'static str) -> (String, Tt) {
        let rank = input.1.rank();
        let out = Tt { shape: input.1.shape[..rank - 1].to_vec(), elem: input.1.elem.clone() };
        let empty = self.empty(&out, std::slice::from_ref(&input));
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
    fn scalar_map(&mut self, t: &str, ty: &Tt, f: &dyn Fn(&mut Emitter, &str) -> String) -> String {
        let s = self.fresh("s");
        self.line(&format!("{s} = tensor.extract {t}[] : {}", ty.tensor()));
        let v = f(self, &s);
        let r = self.fresh("t");
        self.line(&format!("{r} = tensor.from_elements {v} : {}", ty.tensor()));
        r
    }

    /// The number of elements of `input` as a scalar of its element type.
    fn count(&mut self, input: &(String, Tt)) -> String {
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
fn loop_tiles(ty: &Tt) -> Vec<i64> {
    let rank = ty.rank();
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

fn binary_op(name: &str) -> Option<&'static str> {
    Some(match name {
        "tgraph.add" => "arith.addf",
        "tgraph.sub" => "arith.subf",
        "tgraph.mul" => "arith.mulf",
        "tgraph.div" => "arith.divf",
        _ => return None,
    })
}

fn unary_op(name: &str) -> Option<&'static str> {
    Some(match name {
        "tgraph.neg" => "arith.negf",
        "tgraph.exp" => "math.exp",
        "tgraph.sqrt" => "math.sqrt",
        _ => return None,
    })
}

const NEG_INF: &str = "0xFF800000";

/// The result of converting one tensor fn: the kernel text and its tilings.
struct Kernel {
    text: String,
    tilings: Vec<(usize, Tiling)>,
}

fn op_tensor(e: &Emitter, op: Op, i: usize) -> Result<(String, Tt), Unsupported> {
    let v = op.operand(i);
    let t = Tt::of(v).ok_or_else(|| Unsupported(op, "an operand is not a ranked tensor".into()))?;
    if !t.is_float() {
        return Err(Unsupported(op, format!("element type `{}` (only floating-point tensors are lowered yet)", t.elem)));
    }
    Ok((e.name(v), t))
}

fn result_tensor(op: Op) -> Result<Tt, Unsupported> {
    Tt::of(op.result(0)).ok_or_else(|| Unsupported(op, "the result is not a ranked tensor".into()))
}

/// Converts one op of a tensor fn body.
fn convert_op(e: &mut Emitter, op: Op) -> Result<(), Unsupported> {
    let name = op.name();
    if let Some(arith) = binary_op(&name) {
        let (a, b) = (op_tensor(e, op, 0)?, op_tensor(e, op, 1)?);
        let out = result_tensor(op)?;
        let elem = out.elem.clone();
        let r = e.elementwise(&[a, b], &out, &move |e, x| {
            let r = e.fresh("v");
            e.line(&format!("  {r} = {arith} {}, {} : {elem}", x[0], x[1]));
            r
        });
        e.bind(op.result(0), r);
    } else if let Some(math) = unary_op(&name) {
        let a = op_tensor(e, op, 0)?;
        let out = result_tensor(op)?;
        let elem = out.elem.clone();
        let r = e.elementwise(&[a], &out, &move |e, x| {
            let r = e.fresh("v");
            e.line(&format!("  {r} = {math} {} : {elem}", x[0]));
            r
        });
        e.bind(op.result(0), r);
    } else if name == "tgraph.matmul" {
        let (a, b) = (op_tensor(e, op, 0)?, op_tensor(e, op, 1)?);
        let out = result_tensor(op)?;
        let init = e.empty(&out, &[a.clone(), b.clone()]);
        let zero = e.fill(&init, &out, "0.0");
        let (linalg, tiling) = match (a.1.rank(), b.1.rank()) {
            (2, 2) if a.1.is_static() && b.1.is_static() => {
                let (m, k, n) = (a.1.shape[0], a.1.shape[1], b.1.shape[1]);
                ("linalg.matmul", Tiling::Matmul { k_tile: pick(k, &[256, 128, 64]), k, m: pick(m, &[4, 2, 1]), n: pick(n, &[64, 32, 16, 8, 4, 2, 1]) })
            }
            (2, 2) => ("linalg.matmul", Tiling::Loops(vec![])),
            (1, 2) => ("linalg.vecmat", Tiling::Loops(vec![])),
            (2, 1) => ("linalg.matvec", Tiling::Loops(vec![])),
            (1, 1) => ("linalg.dot", Tiling::Loops(vec![])),
            (3, 3) if a.1.shape[0] == b.1.shape[0] => ("linalg.batch_matmul", Tiling::Loops(vec![])),
            _ => return Err(Unsupported(op, "matmul with broadcast batch dimensions".into())),
        };
        let tag = e.tag(tiling);
        let r = e.fresh("mm");
        e.line(&format!(
            "{r} = {linalg} {{kernel.op = {tag} : i64}} ins({}, {} : {}, {}) outs({zero} : {}) -> {}",
            a.0,
            b.0,
            a.1.tensor(),
            b.1.tensor(),
            out.tensor(),
            out.tensor()
        ));
        e.bind(op.result(0), r);
    } else if matches!(name.as_str(), "tgraph.reduce_sum" | "tgraph.reduce_mean" | "tgraph.reduce_max" | "tgraph.norm") {
        let a = op_tensor(e, op, 0)?;
        let out = result_tensor(op)?;
        let r = match name.as_str() {
            "tgraph.reduce_max" => e.reduce_all(a, NEG_INF, "arith.maximumf", false),
            "tgraph.norm" => {
                let s = e.reduce_all(a, "0.0", "arith.addf", true);
                let elem = out.elem.clone();
                e.scalar_map(&s, &out, &move |e, x| {
                    let r = e.fresh("v");
                    e.line(&format!("{r} = math.sqrt {x} : {elem}"));
                    r
                })
            }
            _ => {
                let mean = name == "tgraph.reduce_mean";
                let count = if mean { Some(e.count(&a)) } else { None };
                let s = e.reduce_all(a, "0.0", "arith.addf", false);
                match count {
                    Some(n) => {
                        let elem = out.elem.clone();
                        e.scalar_map(&s, &out, &move |e, x| {
                            let r = e.fresh("v");
                            e.line(&format!("{r} = arith.divf {x}, {n} : {elem}"));
                            r
                        })
                    }
                    None => s,
                }
            }
        };
        e.bind(op.result(0), r);
    } else if name == "tgraph.softmax" {
        let a = op_tensor(e, op, 0)?;
        let out = result_tensor(op)?;
        if a.1.rank() == 0 {
            return Err(Unsupported(op, "softmax of a 0-d tensor".into()));
        }
        let (max, max_ty) = e.reduce_last(a.clone(), NEG_INF, "arith.maximumf");
        let ex = rowwise(e, a, (max, max_ty), &out, true);
        let ex = (ex, out.clone());
        let (sum, sum_ty) = e.reduce_last(ex.clone(), "0.0", "arith.addf");
        let r = rowwise(e, ex, (sum, sum_ty), &out, false);
        e.bind(op.result(0), r);
    } else if name == "tgraph.transpose" {
        let a = op_tensor(e, op, 0)?;
        let out = result_tensor(op)?;
        let perm = op
            .attribute("permutation")
            .map(|a| a.to_string())
            .and_then(|t| t.strip_prefix("array<i64:").and_then(|s| s.strip_suffix('>')).map(|s| s.trim().to_string()))
            .ok_or_else(|| Unsupported(op, "transpose without a permutation".into()))?;
        let init = e.empty(&out, &[]);
        let tag = e.tag(Tiling::Loops(loop_tiles(&out)));
        let r = e.fresh("tr");
        e.line(&format!(
            "{r} = linalg.transpose {{kernel.op = {tag} : i64}} ins({} : {}) outs({init} : {}) permutation = [{perm}]",
            a.0,
            a.1.tensor(),
            out.tensor()
        ));
        e.bind(op.result(0), r);
    } else if name == "tgraph.reshape" {
        let a = op_tensor(e, op, 0)?;
        let out = result_tensor(op)?;
        if !out.is_static() {
            return Err(Unsupported(op, "reshape to a dynamic shape".into()));
        }
        let shape = e.fresh("shape");
        let dims: Vec<String> = out.shape.iter().map(|d| d.to_string()).collect();
        e.line(&format!("{shape} = arith.constant dense<[{}]> : tensor<{}xi64>", dims.join(", "), out.rank()));
        let r = e.fresh("rs");
        e.line(&format!("{r} = tensor.reshape {}({shape}) : ({}, tensor<{}xi64>) -> {}", a.0, a.1.tensor(), out.rank(), out.tensor()));
        e.bind(op.result(0), r);
    } else if name == "arith.constant" {
        let value = op.attribute("value").map(|a| a.to_string()).unwrap_or_default();
        let r = e.fresh("k");
        if Tt::of(op.result(0)).is_some() {
            e.line(&format!("{r} = arith.constant {value}"));
        } else {
            e.line(&format!("{r} = arith.constant {value}"));
        }
        e.bind(op.result(0), r);
    } else if name == "tensor.from_elements" {
        let out = result_tensor(op)?;
        let args: Vec<String> = op.operands().into_iter().map(|v| e.name(v)).collect();
        let r = e.fresh("t");
        e.line(&format!("{r} = tensor.from_elements {} : {}", args.join(", "), out.tensor()));
        e.bind(op.result(0), r);
    } else if name == "tensor.extract" {
        let (a, t) = op_tensor(e, op, 0)?;
        if t.rank() != 0 {
            return Err(Unsupported(op, "tensor.extract with indices".into()));
        }
        let r = e.fresh("s");
        e.line(&format!("{r} = tensor.extract {a}[] : {}", t.tensor()));
        e.bind(op.result(0), r);
    } else if matches!(name.as_str(), "arith.truncf" | "arith.extf") {
        let from = op.operand(0).ty().to_string();
        let to = op.result(0).ty().to_string();
        let r = e.fresh("s");
        let src = e.name(op.operand(0));
        e.line(&format!("{r} = {name} {src} : {from} to {to}"));
        e.bind(op.result(0), r);
    } else {
        return Err(Unsupported(op, format!("`{name}` is not lowered to kernels yet")));
    }
    Ok(())
}

/// Softmax's row-wise steps, where `row` holds x's leading dims: `exp(x - row)` when
/// `sub_exp`, else `x / row`.
fn rowwise(e: &mut Emitter, ex: (String, Tt), sum: (String, Tt), out: &Tt, sub_exp: bool) -> String {
    let elem = out.elem.clone();
    let rank = out.rank();
    let init = e.empty(out, std::slice::from_ref(&ex));
    let maps_sum = format!("affine_map<({}) -> ({})>", dims_list(rank), dims_list(rank - 1));
    // Build the generic by hand: the sum is broadcast along the last dim.
    let tag = e.tag(Tiling::Loops(loop_tiles(out)));
    let (x, s, acc) = (e.fresh("in"), e.fresh("in"), e.fresh("acc"));
    let r = e.fresh("v");
    let name = e.fresh("g");
    e.line(&format!(
        "{name} = linalg.generic {{indexing_maps = [{id}, {maps_sum}, {id}], iterator_types = [{its}]}} ins({}, {} : {}, {}) outs({init} : {}) attrs = {{kernel.op = {tag} : i64}} {{",
        ex.0,
        sum.0,
        ex.1.tensor(),
        sum.1.tensor(),
        out.tensor(),
        id = identity_map(rank),
        its = iterators(&vec!["parallel"; rank]),
    ));
    e.body.push_str(&format!("    ^bb0({x}: {elem}, {s}: {elem}, {acc}: {elem}):\n"));
    if sub_exp {
        let d = e.fresh("v");
        e.line(&format!("  {d} = arith.subf {x}, {s} : {elem}"));
        e.line(&format!("  {r} = math.exp {d} : {elem}"));
    } else {
        e.line(&format!("  {r} = arith.divf {x}, {s} : {elem}"));
    }
    e.line(&format!("  linalg.yield {r} : {elem}"));
    e.line(&format!("}} -> {}", out.tensor()));
    name
}

/// Is `func` exactly `return matmul(arg0, arg1)` on static 2-D f32 operands? Then
/// (M, K, N).
fn single_matmul(func: Op) -> Option<(i64, i64, i64, String)> {
    let entry = func.region_entry(0)?;
    let ops = entry.ops();
    let args = entry.arguments();
    if ops.len() != 2 || ops[0].name() != "tgraph.matmul" || args.len() != 2 {
        return None;
    }
    let mm = ops[0];
    let same = |a: Val, b: Val| a.0.ptr == b.0.ptr;
    if !same(mm.operand(0), args[0]) || !same(mm.operand(1), args[1]) || ops[1].operand_count() != 1 || !same(ops[1].operand(0), mm.result(0)) {
        return None;
    }
    let (a, b) = (Tt::of(args[0])?, Tt::of(args[1])?);
    if a.rank() != 2 || b.rank() != 2 || !a.is_static() || !b.is_static() || !a.is_float() || a.elem != b.elem {
        return None;
    }
    Some((a.shape[0], a.shape[1], b.shape[1], a.elem))
}

/// The per-workgroup matmul kernel (MLIR-NOTES §2): C tile (wg / nj, wg mod nj).
fn matmul_kernel(name: &str, m: i64, k: i64, n: i64, elem: &str) -> Kernel {
    let wm = pick(m, &[64, 32, 16, 8, 4]);
    let wn = pick(n, &[256, 128, 64, 32, 16, 8]);
    let (gi, gj) = (m / wm, n / wn);
    let a = format!("tensor<{m}x{k}x{elem}>");
    let b = format!("tensor<{k}x{n}x{elem}>");
    let c = format!("memref<{m}x{n}x{elem}>");
    let cs = format!("memref<{wm}x{wn}x{elem}, strided<[{n}, 1], offset: ?>>");
    let ct = format!("tensor<{wm}x{wn}x{elem}>");
    let mut text = String::new();
    let _ = writeln!(
        text,
        "  func.func @{name}(%arg0: {a}, %arg1: {b}, %out0: {c}) attributes {{kernel.grid = array<i64: {}>, kernel.target = \"cpu\", llvm.emit_c_interface}} {{",
        gi * gj
    );
    let _ = writeln!(text, "    %wg = \"kernel.workgroup_id\"() {{dim = 0 : i64}} : () -> index");
    let _ = writeln!(text, "    %i = affine.apply affine_map<(d0) -> ((d0 floordiv {gj}) * {wm})>(%wg)");
    let _ = writeln!(text, "    %j = affine.apply affine_map<(d0) -> ((d0 mod {gj}) * {wn})>(%wg)");
    let _ = writeln!(text, "    %a = tensor.extract_slice %arg0[%i, 0] [{wm}, {k}] [1, 1] : {a} to tensor<{wm}x{k}x{elem}>");
    let _ = writeln!(text, "    %b = tensor.extract_slice %arg1[0, %j] [{k}, {wn}] [1, 1] : {b} to tensor<{k}x{wn}x{elem}>");
    let _ = writeln!(text, "    %cs = memref.subview %out0[%i, %j] [{wm}, {wn}] [1, 1] : {c} to {cs}");
    let _ = writeln!(text, "    %c = bufferization.to_tensor %cs restrict writable : {cs} to {ct}");
    let _ = writeln!(text, "    %zero = arith.constant 0.0 : {elem}");
    let _ = writeln!(text, "    %cz = linalg.fill {{kernel.op = 1 : i64}} ins(%zero : {elem}) outs(%c : {ct}) -> {ct}");
    let _ = writeln!(
        text,
        "    %r = linalg.matmul {{kernel.op = 2 : i64}} ins(%a, %b : tensor<{wm}x{k}x{elem}>, tensor<{k}x{wn}x{elem}>) outs(%cz : {ct}) -> {ct}"
    );
    let _ = writeln!(text, "    bufferization.materialize_in_destination %r in restrict writable %cs : ({ct}, {cs}) -> ()");
    let _ = writeln!(text, "    return\n  }}");
    let (rm, rn) = (pick(wm, &[4, 2, 1]), pick(wn, &[64, 32, 16, 8, 4, 2, 1]));
    Kernel {
        text,
        tilings: vec![
            (1, Tiling::Loops(vec![rm, rn])),
            (2, Tiling::Matmul { k_tile: pick(k, &[256, 128, 64]), k, m: rm, n: rn }),
        ],
    }
}

/// Converts one tensor fn into its kernel.
fn convert_fn(func: Op) -> Result<Kernel, Unsupported> {
    let name = ir::symbol_name(func).unwrap_or_default();
    if let Some((m, k, n, elem)) = single_matmul(func) {
        return Ok(matmul_kernel(&name, m, k, n, &elem));
    }
    let entry = func.region_entry(0).ok_or_else(|| Unsupported(func, "a tensor fn without a body".into()))?;
    let mut e = Emitter { body: String::new(), next: 0, names: HashMap::new(), tilings: Vec::new(), next_op: 0 };
    let mut params = Vec::new();
    for (i, arg) in entry.arguments().into_iter().enumerate() {
        let n = format!("%arg{i}");
        params.push(format!("{n}: {}", arg.ty()));
        e.bind(arg, n);
    }
    let mut outs = Vec::new();
    for op in entry.ops() {
        if op.name() == "func.return" {
            for (i, v) in op.operands().into_iter().enumerate() {
                let out = format!("%out{i}");
                let value = e.name(v);
                match Tt::of(v) {
                    Some(t) => {
                        params.push(format!("{out}: {}", t.memref()));
                        e.line(&format!(
                            "bufferization.materialize_in_destination {value} in restrict writable {out} : ({}, {}) -> ()",
                            t.tensor(),
                            t.memref()
                        ));
                    }
                    None => {
                        let ty = v.ty().to_string();
                        params.push(format!("{out}: memref<{ty}>"));
                        e.line(&format!("memref.store {value}, {out}[] : memref<{ty}>"));
                    }
                }
                outs.push(out);
            }
            e.line("return");
            break;
        }
        convert_op(&mut e, op)?;
    }
    let mut text = String::new();
    let _ = writeln!(
        text,
        "  func.func @{name}({}) attributes {{kernel.grid = array<i64: 1>, kernel.target = \"cpu\", llvm.emit_c_interface}} {{",
        params.join(", ")
    );
    text.push_str(&e.body);
    text.push_str("  }\n");
    Ok(Kernel { text, tilings: e.tilings })
}

/// The transform script tiling every tagged op of `kernel` (inside one named sequence
/// matching by `kernel.op` within each function).
fn transform_script(kernels: &[(String, Kernel)]) -> String {
    let any = "!transform.any_op";
    let mut s = String::new();
    let _ = writeln!(s, "  module attributes {{transform.with_named_sequence}} {{");
    let _ = writeln!(s, "    transform.named_sequence @__transform_main(%root: {any} {{transform.readonly}}) {{");
    let mut n = 0;
    for (name, kernel) in kernels {
        n += 1;
        let _ = writeln!(
            s,
            "      %f{n} = transform.structured.match ops{{[\"func.func\"]}} attributes{{sym_name = \"{name}\"}} in %root : ({any}) -> {any}"
        );
        for (tag, tiling) in &kernel.tilings {
            let _ = writeln!(
                s,
                "      %o{n}_{tag} = transform.structured.match attributes{{kernel.op = {tag} : i64}} in %f{n} : ({any}) -> {any}"
            );
            let mut tile = |handle: String, sizes: &[i64], suffix: &str| -> String {
                let loops = sizes.iter().filter(|x| **x != 0).count();
                let list = sizes.iter().map(|x| x.to_string()).collect::<Vec<_>>().join(", ");
                let out = format!("%t{n}_{tag}{suffix}");
                let types = std::iter::repeat_n(any, loops + 1).collect::<Vec<_>>().join(", ");
                let lhs = if loops > 0 { format!("{out}, %l{n}_{tag}{suffix}:{loops}") } else { out.clone() };
                let lhs = if loops == 1 { format!("{out}, %l{n}_{tag}{suffix}") } else { lhs };
                let _ = writeln!(s, "      {lhs} = transform.structured.tile_using_for {handle} tile_sizes [{list}] : ({any}) -> ({types})");
                out
            };
            match tiling {
                Tiling::Loops(sizes) if sizes.iter().any(|x| *x != 0) => {
                    tile(format!("%o{n}_{tag}"), sizes, "");
                }
                Tiling::Loops(_) => {}
                Tiling::Matmul { k_tile, k, m, n: nn } => {
                    let h = if k_tile < k { tile(format!("%o{n}_{tag}"), &[0, 0, *k_tile], "k") } else { format!("%o{n}_{tag}") };
                    tile(h, &[*m, *nn, 1], "r");
                }
            }
        }
        let _ = writeln!(s, "      %fv{n} = transform.structured.vectorize_children_and_apply_patterns %f{n} : ({any}) -> {any}");
        let _ = writeln!(s, "      transform.apply_patterns to %fv{n} {{");
        let _ = writeln!(s, "        transform.apply_patterns.canonicalization");
        let _ = writeln!(s, "        transform.apply_patterns.tensor.fold_tensor_subset_ops_into_vector_transfers");
        let _ = writeln!(s, "      }} : {any}");
        let _ = writeln!(s, "      %loops{n} = transform.structured.match ops{{[\"scf.for\"]}} in %fv{n} : ({any}) -> {any}");
        let _ = writeln!(s, "      transform.loop.hoist_loop_invariant_subsets %loops{n} : {any}");
        let _ = writeln!(s, "      transform.apply_patterns to %fv{n} {{");
        let _ = writeln!(s, "        transform.apply_patterns.vector.lower_contraction lowering_strategy = \"outerproduct\"");
        let _ = writeln!(s, "        transform.apply_patterns.vector.transfer_permutation_patterns");
        let _ = writeln!(s, "        transform.apply_patterns.vector.lower_outerproduct");
        let _ = writeln!(s, "        transform.apply_patterns.vector.lower_multi_reduction lowering_strategy = \"innerreduction\"");
        let _ = writeln!(s, "      }} : {any}");
    }
    let _ = writeln!(s, "      transform.yield\n    }}\n  }}");
    s
}

/// Builds the kernel-level module text for the tensor fns of `module`.
fn kernel_module_text(module: Op) -> Result<String, Unsupported> {
    let mut kernels = Vec::new();
    for op in ir::module_ops(module) {
        if op.name() == "func.func" && op.has_attribute("workflow.fn") {
            let name = ir::symbol_name(op).unwrap_or_default();
            kernels.push((name, convert_fn(op)?));
        }
    }
    let mut text = String::from("module {\n");
    for (_, k) in &kernels {
        text.push_str(&k.text);
    }
    if !kernels.is_empty() {
        text.push_str(&transform_script(&kernels));
    }
    text.push_str("}\n");
    Ok(text)
}

/// Replaces the body of `module` with the top-level ops of a module parsed from `text`.
pub(crate) fn replace_module_body(module: Op, text: &str) -> Result<(), PassFailed> {
    let context_ref = module.context();
    let context: &melior::Context = unsafe { context_ref.to_ref() };
    let Some(parsed) = melior::ir::Module::parse(context, text) else {
        module.emit_error(&format!("internal error: generated IR does not parse:\n{text}"));
        return Err(PassFailed);
    };
    for op in ir::module_ops(module) {
        op.erase();
    }
    let target = unsafe { mlir_sys::mlirModuleGetBody(mlir_sys::mlirModuleFromOperation(module.0)) };
    for op in ir::module_ops(Op::of(&parsed.as_operation())) {
        unsafe {
            mlir_sys::mlirOperationRemoveFromParent(op.0);
            mlir_sys::mlirBlockAppendOwnedOperation(target, op.0);
        }
    }
    Ok(())
}

/// The pass `convert-tensor-to-kernel`.
pub fn convert_tensor_to_kernel(module: Op, _: &PassContext) -> Result<(), PassFailed> {
    match kernel_module_text(module) {
        Ok(text) => replace_module_body(module, &text),
        Err(Unsupported(op, message)) => {
            op.emit_error(&format!("cannot lower to kernels: {message}"));
            Err(PassFailed)
        }
    }
}

/// The pass `kernel-drop-transform-scripts`: erases the transform-script modules
/// (`module attributes {transform.with_named_sequence}`) once the interpreter has run.
pub fn drop_transform_scripts(module: Op, _: &PassContext) -> Result<(), PassFailed> {
    for op in ir::module_ops(module) {
        if op.name() == "builtin.module" && op.has_attribute("transform.with_named_sequence") {
            op.erase();
        }
    }
    Ok(())
}

/// The tensor level: keeps the tensor fns (`func.func {workflow.fn}`) of a workflow
/// module, made public (they are kernels' sources now), and drops everything else.
pub fn extract_tensor_fns(module: Op) {
    for op in ir::module_ops(module) {
        if op.name() == "func.func" && op.has_attribute("workflow.fn") {
            unsafe {
                let name = mlir_sys::mlirStringRefCreateFromCString(c"sym_visibility".as_ptr());
                mlir_sys::mlirOperationRemoveAttributeByName(op.0, name);
            }
        } else {
            op.erase();
        }
    }
}

/// The pass `kernel-free-buffers`: every `memref.alloc` left by bufferisation (the
/// intermediates of a kernel) gets a `memref.dealloc` before the terminator of its block.
/// Kernels write their results in place (destination-passing style), so no allocation
/// escapes its block. (Upstream's buffer-deallocation-pipeline rejects ops with unknown
/// memory effects, which every IRDL op has.)
pub fn free_buffers(module: Op, _: &PassContext) -> Result<(), PassFailed> {
    for func in ir::module_ops(module) {
        for op in func.nested_ops() {
            if op.name() != "memref.alloc" {
                continue;
            }
            let Some(block) = op.block() else { continue };
            let Some(terminator) = block.terminator() else { continue };
            let location = op.location();
            let dealloc = melior::ir::operation::OperationBuilder::new("memref.dealloc", location)
                .add_operands(&[op.result(0).view()])
                .build()
                .map_err(|_| PassFailed)?;
            unsafe { mlir_sys::mlirBlockInsertOwnedOperationBefore(block.0, terminator.0, dealloc.into_raw()) };
        }
    }
    Ok(())
}
