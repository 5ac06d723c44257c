//! Fixture builders shared by the integration tests: every fixture is generated in the test.
// Not every test file uses every helper; `PackError` carries a whole `Issue` by design.
#![allow(dead_code, clippy::result_large_err)]

use clientele_core::issue::Lang;
use clientele_pack::{open_bytes, Opened, PackError, RawRow, Tab};
use rust_xlsxwriter::Workbook;
use std::io::{Cursor, Read, Write};

/// A cell of a generated workbook.
#[derive(Clone, Copy)]
pub enum V<'a> {
    S(&'a str),
    N(f64),
    B(bool),
    Blank,
}

/// An XLSX workbook with these sheets, rows written from A1.
pub fn xlsx(sheets: &[(&str, Vec<Vec<V>>)]) -> Vec<u8> {
    let mut wb = Workbook::new();
    for (name, rows) in sheets {
        let ws = wb.add_worksheet();
        ws.set_name(*name).expect("sheet name");
        for (r, row) in rows.iter().enumerate() {
            for (c, v) in row.iter().enumerate() {
                let (r, c) = (r as u32, c as u16);
                match v {
                    V::S(s) => ws.write_string(r, c, *s).map(|_| ()),
                    V::N(n) => ws.write_number(r, c, *n).map(|_| ()),
                    V::B(b) => ws.write_boolean(r, c, *b).map(|_| ()),
                    V::Blank => Ok(()),
                }
                .expect("write cell");
            }
        }
    }
    wb.save_to_buffer().expect("save")
}

/// Rows from strings: `S` for each.
pub fn text_rows<'a>(rows: &[&[&'a str]]) -> Vec<Vec<V<'a>>> {
    rows.iter()
        .map(|r| {
            r.iter()
                .map(|s| if s.is_empty() { V::Blank } else { V::S(s) })
                .collect()
        })
        .collect()
}

/// Every entry of a zip: (name, content).
pub fn unzip(bytes: &[u8]) -> Vec<(String, Vec<u8>)> {
    let mut z = zip::ZipArchive::new(Cursor::new(bytes)).expect("zip");
    (0..z.len())
        .map(|i| {
            let mut f = z.by_index(i).expect("entry");
            let mut v = Vec::new();
            f.read_to_end(&mut v).expect("read entry");
            (f.name().map(|n| n.to_string()).unwrap_or_default(), v)
        })
        .collect()
}

/// A zip of these entries (stored, in order).
pub fn zip_of(entries: &[(String, Vec<u8>)]) -> Vec<u8> {
    let mut w = zip::ZipWriter::new(Cursor::new(Vec::new()));
    let opts =
        zip::write::SimpleFileOptions::default().compression_method(zip::CompressionMethod::Stored);
    for (name, content) in entries {
        w.start_file(name.as_str(), opts).expect("start");
        w.write_all(content).expect("write");
    }
    w.finish().expect("finish").into_inner()
}

/// Rewrite one entry of a zip.
pub fn rewrite(bytes: &[u8], name: &str, f: impl Fn(&str) -> String) -> Vec<u8> {
    let entries: Vec<(String, Vec<u8>)> = unzip(bytes)
        .into_iter()
        .map(|(n, c)| {
            if n == name {
                let s = f(&String::from_utf8_lossy(&c));
                (n, s.into_bytes())
            } else {
                (n, c)
            }
        })
        .collect();
    zip_of(&entries)
}

/// A minimal ODS with one sheet per (name, rows of strings); "#n" cells are numbers.
pub fn ods(sheets: &[(&str, &[&[&str]])]) -> Vec<u8> {
    let mut body = String::new();
    for (name, rows) in sheets {
        body.push_str(&format!("<table:table table:name=\"{name}\">"));
        for row in *rows {
            body.push_str("<table:table-row>");
            for cell in *row {
                if cell.is_empty() {
                    body.push_str("<table:table-cell/>");
                } else if let Some(n) = cell.strip_prefix('#') {
                    body.push_str(&format!("<table:table-cell office:value-type=\"float\" office:value=\"{n}\"><text:p>{n}</text:p></table:table-cell>"));
                } else {
                    body.push_str(&format!("<table:table-cell office:value-type=\"string\"><text:p>{cell}</text:p></table:table-cell>"));
                }
            }
            body.push_str("</table:table-row>");
        }
        // What LibreOffice writes after the data: a huge run of empty rows.
        body.push_str("<table:table-row table:number-rows-repeated=\"1048570\"><table:table-cell table:number-columns-repeated=\"1024\"/></table:table-row>");
        body.push_str("</table:table>");
    }
    let content = format!(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\
<office:document-content xmlns:office=\"urn:oasis:names:tc:opendocument:xmlns:office:1.0\" \
xmlns:table=\"urn:oasis:names:tc:opendocument:xmlns:table:1.0\" \
xmlns:text=\"urn:oasis:names:tc:opendocument:xmlns:text:1.0\" office:version=\"1.2\">\
<office:body><office:spreadsheet>{body}</office:spreadsheet></office:body></office:document-content>"
    );
    let manifest = "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\
<manifest:manifest xmlns:manifest=\"urn:oasis:names:tc:opendocument:xmlns:manifest:1.0\" manifest:version=\"1.2\">\
<manifest:file-entry manifest:full-path=\"/\" manifest:media-type=\"application/vnd.oasis.opendocument.spreadsheet\"/>\
<manifest:file-entry manifest:full-path=\"content.xml\" manifest:media-type=\"text/xml\"/>\
</manifest:manifest>";
    zip_of(&[
        (
            "mimetype".into(),
            b"application/vnd.oasis.opendocument.spreadsheet".to_vec(),
        ),
        ("META-INF/manifest.xml".into(), manifest.as_bytes().to_vec()),
        ("content.xml".into(), content.into_bytes()),
    ])
}

/// Open bytes as the Clients tab, in English.
pub fn open_clients(name: &str, bytes: Vec<u8>) -> Result<Opened, PackError> {
    open_bytes(name, bytes, Tab::Clients, Lang::En)
}

/// All rows, failing the test on a read error.
pub fn rows(o: Opened) -> Vec<RawRow> {
    o.rows.map(|r| r.expect("row")).collect()
}

/// The code of the issue that made a file unusable.
pub fn unusable_code(r: Result<Opened, PackError>) -> String {
    match r {
        Err(PackError::Unusable(i)) => i.code,
        Err(e) => panic!("expected an unusable file, got {e}"),
        Ok(o) => panic!("expected an unusable file, opened {o:?}"),
    }
}

/// The issue that made a file unusable.
pub fn unusable(r: Result<Opened, PackError>) -> clientele_core::issue::Issue {
    match r {
        Err(PackError::Unusable(i)) => i,
        Err(e) => panic!("expected an unusable file, got {e}"),
        Ok(o) => panic!("expected an unusable file, opened {o:?}"),
    }
}
