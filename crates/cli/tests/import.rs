//! End-to-end tests of `check`, `import`, `imports`, `undo`, `export` and `template`,
//! driving the real binary on files the tests write, on SQLite and on PostgreSQL.

#[macro_use]
mod common;

use clientele_testkit::siret_vat;
use common::{row, write_csv, Backend, TestDb};
use rust_xlsxwriter::Workbook;
use serde_json::Value;

on_both!(
    windows_1252_csv_with_loose_headers,
    xlsx_numeric_cells_and_booleans,
    one_error_per_row_is_located,
    missing_name_column_is_unusable,
    reimport_is_unchanged_and_absent_columns_are_kept,
    undo_restores_the_previous_state,
    export_then_reimport_is_unchanged,
    skip_invalid_writes_valid_rows_and_rejects_the_others,
    generated_accounts_continue_numbering,
    ods_file_is_read,
    contacts_tab_is_imported_with_the_clients,
    one_file_updates_a_customer_once,
    official_lists_warn_and_label,
);

fn issues_by_code<'a>(report: &'a Value, code: &str) -> Vec<&'a Value> {
    report["issues"]
        .as_array()
        .expect("issues")
        .iter()
        .filter(|i| i["code"] == code)
        .collect()
}

fn windows_1252_csv_with_loose_headers(db: &TestDb) {
    let (siret, vat) = siret_vat(1);
    // Headers in other cases and without accents; a title line above the table.
    let text = format!(
        "Pack clients export\r\n\r\nCOMPTE CLIENT;raison sociale;Siret;Numero de TVA intracommunautaire;CODE POSTAL;ville;Client VIP;Revendeur\r\n\
         CL0100;Boulangerie Noël;{siret};{vat};06000;Nice;oui;Non\r\nCL0101;Café Hôtel;;;75001;Paris;0;1\r\n"
    );
    let (bytes, _, _) = encoding_rs::WINDOWS_1252.encode(&text);
    let path = db.path("clients.csv");
    std::fs::write(&path, &bytes).expect("write");
    let (code, r) = db.json(&["import", path.to_str().expect("path")]);
    assert_eq!(code, 0, "{r}");
    assert_eq!(r["encoding"], "windows-1252");
    assert_eq!(r["delimiter"], ";");
    assert_eq!(r["rows"], 2);
    assert_eq!(r["create"], 2);
    assert_eq!(r["imported"], true);
    let c = db.customer("CL0100");
    assert_eq!(c["name"], "Boulangerie Noël");
    assert_eq!(c["mainAddressPostalCode"], "06000");
    assert_eq!(c["vip"], true);
    assert_eq!(c["isReseller"], false);
    assert_eq!(c["registrationNumber"], siret.as_str());
    assert_eq!(db.customer("CL0101")["name"], "Café Hôtel");
    assert_eq!(db.customer("CL0101")["isReseller"], true);
}

fn xlsx_numeric_cells_and_booleans(db: &TestDb) {
    let (siret, _) = siret_vat(2);
    let path = db.path("clients.xlsx");
    let mut wb = Workbook::new();
    let ws = wb.add_worksheet();
    ws.set_name("Clients").expect("name");
    for (i, h) in [
        "Compte client",
        "Raison sociale",
        "SIRET",
        "Code Postal",
        "Actif",
        "Client VIP",
        "Client sous contrat d'astreinte",
        "Niveau de revendeur",
        "Revendeur",
    ]
    .iter()
    .enumerate()
    {
        ws.write_string(0, i as u16, *h).expect("write");
    }
    ws.write_string(1, 0, "CL0001").expect("w");
    ws.write_string(1, 1, "Garage Martin").expect("w");
    ws.write_number(1, 2, siret.parse::<f64>().expect("digits"))
        .expect("w");
    ws.write_number(1, 3, 6000.0).expect("w");
    ws.write_boolean(1, 4, true).expect("w");
    ws.write_string(1, 5, "Oui").expect("w");
    ws.write_boolean(1, 6, false).expect("w");
    ws.write_number(1, 7, 2.0).expect("w");
    ws.write_number(1, 8, 1.0).expect("w");
    ws.write_string(2, 0, "CL0002").expect("w");
    ws.write_string(2, 1, "Pharmacie Leroy").expect("w");
    ws.write_number(2, 3, 75001.0).expect("w");
    ws.write_string(2, 4, "Non").expect("w");
    ws.write_boolean(2, 5, false).expect("w");
    wb.save(&path).expect("save");
    let (code, r) = db.json(&["import", path.to_str().expect("path")]);
    assert_eq!(code, 0, "{r}");
    assert_eq!(r["sheet"], "Clients");
    assert_eq!(issues_by_code(&r, "postalCode.padded").len(), 1);
    let c = db.customer("CL0001");
    assert_eq!(c["registrationNumber"], siret.as_str());
    assert_eq!(c["mainAddressPostalCode"], "06000");
    assert_eq!(c["active"], true);
    assert_eq!(c["vip"], true);
    assert_eq!(c["onCallDuty"], false);
    assert_eq!(c["resellerLevel"], 2);
    let c = db.customer("CL0002");
    assert_eq!(c["mainAddressPostalCode"], "75001");
    assert_eq!(c["active"], false);
    assert_eq!(c["vip"], false);
}

