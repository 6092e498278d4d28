//! The single sign-on endpoint: AuthnRequests by HTTP-Redirect and HTTP-POST, answered with a
//! signed Response by HTTP-POST to an AssertionConsumerService from the SP's metadata.

use crate::http::extract::Query;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};

use crate::flow::login::{to_login, to_network, to_school_choice};
use crate::flow::release::{self, Outcome, Recipient};
use ::metadata::saml::response::{AssertionParams, SamlAttribute, Status, success_response};
use ::metadata::saml::sp::AttributeNames;
use ::metadata::saml::{
    AuthnRequest, BINDING_POST, NAMEID_PERSISTENT, NAMEID_TRANSIENT, NAMEID_UNSPECIFIED, SamlError,
    ServiceProvider, binding,
};

use super::receive::{self, ByPost, ByRedirect, Freshness, Refusal};
use super::{
    Outgoing, Pending, continue_same_site, entity_id, load_sp, park, parked, post_page, refused,
    signer, sso_url, status_to_sp, unpark,
};
use crate::app_state::AppState;
use crate::http::{PageError, Text, see_other, sha256_hex};
use crate::session::{self, Session};

/// Why a request is refused, for the page and the log. The SP never hears of these: it is not
/// (yet) proven who sent the request, or where an answer could safely go.
fn unreadable(e: &SamlError) -> Response {
    tracing::info!(error = %e, "SAML request refused");
    match e {
        SamlError::TooLarge { .. } => refused(
            "Het inlogverzoek van de toepassing is te groot.",
            "The application's login request is too large.",
        ),
        SamlError::Doctype => refused(
            "Het inlogverzoek van de toepassing bevat een DOCTYPE; dat wordt niet geaccepteerd.",
            "The application's login request contains a DOCTYPE, which is not accepted.",
        ),
        SamlError::BadSignature | SamlError::MissingSignature => refused(
            "De ondertekening van het inlogverzoek klopt niet met de sleutel die de toepassing bij openpoort heeft geregistreerd.",
            "The login request's signature does not match the key the application registered with openpoort.",
        ),
        _ => refused(
            "Het inlogverzoek van de toepassing is onleesbaar of onvolledig.",
            "The application's login request is unreadable or incomplete.",
        ),
    }
}

fn unknown_sp() -> Response {
    refused(
        "Deze toepassing is niet bij openpoort geregistreerd.",
        "This application is not registered with openpoort.",
    )
}

fn unsigned() -> Response {
    refused(
        "Deze toepassing ondertekent haar inlogverzoeken, maar dit verzoek is niet ondertekend.",
        "This application signs its login requests, but this request is not signed.",
    )
}

/// A request openpoort will not answer, as a page.
fn refusal(r: Refusal) -> Response {
    match r {
        Refusal::Unreadable(e) => unreadable(&e),
        Refusal::UnknownIssuer => unknown_sp(),
        Refusal::Unsigned => unsigned(),
        Refusal::TooMany => super::too_many_requests(),
        Refusal::Failed(e) => e.into_response(),
    }
}

impl receive::Inbound for AuthnRequest {
    fn must_sign(sp: &ServiceProvider) -> bool {
        sp.authn_requests_signed
    }

    fn refused(r: Refusal) -> Response {
        refusal(r)
    }
}

pub async fn redirect_binding(
    State(state): State<AppState>,
    headers: HeaderMap,
    ByRedirect(r): ByRedirect<AuthnRequest>,
) -> Result<Response, PageError> {
    let pending = validate(&state, &r.sp, &r.request, r.relay_state.as_deref()).await?;
    continue_flow(&state, &headers, pending, &r.sp, None).await
}

pub async fn post_binding(
    State(state): State<AppState>,
    ByPost(r): ByPost<AuthnRequest>,
) -> Result<Response, PageError> {
    let pending = validate(&state, &r.sp, &r.request, r.relay_state.as_deref()).await?;
    Ok(continue_same_site(&state, &pending, "/saml/sso/verder").await?)
}

