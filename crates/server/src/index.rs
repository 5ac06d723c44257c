//! The in-memory call-routing index: every phone number and account of the customer base,
//! kept coherent with the database through the change feed.
//!
//! The request path only runs `ident::phone::fast_key` on the incoming number and probes
//! two flat tables; no SQL, no phone parsing, no pointer chasing beyond the owner's record.
//!
//! The layout is compact so that a server holds millions of numbers in a few dozen bytes
//! each (issue 18; 1M customers + 1M contacts went from ≈ 1 GB to ≈ 120 MB):
//!
//! - **numbers**: one open-addressing table of 12-byte slots (packed number key + owner),
//!   placed by the number's last 9 digits, so that the exact match and the last-9-digits
//!   fallback are one probe sequence;
//! - **owners** (customers, contacts): dense slots in parallel arrays (`u32` database id,
//!   flags, `updated_at` as microseconds, a name offset, an account code), found from their
//!   database id by binary search over the id-ordered load;
//! - **names and odd accounts**: one append-only string arena;
//! - **accounts**: a second open-addressing table (account code → customer slot); accounts
//!   written as the database's prefix + digits (`CL0042`) take no arena bytes at all.
//!
//! Removing a number would need the owner's old numbers, which costs 8 bytes per owner to
//! keep. Instead every owner has an 8-bit generation, stamped into its numbers' keys: a
//! change bumps it (the old numbers stop matching at once) and the stale slots are swept
//! when the table would otherwise grow, or before a generation wraps around.

use clientele_core::ident::phone;
use clientele_store::{
    ApiStore, RoutingContact, RoutingCustomer, RoutingData, RoutingPhone, RoutingRow, Settings,
    StoreError,
};
use serde_json::{json, Value as Json};
use std::collections::HashMap;
use std::hash::{BuildHasherDefault, Hasher};

/// A hasher for keys that are already well-spread integers (packed phone digits, ids).
#[derive(Default, Clone, Copy)]
pub struct IntHasher(u64);

impl Hasher for IntHasher {
    fn finish(&self) -> u64 {
        self.0
    }
    fn write(&mut self, bytes: &[u8]) {
        for b in bytes {
            self.0 = (self.0 ^ u64::from(*b)).wrapping_mul(0x100_0000_01b3);
        }
    }
    fn write_u64(&mut self, n: u64) {
        // Fibonacci hashing spreads consecutive numbers over the whole table.
        self.0 = n.wrapping_mul(0x9e37_79b9_7f4a_7c15);
    }
    fn write_u32(&mut self, n: u32) {
        self.write_u64(u64::from(n));
    }
    fn write_i64(&mut self, n: i64) {
        self.write_u64(n as u64);
    }
}

type IntMap<K, V> = HashMap<K, V, BuildHasherDefault<IntHasher>>;

// ---------------------------------------------------------------------------------------
// Number keys: 50 bits of digits, 4 bits of length, 8 bits of the owner's generation.
// ---------------------------------------------------------------------------------------

const LEN_SHIFT: u32 = 50;
const GEN_SHIFT: u32 = 54;
/// The number itself (digits and length), without the generation.
const NUMBER_MASK: u64 = (1 << GEN_SHIFT) - 1;
const VALUE_MASK: u64 = (1 << LEN_SHIFT) - 1;

/// Pack a string of 1–15 ASCII digits (with or without a leading `+`) into a key; the
/// length is kept so that `0012` and `12` differ. 15 digits (< 10¹⁵ < 2⁵⁰) and their
/// length take 54 bits.
pub fn digits_key(s: &str) -> Option<u64> {
    let d = s.strip_prefix('+').unwrap_or(s).as_bytes();
    if d.is_empty() || d.len() > 15 {
        return None;
    }
    let mut v: u64 = 0;
    for b in d {
        if !b.is_ascii_digit() {
            return None;
        }
        v = v * 10 + u64::from(b - b'0');
    }
    Some(((d.len() as u64) << LEN_SHIFT) | v)
}

/// Sum of 10^j for j < len (1 ≤ len ≤ 8): where the numbers shorter than 9 digits start
/// above the 10⁹ last-9-digit codes.
const SHORT_BASE: [u32; 9] = [0, 0, 10, 110, 1_110, 11_110, 111_110, 1_111_110, 11_111_110];

/// The last-9-digits class of a number, as a `u32`: its last 9 digits when it has 9 or
/// more, else a code of its own above 10⁹ (a 5-digit short number shares no class).
fn last9(key: u64) -> u32 {
    let len = ((key >> LEN_SHIFT) & 15) as usize;
    let v = key & VALUE_MASK;
    if len >= 9 {
        (v % 1_000_000_000) as u32
    } else {
        // v < 10^len ≤ 10^8: the sum stays below 1.12 × 10⁹ + 10⁹ < 2³².
        1_000_000_000 + SHORT_BASE[len] + v as u32
    }
}

/// The table position a hash code starts probing at (Fibonacci hashing, then the high bits
/// scaled to the capacity, so that capacities need not be powers of two).
fn home(code: u32, cap: usize) -> usize {
    let h = u64::from(code).wrapping_mul(0x9e37_79b9_7f4a_7c15);
    ((u128::from(h) * cap as u128) >> 64) as usize
}

/// Whether `x` lies in the cyclic interval `(from, to]`.
fn cyclic_between(from: usize, x: usize, to: usize) -> bool {
    if from <= to {
        from < x && x <= to
    } else {
        x > from || x <= to
    }
}

/// A number slot: key (0 = empty) in two halves so that a slot is 12 bytes, and its owner.
#[derive(Clone, Copy, Default)]
struct Slot {
    lo: u32,
    hi: u32,
    owner: u32,
}

impl Slot {
    fn key(self) -> u64 {
        (u64::from(self.hi) << 32) | u64::from(self.lo)
    }
}

/// Owners of numbers: customer slot, or contact slot with this bit.
const CONTACT: u32 = 1 << 31;

/// Largest load before a sweep or growth; growth leaves it at [`LOAD_AFTER_GROWTH`].
const MAX_LOAD: f64 = 0.85;
const LOAD_AFTER_GROWTH: f64 = 0.7;
/// Load a table is sized for when the count is known in advance (a full load).
const LOAD_INITIAL: f64 = 0.75;

fn capacity_for(n: usize, load: f64) -> usize {
    ((n as f64 / load) as usize).max(16)
}

/// The numbers: linear probing on the last-9-digit class, several slots per number when
/// it is shared.
#[derive(Default)]
struct Numbers {
    slots: Vec<Slot>,
    len: usize,
}

impl Numbers {
    fn with_capacity(n: usize) -> Numbers {
        Numbers {
            slots: vec![Slot::default(); capacity_for(n, LOAD_INITIAL)],
            len: 0,
        }
    }

    fn full(&self) -> bool {
        (self.len + 1) as f64 > self.slots.len() as f64 * MAX_LOAD
    }

    fn insert(&mut self, key: u64, owner: u32) {
        let cap = self.slots.len();
        let mut i = home(last9(key), cap);
        while self.slots[i].key() != 0 {
            i = if i + 1 == cap { 0 } else { i + 1 };
        }
        self.slots[i] = Slot {
            lo: key as u32,
            hi: (key >> 32) as u32,
            owner,
        };
        self.len += 1;
    }

