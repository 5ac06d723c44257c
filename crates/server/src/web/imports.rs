//! Import pages: upload a pack, follow the check, read the report, download the annotated
//! workbook and the rejected rows, import, history and undo.

use super::cookies::random_hex;
use super::error::{Page, WebError};
use super::forms::{form_map, Posted, WebQuery};
use super::layout::url_encode;
use super::session::{Web, CSRF_FIELD};
use crate::imports::submit_run;
use crate::state::ApiContext;
use axum::extract::multipart::MultipartRejection;
use axum::extract::{Multipart, Path, State};
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use axum::Json;
use clientele_core::messages;
use clientele_core::Lang;
use clientele_core::Problem;
use clientele_import::{RunError, RunOptions};
use clientele_store::{StoreError, Upload, UploadFile};
use minijinja::{context, Value};
use serde_json::{json, Value as Jv};
use std::collections::{BTreeMap, HashMap};
use std::sync::atomic::Ordering;

/// Issues listed per column and code on the report page (the annotated workbook has all).
const LISTED_PER_CODE: usize = 200;
/// Rows listed per page in the report's view by row.
const ROWS_PER_PAGE: usize = 100;
/// Identity changes listed above the import button (all are in the list of changes).
const LISTED_CHANGES: usize = 200;
/// The import result of an upload while its import runs.
const RUNNING: &str = r#"{"status":"running"}"#;
/// A check with no report after this long, and not running here, was interrupted.
const STALE_MINUTES: i64 = 10;

/// The upload form.
pub async fn form(web: Web) -> Response {
    web.page("import.html", "import", context! {})
}

fn upload_error(web: &Web, id: &str) -> Response {
    let msg = messages::text(web.lang, id);
    let mut r = web.page("import.html", "import", context! { error => msg });
    *r.status_mut() = StatusCode::UNPROCESSABLE_ENTITY;
    r
}

/// Receive a pack, store it and start its check; then to its page.
pub async fn upload(
    web: Web,
    State(state): State<ApiContext>,
    mp: Result<Multipart, MultipartRejection>,
) -> Page {
    let Ok(mut mp) = mp else {
        return Ok(upload_error(&web, "import.send_with_form"));
    };
    let mut csrf = Vec::new();
    let mut file: Option<(String, Vec<u8>)> = None;
    let lang = web.lang;
    let refused = |e: axum::extract::multipart::MultipartError| {
        WebError::from(crate::imports::multipart_error(&e, lang)).with_lang(lang)
    };
    loop {
        let field = match mp.next_field().await {
            Ok(Some(f)) => f,
            Ok(None) => break,
            Err(e) => return Err(refused(e)),
        };
        let name = field.name().unwrap_or_default().to_string();
        if name == "file" {
            let fname = field.file_name().unwrap_or_default().to_string();
            let bytes = field.bytes().await.map_err(refused)?;
            file = Some((fname, bytes.to_vec()));
        } else if name == CSRF_FIELD {
            let v = field.text().await.unwrap_or_default();
            csrf.push((name, v));
        }
    }
    web.check_csrf(&csrf)?;
    let Some((name, bytes)) = file.filter(|(n, b)| !n.is_empty() && !b.is_empty()) else {
        return Ok(upload_error(&web, "import.choose_a_file"));
    };
    check_new_upload(&state, &web, name, bytes, clientele_pack::ColumnMap::new()).await
}

/// Store a file as a new upload of this user and start its check with a column mapping;
/// then to its page (an upload, a mapping applied, a corrected file from the grid).
pub(super) async fn check_new_upload(
    state: &ApiContext,
    web: &Web,
    name: String,
    bytes: Vec<u8>,
    mapping: clientele_pack::ColumnMap,
) -> Page {
    let id = random_hex(16);
    let uid = web.session.user.id;
    let (i2, n2, b2) = (id.clone(), name.clone(), bytes.clone());
    state
        .db(move |s| s.create_upload(&i2, uid, &n2, &b2))
        .await?;
    let spec = JobSpec {
        mapping,
        ..JobSpec::check()
    };
    let actor = web.session.user.email.clone();
    if let Err(NotStarted::Busy(e)) = start_job(state, &id, name, bytes, spec, web.lang, actor) {
        return Err(WebError::from(e).with_lang(web.lang));
    }
    Ok(Redirect::to(&format!("/uploads/{id}")).into_response())
}

/// The column mapping a report was checked with (kept in it; none: the headings alone).
pub(super) fn stored_mapping(report: &Jv) -> Result<clientele_pack::ColumnMap, String> {
    match report.get("mapping") {
        Some(m) => clientele_pack::ColumnMap::parse(&m.to_string()),
        None => Ok(clientele_pack::ColumnMap::new()),
    }
}

/// Why a check or import did not start.
enum NotStarted {
    /// One already runs for this upload.
    Running,
    /// The job queue is full.
    Busy(crate::error::Error),
}

/// What a job does with an upload.
struct JobSpec {
    /// None: check; Some(skip_invalid): import.
    import: Option<bool>,
    /// The column mapping (kept in the check's report, used again by its import).
    mapping: clientele_pack::ColumnMap,
    /// The staff confirmed the updates that make customers other companies.
    allow_identity_change: bool,
}

impl JobSpec {
    fn check() -> JobSpec {
        JobSpec {
            import: None,
            mapping: clientele_pack::ColumnMap::new(),
            allow_identity_change: false,
        }
    }
}

