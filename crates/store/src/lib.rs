//! Storage of the customer base behind one [`Store`] trait, with a SQLite backend (the
//! embedded default) and a PostgreSQL backend (several servers, one database).
//!
//! The trait is synchronous: the CLI calls it directly and the server from blocking tasks.
//! No SQL leaves this crate, and no HTTP or file format enters it.
//!
//! The rules are written once (`rules/`, over the `Db` trait of `sql.rs`, which owns the
//! dialects' differences in statement text); `sqlite/` and `postgres/` hold only what truly
//! differs: pools, transactions and locks, migrations, and how an import loads its rows.
//! Modules depend one way: `sql` and `rows` on nothing of the backends, `rules` on them,
//! the backends on `rules` (for the shared import statements) and never on each other.

pub mod audit;
pub mod import;
pub mod ops;
pub mod postgres;
mod rows;
mod rules;
pub mod schema;
mod sql;
pub mod sqlite;

use clientele_core::model::Customer;
use serde::Serialize;

pub use import::{ImportOptions, ImportOutcome, RowOutcome};

/// Errors of the storage layer.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// The record does not exist.
    #[error("not found")]
    NotFound,
    /// A uniqueness rule would be broken (e.g. customer account already used).
    #[error("conflict: {0}")]
    Conflict(String),
    /// The request cannot be carried out in the current state (e.g. undo after later changes).
    #[error("{0}")]
    Refused(String),
    /// The database failed; the driver's error is kept as the source.
    #[error("database error: {0}")]
    Db(#[source] Box<dyn std::error::Error + Send + Sync>),
    /// The caller's own input or output failed while the store visited its rows (an
    /// export's write to a full disk or a closed pipe), kept apart from database failures.
    #[error("{0}")]
    Io(#[source] std::io::Error),
}

/// A message that says what failed, over the error that made it fail.
#[derive(Debug, thiserror::Error)]
#[error("{message}")]
pub struct Described {
    message: String,
    #[source]
    source: Box<dyn std::error::Error + Send + Sync>,
}

impl StoreError {
    /// A database failure described by `message`, caused by `source` (kept in the chain).
    pub fn described(
        message: impl Into<String>,
        source: impl Into<Box<dyn std::error::Error + Send + Sync>>,
    ) -> Self {
        StoreError::Db(Box::new(Described {
            message: message.into(),
            source: source.into(),
        }))
    }

    /// A database failure described by a message (or any error, kept as the source).
    pub fn db(cause: impl Into<Box<dyn std::error::Error + Send + Sync>>) -> Self {
        StoreError::Db(cause.into())
    }
}

/// Result of the storage layer.
pub type Result<T> = std::result::Result<T, StoreError>;

impl From<rusqlite::Error> for StoreError {
    fn from(e: rusqlite::Error) -> Self {
        match e {
            rusqlite::Error::QueryReturnedNoRows => StoreError::NotFound,
            rusqlite::Error::SqliteFailure(f, msg)
                if f.code == rusqlite::ErrorCode::ConstraintViolation =>
            {
                StoreError::Conflict(msg.unwrap_or_else(|| "constraint violation".into()))
            }
            other => StoreError::Db(Box::new(other)),
        }
    }
}

impl From<r2d2::Error> for StoreError {
    fn from(e: r2d2::Error) -> Self {
        StoreError::Db(Box::new(e))
    }
}

/// Settings of a database.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Settings {
    /// Prefix of generated customer accounts (`CL`).
    pub account_prefix: String,
    /// Zero-padded width of the number (4 → `CL0001`).
    pub account_width: usize,
}

impl Default for Settings {
    fn default() -> Self {
        Settings {
            account_prefix: "CL".into(),
            account_width: 4,
        }
    }
}

impl Settings {
    /// The account for number `n`.
    pub fn account(&self, n: u64) -> String {
        format!(
            "{}{:0width$}",
            self.account_prefix,
            n,
            width = self.account_width
        )
    }
    /// The number of an account with this prefix, if it is one.
    pub fn number_of(&self, account: &str) -> Option<u64> {
        let digits = account.strip_prefix(&self.account_prefix)?;
        if digits.is_empty() || digits.len() > 18 || !digits.bytes().all(|b| b.is_ascii_digit()) {
            return None;
        }
        digits.parse().ok()
    }
}

