//! The PostgreSQL backend: several servers on one database.
//!
//! It mirrors the SQLite backend row for row (same schema from [`crate::schema`], same
//! search and filter semantics, same import journal and undo rules). What differs is
//! concurrency: SQLite serialises every writer on one file lock, while here API writes go on
//! during an import, so the few places that need an order take transaction-scoped advisory
//! locks (see the `*_LOCK` constants).

use crate::import::{Counts, CustomerLink, ImportTx};
use crate::schema::{self, customer_columns, is_int, regime_sql, Dialect};
use crate::{redact, ImportRecord, ListQuery, Result, Settings, SortKey, Stats, Store, StoreError};
use ::postgres::error::SqlState;
use ::postgres::types::ToSql;
use ::postgres::{Client, NoTls, Row, Statement};
use clientele_core::catalogue::{F, FIELDS};
use clientele_core::contact::Contact;
use clientele_core::ident::phone;
use clientele_core::model::{Customer, Value, VatRegime};
use r2d2::{Pool, PooledConnection};
use r2d2_postgres::PostgresConnectionManager;
use std::io::Write;
use std::time::{Duration, Instant};

// The schema version is written in `meta` under `schema_version`.
use crate::schema::SCHEMA_VERSION;

// Advisory lock keys (arbitrary constants, "Cl" + a number). Transaction-scoped: a crashed
// client's locks go with its connection.
/// Held while creating or migrating the schema: two servers starting at once.
const MIGRATE_LOCK: i64 = 0x436c_0001;
/// Held for a whole import or undo: they never interleave (as with SQLite's write lock).
const IMPORT_LOCK: i64 = 0x436c_0002;
/// Held from "highest account number" to commit, by API creates and an import's finish.
const ACCOUNT_LOCK: i64 = 0x436c_0003;
/// Held from appending to `changes` to commit, so revisions become visible in order and a
/// reader of the feed never skips a revision that commits late.
const CHANGES_LOCK: i64 = 0x436c_0004;

/// Rows buffered by an import before they are sent with one `COPY`.
const BATCH_ROWS: usize = 20_000;

/// How long an API create retries when its generated account collides with an account an
/// uncommitted import is bringing (it then waits for that import, as SQLite would).
const CREATE_RETRY_FOR: Duration = Duration::from_secs(120);

type Manager = PostgresConnectionManager<NoTls>;
pub(crate) type Conn = PooledConnection<Manager>;
/// A boxed query parameter.
pub(crate) type P = Box<dyn ToSql + Sync>;

/// Parameters as the driver wants them.
pub(crate) fn refs(p: &[P]) -> Vec<&(dyn ToSql + Sync)> {
    p.iter()
        .map(|b| b.as_ref() as &(dyn ToSql + Sync))
        .collect()
}

impl From<postgres::Error> for StoreError {
    fn from(e: postgres::Error) -> Self {
        match e.as_db_error() {
            Some(db) if *db.code() == SqlState::UNIQUE_VIOLATION => {
                StoreError::Conflict(db.detail().unwrap_or(db.message()).to_string())
            }
            Some(db) => {
                let message = format!("{}: {}", db.severity(), db.message());
                StoreError::described(message, e)
            }
            // Connection-level errors carry no credentials, but say what failed (and why:
            // "connection refused" is in the source).
            None => match std::error::Error::source(&e) {
                Some(why) => StoreError::described(format!("{e}: {why}"), e),
                None => StoreError::Db(Box::new(e)),
            },
        }
    }
}

/// A PostgreSQL database.
pub struct PgStore {
    pool: Pool<Manager>,
    select: String,
}

impl PgStore {
    /// Connect to `url` (`postgres://user:pass@host:port/db`), creating or migrating the schema.
    pub fn open(url: &str) -> Result<PgStore> {
        let mut config: postgres::Config = url
            .parse()
            .map_err(|e| StoreError::db(format!("invalid database URL {}: {e}", redact(url))))?;
        if config.get_connect_timeout().is_none() {
            config.connect_timeout(Duration::from_secs(10));
        }
        // One connection by hand first: the pool would retry for its whole timeout and then
        // only say it timed out, where PostgreSQL says why (no such database, role,
        // password, or nothing listening).
        if let Err(e) = config.connect(NoTls) {
            let why = match StoreError::from(e) {
                StoreError::Db(m) => m.to_string(),
                other => other.to_string(),
            };
            return Err(StoreError::db(format!(
                "cannot connect to {}: {why}",
                redact(url)
            )));
        }
        let manager = PostgresConnectionManager::new(config, NoTls);
        // One connection up front (the CLI needs one or two); the server grows to max_size.
        let pool = Pool::builder()
            .max_size(16)
            .min_idle(Some(1))
            .connection_timeout(Duration::from_secs(10))
            // Failed connections surface where a connection is asked for, with their
            // reason; r2d2's own handler also printed each retry on standard error.
            .error_handler(Box::new(r2d2::NopErrorHandler))
            .build(manager)
            .map_err(|e| StoreError::db(format!("cannot connect to {}: {e}", redact(url))))?;
        let store = PgStore {
            pool,
            select: format!(
                "SELECT id, {} FROM customers",
                customer_columns().join(", ")
            ),
        };
        store.migrate()?;
        Ok(store)
    }

    pub(crate) fn pool(&self) -> &Pool<Manager> {
        &self.pool
    }

    pub(crate) fn conn(&self) -> Result<Conn> {
        Ok(self.pool.get()?)
    }

    fn migrate(&self) -> Result<()> {
        let mut c = self.conn()?;
        let mut tx = c.transaction()?;
        // DDL is transactional here: the lock makes a second server wait, then see version 1.
        tx.execute("SELECT pg_advisory_xact_lock($1)", &[&MIGRATE_LOCK])?;
        let exists: bool = tx
            .query_one("SELECT to_regclass('meta') IS NOT NULL", &[])?
            .get(0);
        let version: i64 = if exists {
            tx.query_opt("SELECT value FROM meta WHERE key = 'schema_version'", &[])?
                .and_then(|r| r.get::<_, String>(0).parse().ok())
                .unwrap_or(0)
        } else {
            0
        };
        if version > SCHEMA_VERSION {
            return Err(StoreError::db(format!(
                "the database was written by a newer Clientèle (schema {version})"
            )));
        }
        for (target, statements) in schema::migrations(Dialect::Postgres) {
            if version < target {
                for s in statements {
                    tx.batch_execute(&s)?;
                }
            }
        }
        if version < SCHEMA_VERSION {
            tx.execute(
                "INSERT INTO meta (key, value) VALUES ('schema_version', $1) \
                 ON CONFLICT (key) DO UPDATE SET value = EXCLUDED.value",
                &[&SCHEMA_VERSION.to_string()],
            )?;
        }
        tx.commit()?;
        Ok(())
    }
}

