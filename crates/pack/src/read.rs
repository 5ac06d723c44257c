//! Opening a pack: format and sheet choice, header row detection and column matching.

use crate::csvread::{open_text, TextEncoding};
use crate::error::PackError;
use crate::headers::{unknown_header, unmapped_header, unreadable_io, Schema, CONTACT_FIELDS};
use crate::mapping::{field_from_values, ColumnMap, Target};
use crate::rows::{Column, RawRow, Tab, SAMPLES};
use crate::source::{sniff, Format, RowStream, Shared, Source};
use crate::workbook::Book;
use clientele_core::catalogue::fold;
use clientele_core::issue::{DetailMessage, Issue, Lang, Problem};
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

/// Open a tab: find its header row, match its columns, look at the first data rows for
/// what the header cannot say, and hand the rows over as a stream.
fn open_source(
    file_name: String,
    src: Source,
    tab: Tab,
    lang: Lang,
    map: &ColumnMap,
) -> Result<Opened, PackError> {
    let RawTab {
        sheet,
        encoding,
        delimiter,
        mut rows,
    } = raw_tab(&file_name, src, tab, lang)?;
    let rules = HeaderRules {
        tab,
        schema: tab.schema(),
        lang,
        map,
        sheet,
    };
    let header = rules.find(&mut rows)?;
    let header_row = header.number;
    let (mut columns, unknown) = rules.columns(&header)?;
    let peek = rules.peek(&header, &mut rows);
    let mut warnings = peek.no_heading;
    warnings.extend(rules.unknown_column_warnings(&columns, &unknown, &peek.rows, header_row));
    fill_samples(&mut columns, &peek.rows);

    let width = header.cells.len();
    let rows = peek.rows.into_iter().chain(rows).map(move |r| {
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
        sheet: rules.sheet,
        encoding: encoding.map(TextEncoding::label),
        delimiter: delimiter.map(char::from),
        header_row,
        columns,
        warnings,
        rows: Box::new(rows),
    })
}

/// What judging a tab's header row needs: which tab, the user's column mapping, the message
/// language, and the sheet read (every issue of the header is located on it).
struct HeaderRules<'a> {
    tab: Tab,
    schema: Schema,
    lang: Lang,
    map: &'a ColumnMap,
    sheet: Option<String>,
}

/// The first data rows, read ahead of the caller to judge the header, and the
/// `header.no_heading` warnings they gave.
struct Peeked {
    /// Given back to the stream in front of the rows not read yet; ends at the first error.
    rows: Vec<Result<RawRow, PackError>>,
    no_heading: Vec<Issue>,
}

