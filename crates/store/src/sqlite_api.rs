//! The SQLite implementation of [`ApiStore`]: users, tokens, contacts, the change feed and
//! the rows of the routing index.

use crate::contact_label;
use crate::schema::{contact_columns, contact_select};
use crate::sqlite::{record_audit, record_change, SqliteStore};
use crate::{
    ApiStore, ChangeRecord, Result, RoutingContact, RoutingCustomer, RoutingData, RoutingPhone,
    RoutingRow, RoutingScope, StoreError, TokenRecord, User,
};
use clientele_core::contact::Contact;
use clientele_core::ident::phone;
use rusqlite::types::Value as SqlValue;
use rusqlite::{params, params_from_iter, Connection, OptionalExtension, Row};

fn contact_from_row(r: &Row) -> rusqlite::Result<Contact> {
    let mut c = Contact::new(r.get(1)?);
    c.id = r.get(0)?;
    c.civility = r.get(2)?;
    let mut i = 3;
    for t in c.texts.iter_mut() {
        *t = r.get(i)?;
        i += 1;
    }
    c.mobile_e164 = r.get(i)?;
    c.landline_e164 = r.get(i + 1)?;
    i += 2;
    for f in c.flags.iter_mut() {
        *f = r.get::<_, i64>(i)? != 0;
        i += 1;
    }
    c.created_at = r.get(i)?;
    c.updated_at = r.get(i + 1)?;
    Ok(c)
}

fn contact_params(c: &Contact) -> Vec<SqlValue> {
    let mut p = vec![
        SqlValue::Integer(c.customer_id),
        c.civility.map_or(SqlValue::Null, SqlValue::Integer),
    ];
    p.extend(
        c.texts
            .iter()
            .map(|t| t.clone().map_or(SqlValue::Null, SqlValue::Text)),
    );
    p.push(c.mobile_e164.clone().map_or(SqlValue::Null, SqlValue::Text));
    p.push(
        c.landline_e164
            .clone()
            .map_or(SqlValue::Null, SqlValue::Text),
    );
    p.extend(c.flags.iter().map(|b| SqlValue::Integer(i64::from(*b))));
    p.push(SqlValue::Text(c.created_at.clone()));
    p.push(SqlValue::Text(c.updated_at.clone()));
    p
}

/// Insert a contact and index its phones; returns its id. Shared with the import.
pub(crate) fn insert_contact(
    conn: &Connection,
    c: &Contact,
    created_import: Option<i64>,
) -> rusqlite::Result<i64> {
    let cols = contact_columns();
    let marks = (1..=cols.len() + 1)
        .map(|i| format!("?{i}"))
        .collect::<Vec<_>>()
        .join(", ");
    let sql = format!(
        "INSERT INTO contacts ({}, created_import) VALUES ({marks})",
        cols.join(", ")
    );
    let mut p = contact_params(c);
    p.push(created_import.map_or(SqlValue::Null, SqlValue::Integer));
    conn.prepare_cached(&sql)?.execute(params_from_iter(p))?;
    let id = conn.last_insert_rowid();
    write_contact_phones(conn, id, c, true)?;
    Ok(id)
}

fn write_contact_phones(
    conn: &Connection,
    id: i64,
    c: &Contact,
    fresh: bool,
) -> rusqlite::Result<()> {
    if !fresh {
        conn.prepare_cached("DELETE FROM phones WHERE contact_id = ?1")?
            .execute([id])?;
    }
    for e in c.e164s() {
        conn.prepare_cached(
            "INSERT INTO phones (e164, last9, customer_id, contact_id) VALUES (?1, ?2, ?3, ?4)",
        )?
        .execute(params![e, phone::last9(e), c.customer_id, id])?;
    }
    Ok(())
}

pub(crate) fn user_from_row(r: &Row) -> rusqlite::Result<User> {
    Ok(User {
        id: r.get(0)?,
        name: r.get(1)?,
        email: r.get(2)?,
        password_hash: r.get(3)?,
    })
}

/// `?1, ?2, …` for `n` ids, and the ids as parameters.
fn id_list(ids: &[i64]) -> (String, Vec<SqlValue>) {
    let marks = (1..=ids.len())
        .map(|i| format!("?{i}"))
        .collect::<Vec<_>>()
        .join(", ");
    (marks, ids.iter().map(|i| SqlValue::Integer(*i)).collect())
}

