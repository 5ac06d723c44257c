//! The `--config` file of `serve` and `config check`: a TOML layer under the command line
//! and the environment.
//!
//! Its keys are the long option names (`metrics-allow` or `metrics_allow`), and a key fills
//! an option only when neither the command line nor the environment gave it: the file's
//! values are added to the command line as `--long=value` and everything is parsed again.

use crate::args::Cli;
use clap::parser::ValueSource;
use clap::{ArgMatches, CommandFactory, FromArgMatches};
use std::collections::BTreeSet;
use std::ffi::OsString;
use std::path::{Path, PathBuf};

/// The serve options of a parsed command line (serve or config check).
pub fn serve_matches(m: &ArgMatches) -> Option<&ArgMatches> {
    match m.subcommand() {
        Some(("serve", s)) => Some(s),
        Some(("config", c)) => c.subcommand_matches("check"),
        _ => None,
    }
}

/// The `serve` subcommand as clap declares it: its arguments are the file's keys.
pub fn serve_command() -> clap::Command {
    Cli::command()
        .find_subcommand("serve")
        .cloned()
        .unwrap_or_else(|| clap::Command::new("serve"))
}

/// Parse the command line, then fill the serve options that neither the command line nor
/// the environment gave from the `--config` file. Returns the CLI and the keys taken from
/// the file.
pub fn parse() -> Result<(Cli, BTreeSet<String>), clap::Error> {
    let args: Vec<OsString> = std::env::args_os().collect();
    let m = Cli::command().try_get_matches_from(&args)?;
    let Some(file) = serve_matches(&m).and_then(|s| s.get_one::<PathBuf>("config").cloned()) else {
        return Ok((Cli::from_arg_matches(&m)?, BTreeSet::new()));
    };
    let extra = file_args(&file, serve_matches(&m), &m)
        .map_err(|msg| Cli::command().error(clap::error::ErrorKind::InvalidValue, msg))?;
    let keys: BTreeSet<String> = extra.0;
    let mut all = args;
    all.extend(extra.1);
    let m = Cli::command().try_get_matches_from(&all)?;
    Ok((Cli::from_arg_matches(&m)?, keys))
}

/// Where an option's value came from, when `m` knows the option (clap panics on an id it
/// does not know).
pub fn source_of(m: &ArgMatches, id: &str) -> Option<ValueSource> {
    if m.ids().any(|i| i.as_str() == id) {
        m.value_source(id)
    } else {
        None
    }
}

/// Whether the command line or the environment gave the option (the file then does not).
fn given(m: &ArgMatches, id: &str) -> bool {
    matches!(
        source_of(m, id),
        Some(ValueSource::CommandLine | ValueSource::EnvVariable)
    )
}

/// The arguments a configuration file adds, and the option names they fill.
pub fn file_args(
    file: &Path,
    sub: Option<&ArgMatches>,
    top: &ArgMatches,
) -> Result<(BTreeSet<String>, Vec<OsString>), String> {
    let text =
        std::fs::read_to_string(file).map_err(|e| format!("--config {}: {e}", file.display()))?;
    let table: toml::Table = text
        .parse()
        .map_err(|e| format!("--config {}: not valid TOML: {e}", file.display()))?;
    let cmd = serve_command();
    // The database (a global option) may be set in the file too.
    let top_cmd = Cli::command();
    let args = || {
        cmd.get_arguments().chain(
            top_cmd
                .get_arguments()
                .filter(|a| a.get_long() == Some("db")),
        )
    };
    let mut keys = BTreeSet::new();
    let mut out = Vec::new();
    for (key, value) in &table {
        let long = key.replace('_', "-");
        let arg = args().find(|a| a.get_long() == Some(long.as_str()) && long != "config");
        let Some(arg) = arg else {
            let known: Vec<String> = args()
                .filter_map(|a| a.get_long())
                .filter(|l| !["config", "help", "lang"].contains(l))
                .map(str::to_string)
                .collect();
            return Err(format!(
                "--config {}: unknown key `{key}`; known keys: {}",
                file.display(),
                known.join(", ")
            ));
        };
        let id = arg.get_id().as_str();
        if sub.is_some_and(|s| given(s, id)) || given(top, id) {
            continue;
        }
        out.extend(value_args(
            file,
            key,
            &long,
            arg.get_action().takes_values(),
            value,
        )?);
        keys.insert(id.to_string());
    }
    Ok((keys, out))
}

/// The command-line arguments (`--long=value`, or `--long` for a switch set to true) of
/// the file's `key = value`; an array gives one argument per item.
fn value_args(
    file: &Path,
    key: &str,
    long: &str,
    takes_value: bool,
    value: &toml::Value,
) -> Result<Vec<OsString>, String> {
    let values: Vec<&toml::Value> = match value {
        toml::Value::Array(a) => a.iter().collect(),
        v => vec![v],
    };
    let mut out = Vec::new();
    for v in values {
        let text = match v {
            toml::Value::String(s) => s.clone(),
            toml::Value::Integer(i) => i.to_string(),
            toml::Value::Float(f) => f.to_string(),
            toml::Value::Boolean(b) if !takes_value => {
                if *b {
                    out.push(OsString::from(format!("--{long}")));
                }
                continue;
            }
            toml::Value::Boolean(b) => b.to_string(),
            other => {
                return Err(format!(
                    "--config {}: `{key}` = {other}: expected a string, number or boolean",
                    file.display()
                ))
            }
        };
        if !takes_value {
            return Err(format!(
                "--config {}: `{key}` is a switch: write `{key} = true` or `false`",
                file.display()
            ));
        }
        out.push(OsString::from(format!("--{long}={text}")));
    }
    Ok(out)
}
