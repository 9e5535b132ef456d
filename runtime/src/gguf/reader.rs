//! The GGUF container: header, metadata, tensor table and data section, read from a
//! memory-mapped file that is untrusted (every length, count, offset and type is checked
//! against the file before it is used; errors name the file and the field).
//!
//! Layout (little-endian; github.com/ggml-org/ggml docs/gguf.md): `GGUF`, version (u32, 2 or
//! 3), tensor count (u64), metadata count (u64); metadata as key (string), value type (u32),
//! value; tensor infos as name, dimension count (u32), dimensions (u64, innermost first),
//! ggml type (u32), offset (u64, from the data section); the data section starts at the next
//! multiple of `general.alignment` (32 by default).

use std::collections::BTreeMap;
use std::fs::File;
use std::path::{Path, PathBuf};

use memmap2::Mmap;

use super::GgufError;
use super::dequant::GgmlType;

/// Arrays nest at most this deep (a file could otherwise recurse without bound).
const MAX_ARRAY_DEPTH: usize = 8;
/// At most this many dimensions per tensor (ggml's GGML_MAX_DIMS).
const MAX_DIMS: u32 = 4;

/// A metadata value, typed as the file wrote it.
#[derive(Debug, Clone, PartialEq)]
pub enum Value {
    /// Type 0.
    U8(u8),
    /// Type 1.
    I8(i8),
    /// Type 2.
    U16(u16),
    /// Type 3.
    I16(i16),
    /// Type 4.
    U32(u32),
    /// Type 5.
    I32(i32),
    /// Type 6.
    F32(f32),
    /// Type 7.
    Bool(bool),
    /// Type 8: UTF-8 text.
    String(String),
    /// Type 9: elements of one type.
    Array(Vec<Value>),
    /// Type 10.
    U64(u64),
    /// Type 11.
    I64(i64),
    /// Type 12.
    F64(f64),
}

impl Value {
    /// The value as an unsigned integer, when it is a non-negative integer of any width.
    pub fn as_u64(&self) -> Option<u64> {
        match *self {
            Value::U8(v) => Some(v.into()),
            Value::U16(v) => Some(v.into()),
            Value::U32(v) => Some(v.into()),
            Value::U64(v) => Some(v),
            Value::I8(v) => u64::try_from(v).ok(),
            Value::I16(v) => u64::try_from(v).ok(),
            Value::I32(v) => u64::try_from(v).ok(),
            Value::I64(v) => u64::try_from(v).ok(),
            _ => None,
        }
    }

    /// The value as a float, when it is a float or an integer.
    pub fn as_f64(&self) -> Option<f64> {
        match *self {
            Value::F32(v) => Some(v.into()),
            Value::F64(v) => Some(v),
            Value::I8(v) => Some(v.into()),
            Value::I16(v) => Some(v.into()),
            Value::I32(v) => Some(v.into()),
            Value::I64(v) => Some(v as f64),
            _ => self.as_u64().map(|v| v as f64),
        }
    }

    /// The text of a string value.
    pub fn as_str(&self) -> Option<&str> {
        match self {
            Value::String(s) => Some(s),
            _ => None,
        }
    }

    /// The boolean of a bool value.
    pub fn as_bool(&self) -> Option<bool> {
        match *self {
            Value::Bool(b) => Some(b),
            _ => None,
        }
    }

    /// The elements of an array value.
    pub fn as_array(&self) -> Option<&[Value]> {
        match self {
            Value::Array(a) => Some(a),
            _ => None,
        }
    }
}

/// One tensor of the table.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TensorEntry {
    /// The name as the file writes it (`blk.0.attn_q.weight`).
    pub name: String,
    /// Dimensions, innermost (contiguous) first, as ggml orders them.
    pub dims: Vec<u64>,
    /// The element or block type.
    pub ggml_type: GgmlType,
    /// The tensor's bytes: absolute offsets into the file, checked to lie inside it.
    pub bytes: std::ops::Range<usize>,
}

impl TensorEntry {
    /// Number of elements.
    pub fn elements(&self) -> u64 {
        self.dims.iter().product()
    }

    /// The shape in row-major order (outermost first), as PyTorch and safetensors write it.
    pub fn shape(&self) -> Vec<usize> {
        self.dims.iter().rev().map(|&d| d as usize).collect()
    }
}

