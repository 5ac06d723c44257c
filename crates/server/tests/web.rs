//! The web pages end to end: a real headless Chromium (through chromedriver) against the
//! real server on a loopback port, on SQLite and on PostgreSQL; plus the session and CSRF
//! rules checked over plain HTTP.
//!
//! Chromium and chromedriver come from Debian (`apt-get install chromium chromium-driver`,
//! done by `.ci/run`). Without them the browser test says it is skipped, unless
//! `CLIENTELE_TEST_BROWSER_REQUIRED` is set (CI), where it fails.
//! `CLIENTELE_SCREENSHOTS=<dir>` saves screenshots of the report, the list and a customer.

#[macro_use]
mod common;

use clientele_testkit::hidden;
use common::{
    http, login, login_as, upload_and_wait, wait_until_done, with_backend, Backend, TestServer,
};
use fantoccini::{Client, ClientBuilder, Locator};
use rust_xlsxwriter::Workbook;
use serde_json::json;
use std::io::{Cursor, Read};
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

// ---------------------------------------------------------------------------------------
// Sessions and CSRF over plain HTTP (no browser needed)
// ---------------------------------------------------------------------------------------

fn sessions_and_csrf() {
    let s = TestServer::start();
    let c = http();
    let c1 = s
        .store
        .create_customer(&{
            let mut cu = clientele_core::Customer::new();
            cu.values[clientele_core::Field::name.idx()] =
                Some(clientele_core::Value::Text("Alpha".into()));
            cu
        })
        .expect("customer");
    // Every page but the login page sends a visitor without a session to the login page.
    for path in [
        "/",
        "/customers",
        &format!("/customers/{}", c1.id),
        &format!("/customers/{}/edit", c1.id),
        "/import",
        "/imports",
        "/template.xlsx",
        "/uploads/0123456789abcdef/annotated.xlsx",
    ] {
        let r = c.get(s.url(path)).send().expect("get");
        assert_eq!(r.status(), 303, "{path} without a session");
        let to = r.headers()["location"].to_str().expect("location");
        assert!(to.starts_with("/login?next="), "{path} → {to}");
    }
    // A forged cookie is no session.
    let r = c
        .get(s.url("/customers"))
        .header("Cookie", "clientele_session=forged")
        .send()
        .expect("get");
    assert_eq!(r.status(), 303);
    assert_eq!(c.get(s.url("/login")).send().expect("login").status(), 200);
    // The login form itself refuses a post without its token.
    let r = c
        .post(s.url("/login"))
        .form(&[("email", "ann@example.fr"), ("password", "correct horse")])
        .send()
        .expect("post");
    assert_eq!(r.status(), 403, "login without its CSRF token");

    let (session, csrf) = login(&s, &c);
    let cookie = format!("clientele_session={session}");
    // French by default; the switch remembers English in a cookie and comes back.
    let fr = c
        .get(s.url("/customers"))
        .header("Cookie", &cookie)
        .send()
        .expect("get");
    assert!(fr.text().expect("html").contains("<h1>Clients</h1>"));
    let r = c
        .get(s.url("/lang?set=en&next=%2Fcustomers"))
        .send()
        .expect("switch");
    assert_eq!(r.status(), 303);
    assert_eq!(r.headers()["location"], "/customers");
    let lang = r.headers()["set-cookie"]
        .to_str()
        .expect("cookie")
        .to_string();
    assert!(lang.starts_with("clientele_lang=en;"), "{lang}");
    let en = c
        .get(s.url("/customers"))
        .header("Cookie", format!("{cookie}; clientele_lang=en"))
        .send()
        .expect("get");
    assert!(en.text().expect("html").contains("<h1>Customers</h1>"));
    // An unknown page is an HTML 404 outside the API, JSON under it.
    let r = c
        .get(s.url("/nowhere"))
        .header("Cookie", &cookie)
        .send()
        .expect("get");
    assert_eq!(r.status(), 404);
    assert!(r.headers()["content-type"]
        .to_str()
        .expect("ct")
        .starts_with("text/html"));
    let r = c.get(s.url("/api/nowhere")).send().expect("get");
    assert_eq!(r.status(), 404);
    assert_eq!(r.headers()["content-type"], "application/json");
    // A wrong password is refused with the form again.
    let page = c.get(s.url("/login")).send().expect("page");
    let pre = hidden(&page.text().expect("html"), "_csrf");
    let r = c
        .post(s.url("/login"))
        .header("Cookie", format!("clientele_login={pre}"))
        .form(&[
            ("_csrf", pre.as_str()),
            ("email", "ann@example.fr"),
            ("password", "wrong"),
        ])
        .send()
        .expect("post");
    assert_eq!(r.status(), 401);

    // Every form refuses a post without the session's token, and changes nothing.
    let edit = format!("/customers/{}/edit", c1.id);
    for (path, body) in [
        (edit.as_str(), vec![("name", "Changed")]),
        (edit.as_str(), vec![("name", "Changed"), ("_csrf", "wrong")]),
        ("/imports/1/undo", vec![]),
        ("/uploads/0123456789abcdef/import", vec![]),
        ("/logout", vec![]),
    ] {
        let r = c
            .post(s.url(path))
            .header("Cookie", &cookie)
            .form(&body)
            .send()
            .expect("post");
        assert_eq!(r.status(), 403, "{path} {body:?}");
    }
    let upload = reqwest::blocking::multipart::Form::new().part(
        "file",
        reqwest::blocking::multipart::Part::bytes(b"Raison sociale\nX\n".to_vec())
            .file_name("p.csv"),
    );
    let r = c
        .post(s.url("/import"))
        .header("Cookie", &cookie)
        .multipart(upload)
        .send()
        .expect("upload");
    assert_eq!(r.status(), 403, "upload without the token");
    assert_eq!(
        s.store
            .customer(c1.id)
            .expect("c")
            .text(clientele_core::Field::name),
        Some("Alpha"),
        "nothing changed"
    );
    assert_eq!(s.store.stats().expect("stats").total, 1);

    // With the token the edit goes through.
    let r = c
        .post(s.url(&edit))
        .header("Cookie", &cookie)
        .form(&[("_csrf", csrf.as_str()), ("name", "Alpha SAS")])
        .send()
        .expect("post");
    assert_eq!(r.status(), 303);
    assert_eq!(
        s.store
            .customer(c1.id)
            .expect("c")
            .text(clientele_core::Field::name),
        Some("Alpha SAS")
    );
    // Logging out ends the session on the server.
    let r = c
        .post(s.url("/logout"))
        .header("Cookie", &cookie)
        .form(&[("_csrf", csrf.as_str())])
        .send()
        .expect("logout");
    assert_eq!(r.status(), 303);
    let r = c
        .get(s.url("/customers"))
        .header("Cookie", &cookie)
        .send()
        .expect("get");
    assert_eq!(r.status(), 303, "the old cookie no longer works");
}

fn upload_import_and_ownership() {
    let s = TestServer::start();
    let c = http();
    let (session, csrf) = login(&s, &c);
    let cookie = format!("clientele_session={session}");
    let csv = "Compte client;Raison sociale;SIRET\nUP001;Alpha;73282932000074\nUP002;Beta;73282932000075\nUP003;Gamma;\n";
    let page = upload_and_wait(&s, &c, &cookie, &csrf, "skip-test.csv", csv.as_bytes());
    let html = c
        .get(s.url(&page))
        .header("Cookie", &cookie)
        .send()
        .expect("report")
        .text()
        .expect("html");
    assert!(html.contains("id=\"count-errors\">1<"), "one error");

    // The rejected rows: the faulty row with its message, in the file's format.
    let r = c
        .get(s.url(&format!("{page}/rejected")))
        .header("Cookie", &cookie)
        .send()
        .expect("rejected");
    assert_eq!(r.status(), 200);
    let text = r.text().expect("csv");
    let lines: Vec<&str> = text.trim_start_matches('\u{feff}').lines().collect();
    assert_eq!(lines.len(), 2, "{text}");
    assert!(lines[0].ends_with(";Erreurs"), "{text}");
    assert!(lines[1].starts_with("UP002;Beta;73282932000075;"), "{text}");

    // Another user sees none of it.
    let hash = clientele_server::auth::hash_password("other pass").expect("hash");
    s.store
        .create_user("Bob", "bob@example.fr", &hash)
        .expect("user");
    let (bob, _) = login_as(&s, &c, "bob@example.fr", "other pass");
    for path in [
        page.clone(),
        format!("{page}/annotated.xlsx"),
        format!("{page}/rejected"),
        format!("{page}/progress"),
    ] {
        let r = c
            .get(s.url(&path))
            .header("Cookie", format!("clientele_session={bob}"))
            .send()
            .expect("get");
        assert_eq!(r.status(), 404, "{path} for another user");
    }

    // Without "skip invalid rows" the import is refused; with it, the valid rows go in.
    let r = c
        .post(s.url(&format!("{page}/import")))
        .header("Cookie", &cookie)
        .form(&[("_csrf", csrf.as_str())])
        .send()
        .expect("import");
    assert_eq!(r.status(), 409);
    assert_eq!(s.store.stats().expect("stats").total, 0);
    let before: Vec<_> = std::fs::read_dir(".")
        .expect("cwd")
        .filter_map(|e| e.ok())
        .map(|e| e.file_name())
        .collect();
    let r = c
        .post(s.url(&format!("{page}/import")))
        .header("Cookie", &cookie)
        .form(&[("_csrf", csrf.as_str()), ("skip_invalid", "1")])
        .send()
        .expect("import");
    assert_eq!(r.status(), 303);
    wait_until_done(&s, &c, &cookie, &page);
    assert_eq!(s.store.stats().expect("stats").total, 2);
    let after: Vec<_> = std::fs::read_dir(".")
        .expect("cwd")
        .filter_map(|e| e.ok())
        .map(|e| e.file_name())
        .collect();
    assert_eq!(before, after, "the server wrote no file of its own");
    let html = c
        .get(s.url(&page))
        .header("Cookie", &cookie)
        .send()
        .expect("result")
        .text()
        .expect("html");
    assert!(html.contains("id=\"import-done\""), "result shown");
    // An upload is imported once.
    let r = c
        .post(s.url(&format!("{page}/import")))
        .header("Cookie", &cookie)
        .form(&[("_csrf", csrf.as_str()), ("skip_invalid", "1")])
        .send()
        .expect("import again");
    assert_eq!(r.status(), 409);
    assert_eq!(s.store.stats().expect("stats").total, 2);

    // Undo answers with a redirect (a reload does not post it again).
    let id = s.store.imports().expect("imports")[0].id;
    let r = c
        .post(s.url(&format!("/imports/{id}/undo")))
        .header("Cookie", &cookie)
        .form(&[("_csrf", csrf.as_str())])
        .send()
        .expect("undo");
    assert_eq!(r.status(), 303);
    assert_eq!(
        r.headers()["location"],
        format!("/imports?undone={id}").as_str()
    );
    assert_eq!(s.store.stats().expect("stats").total, 0);
    let again = c
        .post(s.url(&format!("/imports/{id}/undo")))
        .header("Cookie", &cookie)
        .form(&[("_csrf", csrf.as_str())])
        .send()
        .expect("undo again");
    assert_eq!(again.status(), 409, "already undone");
    let text = again.text().expect("html");
    assert!(text.contains("a déjà été annulé"), "{text}");
    // Pages carry the protective headers.
    let r = c
        .get(s.url("/imports"))
        .header("Cookie", &cookie)
        .send()
        .expect("get");
    assert_eq!(r.headers()["x-frame-options"], "DENY");
    assert_eq!(r.headers()["cache-control"], "no-store");
}

