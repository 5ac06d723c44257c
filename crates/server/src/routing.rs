//! The call-routing routes for PBX call flows: answered from the in-memory index only.

use crate::auth::Lookup;
use crate::error::{ApiResult, Error, Invalid};
use crate::index::{Answer, ContactNames, Flags};
use crate::input::Input;
use crate::state::ApiContext;
use axum::extract::State;
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use serde_json::json;

#[derive(Clone, Copy, PartialEq, Eq)]
enum Key {
    Phone,
    Account,
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Ask {
    Known,
    Vip,
    OnCall,
}

fn truthy(v: Option<String>) -> bool {
    v.is_some_and(|s| {
        matches!(
            s.trim().to_ascii_lowercase().as_str(),
            "1" | "true" | "yes" | "on"
        )
    })
}

fn text(status: StatusCode, body: String) -> Response {
    (
        status,
        [(header::CONTENT_TYPE, "text/plain; charset=utf-8")],
        body,
    )
        .into_response()
}

fn json_body(status: StatusCode, body: &'static str) -> Response {
    (status, [(header::CONTENT_TYPE, "application/json")], body).into_response()
}

/// Seconds a PBX is asked to wait while the index loads (a full load takes about that).
const RETRY_AFTER: &str = "2";

/// The answer while the index is still loading: 503 with `Retry-After`, never "unknown"
/// for a number that is merely not loaded yet.
fn not_ready() -> Response {
    (
        StatusCode::SERVICE_UNAVAILABLE,
        [(header::RETRY_AFTER, RETRY_AFTER)],
        axum::Json(json!({"message": "The routing index is loading; retry shortly."})),
    )
        .into_response()
}

/// What a route needs of a match: the flags always, the whole answer only for details.
struct Found {
    flags: Flags,
    answer: Option<Answer>,
}

/// Look the caller up; `whole`: build the answer (account and name strings), which the
/// flag routes do not need.
fn find(state: &ApiContext, input: &Input, key: Key, whole: bool) -> ApiResult<Option<Found>> {
    let text = match key {
        Key::Phone => {
            let Some(n) = input
                .first_text(&["phoneNumber", "number", "phone_number"])
                .filter(|s| !s.trim().is_empty())
            else {
                return Err(Error::Invalid(Box::new(Invalid::one(
                    "phoneNumber",
                    "phoneNumber.required",
                    "The phone number field is required.",
                ))));
            };
            n
        }
        Key::Account => {
            let Some(a) = input
                .first_text(&["customerAccount", "customer_account", "account"])
                .filter(|s| !s.trim().is_empty())
            else {
                return Err(Error::Invalid(Box::new(Invalid::one(
                    "customerAccount",
                    "customerAccount.required",
                    "The customer account field is required.",
                ))));
            };
            a
        }
    };
    let ix = state.index();
    let hit = match key {
        Key::Phone => ix.hit_by_phone(&text),
        Key::Account => ix.hit_by_account(&text),
    };
    Ok(hit.map(|h| Found {
        flags: ix.flags(h),
        answer: whole.then(|| ix.answer_of(h)),
    }))
}

/// The matched contact's names for `details=1`, read from the database: the index holds
/// no contact names (issue 18). A contact deleted meanwhile, or a database that does not
/// answer, leaves them out rather than failing the call: the routing facts come from the
/// index and stay right.
async fn contact_names(state: &ApiContext, a: &Answer) -> ContactNames {
    let Some(id) = a.contact else {
        return ContactNames::default();
    };
    match state.db(move |s| ContactNames::read(s, id)).await {
        Ok(names) => names,
        Err(e) => {
            tracing::warn!(
                contact = id,
                "routing details without the contact's names: {e}"
            );
            ContactNames::default()
        }
    }
}

async fn details_of(state: &ApiContext, a: &Answer) -> serde_json::Value {
    a.details(&contact_names(state, a).await)
}

async fn answer(state: &ApiContext, input: &Input, key: Key, ask: Ask) -> ApiResult<Response> {
    if !state.index_loaded() {
        return Ok(not_ready());
    }
    let raw = input
        .text("format")
        .is_some_and(|f| f.eq_ignore_ascii_case("raw"));
    let details = truthy(input.text("details"));
    let found = find(state, input, key, details && !raw)?;
    let value = match (&found, ask) {
        (Some(_), Ask::Known) => true,
        (None, Ask::Known) => false,
        (Some(f), Ask::Vip) => f.flags.vip,
        (Some(f), Ask::OnCall) => f.flags.on_call,
        (None, _) => {
            if details && !raw {
                return Ok((
                    StatusCode::NOT_FOUND,
                    axum::Json(json!({"known": false, "message": "not found"})),
                )
                    .into_response());
            }
            return Err(Error::RoutingNotFound { raw });
        }
    };
    if raw {
        return Ok(text(StatusCode::OK, if value { "1" } else { "0" }.into()));
    }
    if details {
        let body = match found.and_then(|f| f.answer) {
            Some(a) => details_of(state, &a).await,
            None => json!({"known": false}),
        };
        return Ok(axum::Json(body).into_response());
    }
    Ok(json_body(
        StatusCode::OK,
        if value { "true" } else { "false" },
    ))
}

macro_rules! route {
    ($name:ident, $path:literal, $key:expr, $ask:expr, $param:literal, $doc:literal) => {
        #[doc = $doc]
        #[utoipa::path(method(get, post), path = $path, tag = "routing",
            params(($param = String, Query, description = "Also accepted in a form or JSON body"),
                   ("format" = Option<String>, Query, description = "`raw`: text/plain `1` or `0`"),
                   ("details" = Option<String>, Query, description = "`1`: a JSON object {known, customerAccount, name, vip, onCallDuty, contact}"),
                   ("api_token" = Option<String>, Query, description = "A lookup token, for dialplans that cannot set headers")),
            responses((status = 200, description = "The JSON literal `true` or `false`", body = bool, content_type = "application/json"),
                      (status = 400, description = "Malformed request: a query string or form that is not UTF-8, malformed JSON or multipart"), (status = 401), (status = 403), (status = 404, description = "Unknown (VIP and on-call routes): `{\"message\":\"not found\"}`"),
                      (status = 422, description = "Missing parameter"),
                      (status = 503, description = "The routing index is still loading (after a start or restart): `Retry-After` seconds, `{\"message\":…}`")),
            security(("bearer" = []), ("api_token" = [])))]
        pub async fn $name(_: Lookup, State(state): State<ApiContext>, input: Input) -> ApiResult<Response> {
            answer(&state, &input, $key, $ask).await
        }
    };
}

