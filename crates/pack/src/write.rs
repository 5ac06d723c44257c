//! Writing packs: the blank template, exports, rejected rows and annotated copies.

use crate::error::PackError;
use crate::headers::CONTACT_FIELDS;
use crate::read::{has_contacts_bytes, raw_tab};
use crate::rows::{Column, RawRow, Tab};
use crate::source::{Shared, Source};
use clientele_core::catalogue::{Field, Kind, FIELDS};
use clientele_core::issue::{Issue, Lang, Severity};
use clientele_core::model::{Customer, Value};
use clientele_core::validate::{float_text, Cell};
use rust_xlsxwriter::{DataValidation, Format, Note, Workbook, Worksheet};
use std::borrow::Cow;
use std::collections::BTreeMap;
use std::fs::File;
use std::io::{self, BufWriter, Write};
use std::path::Path;
use std::sync::Arc;

/// Excel's limit on the characters of one cell.
const XLSX_MAX_CHARS: usize = 32_767;
/// Rows of the template that get the 1/0 drop-down.
const TEMPLATE_ROWS: u32 = 10_000;
/// Columns holding codes: formatted as text so Excel keeps leading zeros and long digits.
const CODE_FIELDS: [Field; 9] = [
    Field::customerAccount,
    Field::accountsReference,
    Field::registrationNumber,
    Field::taxRegistrationNumber,
    Field::postalCode,
    Field::activityCode,
    Field::phone,
    Field::mobilePhone,
    Field::fax,
];
/// Contacts columns that are booleans, and those holding phone numbers.
const CONTACT_BOOLS: [&str; 4] = [
    "Actif",
    "Représentant légal",
    "Destinataire des factures",
    "Destinataire des newsletters",
];
const CONTACT_CODES: [&str; 3] = ["Client", "Téléphone mobile", "Téléphone fixe"];
/// Fill of a cell with an error, and with only warnings.
const ERROR_FILL: u32 = 0xFFC7CE;
const WARNING_FILL: u32 = 0xFFEB9C;
/// Name of the column added to rejected rows.
const ERRORS_HEADING: &str = "Erreurs";
pub(crate) const UTF8_BOM: &[u8] = b"\xEF\xBB\xBF";

pub(crate) fn header_format() -> Format {
    Format::new().set_bold().set_background_color(0xDDEBF7)
}

/// A heading's column width, in characters.
pub(crate) fn width_for(heading: &str) -> f64 {
    (heading.chars().count() as f64 * 1.1 + 2.0).clamp(10.0, 40.0)
}

/// Blank pack: sheet `Clients` with every field heading (bold, frozen header row, a note
/// with the field's help), a 1/0 drop-down on boolean columns, text format on code columns
/// (so Excel keeps leading zeros), and a `Contacts` sheet with the contact headings.
pub fn write_template(path: &Path) -> Result<(), PackError> {
    let mut wb = Workbook::new();
    let bold = header_format();
    let text = Format::new().set_num_format("@");
    let yes_no = DataValidation::new()
        .allow_list_strings(&["1", "0"])?
        .set_error_message("1 = oui, 0 = non")?;

    let ws = wb.add_worksheet();
    ws.set_name("Clients")?;
    for (i, d) in FIELDS.iter().enumerate() {
        let col = col_num(i)?;
        ws.set_column_width(col, width_for(d.heading))?;
        if CODE_FIELDS.contains(&d.id) {
            ws.set_column_format(col, &text)?;
        }
        ws.write_string_with_format(0, col, d.heading, &bold)?;
        ws.insert_note(
            0,
            col,
            &Note::new(d.help)
                .add_author_prefix(false)
                .set_width(300)
                .set_height(100),
        )?;
        if d.kind == Kind::Bool {
            ws.add_data_validation(1, col, TEMPLATE_ROWS - 1, col, &yes_no)?;
        }
    }
    ws.set_freeze_panes(1, 0)?;

    let ws = wb.add_worksheet();
    ws.set_name("Contacts")?;
    for (i, (heading, _)) in CONTACT_FIELDS.iter().enumerate() {
        let col = col_num(i)?;
        ws.set_column_width(col, width_for(heading))?;
        if CONTACT_CODES.contains(heading) {
            ws.set_column_format(col, &text)?;
        }
        ws.write_string_with_format(0, col, *heading, &bold)?;
        if CONTACT_BOOLS.contains(heading) {
            ws.add_data_validation(1, col, TEMPLATE_ROWS - 1, col, &yes_no)?;
        }
    }
    ws.insert_note(
        0,
        0,
        &Note::new("Numéro de ligne du client dans l'onglet Clients, ou son compte client.")
            .add_author_prefix(false),
    )?;
    ws.set_freeze_panes(1, 0)?;
    wb.save(path)?;
    Ok(())
}

