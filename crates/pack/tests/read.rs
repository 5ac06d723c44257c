//! Reading packs: encodings, delimiters, header detection and matching, workbooks, damage.

mod common;

use clientele_core::issue::{Lang, Severity};
use clientele_core::{Cell, Field};
use clientele_pack::{has_contacts, open, open_bytes, PackError, Tab, CONTACT_FIELDS};
use common::*;

fn text(s: &str) -> Cell {
    Cell::Text(s.to_string().into())
}

#[test]
fn windows_1252_semicolon_with_headings_in_other_cases_and_no_accents() {
    let csv = "RAISON SOCIALE;Numero de TVA intracommunautaire;code postal\r\nCafé du Théâtre;FR46443121975;06000\r\n";
    let (bytes, _, _) = encoding_rs::WINDOWS_1252.encode(csv);
    let mut o = open_clients("clients.csv", bytes.into_owned()).expect("open");
    assert_eq!(o.encoding, Some("windows-1252"));
    assert_eq!(o.delimiter, Some(';'));
    assert_eq!(o.sheet, None);
    assert_eq!(o.header_row, 1);
    let fields: Vec<_> = o.columns.iter().map(|c| c.field).collect();
    assert_eq!(
        fields,
        vec![
            Some(Field::name.idx()),
            Some(Field::taxRegistrationNumber.idx()),
            Some(Field::postalCode.idx())
        ]
    );
    assert!(o.warnings.is_empty());
    let cells = {
        let rows: Vec<_> = o.rows.by_ref().map(|r| r.expect("row")).collect();
        assert_eq!(rows.len(), 1);
        assert_eq!(rows[0].number, 2);
        o.clients_cells(&rows[0])
    };
    assert_eq!(cells[Field::name.idx()], Some(text("Café du Théâtre")));
    assert_eq!(cells[Field::postalCode.idx()], Some(text("06000")));
    assert_eq!(cells[Field::registrationNumber.idx()], None);
}

#[test]
fn utf8_bom_csv() {
    let mut bytes = b"\xEF\xBB\xBF".to_vec();
    bytes.extend_from_slice("Raison sociale;Ville\nÉts Noël;Besançon\n".as_bytes());
    let o = open_clients("c.csv", bytes).expect("open");
    assert_eq!(o.encoding, Some("UTF-8 (BOM)"));
    // The BOM must not stick to the first heading.
    assert_eq!(o.columns[0].header, "Raison sociale");
    assert_eq!(o.columns[0].field, Some(Field::name.idx()));
    let rows = rows(o);
    assert_eq!(rows[0].cells, vec![text("Éts Noël"), text("Besançon")]);
}

#[test]
fn utf16le_unicode_text_is_tab_delimited() {
    let content = "Raison sociale\tCapital social\tSIRET\r\nSARL À l'Étoile, Lyon\t10 000\t44312197500016\r\n";
    let mut bytes = vec![0xFF, 0xFE];
    for u in content.encode_utf16() {
        bytes.extend_from_slice(&u.to_le_bytes());
    }
    let o = open_clients("export.txt", bytes).expect("open");
    assert_eq!(o.encoding, Some("UTF-16LE"));
    assert_eq!(o.delimiter, Some('\t'));
    assert_eq!(o.columns.len(), 3);
    let rows = rows(o);
    assert_eq!(
        rows[0].cells,
        vec![
            text("SARL À l'Étoile, Lyon"),
            text("10 000"),
            text("44312197500016")
        ]
    );
}