/// Queue a check or an import, recording its report or result on the upload when done.
fn start_job(
    state: &ApiContext,
    id: &str,
    name: String,
    bytes: Vec<u8>,
    spec: JobSpec,
    lang: Lang,
    actor: String,
) -> Result<(), NotStarted> {
    let import = spec.import;
    let mapping_json = (!spec.mapping.is_empty()).then(|| spec.mapping.to_json());
    let Some(job) = state.0.jobs.start(id, import.is_some()) else {
        return Err(NotStarted::Running);
    };
    // Forget the job however this ends (refused now, or its task ends, even by a panic).
    let guard = JobGuard(state.clone(), id.to_string());
    // With skip_invalid the library writes a rejected-rows file; the pages offer their
    // own download, so it goes to a directory removed with the job.
    let scratch = tempfile::tempdir().ok();
    let opts = RunOptions {
        dry_run: import.is_none(),
        skip_invalid: import == Some(true),
        rejected: scratch.as_ref().map(|d| d.path().join("rejected")),
        lang,
        mapping: spec.mapping,
        allow_identity_change: spec.allow_identity_change,
        // Every change of every update, kept with the upload for its page and downloads.
        changes: scratch.as_ref().map(|d| d.path().join("changes.csv")),
    };
    let changes_file = opts.changes.clone();
    let j = job.clone();
    let origin = (actor, Some(id.to_string()));
    let ticket = submit_run(state, origin, name, bytes, opts, move |n| {
        j.rows.store(n, Ordering::Relaxed)
    })
    .map_err(NotStarted::Busy)?;
    job.seq.store(ticket.seq(), Ordering::Relaxed);
    let state = state.clone();
    let id = id.to_string();
    tokio::spawn(async move {
        let _guard = guard;
        let _scratch = scratch;
        let started = std::time::Instant::now();
        let outcome = ticket.wait().await;
        if let (Ok(Ok(_)), Some(path)) = (&outcome, &changes_file) {
            super::changes::keep(&state, &id, path).await;
        }
        metrics::histogram!(crate::telemetry::JOB_DURATION, "kind" => if import.is_some() { "import" } else { "check" })
            .record(started.elapsed().as_secs_f64());
        let body = match outcome {
            Ok(Ok(report)) => {
                let mut v = serde_json::to_value(&report).unwrap_or(Jv::Null);
                v["status"] = json!("ok");
                super::report_lang::record(&mut v, lang);
                if let Some(m) = mapping_json {
                    // Kept with the report: the import of this upload uses it again.
                    v["mapping"] = m;
                }
                v
            }
            Ok(Err(RunError::Unusable(report))) => {
                let mut v = serde_json::to_value(&*report).unwrap_or(Jv::Null);
                v["status"] = json!("unusable");
                super::report_lang::record(&mut v, lang);
                v
            }
            Ok(Err(e)) => json!({"status": "failed", "message": e.to_string()}),
            Err(_) => {
                json!({"status": "failed", "message": "the check or import stopped unexpectedly"})
            }
        };
        if import.is_some() && body["imported"] == json!(true) {
            if let Err(e) = state.sync().await {
                tracing::warn!("routing index not refreshed after a web import: {e}");
            }
        }
        let text = body.to_string();
        let i2 = id.clone();
        let saved = state
            .db(move |s| {
                if import.is_some() {
                    s.set_upload(&i2, None, Some(&text))
                } else {
                    s.set_upload(&i2, Some(&text), None)
                }
            })
            .await;
        if let Err(e) = saved {
            tracing::error!("cannot record the outcome of upload {id}: {e}");
        }
    });
    Ok(())
}

/// Removes a job from the registry when dropped.
struct JobGuard(ApiContext, String);

impl Drop for JobGuard {
    fn drop(&mut self) {
        self.0 .0.jobs.end(&self.1);
    }
}

/// The upload of this user, or not found.
pub(super) async fn owned(
    state: &ApiContext,
    web: &Web,
    id: String,
    with_bytes: bool,
) -> Result<Upload, WebError> {
    upload_for(state, web, id, with_bytes, false).await
}

/// An upload by id, or not found unless it is this user's (or, with `imported_too`, was
/// imported).
async fn upload_for(
    state: &ApiContext,
    web: &Web,
    id: String,
    with_bytes: bool,
    imported_too: bool,
) -> Result<Upload, WebError> {
    let up = state
        .db(move |s| s.upload(&id, with_bytes))
        .await
        .map_err(|e| WebError::from(e).with_lang(web.lang))?;
    let shared = imported_too && up.import.is_some();
    if up.user_id != web.session.user.id && !shared {
        return Err(WebError::not_found().with_lang(web.lang));
    }
    Ok(up)
}

/// An upload this user may read: their own, or any that was imported. The import history
/// is the whole staff's and links to the report of each import, whose rejected rows a
/// colleague may have to fix; what is not imported stays its uploader's draft. Acting on
/// an upload (import, mapping) stays with its owner ([`owned`]).
async fn readable(
    state: &ApiContext,
    web: &Web,
    id: String,
    with_bytes: bool,
) -> Result<Upload, WebError> {
    upload_for(state, web, id, with_bytes, true).await
}