const ROUTING_CONTACT: &str = "SELECT id, customer_id FROM contacts";
const ROUTING_PHONE: &str = "SELECT e164, customer_id, contact_id FROM phones";
const ROUTING_CUSTOMER: &str = "SELECT id, COALESCE(\"customerAccount\", ''), COALESCE(name, ''), COALESCE(active, 1), COALESCE(vip, 0), COALESCE(\"onCallDuty\", 0), updated_at FROM customers";

fn routing_customer(r: &Row) -> rusqlite::Result<RoutingCustomer> {
    Ok(RoutingCustomer {
        id: r.get(0)?,
        account: r.get(1)?,
        name: r.get(2)?,
        active: r.get::<_, i64>(3)? != 0,
        vip: r.get::<_, i64>(4)? != 0,
        on_call: r.get::<_, i64>(5)? != 0,
        updated_at: r.get(6)?,
    })
}

fn routing_contact(r: &Row) -> rusqlite::Result<RoutingContact> {
    Ok(RoutingContact {
        id: r.get(0)?,
        customer_id: r.get(1)?,
    })
}

fn routing_phone(r: &Row) -> rusqlite::Result<RoutingPhone> {
    Ok(RoutingPhone {
        e164: r.get(0)?,
        customer_id: r.get(1)?,
        contact_id: r.get(2)?,
    })
}

fn query_all<T>(
    c: &Connection,
    sql: &str,
    p: &[SqlValue],
    f: fn(&Row) -> rusqlite::Result<T>,
) -> Result<Vec<T>> {
    let mut st = c.prepare(sql)?;
    let rows = st
        .query_map(params_from_iter(p.iter()), f)?
        .collect::<rusqlite::Result<Vec<T>>>()?;
    Ok(rows)
}

impl ApiStore for SqliteStore {
    fn ping(&self, timeout: std::time::Duration) -> Result<i64> {
        self.ping_file(timeout)
    }

    fn pool_state(&self) -> crate::ops::PoolState {
        self.pool_figures()
    }

    fn create_user(&self, name: &str, email: &str, password_hash: &str) -> Result<User> {
        let c = self.pool().get()?;
        let email = email.trim().to_lowercase();
        c.execute(
            "INSERT INTO users (name, email, password_hash, created_at) VALUES (?1, ?2, ?3, ?4)",
            params![name, email, password_hash, crate::now()],
        )
        .map_err(|e| match StoreError::from(e) {
            StoreError::Conflict(_) => {
                StoreError::Conflict(format!("a user with the e-mail {email} already exists"))
            }
            other => other,
        })?;
        Ok(User {
            id: c.last_insert_rowid(),
            name: name.to_string(),
            email,
            password_hash: password_hash.to_string(),
        })
    }

    fn user_by_email(&self, email: &str) -> Result<User> {
        let c = self.pool().get()?;
        let u = c
            .prepare_cached("SELECT id, name, email, password_hash FROM users WHERE email = ?1")?
            .query_row([email.trim().to_lowercase()], user_from_row)?;
        Ok(u)
    }

    fn create_token(
        &self,
        name: &str,
        hash: &str,
        scope: &str,
        allow: Option<&str>,
        user_id: Option<i64>,
    ) -> Result<i64> {
        let mut c = self.pool().get()?;
        let tx = c.transaction()?;
        tx.execute(
            "INSERT INTO tokens (name, hash, scope, allow, user_id, created_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
            params![name, hash, scope, allow, user_id, crate::now()],
        )?;
        let id = tx.last_insert_rowid();
        record_change(&tx, "token", id)?;
        tx.commit()?;
        Ok(id)
    }

    fn tokens(&self) -> Result<Vec<TokenRecord>> {
        let c = self.pool().get()?;
        query_all(
            &c,
            &format!("{} ORDER BY t.id", crate::sqlite_tokens::TOKEN_SELECT),
            &[],
            crate::sqlite_tokens::token_from_row,
        )
    }

    fn contact(&self, id: i64) -> Result<Contact> {
        let c = self.pool().get()?;
        let contact = c
            .prepare_cached(&format!("{} WHERE id = ?1", contact_select()))?
            .query_row([id], contact_from_row)?;
        Ok(contact)
    }

    fn contacts_of(&self, customer_id: i64) -> Result<Vec<Contact>> {
        let c = self.pool().get()?;
        query_all(
            &c,
            &format!("{} WHERE customer_id = ?1 ORDER BY id", contact_select()),
            &[SqlValue::Integer(customer_id)],
            contact_from_row,
        )
    }

