//! The PostgreSQL implementation of [`TokenStore`]: tokens' life cycle and the audit trail.
//! Mirrors `sqlite_tokens.rs`.

use crate::postgres::{record_change, PgStore};
use crate::{
    AuditRecord, CreatingImport, Expiry, Result, StoreError, TokenLife, TokenRecord, TokenStore,
};
use ::postgres::Row;

/// Every token column, with the e-mail of its user (`t` is the tokens table).
pub(crate) const TOKEN_SELECT: &str = "SELECT t.id, t.name, t.hash, t.scope, t.allow, t.user_id, u.email, t.created_at, t.last_used_at, t.expires_at, t.idle_secs FROM tokens t LEFT JOIN users u ON u.id = t.user_id";

/// A row of [`TOKEN_SELECT`].
pub(crate) fn token_from_row(r: &Row) -> Result<TokenRecord> {
    Ok(TokenRecord {
        id: r.try_get(0)?,
        name: r.try_get(1)?,
        hash: r.try_get(2)?,
        scope: r.try_get(3)?,
        allow: r.try_get(4)?,
        user_id: r.try_get(5)?,
        user_email: r.try_get(6)?,
        created_at: r.try_get(7)?,
        last_used_at: r.try_get(8)?,
        expires_at: r.try_get(9)?,
        idle_secs: r.try_get(10)?,
    })
}

impl TokenStore for PgStore {
    fn create_token_with_life(
        &self,
        name: &str,
        hash: &str,
        scope: &str,
        allow: Option<&str>,
        user_id: Option<i64>,
        life: &TokenLife,
    ) -> Result<i64> {
        let mut c = self.conn()?;
        let mut tx = c.transaction()?;
        let id: i64 = tx
            .query_one(
                "INSERT INTO tokens (name, hash, scope, allow, user_id, created_at, expires_at, idle_secs) VALUES ($1, $2, $3, $4, $5, $6, $7, $8) RETURNING id",
                &[&name, &hash, &scope, &allow, &user_id, &crate::now(), &life.expires_at, &life.idle_secs],
            )?
            .try_get(0)?;
        record_change(&mut tx, "token", id)?;
        tx.commit()?;
        Ok(id)
    }

    fn revoke_token(&self, id: i64) -> Result<TokenRecord> {
        let mut c = self.conn()?;
        let mut tx = c.transaction()?;
        let row = tx
            .query_opt(
                &format!("{TOKEN_SELECT} WHERE t.id = $1 FOR UPDATE OF t"),
                &[&id],
            )?
            .ok_or(StoreError::NotFound)?;
        let rec = token_from_row(&row)?;
        tx.execute("DELETE FROM tokens WHERE id = $1", &[&id])?;
        record_change(&mut tx, "token", id)?;
        tx.commit()?;
        Ok(rec)
    }

    fn expire_token(&self, id: i64) -> Result<Expiry> {
        let mut c = self.conn()?;
        let mut tx = c.transaction()?;
        // FOR UPDATE: two servers expiring the same token delete (and report) it once.
        let Some(row) = tx.query_opt(
            &format!("{TOKEN_SELECT} WHERE t.id = $1 FOR UPDATE OF t"),
            &[&id],
        )?
        else {
            return Ok(Expiry::Gone);
        };
        let rec = token_from_row(&row)?;
        if !rec.expired_at(crate::now_ms(), None) {
            return Ok(Expiry::Alive(rec));
        }
        tx.execute("DELETE FROM tokens WHERE id = $1", &[&id])?;
        record_change(&mut tx, "token", id)?;
        tx.commit()?;
        Ok(Expiry::Expired(rec))
    }

    fn touch_tokens(&self, uses: &[(i64, String)]) -> Result<()> {
        let mut c = self.conn()?;
        let mut tx = c.transaction()?;
        let st = tx.prepare(
            "UPDATE tokens SET last_used_at = $2 WHERE id = $1 AND (last_used_at IS NULL OR last_used_at COLLATE \"C\" < $2)",
        )?;
        for (id, at) in uses {
            tx.execute(&st, &[id, at])?;
        }
        tx.commit()?;
        Ok(())
    }

    fn audit_of(&self, kind: &str, item: i64, limit: u64) -> Result<Vec<AuditRecord>> {
        let rows = self.conn()?.query(
            "SELECT at, actor, action, kind, item, label FROM audit WHERE kind = $1 AND item = $2 ORDER BY id DESC LIMIT $3",
            &[&kind, &item, &(limit as i64)],
        )?;
        rows.iter()
            .map(|r| {
                Ok(AuditRecord {
                    at: r.try_get(0)?,
                    actor: r.try_get(1)?,
                    action: r.try_get(2)?,
                    kind: r.try_get(3)?,
                    item: r.try_get(4)?,
                    label: r.try_get(5)?,
                })
            })
            .collect()
    }

    fn creating_import(&self, customer_id: i64) -> Result<Option<CreatingImport>> {
        let row = self.conn()?.query_opt(
            "SELECT i.id, i.file, i.at, i.actor FROM customers c JOIN imports i ON i.id = c.created_import WHERE c.id = $1",
            &[&customer_id],
        )?;
        row.map(|r| Ok((r.try_get(0)?, r.try_get(1)?, r.try_get(2)?, r.try_get(3)?)))
            .transpose()
    }
}
