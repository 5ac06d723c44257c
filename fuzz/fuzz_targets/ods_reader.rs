//! The ODS reader through `open_bytes`, both tabs, every row drained and validated. The
//! input is a whole file or the `content.xml` of a minimal one (see `ods_input`).
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    clientele_fuzz::check_pack("fuzz.ods", &clientele_fuzz::ods_input(data));
});
