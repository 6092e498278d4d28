//! Outgoing mail: the activation and password-reset messages and the two ways
//! they leave openpoort (an outbox folder of `.eml` files, or SMTP).
//!
//! Every message carries a one-time link that is as good as a password until
//! it is used, so neither a message body nor the SMTP password ever appears in
//! an error or a log line; errors name the host, the file or the rule instead.

use std::fmt;
use std::io::Write;
use std::net::IpAddr;
use std::os::unix::fs::{DirBuilderExt, OpenOptionsExt};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use base64::Engine;
use base64::engine::general_purpose::STANDARD as BASE64;
use lettre::message::header::{ContentTransferEncoding, Header, HeaderName, HeaderValue};
use lettre::message::{Body, IntoBody, Mailbox, SinglePart};
use lettre::transport::smtp::authentication::Credentials;
use lettre::{Address, AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor};

use crate::config::{MailConfig, MailTransport, SmtpTls};

/// Per SMTP command and for connecting. Long enough for a slow relay, short
/// enough that a person waiting for a reset link is not left hanging.
const SMTP_COMMAND_TIMEOUT: Duration = Duration::from_secs(20);

/// The whole delivery of one message; the per-command timeout alone would let
/// a server that trickles its answers hold a request for minutes.
const SMTP_SEND_DEADLINE: Duration = Duration::from_secs(60);

/// The outbox's folder inside `storage.data_dir`, as documented in the shipped config.
const OUTBOX_DIR: &str = "outbox";

/// RFC 5322 limits a line to 998 octets. The link is sent on one unbroken line
/// (see [`link_message`]), so it must fit with room to spare.
const MAX_LINK_BYTES: usize = 900;

/// A roepnaam is short; the cap only keeps a bad register entry from producing
/// an over-long greeting line.
const MAX_NAME_CHARS: usize = 100;

/// Why a mail could not be built or delivered.
///
/// Deliberately without message bodies, links, recipient addresses or the SMTP
/// password: these errors end up in logs. The SMTP server's own answer is kept
/// (it is what the operator needs), with the password scrubbed from it.
#[derive(Debug, thiserror::Error)]
pub enum MailError {
    #[error(
        "bad value for `mail.from` (OPENPOORT_MAIL_FROM): {value:?} is not a mail address such as \"openpoort <noreply@school.nl>\""
    )]
    InvalidFrom { value: String },

    #[error("the recipient's e-mail address is not a valid mail address")]
    InvalidRecipient,

    #[error("the link cannot be mailed: {reason}")]
    InvalidLink { reason: &'static str },

    #[error("a mailed link must be valid for at least one minute")]
    InvalidValidity,

    /// lettre's reason only (such as a missing sender), never the message.
    #[error("cannot compose the mail: {reason}")]
    Compose { reason: String },

    #[error(
        "mail.transport = \"smtp\" needs the Tokio runtime: the SMTP connection pool runs on it"
    )]
    NoRuntime,

    #[error("cannot set up the SMTP connection to {host}: {reason}")]
    SmtpSetup { host: String, reason: String },

    // The underlying error is part of the message rather than `source()`, as in
    // config.rs, so error-chain printers do not repeat it.
    #[error("cannot write the mail to the outbox {}: {error}", path.display())]
    Outbox {
        path: PathBuf,
        error: std::io::Error,
    },

    #[error("the SMTP server {host}:{port} did not take the mail: {reason}")]
    Smtp {
        host: String,
        port: u16,
        /// The server refused for good (5xx): retrying the same message will not help.
        permanent: bool,
        reason: String,
    },
}

/// Sends openpoort's mail through the configured transport. Cheap to clone:
/// clones share the SMTP connection pool.
#[derive(Clone)]
pub struct Mailer {
    from: Mailbox,
    transport: Transport,
}

#[derive(Clone)]
enum Transport {
    Outbox { dir: PathBuf },
    Smtp(Arc<Smtp>),
}

struct Smtp {
    transport: AsyncSmtpTransport<Tokio1Executor>,
    host: String,
    port: u16,
    /// Every form in which the password could come back in a server's answer.
    secrets: Vec<String>,
}

impl fmt::Debug for Mailer {
    // By hand: the SMTP transport holds the credentials.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut s = f.debug_struct("Mailer");
        s.field("from", &self.from.to_string());
        match &self.transport {
            Transport::Outbox { dir } => s.field("outbox", dir),
            Transport::Smtp(smtp) => s.field("smtp", &format_args!("{}:{}", smtp.host, smtp.port)),
        };
        s.finish()
    }
}

/// The folder mails are written to when the transport is the outbox (`None` for SMTP): the
/// mailer and whatever tells people where to look both ask here, so the two cannot differ.
pub fn outbox_dir(config: &MailConfig, data_dir: &Path) -> Option<PathBuf> {
    match config.transport {
        MailTransport::Outbox => Some(data_dir.join(OUTBOX_DIR)),
        MailTransport::Smtp => None,
    }
}

impl Mailer {
    /// Outbox: `<data_dir>/outbox`, created owner-only (0700) on first use, so
    /// a misconfigured data directory shows up when the first mail is written
    /// rather than blocking start-up of everything else.
    /// SMTP: a pooled connection per `mail.smtp_tls`; must be called inside the
    /// Tokio runtime, which the pool's housekeeping task runs on.
    pub fn new(config: &MailConfig, data_dir: &Path) -> Result<Mailer, MailError> {
        let from: Mailbox = config.from.parse().map_err(|_| MailError::InvalidFrom {
            value: config.from.clone(),
        })?;
        let transport = match outbox_dir(config, data_dir) {
            Some(dir) => Transport::Outbox { dir },
            None => Transport::Smtp(Arc::new(Smtp::new(config)?)),
        };
        Ok(Mailer { from, transport })
    }

