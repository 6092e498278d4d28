//! The command line of `openpoort`. Values are checked by the register's own parsers while the
//! arguments are read, so a bad BRIN or CIDR stops the command before anything is opened.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand};
use directory::las::LasVendor;
use directory::model::{
    Bestuursnummer, Brin, Cidr, Date, Email, LasKey, PartyKind, SchoolCode, StaffRole,
    Vestigingscode, WebUrl,
};

use crate::upstream::registry::{MatchBy, OidcClientAuth};

#[derive(Debug, Parser)]
#[command(
    name = "openpoort",
    version,
    about = "openpoort: identity provider and SSO broker for primary schools"
)]
pub struct Cli {
    /// Configuration file (TOML). Without it: $OPENPOORT_CONFIG, else the built-in defaults.
    #[arg(long, global = true, value_name = "PATH")]
    pub config: Option<PathBuf>,

    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Serve HTTP with the configured database and keys.
    Serve,
    /// Seed demo data (board 99999, school 99ZZ00, groups, pupils, staff, a publisher) into the
    /// embedded defaults and serve in development mode.
    Demo,
    /// Bring the database schema up to date and exit.
    Migrate,
    /// Configuration: check the file and environment, list the settings.
    #[command(subcommand)]
    Config(ConfigCommand),
    /// Signing keys: list, rotate.
    #[command(subcommand)]
    Keys(KeysCommand),
    /// School boards (besturen).
    #[command(subcommand)]
    Board(BoardCommand),
    /// School locations.
    #[command(subcommand)]
    School(SchoolCommand),
    /// IP ranges of a school, for pupil login at school.
    #[command(subcommand, name = "ip-range")]
    IpRange(IpRangeCommand),
    /// Publishers and network providers.
    #[command(subcommand)]
    Party(PartyCommand),
    /// Products of a publisher.
    #[command(subcommand)]
    Product(ProductCommand),
    /// Licences of schools for products.
    #[command(subcommand)]
    Licence(LicenceCommand),
    /// Consents of schools to parties.
    #[command(subcommand)]
    Consent(ConsentCommand),
    /// The processing agreement (verwerkersovereenkomst) of a school's board: show, accept.
    #[command(subcommand)]
    Agreement(AgreementCommand),
    /// Groups of a school: their keys (for `licence add --group`), names and pupils.
    #[command(subcommand)]
    Group(GroupCommand),
    /// Staff accounts: add (mails an activation link), invite again, deactivate.
    #[command(subcommand)]
    Staff(StaffCommand),
    /// Imports: an EDEXML file from a school's LAS, DUO's list of school locations.
    #[command(subcommand)]
    Import(ImportCommand),
    /// Links to schools' LAS: add, switch on or off, list, pull now.
    #[command(subcommand)]
    Las(LasCommand),
    /// OpenID Connect clients of parties.
    #[command(subcommand)]
    Client(ClientCommand),
    /// SAML service providers of parties, registered from their metadata.
    #[command(subcommand)]
    Sp(SpCommand),
    /// Pupils: picture passwords and home codes.
    #[command(subcommand)]
    Pupil(PupilCommand),
    /// The outage notice shown on every login page and the portal.
    #[command(subcommand)]
    Notice(NoticeCommand),
    /// The audit log: changes and release decisions.
    #[command(subcommand)]
    Audit(AuditCommand),
    /// The operator role: staff accounts that may use the /operator pages.
    #[command(subcommand)]
    Operator(OperatorCommand),
}

#[derive(Debug, Subcommand)]
pub enum OperatorCommand {
    /// Give a staff account (by its login address) the operator role.
    Grant {
        #[arg(value_parser = Email::parse)]
        email: Email,
    },
    /// Take the operator role away; the next request to an operator page is refused.
    Revoke {
        #[arg(value_parser = Email::parse)]
        email: Email,
    },
    /// Every account with the operator role.
    List,
}