    /// Rebuild with room for `n` slots at [`LOAD_AFTER_GROWTH`].
    fn resize(&mut self, n: usize) {
        let old = std::mem::replace(
            &mut self.slots,
            vec![Slot::default(); capacity_for(n, LOAD_AFTER_GROWTH)],
        );
        self.len = 0;
        for s in old {
            if s.key() != 0 {
                self.insert(s.key(), s.owner);
            }
        }
    }

    /// Empty slot `i`, moving later slots of its cluster back (no tombstones).
    fn remove_at(&mut self, i: usize) {
        let cap = self.slots.len();
        let mut hole = i;
        let mut j = i;
        loop {
            j = if j + 1 == cap { 0 } else { j + 1 };
            let s = self.slots[j];
            if s.key() == 0 {
                break;
            }
            if !cyclic_between(hole, home(last9(s.key()), cap), j) {
                self.slots[hole] = s;
                hole = j;
            }
        }
        self.slots[hole] = Slot::default();
        self.len -= 1;
    }

    /// Keep only the slots `keep` accepts, in place.
    fn retain(&mut self, mut keep: impl FnMut(Slot) -> bool) {
        let mut i = 0;
        while i < self.slots.len() {
            let s = self.slots[i];
            if s.key() != 0 && !keep(s) {
                // The slot that moves into `i` is looked at next.
                self.remove_at(i);
            } else {
                i += 1;
            }
        }
    }

    /// Every slot whose number has this last-9-digit class.
    fn probe(&self, class: u32) -> impl Iterator<Item = Slot> + '_ {
        let cap = self.slots.len();
        let start = if cap == 0 { 0 } else { home(class, cap) };
        let mut i = start;
        let mut done = cap == 0;
        std::iter::from_fn(move || loop {
            if done {
                return None;
            }
            let s = self.slots[i];
            i = if i + 1 == cap { 0 } else { i + 1 };
            if s.key() == 0 || i == start {
                done = true;
                if s.key() == 0 {
                    return None;
                }
            }
            if last9(s.key()) == class {
                return Some(s);
            }
        })
    }

    fn bytes(&self) -> usize {
        self.slots.capacity() * std::mem::size_of::<Slot>()
    }
}

// ---------------------------------------------------------------------------------------
// Accounts
// ---------------------------------------------------------------------------------------

/// The code an account is filed under: its number when it is the database's prefix +
/// digits with a number below 2³¹ (so that `42` finds `CL0042`), else a hash of the text
/// with the high bit set.
fn account_code(settings: &Settings, account: &str) -> u32 {
    match settings.number_of(account) {
        Some(n) if n < u64::from(CONTACT) => n as u32,
        _ => {
            let mut h = IntHasher::default();
            h.write(account.as_bytes());
            (h.finish() as u32) | CONTACT
        }
    }
}

const NO_SLOT: u32 = u32::MAX;

/// Account code → customer slot, linear probing; `slot == NO_SLOT` is empty.
#[derive(Default)]
struct Accounts {
    slots: Vec<(u32, u32)>,
    len: usize,
}

impl Accounts {
    fn with_capacity(n: usize) -> Accounts {
        Accounts {
            slots: vec![(0, NO_SLOT); capacity_for(n, LOAD_INITIAL)],
            len: 0,
        }
    }

    fn insert(&mut self, code: u32, slot: u32) {
        if (self.len + 1) as f64 > self.slots.len() as f64 * MAX_LOAD {
            let old = std::mem::replace(
                &mut self.slots,
                vec![(0, NO_SLOT); capacity_for(self.len + 1, LOAD_AFTER_GROWTH)],
            );
            self.len = 0;
            for (c, s) in old {
                if s != NO_SLOT {
                    self.insert(c, s);
                }
            }
        }
        let cap = self.slots.len();
        let mut i = home(code, cap);
        while self.slots[i].1 != NO_SLOT {
            i = if i + 1 == cap { 0 } else { i + 1 };
        }
        self.slots[i] = (code, slot);
        self.len += 1;
    }

    fn remove(&mut self, code: u32, slot: u32) {
        let cap = self.slots.len();
        if cap == 0 {
            return;
        }
        let mut i = home(code, cap);
        loop {
            let (c, s) = self.slots[i];
            if s == NO_SLOT {
                return;
            }
            if (c, s) == (code, slot) {
                break;
            }
            i = if i + 1 == cap { 0 } else { i + 1 };
        }
        let mut hole = i;
        let mut j = i;
        loop {
            j = if j + 1 == cap { 0 } else { j + 1 };
            let e = self.slots[j];
            if e.1 == NO_SLOT {
                break;
            }
            if !cyclic_between(hole, home(e.0, cap), j) {
                self.slots[hole] = e;
                hole = j;
            }
        }
        self.slots[hole] = (0, NO_SLOT);
        self.len -= 1;
    }

    /// The customer slots filed under `code`.
    fn find(&self, code: u32) -> impl Iterator<Item = u32> + '_ {
        let cap = self.slots.len();
        let mut i = if cap == 0 { 0 } else { home(code, cap) };
        let mut left = cap;
        std::iter::from_fn(move || loop {
            if left == 0 {
                return None;
            }
            left -= 1;
            let (c, s) = self.slots[i];
            i = if i + 1 == cap { 0 } else { i + 1 };
            if s == NO_SLOT {
                left = 0;
                return None;
            }
            if c == code {
                return Some(s);
            }
        })
    }

    fn bytes(&self) -> usize {
        self.slots.capacity() * 8
    }
}

// ---------------------------------------------------------------------------------------
// Strings and ids
// ---------------------------------------------------------------------------------------

/// Names and unusual accounts, each a varint length then UTF-8 bytes; offset 0 is the
/// empty string. Replaced strings are garbage until [`Index::compact_arena`].
struct Arena {
    bytes: Vec<u8>,
    garbage: usize,
}

impl Default for Arena {
    fn default() -> Self {
        Arena {
            bytes: vec![0],
            garbage: 0,
        }
    }
}

/// Bytes reserved per customer name at a full load (a length byte and 23 bytes of UTF-8).
const NAME_RESERVE: usize = 24;

/// Arena offsets are below 2³¹ (the high bit of an account code tells an arena string).
const ARENA_LIMIT: usize = 1 << 31;

impl Arena {
    fn put_len(&mut self, mut n: usize) {
        while n >= 0x80 {
            self.bytes.push((n as u8) | 0x80);
            n >>= 7;
        }
        self.bytes.push(n as u8);
    }

    /// Store one string; `None` when the arena is full.
    fn push(&mut self, s: &str) -> Option<u32> {
        if s.is_empty() {
            return Some(0);
        }
        let at = self.bytes.len();
        if at + s.len() + 5 >= ARENA_LIMIT {
            return None;
        }
        self.put_len(s.len());
        self.bytes.extend_from_slice(s.as_bytes());
        Some(at as u32)
    }

    /// The string at `at` and where it ends.
    fn read(&self, at: usize) -> (&str, usize) {
        let (mut n, mut shift, mut i) = (0usize, 0, at);
        while let Some(&b) = self.bytes.get(i) {
            i += 1;
            n |= usize::from(b & 0x7f) << shift;
            shift += 7;
            if b & 0x80 == 0 || shift > 28 {
                break;
            }
        }
        let end = (i + n).min(self.bytes.len());
        // Only whole `&str`s were stored; a bad offset reads as an empty name.
        (std::str::from_utf8(&self.bytes[i..end]).unwrap_or(""), end)
    }

