//! Writing packs: template, exports (round trip, formula safety), rejected rows, annotations.

mod common;

use calamine::{open_workbook_from_rs, Data, Reader, Xlsx};
use clientele_core::catalogue::{Field, Kind, FIELDS};
use clientele_core::issue::{Issue, Lang, Problem};
use clientele_core::model::{Customer, Value};
use clientele_core::validate::parse_cells;
use clientele_core::Cell;
use clientele_pack::{
    annotate, has_contacts, open, open_bytes, write_rejected, write_template, CsvExporter, RawRow,
    RejectedWriter, Tab, XlsxExporter, CONTACT_FIELDS,
};
use common::*;
use std::io::Cursor;

fn sample_customers() -> Vec<Customer> {
    let mut a = Customer::new();
    let set = |c: &mut Customer, f: Field, v: Value| c.values[f.idx()] = Some(v);
    let t = |s: &str| Value::Text(s.to_string().into());
    set(&mut a, Field::customerAccount, t("CL0001"));
    set(&mut a, Field::name, t("=SUM(1)"));
    set(&mut a, Field::registrationNumber, t("00012345600013"));
    set(&mut a, Field::postalCode, t("06000"));
    set(&mut a, Field::mainAddressLine1, t("-12 rue du Moins"));
    set(&mut a, Field::mainAddressCity, t("Nice; Côte d'Azur"));
    set(&mut a, Field::phone, t("+33123456789"));
    set(&mut a, Field::mobilePhone, t("+33 6 12 34 56 78"));
    set(&mut a, Field::capital, t("10000.50"));
    set(&mut a, Field::resellerLevel, Value::Int(3));
    set(&mut a, Field::isReseller, Value::Bool(true));
    set(&mut a, Field::vip, Value::Bool(true));
    set(&mut a, Field::comment, t("@dangereux\nsur deux lignes"));
    let mut b = Customer::new();
    b.values[Field::name.idx()] = Some(t("Boulangerie Noël"));
    b.values[Field::chargeVAT.idx()] = Some(Value::Bool(false));
    vec![a, b]
}

/// What a stored value looks like as a raw cell read back.
fn as_text(c: &Option<Cell>) -> String {
    c.as_ref().map(Cell::display).unwrap_or_default()
}

fn expected_text(v: Option<&Value>) -> String {
    v.map(Value::to_text).unwrap_or_default()
}

#[test]
fn template_round_trip() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("modele.xlsx");
    write_template(&path).expect("template");
    let o = open(&path, Tab::Clients, Lang::En).expect("open");
    assert_eq!(o.sheet.as_deref(), Some("Clients"));
    assert!(o.warnings.is_empty(), "{:?}", o.warnings);
    assert_eq!(o.columns.len(), FIELDS.len());
    for (i, c) in o.columns.iter().enumerate() {
        assert_eq!(c.field, Some(i), "{}", c.header);
        assert_eq!(c.header, FIELDS[i].heading);
    }
    assert_eq!(o.rows.count(), 0);
    assert!(has_contacts(&path));
    let c = open(&path, Tab::Contacts, Lang::En).expect("contacts");
    assert_eq!(
        c.columns.iter().map(|c| c.field).collect::<Vec<_>>(),
        (0..CONTACT_FIELDS.len()).map(Some).collect::<Vec<_>>()
    );

    let parts = unzip(&std::fs::read(&path).expect("read"));
    let find = |name: &str| {
        parts
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, c)| String::from_utf8_lossy(c).into_owned())
            .unwrap_or_default()
    };
    let comments = find("xl/comments1.xml");
    for d in FIELDS {
        let escaped = d
            .help
            .replace('&', "&amp;")
            .replace('\'', "&apos;")
            .replace('"', "&quot;")
            .replace('<', "&lt;");
        assert!(
            comments.contains(&escaped) || comments.contains(d.help),
            "no note for {}",
            d.heading
        );
    }
    let sheet = find("xl/worksheets/sheet1.xml");
    let bools = FIELDS.iter().filter(|d| d.kind == Kind::Bool).count();
    assert_eq!(
        sheet.matches("<dataValidation ").count(),
        bools,
        "one 1/0 list per boolean column"
    );
    assert!(
        sheet.contains("&quot;1,0&quot;") || sheet.contains("\"1,0\""),
        "1/0 list"
    );
    assert!(sheet.contains("state=\"frozen\""));
    assert!(
        find("xl/styles.xml").contains("formatCode=\"@\"")
            || find("xl/styles.xml").contains("numFmtId=\"49\"")
    );
}

