//! Header matching and suggestions for both tabs, on any heading text (also as the
//! header row of a CSV file, which runs the pack's header detection and its warnings).
#![no_main]

use clientele_core::catalogue::{fold, match_header, suggest_header, FIELDS};
use clientele_pack::{match_contact_header, CONTACT_FIELDS};

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    let Ok(header) = std::str::from_utf8(data) else {
        return;
    };
    let folded = fold(header);
    assert!(
        folded.chars().all(|c| c.is_alphanumeric()),
        "fold kept a non-alphanumeric character: {folded:?}"
    );
    // A match is found by folded equality: the field's own spellings match it.
    if let Some(f) = match_header(header) {
        let d = &FIELDS[f.idx()];
        assert!([d.heading, d.pack_key, d.api_key]
            .iter()
            .any(|n| fold(n) == folded));
    }
    if let Some(i) = match_contact_header(header) {
        assert!(i < CONTACT_FIELDS.len());
    }
    if let Some(h) = suggest_header(header) {
        assert!(FIELDS.iter().any(|d| d.heading == h));
    }
    // The same text as a header row (two headings around it), through the CSV reader.
    let mut csv = b"Raison sociale;".to_vec();
    csv.extend_from_slice(header.replace(['\r', '\n', ';', '"'], " ").as_bytes());
    csv.extend_from_slice(b";Ville\nA;b;c\n");
    clientele_fuzz::check_pack("headers.csv", &csv);
});
