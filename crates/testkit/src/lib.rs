//! Helpers shared by the test suites of the workspace (a dev-dependency only).
//!
//! Each test gets a database of its own: a SQLite file in a temporary folder, or a
//! PostgreSQL database created on the server of `CLIENTELE_TEST_PG` (default
//! [`DEFAULT_PG_ADMIN`]) and dropped with the value. Without a reachable server a
//! PostgreSQL test prints `SKIPPED: PostgreSQL not reachable …` and passes, unless
//! `CLIENTELE_TEST_PG_REQUIRED` is set: then it fails, so that a CI job meant to cover
//! PostgreSQL cannot pass by skipping.

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};

/// Every string literal that looks like a message id (`group.rest`, lower-case letters,
/// digits, `_` and `.`) in the files below `dirs`, kept when `accept(group, rest)` says so,
/// with the file it stands in: the tests that check every id used names a message.
pub fn message_ids_in(
    dirs: &[PathBuf],
    accept: impl Fn(&str, &str) -> bool,
) -> Vec<(String, String)> {
    let mut dirs = dirs.to_vec();
    let mut ids = Vec::new();
    while let Some(dir) = dirs.pop() {
        for entry in std::fs::read_dir(&dir).expect("src readable").flatten() {
            let path = entry.path();
            if path.is_dir() {
                dirs.push(path);
                continue;
            }
            let text = std::fs::read_to_string(&path).unwrap_or_default();
            for part in text.split('"').skip(1).step_by(2) {
                let is_id = part
                    .split_once('.')
                    .is_some_and(|(g, rest)| !rest.is_empty() && accept(g, rest))
                    && part.chars().all(|c| {
                        c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_' || c == '.'
                    });
                if is_id {
                    ids.push((path.display().to_string(), part.to_string()));
                }
            }
        }
    }
    ids
}

/// The PostgreSQL server the tests use when `CLIENTELE_TEST_PG` is not set.
pub const DEFAULT_PG_ADMIN: &str = "postgres://postgres@127.0.0.1:5432/test";

/// Where the PostgreSQL tests connect to create their databases.
pub fn pg_admin_url() -> String {
    std::env::var("CLIENTELE_TEST_PG").unwrap_or_else(|_| DEFAULT_PG_ADMIN.into())
}

/// Whether a PostgreSQL test must fail, rather than skip, when no server answers.
pub fn pg_required() -> bool {
    std::env::var_os("CLIENTELE_TEST_PG_REQUIRED").is_some()
}

/// A connection to the admin database; None, having said the test is skipped, when no
/// server answers. Panics then instead when PostgreSQL is required.
fn admin() -> Option<postgres::Client> {
    let url = pg_admin_url();
    match postgres::Client::connect(&url, postgres::NoTls) {
        Ok(c) => Some(c),
        Err(e) => {
            let shown = redacted(&url);
            assert!(
                !pg_required(),
                "PostgreSQL required (CLIENTELE_TEST_PG_REQUIRED) but {shown} is not reachable: {e}"
            );
            eprintln!("SKIPPED: PostgreSQL not reachable at {shown}; set CLIENTELE_TEST_PG to run the PostgreSQL tests");
            None
        }
    }
}

/// Whether a PostgreSQL server answers (see [`admin`] for the skip-or-fail rule), for a
/// suite that creates its databases later.
pub fn pg_available() -> bool {
    admin().is_some()
}

/// The URL with its password masked, for messages (`CLIENTELE_TEST_PG` may carry one).
fn redacted(url: &str) -> String {
    match url
        .split_once("://")
        .and_then(|(s, rest)| Some((s, rest.rsplit_once('@')?)))
    {
        Some((scheme, (cred, host))) if cred.contains(':') => {
            let user = cred.split(':').next().unwrap_or("");
            format!("{scheme}://{user}:***@{host}")
        }
        _ => url.to_string(),
    }
}

/// Databases created by this process (the process id tells processes apart).
static NEXT_DB: AtomicUsize = AtomicUsize::new(0);

/// A fresh PostgreSQL database, dropped (even with sessions still open) with the value.
pub struct PgDb {
    /// Its connection URL.
    pub url: String,
    name: String,
}

