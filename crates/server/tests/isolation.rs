//! What an attacker or a careless client can do to a real server over loopback: login
//! floods (limits per address, per e-mail, the hashing queue), forged forwarding headers,
//! oversized bodies, repeated query keys, and the headers of every answer. Each runs on
//! SQLite and on PostgreSQL.

#[macro_use]
mod common;

use common::TestServer;
use reqwest::blocking::Client;
use serde_json::{json, Value as Json};
use std::sync::{Arc, Barrier};

fn login(c: &Client, s: &TestServer, email: &str, password: &str) -> (u16, Option<String>) {
    let r = c
        .post(s.url("/api/login"))
        .json(&json!({"email": email, "password": password}))
        .send()
        .expect("send");
    let retry = r
        .headers()
        .get("retry-after")
        .and_then(|v| v.to_str().ok())
        .map(str::to_string);
    (r.status().as_u16(), retry)
}

fn one_address_spraying_many_emails_is_stopped_others_are_not() {
    let s = TestServer::start();
    let attacker = s.client_from(1);
    // The default per-address limit: 20 failures in 5 minutes, whatever the e-mails.
    for i in 0..20 {
        let (st, _) = login(&attacker, &s, &format!("user{i}@example.fr"), "password1");
        assert_eq!(st, 401, "attempt {i}");
    }
    let asked = std::time::Instant::now();
    let (st, retry) = login(&attacker, &s, "someone-else@example.fr", "password1");
    assert_eq!(st, 429);
    // The refusal waits (a lower bound, not a speed): a flood gets few answers a second.
    assert!(asked.elapsed() >= std::time::Duration::from_millis(200));
    let secs: u64 = retry.expect("Retry-After").parse().expect("seconds");
    assert!((1..=300).contains(&secs), "{secs}");
    // Even the right password is refused from that address (no oracle for the attacker)…
    assert_eq!(
        login(&attacker, &s, "ann@example.fr", "correct horse").0,
        429
    );
    // …but the real user from her own address is not locked out.
    assert_eq!(
        login(&s.client_from(2), &s, "ann@example.fr", "correct horse").0,
        200
    );
}

fn one_email_guessed_from_many_addresses_is_stopped_but_not_for_its_owner() {
    let s = TestServer::start();
    // Ann logged in from her desk before the attack: that address stays usable.
    assert_eq!(
        login(&s.client_from(30), &s, "ann@example.fr", "correct horse").0,
        200
    );
    // Ten failures for her e-mail, each from another address (under every per-pair limit).
    for n in 1..=10 {
        let (st, _) = login(&s.client_from(n), &s, "ANN@example.fr ", "guess");
        assert_eq!(st, 401, "attempt from 127.0.0.{n}");
    }
    let (st, retry) = login(&s.client_from(11), &s, "ann@example.fr", "correct horse");
    assert_eq!(st, 429, "a new address is refused for this e-mail");
    assert!(retry.is_some());
    assert_eq!(
        login(&s.client_from(30), &s, "ann@example.fr", "correct horse").0,
        200,
        "her known address still works"
    );
}

fn a_full_hashing_queue_answers_429_at_once() {
    // One hashing thread, no waiting line: a second concurrent login is refused at once.
    let s = Arc::new(TestServer::start_with(|o| {
        o.hash_threads = 1;
        o.hash_queue = 0;
    }));
    let n = 12;
    let barrier = Arc::new(Barrier::new(n));
    let handles: Vec<_> = (0..n)
        .map(|i| {
            let (s, b) = (s.clone(), barrier.clone());
            std::thread::spawn(move || {
                let c = s.client_from(40 + i as u8);
                b.wait();
                login(&c, &s, "ann@example.fr", "correct horse")
            })
        })
        .collect();
    let answers: Vec<(u16, Option<String>)> = handles
        .into_iter()
        .map(|h| h.join().expect("thread"))
        .collect();
    assert!(
        answers.iter().all(|(st, _)| *st == 200 || *st == 429),
        "{answers:?}"
    );
    assert!(answers.iter().any(|(st, _)| *st == 200), "{answers:?}");
    let refused: Vec<_> = answers.iter().filter(|(st, _)| *st == 429).collect();
    assert!(!refused.is_empty(), "{answers:?}");
    assert!(
        refused.iter().all(|(_, r)| r.as_deref() == Some("1")),
        "{answers:?}"
    );
}

