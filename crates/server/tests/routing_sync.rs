//! Issue 18: two servers on one database (as behind a load balancer). A number added,
//! changed, moved between customers or deleted through one server's API or an import is
//! answered right by the other one; a server whose routing index is still loading says so
//! (503 with `Retry-After`) and never answers "unknown" for a known number.

#[macro_use]
mod common;

use common::TestServer;
use serde_json::{json, Value as Json};
use std::io::{BufRead, Write};
use std::time::Duration;

fn route(s: &TestServer, path: &str) -> (u16, String) {
    let r = s
        .client
        .get(s.url(path))
        .bearer_auth(&s.lookup)
        .send()
        .expect("send");
    (r.status().as_u16(), r.text().unwrap_or_default())
}

/// The answer of `path` once it is `want`, or the last one after a bounded wait (the other
/// server polls the change feed every 100 ms in tests).
fn eventually(s: &TestServer, path: &str, want: (u16, &str)) -> (u16, String) {
    for _ in 0..400 {
        let got = route(s, path);
        if got.0 == want.0 && got.1 == want.1 {
            return got;
        }
        std::thread::sleep(Duration::from_millis(25));
    }
    route(s, path)
}

fn caller(name: &str) -> (u16, String) {
    (200, name.to_string())
}

fn known(s: &TestServer, number: &str, want: bool) {
    let path = format!("/api/isKnownPhoneNumber?phoneNumber={number}");
    let v = if want { "true" } else { "false" };
    assert_eq!(
        eventually(s, &path, (200, v)),
        (200, v.to_string()),
        "{number} on {}",
        s.base
    );
}

fn name_of(s: &TestServer, number: &str, want: &str) {
    let path = format!("/api/callerId?phoneNumber={number}");
    assert_eq!(
        eventually(s, &path, (200, want)),
        caller(want),
        "{number} on {}",
        s.base
    );
}

fn send(s: &TestServer, method: &str, path: &str, body: &Json) -> Json {
    let (st, v) = s.json(method, path, &s.write, body);
    assert!((200..300).contains(&st), "{method} {path}: {st} {v}");
    v
}

fn import(s: &TestServer, csv: &str) {
    let part = reqwest::blocking::multipart::Part::bytes(csv.as_bytes().to_vec())
        .file_name("pack.csv".to_string());
    let form = reqwest::blocking::multipart::Form::new().part("file", part);
    let (st, r) = common::read(
        s.client
            .post(s.url("/api/v1/imports"))
            .bearer_auth(&s.write)
            .multipart(form)
            .send()
            .expect("send"),
    );
    assert_eq!((st, r["imported"].clone()), (200, json!(true)), "{r}");
}

