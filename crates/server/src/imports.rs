//! `/api/v1/imports`: upload a pack (the same report as `clientele check|import`), list
//! past imports, undo one.

use crate::auth::{Reader, Writer};
use crate::error::{ApiResult, Error, Invalid};
use crate::extract::ReqLang;
use crate::input::parse_pairs;
use crate::state::ApiContext;
use axum::extract::multipart::MultipartRejection;
use axum::extract::{Multipart, Path, RawQuery, State};
use axum::Json as Body;
use clientele_import::{RunError, RunOptions, Source};
use clientele_store::Store;
use serde_json::{json, Map, Value as Json};

fn truthy(m: &Map<String, Json>, keys: &[&str]) -> bool {
    keys.iter().filter_map(|k| m.get(*k)).any(|v| match v {
        Json::Bool(b) => *b,
        Json::String(s) => matches!(
            s.trim().to_ascii_lowercase().as_str(),
            "1" | "true" | "yes" | "on"
        ),
        Json::Number(n) => n.as_i64() == Some(1),
        _ => false,
    })
}

/// Check (`dryRun=1`) or import a pack; the JSON report of `cli.md`.
#[utoipa::path(post, path = "/api/v1/imports", tag = "imports",
    params(("dryRun" = Option<bool>, Query, description = "`1`: check only, write nothing (also accepted as a multipart field)"),
           ("mapping" = Option<String>, Query, description = "Column mapping, a JSON object from file heading to field (pack key, API key or heading; `-` or null ignores the column), e.g. `{\"Code postale\": \"postalCode\"}` (also accepted as a multipart field)"),
           ("allowIdentityChange" = Option<bool>, Query, description = "`1`: write updates that make a customer another company (`customerAccount.identity_changed`); without it such an import writes nothing and says why in `refused` (also accepted as a multipart field)")),
    request_body(content_type = "multipart/form-data", description = "Field `file`: the pack (.xlsx, .xls, .ods, .csv, .txt)"),
    responses((status = 200, description = "The report; `imported` says whether the database was written", body = serde_json::Value),
              (status = 400, description = "Malformed request: a query string or form that is not UTF-8, malformed JSON or multipart"), (status = 401), (status = 403), (status = 413, description = "File too large"),
              (status = 503, description = "Every check and import slot is taken and the queue is full; `Retry-After` gives the seconds to wait"),
              (status = 422, description = "Unusable file (the report with its single issue), or no file")),
    security(("bearer" = [])))]
pub async fn upload(
    Writer(actor): Writer,
    State(state): State<ApiContext>,
    ReqLang(lang): ReqLang,
    RawQuery(q): RawQuery,
    mp: Result<Multipart, MultipartRejection>,
) -> ApiResult<Body<Json>> {
    let mut mp = mp.map_err(|e| {
        Error::BadRequest(format!(
            "Expected a multipart/form-data upload: {}",
            e.body_text()
        ))
    })?;
    let mut fields = Map::new();
    if let Some(q) = q {
        parse_pairs(q.as_bytes(), &mut fields)?;
    }
    let mut file: Option<(String, Vec<u8>)> = None;
    let too_large = |e: axum::extract::multipart::MultipartError| multipart_error(&e, lang);
    while let Some(field) = mp.next_field().await.map_err(too_large)? {
        let name = field.name().unwrap_or_default().to_string();
        if name == "file" {
            let fname = field
                .file_name()
                .filter(|n| !n.is_empty())
                .unwrap_or("upload.csv")
                .to_string();
            let bytes = field.bytes().await.map_err(too_large)?;
            file = Some((fname, bytes.to_vec()));
        } else {
            let v = field.text().await.map_err(too_large)?;
            fields.insert(name, Json::String(v));
        }
    }
    let Some((name, bytes)) = file else {
        return Err(Error::Invalid(Box::new(Invalid::one(
            "file",
            "file.required",
            "The file field is required.",
        ))));
    };
    // A text field (multipart or query) holding the JSON object, or the object itself.
    let mapping = match fields.get("mapping") {
        None => clientele_pack::ColumnMap::new(),
        Some(m) => {
            let text = m.as_str().map_or_else(|| m.to_string(), str::to_string);
            clientele_pack::ColumnMap::parse(&text).map_err(|e| {
                Error::Invalid(Box::new(Invalid::one(
                    "mapping",
                    "mapping.invalid",
                    &format!("The column mapping cannot be used: {e}"),
                )))
            })?
        }
    };
    let opts = RunOptions {
        dry_run: truthy(&fields, &["dryRun", "dry_run"]),
        lang,
        mapping,
        allow_identity_change: truthy(&fields, &["allowIdentityChange", "allow_identity_change"]),
        ..RunOptions::default()
    };
    let result = run_bytes(&state, actor, name, bytes, opts, |_| {}).await?;
    match result {
        Ok(report) => {
            if report.imported {
                state.sync().await?;
            }
            Ok(Body(
                serde_json::to_value(&report).map_err(Error::internal)?,
            ))
        }
        Err(RunError::Unusable(report)) => {
            let mut body = serde_json::to_value(&report).map_err(Error::internal)?;
            if let Json::Object(m) = &mut body {
                let msg = report
                    .issues
                    .first()
                    .map_or("The file cannot be used.".to_string(), |i| {
                        i.message.clone()
                    });
                m.insert("message".into(), json!(msg));
            }
            Err(Error::Unprocessable(body))
        }
        Err(RunError::Store(e)) => Err(e.into()),
        Err(RunError::Io(e)) => Err(Error::Unprocessable(json!({ "message": e }))),
    }
}

