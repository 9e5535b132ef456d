//! ggml's quantised blocks repacked into the planar arrays agentc's weight-only quantised
//! kernels read (compiler/src/conversion/tensor_to_kernel/quantized.rs), so that a GGUF model
//! computes from its quantised weights: resident memory is about the quantised size, not f32.
//!
//! Three kernel forms ([`Scheme`]), each with f16 or f32 scales and mins ([`ScaleType`]; the
//! name of an f16 form ends in `h`), each exact for the ggml types that map to it (the value
//! a kernel computes for an element is bit for bit [`super::dequant::dequantize`]'s, as the
//! `gguf` python package computes it):
//!
//! | scheme | arrays of a `[N, K]` weight | value | from | bytes / 32 weights |
//! |---|---|---|---|---|
//! | `int8_g32h` | `q: i8 [N, K/32, 32]`, `scale: f16 [N, K/32]` | `q·scale` | Q8_0 (`scale = d`) | 34 (ggml 34) |
//! | `int8_g16` | `q: i8 [N, K/16, 16]`, `scale: f32 [N, K/16]` | `q·scale` | Q6_K (`q − 32`, `scale = d·sc`) | 40 (ggml 26.25) |
//! | `int4s_g32h` | `q: u8 [N, K/32, 16]`, `scale: f16 [N, K/32]` | `(q − 8)·scale` | Q4_0 (`d`) | 18 (ggml 18) |
//! | `int4_g32h` | `q: u8 [N, K/32, 16]`, `scale, min: f16 [N, K/32]` | `q·scale + min` | Q4_1 (`d`, `m`) | 20 (ggml 20) |
//! | `int4_g32` | `q: u8 [N, K/32, 16]`, `scale, min: f32 [N, K/32]` | `q·scale + min` | Q4_K (`d·sc`, `−dmin·m`) | 24 (ggml 18) |
//!
//! An f16 scale or min is the block's f16 exactly as the file stores it (its bits copied);
//! the kernels widen it to f32 in registers (`arith.extf`, exact). Q6_K's and Q4_K's
//! scales and mins are products of two stored numbers, not exact in f16, so they are f32.
//! The f32 forms of Q8_0's and Q4_0's kind (`int8_g32`, `int4s_g32`) and the f16 one of
//! Q6_K's (`int8_g16h`) are valid forms that no ggml type maps to.
//!
//! Q4_0 has no min of its own (its offset is 8 for every block), so its form carries none,
//! and the int8-activation kernel folds the offset into its integer sums.
//! In `int4_g32(h)` and `int4s_g32(h)`, byte `j` of a group holds element `j` in its low nibble and element
//! `j + 16` in its high nibble (ggml's Q4_0/Q4_1 order; Q4_K's nibbles are reordered).
//! Products of an f16 scale and a small integer are exact in f32, so `q·scale + min` rounds
//! once where ggml's formula rounds once: the values are identical.

use super::dequant::{f16_to_f32, GgmlType};

/// The float type of a form's scales and mins.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ScaleType {
    /// IEEE half precision, the bits GGUF stores (Q8_0, Q4_0, Q4_1).
    F16,
    /// Single precision (products that f16 cannot hold exactly: Q6_K, Q4_K).
    F32,
}

impl ScaleType {
    /// The dtype as safetensors spells it (`F16`, `F32`).
    pub fn dtype(self) -> &'static str {
        match self {
            ScaleType::F16 => "F16",
            ScaleType::F32 => "F32",
        }
    }

    /// The element type as MLIR spells it (`f16`, `f32`).
    pub fn mlir(self) -> &'static str {
        match self {
            ScaleType::F16 => "f16",
            ScaleType::F32 => "f32",
        }
    }

    /// Bytes per scale or min.
    pub fn bytes(self) -> usize {
        match self {
            ScaleType::F16 => 2,
            ScaleType::F32 => 4,
        }
    }
}

