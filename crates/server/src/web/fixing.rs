//! The fixing grid (issue 14): the rows of a checked upload's Clients tab in an editable
//! grid, each edit judged at once by the import's own rules, then checked and imported as a
//! corrected copy — without going back to Excel.
//!
//! The grid of an upload is built once per server (the file read, every row parsed and
//! judged: about a second for 50,000 rows) and kept in memory, a few at a time. The edits
//! are the truth and live in the database beside the upload (`upload_edits`), with a version
//! that every request compares: a server whose grid is older (another server took an edit)
//! builds it again, so that several servers behind one address answer the same grid.
//!
//! A row is judged by [`clientele_store::import::judge`], the import engine's rules outside
//! an import: the cells, the cross-field rules against the customer the row would update,
//! and the duplicates within the file, which this module tells it from the whole grid.

use super::error::{Page, WebError};
use super::forms::{form_map, Posted, WebQuery};
use super::imports::{
    attachment, check_new_upload, on_job_threads, owned, parse_json, stem, stored_mapping, XLSX,
};
use super::session::Web;
use crate::state::ApiContext;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::Json;
use clientele_core::issue::{FieldIssue, Issue, Severity};
use clientele_core::validate::{Cell, Cells};
use clientele_core::{messages, Field, Lang, FIELDS};
use clientele_pack::{ColumnMap, RawRow, Tab};
use clientele_store::import::InFile;
use clientele_store::{ApiStore, StoreError};
use minijinja::context;
use serde::{Deserialize, Serialize};
use serde_json::{json, Value as Jv};
use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::sync::{Arc, Mutex, OnceLock};

/// Cells set at once (row number, column index, text; None: the file's value), and the
/// same shape for the edits they replaced (an undo step).
type CellChanges = Vec<(u32, usize, Option<String>)>;

/// Stored customers by account, read ahead for many rows.
type Stored = HashMap<String, clientele_core::model::Customer>;

/// Rows sent per page of the grid.
const PAGE_ROWS: usize = 100;
/// Grids kept in memory per server (each about as big as its file, parsed).
const KEPT_GRIDS: usize = 4;
/// Cells a grid holds at most (about 100 MB of memory): a pack of 100,000 rows of 20
/// columns. A bigger file is fixed in its annotated workbook; the grid refuses it rather
/// than hold a file that expands to gigabytes.
const MAX_GRID_CELLS: usize = 2_000_000;
/// Edits that can be undone, newest first.
const UNDO_DEPTH: usize = 100;
/// Rows judged again after one edit at most: an account or SIRET shared by thousands of
/// rows would otherwise make every edit of it judge them all (the others keep their
/// issues until the next check, which judges every row).
const MAX_AFFECTED: usize = 1_000;

/// The edits of an upload, as kept in the database (JSON).
#[derive(Debug, Default, Clone, Serialize, Deserialize)]
struct Edits {
    /// Bumped by every change, so that a server can tell its grid is stale.
    version: u64,
    /// The edited cells: (row number, column index, text).
    cells: Vec<(u32, usize, String)>,
    /// Undo steps, oldest first: each cell's previous edit (None: the file's value).
    undo: Vec<CellChanges>,
}

/// A row's account and SIRET as the rules read them (for the duplicates within the file).
#[derive(Debug, Clone, Default, PartialEq)]
struct Keys {
    account: Option<String>,
    siret: Option<String>,
}

/// One column of the grid.
#[derive(Debug, Clone, Serialize)]
struct GridColumn {
    /// Index of the column in the file (into a row's cells).
    #[serde(skip)]
    index: usize,
    letter: String,
    header: String,
    /// Pack key of its field.
    field: &'static str,
}

/// An upload's rows, their issues and their edits.
struct Grid {
    /// The version of the edits this grid shows.
    version: u64,
    sheet: Option<String>,
    columns: Vec<GridColumn>,
    /// The file's rows (the file's cells; edits are in `edits`).
    rows: Vec<RawRow>,
    /// Row number → index in `rows`.
    by_number: HashMap<u32, usize>,
    /// Each row's issues, as judged last.
    issues: Vec<Vec<FieldIssue>>,
    keys: Vec<Keys>,
    /// Rows by account and by SIRET, for the duplicates within the file.
    accounts: HashMap<String, BTreeSet<u32>>,
    sirets: HashMap<String, BTreeSet<u32>>,
    /// The edited cells.
    edits: BTreeMap<(u32, usize), String>,
    undo: Vec<CellChanges>,
}

