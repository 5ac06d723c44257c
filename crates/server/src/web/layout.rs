//! The layout: the templates compiled into the binary, their filters and message function,
//! rendering a page, and the headers every page carries.

use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{Html, IntoResponse, Response};
use clientele_core::messages::{self, Arg};
use clientele_core::Lang;
use minijinja::value::Kwargs;
use minijinja::{Environment, Value};
use std::sync::OnceLock;

/// Headers of every page: no framing (clickjacking), no sniffing, no caching of customer
/// data by shared caches, no full URLs sent to other sites.
pub(super) async fn page_headers(mut r: Response) -> Response {
    add_page_headers(&mut r);
    r
}

/// The headers of `page_headers`, for HTML answered outside the page router (404).
pub fn add_page_headers(r: &mut Response) {
    let h = r.headers_mut();
    h.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    h.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    h.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("same-origin"),
    );
    h.insert(
        header::CONTENT_SECURITY_POLICY,
        // Inline style attributes draw the dashboard's bars; nothing else is inline.
        HeaderValue::from_static(
            "default-src 'self'; style-src 'self' 'unsafe-inline'; frame-ancestors 'none'; form-action 'self'",
        ),
    );
    h.entry(header::CACHE_CONTROL)
        .or_insert(HeaderValue::from_static("no-store"));
}

/// The templates' names and sources, compiled into the binary.
const TEMPLATES: [(&str, &str); 14] = [
    ("base.html", include_str!("../../templates/base.html")),
    ("login.html", include_str!("../../templates/login.html")),
    ("setup.html", include_str!("../../templates/setup.html")),
    ("error.html", include_str!("../../templates/error.html")),
    (
        "dashboard.html",
        include_str!("../../templates/dashboard.html"),
    ),
    ("import.html", include_str!("../../templates/import.html")),
    ("upload.html", include_str!("../../templates/upload.html")),
    ("fix.html", include_str!("../../templates/fix.html")),
    ("changes.html", include_str!("../../templates/changes.html")),
    ("imports.html", include_str!("../../templates/imports.html")),
    (
        "customers.html",
        include_str!("../../templates/customers.html"),
    ),
    (
        "customer.html",
        include_str!("../../templates/customer.html"),
    ),
    ("edit.html", include_str!("../../templates/edit.html")),
    ("tokens.html", include_str!("../../templates/tokens.html")),
];

/// The templates, compiled into the binary.
fn env() -> &'static Environment<'static> {
    static ENV: OnceLock<Environment<'static>> = OnceLock::new();
    ENV.get_or_init(|| {
        let mut env = Environment::new();
        for (name, src) in TEMPLATES {
            // The templates are part of the binary and covered by the browser tests: a
            // syntax error is a build defect, reported at the first page rendered.
            if let Err(e) = env.add_template(name, src) {
                tracing::error!("template {name}: {e}");
            }
        }
        // `t("id", n=3, name="x")`: message `id` of the catalogue in the page's language.
        env.add_function("t", message);
        env.add_filter("num", |n: i64| group_digits(n));
        env.add_filter("when", when);
        env.add_filter("size", size);
        env
    })
}

/// The template function `t`: a catalogue message ([`clientele_core::messages`]) in the
/// language of the page being rendered, its keyword arguments filling the placeholders
/// (numbers as numbers, so that they choose plurals).
fn message(state: &minijinja::State, id: &str, kwargs: Kwargs) -> Result<String, minijinja::Error> {
    let lang = page_lang(state);
    let mut args = Vec::new();
    for key in kwargs.args() {
        let v: Value = kwargs.get(key)?;
        let arg = match i64::try_from(v.clone()) {
            Ok(n) if v.is_number() => Arg::Num(n),
            _ => Arg::Text(v.to_string()),
        };
        args.push((key, arg));
    }
    Ok(messages::format(lang, id, &args))
}

/// The language of the page being rendered.
fn page_lang(state: &minijinja::State) -> Lang {
    match state.lookup("lang").as_ref().and_then(Value::as_str) {
        Some("en") => Lang::En,
        _ => Lang::Fr,
    }
}

/// The template filter `size`: a file size for people, in bytes under a kibibyte, else in
/// KiB or MiB with one decimal and the page language's decimal mark (`20,5 Kio`, `20.5 KiB`).
fn size(state: &minijinja::State, bytes: u64) -> String {
    file_size(page_lang(state), bytes)
}

fn file_size(lang: Lang, bytes: u64) -> String {
    const KIB: u64 = 1024;
    let (unit, div) = match bytes {
        b if b >= KIB * KIB => ("upload.mib", KIB * KIB),
        b if b >= KIB => ("upload.kib", KIB),
        b => {
            let n = i64::try_from(b).unwrap_or(i64::MAX);
            return format!(
                "{} {}",
                group_digits(n),
                messages::format(lang, "upload.bytes", &[("n", Arg::Num(n))])
            );
        }
    };
    // Tenths, rounded, in integers: no float formatting to localise.
    let tenths = (bytes * 10 + div / 2) / div;
    let whole = group_digits(i64::try_from(tenths / 10).unwrap_or(i64::MAX));
    let mark = if lang == Lang::Fr { ',' } else { '.' };
    format!(
        "{whole}{mark}{} {}",
        tenths % 10,
        messages::text(lang, unit)
    )
}

