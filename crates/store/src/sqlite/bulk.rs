//! A prepared statement that binds text without copying it, for the import's bulk INSERT.
//!
//! rusqlite always binds text as `SQLITE_TRANSIENT`, so SQLite copies every string (one
//! allocation and one `memcpy` per cell) and its statement cache looks the SQL up by its
//! text (a multi-row INSERT is several kilobytes long) on every use: together more than a
//! third of the writing thread's instructions on a bulk import. Here the statement is
//! prepared once and text is bound as `SQLITE_STATIC`. That is sound because binding,
//! stepping, resetting and clearing the bindings all happen inside [`BulkStatement::execute`],
//! while the bound values are borrowed: SQLite never holds a pointer past that call.

use rusqlite::{ffi, Connection};
use std::ffi::{c_char, c_int, CStr};

/// One value to bind.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Bind<'a> {
    Null,
    Int(i64),
    Text(&'a str),
}

/// A prepared statement of one connection. The owner must drop it (finalize it) before
/// the connection is closed or handed to another thread.
pub(crate) struct BulkStatement {
    db: *mut ffi::sqlite3,
    stmt: *mut ffi::sqlite3_stmt,
    params: usize,
}

impl BulkStatement {
    /// Prepare `sql` on `conn`.
    pub(crate) fn prepare(conn: &Connection, sql: &str) -> rusqlite::Result<BulkStatement> {
        // SAFETY: the handle is only used on this thread while `conn` (owned by the same
        // import, and dropped after this statement) is open.
        let db = unsafe { conn.handle() };
        let len = c_int::try_from(sql.len())
            .map_err(|_| rusqlite::Error::InvalidParameterName(sql.chars().take(64).collect()))?;
        let mut stmt = std::ptr::null_mut();
        // SAFETY: `sql` is valid for `len` bytes (no terminating NUL needed with an explicit
        // length); `stmt` receives a statement we own and finalize in `drop`.
        let rc = unsafe {
            ffi::sqlite3_prepare_v3(
                db,
                sql.as_ptr().cast::<c_char>(),
                len,
                ffi::SQLITE_PREPARE_PERSISTENT,
                &mut stmt,
                std::ptr::null_mut(),
            )
        };
        if rc != ffi::SQLITE_OK || stmt.is_null() {
            let err = error(
                db,
                if rc == ffi::SQLITE_OK {
                    ffi::SQLITE_MISUSE
                } else {
                    rc
                },
            );
            if !stmt.is_null() {
                // SAFETY: a statement returned by prepare, finalized once.
                unsafe { ffi::sqlite3_finalize(stmt) };
            }
            return Err(err);
        }
        // SAFETY: `stmt` is a valid prepared statement.
        let params =
            usize::try_from(unsafe { ffi::sqlite3_bind_parameter_count(stmt) }).unwrap_or_default();
        Ok(BulkStatement { db, stmt, params })
    }

    /// Bind `values` to parameters 1, 2, … (exactly as many as the statement has), run the
    /// statement once and reset it. Nothing bound outlives the call.
    pub(crate) fn execute<'a>(
        &mut self,
        values: impl IntoIterator<Item = Bind<'a>>,
    ) -> rusqlite::Result<()> {
        let mut n = 0usize;
        let mut rc = ffi::SQLITE_OK;
        for v in values {
            n += 1;
            if n > self.params {
                break;
            }
            // `n` ≤ the statement's parameter count, itself a c_int.
            let i = n as c_int;
            // SAFETY: `stmt` is valid; text is bound STATIC and stays borrowed until the
            // bindings are cleared below, before this function returns.
            rc = unsafe {
                match v {
                    Bind::Null => ffi::sqlite3_bind_null(self.stmt, i),
                    Bind::Int(x) => ffi::sqlite3_bind_int64(self.stmt, i, x),
                    Bind::Text(s) => ffi::sqlite3_bind_text64(
                        self.stmt,
                        i,
                        if s.is_empty() {
                            c"".as_ptr()
                        } else {
                            s.as_ptr().cast::<c_char>()
                        },
                        s.len() as ffi::sqlite3_uint64,
                        ffi::SQLITE_STATIC(),
                        ffi::SQLITE_UTF8 as u8,
                    ),
                }
            };
            if rc != ffi::SQLITE_OK {
                break;
            }
        }
        let result = if rc != ffi::SQLITE_OK {
            Err(error(self.db, rc))
        } else if n != self.params {
            Err(rusqlite::Error::InvalidParameterCount(n, self.params))
        } else {
            // SAFETY: every parameter is bound to live data.
            match unsafe { ffi::sqlite3_step(self.stmt) } {
                ffi::SQLITE_DONE => Ok(()),
                ffi::SQLITE_ROW => Err(rusqlite::Error::ExecuteReturnedResults),
                code => Err(error(self.db, code)),
            }
        };
        // SAFETY: `stmt` is valid. After these two calls SQLite holds no pointer to the
        // borrowed text (cleared parameters are NULL).
        unsafe {
            ffi::sqlite3_reset(self.stmt);
            ffi::sqlite3_clear_bindings(self.stmt);
        }
        result
    }
}

impl Drop for BulkStatement {
    fn drop(&mut self) {
        // SAFETY: the statement is valid and finalized exactly once.
        unsafe { ffi::sqlite3_finalize(self.stmt) };
    }
}

/// The connection's error message for `code`.
fn error(db: *mut ffi::sqlite3, code: c_int) -> rusqlite::Error {
    // SAFETY: `db` is an open connection; the message is copied before any other call.
    let msg = unsafe {
        let p = ffi::sqlite3_errmsg(db);
        (!p.is_null()).then(|| CStr::from_ptr(p).to_string_lossy().into_owned())
    };
    rusqlite::Error::SqliteFailure(ffi::Error::new(code), msg)
}
