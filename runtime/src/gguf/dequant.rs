//! ggml's tensor types and their dequantisation to f32, block for block as ggml's
//! `dequantize_row_*` (ggml-quants.c) computes it:
//!
//! | type | elements / block | bytes / block | layout |
//! |---|---|---|---|
//! | F32, F16, BF16 | 1 | 4, 2, 2 | plain |
//! | Q8_0 | 32 | 34 | `d: f16`, `qs: [i8; 32]`; `x = d·q` |
//! | Q4_0 | 32 | 18 | `d: f16`, `qs: [u8; 16]` (low nibbles: 0..16, high: 16..32); `x = d·(q−8)` |
//! | Q4_1 | 32 | 20 | `d, m: f16`, `qs: [u8; 16]`; `x = d·q + m` |
//! | Q4_K | 256 | 144 | `d, dmin: f16`, 12 bytes of 6-bit scales and mins, `qs: [u8; 128]`; 8 sub-blocks of 32: `x = d·sc·q − dmin·m` |
//! | Q6_K | 256 | 210 | `ql: [u8; 128]`, `qh: [u8; 64]`, `scales: [i8; 16]`, `d: f16`; `x = d·sc·(q−32)` |
//!
//! Other ggml types are recognised in the tensor table (so their sizes are checked) but
//! dequantising one is an error naming it.

/// A ggml tensor type (the `type` of a GGUF tensor info).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum GgmlType {
    /// 0.
    F32,
    /// 1.
    F16,
    /// 2.
    Q4_0,
    /// 3.
    Q4_1,
    /// 8.
    Q8_0,
    /// 12.
    Q4K,
    /// 14.
    Q6K,
    /// 30.
    BF16,
    /// A type agentc knows the size of but cannot dequantise: (id, name, elements per
    /// block, bytes per block).
    Other(u32, &'static str, u64, u64),
}

/// ggml types agentc does not dequantise: id, name, block elements, block bytes (ggml.c's
/// type traits).
const OTHERS: &[(u32, &str, u64, u64)] = &[
    (6, "Q5_0", 32, 22),
    (7, "Q5_1", 32, 24),
    (9, "Q8_1", 32, 36),
    (10, "Q2_K", 256, 84),
    (11, "Q3_K", 256, 110),
    (13, "Q5_K", 256, 176),
    (15, "Q8_K", 256, 292),
    (16, "IQ2_XXS", 256, 66),
    (17, "IQ2_XS", 256, 74),
    (18, "IQ3_XXS", 256, 98),
    (19, "IQ1_S", 256, 50),
    (20, "IQ4_NL", 32, 18),
    (21, "IQ3_S", 256, 110),
    (22, "IQ2_S", 256, 82),
    (23, "IQ4_XS", 256, 136),
    (24, "I8", 1, 1),
    (25, "I16", 1, 2),
    (26, "I32", 1, 4),
    (27, "I64", 1, 8),
    (28, "F64", 1, 8),
    (29, "IQ1_M", 256, 56),
];

impl GgmlType {
    /// The type of ggml id `id`, if ggml defines it.
    pub fn from_id(id: u32) -> Option<GgmlType> {
        Some(match id {
            0 => GgmlType::F32,
            1 => GgmlType::F16,
            2 => GgmlType::Q4_0,
            3 => GgmlType::Q4_1,
            8 => GgmlType::Q8_0,
            12 => GgmlType::Q4K,
            14 => GgmlType::Q6K,
            30 => GgmlType::BF16,
            _ => {
                let &(id, name, block, bytes) = OTHERS.iter().find(|o| o.0 == id)?;
                GgmlType::Other(id, name, block, bytes)
            }
        })
    }

    /// The type ggml names `name` (`Q4_K`), if it defines one.
    pub fn from_name(name: &str) -> Option<GgmlType> {
        (0..64).filter_map(GgmlType::from_id).find(|t| t.name() == name)
    }

    /// Stored bits per element (Q8_0 8.5, Q4_1 5.0, Q4_K 4.5, Q6_K 6.5625, F16 16).
    pub fn bits_per_weight(self) -> f64 {
        let (block, bytes) = self.block();
        (bytes * 8) as f64 / block as f64
    }

