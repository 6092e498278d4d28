//! Leerkrachten: the school's staff, people added by hand, addresses and invitations, roles,
//! groups (an invalkracht for a period) and deactivation.

use std::path::Path;

use directory::model::Date;
use openpoort_e2e::{Browser, Page, Store, anna_signed_in, bram_signed_in, cli_ok};

use crate::common::{demo, form};

const LIST: &str = "/beheer/leerkrachten";

/// The path of `name`'s own page, from the staff list.
pub fn person(list: &Page, name: &str) -> String {
    let at = list
        .body
        .find(&format!("<span class=\"visually-hidden\"> {name}</span>"))
        .unwrap_or_else(|| panic!("{name} not in the list: {}", list.body));
    let start = list.body[..at].rfind("href=\"").unwrap() + 6;
    list.body[start..start + list.body[start..].find('"').unwrap()].to_owned()
}

/// The activation links mailed to `address`, oldest first.
pub(crate) fn activation_links(dir: &Path, address: &str) -> Vec<String> {
    let mut mails: Vec<_> = std::fs::read_dir(dir.join("data/outbox"))
        .expect("the outbox")
        .flatten()
        .map(|e| {
            let modified = e.metadata().unwrap().modified().unwrap();
            (modified, std::fs::read_to_string(e.path()).unwrap())
        })
        .filter(|(_, m)| {
            m.contains(&format!("To: {address}")) || m.contains(&format!("<{address}>"))
        })
        .collect();
    mails.sort_by_key(|(t, _)| *t);
    mails
        .iter()
        .filter_map(|(_, m)| {
            let line = m.lines().find(|l| l.contains("/activeren?token="))?;
            Some(line[line.find("/activeren").unwrap()..].trim().to_owned())
        })
        .collect()
}

fn today(days: i64) -> String {
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64;
    Date::in_netherlands(now + days * 86_400).to_string()
}

#[tokio::test]
async fn the_list_shows_status_roles_and_groups_and_someone_added_is_mailed_an_activation_link() {
    let d = demo(Store::Memory);
    let mut bram = bram_signed_in(&d.server.base).await;
    let list = bram.get(LIST).await;
    assert_eq!(list.status, 200, "{}", list.body);
    assert!(
        list.body.contains("aria-current=\"page\">Leerkrachten"),
        "the tab"
    );
    for shown in [
        "Anna de Vries",
        "nog niet geactiveerd",
        "Bram Jansen",
        "actief",
        "leerkracht, ICT-coördinator",
        "Groep 5 Uilen",
    ] {
        assert!(list.body.contains(shown), "{shown}: {}", list.body);
    }

    // A wrong address comes back with what was typed, and nothing is stored.
    let add = form(&list, "Toevoegen en uitnodigen");
    let fields = [
        ("roepnaam", "Sanne"),
        ("voorvoegsel", "van"),
        ("achternaam", "Dijk"),
        ("email", "sanne@"),
    ];
    let wrong = bram.submit_form(&list, add, &fields).await;
    assert_eq!(wrong.status, 400, "{}", wrong.body);
    assert!(wrong.body.contains("role=\"alert\""), "{}", wrong.body);
    assert!(wrong.body.contains("is ongeldig"), "{}", wrong.body);
    assert!(
        wrong.body.contains("value=\"Dijk\""),
        "what was typed comes back"
    );
    assert!(!bram.get(LIST).await.body.contains("Sanne"));

    let list = bram.get(LIST).await;
    let fields = [
        ("roepnaam", "Sanne"),
        ("voorvoegsel", "van"),
        ("achternaam", "Dijk"),
        ("email", "sanne@demo.openpoort.nl"),
    ];
    let added = bram
        .submit_form(&list, form(&list, "Toevoegen en uitnodigen"), &fields)
        .await;
    assert_eq!(added.status, 303, "{}", added.body);
    let to = added.location().unwrap().to_owned();
    assert!(to.ends_with("?melding=gemaild"), "{to}");
    let page = bram.get(&to).await;
    assert!(
        page.body.contains("De activatielink is gemaild."),
        "{}",
        page.body
    );
    assert!(page.body.contains("hier toegevoegd"), "{}", page.body);
    let list = bram.get(LIST).await;
    assert!(list.body.contains("Sanne van Dijk"), "{}", list.body);
    let links = activation_links(d.dir.path(), "sanne@demo.openpoort.nl");
    assert_eq!(links.len(), 1, "one activation mail");

    // Her link works: she sets a password and signs in.
    let mut sanne = Browser::new(&d.server.base);
    let pw = "Vlinder-Molen-Kade-77";
    let set = sanne
        .submit(&links[0], &[("password", pw), ("password_repeat", pw)])
        .await;
    assert_eq!(set.status, 303, "{}", set.body);
    let list = bram.get(LIST).await;
    let row = &list.body[list.body.find("Sanne van Dijk").unwrap()..];
    assert!(
        row[..row.find("</tr>").unwrap()].contains("actief"),
        "{row}"
    );
}

