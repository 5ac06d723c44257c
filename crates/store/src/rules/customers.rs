//! Customers: settings, single writes, lists, export and the dashboard counts.

use super::pages::{self, list_order, Walk};
use super::{count, feed::record_change, record_audit, Backend};
use crate::import::ImportTx;
use crate::rows::{self, customer_select};
use crate::schema::{self, regime_sql, Dialect};
use crate::sql::{Arg, Db, Lock, FOR_UPDATE};
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

/// What lists keep while the data does not change (the change feed's last revision says
/// when it does): counts by filter, so that the pages after the first of a list, and the
/// same list asked again, do not count a million rows again; and the anchors deep pages
/// start from (see [`pages`]).
#[derive(Default)]
pub(crate) struct ListCache {
    counts: Kept<u64>,
    anchors: pages::Anchors,
    members: super::counts::Members,
    names: super::names::Names,
}

/// Values kept by filter, with the revision of the data they were read at.
type Kept<T> = std::sync::Mutex<HashMap<String, (i64, T)>>;

/// Filters whose counts are kept (the oldest are forgotten all at once beyond
/// this).
const COUNTS_KEPT: usize = 512;

/// The data's revision: the change feed's last.
fn revision(db: &mut dyn Db) -> Result<i64> {
    db.query_one(
        "SELECT CAST(COALESCE(MAX(rev), 0) AS BIGINT) FROM changes",
        &[],
        |r| r.int0(0),
    )
}

/// Keep `value` under `key` at revision `rev` in `map` (emptied when full).
fn keep<T: Clone>(map: &Kept<T>, key: String, rev: i64, value: &T) {
    if let Ok(mut m) = map.lock() {
        if m.len() >= COUNTS_KEPT {
            m.clear();
        }
        m.insert(key, (rev, value.clone()));
    }
}

/// What `map` keeps under `key` at revision `rev`.
fn kept<T: Clone>(map: &Kept<T>, key: &str, rev: i64) -> Option<T> {
    let m = map.lock().ok()?;
    m.get(key)
        .filter(|(at, _)| *at == rev)
        .map(|(_, v)| v.clone())
}

impl ListCache {
    /// The number `count_sql` (a `SELECT COUNT(*) …`) gives, kept by its text and arguments.
    /// `members_of`: the list's ` WHERE …` when it counts rows of `customers` (whose members
    /// can follow writes, see [`super::counts`]).
    fn count(
        &self,
        db: &mut dyn Db,
        rev: i64,
        (count_sql, args): (&str, &[Arg]),
        members_of: Option<&str>,
    ) -> Result<u64> {
        let key = format!("{count_sql} {args:?}");
        if let Some(n) = kept(&self.counts, &key, rev) {
            return Ok(n);
        }
        // A list of customers asked again after writes: its members follow them.
        if let Some(where_sql) = members_of {
            let counted_before = self.counts.lock().is_ok_and(|m| m.contains_key(&key));
            let list = (key.as_str(), where_sql, args);
            if let Some(n) = self.members.count(db, rev, list, counted_before)? {
                keep(&self.counts, key, rev, &n);
                return Ok(n);
            }
        }
        let n = count(db, count_sql, args)?;
        keep(&self.counts, key, rev, &n);
        Ok(n)
    }
}

/// Matches of a name fragment beyond which a page is read from the order's index rather
/// than through the trigram index (about 1 in 500 names at a million customers: the index
/// walk then meets 15 matches within some 7,500 rows; listing the 62,000 matches of a
/// common word took 23 ms).
const DENSE_NAME: i64 = 2_000;

/// The name fragment a list looks for, folded, when a trigram index can serve it (three
/// characters or more).
fn fragment(q: &ListQuery) -> Option<String> {
    let folded = schema::search_fold(q.term.as_deref().or(q.name.as_deref())?);
    (folded.chars().count() >= 3).then_some(folded)
}

