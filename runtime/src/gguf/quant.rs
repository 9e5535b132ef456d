//! ggml's quantised blocks repacked into the planar arrays agentc's weight-only quantised
//! kernels read (compiler/src/conversion/tensor_to_kernel/quantized.rs), so that a GGUF model
//! computes from its quantised weights: resident memory is about the quantised size, not f32.
//!
//! Two kernel forms ([`Scheme`]), each exact for the ggml types that map to it (the value a
//! kernel computes for an element is bit for bit [`super::dequant::dequantize`]'s, as the
//! `gguf` python package computes it):
//!
//! | scheme | arrays of a `[N, K]` weight | value | from |
//! |---|---|---|---|
//! | `int8_g32` | `q: i8 [N, K/32, 32]`, `scale: f32 [N, K/32]` | `q·scale` | Q8_0 (`scale = d`) |
//! | `int8_g16` | `q: i8 [N, K/16, 16]`, `scale: f32 [N, K/16]` | `q·scale` | Q6_K (`q − 32`, `scale = d·sc`) |
//! | `int4s_g32` | `q: u8 [N, K/32, 16]`, `scale: f32 [N, K/32]` | `(q − 8)·scale` | Q4_0 (`d`) |
//! | `int4_g32` | `q: u8 [N, K/32, 16]`, `scale, min: f32 [N, K/32]` | `q·scale + min` | Q4_1 (`d`, `m`), Q4_K (`d·sc`, `−dmin·m`) |
//!
//! Q4_0 has no min of its own (its offset is 8 for every block), so its form carries none:
//! 20 bytes per 32 weights instead of 24 (ggml's block is 18), and the int8-activation
//! kernel folds the offset into its integer sums.
//! In `int4_g32` and `int4s_g32`, byte `j` of a group holds element `j` in its low nibble and element
//! `j + 16` in its high nibble (ggml's Q4_0/Q4_1 order; Q4_K's nibbles are reordered).
//! Products of an f16 scale and a small integer are exact in f32, so `q·scale + min` rounds
//! once where ggml's formula rounds once: the values are identical.

use super::dequant::{f16_to_f32, GgmlType};

/// A weight-only quantised kernel form.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scheme {
    /// Signed 8-bit values, one f32 scale per `group` elements along K.
    Int8 {
        /// Elements per scale (32 or 16).
        group: usize,
    },
    /// Unsigned 4-bit values, two per byte, an f32 scale and min per 32 elements along K.
    Int4,
    /// Unsigned 4-bit values, two per byte, offset by 8 (`q − 8` in −8..7), an f32 scale per
    /// 32 elements along K and no min.
    Int4Sym,
}

impl Scheme {
    /// The kernel form of a ggml type, if agentc computes from that type's blocks.
    pub fn of(ty: GgmlType) -> Option<Scheme> {
        Some(match ty {
            GgmlType::Q8_0 => Scheme::Int8 { group: 32 },
            GgmlType::Q6K => Scheme::Int8 { group: 16 },
            GgmlType::Q4_0 => Scheme::Int4Sym,
            GgmlType::Q4_1 | GgmlType::Q4K => Scheme::Int4,
            _ => return None,
        })
    }

    /// The name the tensor level writes (`tgraph.quant`): `int8_g32`, `int8_g16`, `int4_g32`,
    /// `int4s_g32`.
    pub fn name(self) -> String {
        match self {
            Scheme::Int8 { group } => format!("int8_g{group}"),
            Scheme::Int4 => "int4_g32".into(),
            Scheme::Int4Sym => "int4s_g32".into(),
        }
    }

    /// The scheme a name written by [`Scheme::name`] stands for.
    pub fn parse(name: &str) -> Option<Scheme> {
        match name {
            "int8_g32" => Some(Scheme::Int8 { group: 32 }),
            "int8_g16" => Some(Scheme::Int8 { group: 16 }),
            "int4_g32" => Some(Scheme::Int4),
            "int4s_g32" => Some(Scheme::Int4Sym),
            _ => None,
        }
    }

    /// Elements per scale.
    pub fn group(self) -> usize {
        match self {
            Scheme::Int8 { group } => group,
            Scheme::Int4 | Scheme::Int4Sym => 32,
        }
    }

    /// Whether the values are 4-bit, two per byte.
    pub fn is_int4(self) -> bool {
        matches!(self, Scheme::Int4 | Scheme::Int4Sym)
    }

    /// The kernel arguments of a `[rows, cols]` weight under this scheme: (suffix, dtype as
    /// safetensors spells it, shape). The argument of weight `W` is named `W` + suffix.
    pub fn arrays(self, rows: usize, cols: usize) -> Vec<(&'static str, &'static str, Vec<usize>)> {
        let g = self.group();
        let groups = cols / g;
        match self {
            Scheme::Int8 { .. } => vec![(QUANTS, "I8", vec![rows, groups, g]), (SCALES, "F32", vec![rows, groups])],
            Scheme::Int4 => vec![(QUANTS, "U8", vec![rows, groups, 16]), (SCALES, "F32", vec![rows, groups]), (MINS, "F32", vec![rows, groups])],
            Scheme::Int4Sym => vec![(QUANTS, "U8", vec![rows, groups, 16]), (SCALES, "F32", vec![rows, groups])],
        }
    }
}

