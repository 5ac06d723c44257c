//! Column mappings remembered by the file's set of headings (issue 14): the mapping step
//! offers the last one used for the same headings, and never applies it by itself.

use crate::sql::Db;
use crate::{RememberedMapping, Result};

/// Remember `mapping` (a JSON object) for `headings`, replacing what was remembered.
pub(crate) fn remember(db: &mut dyn Db, headings: &str, mapping: &str) -> Result<()> {
    // One statement on both backends (PostgreSQL knows this upsert too).
    db.execute(
        "INSERT INTO mappings (headings, mapping, used_at) VALUES (?1, ?2, ?3) \
         ON CONFLICT (headings) DO UPDATE SET mapping = excluded.mapping, used_at = excluded.used_at",
        &[headings.into(), mapping.into(), crate::now().into()],
    )?;
    Ok(())
}

/// The mapping last remembered for `headings`.
pub(crate) fn remembered(db: &mut dyn Db, headings: &str) -> Result<Option<RememberedMapping>> {
    db.query_opt(
        "SELECT mapping, used_at FROM mappings WHERE headings = ?1",
        &[headings.into()],
        |r| {
            Ok(RememberedMapping {
                mapping: r.text0(0)?,
                used_at: r.text0(1)?,
            })
        },
    )
}
