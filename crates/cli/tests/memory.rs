//! Files built to expand (a few kilobytes of zip describing gigabytes of cells) are checked
//! in bounded memory, by the real `clientele check` (peak RSS of the child measured with
//! `wait4`) and by a real `clientele serve` (API and web upload; the server's own peak RSS
//! read from `/proc`, and the server still answering afterwards).

mod common;

use clientele_testkit::hidden;
use common::{Backend, TestDb};
use serde_json::Value;
use std::io::Write;
use std::os::unix::process::CommandExt;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};
use zip::write::SimpleFileOptions;

/// Peak resident memory allowed to a `clientele check` of any of these files.
const CHECK_BOUND_MB: u64 = 300;
/// Peak resident memory allowed to the server after all of these uploads.
const SERVER_BOUND_MB: u64 = 400;

const NS: &str = "http://schemas.openxmlformats.org/spreadsheetml/2006/main";
const REL: &str = "http://schemas.openxmlformats.org/officeDocument/2006/relationships";

/// An entry's content in pieces: each chunk repeated `n` times.
type Pieces = Vec<(Vec<u8>, usize)>;

/// A zip of these entries; an entry's content may be produced in pieces so that hundreds
/// of megabytes of XML are never held by the test.
fn zip_of(entries: &[(&str, Pieces)]) -> Vec<u8> {
    let mut z = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
    let opts = SimpleFileOptions::default()
        .compression_method(zip::CompressionMethod::Deflated)
        .compression_level(Some(1));
    for (name, pieces) in entries {
        // An ODS stores its `mimetype` first and uncompressed, as LibreOffice does.
        let opts = if *name == "mimetype" {
            SimpleFileOptions::default().compression_method(zip::CompressionMethod::Stored)
        } else {
            opts
        };
        z.start_file(*name, opts).expect("entry");
        for (bytes, times) in pieces {
            for _ in 0..*times {
                z.write_all(bytes).expect("write");
            }
        }
    }
    z.finish().expect("zip").into_inner()
}

fn once(s: impl Into<Vec<u8>>) -> Vec<(Vec<u8>, usize)> {
    vec![(s.into(), 1)]
}

/// An XLSX of one sheet `Clients` whose XML body and shared strings are given in pieces.
fn xlsx(sheet_rows: Vec<(Vec<u8>, usize)>, shared: Vec<(Vec<u8>, usize)>) -> Vec<u8> {
    let types = r#"<?xml version="1.0" encoding="UTF-8"?><Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types"><Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/><Default Extension="xml" ContentType="application/xml"/><Override PartName="/xl/workbook.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/><Override PartName="/xl/worksheets/sheet1.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/><Override PartName="/xl/sharedStrings.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sharedStrings+xml"/></Types>"#;
    let rels = format!(
        r#"<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships"><Relationship Id="rId1" Type="{REL}/officeDocument" Target="xl/workbook.xml"/></Relationships>"#
    );
    let workbook = format!(
        r#"<?xml version="1.0" encoding="UTF-8"?><workbook xmlns="{NS}" xmlns:r="{REL}"><sheets><sheet name="Clients" sheetId="1" r:id="rId1"/></sheets></workbook>"#
    );
    let wb_rels = format!(
        r#"<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships"><Relationship Id="rId1" Type="{REL}/worksheet" Target="worksheets/sheet1.xml"/><Relationship Id="rId2" Type="{REL}/sharedStrings" Target="sharedStrings.xml"/></Relationships>"#
    );
    let mut sheet = once(format!(
        r#"<?xml version="1.0" encoding="UTF-8"?><worksheet xmlns="{NS}"><sheetData>"#
    ));
    sheet.extend(sheet_rows);
    sheet.push((b"</sheetData></worksheet>".to_vec(), 1));
    let mut sst = once(format!(
        r#"<?xml version="1.0" encoding="UTF-8"?><sst xmlns="{NS}">"#
    ));
    sst.extend(shared);
    sst.push((b"</sst>".to_vec(), 1));
    zip_of(&[
        ("[Content_Types].xml", once(types)),
        ("_rels/.rels", once(rels)),
        ("xl/workbook.xml", once(workbook)),
        ("xl/_rels/workbook.xml.rels", once(wb_rels)),
        ("xl/worksheets/sheet1.xml", sheet),
        ("xl/sharedStrings.xml", sst),
    ])
}

