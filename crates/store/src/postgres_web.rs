//! [`WebStore`] on PostgreSQL.

use crate::postgres::PgStore;
use crate::postgres_api::user_from_row;
use crate::{Result, Session, StoreError, Upload, UploadFile, WebStore, UPLOAD_HOURS};

impl WebStore for PgStore {
    fn create_session(&self, hash: &str, user_id: i64, csrf: &str, expires_at: &str) -> Result<()> {
        let mut c = self.conn()?;
        let now = crate::now();
        c.execute("DELETE FROM sessions WHERE expires_at <= $1", &[&now])?;
        c.execute(
            "INSERT INTO sessions (hash, user_id, csrf, created_at, expires_at) VALUES ($1, $2, $3, $4, $5)",
            &[&hash, &user_id, &csrf, &now, &expires_at],
        )?;
        Ok(())
    }

    fn session(&self, hash: &str) -> Result<Option<Session>> {
        let row = self.conn()?.query_opt(
            "SELECT u.id, u.name, u.email, u.password_hash, s.csrf, s.expires_at \
             FROM sessions s JOIN users u ON u.id = s.user_id WHERE s.hash = $1 AND s.expires_at > $2",
            &[&hash, &crate::now()],
        )?;
        let Some(r) = row else {
            return Ok(None);
        };
        // The user's columns come first, as `user_from_row` reads them.
        Ok(Some(Session {
            user: user_from_row(&r)?,
            csrf: r.try_get(4)?,
            expires_at: r.try_get(5)?,
        }))
    }

    fn delete_session(&self, hash: &str) -> Result<()> {
        self.conn()?
            .execute("DELETE FROM sessions WHERE hash = $1", &[&hash])?;
        Ok(())
    }

    fn count_users(&self) -> Result<u64> {
        let n: i64 = self
            .conn()?
            .query_one("SELECT COUNT(*) FROM users", &[])?
            .try_get(0)?;
        Ok(n.max(0) as u64)
    }

    fn create_upload(&self, id: &str, user_id: i64, name: &str, bytes: &[u8]) -> Result<()> {
        let mut c = self.conn()?;
        c.execute(
            "DELETE FROM uploads WHERE created_at < $1",
            &[&crate::now_plus(-UPLOAD_HOURS * 3600)],
        )?;
        c.execute(
            "INSERT INTO uploads (id, user_id, name, bytes, created_at) VALUES ($1, $2, $3, $4, $5)",
            &[&id, &user_id, &name, &bytes, &crate::now()],
        )?;
        Ok(())
    }

    fn upload(&self, id: &str, with_bytes: bool) -> Result<Upload> {
        let bytes = if with_bytes { "bytes" } else { "''::bytea" };
        let r = self
            .conn()?
            .query_opt(
                &format!("SELECT id, user_id, name, octet_length(bytes)::bigint, {bytes}, report, result, created_at FROM uploads WHERE id = $1"),
                &[&id],
            )?
            .ok_or(StoreError::NotFound)?;
        let size: i64 = r.try_get(3)?;
        Ok(Upload {
            id: r.try_get(0)?,
            user_id: r.try_get(1)?,
            name: r.try_get(2)?,
            size: size.max(0) as u64,
            bytes: r.try_get(4)?,
            report: r.try_get(5)?,
            result: r.try_get(6)?,
            created_at: r.try_get(7)?,
        })
    }

    fn claim_upload(&self, id: &str, marker: &str) -> Result<bool> {
        let n = self.conn()?.execute(
            "UPDATE uploads SET result = $2 WHERE id = $1 AND result IS NULL",
            &[&id, &marker],
        )?;
        Ok(n == 1)
    }

    fn set_upload(&self, id: &str, report: Option<&str>, result: Option<&str>) -> Result<()> {
        let n = self.conn()?.execute(
            "UPDATE uploads SET report = COALESCE($2, report), result = COALESCE($3, result) WHERE id = $1",
            &[&id, &report, &result],
        )?;
        if n == 0 {
            return Err(StoreError::NotFound);
        }
        Ok(())
    }

    fn upload_file(&self, id: &str, kind: UploadFile) -> Result<Option<Vec<u8>>> {
        let r = self
            .conn()?
            .query_opt(
                &format!("SELECT {} FROM uploads WHERE id = $1", kind.column()),
                &[&id],
            )?
            .ok_or(StoreError::NotFound)?;
        Ok(r.try_get(0)?)
    }

    fn set_upload_file(&self, id: &str, kind: UploadFile, bytes: &[u8]) -> Result<()> {
        let n = self.conn()?.execute(
            &format!("UPDATE uploads SET {} = $2 WHERE id = $1", kind.column()),
            &[&id, &bytes],
        )?;
        if n == 0 {
            return Err(StoreError::NotFound);
        }
        Ok(())
    }
}
