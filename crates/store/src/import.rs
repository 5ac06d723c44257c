//! The import engine: validated rows in, customers created or updated in one transaction.
//!
//! It does not know files: the caller parses rows into [`Parsed`] (possibly on other threads,
//! since parsing is the CPU-heavy part) and feeds them in file order. The engine finds the
//! customer each row updates, runs the cross-field rules against the merged customer,
//! detects duplicates within the file, and writes through an [`ImportTx`]. Nothing is
//! visible to anyone else until [`Importer::finish`] commits.

use crate::{Result, Settings, Store};
use clientele_core::contact::Contact;
use clientele_core::issue::{FieldIssue, Problem, Severity};
use clientele_core::model::{Customer, Record, Value, Values};
use clientele_core::validate::{self, Cells};
use clientele_core::Field;
use std::collections::HashMap as StdMap;
use std::hash::BuildHasher;

/// The engine's look-up tables hash a key per row: foldhash (randomly seeded, so a crafted
/// file cannot make them degenerate) costs a fraction of the standard SipHash.
type HashMap<K, V> = StdMap<K, V, foldhash::fast::RandomState>;

/// One import transaction of a backend.
pub trait ImportTx {
    /// Which fields the file carries (new customers hold defaults in the others); a backend
    /// may use it to write fewer columns.
    fn columns_hint(&mut self, _present: &[bool; clientele_core::N_FIELDS]) {}
    /// Number of customers before the import (0 lets the engine skip look-ups).
    fn existing_count(&mut self) -> Result<u64>;
    /// The import will write into an empty table (not called for a dry run): a backend may
    /// drop its customer indexes now and build them at finish. Returns false when the table
    /// turned out not to be empty any more (customers written since the count): the import
    /// then looks customers up as usual.
    fn bulk_load(&mut self) -> Result<bool> {
        Ok(true)
    }
    /// The customer with this account, among those that existed before the import.
    fn find_by_account(&mut self, account: &str) -> Result<Option<Customer>>;
    /// Up to two customers with this SIRET, among those that existed before the import.
    fn find_by_siret(&mut self, siret: &str) -> Result<Vec<Customer>>;
    /// Insert a new customer (a blank account is generated at finish), created at `now`: the
    /// engine leaves its `created_at` and `updated_at` empty (every customer of an import
    /// has the same time; copying it into each would cost two allocations a row). `search`
    /// is its [`crate::schema::search_text`], computed on the parsing thread. Backends may
    /// buffer inserts until [`ImportTx::finish`].
    fn insert(&mut self, c: Box<Customer>, search: String, now: &str) -> Result<()>;
    /// Replace a customer, journaling its previous state.
    fn update(&mut self, before: &Customer, after: &Customer) -> Result<()>;
    /// Insert the contacts of the pack's Contacts tab, each linked to a customer. Called once,
    /// after the last customer row and before [`ImportTx::finish`].
    fn insert_contacts(&mut self, contacts: Vec<(Contact, CustomerLink)>) -> Result<()>;
    /// Give accounts to the customers inserted without one, record the import (with the
    /// file's SHA-256) and commit (or roll everything back when `commit` is false). Returns
    /// the import id when committed.
    fn finish(
        self: Box<Self>,
        settings: &Settings,
        counts: &Counts,
        sha256: &str,
        commit: bool,
    ) -> Result<Option<i64>>;
}

/// The customer a contact of the pack belongs to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CustomerLink {
    /// A customer that existed before the import.
    Id(i64),
    /// A customer with this account (created by this import or not).
    Account(String),
    /// The k-th customer this import created without an account (0-based, insertion order).
    Unnumbered(usize),
}

/// How the import runs.
#[derive(Debug, Clone, Copy, Default)]
pub struct ImportOptions {
    /// Validate and compare only; write nothing.
    pub dry_run: bool,
    /// Write the valid rows even when others have errors.
    pub skip_invalid: bool,
}

