//! A demo with the partner listener on, a test PKI (a CA that signs the listener's certificate,
//! and self-signed client certificates as publishers make them), and a TLS client over OpenSSL
//! whose protocol versions and cipher suites a test sets exactly.

use std::io::{Read, Write};
use std::net::TcpStream;
use std::path::PathBuf;

use openssl::hash::MessageDigest;
use openssl::ssl::{SslConnector, SslMethod, SslVerifyMode, SslVersion};
use openssl::x509::X509;
use serde_json::Value;

use openpoort_e2e::link::Link;
use openpoort_e2e::{Server, cli_ok, openpoort};

pub const PUBLISHER: &str = "demo-uitgeverij";

pub use openpoort_e2e::pki::{Identity, ListenerPki as Pki};

/// A client certificate as a publisher makes one: self-signed, valid for a year.
pub fn client_identity(cn: &str) -> Identity {
    Identity::self_signed_client(cn)
}

/// A client certificate that expired yesterday.
pub fn expired_identity(cn: &str) -> Identity {
    Identity::expired_client(cn)
}

/// Where a demo keeps its register.
#[derive(Clone, Copy)]
pub enum Register<'a> {
    /// The embedded default, a SQLite file in the demo's folder.
    Sqlite,
    /// A PostgreSQL schema of its own (`TEST_POSTGRES_URL`, set by scripts/test).
    Postgres,
    /// As `Postgres`, with the server reaching it through a relay a test can cut; the command
    /// line goes to the database directly.
    PostgresThrough(&'a Link),
}

/// `openpoort demo` with the partner listener on, and the publisher's first certificate.
pub struct PartnerDemo {
    pub dir: tempfile::TempDir,
    pub server: Server,
    pub pki: Pki,
    pub publisher: Identity,
    /// Dropped after the server (fields drop in order), which removes the schema.
    database: Option<openpoort_e2e::PgSchema>,
}

impl PartnerDemo {
    pub fn start() -> PartnerDemo {
        PartnerDemo::start_on(Register::Sqlite)
    }

    pub fn start_on(register: Register) -> PartnerDemo {
        let pki = Pki::new();
        let dir = tempfile::tempdir().expect("data folder");
        let database = match register {
            Register::Sqlite => None,
            Register::Postgres | Register::PostgresThrough(_) => {
                Some(openpoort_e2e::PgSchema::create())
            }
        };
        let mut cmd = openpoort(dir.path());
        if let Some(db) = &database {
            let url = match register {
                Register::PostgresThrough(link) => link.url_through(&db.url()),
                _ => db.url(),
            };
            cmd.env("OPENPOORT_DATABASE_URL", url);
        }
        cmd.env("OPENPOORT_SESSIONS_STORE", "memory")
            .env("OPENPOORT_PARTNER_LISTEN", "127.0.0.1:0")
            .env("OPENPOORT_PARTNER_CERTIFICATE", pki.certificate_file())
            .env("OPENPOORT_PARTNER_PRIVATE_KEY", pki.key_file())
            .arg("demo");
        let server = Server::start(cmd);
        assert_eq!(
            dir.path().join("data/openpoort.sqlite").exists(),
            database.is_none(),
            "the register is where the test put it"
        );
        let publisher = client_identity("Demo Uitgeverij koppeling");
        let demo = PartnerDemo {
            dir,
            server,
            pki,
            publisher,
            database,
        };
        demo.register(PUBLISHER, &demo.publisher.cert);
        demo
    }

    /// `openpoort ARGS` on this demo's register, which must succeed; its standard output.
    pub fn cli(&self, args: &[&str]) -> String {
        match &self.database {
            None => cli_ok(self.dir.path(), args),
            Some(_) => {
                let out = openpoort_e2e::run(self.command().args(args));
                assert!(
                    out.status.success(),
                    "openpoort {args:?}: {}",
                    String::from_utf8_lossy(&out.stderr)
                );
                String::from_utf8_lossy(&out.stdout).into_owned()
            }
        }
    }

