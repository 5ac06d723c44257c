//! The log: serve's `--log-format` and `--log-level`, else warnings (and `CLIENTELE_LOG`)
//! in text, always on standard error (standard output carries the commands' results).

use crate::args::{Cli, Command};
use crate::serve_options::LogFormat;

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
