//! Writes GGUF v3 files (github.com/ggml-org/ggml docs/gguf.md) that the runtime's reader
//! (runtime/src/gguf/reader.rs) reads back: header, typed metadata, tensor table, data
//! aligned to `general.alignment` (32).

use std::io::Write;
use std::path::Path;

use agentc_runtime::gguf::Value;

use crate::quant::Format;

/// The data alignment written as `general.alignment`.
pub const ALIGNMENT: usize = 32;

/// One tensor of the file.
pub struct TensorOut {
    /// The llama.cpp name (`blk.0.attn_q.weight`).
    pub name: String,
    /// Dimensions, innermost first (ggml order).
    pub dims: Vec<u64>,
    /// Its format.
    pub format: Format,
    /// Its bytes in that format.
    pub bytes: Vec<u8>,
}

fn string(out: &mut Vec<u8>, s: &str) {
    out.extend((s.len() as u64).to_le_bytes());
    out.extend(s.as_bytes());
}

fn type_id(v: &Value) -> u32 {
    match v {
        Value::U8(_) => 0,
        Value::I8(_) => 1,
        Value::U16(_) => 2,
        Value::I16(_) => 3,
        Value::U32(_) => 4,
        Value::I32(_) => 5,
        Value::F32(_) => 6,
        Value::Bool(_) => 7,
        Value::String(_) => 8,
        Value::Array(_) => 9,
        Value::U64(_) => 10,
        Value::I64(_) => 11,
        Value::F64(_) => 12,
    }
}

fn value(out: &mut Vec<u8>, v: &Value) -> Result<(), String> {
    match v {
        Value::U8(x) => out.push(*x),
        Value::I8(x) => out.extend(x.to_le_bytes()),
        Value::U16(x) => out.extend(x.to_le_bytes()),
        Value::I16(x) => out.extend(x.to_le_bytes()),
        Value::U32(x) => out.extend(x.to_le_bytes()),
        Value::I32(x) => out.extend(x.to_le_bytes()),
        Value::F32(x) => out.extend(x.to_le_bytes()),
        Value::Bool(x) => out.push(*x as u8),
        Value::String(s) => string(out, s),
        Value::U64(x) => out.extend(x.to_le_bytes()),
        Value::I64(x) => out.extend(x.to_le_bytes()),
        Value::F64(x) => out.extend(x.to_le_bytes()),
        Value::Array(items) => {
            let ty = items.first().map_or(8, type_id);
            if items.iter().any(|i| type_id(i) != ty) {
                return Err("a GGUF array holds values of one type".into());
            }
            out.extend(ty.to_le_bytes());
            out.extend((items.len() as u64).to_le_bytes());
            for item in items {
                value(out, item)?;
            }
        }
    }
    Ok(())
}

/// The bytes of a GGUF file. `general.alignment` is written first and must not be in
/// `metadata`; a tensor whose byte count does not match its format and dims is an error.
pub fn encode(metadata: &[(String, Value)], tensors: &[TensorOut]) -> Result<Vec<u8>, String> {
    let mut out = Vec::new();
    out.extend(b"GGUF");
    out.extend(3u32.to_le_bytes());
    out.extend((tensors.len() as u64).to_le_bytes());
    out.extend((metadata.len() as u64 + 1).to_le_bytes());
    string(&mut out, "general.alignment");
    out.extend(4u32.to_le_bytes());
    out.extend((ALIGNMENT as u32).to_le_bytes());
    for (key, v) in metadata {
        if key == "general.alignment" {
            return Err("`general.alignment` is written by the writer".into());
        }
        string(&mut out, key);
        out.extend(type_id(v).to_le_bytes());
        value(&mut out, v)?;
    }
    let mut offset = 0usize;
    for t in tensors {
        let elements: u64 = t.dims.iter().product();
        if t.format.bytes(elements as usize) != t.bytes.len() {
            return Err(format!("tensor `{}`: {} bytes, {} expected for {} {:?}", t.name, t.bytes.len(), t.format.bytes(elements as usize), t.format.name(), t.dims));
        }
        string(&mut out, &t.name);
        out.extend((t.dims.len() as u32).to_le_bytes());
        for d in &t.dims {
            out.extend(d.to_le_bytes());
        }
        out.extend(t.format.ggml_id().to_le_bytes());
        out.extend((offset as u64).to_le_bytes());
        offset += t.bytes.len().div_ceil(ALIGNMENT) * ALIGNMENT;
    }
    out.resize(out.len().div_ceil(ALIGNMENT) * ALIGNMENT, 0);
    for t in tensors {
        out.extend(&t.bytes);
        out.resize(out.len().div_ceil(ALIGNMENT) * ALIGNMENT, 0);
    }
    Ok(out)
}

/// Writes the file atomically (a temporary beside it, then renamed).
pub fn write(path: &Path, metadata: &[(String, Value)], tensors: &[TensorOut]) -> Result<(), String> {
    let bytes = encode(metadata, tensors)?;
    let tmp = path.with_extension("gguf.tmp");
    let result = std::fs::File::create(&tmp)
        .and_then(|mut f| f.write_all(&bytes).and_then(|_| f.sync_all()))
        .and_then(|_| std::fs::rename(&tmp, path));
    result.map_err(|e| {
        let _ = std::fs::remove_file(&tmp);
        format!("{}: cannot write: {e}", path.display())
    })
}