fn one_error_per_row_is_located(db: &TestDb) {
    let path = db.path("errors.csv");
    write_csv(
        &path,
        &[
            row(&[
                "Compte client",
                "Raison sociale",
                "SIRET",
                "Numéro de TVA intracommunautaire",
                "Code Postal",
                "Client VIP",
                "Niveau de revendeur",
                "Revendeur",
                "Site Web",
            ]),
            row(&["CL1", "Ok", "", "", "75001", "1", "", "", ""]),
            row(&["CL2", "", "", "", "", "", "", "", ""]),
            row(&["CL3", "Bad siret", "1234", "", "", "", "", "", ""]),
            row(&["CL4", "Bad vat", "", "FR47443121975", "", "", "", "", ""]),
            row(&["CL5", "Bad postal", "", "", "96000", "", "", "", ""]),
            row(&["CL6", "Bad bool", "", "", "", "peut-être", "", "", ""]),
            row(&["CL7", "Bad level", "", "", "", "", "2.5", "1", ""]),
            row(&["CL8", "Bad url", "", "", "", "", "", "", "ftp://x.fr"]),
            row(&["CL3", "Duplicate account", "", "", "", "", "", "", ""]),
        ],
    );
    let (code, r) = db.json(&["import", path.to_str().expect("path")]);
    assert_eq!(code, 1, "{r}");
    assert_eq!(r["imported"], false);
    assert_eq!(r["rows"], 9);
    assert_eq!(r["invalid"], 8);
    assert_eq!(r["valid"], 1);
    let expect = [
        (3, "B", "Raison sociale", "name.required", ""),
        (4, "C", "SIRET", "registrationNumber.length", "1234"),
        (
            5,
            "D",
            "Numéro de TVA intracommunautaire",
            "taxRegistrationNumber.checksum",
            "FR47443121975",
        ),
        (6, "E", "Code Postal", "postalCode.invalid", "96000"),
        (7, "F", "Client VIP", "vip.invalid", "peut-être"),
        (
            8,
            "G",
            "Niveau de revendeur",
            "resellerLevel.invalid",
            "2.5",
        ),
        (9, "I", "Site Web", "website.invalid", "ftp://x.fr"),
        (
            10,
            "A",
            "Compte client",
            "customerAccount.duplicate_in_file",
            "CL3",
        ),
    ];
    let errors: Vec<&Value> = r["issues"]
        .as_array()
        .expect("issues")
        .iter()
        .filter(|i| i["severity"] == "error")
        .collect();
    assert_eq!(
        errors.len(),
        expect.len(),
        "{}",
        serde_json::to_string_pretty(&r["issues"]).unwrap_or_default()
    );
    for (issue, (row, col, header, code, value)) in errors.iter().zip(expect) {
        assert_eq!(issue["row"], row, "{issue}");
        assert_eq!(issue["column"], col, "{issue}");
        assert_eq!(issue["header"], header, "{issue}");
        assert_eq!(issue["code"], code, "{issue}");
        assert_eq!(issue["value"], value, "{issue}");
        assert_eq!(issue["sheet"], Value::Null, "{issue}");
        assert!(!issue["message"].as_str().unwrap_or_default().is_empty());
    }
    assert!(db.customers().is_empty(), "all-or-nothing: nothing written");
    // The human report names rows too.
    let out = db.run(&["check", path.to_str().expect("path")]);
    assert_eq!(out.status.code(), Some(1));
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        text.contains("Row 4") && text.contains("registrationNumber.length"),
        "{text}"
    );
}

