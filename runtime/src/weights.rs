//! Weights: a folder's `model.safetensors`, or the shards a `model.safetensors.index.json`
//! names, memory-mapped (never read or copied whole), their headers parsed, and tensors
//! handed out by name as views into the mappings.
//!
//! The headers and the index are parsed by [`crate::safetensors`] (shared with the
//! compiler). `F32` tensors can be viewed as `&[f32]` ([`Weights::f32`]); `F16` and `BF16`
//! ones are bound to kernels in their stored format ([`Weights::raw`]) or converted to f32
//! at load ([`Weights::to_f32`], a model declared `dtype: "f32"`). The views need the
//! element's alignment, which files written by the `safetensors` library have (the header
//! is padded to 8 bytes).

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
    /// Which of the folder's files holds it (an index into [`Weights::files`]).
    pub file: usize,
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
    /// Tensors of any dtype made at load (a GGUF's quantised weights repacked,
    /// [`Weights::from_parts`]), each starting at a multiple of 64 bytes.
    Bytes(Vec<u64>),
}

impl Storage {
    fn bytes(&self) -> &[u8] {
        match self {
            Storage::Mapped(map) => map,
            // SAFETY: any f32 is 4 plain bytes; the slice covers exactly the vector.
            Storage::Owned(data) => unsafe { std::slice::from_raw_parts(data.as_ptr().cast::<u8>(), data.len() * 4) },
            // SAFETY: as above, 8 plain bytes per word.
            Storage::Bytes(data) => unsafe { std::slice::from_raw_parts(data.as_ptr().cast::<u8>(), data.len() * 8) },
        }
    }
}

/// A model's memory-mapped safetensors files (one, or the shards of an index), or owned f32
/// tensors standing for one (a GGUF file dequantised at load).
pub struct Weights {
    path: PathBuf,
    files: Vec<PathBuf>,
    maps: Vec<Storage>,
    tensors: BTreeMap<String, TensorInfo>,
}

impl fmt::Debug for Weights {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Weights").field("path", &self.path).field("files", &self.files).field("tensors", &self.tensors.len()).finish()
    }
}

/// Refuses a FIFO or a device, which would block the open or the mapping.
fn regular(path: &Path) -> Result<(), WeightsError> {
    match std::fs::metadata(path) {
        Ok(metadata) if !metadata.is_file() => Err(WeightsError(format!("{}: is not a regular file", path.display()))),
        _ => Ok(()),
    }
}

/// Maps one safetensors file and parses its header.
fn map_file(path: &Path) -> Result<(Mmap, BTreeMap<String, (String, Vec<usize>, std::ops::Range<usize>)>), WeightsError> {
    let err = |m: String| WeightsError(format!("{}: {m}", path.display()));
    regular(path)?;
    let file = File::open(path).map_err(|e| err(format!("cannot open: {e}")))?;
    // SAFETY: the mapping is read-only; like every reader of safetensors we assume the
    // file is not truncated or rewritten while the program runs.
    let map = unsafe { Mmap::map(&file) }.map_err(|e| err(format!("cannot map: {e}")))?;
    let header_len = crate::safetensors::header_length(&map, map.len() as u64).map_err(err)? as usize;
    let data_start = 8 + header_len;
    let entries = crate::safetensors::parse_header(&map[8..data_start], (map.len() - data_start) as u64).map_err(err)?;
    let tensors = entries
        .into_iter()
        .map(|(name, entry)| {
            let (begin, end) = entry.data_offsets;
            let shape = entry.shape.iter().map(|&d| d as usize).collect();
            (name, (entry.dtype, shape, data_start + begin as usize..data_start + end as usize))
        })
        .collect();
    Ok((map, tensors))
}

