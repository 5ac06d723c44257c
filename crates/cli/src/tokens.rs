//! `clientele token create | list | revoke`: API tokens and their life cycle.

use crate::cmd::{FAILURE, OK, UNUSABLE};
use crate::serve::ScopeArg;
use crate::{Cli, Output};
use clap::Subcommand;
use clientele_server::auth;
use clientele_store::{ApiStore, StoreError, TokenLife, TokenRecord};
use serde_json::json;
use std::sync::Arc;

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

/// A duration such as `90d`, `12h`, `30m`, `45s` or `2w`, in seconds.
pub fn parse_duration(s: &str) -> Result<i64, String> {
    let t = s.trim();
    let split = t
        .find(|c: char| !c.is_ascii_digit())
        .ok_or_else(|| format!("{s}: give a unit (s, m, h, d or w), e.g. 90d"))?;
    let (n, unit) = t.split_at(split);
    let n: i64 = n
        .parse()
        .map_err(|_| format!("{s}: expected a number then a unit, e.g. 90d"))?;
    let mult = match unit {
        "s" => 1,
        "m" => 60,
        "h" => 3600,
        "d" => 86_400,
        "w" => 7 * 86_400,
        _ => return Err(format!("{s}: unknown unit {unit:?} (s, m, h, d or w)")),
    };
    match n.checked_mul(mult) {
        Some(v) if v > 0 && v <= 100 * 365 * 86_400 => Ok(v),
        _ => Err(format!("{s}: expected between 1 second and 100 years")),
    }
}

fn open(cli: &Cli) -> Result<Arc<dyn ApiStore>, u8> {
    clientele_store::open_api(&cli.db).map_err(|e| {
        eprintln!(
            "clientele: cannot open the database {}: {e}",
            clientele_store::redact(&cli.db)
        );
        FAILURE
    })
}

fn failure(e: &StoreError) -> u8 {
    eprintln!("clientele: {e}");
    match e {
        StoreError::Db(_) | StoreError::Io(_) => FAILURE,
        _ => UNUSABLE,
    }
}

/// Run a `token` command.
pub fn token(cli: &Cli, action: &TokenAction) -> Result<u8, u8> {
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

fn create(
    cli: &Cli,
    name: &str,
    scope: ScopeArg,
    allow: &[String],
    expires_in: Option<&str>,
    idle_timeout: Option<&str>,
) -> Result<u8, u8> {
    let allow = auth::allow_list(allow).map_err(|e| {
        eprintln!("clientele: --allow: {e}");
        UNUSABLE
    })?;
    let duration = |flag: &str, v: Option<&str>| {
        v.map(parse_duration).transpose().map_err(|e| {
            eprintln!("clientele: {flag}: {e}");
            UNUSABLE
        })
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
    let store = open(cli)?;
    let (token, hash) = auth::new_token();
    let id = store
        .create_token_with_life(name, &hash, scope.as_str(), allow.as_deref(), None, &life)
        .map_err(|e| failure(&e))?;
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
    Ok(OK)
}

fn list(cli: &Cli, format: Output) -> Result<u8, u8> {
    let store = open(cli)?;
    let tokens = store.tokens().map_err(|e| failure(&e))?;
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
    Ok(OK)
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

fn revoke(cli: &Cli, which: &str) -> Result<u8, u8> {
    let store = open(cli)?;
    let tokens = store.tokens().map_err(|e| failure(&e))?;
    let by_id = which.trim().trim_start_matches('#').parse::<i64>().ok();
    let matches: Vec<&TokenRecord> = tokens
        .iter()
        .filter(|t| Some(t.id) == by_id || t.name == which)
        .collect();
    let t = match matches.as_slice() {
        [] => {
            eprintln!(
                "clientele: no token with the id or name {which:?} (see `clientele token list`)"
            );
            return Err(UNUSABLE);
        }
        [t] => *t,
        many => {
            let ids: Vec<String> = many.iter().map(|t| format!("#{}", t.id)).collect();
            eprintln!(
                "clientele: {} tokens are named {which:?} ({}): revoke one by its id",
                many.len(),
                ids.join(", ")
            );
            return Err(UNUSABLE);
        }
    };
    let rec = store.revoke_token(t.id).map_err(|e| failure(&e))?;
    tracing::info!(token_id = rec.id, token = %rec.name, owner = %rec.actor(), by = %clientele_store::audit::actor(), "token revoked");
    eprintln!(
        "Token #{} \"{}\" revoked: servers refuse it from their next poll of the database.",
        rec.id, rec.name
    );
    Ok(OK)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations() {
        assert_eq!(parse_duration("90d"), Ok(90 * 86_400));
        assert_eq!(parse_duration("12h"), Ok(12 * 3600));
        assert_eq!(parse_duration("2s"), Ok(2));
        assert_eq!(parse_duration("1w"), Ok(604_800));
        assert!(parse_duration("90").is_err());
        assert!(parse_duration("d").is_err());
        assert!(parse_duration("0s").is_err());
        assert!(parse_duration("5y").is_err());
        assert!(parse_duration("99999999999999999d").is_err());
    }
}