#[test]
fn comma_csv_with_quotes_and_multiline_cells_keeps_row_numbers() {
    let csv = "name,postalCode,Ville\n\"Dupont, Fils et Cie\",75001,Paris\n\"Sur\ndeux lignes\",69002,Lyon\nMartin,13001,Marseille\n";
    let o = open_clients("c.csv", csv.as_bytes().to_vec()).expect("open");
    assert_eq!(o.encoding, Some("UTF-8"));
    assert_eq!(o.delimiter, Some(','));
    let rows = rows(o);
    assert_eq!(
        rows.iter().map(|r| r.number).collect::<Vec<_>>(),
        vec![2, 3, 4]
    );
    assert_eq!(rows[0].cells[0], text("Dupont, Fils et Cie"));
    assert_eq!(rows[1].cells[0], text("Sur\ndeux lignes"));
}

#[test]
fn title_and_blank_rows_above_the_header_and_blank_rows_skipped() {
    let csv = "Liste des clients au 1er mars\n\n;;\nRaison sociale;SIRET;Ville\n\nA;;Paris\n;  ;\nB;;Lyon\n";
    let o = open_clients("c.csv", csv.as_bytes().to_vec()).expect("open");
    assert_eq!(o.header_row, 4);
    let rows = rows(o);
    assert_eq!(
        rows.iter().map(|r| r.number).collect::<Vec<_>>(),
        vec![6, 8]
    );
    assert_eq!(rows[1].cells, vec![text("B"), Cell::Empty, text("Lyon")]);
}

#[test]
fn data_in_columns_without_a_heading_is_a_warning() {
    let o = open_clients(
        "c.csv",
        b"Raison sociale;;SIRET\nA;;\nB;important;1;extra\n".to_vec(),
    )
    .expect("open");
    let w: Vec<_> = o
        .warnings
        .iter()
        .map(|i| (i.code.as_str(), i.column.as_deref(), i.message.as_str()))
        .collect();
    assert_eq!(
        w,
        vec![
            (
                "header.no_heading",
                Some("B"),
                "Column B holds data (first on row 3) but has no heading: ignored"
            ),
            (
                "header.no_heading",
                Some("D"),
                "Column D holds data (first on row 3) but has no heading: ignored"
            ),
        ]
    );
    // thousands of columns without a heading: a few warnings, quickly
    let mut wide = b"Raison sociale;SIRET\n".to_vec();
    for _ in 0..3 {
        wide.extend_from_slice(b"A;1");
        wide.extend(std::iter::repeat_n(&b";x"[..], 20_000).flatten());
        wide.push(b'\n');
    }
    let many = open_clients("w.csv", wide).expect("open");
    assert_eq!(many.warnings.len(), 20);
    // the rows looked at are still all there, in order
    let rows = rows(o);
    assert_eq!(rows.len(), 2);
    assert_eq!((rows[0].number, rows[1].number), (2, 3));
}

#[test]
fn rows_are_padded_to_the_header_width() {
    let o = open_clients("c.csv", b"Raison sociale;SIRET;Ville;Pays\nA\n".to_vec()).expect("open");
    let rows = rows(o);
    assert_eq!(
        rows[0].cells,
        vec![text("A"), Cell::Empty, Cell::Empty, Cell::Empty]
    );
}

#[test]
fn unknown_header_is_a_warning_and_the_column_is_ignored() {
    let o = open_clients(
        "c.csv",
        b"Raison sociale;Cde postal;;Xyzzy;SIRET\nA;75001;;x;\n".to_vec(),
    )
    .expect("open");
    assert_eq!(o.warnings.len(), 2);
    // A misspelled heading of a field the file lacks: an error naming that field (issue 14:
    // ignoring it silently dropped every postal code).
    let w = &o.warnings[0];
    assert_eq!(w.code, "header.unmapped");
    assert_eq!(w.severity, Severity::Error);
    assert_eq!(w.row, Some(1));
    assert_eq!(w.column.as_deref(), Some("B"));
    assert_eq!(w.header.as_deref(), Some("Cde postal"));
    assert_eq!(w.field, Some("postalCode"));
    assert!(
        w.message.contains("looks like \"Postal code\""),
        "{}",
        w.message
    );
    // A heading like no field: a warning, without a suggestion.
    let w = &o.warnings[1];
    assert_eq!(w.code, "header.unknown");
    assert_eq!(w.severity, Severity::Warning);
    assert_eq!(w.column.as_deref(), Some("D"));
    assert!(!w.message.contains("did you mean"), "{}", w.message);
    // The blank header (C) is not a column at all; unknown ones are, without a field.
    let cols: Vec<_> = o
        .columns
        .iter()
        .map(|c| (c.letter.as_str(), c.field))
        .collect();
    assert_eq!(
        cols,
        vec![
            ("A", Some(Field::name.idx())),
            ("B", None),
            ("D", None),
            ("E", Some(Field::registrationNumber.idx()))
        ]
    );
    let row = rows(o).remove(0);
    assert_eq!(row.cells[1], text("75001"));
}

