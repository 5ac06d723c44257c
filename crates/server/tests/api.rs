//! The API end to end: a real server on a loopback port, a real HTTP client.
#![recursion_limit = "256"]

#[macro_use]
mod common;

use common::TestServer;
use serde_json::{json, Value as Json};

/// The body the BlueRockTEL PHP SDK sends: every key, explicit nulls, read-only keys,
/// numbers as strings and strings as numbers.
fn sdk_body(name: &str) -> Json {
    json!({
        "id": null, "name": name, "customerAccount": null, "accountsReference": null,
        "registrationNumber": "73282932000074", "taxRegistrationNumber": null, "type": "SARL", "capital": "10000",
        "mainAddressLine1": "1 rue de la Paix", "mainAddressLine2": null, "mainAddressPostalCode": 83210,
        "mainAddressCity": "Solliès-Pont", "mainAddressCountry": "France", "website": null,
        "phone": "01 23 45 67 89", "mobilePhone": 612345678, "fax": null, "emailAddress": null,
        "active": "1", "isReseller": false, "resellerLevel": null, "chargeVAT": true, "applyVATAutoReverseOperators": false,
        "onCallDuty": "0", "vip": 1, "brand_id": "1", "sector_id": "2", "origin_id": null, "language_id": 1,
        "abroad": false, "zone": 0, "prospection_code_id": 1, "acceptEmails": true, "acceptCalls": true,
        "isGroupingAccount": false, "suppliers": "", "canSendSms": false, "ftp": false,
        "telco_exceptions_grid_to_redis": false, "quickSearchIndex": false,
        "created_at": "2020-01-01T00:00:00.000000Z", "updated_at": null, "vatRegime": "bogus", "vatMention": null,
        "someUnknownKey": {"nested": true}
    })
}

const NEVER_NULL: &[&str] = &[
    "brand_id",
    "abroad",
    "zone",
    "prospection_code_id",
    "acceptEmails",
    "acceptCalls",
    "language_id",
    "isGroupingAccount",
    "suppliers",
    "canSendSms",
    "ftp",
    "telco_exceptions_grid_to_redis",
    "quickSearchIndex",
    "active",
    "isReseller",
    "chargeVAT",
    "applyVATAutoReverseOperators",
    "mergeInvoices",
    "isPayer",
    "onCallDuty",
    "vip",
];

fn create(s: &TestServer, body: &Json) -> Json {
    let (st, c) = s.json("POST", "/api/v1/customers", &s.write, body);
    assert_eq!(st, 201, "{c}");
    c
}

fn version_needs_no_auth() {
    let s = TestServer::start();
    let (st, body) = s.text("/api/version");
    assert_eq!(st, 200);
    let v: Json = serde_json::from_str(&body).expect("json");
    assert_eq!(v["version"], "1.0");
    assert_eq!(v["status"], "ok");
    assert!(v["vendor"].is_string() && v["url"].is_string());
}

fn login_with_credentials_in_the_query_string() {
    let s = TestServer::start();
    let r = s
        .client
        .post(s.url("/api/login?email=ann@example.fr&password=correct%20horse"))
        .header("Content-Type", "application/json")
        .send()
        .expect("send");
    let (st, body) = common::read(r);
    assert_eq!(st, 200, "{body}");
    assert_eq!(body["user"]["email"], "ann@example.fr");
    assert_eq!(body["user"]["name"], "Ann Admin");
    assert!(body["user"]["id"].is_i64());
    assert_eq!(body["teams"], json!([]));
    assert_eq!(body["support_teams"], json!([]));
    let token = body["token"].as_str().expect("token").to_string();
    // the new token writes at once, and is stored hashed only
    let c = create(&s, &json!({"name": "Via login"}));
    let (st, _) = s.json(
        "PATCH",
        &format!("/api/v1/customers/{}", c["id"]),
        &token,
        &json!({"vip": true}),
    );
    assert_eq!(st, 200);
    assert!(s
        .store
        .tokens()
        .expect("tokens")
        .iter()
        .all(|t| t.hash != token && t.hash.len() == 64));
    // form and JSON bodies too
    let r = s
        .client
        .post(s.url("/api/login"))
        .form(&[("email", "ANN@example.fr"), ("password", "correct horse")])
        .send()
        .expect("send");
    assert_eq!(r.status(), 200);
    let r = s
        .client
        .post(s.url("/api/login"))
        .json(&json!({"email": "ann@example.fr", "password": "correct horse"}))
        .send()
        .expect("send");
    assert_eq!(r.status(), 200);
}

fn bad_logins_are_401_then_rate_limited() {
    let s = TestServer::start();
    for _ in 0..5 {
        let (st, body) = common::read(
            s.client
                .post(s.url("/api/login?email=ann@example.fr&password=nope"))
                .send()
                .expect("send"),
        );
        assert_eq!((st, body), (401, json!({"message": "Unauthenticated."})));
    }
    let (st, body) = common::read(
        s.client
            .post(s.url("/api/login?email=ann@example.fr&password=correct%20horse"))
            .send()
            .expect("send"),
    );
    assert_eq!((st, body), (429, json!({"message": "Too Many Attempts."})));
    let (st, body) = common::read(
        s.client
            .post(s.url("/api/login"))
            .json(&json!({}))
            .send()
            .expect("send"),
    );
    assert!(st == 422 || st == 429, "{st} {body}");
}

