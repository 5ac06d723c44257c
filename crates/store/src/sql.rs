//! The one place that knows both SQL dialects: statement text, parameters and rows.
//!
//! The rules of the store (customers, contacts, imports' undo, tokens, sessions, the change
//! feed) are written once, over [`Db`]: one connection or transaction of either backend.
//! Statements are written in SQLite's syntax with numbered parameters (`?1`, `?2`…) and the
//! few dialect tokens below; [`statement`] turns them into PostgreSQL's (`$1`, `COLLATE
//! "C"`, `FOR UPDATE`). What truly differs between the backends (pools, locking and retry
//! policy, bulk loading, migrations) stays in `sqlite/` and `postgres/`.

use crate::schema::Dialect;
use crate::{Result, StoreError};
use std::borrow::Cow;

/// Written after a text column compared by bytes: nothing on SQLite (its default), `COLLATE
/// "C"` on PostgreSQL (the database's linguistic collation would order timestamps and
/// identifiers by locale).
pub(crate) const BYTES: &str = " /*bytes*/";
/// Written at the end of a `SELECT` that locks the rows it reads until commit: `FOR UPDATE`
/// on PostgreSQL; SQLite's write transaction already holds the whole file.
pub(crate) const FOR_UPDATE: &str = " /*for update*/";
/// [`FOR_UPDATE`] of the tokens table `t` only (the users table is outer-joined).
pub(crate) const FOR_UPDATE_OF_T: &str = " /*for update of t*/";

/// A statement's text for `dialect` (see the module's documentation).
pub(crate) fn statement(dialect: Dialect, sql: &str) -> Cow<'_, str> {
    match dialect {
        Dialect::Sqlite => {
            if sql.contains("/*") {
                Cow::Owned(
                    sql.replace(BYTES, "")
                        .replace(FOR_UPDATE, "")
                        .replace(FOR_UPDATE_OF_T, ""),
                )
            } else {
                Cow::Borrowed(sql)
            }
        }
        Dialect::Postgres => {
            let sql = sql
                .replace(BYTES, " COLLATE \"C\"")
                .replace(FOR_UPDATE, " FOR UPDATE")
                .replace(FOR_UPDATE_OF_T, " FOR UPDATE OF t");
            // `?N` → `$N`. Statements never hold a literal `?` (values are parameters).
            Cow::Owned(sql.replace('?', "$"))
        }
    }
}

/// `?first, ?first+1, …` for `n` parameters.
pub(crate) fn marks(first: usize, n: usize) -> String {
    (first..first + n)
        .map(|i| format!("?{i}"))
        .collect::<Vec<_>>()
        .join(", ")
}

/// A statement parameter, borrowed from the caller where it can be.
#[derive(Debug, Clone)]
pub(crate) enum Arg<'a> {
    /// SQL NULL (of whatever type the statement needs).
    Null,
    /// A whole number (also booleans as 0/1).
    Int(i64),
    /// Text.
    Text(Cow<'a, str>),
    /// Bytes.
    Blob(&'a [u8]),
}

impl<'a> Arg<'a> {
    /// Text, or NULL.
    pub(crate) fn opt_text(t: Option<&'a str>) -> Arg<'a> {
        t.map_or(Arg::Null, |t| Arg::Text(Cow::Borrowed(t)))
    }
    /// A number, or NULL.
    pub(crate) fn opt_int(n: Option<i64>) -> Arg<'a> {
        n.map_or(Arg::Null, Arg::Int)
    }
}

impl<'a> From<&'a str> for Arg<'a> {
    fn from(t: &'a str) -> Self {
        Arg::Text(Cow::Borrowed(t))
    }
}

impl<'a> From<&'a String> for Arg<'a> {
    fn from(t: &'a String) -> Self {
        Arg::Text(Cow::Borrowed(t))
    }
}

impl From<String> for Arg<'_> {
    fn from(t: String) -> Self {
        Arg::Text(Cow::Owned(t))
    }
}

impl From<i64> for Arg<'_> {
    fn from(n: i64) -> Self {
        Arg::Int(n)
    }
}

impl<'a> From<Option<&'a str>> for Arg<'a> {
    fn from(t: Option<&'a str>) -> Self {
        Arg::opt_text(t)
    }
}

