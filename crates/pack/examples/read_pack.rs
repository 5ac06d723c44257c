//! Read a pack and print what was detected, the row count and the time taken.
//!
//! usage: cargo run --release -p clientele-pack --example read_pack -- FILE [contacts]

use clientele_core::issue::Lang;
use clientele_pack::{open, Tab};
use std::time::Instant;

fn main() {
    let mut args = std::env::args().skip(1);
    let Some(path) = args.next() else {
        eprintln!("usage: read_pack FILE [contacts]");
        std::process::exit(2);
    };
    let tab = if args.next().as_deref() == Some("contacts") {
        Tab::Contacts
    } else {
        Tab::Clients
    };
    let started = Instant::now();
    let opened = match open(std::path::Path::new(&path), tab, Lang::En) {
        Ok(o) => o,
        Err(e) => {
            eprintln!("{e}");
            std::process::exit(2);
        }
    };
    println!(
        "sheet {:?} encoding {:?} delimiter {:?} header row {} columns {} warnings {}",
        opened.sheet,
        opened.encoding,
        opened.delimiter,
        opened.header_row,
        opened.columns.len(),
        opened.warnings.len()
    );
    let (mut rows, mut cells) = (0u64, 0u64);
    for r in opened.rows {
        match r {
            Ok(r) => {
                rows += 1;
                cells += r.cells.len() as u64;
            }
            Err(e) => {
                eprintln!("{e}");
                std::process::exit(2);
            }
        }
    }
    println!(
        "{rows} rows, {cells} cells in {:.3} s",
        started.elapsed().as_secs_f64()
    );
}