/// Sort order of the customer list.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SortKey {
    /// By id.
    Id,
    /// By name.
    Name,
    /// By customer account.
    Account,
    /// By creation time.
    CreatedAt,
    /// By last update.
    UpdatedAt,
}

/// A customer list request.
#[derive(Debug, Clone, Default)]
pub struct ListQuery {
    /// Name contains (accent- and case-insensitive).
    pub name: Option<String>,
    /// Account equals.
    pub account: Option<String>,
    /// Account, name, SIRET, VAT or phone matches.
    pub term: Option<String>,
    /// Boolean filters by field.
    pub flags: Vec<(clientele_core::Field, bool)>,
    /// Reseller level equals.
    pub reseller_level: Option<i64>,
    /// VAT regime equals (a `VatRegime::code`).
    pub vat_regime: Option<String>,
    /// Sort key and descending flag.
    pub sort: Option<(SortKey, bool)>,
    /// Offset.
    pub offset: u64,
    /// Limit.
    pub limit: u64,
    /// Leave the total out (it is then 0): a search that shows its first results only.
    pub without_count: bool,
}

/// A past import.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ImportRecord {
    /// Import id.
    pub id: i64,
    /// File name.
    pub file: String,
    /// SHA-256 of the file.
    pub sha256: String,
    /// When it was committed.
    pub at: String,
    /// Customers created.
    pub created: u64,
    /// Customers updated.
    pub updated: u64,
    /// Rows left unchanged.
    pub unchanged: u64,
    /// Rows rejected (with skip-invalid).
    pub rejected: u64,
    /// Contacts created.
    pub contacts: u64,
    /// When it was undone, if it was.
    pub undone_at: Option<String>,
    /// Who made it (see [`audit`]); none for imports made before it was recorded.
    pub actor: Option<String>,
    /// Who undid it.
    pub undone_by: Option<String>,
    /// The web upload it was made from, while that upload is kept (its report and files
    /// are at `/uploads/{id}`); none for imports from the API or the command line.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub upload_id: Option<String>,
}

/// Counts by dimension for the dashboard.
#[derive(Debug, Clone, Default, Serialize)]
pub struct Stats {
    /// All customers.
    pub total: u64,
    /// Active.
    pub active: u64,
    /// VIP.
    pub vip: u64,
    /// On-call contract.
    pub on_call: u64,
    /// Resellers by level (None = reseller without level).
    pub reseller_levels: Vec<(Option<i64>, u64)>,
    /// By VAT regime code.
    pub vat_regimes: Vec<(String, u64)>,
}

/// The customer storage.
pub trait Store: Send + Sync {
    /// The database settings.
    fn settings(&self) -> Result<Settings>;
    /// The account the next customer created without one will get.
    fn next_account(&self) -> Result<String>;
    /// Change the account prefix and width.
    fn set_settings(&self, s: &Settings) -> Result<()>;
    /// A customer by id.
    fn customer(&self, id: i64) -> Result<Customer>;
    /// A customer by account.
    fn customer_by_account(&self, account: &str) -> Result<Customer>;
    /// The customers with this SIRET (at most two: one, or the proof that it names several).
    fn customers_by_siret(&self, siret: &str) -> Result<Vec<Customer>>;
    /// The customers with these accounts (those that exist), read in batches.
    fn customers_by_accounts(&self, accounts: &[&str]) -> Result<Vec<Customer>>;
    /// A page of customers and the total count.
    fn list_customers(&self, q: &ListQuery) -> Result<(Vec<Customer>, u64)>;
    /// Create a customer (account generated when absent); returns it as stored.
    fn create_customer(&self, c: &Customer) -> Result<Customer>;
    /// Replace a customer's values; returns it as stored.
    fn update_customer(&self, c: &Customer) -> Result<Customer>;
    /// Delete a customer (and its contacts).
    fn delete_customer(&self, id: i64) -> Result<()>;
    /// Visit every customer in id order (export), with bounded memory.
    fn for_each_customer(&self, f: &mut dyn FnMut(&Customer) -> std::io::Result<()>) -> Result<()>;
    /// Start an import transaction (the file's SHA-256 is recorded at
    /// [`import::ImportTx::finish`]).
    fn begin_import(&self, file: &str) -> Result<Box<dyn import::ImportTx + '_>>;
    /// Past imports, newest first.
    fn imports(&self) -> Result<Vec<ImportRecord>>;
    /// Undo an import: restore every customer it created or changed. Refused when one of
    /// them changed after the import, unless `force` (those later changes are then lost).
    fn undo_import(&self, id: i64, force: bool) -> Result<ImportRecord>;
    /// How many customers an import created or changed were changed after it, and the
    /// first few of their accounts (what a refused undo names).
    fn changed_after_import(&self, id: i64) -> Result<(u64, Vec<String>)>;
    /// Dashboard counts.
    fn stats(&self) -> Result<Stats>;
    /// Remember the column mapping (a JSON object, heading → field) used for a file whose
    /// set of headings is `headings` (`clientele_pack::heading_set`), replacing the last one.
    fn remember_mapping(&self, headings: &str, mapping: &str) -> Result<()>;
    /// The mapping last remembered for this set of headings, if any.
    fn remembered_mapping(&self, headings: &str) -> Result<Option<RememberedMapping>>;
}

