//! Measure the one-time decoding of the embedded French lists and the cost of a lookup:
//! (all valid pairs, as in an import) `cargo run --release -p clientele-core --example lists_load`.

use clientele_core::lists;
use std::time::Instant;

fn main() {
    let t = Instant::now();
    lists::preload();
    println!(
        "decode and index the lists: {:.1} ms",
        t.elapsed().as_secs_f64() * 1e3
    );
    let pairs = [
        ("75001", "Paris"),
        ("69002", "Lyon"),
        ("42000", "Saint-Étienne"),
        ("97400", "Saint-Denis"),
    ];
    let n = 1_000_000;
    let t = Instant::now();
    let mut ok = 0usize;
    for i in 0..n {
        let (code, city) = pairs[i % pairs.len()];
        ok += usize::from(lists::check_place(code, city) == lists::Place::Ok);
    }
    let per = t.elapsed().as_secs_f64() * 1e9 / n as f64;
    println!("check_place: {per:.0} ns per call ({ok} of {n} matched)");
}