/// Row counts of an import.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Counts {
    /// Non-blank data rows.
    pub rows: u64,
    /// Rows without error.
    pub valid: u64,
    /// Rows with at least one error.
    pub invalid: u64,
    /// Customers to create.
    pub create: u64,
    /// Customers to update.
    pub update: u64,
    /// Rows identical to the stored customer.
    pub unchanged: u64,
    /// Contacts created.
    pub contacts: u64,
}

/// What happened to one row.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RowOutcome {
    /// A new customer.
    Create,
    /// An existing customer changes; the changed fields.
    Update {
        /// The customer's id.
        id: i64,
        /// Its account (as stored before the update).
        account: Option<String>,
        /// Its company name (as stored before the update): the list of every change names
        /// the company even when its name does not change.
        name: Option<String>,
        /// The fields that change, before and after.
        fields: Vec<clientele_core::model::FieldChange>,
    },
    /// Nothing changes.
    Unchanged,
    /// The row has errors.
    Invalid,
}

/// The end of an import.
#[derive(Debug, Clone)]
pub struct ImportOutcome {
    /// Counts.
    pub counts: Counts,
    /// Whether anything was written.
    pub imported: bool,
    /// The import id, when written.
    pub import_id: Option<i64>,
}

/// A row after the per-cell stage.
#[derive(Debug, Clone)]
pub struct Parsed {
    /// Which fields the row carries. Their values are not kept in a record but in the
    /// fresh customer below (moved, not copied: one allocation less per cell); see
    /// [`Parsed::text`] and [`Parsed::into_record`].
    present: [bool; clientele_core::N_FIELDS],
    /// Issues of the cells.
    pub issues: Vec<FieldIssue>,
    /// The row as a new customer, computed ahead on the parsing thread since most rows
    /// create customers. Boxed: a customer is over a kilobyte, and on its way to the
    /// database it would otherwise be copied at every move.
    fresh: Box<Customer>,
    /// The cross-field issues the row has as a new customer.
    cross: Vec<FieldIssue>,
    /// Search text of the fresh customer.
    search: String,
}

impl Parsed {
    /// Text value of a field the row carries (None when absent, blank or invalid).
    pub fn text(&self, f: Field) -> Option<&str> {
        if self.present[f.idx()] {
            self.fresh.text(f)
        } else {
            None
        }
    }

    /// The values of the row as a record.
    pub fn into_record(self) -> Record {
        let Parsed {
            present, mut fresh, ..
        } = self;
        restore(present, &mut fresh)
    }
}

/// Take back the leading zero [`validate::pad_postal_code`] gave a record's postal code.
fn unpad(record: &mut Record) {
    let pc = &mut record.values[Field::postalCode.idx()];
    if let Some(Value::Text(t)) = pc {
        if let Some(rest) = t.strip_prefix('0') {
            *pc = Some(Value::Text(rest.into()));
        }
    }
}

/// The record of the fields `present` marks, their values moved back out of `c`.
fn restore(present: [bool; clientele_core::N_FIELDS], c: &mut Customer) -> Record {
    let mut record = Record::empty();
    record.present = present;
    move_present(
        &record.present,
        (&mut c.values, &mut c.e164),
        (&mut record.values, &mut record.e164),
    );
    record
}

/// Move the values (and E.164 forms) of the `present` fields from one value set to another,
/// leaving `None` behind: the import moves a row's values instead of copying them.
fn move_present(
    present: &[bool; clientele_core::N_FIELDS],
    from: (&mut Values, &mut [Option<String>; 3]),
    to: (&mut Values, &mut [Option<String>; 3]),
) {
    for f in Field::all() {
        if present[f.idx()] {
            to.0[f.idx()] = from.0[f.idx()].take();
        }
    }
    for (i, pf) in Field::PHONES.iter().enumerate() {
        if present[pf.idx()] {
            to.1[i] = from.1[i].take();
        }
    }
}

