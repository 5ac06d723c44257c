//! `clientele settings`: the database's settings of generated accounts, shown or changed.

use crate::args::Cli;
use crate::db;
use crate::error::{CliError, CliResult};

/// Show the settings, after changing those given; the next generated account shows the
/// effect.
pub fn run(cli: &Cli, prefix: Option<String>, width: Option<usize>) -> CliResult {
    let store = db::open(&cli.db)?;
    let mut s = store.settings()?;
    if prefix.is_some() || width.is_some() {
        if let Some(p) = prefix {
            if p.is_empty()
                || p.len() > 16
                || p.chars().any(|c| c.is_ascii_digit() || c.is_whitespace())
            {
                return Err(CliError::unusable(
                    "the account prefix must be 1 to 16 characters, without digits or spaces",
                ));
            }
            s.account_prefix = p;
        }
        if let Some(w) = width {
            if !(1..=12).contains(&w) {
                return Err(CliError::unusable(
                    "the account width must be between 1 and 12",
                ));
            }
            s.account_width = w;
        }
        store.set_settings(&s)?;
    }
    let next = store.next_account()?;
    println!(
        "account prefix: {}\naccount width: {}\nnext generated account: {next}",
        s.account_prefix, s.account_width,
    );
    Ok(())
}