/// The annotated workbook and the rejected rows are made at the first download and kept:
/// the second download serves what was kept (marked here through the store), the check is
/// not run again. Files that are not spreadsheets, too large or cut short get clear answers.
fn kept_files_and_refused_uploads() {
    let s = TestServer::start();
    let c = http();
    let (session, csrf) = login(&s, &c);
    let cookie = format!("clientele_session={session}");
    let csv = "Compte client;Raison sociale;SIRET\nKF001;Alpha;73282932000074\nKF002;Beta;73282932000075\n";
    let page = upload_and_wait(&s, &c, &cookie, &csrf, "kept.csv", csv.as_bytes());
    let id = page.trim_start_matches("/uploads/").to_string();
    let get = |path: &str| {
        let r = c
            .get(s.url(&format!("{page}/{path}")))
            .header("Cookie", &cookie)
            .send()
            .expect("download");
        (r.status().as_u16(), r.bytes().expect("body").to_vec())
    };
    let (status, annotated) = get("annotated.xlsx");
    assert_eq!(status, 200);
    assert!(annotated.starts_with(b"PK"), "an XLSX");
    let (status, rejected) = get("rejected");
    assert_eq!(status, 200);
    assert!(String::from_utf8_lossy(&rejected).contains("KF002;Beta"));
    use clientele_store::UploadFile;
    assert_eq!(
        s.store
            .upload_file(&id, UploadFile::Annotated)
            .expect("kept"),
        Some(annotated.clone()),
        "kept with the upload"
    );
    s.store
        .set_upload_file(&id, UploadFile::Annotated, b"kept annotated")
        .expect("mark");
    s.store
        .set_upload_file(&id, UploadFile::Rejected, b"kept rejected")
        .expect("mark");
    assert_eq!(get("annotated.xlsx"), (200, b"kept annotated".to_vec()));
    assert_eq!(get("rejected"), (200, b"kept rejected".to_vec()));

    // Not spreadsheets: said so, whatever the name.
    let mut png = b"\x89PNG\r\n\x1a\n".to_vec();
    png.extend_from_slice(&[0u8; 200]);
    let page = upload_and_wait(&s, &c, &cookie, &csrf, "photo.png", &png);
    let html = c
        .get(s.url(&page))
        .header("Cookie", &cookie)
        .send()
        .expect("page")
        .text()
        .expect("html");
    assert!(
        html.contains("n&#x27;est pas un tableur") || html.contains("n'est pas un tableur"),
        "{html}"
    );
    assert!(html.contains("une image PNG"), "{html}");
    let mut docx = zip::ZipWriter::new(Cursor::new(Vec::new()));
    docx.start_file(
        "word/document.xml",
        zip::write::SimpleFileOptions::default(),
    )
    .expect("entry");
    std::io::Write::write_all(&mut docx, b"<w:document/>").expect("write");
    let docx = docx.finish().expect("zip").into_inner();
    let (status, body) = s.json_multipart("letter.docx", docx.clone());
    assert_eq!(status, 422);
    assert_eq!(body["issues"][0]["code"], "file.not_spreadsheet");
    assert!(
        body["message"]
            .as_str()
            .expect("message")
            .contains("a Word document"),
        "{body}"
    );
    // A zip cut short: the user's words, not the library's ("Could not find EOCD").
    let (status, body) = s.json_multipart("cut.xlsx", docx[..docx.len() - 30].to_vec());
    assert_eq!(status, 422);
    let msg = body["message"].as_str().expect("message");
    assert!(msg.contains("damaged or incomplete"), "{msg}");
    assert!(!msg.contains("EOCD"), "{msg}");

    // A multipart body cut short: a message about the upload, not the library's.
    let r = c
        .post(s.url("/api/v1/imports?dryRun=1"))
        .bearer_auth(&s.write)
        .header("Content-Type", "multipart/form-data; boundary=XYZ")
        .body("--XYZ\r\nContent-Disposition: form-data; name=\"file\"; filename=\"a.csv\"\r\n\r\nRaison sociale;Ville\nA;B\n")
        .send()
        .expect("cut upload");
    assert_eq!(r.status(), 400);
    let body: serde_json::Value = r.json().expect("json");
    let msg = body["message"].as_str().expect("message");
    assert!(msg.contains("incomplete or malformed"), "{msg}");
    assert!(!msg.contains("multipart stream"), "{msg}");
    assert_eq!(s.store.stats().expect("stats").total, 0);
}

/// The official lists in the pages: the annotated workbook carries the suggestions (amber,
/// in the cell's comment), the communes of a postal code answer as JSON for the edit form,
/// and a saved customer's page shows the warnings and the NAF label.
fn official_lists_in_pages() {
    let s = TestServer::start();
    let c = http();
    let (session, csrf) = login(&s, &c);
    let cookie = format!("clientele_session={session}");
    let csv = "Compte client;Raison sociale;Code Postal;Ville;Code activité (NAF)\n\
               LI001;Alpha;13001;Marseile;61.10Z\nLI002;Beta;75008;Paris;62.01Z\n";
    let page = upload_and_wait(&s, &c, &cookie, &csrf, "lists.csv", csv.as_bytes());
    let html = c
        .get(s.url(&page))
        .header("Cookie", &cookie)
        .send()
        .expect("report")
        .text()
        .expect("html");
    assert!(
        html.contains("id=\"count-errors\">0<"),
        "warnings are no errors"
    );
    assert!(
        html.contains("mainAddressCity.postal_mismatch"),
        "listed in the report"
    );
    let bytes = c
        .get(s.url(&format!("{page}/annotated.xlsx")))
        .header("Cookie", &cookie)
        .send()
        .expect("annotated")
        .bytes()
        .expect("bytes");
    let parts = unzip(&bytes);
    assert_eq!(fill_of(&parts, "D2").as_deref(), Some("FFFFEB9C"), "amber");
    assert_eq!(fill_of(&parts, "D3"), None, "a right city is left alone");
    let comments: String = parts
        .iter()
        .filter(|(n, _)| n.contains("comments"))
        .map(|(_, c)| c.as_str())
        .collect();
    assert!(
        comments.contains("n'est pas une commune de ce code postal (13001 → Marseille)"),
        "{comments}"
    );

    // The communes of a postal code, for the edit form (signed in only).
    let names: serde_json::Value = c
        .get(s.url("/communes/20200"))
        .header("Cookie", &cookie)
        .send()
        .expect("communes")
        .json()
        .expect("json");
    assert_eq!(names[0], "Bastia");
    assert_eq!(names.as_array().map(Vec::len), Some(4), "{names}");
    let none: serde_json::Value = c
        .get(s.url("/communes/69000"))
        .header("Cookie", &cookie)
        .send()
        .expect("communes")
        .json()
        .expect("json");
    assert_eq!(none, json!([]));
    let anonymous = c.get(s.url("/communes/20200")).send().expect("communes");
    assert_ne!(anonymous.status(), 200, "not without a session");

    // Imported despite the warning; the customer page shows it, with the NAF label.
    let r = c
        .post(s.url(&format!("{page}/import")))
        .header("Cookie", &cookie)
        .form(&[("_csrf", csrf.as_str())])
        .send()
        .expect("import");
    assert!(
        r.status().is_success() || r.status().is_redirection(),
        "{}",
        r.status()
    );
    wait_until_done(&s, &c, &cookie, &page);
    let id = s.store.customer_by_account("LI001").expect("imported").id;
    let html = c
        .get(s.url(&format!("/customers/{id}")))
        .header("Cookie", &cookie)
        .send()
        .expect("page")
        .text()
        .expect("html");
    assert!(
        html.contains("id=\"note-activityCode\">· Télécommunications filaires<"),
        "{html}"
    );
    assert!(html.contains("data-warning=\"mainAddressCity\""), "{html}");
    assert!(html.contains("(13001 → Marseille)"), "{html}");
}

// ---------------------------------------------------------------------------------------
// The browser
// ---------------------------------------------------------------------------------------

/// chromedriver on a free port, stopped on drop.
struct Driver {
    child: Child,
    url: String,
    _profile: tempfile::TempDir,
}