/// The grids this server holds, least recently used first.
type Held = Vec<(String, Arc<Mutex<Grid>>)>;

fn held() -> &'static Mutex<Held> {
    static GRIDS: OnceLock<Mutex<Held>> = OnceLock::new();
    GRIDS.get_or_init(|| Mutex::new(Vec::new()))
}

/// Why a grid cannot be made.
enum GridError {
    /// The upload has no usable report (still being checked, unreadable file).
    NoReport,
    Store(StoreError),
    Pack(String),
    /// More cells than [`MAX_GRID_CELLS`].
    TooBig,
}

impl From<StoreError> for GridError {
    fn from(e: StoreError) -> Self {
        GridError::Store(e)
    }
}

impl GridError {
    fn web(self, lang: Lang) -> WebError {
        match self {
            GridError::NoReport => {
                WebError::msg(StatusCode::CONFLICT, "upload.no_usable_report").with_lang(lang)
            }
            GridError::Store(e) => WebError::from(crate::error::Error::from(e)).with_lang(lang),
            GridError::TooBig => WebError::msg_with(
                StatusCode::UNPROCESSABLE_ENTITY,
                "fix.too_big",
                vec![("cells", MAX_GRID_CELLS.to_string().into())],
            )
            .with_lang(lang),
            GridError::Pack(e) => WebError::msg_with(
                StatusCode::UNPROCESSABLE_ENTITY,
                "upload.cannot_produce",
                vec![("error", e.into())],
            )
            .with_lang(lang),
        }
    }
}

fn read_edits(store: &dyn ApiStore, id: &str) -> Result<Edits, StoreError> {
    Ok(store
        .upload_edits(id)?
        .and_then(|b| serde_json::from_slice(&b).ok())
        .unwrap_or_default())
}

/// The mapping an upload was checked with.
fn mapping_of(report: &Jv) -> Result<ColumnMap, GridError> {
    stored_mapping(report).map_err(GridError::Pack)
}

impl Grid {
    /// Read the upload's Clients tab, apply its edits and judge every row.
    fn build(store: &dyn ApiStore, id: &str, edits: Edits) -> Result<Grid, GridError> {
        let up = store.upload(id, true)?;
        let report = parse_json(up.report.as_deref())
            .filter(|r| r["status"] == "ok")
            .ok_or(GridError::NoReport)?;
        let map = mapping_of(&report)?;
        let opened =
            clientele_pack::open_bytes_mapped(&up.name, up.bytes, Tab::Clients, Lang::En, &map)
                .map_err(|e| GridError::Pack(e.to_string()))?;
        let columns: Vec<GridColumn> = opened
            .columns
            .iter()
            .filter_map(|c| {
                let d = FIELDS.get(c.field?)?;
                Some(GridColumn {
                    index: c.index,
                    letter: c.letter.clone(),
                    header: c.header.clone(),
                    field: d.pack_key,
                })
            })
            .collect();
        let mut rows = Vec::new();
        let mut cells = 0usize;
        for r in opened.rows {
            let r = r.map_err(|e| GridError::Pack(e.to_string()))?;
            cells += r.cells.len().max(1);
            if cells > MAX_GRID_CELLS {
                return Err(GridError::TooBig);
            }
            rows.push(r);
        }
        let mut grid = Grid {
            version: edits.version,
            sheet: opened.sheet,
            columns,
            by_number: rows
                .iter()
                .enumerate()
                .map(|(i, r)| (r.number, i))
                .collect(),
            issues: vec![Vec::new(); rows.len()],
            keys: vec![Keys::default(); rows.len()],
            rows,
            accounts: HashMap::new(),
            sirets: HashMap::new(),
            edits: edits
                .cells
                .into_iter()
                .map(|(r, c, t)| ((r, c), t))
                .collect(),
            undo: edits.undo,
        };
        // First every row's keys (a row's duplicates depend on the rows before it), then
        // every row judged.
        for i in 0..grid.rows.len() {
            let keys = grid.parse(i).1;
            grid.set_keys(i, keys);
        }
        // The stored customers of the file's accounts read in batches, not one query a row
        // (on PostgreSQL a round trip each made opening a 50,000-row grid take 17 s).
        let all: Vec<usize> = (0..grid.rows.len()).collect();
        let stored = grid.stored_customers(store, &all)?;
        for i in all {
            grid.judge(store, i, Some(&stored))?;
        }
        Ok(grid)
    }

