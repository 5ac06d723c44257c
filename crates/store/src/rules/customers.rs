//! Customers: settings, single writes, lists, export and the dashboard counts.

use super::{count, feed::record_change, record_audit, Backend};
use crate::import::ImportTx;
use crate::rows::{self, customer_select};
use crate::schema::{self, regime_sql, Dialect};
use crate::sql::{Arg, Db, Lock, BYTES, FOR_UPDATE};
use crate::{ListQuery, Result, Settings, SortKey, Stats, Store, StoreError};
use clientele_core::catalogue::Field;
use clientele_core::ident::phone;
use clientele_core::model::{Customer, Value, VatRegime};
use std::collections::HashMap;
use std::time::{Duration, Instant};

/// How long an API create retries when its generated account collides with an account an
/// uncommitted import is bringing (it then waits for that import, as SQLite would).
const CREATE_RETRY_FOR: Duration = Duration::from_secs(120);

/// The account settings stored in `meta`.
pub(crate) fn settings_of(db: &mut dyn Db) -> Result<Settings> {
    let mut s = Settings::default();
    let pairs = db.query_vec(
        "SELECT key, value FROM meta WHERE key IN ('account_prefix', 'account_width')",
        &[],
        |r| Ok((r.text0(0)?, r.text0(1)?)),
    )?;
    for (k, v) in pairs {
        match k.as_str() {
            "account_prefix" => s.account_prefix = v,
            "account_width" => s.account_width = v.parse().unwrap_or(4),
            _ => {}
        }
    }
    Ok(s)
}

/// Highest number used by accounts with the settings' prefix (as [`Settings::number_of`]).
pub(crate) fn max_account_number(db: &mut dyn Db, s: &Settings) -> Result<u64> {
    match db.dialect() {
        // The server computes it (numbers of up to 18 digits after the prefix).
        Dialect::Postgres => {
            let from = i64::try_from(s.account_prefix.chars().count() + 1).unwrap_or(i64::MAX);
            let n = db.query_one(
                "SELECT CAST(COALESCE(MAX(CAST(substr(\"customerAccount\", ?2) AS numeric)), 0) AS BIGINT) FROM customers \
                 WHERE starts_with(\"customerAccount\", ?1) AND substr(\"customerAccount\", ?2) ~ '^[0-9]{1,18}$'",
                &[s.account_prefix.as_str().into(), Arg::Int(from)],
                |r| r.int0(0),
            )?;
            Ok(u64::try_from(n).unwrap_or(0))
        }
        // SQLite has no regular expressions: the accounts of the prefix's range, read from
        // the account index, parsed here.
        Dialect::Sqlite => {
            let hi = format!("{}\u{10ffff}", s.account_prefix);
            let mut max = 0;
            db.query_each(
                "SELECT \"customerAccount\" FROM customers WHERE \"customerAccount\" >= ?1 AND \"customerAccount\" < ?2",
                &[s.account_prefix.as_str().into(), hi.as_str().into()],
                &mut |r| {
                    if let Some(n) = r.text(0)?.and_then(|a| s.number_of(&a)) {
                        max = max.max(n);
                    }
                    Ok(())
                },
            )?;
            Ok(max)
        }
    }
}

/// Rewrite the phone index rows of a customer.
pub(crate) fn write_phones(db: &mut dyn Db, id: i64, cust: &Customer, fresh: bool) -> Result<()> {
    if !fresh {
        db.execute(
            "DELETE FROM phones WHERE customer_id = ?1 AND contact_id IS NULL",
            &[Arg::Int(id)],
        )?;
    }
    for e in cust.e164.iter().flatten() {
        db.execute(
            "INSERT INTO phones (e164, last9, customer_id) VALUES (?1, ?2, ?3)",
            &[e.into(), phone::last9(e).into(), Arg::Int(id)],
        )?;
    }
    Ok(())
}

