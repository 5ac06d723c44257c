//! Every input the fuzzers found (crash, hang, excess memory), kept in
//! `fuzz/regressions/<target>/`, replayed through the reader as its fuzz target reads it: the
//! file must open or be refused with a `file.*`/`header.*` issue, and every row must be read,
//! without a panic. A hang shows as this test never finishing (the time bound is libFuzzer's
//! job, not a test's: see `scripts/fuzz.sh`).

use clientele_core::issue::{Lang, Severity};
use clientele_pack::{open_bytes, PackError, Tab};
use std::io::Write;
use std::path::Path;

/// Rows read per tab at most, as the fuzz targets do.
const MAX_ROWS: usize = 5_000;

fn zip_of(entries: &[(&str, &[u8])]) -> Vec<u8> {
    let mut w = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
    let opts =
        zip::write::SimpleFileOptions::default().compression_method(zip::CompressionMethod::Stored);
    for (name, bytes) in entries {
        w.start_file(*name, opts).expect("in-memory zip");
        w.write_all(bytes).expect("in-memory zip");
    }
    w.finish().expect("in-memory zip").into_inner()
}

const ODS_MANIFEST: &[u8] = br#"<?xml version="1.0" encoding="UTF-8"?><manifest:manifest xmlns:manifest="urn:oasis:names:tc:opendocument:xmlns:manifest:1.0" manifest:version="1.2"><manifest:file-entry manifest:full-path="/" manifest:media-type="application/vnd.oasis.opendocument.spreadsheet"/><manifest:file-entry manifest:full-path="content.xml" manifest:media-type="text/xml"/></manifest:manifest>"#;
const XLSX_TYPES: &[u8] = br#"<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types"><Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/><Default Extension="xml" ContentType="application/xml"/><Override PartName="/xl/workbook.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/><Override PartName="/xl/worksheets/sheet1.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/><Override PartName="/xl/sharedStrings.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sharedStrings+xml"/></Types>"#;
const XLSX_RELS: &[u8] = br#"<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships"><Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument" Target="xl/workbook.xml"/></Relationships>"#;
const XLSX_WORKBOOK_RELS: &[u8] = br#"<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships"><Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/worksheet" Target="worksheets/sheet1.xml"/><Relationship Id="rId2" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/sharedStrings" Target="sharedStrings.xml"/></Relationships>"#;
const XLSX_WORKBOOK: &[u8] = br#"<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<workbook xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships"><sheets><sheet name="Clients" sheetId="1" r:id="rId1"/></sheets></workbook>"#;

/// The file a fuzz target makes of its input (`fuzz/src/lib.rs`, `ods_input`/`xlsx_input`).
fn as_file(target: &str, data: &[u8]) -> Option<(&'static str, Vec<u8>)> {
    let zipped = data.starts_with(b"PK\x03\x04");
    match target {
        "csv_reader" => Some(("fuzz.csv", data.to_vec())),
        "ods_reader" if zipped => Some(("fuzz.ods", data.to_vec())),
        "ods_reader" => Some((
            "fuzz.ods",
            zip_of(&[
                (
                    "mimetype",
                    b"application/vnd.oasis.opendocument.spreadsheet",
                ),
                ("META-INF/manifest.xml", ODS_MANIFEST),
                ("content.xml", data),
            ]),
        )),
        "xlsx_reader" if zipped => Some(("fuzz.xlsx", data.to_vec())),
        "xlsx_reader" => {
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
            Some(("fuzz.xlsx", zip_of(&entries)))
        }
        // Targets that do not read files (cells, phone, headers, api_input) keep their
        // regressions as unit tests next to the code.
        _ => None,
    }
}

fn replay(name: &str, bytes: &[u8]) {
    for tab in [Tab::Clients, Tab::Contacts] {
        match open_bytes(name, bytes.to_vec(), tab, Lang::En) {
            Ok(opened) => {
                for row in opened.rows.take(MAX_ROWS) {
                    if let Err(e) = row {
                        assert!(matches!(e, PackError::Unusable(_)), "{e:?}");
                        break;
                    }
                }
            }
            Err(PackError::Unusable(issue)) => {
                assert!(
                    issue.code.starts_with("file.") || issue.code.starts_with("header."),
                    "{issue:?}"
                );
                assert_eq!(issue.severity, Severity::Error, "{issue:?}");
            }
            Err(other) => panic!("unexpected error kind: {other:?}"),
        }
    }
}

#[test]
fn every_kept_fuzz_input_reads_without_panic_or_hang() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../fuzz/regressions");
    let mut replayed = 0;
    for target in std::fs::read_dir(&root).expect("fuzz/regressions") {
        let target = target.expect("entry").path();
        let t = target
            .file_name()
            .and_then(|n| n.to_str())
            .unwrap_or_default()
            .to_string();
        for input in std::fs::read_dir(&target).expect("target dir") {
            let path = input.expect("entry").path();
            let data = std::fs::read(&path).expect("read input");
            if let Some((name, bytes)) = as_file(&t, &data) {
                replay(name, &bytes);
                replayed += 1;
            }
        }
    }
    // The kept inputs are found (a moved folder would otherwise make this test pass empty).
    assert!(replayed >= 5, "only {replayed} inputs replayed");
}
