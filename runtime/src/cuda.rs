//! The CUDA driver API, loaded at run time (`libcuda.so.1` through `dlopen`), so
//! executables start on machines without a GPU or driver and can say so.
//!
//! Today the runtime only probes for a usable GPU. Running fragments from the embedded PTX
//! is not built yet: a plan that places fragments on a GPU runs them on the CPU when
//! `--fallback cpu` is given, and otherwise fails with a message that says why.

use std::ffi::{CStr, CString, c_char, c_int, c_void};

unsafe extern "C" {
    fn dlopen(filename: *const c_char, flags: c_int) -> *mut c_void;
    fn dlsym(handle: *mut c_void, symbol: *const c_char) -> *mut c_void;
    fn dlerror() -> *const c_char;
}

const RTLD_NOW: c_int = 2;

fn last_dl_error() -> String {
    // SAFETY: dlerror returns null or a NUL-terminated string owned by libc.
    unsafe {
        let e = dlerror();
        if e.is_null() { "unknown error".into() } else { CStr::from_ptr(e).to_string_lossy().into_owned() }
    }
}

/// Looks for a usable NVIDIA GPU: loads the driver library, calls `cuInit(0)` and
/// `cuDeviceGetCount`. Returns the number of GPUs, or why there is none usable.
pub fn probe() -> Result<usize, String> {
    let library = CString::new("libcuda.so.1").expect("no NUL");
    // SAFETY: dlopen/dlsym with valid NUL-terminated names; the symbols are called with the
    // driver API's documented signatures.
    unsafe {
        let handle = dlopen(library.as_ptr(), RTLD_NOW);
        if handle.is_null() {
            return Err(format!("the CUDA driver (libcuda.so.1) cannot be loaded: {}", last_dl_error()));
        }
        let symbol = |name: &str| {
            let name = CString::new(name).expect("no NUL");
            let f = dlsym(handle, name.as_ptr());
            if f.is_null() { Err(format!("the CUDA driver has no `{}`", name.to_string_lossy())) } else { Ok(f) }
        };
        let init: unsafe extern "C" fn(u32) -> c_int = std::mem::transmute(symbol("cuInit")?);
        let count: unsafe extern "C" fn(*mut c_int) -> c_int = std::mem::transmute(symbol("cuDeviceGetCount")?);
        let status = init(0);
        if status != 0 {
            return Err(format!("cuInit failed with CUDA error {status}"));
        }
        let mut n: c_int = 0;
        let status = count(&mut n);
        if status != 0 {
            return Err(format!("cuDeviceGetCount failed with CUDA error {status}"));
        }
        if n <= 0 {
            return Err("the CUDA driver sees no GPU".into());
        }
        Ok(n as usize)
    }
}