/// Create a customer (its account generated when absent).
fn create(db: &mut dyn Db, cust: &Customer) -> Result<Customer> {
    let mut cust = cust.clone();
    let now = crate::now();
    cust.created_at.clone_from(&now);
    cust.updated_at = now;
    let generate = cust.text(Field::customerAccount).is_none();
    if generate {
        // The lock orders generators; each statement then sees every committed account.
        db.lock(Lock::Account)?;
        let s = settings_of(db)?;
        let next = max_account_number(db, &s)? + 1;
        cust.values[Field::customerAccount.idx()] = Some(Value::Text(s.account(next).into()));
        // An uncommitted import may hold this account: do not wait for it while holding
        // the account lock (its finish needs the lock: that would deadlock); fail and retry.
        db.lock(Lock::BriefWaits)?;
    }
    cust.id = db.insert(&rows::customer_insert(), &rows::customer_args(&cust, None))?;
    if generate {
        db.lock(Lock::NormalWaits)?;
    }
    write_phones(db, cust.id, &cust, true)?;
    record_audit(db, "create", cust.id, cust.text(Field::customerAccount))?;
    record_change(db, "customer", cust.id)?;
    Ok(cust)
}

fn update(db: &mut dyn Db, cust: &Customer) -> Result<Customer> {
    let mut cust = cust.clone();
    cust.updated_at = crate::now();
    let n = db.execute(&rows::customer_update(), &rows::customer_update_args(&cust))?;
    if n == 0 {
        return Err(StoreError::NotFound);
    }
    write_phones(db, cust.id, &cust, false)?;
    record_audit(db, "update", cust.id, cust.text(Field::customerAccount))?;
    record_change(db, "customer", cust.id)?;
    Ok(cust)
}

fn delete(db: &mut dyn Db, id: i64) -> Result<()> {
    let sql = format!("SELECT \"customerAccount\" FROM customers WHERE id = ?1{FOR_UPDATE}");
    let account = db.query_one(&sql, &[Arg::Int(id)], |r| r.text(0))?;
    db.execute("DELETE FROM phones WHERE customer_id = ?1", &[Arg::Int(id)])?;
    if db.execute("DELETE FROM customers WHERE id = ?1", &[Arg::Int(id)])? == 0 {
        return Err(StoreError::NotFound);
    }
    record_audit(db, "delete", id, account.as_deref())?;
    record_change(db, "customer", id)?;
    Ok(())
}

fn stats(db: &mut dyn Db) -> Result<Stats> {
    let (total, active, vip, on_call) = db.query_one(
        "SELECT COUNT(*), CAST(COALESCE(SUM(COALESCE(active, 1)), 0) AS BIGINT), CAST(COALESCE(SUM(COALESCE(vip, 0)), 0) AS BIGINT), \
         CAST(COALESCE(SUM(COALESCE(\"onCallDuty\", 0)), 0) AS BIGINT) FROM customers",
        &[],
        |r| Ok((r.count(0)?, r.count(1)?, r.count(2)?, r.count(3)?)),
    )?;
    let reseller_levels = db.query_vec(
        "SELECT \"resellerLevel\", COUNT(*) FROM customers WHERE \"isReseller\" = 1 GROUP BY 1 ORDER BY 1 NULLS FIRST",
        &[],
        |r| Ok((r.int(0)?, r.count(1)?)),
    )?;
    let mut vat_regimes = Vec::new();
    for r in VatRegime::ALL {
        let sql = format!(
            "SELECT COUNT(*) FROM customers WHERE {}",
            regime_sql(r.code())
        );
        vat_regimes.push((r.code().to_string(), count(db, &sql, &[])?));
    }
    Ok(Stats {
        total,
        active,
        vip,
        on_call,
        reseller_levels,
        vat_regimes,
    })
}

/// The `ORDER BY` of a list, ascending or not. Every order is that of an index (see
/// [`schema::search_indexes`]), so a page is read in order, never sorted: NULLs first when
/// ascending.
fn list_order(sort: Option<(SortKey, bool)>, reversed: bool) -> String {
    let (key, desc) = sort.unwrap_or((SortKey::Id, false));
    let desc = desc != reversed;
    let dir = if desc { "DESC" } else { "ASC" };
    let nulls = if desc { "NULLS LAST" } else { "NULLS FIRST" };
    match key {
        SortKey::Id => format!("id {dir}"),
        // The folded name: French order ("Électricité" among the E, not after
        // "Transports"); names that fold alike in creation order. (The written name as a
        // second key kept PostgreSQL from reading the page from the index alone.)
        SortKey::Name => format!("search{BYTES} {dir} {nulls}, id {dir}"),
        // Accounts are unique: no tie to break (and the unique index is the order).
        SortKey::Account => format!("\"customerAccount\"{BYTES} {dir}"),
        SortKey::CreatedAt => format!("created_at{BYTES} {dir} {nulls}, id {dir}"),
        SortKey::UpdatedAt => format!("updated_at{BYTES} {dir} {nulls}, id {dir}"),
    }
}

