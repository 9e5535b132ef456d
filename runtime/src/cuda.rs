//! A CUDA device through the driver API, loaded at run time (`libcuda.so.1` through
//! `dlopen`), so executables start on machines without a GPU or driver and can say so
//! (docs/cuda.md).
//!
//! [`Device::open`] initialises the driver, retains the primary context of device 0, sets
//! the device `malloc` heap (the model kernels allocate their intermediate buffers there;
//! [`DEFAULT_HEAP_MIB`], or `AGENTC_CUDA_HEAP_MIB`), loads the PTX the executable embeds and
//! looks up every kernel of the kernel table. [`Device::launch`] runs one kernel: one block
//! per workgroup (`blockIdx.x` is the workgroup id), one thread per block, its parameters
//! MLIR's expanded memref descriptors ([`kernel_params`]). Weights are uploaded once and
//! kept, keyed by their host address; every other buffer is uploaded before the launch and,
//! when the kernel may write it, copied back after it, so host memory always holds the
//! result (a KV cache may move between CPU and GPU fragments).
//!
//! Launches are serialised by a lock (one at a time per process); each sets the context
//! current on its thread first. Nothing here has run on a GPU yet: `tools/gpu-check/
//! exe_check.sh` is the check to run on one.

use std::collections::{BTreeMap, HashMap};
use std::ffi::{CStr, CString, c_char, c_int, c_uint, c_void};
use std::fmt;
use std::sync::Mutex;

use crate::kernels::{Access, Kernel, KernelTable, Memref};

unsafe extern "C" {
    fn dlopen(filename: *const c_char, flags: c_int) -> *mut c_void;
    fn dlsym(handle: *mut c_void, symbol: *const c_char) -> *mut c_void;
    fn dlerror() -> *const c_char;
}

const RTLD_NOW: c_int = 2;

/// The driver library's name.
pub const LIBRARY: &str = "libcuda.so.1";

/// The device `malloc` heap, in MiB, unless `AGENTC_CUDA_HEAP_MIB` says otherwise (as
/// tools/gpu-check/gpu_check.py, which ran the tiny Llama's PTX with it).
pub const DEFAULT_HEAP_MIB: usize = 256;

type CuResult = c_int;
type CuDevice = c_int;
type CuContext = *mut c_void;
type CuModule = *mut c_void;
type CuFunction = *mut c_void;
type CuDevicePtr = u64;

const CU_LIMIT_MALLOC_HEAP_SIZE: c_int = 0x02;
const CU_JIT_ERROR_LOG_BUFFER: c_int = 5;
const CU_JIT_ERROR_LOG_BUFFER_SIZE_BYTES: c_int = 6;
const CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MAJOR: c_int = 75;
const CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MINOR: c_int = 76;

fn last_dl_error() -> String {
    // SAFETY: dlerror returns null or a NUL-terminated string owned by libc.
    unsafe {
        let e = dlerror();
        if e.is_null() { "unknown error".into() } else { CStr::from_ptr(e).to_string_lossy().into_owned() }
    }
}

/// The address of `name` in the library `handle`.
fn symbol(handle: *mut c_void, name: &str) -> Result<*mut c_void, String> {
    let c_name = CString::new(name).map_err(|_| format!("bad symbol name `{name}`"))?;
    // SAFETY: a valid handle from dlopen and a NUL-terminated name.
    let f = unsafe { dlsym(handle, c_name.as_ptr()) };
    if f.is_null() { Err(format!("the CUDA driver has no `{name}` (a driver older than CUDA 11?)")) } else { Ok(f) }
}

/// The driver functions used, each `CUresult f(...)`, with the symbol it is loaded from.
macro_rules! driver_api {
    ($($field:ident = $symbol:literal ($($arg:ty),*);)*) => {
        /// The driver API's entry points (the `_v2` symbols where cuda.h maps to them).
        #[derive(Clone, Copy)]
        struct Api {
            $($field: unsafe extern "C" fn($($arg),*) -> CuResult,)*
        }

        impl Api {
            /// Looks every function up in the library `handle`.
            fn load(handle: *mut c_void) -> Result<Api, String> {
                Ok(Api {
                    $(
                        // SAFETY: the symbol is the driver function of this signature (cuda.h).
                        $field: unsafe {
                            std::mem::transmute::<*mut c_void, unsafe extern "C" fn($($arg),*) -> CuResult>(symbol(handle, $symbol)?)
                        },
                    )*
                })
            }
        }
    };
}

