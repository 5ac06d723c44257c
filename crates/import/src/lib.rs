//! The import use case, shared by `clientele check|import` and `POST /api/v1/imports`:
//! read a pack, validate every row, compare with (and write to) the store, and build the
//! report of `cli.md`.

use clientele_core::issue::{Issue, Lang, Severity};
use clientele_core::msg;
use clientele_core::validate::Cell;
use clientele_pack::{Opened, PackError, RawRow, Tab};
use clientele_store::import::{self, ImportOptions, Importer, Parsed, RowOutcome};
use clientele_store::{Store, StoreError};
use serde::Serialize;
use sha2::{Digest, Sha256};
use std::path::{Path, PathBuf};
use std::sync::mpsc;

/// At most this many issues are listed in a report (counts stay exact); a file with an error
/// on every one of a million rows would otherwise need gigabytes.
pub const MAX_LISTED_ISSUES: usize = 100_000;
/// Parsed rows per message from the parsing thread to the writing one.
const PARSED_BATCH: usize = 128;
/// Parsed rows waiting for the writing thread at most (a parsed row is a few kilobytes).
const PARSED_IN_FLIGHT: usize = 1024;

/// At most this many update previews are listed.
pub const MAX_LISTED_CHANGES: usize = 1_000;
/// The issues and update previews listed in a report take at most about this many bytes of
/// JSON (counts stay exact): a report is stored and shown again on every view of the
/// upload, and a few kilobytes of workbook could otherwise list hundreds of megabytes.
pub const MAX_REPORT_BYTES: usize = 16 << 20;
/// Issues are moved into the report (counted, listed or dropped) every this many, so the
/// issues waiting take little room.
const DRAIN_ISSUES: usize = 10_000;
/// Parsed rows travel in batches of at most this much cell text too (bytes), so that rows
/// of long cells cannot fill memory while waiting for the writing thread.
const PARSED_BATCH_BYTES: usize = 1 << 20;

/// A column of the report.
#[derive(Debug, Clone, Serialize)]
pub struct ReportColumn {
    /// Letter.
    pub column: String,
    /// Header as written.
    pub header: String,
    /// Pack key of the field.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub field: Option<&'static str>,
    /// Placed (or ignored) by the column mapping rather than recognised by its heading.
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub mapped: bool,
    /// The column's first non-blank values (a few), to recognise it when mapping.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub samples: Vec<String>,
}

/// Field changes of one updated customer.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Change {
    /// Row.
    pub row: u32,
    /// Customer id.
    pub id: i64,
    /// Customer account.
    pub customer_account: Option<String>,
    /// Changed fields (pack keys).
    pub fields: Vec<&'static str>,
    /// The same fields with their stored and new values.
    pub values: Vec<clientele_core::model::FieldChange>,
}

/// The JSON report of `check`, `import` and `POST /api/v1/imports`.
#[derive(Debug, Clone, Serialize, Default)]
#[serde(rename_all = "camelCase")]
pub struct Report {
    /// File name.
    pub file: String,
    /// Sheet read (workbooks).
    pub sheet: Option<String>,
    /// Detected encoding (text files).
    pub encoding: Option<String>,
    /// Detected delimiter (text files).
    pub delimiter: Option<String>,
    /// Recognised columns.
    pub columns: Vec<ReportColumn>,
    /// Ignored columns.
    pub ignored_columns: Vec<ReportColumn>,
    /// Non-blank data rows.
    pub rows: u64,
    /// Rows without error.
    pub valid: u64,
    /// Rows with errors.
    pub invalid: u64,
    /// Customers to create.
    pub create: u64,
    /// Customers to update.
    pub update: u64,
    /// Rows identical to the database.
    pub unchanged: u64,
    /// Number of errors.
    pub errors: u64,
    /// Number of warnings.
    pub warnings: u64,
    /// Issues, sorted by sheet, row, column.
    pub issues: Vec<Issue>,
    /// Issues not listed because of [`MAX_LISTED_ISSUES`] or [`MAX_REPORT_BYTES`].
    #[serde(skip_serializing_if = "is_zero")]
    pub issues_not_listed: u64,
    /// Field changes of updated customers (first [`MAX_LISTED_CHANGES`]).
    pub changes: Vec<Change>,
    /// Contacts read from the Contacts tab.
    pub contacts: u64,
    /// Updates that would make a customer another company (`customerAccount.identity_changed`:
    /// its name and its SIRET or VAT number all change). An import with any is refused
    /// unless [`RunOptions::allow_identity_change`].
    #[serde(skip_serializing_if = "is_zero")]
    pub identity_changes: u64,
    /// Why nothing was written although the rows are valid (the identity changes were not
    /// confirmed), in the report's language.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub refused: Option<String>,
    /// Whether the database was written.
    pub imported: bool,
    /// Import id when written.
    pub import_id: Option<i64>,
    /// Rejected-rows file, when written.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub rejected_file: Option<String>,
}

