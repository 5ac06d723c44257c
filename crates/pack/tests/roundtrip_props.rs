//! Property test: customers go out through the exporters (CSV and XLSX) and come back in
//! through the reader and validation unchanged, field by field (the E.164 forms of their
//! phone numbers included). The customers are made the way the import makes them: cells
//! of every kind (free text with awkward characters, identifiers, numbers, booleans…)
//! validated by `parse_cells`; fields that fail validation are left at their default, as a
//! stored customer would have them.

use clientele_core::catalogue::{Field, Kind, FIELDS, N_FIELDS};
use clientele_core::issue::{Lang, Severity};
use clientele_core::model::{default_value, Customer};
use clientele_core::validate::{pad_postal_code, parse_cells, Cell, Cells};
use clientele_pack::{open_bytes, CsvExporter, Tab, XlsxExporter};
use proptest::prelude::*;

/// Texts a user may type for each kind of field (valid and not).
fn samples(kind: Kind) -> &'static [&'static str] {
    match kind {
        Kind::Siret => &[
            "73282932000074",
            "732 829 320 00074",
            "732829320",
            "HRB 12345",
            "2.9141777263178E+13",
            "00012345600017",
        ],
        Kind::Vat => &[
            "FR46443121975",
            "fr 46 443.121-975",
            "DE136695976",
            "BE0202239951",
            "XI980780684",
        ],
        Kind::LegalForm => &["SAS", "sarl", "Société anonyme", "GmbH"],
        Kind::Capital => &["10000", "10 000,50 €", "10.000", "0", "1e3", "007"],
        Kind::Naf => &["62.01Z", "6201z", "62 01 Z"],
        Kind::Int(..) => &["1", "2.0", "42", "-1", "99"],
        Kind::PostalCode => &["75001", "6000", "1000", "SW1A 1AA"],
        Kind::Country => &["France", "fr", "Belgique", "République française", "DE"],
        Kind::Url => &[
            "www.example.fr",
            "https://example.fr/a?b=c",
            "HTTP://Example.fr",
        ],
        Kind::Phone => &[
            "06 12 34 56 78",
            "+33 (0)1 40 00 00 46",
            "0590 12 34 56",
            "3615",
            "+44 20 7946 0958",
            "612345678",
        ],
        Kind::Email => &["contact@example.fr", "a.b@c.d"],
        Kind::Bool => &["oui", "Non", "1", "0", "TRUE", "y"],
        Kind::Language => &["fr", "English", "FRA"],
        Kind::Account | Kind::Text(_) => &[
            "Dupont & fils",
            "=1+1",
            "'=SUM(A1)",
            "''=x",
            "-5",
            "+33 1",
            "@home",
            "Müller; \"SA\"",
            " padded ",
        ],
    }
}

fn cell_strategy(kind: Kind) -> BoxedStrategy<Option<Cell>> {
    let sample = prop::sample::select(samples(kind)).prop_map(|s| Some(Cell::Text(s.into())));
    prop_oneof![
        3 => sample,
        2 => "[ -~éüÀ€'\"=+@;,\\-]{0,24}".prop_map(|s| Some(Cell::Text(s.as_str().into()))),
        1 => (0i64..100_000_000_000_000).prop_map(|i| Some(Cell::Int(i))),
        1 => (0.0f64..1e9).prop_map(|f| Some(Cell::Float(f))),
        1 => Just(None),
    ]
    .boxed()
}

fn customer_strategy() -> impl Strategy<Value = Customer> {
    let cells: Vec<BoxedStrategy<Option<Cell>>> =
        FIELDS.iter().map(|d| cell_strategy(d.kind)).collect();
    cells.prop_map(|v| {
        let mut cells: Cells = std::array::from_fn(|_| None);
        for (i, c) in v.into_iter().enumerate().take(N_FIELDS) {
            cells[i] = c;
        }
        stored(cells)
    })
}

/// The customer an import makes of these cells; fields in error keep their default.
fn stored(cells: Cells) -> Customer {
    let (mut rec, mut issues) = parse_cells(cells);
    for i in &issues {
        if i.severity() == Severity::Error {
            rec.values[i.field.idx()] = default_value(i.field);
        }
    }
    let mut c = rec.merge_into(&Customer::new());
    pad_postal_code(&rec.present, &mut c, &mut issues);
    c
}

fn reimport(name: &str, bytes: Vec<u8>) -> Vec<Customer> {
    let mut opened = open_bytes(name, bytes, Tab::Clients, Lang::En).expect("export opens");
    assert!(opened.warnings.is_empty(), "{:?}", opened.warnings);
    let rows = std::mem::replace(&mut opened.rows, Box::new(std::iter::empty()));
    let mut out = Vec::new();
    for row in rows {
        let row = row.expect("row");
        out.push(stored(opened.clients_cells(&row)));
    }
    out
}

fn assert_same(before: &[Customer], after: &[Customer]) -> Result<(), TestCaseError> {
    prop_assert_eq!(before.len(), after.len());
    for (b, a) in before.iter().zip(after) {
        for f in Field::all() {
            prop_assert_eq!(b.get(f), a.get(f), "field {:?}", f);
        }
        prop_assert_eq!(&b.e164, &a.e164);
    }
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 32, failure_persistence: None, ..ProptestConfig::default() })]

    #[test]
    fn csv_export_reimports_unchanged(customers in prop::collection::vec(customer_strategy(), 1..4)) {
        let mut exp = CsvExporter::new(Vec::new()).expect("csv");
        for c in &customers {
            exp.write(c).expect("write");
        }
        let bytes = exp.finish().expect("finish");
        assert_same(&customers, &reimport("export.csv", bytes))?;
    }

    #[test]
    fn xlsx_export_reimports_unchanged(customers in prop::collection::vec(customer_strategy(), 1..4)) {
        let mut exp = XlsxExporter::new();
        for c in &customers {
            exp.write(c).expect("write");
        }
        let bytes = exp.save_to_buffer().expect("xlsx");
        assert_same(&customers, &reimport("export.xlsx", bytes))?;
    }
}
