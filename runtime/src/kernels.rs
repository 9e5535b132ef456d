//! Compiled kernels as the executable's kernel table lists them, and the memref descriptors
//! they take (docs/executables.md).
//!
//! A kernel is called through its packed wrapper `agentc_packed_<name>(void **args, int64_t
//! workgroup)`: `args[i]` points to the memref descriptor `{T *allocated, *aligned; int64_t
//! offset, sizes[rank], strides[rank]}` of argument i. [`launch`] runs every workgroup of the
//! kernel's grid on the CPU thread pool; [`Executor::launch`] runs it there or on a CUDA
//! device (docs/cuda.md), which needs to know each argument's element size and whether the
//! kernel writes it ([`Memref::read_only`], [`Memref::weight`]).

use std::collections::BTreeMap;
use std::ffi::c_void;

use crate::cuda;
use crate::pool::ThreadPool;

/// The packed entry point of a compiled kernel.
pub type PackedFn = unsafe extern "C" fn(args: *mut *mut c_void, workgroup: i64);

/// One compiled kernel.
#[derive(Clone, Debug)]
pub struct Kernel {
    /// Its symbol (`cosine`, `writer_prefill`).
    pub name: String,
    /// The packed wrapper.
    pub packed: PackedFn,
    /// For model functions, the safetensors names bound to the weight arguments, in order.
    pub weights: Vec<String>,
    /// The number of memref arguments (the workgroup id not counted).
    pub num_args: usize,
    /// The number of workgroups.
    pub grid: u64,
}

/// The kernels of an executable, by name.
#[derive(Clone, Debug, Default)]
pub struct KernelTable {
    kernels: BTreeMap<String, Kernel>,
}

impl KernelTable {
    /// A table of `kernels` (later entries with the same name replace earlier ones).
    pub fn new(kernels: impl IntoIterator<Item = Kernel>) -> Self {
        KernelTable { kernels: kernels.into_iter().map(|k| (k.name.clone(), k)).collect() }
    }

    /// The kernel named `name`.
    pub fn get(&self, name: &str) -> Option<&Kernel> {
        self.kernels.get(name)
    }

    /// The kernels, by name.
    pub fn iter(&self) -> impl Iterator<Item = &Kernel> {
        self.kernels.values()
    }

    /// Whether the table is empty (a development runner has no kernels).
    pub fn is_empty(&self) -> bool {
        self.kernels.is_empty()
    }
}

/// How a kernel uses an argument: what a device copies before and after a launch.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Access {
    /// The kernel may read and write it: copied to a device before a launch and back after.
    ReadWrite,
    /// The kernel only reads it: copied to a device before a launch, never back.
    Read,
    /// Immutable for the whole run (a model weight in the memory map): a device uploads it
    /// once and keeps it, keyed by its host address and size.
    Weight,
}

/// A memref descriptor over memory the caller keeps alive: `[allocated, aligned, offset,
/// sizes…, strides…]` as 64-bit words (row-major, identity layout), with the element size
/// and the [`Access`] a device needs to copy it.
#[derive(Debug)]
pub struct Memref {
    words: Box<[i64]>,
    element_size: usize,
    access: Access,
}

impl Memref {
    /// A descriptor of the row-major array of `T` at `data` with dims `shape` (empty: 0-d),
    /// read and written by the kernel ([`Access::ReadWrite`]).
    pub fn new<T>(data: *const T, shape: &[usize]) -> Self {
        let rank = shape.len();
        let mut words = vec![0i64; 3 + 2 * rank].into_boxed_slice();
        words[0] = data as i64;
        words[1] = data as i64;
        let mut stride = 1i64;
        for i in (0..rank).rev() {
            words[3 + i] = shape[i] as i64;
            words[3 + rank + i] = stride;
            stride = stride.saturating_mul(shape[i] as i64);
        }
        Memref { words, element_size: std::mem::size_of::<T>(), access: Access::ReadWrite }
    }

    /// The same descriptor, only read by the kernel ([`Access::Read`]).
    pub fn read_only(self) -> Self {
        Memref { access: Access::Read, ..self }
    }

    /// The same descriptor, over memory that stays unchanged and mapped for the whole run
    /// ([`Access::Weight`]).
    pub fn weight(self) -> Self {
        Memref { access: Access::Weight, ..self }
    }