impl HeaderRules<'_> {
    /// The mapping of a heading: it names Clients fields, so the Contacts tab keeps its
    /// headings.
    fn mapping(&self, text: &str) -> Option<Target> {
        match self.tab {
            Tab::Clients => self.map.get(text),
            Tab::Contacts => None,
        }
    }

    /// An issue placed on the sheet read and on `row`.
    fn located(&self, mut issue: Issue, row: Option<u32>) -> Issue {
        issue.sheet = self.sheet.clone();
        issue.row = row;
        issue
    }

    /// The header row: the first of the first [`HEADER_SEARCH_ROWS`] rows where two cells
    /// name fields (by heading or by the mapping), so that title rows above it are passed.
    fn find(&self, rows: &mut RowStream) -> Result<RawRow, PackError> {
        for _ in 0..HEADER_SEARCH_ROWS {
            let Some(row) = rows.next() else {
                break;
            };
            let row = row?;
            let known = row
                .cells
                .iter()
                .filter(|c| {
                    let text = c.display();
                    let text = text.trim();
                    self.schema.matches(text).is_some()
                        || matches!(self.mapping(text), Some(Target::Field(_)))
                })
                .count();
            if known >= 2 {
                return Ok(row);
            }
        }
        // Which sheet was read: the user may expect another one.
        let issue = match &self.sheet {
            None => Issue::file("file", Problem::NoHeader, self.lang, "", "", ""),
            Some(s) => {
                let of_sheet = DetailMessage::new("pack.of_sheet", &[("sheet", s)]);
                let detail = of_sheet.text(Problem::NoHeader, self.lang);
                Issue::file("file", Problem::NoHeader, self.lang, "", &detail, "")
                    .with_detail_message(of_sheet)
            }
        };
        Err(PackError::Unusable(self.located(issue, None)))
    }

    /// The non-blank header cells as columns, and which of them are unknown (indexes into
    /// the columns: judged once the first rows are read). A field given by two columns, or
    /// a Clients tab without the name, makes the file unusable.
    fn columns(&self, header: &RawRow) -> Result<(Vec<Column>, Vec<usize>), PackError> {
        let (lang, header_row) = (self.lang, Some(header.number));
        let mut columns: Vec<Column> = Vec::new();
        let mut unknown = Vec::new();
        for (index, cell) in header.cells.iter().enumerate() {
            let text = cell.display().trim().to_string();
            if text.is_empty() {
                continue;
            }
            let mapped = self.mapping(&text);
            let field = match mapped {
                Some(Target::Field(f)) => Some(f.idx()),
                Some(Target::Ignore) => None,
                None => self.schema.matches(&text),
            };
            let letter = column_letter(index);
            if let Some(f) = field {
                if let Some(first) = columns.iter().find(|c| c.field == Some(f)) {
                    let issue = self.duplicate_header(first, f, letter, text);
                    return Err(PackError::Unusable(self.located(issue, header_row)));
                }
            } else if mapped.is_some() {
                // Ignored on purpose: no warning.
            } else if self.schema == Schema::Clients && is_derived_heading(&text) {
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
        let name = Some(clientele_core::Field::name.idx());
        if self.tab == Tab::Clients && !columns.iter().any(|c| c.field == name) {
            let issue = Issue::file("header", Problem::MissingName, lang, "", "", "");
            return Err(PackError::Unusable(self.located(issue, header_row)));
        }
        Ok((columns, unknown))
    }

    /// `header.duplicate`: column `letter` (headed `text`) gives field `f`, which `first`
    /// already gives.
    fn duplicate_header(&self, first: &Column, f: usize, letter: String, text: String) -> Issue {
        let lang = self.lang;
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
            self.schema.heading(f, lang),
        );
        issue.column = Some(letter);
        issue.header = Some(text);
        issue
    }

    /// Read the first [`PEEK_ROWS`] data rows ahead. Data in a column without a heading is
    /// ignored like an unknown column, but silently it would look like a lost value: those
    /// rows say which columns to warn about (at most [`MAX_NO_HEADING`] of them).
    fn peek(&self, header: &RawRow, rows: &mut RowStream) -> Peeked {
        let header_row = Some(header.number);
        let mut peeked = Vec::new();
        let mut no_heading = Vec::new();
        let headed: Vec<bool> = header
            .cells
            .iter()
            .map(|h| !h.display().trim().is_empty())
            .collect();
        // Columns already reported (a file may have any number of columns: no linear search).
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
                        let issue = self.no_heading(i, row.number);
                        no_heading.push(self.located(issue, header_row));
                    }
                }
            }
            peeked.push(r);
            if stop {
                break;
            }
        }
        Peeked {
            rows: peeked,
            no_heading,
        }
    }

    /// `header.no_heading`: column `index` has no heading but a value on row `row`.
    fn no_heading(&self, index: usize, row: u32) -> Issue {
        let letter = column_letter(index);
        let mut issue = Issue::file(
            "header",
            Problem::NoHeading,
            self.lang,
            &letter,
            &row.to_string(),
            "",
        )
        .with_detail(&row.to_string());
        issue.column = Some(letter);
        issue.header = Some(String::new());
        issue
    }

    /// A warning per unknown column, unless its heading or its first values look like a
    /// field the file does not otherwise give: ignoring it would lose that field silently,
    /// so it is a `header.unmapped` error until mapped.
    fn unknown_column_warnings(
        &self,
        columns: &[Column],
        unknown: &[usize],
        peeked: &[Result<RawRow, PackError>],
        header_row: u32,
    ) -> Vec<Issue> {
        let (schema, lang) = (self.schema, self.lang);
        let mut warnings = Vec::new();
        for c in unknown.iter().filter_map(|&i| columns.get(i)) {
            let present =
                |f: clientele_core::Field| columns.iter().any(|c| c.field == Some(f.idx()));
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
            warnings.push(self.located(issue, Some(header_row)));
        }
        warnings
    }
}

/// A few values of each column, from the rows already read (for the mapping step).
fn fill_samples(columns: &mut [Column], peeked: &[Result<RawRow, PackError>]) {
    for c in columns {
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
