//! The data-movement ops of the model functions: `weight` (a kernel argument), `embedding`
//! (a gather), `arange`, `slice`, `concat`, reshapes with a dynamic size, reductions over
//! some axes, and large splat constants (a fill).
//!
//! Gathers and `arange` run as scalar loops over dynamically typed tensors (see
//! [`Emitter::dynamic`]); the rest are upstream tensor ops that bufferise to views.

use super::emitter::*;
use super::transform::Tiling;
use crate::ir::Op;

/// Converts `op` if it is one of this file's ops; `Ok(false)` if it is not.
pub(super) fn convert(e: &mut Emitter, op: Op) -> Result<bool, Unsupported> {
    let name = op.name();
    let r = match name.as_str() {
        "tgraph.weight" => weight(e, op)?,
        "tgraph.embedding" => embedding(e, op)?,
        "tgraph.arange" => arange(e, op)?,
        "tgraph.slice" => slice(e, op)?,
        "tgraph.concat" => concat(e, op)?,
        _ => return Ok(false),
    };
    e.bind(op.result(0), r);
    Ok(true)
}

/// A size of `v` as the text of a mixed static/dynamic list entry (`64` or `%d3`).
fn size_text(e: &mut Emitter, v: &(String, Tt), i: usize) -> String {
    if v.1.shape[i] >= 0 { v.1.shape[i].to_string() } else { e.dim(v, i) }
}

/// `tgraph.weight`: the kernel argument bound to the safetensors tensor `name` (one
/// argument per distinct name, in order of first use; `convert_fn` declares them).
fn weight(e: &mut Emitter, op: Op) -> Result<String, Unsupported> {
    let name = op
        .attribute("name")
        .map(|a| a.to_string())
        .map(|t| t.trim_matches('"').to_string())
        .ok_or_else(|| Unsupported(op, "weight without a name".into()))?;
    if let Some(scheme) = op.attribute("tgraph.quant").map(|a| a.to_string().trim_matches('"').to_string()) {
        return super::quantized::weight(e, op, &name, &scheme);
    }
    let ty = result_tensor(op)?;
    if let Some(i) = e.weights.iter().position(|(n, _)| *n == name) {
        return Ok(format!("%w{i}"));
    }
    e.weights.push((name, ty));
    Ok(format!("%w{}", e.weights.len() - 1))
}

/// `tgraph.embedding(table [V, H], ids [...])`: out[..., j] = table[ids[...], j].
fn embedding(e: &mut Emitter, op: Op) -> Result<String, Unsupported> {
    if let Some(r) = super::quantized::embedding(e, op)? {
        return Ok(r);
    }
    let table = operand(e, op, 0)?;
    let ids = e.dynamic(&operand(e, op, 1)?);
    let out = result_tensor(op)?;
    let r = out.rank();
    let mut sizes: Vec<String> = (0..r - 1).map(|i| e.dim(&ids, i)).collect();
    sizes.push(e.index(table.1.shape[1]));
    let dyn_out = Tt { shape: vec![-1; r], elem: out.elem.clone() };
    let init = e.empty_sized(&dyn_out, &sizes);
    let ids_map = format!("affine_map<({}) -> ({})>", dims_list(r), dims_list(r - 1));
    let (tv, tt) = (table.0.clone(), table.1.tensor());
    // A 16-bit table (a weight kept in its stored format) is extended to f32 per element.
    let extend = (table.1.elem != out.elem).then(|| format!("arith.extf {{}} : {} to {}", table.1.elem, out.elem));
    let g = e.linalg(&[(ids.0, ids.1, ids_map)], &init, &dyn_out, &vec!["parallel"; r], &identity_map(r), Tiling::Loops(vec![]), &move |e, a| {
        let row = e.let_(&format!("arith.index_cast {} : i64 to index", a[0]));
        let col = e.let_(&format!("linalg.index {} : index", r - 1));
        let value = e.let_(&format!("tensor.extract {tv}[{row}, {col}] : {tt}"));
        match &extend {
            Some(ext) => e.let_(&ext.replace("{}", &value)),
            None => value,
        }
    });
    Ok(e.cast_to(&g, &dyn_out, &out))
}

