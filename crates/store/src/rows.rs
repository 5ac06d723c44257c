//! Rows to records and records to parameters, for both backends (through [`SqlRow`] and
//! [`Arg`]). Column orders are those of [`crate::schema`].

use crate::schema::{self, contact_columns, customer_columns, is_int};
use crate::sql::{Arg, SqlRow};
use crate::{
    AuditRecord, ChangeRecord, ImportRecord, Result, RoutingContact, RoutingCustomer, RoutingPhone,
    TokenRecord, User,
};
use clientele_core::catalogue::FIELDS;
use clientele_core::contact::Contact;
use clientele_core::model::{Customer, Value};
use std::borrow::Cow;

/// `SELECT id, <customer_columns> FROM customers`.
pub(crate) fn customer_select() -> String {
    format!(
        "SELECT id, {} FROM customers",
        customer_columns().join(", ")
    )
}

/// A customer from a row of [`customer_select`].
pub(crate) fn customer(r: &dyn SqlRow) -> Result<Customer> {
    let mut c = Customer::new();
    c.id = r.int0(0)?;
    for (i, d) in FIELDS.iter().enumerate() {
        c.values[i] = if is_int(d.kind) {
            r.int(i + 1)?.map(|n| {
                if d.kind == clientele_core::Kind::Bool {
                    Value::Bool(n != 0)
                } else {
                    Value::Int(n)
                }
            })
        } else {
            r.value_text(i + 1)?.map(Value::Text)
        };
    }
    let n = FIELDS.len() + 1;
    for i in 0..3 {
        c.e164[i] = r.text(n + i)?;
    }
    c.created_at = r.text0(n + 4)?;
    c.updated_at = r.text0(n + 5)?;
    Ok(c)
}

/// Parameters for [`customer_columns`] (without id), borrowing the customer's text.
pub(crate) fn customer_args(c: &Customer, created_import: Option<i64>) -> Vec<Arg<'_>> {
    let mut p: Vec<Arg<'_>> = Vec::with_capacity(FIELDS.len() + 8);
    for d in FIELDS {
        p.push(match c.get(d.id) {
            None => Arg::Null,
            Some(Value::Text(s)) => Arg::Text(Cow::Borrowed(s.as_str())),
            Some(Value::Int(i)) => Arg::Int(*i),
            Some(Value::Bool(b)) => Arg::Int(i64::from(*b)),
        });
    }
    for e in &c.e164 {
        p.push(Arg::opt_text(e.as_deref()));
    }
    p.push(Arg::Text(Cow::Owned(schema::search_text(c))));
    p.push(Arg::from(c.created_at.as_str()));
    p.push(Arg::from(c.updated_at.as_str()));
    p.push(Arg::opt_int(created_import));
    p
}

/// Whether a column of [`customer_columns`] is rewritten by an update (created_at and
/// created_import never are).
fn updatable(col: &str) -> bool {
    col != "created_at" && col != "created_import"
}

/// `INSERT INTO customers (<customer_columns>) VALUES (?1, …)`.
pub(crate) fn customer_insert() -> String {
    let cols = customer_columns();
    format!(
        "INSERT INTO customers ({}) VALUES ({})",
        cols.join(", "),
        crate::sql::marks(1, cols.len())
    )
}

/// `UPDATE customers SET … WHERE id = ?n`, bound with [`customer_update_args`].
pub(crate) fn customer_update() -> String {
    let cols = customer_columns();
    let sets: Vec<String> = cols
        .iter()
        .filter(|c| updatable(c))
        .enumerate()
        .map(|(i, c)| format!("{c} = ?{}", i + 1))
        .collect();
    format!(
        "UPDATE customers SET {} WHERE id = ?{}",
        sets.join(", "),
        sets.len() + 1
    )
}

/// Parameters of [`customer_update`]: the updatable columns, then the id (PostgreSQL
/// refuses parameters a statement does not use).
pub(crate) fn customer_update_args(c: &Customer) -> Vec<Arg<'_>> {
    let mut p: Vec<Arg<'_>> = customer_args(c, None)
        .into_iter()
        .zip(customer_columns())
        .filter(|(_, col)| updatable(col))
        .map(|(v, _)| v)
        .collect();
    p.push(Arg::Int(c.id));
    p
}

/// A contact from a row of [`schema::contact_select`].
pub(crate) fn contact(r: &dyn SqlRow) -> Result<Contact> {
    let mut c = Contact::new(r.int0(1)?);
    c.id = r.int0(0)?;
    c.civility = r.int(2)?;
    let mut i = 3;
    for t in c.texts.iter_mut() {
        *t = r.text(i)?;
        i += 1;
    }
    c.mobile_e164 = r.text(i)?;
    c.landline_e164 = r.text(i + 1)?;
    i += 2;
    for f in c.flags.iter_mut() {
        *f = r.int0(i)? != 0;
        i += 1;
    }
    c.created_at = r.text0(i)?;
    c.updated_at = r.text0(i + 1)?;
    Ok(c)
}

/// Parameters for [`contact_columns`], without created_at when `with_created` is false.
pub(crate) fn contact_args(c: &Contact, with_created: bool) -> Vec<Arg<'_>> {
    let mut p = vec![Arg::Int(c.customer_id), Arg::opt_int(c.civility)];
    p.extend(c.texts.iter().map(|t| Arg::opt_text(t.as_deref())));
    p.push(Arg::opt_text(c.mobile_e164.as_deref()));
    p.push(Arg::opt_text(c.landline_e164.as_deref()));
    p.extend(c.flags.iter().map(|b| Arg::Int(i64::from(*b))));
    if with_created {
        p.push(Arg::from(c.created_at.as_str()));
    }
    p.push(Arg::from(c.updated_at.as_str()));
    p
}

