//! Operations: the readiness probe and pool figures of both backends, and the online backup
//! and restore of a SQLite file.

use crate::schema::SCHEMA_VERSION;
use crate::{Result, StoreError};
use rusqlite::{Connection, OpenFlags};
use std::path::Path;
use std::time::Duration;

/// Connections of a pool.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct PoolState {
    /// Open connections (idle or in use).
    pub connections: u32,
    /// Idle connections.
    pub idle: u32,
    /// Largest number of connections.
    pub max: u32,
}

impl PoolState {
    /// The figures of an r2d2 pool (both backends pool their connections with r2d2).
    pub(crate) fn of<M: r2d2::ManageConnection>(pool: &r2d2::Pool<M>) -> PoolState {
        let s = pool.state();
        PoolState {
            connections: s.connections,
            idle: s.idle_connections,
            max: pool.max_size(),
        }
    }
}

/// What a finished backup holds.
#[derive(Debug, Clone)]
pub struct BackupSummary {
    /// Pages copied.
    pub pages: i32,
    /// Schema version of the copy.
    pub schema: i64,
    /// Customers in the copy.
    pub customers: i64,
}

fn open_existing(path: &Path) -> Result<Connection> {
    if !path.is_file() {
        return Err(StoreError::db(format!("{}: no such file", path.display())));
    }
    let c = Connection::open_with_flags(
        path,
        OpenFlags::SQLITE_OPEN_READ_WRITE | OpenFlags::SQLITE_OPEN_NO_MUTEX,
    )
    .map_err(|e| StoreError::db(format!("cannot open {}: {e}", path.display())))?;
    c.busy_timeout(Duration::from_secs(30))?;
    Ok(c)
}

/// Check that `c` is a sound Clientèle database: `PRAGMA integrity_check` says ok and the
/// schema is one this program knows. Returns (schema version, customers).
pub fn verify_sqlite(c: &Connection, what: &str) -> Result<(i64, i64)> {
    let check: String = c.query_row("PRAGMA integrity_check", [], |r| r.get(0))?;
    if check != "ok" {
        return Err(StoreError::db(format!(
            "{what} fails PRAGMA integrity_check: {check}"
        )));
    }
    let version: i64 = c.query_row("PRAGMA user_version", [], |r| r.get(0))?;
    if version == 0 || version > SCHEMA_VERSION {
        return Err(StoreError::db(format!(
            "{what} is not a Clientèle database this version knows (schema {version}, expected 1 to {SCHEMA_VERSION})"
        )));
    }
    let customers: i64 = c
        .query_row("SELECT count(*) FROM customers", [], |r| r.get(0))
        .map_err(|e| StoreError::db(format!("{what}: {e}")))?;
    Ok((version, customers))
}

/// Copy every page in one step. Smaller steps release the read transaction between them,
/// and a write by a server in between restarts the backup, possibly for ever under a
/// steady write load.
fn step_all(b: &rusqlite::backup::Backup<'_, '_>) -> Result<()> {
    // Busy or locked: another connection held a lock for a moment; bounded retries.
    for _ in 0..600 {
        match b.step(-1)? {
            rusqlite::backup::StepResult::Done => return Ok(()),
            rusqlite::backup::StepResult::More => continue,
            _ => std::thread::sleep(Duration::from_millis(50)),
        }
    }
    Err(StoreError::db(
        "the database stayed locked for 30 s; try again",
    ))
}

/// Copy the SQLite database `src` to the new file `dest` while servers read and write it:
/// SQLite's online backup API copies every page in one step, inside one read transaction,
/// so the copy is the database as of one instant (in WAL mode writers go on meanwhile).
/// The copy is written next to `dest` and renamed into place once checked.
pub fn backup_sqlite(src: &Path, dest: &Path) -> Result<BackupSummary> {
    let source = open_existing(src)?;
    let partial = dest.with_extension("partial");
    let _ = std::fs::remove_file(&partial);
    let result = copy_to(&source, &partial, dest);
    if result.is_err() {
        let _ = std::fs::remove_file(&partial);
    }
    result
}

/// The body of [`backup_sqlite`]: copy into `partial`, check, rename to `dest`.
fn copy_to(source: &Connection, partial: &Path, dest: &Path) -> Result<BackupSummary> {
    let mut copy = Connection::open(partial)
        .map_err(|e| StoreError::db(format!("cannot create {}: {e}", partial.display())))?;
    let pages = {
        let b = rusqlite::backup::Backup::new(source, &mut copy)?;
        step_all(&b)?;
        b.progress().pagecount
    };
    // The copy is a standalone file: a rollback journal, nothing left in a WAL.
    copy.query_row("PRAGMA journal_mode = DELETE", [], |_| Ok(()))?;
    let (schema, customers) = verify_sqlite(&copy, "the copy")?;
    drop(copy);
    std::fs::rename(partial, dest).map_err(|e| {
        StoreError::db(format!(
            "cannot rename {} to {}: {e}",
            partial.display(),
            dest.display()
        ))
    })?;
    Ok(BackupSummary {
        pages,
        schema,
        customers,
    })
}

/// Replace the SQLite database `target` by the backup `src`. Refused while another
/// connection (a running server, an import) has `target` open: SQLite only lets a
/// connection leave WAL mode when it is alone on the file, which is checked and kept
/// (as a write lock) for the whole copy.
pub fn restore_sqlite(src: &Path, target: &Path) -> Result<BackupSummary> {
    let source = open_existing(src)?;
    let (schema, customers) = verify_sqlite(&source, &src.display().to_string())?;
    let mut dest = Connection::open(target)
        .map_err(|e| StoreError::db(format!("cannot open {}: {e}", target.display())))?;
    dest.busy_timeout(Duration::from_millis(200))?;
    let mode: String = dest
        .query_row("PRAGMA journal_mode = DELETE", [], |r| r.get(0))
        .unwrap_or_default();
    if !mode.eq_ignore_ascii_case("delete") {
        return Err(StoreError::Refused(format!(
            "{} is in use (a clientele serve or another command has it open): stop the server first (systemctl stop clientele), restore, then start it again",
            target.display()
        )));
    }
    let pages = {
        let b = rusqlite::backup::Backup::new(&source, &mut dest)?;
        step_all(&b)?;
        b.progress().pagecount
    };
    dest.query_row("PRAGMA journal_mode = WAL", [], |_| Ok(()))?;
    verify_sqlite(&dest, &target.display().to_string())?;
    Ok(BackupSummary {
        pages,
        schema,
        customers,
    })
}