    fn create_contact(&self, contact: &Contact) -> Result<Contact> {
        let mut c = self.pool().get()?;
        let tx = c.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
        let exists: Option<i64> = tx
            .query_row(
                "SELECT id FROM customers WHERE id = ?1",
                [contact.customer_id],
                |r| r.get(0),
            )
            .optional()?;
        if exists.is_none() {
            return Err(StoreError::NotFound);
        }
        let mut contact = contact.clone();
        let now = crate::now();
        contact.created_at.clone_from(&now);
        contact.updated_at = now;
        contact.id = insert_contact(&tx, &contact, None)?;
        record_audit(
            &tx,
            "contact.create",
            contact.customer_id,
            Some(&contact_label(&contact)),
        )?;
        record_change(&tx, "contact", contact.id)?;
        tx.commit()?;
        Ok(contact)
    }

    fn update_contact(&self, contact: &Contact) -> Result<Contact> {
        let mut c = self.pool().get()?;
        let tx = c.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
        let mut contact = contact.clone();
        contact.updated_at = crate::now();
        let cols = contact_columns();
        let sets = cols
            .iter()
            .enumerate()
            .filter(|(_, c)| *c != "created_at")
            .map(|(i, c)| format!("{c} = ?{}", i + 1))
            .collect::<Vec<_>>()
            .join(", ");
        let mut p = contact_params(&contact);
        p.push(SqlValue::Integer(contact.id));
        let n = tx
            .prepare_cached(&format!(
                "UPDATE contacts SET {sets} WHERE id = ?{}",
                cols.len() + 1
            ))?
            .execute(params_from_iter(p))?;
        if n == 0 {
            return Err(StoreError::NotFound);
        }
        write_contact_phones(&tx, contact.id, &contact, false)?;
        record_audit(
            &tx,
            "contact.update",
            contact.customer_id,
            Some(&contact_label(&contact)),
        )?;
        record_change(&tx, "contact", contact.id)?;
        tx.commit()?;
        Ok(contact)
    }

    fn delete_contact(&self, id: i64) -> Result<()> {
        let mut c = self.pool().get()?;
        let tx = c.transaction()?;
        let Some(old) = tx
            .prepare_cached(&format!("{} WHERE id = ?1", contact_select()))?
            .query_row([id], contact_from_row)
            .optional()?
        else {
            return Err(StoreError::NotFound);
        };
        tx.execute("DELETE FROM phones WHERE contact_id = ?1", [id])?;
        tx.execute("DELETE FROM contacts WHERE id = ?1", [id])?;
        record_audit(
            &tx,
            "contact.delete",
            old.customer_id,
            Some(&contact_label(&old)),
        )?;
        record_change(&tx, "contact", id)?;
        tx.commit()?;
        Ok(())
    }

    fn contact_by_phone(&self, e164: &str) -> Result<Option<Contact>> {
        let c = self.pool().get()?;
        let sql = format!(
            "{} WHERE id IN (SELECT contact_id FROM phones WHERE contact_id IS NOT NULL AND {{}} = ?1) ORDER BY updated_at DESC, id DESC LIMIT 1",
            contact_select()
        );
        // A valid foreign number matches whole (see `phone::is_foreign`).
        let fallback = (!phone::is_foreign(e164)).then(|| ("last9", phone::last9(e164)));
        for (col, key) in std::iter::once(("e164", e164)).chain(fallback) {
            let found = c
                .prepare_cached(&sql.replace("{}", col))?
                .query_row([key], contact_from_row)
                .optional()?;
            if found.is_some() {
                return Ok(found);
            }
        }
        Ok(None)
    }

    fn count_contacts(&self) -> Result<u64> {
        let c = self.pool().get()?;
        let n: i64 = c.query_row("SELECT COUNT(*) FROM contacts", [], |r| r.get(0))?;
        Ok(n as u64)
    }

    fn last_change(&self) -> Result<i64> {
        let c = self.pool().get()?;
        Ok(
            c.query_row("SELECT COALESCE(MAX(rev), 0) FROM changes", [], |r| {
                r.get(0)
            })?,
        )
    }

    fn changes_since(&self, rev: i64, limit: u64) -> Result<Vec<ChangeRecord>> {
        let c = self.pool().get()?;
        let mut st = c.prepare_cached(
            "SELECT rev, kind, item FROM changes WHERE rev > ?1 ORDER BY rev LIMIT ?2",
        )?;
        let rows = st
            .query_map(params![rev, limit as i64], |r| {
                Ok(ChangeRecord {
                    rev: r.get(0)?,
                    kind: r.get(1)?,
                    item: r.get(2)?,
                })
            })?
            .collect::<rusqlite::Result<Vec<_>>>()?;
        Ok(rows)
    }

