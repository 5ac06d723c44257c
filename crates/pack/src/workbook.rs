//! Workbooks (XLSX, XLS, ODS) through calamine: sheet choice and row producers.

use crate::error::PackError;
use crate::headers::{unreadable, unreadable_io};
use crate::limits::{self, text_cell};
use crate::rows::{RawRow, Tab};
use crate::source::{spawn, Format, ReadSeek, RowStream, Sink, Source};
use crate::zipguard;
use calamine::{open_workbook_from_rs, Data, DataRef, Ods, Reader, SheetType, Xls, Xlsx};
use clientele_core::catalogue::fold;
use clientele_core::issue::Lang;
use clientele_core::messages;
use clientele_core::msg;
use clientele_core::Cell;
use std::panic::{catch_unwind, AssertUnwindSafe};

/// Excel's last column is XFD (index 16383); a cell reference beyond it is damage.
const MAX_COLUMNS: usize = 16_384;

type Rs = Box<dyn ReadSeek>;

/// An opened workbook of one of the formats calamine reads.
pub(crate) enum Book {
    Xlsx(Xlsx<Rs>),
    Xls(Xls<Rs>),
    Ods(Ods<Rs>),
}

impl Book {
    /// Open a workbook; any failure (or panic in the parser) is `file.unreadable`.
    pub(crate) fn load(src: &Source, format: Format, lang: Lang) -> Result<Book, PackError> {
        if format == Format::Xls {
            guard_xls_dimensions(src, lang)?;
        } else {
            zipguard::guard_zip(src, format, lang)?;
        }
        let rs = src.seekable().map_err(|e| unreadable_io(lang, &e))?;
        let opened = catch_unwind(AssertUnwindSafe(|| match format {
            Format::Xls => open_workbook_from_rs::<Xls<Rs>, Rs>(rs)
                .map(Book::Xls)
                .map_err(|e| e.to_string()),
            Format::Ods => open_workbook_from_rs::<Ods<Rs>, Rs>(rs)
                .map(Book::Ods)
                .map_err(|e| e.to_string()),
            _ => open_workbook_from_rs::<Xlsx<Rs>, Rs>(rs)
                .map(Book::Xlsx)
                .map_err(|e| e.to_string()),
        }));
        match opened {
            Ok(Ok(book)) => Ok(book),
            Ok(Err(msg)) => Err(PackError::Unusable(damaged(lang, format, &msg))),
            Err(_) => Err(PackError::Unusable(unreadable(
                lang,
                &msg!(lang, "pack.workbook_malformed"),
            ))),
        }
    }

    /// Names of the worksheets (chart sheets and macro sheets left out), in workbook order.
    pub(crate) fn sheet_names(&self) -> Vec<String> {
        let meta = match self {
            Book::Xlsx(b) => b.sheets_metadata(),
            Book::Xls(b) => b.sheets_metadata(),
            Book::Ods(b) => b.sheets_metadata(),
        };
        meta.iter()
            .filter(|s| s.typ == SheetType::WorkSheet)
            .map(|s| s.name.clone())
            .collect()
    }

    /// The sheet holding a tab: `Clients` (else the first sheet that is not `Contacts`) or
    /// `Contacts`.
    pub(crate) fn choose_sheet(&self, tab: Tab, lang: Lang) -> Result<String, PackError> {
        let names = self.sheet_names();
        let wanted = match tab {
            Tab::Clients => "clients",
            Tab::Contacts => "contacts",
        };
        if let Some(n) = names.iter().find(|n| fold(n) == wanted) {
            return Ok(n.clone());
        }
        // Without a Clients sheet, the first sheet that is not the Contacts tab.
        let first = names
            .iter()
            .find(|n| fold(n) != "contacts")
            .or(names.first());
        match (tab, first) {
            (Tab::Clients, Some(first)) => Ok(first.clone()),
            (Tab::Clients, None) => Err(PackError::Unusable(unreadable(
                lang,
                &msg!(lang, "pack.no_sheet"),
            ))),
            (Tab::Contacts, _) => Err(PackError::Unusable(unreadable(
                lang,
                &msg!(lang, "pack.no_contacts_sheet"),
            ))),
        }
    }

    /// Stream the rows of one sheet on the reader thread.
    pub(crate) fn rows(self, sheet: String, lang: Lang) -> Result<RowStream, PackError> {
        spawn(lang, move |sink| match self {
            Book::Xlsx(mut b) => xlsx_rows(&mut b, &sheet, sink, lang),
            Book::Xls(mut b) => range_rows(
                b.worksheet_range(&sheet).map_err(|e| e.to_string()),
                Format::Xls,
                sink,
                lang,
            ),
            Book::Ods(mut b) => range_rows(
                b.worksheet_range(&sheet).map_err(|e| e.to_string()),
                Format::Ods,
                sink,
                lang,
            ),
        })
    }
}