/// Per-cell stage (and the cross-field rules as if the row were a new customer); safe to
/// run on any thread.
pub fn parse(cells: Cells) -> Parsed {
    // `parse_cells(cells).merge_into(&Customer::new())`, parsed straight into the new
    // customer: no record in between, no value moved twice.
    let mut fresh = Box::new(Customer::new());
    let mut present = [false; clientele_core::N_FIELDS];
    let mut issues =
        validate::parse_cells_into(cells, &mut present, (&mut fresh.values, &mut fresh.e164));
    let n = issues.len();
    validate::pad_postal_code(&present, &mut fresh, &mut issues);
    validate::check_row(&present, &fresh, None, &mut issues);
    let cross = issues.split_off(n);
    let search = crate::schema::search_text(&fresh);
    Parsed {
        present,
        issues,
        fresh,
        cross,
        search,
    }
}

/// The import engine.
pub struct Importer<'a> {
    tx: Box<dyn ImportTx + 'a>,
    settings: Settings,
    opts: ImportOptions,
    lookups: bool,
    accounts: FirstRows,
    sirets: HashMap<u64, u32>,
    counts: Counts,
    writing: bool,
    now: String,
    /// Clients rows by number, for contacts that name their customer by row (only kept
    /// when the file has a Contacts tab).
    rows: Option<HashMap<u32, CustomerLink>>,
    unnumbered: usize,
    invalid_contacts: u64,
    contacts: Vec<(Contact, CustomerLink)>,
}

