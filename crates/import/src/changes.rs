//! Every field change of every update of a run, one line per changed field, streamed to a
//! file as the rows are checked: the report lists only the first ones (its size is bounded),
//! this list has them all whatever their number, and memory does not grow with it.
//!
//! The file is a compact CSV for programs ([`RAW_HEADINGS`]: comma-separated, values
//! exactly as stored and as they would be written, no escaping for spreadsheets), kept by
//! the web pages with the upload and read back by [`scan`]. The customer's columns (row,
//! id, account, names, identity) are written on the first line of its update only, the
//! next lines leaving them empty: for an 8 MB pack of 50,000 rows each changing 11 fields,
//! the list is then 27 MB rather than about 50. For people it is turned into a
//! CSV as French Excel opens it ([`to_csv`]) or a workbook ([`to_xlsx`]), with headings and
//! field names in their language: keeping the raw form lets one list be downloaded in the
//! language of whoever reads it, and keeps values that start like a formula exact.

use crate::RunError;
use clientele_core::catalogue::{Field, FIELDS};
use clientele_core::messages;
use clientele_core::model::FieldChange;
use clientele_core::{msg, Lang};
use clientele_pack::{CsvTable, TableCell, XlsxTable};
use std::fs::File;
use std::io::{BufWriter, Read, Write};
use std::path::{Path, PathBuf};

/// The heading row of the raw list, in its column order.
pub const RAW_HEADINGS: [&str; 9] = [
    "row",
    "id",
    "account",
    "nameBefore",
    "nameAfter",
    "field",
    "before",
    "after",
    "identity",
];

/// One changed field of an updated customer, as read back from the raw list.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ChangeRef<'a> {
    /// Row of the pack.
    pub row: u32,
    /// Customer id.
    pub id: i64,
    /// Customer account (as stored before the update; may be empty).
    pub account: &'a str,
    /// Company name before the update.
    pub name_before: &'a str,
    /// Company name after the update (the same when the name does not change).
    pub name_after: &'a str,
    /// Pack key of the field.
    pub field: &'a str,
    /// Stored value (empty: none).
    pub before: &'a str,
    /// Value after the update (empty: none).
    pub after: &'a str,
    /// The update makes the customer another company (`customerAccount.identity_changed`):
    /// every line of that update says so.
    pub identity: bool,
}

/// The raw list being written during a run.
pub(crate) struct ChangeLog {
    path: PathBuf,
    w: csv::Writer<BufWriter<File>>,
}

impl ChangeLog {
    /// Create (or truncate) the list at `path`, with its heading row.
    pub(crate) fn create(path: &Path) -> Result<ChangeLog, RunError> {
        let file = File::create(path).map_err(|e| cannot_write(path, e))?;
        let mut w = csv::Writer::from_writer(BufWriter::with_capacity(1 << 16, file));
        w.write_record(RAW_HEADINGS)
            .map_err(|e| cannot_write(path, e))?;
        Ok(ChangeLog {
            path: path.to_path_buf(),
            w,
        })
    }

    /// The lines of one updated customer.
    pub(crate) fn update(
        &mut self,
        row: u32,
        id: i64,
        account: Option<&str>,
        name: Option<&str>,
        fields: &[FieldChange],
        identity: bool,
    ) -> Result<(), RunError> {
        let name_before = name.unwrap_or_default();
        let name_after = fields
            .iter()
            .find(|c| c.field == Field::name.key())
            .map_or(name_before, |c| c.after.as_deref().unwrap_or_default());
        let (row, id) = (row.to_string(), id.to_string());
        for (i, c) in fields.iter().enumerate() {
            // The customer's columns on the update's first line only (see the module).
            let customer = if i == 0 {
                [
                    row.as_str(),
                    id.as_str(),
                    account.unwrap_or_default(),
                    name_before,
                    name_after,
                ]
            } else {
                [""; 5]
            };
            let identity = if i == 0 && identity { "1" } else { "" };
            let value = [
                c.field,
                c.before.as_deref().unwrap_or_default(),
                c.after.as_deref().unwrap_or_default(),
                identity,
            ];
            self.w
                .write_record(customer.iter().chain(&value))
                .map_err(|e| cannot_write(&self.path, e))?;
        }
        Ok(())
    }