fn create_with_the_sdk_body() {
    let s = TestServer::start();
    let c = create(&s, &sdk_body("ACME SARL"));
    assert_eq!(c["name"], "ACME SARL");
    assert_eq!(c["customerAccount"], "CL0001");
    assert_eq!(c["mainAddressPostalCode"], "83210");
    assert_eq!(c["mobilePhone"], "0612345678");
    assert_eq!(c["mobilePhoneE164"], "+33612345678");
    assert_eq!(c["brand_id"], 1);
    assert_eq!(c["sector_id"], 2);
    assert_eq!(c["vip"], true);
    assert_eq!(c["onCallDuty"], false);
    assert_eq!(c["vatRegime"], "standard");
    assert_ne!(c["created_at"], "2020-01-01T00:00:00.000000Z");
    assert!(c["id"].as_i64().is_some_and(|i| i > 0));
    for k in NEVER_NULL {
        assert!(!c[k].is_null(), "{k} is null");
    }
    // shown the same, unwrapped
    let (st, shown) = s.get(&format!("/api/v1/customers/{}", c["id"]), &s.read);
    assert_eq!(st, 200);
    assert_eq!(shown, c);
    let (st, by_account) = s.get("/api/v1/customerAccounts/CL0001", &s.read);
    assert_eq!((st, &by_account["id"]), (200, &c["id"]));
    // the next one gets the next account; form bodies and query strings work too
    let r = s
        .req("POST", "/api/v1/customers?vip=0", &s.write)
        .form(&[
            ("name", "Form Co"),
            ("is_reseller", "1"),
            ("reseller_level", "3"),
        ])
        .send()
        .expect("send");
    let (st, c2) = common::read(r);
    assert_eq!(st, 201, "{c2}");
    assert_eq!(c2["customerAccount"], "CL0002");
    assert_eq!(
        (
            c2["isReseller"].clone(),
            c2["resellerLevel"].clone(),
            c2["vip"].clone()
        ),
        (json!(true), json!(3), json!(false))
    );
    let r = s
        .req(
            "POST",
            "/api/v1/customers?name=Query%20Co&customerAccount=QC1",
            &s.write,
        )
        .send()
        .expect("send");
    let (st, c3) = common::read(r);
    assert_eq!((st, c3["customerAccount"].clone()), (201, json!("QC1")));
}

fn validation_errors_have_the_laravel_shape_with_codes() {
    let s = TestServer::start();
    let (st, e) = s.json(
        "POST",
        "/api/v1/customers",
        &s.write,
        &json!({"registrationNumber": "73282932000075", "vip": "maybe"}),
    );
    assert_eq!(st, 422, "{e}");
    assert!(e["message"].is_string());
    assert_eq!(e["codes"]["name"], json!(["name.required"]));
    assert_eq!(
        e["codes"]["registrationNumber"],
        json!(["registrationNumber.checksum"])
    );
    assert_eq!(e["codes"]["vip"], json!(["vip.invalid"]));
    assert!(e["errors"]["registrationNumber"][0]
        .as_str()
        .is_some_and(|m| m.contains("73282932000075")));
    assert_eq!(s.customer_count(), 0);
    // French messages on request
    let r = s
        .req("POST", "/api/v1/customers", &s.write)
        .header("Accept-Language", "fr-FR")
        .json(&json!({"name": ""}))
        .send()
        .expect("send");
    let (st, e) = common::read(r);
    assert_eq!(st, 422);
    assert_eq!(e["message"], "Raison sociale est obligatoire");
    // account taken, on create and on update
    let a = create(&s, &json!({"name": "A", "customerAccount": "ACC1"}));
    let (st, e) = s.json(
        "POST",
        "/api/v1/customers",
        &s.write,
        &json!({"name": "B", "customerAccount": "ACC1"}),
    );
    assert_eq!(
        (st, e["codes"]["customerAccount"].clone()),
        (422, json!(["customerAccount.taken"]))
    );
    let b = create(&s, &json!({"name": "B"}));
    let (st, e) = s.json(
        "PUT",
        &format!("/api/v1/customers/{}", b["id"]),
        &s.write,
        &json!({"customerAccount": "ACC1"}),
    );
    assert_eq!(
        (st, e["codes"]["customerAccount"].clone()),
        (422, json!(["customerAccount.taken"]))
    );
    // the merged customer is validated: a VAT number whose SIREN is not the stored SIRET's
    let (st, _) = s.json(
        "PATCH",
        &format!("/api/v1/customers/{}", a["id"]),
        &s.write,
        &json!({"registrationNumber": "73282932000074"}),
    );
    assert_eq!(st, 200);
    let (st, e) = s.json(
        "PATCH",
        &format!("/api/v1/customers/{}", a["id"]),
        &s.write,
        &json!({"taxRegistrationNumber": "FR46443121975"}),
    );
    assert_eq!(
        (st, e["codes"]["taxRegistrationNumber"].clone()),
        (422, json!(["taxRegistrationNumber.siren_mismatch"])),
        "{e}"
    );
}

fn update_patch_and_delete() {
    let s = TestServer::start();
    let c = create(&s, &sdk_body("Before"));
    let id = c["id"].as_i64().expect("id");
    let (st, u) = s.json(
        "PUT",
        &format!("/api/v1/customers/{id}"),
        &s.write,
        &json!({"name": "After", "customer_account": null, "charge_vat": "0"}),
    );
    assert_eq!(st, 200, "{u}");
    assert_eq!(
        (
            u["name"].clone(),
            u["customerAccount"].clone(),
            u["chargeVAT"].clone()
        ),
        (json!("After"), json!("CL0001"), json!(false))
    );
    assert_eq!(
        u["mobilePhone"], "0612345678",
        "fields absent from the request are kept"
    );
    let (st, e) = s.json(
        "PATCH",
        &format!("/api/v1/customers/{id}"),
        &s.write,
        &json!({"name": null}),
    );
    assert_eq!(
        (st, e["codes"]["name"].clone()),
        (422, json!(["name.required"]))
    );
    // DELETE with the body `[]` the SDK sends
    let r = s
        .req("DELETE", &format!("/api/v1/customers/{id}"), &s.write)
        .header("Content-Type", "application/json")
        .body("[]")
        .send()
        .expect("send");
    assert_eq!(common::read(r), (200, json!({"message": "Deleted."})));
    assert_eq!(
        s.get(&format!("/api/v1/customers/{id}"), &s.read),
        (404, json!({"message": "Not found."}))
    );
    assert_eq!(
        s.json(
            "DELETE",
            &format!("/api/v1/customers/{id}"),
            &s.write,
            &json!([])
        )
        .0,
        404
    );
    assert_eq!(s.get("/api/v1/customers/abc", &s.read).0, 404);
    assert_eq!(s.get("/api/v1/customerAccounts/NOPE", &s.read).0, 404);
}