impl From<Option<i64>> for Arg<'_> {
    fn from(n: Option<i64>) -> Self {
        Arg::opt_int(n)
    }
}

/// One row of a result, read by column position.
pub(crate) trait SqlRow {
    /// A whole number (NULL is `None`).
    fn int(&self, i: usize) -> Result<Option<i64>>;
    /// Text (NULL is `None`).
    fn text(&self, i: usize) -> Result<Option<String>>;
    /// Bytes (NULL is `None`).
    fn blob(&self, i: usize) -> Result<Option<Vec<u8>>>;
    /// Text as a field value: read in place, without a heap copy for the short texts most
    /// fields hold (every cell of every customer an export or a re-import reads).
    fn value_text(&self, i: usize) -> Result<Option<compact_str::CompactString>>;

    /// A whole number that cannot be NULL.
    fn int0(&self, i: usize) -> Result<i64> {
        self.int(i)?
            .ok_or_else(|| StoreError::db(format!("column {i} is NULL")))
    }
    /// Text that cannot be NULL.
    fn text0(&self, i: usize) -> Result<String> {
        self.text(i)?
            .ok_or_else(|| StoreError::db(format!("column {i} is NULL")))
    }
    /// A count (never negative).
    fn count(&self, i: usize) -> Result<u64> {
        Ok(u64::try_from(self.int0(i)?).unwrap_or(0))
    }
}

/// Locks some rules take on PostgreSQL, where API writes go on during an import.
/// SQLite's write transaction (`BEGIN IMMEDIATE`) already serialises every writer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Lock {
    /// A whole import or undo: they never interleave.
    Import,
    /// From "highest account number" to commit (API creates, an import's finish).
    Account,
    /// From appending to `changes` to commit, so that revisions become visible in order.
    Changes,
    /// Not a lock: from here on, wait at most 200 ms for a row another transaction holds
    /// (PostgreSQL's `lock_timeout`), so as to fail and retry rather than deadlock.
    BriefWaits,
    /// Not a lock: wait for rows as long as needed again (after [`Lock::BriefWaits`]).
    NormalWaits,
}

/// One connection, or one transaction, of either backend.
pub(crate) trait Db {
    /// Which SQL the connection speaks.
    fn dialect(&self) -> Dialect;
    /// Run a statement; the number of rows it changed.
    fn execute(&mut self, sql: &str, args: &[Arg]) -> Result<u64>;
    /// Run an `INSERT` into a table with an `id` key; the new row's id.
    fn insert(&mut self, sql: &str, args: &[Arg]) -> Result<i64>;
    /// Run a query, visiting its rows one at a time (never all in memory).
    fn query_each(
        &mut self,
        sql: &str,
        args: &[Arg],
        each: &mut dyn FnMut(&dyn SqlRow) -> Result<()>,
    ) -> Result<()>;
    /// Take `lock` until the end of the transaction (nothing to do on SQLite).
    fn lock(&mut self, lock: Lock) -> Result<()>;
}

impl dyn Db + '_ {
    /// The rows of a query, mapped.
    pub(crate) fn query_vec<T>(
        &mut self,
        sql: &str,
        args: &[Arg],
        map: impl Fn(&dyn SqlRow) -> Result<T>,
    ) -> Result<Vec<T>> {
        let mut out = Vec::new();
        self.query_each(sql, args, &mut |r| {
            out.push(map(r)?);
            Ok(())
        })?;
        Ok(out)
    }

    /// The first row of a query, mapped, if any.
    pub(crate) fn query_opt<T>(
        &mut self,
        sql: &str,
        args: &[Arg],
        map: impl Fn(&dyn SqlRow) -> Result<T>,
    ) -> Result<Option<T>> {
        let mut out = None;
        self.query_each(sql, args, &mut |r| {
            if out.is_none() {
                out = Some(map(r)?);
            }
            Ok(())
        })?;
        Ok(out)
    }

    /// The first row of a query, mapped; [`StoreError::NotFound`] when there is none.
    pub(crate) fn query_one<T>(
        &mut self,
        sql: &str,
        args: &[Arg],
        map: impl Fn(&dyn SqlRow) -> Result<T>,
    ) -> Result<T> {
        self.query_opt(sql, args, map)?.ok_or(StoreError::NotFound)
    }
}
