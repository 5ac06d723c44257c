//! The checks made before a zip-based workbook (XLSX, ODS) is handed to calamine.
//!
//! calamine materialises the shared strings of an XLSX and every cell of an ODS sheet, so
//! those are measured first by streaming the zip entries (nothing is materialised), and a
//! file beyond the bounds of [`crate::limits`] gets `file.too_large`. Kept apart from
//! `limits` because it needs the source of the bytes, and the source needs the limits.

use crate::error::PackError;
use crate::headers::unreadable;
use crate::limits::{
    mb, not_spreadsheet, too_large, MAX_ODS_CELLS, MAX_ODS_TEXT, MAX_SHARED_BYTES,
    MAX_SHARED_STRINGS,
};
use crate::source::{Format, Source};
use clientele_core::issue::Lang;
use clientele_core::messages::{self, Arg};
use clientele_core::msg;
use quick_xml::events::{BytesStart, Event};
use std::io::{BufReader, Read};

/// A zip entry unpacking to more than this…
const BIG_ENTRY: u64 = 256 << 20;
/// …and more than this many times its packed size is refused: text and XML pack 5 to 20
/// times; a higher ratio is a file built to expand.
const MAX_RATIO: u64 = 100;
/// The entries of a workbook unpack to this many bytes at most in all.
const MAX_UNPACKED: u64 = 8 << 30;

/// A zip that is not a complete archive (cut short, or not a zip at all).
fn damaged_zip(lang: Lang) -> PackError {
    PackError::Unusable(unreadable(lang, &msg!(lang, "pack.zip_damaged")))
}

/// Check a zip-based workbook (XLSX, ODS) before calamine opens it: that it is a complete
/// zip, that it is a spreadsheet (not a Word document), that no entry is built to expand,
/// and that what calamine would materialise (XLSX shared strings, ODS cells) is bounded.
pub(crate) fn guard_zip(src: &Source, format: Format, lang: Lang) -> Result<(), PackError> {
    let rs = src
        .seekable()
        .map_err(|e| crate::headers::unreadable_io(lang, &e))?;
    let mut zip = zip::ZipArchive::new(rs).map_err(|_| damaged_zip(lang))?;
    let names: Vec<String> = zip
        .file_names()
        .filter_map(|n| n.ok().map(std::borrow::Cow::into_owned))
        .collect();
    let has = |p: &str| names.iter().any(|n| n.to_ascii_lowercase().starts_with(p));
    if format == Format::Xlsx && !has("xl/") {
        let what = if has("word/") {
            Some("pack.what.word")
        } else if has("ppt/") {
            Some("pack.what.powerpoint")
        } else if has("mimetype") {
            Some("pack.what.opendocument")
        } else {
            Some("pack.what.zip")
        };
        return Err(not_spreadsheet(lang, what));
    }
    if format == Format::Xlsx && has("xl/workbook.bin") {
        return Err(PackError::Unusable(unreadable(
            lang,
            &msg!(lang, "pack.xlsb"),
        )));
    }
    let mut total = 0u64;
    let mut scan = None;
    for i in 0..zip.len() {
        let f = zip.by_index_raw(i).map_err(|_| damaged_zip(lang))?;
        let (size, packed) = (f.size(), f.compressed_size().max(1));
        total = total.saturating_add(size);
        if size > BIG_ENTRY && size / packed > MAX_RATIO {
            let name = f.name().map(|n| n.into_owned()).unwrap_or_default();
            return Err(too_large(
                lang,
                &msg!(
                    lang,
                    "pack.part_unpacks",
                    name = name,
                    mb = mb(size),
                    kb = packed >> 10
                ),
            ));
        }
        let lower = f.name().map(|n| n.to_ascii_lowercase()).unwrap_or_default();
        let wanted = match format {
            Format::Xlsx => lower.ends_with("sharedstrings.xml"),
            _ => lower == "content.xml",
        };
        if wanted {
            scan = Some((i, size));
        }
    }
    if total > MAX_UNPACKED {
        return Err(too_large(
            lang,
            &msg!(lang, "pack.unpacks_to", mb = mb(total)),
        ));
    }
    let Some((index, size)) = scan else {
        return Ok(());
    };
    let entry = zip.by_index(index).map_err(|_| damaged_zip(lang))?;
    // Never read past the size the directory declares, which the bounds above judged.
    let xml = BufReader::with_capacity(1 << 16, entry.take(size));
    let outcome = match format {
        Format::Ods => scan_ods(xml),
        _ => scan_shared_strings(xml),
    };
    match outcome {
        Ok(()) => Ok(()),
        Err(Scan::Damaged) => Err(PackError::Unusable(unreadable(
            lang,
            &msg!(lang, "pack.content_damaged"),
        ))),
        Err(Scan::Over(id, args)) => Err(too_large(lang, &messages::format(lang, id, &args))),
    }
}

