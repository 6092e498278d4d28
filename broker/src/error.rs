use thiserror::Error;

#[derive(Debug, Error)]
pub enum BrokerError {
    #[error("{0}")]
    Directory(#[from] directory::DirectoryError),
    #[error("pairwise-identifier secret: {0}")]
    Secret(#[from] certs::CertsError),
    #[error("pairwise identifier: {0}")]
    Crypto(#[from] openssl::error::ErrorStack),
    #[error(
        "onbekend attribuut {0:?}; bekend zijn subject, affiliation, home_organization, home_organization_branch, groups, jaargroep, eck_id, given_name, family_name, tussenvoegsels, email / unknown attribute {0:?}"
    )]
    UnknownAttribute(String),
}
