//! The database schema, derived from the field catalogue, shared by both backends.

use clientele_core::catalogue::{Field, Kind, FIELDS};
use clientele_core::model::{Customer, Value};
use serde_json::{Map, Value as Json};

/// SQL dialect differences that matter here.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Dialect {
    /// SQLite.
    Sqlite,
    /// PostgreSQL.
    Postgres,
}

/// Whether a field is stored as an integer column (booleans as 0/1).
pub fn is_int(kind: Kind) -> bool {
    matches!(kind, Kind::Bool | Kind::Int(..))
}

/// Column names of the customers table after `id`, in order: every field, the E.164
/// columns, then bookkeeping. Row readers rely on this order.
pub fn customer_columns() -> Vec<String> {
    let mut cols: Vec<String> = FIELDS
        .iter()
        .map(|d| format!("\"{}\"", d.pack_key))
        .collect();
    for f in Field::PHONES {
        cols.push(format!("{}_e164", f.key()));
    }
    cols.extend([
        "search".into(),
        "created_at".into(),
        "updated_at".into(),
        "created_import".into(),
    ]);
    cols
}

/// Index of `created_at` in [`customer_columns`] (after the values and phones).
pub const N_VALUE_COLS: usize = clientele_core::N_FIELDS + 3;

/// Statements that create the schema (version 1).
pub fn create_statements(d: Dialect) -> Vec<String> {
    let (pk, int, text) = match d {
        Dialect::Sqlite => ("INTEGER PRIMARY KEY", "INTEGER", "TEXT"),
        Dialect::Postgres => ("BIGSERIAL PRIMARY KEY", "BIGINT", "TEXT"),
    };
    let mut cols = vec![format!("id {pk}")];
    for def in FIELDS {
        let ty = if is_int(def.kind) { int } else { text };
        cols.push(format!("\"{}\" {ty}", def.pack_key));
    }
    for f in Field::PHONES {
        cols.push(format!("{}_e164 {text}", f.key()));
    }
    cols.push(format!("search {text} NOT NULL DEFAULT ''"));
    cols.push(format!("created_at {text} NOT NULL"));
    cols.push(format!("updated_at {text} NOT NULL"));
    cols.push(format!("created_import {int}"));
    let contact_bools = CONTACT_BOOLS
        .iter()
        .map(|(k, def)| format!("\"{k}\" {int} NOT NULL DEFAULT {}", i32::from(*def)))
        .collect::<Vec<_>>()
        .join(", ");
    let contact_texts = CONTACT_TEXTS
        .iter()
        .map(|k| format!("\"{k}\" {text}"))
        .collect::<Vec<_>>()
        .join(", ");
    vec![
        format!("CREATE TABLE customers ({})", cols.join(", ")),
        "CREATE UNIQUE INDEX customers_account ON customers (\"customerAccount\")".into(),
        "CREATE INDEX customers_siret ON customers (\"registrationNumber\")".into(),
        format!("CREATE TABLE meta (key {text} PRIMARY KEY, value {text} NOT NULL)"),
        format!(
            "CREATE TABLE imports (id {pk}, file {text} NOT NULL, sha256 {text} NOT NULL, at {text} NOT NULL, \
             created {int} NOT NULL DEFAULT 0, updated {int} NOT NULL DEFAULT 0, unchanged {int} NOT NULL DEFAULT 0, \
             rejected {int} NOT NULL DEFAULT 0, contacts {int} NOT NULL DEFAULT 0, undone_at {text})"
        ),
        format!("CREATE TABLE import_changes (import_id {int} NOT NULL, customer_id {int} NOT NULL, before {text} NOT NULL)"),
        "CREATE INDEX import_changes_import ON import_changes (import_id)".into(),
        format!(
            "CREATE TABLE contacts (id {pk}, customer_id {int} NOT NULL REFERENCES customers(id) ON DELETE CASCADE, \
             civility {int}, {contact_texts}, mobile_e164 {text}, landline_e164 {text}, {contact_bools}, \
             created_at {text} NOT NULL, updated_at {text} NOT NULL, created_import {int})"
        ),
        "CREATE INDEX contacts_customer ON contacts (customer_id)".into(),
        format!("CREATE TABLE phones (e164 {text} NOT NULL, last9 {text} NOT NULL, customer_id {int} NOT NULL, contact_id {int})"),
        "CREATE INDEX phones_e164 ON phones (e164)".into(),
        "CREATE INDEX phones_last9 ON phones (last9)".into(),
        "CREATE INDEX phones_customer ON phones (customer_id)".into(),
        format!(
            "CREATE TABLE users (id {pk}, name {text} NOT NULL, email {text} NOT NULL UNIQUE, password_hash {text} NOT NULL, created_at {text} NOT NULL)"
        ),
        format!(
            "CREATE TABLE tokens (id {pk}, name {text} NOT NULL, hash {text} NOT NULL UNIQUE, scope {text} NOT NULL, \
             allow {text}, user_id {int}, created_at {text} NOT NULL)"
        ),
        format!(
            "CREATE TABLE changes (rev {}, kind {text} NOT NULL, item {int} NOT NULL)",
            if d == Dialect::Sqlite { "INTEGER PRIMARY KEY AUTOINCREMENT" } else { "BIGSERIAL PRIMARY KEY" }
        ),
    ]
}

