//! Semantic rules of the tensor level (`tgraph`): shapes, element types and attribute
//! values of every tgraph op (IRDL only checks that operands are tensors), the `model` of
//! `tgraph.weight`, and the well-formedness of fusion groups.
//!
//! [`infer`] is the shape function of each op: from the operand types and attributes it
//! gives the result shape (a dimension is `None` where it is only known at run time) or the
//! rule broken. The verifier checks the declared result against it; `tensor-specialize-
//! shapes` uses it to make result types more static.

use std::collections::{BTreeMap, BTreeSet};

use agentc_dialects::{tgraph as tg, workflow as wf};
use melior::ir::attribute::AttributeLike;

use crate::ir::{self, Op, Val};

/// Dimensions of a ranked tensor (`None`: dynamic).
pub type Dims = Vec<Option<i64>>;

/// A ranked tensor type: dimensions and element type text (`f32`, `i64`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Shape {
    /// The dimensions.
    pub dims: Dims,
    /// The element type, printed.
    pub elem: String,
}

impl Shape {
    fn new(dims: Dims, elem: &str) -> Shape {
        Shape { dims, elem: elem.to_string() }
    }

    /// The MLIR type text (`tensor<?x64xf32>`).
    pub fn type_text(&self) -> String {
        let dims: String = self.dims.iter().map(|d| d.map_or("?x".to_string(), |d| format!("{d}x"))).collect();
        format!("tensor<{dims}{}>", self.elem)
    }

    fn rank(&self) -> usize {
        self.dims.len()
    }
}

/// The shape of a ranked tensor type, `None` for anything else.
pub fn shape_of(ty: melior::ir::Type) -> Option<Shape> {
    use mlir_sys::*;
    unsafe {
        let raw = melior::ir::r#type::TypeLike::to_raw(&ty);
        if !mlirTypeIsARankedTensor(raw) {
            return None;
        }
        let rank = mlirShapedTypeGetRank(raw) as isize;
        let dims = (0..rank)
            .map(|i| if mlirShapedTypeIsDynamicDim(raw, i) { None } else { Some(mlirShapedTypeGetDimSize(raw, i)) })
            .collect();
        let elem = melior::ir::Type::from_raw(mlirShapedTypeGetElementType(raw)).to_string();
        Some(Shape { dims, elem })
    }
}

/// Whether `got` could be `want` (same rank, static dimensions agree).
pub fn compatible(got: &[Option<i64>], want: &[Option<i64>]) -> bool {
    got.len() == want.len() && got.iter().zip(want).all(|(g, w)| g.is_none() || w.is_none() || g == w)
}

/// NumPy broadcasting of two static-or-dynamic shapes.
pub fn broadcast(a: &[Option<i64>], b: &[Option<i64>]) -> Option<Dims> {
    let rank = a.len().max(b.len());
    let mut out = vec![None; rank];
    for (i, slot) in out.iter_mut().enumerate() {
        let x = if i + a.len() >= rank { a[i + a.len() - rank] } else { Some(1) };
        let y = if i + b.len() >= rank { b[i + b.len() - rank] } else { Some(1) };
        *slot = match (x, y) {
            (Some(1), other) | (other, Some(1)) => other,
            (Some(x), Some(y)) if x == y => Some(x),
            (Some(_), Some(_)) => return None,
            (None, other) | (other, None) => other,
        };
    }
    Some(out)
}

/// The i64 entries of a dense array attribute `name`.
pub fn dense_i64(op: Op, name: &str) -> Option<Vec<i64>> {
    let attribute = op.attribute(name)?;
    unsafe {
        let raw = attribute.to_raw();
        if !mlir_sys::mlirAttributeIsADenseI64Array(raw) {
            return None;
        }
        let n = mlir_sys::mlirDenseArrayGetNumElements(raw);
        Some((0..n).map(|i| mlir_sys::mlirDenseI64ArrayGetElement(raw, i)).collect())
    }
}

/// A `dense_array<f32>` attribute of `op` (`array<f32: ...>`), if it is one.
pub fn dense_f32(op: Op, name: &str) -> Option<Vec<f32>> {
    let attribute = op.attribute(name)?;
    unsafe {
        let raw = attribute.to_raw();
        if !mlir_sys::mlirAttributeIsADenseF32Array(raw) {
            return None;
        }
        let n = mlir_sys::mlirDenseArrayGetNumElements(raw);
        Some((0..n).map(|i| mlir_sys::mlirDenseF32ArrayGetElement(raw, i)).collect())
    }
}