pub(super) fn parse_json(s: Option<&str>) -> Option<Jv> {
    s.and_then(|s| serde_json::from_str(s).ok())
}

/// One code within a column group of the report.
#[derive(serde::Serialize)]
struct CodeGroup {
    code: String,
    /// The problem's short title in words (the code is shown in small print).
    title: String,
    severity: String,
    count: usize,
    items: Vec<Jv>,
    more: usize,
}

/// The issues of one column.
#[derive(serde::Serialize)]
struct ColumnGroup {
    /// The Contacts tab, or None for the Clients tab.
    sheet: Option<String>,
    column: String,
    header: String,
    errors: usize,
    warnings: usize,
    codes: Vec<CodeGroup>,
}

/// The short title in words of an issue code, in the viewer's language (the code itself
/// when it names no known problem: a report stored by another version).
fn issue_title(lang: Lang, code: &str) -> String {
    match clientele_core::Issue::problem_of(code) {
        Some(p) => messages::text(lang, &p.title_id()),
        None => code.to_string(),
    }
}

/// The sheet of an issue, None for the Clients tab.
fn other_sheet(issue: &Jv, clients_sheet: Option<&str>) -> Option<String> {
    issue["sheet"]
        .as_str()
        .filter(|s| Some(*s) != clients_sheet)
        .map(str::to_string)
}

/// Issues grouped by sheet (the Clients tab first) and column (in column order, file-wide
/// issues first), then by code.
fn group_issues(issues: &[Jv], clients_sheet: Option<&str>, lang: Lang) -> Vec<ColumnGroup> {
    // Column letters sort by length then text (B < AA).
    type Key = (Option<String>, usize, String);
    let mut by_col: BTreeMap<Key, (String, BTreeMap<String, CodeGroup>)> = BTreeMap::new();
    for i in issues {
        let sheet = other_sheet(i, clients_sheet);
        let col = i["column"].as_str().unwrap_or_default().to_string();
        let header = i["header"].as_str().unwrap_or_default().to_string();
        let code = i["code"].as_str().unwrap_or_default().to_string();
        let entry = by_col
            .entry((sheet, col.len(), col.clone()))
            .or_insert_with(|| (header, BTreeMap::new()));
        let g = entry.1.entry(code.clone()).or_insert_with(|| CodeGroup {
            title: issue_title(lang, &code),
            code,
            severity: i["severity"].as_str().unwrap_or("error").to_string(),
            count: 0,
            items: Vec::new(),
            more: 0,
        });
        g.count += 1;
        if g.items.len() < LISTED_PER_CODE {
            g.items.push(json!({
                "sheet": i["sheet"], "row": i["row"], "value": i["value"], "message": i["message"],
            }));
        } else {
            g.more += 1;
        }
    }
    by_col
        .into_iter()
        .map(|((sheet, _, column), (header, codes))| {
            let mut codes: Vec<CodeGroup> = codes.into_values().collect();
            // Errors before warnings, then the most frequent first.
            codes.sort_by(|a, b| {
                (a.severity != "error", std::cmp::Reverse(a.count), &a.code).cmp(&(
                    b.severity != "error",
                    std::cmp::Reverse(b.count),
                    &b.code,
                ))
            });
            ColumnGroup {
                errors: codes
                    .iter()
                    .filter(|c| c.severity == "error")
                    .map(|c| c.count)
                    .sum(),
                warnings: codes
                    .iter()
                    .filter(|c| c.severity != "error")
                    .map(|c| c.count)
                    .sum(),
                sheet,
                column,
                header,
                codes,
            }
        })
        .collect()
}

/// The issues of one row, for the view by row.
#[derive(serde::Serialize)]
struct RowGroup {
    /// The Contacts tab, or None for the Clients tab.
    sheet: Option<String>,
    /// None for the issues of the file or its headings.
    row: Option<u64>,
    items: Vec<Jv>,
}

/// Issues grouped by sheet (the Clients tab first) and row (file-wide issues first), each
/// row's in column order.
fn group_by_row(issues: &[Jv], clients_sheet: Option<&str>, lang: Lang) -> Vec<RowGroup> {
    let mut by_row: BTreeMap<(Option<String>, Option<u64>), Vec<Jv>> = BTreeMap::new();
    for i in issues {
        let code = i["code"].as_str().unwrap_or_default();
        by_row
            .entry((other_sheet(i, clients_sheet), i["row"].as_u64()))
            .or_default()
            .push(json!({
                "column": i["column"], "header": i["header"], "code": code,
                "title": issue_title(lang, code), "severity": i["severity"],
                "value": i["value"], "message": i["message"],
            }));
    }
    by_row
        .into_iter()
        .map(|((sheet, row), mut items)| {
            // Column letters sort by length then text (B < AA); file-wide issues first.
            items.sort_by_key(|i| {
                let c = i["column"].as_str().unwrap_or_default().to_string();
                (c.len(), c)
            });
            RowGroup { sheet, row, items }
        })
        .collect()
}

/// One page of the view by row (`page` counts from 1 and is kept within the pages), and
/// where it stands: `{page, pages, first, last, total}` (rows).
fn rows_page(mut rows: Vec<RowGroup>, page: usize) -> (Vec<RowGroup>, Jv) {
    let total = rows.len();
    let pages = total.div_ceil(ROWS_PER_PAGE).max(1);
    let page = page.clamp(1, pages);
    let start = (page - 1) * ROWS_PER_PAGE;
    let shown: Vec<RowGroup> = rows.drain(start.min(total)..).take(ROWS_PER_PAGE).collect();
    let at = json!({
        "page": page, "pages": pages, "total": total,
        "first": start + 1, "last": start + shown.len(),
    });
    (shown, at)
}

