//! The XLSX reader through `open_bytes`, both tabs, every row drained and validated. The
//! input is a whole file or the XML parts of a minimal workbook (see `xlsx_input`).
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    clientele_fuzz::check_pack("fuzz.xlsx", &clientele_fuzz::xlsx_input(data));
});