    fn get(&self, at: u32) -> &str {
        self.read(at as usize).0
    }

    /// Bytes an entry takes (for the garbage count).
    fn size_of(&self, at: u32) -> usize {
        if at == 0 {
            return 0;
        }
        self.read(at as usize).1 - at as usize
    }
}

/// Database ids → dense slots. The full load comes in id order, so slot `i` of that part
/// holds the `i`-th smallest id and a binary search finds it; owners added later (new
/// ids, usually larger) extend it while they stay in order, the others go to a small map.
#[derive(Default)]
struct Ids {
    ids: Vec<u32>,
    sorted: usize,
    /// Slot → id for ids that do not fit a `u32` (stored as `u32::MAX` in `ids`).
    big: IntMap<u32, i64>,
    /// Id → slot for slots past the sorted part.
    extra: IntMap<i64, u32>,
}

impl Ids {
    fn with_capacity(n: usize) -> Ids {
        Ids {
            ids: Vec::with_capacity(n),
            ..Ids::default()
        }
    }

    fn slot(&self, id: i64) -> Option<u32> {
        if let Ok(small) = u32::try_from(id) {
            if small != u32::MAX {
                if let Some(i) = self.sorted_slot(small) {
                    return Some(i as u32);
                }
            }
        }
        self.extra.get(&id).copied()
    }

    /// The slot of `id` in the sorted part. Ids are unique and increasing there, so `id`
    /// can only sit at or before `id - first`; with the database's dense ids it sits right
    /// there, found in one read instead of a binary search's twenty cache misses (a load
    /// looks up every number's owner this way).
    fn sorted_slot(&self, id: u32) -> Option<usize> {
        let sorted = &self.ids[..self.sorted];
        let (&first, &last) = (sorted.first()?, sorted.last()?);
        if id < first || id > last {
            return None;
        }
        let at_most = ((id - first) as usize).min(sorted.len() - 1);
        if sorted[at_most] == id {
            return Some(at_most);
        }
        sorted[..at_most].binary_search(&id).ok()
    }

    fn id(&self, slot: u32) -> i64 {
        match self.ids.get(slot as usize) {
            Some(&u32::MAX) | None => self.big.get(&slot).copied().unwrap_or(-1),
            Some(&v) => i64::from(v),
        }
    }

    /// A new slot for an id not yet here.
    fn push(&mut self, id: i64) -> u32 {
        let slot = self.ids.len() as u32;
        let small = u32::try_from(id).ok().filter(|&v| v != u32::MAX);
        match small {
            Some(v)
                if self.sorted == self.ids.len()
                    && self.ids.last().is_none_or(|&last| last < v) =>
            {
                self.ids.push(v);
                self.sorted += 1;
            }
            _ => {
                self.ids.push(small.unwrap_or(u32::MAX));
                if small.is_none() {
                    self.big.insert(slot, id);
                }
                self.extra.insert(id, slot);
            }
        }
        slot
    }

    fn bytes(&self) -> usize {
        self.ids.capacity() * 4 + (self.big.capacity() + self.extra.capacity()) * 17
    }
}

/// `updated_at` as microseconds since 1970 (dates alone are midnight; an offset is
/// applied), so that "most recently updated" compares integers; unreadable text is 0.
fn parse_time(s: &str) -> i64 {
    fn num(b: &[u8]) -> Option<i64> {
        if b.is_empty() || !b.iter().all(u8::is_ascii_digit) {
            return None;
        }
        Some(b.iter().fold(0i64, |v, d| v * 10 + i64::from(d - b'0')))
    }
    let b = s.trim().as_bytes();
    let parse = || -> Option<i64> {
        let (y, m, d) = (num(b.get(0..4)?)?, num(b.get(5..7)?)?, num(b.get(8..10)?)?);
        if b.get(4) != Some(&b'-') || b.get(7) != Some(&b'-') || !(1..=12).contains(&m) {
            return None;
        }
        // Days from civil (Howard Hinnant's algorithm).
        let (yy, mm) = if m <= 2 { (y - 1, m + 9) } else { (y, m - 3) };
        let era = yy.div_euclid(400);
        let yoe = yy - era * 400;
        let doy = (153 * mm + 2) / 5 + d - 1;
        let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
        let days = era * 146_097 + doe - 719_468;
        let mut micros = days * 86_400_000_000;
        let rest = &b[10..];
        if rest.is_empty() {
            return Some(micros);
        }
        let t = rest.get(1..)?;
        let (h, mi) = (num(t.get(0..2)?)?, num(t.get(3..5)?)?);
        micros += (h * 3600 + mi * 60) * 1_000_000;
        let mut i = 5;
        if t.get(5) == Some(&b':') {
            micros += num(t.get(6..8)?)? * 1_000_000;
            i = 8;
            if t.get(8) == Some(&b'.') {
                i = 9;
                let mut scale = 100_000;
                while let Some(d) = t.get(i).filter(|d| d.is_ascii_digit()) {
                    micros += i64::from(d - b'0') * scale;
                    scale /= 10;
                    i += 1;
                }
            }
        }
        match t.get(i) {
            Some(&sign @ (b'+' | b'-')) => {
                let (oh, om) = (num(t.get(i + 1..i + 3)?)?, num(t.get(i + 4..i + 6)?)?);
                let off = (oh * 3600 + om * 60) * 1_000_000;
                micros += if sign == b'+' { -off } else { off };
            }
            Some(b'Z' | b'z') | None => {}
            Some(_) => return None,
        }
        Some(micros)
    };
    parse().unwrap_or(0)
}

// ---------------------------------------------------------------------------------------
// The index
// ---------------------------------------------------------------------------------------

/// Build the index of the whole database, streamed from one snapshot: sized once from the
/// counts, rows taken one by one, so memory never goes above the finished index.
///
/// The scan (stepping the database's rows and decoding them) and the building take about
/// the same time, so they run on two threads joined by a short queue of row batches: a
/// load takes about half as long on two cores (issue 18: 3.1 s → under 2 s for 1M
/// customers + 1M contacts), and the queue bounds what is in flight to a few thousand rows.
pub fn load(store: &dyn ApiStore) -> Result<Index, StoreError> {
    const BATCH: usize = 4096;
    let ix = Index::with_capacity(store.settings()?, 0, 0, 0);
    let (send, receive) = std::sync::mpsc::sync_channel::<Vec<RoutingRow>>(4);
    std::thread::scope(|scope| {
        let builder = scope.spawn(move || {
            let mut ix = ix;
            for batch in receive {
                for row in batch {
                    ix.load_row(row);
                }
            }
            ix
        });
        let mut batch = Vec::with_capacity(BATCH);
        let scanned = store.routing_scan(&mut |row| {
            batch.push(row);
            if batch.len() == BATCH {
                let full = std::mem::replace(&mut batch, Vec::with_capacity(BATCH));
                // The builder only stops receiving when it panicked, which `join` reports.
                let _ = send.send(full);
            }
        });
        if !batch.is_empty() {
            let _ = send.send(batch);
        }
        drop(send);
        // A panic while building is a bug of ours, not bad data: pass it on as it was.
        let ix = builder
            .join()
            .unwrap_or_else(|panic| std::panic::resume_unwind(panic));
        let t = std::time::Instant::now();
        release_freed_memory();
        tracing::debug!(
            ms = t.elapsed().as_millis() as u64,
            "memory released after the load"
        );
        scanned.map(|()| ix)
    })
}