/// Read a customer from a row selected with `SELECT id, <customer_columns>`.
fn customer_from_row(r: &Row) -> Result<Customer> {
    let mut c = Customer::new();
    c.id = r.try_get(0)?;
    for (i, d) in FIELDS.iter().enumerate() {
        c.values[i] = if is_int(d.kind) {
            let n: Option<i64> = r.try_get(i + 1)?;
            n.map(|n| {
                if d.kind == clientele_core::Kind::Bool {
                    Value::Bool(n != 0)
                } else {
                    Value::Int(n)
                }
            })
        } else {
            r.try_get::<_, Option<&str>>(i + 1)?
                .map(|t| Value::Text(t.into()))
        };
    }
    let n = FIELDS.len() + 1;
    for i in 0..3 {
        c.e164[i] = r.try_get(n + i)?;
    }
    c.created_at = r.try_get(n + 4)?;
    c.updated_at = r.try_get(n + 5)?;
    Ok(c)
}

/// Integer value of a field for an integer column (booleans as 0/1).
fn int_of(v: Option<&Value>) -> Option<i64> {
    match v {
        Some(Value::Int(i)) => Some(*i),
        Some(Value::Bool(b)) => Some(i64::from(*b)),
        _ => None,
    }
}

/// Bind values for [`customer_columns`] (without id).
fn customer_params(c: &Customer, created_import: Option<i64>) -> Vec<P> {
    let mut p: Vec<P> = Vec::with_capacity(FIELDS.len() + 8);
    for d in FIELDS {
        // Typed NULLs: the server checks parameter types against the column.
        if is_int(d.kind) {
            p.push(Box::new(int_of(c.get(d.id))));
        } else {
            p.push(Box::new(c.text(d.id).map(str::to_string)));
        }
    }
    for e in &c.e164 {
        p.push(Box::new(e.clone()));
    }
    p.push(Box::new(schema::search_text(c)));
    p.push(Box::new(c.created_at.clone()));
    p.push(Box::new(c.updated_at.clone()));
    p.push(Box::new(created_import));
    p
}

fn insert_sql() -> String {
    let cols = customer_columns();
    let marks = (1..=cols.len())
        .map(|i| format!("${i}"))
        .collect::<Vec<_>>()
        .join(", ");
    format!(
        "INSERT INTO customers ({}) VALUES ({marks}) RETURNING id",
        cols.join(", ")
    )
}

/// Whether a column of [`customer_columns`] is rewritten by an update (created_at and
/// created_import never are).
fn updatable(col: &str) -> bool {
    col != "created_at" && col != "created_import"
}

fn update_sql() -> String {
    let cols = customer_columns();
    let sets = cols
        .iter()
        .filter(|c| updatable(c))
        .enumerate()
        .map(|(i, c)| format!("{c} = ${}", i + 1))
        .collect::<Vec<_>>()
        .join(", ");
    let n = cols.iter().filter(|c| updatable(c)).count();
    format!("UPDATE customers SET {sets} WHERE id = ${}", n + 1)
}

/// Bind values for [`update_sql`]: the updatable columns, then the id. PostgreSQL, unlike
/// SQLite, refuses parameters a statement does not use.
fn update_params(c: &Customer, id: i64) -> Vec<P> {
    let mut p: Vec<P> = customer_params(c, None)
        .into_iter()
        .zip(customer_columns())
        .filter(|(_, col)| updatable(col))
        .map(|(v, _)| v)
        .collect();
    p.push(Box::new(id));
    p
}

/// Rewrite the phone index rows of a customer.
fn write_phones(
    c: &mut impl ::postgres::GenericClient,
    id: i64,
    cust: &Customer,
    fresh: bool,
) -> Result<()> {
    if !fresh {
        c.execute(
            "DELETE FROM phones WHERE customer_id = $1 AND contact_id IS NULL",
            &[&id],
        )?;
    }
    for e in cust.e164.iter().flatten() {
        c.execute(
            "INSERT INTO phones (e164, last9, customer_id) VALUES ($1, $2, $3)",
            &[e, &phone::last9(e), &id],
        )?;
    }
    Ok(())
}

/// Append to the audit trail, in the write's transaction, with the actor of the current call.
pub(crate) fn record_audit(
    c: &mut impl ::postgres::GenericClient,
    action: &str,
    item: i64,
    label: Option<&str>,
) -> Result<()> {
    c.execute(
        "INSERT INTO audit (at, actor, action, kind, item, label) VALUES ($1, $2, $3, 'customer', $4, $5)",
        &[&crate::now(), &crate::audit::actor(), &action, &item, &label],
    )?;
    Ok(())
}

/// Append to the change feed; call it last, just before commit (it holds [`CHANGES_LOCK`]).
pub(crate) fn record_change(
    c: &mut impl ::postgres::GenericClient,
    kind: &'static str,
    item: i64,
) -> Result<()> {
    c.batch_execute(&format!("SELECT pg_advisory_xact_lock({CHANGES_LOCK}); INSERT INTO changes (kind, item) VALUES ('{kind}', {item})"))?;
    Ok(())
}

fn settings_of(c: &mut impl ::postgres::GenericClient) -> Result<Settings> {
    let mut s = Settings::default();
    for r in c.query(
        "SELECT key, value FROM meta WHERE key IN ('account_prefix', 'account_width')",
        &[],
    )? {
        let (k, v): (String, String) = (r.try_get(0)?, r.try_get(1)?);
        match k.as_str() {
            "account_prefix" => s.account_prefix = v,
            "account_width" => s.account_width = v.parse().unwrap_or(4),
            _ => {}
        }
    }
    Ok(s)
}

