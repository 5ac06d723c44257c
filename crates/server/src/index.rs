//! The in-memory call-routing index: every phone number (E.164 and last 9 digits) and
//! account of the customer base, kept coherent with the database through the change feed.
//!
//! The request path only runs `ident::phone::fast_key` on the incoming number and a few
//! hash look-ups; no SQL, no phone parsing.

use clientele_core::ident::phone;
use clientele_store::{RoutingContact, RoutingCustomer, RoutingData, RoutingPhone, Settings};
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
    fn write_i64(&mut self, n: i64) {
        self.write_u64(n as u64);
    }
}

type IntMap<K, V> = HashMap<K, V, BuildHasherDefault<IntHasher>>;

/// Pack a string of 1–15 ASCII digits (with or without a leading `+`) into a key; the
/// length is kept so that `0012` and `12` differ.
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
    Some(((d.len() as u64) << 56) | v)
}

/// A customer as routing sees it.
#[derive(Debug, Clone)]
pub struct CustomerEntry {
    /// Customer account.
    pub account: Box<str>,
    /// Name.
    pub name: Box<str>,
    /// Active.
    pub active: bool,
    /// VIP.
    pub vip: bool,
    /// On-call contract.
    pub on_call: bool,
    /// Last update: the most recent wins a shared number.
    pub updated_at: Box<str>,
    phones: Vec<u64>,
    contacts: Vec<i64>,
}

/// A contact as routing sees it.
#[derive(Debug, Clone)]
pub struct ContactEntry {
    /// Its customer.
    pub customer_id: i64,
    /// First name.
    pub first_name: Option<Box<str>>,
    /// Last name.
    pub last_name: Option<Box<str>>,
    phones: Vec<u64>,
}

/// A number's owner: customer id, and contact id or 0.
type Hit = (i64, i64);

/// The routing index.
#[derive(Debug, Default)]
pub struct Index {
    customers: IntMap<i64, CustomerEntry>,
    contacts: IntMap<i64, ContactEntry>,
    by_e164: IntMap<u64, Vec<Hit>>,
    by_last9: IntMap<u64, Vec<Hit>>,
    by_account: HashMap<Box<str>, i64>,
    by_digits: IntMap<u64, i64>,
    settings: Settings,
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
    /// The contact whose number matched: id, first name, last name.
    pub contact: Option<(i64, Option<String>, Option<String>)>,
}