impl<'a> Importer<'a> {
    /// Start an import of `file`.
    pub fn new(store: &'a dyn Store, file: &str, opts: ImportOptions) -> Result<Importer<'a>> {
        let settings = store.settings()?;
        let mut tx = store.begin_import(file)?;
        let mut lookups = tx.existing_count()? > 0;
        if !lookups && !opts.dry_run {
            lookups = !tx.bulk_load()?;
        }
        Ok(Importer {
            tx,
            settings,
            opts,
            lookups,
            accounts: FirstRows::default(),
            sirets: HashMap::default(),
            counts: Counts::default(),
            writing: !opts.dry_run,
            now: crate::now(),
            rows: None,
            unnumbered: 0,
            invalid_contacts: 0,
            contacts: Vec::new(),
        })
    }

    /// Remember which customer each Clients row is, for a Contacts tab that links by row.
    pub fn track_rows(&mut self) {
        self.rows.get_or_insert_with(HashMap::default);
    }

    /// The customer a Contacts-tab `Client` cell names: a Clients row number of this file,
    /// or a customer account (of this file or of the database).
    pub fn resolve_client(&mut self, link: &str) -> Result<Option<CustomerLink>> {
        let link = link.trim();
        if let (Ok(row), Some(rows)) = (link.parse::<u32>(), &self.rows) {
            if let Some(l) = rows.get(&row) {
                return Ok(Some(l.clone()));
            }
        }
        if self.accounts.get(link).is_some() {
            return Ok(Some(CustomerLink::Account(link.to_string())));
        }
        Ok(self
            .tx
            .find_by_account(link)?
            .map(|c| CustomerLink::Id(c.id)))
    }

    /// Take one valid contact of the Contacts tab.
    pub fn contact(&mut self, contact: Contact, link: CustomerLink) {
        self.counts.contacts += 1;
        if self.writing {
            self.contacts.push((contact, link));
        }
    }

    /// Count a Contacts-tab row with errors (blocks the import unless invalid rows are skipped).
    pub fn invalid_contact(&mut self) {
        if !self.opts.skip_invalid {
            self.writing = false;
        }
        self.invalid_contacts += 1;
    }

    /// Tell the backend which fields the file carries.
    pub fn file_columns(&mut self, present: &[bool; clientele_core::N_FIELDS]) {
        self.tx.columns_hint(present);
    }

    /// Counts so far.
    pub fn counts(&self) -> Counts {
        self.counts
    }

    /// Take one row (`row` is its spreadsheet number). Returns its outcome and all its issues.
    pub fn row(&mut self, row: u32, parsed: Parsed) -> Result<(RowOutcome, Vec<FieldIssue>)> {
        self.counts.rows += 1;
        let Parsed {
            mut present,
            mut issues,
            fresh,
            cross,
            search,
        } = parsed;
        // Borrowed from the fresh customer (no copy per row) until it is merged.
        let carried = |f: Field| {
            if present[f.idx()] {
                fresh.text(f)
            } else {
                None
            }
        };
        let (account, siret) = (
            carried(Field::customerAccount),
            carried(Field::registrationNumber),
        );
        let has_account = account.is_some();
        let duplicate = self.note_in_file(row, account, siret, &mut issues);
        // Boxed: a customer is over a kilobyte, and an unboxed `Option<Customer>` handed on by
        // value was copied whole for every row, even as None.
        let existing = if self.lookups && !duplicate {
            self.find_existing(row, account, siret, &mut present, &mut issues)?
                .map(Box::new)
        } else {
            None
        };
        let merged = merge_row(existing.as_deref(), present, fresh, cross, &mut issues);
        sort_issues(&mut issues);

        if issues.iter().any(|i| i.severity() == Severity::Error) {
            self.counts.invalid += 1;
            if !self.opts.skip_invalid {
                // All-or-nothing: keep validating to report everything, but stop writing.
                self.writing = false;
            }
            return Ok((RowOutcome::Invalid, issues));
        }
        let outcome = self.take_valid(row, existing, merged, search, has_account)?;
        Ok((outcome, issues))
    }

    /// Remember the row's account and SIRET; the same account twice in one file puts the
    /// later row in error (returns true), the same SIRET twice warns.
    fn note_in_file(
        &mut self,
        row: u32,
        account: Option<&str>,
        siret: Option<&str>,
        issues: &mut Vec<FieldIssue>,
    ) -> bool {
        let mut duplicate = false;
        if let Some(a) = account {
            if let Some(first) = self.accounts.first_or_insert(a, row) {
                issues.push(duplicate_account(a, first));
                duplicate = true;
            }
        }
        if let Some(siret) = siret {
            if let Ok(key) = siret.parse::<u64>() {
                match self.sirets.get(&key) {
                    Some(&first) => issues.push(duplicate_siret(siret, first)),
                    None => {
                        self.sirets.insert(key, row);
                    }
                }
            }
        }
        duplicate
    }

    /// The stored customer this row updates: by its account, else by its SIRET when that
    /// names exactly one customer. A match by SIRET leaves the customer's account alone
    /// (`present` no longer carries the blank account cell).
    fn find_existing(
        &mut self,
        row: u32,
        account: Option<&str>,
        siret: Option<&str>,
        present: &mut [bool; clientele_core::N_FIELDS],
        issues: &mut Vec<FieldIssue>,
    ) -> Result<Option<Customer>> {
        if let Some(a) = account {
            return self.tx.find_by_account(a);
        }
        let Some(siret) = siret else {
            return Ok(None);
        };
        let found = self.tx.find_by_siret(siret)?;
        // One file updates a customer once: the customer found may already be another
        // row's (by its account or an earlier SIRET match), or the later row would silently
        // overwrite the earlier one (and undo could only restore the state between the two).
        let accounts = &mut self.accounts;
        Ok(matched_by_siret(
            found,
            |a| accounts.first_or_insert(a, row),
            present,
            issues,
        ))
    }

    /// Count a row without error and write it (unless no longer writing): a new customer,
    /// an unchanged one, or an update with its changed fields.
    fn take_valid(
        &mut self,
        row: u32,
        existing: Option<Box<Customer>>,
        merged: Box<Customer>,
        search: String,
        has_account: bool,
    ) -> Result<RowOutcome> {
        self.counts.valid += 1;
        if let Some(rows) = &mut self.rows {
            // Without an existing customer, `merged` is the fresh one: the row's account.
            let link = match (&existing, merged.text(Field::customerAccount)) {
                (Some(c), _) => CustomerLink::Id(c.id),
                (None, Some(a)) => CustomerLink::Account(a.to_string()),
                (None, None) => CustomerLink::Unnumbered(self.unnumbered),
            };
            rows.insert(row, link);
        }
        if existing.is_none() && !has_account {
            self.unnumbered += 1;
        }
        Ok(match existing {
            None => {
                self.counts.create += 1;
                if self.writing {
                    // `merged` is the fresh customer, whose search text is `search`.
                    self.tx.insert(merged, search, &self.now)?;
                }
                RowOutcome::Create
            }
            Some(before) if before.same_values(&merged) => {
                self.counts.unchanged += 1;
                RowOutcome::Unchanged
            }
            Some(before) => {
                self.counts.update += 1;
                let fields = merged.diff(&before);
                if self.writing {
                    let mut after = merged;
                    after.updated_at.clone_from(&self.now);
                    self.tx.update(&before, &after)?;
                }
                RowOutcome::Update {
                    id: before.id,
                    account: before.text(Field::customerAccount).map(str::to_string),
                    name: before.text(Field::name).map(str::to_string),
                    fields,
                }
            }
        })
    }

    /// Commit (when allowed) or roll back; a committed import records the file's SHA-256
    /// (known only now when it is computed while the rows are read).
    pub fn finish(mut self, sha256: &str) -> Result<ImportOutcome> {
        // Every row has been seen: the in-file look-up tables (about a hundred bytes a row)
        // go before the backend builds its indexes, so the two peaks do not add up.
        self.accounts = FirstRows::default();
        self.sirets = HashMap::default();
        self.rows = None;
        let clean = self.counts.invalid == 0 && self.invalid_contacts == 0;
        let commit = self.writing && !self.opts.dry_run && (clean || self.opts.skip_invalid);
        if commit && !self.contacts.is_empty() {
            let contacts = std::mem::take(&mut self.contacts);
            self.tx.insert_contacts(contacts)?;
        }
        let id = self
            .tx
            .finish(&self.settings, &self.counts, sha256, commit)?;
        Ok(ImportOutcome {
            counts: self.counts,
            imported: id.is_some(),
            import_id: id,
        })
    }
}

/// The first row of each account of the file. A map of boxed strings took about 90 bytes
/// an account (with its growth, a third of a million-row import's memory); here the
/// accounts sit end to end in one buffer and the table holds only their numbers. Each
/// account's 32-bit hash is kept too: growing the table re-hashes from it, where reading
/// every account's text again (two cache misses each) was most of this table's cost in a
/// million-row import.
#[derive(Default)]
struct FirstRows {
    /// The accounts, end to end.
    bytes: String,
    /// End of each account in `bytes` (its start is the previous end).
    ends: Vec<usize>,
    /// Row of each account.
    rows: Vec<u32>,
    /// Hash of each account (see [`FirstRows::hash`]).
    hashes: Vec<u32>,
    /// Account numbers (indexes of `ends`), hashed by their text.
    table: hashbrown::HashTable<u32>,
    hasher: foldhash::fast::RandomState,
}

/// Account `i` of a [`FirstRows`].
fn nth<'a>(bytes: &'a str, ends: &[usize], i: u32) -> &'a str {
    let i = i as usize;
    let start = if i == 0 { 0 } else { ends[i - 1] };
    &bytes[start..ends[i]]
}