/// A weight-only quantised kernel form.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scheme {
    /// Signed 8-bit values, one scale per `group` elements along K.
    Int8 {
        /// Elements per scale (32 or 16).
        group: usize,
        /// The scales' float type.
        scales: ScaleType,
    },
    /// Unsigned 4-bit values, two per byte, a scale and min per 32 elements along K.
    Int4 {
        /// The scales' and mins' float type.
        scales: ScaleType,
    },
    /// Unsigned 4-bit values, two per byte, offset by 8 (`q − 8` in −8..7), a scale per
    /// 32 elements along K and no min.
    Int4Sym {
        /// The scales' float type.
        scales: ScaleType,
    },
}

impl Scheme {
    /// Every form, in the order of the module's table (f16 before f32 of each kind).
    pub const ALL: [Scheme; 8] = [
        Scheme::Int8 { group: 32, scales: ScaleType::F16 },
        Scheme::Int8 { group: 32, scales: ScaleType::F32 },
        Scheme::Int8 { group: 16, scales: ScaleType::F16 },
        Scheme::Int8 { group: 16, scales: ScaleType::F32 },
        Scheme::Int4Sym { scales: ScaleType::F16 },
        Scheme::Int4Sym { scales: ScaleType::F32 },
        Scheme::Int4 { scales: ScaleType::F16 },
        Scheme::Int4 { scales: ScaleType::F32 },
    ];

    /// The kernel form of a ggml type, if agentc computes from that type's blocks: f16
    /// scales where the type stores them so, f32 where they are products.
    pub fn of(ty: GgmlType) -> Option<Scheme> {
        Some(match ty {
            GgmlType::Q8_0 => Scheme::Int8 { group: 32, scales: ScaleType::F16 },
            GgmlType::Q6K => Scheme::Int8 { group: 16, scales: ScaleType::F32 },
            GgmlType::Q4_0 => Scheme::Int4Sym { scales: ScaleType::F16 },
            GgmlType::Q4_1 => Scheme::Int4 { scales: ScaleType::F16 },
            GgmlType::Q4K => Scheme::Int4 { scales: ScaleType::F32 },
            _ => return None,
        })
    }

    /// The name the tensor level writes (`tgraph.quant`): `int8_g32`, `int8_g16`, `int4_g32`,
    /// `int4s_g32`, followed by `h` when the scales (and mins) are f16 (`int4_g32h`).
    pub fn name(self) -> String {
        let base = match self {
            Scheme::Int8 { group, .. } => format!("int8_g{group}"),
            Scheme::Int4 { .. } => "int4_g32".into(),
            Scheme::Int4Sym { .. } => "int4s_g32".into(),
        };
        match self.scale_type() {
            ScaleType::F16 => base + "h",
            ScaleType::F32 => base,
        }
    }

    /// The scheme a name written by [`Scheme::name`] stands for.
    pub fn parse(name: &str) -> Option<Scheme> {
        Scheme::ALL.into_iter().find(|s| s.name() == name)
    }

    /// Elements per scale.
    pub fn group(self) -> usize {
        match self {
            Scheme::Int8 { group, .. } => group,
            Scheme::Int4 { .. } | Scheme::Int4Sym { .. } => 32,
        }
    }

    /// The float type of the scales (and mins).
    pub fn scale_type(self) -> ScaleType {
        match self {
            Scheme::Int8 { scales, .. } | Scheme::Int4 { scales } | Scheme::Int4Sym { scales } => scales,
        }
    }

    /// Whether the values are 4-bit, two per byte.
    pub fn is_int4(self) -> bool {
        matches!(self, Scheme::Int4 { .. } | Scheme::Int4Sym { .. })
    }

    /// Whether the form has a min per group (`int4_g32`, `int4_g32h`).
    pub fn has_mins(self) -> bool {
        matches!(self, Scheme::Int4 { .. })
    }

