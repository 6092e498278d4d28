//! Leerlingen: groups in reading order, pictures for a whole group, home codes for a group only
//! after confirmation when old cards would stop working, and the print button.

use std::collections::HashSet;

use openpoort_e2e::{Browser, Page, Store, bram_signed_in, cli_ok};

use crate::common::{demo, form};

/// The picture chosen for each pupil on a group page, by the pupil's name.
fn pictures(page: &Page) -> Vec<(String, Option<String>)> {
    page.body
        .split("<label for=\"plaatje-")
        .skip(1)
        .map(|row| {
            let name = row
                .split("Plaatje voor ")
                .nth(1)
                .and_then(|r| r.split(" <span").next())
                .expect("the pupil's name")
                .to_owned();
            let select = &row[..row.find("</select>").expect("the select")];
            let chosen = select
                .split("<option value=\"")
                .skip(1)
                .find(|o| o.contains("\" selected>"))
                .map(|o| o[..o.find('"').unwrap()].to_owned());
            (name, chosen)
        })
        .collect()
}

fn group_link(overview: &Page, name: &str) -> String {
    overview
        .link_to(name)
        .unwrap_or_else(|| panic!("no link to {name}: {}", overview.body))
}

/// Clears every picture of the group on `path` through its forms.
async fn clear_pictures(b: &mut Browser, path: &str) {
    let page = b.get(path).await;
    for (name, _) in pictures(&page) {
        let page = b.get(path).await;
        let i = form(&page, &format!("Plaatje voor {name} "));
        let done = b.submit_form(&page, i, &[("picture", "")]).await;
        assert_eq!(done.status, 303, "{}", done.body);
    }
}

#[tokio::test]
async fn groups_are_listed_in_reading_order_with_their_number_of_pupils() {
    let d = demo(Store::Memory);
    let mut bram = bram_signed_in(&d.server.base).await;
    let page = bram.get("/beheer").await;
    assert_eq!(page.status, 200, "{}", page.body);
    let at = |name: &str| {
        page.body
            .find(name)
            .unwrap_or_else(|| panic!("{name}: {}", page.body))
    };
    assert!(at("Groep 1/2 Egeltjes") < at("Groep 3 Vossen"));
    assert!(at("Groep 3 Vossen") < at("Groep 5 Uilen"));
    assert!(at("Groep 5 Uilen") < at("Groep 8 Dassen"));
    assert!(
        page.body.contains("Groep 5 Uilen</a> (3 leerlingen"),
        "{}",
        page.body
    );
}

#[tokio::test]
async fn pictures_for_a_whole_group_give_every_pupil_without_one_a_picture_no_two_alike() {
    let d = demo(Store::Memory);
    let mut bram = bram_signed_in(&d.server.base).await;
    let overview = bram.get("/beheer").await;
    let g5 = group_link(&overview, "Groep 5 Uilen");
    // Finn keeps his; Emma and Liam lose theirs.
    let page = bram.get(&g5).await;
    for name in ["Emma Meijer", "Liam de Boer"] {
        let page = bram.get(&g5).await;
        let i = form(&page, &format!("Plaatje voor {name} "));
        bram.submit_form(&page, i, &[("picture", "")]).await;
    }
    let finn_before = pictures(&page)
        .into_iter()
        .find(|(n, _)| n == "Finn Smit")
        .and_then(|(_, p)| p)
        .expect("Finn has a picture in the demo");
    let page = bram.get(&g5).await;
    assert!(
        page.body.contains("2 leerlingen hebben nog geen plaatje"),
        "{}",
        page.body
    );
    let bulk = form(&page, "willekeurig plaatje");
    let done = bram.submit_form(&page, bulk, &[]).await;
    assert_eq!(done.location(), Some(g5.as_str()), "{}", done.body);

    let page = bram.get(&g5).await;
    let given = pictures(&page);
    assert_eq!(given.len(), 3);
    assert!(given.iter().all(|(_, p)| p.is_some()), "{given:?}");
    let distinct: HashSet<_> = given.iter().map(|(_, p)| p.clone()).collect();
    assert_eq!(distinct.len(), 3, "no two alike: {given:?}");
    assert!(
        given.contains(&("Finn Smit".to_owned(), Some(finn_before))),
        "a pupil with a picture keeps it: {given:?}"
    );
    assert!(
        !page.body.contains("willekeurig plaatje"),
        "nobody left without one"
    );
    let audit = cli_ok(d.dir.path(), &["audit", "list", "--school", "99ZZ00"]);
    assert!(audit.matches("pupil.picture.set").count() >= 2, "{audit}");
}

