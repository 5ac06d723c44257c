//! Column mapping (`--map`, `--mapping`) and the identity guard (`--allow-identity-change`),
//! through the real binary on SQLite and PostgreSQL.

#[macro_use]
mod common;

use clientele_testkit::siret_vat;
use common::{row, write_csv, Backend, TestDb};
use serde_json::Value;

on_both!(
    misspelled_heading_is_an_error_until_mapped,
    column_found_by_its_values_and_mapping_files,
    extra_column_stays_a_warning,
    identity_change_needs_confirmation,
);

fn issues<'a>(report: &'a Value, code: &str) -> Vec<&'a Value> {
    report["issues"]
        .as_array()
        .expect("issues")
        .iter()
        .filter(|i| i["code"] == code)
        .collect()
}

fn stderr(db: &TestDb, args: &[&str]) -> (i32, String) {
    let out = db.run(args);
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

fn misspelled_heading_is_an_error_until_mapped(db: &TestDb) {
    let path = db.path("clients.csv");
    write_csv(
        &path,
        &[
            row(&["Compte client", "Raison sociale", "Code postale", "Ville"]),
            row(&["CL0001", "Boulangerie Noël", "06000", "Nice"]),
            row(&["CL0002", "Café du Port", "13002", "Marseille"]),
        ],
    );
    let file = path.to_str().expect("path");

    // Checked in full, the column named as what it looks like; nothing written even with
    // --skip-invalid (the column's values would be lost on every row).
    let (code, r) = db.json(&["check", file]);
    assert_eq!(code, 1, "{r}");
    let unmapped = issues(&r, "header.unmapped");
    assert_eq!(unmapped.len(), 1, "{r}");
    assert_eq!(unmapped[0]["column"], "C");
    assert_eq!(unmapped[0]["field"], "postalCode");
    assert_eq!(unmapped[0]["severity"], "error");
    assert!(
        unmapped[0]["message"]
            .as_str()
            .is_some_and(|m| m.contains("Code postale") && m.contains("Postal code")),
        "{r}"
    );
    assert_eq!(r["rows"], 2);
    let (code, r) = db.json(&["import", "--skip-invalid", file]);
    assert_eq!(code, 1, "{r}");
    assert_eq!(r["imported"], false);
    assert!(db.customers().is_empty(), "nothing may be written");

    // Mapped: imported with its postal codes, and the report says how.
    let (code, r) = db.json(&["import", "--map", "Code postale=postalCode", file]);
    assert_eq!(code, 0, "{r}");
    assert_eq!(r["imported"], true);
    let col = r["columns"]
        .as_array()
        .expect("columns")
        .iter()
        .find(|c| c["column"] == "C")
        .expect("column C recognised")
        .clone();
    assert_eq!(col["field"], "postalCode");
    assert_eq!(col["mapped"], true);
    // The first values of each column, to recognise it when mapping.
    assert_eq!(col["samples"], serde_json::json!(["06000", "13002"]));
    assert_eq!(db.customer("CL0001")["mainAddressPostalCode"], "06000");

    // Ignored on purpose: no error, no warning, nothing of it written.
    let (code, r) = db.json(&["check", "--map", "code postale=-", file]);
    assert_eq!(code, 0, "{r}");
    assert!(issues(&r, "header.unmapped").is_empty(), "{r}");
    assert!(issues(&r, "header.unknown").is_empty(), "{r}");
    assert_eq!(r["ignoredColumns"][0]["mapped"], true, "{r}");

    // A mapping to no field is a usage error that names the fields.
    let (code, err) = stderr(db, &["check", "--map", "Code postale=zip", file]);
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("\"zip\" is not a field"), "{err}");
    assert!(err.contains("postalCode"), "{err}");
}