    /// Flush the list to its file.
    pub(crate) fn finish(self) -> Result<(), RunError> {
        let ChangeLog { path, w } = self;
        let mut inner = w.into_inner().map_err(|e| cannot_write(&path, e.error()))?;
        inner.flush().map_err(|e| cannot_write(&path, e))
    }
}

fn cannot_write(path: &Path, e: impl std::fmt::Display) -> RunError {
    RunError::Io(format!(
        "cannot write the list of changes to {}: {e}",
        path.display()
    ))
}

/// Read a raw list line by line, calling `each` on every change in file order. An
/// unreadable list (not one this module wrote) is an error, never a panic.
pub fn scan(raw: impl Read, mut each: impl FnMut(&ChangeRef<'_>)) -> Result<(), RunError> {
    let bad = |what: &str| RunError::Io(format!("the list of changes is damaged: {what}"));
    let mut r = csv::ReaderBuilder::new().has_headers(true).from_reader(raw);
    let heads = r.headers().map_err(|e| bad(&e.to_string()))?;
    if heads.iter().ne(RAW_HEADINGS) {
        return Err(bad("unknown headings"));
    }
    // The first line of the update being read (its customer's columns) and the line read.
    let mut head = csv::StringRecord::new();
    let mut line = csv::StringRecord::new();
    while r.read_record(&mut line).map_err(|e| bad(&e.to_string()))? {
        let first = !line.get(0).unwrap_or_default().is_empty();
        if first {
            std::mem::swap(&mut head, &mut line);
        } else if head.is_empty() {
            return Err(bad("a line without its customer"));
        }
        let value = if first { &head } else { &line };
        let customer = |i: usize| head.get(i).unwrap_or_default();
        let value = |i: usize| value.get(i).unwrap_or_default();
        let c = ChangeRef {
            row: customer(0).parse().map_err(|_| bad("row"))?,
            id: customer(1).parse().map_err(|_| bad("id"))?,
            account: customer(2),
            name_before: customer(3),
            name_after: customer(4),
            field: value(5),
            before: value(6),
            after: value(7),
            identity: customer(8) == "1",
        };
        each(&c);
    }
    Ok(())
}

/// A field's name for people in `lang`, from its pack key (the key itself when unknown).
pub fn field_label(lang: Lang, key: &str) -> &str {
    FIELDS
        .iter()
        .find(|d| d.pack_key == key)
        .map_or(key, |d| messages::field_label(lang, d))
}

/// The headings of the lists for people, in `lang`.
fn headings(lang: Lang) -> Vec<String> {
    vec![
        msg!(lang, "import.changes_row"),
        msg!(lang, "import.changes_account"),
        msg!(lang, "import.changes_name_before"),
        msg!(lang, "import.changes_name_after"),
        msg!(lang, "import.changes_field_key"),
        msg!(lang, "import.changes_field"),
        msg!(lang, "import.changes_before"),
        msg!(lang, "import.changes_after"),
        msg!(lang, "import.changes_identity"),
    ]
}

/// Every change of a raw list through `write`, as the cells of a table for people.
fn each_line(
    raw: impl Read,
    lang: Lang,
    mut write: impl FnMut(&[TableCell<'_>]) -> Result<(), String>,
) -> Result<(), RunError> {
    let yes = msg!(lang, "common.yes");
    let mut failed = None;
    scan(raw, |c| {
        if failed.is_some() {
            return;
        }
        let field = FIELDS.iter().find(|d| d.pack_key == c.field).map(|d| d.id);
        let cells = [
            TableCell::Number(u64::from(c.row)),
            TableCell::Text(Some(Field::customerAccount), c.account),
            TableCell::Text(Some(Field::name), c.name_before),
            TableCell::Text(Some(Field::name), c.name_after),
            TableCell::Text(None, c.field),
            TableCell::Text(None, field_label(lang, c.field)),
            TableCell::Text(field, c.before),
            TableCell::Text(field, c.after),
            TableCell::Text(None, if c.identity { &yes } else { "" }),
        ];
        if let Err(e) = write(&cells) {
            failed = Some(e);
        }
    })?;
    failed.map_or(Ok(()), |e| Err(RunError::Io(e)))
}

/// A raw list as CSV for people (UTF-8 with BOM, `;`, formula-safe as the exports), headings
/// and field names in `lang`, written to `out`.
pub fn to_csv<W: Write>(raw: impl Read, lang: Lang, out: W) -> Result<W, RunError> {
    let heads = headings(lang);
    let heads: Vec<&str> = heads.iter().map(String::as_str).collect();
    let io = |e: clientele_pack::PackError| RunError::Io(e.to_string());
    let mut t = CsvTable::new(out, &heads).map_err(io)?;
    each_line(raw, lang, |cells| t.write(cells).map_err(|e| e.to_string()))?;
    t.finish().map_err(io)
}

/// A raw list as a workbook for people (one sheet, more past Excel's row limit), headings
/// and field names in `lang`; the caller saves it to a file or to bytes.
pub fn to_xlsx(raw: impl Read, lang: Lang) -> Result<XlsxTable, RunError> {
    let heads = headings(lang);
    let heads: Vec<&str> = heads.iter().map(String::as_str).collect();
    let io = |e: clientele_pack::PackError| RunError::Io(e.to_string());
    let mut t = XlsxTable::new(&msg!(lang, "import.changes_sheet"), &heads).map_err(io)?;
    each_line(raw, lang, |cells| t.write(cells).map_err(|e| e.to_string()))?;
    Ok(t)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn change(field: &'static str, before: &str, after: &str) -> FieldChange {
        let some = |s: &str| (!s.is_empty()).then(|| s.to_string());
        FieldChange {
            field,
            before: some(before),
            after: some(after),
        }
    }

    #[test]
    fn a_list_reads_back_and_converts_for_people() {
        let dir = tempfile::tempdir().expect("dir");
        let path = dir.path().join("changes.csv");
        let mut log = ChangeLog::create(&path).expect("create");
        let renamed = [
            change("name", "Alpha", "=Beta, \"new\""),
            change("postalCode", "", "75001"),
        ];
        log.update(5, 42, Some("CL01"), Some("Alpha"), &renamed, true)
            .expect("write");
        log.update(
            6,
            43,
            None,
            Some("Gamma"),
            &[change("phone", "+33123", "")],
            false,
        )
        .expect("write");
        log.finish().expect("finish");
        let raw = std::fs::read(&path).expect("read");

        let mut got = Vec::new();
        scan(raw.as_slice(), |c| {
            got.push((
                c.row,
                c.id,
                c.account.to_string(),
                c.name_before.to_string(),
                c.name_after.to_string(),
                c.field.to_string(),
                c.before.to_string(),
                c.after.to_string(),
                c.identity,
            ));
        })
        .expect("scan");
        let s = |x: &str| x.to_string();
        assert_eq!(got.len(), 3);
        assert_eq!(
            got[0],
            (
                5,
                42,
                s("CL01"),
                s("Alpha"),
                s("=Beta, \"new\""),
                s("name"),
                s("Alpha"),
                s("=Beta, \"new\""),
                true
            )
        );
        // The second line of an update carries its customer's columns.
        assert_eq!(
            got[1],
            (
                5,
                42,
                s("CL01"),
                s("Alpha"),
                s("=Beta, \"new\""),
                s("postalCode"),
                s(""),
                s("75001"),
                true
            )
        );
        assert_eq!(got[2].2, "");
        assert_eq!((got[2].3.as_str(), got[2].4.as_str()), ("Gamma", "Gamma"));
        assert!(!got[2].8);

        let csv = to_csv(raw.as_slice(), Lang::En, Vec::new()).expect("csv");
        let csv = String::from_utf8(csv).expect("utf-8");
        let lines: Vec<&str> = csv.split("\r\n").collect();
        assert!(
            lines[0].starts_with("\u{feff}Row;Customer account;"),
            "{}",
            lines[0]
        );
        // A value that would start a formula is escaped; a phone number is not.
        assert!(lines[1].contains("\"'=Beta, \"\"new\"\"\""), "{}", lines[1]);
        assert!(lines[1].ends_with(";Yes"), "{}", lines[1]);
        assert!(lines[3].contains("phone;Phone;+33123;;"), "{}", lines[3]);

        let xlsx = to_xlsx(raw.as_slice(), Lang::Fr)
            .expect("xlsx")
            .save_to_buffer()
            .expect("bytes");
        assert!(xlsx.starts_with(b"PK"));
        assert!(scan(&b"a,b\n1,2\n"[..], |_| {}).is_err());
        let orphan = format!("{}\n,,,,,name,A,B,\n", RAW_HEADINGS.join(","));
        assert!(scan(orphan.as_bytes(), |_| {}).is_err());
    }
}
