//! Contacts of a customer: the people whose phone numbers caller identification matches.
//!
//! One table of columns ([`COLUMNS`]) drives the API keys, the pack headings, the store and
//! the validation, as the customer catalogue does for customers. Validation follows the
//! customer rules: phones normalised to E.164 by `ident::phone`, booleans as in the pack.

use crate::catalogue::{fold, snake};
use crate::ident::phone::{self, Phone};
use crate::issue::{render, Lang, Problem, Severity};
use crate::validate::{is_email, parse_bool, Cell};
use serde_json::{json, Map, Value as Json};

/// What a contact column holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ContactKind {
    /// 1 Mademoiselle, 2 Madame, 3 Monsieur.
    Civility,
    /// Free text, at most this many characters.
    Text(usize),
    /// E-mail address.
    Email,
    /// Phone number (E.164 stored beside the written form).
    Phone,
    /// Boolean with its default.
    Bool(bool),
}

/// One contact column: API key, French heading, English label, kind.
#[derive(Debug, Clone, Copy)]
pub struct ContactColumn {
    /// API key (also the SQL column).
    pub key: &'static str,
    /// French heading (pack).
    pub heading: &'static str,
    /// English label.
    pub label_en: &'static str,
    /// Rules.
    pub kind: ContactKind,
}

const fn col(
    key: &'static str,
    heading: &'static str,
    label_en: &'static str,
    kind: ContactKind,
) -> ContactColumn {
    ContactColumn {
        key,
        heading,
        label_en,
        kind,
    }
}

/// Text columns, in store order (`clientele_store::schema::CONTACT_TEXTS` is this list).
pub const TEXT_KEYS: [&str; 9] = [
    "firstName",
    "lastName",
    "emailAddress",
    "mobilePhone",
    "landlinePhone",
    "role",
    "service",
    "comment",
    "source",
];

/// Boolean columns with their defaults, in store order (`CONTACT_BOOLS`).
pub const BOOL_KEYS: [(&str, bool); 12] = [
    ("active", true),
    ("legalRepresentative", false),
    ("invoicesRecipient", true),
    ("newslettersRecipient", false),
    ("technicalContact", false),
    ("is_signer_contract", false),
    ("is_signer_iban", false),
    ("myClient", true),
    ("myClientAdmin", true),
    ("ticketingDoNotNotify", false),
    ("ticketingCopyToSales", false),
    ("api", false),
];

/// Every writable contact column.
pub const COLUMNS: &[ContactColumn] = &[
    col("civility", "Civilité", "Civility", ContactKind::Civility),
    col("firstName", "Prénom", "First name", ContactKind::Text(255)),
    col("lastName", "Nom", "Last name", ContactKind::Text(255)),
    col(
        "emailAddress",
        "Adresse email",
        "E-mail address",
        ContactKind::Email,
    ),
    col(
        "mobilePhone",
        "Téléphone mobile",
        "Mobile phone",
        ContactKind::Phone,
    ),
    col(
        "landlinePhone",
        "Téléphone fixe",
        "Landline phone",
        ContactKind::Phone,
    ),
    col("role", "Rôle", "Role", ContactKind::Text(255)),
    col("service", "Service", "Department", ContactKind::Text(255)),
    col(
        "comment",
        "Commentaire",
        "Comment",
        ContactKind::Text(10_000),
    ),
    col("source", "Source", "Source", ContactKind::Text(64)),
    col("active", "Actif", "Active", ContactKind::Bool(true)),
    col(
        "legalRepresentative",
        "Représentant légal",
        "Legal representative",
        ContactKind::Bool(false),
    ),
    col(
        "invoicesRecipient",
        "Destinataire des factures",
        "Invoices recipient",
        ContactKind::Bool(true),
    ),
    col(
        "newslettersRecipient",
        "Destinataire des newsletters",
        "Newsletters recipient",
        ContactKind::Bool(false),
    ),
    col(
        "technicalContact",
        "Contact technique",
        "Technical contact",
        ContactKind::Bool(false),
    ),
    col(
        "is_signer_contract",
        "Signataire du contrat",
        "Contract signer",
        ContactKind::Bool(false),
    ),
    col(
        "is_signer_iban",
        "Signataire du mandat",
        "IBAN signer",
        ContactKind::Bool(false),
    ),
    col(
        "myClient",
        "Accès espace client",
        "Customer portal",
        ContactKind::Bool(true),
    ),
    col(
        "myClientAdmin",
        "Administrateur espace client",
        "Customer portal admin",
        ContactKind::Bool(true),
    ),
    col(
        "ticketingDoNotNotify",
        "Ne pas notifier (tickets)",
        "Ticketing: do not notify",
        ContactKind::Bool(false),
    ),
    col(
        "ticketingCopyToSales",
        "Copie au commercial (tickets)",
        "Ticketing: copy to sales",
        ContactKind::Bool(false),
    ),
    col("api", "API", "API", ContactKind::Bool(false)),
];