fn links(s: &TestServer, c: &Client, headers: &[(&str, &str)]) -> Json {
    let mut r = c
        .get(s.url("/api/v1/customers?per_page=1"))
        .bearer_auth(&s.write)
        .header("Accept", "application/json");
    for (k, v) in headers {
        r = r.header(*k, *v);
    }
    common::read(r.send().expect("send")).1
}

fn forwarding_headers_count_only_from_trusted_proxies() {
    let s = TestServer::start_with(|o| {
        o.trusted_proxies = vec!["127.0.0.2/32".parse().expect("net")];
    });
    let forged = [
        ("X-Forwarded-Host", "evil.example"),
        ("X-Forwarded-Proto", "https"),
    ];
    let direct = links(&s, &s.client_from(1), &forged);
    let first = direct["first_page_url"].as_str().expect("url");
    assert!(first.starts_with("http://127.0.0.1:"), "{direct}");
    let proxied = links(
        &s,
        &s.client_from(2),
        &[
            ("X-Forwarded-Host", "crm.example.fr"),
            ("X-Forwarded-Proto", "https"),
        ],
    );
    assert!(
        proxied["first_page_url"]
            .as_str()
            .expect("url")
            .starts_with("https://crm.example.fr/api/v1/customers"),
        "{proxied}"
    );

    // A lookup token for the PBX network: the proxy's word counts, a client's does not.
    let (token, hash) = clientele_server::auth::new_token();
    s.store
        .create_token("pbx", &hash, "lookup", Some("203.0.113.0/24"), None)
        .expect("token");
    s.settle();
    let ask = |c: &Client| {
        c.get(s.url("/api/isKnownPhoneNumber?phoneNumber=0140000000"))
            .bearer_auth(&token)
            .header("X-Forwarded-For", "203.0.113.5")
            .send()
            .expect("send")
            .status()
            .as_u16()
    };
    assert_eq!(ask(&s.client_from(2)), 200, "through the trusted proxy");
    assert_eq!(ask(&s.client_from(1)), 403, "a forged X-Forwarded-For");

    // Cookies are Secure only when the client really came over HTTPS.
    let cookie = |c: &Client, proto: &str| {
        c.get(s.url("/login"))
            .header("X-Forwarded-Proto", proto)
            .send()
            .expect("send")
            .headers()
            .get_all("set-cookie")
            .iter()
            .filter_map(|v| v.to_str().ok())
            .map(str::to_string)
            .collect::<Vec<_>>()
            .join("\n")
    };
    assert!(!cookie(&s.client_from(1), "https").contains("Secure"));
    assert!(cookie(&s.client_from(2), "https").contains("; Secure"));
}

fn the_public_url_is_the_only_url_written() {
    let s = TestServer::start_with(|o| {
        o.public_url = Some("https://crm.example.fr".into());
    });
    let l = links(&s, &s.client, &[("X-Forwarded-Host", "evil.example")]);
    assert!(
        l["first_page_url"]
            .as_str()
            .expect("url")
            .starts_with("https://crm.example.fr/"),
        "{l}"
    );
    let set = s.client.get(s.url("/login")).send().expect("send");
    let cookies: Vec<_> = set.headers().get_all("set-cookie").iter().collect();
    assert!(
        cookies
            .iter()
            .all(|c| c.to_str().unwrap_or_default().contains("; Secure")),
        "{cookies:?}"
    );
}

