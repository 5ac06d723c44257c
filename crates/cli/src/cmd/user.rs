//! `clientele user add`: an API user, its password read from standard input.

use crate::args::{Cli, UserAction};
use crate::db;
use crate::error::{CliError, CliResult};
use clientele_server::auth;
use std::io::Read;

/// `clientele user add EMAIL [--name NAME]`.
pub fn run(cli: &Cli, action: &UserAction) -> CliResult {
    let UserAction::Add { email, name } = action;
    let email = email.trim();
    if !email.contains('@') || email.contains(char::is_whitespace) {
        return Err(CliError::unusable(format!(
            "{email}: not an e-mail address"
        )));
    }
    let password = read_password()?;
    clientele_server::password::check(&password)
        .map_err(|e| CliError::unusable(format!("{e} (read from standard input)")))?;
    let hash = auth::hash_password(&password)
        .map_err(|e| CliError::failure(format!("cannot hash the password: {e}")))?;
    let name = name
        .clone()
        .unwrap_or_else(|| email.split('@').next().unwrap_or(email).to_string());
    let store = db::open_api(&cli.db)?;
    let u = store.create_user(&name, email, &hash)?;
    eprintln!("User #{} {} <{}> created.", u.id, u.name, u.email);
    Ok(())
}

/// The first line of standard input (typed, or piped from a secret store), without its
/// line ending; never an argument, which other users could read in the process list.
fn read_password() -> CliResult<String> {
    let mut input = String::new();
    if std::io::IsTerminal::is_terminal(&std::io::stdin()) {
        eprintln!("Password (then Enter):");
    }
    std::io::stdin()
        .read_to_string(&mut input)
        .map_err(|e| CliError::failure(format!("cannot read the password: {e}")).because(e))?;
    Ok(input
        .lines()
        .next()
        .unwrap_or("")
        .trim_end_matches('\r')
        .to_string())
}