impl Drop for Driver {
    fn drop(&mut self) {
        // chromedriver leads its own process group: stopping the group also stops the
        // browser it started, even when the test failed before closing its session.
        let _ = Command::new("kill")
            .arg("--")
            .arg(format!("-{}", self.child.id()))
            .status();
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn find_program(names: &[&str]) -> Option<PathBuf> {
    let path = std::env::var_os("PATH")?;
    names.iter().find_map(|n| {
        std::env::split_paths(&path)
            .map(|d| d.join(n))
            .find(|p| p.is_file())
    })
}

/// Start chromedriver, or say why the browser test is skipped.
fn driver() -> Option<(Driver, PathBuf)> {
    let found = (
        find_program(&["chromedriver"]),
        find_program(&["chromium", "chromium-browser", "google-chrome"]),
    );
    let (Some(cd), Some(chrome)) = found else {
        assert!(
            std::env::var_os("CLIENTELE_TEST_BROWSER_REQUIRED").is_none(),
            "a browser is required but chromium/chromedriver are not installed"
        );
        eprintln!("SKIPPED: the browser tests need chromium and chromedriver (apt-get install chromium chromium-driver)");
        return None;
    };
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("free port")
        .port();
    let child = Command::new(cd)
        .arg(format!("--port={port}"))
        .process_group(0)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("start chromedriver");
    let url = format!("http://127.0.0.1:{port}");
    let start = Instant::now();
    while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
        assert!(
            start.elapsed() < Duration::from_secs(20),
            "chromedriver did not start"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
    let profile = tempfile::tempdir().expect("profile dir");
    Some((
        Driver {
            child,
            url,
            _profile: profile,
        },
        chrome,
    ))
}

/// Run `journey` in a headless browser session (opened and closed here), on a runtime of
/// its own.
fn in_browser(d: &Driver, chrome: &Path, journey: impl AsyncFnOnce(&Client)) {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("runtime");
    rt.block_on(async {
        let b = browser(d, chrome).await;
        journey(&b).await;
        b.close().await.expect("close browser");
    });
}

async fn browser(d: &Driver, chrome: &Path) -> Client {
    let caps = json!({
        "browserName": "chrome",
        "goog:chromeOptions": {
            "binary": chrome,
            "args": ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                     "--disable-dev-shm-usage", "--disable-component-update", "--no-first-run",
                     "--disable-sync", "--window-size=1366,900",
                     format!("--user-data-dir={}", d._profile.path().display())],
        }
    });
    let caps = match caps {
        serde_json::Value::Object(m) => m,
        _ => unreachable!("a JSON object literal"),
    };
    let conn = hyper_util::client::legacy::connect::HttpConnector::new();
    ClientBuilder::new(conn)
        .capabilities(caps)
        .connect(&d.url)
        .await
        .expect("browser session")
}

/// The Clients tab of a small pack as XLSX; `bad_siret` puts a SIRET with a wrong check
/// digit on row 3.
fn pack(path: &Path, bad_siret: bool) {
    use clientele_core::Field;
    let mut wb = Workbook::new();
    let ws = wb.add_worksheet();
    ws.set_name("Clients").expect("name");
    let cols = [
        Field::customerAccount,
        Field::name,
        Field::registrationNumber,
        Field::postalCode,
        Field::mainAddressCity,
        Field::phone,
        Field::vip,
    ];
    for (i, f) in cols.iter().enumerate() {
        ws.write_string(0, i as u16, f.def().heading).expect("head");
    }
    let rows: [[&str; 7]; 3] = [
        [
            "WEB001",
            "Alpha Télécom",
            "73282932000074",
            "75001",
            "Paris",
            "01 23 45 67 89",
            "1",
        ],
        [
            "WEB002",
            "Beta Services",
            if bad_siret { "73282932000075" } else { "" },
            "69001",
            "Lyon",
            "04 72 00 00 01",
            "0",
        ],
        [
            "WEB003",
            "Gamma Réseaux",
            "",
            "13001",
            "Marseille",
            "",
            "Non",
        ],
    ];
    for (r, row) in rows.iter().enumerate() {
        for (c, v) in row.iter().enumerate() {
            if cols[c] == Field::postalCode {
                // A numeric postal code, as Excel stores it.
                ws.write_number(r as u32 + 1, c as u16, v.parse::<f64>().expect("number"))
                    .expect("cell");
            } else if !v.is_empty() {
                ws.write_string(r as u32 + 1, c as u16, *v).expect("cell");
            }
        }
    }
    wb.save(path).expect("save pack");
}

/// The text of the element a CSS selector finds, waiting for it to appear: pages that
/// follow a running job reload themselves, so a find or a read may hit a navigation (or a
/// stale element) and is tried again.
async fn text_of(b: &Client, css: &str) -> String {
    let start = Instant::now();
    loop {
        let found = match b.find(Locator::Css(css)).await {
            Ok(e) => e.text().await,
            Err(e) => Err(e),
        };
        match found {
            Ok(t) => return t,
            Err(e) if start.elapsed() > Duration::from_secs(60) => panic!("{css}: {e}"),
            Err(_) => tokio::time::sleep(Duration::from_millis(100)).await,
        }
    }
}

/// Wait until the element a CSS selector finds holds `want`, and return its text. A click
/// on a submit button may return before the browser has started the navigation it causes
/// (more often on a loaded machine), so reading the page at once can read the old one.
async fn text_with(b: &Client, css: &str, want: &str) -> String {
    let start = Instant::now();
    loop {
        let found = match b.find(Locator::Css(css)).await {
            Ok(e) => e.text().await,
            Err(e) => Err(e),
        };
        match found {
            Ok(t) if t.contains(want) => return t,
            other if start.elapsed() > Duration::from_secs(60) => {
                panic!("{css} never held {want:?}: {other:?}")
            }
            _ => tokio::time::sleep(Duration::from_millis(100)).await,
        }
    }
}

/// Choose a file on the import page and send it.
async fn upload(b: &Client, base: &str, file: &Path) {
    b.goto(&format!("{base}/import")).await.expect("goto");
    b.wait()
        .for_element(Locator::Css("#file"))
        .await
        .expect("file input")
        .send_keys(&file.display().to_string())
        .await
        .expect("choose file");
    click(b, "#upload-form button[type=submit]").await;
}

/// Click the element a CSS selector finds.
async fn click(b: &Client, css: &str) {
    b.find(Locator::Css(css))
        .await
        .unwrap_or_else(|e| panic!("{css}: {e}"))
        .click()
        .await
        .unwrap_or_else(|e| panic!("click {css}: {e}"));
}

async fn shot(b: &Client, name: &str) {
    if let Some(dir) = std::env::var_os("CLIENTELE_SCREENSHOTS") {
        let png = b.screenshot().await.expect("screenshot");
        std::fs::write(Path::new(&dir).join(name), png).expect("write screenshot");
    }
}

fn unzip(bytes: &[u8]) -> Vec<(String, String)> {
    let mut z = zip::ZipArchive::new(Cursor::new(bytes)).expect("zip");
    (0..z.len())
        .map(|i| {
            let mut f = z.by_index(i).expect("entry");
            let mut v = String::new();
            f.read_to_string(&mut v).expect("read entry");
            (f.name().map(|n| n.to_string()).unwrap_or_default(), v)
        })
        .collect()
}

/// The background colour (RGB hex) of a cell of the first sheet, through its style.
fn fill_of(parts: &[(String, String)], cell: &str) -> Option<String> {
    let part = |n: &str| parts.iter().find(|(p, _)| p == n).map(|(_, c)| c.as_str());
    let sheet = part("xl/worksheets/sheet1.xml")?;
    let at = sheet.find(&format!("<c r=\"{cell}\""))?;
    let tag = &sheet[at..at + sheet[at..].find('>')?];
    let style: usize = tag.split(" s=\"").nth(1)?.split('"').next()?.parse().ok()?;
    let styles = part("xl/styles.xml")?;
    let xfs = styles.split("<cellXfs").nth(1)?;
    let xf = xfs.split("<xf ").nth(style + 1)?;
    let fill: usize = xf
        .split("fillId=\"")
        .nth(1)?
        .split('"')
        .next()?
        .parse()
        .ok()?;
    let fills = styles.split("<fills").nth(1)?;
    let f = fills.split("<fill>").nth(fill + 1)?;
    Some(f.split("rgb=\"").nth(1)?.split('"').next()?.to_string())
}

/// A store call from the async test body (the PostgreSQL client blocks on its own runtime).
fn blocking<T>(f: impl FnOnce() -> T) -> T {
    tokio::task::block_in_place(f)
}

async fn journey(s: &TestServer, b: &Client, dir: &Path) {
    let base = &s.base;
    // Log in: any page leads to the login form, then back.
    b.goto(&format!("{base}/customers")).await.expect("goto");
    b.wait()
        .for_element(Locator::Css("#email"))
        .await
        .expect("login form")
        .send_keys("ann@example.fr")
        .await
        .expect("type");
    b.find(Locator::Css("#password"))
        .await
        .expect("password")
        .send_keys("correct horse")
        .await
        .expect("type");
    click(b, "form button[type=submit]").await;
    text_with(b, "h1", "Clients").await;
    assert!(b.current_url().await.expect("url").path() == "/customers");

    // Upload a pack with an error: the report shows the counts and the error on its row.
    let bad = dir.join("pack-avec-erreur.xlsx");
    pack(&bad, true);
    upload(b, base, &bad).await;
    assert_eq!(text_of(b, "#count-rows").await, "3");
    assert_eq!(text_of(b, "#count-errors").await, "1");
    assert_eq!(text_of(b, "#count-create").await, "2");
    let row = text_of(
        b,
        "table[data-code='registrationNumber.checksum'] tr[data-row='3']",
    )
    .await;
    assert!(row.contains("73282932000075"), "{row}");
    assert!(row.contains("clé de contrôle"), "{row}");
    let group = b
        .find(Locator::Css("section.group[data-column='C'] h3"))
        .await
        .expect("column group")
        .text()
        .await
        .expect("text");
    assert!(group.contains("SIRET"), "{group}");
    let import_button = b
        .find(Locator::Css("#import-button"))
        .await
        .expect("button");
    assert!(
        !import_button.is_enabled().await.expect("enabled"),
        "disabled while errors"
    );
    shot(b, "import-report.png").await;

    // The annotated workbook: the faulty cell highlighted, its message as a comment.
    let href = b
        .find(Locator::Css("#download-annotated"))
        .await
        .expect("link")
        .attr("href")
        .await
        .expect("attr")
        .expect("href");
    let session = b
        .get_named_cookie("clientele_session")
        .await
        .expect("session cookie");
    let http = reqwest::Client::new();
    let bytes = http
        .get(format!("{base}{href}"))
        .header("Cookie", format!("clientele_session={}", session.value()))
        .send()
        .await
        .expect("download")
        .bytes()
        .await
        .expect("bytes");
    let parts = unzip(&bytes);
    assert_eq!(
        fill_of(&parts, "C3").as_deref(),
        Some("FFFFC7CE"),
        "C3 has the error fill"
    );
    assert_eq!(fill_of(&parts, "C2"), None, "a valid cell is left alone");
    let comments: String = parts
        .iter()
        .filter(|(n, _)| n.starts_with("xl/comments"))
        .map(|(_, c)| c.as_str())
        .collect();
    assert!(comments.contains("ref=\"C3\""), "{comments}");
    assert!(comments.contains("73282932000075"), "{comments}");
    assert_eq!(
        blocking(|| s.store.stats().expect("stats").total),
        0,
        "a check writes nothing"
    );

    // The corrected pack imports.
    let good = dir.join("pack-corrige.xlsx");
    pack(&good, false);
    upload(b, base, &good).await;
    assert_eq!(text_of(b, "#count-errors").await, "0");
    assert_eq!(text_of(b, "#count-create").await, "3");
    click(b, "#import-button").await;
    let done = text_of(b, "#import-done").await;
    assert!(done.contains("3 créés"), "{done}");
    assert_eq!(blocking(|| s.store.stats().expect("stats").total), 3);

    // Find a customer by phone number, written another way.
    b.goto(&format!("{base}/customers")).await.expect("goto");
    assert!(text_of(b, "#result-count").await.starts_with("3 "));
    shot(b, "customers.png").await;
    let q = b
        .wait()
        .for_element(Locator::Css("#q"))
        .await
        .expect("search");
    q.send_keys("+33 4 72 00 00 01").await.expect("type");
    click(b, ".filters button[type=submit]").await;
    // The list page before the search has a count too: wait for the new one.
    let count = text_with(b, "#result-count", "1 ").await;
    assert!(count.starts_with("1 "), "{count}");
    b.find(Locator::LinkText("Beta Services"))
        .await
        .expect("result link")
        .click()
        .await
        .expect("open");
    assert!(text_of(b, "h1").await.contains("Beta Services"));
    let regime = text_of(b, "#vat-regime").await;
    assert!(regime.contains("TVA française"), "{regime}");

    // Edit: an invalid website is refused next to its field, then a valid one is saved.
    b.find(Locator::LinkText("Modifier"))
        .await
        .expect("edit link")
        .click()
        .await
        .expect("click");
    let site = b
        .wait()
        .for_element(Locator::Css("#f-website"))
        .await
        .expect("website field");
    site.clear().await.expect("clear");
    site.send_keys("pas une adresse").await.expect("type");
    click(b, "form.edit button[type=submit]").await;
    let err = text_of(b, "#e-website").await;
    assert!(!err.is_empty(), "an error next to the website field");
    assert_eq!(
        b.find(Locator::Css("#f-website"))
            .await
            .expect("field")
            .attr("aria-invalid")
            .await
            .expect("attr")
            .as_deref(),
        Some("true")
    );
    let beta = blocking(|| s.store.customer_by_account("WEB002").expect("beta"));
    assert_eq!(
        beta.text(clientele_core::Field::website),
        None,
        "nothing saved"
    );
    let site = b.find(Locator::Css("#f-website")).await.expect("field");
    site.clear().await.expect("clear");
    site.send_keys("https://beta.example.fr")
        .await
        .expect("type");
    click(b, "form.edit button[type=submit]").await;
    text_of(b, "#saved").await;
    let shown = text_of(b, "dl.fields div[data-key='website'] dd").await;
    assert_eq!(shown, "https://beta.example.fr");
    shot(b, "customer.png").await;

    // Undo the import: refused at first (a customer changed since), then forced.
    b.goto(&format!("{base}/imports")).await.expect("goto");
    b.wait()
        .for_element(Locator::Css("tr[data-import] button.danger"))
        .await
        .expect("undo button")
        .click()
        .await
        .expect("click");
    b.accept_alert().await.expect("confirm");
    let refused = text_of(b, "#undo-refused").await;
    assert!(refused.contains("WEB002"), "{refused}");
    // In the page's language, not the store's English.
    assert!(
        refused.contains("le client WEB002 a été modifié après l'import n°"),
        "{refused}"
    );
    assert_eq!(
        blocking(|| s.store.stats().expect("stats").total),
        3,
        "refused: nothing undone"
    );
    click(b, "#force-undo").await;
    text_of(b, "#undo-done").await;
    assert_eq!(
        blocking(|| s.store.stats().expect("stats").total),
        0,
        "undone"
    );
}

/// Log the browser in as Ann.
async fn browser_login(b: &Client, base: &str) {
    b.goto(&format!("{base}/customers")).await.expect("goto");
    b.wait()
        .for_element(Locator::Css("#email"))
        .await
        .expect("login form")
        .send_keys("ann@example.fr")
        .await
        .expect("type");
    b.find(Locator::Css("#password"))
        .await
        .expect("password")
        .send_keys("correct horse")
        .await
        .expect("type");
    click(b, "form button[type=submit]").await;
    text_with(b, "h1", "Clients").await;
}

/// The value of a form field.
async fn value_of(b: &Client, css: &str) -> String {
    b.find(Locator::Css(css))
        .await
        .unwrap_or_else(|e| panic!("{css}: {e}"))
        .prop("value")
        .await
        .expect("value")
        .unwrap_or_default()
}

/// The edit form proposes the communes of a typed postal code; a city that is not one of
/// them is saved (a warning, never a block) and shown with its suggestion; choosing the
/// proposed commune clears it.
async fn address_proposals(s: &TestServer, b: &Client, id: i64) {
    let base = &s.base;
    browser_login(b, base).await;
    b.goto(&format!("{base}/customers/{id}/edit"))
        .await
        .expect("goto");
    let postal = b
        .wait()
        .for_element(Locator::Css("#f-mainAddressPostalCode"))
        .await
        .expect("postal code field");
    // The stored code's communes are proposed as the form opens.
    assert_eq!(text_of(b, "#communes-hint button.commune").await, "Paris");
    postal.clear().await.expect("clear");
    postal.send_keys("20200").await.expect("type");
    let mut proposed = String::new();
    let start = Instant::now();
    while !proposed.contains("Bastia") {
        assert!(start.elapsed() < Duration::from_secs(60), "{proposed}");
        proposed = text_of(b, "#communes-hint").await;
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(proposed.contains("Ville-di-Pietrabugno"), "{proposed}");
    let options = b
        .find_all(Locator::Css("#communes option"))
        .await
        .expect("options");
    assert_eq!(options.len(), 4);
    assert_eq!(
        b.find(Locator::Css("#f-mainAddressCity"))
            .await
            .expect("city")
            .attr("list")
            .await
            .expect("attr")
            .as_deref(),
        Some("communes")
    );
    // A city of another code: saved, and the page says so with the suggestion.
    let city = b
        .find(Locator::Css("#f-mainAddressCity"))
        .await
        .expect("city");
    city.clear().await.expect("clear");
    city.send_keys("Ajaccio").await.expect("type");
    let naf = b.find(Locator::Css("#f-activityCode")).await.expect("naf");
    naf.clear().await.expect("clear");
    naf.send_keys("61.10Z").await.expect("type");
    click(b, "form.edit button[type=submit]").await;
    text_of(b, "#saved").await;
    let warning = text_of(b, "[data-warning='mainAddressCity']").await;
    assert!(warning.contains("20200 → Bastia"), "{warning}");
    assert!(warning.contains("Ajaccio → 20000"), "{warning}");
    assert!(text_of(b, "#note-activityCode")
        .await
        .contains("Télécommunications filaires"));
    let stored = blocking(|| s.store.customer(id).expect("customer"));
    assert_eq!(
        stored.text(clientele_core::Field::mainAddressCity),
        Some("Ajaccio")
    );
    assert_eq!(
        stored.text(clientele_core::Field::postalCode),
        Some("20200")
    );

    // Choosing the proposed commune fills the city in; saved, no warning left.
    b.goto(&format!("{base}/customers/{id}/edit"))
        .await
        .expect("goto");
    let bastia = "#communes-hint button.commune:first-of-type";
    assert_eq!(text_of(b, bastia).await, "Bastia");
    click(b, bastia).await;
    assert_eq!(value_of(b, "#f-mainAddressCity").await, "Bastia");
    click(b, "form.edit button[type=submit]").await;
    text_of(b, "#saved").await;
    assert!(b
        .find_all(Locator::Css("[data-warning]"))
        .await
        .expect("find")
        .is_empty());
    let stored = blocking(|| s.store.customer(id).expect("customer"));
    assert_eq!(
        stored.text(clientele_core::Field::mainAddressCity),
        Some("Bastia")
    );
}

fn browser_address_proposals() {
    let Some((d, chrome)) = driver() else {
        return;
    };
    let s = TestServer::start();
    let (code, created) = s.json(
        "POST",
        "/api/v1/customers",
        &s.write,
        &json!({"name": "Adresse SA", "mainAddressPostalCode": "75001", "mainAddressCity": "Paris"}),
    );
    assert_eq!(code, 201, "{created}");
    let id = created["id"].as_i64().expect("id");
    in_browser(&d, &chrome, async |b| address_proposals(&s, b, id).await);
}

fn browser_journey() {
    let Some((d, chrome)) = driver() else {
        return;
    };
    let s = TestServer::start();
    let dir = tempfile::tempdir().expect("dir");
    in_browser(&d, &chrome, async |b| journey(&s, b, dir.path()).await);
}

// ---------------------------------------------------------------------------------------
// Audit trail and the token page (issue 12)
// ---------------------------------------------------------------------------------------

/// A page of the signed-in user (status, HTML).
fn page(s: &TestServer, c: &reqwest::blocking::Client, session: &str, path: &str) -> (u16, String) {
    let r = c
        .get(s.url(path))
        .header("Cookie", format!("clientele_session={session}"))
        .send()
        .expect("page");
    (r.status().as_u16(), r.text().expect("html"))
}

/// The `<li>` of a customer page's history whose action is `action`.
fn history_entry<'a>(html: &'a str, action: &str) -> Vec<&'a str> {
    let marker = format!("<li data-action=\"{action}\">");
    html.split(&marker)
        .skip(1)
        .map(|rest| rest.split("</li>").next().expect("entry"))
        .collect()
}

fn audit_and_token_page() {
    let s = TestServer::start();
    let c = http();
    let (session, csrf) = login(&s, &c);
    // An API create with the `write` token (made by `token create`): recorded as the token.
    let (st, created) = s.json(
        "POST",
        "/api/v1/customers",
        &s.write,
        &json!({"name": "Audit Un", "customerAccount": "AUD001"}),
    );
    assert_eq!(st, 201, "{created}");
    let id = created["id"].as_i64().expect("id");
    // An API update with a login token: recorded as its user.
    let (st, login) = s.json(
        "POST",
        "/api/login",
        "",
        &json!({"email": "ann@example.fr", "password": "correct horse"}),
    );
    assert_eq!(st, 200, "{login}");
    let ann = login["token"].as_str().expect("token").to_string();
    let (st, _) = s.json(
        "PATCH",
        &format!("/api/v1/customers/{id}"),
        &ann,
        &json!({"name": "Audit Un bis"}),
    );
    assert_eq!(st, 200);
    // A contact added with the write token.
    let (st, contact) = s.json(
        "POST",
        "/api/v1/contacts",
        &s.write,
        &json!({"contactable_id": id, "firstName": "Zoé", "lastName": "Martin"}),
    );
    assert_eq!(st, 201, "{contact}");
    // A web edit: recorded as the signed-in user.
    let (_, form) = page(&s, &c, &session, &format!("/customers/{id}/edit"));
    let mut fields: Vec<(String, String)> = vec![("_csrf".into(), hidden(&form, "_csrf"))];
    fields.push(("name".into(), "Audit Un (édité)".into()));
    let r = c
        .post(s.url(&format!("/customers/{id}/edit")))
        .header("Cookie", format!("clientele_session={session}"))
        .form(&fields)
        .send()
        .expect("edit");
    assert_eq!(r.status(), 303, "{}", r.text().unwrap_or_default());
    let (st, html) = page(&s, &c, &session, &format!("/customers/{id}"));
    assert_eq!(st, 200);
    let created_e = history_entry(&html, "create");
    assert_eq!(created_e.len(), 1, "{html}");
    assert!(created_e[0].contains("token:write"), "{}", created_e[0]);
    // Times are `<time>` elements in UTC, with a readable UTC fallback.
    assert!(
        created_e[0].contains("<time datetime=\"20") && created_e[0].contains(" UTC</time>"),
        "{}",
        created_e[0]
    );
    let updates = history_entry(&html, "update");
    assert_eq!(updates.len(), 2, "an API update and a web edit: {html}");
    assert!(
        updates.iter().all(|e| e.contains("ann@example.fr")),
        "{updates:?}"
    );
    let contacts = history_entry(&html, "contact.create");
    assert!(
        contacts.len() == 1
            && contacts[0].contains("Zoé Martin")
            && contacts[0].contains("token:write"),
        "{contacts:?}"
    );
    // A delete is recorded too (its trail outlives the customer).
    let (st, other) = s.json(
        "POST",
        "/api/v1/customers",
        &s.write,
        &json!({"name": "Audit Deux"}),
    );
    assert_eq!(st, 201);
    let other_id = other["id"].as_i64().expect("id");
    let (st, _) = s.json(
        "DELETE",
        &format!("/api/v1/customers/{other_id}"),
        &ann,
        &json!({}),
    );
    assert_eq!(st, 200);
    let trail = s.store.audit_of("customer", other_id, 10).expect("audit");
    assert_eq!(
        trail
            .iter()
            .map(|a| (a.action.as_str(), a.actor.as_str()))
            .collect::<Vec<_>>(),
        vec![("delete", "ann@example.fr"), ("create", "token:write")]
    );

    // An API import with the write token, undone from the web page by Ann: the history
    // names both, and a customer it created names the import.
    let dir = tempfile::tempdir().expect("dir");
    let file = dir.path().join("audit.xlsx");
    pack(&file, false);
    let part = reqwest::blocking::multipart::Part::bytes(std::fs::read(&file).expect("pack"))
        .file_name("audit.xlsx");
    let (st, report) = common::read(
        s.client
            .post(s.url("/api/v1/imports"))
            .bearer_auth(&s.write)
            .multipart(reqwest::blocking::multipart::Form::new().part("file", part))
            .send()
            .expect("import"),
    );
    assert_eq!(st, 200, "{report}");
    let imports = s.store.imports().expect("imports");
    let import = &imports[0];
    assert_eq!(import.actor.as_deref(), Some("token:write"));
    let web001 = s.store.customer_by_account("WEB001").expect("imported");
    let (_, html) = page(&s, &c, &session, &format!("/customers/{}", web001.id));
    let by_import = history_entry(&html, "import");
    assert!(
        by_import.len() == 1
            && by_import[0].contains("audit.xlsx")
            && by_import[0].contains("token:write"),
        "{html}"
    );
    let r = c
        .post(s.url(&format!("/imports/{}/undo", import.id)))
        .header("Cookie", format!("clientele_session={session}"))
        .form(&[("_csrf", csrf.as_str())])
        .send()
        .expect("undo");
    assert_eq!(r.status(), 303);
    let (_, html) = page(&s, &c, &session, "/imports");
    let row = html
        .split(&format!("<tr data-import=\"{}\">", import.id))
        .nth(1)
        .and_then(|r| r.split("</tr>").next())
        .expect("import row");
    assert!(
        row.contains("<td class=\"actor\">token:write</td>"),
        "{row}"
    );
    assert!(
        row.contains("par <span class=\"actor\">ann@example.fr</span>"),
        "{row}"
    );
    assert!(row.contains("<time datetime=\""), "{row}");
    assert_eq!(
        s.store.imports().expect("imports")[0].undone_by.as_deref(),
        Some("ann@example.fr")
    );

    // The token page lists every token with its scope; the login token names its user.
    let (st, html) = page(&s, &c, &session, "/tokens");
    assert_eq!(st, 200);
    let tokens = s.store.tokens().expect("tokens");
    let lookup = tokens.iter().find(|t| t.name == "lookup").expect("lookup");
    let login_rec = tokens.iter().find(|t| t.name == "login").expect("login");
    assert!(
        html.contains(&format!("<tr data-token=\"{}\">", lookup.id)),
        "{html}"
    );
    let login_row = html
        .split(&format!("<tr data-token=\"{}\">", login_rec.id))
        .nth(1)
        .and_then(|r| r.split("</tr>").next())
        .expect("login row");
    assert!(
        login_row.contains("ann@example.fr") && login_row.contains("write"),
        "{login_row}"
    );
    // Used a moment ago on this server: the page shows it (not yet written to the database).
    assert!(
        login_row.contains("<td class=\"last-used\"><time"),
        "{login_row}"
    );
    // Revoking needs the session's CSRF token.
    let routing = "/api/isKnownPhoneNumber?phoneNumber=0612345678";
    assert_eq!(s.get(routing, &s.lookup).0, 200);
    let revoke = format!("/tokens/{}/revoke", lookup.id);
    let r = c
        .post(s.url(&revoke))
        .header("Cookie", format!("clientele_session={session}"))
        .form(&[("_csrf", "forged")])
        .send()
        .expect("revoke");
    assert_eq!(r.status(), 403);
    assert_eq!(s.get(routing, &s.lookup).0, 200, "still valid");
    let r = c
        .post(s.url(&revoke))
        .header("Cookie", format!("clientele_session={session}"))
        .form(&[("_csrf", csrf.as_str())])
        .send()
        .expect("revoke");
    assert_eq!(r.status(), 303);
    assert_eq!(
        r.headers()["location"],
        format!("/tokens?revoked={}", lookup.id).as_str()
    );
    assert_eq!(s.get(routing, &s.lookup).0, 401, "revoked");
    assert!(s
        .store
        .tokens()
        .expect("tokens")
        .iter()
        .all(|t| t.id != lookup.id));
    // Revoking it again: not found.
    let r = c
        .post(s.url(&revoke))
        .header("Cookie", format!("clientele_session={session}"))
        .form(&[("_csrf", csrf.as_str())])
        .send()
        .expect("revoke");
    assert_eq!(r.status(), 404);
    // Without a session: the login page.
    let r = c.get(s.url("/tokens")).send().expect("tokens");
    assert_eq!(r.status(), 303);
}

async fn token_page_journey(s: &TestServer, b: &Client) {
    let base = &s.base;
    b.goto(&format!("{base}/tokens")).await.expect("goto");
    b.wait()
        .for_element(Locator::Css("#email"))
        .await
        .expect("login form")
        .send_keys("ann@example.fr")
        .await
        .expect("type");
    b.find(Locator::Css("#password"))
        .await
        .expect("password")
        .send_keys("correct horse")
        .await
        .expect("type");
    click(b, "form button[type=submit]").await;
    let read = blocking(|| s.store.tokens().expect("tokens"))
        .into_iter()
        .find(|t| t.name == "read")
        .expect("read token");
    let row = text_of(b, &format!("tr[data-token='{}']", read.id)).await;
    assert!(row.contains("read"), "{row}");
    // The script shows the creation time in the browser's zone (no "UTC" suffix left).
    let created = text_of(
        b,
        &format!("tr[data-token='{}'] time[data-local='1']", read.id),
    )
    .await;
    assert!(!created.is_empty() && !created.contains("UTC"), "{created}");
    shot(b, "tokens.png").await;
    assert_eq!(blocking(|| s.get("/api/v1/customers", &s.read).0), 200);
    click(b, &format!("tr[data-token='{}'] button", read.id)).await;
    b.accept_alert().await.expect("confirm");
    let done = text_of(b, "#revoke-done").await;
    assert!(done.contains(&read.id.to_string()), "{done}");
    assert!(
        b.find(Locator::Css(&format!("tr[data-token='{}']", read.id)))
            .await
            .is_err(),
        "revoked token still listed"
    );
    assert_eq!(blocking(|| s.get("/api/v1/customers", &s.read).0), 401);
}

fn browser_token_page() {
    let Some((d, chrome)) = driver() else {
        return;
    };
    let s = TestServer::start();
    in_browser(&d, &chrome, async |b| token_page_journey(&s, b).await);
}

// ---------------------------------------------------------------------------------------
// Column mapping and the identity guard (issue 14)
// ---------------------------------------------------------------------------------------

/// A customer in the database whose account the pack below gives to another company, and
/// the pack: a misspelled `Code postale` heading, a new customer and the clash.
fn clash_setup(s: &TestServer) -> String {
    let (code, created) = s.json(
        "POST",
        "/api/v1/customers",
        &s.write,
        &json!({"name": "Électricité Françoise 1", "customerAccount": "CLASH1", "registrationNumber": "73282932000074"}),
    );
    assert_eq!(code, 201, "{created}");
    "Compte client;Raison sociale;SIRET;Code postale;Ville\n\
     MAP001;Alpha Télécom;;75001;Paris\n\
     CLASH1;Hôtel Lefèvre 1;44306184100047;69001;Lyon\n"
        .to_string()
}

/// The API takes the mapping as a field and the confirmation as a flag.
fn api_mapping_and_identity() {
    let s = TestServer::start();
    let csv = clash_setup(&s);
    let post = |query: &str, fields: &[(&str, &str)]| {
        let mut form = reqwest::blocking::multipart::Form::new().part(
            "file",
            reqwest::blocking::multipart::Part::bytes(csv.as_bytes().to_vec())
                .file_name("clash.csv"),
        );
        for (k, v) in fields {
            form = form.text(k.to_string(), v.to_string());
        }
        let r = http()
            .post(s.url(&format!("/api/v1/imports{query}")))
            .bearer_auth(&s.write)
            .multipart(form)
            .send()
            .expect("upload");
        let status = r.status().as_u16();
        (status, r.json::<serde_json::Value>().expect("json"))
    };
    let (st, r) = post("", &[]);
    assert_eq!(st, 200, "{r}");
    assert_eq!(r["imported"], false);
    assert!(r["issues"]
        .as_array()
        .expect("issues")
        .iter()
        .any(|i| i["code"] == "header.unmapped" && i["field"] == "postalCode"));
    let (st, r) = post("", &[("mapping", "{\"Code postale\": \"zip\"}")]);
    assert_eq!(st, 422, "{r}");
    assert!(
        r["message"].as_str().is_some_and(|m| m.contains("zip")),
        "{r}"
    );
    let mapping = "{\"Code postale\": \"postalCode\"}";
    let (st, r) = post("", &[("mapping", mapping)]);
    assert_eq!(st, 200, "{r}");
    assert_eq!(r["imported"], false, "{r}");
    assert_eq!(r["identityChanges"], 1, "{r}");
    assert!(r["refused"].is_string(), "{r}");
    let (st, r) = post("?allowIdentityChange=1", &[("mapping", mapping)]);
    assert_eq!(st, 200, "{r}");
    assert_eq!(r["imported"], true, "{r}");
    let (_, list) = s.get("/api/v1/customers?filter[customerAccount]=CLASH1", &s.read);
    assert_eq!(list["data"][0]["name"], "Hôtel Lefèvre 1", "{list}");
    let (_, list) = s.get("/api/v1/customers?filter[customerAccount]=MAP001", &s.read);
    assert_eq!(list["data"][0]["mainAddressPostalCode"], "75001", "{list}");
}

/// The pages refuse an import while a column waits for its mapping, and an identity clash
/// without the confirmation, whatever the browser sends.
fn web_refusals_without_mapping_or_confirmation() {
    let s = TestServer::start();
    let csv = clash_setup(&s);
    let c = http();
    let (session, csrf) = login(&s, &c);
    let cookie = format!("clientele_session={session}");
    let page = upload_and_wait(&s, &c, &cookie, &csrf, "clash.csv", csv.as_bytes());
    let import = |page: &str, extra: &[(&str, &str)]| {
        let mut form = vec![("_csrf", csrf.as_str()), ("skip_invalid", "1")];
        form.extend_from_slice(extra);
        c.post(s.url(&format!("{page}/import")))
            .header("Cookie", &cookie)
            .form(&form)
            .send()
            .expect("import")
    };
    let r = import(&page, &[]);
    assert_eq!(r.status(), 409);
    let html = r.text().expect("html");
    assert!(html.contains("Correspondance des colonnes"), "{html}");
    // An error page in words, inside the site's layout (its menu), even without JavaScript.
    assert!(html.contains("Action impossible pour l’instant"), "{html}");
    assert!(html.contains("Navigation principale"), "{html}");

    // The mapping step: a new check of the same file.
    let r = c
        .post(s.url(&format!("{page}/mapping")))
        .header("Cookie", &cookie)
        .form(&[("_csrf", csrf.as_str()), ("map_D", "postalCode")])
        .send()
        .expect("mapping");
    assert_eq!(r.status(), 303);
    let mapped = r.headers()["location"]
        .to_str()
        .expect("location")
        .to_string();
    assert_ne!(mapped, page);
    wait_until_done(&s, &c, &cookie, &mapped);
    let html = c
        .get(s.url(&mapped))
        .header("Cookie", &cookie)
        .send()
        .expect("page")
        .text()
        .expect("html");
    assert!(!html.contains("id=\"mapping-pending\""), "mapping applied");
    assert!(html.contains("id=\"identity-alert\""), "clash shown");

    let r = import(&mapped, &[]);
    assert_eq!(r.status(), 409);
    assert!(r.text().expect("html").contains("autres sociétés"));
    let r = import(&mapped, &[("confirm_identity", "1")]);
    assert_eq!(r.status(), 303);
    wait_until_done(&s, &c, &cookie, &mapped);
    let html = c
        .get(s.url(&mapped))
        .header("Cookie", &cookie)
        .send()
        .expect("page")
        .text()
        .expect("html");
    // Singular words for one, sizes in bytes under a kibibyte.
    assert!(html.contains("1 créé, 1 mis à jour, 0 inchangés"), "{html}");
    assert!(html.contains(" octets · "), "{html}");
    let (_, list) = s.get("/api/v1/customers?filter[customerAccount]=CLASH1", &s.read);
    assert_eq!(list["data"][0]["name"], "Hôtel Lefèvre 1", "{list}");
    let (_, list) = s.get("/api/v1/customers?filter[customerAccount]=MAP001", &s.read);
    assert_eq!(list["data"][0]["mainAddressPostalCode"], "75001", "{list}");
}

#[test]
fn web_refusals_without_mapping_or_confirmation_sqlite() {
    with_backend(
        Backend::Sqlite,
        web_refusals_without_mapping_or_confirmation,
    );
}

#[test]
fn web_refusals_without_mapping_or_confirmation_postgres() {
    with_backend(
        Backend::Postgres,
        web_refusals_without_mapping_or_confirmation,
    );
}

/// In the browser: the misspelled heading is proposed as the postal code, the staff apply
/// the mapping, then confirm the identity clash and import.
async fn mapping_journey(s: &TestServer, b: &Client, file: &Path) {
    let base = &s.base;
    browser_login(b, base).await;
    upload(b, base, file).await;
    let pending = text_of(b, "#mapping-pending").await;
    assert!(pending.contains("ressemblent"), "{pending}");
    assert_eq!(value_of(b, "#map_D").await, "postalCode");
    let samples = text_of(b, "tr[data-column='D'] td.samples").await;
    assert!(
        samples.contains("75001") && samples.contains("69001"),
        "{samples}"
    );
    assert_eq!(value_of(b, "#map_A").await, "customerAccount");
    shot(b, "mapping.png").await;
    click(b, "#mapping-button").await;
    let alert = text_of(b, "#identity-alert").await;
    assert!(
        alert.contains("Électricité Françoise 1") && alert.contains("Hôtel Lefèvre 1"),
        "{alert}"
    );
    assert!(
        b.find(Locator::Css("#mapping-pending")).await.is_err(),
        "the mapping was applied"
    );
    shot(b, "identity.png").await;
    // The confirmation is required: the browser does not send the form without it.
    let before = b.current_url().await.expect("url");
    click(b, "#import-button").await;
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(b.current_url().await.expect("url"), before);
    assert!(b.find(Locator::Css("#import-done")).await.is_err());
    click(b, "#confirm_identity").await;
    click(b, "#import-button").await;
    let done = text_of(b, "#import-done").await;
    assert!(done.contains("terminé"), "{done}");
    let stored = blocking(|| s.store.customer_by_account("CLASH1").expect("customer"));
    assert_eq!(
        stored.text(clientele_core::Field::name),
        Some("Hôtel Lefèvre 1")
    );
    let report = b.current_url().await.expect("url").path().to_string();

    // The history links the file to its report; times are shown in local time.
    b.goto(&format!("{base}/imports")).await.expect("goto");
    click(b, &format!("#imports a[href='{report}']")).await;
    text_of(b, "#import-done").await;
    assert_eq!(b.current_url().await.expect("url").path(), report);
    let local = b
        .find(Locator::Css("p.muted time[data-local='1']"))
        .await
        .expect("the upload time in local time");
    let title = local
        .attr("title")
        .await
        .expect("title")
        .unwrap_or_default();
    assert!(title.ends_with("UTC"), "{title}");

    // The same file again: the mapping applied above is offered, not applied.
    upload(b, base, file).await;
    let offered = text_of(b, "#mapping-remembered").await;
    assert!(offered.contains("dernière fois"), "{offered}");
    assert_eq!(value_of(b, "#map_D").await, "postalCode");
    // Not applied: the column still waits for its mapping.
    assert!(text_of(b, "#mapping-pending").await.contains("ressemblent"));
    // The issues by row, a link away (no script needed).
    click(b, "#view-rows").await;
    let row = text_of(b, "#issues-by-row").await;
    assert!(row.contains("Colonne à associer"), "{row}");
    assert!(b.current_url().await.expect("url").query() == Some("view=rows"));
}

fn browser_mapping_journey() {
    let Some((d, chrome)) = driver() else {
        return;
    };
    let s = TestServer::start();
    let dir = tempfile::tempdir().expect("dir");
    // Set up over blocking HTTP before the async part.
    let file = dir.path().join("clash.csv");
    std::fs::write(&file, clash_setup(&s)).expect("write pack");
    in_browser(&d, &chrome, async |b| mapping_journey(&s, b, &file).await);
}

// ---------------------------------------------------------------------------------------
// History links, remembered mappings, report views (issue 14)
// ---------------------------------------------------------------------------------------

/// The `<select>` of a mapping-step column, as the page sends it.
fn select_of<'a>(html: &'a str, column: &str) -> &'a str {
    let start = html
        .find(&format!("<select id=\"map_{column}\""))
        .unwrap_or_else(|| panic!("no select for column {column}: {html}"));
    let end = html[start..].find("</select>").expect("select end");
    &html[start..start + end]
}

