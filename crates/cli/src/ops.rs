//! Operations: the options of `serve` (command line, environment, TOML file), `config
//! check`, the log format, and `backup` / `restore`.
//!
//! Every `serve` option is declared once, in [`ServeArgs`], with its `CLIENTELE_…`
//! environment variable. The TOML file of `--config` is a third layer: its keys are the
//! long option names (`metrics-allow` or `metrics_allow`), and a key fills an option only
//! when neither the command line nor the environment gave it. So a new option gets its
//! environment variable and its file key by being declared.

use crate::cmd::{FAILURE, OK, UNUSABLE};
use crate::{Cli, Command};
use clap::parser::ValueSource;
use clap::{ArgMatches, CommandFactory, FromArgMatches, ValueEnum};
use std::collections::BTreeSet;
use std::ffi::OsString;
use std::path::{Path, PathBuf};
use std::time::Duration;

/// Log line format.
#[derive(Clone, Copy, Debug, ValueEnum, PartialEq, Eq)]
pub enum LogFormat {
    /// Readable lines.
    Text,
    /// One JSON object a line (timestamp, level, target, fields such as request_id,
    /// route, status and latency_ms).
    Json,
}

/// The options of `serve` (and of `config check`, which prints them).
#[derive(clap::Args, Debug, Clone)]
pub struct ServeArgs {
    /// TOML file of serve options (keys: the long option names); the command line and the
    /// environment take precedence over it.
    #[arg(long, env = "CLIENTELE_CONFIG")]
    pub config: Option<PathBuf>,
    /// Address to listen on.
    #[arg(long, env = "CLIENTELE_LISTEN", default_value = "127.0.0.1:8080")]
    pub listen: String,
    /// Log format.
    #[arg(long, env = "CLIENTELE_LOG_FORMAT", value_enum, default_value = "text")]
    pub log_format: LogFormat,
    /// Log filter (tracing syntax: `info`, `warn,clientele::access=info`, …). Every request is
    /// logged at `info` under the target `clientele::access`.
    #[arg(long, env = "CLIENTELE_LOG", default_value = "info")]
    pub log_level: String,
    /// Client networks allowed to read /metrics (CIDR or address; repeatable or
    /// comma-separated).
    #[arg(
        long,
        env = "CLIENTELE_METRICS_ALLOW",
        value_delimiter = ',',
        default_value = "127.0.0.0/8,::1"
    )]
    pub metrics_allow: Vec<String>,
    /// Record no metrics (/metrics answers 404).
    #[arg(long, env = "CLIENTELE_NO_METRICS")]
    pub no_metrics: bool,
    /// How often, in milliseconds, the change feed is read for other servers' writes.
    #[arg(long, env = "CLIENTELE_SYNC_INTERVAL_MS", default_value_t = 500,
          value_parser = clap::value_parser!(u64).range(50..=60_000))]
    pub sync_interval_ms: u64,
    /// /ready answers 503 when the routing index was last brought up to date longer ago
    /// than this many seconds.
    #[arg(long, env = "CLIENTELE_READY_MAX_LAG", default_value_t = 10,
          value_parser = clap::value_parser!(u64).range(1..=3600))]
    pub ready_max_lag: u64,
    /// A reverse proxy (CIDR or address) whose X-Forwarded-For, -Proto and -Host are
    /// believed; repeatable or comma-separated. Others' forwarding headers are ignored.
    #[arg(long, env = "CLIENTELE_TRUSTED_PROXY", value_delimiter = ',')]
    pub trusted_proxy: Vec<String>,
    /// The URL clients reach this server by (https://crm.example.fr): used in the links the
    /// API writes; https makes the cookies Secure.
    #[arg(long, env = "CLIENTELE_PUBLIC_URL")]
    pub public_url: Option<String>,
    /// Threads that check passwords (Argon2), below the routing workers in priority.
    #[arg(long, env = "CLIENTELE_HASH_THREADS", default_value_t = 1,
          value_parser = clap::value_parser!(u64).range(1..=64))]
    pub hash_threads: u64,
    /// Password checks that may wait for a thread; more logins are answered 429 at once.
    #[arg(long, env = "CLIENTELE_HASH_QUEUE", default_value_t = 16)]
    pub hash_queue: usize,
    /// Checks, imports and workbook builds run at once (lowest priority).
    #[arg(long, env = "CLIENTELE_JOBS", default_value_t = 1,
          value_parser = clap::value_parser!(u64).range(1..=64))]
    pub jobs: u64,
    /// Checks and imports that may wait; more are refused (API 503, a busy page).
    #[arg(long, env = "CLIENTELE_JOB_QUEUE", default_value_t = 8)]
    pub job_queue: usize,
    /// Tokens minted by `/api/login` stop being accepted after this long unused
    /// (`24h`, `30m`, `90s`, `7d`).
    #[arg(
        long,
        env = "CLIENTELE_TOKEN_IDLE_TIMEOUT",
        default_value = "24h",
        value_name = "DURATION"
    )]
    pub token_idle_timeout: String,
}