/// The column an input key names: API key in camelCase or snake_case (`lastName`,
/// `last_name`), or a French heading (`Prénom`).
pub fn column_by_key(key: &str) -> Option<&'static ContactColumn> {
    if let Some(c) = COLUMNS.iter().find(|c| c.key == key || snake(c.key) == key) {
        return Some(c);
    }
    let f = fold(key);
    COLUMNS
        .iter()
        .find(|c| !f.is_empty() && (fold(c.heading) == f || fold(c.key) == f))
}

/// A stored contact.
#[derive(Debug, Clone, PartialEq)]
pub struct Contact {
    /// Database id (0 before insertion).
    pub id: i64,
    /// The customer it belongs to.
    pub customer_id: i64,
    /// 1 Mademoiselle, 2 Madame, 3 Monsieur.
    pub civility: Option<i64>,
    /// Text values in [`TEXT_KEYS`] order.
    pub texts: [Option<String>; 9],
    /// E.164 form of the mobile phone.
    pub mobile_e164: Option<String>,
    /// E.164 form of the landline phone.
    pub landline_e164: Option<String>,
    /// Boolean values in [`BOOL_KEYS`] order.
    pub flags: [bool; 12],
    /// Creation time.
    pub created_at: String,
    /// Last update time.
    pub updated_at: String,
}

impl Default for Contact {
    fn default() -> Self {
        Contact::new(0)
    }
}

impl Contact {
    /// A new contact of `customer_id` with every column at its default.
    pub fn new(customer_id: i64) -> Contact {
        Contact {
            id: 0,
            customer_id,
            civility: None,
            texts: Default::default(),
            mobile_e164: None,
            landline_e164: None,
            flags: BOOL_KEYS.map(|(_, d)| d),
            created_at: String::new(),
            updated_at: String::new(),
        }
    }
    /// A text column by API key.
    pub fn text(&self, key: &str) -> Option<&str> {
        TEXT_KEYS
            .iter()
            .position(|k| *k == key)
            .and_then(|i| self.texts[i].as_deref())
    }
    /// A boolean column by API key (false when unknown).
    pub fn flag(&self, key: &str) -> bool {
        BOOL_KEYS
            .iter()
            .position(|(k, _)| *k == key)
            .is_some_and(|i| self.flags[i])
    }
    fn set_text(&mut self, key: &str, v: Option<String>) {
        if let Some(i) = TEXT_KEYS.iter().position(|k| *k == key) {
            self.texts[i] = v;
        }
    }
    fn set_flag(&mut self, key: &str, v: bool) {
        if let Some(i) = BOOL_KEYS.iter().position(|(k, _)| *k == key) {
            self.flags[i] = v;
        }
    }
    /// The E.164 numbers of this contact (what routing indexes).
    pub fn e164s(&self) -> impl Iterator<Item = &str> {
        self.mobile_e164
            .iter()
            .chain(self.landline_e164.iter())
            .map(String::as_str)
    }

    /// The API object (`civility` an integer or null, booleans and `source` never null).
    pub fn to_api_json(&self) -> Json {
        let mut m = Map::new();
        m.insert("id".into(), json!(self.id));
        m.insert("contactable_type".into(), json!("App\\Customer"));
        m.insert("contactable_id".into(), json!(self.customer_id));
        m.insert(
            "civility".into(),
            self.civility.map_or(Json::Null, |c| json!(c)),
        );
        for (i, k) in TEXT_KEYS.iter().enumerate() {
            let v = match (&self.texts[i], *k) {
                (Some(s), _) => json!(s),
                (None, "source") => json!("admin"),
                (None, _) => Json::Null,
            };
            m.insert((*k).into(), v);
        }
        for (i, (k, _)) in BOOL_KEYS.iter().enumerate() {
            m.insert((*k).into(), json!(self.flags[i]));
        }
        m.insert(
            "mobilePhoneE164".into(),
            self.mobile_e164.as_ref().map_or(Json::Null, |s| json!(s)),
        );
        m.insert(
            "landlinePhoneE164".into(),
            self.landline_e164.as_ref().map_or(Json::Null, |s| json!(s)),
        );
        m.insert("created_at".into(), json!(self.created_at));
        m.insert("updated_at".into(), json!(self.updated_at));
        Json::Object(m)
    }
}