    /// The configured sender, for [`link_message`].
    pub fn from(&self) -> &Mailbox {
        &self.from
    }

    /// Hands the message to the transport. `Ok` means written to the outbox or
    /// accepted by the SMTP server, not delivered to the recipient's mailbox.
    pub async fn send(&self, message: Message) -> Result<(), MailError> {
        match &self.transport {
            Transport::Outbox { dir } => {
                let dir = dir.clone();
                let bytes = message.formatted();
                // Plain file I/O with an fsync: off the async workers.
                let path = tokio::task::spawn_blocking(move || write_to_outbox(&dir, &bytes))
                    .await
                    .map_err(|join| MailError::Outbox {
                        path: PathBuf::from(OUTBOX_DIR),
                        error: std::io::Error::other(format!("the writer stopped: {join}")),
                    })??;
                tracing::info!(file = %path.display(), "mail written to the outbox");
                Ok(())
            }
            Transport::Smtp(smtp) => smtp.send(message).await,
        }
    }
}

impl Smtp {
    fn new(config: &MailConfig) -> Result<Smtp, MailError> {
        let host = config.smtp_host.trim().to_owned();
        let setup_error = |e: lettre::transport::smtp::Error| MailError::SmtpSetup {
            host: host.clone(),
            reason: e.to_string(),
        };
        // Without a runtime, lettre's pool would panic when it spawns its task.
        if tokio::runtime::Handle::try_current().is_err() {
            return Err(MailError::NoRuntime);
        }
        let builder = match config.smtp_tls {
            SmtpTls::None => {
                if !is_loopback(&host) {
                    tracing::warn!(
                        host = %host,
                        "mail.smtp_tls = \"none\" sends one-time links and the SMTP password \
                         unencrypted to a server that is not on this machine"
                    );
                }
                AsyncSmtpTransport::<Tokio1Executor>::builder_dangerous(host.as_str())
            }
            SmtpTls::Starttls => {
                AsyncSmtpTransport::<Tokio1Executor>::starttls_relay(&host).map_err(setup_error)?
            }
            SmtpTls::Tls => {
                AsyncSmtpTransport::<Tokio1Executor>::relay(&host).map_err(setup_error)?
            }
        };
        let mut builder = builder
            .port(config.smtp_port)
            .timeout(Some(SMTP_COMMAND_TIMEOUT));
        let mut secrets = Vec::new();
        if config.smtp_username.is_empty() {
            if !config.smtp_password.is_empty() {
                tracing::warn!(
                    "mail.smtp_password is set but mail.smtp_username is empty: \
                     openpoort does not authenticate to the SMTP server"
                );
            }
        } else {
            builder = builder.credentials(Credentials::new(
                config.smtp_username.clone(),
                config.smtp_password.clone(),
            ));
            if !config.smtp_password.is_empty() {
                let password = &config.smtp_password;
                // AUTH LOGIN sends the password on its own and AUTH PLAIN as
                // "\0user\0password", both base64-encoded; a server that echoes
                // the line it refused would hand either back.
                let plain = format!("\0{}\0{}", config.smtp_username, password);
                secrets.push(BASE64.encode(plain.as_bytes()));
                secrets.push(BASE64.encode(password.as_bytes()));
                secrets.push(password.clone());
                secrets.sort_by_key(|s| std::cmp::Reverse(s.len()));
            }
        }
        Ok(Smtp {
            transport: builder.build(),
            host,
            port: config.smtp_port,
            secrets,
        })
    }

    async fn send(&self, message: Message) -> Result<(), MailError> {
        let error = |permanent: bool, reason: String| MailError::Smtp {
            host: self.host.clone(),
            port: self.port,
            permanent,
            reason: self.redact(reason),
        };
        match tokio::time::timeout(SMTP_SEND_DEADLINE, self.transport.send(message)).await {
            Ok(Ok(_)) => {
                tracing::info!(host = %self.host, port = self.port, "mail accepted by the SMTP server");
                Ok(())
            }
            Ok(Err(e)) => Err(error(e.is_permanent(), e.to_string())),
            Err(_) => Err(error(
                false,
                format!(
                    "no complete answer within {} seconds",
                    SMTP_SEND_DEADLINE.as_secs()
                ),
            )),
        }
    }

    fn redact(&self, mut text: String) -> String {
        for secret in &self.secrets {
            if text.contains(secret.as_str()) {
                text = text.replace(secret.as_str(), "<redacted>");
            }
        }
        text
    }
}

fn is_loopback(host: &str) -> bool {
    host.eq_ignore_ascii_case("localhost")
        || host
            .trim_start_matches('[')
            .trim_end_matches(']')
            .parse::<IpAddr>()
            .is_ok_and(|ip| ip.is_loopback())
}

/// Writes under a temporary name first and renames, so that whoever watches
/// the outbox (an operator, the browser tests) never reads half a message.
fn write_to_outbox(dir: &Path, bytes: &[u8]) -> Result<PathBuf, MailError> {
    let outbox_error = |path: &Path| {
        let path = path.to_owned();
        move |error| MailError::Outbox { path, error }
    };
    // Owner-only: every file in here holds a working one-time link.
    std::fs::DirBuilder::new()
        .recursive(true)
        .mode(0o700)
        .create(dir)
        .map_err(outbox_error(dir))?;
    // A clock before 1970 only spoils the ordering of names, never their uniqueness.
    let millis = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap_or_default()
        .as_millis();
    let name = format!("{millis}-{}.eml", uuid::Uuid::new_v4());
    let path = dir.join(&name);
    let partial = dir.join(format!(".{name}.partial"));
    let written = (|| {
        let mut file = std::fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .mode(0o600)
            .open(&partial)?;
        file.write_all(bytes)?;
        file.sync_all()?;
        std::fs::rename(&partial, &path)
    })();
    if let Err(error) = written {
        // Best effort: a leftover .partial file is ignored by readers anyway.
        let _ = std::fs::remove_file(&partial);
        return Err(outbox_error(&path)(error));
    }
    Ok(path)
}

