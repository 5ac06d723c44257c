//! Helpers for the end-to-end tests: run the real binary against a real database.
#![allow(dead_code)]

use serde_json::Value;
use std::io::Write;
use std::path::Path;
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

pub use clientele_testkit::Backend;

/// A test database ([`clientele_testkit::TestDb`]: a SQLite file in a temporary folder, or a
/// fresh PostgreSQL database) that the `clientele` binary runs against.
pub struct TestDb(clientele_testkit::TestDb);

impl std::ops::Deref for TestDb {
    type Target = clientele_testkit::TestDb;

    fn deref(&self) -> &Self::Target {
        &self.0
    }
}

impl TestDb {
    /// A fresh database on `backend`; None (with a message) when PostgreSQL is not reachable
    /// and not required.
    pub fn new(backend: Backend) -> Option<TestDb> {
        clientele_testkit::TestDb::new(backend).map(TestDb)
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

    /// `user add <email>` with `password` on standard input.
    pub fn user_add(&self, email: &str, password: &str) -> Output {
        let mut add = Command::new(env!("CARGO_BIN_EXE_clientele"))
            .args(["--db", &self.url, "user", "add", email])
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("user add");
        add.stdin
            .take()
            .expect("stdin")
            .write_all(format!("{password}\n").as_bytes())
            .expect("password");
        add.wait_with_output().expect("wait")
    }

    /// A user with the password the tests log in with, `correct horse battery`.
    pub fn add_user(&self, email: &str) {
        assert!(self
            .user_add(email, "correct horse battery")
            .status
            .success());
    }

    /// One customer by account.
    pub fn customer(&self, account: &str) -> Value {
        self.customers()
            .into_iter()
            .find(|c| c["customerAccount"] == account)
            .unwrap_or_else(|| panic!("no customer {account}"))
    }
}

/// Wait until the server at `base` answers (30 s at most).
pub fn wait_until_up(base: &str) {
    let client = reqwest::blocking::Client::new();
    let start = Instant::now();
    while client.get(format!("{base}/api/version")).send().is_err() {
        assert!(
            start.elapsed() < Duration::from_secs(30),
            "server did not start"
        );
        std::thread::sleep(Duration::from_millis(100));
    }
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
