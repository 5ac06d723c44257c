//! `clientele backup` and `clientele restore`: copies of the SQLite database.

use crate::args::Cli;
use crate::error::{CliError, CliResult};
use crate::exit;
use clientele_store::StoreError;
use std::path::Path;

/// `clientele backup FILE`: a consistent copy of the SQLite database, safe while served.
pub fn backup(cli: &Cli, file: &Path, force: bool) -> CliResult {
    sqlite_only(cli, "backup")?;
    if file.exists() && !force {
        return Err(CliError::unusable(format!(
            "{} exists; choose another name or pass --force to replace it",
            file.display()
        )));
    }
    let s = clientele_store::ops::backup_sqlite(Path::new(&cli.db), file)
        .map_err(|e| CliError::failure(format!("backup failed: {e}")).because(e))?;
    eprintln!(
        "Backup of {} written to {}: {} pages, schema {}, {} customers, integrity check ok.",
        cli.db,
        file.display(),
        s.pages,
        s.schema,
        s.customers
    );
    Ok(())
}

/// `clientele restore FILE`: replace the SQLite database by a backup (servers stopped).
pub fn restore(cli: &Cli, file: &Path) -> CliResult {
    sqlite_only(cli, "restore")?;
    let s = clientele_store::ops::restore_sqlite(file, Path::new(&cli.db)).map_err(|e| {
        // Refused: the backup is not one, or a server has the database open (fix and retry).
        let code = match e {
            StoreError::Refused(_) => exit::UNUSABLE,
            _ => exit::FAILURE,
        };
        CliError::new(code, format!("restore refused: {e}")).because(e)
    })?;
    eprintln!(
        "{} restored from {}: schema {}, {} customers. Start the server again; it migrates the schema if the backup is older.",
        cli.db,
        file.display(),
        s.schema,
        s.customers
    );
    Ok(())
}

/// Both commands copy files: a PostgreSQL database is refused with the tools that do it.
fn sqlite_only(cli: &Cli, what: &str) -> CliResult {
    if clientele_store::is_postgres(&cli.db) {
        return Err(CliError::unusable(format!(
            "{what} copies SQLite files; for PostgreSQL use its own tools (docs/operations.md):\n  \
             pg_dump --format=custom --file=clientele.dump '{}'\n  \
             pg_restore --clean --if-exists --no-owner --dbname='{}' clientele.dump",
            clientele_store::redact(&cli.db),
            clientele_store::redact(&cli.db)
        )));
    }
    Ok(())
}