driver_api! {
    init = "cuInit"(c_uint);
    device_get_count = "cuDeviceGetCount"(*mut c_int);
    device_get = "cuDeviceGet"(*mut CuDevice, c_int);
    device_get_name = "cuDeviceGetName"(*mut c_char, c_int, CuDevice);
    device_get_attribute = "cuDeviceGetAttribute"(*mut c_int, c_int, CuDevice);
    primary_ctx_retain = "cuDevicePrimaryCtxRetain"(*mut CuContext, CuDevice);
    primary_ctx_release = "cuDevicePrimaryCtxRelease_v2"(CuDevice);
    ctx_set_current = "cuCtxSetCurrent"(CuContext);
    ctx_set_limit = "cuCtxSetLimit"(c_int, usize);
    ctx_synchronize = "cuCtxSynchronize"();
    module_load_data_ex = "cuModuleLoadDataEx"(*mut CuModule, *const c_void, c_uint, *mut c_int, *mut *mut c_void);
    module_get_function = "cuModuleGetFunction"(*mut CuFunction, CuModule, *const c_char);
    module_unload = "cuModuleUnload"(CuModule);
    mem_alloc = "cuMemAlloc_v2"(*mut CuDevicePtr, usize);
    mem_free = "cuMemFree_v2"(CuDevicePtr);
    memcpy_htod = "cuMemcpyHtoD_v2"(CuDevicePtr, *const c_void, usize);
    memcpy_dtoh = "cuMemcpyDtoH_v2"(*mut c_void, CuDevicePtr, usize);
    launch_kernel = "cuLaunchKernel"(CuFunction, c_uint, c_uint, c_uint, c_uint, c_uint, c_uint, c_uint, *mut c_void, *mut *mut c_void, *mut *mut c_void);
    get_error_name = "cuGetErrorName"(CuResult, *mut *const c_char);
    get_error_string = "cuGetErrorString"(CuResult, *mut *const c_char);
}

impl Api {
    /// `CUDA_ERROR_X (the driver's description)`, or the number when the driver does not
    /// know it.
    fn describe(&self, status: CuResult) -> String {
        let mut name: *const c_char = std::ptr::null();
        let mut text: *const c_char = std::ptr::null();
        // SAFETY: both write a pointer to a static string, or leave it null on error.
        let (named, described) = unsafe { ((self.get_error_name)(status, &mut name), (self.get_error_string)(status, &mut text)) };
        let read = |ok: CuResult, p: *const c_char| {
            // SAFETY: non-null results are NUL-terminated static strings of the driver.
            (ok == 0 && !p.is_null()).then(|| unsafe { CStr::from_ptr(p) }.to_string_lossy().into_owned())
        };
        match (read(named, name), read(described, text)) {
            (Some(name), Some(text)) => format!("{name} ({text})"),
            (Some(name), None) => name,
            _ => format!("CUDA error {status}"),
        }
    }

    /// `Ok` for `CUDA_SUCCESS`, else `WHAT failed: CUDA_ERROR_X (...)`.
    fn check(&self, status: CuResult, what: &str) -> Result<(), String> {
        if status == 0 { Ok(()) } else { Err(format!("{what} failed: {}", self.describe(status))) }
    }
}

/// Why [`Device::open`] gave no device.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum OpenError {
    /// No NVIDIA GPU is usable: no driver library, a driver without the functions used,
    /// `cuInit` failed, or it sees no device. `--fallback cpu` may run GPU fragments on the
    /// CPU then.
    NoGpu(String),
    /// A GPU is there but cannot run this program (its context, the heap limit, the PTX, a
    /// kernel): never silently replaced by the CPU.
    Failed(String),
}

impl fmt::Display for OpenError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            OpenError::NoGpu(why) | OpenError::Failed(why) => f.write_str(why),
        }
    }
}

/// A kernel of the loaded module.
struct Function {
    handle: CuFunction,
    /// The parameters of its PTX entry.
    entry: Entry,
}

/// The parameter list of a PTX `.entry`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Entry {
    /// How many parameters it takes.
    pub params: usize,
    /// The type of the first parameter that is not `.u64` (a pointer or i64 of an expanded
    /// memref descriptor): a scalar passed by value, which the runtime does not marshal.
    pub by_value: Option<String>,
}

