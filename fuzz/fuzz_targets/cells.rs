//! Cell parsing and validation of every field (`parse_cells`, `pad_postal_code`,
//! `check_row`): no panic; a value that validated reads back from its own text unchanged;
//! identifier checks agree with `compact`, which is idempotent.
#![no_main]

libfuzzer_sys::fuzz_target!(|pairs: Vec<(u8, clientele_fuzz::FuzzCell)>| {
    clientele_fuzz::check_cells(clientele_fuzz::cells_of(pairs));
});
