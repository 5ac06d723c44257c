//! Measure the one-time decoding of the embedded French lists and the cost of a lookup:
//! (all valid pairs, as in an import) `cargo run --release -p clientele-core --example lists_load`.

use clientele_core::lists;
use std::time::Instant;

fn rss_kb() -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmRSS:"))
                .and_then(|l| l.split_whitespace().nth(1).and_then(|v| v.parse().ok()))
        })
        .unwrap_or(0)
}

fn main() {
    let before = rss_kb();
    let t = Instant::now();
    lists::preload();
    println!(
        "decode and index the lists: {:.1} ms, VmRSS +{:.1} MB",
        t.elapsed().as_secs_f64() * 1e3,
        (rss_kb().saturating_sub(before)) as f64 / 1024.0
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
