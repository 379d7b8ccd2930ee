//! Compiles the host side of the simulator (C++, cpp/host.cpp) with the system C++
//! compiler, and the small C++ test add-in (cpp/test_addin.cpp) as a shared library
//! whose path is exported to the crate as `ONEC_TEST_ADDIN`.
use std::env;
use std::path::PathBuf;
use std::process::Command;

fn main() {
    for f in [
        "cpp/host.cpp",
        "cpp/test_addin.cpp",
        "cpp/include/types.h",
        "cpp/include/ComponentBase.h",
        "cpp/include/AddInDefBase.h",
        "cpp/include/IMemoryManager.h",
    ] {
        println!("cargo:rerun-if-changed={f}");
    }

    cc::Build::new()
        .cpp(true)
        .std("c++17")
        .include("cpp/include")
        .file("cpp/host.cpp")
        .warnings(true)
        .extra_warnings(true)
        .compile("onec_sim_host");

    let out = PathBuf::from(env::var("OUT_DIR").unwrap());
    let target_os = env::var("CARGO_CFG_TARGET_OS").unwrap();
    let (prefix, suffix) = match target_os.as_str() {
        "windows" => ("", ".dll"),
        "macos" => ("lib", ".dylib"),
        _ => ("lib", ".so"),
    };
    let lib = out.join(format!("{prefix}onec_test_addin{suffix}"));
    let compiler = cc::Build::new()
        .cpp(true)
        .std("c++17")
        .include("cpp/include")
        .get_compiler();
    let mut cmd: Command = compiler.to_command();
    cmd.args([
        "-shared",
        "-fPIC",
        "-fvisibility=hidden",
        "-pthread",
        "-g",
        "-O1",
    ])
    .arg("cpp/test_addin.cpp")
    .arg("-o")
    .arg(&lib);
    if target_os == "windows" {
        cmd.args(["-static-libgcc", "-static-libstdc++"]);
    }
    let status = cmd
        .status()
        .expect("running the C++ compiler for the test add-in");
    assert!(
        status.success(),
        "building cpp/test_addin.cpp failed: {cmd:?}"
    );
    println!("cargo:rustc-env=ONEC_TEST_ADDIN={}", lib.display());
}