#[derive(Debug, Subcommand)]
pub enum StaffCommand {
    /// Add a staff member to a school and mail them an activation link.
    Add {
        #[arg(long, value_parser = SchoolCode::parse)]
        school: SchoolCode,
        #[arg(long, value_parser = Email::parse)]
        email: Email,
        #[arg(long)]
        achternaam: String,
        #[arg(long)]
        voorvoegsel: Option<String>,
        #[arg(long)]
        roepnaam: Option<String>,
        /// Repeatable: leerkracht, ict_coordinator, ib, rt, stagiaire, invalkracht.
        #[arg(long = "role", value_parser = StaffRole::parse)]
        roles: Vec<StaffRole>,
    },
    /// Mail a fresh activation link to a staff member who has not activated yet, or re-invite a
    /// deactivated one (the only way back: the old password no longer counts).
    Invite {
        #[arg(long, value_parser = Email::parse)]
        email: Email,
    },
    /// Give a staff member a role at a school (ict_coordinator makes them its administrator).
    GrantRole(RoleAt),
    RevokeRole(RoleAt),
    /// Deactivate an account: it cannot log in, its sessions and outstanding links end at once,
    /// and only `staff invite` brings it back.
    Deactivate {
        #[arg(long, value_parser = Email::parse)]
        email: Email,
    },
    /// Reset a staff member's second factor (lost phone and recovery codes): the authenticator
    /// and recovery codes go, their sessions end, it is audited and they are mailed. For a
    /// school's ICT-coördinator, whom no one at the school can reset. Make sure who asks first.
    ResetSecondFactor {
        #[arg(long, value_parser = Email::parse)]
        email: Email,
        /// A school the staff member works at (recorded in the audit log).
        #[arg(long, value_parser = SchoolCode::parse)]
        school: SchoolCode,
    },
}

// No doc comment: clap would show it as the about text of `revoke-role`, which has none.
#[derive(Debug, Args)]
pub struct RoleAt {
    #[arg(long, value_parser = Email::parse)]
    pub email: Email,
    #[arg(long, value_parser = SchoolCode::parse)]
    pub school: SchoolCode,
    #[arg(long, value_parser = StaffRole::parse)]
    pub role: StaffRole,
}

#[derive(Debug, Subcommand)]
pub enum ImportCommand {
    /// Read an EDEXML 2.0/2.1 file (the complete current state of one school location), show the
    /// difference, and apply it in one transaction (or, with --dry-run, only show it).
    Edexml {
        file: PathBuf,
        #[arg(long)]
        dry_run: bool,
    },
    /// Read DUO's list of school locations (CSV with `;`, UTF-8 or Windows-1252, older or newer
    /// headers), create missing boards and locations, rename changed ones and report closures
    /// (nothing is deleted); one transaction (or, with --dry-run, only show it).
    Duo {
        file: PathBuf,
        #[arg(long)]
        dry_run: bool,
    },
}

#[derive(Debug, Subcommand)]
pub enum LasCommand {
    /// Register the LAS link of a school location. It starts switched off: the school switches
    /// it on with `las switch --school … on`.
    Add {
        #[arg(long, value_parser = SchoolCode::parse)]
        school: SchoolCode,
        /// parnassys, dotcomschool, esis, eduscope or generic.
        #[arg(long, value_parser = LasVendor::parse)]
        vendor: LasVendor,
        /// Where the school's EDEXML is fetched: https://… (http:// only to this machine).
        #[arg(long)]
        endpoint: String,
        /// The header that carries the key.
        #[arg(long, default_value = "Authorization")]
        header: String,
        /// Word before the key in the header, or "none" for the key alone.
        #[arg(long, default_value = "Bearer")]
        scheme: String,
        /// File holding the school's authorisation key; "-" reads it from standard input. Never
        /// on the command line, where other users of the machine could read it.
        #[arg(long, value_name = "PATH")]
        key_file: PathBuf,
    },
    /// Replace the authorisation key (the school issued a new one in its LAS).
    SetKey {
        #[arg(long, value_parser = SchoolCode::parse)]
        school: SchoolCode,
        #[arg(long, value_name = "PATH")]
        key_file: PathBuf,
    },
    /// The school's side of the link: on, or off (as during a merge).
    Switch {
        #[arg(long, value_parser = SchoolCode::parse)]
        school: SchoolCode,
        #[arg(value_parser = ["on", "off"])]
        state: String,
    },
    /// Every link with both sides' state and the last pull.
    List,
    /// Pull the school's file now and import it (or, with --dry-run, only show the difference).
    Pull {
        #[arg(long, value_parser = SchoolCode::parse)]
        school: SchoolCode,
        #[arg(long)]
        dry_run: bool,
    },
}

