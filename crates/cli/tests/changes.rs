//! `clientele check|import --changes FILE`: every change of every update, beyond the
//! report's first ones, through the real binary on SQLite and PostgreSQL.

#[macro_use]
mod common;

use clientele_testkit::siret_vat;
use common::{row, write_csv, Backend, TestDb};
use std::io::Read;

on_both!(every_change_goes_to_the_changes_file);

/// More updates than the report lists (`MAX_LISTED_CHANGES`).
const CUSTOMERS: u32 = 1_100;

fn pack(db: &TestDb, name: &str, city: &str, clash: bool) -> String {
    let path = db.path(name);
    let mut rows = vec![row(&["Compte client", "Raison sociale", "SIRET", "Ville"])];
    for i in 1..=CUSTOMERS {
        let (siret, name) = if clash && i == 7 {
            (siret_vat(9_000).0, "=Hôtel Lefèvre".to_string())
        } else {
            (siret_vat(u64::from(i)).0, format!("Société {i}"))
        };
        rows.push(row(&[&format!("CL{i:05}"), &name, &siret, city]));
    }
    write_csv(&path, &rows);
    path.to_str().expect("path").to_string()
}

fn every_change_goes_to_the_changes_file(db: &TestDb) {
    let first = pack(db, "first.csv", "Paris", false);
    let (code, r) = db.json(&["import", &first]);
    assert_eq!(code, 0, "{r}");
    let second = pack(db, "second.csv", "Lyon", true);

    let out = db.path("changes.csv");
    let out_s = out.to_str().expect("path");
    let (code, r) = db.json(&["check", &second, "--changes", out_s]);
    assert_eq!(code, 0, "{r}");
    assert_eq!(r["update"], CUSTOMERS);
    let listed = r["changes"].as_array().expect("changes").len();
    assert!(listed < CUSTOMERS as usize, "the report lists {listed}");

    // One line per changed field: every city, and the clash's name and SIRET.
    let csv = std::fs::read_to_string(&out).expect("changes file");
    let lines: Vec<&str> = csv.split("\r\n").filter(|l| !l.is_empty()).collect();
    assert!(
        lines[0].starts_with("\u{feff}Row;Customer account;"),
        "{}",
        lines[0]
    );
    assert_eq!(lines.len(), 1 + CUSTOMERS as usize + 2);
    assert_eq!(
        lines
            .iter()
            .filter(|l| l.contains(";City;Paris;Lyon;"))
            .count(),
        CUSTOMERS as usize
    );
    // The identity change is said on each of its lines; a name that would start a formula
    // is escaped for the spreadsheet.
    let clash: Vec<&&str> = lines.iter().filter(|l| l.starts_with("8;")).collect();
    assert_eq!(clash.len(), 3, "{clash:?}");
    assert!(clash.iter().all(|l| l.ends_with(";Yes")), "{clash:?}");
    assert!(
        clash
            .iter()
            .any(|l| l.starts_with("8;CL00007;Société 7;'=Hôtel Lefèvre;name;Company name;")),
        "{clash:?}"
    );

    // As a workbook, in French.
    let xlsx = db.path("changes.xlsx");
    let out = db.run(&[
        "--lang",
        "fr",
        "check",
        &second,
        "--changes",
        xlsx.to_str().expect("path"),
    ]);
    assert_eq!(out.status.code(), Some(0));
    let file = std::fs::File::open(&xlsx).expect("workbook");
    let mut zip = zip::ZipArchive::new(file).expect("a workbook");
    let mut sheet = String::new();
    zip.by_name("xl/worksheets/sheet1.xml")
        .expect("sheet")
        .read_to_string(&mut sheet)
        .expect("xml");
    assert_eq!(sheet.matches("<row ").count(), 1 + CUSTOMERS as usize + 2);
    assert!(sheet.contains(">Changement d’identité<"));

    // Never over the pack itself.
    let out = db.run(&["check", &second, "--changes", &second]);
    assert_eq!(out.status.code(), Some(2));
    assert!(std::fs::read_to_string(&second)
        .expect("pack")
        .starts_with("Compte client;"));

    // The import writes the same list.
    let imported = db.path("imported.csv");
    let (code, r) = db.json(&[
        "import",
        "--allow-identity-change",
        &second,
        "--changes",
        imported.to_str().expect("path"),
    ]);
    assert_eq!(code, 0, "{r}");
    assert_eq!(r["imported"], true);
    let csv = std::fs::read_to_string(&imported).expect("changes file");
    assert_eq!(
        csv.split("\r\n").filter(|l| !l.is_empty()).count(),
        1 + CUSTOMERS as usize + 2
    );
}
