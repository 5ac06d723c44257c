//! The SQLite implementation of [`TokenStore`]: tokens' life cycle and the audit trail.

use crate::sqlite::{record_change, SqliteStore};
use crate::{
    AuditRecord, CreatingImport, Expiry, Result, StoreError, TokenLife, TokenRecord, TokenStore,
};
use rusqlite::{params, OptionalExtension, Row};

/// Every token column, with the e-mail of its user (`t` is the tokens table).
pub(crate) const TOKEN_SELECT: &str = "SELECT t.id, t.name, t.hash, t.scope, t.allow, t.user_id, u.email, t.created_at, t.last_used_at, t.expires_at, t.idle_secs FROM tokens t LEFT JOIN users u ON u.id = t.user_id";

/// A row of [`TOKEN_SELECT`].
pub(crate) fn token_from_row(r: &Row) -> rusqlite::Result<TokenRecord> {
    Ok(TokenRecord {
        id: r.get(0)?,
        name: r.get(1)?,
        hash: r.get(2)?,
        scope: r.get(3)?,
        allow: r.get(4)?,
        user_id: r.get(5)?,
        user_email: r.get(6)?,
        created_at: r.get(7)?,
        last_used_at: r.get(8)?,
        expires_at: r.get(9)?,
        idle_secs: r.get(10)?,
    })
}

impl TokenStore for SqliteStore {
    fn create_token_with_life(
        &self,
        name: &str,
        hash: &str,
        scope: &str,
        allow: Option<&str>,
        user_id: Option<i64>,
        life: &TokenLife,
    ) -> Result<i64> {
        let mut c = self.pool().get()?;
        let tx = c.transaction()?;
        tx.execute(
            "INSERT INTO tokens (name, hash, scope, allow, user_id, created_at, expires_at, idle_secs) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
            params![name, hash, scope, allow, user_id, crate::now(), life.expires_at, life.idle_secs],
        )?;
        let id = tx.last_insert_rowid();
        record_change(&tx, "token", id)?;
        tx.commit()?;
        Ok(id)
    }

    fn revoke_token(&self, id: i64) -> Result<TokenRecord> {
        let mut c = self.pool().get()?;
        let tx = c.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
        let rec = tx
            .query_row(
                &format!("{TOKEN_SELECT} WHERE t.id = ?1"),
                [id],
                token_from_row,
            )
            .optional()?
            .ok_or(StoreError::NotFound)?;
        tx.execute("DELETE FROM tokens WHERE id = ?1", [id])?;
        record_change(&tx, "token", id)?;
        tx.commit()?;
        Ok(rec)
    }

    fn expire_token(&self, id: i64) -> Result<Expiry> {
        let mut c = self.pool().get()?;
        let tx = c.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
        let rec = tx
            .query_row(
                &format!("{TOKEN_SELECT} WHERE t.id = ?1"),
                [id],
                token_from_row,
            )
            .optional()?;
        let Some(rec) = rec else {
            return Ok(Expiry::Gone);
        };
        if !rec.expired_at(crate::now_ms(), None) {
            return Ok(Expiry::Alive(rec));
        }
        tx.execute("DELETE FROM tokens WHERE id = ?1", [id])?;
        record_change(&tx, "token", id)?;
        tx.commit()?;
        Ok(Expiry::Expired(rec))
    }

    fn touch_tokens(&self, uses: &[(i64, String)]) -> Result<()> {
        let mut c = self.pool().get()?;
        let tx = c.transaction()?;
        for (id, at) in uses {
            tx.prepare_cached(
                "UPDATE tokens SET last_used_at = ?2 WHERE id = ?1 AND (last_used_at IS NULL OR last_used_at < ?2)",
            )?
            .execute(params![id, at])?;
        }
        tx.commit()?;
        Ok(())
    }

    fn audit_of(&self, kind: &str, item: i64, limit: u64) -> Result<Vec<AuditRecord>> {
        let c = self.pool().get()?;
        let mut st = c.prepare_cached(
            "SELECT at, actor, action, kind, item, label FROM audit WHERE kind = ?1 AND item = ?2 ORDER BY id DESC LIMIT ?3",
        )?;
        let rows = st
            .query_map(params![kind, item, limit as i64], |r| {
                Ok(AuditRecord {
                    at: r.get(0)?,
                    actor: r.get(1)?,
                    action: r.get(2)?,
                    kind: r.get(3)?,
                    item: r.get(4)?,
                    label: r.get(5)?,
                })
            })?
            .collect::<rusqlite::Result<Vec<_>>>()?;
        Ok(rows)
    }

    fn creating_import(&self, customer_id: i64) -> Result<Option<CreatingImport>> {
        let c = self.pool().get()?;
        let row = c
            .prepare_cached(
                "SELECT i.id, i.file, i.at, i.actor FROM customers c JOIN imports i ON i.id = c.created_import WHERE c.id = ?1",
            )?
            .query_row([customer_id], |r| {
                Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?))
            })
            .optional()?;
        Ok(row)
    }
}
