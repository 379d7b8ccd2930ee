//! Build script of the add-in: release packaging support only; the add-in's
//! code does not depend on anything generated here.
//!
//! 1. Stamps the ZIP manifest: reads `manifest/MANIFEST.XML`, replaces every
//!    `@VERSION@` with the package version from Cargo.toml and writes
//!    `$OUT_DIR/MANIFEST.XML`. `package/build.sh` finds that file through
//!    cargo's `build-script-executed` JSON message and puts it in the ZIP.
//!
//! No linker version script is added: rustc's own version script for a cdylib
//! already exports only the `#[no_mangle] pub extern` functions and ends in
//! `local: *;`, so the statically linked OpenSSL does not leak (checked by
//! `package/check.sh`). A second anonymous version script would also break
//! plain host builds: GNU ld rejects it ("anonymous version tag cannot be
//! combined with other version tags").

use std::env;
use std::fs;
use std::path::PathBuf;

fn main() {
    let root = PathBuf::from(env::var("CARGO_MANIFEST_DIR").expect("CARGO_MANIFEST_DIR"));
    let out = PathBuf::from(env::var("OUT_DIR").expect("OUT_DIR"));
    let version = env::var("CARGO_PKG_VERSION").expect("CARGO_PKG_VERSION");

    let template_path = root.join("manifest").join("MANIFEST.XML");
    println!("cargo:rerun-if-changed={}", template_path.display());
    let template = fs::read_to_string(&template_path)
        .unwrap_or_else(|e| panic!("cannot read {}: {e}", template_path.display()));
    assert!(
        template.contains("<bundle") && template.contains("type=\"native\""),
        "{} does not look like a 1C add-in manifest",
        template_path.display()
    );
    let stamped = template.replace("@VERSION@", &version);
    fs::write(out.join("MANIFEST.XML"), stamped).expect("cannot write MANIFEST.XML");
}