fn second_server_follows_api_and_import_writes() {
    let a = TestServer::start();
    let b = a.second();
    b.wait_ready();

    // added
    let x = send(
        &a,
        "POST",
        "/api/v1/customers",
        &json!({"name": "Xavier SARL", "phone": "01 45 00 00 01"}),
    );
    let x = x["id"].as_i64().expect("id");
    name_of(&b, "0145000001", "Xavier SARL");

    // changed
    send(
        &a,
        "PUT",
        &format!("/api/v1/customers/{x}"),
        &json!({"phone": "01 45 00 00 02"}),
    );
    name_of(&b, "0145000002", "Xavier SARL");
    known(&b, "0145000001", false);

    // a contact's number, then the contact moved to another customer
    let y = send(
        &a,
        "POST",
        "/api/v1/customers",
        &json!({"name": "Yvette SAS"}),
    );
    let y = y["id"].as_i64().expect("id");
    let k = send(
        &a,
        "POST",
        &format!("/api/v1/contacts?contactable_type=App%5CCustomer&contactable_id={x}"),
        &json!({"firstName": "Kim", "lastName": "Lee", "mobilePhone": "06 45 00 00 03"}),
    );
    let k = k["id"].as_i64().expect("id");
    name_of(&b, "0645000003", "Xavier SARL");
    send(
        &a,
        "PUT",
        &format!("/api/v1/contacts/{k}"),
        &json!({"contactable_id": y}),
    );
    name_of(&b, "0645000003", "Yvette SAS");
    let details = b
        .client
        .get(b.url("/api/isKnownPhoneNumber?phoneNumber=0645000003&details=1"))
        .bearer_auth(&b.lookup)
        .send()
        .expect("send")
        .json::<Json>()
        .expect("json");
    assert_eq!(
        details["contact"],
        json!({"id": k, "firstName": "Kim", "lastName": "Lee"})
    );
    // renamed: the index holds no contact names, the details read the current ones at once
    send(
        &a,
        "PUT",
        &format!("/api/v1/contacts/{k}"),
        &json!({"lastName": "Lee-Park"}),
    );
    let (status, body) = route(&b, "/api/callerId?phoneNumber=0645000003&format=json");
    assert_eq!(status, 200, "{body}");
    let details: Json = serde_json::from_str(&body).expect("json");
    assert_eq!(
        details["contact"],
        json!({"id": k, "firstName": "Kim", "lastName": "Lee-Park"})
    );

    // a customer's number moved to another customer
    send(
        &a,
        "PUT",
        &format!("/api/v1/customers/{x}"),
        &json!({"phone": null}),
    );
    send(
        &a,
        "PUT",
        &format!("/api/v1/customers/{y}"),
        &json!({"phone": "01 45 00 00 02"}),
    );
    name_of(&b, "0145000002", "Yvette SAS");

    // deleted: the contact, then the customer
    let (st, _) = a.json(
        "DELETE",
        &format!("/api/v1/contacts/{k}"),
        &a.write,
        &json!({}),
    );
    assert!((200..300).contains(&st), "{st}");
    known(&b, "0645000003", false);
    let (st, _) = a.json(
        "DELETE",
        &format!("/api/v1/customers/{y}"),
        &a.write,
        &json!({}),
    );
    assert!((200..300).contains(&st), "{st}");
    known(&b, "0145000002", false);
    known(&b, "0145000001", false);
    assert_eq!(
        route(&b, "/api/callerId?phoneNumber=0145000002"),
        (404, String::new())
    );

    // through an import: added, then changed by a second import of the same account
    import(
        &a,
        "Compte client;Raison sociale;Téléphone\nIMP9;Imported Nine;01 45 00 00 09\n",
    );
    name_of(&b, "0145000009", "Imported Nine");
    import(
        &a,
        "Compte client;Raison sociale;Téléphone\nIMP9;Imported Nine;01 45 00 00 10\n",
    );
    name_of(&b, "0145000010", "Imported Nine");
    known(&b, "0145000009", false);
    // and the first server agrees on everything
    name_of(&a, "0145000010", "Imported Nine");
    known(&a, "0145000002", false);
}

/// Known numbers written before a restart: a server that starts on the database answers
/// each of them either "not ready" (503, `Retry-After`, JSON message) or right, never
/// "unknown".
fn restart_never_answers_unknown() {
    let a = TestServer::start();
    let mut csv = String::from("Compte client;Raison sociale;Téléphone;Client VIP\n");
    for i in 0..3000 {
        csv.push_str(&format!(
            "R{i:05};Restart {i};01 46 {:02} {:02} {:02};1\n",
            i / 10000,
            (i / 100) % 100,
            i % 100
        ));
    }
    import(&a, &csv);
    let number = |i: usize| format!("0146{:02}{:02}{:02}", i / 10000, (i / 100) % 100, i % 100);
    name_of(&a, &number(2999), "Restart 2999 [VIP]");

    let b = a.second();
    let (mut not_ready, mut i) = (0, 0usize);
    // Ask from the moment it listens until it has answered every number once.
    while i < 3000 {
        let r = b
            .client
            .get(b.url(&format!(
                "/api/isVipByPhoneNumber?phoneNumber={}",
                number(i)
            )))
            .bearer_auth(&b.lookup)
            .send()
            .expect("send");
        let st = r.status().as_u16();
        let retry = r.headers().get("retry-after").is_some();
        let body = r.text().unwrap_or_default();
        if st == 503 {
            assert!(retry, "503 without Retry-After");
            let v: Json = serde_json::from_str(&body).expect("JSON body");
            assert!(v["message"].is_string(), "{v}");
            not_ready += 1;
            assert!(not_ready < 20_000, "never ready");
            std::thread::sleep(Duration::from_millis(2));
            continue;
        }
        assert_eq!((st, body.as_str()), (200, "true"), "number {}", number(i));
        i += 1;
    }
    eprintln!("{not_ready} answers said not ready");
}

