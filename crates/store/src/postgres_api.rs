//! The PostgreSQL implementation of [`ApiStore`]: users, tokens, contacts, the change feed
//! and the rows of the routing index. Mirrors `sqlite_api.rs`.

use crate::contact_label;
use crate::postgres::{record_audit, record_change, refs, PgStore, P};
use crate::schema::{contact_columns, contact_select};
use crate::{
    ApiStore, ChangeRecord, Result, RoutingContact, RoutingCustomer, RoutingData, RoutingPhone,
    RoutingRow, RoutingScope, StoreError, TokenRecord, User,
};
use ::postgres::{GenericClient, Row};
use clientele_core::contact::Contact;
use clientele_core::ident::phone;

fn contact_from_row(r: &Row) -> Result<Contact> {
    let mut c = Contact::new(r.try_get(1)?);
    c.id = r.try_get(0)?;
    c.civility = r.try_get(2)?;
    let mut i = 3;
    for t in c.texts.iter_mut() {
        *t = r.try_get(i)?;
        i += 1;
    }
    c.mobile_e164 = r.try_get(i)?;
    c.landline_e164 = r.try_get(i + 1)?;
    i += 2;
    for f in c.flags.iter_mut() {
        *f = r.try_get::<_, i64>(i)? != 0;
        i += 1;
    }
    c.created_at = r.try_get(i)?;
    c.updated_at = r.try_get(i + 1)?;
    Ok(c)
}

/// Bind values for [`contact_columns`], without created_at when `with_created` is false.
fn contact_params(c: &Contact, with_created: bool) -> Vec<P> {
    let mut p: Vec<P> = vec![Box::new(c.customer_id), Box::new(c.civility)];
    p.extend(c.texts.iter().map(|t| Box::new(t.clone()) as P));
    p.push(Box::new(c.mobile_e164.clone()));
    p.push(Box::new(c.landline_e164.clone()));
    p.extend(c.flags.iter().map(|b| Box::new(i64::from(*b)) as P));
    if with_created {
        p.push(Box::new(c.created_at.clone()));
    }
    p.push(Box::new(c.updated_at.clone()));
    p
}

/// Insert a contact and index its phones; returns its id.
pub(crate) fn insert_contact(
    conn: &mut impl GenericClient,
    c: &Contact,
    created_import: Option<i64>,
) -> Result<i64> {
    let cols = contact_columns();
    let marks = (1..=cols.len() + 1)
        .map(|i| format!("${i}"))
        .collect::<Vec<_>>()
        .join(", ");
    let sql = format!(
        "INSERT INTO contacts ({}, created_import) VALUES ({marks}) RETURNING id",
        cols.join(", ")
    );
    let mut p = contact_params(c, true);
    p.push(Box::new(created_import));
    let id: i64 = conn.query_one(&sql, &refs(&p))?.try_get(0)?;
    write_contact_phones(conn, id, c, true)?;
    Ok(id)
}

fn write_contact_phones(
    conn: &mut impl GenericClient,
    id: i64,
    c: &Contact,
    fresh: bool,
) -> Result<()> {
    if !fresh {
        conn.execute("DELETE FROM phones WHERE contact_id = $1", &[&id])?;
    }
    for e in c.e164s() {
        conn.execute(
            "INSERT INTO phones (e164, last9, customer_id, contact_id) VALUES ($1, $2, $3, $4)",
            &[&e, &phone::last9(e), &c.customer_id, &id],
        )?;
    }
    Ok(())
}

pub(crate) fn user_from_row(r: &Row) -> Result<User> {
    Ok(User {
        id: r.try_get(0)?,
        name: r.try_get(1)?,
        email: r.try_get(2)?,
        password_hash: r.try_get(3)?,
    })
}

const ROUTING_CUSTOMER: &str = "SELECT id, COALESCE(\"customerAccount\", ''), COALESCE(name, ''), COALESCE(active, 1), COALESCE(vip, 0), COALESCE(\"onCallDuty\", 0), updated_at FROM customers";
const CONTACT_SEL: &str = "SELECT id, customer_id FROM contacts";
const PHONE_SEL: &str = "SELECT e164, customer_id, contact_id FROM phones";