fn missing_name_column_is_unusable(db: &TestDb) {
    let path = db.path("noname.csv");
    write_csv(
        &path,
        &[
            row(&["Compte client", "SIRET", "Ville"]),
            row(&["CL1", "", "Paris"]),
        ],
    );
    let (code, r) = db.json(&["import", path.to_str().expect("path")]);
    assert_eq!(code, 2);
    assert_eq!(r["issues"][0]["code"], "header.missing_name");
    assert_eq!(r["issues"].as_array().map(Vec::len), Some(1));
    let out = db.run(&["import", path.to_str().expect("path")]);
    assert!(String::from_utf8_lossy(&out.stderr).contains("Raison sociale"));
    let out = db.run(&["import", "does-not-exist.csv"]);
    assert_eq!(out.status.code(), Some(2));
}

fn sample(db: &TestDb, n: u64) -> std::path::PathBuf {
    let path = db.path(&format!("sample{n}.csv"));
    let mut rows = vec![row(&[
        "Compte client",
        "Raison sociale",
        "SIRET",
        "Numéro de TVA intracommunautaire",
        "Ville",
        "Client VIP",
    ])];
    for i in 1..=n {
        let (siret, vat) = siret_vat(i);
        rows.push(vec![
            format!("CL{i:04}"),
            format!("Client {i}"),
            siret,
            vat,
            "Lyon".into(),
            (i % 2).to_string(),
        ]);
    }
    write_csv(&path, &rows);
    path
}

fn reimport_is_unchanged_and_absent_columns_are_kept(db: &TestDb) {
    let path = sample(db, 5);
    let (code, r) = db.json(&["import", path.to_str().expect("p")]);
    assert_eq!((code, r["create"].as_u64()), (0, Some(5)));
    let (code, r) = db.json(&["import", path.to_str().expect("p")]);
    assert_eq!(code, 0);
    assert_eq!(
        (
            r["create"].as_u64(),
            r["update"].as_u64(),
            r["unchanged"].as_u64()
        ),
        (Some(0), Some(0), Some(5))
    );
    // An update file without the Ville column: the city stays, the name changes.
    let upd = db.path("update.csv");
    write_csv(
        &upd,
        &[
            row(&["Compte client", "Raison sociale"]),
            row(&["CL0002", "Client deux"]),
        ],
    );
    let (code, r) = db.json(&["import", upd.to_str().expect("p")]);
    assert_eq!(code, 0, "{r}");
    assert_eq!(r["update"], 1);
    assert_eq!(r["changes"][0]["fields"], serde_json::json!(["name"]));
    let c = db.customer("CL0002");
    assert_eq!(c["name"], "Client deux");
    assert_eq!(c["mainAddressCity"], "Lyon");
    assert_eq!(c["vip"], false);
    assert_eq!(db.customer("CL0001")["vip"], true);
}

