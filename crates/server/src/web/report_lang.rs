//! A stored report in the language of whoever reads it: the check or import report of an
//! upload is made once, in the language of the person who uploaded it, and kept as JSON
//! with each issue's code, value, field and detail; its messages are rendered again in the
//! page's language when that is another one.

use clientele_core::issue::{render_stored, DetailMessage, Stored};
use clientele_core::Lang;
use serde_json::{json, Value as Jv};

/// The key of a stored report that records the language it was made in.
const LANG_KEY: &str = "lang";

/// `fr` or `en`.
fn code(lang: Lang) -> &'static str {
    match lang {
        Lang::Fr => "fr",
        Lang::En => "en",
    }
}

/// Record the language a report was made in, before it is stored.
pub(super) fn record(report: &mut Jv, lang: Lang) {
    if report.is_object() {
        report[LANG_KEY] = json!(code(lang));
    }
}

/// The report's messages in `lang`: each issue's, and why an import was refused. A report
/// made in `lang`, or before its language was recorded (whose issues may lack their
/// details), is left as it is; so is a message its report does not keep enough to render.
pub(super) fn translate(report: &mut Jv, lang: Lang) {
    match report[LANG_KEY].as_str() {
        Some(made_in) if made_in != code(lang) => {}
        _ => return,
    }
    let clients_sheet = report["sheet"].as_str().map(str::to_string);
    if let Some(issues) = report["issues"].as_array_mut() {
        for issue in issues {
            let detail_message: Option<DetailMessage> =
                serde_json::from_value(issue["detailMessage"].clone()).ok();
            // An issue of another sheet than the report's is one of the Contacts tab.
            let contact = issue["sheet"]
                .as_str()
                .is_some_and(|s| Some(s) != clients_sheet.as_deref());
            let stored = Stored {
                code: issue["code"].as_str().unwrap_or_default(),
                field: issue["field"].as_str(),
                contact,
                value: issue["value"].as_str().unwrap_or_default(),
                detail: issue["detail"].as_str(),
                detail_message: detail_message.as_ref(),
            };
            if let Some(message) = render_stored(&stored, lang) {
                issue["message"] = json!(message);
            }
        }
    }
    if report["refused"].is_string() {
        let n = report["identityChanges"].as_u64().unwrap_or(0);
        report["refused"] = json!(clientele_import::identity_refusal(n, lang));
    }
    report[LANG_KEY] = json!(code(lang));
}
