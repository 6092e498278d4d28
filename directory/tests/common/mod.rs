//! What several register test files set up alike.

#![allow(dead_code)]

use directory::model::*;
use directory::schools::{NewSchool, School};
use directory::{Actor, Directory};

pub fn op() -> Actor {
    Actor::operator_cli()
}

/// School 99ZZ`vestiging` of board 41234, the board made at the first call.
pub async fn school(d: &Directory, vestiging: &str) -> School {
    let nummer = Bestuursnummer::parse("41234").unwrap();
    if d.board_by_nummer(&nummer).await.unwrap().is_none() {
        d.create_board(&nummer, "Stichting Test", &op())
            .await
            .unwrap();
    }
    d.create_school(
        &NewSchool {
            bestuursnummer: nummer,
            brin: Brin::parse("99ZZ").unwrap(),
            vestigingscode: Vestigingscode::parse(vestiging).unwrap(),
            name: format!("School 99ZZ{vestiging}"),
        },
        &op(),
    )
    .await
    .unwrap()
}