/// What a one-time link mailed by [`link_message`] is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LinkPurpose {
    /// A new account: the link leads to choosing the first password.
    Activation,
    /// A forgotten password: the link leads to choosing a new one.
    Reset,
}

/// The mail that carries a one-time link: plain text in UTF-8, Dutch first and
/// English second, saying how long the link is valid, that it works once, and
/// (for a reset) that nothing changes if the recipient did not ask for it.
///
/// The link stands on a line of its own and is sent unencoded (`8bit`), so
/// that it arrives byte for byte and clickable: quoted-printable would break
/// it over lines and turn every `=` into `=3D` for any reader that does not
/// decode it. That takes a server with 8BITMIME, which every current mail
/// server offers; lettre refuses, with an error, to send to one without.
///
/// `to` is the recipient's address, `name` their roepnaam or empty, and
/// `valid_for` how long the link works, rounded down to whole minutes in the text.
pub fn link_message(
    from: &Mailbox,
    to: &str,
    name: &str,
    purpose: LinkPurpose,
    link: &str,
    valid_for: Duration,
) -> Result<Message, MailError> {
    check_link(link)?;
    let address: Address = to.parse().map_err(|_| MailError::InvalidRecipient)?;
    let name = clean_name(name);
    let (dutch_validity, english_validity) = validity_text(valid_for)?;
    let (hallo, hello) = greetings(&name);
    let (subject, lines) = match purpose {
        LinkPurpose::Activation => (
            "Activeer je openpoort-account / Activate your openpoort account",
            vec![
                hallo,
                String::new(),
                "Er is een openpoort-account voor je aangemaakt. Open de link hieronder".to_owned(),
                "en kies een wachtwoord; daarmee activeer je het account.".to_owned(),
                String::new(),
                link.to_owned(),
                String::new(),
                format!("De link is {dutch_validity} geldig en werkt maar één keer."),
                "Is hij verlopen of al gebruikt? Vraag dan de ICT-coördinator van je".to_owned(),
                "school om een nieuwe.".to_owned(),
                String::new(),
                "---".to_owned(),
                String::new(),
                hello,
                String::new(),
                "An openpoort account has been created for you. Open the link above and".to_owned(),
                "choose a password; that activates the account.".to_owned(),
                String::new(),
                format!("The link is valid for {english_validity} and works only once."),
                "If it has expired or was already used, ask your school's ICT".to_owned(),
                "coordinator for a new one.".to_owned(),
            ],
        ),
        LinkPurpose::Reset => (
            "Nieuw wachtwoord instellen / Set a new password",
            vec![
                hallo,
                String::new(),
                "Er is een nieuw wachtwoord gevraagd voor je openpoort-account. Open de".to_owned(),
                "link hieronder om een nieuw wachtwoord in te stellen.".to_owned(),
                String::new(),
                link.to_owned(),
                String::new(),
                format!("De link is {dutch_validity} geldig en werkt maar één keer."),
                String::new(),
                "Heb je dit niet zelf gevraagd? Dan hoef je niets te doen: er verandert".to_owned(),
                "niets en je huidige wachtwoord blijft werken.".to_owned(),
                String::new(),
                "---".to_owned(),
                String::new(),
                hello,
                String::new(),
                "Someone asked for a new password for your openpoort account. Open the".to_owned(),
                "link above to set a new password.".to_owned(),
                String::new(),
                format!("The link is valid for {english_validity} and works only once."),
                String::new(),
                "Did you not ask for this? Then there is nothing you need to do: nothing"
                    .to_owned(),
                "changes and your current password keeps working.".to_owned(),
            ],
        ),
    };
    let mut text = lines.join("\r\n");
    text.push_str(
        "\r\n\r\n\
         Dit bericht is automatisch verstuurd door openpoort.\r\n\
         This message was sent automatically by openpoort.\r\n",
    );
    // Pure ASCII passes any relay as 7bit; anything else needs 8BITMIME. Lines
    // are CRLF and at most 998 octets by construction (checked link, capped name).
    let encoding = if text.is_ascii() {
        ContentTransferEncoding::SevenBit
    } else {
        ContentTransferEncoding::EightBit
    };
    let body = Body::dangerous_pre_encoded(text.into_bytes(), encoding);
    automatic(from, name, address, subject, body)
}

/// The link goes out verbatim on a line of its own, so anything that would
/// break that line, or is not a web address at all, is refused rather than
/// mangled. The reasons never quote the link: it is a credential.
fn check_link(link: &str) -> Result<(), MailError> {
    let refuse = |reason| Err(MailError::InvalidLink { reason });
    if link.len() > MAX_LINK_BYTES {
        return refuse("it is longer than a mail line may be");
    }
    if !link.bytes().all(|b| b.is_ascii_graphic()) {
        return refuse("it contains spaces, control characters or non-ASCII characters");
    }
    match url::Url::parse(link) {
        Ok(url) if matches!(url.scheme(), "https" | "http") && url.host().is_some() => Ok(()),
        Ok(_) => refuse("it is not an http:// or https:// address with a host"),
        Err(_) => refuse("it is not a valid URL"),
    }
}