/// Whether the list's name fragment (`folded`) is common (SQLite: on PostgreSQL, see
/// [`trigram_page`]).
fn dense_name(db: &mut dyn Db, folded: &str) -> Result<bool> {
    if db.dialect() != Dialect::Sqlite {
        return Ok(false);
    }
    let n = db.query_one(
        &format!(
            "SELECT COUNT(*) FROM (SELECT 1 FROM {0} WHERE {0} MATCH ?1 LIMIT ?2)",
            schema::SQLITE_FTS
        ),
        &[schema::fts_phrase(folded).into(), Arg::Int(DENSE_NAME)],
        |r| r.int0(0),
    )?;
    Ok(n >= DENSE_NAME)
}

/// Whether the list filters by a name fragment or a term and nothing else: with another
/// filter, a rare one (a reseller level) would have the order's index read whole to fill a
/// page, where the trigram index stops at its matches.
fn fragment_only(q: &ListQuery) -> bool {
    q.account.is_none()
        && q.flags.is_empty()
        && q.reseller_level.is_none()
        && q.vat_regime.is_none()
}

/// Whether the list's only filter is a name fragment.
fn name_alone(q: &ListQuery) -> bool {
    q.name.is_some() && q.term.is_none() && fragment_only(q)
}

/// The count of a list, its arguments, and whether it counts the rows of `customers` the
/// list's filter keeps (then its members can follow writes, see [`super::counts`]): a name
/// fragment alone on SQLite is counted in the trigram index without reading a customer
/// (62,000 matches of a million: 10 ms against 80 ms through the customers table).
fn count_query<'a>(
    q: &ListQuery,
    folded: Option<&str>,
    db: Dialect,
    fts: bool,
    where_sql: &str,
    args: &[Arg<'a>],
) -> (String, Vec<Arg<'a>>, bool) {
    match folded {
        Some(folded) if db == Dialect::Sqlite && fts && name_alone(q) => (
            format!(
                "SELECT COUNT(*) FROM {0} WHERE {0} MATCH ?1",
                schema::SQLITE_FTS
            ),
            vec![schema::fts_phrase(folded).into()],
            false,
        ),
        _ => (
            format!("SELECT COUNT(*) FROM customers{where_sql}"),
            args.to_vec(),
            true,
        ),
    }
}

/// Matches at most kept by [`trigram_page`]: beyond, the fragment is common and its page is
/// found sooner by reading the order's index.
const TRIGRAM_CAP: i64 = 300;

/// On PostgreSQL, a list with a name fragment first asks the trigram index for at most
/// [`TRIGRAM_CAP`] + 1 matches, then orders them and cuts the page from them, in one
/// statement fenced by a materialized CTE. PostgreSQL's estimates for a fragment are
/// guesses (a fragment with one match, ORed with the identifier ranges, was taken for 5,100
/// rows: the planner read the name index in order, all of it, 2.1 s a search at a million
/// customers); the cap makes the answer right whatever it estimates. Returns the page's
/// ids and the number of matches, or None when there are more than the cap.
fn trigram_page(
    db: &mut dyn Db,
    where_sql: &str,
    args: &[Arg],
    sort: Option<(SortKey, bool)>,
    offset: u64,
    limit: u64,
) -> Result<Option<(Vec<i64>, u64)>> {
    let mut args = args.to_vec();
    let n = args.len();
    args.push(Arg::Int(TRIGRAM_CAP + 1));
    args.push(Arg::Int(i64::try_from(limit).unwrap_or(i64::MAX)));
    args.push(Arg::Int(i64::try_from(offset).unwrap_or(i64::MAX)));
    let sql = format!(
        "WITH m AS MATERIALIZED (SELECT id, search, \"customerAccount\", created_at, updated_at FROM customers{where_sql} LIMIT ?{}) \
         SELECT c.n, p.id FROM (SELECT COUNT(*) AS n FROM m) c \
         LEFT JOIN LATERAL (SELECT id FROM m ORDER BY {} LIMIT ?{} OFFSET ?{}) p ON true",
        n + 1,
        list_order(sort, false),
        n + 2,
        n + 3,
    );
    let rows = db.query_vec(&sql, &args, |r| Ok((r.count(0)?, r.int(1)?)))?;
    let matches = rows.first().map_or(0, |(n, _)| *n);
    if matches > TRIGRAM_CAP as u64 {
        return Ok(None);
    }
    Ok(Some((
        rows.into_iter().filter_map(|(_, id)| id).collect(),
        matches,
    )))
}