/// Give back to the system the pages that a load freed (its rows and batches), now rather
/// than at the allocator's next call: an idle server would otherwise hold ≈ 20 MB more
/// than its index for as long as nothing else allocates (issue 18).
fn release_freed_memory() {
    // SAFETY: `mi_collect` has no preconditions; it walks mimalloc's own free lists. In a
    // binary whose global allocator is not mimalloc it finds nothing to release.
    unsafe { libmimalloc_sys::mi_collect(true) }
}

const ALIVE: u8 = 1;
const ACTIVE: u8 = 2;
const VIP: u8 = 4;
const ON_CALL: u8 = 8;

/// Account stored nowhere (blank).
const NO_ACCOUNT: u32 = u32::MAX;
/// Account code bits: prefix + `width` digits with number `n` (`n < 2²⁷`, `width ≤ 15`),
/// or an arena offset with the high bit.
const ACCOUNT_N_BITS: u32 = 27;

/// Customers, one slot each, in parallel arrays.
#[derive(Default)]
struct Customers {
    ids: Ids,
    updated: Vec<i64>,
    name: Vec<u32>,
    account: Vec<u32>,
    flags: Vec<u8>,
    generation: Vec<u8>,
}

/// Contacts, one slot each; `customer == NO_SLOT` once removed.
#[derive(Default)]
struct Contacts {
    ids: Ids,
    customer: Vec<u32>,
    generation: Vec<u8>,
}

/// The routing index.
#[derive(Default)]
pub struct Index {
    customers: Customers,
    contacts: Contacts,
    numbers: Numbers,
    accounts: Accounts,
    arena: Arena,
    settings: Settings,
    live_customers: usize,
    live_contacts: usize,
}

impl std::fmt::Debug for Index {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let (cu, ct, n) = self.sizes();
        write!(f, "Index({cu} customers, {ct} contacts, {n} number slots)")
    }
}

/// What a look-up found.
#[derive(Debug, Clone, PartialEq)]
pub struct Answer {
    /// Customer id.
    pub customer_id: i64,
    /// Customer account.
    pub account: String,
    /// Name.
    pub name: String,
    /// VIP.
    pub vip: bool,
    /// On-call contract.
    pub on_call: bool,
    /// The id of the contact whose number matched (its names are read from the database
    /// by the one route that shows them, see [`ContactNames`]).
    pub contact: Option<i64>,
}

/// A match of the index, valid for the index it came from (slots, not ids).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Hit {
    customer: u32,
    contact: Option<u32>,
}

/// The two facts most routes answer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Flags {
    /// VIP.
    pub vip: bool,
    /// On-call contract.
    pub on_call: bool,
}

/// A matched contact's names, for `details=1`: read from the database when asked for, since
/// the index does not hold them.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ContactNames {
    /// First name.
    pub first_name: Option<String>,
    /// Last name.
    pub last_name: Option<String>,
}

impl ContactNames {
    /// Read a contact's names from the database.
    pub fn read(store: &dyn ApiStore, contact_id: i64) -> Result<ContactNames, StoreError> {
        let c = store.contact(contact_id)?;
        Ok(ContactNames {
            first_name: c.text("firstName").map(str::to_string),
            last_name: c.text("lastName").map(str::to_string),
        })
    }
}

impl Answer {
    /// The `details=1` object, with the matched contact's names when there is one.
    pub fn details(&self, names: &ContactNames) -> Json {
        json!({
            "known": true,
            "customerAccount": self.account,
            "name": self.name,
            "vip": self.vip,
            "onCallDuty": self.on_call,
            "contact": self.contact.map(|id| json!({"id": id, "firstName": names.first_name, "lastName": names.last_name})),
        })
    }
    /// The caller-id text: the name, with ` [VIP]` and ` [ASTREINTE]` when they apply.
    pub fn caller_id(&self) -> String {
        let mut s = self.name.clone();
        if self.vip {
            s.push_str(" [VIP]");
        }
        if self.on_call {
            s.push_str(" [ASTREINTE]");
        }
        s
    }
}

/// Where the index's memory goes, in bytes (allocated capacity).
#[derive(Debug, Clone, Copy, Default)]
pub struct Footprint {
    /// The number table.
    pub numbers: usize,
    /// Customer records and the account table.
    pub customers: usize,
    /// Contact records.
    pub contacts: usize,
    /// Names and unusual accounts.
    pub strings: usize,
}

impl Footprint {
    /// Everything.
    pub fn total(&self) -> usize {
        self.numbers + self.customers + self.contacts + self.strings
    }
}

/// A candidate owner of a number, ordered as routing prefers them: most recently updated
/// customer, then highest customer id, then the customer's own number over a contact's.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
struct Rank {
    updated: i64,
    customer_id: i64,
    own: bool,
    customer: u32,
    owner: u32,
}

impl Index {
    /// An empty index sized for a full load of this many rows, so that it never grows (and
    /// never holds two copies of a table) while it loads.
    pub fn with_capacity(
        settings: Settings,
        customers: usize,
        contacts: usize,
        phones: usize,
    ) -> Index {
        Index {
            customers: Customers {
                ids: Ids::with_capacity(customers),
                updated: Vec::with_capacity(customers),
                name: Vec::with_capacity(customers),
                account: Vec::with_capacity(customers),
                flags: Vec::with_capacity(customers),
                generation: Vec::with_capacity(customers),
            },
            contacts: Contacts {
                ids: Ids::with_capacity(contacts),
                customer: Vec::with_capacity(contacts),
                generation: Vec::with_capacity(contacts),
            },
            numbers: Numbers::with_capacity(phones),
            accounts: Accounts::with_capacity(customers),
            settings,
            ..Index::default()
        }
    }

    /// Build from all rows.
    pub fn build(data: RoutingData, settings: Settings) -> Index {
        let mut ix = Index::with_capacity(
            settings,
            data.customers.len(),
            data.contacts.len(),
            data.phones.len(),
        );
        for c in data.customers {
            ix.upsert_customer(c);
        }
        for c in data.contacts {
            ix.upsert_contact(c);
        }
        for p in data.phones {
            ix.add_phone(&p);
        }
        ix
    }

    /// Take one row of a full scan ([`clientele_store::ApiStore::routing_scan`]): the
    /// counts first (the index is sized once), then customers, contacts and numbers.
    pub fn load_row(&mut self, row: RoutingRow) {
        match row {
            RoutingRow::Counts {
                customers,
                contacts,
                phones,
            } => {
                let settings = std::mem::take(&mut self.settings);
                let n = |v: u64| usize::try_from(v).unwrap_or(usize::MAX);
                *self = Index::with_capacity(settings, n(customers), n(contacts), n(phones));
                // Room for the customers' names, so that the arena does not double (and copy)
                // while it loads: most company names are shorter than this. Pages reserved
                // and never written are not resident.
                self.arena
                    .bytes
                    .reserve(n(customers).saturating_mul(NAME_RESERVE));
            }
            RoutingRow::Customer(c) => self.upsert_customer(c),
            RoutingRow::Contact(c) => self.upsert_contact(c),
            RoutingRow::Phone(p) => self.add_phone(&p),
        }
    }

