//! One error type for every handler, rendered in the Laravel shapes of the BlueRockTEL API.

use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use clientele_core::issue::{FieldIssue, Lang, Severity};
use clientele_store::StoreError;
use serde_json::{json, Map, Value as Json};

/// A 422 body: the first message, and messages and codes by key.
#[derive(Debug, Default, Clone)]
pub struct Invalid {
    errors: Map<String, Json>,
    codes: Map<String, Json>,
    warnings: Vec<Json>,
    first: Option<String>,
}

impl Invalid {
    /// No errors yet.
    pub fn new() -> Invalid {
        Invalid::default()
    }
    /// One error on `key`.
    pub fn one(key: &str, code: &str, message: &str) -> Invalid {
        let mut i = Invalid::new();
        i.push(key, code, message);
        i
    }
    /// Add an error.
    pub fn push(&mut self, key: &str, code: &str, message: &str) {
        if self.first.is_none() {
            self.first = Some(message.to_string());
        }
        push_to(&mut self.errors, key, message);
        push_to(&mut self.codes, key, code);
    }
    /// Add a warning (reported beside the errors, never blocking).
    pub fn warn(&mut self, key: &str, code: &str, message: &str) {
        self.warnings
            .push(json!({"key": key, "code": code, "message": message}));
    }
    /// Add customer field issues (errors as errors, warnings as warnings), keyed by API key.
    pub fn field_issues(&mut self, issues: &[FieldIssue], lang: Lang) {
        for i in issues {
            let key = i.field.def().api_key;
            match i.severity() {
                Severity::Error => self.push(key, &i.code(), &i.message(lang)),
                Severity::Warning => self.warn(key, &i.code(), &i.message(lang)),
            }
        }
    }
    /// Error messages by key.
    pub fn errors(&self) -> &Map<String, Json> {
        &self.errors
    }
    /// Warnings (`key`, `code`, `message` objects).
    pub fn warnings(&self) -> &[Json] {
        &self.warnings
    }
    /// Whether there is any error.
    pub fn is_empty(&self) -> bool {
        self.first.is_none()
    }
    /// `Err(Error::Invalid)` when there are errors.
    pub fn check(self) -> Result<(), Error> {
        if self.is_empty() {
            Ok(())
        } else {
            Err(Error::Invalid(Box::new(self)))
        }
    }
    fn body(&self) -> Json {
        let mut m = Map::new();
        m.insert(
            "message".into(),
            json!(self
                .first
                .clone()
                .unwrap_or_else(|| "The given data was invalid.".into())),
        );
        m.insert("errors".into(), Json::Object(self.errors.clone()));
        m.insert("codes".into(), Json::Object(self.codes.clone()));
        if !self.warnings.is_empty() {
            m.insert("warnings".into(), Json::Array(self.warnings.clone()));
        }
        Json::Object(m)
    }
}

fn push_to(m: &mut Map<String, Json>, key: &str, v: &str) {
    match m.get_mut(key) {
        Some(Json::Array(a)) => a.push(json!(v)),
        _ => {
            m.insert(key.to_string(), json!([v]));
        }
    }
}

/// Every way a request can fail.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// 401: no or unknown token.
    #[error("Unauthenticated.")]
    Unauthenticated,
    /// 403: the token's scope or network does not allow this.
    #[error("This action is unauthorized.")]
    Forbidden,
    /// 404 `{"message":"Not found."}`.
    #[error("Not found.")]
    NotFound,
    /// 404 of the routing routes: `{"message":"not found"}`, or `0` in raw format.
    #[error("not found")]
    RoutingNotFound {
        /// Plain text answer.
        raw: bool,
    },
    /// 404 of `contacts/numbers`.
    #[error("Contact not found")]
    ContactNotFound,
    /// 400: the request cannot be read (malformed JSON, bad query string…).
    #[error("{0}")]
    BadRequest(String),
    /// 413: the body is larger than allowed.
    #[error("Payload too large.")]
    PayloadTooLarge,
    /// 409: the request conflicts with the current state.
    #[error("{0}")]
    Conflict(String),
    /// 422 with field errors.
    #[error("The given data was invalid.")]
    Invalid(Box<Invalid>),
    /// 422 with a ready-made body (import reports).
    #[error("Unprocessable")]
    Unprocessable(Json),
    /// 429 on login (the web pages show their own page for it).
    #[error("Too Many Attempts.")]
    TooManyAttempts,
    /// 429 on login with the seconds to wait, sent as `Retry-After`.
    #[error("Too Many Attempts.")]
    Throttled {
        /// Seconds until the next attempt may succeed.
        retry_after: u64,
    },
    /// 503: the job queue (checks, imports, workbooks) is full.
    #[error("The server is busy with other checks and imports: retry in a few seconds.")]
    Busy {
        /// Jobs waiting.
        waiting: usize,
    },
    /// 500: the database or the server failed. The cause is kept as the error's source, for
    /// the log line (the client only reads "Server Error").
    #[error("internal error")]
    Internal(#[source] Box<dyn std::error::Error + Send + Sync>),
}

