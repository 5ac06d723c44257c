//! Operations, with the real tools: Prometheus scraping `/metrics`, `/ready` while the
//! database goes away and comes back, backups under write load, `pg_dump`/`pg_restore`,
//! the configuration layers, JSON logs, `systemd-analyze verify` on the unit, nginx with TLS
//! in front of `clientele serve`, and Kamailio routing calls placed with `sipp`.
//!
//! A test whose tool is missing prints SKIPPED and passes, unless
//! `CLIENTELE_TEST_TOOLS_REQUIRED=1` (set by `.ci/run`, which installs them).

mod common;

use common::{Backend, TestDb};
use serde_json::{json, Value};
use std::net::{TcpListener, TcpStream};
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

const BIN: &str = env!("CARGO_BIN_EXE_clientele");

/// The repository root (deploy/ files).
fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// Whether `tool` is installed; panics when it is missing and the tools are required.
fn tool(name: &str) -> bool {
    let found = Command::new("sh")
        .arg("-c")
        .arg(format!("command -v {name}"))
        .output()
        .map(|o| o.status.success())
        .unwrap_or(false);
    if !found {
        if std::env::var_os("CLIENTELE_TEST_TOOLS_REQUIRED").is_some() {
            panic!("{name} is required (CLIENTELE_TEST_TOOLS_REQUIRED) but not installed");
        }
        eprintln!("SKIPPED: {name} not installed (apt-get install it to run this test)");
    }
    found
}

fn free_port() -> u16 {
    let l = TcpListener::bind("127.0.0.1:0").expect("bind");
    l.local_addr().expect("addr").port()
}

/// A child process killed when dropped.
struct Proc(Child);