/// A GGUF file, mapped, with its metadata and tensor table parsed.
pub struct GgufFile {
    path: PathBuf,
    map: Mmap,
    /// The format version (2 or 3).
    pub version: u32,
    metadata: BTreeMap<String, Value>,
    tensors: Vec<TensorEntry>,
}

impl std::fmt::Debug for GgufFile {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("GgufFile").field("path", &self.path).field("tensors", &self.tensors.len()).finish()
    }
}

/// A cursor over the mapped bytes that never reads past them.
struct Cursor<'a> {
    bytes: &'a [u8],
    at: usize,
}

impl<'a> Cursor<'a> {
    fn take(&mut self, n: usize, what: &str) -> Result<&'a [u8], String> {
        let end = self.at.checked_add(n).filter(|&e| e <= self.bytes.len());
        let Some(end) = end else {
            return Err(format!("{what}: the file ends at byte {} (needs {n} bytes at {})", self.bytes.len(), self.at));
        };
        let slice = &self.bytes[self.at..end];
        self.at = end;
        Ok(slice)
    }

    fn array<const N: usize>(&mut self, what: &str) -> Result<[u8; N], String> {
        let mut out = [0u8; N];
        out.copy_from_slice(self.take(N, what)?);
        Ok(out)
    }

    fn u32(&mut self, what: &str) -> Result<u32, String> {
        Ok(u32::from_le_bytes(self.array(what)?))
    }

    fn u64(&mut self, what: &str) -> Result<u64, String> {
        Ok(u64::from_le_bytes(self.array(what)?))
    }

    fn remaining(&self) -> usize {
        self.bytes.len() - self.at
    }

    /// A length-prefixed UTF-8 string (u64 length).
    fn string(&mut self, what: &str) -> Result<String, String> {
        let len = self.u64(what)?;
        let len = usize::try_from(len).ok().filter(|&l| l <= self.remaining()).ok_or_else(|| {
            format!("{what}: string length {len} is past the end of the file")
        })?;
        let bytes = self.take(len, what)?;
        String::from_utf8(bytes.to_vec()).map_err(|_| format!("{what}: the string is not valid UTF-8"))
    }

    fn value(&mut self, kind: u32, what: &str, depth: usize) -> Result<Value, String> {
        Ok(match kind {
            0 => Value::U8(self.array::<1>(what)?[0]),
            1 => Value::I8(self.array::<1>(what)?[0] as i8),
            2 => Value::U16(u16::from_le_bytes(self.array(what)?)),
            3 => Value::I16(i16::from_le_bytes(self.array(what)?)),
            4 => Value::U32(self.u32(what)?),
            5 => Value::I32(i32::from_le_bytes(self.array(what)?)),
            6 => Value::F32(f32::from_le_bytes(self.array(what)?)),
            7 => match self.array::<1>(what)?[0] {
                0 => Value::Bool(false),
                1 => Value::Bool(true),
                b => return Err(format!("{what}: bool value {b} is neither 0 nor 1")),
            },
            8 => Value::String(self.string(what)?),
            9 => {
                if depth >= MAX_ARRAY_DEPTH {
                    return Err(format!("{what}: arrays nest deeper than {MAX_ARRAY_DEPTH} levels"));
                }
                let element = self.u32(what)?;
                let count = self.u64(what)?;
                // Every element takes at least one byte: a count beyond the rest of the file
                // is a lie, refused before anything is allocated for it.
                let count = usize::try_from(count).ok().filter(|&c| c <= self.remaining()).ok_or_else(|| {
                    format!("{what}: array of {count} elements is longer than the rest of the file")
                })?;
                let mut items = Vec::with_capacity(count.min(1 << 20));
                for _ in 0..count {
                    items.push(self.value(element, what, depth + 1)?);
                }
                Value::Array(items)
            }
            10 => Value::U64(self.u64(what)?),
            11 => Value::I64(i64::from_le_bytes(self.array(what)?)),
            12 => Value::F64(f64::from_le_bytes(self.array(what)?)),
            other => return Err(format!("{what}: unknown value type {other}")),
        })
    }
}