/// The customer indexes a first import into an empty table drops, then builds once at the
/// end (cheaper than maintaining them row by row).
const BULK_INDEXES: [&str; 2] = ["customers_account", "customers_siret"];

/// The statement that drops the [`BULK_INDEXES`], and those that create them again.
pub fn bulk_indexes(d: Dialect) -> (String, Vec<String>) {
    let drop = BULK_INDEXES.map(|i| format!("DROP INDEX {i}")).join("; ");
    let create = create_statements(d)
        .into_iter()
        .filter(|st| {
            BULK_INDEXES
                .iter()
                .any(|i| st.contains(&format!(" INDEX {i} ON ")))
        })
        .collect();
    (drop, create)
}

/// The search indexes a first import into an empty table also drops and builds once at the
/// end, with their definitions read from the database (the trigram index may be missing on
/// a PostgreSQL server without `pg_trgm`). On SQLite the trigram index is refilled by a
/// `rebuild` instead of by the insert trigger, row by row.
pub const BULK_SEARCH_INDEXES: [&str; 6] = [
    "customers_trgm",
    "customers_name_order",
    "customers_created",
    "customers_updated",
    "customers_account_lower",
    "customers_vat",
];

/// The triggers of [`SQLITE_FTS`], which a first import on SQLite drops, and which are
/// created again before the index is rebuilt (the insert trigger first).
pub const SQLITE_FTS_TRIGGERS: [&str; 3] = [
    "customers_fts_insert",
    "customers_fts_update",
    "customers_fts_delete",
];

/// The schema version a database is brought to.
pub const SCHEMA_VERSION: i64 = 8;

/// Every migration in order: the version it brings the database to and its statements.
/// Both backends apply those above the database's version, then record [`SCHEMA_VERSION`].
pub fn migrations(d: Dialect) -> [(i64, Vec<String>); SCHEMA_VERSION as usize] {
    [
        (1, create_statements(d)),
        (2, web_statements(d)),
        (3, identifier_collation(d)),
        (4, upload_files(d)),
        (5, token_life_and_audit(d)),
        (6, search_indexes(d)),
        (7, import_screens(d)),
        (8, trigram_positions(d)),
    ]
}

/// The trigram index of the folded names on SQLite: an FTS5 table over the customers table
/// (external content: it stores the trigrams only, the text stays in `customers`),
/// case-blind, kept up to date by triggers.
pub const SQLITE_FTS: &str = "customers_fts";

