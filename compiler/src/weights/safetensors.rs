//! Reads the header of a `.safetensors` file: an 8-byte little-endian length N, then N bytes
//! of JSON mapping each tensor name to `{dtype, shape, data_offsets}` (plus an optional
//! `__metadata__` entry of strings); for a sharded folder, its
//! `model.safetensors.index.json` and the header of every shard it names
//! ([`Header::read_folder`]). Only headers are read: the files' data is never mapped or
//! loaded here. The parsing and checks are the runtime's
//! (`agentc_runtime::safetensors`), so the compiler and the executables agree on every file.

use std::collections::BTreeMap;
use std::io::Read;
use std::path::{Path, PathBuf};


/// One tensor's entry in the header.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TensorInfo {
    /// The safetensors dtype name (`F32`, `F16`, `BF16`, `I64`, ...).
    pub dtype: String,
    /// The shape (row-major).
    pub shape: Vec<i64>,
    /// Byte range `[begin, end)` of the data, relative to the end of the header.
    pub data_offsets: (u64, u64),
}

impl TensorInfo {
    /// The MLIR element type of the dtype (`f32`, `f16`, `bf16`, `i64`...), if it has one.
    pub fn element_type(&self) -> Option<&'static str> {
        Some(match self.dtype.as_str() {
            "F64" => "f64",
            "F32" => "f32",
            "F16" => "f16",
            "BF16" => "bf16",
            "I64" => "i64",
            "I32" => "i32",
            "I16" => "i16",
            "I8" => "i8",
            "U8" => "ui8",
            "BOOL" => "i1",
            _ => return None,
        })
    }

    /// The MLIR tensor type text (`tensor<64x128xf32>`), if the dtype has an MLIR type.
    pub fn mlir_type(&self) -> Option<String> {
        let element = self.element_type()?;
        let dims: String = self.shape.iter().map(|d| format!("{d}x")).collect();
        Some(format!("tensor<{dims}{element}>"))
    }
}

/// The parsed header of one file.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Header {
    /// The file read.
    pub path: PathBuf,
    /// Tensors by name (sorted, so iteration is deterministic).
    pub tensors: BTreeMap<String, TensorInfo>,
    /// The model is declared `dtype: "f32"`: its F16/BF16 weights are converted to f32 at
    /// load, so the tensor level types them f32 (set by the caller; false as read).
    pub convert_to_f32: bool,
    /// The model is declared `activations: "int8"` (a GGUF computed from its blocks): the
    /// tensor level marks its quantised matrices so that the decode steps' linear layers
    /// round their activations to int8 (set by the caller; false as read).
    pub int8_activations: bool,
}

/// Why a header cannot be read; the message names the file (and the tensor, if one).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct HeaderError(pub String);

impl std::fmt::Display for HeaderError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for HeaderError {}

impl Header {
    /// Reads the header of `path` (only its first 8 + N bytes).
    pub fn read(path: &Path) -> Result<Header, HeaderError> {
        let shown = path.display();
        // A FIFO or a device would block the open or the read: refuse it first.
        if let Ok(metadata) = std::fs::metadata(path)
            && !metadata.is_file()
        {
            return Err(HeaderError(format!("`{shown}` is not a regular file")));
        }
        let mut file = std::fs::File::open(path).map_err(|e| HeaderError(format!("cannot open `{shown}`: {e}")))?;
        let file_len = file.metadata().map(|m| m.len()).unwrap_or(u64::MAX);
        let mut length = [0u8; 8];
        file.read_exact(&mut length).map_err(|_| HeaderError(format!("`{shown}` is too short to be a safetensors file")))?;
        let length = agentc_runtime::safetensors::header_length(&length, file_len).map_err(|e| HeaderError(format!("`{shown}` has an {e}")))?;
        let mut json = vec![0u8; length as usize];
        file.read_exact(&mut json).map_err(|e| HeaderError(format!("cannot read the header of `{shown}`: {e}")))?;
        Header::parse(path, &json, file_len - 8 - length)
    }

    /// The weights of model folder `dir`: the headers of the shards its
    /// `model.safetensors.index.json` names when it has one (every tensor the index names
    /// must be in the shard it names), else the header of its `model.safetensors`. Errors
    /// name the index or the file.
    pub fn read_folder(dir: &Path) -> Result<Header, HeaderError> {
        use agentc_runtime::safetensors::{parse_index, INDEX_FILE, SINGLE_FILE};
        let index_path = dir.join(INDEX_FILE);
        if std::fs::symlink_metadata(&index_path).is_err() {
            return Header::read(&dir.join(SINGLE_FILE));
        }
        let shown = index_path.display();
        if let Ok(metadata) = std::fs::metadata(&index_path)
            && !metadata.is_file()
        {
            return Err(HeaderError(format!("`{shown}` is not a regular file")));
        }
        let text = std::fs::read(&index_path).map_err(|e| HeaderError(format!("cannot read `{shown}`: {e}")))?;
        let index = parse_index(&text).map_err(|e| HeaderError(format!("`{shown}` {e}")))?;
        let mut shards: BTreeMap<&str, Header> = BTreeMap::new();
        let mut tensors = BTreeMap::new();
        for (name, shard) in &index {
            if !shards.contains_key(shard.as_str()) {
                let path = dir.join(shard);
                if std::fs::symlink_metadata(&path).is_err() {
                    return Err(HeaderError(format!("`{shown}` names shard `{shard}` (for `{name}`), which is not in the folder")));
                }
                shards.insert(shard, Header::read(&path)?);
            }
            let info = shards[shard.as_str()].tensors.get(name).ok_or_else(|| {
                HeaderError(format!("`{shown}` names tensor `{name}` in shard `{shard}`, which has no such tensor"))
            })?;
            tensors.insert(name.clone(), info.clone());
        }
        Ok(Header { path: index_path, tensors, convert_to_f32: false, int8_activations: false })
    }

