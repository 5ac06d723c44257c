//! The change feed and the rows of the routing index, and [`ApiStore`] over them.

use super::{contacts, count, people, Backend};
use crate::rows::{self, ROUTING_CONTACT, ROUTING_CUSTOMER, ROUTING_PHONE};
use crate::sql::{marks, Arg, Db, Lock};
use crate::{
    ApiStore, ChangeRecord, Result, RoutingData, RoutingRow, RoutingScope, TokenRecord, User,
};
use clientele_core::contact::Contact;

/// Append to the change feed; call it last, just before commit (on PostgreSQL it holds the
/// changes lock to commit, so that revisions become visible in order).
pub(crate) fn record_change(db: &mut dyn Db, kind: &str, item: i64) -> Result<()> {
    db.lock(Lock::Changes)?;
    db.execute(
        "INSERT INTO changes (kind, item) VALUES (?1, ?2)",
        &[kind.into(), Arg::Int(item)],
    )?;
    Ok(())
}

/// The customers changed after revision `from` up to `to`, sorted, each once; None when
/// one of the changes stands for many rows (an import, an undo) or there are more than
/// `at_most` (what is kept of the customers had better be read again whole).
pub(crate) fn customers_changed(
    db: &mut dyn Db,
    from: i64,
    to: i64,
    at_most: i64,
) -> Result<Option<Vec<i64>>> {
    let changes = db.query_vec(
        "SELECT kind, item FROM changes WHERE rev > ?1 AND rev <= ?2 ORDER BY rev LIMIT ?3",
        &[Arg::Int(from), Arg::Int(to), Arg::Int(at_most + 1)],
        |r| Ok((r.text0(0)?, r.int0(1)?)),
    )?;
    if changes.len() as i64 > at_most || changes.iter().any(|(k, _)| k == "all") {
        return Ok(None);
    }
    // Contacts and tokens change no customer's own columns.
    let mut ids: Vec<i64> = changes
        .into_iter()
        .filter(|(k, _)| k == "customer")
        .map(|(_, id)| id)
        .collect();
    ids.sort_unstable();
    ids.dedup();
    Ok(Some(ids))
}

/// Every routing row, counts first, streamed (never all in memory).
fn scan(db: &mut dyn Db, visit: &mut dyn FnMut(RoutingRow)) -> Result<()> {
    let (customers, contacts, phones) = db.query_one(
        "SELECT (SELECT COUNT(*) FROM customers), (SELECT COUNT(*) FROM contacts), (SELECT COUNT(*) FROM phones)",
        &[],
        |r| Ok((r.count(0)?, r.count(1)?, r.count(2)?)),
    )?;
    visit(RoutingRow::Counts {
        customers,
        contacts,
        phones,
    });
    db.query_each(&format!("{ROUTING_CUSTOMER} ORDER BY id"), &[], &mut |r| {
        visit(RoutingRow::Customer(rows::routing_customer(r)?));
        Ok(())
    })?;
    db.query_each(&format!("{ROUTING_CONTACT} ORDER BY id"), &[], &mut |r| {
        visit(RoutingRow::Contact(rows::routing_contact(r)?));
        Ok(())
    })?;
    db.query_each(ROUTING_PHONE, &[], &mut |r| {
        visit(RoutingRow::Phone(rows::routing_phone(r)?));
        Ok(())
    })
}

/// The routing rows of some customers or contacts (after a change), or of everything.
fn data(db: &mut dyn Db, scope: &RoutingScope) -> Result<RoutingData> {
    let mut d = RoutingData::default();
    match scope {
        RoutingScope::All => {
            d.customers = db.query_vec(ROUTING_CUSTOMER, &[], rows::routing_customer)?;
            d.contacts = db.query_vec(ROUTING_CONTACT, &[], rows::routing_contact)?;
            d.phones = db.query_vec(ROUTING_PHONE, &[], rows::routing_phone)?;
        }
        RoutingScope::Customers(ids) => {
            for chunk in ids.chunks(500) {
                let (list, args) = (marks(1, chunk.len()), id_args(chunk));
                d.customers.extend(db.query_vec(
                    &format!("{ROUTING_CUSTOMER} WHERE id IN ({list})"),
                    &args,
                    rows::routing_customer,
                )?);
                d.phones.extend(db.query_vec(
                    &format!(
                        "{ROUTING_PHONE} WHERE contact_id IS NULL AND customer_id IN ({list})"
                    ),
                    &args,
                    rows::routing_phone,
                )?);
            }
        }
        RoutingScope::Contacts(ids) => {
            for chunk in ids.chunks(500) {
                let (list, args) = (marks(1, chunk.len()), id_args(chunk));
                d.contacts.extend(db.query_vec(
                    &format!("{ROUTING_CONTACT} WHERE id IN ({list})"),
                    &args,
                    rows::routing_contact,
                )?);
                d.phones.extend(db.query_vec(
                    &format!("{ROUTING_PHONE} WHERE contact_id IN ({list})"),
                    &args,
                    rows::routing_phone,
                )?);
            }
        }
    }
    Ok(d)
}