/// The table's 64-bit hash of a 32-bit one: the low bits place an entry, the top seven are
/// its tag, and both come from the kept 32 bits.
fn widen(h: u32) -> u64 {
    (u64::from(h) << 32) | u64::from(h)
}

impl FirstRows {
    fn hash(&self, account: &str) -> u32 {
        let h = self.hasher.hash_one(account);
        // Folded rather than cut: foldhash mixes into every bit, either half would do.
        (h ^ (h >> 32)) as u32
    }

    /// Whether account `i` is `account`, whose hash is `h`.
    fn is(&self, i: u32, h: u32, account: &str) -> bool {
        self.hashes[i as usize] == h && nth(&self.bytes, &self.ends, i) == account
    }

    /// The first row of `account`, if seen.
    fn get(&self, account: &str) -> Option<u32> {
        let h = self.hash(account);
        self.table
            .find(widen(h), |&i| self.is(i, h, account))
            .map(|&i| self.rows[i as usize])
    }

    /// The first row of `account`; when it is new, `row` becomes its first and None comes
    /// back.
    fn first_or_insert(&mut self, account: &str, row: u32) -> Option<u32> {
        if let Some(first) = self.get(account) {
            return Some(first);
        }
        let h = self.hash(account);
        // More than 4 billion rows do not fit a spreadsheet row number anyway.
        let n = u32::try_from(self.ends.len()).unwrap_or(u32::MAX);
        let hashes = &self.hashes;
        self.table
            .insert_unique(widen(h), n, |&i| widen(hashes[i as usize]));
        self.hashes.push(h);
        self.bytes.push_str(account);
        self.ends.push(self.bytes.len());
        self.rows.push(row);
        None
    }
}