/// The history links each web import to its report, which any staff member may read
/// (and download its rejected rows from) once imported; an undone import's report says
/// when and by whom instead of "done".
fn history_links_to_reports() {
    let s = TestServer::start();
    let c = http();
    let (session, csrf) = login(&s, &c);
    let cookie = format!("clientele_session={session}");
    let csv = "Compte client;Raison sociale;SIRET\nHI001;Alpha;73282932000074\nHI002;Beta;73282932000075\n";
    let report = upload_and_wait(&s, &c, &cookie, &csrf, "history.csv", csv.as_bytes());
    let (_, html) = page(&s, &c, &session, &report);
    // Shown in the viewer's time zone by the page's script.
    assert!(html.contains("déposé le <time datetime=\""), "{html}");
    let r = c
        .post(s.url(&format!("{report}/import")))
        .header("Cookie", &cookie)
        .form(&[("_csrf", csrf.as_str()), ("skip_invalid", "1")])
        .send()
        .expect("import");
    assert_eq!(r.status(), 303);
    wait_until_done(&s, &c, &cookie, &report);
    // An import through the API names no upload: its file name is not a link.
    let form = reqwest::blocking::multipart::Form::new().part(
        "file",
        reqwest::blocking::multipart::Part::bytes(
            b"Compte client;Raison sociale\nAPI01;Gamma\n".to_vec(),
        )
        .file_name("api.csv"),
    );
    let r = http()
        .post(s.url("/api/v1/imports"))
        .bearer_auth(&s.write)
        .multipart(form)
        .send()
        .expect("api import");
    assert_eq!(r.status(), 200);

    let (_, history) = page(&s, &c, &session, "/imports");
    assert!(
        history.contains(&format!("<a href=\"{report}\">history.csv</a>")),
        "{history}"
    );
    assert!(history.contains("<td>api.csv</td>"), "{history}");
    let imports = s.store.imports().expect("imports");
    let web_import = imports
        .iter()
        .find(|i| i.file == "history.csv")
        .expect("web import");
    assert_eq!(
        web_import.upload_id.as_deref(),
        report.strip_prefix("/uploads/")
    );

    // A colleague reads the report and downloads its rejected rows again.
    let hash = clientele_server::auth::hash_password("other pass").expect("hash");
    s.store
        .create_user("Bob", "bob@example.fr", &hash)
        .expect("user");
    let (bob, _) = login_as(&s, &c, "bob@example.fr", "other pass");
    let (code, html) = page(&s, &c, &bob, &report);
    assert_eq!(code, 200);
    assert!(html.contains("id=\"import-done\""), "{html}");
    let (code, rejected) = page(&s, &c, &bob, &format!("{report}/rejected"));
    assert_eq!(code, 200);
    assert!(rejected.contains("HI002;Beta"), "{rejected}");

    // Undone: the report says so, when and by whom, and no longer "done".
    let r = c
        .post(s.url(&format!("/imports/{}/undo", web_import.id)))
        .header("Cookie", &cookie)
        .form(&[("_csrf", csrf.as_str())])
        .send()
        .expect("undo");
    assert_eq!(r.status(), 303);
    let (_, html) = page(&s, &c, &bob, &report);
    assert!(html.contains("id=\"import-undone\""), "{html}");
    assert!(
        html.contains(&format!(
            "Import n°{} annulé le <time datetime=\"",
            web_import.id
        )),
        "{html}"
    );
    assert!(
        html.contains("par <span class=\"actor\">ann@example.fr</span>"),
        "{html}"
    );
    assert!(!html.contains("terminé"), "{html}");
    let r = c
        .get(s.url(&report))
        .header(
            "Cookie",
            format!("clientele_session={bob}; clientele_lang=en"),
        )
        .send()
        .expect("english");
    let html = r.text().expect("html");
    assert!(
        html.contains(&format!("Import #{} undone on <time", web_import.id)),
        "{html}"
    );
}

