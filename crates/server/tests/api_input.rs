//! Input compatibility of the API end to end (multipart forms, no-op updates, paginator
//! links, login throttling, `language_id`, invalid UTF-8, booleans in text fields,
//! `Location`): a real server on a loopback port, a real HTTP client.

#[macro_use]
mod common;

use common::TestServer;
use reqwest::blocking::multipart::{Form, Part};
use serde_json::{json, Value as Json};
use std::time::Duration;

fn create(s: &TestServer, body: &Json) -> Json {
    let (st, c) = s.json("POST", "/api/v1/customers", &s.write, body);
    assert_eq!(st, 201, "{c}");
    c
}

fn multipart(s: &TestServer, path: &str, token: &str, form: Form) -> (u16, Json) {
    common::read(
        s.client
            .post(s.url(path))
            .bearer_auth(token)
            .multipart(form)
            .send()
            .expect("send"),
    )
}

fn multipart_forms_are_read_like_urlencoded_ones() {
    let s = TestServer::start();
    // create a customer
    let form = Form::new()
        .text("name", "Multipart Co")
        .text("mobilePhone", "06 40 00 00 46")
        .text("vip", "1");
    let (st, c) = multipart(&s, "/api/v1/customers", &s.write, form);
    assert_eq!(st, 201, "{c}");
    assert_eq!(
        (c["name"].clone(), c["vip"].clone()),
        (json!("Multipart Co"), json!(true))
    );
    let id = c["id"].as_i64().expect("id");
    // update it; the body wins over the query string, as with other bodies
    let r = s
        .client
        .put(s.url(&format!("/api/v1/customers/{id}?name=Query")))
        .bearer_auth(&s.write)
        .multipart(Form::new().text("name", "Renamed"))
        .send()
        .expect("send");
    let (st, u) = common::read(r);
    assert_eq!((st, u["name"].clone()), (200, json!("Renamed")), "{u}");
    // a file part is ignored like an unknown key
    let form = Form::new().text("name", "With file").part(
        "attachment",
        Part::bytes(b"hello".to_vec()).file_name("a.txt"),
    );
    let (st, c2) = multipart(&s, "/api/v1/customers", &s.write, form);
    assert_eq!((st, c2["name"].clone()), (201, json!("With file")), "{c2}");
    // validation errors keep their shape
    let (st, e) = multipart(
        &s,
        "/api/v1/customers",
        &s.write,
        Form::new().text("vip", "1"),
    );
    assert_eq!(
        (st, e["codes"]["name"].clone()),
        (422, json!(["name.required"]))
    );
    // routing (PBX tools post multipart forms)
    s.settle();
    let r = s
        .client
        .post(s.url("/api/isKnownPhoneNumber"))
        .bearer_auth(&s.lookup)
        .multipart(Form::new().text("phoneNumber", "0640000046"))
        .send()
        .expect("send");
    assert_eq!(r.status(), 200);
    assert_eq!(r.text().expect("body"), "true");
    // login
    let form = Form::new()
        .text("email", "ann@example.fr")
        .text("password", "correct horse");
    let r = s
        .client
        .post(s.url("/api/login"))
        .multipart(form)
        .send()
        .expect("send");
    let (st, body) = common::read(r);
    assert_eq!(st, 200, "{body}");
    assert!(body["token"].is_string());
    // contacts
    let form = Form::new()
        .text("contactable_type", "App\\Customer")
        .text("contactable_id", id.to_string())
        .text("lastName", "Doe");
    let (st, k) = multipart(&s, "/api/v1/contacts", &s.write, form);
    assert_eq!((st, k["lastName"].clone()), (201, json!("Doe")), "{k}");
    // a multipart content type with an empty body is no fields, as with other bodies
    let r = s
        .client
        .get(s.url("/api/isKnownPhoneNumber?phoneNumber=0640000046"))
        .bearer_auth(&s.lookup)
        .header("Content-Type", "multipart/form-data; boundary=x")
        .send()
        .expect("send");
    assert_eq!(r.status(), 200);
    // invalid UTF-8 in a multipart value is refused like in other bodies
    let form = Form::new().part("name", Part::bytes(b"bad\xff\xfe".to_vec()));
    let (st, e) = multipart(&s, "/api/v1/customers", &s.write, form);
    assert_eq!(st, 400, "{e}");
}