/// The FTS5 table of [`SQLITE_FTS`]. With the trigrams' positions (`detail='full'`) a name
/// fragment is an FTS5 phrase, answered from the index alone: counting the 62,000 names
/// holding a common word of a million takes 10 ms, where testing each candidate row (what
/// `detail='none'` must do) took 245 ms; the index is some 75 MB larger.
fn fts_table() -> String {
    format!("CREATE VIRTUAL TABLE {SQLITE_FTS} USING fts5(search, content='customers', content_rowid='id', tokenize='trigram', detail='full')")
}

/// Fill [`SQLITE_FTS`] from the customers table.
fn fts_rebuild() -> String {
    format!("INSERT INTO {SQLITE_FTS} ({SQLITE_FTS}) VALUES ('rebuild')")
}

/// Statements of schema version 8: SQLite's trigram index made again with the trigrams'
/// positions (see [`fts_table`]); a million customers take some 10 s. Its triggers stay
/// (they name the table, not its definition). PostgreSQL's `pg_trgm` keeps no positions:
/// nothing changes there.
pub fn trigram_positions(d: Dialect) -> Vec<String> {
    match d {
        Dialect::Sqlite => vec![
            format!("DROP TABLE IF EXISTS {SQLITE_FTS}"),
            fts_table(),
            fts_rebuild(),
        ],
        Dialect::Postgres => Vec::new(),
    }
}

/// The FTS5 phrase that matches `folded` anywhere in a name: the trigrams of the text one
/// after the other, as a quoted string (a double quote doubled; nothing else is special
/// inside one). Exactly `LIKE '%folded%'` on the folded names, for three characters or more.
pub fn fts_phrase(folded: &str) -> String {
    format!("\"{}\"", folded.replace('"', "\"\""))
}

/// The SQLite triggers that keep [`SQLITE_FTS`] up to date (a first import drops the
/// insert trigger and rebuilds the index once at the end).
fn fts_triggers() -> [String; 3] {
    [
        format!("CREATE TRIGGER customers_fts_insert AFTER INSERT ON customers BEGIN INSERT INTO {SQLITE_FTS} (rowid, search) VALUES (new.id, new.search); END"),
        format!("CREATE TRIGGER customers_fts_delete AFTER DELETE ON customers BEGIN INSERT INTO {SQLITE_FTS} ({SQLITE_FTS}, rowid, search) VALUES ('delete', old.id, old.search); END"),
        format!("CREATE TRIGGER customers_fts_update AFTER UPDATE OF search ON customers BEGIN \
                 INSERT INTO {SQLITE_FTS} ({SQLITE_FTS}, rowid, search) VALUES ('delete', old.id, old.search); \
                 INSERT INTO {SQLITE_FTS} (rowid, search) VALUES (new.id, new.search); END"),
    ]
}

/// Statements of schema version 6: search that stays fast at a million customers.
/// A name fragment through a trigram index of the folded names (SQLite's FTS5 `trigram`
/// tokenizer, PostgreSQL's `pg_trgm`); identifiers by their first characters through
/// B-tree indexes (the account case-blind, the VAT number; the SIRET has its index); the
/// orders a list can be sorted in through indexes of their own, NULLs first as the lists
/// order them (a page is then read in order instead of sorting the table). Trigrams of the
/// identifiers too were measured at three times the index's cost (a million customers:
/// 23 s against 7 s for PostgreSQL to build it), for substrings nobody types.
pub fn search_indexes(d: Dialect) -> Vec<String> {
    let mut st = Vec::new();
    match d {
        Dialect::Sqlite => {
            st.push(fts_table());
            st.push(fts_rebuild());
            st.extend(fts_triggers());
            st.push("CREATE INDEX customers_name_order ON customers (search, id)".into());
            st.push("CREATE INDEX customers_created ON customers (created_at, id)".into());
            st.push("CREATE INDEX customers_updated ON customers (updated_at, id)".into());
            st.push(
                "CREATE INDEX customers_account_lower ON customers (lower(\"customerAccount\"))"
                    .into(),
            );
            st.push("CREATE INDEX customers_vat ON customers (\"taxRegistrationNumber\")".into());
        }
        Dialect::Postgres => {
            // Where the extension cannot be created (no privilege), PostgreSQL's migration
            // goes on without the trigram index: name searches then scan, as before.
            st.push("CREATE EXTENSION IF NOT EXISTS pg_trgm".into());
            st.push(
                "CREATE INDEX customers_trgm ON customers USING gin (search gin_trgm_ops)".into(),
            );
            st.push("CREATE INDEX customers_name_order ON customers (search COLLATE \"C\" NULLS FIRST, id)".into());
            st.push("CREATE INDEX customers_created ON customers (created_at COLLATE \"C\" NULLS FIRST, id)".into());
            st.push("CREATE INDEX customers_updated ON customers (updated_at COLLATE \"C\" NULLS FIRST, id)".into());
            // The account column compares byte by byte already (schema version 3).
            st.push(
                "CREATE INDEX customers_account_lower ON customers (lower(\"customerAccount\"))"
                    .into(),
            );
            st.push(
                "CREATE INDEX customers_vat ON customers (\"taxRegistrationNumber\" COLLATE \"C\")"
                    .into(),
            );
        }
    }
    st
}