/// The GPU the executable runs its GPU fragments on: CUDA device 0 with the embedded PTX
/// loaded.
pub struct Device {
    api: Api,
    ordinal: CuDevice,
    context: CuContext,
    module: CuModule,
    description: String,
    functions: BTreeMap<String, Function>,
    /// Uploaded weights by (host address, bytes); also the lock every launch holds.
    weights: Mutex<HashMap<(usize, usize), CuDevicePtr>>,
}

// SAFETY: the handles are process-wide driver objects; the driver API is thread-safe, and
// every use of them sets the context current on the calling thread under `weights`' lock.
unsafe impl Send for Device {}
// SAFETY: as above.
unsafe impl Sync for Device {}

impl fmt::Debug for Device {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Device").field("description", &self.description).field("kernels", &self.functions.len()).finish()
    }
}

/// The device heap size: `AGENTC_CUDA_HEAP_MIB` (a positive number of MiB) or the default.
fn heap_bytes() -> Result<usize, String> {
    let mib = match std::env::var("AGENTC_CUDA_HEAP_MIB") {
        Err(_) => DEFAULT_HEAP_MIB,
        Ok(text) => text
            .trim()
            .parse::<usize>()
            .ok()
            .filter(|n| *n > 0)
            .ok_or_else(|| format!("AGENTC_CUDA_HEAP_MIB must be a positive number of MiB, not `{text}`"))?,
    };
    mib.checked_mul(1 << 20).ok_or_else(|| format!("AGENTC_CUDA_HEAP_MIB is too large ({mib})"))
}

/// The parameters of the PTX kernel `.entry NAME(...)`, or `None` when the PTX has no such
/// entry.
pub fn entry_params(ptx: &str, name: &str) -> Option<Entry> {
    let head = format!(".entry {name}(");
    let start = ptx.find(&head)? + head.len();
    let list = &ptx[start..start + ptx[start..].find(')')?];
    let types: Vec<&str> = list.split(".param ").skip(1).map(|p| p.split_whitespace().next().unwrap_or("")).collect();
    Some(Entry { params: types.len(), by_value: types.iter().find(|t| **t != ".u64").map(|t| t.to_string()) })
}

/// The kernel parameters of a launch: for each memref argument, MLIR's expanded descriptor
/// `allocated, aligned, offset, sizes…, strides…` (3 + 2 × rank values) with the device
/// buffer in place of both pointers. There is no workgroup parameter (it is `blockIdx.x`).
pub fn kernel_params(args: &[&Memref], device_ptrs: &[u64]) -> Vec<u64> {
    let mut values = Vec::with_capacity(args.iter().map(|a| a.words().len()).sum());
    for (arg, ptr) in args.iter().zip(device_ptrs) {
        values.extend([*ptr, *ptr]);
        // offset, sizes and strides: i64, passed as their bits.
        values.extend(arg.words()[2..].iter().map(|w| *w as u64));
    }
    values
}

/// Device buffers of one launch, freed when it ends (on every path).
struct Scratch<'a> {
    api: &'a Api,
    buffers: Vec<CuDevicePtr>,
}

impl Drop for Scratch<'_> {
    fn drop(&mut self) {
        for ptr in self.buffers.drain(..) {
            // SAFETY: a buffer this launch allocated and nothing uses any more.
            unsafe { (self.api.mem_free)(ptr) };
        }
    }
}

impl Device {
    /// Opens CUDA device 0 and loads `ptx` (the PTX text, without its terminating NUL) with
    /// every kernel of `kernels`.
    pub fn open(ptx: &[u8], kernels: &KernelTable) -> Result<Device, OpenError> {
        Device::open_library(LIBRARY, ptx, kernels)
    }

