//! Opening a pack: format and sheet choice, header row detection and column matching.

use crate::csvread::{open_text, TextEncoding};
use crate::headers::{unknown_header, unmapped_header, unreadable_io, Schema, CONTACT_FIELDS};
use crate::mapping::{field_from_values, ColumnMap, Target};
use crate::source::{sniff, Format, RowStream, Shared, Source};
use crate::workbook::Book;
use crate::PackError;
use clientele_core::catalogue::fold;
use clientele_core::issue::{Issue, Lang, Problem};
use clientele_core::msg;
use clientele_core::validate::{Cell, Cells};
use std::path::Path;
use std::sync::Arc;

/// Bytes looked at to decide the format, the encoding and the delimiter.
const HEAD_BYTES: usize = 64 * 1024;
/// The header row is searched among this many non-blank rows.
const HEADER_SEARCH_ROWS: usize = 20;
/// Data rows looked at for data in columns without a heading.
const PEEK_ROWS: usize = 100;
/// Columns without a heading reported at most (a file with thousands of them would
/// otherwise make thousands of warnings).
const MAX_NO_HEADING: usize = 20;

/// Which tab to read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Tab {
    /// The customers (sheet `Clients`, else the first sheet; a CSV file).
    Clients,
    /// The contacts (sheet `Contacts`; a CSV file is read as a contacts table).
    Contacts,
}

impl Tab {
    fn schema(self) -> Schema {
        match self {
            Tab::Clients => Schema::Clients,
            Tab::Contacts => Schema::Contacts,
        }
    }
}

/// A column of the header row.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Column {
    /// Index of the column in the sheet (0 = `A`), also the index into [`RawRow::cells`].
    pub index: usize,
    /// Column letter: `A`, `B`, … `AA`.
    pub letter: String,
    /// The header as written (trimmed).
    pub header: String,
    /// The field it matches: an index into `FIELDS` (Clients, i.e. `F::idx()`) or into
    /// [`CONTACT_FIELDS`] (Contacts); `None` for an unknown header (the column is ignored).
    pub field: Option<usize>,
    /// Whether the column mapping decided the field (or that the column is ignored), not
    /// the heading.
    pub mapped: bool,
    /// The first few non-blank values of the column (at most [`SAMPLES`], each cut to 40
    /// characters), for the mapping step.
    pub samples: Vec<String>,
}

/// Sample values kept per column.
pub const SAMPLES: usize = 3;

/// One non-blank data row.
#[derive(Debug, Clone, PartialEq)]
pub struct RawRow {
    /// Row number as the spreadsheet shows it (1-based).
    pub number: u32,
    /// Cells by column index, padded with `Cell::Empty` to at least the header's width.
    pub cells: Vec<Cell>,
}

/// An opened pack tab: what was detected, the columns, and the data rows as a stream.
pub struct Opened {
    /// File name as given (for reports).
    pub file_name: String,
    /// Which tab was read.
    pub tab: Tab,
    /// Sheet read (None for CSV).
    pub sheet: Option<String>,
    /// Text encoding detected: `UTF-8`, `UTF-8 (BOM)`, `UTF-16LE`, `UTF-16BE`,
    /// `windows-1252` (None for workbooks).
    pub encoding: Option<&'static str>,
    /// CSV delimiter detected (None for workbooks).
    pub delimiter: Option<char>,
    /// Header row number (1-based).
    pub header_row: u32,
    /// Non-blank header cells, in column order (unknown ones have `field: None`).
    pub columns: Vec<Column>,
    /// Issues of the header row, located on it: `header.unknown` warnings (one per
    /// unknown column), `header.no_heading` warnings, and `header.unmapped` errors (an
    /// unknown column that looks like a field: nothing may be written until it is mapped).
    pub warnings: Vec<Issue>,
    /// The data rows after the header, in order; wholly blank rows are skipped. Produced
    /// on a reader thread; a damaged file ends with one `Err`.
    pub rows: Box<dyn Iterator<Item = Result<RawRow, PackError>> + Send>,
}

impl std::fmt::Debug for Opened {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Opened")
            .field("file_name", &self.file_name)
            .field("tab", &self.tab)
            .field("sheet", &self.sheet)
            .field("encoding", &self.encoding)
            .field("delimiter", &self.delimiter)
            .field("header_row", &self.header_row)
            .field("columns", &self.columns)
            .field("warnings", &self.warnings)
            .finish_non_exhaustive()
    }
}

