//! The REST API against its own OpenAPI document, with schemathesis (PyPI): a real
//! `clientele serve` over a fresh SQLite file, a write token from the CLI, and a short run
//! of every phase (examples, coverage, fuzzing, stateful create/read/update/delete links).
//! It must find no 5xx and no answer outside the documented status codes, content types
//! and schemas. The long run is `scripts/schemathesis.sh`.
//!
//! SKIPPED when schemathesis is not installed, unless `CLIENTELE_TEST_TOOLS_REQUIRED=1`.

mod common;

use common::{Backend, TestDb};
use std::process::{Child, Command, Stdio};

/// Same checks as scripts/schemathesis.sh (see there why the others are left out).
const CHECKS: &str = "not_a_server_error,status_code_conformance,content_type_conformance,\
response_headers_conformance,response_schema_conformance,use_after_free,\
ensure_resource_availability";

struct Server(Child);

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn schemathesis() -> Option<&'static str> {
    let found = Command::new("st")
        .arg("--version")
        .output()
        .is_ok_and(|o| o.status.success());
    if found {
        return Some("st");
    }
    if std::env::var("CLIENTELE_TEST_TOOLS_REQUIRED").as_deref() == Ok("1") {
        panic!("schemathesis required (CLIENTELE_TEST_TOOLS_REQUIRED=1) but `st` is not installed");
    }
    eprintln!("SKIPPED: schemathesis not installed (pip install schemathesis==4.32.5)");
    None
}

#[test]
fn api_conforms_to_its_openapi_document() {
    let Some(st) = schemathesis() else {
        return;
    };
    let Some(db) = TestDb::new(Backend::Sqlite) else {
        return;
    };
    assert!(db
        .user_add("schemathesis@example.fr", "schemathesis password")
        .status
        .success());
    let out = db.run(&["token", "create", "schemathesis", "--scope", "write"]);
    assert!(out.status.success());
    let token = String::from_utf8_lossy(&out.stdout).trim().to_string();

    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("free port")
        .port();
    let _server = Server(
        Command::new(env!("CARGO_BIN_EXE_clientele"))
            .args(["--db", &db.url, "serve", "--listen"])
            .arg(format!("127.0.0.1:{port}"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("serve"),
    );
    let base = format!("http://127.0.0.1:{port}");
    common::wait_until_up(&base);

    let out = Command::new(st)
        .arg("run")
        .arg(format!("{base}/api/openapi.json"))
        .args(["--header", &format!("Authorization: Bearer {token}")])
        .args(["--checks", CHECKS])
        .args(["--phases", "examples,coverage,fuzzing,stateful"])
        // A small budget: the suite must stay fast; the script runs the long one.
        .args(["--max-examples", "5", "--max-time", "90", "--workers", "1"])
        .args([
            "--seed",
            "17",
            "--generation-database",
            "none",
            "--no-color",
        ])
        .current_dir(db.dir.path())
        .output()
        .expect("run schemathesis");
    let stdout = String::from_utf8_lossy(&out.stdout);
    let summary: Vec<&str> = stdout.lines().rev().take(30).collect();
    eprintln!(
        "{}",
        summary.into_iter().rev().collect::<Vec<_>>().join("\n")
    );
    assert!(
        out.status.success(),
        "schemathesis found failures:\n{stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    // It did test the API (a run that reached no operation would also exit 0).
    assert!(stdout.contains("passed"), "{stdout}");
}
