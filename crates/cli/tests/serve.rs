//! Two `clientele serve` processes on one database: what one writes, the other serves
//! (API and call routing), through the real binary, `user add`, `token create` and HTTP.

mod common;

use clientele_testkit::hidden;
use common::{Backend, TestDb};
use serde_json::{json, Value};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

struct Server {
    child: Child,
    base: String,
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn free_port() -> u16 {
    let l = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    l.local_addr().expect("addr").port()
}

fn start(db: &TestDb) -> Server {
    start_logging(db, None)
}

/// A server whose log (standard error) goes to `log`, at `CLIENTELE_LOG=debug`.
fn start_logging(db: &TestDb, log: Option<&std::path::Path>) -> Server {
    let port = free_port();
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_clientele"));
    cmd.args([
        "--db",
        &db.url,
        "serve",
        "--listen",
        &format!("127.0.0.1:{port}"),
    ])
    .stdout(Stdio::null());
    match log {
        Some(path) => {
            cmd.env("CLIENTELE_LOG", "debug")
                .stderr(std::fs::File::create(path).expect("log file"));
        }
        None => {
            cmd.stderr(Stdio::null());
        }
    }
    let child = cmd.spawn().expect("spawn serve");
    let server = Server {
        child,
        base: format!("http://127.0.0.1:{port}"),
    };
    common::wait_until_up(&server.base);
    server
}

fn two_servers_share_one_database(db: &TestDb) {
    // A user from the command line, then a token from the login route.
    db.add_user("staff@example.fr");
    let lookup_token = db.run(&["token", "create", "pbx", "--scope", "lookup"]);
    assert!(lookup_token.status.success());
    let lookup_token = String::from_utf8_lossy(&lookup_token.stdout)
        .trim()
        .to_string();

    let a = start(db);
    let b = start(db);
    let http = reqwest::blocking::Client::new();
    let login: Value = http
        .post(format!(
            "{}/api/login?email=staff@example.fr&password=correct%20horse%20battery",
            a.base
        ))
        .send()
        .expect("login")
        .json()
        .expect("json");
    let token = login["token"].as_str().expect("token").to_string();

    let created: Value = http
        .post(format!("{}/api/v1/customers", a.base))
        .bearer_auth(&token)
        .json(&json!({"name": "Créé sur A", "mobilePhone": "06 12 34 56 78", "vip": "1"}))
        .send()
        .expect("create")
        .json()
        .expect("json");
    let id = created["id"].as_i64().expect("id");

    // The API of B reads the same database.
    let on_b: Value = http
        .get(format!("{}/api/v1/customers/{id}", b.base))
        .bearer_auth(&token)
        .send()
        .expect("show")
        .json()
        .expect("json");
    assert_eq!(on_b["name"], "Créé sur A");

    // Routing on B learns the new number from the change log within a second or so.
    let url = format!(
        "{}/api/isVipByPhoneNumber?phoneNumber=0612345678&api_token={lookup_token}",
        b.base
    );
    let start = Instant::now();
    loop {
        let r = http.get(&url).send().expect("routing");
        if r.status().is_success() {
            assert_eq!(r.text().expect("body"), "true");
            break;
        }
        assert!(
            start.elapsed() < Duration::from_secs(5),
            "server B never saw the customer created on A"
        );
        std::thread::sleep(Duration::from_millis(100));
    }
    assert!(
        start.elapsed() < Duration::from_millis(2_000),
        "took {:?}",
        start.elapsed()
    );

    // And the command-line lookup agrees.
    let (code, l) = db.json(&["lookup", "+33612345678"]);
    assert_eq!(code, 0);
    assert_eq!(l["phone"]["isVipByPhoneNumber"], true, "{l}");
}

/// Even at `debug`, no password, token, `api_token` or `Authorization` value reaches the
/// log; failed logins are there with the client address.
fn secrets_never_reach_the_log(db: &TestDb) {
    db.add_user("staff@example.fr");
    let out = db.run(&["token", "create", "pbx", "--scope", "lookup"]);
    assert!(out.status.success());
    let lookup = String::from_utf8_lossy(&out.stdout).trim().to_string();
    let log = db.path("server.log");
    let server = start_logging(db, Some(&log));
    let http = reqwest::blocking::Client::new();
    // The routing index loads in the background: 503 until it is complete.
    let mut status = 503;
    for _ in 0..400 {
        status = http
            .get(format!(
                "{}/api/isKnownPhoneNumber?phoneNumber=0140000000&api_token={lookup}",
                server.base
            ))
            .send()
            .expect("routing")
            .status()
            .as_u16();
        if status != 503 {
            break;
        }
        std::thread::sleep(Duration::from_millis(25));
    }
    assert_eq!(status, 200);
    let login: Value = http
        .post(format!(
            "{}/api/login?email=staff@example.fr&password=correct%20horse%20battery",
            server.base
        ))
        .send()
        .expect("login")
        .json()
        .expect("json");
    let token = login["token"].as_str().expect("token").to_string();
    let r = http
        .post(format!("{}/api/login", server.base))
        .json(&json!({"email": "staff@example.fr", "password": "Wrong-Secret-42"}))
        .send()
        .expect("bad login");
    assert_eq!(r.status(), 401);
    let r = http
        .post(format!("{}/api/v1/customers", server.base))
        .bearer_auth(&token)
        .json(&json!({"name": "Logged Ltd", "ftpPassword": "Ftp-Secret-77"}))
        .send()
        .expect("create");
    assert_eq!(r.status(), 201);
    drop(server);
    let text = std::fs::read_to_string(&log).expect("log");
    assert!(text.contains("DEBUG"), "the log is at debug: {text}");
    for secret in [
        lookup.as_str(),
        token.as_str(),
        "correct horse battery",
        "correct%20horse%20battery",
        "Wrong-Secret-42",
        "Ftp-Secret-77",
    ] {
        assert!(!text.contains(secret), "{secret} in the log:\n{text}");
    }
    assert!(text.contains("api_token=***"), "{text}");
    let failed = text
        .lines()
        .find(|l| l.contains("login failed"))
        .unwrap_or_else(|| panic!("no failed login in the log:\n{text}"));
    assert!(
        failed.contains("INFO") && failed.contains("127.0.0.1"),
        "{failed}"
    );
}

#[test]
fn sqlite_secrets_never_reach_the_log() {
    if let Some(db) = TestDb::new(Backend::Sqlite) {
        secrets_never_reach_the_log(&db);
    }
}

#[test]
fn postgres_secrets_never_reach_the_log() {
    if let Some(db) = TestDb::new(Backend::Postgres) {
        secrets_never_reach_the_log(&db);
    }
}

#[test]
fn sqlite_two_servers_share_one_database() {
    if let Some(db) = TestDb::new(Backend::Sqlite) {
        two_servers_share_one_database(&db);
    }
}

#[test]
fn postgres_two_servers_share_one_database() {
    if let Some(db) = TestDb::new(Backend::Postgres) {
        two_servers_share_one_database(&db);
    }
}

/// The value of cookie `name` among a response's Set-Cookie headers.
fn set_cookie(r: &reqwest::blocking::Response, name: &str) -> String {
    r.headers()
        .get_all("set-cookie")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find_map(|v| v.strip_prefix(&format!("{name}=")))
        .and_then(|v| v.split(';').next())
        .unwrap_or_else(|| panic!("no {name} cookie"))
        .to_string()
}

/// First run in the browser: a server over an empty database prints a one-time code; the
/// login page leads to /setup, which creates the first administrator for that code only,
/// signs them in, and is closed afterwards.
fn first_administrator_in_the_browser(db: &TestDb) {
    let log = db.path("serve.log");
    let server = start_logging(db, Some(&log));
    let printed = std::fs::read_to_string(&log).expect("log");
    let code = printed
        .split("give the setup code ")
        .nth(1)
        .and_then(|t| t.split_whitespace().next())
        .unwrap_or_else(|| panic!("no setup code in: {printed}"))
        .to_string();
    assert_eq!(code.len(), 19, "{code}");
    let http = reqwest::blocking::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .expect("client");
    let url = |p: &str| format!("{}{p}", server.base);
    let r = http.get(url("/login")).send().expect("login");
    assert_eq!(r.status(), 303);
    assert_eq!(r.headers()["location"], "/setup");
    let page = http.get(url("/setup")).send().expect("setup");
    let csrf_cookie = set_cookie(&page, "clientele_setup");
    let html = page.text().expect("html");
    let csrf = hidden(&html, "_csrf");
    let post = |fields: &[(&str, &str)]| {
        let mut form = vec![("_csrf", csrf.as_str())];
        form.extend_from_slice(fields);
        http.post(url("/setup"))
            .header("Cookie", format!("clientele_setup={csrf_cookie}"))
            .form(&form)
            .send()
            .expect("post")
    };
    let good = [
        ("name", "Ann Admin"),
        ("email", "ann@example.fr"),
        ("password", "correct horse battery"),
        ("password_confirmation", "correct horse battery"),
    ];
    // A wrong code, a weak password: refused, nothing created.
    let mut wrong = good.to_vec();
    wrong.push(("code", "AAAA-BBBB-CCCC-DDDD"));
    let r = post(&wrong);
    assert_eq!(r.status(), 422);
    assert!(r
        .text()
        .expect("html")
        .contains("Code de première installation incorrect"));
    let lower = code.to_lowercase();
    let mut weak = vec![
        ("name", "Ann"),
        ("email", "ann@example.fr"),
        ("password", "password"),
        ("password_confirmation", "password"),
    ];
    weak.push(("code", lower.as_str()));
    let r = post(&weak);
    assert_eq!(r.status(), 422);
    assert!(r.text().expect("html").contains("Mot de passe trop court"));
    // The right code (case and dashes do not matter): created and signed in.
    let mut right = good.to_vec();
    right.push(("code", lower.as_str()));
    let r = post(&right);
    assert_eq!(r.status(), 303, "{}", r.text().unwrap_or_default());
    assert_eq!(r.headers()["location"], "/");
    let session = set_cookie(&r, "clientele_session");
    let home = http
        .get(url("/"))
        .header("Cookie", format!("clientele_session={session}"))
        .send()
        .expect("home");
    assert_eq!(home.status(), 200);
    assert!(home.text().expect("html").contains("Ann Admin"));
    // Closed now: the page leads to the login, a replayed form creates nobody.
    let r = http.get(url("/setup")).send().expect("setup");
    assert_eq!(r.status(), 303);
    let mut replay = vec![
        ("name", "Eve"),
        ("email", "eve@example.fr"),
        ("password", "another long password"),
        ("password_confirmation", "another long password"),
    ];
    replay.push(("code", lower.as_str()));
    let r = post(&replay);
    assert_eq!(r.status(), 303);
    assert_eq!(r.headers()["location"], "/login");
    let login = |email: &str, password: &str| {
        http.post(url("/api/login"))
            .form(&[("email", email), ("password", password)])
            .send()
            .expect("api login")
            .status()
            .as_u16()
    };
    assert_eq!(login("ann@example.fr", "correct horse battery"), 200);
    assert_eq!(login("eve@example.fr", "another long password"), 401);
}

#[test]
fn sqlite_first_administrator_in_the_browser() {
    if let Some(db) = TestDb::new(Backend::Sqlite) {
        first_administrator_in_the_browser(&db);
    }
}

#[test]
fn postgres_first_administrator_in_the_browser() {
    if let Some(db) = TestDb::new(Backend::Postgres) {
        first_administrator_in_the_browser(&db);
    }
}
