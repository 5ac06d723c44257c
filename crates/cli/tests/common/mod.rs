//! Helpers for the end-to-end tests: run the real binary against a real database.
#![allow(dead_code)]

use serde_json::Value;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

/// Where the PostgreSQL tests connect (a fresh database is created per test).
pub fn pg_admin_url() -> String {
    std::env::var("CLIENTELE_TEST_PG")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/test".into())
}

/// A test database: a SQLite file in a temporary folder, or a fresh PostgreSQL database.
pub struct TestDb {
    /// The `--db` argument.
    pub url: String,
    /// Temporary folder for files of the test.
    pub dir: tempfile::TempDir,
    pg_name: Option<String>,
}

/// Which backend a test runs on.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Backend {
    /// SQLite file.
    Sqlite,
    /// PostgreSQL server.
    Postgres,
}

impl TestDb {
    /// A fresh database on `backend`; None (with a message) when PostgreSQL is not reachable
    /// and not required.
    pub fn new(backend: Backend) -> Option<TestDb> {
        let dir = tempfile::tempdir().expect("temp dir");
        match backend {
            Backend::Sqlite => Some(TestDb {
                url: dir.path().join("test.db").display().to_string(),
                dir,
                pg_name: None,
            }),
            Backend::Postgres => {
                let admin = pg_admin_url();
                let name = format!(
                    "clientele_t_{}_{}",
                    std::process::id(),
                    NEXT.fetch_add(1, std::sync::atomic::Ordering::SeqCst)
                );
                let ok = Command::new("psql")
                    .arg(&admin)
                    .arg("-qc")
                    .arg(format!("CREATE DATABASE {name}"))
                    .output()
                    .map(|o| o.status.success())
                    .unwrap_or(false);
                if !ok {
                    if std::env::var_os("CLIENTELE_TEST_PG_REQUIRED").is_some() {
                        panic!("PostgreSQL required (CLIENTELE_TEST_PG_REQUIRED) but {admin} is not reachable");
                    }
                    eprintln!("SKIPPED: PostgreSQL not reachable at {admin}; set CLIENTELE_TEST_PG to run the PostgreSQL tests");
                    return None;
                }
                let base = admin
                    .rsplit_once('/')
                    .map(|(b, _)| b.to_string())
                    .unwrap_or(admin.clone());
                Some(TestDb {
                    url: format!("{base}/{name}"),
                    dir,
                    pg_name: Some(name),
                })
            }
        }
    }

    /// A path in the test folder.
    pub fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }

    /// Run `clientele --db <db> args…`.
    pub fn run(&self, args: &[&str]) -> Output {
        Command::new(env!("CARGO_BIN_EXE_clientele"))
            .arg("--db")
            .arg(&self.url)
            .args(args)
            .current_dir(self.dir.path())
            .env("LANG", "C")
            .output()
            .expect("run clientele")
    }

    /// Run and parse the JSON printed on stdout; returns (exit code, json).
    pub fn json(&self, args: &[&str]) -> (i32, Value) {
        let mut a = args.to_vec();
        a.extend(["--format", "json"]);
        let out = self.run(&a);
        let code = out.status.code().unwrap_or(-1);
        let v = serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
            panic!(
                "not JSON ({e}): stdout={} stderr={}",
                String::from_utf8_lossy(&out.stdout),
                String::from_utf8_lossy(&out.stderr)
            )
        });
        (code, v)
    }

    /// All customers as API objects (through `export --format jsonl`).
    pub fn customers(&self) -> Vec<Value> {
        let out = self.run(&["export", "--format", "jsonl"]);
        assert!(
            out.status.success(),
            "export failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8_lossy(&out.stdout)
            .lines()
            .map(|l| serde_json::from_str(l).expect("jsonl line"))
            .collect()
    }

    /// One customer by account.
    pub fn customer(&self, account: &str) -> Value {
        self.customers()
            .into_iter()
            .find(|c| c["customerAccount"] == account)
            .unwrap_or_else(|| panic!("no customer {account}"))
    }
}

impl Drop for TestDb {
    fn drop(&mut self) {
        if let Some(name) = &self.pg_name {
            let _ = Command::new("psql")
                .arg(pg_admin_url())
                .arg("-qc")
                .arg(format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
                .output();
        }
    }
}

static NEXT: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);

/// Complete a digit string with its Luhn check digit.
pub fn luhn_complete(prefix: &str) -> String {
    for d in 0..10 {
        let s = format!("{prefix}{d}");
        let sum: u32 = s
            .bytes()
            .rev()
            .enumerate()
            .map(|(i, b)| {
                let n = u32::from(b - b'0');
                if i % 2 == 1 {
                    let m = n * 2;
                    if m > 9 {
                        m - 9
                    } else {
                        m
                    }
                } else {
                    n
                }
            })
            .sum();
        if sum.is_multiple_of(10) {
            return s;
        }
    }
    unreachable!("one of ten digits always completes a Luhn number")
}

/// A valid (SIRET, VAT) pair derived from `i`.
pub fn siret_vat(i: u64) -> (String, String) {
    let siren = luhn_complete(&format!("{:08}", 10_000_000 + i));
    let siret = luhn_complete(&format!("{siren}0001"));
    let n: u64 = siren.parse().expect("digits");
    (siret, format!("FR{:02}{siren}", (12 + 3 * (n % 97)) % 97))
}

/// Write a CSV file (UTF-8, `;`) from rows of strings.
pub fn write_csv(path: &Path, rows: &[Vec<String>]) {
    let text: String = rows.iter().map(|r| r.join(";") + "\r\n").collect();
    std::fs::write(path, text).expect("write csv");
}

/// A row of strings.
pub fn row(cells: &[&str]) -> Vec<String> {
    cells.iter().map(|s| s.to_string()).collect()
}

/// Run each named test function (taking a `&TestDb`) on SQLite and on PostgreSQL; the
/// PostgreSQL one says when it is skipped.
#[allow(unused_macros)]
macro_rules! on_both {
    ($($name:ident),* $(,)?) => {
        mod sqlite { $( #[test] fn $name() { if let Some(db) = super::TestDb::new(super::Backend::Sqlite) { super::$name(&db) } } )* }
        mod postgres { $( #[test] fn $name() { if let Some(db) = super::TestDb::new(super::Backend::Postgres) { super::$name(&db) } } )* }
    };
}
