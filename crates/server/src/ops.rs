//! What an operator watches: `/health`, `/ready`, `/metrics` (Prometheus text format), the
//! request id and the access log of every request.
//!
//! Metrics go through the `metrics` facade: any code of the process may emit one of the
//! names below (the lead's job queue and login code do), and the Prometheus exporter renders
//! them. Without a recorder installed (`serve --no-metrics`) the facade calls do nothing.

use crate::state::ApiContext;
use axum::extract::{ConnectInfo, Request, State};
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use clientele_store::schema::SCHEMA_VERSION;
use serde_json::json;
use std::net::SocketAddr;
use std::sync::OnceLock;
use std::time::{Duration, Instant};

use crate::telemetry::HANDLE;
pub use crate::telemetry::{
    install_metrics, loopback, DB_POOL, HTTP_DURATION, HTTP_REQUESTS, IMPORTS, IMPORT_ROWS,
    INDEX_ENTRIES, JOB_DURATION, JOB_QUEUE_DEPTH, LOGIN_FAILURES, LOGIN_THROTTLED, READY,
    REQUEST_ID, SYNCS, SYNC_DURATION, SYNC_LAG,
};

/// The route group of a path, for metrics labels.
fn group(path: &str) -> &'static str {
    match path {
        "/health" | "/ready" | "/metrics" => "ops",
        "/api/callerId" => "routing",
        p if p.starts_with("/api/is") || p.starts_with("/api/has") => "routing",
        p if p.starts_with("/api/") => "api",
        _ => "web",
    }
}

/// A request id from the client is kept when it is 1 to 128 characters of letters, digits
/// and `-_.:`; anything else (possibly a log injection) is replaced.
fn request_id(req: &Request) -> HeaderValue {
    if let Some(v) = req.headers().get(REQUEST_ID) {
        let b = v.as_bytes();
        if !b.is_empty()
            && b.len() <= 128
            && b.iter()
                .all(|c| c.is_ascii_alphanumeric() || b"-_.:".contains(c))
        {
            return v.clone();
        }
    }
    // Sixteen hex digits, written without a formatted string.
    const HEX: &[u8; 16] = b"0123456789abcdef";
    let n = rand::random::<u64>();
    let mut id = [0u8; 16];
    for (i, b) in id.iter_mut().enumerate() {
        *b = HEX[((n >> (60 - 4 * i)) & 15) as usize];
    }
    // Hex digits are always a valid header value.
    HeaderValue::from_bytes(&id).unwrap_or(HeaderValue::from_static("0"))
}

/// The handles of the request metrics, made once per group and status. The macros look a
/// metric up in the registry on every call (its labels built, hashed, a lock taken): on the
/// routing path that was a measurable share of an answer (13 % of the throughput).
#[derive(Default)]
struct RequestMetrics {
    by_status: std::sync::RwLock<std::collections::HashMap<(&'static str, u16), metrics::Counter>>,
    by_group: std::sync::RwLock<std::collections::HashMap<&'static str, metrics::Histogram>>,
}

impl RequestMetrics {
    fn record(&self, group: &'static str, status: u16, seconds: f64) {
        if !matches!(HANDLE.get(), Some(Some(_))) {
            // No recorder (yet): a handle made now would stay a no-op, so none is kept.
            metrics::counter!(HTTP_REQUESTS, "group" => group, "status" => status.to_string())
                .increment(1);
            metrics::histogram!(HTTP_DURATION, "group" => group).record(seconds);
            return;
        }
        // A poisoned lock only means another request panicked while inserting: the map is
        // still whole (an insert of a handle), so its content is used as it is.
        let counted = {
            let m = self.by_status.read().unwrap_or_else(|e| e.into_inner());
            m.get(&(group, status)).map(|c| c.increment(1)).is_some()
        };
        if !counted {
            let c =
                metrics::counter!(HTTP_REQUESTS, "group" => group, "status" => status.to_string());
            c.increment(1);
            self.by_status
                .write()
                .unwrap_or_else(|e| e.into_inner())
                .insert((group, status), c);
        }
        let timed = {
            let m = self.by_group.read().unwrap_or_else(|e| e.into_inner());
            m.get(group).map(|h| h.record(seconds)).is_some()
        };
        if !timed {
            let h = metrics::histogram!(HTTP_DURATION, "group" => group);
            h.record(seconds);
            self.by_group
                .write()
                .unwrap_or_else(|e| e.into_inner())
                .insert(group, h);
        }
    }
}

/// The request metrics of this process. One per process like the recorder they feed
/// (installed once, at start, before any request).
fn request_metrics() -> &'static RequestMetrics {
    static M: OnceLock<RequestMetrics> = OnceLock::new();
    M.get_or_init(RequestMetrics::default)
}