fn col(i: usize) -> char {
    (b'A' + i as u8) as char
}

/// Shared strings 0..headings are the headings; the last one is `big`. Every data row
/// shows `big` in every column.
fn huge_string_xlsx(headings: &[&str], big: &str, rows: usize) -> Vec<u8> {
    let mut shared = String::new();
    for h in headings {
        shared.push_str(&format!("<si><t>{h}</t></si>"));
    }
    shared.push_str(&format!("<si><t>{big}</t></si>"));
    let mut body = String::from(r#"<row r="1">"#);
    for (i, _) in headings.iter().enumerate() {
        body.push_str(&format!(r#"<c r="{}1" t="s"><v>{i}</v></c>"#, col(i)));
    }
    body.push_str("</row>");
    for r in 2..rows + 2 {
        body.push_str(&format!(r#"<row r="{r}">"#));
        for i in 0..headings.len() {
            body.push_str(&format!(
                r#"<c r="{}{r}" t="s"><v>{}</v></c>"#,
                col(i),
                headings.len()
            ));
        }
        body.push_str("</row>");
    }
    xlsx(once(body), once(shared))
}

/// (a) One 5 MB shared string shown by 2,000 cells (two columns of 1,000 rows).
fn one_huge_shared_string() -> Vec<u8> {
    huge_string_xlsx(
        &["Raison sociale", "Commentaire"],
        &"x".repeat(5 << 20),
        1_000,
    )
}

/// (b) An ODS whose one row of values is repeated 6,000 × 16,384 times (~10^8 cells).
fn repeated_ods() -> Vec<u8> {
    let content = r#"<?xml version="1.0" encoding="UTF-8"?><office:document-content xmlns:office="urn:oasis:names:tc:opendocument:xmlns:office:1.0" xmlns:table="urn:oasis:names:tc:opendocument:xmlns:table:1.0" xmlns:text="urn:oasis:names:tc:opendocument:xmlns:text:1.0" office:version="1.2"><office:body><office:spreadsheet><table:table table:name="Clients"><table:table-row><table:table-cell office:value-type="string"><text:p>Raison sociale</text:p></table:table-cell><table:table-cell office:value-type="string"><text:p>Ville</text:p></table:table-cell></table:table-row><table:table-row table:number-rows-repeated="6000"><table:table-cell table:number-columns-repeated="16384" office:value-type="string"><text:p>Acme</text:p></table:table-cell></table:table-row></table:table></office:spreadsheet></office:body></office:document-content>"#;
    zip_of(&[
        (
            "mimetype",
            once("application/vnd.oasis.opendocument.spreadsheet"),
        ),
        ("content.xml", once(content)),
    ])
}

/// (c) Twelve million tiny shared strings (60 MB of XML in a zip of a few hundred KB).
fn many_shared_strings() -> Vec<u8> {
    let body = r#"<row r="1"><c r="A1" t="s"><v>0</v></c><c r="B1" t="s"><v>1</v></c></row>"#;
    xlsx(
        once(body),
        vec![
            (
                b"<si><t>Raison sociale</t></si><si><t>Ville</t></si>".to_vec(),
                1,
            ),
            (b"<si/>".to_vec(), 12_000_000),
        ],
    )
}

/// (d) A report that would be hundreds of MB: 100,000 cells each showing one 4,000-character
/// string, every one an error.
fn huge_report() -> Vec<u8> {
    huge_string_xlsx(
        &[
            "Raison sociale",
            "Première ligne d'adresse",
            "Seconde ligne d'adresse",
            "Ville",
            "Compte comptable",
        ],
        &"y".repeat(4_000),
        20_000,
    )
}

/// A CSV of long cells: every one of 40 columns of 10 rows holds 100 KB (written as it
/// goes: the test process stays small, see [`wait_measured`]).
fn long_cells_csv(path: &Path) {
    let mut out = std::io::BufWriter::new(std::fs::File::create(path).expect("csv"));
    out.write_all(b"Raison sociale;Ville;Commentaire\n")
        .expect("write");
    let cell = "z".repeat(100 << 10);
    for _ in 0..10 {
        for c in 0..40 {
            if c > 0 {
                out.write_all(b";").expect("write");
            }
            out.write_all(cell.as_bytes()).expect("write");
        }
        out.write_all(b"\n").expect("write");
    }
    out.flush().expect("flush");
}

/// Run `clientele --db <db> check <file> --format json`; exit code, report, peak RSS (MB).
fn check_measured(db: &str, file: &Path) -> (i32, Value, u64) {
    let out_path = file.with_extension("report.json");
    let out = std::fs::File::create(&out_path).expect("report file");
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_clientele"));
    // A hook forces fork+exec instead of posix_spawn's shared address space, whose peak
    // (the test process's, which builds big files) the child would inherit in its rusage.
    // SAFETY: the hook does nothing, so it is async-signal-safe.
    unsafe {
        cmd.pre_exec(|| Ok(()));
    }
    let child = cmd
        .args(["--db", db, "--lang", "en", "check"])
        .arg(file)
        .args(["--format", "json"])
        .stdout(Stdio::from(out))
        .stderr(Stdio::null())
        .spawn()
        .expect("spawn check");
    let (code, peak) = wait_measured(child);
    let text = std::fs::read_to_string(&out_path).expect("report");
    let report = serde_json::from_str(&text).unwrap_or(Value::Null);
    (code, report, peak)
}

/// Wait for a child with `wait4`, which gives its own peak RSS (no other process's).
fn wait_measured(child: Child) -> (i32, u64) {
    let pid = child.id() as libc::pid_t;
    let mut status = 0;
    // SAFETY: a zeroed rusage is a valid value of that plain C struct.
    let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
    // SAFETY: `pid` is our own child, not yet waited for (the `Child` is never waited on:
    // it is forgotten below), and both pointers are to live locals.
    let r = unsafe { libc::wait4(pid, &mut status, 0, &mut usage) };
    std::mem::forget(child);
    assert_eq!(r, pid, "wait4");
    let code = if libc::WIFEXITED(status) {
        libc::WEXITSTATUS(status)
    } else {
        -1
    };
    // ru_maxrss is in kilobytes on Linux.
    (code, usage.ru_maxrss as u64 / 1024)
}

fn codes(report: &Value) -> Vec<String> {
    report["issues"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|i| i["code"].as_str().map(str::to_string))
        .collect()
}

fn expanding_files_check_in_bounded_memory(backend: Backend) {
    let Some(db) = TestDb::new(backend) else {
        return;
    };
    // (a) A clear report: every cell too long, its value cut with its length.
    let a = db.path("huge-string.xlsx");
    std::fs::write(&a, one_huge_shared_string()).expect("write");
    assert!(std::fs::metadata(&a).expect("size").len() < 100_000);
    let (code, report, peak) = check_measured(&db.url, &a);
    assert_eq!(code, 1, "{report}");
    assert_eq!(report["rows"], 1_000);
    assert_eq!(
        report["errors"], 2_000,
        "name and comment too long on every row"
    );
    let issue = &report["issues"][0];
    assert_eq!(issue["code"], "name.too_long");
    assert_eq!(issue["value"].as_str().expect("value").chars().count(), 300);
    assert_eq!(issue["valueLength"], 32_767, "cut at Excel's cell limit");
    assert!(peak < CHECK_BOUND_MB, "(a) peak {peak} MB");

    // (b) Expands to ~10^8 cells: refused before anything is expanded.
    let b = db.path("repeated.ods");
    std::fs::write(&b, repeated_ods()).expect("write");
    let (code, report, peak) = check_measured(&db.url, &b);
    assert_eq!(code, 2, "{report}");
    assert_eq!(codes(&report), vec!["file.too_large"]);
    assert!(
        report["issues"][0]["message"]
            .as_str()
            .expect("message")
            .contains("cells (repeated rows and columns)"),
        "{report}"
    );
    assert!(peak < CHECK_BOUND_MB, "(b) peak {peak} MB");

    // (c) Twelve million shared strings: refused while counting them.
    let c = db.path("many-strings.xlsx");
    std::fs::write(&c, many_shared_strings()).expect("write");
    let (code, report, peak) = check_measured(&db.url, &c);
    assert_eq!(code, 2, "{report}");
    assert_eq!(codes(&report), vec!["file.too_large"]);
    assert!(
        report["issues"][0]["message"]
            .as_str()
            .expect("message")
            .contains("distinct texts"),
        "{report}"
    );
    assert!(peak < CHECK_BOUND_MB, "(c) peak {peak} MB");

    // (d) Counts exact, the listed issues bounded in bytes.
    let d = db.path("huge-report.xlsx");
    std::fs::write(&d, huge_report()).expect("write");
    let (code, report, peak) = check_measured(&db.url, &d);
    assert_eq!(code, 1);
    assert_eq!(report["rows"], 20_000);
    assert_eq!(report["errors"], 100_000);
    let listed = report["issues"].as_array().expect("issues").len() as u64;
    let not_listed = report["issuesNotListed"].as_u64().expect("not listed");
    assert!(not_listed > 0);
    assert_eq!(listed + not_listed, 100_000);
    let size = serde_json::to_string(&report).expect("json").len();
    assert!(size < 20 << 20, "report of {size} bytes");
    assert!(peak < CHECK_BOUND_MB, "(d) peak {peak} MB");

    // Long CSV cells are cut too: the file is 400 MB of text once read, never held.
    let e = db.path("long-cells.csv");
    long_cells_csv(&e);
    let (code, report, peak) = check_measured(&db.url, &e);
    assert_eq!(code, 1, "{report}");
    assert_eq!(report["rows"], 10);
    assert!(peak < CHECK_BOUND_MB, "(e) peak {peak} MB");
}

#[test]
fn sqlite_expanding_files_check_in_bounded_memory() {
    expanding_files_check_in_bounded_memory(Backend::Sqlite);
}

#[test]
fn postgres_expanding_files_check_in_bounded_memory() {
    expanding_files_check_in_bounded_memory(Backend::Postgres);
}

// ---------------------------------------------------------------------------------------
// Through a real server
// ---------------------------------------------------------------------------------------

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

impl Server {
    /// Peak resident memory of the server process so far (MB).
    fn peak_mb(&self) -> u64 {
        let status =
            std::fs::read_to_string(format!("/proc/{}/status", self.child.id())).expect("status");
        status
            .lines()
            .find_map(|l| l.strip_prefix("VmHWM:"))
            .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<u64>().ok())
            .expect("VmHWM")
            / 1024
    }
}

fn start(db: &TestDb) -> Server {
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .expect("bind")
        .local_addr()
        .expect("addr")
        .port();
    let child = Command::new(env!("CARGO_BIN_EXE_clientele"))
        .args(["--db", &db.url, "serve", "--listen"])
        .arg(format!("127.0.0.1:{port}"))
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("spawn serve");
    let server = Server {
        child,
        base: format!("http://127.0.0.1:{port}"),
    };
    let start = Instant::now();
    while !alive(&server) {
        assert!(
            start.elapsed() < Duration::from_secs(30),
            "server did not start"
        );
        std::thread::sleep(Duration::from_millis(100));
    }
    server
}

fn alive(s: &Server) -> bool {
    reqwest::blocking::get(format!("{}/api/version", s.base)).is_ok_and(|r| r.status() == 200)
}

fn http() -> reqwest::blocking::Client {
    reqwest::blocking::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .timeout(Duration::from_secs(120))
        .build()
        .expect("client")
}

/// Log in through the form; the session cookie and a CSRF token.
fn login(s: &Server, c: &reqwest::blocking::Client) -> (String, String) {
    let page = c
        .get(format!("{}/login", s.base))
        .send()
        .expect("login page");
    let pre = page
        .headers()
        .get_all("set-cookie")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find_map(|v| v.strip_prefix("clientele_login="))
        .and_then(|v| v.split(';').next())
        .expect("login cookie")
        .to_string();
    let token = hidden(&page.text().expect("html"), "_csrf");
    let r = c
        .post(format!("{}/login", s.base))
        .header("Cookie", format!("clientele_login={pre}"))
        .form(&[
            ("_csrf", token.as_str()),
            ("email", "staff@example.fr"),
            ("password", "correct horse battery"),
            ("next", "/"),
        ])
        .send()
        .expect("login");
    assert_eq!(r.status(), 303);
    let cookie = r.headers()["set-cookie"]
        .to_str()
        .expect("cookie")
        .split(';')
        .next()
        .expect("cookie")
        .to_string();
    let home = c
        .get(format!("{}/", s.base))
        .header("Cookie", &cookie)
        .send()
        .expect("home")
        .text()
        .expect("html");
    (cookie, hidden(&home, "_csrf"))
}

/// Upload through the web form and wait for its check; the upload's page.
fn web_upload(
    s: &Server,
    c: &reqwest::blocking::Client,
    auth: &(String, String),
    name: &str,
    bytes: Vec<u8>,
) -> String {
    let form = reqwest::blocking::multipart::Form::new()
        .text("_csrf", auth.1.clone())
        .part(
            "file",
            reqwest::blocking::multipart::Part::bytes(bytes).file_name(name.to_string()),
        );
    let r = c
        .post(format!("{}/import", s.base))
        .header("Cookie", &auth.0)
        .multipart(form)
        .send()
        .expect("upload");
    assert_eq!(r.status(), 303);
    let page = r.headers()["location"]
        .to_str()
        .expect("location")
        .to_string();
    let start = Instant::now();
    loop {
        let p: Value = c
            .get(format!("{}{page}/progress", s.base))
            .header("Cookie", &auth.0)
            .send()
            .expect("progress")
            .json()
            .expect("json");
        if p["running"] == false {
            break;
        }
        assert!(
            start.elapsed() < Duration::from_secs(300),
            "check never ended"
        );
        std::thread::sleep(Duration::from_millis(100));
    }
    c.get(format!("{}{page}", s.base))
        .header("Cookie", &auth.0)
        .send()
        .expect("page")
        .text()
        .expect("html")
}

fn api_check(s: &Server, token: &str, name: &str, bytes: Vec<u8>) -> (u16, Value, usize) {
    let form = reqwest::blocking::multipart::Form::new().part(
        "file",
        reqwest::blocking::multipart::Part::bytes(bytes).file_name(name.to_string()),
    );
    let r = http()
        .post(format!("{}/api/v1/imports?dryRun=1", s.base))
        .bearer_auth(token)
        .multipart(form)
        .send()
        .expect("api upload");
    let status = r.status().as_u16();
    let text = r.text().expect("body");
    (
        status,
        serde_json::from_str(&text).unwrap_or(Value::Null),
        text.len(),
    )
}

fn expanding_files_through_the_server(backend: Backend) {
    let Some(db) = TestDb::new(backend) else {
        return;
    };
    db.add_user("staff@example.fr");
    let out = db.run(&["token", "create", "staff", "--scope", "write"]);
    assert!(out.status.success());
    let token = String::from_utf8_lossy(&out.stdout).trim().to_string();
    let s = start(&db);

    let (status, report, _) = api_check(&s, &token, "a.xlsx", one_huge_shared_string());
    assert_eq!(status, 200, "{report}");
    assert_eq!(report["errors"], 2_000);
    let (status, report, _) = api_check(&s, &token, "b.ods", repeated_ods());
    assert_eq!(status, 422);
    assert_eq!(codes(&report), vec!["file.too_large"]);
    let (status, report, _) = api_check(&s, &token, "c.xlsx", many_shared_strings());
    assert_eq!(status, 422);
    assert_eq!(codes(&report), vec!["file.too_large"]);
    let (status, report, size) = api_check(&s, &token, "d.xlsx", huge_report());
    assert_eq!(status, 200);
    assert_eq!(report["errors"], 100_000);
    assert!(size < 20 << 20, "API report of {size} bytes");
    assert!(alive(&s), "the server answers after the API uploads");

    let c = http();
    let auth = login(&s, &c);
    let html = web_upload(&s, &c, &auth, "b.ods", repeated_ods());
    assert!(
        html.contains("trop volumineux pour être contrôlé") || html.contains("too large to check"),
        "{html}"
    );
    let html = web_upload(&s, &c, &auth, "d.xlsx", huge_report());
    let shown = html
        .split("id=\"count-errors\">")
        .nth(1)
        .and_then(|t| t.split('<').next())
        .expect("error count");
    let digits: String = shown.chars().filter(char::is_ascii_digit).collect();
    assert_eq!(digits, "100000", "{shown}");
    assert!(alive(&s), "the server answers after the web uploads");
    let peak = s.peak_mb();
    assert!(peak < SERVER_BOUND_MB, "server peak {peak} MB");
}

#[test]
fn sqlite_expanding_files_through_the_server() {
    expanding_files_through_the_server(Backend::Sqlite);
}

#[test]
fn postgres_expanding_files_through_the_server() {
    expanding_files_through_the_server(Backend::Postgres);
}