/// Highest number used by accounts with the settings' prefix (as [`Settings::number_of`]).
fn max_account_number(c: &mut impl ::postgres::GenericClient, s: &Settings) -> Result<u64> {
    let from = i32::try_from(s.account_prefix.chars().count() + 1).unwrap_or(i32::MAX);
    let row = c.query_one(
        "SELECT COALESCE(MAX(substr(\"customerAccount\", $2)::numeric), 0)::bigint FROM customers \
         WHERE starts_with(\"customerAccount\", $1) AND substr(\"customerAccount\", $2) ~ '^[0-9]{1,18}$'",
        &[&s.account_prefix, &from],
    )?;
    let n: i64 = row.try_get(0)?;
    Ok(n.max(0) as u64)
}

impl Store for PgStore {
    fn settings(&self) -> Result<Settings> {
        settings_of(&mut *self.conn()?)
    }

    fn next_account(&self) -> Result<String> {
        let mut c = self.conn()?;
        let s = settings_of(&mut *c)?;
        Ok(s.account(max_account_number(&mut *c, &s)? + 1))
    }

    fn set_settings(&self, s: &Settings) -> Result<()> {
        let mut c = self.conn()?;
        let up = "INSERT INTO meta (key, value) VALUES ($1, $2) ON CONFLICT (key) DO UPDATE SET value = excluded.value";
        let mut tx = c.transaction()?;
        tx.execute(up, &[&"account_prefix", &s.account_prefix])?;
        tx.execute(up, &[&"account_width", &s.account_width.to_string()])?;
        tx.commit()?;
        Ok(())
    }

    fn customer(&self, id: i64) -> Result<Customer> {
        let row = self
            .conn()?
            .query_opt(&format!("{} WHERE id = $1", self.select), &[&id])?
            .ok_or(StoreError::NotFound)?;
        customer_from_row(&row)
    }

    fn customer_by_account(&self, account: &str) -> Result<Customer> {
        let row = self
            .conn()?
            .query_opt(
                &format!("{} WHERE \"customerAccount\" = $1", self.select),
                &[&account],
            )?
            .ok_or(StoreError::NotFound)?;
        customer_from_row(&row)
    }

    fn list_customers(&self, q: &ListQuery) -> Result<(Vec<Customer>, u64)> {
        let (where_sql, params) = schema::list_filter(q, '$');
        let mut p: Vec<P> = params
            .into_iter()
            .map(|v| -> P {
                match v {
                    schema::Param::Text(t) => Box::new(t),
                    schema::Param::Int(n) => Box::new(n),
                }
            })
            .collect();
        let mut c = self.conn()?;
        let total: i64 = c
            .query_one(
                &format!("SELECT COUNT(*) FROM customers{where_sql}"),
                &refs(&p),
            )?
            .try_get(0)?;
        // SQLite's order: NULLs first when ascending, `COLLATE NOCASE` folds ASCII only and
        // compares bytes, which `lower(… COLLATE "C")` reproduces.
        let order = match q.sort {
            Some((k, desc)) => {
                let col = match k {
                    SortKey::Id => "id",
                    // As on SQLite: the folded name (French order), then the written one.
                    SortKey::Name if desc => "search COLLATE \"C\" DESC, lower(name COLLATE \"C\")",
                    SortKey::Name => "search COLLATE \"C\" ASC, lower(name COLLATE \"C\")",
                    SortKey::Account => "\"customerAccount\" COLLATE \"C\"",
                    SortKey::CreatedAt => "created_at COLLATE \"C\"",
                    SortKey::UpdatedAt => "updated_at COLLATE \"C\"",
                };
                if desc {
                    format!("{col} DESC NULLS LAST, id DESC")
                } else {
                    format!("{col} ASC NULLS FIRST, id ASC")
                }
            }
            None if q.term.is_some() => {
                format!("CASE WHEN \"customerAccount\" = ${} THEN 0 ELSE 1 END, search COLLATE \"C\", lower(name COLLATE \"C\") NULLS FIRST, id", p.len() + 1)
            }
            None => "id".into(),
        };
        if q.sort.is_none() {
            if let Some(t) = &q.term {
                p.push(Box::new(t.trim().to_string()));
            }
        }
        p.push(Box::new(i64::try_from(q.limit).unwrap_or(i64::MAX)));
        p.push(Box::new(i64::try_from(q.offset).unwrap_or(i64::MAX)));
        let sql = format!(
            "{}{where_sql} ORDER BY {order} LIMIT ${} OFFSET ${}",
            self.select,
            p.len() - 1,
            p.len()
        );
        let rows = c
            .query(&sql, &refs(&p))?
            .iter()
            .map(customer_from_row)
            .collect::<Result<Vec<_>>>()?;
        Ok((rows, total as u64))
    }

    fn create_customer(&self, cust: &Customer) -> Result<Customer> {
        let generate = cust.text(F::customerAccount).is_none();
        let started = Instant::now();
        let mut c = self.conn()?;
        loop {
            match create_once(&mut c, cust, generate) {
                Ok(created) => return Ok(created),
                // The generated account is being brought by an import that has not committed:
                // let go of the account lock (the import needs it to finish) and try again.
                Err(AttemptError::Clash(_)) if generate && started.elapsed() < CREATE_RETRY_FOR => {
                    std::thread::sleep(Duration::from_millis(50));
                }
                Err(AttemptError::Clash(e) | AttemptError::Other(e)) => return Err(e),
            }
        }
    }

    fn update_customer(&self, cust: &Customer) -> Result<Customer> {
        let mut c = self.conn()?;
        let mut tx = c.transaction()?;
        let mut cust = cust.clone();
        cust.updated_at = crate::now();
        let n = tx.execute(&update_sql(), &refs(&update_params(&cust, cust.id)))?;
        if n == 0 {
            return Err(StoreError::NotFound);
        }
        write_phones(&mut tx, cust.id, &cust, false)?;
        record_audit(&mut tx, "update", cust.id, cust.text(F::customerAccount))?;
        record_change(&mut tx, "customer", cust.id)?;
        tx.commit()?;
        Ok(cust)
    }

    fn delete_customer(&self, id: i64) -> Result<()> {
        let mut c = self.conn()?;
        let mut tx = c.transaction()?;
        let Some(row) = tx.query_opt(
            "SELECT \"customerAccount\" FROM customers WHERE id = $1 FOR UPDATE",
            &[&id],
        )?
        else {
            return Err(StoreError::NotFound);
        };
        let account: Option<String> = row.try_get(0)?;
        tx.execute("DELETE FROM phones WHERE customer_id = $1", &[&id])?;
        if tx.execute("DELETE FROM customers WHERE id = $1", &[&id])? == 0 {
            return Err(StoreError::NotFound);
        }
        record_audit(&mut tx, "delete", id, account.as_deref())?;
        record_change(&mut tx, "customer", id)?;
        tx.commit()?;
        Ok(())
    }