fn routing_customer(r: &Row) -> Result<RoutingCustomer> {
    Ok(RoutingCustomer {
        id: r.try_get(0)?,
        account: r.try_get(1)?,
        name: r.try_get(2)?,
        active: r.try_get::<_, i64>(3)? != 0,
        vip: r.try_get::<_, i64>(4)? != 0,
        on_call: r.try_get::<_, i64>(5)? != 0,
        updated_at: r.try_get(6)?,
    })
}

fn routing_contact(r: &Row) -> Result<RoutingContact> {
    Ok(RoutingContact {
        id: r.try_get(0)?,
        customer_id: r.try_get(1)?,
    })
}

fn routing_phone(r: &Row) -> Result<RoutingPhone> {
    Ok(RoutingPhone {
        e164: r.try_get(0)?,
        customer_id: r.try_get(1)?,
        contact_id: r.try_get(2)?,
    })
}

fn query_all<T>(
    c: &mut impl GenericClient,
    sql: &str,
    p: &[P],
    f: fn(&Row) -> Result<T>,
) -> Result<Vec<T>> {
    c.query(sql, &refs(p))?.iter().map(f).collect()
}

impl ApiStore for PgStore {
    fn ping(&self, timeout: std::time::Duration) -> Result<i64> {
        self.ping_server(timeout)
    }

    fn pool_state(&self) -> crate::ops::PoolState {
        self.pool_figures()
    }

    fn create_user(&self, name: &str, email: &str, password_hash: &str) -> Result<User> {
        let mut c = self.conn()?;
        let email = email.trim().to_lowercase();
        let row = c
            .query_one("INSERT INTO users (name, email, password_hash, created_at) VALUES ($1, $2, $3, $4) RETURNING id", &[&name, &email, &password_hash, &crate::now()])
            .map_err(|e| match StoreError::from(e) {
                StoreError::Conflict(_) => StoreError::Conflict(format!("a user with the e-mail {email} already exists")),
                other => other,
            })?;
        Ok(User {
            id: row.try_get(0)?,
            name: name.to_string(),
            email,
            password_hash: password_hash.to_string(),
        })
    }

    fn user_by_email(&self, email: &str) -> Result<User> {
        let row = self.conn()?.query_opt(
            "SELECT id, name, email, password_hash FROM users WHERE email = $1",
            &[&email.trim().to_lowercase()],
        )?;
        user_from_row(&row.ok_or(StoreError::NotFound)?)
    }

    fn create_token(
        &self,
        name: &str,
        hash: &str,
        scope: &str,
        allow: Option<&str>,
        user_id: Option<i64>,
    ) -> Result<i64> {
        let mut c = self.conn()?;
        let mut tx = c.transaction()?;
        let id: i64 = tx
            .query_one(
                "INSERT INTO tokens (name, hash, scope, allow, user_id, created_at) VALUES ($1, $2, $3, $4, $5, $6) RETURNING id",
                &[&name, &hash, &scope, &allow, &user_id, &crate::now()],
            )?
            .try_get(0)?;
        record_change(&mut tx, "token", id)?;
        tx.commit()?;
        Ok(id)
    }

    fn tokens(&self) -> Result<Vec<TokenRecord>> {
        query_all(
            &mut *self.conn()?,
            &format!("{} ORDER BY t.id", crate::postgres_tokens::TOKEN_SELECT),
            &[],
            crate::postgres_tokens::token_from_row,
        )
    }

    fn contact(&self, id: i64) -> Result<Contact> {
        let row = self
            .conn()?
            .query_opt(&format!("{} WHERE id = $1", contact_select()), &[&id])?;
        contact_from_row(&row.ok_or(StoreError::NotFound)?)
    }

    fn contacts_of(&self, customer_id: i64) -> Result<Vec<Contact>> {
        query_all(
            &mut *self.conn()?,
            &format!("{} WHERE customer_id = $1 ORDER BY id", contact_select()),
            &[Box::new(customer_id)],
            contact_from_row,
        )
    }

