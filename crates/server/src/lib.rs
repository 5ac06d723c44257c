//! Clientèle's HTTP server: the REST API wire-compatible with the BlueRockTEL admin API
//! (customers, contacts, login), the call-routing routes for PBX call flows, pack uploads,
//! and the OpenAPI description generated from the handlers.
//!
//! One module per resource; one [`error::Error`] that renders the Laravel shapes; the
//! handlers share an [`ApiContext`]. The router is built from the handlers' OpenAPI
//! annotations (`utoipa-axum`), so a route cannot exist without being described.

//!
//! Modules depend one way, leaves first (none imports a module above it):
//! - leaves: [`error`], [`index`], [`jobs`] (work queues, running web jobs), [`throttle`],
//!   `tokens` (the token cache), `telemetry` (metric names), [`password`], `linger`;
//! - [`state`] (holds the leaves), then [`net`], [`input`] and `extract`;
//! - [`auth`], [`ops`], then the resources ([`customers`], [`contacts`], [`imports`],
//!   [`routing`]), then [`web`]; this root assembles the router.

pub mod auth;
pub mod contacts;
pub mod customers;
pub mod error;
mod extract;
pub mod imports;
pub mod index;
pub mod input;
pub mod jobs;
mod linger;
pub mod net;
pub mod ops;
pub mod password;
pub mod routing;
pub mod state;
mod telemetry;
pub mod throttle;
mod tokens;
pub mod web;

pub use extract::{BaseUrl, ReqLang};
pub use state::{ApiContext, Options};
pub use telemetry::redact_query;

use axum::extract::DefaultBodyLimit;
use axum::http::{header, StatusCode};
use axum::response::IntoResponse;
use axum::{Json, Router};
use clientele_store::ApiStore;
use serde_json::json;
use std::future::Future;
use std::net::SocketAddr;
use std::sync::{Arc, OnceLock};
use utoipa::openapi::security::{ApiKey, ApiKeyValue, HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::OpenApi;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

/// Service status (no authentication).
#[utoipa::path(get, path = "/api/version", tag = "meta",
    responses((status = 200, description = "`{\"version\":\"1.0\",\"status\":\"ok\",\"vendor\":…,\"url\":…}`", body = serde_json::Value)))]
pub async fn version(BaseUrl(base): BaseUrl) -> impl IntoResponse {
    Json(
        json!({"version": "1.0", "status": "ok", "vendor": "Clientèle", "url": base, "build": env!("CARGO_PKG_VERSION")}),
    )
}

/// This OpenAPI 3 description.
#[utoipa::path(get, path = "/api/openapi.json", tag = "meta", responses((status = 200, description = "OpenAPI 3 document", body = serde_json::Value)))]
pub async fn openapi_json() -> impl IntoResponse {
    static DOC: OnceLock<String> = OnceLock::new();
    let doc = DOC.get_or_init(|| openapi().to_json().unwrap_or_else(|_| "{}".into()));
    ([(header::CONTENT_TYPE, "application/json")], doc.as_str())
}

#[derive(OpenApi)]
#[openapi(
    info(title = "Clientèle API", description = "Customer registry for French telecom operators, wire-compatible with the BlueRockTEL admin API, with call routing for PBXs."),
    modifiers(&Security),
    tags((name = "auth"), (name = "customers"), (name = "contacts"), (name = "routing", description = "For PBX call flows; answered from memory"), (name = "imports"), (name = "meta"))
)]
struct ApiDoc;

struct Security;

impl utoipa::Modify for Security {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let c = openapi.components.get_or_insert_with(Default::default);
        c.add_security_scheme(
            "bearer",
            SecurityScheme::Http(HttpBuilder::new().scheme(HttpAuthScheme::Bearer).build()),
        );
        c.add_security_scheme(
            "api_token",
            SecurityScheme::ApiKey(ApiKey::Query(ApiKeyValue::new("api_token"))),
        );
    }
}