#[derive(Debug, Args)]
pub struct ClientAdd {
    /// Code of the party (publisher or network provider) the client belongs to.
    #[arg(long)]
    pub party: String,
    #[arg(long)]
    pub client_id: String,
    #[arg(long)]
    pub name: String,
    /// Repeatable; matched exactly.
    #[arg(long = "redirect-uri")]
    pub redirect_uris: Vec<String>,
    #[arg(long = "post-logout-redirect-uri")]
    pub post_logout_redirect_uris: Vec<String>,
    /// Repeatable: authorization_code, refresh_token, client_credentials.
    #[arg(long = "grant", default_value = "authorization_code")]
    pub grants: Vec<String>,
    /// Repeatable: openid, profile, email, eckid, school, groups.
    #[arg(long = "scope", default_value = "openid")]
    pub scopes: Vec<String>,
    /// client_secret_basic (default), client_secret_post, private_key_jwt, none (public client).
    #[arg(long, default_value = "client_secret_basic")]
    pub auth: String,
    /// For private_key_jwt: a file with the client's JWK Set.
    #[arg(long)]
    pub jwks_file: Option<PathBuf>,
    #[arg(long)]
    pub jwks_uri: Option<String>,
    /// ID token signature: RS256 (default) or ES256.
    #[arg(long, value_parser = parse_alg, default_value = "RS256")]
    pub alg: certs::Algorithm,
    /// Pairwise sector shared with other clients; default the party's own.
    #[arg(long)]
    pub sector: Option<String>,
    #[arg(long)]
    pub backchannel_logout_uri: Option<String>,
    /// Third-party initiated login: portal tiles of this party's products start here.
    #[arg(long)]
    pub initiate_login_uri: Option<String>,
}

#[derive(Debug, Subcommand)]
pub enum ClientCommand {
    /// Register a client; prints its secret once (for the secret methods).
    Add(Box<ClientAdd>),
    /// A new secret; the old one stops working at once.
    RotateSecret {
        #[arg(long)]
        client_id: String,
    },
    List {
        #[arg(long)]
        party: String,
    },
}

#[derive(Debug, Subcommand)]
pub enum SpCommand {
    /// Register a service provider from its metadata (a file, or a URL that is then re-read on a
    /// schedule).
    Add(Box<SpAdd>),
    /// Re-read the metadata of one SP (or of all with a URL) now.
    Refresh {
        #[arg(long)]
        entity_id: Option<String>,
    },
    List {
        #[arg(long)]
        party: Option<String>,
    },
    Remove {
        #[arg(long)]
        entity_id: String,
    },
}

#[derive(Debug, clap::Args)]
pub struct SpAdd {
    /// Code of the party (publisher or network provider) the SP belongs to.
    #[arg(long)]
    pub party: String,
    /// The SP's metadata as a file.
    #[arg(long, conflicts_with = "url", required_unless_present = "url")]
    pub metadata: Option<PathBuf>,
    /// Where the SP publishes its metadata (https); re-read every `saml.metadata_refresh_hours`.
    #[arg(long)]
    pub url: Option<String>,
    /// The name users see; by default the metadata's display name.
    #[arg(long)]
    pub name: Option<String>,
    /// What openpoort signs: assertion, response or both (by default: assertion when the
    /// metadata says WantAssertionsSigned="true", else both).
    #[arg(long, value_parser = ["assertion", "response", "both"], long_help = crate::service_providers::choices_help(&crate::service_providers::SIGNING_CHOICES.map(|(c, nl, en)| (c.name(), nl, en))))]
    pub signing: Option<String>,
    /// Sign the whole Response too: the same as `--signing both`.
    #[arg(long, conflicts_with = "signing")]
    pub sign_response: bool,
    /// The names attributes go by: basic (default) or uri (urn:oid names).
    #[arg(long, value_parser = ["basic", "uri"], long_help = crate::service_providers::choices_help(&crate::service_providers::ATTRIBUTE_NAMES_CHOICES.map(|(c, nl, en)| (c.name(), nl, en))))]
    pub attribute_names: Option<String>,
    /// Encrypt assertions to the SP's encryption certificate.
    #[arg(long)]
    pub encrypt: bool,
    /// Pairwise sector shared with other clients; default the party's own.
    #[arg(long)]
    pub sector: Option<String>,
    /// A PEM certificate that must have signed the metadata (a federation's signing key).
    #[arg(long)]
    pub metadata_cert: Option<PathBuf>,
}