fn every_answer_has_its_headers_and_oversized_bodies_are_413() {
    // A small limit, far below the bodies sent.
    let s = TestServer::start_with(|o| o.json_limit = 16 << 10);
    for path in [
        "/api/version",
        "/api/nope",
        "/api/v1/customers",
        "/api/isKnownPhoneNumber?phoneNumber=1",
    ] {
        let r = s
            .client
            .get(s.url(path))
            .bearer_auth(&s.write)
            .send()
            .expect("send");
        let h = r.headers();
        assert_eq!(h["x-content-type-options"], "nosniff", "{path}");
        assert_eq!(h["cache-control"], "no-store", "{path}");
    }
    // The HTML 404 carries the page headers too.
    let r = s.client.get(s.url("/no/such/page")).send().expect("send");
    assert_eq!(r.status(), 404);
    assert_eq!(r.headers()["x-frame-options"], "DENY");
    assert!(r.headers().contains_key("content-security-policy"));
    assert!(r.text().expect("body").contains("<html"));

    // Bodies over the limit: 413 with a JSON message, whatever their content type. A
    // megabyte, far more than the socket buffers hold: the server answers from the
    // Content-Length and reads the rest away (lingering close), so the client, still
    // sending, reads the 413 every time instead of a connection reset.
    let big = "x".repeat(1 << 20);
    for (ct, body) in [
        ("application/json", format!("{{\"name\":\"{big}\"}}")),
        ("application/x-www-form-urlencoded", format!("name={big}")),
    ] {
        for attempt in 0..5 {
            let r = s
                .client
                .post(s.url("/api/v1/customers"))
                .bearer_auth(&s.write)
                .header("Content-Type", ct)
                .header("Accept", "application/json")
                .body(body.clone())
                .send()
                .unwrap_or_else(|e| panic!("{ct}, attempt {attempt}: {e:?}"));
            let (st, b) = common::read(r);
            assert_eq!(st, 413, "{ct}: {b}");
            assert!(b["message"].as_str().is_some(), "{b}");
        }
    }
    assert_eq!(s.customer_count(), 0);
    // A web form too: the login page's form over the limit.
    for attempt in 0..5 {
        let r = s
            .client
            .post(s.url("/login"))
            .header("Content-Type", "application/x-www-form-urlencoded")
            .body(format!("email={big}"))
            .send()
            .unwrap_or_else(|e| panic!("login form, attempt {attempt}: {e:?}"));
        assert_eq!(r.status(), 413);
        assert!(r.text().expect("body").contains("<html"));
    }
}

fn repeated_query_keys_get_a_clear_message() {
    let s = TestServer::start();
    let (st, b) = s.get("/api/v1/customers?page=1&page=2", &s.write);
    assert_eq!(st, 400, "{b}");
    let m = b["message"].as_str().expect("message");
    assert!(m.contains("page") && m.contains("more than once"), "{m}");
    // PHP's list keys may repeat.
    let (st, b) = s.get("/api/v1/customers?ids[]=1&ids[]=2", &s.write);
    assert_eq!(st, 200, "{b}");

    // The staff pages: a page in the layout naming the key, not the framework's text.
    let user = s.store.user_by_email("ann@example.fr").expect("user");
    let token = "a".repeat(64);
    let hash: String = clientele_server::auth::hash_token(&token)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    s.store
        .create_session(&hash, user.id, "csrf", &clientele_store::now_plus(3600))
        .expect("session");
    let r = s
        .client
        .get(s.url("/customers?page=1&page=2"))
        .header(
            "Cookie",
            format!("clientele_session={token}; clientele_lang=en"),
        )
        .send()
        .expect("send");
    assert_eq!(r.status(), 400);
    let page = r.text().expect("page");
    assert!(page.contains("“page” is given more than once"), "{page}");
    assert!(page.contains("<nav") || page.contains("<html"), "{page}");
}

fn the_sdk_default_customer_is_created() {
    let s = TestServer::start();
    let body: Json = serde_json::from_str(include_str!(
        "../../../../shared/spec/fixtures/sdk-customer-create.json"
    ))
    .expect("fixture");
    let (st, c) = s.json("POST", "/api/v1/customers", &s.write, &body);
    assert_eq!(st, 201, "{c}");
    assert_eq!(c["customerAccount"], "CL7777");
    assert_eq!(c["name"], "X");
    assert_eq!(c["isReseller"], false);
    assert!(
        c["resellerLevel"].is_null() || c["resellerLevel"] == 0,
        "{c}"
    );
}

// Every test runs on SQLite and on PostgreSQL: `on_both!` (tests/common).
on_both!(
    one_address_spraying_many_emails_is_stopped_others_are_not,
    one_email_guessed_from_many_addresses_is_stopped_but_not_for_its_owner,
    a_full_hashing_queue_answers_429_at_once,
    forwarding_headers_count_only_from_trusted_proxies,
    the_public_url_is_the_only_url_written,
    every_answer_has_its_headers_and_oversized_bodies_are_413,
    repeated_query_keys_get_a_clear_message,
    the_sdk_default_customer_is_created,
);