/// The name only appears in the greeting; control characters (a line break
/// above all) are dropped so a register entry cannot add lines to the mail.
fn clean_name(name: &str) -> String {
    let cleaned: String = name
        .chars()
        .filter(|c| !c.is_control())
        .take(MAX_NAME_CHARS)
        .collect();
    cleaned.trim().to_owned()
}

/// "7 dagen" / "7 days", "1 uur" / "1 hour", "30 minuten" / "30 minutes":
/// the largest unit that states the validity exactly, rounded down to whole
/// minutes so the mail never promises more time than the link has.
fn validity_text(valid_for: Duration) -> Result<(String, String), MailError> {
    let minutes = valid_for.as_secs() / 60;
    if minutes == 0 {
        return Err(MailError::InvalidValidity);
    }
    const MINUTES_PER_HOUR: u64 = 60;
    const MINUTES_PER_DAY: u64 = 24 * MINUTES_PER_HOUR;
    let plural = |n: u64, one: &str, many: &str| {
        if n == 1 {
            format!("1 {one}")
        } else {
            format!("{n} {many}")
        }
    };
    Ok(if minutes.is_multiple_of(MINUTES_PER_DAY) {
        let n = minutes / MINUTES_PER_DAY;
        (plural(n, "dag", "dagen"), plural(n, "day", "days"))
    } else if minutes.is_multiple_of(MINUTES_PER_HOUR) {
        let n = minutes / MINUTES_PER_HOUR;
        // Dutch counts hours in the singular: "2 uur".
        (plural(n, "uur", "uur"), plural(n, "hour", "hours"))
    } else {
        (
            plural(minutes, "minuut", "minuten"),
            plural(minutes, "minute", "minutes"),
        )
    })
}

/// What a school's administrators are told when the pull from their LAS fails: which school
/// and which LAS, what went wrong, that nothing was changed, and that openpoort tries again
/// every night without mailing again until a pull succeeds. Dutch first, English second; the
/// message itself is already both. It carries no link and no key.
pub fn las_failure_message(
    from: &Mailbox,
    to: &str,
    name: &str,
    school: &str,
    las: &str,
    what_went_wrong: &str,
) -> Result<Message, MailError> {
    let address: Address = to.parse().map_err(|_| MailError::InvalidRecipient)?;
    let name = clean_name(name);
    let school = clean_name(school);
    let (hallo, hello) = greetings(&name);
    let problem: String = what_went_wrong
        .chars()
        .filter(|c| *c == '\n' || !c.is_control())
        .collect();
    let text = [
        hallo,
        String::new(),
        format!("openpoort kon de gegevens van {school} vannacht niet ophalen uit {las}."),
        "Er is niets veranderd: leerlingen, groepen en medewerkers staan er nog".to_owned(),
        "zoals na de laatste geslaagde import.".to_owned(),
        String::new(),
        "Melding / Message:".to_owned(),
        problem,
        String::new(),
        "openpoort probeert het elke nacht opnieuw. Je krijgt over deze storing".to_owned(),
        "geen mail meer; zie het logboek van je school voor elke poging.".to_owned(),
        String::new(),
        "---".to_owned(),
        String::new(),
        hello,
        String::new(),
        format!("openpoort could not fetch the data of {school} from {las} last night."),
        "Nothing was changed: pupils, groups and staff are as after the last".to_owned(),
        "successful import.".to_owned(),
        String::new(),
        "openpoort tries again every night. You will get no further mail about".to_owned(),
        "this failure; your school's audit log shows every attempt.".to_owned(),
        String::new(),
        "Dit bericht is automatisch verstuurd door openpoort.".to_owned(),
        "This message was sent automatically by openpoort.".to_owned(),
    ]
    .join("\n");
    let subject = format!("LAS-koppeling mislukt voor {school} / LAS link failed for {school}");
    automatic(from, name, address, subject, text)
}

/// What a staff member is told when an administrator reset their second factor: who did it
/// and when, what happens at the next login, and what to do if they did not expect it. Dutch
/// first, English second. No link (nothing in it is worth stealing) and no secret.
///
/// `by` is the administrator as the school knows them (or openpoort's operator), in Dutch and
/// English, `when` the
/// moment in Dutch time, `required` whether a policy makes them set up a new factor at once.
pub fn second_factor_reset_message(
    from: &Mailbox,
    to: &str,
    name: &str,
    by: (&str, &str),
    when: &str,
    required: bool,
) -> Result<Message, MailError> {
    let address: Address = to.parse().map_err(|_| MailError::InvalidRecipient)?;
    let name = clean_name(name);
    let (by, by_en) = (clean_name(by.0), clean_name(by.1));
    let when = clean_name(when);
    let (hallo, hello) = greetings(&name);
    let (next_nl, next_en) = if required {
        (
            [
                "Je school vraagt om tweestapsverificatie: bij je volgende login stel je",
                "na je wachtwoord meteen een nieuwe authenticator-app in.",
            ],
            [
                "Your school requires two-step verification: at your next login you set",
                "up a new authenticator app right after your password.",
            ],
        )
    } else {
        (
            [
                "Je logt nu in met alleen je wachtwoord. Stel op /tweestapsverificatie",
                "een nieuwe authenticator-app in.",
            ],
            [
                "You now log in with your password only. Set up a new authenticator",
                "app at /tweestapsverificatie.",
            ],
        )
    };
    let text = [
        hallo,
        String::new(),
        format!("{by} heeft op {when} de tweestapsverificatie van je"),
        "openpoort-account hersteld: je authenticator-app, je herstelcodes en je".to_owned(),
        "passkeys werken niet meer, en je bent overal uitgelogd.".to_owned(),
        String::new(),
        next_nl[0].to_owned(),
        next_nl[1].to_owned(),
        String::new(),
        "Had je hier niet om gevraagd? Neem dan meteen contact op met de".to_owned(),
        "ICT-coördinator van je school, en wijzig je wachtwoord: iemand anders".to_owned(),
        "kan het kennen.".to_owned(),
        String::new(),
        "---".to_owned(),
        String::new(),
        hello,
        String::new(),
        format!("{by_en} reset the two-step verification of your openpoort account on"),
        format!("{when}: your authenticator app, your recovery codes and your passkeys no"),
        "longer work, and you have been logged out everywhere.".to_owned(),
        String::new(),
        next_en[0].to_owned(),
        next_en[1].to_owned(),
        String::new(),
        "Did you not ask for this? Then contact your school's ICT coordinator at".to_owned(),
        "once, and change your password: someone else may know it.".to_owned(),
        String::new(),
        "Dit bericht is automatisch verstuurd door openpoort.".to_owned(),
        "This message was sent automatically by openpoort.".to_owned(),
    ]
    .join("\n");
    let subject = "Je tweestapsverificatie is hersteld / Your two-step verification was reset";
    automatic(from, name, address, subject, text)
}