route!(
    is_known_phone_number,
    "/api/isKnownPhoneNumber",
    Key::Phone,
    Ask::Known,
    "phoneNumber",
    "Whether a number belongs to an active customer or one of its contacts."
);
route!(
    is_known_customer_account,
    "/api/isKnownCustomerAccount",
    Key::Account,
    Ask::Known,
    "customerAccount",
    "Whether an account (whole, or its digits only) belongs to an active customer."
);
route!(
    is_vip_by_phone_number,
    "/api/isVipByPhoneNumber",
    Key::Phone,
    Ask::Vip,
    "phoneNumber",
    "The VIP flag of the customer a number belongs to."
);
route!(
    is_vip_by_customer_account,
    "/api/isVipByCustomerAccount",
    Key::Account,
    Ask::Vip,
    "customerAccount",
    "The VIP flag of a customer by account."
);
route!(
    has_on_call_duty_by_phone_number,
    "/api/hasOnCallDutyContractByPhoneNumber",
    Key::Phone,
    Ask::OnCall,
    "phoneNumber",
    "Whether the customer a number belongs to has an on-call contract."
);
route!(
    has_on_call_duty_by_customer_account,
    "/api/hasOnCallDutyContractByCustomerAccount",
    Key::Account,
    Ask::OnCall,
    "customerAccount",
    "Whether a customer has an on-call contract, by account."
);

/// The caller's display name for a dialplan: `<name>` with ` [VIP]` and ` [ASTREINTE]`.
#[utoipa::path(method(get, post), path = "/api/callerId", tag = "routing",
    params(("phoneNumber" = String, Query, description = "Caller number (also `number`)"),
           ("format" = Option<String>, Query, description = "`json`: the details object"),
           ("api_token" = Option<String>, Query, description = "A lookup token")),
    responses((status = 200, description = "Plain text name", body = String, content_type = "text/plain"),
              (status = 404, description = "Unknown: empty body"), (status = 400, description = "Malformed request: a query string or form that is not UTF-8, malformed JSON or multipart"), (status = 401), (status = 403), (status = 422),
              (status = 503, description = "The routing index is still loading: `Retry-After`")),
    security(("bearer" = []), ("api_token" = [])))]
pub async fn caller_id(
    _: Lookup,
    State(state): State<ApiContext>,
    input: Input,
) -> ApiResult<Response> {
    if !state.index_loaded() {
        return Ok(not_ready());
    }
    let as_json = input
        .text("format")
        .is_some_and(|f| f.eq_ignore_ascii_case("json"))
        || truthy(input.text("details"));
    let answer = find(&state, &input, Key::Phone, true)?.and_then(|f| f.answer);
    Ok(match (answer, as_json) {
        (Some(a), false) => text(StatusCode::OK, a.caller_id()),
        (Some(a), true) => axum::Json(details_of(&state, &a).await).into_response(),
        (None, false) => text(StatusCode::NOT_FOUND, String::new()),
        (None, true) => {
            (StatusCode::NOT_FOUND, axum::Json(json!({"known": false}))).into_response()
        }
    })
}