#[test]
fn csv_export_round_trip_and_formula_safety() {
    let customers = sample_customers();
    let mut ex = CsvExporter::new(Vec::new()).expect("new");
    for c in &customers {
        ex.write(c).expect("write");
    }
    let bytes = ex.finish().expect("finish");
    assert!(bytes.starts_with(b"\xEF\xBB\xBF"));
    let text = String::from_utf8_lossy(&bytes);
    assert!(text.contains(";'=SUM(1);"), "{text}");
    assert!(text.contains(";+33123456789;"), "{text}");
    assert!(text.contains(";+33 6 12 34 56 78;"), "{text}");
    assert!(text.contains(";'-12 rue du Moins;"), "{text}");
    assert!(text.contains("\"'@dangereux\nsur deux lignes\""), "{text}");
    assert!(
        !text.contains(";=") && !text.contains(";@") && !text.contains(";-"),
        "{text}"
    );

    let mut o = open_bytes("export.csv", bytes, Tab::Clients, Lang::En).expect("read back");
    assert_eq!(o.encoding, Some("UTF-8 (BOM)"));
    assert_eq!(o.delimiter, Some(';'));
    assert!(o.warnings.is_empty());
    let rows: Vec<RawRow> = o.rows.by_ref().map(|r| r.expect("row")).collect();
    assert_eq!(rows.len(), customers.len());
    for (row, c) in rows.iter().zip(&customers) {
        let cells = o.clients_cells(row);
        // The import removes the apostrophe put before formula characters.
        let (rec, issues) = parse_cells(cells.clone());
        assert_eq!(rec.text(Field::name), c.text(Field::name));
        assert_eq!(
            rec.text(Field::mainAddressLine1),
            c.text(Field::mainAddressLine1)
        );
        assert_eq!(rec.text(Field::postalCode), c.text(Field::postalCode));
        assert_eq!(rec.get(Field::resellerLevel), c.get(Field::resellerLevel));
        assert_eq!(rec.get(Field::isReseller), c.get(Field::isReseller));
        assert_eq!(rec.get(Field::chargeVAT), c.get(Field::chargeVAT));
        for d in FIELDS {
            let raw = as_text(&cells[d.id.idx()]);
            let want = expected_text(c.get(d.id));
            assert!(
                raw == want || raw == format!("'{want}"),
                "{}: {raw:?} vs {want:?}",
                d.pack_key
            );
        }
        assert!(issues.iter().all(|i| i.field != Field::name), "{issues:?}");
    }
}

#[test]
fn xlsx_export_round_trip_keeps_text_as_text() {
    let customers = sample_customers();
    let mut ex = XlsxExporter::new();
    for c in &customers {
        ex.write(c).expect("write");
    }
    let bytes = ex.save_to_buffer().expect("save");
    // No cell may be a formula.
    let parts = unzip(&bytes);
    let sheet = parts
        .iter()
        .find(|(n, _)| n == "xl/worksheets/sheet1.xml")
        .map(|(_, c)| String::from_utf8_lossy(c).into_owned())
        .expect("sheet");
    assert!(!sheet.contains("<f>"), "{sheet}");

    let mut o =
        open_bytes("export.xlsx", bytes.clone(), Tab::Clients, Lang::En).expect("read back");
    let rows: Vec<RawRow> = o.rows.by_ref().map(|r| r.expect("row")).collect();
    assert_eq!(rows.len(), 2);
    let cells = o.clients_cells(&rows[0]);
    assert_eq!(cells[Field::name.idx()], Some(Cell::Text("=SUM(1)".into())));
    assert_eq!(
        cells[Field::postalCode.idx()],
        Some(Cell::Text("06000".into()))
    );
    assert_eq!(
        cells[Field::registrationNumber.idx()],
        Some(Cell::Text("00012345600013".into()))
    );
    for (row, c) in rows.iter().zip(&customers) {
        let cells = o.clients_cells(row);
        for d in FIELDS {
            assert_eq!(
                as_text(&cells[d.id.idx()]),
                expected_text(c.get(d.id)),
                "{}",
                d.pack_key
            );
        }
    }
    // On disk too.
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("export.xlsx");
    let mut ex = XlsxExporter::new();
    ex.write(&customers[1]).expect("write");
    ex.save(&path).expect("save");
    let o = open(&path, Tab::Clients, Lang::En).expect("open");
    assert_eq!(rows_of(o), 1);
}