/// The outermost layer: request id (echoed in the response), the client (trusted proxies,
/// forwarding headers), the headers of every answer, metrics and the access log. One layer
/// rather than four, written as a plain [`tower::Service`] with its own future: each
/// `middleware::from_fn` layer cost a boxed future and a clone of the service below it on
/// every request, a visible share of a routing answer.
#[derive(Clone)]
pub struct TrackLayer(pub ApiContext);

impl<S> tower::Layer<S> for TrackLayer {
    type Service = Track<S>;
    fn layer(&self, inner: S) -> Track<S> {
        Track {
            inner,
            state: self.0.clone(),
        }
    }
}

/// The service of [`TrackLayer`].
#[derive(Clone)]
pub struct Track<S> {
    inner: S,
    state: ApiContext,
}

impl<S> tower::Service<Request> for Track<S>
where
    S: tower::Service<Request, Response = Response, Error = std::convert::Infallible>,
{
    type Response = Response;
    type Error = std::convert::Infallible;
    type Future = TrackFuture<S::Future>;

    fn poll_ready(
        &mut self,
        cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, mut req: Request) -> Self::Future {
        let start = Instant::now();
        let id = request_id(&req);
        req.headers_mut().insert(REQUEST_ID, id.clone());
        crate::net::client_info(&self.state, &mut req);
        let method = req.method().clone();
        // The URI's parts are shared, not copied: kept for the access log line.
        let uri = req.uri().clone();
        // The span of what the handler logs. Its fields are only computed when debug is on
        // (a disabled span is a no-op to enter): tower-http's TraceLayer, which did this
        // before, cost about 2 µs of a 20 µs routing answer even with its span disabled.
        let span = tracing::debug_span!(
            "request",
            method = %method,
            path = %uri.path(),
            query = %RedactedQuery(uri.query().unwrap_or("")),
        );
        let linger = crate::linger::guard(req.body_mut());
        let inner = {
            let _entered = span.enter();
            self.inner.call(req)
        };
        TrackFuture {
            inner,
            span,
            linger,
            seen: Some(Seen {
                start,
                id,
                method,
                uri,
            }),
        }
    }
}

/// What [`Track`] keeps of a request for its answer.
struct Seen {
    start: Instant,
    id: HeaderValue,
    method: axum::http::Method,
    uri: axum::http::Uri,
}

pin_project_lite::pin_project! {
    /// The answer of the service below, finished by [`Track`].
    pub struct TrackFuture<F> {
        #[pin]
        inner: F,
        span: tracing::Span,
        linger: Option<crate::linger::Slot>,
        seen: Option<Seen>,
    }
}