#[test]
fn mapped_columns_take_their_field_or_are_ignored() {
    let mut map = clientele_pack::ColumnMap::new();
    map.insert_entry("Cde postal=postalCode").expect("entry");
    map.insert_entry("Xyzzy=-").expect("entry");
    let o = clientele_pack::open_bytes_mapped(
        "c.csv",
        b"Raison sociale;Cde postal;Xyzzy\nA;75001;x\n".to_vec(),
        Tab::Clients,
        Lang::En,
        &map,
    )
    .expect("open");
    assert!(o.warnings.is_empty(), "{:?}", o.warnings);
    let cols: Vec<_> = o
        .columns
        .iter()
        .map(|c| (c.letter.as_str(), c.field, c.mapped))
        .collect();
    assert_eq!(
        cols,
        vec![
            ("A", Some(Field::name.idx()), false),
            ("B", Some(Field::postalCode.idx()), true),
            ("C", None, true)
        ]
    );
    // A mapped heading counts towards finding the header row.
    let o = clientele_pack::open_bytes_mapped(
        "c.csv",
        b"Titre\nNom de la boite;Cde postal\nA;75001\n".to_vec(),
        Tab::Clients,
        Lang::En,
        &{
            let mut m = clientele_pack::ColumnMap::new();
            m.insert_entry("Nom de la boite=name").expect("entry");
            m.insert_entry("Cde postal=postalCode").expect("entry");
            m
        },
    )
    .expect("open");
    assert_eq!(o.header_row, 2);
}

#[test]
fn unknown_header_in_french() {
    let o = open_bytes(
        "c.csv",
        b"Raison sociale;SIRET;Cde postal\n".to_vec(),
        Tab::Clients,
        Lang::Fr,
    )
    .expect("open");
    assert!(
        o.warnings[0]
            .message
            .contains("La colonne « Cde postal » ressemble à « Code Postal »"),
        "{}",
        o.warnings[0].message
    );
}

#[test]
fn two_columns_for_one_field_make_the_file_unusable() {
    let i = unusable(open_clients(
        "c.csv",
        b"Raison sociale;Code postal;postalCode\nA;1;2\n".to_vec(),
    ));
    assert_eq!(i.code, "header.duplicate");
    assert_eq!(i.severity, Severity::Error);
    assert!(i.message.contains("columns B and C"), "{}", i.message);
    assert_eq!(i.row, Some(1));
    assert_eq!(i.column.as_deref(), Some("C"));
}

#[test]
fn no_name_column_makes_the_file_unusable() {
    assert_eq!(
        unusable_code(open_clients("c.csv", b"SIRET;Code postal\n1;2\n".to_vec())),
        "header.missing_name"
    );
}

#[test]
fn no_header_row() {
    assert_eq!(
        unusable_code(open_clients("c.csv", b"foo;bar\n1;2\n".to_vec())),
        "file.no_header"
    );
    // The header must be among the first 20 non-blank rows.
    let mut late = "x;y\n".repeat(20);
    late.push_str("Raison sociale;SIRET\n");
    assert_eq!(
        unusable_code(open_clients("c.csv", late.into_bytes())),
        "file.no_header"
    );
    let mut in_time = "x;y\n".repeat(19);
    in_time.push_str("Raison sociale;SIRET\n");
    assert_eq!(
        open_clients("c.csv", in_time.into_bytes())
            .expect("open")
            .header_row,
        20
    );
    assert_eq!(
        unusable_code(open_clients("c.csv", b"   \n\n".to_vec())),
        "file.no_header"
    );
}

