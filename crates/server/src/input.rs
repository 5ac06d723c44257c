//! Lenient request input: query string, form body (urlencoded or multipart) and JSON body
//! merged into one map (the body wins), as the BlueRockTEL clients send fields in any of them.

use crate::error::Error;
use crate::state::ApiContext;
use axum::body::{Body, Bytes};
use axum::extract::multipart::MultipartError;
use axum::extract::{FromRequest, Multipart, Request};
use axum::http::{header, HeaderValue};
use clientele_core::validate::Cell;
use serde_json::{Map, Value as Json};

/// The merged input of a request.
#[derive(Debug, Default, Clone)]
pub struct Input {
    /// Keys and values; query-string and form values are JSON strings.
    pub map: Map<String, Json>,
}

impl Input {
    /// A value, when present.
    pub fn get(&self, key: &str) -> Option<&Json> {
        self.map.get(key)
    }
    /// A value as text (numbers and booleans written out); `None` when absent or null.
    pub fn text(&self, key: &str) -> Option<String> {
        match self.map.get(key)? {
            Json::String(s) => Some(s.clone()),
            Json::Number(n) => Some(n.to_string()),
            Json::Bool(b) => Some(b.to_string()),
            _ => None,
        }
    }
    /// The first present of several keys, as text.
    pub fn first_text(&self, keys: &[&str]) -> Option<String> {
        keys.iter().find_map(|k| self.text(k))
    }
}

/// Parse a query string into the map (a repeated key is a 400).
pub fn parse_pairs(s: &[u8], into: &mut Map<String, Json>) -> Result<(), Error> {
    parse_urlencoded(s, into, "query string")
}

/// Parse `application/x-www-form-urlencoded` text (a query string or a form body, named
/// by `what` in errors) into the map. Bytes that are not UTF-8 are a 400,
/// as in a JSON body: decoders that replace them with U+FFFD would store garbage.
///
/// A key given twice in one source (`?page=1&page=2`) is a 400 that names it: which one was
/// meant cannot be known, and answering either would hide the client's bug. Keys ending in
/// `[]` are lists by PHP's convention and may repeat.
fn parse_urlencoded(s: &[u8], into: &mut Map<String, Json>, what: &str) -> Result<(), Error> {
    let mut seen = std::collections::HashSet::new();
    for (k, v) in urlencoded_pairs(s, what)? {
        if !k.ends_with("[]") && !seen.insert(k.clone()) {
            return Err(Error::BadRequest(format!(
                "Malformed {what}: `{}` is given more than once.",
                k.chars().take(100).collect::<String>()
            )));
        }
        into.insert(k, Json::String(v));
    }
    Ok(())
}

/// The decoded pairs of a query string, in order.
pub fn query_pairs(q: &str) -> Result<Vec<(String, String)>, Error> {
    urlencoded_pairs(q.as_bytes(), "query string")
}

/// Split and decode urlencoded text into its pairs, in order.
fn urlencoded_pairs(s: &[u8], what: &str) -> Result<Vec<(String, String)>, Error> {
    let mut pairs = Vec::new();
    for pair in s.split(|b| *b == b'&').filter(|p| !p.is_empty()) {
        let (k, v) = match pair.iter().position(|b| *b == b'=') {
            Some(i) => (&pair[..i], &pair[i + 1..]),
            None => (pair, &pair[pair.len()..]),
        };
        let key = decode_component(k).ok_or_else(|| {
            Error::BadRequest(format!("Malformed {what}: a key is not valid UTF-8."))
        })?;
        let value = decode_component(v).ok_or_else(|| {
            Error::BadRequest(format!(
                "Malformed {what}: the value of `{key}` is not valid UTF-8."
            ))
        })?;
        pairs.push((key, value));
    }
    Ok(pairs)
}

/// Decode one urlencoded key or value (`+` is a space, `%XX` a byte; a `%` not followed by
/// two hex digits stays as it is); `None` when the bytes are not UTF-8.
fn decode_component(raw: &[u8]) -> Option<String> {
    // `+` is a space in a form; then strict percent-decoding (form_urlencoded's own
    // decoder replaces bad bytes with U+FFFD instead of failing).
    let spaced: Vec<u8> = raw
        .iter()
        .map(|&b| if b == b'+' { b' ' } else { b })
        .collect();
    percent_encoding::percent_decode(&spaced)
        .decode_utf8()
        .ok()
        .map(std::borrow::Cow::into_owned)
}

/// Merge a body into the map by its content type.
fn merge_body(content_type: &str, body: &[u8], into: &mut Map<String, Json>) -> Result<(), Error> {
    let trimmed = body.trim_ascii();
    if trimmed.is_empty() {
        return Ok(());
    }
    let looks_json = matches!(trimmed.first(), Some(b'{' | b'['));
    if content_type.starts_with("application/x-www-form-urlencoded")
        || (!content_type.contains("json") && !looks_json)
    {
        return parse_urlencoded(trimmed, into, "form body");
    }
    let v: Json = serde_json::from_slice(trimmed)
        .map_err(|e| Error::BadRequest(format!("Malformed JSON body: {e}")))?;
    match v {
        Json::Object(m) => {
            into.extend(m);
            Ok(())
        }
        // Clients send `[]` with a DELETE (and sometimes a GET).
        Json::Array(a) if a.is_empty() => Ok(()),
        _ => Err(Error::BadRequest("The JSON body must be an object.".into())),
    }
}