impl<F> std::future::Future for TrackFuture<F>
where
    F: std::future::Future<Output = Result<Response, std::convert::Infallible>>,
{
    type Output = Result<Response, std::convert::Infallible>;

    fn poll(
        self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<Self::Output> {
        let this = self.project();
        let entered = this.span.enter();
        let Ok(mut res) = std::task::ready!(this.inner.poll(cx));
        drop(entered);
        if let Some(slot) = this.linger.take() {
            // A body the handler left unread is read away while the answer goes out.
            crate::linger::drain(&slot);
        }
        if let Some(seen) = this.seen.take() {
            finish(&mut res, seen);
        }
        std::task::Poll::Ready(Ok(res))
    }
}

/// Headers, metrics and the access log of an answer.
fn finish(res: &mut Response, seen: Seen) {
    answer_headers(res);
    let status = res.status();
    let latency = seen.start.elapsed();
    let path = seen.uri.path();
    let group = group(path);
    request_metrics().record(group, status.as_u16(), latency.as_secs_f64());
    let rid = seen.id.to_str().unwrap_or("");
    let ms = latency.as_secs_f64() * 1000.0;
    let method = &seen.method;
    // Secrets masked (`api_token=***`), only when a line is written.
    let query = RedactedQuery(seen.uri.query().unwrap_or(""));
    if status.is_server_error() {
        tracing::warn!(target: "clientele::access", request_id = rid, method = %method, route = %path, query = %query, group, status = status.as_u16(), latency_ms = ms, "request");
    } else if group == "ops"
        || group == "routing"
        || status == axum::http::StatusCode::TOO_MANY_REQUESTS
    {
        // Probes poll every second or so; refusals of a throttled client come by the
        // thousand under a flood, and the throttle logs them once a minute per address
        // (the metrics count each): only with CLIENTELE_LOG=debug. Routing answers too:
        // a PBX asks once per call, up to tens of thousands a second, and a line each cost
        // a third of a routing answer's CPU (9–12 µs of 29–37 µs, issue 12); the metrics
        // count and time every one, and `--log-level info,clientele::access=debug` lists
        // them when a call must be traced.
        tracing::debug!(target: "clientele::access", request_id = rid, method = %method, route = %path, query = %query, group, status = status.as_u16(), latency_ms = ms, "request");
    } else {
        tracing::info!(target: "clientele::access", request_id = rid, method = %method, route = %path, query = %query, group, status = status.as_u16(), latency_ms = ms, "request");
    }
    res.headers_mut().insert(REQUEST_ID, seen.id);
}

/// A query string as logs show it ([`crate::telemetry::redact_query`]), masked when formatted: a
/// disabled log line costs nothing.
struct RedactedQuery<'a>(&'a str);

impl std::fmt::Display for RedactedQuery<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&crate::telemetry::redact_query(self.0))
    }
}

/// `GET /health`: the process answers (no database call).
#[utoipa::path(get, path = "/health", tag = "meta",
    responses((status = 200, description = "`{\"status\":\"ok\"}`: the process answers (no database call)", body = serde_json::Value)))]
pub async fn health() -> Response {
    (
        [(header::CACHE_CONTROL, "no-store")],
        Json(json!({"status": "ok"})),
    )
        .into_response()
}

/// How long `/ready` waits for the database.
const READY_DB_TIMEOUT: Duration = Duration::from_secs(2);

/// `GET /ready`: 200 when the database answers within 2 s with the schema this program
/// expects, the routing index is loaded and its last sync is recent enough; 503 with the
/// reasons otherwise. Routing itself keeps answering from memory either way.
#[utoipa::path(get, path = "/ready", tag = "meta",
    responses((status = 200, description = "Ready: `{status, reasons: [], database, schema, index, syncLagSeconds}`", body = serde_json::Value),
              (status = 503, description = "Not ready; `reasons` says why", body = serde_json::Value)))]
pub async fn ready(State(state): State<ApiContext>) -> Response {
    let mut reasons: Vec<String> = Vec::new();
    let store = state.store().clone();
    let ping = tokio::task::spawn_blocking(move || store.ping(READY_DB_TIMEOUT)).await;
    let (database, schema) = match ping {
        Ok(Ok(v)) => {
            if v != SCHEMA_VERSION {
                reasons.push(format!(
                    "database schema is version {v}, this program needs {SCHEMA_VERSION}{}",
                    if v < SCHEMA_VERSION {
                        " (restart a server of this version to migrate it)"
                    } else {
                        " (the database was migrated by a newer Clientèle: upgrade this server)"
                    }
                ));
            }
            ("ok".to_string(), Some(v))
        }
        Ok(Err(e)) => {
            reasons.push(format!("database unreachable: {e}"));
            (e.to_string(), None)
        }
        Err(e) => {
            reasons.push(format!("database check failed: {e}"));
            (e.to_string(), None)
        }
    };
    let loaded = state.index_loaded();
    if !loaded {
        reasons.push("routing index not loaded yet".into());
    }
    let lag = state.sync_lag();
    let bound = state.0.opts.ready_max_lag;
    if lag > bound {
        reasons.push(format!(
            "routing index last synced {:.1} s ago (bound {} s)",
            lag.as_secs_f64(),
            bound.as_secs_f64()
        ));
    }
    let (customers, contacts, numbers) = state.index().sizes();
    let ok = reasons.is_empty();
    metrics::gauge!(READY).set(if ok { 1.0 } else { 0.0 });
    let body = json!({
        "status": if ok { "ready" } else { "unavailable" },
        "reasons": reasons,
        "database": database,
        "schema": schema,
        "index": {"loaded": loaded, "customers": customers, "contacts": contacts, "numbers": numbers},
        "syncLagSeconds": (lag.as_secs_f64() * 1000.0).round() / 1000.0,
    });
    let status = if ok {
        StatusCode::OK
    } else {
        StatusCode::SERVICE_UNAVAILABLE
    };
    (status, [(header::CACHE_CONTROL, "no-store")], Json(body)).into_response()
}

