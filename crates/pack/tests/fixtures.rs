//! Fixture files kept in the repository for other crates' end-to-end tests (the CLI reads
//! `fixtures/clients.ods`). This test proves the committed file is what the builder makes;
//! run with `REGENERATE_FIXTURES=1` to rewrite it.

mod common;

#[test]
fn ods_fixture_is_current() {
    let rows: &[&[&str]] = &[
        &[
            "Compte client",
            "Raison sociale",
            "SIRET",
            "Code Postal",
            "Ville",
            "Client VIP",
            "Actif",
        ],
        &[
            "CL0501",
            "Librairie Dupont",
            "73282932000074",
            "06000",
            "Nice",
            "Oui",
            "1",
        ],
        &["CL0502", "Garage Müller", "", "75001", "Paris", "non", "0"],
    ];
    let bytes = common::ods(&[("Clients", rows)]);
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/clients.ods");
    if std::env::var_os("REGENERATE_FIXTURES").is_some() {
        std::fs::write(&path, &bytes).expect("write fixture");
    }
    let committed =
        std::fs::read(&path).expect("tests/fixtures/clients.ods (REGENERATE_FIXTURES=1 to create)");
    assert_eq!(
        committed, bytes,
        "fixture out of date: run with REGENERATE_FIXTURES=1"
    );
    let opened = clientele_pack::open(
        &path,
        clientele_pack::Tab::Clients,
        clientele_core::Lang::En,
    )
    .expect("open");
    assert_eq!(opened.rows.count(), 2);
}