    fn for_each_customer(
        &self,
        f: &mut dyn FnMut(&Customer) -> std::io::Result<()>,
    ) -> Result<()> {
        let mut c = self.conn()?;
        // One snapshot for the whole export, read through a portal in bounded chunks.
        let mut tx = c
            .build_transaction()
            .isolation_level(postgres::IsolationLevel::RepeatableRead)
            .read_only(true)
            .start()?;
        let portal = tx.bind(&format!("{} ORDER BY id", self.select), &[])?;
        loop {
            let rows = tx.query_portal(&portal, 2_000)?;
            if rows.is_empty() {
                break;
            }
            for r in &rows {
                f(&customer_from_row(r)?).map_err(StoreError::Io)?;
            }
        }
        tx.commit()?;
        Ok(())
    }

    fn begin_import(&self, file: &str) -> Result<Box<dyn ImportTx + '_>> {
        let (conn, ids_conn) = (self.conn()?, self.conn()?);
        Ok(Box::new(PgImport::begin(
            conn,
            ids_conn,
            self.select.clone(),
            file,
        )?))
    }

    fn imports(&self) -> Result<Vec<ImportRecord>> {
        let rows = self
            .conn()?
            .query(&format!("{IMPORT_SELECT} ORDER BY id DESC"), &[])?;
        rows.iter().map(import_from_row).collect()
    }

    fn undo_import(&self, id: i64, force: bool) -> Result<ImportRecord> {
        let mut c = self.conn()?;
        let mut tx = c.transaction()?;
        tx.execute("SELECT pg_advisory_xact_lock($1)", &[&IMPORT_LOCK])?;
        let rec = tx
            .query_opt(&format!("{IMPORT_SELECT} WHERE id = $1 FOR UPDATE"), &[&id])?
            .ok_or(StoreError::NotFound)?;
        let rec = import_from_row(&rec)?;
        if rec.undone_at.is_some() {
            return Err(StoreError::Refused(format!(
                "import {id} was already undone on {}",
                rec.undone_at.unwrap_or_default()
            )));
        }
        // Refuse when a customer it touched has changed since: undoing would lose that change.
        let changed = tx.query_opt(
            "SELECT \"customerAccount\" FROM customers WHERE updated_at COLLATE \"C\" > $2 AND (created_import = $1 OR id IN (SELECT customer_id FROM import_changes WHERE import_id = $1)) LIMIT 1",
            &[&id, &rec.at],
        )?;
        if let Some(r) = changed.filter(|_| !force) {
            let a: Option<String> = r.try_get(0)?;
            return Err(StoreError::Refused(format!(
                "customer {} was changed after import {id}; undo the later imports (or changes) first, or force the undo (those changes are lost)",
                a.unwrap_or_default()
            )));
        }
        let befores = tx.query(
            "SELECT customer_id, before FROM import_changes WHERE import_id = $1",
            &[&id],
        )?;
        let select = tx.prepare(&format!("{} WHERE id = $1", self.select))?;
        let update = tx.prepare(&update_sql())?;
        for r in befores {
            let (cid, before): (i64, String) = (r.try_get(0)?, r.try_get(1)?);
            let Some(row) = tx.query_opt(&select, &[&cid])? else {
                continue;
            };
            let mut cust = customer_from_row(&row)?;
            if schema::from_journal(&mut cust, &before).is_none() {
                return Err(StoreError::db(format!(
                    "corrupt journal entry for customer {cid}"
                )));
            }
            tx.execute(&update, &refs(&update_params(&cust, cid)))?;
            write_phones(&mut tx, cid, &cust, false)?;
        }
        tx.execute("DELETE FROM phones WHERE customer_id IN (SELECT id FROM customers WHERE created_import = $1)", &[&id])?;
        tx.execute("DELETE FROM contacts WHERE created_import = $1", &[&id])?;
        tx.execute("DELETE FROM customers WHERE created_import = $1", &[&id])?;
        let (now, actor) = (crate::now(), crate::audit::actor());
        tx.execute(
            "UPDATE imports SET undone_at = $2, undone_by = $3 WHERE id = $1",
            &[&id, &now, &actor],
        )?;
        record_change(&mut tx, "all", id)?;
        tx.commit()?;
        let mut rec = rec;
        rec.undone_at = Some(now);
        rec.undone_by = Some(actor);
        Ok(rec)
    }

    fn stats(&self) -> Result<Stats> {
        let mut c = self.conn()?;
        // SUM over BIGINT is NUMERIC in PostgreSQL: cast back.
        let r = c.query_one(
            "SELECT COUNT(*), COALESCE(SUM(COALESCE(active, 1)), 0)::bigint, COALESCE(SUM(COALESCE(vip, 0)), 0)::bigint, \
             COALESCE(SUM(COALESCE(\"onCallDuty\", 0)), 0)::bigint FROM customers",
            &[],
        )?;
        let (total, active, vip, on_call): (i64, i64, i64, i64) =
            (r.try_get(0)?, r.try_get(1)?, r.try_get(2)?, r.try_get(3)?);
        let mut reseller_levels = Vec::new();
        for r in c.query("SELECT \"resellerLevel\", COUNT(*) FROM customers WHERE \"isReseller\" = 1 GROUP BY 1 ORDER BY 1 NULLS FIRST", &[])? {
            reseller_levels.push((r.try_get(0)?, r.try_get::<_, i64>(1)? as u64));
        }
        let mut vat_regimes = Vec::new();
        for r in VatRegime::ALL {
            let n: i64 = c
                .query_one(
                    &format!(
                        "SELECT COUNT(*) FROM customers WHERE {}",
                        regime_sql(r.code())
                    ),
                    &[],
                )?
                .try_get(0)?;
            vat_regimes.push((r.code().to_string(), n as u64));
        }
        Ok(Stats {
            total: total as u64,
            active: active as u64,
            vip: vip as u64,
            on_call: on_call as u64,
            reseller_levels,
            vat_regimes,
        })
    }
}

/// Why one attempt of [`Store::create_customer`] failed.
enum AttemptError {
    /// The account clashed with another (or waiting for an uncommitted one timed out).
    Clash(StoreError),
    /// Anything else.
    Other(StoreError),
}