/// Statements of schema version 7 (issue 14's import screens): the fixing grid's edits, and
/// the full list of an upload's changes kept with the upload, the upload an import was
/// made from (the history links to its report), and column mappings remembered by the
/// file's set of headings.
pub fn import_screens(d: Dialect) -> Vec<String> {
    let blob = match d {
        Dialect::Sqlite => "BLOB",
        Dialect::Postgres => "BYTEA",
    };
    vec![
        // The grid's edits in their own table: an upload's row holds its file, and SQLite
        // rewrites (and, to reach a later column, walks) a row's whole overflow chain, so
        // an edit kept in `uploads` cost a write of the file (60 ms at 50,000 rows).
        format!("CREATE TABLE upload_edits (upload_id TEXT PRIMARY KEY, edits {blob} NOT NULL)"),
        format!("ALTER TABLE uploads ADD COLUMN changes {blob}"),
        "ALTER TABLE imports ADD COLUMN upload_id TEXT".into(),
        "CREATE TABLE mappings (headings TEXT PRIMARY KEY, mapping TEXT NOT NULL, used_at TEXT NOT NULL)"
            .into(),
    ]
}

/// Statements of schema version 4: the annotated workbook and the rejected rows of an
/// upload, made at the first download and kept (making them reads the whole file again).
pub fn upload_files(d: Dialect) -> Vec<String> {
    let blob = match d {
        Dialect::Sqlite => "BLOB",
        Dialect::Postgres => "BYTEA",
    };
    vec![
        format!("ALTER TABLE uploads ADD COLUMN annotated {blob}"),
        format!("ALTER TABLE uploads ADD COLUMN rejected {blob}"),
    ]
}

/// Statements of schema version 3: account and SIRET compare byte by byte on PostgreSQL,
/// as on SQLite. They are identifiers, not words: the database's linguistic collation
/// (`strcoll` for every comparison) made building their indexes twice as slow (SIRET
/// index on 1M rows: 0.84 s → 0.43 s) and could sort accounts differently per server
/// locale. Equality, and so every look-up, is unchanged.
pub fn identifier_collation(d: Dialect) -> Vec<String> {
    match d {
        Dialect::Sqlite => Vec::new(),
        Dialect::Postgres => vec![
            "ALTER TABLE customers ALTER COLUMN \"customerAccount\" TYPE TEXT COLLATE \"C\", \
             ALTER COLUMN \"registrationNumber\" TYPE TEXT COLLATE \"C\""
                .into(),
        ],
    }
}