#[tokio::test]
async fn a_new_address_gets_a_fresh_activation_link_and_the_old_link_stops_working() {
    let d = demo(Store::Memory);
    let old = activation_links(d.dir.path(), "anna.devries@demo.openpoort.nl");
    assert_eq!(old.len(), 1, "the demo mailed Anna once");
    let mut bram = bram_signed_in(&d.server.base).await;
    let anna = person(&bram.get(LIST).await, "Anna de Vries");
    let page = bram.get(&anna).await;
    let changed = bram
        .submit_form(
            &page,
            form(&page, "E-mailadres opslaan"),
            &[("email", "anna@school.example")],
        )
        .await;
    assert_eq!(
        changed.location(),
        Some(format!("{anna}?melding=gemaild").as_str())
    );
    let new = activation_links(d.dir.path(), "anna@school.example");
    assert_eq!(new.len(), 1, "mailed to the new address");

    let pw = "Zonnebloem-Kanaal-58";
    let mut b = Browser::new(&d.server.base);
    let stale = b.get(&old[0]).await;
    assert!(
        !stale.body.contains("password_repeat"),
        "the link to the old address is void: {}",
        stale.body
    );

    // Sending the invitation again voids the first link to the new address too.
    let page = bram.get(&anna).await;
    let again = bram
        .submit_form(&page, form(&page, "Uitnodiging opnieuw sturen"), &[])
        .await;
    assert_eq!(
        again.location(),
        Some(format!("{anna}?melding=gemaild").as_str())
    );
    let links = activation_links(d.dir.path(), "anna@school.example");
    assert_eq!(links.len(), 2);
    let first = b.get(&links[0]).await;
    assert!(
        !first.body.contains("password_repeat"),
        "only the newest link counts"
    );
    let newest = b
        .submit(&links[1], &[("password", pw), ("password_repeat", pw)])
        .await;
    assert_eq!(newest.status, 303, "{}", newest.body);

    // Activated now: no invitation to resend, and a crafted one is refused.
    let page = bram.get(&anna).await;
    assert!(!page.body.contains("Uitnodiging opnieuw sturen"));
    let csrf = page.field("csrf").unwrap();
    let refused = bram
        .post(&format!("{anna}/uitnodigen"), &[("csrf", &csrf)])
        .await;
    assert_eq!(refused.status, 400, "{}", refused.body);
    assert!(refused.body.contains("al geactiveerd"), "{}", refused.body);
}

#[tokio::test]
async fn extra_roles_are_granted_and_the_last_ict_coordinator_cannot_drop_the_role() {
    let d = demo(Store::Memory);
    let mut bram = bram_signed_in(&d.server.base).await;
    let list = bram.get(LIST).await;
    let (anna, me) = (person(&list, "Anna de Vries"), person(&list, "Bram Jansen"));

    let page = bram.get(&me).await;
    let dropped = bram
        .submit_form(&page, form(&page, "Rollen opslaan"), &[("rol", "ib")])
        .await;
    assert_eq!(dropped.status, 400, "{}", dropped.body);
    assert!(
        dropped.body.contains("laatste ICT-coördinator"),
        "{}",
        dropped.body
    );
    let audit = cli_ok(d.dir.path(), &["audit", "list", "--school", "99ZZ00"]);
    assert!(!audit.contains("staff.role.revoke"), "{audit}");

    let page = bram.get(&anna).await;
    let roles = [("rol", "ib"), ("rol", "ict_coordinator")];
    let saved = bram
        .submit_form(&page, form(&page, "Rollen opslaan"), &roles)
        .await;
    assert_eq!(saved.status, 303, "{}", saved.body);
    let list = bram.get(LIST).await;
    let row = &list.body[list.body.find("Anna de Vries").unwrap()..];
    let row = &row[..row.find("</tr>").unwrap()];
    assert!(
        row.contains("leerkracht, ICT-coördinator, intern begeleider (IB)"),
        "{row}"
    );

    // With Anna as ICT-coördinator too, Bram may hand the role over.
    let page = bram.get(&me).await;
    let handed = bram
        .submit_form(&page, form(&page, "Rollen opslaan"), &[])
        .await;
    assert_eq!(handed.status, 303, "{}", handed.body);
    let audit = cli_ok(d.dir.path(), &["audit", "list", "--school", "99ZZ00"]);
    assert!(audit.contains("staff.role.grant"), "{audit}");
    assert!(audit.contains("staff.role.revoke"), "{audit}");
    let gone = bram.get(LIST).await;
    assert_eq!(gone.status, 403, "Bram no longer administers 99ZZ00");
}