#[derive(Debug, Subcommand)]
pub enum PupilCommand {
    /// Set a pupil's own picture (zon, maan, ster, hart, boom, bloem, vis, huis, auto, boot, appel, wolk, paraplu, bal, sleutel, vlinder).
    Picture {
        #[arg(long, value_parser = SchoolCode::parse)]
        school: SchoolCode,
        /// The pupil's LAS key.
        #[arg(long, value_parser = LasKey::parse)]
        pupil: LasKey,
        #[arg(long)]
        picture: String,
    },
    /// Issue a new home code and pin (printed once; the old card stops working).
    HomeCode {
        #[arg(long, value_parser = SchoolCode::parse)]
        school: SchoolCode,
        #[arg(long, value_parser = LasKey::parse)]
        pupil: LasKey,
    },
}

#[derive(Debug, Subcommand)]
pub enum NoticeCommand {
    /// Show a notice in Dutch and English, until it is cleared or until --until.
    Set {
        /// The Dutch text.
        #[arg(long)]
        text: String,
        /// The English text.
        #[arg(long)]
        text_en: String,
        /// Dutch time after which the notice disappears by itself: "YYYY-MM-DD HH:MM".
        #[arg(long, default_value = "")]
        until: String,
    },
    Clear,
    /// The notice as set, with its end.
    Show,
}

#[derive(Debug, Subcommand)]
pub enum AuditCommand {
    /// Newest entries about one school, newest first.
    List {
        #[arg(long, value_parser = SchoolCode::parse)]
        school: SchoolCode,
        /// Only the release audit, as Beheer › Privacy shows it: who received which attributes
        /// about whom, when (allowed releases; refusals are in the full list). Implied by the
        /// filters and `--csv`.
        #[arg(long)]
        releases: bool,
        /// Releases to this party (its code).
        #[arg(long)]
        party: Option<String>,
        /// Releases about users in this group (its key) at the time of the release.
        #[arg(long)]
        group: Option<String>,
        /// From this Dutch calendar day (YYYY-MM-DD), included.
        #[arg(long)]
        from: Option<String>,
        /// Until this Dutch calendar day (YYYY-MM-DD), included.
        #[arg(long)]
        to: Option<String>,
        /// The releases under the filter as Beheer's CSV file, every one (`--limit` aside).
        #[arg(long)]
        csv: bool,
        #[arg(long, default_value_t = 50)]
        limit: u32,
    },
    /// Apply `audit.retention_days` now (serve also does this daily).
    Purge,
}

#[derive(Debug, Subcommand)]
pub enum ConfigCommand {
    /// Load the configuration as `serve` would and report the first problem, if any.
    Check,
    /// Every setting with its environment variable.
    Keys,
}

#[derive(Debug, Subcommand)]
pub enum KeysCommand {
    /// List signing keys with their state (next, current, retired).
    List,
    /// Promote each next key to current, retire the current one and create a fresh next key.
    Rotate {
        /// Only this algorithm (RS256 or ES256); default both.
        #[arg(long, value_parser = parse_alg)]
        alg: Option<certs::Algorithm>,
    },
}

#[derive(Debug, Subcommand)]
pub enum BoardCommand {
    /// Register a school board.
    Add {
        #[arg(long, value_parser = Bestuursnummer::parse)]
        bestuursnummer: Bestuursnummer,
        #[arg(long)]
        name: String,
    },
    List,
    /// Give a board its new name.
    Rename {
        #[arg(long, value_parser = Bestuursnummer::parse)]
        bestuursnummer: Bestuursnummer,
        #[arg(long)]
        name: String,
    },
}