    /// The stored customers of these rows' accounts, by account.
    fn stored_customers(&self, store: &dyn ApiStore, rows: &[usize]) -> Result<Stored, StoreError> {
        let accounts: Vec<&str> = rows
            .iter()
            .filter_map(|&i| self.keys[i].account.as_deref())
            .collect();
        Ok(store
            .customers_by_accounts(&accounts)?
            .into_iter()
            .filter_map(|c| Some((c.text(Field::customerAccount)?.to_string(), c)))
            .collect())
    }

    /// The edit a typed text makes of a cell: none when it is the file's value again.
    fn edit_of(&self, i: usize, col: usize, typed: String) -> Option<String> {
        let original = self.rows[i].cells.get(col).map(Cell::display);
        (typed != original.unwrap_or_default()).then_some(typed)
    }

    /// Keep an undo step (the oldest goes past [`UNDO_DEPTH`]).
    fn push_undo(&mut self, step: CellChanges) {
        self.undo.push(step);
        if self.undo.len() > UNDO_DEPTH {
            self.undo.remove(0);
        }
    }

    /// The text of a cell as shown and edited: the edit, else the file's value.
    fn text(&self, i: usize, col: usize) -> String {
        let row = &self.rows[i];
        match self.edits.get(&(row.number, col)) {
            Some(t) => t.clone(),
            None => row.cells.get(col).map(Cell::display).unwrap_or_default(),
        }
    }

    /// A row's cells by field, edits applied, parsed by the import's per-cell stage.
    fn parse(&self, i: usize) -> (clientele_store::import::Parsed, Keys) {
        let row = &self.rows[i];
        let mut cells: Cells = std::array::from_fn(|_| None);
        for c in &self.columns {
            let Some(f) = FIELDS.iter().position(|d| d.pack_key == c.field) else {
                continue;
            };
            let cell = match self.edits.get(&(row.number, c.index)) {
                Some(t) if t.trim().is_empty() => Cell::Empty,
                Some(t) => Cell::Text(t.as_str().into()),
                None => row.cells.get(c.index).cloned().unwrap_or(Cell::Empty),
            };
            cells[f] = Some(cell);
        }
        let parsed = clientele_store::import::parse(cells);
        let keys = Keys {
            account: parsed.text(Field::customerAccount).map(str::to_string),
            siret: parsed.text(Field::registrationNumber).map(str::to_string),
        };
        (parsed, keys)
    }

    /// Record a row's keys (and take its old ones out of the tables).
    fn set_keys(&mut self, i: usize, keys: Keys) {
        let number = self.rows[i].number;
        let old = std::mem::replace(&mut self.keys[i], keys.clone());
        for (table, old, new) in [
            (&mut self.accounts, old.account, keys.account),
            (&mut self.sirets, old.siret, keys.siret),
        ] {
            if let Some(o) = old {
                if let Some(set) = table.get_mut(&o) {
                    set.remove(&number);
                    if set.is_empty() {
                        table.remove(&o);
                    }
                }
            }
            if let Some(n) = new {
                table.entry(n).or_default().insert(number);
            }
        }
    }

    /// Judge one row again (its keys must be up to date).
    /// `stored`: the stored customers of the file's accounts, when read ahead.
    fn judge(
        &mut self,
        store: &dyn ApiStore,
        i: usize,
        stored: Option<&Stored>,
    ) -> Result<(), StoreError> {
        let number = self.rows[i].number;
        let (parsed, keys) = self.parse(i);
        let first_before = |set: Option<&BTreeSet<u32>>| {
            set.and_then(|s| s.first().copied()).filter(|&f| f < number)
        };
        let accounts = &self.accounts;
        let account_row = |a: &str| {
            accounts
                .get(a)
                .and_then(|s| s.iter().copied().find(|&r| r != number))
        };
        let in_file = InFile {
            account: first_before(keys.account.as_ref().and_then(|a| self.accounts.get(a))),
            siret: first_before(keys.siret.as_ref().and_then(|s| self.sirets.get(s))),
            account_row: &account_row,
            stored,
        };
        let store: &dyn clientele_store::Store = store;
        self.issues[i] = clientele_store::import::judge(store, parsed, &in_file)?;
        Ok(())
    }

