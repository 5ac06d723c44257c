//! `clientele`: the customer registry's command line.
//!
//! Exit codes ([`exit`]): 0 success; 1 the input has errors; 2 unusable input or usage
//! error; 3 database or I/O failure. A message on standard error always says what happened.
//!
//! The modules form a one-way graph: `main` → `cmd::*` → (`args`, `db`, `error`, `report`,
//! …) → `exit`; nothing imports `main` or a command.

mod args;
mod cmd;
mod config_file;
mod db;
mod duration;
mod error;
mod exit;
mod files;
mod logging;
mod report;
mod serve_options;

// The import moves millions of small strings from the parsing thread to the writing one;
// glibc's allocator spends a fifth of the import in cross-thread frees, mimalloc does not.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

use args::{Cli, Command, ConfigAction};
use clientele_core::Lang;
use clientele_import::RunOptions;
use error::CliResult;
use std::collections::BTreeSet;
use std::process::ExitCode;

fn main() -> ExitCode {
    let (cli, from_file) = match config_file::parse() {
        Ok(c) => c,
        Err(e) => {
            // `--help` and `--version` are clap "errors" printed on standard output.
            let code = if e.use_stderr() {
                exit::UNUSABLE
            } else {
                exit::OK
            };
            let _ = e.print();
            return ExitCode::from(code);
        }
    };
    logging::init_logging(&cli);
    let lang = cli
        .lang
        .as_deref()
        .map(Lang::parse)
        .unwrap_or_else(Lang::from_env);
    match run(&cli, &from_file, lang) {
        Ok(()) => ExitCode::from(exit::OK),
        Err(e) => {
            e.print();
            ExitCode::from(e.code())
        }
    }
}

/// Run the command. The operations commands write nothing in anyone's name; the others'
/// writes (imports, undos, tokens) are recorded as made by `cli:<OS user>`.
fn run(cli: &Cli, from_file: &BTreeSet<String>, lang: Lang) -> CliResult {
    match &cli.command {
        Command::Config {
            action: ConfigAction::Check { args },
        } => cmd::config_check::run(cli, args, from_file, lang),
        Command::Backup { file, force } => cmd::backup::backup(cli, file, *force),
        Command::Restore { file } => cmd::backup::restore(cli, file),
        _ => clientele_store::audit::as_actor(&actor(), || run_recorded(cli, lang)),
    }
}

/// Who the writes are made by: `cli:` and the OS user (`$USER`, else `$LOGNAME`; plain
/// `cli` when neither is set).
fn actor() -> String {
    let user = std::env::var("USER")
        .or_else(|_| std::env::var("LOGNAME"))
        .ok()
        .filter(|u| !u.trim().is_empty());
    user.map_or_else(|| "cli".to_string(), |u| format!("cli:{}", u.trim()))
}

fn run_recorded(cli: &Cli, lang: Lang) -> CliResult {
    match &cli.command {
        Command::Check {
            file,
            mapping,
            changes,
            format,
        } => {
            let opts = RunOptions {
                dry_run: true,
                lang,
                mapping: cmd::import::column_map(mapping)?,
                ..RunOptions::default()
            };
            cmd::import::run(cli, lang, file, *format, opts, changes.as_deref())
        }
        Command::Import {
            file,
            skip_invalid,
            rejected,
            mapping,
            allow_identity_change,
            changes,
            format,
        } => {
            let opts = RunOptions {
                dry_run: false,
                skip_invalid: *skip_invalid,
                rejected: rejected.clone(),
                lang,
                mapping: cmd::import::column_map(mapping)?,
                allow_identity_change: *allow_identity_change,
                changes: None,
            };
            cmd::import::run(cli, lang, file, *format, opts, changes.as_deref())
        }
        Command::Imports { format } => cmd::history::imports(cli, *format),
        Command::Undo {
            import_id,
            force,
            format,
        } => cmd::history::undo(cli, *import_id, *force, *format),
        Command::Export { format, output } => cmd::export::run(cli, *format, output.as_deref()),
        Command::Template { output } => cmd::template::template(output),
        Command::Codes => cmd::template::codes(),
        Command::Settings {
            account_prefix,
            account_width,
        } => cmd::settings::run(cli, account_prefix.clone(), *account_width),
        Command::Serve { args } => cmd::serve::run(cli, lang, args),
        Command::User { action } => cmd::user::run(cli, action),
        Command::Token { action } => cmd::token::run(cli, action),
        Command::Lookup { number, format } => cmd::lookup::run(cli, number, *format),
        // Run by `run` above, outside the recorded actor.
        Command::Config { .. } | Command::Backup { .. } | Command::Restore { .. } => Ok(()),
    }
}
