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
    let changed = db.query_opt(
        &format!("SELECT \"customerAccount\" FROM customers WHERE updated_at{BYTES} > ?2 AND (created_import = ?1 OR id IN (SELECT customer_id FROM import_changes WHERE import_id = ?1)) LIMIT 1"),
        &[Arg::Int(id), rec.at.as_str().into()],
        |r| r.text(0),
    )?;
    if let Some(a) = changed.filter(|_| !force) {
        return Err(StoreError::Refused(format!(
            "customer {} was changed after import {id}; undo the later imports (or changes) first, or force the undo (those changes are lost)",
            a.unwrap_or_default()
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