/// Statements of schema version 5: token life cycle (expiry, idle timeout, last use), who
/// made and undid each import, and the audit trail of single writes (API and web edits).
pub fn token_life_and_audit(d: Dialect) -> Vec<String> {
    let (pk, int) = match d {
        Dialect::Sqlite => ("INTEGER PRIMARY KEY", "INTEGER"),
        Dialect::Postgres => ("BIGSERIAL PRIMARY KEY", "BIGINT"),
    };
    let tokens: Vec<String> = match d {
        // Token ids must never be reused (SQLite reuses the highest id once deleted): a
        // revoke or an expiry by id must not reach a newer token. AUTOINCREMENT needs the
        // table made again.
        Dialect::Sqlite => vec![
            "CREATE TABLE tokens_v4 (id INTEGER PRIMARY KEY AUTOINCREMENT, name TEXT NOT NULL, \
             hash TEXT NOT NULL UNIQUE, scope TEXT NOT NULL, allow TEXT, user_id INTEGER, \
             created_at TEXT NOT NULL, expires_at TEXT, idle_secs INTEGER, last_used_at TEXT)"
                .into(),
            "INSERT INTO tokens_v4 (id, name, hash, scope, allow, user_id, created_at) \
             SELECT id, name, hash, scope, allow, user_id, created_at FROM tokens"
                .into(),
            "DROP TABLE tokens".into(),
            "ALTER TABLE tokens_v4 RENAME TO tokens".into(),
        ],
        // BIGSERIAL never reuses an id.
        Dialect::Postgres => vec![
            "ALTER TABLE tokens ADD COLUMN expires_at TEXT".into(),
            format!("ALTER TABLE tokens ADD COLUMN idle_secs {int}"),
            "ALTER TABLE tokens ADD COLUMN last_used_at TEXT".into(),
        ],
    };
    let mut st = tokens;
    st.extend::<Vec<String>>(vec![
        "ALTER TABLE imports ADD COLUMN actor TEXT".into(),
        "ALTER TABLE imports ADD COLUMN undone_by TEXT".into(),
        format!(
            "CREATE TABLE audit (id {pk}, at TEXT NOT NULL, actor TEXT NOT NULL, action TEXT NOT NULL, \
             kind TEXT NOT NULL, item {int} NOT NULL, label TEXT)"
        ),
        "CREATE INDEX audit_item ON audit (kind, item)".into(),
    ]);
    st
}

/// Statements of schema version 2: web sessions and uploaded packs (kept in the database
/// so that any of several servers can answer the next page).
pub fn web_statements(d: Dialect) -> Vec<String> {
    let (int, blob) = match d {
        Dialect::Sqlite => ("INTEGER", "BLOB"),
        Dialect::Postgres => ("BIGINT", "BYTEA"),
    };
    vec![
        format!(
            "CREATE TABLE sessions (hash TEXT PRIMARY KEY, user_id {int} NOT NULL, csrf TEXT NOT NULL, \
             created_at TEXT NOT NULL, expires_at TEXT NOT NULL)"
        ),
        format!(
            "CREATE TABLE uploads (id TEXT PRIMARY KEY, user_id {int} NOT NULL, name TEXT NOT NULL, \
             bytes {blob} NOT NULL, report TEXT, result TEXT, created_at TEXT NOT NULL)"
        ),
    ]
}

/// Text columns of contacts (API keys): the contact catalogue's, so the two never drift.
pub const CONTACT_TEXTS: &[&str] = &clientele_core::contact::TEXT_KEYS;

/// Boolean columns of contacts with their defaults (the contact catalogue's).
pub const CONTACT_BOOLS: &[(&str, bool)] = &clientele_core::contact::BOOL_KEYS;

/// Columns of the contacts table after `id`, in the order both backends read them.
pub fn contact_columns() -> Vec<String> {
    let mut cols = vec!["customer_id".to_string(), "civility".to_string()];
    cols.extend(CONTACT_TEXTS.iter().map(|k| format!("\"{k}\"")));
    cols.push("mobile_e164".into());
    cols.push("landline_e164".into());
    cols.extend(CONTACT_BOOLS.iter().map(|(k, _)| format!("\"{k}\"")));
    cols.push("created_at".into());
    cols.push("updated_at".into());
    cols
}

/// `SELECT id, <contact_columns> FROM contacts`.
pub fn contact_select() -> String {
    format!("SELECT id, {} FROM contacts", contact_columns().join(", "))
}

