//! The CSV reader through `open_bytes`, both tabs, every row drained and validated.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    clientele_fuzz::check_pack("fuzz.csv", data);
});