/// A mapping the staff apply is remembered under the file's set of headings and offered
/// (pre-selected, with its date) to the next upload of those headings, whatever their
/// order, case or accents; it is not applied until the staff apply it. An API import's
/// mapping is remembered too.
fn remembered_mapping_offered() {
    let s = TestServer::start();
    let c = http();
    let (session, csrf) = login(&s, &c);
    let cookie = format!("clientele_session={session}");
    let first =
        "Compte client;Raison sociale;Zone;Commercial\nZO1;Alpha;75001;Jean\nZO2;Beta;69001;Paul\n";
    let report = upload_and_wait(&s, &c, &cookie, &csrf, "zone.csv", first.as_bytes());
    let (_, html) = page(&s, &c, &session, &report);
    assert!(
        select_of(&html, "C").contains("value=\"-\" selected"),
        "{html}"
    );
    assert!(
        !html.contains("id=\"mapping-remembered\""),
        "nothing remembered yet"
    );
    let r = c
        .post(s.url(&format!("{report}/mapping")))
        .header("Cookie", &cookie)
        .form(&[
            ("_csrf", csrf.as_str()),
            ("map_A", "customerAccount"),
            ("map_B", "name"),
            ("map_C", "postalCode"),
            ("map_D", "-"),
        ])
        .send()
        .expect("mapping");
    assert_eq!(r.status(), 303);

    // The same headings in another order and spelling.
    let second = "ZONE;commercial;Raison  Sociale;COMPTE CLIENT\n13001;Luc;Gamma;ZO3\n";
    let report = upload_and_wait(&s, &c, &cookie, &csrf, "zone-2.csv", second.as_bytes());
    let (_, html) = page(&s, &c, &session, &report);
    assert!(html.contains("id=\"mapping-remembered\""), "{html}");
    assert!(
        html.contains("Correspondance utilisée la dernière fois pour ces intitulés (<time"),
        "{html}"
    );
    let selected = |col: &str, field: &str| {
        assert!(
            select_of(&html, col).contains(&format!("value=\"{field}\" selected")),
            "{col} should be {field}: {html}"
        )
    };
    selected("A", "postalCode");
    selected("B", "-");
    selected("C", "name");
    selected("D", "customerAccount");
    // Offered only: importing this check as it is leaves the postal code out.
    let r = c
        .post(s.url(&format!("{report}/import")))
        .header("Cookie", &cookie)
        .form(&[("_csrf", csrf.as_str())])
        .send()
        .expect("import");
    assert_eq!(r.status(), 303);
    wait_until_done(&s, &c, &cookie, &report);
    let gamma = s.store.customer_by_account("ZO3").expect("imported");
    assert_eq!(gamma.text(clientele_core::Field::postalCode), None);

    // Other headings: nothing offered.
    let other = "Compte client;Raison sociale;Zone;Vendeur\nZO4;Delta;75002;Eve\n";
    let report = upload_and_wait(&s, &c, &cookie, &csrf, "other.csv", other.as_bytes());
    let (_, html) = page(&s, &c, &session, &report);
    assert!(!html.contains("id=\"mapping-remembered\""), "{html}");

    // An API import with a mapping remembers it for its headings.
    let form = reqwest::blocking::multipart::Form::new()
        .part(
            "file",
            reqwest::blocking::multipart::Part::bytes(other.as_bytes().to_vec())
                .file_name("other.csv"),
        )
        .text("mapping", "{\"Zone\": \"postalCode\", \"Vendeur\": \"-\"}");
    let r = http()
        .post(s.url("/api/v1/imports"))
        .bearer_auth(&s.write)
        .multipart(form)
        .send()
        .expect("api import");
    assert_eq!(r.status(), 200);
    let report = upload_and_wait(&s, &c, &cookie, &csrf, "other.csv", other.as_bytes());
    let (_, html) = page(&s, &c, &session, &report);
    assert!(html.contains("id=\"mapping-remembered\""), "{html}");
    assert!(
        select_of(&html, "C").contains("value=\"postalCode\" selected"),
        "{html}"
    );
}