/// A boolean (or integer) attribute as a bool.
pub fn bool_attr(op: Op, name: &str) -> Option<bool> {
    let attribute = op.attribute(name)?;
    unsafe {
        let raw = attribute.to_raw();
        if mlir_sys::mlirAttributeIsABool(raw) {
            return Some(mlir_sys::mlirBoolAttrGetValue(raw));
        }
    }
    wf::int_attr(&op.view(), name).map(|v| v != 0)
}

fn dim(d: Option<i64>) -> String {
    d.map_or("?".into(), |d| d.to_string())
}

fn dims_text(dims: &[Option<i64>]) -> String {
    format!("[{}]", dims.iter().map(|d| dim(*d)).collect::<Vec<_>>().join(", "))
}

/// The element type a 16-bit float weight is computed in: f16 and bf16 values (weights kept
/// in their stored format) are extended to f32 where they are read; others stay.
fn widened(elem: &str) -> &str {
    if matches!(elem, "f16" | "bf16") { "f32" } else { elem }
}

/// Whether `value` is a model weight (a `tgraph.weight`, or a transpose of one): the only
/// values whose 16-bit float type may meet f32 in an op (kept in their stored format,
/// extended to f32 as they are read).
fn from_weight(value: crate::ir::Val) -> bool {
    let mut value = value;
    loop {
        match value.defining_op() {
            Some(op) if op.name() == tg::WEIGHT => return true,
            Some(op) if op.name() == tg::TRANSPOSE && op.operand_count() == 1 => value = op.operand(0),
            _ => return false,
        }
    }
}

/// Two dimensions that must agree (where both are known).
fn same(a: Option<i64>, b: Option<i64>) -> bool {
    a.is_none() || b.is_none() || a == b
}

/// Static-where-known merge of two dimensions that agree.
fn meet(a: Option<i64>, b: Option<i64>) -> Option<i64> {
    a.or(b)
}