fn rows_of(o: clientele_pack::Opened) -> usize {
    o.rows.filter(Result::is_ok).count()
}

#[test]
fn empty_exports_still_have_the_header() {
    let bytes = CsvExporter::new(Vec::new())
        .expect("new")
        .finish()
        .expect("finish");
    let text = String::from_utf8_lossy(&bytes).into_owned();
    assert!(
        text.trim_end().ends_with(";Libellé activité (NAF)"),
        "the derived label column comes last: {text}"
    );
    let o = open_bytes("e.csv", bytes, Tab::Clients, Lang::En).expect("open");
    // The label column is read back as nothing: no column, no warning.
    assert_eq!(o.columns.len(), FIELDS.len());
    assert!(o.warnings.is_empty(), "{:?}", o.warnings);
    let bytes = XlsxExporter::new().save_to_buffer().expect("save");
    let o = open_bytes("e.xlsx", bytes, Tab::Clients, Lang::En).expect("open");
    assert_eq!(o.columns.len(), FIELDS.len());
    assert_eq!(rows_of(o), 0);
}

#[test]
fn rejected_rows_csv_keeps_the_delimiter_and_adds_errors() {
    let dir = tempfile::tempdir().expect("tempdir");
    let input = "Raison sociale,SIRET,Remarques\nA,123,=x\nB,44312197500016,ok\n";
    let mut o =
        open_bytes("in.csv", input.as_bytes().to_vec(), Tab::Clients, Lang::En).expect("open");
    let rows: Vec<RawRow> = o.rows.by_ref().map(|r| r.expect("row")).collect();
    let out = dir.path().join("rejets.csv");
    write_rejected(
        &out,
        &o.columns,
        o.delimiter,
        &[(rows[0].clone(), "SIRET: bad ; other".into())],
    )
    .expect("write");
    let bytes = std::fs::read(&out).expect("read");
    assert!(bytes.starts_with(b"\xEF\xBB\xBF"));
    let text = String::from_utf8_lossy(&bytes[3..]).into_owned();
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines[0], "Raison sociale,SIRET,Remarques,Erreurs");
    assert_eq!(lines[1], "A,123,'=x,SIRET: bad ; other");
    assert_eq!(lines.len(), 2);
    // It reads back as a pack (the Erreurs column is unknown, so ignored).
    let back = open(&out, Tab::Clients, Lang::En).expect("reopen");
    assert_eq!(back.delimiter, Some(','));
    assert_eq!(back.warnings.len(), 2);
}

#[test]
fn rejected_rows_xlsx_streamed() {
    let dir = tempfile::tempdir().expect("tempdir");
    let book = xlsx(&[(
        "Clients",
        vec![
            vec![V::S("Raison sociale"), V::S("Code Postal"), V::S("Actif")],
            vec![V::S("A"), V::N(6000.0), V::B(true)],
            vec![V::S("=B"), V::N(75001.0), V::S("peut-être")],
        ],
    )]);
    let mut o = open_bytes("in.xlsx", book, Tab::Clients, Lang::En).expect("open");
    let rows: Vec<RawRow> = o.rows.by_ref().map(|r| r.expect("row")).collect();
    let out = dir.path().join("rejets.xlsx");
    let mut w = RejectedWriter::new(&out, &o.columns, None).expect("new");
    for r in &rows {
        w.write(r, &format!("erreur ligne {}", r.number))
            .expect("write");
    }
    w.finish().expect("finish");
    let mut wb: Xlsx<_> =
        open_workbook_from_rs(Cursor::new(std::fs::read(&out).expect("read"))).expect("xlsx");
    let range = wb.worksheet_range_at(0).expect("a sheet").expect("range");
    assert_eq!(
        range.get_value((0, 3)),
        Some(&Data::String("Erreurs".into()))
    );
    assert_eq!(range.get_value((1, 1)), Some(&Data::Float(6000.0)));
    assert_eq!(range.get_value((1, 2)), Some(&Data::Bool(true)));
    assert_eq!(range.get_value((2, 0)), Some(&Data::String("=B".into())));
    assert_eq!(
        range.get_value((2, 3)),
        Some(&Data::String("erreur ligne 3".into()))
    );
}

fn issue_at(row: u32, column: Option<&str>, problem: Problem, message: &str) -> Issue {
    let mut i = Issue::file("name", problem, Lang::En, "", "", "Raison sociale");
    i.row = Some(row);
    i.column = column.map(str::to_string);
    i.message = message.to_string();
    i
}