/// `tgraph.arange(like [N], start)`: start, start + 1, … (i64).
fn arange(e: &mut Emitter, op: Op) -> Result<String, Unsupported> {
    let like = e.dynamic(&operand(e, op, 0)?);
    let start = operand(e, op, 1)?;
    let out = result_tensor(op)?;
    let s = e.fresh("s");
    e.line(&format!("{s} = tensor.extract {}[] : {}", start.0, start.1.tensor()));
    let n = e.dim(&like, 0);
    let dyn_out = Tt { shape: vec![-1], elem: "i64".into() };
    let init = e.empty_sized(&dyn_out, &[n]);
    let g = e.linalg(&[], &init, &dyn_out, &["parallel"], &identity_map(1), Tiling::Loops(vec![]), &move |e, _| {
        let i = e.let_("linalg.index 0 : index");
        let i = e.let_(&format!("arith.index_cast {i} : index to i64"));
        e.let_(&format!("arith.addi {i}, {s} : i64"))
    });
    Ok(e.cast_to(&g, &dyn_out, &out))
}

/// `tgraph.slice`: `size` entries of dimension `axis` from `start` (negative: from the end).
fn slice(e: &mut Emitter, op: Op) -> Result<String, Unsupported> {
    let input = operand(e, op, 0)?;
    let out = result_tensor(op)?;
    let (axis, start, size) = (int_attr(op, "axis")? as usize, int_attr(op, "start")?, int_attr(op, "size")?);
    let rank = input.1.rank();
    let mut offsets = vec!["0".to_string(); rank];
    offsets[axis] = if start >= 0 {
        start.to_string()
    } else if input.1.shape[axis] >= 0 {
        (input.1.shape[axis] + start).to_string()
    } else {
        let d = e.dim(&input, axis);
        let c = e.index(start);
        let o = e.fresh("off");
        e.line(&format!("{o} = arith.addi {d}, {c} : index"));
        o
    };
    let sizes: Vec<String> = (0..rank).map(|i| if i == axis { size.to_string() } else { size_text(e, &input, i) }).collect();
    let r = e.fresh("sl");
    e.line(&format!(
        "{r} = tensor.extract_slice {}[{}] [{}] [{}] : {} to {}",
        input.0,
        offsets.join(", "),
        sizes.join(", "),
        vec!["1"; rank].join(", "),
        input.1.tensor(),
        out.tensor()
    ));
    Ok(r)
}

/// `tgraph.concat(lhs, rhs)` along `axis`: two `insert_slice`s into an empty tensor.
fn concat(e: &mut Emitter, op: Op) -> Result<String, Unsupported> {
    let (a, b) = (operand(e, op, 0)?, operand(e, op, 1)?);
    let out = result_tensor(op)?;
    let axis = int_attr(op, "axis")? as usize;
    let rank = out.rank();
    let mut sizes: Vec<String> = (0..rank).map(|i| e.dim(&a, i)).collect();
    let split = sizes[axis].clone();
    let rhs_len = e.dim(&b, axis);
    let total = e.fresh("n");
    e.line(&format!("{total} = arith.addi {split}, {rhs_len} : index"));
    sizes[axis] = total;
    let init = e.empty_sized(&out, &sizes);
    let ones = vec!["1"; rank].join(", ");
    let a_sizes: Vec<String> = (0..rank).map(|i| size_text(e, &a, i)).collect();
    let b_sizes: Vec<String> = (0..rank).map(|i| size_text(e, &b, i)).collect();
    let zeros = vec!["0"; rank].join(", ");
    let mut b_offsets = vec!["0".to_string(); rank];
    b_offsets[axis] = split;
    let first = e.fresh("cat");
    e.line(&format!("{first} = tensor.insert_slice {} into {init}[{zeros}] [{}] [{ones}] : {} into {}", a.0, a_sizes.join(", "), a.1.tensor(), out.tensor()));
    let second = e.fresh("cat");
    e.line(&format!(
        "{second} = tensor.insert_slice {} into {first}[{}] [{}] [{ones}] : {} into {}",
        b.0,
        b_offsets.join(", "),
        b_sizes.join(", "),
        b.1.tensor(),
        out.tensor()
    ));
    Ok(second)
}

/// Groups the dimensions of `long` into one group per dimension of `short` (equal
/// products; a dynamic size matches a group with exactly one dynamic size); trailing 1s of
/// `long` join the last group. `None` if the reshape is not a pure expand or collapse.
fn reassociation(short: &[i64], long: &[i64]) -> Option<Vec<Vec<usize>>> {
    let mut groups: Vec<Vec<usize>> = Vec::new();
    let mut j = 0;
    for &s in short {
        let mut group = Vec::new();
        if s < 0 {
            while j < long.len() && long[j] == 1 {
                group.push(j);
                j += 1;
            }
            if j >= long.len() || long[j] >= 0 {
                return None;
            }
            group.push(j);
            j += 1;
        } else {
            let mut product = 1;
            while j < long.len() && long[j] >= 0 && (product < s || long[j] == 1 && group.is_empty()) {
                product *= long[j];
                group.push(j);
                j += 1;
                if product == s {
                    break;
                }
            }
            if product != s || group.is_empty() {
                return None;
            }
        }
        groups.push(group);
    }
    while j < long.len() && long[j] == 1 {
        groups.last_mut()?.push(j);
        j += 1;
    }
    (j == long.len()).then_some(groups)
}