impl Error {
    /// A 500 caused by `cause` (an error, or a message when there is no error value).
    pub fn internal(cause: impl Into<Box<dyn std::error::Error + Send + Sync>>) -> Error {
        Error::Internal(cause.into())
    }
}

/// An error and its causes on one line (`a: b: c`), for logs. A cause whose text its
/// wrapper already shows (`database error: {0}`) is not repeated.
pub fn chain(e: &(dyn std::error::Error + 'static)) -> String {
    let mut out = e.to_string();
    let mut next = e.source();
    while let Some(cause) = next {
        let text = cause.to_string();
        if !out.ends_with(&text) {
            out.push_str(": ");
            out.push_str(&text);
        }
        next = cause.source();
    }
    out
}

impl From<StoreError> for Error {
    fn from(e: StoreError) -> Self {
        match e {
            StoreError::NotFound => Error::NotFound,
            StoreError::Conflict(m) | StoreError::Refused(m) => Error::Conflict(m),
            // The whole store error is the cause: its source chain reaches the driver.
            e @ (StoreError::Db(_) | StoreError::Io(_)) => Error::Internal(Box::new(e)),
        }
    }
}

fn json_response(status: StatusCode, body: Json) -> Response {
    (
        status,
        [(header::CONTENT_TYPE, "application/json")],
        body.to_string(),
    )
        .into_response()
}

impl IntoResponse for Error {
    fn into_response(self) -> Response {
        match self {
            Error::Unauthenticated => json_response(
                StatusCode::UNAUTHORIZED,
                json!({"message": "Unauthenticated."}),
            ),
            Error::Forbidden => json_response(
                StatusCode::FORBIDDEN,
                json!({"message": "This action is unauthorized."}),
            ),
            Error::NotFound => {
                json_response(StatusCode::NOT_FOUND, json!({"message": "Not found."}))
            }
            Error::RoutingNotFound { raw: true } => (
                StatusCode::NOT_FOUND,
                [(header::CONTENT_TYPE, "text/plain; charset=utf-8")],
                "0",
            )
                .into_response(),
            Error::RoutingNotFound { raw: false } => {
                json_response(StatusCode::NOT_FOUND, json!({"message": "not found"}))
            }
            Error::ContactNotFound => json_response(
                StatusCode::NOT_FOUND,
                json!({"response": "Contact not found"}),
            ),
            Error::BadRequest(m) => json_response(StatusCode::BAD_REQUEST, json!({ "message": m })),
            Error::PayloadTooLarge => json_response(
                StatusCode::PAYLOAD_TOO_LARGE,
                json!({"message": "The request body is too large."}),
            ),
            Error::Conflict(m) => json_response(StatusCode::CONFLICT, json!({ "message": m })),
            Error::Invalid(i) => json_response(StatusCode::UNPROCESSABLE_ENTITY, i.body()),
            Error::Unprocessable(body) => json_response(StatusCode::UNPROCESSABLE_ENTITY, body),
            Error::TooManyAttempts => json_response(
                StatusCode::TOO_MANY_REQUESTS,
                json!({"message": "Too Many Attempts."}),
            ),
            Error::Throttled { retry_after } => {
                let mut r = Error::TooManyAttempts.into_response();
                r.headers_mut()
                    .insert(header::RETRY_AFTER, HeaderValue::from(retry_after));
                r
            }
            Error::Busy { waiting } => {
                let mut r = json_response(
                    StatusCode::SERVICE_UNAVAILABLE,
                    json!({"message": "The server is busy with other checks and imports: retry in a few seconds.", "waiting": waiting}),
                );
                r.headers_mut()
                    .insert(header::RETRY_AFTER, HeaderValue::from_static("5"));
                r
            }
            Error::Internal(cause) => {
                tracing::error!("internal error: {}", chain(cause.as_ref()));
                json_response(
                    StatusCode::INTERNAL_SERVER_ERROR,
                    json!({"message": "Server Error"}),
                )
            }
        }
    }
}

/// Result of a handler.
pub type ApiResult<T> = Result<T, Error>;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn internal_errors_keep_their_cause() {
        let io = std::io::Error::other("disk full");
        let e = Error::from(StoreError::Io(io));
        let source = std::error::Error::source(&e).expect("a source");
        assert_eq!(chain(&e), "internal error: disk full");
        assert!(source.downcast_ref::<StoreError>().is_some());
        let db = Error::from(StoreError::db("connection refused"));
        assert_eq!(
            chain(&db),
            "internal error: database error: connection refused"
        );
        // The answer stays the same whatever the cause.
        let r = db.into_response();
        assert_eq!(r.status(), StatusCode::INTERNAL_SERVER_ERROR);
    }
}