fn invalid_utf8_in_forms_and_queries_is_a_400() {
    let s = TestServer::start();
    let send = |path: &str, body: &'static [u8]| {
        common::read(
            s.client
                .post(s.url(path))
                .bearer_auth(&s.write)
                .header("Content-Type", "application/x-www-form-urlencoded")
                .body(body)
                .send()
                .expect("send"),
        )
    };
    let (st, e) = send("/api/v1/customers", b"name=bad%FF%FEutf8");
    assert_eq!(st, 400, "{e}");
    assert!(
        e["message"].as_str().is_some_and(|m| m.contains("UTF-8")),
        "{e}"
    );
    let (st, e) = send("/api/v1/customers?name=bad%FF", b"");
    assert_eq!(st, 400, "{e}");
    // raw (unencoded) bytes in a form body too
    let (st, e) = send("/api/v1/customers", b"name=bad\xff");
    assert_eq!(st, 400, "{e}");
    assert_eq!(s.customer_count(), 0);
    // valid UTF-8, encoded or not, still works
    let (st, c) = send("/api/v1/customers", b"name=Caf%C3%A9+%C3%A9t%C3%A9");
    assert_eq!((st, c["name"].clone()), (201, json!("Café été")), "{c}");
}

fn updates_that_change_nothing_write_nothing() {
    let s = TestServer::start();
    let c = create(
        &s,
        &json!({"name": "Same Co", "mainAddressPostalCode": 75001, "vip": true}),
    );
    let id = c["id"].as_i64().expect("id");
    let path = format!("/api/v1/customers/{id}");
    for body in [
        json!({}),
        json!({"foo": "bar"}),
        json!({"name": "Same Co", "vip": "1", "mainAddressPostalCode": "75001"}),
    ] {
        std::thread::sleep(Duration::from_millis(20));
        for method in ["PATCH", "PUT"] {
            let (st, u) = s.json(method, &path, &s.write, &body);
            assert_eq!(st, 200, "{u}");
            assert_eq!(u, c, "{method} {body}");
        }
    }
    assert_eq!(s.get(&path, &s.read), (200, c.clone()));
    // a real change still writes
    std::thread::sleep(Duration::from_millis(20));
    let (st, u) = s.json("PATCH", &path, &s.write, &json!({"name": "Other Co"}));
    assert_eq!(st, 200);
    assert_ne!(u["updated_at"], c["updated_at"]);

    // contacts
    let (st, k) = s.json(
        "POST",
        &format!("/api/v1/contacts?contactable_type=customer&contactable_id={id}"),
        &s.write,
        &json!({"lastName": "Doe", "landlinePhone": "04 94 00 00 01"}),
    );
    assert_eq!(st, 201, "{k}");
    let kpath = format!("/api/v1/contacts/{}", k["id"]);
    std::thread::sleep(Duration::from_millis(20));
    for body in [
        json!({}),
        json!({"foo": "bar"}),
        json!({"lastName": "Doe", "contactable_id": id}),
    ] {
        let (st, u) = s.json("PATCH", &kpath, &s.write, &body);
        assert_eq!((st, &u), (200, &k), "{body}");
    }
    let (st, u) = s.json("PATCH", &kpath, &s.write, &json!({"lastName": "Roe"}));
    assert_eq!(st, 200);
    assert_ne!(u["updated_at"], k["updated_at"]);
}