/// The report's tables are titled in words, the code in small print, and a view by row
/// lists each row's issues, paged.
fn report_titles_and_view_by_row() {
    let s = TestServer::start();
    let c = http();
    let (session, csrf) = login(&s, &c);
    let cookie = format!("clientele_session={session}");
    // 150 rows, each with a wrong SIRET and a duplicated account after the first.
    let mut csv = String::from("Compte client;Raison sociale;SIRET\n");
    for i in 0..150 {
        csv.push_str(&format!("DUP1;Société {i};73282932000075\n"));
    }
    let report = upload_and_wait(&s, &c, &cookie, &csrf, "rows.csv", csv.as_bytes());
    let (_, html) = page(&s, &c, &session, &report);
    assert!(
        html.contains("<caption><span class=\"title\">Clé de contrôle fausse</span> · 150 erreurs <small><code>registrationNumber.checksum</code></small></caption>"),
        "{html}"
    );
    assert!(html.contains("Compte en double dans le fichier"), "{html}");
    assert!(
        html.contains("id=\"view-columns\" aria-current=\"page\""),
        "{html}"
    );
    assert!(!html.contains("id=\"issues-by-row\""), "{html}");

    let (_, rows) = page(&s, &c, &session, &format!("{report}?view=rows"));
    assert!(
        rows.contains("id=\"view-rows\" aria-current=\"page\""),
        "{rows}"
    );
    assert!(
        rows.contains("Lignes 1 à 100 sur 150 ayant des problèmes"),
        "{rows}"
    );
    assert_eq!(rows.matches("<tbody data-row=").count(), 100);
    // Row 3: its two issues, in column order, each with its column, title and code.
    let at = rows.find("<tbody data-row=\"3\">").expect("row 3");
    let row3 = &rows[at..at + rows[at..].find("</tbody>").expect("end")];
    let dup = row3.find("Compte en double").expect("duplicate account");
    let checksum = row3.find("Clé de contrôle fausse").expect("checksum");
    assert!(dup < checksum, "{row3}");
    assert!(row3.contains("<b>C</b> SIRET"), "{row3}");
    assert!(
        row3.contains("<code>customerAccount.duplicate_in_file</code>"),
        "{row3}"
    );
    assert!(rows.contains("page 1 sur 2"), "{rows}");
    assert!(rows.contains("?view=rows&amp;page=2#issues"), "{rows}");

    let (_, last) = page(&s, &c, &session, &format!("{report}?view=rows&page=2"));
    assert!(last.contains("Lignes 101 à 150 sur 150"), "{last}");
    assert_eq!(last.matches("<tbody data-row=").count(), 50);
    assert!(last.contains("<tbody data-row=\"151\">"), "{last}");
    // Past the last page: the last page.
    let (code, far) = page(&s, &c, &session, &format!("{report}?view=rows&page=99"));
    assert_eq!(code, 200);
    assert!(far.contains("page 2 sur 2"), "{far}");

    let r = c
        .get(s.url(&format!("{report}?view=rows")))
        .header("Cookie", format!("{cookie}; clientele_lang=en"))
        .send()
        .expect("english");
    let en = r.text().expect("html");
    assert!(en.contains("Rows 1 to 100 of 150 with issues"), "{en}");
    assert!(en.contains("Wrong check digits"), "{en}");
}

// ---------------------------------------------------------------------------------------
// Phone-width screens (issue 14)
// ---------------------------------------------------------------------------------------

/// At 390 px every page fits the screen: the page itself never scrolls sideways (wide
/// tables scroll inside their own box).
async fn narrow_pages(s: &TestServer, b: &Client, pack: &Path, customer: i64) {
    let base = &s.base;
    browser_login(b, base).await;
    upload(b, base, pack).await;
    text_of(b, "#import-form").await;
    let upload_page = b.current_url().await.expect("url").path().to_string();
    click(b, "#import-button").await;
    text_of(b, "#import-done").await;
    b.set_window_size(390, 844).await.expect("narrow window");
    let pages = [
        "/".to_string(),
        "/customers".to_string(),
        format!("/customers/{customer}"),
        format!("/customers/{customer}/edit"),
        "/import".to_string(),
        "/imports".to_string(),
        format!("{upload_page}/fix"),
        upload_page,
        "/tokens".to_string(),
    ];
    let mut wide = Vec::new();
    for page in &pages {
        b.goto(&format!("{base}{page}")).await.expect("goto");
        text_of(b, "h1").await;
        let v = b
            .execute(
                "return [document.documentElement.scrollWidth, document.documentElement.clientWidth];",
                vec![],
            )
            .await
            .expect("widths");
        let (scroll, client) = (v[0].as_i64().unwrap_or(0), v[1].as_i64().unwrap_or(0));
        assert!(
            client > 300 && client <= 390,
            "{page}: client width {client}"
        );
        if scroll > client {
            wide.push(format!("{page}: {scroll} px wide in {client}"));
        }
        if page == "/customers" {
            shot(b, "customers-390.png").await;
        }
    }
    assert!(wide.is_empty(), "pages wider than the screen: {wide:?}");
}

fn browser_narrow_pages() {
    let Some((d, chrome)) = driver() else {
        return;
    };
    let s = TestServer::start();
    let dir = tempfile::tempdir().expect("dir");
    let file = dir.path().join("pack.xlsx");
    pack(&file, false);
    let (code, created) = s.json(
        "POST",
        "/api/v1/customers",
        &s.write,
        &json!({"name": "Société Générale des Télécommunications et Réseaux de l'Ouest", "mainAddressLine1": "12 boulevard de la République prolongée", "website": "https://www.une-adresse-de-site-tres-longue-pour-voir.example.fr/chemin"}),
    );
    assert_eq!(code, 201, "{created}");
    let id = created["id"].as_i64().expect("id");
    in_browser(&d, &chrome, async |b| narrow_pages(&s, b, &file, id).await);
}