/// A workbook calamine cannot open, said in the user's words: the library's message
/// ("Zip error: invalid Zip archive: Could not find EOCD") means nothing to the staff.
fn damaged(lang: Lang, format: Format, msg: &str) -> clientele_core::Issue {
    let lower = msg.to_ascii_lowercase();
    let id = match format {
        Format::Xls if lower.contains("workbook") || lower.contains("stream") => {
            "pack.xls_other_document"
        }
        Format::Xls => "pack.xls_damaged",
        Format::Ods => "pack.ods_damaged",
        _ if lower.contains("password") || lower.contains("encrypt") => "pack.password",
        _ => "pack.xlsx_damaged",
    };
    unreadable(lang, &messages::text(lang, id))
}

/// XLSX: cell by cell from the sheet XML. The declared `dimension` is never used to size
/// anything, and only one row is held at a time.
fn xlsx_rows(book: &mut Xlsx<Rs>, sheet: &str, mut sink: Sink, lang: Lang) {
    let mut reader = match book.worksheet_cells_reader(sheet) {
        Ok(r) => r,
        Err(e) => {
            return sink.fail(PackError::Unusable(damaged(
                lang,
                Format::Xlsx,
                &e.to_string(),
            )))
        }
    };
    let mut current: Option<u32> = None;
    let mut cells: Vec<Cell> = Vec::new();
    // Text of the row being built: it is cut before it grows past the row budget.
    let mut row_bytes = 0usize;
    loop {
        match reader.next_cell() {
            Ok(Some(c)) => {
                let (row, col) = c.get_position();
                let value = from_ref(c.get_value());
                // Styled empty cells (often thousands of them) make no row and take no room.
                if value == Cell::Empty {
                    continue;
                }
                if current != Some(row) {
                    // Rows come in ascending order in every workbook a spreadsheet writes; a
                    // row met again after a later one would be split into two records
                    // (found by fuzzing), so such a file is refused.
                    if current.is_some_and(|r| row < r) {
                        let mut issue = unreadable(lang, &msg!(lang, "pack.rows_out_of_order"));
                        issue.row = Some(row.saturating_add(1));
                        return sink.fail(PackError::Unusable(issue));
                    }
                    if let Some(r) = current {
                        // The next row is likely as wide: sized at once, it is not grown
                        // cell by cell (five reallocations a row of a 30-column pack).
                        let width = cells.len();
                        if !sink.push(RawRow {
                            number: r.saturating_add(1),
                            cells: std::mem::replace(&mut cells, Vec::with_capacity(width)),
                        }) {
                            return;
                        }
                    }
                    current = Some(row);
                    row_bytes = 0;
                }
                let col = col as usize;
                if col >= MAX_COLUMNS {
                    continue;
                }
                row_bytes += limits::cell_bytes(&value);
                if row_bytes > limits::MAX_ROW_BYTES {
                    return sink.fail(limits::row_too_large(lang, row.saturating_add(1)));
                }
                if cells.len() <= col {
                    cells.resize(col + 1, Cell::Empty);
                }
                cells[col] = value;
            }
            Ok(None) => break,
            Err(_) => {
                if let Some(r) = current {
                    sink.push(RawRow {
                        number: r.saturating_add(1),
                        cells,
                    });
                }
                let mut issue = unreadable(lang, &msg!(lang, "pack.sheet_damaged"));
                issue.row = current.map(|r| r.saturating_add(2));
                return sink.fail(PackError::Unusable(issue));
            }
        }
    }
    if let Some(r) = current {
        sink.push(RawRow {
            number: r.saturating_add(1),
            cells,
        });
    }
}

/// XLS and ODS: calamine only reads them whole; the range is sized by real cells.
fn range_rows(
    range: Result<calamine::Range<Data>, String>,
    format: Format,
    mut sink: Sink,
    lang: Lang,
) {
    let range = match range {
        Ok(r) => r,
        Err(msg) => return sink.fail(PackError::Unusable(damaged(lang, format, &msg))),
    };
    let Some((row0, col0)) = range.start() else {
        return;
    };
    let col0 = (col0 as usize).min(MAX_COLUMNS);
    for (i, row) in range.rows().enumerate() {
        let mut cells = vec![Cell::Empty; col0];
        cells.extend(row.iter().take(MAX_COLUMNS - col0).map(from_data));
        let number = row0
            .saturating_add(u32::try_from(i).unwrap_or(u32::MAX))
            .saturating_add(1);
        if !sink.push(RawRow { number, cells }) {
            return;
        }
    }
}

/// A streamed XLSX cell as a raw cell; dates become their text (see [`date_cell`]).
fn from_ref(d: &DataRef<'_>) -> Cell {
    match d {
        DataRef::Int(i) => Cell::Int(*i),
        DataRef::Float(f) => Cell::Float(*f),
        DataRef::String(s) | DataRef::DateTimeIso(s) | DataRef::DurationIso(s) => text_cell(s),
        // One shared string may be shown by thousands of cells: cut before copying.
        DataRef::SharedString(s) => text_cell(s),
        DataRef::Bool(b) => Cell::Bool(*b),
        DataRef::DateTime(dt) => date_cell(dt),
        DataRef::Error(e) => Cell::Error(e.to_string().into()),
        DataRef::Empty => Cell::Empty,
    }
}