#[test]
fn empty_and_garbage_files_are_errors_not_panics() {
    assert_eq!(
        unusable_code(open_clients("c.csv", Vec::new())),
        "file.unreadable"
    );
    assert_eq!(
        unusable_code(open_clients("c.xlsx", Vec::new())),
        "file.unreadable"
    );
    let garbage: Vec<u8> = (0..100_000u32)
        .map(|i| (i.wrapping_mul(2_654_435_761) >> 13) as u8)
        .collect();
    assert_eq!(
        unusable_code(open_clients("c.xlsx", garbage.clone())),
        "file.unreadable"
    );
    assert_eq!(
        unusable_code(open_clients("c.xls", garbage.clone())),
        "file.unreadable"
    );
    assert_eq!(
        unusable_code(open_clients("c.ods", garbage.clone())),
        "file.unreadable"
    );
    // Bytes that are not text (NUL bytes) are not a spreadsheet, whatever the name says.
    assert_eq!(
        unusable_code(open_clients("c.csv", garbage.clone())),
        "file.not_spreadsheet"
    );
    assert_eq!(
        unusable_code(open_clients("noext", garbage)),
        "file.not_spreadsheet"
    );
    // Zip and OLE signatures followed by garbage.
    let mut fake_zip = b"PK\x03\x04".to_vec();
    fake_zip.extend_from_slice(&[7u8; 500]);
    assert_eq!(
        unusable_code(open_clients("c.xlsx", fake_zip)),
        "file.unreadable"
    );
    let mut fake_ole = vec![0xD0, 0xCF, 0x11, 0xE0, 0xA1, 0xB1, 0x1A, 0xE1];
    fake_ole.extend_from_slice(&[0xFFu8; 2000]);
    assert_eq!(
        unusable_code(open_clients("c.xls", fake_ole)),
        "file.unreadable"
    );
}

#[test]
fn truncated_xlsx_is_unreadable() {
    let book = xlsx(&[(
        "Clients",
        text_rows(&[&["Raison sociale", "SIRET"], &["A", "1"]]),
    )]);
    for cut in [10, book.len() / 3, book.len() / 2, book.len() - 30] {
        let r = open_clients("c.xlsx", book[..cut].to_vec());
        match r {
            Err(PackError::Unusable(i)) => assert_eq!(i.code, "file.unreadable"),
            Err(e) => panic!("{e}"),
            // A cut that spares the central directory's needs is still an error in the rows.
            Ok(o) => assert!(
                o.rows.into_iter().any(|r| r.is_err()),
                "cut at {cut} read fine"
            ),
        }
    }
}

#[test]
fn damaged_sheet_xml_ends_the_rows_with_an_error() {
    let book = xlsx(&[(
        "Clients",
        text_rows(&[&["Raison sociale", "SIRET"], &["A", "1"], &["B", "2"]]),
    )]);
    let damaged = rewrite(&book, "xl/worksheets/sheet1.xml", |s| {
        let cut = s.find("<row r=\"3\"").unwrap_or(s.len());
        s[..cut + 10].to_string()
    });
    let o = open_clients("c.xlsx", damaged).expect("header still readable");
    let results: Vec<_> = o.rows.collect();
    assert!(results
        .first()
        .is_some_and(|r| r.as_ref().is_ok_and(|row| row.number == 2)));
    let last = results.last().expect("an error at the end");
    assert!(
        matches!(last, Err(PackError::Unusable(i)) if i.code == "file.unreadable"),
        "{last:?}"
    );
}