impl ServeArgs {
    /// The server options these arguments give.
    pub fn options(&self, lang: clientele_core::Lang) -> Result<clientele_server::Options, String> {
        let metrics_allow = self
            .metrics_allow
            .iter()
            .map(|n| n.trim())
            .filter(|n| !n.is_empty())
            .map(|n| {
                n.parse::<ipnet::IpNet>()
                    .or_else(|_| n.parse::<std::net::IpAddr>().map(ipnet::IpNet::from))
                    .map_err(|_| format!("--metrics-allow {n}: expected a network such as 10.0.0.0/8 or an address"))
            })
            .collect::<Result<Vec<_>, _>>()?;
        let trusted_proxies = self
            .trusted_proxy
            .iter()
            .filter(|p| !p.trim().is_empty())
            .map(|p| clientele_server::auth::parse_net(p))
            .collect::<Result<Vec<_>, _>>()
            .map_err(|e| format!("--trusted-proxy: {e}"))?;
        let public_url = match self.public_url.as_deref().map(str::trim) {
            None | Some("") => None,
            Some(u) if u.starts_with("http://") || u.starts_with("https://") => {
                Some(u.trim_end_matches('/').to_string())
            }
            Some(u) => return Err(format!("--public-url {u}: expected http://… or https://…")),
        };
        let token_idle = crate::tokens::parse_duration(&self.token_idle_timeout)
            .map_err(|e| format!("--token-idle-timeout: {e}"))?;
        Ok(clientele_server::Options {
            lang,
            poll: Duration::from_millis(self.sync_interval_ms),
            metrics: !self.no_metrics,
            metrics_allow,
            ready_max_lag: Duration::from_secs(self.ready_max_lag),
            trusted_proxies,
            public_url,
            hash_threads: usize::try_from(self.hash_threads).unwrap_or(1),
            hash_queue: self.hash_queue,
            job_workers: usize::try_from(self.jobs).unwrap_or(1),
            job_queue: self.job_queue,
            token_idle: Duration::from_secs(token_idle.unsigned_abs()),
            ..clientele_server::Options::default()
        })
    }

    /// The listening address.
    pub fn addr(&self) -> Result<std::net::SocketAddr, String> {
        self.listen.parse().map_err(|_| {
            format!(
                "--listen {}: expected an address such as 127.0.0.1:8080",
                self.listen
            )
        })
    }
}

/// The serve options of a parsed command line (serve or config check).
fn serve_matches(m: &ArgMatches) -> Option<&ArgMatches> {
    match m.subcommand() {
        Some(("serve", s)) => Some(s),
        Some(("config", c)) => c.subcommand_matches("check"),
        _ => None,
    }
}

fn serve_command() -> clap::Command {
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
fn source_of(m: &ArgMatches, id: &str) -> Option<ValueSource> {
    if m.ids().any(|i| i.as_str() == id) {
        m.value_source(id)
    } else {
        None
    }
}

fn given(m: &ArgMatches, id: &str) -> bool {
    matches!(
        source_of(m, id),
        Some(ValueSource::CommandLine | ValueSource::EnvVariable)
    )
}

/// The arguments a configuration file adds, and the option names they fill.
fn file_args(
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
        let values: Vec<&toml::Value> = match value {
            toml::Value::Array(a) => a.iter().collect(),
            v => vec![v],
        };
        let takes_value = arg.get_action().takes_values();
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
        keys.insert(id.to_string());
    }
    Ok((keys, out))
}

/// Whether an option's value must not be printed.
fn secret(id: &str) -> bool {
    // A duration about tokens (`token-idle-timeout`) is no secret.
    !id.ends_with("timeout")
        && ["password", "secret", "token", "key"]
            .iter()
            .any(|w| id.contains(w))
}