fn col_num(i: usize) -> Result<u16, PackError> {
    u16::try_from(i).map_err(|_| PackError::Io(io::Error::other("too many columns")))
}

/// Whether a text is a plain number (`-12`, `+3,5`): safe in a CSV cell even when it
/// starts with a sign. Spaces are refused: a spreadsheet reads `+1 2` as a formula.
fn is_number(s: &str) -> bool {
    let t = s.strip_prefix(['+', '-']).unwrap_or(s);
    let mut digits = 0;
    let mut seps = 0;
    for c in t.chars() {
        match c {
            '0'..='9' => digits += 1,
            '.' | ',' => seps += 1,
            _ => return false,
        }
    }
    digits > 0 && seps <= 1
}

/// Make a CSV value safe to open in a spreadsheet: a value that would start a formula gets
/// a leading apostrophe (removed again on import), except numbers and `+33…` phone numbers.
pub(crate) fn csv_safe(field: Option<Field>, s: &str) -> Cow<'_, str> {
    if !s.starts_with(['=', '+', '-', '@', '\t', '\r']) || is_number(s) {
        return Cow::Borrowed(s);
    }
    let is_phone = field.is_some_and(|f| Field::PHONES.contains(&f));
    if is_phone
        && s.starts_with('+')
        && s[1..].chars().all(|c| c.is_ascii_digit() || c == ' ')
        && s.len() > 1
    {
        return Cow::Borrowed(s);
    }
    Cow::Owned(format!("'{s}"))
}

/// A field value as pack text (booleans `1`/`0`), blank for NULL.
fn value_text(v: Option<&Value>) -> Cow<'_, str> {
    match v {
        None => Cow::Borrowed(""),
        Some(Value::Text(s)) => Cow::Borrowed(s),
        Some(Value::Int(i)) => Cow::Owned(i.to_string()),
        Some(Value::Bool(b)) => Cow::Borrowed(if *b { "1" } else { "0" }),
    }
}

pub(crate) fn truncate_for_xlsx(s: &str) -> Cow<'_, str> {
    match s.char_indices().nth(XLSX_MAX_CHARS) {
        Some((cut, _)) => Cow::Owned(s[..cut].to_string()),
        None => Cow::Borrowed(s),
    }
}

/// Customers exported as a pack CSV: UTF-8 with BOM, `;`-delimited (what French Excel
/// opens directly), every field heading as a column, formula-safe.
pub struct CsvExporter<W: Write> {
    w: csv::Writer<W>,
}

impl<W: Write> CsvExporter<W> {
    /// Start the export: writes the BOM and the header row.
    pub fn new(mut w: W) -> Result<Self, PackError> {
        w.write_all(UTF8_BOM)?;
        let mut w = csv::WriterBuilder::new()
            .delimiter(b';')
            .terminator(csv::Terminator::CRLF)
            .from_writer(w);
        w.write_record(
            FIELDS
                .iter()
                .map(|d| d.heading)
                .chain([clientele_core::lists::ACTIVITY_LABEL_HEADING]),
        )
        .map_err(io::Error::from)?;
        Ok(CsvExporter { w })
    }

    /// Write one customer.
    pub fn write(&mut self, c: &Customer) -> Result<(), PackError> {
        let record: Vec<Cow<'_, str>> = FIELDS
            .iter()
            .map(|d| match c.get(d.id) {
                Some(Value::Text(s)) => csv_safe(Some(d.id), s),
                v => value_text(v),
            })
            .chain([Cow::Borrowed(c.activity_label().unwrap_or_default())])
            .collect();
        self.w
            .write_record(record.iter().map(|s| s.as_bytes()))
            .map_err(io::Error::from)?;
        Ok(())
    }

