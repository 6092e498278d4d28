//! A throw-away PKI for the partner listener, for its tests and load tools: a CA that signs the
//! listener's certificate for 127.0.0.1 and `localhost`, and self-signed client certificates as
//! publishers make them (openpoort pins a client certificate by its fingerprint, whoever issued
//! it).

use std::path::{Path, PathBuf};

use openssl::asn1::Asn1Time;
use openssl::bn::{BigNum, MsbOption};
use openssl::ec::{EcGroup, EcKey};
use openssl::hash::MessageDigest;
use openssl::nid::Nid;
use openssl::pkey::{PKey, Private};
use openssl::x509::extension::{
    BasicConstraints, ExtendedKeyUsage, KeyUsage, SubjectAlternativeName,
};
use openssl::x509::{X509, X509Builder, X509NameBuilder};

/// A P-256 key and its certificate.
#[derive(Clone)]
pub struct Identity {
    pub key: PKey<Private>,
    pub cert: X509,
}

impl Identity {
    /// A self-signed client certificate as a publisher makes one, valid for a year.
    pub fn self_signed_client(cn: &str) -> Identity {
        let key = p256();
        let cert = certificate(cn, &key, None, days(0, 365), |_| {});
        Identity { key, cert }
    }

    /// A self-signed client certificate that expired yesterday.
    pub fn expired_client(cn: &str) -> Identity {
        let key = p256();
        let now = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .expect("clock")
            .as_secs() as i64;
        let validity = (
            Asn1Time::from_unix(now - 30 * 86_400).expect("from"),
            Asn1Time::from_unix(now - 86_400).expect("until"),
        );
        let cert = certificate(cn, &key, None, validity, |_| {});
        Identity { key, cert }
    }

    pub fn cert_pem(&self) -> String {
        String::from_utf8(self.cert.to_pem().expect("PEM")).expect("PEM is ASCII")
    }
}

/// The CA and the listener's certificate and key, as files in a folder of their own.
pub struct ListenerPki {
    pub dir: tempfile::TempDir,
    pub ca: X509,
}

impl ListenerPki {
    pub fn new() -> ListenerPki {
        let dir = tempfile::tempdir().expect("PKI folder");
        let ca_key = p256();
        let ca = certificate("openpoort test CA", &ca_key, None, days(0, 30), |b| {
            b.append_extension(BasicConstraints::new().critical().ca().build().expect("bc"))
                .expect("CA");
            b.append_extension(
                KeyUsage::new()
                    .critical()
                    .key_cert_sign()
                    .crl_sign()
                    .build()
                    .expect("ku"),
            )
            .expect("key usage");
        });
        let key = p256();
        let server = certificate("localhost", &key, Some((&ca, &ca_key)), days(0, 30), |b| {
            let san = SubjectAlternativeName::new()
                .dns("localhost")
                .ip("127.0.0.1")
                .build(&b.x509v3_context(Some(&ca), None))
                .expect("SAN");
            b.append_extension(san).expect("SAN");
            b.append_extension(ExtendedKeyUsage::new().server_auth().build().expect("eku"))
                .expect("EKU");
        });
        let mut chain = server.to_pem().expect("PEM");
        chain.extend(ca.to_pem().expect("PEM"));
        std::fs::write(dir.path().join("server.pem"), chain).expect("server certificate");
        std::fs::write(
            dir.path().join("server.key"),
            key.private_key_to_pem_pkcs8().expect("PKCS#8"),
        )
        .expect("server key");
        std::fs::write(dir.path().join("ca.pem"), ca.to_pem().expect("PEM")).expect("CA");
        ListenerPki { dir, ca }
    }

    pub fn certificate_file(&self) -> PathBuf {
        self.dir.path().join("server.pem")
    }

    pub fn key_file(&self) -> PathBuf {
        self.dir.path().join("server.key")
    }

    /// The CA alone, for clients' trust stores.
    pub fn ca_file(&self) -> PathBuf {
        self.dir.path().join("ca.pem")
    }

    pub fn folder(&self) -> &Path {
        self.dir.path()
    }
}

impl Default for ListenerPki {
    fn default() -> ListenerPki {
        ListenerPki::new()
    }
}

fn days(from: u32, until: u32) -> (Asn1Time, Asn1Time) {
    (
        Asn1Time::days_from_now(from).expect("from"),
        Asn1Time::days_from_now(until).expect("until"),
    )
}

fn p256() -> PKey<Private> {
    let group = EcGroup::from_curve_name(Nid::X9_62_PRIME256V1).expect("P-256");
    PKey::from_ec_key(EcKey::generate(&group).expect("EC key")).expect("key")
}

fn certificate(
    cn: &str,
    key: &PKey<Private>,
    issuer: Option<(&X509, &PKey<Private>)>,
    validity: (Asn1Time, Asn1Time),
    build: impl FnOnce(&mut X509Builder),
) -> X509 {
    let mut name = X509NameBuilder::new().expect("name");
    name.append_entry_by_text("CN", cn).expect("CN");
    name.append_entry_by_text("O", "openpoort test").expect("O");
    let name = name.build();
    let mut b = X509::builder().expect("certificate");
    b.set_version(2).expect("version");
    let mut serial = BigNum::new().expect("serial");
    serial
        .rand(64, MsbOption::MAYBE_ZERO, false)
        .expect("random serial");
    b.set_serial_number(&serial.to_asn1_integer().expect("serial"))
        .expect("serial");
    b.set_subject_name(&name).expect("subject");
    b.set_pubkey(key).expect("public key");
    b.set_not_before(&validity.0).expect("not before");
    b.set_not_after(&validity.1).expect("not after");
    build(&mut b);
    match issuer {
        Some((ca, ca_key)) => {
            b.set_issuer_name(ca.subject_name()).expect("issuer");
            b.sign(ca_key, MessageDigest::sha256()).expect("signed");
        }
        None => {
            b.set_issuer_name(&name).expect("issuer");
            b.sign(key, MessageDigest::sha256()).expect("self-signed");
        }
    }
    b.build()
}
