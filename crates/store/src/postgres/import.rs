//! Imports into PostgreSQL: rows in binary `COPY`, streamed by a connection thread while
//! the engine validates the next rows; indexes and keys dropped and built once for a first
//! import.

use super::{Conn, PgDb, ACCOUNT_LOCK, IMPORT_LOCK};
use crate::import::{Counts, CustomerLink, ImportTx};
use crate::rows;
use crate::rules::{imports, max_account_number, search};
use crate::schema::{self, customer_columns, is_int, Dialect};
use crate::sql::Db;
use crate::{Result, Settings, StoreError};
use ::postgres::{Client, Statement};
use clientele_core::catalogue::{Field, FIELDS};
use clientele_core::contact::Contact;
use clientele_core::ident::phone;
use clientele_core::model::{Customer, Value};
use std::collections::HashMap;
use std::io::Write;

/// Rows buffered by an import before they are sent with one `COPY`.
const BATCH_ROWS: usize = 20_000;

/// Integer value of a field for an integer column (booleans as 0/1).
fn int_of(v: Option<&Value>) -> Option<i64> {
    match v {
        Some(Value::Int(i)) => Some(*i),
        Some(Value::Bool(b)) => Some(i64::from(*b)),
        _ => None,
    }
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
type Task = Box<dyn FnOnce(std::result::Result<&mut ImportConn, StoreError>) + Send>;

/// The import's connection, with the statements its look-ups prepared (they run once per
/// row of a re-import).
struct ImportConn {
    client: Conn,
    cache: HashMap<String, Statement>,
}

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
fn connection_thread(conn: Conn, jobs: std::sync::mpsc::Receiver<Job>) {
    let mut conn = ImportConn {
        client: conn,
        cache: HashMap::new(),
    };
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
                    let mut w = conn.client.copy_in(&table.copy_sql())?;
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
    let _ = conn.client.batch_execute("ROLLBACK");
}

/// An import transaction: statements go through [`connection_thread`], which owns the
/// connection (`BEGIN` issued by hand: the driver's `Transaction` borrows the client).
pub(super) struct PgImport {
    jobs: Option<std::sync::mpsc::SyncSender<Job>>,
    thread: Option<std::thread::JoinHandle<()>>,
    /// Another connection, for the id sequence (nextval is not transactional).
    ids_conn: Conn,
    import_id: i64,
    select: String,
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

impl PgImport {
    pub(super) fn begin(mut conn: Conn, ids_conn: Conn, file: &str) -> Result<PgImport> {
        conn.batch_execute("BEGIN")?;
        // Imports (and undos) never interleave; API writes go on meanwhile.
        let started = conn
            .execute("SELECT pg_advisory_xact_lock($1)", &[&IMPORT_LOCK])
            .and_then(|_| {
                conn.query_one(
                    // The SHA-256 is written at finish (it may still be being computed).
                    "INSERT INTO imports (file, sha256, at, actor, upload_id) VALUES ($1, '', $2, $3, $4) RETURNING id",
                    &[&file, &crate::now(), &crate::audit::actor(), &crate::audit::upload()],
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
            select: rows::customer_select(),
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

    /// Run `f` on the import's connection, as a [`Db`] whose statements are prepared once,
    /// and wait for its answer.
    fn run_db<R: Send + 'static>(
        &self,
        f: impl FnOnce(&mut dyn Db) -> Result<R> + Send + 'static,
    ) -> Result<R> {
        let (tx, rx) = std::sync::mpsc::sync_channel(1);
        self.send(Job::Run(Box::new(move |c| {
            let _ = tx.send(c.and_then(|c| f(&mut PgDb::cached(&mut *c.client, &mut c.cache))));
        })))?;
        rx.recv()
            .map_err(|_| StoreError::db("the import connection thread stopped"))?
    }

    /// Run `f` on the import's connection and wait for its answer.
    fn run<R: Send + 'static>(
        &self,
        f: impl FnOnce(&mut Client) -> Result<R> + Send + 'static,
    ) -> Result<R> {
        let (tx, rx) = std::sync::mpsc::sync_channel(1);
        self.send(Job::Run(Box::new(move |c| {
            let _ = tx.send(c.and_then(|c| f(&mut c.client)));
        })))?;
        rx.recv()
            .map_err(|_| StoreError::db("the import connection thread stopped"))?
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
        // The search indexes are built after the import, in a transaction of their own
        // (see `rules::search`).
        let (later, now): (Vec<String>, Vec<String>) = statements.into_iter().partition(|st| {
            schema::BULK_SEARCH_INDEXES
                .iter()
                .any(|name| st.contains(&format!("INDEX {name} ON")))
        });
        self.run(move |c| {
            // The default sort memory (64 MB) spills a million keys to disk.
            c.batch_execute("SET LOCAL maintenance_work_mem = '256MB'")?;
            for st in &now {
                c.batch_execute(st)?;
            }
            search::defer(&mut PgDb::new(c), later)
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
    // The search indexes too, as the database defines them (the trigram one is missing
    // where `pg_trgm` could not be created).
    let names: Vec<String> = schema::BULK_SEARCH_INDEXES
        .iter()
        .map(|n| n.to_string())
        .collect();
    for r in c.query(
        "SELECT indexname, indexdef FROM pg_indexes WHERE tablename = 'customers' AND indexname = ANY($1)",
        &[&names],
    )? {
        let (name, def): (String, String) = (r.try_get(0)?, r.try_get(1)?);
        c.batch_execute(&format!("DROP INDEX {}", quote(&name)))?;
        rebuild.push(def);
    }
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
        let (select, id, account) = (self.select.clone(), self.import_id, account.to_string());
        self.run_db(move |db| imports::find_by_account(db, &select, id, &account))
    }

    fn find_by_siret(&mut self, siret: &str) -> Result<Vec<Customer>> {
        let (select, id, siret) = (self.select.clone(), self.import_id, siret.to_string());
        self.run_db(move |db| imports::find_by_siret(db, &select, id, &siret))
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
        if c.text(Field::customerAccount).is_none() {
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
        let (id, before, after) = (self.import_id, before.clone(), after.clone());
        self.run_db(move |db| imports::update(db, id, &before, &after))
    }

    fn insert_contacts(&mut self, contacts: Vec<(Contact, CustomerLink)>) -> Result<()> {
        self.flush()?;
        // Without the account index each contact would scan the whole table.
        self.build_indexes()?;
        let (import_id, unnumbered) = (self.import_id, self.unnumbered.clone());
        self.run_db(move |db| imports::insert_contacts(db, import_id, &unnumbered, contacts))
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
                let next = max_account_number(&mut PgDb::new(c), &settings)? + 1;
                let accounts: Vec<String> = (0..unnumbered.len() as u64)
                    .map(|i| settings.account(next + i))
                    .collect();
                c.execute(
                    "UPDATE customers c SET \"customerAccount\" = t.account \
                     FROM unnest($1::bigint[], $2::text[]) AS t(id, account) WHERE c.id = t.id",
                    &[&unnumbered, &accounts],
                )?;
            }
            imports::record_counts(&mut PgDb::new(c), import_id, &counts, &sha256)?;
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