    /// Number of customers, of contacts, and of indexed number slots (stale ones included
    /// until they are swept).
    pub fn sizes(&self) -> (usize, usize, usize) {
        (self.live_customers, self.live_contacts, self.numbers.len)
    }

    /// Allocated bytes, by part.
    pub fn footprint(&self) -> Footprint {
        let c = &self.customers;
        let t = &self.contacts;
        Footprint {
            numbers: self.numbers.bytes(),
            customers: c.ids.bytes()
                + c.updated.capacity() * 8
                + (c.name.capacity() + c.account.capacity()) * 4
                + c.flags.capacity()
                + c.generation.capacity()
                + self.accounts.bytes(),
            contacts: t.ids.bytes() + t.customer.capacity() * 4 + t.generation.capacity(),
            strings: self.arena.bytes.capacity(),
        }
    }

    // ---- owners and generations

    fn generation(&self, owner: u32) -> u8 {
        if owner & CONTACT != 0 {
            self.contacts.generation[(owner & !CONTACT) as usize]
        } else {
            self.customers.generation[owner as usize]
        }
    }

    /// Whether a number slot is current: its owner's generation, and a contact's customer
    /// still there.
    fn current(&self, s: Slot) -> bool {
        let owner = s.owner;
        let generation = (s.key() >> GEN_SHIFT) as u8;
        if owner & CONTACT != 0 {
            let ct = (owner & !CONTACT) as usize;
            self.contacts.generation.get(ct) == Some(&generation)
                && self.contacts.customer[ct] != NO_SLOT
        } else {
            self.customers.generation.get(owner as usize) == Some(&generation)
                && self.customers.flags[owner as usize] & ALIVE != 0
        }
    }

    /// Make every number of `owner` stale. Before a generation wraps around, the stale
    /// slots are swept, so that an old slot can never come back to life.
    fn bump(&mut self, owner: u32) {
        if self.generation(owner) == u8::MAX {
            self.sweep();
        }
        let g = if owner & CONTACT != 0 {
            &mut self.contacts.generation[(owner & !CONTACT) as usize]
        } else {
            &mut self.customers.generation[owner as usize]
        };
        *g = g.wrapping_add(1);
    }

    /// Remove the stale number slots.
    fn sweep(&mut self) {
        let mut numbers = std::mem::take(&mut self.numbers);
        numbers.retain(|s| self.current(s));
        self.numbers = numbers;
    }

    fn add_phone(&mut self, p: &RoutingPhone) {
        let Some(key) = digits_key(&p.e164) else {
            return;
        };
        let owner = match p.contact_id {
            Some(ct) => match self.contacts.ids.slot(ct) {
                Some(s) if self.contacts.customer[s as usize] != NO_SLOT => s | CONTACT,
                _ => return,
            },
            None => match self.customers.ids.slot(p.customer_id) {
                Some(s) if self.customers.flags[s as usize] & ALIVE != 0 => s,
                _ => return,
            },
        };
        if self.numbers.full() {
            self.sweep();
            if self.numbers.full() {
                self.numbers.resize(self.numbers.len + 1);
            }
        }
        let generation = u64::from(self.generation(owner));
        self.numbers.insert(key | (generation << GEN_SHIFT), owner);
    }

    // ---- accounts

    /// The compact form of an account (see [`ACCOUNT_N_BITS`]), or `None` for the arena.
    fn account_compact(&self, account: &str) -> Option<u32> {
        let digits = account.strip_prefix(self.settings.account_prefix.as_str())?;
        if digits.is_empty() || digits.len() > 15 || !digits.bytes().all(|b| b.is_ascii_digit()) {
            return None;
        }
        let n: u32 = digits.parse().ok()?;
        (n < 1 << ACCOUNT_N_BITS).then_some(((digits.len() as u32) << ACCOUNT_N_BITS) | n)
    }

    fn account_of(&self, slot: u32) -> String {
        let a = self.customers.account[slot as usize];
        if a == NO_ACCOUNT {
            String::new()
        } else if a & CONTACT != 0 {
            self.arena.get(a & !CONTACT).to_string()
        } else {
            let width = (a >> ACCOUNT_N_BITS) as usize;
            let n = a & ((1 << ACCOUNT_N_BITS) - 1);
            format!("{}{n:0width$}", self.settings.account_prefix)
        }
    }

    fn account_is(&self, slot: u32, s: &str) -> bool {
        let a = self.customers.account[slot as usize];
        if a == NO_ACCOUNT {
            false
        } else if a & CONTACT != 0 {
            self.arena.get(a & !CONTACT) == s
        } else {
            self.account_compact(s) == Some(a)
        }
    }

    fn forget_account(&mut self, slot: u32) {
        let a = self.customers.account[slot as usize];
        if a == NO_ACCOUNT {
            return;
        }
        let account = self.account_of(slot);
        self.accounts
            .remove(account_code(&self.settings, &account), slot);
        if a & CONTACT != 0 {
            self.arena.garbage += self.arena.size_of(a & !CONTACT);
        }
        self.customers.account[slot as usize] = NO_ACCOUNT;
    }

    fn set_account(&mut self, slot: u32, account: &str) {
        if account.is_empty() {
            return;
        }
        let code = match self.account_compact(account) {
            Some(c) => c,
            None => match self.arena.push(account) {
                Some(at) => at | CONTACT,
                None => {
                    tracing::warn!(
                        "routing index: string space full, account {account} not indexed"
                    );
                    return;
                }
            },
        };
        self.customers.account[slot as usize] = code;
        self.accounts
            .insert(account_code(&self.settings, account), slot);
    }

    fn name(&mut self, s: &str) -> u32 {
        self.arena.push(s).unwrap_or_else(|| {
            tracing::warn!("routing index: string space full, a name is left blank");
            0
        })
    }

    // ---- customers

    fn upsert_customer(&mut self, c: RoutingCustomer) {
        let slot = match self.customers.ids.slot(c.id) {
            Some(s) => {
                let was_alive = self.customers.flags[s as usize] & ALIVE != 0;
                if was_alive {
                    self.forget_account(s);
                    let old = self.customers.name[s as usize];
                    self.arena.garbage += self.arena.size_of(old);
                } else {
                    self.live_customers += 1;
                }
                self.bump(s);
                s
            }
            None => {
                let s = self.customers.ids.push(c.id);
                let cu = &mut self.customers;
                cu.updated.push(0);
                cu.name.push(0);
                cu.account.push(NO_ACCOUNT);
                cu.flags.push(0);
                cu.generation.push(0);
                self.live_customers += 1;
                s
            }
        };
        let name = self.name(&c.name);
        let i = slot as usize;
        let flags = ALIVE
            | if c.active { ACTIVE } else { 0 }
            | if c.vip { VIP } else { 0 }
            | if c.on_call { ON_CALL } else { 0 };
        self.customers.updated[i] = parse_time(&c.updated_at);
        self.customers.name[i] = name;
        self.customers.flags[i] = flags;
        self.set_account(slot, &c.account);
        self.maybe_compact_arena();
    }