#[tokio::test]
async fn two_ict_coordinators_removing_each_other_at_once_leave_one() {
    let d = demo(Store::Memory);
    cli_ok(
        d.dir.path(),
        &[
            "staff",
            "grant-role",
            "--email",
            "anna.devries@demo.openpoort.nl",
            "--school",
            "99ZZ00",
            "--role",
            "ict_coordinator",
        ],
    );
    let mut bram = bram_signed_in(&d.server.base).await;
    let mut anna = anna_signed_in(d.dir.path(), &d.server.base).await;
    let list = bram.get(LIST).await;
    let (anna_path, bram_path) = (person(&list, "Anna de Vries"), person(&list, "Bram Jansen"));
    let by_bram = bram.get(&anna_path).await;
    let by_anna = anna.get(&bram_path).await;
    assert_eq!(by_anna.status, 200, "{}", by_anna.body);
    let (a, b) = tokio::join!(
        bram.submit_form(&by_bram, form(&by_bram, "Rollen opslaan"), &[]),
        anna.submit_form(&by_anna, form(&by_anna, "Rollen opslaan"), &[]),
    );
    let statuses = [a.status, b.status];
    assert!(statuses.contains(&303), "{statuses:?}");
    let audit = cli_ok(d.dir.path(), &["audit", "list", "--school", "99ZZ00"]);
    let revoked = audit
        .lines()
        .filter(|l| l.contains("staff.role.revoke"))
        .count();
    assert_eq!(revoked, 1, "exactly one role went: {audit}");
    let still = [bram.get(LIST).await.status, anna.get(LIST).await.status];
    assert_eq!(
        still.iter().filter(|s| **s == 200).count(),
        1,
        "one ICT-coördinator is left: {still:?}"
    );
}

#[tokio::test]
async fn an_invalkracht_linked_for_a_period_gets_the_group_only_within_it() {
    let d = demo(Store::Memory);
    let mut bram = bram_signed_in(&d.server.base).await;
    let mut anna = anna_signed_in(d.dir.path(), &d.server.base).await;
    assert!(!anna.get("/beheer").await.body.contains("Groep 8"));
    let anna_path = person(&bram.get(LIST).await, "Anna de Vries");
    let page = bram.get(&anna_path).await;
    let group8 = {
        let at = page.body.find(">Groep 8").expect("group 8 offered");
        let start = page.body[..at].rfind("value=\"").unwrap() + 7;
        page.body[start..start + page.body[start..].find('"').unwrap()].to_owned()
    };

    // A period that ended is refused; one that starts tomorrow grants nothing today.
    let link = form(&page, "Koppelen");
    let fields = [
        ("group", group8.as_str()),
        ("van", &today(-7)),
        ("tot", &today(-1)),
    ];
    let past = bram.submit_form(&page, link, &fields).await;
    assert_eq!(past.status, 400, "{}", past.body);
    assert!(past.body.contains("al voorbij"), "{}", past.body);
    let fields = [
        ("group", group8.as_str()),
        ("van", &today(1)),
        ("tot", &today(5)),
    ];
    let later = bram.submit_form(&page, link, &fields).await;
    assert_eq!(later.status, 303, "{}", later.body);
    let shown = bram.get(&anna_path).await;
    assert!(
        shown.body.contains("geeft nu geen toegang"),
        "{}",
        shown.body
    );
    assert!(
        !anna.get("/beheer").await.body.contains("Groep 8"),
        "not before the first day"
    );
    let fields = [
        ("group", group8.as_str()),
        ("van", &today(0)),
        ("tot", &today(0)),
    ];
    let now = bram
        .submit_form(&shown, form(&shown, "Koppelen"), &fields)
        .await;
    assert_eq!(now.status, 303, "{}", now.body);
    assert!(
        anna.get("/beheer").await.body.contains("Groep 8"),
        "on the first and last day"
    );

    let page = bram.get(&anna_path).await;
    let unlink = form(&page, &format!("value=\"{group8}\""));
    let done = bram.submit_form(&page, unlink, &[]).await;
    assert_eq!(done.status, 303, "{}", done.body);
    assert!(!anna.get("/beheer").await.body.contains("Groep 8"));
    let audit = cli_ok(d.dir.path(), &["audit", "list", "--school", "99ZZ00"]);
    assert!(audit.contains("staff.group.assign"), "{audit}");
    assert!(audit.contains("staff.group.unassign"), "{audit}");
}