fn the_sdk_paging_loop_sees_every_customer_once() {
    let s = TestServer::start();
    for i in 0..37 {
        create(
            &s,
            &json!({"name": format!("Customer {i:02}"), "vip": i % 3 == 0}),
        );
    }
    let mut seen = std::collections::BTreeSet::new();
    let mut page = 1;
    loop {
        let (st, p) = s.get(
            &format!("/api/v1/customers?page={page}&per_page=10"),
            &s.read,
        );
        assert_eq!(st, 200);
        assert!(p["current_page"].is_u64() && p["last_page"].is_u64(), "{p}");
        for c in p["data"].as_array().expect("data") {
            assert!(seen.insert(c["id"].as_i64().expect("id")), "seen twice");
            for k in NEVER_NULL {
                assert!(!c[k].is_null(), "{k} is null");
            }
        }
        if p["last_page"] == p["current_page"] {
            break;
        }
        assert!(page < 10, "the loop does not end");
        page += 1;
    }
    assert_eq!((seen.len(), page), (37, 4));
    let (_, p) = s.get("/api/v1/customers?page=2&per_page=10", &s.read);
    assert_eq!(
        (
            p["from"].clone(),
            p["to"].clone(),
            p["total"].clone(),
            p["per_page"].clone()
        ),
        (json!(11), json!(20), json!(37), json!(10))
    );
    assert!(p["next_page_url"]
        .as_str()
        .is_some_and(|u| u.ends_with("/api/v1/customers?per_page=10&page=3")));
    assert!(p["prev_page_url"]
        .as_str()
        .is_some_and(|u| u.ends_with("?per_page=10&page=1")));
    // empty result: last_page 1
    let (_, p) = s.get("/api/v1/customers?filter[name]=zzzz", &s.read);
    assert_eq!(
        (
            p["current_page"].clone(),
            p["last_page"].clone(),
            p["total"].clone(),
            p["data"].clone()
        ),
        (json!(1), json!(1), json!(0), json!([]))
    );
    // filters and sort
    let (_, p) = s.get("/api/v1/customers?filter%5Bvip%5D=1&per_page=100", &s.read);
    assert_eq!(p["total"], 13);
    let (_, p) = s.get("/api/v1/customers?filter[name]=CUSTOMER%2005", &s.read);
    assert_eq!(p["total"], 1);
    let (_, p) = s.get("/api/v1/customers?sort=-name&per_page=1", &s.read);
    assert_eq!(p["data"][0]["name"], "Customer 36");
    let (_, p) = s.get("/api/v1/customers?filter[customerAccount]=CL0005", &s.read);
    assert_eq!(p["data"][0]["name"], "Customer 04");
    let (_, found) = s.get("/api/v1/customers/search?term=customer%2012", &s.read);
    assert_eq!(found.as_array().map(Vec::len), Some(1));
    let (_, found) = s.get("/api/v1/customers/search?term=customer", &s.read);
    assert_eq!(found.as_array().map(Vec::len), Some(37));
    // The term also finds a customer by account, SIRET (typed in groups) and VAT number,
    // whatever the case, and by its name without accents; the name filter looks at the
    // name only.
    create(
        &s,
        &json!({"customerAccount": "ZX-77", "name": "Électricité Noël",
                "registrationNumber": "73282932000074", "taxRegistrationNumber": "FR44732829320"}),
    );
    for term in [
        "zx-77",
        "732%20829%20320",
        "732.829.320",
        "fr44732",
        "electricite%20noel",
    ] {
        let (_, found) = s.get(&format!("/api/v1/customers/search?term={term}"), &s.read);
        assert_eq!(found[0]["customerAccount"], "ZX-77", "{term}: {found}");
        assert_eq!(found.as_array().map(Vec::len), Some(1), "{term}");
    }
    let (_, p) = s.get("/api/v1/customers?filter[name]=zx-77", &s.read);
    assert_eq!(p["total"], 0);
}

fn hostile_input_is_a_clear_4xx_and_changes_nothing() {
    let s = TestServer::start();
    create(&s, &json!({"name": "Keep me"}));
    let before = s.customer_count();
    let check = |st: u16, body: &Json| {
        assert!((400..500).contains(&st), "{st} {body}");
        assert!(body["message"].is_string(), "{body}");
    };
    for bad in [
        "{\"name\":",
        "{\"name\": \"x\"",
        "not json at all {",
        "[1,2]",
        "\"x\"",
        "{\"name\":\"\\ud800\"}",
    ] {
        let r = s
            .req("POST", "/api/v1/customers", &s.write)
            .header("Content-Type", "application/json")
            .body(bad)
            .send()
            .expect("send");
        let (st, body) = common::read(r);
        if st != 201 {
            check(st, &body);
        }
    }
    for q in [
        "per_page=100000",
        "per_page=-1",
        "per_page=0",
        "page=0",
        "page=abc",
        "page=99999999999999999999",
        "filter[active]=%27%20OR%201%3D1%20--",
        "filter[resellerLevel]=1;DROP%20TABLE%20customers",
        "sort=name;DROP%20TABLE%20customers",
        "filter[nope]=1",
        "sort=password",
    ] {
        let (st, body) = s.get(&format!("/api/v1/customers?{q}"), &s.read);
        check(st, &body);
    }
    for q in [
        "filter[name]=%27%20OR%201%3D1%20--",
        "filter[term_match]=%27%3B%20DELETE%20FROM%20customers%3B%20--",
        "filter[customerAccount]=%27%20OR%20%271%27%3D%271",
    ] {
        let (st, body) = s.get(&format!("/api/v1/customers?{q}"), &s.read);
        assert_eq!((st, body["total"].clone()), (200, json!(0)), "{q}");
    }
    let (st, body) = s.get(
        "/api/v1/customers/search?term=%27%20OR%201%3D1%20--",
        &s.read,
    );
    assert_eq!((st, body), (200, json!([])));
    // unknown fields are ignored, the customer is created
    let (st, _) = s.json(
        "POST",
        "/api/v1/customers",
        &s.write,
        &json!({"name": "With junk", "password": "x", "drop": "table"}),
    );
    assert_eq!(st, 201);
    // too large a JSON body
    let huge = format!("{{\"name\":\"{}\"}}", "x".repeat(2 << 20));
    // (the server may answer 413 and close before the client has sent it all)
    let fresh = reqwest::blocking::Client::new();
    match fresh
        .post(s.url("/api/v1/customers"))
        .bearer_auth(&s.write)
        .header("Content-Type", "application/json")
        .body(huge)
        .send()
    {
        Ok(r) => assert_eq!(r.status(), 413),
        Err(e) => assert!(!e.is_timeout(), "{e}"),
    }
    // a list or object where a value is expected
    let (st, body) = s.json(
        "POST",
        "/api/v1/customers",
        &s.write,
        &json!({"name": ["a"]}),
    );
    check(st, &body);
    assert_eq!(s.customer_count(), before + 1);
    assert_eq!(s.text("/api/nope").0, 404);
}

