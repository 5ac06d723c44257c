//! Past imports and their undo.

use super::{customers::write_phones, feed::record_change};
use crate::rows::{self, customer_select, IMPORT_SELECT};
use crate::schema;
use crate::sql::{Arg, Db, Lock, BYTES, FOR_UPDATE};
use crate::{ImportRecord, Result, StoreError};

/// Past imports, newest first.
pub(crate) fn imports(db: &mut dyn Db) -> Result<Vec<ImportRecord>> {
    db.query_vec(
        &format!("{IMPORT_SELECT} ORDER BY id DESC"),
        &[],
        rows::import,
    )
}

/// Accounts named at most when an undo is refused.
pub(crate) const NAMED: usize = 5;

/// How many customers import `id` (made at `at`) created or changed were changed after it,
/// and the first [`NAMED`] of their accounts.
pub(crate) fn changed_after(db: &mut dyn Db, id: i64, at: &str) -> Result<(u64, Vec<String>)> {
    let touched = format!("updated_at{BYTES} > ?2 AND (created_import = ?1 OR id IN (SELECT customer_id FROM import_changes WHERE import_id = ?1))");
    let args = [Arg::Int(id), at.into()];
    let n = db.query_one(
        &format!("SELECT COUNT(*) FROM customers WHERE {touched}"),
        &args,
        |r| r.int0(0),
    )?;
    let accounts = db.query_vec(
        &format!(
            "SELECT \"customerAccount\" FROM customers WHERE {touched} ORDER BY id LIMIT {NAMED}"
        ),
        &args,
        |r| Ok(r.text(0)?.unwrap_or_default()),
    )?;
    Ok((u64::try_from(n).unwrap_or(0), accounts))
}

/// Undo import `id`: put back every customer it changed, delete those it created. Refused
/// when one of them changed after the import, unless `force`.
pub(crate) fn undo(db: &mut dyn Db, id: i64, force: bool) -> Result<ImportRecord> {
    db.lock(Lock::Import)?;
    let mut rec = db.query_one(
        &format!("{IMPORT_SELECT} WHERE id = ?1{FOR_UPDATE}"),
        &[Arg::Int(id)],
        rows::import,
    )?;
    if let Some(at) = &rec.undone_at {
        return Err(StoreError::Refused(format!(
            "import {id} was already undone on {at}"
        )));
    }
    // Refuse when a customer it touched has changed since: undoing would lose that change.
    let (n, accounts) = changed_after(db, id, &rec.at)?;
    if n > 0 && !force {
        let who = if n == 1 {
            format!("customer {}", accounts.join(", "))
        } else {
            format!(
                "{n} customers ({}{})",
                accounts.join(", "),
                if n > accounts.len() as u64 {
                    ", …"
                } else {
                    ""
                }
            )
        };
        let verb = if n == 1 { "was" } else { "were" };
        return Err(StoreError::Refused(format!(
            "{who} {verb} changed after import {id}; undo the later imports (or changes) first, or force the undo (those changes are lost)"
        )));
    }
    let befores = db.query_vec(
        "SELECT customer_id, before FROM import_changes WHERE import_id = ?1",
        &[Arg::Int(id)],
        |r| Ok((r.int0(0)?, r.text0(1)?)),
    )?;
    let select = format!("{} WHERE id = ?1", customer_select());
    let update = rows::customer_update();
    for (cid, before) in befores {
        let Some(mut cust) = db.query_opt(&select, &[Arg::Int(cid)], rows::customer)? else {
            continue;
        };
        if schema::from_journal(&mut cust, &before).is_none() {
            return Err(StoreError::db(format!(
                "corrupt journal entry for customer {cid}"
            )));
        }
        db.execute(&update, &rows::customer_update_args(&cust))?;
        write_phones(db, cid, &cust, false)?;
    }
    let by_id = [Arg::Int(id)];
    db.execute("DELETE FROM phones WHERE customer_id IN (SELECT id FROM customers WHERE created_import = ?1)", &by_id)?;
    db.execute("DELETE FROM contacts WHERE created_import = ?1", &by_id)?;
    db.execute("DELETE FROM customers WHERE created_import = ?1", &by_id)?;
    let (now, actor) = (crate::now(), crate::audit::actor());
    db.execute(
        "UPDATE imports SET undone_at = ?2, undone_by = ?3 WHERE id = ?1",
        &[Arg::Int(id), now.as_str().into(), actor.as_str().into()],
    )?;
    record_change(db, "all", id)?;
    rec.undone_at = Some(now);
    rec.undone_by = Some(actor);
    Ok(rec)
}