    /// Remove customers, and with them their contacts (the database cascades).
    fn remove_customers(&mut self, ids: &[i64]) {
        let mut gone = Vec::new();
        for &id in ids {
            let Some(s) = self.customers.ids.slot(id) else {
                continue;
            };
            if self.customers.flags[s as usize] & ALIVE == 0 {
                continue;
            }
            self.forget_account(s);
            let old = std::mem::take(&mut self.customers.name[s as usize]);
            self.arena.garbage += self.arena.size_of(old);
            self.customers.flags[s as usize] = 0;
            self.bump(s);
            self.live_customers -= 1;
            gone.push(s);
        }
        if gone.is_empty() {
            return;
        }
        gone.sort_unstable();
        // One pass over the contacts for the whole batch (no per-customer contact lists).
        for ct in 0..self.contacts.customer.len() {
            let cu = self.contacts.customer[ct];
            if cu != NO_SLOT && gone.binary_search(&cu).is_ok() {
                self.drop_contact(ct as u32);
            }
        }
    }

    // ---- contacts

    fn drop_contact(&mut self, slot: u32) {
        let i = slot as usize;
        if self.contacts.customer[i] == NO_SLOT {
            return;
        }
        self.contacts.customer[i] = NO_SLOT;
        self.bump(slot | CONTACT);
        self.live_contacts -= 1;
    }

    fn upsert_contact(&mut self, c: RoutingContact) {
        let customer = self
            .customers
            .ids
            .slot(c.customer_id)
            .filter(|&s| self.customers.flags[s as usize] & ALIVE != 0);
        let slot = match self.contacts.ids.slot(c.id) {
            Some(s) => {
                self.drop_contact(s);
                s
            }
            None => {
                let Some(_) = customer else {
                    // A contact of an unknown customer answers nothing (as before).
                    return;
                };
                let s = self.contacts.ids.push(c.id);
                self.contacts.customer.push(NO_SLOT);
                self.contacts.generation.push(0);
                s
            }
        };
        let Some(customer) = customer else {
            return;
        };
        self.contacts.customer[slot as usize] = customer;
        self.live_contacts += 1;
    }

    fn remove_contacts(&mut self, ids: &[i64]) {
        for &id in ids {
            if let Some(s) = self.contacts.ids.slot(id) {
                self.drop_contact(s);
            }
        }
    }

    // ---- arena upkeep

    /// Copy the live strings into a fresh arena once more than half of it is garbage.
    fn maybe_compact_arena(&mut self) {
        if self.arena.garbage < (1 << 20) || self.arena.garbage * 2 < self.arena.bytes.len() {
            return;
        }
        self.compact_arena();
    }

    fn compact_arena(&mut self) {
        let old = std::mem::take(&mut self.arena);
        let mut new = Arena::default();
        new.bytes
            .reserve(old.bytes.len().saturating_sub(old.garbage));
        for i in 0..self.customers.name.len() {
            let n = self.customers.name[i];
            if n != 0 {
                self.customers.name[i] = new.push(old.get(n)).unwrap_or(0);
            }
            let a = self.customers.account[i];
            if a != NO_ACCOUNT && a & CONTACT != 0 {
                self.customers.account[i] = match new.push(old.get(a & !CONTACT)) {
                    Some(at) => at | CONTACT,
                    None => NO_ACCOUNT,
                };
            }
        }
        self.arena = new;
    }

    // ---- change feed

    /// Apply reloaded customers: `ids` were asked for, `data` holds those that still exist
    /// with their own numbers.
    pub fn apply_customers(&mut self, ids: &[i64], data: RoutingData) {
        let present: std::collections::HashSet<i64> = data.customers.iter().map(|c| c.id).collect();
        let gone: Vec<i64> = ids
            .iter()
            .copied()
            .filter(|id| !present.contains(id))
            .collect();
        self.remove_customers(&gone);
        for c in data.customers {
            // Bumps the generation: the customer's old numbers stop answering.
            self.upsert_customer(c);
        }
        for p in data.phones.iter().filter(|p| p.contact_id.is_none()) {
            self.add_phone(p);
        }
    }

    /// Apply reloaded contacts (see [`Index::apply_customers`]).
    pub fn apply_contacts(&mut self, ids: &[i64], data: RoutingData) {
        let present: std::collections::HashSet<i64> = data.contacts.iter().map(|c| c.id).collect();
        let gone: Vec<i64> = ids
            .iter()
            .copied()
            .filter(|id| !present.contains(id))
            .collect();
        self.remove_contacts(&gone);
        for c in data.contacts {
            self.upsert_contact(c);
        }
        for p in data.phones.iter().filter(|p| p.contact_id.is_some()) {
            self.add_phone(p);
        }
    }

    // ---- look-ups

    fn rank(&self, s: Slot) -> Option<Rank> {
        if !self.current(s) {
            return None;
        }
        let (customer, own) = if s.owner & CONTACT != 0 {
            (self.contacts.customer[(s.owner & !CONTACT) as usize], false)
        } else {
            (s.owner, true)
        };
        let i = customer as usize;
        if self.customers.flags[i] & (ALIVE | ACTIVE) != ALIVE | ACTIVE {
            return None;
        }
        Some(Rank {
            updated: self.customers.updated[i],
            customer_id: self.customers.ids.id(customer),
            own,
            customer,
            owner: s.owner,
        })
    }

    fn answer(&self, customer: u32, contact: Option<u32>) -> Answer {
        let i = customer as usize;
        let flags = self.customers.flags[i];
        Answer {
            customer_id: self.customers.ids.id(customer),
            account: self.account_of(customer),
            name: self.arena.get(self.customers.name[i]).to_string(),
            vip: flags & VIP != 0,
            on_call: flags & ON_CALL != 0,
            contact: contact.map(|ct| self.contacts.ids.id(ct)),
        }
    }

    /// The active customer a caller number belongs to: a full E.164 match wins over a match
    /// on the last 9 digits; among several, the most recently updated customer.
    pub fn by_phone(&self, raw: &str) -> Option<Answer> {
        self.hit_by_phone(raw).map(|h| self.answer_of(h))
    }

    /// [`Index::by_phone`] without building the answer: the flag routes need two bits, not
    /// the account and name strings.
    pub fn hit_by_phone(&self, raw: &str) -> Option<Hit> {
        let e = phone::fast_key(raw)?;
        if !e.starts_with('+') {
            return None;
        }
        let key = digits_key(&e)?;
        let (mut exact, mut any) = (None, None);
        for s in self.numbers.probe(last9(key)) {
            let Some(r) = self.rank(s) else {
                continue;
            };
            if s.key() & NUMBER_MASK == key {
                exact = exact.max(Some(r));
            }
            any = any.max(Some(r));
        }
        let best = match exact {
            Some(r) => r,
            None if phone::is_foreign(&e) => return None,
            None => any?,
        };
        let contact = (best.owner & CONTACT != 0).then_some(best.owner & !CONTACT);
        Some(Hit {
            customer: best.customer,
            contact,
        })
    }

    /// The live customer slot filed under this exact account text.
    fn account_slot(&self, t: &str) -> Option<u32> {
        self.accounts
            .find(account_code(&self.settings, t))
            .find(|&s| self.customers.flags[s as usize] & ALIVE != 0 && self.account_is(s, t))
    }

    /// The active customer with this account, given whole (`CL0042`) or as its digits
    /// (`42`, `0042`).
    pub fn by_account(&self, raw: &str) -> Option<Answer> {
        self.hit_by_account(raw).map(|h| self.answer_of(h))
    }

