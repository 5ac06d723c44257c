//! [`WebStore`] on SQLite.

use crate::sqlite::SqliteStore;
use crate::sqlite_api::user_from_row;
use crate::{Result, Session, StoreError, Upload, UploadFile, WebStore, UPLOAD_HOURS};
use rusqlite::{params, OptionalExtension};

impl WebStore for SqliteStore {
    fn create_session(&self, hash: &str, user_id: i64, csrf: &str, expires_at: &str) -> Result<()> {
        let c = self.pool().get()?;
        let now = crate::now();
        c.execute("DELETE FROM sessions WHERE expires_at <= ?1", [&now])?;
        c.execute(
            "INSERT INTO sessions (hash, user_id, csrf, created_at, expires_at) VALUES (?1, ?2, ?3, ?4, ?5)",
            params![hash, user_id, csrf, now, expires_at],
        )?;
        Ok(())
    }

    fn session(&self, hash: &str) -> Result<Option<Session>> {
        let c = self.pool().get()?;
        let s = c
            .prepare_cached(
                "SELECT u.id, u.name, u.email, u.password_hash, s.csrf, s.expires_at \
                 FROM sessions s JOIN users u ON u.id = s.user_id WHERE s.hash = ?1 AND s.expires_at > ?2",
            )?
            // The user's columns come first, as `user_from_row` reads them.
            .query_row(params![hash, crate::now()], |r| {
                Ok(Session {
                    user: user_from_row(r)?,
                    csrf: r.get(4)?,
                    expires_at: r.get(5)?,
                })
            })
            .optional()?;
        Ok(s)
    }

    fn delete_session(&self, hash: &str) -> Result<()> {
        self.pool()
            .get()?
            .execute("DELETE FROM sessions WHERE hash = ?1", [hash])?;
        Ok(())
    }

    fn count_users(&self) -> Result<u64> {
        let n: i64 = self
            .pool()
            .get()?
            .query_row("SELECT COUNT(*) FROM users", [], |r| r.get(0))?;
        Ok(n.max(0) as u64)
    }

    fn create_upload(&self, id: &str, user_id: i64, name: &str, bytes: &[u8]) -> Result<()> {
        let c = self.pool().get()?;
        c.execute(
            "DELETE FROM uploads WHERE created_at < ?1",
            [crate::now_plus(-UPLOAD_HOURS * 3600)],
        )?;
        c.execute(
            "INSERT INTO uploads (id, user_id, name, bytes, created_at) VALUES (?1, ?2, ?3, ?4, ?5)",
            params![id, user_id, name, bytes, crate::now()],
        )?;
        Ok(())
    }

    fn upload(&self, id: &str, with_bytes: bool) -> Result<Upload> {
        let c = self.pool().get()?;
        let bytes = if with_bytes { "bytes" } else { "x''" };
        c.query_row(
            &format!("SELECT id, user_id, name, length(bytes), {bytes}, report, result, created_at FROM uploads WHERE id = ?1"),
            [id],
            |r| {
                Ok(Upload {
                    id: r.get(0)?,
                    user_id: r.get(1)?,
                    name: r.get(2)?,
                    size: r.get::<_, i64>(3)?.max(0) as u64,
                    bytes: r.get(4)?,
                    report: r.get(5)?,
                    result: r.get(6)?,
                    created_at: r.get(7)?,
                })
            },
        )
        .optional()?
        .ok_or(StoreError::NotFound)
    }

    fn claim_upload(&self, id: &str, marker: &str) -> Result<bool> {
        let n = self.pool().get()?.execute(
            "UPDATE uploads SET result = ?2 WHERE id = ?1 AND result IS NULL",
            params![id, marker],
        )?;
        Ok(n == 1)
    }

    fn set_upload(&self, id: &str, report: Option<&str>, result: Option<&str>) -> Result<()> {
        let n = self.pool().get()?.execute(
            "UPDATE uploads SET report = COALESCE(?2, report), result = COALESCE(?3, result) WHERE id = ?1",
            params![id, report, result],
        )?;
        if n == 0 {
            return Err(StoreError::NotFound);
        }
        Ok(())
    }

