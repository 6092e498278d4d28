//! Enveloped XML signatures through libxmlsec1 with a key that stays loaded.
//!
//! samael's `sign_xml` takes the key as DER and decodes it for every signature; with OpenSSL 3
//! that decoding costs several times the RSA signature itself. Here the key is decoded once
//! into an xmlsec key, and each signature gets a reference-counted duplicate of it. Parsing,
//! canonicalisation, digesting and signing are still libxml2's, xmlsec's and OpenSSL's.

use std::ptr::{NonNull, null};

use libxml::parser::Parser;

use super::SamlError;

#[allow(
    non_camel_case_types,
    non_snake_case,
    non_upper_case_globals,
    dead_code,
    unsafe_op_in_unsafe_fn,
    clippy::all
)]
mod ffi {
    include!(concat!(env!("OUT_DIR"), "/xmlsec_bindings.rs"));
}

const DSIG_NS: &std::ffi::CStr = c"http://www.w3.org/2000/09/xmldsig#";
const SIGNATURE: &std::ffi::CStr = c"Signature";
const ID: &std::ffi::CStr = c"ID";

/// A private key loaded into libxmlsec1 once.
pub struct LoadedKey(NonNull<ffi::_xmlSecKey>);

// SAFETY: the key is never changed after loading; signing only reads it to make a duplicate
// (xmlSecKeyDuplicate takes a new reference on the OpenSSL key, which OpenSSL counts
// atomically), and it is destroyed once, in Drop, when no signature can be using it.
unsafe impl Send for LoadedKey {}
unsafe impl Sync for LoadedKey {}

impl LoadedKey {
    /// Loads a DER private key. libxmlsec1 must have been initialised (see `XmlSigner::new`).
    pub fn from_der(der: &[u8]) -> Result<LoadedKey, SamlError> {
        let len =
            u32::try_from(der.len()).map_err(|_| SamlError::Signing("key too long".into()))?;
        // SAFETY: the buffer is valid for `len` bytes; no password or callbacks are passed.
        let key = unsafe {
            ffi::xmlSecOpenSSLAppKeyLoadMemory(
                der.as_ptr(),
                len as _,
                ffi::xmlSecKeyDataFormat_xmlSecKeyDataFormatDer,
                null(),
                std::ptr::null_mut(),
                std::ptr::null_mut(),
            )
        };
        NonNull::new(key)
            .map(LoadedKey)
            .ok_or_else(|| SamlError::Signing("xmlsec could not load the signing key".into()))
    }

    /// Fills in the first `ds:Signature` template of `xml` in document order, the reference
    /// resolved through the `ID` attributes, and returns the whole document serialised.
    pub fn sign(&self, xml: &str) -> Result<String, SamlError> {
        let document = Parser::default()
            .parse_string(xml)
            .map_err(|e| SamlError::Signing(format!("document to sign: {e:?}")))?;
        let doc = document.doc_ptr() as *mut ffi::xmlDoc;
        // SAFETY: `doc` is a live document owned by `document` for this whole block; the
        // context is created and destroyed here, and the key duplicate it receives is freed
        // with it (xmlSecDSigCtxDestroy destroys signKey).
        unsafe {
            let root =
                libxml::bindings::xmlDocGetRootElement(document.doc_ptr()) as *mut ffi::xmlNode;
            if root.is_null() {
                return Err(SamlError::Signing("document to sign is empty".into()));
            }
            let mut ids = [ID.as_ptr().cast::<ffi::xmlChar>(), null()];
            ffi::xmlSecAddIDs(doc, root, ids.as_mut_ptr());
            let node =
                ffi::xmlSecFindNode(root, SIGNATURE.as_ptr().cast(), DSIG_NS.as_ptr().cast());
            if node.is_null() {
                return Err(SamlError::Signing(
                    "no signature template in the document".into(),
                ));
            }
            let ctx = ffi::xmlSecDSigCtxCreate(std::ptr::null_mut());
            if ctx.is_null() {
                return Err(SamlError::Signing(
                    "xmlsec could not create a context".into(),
                ));
            }
            let key = ffi::xmlSecKeyDuplicate(self.0.as_ptr());
            if key.is_null() {
                ffi::xmlSecDSigCtxDestroy(ctx);
                return Err(SamlError::Signing(
                    "xmlsec could not use the signing key".into(),
                ));
            }
            (*ctx).signKey = key;
            let status = ffi::xmlSecDSigCtxSign(ctx, node);
            ffi::xmlSecDSigCtxDestroy(ctx);
            if status < 0 {
                return Err(SamlError::Signing(
                    "xmlsec could not sign the document".into(),
                ));
            }
        }
        Ok(document.to_string())
    }
}

impl Drop for LoadedKey {
    fn drop(&mut self) {
        // SAFETY: loaded by xmlSecOpenSSLAppKeyLoadMemory and owned only by this value.
        unsafe { ffi::xmlSecKeyDestroy(self.0.as_ptr()) }
    }
}