    /// [`Index::by_account`] without building the answer.
    pub fn hit_by_account(&self, raw: &str) -> Option<Hit> {
        let t = raw.trim();
        if t.is_empty() {
            return None;
        }
        let slot = self.account_slot(t).or_else(|| {
            if t.bytes().all(|b| b.is_ascii_digit()) {
                let n: u64 = t
                    .trim_start_matches('0')
                    .parse()
                    .ok()
                    .or_else(|| t.bytes().all(|b| b == b'0').then_some(0))?;
                let code = u32::try_from(n).ok().filter(|&c| c < CONTACT)?;
                // Accounts of the database's prefix are filed under their number.
                self.accounts.find(code).find(|&s| {
                    let a = self.customers.account[s as usize];
                    self.customers.flags[s as usize] & ALIVE != 0
                        && a != NO_ACCOUNT
                        && (a & CONTACT == 0
                            || self.settings.number_of(self.arena.get(a & !CONTACT)) == Some(n))
                })
            } else {
                self.account_slot(&t.to_uppercase())
            }
        })?;
        if self.customers.flags[slot as usize] & ACTIVE == 0 {
            return None;
        }
        Some(Hit {
            customer: slot,
            contact: None,
        })
    }

    /// The VIP and on-call flags of a match.
    pub fn flags(&self, hit: Hit) -> Flags {
        let f = self.customers.flags[hit.customer as usize];
        Flags {
            vip: f & VIP != 0,
            on_call: f & ON_CALL != 0,
        }
    }

    /// The whole answer of a match.
    pub fn answer_of(&self, hit: Hit) -> Answer {
        self.answer(hit.customer, hit.contact)
    }

