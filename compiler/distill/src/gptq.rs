//! GPTQ (Frantar et al., 2022): quantize a linear layer's weight column by column, each
//! column's rounding error fed back into the columns not yet quantized so that the layer's
//! output on the calibration inputs, `WXᵀ`, changes as little as possible.
//!
//! With `H = 2XᵀX` (+ damping `λ·mean(diag H)·I`), the upper Cholesky factor `U` of `H⁻¹`
//! (`H⁻¹ = UᵀU`) gives the updates: after rounding column `i` to `q`, every row's error
//! `e = (w_i − q) / U_ii` moves the later columns `w_j −= e·U_ij`. Block parameters (scale,
//! minimum) are fitted when a 32-column group starts, on the already-updated weights. All in
//! f64. Columns that no calibration token touched (`H_ii = 0`) are zeroed, as the reference
//! implementation does.

use crate::quant::{BlockParams, Format, GROUP, Quantized};

/// Damping, as a share of the mean of `diag(H)` (the reference implementation's 0.01).
pub const DAMP: f64 = 0.01;

/// Lower Cholesky factor of the `n × n` matrix `a` (row-major); `None` unless positive definite.
fn cholesky(a: &[f64], n: usize) -> Option<Vec<f64>> {
    let mut l = vec![0.0; n * n];
    for i in 0..n {
        for j in 0..=i {
            let mut s = a[i * n + j];
            for k in 0..j {
                s -= l[i * n + k] * l[j * n + k];
            }
            if i == j {
                if s <= 0.0 || !s.is_finite() {
                    return None;
                }
                l[i * n + i] = s.sqrt();
            } else {
                l[i * n + j] = s / l[j * n + j];
            }
        }
    }
    Some(l)
}

/// `(L Lᵀ)⁻¹` from the lower factor `L`.
fn inverse_from_cholesky(l: &[f64], n: usize) -> Vec<f64> {
    // Linv by forward substitution, then Linvᵀ·Linv.
    let mut linv = vec![0.0; n * n];
    for c in 0..n {
        for i in c..n {
            let mut s = if i == c { 1.0 } else { 0.0 };
            for k in c..i {
                s -= l[i * n + k] * linv[k * n + c];
            }
            linv[i * n + c] = s / l[i * n + i];
        }
    }
    let mut inv = vec![0.0; n * n];
    for i in 0..n {
        for j in 0..=i {
            let mut s = 0.0;
            for k in i.max(j)..n {
                s += linv[k * n + i] * linv[k * n + j];
            }
            inv[i * n + j] = s;
            inv[j * n + i] = s;
        }
    }
    inv
}

/// The upper factor `U` of `H⁻¹ = UᵀU` for the damped `h`, with the columns `dead` (`H_ii = 0`);
/// damping grows tenfold (at most four times) until `H` is positive definite.
fn inverse_factor(h: &[f64], n: usize) -> Result<(Vec<f64>, Vec<bool>), String> {
    let mut h = h.to_vec();
    let dead: Vec<bool> = (0..n).map(|i| h[i * n + i] == 0.0).collect();
    for i in 0..n {
        if dead[i] {
            h[i * n + i] = 1.0;
        }
    }
    let mean = (0..n).map(|i| h[i * n + i]).sum::<f64>() / n as f64;
    let mut damp = DAMP;
    for _ in 0..5 {
        let mut damped = h.clone();
        for i in 0..n {
            damped[i * n + i] += damp * mean;
        }
        if let Some(l) = cholesky(&damped, n) {
            let inv = inverse_from_cholesky(&l, n);
            if let Some(l2) = cholesky(&inv, n) {
                // U = L2ᵀ.
                let mut u = vec![0.0; n * n];
                for i in 0..n {
                    for j in i..n {
                        u[i * n + j] = l2[j * n + i];
                    }
                }
                return Ok((u, dead));
            }
        }
        damp *= 10.0;
    }
    Err("GPTQ: the calibration Hessian is not positive definite even with damping".into())
}

/// GPTQ of the row-major `rows × cols` weight `w` to `format` (a block format) with the
/// Hessian `h` (`cols × cols`).
pub fn gptq(format: Format, w: &[f32], rows: usize, cols: usize, h: &[f64]) -> Result<Quantized, String> {
    assert!(format != Format::F32 && cols % GROUP == 0 && h.len() == cols * cols);
    let (u, dead) = inverse_factor(h, cols)?;
    let mut work: Vec<f64> = w.iter().map(|&x| x as f64).collect();
    for r in 0..rows {
        for (c, &d) in dead.iter().enumerate() {
            if d {
                work[r * cols + c] = 0.0;
            }
        }
    }
    let groups = cols / GROUP;
    let mut blocks = vec![(BlockParams { d: 0.0, m: 0.0 }, [0i8; GROUP]); rows * groups];
    let mut values = vec![0f32; rows * cols];
    let mut group_buf = [0f32; GROUP];
    for i in 0..cols {
        let (g, j) = (i / GROUP, i % GROUP);
        let uii = u[i * cols + i];
        let urow = &u[i * cols..(i + 1) * cols];
        for r in 0..rows {
            let row = &mut work[r * cols..(r + 1) * cols];
            if j == 0 {
                for (b, x) in group_buf.iter_mut().zip(&row[i..i + GROUP]) {
                    *b = *x as f32;
                }
                blocks[r * groups + g].0 = BlockParams::fit(format, &group_buf);
            }
            let block = &mut blocks[r * groups + g];
            let q = block.0.code(format, row[i] as f32);
            block.1[j] = q as i8;
            let value = block.0.value(format, q);
            values[r * cols + i] = value;
            let err = (row[i] - value as f64) / uii;
            for (x, &uij) in row[i + 1..].iter_mut().zip(&urow[i + 1..]) {
                *x -= err * uij;
            }
        }
    }
    Ok(Quantized { format, rows, cols, values, blocks })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cholesky_inverse_round_trips() {
        let a = [4.0, 2.0, 0.6, 2.0, 5.0, 1.0, 0.6, 1.0, 3.0];
        let l = cholesky(&a, 3).unwrap();
        let inv = inverse_from_cholesky(&l, 3);
        for i in 0..3 {
            for j in 0..3 {
                let s: f64 = (0..3).map(|k| a[i * 3 + k] * inv[k * 3 + j]).sum();
                assert!((s - if i == j { 1.0 } else { 0.0 }).abs() < 1e-12, "{i},{j}: {s}");
            }
        }
        assert!(cholesky(&[1.0, 2.0, 2.0, 1.0], 2).is_none());
    }
}