    /// The pointer a kernel argument takes.
    pub fn as_arg(&self) -> *mut c_void {
        self.words.as_ptr() as *mut c_void
    }

    /// The rank (0 for a scalar).
    pub fn rank(&self) -> usize {
        (self.words.len() - 3) / 2
    }

    /// The descriptor's words: allocated, aligned, offset, sizes, strides.
    pub fn words(&self) -> &[i64] {
        &self.words
    }

    /// The size of one element in bytes.
    pub fn element_size(&self) -> usize {
        self.element_size
    }

    /// How the kernel uses it.
    pub fn access(&self) -> Access {
        self.access
    }

    /// The aligned pointer (the base that `offset` counts from).
    pub fn aligned(&self) -> *mut u8 {
        self.words[1] as usize as *mut u8
    }

    /// The bytes from [`Memref::aligned`] the descriptor reaches: `offset + 1 + Σ (size − 1)
    /// × stride` elements (0 when a dim is 0), or `None` for a negative offset or stride or
    /// an overflow.
    pub fn byte_len(&self) -> Option<usize> {
        let rank = self.rank();
        let (sizes, strides) = self.words[3..].split_at(rank);
        if sizes.contains(&0) {
            return Some(0);
        }
        let offset = usize::try_from(self.words[2]).ok()?;
        let mut last = offset;
        for (size, stride) in sizes.iter().zip(strides) {
            let size = usize::try_from(*size).ok()?;
            let stride = usize::try_from(*stride).ok()?;
            last = last.checked_add((size - 1).checked_mul(stride)?)?;
        }
        last.checked_add(1)?.checked_mul(self.element_size)
    }
}

/// Where a kernel runs: every workgroup on the CPU thread pool, or the grid on a CUDA
/// device (one block per workgroup).
#[derive(Clone, Copy, Debug)]
pub enum Executor<'a> {
    /// The CPU, through the packed wrapper, workgroups spread over the pool.
    Cpu(&'a ThreadPool),
    /// A CUDA device, from the embedded PTX.
    Gpu(&'a cuda::Device),
}

impl Executor<'_> {
    /// Runs `kernel` on `args` (one descriptor per memref argument, in order) and returns
    /// when its results are in the memory the descriptors point to. The caller guarantees
    /// that `args` match the kernel's signature and that the memory stays valid until this
    /// returns.
    pub fn launch(&self, kernel: &Kernel, args: &[&Memref]) -> Result<(), String> {
        match self {
            Executor::Cpu(pool) => {
                let mut pointers: Vec<*mut c_void> = args.iter().map(|m| m.as_arg()).collect();
                launch(kernel, &mut pointers, pool)
            }
            Executor::Gpu(device) => device.launch(kernel, args),
        }
    }
}

/// The argument array of one call, shareable across the pool's threads: the descriptors and
/// the memory they point to outlive the call, and workgroups write disjoint parts of it.
struct Args(*mut *mut c_void);
unsafe impl Send for Args {}
unsafe impl Sync for Args {}

/// Runs `kernel` on `args` (one pointer per memref argument, in order): every workgroup of
/// its grid, spread over `pool`. The caller guarantees that `args` match the kernel's
/// signature and that the memory stays valid until this returns.
pub fn launch(kernel: &Kernel, args: &mut [*mut c_void], pool: &ThreadPool) -> Result<(), String> {
    if args.len() != kernel.num_args {
        return Err(format!("internal error: kernel `{}` takes {} arguments, given {}", kernel.name, kernel.num_args, args.len()));
    }
    let packed = kernel.packed;
    let shared = Args(args.as_mut_ptr());
    let run = |workgroup: u64| {
        let shared = &shared;
        // SAFETY: the caller's contract above; workgroups of one kernel write disjoint tiles.
        unsafe { packed(shared.0, workgroup as i64) }
    };
    if kernel.grid <= 1 {
        run(0);
    } else {
        pool.run(kernel.grid, run);
    }
    Ok(())
}