/// A stored UTC time as `<time>`: the page's script shows it in the viewer's time zone; without
/// script it reads `2024-01-02 03:04 UTC`.
fn when(t: Option<String>) -> Value {
    let Some(t) = t.filter(|t| !t.is_empty()) else {
        return Value::from("—");
    };
    let esc = |s: &str| {
        s.replace('&', "&amp;")
            .replace('<', "&lt;")
            .replace('>', "&gt;")
            .replace('"', "&quot;")
    };
    let shown: String = t.chars().take(16).collect::<String>().replace('T', " ");
    Value::from_safe_string(format!(
        "<time datetime=\"{}\">{} UTC</time>",
        esc(&t),
        esc(&shown)
    ))
}

/// `1234567` → `1 234 567` (French grouping, also readable in English).
fn group_digits(n: i64) -> String {
    let s = n.unsigned_abs().to_string();
    let mut out = String::with_capacity(s.len() + s.len() / 3 + 1);
    if n < 0 {
        out.push('-');
    }
    for (i, ch) in s.chars().enumerate() {
        if i > 0 && (s.len() - i).is_multiple_of(3) {
            out.push('\u{202f}');
        }
        out.push(ch);
    }
    out
}

/// Render a template to a response.
pub(super) fn render(name: &str, ctx: Value) -> Response {
    match env().get_template(name).and_then(|t| t.render(ctx)) {
        Ok(html) => Html(html).into_response(),
        Err(e) => {
            tracing::error!("rendering {name}: {e:#}");
            (StatusCode::INTERNAL_SERVER_ERROR, "Template error").into_response()
        }
    }
}

pub(super) fn lang_code(lang: Lang) -> &'static str {
    match lang {
        Lang::Fr => "fr",
        Lang::En => "en",
    }
}

pub(super) fn url_encode(s: &str) -> String {
    serde_urlencoded::to_string([("", s)])
        .map(|e| e.trim_start_matches('=').to_string())
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn digits_are_grouped() {
        assert_eq!(group_digits(0), "0");
        assert_eq!(group_digits(999), "999");
        assert_eq!(group_digits(1000), "1\u{202f}000");
        assert_eq!(group_digits(-1234567), "-1\u{202f}234\u{202f}567");
    }

    #[test]
    fn sizes_in_words() {
        assert_eq!(file_size(Lang::Fr, 1), "1 octet");
        assert_eq!(file_size(Lang::Fr, 1023), "1\u{202f}023 octets");
        assert_eq!(file_size(Lang::Fr, 1024), "1,0 Kio");
        assert_eq!(file_size(Lang::En, 20_996_813), "20.0 MiB");
        assert_eq!(file_size(Lang::Fr, 20_996_813), "20,0 Mio");
        assert_eq!(file_size(Lang::En, 1_048_575), "1\u{202f}024.0 KiB");
        assert_eq!(file_size(Lang::En, 1536), "1.5 KiB");
    }

    #[test]
    fn times_are_time_elements() {
        assert_eq!(
            when(Some("2024-01-02T03:04:05.000000Z".into())).to_string(),
            "<time datetime=\"2024-01-02T03:04:05.000000Z\">2024-01-02 03:04 UTC</time>"
        );
        assert_eq!(when(None).to_string(), "—");
        assert!(!when(Some("<b>".into())).to_string().contains("<b>"));
    }

    #[test]
    fn every_template_compiles() {
        for (name, _) in TEMPLATES {
            assert!(env().get_template(name).is_ok(), "{name} does not compile");
        }
    }

    /// Every `t("id")` of the templates and every message id written in this crate's Rust
    /// code names a message of the catalogue (a missing one would show its id on a page).
    #[test]
    fn every_message_id_exists() {
        let mut ids = Vec::new();
        for (name, src) in TEMPLATES {
            // A variable named `t` would hide the message function (a 500 on that page).
            assert!(
                !src.contains("for t in") && !src.contains("set t ="),
                "{name} shadows t()"
            );
            for part in src.split("t(\"").skip(1) {
                let id = part.split('"').next().unwrap_or_default();
                ids.push((name.to_string(), id.to_string()));
            }
        }
        let groups = [
            "common",
            "base",
            "customer",
            "customers",
            "dashboard",
            "edit",
            "error",
            "forms",
            "import",
            "imports",
            "login",
            "setup",
            "tokens",
            "upload",
        ];
        let src = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
        ids.extend(clientele_testkit::message_ids_in(&[src], |g, rest| {
            groups.contains(&g)
                && !rest.contains(['.', ' '])
                && !["html", "xlsx", "csv", "js", "css"].contains(&rest)
        }));
        assert!(ids.len() > 200, "{}", ids.len());
        for (file, id) in ids {
            // `error.title.` is completed by the status in error.html.
            if id.ends_with('.') {
                continue;
            }
            assert!(messages::exists(&id), "{file}: no message {id}");
        }
    }
}