    fn open_library(library: &str, ptx: &[u8], kernels: &KernelTable) -> Result<Device, OpenError> {
        let no_gpu = OpenError::NoGpu;
        let c_library = CString::new(library).map_err(|_| no_gpu(format!("bad library name `{library}`")))?;
        // SAFETY: dlopen with a NUL-terminated name.
        let handle = unsafe { dlopen(c_library.as_ptr(), RTLD_NOW) };
        if handle.is_null() {
            return Err(no_gpu(format!("the CUDA driver ({library}) cannot be loaded: {}", last_dl_error())));
        }
        let api = Api::load(handle).map_err(no_gpu)?;
        // SAFETY: the driver functions are called with their documented arguments; every
        // out-pointer is a local of the right type.
        unsafe {
            api.check((api.init)(0), "cuInit").map_err(no_gpu)?;
            let mut count: c_int = 0;
            api.check((api.device_get_count)(&mut count), "cuDeviceGetCount").map_err(no_gpu)?;
            if count <= 0 {
                return Err(no_gpu("the CUDA driver sees no GPU".into()));
            }
            let failed = OpenError::Failed;
            let mut ordinal: CuDevice = 0;
            api.check((api.device_get)(&mut ordinal, 0), "cuDeviceGet").map_err(failed)?;
            let mut name = [0 as c_char; 256];
            let name = if (api.device_get_name)(name.as_mut_ptr(), name.len() as c_int - 1, ordinal) == 0 {
                CStr::from_ptr(name.as_ptr()).to_string_lossy().into_owned()
            } else {
                "an NVIDIA GPU".to_string()
            };
            let (mut major, mut minor): (c_int, c_int) = (0, 0);
            let capability = (api.device_get_attribute)(&mut major, CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MAJOR, ordinal) == 0
                && (api.device_get_attribute)(&mut minor, CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MINOR, ordinal) == 0;
            let description = if capability { format!("CUDA device 0, {name} (sm_{major}{minor})") } else { format!("CUDA device 0, {name}") };

            let mut context: CuContext = std::ptr::null_mut();
            api.check((api.primary_ctx_retain)(&mut context, ordinal), "cuDevicePrimaryCtxRetain").map_err(failed)?;
            // From here on, a failure releases what was taken.
            let mut device = Device {
                api,
                ordinal,
                context,
                module: std::ptr::null_mut(),
                description,
                functions: BTreeMap::new(),
                weights: Mutex::new(HashMap::new()),
            };
            api.check((api.ctx_set_current)(context), "cuCtxSetCurrent").map_err(failed)?;
            // The kernels' buffers come from the device heap (PTX malloc/free); its size can
            // only be set before the first kernel that uses it runs.
            let heap = heap_bytes().map_err(failed)?;
            api.check((api.ctx_set_limit)(CU_LIMIT_MALLOC_HEAP_SIZE, heap), "cuCtxSetLimit(CU_LIMIT_MALLOC_HEAP_SIZE)")
                .map_err(failed)?;
            device.module = device.load_module(ptx).map_err(failed)?;
            let text = String::from_utf8_lossy(ptx);
            for kernel in kernels.iter() {
                let entry = entry_params(&text, &kernel.name)
                    .ok_or_else(|| failed(format!("the embedded PTX has no kernel `{}`", kernel.name)))?;
                let c_name = CString::new(kernel.name.as_str()).map_err(|_| failed(format!("bad kernel name `{}`", kernel.name)))?;
                let mut handle: CuFunction = std::ptr::null_mut();
                api.check((api.module_get_function)(&mut handle, device.module, c_name.as_ptr()), &format!("cuModuleGetFunction(`{}`)", kernel.name))
                    .map_err(failed)?;
                device.functions.insert(kernel.name.clone(), Function { handle, entry });
            }
            Ok(device)
        }
    }

    /// Loads the PTX into the current context; a JIT error comes with the driver's log.
    fn load_module(&self, ptx: &[u8]) -> Result<CuModule, String> {
        let image = CString::new(ptx).map_err(|_| "the embedded PTX contains a NUL byte".to_string())?;
        let mut log = vec![0u8; 16 * 1024];
        let mut options = [CU_JIT_ERROR_LOG_BUFFER, CU_JIT_ERROR_LOG_BUFFER_SIZE_BYTES];
        // The size option's value is the number itself in the pointer (cuda.h).
        let mut values = [log.as_mut_ptr() as *mut c_void, (log.len() - 1) as *mut c_void];
        let mut module: CuModule = std::ptr::null_mut();
        // SAFETY: a NUL-terminated image, two options with their values, a log buffer of
        // the size given (one byte kept for the NUL).
        let status = unsafe {
            (self.api.module_load_data_ex)(&mut module, image.as_ptr() as *const c_void, 2, options.as_mut_ptr(), values.as_mut_ptr())
        };
        if status != 0 {
            let end = log.iter().position(|b| *b == 0).unwrap_or(log.len());
            let log = String::from_utf8_lossy(&log[..end]).trim().replace('\n', " | ");
            let log = if log.is_empty() { String::new() } else { format!("; the PTX compiler said: {log}") };
            return Err(format!("loading the embedded PTX (cuModuleLoadDataEx) failed: {}{log}", self.api.describe(status)));
        }
        Ok(module)
    }