/// While the index cannot be read (a table lock held by another session) the routing
/// routes answer 503 with `Retry-After`; the rest of the API works; once the lock goes,
/// routing answers. PostgreSQL only: SQLite readers are never blocked by a writer.
fn loading_index_answers_503() {
    let a = TestServer::start();
    send(
        &a,
        "POST",
        "/api/v1/customers",
        &json!({"name": "Locked Co", "phone": "01 47 00 00 01"}),
    );
    let mut psql = std::process::Command::new("psql")
        .arg(&a.url_db)
        .args(["-qAt", "-v", "ON_ERROR_STOP=1"])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .expect("psql");
    let mut stdin = psql.stdin.take().expect("stdin");
    let mut stdout = std::io::BufReader::new(psql.stdout.take().expect("stdout"));
    writeln!(
        stdin,
        "BEGIN; LOCK TABLE phones IN ACCESS EXCLUSIVE MODE; SELECT 'locked';"
    )
    .expect("write");
    stdin.flush().expect("flush");
    let mut line = String::new();
    stdout.read_line(&mut line).expect("read");
    assert_eq!(line.trim(), "locked");

    let b = a.second();
    let r = b
        .client
        .get(b.url("/api/isKnownPhoneNumber?phoneNumber=0147000001"))
        .bearer_auth(&b.lookup)
        .send()
        .expect("send");
    assert_eq!(r.status().as_u16(), 503);
    assert!(r.headers().get("retry-after").is_some());
    let v: Json = r.json().expect("json");
    assert!(
        v["message"].as_str().is_some_and(|m| m.contains("loading")),
        "{v}"
    );
    assert_eq!(route(&b, "/api/callerId?phoneNumber=0147000001").0, 503);
    assert_eq!(
        route(&b, "/api/isVipByCustomerAccount?customerAccount=1").0,
        503
    );
    // the rest of the API does not wait for the index
    let (st, _) = b.get("/api/v1/contacts?per_page=1", &b.read);
    assert_ne!(st, 503);

    writeln!(stdin, "COMMIT;").expect("write");
    drop(stdin);
    let _ = psql.wait();
    b.wait_ready();
    name_of(&b, "0147000001", "Locked Co");
}

// Every test runs on SQLite and on PostgreSQL: `on_both!` (tests/common).
on_both!(
    second_server_follows_api_and_import_writes,
    restart_never_answers_unknown,
);

#[test]
fn postgres_loading_index_answers_503() {
    common::with_backend(common::Backend::Postgres, loading_index_answers_503);
}

/// A server tidies SQLite's trigram index as the change feed reports single customer
/// changes: 1,000 writes would scatter it over more than eight segments (see the store's
/// `search_tidied_like_sqlite`); it stays within eight.
#[test]
fn sqlite_search_index_tidied_as_changes_come() {
    let s = TestServer::start();
    let segments = || -> i64 {
        rusqlite::Connection::open(&s.url_db)
            .expect("open")
            .query_row(
                "SELECT COUNT(DISTINCT segid) FROM customers_fts_idx",
                [],
                |r| r.get(0),
            )
            .expect("segments")
    };
    let mut c = clientele_core::model::Customer::new();
    c.values[clientele_core::catalogue::Field::name.idx()] =
        Some(clientele_core::model::Value::Text("Atelier 0".into()));
    let mut c = s.store.create_customer(&c).expect("create");
    // Behind the server's back, through the same database: only the change feed tells it.
    for i in 1..1_000 {
        c.values[clientele_core::catalogue::Field::name.idx()] = Some(
            clientele_core::model::Value::Text(format!("Atelier {i}").into()),
        );
        c = s.store.update_customer(&c).expect("update");
    }
    let mut left = segments();
    for _ in 0..200 {
        if left <= 8 {
            break;
        }
        std::thread::sleep(Duration::from_millis(50));
        left = segments();
    }
    assert!(
        left <= 8,
        "the server tidied the trigram index: {left} segments"
    );
}