/// The suffix of a quantised weight's values argument.
pub const QUANTS: &str = "#q";
/// The suffix of its scales argument.
pub const SCALES: &str = "#scale";
/// The suffix of its mins argument (`int4_g32`).
pub const MINS: &str = "#min";

/// A `[rows, cols]` weight in a [`Scheme`]'s planar arrays, row-major.
#[derive(Debug, Clone, PartialEq)]
pub struct Planar {
    /// The form.
    pub scheme: Scheme,
    /// The values: one byte each (`Int8`) or two per byte (`Int4`, `Int4Sym`).
    pub quants: Vec<u8>,
    /// One scale per group.
    pub scales: Vec<f32>,
    /// One min per group (`Int4`; empty for `Int8`).
    pub mins: Vec<f32>,
}

impl Planar {
    /// The f32 value of element `i` (row-major), as a kernel computes it.
    pub fn value(&self, i: usize) -> f32 {
        let g = self.scheme.group();
        match self.scheme {
            Scheme::Int8 { .. } => f32::from(self.quants[i] as i8) * self.scales[i / g],
            Scheme::Int4 | Scheme::Int4Sym => {
                let (group, j) = (i / 32, i % 32);
                let byte = self.quants[group * 16 + j % 16];
                let q = if j < 16 { byte & 0xf } else { byte >> 4 };
                if self.scheme == Scheme::Int4Sym {
                    (f32::from(q) - 8.0) * self.scales[group]
                } else {
                    f32::from(q) * self.scales[group] + self.mins[group]
                }
            }
        }
    }

    /// Reorders whole rows: row `to` of the result is row `from[to]` of `self` (`cols`
    /// elements per row).
    pub fn permute_rows(&self, cols: usize, from: &[usize]) -> Planar {
        let groups = cols / self.scheme.group();
        let qrow = if self.scheme.is_int4() { cols / 2 } else { cols };
        let pick = |data: &[f32], per: usize| from.iter().flat_map(|&r| data[r * per..(r + 1) * per].iter().copied()).collect();
        Planar {
            scheme: self.scheme,
            quants: from.iter().flat_map(|&r| self.quants[r * qrow..(r + 1) * qrow].iter().copied()).collect(),
            scales: pick(&self.scales, groups),
            mins: if self.mins.is_empty() { Vec::new() } else { pick(&self.mins, groups) },
        }
    }
}

fn f16_at(b: &[u8], at: usize) -> f32 {
    f16_to_f32(u16::from_le_bytes([b[at], b[at + 1]]))
}

/// Packs 32 values 0..16 into 16 bytes: byte j = v[j] | v[j + 16] << 4.
fn pack_nibbles(values: &[u8; 32], out: &mut Vec<u8>) {
    out.extend((0..16).map(|j| values[j] | (values[j + 16] << 4)));
}

/// Repacks `elements` elements of type `ty` (the tensor's `bytes`, exactly their size) into
/// their scheme's planar arrays. Errors: a type with no scheme, bytes that do not hold the
/// elements.
pub fn repack(ty: GgmlType, bytes: &[u8], elements: usize) -> Result<Planar, String> {
    let scheme = Scheme::of(ty).ok_or_else(|| format!("ggml type {} has no quantised kernel in agentc", ty.name()))?;
    let (block, block_bytes) = ty.block();
    let (block, block_bytes) = (block as usize, block_bytes as usize);
    if elements % block != 0 || bytes.len() != elements / block * block_bytes {
        return Err(format!("{} bytes do not hold {elements} {} elements", bytes.len(), ty.name()));
    }
    let groups = elements / scheme.group();
    let mut p = Planar {
        scheme,
        quants: Vec::with_capacity(if scheme.is_int4() { elements / 2 } else { elements }),
        scales: Vec::with_capacity(groups),
        mins: Vec::with_capacity(if scheme == Scheme::Int4 { groups } else { 0 }),
    };
    let blocks = bytes.chunks_exact(block_bytes);
    match ty {
        GgmlType::Q8_0 => {
            for b in blocks {
                p.scales.push(f16_at(b, 0));
                p.quants.extend_from_slice(&b[2..34]);
            }
        }
        GgmlType::Q4_0 => {
            for b in blocks {
                p.scales.push(f16_at(b, 0));
                p.quants.extend_from_slice(&b[2..18]);
            }
        }
        GgmlType::Q4_1 => {
            for b in blocks {
                p.scales.push(f16_at(b, 0));
                p.mins.push(f16_at(b, 2));
                p.quants.extend_from_slice(&b[4..20]);
            }
        }
        GgmlType::Q4K => {
            for b in blocks {
                let (d, dmin) = (f16_at(b, 0), f16_at(b, 2));
                let scales = &b[4..16];
                let qs = &b[16..144];
                for (c, q) in qs.chunks_exact(32).enumerate() {
                    for (sub, shift) in [(2 * c, 0), (2 * c + 1, 4)] {
                        let (sc, m) = super::dequant::scale_min_k4(sub, scales);
                        p.scales.push(d * f32::from(sc));
                        p.mins.push(-(dmin * f32::from(m)));
                        let mut values = [0u8; 32];
                        for (v, byte) in values.iter_mut().zip(q) {
                            *v = (byte >> shift) & 0xf;
                        }
                        pack_nibbles(&values, &mut p.quants);
                    }
                }
            }
        }
        GgmlType::Q6K => {
            for b in blocks {
                let d = f16_at(b, 208);
                let mut values = [0i8; 256];
                for half in 0..2 {
                    let ql = &b[64 * half..64 * half + 64];
                    let qh = &b[128 + 32 * half..128 + 32 * half + 32];
                    for l in 0..32 {
                        let at = 128 * half + l;
                        values[at] = ((ql[l] & 0xf) | ((qh[l] & 3) << 4)) as i8 - 32;
                        values[at + 32] = ((ql[l + 32] & 0xf) | (((qh[l] >> 2) & 3) << 4)) as i8 - 32;
                        values[at + 64] = ((ql[l] >> 4) | (((qh[l] >> 4) & 3) << 4)) as i8 - 32;
                        values[at + 96] = ((ql[l + 32] >> 4) | (((qh[l] >> 6) & 3) << 4)) as i8 - 32;
                    }
                }
                // Scale k covers elements 16k..16k+16 of the block.
                p.scales.extend(b[192..208].iter().map(|&sc| d * f32::from(sc as i8)));
                p.quants.extend(values.iter().map(|&v| v as u8));
            }
        }
        _ => unreachable!("Scheme::of accepted {}", ty.name()),
    }
    Ok(p)
}

