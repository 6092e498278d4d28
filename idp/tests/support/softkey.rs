//! A software authenticator for the passkey tests: a P-256 key (OpenSSL), "none" attestation,
//! discoverable (it keeps the user handle it was given), user verification and a signature
//! counter. It answers the options openpoort's pages hand to `navigator.credentials` with the
//! JSON the page's script posts. Knobs make the answers wrong in one way at a time: another
//! origin, another relying party id, a tampered signature, no user verification.

use std::collections::BTreeMap;

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use openssl::ec::{EcGroup, EcKey};
use openssl::ecdsa::EcdsaSig;
use openssl::nid::Nid;
use openssl::pkey::Private;
use serde_cbor_2::Value;
use serde_json::{Value as Json, json};

/// The origin openpoort's demo answers at (its default public URL).
pub const ORIGIN: &str = "http://localhost:8080";
pub const RP_ID: &str = "localhost";

pub struct SoftKey {
    key: EcKey<Private>,
    pub credential_id: Vec<u8>,
    /// The user handle the relying party gave at registration (base64url).
    pub user_handle: Option<String>,
    pub counter: u32,
}

/// How to answer: the honest answer is the default.
#[derive(Clone)]
pub struct Answer {
    pub origin: String,
    pub rp_id: String,
    pub user_verified: bool,
    pub tamper_signature: bool,
    /// Answer with this user handle instead of the key's own (base64url).
    pub user_handle: Option<String>,
}

impl Default for Answer {
    fn default() -> Answer {
        Answer {
            origin: ORIGIN.to_owned(),
            rp_id: RP_ID.to_owned(),
            user_verified: true,
            tamper_signature: false,
            user_handle: None,
        }
    }
}

fn b64(bytes: &[u8]) -> String {
    URL_SAFE_NO_PAD.encode(bytes)
}

fn unb64(text: &str) -> Vec<u8> {
    URL_SAFE_NO_PAD
        .decode(text.trim_end_matches('='))
        .expect("base64url")
}

fn flags(user_verified: bool, attested: bool) -> u8 {
    let mut f = 0x01; // user present
    if user_verified {
        f |= 0x04;
    }
    if attested {
        f |= 0x40;
    }
    f
}

/// The `data-options` JSON of the form `form_id` in a page, unescaped.
pub fn options_in(page: &str, form_id: &str) -> Json {
    let form = page
        .split(&format!("id=\"{form_id}\""))
        .nth(1)
        .unwrap_or_else(|| panic!("no form {form_id} in {page}"));
    let raw = form
        .split("data-options=\"")
        .nth(1)
        .and_then(|rest| rest.split('"').next())
        .expect("data-options");
    let text = raw
        .replace("&#34;", "\"")
        .replace("&quot;", "\"")
        .replace("&#39;", "'")
        .replace("&#x27;", "'")
        .replace("&#x2f;", "/")
        .replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&amp;", "&");
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("{e}: {text}"))
}

impl SoftKey {
    pub fn new() -> SoftKey {
        let group = EcGroup::from_curve_name(Nid::X9_62_PRIME256V1).unwrap();
        let mut id = vec![0u8; 16];
        openssl::rand::rand_bytes(&mut id).unwrap();
        SoftKey {
            key: EcKey::generate(&group).unwrap(),
            credential_id: id,
            user_handle: None,
            counter: 0,
        }
    }

    pub fn credential_id_text(&self) -> String {
        b64(&self.credential_id)
    }

    fn cose_key(&self) -> Value {
        let group = EcGroup::from_curve_name(Nid::X9_62_PRIME256V1).unwrap();
        let mut ctx = openssl::bn::BigNumContext::new().unwrap();
        let (mut x, mut y) = (
            openssl::bn::BigNum::new().unwrap(),
            openssl::bn::BigNum::new().unwrap(),
        );
        self.key
            .public_key()
            .affine_coordinates(&group, &mut x, &mut y, &mut ctx)
            .unwrap();
        let mut map = BTreeMap::new();
        map.insert(Value::Integer(1), Value::Integer(2)); // kty: EC2
        map.insert(Value::Integer(3), Value::Integer(-7)); // alg: ES256
        map.insert(Value::Integer(-1), Value::Integer(1)); // crv: P-256
        map.insert(
            Value::Integer(-2),
            Value::Bytes(x.to_vec_padded(32).unwrap()),
        );
        map.insert(
            Value::Integer(-3),
            Value::Bytes(y.to_vec_padded(32).unwrap()),
        );
        Value::Map(map)
    }