/// Merge the text fields of a multipart body into the map (later fields win). File parts
/// have no place in these endpoints and are skipped, as unknown keys are.
async fn merge_multipart(
    content_type: HeaderValue,
    body: Bytes,
    into: &mut Map<String, Json>,
) -> Result<(), Error> {
    let mut req = Request::new(Body::from(body));
    req.headers_mut().insert(header::CONTENT_TYPE, content_type);
    // The multipart extractor needs no state; the body was already read within the limit.
    let mut mp = Multipart::from_request(req, &())
        .await
        .map_err(|e| Error::BadRequest(format!("Malformed multipart body: {}", e.body_text())))?;
    let failed = |e: MultipartError| match e.status().as_u16() {
        413 => Error::PayloadTooLarge,
        _ => Error::BadRequest(format!("Malformed multipart body: {}", e.body_text())),
    };
    while let Some(field) = mp.next_field().await.map_err(failed)? {
        if field.file_name().is_some() {
            continue;
        }
        let Some(name) = field.name().map(str::to_string) else {
            continue;
        };
        let bytes = field.bytes().await.map_err(failed)?;
        // `Field::text` would replace bad bytes with U+FFFD and store them.
        let value = String::from_utf8(bytes.to_vec()).map_err(|_| {
            Error::BadRequest(format!(
                "Malformed multipart body: the value of `{name}` is not valid UTF-8."
            ))
        })?;
        into.insert(name, Json::String(value));
    }
    Ok(())
}

impl FromRequest<ApiContext> for Input {
    type Rejection = Error;

    async fn from_request(req: Request, state: &ApiContext) -> Result<Self, Self::Rejection> {
        let query = req.uri().query().map(str::to_string);
        let content_type = req.headers().get(header::CONTENT_TYPE).cloned();
        let body =
            Bytes::from_request(req, state)
                .await
                .map_err(|e| match e.status().as_u16() {
                    413 => Error::PayloadTooLarge,
                    _ => Error::BadRequest(e.body_text()),
                })?;
        decode(query.as_deref(), content_type, body).await
    }
}

/// Decode a request's input from its query string, content type and (already read) body:
/// what [`Input`]'s extractor does once the body is in memory (also the fuzz target's entry).
pub async fn decode(
    query: Option<&str>,
    content_type: Option<HeaderValue>,
    body: Bytes,
) -> Result<Input, Error> {
    let mut map = Map::new();
    if let Some(q) = query {
        parse_pairs(q.as_bytes(), &mut map)?;
    }
    let ct = content_type
        .as_ref()
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_ascii_lowercase();
    match content_type {
        // PBX tools and Laravel clients post multipart forms (`curl -F`). An empty body
        // is no fields, as with the other content types.
        Some(v) if ct.starts_with("multipart/form-data") => {
            if !body.trim_ascii().is_empty() {
                merge_multipart(v, body, &mut map).await?;
            }
        }
        _ => merge_body(&ct, &body, &mut map)?,
    }
    Ok(Input { map })
}

/// A JSON input value as a raw cell (`None`: not a single value).
pub fn cell_of(v: &Json) -> Option<Cell> {
    Some(match v {
        Json::Null => Cell::Empty,
        Json::String(s) => Cell::Text(s.as_str().into()),
        Json::Bool(b) => Cell::Bool(*b),
        Json::Number(n) => match n.as_i64() {
            Some(i) => Cell::Int(i),
            None => Cell::Float(n.as_f64().unwrap_or(f64::NAN)),
        },
        Json::Array(_) | Json::Object(_) => return None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bodies_merge() {
        let mut m = Map::new();
        parse_pairs(b"name=A&filter%5Bname%5D=x", &mut m).expect("query");
        merge_body(
            "application/json",
            br#"{"name":"B","brand_id":"1"}"#,
            &mut m,
        )
        .expect("json");
        assert_eq!(m["name"], Json::String("B".into()));
        assert_eq!(m["filter[name]"], Json::String("x".into()));
        merge_body("application/json", b"[]", &mut m).expect("empty array");
        merge_body("application/x-www-form-urlencoded", b"vip=1", &mut m).expect("form");
        assert_eq!(m["vip"], Json::String("1".into()));
        assert!(matches!(
            merge_body("application/json", b"{\"a\":", &mut m),
            Err(Error::BadRequest(_))
        ));
        assert!(matches!(
            merge_body("application/json", b"[1]", &mut m),
            Err(Error::BadRequest(_))
        ));
        assert!(matches!(
            merge_body("application/json", b"42", &mut m),
            Err(Error::BadRequest(_))
        ));
    }

    #[test]
    fn urlencoded_must_be_utf8() {
        let mut m = Map::new();
        parse_pairs(
            b"a=caf%C3%A9+au+lait&b&c=100%&d=%zz&e=%C3%A9t%C3%A9",
            &mut m,
        )
        .expect("ok");
        assert_eq!(m["a"], Json::String("café au lait".into()));
        assert_eq!(m["b"], Json::String(String::new()));
        assert_eq!(m["c"], Json::String("100%".into()));
        assert_eq!(m["d"], Json::String("%zz".into()));
        assert_eq!(m["e"], Json::String("été".into()));
        for bad in [&b"name=bad%FF%FE"[..], b"n%FF=1", b"name=bad\xff"] {
            assert!(matches!(
                parse_pairs(bad, &mut m),
                Err(Error::BadRequest(msg)) if msg.contains("UTF-8")
            ));
        }
    }

    #[test]
    fn cells() {
        assert_eq!(cell_of(&serde_json::json!(83210)), Some(Cell::Int(83210)));
        assert_eq!(cell_of(&serde_json::json!(1.5)), Some(Cell::Float(1.5)));
        assert_eq!(cell_of(&Json::Null), Some(Cell::Empty));
        assert_eq!(cell_of(&serde_json::json!([1])), None);
    }
}