/// The strided copy that bufferised kernels call for `memref.copy` (MLIR's C runner utils
/// define it; the runtime does, so executables link no MLIR library). `source` and `target`
/// are unranked memrefs `{rank, descriptor*}` of the same shape; `element_size` in bytes.
///
/// # Safety
/// Both descriptors must be valid and describe memory of at least their extent.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn memrefCopy(element_size: i64, source: *const UnrankedMemref, target: *const UnrankedMemref) {
    // SAFETY: per the function's contract.
    unsafe {
        let rank = (*source).rank.max(0) as usize;
        let s = (*source).descriptor as *const i64;
        let d = (*target).descriptor as *const i64;
        let elem = element_size.max(0) as usize;
        let sizes = std::slice::from_raw_parts(s.add(3), rank);
        let s_strides = std::slice::from_raw_parts(s.add(3 + rank), rank);
        let d_strides = std::slice::from_raw_parts(d.add(3 + rank), rank);
        let s_base = (*s.add(1)) as *const u8;
        let d_base = (*d.add(1)) as *mut u8;
        let (s_offset, d_offset) = (*s.add(2), *d.add(2));
        let total: i64 = sizes.iter().product();
        if total <= 0 {
            return;
        }
        let mut index = vec![0i64; rank];
        for _ in 0..total {
            let mut so = s_offset;
            let mut doff = d_offset;
            for i in 0..rank {
                so += index[i] * s_strides[i];
                doff += index[i] * d_strides[i];
            }
            std::ptr::copy_nonoverlapping(s_base.add(so as usize * elem), d_base.add(doff as usize * elem), elem);
            for i in (0..rank).rev() {
                index[i] += 1;
                if index[i] < sizes[i] {
                    break;
                }
                index[i] = 0;
            }
        }
    }
}

/// An unranked memref as `memrefCopy` receives it.
#[repr(C)]
pub struct UnrankedMemref {
    /// The rank.
    pub rank: i64,
    /// The ranked descriptor.
    pub descriptor: *mut c_void,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn descriptor_is_row_major() {
        let data = [0f32; 24];
        let m = Memref::new(data.as_ptr(), &[2, 3, 4]);
        assert_eq!(&m.words[2..], &[0, 2, 3, 4, 12, 4, 1]);
        assert_eq!((m.rank(), m.element_size(), m.access()), (3, 4, Access::ReadWrite));
        assert_eq!(m.byte_len(), Some(96));
        let scalar = Memref::new(data.as_ptr(), &[]).read_only();
        assert_eq!(scalar.words.len(), 3);
        assert_eq!((scalar.rank(), scalar.byte_len(), scalar.access()), (0, Some(4), Access::Read));
        let ids = [0i64; 5];
        let w = Memref::new(ids.as_ptr(), &[5]).weight();
        assert_eq!((w.element_size(), w.byte_len(), w.access()), (8, Some(40), Access::Weight));
        assert_eq!(Memref::new(data.as_ptr(), &[3, 0]).byte_len(), Some(0));
    }

    #[test]
    fn byte_len_follows_offset_and_strides() {
        let data = [0f32; 16];
        let mut m = Memref::new(data.as_ptr(), &[2, 3]);
        // A 2x3 view with row stride 5 at offset 1 reaches element 1 + 5 + 2 = 8.
        m.words[2] = 1;
        m.words[5] = 5;
        assert_eq!(m.byte_len(), Some(9 * 4));
        m.words[2] = -1;
        assert_eq!(m.byte_len(), None);
    }

    #[test]
    fn memref_copy_transposes_through_strides() {
        let src: Vec<f32> = (0..6).map(|x| x as f32).collect();
        let mut dst = [0f32; 6];
        // Source viewed as its transpose: sizes [3, 2], strides [1, 3].
        let s = Memref::new(src.as_ptr(), &[3, 2]);
        let mut s_words = s.words.clone();
        s_words[5] = 1;
        s_words[6] = 3;
        let d = Memref::new(dst.as_mut_ptr(), &[3, 2]);
        let su = UnrankedMemref { rank: 2, descriptor: s_words.as_ptr() as *mut c_void };
        let du = UnrankedMemref { rank: 2, descriptor: d.as_arg() };
        unsafe { memrefCopy(4, &su, &du) };
        assert_eq!(dst, [0.0, 3.0, 1.0, 4.0, 2.0, 5.0]);
    }
}