/// "Hallo Naam," and "Hello Naam," (without a name when there is none).
fn greetings(name: &str) -> (String, String) {
    if name.is_empty() {
        ("Hallo,".to_owned(), "Hello,".to_owned())
    } else {
        (format!("Hallo {name},"), format!("Hello {name},"))
    }
}

/// A plain-text message from openpoort to one person, marked automatic (RFC 3834). A `String`
/// body goes in whatever transfer encoding lettre picks (a problem list of a bad file can have
/// lines longer than a mail line may be); a [`Body`] as it was encoded.
fn automatic(
    from: &Mailbox,
    name: String,
    address: Address,
    subject: impl Into<String>,
    body: impl IntoBody,
) -> Result<Message, MailError> {
    let to = Mailbox::new((!name.is_empty()).then_some(name), address);
    Message::builder()
        .from(from.clone())
        .to(to)
        .subject(subject)
        .message_id(None)
        .header(AutoSubmitted)
        .singlepart(SinglePart::plain(body))
        .map_err(|e| MailError::Compose {
            reason: e.to_string(),
        })
}

/// `Auto-Submitted: auto-generated` (RFC 3834), so that out-of-office replies
/// are not sent back to the no-reply sender.
#[derive(Debug, Clone, Copy)]
struct AutoSubmitted;

impl Header for AutoSubmitted {
    fn name() -> HeaderName {
        HeaderName::new_from_ascii_str("Auto-Submitted")
    }

    fn parse(s: &str) -> Result<Self, Box<dyn std::error::Error + Send + Sync>> {
        if s.trim().eq_ignore_ascii_case("auto-generated") {
            Ok(AutoSubmitted)
        } else {
            Err(format!("unexpected Auto-Submitted value {s:?}").into())
        }
    }

    fn display(&self) -> HeaderValue {
        HeaderValue::new(Self::name(), "auto-generated".to_owned())
    }
}

#[cfg(test)]
mod tests {
    use std::io::{BufRead, BufReader, Read};
    use std::net::{Shutdown, TcpListener, TcpStream};
    use std::os::unix::fs::PermissionsExt;
    use std::process::{Child, Command, Stdio};
    use std::time::Instant;

    use super::*;

    /// Long, with the characters quoted-printable would escape (`=`) and a
    /// length that any 76-column folding would break.
    const LINK: &str = "https://login.school.example/activeren?token=Zm9vYmFyYmF6cXV4Zm9vYmFyYmF6cXV4Zm9vYmFyYmF6cXV4Zm9vYmFy&next=%2Fportaal%3Fa%3D1";

    fn from() -> Mailbox {
        "openpoort <noreply@school.example>".parse().unwrap()
    }

    #[test]
    fn las_failure_mail_is_dutch_first_names_school_and_las_and_keeps_long_lines_intact() {
        let long_problem = format!("regel 3: {}", "x".repeat(1500));
        let message = las_failure_message(
            &from(),
            "ict@school.example",
            "Bram",
            "De Regenboog (99ZZ00)",
            "ParnasSys",
            &long_problem,
        )
        .unwrap();
        let raw = String::from_utf8(message.formatted()).unwrap();
        assert!(
            raw.lines().all(|l| l.len() <= 998),
            "a line over 998 octets"
        );
        let subject = raw.lines().find(|l| l.starts_with("Subject:")).unwrap();
        assert!(subject.contains("LAS-koppeling mislukt"), "{subject}");
        assert!(raw.contains("Auto-Submitted: auto-generated"));
        let body = mail_body_text(&message);
        let dutch = body
            .find("kon de gegevens van De Regenboog (99ZZ00)")
            .unwrap();
        let english = body
            .find("could not fetch the data of De Regenboog (99ZZ00) from ParnasSys")
            .unwrap();
        assert!(dutch < english);
        assert!(body.contains(&long_problem));
    }