/// The customers of `ids`, in the list's order.
fn customers_in_order(
    db: &mut dyn Db,
    ids: &[i64],
    sort: Option<(SortKey, bool)>,
) -> Result<Vec<Customer>> {
    if ids.is_empty() {
        return Ok(Vec::new());
    }
    let args: Vec<Arg> = ids.iter().map(|&i| Arg::Int(i)).collect();
    let sql = format!(
        "{} WHERE id IN ({}) ORDER BY {}",
        customer_select(),
        crate::sql::marks(1, ids.len()),
        list_order(sort, false)
    );
    db.query_vec(&sql, &args, rows::customer)
}

/// The list's filter, leaving the best match (a search's first customer) out.
fn without_best<'a>(best: Option<i64>, filter: (String, Vec<Arg<'a>>)) -> (String, Vec<Arg<'a>>) {
    let (mut where_sql, mut args) = filter;
    if let Some(id) = best {
        where_sql = format!("{where_sql} AND id <> ?{}", args.len() + 1);
        args.push(Arg::Int(id));
    }
    (where_sql, args)
}

/// What a search term names besides text: the customers of the phone number it may be, and
/// the account of the number it may be.
fn term_keys(db: &mut dyn Db, q: &ListQuery) -> Result<(Vec<i64>, Option<String>)> {
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
    Ok((phone_ids, numbered))
}

/// A search's best match: the customer whose account is the term, if the list's filter
/// keeps it (`filter(false)`: tested on that one row, not through the trigram index, which
/// would first list every match of a common name). None for a list that is not a search.
fn best_match<'a>(
    db: &mut dyn Db,
    q: &ListQuery,
    filter: impl Fn(bool) -> (String, Vec<Arg<'a>>),
) -> Result<Option<Customer>> {
    let (Some(t), None) = (&q.term, q.sort) else {
        return Ok(None);
    };
    let (where_one, mut args) = filter(false);
    let sql = format!(
        "{}{where_one} AND \"customerAccount\" = ?{}",
        customer_select(),
        args.len() + 1
    );
    args.push(Arg::from(t.trim().to_string()));
    db.query_opt(&sql, &args, rows::customer)
}

/// The list's total (None when the caller asks for no count), kept by `cache` at the data's
/// revision `rev`. `folded`: the list's name fragment; `indexed`: the trigram index is built.
fn list_total(
    db: &mut dyn Db,
    (cache, rev): (&ListCache, i64),
    q: &ListQuery,
    (folded, indexed): (Option<&str>, bool),
    (where_sql, args): (&str, &[Arg]),
) -> Result<Option<u64>> {
    if q.without_count {
        return Ok(None);
    }
    let dialect = db.dialect();
    let n = match folded {
        // A common fragment alone, on PostgreSQL: counted in the names in memory.
        Some(f) if dialect == Dialect::Postgres && indexed && name_alone(q) => {
            cache.names.count(db, rev, f)?
        }
        _ => {
            let (sql, count_args, plain) =
                count_query(q, folded, dialect, indexed, where_sql, args);
            cache.count(db, rev, (&sql, &count_args), plain.then_some(where_sql))?
        }
    };
    Ok(Some(n))
}