impl Weights {
    /// Maps `path` and parses its header ([`crate::safetensors::parse_header`]: byte count =
    /// elements × dtype size, range inside the file).
    pub fn open(path: &Path) -> Result<Self, WeightsError> {
        let (map, entries) = map_file(path)?;
        let tensors = entries.into_iter().map(|(name, (dtype, shape, bytes))| (name, TensorInfo { dtype, shape, bytes, file: 0 })).collect();
        Ok(Weights { path: path.to_path_buf(), files: vec![path.to_path_buf()], maps: vec![Storage::Mapped(map)], tensors })
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
            let info = TensorInfo { dtype: "F32".into(), shape, bytes: begin..data.len() * 4, file: 0 };
            if infos.insert(name.clone(), info).is_some() {
                return Err(WeightsError(format!("{}: tensor `{name}` appears twice", path.display())));
            }
        }
        Ok(Weights { path: path.to_path_buf(), files: vec![path.to_path_buf()], maps: vec![Storage::Owned(data)], tensors: infos })
    }

    /// Weights the runtime made, of any dtype: `(name, dtype, shape, bytes)` (a GGUF file's
    /// quantised tensors repacked into the kernels' arrays, `path` being that file), copied
    /// into one buffer, each tensor 64-byte aligned. A tensor with no bytes is recorded
    /// (name, dtype, shape) but not bindable: a quantised weight's own entry, whose ggml
    /// type the executable checks, beside its arrays. Errors: a name that repeats, bytes
    /// that do not match a plain dtype's size.
    pub fn from_parts(path: &Path, tensors: Vec<(String, String, Vec<usize>, Vec<u8>)>) -> Result<Self, WeightsError> {
        let words: usize = tensors.iter().map(|t| t.3.len().div_ceil(64) * 8).sum();
        let mut data: Vec<u64> = Vec::with_capacity(words);
        let mut infos = BTreeMap::new();
        for (name, dtype, shape, bytes) in tensors {
            if let Some(size) = crate::safetensors::dtype_bytes(&dtype)
                && !bytes.is_empty()
                && shape.iter().product::<usize>() as u64 * size != bytes.len() as u64
            {
                return Err(WeightsError(format!("{}: tensor `{name}` has {} bytes, not {dtype} of shape {shape:?}", path.display(), bytes.len())));
            }
            let begin = data.len() * 8;
            let padded = bytes.len().div_ceil(64) * 8;
            let start = data.len();
            data.resize(start + padded, 0);
            // SAFETY: the words just added cover `padded * 8 >= bytes.len()` bytes.
            unsafe { std::ptr::copy_nonoverlapping(bytes.as_ptr(), data.as_mut_ptr().add(start).cast::<u8>(), bytes.len()) };
            let info = TensorInfo { dtype, shape, bytes: begin..begin + bytes.len(), file: 0 };
            if infos.insert(name.clone(), info).is_some() {
                return Err(WeightsError(format!("{}: tensor `{name}` appears twice", path.display())));
            }
        }
        Ok(Weights { path: path.to_path_buf(), files: vec![path.to_path_buf()], maps: vec![Storage::Bytes(data)], tensors: infos })
    }

    /// The weights of model folder `dir`: its `model.safetensors.index.json` and the shards
    /// it names when there is one, else its `model.safetensors`. Every tensor the index
    /// names must be in the shard it names; a shard missing, unreadable or not a regular
    /// file is an error naming it.
    pub fn open_folder(dir: &Path) -> Result<Self, WeightsError> {
        let index_path = dir.join(crate::safetensors::INDEX_FILE);
        if std::fs::symlink_metadata(&index_path).is_err() {
            return Weights::open(&dir.join(crate::safetensors::SINGLE_FILE));
        }
        let err = |m: String| WeightsError(format!("{}: {m}", index_path.display()));
        regular(&index_path)?;
        let text = std::fs::read(&index_path).map_err(|e| err(format!("cannot read: {e}")))?;
        let index = crate::safetensors::parse_index(&text).map_err(err)?;
        let mut files: Vec<PathBuf> = Vec::new();
        let mut maps = Vec::new();
        let mut headers = Vec::new();
        let mut tensors = BTreeMap::new();
        for (name, shard) in &index {
            let path = dir.join(shard);
            let file = match files.iter().position(|f| *f == path) {
                Some(i) => i,
                None => {
                    if std::fs::symlink_metadata(&path).is_err() {
                        return Err(err(format!("names shard `{shard}` (for `{name}`), which is not in the folder")));
                    }
                    let (map, header) = map_file(&path)?;
                    files.push(path.clone());
                    maps.push(Storage::Mapped(map));
                    headers.push(header);
                    files.len() - 1
                }
            };
            let Some((dtype, shape, bytes)) = headers[file].get(name) else {
                return Err(err(format!("names tensor `{name}` in shard `{shard}`, which has no such tensor")));
            };
            tensors.insert(name.clone(), TensorInfo { dtype: dtype.clone(), shape: shape.clone(), bytes: bytes.clone(), file });
        }
        Ok(Weights { path: index_path, files, maps, tensors })
    }

    /// The file opened: the single `model.safetensors`, or a sharded folder's index.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The files mapped (one, or each shard once), in the order [`TensorInfo::file`] counts.
    pub fn files(&self) -> &[PathBuf] {
        &self.files
    }

    /// The stored bytes of tensor `name` (any dtype), a view into its file's mapping, and
    /// its header entry; the start is aligned to the dtype's element size (else an error).
    pub fn raw(&self, name: &str) -> Result<(&[u8], &TensorInfo), WeightsError> {
        let info = self
            .tensors
            .get(name)
            .ok_or_else(|| WeightsError(format!("{}: no tensor `{name}`", self.path.display())))?;
        if cfg!(target_endian = "big") {
            return Err(WeightsError("safetensors data is little-endian; this host is big-endian".into()));
        }
        let bytes = &self.maps[info.file].bytes()[info.bytes.clone()];
        let size = crate::safetensors::dtype_bytes(&info.dtype).unwrap_or(1) as usize;
        if (bytes.as_ptr() as usize) % size != 0 {
            return Err(WeightsError(format!(
                "{}: tensor `{name}` is not {size}-byte aligned in the file",
                self.files[info.file].display()
            )));
        }
        Ok((bytes, info))
    }

    /// Tensor `name` converted to f32 (a copy): for a model declared `dtype: "f32"` whose
    /// folder stores F16 or BF16. Errors: no such tensor, another dtype.
    pub fn to_f32(&self, name: &str) -> Result<Vec<f32>, WeightsError> {
        let (bytes, info) = self.raw(name)?;
        crate::safetensors::to_f32(&info.dtype, bytes).ok_or_else(|| {
            WeightsError(format!(
                "{}: tensor `{name}` is {}; agentc reads F32, F16 and BF16 weights",
                self.files[info.file].display(),
                info.dtype
            ))
        })
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
        let (bytes, info) = self.raw(name)?;
        if info.dtype != "F32" {
            return Err(WeightsError(format!(
                "{}: tensor `{name}` is {}, not F32",
                self.files[info.file].display(),
                info.dtype
            )));
        }
        // SAFETY: f32 has no invalid bit patterns; `raw` checked the alignment.
        let (head, data, tail) = unsafe { bytes.align_to::<f32>() };
        debug_assert!(head.is_empty() && tail.is_empty());
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
        let map = w.maps[0].bytes().as_ptr_range();
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
        assert!(err.contains("tensor `h` is F16, not F32"), "{err}");
        assert_eq!(w.to_f32("h").unwrap(), vec![1.0, 1.0]);
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
    #[test]
    fn a_sharded_folder_maps_each_shard_once() {
        let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../examples/models/tiny-llama-sharded");
        let w = Weights::open_folder(&dir).unwrap();
        assert_eq!(w.files().len(), 3);
        assert_eq!(w.names().count(), 21);
        let (bytes, info) = w.raw("model.layers.1.mlp.down_proj.weight").unwrap();
        assert_eq!((info.dtype.as_str(), bytes.len()), ("BF16", 64 * 128 * 2));
        assert!(w.maps[info.file].bytes().as_ptr_range().contains(&bytes.as_ptr()));
        // Mixed folder: the norms stay F32, viewed in place.
        assert_eq!(w.f32("model.norm.weight").unwrap().len(), 64);
        // The same values as the single-file bf16 folder.
        let single = Weights::open_folder(&dir.join("../tiny-llama-bf16")).unwrap();
        assert_eq!(single.files().len(), 1);
        assert_eq!(w.to_f32("lm_head.weight").unwrap(), single.to_f32("lm_head.weight").unwrap());
    }

    #[test]
    fn a_bad_index_is_a_clear_error() {
        let dir = std::env::temp_dir().join(format!("agentc-weights-index-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let index = dir.join("model.safetensors.index.json");
        std::fs::write(&index, r#"{"weight_map": {"a": "gone.safetensors"}}"#).unwrap();
        let err = Weights::open_folder(&dir).unwrap_err().0;
        assert!(err.contains("names shard `gone.safetensors` (for `a`), which is not in the folder"), "{err}");
        let header = r#"{"b":{"dtype":"F32","shape":[],"data_offsets":[0,4]}}"#;
        let shard = write_file("shard", &format!("{header:<width$}", width = header.len().div_ceil(8) * 8), &[0; 4]);
        std::fs::rename(&shard, dir.join("s.safetensors")).unwrap();
        std::fs::write(&index, r#"{"weight_map": {"a": "s.safetensors"}}"#).unwrap();
        let err = Weights::open_folder(&dir).unwrap_err().0;
        assert!(err.contains("names tensor `a` in shard `s.safetensors`, which has no such tensor"), "{err}");
        std::fs::remove_dir_all(&dir).ok();
    }
}