#[derive(Debug, Subcommand)]
pub enum SchoolCommand {
    /// Register a school location under a board.
    Add {
        #[arg(long, value_parser = Bestuursnummer::parse)]
        bestuursnummer: Bestuursnummer,
        #[arg(long, value_parser = Brin::parse)]
        brin: Brin,
        #[arg(long, value_parser = Vestigingscode::parse)]
        vestigingscode: Vestigingscode,
        #[arg(long)]
        name: String,
    },
    List,
    /// Give a school location its new name.
    Rename {
        #[arg(long, value_parser = SchoolCode::parse)]
        school: SchoolCode,
        #[arg(long)]
        name: String,
    },
    /// Create the school's first ICT-coördinator on the board's signed request and mail them
    /// the activation link; refused once the school has an ICT-coördinator.
    FirstIct {
        #[arg(long, value_parser = SchoolCode::parse)]
        school: SchoolCode,
        #[arg(long, value_parser = Email::parse)]
        email: Email,
        #[arg(long)]
        achternaam: String,
        #[arg(long, default_value = "")]
        voorvoegsel: String,
        #[arg(long, default_value = "")]
        roepnaam: String,
        /// Who signed the board's request.
        #[arg(long)]
        requested_by: String,
        /// The reference of the signed request (letter or case number).
        #[arg(long)]
        document_ref: String,
    },
    /// Issue a new INSTELLING_REF; the school's old shortcut links stop working.
    RegenerateRef {
        #[arg(long, value_parser = SchoolCode::parse)]
        school: SchoolCode,
    },
    /// Switch picture passwords on or off.
    PicturePassword {
        #[arg(long, value_parser = SchoolCode::parse)]
        school: SchoolCode,
        #[arg(value_parser = ["on", "off"])]
        state: String,
    },
    /// Merge (fusie): move every group, pupil and staff member of --from into --into, keeping
    /// their identities and pseudonyms; --from is then marked merged and logs nobody in.
    Merge {
        #[arg(long, value_parser = SchoolCode::parse)]
        from: SchoolCode,
        #[arg(long, value_parser = SchoolCode::parse)]
        into: SchoolCode,
        /// Only show what would move.
        #[arg(long)]
        dry_run: bool,
    },
    /// Split (splitsing): move the chosen groups, with their pupils, from --from to --to (a new
    /// location, created under --from's board with --name, or an existing empty one).
    Split {
        #[arg(long, value_parser = SchoolCode::parse)]
        from: SchoolCode,
        #[arg(long, value_parser = SchoolCode::parse)]
        to: SchoolCode,
        /// Name of the new location (only when --to does not exist yet).
        #[arg(long)]
        name: Option<String>,
        /// LAS key of a group that moves; repeatable.
        #[arg(long = "group", value_parser = LasKey::parse, required = true)]
        groups: Vec<LasKey>,
        /// Only show what would move.
        #[arg(long)]
        dry_run: bool,
    },
    /// Who must have a second factor at the school: none, managers (its ICT-coördinatoren),
    /// all_staff, or default (the operator's `login.second_factor_policy`); without --policy,
    /// show it with who has one.
    SecondFactorPolicy {
        #[arg(long, value_parser = SchoolCode::parse)]
        school: SchoolCode,
        #[arg(long, value_parser = ["none", "managers", "all_staff", "default"])]
        policy: Option<String>,
    },
    /// Switch pupils' home login (home codes) on or off.
    HomeLogin {
        #[arg(long, value_parser = SchoolCode::parse)]
        school: SchoolCode,
        #[arg(value_parser = ["on", "off"])]
        state: String,
    },
}

#[derive(Debug, Subcommand)]
pub enum IpRangeCommand {
    Add {
        #[arg(long, value_parser = SchoolCode::parse)]
        school: SchoolCode,
        #[arg(long, value_parser = Cidr::parse)]
        cidr: Cidr,
        #[arg(long, default_value = "")]
        label: String,
    },
    Remove {
        #[arg(long, value_parser = SchoolCode::parse)]
        school: SchoolCode,
        #[arg(long, value_parser = Cidr::parse)]
        cidr: Cidr,
    },
    List {
        #[arg(long, value_parser = SchoolCode::parse)]
        school: SchoolCode,
    },
}