    /// Set cells (None: back to the file's value), judge the rows they touch and those
    /// whose duplicates change; returns the previous edits of those cells and the rows
    /// judged again.
    fn set(
        &mut self,
        store: &dyn ApiStore,
        changes: CellChanges,
    ) -> Result<(CellChanges, BTreeSet<u32>), StoreError> {
        let mut before = Vec::with_capacity(changes.len());
        let mut touched = BTreeSet::new();
        for (row, col, text) in changes {
            let previous = match text {
                Some(t) => self.edits.insert((row, col), t),
                None => self.edits.remove(&(row, col)),
            };
            before.push((row, col, previous));
            touched.insert(row);
        }
        let mut affected = touched.clone();
        for &row in &touched {
            let Some(&i) = self.by_number.get(&row) else {
                continue;
            };
            let old = self.keys[i].clone();
            let new = self.parse(i).1;
            if old != new {
                for (table, o, n) in [
                    (&self.accounts, &old.account, &new.account),
                    (&self.sirets, &old.siret, &new.siret),
                ] {
                    for k in [o, n].into_iter().flatten() {
                        if let Some(set) = table.get(k) {
                            affected.extend(set.iter().take(MAX_AFFECTED));
                        }
                    }
                }
                self.set_keys(i, new);
            }
        }
        // The rows edited, then at most MAX_AFFECTED of those whose duplicates changed.
        let others: Vec<u32> = affected
            .difference(&touched)
            .copied()
            .take(MAX_AFFECTED)
            .collect();
        let judged: BTreeSet<u32> = touched.into_iter().chain(others).collect();
        let rows: Vec<usize> = judged
            .iter()
            .filter_map(|r| self.by_number.get(r).copied())
            .collect();
        // A replacement over many rows reads their stored customers in batches, as the
        // grid's opening does, rather than one query a row.
        let stored = (rows.len() > 50)
            .then(|| self.stored_customers(store, &rows))
            .transpose()?;
        for i in rows {
            self.judge(store, i, stored.as_ref())?;
        }
        Ok((before, judged))
    }

    fn saved(&self) -> Edits {
        Edits {
            version: self.version,
            cells: self
                .edits
                .iter()
                .map(|(&(r, c), t)| (r, c, t.clone()))
                .collect(),
            undo: self.undo.clone(),
        }
    }

    /// The row's issues placed in the file, in the viewer's language.
    fn row_issues(&self, i: usize, lang: Lang) -> Vec<Issue> {
        let number = self.rows[i].number;
        self.issues[i]
            .iter()
            .map(|fi| {
                let col = self.columns.iter().find(|c| c.field == fi.field.key());
                Issue::at(
                    fi,
                    lang,
                    self.sheet.as_deref(),
                    number,
                    col.map(|c| c.letter.clone()),
                    col.map(|c| c.header.clone()),
                )
            })
            .collect()
    }

    /// A row as the page shows it.
    fn row_json(&self, i: usize, lang: Lang) -> Jv {
        let cells: Vec<String> = self.columns.iter().map(|c| self.text(i, c.index)).collect();
        let number = self.rows[i].number;
        let edited: Vec<bool> = self
            .columns
            .iter()
            .map(|c| self.edits.contains_key(&(number, c.index)))
            .collect();
        let issues: Vec<Jv> = self
            .row_issues(i, lang)
            .into_iter()
            .map(|x| {
                json!({
                    "column": x.column,
                    "severity": x.severity,
                    "code": x.code,
                    "message": x.message,
                })
            })
            .collect();
        json!({ "row": number, "cells": cells, "edited": edited, "issues": issues })
    }

    fn has_error(&self, i: usize) -> bool {
        self.issues[i]
            .iter()
            .any(|fi| fi.severity() == Severity::Error)
    }