    /// The command line in the demo's folder, on its register.
    fn command(&self) -> std::process::Command {
        let mut cmd = openpoort(self.dir.path());
        if let Some(db) = &self.database {
            cmd.env("OPENPOORT_DATABASE_URL", db.url());
        }
        cmd
    }

    /// Registers a certificate for a party on the command line; its output.
    pub fn register(&self, party: &str, cert: &X509) -> String {
        let out = self.try_register(party, &cert.to_pem().expect("PEM"));
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8_lossy(&out.stdout).into_owned()
    }

    /// `openpoort party certificate-add` with `pem` as the file, whatever it answers.
    pub fn try_register(&self, party: &str, pem: &[u8]) -> std::process::Output {
        let file = self
            .dir
            .path()
            .join(format!("upload-{}.pem", uuid::Uuid::new_v4()));
        std::fs::write(&file, pem).expect("certificate file");
        openpoort_e2e::run(self.command().args([
            "party",
            "certificate-add",
            "--party",
            party,
            "--file",
            file.to_str().expect("path"),
        ]))
    }

    pub fn base(&self) -> &str {
        self.server
            .partner_base
            .as_deref()
            .expect("the demo printed the partner listener's address")
    }

    /// A client presenting `identity`, with OpenSSL's defaults otherwise.
    pub fn client(&self, identity: Option<&Identity>) -> Client {
        Client {
            ca: self.pki.ca_file(),
            base: self.base().to_owned(),
            identity: identity.cloned(),
            min: None,
            max: None,
            ciphers: None,
            bearer: None,
        }
    }

    /// GET as the publisher with its registered certificate; the JSON answer.
    pub fn get(&self, path: &str) -> Answer {
        self.client(Some(&self.publisher))
            .request("GET", path, None)
            .expect("a TLS connection")
    }
}

pub fn fingerprint(cert: &X509) -> String {
    cert.digest(MessageDigest::sha256())
        .expect("digest")
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

#[derive(Debug)]
pub struct Answer {
    pub status: u16,
    /// Names in lower case.
    pub headers: Vec<(String, String)>,
    pub body: String,
}

impl Answer {
    pub fn json(&self) -> Value {
        serde_json::from_str(&self.body)
            .unwrap_or_else(|e| panic!("not JSON ({e}): {:?}", self.body))
    }

    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    }

    pub fn ids(&self) -> Vec<i64> {
        assert_eq!(self.status, 200, "{}", self.body);
        serde_json::from_str(&self.body).unwrap_or_else(|e| panic!("{e}: {}", self.body))
    }
}

/// One HTTP/1.1 request per connection over OpenSSL, so that a test decides exactly which
/// protocol versions and cipher suites the client offers.
pub struct Client {
    ca: PathBuf,
    base: String,
    identity: Option<Identity>,
    pub min: Option<SslVersion>,
    pub max: Option<SslVersion>,
    /// TLS 1.2 and below: OpenSSL's cipher list syntax.
    pub ciphers: Option<String>,
    pub bearer: Option<String>,
}