/// A parameter of a backend-neutral query.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Param {
    /// Text.
    Text(String),
    /// A whole number.
    Int(i64),
}

/// The filter of a customer list: ` WHERE …` (or nothing) and its parameters, numbered
/// `?1`, `?2`… (see [`crate::sql`]). Substring conditions go through the trigram indexes:
/// on PostgreSQL the planner picks `pg_trgm` for a plain `LIKE`; on SQLite the condition
/// is asked of the FTS5 table by rowid, when the pattern holds the three characters a
/// trigram needs (a shorter one scans, as it always did).
///
/// `numbered_account` is the account a term of digits alone stands for (`42` → `CL0042`,
/// as keyed on a phone pad). `phone_ids` are the customers whose phone number is the term's (looked up beforehand:
/// a sub-select among the alternatives kept PostgreSQL from combining its indexes). With
/// `fts` false, the substrings are tested on the rows themselves (and the identifiers by
/// id): for a term so common that reading the order's index finds a page sooner than the
/// trigram index finds every match.
pub fn list_filter(
    q: &crate::ListQuery,
    d: Dialect,
    phone_ids: &[i64],
    numbered_account: Option<&str>,
    fts: bool,
) -> (String, Vec<Param>) {
    let mut wh: Vec<String> = Vec::new();
    let mut p: Vec<Param> = Vec::new();
    if let Some(n) = &q.name {
        wh.push(contains(d, fts, &mut p, &search_fold(n)));
    }
    if let Some(a) = &q.account {
        p.push(Param::Text(a.clone()));
        wh.push(format!("\"customerAccount\" = ?{}", p.len()));
    }
    if let Some(t) = &q.term {
        // The name by any part of it; identifiers by their first characters, through their
        // indexes, ignoring ASCII case: the account with spaces left out, SIRET and VAT
        // number (stored as letters and digits only) by the term's letters and digits
        // (`732 829 320`, `732.829.320`, `fr44 732`).
        let account: String = t
            .chars()
            .filter(|c| !c.is_whitespace())
            .collect::<String>()
            .to_lowercase();
        let code: String = t.chars().filter(char::is_ascii_alphanumeric).collect();
        let mut keys = Vec::new();
        if !account.is_empty() {
            keys.push(starts_with(&mut p, "lower(\"customerAccount\")", &account));
        }
        if let Some(a) = numbered_account {
            p.push(Param::Text(a.to_string()));
            keys.push(format!("\"customerAccount\" = ?{}", p.len()));
        }
        if !code.is_empty() && code.bytes().all(|b| b.is_ascii_digit()) {
            keys.push(starts_with(&mut p, "\"registrationNumber\"", &code));
        }
        if !code.is_empty() {
            let vat = format!("\"taxRegistrationNumber\"{}", crate::sql::BYTES);
            keys.push(starts_with(&mut p, &vat, &code.to_ascii_uppercase()));
        }
        let mut alt = vec![contains(d, fts, &mut p, &search_fold(t))];
        alt.extend(keys.into_iter().map(|k| match d {
            // PostgreSQL combines the ranges with the trigram index in one bitmap OR.
            Dialect::Postgres if fts => k,
            // Looked up once, through their indexes, then tested by id: a page read from
            // the name index in order tests each entry against the ids, from the index
            // alone, instead of reading every walked row for its identifiers (a common
            // name: 165 ms → a few ms at a million customers).
            _ => format!("id IN (SELECT id FROM customers WHERE {k})"),
        }));
        if !phone_ids.is_empty() {
            let first = p.len() + 1;
            p.extend(phone_ids.iter().map(|&i| Param::Int(i)));
            alt.push(format!(
                "id IN ({})",
                crate::sql::marks(first, phone_ids.len())
            ));
        }
        wh.push(format!("({})", alt.join(" OR ")));
    }
    for (f, v) in &q.flags {
        let def = f.def();
        let default = matches!(def.default, clientele_core::catalogue::Default::Bool(true));
        p.push(Param::Int(i64::from(*v)));
        wh.push(format!(
            "COALESCE(\"{}\", {}) = ?{}",
            def.pack_key,
            i64::from(default),
            p.len()
        ));
    }
    if let Some(l) = q.reseller_level {
        p.push(Param::Int(l));
        wh.push(format!("\"resellerLevel\" = ?{}", p.len()));
    }
    if let Some(r) = &q.vat_regime {
        wh.push(regime_sql(r).to_string());
    }
    let sql = if wh.is_empty() {
        String::new()
    } else {
        format!(" WHERE {}", wh.join(" AND "))
    };
    (sql, p)
}