#[test]
fn annotate_csv_marks_cells_with_fill_and_notes() {
    let input = "Titre\nRaison sociale;SIRET;Code postal\nA;123;6000\n\nB;44312197500016;75001\n";
    let issues = vec![
        issue_at(3, Some("B"), Problem::Length, "SIRET a 3 chiffres"),
        issue_at(
            3,
            Some("C"),
            Problem::Padded,
            "Code postal complété : 06000",
        ),
        issue_at(5, None, Problem::Required, "Ligne entière en erreur"),
        issue_at(2, Some("D"), Problem::Unknown, "Colonne inconnue"),
    ];
    let bytes = annotate("in.csv", input.as_bytes(), &issues).expect("annotate");
    let mut wb: Xlsx<_> = open_workbook_from_rs(Cursor::new(bytes.clone())).expect("xlsx");
    let range = wb.worksheet_range("Clients").expect("range");
    assert_eq!(range.get_value((0, 0)), Some(&Data::String("Titre".into())));
    assert_eq!(range.get_value((1, 1)), Some(&Data::String("SIRET".into())));
    assert_eq!(range.get_value((2, 1)), Some(&Data::String("123".into())));
    assert_eq!(range.get_value((4, 2)), Some(&Data::String("75001".into())));
    let parts = unzip(&bytes);
    let comments: String = parts
        .iter()
        .filter(|(n, _)| n.starts_with("xl/comments"))
        .map(|(_, c)| String::from_utf8_lossy(c).into_owned())
        .collect();
    for m in [
        "SIRET a 3 chiffres",
        "Code postal complété : 06000",
        "Ligne entière en erreur",
        "Colonne inconnue",
    ] {
        assert!(comments.contains(m), "{m} missing from {comments}");
    }
    // Notes sit on B3, C3, A5 (whole row) and D2.
    for r in ["ref=\"B3\"", "ref=\"C3\"", "ref=\"A5\"", "ref=\"D2\""] {
        assert!(comments.contains(r), "{r} missing");
    }
    let styles = parts
        .iter()
        .find(|(n, _)| n == "xl/styles.xml")
        .map(|(_, c)| String::from_utf8_lossy(c).into_owned())
        .unwrap_or_default();
    assert!(styles.contains("FFC7CE"), "error fill");
    assert!(styles.contains("FFEB9C"), "warning fill");
}

#[test]
fn annotate_xlsx_places_issues_by_sheet() {
    let book = xlsx(&[
        (
            "Clients",
            vec![
                vec![V::S("Raison sociale"), V::S("Code Postal")],
                vec![V::S("A"), V::N(6000.0)],
            ],
        ),
        (
            "Contacts",
            text_rows(&[&["Client", "Nom"], &["9", "Dupont"]]),
        ),
    ]);
    let mut on_clients = issue_at(2, Some("B"), Problem::Padded, "padded here");
    on_clients.sheet = Some("Clients".into());
    let mut on_contacts = issue_at(2, Some("A"), Problem::UnknownClient, "unknown client 9");
    on_contacts.sheet = Some("Contacts".into());
    let bytes = annotate("in.xlsx", &book, &[on_clients, on_contacts]).expect("annotate");
    let mut wb: Xlsx<_> = open_workbook_from_rs(Cursor::new(bytes.clone())).expect("xlsx");
    assert_eq!(
        wb.sheet_names(),
        vec!["Clients".to_string(), "Contacts".to_string()]
    );
    let clients = wb.worksheet_range("Clients").expect("clients");
    assert_eq!(clients.get_value((1, 1)), Some(&Data::Float(6000.0)));
    let contacts = wb.worksheet_range("Contacts").expect("contacts");
    assert_eq!(
        contacts.get_value((1, 1)),
        Some(&Data::String("Dupont".into()))
    );
    let parts = unzip(&bytes);
    let c1 = parts
        .iter()
        .find(|(n, _)| n == "xl/comments1.xml")
        .map(|(_, c)| String::from_utf8_lossy(c).into_owned())
        .unwrap_or_default();
    let c2 = parts
        .iter()
        .find(|(n, _)| n == "xl/comments2.xml")
        .map(|(_, c)| String::from_utf8_lossy(c).into_owned())
        .unwrap_or_default();
    assert!(
        c1.contains("padded here") && !c1.contains("unknown client"),
        "{c1}"
    );
    assert!(c2.contains("unknown client 9"), "{c2}");
}

#[test]
fn annotate_an_unreadable_file_is_an_error() {
    assert!(annotate("x.xlsx", b"not a zip", &[]).is_err());
}
