//! The API's input decoder (query string, urlencoded form, multipart form, JSON body):
//! no panic; a bad request is a 400 (or 413) with a message; the decoded fields, taken as
//! customer fields by their API keys, go through validation like a create request.
#![no_main]

use arbitrary::Arbitrary;
use axum::body::Bytes;
use axum::http::HeaderValue;
use clientele_core::catalogue::field_by_api_key;
use clientele_server::error::Error;
use clientele_server::input::{cell_of, decode};
use serde_json::Value as Json;

#[derive(Debug, Arbitrary)]
struct Request {
    query: Option<String>,
    content_type: ContentType,
    body: Vec<u8>,
}

#[derive(Debug, Arbitrary)]
enum ContentType {
    None,
    Json,
    Form,
    /// Boundary `XyZ`: the fuzzer can write parts that the parser splits.
    Multipart,
    Other(String),
}

libfuzzer_sys::fuzz_target!(|req: Request| {
    let ct = match &req.content_type {
        ContentType::None => None,
        ContentType::Json => Some(HeaderValue::from_static("application/json")),
        ContentType::Form => Some(HeaderValue::from_static(
            "application/x-www-form-urlencoded",
        )),
        ContentType::Multipart => Some(HeaderValue::from_static(
            "multipart/form-data; boundary=XyZ",
        )),
        ContentType::Other(s) => HeaderValue::from_str(s).ok(),
    };
    // Axum only hands a handler a query that is valid in a URI.
    let query = req
        .query
        .filter(|q| axum::http::Uri::try_from(format!("/api?{q}")).is_ok());
    let rt = tokio::runtime::Builder::new_current_thread()
        .build()
        .expect("a current-thread runtime needs no resources that can fail");
    let decoded = rt.block_on(decode(query.as_deref(), ct, Bytes::from(req.body)));
    match decoded {
        Ok(input) => {
            let mut cells: clientele_core::validate::Cells = std::array::from_fn(|_| None);
            for (k, v) in &input.map {
                let _ = input.text(k);
                if let (Some(f), Some(cell)) = (field_by_api_key(k), cell_of(v)) {
                    cells[f.idx()] = Some(cell);
                } else if !matches!(v, Json::Array(_) | Json::Object(_)) {
                    assert!(cell_of(v).is_some(), "{v:?}");
                }
            }
            clientele_fuzz::check_cells(cells);
        }
        Err(Error::BadRequest(msg)) => assert!(!msg.trim().is_empty()),
        Err(Error::PayloadTooLarge) => {}
        Err(other) => panic!("unexpected rejection: {other:?}"),
    }
});