#[derive(Debug, Subcommand)]
pub enum PartyCommand {
    Add {
        /// Short identifier, e.g. `uitgeverij-noord`.
        #[arg(long)]
        code: String,
        /// publisher (uitgeverij) or network_provider (netwerkaanbieder).
        #[arg(long, value_parser = PartyKind::parse)]
        kind: PartyKind,
        #[arg(long)]
        name: String,
    },
    List,
    /// Give a party its new name (its code stays).
    Rename {
        #[arg(long)]
        party: String,
        #[arg(long)]
        name: String,
    },
    /// Let the party receive an attribute beyond the default set (pairwise id, role, school,
    /// groups, jaargroep): eck_id, given_name, family_name, tussenvoegsels or email.
    AllowAttribute {
        #[arg(long)]
        party: String,
        #[arg(long, value_parser = parse_optional_attribute)]
        attribute: broker::Attribute,
    },
    DisallowAttribute {
        #[arg(long)]
        party: String,
        #[arg(long, value_parser = parse_optional_attribute)]
        attribute: broker::Attribute,
    },
    /// The attributes the party may receive.
    Attributes {
        #[arg(long)]
        party: String,
    },
    /// Register a client certificate (PEM) with which the party calls the partner API. A
    /// party may hold two, so that it can put a new one in place before the old one expires.
    CertificateAdd {
        #[arg(long)]
        party: String,
        /// The certificate alone, PEM (`-----BEGIN CERTIFICATE-----`), never the private key.
        #[arg(long)]
        file: std::path::PathBuf,
    },
    /// The party's client certificates: fingerprint, subject, validity.
    Certificates {
        #[arg(long)]
        party: String,
    },
    /// Remove a client certificate; calls presenting it are refused from then on.
    CertificateRemove {
        #[arg(long)]
        party: String,
        /// SHA-256 fingerprint as `party certificates` shows it (colons and case do not matter).
        #[arg(long)]
        sha256: String,
    },
    /// Allow the party's hosted licence API (LIKA) methods and products to point under a URL
    /// prefix: https://host[:port][/path], matched by host, port and whole path segments.
    UrlAllow {
        #[arg(long)]
        party: String,
        #[arg(long)]
        url: String,
    },
    /// The URL prefixes the party's LIKA methods and products may point to.
    UrlAllowed {
        #[arg(long)]
        party: String,
    },
    /// Take a URL prefix off the party's list (registered URLs stay until their next change).
    UrlDisallow {
        #[arg(long)]
        party: String,
        #[arg(long)]
        url: String,
    },
    /// Connect (or reconnect) a network provider that vouches for its users over SAML: its
    /// IdP metadata from a file or a URL (re-read on the schedule of SP metadata).
    UpstreamSaml(Box<UpstreamSaml>),
    /// Connect (or reconnect) a network provider that vouches for its users over OpenID
    /// Connect. The client secret is read from a file or the environment, never the command
    /// line; reconnecting without one keeps the stored secret.
    UpstreamOidc(Box<UpstreamOidc>),
    /// The provider's connection (never its secret), and what to give the provider: openpoort's
    /// SP metadata URL and ACS, or the redirect URI.
    UpstreamShow {
        /// Code of the network provider.
        #[arg(long)]
        party: String,
    },
    /// Re-read the provider's SAML metadata from its URL now.
    UpstreamRefresh {
        /// Code of the network provider.
        #[arg(long)]
        party: String,
    },
    /// Disconnect the provider: its users no longer log in through it.
    UpstreamRemove {
        /// Code of the network provider.
        #[arg(long)]
        party: String,
    },
}

/// The environment variable `party upstream-oidc` reads the client secret from when no
/// `--client-secret-file` is given. A command's input, not a setting: the configuration does
/// not read it.
pub const UPSTREAM_CLIENT_SECRET_ENV: &str = "OPENPOORT_UPSTREAM_CLIENT_SECRET";