#[cfg(test)]
mod tests {
    use super::super::dequant::dequantize;
    use super::*;

    fn vectors() -> Vec<(GgmlType, Vec<u8>, usize)> {
        let json: serde_json::Value = serde_json::from_str(include_str!("testdata/dequant.json")).unwrap();
        json["cases"]
            .as_array()
            .unwrap()
            .iter()
            .filter_map(|case| {
                let name = case["type"].as_str().unwrap();
                let ty = (0..64).filter_map(GgmlType::from_id).find(|t| t.name() == name)?;
                Scheme::of(ty)?;
                let hex = case["bytes"].as_str().unwrap();
                let bytes = (0..hex.len()).step_by(2).map(|i| u8::from_str_radix(&hex[i..i + 2], 16).unwrap()).collect();
                Some((ty, bytes, case["values"].as_array().unwrap().len()))
            })
            .collect()
    }

    /// Every element the planar arrays give is bit for bit the dequantised one, for every
    /// quantised type with test vectors (the `gguf` package's, tools/gguf_reference.py).
    #[test]
    fn planar_values_are_the_dequantised_values_exactly() {
        let cases = vectors();
        for name in ["Q8_0", "Q4_0", "Q4_1", "Q4_K", "Q6_K"] {
            assert!(cases.iter().any(|(t, _, _)| t.name() == name), "no test vector for {name}");
        }
        for (ty, bytes, n) in cases {
            let want = dequantize(ty, &bytes, n).unwrap();
            let planar = repack(ty, &bytes, n).unwrap();
            assert_eq!(planar.quants.len(), if planar.scheme.is_int4() { n / 2 } else { n });
            assert_eq!(planar.mins.len(), if planar.scheme == Scheme::Int4 { n / 32 } else { 0 });
            for (i, w) in want.iter().enumerate() {
                assert_eq!(planar.value(i).to_bits(), w.to_bits(), "{}[{i}]: {} vs {w}", ty.name(), planar.value(i));
            }
        }
    }

    #[test]
    fn rows_permute_with_their_scales() {
        let (ty, bytes, n) = vectors().into_iter().find(|(t, _, n)| *t == GgmlType::Q4_1 && *n >= 64).unwrap();
        let planar = repack(ty, &bytes[..bytes.len() / (n / 32) * 2], 64).unwrap();
        let swapped = planar.permute_rows(32, &[1, 0]);
        for i in 0..32 {
            assert_eq!(swapped.value(i), planar.value(32 + i));
            assert_eq!(swapped.value(32 + i), planar.value(i));
        }
    }

    #[test]
    fn names_and_arrays() {
        for s in [Scheme::Int8 { group: 32 }, Scheme::Int8 { group: 16 }, Scheme::Int4, Scheme::Int4Sym] {
            assert_eq!(Scheme::parse(&s.name()), Some(s));
        }
        assert_eq!(Scheme::Int4.arrays(4, 64)[0], ("#q", "U8", vec![4, 2, 16]));
        assert_eq!(Scheme::Int4Sym.arrays(4, 64).len(), 2);
        assert_eq!(Scheme::of(GgmlType::Q4_0), Some(Scheme::Int4Sym));
        assert_eq!(Scheme::Int8 { group: 16 }.arrays(4, 64)[1], ("#scale", "F32", vec![4, 4]));
        assert!(repack(GgmlType::F32, &[0; 4], 1).unwrap_err().contains("no quantised kernel"));
    }
}