fn undo_restores_the_previous_state(db: &TestDb) {
    let path = sample(db, 3);
    let (_, r1) = db.json(&["import", path.to_str().expect("p")]);
    let before = db.customers();
    let upd = db.path("update.csv");
    write_csv(
        &upd,
        &[
            row(&["Compte client", "Raison sociale", "Ville"]),
            row(&["CL0001", "Renamed", "Paris"]),
            row(&["", "Brand new", "Nantes"]),
        ],
    );
    let (code, r2) = db.json(&["import", upd.to_str().expect("p")]);
    assert_eq!(code, 0, "{r2}");
    assert_eq!(
        (r2["update"].as_u64(), r2["create"].as_u64()),
        (Some(1), Some(1))
    );
    assert_eq!(db.customers().len(), 4);
    assert_eq!(
        db.customer("CL0004")["name"],
        "Brand new",
        "generated account continues numbering"
    );
    // Undoing the first import is refused while the second changed one of its customers.
    let out = db.run(&["undo", &r1["importId"].to_string()]);
    assert_eq!(
        out.status.code(),
        Some(2),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(String::from_utf8_lossy(&out.stderr).contains("CL0001"));
    let out = db.run(&["undo", &r2["importId"].to_string()]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(db.customers(), before);
    let (_, list) = db.json(&["imports"]);
    assert_eq!(list.as_array().map(Vec::len), Some(2));
    assert!(list[0]["undoneAt"].is_string());
    let out = db.run(&["undo", &r2["importId"].to_string()]);
    assert_eq!(out.status.code(), Some(2), "undo twice is refused");
    let out = db.run(&["undo", &r1["importId"].to_string()]);
    assert!(out.status.success());
    assert!(db.customers().is_empty());
}

/// A row without an account that finds, by its SIRET, a customer another row of the file
/// already updates is a duplicate: the later row would silently overwrite the earlier one,
/// and undo could only go back to the state between the two.
fn one_file_updates_a_customer_once(db: &TestDb) {
    let (siret, _) = siret_vat(41);
    let first = db.path("first.csv");
    write_csv(
        &first,
        &[
            row(&["Compte client", "Raison sociale", "SIRET", "Ville"]),
            row(&["CLA", "Alpha", &siret, "Paris"]),
        ],
    );
    let (code, _) = db.json(&["import", first.to_str().expect("p")]);
    assert_eq!(code, 0);
    let before = db.customers();
    for (name, rows) in [
        (
            "account-then-siret.csv",
            [["CLA", "Alpha bis", "Nice"], ["", "Alpha ter", "Lille"]],
        ),
        (
            "siret-then-account.csv",
            [["", "Alpha ter", "Lille"], ["CLA", "Alpha bis", "Nice"]],
        ),
    ] {
        let path = db.path(name);
        let mut lines = vec![row(&["Compte client", "Raison sociale", "SIRET", "Ville"])];
        lines.extend(rows.iter().map(|r| row(&[r[0], r[1], &siret, r[2]])));
        write_csv(&path, &lines);
        let (code, r) = db.json(&["import", path.to_str().expect("p")]);
        assert_eq!(code, 1, "{name}: {r}");
        let dup = issues_by_code(&r, "customerAccount.duplicate_in_file");
        assert_eq!(dup.len(), 1, "{name}: {r}");
        assert_eq!(dup[0]["row"], 3, "{name}: {r}");
        assert_eq!(dup[0]["value"], "CLA", "{name}: {r}");
        assert_eq!(db.customers(), before, "{name}: nothing written");
    }
}

fn export_then_reimport_is_unchanged(db: &TestDb) {
    let path = db.path("rich.csv");
    let (siret, vat) = siret_vat(7);
    write_csv(
        &path,
        &[
            row(&[
                "Compte client",
                "Raison sociale",
                "SIRET",
                "Numéro de TVA intracommunautaire",
                "Type de société",
                "Capital social",
                "Code Postal",
                "Ville",
                "Site Web",
                "Téléphone",
                "Revendeur",
                "Niveau de revendeur",
                "Facturer la TVA",
                "Première ligne d'adresse",
                "Pays",
            ]),
            vec![
                "CL0001".into(),
                "Société =Générale".into(),
                siret,
                vat,
                "s.a.s.".into(),
                "10 000,50".into(),
                "06000".into(),
                "Nice".into(),
                "www.example.fr".into(),
                "01 23 45 67 89".into(),
                "1".into(),
                "2".into(),
                "1".into(),
                "-3 rue du Port".into(),
                "".into(),
            ],
            row(&[
                "CL0002",
                "Müller GmbH",
                "HRB 1234",
                "DE136695976",
                "GmbH",
                "",
                "10115",
                "Berlin",
                "",
                "+49 30 1234567",
                "0",
                "",
                "0",
                "@home",
                "Allemagne",
            ]),
        ],
    );
    let (code, r) = db.json(&["import", path.to_str().expect("p")]);
    assert_eq!(code, 0, "{r}");
    let c = db.customer("CL0001");
    assert_eq!(c["capital"], "10000.50");
    assert_eq!(c["type"], "SAS");
    assert_eq!(c["website"], "https://www.example.fr");
    assert_eq!(c["phoneE164"], "+33123456789");
    assert_eq!(db.customer("CL0002")["vatRegime"], "reverse_charge_eu");
    for (fmt, name) in [("csv", "export.csv"), ("xlsx", "export.xlsx")] {
        let out_path = db.path(name);
        let out = db.run(&[
            "export",
            "--format",
            fmt,
            "-o",
            out_path.to_str().expect("p"),
        ]);
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        if fmt == "csv" {
            let text = std::fs::read_to_string(&out_path).expect("read");
            assert!(
                text.contains("'-3 rue du Port"),
                "formula-like values are neutralised: {text}"
            );
        }
        let (code, r) = db.json(&["import", out_path.to_str().expect("p")]);
        assert_eq!(code, 0, "{r}");
        assert_eq!(
            (
                r["unchanged"].as_u64(),
                r["update"].as_u64(),
                r["create"].as_u64()
            ),
            (Some(2), Some(0), Some(0)),
            "{fmt}: {r}"
        );
    }
}

/// Addresses and activity codes against the official French lists: warnings on the right
/// rows, the import done all the same, the NAF label in exports, and an export (with its
/// label column) imported back unchanged and without a word about that column.
fn official_lists_warn_and_label(db: &TestDb) {
    let path = db.path("lists.csv");
    let head = row(&[
        "Compte client",
        "Raison sociale",
        "Code Postal",
        "Ville",
        "Pays",
        "Code activité (NAF)",
    ]);
    let rows = [
        ["CL1", "Paris Lyon", "75001", "Lyon", "", "62.02Z"],
        ["CL2", "Lyon sans code", "69000", "Lyon", "", ""],
        [
            "CL3",
            "Stéphanois",
            "42000",
            "ST ETIENNE",
            "France",
            "6110Z",
        ],
        [
            "CL4",
            "Bruxellois",
            "1000",
            "Bruxelles",
            "Belgique",
            "62.02Z",
        ],
        [
            "CL5",
            "Valserine",
            "01200",
            "Bellegarde-sur-Valserine",
            "",
            "",
        ],
        ["CL6", "Rouennais", "76037", "ROUEN CEDEX 1", "", "62.01Z"],
        ["CL7", "Monégasque", "98000", "Monaco", "", ""],
        ["CL8", "Marseillais", "13001", "Marseile", "", ""],
        ["CL9", "Bastiais", "20200", "Bastia", "", ""],
    ];
    let mut all = vec![head];
    all.extend(rows.iter().map(|r| row(r)));
    write_csv(&path, &all);
    let (code, r) = db.json(&["--lang", "fr", "import", path.to_str().expect("p")]);
    assert_eq!(code, 0, "warnings never block: {r}");
    assert_eq!(r["imported"], true);
    assert_eq!(r["create"], 9);
    let mut found: Vec<(u64, String)> = r["issues"]
        .as_array()
        .expect("issues")
        .iter()
        .map(|i| {
            assert_eq!(i["severity"], "warning", "{i}");
            (
                i["row"].as_u64().unwrap_or(0),
                i["code"].as_str().unwrap_or("").to_string(),
            )
        })
        .collect();
    found.sort();
    let want: Vec<(u64, String)> = [
        (2, "mainAddressCity.postal_mismatch"),
        (2, "activityCode.unknown"),
        (3, "postalCode.unknown"),
        (4, "mainAddressCity.spelling"),
        (6, "mainAddressCity.former_commune"),
        (9, "mainAddressCity.postal_mismatch"),
    ]
    .iter()
    .map(|(n, c)| (*n, c.to_string()))
    .collect::<std::collections::BTreeSet<_>>()
    .into_iter()
    .collect();
    assert_eq!(found, want, "{r}");
    let msg = |code: &str, row: u64| -> String {
        issues_by_code(&r, code)
            .into_iter()
            .find(|i| i["row"] == row)
            .and_then(|i| i["message"].as_str())
            .unwrap_or_default()
            .to_string()
    };
    assert_eq!(
        msg("mainAddressCity.postal_mismatch", 9),
        "Ville : « Marseile » n'est pas une commune de ce code postal (13001 → Marseille)"
    );
    assert!(
        msg("postalCode.unknown", 3).contains("(Lyon → 69001, 69002"),
        "{}",
        msg("postalCode.unknown", 3)
    );
    assert_eq!(
        msg("mainAddressCity.spelling", 4),
        "Ville : « ST ETIENNE » s'écrit « Saint-Étienne » dans la liste officielle"
    );
    assert!(msg("activityCode.unknown", 2).contains("(62.02A, 62.02B)"));
    // Stored as written: the lists suggest, they do not rewrite.
    assert_eq!(db.customer("CL3")["mainAddressCity"], "ST ETIENNE");
    assert_eq!(
        db.customer("CL3")["activityLabel"],
        "Télécommunications filaires"
    );
    assert_eq!(db.customer("CL1")["activityLabel"], Value::Null);

    // Exports carry the label; importing them back changes nothing and says nothing of it.
    for (fmt, name) in [("csv", "lists-export.csv"), ("xlsx", "lists-export.xlsx")] {
        let out_path = db.path(name);
        let out = db.run(&[
            "export",
            "--format",
            fmt,
            "-o",
            out_path.to_str().expect("p"),
        ]);
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        if fmt == "csv" {
            let text = std::fs::read_to_string(&out_path).expect("read");
            let header = text.lines().next().unwrap_or_default();
            assert!(header.ends_with(";Libellé activité (NAF)"), "{header}");
            let cl3 = text
                .lines()
                .find(|l| l.starts_with("CL3;"))
                .unwrap_or_default();
            assert!(cl3.ends_with(";Télécommunications filaires"), "{cl3}");
        }
        let (code, r) = db.json(&["import", out_path.to_str().expect("p")]);
        assert_eq!(code, 0, "{r}");
        assert_eq!(r["unchanged"], 9, "{fmt}: {r}");
        assert!(
            issues_by_code(&r, "header.unknown").is_empty(),
            "{fmt}: {r}"
        );
    }
    let out_path = db.path("lists.jsonl");
    let out = db.run(&[
        "export",
        "--format",
        "jsonl",
        "-o",
        out_path.to_str().expect("p"),
    ]);
    assert!(out.status.success());
    let text = std::fs::read_to_string(&out_path).expect("read");
    assert!(
        text.contains("\"activityLabel\":\"Programmation informatique\""),
        "{text}"
    );
}

fn skip_invalid_writes_valid_rows_and_rejects_the_others(db: &TestDb) {
    let path = db.path("mixed.csv");
    write_csv(
        &path,
        &[
            row(&["Compte client", "Raison sociale", "Code Postal"]),
            row(&["CL1", "Good", "75001"]),
            row(&["CL2", "Bad", "7500"]),
            row(&["CL3", "", "75002"]),
        ],
    );
    // A rejected-rows file that cannot be written, or that is the pack itself: nothing is
    // imported, and the message names the file.
    let unwritable = db.path("no-such-dir/rejected.csv");
    for (target, says) in [(&unwritable, "no-such-dir"), (&path, "the pack itself")] {
        let out = db.run(&[
            "import",
            path.to_str().expect("p"),
            "--skip-invalid",
            "--rejected",
            target.to_str().expect("p"),
        ]);
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(3), "{stderr}");
        assert!(stderr.contains(says), "{stderr}");
        assert!(db.customers().is_empty(), "nothing imported: {stderr}");
    }
    assert!(std::fs::read_to_string(&path)
        .expect("pack")
        .contains("CL1"));
    let rejected = db.path("rejected.csv");
    let (code, r) = db.json(&[
        "import",
        path.to_str().expect("p"),
        "--skip-invalid",
        "--rejected",
        rejected.to_str().expect("p"),
    ]);
    assert_eq!(code, 1, "{r}");
    assert_eq!(r["imported"], true);
    assert_eq!(
        (r["valid"].as_u64(), r["invalid"].as_u64()),
        (Some(2), Some(1))
    );
    assert_eq!(db.customers().len(), 2);
    let text = std::fs::read_to_string(&rejected).expect("rejected file");
    assert!(text.contains("Erreurs"), "{text}");
    assert!(text.contains("CL3"), "{text}");
    assert!(!text.contains("CL1"), "{text}");
}

fn generated_accounts_continue_numbering(db: &TestDb) {
    let path = db.path("gen.csv");
    // The blank row must not take CL0007, which a later row of the same file uses. Accounts
    // follow the file's order, also when some rows (with a phone number) are written
    // through another statement than the others.
    write_csv(
        &path,
        &[
            row(&["Compte client", "Raison sociale", "Téléphone"]),
            row(&["", "Blank one", ""]),
            row(&["CL0007", "Seven", ""]),
            row(&["", "Blank two", "01 40 02 09 99"]),
            row(&["", "Blank three", ""]),
        ],
    );
    let (code, r) = db.json(&["import", path.to_str().expect("p")]);
    assert_eq!(code, 0, "{r}");
    let names: Vec<(String, String)> = db
        .customers()
        .iter()
        .map(|c| {
            (
                c["customerAccount"]
                    .as_str()
                    .unwrap_or_default()
                    .to_string(),
                c["name"].as_str().unwrap_or_default().to_string(),
            )
        })
        .collect();
    assert!(
        names.contains(&("CL0008".into(), "Blank one".into())),
        "{names:?}"
    );
    assert!(
        names.contains(&("CL0009".into(), "Blank two".into())),
        "{names:?}"
    );
    assert!(
        names.contains(&("CL0010".into(), "Blank three".into())),
        "{names:?}"
    );
    let out = db.run(&["settings"]);
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains("next generated account: CL0011"), "{text}");
}