/// Why a scan stopped.
enum Scan {
    /// The XML is malformed.
    Damaged,
    /// A bound is exceeded: the detail, as a message id and its arguments (the scans do not
    /// know the language).
    Over(&'static str, Vec<(&'static str, Arg)>),
}

/// A numeric attribute (`None` when absent or not a number).
fn num_attr(e: &BytesStart<'_>, name: &str) -> Option<u64> {
    e.attributes()
        .flatten()
        .find(|a| a.key.as_ref() == name)
        .and_then(|a| a.value.trim().parse().ok())
}

/// Whether an element has an attribute.
fn has_attr(e: &BytesStart<'_>, name: &str) -> bool {
    e.attributes().flatten().any(|a| a.key.as_ref() == name)
}

/// Count the shared strings of an XLSX and their text, stopping at the first bound passed.
fn scan_shared_strings(r: impl std::io::BufRead) -> Result<(), Scan> {
    let over_count = |n: u64| {
        Scan::Over(
            "pack.shared_count",
            vec![("max", MAX_SHARED_STRINGS.into()), ("n", n.into())],
        )
    };
    let mut xml = quick_xml::Reader::from_reader(r);
    let mut buf = Vec::with_capacity(1 << 12);
    let (mut count, mut bytes) = (0u64, 0u64);
    loop {
        buf.clear();
        match xml.read_event_into(&mut buf) {
            Ok(Event::Start(e)) | Ok(Event::Empty(e)) => match e.local_name().as_ref() {
                "sst" => {
                    // calamine reserves room for the declared count before reading any.
                    if let Some(n) = num_attr(&e, "uniqueCount") {
                        if n > MAX_SHARED_STRINGS {
                            return Err(over_count(n));
                        }
                    }
                }
                "si" => {
                    count += 1;
                    if count > MAX_SHARED_STRINGS {
                        return Err(over_count(count));
                    }
                }
                _ => {}
            },
            Ok(Event::Text(t)) => bytes += t.len() as u64,
            Ok(Event::CData(t)) => bytes += t.len() as u64,
            Ok(Event::Eof) => return Ok(()),
            Ok(_) => {}
            Err(_) => return Err(Scan::Damaged),
        }
        if bytes > MAX_SHARED_BYTES {
            return Err(Scan::Over(
                "pack.shared_bytes",
                vec![("mb", mb(MAX_SHARED_BYTES).into())],
            ));
        }
    }
}

/// What the rows of one ODS sheet expand to so far.
#[derive(Default)]
struct OdsTable {
    /// First and last (0-based, expanded) row holding a value.
    rows: Option<(u64, u64)>,
    /// First and last column holding a value.
    cols: Option<(u64, u64)>,
    /// Rows so far (repeats expanded).
    next_row: u64,
}

impl OdsTable {
    /// Cells of the rectangle calamine makes of the sheet.
    fn area(&self) -> u64 {
        match (self.rows, self.cols) {
            (Some((r0, r1)), Some((c0, c1))) => {
                (r1 - r0 + 1).saturating_mul(c1.saturating_sub(c0) + 1)
            }
            _ => 0,
        }
    }
}

/// Excel's and calamine's last column index.
const LAST_COL: u64 = 16_383;
/// calamine's last row index.
const LAST_ROW: u64 = 1_048_575;