    /// Whether a row is shown under a filter.
    fn shown(&self, i: usize, f: &Filter) -> bool {
        let issues = &self.issues[i];
        let wanted = |fi: &&FieldIssue| {
            let column_ok = f.column.as_deref().is_none_or(|letter| {
                self.columns
                    .iter()
                    .any(|c| c.letter == letter && c.field == fi.field.key())
            });
            let code_ok = f.code.as_deref().is_none_or(|code| fi.code() == code);
            column_ok && code_ok
        };
        match f.show.as_deref() {
            Some("all") if f.column.is_none() && f.code.is_none() => true,
            Some("all") | Some("issues") => issues.iter().any(|fi| wanted(&fi)),
            _ => issues
                .iter()
                .filter(|fi| fi.severity() == Severity::Error)
                .any(|fi| wanted(&fi)),
        }
    }

    /// Counts for the toolbar: rows with errors, issues by column and by code.
    fn summary(&self, lang: Lang) -> Jv {
        let mut by_code: BTreeMap<String, (u64, Severity, Field)> = BTreeMap::new();
        let mut error_rows = 0u64;
        let mut errors = 0u64;
        let mut warnings = 0u64;
        for (i, issues) in self.issues.iter().enumerate() {
            if self.has_error(i) {
                error_rows += 1;
            }
            for fi in issues {
                let e = by_code
                    .entry(fi.code())
                    .or_insert((0, fi.severity(), fi.field));
                e.0 += 1;
                if fi.severity() == Severity::Error {
                    errors += 1;
                } else {
                    warnings += 1;
                }
            }
        }
        let codes: Vec<Jv> = by_code
            .into_iter()
            .map(|(code, (n, sev, field))| {
                let label = messages::field_label(lang, field.def());
                json!({ "code": code, "count": n, "severity": sev, "field": label })
            })
            .collect();
        json!({
            "rows": self.rows.len(),
            "errorRows": error_rows,
            "errors": errors,
            "warnings": warnings,
            "edited": self.edits.len(),
            "undo": self.undo.len(),
            "codes": codes,
        })
    }
}

/// Which rows to show.
#[derive(Debug, Default, Deserialize)]
pub struct Filter {
    /// `errors` (default: rows with an error), `issues` (errors or warnings), `all`.
    show: Option<String>,
    /// Only rows with an issue in this column (letter).
    column: Option<String>,
    /// Only rows with an issue of this code.
    code: Option<String>,
    /// First row shown (index among the rows shown).
    offset: Option<usize>,
}

/// The grid of an upload, built or brought up to date with the edits in the database.
fn grid(store: &dyn ApiStore, id: &str) -> Result<Arc<Mutex<Grid>>, GridError> {
    let edits = read_edits(store, id)?;
    let found = {
        let mut held = held().lock().unwrap_or_else(|p| p.into_inner());
        let pos = held.iter().position(|(k, _)| k == id);
        pos.map(|p| {
            // Most recently used last.
            let g = held.remove(p);
            held.push(g.clone());
            g.1
        })
    };
    if let Some(g) = found {
        let version = g.lock().unwrap_or_else(|p| p.into_inner()).version;
        if version == edits.version {
            return Ok(g);
        }
    }
    let g = Arc::new(Mutex::new(Grid::build(store, id, edits)?));
    let mut held = held().lock().unwrap_or_else(|p| p.into_inner());
    held.retain(|(k, _)| k != id);
    held.push((id.to_string(), g.clone()));
    if held.len() > KEPT_GRIDS {
        held.remove(0);
    }
    Ok(g)
}

/// Run `f` on the upload's grid, on the blocking pool; `save`: the edits changed and are
/// written back with a new version.
async fn with_grid<T: Send + 'static>(
    state: &ApiContext,
    web: &Web,
    id: String,
    save: bool,
    f: impl FnOnce(&dyn ApiStore, &mut Grid) -> Result<T, StoreError> + Send + 'static,
) -> Result<T, WebError> {
    let lang = web.lang;
    // Only the owner's uploads.
    let up = owned(state, web, id, false).await?;
    let store = state.store().clone();
    tokio::task::spawn_blocking(move || {
        let store = store.as_ref();
        let g = grid(store, &up.id)?;
        let mut g = g.lock().unwrap_or_else(|p| p.into_inner());
        let out = f(store, &mut g)?;
        if save {
            let stored = read_edits(store, &up.id)?.version;
            g.version = stored.max(g.version) + 1;
            let bytes = serde_json::to_vec(&g.saved())
                .map_err(|e| StoreError::described("edits not saved", e))?;
            store.set_upload_edits(&up.id, &bytes)?;
        }
        Ok(out)
    })
    .await
    .map_err(|e| WebError::from(crate::error::Error::internal(e)).with_lang(lang))?
    .map_err(|e: GridError| e.web(lang))
}

