//! `clientele config check`: the effective serve configuration, as TOML with the source of
//! each value, secrets masked; exit 2 when a value is unusable.

use crate::args::Cli;
use crate::config_file::{file_args, serve_command, serve_matches, source_of};
use crate::error::{CliError, CliResult, PREFIX};
use crate::serve_options::ServeArgs;
use clap::parser::ValueSource;
use clap::{ArgMatches, CommandFactory};
use clientele_core::Lang;
use std::collections::BTreeSet;
use std::ffi::OsString;

/// `clientele config check`.
pub fn run(cli: &Cli, args: &ServeArgs, from_file: &BTreeSet<String>, lang: Lang) -> CliResult {
    // The command line again: `Cli` keeps the values, not where they came from.
    let top = Cli::command()
        .try_get_matches_from(std::env::args_os())
        .ok();
    let sources = Sources {
        from_file,
        sub: top.as_ref().and_then(serve_matches).cloned(),
        top: top.clone(),
    };
    println!(
        "# Effective configuration of clientele serve{}",
        args.config
            .as_ref()
            .map(|f| format!(" (config file {})", f.display()))
            .unwrap_or_default()
    );
    println!("# precedence: command line > environment (CLIENTELE_…) > config file > default");
    println!(
        "db = {}  # {}",
        toml::Value::String(clientele_store::redact(&cli.db)),
        sources.of("db")
    );
    let fin = final_matches(args, top.as_ref());
    let fin_sub = fin.as_ref().and_then(serve_matches);
    for arg in serve_command().get_arguments() {
        let id = arg.get_id().as_str();
        if ["help", "config", "db", "lang"].contains(&id) {
            continue;
        }
        let Some(long) = arg.get_long() else { continue };
        let Some(value) = value_of(arg, fin_sub) else {
            continue;
        };
        let env = arg
            .get_env()
            .map(|e| format!(", {}", e.to_string_lossy()))
            .unwrap_or_default();
        println!("{} = {value}  # {}{env}", long, sources.of(id));
    }
    let bad = problems(args, lang);
    if bad.is_empty() {
        eprintln!("Configuration OK.");
        Ok(())
    } else {
        // One line per problem, each as `main` prints the first.
        Err(CliError::unusable(bad.join(&format!("\n{PREFIX}"))))
    }
}

/// Where each option's value came from.
struct Sources<'a> {
    /// The options the `--config` file filled (known from the parse that added them).
    from_file: &'a BTreeSet<String>,
    /// The original command line's `serve` (or `config check`) matches, and all of it.
    sub: Option<ArgMatches>,
    top: Option<ArgMatches>,
}

impl Sources<'_> {
    fn of(&self, id: &str) -> &'static str {
        if self.from_file.contains(id) {
            return "config file";
        }
        let s = self
            .sub
            .as_ref()
            .and_then(|s| source_of(s, id))
            .or_else(|| self.top.as_ref().and_then(|m| source_of(m, id)));
        match s {
            Some(ValueSource::CommandLine) => "command line",
            Some(ValueSource::EnvVariable) => "environment",
            _ => "default",
        }
    }
}

/// The matches serve would run with: the command line plus the config file's values.
fn final_matches(args: &ServeArgs, top: Option<&ArgMatches>) -> Option<ArgMatches> {
    let mut all: Vec<OsString> = std::env::args_os().collect();
    if let (Some(f), Some(m)) = (&args.config, top) {
        if let Ok((_, extra)) = file_args(f, serve_matches(m), m) {
            all.extend(extra);
        }
    }
    Cli::command().try_get_matches_from(&all).ok()
}

/// An option's effective value as TOML (secrets masked); `None` for an option without one.
fn value_of(arg: &clap::Arg, fin_sub: Option<&ArgMatches>) -> Option<toml::Value> {
    let id = arg.get_id().as_str();
    let raw: Vec<String> = fin_sub
        .and_then(|s| s.get_raw(id))
        .map(|v| v.map(|x| x.to_string_lossy().into_owned()).collect())
        .unwrap_or_default();
    let value = if secret(id) && !raw.is_empty() {
        toml::Value::String("********".into())
    } else if !arg.get_action().takes_values() {
        toml::Value::Boolean(fin_sub.is_some_and(|s| s.get_flag(id)))
    } else if arg.get_num_args().is_some_and(|n| n.max_values() > 1)
        || arg.get_value_delimiter().is_some()
    {
        toml::Value::Array(raw.into_iter().map(toml::Value::String).collect())
    } else {
        let v = raw.into_iter().next()?;
        match v.parse::<i64>() {
            Ok(n) => toml::Value::Integer(n),
            Err(_) => toml::Value::String(v),
        }
    };
    Some(value)
}

/// Whether an option's value must not be printed.
fn secret(id: &str) -> bool {
    // A duration about tokens (`token-idle-timeout`) is no secret.
    !id.ends_with("timeout")
        && ["password", "secret", "token", "key"]
            .iter()
            .any(|w| id.contains(w))
}

/// What serve would refuse to start with.
fn problems(args: &ServeArgs, lang: Lang) -> Vec<String> {
    let mut bad = Vec::new();
    if let Err(e) = args.addr() {
        bad.push(e);
    }
    if let Err(e) = args.options(lang) {
        bad.push(e);
    }
    if let Err(e) = tracing_subscriber::EnvFilter::try_new(&args.log_level) {
        bad.push(format!("--log-level {}: {e}", args.log_level));
    }
    bad
}