/// The NameID format to answer with: what the request asks if openpoort offers it, else what
/// the SP's metadata lists first among those openpoort offers, else persistent.
fn name_id_format(sp: &ServiceProvider, asked: Option<&str>) -> Option<&'static str> {
    match asked {
        Some(NAMEID_PERSISTENT) => Some(NAMEID_PERSISTENT),
        Some(NAMEID_TRANSIENT) => Some(NAMEID_TRANSIENT),
        None | Some(NAMEID_UNSPECIFIED) => Some(
            sp.name_id_formats
                .iter()
                .find_map(|f| match f.as_str() {
                    NAMEID_PERSISTENT => Some(NAMEID_PERSISTENT),
                    NAMEID_TRANSIENT => Some(NAMEID_TRANSIENT),
                    _ => None,
                })
                .unwrap_or(NAMEID_PERSISTENT),
        ),
        Some(_) => None,
    }
}

/// The checks that make a request answerable: its ACS is in the metadata, it is addressed to
/// this endpoint, it is fresh and new, and its RelayState fits.
async fn validate(
    state: &AppState,
    sp: &ServiceProvider,
    request: &AuthnRequest,
    relay_state: Option<&str>,
) -> Result<Pending, PageError> {
    if let Some(page) = super::expired_metadata(state, sp).await? {
        return Err(PageError::from(page));
    }
    let Some(acs) = sp.acs(request.acs_url.as_deref(), request.acs_index) else {
        return Err(PageError::from(refused(
            "Het terugstuuradres (AssertionConsumerService) in dit verzoek staat niet in de metadata van de toepassing.",
            "The AssertionConsumerService in this request is not in the application's metadata.",
        )));
    };
    if request
        .protocol_binding
        .as_deref()
        .is_some_and(|b| b != BINDING_POST)
    {
        return Err(PageError::from(refused(
            "De toepassing vraagt een antwoord via een binding die openpoort niet gebruikt; openpoort antwoordt met HTTP-POST.",
            "The application asks for an answer through a binding openpoort does not use; openpoort answers with HTTP-POST.",
        )));
    }
    if request
        .destination
        .as_deref()
        .is_some_and(|d| d != sso_url(state))
    {
        return Err(PageError::from(refused(
            "Dit inlogverzoek is aan een ander adres gericht (Destination).",
            "This login request is addressed elsewhere (Destination).",
        )));
    }
    if relay_state.is_some_and(|r| r.len() > ::metadata::saml::MAX_RELAY_STATE) {
        return Err(PageError::from(refused(
            "De RelayState van dit verzoek is langer dan de 80 bytes die SAML toestaat.",
            "This request's RelayState is longer than the 80 bytes SAML allows.",
        )));
    }
    match receive::freshness(state, "request", sp, &request.id, request.issue_instant).await? {
        Freshness::Fresh => {}
        Freshness::Expired => {
            return Err(PageError::from(refused(
                "Dit inlogverzoek is verlopen of komt uit de toekomst; controleer de klok van de toepassing en probeer het opnieuw.",
                "This login request has expired or comes from the future; check the application's clock and try again.",
            )));
        }
        Freshness::Replayed => {
            return Err(PageError::from(refused(
                "Dit inlogverzoek is al eens gebruikt. Start het inloggen opnieuw vanuit de toepassing.",
                "This login request has been used before. Start the login again from the application.",
            )));
        }
    }
    let Some(format) = name_id_format(sp, request.name_id_format.as_deref()) else {
        return Err(PageError::Answer(
            status_to_sp(
                state,
                sp,
                &acs.location,
                Some(&request.id),
                relay_state,
                Status {
                    code: ::metadata::saml::STATUS_REQUESTER,
                    sub_code: Some(::metadata::saml::STATUS_INVALID_NAMEID_POLICY),
                    message: "openpoort issues persistent or transient NameIDs only",
                },
            )
            .await?,
        ));
    };
    if let Some(asked) = &request.requested_authn_context
        && !asked.can_be_met()
    {
        return Err(PageError::Answer(
            no_authn_context(state, sp, &acs.location, &request.id, relay_state).await?,
        ));
    }
    Ok(Pending {
        sp: sp.entity_id.clone(),
        request_id: request.id.clone(),
        acs: acs.location.clone(),
        relay_state: relay_state.map(str::to_owned),
        force_authn: request.force_authn,
        is_passive: request.is_passive,
        name_id_format: format.to_owned(),
        created_at: crate::clock::unix_now(),
        login_asked: false,
        stale_sid: None,
        idp_list: request.idp_list.iter().take(8).cloned().collect(),
        requested_authn_context: request.requested_authn_context.clone(),
    })
}