    /// The kernel arguments of a `[rows, cols]` weight under this scheme: (suffix, dtype as
    /// safetensors spells it, shape). The argument of weight `W` is named `W` + suffix.
    pub fn arrays(self, rows: usize, cols: usize) -> Vec<(&'static str, &'static str, Vec<usize>)> {
        let g = self.group();
        let groups = cols / g;
        let float = self.scale_type().dtype();
        let mut arrays = match self {
            Scheme::Int8 { .. } => vec![(QUANTS, "I8", vec![rows, groups, g])],
            Scheme::Int4 { .. } | Scheme::Int4Sym { .. } => vec![(QUANTS, "U8", vec![rows, groups, 16])],
        };
        arrays.push((SCALES, float, vec![rows, groups]));
        if self.has_mins() {
            arrays.push((MINS, float, vec![rows, groups]));
        }
        arrays
    }

    /// The bytes of a `[rows, cols]` weight's arrays ([`Scheme::arrays`]): what a kernel
    /// reads per pass over it.
    pub fn bytes(self, rows: usize, cols: usize) -> u64 {
        let floats = if self.has_mins() { 2 } else { 1 };
        let per_group = self.group() / if self.is_int4() { 2 } else { 1 } + floats * self.scale_type().bytes();
        (rows * (cols / self.group()) * per_group) as u64
    }
}

/// The suffix of a quantised weight's values argument.
pub const QUANTS: &str = "#q";
/// The suffix of its scales argument.
pub const SCALES: &str = "#scale";
/// The suffix of its mins argument (`int4_g32`, `int4_g32h`).
pub const MINS: &str = "#min";

/// A planar form's scales or mins, in the form's [`ScaleType`].
#[derive(Debug, Clone, PartialEq)]
pub enum Floats {
    /// f16 bit patterns, as the GGUF stores them.
    F16(Vec<u16>),
    /// f32 values.
    F32(Vec<f32>),
}

impl Floats {
    /// The f32 value of element `i` (f16 widened, exactly).
    pub fn get(&self, i: usize) -> f32 {
        match self {
            Floats::F16(v) => f16_to_f32(v[i]),
            Floats::F32(v) => v[i],
        }
    }

    /// The number of elements.
    pub fn len(&self) -> usize {
        match self {
            Floats::F16(v) => v.len(),
            Floats::F32(v) => v.len(),
        }
    }

    /// Whether there are none.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The float type of the elements.
    pub fn scale_type(&self) -> ScaleType {
        match self {
            Floats::F16(_) => ScaleType::F16,
            Floats::F32(_) => ScaleType::F32,
        }
    }

    /// The elements as little-endian bytes (what a kernel argument of this dtype binds).
    pub fn to_le_bytes(&self) -> Vec<u8> {
        match self {
            Floats::F16(v) => v.iter().flat_map(|x| x.to_le_bytes()).collect(),
            Floats::F32(v) => v.iter().flat_map(|x| x.to_le_bytes()).collect(),
        }
    }

    /// Rows `from` (in that order) of the elements seen as rows of `per`.
    fn pick_rows(&self, from: &[usize], per: usize) -> Floats {
        fn pick<T: Copy>(data: &[T], from: &[usize], per: usize) -> Vec<T> {
            from.iter().flat_map(|&r| data[r * per..(r + 1) * per].iter().copied()).collect()
        }
        match self {
            Floats::F16(v) => Floats::F16(pick(v, from, per)),
            Floats::F32(v) => Floats::F32(pick(v, from, per)),
        }
    }
}

/// A `[rows, cols]` weight in a [`Scheme`]'s planar arrays, row-major.
#[derive(Debug, Clone, PartialEq)]
pub struct Planar {
    /// The form.
    pub scheme: Scheme,
    /// The values: one byte each (`Int8`) or two per byte (`Int4`, `Int4Sym`).
    pub quants: Vec<u8>,
    /// One scale per group, in the scheme's scale type.
    pub scales: Floats,
    /// One min per group (`Int4`; empty otherwise), in the scheme's scale type.
    pub mins: Floats,
}

