//! The school's network: the IP ranges from which pupils may use the school's shortcut link.

use std::net::IpAddr;

use directory::Directory;
use directory::model::Cidr;
use directory::schools::IpRange;

use super::{AdminError, Administered};

/// A registered range, and whether the address the administrator works from lies in it.
pub struct RangeRow {
    pub range: IpRange,
    pub holds_caller: bool,
}

/// The school's ranges, each marked when it covers `caller` (the administrator's own address,
/// so the page can warn before they cut their own school off).
pub async fn ranges(
    d: &Directory,
    a: &Administered,
    caller: Option<IpAddr>,
) -> Result<Vec<RangeRow>, AdminError> {
    Ok(d.ip_ranges(&a.school.id)
        .await?
        .into_iter()
        .map(|range| RangeRow {
            holds_caller: holds(&range, caller),
            range,
        })
        .collect())
}

fn holds(range: &IpRange, caller: Option<IpAddr>) -> bool {
    match (range.network(), caller) {
        (Ok(net), Some(ip)) => net.contains(ip),
        _ => false,
    }
}

pub async fn add(
    d: &Directory,
    a: &Administered,
    cidr: &str,
    label: &str,
) -> Result<IpRange, AdminError> {
    let cidr = Cidr::parse(cidr)?;
    Ok(d.add_ip_range(&a.school.id, &cidr, label, &a.actor).await?)
}

/// Removes a range. Removing the one the administrator's own address lies in stops the pupil
/// shortcut from working where they sit, so it must be `confirmed`.
pub async fn remove(
    d: &Directory,
    a: &Administered,
    cidr: &str,
    caller: Option<IpAddr>,
    confirmed: bool,
) -> Result<(), AdminError> {
    let cidr = Cidr::parse(cidr)?;
    if !confirmed && caller.is_some_and(|ip| cidr.contains(ip)) {
        return Err(AdminError::refused(
            format!(
                "{cidr} bevat je huidige adres: na het verwijderen werkt de leerlingsnelkoppeling hier niet meer. Bevestig als je dat wilt."
            ),
            format!(
                "{cidr} holds your current address: once removed, the pupil shortcut stops working here. Confirm if that is what you want."
            ),
        ));
    }
    Ok(d.remove_ip_range(&a.school.id, &cidr, &a.actor).await?)
}
