//! The command line as clap reads it: every subcommand and its arguments, declared in one
//! place that imports no command (the commands import it).
//!
//! The options of `serve` are in [`crate::serve_options`], where they become the server's.

use crate::serve_options::ServeArgs;
use clap::{Parser, Subcommand, ValueEnum};
use std::path::PathBuf;

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
        /// Write every change of every update to FILE (CSV for a spreadsheet, or XLSX when
        /// FILE ends in .xlsx): row, account, company name before and after, field, value
        /// before and after, and whether the customer becomes another company. The report
        /// lists only the first changes.
        #[arg(long, value_name = "FILE")]
        changes: Option<PathBuf>,
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
        /// Write every change of every update to FILE (CSV for a spreadsheet, or XLSX when
        /// FILE ends in .xlsx): row, account, company name before and after, field, value
        /// before and after, and whether the customer becomes another company. The report
        /// lists only the first changes.
        #[arg(long, value_name = "FILE")]
        changes: Option<PathBuf>,
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
        args: ServeArgs,
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
        action: UserAction,
    },
    /// Manage API tokens.
    Token {
        #[command(subcommand)]
        action: TokenAction,
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
        args: ServeArgs,
    },
}

/// `clientele user …`
#[derive(Subcommand)]
pub enum UserAction {
    /// Create a user; the password is read from standard input.
    Add {
        /// E-mail (the login).
        email: String,
        /// Display name (default: the part of the e-mail before `@`).
        #[arg(long)]
        name: Option<String>,
    },
}

/// `clientele token …`
#[derive(Subcommand)]
pub enum TokenAction {
    /// Create a token and print it (only its hash is stored).
    Create {
        /// A name to recognise it by.
        name: String,
        /// What it may do.
        #[arg(long, value_enum)]
        scope: ScopeArg,
        /// Client networks allowed to use it (CIDR or address; repeatable).
        #[arg(long)]
        allow: Vec<String>,
        /// Stop accepting it this long from now (`90d`, `12h`, `30m`, `45s`, `2w`);
        /// default: never.
        #[arg(long, value_name = "DURATION")]
        expires_in: Option<String>,
        /// Stop accepting it after this long unused (same units); default: never.
        #[arg(long, value_name = "DURATION")]
        idle_timeout: Option<String>,
    },
    /// List the tokens: id, name, scope, owner, allow-list, created, last used, expiry.
    List {
        /// Output format.
        #[arg(long, value_enum, default_value = "human")]
        format: Output,
    },
    /// Revoke a token by id, or by name when one token has it; refused everywhere at once
    /// (other servers within their poll interval).
    Revoke {
        /// Id (as `token list` shows it) or name.
        token: String,
    },
}

/// Scope of a token.
#[derive(Clone, Copy, Debug, ValueEnum, PartialEq, Eq)]
pub enum ScopeArg {
    /// Read customers and contacts.
    Read,
    /// Read and write.
    Write,
    /// Only the call-routing routes (may be passed as `?api_token=`).
    Lookup,
}