    /// ggml's name of the type (`Q4_K`).
    pub fn name(self) -> &'static str {
        match self {
            GgmlType::F32 => "F32",
            GgmlType::F16 => "F16",
            GgmlType::Q4_0 => "Q4_0",
            GgmlType::Q4_1 => "Q4_1",
            GgmlType::Q8_0 => "Q8_0",
            GgmlType::Q4K => "Q4_K",
            GgmlType::Q6K => "Q6_K",
            GgmlType::BF16 => "BF16",
            GgmlType::Other(_, name, _, _) => name,
        }
    }

    /// (elements per block, bytes per block).
    pub fn block(self) -> (u64, u64) {
        match self {
            GgmlType::F32 => (1, 4),
            GgmlType::F16 | GgmlType::BF16 => (1, 2),
            GgmlType::Q4_0 => (32, 18),
            GgmlType::Q4_1 => (32, 20),
            GgmlType::Q8_0 => (32, 34),
            GgmlType::Q4K => (256, 144),
            GgmlType::Q6K => (256, 210),
            GgmlType::Other(_, _, block, bytes) => (block, bytes),
        }
    }

    /// The bytes of a tensor of this type with ggml dimensions `dims` (innermost first).
    /// Errors: the innermost dimension is not a whole number of blocks, or the size
    /// overflows.
    pub fn byte_size(self, dims: &[u64]) -> Result<u64, String> {
        let (block, bytes) = self.block();
        let inner = dims.first().copied().unwrap_or(1);
        if inner % block != 0 {
            return Err(format!("{} rows of {inner} elements are not a multiple of the block size {block}", self.name()));
        }
        dims.iter()
            .skip(1)
            .try_fold((inner / block).checked_mul(bytes), |acc, &d| Some(acc?.checked_mul(d)))
            .flatten()
            .ok_or_else(|| format!("dimensions {dims:?} overflow the size of a file"))
    }
}

/// IEEE half to f32 (exact: every f16 is an f32).
pub fn f16_to_f32(h: u16) -> f32 {
    let sign = u32::from(h >> 15) << 31;
    let exponent = u32::from((h >> 10) & 0x1f);
    let mantissa = u32::from(h & 0x3ff);
    let bits = match (exponent, mantissa) {
        (0, 0) => sign,
        (0, m) => {
            // Subnormal: normalise the mantissa.
            let shift = m.leading_zeros() - 21;
            let m = (m << shift) & 0x3ff;
            sign | ((127 - 15 + 1 - shift) << 23) | (m << 13)
        }
        (0x1f, m) => sign | (0xff << 23) | (m << 13),
        (e, m) => sign | ((e + 127 - 15) << 23) | (m << 13),
    };
    f32::from_bits(bits)
}

fn f16_at(bytes: &[u8], at: usize) -> f32 {
    f16_to_f32(u16::from_le_bytes([bytes[at], bytes[at + 1]]))
}

/// Dequantises `elements` elements of type `ty` from `bytes` (exactly their size).
pub fn dequantize(ty: GgmlType, bytes: &[u8], elements: usize) -> Result<Vec<f32>, String> {
    let (block, block_bytes) = ty.block();
    let (block, block_bytes) = (block as usize, block_bytes as usize);
    if elements % block != 0 || bytes.len() != elements / block * block_bytes {
        return Err(format!("{} bytes do not hold {elements} {} elements", bytes.len(), ty.name()));
    }
    let mut out = Vec::with_capacity(elements);
    let blocks = bytes.chunks_exact(block_bytes);
    match ty {
        GgmlType::F32 => out.extend(blocks.map(|b| f32::from_le_bytes([b[0], b[1], b[2], b[3]]))),
        GgmlType::F16 => out.extend(blocks.map(|b| f16_at(b, 0))),
        GgmlType::BF16 => out.extend(blocks.map(|b| f32::from_bits(u32::from(u16::from_le_bytes([b[0], b[1]])) << 16))),
        GgmlType::Q8_0 => {
            for b in blocks {
                let d = f16_at(b, 0);
                out.extend(b[2..34].iter().map(|&q| d * f32::from(q as i8)));
            }
        }
        GgmlType::Q4_0 => {
            for b in blocks {
                let d = f16_at(b, 0);
                let qs = &b[2..18];
                out.extend(qs.iter().map(|&q| d * (f32::from(q & 0xf) - 8.0)));
                out.extend(qs.iter().map(|&q| d * (f32::from(q >> 4) - 8.0)));
            }
        }
        GgmlType::Q4_1 => {
            for b in blocks {
                let (d, m) = (f16_at(b, 0), f16_at(b, 2));
                let qs = &b[4..20];
                out.extend(qs.iter().map(|&q| d * f32::from(q & 0xf) + m));
                out.extend(qs.iter().map(|&q| d * f32::from(q >> 4) + m));
            }
        }
        GgmlType::Q4K => {
            for b in blocks {
                let (d, dmin) = (f16_at(b, 0), f16_at(b, 2));
                let scales = &b[4..16];
                let qs = &b[16..144];
                for (j, q) in qs.chunks_exact(32).enumerate() {
                    let (sc1, m1) = scale_min_k4(2 * j, scales);
                    let (sc2, m2) = scale_min_k4(2 * j + 1, scales);
                    let (d1, m1) = (d * f32::from(sc1), dmin * f32::from(m1));
                    let (d2, m2) = (d * f32::from(sc2), dmin * f32::from(m2));
                    out.extend(q.iter().map(|&v| d1 * f32::from(v & 0xf) - m1));
                    out.extend(q.iter().map(|&v| d2 * f32::from(v >> 4) - m2));
                }
            }
        }
        GgmlType::Q6K => {
            for b in blocks {
                let d = f16_at(b, 208);
                for half in 0..2 {
                    let ql = &b[64 * half..64 * half + 64];
                    let qh = &b[128 + 32 * half..128 + 32 * half + 32];
                    let sc = &b[192 + 8 * half..192 + 8 * half + 8];
                    let mut y = [0f32; 128];
                    for l in 0..32 {
                        let is = l / 16;
                        let q1 = i32::from((ql[l] & 0xf) | ((qh[l] & 3) << 4)) - 32;
                        let q2 = i32::from((ql[l + 32] & 0xf) | (((qh[l] >> 2) & 3) << 4)) - 32;
                        let q3 = i32::from((ql[l] >> 4) | (((qh[l] >> 4) & 3) << 4)) - 32;
                        let q4 = i32::from((ql[l + 32] >> 4) | (((qh[l] >> 6) & 3) << 4)) - 32;
                        let s = |k: usize| d * f32::from(sc[is + k] as i8);
                        y[l] = s(0) * q1 as f32;
                        y[l + 32] = s(2) * q2 as f32;
                        y[l + 64] = s(4) * q3 as f32;
                        y[l + 96] = s(6) * q4 as f32;
                    }
                    out.extend(y);
                }
            }
        }
        GgmlType::Other(_, name, _, _) => {
            return Err(format!("ggml type {name} cannot be dequantised by agentc (it reads F32, F16, BF16, Q8_0, Q4_0, Q4_1, Q4_K, Q6_K)"));
        }
    }
    Ok(out)
}