    /// The decoded text of a single-part message.
    fn mail_body_text(message: &Message) -> String {
        let raw = String::from_utf8(message.formatted()).unwrap();
        let (headers, body) = raw.split_once("\r\n\r\n").unwrap();
        if headers.contains("Content-Transfer-Encoding: base64") {
            let joined: String = body.split_whitespace().collect();
            String::from_utf8(BASE64.decode(joined).unwrap()).unwrap()
        } else if headers.contains("quoted-printable") {
            let unfolded = body.replace("=\r\n", "");
            let mut out = Vec::new();
            let bytes = unfolded.as_bytes();
            let mut i = 0;
            while i < bytes.len() {
                if bytes[i] == b'=' && i + 2 < bytes.len() {
                    out.push(u8::from_str_radix(&unfolded[i + 1..i + 3], 16).unwrap());
                    i += 3;
                } else {
                    out.push(bytes[i]);
                    i += 1;
                }
            }
            String::from_utf8(out).unwrap().replace("\r\n", "\n")
        } else {
            body.replace("\r\n", "\n")
        }
    }

    fn activation() -> Message {
        link_message(
            &from(),
            "juf.zoe@school.example",
            "Zoë",
            LinkPurpose::Activation,
            LINK,
            Duration::from_secs(7 * 24 * 3600),
        )
        .unwrap()
    }

    fn outbox_config() -> MailConfig {
        MailConfig::default()
    }

    fn smtp_config(port: u16) -> MailConfig {
        MailConfig {
            transport: MailTransport::Smtp,
            smtp_host: "127.0.0.1".to_owned(),
            smtp_port: port,
            smtp_tls: SmtpTls::None,
            ..MailConfig::default()
        }
    }

    /// The header section of a raw message, with folded lines unfolded.
    fn header(raw: &str, name: &str) -> Option<String> {
        let head = raw.split("\r\n\r\n").next()?;
        let mut unfolded: Vec<String> = Vec::new();
        for line in head.split("\r\n") {
            if line.starts_with([' ', '\t']) {
                unfolded.last_mut()?.push_str(line);
            } else {
                unfolded.push(line.to_owned());
            }
        }
        unfolded.into_iter().find_map(|line| {
            let (key, value) = line.split_once(':')?;
            key.eq_ignore_ascii_case(name)
                .then(|| value.trim().to_owned())
        })
    }

    fn body(raw: &str) -> &str {
        raw.split_once("\r\n\r\n").map_or("", |(_, body)| body)
    }

    fn free_port() -> u16 {
        TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port()
    }

    #[tokio::test]
    async fn outbox_writes_one_eml_per_message_with_private_permissions() {
        let data = tempfile::tempdir().unwrap();
        let mailer = Mailer::new(&outbox_config(), data.path()).unwrap();
        mailer.send(activation()).await.unwrap();
        mailer.send(activation()).await.unwrap();

        let outbox = data.path().join("outbox");
        let dir_mode = std::fs::metadata(&outbox).unwrap().permissions().mode();
        assert_eq!(dir_mode & 0o777, 0o700, "outbox mode {dir_mode:o}");
        let mut files: Vec<PathBuf> = std::fs::read_dir(&outbox)
            .unwrap()
            .map(|e| e.unwrap().path())
            .collect();
        files.sort();
        assert_eq!(files.len(), 2, "{files:?}");
        for file in &files {
            let name = file.file_name().unwrap().to_str().unwrap();
            let (millis, rest) = name.split_once('-').unwrap();
            assert!(millis.parse::<u128>().is_ok(), "{name}");
            let uuid = rest.strip_suffix(".eml").unwrap();
            assert!(uuid::Uuid::parse_str(uuid).is_ok(), "{name}");
            let mode = std::fs::metadata(file).unwrap().permissions().mode();
            assert_eq!(mode & 0o777, 0o600, "{name} mode {mode:o}");

            let raw = std::fs::read_to_string(file).unwrap();
            assert_eq!(
                header(&raw, "From").as_deref(),
                Some("openpoort <noreply@school.example>")
            );
            let to = header(&raw, "To").unwrap();
            assert!(to.contains("<juf.zoe@school.example>"), "{to}");
            assert_eq!(
                header(&raw, "Subject").as_deref(),
                Some("Activeer je openpoort-account / Activate your openpoort account")
            );
            assert!(
                body(&raw).split("\r\n").any(|line| line == LINK),
                "link line missing in {name}"
            );
        }
    }

    #[test]
    fn message_carries_the_link_on_its_own_line_and_in_both_languages() {
        let raw = String::from_utf8(activation().formatted()).unwrap();
        assert_eq!(
            header(&raw, "Content-Type").as_deref(),
            Some("text/plain; charset=utf-8")
        );
        assert_eq!(
            header(&raw, "Content-Transfer-Encoding").as_deref(),
            Some("8bit")
        );
        assert_eq!(
            header(&raw, "Auto-Submitted").as_deref(),
            Some("auto-generated")
        );
        assert!(header(&raw, "Message-ID").is_some());
        let text = body(&raw);
        let lines: Vec<&str> = text.split("\r\n").collect();
        assert_eq!(lines.iter().filter(|l| **l == LINK).count(), 1, "{text}");
        assert!(lines.iter().all(|l| l.len() <= 998));
        // Dutch first, then English.
        let dutch = text.find("Hallo Zoë,").unwrap();
        let english = text.find("Hello Zoë,").unwrap();
        assert!(dutch < english);
        assert!(text.contains("De link is 7 dagen geldig en werkt maar één keer"));
        assert!(text.contains("The link is valid for 7 days and works only once"));

        let reset = link_message(
            &from(),
            "meester.bram@school.example",
            "",
            LinkPurpose::Reset,
            LINK,
            Duration::from_secs(3600),
        )
        .unwrap();
        let raw = String::from_utf8(reset.formatted()).unwrap();
        assert_eq!(
            header(&raw, "Subject").as_deref(),
            Some("Nieuw wachtwoord instellen / Set a new password")
        );
        let text = body(&raw);
        assert!(text.split("\r\n").any(|l| l == LINK));
        assert!(text.starts_with("Hallo,\r\n"), "{text}");
        assert!(text.contains("Hello,\r\n"));
        assert!(text.contains("De link is 1 uur geldig en werkt maar één keer."));
        assert!(text.contains("The link is valid for 1 hour and works only once."));
        assert!(text.contains("Heb je dit niet zelf gevraagd? Dan hoef je niets te doen"));
        assert!(text.contains("Did you not ask for this? Then there is nothing you need to do"));
    }