/// The grid's page: the table is filled by its script from [`rows`].
pub async fn page(web: Web, State(state): State<ApiContext>, Path(id): Path<String>) -> Page {
    let up = owned(&state, &web, id, false).await?;
    let report = parse_json(up.report.as_deref());
    if !report.is_some_and(|r| r["status"] == "ok") {
        return Err(GridError::NoReport.web(web.lang));
    }
    Ok(web.page(
        "fix.html",
        "import",
        context! { upload => context! { id => up.id.clone(), name => up.name.clone() } },
    ))
}

/// A page of rows under a filter, with the toolbar's counts.
pub async fn rows(
    web: Web,
    State(state): State<ApiContext>,
    Path(id): Path<String>,
    WebQuery(f): WebQuery<Filter>,
) -> Result<Json<Jv>, WebError> {
    let lang = web.lang;
    let out = with_grid(&state, &web, id, false, move |_, g| {
        Ok(listing(g, &f, lang))
    })
    .await?;
    Ok(Json(out))
}

fn listing(g: &Grid, f: &Filter, lang: Lang) -> Jv {
    let shown: Vec<usize> = (0..g.rows.len()).filter(|&i| g.shown(i, f)).collect();
    let offset = f.offset.unwrap_or(0).min(shown.len());
    let page: Vec<Jv> = shown
        .iter()
        .skip(offset)
        .take(PAGE_ROWS)
        .map(|&i| g.row_json(i, lang))
        .collect();
    json!({
        "columns": g.columns,
        "total": shown.len(),
        "offset": offset,
        "pageRows": PAGE_ROWS,
        "rows": page,
        "summary": g.summary(lang),
    })
}

/// The column index of a letter of the grid.
fn column_index(g: &Grid, letter: &str) -> Option<usize> {
    g.columns
        .iter()
        .find(|c| c.letter == letter)
        .map(|c| c.index)
}

fn bad_request(lang: Lang, id: &'static str) -> WebError {
    WebError::msg(StatusCode::UNPROCESSABLE_ENTITY, id).with_lang(lang)
}

/// One cell typed: judged again at once with the rows it touches; answers those rows.
pub async fn edit(
    State(state): State<ApiContext>,
    Path(id): Path<String>,
    Posted { web, form }: Posted,
) -> Result<Json<Jv>, WebError> {
    let lang = web.lang;
    let f = form_map(&form);
    let row: u32 = f
        .get("row")
        .and_then(|r| r.parse().ok())
        .ok_or_else(|| bad_request(lang, "fix.bad_cell"))?;
    let letter = f.get("column").map(|s| s.to_string()).unwrap_or_default();
    let value = f.get("value").map(|s| s.to_string()).unwrap_or_default();
    let out = with_grid(&state, &web, id, true, move |store, g| {
        let (Some(col), Some(&i)) = (column_index(g, &letter), g.by_number.get(&row)) else {
            return Err(StoreError::Conflict("no such cell".into()));
        };
        let text = g.edit_of(i, col, value);
        let (before, affected) = g.set(store, vec![(row, col, text)])?;
        g.push_undo(before);
        Ok(changed(g, &affected, lang))
    })
    .await?;
    Ok(Json(out))
}

/// The rows judged again after a change, with the new counts.
fn changed(g: &Grid, affected: &BTreeSet<u32>, lang: Lang) -> Jv {
    let rows: Vec<Jv> = affected
        .iter()
        .filter_map(|r| g.by_number.get(r))
        .map(|&i| g.row_json(i, lang))
        .collect();
    json!({ "rows": rows, "summary": g.summary(lang) })
}

