//! The statements of an import that are the same on both backends (each backend loads the
//! new rows its own fastest way: multi-row INSERTs on SQLite, binary COPY on PostgreSQL).

use super::{contacts::insert_contact, customers::write_phones, feed::record_change};
use crate::import::{Counts, CustomerLink};
use crate::rows;
use crate::schema;
use crate::sql::{Arg, Db};
use crate::{Result, StoreError};
use clientele_core::contact::Contact;
use clientele_core::model::Customer;

/// The customer with this account, unless this import brought it. Rows of this import are
/// never returned: buffered ones are not in the table yet, written ones carry
/// `created_import`.
pub(crate) fn find_by_account(
    db: &mut dyn Db,
    select: &str,
    import_id: i64,
    account: &str,
) -> Result<Option<Customer>> {
    let sql =
        format!("{select} WHERE \"customerAccount\" = ?1 AND created_import IS DISTINCT FROM ?2");
    db.query_opt(&sql, &[account.into(), Arg::Int(import_id)], rows::customer)
}

/// Up to two customers with this SIRET, unless this import brought them.
pub(crate) fn find_by_siret(
    db: &mut dyn Db,
    select: &str,
    import_id: i64,
    siret: &str,
) -> Result<Vec<Customer>> {
    let sql = format!(
        "{select} WHERE \"registrationNumber\" = ?1 AND created_import IS DISTINCT FROM ?2 ORDER BY id LIMIT 2"
    );
    db.query_vec(&sql, &[siret.into(), Arg::Int(import_id)], rows::customer)
}

/// Update a customer, journalling what it was (for the undo).
pub(crate) fn update(
    db: &mut dyn Db,
    import_id: i64,
    before: &Customer,
    after: &Customer,
) -> Result<()> {
    db.execute(
        "INSERT INTO import_changes (import_id, customer_id, before) VALUES (?1, ?2, ?3)",
        &[
            Arg::Int(import_id),
            Arg::Int(before.id),
            schema::to_journal(before).into(),
        ],
    )?;
    let mut after = after.clone();
    after.id = before.id;
    db.execute(
        &rows::customer_update(),
        &rows::customer_update_args(&after),
    )?;
    write_phones(db, before.id, &after, false)
}

/// Customers of this import created without an account, in id (= file) order.
pub(crate) fn unnumbered(db: &mut dyn Db, import_id: i64) -> Result<Vec<i64>> {
    db.query_vec(
        "SELECT id FROM customers WHERE \"customerAccount\" IS NULL AND created_import = ?1 ORDER BY id",
        &[Arg::Int(import_id)],
        |r| r.int0(0),
    )
}

/// Insert the contacts of the file, each linked to its customer. `unnumbered` holds the
/// ids of the customers created without an account, in file order.
pub(crate) fn insert_contacts(
    db: &mut dyn Db,
    import_id: i64,
    unnumbered: &[i64],
    contacts: Vec<(Contact, CustomerLink)>,
) -> Result<()> {
    let now = crate::now();
    for (mut contact, link) in contacts {
        contact.customer_id = match link {
            CustomerLink::Id(id) => id,
            CustomerLink::Unnumbered(k) => *unnumbered
                .get(k)
                .ok_or_else(|| StoreError::db(format!("no customer #{k} of this import")))?,
            CustomerLink::Account(a) => db.query_one(
                "SELECT id FROM customers WHERE \"customerAccount\" = ?1",
                &[a.as_str().into()],
                |r| r.int0(0),
            )?,
        };
        contact.created_at.clone_from(&now);
        contact.updated_at.clone_from(&now);
        insert_contact(db, &contact, Some(import_id))?;
    }
    Ok(())
}

/// Record the import's counts and checksum, and announce it on the change feed.
pub(crate) fn record_counts(
    db: &mut dyn Db,
    import_id: i64,
    counts: &Counts,
    sha256: &str,
) -> Result<()> {
    let n = |v: u64| Arg::Int(i64::try_from(v).unwrap_or(i64::MAX));
    db.execute(
        "UPDATE imports SET created = ?2, updated = ?3, unchanged = ?4, rejected = ?5, contacts = ?6, at = ?7, sha256 = ?8 WHERE id = ?1",
        &[
            Arg::Int(import_id),
            n(counts.create),
            n(counts.update),
            n(counts.unchanged),
            n(counts.invalid),
            n(counts.contacts),
            crate::now().into(),
            sha256.into(),
        ],
    )?;
    record_change(db, "all", import_id)
}
