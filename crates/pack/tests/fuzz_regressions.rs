//! Every input the fuzzers found (crash, hang, excess memory), kept in
//! `fuzz/regressions/<target>/`, replayed through the reader as its fuzz target reads it: the
//! file must open or be refused with a `file.*`/`header.*` issue, and every row must be read,
//! without a panic. A hang shows as this test never finishing (the time bound is libFuzzer's
//! job, not a test's: see `scripts/fuzz.sh`).

use clientele_core::issue::{Lang, Severity};
use clientele_pack::{open_bytes, PackError, Tab};
use std::path::Path;

/// Rows read per tab at most, as the fuzz targets do.
const MAX_ROWS: usize = 5_000;

// zip_of, xlsx_input, ods_input: the fuzz targets' own code.
include!("../../../fuzz/src/inputs.rs");

/// The file a fuzz target makes of its input (`fuzz/src/lib.rs`, `ods_input`/`xlsx_input`).
fn as_file(target: &str, data: &[u8]) -> Option<(&'static str, Vec<u8>)> {
    match target {
        "csv_reader" => Some(("fuzz.csv", data.to_vec())),
        "ods_reader" => Some(("fuzz.ods", ods_input(data))),
        "xlsx_reader" => Some(("fuzz.xlsx", xlsx_input(data))),
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