/// Measure what an ODS `content.xml` expands to, honouring `number-rows-repeated` and
/// `number-columns-repeated` arithmetically (nothing is expanded). Repeated empty rows and
/// cells (LibreOffice writes a million trailing empty rows) cost nothing here nor in
/// calamine; repeated values are counted as calamine will copy them.
fn scan_ods(r: impl std::io::BufRead) -> Result<(), Scan> {
    let mut xml = quick_xml::Reader::from_reader(r);
    let mut buf = Vec::with_capacity(1 << 12);
    let mut table = OdsTable::default();
    // Sheets already read: calamine loads every sheet of the file.
    let (mut done_cells, mut text) = (0u64, 0u64);
    // The current row: its repeat count, the next column, the columns with a value, and
    // the text of one copy of it.
    let mut row_rep = 1u64;
    let mut col = 0u64;
    let mut row_cols: Option<(u64, u64)> = None;
    let mut row_text = 0u64;
    // The current cell: its repeat count, whether it holds something, its text.
    let mut cell: Option<(u64, bool, u64)> = None;
    // Elements open: a file that ends inside one is damaged. calamine 0.38 loops for ever
    // on such a `content.xml` (reading the end of the file again and again inside a table;
    // found by fuzzing), so it never gets one.
    let mut depth = 0u64;
    let end_cell = |cell: (u64, bool, u64),
                    col: &mut u64,
                    row_cols: &mut Option<(u64, u64)>,
                    row_text: &mut u64| {
        let (rep, filled, t) = cell;
        if filled && *col <= LAST_COL {
            let last = col.saturating_add(rep - 1).min(LAST_COL);
            let first = row_cols.map_or(*col, |(f, _)| f);
            *row_cols = Some((first, last));
            *row_text = row_text.saturating_add(t.saturating_mul(last - *col + 1));
        }
        *col = col.saturating_add(rep);
    };
    loop {
        buf.clear();
        let ev = xml.read_event_into(&mut buf).map_err(|_| Scan::Damaged)?;
        match &ev {
            Event::Start(_) => depth += 1,
            Event::End(_) => depth = depth.saturating_sub(1),
            _ => {}
        }
        let (start, empty) = match &ev {
            Event::Start(e) => (Some(e), false),
            Event::Empty(e) => (Some(e), true),
            _ => (None, false),
        };
        if let Some(e) = start {
            match e.name().as_ref() {
                "table:table" => table = OdsTable::default(),
                "table:table-row" => {
                    row_rep = num_attr(e, "table:number-rows-repeated")
                        .unwrap_or(1)
                        .max(1);
                    col = 0;
                    row_cols = None;
                    row_text = 0;
                    if empty {
                        table.next_row = table.next_row.saturating_add(row_rep);
                    }
                }
                "table:table-cell" | "table:covered-table-cell" => {
                    let rep = num_attr(e, "table:number-columns-repeated")
                        .unwrap_or(1)
                        .max(1);
                    let filled = has_attr(e, "office:value-type") || has_attr(e, "table:formula");
                    if empty {
                        end_cell((rep, filled, 0), &mut col, &mut row_cols, &mut row_text);
                    } else {
                        cell = Some((rep, filled, 0));
                    }
                }
                _ => {}
            }
            continue;
        }
        match ev {
            Event::Text(t) => {
                if let Some(c) = cell.as_mut() {
                    c.1 = true;
                    c.2 = c.2.saturating_add(t.len() as u64);
                }
            }
            Event::CData(t) => {
                if let Some(c) = cell.as_mut() {
                    c.1 = true;
                    c.2 = c.2.saturating_add(t.len() as u64);
                }
            }
            Event::End(e) => match e.name().as_ref() {
                "table:table-cell" | "table:covered-table-cell" => {
                    if let Some(c) = cell.take() {
                        end_cell(c, &mut col, &mut row_cols, &mut row_text);
                    }
                }
                "table:table-row" => {
                    let first = table.next_row.min(LAST_ROW);
                    let last = table.next_row.saturating_add(row_rep - 1).min(LAST_ROW);
                    if let Some((c0, c1)) = row_cols {
                        table.rows = Some((table.rows.map_or(first, |(f, _)| f), last));
                        table.cols = Some(match table.cols {
                            Some((a, b)) => (a.min(c0), b.max(c1)),
                            None => (c0, c1),
                        });
                        text = text.saturating_add(row_text.saturating_mul(last - first + 1));
                    }
                    table.next_row = table.next_row.saturating_add(row_rep);
                    let cells = done_cells.saturating_add(table.area());
                    if cells > MAX_ODS_CELLS {
                        return Err(Scan::Over(
                            "pack.ods_cells",
                            vec![("max", MAX_ODS_CELLS.into())],
                        ));
                    }
                    if text > MAX_ODS_TEXT {
                        return Err(Scan::Over(
                            "pack.ods_text",
                            vec![("mb", mb(MAX_ODS_TEXT).into())],
                        ));
                    }
                }
                "table:table" => {
                    done_cells = done_cells.saturating_add(table.area());
                    table = OdsTable::default();
                }
                _ => {}
            },
            Event::Eof if depth > 0 => return Err(Scan::Damaged),
            Event::Eof => return Ok(()),
            _ => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ods(body: &str) -> Result<(), Scan> {
        let xml = format!(
            "<office:document-content><office:body><office:spreadsheet>{body}</office:spreadsheet></office:body></office:document-content>"
        );
        scan_ods(xml.as_bytes())
    }

    #[test]
    fn ods_that_ends_inside_an_element_is_damaged() {
        let cut = r#"<office:document-content><office:body><office:spreadsheet><table:table table:name="Clients"><table:table-row><table:table-cell office:value-type="string"><text:p>CL0502"#;
        assert!(matches!(scan_ods(cut.as_bytes()), Err(Scan::Damaged)));
        assert!(ods("<table:table><table:table-row/></table:table>").is_ok());
    }

    #[test]
    fn ods_trailing_repeats_are_free() {
        let row = r#"<table:table-row><table:table-cell office:value-type="string"><text:p>Raison sociale</text:p></table:table-cell><table:table-cell table:number-columns-repeated="1023"/></table:table-row>"#;
        let body = format!(
            r#"<table:table table:name="Clients">{row}<table:table-row table:number-rows-repeated="1048000"><table:table-cell table:number-columns-repeated="1024"/></table:table-row></table:table>"#
        );
        assert!(ods(&body).is_ok());
    }

    #[test]
    fn ods_repeated_values_are_counted() {
        let body = r#"<table:table table:name="S"><table:table-row table:number-rows-repeated="6000"><table:table-cell table:number-columns-repeated="16384" office:value-type="float" office:value="1"/></table:table-row></table:table>"#;
        assert!(matches!(ods(body), Err(Scan::Over(..))));
        // A value far away makes the rectangle in between count too.
        let body = r#"<table:table table:name="S"><table:table-row><table:table-cell office:value-type="float" office:value="1"/></table:table-row><table:table-row table:number-rows-repeated="5000"><table:table-cell table:number-columns-repeated="16383"/><table:table-cell office:value-type="float" office:value="1"/></table:table-row></table:table>"#;
        assert!(matches!(ods(body), Err(Scan::Over(..))));
        let body = r#"<table:table table:name="S"><table:table-row table:number-rows-repeated="1000"><table:table-cell table:number-columns-repeated="40" office:value-type="float" office:value="1"/></table:table-row></table:table>"#;
        assert!(ods(body).is_ok());
    }

    #[test]
    fn shared_strings_are_counted() {
        let n = MAX_SHARED_STRINGS + 1;
        let xml = format!(r#"<sst uniqueCount="{n}"><si><t>a</t></si></sst>"#);
        assert!(matches!(
            scan_shared_strings(xml.as_bytes()),
            Err(Scan::Over(..))
        ));
        let xml = r#"<sst uniqueCount="2"><si><t>a</t></si><si><t>b</t></si></sst>"#;
        assert!(scan_shared_strings(xml.as_bytes()).is_ok());
        assert!(matches!(
            scan_shared_strings(&b"<sst><si><t>a</x></si></sst>"[..]),
            Err(Scan::Damaged)
        ));
    }
}