/// A problem on one contact column.
#[derive(Debug, Clone, PartialEq)]
pub struct ContactIssue {
    /// API key of the column (`client` for the link of a pack row).
    pub key: &'static str,
    /// What went wrong.
    pub problem: Problem,
    /// The raw value.
    pub value: String,
    /// A detail for the message.
    pub detail: String,
}

impl ContactIssue {
    /// Build an issue.
    pub fn new(
        key: &'static str,
        problem: Problem,
        value: impl Into<String>,
        detail: impl Into<String>,
    ) -> Self {
        ContactIssue {
            key,
            problem,
            value: value.into(),
            detail: detail.into(),
        }
    }
    /// Severity.
    pub fn severity(&self) -> Severity {
        self.problem.severity()
    }
    /// Stable code `<key>.<problem>`.
    pub fn code(&self) -> String {
        format!("{}.{}", self.key, self.problem.suffix())
    }
    /// Message in `lang`.
    pub fn message(&self, lang: Lang) -> String {
        let h = match COLUMNS.iter().find(|c| c.key == self.key) {
            Some(c) => crate::messages::contact_label(lang, c).to_string(),
            // The link to the customer, which is no column of the table.
            None => crate::msg!(lang, "contact.customer_column"),
        };
        render(self.problem, lang, &h, &self.value, &self.detail)
    }
}

/// Parse a civility: the number, or `Mlle`/`Mme`/`M.`/`Monsieur`/`Madame`…
pub fn parse_civility(cell: &Cell) -> Option<i64> {
    match cell {
        Cell::Int(i) if (1..=3).contains(i) => Some(*i),
        Cell::Float(f) if [1.0, 2.0, 3.0].contains(f) => Some(*f as i64),
        Cell::Text(t) => match fold(t).as_str() {
            "1" | "mlle" | "mademoiselle" | "melle" => Some(1),
            "2" | "mme" | "madame" => Some(2),
            "3" | "m" | "mr" | "monsieur" => Some(3),
            _ => None,
        },
        _ => None,
    }
}