impl Opened {
    /// The row's cells arranged by Clients field (None where the file has no such column;
    /// all None when this is the Contacts tab).
    pub fn clients_cells(&self, row: &RawRow) -> Cells {
        let mut out: Cells = std::array::from_fn(|_| None);
        if self.tab != Tab::Clients {
            return out;
        }
        for c in &self.columns {
            if let Some(slot) = c.field.and_then(|f| out.get_mut(f)) {
                *slot = Some(row.cells.get(c.index).cloned().unwrap_or(Cell::Empty));
            }
        }
        out
    }

    /// Same as [`Opened::clients_cells`], moving the cells out of the row (no copy).
    pub fn into_clients_cells(&self, mut row: RawRow) -> Cells {
        let mut out: Cells = std::array::from_fn(|_| None);
        if self.tab != Tab::Clients {
            return out;
        }
        for c in &self.columns {
            if let Some(slot) = c.field.and_then(|f| out.get_mut(f)) {
                *slot = Some(
                    row.cells
                        .get_mut(c.index)
                        .map(|c| std::mem::replace(c, Cell::Empty))
                        .unwrap_or(Cell::Empty),
                );
            }
        }
        out
    }

    /// The row's cells arranged by Contacts field ([`CONTACT_FIELDS`] order; all None when
    /// this is the Clients tab).
    pub fn contact_cells(&self, row: &RawRow) -> Vec<Option<Cell>> {
        let mut out = vec![None; CONTACT_FIELDS.len()];
        if self.tab != Tab::Contacts {
            return out;
        }
        for c in &self.columns {
            if let Some(slot) = c.field.and_then(|f| out.get_mut(f)) {
                *slot = Some(row.cells.get(c.index).cloned().unwrap_or(Cell::Empty));
            }
        }
        out
    }

    /// The column of a field, if the file has it.
    pub fn column_of(&self, field: usize) -> Option<&Column> {
        self.columns.iter().find(|c| c.field == Some(field))
    }
}

/// Column letter of a 0-based index: 0 → `A`, 25 → `Z`, 26 → `AA`.
pub fn column_letter(index: usize) -> String {
    let mut n = index + 1;
    let mut out = Vec::new();
    while n > 0 {
        let r = (n - 1) % 26;
        out.push(b'A' + r as u8);
        n = (n - 1) / 26;
    }
    out.iter().rev().map(|&b| b as char).collect()
}

/// Open a pack file. The format is judged from the content (zip → XLSX or ODS, OLE → XLS,
/// else text) and then the extension.
pub fn open(path: &Path, tab: Tab, lang: Lang) -> Result<Opened, PackError> {
    open_mapped(path, tab, lang, &ColumnMap::new())
}

/// [`open`] with a column mapping (applied to the Clients tab).
pub fn open_mapped(
    path: &Path,
    tab: Tab,
    lang: Lang,
    map: &ColumnMap,
) -> Result<Opened, PackError> {
    let name = path.file_name().map_or_else(
        || path.display().to_string(),
        |n| n.to_string_lossy().into_owned(),
    );
    open_source(name, Source::Path(path.to_path_buf()), tab, lang, map)
}

/// Open a pack from its bytes (an HTTP upload); `name` gives the extension and the report's
/// file name.
pub fn open_bytes(name: &str, bytes: Vec<u8>, tab: Tab, lang: Lang) -> Result<Opened, PackError> {
    open_bytes_mapped(name, bytes, tab, lang, &ColumnMap::new())
}

/// [`open_bytes`] with a column mapping (applied to the Clients tab).
pub fn open_bytes_mapped(
    name: &str,
    bytes: Vec<u8>,
    tab: Tab,
    lang: Lang,
    map: &ColumnMap,
) -> Result<Opened, PackError> {
    open_source(
        name.to_string(),
        Source::Bytes(Shared(Arc::new(bytes))),
        tab,
        lang,
        map,
    )
}

/// Whether a workbook has a Contacts sheet (false for CSV and unreadable files).
pub fn has_contacts(path: &Path) -> bool {
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    source_has_contacts(&name, &Source::Path(path.to_path_buf()))
}

/// Whether an uploaded workbook has a Contacts sheet (false for CSV and unreadable files).
pub fn has_contacts_bytes(name: &str, bytes: &[u8]) -> bool {
    source_has_contacts(name, &Source::Bytes(Shared(Arc::new(bytes.to_vec()))))
}

fn source_has_contacts(name: &str, src: &Source) -> bool {
    let Ok(head) = src.head(HEAD_BYTES) else {
        return false;
    };
    match sniff(name, &head, Lang::En) {
        Ok(Format::Text) | Err(_) => false,
        Ok(format) => Book::load(src, format, Lang::En)
            .map(|b| b.sheet_names().iter().any(|n| fold(n) == "contacts"))
            .unwrap_or(false),
    }
}