#[test]
fn xlsx_numbers_booleans_and_types() {
    let book = xlsx(&[(
        "Clients",
        vec![
            vec![
                V::S("Raison sociale"),
                V::S("Code Postal"),
                V::S("SIRET"),
                V::S("Actif"),
                V::S("Remarques"),
                V::S("Client VIP"),
                V::S("Niveau de revendeur"),
            ],
            vec![
                V::S("Nice Télécom"),
                V::N(6000.0),
                V::N(44312197500016.0),
                V::B(true),
                V::Blank,
                V::B(false),
                V::N(3.0),
            ],
        ],
    )]);
    let mut o = open_clients("c.xlsx", book).expect("open");
    assert_eq!(o.sheet.as_deref(), Some("Clients"));
    assert_eq!(o.encoding, None);
    assert_eq!(o.delimiter, None);
    let rows: Vec<_> = o.rows.by_ref().map(|r| r.expect("row")).collect();
    let cells = o.clients_cells(&rows[0]);
    let num = |f: Field| match &cells[f.idx()] {
        Some(Cell::Float(x)) => *x,
        Some(Cell::Int(i)) => *i as f64,
        other => panic!("{f:?}: {other:?}"),
    };
    assert_eq!(num(Field::postalCode), 6000.0);
    assert_eq!(num(Field::registrationNumber), 44312197500016.0);
    assert_eq!(num(Field::resellerLevel), 3.0);
    assert_eq!(cells[Field::active.idx()], Some(Cell::Bool(true)));
    assert_eq!(cells[Field::vip.idx()], Some(Cell::Bool(false)));
    assert_eq!(cells[Field::name.idx()], Some(text("Nice Télécom")));
    // "Remarques" is unknown (E), the suggestion names the real heading.
    assert_eq!(o.warnings.len(), 1);
    assert_eq!(o.warnings[0].column.as_deref(), Some("E"));
    assert_eq!(o.warnings[0].sheet.as_deref(), Some("Clients"));
}

/// Date cells are shown as the dates the user sees, not as Excel's serial numbers (45293
/// would pass for an amount).
#[test]
fn date_cells_are_read_as_their_date() {
    let mut wb = rust_xlsxwriter::Workbook::new();
    let ws = wb.add_worksheet();
    ws.set_name("Clients").expect("name");
    let date = rust_xlsxwriter::Format::new().set_num_format("dd/mm/yyyy");
    let stamp = rust_xlsxwriter::Format::new().set_num_format("dd/mm/yyyy hh:mm");
    for (c, h) in [
        "Raison sociale",
        "Capital social",
        "Seconde ligne d'adresse",
    ]
    .iter()
    .enumerate()
    {
        ws.write_string(0, c as u16, *h).expect("header");
    }
    ws.write_string(1, 0, "A").expect("name");
    // 2024-01-02 and 2024-03-01 10:30 as Excel serial numbers.
    ws.write_number_with_format(1, 1, 45293.0, &date)
        .expect("date");
    ws.write_number_with_format(1, 2, 45352.4375, &stamp)
        .expect("stamp");
    let book = wb.save_to_buffer().expect("save");
    let mut o = open_clients("d.xlsx", book).expect("open");
    let rows: Vec<_> = o.rows.by_ref().map(|r| r.expect("row")).collect();
    let cells = o.clients_cells(&rows[0]);
    assert_eq!(cells[Field::capital.idx()], Some(text("2024-01-02")));
    assert_eq!(
        cells[Field::mainAddressLine2.idx()],
        Some(text("2024-03-01 10:30"))
    );
}