/// The result shape of tgraph op `op` from its operands and attributes; `Ok(None)` when the
/// op's result is not determined by its operands (reshape, unknown ops); `Err` with the rule
/// it breaks.
pub fn infer(op: Op) -> Result<Option<Shape>, String> {
    let name = op.name();
    let short = name.as_str();
    let mut operands = Vec::new();
    for (i, value) in op.operands().into_iter().enumerate() {
        match shape_of(value.ty()) {
            Some(shape) => operands.push(shape),
            None => return Err(format!("`{short}` operand #{i} must be a ranked tensor, not `{}`", value.ty())),
        }
    }
    let weights: Vec<bool> = op.operands().into_iter().map(from_weight).collect();
    // The element type over operands i and j: the same type, or f32 where one is f32 and
    // the other a 16-bit float weight; `None` for any other mix.
    let joined = |i: usize, j: usize| -> Option<String> {
        let (a, b) = (operands[i].elem.as_str(), operands[j].elem.as_str());
        let narrow_weight = |k: usize| weights[k] && matches!(operands[k].elem.as_str(), "f16" | "bf16");
        if a == b {
            Some(a.to_string())
        } else if (a == "f32" && narrow_weight(j)) || (b == "f32" && narrow_weight(i)) {
            Some("f32".into())
        } else {
            None
        }
    };
    let need = |n: usize| -> Result<(), String> {
        if operands.len() == n { Ok(()) } else { Err(format!("`{short}` takes {n} operands, not {}", operands.len())) }
    };
    let rank = |i: usize, r: usize, what: &str| -> Result<(), String> {
        if operands[i].rank() == r {
            Ok(())
        } else {
            Err(format!("`{short}` {what} must have rank {r}, not {}", dims_text(&operands[i].dims)))
        }
    };
    let elem = |i: usize, e: &str, what: &str| -> Result<(), String> {
        if operands[i].elem == e { Ok(()) } else { Err(format!("`{short}` {what} must have {e} elements, not {}", operands[i].elem)) }
    };
    let float = |i: usize, what: &str| -> Result<(), String> {
        if matches!(operands[i].elem.as_str(), "f16" | "bf16" | "f32" | "f64") {
            Ok(())
        } else {
            Err(format!("`{short}` {what} must have float elements, not {}", operands[i].elem))
        }
    };
    let int = |attr: &str| wf::int_attr(&op.view(), attr).ok_or_else(|| format!("`{short}` needs an integer `{attr}`"));
    let positive_float = |attr: &str| -> Result<f64, String> {
        match wf::float_attr(&op.view(), attr) {
            Some(v) if v > 0.0 && v.is_finite() => Ok(v),
            _ => Err(format!("`{short}` needs a positive `{attr}`")),
        }
    };
    let zero_d_i64 = |i: usize, what: &str| -> Result<(), String> {
        if operands[i].rank() == 0 && operands[i].elem == "i64" {
            Ok(())
        } else {
            Err(format!("`{short}` {what} must be a 0-d i64 tensor, not {}", operands[i].type_text()))
        }
    };
    let shape = match name.as_str() {
        tg::ADD | tg::SUB | tg::MUL | tg::DIV => {
            need(2)?;
            let elem = joined(0, 1)
                .ok_or_else(|| format!("`{short}` mixes element types: {} and {}", operands[0].elem, operands[1].elem))?;
            let dims = broadcast(&operands[0].dims, &operands[1].dims).ok_or_else(|| {
                format!("`{short}` operands cannot be broadcast together: {} and {}", dims_text(&operands[0].dims), dims_text(&operands[1].dims))
            })?;
            Shape::new(dims, &elem)
        }
        tg::NEG | tg::EXP | tg::SQRT | tg::SOFTMAX | tg::SILU | tg::GELU => {
            need(1)?;
            operands[0].clone()
        }
        tg::REDUCE_SUM | tg::REDUCE_MEAN | tg::REDUCE_MAX | tg::NORM => {
            need(1)?;
            match dense_i64(op, "axes") {
                None if op.has_attribute("axes") => return Err(format!("`{short}` axes must be a dense_array<i64>")),
                None => Shape::new(Vec::new(), &operands[0].elem),
                Some(axes) => {
                    let r = operands[0].rank() as i64;
                    if axes.iter().any(|&a| a < 0 || a >= r) || axes.windows(2).any(|w| w[0] >= w[1]) {
                        return Err(format!("`{short}` axes {axes:?} must be increasing dimensions of a rank-{r} tensor"));
                    }
                    let dims = operands[0].dims.iter().enumerate().filter(|(i, _)| !axes.contains(&(*i as i64))).map(|(_, d)| *d).collect();
                    Shape::new(dims, &operands[0].elem)
                }
            }
        }
        tg::MATMUL => {
            need(2)?;
            let elem = joined(0, 1)
                .ok_or_else(|| format!("`{short}` mixes element types: {} and {}", operands[0].elem, operands[1].elem))?;
            let (a, b) = (&operands[0].dims, &operands[1].dims);
            if a.is_empty() || b.is_empty() {
                return Err(format!("`{short}` operands must have rank 1 or more"));
            }
            let Some(&k_a) = a.last() else { return Err(format!("`{short}` operands must have rank 1 or more")) };
            let k_b = if b.len() >= 2 { b[b.len() - 2] } else { b[0] };
            if !same(k_a, k_b) {
                return Err(format!("`{short}` inner dimensions differ: {} vs {}", dim(k_a), dim(k_b)));
            }
            let batch_a = if a.len() > 2 { &a[..a.len() - 2] } else { &[][..] };
            let batch_b = if b.len() > 2 { &b[..b.len() - 2] } else { &[][..] };
            let mut dims = broadcast(batch_a, batch_b).ok_or_else(|| format!("`{short}` batch dimensions cannot be broadcast"))?;
            if a.len() >= 2 {
                dims.push(a[a.len() - 2]);
            }
            if b.len() >= 2 {
                dims.push(b[b.len() - 1]);
            }
            Shape::new(dims, &elem)
        }
        tg::TRANSPOSE => {
            need(1)?;
            let permutation = dense_i64(op, "permutation").ok_or_else(|| format!("`{short}` needs a dense_array<i64> permutation"))?;
            let r = operands[0].rank();
            let mut sorted = permutation.clone();
            sorted.sort_unstable();
            if sorted != (0..r as i64).collect::<Vec<_>>() {
                return Err(format!("`{short}` permutation {permutation:?} is not a permutation of {r} dimensions"));
            }
            Shape::new(permutation.iter().map(|&p| operands[0].dims[p as usize]).collect(), &operands[0].elem)
        }
        tg::RESHAPE => {
            need(1)?;
            let result = shape_of(op.result(0).ty()).ok_or("`tgraph.reshape` must return a ranked tensor")?;
            let count = |dims: &[Option<i64>]| dims.iter().try_fold(1i64, |acc, d| d.map(|d| acc * d));
            if let (Some(x), Some(y)) = (count(&operands[0].dims), count(&result.dims)) {
                if x != y {
                    return Err(format!("`{short}` changes the element count from {x} to {y}"));
                }
            }
            if result.elem != operands[0].elem {
                return Err(format!("`{short}` must keep the element type {}", operands[0].elem));
            }
            return Ok(None);
        }
        tg::RMSNORM | tg::LAYERNORM => {
            need(if name == tg::RMSNORM { 2 } else { 3 })?;
            positive_float("epsilon")?;
            float(0, "input")?;
            let hidden = *operands[0].dims.last().ok_or_else(|| format!("`{short}` input must have rank 1 or more"))?;
            for (i, what) in [(1, "weight"), (2, "bias")].into_iter().take(operands.len() - 1) {
                rank(i, 1, what)?;
                if !same(operands[i].dims[0], hidden) {
                    return Err(format!("`{short}` {what} has {} entries but the input's last dimension is {}", dim(operands[i].dims[0]), dim(hidden)));
                }
                if joined(0, i).as_deref() != Some(operands[0].elem.as_str()) {
                    elem(i, &operands[0].elem, what)?;
                }
            }
            operands[0].clone()
        }
        tg::ROPE => {
            need(2)?;
            positive_float("theta")?;
            rank(0, 3, "input [T, heads, head_dim]")?;
            float(0, "input")?;
            rank(1, 1, "positions")?;
            elem(1, "i64", "positions")?;
            if let Some(d) = operands[0].dims[2].filter(|d| d % 2 != 0) {
                return Err(format!("`{short}` head_dim {d} must be even"));
            }
            // Scaled RoPE: the inverse frequencies, one per pair of the head.
            if op.has_attribute("inv_freq") {
                let table = dense_f32(op, "inv_freq").ok_or_else(|| format!("`{short}` inv_freq must be a dense_array<f32>"))?;
                if let Some(d) = operands[0].dims[2].filter(|d| table.len() as i64 != d / 2) {
                    return Err(format!("`{short}` inv_freq has {} entries for head_dim {d} (needs {})", table.len(), d / 2));
                }
                if table.iter().any(|f| !(f.is_finite() && *f > 0.0)) {
                    return Err(format!("`{short}` inv_freq entries must be positive and finite"));
                }
            }
            if !same(operands[0].dims[0], operands[1].dims[0]) {
                return Err(format!("`{short}` has {} positions for {} tokens", dim(operands[1].dims[0]), dim(operands[0].dims[0])));
            }
            let mut out = operands[0].clone();
            out.dims[0] = meet(out.dims[0], operands[1].dims[0]);
            out
        }
        tg::ATTENTION | tg::ATTENTION_CACHED => {
            let cached = name == tg::ATTENTION_CACHED;
            if cached {
                need(4)?;
                int("layer")?;
            } else if operands.len() != 3 && operands.len() != 4 {
                return Err(format!("`{short}` takes q, k, v and an optional key_mask"));
            }
            if !cached {
                bool_attr(op, "causal").ok_or_else(|| format!("`{short}` needs a bool `causal`"))?;
            }
            positive_float("scale")?;
            rank(0, 3, "q [T, heads, head_dim]")?;
            float(0, "q")?;
            let kv_rank = if cached { 4 } else { 3 };
            let lead = kv_rank - 3;
            for (i, what) in [(1, "k"), (2, "v")] {
                rank(i, kv_rank, what)?;
                elem(i, &operands[0].elem, what)?;
            }
            let (q, k, v) = (&operands[0].dims, &operands[1].dims, &operands[2].dims);
            for i in 0..kv_rank {
                if !same(k[i], v[i]) {
                    return Err(format!("`{short}` k {} and v {} differ", dims_text(k), dims_text(v)));
                }
            }
            if !same(q[2], k[lead + 2]) {
                return Err(format!("`{short}` q head_dim {} differs from k's {}", dim(q[2]), dim(k[lead + 2])));
            }
            if let (Some(hq), Some(hkv)) = (q[1], k[lead + 1]) {
                if hkv == 0 || hq % hkv != 0 {
                    return Err(format!("`{short}` has {hq} query heads, not a multiple of {hkv} KV heads"));
                }
            }
            if cached {
                zero_d_i64(3, "position")?;
                let layer = int("layer")?;
                if layer < 0 || k[0].is_some_and(|l| layer >= l) {
                    return Err(format!("`{short}` layer {layer} is outside the cache's {} layers", dim(k[0])));
                }
            } else if operands.len() == 4 {
                rank(3, 1, "key_mask")?;
                float(3, "key_mask")?;
                if !same(operands[3].dims[0], k[0]) {
                    return Err(format!("`{short}` key_mask has {} entries for {} keys", dim(operands[3].dims[0]), dim(k[0])));
                }
            }
            operands[0].clone()
        }
        tg::KV_WRITE => {
            need(3)?;
            rank(0, 4, "cache [layers, slots, kv_heads, head_dim]")?;
            rank(1, 3, "new [T, kv_heads, head_dim]")?;
            elem(1, &operands[0].elem, "new")?;
            zero_d_i64(2, "position")?;
            let (cache, new) = (&operands[0].dims, &operands[1].dims);
            if !same(cache[2], new[1]) || !same(cache[3], new[2]) {
                return Err(format!("`{short}` new {} does not fit the cache {}", dims_text(new), dims_text(cache)));
            }
            if let (Some(t), Some(c)) = (new[0], cache[1]) {
                if t > c {
                    return Err(format!("`{short}` writes {t} tokens into a cache of {c} slots"));
                }
            }
            let layer = int("layer")?;
            if layer < 0 || cache[0].is_some_and(|l| layer >= l) {
                return Err(format!("`{short}` layer {layer} is outside the cache's {} layers", dim(cache[0])));
            }
            operands[0].clone()
        }
        tg::EMBEDDING => {
            need(2)?;
            rank(0, 2, "table [vocab, hidden]")?;
            elem(1, "i64", "ids")?;
            let mut dims = operands[1].dims.clone();
            dims.push(operands[0].dims[1]);
            Shape::new(dims, if weights[0] { widened(&operands[0].elem) } else { &operands[0].elem })
        }
        tg::CONCAT => {
            need(2)?;
            let axis = int("axis")?;
            let (a, b) = (&operands[0], &operands[1]);
            if a.rank() != b.rank() || a.elem != b.elem {
                return Err(format!("`{short}` operands {} and {} differ in rank or element type", a.type_text(), b.type_text()));
            }
            if axis < 0 || axis as usize >= a.rank() {
                return Err(format!("`{short}` axis {axis} is outside rank {}", a.rank()));
            }
            let mut dims = Vec::new();
            for i in 0..a.rank() {
                if i == axis as usize {
                    dims.push(a.dims[i].zip(b.dims[i]).map(|(x, y)| x + y));
                } else if same(a.dims[i], b.dims[i]) {
                    dims.push(meet(a.dims[i], b.dims[i]));
                } else {
                    return Err(format!("`{short}` operands differ in dimension {i}: {} vs {}", dim(a.dims[i]), dim(b.dims[i])));
                }
            }
            Shape::new(dims, &a.elem)
        }
        tg::SLICE => {
            need(1)?;
            let (axis, start, size) = (int("axis")?, int("start")?, int("size")?);
            let input = &operands[0];
            if axis < 0 || axis as usize >= input.rank() {
                return Err(format!("`{short}` axis {axis} is outside rank {}", input.rank()));
            }
            if size < 0 {
                return Err(format!("`{short}` size {size} is negative"));
            }
            if let Some(n) = input.dims[axis as usize] {
                let begin = if start < 0 { n + start } else { start };
                if begin < 0 || begin + size > n {
                    return Err(format!("`{short}` [{start}, +{size}) is outside dimension {axis} of size {n}"));
                }
            } else if start < 0 && -start < size {
                return Err(format!("`{short}` start {start} leaves fewer than {size} entries"));
            }
            let mut dims = input.dims.clone();
            dims[axis as usize] = Some(size);
            Shape::new(dims, &input.elem)
        }
        tg::ARANGE => {
            need(2)?;
            rank(0, 1, "like")?;
            zero_d_i64(1, "start")?;
            Shape::new(operands[0].dims.clone(), "i64")
        }
        tg::WEIGHT => {
            need(0)?;
            let result = shape_of(op.result(0).ty()).ok_or("`tgraph.weight` must return a ranked tensor")?;
            if result.dims.iter().any(|d| d.is_none()) {
                return Err(format!("`tgraph.weight` must have a static shape, not {}", result.type_text()));
            }
            if wf::string_attr(&op.view(), "name").is_none_or(|n| n.is_empty()) {
                return Err("`tgraph.weight` needs a non-empty `name`".into());
            }
            return Ok(None);
        }
        _ => return Ok(None),
    };
    Ok(Some(shape))
}

