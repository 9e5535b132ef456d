//! Weights: a `model.safetensors` file memory-mapped (never read or copied whole), its header
//! parsed, and its f32 tensors handed out as `&[f32]` views into the mapping by name.
//!
//! The header is parsed by [`crate::safetensors`] (shared with the compiler). Only `F32`
//! tensors can be viewed
//! (others are listed, and viewing one is a clear error); the views need 4-byte alignment,
//! which files written by the `safetensors` library have (the header is padded to 8 bytes).

use std::collections::BTreeMap;
use std::fmt;
use std::fs::File;
use std::path::{Path, PathBuf};

use memmap2::Mmap;

/// A failure to open a weights file or to view one of its tensors.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WeightsError(pub String);

impl fmt::Display for WeightsError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for WeightsError {}

/// One tensor's entry in the header.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TensorInfo {
    /// The safetensors dtype as written (`F32`, `F16`, `BF16`, `I64`…).
    pub dtype: String,
    /// The shape (row-major).
    pub shape: Vec<usize>,
    /// Byte range in the file (absolute, already shifted past the header).
    pub bytes: std::ops::Range<usize>,
}

impl TensorInfo {
    /// Number of elements (the product of the shape; 1 for a scalar).
    pub fn elements(&self) -> usize {
        self.shape.iter().product()
    }
}

/// A view of an f32 tensor in the mapping.
#[derive(Debug, Clone, Copy)]
pub struct TensorView<'a> {
    /// The elements, row-major.
    pub data: &'a [f32],
    /// The shape.
    pub shape: &'a [usize],
}

/// Where the tensors' bytes live: a mapped safetensors file, or f32 elements the runtime
/// made (a GGUF's tensors, dequantised at load: [`Weights::from_f32`]).
enum Storage {
    Mapped(Mmap),
    Owned(Vec<f32>),
}

impl Storage {
    fn bytes(&self) -> &[u8] {
        match self {
            Storage::Mapped(map) => map,
            // SAFETY: any f32 is 4 plain bytes; the slice covers exactly the vector.
            Storage::Owned(data) => unsafe { std::slice::from_raw_parts(data.as_ptr().cast::<u8>(), data.len() * 4) },
        }
    }
}

/// A memory-mapped safetensors file (or owned f32 tensors standing for one).
pub struct Weights {
    path: PathBuf,
    map: Storage,
    tensors: BTreeMap<String, TensorInfo>,
}

impl fmt::Debug for Weights {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Weights").field("path", &self.path).field("tensors", &self.tensors.len()).finish()
    }
}

impl Weights {
    /// Maps `path` and parses its header ([`crate::safetensors::parse_header`]: byte count =
    /// elements × dtype size, range inside the file).
    pub fn open(path: &Path) -> Result<Self, WeightsError> {
        let err = |m: String| WeightsError(format!("{}: {m}", path.display()));
        // A FIFO or a device would block the open or the mapping: refuse it first.
        if let Ok(metadata) = std::fs::metadata(path)
            && !metadata.is_file()
        {
            return Err(err("is not a regular file".into()));
        }
        let file = File::open(path).map_err(|e| err(format!("cannot open: {e}")))?;
        // SAFETY: the mapping is read-only; like every reader of safetensors we assume the
        // file is not truncated or rewritten while the program runs.
        let map = unsafe { Mmap::map(&file) }.map_err(|e| err(format!("cannot map: {e}")))?;
        let header_len = crate::safetensors::header_length(&map, map.len() as u64).map_err(err)? as usize;
        let data_start = 8 + header_len;
        let entries = crate::safetensors::parse_header(&map[8..data_start], (map.len() - data_start) as u64).map_err(err)?;
        let mut tensors = BTreeMap::new();
        for (name, entry) in entries {
            let (begin, end) = entry.data_offsets;
            let shape = entry.shape.iter().map(|&d| d as usize).collect();
            tensors.insert(name, TensorInfo { dtype: entry.dtype, shape, bytes: data_start + begin as usize..data_start + end as usize });
        }
        Ok(Weights { path: path.to_path_buf(), map: Storage::Mapped(map), tensors })
    }