fn scopes_401_and_403() {
    let s = TestServer::start();
    let unauth = json!({"message": "Unauthenticated."});
    let forbidden = json!({"message": "This action is unauthorized."});
    assert_eq!(
        common::read(
            s.client
                .get(s.url("/api/v1/customers"))
                .send()
                .expect("send")
        ),
        (401, unauth.clone())
    );
    assert_eq!(
        s.get("/api/v1/customers", "clt_nope"),
        (401, unauth.clone())
    );
    // read tokens read, and cannot write
    assert_eq!(s.get("/api/v1/customers", &s.read).0, 200);
    assert_eq!(
        s.json("POST", "/api/v1/customers", &s.read, &json!({"name": "x"})),
        (403, forbidden.clone())
    );
    // lookup tokens only route calls
    assert_eq!(
        s.get("/api/v1/customers", &s.lookup),
        (403, forbidden.clone())
    );
    assert_eq!(
        s.get("/api/v1/contacts?contactable_id=1", &s.lookup),
        (403, forbidden.clone())
    );
    assert_eq!(
        s.get("/api/isKnownPhoneNumber?phoneNumber=0612345678", &s.lookup),
        (200, json!(false))
    );
    // only lookup tokens travel in the URL
    assert_eq!(
        s.text(&format!("/api/v1/customers?api_token={}", s.read)).0,
        401
    );
    assert_eq!(
        s.text(&format!(
            "/api/isKnownPhoneNumber?phoneNumber=0612345678&api_token={}",
            s.write
        ))
        .0,
        401
    );
    assert_eq!(
        s.text(&format!(
            "/api/isKnownPhoneNumber?phoneNumber=0612345678&api_token={}",
            s.lookup
        ))
        .0,
        200
    );
    // IP allow-lists
    let make = |allow: &str| {
        let (t, h) = clientele_server::auth::new_token();
        s.store
            .create_token("pbx", &h, "lookup", Some(allow), None)
            .expect("token");
        t
    };
    let (inside, outside) = (make("127.0.0.0/8"), make("10.0.0.0/8,192.0.2.1/32"));
    // tokens created behind the server's back arrive through the change feed
    s.settle();
    assert_eq!(
        s.text(&format!(
            "/api/isKnownPhoneNumber?phoneNumber=0612345678&api_token={inside}"
        ))
        .0,
        200
    );
    let (st, body) = s.text(&format!(
        "/api/isKnownPhoneNumber?phoneNumber=0612345678&api_token={outside}"
    ));
    assert_eq!(
        (st, serde_json::from_str::<Json>(&body).ok()),
        (403, Some(forbidden))
    );
}

fn contacts_crud_and_numbers() {
    let s = TestServer::start();
    let c = create(&s, &json!({"name": "Contact Co"}));
    let cid = c["id"].as_i64().expect("id");
    let (st, e) = s.json(
        "POST",
        &format!("/api/v1/contacts?contactable_type=App%5CCustomer&contactable_id={cid}"),
        &s.write,
        &json!({"firstName": "Ann"}),
    );
    assert_eq!(
        (st, e["codes"]["lastName"].clone()),
        (422, json!(["lastName.required"]))
    );
    let (st, k) = s.json(
        "POST",
        &format!("/api/v1/contacts?contactable_type=App%5CCustomer&contactable_id={cid}"),
        &s.write,
        &json!({"first_name": "Ann", "lastName": "Doe", "civility": "Mme", "landlinePhone": "04 94 00 00 01", "mobilePhone": null, "active": null, "id": 999}),
    );
    assert_eq!(st, 201, "{k}");
    assert_eq!(
        (
            k["civility"].clone(),
            k["firstName"].clone(),
            k["landlinePhone"].clone()
        ),
        (json!(2), json!("Ann"), json!("04 94 00 00 01"))
    );
    assert_eq!(
        (
            k["contactable_type"].clone(),
            k["contactable_id"].clone(),
            k["source"].clone()
        ),
        (json!("App\\Customer"), json!(cid), json!("admin"))
    );
    for key in [
        "active",
        "legalRepresentative",
        "invoicesRecipient",
        "newslettersRecipient",
        "technicalContact",
        "is_signer_contract",
        "is_signer_iban",
        "myClient",
        "myClientAdmin",
        "ticketingDoNotNotify",
        "ticketingCopyToSales",
        "api",
    ] {
        assert!(k[key].is_boolean(), "{key}");
    }
    assert_eq!(
        (k["active"].clone(), k["myClient"].clone(), k["api"].clone()),
        (json!(true), json!(true), json!(false))
    );
    let kid = k["id"].as_i64().expect("id");
    assert_ne!(kid, 999);
    for ty in ["App%5CCustomer", "customer"] {
        let (st, list) = s.get(
            &format!("/api/v1/contacts?contactable_type={ty}&contactable_id={cid}"),
            &s.read,
        );
        assert_eq!((st, list.as_array().map(Vec::len)), (200, Some(1)));
    }
    let (st, n) = s.get(
        "/api/v1/contacts/numbers?phoneNumber=%2B33494000001",
        &s.read,
    );
    assert_eq!(
        (st, n["data"]["id"].clone(), n["data"]["company"].clone()),
        (200, json!(kid), json!("Contact Co"))
    );
    assert_eq!(
        s.get("/api/v1/contacts/numbers?phoneNumber=0600000000", &s.read),
        (404, json!({"response": "Contact not found"}))
    );
    let (st, k2) = s.json(
        "PUT",
        &format!("/api/v1/contacts/{kid}"),
        &s.write,
        &json!({"civility": 3, "mobilePhone": "06 12 12 12 12"}),
    );
    assert_eq!(
        (st, k2["civility"].clone(), k2["lastName"].clone()),
        (200, json!(3), json!("Doe"))
    );
    let (st, e) = s.json(
        "PUT",
        &format!("/api/v1/contacts/{kid}"),
        &s.write,
        &json!({"civility": "Dr", "mobilePhone": "abc"}),
    );
    assert_eq!(st, 422);
    assert_eq!(
        (
            e["codes"]["civility"].clone(),
            e["codes"]["mobilePhone"].clone()
        ),
        (json!(["civility.invalid"]), json!(["mobilePhone.invalid"]))
    );
    assert_eq!(
        s.get(&format!("/api/v1/contacts/{kid}"), &s.read).1["mobilePhone"],
        "06 12 12 12 12"
    );
    assert_eq!(
        s.json(
            "POST",
            "/api/v1/contacts?contactable_id=424242",
            &s.write,
            &json!({"lastName": "X"})
        )
        .0,
        422
    );
    let r = s
        .req("DELETE", &format!("/api/v1/contacts/{kid}"), &s.write)
        .header("Content-Type", "application/json")
        .body("[]")
        .send()
        .expect("send");
    assert_eq!(common::read(r), (200, json!({"message": "Deleted."})));
    assert_eq!(s.get(&format!("/api/v1/contacts/{kid}"), &s.read).0, 404);
}