/// A multipart upload that could not be read: 413 when it is larger than allowed (however
/// the limit showed: a field, the stream), else 400 saying in the user's words what is wrong
/// (the library's "incomplete multipart stream" means nothing to the staff).
pub(crate) fn multipart_error(
    e: &axum::extract::multipart::MultipartError,
    lang: clientele_core::Lang,
) -> Error {
    let text = e.body_text().to_ascii_lowercase();
    if e.status().as_u16() == 413 || text.contains("length limit") || text.contains("too large") {
        return Error::PayloadTooLarge;
    }
    Error::BadRequest(clientele_core::msg!(lang, "api.upload_malformed"))
}

/// Check or import uploaded bytes on the job threads ([`crate::jobs`]); `progress` gets the
/// rows read. Refused at once (`Busy`, 503) when the job queue is full.
pub(crate) async fn run_bytes(
    state: &ApiContext,
    actor: String,
    name: String,
    bytes: Vec<u8>,
    opts: RunOptions,
    progress: impl FnMut(u64) + Send + 'static,
) -> ApiResult<Result<clientele_import::Report, RunError>> {
    submit_run(state, (actor, None), name, bytes, opts, progress)?
        .wait()
        .await
        .map_err(|_| Error::internal("the check or import stopped unexpectedly"))
}

/// Queue a check or import of uploaded bytes; the ticket tells the place in the queue and
/// gives the outcome. `origin` is who runs it and, for the web pages, the upload it reads
/// (recorded on the import, so that the history links to the upload's report).
pub(crate) fn submit_run(
    state: &ApiContext,
    (actor, upload): (String, Option<String>),
    name: String,
    bytes: Vec<u8>,
    opts: RunOptions,
    mut progress: impl FnMut(u64) + Send + 'static,
) -> ApiResult<crate::jobs::Ticket<Result<clientele_import::Report, RunError>>> {
    let store = state.0.store.clone();
    state
        .0
        .work
        .submit(move || {
            // Its writes are recorded as made by `actor` (the audit trail).
            let dry_run = opts.dry_run;
            let run = || {
                clientele_import::run(
                    store.as_ref() as &dyn Store,
                    Source::Bytes(&name, bytes),
                    &opts,
                    &mut progress,
                )
            };
            let result = clientele_store::audit::as_actor(&actor, || match &upload {
                Some(id) => clientele_store::audit::from_upload(id, run),
                None => run(),
            });
            let (outcome, rows) = match &result {
                Ok(r) if r.imported => ("imported", r.rows),
                Ok(r) if dry_run && r.errors == 0 => ("checked", r.rows),
                Ok(r) => ("invalid", r.rows),
                Err(RunError::Unusable(r)) => ("unusable", r.rows),
                Err(_) => ("failed", 0),
            };
            crate::telemetry::record_import(outcome, rows);
            result
        })
        .map_err(|full| Error::Busy {
            waiting: full.waiting,
        })
}

/// Past imports, newest first.
#[utoipa::path(get, path = "/api/v1/imports", tag = "imports",
    responses((status = 200, description = "Array of imports", body = serde_json::Value), (status = 401), (status = 403)),
    security(("bearer" = [])))]
pub async fn list(_: Reader, State(state): State<ApiContext>) -> ApiResult<Body<Json>> {
    let rows = state.db(|s| s.imports()).await?;
    Ok(Body(serde_json::to_value(rows).map_err(Error::internal)?))
}

/// Undo an import: every customer it created is removed, every customer it changed restored.
#[utoipa::path(post, path = "/api/v1/imports/{id}/undo", tag = "imports",
    params(("id" = i64, Path, description = "Import id"),
           ("force" = Option<bool>, Query, description = "`1`: undo even when customers it touched changed afterwards (those changes are lost)")),
    responses((status = 200, description = "The import, with `undoneAt`", body = serde_json::Value), (status = 400, description = "Malformed request: a query string or form that is not UTF-8, malformed JSON or multipart"), (status = 401), (status = 403), (status = 404),
              (status = 409, description = "Already undone, or customers changed since")),
    security(("bearer" = [])))]
pub async fn undo(
    Writer(actor): Writer,
    State(state): State<ApiContext>,
    Path(id): Path<String>,
    input: crate::input::Input,
) -> ApiResult<Body<Json>> {
    let id: i64 = id.parse().map_err(|_| Error::NotFound)?;
    let force = truthy(&input.map, &["force"]);
    let rec = state
        .db_as(actor, move |s| s.undo_import(id, force))
        .await?;
    state.sync().await?;
    Ok(Body(serde_json::to_value(rec).map_err(Error::internal)?))
}
