//! The generic connector: `GET endpoint` with the school's key in a header, over HTTPS.

use std::time::Duration;

use reqwest::header::{ACCEPT, HeaderName, HeaderValue};

use super::store::check_endpoint;
use super::{LasConnector, LasError, LasRequest};
use crate::outbound::{OutboundError, OutboundPolicy};

/// Pulls EDEXML with an HTTPS GET, within the outbound policy. Redirects are not followed: a
/// redirect could carry the key in its header to another host.
#[derive(Clone, Debug)]
pub struct HttpsConnector {
    client: reqwest::Client,
    timeout: Duration,
    policy: OutboundPolicy,
}

impl HttpsConnector {
    /// `timeout` covers a whole pull, from connecting to the last byte of the file.
    pub fn new(timeout: Duration, policy: OutboundPolicy) -> Result<HttpsConnector, LasError> {
        let client = policy
            .client_builder()
            .user_agent(concat!(
                "openpoort/",
                env!("CARGO_PKG_VERSION"),
                " (LAS link)"
            ))
            .timeout(timeout)
            .build()
            .map_err(|e| LasError::Unreachable {
                reason: format!("HTTP-client: {e}"),
            })?;
        Ok(HttpsConnector {
            client,
            timeout,
            policy,
        })
    }

    /// The policy's description, which names neither the URL (a vendor may put a school
    /// identifier in it, and logs keep messages) nor the cause of a failed connection.
    fn describe(&self, e: OutboundError) -> LasError {
        match e {
            OutboundError::TooLarge { limit } => LasError::TooLarge { limit },
            e => LasError::Unreachable {
                reason: e.to_string(),
            },
        }
    }
}

impl LasConnector for HttpsConnector {
    async fn fetch(&self, request: &LasRequest<'_>) -> Result<Vec<u8>, LasError> {
        // The register checked the endpoint when the link was added; checked again because a
        // connector must not send a key in the clear whatever its caller did.
        check_endpoint(request.endpoint.as_str()).map_err(|e| LasError::Unreachable {
            reason: e.to_string(),
        })?;
        let endpoint = self
            .policy
            .check_url(request.endpoint.as_str())
            .map_err(|e| self.describe(e))?;
        let placement = request.placement;
        let name = HeaderName::from_bytes(placement.header.as_bytes()).map_err(|_| {
            LasError::Unreachable {
                reason: format!(
                    "ongeldige headernaam {:?} / invalid header name",
                    placement.header
                ),
            }
        })?;
        let value = match &placement.scheme {
            Some(scheme) => format!("{scheme} {}", request.key.expose()),
            None => request.key.expose().to_owned(),
        };
        let mut value = HeaderValue::from_str(&value).map_err(|_| LasError::Unreachable {
            reason:
                "de sleutel past niet in een HTTP-header / the key does not fit in an HTTP header"
                    .into(),
        })?;
        value.set_sensitive(true);
        let response = self
            .client
            .get(endpoint)
            .header(name, value)
            .header(ACCEPT, "application/xml, text/xml;q=0.9, */*;q=0.1")
            .send()
            .await
            .map_err(|e| self.describe(self.policy.describe(&e, self.timeout)))?;
        let status = response.status();
        if status == reqwest::StatusCode::UNAUTHORIZED || status == reqwest::StatusCode::FORBIDDEN {
            return Err(LasError::Refused {
                status: status.as_u16(),
            });
        }
        if !status.is_success() {
            return Err(LasError::Unreachable {
                reason: format!(
                    "het LAS antwoordde HTTP {status} / the LAS answered HTTP {status}"
                ),
            });
        }
        let body = self
            .policy
            .read_bounded(response, request.max_bytes, self.timeout)
            .await
            .map_err(|e| self.describe(e))?;
        if body.is_empty() {
            return Err(LasError::BadFile {
                reason: "het antwoord was leeg / the answer was empty".into(),
            });
        }
        Ok(body)
    }
}