    /// Weights the runtime made: `(name, shape, elements)` tensors, F32, owned (a GGUF
    /// file's tensors dequantised at load, `path` being that file), made one at a time by
    /// `tensors` (so only one extra tensor is alive besides the result; `elements` is the
    /// total, reserved up front). Errors: the first error of `tensors`, a tensor whose
    /// elements do not match its shape, a name that repeats.
    pub fn from_f32(
        path: &Path,
        elements: usize,
        tensors: impl IntoIterator<Item = Result<(String, Vec<usize>, Vec<f32>), String>>,
    ) -> Result<Self, WeightsError> {
        let mut data = Vec::with_capacity(elements);
        let mut infos = BTreeMap::new();
        for tensor in tensors {
            let (name, shape, elements) = tensor.map_err(WeightsError)?;
            if shape.iter().product::<usize>() != elements.len() {
                return Err(WeightsError(format!("{}: tensor `{name}` has {} elements, not shape {shape:?}", path.display(), elements.len())));
            }
            let begin = data.len() * 4;
            data.extend_from_slice(&elements);
            let info = TensorInfo { dtype: "F32".into(), shape, bytes: begin..data.len() * 4 };
            if infos.insert(name.clone(), info).is_some() {
                return Err(WeightsError(format!("{}: tensor `{name}` appears twice", path.display())));
            }
        }
        Ok(Weights { path: path.to_path_buf(), map: Storage::Owned(data), tensors: infos })
    }

    /// The file's path.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Tensor names, sorted.
    pub fn names(&self) -> impl Iterator<Item = &str> {
        self.tensors.keys().map(String::as_str)
    }

    /// A tensor's header entry.
    pub fn info(&self, name: &str) -> Option<&TensorInfo> {
        self.tensors.get(name)
    }

    /// The f32 elements of tensor `name`, a view into the mapping. Errors: no such tensor,
    /// a dtype other than F32, data not 4-byte aligned, or a big-endian host.
    pub fn f32(&self, name: &str) -> Result<&[f32], WeightsError> {
        let info = self
            .tensors
            .get(name)
            .ok_or_else(|| WeightsError(format!("{}: no tensor `{name}`", self.path.display())))?;
        if info.dtype != "F32" {
            return Err(WeightsError(format!(
                "{}: tensor `{name}` is {}; the runtime reads F32 weights only for now (save the model in float32)",
                self.path.display(),
                info.dtype
            )));
        }
        if cfg!(target_endian = "big") {
            return Err(WeightsError("safetensors data is little-endian; this host is big-endian".into()));
        }
        let bytes = &self.map.bytes()[info.bytes.clone()];
        // SAFETY: f32 has no invalid bit patterns; align_to gives an aligned middle.
        let (head, data, tail) = unsafe { bytes.align_to::<f32>() };
        if !head.is_empty() || !tail.is_empty() {
            return Err(WeightsError(format!(
                "{}: tensor `{name}` is not 4-byte aligned in the file",
                self.path.display()
            )));
        }
        Ok(data)
    }

    /// The f32 view and shape of tensor `name` (see [`Weights::f32`]).
    pub fn tensor(&self, name: &str) -> Result<TensorView<'_>, WeightsError> {
        let data = self.f32(name)?;
        Ok(TensorView { data, shape: &self.tensors[name].shape })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn model_file(name: &str) -> PathBuf {
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../examples/models").join(name).join("model.safetensors")
    }