/// The report's two views of its issues: by column (the default) or by row (`?view=rows`).
#[derive(Clone, Copy, PartialEq, Eq)]
enum View {
    Columns,
    Rows,
}

/// The page of an upload: progress while its check or import runs, then the report or the
/// import result. `?view=rows&page=n` lists the issues by row.
pub async fn show(
    web: Web,
    State(state): State<ApiContext>,
    Path(id): Path<String>,
    WebQuery(q): WebQuery<HashMap<String, String>>,
) -> Page {
    let view = match q.get("view").map(String::as_str) {
        Some("rows") => View::Rows,
        _ => View::Columns,
    };
    let page: usize = q.get("page").and_then(|p| p.parse().ok()).unwrap_or(1);
    // The job before the upload: a job that ends in between has stored its outcome.
    let job = state.0.jobs.get(&id);
    let up = readable(&state, &web, id, false).await?;
    let mut report = parse_json(up.report.as_deref());
    let mut result = parse_json(up.result.as_deref());
    // In the reader's language, whoever uploaded the file.
    for r in report.iter_mut().chain(result.iter_mut()) {
        super::report_lang::translate(r, web.lang);
    }
    // Claimed by an import that another server runs (or that was interrupted).
    let claimed = result.as_ref().is_some_and(|r| r["status"] == "running");
    let elsewhere = job.is_none() && claimed;
    if claimed {
        result = None;
    }
    let running = job.is_some();
    let queued = job
        .as_ref()
        .and_then(|j| state.0.work.ahead_of(j.seq.load(Ordering::Relaxed)));
    let importing = job
        .as_ref()
        .is_some_and(|j| j.importing.load(Ordering::Relaxed));
    let stale = !running
        && (report.is_none() || elsewhere)
        && up.created_at < clientele_store::now_plus(-STALE_MINUTES * 60);
    let shown = result.as_ref().or(report.as_ref());
    let issues = shown.and_then(|r| r["issues"].as_array().map(|a| (a, r["sheet"].as_str())));
    let (groups, (rows, rows_at)) = match (issues, view) {
        (Some((a, sheet)), View::Columns) => (group_issues(a, sheet, web.lang), (vec![], Jv::Null)),
        (Some((a, sheet)), View::Rows) => {
            (vec![], rows_page(group_by_row(a, sheet, web.lang), page))
        }
        (None, _) => (vec![], (vec![], Jv::Null)),
    };
    let any_issue = issues.is_some_and(|(a, _)| !a.is_empty());
    let offer = match (&report, &result) {
        (Some(r), None) => offered_mapping(&state, r).await?,
        _ => None,
    };
    // Every change of the updates, paged and filtered (web::changes).
    let changes = super::changes::section(&state, &up.id, report.as_ref(), &q, web.lang).await?;
    let headings: HashMap<&str, &str> = clientele_core::FIELDS
        .iter()
        .map(|d| (d.pack_key, messages::field_label(web.lang, d)))
        .collect();
    // The fields a column can be mapped to, in pack order, named in the viewer's language.
    let fields: Vec<(&str, &str)> = clientele_core::FIELDS
        .iter()
        .map(|d| {
            (
                d.pack_key,
                headings.get(d.pack_key).copied().unwrap_or(d.pack_key),
            )
        })
        .collect();
    // The updates that would make customers other companies, shown before the import.
    let identity: Vec<&Jv> = report
        .as_ref()
        .and_then(|r| r["issues"].as_array())
        .map(|a| {
            a.iter()
                .filter(|i| i["code"] == "customerAccount.identity_changed")
                .take(LISTED_CHANGES)
                .collect()
        })
        .unwrap_or_default();
    let mut r = web.page(
        "upload.html",
        "import",
        context! {
            upload => context! { id => up.id.clone(), name => up.name.clone(), size => up.size, created_at => up.created_at.clone() },
            import => up.import.as_ref().map(Value::from_serialize),
            running => running,
            queued => queued,
            elsewhere => elsewhere,
            importing => importing,
            stale => stale,
            report => report.as_ref().map(Value::from_serialize),
            result => result.as_ref().map(Value::from_serialize),
            groups => Value::from_serialize(&groups),
            view => if view == View::Rows { "rows" } else { "columns" },
            rows => Value::from_serialize(&rows),
            rows_at => Value::from_serialize(&rows_at),
            any_issue => any_issue,
            remembered_at => offer.as_ref().map(|(_, at)| at.clone()),
            changes => Value::from_serialize(&changes),
            mapping => Value::from_serialize(report.as_ref().map(|r| mapping_rows(r, offer.as_ref().map(|(m, _)| m))).unwrap_or_default()),
            mapping_pending => report.as_ref().is_some_and(|r| has_code(r, "header.unmapped")),
            fields => Value::from_serialize(&fields),
            identity => Value::from_serialize(&identity),
        },
    );
    r.headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    Ok(r)
}