    fn create_contact(&self, contact: &Contact) -> Result<Contact> {
        let mut c = self.conn()?;
        let mut tx = c.transaction()?;
        // FOR SHARE: the customer cannot be deleted before this contact commits.
        if tx
            .query_opt(
                "SELECT id FROM customers WHERE id = $1 FOR SHARE",
                &[&contact.customer_id],
            )?
            .is_none()
        {
            return Err(StoreError::NotFound);
        }
        let mut contact = contact.clone();
        let now = crate::now();
        contact.created_at.clone_from(&now);
        contact.updated_at = now;
        contact.id = insert_contact(&mut tx, &contact, None)?;
        record_audit(
            &mut tx,
            "contact.create",
            contact.customer_id,
            Some(&contact_label(&contact)),
        )?;
        record_change(&mut tx, "contact", contact.id)?;
        tx.commit()?;
        Ok(contact)
    }

    fn update_contact(&self, contact: &Contact) -> Result<Contact> {
        let mut c = self.conn()?;
        let mut tx = c.transaction()?;
        let mut contact = contact.clone();
        contact.updated_at = crate::now();
        let cols: Vec<String> = contact_columns()
            .into_iter()
            .filter(|c| c != "created_at")
            .collect();
        let sets = cols
            .iter()
            .enumerate()
            .map(|(i, c)| format!("{c} = ${}", i + 1))
            .collect::<Vec<_>>()
            .join(", ");
        let mut p = contact_params(&contact, false);
        p.push(Box::new(contact.id));
        let n = tx.execute(
            &format!("UPDATE contacts SET {sets} WHERE id = ${}", cols.len() + 1),
            &refs(&p),
        )?;
        if n == 0 {
            return Err(StoreError::NotFound);
        }
        write_contact_phones(&mut tx, contact.id, &contact, false)?;
        record_audit(
            &mut tx,
            "contact.update",
            contact.customer_id,
            Some(&contact_label(&contact)),
        )?;
        record_change(&mut tx, "contact", contact.id)?;
        tx.commit()?;
        Ok(contact)
    }

    fn delete_contact(&self, id: i64) -> Result<()> {
        let mut c = self.conn()?;
        let mut tx = c.transaction()?;
        let Some(row) = tx.query_opt(
            &format!("{} WHERE id = $1 FOR UPDATE", contact_select()),
            &[&id],
        )?
        else {
            return Err(StoreError::NotFound);
        };
        let old = contact_from_row(&row)?;
        tx.execute("DELETE FROM phones WHERE contact_id = $1", &[&id])?;
        tx.execute("DELETE FROM contacts WHERE id = $1", &[&id])?;
        record_audit(
            &mut tx,
            "contact.delete",
            old.customer_id,
            Some(&contact_label(&old)),
        )?;
        record_change(&mut tx, "contact", id)?;
        tx.commit()?;
        Ok(())
    }

    fn contact_by_phone(&self, e164: &str) -> Result<Option<Contact>> {
        let mut c = self.conn()?;
        let sql = format!(
            "{} WHERE id IN (SELECT contact_id FROM phones WHERE contact_id IS NOT NULL AND {{}} = $1) ORDER BY updated_at COLLATE \"C\" DESC, id DESC LIMIT 1",
            contact_select()
        );
        // A valid foreign number matches whole (see `phone::is_foreign`).
        let fallback = (!phone::is_foreign(e164)).then(|| ("last9", phone::last9(e164)));
        for (col, key) in std::iter::once(("e164", e164)).chain(fallback) {
            if let Some(r) = c.query_opt(&sql.replace("{}", col), &[&key])? {
                return Ok(Some(contact_from_row(&r)?));
            }
        }
        Ok(None)
    }

    fn count_contacts(&self) -> Result<u64> {
        let n: i64 = self
            .conn()?
            .query_one("SELECT COUNT(*) FROM contacts", &[])?
            .try_get(0)?;
        Ok(n as u64)
    }

    fn last_change(&self) -> Result<i64> {
        Ok(self
            .conn()?
            .query_one("SELECT COALESCE(MAX(rev), 0)::bigint FROM changes", &[])?
            .try_get(0)?)
    }

    fn changes_since(&self, rev: i64, limit: u64) -> Result<Vec<ChangeRecord>> {
        let limit = i64::try_from(limit).unwrap_or(i64::MAX);
        let rows = self.conn()?.query(
            "SELECT rev, kind, item FROM changes WHERE rev > $1 ORDER BY rev LIMIT $2",
            &[&rev, &limit],
        )?;
        rows.iter()
            .map(|r| {
                Ok(ChangeRecord {
                    rev: r.try_get(0)?,
                    kind: r.try_get(1)?,
                    item: r.try_get(2)?,
                })
            })
            .collect()
    }