impl From<StoreError> for AttemptError {
    fn from(e: StoreError) -> Self {
        AttemptError::Other(e)
    }
}

impl From<postgres::Error> for AttemptError {
    fn from(e: postgres::Error) -> Self {
        let clash = e.as_db_error().is_some_and(|db| {
            (*db.code() == SqlState::UNIQUE_VIOLATION
                && db.constraint() == Some("customers_account"))
                || *db.code() == SqlState::LOCK_NOT_AVAILABLE
        });
        if clash {
            AttemptError::Clash(e.into())
        } else {
            AttemptError::Other(e.into())
        }
    }
}

/// One attempt of [`Store::create_customer`].
fn create_once(
    c: &mut Client,
    cust: &Customer,
    generate: bool,
) -> std::result::Result<Customer, AttemptError> {
    let mut tx = c.transaction()?;
    let mut cust = cust.clone();
    let now = crate::now();
    cust.created_at.clone_from(&now);
    cust.updated_at = now;
    if generate {
        // The lock orders generators; each statement then sees every committed account.
        tx.execute("SELECT pg_advisory_xact_lock($1)", &[&ACCOUNT_LOCK])?;
        let s = settings_of(&mut tx)?;
        let next = max_account_number(&mut tx, &s)? + 1;
        cust.values[F::customerAccount.idx()] = Some(Value::Text(s.account(next).into()));
        // An uncommitted import may hold this account: do not wait for it while holding
        // the account lock (its finish needs the lock: that would deadlock); retry instead.
        tx.batch_execute("SET LOCAL lock_timeout = '200ms'")?;
    }
    let row = tx.query_one(&insert_sql(), &refs(&customer_params(&cust, None)))?;
    cust.id = row.try_get(0)?;
    if generate {
        tx.batch_execute("SET LOCAL lock_timeout = DEFAULT")?;
    }
    write_phones(&mut tx, cust.id, &cust, true)?;
    record_audit(&mut tx, "create", cust.id, cust.text(F::customerAccount))?;
    record_change(&mut tx, "customer", cust.id)?;
    tx.commit()?;
    Ok(cust)
}

const IMPORT_SELECT: &str = "SELECT id, file, sha256, at, created, updated, unchanged, rejected, contacts, undone_at, actor, undone_by FROM imports";

fn import_from_row(r: &Row) -> Result<ImportRecord> {
    Ok(ImportRecord {
        id: r.try_get(0)?,
        file: r.try_get(1)?,
        sha256: r.try_get(2)?,
        at: r.try_get(3)?,
        created: r.try_get::<_, i64>(4)? as u64,
        updated: r.try_get::<_, i64>(5)? as u64,
        unchanged: r.try_get::<_, i64>(6)? as u64,
        rejected: r.try_get::<_, i64>(7)? as u64,
        contacts: r.try_get::<_, i64>(8)? as u64,
        undone_at: r.try_get(9)?,
        actor: r.try_get(10)?,
        undone_by: r.try_get(11)?,
    })
}

/// Rows in PostgreSQL's binary `COPY` format, built by hand: the columns are only BIGINT
/// and TEXT, whose binary forms are the big-endian integer and the UTF-8 bytes, so this
/// skips the driver's per-value type dispatch. Holds tuples only; the connection thread
/// adds the header and trailer around each `COPY`.
#[derive(Default)]
struct CopyBuf {
    buf: Vec<u8>,
    rows: usize,
}

const COPY_HEADER: &[u8] = b"PGCOPY\n\xff\r\n\0\0\0\0\0\0\0\0\0";
const COPY_TRAILER: &[u8] = &[0xff, 0xff];

impl CopyBuf {
    fn row(&mut self, ncols: usize) {
        self.buf.extend_from_slice(&(ncols as i16).to_be_bytes());
        self.rows += 1;
    }
    fn null(&mut self) {
        self.buf.extend_from_slice(&(-1i32).to_be_bytes());
    }
    fn text(&mut self, s: Option<&str>) {
        match s {
            None => self.null(),
            Some(s) => {
                self.buf.extend_from_slice(&(s.len() as i32).to_be_bytes());
                self.buf.extend_from_slice(s.as_bytes());
            }
        }
    }
    fn int(&mut self, v: Option<i64>) {
        match v {
            None => self.null(),
            Some(v) => {
                self.buf.extend_from_slice(&8i32.to_be_bytes());
                self.buf.extend_from_slice(&v.to_be_bytes());
            }
        }
    }
    fn take(&mut self) -> Vec<u8> {
        self.rows = 0;
        std::mem::take(&mut self.buf)
    }
}

/// The tables an import copies into.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Table {
    Customers,
    Phones,
}

impl Table {
    fn copy_sql(self) -> String {
        match self {
            Table::Customers => format!(
                "COPY customers (id, {}) FROM STDIN (FORMAT binary)",
                customer_columns().join(", ")
            ),
            Table::Phones => {
                "COPY phones (e164, last9, customer_id, contact_id) FROM STDIN (FORMAT binary)"
                    .into()
            }
        }
    }
}

/// A statement run on the import's connection; it receives the first failure instead when
/// an earlier step (a `COPY` sent without waiting) failed.
type Task = Box<dyn FnOnce(std::result::Result<&mut Client, StoreError>) + Send>;

/// Work for the connection thread of an import, in order.
enum Job {
    /// Tuples for a table, sent without waiting for an answer.
    Rows(Table, Vec<u8>),
    /// A statement to run (any open `COPY` is completed first).
    Run(Task),
}

/// Chunks of tuples sent to the connection thread while no look-up interrupts: about 1 MB.
const CHUNK_BYTES: usize = 1 << 20;

fn same_error(e: &StoreError) -> StoreError {
    match e {
        StoreError::NotFound => StoreError::NotFound,
        StoreError::Conflict(m) => StoreError::Conflict(m.clone()),
        StoreError::Refused(m) => StoreError::Refused(m.clone()),
        StoreError::Db(m) => StoreError::db(m.to_string()),
        StoreError::Io(e) => StoreError::Io(std::io::Error::new(e.kind(), e.to_string())),
    }
}

fn io_error(e: std::io::Error) -> StoreError {
    StoreError::described("COPY", e)
}