#[derive(Debug, Args)]
pub struct UpstreamSaml {
    /// Code of the network provider.
    #[arg(long)]
    pub party: String,
    /// The provider's IdP metadata as a file.
    #[arg(
        long,
        value_name = "PATH",
        conflicts_with = "metadata_url",
        required_unless_present = "metadata_url"
    )]
    pub metadata_file: Option<PathBuf>,
    /// Where the provider publishes its metadata (https); re-read every
    /// `saml.metadata_refresh_hours`.
    #[arg(long, value_name = "URL")]
    pub metadata_url: Option<String>,
    /// The IdP's entityID, to pick it from a federation's aggregate.
    #[arg(long)]
    pub entity_id: Option<String>,
    /// How a user is found: partner_number, eck_id or las_key (never e-mail).
    #[arg(long, value_parser = parse_match_by)]
    pub match_by: MatchBy,
    /// The attribute holding the identifier; without it the NameID.
    #[arg(long, value_name = "ATTR")]
    pub identifier: Option<String>,
    /// The attribute naming the user's school by BRIN + vestigingscode (required for las_key).
    #[arg(long, value_name = "ATTR")]
    pub school_attribute: Option<String>,
    /// Accept an Assertion that is not signed itself, inside a signed Response.
    #[arg(long)]
    pub allow_unsigned_assertion: bool,
    /// Refuse Responses that no login of openpoort asked for (tiles in the provider's portal).
    #[arg(long)]
    pub no_unsolicited: bool,
    /// A PEM certificate that must have signed the metadata.
    #[arg(long, value_name = "PEMFILE")]
    pub metadata_certificate: Option<PathBuf>,
}

#[derive(Debug, Args)]
pub struct UpstreamOidc {
    /// Code of the network provider.
    #[arg(long)]
    pub party: String,
    /// The provider's issuer (https, without ? or #): its discovery document is read from it.
    #[arg(long)]
    pub issuer: String,
    /// openpoort's client id at the provider.
    #[arg(long)]
    pub client_id: String,
    /// client_secret_basic, client_secret_post or private_key_jwt (openpoort's own key).
    #[arg(long, value_parser = parse_client_auth)]
    pub auth: OidcClientAuth,
    /// File holding the client secret; "-" reads it from standard input. Without it:
    /// $OPENPOORT_UPSTREAM_CLIENT_SECRET, else the stored secret is kept.
    #[arg(long, value_name = "PATH")]
    pub client_secret_file: Option<PathBuf>,
    /// A scope asked beside `openid`; repeatable.
    #[arg(long = "scope")]
    pub scopes: Vec<String>,
    /// How a user is found: partner_number, eck_id or las_key (never e-mail).
    #[arg(long, value_parser = parse_match_by)]
    pub match_by: MatchBy,
    /// The claim holding the identifier; without it `sub`.
    #[arg(long, value_name = "CLAIM")]
    pub identifier: Option<String>,
    /// The claim naming the user's school by BRIN + vestigingscode (required for las_key).
    #[arg(long, value_name = "CLAIM")]
    pub school_claim: Option<String>,
}

#[derive(Debug, Subcommand)]
pub enum ProductCommand {
    Add {
        /// Code of the publisher.
        #[arg(long)]
        party: String,
        #[arg(long)]
        code: String,
        /// The methode (title) this product belongs to.
        #[arg(long)]
        methode: String,
        #[arg(long)]
        name: String,
        #[arg(long, value_parser = |s: &str| WebUrl::parse("launch_url", s))]
        launch_url: WebUrl,
        #[arg(long, value_parser = |s: &str| WebUrl::parse("icon_url", s))]
        icon_url: Option<WebUrl>,
        /// Pupils may open it from home (with a home code).
        #[arg(long)]
        home_allowed: bool,
    },
    List {
        #[arg(long)]
        party: String,
    },
    /// Change a product: everything but its code, which licences and shortcuts name.
    Change {
        #[arg(long)]
        party: String,
        #[arg(long)]
        code: String,
        #[arg(long)]
        methode: String,
        #[arg(long)]
        name: String,
        #[arg(long)]
        launch_url: String,
        /// Blank for none.
        #[arg(long, default_value = "")]
        icon_url: String,
        #[arg(long)]
        home_allowed: bool,
    },
}