fn ods_file_is_read(db: &TestDb) {
    let fixture =
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../pack/tests/fixtures/clients.ods");
    assert!(fixture.exists(), "fixture {} missing", fixture.display());
    let (code, r) = db.json(&["import", fixture.to_str().expect("p")]);
    assert_eq!(code, 0, "{r}");
    assert!(r["rows"].as_u64().unwrap_or(0) >= 1);
    assert_eq!(r["imported"], true);
    assert_eq!(
        db.customers().len() as u64,
        r["create"].as_u64().unwrap_or(0)
    );
}

#[test]
fn check_writes_nothing() {
    let db = TestDb::new(Backend::Sqlite).expect("sqlite");
    let path = sample(&db, 3);
    let (code, r) = db.json(&["check", path.to_str().expect("p")]);
    assert_eq!(code, 0);
    assert_eq!(r["create"], 3);
    assert_eq!(r["imported"], false);
    assert!(db.customers().is_empty());
}

#[test]
fn template_is_a_readable_blank_pack() {
    let db = TestDb::new(Backend::Sqlite).expect("sqlite");
    let t = db.path("template.xlsx");
    let out = db.run(&["template", "-o", t.to_str().expect("p")]);
    assert!(out.status.success());
    let (code, r) = db.json(&["check", t.to_str().expect("p")]);
    assert_eq!(code, 0, "{r}");
    assert_eq!(r["rows"], 0);
    assert_eq!(
        r["columns"].as_array().map(Vec::len),
        Some(clientele_core_fields())
    );
}