impl GgufFile {
    /// Maps and parses `path`. Errors: not a regular file, not GGUF, a version other than
    /// 2 or 3, any count, length, type or offset that does not fit the file.
    pub fn open(path: &Path) -> Result<GgufFile, GgufError> {
        let err = |m: String| GgufError(format!("{}: {m}", path.display()));
        // A FIFO or a device would block the open or the mapping: refuse it first.
        match std::fs::metadata(path) {
            Ok(metadata) if !metadata.is_file() => return Err(err("is not a regular file".into())),
            Ok(_) => {}
            Err(e) => return Err(err(format!("cannot open: {e}"))),
        }
        let file = File::open(path).map_err(|e| err(format!("cannot open: {e}")))?;
        // SAFETY: the mapping is read-only; like every GGUF reader we assume the file is not
        // truncated or rewritten while the program runs.
        let map = unsafe { Mmap::map(&file) }.map_err(|e| err(format!("cannot map: {e}")))?;
        let (version, metadata, tensors) = parse(&map).map_err(err)?;
        Ok(GgufFile { path: path.to_path_buf(), map, version, metadata, tensors })
    }

    /// The file's path.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The metadata value of `key`.
    pub fn get(&self, key: &str) -> Option<&Value> {
        self.metadata.get(key)
    }

    /// All metadata, by key.
    pub fn metadata(&self) -> &BTreeMap<String, Value> {
        &self.metadata
    }

    /// The tensor table, in file order.
    pub fn tensors(&self) -> &[TensorEntry] {
        &self.tensors
    }

    /// The tensor named `name`.
    pub fn tensor(&self, name: &str) -> Option<&TensorEntry> {
        self.tensors.iter().find(|t| t.name == name)
    }

    /// The bytes of a tensor of this file's table.
    pub fn bytes(&self, tensor: &TensorEntry) -> &[u8] {
        &self.map[tensor.bytes.clone()]
    }

    /// Drops `tensor`'s pages from this process's memory once a loader has made what it
    /// needs of them (dequantised or repacked copies): without it, every page of the file
    /// stays resident beside the copies until the file is closed, and the peak RSS of a
    /// model loaded as f32 is the f32 weights plus the whole file. The bytes stay readable:
    /// a later read faults them in again from the file.
    pub fn release(&self, tensor: &TensorEntry) {
        let range = tensor.bytes.clone();
        // SAFETY: the mapping is read-only and backed by the file: MADV_DONTNEED only drops
        // its resident pages, and any later access reads the same bytes from the file again.
        // No reference into the range is held across the call by the loaders that call it.
        let _ = unsafe { self.map.unchecked_advise_range(memmap2::UncheckedAdvice::DontNeed, range.start, range.len()) };
    }

    /// The elements of `tensor` as f32 (dequantised; row-major in [`TensorEntry::shape`]).
    pub fn dequantize(&self, tensor: &TensorEntry) -> Result<Vec<f32>, GgufError> {
        super::dequant::dequantize(tensor.ggml_type, self.bytes(tensor), tensor.elements() as usize)
            .map_err(|e| GgufError(format!("{}: tensor `{}`: {e}", self.path.display(), tensor.name)))
    }
}

type Parsed = (u32, BTreeMap<String, Value>, Vec<TensorEntry>);