/// A column mapping remembered for a set of headings.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RememberedMapping {
    /// The mapping, a JSON object (heading → pack key, `-` for ignored).
    pub mapping: String,
    /// When it was last used.
    pub used_at: String,
}

/// Open a store from a path or URL: `postgres://…` is PostgreSQL, anything else a SQLite file.
pub fn open(target: &str) -> Result<Box<dyn Store>> {
    if is_postgres(target) {
        return Ok(Box::new(postgres::PgStore::open(target)?));
    }
    Ok(Box::new(sqlite::SqliteStore::open(target)?))
}

/// [`open`] for a command-line import, which may take a SQLite file to itself while it runs
/// (see [`sqlite::SqliteStore::open_for_import`]).
pub fn open_for_import(target: &str) -> Result<Box<dyn Store>> {
    if is_postgres(target) {
        return open(target);
    }
    Ok(Box::new(sqlite::SqliteStore::open_for_import(target)?))
}

/// Whether `target` names a PostgreSQL database (by its URL scheme).
pub fn is_postgres(target: &str) -> bool {
    target.starts_with("postgres://") || target.starts_with("postgresql://")
}

/// A database URL with its password hidden, for logs and messages.
pub fn redact(url: &str) -> String {
    if let Some((scheme, rest)) = url.split_once("://") {
        if let Some((cred, host)) = rest.rsplit_once('@') {
            let user = cred.split(':').next().unwrap_or("");
            return format!("{scheme}://{user}:***@{host}");
        }
    }
    url.to_string()
}

/// Whether a new customer holds a value in this field when the source lacks it (a
/// non-NULL catalogue default or a generated value).
pub(crate) fn schema_default_is_set(f: clientele_core::Field) -> bool {
    !matches!(f.def().default, clientele_core::catalogue::Default::None)
}

/// Current time as the API writes it: `2024-01-02T03:04:05.000000Z`.
pub fn now() -> String {
    now_plus(0)
}

/// The time `secs` seconds from now, written as [`now`] writes it (so that stored times
/// compare as text).
pub fn now_plus(secs: i64) -> String {
    let t = time::OffsetDateTime::now_utc() + time::Duration::seconds(secs);
    format!(
        "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}.{:06}Z",
        t.year(),
        u8::from(t.month()),
        t.day(),
        t.hour(),
        t.minute(),
        t.second(),
        t.microsecond()
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn account_numbers() {
        let s = Settings::default();
        assert_eq!(s.account(1), "CL0001");
        assert_eq!(s.account(12345), "CL12345");
        assert_eq!(s.number_of("CL0042"), Some(42));
        assert_eq!(s.number_of("CLX"), None);
        assert_eq!(s.number_of("CL"), None);
        assert_eq!(s.number_of("AB0001"), None);
    }

    #[test]
    fn redacts_passwords() {
        assert_eq!(
            redact("postgres://u:secret@h:5432/db"),
            "postgres://u:***@h:5432/db"
        );
        assert_eq!(redact("clientele.db"), "clientele.db");
        assert!(now().ends_with('Z') && now().len() == 27);
        let t = "2024-01-02T03:04:05.678000Z";
        assert_eq!(format_time(parse_time(t).expect("parses")), t);
        assert!(parse_time("nope").is_none());
    }
}

// ---------------------------------------------------------------------------------------
// API, users, tokens, contacts and call routing (issue 3). Implemented once for both
// backends in `rules/`.
// ---------------------------------------------------------------------------------------

pub use clientele_core::contact::Contact;

/// A user of the API (created from the command line).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct User {
    /// Id.
    pub id: i64,
    /// Display name.
    pub name: String,
    /// E-mail (login).
    pub email: String,
    /// Argon2 PHC string.
    pub password_hash: String,
}