/// A postal code typed in the edit form is never rewritten: 4 digits is an error proposing
/// the padded code, and nothing is saved (an API client's 4 digits are still padded, with a
/// warning, as in a pack).
fn typed_postal_code_is_not_padded() {
    let s = TestServer::start();
    let (code, created) = s.json(
        "POST",
        "/api/v1/customers",
        &s.write,
        &json!({"name": "Paris Télécom", "mainAddressPostalCode": "75001", "mainAddressCity": "Paris"}),
    );
    assert_eq!(code, 201, "{created}");
    let id = created["id"].as_i64().expect("id");
    let c = http();
    let (session, _) = login(&s, &c);
    let (_, form) = page(&s, &c, &session, &format!("/customers/{id}/edit"));
    let r = c
        .post(s.url(&format!("/customers/{id}/edit")))
        .header("Cookie", format!("clientele_session={session}"))
        .form(&[
            ("_csrf", hidden(&form, "_csrf").as_str()),
            ("mainAddressPostalCode", "7501"),
        ])
        .send()
        .expect("edit");
    assert_eq!(r.status(), 422);
    let html = r.text().expect("html");
    assert!(html.contains("vouliez-vous dire 07501"), "{html}");
    let (_, stored) = s.get(&format!("/api/v1/customers/{id}"), &s.read);
    assert_eq!(stored["mainAddressPostalCode"], "75001", "{stored}");

    let (code, patched) = s.json(
        "PATCH",
        &format!("/api/v1/customers/{id}"),
        &s.write,
        &json!({"mainAddressPostalCode": "6000", "mainAddressCity": "Nice"}),
    );
    assert_eq!(code, 200, "{patched}");
    assert_eq!(patched["mainAddressPostalCode"], "06000");
}

// ---------------------------------------------------------------------------------------
// The fixing grid (issue 14)
// ---------------------------------------------------------------------------------------

/// A pack with three rows in error (a SIRET checksum, a postal code, an account twice) and
/// one valid row; a customer in the database that the first row updates.
fn grid_setup(s: &TestServer) -> &'static str {
    let (code, created) = s.json(
        "POST",
        "/api/v1/customers",
        &s.write,
        &json!({"name": "Alpha ancien", "customerAccount": "FIX001", "mainAddressCountry": "FR"}),
    );
    assert_eq!(code, 201, "{created}");
    "Compte client;Raison sociale;SIRET;Code Postal;Ville\n\
     FIX001;Alpha;73282932000075;75001;Paris\n\
     FIX002;Beta;44306184100047;ABCDE;Paris\n\
     FIX002;Gamma;;69001;Lyon\n\
     FIX004;Delta;;13001;Marseille\n"
}

/// The grid's rows of an upload page under a filter.
fn grid_rows(
    s: &TestServer,
    c: &reqwest::blocking::Client,
    cookie: &str,
    page: &str,
    query: &str,
) -> serde_json::Value {
    let r = c
        .get(s.url(&format!("{page}/fix/rows?{query}")))
        .header("Cookie", cookie)
        .send()
        .expect("rows");
    assert_eq!(r.status(), 200);
    r.json().expect("json")
}

/// Over HTTP: each edit is judged again at once (the duplicates within the file too), undo
/// and find-and-replace work, the corrected file holds the edits and, checked as a new
/// upload, imports without errors; another user cannot see the grid.
fn grid_edits_are_judged_then_imported() {
    let s = TestServer::start();
    let csv = grid_setup(&s);
    let c = http();
    let (session, csrf) = login(&s, &c);
    let cookie = format!("clientele_session={session}");
    let page = upload_and_wait(&s, &c, &cookie, &csrf, "grid.csv", csv.as_bytes());
    let html = c
        .get(s.url(&page))
        .header("Cookie", &cookie)
        .send()
        .expect("page")
        .text()
        .expect("html");
    assert!(html.contains(&format!("href=\"{page}/fix\"")), "{html}");
    let grid = c
        .get(s.url(&format!("{page}/fix")))
        .header("Cookie", &cookie)
        .send()
        .expect("grid page");
    assert_eq!(grid.status(), 200);
    assert!(grid.text().expect("html").contains("id=\"fix-grid\""));

    let first = grid_rows(&s, &c, &cookie, &page, "show=errors");
    assert_eq!(first["total"], 3, "{first}");
    assert_eq!(first["summary"]["errorRows"], 3, "{first}");
    let letters: Vec<&str> = first["columns"]
        .as_array()
        .expect("columns")
        .iter()
        .filter_map(|c| c["letter"].as_str())
        .collect();
    assert_eq!(letters, ["A", "B", "C", "D", "E"]);
    let rows: Vec<u64> = first["rows"]
        .as_array()
        .expect("rows")
        .iter()
        .filter_map(|r| r["row"].as_u64())
        .collect();
    assert_eq!(rows, [2, 3, 4]);
    let only_c = grid_rows(&s, &c, &cookie, &page, "show=errors&column=C");
    assert_eq!(only_c["total"], 1, "{only_c}");
    let dup = grid_rows(
        &s,
        &c,
        &cookie,
        &page,
        "show=all&code=customerAccount.duplicate_in_file",
    );
    assert_eq!(dup["rows"][0]["row"], 4, "{dup}");

    let post = |path: &str, fields: &[(&str, &str)]| -> serde_json::Value {
        let mut form = vec![("_csrf", csrf.as_str())];
        form.extend_from_slice(fields);
        let r = c
            .post(s.url(&format!("{page}/fix/{path}")))
            .header("Cookie", &cookie)
            .form(&form)
            .send()
            .expect("post");
        assert_eq!(r.status(), 200, "{path}");
        r.json().expect("json")
    };
    let issues_of = |answer: &serde_json::Value, row: u64| -> Vec<String> {
        answer["rows"]
            .as_array()
            .expect("rows")
            .iter()
            .find(|r| r["row"] == row)
            .map(|r| {
                r["issues"]
                    .as_array()
                    .expect("issues")
                    .iter()
                    .filter_map(|i| i["code"].as_str().map(str::to_string))
                    .collect()
            })
            .unwrap_or_else(|| panic!("row {row} not in {answer}"))
    };
    // A SIRET fixed: row 2 is clean (it updates FIX001, judged against it).
    let a = post(
        "cell",
        &[("row", "2"), ("column", "C"), ("value", "73282932000074")],
    );
    assert!(
        !issues_of(&a, 2)
            .iter()
            .any(|c| c.starts_with("registrationNumber")),
        "{a}"
    );
    assert_eq!(a["summary"]["errorRows"], 2, "{a}");
    // Wrong again: judged at once.
    let a = post("cell", &[("row", "2"), ("column", "C"), ("value", "123")]);
    assert!(
        issues_of(&a, 2)
            .iter()
            .any(|c| c.starts_with("registrationNumber")),
        "{a}"
    );
    let a = post("undo", &[]);
    assert_eq!(a["summary"]["errorRows"], 2, "{a}");
    // The second FIX002 renamed: no longer a duplicate, and row 3 is told again too.
    let a = post(
        "cell",
        &[("row", "4"), ("column", "A"), ("value", "FIX003")],
    );
    assert!(issues_of(&a, 4).is_empty(), "{a}");
    assert_eq!(a["summary"]["errorRows"], 1, "{a}");
    // Undo brings the duplicate back, and the edit is made again.
    let a = post("undo", &[]);
    assert!(
        issues_of(&a, 4).contains(&"customerAccount.duplicate_in_file".to_string()),
        "{a}"
    );
    post(
        "cell",
        &[("row", "4"), ("column", "A"), ("value", "FIX003")],
    );
    // Find and replace in a column.
    let a = post(
        "replace",
        &[("column", "D"), ("find", "ABCDE"), ("replace", "75002")],
    );
    assert_eq!(a["replaced"], 1, "{a}");
    assert_eq!(a["summary"]["errorRows"], 0, "{a}");
    let all = grid_rows(&s, &c, &cookie, &page, "show=all");
    assert_eq!(all["total"], 4, "{all}");
    assert_eq!(all["rows"][2]["cells"][0], "FIX003", "{all}");
    assert_eq!(all["rows"][2]["edited"][0], true, "{all}");
    // A cell that is not in the grid.
    let r = c
        .post(s.url(&format!("{page}/fix/cell")))
        .header("Cookie", &cookie)
        .form(&[
            ("_csrf", csrf.as_str()),
            ("row", "99"),
            ("column", "A"),
            ("value", "x"),
        ])
        .send()
        .expect("post");
    assert_eq!(r.status(), 409);

    // Another user does not see this upload's grid.
    let hash = clientele_server::auth::hash_password("other pass").expect("hash");
    s.store
        .create_user("Bob", "bob@example.fr", &hash)
        .expect("user");
    let c2 = http();
    let (bob, _) = login_as(&s, &c2, "bob@example.fr", "other pass");
    let r = c2
        .get(s.url(&format!("{page}/fix/rows")))
        .header("Cookie", format!("clientele_session={bob}"))
        .send()
        .expect("rows");
    assert_eq!(r.status(), 404);

    // The corrected file, in the pack's format.
    let r = c
        .get(s.url(&format!("{page}/fix/download")))
        .header("Cookie", &cookie)
        .send()
        .expect("download");
    assert_eq!(r.status(), 200);
    let disposition = r.headers()["content-disposition"]
        .to_str()
        .expect("disposition")
        .to_string();
    assert!(
        disposition.ends_with("UTF-8''grid%20%28corrig%C3%A9%29.csv"),
        "{disposition}"
    );
    let text = r.text().expect("csv");
    assert!(
        text.contains("FIX001;Alpha;73282932000074;75001;Paris"),
        "{text}"
    );
    assert!(text.contains("FIX003;Gamma;;69001;Lyon"), "{text}");
    assert!(
        text.contains("FIX002;Beta;44306184100047;75002;Paris"),
        "{text}"
    );

    // Checked as a new upload, then imported.
    let r = c
        .post(s.url(&format!("{page}/fix/check")))
        .header("Cookie", &cookie)
        .form(&[("_csrf", csrf.as_str())])
        .send()
        .expect("check");
    assert_eq!(r.status(), 303);
    let fixed = r.headers()["location"]
        .to_str()
        .expect("location")
        .to_string();
    assert_ne!(fixed, page);
    wait_until_done(&s, &c, &cookie, &fixed);
    let r = c
        .post(s.url(&format!("{fixed}/import")))
        .header("Cookie", &cookie)
        .form(&[("_csrf", csrf.as_str())])
        .send()
        .expect("import");
    assert_eq!(r.status(), 303);
    wait_until_done(&s, &c, &cookie, &fixed);
    let (_, list) = s.get("/api/v1/customers?filter[customerAccount]=FIX003", &s.read);
    assert_eq!(list["data"][0]["name"], "Gamma", "{list}");
    let (_, list) = s.get("/api/v1/customers?filter[customerAccount]=FIX001", &s.read);
    assert_eq!(list["data"][0]["name"], "Alpha", "{list}");
    assert_eq!(list["data"][0]["registrationNumber"], "73282932000074");
}

/// In the browser, by keyboard: the rows in error, a cell typed and judged at once, then
/// the corrected file checked and imported without leaving the browser.
async fn grid_journey(s: &TestServer, b: &Client, file: &Path) {
    let base = &s.base;
    browser_login(b, base).await;
    upload(b, base, file).await;
    click_when_there(b, "#fix-link").await;
    wait_ready(b).await;
    let counts = text_of(b, "#fix-counts").await;
    assert!(counts.starts_with("3 "), "{counts}");
    // The same grid in English, then back to French.
    click(b, "a[lang='en']").await;
    wait_ready(b).await;
    assert_eq!(
        text_with(b, "h1", "Fix in the browser").await,
        "Fix in the browser grid.csv"
    );
    let counts = text_of(b, "#fix-counts").await;
    assert!(counts.starts_with("3 rows with errors"), "{counts}");
    let cell = b
        .find(Locator::Css(
            "#fix-grid tr[data-row='3'] td[data-column='D']",
        ))
        .await
        .expect("cell");
    let title = cell.attr("title").await.expect("title").unwrap_or_default();
    assert!(title.contains("is not valid"), "{title}");
    click(b, "a[lang='fr']").await;
    wait_ready(b).await;
    // The SIRET of row 2: focus it, type the right one, Enter.
    click(b, "#fix-grid tr[data-row='2'] td[data-column='C']").await;
    let cell = b
        .find(Locator::Css(
            "#fix-grid tr[data-row='2'] td[data-column='C']",
        ))
        .await
        .expect("cell");
    cell.send_keys("73282932000074\u{E007}")
        .await
        .expect("type");
    wait_for(
        b,
        "#fix-grid tr[data-row='2'] td[data-column='C']:not(.bad)",
    )
    .await;
    // Focus moved down a row, as in a spreadsheet.
    let focused = b
        .execute(
            "return document.activeElement.parentElement.dataset.row + document.activeElement.dataset.column",
            vec![],
        )
        .await
        .expect("focus");
    assert_eq!(focused, "3C");
    shot(b, "fixing-grid.png").await;
    // Row 3's postal code, then row 4's account, by keyboard: arrows, type, Tab.
    let active = b.active_element().await.expect("active");
    active
        .send_keys("\u{E014}75002\u{E004}")
        .await
        .expect("type");
    wait_for(
        b,
        "#fix-grid tr[data-row='3'] td[data-column='D']:not(.bad)",
    )
    .await;
    click(b, "#fix-grid tr[data-row='4'] td[data-column='A']").await;
    b.active_element()
        .await
        .expect("active")
        .send_keys("FIX003\u{E007}")
        .await
        .expect("type");
    wait_for(
        b,
        "#fix-grid tr[data-row='4'] td[data-column='A'].edited:not(.bad)",
    )
    .await;
    let counts = text_of(b, "#fix-counts").await;
    assert!(counts.starts_with("0 "), "{counts}");
    click(b, "#fix-check").await;
    text_of(b, "#import-form").await;
    assert_eq!(text_of(b, "#count-errors").await, "0");
    click(b, "#import-button").await;
    let done = text_of(b, "#import-done").await;
    assert!(done.contains("terminé"), "{done}");
    let stored = blocking(|| s.store.customer_by_account("FIX003").expect("customer"));
    assert_eq!(stored.text(clientele_core::Field::name), Some("Gamma"));
}

