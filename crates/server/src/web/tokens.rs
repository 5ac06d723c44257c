//! The staff page of API tokens: every token with its owner, scope, allow-list, creation,
//! last use and expiry, and a revoke button.

use super::error::{Page, WebError};
use super::forms::Posted;
use super::session::Web;
use crate::auth::ClientIp;
use crate::state::ApiContext;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect};
use minijinja::{context, Value};
use serde_json::json;
use std::collections::HashMap;

/// The list.
pub async fn list(
    web: Web,
    State(state): State<ApiContext>,
    Query(q): Query<HashMap<String, String>>,
) -> Page {
    let tokens = state
        .db(|s| s.tokens())
        .await
        .map_err(|e| WebError::from(e).with_lang(web.lang))?;
    // Uses seen by this server and not yet written (at most a minute old) count too.
    let uses = state.0.tokens.last_uses();
    let rows: Vec<_> = tokens
        .iter()
        .map(|t| {
            let stored = t
                .last_used_at
                .as_deref()
                .and_then(clientele_store::parse_time);
            let last = match (stored, uses.get(&t.id).copied()) {
                (Some(a), Some(b)) => Some(a.max(b)),
                (a, b) => a.or(b),
            };
            json!({
                "id": t.id, "name": t.name, "scope": t.scope, "owner": t.user_email,
                "allow": t.allow.as_deref().map(|a| a.replace(',', ", ")),
                "created_at": t.created_at,
                "last_used_at": last.map(clientele_store::format_time),
                "expires_at": t.expires_at, "idle_secs": t.idle_secs,
                "idle": t.idle_secs.map(idle_text),
            })
        })
        .collect();
    let revoked = q.get("revoked").cloned();
    Ok(web.page(
        "tokens.html",
        "tokens",
        context! { tokens => Value::from_serialize(&rows), revoked => revoked },
    ))
}

/// `86400` → `24 h`.
fn idle_text(secs: i64) -> String {
    match secs {
        s if s % 86_400 == 0 => format!("{} j/d", s / 86_400),
        s if s % 3600 == 0 => format!("{} h", s / 3600),
        s if s % 60 == 0 => format!("{} min", s / 60),
        s => format!("{s} s"),
    }
}

/// Revoke a token, then back to the list.
pub async fn revoke(
    State(state): State<ApiContext>,
    ClientIp(ip): ClientIp,
    Path(id): Path<String>,
    Posted { web, .. }: Posted,
) -> Page {
    let id: i64 = id.parse().map_err(|_| WebError::not_found())?;
    let actor = web.session.user.email.clone();
    let rec = state
        .db_as(actor.clone(), move |s| s.revoke_token(id))
        .await
        .map_err(|e| WebError::from(e).with_lang(web.lang))?;
    state.0.tokens.remove_id(id);
    let client = ip.map(|i| i.to_string());
    tracing::info!(
        token_id = rec.id,
        token = %rec.name,
        owner = %rec.actor(),
        by = %actor,
        client = client.as_deref().unwrap_or("-"),
        "token revoked"
    );
    let mut r = Redirect::to(&format!("/tokens?revoked={}", rec.id)).into_response();
    // Post/redirect/get: see other.
    *r.status_mut() = StatusCode::SEE_OTHER;
    Ok(r)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn idle_times() {
        assert_eq!(idle_text(86_400), "1 j/d");
        assert_eq!(idle_text(7200), "2 h");
        assert_eq!(idle_text(90), "90 s");
        assert_eq!(idle_text(300), "5 min");
    }
}