fn route(s: &TestServer, path: &str) -> (u16, String, String) {
    let r = s
        .client
        .get(s.url(path))
        .bearer_auth(&s.lookup)
        .header("Content-Type", "application/json")
        .send()
        .expect("send");
    let ct = r
        .headers()
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_string();
    (r.status().as_u16(), ct, r.text().unwrap_or_default())
}

fn call_routing() {
    let s = TestServer::start();
    let vip = create(
        &s,
        &json!({"name": "VIP Co", "customerAccount": "CL0042", "mobilePhone": "06 11 22 33 44", "vip": true, "onCallDuty": true}),
    );
    create(
        &s,
        &json!({"name": "Gone Co", "phone": "01 99 88 77 66", "active": false, "vip": true}),
    );
    let plain = create(
        &s,
        &json!({"name": "Plain Co", "phone": "+33 4 94 11 22 33"}),
    );
    let (st, k) = s.json(
        "POST",
        &format!(
            "/api/v1/contacts?contactable_type=customer&contactable_id={}",
            vip["id"]
        ),
        &s.write,
        &json!({"firstName": "Ann", "lastName": "Doe", "landlinePhone": "05 56 00 00 01"}),
    );
    assert_eq!(st, 201);

    // by customer mobile, in every spelling a PBX sends
    for n in [
        "0611223344",
        "%2B33611223344",
        "0033611223344",
        "33611223344",
        "611223344",
        "%2B33%20(0)6%2011%2022%2033%2044",
    ] {
        assert_eq!(
            route(&s, &format!("/api/isKnownPhoneNumber?phoneNumber={n}")),
            (200, "application/json".into(), "true".into()),
            "{n}"
        );
        assert_eq!(
            route(&s, &format!("/api/isVipByPhoneNumber?number={n}")).2,
            "true",
            "{n}"
        );
    }
    // by contact landline
    assert_eq!(
        route(
            &s,
            "/api/hasOnCallDutyContractByPhoneNumber?phoneNumber=0556000001"
        )
        .2,
        "true"
    );
    let (_, _, d) = route(
        &s,
        "/api/isKnownPhoneNumber?phoneNumber=0556000001&details=1",
    );
    let d: Json = serde_json::from_str(&d).expect("details");
    assert_eq!(
        d,
        json!({"known": true, "customerAccount": "CL0042", "name": "VIP Co", "vip": true, "onCallDuty": true, "contact": {"id": k["id"], "firstName": "Ann", "lastName": "Doe"}})
    );
    // by account, whole or digits only
    for a in ["CL0042", "42", "0042"] {
        assert_eq!(
            route(
                &s,
                &format!("/api/isKnownCustomerAccount?customerAccount={a}")
            )
            .2,
            "true",
            "{a}"
        );
        assert_eq!(
            route(
                &s,
                &format!("/api/isVipByCustomerAccount?customerAccount={a}")
            )
            .2,
            "true",
            "{a}"
        );
        assert_eq!(
            route(
                &s,
                &format!("/api/hasOnCallDutyContractByCustomerAccount?customerAccount={a}")
            )
            .2,
            "true",
            "{a}"
        );
    }
    assert_eq!(
        route(
            &s,
            &format!(
                "/api/isVipByCustomerAccount?customerAccount={}",
                plain["customerAccount"].as_str().expect("account")
            )
        )
        .2,
        "false"
    );
    // unknown: false, or 404 where specified
    assert_eq!(
        route(&s, "/api/isKnownPhoneNumber?phoneNumber=0700000000").2,
        "false"
    );
    assert_eq!(
        route(&s, "/api/isKnownCustomerAccount?customerAccount=999").2,
        "false"
    );
    let (st, _, body) = route(&s, "/api/isVipByPhoneNumber?phoneNumber=0700000000");
    assert_eq!(
        (st, serde_json::from_str::<Json>(&body).ok()),
        (404, Some(json!({"message": "not found"})))
    );
    assert_eq!(
        route(
            &s,
            "/api/hasOnCallDutyContractByCustomerAccount?customerAccount=NOPE"
        )
        .0,
        404
    );
    // inactive customers are unknown
    assert_eq!(
        route(&s, "/api/isKnownPhoneNumber?phoneNumber=0199887766").2,
        "false"
    );
    assert_eq!(
        route(&s, "/api/isVipByPhoneNumber?phoneNumber=0199887766").0,
        404
    );
    // raw format
    assert_eq!(
        route(
            &s,
            "/api/isVipByPhoneNumber?phoneNumber=0611223344&format=raw"
        ),
        (200, "text/plain; charset=utf-8".into(), "1".into())
    );
    assert_eq!(
        route(
            &s,
            "/api/isVipByPhoneNumber?phoneNumber=0494112233&format=raw"
        )
        .2,
        "0"
    );
    assert_eq!(
        route(
            &s,
            "/api/isKnownPhoneNumber?phoneNumber=0700000000&format=raw"
        )
        .2,
        "0"
    );
    // caller id
    assert_eq!(
        route(&s, "/api/callerId?phoneNumber=0611223344"),
        (
            200,
            "text/plain; charset=utf-8".into(),
            "VIP Co [VIP] [ASTREINTE]".into()
        )
    );
    assert_eq!(
        route(&s, "/api/callerId?phoneNumber=0494112233").2,
        "Plain Co"
    );
    assert_eq!(route(&s, "/api/callerId?phoneNumber=0700000000").0, 404);
    assert_eq!(route(&s, "/api/callerId?phoneNumber=0700000000").2, "");
    let (_, _, j) = route(&s, "/api/callerId?phoneNumber=0494112233&format=json");
    assert_eq!(
        serde_json::from_str::<Json>(&j).expect("json")["customerAccount"],
        plain["customerAccount"]
    );
    // POST with a form or JSON body, and the parameter missing
    let r = s
        .client
        .post(s.url("/api/isVipByPhoneNumber"))
        .bearer_auth(&s.lookup)
        .form(&[("phoneNumber", "0611223344")])
        .send()
        .expect("send");
    assert_eq!(r.text().unwrap_or_default(), "true");
    let r = s
        .client
        .post(s.url(&format!(
            "/api/isKnownCustomerAccount?api_token={}",
            s.lookup
        )))
        .json(&json!({"customerAccount": 42}))
        .send()
        .expect("send");
    assert_eq!(r.text().unwrap_or_default(), "true");
    assert_eq!(route(&s, "/api/isKnownPhoneNumber").0, 422);
    // a shared number answers for the most recently updated customer; full E.164 beats last 9
    let other = create(&s, &json!({"name": "Sharer", "mobilePhone": "0611223344"}));
    assert_eq!(
        route(&s, "/api/callerId?phoneNumber=0611223344").2,
        "Sharer"
    );
    let (st, _) = s.json(
        "PATCH",
        &format!("/api/v1/customers/{}", vip["id"]),
        &s.write,
        &json!({"comment": "touched"}),
    );
    assert_eq!(st, 200);
    assert_eq!(
        route(&s, "/api/callerId?phoneNumber=0611223344").2,
        "VIP Co [VIP] [ASTREINTE]"
    );
    create(
        &s,
        &json!({"name": "Belgian", "mobilePhone": "+32 494 11 22 33"}),
    );
    assert_eq!(
        route(&s, "/api/callerId?phoneNumber=%2B32494112233").2,
        "Belgian"
    );
    assert_eq!(
        route(&s, "/api/callerId?phoneNumber=0494112233").2,
        "Plain Co",
        "a full E.164 match beats a more recent last-9 match"
    );
    assert_eq!(
        route(&s, "/api/callerId?phoneNumber=%2B1494112233").2,
        "Belgian",
        "last 9 digits when no full match (no +1 number has 9 digits: a prefixed PBX number), most recent first"
    );
    assert_eq!(
        route(&s, "/api/callerId?phoneNumber=%2B44494112233").0,
        404,
        "a possible UK number is whole: no last-9 match on another country's customer"
    );
    // writes made elsewhere (another process) reach the index through the change feed
    let mut c = s
        .store
        .customer(vip["id"].as_i64().expect("id"))
        .expect("customer");
    c.values[clientele_core::Field::active.idx()] = Some(clientele_core::Value::Bool(false));
    s.store.update_customer(&c).expect("update");
    s.store
        .delete_customer(plain["id"].as_i64().expect("id"))
        .expect("delete");
    s.settle();
    assert_eq!(
        route(&s, "/api/callerId?phoneNumber=0611223344").2,
        other["name"].as_str().expect("name")
    );
    assert_eq!(
        route(&s, "/api/callerId?phoneNumber=0494112233").2,
        "Belgian"
    );
    assert_eq!(
        route(&s, "/api/isKnownCustomerAccount?customerAccount=42").2,
        "false"
    );
    c.values[clientele_core::Field::active.idx()] = Some(clientele_core::Value::Bool(true));
    s.store.update_customer(&c).expect("update");
    s.settle();
    let (st, _) = s.json(
        "DELETE",
        &format!("/api/v1/contacts/{}", k["id"]),
        &s.write,
        &json!([]),
    );
    assert_eq!(st, 200);
    assert_eq!(
        route(&s, "/api/isKnownPhoneNumber?phoneNumber=0556000001").2,
        "false"
    );
}