/// `clientele config check`: the effective serve configuration, as TOML with the source of
/// each value, secrets masked; exit 2 when a value is unusable.
pub fn config_check(
    cli: &Cli,
    args: &ServeArgs,
    from_file: &BTreeSet<String>,
    lang: clientele_core::Lang,
) -> Result<u8, u8> {
    let m = Cli::command()
        .try_get_matches_from(std::env::args_os())
        .ok();
    // Sources from the original command line (the file's keys are known separately).
    let sub = m.as_ref().and_then(serve_matches).cloned();
    let source = |id: &str| -> &'static str {
        if from_file.contains(id) {
            return "config file";
        }
        let s = sub
            .as_ref()
            .and_then(|s| source_of(s, id))
            .or_else(|| m.as_ref().and_then(|m| source_of(m, id)));
        match s {
            Some(ValueSource::CommandLine) => "command line",
            Some(ValueSource::EnvVariable) => "environment",
            _ => "default",
        }
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
        source("db")
    );
    // The values as serve received them, re-read from the final matches.
    let mut all: Vec<OsString> = std::env::args_os().collect();
    if let (Some(f), Some(m)) = (&args.config, &m) {
        if let Ok((_, extra)) = file_args(f, serve_matches(m), m) {
            all.extend(extra);
        }
    }
    let fin = Cli::command().try_get_matches_from(&all).ok();
    let fin_sub = fin.as_ref().and_then(serve_matches);
    for arg in serve_command().get_arguments() {
        let id = arg.get_id().as_str();
        if ["help", "config", "db", "lang"].contains(&id) {
            continue;
        }
        let Some(long) = arg.get_long() else { continue };
        let env = arg
            .get_env()
            .map(|e| format!(", {}", e.to_string_lossy()))
            .unwrap_or_default();
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
            match raw.into_iter().next() {
                Some(v) => match v.parse::<i64>() {
                    Ok(n) => toml::Value::Integer(n),
                    Err(_) => toml::Value::String(v),
                },
                None => continue,
            }
        };
        println!("{} = {value}  # {}{env}", long, source(id));
    }
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
    if bad.is_empty() {
        eprintln!("Configuration OK.");
        Ok(OK)
    } else {
        for b in bad {
            eprintln!("clientele: {b}");
        }
        Err(UNUSABLE)
    }
}

/// Start the logger: serve's `--log-format` and `--log-level`, else warnings (and
/// `CLIENTELE_LOG`) in text.
pub fn init_logging(cli: &Cli) {
    let (format, filter) = match &cli.command {
        Command::Serve { args } => (args.log_format, args.log_level.clone()),
        _ => (
            LogFormat::Text,
            std::env::var("CLIENTELE_LOG").unwrap_or_else(|_| "warn".into()),
        ),
    };
    // The PostgreSQL client logs every statement's parameters at `debug` (customer data,
    // hashes): it stays at `info` unless named on purpose.
    let filter = if filter.contains("tokio_postgres") {
        filter
    } else {
        format!("{filter},tokio_postgres=info")
    };
    let filter = tracing_subscriber::EnvFilter::try_new(&filter).unwrap_or_else(|e| {
        eprintln!("clientele: log filter {filter}: {e}; using info");
        tracing_subscriber::EnvFilter::new("info")
    });
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr);
    match format {
        LogFormat::Text => builder.init(),
        LogFormat::Json => builder
            .json()
            .flatten_event(true)
            .with_current_span(false)
            .init(),
    }
}

fn sqlite_only(cli: &Cli, what: &str) -> Result<(), u8> {
    if clientele_store::is_postgres(&cli.db) {
        eprintln!(
            "clientele: {what} copies SQLite files; for PostgreSQL use its own tools (docs/operations.md):\n  \
             pg_dump --format=custom --file=clientele.dump '{}'\n  \
             pg_restore --clean --if-exists --no-owner --dbname='{}' clientele.dump",
            clientele_store::redact(&cli.db),
            clientele_store::redact(&cli.db)
        );
        return Err(UNUSABLE);
    }
    Ok(())
}

/// `clientele backup FILE`: a consistent copy of the SQLite database, safe while served.
pub fn backup(cli: &Cli, file: &Path, force: bool) -> Result<u8, u8> {
    sqlite_only(cli, "backup")?;
    if file.exists() && !force {
        eprintln!(
            "clientele: {} exists; choose another name or pass --force to replace it",
            file.display()
        );
        return Err(UNUSABLE);
    }
    let s = clientele_store::ops::backup_sqlite(Path::new(&cli.db), file).map_err(|e| {
        eprintln!("clientele: backup failed: {e}");
        FAILURE
    })?;
    eprintln!(
        "Backup of {} written to {}: {} pages, schema {}, {} customers, integrity check ok.",
        cli.db,
        file.display(),
        s.pages,
        s.schema,
        s.customers
    );
    Ok(OK)
}

/// `clientele restore FILE`: replace the SQLite database by a backup (servers stopped).
pub fn restore(cli: &Cli, file: &Path) -> Result<u8, u8> {
    sqlite_only(cli, "restore")?;
    let s = clientele_store::ops::restore_sqlite(file, Path::new(&cli.db)).map_err(|e| {
        eprintln!("clientele: restore refused: {e}");
        match e {
            clientele_store::StoreError::Refused(_) => UNUSABLE,
            _ => FAILURE,
        }
    })?;
    eprintln!(
        "{} restored from {}: schema {}, {} customers. Start the server again; it migrates the schema if the backup is older.",
        cli.db,
        file.display(),
        s.schema,
        s.customers
    );
    Ok(OK)
}