impl Planar {
    /// The f32 value of element `i` (row-major), as a kernel computes it.
    pub fn value(&self, i: usize) -> f32 {
        let g = self.scheme.group();
        match self.scheme {
            Scheme::Int8 { .. } => f32::from(self.quants[i] as i8) * self.scales.get(i / g),
            Scheme::Int4 { .. } | Scheme::Int4Sym { .. } => {
                let (group, j) = (i / 32, i % 32);
                let byte = self.quants[group * 16 + j % 16];
                let q = if j < 16 { byte & 0xf } else { byte >> 4 };
                if self.scheme.has_mins() {
                    f32::from(q) * self.scales.get(group) + self.mins.get(group)
                } else {
                    (f32::from(q) - 8.0) * self.scales.get(group)
                }
            }
        }
    }

    /// Reorders whole rows: row `to` of the result is row `from[to]` of `self` (`cols`
    /// elements per row).
    pub fn permute_rows(&self, cols: usize, from: &[usize]) -> Planar {
        let groups = cols / self.scheme.group();
        let qrow = if self.scheme.is_int4() { cols / 2 } else { cols };
        Planar {
            scheme: self.scheme,
            quants: from.iter().flat_map(|&r| self.quants[r * qrow..(r + 1) * qrow].iter().copied()).collect(),
            scales: self.scales.pick_rows(from, groups),
            mins: if self.mins.is_empty() { self.mins.clone() } else { self.mins.pick_rows(from, groups) },
        }
    }
}

/// The f16 bits at byte `at` of `b`.
fn f16_bits(b: &[u8], at: usize) -> u16 {
    u16::from_le_bytes([b[at], b[at + 1]])
}