/// Apply input cells (by column) on top of `base` and validate the result. Returns the new
/// contact and its issues (errors and warnings); the contact is only meaningful without
/// errors. `lastName` must be set on the result.
pub fn apply(
    base: &Contact,
    input: &[(&'static ContactColumn, Cell)],
) -> (Contact, Vec<ContactIssue>) {
    let mut c = base.clone();
    let mut issues = Vec::new();
    for (column, cell) in input {
        let key = column.key;
        let raw = cell.display();
        let blank = cell.is_blank();
        let text = raw.trim().to_string();
        let mut bad = |p: Problem, d: &str| issues.push(ContactIssue::new(key, p, raw.clone(), d));
        if matches!(cell, Cell::Error(_)) {
            bad(Problem::Invalid, "");
            continue;
        }
        match column.kind {
            ContactKind::Civility if blank => c.civility = None,
            ContactKind::Civility => match parse_civility(cell) {
                Some(v) => c.civility = Some(v),
                None => bad(Problem::Invalid, " (expected 1, 2 or 3, Mlle, Mme or M.)"),
            },
            ContactKind::Bool(default) if blank => c.set_flag(key, default),
            ContactKind::Bool(_) => match parse_bool(cell, &text) {
                Some(b) => c.set_flag(key, b),
                None => bad(Problem::Invalid, " (expected 1 or 0, oui or non)"),
            },
            _ if blank => {
                c.set_text(key, None);
                match key {
                    "mobilePhone" => c.mobile_e164 = None,
                    "landlinePhone" => c.landline_e164 = None,
                    _ => {}
                }
            }
            _ if text.chars().any(|ch| {
                ch.is_control() && !(key == "comment" && (ch == '\n' || ch == '\r' || ch == '\t'))
            }) =>
            {
                bad(Problem::Invalid, " (line break or control character)");
            }
            ContactKind::Text(max) if text.chars().count() > max => {
                bad(Problem::TooLong, &format!("{max} characters at most"))
            }
            ContactKind::Text(_) => c.set_text(key, Some(text)),
            ContactKind::Email if text.chars().count() > 255 => {
                bad(Problem::TooLong, "255 characters at most")
            }
            ContactKind::Email if !is_email(&text) => bad(
                Problem::Invalid,
                " (expected an e-mail address such as contact@example.fr)",
            ),
            ContactKind::Email => c.set_text(key, Some(text)),
            ContactKind::Phone => {
                // A numeric cell drops the leading 0 of a French national number.
                let text = match cell {
                    Cell::Float(_) | Cell::Int(_) if text.len() == 9 => format!("0{text}"),
                    _ => text,
                };
                let e164 = match phone::normalise(&text) {
                    Ok(Phone::E164(e)) => Some(Some(e)),
                    Ok(Phone::Short(_)) => {
                        issues.push(ContactIssue::new(key, Problem::Short, raw.clone(), ""));
                        Some(None)
                    }
                    Err(_) => {
                        issues.push(ContactIssue::new(
                            key,
                            Problem::Invalid,
                            raw.clone(),
                            " (not a phone number)",
                        ));
                        None
                    }
                };
                if let Some(e) = e164 {
                    if key == "mobilePhone" {
                        c.mobile_e164 = e;
                    } else {
                        c.landline_e164 = e;
                    }
                    c.set_text(key, Some(text));
                }
            }
        }
    }
    let last_name_failed = issues.iter().any(|i| i.key == "lastName");
    if c.text("lastName").is_none() && !last_name_failed {
        issues.push(ContactIssue::new("lastName", Problem::Required, "", ""));
    }
    (c, issues)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn input(pairs: &[(&str, Cell)]) -> Vec<(&'static ContactColumn, Cell)> {
        pairs
            .iter()
            .map(|(k, v)| (column_by_key(k).expect("known key"), v.clone()))
            .collect()
    }

    #[test]
    fn keys_in_every_spelling() {
        assert_eq!(column_by_key("lastName").map(|c| c.key), Some("lastName"));
        assert_eq!(column_by_key("last_name").map(|c| c.key), Some("lastName"));
        assert_eq!(column_by_key("Prénom").map(|c| c.key), Some("firstName"));
        assert_eq!(
            column_by_key("is_signer_iban").map(|c| c.key),
            Some("is_signer_iban")
        );
        assert!(column_by_key("id").is_none());
        assert_eq!(TEXT_KEYS.len() + BOOL_KEYS.len() + 1, COLUMNS.len());
    }

    #[test]
    fn last_name_required_and_civility() {
        let (_, i) = apply(
            &Contact::new(1),
            &input(&[("firstName", Cell::Text("Ann".into()))]),
        );
        assert_eq!(
            i.iter().map(ContactIssue::code).collect::<Vec<_>>(),
            vec!["lastName.required"]
        );
        let (c, i) = apply(
            &Contact::new(1),
            &input(&[
                ("lastName", Cell::Text("Doe".into())),
                ("civility", Cell::Text("Mme".into())),
            ]),
        );
        assert!(i.is_empty(), "{i:?}");
        assert_eq!(c.civility, Some(2));
        for (v, want) in [
            (Cell::Int(3), Some(3)),
            (Cell::Text("M.".into()), Some(3)),
            (Cell::Text("Mlle".into()), Some(1)),
            (Cell::Text("3".into()), Some(3)),
        ] {
            assert_eq!(parse_civility(&v), want, "{v:?}");
        }
        assert_eq!(parse_civility(&Cell::Int(4)), None);
        let (_, i) = apply(
            &Contact::new(1),
            &input(&[
                ("lastName", Cell::Text("Doe".into())),
                ("civility", Cell::Text("Dr".into())),
            ]),
        );
        assert_eq!(i[0].code(), "civility.invalid");
    }

    #[test]
    fn booleans_default_and_json_never_null() {
        let (c, _) = apply(
            &Contact::new(4),
            &input(&[
                ("lastName", Cell::Text("Doe".into())),
                ("active", Cell::Empty),
                ("api", Cell::Text("oui".into())),
            ]),
        );
        let j = c.to_api_json();
        assert_eq!(j["active"], json!(true));
        assert_eq!(j["api"], json!(true));
        assert_eq!(j["invoicesRecipient"], json!(true));
        assert_eq!(j["source"], json!("admin"));
        assert_eq!(j["civility"], Json::Null);
        assert_eq!(j["contactable_id"], json!(4));
    }

    #[test]
    fn email_checked() {
        let (_, i) = apply(
            &Contact::new(1),
            &input(&[
                ("lastName", Cell::Text("Doe".into())),
                ("emailAddress", Cell::Text("nope".into())),
            ]),
        );
        assert_eq!(i[0].code(), "emailAddress.invalid");
        assert!(i[0].message(Lang::Fr).contains("Adresse email"));
    }
}
