//! Benchmark baseline: a bare calamine read of a workbook's first sheet (no validation).
use calamine::{open_workbook_auto, Data, Reader};

fn main() {
    let Some(path) = std::env::args().nth(1) else {
        eprintln!("usage: calamine_read FILE.xlsx");
        std::process::exit(2);
    };
    let mut wb = match open_workbook_auto(&path) {
        Ok(wb) => wb,
        Err(e) => {
            eprintln!("{path}: {e}");
            std::process::exit(2);
        }
    };
    let Some(sheet) = wb.sheet_names().first().cloned() else {
        eprintln!("{path}: no sheet");
        std::process::exit(2);
    };
    let range = match wb.worksheet_range(&sheet) {
        Ok(r) => r,
        Err(e) => {
            eprintln!("{path}: {e}");
            std::process::exit(2);
        }
    };
    // Touch every cell so nothing is optimised away.
    let cells = range
        .rows()
        .flatten()
        .filter(|c| !matches!(c, Data::Empty))
        .count();
    println!("{} rows, {cells} cells", range.height());
}