/// The connection thread of an import: it owns the connection, keeps one `COPY` open while
/// rows for the same table keep coming (the server inserts while the engine validates the
/// next rows), and runs the other statements in between. Ends when the import is dropped.
fn connection_thread(mut conn: Conn, jobs: std::sync::mpsc::Receiver<Job>) {
    let mut failed: Option<StoreError> = None;
    let mut next: Option<Job> = None;
    loop {
        let job = match next.take() {
            Some(j) => j,
            None => match jobs.recv() {
                Ok(j) => j,
                Err(_) => break,
            },
        };
        match job {
            Job::Rows(table, bytes) => {
                let result = (|| -> Result<()> {
                    let mut w = conn.copy_in(&table.copy_sql())?;
                    w.write_all(COPY_HEADER).map_err(io_error)?;
                    w.write_all(&bytes).map_err(io_error)?;
                    loop {
                        match jobs.recv() {
                            Ok(Job::Rows(t, b)) if t == table => {
                                w.write_all(&b).map_err(io_error)?
                            }
                            Ok(other) => {
                                next = Some(other);
                                break;
                            }
                            // The import was dropped: the writer's drop aborts the COPY.
                            Err(_) => return Err(StoreError::db("import abandoned")),
                        }
                    }
                    w.write_all(COPY_TRAILER).map_err(io_error)?;
                    w.finish()?;
                    Ok(())
                })();
                if let (Err(e), None) = (result, &failed) {
                    failed = Some(e);
                }
            }
            Job::Run(task) => match &failed {
                Some(e) => task(Err(same_error(e))),
                None => task(Ok(&mut conn)),
            },
        }
        if failed.is_some() {
            // Skip queued rows quickly; statements still get the error.
            while let Some(Job::Rows(..)) = next {
                next = jobs.recv().ok();
            }
        }
    }
    // Committed imports end with COMMIT; anything else is rolled back here, so the pooled
    // connection goes back clean (a warning, not an error, when there is no transaction).
    let _ = conn.batch_execute("ROLLBACK");
}

/// An import transaction: statements go through [`connection_thread`], which owns the
/// connection (`BEGIN` issued by hand: the driver's `Transaction` borrows the client).
struct PgImport {
    jobs: Option<std::sync::mpsc::SyncSender<Job>>,
    thread: Option<std::thread::JoinHandle<()>>,
    /// Another connection, for the id sequence (nextval is not transactional).
    ids_conn: Conn,
    import_id: i64,
    select: String,
    stmts: Option<ImportStatements>,
    customers: CopyBuf,
    phones: CopyBuf,
    /// Whether look-ups may come: then rows are sent in batches, not in a stream that every
    /// look-up would interrupt.
    lookups: bool,
    /// Ids taken from the sequence and not used yet (taken by blocks: one round trip each).
    ids: std::vec::IntoIter<i64>,
    /// The query that takes a block of ids.
    id_query: Option<String>,
    /// What a bulk load dropped (constraints to add back and indexes to build) once every
    /// customer is written.
    rebuild: Option<Vec<String>>,
    /// Inserted customers without an account, in insertion (= id) order.
    unnumbered: Vec<i64>,
    /// Columns of a customers tuple (id and [`customer_columns`]).
    ncols: usize,
}

#[derive(Clone)]
struct ImportStatements {
    by_account: Statement,
    by_siret: Statement,
    journal: Statement,
    update: Statement,
}

impl PgImport {
    fn begin(mut conn: Conn, ids_conn: Conn, select: String, file: &str) -> Result<PgImport> {
        conn.batch_execute("BEGIN")?;
        // Imports (and undos) never interleave; API writes go on meanwhile.
        let started = conn
            .execute("SELECT pg_advisory_xact_lock($1)", &[&IMPORT_LOCK])
            .and_then(|_| {
                conn.query_one(
                    // The SHA-256 is written at finish (it may still be being computed).
                    "INSERT INTO imports (file, sha256, at, actor) VALUES ($1, '', $2, $3) RETURNING id",
                    &[&file, &crate::now(), &crate::audit::actor()],
                )
            });
        let import_id: i64 = match started.and_then(|r| r.try_get(0)) {
            Ok(id) => id,
            Err(e) => {
                let _ = conn.batch_execute("ROLLBACK");
                return Err(e.into());
            }
        };
        let (tx, rx) = std::sync::mpsc::sync_channel(4);
        let thread = std::thread::Builder::new()
            .name("clientele-pg-import".into())
            .spawn(move || connection_thread(conn, rx))
            .map_err(|e| StoreError::db(format!("cannot start the import thread: {e}")))?;
        Ok(PgImport {
            jobs: Some(tx),
            thread: Some(thread),
            ids_conn,
            import_id,
            select,
            stmts: None,
            customers: CopyBuf::default(),
            phones: CopyBuf::default(),
            lookups: true,
            ids: Vec::new().into_iter(),
            id_query: None,
            rebuild: None,
            unnumbered: Vec::new(),
            ncols: customer_columns().len() + 1,
        })
    }

    fn send(&self, job: Job) -> Result<()> {
        let dead = || StoreError::db("the import connection thread stopped");
        self.jobs
            .as_ref()
            .ok_or_else(dead)?
            .send(job)
            .map_err(|_| dead())
    }