fn check_result(op: Op, inferred: &Shape) -> Option<String> {
    let declared = shape_of(op.result(0).ty())?;
    let name = op.name();
    let short = name.as_str();
    let matches = declared.elem == inferred.elem && compatible(&declared.dims, &inferred.dims);
    if !matches {
        match short {
            tg::ADD | tg::SUB | tg::MUL | tg::DIV if declared.elem == inferred.elem => {
                return Some(format!("`{short}` result shape does not match the broadcast of its operands"));
            }
            tg::NEG | tg::EXP | tg::SQRT | tg::SOFTMAX | tg::SILU | tg::GELU | tg::RMSNORM | tg::LAYERNORM | tg::ROPE => {
                return Some(format!("`{short}` must keep its operand's type"));
            }
            tg::REDUCE_SUM | tg::REDUCE_MEAN | tg::REDUCE_MAX | tg::NORM if !op.has_attribute("axes") => {
                return Some(format!("`{short}` must return a 0-d tensor of its element type"));
            }
            _ => {}
        }
    }
    if declared.elem != inferred.elem {
        return Some(format!("`{short}` result has {} elements, but its operands give {}", declared.elem, inferred.elem));
    }
    if !compatible(&declared.dims, &inferred.dims) {
        return Some(format!(
            "`{short}` result shape {} does not match {} from its operands",
            dims_text(&declared.dims),
            dims_text(&inferred.dims)
        ));
    }
    None
}