/// A byte the declared encoding cannot decode (a Windows-1252 é in a file with a UTF-8
/// BOM) is an error on its cell, not a silent U+FFFD in the database.
#[test]
fn undecodable_bytes_are_reported_not_stored() {
    let db = TestDb::new(Backend::Sqlite).expect("sqlite");
    let path = db.path("bom.csv");
    std::fs::write(
        &path,
        b"\xef\xbb\xbfRaison sociale;Ville\nCaf\xe9 Noir;Paris\nBon;Lyon\n",
    )
    .expect("write");
    let (code, r) = db.json(&["import", path.to_str().expect("p")]);
    assert_eq!(code, 1, "{r}");
    let bad = issues_by_code(&r, "name.invalid");
    assert_eq!(bad.len(), 1, "{r}");
    assert_eq!(
        (bad[0]["row"].as_u64(), bad[0]["column"].as_str()),
        (Some(2), Some("A"))
    );
    assert!(db.customers().is_empty());
}

/// The file name decides the format when `--format` is not given, and a contradiction
/// is refused rather than writing CSV text into a `.xlsx` file.
#[test]
fn output_formats_follow_the_file_name() {
    let db = TestDb::new(Backend::Sqlite).expect("sqlite");
    let path = sample(&db, 2);
    let (code, _) = db.json(&["import", path.to_str().expect("p")]);
    assert_eq!(code, 0);
    let x = db.path("clients.xlsx");
    let out = db.run(&["export", "-o", x.to_str().expect("p")]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(std::fs::read(&x).expect("xlsx").starts_with(b"PK"), "a zip");
    let j = db.path("clients.jsonl");
    let out = db.run(&["export", "-o", j.to_str().expect("p")]);
    assert!(out.status.success());
    let text = std::fs::read_to_string(&j).expect("jsonl");
    assert_eq!(text.lines().count(), 2, "{text}");
    for line in text.lines() {
        serde_json::from_str::<Value>(line).expect("a JSON object per line");
    }
    let bad = db.path("other.xlsx");
    let out = db.run(&["export", "--format", "csv", "-o", bad.to_str().expect("p")]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("does not match"));
    assert!(!bad.exists());
    let t = db.path("template.csv");
    let out = db.run(&["template", "-o", t.to_str().expect("p")]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains(".xlsx"));
    assert!(!t.exists());
}

fn clientele_core_fields() -> usize {
    // Kept independent of the code under test: the pack has 26 columns plus 6 API-only ones.
    32
}

#[test]
fn issue_codes_doc_is_up_to_date() {
    let db = TestDb::new(Backend::Sqlite).expect("sqlite");
    let out = db.run(&["codes"]);
    let doc = std::fs::read_to_string(
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../docs/issue-codes.md"),
    )
    .expect("docs/issue-codes.md");
    assert_eq!(
        String::from_utf8_lossy(&out.stdout),
        doc,
        "run `clientele codes > docs/issue-codes.md`"
    );
}

fn contacts_workbook(path: &std::path::Path, contacts: &[[&str; 5]]) {
    let mut wb = Workbook::new();
    let ws = wb.add_worksheet();
    ws.set_name("Clients").expect("name");
    for (r, row) in [
        ["Compte client", "Raison sociale"],
        ["CL0100", "Avec compte"],
        ["", "Sans compte"],
    ]
    .iter()
    .enumerate()
    {
        for (c, v) in row.iter().enumerate() {
            ws.write_string(r as u32, c as u16, *v).expect("w");
        }
    }
    let ws = wb.add_worksheet();
    ws.set_name("Contacts").expect("name");
    for (c, h) in ["Client", "Civilité", "Prénom", "Nom", "Téléphone fixe"]
        .iter()
        .enumerate()
    {
        ws.write_string(0, c as u16, *h).expect("w");
    }
    for (r, row) in contacts.iter().enumerate() {
        for (c, v) in row.iter().enumerate() {
            ws.write_string(r as u32 + 1, c as u16, *v).expect("w");
        }
    }
    wb.save(path).expect("save");
}

fn contacts_tab_is_imported_with_the_clients(db: &TestDb) {
    // One contact links by account, one by the Clients row of a customer without account.
    let bad = db.path("bad.xlsx");
    contacts_workbook(
        &bad,
        &[
            ["CL0100", "Mme", "Anne", "Martin", "01 45 00 00 01"],
            ["CL9999", "M.", "Paul", "Durand", ""],
        ],
    );
    let (code, r) = db.json(&["import", bad.to_str().expect("p")]);
    assert_eq!(code, 1, "{r}");
    let unknown = issues_by_code(&r, "client.unknown");
    assert_eq!(unknown.len(), 1, "{r}");
    assert_eq!(
        (
            unknown[0]["sheet"].as_str(),
            unknown[0]["row"].as_u64(),
            unknown[0]["column"].as_str()
        ),
        (Some("Contacts"), Some(3), Some("A"))
    );
    assert!(
        db.customers().is_empty(),
        "nothing written when a contact is wrong"
    );

    let good = db.path("good.xlsx");
    contacts_workbook(
        &good,
        &[
            ["CL0100", "Mme", "Anne", "Martin", "01 45 00 00 01"],
            ["3", "M.", "Paul", "Durand", "04 91 00 00 02"],
        ],
    );
    let (code, r) = db.json(&["import", good.to_str().expect("p")]);
    assert_eq!(code, 0, "{r}");
    assert_eq!(r["contacts"], 2);
    let (code, l) = db.json(&["lookup", "0491000002"]);
    assert_eq!(code, 0, "{l}");
    assert_eq!(l["phone"]["details"]["name"], "Sans compte", "{l}");
    assert_eq!(
        l["phone"]["details"]["contact"]["lastName"], "Durand",
        "{l}"
    );
    let (_, l) = db.json(&["lookup", "+33145000001"]);
    assert_eq!(l["phone"]["details"]["customerAccount"], "CL0100", "{l}");
    // Undo removes the contacts with their customers.
    let out = db.run(&["undo", &r["importId"].to_string()]);
    assert!(out.status.success());
    let (_, l) = db.json(&["lookup", "0491000002"]);
    assert_eq!(l["phone"]["isKnownPhoneNumber"], false, "{l}");
}
