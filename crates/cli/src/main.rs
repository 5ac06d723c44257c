//! `clientele`: the customer registry's command line.
//!
//! Exit codes: 0 success; 1 the input has errors; 2 unusable input or usage error;
//! 3 database or I/O failure. A message on standard error always says what happened.

mod cmd;
mod ops;
mod report;

// The import moves millions of small strings from the parsing thread to the writing one;
// glibc's allocator spends a fifth of the import in cross-thread frees, mimalloc does not.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;
mod serve;
mod tokens;

use clap::{Parser, Subcommand, ValueEnum};
use clientele_core::Lang;
use std::path::PathBuf;
use std::process::ExitCode;

/// Customer registry for French telecom operators: pack import, REST API, call routing.
#[derive(Parser)]
#[command(name = "clientele", version, about)]
pub struct Cli {
    /// Database: a SQLite file path (created on first use) or a postgres:// URL.
    #[arg(
        long,
        global = true,
        env = "CLIENTELE_DB",
        default_value = "clientele.db"
    )]
    pub db: String,
    /// Language of messages (default: French when LANG starts with fr, else English).
    #[arg(long, global = true, value_parser = ["fr", "en"])]
    pub lang: Option<String>,
    #[command(subcommand)]
    pub command: Command,
}

/// Output format of commands that print a result.
#[derive(Clone, Copy, Debug, ValueEnum, PartialEq, Eq)]
pub enum Output {
    /// Readable text.
    Human,
    /// JSON.
    Json,
}

/// Export format.
#[derive(Clone, Copy, Debug, ValueEnum, PartialEq, Eq)]
pub enum ExportFormat {
    /// CSV (UTF-8 with BOM, `;`), as French Excel opens it.
    Csv,
    /// Excel workbook.
    Xlsx,
    /// One API customer object per line.
    Jsonl,
}

/// Which file columns hold which fields when their headings do not say.
#[derive(clap::Args, Debug, Clone, Default)]
pub struct MapArgs {
    /// Map a file column to a field: 'HEADING=FIELD' (FIELD a pack key such as postalCode,
    /// an API key or a heading; '-' ignores the column on purpose). Repeatable.
    #[arg(long = "map", value_name = "HEADING=FIELD")]
    pub map: Vec<String>,
    /// Read the mapping from a file: lines 'HEADING=FIELD' (# comments), or a JSON object
    /// {"HEADING": "FIELD"}; --map entries apply after it.
    #[arg(long, value_name = "FILE")]
    pub mapping: Option<PathBuf>,
}

/// Subcommands.
#[derive(Subcommand)]
pub enum Command {
    /// Validate a pack against the database; write nothing.
    Check {
        /// The pack (.xlsx, .xls, .ods, .csv, .txt).
        file: PathBuf,
        #[command(flatten)]
        mapping: MapArgs,
        /// Output format.
        #[arg(long, value_enum, default_value = "human")]
        format: Output,
    },
    /// Import a pack (all-or-nothing unless --skip-invalid).
    Import {
        /// The pack (.xlsx, .xls, .ods, .csv, .txt).
        file: PathBuf,
        /// Import the valid rows and write the invalid ones to a rejected-rows file.
        #[arg(long)]
        skip_invalid: bool,
        /// Rejected-rows file (default: <file>.rejected.<ext> in the current folder).
        #[arg(long)]
        rejected: Option<PathBuf>,
        #[command(flatten)]
        mapping: MapArgs,
        /// Write updates that make a customer another company (its name and its SIRET or VAT
        /// number all change: `customerAccount.identity_changed`); without it such an import
        /// writes nothing.
        #[arg(long)]
        allow_identity_change: bool,
        /// Output format.
        #[arg(long, value_enum, default_value = "human")]
        format: Output,
    },
    /// List past imports.
    Imports {
        /// Output format.
        #[arg(long, value_enum, default_value = "human")]
        format: Output,
    },
    /// Undo an import: restore every customer it created or changed.
    Undo {
        /// Import id (see `clientele imports`).
        import_id: i64,
        /// Undo even when customers it touched changed afterwards (those changes are lost).
        #[arg(long)]
        force: bool,
        /// Output format.
        #[arg(long, value_enum, default_value = "human")]
        format: Output,
    },
    /// Export the customers in the pack format.
    Export {
        /// Format (default: from the output file's extension, else csv).
        #[arg(long, value_enum)]
        format: Option<ExportFormat>,
        /// Output file (`-` or none: standard output).
        #[arg(short, long)]
        output: Option<PathBuf>,
    },
    /// Write a blank pack.
    Template {
        /// Output .xlsx file.
        #[arg(short, long)]
        output: PathBuf,
    },
    /// Print the documentation of every issue code (Markdown).
    Codes,
    /// Show or change the database settings (generated account prefix and width).
    Settings {
        /// New prefix of generated accounts.
        #[arg(long)]
        account_prefix: Option<String>,
        /// New zero-padded width of generated account numbers.
        #[arg(long)]
        account_width: Option<usize>,
    },
    /// Serve the API and the web pages.
    Serve {
        #[command(flatten)]
        args: ops::ServeArgs,
    },
    /// Check the configuration of serve.
    Config {
        #[command(subcommand)]
        action: ConfigAction,
    },
    /// Copy the SQLite database to FILE, consistently, even while it is served and written.
    Backup {
        /// The copy (a new SQLite file).
        file: PathBuf,
        /// Replace FILE if it exists.
        #[arg(long)]
        force: bool,
    },
    /// Replace the SQLite database by a backup (refused while a server has it open).
    Restore {
        /// The backup made by `clientele backup`.
        file: PathBuf,
    },
    /// Manage the users of the API.
    User {
        #[command(subcommand)]
        action: serve::UserAction,
    },
    /// Manage API tokens.
    Token {
        #[command(subcommand)]
        action: tokens::TokenAction,
    },
    /// What the call-routing routes would answer for a number (or a customer account).
    Lookup {
        /// Phone number or customer account.
        number: String,
        /// Output format.
        #[arg(long, value_enum, default_value = "human")]
        format: Output,
    },
}

/// `clientele config …`
#[derive(Subcommand)]
pub enum ConfigAction {
    /// Print the effective serve configuration (secrets masked) and check it.
    Check {
        #[command(flatten)]
        args: ops::ServeArgs,
    },
}

fn main() -> ExitCode {
    let (cli, from_file) = match ops::parse() {
        Ok(c) => c,
        Err(e) => {
            let code = if e.use_stderr() { 2 } else { 0 };
            let _ = e.print();
            return ExitCode::from(code);
        }
    };
    ops::init_logging(&cli);
    let lang = cli
        .lang
        .as_deref()
        .map(Lang::parse)
        .unwrap_or_else(Lang::from_env);
    let code = match &cli.command {
        Command::Config {
            action: ConfigAction::Check { args },
        } => ops::config_check(&cli, args, &from_file, lang).unwrap_or_else(|c| c),
        Command::Backup { file, force } => ops::backup(&cli, file, *force).unwrap_or_else(|c| c),
        Command::Restore { file } => ops::restore(&cli, file).unwrap_or_else(|c| c),
        _ => cmd::run(&cli, lang),
    };
    ExitCode::from(code)
}
