//! openpoort's public keys as a JWK Set (RFC 7517), served at the discovery document's
//! `jwks_uri` so that relying parties can verify ID tokens and logout tokens.

use std::collections::HashSet;

use base64::Engine as _;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use certs::{Algorithm, KeyRecord};
use openssl::bn::{BigNum, BigNumContext};
use openssl::nid::Nid;
use openssl::pkey::PKey;
use openssl::sha::sha256;
use openssl::x509::X509;
use serde_json::{Map, Value, json};

use crate::jose::JoseError;

/// Each EC coordinate of a P-256 key is exactly 32 bytes in a JWK (RFC 7518, section 6.2.1.2).
const P256_COORDINATE_LEN: i32 = 32;

/// The public JWK of a stored key: `kty` RSA (`n`, `e`) or EC (`crv` P-256, `x`, `y`), with
/// `kid`, `alg` and `use` "sig"; a key with a certificate also gets `x5c` and `x5t#S256`.
///
/// The record's algorithm, key type and certificate are checked against each other, so that a
/// corrupt record is refused here rather than published as a key that verifies nothing.
pub fn jwk(record: &KeyRecord) -> Result<Value, JoseError> {
    let invalid = |reason: &str| JoseError::InvalidKeyRecord {
        kid: record.kid.clone(),
        reason: reason.to_owned(),
    };
    let public = PKey::public_key_from_pem(record.public_key_pem.as_bytes())
        .map_err(|_| invalid("public_key_pem is not a PEM public key"))?;

    let mut jwk = Map::new();
    match record.alg {
        Algorithm::Rs256 => {
            let rsa = public
                .rsa()
                .map_err(|_| invalid("an RS256 key must be an RSA key"))?;
            jwk.insert("kty".into(), json!("RSA"));
            // BigNum::to_vec is minimal big-endian: no leading zero bytes, as RFC 7518
            // section 6.3.1 requires.
            jwk.insert("n".into(), json!(URL_SAFE_NO_PAD.encode(rsa.n().to_vec())));
            jwk.insert("e".into(), json!(URL_SAFE_NO_PAD.encode(rsa.e().to_vec())));
        }
        Algorithm::Es256 => {
            let ec = public
                .ec_key()
                .map_err(|_| invalid("an ES256 key must be an EC key"))?;
            if ec.group().curve_name() != Some(Nid::X9_62_PRIME256V1) {
                return Err(invalid("an ES256 key must be on curve P-256"));
            }
            let mut x = BigNum::new()?;
            let mut y = BigNum::new()?;
            let mut ctx = BigNumContext::new()?;
            ec.public_key()
                .affine_coordinates(ec.group(), &mut x, &mut y, &mut ctx)?;
            jwk.insert("kty".into(), json!("EC"));
            jwk.insert("crv".into(), json!("P-256"));
            // Left-padded: about one key in 128 has a coordinate with a leading zero byte.
            jwk.insert(
                "x".into(),
                json!(URL_SAFE_NO_PAD.encode(x.to_vec_padded(P256_COORDINATE_LEN)?)),
            );
            jwk.insert(
                "y".into(),
                json!(URL_SAFE_NO_PAD.encode(y.to_vec_padded(P256_COORDINATE_LEN)?)),
            );
        }
    }
    jwk.insert("kid".into(), json!(record.kid));
    jwk.insert("alg".into(), json!(record.alg.as_str()));
    jwk.insert("use".into(), json!("sig"));

    if let Some(pem) = &record.certificate_pem {
        let certificate = X509::from_pem(pem.as_bytes())
            .map_err(|_| invalid("certificate_pem is not a PEM certificate"))?;
        if !certificate.public_key()?.public_eq(&public) {
            return Err(invalid(
                "certificate_pem certifies another key than public_key_pem",
            ));
        }
        let der = certificate.to_der()?;
        // x5c is standard base64 (RFC 7517 section 4.7), the thumbprint base64url (4.9).
        jwk.insert("x5c".into(), json!([STANDARD.encode(&der)]));
        jwk.insert(
            "x5t#S256".into(),
            json!(URL_SAFE_NO_PAD.encode(sha256(&der))),
        );
    }
    Ok(Value::Object(jwk))
}