impl PgDb {
    /// A new database on the server of [`pg_admin_url`]; None when no server answers and
    /// PostgreSQL is not required.
    pub fn new() -> Option<PgDb> {
        let mut admin = admin()?;
        let name = format!(
            "clientele_t_{}_{}",
            std::process::id(),
            NEXT_DB.fetch_add(1, Ordering::SeqCst)
        );
        // A database of a killed run whose process id came round again would make the
        // creation fail: nobody else can be using that name now. Two statements: neither
        // may run inside the transaction a multi-statement batch makes.
        for sql in [
            format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"),
            format!("CREATE DATABASE {name}"),
        ] {
            admin
                .batch_execute(&sql)
                .unwrap_or_else(|e| panic!("{sql}: {e:?}"));
        }
        let admin_url = pg_admin_url();
        let base = admin_url
            .rsplit_once('/')
            .map_or(admin_url.as_str(), |(b, _)| b);
        Some(PgDb {
            url: format!("{base}/{name}"),
            name,
        })
    }

    /// The database's name.
    pub fn name(&self) -> &str {
        &self.name
    }
}

impl Drop for PgDb {
    fn drop(&mut self) {
        if let Ok(mut c) = postgres::Client::connect(&pg_admin_url(), postgres::NoTls) {
            let _ = c.batch_execute(&format!(
                "DROP DATABASE IF EXISTS {} WITH (FORCE)",
                self.name
            ));
        }
    }
}

/// Which backend a test runs on.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Backend {
    /// A SQLite file.
    Sqlite,
    /// A PostgreSQL server.
    Postgres,
}

/// The SQLite database file of a test folder.
pub fn sqlite_path(dir: &Path) -> String {
    dir.join("test.db").display().to_string()
}

/// A test's database (a SQLite file or a fresh PostgreSQL database) and a temporary folder
/// for its other files; both go with the value.
pub struct TestDb {
    /// The database URL: the SQLite file's path, or the PostgreSQL URL.
    pub url: String,
    /// Temporary folder of the test (the SQLite file is in it).
    pub dir: tempfile::TempDir,
    /// Dropped after the folder: the database goes last.
    _pg: Option<PgDb>,
}

impl TestDb {
    /// A fresh database on `backend`; None (having said so) when PostgreSQL is not
    /// reachable and not required.
    pub fn new(backend: Backend) -> Option<TestDb> {
        let dir = tempfile::tempdir().expect("temp dir");
        let (url, pg) = match backend {
            Backend::Sqlite => (sqlite_path(dir.path()), None),
            Backend::Postgres => {
                let pg = PgDb::new()?;
                (pg.url.clone(), Some(pg))
            }
        };
        Some(TestDb { url, dir, _pg: pg })
    }

    /// A path in the test folder.
    pub fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }
}

/// Complete a digit string with its Luhn check digit (the check of SIREN and SIRET).
pub fn luhn_complete(prefix: &str) -> String {
    for d in 0..10u32 {
        let s = format!("{prefix}{d}");
        let sum: u32 = s
            .bytes()
            .rev()
            .enumerate()
            .map(|(i, b)| {
                let n = u32::from(b.wrapping_sub(b'0'));
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

/// A valid (SIRET, VAT) pair derived from `i`: distinct `i` give distinct companies.
pub fn siret_vat(i: u64) -> (String, String) {
    let siren = luhn_complete(&format!("{:08}", 10_000_000 + i));
    let siret = luhn_complete(&format!("{siren}0001"));
    let n: u64 = siren.parse().expect("digits");
    (siret, format!("FR{:02}{siren}", (12 + 3 * (n % 97)) % 97))
}

/// The value of the first hidden input named `name` in a page (a form's CSRF token).
pub fn hidden(html: &str, name: &str) -> String {
    let marker = format!("name=\"{name}\" value=\"");
    let start = html.find(&marker).expect("hidden input") + marker.len();
    html[start..].split('"').next().expect("value").to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn passwords_are_masked() {
        assert_eq!(redacted(DEFAULT_PG_ADMIN), DEFAULT_PG_ADMIN);
        assert_eq!(
            redacted("postgres://u:secret@h:5432/db"),
            "postgres://u:***@h:5432/db"
        );
    }

    #[test]
    fn generated_identifiers_are_valid() {
        let (siret, vat) = siret_vat(7);
        assert_eq!(siret.len(), 14);
        assert!(vat.starts_with("FR") && vat.ends_with(&siret[..9]));
        assert_eq!(luhn_complete("7328293200007"), "73282932000074");
    }
}