/// Wait until the grid has loaded its rows.
async fn wait_ready(b: &Client) {
    wait_for(b, "#fix[data-ready='1'] #fix-grid tbody tr").await;
}

/// Wait for an element to be there.
async fn wait_for(b: &Client, css: &str) {
    b.wait()
        .at_most(Duration::from_secs(30))
        .for_element(Locator::Css(css))
        .await
        .unwrap_or_else(|e| panic!("{css}: {e}"));
}

/// Click an element once it is there (pages following a job reload themselves).
async fn click_when_there(b: &Client, css: &str) {
    wait_for(b, css).await;
    click(b, css).await;
}

fn browser_grid_journey() {
    let Some((d, chrome)) = driver() else {
        return;
    };
    let s = TestServer::start();
    let dir = tempfile::tempdir().expect("dir");
    let file = dir.path().join("grid.csv");
    std::fs::write(&file, grid_setup(&s)).expect("write pack");
    in_browser(&d, &chrome, async |b| grid_journey(&s, b, &file).await);
}

/// A report made in French reads in English once the reader switches, and in French
/// again: the issues' messages (a field's, with its detail; a header's; the identity
/// change naming both companies) are rendered again from what the report keeps.
fn report_in_the_readers_language() {
    let s = TestServer::start();
    clash_setup(&s);
    let c = http();
    let (session, csrf) = login(&s, &c);
    let cookie = format!("clientele_session={session}");
    let csv = "Compte client;Raison sociale;SIRET;Code Postal;Ville;Client VIP;Commercial\n\
               MAP001;Alpha Télécom;12345;75001;Paris;peut-être;Jean\n\
               CLASH1;Hôtel Lefèvre 1;44306184100047;69001;Lyon;1;Paul\n";
    let upload = upload_and_wait(&s, &c, &cookie, &csrf, "langues.csv", csv.as_bytes());
    let read = |lang: &str| {
        let r = c
            .get(s.url(&upload))
            .header("Cookie", format!("{cookie}; {lang}"))
            .send()
            .expect("page");
        assert_eq!(r.status(), 200);
        r.text()
            .expect("html")
            .replace("&quot;", "\"")
            .replace("&#x27;", "'")
    };
    let french = [
        "« 12345 » a 5 chiffres ; un SIRET en a 14",
        "« peut-être » n'est pas valide (1 ou 0, oui ou non attendu)",
        "(SIRET 73282932000074) deviendrait « Hôtel Lefèvre 1 » (SIRET 44306184100047)",
        "Colonne « Commercial » inconnue, ignorée",
    ];
    let english = [
        "\"12345\" has 5 digits; a SIRET has 14",
        "\"peut-être\" is not valid (expected 1 or 0, oui or non)",
        "(SIRET 73282932000074) would become \"Hôtel Lefèvre 1\" (SIRET 44306184100047)",
        "Unknown column \"Commercial\", ignored",
    ];
    let html = read("");
    for m in french {
        assert!(html.contains(m), "{m}: {html}");
    }
    // The switch sets the language cookie; the same report now reads in English.
    let r = c
        .get(s.url(&format!("/lang?set=en&next={upload}")))
        .send()
        .expect("switch");
    assert_eq!(r.status(), 303);
    let lang = r.headers()["set-cookie"]
        .to_str()
        .expect("cookie")
        .to_string();
    let lang = lang.split(';').next().expect("cookie").to_string();
    assert_eq!(lang, "clientele_lang=en");
    let html = read(&lang);
    for m in english {
        assert!(html.contains(m), "{m}: {html}");
    }
    for m in french {
        assert!(!html.contains(m), "{m} left in French: {html}");
    }
    // And back.
    let html = read("clientele_lang=fr");
    for m in french {
        assert!(html.contains(m), "{m}: {html}");
    }
}

// ---------------------------------------------------------------------------------------
// The customer list: page numbers and column sorting (issue 14), without JavaScript
// ---------------------------------------------------------------------------------------

/// The accounts of the list's rows, in order (every test account starts with `L0`).
fn accounts_in(html: &str) -> Vec<String> {
    let body = html.split("<tbody>").nth(1).unwrap_or_default();
    body.split("\">L0")
        .skip(1)
        .map(|rest| format!("L0{}", &rest[..3]))
        .collect()
}

fn customer_list_pages_and_sorting() {
    let s = TestServer::start();
    let c = http();
    let (session, _) = login(&s, &c);
    // 120 customers: accounts in creation order, names the other way round, every third
    // one inactive.
    for n in 1..=120 {
        let mut cu = clientele_core::Customer::new();
        let text = |t: String| Some(clientele_core::Value::Text(t.into()));
        cu.values[clientele_core::Field::customerAccount.idx()] = text(format!("L0{n:03}"));
        cu.values[clientele_core::Field::name.idx()] = text(format!("Société {:03}", 121 - n));
        if n % 3 == 0 {
            cu.values[clientele_core::Field::active.idx()] =
                Some(clientele_core::Value::Bool(false));
        }
        s.store.create_customer(&cu).expect("customer");
    }
    // The page with its links' slashes unescaped, as a browser reads them.
    let page = |path: &str| {
        let (st, html) = self::page(&s, &c, &session, path);
        (st, html.replace("&#x2f;", "/"))
    };
    // By name by default: page 1 of 3, numbered links to every page, the current one marked.
    let (st, html) = page("/customers");
    assert_eq!(st, 200);
    assert_eq!(
        accounts_in(&html).first().map(String::as_str),
        Some("L0120")
    );
    assert!(
        html.contains("aria-current=\"page\" aria-label=\"Page 1\""),
        "{html}"
    );
    assert!(
        html.contains("href=\"/customers?page=3\" aria-label=\"Page 3\""),
        "{html}"
    );
    assert!(html.contains("<th scope=\"col\" aria-sort=\"ascending\"><a href=\"/customers?sort=-name&amp;page=1\""), "{html}");
    // The last page, straight from its number.
    let (_, html) = page("/customers?page=3");
    assert_eq!(
        accounts_in(&html),
        [
            "L0020", "L0019", "L0018", "L0017", "L0016", "L0015", "L0014", "L0013", "L0012",
            "L0011", "L0010", "L0009", "L0008", "L0007", "L0006", "L0005", "L0004", "L0003",
            "L0002", "L0001"
        ]
    );
    // The account heading sorts by account; again, the other way; the last page of the
    // reversed order is read too.
    assert!(
        html.contains("href=\"/customers?sort=customerAccount&amp;page=1\""),
        "{html}"
    );
    let (_, html) = page("/customers?sort=customerAccount&page=1");
    assert_eq!(
        accounts_in(&html).first().map(String::as_str),
        Some("L0001")
    );
    assert!(
        html.contains(
            "aria-sort=\"ascending\"><a href=\"/customers?sort=-customerAccount&amp;page=1\""
        ),
        "{html}"
    );
    let (_, html) = page("/customers?sort=-customerAccount&page=3");
    assert_eq!(
        accounts_in(&html).first().map(String::as_str),
        Some("L0020")
    );
    assert!(html.contains("aria-sort=\"descending\""), "{html}");
    // Filters and sort are kept in the page links; sorting by creation keeps the filter.
    let (_, html) = page("/customers?active=0&sort=-created_at");
    let rows = accounts_in(&html);
    assert_eq!(rows.len(), 40);
    assert_eq!(rows.first().map(String::as_str), Some("L0120"));
    assert!(
        html.contains("href=\"/customers?active=0&amp;sort=created_at&amp;page=1\""),
        "{html}"
    );
    assert!(!html.contains("aria-label=\"Page 2\""), "one page: {html}");
    let (_, html) = page("/customers?active=1&sort=updated_at&page=2");
    assert!(
        html.contains("href=\"/customers?active=1&amp;sort=updated_at&amp;page=1\" rel=\"prev\""),
        "{html}"
    );
    assert_eq!(
        accounts_in(&html).first().map(String::as_str),
        Some("L0076")
    );
    // An unknown sort is the default order, not an error.
    let (st, html) = page("/customers?sort=siret");
    assert_eq!(st, 200);
    assert_eq!(
        accounts_in(&html).first().map(String::as_str),
        Some("L0120")
    );
}

// ---------------------------------------------------------------------------------------
// Every change of an update (issue 14; paging and downloads: tests/changes.rs)
// ---------------------------------------------------------------------------------------

/// The list of changes filtered with its form, as a browser sends it (no script involved).
async fn changes_journey(s: &TestServer, b: &Client, file: &Path) {
    let base = &s.base;
    browser_login(b, base).await;
    upload(b, base, file).await;
    text_of(b, "#changes-table").await;
    let rows = |b: &Client| {
        let b = b.clone();
        async move {
            let mut out = Vec::new();
            for tr in b
                .find_all(Locator::Css("#changes-table tbody tr"))
                .await
                .expect("rows")
            {
                let field = tr
                    .attr("data-field")
                    .await
                    .expect("attr")
                    .unwrap_or_default();
                let class = tr.attr("class").await.expect("attr").unwrap_or_default();
                out.push((field, class == "identity"));
            }
            out
        }
    };
    let all = rows(b).await;
    assert_eq!(all.len(), 4, "{all:?}");
    assert_eq!(all.iter().filter(|(_, identity)| *identity).count(), 3);
    click(b, "#changes_field option[value='mainAddressCity']").await;
    click(b, "#changes-filter-button").await;
    let matching = text_with(b, "#changes-matching", "2").await;
    assert!(matching.contains('2'), "{matching}");
    let url = b.current_url().await.expect("url");
    assert!(
        url.as_str().contains("changes_field=mainAddressCity"),
        "{url}"
    );
    let city = rows(b).await;
    assert_eq!(
        city,
        vec![
            ("mainAddressCity".to_string(), true),
            ("mainAddressCity".to_string(), false)
        ]
    );
}

fn browser_changes_filter() {
    let Some((d, chrome)) = driver() else {
        return;
    };
    let s = TestServer::start();
    let (s1, _) = clientele_testkit::siret_vat(31);
    let (s2, _) = clientele_testkit::siret_vat(32);
    for c in [
        json!({"customerAccount": "CHG1", "name": "Alpha", "registrationNumber": s1, "mainAddressCity": "Paris"}),
        json!({"customerAccount": "CHG2", "name": "Beta", "mainAddressCity": "Paris"}),
    ] {
        let (code, created) = s.json("POST", "/api/v1/customers", &s.write, &c);
        assert_eq!(code, 201, "{created}");
    }
    let dir = tempfile::tempdir().expect("dir");
    let file = dir.path().join("changes.csv");
    // CHG1 becomes another company (name, SIRET) and moves; CHG2 only moves.
    let csv = format!(
        "Compte client;Raison sociale;SIRET;Ville\nCHG1;Hôtel Gamma;{s2};Lyon\nCHG2;Beta;;Lyon\n"
    );
    std::fs::write(&file, csv).expect("write pack");
    in_browser(&d, &chrome, async |b| changes_journey(&s, b, &file).await);
}

// Every page test runs on SQLite and on PostgreSQL: `on_both!` (tests/common).

on_both!(
    sessions_and_csrf,
    kept_files_and_refused_uploads,
    upload_import_and_ownership,
    official_lists_in_pages,
    browser_address_proposals,
    browser_journey,
    audit_and_token_page,
    browser_token_page,
    api_mapping_and_identity,
    browser_mapping_journey,
    browser_narrow_pages,
    typed_postal_code_is_not_padded,
    grid_edits_are_judged_then_imported,
    browser_grid_journey,
    customer_list_pages_and_sorting,
    report_in_the_readers_language,
    browser_changes_filter,
    history_links_to_reports,
    remembered_mapping_offered,
    report_titles_and_view_by_row,
);
