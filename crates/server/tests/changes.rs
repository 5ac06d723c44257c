//! The list of every change of an upload's updates (issue 14): paged and filtered on the
//! upload page through query parameters, downloaded whole as CSV and XLSX; a real server
//! over loopback, on SQLite and on PostgreSQL.

#[macro_use]
mod common;

use clientele_testkit::siret_vat;
use common::{http, login, upload_and_wait, TestServer};
use std::collections::BTreeSet;
use std::io::Read;

on_both!(every_change_is_listed_paged_and_downloadable);

/// Customers of the first import; the second pack updates each of them.
const CUSTOMERS: u32 = 260;

fn account(i: u32) -> String {
    format!("CL{i:04}")
}

/// The lines of the list shown on a page: (row, field, marked as an identity change).
fn shown(html: &str) -> Vec<(u32, String, bool)> {
    let Some(table) = html.split("id=\"changes-table\"").nth(1) else {
        return Vec::new();
    };
    let table = table.split("</table>").next().unwrap_or_default();
    table
        .split("<tr data-row=\"")
        .skip(1)
        .map(|tr| {
            let row = tr.split('"').next().unwrap_or_default();
            let field = tr
                .split("data-field=\"")
                .nth(1)
                .and_then(|f| f.split('"').next())
                .unwrap_or_default();
            let head = tr.split('>').next().unwrap_or_default();
            (
                row.parse().expect("row number"),
                field.to_string(),
                head.contains("class=\"identity\""),
            )
        })
        .collect()
}