    /// Flush and give the writer back.
    pub fn finish(self) -> Result<W, PackError> {
        self.w
            .into_inner()
            .map_err(|e| PackError::Io(e.into_error()))
    }
}

/// Customers exported as a pack XLSX: text always written as strings (never formulas),
/// numbers and 1/0 booleans as numbers. Rows stream to a temporary file when possible.
pub struct XlsxExporter {
    wb: Workbook,
    row: u32,
}

impl Default for XlsxExporter {
    fn default() -> Self {
        Self::new()
    }
}

impl XlsxExporter {
    /// Start the export (sheet `Clients` with the header row).
    pub fn new() -> Self {
        let mut wb = Workbook::new();
        // Constant memory needs a writable temporary directory; without one, the sheet is
        // kept in memory instead of failing the export.
        if wb.add_worksheet_with_constant_memory().is_err() {
            wb.add_worksheet();
        }
        XlsxExporter { wb, row: 0 }
    }

    fn sheet(&mut self) -> Result<&mut Worksheet, PackError> {
        let ws = self.wb.worksheet_from_index(0)?;
        if self.row == 0 {
            ws.set_name("Clients")?;
            let bold = header_format();
            for (i, d) in FIELDS.iter().enumerate() {
                let col = col_num(i)?;
                ws.set_column_width(col, width_for(d.heading))?;
                ws.write_string_with_format(0, col, d.heading, &bold)?;
            }
            let col = col_num(FIELDS.len())?;
            let heading = clientele_core::lists::ACTIVITY_LABEL_HEADING;
            ws.set_column_width(col, 40.0)?;
            ws.write_string_with_format(0, col, heading, &bold)?;
            ws.set_freeze_panes(1, 0)?;
            self.row = 1;
        }
        Ok(ws)
    }

    /// Write one customer.
    pub fn write(&mut self, c: &Customer) -> Result<(), PackError> {
        let row = self.row.max(1);
        let ws = self.sheet()?;
        for (i, d) in FIELDS.iter().enumerate() {
            let col = col_num(i)?;
            match c.get(d.id) {
                None => {}
                Some(Value::Text(s)) => {
                    ws.write_string(row, col, truncate_for_xlsx(s))?;
                }
                Some(Value::Int(n)) => {
                    ws.write_number(row, col, *n as f64)?;
                }
                Some(Value::Bool(b)) => {
                    ws.write_number(row, col, if *b { 1.0 } else { 0.0 })?;
                }
            }
        }
        if let Some(label) = c.activity_label() {
            ws.write_string(row, col_num(FIELDS.len())?, label)?;
        }
        self.row = row + 1;
        Ok(())
    }

    /// Write the workbook to a file.
    pub fn save(mut self, path: &Path) -> Result<(), PackError> {
        self.sheet()?;
        self.wb.save(path)?;
        Ok(())
    }

    /// The workbook as bytes.
    pub fn save_to_buffer(mut self) -> Result<Vec<u8>, PackError> {
        self.sheet()?;
        Ok(self.wb.save_to_buffer()?)
    }
}

/// Write one raw cell into a sheet, keeping its type; text is always a string.
fn write_cell(
    ws: &mut Worksheet,
    row: u32,
    col: u16,
    cell: &Cell,
    format: Option<&Format>,
) -> Result<(), PackError> {
    match (cell, format) {
        (Cell::Empty, None) => {}
        (Cell::Empty, Some(f)) => {
            ws.write_blank(row, col, f)?;
        }
        (Cell::Text(s) | Cell::Error(s), None) => {
            ws.write_string(row, col, truncate_for_xlsx(s))?;
        }
        (Cell::Text(s) | Cell::Error(s), Some(f)) => {
            ws.write_string_with_format(row, col, truncate_for_xlsx(s), f)?;
        }
        (Cell::Float(x), f) if !x.is_finite() => {
            write_cell(ws, row, col, &Cell::Text(float_text(*x).into()), f)?
        }
        (Cell::Float(x), None) => {
            ws.write_number(row, col, *x)?;
        }
        (Cell::Float(x), Some(f)) => {
            ws.write_number_with_format(row, col, *x, f)?;
        }
        (Cell::Int(n), f) => write_cell(ws, row, col, &Cell::Float(*n as f64), f)?,
        (Cell::Bool(b), None) => {
            ws.write_boolean(row, col, *b)?;
        }
        (Cell::Bool(b), Some(f)) => {
            ws.write_boolean_with_format(row, col, *b, f)?;
        }
    }
    Ok(())
}