#[test]
fn the_clients_sheet_is_found_by_name_even_when_second() {
    let book = xlsx(&[
        (
            "Notes",
            text_rows(&[&["Lisez-moi"], &["Raison sociale", "SIRET"]]),
        ),
        (
            "clients",
            text_rows(&[&["Raison sociale", "Ville"], &["A", "Paris"]]),
        ),
    ]);
    let o = open_clients("c.xlsx", book.clone()).expect("open");
    assert_eq!(o.sheet.as_deref(), Some("clients"));
    assert_eq!(rows(o)[0].cells[1], text("Paris"));
    // Without a Clients sheet, the first sheet.
    let book = xlsx(&[
        (
            "Feuil1",
            text_rows(&[&["Raison sociale", "SIRET"], &["B", ""]]),
        ),
        ("Autre", vec![]),
    ]);
    assert_eq!(
        open_clients("c.xlsx", book).expect("open").sheet.as_deref(),
        Some("Feuil1")
    );
    // ... that is not the Contacts tab.
    let book = xlsx(&[
        (
            "Contacts",
            text_rows(&[&["Client", "Nom", "Prénom"], &["CL1", "Doe", "Ann"]]),
        ),
        (
            "Liste",
            text_rows(&[&["Raison sociale", "SIRET"], &["C", ""]]),
        ),
    ]);
    assert_eq!(
        open_clients("c.xlsx", book).expect("open").sheet.as_deref(),
        Some("Liste")
    );
    // A sheet without a header row: the message says which sheet was read.
    let book = xlsx(&[("Notes", text_rows(&[&["Lisez-moi"]]))]);
    match open_clients("c.xlsx", book) {
        Err(PackError::Unusable(i)) => {
            assert_eq!(i.code, "file.no_header");
            assert!(i.message.contains("\"Notes\""), "{}", i.message);
            assert_eq!(i.sheet.as_deref(), Some("Notes"));
        }
        other => panic!("{:?}", other.map(|o| o.sheet)),
    }
}

#[test]
fn contacts_tab() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("pack.xlsx");
    let book = xlsx(&[
        (
            "Clients",
            text_rows(&[&["Raison sociale", "SIRET"], &["A", ""]]),
        ),
        (
            "Contacts",
            text_rows(&[
                &["Client", "Prénom", "Nom", "Adresse email"],
                &["2", "Jean", "Dupont", "j@d.fr"],
            ]),
        ),
    ]);
    std::fs::write(&path, &book).expect("write");
    assert!(has_contacts(&path));
    let mut o = open(&path, Tab::Contacts, Lang::En).expect("open");
    assert_eq!(o.sheet.as_deref(), Some("Contacts"));
    assert_eq!(o.file_name, "pack.xlsx");
    let fields: Vec<_> = o.columns.iter().map(|c| c.field).collect();
    assert_eq!(fields, vec![Some(0), Some(2), Some(3), Some(4)]);
    let row = o.rows.by_ref().next().expect("a row").expect("ok");
    let cells = o.contact_cells(&row);
    assert_eq!(cells.len(), CONTACT_FIELDS.len());
    assert_eq!(cells[2], Some(text("Jean")));
    assert_eq!(cells[1], None);
    // No Contacts sheet: an error for the Contacts tab, and `has_contacts` says so.
    let only = dir.path().join("only.xlsx");
    std::fs::write(
        &only,
        xlsx(&[("Clients", text_rows(&[&["Raison sociale", "SIRET"]]))]),
    )
    .expect("write");
    assert!(!has_contacts(&only));
    assert_eq!(
        unusable_code(open(&only, Tab::Contacts, Lang::En)),
        "file.unreadable"
    );
    let csv = dir.path().join("c.csv");
    std::fs::write(&csv, "Raison sociale;SIRET\n").expect("write");
    assert!(!has_contacts(&csv));
}

#[test]
fn column_letters_beyond_z() {
    let mut header: Vec<V> = vec![V::Blank; 26];
    header.push(V::S("Raison sociale"));
    header.push(V::S("Ville"));
    let mut data: Vec<V> = vec![V::Blank; 26];
    data.push(V::S("A"));
    data.push(V::S("Paris"));
    let o = open_clients("c.xlsx", xlsx(&[("Clients", vec![header, data])])).expect("open");
    let letters: Vec<_> = o
        .columns
        .iter()
        .map(|c| (c.index, c.letter.as_str()))
        .collect();
    assert_eq!(letters, vec![(26, "AA"), (27, "AB")]);
    let row = rows(o).remove(0);
    assert_eq!(row.cells[27], text("Paris"));
}