/// Where a row's account and SIRET first appear in its file, for [`judge`] (the import
/// engine keeps its own tables as it reads the rows in order).
pub struct InFile<'a> {
    /// The first earlier row with the same account, if any.
    pub account: Option<u32>,
    /// The first earlier row with the same SIRET, if any.
    pub siret: Option<u32>,
    /// The first row of the file, other than this one, that carries an account (for a
    /// customer matched by its SIRET: one file updates a customer once).
    pub account_row: &'a dyn Fn(&str) -> Option<u32>,
    /// The stored customers of the file's accounts, when read ahead for many rows (see
    /// [`Store::customers_by_accounts`]): an account not in it is not stored. None: each
    /// row's account is looked up.
    pub stored: Option<&'a StdMap<String, Customer>>,
}

/// Judge one row as [`Importer::row`] does, outside any import (the web's fixing grid
/// judges a row again after each edit, while an import may be running): the same per-cell
/// and cross-field rules, the same duplicates (told by the caller, who holds the file), the
/// same look-up of the customer it would update (by account, else by its SIRET) and the
/// rules on the merged customer. Reads only.
pub fn judge(store: &dyn Store, parsed: Parsed, in_file: &InFile<'_>) -> Result<Vec<FieldIssue>> {
    let Parsed {
        mut present,
        mut issues,
        fresh,
        cross,
        ..
    } = parsed;
    let carried = |f: Field| {
        if present[f.idx()] {
            fresh.text(f).map(str::to_string)
        } else {
            None
        }
    };
    let (account, siret) = (
        carried(Field::customerAccount),
        carried(Field::registrationNumber),
    );
    if let (Some(a), Some(first)) = (&account, in_file.account) {
        issues.push(duplicate_account(a, first));
    }
    if let (Some(s), Some(first)) = (&siret, in_file.siret) {
        issues.push(duplicate_siret(s, first));
    }
    let existing = match (&account, &siret) {
        _ if in_file.account.is_some() => None,
        (Some(a), _) => match in_file.stored {
            Some(stored) => stored.get(a.as_str()).cloned(),
            None => match store.customer_by_account(a) {
                Ok(c) => Some(c),
                Err(crate::StoreError::NotFound) => None,
                Err(e) => return Err(e),
            },
        },
        (None, Some(s)) => matched_by_siret(
            store.customers_by_siret(s)?,
            in_file.account_row,
            &mut present,
            &mut issues,
        ),
        (None, None) => None,
    };
    merge_row(existing.as_ref(), present, fresh, cross, &mut issues);
    sort_issues(&mut issues);
    Ok(issues)
}

/// The error of an account an earlier row of the file (`first`) already has.
fn duplicate_account(account: &str, first: u32) -> FieldIssue {
    FieldIssue::new(
        Field::customerAccount,
        Problem::DuplicateInFile,
        account,
        first.to_string(),
    )
}

