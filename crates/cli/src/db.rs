//! Opening the database, written once for every command: a database that cannot be opened
//! is a failure (exit 3) that names it, its password masked.

use crate::error::{CliError, CliResult};
use clientele_store::{ApiStore, Store};
use std::sync::Arc;

/// The store of the import, export and history commands.
pub fn open(db: &str) -> CliResult<Box<dyn Store>> {
    opened(db, clientele_store::open(db))
}

/// The store as `check` and `import` want it (SQLite tuned for a long write).
pub fn open_for_import(db: &str) -> CliResult<Box<dyn Store>> {
    opened(db, clientele_store::open_for_import(db))
}

/// The store of the API's commands (serve, users, tokens, lookup).
pub fn open_api(db: &str) -> CliResult<Arc<dyn ApiStore>> {
    opened(db, clientele_store::open_api(db))
}

fn opened<T>(db: &str, store: clientele_store::Result<T>) -> CliResult<T> {
    store.map_err(|e| {
        CliError::failure(format!(
            "cannot open the database {}: {e}",
            clientele_store::redact(db)
        ))
        .because(e)
    })
}