/// Progress of a running job, for the page's script: `{"running":…,"rows":…}`.
pub async fn progress(
    web: Web,
    State(state): State<ApiContext>,
    Path(id): Path<String>,
) -> Result<Json<Jv>, WebError> {
    // Only who may read the upload may watch; checked against the stored upload.
    let up = readable(&state, &web, id, false).await?;
    let job = state.0.jobs.get(&up.id);
    let ahead = job
        .as_ref()
        .and_then(|j| state.0.work.ahead_of(j.seq.load(Ordering::Relaxed)));
    Ok(Json(json!({
        "running": job.is_some(),
        "rows": job.map_or(0, |j| j.rows.load(Ordering::Relaxed)),
        "queued": ahead,
    })))
}

/// Import an upload that was checked: all-or-nothing, or its valid rows with
/// `skip_invalid`.
pub async fn import(
    State(state): State<ApiContext>,
    Path(id): Path<String>,
    Posted { web, form }: Posted,
) -> Page {
    let up = owned(&state, &web, id, true).await?;
    let f = form_map(&form);
    let skip = matches!(f.get("skip_invalid"), Some(&("1" | "on" | "true")));
    let report = parse_json(up.report.as_deref());
    let refuse = |id| Err(WebError::msg(StatusCode::CONFLICT, id).with_lang(web.lang));
    let Some(report) = report.filter(|r| r["status"] == "ok") else {
        return refuse("upload.no_usable_report");
    };
    if has_code(&report, "header.unmapped") {
        return refuse("upload.columns_unmapped");
    }
    let identity_changes = report["identityChanges"].as_u64().unwrap_or(0);
    let confirmed = matches!(f.get("confirm_identity"), Some(&("1" | "on" | "true")));
    if identity_changes > 0 && !confirmed {
        return refuse("upload.confirm_identity_first");
    }
    let mapping = stored_mapping(&report).map_err(|e| {
        WebError::from(crate::error::Error::internal(format!(
            "stored mapping: {e}"
        )))
        .with_lang(web.lang)
    })?;
    if report["errors"].as_u64().unwrap_or(0) > 0 && !skip {
        return refuse("upload.has_errors");
    }
    // Refused before the claim while the queue is full, so that the file can be imported
    // later without uploading it again.
    if !state.0.work.has_room() {
        let (_, waiting) = state.0.work.depth();
        return Err(WebError::from(crate::error::Error::Busy { waiting }).with_lang(web.lang));
    }
    // Claimed in the database, so that two clicks (on any servers) import it once.
    let claim = up.id.clone();
    if !state.db(move |s| s.claim_upload(&claim, RUNNING)).await? {
        return refuse("upload.already_imported");
    }
    match start_job(
        &state,
        &up.id,
        up.name.clone(),
        up.bytes,
        JobSpec {
            import: Some(skip),
            mapping,
            allow_identity_change: confirmed,
        },
        web.lang,
        web.session.user.email.clone(),
    ) {
        Ok(()) => {}
        Err(NotStarted::Running) => return refuse("upload.already_running"),
        Err(NotStarted::Busy(e)) => {
            // The queue filled between the check above and now: the claim stays, so the
            // outcome says what happened and how to go on.
            let id = up.id.clone();
            let text = json!({"status": "failed", "message": e.to_string()}).to_string();
            state
                .db(move |s| s.set_upload(&id, None, Some(&text)))
                .await?;
            return Err(WebError::from(e).with_lang(web.lang));
        }
    }
    Ok(Redirect::to(&format!("/uploads/{}", up.id)).into_response())
}

/// Whether a stored report lists an issue with this code.
fn has_code(report: &Jv, code: &str) -> bool {
    report["issues"]
        .as_array()
        .is_some_and(|a| a.iter().any(|i| i["code"] == code))
}

/// One line of the mapping step: a file column, what it holds now and what is proposed.
#[derive(serde::Serialize)]
struct MappingRow {
    column: String,
    header: String,
    /// The pack key selected in the form (`-`: ignored).
    selected: String,
    /// A field proposed from the heading or the values (`header.unmapped`), not yet applied.
    suggested: Option<String>,
    /// Placed by the mapping rather than by the heading.
    mapped: bool,
    /// The column looks like a field and must be mapped or ignored before importing.
    unmapped: bool,
    /// Its first values.
    samples: Vec<String>,
    /// Pre-selected from the mapping remembered for these headings (not applied yet).
    remembered: bool,
}

/// The key of a stored report's set of headings (`clientele_pack::heading_set`), as the
/// import library computes it: every column listed, recognised or ignored.
fn heading_set(report: &Jv) -> String {
    let columns = report["columns"].as_array().into_iter().flatten();
    let ignored = report["ignoredColumns"].as_array().into_iter().flatten();
    clientele_pack::heading_set(columns.chain(ignored).filter_map(|c| c["header"].as_str()))
}

/// The mapping remembered for this file's headings and when it was used, to offer in the
/// mapping step: only while no mapping was applied to this check and some column is not
/// placed by its heading. It only pre-selects the choices; nothing changes until the staff
/// apply them ("Apply and check again").
async fn offered_mapping(
    state: &ApiContext,
    report: &Jv,
) -> Result<Option<(clientele_pack::ColumnMap, String)>, WebError> {
    let unplaced = report["ignoredColumns"]
        .as_array()
        .is_some_and(|a| !a.is_empty())
        || has_code(report, "header.unmapped");
    if report["status"] != "ok" || report.get("mapping").is_some() || !unplaced {
        return Ok(None);
    }
    let key = heading_set(report);
    let found = state.db(move |s| s.remembered_mapping(&key)).await?;
    // A stored mapping that no longer parses (a field renamed since) is not offered.
    Ok(found.and_then(|m| {
        let map = clientele_pack::ColumnMap::parse(&m.mapping).ok()?;
        Some((map, m.used_at))
    }))
}