/// The answer to a request whose RequestedAuthnContext openpoort cannot meet (SAML Core
/// 3.3.2.2.1): a Responder status with NoAuthnContext, signed, to the SP.
async fn no_authn_context(
    state: &AppState,
    sp: &ServiceProvider,
    acs: &str,
    request_id: &str,
    relay_state: Option<&str>,
) -> Result<Response, super::FlowError> {
    status_to_sp(
        state,
        sp,
        acs,
        Some(request_id),
        relay_state,
        Status {
            code: ::metadata::saml::STATUS_RESPONDER,
            sub_code: Some(::metadata::saml::STATUS_NO_AUTHN_CONTEXT),
            message: "the requested authentication context cannot be met",
        },
    )
    .await
}

pub async fn resume(
    State(state): State<AppState>,
    headers: HeaderMap,
    Query(q): Query<super::Resume>,
) -> Result<Response, PageError> {
    let Some(pending) = parked::<Pending>(&state, &q.id, false).await? else {
        return Ok(refused(
            "Dit inlogverzoek is verlopen. Start het inloggen opnieuw vanuit de toepassing.",
            "This login request has expired. Start the login again from the application.",
        ));
    };
    let Some(sp) = load_sp(&state, &pending.sp).await? else {
        return Ok(unknown_sp());
    };
    continue_flow(&state, &headers, pending, &sp, Some(&q.id)).await
}

/// With a valid request in hand: sign the user in if needed, then decide and answer.
async fn continue_flow(
    state: &AppState,
    headers: &HeaderMap,
    mut pending: Pending,
    sp: &ServiceProvider,
    parked: Option<&str>,
) -> Result<Response, PageError> {
    let s = session::load(state, headers).await?;
    let needs_login = match &s {
        None => true,
        Some(s) => {
            pending.force_authn
                && (!pending.login_asked || pending.stale_sid.as_deref() == Some(&s.data.sid))
        }
    };
    if needs_login || s.as_ref().is_some_and(|s| s.data.school_id.is_none()) {
        if pending.is_passive {
            return status_to_sp(
                state,
                sp,
                &pending.acs,
                Some(&pending.request_id),
                pending.relay_state.as_deref(),
                Status {
                    code: ::metadata::saml::STATUS_RESPONDER,
                    sub_code: Some(::metadata::saml::STATUS_NO_PASSIVE),
                    message: "the user is not signed in",
                },
            )
            .await
            .map_err(PageError::from);
        }
        if needs_login {
            pending.login_asked = true;
            pending.stale_sid = s.as_ref().map(|s| s.data.sid.clone());
        }
        let id = park(state, &pending, parked).await?;
        let back = format!("/saml/sso/verder?id={id}");
        let to = if needs_login {
            match hinted(state, &pending.idp_list).await? {
                Some(code) => to_network(&code, &back, pending.force_authn),
                None => to_login(&back, None),
            }
        } else {
            to_school_choice(&back)
        };
        return Ok(see_other(&to, HeaderMap::new()));
    }
    let s = s.expect("checked above");
    // A password login that falls short only of the second factor the SP asked for is raised by
    // that factor alone, when the staff member has one (as for OIDC's acr_values).
    if let Some(asked) = &pending.requested_authn_context
        && !pending.is_passive
        && !asked.is_met_by(&class_ref(&s.data))
        && asked.is_met_by(::metadata::saml::authn_context::TIME_SYNC_TOKEN)
        && crate::flow::second_factor::can_step_up(state, &s.data).await?
    {
        let id = park(state, &pending, parked).await?;
        let back = format!("/saml/sso/verder?id={id}");
        return Ok(see_other(
            &crate::flow::second_factor::to_code(&back),
            HeaderMap::new(),
        ));
    }
    if let Some(id) = parked {
        unpark(state, id).await?;
    }
    if let Some(asked) = &pending.requested_authn_context
        && !asked.is_met_by(&class_ref(&s.data))
    {
        // The session stands; the SP decides what to do with a login of another class.
        return Ok(no_authn_context(
            state,
            sp,
            &pending.acs,
            &pending.request_id,
            pending.relay_state.as_deref(),
        )
        .await?);
    }
    issue(
        state,
        &s,
        sp,
        &pending.acs,
        Some(&pending.request_id),
        pending.relay_state.as_deref(),
        &pending.name_id_format,
        None,
    )
    .await
}