/// The raw rows of a tab (every non-blank row, header and title rows included), with what
/// was detected. Shared by [`open`] and the annotated copy.
pub(crate) struct RawTab {
    pub(crate) sheet: Option<String>,
    pub(crate) encoding: Option<TextEncoding>,
    pub(crate) delimiter: Option<u8>,
    pub(crate) rows: RowStream,
}

pub(crate) fn raw_tab(name: &str, src: Source, tab: Tab, lang: Lang) -> Result<RawTab, PackError> {
    let head = src.head(HEAD_BYTES).map_err(|e| unreadable_io(lang, &e))?;
    match sniff(name, &head, lang)? {
        Format::Text => {
            let (info, rows) = open_text(src, &head, tab.schema(), lang)?;
            Ok(RawTab {
                sheet: None,
                encoding: Some(info.encoding),
                delimiter: Some(info.delimiter),
                rows,
            })
        }
        format => {
            let book = Book::load(&src, format, lang)?;
            let sheet = book.choose_sheet(tab, lang)?;
            let rows = book.rows(sheet.clone(), lang)?;
            Ok(RawTab {
                sheet: Some(sheet),
                encoding: None,
                delimiter: None,
                rows,
            })
        }
    }
}

fn open_source(
    file_name: String,
    src: Source,
    tab: Tab,
    lang: Lang,
    map: &ColumnMap,
) -> Result<Opened, PackError> {
    let schema = tab.schema();
    // The mapping names Clients fields; the Contacts tab keeps its headings.
    let mapping = |text: &str| match tab {
        Tab::Clients => map.get(text),
        Tab::Contacts => None,
    };
    let RawTab {
        sheet,
        encoding,
        delimiter,
        mut rows,
    } = raw_tab(&file_name, src, tab, lang)?;
    let located = |mut issue: Issue, row: Option<u32>| {
        issue.sheet = sheet.clone();
        issue.row = row;
        issue
    };

    let mut header = None;
    for _ in 0..HEADER_SEARCH_ROWS {
        match rows.next() {
            None => break,
            Some(Err(e)) => return Err(e),
            Some(Ok(row)) => {
                let known = row
                    .cells
                    .iter()
                    .filter(|c| {
                        let text = c.display();
                        let text = text.trim();
                        schema.matches(text).is_some()
                            || matches!(mapping(text), Some(Target::Field(_)))
                    })
                    .count();
                if known >= 2 {
                    header = Some(row);
                    break;
                }
            }
        }
    }
    let Some(header) = header else {
        // Which sheet was read: the user may expect another one.
        let detail = match &sheet {
            None => String::new(),
            Some(s) => format!(" {}", msg!(lang, "pack.of_sheet", sheet = s)),
        };
        return Err(PackError::Unusable(located(
            Issue::file("file", Problem::NoHeader, lang, "", &detail, ""),
            None,
        )));
    };
    let header_row = header.number;

    let mut columns = Vec::new();
    let mut warnings = Vec::new();
    // Unknown columns (indexes into `columns`): judged once the first rows are read.
    let mut unknown = Vec::new();
    for (index, cell) in header.cells.iter().enumerate() {
        let text = cell.display().trim().to_string();
        if text.is_empty() {
            continue;
        }
        let mapped = mapping(&text);
        let field = match mapped {
            Some(Target::Field(f)) => Some(f.idx()),
            Some(Target::Ignore) => None,
            None => schema.matches(&text),
        };
        let letter = column_letter(index);
        if let Some(f) = field {
            if let Some(first) = columns.iter().find(|c: &&Column| c.field == Some(f)) {
                let detail = msg!(
                    lang,
                    "pack.columns_pair",
                    first = &first.letter,
                    second = &letter
                );
                let mut issue = Issue::file(
                    "header",
                    Problem::DuplicateHeader,
                    lang,
                    &text,
                    &detail,
                    schema.heading(f, lang),
                );
                issue.column = Some(letter);
                issue.header = Some(text);
                return Err(PackError::Unusable(located(issue, Some(header_row))));
            }
        } else if mapped.is_some() {
            // Ignored on purpose: no warning.
        } else if schema == Schema::Clients && is_derived_heading(&text) {
            // Our exports' derived column (the NAF label): not a column of the pack, read
            // back without a word.
            continue;
        } else {
            unknown.push(columns.len());
        }
        columns.push(Column {
            index,
            letter,
            header: text,
            field,
            mapped: mapped.is_some(),
            samples: Vec::new(),
        });
    }
    if tab == Tab::Clients
        && !columns
            .iter()
            .any(|c| c.field == Some(clientele_core::F::name.idx()))
    {
        let issue = Issue::file("header", Problem::MissingName, lang, "", "", "");
        return Err(PackError::Unusable(located(issue, Some(header_row))));
    }

    let width = header.cells.len();
    // Data in a column without a heading is ignored like an unknown column, but silently it
    // would look like a lost value: the first rows are looked at (and given back to the
    // stream) to say so.
    let mut peeked = Vec::new();
    // Columns already reported (a file may have any number of columns: no linear search),
    // and at most MAX_NO_HEADING of them reported.
    let headed: Vec<bool> = header
        .cells
        .iter()
        .map(|h| !h.display().trim().is_empty())
        .collect();
    let mut noted = std::collections::HashSet::new();
    for r in rows.by_ref().take(PEEK_ROWS) {
        let stop = r.is_err();
        if let Ok(row) = &r {
            for (i, cell) in row.cells.iter().enumerate() {
                if noted.len() >= MAX_NO_HEADING {
                    break;
                }
                let headed = headed.get(i).copied().unwrap_or(false);
                if !headed && !cell.is_blank() && noted.insert(i) {
                    let letter = column_letter(i);
                    let mut issue = Issue::file(
                        "header",
                        Problem::NoHeading,
                        lang,
                        &letter,
                        &row.number.to_string(),
                        "",
                    );
                    issue.column = Some(letter);
                    issue.header = Some(String::new());
                    warnings.push(located(issue, Some(header_row)));
                }
            }
        }
        peeked.push(r);
        if stop {
            break;
        }
    }
    // An unknown column is a warning, unless its heading or its first values look like a
    // field the file does not otherwise give: ignoring it would lose that field silently.
    for &i in &unknown {
        let c = &columns[i];
        let present = |f: clientele_core::F| columns.iter().any(|c| c.field == Some(f.idx()));
        let by_heading = clientele_core::catalogue::closest_field(&c.header)
            .filter(|l| l.is_strong())
            .map(|l| (l.field, false));
        let by_values = || {
            let values = peeked
                .iter()
                .filter_map(|r| r.as_ref().ok())
                .filter_map(|r| r.cells.get(c.index).map(|cell| cell.display()));
            let values: Vec<_> = values.collect();
            field_from_values(values.iter().map(String::as_str)).map(|f| (f, true))
        };
        let looks_like = match schema {
            Schema::Clients => by_heading.or_else(by_values).filter(|(f, _)| !present(*f)),
            Schema::Contacts => None,
        };
        let mut issue = match looks_like {
            Some((f, by_values)) => unmapped_header(lang, &c.header, f, by_values),
            None => unknown_header(schema, lang, &c.header),
        };
        issue.column = Some(c.letter.clone());
        issue.header = Some(c.header.clone());
        if let Some((f, _)) = looks_like {
            issue.field = Some(f.key());
        }
        warnings.push(located(issue, Some(header_row)));
    }

    // A few values of each column, from the rows already read.
    for c in &mut columns {
        c.samples = peeked
            .iter()
            .filter_map(|r| r.as_ref().ok())
            .filter_map(|r| r.cells.get(c.index))
            .map(|cell| cell.display())
            .filter(|v| !v.trim().is_empty())
            .take(SAMPLES)
            .map(|v| v.chars().take(40).collect())
            .collect();
    }
    let rows = peeked.into_iter().chain(rows).map(move |r| {
        r.map(|mut row| {
            if row.cells.len() < width {
                row.cells.resize(width, Cell::Empty);
            }
            row
        })
    });
    Ok(Opened {
        file_name,
        tab,
        sheet,
        encoding: encoding.map(TextEncoding::label),
        delimiter: delimiter.map(char::from),
        header_row,
        columns,
        warnings,
        rows: Box::new(rows),
    })
}

/// Whether a heading names a column our exports derive from others (the label of the
/// activity code, by its heading or its API key `activityLabel`).
fn is_derived_heading(text: &str) -> bool {
    let f = clientele_core::catalogue::fold(text);
    f == clientele_core::catalogue::fold(clientele_core::lists::ACTIVITY_LABEL_HEADING)
        || f == "activitylabel"
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn letters() {
        assert_eq!(column_letter(0), "A");
        assert_eq!(column_letter(25), "Z");
        assert_eq!(column_letter(26), "AA");
        assert_eq!(column_letter(27), "AB");
        assert_eq!(column_letter(51), "AZ");
        assert_eq!(column_letter(52), "BA");
        assert_eq!(column_letter(701), "ZZ");
        assert_eq!(column_letter(702), "AAA");
        assert_eq!(column_letter(16_383), "XFD");
    }
}