#[tokio::test]
async fn deactivating_ends_the_persons_sessions_at_once() {
    let d = demo(Store::Memory);
    let mut bram = bram_signed_in(&d.server.base).await;
    let mut anna = anna_signed_in(d.dir.path(), &d.server.base).await;
    assert_eq!(anna.get("/beheer").await.status, 200);
    let anna_path = person(&bram.get(LIST).await, "Anna de Vries");
    let page = bram.get(&anna_path).await;
    let unconfirmed = bram
        .submit_form(&page, form(&page, "/deactiveren\""), &[])
        .await;
    assert_eq!(unconfirmed.status, 400, "asks for confirmation");
    assert_eq!(anna.get("/beheer").await.status, 200, "nothing happened");
    let page = bram.get(&anna_path).await;
    let done = bram
        .submit_form(&page, form(&page, "/deactiveren\""), &[("confirm", "on")])
        .await;
    assert_eq!(done.status, 303, "{}", done.body);
    let after = anna.get("/beheer").await;
    assert_eq!(
        (after.status, after.location()),
        (303, Some("/inloggen")),
        "her session ended"
    );
    let list = bram.get(LIST).await;
    assert!(list.body.contains("gedeactiveerd"), "{}", list.body);
    // Bram's own page offers no deactivation of himself.
    let me = bram.get(&person(&list, "Bram Jansen")).await;
    assert!(!me.body.contains("/deactiveren"), "{}", me.body);
}

#[tokio::test]
async fn an_account_that_serves_a_school_bram_does_not_administer_keeps_its_address_and_login() {
    let d = demo(Store::Memory);
    let dir = d.dir.path();
    cli_ok(
        dir,
        &[
            "school",
            "add",
            "--bestuursnummer",
            "99999",
            "--brin",
            "99ZZ",
            "--vestigingscode",
            "02",
            "--name",
            "Andere school",
        ],
    );
    cli_ok(
        dir,
        &[
            "staff",
            "add",
            "--school",
            "99ZZ02",
            "--email",
            "kees@elders.example",
            "--achternaam",
            "Kok",
            "--roepnaam",
            "Kees",
        ],
    );
    let mut bram = bram_signed_in(&d.server.base).await;
    assert!(
        !bram.get(LIST).await.body.contains("Kees Kok"),
        "not at 99ZZ00"
    );
    // A role here makes him one of 99ZZ00's staff, but his login also serves 99ZZ02.
    cli_ok(
        dir,
        &[
            "staff",
            "grant-role",
            "--email",
            "kees@elders.example",
            "--school",
            "99ZZ00",
            "--role",
            "ib",
        ],
    );
    let kees = person(&bram.get(LIST).await, "Kees Kok");
    let page = bram.get(&kees).await;
    let email = bram
        .submit_form(
            &page,
            form(&page, "E-mailadres opslaan"),
            &[("email", "bram.eigen@demo.example")],
        )
        .await;
    assert_eq!(email.status, 400, "{}", email.body);
    assert!(email.body.contains("niet beheert"), "{}", email.body);
    let page = bram.get(&kees).await;
    let off = bram
        .submit_form(&page, form(&page, "/deactiveren\""), &[("confirm", "on")])
        .await;
    assert_eq!(off.status, 400, "{}", off.body);
    let page = bram.get(&kees).await;
    assert!(page.body.contains("kees@elders.example"), "address kept");
    assert!(
        page.body.contains("nog niet geactiveerd"),
        "not deactivated"
    );

    // Once the role is gone he is not found here at all.
    cli_ok(
        dir,
        &[
            "staff",
            "revoke-role",
            "--email",
            "kees@elders.example",
            "--school",
            "99ZZ00",
            "--role",
            "ib",
        ],
    );
    let page = bram.get(&kees).await;
    assert_eq!(page.status, 404, "{}", page.body);
    let csrf = bram.get(LIST).await.field("csrf").unwrap();
    let off = bram
        .post(
            &format!("{kees}/deactiveren"),
            &[("csrf", &csrf), ("confirm", "on")],
        )
        .await;
    assert_eq!(off.status, 404, "{}", off.body);
}
