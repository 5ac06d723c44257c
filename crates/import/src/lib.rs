//! The import use case, shared by `clientele check|import` and `POST /api/v1/imports`:
//! read a pack, validate every row, compare with (and write to) the store, and build the
//! report of `cli.md`.

use clientele_core::contact::{self, Contact};
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

pub mod changes;

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
    /// Where to write every change of every update (the raw list of [`changes`]), however
    /// many: the report lists only the first [`MAX_LISTED_CHANGES`].
    pub changes: Option<PathBuf>,
}

/// The input: a file on disk, or bytes uploaded over HTTP.
pub enum Source<'a> {
    /// A path.
    Path(&'a Path),
    /// A name and its bytes.
    Bytes(&'a str, Vec<u8>),
}

/// A pack that could not be read: its unusable-file issue as the report, or an I/O error.
fn pack_failure(file: &str, e: PackError) -> RunError {
    match e {
        PackError::Unusable(issue) => unusable(file, issue),
        e => RunError::Io(e.to_string()),
    }
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
    let (name, sha, opened, contacts) = match source {
        Source::Path(p) => {
            check_rejected_path(p, opts)?;
            let name = p
                .file_name()
                .map(|n| n.to_string_lossy().into_owned())
                .unwrap_or_default();
            let opened = clientele_pack::open_mapped(p, Tab::Clients, opts.lang, &opts.mapping)
                .map_err(|e| pack_failure(&name, e))?;
            let contacts = if clientele_pack::has_contacts(p) {
                Some(
                    clientele_pack::open(p, Tab::Contacts, opts.lang)
                        .map_err(|e| pack_failure(&name, e))?,
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
                        .map_err(|e| pack_failure(n, e))?,
                )
            } else {
                None
            };
            let opened =
                clientele_pack::open_bytes_mapped(n, bytes, Tab::Clients, opts.lang, &opts.mapping)
                    .map_err(|e| pack_failure(n, e))?;
            (n.to_string(), sha, opened, contacts)
        }
    };
    let report = run_opened(store, &name, sha, opened, contacts, opts, progress)?;
    if !opts.dry_run && !opts.mapping.is_empty() {
        // Offered (never applied) by the web mapping step to the next file with the same
        // headings. A failure here loses only that offer, not the import: not reported.
        let _ = store.remember_mapping(&heading_set(&report), &opts.mapping.to_json().to_string());
    }
    Ok(report)
}

/// The key of the file's set of headings (`clientele_pack::heading_set`): every column
/// the report lists, recognised or ignored.
pub fn heading_set(report: &Report) -> String {
    clientele_pack::heading_set(
        report
            .columns
            .iter()
            .chain(&report.ignored_columns)
            .map(|c| c.header.as_str()),
    )
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

/// Validate every row of the Clients tab (then the Contacts tab), hand them to the
/// importer, which writes them unless this is a dry run, and build the report.
fn run_opened(
    store: &dyn Store,
    name: &str,
    sha: FileHash,
    opened: Opened,
    contacts: Option<Opened>,
    opts: &RunOptions,
    progress: &mut dyn FnMut(u64),
) -> Result<Report, RunError> {
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
    importer.file_columns(&file_fields(&opened.columns));
    let keep_rejected = opts.skip_invalid && !dry_run;
    let change_log = match &opts.changes {
        Some(p) => Some(changes::ChangeLog::create(p)?),
        None => None,
    };
    let mut tally = Tally::new(name, &opened, opts, change_log);
    let (parsed, parser) = spawn_parser(opened.rows, &opened.columns, keep_rejected);

    let mut failure: Option<RunError> = None;
    let mut n = 0u64;
    for item in parsed.into_iter().flatten() {
        if let Err(e) = tally.row(&mut importer, item, keep_rejected) {
            failure = Some(e);
            break;
        }
        n += 1;
        if n.is_multiple_of(1_000) {
            progress(n);
        }
        tally.drain_if_many();
    }
    let _ = parser.join();
    if let Some(f) = failure {
        tally.rejected.discard();
        // Dropping the importer rolls the transaction back.
        return Err(f);
    }
    progress(n);
    finish_run(tally, importer, contacts, sha, dry_run, opts)
}

/// Which fields the file has a column for.
fn file_fields(columns: &[clientele_pack::Column]) -> [bool; clientele_core::N_FIELDS] {
    let mut present = [false; clientele_core::N_FIELDS];
    for c in columns {
        if let Some(f) = c.field {
            present[f] = true;
        }
    }
    present
}

/// Rows parsed to fields.
type ParsedBatch = Vec<Result<(RawRow, Parsed), PackError>>;

/// Parse cells on a second thread while the caller's talks to the database. Rows travel in
/// batches: a message per row costs a wake-up of the other thread (a futex call) per row.
/// With `keep_rejected` the raw cells are kept for the rejected-rows file.
fn spawn_parser(
    mut rows: Box<dyn Iterator<Item = Result<RawRow, PackError>> + Send>,
    columns: &[clientele_pack::Column],
    keep_rejected: bool,
) -> (mpsc::Receiver<ParsedBatch>, std::thread::JoinHandle<()>) {
    let (tx, rx) = mpsc::sync_channel::<ParsedBatch>(PARSED_IN_FLIGHT / PARSED_BATCH);
    let layout: Vec<(usize, usize)> = columns
        .iter()
        .filter_map(|c| c.field.map(|f| (c.index, f)))
        .collect();
    let parser = std::thread::spawn(move || {
        let mut batch = Vec::with_capacity(PARSED_BATCH);
        let mut batch_bytes = 0usize;
        for r in rows.by_ref() {
            if let Ok(raw) = &r {
                batch_bytes += raw.cells.iter().map(cell_bytes).sum::<usize>();
            }
            let item = r.map(|raw| parse_row(raw, &layout, keep_rejected));
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
    (rx, parser)
}

/// A row's cells arranged by field (`layout`: column index → field) and parsed.
fn parse_row(mut raw: RawRow, layout: &[(usize, usize)], keep_rejected: bool) -> (RawRow, Parsed) {
    let mut cells: clientele_core::validate::Cells = std::array::from_fn(|_| None);
    for &(col, field) in layout {
        // The raw row is only needed again for a rejected-rows file; otherwise move the
        // cells instead of copying them.
        let cell = match raw.cells.get_mut(col) {
            Some(c) if keep_rejected => c.clone(),
            Some(c) => std::mem::replace(c, Cell::Empty),
            None => Cell::Empty,
        };
        cells[field] = Some(cell);
    }
    if !keep_rejected {
        // Emptied above and never read again: freed here rather than on the writing
        // thread, the import's busiest.
        raw.cells = Vec::new();
    }
    let parsed = import::parse(cells);
    (raw, parsed)
}

/// What the rows of a run add up to as they are written: the report so far, the issues
/// waiting to be counted into it, and the rejected rows.
struct Tally<'a> {
    file: &'a str,
    lang: Lang,
    report: Report,
    issues: Vec<Issue>,
    /// Bytes of JSON the listed issues and changes take (bounded by [`MAX_REPORT_BYTES`]).
    listed_bytes: usize,
    sheet: Option<String>,
    /// Where each field sits in the file (letter, heading), for placing issues.
    place: Vec<Option<(String, String)>>,
    rejected: RejectedRows,
    /// Every change of every update, when asked for ([`RunOptions::changes`]).
    changes: Option<changes::ChangeLog>,
}

impl<'a> Tally<'a> {
    /// The report's file, sheet, format and columns, before any row.
    fn new(
        file: &'a str,
        opened: &Opened,
        opts: &RunOptions,
        changes: Option<changes::ChangeLog>,
    ) -> Tally<'a> {
        let mut report = Report {
            file: file.to_string(),
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
        let mut place: Vec<Option<(String, String)>> = vec![None; clientele_core::N_FIELDS];
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
            if let Some(slot) = c.field.and_then(|i| place.get_mut(i)) {
                *slot = Some((c.letter.clone(), c.header.clone()));
            }
        }
        // Rejected rows go to their file as they come (a file of invalid rows would
        // otherwise be held whole in memory); the file is removed if the import does not
        // happen.
        let rejected = RejectedRows {
            path: opts
                .rejected
                .clone()
                .unwrap_or_else(|| default_rejected_path(file, report.delimiter.is_some())),
            columns: opened.columns.clone(),
            delimiter: opened_delimiter(&report),
            writer: None,
        };
        Tally {
            file,
            lang: opts.lang,
            report,
            issues: opened.warnings.clone(),
            listed_bytes: 0,
            sheet: opened.sheet.clone(),
            place,
            rejected,
            changes,
        }
    }

    /// One parsed row through the importer: its issues, its rejection, its changes.
    fn row(
        &mut self,
        importer: &mut Importer<'_>,
        item: Result<(RawRow, Parsed), PackError>,
        keep_rejected: bool,
    ) -> Result<(), RunError> {
        let (raw, parsed) = item.map_err(|e| pack_failure(self.file, e))?;
        let (outcome, field_issues) = importer.row(raw.number, parsed)?;
        for fi in &field_issues {
            self.push_at(fi, raw.number);
        }
        match outcome {
            RowOutcome::Invalid if keep_rejected => {
                let msgs = field_issues
                    .iter()
                    .filter(|i| i.severity() == Severity::Error)
                    .map(|i| i.message(self.lang))
                    .collect::<Vec<_>>()
                    .join(" ; ");
                self.rejected.write(&raw, &msgs)?;
            }
            RowOutcome::Update {
                id,
                account,
                name,
                fields,
            } => self.update(raw.number, id, account, name, fields)?,
            _ => {}
        }
        Ok(())
    }

    /// An issue of a field, placed on its row and the field's column.
    fn push_at(&mut self, fi: &clientele_core::FieldIssue, row: u32) {
        let (col, head) = self.place[fi.field.idx()].clone().unzip();
        let issue = Issue::at(fi, self.lang, self.sheet.as_deref(), row, col, head);
        self.issues.push(issue);
    }

    /// An updated customer: an identity change is an issue; the changes are listed (the
    /// first [`MAX_LISTED_CHANGES`], within [`MAX_REPORT_BYTES`]) and all go to the list
    /// of every change when there is one.
    fn update(
        &mut self,
        row: u32,
        id: i64,
        account: Option<String>,
        name: Option<String>,
        fields: Vec<clientele_core::model::FieldChange>,
    ) -> Result<(), RunError> {
        let identity = IdentityChange::of(&fields);
        if let Some(log) = self.changes.as_mut() {
            let (account, name) = (account.as_deref(), name.as_deref());
            log.update(row, id, account, name, &fields, identity.is_some())?;
        }
        if let Some(change) = identity {
            self.report.identity_changes += 1;
            let detail = change.detail();
            let fi = clientele_core::FieldIssue::new(
                clientele_core::Field::customerAccount,
                clientele_core::Problem::IdentityChanged,
                account.clone().unwrap_or_default(),
                detail.text(clientele_core::Problem::IdentityChanged, self.lang),
            );
            let (col, head) = self.place[fi.field.idx()].clone().unzip();
            let mut issue = Issue::at(&fi, self.lang, self.sheet.as_deref(), row, col, head);
            // Both companies as the message's arguments: the text of `detail` is in this
            // report's language only.
            issue.detail = None;
            issue.detail_message = Some(detail);
            self.issues.push(issue);
        }
        if self.report.changes.len() < MAX_LISTED_CHANGES && self.listed_bytes < MAX_REPORT_BYTES {
            self.listed_bytes += 64
                + fields
                    .iter()
                    .map(|c| {
                        32 + c.before.as_ref().map_or(0, String::len)
                            + c.after.as_ref().map_or(0, String::len)
                    })
                    .sum::<usize>();
            self.report.changes.push(Change {
                row,
                id,
                customer_account: account,
                fields: fields.iter().map(|c| c.field).collect(),
                values: fields,
            });
        }
        Ok(())
    }

    /// Count the waiting issues into the report once there are many.
    fn drain_if_many(&mut self) {
        if self.issues.len() > DRAIN_ISSUES {
            self.report.issues_not_listed +=
                count_and_drop(&mut self.issues, &mut self.report, &mut self.listed_bytes);
        }
    }
}

/// The rejected-rows file of an import with `skip_invalid`, created on the first rejected
/// row.
struct RejectedRows {
    path: PathBuf,
    columns: Vec<clientele_pack::Column>,
    delimiter: Option<char>,
    writer: Option<clientele_pack::RejectedWriter>,
}

impl RejectedRows {
    fn write(&mut self, raw: &RawRow, msgs: &str) -> Result<(), RunError> {
        if self.writer.is_none() {
            let w = clientele_pack::RejectedWriter::new(&self.path, &self.columns, self.delimiter)
                .map_err(|e| cannot_write(&self.path, e))?;
            self.writer = Some(w);
        }
        if let Some(w) = self.writer.as_mut() {
            w.write(raw, msgs)
                .map_err(|e| cannot_write(&self.path, e))?;
        }
        Ok(())
    }

    /// The import does not happen: the rejected rows of it would mislead.
    fn discard(self) {
        if let Some(w) = self.writer {
            drop(w);
            let _ = std::fs::remove_file(&self.path);
        }
    }

    /// The file completed, if a row was rejected.
    fn finish(self) -> Result<Option<PathBuf>, RunError> {
        let Some(w) = self.writer else {
            return Ok(None);
        };
        if let Err(e) = w.finish() {
            let _ = std::fs::remove_file(&self.path);
            return Err(cannot_write(&self.path, e));
        }
        Ok(Some(self.path))
    }
}

fn cannot_write(path: &Path, e: PackError) -> RunError {
    RunError::Io(format!(
        "cannot write the rejected rows to {}: {e}; nothing was imported",
        path.display()
    ))
}

/// After the Clients rows: the Contacts tab, the refusal of unconfirmed identity changes,
/// the rejected-rows file, and the commit (unless a dry run).
fn finish_run(
    tally: Tally<'_>,
    mut importer: Importer<'_>,
    contacts: Option<Opened>,
    sha: FileHash,
    dry_run: bool,
    opts: &RunOptions,
) -> Result<Report, RunError> {
    let Tally {
        mut report,
        mut issues,
        listed_bytes,
        rejected,
        changes,
        ..
    } = tally;
    // Complete before the commit, as the rejected rows: a list that cannot be written
    // stops the import rather than leaving it without its list.
    if let Some(log) = changes {
        if let Err(e) = log.finish() {
            rejected.discard();
            return Err(e);
        }
    }
    if let Some(c) = contacts {
        issues.extend(c.warnings.clone());
        if let Err(e) = import_contacts(&mut importer, c, opts.lang, &mut issues) {
            rejected.discard();
            return Err(e);
        }
    }
    let counts = importer.counts();
    if !dry_run && report.identity_changes > 0 && !opts.allow_identity_change {
        // Not confirmed: nothing is written (dropping the importer rolls back).
        rejected.discard();
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
    let rejected_file = rejected.finish()?;
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
pub fn identity_refusal(n: u64, lang: Lang) -> String {
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
        let name = both(clientele_core::Field::name.key()).filter(|(b, a)| {
            clientele_core::catalogue::fold(b) != clientele_core::catalogue::fold(a)
        })?;
        let siret = both(clientele_core::Field::registrationNumber.key()).filter(|(b, a)| {
            clientele_core::ident::compact(b) != clientele_core::ident::compact(a)
        });
        let vat = both(clientele_core::Field::taxRegistrationNumber.key()).filter(|(b, a)| {
            clientele_core::ident::compact(b) != clientele_core::ident::compact(a)
        });
        let id = match (siret, vat) {
            (Some((b, a)), _) => ("SIRET", b, a),
            (None, Some((b, a))) => ("VAT", b, a),
            (None, None) => return None,
        };
        Some(IdentityChange { name, id })
    }

    /// The message detail: both companies, as a catalogue message and its arguments (the
    /// identifier's name is part of the message: "TVA" and "VAT" differ).
    fn detail(&self) -> clientele_core::DetailMessage {
        let (label, before, after) = &self.id;
        let id = match *label {
            "VAT" => "import.identity_change_vat",
            _ => "import.identity_change_siret",
        };
        clientele_core::DetailMessage::new(
            id,
            &[
                ("before_name", &self.name.0),
                ("after_name", &self.name.1),
                ("before", before),
                ("after", after),
            ],
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
    let mut tab = ContactTab {
        sheet: opened.sheet.clone(),
        layout: opened.columns.clone(),
        columns: clientele_pack::CONTACT_FIELDS
            .iter()
            .enumerate()
            .map(|(i, (_, key))| (i, contact::column_by_key(key)))
            .collect(),
        lang,
        issues,
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
        tab.row(importer, &raw)?;
    }
    Ok(())
}

/// The Contacts tab being imported: where its fields sit, and where its issues go.
struct ContactTab<'a> {
    sheet: Option<String>,
    /// The tab's columns, to place issues.
    layout: Vec<clientele_pack::Column>,
    /// Each `CONTACT_FIELDS` index with the contact column it fills (none for the link to
    /// the client, resolved apart).
    columns: Vec<(usize, Option<&'static contact::ContactColumn>)>,
    lang: Lang,
    issues: &'a mut Vec<Issue>,
}

/// An issue of the Contacts tab, before it is placed on its row and column.
struct ContactIssue {
    /// Index into `CONTACT_FIELDS`.
    field: usize,
    key: &'static str,
    severity: Severity,
    code: String,
    value: String,
    message: String,
    /// The message's language-neutral detail (see [`Issue::detail`]).
    detail: String,
    problem: clientele_core::Problem,
}

impl ContactTab<'_> {
    /// One contact: linked to its client (by the first column), validated, and handed to
    /// the importer when it has no error.
    fn row(&mut self, importer: &mut Importer<'_>, raw: &RawRow) -> Result<(), RunError> {
        let cells = opened_contact_cells(&self.layout, raw);
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
        let input: Vec<(&'static contact::ContactColumn, Cell)> = self
            .columns
            .iter()
            .filter_map(|(i, col)| Some(((*col)?, cells.get(*i).cloned().flatten()?)))
            .collect();
        let (c, contact_issues) = contact::apply(&Contact::new(0), &input);
        let mut has_error = false;
        if link.is_none() {
            has_error = true;
            let p = clientele_core::Problem::UnknownClient;
            let message = clientele_core::issue::render(p, self.lang, "Client", &link_text, "");
            let issue = ContactIssue {
                field: 0,
                key: "client",
                severity: Severity::Error,
                code: "client.unknown".into(),
                value: link_text,
                message,
                detail: String::new(),
                problem: p,
            };
            self.push(raw.number, issue);
        }
        for ci in &contact_issues {
            has_error |= ci.severity() == Severity::Error;
            let field = clientele_pack::CONTACT_FIELDS
                .iter()
                .position(|(_, k)| *k == ci.key)
                .unwrap_or(0);
            let issue = ContactIssue {
                field,
                key: ci.key,
                severity: ci.severity(),
                code: ci.code(),
                value: ci.value.clone(),
                message: ci.message(self.lang),
                detail: ci.detail.clone(),
                problem: ci.problem,
            };
            self.push(raw.number, issue);
        }
        match (has_error, link) {
            (false, Some(l)) => importer.contact(c, l),
            _ => importer.invalid_contact(),
        }
        Ok(())
    }

    /// An issue placed on row `row` and its field's column.
    fn push(&mut self, row: u32, i: ContactIssue) {
        let (column, header) = self
            .layout
            .iter()
            .find(|c| c.field == Some(i.field))
            .map(|c| (c.letter.clone(), c.header.clone()))
            .unzip();
        let (value, value_length) = clientele_core::issue::reported_value(&i.value);
        self.issues.push(Issue {
            sheet: self.sheet.clone(),
            row: Some(row),
            column,
            header,
            field: Some(i.key),
            value: Some(value),
            value_length,
            severity: i.severity,
            code: i.code,
            message: i.message,
            detail: (!i.detail.is_empty()).then_some(i.detail),
            detail_message: None,
            problem: i.problem,
        });
    }
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
            + i.detail.as_ref().map_or(0, String::len)
            + i.detail_message
                .as_ref()
                .map_or(0, |d| 32 + d.args.values().map(String::len).sum::<usize>())
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
            c.detail()
                .text(clientele_core::Problem::IdentityChanged, Lang::En),
            "\"Électricité Françoise 1\" (SIRET 73282932000074) would become \"Hôtel Lefèvre 1\" (SIRET 44306184100047)"
        );
        let c = IdentityChange::of(&[name.clone(), vat.clone()]).unwrap();
        assert!(c
            .detail()
            .text(clientele_core::Problem::IdentityChanged, Lang::Fr)
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
