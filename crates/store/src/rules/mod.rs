//! The rules of the store, written once for both backends over [`Db`]: each backend only
//! says how to get a connection, a transaction and a snapshot ([`Backend`]), and loads
//! imports its own way.

mod contacts;
mod counts;
mod customers;
mod feed;
mod history;
pub(crate) mod imports;
mod mappings;
mod names;
mod pages;
mod people;
pub(crate) mod search;
mod uploads;

pub(crate) use customers::{max_account_number, write_phones, ListCache};

use crate::import::ImportTx;
use crate::sql::{Arg, Db};
use crate::{Result, StoreError};

/// What a backend provides to the rules.
pub(crate) trait Backend: Send + Sync {
    /// Run `f` on a pooled connection (each statement on its own).
    fn read<R>(&self, f: impl FnOnce(&mut dyn Db) -> Result<R>) -> Result<R>;
    /// Run `f` in one write transaction, committed when it succeeds (rolled back otherwise).
    fn write<R>(&self, f: impl FnOnce(&mut dyn Db) -> Result<R>) -> Result<R>;
    /// Run `f` in one read-only snapshot meant for long scans (export, routing index).
    fn scan<R>(&self, f: impl FnOnce(&mut dyn Db) -> Result<R>) -> Result<R>;
    /// Whether a create that generated its account failed only because of a concurrent
    /// writer and should be tried again (PostgreSQL: an uncommitted import holds it).
    fn retry_create(&self, _e: &StoreError) -> bool {
        false
    }
    /// Start an import transaction (each backend loads rows its own fastest way).
    fn begin_import(&self, file: &str) -> Result<Box<dyn ImportTx + '_>>;
    /// The schema version, within `timeout` (readiness probe).
    fn ping(&self, timeout: std::time::Duration) -> Result<i64>;
    /// The connection pool's figures.
    fn pool_state(&self) -> crate::ops::PoolState;
    /// The counts and page keys of customer lists this store keeps.
    fn lists(&self) -> &ListCache;
}

/// Append to the audit trail, in the write's transaction, with the actor of the current call.
pub(crate) fn record_audit(
    db: &mut dyn Db,
    action: &str,
    item: i64,
    label: Option<&str>,
) -> Result<()> {
    db.execute(
        "INSERT INTO audit (at, actor, action, kind, item, label) VALUES (?1, ?2, ?3, 'customer', ?4, ?5)",
        &[
            crate::now().into(),
            crate::audit::actor().into(),
            action.into(),
            Arg::Int(item),
            label.into(),
        ],
    )?;
    Ok(())
}

/// `SELECT COUNT(*) …` as a number.
pub(crate) fn count(db: &mut dyn Db, sql: &str, args: &[Arg]) -> Result<u64> {
    db.query_one(sql, args, |r| r.count(0))
}

#[cfg(test)]
mod api_tests {
    use crate::sqlite::SqliteStore;
    use crate::{ApiStore, RoutingScope, Store, StoreError};
    use clientele_core::contact::Contact;
    use clientele_core::model::{Customer, Value};
    use clientele_core::Field;

    fn store() -> (tempfile::TempDir, SqliteStore) {
        let dir = tempfile::tempdir().expect("tempdir");
        let s = SqliteStore::open(&dir.path().join("t.db").to_string_lossy()).expect("open");
        (dir, s)
    }