fn pack_upload_dry_run_import_list_undo() {
    let s = TestServer::start();
    let csv = "Compte client;Raison sociale;Téléphone mobile;Client VIP\nIMP1;Imported One;06 55 44 33 22;1\nIMP2;Imported Two;;0\n";
    let upload = |query: &str, bytes: &[u8], name: &str| {
        let part =
            reqwest::blocking::multipart::Part::bytes(bytes.to_vec()).file_name(name.to_string());
        let form = reqwest::blocking::multipart::Form::new().part("file", part);
        common::read(
            s.client
                .post(s.url(&format!("/api/v1/imports{query}")))
                .bearer_auth(&s.write)
                .multipart(form)
                .send()
                .expect("send"),
        )
    };
    let (st, r) = upload("?dryRun=1", csv.as_bytes(), "pack.csv");
    assert_eq!(st, 200, "{r}");
    assert_eq!(
        (
            r["rows"].clone(),
            r["create"].clone(),
            r["imported"].clone()
        ),
        (json!(2), json!(2), json!(false))
    );
    assert_eq!(s.customer_count(), 0);
    let (st, r) = upload("", csv.as_bytes(), "pack.csv");
    assert_eq!((st, r["imported"].clone()), (200, json!(true)), "{r}");
    let id = r["importId"].as_i64().expect("import id");
    assert_eq!(s.customer_count(), 2);
    assert_eq!(
        route(&s, "/api/isVipByPhoneNumber?phoneNumber=0655443322").2,
        "true",
        "imports reach the routing index"
    );
    let (st, list) = s.get("/api/v1/imports", &s.read);
    assert_eq!((st, list[0]["id"].clone()), (200, json!(id)));
    let (st, e) = upload("", b"\x00\x01garbage", "pack.xlsx");
    assert_eq!(st, 422, "{e}");
    assert!(
        e["message"].is_string()
            && e["issues"][0]["code"]
                .as_str()
                .is_some_and(|c| c.starts_with("file.")),
        "{e}"
    );
    let form = reqwest::blocking::multipart::Form::new().text("dryRun", "1");
    let (st, e) = common::read(
        s.client
            .post(s.url("/api/v1/imports"))
            .bearer_auth(&s.write)
            .multipart(form)
            .send()
            .expect("send"),
    );
    assert_eq!(
        (st, e["codes"]["file"].clone()),
        (422, json!(["file.required"]))
    );
    assert_eq!(
        s.json("POST", "/api/v1/imports", &s.read, &json!({})).0,
        403
    );
    let (st, u) = s.json(
        "POST",
        &format!("/api/v1/imports/{id}/undo"),
        &s.write,
        &json!([]),
    );
    assert_eq!(st, 200, "{u}");
    assert_eq!(s.customer_count(), 0);
    assert_eq!(
        route(&s, "/api/isKnownPhoneNumber?phoneNumber=0655443322").2,
        "false"
    );
    assert_eq!(
        s.json(
            "POST",
            &format!("/api/v1/imports/{id}/undo"),
            &s.write,
            &json!([])
        )
        .0,
        409
    );
    assert_eq!(
        s.json("POST", "/api/v1/imports/999/undo", &s.write, &json!([]))
            .0,
        404
    );
}

