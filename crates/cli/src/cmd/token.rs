//! `clientele token create | list | revoke`: API tokens and their life cycle.

use crate::args::{Cli, Output, ScopeArg, TokenAction};
use crate::db;
use crate::duration::parse_duration;
use crate::error::{CliError, CliResult};
use clientele_server::auth;
use clientele_store::{TokenLife, TokenRecord};
use serde_json::json;

/// Run a `token` command.
pub fn run(cli: &Cli, action: &TokenAction) -> CliResult {
    match action {
        TokenAction::Create {
            name,
            scope,
            allow,
            expires_in,
            idle_timeout,
        } => create(
            cli,
            name,
            *scope,
            allow,
            expires_in.as_deref(),
            idle_timeout.as_deref(),
        ),
        TokenAction::List { format } => list(cli, *format),
        TokenAction::Revoke { token } => revoke(cli, token),
    }
}

/// Create a token, print it once on standard output (only its hash is kept), and say on
/// standard error what it may do and until when.
fn create(
    cli: &Cli,
    name: &str,
    scope: ScopeArg,
    allow: &[String],
    expires_in: Option<&str>,
    idle_timeout: Option<&str>,
) -> CliResult {
    let allow = auth::allow_list(allow).map_err(|e| CliError::unusable(format!("--allow: {e}")))?;
    let duration = |flag: &str, v: Option<&str>| {
        v.map(parse_duration)
            .transpose()
            .map_err(|e| CliError::unusable(format!("{flag}: {e}")))
    };
    let life = TokenLife {
        expires_at: duration("--expires-in", expires_in)?.map(clientele_store::now_plus),
        idle_secs: duration("--idle-timeout", idle_timeout)?,
    };
    let scope = match scope {
        ScopeArg::Read => auth::Scope::Read,
        ScopeArg::Write => auth::Scope::Write,
        ScopeArg::Lookup => auth::Scope::Lookup,
    };
    let store = db::open_api(&cli.db)?;
    let (token, hash) = auth::new_token();
    let id =
        store.create_token_with_life(name, &hash, scope.as_str(), allow.as_deref(), None, &life)?;
    tracing::info!(token_id = id, token = %name, scope = scope.as_str(), expires_at = life.expires_at.as_deref().unwrap_or("-"), idle_secs = life.idle_secs.unwrap_or_default(), "token created");
    println!("{token}");
    let mut life_text = String::new();
    if let Some(e) = &life.expires_at {
        life_text.push_str(&format!(", expires {e}"));
    }
    if let Some(i) = life.idle_secs {
        life_text.push_str(&format!(", expires after {i} s unused"));
    }
    eprintln!(
        "Token #{id} \"{name}\" ({}{life_text}) created; keep it now: only its hash is stored.",
        scope.as_str()
    );
    Ok(())
}

/// The tokens, one a line, or as JSON.
fn list(cli: &Cli, format: Output) -> CliResult {
    let store = db::open_api(&cli.db)?;
    let tokens = store.tokens()?;
    match format {
        Output::Json => {
            let rows: Vec<_> = tokens
                .iter()
                .map(|t| {
                    json!({
                        "id": t.id, "name": t.name, "scope": t.scope, "owner": t.user_email,
                        "allow": t.allow, "createdAt": t.created_at, "lastUsedAt": t.last_used_at,
                        "expiresAt": t.expires_at, "idleTimeoutSecs": t.idle_secs,
                    })
                })
                .collect();
            println!(
                "{}",
                serde_json::to_string_pretty(&rows).unwrap_or_default()
            );
        }
        Output::Human => {
            if tokens.is_empty() {
                println!("No token.");
            }
            for t in &tokens {
                println!("{}", describe(t));
            }
        }
    }
    Ok(())
}

/// One line of `token list`.
fn describe(t: &TokenRecord) -> String {
    let mut s = format!("#{} {} ({})", t.id, t.name, t.scope);
    if let Some(e) = &t.user_email {
        s.push_str(&format!(" of {e}"));
    }
    s.push_str(&format!(
        "  allow: {}  created: {}  last used: {}",
        t.allow.as_deref().unwrap_or("any"),
        t.created_at,
        t.last_used_at.as_deref().unwrap_or("never")
    ));
    if let Some(e) = &t.expires_at {
        s.push_str(&format!("  expires: {e}"));
    }
    if let Some(i) = t.idle_secs {
        s.push_str(&format!("  idle timeout: {i} s"));
    }
    s
}

/// Revoke by id (`7` or `#7`) or by name, when exactly one token has it.
fn revoke(cli: &Cli, which: &str) -> CliResult {
    let store = db::open_api(&cli.db)?;
    let tokens = store.tokens()?;
    let by_id = which.trim().trim_start_matches('#').parse::<i64>().ok();
    let matches: Vec<&TokenRecord> = tokens
        .iter()
        .filter(|t| Some(t.id) == by_id || t.name == which)
        .collect();
    let t = match matches.as_slice() {
        [] => {
            return Err(CliError::unusable(format!(
                "no token with the id or name {which:?} (see `clientele token list`)"
            )))
        }
        [t] => *t,
        many => {
            let ids: Vec<String> = many.iter().map(|t| format!("#{}", t.id)).collect();
            return Err(CliError::unusable(format!(
                "{} tokens are named {which:?} ({}): revoke one by its id",
                many.len(),
                ids.join(", ")
            )));
        }
    };
    let rec = store.revoke_token(t.id)?;
    tracing::info!(token_id = rec.id, token = %rec.name, owner = %rec.actor(), by = %clientele_store::audit::actor(), "token revoked");
    eprintln!(
        "Token #{} \"{}\" revoked: servers refuse it from their next poll of the database.",
        rec.id, rec.name
    );
    Ok(())
}
