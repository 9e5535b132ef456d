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
}
