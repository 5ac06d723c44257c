//! The routing index in process (issue 18): bytes per number, load time, look-up p50/p99.
//!
//! ```sh
//! cargo run --release -p clientele-server --example index_bench -- synthetic 10000000
//! cargo run --release -p clientele-server --example index_bench -- db bench-data/routing-1000000-1000000.db
//! ```
//!
//! `synthetic N`: N numbers built in memory through the same row-by-row path as a database
//! load: N/2 customers with a landline each (names and accounts shaped as genpack.py writes
//! them) and N/2 contacts with a mobile each. `db URL`: the index of a real database (SQLite
//! path or `postgres://…`), loaded as `clientele serve` loads it. Both print the index's own
//! allocation per number and this process's memory (VmRSS, VmHWM) next to its size before.

use clientele_server::index::{self, Index};
use clientele_store::{RoutingContact, RoutingCustomer, RoutingPhone, RoutingRow};
use std::time::{Duration, Instant};

fn status_kb(field: &str) -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with(field))
                .and_then(|l| l.split_whitespace().nth(1).and_then(|v| v.parse().ok()))
        })
        .unwrap_or(0)
}

/// A small deterministic generator (no dependency for a benchmark).
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
}

const WORDS: [&str; 8] = [
    "Télécom",
    "Réseaux",
    "Informatique",
    "Boulangerie",
    "Garage",
    "Cabinet",
    "Services",
    "Pharmacie",
];
const NAMES: [&str; 8] = [
    "Dupont", "Martin", "Bernard", "Lefèvre", "Girard", "Mercier", "Müller", "Noël",
];

fn synthetic(n: u64) -> (Index, Vec<String>) {
    let customers = n / 2;
    let contacts = n - customers;
    let mut rng = Rng(0x2545_f491_4f6c_dd1d);
    let mut ix = Index::default();
    ix.load_row(RoutingRow::Counts {
        customers,
        contacts,
        phones: n,
    });
    for i in 1..=customers {
        ix.load_row(RoutingRow::Customer(RoutingCustomer {
            id: i as i64,
            account: format!("CL{i:06}"),
            name: format!(
                "{} {} {i}",
                WORDS[rng.below(8) as usize],
                NAMES[rng.below(8) as usize]
            ),
            active: rng.below(20) != 0,
            vip: rng.below(10) == 0,
            on_call: rng.below(5) == 0,
            updated_at: "2026-11-27T12:34:56.123456Z".into(),
        }));
    }
    for i in 1..=contacts {
        ix.load_row(RoutingRow::Contact(RoutingContact {
            id: i as i64,
            customer_id: ((i - 1) % customers.max(1) + 1) as i64,
        }));
    }
    for i in 1..=customers {
        ix.load_row(RoutingRow::Phone(RoutingPhone {
            e164: format!("+331{:08}", 40_000_000 + i),
            customer_id: i as i64,
            contact_id: None,
        }));
    }
    for i in 1..=contacts {
        ix.load_row(RoutingRow::Phone(RoutingPhone {
            e164: format!("+336{:08}", i),
            customer_id: ((i - 1) % customers.max(1) + 1) as i64,
            contact_id: Some(i as i64),
        }));
    }
    let sample = (0..200_000)
        .map(|_| {
            if rng.below(2) == 0 {
                format!("01{:08}", 40_000_000 + 1 + rng.below(customers.max(1)))
            } else {
                format!("06{:08}", 1 + rng.below(contacts.max(1)))
            }
        })
        .collect();
    (ix, sample)
}

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    if sorted.is_empty() {
        return Duration::ZERO;
    }
    sorted[((sorted.len() - 1) as f64 * p) as usize]
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let rss_before = status_kb("VmRSS:");
    let started = Instant::now();
    let (ix, known) = match args.first().map(String::as_str) {
        Some("synthetic") => {
            let n = args
                .get(1)
                .and_then(|v| v.parse().ok())
                .unwrap_or(10_000_000);
            synthetic(n)
        }
        Some("db") => {
            let Some(url) = args.get(1) else {
                eprintln!("usage: index_bench db <sqlite path | postgres://…>");
                std::process::exit(2);
            };
            let store = match clientele_store::open_api(url) {
                Ok(s) => s,
                Err(e) => {
                    eprintln!("index_bench: cannot open {url}: {e}");
                    std::process::exit(3);
                }
            };
            let ix = match index::load(store.as_ref()) {
                Ok(ix) => ix,
                Err(e) => {
                    eprintln!("index_bench: cannot load: {e}");
                    std::process::exit(3);
                }
            };
            // Known numbers in their national form, as a PBX sends them.
            let numbers = ix.numbers();
            let mut rng = Rng(0x9e37_79b9_7f4a_7c15);
            let known = (0..200_000.min(numbers.len() * 4))
                .map(|_| {
                    let n = &numbers[rng.below(numbers.len() as u64) as usize].0;
                    match n.strip_prefix("+33") {
                        Some(rest) => format!("0{rest}"),
                        None => n.clone(),
                    }
                })
                .collect();
            drop(store);
            (ix, known)
        }
        _ => {
            eprintln!("usage: index_bench synthetic [N] | index_bench db <url>");
            std::process::exit(2);
        }
    };
    let load = started.elapsed();
    let (customers, contacts, numbers) = ix.sizes();
    let f = ix.footprint();
    let rss = status_kb("VmRSS:");
    let hwm = status_kb("VmHWM:");

    let mut times = Vec::with_capacity(known.len() * 2);
    let mut found = 0usize;
    let mut rng = Rng(7);
    for k in &known {
        let t = Instant::now();
        found += usize::from(std::hint::black_box(ix.by_phone(k)).is_some());
        times.push(t.elapsed());
        // An unknown number too: most calls of a PBX are from numbers nobody filed.
        let unknown = format!("07{:08}", rng.below(100_000_000));
        let t = Instant::now();
        std::hint::black_box(ix.by_phone(&unknown));
        times.push(t.elapsed());
    }
    times.sort_unstable();
    let n = numbers.max(1) as f64;
    println!("customers {customers}, contacts {contacts}, numbers {numbers}");
    println!(
        "load: {:.2} s; index {:.1} MB = {:.1} bytes per number (numbers {:.1}, customers {:.1}, contacts {:.1}, names {:.1})",
        load.as_secs_f64(),
        f.total() as f64 / 1e6,
        f.total() as f64 / n,
        f.numbers as f64 / n,
        f.customers as f64 / n,
        f.contacts as f64 / n,
        f.strings as f64 / n,
    );
    println!(
        "process: VmRSS {:.1} MB (before {:.1} MB: {:.1} bytes per number), VmHWM {:.1} MB",
        rss as f64 / 1024.0,
        rss_before as f64 / 1024.0,
        (rss.saturating_sub(rss_before) * 1024) as f64 / n,
        hwm as f64 / 1024.0,
    );
    println!(
        "look-ups: {} ({} known found), p50 {:.2} µs, p99 {:.2} µs",
        times.len(),
        found,
        percentile(&times, 0.5).as_secs_f64() * 1e6,
        percentile(&times, 0.99).as_secs_f64() * 1e6,
    );
}