/// Parses the header, metadata and tensor table of `bytes` (the whole file).
pub(crate) fn parse(bytes: &[u8]) -> Result<Parsed, String> {
    let mut c = Cursor { bytes, at: 0 };
    if c.take(4, "magic").map_err(|_| "not a GGUF file (too short)".to_string())? != b"GGUF" {
        return Err("not a GGUF file (no `GGUF` magic)".into());
    }
    let version = c.u32("version")?;
    if !matches!(version, 2 | 3) {
        return Err(format!("GGUF version {version} is not supported (agentc reads versions 2 and 3)"));
    }
    let tensor_count = c.u64("tensor count")?;
    let kv_count = c.u64("metadata count")?;
    if kv_count > c.remaining() as u64 || tensor_count > c.remaining() as u64 {
        return Err(format!("header: {kv_count} metadata entries and {tensor_count} tensors cannot fit in the file"));
    }
    let mut metadata = BTreeMap::new();
    for n in 0..kv_count {
        let key = c.string(&format!("metadata entry {n}: key"))?;
        let kind = c.u32(&format!("metadata `{key}`: type"))?;
        let value = c.value(kind, &format!("metadata `{key}`"), 0)?;
        if metadata.insert(key.clone(), value).is_some() {
            return Err(format!("metadata `{key}` appears twice"));
        }
    }
    let alignment = match metadata.get("general.alignment") {
        None => 32,
        Some(Value::U32(a)) if *a > 0 && a.is_power_of_two() => *a as usize,
        Some(other) => return Err(format!("metadata `general.alignment`: {other:?} is not a power of two (u32)")),
    };
    let mut infos = Vec::with_capacity(tensor_count as usize);
    for n in 0..tensor_count {
        let name = c.string(&format!("tensor {n}: name"))?;
        let what = format!("tensor `{name}`");
        let n_dims = c.u32(&what)?;
        if n_dims == 0 || n_dims > MAX_DIMS {
            return Err(format!("{what}: {n_dims} dimensions (1 to {MAX_DIMS} supported)"));
        }
        let mut dims = Vec::with_capacity(n_dims as usize);
        for _ in 0..n_dims {
            dims.push(c.u64(&what)?);
        }
        let type_id = c.u32(&what)?;
        let ggml_type = GgmlType::from_id(type_id).ok_or_else(|| format!("{what}: ggml type {type_id} is unknown"))?;
        let offset = c.u64(&what)?;
        infos.push((name, dims, ggml_type, offset));
    }
    let data_start = c.at.div_ceil(alignment) * alignment;
    let data_len = bytes.len().saturating_sub(data_start) as u64;
    let mut tensors = Vec::with_capacity(infos.len());
    let mut names = std::collections::BTreeSet::new();
    for (name, dims, ggml_type, offset) in infos {
        let what = format!("tensor `{name}`");
        if !names.insert(name.clone()) {
            return Err(format!("{what} appears twice"));
        }
        if offset % alignment as u64 != 0 {
            return Err(format!("{what}: offset {offset} is not a multiple of the alignment {alignment}"));
        }
        let size = ggml_type.byte_size(&dims).map_err(|e| format!("{what}: {e}"))?;
        let end = offset.checked_add(size).filter(|&e| e <= data_len).ok_or_else(|| {
            format!("{what}: bytes {offset}..{} are outside the file's {data_len} data bytes", offset.saturating_add(size))
        })?;
        let start = data_start + offset as usize;
        tensors.push(TensorEntry { name, dims, ggml_type, bytes: start..data_start + end as usize });
    }
    Ok((version, metadata, tensors))
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    /// Writes a GGUF file in memory: metadata entries (already encoded values) and tensors.
    #[derive(Default)]
    pub(crate) struct Builder {
        pub version: u32,
        pub kv: Vec<(String, u32, Vec<u8>)>,
        pub tensors: Vec<(String, Vec<u64>, u32, Vec<u8>)>,
    }

    pub(crate) fn string(s: &str) -> Vec<u8> {
        let mut b = (s.len() as u64).to_le_bytes().to_vec();
        b.extend(s.as_bytes());
        b
    }

    impl Builder {
        pub(crate) fn new() -> Self {
            Builder { version: 3, ..Default::default() }
        }
        pub(crate) fn kv(mut self, key: &str, kind: u32, value: Vec<u8>) -> Self {
            self.kv.push((key.into(), kind, value));
            self
        }
        pub(crate) fn u32(self, key: &str, v: u32) -> Self {
            self.kv(key, 4, v.to_le_bytes().to_vec())
        }
        pub(crate) fn f32(self, key: &str, v: f32) -> Self {
            self.kv(key, 6, v.to_le_bytes().to_vec())
        }
        pub(crate) fn str(self, key: &str, v: &str) -> Self {
            self.kv(key, 8, string(v))
        }
        pub(crate) fn strings(self, key: &str, items: &[&str]) -> Self {
            let mut b = 8u32.to_le_bytes().to_vec();
            b.extend((items.len() as u64).to_le_bytes());
            for s in items {
                b.extend(string(s));
            }
            self.kv(key, 9, b)
        }
        pub(crate) fn i32s(self, key: &str, items: &[i32]) -> Self {
            let mut b = 5u32.to_le_bytes().to_vec();
            b.extend((items.len() as u64).to_le_bytes());
            for v in items {
                b.extend(v.to_le_bytes());
            }
            self.kv(key, 9, b)
        }
        pub(crate) fn f32_tensor(mut self, name: &str, dims: &[u64], values: &[f32]) -> Self {
            let bytes = values.iter().flat_map(|v| v.to_le_bytes()).collect();
            self.tensors.push((name.into(), dims.to_vec(), 0, bytes));
            self
        }
        pub(crate) fn bytes(&self) -> Vec<u8> {
            let mut b = b"GGUF".to_vec();
            b.extend(self.version.to_le_bytes());
            b.extend((self.tensors.len() as u64).to_le_bytes());
            b.extend((self.kv.len() as u64).to_le_bytes());
            for (k, kind, v) in &self.kv {
                b.extend(string(k));
                b.extend(kind.to_le_bytes());
                b.extend(v);
            }
            let mut offset = 0u64;
            let mut data = Vec::new();
            for (name, dims, kind, bytes) in &self.tensors {
                b.extend(string(name));
                b.extend((dims.len() as u32).to_le_bytes());
                for d in dims {
                    b.extend(d.to_le_bytes());
                }
                b.extend(kind.to_le_bytes());
                b.extend(offset.to_le_bytes());
                data.extend(bytes);
                while data.len() % 32 != 0 {
                    data.push(0);
                }
                offset = data.len() as u64;
            }
            while b.len() % 32 != 0 {
                b.push(0);
            }
            b.extend(data);
            b
        }
        pub(crate) fn write(&self, name: &str) -> PathBuf {
            let path = std::env::temp_dir().join(format!("agentc-gguf-{}-{name}.gguf", std::process::id()));
            std::fs::write(&path, self.bytes()).unwrap();
            path
        }
    }

    #[test]
    fn reads_metadata_of_every_type_and_tensors() {
        let b = Builder::new()
            .kv("u8", 0, vec![7])
            .kv("i8", 1, vec![0xff])
            .kv("u16", 2, 513u16.to_le_bytes().to_vec())
            .kv("i16", 3, (-2i16).to_le_bytes().to_vec())
            .u32("u32", 70000)
            .kv("i32", 5, (-3i32).to_le_bytes().to_vec())
            .f32("f32", 0.5)
            .kv("bool", 7, vec![1])
            .str("s", "héllo")
            .strings("a", &["x", "yz"])
            .kv("u64", 10, u64::MAX.to_le_bytes().to_vec())
            .kv("i64", 11, (-5i64).to_le_bytes().to_vec())
            .kv("f64", 12, 2.25f64.to_le_bytes().to_vec())
            .f32_tensor("t", &[3, 2], &[1.0, 2.0, 3.0, 4.0, 5.0, 6.0]);
        let path = b.write("types");
        let f = GgufFile::open(&path).unwrap();
        assert_eq!(f.version, 3);
        assert_eq!(f.get("u8"), Some(&Value::U8(7)));
        assert_eq!(f.get("i8"), Some(&Value::I8(-1)));
        assert_eq!(f.get("u16").unwrap().as_u64(), Some(513));
        assert_eq!(f.get("i16").unwrap().as_f64(), Some(-2.0));
        assert_eq!(f.get("u32").unwrap().as_u64(), Some(70000));
        assert_eq!(f.get("i32").unwrap().as_u64(), None);
        assert_eq!(f.get("f32").unwrap().as_f64(), Some(0.5));
        assert_eq!(f.get("bool").unwrap().as_bool(), Some(true));
        assert_eq!(f.get("s").unwrap().as_str(), Some("héllo"));
        assert_eq!(f.get("a").unwrap().as_array().unwrap().len(), 2);
        assert_eq!(f.get("u64").unwrap().as_u64(), Some(u64::MAX));
        assert_eq!(f.get("i64"), Some(&Value::I64(-5)));
        assert_eq!(f.get("f64"), Some(&Value::F64(2.25)));
        let t = f.tensor("t").unwrap();
        assert_eq!(t.shape(), [2, 3]);
        assert_eq!(f.dequantize(t).unwrap(), [1.0, 2.0, 3.0, 4.0, 5.0, 6.0]);
        let _ = std::fs::remove_file(&path);
    }

    fn parse_err(bytes: &[u8]) -> String {
        parse(bytes).err().expect("must be refused")
    }

    #[test]
    fn crafted_bad_files_are_errors_naming_the_field() {
        assert!(parse_err(b"GG").contains("not a GGUF file"));
        assert!(parse_err(b"GGML\x03\0\0\0").contains("no `GGUF` magic"));
        let mut b = Builder::new();
        b.version = 1;
        assert!(parse_err(&b.bytes()).contains("version 1 is not supported"));
        // A string length far past the end of the file.
        let mut bytes = Builder::new().str("k", "v").bytes();
        bytes[24..32].copy_from_slice(&u64::MAX.to_le_bytes());
        assert!(parse_err(&bytes).contains("string length"), "{}", parse_err(&bytes));
        // Counts that cannot fit.
        let mut bytes = Builder::new().bytes();
        bytes[16..24].copy_from_slice(&(1u64 << 40).to_le_bytes());
        assert!(parse_err(&bytes).contains("cannot fit"));
        // An array longer than the file.
        let mut arr = 5u32.to_le_bytes().to_vec();
        arr.extend((1u64 << 40).to_le_bytes());
        assert!(parse_err(&Builder::new().kv("arr", 9, arr).bytes()).contains("metadata `arr`: array of"));
        // Arrays nested past the cap.
        let mut nested = Vec::new();
        for _ in 0..20 {
            nested.extend(9u32.to_le_bytes());
            nested.extend(1u64.to_le_bytes());
        }
        nested.extend(vec![0u8; 64]);
        assert!(parse_err(&Builder::new().kv("deep", 9, nested).bytes()).contains("nest deeper"));
        assert!(parse_err(&Builder::new().kv("x", 13, vec![0; 8]).bytes()).contains("metadata `x`: unknown value type 13"));
        assert!(parse_err(&Builder::new().kv("b", 7, vec![2]).bytes()).contains("bool value 2"));
        assert!(parse_err(&Builder::new().str("s", "a").str("s", "b").bytes()).contains("metadata `s` appears twice"));
        let bad_utf8 = { let mut s = 1u64.to_le_bytes().to_vec(); s.push(0xff); s };
        assert!(parse_err(&Builder::new().kv("s", 8, bad_utf8).bytes()).contains("not valid UTF-8"));
        assert!(parse_err(&Builder::new().u32("general.alignment", 3).bytes()).contains("general.alignment"));
        // Tensors: unknown type, too many dims, data past the end, a misaligned offset.
        let mut b = Builder::new().f32_tensor("t", &[4], &[0.0; 4]);
        b.tensors[0].2 = 99;
        assert!(parse_err(&b.bytes()).contains("tensor `t`: ggml type 99 is unknown"));
        let b = Builder::new().f32_tensor("t", &[1, 1, 1, 1, 1], &[0.0]);
        assert!(parse_err(&b.bytes()).contains("tensor `t`: 5 dimensions"));
        let mut b = Builder::new().f32_tensor("t", &[4], &[0.0; 4]);
        b.tensors[0].1 = vec![1 << 20];
        assert!(parse_err(&b.bytes()).contains("outside the file's"));
        let mut b = Builder::new().f32_tensor("t", &[4], &[0.0; 4]);
        b.tensors[0].1 = vec![u64::MAX, 4];
        assert!(parse_err(&b.bytes()).contains("tensor `t`"));
        // A block type whose innermost dimension is not a whole number of blocks.
        let mut b = Builder::new().f32_tensor("t", &[4], &[0.0; 4]);
        b.tensors[0].2 = 8; // Q8_0, 32 per block
        assert!(parse_err(&b.bytes()).contains("not a multiple of the block size 32"));
        let b = Builder::new().f32_tensor("t", &[1], &[0.0]).f32_tensor("t", &[1], &[0.0]);
        assert!(parse_err(&b.bytes()).contains("appears twice"));
        // Every truncation of a valid file is an error, never a panic.
        let good = Builder::new().str("general.architecture", "llama").strings("a", &["x"]).f32_tensor("t", &[2], &[1.0, 2.0]).bytes();
        assert!(parse(&good).is_ok());
        for len in 0..good.len() - 24 {
            assert!(parse(&good[..len]).is_err(), "truncated at {len}");
        }
    }

    #[test]
    fn non_regular_and_missing_files_are_refused() {
        assert!(GgufFile::open(Path::new("/no/such.gguf")).unwrap_err().0.contains("cannot open"));
        assert!(GgufFile::open(Path::new("/dev/null")).unwrap_err().0.contains("not a regular file"));
    }
}