/// Counts of lists by filter, kept while the data does not change (the change feed's last
/// revision says when it does): the pages after the first of a list, and the same list
/// asked again, do not count a million rows again.
#[derive(Default)]
pub(crate) struct CountCache(std::sync::Mutex<HashMap<String, (i64, u64)>>);

/// Filters whose counts are kept (the oldest are forgotten all at once beyond this).
const COUNTS_KEPT: usize = 512;

impl CountCache {
    fn count(&self, db: &mut dyn Db, where_sql: &str, args: &[Arg]) -> Result<u64> {
        let rev = db.query_one(
            "SELECT CAST(COALESCE(MAX(rev), 0) AS BIGINT) FROM changes",
            &[],
            |r| r.int0(0),
        )?;
        let key = format!("{where_sql} {args:?}");
        let cached = self.0.lock().ok().and_then(|m| m.get(&key).copied());
        if let Some((_, n)) = cached.filter(|(at, _)| *at == rev) {
            return Ok(n);
        }
        let n = count(
            db,
            &format!("SELECT COUNT(*) FROM customers{where_sql}"),
            args,
        )?;
        if let Ok(mut m) = self.0.lock() {
            if m.len() >= COUNTS_KEPT {
                m.clear();
            }
            m.insert(key, (rev, n));
        }
        Ok(n)
    }
}

/// Matches of a name fragment beyond which a page ordered by name is read from the name
/// index rather than through the trigram index (about 1 in 500 names at a million
/// customers: the index walk then meets 50 matches within some 25,000 names).
const DENSE_NAME: i64 = 2_000;

/// Whether the list is ordered by name and its name fragment is common (SQLite only).
fn dense_name(db: &mut dyn Db, q: &ListQuery, sort: Option<(SortKey, bool)>) -> Result<bool> {
    let by_name = matches!(sort, Some((SortKey::Name, _)));
    let Some(text) = q.term.as_deref().or(q.name.as_deref()) else {
        return Ok(false);
    };
    let folded = schema::search_fold(text);
    if db.dialect() != Dialect::Sqlite || !by_name || folded.chars().count() < 3 {
        return Ok(false);
    }
    if schema::like_escape(&folded) != folded {
        return Ok(false);
    }
    let n = db.query_one(
        &format!(
            "SELECT COUNT(*) FROM (SELECT 1 FROM {} WHERE search LIKE ?1 LIMIT ?2)",
            schema::SQLITE_FTS
        ),
        &[format!("%{folded}%").into(), Arg::Int(DENSE_NAME)],
        |r| r.int0(0),
    )?;
    Ok(n >= DENSE_NAME)
}