/// No column of a pack holds a date: a date cell is a mistake, shown as the date the user
/// sees ("2024-01-02", with the time when there is one) so that the report says what is
/// wrong and a text column keeps what was typed, rather than Excel's serial number
/// (45293) taken for an amount or a postal code. Durations stay numbers.
fn date_cell(dt: &calamine::ExcelDateTime) -> Cell {
    if !dt.is_datetime() {
        return Cell::Float(dt.as_f64());
    }
    let (y, mo, d, h, mi, s, _) = dt.to_ymd_hms_milli();
    let text = if (h, mi, s) == (0, 0, 0) {
        format!("{y:04}-{mo:02}-{d:02}")
    } else {
        format!("{y:04}-{mo:02}-{d:02} {h:02}:{mi:02}")
    };
    Cell::Text(text.into())
}

/// An XLS/ODS cell as a raw cell; dates become their text (see [`date_cell`]).
fn from_data(d: &Data) -> Cell {
    match d {
        Data::Int(i) => Cell::Int(*i),
        Data::Float(f) => Cell::Float(*f),
        Data::String(s) | Data::DateTimeIso(s) | Data::DurationIso(s) => text_cell(s),
        Data::Bool(b) => Cell::Bool(*b),
        Data::DateTime(dt) => date_cell(dt),
        Data::Error(e) => Cell::Error(e.to_string().into()),
        Data::Empty => Cell::Empty,
    }
}

/// calamine reserves memory for the size an XLS sheet declares (its DIMENSIONS record)
/// before reading any cell, and a forged size aborts the process. BIFF caps a sheet at
/// 65,536 rows × 256 columns, so a record declaring more marks a damaged or hostile file.
fn guard_xls_dimensions(src: &Source, lang: Lang) -> Result<(), PackError> {
    let bytes = match src {
        Source::Bytes(b) => std::borrow::Cow::Borrowed(b.0.as_slice()),
        Source::Path(p) => {
            std::borrow::Cow::Owned(std::fs::read(p).map_err(|e| unreadable_io(lang, &e))?)
        }
    };
    if absurd_xls_dimensions(&bytes) {
        return Err(PackError::Unusable(unreadable(
            lang,
            &msg!(lang, "pack.impossible_size"),
        )));
    }
    Ok(())
}

fn absurd_xls_dimensions(bytes: &[u8]) -> bool {
    let u16_at = |i: usize| {
        bytes
            .get(i..i + 2)
            .map_or(0, |b| u32::from(u16::from_le_bytes([b[0], b[1]])))
    };
    let u32_at = |i: usize| {
        bytes
            .get(i..i + 4)
            .map_or(0, |b| u32::from_le_bytes([b[0], b[1], b[2], b[3]]))
    };
    let mut i = 0;
    while i + 4 <= bytes.len() {
        if bytes[i] == 0x00 && bytes[i + 1] == 0x02 && bytes[i + 3] == 0x00 {
            let d = i + 4;
            let dims = match bytes[i + 2] {
                0x0E | 0x10 if d + 12 <= bytes.len() => {
                    Some((u32_at(d), u32_at(d + 4), u16_at(d + 10)))
                }
                0x0A if d + 8 <= bytes.len() => Some((u16_at(d), u16_at(d + 2), u16_at(d + 6))),
                _ => None,
            };
            if let Some((first_row, row_end, col_end)) = dims {
                // calamine computes `row_end - 1 - first_row` (cells are row_end > 0).
                if row_end >= 1
                    && col_end >= 1
                    && (row_end > 65_536 || first_row >= row_end || col_end > 256)
                {
                    return true;
                }
            }
        }
        i += 1;
    }
    false
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn xls_dimension_guard() {
        let mut ok = vec![0u8; 8];
        ok.extend_from_slice(&[0x00, 0x02, 0x0E, 0x00]);
        ok.extend_from_slice(&0u32.to_le_bytes());
        ok.extend_from_slice(&3u32.to_le_bytes());
        ok.extend_from_slice(&0u16.to_le_bytes());
        ok.extend_from_slice(&5u16.to_le_bytes());
        ok.extend_from_slice(&[0, 0]);
        assert!(!absurd_xls_dimensions(&ok));
        let mut bad = ok.clone();
        bad[16..20].copy_from_slice(&4_000_000_000u32.to_le_bytes());
        assert!(absurd_xls_dimensions(&bad));
        let mut cols = ok;
        cols[22..24].copy_from_slice(&60_000u16.to_le_bytes());
        assert!(absurd_xls_dimensions(&cols));
    }
}