/// `INSERT INTO contacts (<contact_columns>, created_import) VALUES (…)`.
pub(crate) fn contact_insert() -> String {
    let cols = contact_columns();
    format!(
        "INSERT INTO contacts ({}, created_import) VALUES ({})",
        cols.join(", "),
        crate::sql::marks(1, cols.len() + 1)
    )
}

/// `UPDATE contacts SET … WHERE id = ?n`, bound with `contact_args(c, false)` and the id.
pub(crate) fn contact_update() -> String {
    let cols = contact_columns();
    let sets: Vec<String> = cols
        .iter()
        .filter(|c| *c != "created_at")
        .enumerate()
        .map(|(i, c)| format!("{c} = ?{}", i + 1))
        .collect();
    format!(
        "UPDATE contacts SET {} WHERE id = ?{}",
        sets.join(", "),
        sets.len() + 1
    )
}

/// `SELECT id, name, email, password_hash` (in that order, first).
pub(crate) fn user(r: &dyn SqlRow) -> Result<User> {
    Ok(User {
        id: r.int0(0)?,
        name: r.text0(1)?,
        email: r.text0(2)?,
        password_hash: r.text0(3)?,
    })
}

/// Every token column, with the e-mail of its user (`t` is the tokens table).
pub(crate) const TOKEN_SELECT: &str = "SELECT t.id, t.name, t.hash, t.scope, t.allow, t.user_id, u.email, t.created_at, t.last_used_at, t.expires_at, t.idle_secs FROM tokens t LEFT JOIN users u ON u.id = t.user_id";

/// A row of [`TOKEN_SELECT`].
pub(crate) fn token(r: &dyn SqlRow) -> Result<TokenRecord> {
    Ok(TokenRecord {
        id: r.int0(0)?,
        name: r.text0(1)?,
        hash: r.text0(2)?,
        scope: r.text0(3)?,
        allow: r.text(4)?,
        user_id: r.int(5)?,
        user_email: r.text(6)?,
        created_at: r.text0(7)?,
        last_used_at: r.text(8)?,
        expires_at: r.text(9)?,
        idle_secs: r.int(10)?,
    })
}

/// Every column of an import record.
/// The upload's id is given only while the upload is kept (uploads are removed after a
/// while; the history links to those that are still there).
pub(crate) const IMPORT_SELECT: &str = "SELECT id, file, sha256, at, created, updated, unchanged, rejected, contacts, undone_at, actor, undone_by, \
     CASE WHEN EXISTS (SELECT 1 FROM uploads u WHERE u.id = imports.upload_id) THEN upload_id END FROM imports";

/// A row of [`IMPORT_SELECT`].
pub(crate) fn import(r: &dyn SqlRow) -> Result<ImportRecord> {
    Ok(ImportRecord {
        id: r.int0(0)?,
        file: r.text0(1)?,
        sha256: r.text0(2)?,
        at: r.text0(3)?,
        created: r.count(4)?,
        updated: r.count(5)?,
        unchanged: r.count(6)?,
        rejected: r.count(7)?,
        contacts: r.count(8)?,
        undone_at: r.text(9)?,
        actor: r.text(10)?,
        undone_by: r.text(11)?,
        upload_id: r.text(12)?,
    })
}

/// `SELECT at, actor, action, kind, item, label FROM audit`.
pub(crate) fn audit(r: &dyn SqlRow) -> Result<AuditRecord> {
    Ok(AuditRecord {
        at: r.text0(0)?,
        actor: r.text0(1)?,
        action: r.text0(2)?,
        kind: r.text0(3)?,
        item: r.int0(4)?,
        label: r.text(5)?,
    })
}

/// `SELECT rev, kind, item FROM changes`.
pub(crate) fn change(r: &dyn SqlRow) -> Result<ChangeRecord> {
    Ok(ChangeRecord {
        rev: r.int0(0)?,
        kind: r.text0(1)?,
        item: r.int0(2)?,
    })
}

/// What the routing index needs of a customer.
pub(crate) const ROUTING_CUSTOMER: &str = "SELECT id, COALESCE(\"customerAccount\", ''), COALESCE(name, ''), COALESCE(active, 1), COALESCE(vip, 0), COALESCE(\"onCallDuty\", 0), updated_at FROM customers";
/// What the routing index needs of a contact.
pub(crate) const ROUTING_CONTACT: &str = "SELECT id, customer_id FROM contacts";
/// Every indexed phone number.
pub(crate) const ROUTING_PHONE: &str = "SELECT e164, customer_id, contact_id FROM phones";

/// A row of [`ROUTING_CUSTOMER`].
pub(crate) fn routing_customer(r: &dyn SqlRow) -> Result<RoutingCustomer> {
    Ok(RoutingCustomer {
        id: r.int0(0)?,
        account: r.text0(1)?,
        name: r.text0(2)?,
        active: r.int0(3)? != 0,
        vip: r.int0(4)? != 0,
        on_call: r.int0(5)? != 0,
        updated_at: r.text0(6)?,
    })
}

/// A row of [`ROUTING_CONTACT`].
pub(crate) fn routing_contact(r: &dyn SqlRow) -> Result<RoutingContact> {
    Ok(RoutingContact {
        id: r.int0(0)?,
        customer_id: r.int0(1)?,
    })
}

/// A row of [`ROUTING_PHONE`].
pub(crate) fn routing_phone(r: &dyn SqlRow) -> Result<RoutingPhone> {
    Ok(RoutingPhone {
        e164: r.text0(0)?,
        customer_id: r.int0(1)?,
        contact_id: r.int(2)?,
    })
}