/// The mapping step's lines, from a stored check report; `offer` pre-selects the fields of
/// a remembered mapping.
fn mapping_rows(report: &Jv, offer: Option<&clientele_pack::ColumnMap>) -> Vec<MappingRow> {
    let mut suggested: HashMap<&str, &str> = HashMap::new();
    for i in report["issues"].as_array().into_iter().flatten() {
        if i["code"] == "header.unmapped" {
            if let (Some(c), Some(f)) = (i["column"].as_str(), i["field"].as_str()) {
                suggested.insert(c, f);
            }
        }
    }
    let columns = report["columns"].as_array().into_iter().flatten();
    let ignored = report["ignoredColumns"].as_array().into_iter().flatten();
    let mut rows: Vec<MappingRow> = columns
        .chain(ignored)
        .map(|c| {
            let column = c["column"].as_str().unwrap_or_default().to_string();
            let proposal = suggested.get(column.as_str()).map(|f| f.to_string());
            let header = c["header"].as_str().unwrap_or_default();
            let remembered = offer
                .and_then(|m| m.get(header))
                .map(|t| t.key().to_string());
            MappingRow {
                selected: remembered
                    .clone()
                    .or_else(|| c["field"].as_str().map(str::to_string))
                    .or_else(|| proposal.clone())
                    .unwrap_or_else(|| "-".into()),
                remembered: remembered.is_some(),
                unmapped: proposal.is_some(),
                suggested: proposal,
                mapped: c["mapped"] == true,
                samples: c["samples"]
                    .as_array()
                    .map(|a| {
                        a.iter()
                            .filter_map(|v| v.as_str().map(str::to_string))
                            .collect()
                    })
                    .unwrap_or_default(),
                header: header.to_string(),
                column,
            }
        })
        .collect();
    rows.sort_by_key(|r| (r.column.len(), r.column.clone()));
    rows
}

/// The mapping step's answer: check the file again, as a new upload, with the columns
/// mapped as chosen (the report and the files made from the first check stay as they were).
pub async fn remap(
    State(state): State<ApiContext>,
    Path(id): Path<String>,
    Posted { web, form }: Posted,
) -> Page {
    let up = owned(&state, &web, id, true).await?;
    let lang = web.lang;
    let Some(report) = parse_json(up.report.as_deref()).filter(|r| r["status"] == "ok") else {
        return Err(WebError::msg(StatusCode::CONFLICT, "upload.no_usable_report").with_lang(lang));
    };
    let f = form_map(&form);
    let mut mapping = clientele_pack::ColumnMap::new();
    for row in mapping_rows(&report, None) {
        let Some(choice) = f.get(format!("map_{}", row.column).as_str()) else {
            continue;
        };
        let target = clientele_pack::Target::parse(choice).map_err(|e| {
            WebError::msg_with(
                StatusCode::UNPROCESSABLE_ENTITY,
                "upload.column_refused",
                vec![
                    ("column", (&row.column).into()),
                    ("error", e.to_string().into()),
                ],
            )
            .with_lang(lang)
        })?;
        // Only what the heading alone does not give goes into the mapping.
        let by_heading = clientele_core::catalogue::match_header(&row.header);
        let same = match target {
            clientele_pack::Target::Field(f) => by_heading == Some(f),
            clientele_pack::Target::Ignore => false,
        };
        if !same {
            mapping.insert(&row.header, target).map_err(|e| {
                WebError::plain(StatusCode::UNPROCESSABLE_ENTITY, e).with_lang(lang)
            })?;
        }
    }
    if !mapping.is_empty() {
        // Offered again to the next file with the same headings (never applied by itself).
        let (key, json) = (heading_set(&report), mapping.to_json().to_string());
        state.db(move |s| s.remember_mapping(&key, &json)).await?;
    }
    check_new_upload(&state, &web, up.name, up.bytes, mapping).await
}

pub(super) fn attachment(name: &str, content_type: &'static str, bytes: Vec<u8>) -> Response {
    // RFC 6266: an ASCII fallback and the UTF-8 name.
    let ascii: String = name
        .chars()
        .map(|c| {
            if c.is_ascii_graphic() && c != '"' && c != '\\' {
                c
            } else {
                '_'
            }
        })
        .collect();
    let disposition = format!(
        "attachment; filename=\"{ascii}\"; filename*=UTF-8''{}",
        url_encode(name).replace('+', "%20")
    );
    let mut r = (StatusCode::OK, bytes).into_response();
    r.headers_mut()
        .insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
    if let Ok(v) = HeaderValue::from_str(&disposition) {
        r.headers_mut().insert(header::CONTENT_DISPOSITION, v);
    }
    r
}

pub(super) const XLSX: &str = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet";

pub(super) fn stem(name: &str) -> String {
    std::path::Path::new(name)
        .file_stem()
        .map_or_else(|| "pack".into(), |s| s.to_string_lossy().into_owned())
}