fn id_args(ids: &[i64]) -> Vec<Arg<'static>> {
    ids.iter().map(|&i| Arg::Int(i)).collect()
}

impl<B: Backend> ApiStore for B {
    fn ping(&self, timeout: std::time::Duration) -> Result<i64> {
        Backend::ping(self, timeout)
    }

    fn pool_state(&self) -> crate::ops::PoolState {
        Backend::pool_state(self)
    }

    fn create_user(&self, name: &str, email: &str, password_hash: &str) -> Result<User> {
        self.write(|db| people::create_user(db, name, email, password_hash))
    }

    fn user_by_email(&self, email: &str) -> Result<User> {
        self.read(|db| people::user_by_email(db, email))
    }

    fn create_token(
        &self,
        name: &str,
        hash: &str,
        scope: &str,
        allow: Option<&str>,
        user_id: Option<i64>,
    ) -> Result<i64> {
        let life = crate::TokenLife::default();
        self.write(|db| people::create_token(db, name, hash, scope, allow, user_id, &life))
    }

    fn tokens(&self) -> Result<Vec<TokenRecord>> {
        self.read(people::tokens)
    }

    fn contact(&self, id: i64) -> Result<Contact> {
        self.read(|db| contacts::get(db, id))
    }

    fn contacts_of(&self, customer_id: i64) -> Result<Vec<Contact>> {
        self.read(|db| contacts::of_customer(db, customer_id))
    }

    fn create_contact(&self, c: &Contact) -> Result<Contact> {
        self.write(|db| contacts::create(db, c))
    }

    fn update_contact(&self, c: &Contact) -> Result<Contact> {
        self.write(|db| contacts::update(db, c))
    }

    fn delete_contact(&self, id: i64) -> Result<()> {
        self.write(|db| contacts::delete(db, id))
    }

    fn contact_by_phone(&self, e164: &str) -> Result<Option<Contact>> {
        self.read(|db| contacts::by_phone(db, e164))
    }

    fn count_contacts(&self) -> Result<u64> {
        self.read(|db| count(db, "SELECT COUNT(*) FROM contacts", &[]))
    }

    fn last_change(&self) -> Result<i64> {
        self.read(|db| {
            db.query_one(
                "SELECT CAST(COALESCE(MAX(rev), 0) AS BIGINT) FROM changes",
                &[],
                |r| r.int0(0),
            )
        })
    }

    fn changes_since(&self, rev: i64, limit: u64) -> Result<Vec<ChangeRecord>> {
        let limit = i64::try_from(limit).unwrap_or(i64::MAX);
        self.read(|db| {
            db.query_vec(
                "SELECT rev, kind, item FROM changes WHERE rev > ?1 ORDER BY rev LIMIT ?2",
                &[Arg::Int(rev), Arg::Int(limit)],
                rows::change,
            )
        })
    }

    fn routing_data(&self, scope: &RoutingScope) -> Result<RoutingData> {
        match scope {
            // One snapshot, so customers, contacts and phones agree with each other.
            RoutingScope::All => self.scan(|db| data(db, scope)),
            _ => self.read(|db| data(db, scope)),
        }
    }

    fn routing_scan(&self, visit: &mut dyn FnMut(RoutingRow)) -> Result<()> {
        self.scan(|db| scan(db, visit))
    }

    fn build_pending_search(&self) -> Result<bool> {
        self.write(super::search::build_pending)
    }

    fn tidy_search(&self) -> Result<bool> {
        // Looked at in a read first: the write lock only when there is work.
        if !self.read(super::search::scattered)? {
            return Ok(false);
        }
        self.write(super::search::tidy)
    }
}