fn api_router(opts: &Options) -> OpenApiRouter<ApiContext> {
    let uploads = OpenApiRouter::new()
        .routes(routes!(imports::upload))
        .layer(DefaultBodyLimit::max(opts.upload_limit));
    OpenApiRouter::with_openapi(ApiDoc::openapi())
        .routes(routes!(version))
        .routes(routes!(openapi_json))
        .routes(routes!(ops::health))
        .routes(routes!(ops::ready))
        .routes(routes!(ops::metrics))
        .routes(routes!(auth::login))
        .routes(routes!(customers::list, customers::create))
        .routes(routes!(customers::search))
        .routes(routes!(
            customers::show,
            customers::update,
            customers::delete
        ))
        .routes(routes!(customers::by_account))
        .routes(routes!(contacts::list, contacts::create))
        .routes(routes!(contacts::by_number))
        .routes(routes!(contacts::show, contacts::update, contacts::delete))
        .routes(routes!(routing::is_known_phone_number))
        .routes(routes!(routing::is_known_customer_account))
        .routes(routes!(routing::is_vip_by_phone_number))
        .routes(routes!(routing::is_vip_by_customer_account))
        .routes(routes!(routing::has_on_call_duty_by_phone_number))
        .routes(routes!(routing::has_on_call_duty_by_customer_account))
        .routes(routes!(routing::caller_id))
        .routes(routes!(imports::list))
        .routes(routes!(imports::undo))
        .merge(uploads)
}

/// The OpenAPI 3 description of every route.
pub fn openapi() -> utoipa::openapi::OpenApi {
    let mut doc = api_router(&Options::default()).split_for_parts().1;
    unique_operation_ids(&mut doc);
    doc
}

/// utoipa names an operation after its handler: the `list` of customers and of contacts,
/// or the GET and POST of one routing handler, would share an id, which OpenAPI forbids
/// (code generators fail on it). Each id becomes tag + handler (`customersList`), with the
/// method when one handler serves several (`routingIsKnownPhoneNumberPost`).
fn unique_operation_ids(doc: &mut utoipa::openapi::OpenApi) {
    fn camel(parts: &[&str]) -> String {
        let mut out = String::new();
        for word in parts.iter().flat_map(|p| p.split(['_', '-', ' '])) {
            let mut chars = word.chars();
            if let Some(first) = chars.next() {
                if out.is_empty() {
                    out.extend(first.to_lowercase());
                } else {
                    out.extend(first.to_uppercase());
                }
                out.push_str(chars.as_str());
            }
        }
        out
    }
    let mut seen = std::collections::HashSet::new();
    for item in doc.paths.paths.values_mut() {
        let ops = [
            ("get", &mut item.get),
            ("post", &mut item.post),
            ("put", &mut item.put),
            ("patch", &mut item.patch),
            ("delete", &mut item.delete),
        ];
        let handlers: Vec<Option<String>> = ops
            .iter()
            .filter_map(|(_, o)| o.as_ref().map(|o| o.operation_id.clone()))
            .collect();
        for (method, op) in ops.into_iter() {
            let Some(op) = op else { continue };
            let tag = op
                .tags
                .as_ref()
                .and_then(|t| t.first())
                .cloned()
                .unwrap_or_default();
            let handler = op.operation_id.clone().unwrap_or_default();
            let same_handler = handlers
                .iter()
                .filter(|h| h.as_deref() == Some(handler.as_str()))
                .count()
                > 1;
            let mut id = camel(&[&tag, &handler]);
            if same_handler || !seen.insert(id.clone()) {
                id = camel(&[&tag, &handler, method]);
                seen.insert(id.clone());
            }
            op.operation_id = Some(id);
        }
    }
}

/// Unknown paths: the API's JSON 404 under `/api`, an HTML page elsewhere (browsers).
async fn not_found(
    uri: axum::http::Uri,
    headers: axum::http::HeaderMap,
) -> axum::response::Response {
    if uri.path().starts_with("/api") {
        return (
            StatusCode::NOT_FOUND,
            Json(json!({"message": "Not found."})),
        )
            .into_response();
    }
    web::not_found_page(&headers)
}