/// Make a file for people on the job threads, like checks (lowest priority, bounded
/// queue): a full queue is a "busy" answer, a failure says what could not be made.
pub(super) async fn on_job_threads<T: Send + 'static>(
    state: &ApiContext,
    lang: Lang,
    make: impl FnOnce() -> Result<T, String> + Send + 'static,
) -> Result<T, WebError> {
    state
        .0
        .work
        .submit(make)
        .map_err(|full| {
            WebError::from(crate::error::Error::Busy {
                waiting: full.waiting,
            })
            .with_lang(lang)
        })?
        .wait()
        .await
        .map_err(|_| WebError::from(crate::error::Error::internal("file build lost")))?
        .map_err(|e| {
            WebError::msg_with(
                StatusCode::UNPROCESSABLE_ENTITY,
                "upload.cannot_produce",
                vec![("error", e.into())],
            )
            .with_lang(lang)
        })
}

/// A file made from an upload, kept with it: made at the first download (from the stored
/// report: the check is not run again), then served as kept.
async fn made_once(
    state: &ApiContext,
    web: &Web,
    id: String,
    kind: UploadFile,
    make: impl FnOnce(Upload, Jv) -> Result<Vec<u8>, String> + Send + 'static,
) -> Result<(Upload, Jv, Vec<u8>), WebError> {
    let lang = web.lang;
    let up = readable(state, web, id, false).await?;
    let report = parse_json(up.report.as_deref());
    let Some(report) = report else {
        return Err(
            WebError::msg(StatusCode::CONFLICT, "upload.check_not_finished").with_lang(lang),
        );
    };
    let i2 = up.id.clone();
    if let Some(kept) = state.db(move |s| s.upload_file(&i2, kind)).await? {
        return Ok((up, report, kept));
    }
    let up = readable(state, web, up.id, true).await?;
    let (up2, r2) = (up.clone(), report.clone());
    let bytes = on_job_threads(state, lang, move || make(up2, r2)).await?;
    let (i2, b2) = (up.id.clone(), bytes.clone());
    state.db(move |s| s.set_upload_file(&i2, kind, &b2)).await?;
    Ok((up, report, bytes))
}

/// The listed issues of a stored report, as the annotated copy places them.
fn report_issues(report: &Jv) -> Vec<clientele_core::Issue> {
    report["issues"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|j| {
            let mut i = clientele_core::Issue::file("file", Problem::Invalid, Lang::En, "", "", "");
            if j["severity"] == "warning" {
                i.severity = clientele_core::Severity::Warning;
            }
            i.sheet = j["sheet"].as_str().map(str::to_string);
            i.row = j["row"].as_u64().and_then(|r| u32::try_from(r).ok());
            i.column = j["column"].as_str().map(str::to_string);
            i.code = j["code"].as_str().unwrap_or_default().to_string();
            i.message = j["message"].as_str().unwrap_or_default().to_string();
            i
        })
        .collect()
}

/// The user's file back as XLSX, each faulty cell highlighted with its message as a
/// comment (errors red, warnings amber): the issues the report lists.
pub async fn annotated(web: Web, State(state): State<ApiContext>, Path(id): Path<String>) -> Page {
    let (up, _, bytes) = made_once(&state, &web, id, UploadFile::Annotated, |up, report| {
        if report["status"] == "unusable" {
            // Nothing of the file can be placed: its one issue says why.
            let msg = report["issues"][0]["message"].as_str().unwrap_or_default();
            return Err(msg.to_string());
        }
        clientele_pack::annotate(&up.name, &up.bytes, &report_issues(&report))
            .map_err(|e| e.to_string())
    })
    .await?;
    Ok(attachment(
        &format!("{}.annote.xlsx", stem(&up.name)),
        XLSX,
        bytes,
    ))
}

/// The rows with errors, in the file's format, with their messages.
pub async fn rejected(web: Web, State(state): State<ApiContext>, Path(id): Path<String>) -> Page {
    let lang = web.lang;
    let (up, report, bytes) =
        made_once(&state, &web, id, UploadFile::Rejected, move |up, report| {
            let errors = row_errors(&report);
            clientele_import::rejected_rows(&up.name, up.bytes, &errors, lang)
                .map(|(_, bytes)| bytes)
                .map_err(|e| e.to_string())
        })
        .await?;
    let name = clientele_import::rejected_name(&up.name, !report["delimiter"].is_null());
    let ct = if name.ends_with(".csv") {
        "text/csv; charset=utf-8"
    } else {
        XLSX
    };
    Ok(attachment(&name, ct, bytes))
}

/// The error messages of the Clients tab's rows in a stored report, by row number.
fn row_errors(report: &Jv) -> HashMap<u32, String> {
    let clients_sheet = report["sheet"].as_str().map(str::to_string);
    let mut errors: HashMap<u32, String> = HashMap::new();
    for i in report["issues"].as_array().into_iter().flatten() {
        let (Some(row), Some("error")) = (i["row"].as_u64(), i["severity"].as_str()) else {
            continue;
        };
        // Only the Clients tab's rows (other sheets' issues carry their own sheet).
        if i["sheet"]
            .as_str()
            .is_some_and(|s| Some(s) != clients_sheet.as_deref())
        {
            continue;
        }
        let Ok(row) = u32::try_from(row) else {
            continue;
        };
        let msg = i["message"].as_str().unwrap_or_default();
        errors
            .entry(row)
            .and_modify(|m| {
                m.push_str(" ; ");
                m.push_str(msg);
            })
            .or_insert_with(|| msg.to_string());
    }
    errors
}