/// The warning of a SIRET an earlier row of the file (`first`) already has.
fn duplicate_siret(siret: &str, first: u32) -> FieldIssue {
    FieldIssue::new(
        Field::registrationNumber,
        Problem::Duplicate,
        siret,
        first.to_string(),
    )
}

/// The stored customer a row without account updates: the one its SIRET names, when it
/// names exactly one (`found`) and no other row of the file has it already (`first_row_of`
/// its account). A match leaves the customer's account alone: `present` no longer carries
/// the row's blank account cell.
fn matched_by_siret(
    mut found: Vec<Customer>,
    first_row_of: impl FnOnce(&str) -> Option<u32>,
    present: &mut [bool; clientele_core::N_FIELDS],
    issues: &mut Vec<FieldIssue>,
) -> Option<Customer> {
    let [one] = found.as_slice() else {
        return None;
    };
    let label = one
        .text(Field::customerAccount)
        .unwrap_or_default()
        .to_string();
    let first = Some(label.as_str())
        .filter(|l| !l.is_empty())
        .and_then(first_row_of);
    if let Some(first) = first {
        issues.push(duplicate_account(&label, first));
        return None;
    }
    issues.push(FieldIssue::new(
        Field::customerAccount,
        Problem::MatchedBySiret,
        "",
        label,
    ));
    present[Field::customerAccount.idx()] = false;
    found.pop()
}

/// The customer as it will be stored: the row's values merged into the stored customer
/// it updates, then judged again by the cross-field rules (the row's own `cross` issues
/// were judged as a new customer), or the fresh customer itself.
fn merge_row(
    existing: Option<&Customer>,
    present: [bool; clientele_core::N_FIELDS],
    mut fresh: Box<Customer>,
    cross: Vec<FieldIssue>,
    issues: &mut Vec<FieldIssue>,
) -> Box<Customer> {
    let Some(base) = existing else {
        issues.extend(cross);
        return fresh;
    };
    // The row's values are in the fresh customer: back into a record.
    let mut record = restore(present, &mut fresh);
    if cross.iter().any(|i| i.problem == Problem::Padded) {
        // Padded for a new (French) customer; the customer found may be foreign: padded
        // again below only if French.
        unpad(&mut record);
    }
    let mut merged = record.merge_into(base);
    validate::pad_postal_code(&record.present, &mut merged, issues);
    let was_french = validate::is_french_customer(base);
    validate::check_row(&record.present, &merged, Some(was_french), issues);
    Box::new(merged)
}

/// Order issues by field (column order), errors first.
pub fn sort_issues(issues: &mut [FieldIssue]) {
    issues.sort_by_key(|i| (i.field, i.severity()));
}

#[cfg(test)]
mod tests {
    use super::FirstRows;

    #[test]
    fn first_rows_remember_the_first_row_of_each_account() {
        let mut seen = FirstRows::default();
        // Enough accounts for the table to grow several times (entries are re-hashed from
        // the buffer then).
        for i in 0..50_000u32 {
            assert_eq!(seen.first_or_insert(&format!("CL{i:06}"), i + 2), None);
        }
        assert_eq!(seen.first_or_insert("CL000000", 90_000), Some(2));
        assert_eq!(seen.first_or_insert("CL049999", 90_001), Some(50_001));
        assert_eq!(seen.get("CL012345"), Some(12_347));
        assert_eq!(seen.get("CL0123"), None);
        // Accounts that are prefixes of one another stay apart.
        assert_eq!(seen.first_or_insert("CL0", 7), None);
        assert_eq!(seen.first_or_insert("CL", 8), None);
        assert_eq!(seen.get("CL0"), Some(7));
        assert_eq!(seen.get("CL"), Some(8));
        assert_eq!(seen.first_or_insert("Élan", 9), None);
        assert_eq!(seen.get("Élan"), Some(9));
    }
}
