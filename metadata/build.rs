//! Declarations for the part of libxmlsec1 that `saml::xmlsec` calls directly: keeping a
//! signing key loaded between signatures, which samael's API cannot (it decodes the DER key for
//! every signature). bindgen reads the installed headers, so struct layouts (the signature
//! context's `signKey`) follow the library that is linked, whatever its version or size type.

use std::env;
use std::path::PathBuf;
use std::process::Command;

fn main() {
    println!("cargo:rerun-if-changed=xmlsec/bindings.h");
    let cflags = Command::new("xmlsec1-config")
        .arg("--cflags")
        .output()
        .expect("xmlsec1-config --cflags (Debian: libxmlsec1-dev; scripts/setup installs it)")
        .stdout;
    let cflags: Vec<String> = String::from_utf8(cflags)
        .expect("xmlsec1-config prints UTF-8")
        .split_whitespace()
        .map(str::to_owned)
        .collect();
    assert!(
        cflags.iter().any(|f| f == "-DXMLSEC_CRYPTO_OPENSSL=1"),
        "libxmlsec1 must be built for OpenSSL (xmlsec1-config --cflags: {cflags:?})"
    );
    // The same libraries samael links; named here so that this crate does not lean on that.
    for lib in ["xmlsec1-openssl", "xmlsec1", "xml2"] {
        println!("cargo:rustc-link-lib={lib}");
    }
    let bindings = bindgen::Builder::default()
        .header("xmlsec/bindings.h")
        .clang_args(&cflags)
        .allowlist_function(
            "xmlSecOpenSSLAppKeyLoadMemory|xmlSecKeyDuplicate|xmlSecKeyDestroy|\
             xmlSecDSigCtxCreate|xmlSecDSigCtxDestroy|xmlSecDSigCtxSign|xmlSecFindNode|xmlSecAddIDs",
        )
        .allowlist_type("xmlSecDSigCtx")
        .layout_tests(false)
        .generate()
        .expect("bindgen reads the libxmlsec1 headers");
    let out = PathBuf::from(env::var("OUT_DIR").expect("cargo sets OUT_DIR"));
    bindings
        .write_to_file(out.join("xmlsec_bindings.rs"))
        .expect("OUT_DIR is writable");
}