    #[test]
    fn tiny_llama_tensors_are_views_into_the_mapping() {
        let w = Weights::open(&model_file("tiny-llama")).unwrap();
        assert_eq!(w.names().count(), 21);
        let t = w.tensor("model.embed_tokens.weight").unwrap();
        assert_eq!(t.shape, &[384, 64]);
        assert_eq!(t.data.len(), 384 * 64);
        assert_eq!(&t.data[..3], &[0.039087113, 0.07654219, -0.025309397]);
        assert_eq!(t.data[t.data.len() - 1], -0.18009107);
        // No copy: the slice points into the mapped file.
        let map = w.map.bytes().as_ptr_range();
        assert!(map.contains(&(t.data.as_ptr() as *const u8)));
        assert_eq!(w.info("lm_head.weight").unwrap().elements(), 384 * 64);
    }

    #[test]
    fn owned_f32_tensors() {
        let path = Path::new("m.gguf");
        let w = Weights::from_f32(path, 3, vec![Ok(("a".into(), vec![2], vec![1.0, 2.0])), Ok(("b".into(), vec![1, 1], vec![3.0]))]).unwrap();
        assert_eq!(w.tensor("a").unwrap().data, &[1.0, 2.0]);
        assert_eq!(w.tensor("b").unwrap().shape, &[1, 1]);
        assert_eq!(w.info("b").unwrap().dtype, "F32");
        let err = Weights::from_f32(path, 1, vec![Ok(("a".into(), vec![3], vec![1.0]))]).unwrap_err().0;
        assert!(err.contains("tensor `a` has 1 elements, not shape [3]"), "{err}");
    }

    #[test]
    fn tiny_bert_tensors() {
        let w = Weights::open(&model_file("tiny-bert")).unwrap();
        let t = w.tensor("embeddings.word_embeddings.weight").unwrap();
        assert_eq!(t.shape, &[320, 64]);
        assert_eq!(&t.data[..3], &[0.01922356, 0.018621925, 0.27039808]);
        assert_eq!(w.f32("embeddings.LayerNorm.bias").unwrap().len(), 64);
    }

    fn write_file(name: &str, header: &str, data: &[u8]) -> PathBuf {
        let path = std::env::temp_dir().join(format!("agentc-weights-{}-{name}.safetensors", std::process::id()));
        let mut bytes = (header.len() as u64).to_le_bytes().to_vec();
        bytes.extend(header.as_bytes());
        bytes.extend(data);
        std::fs::write(&path, bytes).unwrap();
        path
    }

    #[test]
    fn other_dtypes_and_bad_files_are_clear_errors() {
        // Header padded to 8 bytes, as the safetensors library does.
        let header = r#"{"h":{"dtype":"F16","shape":[2],"data_offsets":[0,4]},"f":{"dtype":"F32","shape":[],"data_offsets":[4,8]}}"#;
        let padded = format!("{header:<width$}", width = header.len().div_ceil(8) * 8);
        let path = write_file("f16", &padded, &[0, 60, 0, 60, 0, 0, 128, 63]);
        let w = Weights::open(&path).unwrap();
        assert_eq!(w.f32("f").unwrap(), &[1.0]);
        let err = w.f32("h").unwrap_err().0;
        assert!(err.contains("tensor `h` is F16; the runtime reads F32 weights only"), "{err}");
        assert!(w.f32("nope").unwrap_err().0.contains("no tensor `nope`"));
        let _ = std::fs::remove_file(&path);

        let path = write_file("short", r#"{"x":{"dtype":"F32","shape":[4],"data_offsets":[0,16]}}"#, &[0; 8]);
        assert!(Weights::open(&path).unwrap_err().0.contains("outside the file's 8 data bytes"));
        let _ = std::fs::remove_file(&path);
        let path = write_file("mismatch", r#"{"x":{"dtype":"F32","shape":[3],"data_offsets":[0,8]}}"#, &[0; 8]);
        assert!(Weights::open(&path).unwrap_err().0.contains("does not match F32 of shape [3]"));
        let _ = std::fs::remove_file(&path);
        let path = write_file("json", "{nope", &[]);
        assert!(Weights::open(&path).unwrap_err().0.contains("not valid JSON"));
        let _ = std::fs::remove_file(&path);
        assert!(Weights::open(Path::new("/no/such.safetensors")).unwrap_err().0.contains("cannot open"));
    }
}
