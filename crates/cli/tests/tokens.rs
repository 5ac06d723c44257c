//! Tokens' life cycle and the password policy through the real binary: two `clientele
//! serve` processes on one database (SQLite file and PostgreSQL), `token create | list |
//! revoke`, login tokens that expire after the configured idle time, last uses written to
//! the database, `user add` refusing weak passwords, and imports recording who made them.

mod common;

use common::{Backend, TestDb};
use serde_json::Value;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// Idle timeout of login tokens on the test servers.
const IDLE_SECS: u64 = 3;

struct Server {
    child: Child,
    base: String,
    log: PathBuf,
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Server {
    fn log(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }
}

fn free_port() -> u16 {
    let l = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    l.local_addr().expect("addr").port()
}

fn start(db: &TestDb, name: &str) -> Server {
    let port = free_port();
    let log = db.path(&format!("{name}.log"));
    let child = Command::new(env!("CARGO_BIN_EXE_clientele"))
        .args([
            "--db",
            &db.url,
            "serve",
            "--listen",
            &format!("127.0.0.1:{port}"),
            "--token-idle-timeout",
            &format!("{IDLE_SECS}s"),
        ])
        .env("CLIENTELE_LOG", "info")
        .stdout(Stdio::null())
        .stderr(std::fs::File::create(&log).expect("log file"))
        .spawn()
        .expect("spawn serve");
    let server = Server {
        child,
        base: format!("http://127.0.0.1:{port}"),
        log,
    };
    common::wait_until_up(&server.base);
    server
}

/// GET a read route with a token; the status.
fn status(base: &str, token: &str) -> u16 {
    reqwest::blocking::Client::new()
        .get(format!("{base}/api/v1/customers"))
        .bearer_auth(token)
        .send()
        .expect("request")
        .status()
        .as_u16()
}

/// Wait until `f` holds (servers learn of other processes' writes on their poll tick).
fn eventually(what: &str, mut f: impl FnMut() -> bool) {
    let start = Instant::now();
    while !f() {
        assert!(start.elapsed() < Duration::from_secs(20), "never: {what}");
        std::thread::sleep(Duration::from_millis(100));
    }
}

fn login(base: &str) -> String {
    let v: Value = reqwest::blocking::Client::new()
        .post(format!("{base}/api/login"))
        .form(&[
            ("email", "staff@example.fr"),
            ("password", "correct horse battery"),
        ])
        .send()
        .expect("login")
        .json()
        .expect("json");
    v["token"].as_str().expect("token").to_string()
}

fn list(db: &TestDb) -> Vec<Value> {
    let (code, v) = db.json(&["token", "list"]);
    assert_eq!(code, 0);
    v.as_array().expect("array").clone()
}

fn token_life(backend: Backend) {
    let Some(db) = TestDb::new(backend) else {
        return;
    };
    // The password policy of `user add`.
    let short = db.user_add("staff@example.fr", "s3cret!");
    assert_eq!(short.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&short.stderr).contains("too short"));
    let common = db.user_add("staff@example.fr", "QWERTYUIOP");
    assert_eq!(common.status.code(), Some(2));
    assert!(
        String::from_utf8_lossy(&common.stderr).contains("most common"),
        "{}",
        String::from_utf8_lossy(&common.stderr)
    );
    let ok = db.user_add("staff@example.fr", "correct horse battery");
    assert!(
        ok.status.success(),
        "{}",
        String::from_utf8_lossy(&ok.stderr)
    );

