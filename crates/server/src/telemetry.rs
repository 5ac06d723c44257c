//! Metric names and their recording, a leaf that every layer may call (state's change-feed
//! poll, the login throttle, imports) without depending on the handlers of [`crate::ops`],
//! which serve `/metrics` and need the application state.

use ipnet::IpNet;
use metrics_exporter_prometheus::{Matcher, PrometheusBuilder, PrometheusHandle};
use std::sync::OnceLock;
use std::time::Instant;

/// Requests by route group and status (counter; labels `group`, `status`).
pub const HTTP_REQUESTS: &str = "clientele_http_requests_total";
/// Request latency by route group (histogram, seconds; label `group`: routing, api, web, ops).
pub const HTTP_DURATION: &str = "clientele_http_request_duration_seconds";
/// Entries of the routing index (gauge; label `kind`: customers, contacts, numbers).
pub const INDEX_ENTRIES: &str = "clientele_routing_index_entries";
/// Seconds since the routing index was last brought up to date with the database (gauge).
pub const SYNC_LAG: &str = "clientele_routing_sync_lag_seconds";
/// Change-feed polls by outcome (counter; label `outcome`: ok, error).
pub const SYNCS: &str = "clientele_routing_syncs_total";
/// Duration of one change-feed poll (histogram, seconds).
pub const SYNC_DURATION: &str = "clientele_routing_sync_duration_seconds";
/// Checks and imports waiting or running (gauge).
pub const JOB_QUEUE_DEPTH: &str = "clientele_job_queue_depth";
/// Duration of a check or import job (histogram, seconds; label `kind`: check, import).
pub const JOB_DURATION: &str = "clientele_job_duration_seconds";
/// Pack checks and imports by outcome (counter; label `outcome`: imported, checked,
/// invalid, unusable, failed).
pub const IMPORTS: &str = "clientele_imports_total";
/// Rows read by checks and imports (counter; label `outcome` as above).
pub const IMPORT_ROWS: &str = "clientele_import_rows_total";
/// Failed logins (counter).
pub const LOGIN_FAILURES: &str = "clientele_login_failures_total";
/// Logins refused by the throttle (counter).
pub const LOGIN_THROTTLED: &str = "clientele_login_throttled_total";
/// Database pool connections (gauge; label `state`: open, idle, max).
pub const DB_POOL: &str = "clientele_db_pool_connections";
/// Whether the last readiness check passed (gauge, 1 or 0).
pub const READY: &str = "clientele_ready";

/// The request id header, taken from the client (or proxy) when well-formed, else made here.
pub const REQUEST_ID: &str = "x-request-id";

pub(crate) static HANDLE: OnceLock<Option<PrometheusHandle>> = OnceLock::new();

/// Install the Prometheus recorder (once per process); false when another recorder was
/// installed before.
pub fn install_metrics() -> bool {
    HANDLE
        .get_or_init(|| {
            let latency = [
                0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5,
                1.0, 2.5, 5.0, 10.0,
            ];
            let long = [
                0.01, 0.05, 0.1, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0, 120.0, 300.0, 600.0,
            ];
            let builder = PrometheusBuilder::new()
                .set_buckets_for_metric(Matcher::Full(HTTP_DURATION.into()), &latency)
                .and_then(|b| {
                    b.set_buckets_for_metric(Matcher::Full(SYNC_DURATION.into()), &latency)
                })
                .and_then(|b| b.set_buckets_for_metric(Matcher::Full(JOB_DURATION.into()), &long));
            let handle = builder.and_then(|b| b.install_recorder());
            match handle {
                Ok(h) => {
                    describe();
                    Some(h)
                }
                Err(e) => {
                    tracing::warn!("metrics disabled: {e}");
                    None
                }
            }
        })
        .is_some()
}

fn describe() {
    use metrics::{describe_counter, describe_gauge, describe_histogram, Unit};
    describe_counter!(HTTP_REQUESTS, "HTTP requests by route group and status");
    describe_histogram!(
        HTTP_DURATION,
        Unit::Seconds,
        "HTTP request latency by route group"
    );
    describe_gauge!(INDEX_ENTRIES, "Entries of the in-memory routing index");
    describe_gauge!(
        SYNC_LAG,
        Unit::Seconds,
        "Time since the routing index was last up to date"
    );
    describe_counter!(SYNCS, "Change-feed polls by outcome");
    describe_histogram!(
        SYNC_DURATION,
        Unit::Seconds,
        "Duration of a change-feed poll"
    );
    describe_gauge!(JOB_QUEUE_DEPTH, "Checks and imports waiting or running");
    describe_histogram!(
        JOB_DURATION,
        Unit::Seconds,
        "Duration of a check or import job"
    );
    describe_counter!(IMPORTS, "Pack checks and imports by outcome");
    describe_counter!(
        IMPORT_ROWS,
        "Rows read by pack checks and imports, by outcome"
    );
    describe_counter!(LOGIN_FAILURES, "Failed logins");
    describe_counter!(LOGIN_THROTTLED, "Logins refused by the throttle");
    describe_gauge!(DB_POOL, "Database pool connections (open, idle, max)");
    describe_gauge!(READY, "1 when the last readiness check passed");
}

/// 127.0.0.0/8 and ::1: who may read `/metrics` unless `--metrics-allow` says otherwise.
pub fn loopback() -> Vec<IpNet> {
    ["127.0.0.0/8", "::1/128"]
        .iter()
        .filter_map(|n| n.parse().ok())
        .collect()
}

/// Record one change-feed poll.
pub(crate) fn record_sync(started: Instant, ok: bool) {
    metrics::counter!(SYNCS, "outcome" => if ok { "ok" } else { "error" }).increment(1);
    metrics::histogram!(SYNC_DURATION).record(started.elapsed().as_secs_f64());
}

/// Record the outcome of a check or import run.
pub(crate) fn record_import(outcome: &'static str, rows: u64) {
    metrics::counter!(IMPORTS, "outcome" => outcome).increment(1);
    metrics::counter!(IMPORT_ROWS, "outcome" => outcome).increment(rows);
}

/// Query keys whose values are secrets: never written to a log, at any level.
const SECRET_KEYS: [&str; 6] = [
    "password",
    "api_token",
    "token",
    "secret",
    "password_confirmation",
    "current_password",
];

/// A query string for logs: secret values replaced by `***`, at most 300 characters.
pub fn redact_query(q: &str) -> String {
    let mut out = String::new();
    for (i, pair) in q.split('&').enumerate() {
        if i > 0 {
            out.push('&');
        }
        let (k, _) = pair.split_once('=').unwrap_or((pair, ""));
        let name = percent_encoding::percent_decode_str(k)
            .decode_utf8_lossy()
            .to_ascii_lowercase();
        if SECRET_KEYS.contains(&name.trim()) {
            out.push_str(k);
            out.push_str("=***");
        } else {
            out.push_str(pair);
        }
        if out.len() > 300 {
            let mut cut = 300;
            while !out.is_char_boundary(cut) {
                cut -= 1;
            }
            out.truncate(cut);
            out.push('…');
            break;
        }
    }
    out
}