/// An API token as stored: only the SHA-256 of the secret.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct TokenRecord {
    /// Id.
    pub id: i64,
    /// Name given at creation.
    pub name: String,
    /// Hex SHA-256 of the token.
    pub hash: String,
    /// `read`, `write` or `lookup`.
    pub scope: String,
    /// Allowed client networks, comma-separated CIDRs (none: any).
    pub allow: Option<String>,
    /// The user it was issued to (login), if any.
    pub user_id: Option<i64>,
    /// That user's e-mail.
    pub user_email: Option<String>,
    /// When it was made.
    pub created_at: String,
    /// When it was last used, as last written by a server (see [`TokenStore::touch_tokens`]).
    pub last_used_at: Option<String>,
    /// When it stops being accepted, whatever its use.
    pub expires_at: Option<String>,
    /// Seconds without use after which it stops being accepted.
    pub idle_secs: Option<i64>,
}

impl TokenRecord {
    /// Who acts with this token, as the audit trail names it: the user's e-mail for a login
    /// token, `token:<name>` otherwise.
    pub fn actor(&self) -> String {
        match &self.user_email {
            Some(e) => e.clone(),
            None => format!("token:{}", self.name),
        }
    }
    /// Whether it is no longer accepted at `now` (milliseconds since the epoch), its last
    /// use being `last_used` (milliseconds; the creation when never used).
    pub fn expired_at(&self, now: i64, last_used: Option<i64>) -> bool {
        if self
            .expires_at
            .as_deref()
            .and_then(parse_time)
            .is_some_and(|t| t <= now)
        {
            return true;
        }
        let Some(idle) = self.idle_secs else {
            return false;
        };
        let base = last_used
            .or_else(|| self.last_used_at.as_deref().and_then(parse_time))
            .or_else(|| parse_time(&self.created_at));
        base.is_some_and(|b| b.saturating_add(idle.saturating_mul(1000)) <= now)
    }
}

/// How long a new token lives (both unset: until revoked).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TokenLife {
    /// It stops being accepted at this time (as [`now`] writes it).
    pub expires_at: Option<String>,
    /// It stops being accepted after this many seconds without use.
    pub idle_secs: Option<i64>,
}

/// What [`TokenStore::expire_token`] found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Expiry {
    /// No such token (revoked, or expired by another server).
    Gone,
    /// It had expired and is now deleted.
    Expired(TokenRecord),
    /// It is still alive (with the stored time of its last use).
    Alive(TokenRecord),
}

/// One entry of the audit trail: a single write made through the API or the web pages.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct AuditRecord {
    /// When (as [`now`] writes it).
    pub at: String,
    /// Who (see [`audit`]).
    pub actor: String,
    /// `create`, `update` or `delete`.
    pub action: String,
    /// `customer` or `contact`.
    pub kind: String,
    /// Id of the item.
    pub item: i64,
    /// What it was (account or contact name), to read it after a delete.
    pub label: Option<String>,
}

/// The import that created a customer: (import id, file, when, who).
pub type CreatingImport = (i64, String, String, Option<String>);