    // A named token, one with an expiry, and two servers.
    let out = db.run(&["token", "create", "sync", "--scope", "write"]);
    assert!(out.status.success());
    let sync = String::from_utf8_lossy(&out.stdout).trim().to_string();
    let out = db.run(&[
        "token",
        "create",
        "audit",
        "--scope",
        "read",
        "--expires-in",
        "90d",
    ]);
    assert!(out.status.success());
    let bad = db.run(&[
        "token",
        "create",
        "x",
        "--scope",
        "read",
        "--idle-timeout",
        "90",
    ]);
    assert_eq!(bad.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&bad.stderr).contains("--idle-timeout"));
    let a = start(&db, "a");
    let b = start(&db, "b");
    assert_eq!(status(&a.base, &sync), 200);
    assert_eq!(status(&b.base, &sync), 200);

    // Listed, with their life.
    let tokens = list(&db);
    let audit = tokens.iter().find(|t| t["name"] == "audit").expect("audit");
    assert!(audit["expiresAt"]
        .as_str()
        .is_some_and(|e| e.starts_with("20")));
    assert_eq!(audit["idleTimeoutSecs"], Value::Null);
    let sync_rec = tokens.iter().find(|t| t["name"] == "sync").expect("sync");
    assert_eq!(sync_rec["expiresAt"], Value::Null);

    // A login token made on A works on B; its use is written to the database in batches
    // (at most every quarter of the idle time here) and `token list` shows it.
    let l1 = login(&a.base);
    let l1_id = list(&db)
        .iter()
        .find(|t| t["name"] == "login")
        .and_then(|t| t["id"].as_i64())
        .expect("login token listed");
    eventually("B accepts A's login token", || status(&b.base, &l1) == 200);
    eventually("last use written", || {
        list(&db)
            .iter()
            .find(|t| t["id"] == l1_id)
            .is_some_and(|t| t["lastUsedAt"].is_string() && t["idleTimeoutSecs"] == IDLE_SECS)
    });

    // Kept in use on A only, it stays valid on B past the idle time: B's own record of its
    // last use is old, the database's (written by A) decides.
    let started = Instant::now();
    while started.elapsed() < Duration::from_secs(IDLE_SECS + 2) {
        assert_eq!(status(&a.base, &l1), 200);
        std::thread::sleep(Duration::from_millis(400));
    }
    assert_eq!(status(&b.base, &l1), 200, "in use on A: alive on B");

    // Left unused past the idle time, it is refused by both, and the expiry is logged.
    let l2 = login(&a.base);
    eventually("B accepts the second login token", || {
        status(&b.base, &l2) == 200
    });
    std::thread::sleep(Duration::from_secs(IDLE_SECS + 2));
    assert_eq!(status(&b.base, &l2), 401, "expired");
    assert_eq!(status(&a.base, &l2), 401, "expired");
    eventually("expiry logged", || {
        format!("{}{}", a.log(), b.log())
            .lines()
            .any(|l| l.contains("token expired") && l.contains("INFO"))
    });
    assert!(a.log().contains("token created"), "{}", a.log());

    assert_eq!(status(&b.base, &l1), 401, "l1 expired too");

    // Two tokens share a name: revoking by that name is refused (by id it works, below).
    for _ in 0..2 {
        assert!(db
            .run(&["token", "create", "dup", "--scope", "read"])
            .status
            .success());
    }
    let ambiguous = db.run(&["token", "revoke", "dup"]);
    assert_eq!(ambiguous.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&ambiguous.stderr).contains("revoke one by its id"));
    let unknown = db.run(&["token", "revoke", "nope"]);
    assert_eq!(unknown.status.code(), Some(2));

    // Revoked from the command line: refused by both servers within their poll interval.
    let out = db.run(&["token", "revoke", "sync"]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    eventually("A refuses the revoked token", || {
        status(&a.base, &sync) == 401
    });
    eventually("B refuses the revoked token", || {
        status(&b.base, &sync) == 401
    });
    assert!(list(&db).iter().all(|t| t["name"] != "sync"));

    // A login token revoked by id (the newest: ids are never reused).
    let l5 = login(&a.base);
    eventually("B accepts l5", || status(&b.base, &l5) == 200);
    let l5_id = list(&db)
        .iter()
        .filter(|t| t["name"] == "login")
        .filter_map(|t| t["id"].as_i64())
        .max()
        .expect("login tokens");
    let out = db.run(&["token", "revoke", &l5_id.to_string()]);
    assert!(out.status.success());
    eventually("B refuses the revoked login token", || {
        status(&b.base, &l5) == 401
    });
    eventually("A refuses the revoked login token", || {
        status(&a.base, &l5) == 401
    });
}

#[test]
fn sqlite_token_life() {
    token_life(Backend::Sqlite);
}

#[test]
fn postgres_token_life() {
    token_life(Backend::Postgres);
}

fn cli_import_records_the_os_user(backend: Backend) {
    let Some(db) = TestDb::new(backend) else {
        return;
    };
    let csv = db.path("pack.csv");
    common::write_csv(
        &csv,
        &[
            common::row(&["Compte client", "Raison sociale"]),
            common::row(&["AUD1", "Audit CLI"]),
        ],
    );
    let run = |args: &[&str], user: Option<&str>| {
        let mut c = Command::new(env!("CARGO_BIN_EXE_clientele"));
        c.arg("--db").arg(&db.url).args(args).env_remove("LOGNAME");
        match user {
            Some(u) => c.env("USER", u),
            None => c.env_remove("USER"),
        };
        c.output().expect("run")
    };
    let out = run(&["import", csv.to_str().expect("path")], Some("marie"));
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let out = run(&["undo", "1"], None);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let (_, imports) = db.json(&["imports"]);
    assert_eq!(imports[0]["actor"], "cli:marie", "{imports}");
    assert_eq!(imports[0]["undoneBy"], "cli", "{imports}");
}

#[test]
fn sqlite_cli_import_records_the_os_user() {
    cli_import_records_the_os_user(Backend::Sqlite);
}

#[test]
fn postgres_cli_import_records_the_os_user() {
    cli_import_records_the_os_user(Backend::Postgres);
}