    /// Every indexed number with its owner (customer id, contact id), for tests and
    /// benchmarks: the numbers that currently answer.
    pub fn numbers(&self) -> Vec<(String, i64, Option<i64>)> {
        self.numbers
            .slots
            .iter()
            .filter(|s| s.key() != 0 && self.current(**s))
            .map(|s| {
                let k = s.key() & NUMBER_MASK;
                let len = (k >> LEN_SHIFT) as usize;
                let number = format!("+{:0len$}", k & VALUE_MASK);
                if s.owner & CONTACT != 0 {
                    let ct = s.owner & !CONTACT;
                    let cu = self.contacts.customer[ct as usize];
                    (
                        number,
                        self.customers.ids.id(cu),
                        Some(self.contacts.ids.id(ct)),
                    )
                } else {
                    (number, self.customers.ids.id(s.owner), None)
                }
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_find_their_slots_dense_sparse_late_and_big() {
        let mut ids = Ids::with_capacity(0);
        // dense, then gaps, then a late smaller id and one beyond u32
        let order = [5, 6, 7, 8, 20, 21, 1000, 1001, 3, 5_000_000_000, 1002];
        let slots: Vec<u32> = order.iter().map(|&id| ids.push(id)).collect();
        for (&id, &slot) in order.iter().zip(&slots) {
            assert_eq!(ids.slot(id), Some(slot), "id {id}");
            assert_eq!(ids.id(slot), id);
        }
        for missing in [0, 1, 4, 9, 19, 22, 999, 1003, u32::MAX as i64, -1] {
            assert_eq!(ids.slot(missing), None, "id {missing}");
        }
    }

    fn cust(id: i64, account: &str, active: bool, vip: bool, updated: &str) -> RoutingCustomer {
        RoutingCustomer {
            id,
            account: account.into(),
            name: format!("C{id}"),
            active,
            vip,
            on_call: false,
            updated_at: updated.into(),
        }
    }
    fn ph(e: &str, cu: i64, ct: Option<i64>) -> RoutingPhone {
        RoutingPhone {
            e164: e.into(),
            customer_id: cu,
            contact_id: ct,
        }
    }

    fn sample() -> Index {
        Index::build(
            RoutingData {
                customers: vec![
                    cust(1, "CL0001", true, true, "2024-01-01"),
                    cust(2, "CL0042", true, false, "2024-02-01"),
                    cust(3, "CL0003", false, true, "2024-03-01"),
                ],
                contacts: vec![RoutingContact {
                    id: 7,
                    customer_id: 1,
                }],
                phones: vec![
                    ph("+33612345678", 1, None),
                    ph("+33612345678", 2, None),
                    ph("+33123456789", 1, Some(7)),
                    ph("+33987654321", 3, None),
                    ph("+32477123456", 2, None),
                ],
            },
            Settings::default(),
        )
    }

    #[test]
    fn phone_rules() {
        let ix = sample();
        // shared number: the most recently updated customer
        assert_eq!(
            ix.by_phone("06 12 34 56 78").map(|a| a.customer_id),
            Some(2)
        );
        let a = ix.by_phone("0123456789").expect("contact landline");
        assert_eq!((a.customer_id, a.contact), (1, Some(7)));
        assert!(a.vip);
        // inactive customers are unknown
        assert_eq!(ix.by_phone("+33987654321"), None);
        // last 9 digits when no exact match
        assert_eq!(ix.by_phone("00123456789").map(|a| a.customer_id), Some(1));
        // but a valid foreign number is whole: only its exact match counts
        assert_eq!(ix.by_phone("+34 612 345 678"), None);
        assert_eq!(ix.by_phone("0034612345678"), None);
        assert_eq!(ix.by_phone("34612345678"), None);
        assert_eq!(
            ix.by_phone("+32 477 12 34 56").map(|a| a.customer_id),
            Some(2)
        );
        assert_eq!(ix.by_phone("0033123456789").map(|a| a.customer_id), Some(1));
        assert_eq!(ix.by_phone("nonsense"), None);
        assert_eq!(ix.by_phone("+33700000000"), None);
    }

    #[test]
    fn accounts() {
        let ix = sample();
        for q in ["CL0042", "42", "0042", "cl0042"] {
            assert_eq!(ix.by_account(q).map(|a| a.customer_id), Some(2), "{q}");
        }
        assert_eq!(
            ix.by_account("CL0042").map(|a| a.account),
            Some("CL0042".into())
        );
        assert_eq!(ix.by_account("3"), None);
        assert_eq!(ix.by_account("99"), None);
        assert_eq!(ix.by_account(""), None);
    }

    #[test]
    fn unusual_accounts() {
        let ix = Index::build(
            RoutingData {
                customers: vec![
                    cust(1, "ACME-7", true, false, "2024-01-01"),
                    cust(2, "CL000123", true, false, "2024-01-01"),
                    cust(3, "CL9999999999", true, false, "2024-01-01"),
                    cust(4, "", true, false, "2024-01-01"),
                ],
                ..RoutingData::default()
            },
            Settings::default(),
        );
        assert_eq!(
            ix.by_account("acme-7").map(|a| a.account),
            Some("ACME-7".into())
        );
        assert_eq!(
            ix.by_account("123").map(|a| a.account),
            Some("CL000123".into())
        );
        assert_eq!(ix.by_account("CL0123"), None);
        assert_eq!(
            ix.by_account("CL9999999999").map(|a| a.customer_id),
            Some(3)
        );
        assert_eq!(ix.by_account("ACME"), None);
    }

    #[test]
    fn incremental_updates() {
        let mut ix = sample();
        // customer 2 loses its mobile and becomes older: customer 1 answers again
        ix.apply_customers(
            &[2],
            RoutingData {
                customers: vec![cust(2, "CL0042", true, false, "2023-01-01")],
                ..RoutingData::default()
            },
        );
        assert_eq!(ix.by_phone("0612345678").map(|a| a.customer_id), Some(1));
        // contact 7 deleted
        ix.apply_contacts(&[7], RoutingData::default());
        assert_eq!(ix.by_phone("0123456789"), None);
        // new contact on customer 2
        ix.apply_contacts(
            &[8],
            RoutingData {
                contacts: vec![RoutingContact {
                    id: 8,
                    customer_id: 2,
                }],
                phones: vec![ph("+33111111111", 2, Some(8))],
                ..RoutingData::default()
            },
        );
        assert_eq!(ix.by_phone("0111111111").and_then(|a| a.contact), Some(8));
        // contact 8 moves to customer 1
        ix.apply_contacts(
            &[8],
            RoutingData {
                contacts: vec![RoutingContact {
                    id: 8,
                    customer_id: 1,
                }],
                phones: vec![ph("+33111111111", 1, Some(8))],
                ..RoutingData::default()
            },
        );
        assert_eq!(ix.by_phone("0111111111").map(|a| a.customer_id), Some(1));
        // and back
        ix.apply_contacts(
            &[8],
            RoutingData {
                contacts: vec![RoutingContact {
                    id: 8,
                    customer_id: 2,
                }],
                phones: vec![ph("+33111111111", 2, Some(8))],
                ..RoutingData::default()
            },
        );
        // customer 2 deleted: its contact goes too
        ix.apply_customers(&[2], RoutingData::default());
        assert_eq!(ix.by_phone("0111111111"), None);
        assert_eq!(ix.by_account("42"), None);
        assert_eq!(ix.sizes().0, 2);
        // the same id comes back (SQLite reuses the largest id): its old contact stays gone
        ix.apply_customers(
            &[2],
            RoutingData {
                customers: vec![cust(2, "CL0042", true, false, "2025-01-01")],
                ..RoutingData::default()
            },
        );
        assert_eq!(ix.by_phone("0111111111"), None);
        assert_eq!(ix.by_account("42").map(|a| a.customer_id), Some(2));
        // a customer's number changes
        ix.apply_customers(
            &[1],
            RoutingData {
                customers: vec![cust(1, "CL0001", true, true, "2025-02-01")],
                phones: vec![ph("+33622222222", 1, None)],
                ..RoutingData::default()
            },
        );
        assert_eq!(ix.by_phone("0612345678"), None);
        assert_eq!(ix.by_phone("0622222222").map(|a| a.customer_id), Some(1));
        // a new customer with an id out of order
        ix.apply_customers(
            &[-5],
            RoutingData {
                customers: vec![cust(-5, "ZZ", true, false, "2025-02-01")],
                phones: vec![ph("+33633333333", -5, None)],
                ..RoutingData::default()
            },
        );
        assert_eq!(ix.by_phone("0633333333").map(|a| a.customer_id), Some(-5));
        assert_eq!(ix.by_account("zz").map(|a| a.customer_id), Some(-5));
    }

    #[test]
    fn many_updates_sweep_stale_numbers() {
        let mut ix = sample();
        // 1000 changes of one customer's number: generations wrap around several times
        // and the table does not grow without bound.
        for i in 0..1000u32 {
            ix.apply_customers(
                &[2],
                RoutingData {
                    customers: vec![cust(2, "CL0042", true, false, "2024-02-01")],
                    phones: vec![ph(&format!("+3361{:07}", i), 2, None)],
                    ..RoutingData::default()
                },
            );
            assert_eq!(
                ix.by_phone(&format!("061{:07}", i)).map(|a| a.customer_id),
                Some(2)
            );
            if i > 0 {
                assert_eq!(ix.by_phone(&format!("061{:07}", i - 1)), None);
            }
        }
        assert!(ix.numbers.slots.len() < 64, "{}", ix.numbers.slots.len());
        assert_eq!(ix.numbers().len(), 4);
    }

    #[test]
    fn table_grows_and_finds_everything() {
        let mut ix = Index::with_capacity(Settings::default(), 0, 0, 0);
        ix.apply_customers(
            &[1],
            RoutingData {
                customers: vec![cust(1, "CL0001", true, false, "2024-01-01")],
                phones: vec![],
                ..RoutingData::default()
            },
        );
        let ids: Vec<i64> = (2..5000).collect();
        let data = RoutingData {
            customers: ids
                .iter()
                .map(|&i| cust(i, &format!("CL{i:04}"), true, false, "2024-01-01"))
                .collect(),
            phones: ids
                .iter()
                .map(|&i| ph(&format!("+3314{i:07}"), i, None))
                .collect(),
            ..RoutingData::default()
        };
        ix.apply_customers(&ids, data);
        for i in 2..5000 {
            assert_eq!(
                ix.by_phone(&format!("014{i:07}")).map(|a| a.customer_id),
                Some(i)
            );
            assert_eq!(
                ix.by_account(&i.to_string()).map(|a| a.customer_id),
                Some(i)
            );
        }
        // removing half keeps the other half reachable (backward-shift deletion)
        let gone: Vec<i64> = (2..5000).step_by(2).collect();
        ix.apply_customers(&gone, RoutingData::default());
        ix.sweep();
        for i in 2..5000 {
            let want = (i % 2 == 1).then_some(i);
            assert_eq!(
                ix.by_phone(&format!("014{i:07}")).map(|a| a.customer_id),
                want
            );
            assert_eq!(
                ix.by_account(&format!("CL{i:04}")).map(|a| a.customer_id),
                want
            );
        }
    }

    #[test]
    fn arena_compaction_keeps_names() {
        let mut ix = sample();
        for i in 0..30_000 {
            ix.apply_customers(
                &[2],
                RoutingData {
                    customers: vec![RoutingCustomer {
                        name: format!("{i} {}", "x".repeat(60)),
                        ..cust(2, "CL0042", true, false, "2024-02-01")
                    }],
                    ..RoutingData::default()
                },
            );
        }
        assert!(ix.arena.bytes.len() < 4 << 20, "{}", ix.arena.bytes.len());
        assert_eq!(
            ix.by_account("42").map(|a| a.name),
            Some(format!("29999 {}", "x".repeat(60)))
        );
        assert_eq!(ix.by_phone("0123456789").and_then(|a| a.contact), Some(7));
    }

    #[test]
    fn times_order_like_the_clock() {
        assert_eq!(parse_time("1970-01-01"), 0);
        assert_eq!(parse_time("1970-01-01T00:00:01Z"), 1_000_000);
        assert_eq!(parse_time("1970-01-01T00:00:00.5Z"), 500_000);
        assert_eq!(parse_time("1970-01-01T01:00:00+01:00"), 0);
        assert!(parse_time("2026-11-27T12:34:56.123456Z") > parse_time("2026-11-27T12:34:56.123Z"));
        assert!(parse_time("2024-03-01") > parse_time("2024-02-29T23:59:59.999999Z"));
        assert_eq!(parse_time("garbage"), 0);
    }

    #[test]
    fn keys() {
        assert_ne!(digits_key("0012"), digits_key("12"));
        assert_eq!(
            digits_key("+33612345678").map(last9),
            digits_key("612345678").map(last9)
        );
        assert_ne!(
            digits_key("+12345").map(last9),
            digits_key("000012345").map(last9)
        );
        assert_eq!(digits_key("1234567890123456"), None);
        assert_eq!(digits_key("12a"), None);
        assert!(digits_key("999999999999999").is_some_and(|k| k & !NUMBER_MASK == 0));
        assert!(std::mem::size_of::<Slot>() == 12);
    }
}