impl Answer {
    /// The `details=1` object.
    pub fn details(&self) -> Json {
        json!({
            "known": true,
            "customerAccount": self.account,
            "name": self.name,
            "vip": self.vip,
            "onCallDuty": self.on_call,
            "contact": self.contact.as_ref().map(|(id, f, l)| json!({"id": id, "firstName": f, "lastName": l})),
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

fn remove_hit(map: &mut IntMap<u64, Vec<Hit>>, key: u64, hit: Hit) {
    if let Some(v) = map.get_mut(&key) {
        v.retain(|h| *h != hit);
        if v.is_empty() {
            map.remove(&key);
        }
    }
}

fn last9_key(e164_key: u64) -> u64 {
    let len = e164_key >> 56;
    let v = e164_key & ((1 << 56) - 1);
    if len <= 9 {
        e164_key
    } else {
        (9 << 56) | (v % 1_000_000_000)
    }
}

impl Index {
    /// Build from all rows.
    pub fn build(data: RoutingData, settings: Settings) -> Index {
        let mut ix = Index {
            settings,
            ..Index::default()
        };
        ix.customers.reserve(data.customers.len());
        ix.contacts.reserve(data.contacts.len());
        ix.by_e164.reserve(data.phones.len());
        ix.by_last9.reserve(data.phones.len());
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

    /// Number of customers and of indexed numbers.
    pub fn sizes(&self) -> (usize, usize, usize) {
        (
            self.customers.len(),
            self.contacts.len(),
            self.by_e164.len(),
        )
    }

    fn add_phone(&mut self, p: &RoutingPhone) {
        let Some(key) = digits_key(&p.e164) else {
            return;
        };
        let hit = (p.customer_id, p.contact_id.unwrap_or(0));
        match p.contact_id {
            Some(ct) => match self.contacts.get_mut(&ct) {
                Some(e) => e.phones.push(key),
                None => return,
            },
            None => match self.customers.get_mut(&p.customer_id) {
                Some(e) => e.phones.push(key),
                None => return,
            },
        }
        self.by_e164.entry(key).or_default().push(hit);
        self.by_last9.entry(last9_key(key)).or_default().push(hit);
    }

    fn drop_phones(&mut self, phones: &[u64], hit: Hit) {
        for &k in phones {
            remove_hit(&mut self.by_e164, k, hit);
            remove_hit(&mut self.by_last9, last9_key(k), hit);
        }
    }

    fn upsert_customer(&mut self, c: RoutingCustomer) {
        let (phones, contacts) = match self.customers.remove(&c.id) {
            Some(old) => {
                self.drop_account(c.id, &old.account);
                (old.phones, old.contacts)
            }
            None => (Vec::new(), Vec::new()),
        };
        if !c.account.is_empty() {
            self.by_account.insert(c.account.as_str().into(), c.id);
            if let Some(n) = self.settings.number_of(&c.account) {
                self.by_digits.insert(n, c.id);
            }
        }
        self.customers.insert(
            c.id,
            CustomerEntry {
                account: c.account.into(),
                name: c.name.into(),
                active: c.active,
                vip: c.vip,
                on_call: c.on_call,
                updated_at: c.updated_at.into(),
                phones,
                contacts,
            },
        );
    }

    fn drop_account(&mut self, id: i64, account: &str) {
        if self.by_account.get(account) == Some(&id) {
            self.by_account.remove(account);
        }
        if let Some(n) = self.settings.number_of(account) {
            if self.by_digits.get(&n) == Some(&id) {
                self.by_digits.remove(&n);
            }
        }
    }

    fn remove_customer(&mut self, id: i64) {
        if let Some(old) = self.customers.remove(&id) {
            self.drop_account(id, &old.account);
            self.drop_phones(&old.phones, (id, 0));
            for ct in old.contacts {
                self.remove_contact(ct);
            }
        }
    }

    fn upsert_contact(&mut self, c: RoutingContact) {
        let phones = match self.contacts.remove(&c.id) {
            Some(old) if old.customer_id == c.customer_id => old.phones,
            Some(old) => {
                self.drop_phones(&old.phones, (old.customer_id, c.id));
                if let Some(cu) = self.customers.get_mut(&old.customer_id) {
                    cu.contacts.retain(|x| *x != c.id);
                }
                Vec::new()
            }
            None => Vec::new(),
        };
        let Some(cu) = self.customers.get_mut(&c.customer_id) else {
            return;
        };
        if !cu.contacts.contains(&c.id) {
            cu.contacts.push(c.id);
        }
        self.contacts.insert(
            c.id,
            ContactEntry {
                customer_id: c.customer_id,
                first_name: c.first_name.map(Into::into),
                last_name: c.last_name.map(Into::into),
                phones,
            },
        );
    }

    fn remove_contact(&mut self, id: i64) {
        if let Some(old) = self.contacts.remove(&id) {
            self.drop_phones(&old.phones, (old.customer_id, id));
            if let Some(cu) = self.customers.get_mut(&old.customer_id) {
                cu.contacts.retain(|x| *x != id);
            }
        }
    }

    /// Apply reloaded customers: `ids` were asked for, `data` holds those that still exist
    /// with their own numbers.
    pub fn apply_customers(&mut self, ids: &[i64], data: RoutingData) {
        let present: std::collections::HashSet<i64> = data.customers.iter().map(|c| c.id).collect();
        for id in ids {
            if present.contains(id) {
                if let Some(old) = self.customers.get_mut(id) {
                    let phones = std::mem::take(&mut old.phones);
                    self.drop_phones(&phones, (*id, 0));
                }
            } else {
                self.remove_customer(*id);
            }
        }
        for c in data.customers {
            self.upsert_customer(c);
        }
        for p in data.phones.iter().filter(|p| p.contact_id.is_none()) {
            self.add_phone(p);
        }
    }

    /// Apply reloaded contacts (see [`Index::apply_customers`]).
    pub fn apply_contacts(&mut self, ids: &[i64], data: RoutingData) {
        let present: std::collections::HashSet<i64> = data.contacts.iter().map(|c| c.id).collect();
        for id in ids {
            if present.contains(id) {
                if let Some(old) = self.contacts.get_mut(id) {
                    let phones = std::mem::take(&mut old.phones);
                    let cu = old.customer_id;
                    self.drop_phones(&phones, (cu, *id));
                }
            } else {
                self.remove_contact(*id);
            }
        }
        for c in data.contacts {
            self.upsert_contact(c);
        }
        for p in data.phones.iter().filter(|p| p.contact_id.is_some()) {
            self.add_phone(p);
        }
    }

    fn best(&self, hits: &[Hit]) -> Option<Answer> {
        let (cu_id, ct_id, cu) = hits
            .iter()
            .filter_map(|&(cu, ct)| {
                self.customers
                    .get(&cu)
                    .filter(|e| e.active)
                    .map(|e| (cu, ct, e))
            })
            .max_by(|a, b| {
                (&a.2.updated_at, a.0, a.1 == 0).cmp(&(&b.2.updated_at, b.0, b.1 == 0))
            })?;
        let contact = if ct_id == 0 {
            None
        } else {
            self.contacts.get(&ct_id).map(|c| {
                (
                    ct_id,
                    c.first_name.as_deref().map(str::to_string),
                    c.last_name.as_deref().map(str::to_string),
                )
            })
        };
        Some(Answer {
            customer_id: cu_id,
            account: cu.account.to_string(),
            name: cu.name.to_string(),
            vip: cu.vip,
            on_call: cu.on_call,
            contact,
        })
    }

    /// The active customer a caller number belongs to: a full E.164 match wins over a match
    /// on the last 9 digits; among several, the most recently updated customer.
    pub fn by_phone(&self, raw: &str) -> Option<Answer> {
        let e = phone::fast_key(raw)?;
        if !e.starts_with('+') {
            return None;
        }
        let key = digits_key(&e)?;
        if let Some(a) = self.by_e164.get(&key).and_then(|h| self.best(h)) {
            return Some(a);
        }
        if phone::is_foreign(&e) {
            return None;
        }
        self.by_last9
            .get(&last9_key(key))
            .and_then(|h| self.best(h))
    }

    /// The active customer with this account, given whole (`CL0042`) or as its digits
    /// (`42`, `0042`).
    pub fn by_account(&self, raw: &str) -> Option<Answer> {
        let t = raw.trim();
        if t.is_empty() {
            return None;
        }
        let id = self.by_account.get(t).copied().or_else(|| {
            if t.bytes().all(|b| b.is_ascii_digit()) {
                let n: u64 = t
                    .trim_start_matches('0')
                    .parse()
                    .ok()
                    .or_else(|| t.bytes().all(|b| b == b'0').then_some(0))?;
                self.by_digits.get(&n).copied()
            } else {
                self.by_account.get(t.to_uppercase().as_str()).copied()
            }
        })?;
        let cu = self.customers.get(&id).filter(|e| e.active)?;
        Some(Answer {
            customer_id: id,
            account: cu.account.to_string(),
            name: cu.name.to_string(),
            vip: cu.vip,
            on_call: cu.on_call,
            contact: None,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

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
                    first_name: Some("Ann".into()),
                    last_name: Some("Doe".into()),
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
        assert_eq!(
            (a.customer_id, a.contact.as_ref().map(|c| c.0)),
            (1, Some(7))
        );
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
        assert_eq!(ix.by_account("3"), None);
        assert_eq!(ix.by_account("99"), None);
        assert_eq!(ix.by_account(""), None);
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
                    first_name: None,
                    last_name: Some("X".into()),
                }],
                phones: vec![ph("+33111111111", 2, Some(8))],
                ..RoutingData::default()
            },
        );
        assert_eq!(
            ix.by_phone("0111111111")
                .and_then(|a| a.contact)
                .map(|c| c.0),
            Some(8)
        );
        // customer 2 deleted: its contact goes too
        ix.apply_customers(&[2], RoutingData::default());
        assert_eq!(ix.by_phone("0111111111"), None);
        assert_eq!(ix.by_account("42"), None);
        assert_eq!(ix.sizes().0, 2);
    }

    #[test]
    fn keys() {
        assert_ne!(digits_key("0012"), digits_key("12"));
        assert_eq!(
            digits_key("+33612345678").map(last9_key),
            digits_key("612345678")
        );
        assert_eq!(digits_key("1234567890123456"), None);
        assert_eq!(digits_key("12a"), None);
    }
}