/// Find and replace within a column, in the rows the filter shows (all rows with
/// `show=all`): one undo step.
pub async fn replace(
    State(state): State<ApiContext>,
    Path(id): Path<String>,
    Posted { web, form }: Posted,
) -> Result<Json<Jv>, WebError> {
    let lang = web.lang;
    let f = form_map(&form);
    let letter = f.get("column").map(|s| s.to_string()).unwrap_or_default();
    let find = f.get("find").map(|s| s.to_string()).unwrap_or_default();
    let with = f.get("replace").map(|s| s.to_string()).unwrap_or_default();
    if find.is_empty() {
        return Err(bad_request(lang, "fix.find_empty"));
    }
    let filter = Filter {
        show: f.get("show").map(|s| s.to_string()),
        ..Filter::default()
    };
    let out = with_grid(&state, &web, id, true, move |store, g| {
        let Some(col) = column_index(g, &letter) else {
            return Err(StoreError::Conflict("no such column".into()));
        };
        let mut changes = Vec::new();
        for i in (0..g.rows.len()).filter(|&i| g.shown(i, &filter)) {
            let text = g.text(i, col);
            if text.contains(&find) {
                let new = g.edit_of(i, col, text.replace(&find, &with));
                changes.push((g.rows[i].number, col, new));
            }
        }
        let n = changes.len();
        if n > 0 {
            let (before, _) = g.set(store, changes)?;
            g.push_undo(before);
        }
        Ok(json!({ "replaced": n, "summary": g.summary(lang) }))
    })
    .await?;
    Ok(Json(out))
}

/// Undo the last edit (or replacement).
pub async fn undo(
    State(state): State<ApiContext>,
    Path(id): Path<String>,
    Posted { web, .. }: Posted,
) -> Result<Json<Jv>, WebError> {
    let lang = web.lang;
    let out = with_grid(&state, &web, id, true, move |store, g| {
        let Some(step) = g.undo.pop() else {
            return Ok(json!({ "rows": [], "summary": g.summary(lang) }));
        };
        // Restored in reverse, so that a cell edited twice in one step gets its first value.
        let step: Vec<_> = step.into_iter().rev().collect();
        let (_, affected) = g.set(store, step)?;
        Ok(changed(g, &affected, lang))
    })
    .await?;
    Ok(Json(out))
}

/// The corrected file: the upload with its edits, in its format (see
/// [`clientele_pack::corrected`]).
async fn corrected(
    state: &ApiContext,
    web: &Web,
    id: String,
) -> Result<(String, clientele_pack::Corrected, Jv), WebError> {
    let lang = web.lang;
    let up = owned(state, web, id, true).await?;
    let report = parse_json(up.report.as_deref())
        .filter(|r| r["status"] == "ok")
        .ok_or_else(|| GridError::NoReport.web(lang))?;
    let i2 = up.id.clone();
    let edits = state
        .db(move |s| read_edits(s, &i2))
        .await
        .map_err(|e| WebError::from(e).with_lang(lang))?;
    let cells: BTreeMap<(u32, usize), String> = edits
        .cells
        .into_iter()
        .map(|(r, c, t)| ((r, c), t))
        .collect();
    let name = up.name.clone();
    let made = on_job_threads(state, lang, move || {
        clientele_pack::corrected(&up.name, &up.bytes, &cells).map_err(|e| e.to_string())
    })
    .await?;
    let file = format!(
        "{} ({}).{}",
        stem(&name),
        messages::text(lang, "fix.corrected_suffix"),
        made.extension
    );
    Ok((file, made, report))
}

/// Download the corrected file.
pub async fn download(web: Web, State(state): State<ApiContext>, Path(id): Path<String>) -> Page {
    let (file, made, _) = corrected(&state, &web, id).await?;
    let kind = if made.extension == "csv" {
        "text/csv; charset=utf-8"
    } else {
        XLSX
    };
    Ok(attachment(&file, kind, made.bytes))
}

/// Check the corrected file as a new upload (with the same column mapping), then to its
/// report, from where it is imported.
pub async fn check(
    State(state): State<ApiContext>,
    Path(id): Path<String>,
    Posted { web, .. }: Posted,
) -> Page {
    let lang = web.lang;
    let (file, made, report) = corrected(&state, &web, id).await?;
    let mapping = mapping_of(&report).map_err(|e| e.web(lang))?;
    check_new_upload(&state, &web, file, made.bytes, mapping).await
}
