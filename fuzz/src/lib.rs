//! What the fuzz targets assert, shared by them: a pack that opens has a consistent shape,
//! every row validates without panicking, and a value that validates keeps validating (the
//! same value, no error) when it is read back from its own text.

use clientele_core::catalogue::{F, FIELDS, N_FIELDS};
use clientele_core::ident;
use clientele_core::issue::{Lang, Severity};
use clientele_core::model::{Customer, Value};
use clientele_core::validate::{check_row, pad_postal_code, parse_cells, Cell, Cells};
use clientele_pack::{column_letter, open_bytes, Opened, PackError, Tab};

/// Rows validated per tab at most: the time of one input stays bounded (libFuzzer's
/// `-timeout` catches a reader that loops without producing rows).
const MAX_ROWS: usize = 5_000;

/// Open `data` as a pack named `name`, both tabs, and check everything it produces.
pub fn check_pack(name: &str, data: &[u8]) {
    for tab in [Tab::Clients, Tab::Contacts] {
        match open_bytes(name, data.to_vec(), tab, Lang::En) {
            Ok(opened) => check_opened(opened),
            Err(e) => check_error(&e),
        }
    }
}

/// An unusable file is one `file.*` / `header.*` error issue with a message.
fn check_error(e: &PackError) {
    match e {
        PackError::Unusable(issue) => {
            assert!(
                issue.code.starts_with("file.") || issue.code.starts_with("header."),
                "unexpected code {}",
                issue.code
            );
            assert_eq!(issue.severity, Severity::Error, "{issue:?}");
            assert!(!issue.message.trim().is_empty(), "{issue:?}");
        }
        // Reading bytes from memory has no I/O to fail, and nothing is written.
        other => panic!("unexpected error kind: {other:?}"),
    }
}

fn check_opened(opened: Opened) {
    let is_text = opened.sheet.is_none();
    assert_eq!(is_text, opened.encoding.is_some(), "{opened:?}");
    assert_eq!(is_text, opened.delimiter.is_some(), "{opened:?}");
    assert!(opened.header_row >= 1, "{opened:?}");
    let mut last = None;
    for c in &opened.columns {
        assert!(last.is_none_or(|l| l < c.index), "columns out of order");
        last = Some(c.index);
        assert_eq!(c.letter, column_letter(c.index));
        assert!(!c.header.trim().is_empty(), "blank header kept: {c:?}");
        assert_eq!(c.header.trim(), c.header, "header not trimmed: {c:?}");
    }
    for w in &opened.warnings {
        // Only a column that looks like a field without being mapped is an error here.
        let expected = if w.code == "header.unmapped" {
            Severity::Error
        } else {
            Severity::Warning
        };
        assert_eq!(w.severity, expected, "{w:?}");
        assert!(w.code.starts_with("header."), "{w:?}");
        assert_eq!(w.row, Some(opened.header_row), "{w:?}");
    }
    let width = opened.columns.last().map_or(0, |c| c.index + 1);
    let mut previous = opened.header_row;
    let mut rows = 0;
    let mut opened = opened;
    let mut stream = std::mem::replace(&mut opened.rows, Box::new(std::iter::empty()));
    for row in stream.by_ref() {
        let row = match row {
            Ok(r) => r,
            Err(e) => {
                check_error(&e);
                break;
            }
        };
        assert!(row.number > previous, "row {} after {previous}", row.number);
        previous = row.number;
        assert!(row.cells.len() >= width, "row narrower than the header");
        assert!(!row.cells.iter().all(Cell::is_blank), "blank row produced");
        match opened.tab {
            Tab::Clients => check_cells(opened.into_clients_cells(row)),
            Tab::Contacts => {
                let _ = opened.contact_cells(&row);
            }
        }
        rows += 1;
        if rows >= MAX_ROWS {
            break;
        }
    }
    // An `Err` ends the stream: nothing comes after it.
    drop(stream);
}

