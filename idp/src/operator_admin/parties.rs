//! Publishers and network providers (partijen) and a publisher's products: list, add, change.
//! A party's and a product's code never changes: licences, consents, shortcuts and the
//! command line name them by it.

use directory::Directory;
use directory::model::{PartyKind, WebUrl};
use directory::operators::ProductChange;
use directory::parties::{NewProduct, Party, Product};

use super::{AdminError, Operating, optional};

pub async fn list(d: &Directory, _op: &Operating) -> Result<Vec<Party>, AdminError> {
    Ok(d.list_parties().await?)
}

/// A party by its code, or not found.
pub async fn party(d: &Directory, _op: &Operating, code: &str) -> Result<Party, AdminError> {
    d.party_by_code(code.trim())
        .await?
        .ok_or_else(|| AdminError::NotFound {
            what: "partij",
            key: code.to_owned(),
        })
}

pub async fn add(
    d: &Directory,
    op: &Operating,
    code: &str,
    kind: &str,
    name: &str,
) -> Result<Party, AdminError> {
    let kind = PartyKind::parse(kind.trim())?;
    Ok(d.create_party(code.trim(), kind, name, &op.actor).await?)
}

pub async fn rename(
    d: &Directory,
    op: &Operating,
    code: &str,
    name: &str,
) -> Result<Party, AdminError> {
    let p = party(d, op, code).await?;
    d.rename_party(&p.id, name, &op.actor).await?;
    party(d, op, code).await
}

pub async fn products(
    d: &Directory,
    op: &Operating,
    party_code: &str,
) -> Result<(Party, Vec<Product>), AdminError> {
    let p = party(d, op, party_code).await?;
    let products = d.products_of_party(&p.id).await?;
    Ok((p, products))
}

/// A product as the operator types it in; `icon_url` blank for none.
pub struct ProductForm<'a> {
    pub methode: &'a str,
    pub name: &'a str,
    pub launch_url: &'a str,
    pub icon_url: &'a str,
    pub home_allowed: bool,
}

fn urls(form: &ProductForm<'_>) -> Result<(WebUrl, Option<WebUrl>), AdminError> {
    let launch = WebUrl::parse("launch_url", form.launch_url.trim())?;
    let icon = optional(form.icon_url)
        .map(|u| WebUrl::parse("icon_url", u))
        .transpose()?;
    Ok((launch, icon))
}

/// Adds a product; only publishers have products (a network provider carries logins, it
/// offers no material of its own).
pub async fn add_product(
    d: &Directory,
    op: &Operating,
    party_code: &str,
    code: &str,
    form: &ProductForm<'_>,
) -> Result<Product, AdminError> {
    let p = party(d, op, party_code).await?;
    if p.kind != PartyKind::Publisher {
        return Err(AdminError::refused(
            "Alleen een uitgeverij heeft producten.",
            "Only a publisher has products.",
        ));
    }
    let (launch_url, icon_url) = urls(form)?;
    let new = NewProduct {
        code: code.trim().to_owned(),
        methode: form.methode.to_owned(),
        name: form.name.to_owned(),
        launch_url,
        icon_url,
        home_allowed: form.home_allowed,
    };
    Ok(d.create_product(&p.id, &new, &op.actor).await?)
}

/// A product of the party by its code, or not found.
pub async fn product(
    d: &Directory,
    op: &Operating,
    party_code: &str,
    code: &str,
) -> Result<(Party, Product), AdminError> {
    let p = party(d, op, party_code).await?;
    let product = d
        .product_by_code(&p.id, code)
        .await?
        .ok_or_else(|| AdminError::NotFound {
            what: "product",
            key: code.to_owned(),
        })?;
    Ok((p, product))
}

pub async fn change_product(
    d: &Directory,
    op: &Operating,
    party_code: &str,
    code: &str,
    form: &ProductForm<'_>,
) -> Result<Product, AdminError> {
    let (_, existing) = product(d, op, party_code, code).await?;
    let (launch_url, icon_url) = urls(form)?;
    let change = ProductChange {
        methode: form.methode.to_owned(),
        name: form.name.to_owned(),
        launch_url,
        icon_url,
        home_allowed: form.home_allowed,
    };
    d.change_product(&existing.id, &change, &op.actor).await?;
    Ok(product(d, op, party_code, code).await?.1)
}