fn column_found_by_its_values_and_mapping_files(db: &TestDb) {
    let (s1, _) = siret_vat(11);
    let (s2, _) = siret_vat(12);
    let (s3, _) = siret_vat(13);
    let path = db.path("clients.csv");
    write_csv(
        &path,
        &[
            row(&["Compte client", "Raison sociale", "N° établissement"]),
            row(&["CL0001", "Alpha", &s1]),
            row(&["CL0002", "Beta", &s2]),
            row(&["CL0003", "Gamma", &s3]),
        ],
    );
    let file = path.to_str().expect("path");
    let (code, r) = db.json(&["check", file]);
    assert_eq!(code, 1, "{r}");
    let unmapped = issues(&r, "header.unmapped");
    assert_eq!(unmapped.len(), 1, "{r}");
    assert_eq!(unmapped[0]["field"], "registrationNumber");
    assert!(
        unmapped[0]["message"]
            .as_str()
            .is_some_and(|m| m.contains("by its values")),
        "{r}"
    );

    // A JSON mapping file (what the API takes), then a file of lines.
    let json = db.path("mapping.json");
    std::fs::write(&json, r#"{"N° établissement": "registrationNumber"}"#).expect("write");
    let (code, r) = db.json(&["import", "--mapping", json.to_str().expect("path"), file]);
    assert_eq!(code, 0, "{r}");
    assert_eq!(db.customer("CL0002")["registrationNumber"], s2.as_str());

    let lines = db.path("mapping.txt");
    std::fs::write(&lines, "# our export\nN° établissement = -\n").expect("write");
    let (code, r) = db.json(&["check", "--mapping", lines.to_str().expect("path"), file]);
    assert_eq!(code, 0, "{r}");
    assert!(issues(&r, "header.unmapped").is_empty(), "{r}");

    let bad = db.path("bad.txt");
    std::fs::write(&bad, "N° établissement registrationNumber\n").expect("write");
    let (code, err) = stderr(
        db,
        &["check", "--mapping", bad.to_str().expect("path"), file],
    );
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("line 1"), "{err}");
}

fn extra_column_stays_a_warning(db: &TestDb) {
    let path = db.path("clients.csv");
    write_csv(
        &path,
        &[
            row(&["Compte client", "Raison sociale", "Commercial"]),
            row(&["CL0001", "Alpha", "Jean Dupont"]),
        ],
    );
    let (code, r) = db.json(&["import", path.to_str().expect("path")]);
    assert_eq!(code, 0, "{r}");
    let unknown = issues(&r, "header.unknown");
    assert_eq!(unknown.len(), 1, "{r}");
    // Not taken for the comment column it is spelled like.
    assert!(
        !unknown[0]["message"]
            .as_str()
            .is_some_and(|m| m.contains("Commentaire")),
        "{r}"
    );
    assert_eq!(r["imported"], true);
}

fn identity_change_needs_confirmation(db: &TestDb) {
    let (s1, _) = siret_vat(21);
    let (s2, _) = siret_vat(22);
    let first = db.path("first.csv");
    write_csv(
        &first,
        &[
            row(&["Compte client", "Raison sociale", "SIRET"]),
            row(&["CL000001", "Électricité Françoise 1", &s1]),
            row(&["CL000002", "Garage Martin", ""]),
        ],
    );
    let (code, r) = db.json(&["import", first.to_str().expect("path")]);
    assert_eq!(code, 0, "{r}");

    // The accounts of another company's file: name and SIRET both change.
    let clash = db.path("clash.csv");
    write_csv(
        &clash,
        &[
            row(&["Compte client", "Raison sociale", "SIRET"]),
            row(&["CL000001", "Hôtel Lefèvre 1", &s2]),
            // A rename keeping its (absent) SIRET is an ordinary update.
            row(&["CL000002", "Garage Martin et Fils", ""]),
        ],
    );
    let file = clash.to_str().expect("path");
    let (code, r) = db.json(&["import", file]);
    assert_eq!(code, 1, "{r}");
    assert_eq!(r["imported"], false);
    assert_eq!(r["identityChanges"], 1);
    assert!(
        r["refused"]
            .as_str()
            .is_some_and(|m| m.contains("1 customer")),
        "{r}"
    );
    let clash_issues = issues(&r, "customerAccount.identity_changed");
    assert_eq!(clash_issues.len(), 1, "{r}");
    assert_eq!(clash_issues[0]["row"], 2);
    assert_eq!(clash_issues[0]["severity"], "warning");
    let msg = clash_issues[0]["message"].as_str().unwrap_or_default();
    assert!(
        msg.contains("Électricité Françoise 1") && msg.contains("Hôtel Lefèvre 1"),
        "{msg}"
    );
    // Nothing written: neither the clash nor the ordinary rename.
    assert_eq!(db.customer("CL000001")["name"], "Électricité Françoise 1");
    assert_eq!(db.customer("CL000002")["name"], "Garage Martin");
    let (code, err) = stderr(db, &["import", file]);
    assert_eq!(code, 1);
    assert!(err.contains("--allow-identity-change"), "{err}");

    // A check says the same and is not refused (it writes nothing anyway).
    let (code, r) = db.json(&["check", file]);
    assert_eq!(code, 0, "{r}");
    assert_eq!(r["identityChanges"], 1);

    // Confirmed.
    let (code, r) = db.json(&["import", "--allow-identity-change", file]);
    assert_eq!(code, 0, "{r}");
    assert_eq!(r["imported"], true);
    assert_eq!(db.customer("CL000001")["name"], "Hôtel Lefèvre 1");
    assert_eq!(db.customer("CL000002")["name"], "Garage Martin et Fils");
}