fn every_change_is_listed_paged_and_downloadable() {
    let s = TestServer::start();
    // The base: CUSTOMERS customers, through the API.
    let mut first = String::from("Compte client;Raison sociale;SIRET;Ville\n");
    for i in 1..=CUSTOMERS {
        let (siret, _) = siret_vat(u64::from(i));
        first += &format!("{};Société {i};{siret};Paris\n", account(i));
    }
    let form = reqwest::blocking::multipart::Form::new().part(
        "file",
        reqwest::blocking::multipart::Part::bytes(first.into_bytes()).file_name("first.csv"),
    );
    let r: serde_json::Value = http()
        .post(s.url("/api/v1/imports"))
        .bearer_auth(&s.write)
        .multipart(form)
        .send()
        .expect("first import")
        .json()
        .expect("json");
    assert_eq!(r["imported"], true, "{r}");

    // Every customer moves to Lyon; the first three become other companies (name and
    // SIRET change); customer 100 is renamed with accents.
    let mut second = String::from("Compte client;Raison sociale;SIRET;Ville\n");
    for i in 1..=CUSTOMERS {
        let (siret, _) = siret_vat(u64::from(i));
        let (name, siret) = match i {
            1..=3 => (
                format!("Hôtel Martin {i}"),
                siret_vat(u64::from(i) + 5000).0,
            ),
            100 => ("Hôtel Lefèvre".to_string(), siret),
            _ => (format!("Société {i}"), siret),
        };
        second += &format!("{};{name};{siret};Lyon\n", account(i));
    }
    // Rows: the heading is row 1, customer i is on row i + 1.
    let lines = CUSTOMERS as usize + 3 * 2 + 1;

    let c = http();
    let (session, csrf) = login(&s, &c);
    let cookie = format!("clientele_session={session}");
    let page = upload_and_wait(&s, &c, &cookie, &csrf, "second.csv", second.as_bytes());
    let get = |query: &str| {
        let r = c
            .get(s.url(&format!("{page}{query}")))
            .header("Cookie", &cookie)
            .send()
            .expect("page");
        let status = r.status();
        let html = r.text().expect("html");
        assert_eq!(status, 200, "{query}: {html}");
        html
    };

    // The first page: 50 lines of the whole list, counted, with page numbers.
    let html = get("");
    assert!(html.contains("id=\"count-update\">260<"), "260 updates");
    let count = html
        .split("id=\"changes-count\">")
        .nth(1)
        .and_then(|t| t.split('<').next())
        .expect("count of changes");
    assert!(
        count.contains(&lines.to_string()) && count.contains("260"),
        "{count}"
    );
    let p1 = shown(&html);
    assert_eq!(p1.len(), 50);
    assert_eq!(p1[0].0, 2);
    assert!(
        html.contains("changes_page=6#changes"),
        "a link to the last page"
    );
    assert!(!html.contains("changes_page=7"), "six pages of 50");

    // Page 2: the next 50 lines, in file order (the first three customers had three lines
    // each, so page 1 ended with row 45).
    let p2 = shown(&get("?changes_page=2"));
    assert_eq!(p2.len(), 50);
    let rows: BTreeSet<u32> = p2.iter().map(|l| l.0).collect();
    assert_eq!(rows, (46..=95).collect::<BTreeSet<u32>>());
    // The last page holds the rest; past it, the last page again.
    assert_eq!(shown(&get("?changes_page=6")).len(), lines - 250);
    assert_eq!(shown(&get("?changes_page=99")).len(), lines - 250);

    // By field: the SIRETs changed on the first three rows only, each marked.
    let siret = shown(&get("?changes_field=registrationNumber"));
    assert_eq!(
        siret,
        vec![
            (2, "registrationNumber".to_string(), true),
            (3, "registrationNumber".to_string(), true),
            (4, "registrationNumber".to_string(), true)
        ]
    );
    // A field and a page: the city changed everywhere, the sixth page has the last ten.
    let html = get("?changes_field=mainAddressCity&changes_page=6");
    let city = shown(&html);
    assert_eq!(
        city.iter().map(|l| l.0).collect::<Vec<_>>(),
        (252..=261).collect::<Vec<u32>>()
    );
    assert!(
        html.contains("id=\"changes-matching\""),
        "the count of matches"
    );
    // Identity changes only: the three customers' lines.
    let identity = shown(&get("?changes_identity=1"));
    assert_eq!(identity.len(), 9);
    assert!(identity.iter().all(|l| l.2 && l.0 <= 4));
    // By text, case and accents ignored, in the account or the company name.
    let by_name = shown(&get("?changes_q=LEFEVRE"));
    assert_eq!(by_name.len(), 2);
    assert!(by_name.iter().all(|l| l.0 == 101));
    let by_account = shown(&get("?changes_q=cl0250"));
    assert_eq!(
        by_account,
        vec![(251, "mainAddressCity".to_string(), false)]
    );
    let none = get("?changes_q=nobody");
    assert!(shown(&none).is_empty() && none.contains("id=\"changes-none\""));

    // The CSV holds every change, in French by default, identity changes said.
    let r = c
        .get(s.url(&format!("{page}/changes.csv")))
        .header("Cookie", &cookie)
        .send()
        .expect("csv");
    assert_eq!(r.status(), 200);
    assert!(r.headers()["content-type"]
        .to_str()
        .is_ok_and(|t| t.starts_with("text/csv")));
    let csv = r.text().expect("csv text");
    let csv_lines: Vec<&str> = csv.split("\r\n").filter(|l| !l.is_empty()).collect();
    assert!(
        csv_lines[0].starts_with("\u{feff}Ligne;Compte client;"),
        "{}",
        csv_lines[0]
    );
    assert_eq!(csv_lines.len(), lines + 1);
    assert_eq!(
        csv_lines
            .iter()
            .filter(|l| l.contains(";Paris;Lyon;"))
            .count(),
        CUSTOMERS as usize
    );
    assert_eq!(csv_lines.iter().filter(|l| l.ends_with(";Oui")).count(), 9);
    assert!(csv_lines
        .iter()
        .any(|l| l.starts_with("101;CL0100;Société 100;Hôtel Lefèvre;name;")));

    // The workbook too: a heading row and one row per change.
    let r = c
        .get(s.url(&format!("{page}/changes.xlsx")))
        .header("Cookie", &cookie)
        .send()
        .expect("xlsx");
    assert_eq!(r.status(), 200);
    let bytes = r.bytes().expect("xlsx bytes");
    let mut zip = zip::ZipArchive::new(std::io::Cursor::new(bytes)).expect("a workbook");
    let mut sheet = String::new();
    zip.by_name("xl/worksheets/sheet1.xml")
        .expect("sheet")
        .read_to_string(&mut sheet)
        .expect("xml");
    assert_eq!(sheet.matches("<row ").count(), lines + 1);
    assert_eq!(sheet.matches(">Lyon<").count(), CUSTOMERS as usize);

    // Only for the upload's owner, signed in.
    let r = c
        .get(s.url(&format!("{page}/changes.csv")))
        .send()
        .expect("anonymous");
    assert_eq!(r.status(), 303);
}