impl Client {
    /// The answer, or the TLS or connection error as text.
    pub fn request(&self, method: &str, path: &str, body: Option<&str>) -> Result<Answer, String> {
        let mut builder =
            SslConnector::builder(SslMethod::tls_client()).map_err(|e| e.to_string())?;
        builder.set_ca_file(&self.ca).map_err(|e| e.to_string())?;
        builder.set_verify(SslVerifyMode::PEER);
        builder
            .set_min_proto_version(self.min)
            .map_err(|e| e.to_string())?;
        builder
            .set_max_proto_version(self.max)
            .map_err(|e| e.to_string())?;
        if let Some(list) = &self.ciphers {
            builder.set_cipher_list(list).map_err(|e| e.to_string())?;
        }
        if let Some(Identity { key, cert }) = &self.identity {
            builder.set_certificate(cert).map_err(|e| e.to_string())?;
            builder.set_private_key(key).map_err(|e| e.to_string())?;
        }
        let connector = builder.build();
        let authority = self.base.trim_start_matches("https://");
        let tcp = TcpStream::connect(authority).map_err(|e| e.to_string())?;
        tcp.set_read_timeout(Some(std::time::Duration::from_secs(20)))
            .map_err(|e| e.to_string())?;
        let mut tls = connector
            .connect("localhost", tcp)
            .map_err(|e| format!("handshake: {e}"))?;
        let mut head = format!(
            "{method} {path} HTTP/1.1\r\nHost: {authority}\r\nConnection: close\r\nAccept: application/json\r\n"
        );
        if let Some(token) = &self.bearer {
            head.push_str(&format!("Authorization: Bearer {token}\r\n"));
        }
        if let Some(b) = body {
            head.push_str(&format!(
                "Content-Type: application/json\r\nContent-Length: {}\r\n",
                b.len()
            ));
        }
        head.push_str("\r\n");
        tls.write_all(head.as_bytes()).map_err(|e| e.to_string())?;
        if let Some(b) = body {
            tls.write_all(b.as_bytes()).map_err(|e| e.to_string())?;
        }
        let mut raw = Vec::new();
        let mut buf = [0u8; 16 * 1024];
        loop {
            match tls.read(&mut buf) {
                Ok(0) => break,
                Ok(n) => raw.extend_from_slice(&buf[..n]),
                // A peer that closes without close_notify after a complete answer.
                Err(_) if !raw.is_empty() => break,
                Err(e) => return Err(format!("read: {e}")),
            }
        }
        parse(&raw)
    }
}

fn parse(raw: &[u8]) -> Result<Answer, String> {
    let mut headers = [httparse::EMPTY_HEADER; 32];
    let mut response = httparse::Response::new(&mut headers);
    let head_len = match response.parse(raw).map_err(|e| e.to_string())? {
        httparse::Status::Complete(n) => n,
        httparse::Status::Partial => return Err(format!("incomplete answer: {raw:?}")),
    };
    let chunked = response.headers.iter().any(|h| {
        h.name.eq_ignore_ascii_case("transfer-encoding")
            && String::from_utf8_lossy(h.value).contains("chunked")
    });
    let mut body = raw[head_len..].to_vec();
    if chunked {
        body = dechunk(&body);
    }
    Ok(Answer {
        status: response.code.unwrap_or(0),
        headers: response
            .headers
            .iter()
            .map(|h| {
                (
                    h.name.to_ascii_lowercase(),
                    String::from_utf8_lossy(h.value).into_owned(),
                )
            })
            .collect(),
        body: String::from_utf8(body).map_err(|e| e.to_string())?,
    })
}

fn dechunk(mut data: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    while let Some(end) = data.windows(2).position(|w| w == b"\r\n") {
        let size = usize::from_str_radix(
            String::from_utf8_lossy(&data[..end])
                .split(';')
                .next()
                .unwrap_or("0")
                .trim(),
            16,
        )
        .unwrap_or(0);
        if size == 0 {
            break;
        }
        let start = end + 2;
        out.extend_from_slice(&data[start..start + size]);
        data = &data[start + size + 2..];
    }
    out
}

/// The demo school's shortcut reference, as the CLI lists it.
pub fn demo_reference(demo: &PartnerDemo) -> String {
    let out = demo.cli(&["school", "list"]);
    out.lines()
        .find(|l| l.contains("99ZZ00"))
        .and_then(|l| {
            l.split_whitespace()
                .find(|w| w.len() == 36 && w.matches('-').count() == 4)
        })
        .unwrap_or_else(|| panic!("no reference for 99ZZ00 in {out}"))
        .to_owned()
}

/// The index of the form on `page` that contains `marker`.
pub fn form(page: &openpoort_e2e::Page, marker: &str) -> usize {
    page.form_with(marker)
        .unwrap_or_else(|| panic!("no form with {marker}: {}", page.body))
}
