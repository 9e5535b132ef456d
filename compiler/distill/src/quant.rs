//! Weight-only quantization to ggml's 32-element blocks, round to nearest (RTN), and the
//! blocks' bytes as llama.cpp lays them out (runtime/src/gguf/dequant.rs reads them back):
//!
//! | format | bytes / 32 weights | bits / weight | block | value |
//! |---|---|---|---|---|
//! | Q8_0 | 34 | 8.5 | `d: f16`, `q: [i8; 32]` | `d·q` |
//! | Q4_0 | 18 | 4.5 | `d: f16`, 16 bytes of nibbles | `d·(q−8)` |
//! | Q4_1 | 20 | 5.0 | `d, m: f16`, 16 bytes of nibbles | `d·q + m` |
//!
//! Groups are 32 weights along a row (the input dimension) because these layouts have
//! 32-element blocks; "int8 per channel" is thus int8 with a scale per 32 weights of a row,
//! finer than one per row. Scales are rounded to f16 before the codes are chosen, so the
//! values a quantizer reports are exactly what a reader dequantises.

use half::f16;

/// Elements per block.
pub const GROUP: usize = 32;

/// A weight format of the student.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Format {
    /// Plain f32.
    #[default]
    F32,
    /// int8, symmetric, a scale per 32.
    Q8_0,
    /// int4, symmetric, a scale per 32.
    Q4_0,
    /// int4, a scale and a minimum per 32.
    Q4_1,
}

impl Format {
    /// ggml's name.
    pub fn name(self) -> &'static str {
        match self {
            Format::F32 => "F32",
            Format::Q8_0 => "Q8_0",
            Format::Q4_0 => "Q4_0",
            Format::Q4_1 => "Q4_1",
        }
    }

    /// ggml's type id.
    pub fn ggml_id(self) -> u32 {
        match self {
            Format::F32 => 0,
            Format::Q4_0 => 2,
            Format::Q4_1 => 3,
            Format::Q8_0 => 8,
        }
    }

    /// Bytes of `elements` weights (a multiple of [`GROUP`] for the block formats).
    pub fn bytes(self, elements: usize) -> usize {
        match self {
            Format::F32 => elements * 4,
            Format::Q8_0 => elements / GROUP * 34,
            Format::Q4_0 => elements / GROUP * 18,
            Format::Q4_1 => elements / GROUP * 20,
        }
    }

    /// Bits per weight.
    pub fn bits(self) -> f64 {
        self.bytes(GROUP) as f64 * 8.0 / GROUP as f64
    }
}

/// The parameters of one block: `value = d·(q − zero) + m`.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct BlockParams {
    /// The scale, f16-representable.
    pub d: f32,
    /// The minimum (Q4_1), f16-representable; 0 otherwise.
    pub m: f32,
}

fn f16_round(x: f32) -> f32 {
    f16::from_f32(x).to_f32()
}

impl BlockParams {
    /// The parameters RTN chooses for `values` (one block): Q8_0 `d = amax/127`; Q4_0 as
    /// ggml, `d = −max/8` with `max` the value of largest magnitude; Q4_1 `d = (max−min)/15`,
    /// `m = min`.
    pub fn fit(format: Format, values: &[f32]) -> BlockParams {
        match format {
            Format::F32 => BlockParams { d: 1.0, m: 0.0 },
            Format::Q8_0 => {
                let amax = values.iter().fold(0f32, |a, v| a.max(v.abs()));
                BlockParams { d: f16_round(amax / 127.0), m: 0.0 }
            }
            Format::Q4_0 => {
                let max = values.iter().fold(0f32, |a, &v| if v.abs() > a.abs() { v } else { a });
                BlockParams { d: f16_round(max / -8.0), m: 0.0 }
            }
            Format::Q4_1 => {
                let min = values.iter().fold(f32::INFINITY, |a, &v| a.min(v));
                let max = values.iter().fold(f32::NEG_INFINITY, |a, &v| a.max(v));
                BlockParams { d: f16_round((max - min) / 15.0), m: f16_round(min) }
            }
        }
    }