    #[test]
    fn validity_is_stated_in_the_largest_exact_unit_never_longer_than_it_is() {
        let text = |secs| validity_text(Duration::from_secs(secs)).unwrap();
        assert_eq!(text(86_400), ("1 dag".into(), "1 day".into()));
        assert_eq!(text(2 * 3600), ("2 uur".into(), "2 hours".into()));
        assert_eq!(text(36 * 3600), ("36 uur".into(), "36 hours".into()));
        assert_eq!(
            text(30 * 60 + 59),
            ("30 minuten".into(), "30 minutes".into())
        );
        assert_eq!(text(60), ("1 minuut".into(), "1 minute".into()));
        assert!(matches!(
            validity_text(Duration::from_secs(59)),
            Err(MailError::InvalidValidity)
        ));
    }

    #[test]
    fn links_and_names_cannot_add_lines_or_headers_to_the_mail() {
        let message = |name: &str, link: &str| {
            link_message(
                &from(),
                "juf.zoe@school.example",
                name,
                LinkPurpose::Reset,
                link,
                Duration::from_secs(3600),
            )
        };
        for bad in [
            "https://login.school.example/herstellen?token=a\r\nBcc: x@evil.example",
            "https://login.school.example/herstellen?token=a b",
            "javascript:alert(1)",
            "/herstellen?token=abc",
            "https://login.school.example/herstellen?naam=zoë",
        ] {
            let error = message("Zoë", bad).unwrap_err();
            assert!(matches!(error, MailError::InvalidLink { .. }), "{bad:?}");
            assert!(!error.to_string().contains("login.school.example"));
        }
        let long = format!("https://login.school.example/?t={}", "a".repeat(1000));
        assert!(matches!(
            message("", &long),
            Err(MailError::InvalidLink { .. })
        ));
        assert!(matches!(
            message("", "https://login.school.example/x").map(|_| ()),
            Ok(())
        ));

        let raw = String::from_utf8(
            message("Zoë\r\nBcc: x@evil.example", LINK)
                .unwrap()
                .formatted(),
        )
        .unwrap();
        assert!(header(&raw, "Bcc").is_none());
        assert!(!raw.contains("\r\nBcc:"));
        assert!(body(&raw).starts_with("Hallo ZoëBcc: x@evil.example,\r\n"));

        assert!(matches!(
            link_message(
                &from(),
                "not an address",
                "",
                LinkPurpose::Activation,
                LINK,
                Duration::from_secs(60)
            ),
            Err(MailError::InvalidRecipient)
        ));
    }

    /// A real SMTP server (Python's aiosmtpd) writing a maildir; killed when
    /// dropped, also when the test panics halfway.
    struct SmtpServer {
        child: Child,
        port: u16,
        maildir: PathBuf,
        log: PathBuf,
    }

    impl SmtpServer {
        fn start(dir: &Path) -> SmtpServer {
            const SETUP: &str = "run scripts/setup, which installs it";
            match Command::new("python3")
                .args(["-c", "import aiosmtpd"])
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .status()
            {
                Ok(status) if status.success() => {}
                Ok(_) => panic!("Python's aiosmtpd is missing: {SETUP}"),
                Err(e) => panic!("cannot run python3 ({e}): {SETUP}"),
            }
            let port = free_port();
            let maildir = dir.join("maildir");
            let log = dir.join("aiosmtpd.log");
            let child = Command::new("python3")
                .args(["-m", "aiosmtpd", "-n", "-l"])
                .arg(format!("127.0.0.1:{port}"))
                .args(["-c", "aiosmtpd.handlers.Mailbox"])
                .arg(&maildir)
                .stdin(Stdio::null())
                .stdout(std::fs::File::create(&log).unwrap())
                .stderr(std::fs::File::create(&log).unwrap())
                .spawn()
                .unwrap_or_else(|e| panic!("cannot start aiosmtpd ({e}): {SETUP}"));
            let mut server = SmtpServer {
                child,
                port,
                maildir,
                log,
            };
            server.wait_until_listening();
            server
        }

        fn wait_until_listening(&mut self) {
            let deadline = Instant::now() + Duration::from_secs(30);
            loop {
                if let Some(status) = self.child.try_wait().unwrap() {
                    panic!(
                        "aiosmtpd exited ({status}) before listening:\n{}",
                        std::fs::read_to_string(&self.log).unwrap_or_default()
                    );
                }
                let address = ([127, 0, 0, 1], self.port).into();
                if let Ok(stream) = TcpStream::connect_timeout(&address, Duration::from_secs(1)) {
                    // Read the greeting, so the server is really answering, then leave politely.
                    let mut greeting = String::new();
                    let mut reader = BufReader::new(&stream);
                    if reader.read_line(&mut greeting).is_ok() && greeting.starts_with("220") {
                        let _ = (&stream).write_all(b"QUIT\r\n");
                        let _ = stream.shutdown(Shutdown::Both);
                        return;
                    }
                }
                assert!(
                    Instant::now() < deadline,
                    "aiosmtpd did not listen on port {} within 30 s",
                    self.port
                );
                std::thread::sleep(Duration::from_millis(100));
            }
        }

