//! Reading speed of a CSV pack against a baseline measured in the same run: the csv crate
//! alone, on one thread, turning every field into an owned `String` (the least any reader
//! producing owned cells must do).
//!
//! usage: python3 /work/shared/tools/genpack.py 1000000 /tmp/p.csv
//!        cargo run --release -p clientele-pack --example bench_read -- /tmp/p.csv

use clientele_core::issue::Lang;
use clientele_pack::{open, Tab};
use std::time::Instant;

fn baseline(path: &str) -> std::io::Result<(usize, f64)> {
    let started = Instant::now();
    let mut rdr = csv::ReaderBuilder::new()
        .delimiter(b';')
        .has_headers(false)
        .flexible(true)
        .from_reader(std::fs::File::open(path)?);
    let mut rec = csv::ByteRecord::new();
    let mut rows = 0;
    while rdr.read_byte_record(&mut rec)? {
        let cells: Vec<String> = rec
            .iter()
            .map(|f| String::from_utf8_lossy(f).into_owned())
            .collect();
        rows += usize::from(!cells.is_empty());
    }
    Ok((rows, started.elapsed().as_secs_f64()))
}

// `PackError` carries a whole `Issue` (see lib.rs).
#[allow(clippy::result_large_err)]
fn ours(path: &str) -> Result<(usize, f64), clientele_pack::PackError> {
    let started = Instant::now();
    let opened = open(std::path::Path::new(path), Tab::Clients, Lang::En)?;
    let mut rows = 0;
    for r in opened.rows {
        r?;
        rows += 1;
    }
    Ok((rows, started.elapsed().as_secs_f64()))
}

fn main() {
    let Some(path) = std::env::args().nth(1) else {
        eprintln!("usage: bench_read FILE.csv");
        std::process::exit(2);
    };
    for _ in 0..2 {
        let (b_rows, b) = match baseline(&path) {
            Ok(r) => r,
            Err(e) => {
                eprintln!("{e}");
                std::process::exit(2);
            }
        };
        let (o_rows, o) = match ours(&path) {
            Ok(r) => r,
            Err(e) => {
                eprintln!("{e}");
                std::process::exit(2);
            }
        };
        println!("baseline {b_rows} records {b:.3} s | clientele-pack {o_rows} rows {o:.3} s | ratio {:.2}", o / b);
    }
}