fn list(db: &mut dyn Db, counts: &CountCache, q: &ListQuery) -> Result<(Vec<Customer>, u64)> {
    let phone_ids = match q.term.as_deref().and_then(phone::fast_key) {
        Some(e) => db.query_vec(
            "SELECT DISTINCT customer_id FROM phones WHERE last9 = ?1",
            &[phone::last9(&e).into()],
            |r| r.int0(0),
        )?,
        None => Vec::new(),
    };
    // Digits alone may be an account's number, as keyed on a phone pad (`42` → `CL0042`).
    let numbered = match q.term.as_deref().map(str::trim) {
        Some(t) if !t.is_empty() && t.len() <= 18 && t.bytes().all(|b| b.is_ascii_digit()) => {
            let settings = settings_of(db)?;
            t.parse().ok().map(|n| settings.account(n))
        }
        _ => None,
    };
    let db_dialect = db.dialect();
    let filter = |fts: bool| {
        let (where_sql, params) =
            schema::list_filter(q, db_dialect, &phone_ids, numbered.as_deref(), fts);
        let args: Vec<Arg> = params
            .into_iter()
            .map(|v| match v {
                schema::Param::Text(t) => Arg::from(t),
                schema::Param::Int(n) => Arg::Int(n),
            })
            .collect();
        (where_sql, args)
    };
    // The trigram index once built (a first import leaves it for later).
    let indexed = !super::search::pending(db)?;
    let (where_sql, args) = filter(indexed);
    let total = if q.without_count {
        None
    } else {
        Some(counts.count(db, &where_sql, &args)?)
    };
    // A search puts the customer whose account is the term first, then the others by name.
    let best = match (&q.term, q.sort) {
        (Some(t), None) => {
            // The filter tested on that one row, not through the trigram index (which
            // would first list every match of a common name).
            let (where_one, args_one) = filter(false);
            let sql = format!(
                "{}{where_one} AND \"customerAccount\" = ?{}",
                customer_select(),
                args_one.len() + 1
            );
            let mut with = args_one;
            with.push(Arg::from(t.trim().to_string()));
            db.query_opt(&sql, &with, rows::customer)?
        }
        _ => None,
    };
    let sort = match (&q.term, q.sort) {
        (Some(_), None) => Some((SortKey::Name, false)),
        (_, sort) => sort,
    };
    let (mut offset, mut limit) = (q.offset, q.limit);
    let mut page = Vec::new();
    if let Some(b) = &best {
        if offset == 0 && limit > 0 {
            page.push(b.clone());
            limit -= 1;
        } else {
            offset = offset.saturating_sub(1);
        }
    }
    // A name so common that the page is found sooner by reading the name index in order,
    // testing each name, than by the trigram index listing every match (SQLite's planner
    // cannot tell the two apart; PostgreSQL's estimates do).
    let dense = indexed && dense_name(db, q, sort)?;
    let (mut where_sql, mut args) = if dense {
        filter(false)
    } else {
        (where_sql, args)
    };

    let mut rest_total = total;
    if let Some(b) = &best {
        where_sql = format!("{where_sql} AND id <> ?{}", args.len() + 1);
        args.push(Arg::Int(b.id));
        rest_total = total.map(|t| t.saturating_sub(1));
    }
    // A page past the middle is read from the other end: an index is walked from one end
    // to the page, so no page walks more than half of it.
    let reversed = rest_total.is_some_and(|t| offset > t / 2 && offset < t);
    if reversed {
        let t = rest_total.unwrap_or_default();
        let end = (offset + limit).min(t);
        limit = end - offset;
        offset = t - end;
    }
    if limit > 0 {
        args.push(Arg::Int(i64::try_from(limit).unwrap_or(i64::MAX)));
        args.push(Arg::Int(i64::try_from(offset).unwrap_or(i64::MAX)));
        // Ids first, read from the order's index alone; then the page's rows by id.
        let sql = format!(
            "{} WHERE id IN (SELECT id FROM customers{where_sql} ORDER BY {} LIMIT ?{} OFFSET ?{}) ORDER BY {}",
            customer_select(),
            list_order(sort, reversed),
            args.len() - 1,
            args.len(),
            list_order(sort, false),
        );
        page.extend(db.query_vec(&sql, &args, rows::customer)?);
    }
    Ok((page, total.unwrap_or(0)))
}

impl<B: Backend> Store for B {
    fn settings(&self) -> Result<Settings> {
        self.read(settings_of)
    }

    fn next_account(&self) -> Result<String> {
        self.read(|db| {
            let s = settings_of(db)?;
            Ok(s.account(max_account_number(db, &s)? + 1))
        })
    }

    fn set_settings(&self, s: &Settings) -> Result<()> {
        self.write(|db| {
            let up = "INSERT INTO meta (key, value) VALUES (?1, ?2) ON CONFLICT (key) DO UPDATE SET value = excluded.value";
            db.execute(up, &["account_prefix".into(), s.account_prefix.as_str().into()])?;
            db.execute(up, &["account_width".into(), s.account_width.to_string().into()])?;
            Ok(())
        })
    }