        fn received(&self) -> Vec<String> {
            let Ok(entries) = std::fs::read_dir(self.maildir.join("new")) else {
                return Vec::new();
            };
            entries
                .map(|e| std::fs::read_to_string(e.unwrap().path()).unwrap())
                .collect()
        }
    }

    impl Drop for SmtpServer {
        fn drop(&mut self) {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }

    #[tokio::test]
    async fn smtp_delivers_to_a_real_smtp_listener() {
        let dir = tempfile::tempdir().unwrap();
        let server = SmtpServer::start(dir.path());
        let mailer = Mailer::new(&smtp_config(server.port), dir.path()).unwrap();
        mailer.send(activation()).await.unwrap();

        // The server answers 250 only after its handler stored the message;
        // the wait covers a slow file system, not a race in the protocol.
        let deadline = Instant::now() + Duration::from_secs(10);
        let mut received = server.received();
        while received.is_empty() && Instant::now() < deadline {
            tokio::time::sleep(Duration::from_millis(100)).await;
            received = server.received();
        }
        assert_eq!(received.len(), 1, "{received:?}");
        // The maildir stores lines with the local line ending; back to the wire's.
        let raw = received[0].replace("\r\n", "\n").replace('\n', "\r\n");
        assert!(
            body(&raw).split("\r\n").any(|line| line == LINK),
            "the link did not arrive on one intact line:\n{raw}"
        );
        assert!(body(&raw).contains("Hallo Zoë,"), "{raw}");
        assert_eq!(
            header(&raw, "Subject").as_deref(),
            Some("Activeer je openpoort-account / Activate your openpoort account")
        );
        assert_eq!(
            header(&raw, "X-RcptTo").as_deref(),
            Some("juf.zoe@school.example")
        );
        // The file transport never came into it.
        assert!(!dir.path().join("outbox").exists());
    }

    /// A hostile server that refuses AUTH and echoes, decoded, whatever it was sent.
    fn echoing_smtp_server() -> u16 {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        std::thread::spawn(move || {
            let Ok((stream, _)) = listener.accept() else {
                return;
            };
            let mut reader = BufReader::new(stream.try_clone().unwrap());
            let mut writer = stream;
            let _ = writer.write_all(b"220 echo ESMTP\r\n");
            let mut line = String::new();
            while reader.read_line(&mut line).is_ok_and(|n| n > 0) {
                let command = line.trim_end().to_owned();
                line.clear();
                let answer = if command.starts_with("EHLO") {
                    "250-echo\r\n250 AUTH PLAIN LOGIN\r\n".to_owned()
                } else if let Some(encoded) = command.strip_prefix("AUTH PLAIN ") {
                    let decoded = BASE64.decode(encoded).unwrap_or_default();
                    format!(
                        "535 5.7.8 rejected {command} = {}\r\n",
                        String::from_utf8_lossy(&decoded).replace('\0', " ")
                    )
                } else if command == "QUIT" {
                    let _ = writer.write_all(b"221 bye\r\n");
                    return;
                } else {
                    format!("502 5.5.2 {command}\r\n")
                };
                if writer.write_all(answer.as_bytes()).is_err() {
                    return;
                }
            }
            let _ = reader.read_to_end(&mut Vec::new());
        });
        port
    }

    #[tokio::test]
    async fn smtp_errors_do_not_reveal_the_password() {
        const PASSWORD: &str = "geheim-Wachtwoord-42";
        let dir = tempfile::tempdir().unwrap();
        let with_password = |port| MailConfig {
            smtp_username: "openpoort".to_owned(),
            smtp_password: PASSWORD.to_owned(),
            ..smtp_config(port)
        };
        let closed_port = free_port();
        let echo_port = echoing_smtp_server();
        for (what, port) in [("closed port", closed_port), ("echoing server", echo_port)] {
            let mailer = Mailer::new(&with_password(port), dir.path()).unwrap();
            assert!(!format!("{mailer:?}").contains(PASSWORD));
            let error = mailer.send(activation()).await.unwrap_err();
            let shown = format!("{error} / {error:?}");
            assert!(matches!(error, MailError::Smtp { .. }), "{what}: {shown}");
            assert!(!shown.contains(PASSWORD), "{what}: {shown}");
            assert!(!shown.contains(&BASE64.encode(PASSWORD)), "{what}: {shown}");
            let plain = BASE64.encode(format!("\0openpoort\0{PASSWORD}"));
            assert!(!shown.contains(&plain), "{what}: {shown}");
            // Nor the link it was carrying.
            assert!(!shown.contains("token="), "{what}: {shown}");
            if port == echo_port {
                // The server's answer is kept, scrubbed, because it is what the operator needs.
                assert!(shown.contains("535"), "{shown}");
                assert!(shown.contains("<redacted>"), "{shown}");
            }
        }
    }

    #[test]
    fn mailer_refuses_a_bad_sender_and_smtp_outside_the_runtime() {
        let dir = tempfile::tempdir().unwrap();
        let config = MailConfig {
            from: "no address".to_owned(),
            ..MailConfig::default()
        };
        assert!(matches!(
            Mailer::new(&config, dir.path()),
            Err(MailError::InvalidFrom { .. })
        ));
        assert!(matches!(
            Mailer::new(&smtp_config(25), dir.path()),
            Err(MailError::NoRuntime)
        ));
        // The outbox is only created when the first mail is written.
        let mailer = Mailer::new(&outbox_config(), dir.path()).unwrap();
        assert_eq!(mailer.from().email.to_string(), "noreply@localhost");
        assert!(!dir.path().join("outbox").exists());
    }
}