    /// What the device is (`CUDA device 0, NVIDIA H100 80GB HBM3 (sm_90)`).
    pub fn description(&self) -> &str {
        &self.description
    }

    /// A device buffer of `bytes` (at least one byte).
    fn alloc(&self, bytes: usize) -> Result<CuDevicePtr, String> {
        let mut ptr: CuDevicePtr = 0;
        // SAFETY: an out-pointer of the right type.
        self.api.check(unsafe { (self.api.mem_alloc)(&mut ptr, bytes.max(1)) }, &format!("cuMemAlloc of {bytes} bytes"))?;
        Ok(ptr)
    }

    /// Runs `kernel` on the GPU: grid = its workgroups, one thread per block. Arguments are
    /// copied as [`Access`] says; returns when the results are back in host memory.
    pub fn launch(&self, kernel: &Kernel, args: &[&Memref]) -> Result<(), String> {
        let name = &kernel.name;
        let function = self.functions.get(name).ok_or_else(|| format!("the GPU module has no kernel `{name}`"))?;
        if let Some(ty) = &function.entry.by_value {
            return Err(format!(
                "kernel `{name}` takes a `{ty}` parameter by value (a scalar fn parameter), but the GPU path passes memref descriptors only"
            ));
        }
        if args.len() != kernel.num_args {
            return Err(format!("internal error: kernel `{name}` takes {} arguments, given {}", kernel.num_args, args.len()));
        }
        let grid = c_uint::try_from(kernel.grid)
            .ok()
            .filter(|g| *g >= 1 && *g <= i32::MAX as c_uint)
            .ok_or_else(|| format!("kernel `{name}`: a grid of {} workgroups does not fit a CUDA grid", kernel.grid))?;
        let api = &self.api;
        let mut weights = self.weights.lock().unwrap_or_else(|e| e.into_inner());
        // SAFETY: the context this device retained.
        api.check(unsafe { (api.ctx_set_current)(self.context) }, "cuCtxSetCurrent")?;
        let mut scratch = Scratch { api, buffers: Vec::new() };
        let mut device_ptrs = Vec::with_capacity(args.len());
        let mut sizes = Vec::with_capacity(args.len());
        for (i, arg) in args.iter().enumerate() {
            let bytes = arg
                .byte_len()
                .filter(|_| arg.element_size() > 0)
                .ok_or_else(|| format!("kernel `{name}`: argument {i} has a descriptor the GPU path cannot copy"))?;
            let host = arg.aligned();
            let upload = |ptr: CuDevicePtr| -> Result<(), String> {
                if bytes == 0 {
                    return Ok(());
                }
                // SAFETY: the descriptor's memory holds `bytes` bytes at `host` (Memref's
                // contract) and the buffer was allocated with at least that size.
                api.check(unsafe { (api.memcpy_htod)(ptr, host as *const c_void, bytes) }, &format!("kernel `{name}`: cuMemcpyHtoD of argument {i}"))
            };
            let ptr = if arg.access() == Access::Weight {
                match weights.get(&(host as usize, bytes)) {
                    Some(ptr) => *ptr,
                    None => {
                        let ptr = self.alloc(bytes)?;
                        if let Err(e) = upload(ptr) {
                            // SAFETY: just allocated, not shared.
                            unsafe { (api.mem_free)(ptr) };
                            return Err(e);
                        }
                        weights.insert((host as usize, bytes), ptr);
                        ptr
                    }
                }
            } else {
                let ptr = self.alloc(bytes)?;
                scratch.buffers.push(ptr);
                upload(ptr)?;
                ptr
            };
            device_ptrs.push(ptr);
            sizes.push(bytes);
        }
        let mut values = kernel_params(args, &device_ptrs);
        if values.len() != function.entry.params {
            return Err(format!(
                "kernel `{name}`: {} parameters were built from its memref descriptors, but its PTX entry takes {} (the descriptor ABI does not match)",
                values.len(),
                function.entry.params
            ));
        }
        let mut params: Vec<*mut c_void> = values.iter_mut().map(|v| v as *mut u64 as *mut c_void).collect();
        // SAFETY: `params` points to one u64 per PTX parameter (all are .u64), alive until
        // the launch has been synchronised.
        unsafe {
            api.check(
                (api.launch_kernel)(function.handle, grid, 1, 1, 1, 1, 1, 0, std::ptr::null_mut(), params.as_mut_ptr(), std::ptr::null_mut()),
                &format!("launching kernel `{name}` (cuLaunchKernel, grid {grid})"),
            )?;
            api.check((api.ctx_synchronize)(), &format!("kernel `{name}` on the GPU (cuCtxSynchronize)"))?;
        }
        for (i, ((arg, ptr), bytes)) in args.iter().zip(&device_ptrs).zip(&sizes).enumerate() {
            if arg.access() == Access::ReadWrite && *bytes > 0 {
                // SAFETY: as for the upload; the host memory is writable (Access::ReadWrite).
                api.check(
                    unsafe { (api.memcpy_dtoh)(arg.aligned() as *mut c_void, *ptr, *bytes) },
                    &format!("kernel `{name}`: cuMemcpyDtoH of argument {i}"),
                )?;
            }
        }
        Ok(())
    }
}