enum RejectedSink {
    Csv(Box<csv::Writer<BufWriter<File>>>),
    Xlsx {
        wb: Box<Workbook>,
        path: std::path::PathBuf,
        row: u32,
    },
}

/// Rejected rows, written as they come: the input's format (CSV with its delimiter, UTF-8
/// with BOM; or XLSX), its header row, and an `Erreurs` column with the row's messages.
pub struct RejectedWriter {
    sink: RejectedSink,
    columns: Vec<Column>,
}

impl RejectedWriter {
    /// Create the file and write the header row. `as_csv`: `Some(delimiter)` for a CSV
    /// input, `None` for XLSX.
    pub fn new(path: &Path, columns: &[Column], as_csv: Option<char>) -> Result<Self, PackError> {
        let headers = columns
            .iter()
            .map(|c| c.header.as_str())
            .chain([ERRORS_HEADING]);
        let sink = match as_csv {
            Some(d) => {
                let mut f = BufWriter::new(File::create(path)?);
                f.write_all(UTF8_BOM)?;
                let delimiter = u8::try_from(d).ok().filter(u8::is_ascii).unwrap_or(b';');
                let mut w = csv::WriterBuilder::new()
                    .delimiter(delimiter)
                    .flexible(true)
                    .from_writer(f);
                w.write_record(headers).map_err(io::Error::from)?;
                RejectedSink::Csv(Box::new(w))
            }
            None => {
                let mut wb = Box::new(Workbook::new());
                if wb.add_worksheet_with_constant_memory().is_err() {
                    wb.add_worksheet();
                }
                let ws = wb.worksheet_from_index(0)?;
                ws.set_name("Rejets")?;
                let bold = header_format();
                for (i, h) in headers.enumerate() {
                    let col = col_num(i)?;
                    ws.set_column_width(col, width_for(h))?;
                    ws.write_string_with_format(0, col, truncate_for_xlsx(h), &bold)?;
                }
                ws.set_freeze_panes(1, 0)?;
                RejectedSink::Xlsx {
                    wb,
                    path: path.to_path_buf(),
                    row: 1,
                }
            }
        };
        Ok(RejectedWriter {
            sink,
            columns: columns.to_vec(),
        })
    }

    /// Write one rejected row with its error messages.
    pub fn write(&mut self, row: &RawRow, errors: &str) -> Result<(), PackError> {
        let empty = Cell::Empty;
        let cells = self
            .columns
            .iter()
            .map(|c| row.cells.get(c.index).unwrap_or(&empty));
        match &mut self.sink {
            RejectedSink::Csv(w) => {
                let texts: Vec<String> = cells
                    .zip(&self.columns)
                    .map(|(cell, col)| {
                        let field = col.field.and_then(|f| FIELDS.get(f)).map(|d| d.id);
                        csv_safe(field, &cell.display()).into_owned()
                    })
                    .chain([errors.to_string()])
                    .collect();
                w.write_record(&texts).map_err(io::Error::from)?;
            }
            RejectedSink::Xlsx { wb, row: r, .. } => {
                let ws = wb.worksheet_from_index(0)?;
                let mut last = 0;
                for (i, cell) in cells.enumerate() {
                    write_cell(ws, *r, col_num(i)?, cell, None)?;
                    last = i + 1;
                }
                ws.write_string(
                    *r,
                    col_num(last.max(self.columns.len()))?,
                    truncate_for_xlsx(errors),
                )?;
                *r += 1;
            }
        }
        Ok(())
    }

    /// Flush and close the file.
    pub fn finish(self) -> Result<(), PackError> {
        match self.sink {
            RejectedSink::Csv(w) => {
                let mut f = w.into_inner().map_err(|e| PackError::Io(e.into_error()))?;
                f.flush()?;
            }
            RejectedSink::Xlsx { mut wb, path, .. } => wb.save(&path)?,
        }
        Ok(())
    }
}

