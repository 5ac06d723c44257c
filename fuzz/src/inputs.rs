// Included by fuzz/src/lib.rs and crates/pack/tests/fuzz_regressions.rs (the fuzz crate is
// not a member of the main workspace): how a fuzz input becomes the file a reader opens.

/// A zip archive of `entries`, stored (not compressed).
fn zip_of(entries: &[(&str, &[u8])]) -> Vec<u8> {
    use std::io::Write;
    let mut w = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
    let opts =
        zip::write::SimpleFileOptions::default().compression_method(zip::CompressionMethod::Stored);
    for (name, bytes) in entries {
        w.start_file(*name, opts).expect("in-memory zip");
        w.write_all(bytes).expect("in-memory zip");
    }
    w.finish().expect("in-memory zip").into_inner()
}

/// The input as an XLSX file: a whole file when it starts as a zip, else the XML parts
/// `sheet1.xml \0 sharedStrings.xml \0 workbook.xml` (later ones optional) put into a
/// minimal workbook, so that mutations reach the XML parsers instead of the deflate stream.
pub fn xlsx_input(data: &[u8]) -> Vec<u8> {
    if data.starts_with(b"PK\x03\x04") {
        return data.to_vec();
    }
    let mut parts = data.splitn(3, |b| *b == 0);
    let sheet = parts.next().unwrap_or_default();
    let shared = parts.next();
    let workbook = parts.next().unwrap_or(XLSX_WORKBOOK);
    let mut entries: Vec<(&str, &[u8])> = vec![
        ("[Content_Types].xml", XLSX_TYPES),
        ("_rels/.rels", XLSX_RELS),
        ("xl/workbook.xml", workbook),
        ("xl/_rels/workbook.xml.rels", XLSX_WORKBOOK_RELS),
        ("xl/worksheets/sheet1.xml", sheet),
    ];
    if let Some(s) = shared {
        entries.push(("xl/sharedStrings.xml", s));
    }
    zip_of(&entries)
}

/// The input as an ODS file: a whole file when it starts as a zip, else `content.xml`.
pub fn ods_input(data: &[u8]) -> Vec<u8> {
    if data.starts_with(b"PK\x03\x04") {
        return data.to_vec();
    }
    zip_of(&[
        (
            "mimetype",
            b"application/vnd.oasis.opendocument.spreadsheet",
        ),
        ("META-INF/manifest.xml", ODS_MANIFEST),
        ("content.xml", data),
    ])
}

const XLSX_TYPES: &[u8] = br#"<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types"><Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/><Default Extension="xml" ContentType="application/xml"/><Override PartName="/xl/workbook.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/><Override PartName="/xl/worksheets/sheet1.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/><Override PartName="/xl/sharedStrings.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sharedStrings+xml"/></Types>"#;
const XLSX_RELS: &[u8] = br#"<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships"><Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument" Target="xl/workbook.xml"/></Relationships>"#;
const XLSX_WORKBOOK_RELS: &[u8] = br#"<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships"><Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/worksheet" Target="worksheets/sheet1.xml"/><Relationship Id="rId2" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/sharedStrings" Target="sharedStrings.xml"/></Relationships>"#;
const XLSX_WORKBOOK: &[u8] = br#"<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<workbook xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships"><sheets><sheet name="Clients" sheetId="1" r:id="rId1"/></sheets></workbook>"#;
const ODS_MANIFEST: &[u8] = br#"<?xml version="1.0" encoding="UTF-8"?><manifest:manifest xmlns:manifest="urn:oasis:names:tc:opendocument:xmlns:manifest:1.0" manifest:version="1.2"><manifest:file-entry manifest:full-path="/" manifest:media-type="application/vnd.oasis.opendocument.spreadsheet"/><manifest:file-entry manifest:full-path="content.xml" manifest:media-type="text/xml"/></manifest:manifest>"#;