fn every_route_is_described_in_openapi() {
    let s = TestServer::start();
    let (st, body) = s.text("/api/openapi.json");
    assert_eq!(st, 200);
    let doc: Json = serde_json::from_str(&body).expect("openapi json");
    assert!(doc["openapi"].as_str().is_some_and(|v| v.starts_with("3.")));
    let paths = doc["paths"].as_object().expect("paths");
    // every route of the contract is described...
    let expected: &[(&str, &[&str])] = &[
        ("/api/version", &["get"]),
        ("/api/openapi.json", &["get"]),
        ("/api/login", &["post"]),
        ("/api/v1/customers", &["get", "post"]),
        ("/api/v1/customers/search", &["get"]),
        ("/api/v1/customers/{id}", &["get", "put", "patch", "delete"]),
        ("/api/v1/customerAccounts/{customerAccount}", &["get"]),
        ("/api/v1/contacts", &["get", "post"]),
        ("/api/v1/contacts/numbers", &["get"]),
        ("/api/v1/contacts/{id}", &["get", "put", "patch", "delete"]),
        ("/api/isKnownPhoneNumber", &["get", "post"]),
        ("/api/isKnownCustomerAccount", &["get", "post"]),
        ("/api/isVipByPhoneNumber", &["get", "post"]),
        ("/api/isVipByCustomerAccount", &["get", "post"]),
        ("/api/hasOnCallDutyContractByPhoneNumber", &["get", "post"]),
        (
            "/api/hasOnCallDutyContractByCustomerAccount",
            &["get", "post"],
        ),
        ("/api/callerId", &["get", "post"]),
        ("/api/v1/imports", &["get", "post"]),
        ("/api/v1/imports/{id}/undo", &["post"]),
        // Operations (no token; /metrics behind its allow-list).
        ("/health", &["get"]),
        ("/ready", &["get"]),
        ("/metrics", &["get"]),
    ];
    for (path, methods) in expected {
        for m in *methods {
            assert!(
                paths.get(*path).and_then(|p| p.get(*m)).is_some(),
                "{m} {path} is not described"
            );
        }
    }
    assert_eq!(
        paths.len(),
        expected.len(),
        "described paths: {:?}",
        paths.keys().collect::<Vec<_>>()
    );
    // ...and every described operation is served by the router (never the 404/405 fallbacks)
    for (path, item) in paths {
        for m in item.as_object().expect("item").keys() {
            let concrete = path
                .replace("{id}", "1")
                .replace("{customerAccount}", "CL0001");
            let req = s
                .req(&m.to_uppercase(), &concrete, &s.write)
                .header("Content-Type", "application/json")
                .body("[]");
            let r = req.send().expect("send");
            let st = r.status().as_u16();
            let body = r.text().unwrap_or_default();
            assert_ne!(st, 405, "{m} {path}");
            assert!(
                !(st == 404 && body.contains("Not found.") && !path.contains('{')),
                "{m} {path}: {body}"
            );
        }
    }
}

/// The warnings of the `X-Clientele-Warnings` header, as `(key, code)` pairs.
fn warnings_of(r: &reqwest::blocking::Response) -> Vec<(String, String)> {
    let Some(h) = r.headers().get("x-clientele-warnings") else {
        return Vec::new();
    };
    let text = h.to_str().expect("an ASCII header");
    let list: Json = serde_json::from_str(text).expect("a JSON array");
    list.as_array()
        .expect("array")
        .iter()
        .map(|w| {
            (
                w["key"].as_str().unwrap_or_default().to_string(),
                w["code"].as_str().unwrap_or_default().to_string(),
            )
        })
        .collect()
}