impl Drop for Device {
    fn drop(&mut self) {
        let api = self.api;
        let weights = std::mem::take(self.weights.get_mut().unwrap_or_else(|e| e.into_inner()));
        // SAFETY: the handles this device created; nothing uses them any more. Errors are
        // ignored: the process is about to end or go on without the GPU.
        unsafe {
            (api.ctx_set_current)(self.context);
            for ptr in weights.into_values() {
                (api.mem_free)(ptr);
            }
            if !self.module.is_null() {
                (api.module_unload)(self.module);
            }
            (api.primary_ctx_release)(self.ordinal);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_memref_expands_to_three_plus_two_per_dim() {
        let scalar = [7i64];
        let ids = [1i64, 2, 3];
        let cache = vec![0f32; 2 * 4 * 3 * 5];
        let s = Memref::new(scalar.as_ptr(), &[]).read_only();
        let v = Memref::new(ids.as_ptr(), &[3]).read_only();
        let c = Memref::new(cache.as_ptr(), &[2, 4, 3, 5]);
        let params = kernel_params(&[&s, &v, &c], &[0x100, 0x200, 0x300]);
        assert_eq!(params.len(), 3 + 5 + 11);
        assert_eq!(&params[..3], &[0x100, 0x100, 0]);
        assert_eq!(&params[3..8], &[0x200, 0x200, 0, 3, 1]);
        assert_eq!(&params[8..], &[0x300, 0x300, 0, 2, 4, 3, 5, 60, 15, 5, 1]);
    }

    #[test]
    fn offsets_keep_their_bits() {
        let data = [0f32; 4];
        let m = Memref::new(data.as_ptr(), &[4]);
        let params = kernel_params(&[&m], &[u64::MAX]);
        assert_eq!(params, [u64::MAX, u64::MAX, 0, 4, 1]);
    }

    #[test]
    fn entry_params_counts_the_ptx_parameters() {
        let ptx = "
.visible .entry cosine(
\t.param .u64 cosine_param_0,
\t.param .u64 cosine_param_1,
\t.param .u64 cosine_param_2
)
{
\tret;
}
.visible .entry scale(
\t.param .f32 scale_param_0,
\t.param .f32 scale_param_1,
\t.param .u64 .ptr .align 1 scale_param_2,
\t.param .u64 .ptr .align 1 scale_param_3,
\t.param .u64 scale_param_4
)
{
}
";
        let entry = |params, by_value: Option<&str>| Some(Entry { params, by_value: by_value.map(str::to_string) });
        assert_eq!(entry_params(ptx, "cosine"), entry(3, None));
        assert_eq!(entry_params(ptx, "scale"), entry(5, Some(".f32")));
        assert_eq!(entry_params(ptx, "cos"), None);
    }

    #[test]
    fn a_missing_driver_is_no_gpu() {
        match Device::open_library("libcuda-that-does-not-exist.so.1", b"", &KernelTable::default()) {
            Err(OpenError::NoGpu(why)) => assert!(why.contains("cannot be loaded"), "{why}"),
            other => panic!("expected NoGpu, got {other:?}"),
        }
    }
}