fn groups_text(groups: &[Vec<usize>]) -> String {
    let inner: Vec<String> =
        groups.iter().map(|g| format!("[{}]", g.iter().map(|d| d.to_string()).collect::<Vec<_>>().join(", "))).collect();
    format!("[{}]", inner.join(", "))
}

/// A reshape with a dynamic size: `tensor.expand_shape` or `tensor.collapse_shape`.
pub(super) fn reshape_dynamic(e: &mut Emitter, op: Op, a: (String, Tt), out: Tt) -> Result<String, Unsupported> {
    let r = e.fresh("rs");
    if out.rank() < a.1.rank() {
        let groups = reassociation(&out.shape, &a.1.shape).ok_or_else(|| Unsupported(op, "a reshape that is not a collapse".into()))?;
        e.line(&format!("{r} = tensor.collapse_shape {} {} : {} into {}", a.0, groups_text(&groups), a.1.tensor(), out.tensor()));
        return Ok(r);
    }
    let groups = reassociation(&a.1.shape, &out.shape).ok_or_else(|| Unsupported(op, "a reshape that is neither an expand nor a collapse".into()))?;
    // Each dynamic result size is its group's source size over the group's static sizes.
    let mut sizes = vec![String::new(); out.rank()];
    for (i, group) in groups.iter().enumerate() {
        for &j in group {
            sizes[j] = if out.shape[j] >= 0 {
                out.shape[j].to_string()
            } else {
                let d = e.dim(&a, i);
                let rest: i64 = group.iter().filter(|k| out.shape[**k] >= 0).map(|k| out.shape[*k]).product();
                let c = e.index(rest);
                let q = e.fresh("n");
                e.line(&format!("{q} = arith.divui {d}, {c} : index"));
                q
            };
        }
    }
    e.line(&format!(
        "{r} = tensor.expand_shape {} {} output_shape [{}] : {} into {}",
        a.0,
        groups_text(&groups),
        sizes.join(", "),
        a.1.tensor(),
        out.tensor()
    ));
    Ok(r)
}

/// A reduction over `axes` of `input` (they are dropped): `combine(f(x), acc)` from
/// `init`, squaring first when `square`. Returns the reduced tensor.
pub(super) fn reduce_axes(e: &mut Emitter, input: (String, Tt), axes: &[i64], init: &str, combine: &'static str, square: bool) -> (String, Tt) {
    let rank = input.1.rank();
    let kept: Vec<usize> = (0..rank).filter(|i| !axes.contains(&(*i as i64))).collect();
    let out = Tt { shape: kept.iter().map(|i| input.1.shape[*i]).collect(), elem: input.1.elem.clone() };
    let sizes: Vec<String> = kept.iter().map(|i| e.dim(&input, *i)).collect();
    let empty = e.empty_sized(&out, &sizes);
    let filled = e.fill(&empty, &out, init);
    let out_map = format!(
        "affine_map<({}) -> ({})>",
        dims_list(rank),
        kept.iter().map(|i| format!("d{i}")).collect::<Vec<_>>().join(", ")
    );
    let iters: Vec<&str> = (0..rank).map(|i| if kept.contains(&i) { "parallel" } else { "reduction" }).collect();
    let elem = out.elem.clone();
    let tiling = Tiling::Loops(vec![]);
    let g = e.linalg(&[(input.0.clone(), input.1.clone(), identity_map(rank))], &filled, &out, &iters, &out_map, tiling, &move |e, a| {
        let x = if square { e.let_(&format!("arith.mulf {}, {} : {elem}", a[0], a[0])) } else { a[0].clone() };
        e.let_(&format!("{combine} {x}, {} : {elem}", a[1]))
    });
    (g, out)
}

/// The number of elements of `input` along `axes`, as a float of its element type.
pub(super) fn count_axes(e: &mut Emitter, input: &(String, Tt), axes: &[i64]) -> String {
    let mut total = e.index(1);
    for &a in axes {
        let d = e.dim(input, a as usize);
        let m = e.fresh("n");
        e.line(&format!("{m} = arith.muli {total}, {d} : index"));
        total = m;
    }
    let i = e.fresh("n");
    e.line(&format!("{i} = arith.index_cast {total} : index to i64"));
    let f = e.fresh("n");
    e.line(&format!("{f} = arith.sitofp {i} : i64 to {}", input.1.elem));
    f
}