#[tokio::test]
async fn a_burst_of_requests_for_a_group_s_pictures_still_gives_no_two_pupils_the_same() {
    let d = demo(Store::Memory);
    let mut bram = bram_signed_in(&d.server.base).await;
    let overview = bram.get("/beheer").await;
    for group in ["Groep 5 Uilen", "Groep 8 Dassen"] {
        let path = group_link(&overview, group);
        for _round in 0..5 {
            clear_pictures(&mut bram, &path).await;
            let page = bram.get(&path).await;
            let csrf = page.field("csrf").expect("a form");
            let action = format!("{path}/plaatjes");
            let mut burst = tokio::task::JoinSet::new();
            for _ in 0..32 {
                let mut b = Browser::new(&d.server.base);
                b.cookies = bram.cookies.clone();
                let (action, csrf) = (action.clone(), csrf.clone());
                burst.spawn(async move { b.post(&action, &[("csrf", &csrf)]).await.status });
            }
            let statuses = burst.join_all().await;
            assert!(statuses.iter().all(|s| *s == 303), "{statuses:?}");
            let given = pictures(&bram.get(&path).await);
            assert!(given.iter().all(|(_, p)| p.is_some()), "{given:?}");
            let distinct: HashSet<_> = given.iter().map(|(_, p)| p.clone()).collect();
            assert_eq!(distinct.len(), given.len(), "{group}: {given:?}");
        }
    }
}

/// A home code for `pupil` from the command line: (code, pin).
fn home_code(d: &crate::common::Demo, pupil: &str) -> (String, String) {
    let out = cli_ok(
        d.dir.path(),
        &["pupil", "home-code", "--school", "99ZZ00", "--pupil", pupil],
    );
    let after = |label: &str| {
        out.lines()
            .find_map(|l| l.strip_prefix(label))
            .unwrap_or_else(|| panic!("{label}: {out}"))
            .trim()
            .to_owned()
    };
    (after("thuiscode / home code:"), after("pincode / PIN:"))
}

async fn home_login_works(base: &str, (code, pin): &(String, String)) -> bool {
    let mut home = Browser::new(base);
    home.submit("/thuis", &[("code", code), ("pin", pin)])
        .await
        .location()
        == Some("/")
}

#[tokio::test]
async fn new_home_codes_for_a_group_void_old_cards_only_after_confirmation() {
    let d = demo(Store::Memory);
    // Sem (group 1/2) has a card; home login is on in the demo.
    let sem = home_code(&d, "L001");
    let mut bram = bram_signed_in(&d.server.base).await;
    let overview = bram.get("/beheer").await;
    let g12 = group_link(&overview, "Groep 1/2 Egeltjes");
    let page = bram.get(&g12).await;
    let codes = bram
        .submit_form(&page, form(&page, "/thuiscodes\""), &[])
        .await;
    assert_eq!(codes.status, 200, "{}", codes.body);
    assert!(
        codes.body.contains("1 leerling heeft al een thuiscode")
            && codes.body.contains("Sem Bakker"),
        "{}",
        codes.body
    );
    assert!(!codes.body.contains("class=\"card\""), "no cards yet");
    assert!(
        home_login_works(&d.server.base, &sem).await,
        "Sem's card still works"
    );

    let cards = bram
        .submit_form(&codes, form(&codes, "name=\"confirm\""), &[])
        .await;
    assert_eq!(cards.status, 200, "{}", cards.body);
    assert_eq!(
        cards.body.matches("class=\"card\"").count(),
        2,
        "Sem and Noor"
    );
    assert!(cards.body.contains("data-print"), "a print button");
    assert!(
        !home_login_works(&d.server.base, &sem).await,
        "the old card stopped working"
    );
}

#[tokio::test]
async fn a_group_without_home_codes_gets_its_cards_at_once_with_a_print_button() {
    let d = demo(Store::Memory);
    let mut bram = bram_signed_in(&d.server.base).await;
    let overview = bram.get("/beheer").await;
    let g3 = group_link(&overview, "Groep 3 Vossen");
    let page = bram.get(&g3).await;
    assert!(page.body.contains("data-print"), "the list can be printed");
    assert!(page.body.contains("/static/beheer.js"));
    let cards = bram
        .submit_form(&page, form(&page, "/thuiscodes\""), &[])
        .await;
    assert_eq!(
        cards.body.matches("class=\"card\"").count(),
        2,
        "{}",
        cards.body
    );
    let script = bram.get("/static/beheer.js").await;
    assert_eq!(script.status, 200);
    assert!(script.body.contains("window.print()"));
}

#[tokio::test]
async fn a_teacher_s_portal_lists_her_own_groups_with_their_pupils_and_no_other_group() {
    let d = demo(Store::Memory);
    let mut anna = openpoort_e2e::anna_signed_in(d.dir.path(), &d.server.base).await;
    let portal = anna.get("/").await;
    assert_eq!(portal.status, 200, "{}", portal.body);
    let mine = &portal.body[portal
        .body
        .find("Mijn groepen")
        .unwrap_or_else(|| panic!("no Mijn groepen: {}", portal.body))..];
    assert!(
        mine.contains("Groep 5 Uilen") && mine.contains("Finn Smit"),
        "{mine}"
    );
    assert!(
        !mine.contains("Groep 8 Dassen") && !mine.contains("Tess Mulder"),
        "a group she does not teach: {mine}"
    );
    // Bram is ICT-coördinator and teaches group 8: his portal lists group 8 only, not every
    // group he may manage in Beheer.
    let mut bram = bram_signed_in(&d.server.base).await;
    let his = bram.get("/").await.body;
    let his = &his[his.find("Mijn groepen").expect("his groups")..];
    assert!(
        his.contains("Groep 8 Dassen") && his.contains("Tess Mulder"),
        "{his}"
    );
    assert!(!his.contains("Groep 5 Uilen"), "{his}");
}
