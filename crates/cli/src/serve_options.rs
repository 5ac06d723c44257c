//! The options of `serve` (and of `config check`, which prints them), and the server
//! options they give.
//!
//! Every `serve` option is declared once, in [`ServeArgs`], with its `CLIENTELE_…`
//! environment variable; the `--config` file fills the same options by their long names
//! (see [`crate::config_file`]). So a new option gets its environment variable and its file
//! key by being declared.

use crate::duration::parse_duration;
use clap::ValueEnum;
use std::path::PathBuf;
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
        let token_idle = parse_duration(&self.token_idle_timeout)
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