/// Tokens' life cycle and the audit trail of single writes.
pub trait TokenStore {
    /// Store a token that expires (see [`TokenLife`]); returns its id. Appends a `token`
    /// change.
    fn create_token_with_life(
        &self,
        name: &str,
        hash: &str,
        scope: &str,
        allow: Option<&str>,
        user_id: Option<i64>,
        life: &TokenLife,
    ) -> Result<i64>;
    /// Delete a token (by id); returns it. `NotFound` when unknown. Appends a `token` change.
    fn revoke_token(&self, id: i64) -> Result<TokenRecord>;
    /// Delete a token if it has expired by the database's own record of its last use
    /// (another server may have used it). Appends a `token` change when it deletes it.
    fn expire_token(&self, id: i64) -> Result<Expiry>;
    /// Record the last use of tokens (id, time), keeping the later of the stored and the
    /// given time. No change is appended: a use changes nothing any server must reload.
    fn touch_tokens(&self, uses: &[(i64, String)]) -> Result<()>;
    /// The audit trail of one item, newest first, at most `limit` entries.
    fn audit_of(&self, kind: &str, item: i64, limit: u64) -> Result<Vec<AuditRecord>>;
    /// The import that created a customer, if one did.
    fn creating_import(&self, customer_id: i64) -> Result<Option<CreatingImport>>;
}

/// How the audit trail names a contact: its name, else its id.
pub(crate) fn contact_label(c: &Contact) -> String {
    let name = [c.text("firstName"), c.text("lastName")]
        .into_iter()
        .flatten()
        .collect::<Vec<_>>()
        .join(" ");
    if name.is_empty() {
        format!("#{}", c.id)
    } else {
        name
    }
}

/// Milliseconds since the epoch of a time written by [`now`] (or any RFC 3339 time).
pub fn parse_time(s: &str) -> Option<i64> {
    let t = time::OffsetDateTime::parse(s, &time::format_description::well_known::Rfc3339).ok()?;
    i64::try_from(t.unix_timestamp_nanos() / 1_000_000).ok()
}

/// The time `ms` milliseconds after the epoch, written as [`now`] writes it.
pub fn format_time(ms: i64) -> String {
    let t = time::OffsetDateTime::from_unix_timestamp_nanos(i128::from(ms) * 1_000_000)
        .unwrap_or(time::OffsetDateTime::UNIX_EPOCH);
    format!(
        "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}.{:06}Z",
        t.year(),
        u8::from(t.month()),
        t.day(),
        t.hour(),
        t.minute(),
        t.second(),
        t.microsecond()
    )
}

/// Milliseconds since the epoch, now.
pub fn now_ms() -> i64 {
    i64::try_from(time::OffsetDateTime::now_utc().unix_timestamp_nanos() / 1_000_000)
        .unwrap_or(i64::MAX)
}

/// One entry of the change feed (`changes` table): every write appends one.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChangeRecord {
    /// Increasing revision.
    pub rev: i64,
    /// `customer`, `contact`, `token` or `all` (imports, undo: reload everything).
    pub kind: String,
    /// Id of the changed item (import id for `all`).
    pub item: i64,
}

/// What call routing needs of a customer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RoutingCustomer {
    /// Id.
    pub id: i64,
    /// Customer account.
    pub account: String,
    /// Name.
    pub name: String,
    /// Active (inactive customers are unknown to routing).
    pub active: bool,
    /// VIP.
    pub vip: bool,
    /// On-call contract.
    pub on_call: bool,
    /// Last update (RFC 3339; the most recent wins a shared number).
    pub updated_at: String,
}

/// What call routing needs of a contact: which customer it belongs to. Its names are not
/// held by the routing index (issue 18: they were a quarter of its memory); the one route
/// that shows them, `details=1`, reads them from the database.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RoutingContact {
    /// Id.
    pub id: i64,
    /// Its customer.
    pub customer_id: i64,
}

/// One indexed phone number (`phones` table).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RoutingPhone {
    /// E.164 number.
    pub e164: String,
    /// Customer it belongs to (directly or through a contact).
    pub customer_id: i64,
    /// The contact, when it is a contact's number.
    pub contact_id: Option<i64>,
}

/// Which rows [`ApiStore::routing_data`] returns.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RoutingScope {
    /// Everything (start, or after an import).
    All,
    /// These customers (absent from the answer: deleted) and their own numbers.
    Customers(Vec<i64>),
    /// These contacts (absent: deleted) and their numbers.
    Contacts(Vec<i64>),
}