#[derive(Debug, Args)]
pub struct LicenceAdd {
    #[arg(long, value_parser = SchoolCode::parse)]
    pub school: SchoolCode,
    /// Code of the publisher.
    #[arg(long)]
    pub party: String,
    /// Code of the product.
    #[arg(long)]
    pub product: String,
    /// Limit to this group (LAS key); repeatable. Without --group/--pupil/--staff-email the
    /// licence covers the whole school.
    #[arg(long = "group", value_parser = LasKey::parse)]
    pub groups: Vec<LasKey>,
    /// Limit to this pupil (LAS key); repeatable.
    #[arg(long = "pupil", value_parser = LasKey::parse)]
    pub pupils: Vec<LasKey>,
    /// Limit to this staff member (e-mail); repeatable.
    #[arg(long = "staff-email")]
    pub staff: Vec<String>,
    /// First day of validity, YYYY-MM-DD.
    #[arg(long, value_parser = |s: &str| Date::parse("--from", s))]
    pub from: Date,
    /// Last day of validity, YYYY-MM-DD; open-ended without it.
    #[arg(long, value_parser = |s: &str| Date::parse("--until", s))]
    pub until: Option<Date>,
}

#[derive(Debug, Subcommand)]
pub enum LicenceCommand {
    Add(LicenceAdd),
    List {
        #[arg(long, value_parser = SchoolCode::parse)]
        school: SchoolCode,
    },
}

#[derive(Debug, Subcommand)]
pub enum GroupCommand {
    /// The school's current groups in reading order: key, name, number of pupils and id.
    List {
        #[arg(long, value_parser = SchoolCode::parse)]
        school: SchoolCode,
    },
}

#[derive(Debug, Subcommand)]
pub enum ConsentCommand {
    /// Record that the school consents to the party receiving its data.
    Grant {
        #[arg(long, value_parser = SchoolCode::parse)]
        school: SchoolCode,
        #[arg(long)]
        party: String,
    },
    /// End the consent; the history keeps it.
    Revoke {
        #[arg(long, value_parser = SchoolCode::parse)]
        school: SchoolCode,
        #[arg(long)]
        party: String,
    },
    /// All consents of a school, open and revoked.
    List {
        #[arg(long, value_parser = SchoolCode::parse)]
        school: SchoolCode,
    },
}

#[derive(Debug, Subcommand)]
pub enum AgreementCommand {
    /// The version in force (`privacy.agreement_version`), whether the school's board accepted
    /// it, and every acceptance of the board.
    Show {
        #[arg(long, value_parser = SchoolCode::parse)]
        school: SchoolCode,
    },
    /// Record, for the school's board, an acceptance the board gave outside openpoort (on paper,
    /// say). Only the version in force, once per board; never changed afterwards.
    Accept {
        #[arg(long, value_parser = SchoolCode::parse)]
        school: SchoolCode,
        #[arg(long)]
        version: String,
    },
}

fn parse_optional_attribute(s: &str) -> Result<broker::Attribute, String> {
    let a = broker::Attribute::parse(s).map_err(|e| e.to_string())?;
    if broker::Attribute::OPTIONAL.contains(&a) {
        Ok(a)
    } else {
        Err(format!(
            "{s} wordt altijd vrijgegeven; alleen eck_id, given_name, family_name, tussenvoegsels en email zijn instelbaar / {s} is always released; only eck_id, given_name, family_name, tussenvoegsels and email can be configured"
        ))
    }
}

fn parse_match_by(s: &str) -> Result<MatchBy, String> {
    MatchBy::parse(s).ok_or_else(|| {
        format!(
            "{s} is geen koppelregel: kies partner_number, eck_id of las_key (nooit e-mail) / {s} is no match rule: choose partner_number, eck_id or las_key (never e-mail)"
        )
    })
}

fn parse_client_auth(s: &str) -> Result<OidcClientAuth, String> {
    OidcClientAuth::parse(s).ok_or_else(|| {
        format!(
            "{s} is geen aanmeldmethode: kies client_secret_basic, client_secret_post of private_key_jwt / {s} is no authentication method: choose client_secret_basic, client_secret_post or private_key_jwt"
        )
    })
}

fn parse_alg(s: &str) -> Result<certs::Algorithm, String> {
    s.parse::<certs::Algorithm>().map_err(|e| e.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn command_line_definition_is_consistent() {
        use clap::CommandFactory;
        Cli::command().debug_assert();
    }
}