/// Rejected rows in one call (see [`RejectedWriter`]): each row with its messages joined
/// by ` ; `.
pub fn write_rejected(
    path: &Path,
    opened_columns: &[Column],
    as_csv: Option<char>,
    rows: &[(RawRow, String)],
) -> Result<(), PackError> {
    let mut w = RejectedWriter::new(path, opened_columns, as_csv)?;
    for (row, errors) in rows {
        w.write(row, errors)?;
    }
    w.finish()
}

/// 0-based column index of a letter (`A` → 0, `AA` → 26).
fn letter_index(letter: &str) -> Option<usize> {
    if letter.is_empty() || letter.len() > 3 {
        return None;
    }
    letter
        .bytes()
        .try_fold(0usize, |acc, b| {
            b.is_ascii_uppercase()
                .then(|| acc * 26 + usize::from(b - b'A') + 1)
        })
        .map(|n| n - 1)
}

/// Issues falling on one cell of the annotated copy.
struct Mark<'a> {
    severity: Severity,
    messages: Vec<&'a str>,
    written: bool,
}

/// The user's file back as XLSX: every cell of the Clients tab (and of the Contacts tab
/// when the workbook has one) copied as read, each cell with an issue filled (errors light
/// red, warnings light yellow) and carrying the messages as a note. Whole-row issues go on
/// column A, issues without a row on A1. Issues are placed by their `sheet` (None = the
/// Clients tab).
pub fn annotate(name: &str, bytes: &[u8], issues: &[Issue]) -> Result<Vec<u8>, PackError> {
    let src = Source::Bytes(Shared(Arc::new(bytes.to_vec())));
    let mut tabs = vec![Tab::Clients];
    if has_contacts_bytes(name, bytes) {
        tabs.push(Tab::Contacts);
    }
    let error_fill = Format::new().set_background_color(ERROR_FILL);
    let warning_fill = Format::new().set_background_color(WARNING_FILL);
    let mut wb = Workbook::new();
    for tab in tabs {
        let raw = raw_tab(name, src.clone(), tab, Lang::En)?;
        let sheet = raw.sheet.clone();
        let mine = |i: &&Issue| match tab {
            Tab::Clients => i.sheet.is_none() || i.sheet == sheet,
            Tab::Contacts => i.sheet.is_some() && i.sheet == sheet,
        };
        // Messages and worst severity by cell, in sheet order.
        let mut marks: BTreeMap<(u32, u16), Mark> = BTreeMap::new();
        for i in issues.iter().filter(mine) {
            let row = i.row.unwrap_or(1).saturating_sub(1);
            let col = i
                .column
                .as_deref()
                .and_then(letter_index)
                .and_then(|c| u16::try_from(c).ok())
                .unwrap_or(0);
            let m = marks.entry((row, col)).or_insert(Mark {
                severity: i.severity,
                messages: Vec::new(),
                written: false,
            });
            m.severity = m.severity.min(i.severity);
            m.messages.push(&i.message);
        }
        let ws = wb.add_worksheet();
        let fallback = if tab == Tab::Clients {
            "Clients"
        } else {
            "Contacts"
        };
        if ws.set_name(sheet.as_deref().unwrap_or(fallback)).is_err() {
            ws.set_name(fallback)?;
        }
        let fill = |sev: Severity| {
            if sev == Severity::Error {
                &error_fill
            } else {
                &warning_fill
            }
        };
        for row in raw.rows {
            let row = row?;
            let r = row.number.saturating_sub(1);
            for (c, cell) in row.cells.iter().enumerate() {
                let Ok(c) = u16::try_from(c) else { break };
                let mark = marks.get_mut(&(r, c));
                let format = mark.map(|m| {
                    m.written = true;
                    fill(m.severity)
                });
                if format.is_some() || *cell != Cell::Empty {
                    write_cell(ws, r, c, cell, format)?;
                }
            }
        }
        for (&(r, c), m) in &marks {
            // Cells absent from the file (a required value missing) still get the fill.
            if !m.written && ws.write_blank(r, c, fill(m.severity)).is_err() {
                continue;
            }
            let text = m.messages.join("\n");
            ws.insert_note(
                r,
                c,
                &Note::new(truncate_for_xlsx(&text))
                    .add_author_prefix(false)
                    .set_width(320)
                    .set_height(120),
            )?;
        }
    }
    Ok(wb.save_to_buffer()?)
}