/// Rows for the routing index.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RoutingData {
    /// Customers.
    pub customers: Vec<RoutingCustomer>,
    /// Contacts.
    pub contacts: Vec<RoutingContact>,
    /// Phone numbers.
    pub phones: Vec<RoutingPhone>,
}

/// One row of a full routing scan ([`ApiStore::routing_scan`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RoutingRow {
    /// First: how many rows of each kind follow, so that the index is sized once.
    Counts {
        /// Customers.
        customers: u64,
        /// Contacts.
        contacts: u64,
        /// Phone numbers.
        phones: u64,
    },
    /// A customer (all of them come in id order, before the contacts).
    Customer(RoutingCustomer),
    /// A contact (in id order, before the numbers).
    Contact(RoutingContact),
    /// A phone number.
    Phone(RoutingPhone),
}

/// The storage needed by the REST API beyond customers: users, tokens, contacts, the change
/// feed and the routing rows. Every backend implements it with [`Store`].
pub trait ApiStore: Store + WebStore + TokenStore {
    /// Create a user; `Conflict` when the e-mail is taken.
    fn create_user(&self, name: &str, email: &str, password_hash: &str) -> Result<User>;
    /// A user by e-mail (case-insensitive).
    fn user_by_email(&self, email: &str) -> Result<User>;
    /// Store a token (its hash only); returns its id. Appends a `token` change.
    fn create_token(
        &self,
        name: &str,
        hash: &str,
        scope: &str,
        allow: Option<&str>,
        user_id: Option<i64>,
    ) -> Result<i64>;
    /// Every token.
    fn tokens(&self) -> Result<Vec<TokenRecord>>;
    /// A contact by id.
    fn contact(&self, id: i64) -> Result<Contact>;
    /// The contacts of a customer, in id order.
    fn contacts_of(&self, customer_id: i64) -> Result<Vec<Contact>>;
    /// Create a contact (its phones indexed); returns it as stored.
    fn create_contact(&self, c: &Contact) -> Result<Contact>;
    /// Replace a contact; returns it as stored.
    fn update_contact(&self, c: &Contact) -> Result<Contact>;
    /// Delete a contact.
    fn delete_contact(&self, id: i64) -> Result<()>;
    /// The contact owning a number: exact E.164 first, else the last 9 digits; the most
    /// recently updated when several.
    fn contact_by_phone(&self, e164: &str) -> Result<Option<Contact>>;
    /// Number of contacts.
    fn count_contacts(&self) -> Result<u64>;
    /// Latest revision of the change feed (0 when empty).
    fn last_change(&self) -> Result<i64>;
    /// Changes after `rev`, oldest first, at most `limit`.
    fn changes_since(&self, rev: i64, limit: u64) -> Result<Vec<ChangeRecord>>;
    /// Rows for the routing index.
    fn routing_data(&self, scope: &RoutingScope) -> Result<RoutingData>;
    /// The schema version, read within `timeout` through a connection that proves the
    /// database reachable (readiness probe).
    fn ping(&self, timeout: std::time::Duration) -> Result<i64>;
    /// Connections of the pool (metrics).
    fn pool_state(&self) -> ops::PoolState;
    /// Every routing row of one consistent snapshot, streamed to `visit` in bounded memory
    /// (rows are read in chunks, never all at once): the counts, then the customers and
    /// the contacts in id order, then the phone numbers.
    fn routing_scan(&self, visit: &mut dyn FnMut(RoutingRow)) -> Result<()>;
    /// Build the search indexes a first import left for later, if any (one transaction;
    /// lists find the same customers before, only slower); whether there were some.
    fn build_pending_search(&self) -> Result<bool>;
    /// Merge what many single writes left scattered in the search indexes (SQLite's
    /// trigram index, past eight segments: one transaction, some 1.3 s at a million
    /// customers); whether there was anything to do.
    fn tidy_search(&self) -> Result<bool>;
}