/// Verifies the tgraph ops of `module`; returns the number of errors emitted.
pub fn verify(module: Op) -> usize {
    let mut errors = 0;
    let mut report = |op: Op, message: String| {
        op.emit_error(&message);
        errors += 1;
    };
    let top = ir::module_ops(module);
    let models: BTreeSet<String> = top.iter().filter(|op| op.name() == wf::MODEL).filter_map(|op| ir::symbol_name(*op)).collect();
    for function in &top {
        let mut groups: BTreeMap<i64, Vec<Op>> = BTreeMap::new();
        for op in function.nested_ops() {
            let name = op.name();
            if !name.starts_with("tgraph.") {
                continue;
            }
            if op.result_count() != 1 || shape_of(op.result(0).ty()).is_none() {
                report(op, format!("`{name}` must have one ranked tensor result"));
                continue;
            }
            match infer(op) {
                Err(message) => report(op, message),
                Ok(Some(shape)) => {
                    if let Some(message) = check_result(op, &shape) {
                        report(op, message);
                    }
                }
                Ok(None) => {}
            }
            if name == tg::WEIGHT {
                let model = wf::symbol_attr(&op.view(), "model").unwrap_or_default();
                if !models.contains(&model) {
                    report(op, format!("weight `@{model}` does not name a workflow.model"));
                }
            }
            if let Some(group) = wf::int_attr(&op.view(), tg::FUSION_GROUP_ATTR) {
                groups.entry(group).or_default().push(op);
            }
        }
        for (group, members) in groups {
            if let Some(message) = check_group(&members) {
                report(members[members.len() - 1], format!("fusion group {group}: {message}"));
            }
        }
    }
    errors
}

/// A fusion group is a contiguous run of ops in one block whose results, except the last
/// op's, are used only inside the group.
fn check_group(members: &[Op]) -> Option<String> {
    let block = members[0].block()?;
    if members.iter().any(|m| m.block().map(|b| b.0.ptr) != Some(block.0.ptr)) {
        return Some("its ops are in different blocks".into());
    }
    let ops = block.ops();
    let position = |op: Op| ops.iter().position(|o| *o == op);
    let first = position(members[0])?;
    let last = position(members[members.len() - 1])?;
    if last - first + 1 != members.len() {
        return Some("its ops are not contiguous".into());
    }
    for member in &members[..members.len() - 1] {
        let escapes = member.results().into_iter().flat_map(Val::users).any(|user| !members.contains(&user));
        if escapes {
            return Some(format!("`{}` is used outside the group but is not its last op", member.name()));
        }
    }
    None
}
