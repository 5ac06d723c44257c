//! `clientele imports` and `clientele undo`: the imports made so far, and taking one back.

use crate::args::{Cli, Output};
use crate::db;
use crate::error::{CliError, CliResult};
use clientele_store::StoreError;

/// `clientele imports`: every import, newest last, with its counts.
pub fn imports(cli: &Cli, format: Output) -> CliResult {
    let store = db::open(&cli.db)?;
    let list = store.imports()?;
    match format {
        Output::Json => println!(
            "{}",
            serde_json::to_string_pretty(&list).unwrap_or_default()
        ),
        Output::Human => {
            if list.is_empty() {
                println!("No imports yet.");
            }
            for i in &list {
                println!(
                    "#{:<4} {}  {}  created {} updated {} unchanged {} rejected {}{}",
                    i.id,
                    i.at,
                    i.file,
                    i.created,
                    i.updated,
                    i.unchanged,
                    i.rejected,
                    i.undone_at
                        .as_ref()
                        .map(|u| format!("  (undone {u})"))
                        .unwrap_or_default()
                );
            }
        }
    }
    Ok(())
}

/// `clientele undo ID`: restore every customer the import created or changed.
pub fn undo(cli: &Cli, id: i64, force: bool, format: Output) -> CliResult {
    let store = db::open(&cli.db)?;
    let rec = store.undo_import(id, force).map_err(|e| match e {
        // The store's own "not found" does not say what was looked for.
        StoreError::NotFound => CliError::unusable(format!("no import #{id}")).because(e),
        e => e.into(),
    })?;
    match format {
        Output::Json => println!("{}", serde_json::to_string_pretty(&rec).unwrap_or_default()),
        Output::Human => println!(
            "Import #{id} ({}) undone: {} customers removed, {} restored.",
            rec.file, rec.created, rec.updated
        ),
    }
    Ok(())
}