/// A blank pack.
pub async fn template(web: Web) -> Page {
    // The causes are kept (boxed) for the log line of the 500.
    let bytes = tokio::task::spawn_blocking(|| -> Result<Vec<u8>, crate::error::Error> {
        let dir = tempfile::tempdir().map_err(crate::error::Error::internal)?;
        let path = dir.path().join("pack.xlsx");
        clientele_pack::write_template(&path).map_err(crate::error::Error::internal)?;
        std::fs::read(&path).map_err(crate::error::Error::internal)
    })
    .await
    .map_err(|e| WebError::from(crate::error::Error::internal(e)))?
    .map_err(|e| WebError::from(e).with_lang(web.lang))?;
    Ok(attachment("pack-clients.xlsx", XLSX, bytes))
}

/// Past imports with their undo buttons.
pub async fn history(
    web: Web,
    State(state): State<ApiContext>,
    WebQuery(q): WebQuery<HashMap<String, String>>,
) -> Page {
    let rows = state.db(|s| s.imports()).await?;
    let undone = q.get("undone").and_then(|v| v.parse::<i64>().ok());
    Ok(web.page(
        "imports.html",
        "imports",
        context! { imports => Value::from_serialize(&rows), undone => undone },
    ))
}

/// Undo an import, then back to the history with the outcome.
pub async fn undo(
    State(state): State<ApiContext>,
    Path(id): Path<String>,
    Posted { web, form }: Posted,
) -> Page {
    let id: i64 = id.parse().map_err(|_| WebError::not_found())?;
    let force = form_map(&form).get("force") == Some(&"1");
    let actor = web.session.user.email.clone();
    let outcome = state
        .db_as(actor, move |s| Ok(s.undo_import(id, force)))
        .await?;
    let msg = match outcome {
        Ok(_) => {
            state.sync().await?;
            // Post/redirect/get: a reload does not post the undo again.
            return Ok(Redirect::to(&format!("/imports?undone={id}")).into_response());
        }
        Err(StoreError::Refused(m) | StoreError::Conflict(m)) => m,
        Err(e) => return Err(WebError::from(e).with_lang(web.lang)),
    };
    let rows = state.db(|s| s.imports()).await?;
    // The store's refusal is English (the CLI's and the API's words): said again in the
    // page's language from what it is about.
    let lang = web.lang;
    let msg = match rows.iter().find(|r| r.id == id) {
        Some(r) if r.undone_at.is_some() => messages::format(
            lang,
            "imports.already_undone",
            &[
                ("id", messages::Arg::Num(id)),
                (
                    "at",
                    messages::Arg::Text(r.undone_at.clone().unwrap_or_default()),
                ),
            ],
        ),
        Some(_) => match state.db(move |s| s.changed_after_import(id)).await? {
            (0, _) => msg,
            (n, accounts) => {
                let more = if n > accounts.len() as u64 {
                    ", …"
                } else {
                    ""
                };
                messages::format(
                    lang,
                    "imports.undo_refused_changed",
                    &[
                        ("id", messages::Arg::Num(id)),
                        (
                            "n",
                            messages::Arg::Num(i64::try_from(n).unwrap_or(i64::MAX)),
                        ),
                        (
                            "accounts",
                            messages::Arg::Text(format!("{}{more}", accounts.join(", "))),
                        ),
                    ],
                )
            }
        },
        None => msg,
    };
    let mut r = web.page(
        "imports.html",
        "imports",
        context! { imports => Value::from_serialize(&rows), refused => msg, refused_id => id },
    );
    *r.status_mut() = StatusCode::CONFLICT;
    Ok(r)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn issue(sheet: &str, row: u32, col: &str, code: &str, severity: &str) -> Jv {
        json!({"sheet": sheet, "row": row, "column": col, "header": format!("H{col}"), "code": code,
               "severity": severity, "value": "v", "message": "m"})
    }

    #[test]
    fn issues_group_by_sheet_column_then_code() {
        let issues = vec![
            issue("Clients", 4, "AA", "x.bad", "error"),
            issue("Clients", 3, "B", "b.warn", "warning"),
            issue("Contacts", 2, "B", "c.bad", "error"),
            issue("Clients", 2, "B", "b.bad", "error"),
            issue("Clients", 5, "B", "b.warn", "warning"),
        ];
        let g = group_issues(&issues, Some("Clients"), Lang::En);
        let cols: Vec<(Option<&str>, &str)> = g
            .iter()
            .map(|c| (c.sheet.as_deref(), c.column.as_str()))
            .collect();
        assert_eq!(
            cols,
            vec![(None, "B"), (None, "AA"), (Some("Contacts"), "B")]
        );
        let b = &g[0];
        assert_eq!((b.errors, b.warnings), (1, 2));
        // Errors first, then by frequency.
        let codes: Vec<&str> = b.codes.iter().map(|c| c.code.as_str()).collect();
        assert_eq!(codes, vec!["b.bad", "b.warn"]);
        assert_eq!(b.codes[1].count, 2);
        assert_eq!(b.codes[1].items.len(), 2);
    }
}