/// The 6-bit scale and min of sub-block `j` of a Q4_K block (ggml's `get_scale_min_k4`).
pub(crate) fn scale_min_k4(j: usize, q: &[u8]) -> (u8, u8) {
    if j < 4 {
        (q[j] & 63, q[j + 4] & 63)
    } else {
        ((q[j + 4] & 0xf) | ((q[j - 4] >> 6) << 4), (q[j + 4] >> 4) | ((q[j] >> 6) << 4))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Random blocks of every type and the python `gguf` package's dequantisation of them
    /// (`gguf.quants.dequantize`), made once by tools/gguf_reference.py.
    #[test]
    fn every_type_matches_the_gguf_package() {
        let text = include_str!("testdata/dequant.json");
        let json: serde_json::Value = serde_json::from_str(text).unwrap();
        let mut seen = Vec::new();
        for case in json["cases"].as_array().unwrap() {
            let name = case["type"].as_str().unwrap();
            let ty = (0..64).filter_map(GgmlType::from_id).find(|t| t.name() == name).unwrap();
            let hex = case["bytes"].as_str().unwrap();
            let bytes: Vec<u8> = (0..hex.len()).step_by(2).map(|i| u8::from_str_radix(&hex[i..i + 2], 16).unwrap()).collect();
            let want: Vec<f32> = case["values"].as_array().unwrap().iter().map(|v| v.as_f64().unwrap() as f32).collect();
            let got = dequantize(ty, &bytes, want.len()).unwrap();
            for (i, (g, w)) in got.iter().zip(&want).enumerate() {
                // numpy may round d·sc·q in another order: one f32 ulp of the scale's size.
                let tol = w.abs().max(1e-3) * 2e-7;
                assert!((g - w).abs() <= tol, "{name}[{i}]: got {g}, want {w}");
            }
            seen.push(name.to_string());
        }
        for name in ["F32", "F16", "BF16", "Q8_0", "Q4_0", "Q4_1", "Q4_K", "Q6_K"] {
            assert!(seen.iter().any(|s| s == name), "no test vector for {name}");
        }
    }

    #[test]
    fn half_floats() {
        assert_eq!(f16_to_f32(0x3c00), 1.0);
        assert_eq!(f16_to_f32(0xc000), -2.0);
        assert_eq!(f16_to_f32(0x0001), 2f32.powi(-24));
        assert_eq!(f16_to_f32(0x03ff), 1023.0 * 2f32.powi(-24));
        assert_eq!(f16_to_f32(0x7c00), f32::INFINITY);
        assert!(f16_to_f32(0x7e00).is_nan());
        assert_eq!(f16_to_f32(0x8000).to_bits(), (-0.0f32).to_bits());
    }

    #[test]
    fn sizes_and_unsupported_types() {
        assert_eq!(GgmlType::Q4K.byte_size(&[512, 3]).unwrap(), 2 * 144 * 3);
        assert!(GgmlType::Q4_0.byte_size(&[33]).unwrap_err().contains("not a multiple of the block size 32"));
        assert!(GgmlType::F32.byte_size(&[u64::MAX, 2]).unwrap_err().contains("overflow"));
        let q5 = GgmlType::from_id(13).unwrap();
        assert!(dequantize(q5, &[0; 176], 256).unwrap_err().contains("Q5_K cannot be dequantised"));
        assert!(dequantize(GgmlType::Q8_0, &[0; 33], 32).unwrap_err().contains("do not hold"));
        assert_eq!(GgmlType::from_id(99), None);
        assert_eq!(GgmlType::from_name("Q4_K"), Some(GgmlType::Q4K));
        let bits: Vec<f64> = ["Q8_0", "Q4_0", "Q4_1", "Q4_K", "Q6_K", "BF16"].iter().map(|n| GgmlType::from_name(n).unwrap().bits_per_weight()).collect();
        assert_eq!(bits, [8.5, 4.5, 5.0, 4.5, 6.5625, 16.0]);
    }
}