/// The SessionIndex an SP sees for a session: derived per SP, so that two SPs cannot link
/// their users' sessions through it.
pub fn session_index(sid: &str, sp: &str) -> String {
    format!("_{}", &sha256_hex(&format!("{sid}\n{sp}"))[..40])
}

/// The AuthnContextClassRef of a session's login.
fn class_ref(s: &session::SessionData) -> String {
    ::metadata::saml::authn_context::class_ref(&s.acr()).to_owned()
}

/// An attribute under the names the SP takes: its `urn:oid:` name with the URI NameFormat where
/// it has one and the SP asked for those, else the catalogue's SAML name.
fn saml_attribute(
    a: broker::Attribute,
    names: AttributeNames,
    values: Vec<String>,
) -> SamlAttribute {
    match (names, a.saml_oid()) {
        (AttributeNames::Uri, Some(oid)) => SamlAttribute {
            name: oid.to_owned(),
            name_format: ::metadata::saml::ATTRNAME_URI,
            friendly_name: a.saml_name().to_owned(),
            values,
        },
        _ => SamlAttribute::basic(a.saml_name(), values),
    }
}

/// The catalogue attributes an SP's metadata asks for (RequestedAttribute by name, by
/// eduPerson URN or by friendly name); `None` when it names none.
fn requested(sp: &ServiceProvider) -> Option<Vec<broker::Attribute>> {
    if sp.requested_attributes.is_empty() {
        return None;
    }
    let found: Vec<broker::Attribute> = sp
        .requested_attributes
        .iter()
        .filter_map(|r| {
            let bare = r.name.trim_start_matches("urn:mace:dir:attribute-def:");
            broker::Attribute::from_saml_name(bare)
                .or_else(|| broker::Attribute::from_saml_oid(&r.name))
                .or_else(|| {
                    r.friendly_name
                        .as_deref()
                        .and_then(broker::Attribute::from_saml_name)
                })
        })
        .collect();
    Some(found)
}