    fn routing_scan(&self, visit: &mut dyn FnMut(RoutingRow)) -> Result<()> {
        let mut c = self.conn()?;
        // One snapshot, so customers, contacts and phones agree with each other.
        let mut tx = c
            .build_transaction()
            .isolation_level(::postgres::IsolationLevel::RepeatableRead)
            .read_only(true)
            .start()?;
        let n = tx.query_one(
            "SELECT (SELECT COUNT(*) FROM customers), (SELECT COUNT(*) FROM contacts), (SELECT COUNT(*) FROM phones)",
            &[],
        )?;
        let count =
            |i: usize| -> Result<u64> { Ok(u64::try_from(n.try_get::<_, i64>(i)?).unwrap_or(0)) };
        visit(RoutingRow::Counts {
            customers: count(0)?,
            contacts: count(1)?,
            phones: count(2)?,
        });
        // A portal read in chunks: the client never holds more than CHUNK rows.
        const CHUNK: i32 = 10_000;
        let customers = tx.bind(format!("{ROUTING_CUSTOMER} ORDER BY id").as_str(), &[])?;
        loop {
            let rows = tx.query_portal(&customers, CHUNK)?;
            for r in &rows {
                visit(RoutingRow::Customer(routing_customer(r)?));
            }
            if rows.len() < CHUNK as usize {
                break;
            }
        }
        let contacts = tx.bind(format!("{CONTACT_SEL} ORDER BY id").as_str(), &[])?;
        loop {
            let rows = tx.query_portal(&contacts, CHUNK)?;
            for r in &rows {
                visit(RoutingRow::Contact(routing_contact(r)?));
            }
            if rows.len() < CHUNK as usize {
                break;
            }
        }
        let phones = tx.bind(PHONE_SEL, &[])?;
        loop {
            let rows = tx.query_portal(&phones, CHUNK)?;
            for r in &rows {
                visit(RoutingRow::Phone(routing_phone(r)?));
            }
            if rows.len() < CHUNK as usize {
                break;
            }
        }
        tx.commit()?;
        Ok(())
    }

    fn routing_data(&self, scope: &RoutingScope) -> Result<RoutingData> {
        let mut c = self.conn()?;
        Ok(match scope {
            RoutingScope::All => {
                // One snapshot, so customers, contacts and phones agree with each other.
                let mut tx = c
                    .build_transaction()
                    .isolation_level(::postgres::IsolationLevel::RepeatableRead)
                    .read_only(true)
                    .start()?;
                let d = RoutingData {
                    customers: query_all(&mut tx, ROUTING_CUSTOMER, &[], routing_customer)?,
                    contacts: query_all(&mut tx, CONTACT_SEL, &[], routing_contact)?,
                    phones: query_all(&mut tx, PHONE_SEL, &[], routing_phone)?,
                };
                tx.commit()?;
                d
            }
            RoutingScope::Customers(ids) => {
                let p: Vec<P> = vec![Box::new(ids.clone())];
                RoutingData {
                    customers: query_all(
                        &mut *c,
                        &format!("{ROUTING_CUSTOMER} WHERE id = ANY($1)"),
                        &p,
                        routing_customer,
                    )?,
                    contacts: Vec::new(),
                    phones: query_all(
                        &mut *c,
                        &format!("{PHONE_SEL} WHERE contact_id IS NULL AND customer_id = ANY($1)"),
                        &p,
                        routing_phone,
                    )?,
                }
            }
            RoutingScope::Contacts(ids) => {
                let p: Vec<P> = vec![Box::new(ids.clone())];
                RoutingData {
                    customers: Vec::new(),
                    contacts: query_all(
                        &mut *c,
                        &format!("{CONTACT_SEL} WHERE id = ANY($1)"),
                        &p,
                        routing_contact,
                    )?,
                    phones: query_all(
                        &mut *c,
                        &format!("{PHONE_SEL} WHERE contact_id = ANY($1)"),
                        &p,
                        routing_phone,
                    )?,
                }
            }
        })
    }
}