fn list(db: &mut dyn Db, cache: &ListCache, q: &ListQuery) -> Result<(Vec<Customer>, u64)> {
    let (phone_ids, numbered) = term_keys(db, q)?;
    let dialect = db.dialect();
    let filter = |fts: bool| {
        let (where_sql, params) =
            schema::list_filter(q, dialect, &phone_ids, numbered.as_deref(), fts);
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
    // The data's revision, read once: what the caches keep is valid at it.
    let rev = revision(db)?;
    let (where_sql, args) = filter(indexed);
    // A search puts the customer whose account is the term first, then the others by name.
    let best = best_match(db, q, filter)?;
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
    let best_id = best.as_ref().map(|b| b.id);
    let folded = fragment(q);
    // A fragment the names in memory show to be common (one name in a thousand) goes
    // straight to the order's index.
    let common = match (&folded, dialect) {
        (Some(f), Dialect::Postgres) if indexed && fragment_only(q) => {
            cache.names.common(db, rev, f, 1_000)?
        }
        _ => None,
    };
    if dialect == Dialect::Postgres && indexed && folded.is_some() && common != Some(true) {
        let (where_rest, args_rest) = without_best(best_id, (where_sql.clone(), args.clone()));
        if let Some((ids, matches)) =
            trigram_page(db, &where_rest, &args_rest, sort, offset, limit)?
        {
            page.extend(customers_in_order(db, &ids, sort)?);
            let total = matches + u64::from(best.is_some());
            return Ok((page, if q.without_count { 0 } else { total }));
        }
    }
    let total = list_total(
        db,
        (cache, rev),
        q,
        (folded.as_deref(), indexed),
        (&where_sql, &args),
    )?;
    // A fragment so common that the page is found sooner by reading the order's index,
    // testing each row, than by the trigram index listing every match (SQLite's planner
    // cannot tell the two apart; on PostgreSQL [`trigram_page`] found more than its cap).
    let dense = match &folded {
        Some(f) if indexed && fragment_only(q) => {
            dialect == Dialect::Postgres || dense_name(db, f)?
        }
        _ => false,
    };
    let (where_sql, args) = without_best(
        best_id,
        if dense {
            filter(false)
        } else {
            (where_sql, args)
        },
    );
    let rest_total = total.map(|t| t.saturating_sub(u64::from(best.is_some())));
    // A deep page of a whole list (no name fragment: those are few, or found by the
    // trigram index) starts from the anchor before it.
    if let (true, Some(t)) = (q.term.is_none() && q.name.is_none(), rest_total) {
        let walk = Walk {
            sort,
            total: t,
            offset,
            limit,
        };
        if let Some(ids) = cache.anchors.page_ids(db, rev, &where_sql, &args, walk)? {
            page.extend(customers_in_order(db, &ids, sort)?);
            return Ok((page, total.unwrap_or(0)));
        }
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
    let (key, desc) = sort.unwrap_or((SortKey::Id, false));
    let walked = Some((key, desc != reversed));
    page.extend(read_page(
        db, &where_sql, args, walked, sort, limit, offset,
    )?);
    Ok((page, total.unwrap_or(0)))
}

/// The `limit` rows after `offset` of the list `where_sql` walked in the order `walked`,
/// returned in the order `sort`: ids first, read from the order's index alone; then the
/// page's rows by id.
fn read_page(
    db: &mut dyn Db,
    where_sql: &str,
    mut args: Vec<Arg>,
    walked: Option<(SortKey, bool)>,
    sort: Option<(SortKey, bool)>,
    limit: u64,
    offset: u64,
) -> Result<Vec<Customer>> {
    if limit == 0 {
        return Ok(Vec::new());
    }
    args.push(Arg::Int(i64::try_from(limit).unwrap_or(i64::MAX)));
    args.push(Arg::Int(i64::try_from(offset).unwrap_or(i64::MAX)));
    let sql = format!(
        "{} WHERE id IN (SELECT id FROM customers{where_sql} ORDER BY {} LIMIT ?{} OFFSET ?{}) ORDER BY {}",
        customer_select(),
        list_order(walked, false),
        args.len() - 1,
        args.len(),
        list_order(sort, false),
    );
    db.query_vec(&sql, &args, rows::customer)
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
        self.read(|db| list(db, self.lists(), q))
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