fn is_zero(n: &u64) -> bool {
    *n == 0
}

/// Why a run failed before producing a full report.
#[derive(Debug, thiserror::Error)]
pub enum RunError {
    /// The file cannot be used (exit code 2); the report holds the single issue.
    #[error("{}", .0.issues.first().map(|i| i.message.as_str()).unwrap_or("unusable file"))]
    Unusable(Box<Report>),
    /// Database or I/O failure (exit code 3).
    #[error("{0}")]
    Store(#[from] StoreError),
    /// I/O failure (exit code 3).
    #[error("{0}")]
    Io(String),
}

/// What to run.
#[derive(Debug, Clone, Default)]
pub struct RunOptions {
    /// Check only.
    pub dry_run: bool,
    /// Import valid rows, reject the others.
    pub skip_invalid: bool,
    /// Where to write the rejected rows (with `skip_invalid`); default `<file>.rejected.<ext>`.
    pub rejected: Option<PathBuf>,
    /// Message language.
    pub lang: Lang,
    /// Which file columns hold which fields when their headings do not say.
    pub mapping: clientele_pack::ColumnMap,
    /// Write updates that make customers other companies (`customerAccount.identity_changed`).
    pub allow_identity_change: bool,
}

/// The input: a file on disk, or bytes uploaded over HTTP.
pub enum Source<'a> {
    /// A path.
    Path(&'a Path),
    /// A name and its bytes.
    Bytes(&'a str, Vec<u8>),
}

fn unusable(file: &str, issue: Issue) -> RunError {
    let mut r = Report {
        file: file.to_string(),
        sheet: issue.sheet.clone(),
        ..Report::default()
    };
    r.errors = u64::from(issue.severity == Severity::Error);
    r.invalid = 0;
    r.issues.push(issue);
    RunError::Unusable(Box::new(r))
}

/// SHA-256 of a file, streamed.
fn sha256_file(path: &Path) -> std::io::Result<String> {
    let mut f = std::fs::File::open(path)?;
    let mut h = Sha256::new();
    std::io::copy(&mut f, &mut h)?;
    Ok(hex::encode(h.finalize()))
}

/// Run a check or an import. `progress` is called with the number of rows done, now and then.
pub fn run(
    store: &dyn Store,
    source: Source<'_>,
    opts: &RunOptions,
    progress: &mut dyn FnMut(u64),
) -> Result<Report, RunError> {
    let unusable_or_io = |name: &str, e: PackError| match e {
        PackError::Unusable(issue) => unusable(name, issue),
        e => RunError::Io(e.to_string()),
    };
    let (name, sha, opened, contacts) = match source {
        Source::Path(p) => {
            check_rejected_path(p, opts)?;
            let name = p
                .file_name()
                .map(|n| n.to_string_lossy().into_owned())
                .unwrap_or_default();
            let opened = clientele_pack::open_mapped(p, Tab::Clients, opts.lang, &opts.mapping)
                .map_err(|e| unusable_or_io(&name, e))?;
            let contacts = if clientele_pack::has_contacts(p) {
                Some(
                    clientele_pack::open(p, Tab::Contacts, opts.lang)
                        .map_err(|e| unusable_or_io(&name, e))?,
                )
            } else {
                None
            };
            // Hashed on its own thread while the rows are read: reading a large file twice
            // in a row would otherwise delay the import by the whole hash.
            let path = p.to_path_buf();
            let sha = FileHash::Pending(std::thread::spawn(move || {
                sha256_file(&path).map_err(|e| format!("{}: {e}", path.display()))
            }));
            (name, sha, opened, contacts)
        }
        Source::Bytes(n, bytes) => {
            let sha = FileHash::Ready(hex::encode(Sha256::digest(&bytes)));
            let contacts = if clientele_pack::has_contacts_bytes(n, &bytes) {
                Some(
                    clientele_pack::open_bytes(n, bytes.clone(), Tab::Contacts, opts.lang)
                        .map_err(|e| unusable_or_io(n, e))?,
                )
            } else {
                None
            };
            let opened =
                clientele_pack::open_bytes_mapped(n, bytes, Tab::Clients, opts.lang, &opts.mapping)
                    .map_err(|e| unusable_or_io(n, e))?;
            (n.to_string(), sha, opened, contacts)
        }
    };
    run_opened(store, &name, sha, opened, contacts, opts, progress)
}

/// Refuse a rejected-rows file that is the pack itself: writing it would destroy the pack.
fn check_rejected_path(pack: &Path, opts: &RunOptions) -> Result<(), RunError> {
    let Some(rejected) = &opts.rejected else {
        return Ok(());
    };
    let same = match (pack.canonicalize(), rejected.canonicalize()) {
        (Ok(a), Ok(b)) => a == b,
        _ => false,
    };
    if same {
        return Err(RunError::Io(format!(
            "the rejected-rows file {} is the pack itself: choose another path (nothing was imported)",
            rejected.display()
        )));
    }
    Ok(())
}

/// The SHA-256 of the input: known, or being computed on another thread.
enum FileHash {
    Ready(String),
    Pending(std::thread::JoinHandle<Result<String, String>>),
}

impl FileHash {
    fn wait(self) -> Result<String, RunError> {
        match self {
            FileHash::Ready(s) => Ok(s),
            FileHash::Pending(h) => h
                .join()
                .map_err(|_| RunError::Io("the file hash failed".into()))?
                .map_err(RunError::Io),
        }
    }
}

fn run_opened(
    store: &dyn Store,
    name: &str,
    sha: FileHash,
    opened: Opened,
    contacts: Option<Opened>,
    opts: &RunOptions,
    progress: &mut dyn FnMut(u64),
) -> Result<Report, RunError> {
    let mut report = Report {
        file: name.to_string(),
        sheet: opened.sheet.clone(),
        encoding: opened.encoding.map(str::to_string),
        delimiter: opened.delimiter.map(|d| {
            if d == '\t' {
                "tab".to_string()
            } else {
                d.to_string()
            }
        }),
        ..Report::default()
    };
    for c in &opened.columns {
        let col = ReportColumn {
            column: c.letter.clone(),
            header: c.header.clone(),
            field: c.field.map(|i| clientele_core::FIELDS[i].pack_key),
            mapped: c.mapped,
            samples: c.samples.clone(),
        };
        if col.field.is_some() {
            report.columns.push(col);
        } else if !c.header.trim().is_empty() {
            report.ignored_columns.push(col);
        }
    }
    let mut issues: Vec<Issue> = opened.warnings.clone();
    let sheet = opened.sheet.clone();
    // Where each field sits in the file, for placing issues.
    let mut place: Vec<Option<(String, String)>> = vec![None; clientele_core::N_FIELDS];
    for c in &opened.columns {
        if let Some(i) = c.field {
            place[i] = Some((c.letter.clone(), c.header.clone()));
        }
    }

    // An error of the header row (a column that looks like a field but is not mapped) stops
    // the import whatever the rows hold: the file is still checked in full, nothing written.
    let header_errors = opened
        .warnings
        .iter()
        .any(|i| i.severity == Severity::Error);
    let dry_run = opts.dry_run || header_errors;
    let mut importer = Importer::new(
        store,
        name,
        ImportOptions {
            dry_run,
            skip_invalid: opts.skip_invalid,
        },
    )?;
    if contacts.is_some() {
        importer.track_rows();
    }
    let mut present = [false; clientele_core::N_FIELDS];
    for c in &opened.columns {
        if let Some(f) = c.field {
            present[f] = true;
        }
    }
    importer.file_columns(&present);
    // Rejected rows go to their file as they come (a file of invalid rows would otherwise
    // be held whole in memory); the file is removed if the import does not happen.
    let mut rejected: Option<(PathBuf, clientele_pack::RejectedWriter)> = None;
    let keep_rejected = opts.skip_invalid && !dry_run;
    let mut listed_bytes = 0usize;

    // Parse cells on a second thread while this one talks to the database. Rows travel in
    // batches: a message per row costs a wake-up of the other thread (a futex call) per row.
    let (tx, rx) = mpsc::sync_channel::<Vec<Result<(RawRow, Parsed), PackError>>>(
        PARSED_IN_FLIGHT / PARSED_BATCH,
    );
    let all_columns = opened.columns.clone();
    let layout: Vec<(usize, usize)> = opened
        .columns
        .iter()
        .filter_map(|c| c.field.map(|f| (c.index, f)))
        .collect();
    let mut rows = opened.rows;
    let parser = std::thread::spawn(move || {
        let mut batch = Vec::with_capacity(PARSED_BATCH);
        let mut batch_bytes = 0usize;
        for r in rows.by_ref() {
            if let Ok(raw) = &r {
                batch_bytes += raw.cells.iter().map(cell_bytes).sum::<usize>();
            }
            let item = r.map(|mut raw| {
                let mut cells: clientele_core::validate::Cells = std::array::from_fn(|_| None);
                for &(col, field) in &layout {
                    // The raw row is only needed again for a rejected-rows file; otherwise
                    // move the cells instead of copying them.
                    let cell = match raw.cells.get_mut(col) {
                        Some(c) if keep_rejected => c.clone(),
                        Some(c) => std::mem::replace(c, Cell::Empty),
                        None => Cell::Empty,
                    };
                    cells[field] = Some(cell);
                }
                if !keep_rejected {
                    // Emptied above and never read again: freed here rather than on the
                    // writing thread, the import's busiest.
                    raw.cells = Vec::new();
                }
                let parsed = import::parse(cells);
                (raw, parsed)
            });
            let stop = item.is_err();
            batch.push(item);
            if batch.len() >= PARSED_BATCH || batch_bytes >= PARSED_BATCH_BYTES || stop {
                batch_bytes = 0;
                let full = std::mem::replace(&mut batch, Vec::with_capacity(PARSED_BATCH));
                if tx.send(full).is_err() || stop {
                    return;
                }
            }
        }
        if !batch.is_empty() {
            let _ = tx.send(batch);
        }
    });

    let mut failure: Option<RunError> = None;
    let rejected_path = opts
        .rejected
        .clone()
        .unwrap_or_else(|| default_rejected_path(name, report.delimiter.is_some()));
    let delim = opened_delimiter(&report);
    let cannot_write = |path: &Path, e: PackError| {
        RunError::Io(format!(
            "cannot write the rejected rows to {}: {e}; nothing was imported",
            path.display()
        ))
    };
    let mut n = 0u64;
    for item in rx.into_iter().flatten() {
        let (raw, parsed) = match item {
            Ok(x) => x,
            Err(e) => {
                failure = Some(match e {
                    PackError::Unusable(i) => unusable(name, i),
                    other => RunError::Io(other.to_string()),
                });
                break;
            }
        };
        let (outcome, field_issues) = match importer.row(raw.number, parsed) {
            Ok(x) => x,
            Err(e) => {
                failure = Some(e.into());
                break;
            }
        };
        for fi in &field_issues {
            let (col, head) = place[fi.field.idx()].clone().unzip();
            issues.push(Issue::at(
                fi,
                opts.lang,
                sheet.as_deref(),
                raw.number,
                col,
                head,
            ));
        }
        match outcome {
            RowOutcome::Invalid if keep_rejected => {
                let msgs = field_issues
                    .iter()
                    .filter(|i| i.severity() == Severity::Error)
                    .map(|i| i.message(opts.lang))
                    .collect::<Vec<_>>()
                    .join(" ; ");
                if rejected.is_none() {
                    match clientele_pack::RejectedWriter::new(&rejected_path, &all_columns, delim) {
                        Ok(w) => rejected = Some((rejected_path.clone(), w)),
                        Err(e) => {
                            failure = Some(cannot_write(&rejected_path, e));
                            break;
                        }
                    }
                }
                if let Some((path, w)) = rejected.as_mut() {
                    if let Err(e) = w.write(&raw, &msgs) {
                        failure = Some(cannot_write(path, e));
                        break;
                    }
                }
            }
            RowOutcome::Update {
                id,
                account,
                fields,
            } => {
                if let Some(change) = IdentityChange::of(&fields) {
                    report.identity_changes += 1;
                    let fi = clientele_core::FieldIssue::new(
                        clientele_core::F::customerAccount,
                        clientele_core::Problem::IdentityChanged,
                        account.clone().unwrap_or_default(),
                        change.render(opts.lang),
                    );
                    let (col, head) = place[fi.field.idx()].clone().unzip();
                    issues.push(Issue::at(
                        &fi,
                        opts.lang,
                        sheet.as_deref(),
                        raw.number,
                        col,
                        head,
                    ));
                }
                if report.changes.len() < MAX_LISTED_CHANGES && listed_bytes < MAX_REPORT_BYTES {
                    listed_bytes += 64
                        + fields
                            .iter()
                            .map(|c| {
                                32 + c.before.as_ref().map_or(0, String::len)
                                    + c.after.as_ref().map_or(0, String::len)
                            })
                            .sum::<usize>();
                    report.changes.push(Change {
                        row: raw.number,
                        id,
                        customer_account: account,
                        fields: fields.iter().map(|c| c.field).collect(),
                        values: fields,
                    });
                }
            }
            _ => {}
        }
        n += 1;
        if n.is_multiple_of(1_000) {
            progress(n);
        }
        if issues.len() > DRAIN_ISSUES {
            report.issues_not_listed += count_and_drop(&mut issues, &mut report, &mut listed_bytes);
        }
    }
    let _ = parser.join();
    if let Some(f) = failure {
        if let Some((path, w)) = rejected.take() {
            drop(w);
            let _ = std::fs::remove_file(path);
        }
        // Dropping the importer rolls the transaction back.
        return Err(f);
    }
    progress(n);
    let remove_rejected = |r: Option<(PathBuf, clientele_pack::RejectedWriter)>| {
        if let Some((path, w)) = r {
            drop(w);
            let _ = std::fs::remove_file(path);
        }
    };
    if let Some(c) = contacts {
        issues.extend(c.warnings.clone());
        if let Err(e) = import_contacts(&mut importer, c, opts.lang, &mut issues) {
            remove_rejected(rejected);
            return Err(e);
        }
    }
    let counts = importer.counts();
    if !dry_run && report.identity_changes > 0 && !opts.allow_identity_change {
        // Not confirmed: nothing is written (dropping the importer rolls back).
        remove_rejected(rejected);
        drop(importer);
        report.refused = Some(identity_refusal(report.identity_changes, opts.lang));
        return Ok(finish_report(
            report,
            counts,
            issues,
            listed_bytes,
            false,
            None,
        ));
    }
    // The rejected rows are finished before the commit: should the file not be writable,
    // the import is rolled back rather than committed without them.
    let mut rejected_file = None;
    if let Some((path, w)) = rejected {
        if let Err(e) = w.finish() {
            let _ = std::fs::remove_file(&path);
            return Err(cannot_write(&path, e));
        }
        rejected_file = Some(path);
    }
    let outcome = match sha.wait().and_then(|sha| Ok(importer.finish(&sha)?)) {
        Ok(o) => o,
        Err(e) => {
            if let Some(p) = &rejected_file {
                // Nothing was imported: the rejected rows of an import that did not happen
                // would mislead.
                let _ = std::fs::remove_file(p);
            }
            return Err(e);
        }
    };

    let mut report = finish_report(
        report,
        counts,
        issues,
        listed_bytes,
        outcome.imported,
        outcome.import_id,
    );
    report.rejected_file = rejected_file.map(|p| p.display().to_string());
    Ok(report)
}

/// The report with the final counts and the remaining issues, sorted.
fn finish_report(
    mut report: Report,
    counts: import::Counts,
    mut issues: Vec<Issue>,
    mut listed_bytes: usize,
    imported: bool,
    import_id: Option<i64>,
) -> Report {
    report.rows = counts.rows;
    report.valid = counts.valid;
    report.invalid = counts.invalid;
    report.create = counts.create;
    report.update = counts.update;
    report.unchanged = counts.unchanged;
    report.contacts = counts.contacts;
    report.issues_not_listed += count_and_drop(&mut issues, &mut report, &mut listed_bytes);
    report.issues.sort_by(|a, b| {
        (&a.sheet, a.row, col_key(&a.column)).cmp(&(&b.sheet, b.row, col_key(&b.column)))
    });
    report.imported = imported;
    report.import_id = import_id;
    report
}

/// Why an import with unconfirmed identity changes wrote nothing.
fn identity_refusal(n: u64, lang: Lang) -> String {
    msg!(lang, "import.identity_refused", n = n)
}

/// An update that turns a customer into another company: its name changes and so does its
/// SIRET or its VAT number (each present before and after). Filling in an identifier the
/// customer lacked, or renaming a company that keeps its SIRET, is not one.
#[derive(Debug, Clone, PartialEq)]
struct IdentityChange {
    name: (String, String),
    /// Which identifier changed (`SIRET` or `TVA`/`VAT`), before and after.
    id: (&'static str, String, String),
}

impl IdentityChange {
    fn of(fields: &[clientele_core::model::FieldChange]) -> Option<IdentityChange> {
        let both = |key: &str| {
            fields.iter().find(|c| c.field == key).and_then(|c| {
                match (c.before.as_deref(), c.after.as_deref()) {
                    (Some(b), Some(a)) if !b.trim().is_empty() && !a.trim().is_empty() => {
                        Some((b.to_string(), a.to_string()))
                    }
                    _ => None,
                }
            })
        };
        let name = both(clientele_core::F::name.key()).filter(|(b, a)| {
            clientele_core::catalogue::fold(b) != clientele_core::catalogue::fold(a)
        })?;
        let siret = both(clientele_core::F::registrationNumber.key()).filter(|(b, a)| {
            clientele_core::ident::compact(b) != clientele_core::ident::compact(a)
        });
        let vat = both(clientele_core::F::taxRegistrationNumber.key()).filter(|(b, a)| {
            clientele_core::ident::compact(b) != clientele_core::ident::compact(a)
        });
        let id = match (siret, vat) {
            (Some((b, a)), _) => ("SIRET", b, a),
            (None, Some((b, a))) => ("VAT", b, a),
            (None, None) => return None,
        };
        Some(IdentityChange { name, id })
    }

    /// The message detail: both companies.
    fn render(&self, lang: Lang) -> String {
        let (label, before, after) = &self.id;
        // "SIRET" reads the same in both languages; the VAT number's name does not.
        let label = match *label {
            "VAT" => msg!(lang, "import.identity_vat"),
            l => l.to_string(),
        };
        msg!(
            lang,
            "import.identity_change",
            before_name = &self.name.0,
            after_name = &self.name.1,
            label = label,
            before = before,
            after = after
        )
    }
}

/// Validate the Contacts tab and hand its valid rows to the importer.
fn import_contacts(
    importer: &mut Importer<'_>,
    opened: Opened,
    lang: Lang,
    issues: &mut Vec<Issue>,
) -> Result<(), RunError> {
    use clientele_core::contact::{self, Contact};
    let sheet = opened.sheet.clone();
    let layout = opened.columns.clone();
    let place = |i: usize| {
        layout
            .iter()
            .find(|c| c.field == Some(i))
            .map(|c| (c.letter.clone(), c.header.clone()))
            .unzip()
    };
    let columns: Vec<(usize, Option<&'static contact::ContactColumn>)> =
        clientele_pack::CONTACT_FIELDS
            .iter()
            .enumerate()
            .map(|(i, (_, key))| (i, contact::column_by_key(key)))
            .collect();
    let mut located = |row: u32,
                       field: usize,
                       key: &'static str,
                       severity: Severity,
                       code: String,
                       value: String,
                       message: String,
                       problem| {
        let (column, header) = place(field);
        let (value, value_length) = clientele_core::issue::reported_value(&value);
        issues.push(Issue {
            sheet: sheet.clone(),
            row: Some(row),
            column,
            header,
            field: Some(key),
            value: Some(value),
            value_length,
            severity,
            code,
            message,
            problem,
        });
    };
    let mut rows = opened.rows;
    for raw in rows.by_ref() {
        let raw = raw.map_err(|e| match e {
            PackError::Unusable(i) => RunError::Unusable(Box::new(Report {
                issues: vec![i],
                errors: 1,
                ..Report::default()
            })),
            e => RunError::Io(e.to_string()),
        })?;
        let cells = opened_contact_cells(&layout, &raw);
        let link_text = cells
            .first()
            .cloned()
            .flatten()
            .map(|c| c.display())
            .unwrap_or_default();
        let link = if link_text.trim().is_empty() {
            None
        } else {
            importer.resolve_client(&link_text)?
        };
        let input: Vec<(&'static contact::ContactColumn, Cell)> = columns
            .iter()
            .filter_map(|(i, col)| Some(((*col)?, cells.get(*i).cloned().flatten()?)))
            .collect();
        let (c, contact_issues) = contact::apply(&Contact::new(0), &input);
        let mut has_error = false;
        if link.is_none() {
            has_error = true;
            let p = clientele_core::Problem::UnknownClient;
            located(
                raw.number,
                0,
                "client",
                Severity::Error,
                "client.unknown".into(),
                link_text.clone(),
                clientele_core::issue::render(p, lang, "Client", &link_text, ""),
                p,
            );
        }
        for ci in &contact_issues {
            has_error |= ci.severity() == Severity::Error;
            let field = clientele_pack::CONTACT_FIELDS
                .iter()
                .position(|(_, k)| *k == ci.key)
                .unwrap_or(0);
            located(
                raw.number,
                field,
                ci.key,
                ci.severity(),
                ci.code(),
                ci.value.clone(),
                ci.message(lang),
                ci.problem,
            );
        }
        match (has_error, link) {
            (false, Some(l)) => importer.contact(c, l),
            _ => importer.invalid_contact(),
        }
    }
    Ok(())
}

/// Cells of a Contacts-tab row by `CONTACT_FIELDS` index.
fn opened_contact_cells(columns: &[clientele_pack::Column], raw: &RawRow) -> Vec<Option<Cell>> {
    let mut out = vec![None; clientele_pack::CONTACT_FIELDS.len()];
    for c in columns {
        if let Some(slot) = c.field.and_then(|f| out.get_mut(f)) {
            *slot = Some(raw.cells.get(c.index).cloned().unwrap_or(Cell::Empty));
        }
    }
    out
}

/// Move counted issues into the report's list (up to [`MAX_LISTED_ISSUES`] and
/// [`MAX_REPORT_BYTES`], `listed_bytes` being what is listed so far); returns how many were
/// dropped.
fn count_and_drop(issues: &mut Vec<Issue>, report: &mut Report, listed_bytes: &mut usize) -> u64 {
    let mut dropped = 0;
    for i in issues.drain(..) {
        match i.severity {
            Severity::Error => report.errors += 1,
            Severity::Warning => report.warnings += 1,
        }
        // The JSON of an issue: its texts and ~150 bytes of keys and numbers.
        let size = 150
            + i.message.len()
            + i.code.len()
            + i.value.as_ref().map_or(0, String::len)
            + i.header.as_ref().map_or(0, String::len)
            + i.sheet.as_ref().map_or(0, String::len);
        if report.issues.len() < MAX_LISTED_ISSUES && *listed_bytes + size <= MAX_REPORT_BYTES {
            *listed_bytes += size;
            report.issues.push(i);
        } else {
            dropped += 1;
        }
    }
    dropped
}

/// Text bytes of a cell.
fn cell_bytes(c: &Cell) -> usize {
    match c {
        Cell::Text(s) | Cell::Error(s) => s.len(),
        _ => 0,
    }
}

/// Sort key of a column letter: shorter first, then alphabetical (`B` < `AA`); none first.
fn col_key(c: &Option<String>) -> (usize, String) {
    c.as_ref()
        .map_or((0, String::new()), |s| (s.len(), s.clone()))
}

/// The rejected-rows file of an uploaded pack, from its check report: the rows with errors
/// (`errors`: row number → messages), in the input's format, with an `Erreurs` column.
/// Returns the file name to offer and its bytes.
pub fn rejected_rows(
    name: &str,
    bytes: Vec<u8>,
    errors: &std::collections::HashMap<u32, String>,
    lang: Lang,
) -> Result<(String, Vec<u8>), RunError> {
    let opened = clientele_pack::open_bytes(name, bytes, Tab::Clients, lang)
        .map_err(|e| RunError::Io(e.to_string()))?;
    let delim = opened.delimiter;
    let out_name = default_rejected_path(name, delim.is_some())
        .display()
        .to_string();
    let dir = tempfile::tempdir().map_err(|e| RunError::Io(e.to_string()))?;
    let path = dir.path().join(&out_name);
    let mut w = clientele_pack::RejectedWriter::new(&path, &opened.columns, delim)
        .map_err(|e| RunError::Io(e.to_string()))?;
    for row in opened.rows {
        let row = row.map_err(|e| RunError::Io(e.to_string()))?;
        if let Some(msgs) = errors.get(&row.number) {
            w.write(&row, msgs)
                .map_err(|e| RunError::Io(e.to_string()))?;
        }
    }
    w.finish().map_err(|e| RunError::Io(e.to_string()))?;
    let out = std::fs::read(&path).map_err(|e| RunError::Io(e.to_string()))?;
    Ok((out_name, out))
}

/// The name of the rejected-rows file of a pack: `<stem>.rejected.csv` for a text file
/// (`csv`), `<stem>.rejected.xlsx` for a workbook.
pub fn rejected_name(name: &str, csv: bool) -> String {
    default_rejected_path(name, csv).display().to_string()
}

fn default_rejected_path(name: &str, csv: bool) -> PathBuf {
    let stem = Path::new(name)
        .file_stem()
        .map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_else(|| "pack".into());
    PathBuf::from(format!(
        "{stem}.rejected.{}",
        if csv { "csv" } else { "xlsx" }
    ))
}

fn opened_delimiter(r: &Report) -> Option<char> {
    r.delimiter.as_deref().map(|d| {
        if d == "tab" {
            '\t'
        } else {
            d.chars().next().unwrap_or(';')
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn columns_sort_like_a_spreadsheet() {
        assert!(col_key(&Some("B".into())) < col_key(&Some("AA".into())));
        assert!(col_key(&None) < col_key(&Some("A".into())));
    }

    fn change(
        field: &'static str,
        before: &str,
        after: &str,
    ) -> clientele_core::model::FieldChange {
        let some = |s: &str| (!s.is_empty()).then(|| s.to_string());
        clientele_core::model::FieldChange {
            field,
            before: some(before),
            after: some(after),
        }
    }

    #[test]
    fn identity_changes_need_name_and_identifier() {
        let name = change("name", "Électricité Françoise 1", "Hôtel Lefèvre 1");
        let siret = change("registrationNumber", "73282932000074", "44306184100047");
        let vat = change("taxRegistrationNumber", "FR44732829320", "FR40303265045");
        let c = IdentityChange::of(&[name.clone(), siret.clone()]).unwrap();
        assert_eq!(
            c.render(Lang::En),
            "\"Électricité Françoise 1\" (SIRET 73282932000074) would become \"Hôtel Lefèvre 1\" (SIRET 44306184100047)"
        );
        let c = IdentityChange::of(&[name.clone(), vat.clone()]).unwrap();
        assert!(c
            .render(Lang::Fr)
            .contains("(TVA FR44732829320) deviendrait"));
        // A rename alone, a new SIRET alone, an identifier filled in: not another company.
        assert_eq!(IdentityChange::of(std::slice::from_ref(&name)), None);
        assert_eq!(IdentityChange::of(&[siret.clone(), vat]), None);
        let filled = change("registrationNumber", "", "44306184100047");
        assert_eq!(IdentityChange::of(&[name, filled]), None);
        // Case and accents are no change of name; spaces are no change of SIRET.
        let same_name = change("name", "HOTEL LEFEVRE", "Hôtel Lefèvre");
        assert_eq!(IdentityChange::of(&[same_name, siret]), None);
        let spaced = change("registrationNumber", "732 829 320 00074", "73282932000074");
        let other = change("name", "A", "B");
        assert_eq!(IdentityChange::of(&[other, spaced]), None);
    }
}