    /// Run `f` on the import's connection and wait for its answer.
    fn run<R: Send + 'static>(
        &self,
        f: impl FnOnce(&mut Client) -> Result<R> + Send + 'static,
    ) -> Result<R> {
        let (tx, rx) = std::sync::mpsc::sync_channel(1);
        self.send(Job::Run(Box::new(move |c| {
            let _ = tx.send(c.and_then(f));
        })))?;
        rx.recv()
            .map_err(|_| StoreError::db("the import connection thread stopped"))?
    }

    /// Statements of the look-up and update path, prepared on first use (a fresh database
    /// never needs them).
    fn stmts(&mut self) -> Result<ImportStatements> {
        if let Some(s) = &self.stmts {
            return Ok(s.clone());
        }
        let (by_account, by_siret) = (
            format!("{} WHERE \"customerAccount\" = $1 AND created_import IS DISTINCT FROM $2", self.select),
            format!("{} WHERE \"registrationNumber\" = $1 AND created_import IS DISTINCT FROM $2 ORDER BY id LIMIT 2", self.select),
        );
        let s = self.run(move |c| {
            Ok(ImportStatements {
                by_account: c.prepare(&by_account)?,
                by_siret: c.prepare(&by_siret)?,
                journal: c.prepare("INSERT INTO import_changes (import_id, customer_id, before) VALUES ($1, $2, $3)")?,
                update: c.prepare(&update_sql())?,
            })
        })?;
        self.stmts = Some(s.clone());
        Ok(s)
    }

    fn next_id(&mut self) -> Result<i64> {
        if let Some(id) = self.ids.next() {
            return Ok(id);
        }
        if self.id_query.is_none() {
            // The sequence is named once: `pg_get_serial_sequence` in the query itself was
            // evaluated for every id (a name parse and catalogue look-up each, measured as a
            // sixth of the server's work on a fresh import). A literal regclass is resolved
            // when the query is planned.
            let seq: String = self
                .ids_conn
                .query_one("SELECT pg_get_serial_sequence('customers', 'id')", &[])?
                .try_get(0)?;
            let seq = seq.replace('\'', "''");
            self.id_query = Some(if self.rebuild.is_some() {
                // A bulk load holds the customers table exclusively (its primary key was
                // dropped) until the commit: no one else can insert a customer, and so
                // take an id, meanwhile. A block of ids is then one sequence update
                // (nextval once per id cost the server about a tenth of its import work).
                format!(
                    "SELECT setval('{seq}'::regclass, nextval('{seq}'::regclass) + $1::bigint - 1)"
                )
            } else {
                format!("SELECT nextval('{seq}'::regclass) FROM generate_series(1, $1::bigint)")
            });
        }
        let sql = self.id_query.as_deref().unwrap_or_default();
        let n = BATCH_ROWS as i64;
        let rows = self.ids_conn.query(sql, &[&n])?;
        let mut ids = rows
            .iter()
            .map(|r| r.try_get::<_, i64>(0))
            .collect::<std::result::Result<Vec<_>, _>>()?;
        if self.rebuild.is_some() {
            // The last id of the block: the block is the n ids up to it.
            let last = ids.first().copied().unwrap_or_default();
            ids = (last - n + 1..=last).collect();
        }
        self.ids = ids.into_iter();
        self.ids
            .next()
            .ok_or_else(|| StoreError::db("the id sequence returned nothing"))
    }

    /// Add back what [`ImportTx::bulk_load`] dropped, once every customer is sent.
    fn build_indexes(&mut self) -> Result<()> {
        let Some(statements) = self.rebuild.take() else {
            return Ok(());
        };
        self.run(move |c| {
            // The default sort memory (64 MB) spills a million keys to disk.
            c.batch_execute("SET LOCAL maintenance_work_mem = '256MB'")?;
            for st in &statements {
                c.batch_execute(st)?;
            }
            Ok(())
        })
    }

    /// Hand the buffered tuples to the connection thread.
    fn flush(&mut self) -> Result<()> {
        if self.customers.rows > 0 {
            let rows = self.customers.take();
            self.send(Job::Rows(Table::Customers, rows))?;
        }
        if self.phones.rows > 0 {
            let rows = self.phones.take();
            self.send(Job::Rows(Table::Phones, rows))?;
        }
        Ok(())
    }
}

/// Drop the customer indexes, the primary key and the foreign keys to it for a bulk load into
/// the empty customers table; returns the statements that put them back as they were
/// defined, or None when the table is not empty (the caller then rolls back to its
/// savepoint).
fn drop_for_bulk_load(c: &mut Client) -> Result<Option<Vec<String>>> {
    let constraints = c.query(
        "SELECT conrelid::regclass::text, conname, pg_get_constraintdef(oid) FROM pg_constraint \
         WHERE (conrelid = 'customers'::regclass AND contype = 'p') \
            OR (confrelid = 'customers'::regclass AND contype = 'f') \
         ORDER BY contype",
        &[],
    )?;
    let quote = |s: &str| format!("\"{}\"", s.replace('"', "\"\""));
    let mut rebuild = Vec::new();
    // Foreign keys first (`f` sorts before `p`): they depend on the primary key, which is
    // added back first.
    for r in &constraints {
        let (table, name, def): (String, String, String) =
            (r.try_get(0)?, r.try_get(1)?, r.try_get(2)?);
        c.batch_execute(&format!(
            "ALTER TABLE {table} DROP CONSTRAINT {}",
            quote(&name)
        ))?;
        rebuild.insert(
            0,
            format!("ALTER TABLE {table} ADD CONSTRAINT {} {def}", quote(&name)),
        );
    }
    let (drop, create) = schema::bulk_indexes(Dialect::Postgres);
    c.batch_execute(&drop)?;
    rebuild.extend(create);
    let n: i64 = c
        .query_one(
            "SELECT COUNT(*) FROM (SELECT 1 FROM customers LIMIT 1) t",
            &[],
        )?
        .try_get(0)?;
    Ok((n == 0).then_some(rebuild))
}

impl ImportTx for PgImport {
    fn existing_count(&mut self) -> Result<u64> {
        let n: i64 = self.run(|c| {
            Ok(c.query_one(
                "SELECT COUNT(*) FROM (SELECT 1 FROM customers LIMIT 1) t",
                &[],
            )?
            .try_get(0)?)
        })?;
        self.lookups = n > 0;
        Ok(n as u64)
    }

    fn bulk_load(&mut self) -> Result<bool> {
        // Into an empty table, building the indexes once at the end (a sort, with parallel
        // workers) costs a fraction of maintaining them row by row (account and SIRET:
        // measured 8.7 s → 5.2 s for 1M rows; the primary key: 1 s of the server's 3.2 s
        // COPY). The primary key goes too, with the foreign keys (contacts) that need it;
        // both come back, as they were defined, before the contacts and the commit. The DDL
        // is part of the transaction (rolled back with it); it locks the tables until the
        // commit, so API writes wait for the initial load instead of racing it
        // (docs/decisions.md). An API write may have slipped in between the count and the
        // lock: then everything stays.
        let rebuild = self.run(|c| {
            // The account lock first, as an API create takes it (then reads the table):
            // taken at finish only, after the DDL below has locked the table, it made an API
            // create that came meanwhile and the import wait for each other (a deadlock
            // that lost the import). API creates wait for the load instead, as they would
            // for the table.
            c.execute("SELECT pg_advisory_xact_lock($1)", &[&ACCOUNT_LOCK])?;
            c.batch_execute("SAVEPOINT bulk_load")?;
            // Any failure (a lock wait ending in a deadlock, say) only means the import
            // keeps the indexes: back to the savepoint, and on as an ordinary import.
            match drop_for_bulk_load(c) {
                Ok(Some(rebuild)) => {
                    c.batch_execute("RELEASE SAVEPOINT bulk_load")?;
                    Ok(Some(rebuild))
                }
                Ok(None) | Err(_) => {
                    c.batch_execute(
                        "ROLLBACK TO SAVEPOINT bulk_load; RELEASE SAVEPOINT bulk_load",
                    )?;
                    Ok(None)
                }
            }
        })?;
        let empty = rebuild.is_some();
        self.lookups = !empty;
        self.rebuild = rebuild;
        Ok(empty)
    }