/// A corrected copy of a pack: what [`corrected`] made.
#[derive(Debug)]
pub struct Corrected {
    /// The file's bytes.
    pub bytes: Vec<u8>,
    /// Its extension: `csv` for a text pack (same delimiter, UTF-8 with a byte-order mark
    /// so that Excel reads the accents), `xlsx` for any workbook.
    pub extension: &'static str,
}

/// The user's file with some cells of its Clients tab replaced (`edits`: (row number as the
/// spreadsheet shows it, column index) → the new text), for the web's fixing grid. A
/// workbook comes back as XLSX with its Clients and Contacts tabs (values only, as the
/// annotated copy); a text pack as CSV with its delimiter. Rows keep their numbers where
/// the format allows (XLSX); wholly blank rows are dropped from a CSV.
pub fn corrected(
    name: &str,
    bytes: &[u8],
    edits: &BTreeMap<(u32, usize), String>,
) -> Result<Corrected, PackError> {
    let src = Source::Bytes(Shared(Arc::new(bytes.to_vec())));
    let raw = raw_tab(name, src.clone(), Tab::Clients, Lang::En)?;
    let cell_of = |row: &RawRow, c: usize, cell: &Cell| -> Cell {
        match edits.get(&(row.number, c)) {
            Some(t) if t.trim().is_empty() => Cell::Empty,
            Some(t) => Cell::Text(t.as_str().into()),
            None => cell.clone(),
        }
    };
    // Edited cells beyond a row's last cell (a value typed where the file had none).
    let width = |row: &RawRow| {
        edits
            .range((row.number, 0)..(row.number.saturating_add(1), 0))
            .map(|((_, c), _)| c + 1)
            .max()
            .unwrap_or(0)
            .max(row.cells.len())
    };
    if let Some(d) = raw.delimiter {
        let mut out = UTF8_BOM.to_vec();
        {
            let mut w = csv::WriterBuilder::new()
                .delimiter(d)
                .flexible(true)
                .from_writer(&mut out);
            for row in raw.rows {
                let row = row?;
                let texts: Vec<String> = (0..width(&row))
                    .map(|c| {
                        let cell = row.cells.get(c).unwrap_or(&Cell::Empty);
                        cell_of(&row, c, cell).display()
                    })
                    .collect();
                w.write_record(&texts).map_err(io::Error::from)?;
            }
            w.flush()?;
        }
        return Ok(Corrected {
            bytes: out,
            extension: "csv",
        });
    }
    let mut wb = Workbook::new();
    let mut tabs = vec![(Tab::Clients, raw)];
    if has_contacts_bytes(name, bytes) {
        tabs.push((Tab::Contacts, raw_tab(name, src, Tab::Contacts, Lang::En)?));
    }
    for (tab, raw) in tabs {
        let ws = wb.add_worksheet();
        let fallback = if tab == Tab::Clients {
            "Clients"
        } else {
            "Contacts"
        };
        if ws
            .set_name(raw.sheet.as_deref().unwrap_or(fallback))
            .is_err()
        {
            ws.set_name(fallback)?;
        }
        for row in raw.rows {
            let row = row?;
            let r = row.number.saturating_sub(1);
            let n = if tab == Tab::Clients {
                width(&row)
            } else {
                row.cells.len()
            };
            for c in 0..n {
                let Ok(col) = u16::try_from(c) else { break };
                let cell = row.cells.get(c).unwrap_or(&Cell::Empty);
                let cell = if tab == Tab::Clients {
                    cell_of(&row, c, cell)
                } else {
                    cell.clone()
                };
                write_cell(ws, r, col, &cell, None)?;
            }
        }
    }
    Ok(Corrected {
        bytes: wb.save_to_buffer()?,
        extension: "xlsx",
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formula_safety() {
        assert_eq!(csv_safe(None, "=SUM(1)"), "'=SUM(1)");
        assert_eq!(csv_safe(None, "@cmd"), "'@cmd");
        assert_eq!(csv_safe(None, "\tx"), "'\tx");
        assert_eq!(csv_safe(None, "-12,5"), "-12,5");
        assert_eq!(csv_safe(None, "+3"), "+3");
        assert_eq!(csv_safe(None, "-inf"), "'-inf");
        assert_eq!(csv_safe(Some(Field::phone), "+33123456789"), "+33123456789");
        assert_eq!(
            csv_safe(Some(Field::phone), "+33 1 23 45 67 89"),
            "+33 1 23 45 67 89"
        );
        assert_eq!(
            csv_safe(Some(Field::name), "+33 1 23 45 67 89"),
            "'+33 1 23 45 67 89"
        );
        assert_eq!(csv_safe(Some(Field::phone), "+33+1"), "'+33+1");
        assert_eq!(csv_safe(None, "Café"), "Café");
    }

    #[test]
    fn letters_back_to_index() {
        assert_eq!(letter_index("A"), Some(0));
        assert_eq!(letter_index("Z"), Some(25));
        assert_eq!(letter_index("AA"), Some(26));
        assert_eq!(letter_index("XFD"), Some(16_383));
        assert_eq!(letter_index("a"), None);
        assert_eq!(letter_index(""), None);
    }

    /// The corrected copy of a workbook keeps both tabs and row numbers, puts the edits in
    /// (a blank edit empties the cell, an edit may fill a cell the file left empty), and
    /// leaves the Contacts tab as it was.
    #[test]
    fn corrected_workbook_keeps_tabs_and_rows() {
        let mut wb = Workbook::new();
        let ws = wb.add_worksheet();
        ws.set_name("Clients").expect("name");
        for (c, h) in ["Compte client", "Raison sociale", "SIRET"]
            .iter()
            .enumerate()
        {
            ws.write_string(0, c as u16, *h).expect("heading");
        }
        ws.write_string(1, 0, "CL1").expect("cell");
        ws.write_string(1, 1, "Alpha").expect("cell");
        ws.write_number(1, 2, 73282932000075.0).expect("cell");
        // Row 3 blank, row 4 holds the second customer.
        ws.write_string(3, 0, "CL2").expect("cell");
        let contacts = wb.add_worksheet();
        contacts.set_name("Contacts").expect("name");
        contacts.write_string(0, 0, "Client").expect("cell");
        contacts.write_string(1, 0, "CL1").expect("cell");
        let bytes = wb.save_to_buffer().expect("xlsx");
        let edits: BTreeMap<(u32, usize), String> = [
            ((2, 2), "73282932000074".to_string()),
            ((4, 1), "Beta".to_string()),
            ((2, 1), " ".to_string()),
        ]
        .into_iter()
        .collect();
        let out = corrected("pack.xlsx", &bytes, &edits).expect("corrected");
        assert_eq!(out.extension, "xlsx");
        let back = |tab| {
            let raw = raw_tab(
                "c.xlsx",
                Source::Bytes(Shared(Arc::new(out.bytes.clone()))),
                tab,
                Lang::En,
            )
            .expect("read back");
            raw.rows
                .map(|r| r.expect("row"))
                .map(|r| {
                    (
                        r.number,
                        r.cells.iter().map(Cell::display).collect::<Vec<_>>(),
                    )
                })
                .collect::<Vec<_>>()
        };
        let clients = back(Tab::Clients);
        assert_eq!(
            clients[1],
            (2, vec!["CL1".into(), "".into(), "73282932000074".into()])
        );
        assert_eq!(clients[2].0, 4);
        assert_eq!(clients[2].1[..2], ["CL2".to_string(), "Beta".to_string()]);
        assert_eq!(back(Tab::Contacts)[1].1[0], "CL1");
    }

    /// A text pack comes back as CSV with its delimiter.
    #[test]
    fn corrected_csv_keeps_its_delimiter() {
        let csv = "Compte client,Raison sociale\nCL1,Alpha\nCL2,Beta\n";
        let edits = [((3, 1), "Gamma, fils".to_string())].into_iter().collect();
        let out = corrected("pack.csv", csv.as_bytes(), &edits).expect("corrected");
        assert_eq!(out.extension, "csv");
        let text = String::from_utf8(out.bytes).expect("utf-8");
        assert_eq!(
            text,
            "\u{feff}Compte client,Raison sociale\nCL1,Alpha\nCL2,\"Gamma, fils\"\n"
        );
    }
}