fn paginator_links_keep_the_query() {
    let s = TestServer::start();
    for i in 0..12 {
        create(&s, &json!({"name": format!("Müller {i}")}));
    }
    create(&s, &json!({"name": "Other"}));
    let (st, p) = s.get(
        "/api/v1/customers?filter[name]=muller&per_page=5&sort=-id&page=1",
        &s.read,
    );
    assert_eq!(st, 200, "{p}");
    assert_eq!(
        (p["total"].clone(), p["last_page"].clone()),
        (json!(12), json!(3))
    );
    let next = p["next_page_url"].as_str().expect("next").to_string();
    let first = p["first_page_url"].as_str().expect("first");
    let last = p["last_page_url"].as_str().expect("last");
    assert_eq!(p["path"], s.url("/api/v1/customers"));
    let expected = |n: u64| {
        s.url(&format!(
            "/api/v1/customers?filter%5Bname%5D=muller&per_page=5&sort=-id&page={n}"
        ))
    };
    assert_eq!(next, expected(2));
    assert_eq!(first, expected(1));
    assert_eq!(last, expected(3));
    // following the link gives the next five, in the same order
    let r = s
        .client
        .get(&next)
        .bearer_auth(&s.read)
        .send()
        .expect("send");
    let (st, p2) = common::read(r);
    assert_eq!(st, 200, "{p2}");
    assert_eq!(p2["current_page"], 2);
    let names: Vec<&str> = p2["data"]
        .as_array()
        .expect("data")
        .iter()
        .filter_map(|c| c["name"].as_str())
        .collect();
    assert_eq!(
        names,
        ["Müller 6", "Müller 5", "Müller 4", "Müller 3", "Müller 2"]
    );
    assert_eq!(p2["prev_page_url"], json!(expected(1)));
}

fn login_throttling_is_per_email_and_address() {
    let s = TestServer::start();
    let hash = clientele_server::auth::hash_password("battery staple").expect("hash");
    s.store
        .create_user("Bob", "bob@example.fr", &hash)
        .expect("user");
    let login = |email: &str, password: &str| {
        s.client
            .post(s.url("/api/login"))
            .json(&json!({"email": email, "password": password}))
            .send()
            .expect("send")
    };
    // the tests' server allows 5 failures a minute
    for _ in 0..5 {
        assert_eq!(login("ann@example.fr", "nope").status(), 401);
    }
    let r = login("ANN@example.fr", "correct horse");
    assert_eq!(r.status(), 429);
    let retry: u64 = r
        .headers()
        .get("retry-after")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse().ok())
        .expect("Retry-After in seconds");
    assert!((1..=60).contains(&retry), "{retry}");
    assert_eq!(
        common::read(r),
        (429, json!({"message": "Too Many Attempts."}))
    );
    // another user from the same address is not locked out
    assert_eq!(login("bob@example.fr", "battery staple").status(), 200);
}

fn booleans_in_text_fields_are_refused() {
    let s = TestServer::start();
    let (st, e) = s.json(
        "POST",
        "/api/v1/customers",
        &s.write,
        &json!({"name": false, "mainAddressCity": true}),
    );
    assert_eq!(st, 422, "{e}");
    assert_eq!(e["codes"]["name"], json!(["name.invalid"]));
    assert_eq!(
        e["codes"]["mainAddressCity"],
        json!(["mainAddressCity.invalid"])
    );
    assert_eq!(s.customer_count(), 0);
    // numbers in text fields are still read as their digits, booleans in boolean fields
    // as booleans
    let c = create(
        &s,
        &json!({"name": 1234, "mainAddressPostalCode": 75001, "vip": true}),
    );
    assert_eq!(
        (
            c["name"].clone(),
            c["mainAddressPostalCode"].clone(),
            c["vip"].clone()
        ),
        (json!("1234"), json!("75001"), json!(true))
    );
    // contacts
    let (st, e) = s.json(
        "POST",
        &format!(
            "/api/v1/contacts?contactable_type=customer&contactable_id={}",
            c["id"]
        ),
        &s.write,
        &json!({"lastName": true, "active": false}),
    );
    assert_eq!(
        (st, e["codes"]["lastName"].clone()),
        (422, json!(["lastName.invalid"])),
        "{e}"
    );
}