/// `{"keys": [...]}` of the given records, in the given order.
///
/// The caller chooses what to publish: the current and next key of each algorithm, so that
/// relying parties have a key before it starts signing. Two records with one kid are refused,
/// because a verifier could not tell which of them a token names.
pub fn jwk_set(records: &[KeyRecord]) -> Result<Value, JoseError> {
    let mut seen = HashSet::new();
    let mut keys = Vec::with_capacity(records.len());
    for record in records {
        if !seen.insert(record.kid.as_str()) {
            return Err(JoseError::InvalidKeyRecord {
                kid: record.kid.clone(),
                reason: "the kid appears more than once in the key set".to_owned(),
            });
        }
        keys.push(jwk(record)?);
    }
    Ok(json!({ "keys": keys }))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::jose::tests::key_pair;
    use openssl::ec::{EcGroup, EcKey};
    use openssl::rsa::Rsa;

    fn decode(jwk: &Value, member: &str) -> Vec<u8> {
        URL_SAFE_NO_PAD
            .decode(jwk[member].as_str().unwrap())
            .unwrap()
    }

    #[test]
    fn rsa_jwk_round_trips_to_the_same_public_key() {
        let (record, _) = key_pair(Algorithm::Rs256);
        let jwk = jwk(&record).unwrap();
        assert_eq!(jwk["kty"], "RSA");
        assert_eq!(jwk["kid"], record.kid.as_str());
        assert_eq!(jwk["alg"], "RS256");
        assert_eq!(jwk["use"], "sig");
        assert_eq!(jwk["e"], "AQAB");
        let n = decode(&jwk, "n");
        assert_eq!(n.len(), 256);
        assert_ne!(n[0], 0, "n must not have a leading zero byte");

        let rebuilt = Rsa::from_public_components(
            BigNum::from_slice(&n).unwrap(),
            BigNum::from_slice(&decode(&jwk, "e")).unwrap(),
        )
        .unwrap();
        let rebuilt = PKey::from_rsa(rebuilt).unwrap();
        let stored = PKey::public_key_from_pem(record.public_key_pem.as_bytes()).unwrap();
        assert!(rebuilt.public_eq(&stored));
        let (other, _) = key_pair(Algorithm::Rs256);
        let other = PKey::public_key_from_pem(other.public_key_pem.as_bytes()).unwrap();
        assert!(!rebuilt.public_eq(&other));
    }

    #[test]
    fn ec_jwk_coordinates_are_32_bytes() {
        // About one key in 128 has a coordinate that starts with a zero byte, which must be kept
        // rather than dropped; keep generating until one has been seen (expected after about
        // 128 keys; 20,000 misses it with a probability below 1e-60).
        let group = EcGroup::from_curve_name(Nid::X9_62_PRIME256V1).unwrap();
        let (template, _) = key_pair(Algorithm::Es256);
        let mut saw_leading_zero = false;
        for _ in 0..20_000 {
            let key = PKey::from_ec_key(EcKey::generate(&group).unwrap()).unwrap();
            let record = KeyRecord {
                public_key_pem: String::from_utf8(key.public_key_to_pem().unwrap()).unwrap(),
                ..template.clone()
            };
            let jwk = jwk(&record).unwrap();
            assert_eq!(
                (jwk["kty"].as_str(), jwk["crv"].as_str()),
                (Some("EC"), Some("P-256"))
            );
            let (x, y) = (decode(&jwk, "x"), decode(&jwk, "y"));
            assert_eq!((x.len(), y.len()), (32, 32));

            let rebuilt = EcKey::from_public_key_affine_coordinates(
                &group,
                &BigNum::from_slice(&x).unwrap(),
                &BigNum::from_slice(&y).unwrap(),
            )
            .unwrap();
            assert!(PKey::from_ec_key(rebuilt).unwrap().public_eq(&key));
            if x[0] == 0 || y[0] == 0 {
                saw_leading_zero = true;
                break;
            }
        }
        assert!(saw_leading_zero);
        assert!(jwk(&template).unwrap().get("x5c").is_none());
    }

    #[test]
    fn jwks_contains_x5c_for_rsa_keys_with_certificate() {
        let (rs, _) = key_pair(Algorithm::Rs256);
        let (es, _) = key_pair(Algorithm::Es256);
        let set = jwk_set(&[rs.clone(), es.clone()]).unwrap();
        let keys = set["keys"].as_array().unwrap();
        assert_eq!(keys.len(), 2);
        assert_eq!(keys[0]["kid"], rs.kid.as_str());
        assert_eq!(keys[1]["kid"], es.kid.as_str());

        let certificate = X509::from_pem(rs.certificate_pem.as_ref().unwrap().as_bytes()).unwrap();
        let der = certificate.to_der().unwrap();
        assert_eq!(keys[0]["x5c"], json!([STANDARD.encode(&der)]));
        assert_eq!(
            keys[0]["x5t#S256"],
            json!(URL_SAFE_NO_PAD.encode(sha256(&der)))
        );
        assert!(keys[1].get("x5c").is_none() && keys[1].get("x5t#S256").is_none());

        // Nothing private is ever published.
        for key in keys {
            for member in ["d", "p", "q", "dp", "dq", "qi", "k"] {
                assert!(key.get(member).is_none(), "{member}");
            }
        }
        let without_certificate = KeyRecord {
            certificate_pem: None,
            ..rs.clone()
        };
        assert!(jwk(&without_certificate).unwrap().get("x5c").is_none());
    }

    #[test]
    fn inconsistent_records_are_not_published() {
        let (rs, _) = key_pair(Algorithm::Rs256);
        let (rs2, _) = key_pair(Algorithm::Rs256);
        let (es, _) = key_pair(Algorithm::Es256);

        let foreign_certificate = KeyRecord {
            certificate_pem: rs2.certificate_pem.clone(),
            ..rs.clone()
        };
        let wrong_type = KeyRecord {
            alg: Algorithm::Es256,
            certificate_pem: None,
            ..rs.clone()
        };
        let not_pem = KeyRecord {
            public_key_pem: "not a key".to_owned(),
            ..es.clone()
        };
        for record in [foreign_certificate, wrong_type, not_pem] {
            assert!(
                matches!(jwk(&record), Err(JoseError::InvalidKeyRecord { ref kid, .. }) if *kid == record.kid),
                "{record:?}"
            );
        }
        assert!(matches!(
            jwk_set(&[es.clone(), rs, es]),
            Err(JoseError::InvalidKeyRecord { .. })
        ));
    }
}
