//! Web sessions and uploaded packs, and [`WebStore`] over them.

use super::{count, Backend};
use crate::rows;
use crate::rows::IMPORT_SELECT;
use crate::schema::Dialect;
use crate::sql::{Arg, BYTES};
use crate::{
    Result, Session, StoreError, Upload, UploadFile, WebStore, IMPORTED_UPLOAD_DAYS, UPLOAD_HOURS,
};

impl<B: Backend> WebStore for B {
    fn create_session(&self, hash: &str, user_id: i64, csrf: &str, expires_at: &str) -> Result<()> {
        let now = crate::now();
        self.write(|db| {
            db.execute(
                &format!("DELETE FROM sessions WHERE expires_at{BYTES} <= ?1"),
                &[now.as_str().into()],
            )?;
            db.execute(
                "INSERT INTO sessions (hash, user_id, csrf, created_at, expires_at) VALUES (?1, ?2, ?3, ?4, ?5)",
                &[hash.into(), Arg::Int(user_id), csrf.into(), now.as_str().into(), expires_at.into()],
            )?;
            Ok(())
        })
    }

    fn session(&self, hash: &str) -> Result<Option<Session>> {
        let sql = format!(
            "SELECT u.id, u.name, u.email, u.password_hash, s.csrf, s.expires_at \
             FROM sessions s JOIN users u ON u.id = s.user_id WHERE s.hash = ?1 AND s.expires_at{BYTES} > ?2"
        );
        self.read(|db| {
            db.query_opt(&sql, &[hash.into(), crate::now().into()], |r| {
                // The user's columns come first, as `rows::user` reads them.
                Ok(Session {
                    user: rows::user(r)?,
                    csrf: r.text0(4)?,
                    expires_at: r.text0(5)?,
                })
            })
        })
    }

    fn delete_session(&self, hash: &str) -> Result<()> {
        self.read(|db| {
            db.execute("DELETE FROM sessions WHERE hash = ?1", &[hash.into()])?;
            Ok(())
        })
    }

    fn count_users(&self) -> Result<u64> {
        self.read(|db| count(db, "SELECT COUNT(*) FROM users", &[]))
    }

    fn create_upload(&self, id: &str, user_id: i64, name: &str, bytes: &[u8]) -> Result<()> {
        let stale = crate::now_plus(-UPLOAD_HOURS * 3600);
        let stale_imported = crate::now_plus(-IMPORTED_UPLOAD_DAYS * 24 * 3600);
        self.write(|db| {
            // An imported upload stays longer: the history links to its report and its
            // rejected rows can be downloaded again.
            db.execute(
                &format!(
                    "DELETE FROM uploads WHERE created_at{BYTES} < ?1 AND (created_at{BYTES} < ?2 \
                     OR id NOT IN (SELECT upload_id FROM imports WHERE upload_id IS NOT NULL))"
                ),
                &[stale.as_str().into(), stale_imported.as_str().into()],
            )?;
            db.execute(
                "DELETE FROM upload_edits WHERE upload_id NOT IN (SELECT id FROM uploads)",
                &[],
            )?;
            db.execute(
                "INSERT INTO uploads (id, user_id, name, bytes, created_at) VALUES (?1, ?2, ?3, ?4, ?5)",
                &[id.into(), Arg::Int(user_id), name.into(), Arg::Blob(bytes), crate::now().into()],
            )?;
            Ok(())
        })
    }

    fn upload(&self, id: &str, with_bytes: bool) -> Result<Upload> {
        self.read(|db| {
            // The size and an empty value without reading the file: SQLite's `length` of a
            // blob reads its header only (its `octet_length` and `substr` read the whole
            // file, megabytes on every poll of the report page).
            let (size, empty) = match db.dialect() {
                Dialect::Sqlite => ("length(bytes)", "x''"),
                Dialect::Postgres => ("CAST(octet_length(bytes) AS BIGINT)", "''::bytea"),
            };
            let bytes = if with_bytes { "bytes" } else { empty };
            let sql = format!("SELECT id, user_id, name, {size}, {bytes}, report, result, created_at FROM uploads WHERE id = ?1");
            let mut up = db.query_one(&sql, &[id.into()], |r| {
                Ok(Upload {
                    id: r.text0(0)?,
                    user_id: r.int0(1)?,
                    name: r.text0(2)?,
                    size: r.count(3)?,
                    bytes: r.blob(4)?.unwrap_or_default(),
                    report: r.text(5)?,
                    result: r.text(6)?,
                    created_at: r.text0(7)?,
                    import: None,
                })
            })?;
            // At most one import is made from an upload (it is claimed first).
            up.import = db.query_opt(
                &format!("{IMPORT_SELECT} WHERE upload_id = ?1 ORDER BY id DESC LIMIT 1"),
                &[id.into()],
                rows::import,
            )?;
            Ok(up)
        })
    }

    fn claim_upload(&self, id: &str, marker: &str) -> Result<bool> {
        self.read(|db| {
            let n = db.execute(
                "UPDATE uploads SET result = ?2 WHERE id = ?1 AND result IS NULL",
                &[id.into(), marker.into()],
            )?;
            Ok(n == 1)
        })
    }

    fn set_upload(&self, id: &str, report: Option<&str>, result: Option<&str>) -> Result<()> {
        self.read(|db| {
            let n = db.execute(
                "UPDATE uploads SET report = COALESCE(?2, report), result = COALESCE(?3, result) WHERE id = ?1",
                &[id.into(), report.into(), result.into()],
            )?;
            if n == 0 {
                return Err(StoreError::NotFound);
            }
            Ok(())
        })
    }

    fn upload_file(&self, id: &str, kind: UploadFile) -> Result<Option<Vec<u8>>> {
        let sql = format!("SELECT {} FROM uploads WHERE id = ?1", kind.column());
        self.read(|db| db.query_one(&sql, &[id.into()], |r| r.blob(0)))
    }

    fn set_upload_file(&self, id: &str, kind: UploadFile, bytes: &[u8]) -> Result<()> {
        let sql = format!("UPDATE uploads SET {} = ?2 WHERE id = ?1", kind.column());
        self.read(|db| {
            if db.execute(&sql, &[id.into(), Arg::Blob(bytes)])? == 0 {
                return Err(StoreError::NotFound);
            }
            Ok(())
        })
    }

    fn upload_edits(&self, id: &str) -> Result<Option<Vec<u8>>> {
        self.read(|db| {
            let found = db.query_opt(
                "SELECT edits FROM upload_edits WHERE upload_id = ?1",
                &[id.into()],
                |r| r.blob(0),
            )?;
            Ok(found.flatten())
        })
    }

    fn set_upload_edits(&self, id: &str, edits: &[u8]) -> Result<()> {
        self.read(|db| {
            db.execute(
                "INSERT INTO upload_edits (upload_id, edits) VALUES (?1, ?2) \
                 ON CONFLICT (upload_id) DO UPDATE SET edits = excluded.edits",
                &[id.into(), Arg::Blob(edits)],
            )?;
            Ok(())
        })
    }
}