    fn client_data(kind: &str, challenge: &str, origin: &str) -> Vec<u8> {
        json!({"type": kind, "challenge": challenge, "origin": origin, "crossOrigin": false})
            .to_string()
            .into_bytes()
    }

    /// Creates the credential for `options` (what the page gave `navigator.credentials.create`):
    /// the registration response as the script posts it.
    pub fn register(&mut self, options: &Json, how: &Answer) -> String {
        let key = &options["publicKey"];
        let challenge = key["challenge"].as_str().expect("challenge");
        assert_eq!(
            key["rp"]["id"], RP_ID,
            "the relying party id is the public URL's host"
        );
        self.user_handle = Some(key["user"]["id"].as_str().expect("user id").to_owned());
        let client_data = Self::client_data("webauthn.create", challenge, &how.origin);

        let mut auth_data = openssl::sha::sha256(how.rp_id.as_bytes()).to_vec();
        auth_data.push(flags(how.user_verified, true));
        auth_data.extend(self.counter.to_be_bytes());
        auth_data.extend([0u8; 16]); // AAGUID: none
        auth_data.extend((self.credential_id.len() as u16).to_be_bytes());
        auth_data.extend(&self.credential_id);
        auth_data.extend(serde_cbor_2::to_vec(&self.cose_key()).unwrap());

        let mut attestation = BTreeMap::new();
        attestation.insert(Value::Text("fmt".into()), Value::Text("none".into()));
        attestation.insert(Value::Text("attStmt".into()), Value::Map(BTreeMap::new()));
        attestation.insert(Value::Text("authData".into()), Value::Bytes(auth_data));
        let attestation = serde_cbor_2::to_vec(&Value::Map(attestation)).unwrap();
        json!({
            "id": b64(&self.credential_id),
            "rawId": b64(&self.credential_id),
            "type": "public-key",
            "response": {
                "attestationObject": b64(&attestation),
                "clientDataJSON": b64(&client_data),
            },
            "extensions": {},
        })
        .to_string()
    }

    /// Signs in for `options` (what the page gave `navigator.credentials.get`), counting up: the
    /// assertion as the script posts it.
    pub fn assert(&mut self, options: &Json, how: &Answer) -> String {
        let key = &options["publicKey"];
        let challenge = key["challenge"].as_str().expect("challenge");
        self.counter += 1;
        let client_data = Self::client_data("webauthn.get", challenge, &how.origin);
        let mut auth_data = openssl::sha::sha256(how.rp_id.as_bytes()).to_vec();
        auth_data.push(flags(how.user_verified, false));
        auth_data.extend(self.counter.to_be_bytes());
        let mut signed = auth_data.clone();
        signed.extend(openssl::sha::sha256(&client_data));
        let digest = openssl::sha::sha256(&signed);
        let mut signature = EcdsaSig::sign(&digest, &self.key)
            .unwrap()
            .to_der()
            .unwrap();
        if how.tamper_signature {
            let last = signature.len() - 1;
            signature[last] ^= 0x01;
        }
        let user_handle = how
            .user_handle
            .clone()
            .or_else(|| self.user_handle.clone())
            .expect("registered first");
        json!({
            "id": b64(&self.credential_id),
            "rawId": b64(&self.credential_id),
            "type": "public-key",
            "response": {
                "authenticatorData": b64(&auth_data),
                "clientDataJSON": b64(&client_data),
                "signature": b64(&signature),
                "userHandle": user_handle,
            },
            "extensions": {},
        })
        .to_string()
    }

    /// The user handle as the staff id it stands for (a UUID's 16 bytes).
    pub fn user_handle_uuid(&self) -> String {
        let bytes = unb64(self.user_handle.as_deref().expect("registered"));
        uuid::Uuid::from_slice(&bytes).unwrap().to_string()
    }
}
