//! The safetensors header, parsed once for both sides: the compiler reads a model's header
//! to type its weights (`agentc_compiler::weights`), the runtime maps the file and views the
//! tensors ([`crate::weights`]).
//!
//! Format: 8 bytes little-endian header length N, N bytes of JSON
//! `{"NAME": {"dtype": "F32", "shape": [..], "data_offsets": [BEGIN, END]}, "__metadata__": {..}}`,
//! then the data; offsets are relative to the data's start.

use std::collections::BTreeMap;

/// Headers larger than this are refused (the format's reference reader uses 100 MB).
pub const MAX_HEADER_BYTES: u64 = 100 * 1024 * 1024;

/// One tensor's entry in the header, checked against the data it names.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Entry {
    /// The safetensors dtype as written (`F32`, `F16`, `BF16`, `I64`…).
    pub dtype: String,
    /// The shape (row-major).
    pub shape: Vec<u64>,
    /// Byte range `[begin, end)` of the data, relative to the end of the header.
    pub data_offsets: (u64, u64),
}

/// Bytes per element of a safetensors dtype (`None`: a dtype this reader does not know).
pub fn dtype_bytes(dtype: &str) -> Option<u64> {
    Some(match dtype {
        "F64" | "I64" | "U64" => 8,
        "F32" | "I32" | "U32" => 4,
        "F16" | "BF16" | "I16" | "U16" => 2,
        "I8" | "U8" | "BOOL" | "F8_E4M3" | "F8_E5M2" => 1,
        _ => return None,
    })
}

/// The header length N from the file's first 8 bytes, checked against the file's length.
pub fn header_length(first: &[u8], file_len: u64) -> Result<u64, String> {
    let first: [u8; 8] = first.get(..8).and_then(|b| b.try_into().ok()).ok_or("too short to be a safetensors file")?;
    let length = u64::from_le_bytes(first);
    if length > MAX_HEADER_BYTES || length.saturating_add(8) > file_len {
        return Err(format!("invalid safetensors header length {length}"));
    }
    Ok(length)
}

/// Parses the header JSON; `data_len` is the number of data bytes after the header. Every
/// entry must have a string dtype, a shape of sizes and offsets inside the data; for known
/// dtypes the byte count must be the elements times the dtype's size. Errors are one line
/// without the file's name (callers add it).
pub fn parse_header(json: &[u8], data_len: u64) -> Result<BTreeMap<String, Entry>, String> {
    let value: serde_json::Value = serde_json::from_slice(json).map_err(|e| format!("the header is not valid JSON: {e}"))?;
    let object = value.as_object().ok_or("the header is not a JSON object")?;
    let mut tensors = BTreeMap::new();
    for (name, entry) in object {
        if name == "__metadata__" {
            continue;
        }
        let bad = |what: &str| format!("tensor `{name}` has {what}");
        let dtype = entry["dtype"].as_str().ok_or_else(|| bad("no string `dtype`"))?.to_string();
        let shape = entry["shape"]
            .as_array()
            .ok_or_else(|| bad("no `shape` array"))?
            .iter()
            .map(|d| d.as_u64().filter(|&d| d <= i64::MAX as u64))
            .collect::<Option<Vec<_>>>()
            .ok_or_else(|| bad("a shape that is not a list of sizes"))?;
        let (begin, end) = match entry["data_offsets"].as_array().map(Vec::as_slice) {
            Some([b, e]) => (b.as_u64().ok_or_else(|| bad("bad `data_offsets`"))?, e.as_u64().ok_or_else(|| bad("bad `data_offsets`"))?),
            _ => return Err(bad("no `data_offsets` pair")),
        };
        if begin > end || end > data_len {
            return Err(bad(&format!("data_offsets [{begin}, {end}] outside the file's {data_len} data bytes")));
        }
        if let Some(bytes) = dtype_bytes(&dtype) {
            let elements = shape.iter().try_fold(1u64, |acc, &d| acc.checked_mul(d));
            if elements.and_then(|n| n.checked_mul(bytes)) != Some(end - begin) {
                return Err(bad(&format!("{} bytes of data, which does not match {dtype} of shape {shape:?}", end - begin)));
            }
        }
        tensors.insert(name.clone(), Entry { dtype, shape, data_offsets: (begin, end) });
    }
    Ok(tensors)
}

/// The single-file weights of a Hugging Face folder.
pub const SINGLE_FILE: &str = "model.safetensors";

/// The index of a sharded folder: `{"weight_map": {"NAME": "model-00001-of-00002.safetensors", ..}}`.
pub const INDEX_FILE: &str = "model.safetensors.index.json";

/// Parses a sharded folder's index: each tensor name with the shard file that holds it.
/// A shard must be a plain file name in the same folder (no `/`, not `.` or `..`), so an
/// index cannot point outside its folder. Errors are one line without the file's name.
pub fn parse_index(json: &[u8]) -> Result<BTreeMap<String, String>, String> {
    let value: serde_json::Value = serde_json::from_slice(json).map_err(|e| format!("not valid JSON: {e}"))?;
    let map = value["weight_map"].as_object().ok_or("has no `weight_map` object")?;
    let mut shards = BTreeMap::new();
    for (name, file) in map {
        let file = file.as_str().ok_or_else(|| format!("`weight_map` entry `{name}` is not a file name"))?;
        if file.is_empty() || file == "." || file == ".." || file.contains('/') || file.contains('\\') || file.contains('\0') {
            return Err(format!("`weight_map` entry `{name}` names `{file}`, which is not a file in the model's folder"));
        }
        shards.insert(name.clone(), file.to_string());
    }
    if shards.is_empty() {
        return Err("has an empty `weight_map`".into());
    }
    Ok(shards)
}