/// The condition "the folded name contains `text`" (`text` folded), binding its pattern.
/// With `fts`, through the trigram index; without, tested on each row a list reads in its
/// order (see [`list_filter`]).
fn contains(d: Dialect, fts: bool, p: &mut Vec<Param>, text: &str) -> String {
    match d {
        // Three characters make a trigram (a shorter fragment scans, as it always did).
        Dialect::Sqlite if fts && text.chars().count() >= 3 => {
            p.push(Param::Text(fts_phrase(text)));
            format!(
                "id IN (SELECT rowid FROM {SQLITE_FTS} WHERE {SQLITE_FTS} MATCH ?{})",
                p.len()
            )
        }
        Dialect::Sqlite => {
            p.push(Param::Text(format!("%{}%", like_escape(text))));
            format!("search LIKE ?{} ESCAPE '\\'", p.len())
        }
        // Backslash is PostgreSQL's own escape character.
        Dialect::Postgres if fts => {
            p.push(Param::Text(format!("%{}%", like_escape(text))));
            format!("search LIKE ?{}", p.len())
        }
        // `pg_trgm` cannot answer `strpos`: the planner reads the order's index, as asked.
        Dialect::Postgres => {
            p.push(Param::Text(text.to_string()));
            format!("strpos(search, ?{}) > 0", p.len())
        }
    }
}

/// The condition "`expr` starts with `prefix`", as a range its index answers (both
/// backends compare these columns byte by byte).
fn starts_with(p: &mut Vec<Param>, expr: &str, prefix: &str) -> String {
    p.push(Param::Text(prefix.to_string()));
    p.push(Param::Text(format!("{prefix}\u{10ffff}")));
    format!("({expr} >= ?{} AND {expr} < ?{})", p.len() - 1, p.len())
}

/// SQL condition for a VAT regime, the same text on both backends (mirrors
/// `clientele_core::model::vat_regime`; the EU case trusts that stored VAT numbers were
/// validated on write).
pub fn regime_sql(code: &str) -> &'static str {
    match code {
        "standard" => "COALESCE(\"chargeVAT\", 1) = 1 AND COALESCE(\"applyVATAutoReverseOperators\", 0) = 0",
        "reverse_charge_operator" => "COALESCE(\"chargeVAT\", 1) = 1 AND \"applyVATAutoReverseOperators\" = 1",
        "reverse_charge_eu" => "\"chargeVAT\" = 0 AND \"taxRegistrationNumber\" IS NOT NULL AND substr(\"taxRegistrationNumber\", 1, 2) <> 'FR'",
        "not_charged" => "\"chargeVAT\" = 0 AND (\"taxRegistrationNumber\" IS NULL OR substr(\"taxRegistrationNumber\", 1, 2) = 'FR')",
        _ => "0 = 1",
    }
}

/// Escape `%`, `_` and `\` for a `LIKE … ESCAPE '\'` pattern.
pub fn like_escape(s: &str) -> String {
    s.replace('\\', "\\\\")
        .replace('%', "\\%")
        .replace('_', "\\_")
}

/// Accent- and case-folded company name used for search, words separated by one space.
/// Only the name: account, SIRET and VAT number are matched on their own columns (copying
/// them here made every stored customer about 45 bytes larger, a seventh of a row).
pub fn search_text(c: &Customer) -> String {
    let mut s = String::with_capacity(32);
    if let Some(t) = c.text(Field::name) {
        push_folded(&mut s, t);
    }
    s
}