/// Open a store with the API methods (see [`open`]).
pub fn open_api(target: &str) -> Result<std::sync::Arc<dyn ApiStore>> {
    if is_postgres(target) {
        return Ok(std::sync::Arc::new(postgres::PgStore::open(target)?));
    }
    Ok(std::sync::Arc::new(sqlite::SqliteStore::open(target)?))
}

// ---------------------------------------------------------------------------------------
// Web pages: sessions and uploaded packs.
// ---------------------------------------------------------------------------------------

/// A signed-in browser session.
#[derive(Debug, Clone)]
pub struct Session {
    /// Who.
    pub user: User,
    /// The token every form of the session must carry.
    pub csrf: String,
    /// When it stops being accepted.
    pub expires_at: String,
}

/// A pack uploaded through the web pages, with its check report and import result (JSON).
#[derive(Debug, Clone)]
pub struct Upload {
    /// Random id (in URLs).
    pub id: String,
    /// Who uploaded it.
    pub user_id: i64,
    /// File name.
    pub name: String,
    /// Its size in bytes.
    pub size: u64,
    /// The file (empty when read without it).
    pub bytes: Vec<u8>,
    /// The dry-run report, once computed.
    pub report: Option<String>,
    /// The import result, once imported.
    pub result: Option<String>,
    /// When.
    pub created_at: String,
    /// The import made from it, once that import is committed (whether undone since).
    pub import: Option<ImportRecord>,
}

/// A file made from an upload and kept with it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum UploadFile {
    /// The user's file back as XLSX with its issues marked.
    Annotated,
    /// The rows with errors, in the file's format.
    Rejected,
    /// Every change the check found (CSV), beyond the report's first ones.
    Changes,
}

impl UploadFile {
    /// Its column in the uploads table.
    pub(crate) fn column(self) -> &'static str {
        match self {
            UploadFile::Annotated => "annotated",
            UploadFile::Rejected => "rejected",
            UploadFile::Changes => "changes",
        }
    }
}

/// Hours an upload is kept.
pub const UPLOAD_HOURS: i64 = 24;
/// Days an upload that was imported is kept: the history links to its report, and the
/// rejected rows of an import can be downloaded again while it is (see `decisions.md`).
pub const IMPORTED_UPLOAD_DAYS: i64 = 30;

/// What the web pages store: sessions and uploads.
pub trait WebStore {
    /// Store a session (its hash only); expired sessions are removed on the way.
    fn create_session(&self, hash: &str, user_id: i64, csrf: &str, expires_at: &str) -> Result<()>;
    /// The live session of a hash, if any.
    fn session(&self, hash: &str) -> Result<Option<Session>>;
    /// End a session.
    fn delete_session(&self, hash: &str) -> Result<()>;
    /// How many users exist (none: the login page explains how to create one).
    fn count_users(&self) -> Result<u64>;
    /// Store an upload; uploads older than [`UPLOAD_HOURS`] are removed on the way, those
    /// that were imported after [`IMPORTED_UPLOAD_DAYS`].
    fn create_upload(&self, id: &str, user_id: i64, name: &str, bytes: &[u8]) -> Result<()>;
    /// An upload by id, with its bytes or without (`bytes` empty); `NotFound` when unknown
    /// or removed.
    fn upload(&self, id: &str, with_bytes: bool) -> Result<Upload>;
    /// Mark an upload as being imported; false when it already was (by any server).
    fn claim_upload(&self, id: &str, marker: &str) -> Result<bool>;
    /// Record the check report and/or the import result of an upload.
    fn set_upload(&self, id: &str, report: Option<&str>, result: Option<&str>) -> Result<()>;
    /// A file made from an upload, if it was made; `NotFound` when the upload is unknown.
    fn upload_file(&self, id: &str, kind: UploadFile) -> Result<Option<Vec<u8>>>;
    /// Keep a file made from an upload.
    fn set_upload_file(&self, id: &str, kind: UploadFile, bytes: &[u8]) -> Result<()>;
    /// The fixing grid's edits of an upload (JSON, see the server's `web::fixing`), if any.
    fn upload_edits(&self, id: &str) -> Result<Option<Vec<u8>>>;
    /// Keep the fixing grid's edits of an upload.
    fn set_upload_edits(&self, id: &str, edits: &[u8]) -> Result<()>;
}