    #[test]
    fn contacts_round_trip_and_phone_index() {
        let (_d, s) = store();
        let mut cust = Customer::new();
        cust.values[Field::name.idx()] = Some(Value::Text("ACME".into()));
        let cust = s.create_customer(&cust).expect("customer");
        let mut c = Contact::new(cust.id);
        c.texts[1] = Some("Doe".into());
        c.landline_e164 = Some("+33123456789".into());
        c.civility = Some(2);
        let c = s.create_contact(&c).expect("contact");
        assert_eq!(s.contact(c.id).expect("read"), c);
        assert_eq!(s.contacts_of(cust.id).expect("list").len(), 1);
        assert_eq!(
            s.contact_by_phone("+33123456789")
                .expect("by phone")
                .map(|x| x.id),
            Some(c.id)
        );
        assert_eq!(
            s.contact_by_phone("+1123456789")
                .expect("by last9")
                .map(|x| x.id),
            Some(c.id)
        );
        // a possible foreign number is whole: no last-9 fallback
        assert_eq!(
            s.contact_by_phone("+32123456789")
                .expect("by phone")
                .map(|x| x.id),
            None
        );
        let d = s
            .routing_data(&RoutingScope::Contacts(vec![c.id]))
            .expect("routing");
        assert_eq!(d.phones.len(), 1);
        assert_eq!(d.phones[0].contact_id, Some(c.id));
        let rev = s.last_change().expect("rev");
        s.delete_contact(c.id).expect("delete");
        let ch = s.changes_since(rev, 10).expect("changes");
        assert_eq!(ch.len(), 1);
        assert_eq!((ch[0].kind.as_str(), ch[0].item), ("contact", c.id));
        assert!(s.contact_by_phone("+33123456789").expect("gone").is_none());
        assert!(matches!(
            s.create_contact(&Contact::new(999)),
            Err(StoreError::NotFound)
        ));
    }

    #[test]
    fn users_and_tokens() {
        let (_d, s) = store();
        let u = s
            .create_user("Ann", "Ann@Example.fr", "hash")
            .expect("user");
        assert_eq!(
            s.user_by_email("ann@example.fr ").expect("by email").id,
            u.id
        );
        assert!(matches!(
            s.create_user("B", "ann@example.fr", "h"),
            Err(StoreError::Conflict(_))
        ));
        s.create_token("pbx", "abc", "lookup", Some("10.0.0.0/8"), None)
            .expect("token");
        let t = s.tokens().expect("tokens");
        assert_eq!(t.len(), 1);
        assert_eq!(t[0].allow.as_deref(), Some("10.0.0.0/8"));
        assert_eq!(
            s.changes_since(0, 10)
                .expect("feed")
                .last()
                .map(|c| c.kind.clone()),
            Some("token".to_string())
        );
    }
}

#[cfg(test)]
mod web_tests {
    use crate::schema::{self, Dialect};
    use crate::sqlite::SqliteStore;
    use crate::{ApiStore, StoreError, UploadFile, WebStore};

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

    /// A schema 7 database (trigram index without positions) gets its trigram index made
    /// again with them, holding the names already there, and name searches find them.
    #[test]
    fn version_7_trigram_index_gains_positions() {
        use crate::{ListQuery, Store};
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("v7.db");
        let path = path.to_string_lossy();
        let s = SqliteStore::open(&path).expect("open");
        let mut c = clientele_core::model::Customer::new();
        c.values[clientele_core::Field::name.idx()] = Some(clientele_core::model::Value::Text(
            "Boulangerie Éclair".into(),
        ));
        s.create_customer(&c).expect("create");
        drop(s);
        {
            let c = rusqlite::Connection::open(&*path).expect("open");
            c.execute_batch(&format!(
                "DROP TABLE {0}; \
                 CREATE VIRTUAL TABLE {0} USING fts5(search, content='customers', content_rowid='id', tokenize='trigram', detail='none'); \
                 INSERT INTO {0} ({0}) VALUES ('rebuild'); PRAGMA user_version = 7",
                schema::SQLITE_FTS
            ))
            .expect("schema 7");
        }
        let s = SqliteStore::open(&path).expect("upgrade");
        let sql: String = s
            .pool()
            .get()
            .expect("conn")
            .query_row(
                "SELECT sql FROM sqlite_master WHERE name = ?1",
                [schema::SQLITE_FTS],
                |r| r.get(0),
            )
            .expect("fts table");
        assert!(sql.contains("detail='full'"), "{sql}");
        let (found, n) = s
            .list_customers(&ListQuery {
                name: Some("eclair".into()),
                limit: 5,
                ..ListQuery::default()
            })
            .expect("search");
        assert_eq!((found.len(), n), (1, 1));
    }
}