async fn method_not_allowed() -> impl IntoResponse {
    (
        StatusCode::METHOD_NOT_ALLOWED,
        Json(json!({"message": "The method is not supported for this route."})),
    )
}

/// The application: every API route with its layers (tracing, client resolution, body
/// limits, headers), ready to serve or to extend (web pages).
pub fn router(state: ApiContext) -> Router {
    let (r, _) = api_router(&state.0.opts).split_for_parts();
    r.merge(web::router(state.0.opts.upload_limit))
        .fallback(not_found)
        .method_not_allowed_fallback(method_not_allowed)
        .layer(DefaultBodyLimit::max(state.0.opts.json_limit))
        .layer(ops::TrackLayer(state.clone()))
        .with_state(state)
}

/// Serve until SIGINT or SIGTERM.
pub async fn serve(
    store: Arc<dyn ApiStore>,
    listener: tokio::net::TcpListener,
    opts: Options,
) -> std::io::Result<()> {
    serve_until(store, listener, opts, shutdown_signal()).await
}

/// Serve until `shutdown` completes, then finish the requests in flight.
pub async fn serve_until(
    store: Arc<dyn ApiStore>,
    listener: tokio::net::TcpListener,
    opts: Options,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    if opts.metrics {
        ops::install_metrics();
    }
    let state = ApiContext::new(store, opts)
        .await
        .map_err(std::io::Error::other)?;
    let poller = tokio::spawn(state.clone().poll_forever());
    // The official French lists (≈ 20 MB decoded) are not decoded at start: a server that
    // only routes calls never needs them, and the first import or form that does waits
    // ≈ 0.1 s for them once (issue 18: the routing index's memory goal).
    let app = router(state);
    let result = axum::serve(
        listener,
        app.into_make_service_with_connect_info::<SocketAddr>(),
    )
    .with_graceful_shutdown(shutdown)
    .await;
    poller.abort();
    result
}

async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {},
        () = term => {},
    }
    tracing::info!("shutting down");
}

#[cfg(test)]
mod tests {
    #[test]
    fn secrets_are_masked_in_logged_queries() {
        let q = super::redact_query(
            "phoneNumber=0612345678&api_token=clt_abc&Password=hunter2&pass%77ord=x&%61pi_token=y",
        );
        assert_eq!(
            q,
            "phoneNumber=0612345678&api_token=***&Password=***&pass%77ord=***&%61pi_token=***"
        );
        assert!(!q.contains("clt_abc") && !q.contains("hunter2"));
        assert!(super::redact_query(&"a=b&".repeat(1000)).chars().count() <= 301);
    }

    #[test]
    fn openapi_operation_ids_are_unique_and_routing_answers_json() {
        let doc = super::openapi();
        let mut ids = Vec::new();
        for item in doc.paths.paths.values() {
            for op in [&item.get, &item.post, &item.put, &item.patch, &item.delete]
                .into_iter()
                .flatten()
            {
                ids.push(op.operation_id.clone().expect("every operation has an id"));
            }
        }
        let mut unique = ids.clone();
        unique.sort();
        unique.dedup();
        assert_eq!(unique.len(), ids.len(), "{ids:?}");
        assert!(ids.contains(&"customersList".to_string()), "{ids:?}");
        assert!(ids.contains(&"contactsList".to_string()), "{ids:?}");
        assert!(
            ids.contains(&"routingIsKnownPhoneNumberPost".to_string()),
            "{ids:?}"
        );
        let json = doc.to_json().expect("json");
        let v: serde_json::Value = serde_json::from_str(&json).expect("valid JSON");
        let ok = &v["paths"]["/api/isKnownPhoneNumber"]["get"]["responses"]["200"]["content"];
        assert!(ok.get("application/json").is_some(), "{ok}");
    }
}