    /// Parses header JSON; `data_len` is the number of data bytes after the header (offsets
    /// beyond it are errors).
    pub fn parse(path: &Path, json: &[u8], data_len: u64) -> Result<Header, HeaderError> {
        let entries = agentc_runtime::safetensors::parse_header(json, data_len).map_err(|e| HeaderError(format!("`{}`: {e}", path.display())))?;
        let tensors = entries
            .into_iter()
            .map(|(name, e)| {
                let shape = e.shape.iter().map(|&d| d as i64).collect();
                (name, TensorInfo { dtype: e.dtype, shape, data_offsets: e.data_offsets })
            })
            .collect();
        Ok(Header { path: path.to_path_buf(), tensors, convert_to_f32: false, int8_activations: false })
    }

    /// The tensor `name`, checked to have `shape`; the error names the file and the tensor.
    pub fn expect(&self, name: &str, shape: &[i64]) -> Result<&TensorInfo, HeaderError> {
        let shown = self.path.display();
        let info = self
            .tensors
            .get(name)
            .ok_or_else(|| HeaderError(format!("`{shown}` has no tensor `{name}`")))?;
        if info.shape != shape {
            return Err(HeaderError(format!(
                "`{shown}`: tensor `{name}` has shape {:?}, but config.json implies {:?}",
                info.shape, shape
            )));
        }
        Ok(info)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn file(json: &str, data: usize) -> Vec<u8> {
        let mut bytes = (json.len() as u64).to_le_bytes().to_vec();
        bytes.extend_from_slice(json.as_bytes());
        bytes.extend(std::iter::repeat_n(0u8, data));
        bytes
    }

    #[test]
    fn reads_the_tiny_llama_header() {
        let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../examples/models/tiny-llama/model.safetensors");
        let header = Header::read(&path).unwrap();
        let q = header.expect("model.layers.1.self_attn.q_proj.weight", &[64, 64]).unwrap();
        assert_eq!(q.mlir_type().unwrap(), "tensor<64x64xf32>");
        let err = header.expect("model.layers.0.self_attn.k_proj.weight", &[64, 64]).unwrap_err();
        assert!(err.0.contains("k_proj") && err.0.contains("[32, 64]"), "{err}");
        assert!(header.expect("nope", &[1]).unwrap_err().0.contains("has no tensor `nope`"));
    }

    #[test]
    fn reads_a_sharded_folder_through_its_index() {
        let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../examples/models/tiny-llama-sharded");
        let header = Header::read_folder(&dir).unwrap();
        assert_eq!(header.tensors.len(), 21);
        assert!(header.path.ends_with("model.safetensors.index.json"));
        assert_eq!(header.expect("lm_head.weight", &[384, 64]).unwrap().dtype, "BF16");
        assert_eq!(header.expect("model.norm.weight", &[64]).unwrap().mlir_type().unwrap(), "tensor<64xf32>");
        let single = Header::read_folder(&dir.join("../tiny-llama")).unwrap();
        assert!(single.path.ends_with("model.safetensors"));
    }

    #[test]
    fn rejects_bad_headers() {
        let dir = std::env::temp_dir().join(format!("agentc-st-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let cases: &[(&[u8], &str)] = &[
            (b"abc", "too short"),
            (&file("{\"a\": 1}", 0), "no string `dtype`"),
            (&file("{\"a\": {\"dtype\": \"F32\", \"shape\": [2], \"data_offsets\": [0, 8]}}", 4), "outside"),
            (&file("{\"a\": {\"dtype\": \"F32\", \"shape\": [3], \"data_offsets\": [0, 8]}}", 8), "does not match"),
            (&file("[1]", 0), "not a JSON object"),
        ];
        for (i, (bytes, want)) in cases.iter().enumerate() {
            let path = dir.join(format!("{i}.safetensors"));
            std::fs::write(&path, bytes).unwrap();
            let err = Header::read(&path).unwrap_err();
            assert!(err.0.contains(want) && err.0.contains(&path.display().to_string()), "{err}");
        }
        let mut huge = u64::MAX.to_le_bytes().to_vec();
        huge.extend_from_slice(b"{}");
        std::fs::write(dir.join("huge.safetensors"), huge).unwrap();
        assert!(Header::read(&dir.join("huge.safetensors")).unwrap_err().0.contains("invalid safetensors header length"));
        std::fs::remove_dir_all(&dir).ok();
    }
}