fn language_id_is_read_on_input() {
    let s = TestServer::start();
    let c = create(&s, &json!({"name": "Lang Co", "language": "en"}));
    assert_eq!(
        (c["language"].clone(), c["language_id"].clone()),
        (json!("en"), json!(2))
    );
    let path = format!("/api/v1/customers/{}", c["id"]);
    let (st, u) = s.json("PATCH", &path, &s.write, &json!({"language_id": 1}));
    assert_eq!(st, 200, "{u}");
    assert_eq!(
        (u["language"].clone(), u["language_id"].clone()),
        (json!("fr"), json!(1))
    );
    let (st, u) = s.json("PATCH", &path, &s.write, &json!({"language_id": "2"}));
    assert_eq!(
        (st, u["language"].clone(), u["language_id"].clone()),
        (200, json!("en"), json!(2))
    );
    let (st, e) = s.json("PATCH", &path, &s.write, &json!({"language_id": 7}));
    assert_eq!(
        (st, e["codes"]["language_id"].clone()),
        (422, json!(["language_id.invalid"])),
        "{e}"
    );
    let (st, e) = s.json(
        "PATCH",
        &path,
        &s.write,
        &json!({"language": "fr", "language_id": 2}),
    );
    assert_eq!(
        (st, e["codes"]["language_id"].clone()),
        (422, json!(["language_id.invalid"])),
        "{e}"
    );
    // agreeing keys are fine; nothing was changed by the refused requests
    let (st, u) = s.json(
        "PATCH",
        &path,
        &s.write,
        &json!({"language": "English", "language_id": 2, "name": "Lang Co 2"}),
    );
    assert_eq!((st, u["language"].clone()), (200, json!("en")), "{u}");
    // a customer without a language already answers language_id 1: the SDK sending it
    // back changes nothing
    let c = create(&s, &json!({"name": "No lang", "language_id": 1}));
    assert_eq!(
        (c["language"].clone(), c["language_id"].clone()),
        (Json::Null, json!(1))
    );
    let c = create(&s, &json!({"name": "English", "language_id": 2}));
    assert_eq!(c["language"], "en");
}

fn creates_answer_with_a_location() {
    let s = TestServer::start();
    // POST a JSON body: the status, the Location header and the created object.
    let post = |path: &str, body: Json| {
        let r = s
            .req("POST", path, &s.write)
            .json(&body)
            .send()
            .expect("send");
        let loc = r
            .headers()
            .get("location")
            .and_then(|v| v.to_str().ok())
            .map(str::to_string);
        let (st, created) = common::read(r);
        (st, loc, created)
    };
    let (st, loc, c) = post("/api/v1/customers", json!({"name": "Located"}));
    assert_eq!(st, 201);
    assert_eq!(loc, Some(format!("/api/v1/customers/{}", c["id"])));
    let contacts = format!(
        "/api/v1/contacts?contactable_type=customer&contactable_id={}",
        c["id"]
    );
    let (st, loc, k) = post(&contacts, json!({"lastName": "Doe"}));
    assert_eq!(st, 201);
    assert_eq!(loc, Some(format!("/api/v1/contacts/{}", k["id"])));
}

// Every test runs on SQLite and on PostgreSQL: `on_both!` (tests/common).

on_both!(
    multipart_forms_are_read_like_urlencoded_ones,
    invalid_utf8_in_forms_and_queries_is_a_400,
    updates_that_change_nothing_write_nothing,
    paginator_links_keep_the_query,
    login_throttling_is_per_email_and_address,
    booleans_in_text_fields_are_refused,
    language_id_is_read_on_input,
    creates_answer_with_a_location,
);