/// The float weight dtypes agentc reads (others are refused where a kernel binds them).
pub const FLOAT_DTYPES: &[&str] = &["F32", "F16", "BF16"];

/// The f32 value of a bfloat16 (its bits are the top half of an f32's: exact).
pub fn bf16_to_f32(bits: u16) -> f32 {
    f32::from_bits((bits as u32) << 16)
}

/// The f32 value of an IEEE half (exact: every f16 is an f32), subnormals, infinities and
/// NaN included.
pub fn f16_to_f32(bits: u16) -> f32 {
    let sign = ((bits >> 15) as u32) << 31;
    let exponent = ((bits >> 10) & 0x1f) as u32;
    let mantissa = (bits & 0x3ff) as u32;
    let magnitude = match exponent {
        0 => return if sign != 0 { -(mantissa as f32) * 2f32.powi(-24) } else { mantissa as f32 * 2f32.powi(-24) },
        0x1f => 0xff << 23 | mantissa << 13,
        e => (e + 127 - 15) << 23 | mantissa << 13,
    };
    f32::from_bits(sign | magnitude)
}

/// The little-endian data of a `F16`/`BF16`/`F32` tensor as f32 values (`None`: another
/// dtype, or a byte count that is not a whole number of elements).
pub fn to_f32(dtype: &str, bytes: &[u8]) -> Option<Vec<f32>> {
    let halves = || bytes.chunks_exact(2).map(|b| u16::from_le_bytes([b[0], b[1]]));
    match dtype {
        "F32" if bytes.len() % 4 == 0 => Some(bytes.chunks_exact(4).map(|b| f32::from_le_bytes([b[0], b[1], b[2], b[3]])).collect()),
        "BF16" if bytes.len() % 2 == 0 => Some(halves().map(bf16_to_f32).collect()),
        "F16" if bytes.len() % 2 == 0 => Some(halves().map(f16_to_f32).collect()),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn entries_are_checked_against_their_data() {
        let ok = br#"{"__metadata__": {"a": "b"}, "x": {"dtype": "F32", "shape": [2, 3], "data_offsets": [0, 24]}, "q": {"dtype": "Q4", "shape": [7], "data_offsets": [24, 27]}}"#;
        let t = parse_header(ok, 27).unwrap();
        assert_eq!(t["x"], Entry { dtype: "F32".into(), shape: vec![2, 3], data_offsets: (0, 24) });
        assert_eq!(t["q"].dtype, "Q4", "unknown dtypes are listed, unchecked");
        let cases: &[(&[u8], u64, &str)] = &[
            (br#"{"a": 1}"#, 0, "no string `dtype`"),
            (br#"{"a": {"dtype": "F32", "shape": [2], "data_offsets": [0, 8]}}"#, 4, "outside the file's 4 data bytes"),
            (br#"{"a": {"dtype": "F32", "shape": [3], "data_offsets": [0, 8]}}"#, 8, "does not match F32 of shape [3]"),
            (br#"{"a": {"dtype": "F32", "shape": [-1], "data_offsets": [0, 8]}}"#, 8, "not a list of sizes"),
            (b"[1]", 0, "not a JSON object"),
            (b"{nope", 0, "not valid JSON"),
        ];
        for (json, data_len, want) in cases {
            let err = parse_header(json, *data_len).unwrap_err();
            assert!(err.contains(want), "{err}");
        }
    }

    #[test]
    fn header_length_is_checked() {
        assert_eq!(header_length(&2u64.to_le_bytes(), 10), Ok(2));
        assert!(header_length(b"abc", 3).unwrap_err().contains("too short"));
        assert!(header_length(&u64::MAX.to_le_bytes(), 100).unwrap_err().contains("invalid safetensors header length"));
        assert!(header_length(&20u64.to_le_bytes(), 10).is_err());
    }
    #[test]
    fn half_floats_convert_exactly() {
        assert_eq!(bf16_to_f32(0x3f80), 1.0);
        assert_eq!(bf16_to_f32(0xc040), -3.0);
        assert_eq!(f16_to_f32(0x3c00), 1.0);
        assert_eq!(f16_to_f32(0xc000), -2.0);
        assert_eq!(f16_to_f32(0x7bff), 65504.0);
        assert_eq!(f16_to_f32(0x0001), 2f32.powi(-24));
        assert_eq!(f16_to_f32(0x8001), -(2f32.powi(-24)));
        assert_eq!(f16_to_f32(0x7c00), f32::INFINITY);
        assert!(f16_to_f32(0x7e00).is_nan());
        assert_eq!(to_f32("BF16", &[0x80, 0x3f, 0x40, 0xc0]), Some(vec![1.0, -3.0]));
        assert_eq!(to_f32("I8", &[1]), None);
    }

    #[test]
    fn index_maps_names_to_shards_in_the_folder() {
        let ok = br#"{"metadata": {}, "weight_map": {"a": "m-1.safetensors", "b": "m-2.safetensors"}}"#;
        assert_eq!(parse_index(ok).unwrap()["b"], "m-2.safetensors");
        for (json, want) in [
            (&br#"{"weight_map": {"a": "../x.safetensors"}}"#[..], "not a file in the model's folder"),
            (br#"{"weight_map": {"a": ".."}}"#, "not a file in the model's folder"),
            (br#"{"weight_map": {"a": 3}}"#, "is not a file name"),
            (br#"{"weight_map": {}}"#, "empty `weight_map`"),
            (br#"{"metadata": {}}"#, "no `weight_map`"),
            (b"{", "not valid JSON"),
        ] {
            let err = parse_index(json).unwrap_err();
            assert!(err.contains(want), "{err}");
        }
    }
}