/// Fold a search term like [`search_text`]: lower-case, no accents, words kept apart.
pub fn search_fold(t: &str) -> String {
    let mut s = String::with_capacity(t.len());
    push_folded(&mut s, t);
    s
}

fn push_folded(out: &mut String, t: &str) {
    for word in t.split_whitespace() {
        // ASCII words (most of them) fold in place, without a temporary string.
        if word.is_ascii() {
            let start = out.len();
            if !out.is_empty() {
                out.push(' ');
            }
            let mut any = false;
            for b in word.bytes().filter(u8::is_ascii_alphanumeric) {
                out.push(char::from(b.to_ascii_lowercase()));
                any = true;
            }
            if !any {
                out.truncate(start);
            }
            continue;
        }
        let folded = clientele_core::catalogue::fold(word);
        if !folded.is_empty() {
            if !out.is_empty() {
                out.push(' ');
            }
            out.push_str(&folded);
        }
    }
}

/// A customer's values as JSON keyed by pack key (import journal).
pub fn to_journal(c: &Customer) -> String {
    let mut m = Map::new();
    for d in FIELDS {
        let v = match c.get(d.id) {
            None => Json::Null,
            Some(Value::Text(s)) => Json::String(s.to_string()),
            Some(Value::Int(i)) => Json::from(*i),
            Some(Value::Bool(b)) => Json::from(*b),
        };
        m.insert(d.pack_key.into(), v);
    }
    for (i, f) in Field::PHONES.iter().enumerate() {
        m.insert(
            format!("{}_e164", f.key()),
            c.e164[i].clone().map_or(Json::Null, Json::String),
        );
    }
    m.insert("updated_at".into(), Json::String(c.updated_at.clone()));
    Json::Object(m).to_string()
}

/// Read a journal entry back onto `c` (id and created_at kept).
pub fn from_journal(c: &mut Customer, s: &str) -> Option<()> {
    let j: Json = serde_json::from_str(s).ok()?;
    for d in FIELDS {
        c.values[d.id.idx()] = match &j[d.pack_key] {
            Json::String(s) => Some(Value::Text(s.as_str().into())),
            Json::Bool(b) => Some(Value::Bool(*b)),
            Json::Number(n) => n.as_i64().map(Value::Int),
            _ => None,
        };
    }
    for (i, f) in Field::PHONES.iter().enumerate() {
        c.e164[i] = j[format!("{}_e164", f.key())].as_str().map(str::to_string);
    }
    c.updated_at = j["updated_at"].as_str().unwrap_or_default().to_string();
    Some(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bulk_indexes_are_the_account_and_siret_ones() {
        for d in [Dialect::Sqlite, Dialect::Postgres] {
            let (drop, create) = bulk_indexes(d);
            assert_eq!(
                drop,
                "DROP INDEX customers_account; DROP INDEX customers_siret"
            );
            assert_eq!(create.len(), 2, "{create:?}");
            assert!(create[0].starts_with("CREATE UNIQUE INDEX customers_account ON"));
            assert!(create[1].starts_with("CREATE INDEX customers_siret ON"));
        }
    }

    #[test]
    fn journal_round_trip() {
        let mut c = Customer::new();
        c.values[Field::name.idx()] = Some(Value::Text("Café".into()));
        c.values[Field::resellerLevel.idx()] = Some(Value::Int(3));
        c.e164[0] = Some("+33123456789".into());
        c.updated_at = "2024-01-02T03:04:05.000000Z".into();
        let mut back = Customer::new();
        from_journal(&mut back, &to_journal(&c)).expect("valid journal");
        assert_eq!(back.values, c.values);
        assert_eq!(back.e164, c.e164);
        assert_eq!(back.updated_at, c.updated_at);
        assert_eq!(search_fold("Électricité  Noël"), "electricite noel");
    }
}