/// Validate one row's cells as the import does (a new customer), and check that each value
/// that validated reads back from its own text unchanged and without error.
pub fn check_cells(cells: Cells) {
    let texts: Vec<Option<String>> = cells
        .iter()
        .map(|c| c.as_ref().map(Cell::display))
        .collect();
    let (rec, mut issues) = parse_cells(cells);
    for i in &issues {
        assert!(
            rec.present[i.field.idx()],
            "issue on an absent field: {i:?}"
        );
    }
    let mut merged = rec.merge_into(&Customer::new());
    pad_postal_code(&rec.present, &mut merged, &mut issues);
    check_row(&rec.present, &merged, None, &mut issues);

    for d in FIELDS {
        let f = d.id;
        if !rec.present[f.idx()] {
            continue;
        }
        let failed = issues
            .iter()
            .any(|i| i.field == f && i.severity() == Severity::Error);
        let Some(value) = rec.get(f) else {
            continue;
        };
        if failed {
            continue;
        }
        reparse(f, value);
    }
    for t in texts.into_iter().flatten() {
        check_identifiers(&t);
    }
}

/// A field's validated value, written as text, validates to the same value.
fn reparse(f: F, value: &Value) {
    let text = value.to_text();
    let mut cells: Cells = std::array::from_fn(|_| None);
    cells[f.idx()] = Some(Cell::Text(text.as_str().into()));
    let (again, issues) = parse_cells(cells);
    let errors: Vec<_> = issues
        .iter()
        .filter(|i| i.severity() == Severity::Error)
        .collect();
    assert!(
        errors.is_empty(),
        "{f:?}: the stored value {text:?} no longer validates: {errors:?}"
    );
    assert_eq!(
        again.get(f),
        Some(value),
        "{f:?}: the stored value {text:?} reads back differently"
    );
}

/// Identifier checks on any text: `compact` is idempotent, and the checks judge a number
/// and its compact form alike; a valid VAT number's normal form is valid and its own
/// normal form.
pub fn check_identifiers(t: &str) {
    let c = ident::compact(t);
    assert_eq!(ident::compact(&c), c, "compact not idempotent on {t:?}");
    assert_eq!(
        ident::siren::is_valid(t),
        ident::siren::is_valid(&c),
        "{t:?}"
    );
    assert_eq!(
        ident::siret::is_valid(t),
        ident::siret::is_valid(&c),
        "{t:?}"
    );
    if let Ok(v) = ident::vat::validate(t) {
        assert!(v.number.starts_with(v.country), "{v:?}");
        let again = ident::vat::validate(&v.number)
            .unwrap_or_else(|e| panic!("{t:?} → {:?} does not validate: {e:?}", v.number));
        assert_eq!(again, v, "{t:?}: normal form not stable");
    }
    if ident::postal::is_valid_fr(t) {
        assert!(t.trim().chars().all(|c| c.is_ascii_digit()), "{t:?}");
    }
}

/// Cells of a row from structured fuzz input.
#[derive(Debug, arbitrary::Arbitrary)]
pub enum FuzzCell {
    /// `Cell::Empty`.
    Empty,
    /// `Cell::Text`.
    Text(String),
    /// `Cell::Float`.
    Float(f64),
    /// `Cell::Int`.
    Int(i64),
    /// `Cell::Bool`.
    Bool(bool),
    /// `Cell::Error`.
    Error(String),
}

impl From<FuzzCell> for Cell {
    fn from(c: FuzzCell) -> Cell {
        match c {
            FuzzCell::Empty => Cell::Empty,
            FuzzCell::Text(s) => Cell::Text(s.into()),
            FuzzCell::Float(f) => Cell::Float(f),
            FuzzCell::Int(i) => Cell::Int(i),
            FuzzCell::Bool(b) => Cell::Bool(b),
            FuzzCell::Error(s) => Cell::Error(s.into()),
        }
    }
}

/// A row: (field index, cell) pairs; later pairs win.
pub fn cells_of(pairs: Vec<(u8, FuzzCell)>) -> Cells {
    let mut cells: Cells = std::array::from_fn(|_| None);
    for (i, c) in pairs {
        let i = usize::from(i) % N_FIELDS;
        cells[i] = Some(c.into());
    }
    cells
}

// The files the reader targets make of their inputs, shared with the replay of the kept
// inputs in the normal test suite (crates/pack/tests/fuzz_regressions.rs).
include!("inputs.rs");