    fn routing_scan(&self, visit: &mut dyn FnMut(RoutingRow)) -> Result<()> {
        let c = self.pool().get()?;
        // A sequential scan gains nothing from the connection's 32 MB page cache, and the
        // pages it would leave there stay resident next to the index: a small cache for the
        // scan, emptied and set back afterwards.
        c.execute_batch("PRAGMA cache_size = -2048")?;
        let scanned = scan_routing(&c, visit);
        c.execute_batch("PRAGMA shrink_memory; PRAGMA cache_size = -32768")?;
        scanned
    }

    fn routing_data(&self, scope: &RoutingScope) -> Result<RoutingData> {
        self.routing_data_of(scope)
    }
}

/// [`ApiStore::routing_scan`] on one connection.
fn scan_routing(c: &Connection, visit: &mut dyn FnMut(RoutingRow)) -> Result<()> {
    {
        // One read transaction: one snapshot for the counts and the three scans. Rows are
        // stepped one at a time, never collected.
        let tx = c.unchecked_transaction()?;
        let (customers, contacts, phones): (i64, i64, i64) = tx.query_row(
            "SELECT (SELECT COUNT(*) FROM customers), (SELECT COUNT(*) FROM contacts), (SELECT COUNT(*) FROM phones)",
            [],
            |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
        )?;
        let n = |v: i64| u64::try_from(v).unwrap_or(0);
        visit(RoutingRow::Counts {
            customers: n(customers),
            contacts: n(contacts),
            phones: n(phones),
        });
        {
            let mut st = tx.prepare(&format!("{ROUTING_CUSTOMER} ORDER BY id"))?;
            let mut rows = st.query([])?;
            while let Some(r) = rows.next()? {
                visit(RoutingRow::Customer(routing_customer(r)?));
            }
        }
        {
            let mut st = tx.prepare(&format!("{ROUTING_CONTACT} ORDER BY id"))?;
            let mut rows = st.query([])?;
            while let Some(r) = rows.next()? {
                visit(RoutingRow::Contact(routing_contact(r)?));
            }
        }
        {
            let mut st = tx.prepare(ROUTING_PHONE)?;
            let mut rows = st.query([])?;
            while let Some(r) = rows.next()? {
                visit(RoutingRow::Phone(routing_phone(r)?));
            }
        }
        tx.commit()?;
        Ok(())
    }
}

impl SqliteStore {
    fn routing_data_of(&self, scope: &RoutingScope) -> Result<RoutingData> {
        let c = self.pool().get()?;
        Ok(match scope {
            RoutingScope::All => RoutingData {
                customers: query_all(&c, ROUTING_CUSTOMER, &[], routing_customer)?,
                contacts: query_all(&c, ROUTING_CONTACT, &[], routing_contact)?,
                phones: query_all(&c, ROUTING_PHONE, &[], routing_phone)?,
            },
            RoutingScope::Customers(ids) => {
                let mut d = RoutingData::default();
                for chunk in ids.chunks(500) {
                    let (marks, p) = id_list(chunk);
                    d.customers.extend(query_all(
                        &c,
                        &format!("{ROUTING_CUSTOMER} WHERE id IN ({marks})"),
                        &p,
                        routing_customer,
                    )?);
                    d.phones.extend(query_all(
                        &c,
                        &format!(
                            "{ROUTING_PHONE} WHERE contact_id IS NULL AND customer_id IN ({marks})"
                        ),
                        &p,
                        routing_phone,
                    )?);
                }
                d
            }
            RoutingScope::Contacts(ids) => {
                let mut d = RoutingData::default();
                for chunk in ids.chunks(500) {
                    let (marks, p) = id_list(chunk);
                    d.contacts.extend(query_all(
                        &c,
                        &format!("{ROUTING_CONTACT} WHERE id IN ({marks})"),
                        &p,
                        routing_contact,
                    )?);
                    d.phones.extend(query_all(
                        &c,
                        &format!("{ROUTING_PHONE} WHERE contact_id IN ({marks})"),
                        &p,
                        routing_phone,
                    )?);
                }
                d
            }
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Store;
    use clientele_core::model::{Customer, Value};
    use clientele_core::F;

    fn store() -> (tempfile::TempDir, SqliteStore) {
        let dir = tempfile::tempdir().expect("tempdir");
        let s = SqliteStore::open(&dir.path().join("t.db").to_string_lossy()).expect("open");
        (dir, s)
    }

    #[test]
    fn contacts_round_trip_and_phone_index() {
        let (_d, s) = store();
        let mut cust = Customer::new();
        cust.values[F::name.idx()] = Some(Value::Text("ACME".into()));
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
