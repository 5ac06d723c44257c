//! Users, API tokens and their life cycle, and the audit trail.

use super::{feed::record_change, Backend};
use crate::rows::{self, TOKEN_SELECT};
use crate::sql::{Arg, Db, BYTES, FOR_UPDATE_OF_T};
use crate::{
    AuditRecord, CreatingImport, Expiry, Result, StoreError, TokenLife, TokenRecord, TokenStore,
    User,
};

pub(crate) fn create_user(
    db: &mut dyn Db,
    name: &str,
    email: &str,
    password_hash: &str,
) -> Result<User> {
    let email = email.trim().to_lowercase();
    let id = db
        .insert(
            "INSERT INTO users (name, email, password_hash, created_at) VALUES (?1, ?2, ?3, ?4)",
            &[
                name.into(),
                email.as_str().into(),
                password_hash.into(),
                crate::now().into(),
            ],
        )
        .map_err(|e| match e {
            StoreError::Conflict(_) => {
                StoreError::Conflict(format!("a user with the e-mail {email} already exists"))
            }
            other => other,
        })?;
    Ok(User {
        id,
        name: name.to_string(),
        email,
        password_hash: password_hash.to_string(),
    })
}

pub(crate) fn user_by_email(db: &mut dyn Db, email: &str) -> Result<User> {
    db.query_one(
        "SELECT id, name, email, password_hash FROM users WHERE email = ?1",
        &[email.trim().to_lowercase().into()],
        rows::user,
    )
}

pub(crate) fn create_token(
    db: &mut dyn Db,
    name: &str,
    hash: &str,
    scope: &str,
    allow: Option<&str>,
    user_id: Option<i64>,
    life: &TokenLife,
) -> Result<i64> {
    let id = db.insert(
        "INSERT INTO tokens (name, hash, scope, allow, user_id, created_at, expires_at, idle_secs) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
        &[
            name.into(),
            hash.into(),
            scope.into(),
            allow.into(),
            user_id.into(),
            crate::now().into(),
            life.expires_at.as_deref().into(),
            life.idle_secs.into(),
        ],
    )?;
    record_change(db, "token", id)?;
    Ok(id)
}

pub(crate) fn tokens(db: &mut dyn Db) -> Result<Vec<TokenRecord>> {
    db.query_vec(&format!("{TOKEN_SELECT} ORDER BY t.id"), &[], rows::token)
}

/// The token, locked until commit: two servers expiring the same token delete (and
/// report) it once.
fn locked_token(db: &mut dyn Db, id: i64) -> Result<Option<TokenRecord>> {
    let sql = format!("{TOKEN_SELECT} WHERE t.id = ?1{FOR_UPDATE_OF_T}");
    db.query_opt(&sql, &[Arg::Int(id)], rows::token)
}

fn delete_token(db: &mut dyn Db, id: i64) -> Result<()> {
    db.execute("DELETE FROM tokens WHERE id = ?1", &[Arg::Int(id)])?;
    record_change(db, "token", id)
}

impl<B: Backend> TokenStore for B {
    fn create_token_with_life(
        &self,
        name: &str,
        hash: &str,
        scope: &str,
        allow: Option<&str>,
        user_id: Option<i64>,
        life: &TokenLife,
    ) -> Result<i64> {
        self.write(|db| create_token(db, name, hash, scope, allow, user_id, life))
    }

    fn revoke_token(&self, id: i64) -> Result<TokenRecord> {
        self.write(|db| {
            let rec = locked_token(db, id)?.ok_or(StoreError::NotFound)?;
            delete_token(db, id)?;
            Ok(rec)
        })
    }

    fn expire_token(&self, id: i64) -> Result<Expiry> {
        self.write(|db| {
            let Some(rec) = locked_token(db, id)? else {
                return Ok(Expiry::Gone);
            };
            if !rec.expired_at(crate::now_ms(), None) {
                return Ok(Expiry::Alive(rec));
            }
            delete_token(db, id)?;
            Ok(Expiry::Expired(rec))
        })
    }

    fn touch_tokens(&self, uses: &[(i64, String)]) -> Result<()> {
        let sql = format!("UPDATE tokens SET last_used_at = ?2 WHERE id = ?1 AND (last_used_at IS NULL OR last_used_at{BYTES} < ?2)");
        self.write(|db| {
            for (id, at) in uses {
                db.execute(&sql, &[Arg::Int(*id), at.into()])?;
            }
            Ok(())
        })
    }

    fn audit_of(&self, kind: &str, item: i64, limit: u64) -> Result<Vec<AuditRecord>> {
        let limit = i64::try_from(limit).unwrap_or(i64::MAX);
        self.read(|db| {
            db.query_vec(
                "SELECT at, actor, action, kind, item, label FROM audit WHERE kind = ?1 AND item = ?2 ORDER BY id DESC LIMIT ?3",
                &[kind.into(), Arg::Int(item), Arg::Int(limit)],
                rows::audit,
            )
        })
    }

    fn creating_import(&self, customer_id: i64) -> Result<Option<CreatingImport>> {
        self.read(|db| {
            db.query_opt(
                "SELECT i.id, i.file, i.at, i.actor FROM customers c JOIN imports i ON i.id = c.created_import WHERE c.id = ?1",
                &[Arg::Int(customer_id)],
                |r| Ok((r.int0(0)?, r.text0(1)?, r.text0(2)?, r.text(3)?)),
            )
        })
    }
}