/// Addresses and NAF codes against the official lists through the API: warnings never make
/// a 422; a success keeps the BlueRockTEL body (the customer object, nothing added but
/// `activityLabel`) and reports them in the `X-Clientele-Warnings` header; a 422 for an
/// error lists them beside the errors.
fn official_lists_warn_without_breaking_clients() {
    let s = TestServer::start();
    let r = s
        .req("POST", "/api/v1/customers", &s.write)
        .header("Accept-Language", "fr")
        .json(
            &json!({"name": "Paris Lyon", "mainAddressPostalCode": "75001",
                      "mainAddressCity": "Lyon", "activityCode": "62.02Z"}),
        )
        .send()
        .expect("send");
    let warnings = warnings_of(&r);
    let raw = r
        .headers()
        .get("x-clientele-warnings")
        .map(|h| h.to_str().unwrap_or_default().to_string())
        .unwrap_or_default();
    let (st, c) = common::read(r);
    assert_eq!(st, 201, "{c}");
    assert_eq!(
        warnings,
        vec![
            (
                "mainAddressCity".to_string(),
                "mainAddressCity.postal_mismatch".to_string()
            ),
            (
                "activityCode".to_string(),
                "activityCode.unknown".to_string()
            ),
        ]
    );
    // The message, in the request's language, survives the header's ASCII escapes.
    let parsed: Json = serde_json::from_str(&raw).expect("json");
    assert_eq!(
        parsed[0]["message"],
        "Ville : « Lyon » n'est pas une commune de ce code postal (75001 → Paris; \
         Lyon → 69001, 69002, 69003, 69004, 69005, 69006, 69007, 69008 (+1))"
    );
    assert!(
        c.get("warnings").is_none(),
        "the body stays the customer object"
    );
    assert_eq!(c["mainAddressCity"], "Lyon", "stored as written");
    assert_eq!(c["activityLabel"], Json::Null);
    let id = c["id"].as_i64().expect("id");

    // Fixed: no header; the label of a real code.
    let r = s
        .req("PUT", &format!("/api/v1/customers/{id}"), &s.write)
        .json(&json!({"mainAddressPostalCode": "69003", "activityCode": "6110Z"}))
        .send()
        .expect("send");
    assert!(warnings_of(&r).is_empty());
    let (st, c) = common::read(r);
    assert_eq!(st, 200, "{c}");
    assert_eq!(c["activityLabel"], "Télécommunications filaires");
    let (_, shown) = s.get(&format!("/api/v1/customers/{id}"), &s.read);
    assert_eq!(shown["activityLabel"], "Télécommunications filaires");

    // Changing the postal code alone re-checks the stored city.
    let r = s
        .req("PATCH", &format!("/api/v1/customers/{id}"), &s.write)
        .json(&json!({"mainAddressPostalCode": "69000"}))
        .send()
        .expect("send");
    assert_eq!(
        warnings_of(&r),
        vec![(
            "mainAddressPostalCode".to_string(),
            "postalCode.unknown".to_string()
        )]
    );
    assert_eq!(r.status(), 200);

    // An error and a warning: 422 for the error, the warning listed beside it, nothing saved.
    let (st, e) = s.json(
        "PUT",
        &format!("/api/v1/customers/{id}"),
        &s.write,
        &json!({"mainAddressCity": "ST ETIENNE", "mainAddressPostalCode": "42000",
                "registrationNumber": "73282932000075"}),
    );
    assert_eq!(st, 422, "{e}");
    assert_eq!(
        e["codes"]["registrationNumber"],
        json!(["registrationNumber.checksum"])
    );
    assert_eq!(e["warnings"][0]["code"], "mainAddressCity.spelling", "{e}");
    let (_, shown) = s.get(&format!("/api/v1/customers/{id}"), &s.read);
    assert_eq!(shown["mainAddressPostalCode"], "69000", "nothing saved");

    // Foreign customers are not checked against the French lists.
    let r = s
        .req("POST", "/api/v1/customers", &s.write)
        .json(
            &json!({"name": "Bruxelles SA", "mainAddressPostalCode": "1000",
                      "mainAddressCity": "Bruxelles", "mainAddressCountry": "Belgique",
                      "activityCode": "62.02Z"}),
        )
        .send()
        .expect("send");
    assert!(warnings_of(&r).is_empty());
    assert_eq!(r.status(), 201);
}

// Every API test runs on SQLite and on PostgreSQL: `on_both!` (tests/common).

on_both!(
    version_needs_no_auth,
    login_with_credentials_in_the_query_string,
    bad_logins_are_401_then_rate_limited,
    create_with_the_sdk_body,
    validation_errors_have_the_laravel_shape_with_codes,
    update_patch_and_delete,
    the_sdk_paging_loop_sees_every_customer_once,
    hostile_input_is_a_clear_4xx_and_changes_nothing,
    scopes_401_and_403,
    contacts_crud_and_numbers,
    call_routing,
    pack_upload_dry_run_import_list_undo,
    every_route_is_described_in_openapi,
    official_lists_warn_without_breaking_clients,
    names_sort_in_french_order,
);

/// Sorting by name ignores accents and case ("Électricité" among the E), on both backends.
fn names_sort_in_french_order() {
    let s = TestServer::start();
    for name in [
        "Transports Zola",
        "Électricité Ouest",
        "eau Vive",
        "Zinc Bar",
        "Étoile",
    ] {
        let (code, body) = s.json(
            "POST",
            "/api/v1/customers",
            &s.write,
            &json!({"name": name}),
        );
        assert_eq!(code, 201, "{body}");
    }
    let names = |sort: &str| {
        let (code, p) = s.get(
            &format!("/api/v1/customers?sort={sort}&per_page=10"),
            &s.read,
        );
        assert_eq!(code, 200, "{p}");
        p["data"]
            .as_array()
            .expect("data")
            .iter()
            .map(|c| c["name"].as_str().unwrap_or_default().to_string())
            .collect::<Vec<_>>()
    };
    let expected = [
        "eau Vive",
        "Électricité Ouest",
        "Étoile",
        "Transports Zola",
        "Zinc Bar",
    ];
    assert_eq!(names("name"), expected);
    let mut reversed = expected;
    reversed.reverse();
    assert_eq!(names("-name"), reversed);
}