impl Drop for Proc {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// A process started in a process group of its own ([`CommandExt::process_group`]), killed
/// with every process it forked: Kamailio's workers outlived the main process killed alone.
struct Group(Child);

impl Drop for Group {
    fn drop(&mut self) {
        // The group's id is its leader's pid. SAFETY: kill(2) on a pid has no memory effect.
        if let Ok(pid) = i32::try_from(self.0.id()) {
            unsafe { libc::kill(-pid, libc::SIGKILL) };
        }
        let _ = self.0.wait();
    }
}

/// Poll `f` every 100 ms until it returns Some, for at most `limit` (then panic with `what`).
fn wait_for<T>(limit: Duration, what: &str, mut f: impl FnMut() -> Option<T>) -> T {
    let start = Instant::now();
    loop {
        if let Some(v) = f() {
            return v;
        }
        assert!(start.elapsed() < limit, "gave up waiting: {what}");
        std::thread::sleep(Duration::from_millis(100));
    }
}

/// A running `clientele serve`.
struct Server {
    proc: Proc,
    base: String,
    port: u16,
    log: PathBuf,
}

fn serve(db: &TestDb, url: &str, extra: &[&str], env: &[(&str, &str)]) -> Server {
    let port = free_port();
    let log = db.path(&format!("serve-{port}.log"));
    let mut cmd = Command::new(BIN);
    cmd.args([
        "--db",
        url,
        "serve",
        "--listen",
        &format!("127.0.0.1:{port}"),
    ])
    .args(extra)
    .current_dir(db.dir.path())
    .env("LANG", "C")
    .stdout(Stdio::null())
    .stderr(std::fs::File::create(&log).expect("log file"));
    for (k, v) in env {
        cmd.env(k, v);
    }
    let proc = Proc(cmd.spawn().expect("spawn serve"));
    let base = format!("http://127.0.0.1:{port}");
    let http = reqwest::blocking::Client::new();
    wait_for(Duration::from_secs(60), "server start", || {
        http.get(format!("{base}/health"))
            .send()
            .ok()
            .filter(|r| r.status().is_success())
    });
    Server {
        proc,
        base,
        port,
        log,
    }
}

fn http() -> reqwest::blocking::Client {
    reqwest::blocking::Client::builder()
        .timeout(Duration::from_secs(30))
        .build()
        .expect("client")
}

/// A user, a write token (from /api/login) and a lookup token.
fn tokens(db: &TestDb, base: &str) -> (String, String) {
    db.add_user("ops@example.fr");
    let login: Value = http()
        .post(format!(
            "{base}/api/login?email=ops@example.fr&password=correct%20horse%20battery"
        ))
        .send()
        .expect("login")
        .json()
        .expect("json");
    let write = login["token"].as_str().expect("token").to_string();
    let out = db.run(&[
        "token",
        "create",
        "pbx",
        "--scope",
        "lookup",
        "--allow",
        "127.0.0.0/8",
    ]);
    assert!(out.status.success());
    let lookup = String::from_utf8_lossy(&out.stdout).trim().to_string();
    (write, lookup)
}

fn create(base: &str, token: &str, body: Value) -> Value {
    let r = http()
        .post(format!("{base}/api/v1/customers"))
        .bearer_auth(token)
        .json(&body)
        .send()
        .expect("create");
    assert_eq!(r.status().as_u16(), 201, "{body}");
    r.json().expect("json")
}

fn routing(base: &str, route: &str, number: &str, token: &str) -> (u16, String) {
    let r = http()
        .get(format!("{base}/api/{route}"))
        .query(&[("phoneNumber", number), ("api_token", token)])
        .send()
        .expect("routing");
    (r.status().as_u16(), r.text().expect("body"))
}

fn ready(base: &str) -> (u16, Value) {
    let r = http().get(format!("{base}/ready")).send().expect("ready");
    (r.status().as_u16(), r.json().expect("json"))
}

/// `/ready`'s body once it says 200: a server that has just started loads its routing
/// index first (a loaded machine once took longer than the first request).
fn wait_ready(base: &str) -> Value {
    wait_for(Duration::from_secs(30), "/ready to say 200", || {
        let (s, b) = ready(base);
        (s == 200).then_some(b)
    })
}

// ------------------------------------------------------------------------------------
// Prometheus
// ------------------------------------------------------------------------------------

fn prom_query(prom: &str, q: &str) -> Vec<Value> {
    let v: Value = http()
        .get(format!("{prom}/api/v1/query"))
        .query(&[("query", q)])
        .send()
        .and_then(|r| r.json())
        .unwrap_or(Value::Null);
    v["data"]["result"].as_array().cloned().unwrap_or_default()
}

fn prom_value(prom: &str, q: &str) -> Option<f64> {
    prom_query(prom, q)
        .first()
        .and_then(|r| r["value"][1].as_str().and_then(|s| s.parse().ok()))
}

fn prometheus_scrapes_metrics(db: &TestDb) {
    // The alert rules of deploy/ are valid Prometheus rules.
    let rules = Command::new("promtool")
        .args(["check", "rules"])
        .arg(repo().join("deploy/prometheus/clientele-alerts.yml"))
        .output()
        .expect("promtool");
    assert!(
        rules.status.success(),
        "{}{}",
        String::from_utf8_lossy(&rules.stdout),
        String::from_utf8_lossy(&rules.stderr)
    );
    let server = serve(db, &db.url, &[], &[]);
    let (write, lookup) = tokens(db, &server.base);
    create(
        &server.base,
        &write,
        json!({"name": "Métriques SA", "phone": "01 40 00 00 01", "vip": true}),
    );
    // The allow-list: loopback by default, so this test may read it; another network may not.
    let m = http()
        .get(format!("{}/metrics", server.base))
        .send()
        .expect("metrics");
    assert_eq!(m.status().as_u16(), 200);
    let text = m.text().expect("text");
    assert!(text.contains("clientele_routing_index_entries"), "{text}");

    let dir = db.path("prom");
    std::fs::create_dir_all(&dir).expect("dir");
    let config = dir.join("prometheus.yml");
    std::fs::write(
        &config,
        format!(
            "global:\n  scrape_interval: 1s\n  scrape_timeout: 900ms\nscrape_configs:\n  - job_name: clientele\n    static_configs:\n      - targets: ['127.0.0.1:{}']\n",
            server.port
        ),
    )
    .expect("config");
    let pport = free_port();
    let prom = format!("http://127.0.0.1:{pport}");
    let _p = Proc(
        Command::new("prometheus")
            .arg(format!("--config.file={}", config.display()))
            .arg(format!(
                "--storage.tsdb.path={}",
                dir.join("data").display()
            ))
            .arg(format!("--web.listen-address=127.0.0.1:{pport}"))
            .stdout(Stdio::null())
            .stderr(std::fs::File::create(dir.join("prometheus.log")).expect("log"))
            .spawn()
            .expect("prometheus"),
    );
    // Prometheus itself says the target is up.
    wait_for(
        Duration::from_secs(60),
        "Prometheus scraping clientele",
        || (prom_value(&prom, "up{job=\"clientele\"}") == Some(1.0)).then_some(()),
    );
    for series in [
        "clientele_routing_index_entries{kind=\"customers\"}",
        "clientele_routing_sync_lag_seconds",
        "clientele_db_pool_connections{state=\"max\"}",
        "clientele_routing_syncs_total",
        "clientele_job_queue_depth",
    ] {
        wait_for(Duration::from_secs(30), series, || {
            (!prom_query(&prom, series).is_empty()).then_some(())
        });
    }
    assert_eq!(
        prom_value(&prom, "clientele_routing_index_entries{kind=\"customers\"}"),
        Some(1.0)
    );
    // Routing requests move the counter and the histogram, as Prometheus sees them.
    let q = "sum(clientele_http_requests_total{group=\"routing\",status=\"200\"})";
    let before = prom_value(&prom, q).unwrap_or(0.0);
    for _ in 0..25 {
        let (s, b) = routing(&server.base, "isVipByPhoneNumber", "0140000001", &lookup);
        assert_eq!((s, b.as_str()), (200, "true"));
    }
    let after = wait_for(
        Duration::from_secs(30),
        "the routing counter to move",
        || prom_value(&prom, q).filter(|v| *v >= before + 25.0),
    );
    assert!(after >= before + 25.0);
    let hist = wait_for(Duration::from_secs(30), "routing latency histogram", || {
        prom_value(
            &prom,
            "sum(clientele_http_request_duration_seconds_count{group=\"routing\"})",
        )
        .filter(|v| *v >= 25.0)
    });
    assert!(hist >= 25.0);
    // A failed login moves its counter too.
    let r = http()
        .post(format!(
            "{}/api/login?email=ops@example.fr&password=wrong-password",
            server.base
        ))
        .send()
        .expect("login");
    assert_eq!(r.status().as_u16(), 401);
    wait_for(Duration::from_secs(30), "login failure counter", || {
        prom_value(&prom, "clientele_login_failures_total").filter(|v| *v >= 1.0)
    });
}

#[test]
fn sqlite_prometheus_scrapes_metrics() {
    if tool("prometheus") {
        if let Some(db) = TestDb::new(Backend::Sqlite) {
            prometheus_scrapes_metrics(&db);
        }
    }
}

#[test]
fn postgres_prometheus_scrapes_metrics() {
    if tool("prometheus") {
        if let Some(db) = TestDb::new(Backend::Postgres) {
            prometheus_scrapes_metrics(&db);
        }
    }
}

#[test]
fn metrics_allow_list_and_no_metrics() {
    let Some(db) = TestDb::new(Backend::Sqlite) else {
        return;
    };
    let s = serve(&db, &db.url, &["--metrics-allow", "10.0.0.0/8"], &[]);
    let r = http().get(format!("{}/metrics", s.base)).send().expect("m");
    assert_eq!(r.status().as_u16(), 403);
    drop(s);
    let s = serve(&db, &db.url, &[], &[("CLIENTELE_NO_METRICS", "true")]);
    let r = http().get(format!("{}/metrics", s.base)).send().expect("m");
    assert_eq!(r.status().as_u16(), 404);
}

// ------------------------------------------------------------------------------------
// /ready while the database goes away
// ------------------------------------------------------------------------------------

/// A TCP relay to PostgreSQL that the test can cut (every connection closed, new ones
/// refused) and restore: the database "unreachable" without stopping the shared server.
struct Relay {
    port: u16,
    up: Arc<AtomicBool>,
    conns: Arc<Mutex<Vec<TcpStream>>>,
}

impl Relay {
    fn start(target: String) -> Relay {
        let l = TcpListener::bind("127.0.0.1:0").expect("bind");
        let port = l.local_addr().expect("addr").port();
        let up = Arc::new(AtomicBool::new(true));
        let conns = Arc::new(Mutex::new(Vec::<TcpStream>::new()));
        let (u, c) = (up.clone(), conns.clone());
        std::thread::spawn(move || {
            for client in l.incoming().flatten() {
                if !u.load(Ordering::SeqCst) {
                    drop(client);
                    continue;
                }
                let Ok(server) = TcpStream::connect(&target) else {
                    continue;
                };
                let pairs = [
                    (client.try_clone(), server.try_clone()),
                    (server.try_clone(), client.try_clone()),
                ];
                {
                    let mut g = c.lock().expect("lock");
                    g.push(client);
                    g.push(server);
                }
                for (a, b) in pairs {
                    if let (Ok(mut a), Ok(mut b)) = (a, b) {
                        std::thread::spawn(move || {
                            let _ = std::io::copy(&mut a, &mut b);
                            let _ = b.shutdown(std::net::Shutdown::Both);
                        });
                    }
                }
            }
        });
        Relay { port, up, conns }
    }
    fn cut(&self) {
        self.up.store(false, Ordering::SeqCst);
        for s in self.conns.lock().expect("lock").drain(..) {
            let _ = s.shutdown(std::net::Shutdown::Both);
        }
    }
    fn restore(&self) {
        self.up.store(true, Ordering::SeqCst);
    }
}

/// `postgres://user@host:port/name` → (`host:port`, the URL through `port`).
fn via_relay(url: &str, port: u16) -> (String, String) {
    let after = url.split_once('@').map_or(url, |(_, a)| a);
    let hostport = after.split('/').next().expect("host").to_string();
    (
        hostport.clone(),
        url.replacen(&hostport, &format!("127.0.0.1:{port}"), 1),
    )
}

/// Routing answers from memory while `/ready` says 503, then 200 again: `down` makes the
/// database unreachable, `up` brings it back.
fn ready_follows_database(db: &TestDb, url: &str, down: &dyn Fn(), up: &dyn Fn()) {
    let server = serve(db, url, &["--sync-interval-ms", "200"], &[]);
    let (write, lookup) = tokens(db, &server.base);
    create(
        &server.base,
        &write,
        json!({"name": "Toujours là", "phone": "01 40 00 00 07", "vip": true}),
    );
    let body = wait_ready(&server.base);
    assert_eq!(body["status"], "ready");
    assert_eq!(body["index"]["customers"], 1);

    down();
    let body = wait_for(Duration::from_secs(30), "/ready to say 503", || {
        let (s, b) = ready(&server.base);
        (s == 503).then_some(b)
    });
    let reasons = body["reasons"].to_string();
    assert!(reasons.contains("database unreachable"), "{body}");
    // Routing keeps answering from memory, every route and form.
    for n in ["0140000007", "+33140000007", "0033140000007"] {
        assert_eq!(
            routing(&server.base, "isVipByPhoneNumber", n, &lookup),
            (200, "true".to_string())
        );
    }
    assert_eq!(
        routing(&server.base, "isVipByPhoneNumber", "0140000099", &lookup).0,
        404
    );
    let h = http()
        .get(format!("{}/health", server.base))
        .send()
        .expect("h");
    assert_eq!(h.status().as_u16(), 200);

    up();
    let body = wait_for(Duration::from_secs(60), "/ready back to 200", || {
        let (s, b) = ready(&server.base);
        (s == 200).then_some(b)
    });
    assert_eq!(body["reasons"], json!([]));
    // And the server writes again.
    create(
        &server.base,
        &write,
        json!({"name": "Après le retour", "phone": "01 40 00 00 08"}),
    );
    assert_eq!(
        routing(&server.base, "isKnownPhoneNumber", "0140000008", &lookup),
        (200, "true".to_string())
    );
}

#[test]
fn sqlite_ready_when_the_database_file_goes_away() {
    let Some(db) = TestDb::new(Backend::Sqlite) else {
        return;
    };
    // A SQLite file moved away (a volume unmounted, a mistaken mv): the server's open
    // connections still read the old file, a new connection cannot open it.
    let file = PathBuf::from(&db.url);
    let moved = db.path("moved.db");
    let (f1, m1) = (file.clone(), moved.clone());
    ready_follows_database(
        &db,
        &db.url,
        &move || std::fs::rename(&f1, &m1).expect("move away"),
        &move || std::fs::rename(&moved, &file).expect("move back"),
    );
}

#[test]
fn postgres_ready_when_the_database_is_unreachable() {
    let Some(db) = TestDb::new(Backend::Postgres) else {
        return;
    };
    // Create the schema first (through the direct URL), then serve through the relay.
    assert!(db.run(&["settings"]).status.success());
    let (target, _) = via_relay(&db.url, 0);
    let relay = Arc::new(Relay::start(target));
    let (_, url) = via_relay(&db.url, relay.port);
    let (r1, r2) = (relay.clone(), relay.clone());
    ready_follows_database(&db, &url, &move || r1.cut(), &move || r2.restore());
}

// ------------------------------------------------------------------------------------
// Backups
// ------------------------------------------------------------------------------------

#[test]
fn sqlite_backup_under_write_load_and_restore() {
    let Some(db) = TestDb::new(Backend::Sqlite) else {
        return;
    };
    let server = serve(&db, &db.url, &[], &[]);
    let (write, lookup) = tokens(&db, &server.base);
    create(
        &server.base,
        &write,
        json!({"name": "Avant la sauvegarde", "phone": "01 40 00 00 11", "vip": true}),
    );
    // A writer creates customers through the API until told to stop (bounded in count).
    let stop = Arc::new(AtomicBool::new(false));
    let written = Arc::new(AtomicU64::new(0));
    let writer = {
        let (stop, written, base, write) = (
            stop.clone(),
            written.clone(),
            server.base.clone(),
            write.clone(),
        );
        std::thread::spawn(move || {
            let c = http();
            for i in 0..20_000u64 {
                if stop.load(Ordering::SeqCst) {
                    break;
                }
                let r = c
                    .post(format!("{base}/api/v1/customers"))
                    .bearer_auth(&write)
                    .json(&json!({"name": format!("Charge {i}"), "mobilePhone": format!("06{:08}", 10_000_000 + i)}))
                    .send()
                    .expect("create under load");
                assert_eq!(r.status().as_u16(), 201);
                written.fetch_add(1, Ordering::SeqCst);
            }
        })
    };
    wait_for(Duration::from_secs(60), "writes before the backup", || {
        (written.load(Ordering::SeqCst) >= 20).then_some(())
    });
    let at_start = written.load(Ordering::SeqCst);
    let copy = db.path("copy.db");
    let out = db.run(&["backup", copy.to_str().expect("utf-8")]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let at_end = written.load(Ordering::SeqCst);
    // The writer kept writing after the backup: it ran under write load.
    wait_for(Duration::from_secs(60), "writes after the backup", || {
        (written.load(Ordering::SeqCst) >= at_end + 20).then_some(())
    });
    stop.store(true, Ordering::SeqCst);
    writer.join().expect("writer");

    // An existing file is not replaced without --force.
    let again = db.run(&["backup", copy.to_str().expect("utf-8")]);
    assert_eq!(again.status.code(), Some(2));

    // The copy opens, passes the integrity check and holds one consistent state: every
    // customer's numbers indexed (written in the same transaction), no dangling row.
    let c = rusqlite::Connection::open(&copy).expect("open copy");
    let check: String = c
        .query_row("PRAGMA integrity_check", [], |r| r.get(0))
        .expect("check");
    assert_eq!(check, "ok");
    let fk: i64 = c
        .query_row("SELECT count(*) FROM pragma_foreign_key_check", [], |r| {
            r.get(0)
        })
        .expect("fk");
    assert_eq!(fk, 0);
    let n: i64 = c
        .query_row("SELECT count(*) FROM customers", [], |r| r.get(0))
        .expect("count");
    let loaded = 1 + at_start as i64;
    assert!(
        (loaded..=at_end as i64 + 2).contains(&n),
        "copy has {n} customers, expected between {loaded} and {}",
        at_end + 2
    );
    let unindexed: i64 = c
        .query_row(
            "SELECT count(*) FROM customers c WHERE NOT EXISTS (SELECT 1 FROM phones p WHERE p.customer_id = c.id)",
            [],
            |r| r.get(0),
        )
        .expect("phones");
    assert_eq!(unindexed, 0);
    drop(c);

    // The copy is a working database.
    let copy_db = copy.to_str().expect("utf-8");
    let out = Command::new(BIN)
        .args(["--db", copy_db, "lookup", "0140000011", "--format", "json"])
        .output()
        .expect("lookup");
    let l: Value = serde_json::from_slice(&out.stdout).expect("json");
    assert_eq!(l["phone"]["isVipByPhoneNumber"], true, "{l}");

    // Restore is refused while the server has the database open, and changes nothing.
    let before = db.customers().len();
    let out = db.run(&["restore", copy_db]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("stop the server first"),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(db.customers().len(), before);
    assert_eq!(
        routing(&server.base, "isKnownPhoneNumber", "0140000011", &lookup),
        (200, "true".into())
    );
    drop(server);

    // Server stopped: the restore brings back the state of the copy.
    let out = db.run(&["restore", copy_db]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(db.customers().len() as i64, n);
    let server = serve(&db, &db.url, &[], &[]);
    assert_eq!(wait_ready(&server.base)["status"], "ready");
    assert_eq!(
        routing(&server.base, "isVipByPhoneNumber", "+33140000011", &lookup),
        (200, "true".into())
    );
}

#[test]
fn postgres_dump_and_restore() {
    let Some(db) = TestDb::new(Backend::Postgres) else {
        return;
    };
    if !tool("pg_dump") || !tool("pg_restore") {
        return;
    }
    let server = serve(&db, &db.url, &[], &[]);
    let (write, lookup) = tokens(&db, &server.base);
    for i in 0..5 {
        create(
            &server.base,
            &write,
            json!({"name": format!("Sauvé {i}"), "phone": format!("01 40 00 01 0{i}"), "vip": i == 3}),
        );
    }
    // `clientele backup` points PostgreSQL users at pg_dump.
    let out = db.run(&["backup", "x.db"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("pg_dump"));

    // The documented procedure (docs/operations.md), while the server runs.
    let dump = db.path("clientele.dump");
    let out = Command::new("pg_dump")
        .args(["--format=custom", "--file"])
        .arg(&dump)
        .arg(&db.url)
        .output()
        .expect("pg_dump");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let target = TestDb::new(Backend::Postgres).expect("second database");
    let out = Command::new("pg_restore")
        .args(["--clean", "--if-exists", "--no-owner", "--exit-on-error"])
        .arg(format!("--dbname={}", target.url))
        .arg(&dump)
        .output()
        .expect("pg_restore");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(target.customers(), db.customers());
    // A server on the restored database routes the same, with the same tokens.
    let restored = serve(&target, &target.url, &[], &[]);
    assert_eq!(wait_ready(&restored.base)["status"], "ready");
    assert_eq!(
        routing(&restored.base, "isVipByPhoneNumber", "0140000103", &lookup),
        (200, "true".into())
    );
    assert_eq!(
        routing(&restored.base, "isVipByPhoneNumber", "0140000102", &lookup),
        (200, "false".into())
    );
}

// ------------------------------------------------------------------------------------
// Configuration and logs
// ------------------------------------------------------------------------------------

#[test]
fn config_layers_and_check() {
    let Some(db) = TestDb::new(Backend::Sqlite) else {
        return;
    };
    let file = db.path("clientele.toml");
    std::fs::write(
        &file,
        "listen = \"127.0.0.1:9999\"\nsync_interval_ms = 300\nready-max-lag = 7\nmetrics_allow = [\"10.1.0.0/16\", \"192.0.2.1\"]\n",
    )
    .expect("toml");
    let run = |args: &[&str], env: &[(&str, &str)]| {
        let mut c = Command::new(BIN);
        c.args(["--db", "postgres://clientele:s3cret@db.example/clientele"])
            .args(args)
            .env_remove("CLIENTELE_LISTEN")
            .env_remove("CLIENTELE_SYNC_INTERVAL_MS");
        for (k, v) in env {
            c.env(k, v);
        }
        c.output().expect("config check")
    };
    // Command line > environment > file > default.
    let out = run(
        &[
            "config",
            "check",
            "--config",
            file.to_str().expect("utf-8"),
            "--ready-max-lag",
            "3",
        ],
        &[("CLIENTELE_SYNC_INTERVAL_MS", "250")],
    );
    let text = String::from_utf8_lossy(&out.stdout).to_string();
    assert!(
        out.status.success(),
        "{text}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        text.contains("listen = \"127.0.0.1:9999\"  # config file"),
        "{text}"
    );
    assert!(
        text.contains("sync-interval-ms = 250  # environment"),
        "{text}"
    );
    assert!(text.contains("ready-max-lag = 3  # command line"), "{text}");
    assert!(
        text.contains("metrics-allow = [\"10.1.0.0/16\", \"192.0.2.1\"]  # config file"),
        "{text}"
    );
    assert!(text.contains("log-format = \"text\"  # default"), "{text}");
    // The password of the database URL is masked.
    assert!(!text.contains("s3cret"), "{text}");
    assert!(
        text.contains("postgres://clientele:***@db.example/clientele"),
        "{text}"
    );
    // The printed configuration is itself a valid configuration file.
    let printed = db.path("printed.toml");
    std::fs::write(
        &printed,
        text.lines()
            .filter(|l| !l.starts_with("db ") && !l.starts_with('#'))
            .collect::<Vec<_>>()
            .join("\n"),
    )
    .expect("write");
    let out = run(
        &[
            "config",
            "check",
            "--config",
            printed.to_str().expect("utf-8"),
        ],
        &[],
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );

    // Unknown keys and bad values: exit 2 with the reason.
    std::fs::write(&file, "listne = \"x\"\n").expect("toml");
    let out = run(
        &["config", "check", "--config", file.to_str().expect("utf-8")],
        &[],
    );
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("unknown key `listne`") && err.contains("listen"),
        "{err}"
    );
    let out = run(&["config", "check", "--metrics-allow", "nonsense"], &[]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("--metrics-allow nonsense"));
    let out = run(&["serve", "--sync-interval-ms", "0"], &[]);
    assert_eq!(out.status.code(), Some(2));

    // serve takes its options from the file: it listens where the file says.
    let port = free_port();
    std::fs::write(&file, format!("listen = \"127.0.0.1:{port}\"\n")).expect("toml");
    let mut c = Command::new(BIN);
    c.args(["--db", &db.url, "serve"])
        .env("CLIENTELE_CONFIG", &file)
        .env_remove("CLIENTELE_LISTEN")
        .stdout(Stdio::null())
        .stderr(Stdio::null());
    let _p = Proc(c.spawn().expect("serve"));
    wait_for(
        Duration::from_secs(60),
        "serve on the configured port",
        || {
            http()
                .get(format!("http://127.0.0.1:{port}/health"))
                .send()
                .ok()
                .filter(|r| r.status().is_success())
        },
    );
}

#[test]
fn json_logs_carry_the_request_id() {
    let Some(db) = TestDb::new(Backend::Sqlite) else {
        return;
    };
    let server = serve(&db, &db.url, &["--log-format", "json"], &[]);
    let r = http()
        .get(format!("{}/api/version", server.base))
        .header("x-request-id", "pbx-call-42")
        .send()
        .expect("version");
    assert_eq!(r.headers()["x-request-id"], "pbx-call-42");
    // A malformed id (log injection) is replaced by one of ours.
    let r = http()
        .get(format!("{}/api/nowhere", server.base))
        .header("x-request-id", "a\"b c")
        .send()
        .expect("404");
    assert_eq!(r.status().as_u16(), 404);
    let made = r.headers()["x-request-id"]
        .to_str()
        .expect("id")
        .to_string();
    assert_eq!(made.len(), 16, "{made}");
    let log = server.log.clone();
    let lines = wait_for(Duration::from_secs(10), "access log lines", || {
        let text = std::fs::read_to_string(&log).unwrap_or_default();
        (text.contains("pbx-call-42") && text.contains(&made)).then_some(text)
    });
    drop(server);
    let mut seen = 0;
    for line in lines.lines().filter(|l| l.starts_with('{')) {
        let v: Value = serde_json::from_str(line).unwrap_or_else(|e| panic!("{e}: {line}"));
        assert!(v["timestamp"].is_string() && v["level"].is_string() && v["target"].is_string());
        if v["request_id"] == "pbx-call-42" {
            assert_eq!(v["route"], "/api/version");
            assert_eq!(v["status"], 200);
            assert_eq!(v["target"], "clientele::access");
            assert!(v["latency_ms"].is_number(), "{v}");
            seen += 1;
        }
        if v["request_id"] == made.as_str() {
            assert_eq!(v["status"], 404);
            seen += 1;
        }
    }
    assert_eq!(seen, 2, "{lines}");
}

// ------------------------------------------------------------------------------------
// deploy/: systemd unit and nginx
// ------------------------------------------------------------------------------------

#[test]
fn systemd_unit_verifies() {
    if !tool("systemd-analyze") {
        return;
    }
    let dir = tempfile::tempdir().expect("dir");
    let unit = std::fs::read_to_string(repo().join("deploy/clientele.service")).expect("unit");
    for must in [
        "DynamicUser=yes",
        "ProtectSystem=strict",
        "StateDirectory=clientele",
        "NoNewPrivileges=yes",
    ] {
        assert!(unit.contains(must), "the unit lacks {must}");
    }
    // The job and hashing threads lower their own priority (setpriority, in @resources):
    // a filter that denies @resources must give it back, or they run at routing's priority
    // (found by running the unit under systemd: "cannot lower this worker's priority").
    let filters: Vec<&str> = unit
        .lines()
        .filter_map(|l| l.trim().strip_prefix("SystemCallFilter="))
        .collect();
    if let Some(deny) = filters
        .iter()
        .position(|f| f.starts_with('~') && f.contains("@resources"))
    {
        assert!(
            filters[deny + 1..]
                .iter()
                .any(|f| !f.starts_with('~') && f.split_whitespace().any(|c| c == "setpriority")),
            "the unit denies @resources without allowing setpriority again: {filters:?}"
        );
    }
    // verify checks that ExecStart's binary exists: the one just built stands in for
    // /usr/local/bin/clientele.
    let path = dir.path().join("clientele.service");
    std::fs::write(&path, unit.replace("/usr/local/bin/clientele", BIN)).expect("write");
    let out = Command::new("systemd-analyze")
        .arg("verify")
        .arg(&path)
        .output()
        .expect("systemd-analyze");
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{err}");
    assert!(
        !err.contains("clientele.service"),
        "warnings about the unit: {err}"
    );
    // The hardening, as systemd rates it (0 best, 10 worst): at most 3 ("OK").
    let out = Command::new("systemd-analyze")
        .args(["security", "--offline=yes", "--no-pager"])
        .arg(&path)
        .output()
        .expect("security");
    let text = String::from_utf8_lossy(&out.stdout);
    let score: f64 = text
        .lines()
        .find_map(|l| l.split("exposure level for").nth(1).map(|_| l))
        .and_then(|l| l.split(':').nth(1))
        .and_then(|s| s.split_whitespace().next())
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| {
            panic!(
                "no exposure level in {text}{}",
                String::from_utf8_lossy(&out.stderr)
            )
        });
    assert!(score <= 3.0, "exposure {score}: {text}");
}

/// Run curl; returns (status code, headers, body).
fn curl(args: &[&str]) -> (u16, String, String) {
    let out = Command::new("curl")
        .args(["-s", "-D", "-", "--max-time", "20"])
        .args(args)
        .output()
        .expect("curl");
    let text = String::from_utf8_lossy(&out.stdout).to_string();
    let (head, body) = text.split_once("\r\n\r\n").unwrap_or((&text, ""));
    let status = head
        .split_whitespace()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or(0);
    (status, head.to_lowercase(), body.to_string())
}

fn nginx_in_front(db: &TestDb) {
    // nginx connects from 127.0.0.1: its forwarding headers are believed from there only.
    let server = serve(db, &db.url, &["--trusted-proxy", "127.0.0.1"], &[]);
    let (write, lookup) = tokens(db, &server.base);
    create(
        &server.base,
        &write,
        json!({"name": "Derrière nginx", "phone": "01 40 00 00 21", "onCallDuty": true}),
    );
    let dir = db.path("nginx");
    std::fs::create_dir_all(dir.join("logs")).expect("dir");
    // A self-signed certificate for 127.0.0.1.
    let (cert, key) = (dir.join("cert.pem"), dir.join("key.pem"));
    let out = Command::new("openssl")
        .args([
            "req",
            "-x509",
            "-newkey",
            "rsa:2048",
            "-nodes",
            "-days",
            "2",
            "-subj",
            "/CN=127.0.0.1",
            "-addext",
            "subjectAltName=IP:127.0.0.1",
            "-keyout",
        ])
        .arg(&key)
        .arg("-out")
        .arg(&cert)
        .output()
        .expect("openssl");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let (https, plain) = (free_port(), free_port());
    // The site of deploy/, with the test's ports and files.
    let site = std::fs::read_to_string(repo().join("deploy/nginx/clientele.conf")).expect("site");
    let site = site
        .replace("listen 443 ssl", &format!("listen 127.0.0.1:{https} ssl"))
        .replace("listen [::]:443 ssl http2;", "")
        .replace("listen 80", &format!("listen 127.0.0.1:{plain}"))
        .replace("listen [::]:80;", "")
        .replace(
            "return 301 https://$host$request_uri;",
            &format!("return 301 https://$host:{https}$request_uri;"),
        )
        .replace(
            "/etc/ssl/certs/clientele.example.fr.pem",
            cert.to_str().expect("utf-8"),
        )
        .replace(
            "/etc/ssl/private/clientele.example.fr.key",
            key.to_str().expect("utf-8"),
        )
        .replace("127.0.0.1:8080", &format!("127.0.0.1:{}", server.port))
        .replace("clientele.example.fr", "127.0.0.1");
    let conf = dir.join("nginx.conf");
    std::fs::write(
        &conf,
        format!(
            "worker_processes 1;\ndaemon off;\npid {d}/nginx.pid;\nerror_log {d}/logs/error.log;\nevents {{ worker_connections 64; }}\nhttp {{\n  access_log {d}/logs/access.log;\n  client_body_temp_path {d}/body; proxy_temp_path {d}/proxy; fastcgi_temp_path {d}/fcgi; uwsgi_temp_path {d}/uwsgi; scgi_temp_path {d}/scgi;\n{site}\n}}\n",
            d = dir.display()
        ),
    )
    .expect("conf");
    let t = Command::new("nginx")
        .args(["-t", "-p"])
        .arg(&dir)
        .arg("-c")
        .arg(&conf)
        .output()
        .expect("nginx -t");
    assert!(t.status.success(), "{}", String::from_utf8_lossy(&t.stderr));
    let _nginx = Proc(
        Command::new("nginx")
            .arg("-p")
            .arg(&dir)
            .arg("-c")
            .arg(&conf)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("nginx"),
    );
    let base = format!("https://127.0.0.1:{https}");
    let ca = cert.to_str().expect("utf-8").to_string();
    wait_for(Duration::from_secs(30), "nginx to answer", || {
        (curl(&["--cacert", &ca, &format!("{base}/health")]).0 == 200).then_some(())
    });
    // TLS verified against the self-signed certificate; the API sees https and the host.
    let (s, head, body) = curl(&["--cacert", &ca, &format!("{base}/api/version")]);
    assert_eq!(s, 200, "{head}{body}");
    let v: Value = serde_json::from_str(&body).expect("json");
    assert_eq!(v["url"], format!("https://127.0.0.1:{https}"), "{v}");
    assert!(head.contains("strict-transport-security"), "{head}");
    // nginx's request id reaches Clientèle and comes back.
    assert!(head.contains("x-request-id:"), "{head}");
    // Routing through the proxy, with the lookup token allowed for 127.0.0.0/8.
    let (s, _, body) = curl(&[
        "--cacert",
        &ca,
        &format!("{base}/api/hasOnCallDutyContractByPhoneNumber?phoneNumber=%2B33140000021&api_token={lookup}"),
    ]);
    assert_eq!((s, body.as_str()), (200, "true"));
    let (s, _, body) = curl(&["--cacert", &ca, &format!("{base}/ready")]);
    assert_eq!(s, 200, "{body}");
    // /metrics is not published through the proxy.
    let (s, _, _) = curl(&["--cacert", &ca, &format!("{base}/metrics")]);
    assert_eq!(s, 404);
    // Plain HTTP is redirected to HTTPS.
    let (s, head, _) = curl(&[&format!("http://127.0.0.1:{plain}/api/version")]);
    assert_eq!(s, 301, "{head}");
    assert!(
        head.contains(&format!("location: https://127.0.0.1:{https}/api/version")),
        "{head}"
    );
    // An untrusted certificate is refused by the client (TLS really is on).
    assert_eq!(curl(&[&format!("{base}/health")]).0, 0);
}

#[test]
fn sqlite_nginx_tls_in_front() {
    if tool("nginx") && tool("openssl") && tool("curl") {
        if let Some(db) = TestDb::new(Backend::Sqlite) {
            nginx_in_front(&db);
        }
    }
}

#[test]
fn postgres_nginx_tls_in_front() {
    if tool("nginx") && tool("openssl") && tool("curl") {
        if let Some(db) = TestDb::new(Backend::Postgres) {
            nginx_in_front(&db);
        }
    }
}

// ------------------------------------------------------------------------------------
// Kamailio + sipp
// ------------------------------------------------------------------------------------

/// Place one call from `caller` through the proxy; returns (queue, caller name) as the
/// queue side saw them.
fn call(dir: &Path, proxy: u16, caller: &str) -> (String, String) {
    let n = CALLS.fetch_add(1, Ordering::SeqCst);
    let log = dir.join(format!("call-{n}.log"));
    let out = Command::new("sipp")
        .arg("-sf")
        .arg(repo().join("deploy/pbx/kamailio/sipp/caller.xml"))
        .args([
            "-key",
            "caller",
            caller,
            "-s",
            "3900",
            "-m",
            "1",
            "-i",
            "127.0.0.1",
        ])
        .args([
            "-p",
            &free_port().to_string(),
            "-nostdin",
            "-timeout",
            "30s",
            "-trace_logs",
            "-log_file",
        ])
        .arg(&log)
        .arg(format!("127.0.0.1:{proxy}"))
        .output()
        .expect("sipp");
    let text = std::fs::read_to_string(&log).unwrap_or_default();
    assert!(
        out.status.success(),
        "call from {caller} failed: {text}{}",
        String::from_utf8_lossy(&out.stdout)
    );
    let line = text
        .lines()
        .rev()
        .find(|l| l.starts_with("ROUTE="))
        .unwrap_or_else(|| panic!("no route logged: {text}"));
    let (route, name) = line
        .trim_start_matches("ROUTE=")
        .split_once(" NAME=")
        .expect("ROUTE= NAME=");
    (route.to_string(), name.to_string())
}

static CALLS: AtomicU64 = AtomicU64::new(0);

fn kamailio_routes_calls(db: &TestDb) {
    let mut server = serve(db, &db.url, &["--sync-interval-ms", "200"], &[]);
    let (write, lookup) = tokens(db, &server.base);
    create(
        &server.base,
        &write,
        json!({"name": "Grand Compte", "phone": "01 40 00 00 01", "vip": true}),
    );
    create(
        &server.base,
        &write,
        json!({"name": "Astreinte SA", "phone": "01 40 00 00 02", "onCallDuty": true}),
    );
    let known = create(
        &server.base,
        &write,
        json!({"name": "Client Ordinaire", "phone": "01 40 00 00 03"}),
    );
    create(
        &server.base,
        &write,
        json!({"name": "Ancien Client", "phone": "01 40 00 00 04", "active": false, "vip": true}),
    );

    let dir = db.path("sip");
    std::fs::create_dir_all(&dir).expect("dir");
    let (queues, proxy) = (free_port(), free_port());
    let _queues = Proc(
        Command::new("sipp")
            .arg("-sf")
            .arg(repo().join("deploy/pbx/kamailio/sipp/queues.xml"))
            .args(["-i", "127.0.0.1", "-p", &queues.to_string(), "-nostdin"])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("sipp queues"),
    );
    let cfg = repo().join("deploy/pbx/kamailio/kamailio.cfg");
    let check = Command::new("kamailio")
        .arg("-c")
        .arg("-f")
        .arg(&cfg)
        .output()
        .expect("kamailio -c");
    assert!(
        check.status.success(),
        "{}",
        String::from_utf8_lossy(&check.stderr)
    );
    let _kamailio = Group(
        Command::new("kamailio")
            .process_group(0)
            .args(["-DD", "-E", "-f"])
            .arg(&cfg)
            .arg("-Y")
            .arg(&dir)
            .args(["-A", &format!("SIP_LISTEN=udp:127.0.0.1:{proxy}")])
            .args(["-A", &format!("CLIENTELE_URL=\"{}\"", server.base)])
            .args(["-A", &format!("LOOKUP_TOKEN=\"{lookup}\"")])
            .args(["-A", &format!("QUEUE_HOST=\"127.0.0.1:{queues}\"")])
            .stdout(Stdio::null())
            .stderr(std::fs::File::create(dir.join("kamailio.log")).expect("log"))
            .spawn()
            .expect("kamailio"),
    );

    // Numbers in the forms PBXs send.
    for n in ["0140000001", "+33140000001", "0033140000001", "33140000001"] {
        assert_eq!(
            call(&dir, proxy, n),
            ("vip".into(), "Grand Compte [VIP]".into()),
            "{n}"
        );
    }
    assert_eq!(
        call(&dir, proxy, "+33140000002"),
        ("oncall".into(), "Astreinte SA [ASTREINTE]".into())
    );
    assert_eq!(
        call(&dir, proxy, "0140000003"),
        ("known".into(), "Client Ordinaire".into())
    );
    // Inactive customers are unknown to routing; so are unknown numbers and anonymous.
    assert_eq!(
        call(&dir, proxy, "0140000004"),
        ("unknown".into(), "-".into())
    );
    assert_eq!(
        call(&dir, proxy, "0140009999"),
        ("unknown".into(), "-".into())
    );
    assert_eq!(
        call(&dir, proxy, "anonymous"),
        ("unknown".into(), "-".into())
    );

    // The VIP flag changed through the API: the very next call follows it.
    let id = known["id"].as_i64().expect("id");
    let r = http()
        .put(format!("{}/api/v1/customers/{id}", server.base))
        .bearer_auth(&write)
        .json(&json!({"vip": true}))
        .send()
        .expect("update");
    assert_eq!(r.status().as_u16(), 200);
    assert_eq!(
        call(&dir, proxy, "0033140000003"),
        ("vip".into(), "Client Ordinaire [VIP]".into())
    );

    // Clientèle hangs (stopped with SIGSTOP): Kamailio's timeout, then the fallback queue.
    let pid = server.proc.0.id() as i32;
    // SAFETY: plain kill(2) on our own child.
    unsafe { libc::kill(pid, libc::SIGSTOP) };
    let hung = call(&dir, proxy, "0140000001");
    unsafe { libc::kill(pid, libc::SIGCONT) };
    assert_eq!(hung, ("fallback".into(), "-".into()));
    // Clientèle stopped: refused at once, the fallback queue too.
    let _ = server.proc.0.kill();
    let _ = server.proc.0.wait();
    assert_eq!(
        call(&dir, proxy, "0140000001"),
        ("fallback".into(), "-".into())
    );
    let log = std::fs::read_to_string(dir.join("kamailio.log")).unwrap_or_default();
    assert!(log.contains("no answer for 0140000001"), "{log}");
}

#[test]
fn sqlite_kamailio_routes_calls_with_sipp() {
    if tool("kamailio") && tool("sipp") {
        if let Some(db) = TestDb::new(Backend::Sqlite) {
            kamailio_routes_calls(&db);
        }
    }
}

#[test]
fn postgres_kamailio_routes_calls_with_sipp() {
    if tool("kamailio") && tool("sipp") {
        if let Some(db) = TestDb::new(Backend::Postgres) {
            kamailio_routes_calls(&db);
        }
    }
}