#[test]
fn xlsx_row_numbers_with_blank_rows_and_a_title() {
    let book = xlsx(&[(
        "Clients",
        text_rows(&[
            &["Liste des clients"],
            &[],
            &["Raison sociale", "SIRET"],
            &["A", ""],
            &[],
            &["", ""],
            &["B", ""],
        ]),
    )]);
    let o = open_clients("c.xlsx", book).expect("open");
    assert_eq!(o.header_row, 3);
    assert_eq!(
        rows(o).iter().map(|r| r.number).collect::<Vec<_>>(),
        vec![4, 7]
    );
}

#[test]
fn absurd_dimension_does_not_allocate() {
    let book = xlsx(&[(
        "Clients",
        text_rows(&[&["Raison sociale", "SIRET"], &["A", "1"], &["B", "2"]]),
    )]);
    let forged = rewrite(&book, "xl/worksheets/sheet1.xml", |s| {
        let start = s.find("<dimension").expect("dimension element");
        let end = start + s[start..].find("/>").expect("end") + 2;
        format!(
            "{}<dimension ref=\"A1:XFD1048576\"/>{}",
            &s[..start],
            &s[end..]
        )
    });
    assert!(String::from_utf8_lossy(
        &unzip(&forged)
            .into_iter()
            .find(|(n, _)| n == "xl/worksheets/sheet1.xml")
            .expect("sheet")
            .1
    )
    .contains("A1:XFD1048576"));
    let started = std::time::Instant::now();
    let o = open_clients("c.xlsx", forged).expect("open");
    assert_eq!(rows(o).len(), 2);
    // A dense range would be 17 billion cells; streaming does not care.
    assert!(started.elapsed().as_secs() < 5);
}

#[test]
fn ods_workbook() {
    let book = ods(&[
        ("Feuille1", &[&["x"]]),
        (
            "Clients",
            &[
                &["Titre"],
                &["Raison sociale", "Code postal"],
                &["Nice", "#6000"],
            ],
        ),
    ]);
    let o = open_clients("pack.ods", book.clone()).expect("open");
    assert_eq!(o.sheet.as_deref(), Some("Clients"));
    assert_eq!(o.header_row, 2);
    let row = rows(o).remove(0);
    assert_eq!(row.number, 3);
    assert_eq!(row.cells[0], text("Nice"));
    assert!(
        matches!(row.cells[1], Cell::Float(x) if x == 6000.0) || row.cells[1] == Cell::Int(6000),
        "{:?}",
        row.cells[1]
    );
    // Sniffed from the content whatever the name.
    assert_eq!(
        open_clients("upload.bin", book)
            .expect("open")
            .sheet
            .as_deref(),
        Some("Clients")
    );
}

#[test]
fn a_ten_megabyte_cell_is_cut_to_excels_cell_limit() {
    let mut csv = b"Raison sociale;Commentaire\nA;".to_vec();
    csv.extend(std::iter::repeat_n(b'x', 10 * 1024 * 1024));
    csv.extend_from_slice(b"\nB;court\n");
    let o = open_clients("c.csv", csv).expect("open");
    let rows = rows(o);
    assert_eq!(rows.len(), 2);
    // Excel's own limit for a cell: still longer than any field accepts.
    assert!(matches!(&rows[0].cells[1], Cell::Text(s) if s.len() == 32_767));
    assert_eq!(rows[1].number, 3);
}