    fn customer(&self, id: i64) -> Result<Customer> {
        let sql = format!("{} WHERE id = ?1", customer_select());
        self.read(|db| db.query_one(&sql, &[Arg::Int(id)], rows::customer))
    }

    fn customer_by_account(&self, account: &str) -> Result<Customer> {
        let sql = format!("{} WHERE \"customerAccount\" = ?1", customer_select());
        self.read(|db| db.query_one(&sql, &[account.into()], rows::customer))
    }

    fn customers_by_siret(&self, siret: &str) -> Result<Vec<Customer>> {
        let sql = format!(
            "{} WHERE \"registrationNumber\" = ?1 ORDER BY id LIMIT 2",
            customer_select()
        );
        self.read(|db| db.query_vec(&sql, &[siret.into()], rows::customer))
    }

    fn customers_by_accounts(&self, accounts: &[&str]) -> Result<Vec<Customer>> {
        // Batches of 500: far below either backend's limit on parameters, and one round
        // trip per batch instead of one per account (the fixing grid reads a whole pack's).
        let mut out = Vec::new();
        for batch in accounts.chunks(500) {
            let marks: Vec<String> = (1..=batch.len()).map(|i| format!("?{i}")).collect();
            let sql = format!(
                "{} WHERE \"customerAccount\" IN ({})",
                customer_select(),
                marks.join(", ")
            );
            let args: Vec<Arg> = batch.iter().map(|a| (*a).into()).collect();
            out.extend(self.read(|db| db.query_vec(&sql, &args, rows::customer))?);
        }
        Ok(out)
    }

    fn list_customers(&self, q: &ListQuery) -> Result<(Vec<Customer>, u64)> {
        self.read(|db| list(db, self.counts(), q))
    }

    fn create_customer(&self, cust: &Customer) -> Result<Customer> {
        let started = Instant::now();
        // Only a generated account can clash with one an import is bringing: a clash on an
        // account the caller chose is the caller's conflict.
        let generated = cust.text(Field::customerAccount).is_none();
        loop {
            match self.write(|db| create(db, cust)) {
                Err(e)
                    if generated
                        && self.retry_create(&e)
                        && started.elapsed() < CREATE_RETRY_FOR =>
                {
                    std::thread::sleep(Duration::from_millis(50));
                }
                done => return done,
            }
        }
    }

    fn update_customer(&self, cust: &Customer) -> Result<Customer> {
        self.write(|db| update(db, cust))
    }

    fn delete_customer(&self, id: i64) -> Result<()> {
        self.write(|db| delete(db, id))
    }

    fn for_each_customer(&self, f: &mut dyn FnMut(&Customer) -> std::io::Result<()>) -> Result<()> {
        let sql = format!("{} ORDER BY id", customer_select());
        self.scan(|db| {
            db.query_each(&sql, &[], &mut |r| {
                f(&rows::customer(r)?).map_err(StoreError::Io)
            })
        })
    }

    fn begin_import(&self, file: &str) -> Result<Box<dyn ImportTx + '_>> {
        Backend::begin_import(self, file)
    }

    fn imports(&self) -> Result<Vec<crate::ImportRecord>> {
        self.read(super::history::imports)
    }

    fn undo_import(&self, id: i64, force: bool) -> Result<crate::ImportRecord> {
        self.write(|db| super::history::undo(db, id, force))
    }

    fn changed_after_import(&self, id: i64) -> Result<(u64, Vec<String>)> {
        self.read(|db| {
            let at = db.query_one(
                "SELECT at FROM imports WHERE id = ?1",
                &[Arg::Int(id)],
                |r| r.text0(0),
            )?;
            super::history::changed_after(db, id, &at)
        })
    }

    fn stats(&self) -> Result<Stats> {
        self.read(stats)
    }

    fn remember_mapping(&self, headings: &str, mapping: &str) -> Result<()> {
        self.read(|db| super::mappings::remember(db, headings, mapping))
    }

    fn remembered_mapping(&self, headings: &str) -> Result<Option<crate::RememberedMapping>> {
        self.read(|db| super::mappings::remembered(db, headings))
    }
}
