//! Validating `--cpu` and `--gpu` against what LLVM's x86-64 and NVPTX targets know, before
//! a target machine is made from them: LLVM itself only warns about an unknown CPU (and
//! generates for a generic one), and stops the process with a fatal error when the PTX
//! version is too old for the architecture. The questions LLVM's C API cannot answer go to
//! `target_info.cpp` (built by compiler/build.rs).

use std::ffi::{c_char, c_int, c_void, CStr, CString};

use inkwell::context::Context as LlvmContext;
use inkwell::targets::{CodeModel, FileType, InitializationConfig, RelocMode, Target, TargetTriple};
use inkwell::OptimizationLevel;

/// The triple of the CPU code (`--cpu`).
pub const X86_TRIPLE: &str = "x86_64-unknown-linux-gnu";
/// The triple of the GPU code (`--gpu`).
pub const NVPTX_TRIPLE: &str = "nvptx64-nvidia-cuda";
/// The oldest PTX version agentc writes (PTX ISA 8.0, CUDA 12.0); newer architectures get
/// the version they need.
pub const MIN_PTX_VERSION: u32 = 80;

unsafe extern "C" {
    fn agentc_cpu_is_valid(triple: *const c_char, cpu: *const c_char) -> c_int;
    fn agentc_cpu_names(triple: *const c_char, each: extern "C" fn(*const c_char, *mut c_void), data: *mut c_void) -> c_int;
    fn agentc_cpu_has_feature(triple: *const c_char, cpu: *const c_char, feature: *const c_char) -> c_int;
}

/// Whether the x86-64 CPU code is generated for has `feature` (LLVM's name, e.g.
/// `avx512vnni`): `cpu` as `--cpu` names it, or the host CPU (`None`) with the features
/// LLVM detects on it, as codegen uses them.
pub fn x86_cpu_has_feature(cpu: Option<&str>, feature: &str) -> bool {
    Target::initialize_x86(&InitializationConfig::default());
    match cpu {
        None => inkwell::targets::TargetMachine::get_host_cpu_features().to_string().split(',').any(|f| f.strip_prefix('+') == Some(feature)),
        Some(cpu) => {
            let (Ok(c_triple), Ok(c_cpu), Ok(c_feature)) = (CString::new(X86_TRIPLE), CString::new(cpu), CString::new(feature)) else {
                return false;
            };
            // SAFETY: three valid C strings; the target was initialised above.
            unsafe { agentc_cpu_has_feature(c_triple.as_ptr(), c_cpu.as_ptr(), c_feature.as_ptr()) == 1 }
        }
    }
}

extern "C" fn push_name(name: *const c_char, data: *mut c_void) {
    // SAFETY: `data` is the `Vec<String>` that `cpu_names` passes, `name` LLVM's C string.
    let names = unsafe { &mut *(data as *mut Vec<String>) };
    names.push(unsafe { CStr::from_ptr(name) }.to_string_lossy().into_owned());
}

fn is_valid(triple: &str, cpu: &str) -> Result<bool, String> {
    let (Ok(c_triple), Ok(c_cpu)) = (CString::new(triple), CString::new(cpu)) else { return Ok(false) };
    // SAFETY: two valid C strings; the target was initialised by the caller.
    match unsafe { agentc_cpu_is_valid(c_triple.as_ptr(), c_cpu.as_ptr()) } {
        1 => Ok(true),
        0 => Ok(false),
        _ => Err(format!("LLVM has no target for `{triple}` in this build of agentc")),
    }
}

/// The processor names LLVM knows for `triple` (sorted); empty when the target is absent.
pub fn cpu_names(triple: &str) -> Vec<String> {
    let mut names: Vec<String> = Vec::new();
    let Ok(c_triple) = CString::new(triple) else { return names };
    // SAFETY: `push_name` receives `names` back as its data pointer while the call runs.
    unsafe { agentc_cpu_names(c_triple.as_ptr(), push_name, &mut names as *mut Vec<String> as *mut c_void) };
    names
}

/// Checks `--cpu NAME`: an x86-64 processor LLVM knows (`x86-64-v3`, `znver4`, ...).
pub fn check_cpu(cpu: &str) -> Result<(), String> {
    Target::initialize_x86(&InitializationConfig::default());
    if is_valid(X86_TRIPLE, cpu)? {
        return Ok(());
    }
    Err(format!(
        "`--cpu {cpu}` is not an x86-64 CPU that LLVM knows: write e.g. `x86-64-v3`, `znver4` or `skylake-avx512` \
         (`llc -mtriple=x86_64 -mcpu=help` lists all {})",
        cpu_names(X86_TRIPLE).len()
    ))
}

/// Checks `--gpu NAME`: an NVIDIA architecture LLVM's NVPTX back end knows (`sm_80`,
/// `sm_90a`, `sm_100`, ...).
pub fn check_gpu(sm: &str) -> Result<(), String> {
    Target::initialize_nvptx(&InitializationConfig::default());
    if is_valid(NVPTX_TRIPLE, sm)? {
        return Ok(());
    }
    let mut names = cpu_names(NVPTX_TRIPLE);
    // sm_20 .. sm_121f in the order of their numbers (LLVM sorts them as text).
    names.sort_by_key(|name| {
        let digits: String = name.trim_start_matches("sm_").chars().take_while(char::is_ascii_digit).collect();
        (digits.parse::<u32>().unwrap_or(u32::MAX), name.clone())
    });
    Err(format!("`--gpu {sm}` is not an NVIDIA architecture that LLVM's NVPTX back end knows: one of {}", names.join(", ")))
}

/// The PTX feature (`+ptx80`, `+ptx86`, ...) to generate for the (valid) architecture `sm`:
/// the version LLVM picks for it by default (the oldest that supports it), at least
/// [`MIN_PTX_VERSION`]. LLVM's default is read from the `.version` line of an empty module
/// compiled for `sm`, so agentc follows the LLVM it links.
pub fn ptx_feature(sm: &str) -> Result<String, String> {
    check_gpu(sm)?;
    let triple = TargetTriple::create(NVPTX_TRIPLE);
    let target = Target::from_triple(&triple).map_err(|e| e.to_string())?;
    let machine = target
        .create_target_machine(&triple, sm, "", OptimizationLevel::None, RelocMode::Default, CodeModel::Default)
        .ok_or_else(|| format!("cannot create an NVPTX target machine for `{sm}`"))?;
    let llvm = LlvmContext::create();
    let module = llvm.create_module("ptx_version");
    module.set_triple(&triple);
    let buffer = machine.write_to_memory_buffer(&module, FileType::Assembly).map_err(|e| e.to_string())?;
    let text = String::from_utf8_lossy(buffer.as_slice()).into_owned();
    let version = text
        .lines()
        .find_map(|line| line.trim().strip_prefix(".version "))
        .and_then(|v| v.trim().split_once('.'))
        .and_then(|(major, minor)| Some(major.parse::<u32>().ok()? * 10 + minor.parse::<u32>().ok()?))
        .ok_or_else(|| format!("LLVM's NVPTX back end wrote no PTX version for `{sm}`"))?;
    Ok(format!("+ptx{}", version.max(MIN_PTX_VERSION)))
}
