//! `clientele serve`: the API and the web pages.

use crate::args::Cli;
use crate::db;
use crate::error::{CliError, CliResult};
use crate::serve_options::ServeArgs;
use clientele_core::Lang;
use clientele_server::Options;
use clientele_store::ApiStore;
use std::net::SocketAddr;
use std::sync::Arc;

/// `clientele serve`.
pub fn run(cli: &Cli, lang: Lang, args: &ServeArgs) -> CliResult {
    let addr = args.addr().map_err(CliError::unusable)?;
    let mut opts = args.options(lang).map_err(CliError::unusable)?;
    let store = db::open_api(&cli.db)?;
    // Asked before the runtime starts: the PostgreSQL client blocks on a runtime of its own.
    let no_users = store.count_users().is_ok_and(|n| n == 0);
    if no_users {
        // A one-time code, printed below: whoever reads this server's output may create the
        // first administrator in the browser (/setup); nobody else can.
        opts.setup_code = Some(setup_code());
    }
    let rt = tokio::runtime::Runtime::new()
        .map_err(|e| CliError::failure(format!("cannot start: {e}")).because(e))?;
    // The last reference to the store is dropped here, after the runtime: closing
    // PostgreSQL connections blocks, which a runtime thread may not do.
    let keep = store.clone();
    let served = rt.block_on(listen_and_serve(cli, store, addr, opts, no_users));
    drop(rt);
    drop(keep);
    served
}

async fn listen_and_serve(
    cli: &Cli,
    store: Arc<dyn ApiStore>,
    addr: SocketAddr,
    opts: Options,
    no_users: bool,
) -> CliResult {
    let listener = tokio::net::TcpListener::bind(addr)
        .await
        .map_err(|e| CliError::failure(format!("cannot listen on {addr}: {e}")).because(e))?;
    eprintln!(
        "Clientèle listening on http://{addr} (database {})",
        clientele_store::redact(&cli.db)
    );
    if no_users {
        print_setup(cli, addr, &opts);
    }
    clientele_server::serve(store, listener, opts)
        .await
        .map_err(|e| CliError::failure(format!("server error: {e}")).because(e))
}

/// How to create the first administrator: in the browser with the setup code, or here.
fn print_setup(cli: &Cli, addr: SocketAddr, opts: &Options) {
    let db = if clientele_store::is_postgres(&cli.db) {
        "<the same database>".to_string()
    } else {
        cli.db.clone()
    };
    let url = opts
        .public_url
        .clone()
        .unwrap_or_else(|| format!("http://{addr}"));
    eprintln!(
        "No user yet: open {url}/setup and give the setup code {}\nto create the first administrator (or: clientele --db {db} user add you@example.fr)",
        opts.setup_code.as_deref().unwrap_or("")
    );
}

/// A one-time setup code: 16 letters and digits (about 80 bits), in four groups to read
/// aloud, without the characters that look alike (0/O, 1/I/L).
fn setup_code() -> String {
    use rand::Rng;
    const ALPHABET: &[u8] = b"23456789ABCDEFGHJKMNPQRSTUVWXYZ";
    let mut rng = rand::thread_rng();
    let chars: Vec<char> = (0..16)
        .map(|_| char::from(ALPHABET[rng.gen_range(0..ALPHABET.len())]))
        .collect();
    chars
        .chunks(4)
        .map(|c| c.iter().collect::<String>())
        .collect::<Vec<_>>()
        .join("-")
}