/// `GET /metrics`: the Prometheus text format, to the networks of `--metrics-allow` only.
#[utoipa::path(get, path = "/metrics", tag = "meta",
    responses((status = 200, description = "Prometheus text format", body = String, content_type = "text/plain"),
              (status = 403, description = "Client address not in `--metrics-allow`"), (status = 404, description = "Metrics off")))]
pub async fn metrics(
    State(state): State<ApiContext>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
) -> Response {
    let Some(Some(handle)) = HANDLE.get() else {
        return (
            StatusCode::NOT_FOUND,
            Json(json!({"message": "Metrics are off (serve --no-metrics)."})),
        )
            .into_response();
    };
    if !state.0.opts.metrics
        || !state
            .0
            .opts
            .metrics_allow
            .iter()
            .any(|n| n.contains(&peer.ip()))
    {
        return (
            StatusCode::FORBIDDEN,
            Json(json!({"message": "This address may not read the metrics (see serve --metrics-allow)."})),
        )
            .into_response();
    }
    // Gauges that are cheaper to read at scrape time than to keep up to date.
    let (customers, contacts, numbers) = state.index().sizes();
    metrics::gauge!(INDEX_ENTRIES, "kind" => "customers").set(customers as f64);
    metrics::gauge!(INDEX_ENTRIES, "kind" => "contacts").set(contacts as f64);
    metrics::gauge!(INDEX_ENTRIES, "kind" => "numbers").set(numbers as f64);
    metrics::gauge!(SYNC_LAG).set(state.sync_lag().as_secs_f64());
    let (running, waiting) = state.0.work.depth();
    metrics::gauge!(JOB_QUEUE_DEPTH, "state" => "running").set(running as f64);
    metrics::gauge!(JOB_QUEUE_DEPTH, "state" => "waiting").set(waiting as f64);
    let pool = state.store().pool_state();
    metrics::gauge!(DB_POOL, "state" => "open").set(f64::from(pool.connections));
    metrics::gauge!(DB_POOL, "state" => "idle").set(f64::from(pool.idle));
    metrics::gauge!(DB_POOL, "state" => "max").set(f64::from(pool.max));
    (
        [(
            header::CONTENT_TYPE,
            "text/plain; version=0.0.4; charset=utf-8",
        )],
        handle.render(),
    )
        .into_response()
}

/// Every answer: no content sniffing, and no caching of customer data unless the handler
/// says otherwise (the static assets do). Set by [`TrackLayer`].
fn answer_headers(r: &mut axum::response::Response) {
    let h = r.headers_mut();
    h.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        header::HeaderValue::from_static("nosniff"),
    );
    h.entry(header::CACHE_CONTROL)
        .or_insert(header::HeaderValue::from_static("no-store"));
}

#[cfg(test)]
mod tests {
    #[test]
    fn route_groups() {
        assert_eq!(super::group("/api/isVipByPhoneNumber"), "routing");
        assert_eq!(
            super::group("/api/hasOnCallDutyContractByPhoneNumber"),
            "routing"
        );
        assert_eq!(super::group("/api/callerId"), "routing");
        assert_eq!(super::group("/api/v1/customers"), "api");
        assert_eq!(super::group("/ready"), "ops");
        assert_eq!(super::group("/customers"), "web");
    }
}