fn f16_at(b: &[u8], at: usize) -> f32 {
    f16_to_f32(f16_bits(b, at))
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
    let mut quants = Vec::with_capacity(if scheme.is_int4() { elements / 2 } else { elements });
    let min_groups = if scheme.has_mins() { groups } else { 0 };
    let blocks = bytes.chunks_exact(block_bytes);
    // Q8_0, Q4_0, Q4_1: the block's f16 scale (and min) copied bit for bit, then its values.
    let mut halves = |scale_at: usize, min_at: Option<usize>, values: std::ops::Range<usize>| {
        let (mut scales, mut mins) = (Vec::with_capacity(groups), Vec::with_capacity(min_groups));
        for b in bytes.chunks_exact(block_bytes) {
            scales.push(f16_bits(b, scale_at));
            if let Some(at) = min_at {
                mins.push(f16_bits(b, at));
            }
            quants.extend_from_slice(&b[values.clone()]);
        }
        (Floats::F16(scales), Floats::F16(mins))
    };
    let (scales, mins) = match ty {
        GgmlType::Q8_0 => halves(0, None, 2..34),
        GgmlType::Q4_0 => halves(0, None, 2..18),
        GgmlType::Q4_1 => halves(0, Some(2), 4..20),
        GgmlType::Q4K => {
            let (mut scales, mut mins) = (Vec::with_capacity(groups), Vec::with_capacity(min_groups));
            for b in blocks {
                let (d, dmin) = (f16_at(b, 0), f16_at(b, 2));
                let sub_scales = &b[4..16];
                let qs = &b[16..144];
                for (c, q) in qs.chunks_exact(32).enumerate() {
                    for (sub, shift) in [(2 * c, 0), (2 * c + 1, 4)] {
                        let (sc, m) = super::dequant::scale_min_k4(sub, sub_scales);
                        scales.push(d * f32::from(sc));
                        mins.push(-(dmin * f32::from(m)));
                        let mut values = [0u8; 32];
                        for (v, byte) in values.iter_mut().zip(q) {
                            *v = (byte >> shift) & 0xf;
                        }
                        pack_nibbles(&values, &mut quants);
                    }
                }
            }
            (Floats::F32(scales), Floats::F32(mins))
        }
        GgmlType::Q6K => {
            let mut scales = Vec::with_capacity(groups);
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
                scales.extend(b[192..208].iter().map(|&sc| d * f32::from(sc as i8)));
                quants.extend(values.iter().map(|&v| v as u8));
            }
            (Floats::F32(scales), Floats::F32(Vec::new()))
        }
        _ => return Err(format!("ggml type {} has no repacking in agentc", ty.name())),
    };
    debug_assert_eq!(scales.scale_type(), scheme.scale_type());
    Ok(Planar { scheme, quants, scales, mins })
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
            assert_eq!(planar.mins.len(), if planar.scheme.has_mins() { n / 32 } else { 0 });
            assert_eq!(planar.scales.scale_type(), planar.scheme.scale_type());
            let arrays = planar.scheme.arrays(1, n);
            let stored = [planar.quants.len(), planar.scales.to_le_bytes().len(), planar.mins.to_le_bytes().len()];
            assert_eq!(stored.iter().sum::<usize>() as u64, planar.scheme.bytes(1, n), "{}", ty.name());
            assert_eq!(arrays.len(), if planar.scheme.has_mins() { 3 } else { 2 });
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
        for s in Scheme::ALL {
            assert_eq!(Scheme::parse(&s.name()), Some(s));
        }
        let names: Vec<String> = Scheme::ALL.iter().map(|s| s.name()).collect();
        assert_eq!(names, ["int8_g32h", "int8_g32", "int8_g16h", "int8_g16", "int4s_g32h", "int4s_g32", "int4_g32h", "int4_g32"]);
        assert_eq!(Scheme::parse("int4_g32f"), None);
        let half = ScaleType::F16;
        assert_eq!(Scheme::of(GgmlType::Q8_0), Some(Scheme::Int8 { group: 32, scales: half }));
        assert_eq!(Scheme::of(GgmlType::Q4_0), Some(Scheme::Int4Sym { scales: half }));
        assert_eq!(Scheme::of(GgmlType::Q4_1), Some(Scheme::Int4 { scales: half }));
        assert_eq!(Scheme::of(GgmlType::Q4K), Some(Scheme::Int4 { scales: ScaleType::F32 }));
        assert_eq!(Scheme::of(GgmlType::Q6K), Some(Scheme::Int8 { group: 16, scales: ScaleType::F32 }));
        let q4_1 = Scheme::of(GgmlType::Q4_1).unwrap();
        assert_eq!(q4_1.arrays(4, 64), [("#q", "U8", vec![4, 2, 16]), ("#scale", "F16", vec![4, 2]), ("#min", "F16", vec![4, 2])]);
        assert_eq!(Scheme::Int4Sym { scales: half }.arrays(4, 64).len(), 2);
        assert_eq!(Scheme::Int8 { group: 16, scales: ScaleType::F32 }.arrays(4, 64)[1], ("#scale", "F32", vec![4, 4]));
        // Bytes per 32 weights: Q8_0, Q4_0 and Q4_1 as ggml's blocks (34, 18, 20); Q4_K's and
        // Q6_K's f32 products more than theirs.
        let per_32 = |ty| Scheme::of(ty).unwrap().bytes(1, 32);
        assert_eq!([GgmlType::Q8_0, GgmlType::Q4_0, GgmlType::Q4_1, GgmlType::Q4K, GgmlType::Q6K].map(per_32), [34, 18, 20, 24, 40]);
        assert!(repack(GgmlType::F32, &[0; 4], 1).unwrap_err().contains("no quantised kernel"));
    }

    /// The f16 scales (and mins) are the file's bits, NaN payloads and negative zero
    /// included.
    #[test]
    fn f16_scales_are_the_stored_bits() {
        // One Q4_1 block: d = −0.0 (0x8000), m = a NaN with a payload (0x7e01).
        let mut block = vec![0x00, 0x80, 0x01, 0x7e];
        block.extend([0x21u8; 16]);
        let planar = repack(GgmlType::Q4_1, &block, 32).unwrap();
        assert_eq!(planar.scales, Floats::F16(vec![0x8000]));
        assert_eq!(planar.mins, Floats::F16(vec![0x7e01]));
        assert_eq!(planar.scales.to_le_bytes(), [0x00, 0x80]);
    }
}
