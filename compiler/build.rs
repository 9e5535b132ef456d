//! Compiles `src/codegen/target_info.cpp`, the few questions about LLVM's targets that
//! LLVM's C API cannot answer (is this CPU name valid, which CPUs are there), with the
//! flags of the LLVM 22 that inkwell and mlir-sys link (`llvm-config --cxxflags`).

use std::process::Command;

fn main() {
    let source = "src/codegen/target_info.cpp";
    println!("cargo:rerun-if-changed={source}");
    println!("cargo:rerun-if-env-changed=LLVM_SYS_221_PREFIX");
    println!("cargo:rerun-if-env-changed=CXX");
    let prefix = std::env::var("LLVM_SYS_221_PREFIX").ok();
    let config = match &prefix {
        Some(prefix) => format!("{prefix}/bin/llvm-config"),
        None => "llvm-config".to_string(),
    };
    let flags = Command::new(&config).arg("--cxxflags").output().unwrap_or_else(|e| panic!("cannot run `{config}`: {e}"));
    assert!(flags.status.success(), "`{config} --cxxflags` failed");
    let mut build = cc::Build::new();
    build.cpp(true).file(source).warnings(false);
    // LLVM's own clang (tools/setup.sh installs clang-22) unless $CXX names another compiler.
    if std::env::var_os("CXX").is_none() {
        if let Some(clang) = prefix.map(|p| std::path::PathBuf::from(p).join("bin/clang++")).filter(|p| p.exists()) {
            build.compiler(clang);
        }
    }
    for flag in String::from_utf8_lossy(&flags.stdout).split_whitespace() {
        if let Some(dir) = flag.strip_prefix("-I") {
            build.include(dir);
        } else if let Some(define) = flag.strip_prefix("-D") {
            let (name, value) = define.split_once('=').map_or((define, None), |(n, v)| (n, Some(v)));
            build.define(name, value);
        } else {
            build.flag(flag);
        }
    }
    build.compile("agentc_target_info");
}