    fn upload_file(&self, id: &str, kind: UploadFile) -> Result<Option<Vec<u8>>> {
        self.pool()
            .get()?
            .query_row(
                &format!("SELECT {} FROM uploads WHERE id = ?1", kind.column()),
                [id],
                |r| r.get(0),
            )
            .optional()?
            .ok_or(StoreError::NotFound)
    }

    fn set_upload_file(&self, id: &str, kind: UploadFile, bytes: &[u8]) -> Result<()> {
        let n = self.pool().get()?.execute(
            &format!("UPDATE uploads SET {} = ?2 WHERE id = ?1", kind.column()),
            params![id, bytes],
        )?;
        if n == 0 {
            return Err(StoreError::NotFound);
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::schema::{self, Dialect};
    use crate::ApiStore;

    /// A database written by the first release (schema 1) gains the web tables on open,
    /// keeping its customers.
    #[test]
    fn version_1_databases_upgrade() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("v1.db");
        {
            let c = rusqlite::Connection::open(&path).expect("open");
            for st in schema::create_statements(Dialect::Sqlite) {
                c.execute(&st, []).expect("create");
            }
            c.execute_batch("PRAGMA user_version = 1").expect("version");
            c.execute(
                "INSERT INTO customers (name, created_at, updated_at) VALUES ('Kept', 'x', 'x')",
                [],
            )
            .expect("customer");
        }
        let s = SqliteStore::open(&path.to_string_lossy()).expect("upgrade");
        let v: i64 = s
            .pool()
            .get()
            .expect("conn")
            .query_row("PRAGMA user_version", [], |r| r.get(0))
            .expect("version");
        assert_eq!(v, schema::SCHEMA_VERSION);
        assert_eq!(crate::Store::stats(&s).expect("stats").total, 1);
        assert_eq!(s.count_users().expect("count"), 0);
        let u = s.create_user("A", "a@example.fr", "h").expect("user");
        assert_eq!(s.count_users().expect("count"), 1);
        s.create_session("h1", u.id, "csrf", &crate::now_plus(60))
            .expect("session");
        assert_eq!(
            s.session("h1").expect("read").map(|x| x.csrf),
            Some("csrf".into())
        );
        s.create_session("h2", u.id, "c2", &crate::now_plus(-1))
            .expect("expired session");
        assert!(s.session("h2").expect("read").is_none(), "expired");
        s.create_upload("u1", u.id, "p.csv", b"abc")
            .expect("upload");
        assert!(s.claim_upload("u1", "{}").expect("claim"));
        assert!(!s.claim_upload("u1", "{}").expect("claim twice"));
        let up = s.upload("u1", false).expect("meta");
        assert_eq!((up.size, up.bytes.len()), (3, 0));
        assert_eq!(s.upload("u1", true).expect("full").bytes, b"abc");
        // Files made from the upload: none until kept, then kept.
        assert_eq!(
            s.upload_file("u1", UploadFile::Annotated).expect("none"),
            None
        );
        s.set_upload_file("u1", UploadFile::Annotated, b"xlsx")
            .expect("keep");
        assert_eq!(
            s.upload_file("u1", UploadFile::Annotated).expect("kept"),
            Some(b"xlsx".to_vec())
        );
        assert_eq!(
            s.upload_file("u1", UploadFile::Rejected).expect("none"),
            None
        );
        assert!(matches!(
            s.upload_file("nope", UploadFile::Rejected),
            Err(StoreError::NotFound)
        ));
        // Reopening an upgraded database changes nothing.
        drop(s);
        SqliteStore::open(&path.to_string_lossy()).expect("reopen");
        let _: &dyn ApiStore = &SqliteStore::open(&path.to_string_lossy()).expect("again");
    }
}
