//! Contacts and their phone numbers.

use super::{feed::record_change, record_audit};
use crate::contact_label;
use crate::rows;
use crate::schema::contact_select;
use crate::sql::{Arg, Db, BYTES};
use crate::{Result, StoreError};
use clientele_core::contact::Contact;
use clientele_core::ident::phone;

/// Insert a contact and index its phones; returns its id. Shared with the imports.
pub(crate) fn insert_contact(
    db: &mut dyn Db,
    c: &Contact,
    created_import: Option<i64>,
) -> Result<i64> {
    let mut args = rows::contact_args(c, true);
    args.push(Arg::opt_int(created_import));
    let id = db.insert(&rows::contact_insert(), &args)?;
    write_phones(db, id, c, true)?;
    Ok(id)
}

fn write_phones(db: &mut dyn Db, id: i64, c: &Contact, fresh: bool) -> Result<()> {
    if !fresh {
        db.execute("DELETE FROM phones WHERE contact_id = ?1", &[Arg::Int(id)])?;
    }
    for e in c.e164s() {
        db.execute(
            "INSERT INTO phones (e164, last9, customer_id, contact_id) VALUES (?1, ?2, ?3, ?4)",
            &[
                e.into(),
                phone::last9(e).into(),
                Arg::Int(c.customer_id),
                Arg::Int(id),
            ],
        )?;
    }
    Ok(())
}

pub(crate) fn get(db: &mut dyn Db, id: i64) -> Result<Contact> {
    let sql = format!("{} WHERE id = ?1", contact_select());
    db.query_one(&sql, &[Arg::Int(id)], rows::contact)
}

pub(crate) fn of_customer(db: &mut dyn Db, customer_id: i64) -> Result<Vec<Contact>> {
    let sql = format!("{} WHERE customer_id = ?1 ORDER BY id", contact_select());
    db.query_vec(&sql, &[Arg::Int(customer_id)], rows::contact)
}

pub(crate) fn create(db: &mut dyn Db, contact: &Contact) -> Result<Contact> {
    let exists = db.query_opt(
        "SELECT id FROM customers WHERE id = ?1",
        &[Arg::Int(contact.customer_id)],
        |r| r.int0(0),
    )?;
    if exists.is_none() {
        return Err(StoreError::NotFound);
    }
    let mut contact = contact.clone();
    let now = crate::now();
    contact.created_at.clone_from(&now);
    contact.updated_at = now;
    contact.id = insert_contact(db, &contact, None)?;
    let label = crate::contact_label(&contact);
    record_audit(db, "contact.create", contact.customer_id, Some(&label))?;
    record_change(db, "contact", contact.id)?;
    Ok(contact)
}

pub(crate) fn update(db: &mut dyn Db, contact: &Contact) -> Result<Contact> {
    let mut contact = contact.clone();
    contact.updated_at = crate::now();
    let mut args = rows::contact_args(&contact, false);
    args.push(Arg::Int(contact.id));
    if db.execute(&rows::contact_update(), &args)? == 0 {
        return Err(StoreError::NotFound);
    }
    write_phones(db, contact.id, &contact, false)?;
    let label = contact_label(&contact);
    record_audit(db, "contact.update", contact.customer_id, Some(&label))?;
    record_change(db, "contact", contact.id)?;
    Ok(contact)
}

pub(crate) fn delete(db: &mut dyn Db, id: i64) -> Result<()> {
    let old = get(db, id)?;
    db.execute("DELETE FROM phones WHERE contact_id = ?1", &[Arg::Int(id)])?;
    db.execute("DELETE FROM contacts WHERE id = ?1", &[Arg::Int(id)])?;
    let label = contact_label(&old);
    record_audit(db, "contact.delete", old.customer_id, Some(&label))?;
    record_change(db, "contact", id)?;
    Ok(())
}

/// The most recently updated contact with this number: whole, then (for a number that is
/// not a valid foreign one, see `phone::is_foreign`) by its last nine digits.
pub(crate) fn by_phone(db: &mut dyn Db, e164: &str) -> Result<Option<Contact>> {
    let sql = format!(
        "{} WHERE id IN (SELECT contact_id FROM phones WHERE contact_id IS NOT NULL AND {{}} = ?1) ORDER BY updated_at{BYTES} DESC, id DESC LIMIT 1",
        contact_select()
    );
    let fallback = (!phone::is_foreign(e164)).then(|| ("last9", phone::last9(e164)));
    for (col, key) in std::iter::once(("e164", e164)).chain(fallback) {
        if let Some(c) = db.query_opt(&sql.replace("{}", col), &[key.into()], rows::contact)? {
            return Ok(Some(c));
        }
    }
    Ok(None)
}