/// Decides and answers: a signed Response to `acs`, or openpoort's explanation page whose
/// button sends the SP a signed refusal.
#[allow(clippy::too_many_arguments)]
pub async fn issue(
    state: &AppState,
    s: &Session,
    sp: &ServiceProvider,
    acs: &str,
    in_response_to: Option<&str>,
    relay_state: Option<&str>,
    name_id_format: &str,
    product_id: Option<&str>,
) -> Result<Response, PageError> {
    // Again here: an IdP-initiated login, or a request that waited while the date passed.
    if let Some(page) = super::expired_metadata(state, sp).await? {
        return Ok(page);
    }
    let Some(school_id) = s.data.school_id.as_deref() else {
        return Ok(see_other("/school-kiezen", HeaderMap::new()));
    };
    let now = crate::clock::unix_now();
    let sector = sp.sector();
    let requested = requested(sp);
    let to = Recipient {
        party_id: &sp.party_id,
        fallback_name: &sp.name,
        sector: &sector,
        product_id,
        requested: requested.as_deref(),
    };
    let outcome = release::decide(state, &s.data, school_id, &to, now).await?;
    let signer = signer(state).await?;
    let idp = entity_id(state);
    let answer = |xml: &str, explanation: Option<Text>, status: StatusCode| {
        post_page(
            Outgoing {
                action: acs,
                field: "SAMLResponse",
                message_b64: &binding::encode_post(xml),
                relay_state,
                name: &sp.name,
            },
            explanation,
            status,
            HeaderMap::new(),
        )
    };
    let release = match outcome {
        Outcome::Allow(r) => r,
        Outcome::Deny(explanation) => {
            let xml = ::metadata::saml::response::status_response(
                &idp,
                acs,
                in_response_to,
                Status {
                    code: ::metadata::saml::STATUS_RESPONDER,
                    sub_code: Some(::metadata::saml::STATUS_REQUEST_DENIED),
                    message: "the school's rules do not allow this login",
                },
                now,
                &signer,
            )
            .map_err(PageError::internal)?;
            return Ok(answer(&xml, Some(explanation), StatusCode::FORBIDDEN));
        }
    };
    let transient = name_id_format == NAMEID_TRANSIENT;
    let name_id = if transient {
        ::metadata::saml::new_id()
    } else {
        release.subject().to_owned()
    };
    let attributes: Vec<SamlAttribute> = release
        .claims
        .iter()
        // A transient NameID is pointless next to the persistent pseudonym as an attribute.
        .filter(|(a, _)| !(transient && *a == broker::Attribute::Subject))
        .map(|(a, v)| {
            let values = match v {
                broker::Value::One(s) => vec![s.clone()],
                broker::Value::Many(list) => list.clone(),
            };
            saml_attribute(*a, sp.attribute_names, values)
        })
        .collect();
    let params = AssertionParams {
        idp_entity_id: idp,
        sp_entity_id: sp.entity_id.clone(),
        acs_url: acs.to_owned(),
        in_response_to: in_response_to.map(str::to_owned),
        name_id,
        name_id_format: name_id_format.to_owned(),
        session_index: session_index(&s.data.sid, &sp.entity_id),
        authn_instant: s.data.created_at,
        authn_context: class_ref(&s.data),
        attributes,
        now,
        lifetime: i64::from(state.web.saml.assertion_lifetime_seconds),
        skew: i64::from(state.web.saml.clock_skew_seconds),
        session_not_on_or_after: Some(s.data.created_at + state.web.absolute.as_secs() as i64),
    };
    let encrypt_to = sp
        .encryption_certificates
        .first()
        .filter(|_| sp.encrypt_assertions)
        .cloned();
    let signing = sp.signing();
    // Signing holds a core for about a millisecond: off the async threads.
    let xml = tokio::task::spawn_blocking(move || {
        success_response(&params, &signer, signing, encrypt_to.as_deref())
    })
    .await
    .map_err(PageError::internal)?
    .map_err(PageError::internal)?;
    Ok(answer(&xml, None, StatusCode::OK))
}

/// The first entry of the SP's IDPList that is a connected network provider.
async fn hinted(state: &AppState, idp_list: &[String]) -> Result<Option<String>, PageError> {
    for entity_id in idp_list {
        if let Some(code) = crate::upstream::registry::hinted_provider(&state.directory, entity_id)
            .await
            .map_err(PageError::internal)?
        {
            return Ok(Some(code));
        }
    }
    Ok(None)
}