#[test]
fn file_on_disk_with_unknown_extension_is_sniffed() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("export");
    std::fs::write(
        &path,
        xlsx(&[(
            "Clients",
            text_rows(&[&["Raison sociale", "SIRET"], &["A", ""]]),
        )]),
    )
    .expect("write");
    let o = open(&path, Tab::Clients, Lang::En).expect("open");
    assert_eq!(o.sheet.as_deref(), Some("Clients"));
    let path = dir.path().join("export.dat");
    let (bytes, _, _) = encoding_rs::WINDOWS_1252.encode("Raison sociale;Ville\nA;Orléans\n");
    std::fs::write(&path, &bytes).expect("write");
    let o = open(&path, Tab::Clients, Lang::En).expect("open");
    assert_eq!(o.encoding, Some("windows-1252"));
    assert_eq!(rows(o)[0].cells[1], text("Orléans"));
}

#[test]
fn windows_1252_detected_even_when_the_accent_is_far_down() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("c.csv");
    let mut s = String::from("Raison sociale;Ville\n");
    for i in 0..50_000 {
        s.push_str(&format!("Client {i};Paris\n"));
    }
    s.push_str("Dernier;Besançon\n");
    let (bytes, _, _) = encoding_rs::WINDOWS_1252.encode(&s);
    std::fs::write(&path, &bytes).expect("write");
    let o = open(&path, Tab::Clients, Lang::En).expect("open");
    assert_eq!(o.encoding, Some("windows-1252"));
    let rows = rows(o);
    assert_eq!(rows.len(), 50_001);
    assert_eq!(rows[50_000].cells[1], text("Besançon"));
    assert_eq!(rows[50_000].number, 50_002);
}

#[test]
fn dropping_the_rows_early_does_not_hang() {
    let mut s = String::from("Raison sociale;Ville\n");
    for i in 0..100_000 {
        s.push_str(&format!("Client {i};Paris\n"));
    }
    let mut o = open_clients("c.csv", s.into_bytes()).expect("open");
    assert!(o.rows.next().is_some());
    drop(o);
}

#[test]
fn a_missing_file_is_unreadable_input() {
    let dir = tempfile::tempdir().expect("tempdir");
    let r = open(&dir.path().join("absent.csv"), Tab::Clients, Lang::En);
    assert_eq!(unusable_code(r), "file.unreadable");
    assert!(!has_contacts(&dir.path().join("absent.xlsx")));
}

/// Found by fuzzing (fuzz/artifacts of `xlsx_reader`, "row 1 after 2"): a sheet whose rows
/// go back (row 3's cells, then row 2's, then row 3's again) made two records of one
/// spreadsheet row, with repeated or decreasing row numbers. Such a file is refused at the
/// row that goes back (the row being read when it happens is not handed out).
#[test]
fn xlsx_rows_out_of_order_end_with_an_error() {
    let book = xlsx(&[(
        "Clients",
        text_rows(&[&["Raison sociale", "SIRET"], &["A", "1"], &["B", "2"]]),
    )]);
    let shuffled = rewrite(&book, "xl/worksheets/sheet1.xml", |s| {
        // Move row 2 after row 3.
        let (Some(a), Some(b), Some(end)) = (
            s.find("<row r=\"2\""),
            s.find("<row r=\"3\""),
            s.find("</sheetData>"),
        ) else {
            panic!("unexpected sheet XML: {s}");
        };
        format!("{}{}{}{}", &s[..a], &s[b..end], &s[a..b], &s[end..])
    });
    let o = open_clients("c.xlsx", shuffled).expect("header readable");
    let results: Vec<_> = o.rows.collect();
    let numbers: Vec<u32> = results
        .iter()
        .filter_map(|r| r.as_ref().ok().map(|row| row.number))
        .collect();
    assert!(numbers.is_empty(), "{results:?}");
    let last = results.last().expect("an error at the end");
    assert!(
        matches!(last, Err(PackError::Unusable(i)) if i.code == "file.unreadable" && i.row == Some(2) && i.message.contains("out of order")),
        "{last:?}"
    );
}