    fn find_by_account(&mut self, account: &str) -> Result<Option<Customer>> {
        // Rows of this import (sent or still buffered) are never returned: buffered ones
        // are not in the table yet, sent ones carry created_import.
        let (st, account, id) = (
            self.stmts()?.by_account,
            account.to_string(),
            self.import_id,
        );
        self.run(move |c| {
            c.query_opt(&st, &[&account, &id])?
                .as_ref()
                .map(customer_from_row)
                .transpose()
        })
    }

    fn find_by_siret(&mut self, siret: &str) -> Result<Vec<Customer>> {
        let (st, siret, id) = (self.stmts()?.by_siret, siret.to_string(), self.import_id);
        self.run(move |c| {
            c.query(&st, &[&siret, &id])?
                .iter()
                .map(customer_from_row)
                .collect()
        })
    }

    fn insert(&mut self, c: Box<Customer>, search: String, now: &str) -> Result<()> {
        let id = self.next_id()?;
        let b = &mut self.customers;
        b.row(self.ncols);
        b.int(Some(id));
        for d in FIELDS {
            if is_int(d.kind) {
                b.int(int_of(c.get(d.id)));
            } else {
                b.text(c.text(d.id));
            }
        }
        for e in &c.e164 {
            b.text(e.as_deref());
        }
        b.text(Some(&search));
        b.text(Some(now));
        b.text(Some(now));
        b.int(Some(self.import_id));
        for e in c.e164.iter().flatten() {
            let p = &mut self.phones;
            p.row(4);
            p.text(Some(e));
            p.text(Some(phone::last9(e)));
            p.int(Some(id));
            p.null();
        }
        if c.text(F::customerAccount).is_none() {
            self.unnumbered.push(id);
        }
        // Phones go in batches (each switch of table ends a COPY); customers stream in
        // chunks on a fresh database, in batches when look-ups interleave.
        if self.phones.rows >= BATCH_ROWS || self.customers.rows >= BATCH_ROWS {
            self.flush()?;
        } else if !self.lookups && self.customers.buf.len() >= CHUNK_BYTES {
            let rows = self.customers.take();
            self.send(Job::Rows(Table::Customers, rows))?;
        }
        Ok(())
    }

    fn update(&mut self, before: &Customer, after: &Customer) -> Result<()> {
        let st = self.stmts()?;
        let (id, before, after) = (self.import_id, before.clone(), after.clone());
        self.run(move |c| {
            c.execute(
                &st.journal,
                &[&id, &before.id, &schema::to_journal(&before)],
            )?;
            c.execute(&st.update, &refs(&update_params(&after, before.id)))?;
            write_phones(c, before.id, &after, false)
        })
    }

    fn insert_contacts(&mut self, contacts: Vec<(Contact, CustomerLink)>) -> Result<()> {
        self.flush()?;
        // Without the account index each contact would scan the whole table.
        self.build_indexes()?;
        let (import_id, unnumbered) = (self.import_id, self.unnumbered.clone());
        self.run(move |c| {
            let now = crate::now();
            for (mut contact, link) in contacts {
                contact.customer_id = match link {
                    CustomerLink::Id(id) => id,
                    CustomerLink::Unnumbered(k) => *unnumbered.get(k).ok_or_else(|| {
                        StoreError::db(format!("no customer #{k} of this import"))
                    })?,
                    CustomerLink::Account(a) => c
                        .query_one(
                            "SELECT id FROM customers WHERE \"customerAccount\" = $1",
                            &[&a],
                        )?
                        .get(0),
                };
                contact.created_at.clone_from(&now);
                contact.updated_at.clone_from(&now);
                crate::postgres_api::insert_contact(c, &contact, Some(import_id))?;
            }
            Ok(())
        })
    }

    fn finish(
        mut self: Box<Self>,
        settings: &Settings,
        counts: &Counts,
        sha256: &str,
        commit: bool,
    ) -> Result<Option<i64>> {
        if !commit {
            self.run(|c| Ok(c.batch_execute("ROLLBACK")?))?;
            return Ok(None);
        }
        self.flush()?;
        let (import_id, unnumbered, settings, counts, sha256) = (
            self.import_id,
            std::mem::take(&mut self.unnumbered),
            settings.clone(),
            *counts,
            sha256.to_string(),
        );
        self.build_indexes()?;
        self.run(move |c| {
            if !unnumbered.is_empty() {
                // Numbering continues after the highest number in the database, including
                // accounts this file brought and those API writes committed meanwhile; the
                // lock is held to commit so no one else takes these numbers.
                c.execute("SELECT pg_advisory_xact_lock($1)", &[&ACCOUNT_LOCK])?;
                let next = max_account_number(c, &settings)? + 1;
                let accounts: Vec<String> = (0..unnumbered.len() as u64).map(|i| settings.account(next + i)).collect();
                c.execute(
                    "UPDATE customers c SET \"customerAccount\" = t.account \
                     FROM unnest($1::bigint[], $2::text[]) AS t(id, account) WHERE c.id = t.id",
                    &[&unnumbered, &accounts],
                )?;
            }
            let n = |v: u64| v as i64;
            c.execute(
                "UPDATE imports SET created = $2, updated = $3, unchanged = $4, rejected = $5, contacts = $6, at = $7, sha256 = $8 WHERE id = $1",
                &[&import_id, &n(counts.create), &n(counts.update), &n(counts.unchanged), &n(counts.invalid), &n(counts.contacts), &crate::now(), &sha256],
            )?;
            record_change(c, "all", import_id)?;
            c.batch_execute("COMMIT")?;
            Ok(())
        })?;
        Ok(Some(self.import_id))
    }
}

impl Drop for PgImport {
    fn drop(&mut self) {
        // Closing the queue ends the thread, which rolls back unless COMMIT ran; waiting for
        // it puts the connection back in the pool before the caller goes on.
        self.jobs.take();
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}