    /// The code of `x` (nearest representable value, clamped to the format's range).
    pub fn code(&self, format: Format, x: f32) -> i32 {
        let inv = if self.d != 0.0 { 1.0 / self.d } else { 0.0 };
        match format {
            Format::F32 => 0,
            Format::Q8_0 => ((x * inv).round() as i32).clamp(-127, 127),
            Format::Q4_0 => (((x * inv).round() as i32) + 8).clamp(0, 15),
            Format::Q4_1 => (((x - self.m) * inv).round() as i32).clamp(0, 15),
        }
    }

    /// The value of code `q`, as ggml's dequantiser computes it.
    pub fn value(&self, format: Format, q: i32) -> f32 {
        match format {
            Format::F32 => 0.0,
            Format::Q8_0 => self.d * q as f32,
            Format::Q4_0 => self.d * (q - 8) as f32,
            Format::Q4_1 => self.d * q as f32 + self.m,
        }
    }

    /// `x` rounded to the block's grid.
    pub fn round(&self, format: Format, x: f32) -> f32 {
        if format == Format::F32 { x } else { self.value(format, self.code(format, x)) }
    }
}

/// A quantized matrix: its format, row-major shape, and the dequantised values (what the
/// reader will see), with the blocks' bytes.
#[derive(Clone, Debug)]
pub struct Quantized {
    /// The format.
    pub format: Format,
    /// Rows × columns.
    pub rows: usize,
    /// Columns (a multiple of [`GROUP`] for block formats).
    pub cols: usize,
    /// The dequantised values, row-major.
    pub values: Vec<f32>,
    /// Per row, per block: parameters and codes (empty for F32).
    pub blocks: Vec<(BlockParams, [i8; GROUP])>,
}

impl Quantized {
    /// The ggml bytes of the matrix, rows in order, blocks in order within a row.
    pub fn to_bytes(&self) -> Vec<u8> {
        if self.format == Format::F32 {
            return self.values.iter().flat_map(|v| v.to_le_bytes()).collect();
        }
        let mut out = Vec::with_capacity(self.format.bytes(self.values.len()));
        for (p, q) in &self.blocks {
            out.extend(f16::from_f32(p.d).to_le_bytes());
            match self.format {
                Format::Q8_0 => out.extend(q.iter().map(|&c| c as u8)),
                Format::Q4_0 | Format::Q4_1 => {
                    if self.format == Format::Q4_1 {
                        out.extend(f16::from_f32(p.m).to_le_bytes());
                    }
                    // Low nibbles hold elements 0..16, high nibbles 16..32.
                    out.extend((0..GROUP / 2).map(|j| (q[j] as u8 & 0xf) | ((q[j + GROUP / 2] as u8 & 0xf) << 4)));
                }
                Format::F32 => unreachable!(),
            }
        }
        out
    }
}

/// Checks that a `rows × cols` matrix can take `format`.
pub fn check_shape(format: Format, name: &str, cols: usize) -> Result<(), String> {
    if format != Format::F32 && cols % GROUP != 0 {
        return Err(format!("`{name}` has rows of {cols} weights, not a multiple of the {} block of {GROUP}", format.name()));
    }
    Ok(())
}

/// Round-to-nearest quantization of a row-major `rows × cols` matrix.
pub fn rtn(format: Format, w: &[f32], rows: usize, cols: usize) -> Quantized {
    let mut values = Vec::with_capacity(w.len());
    let mut blocks = Vec::new();
    if format == Format::F32 {
        values.extend_from_slice(w);
    } else {
        for r in 0..rows {
            for g in (0..cols).step_by(GROUP) {
                let block = &w[r * cols + g..r * cols + g + GROUP];
                let p = BlockParams::fit(format, block);
                let mut codes = [0i8; GROUP];
                for (j, &x) in block.iter().enumerate() {
                    let q = p.code(format, x);
                    codes[j] = q as i8;
                    values.push(p.value(format, q));
                }
                blocks.push((p, codes));
            }
        }
    }
    Quantized { format, rows, cols, values, blocks }
}
