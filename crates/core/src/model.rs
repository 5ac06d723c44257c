//! Customer values, records and the derived VAT regime.

use crate::catalogue::{Default, Field, Kind, FIELDS, N_FIELDS};
use serde_json::{json, Map, Value as Json};

/// Text of a cell or a value: kept inline up to 24 bytes (most cells of a pack: codes,
/// identifiers, names), so a million-row import does not allocate and free a string per
/// cell (measured at a tenth of an import's time).
pub type Str = compact_str::CompactString;

/// A stored field value.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Value {
    /// Text (also decimals, codes, identifiers).
    Text(Str),
    /// A whole number.
    Int(i64),
    /// A boolean.
    Bool(bool),
}

impl Value {
    /// The value as text (booleans as `1`/`0`, as in the pack).
    pub fn to_text(&self) -> String {
        match self {
            Value::Text(s) => s.to_string(),
            Value::Int(i) => i.to_string(),
            Value::Bool(b) => if *b { "1" } else { "0" }.to_string(),
        }
    }
    /// Text content, if text.
    pub fn as_str(&self) -> Option<&str> {
        match self {
            Value::Text(s) => Some(s),
            _ => None,
        }
    }
}

/// One changed field of an updated customer.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct FieldChange {
    /// Pack key.
    pub field: &'static str,
    /// Stored value (`None`: empty).
    pub before: Option<String>,
    /// Value after the import.
    pub after: Option<String>,
}

/// All field values of a customer, indexed by `Field::idx()`; `None` is NULL.
pub type Values = [Option<Value>; N_FIELDS];

/// The default value of a field (None for NULL and generated fields).
pub fn default_value(f: Field) -> Option<Value> {
    match f.def().default {
        Default::None | Default::Generated => None,
        Default::Bool(b) => Some(Value::Bool(b)),
        Default::Int(i) => Some(Value::Int(i)),
        Default::Text(t) => Some(Value::Text(Str::from(t))),
    }
}

/// Values of a new customer with nothing set: every field at its default.
pub fn defaults() -> Values {
    std::array::from_fn(|i| default_value(FIELDS[i].id))
}

/// A validated row or request: the values of the fields it carries.
#[derive(Debug, Clone, PartialEq)]
pub struct Record {
    /// Values (defaults already applied to present-but-blank fields).
    pub values: Values,
    /// Which fields the source carried (file columns, request keys).
    pub present: [bool; N_FIELDS],
    /// E.164 forms of the phone fields (`Field::PHONES` order), when the number is a full one.
    pub e164: [Option<String>; 3],
}

impl Record {
    /// An empty record (no field present).
    pub fn empty() -> Record {
        Record {
            values: std::array::from_fn(|_| None),
            present: [false; N_FIELDS],
            e164: [None, None, None],
        }
    }
    /// Value of a field.
    pub fn get(&self, f: Field) -> Option<&Value> {
        self.values[f.idx()].as_ref()
    }
    /// Text value of a field.
    pub fn text(&self, f: Field) -> Option<&str> {
        self.get(f).and_then(Value::as_str)
    }
    /// Apply this record on top of `base`: present fields overwrite, absent ones are kept.
    pub fn merge_into(&self, base: &Customer) -> Customer {
        let mut c = base.clone();
        for f in Field::all() {
            if self.present[f.idx()] {
                c.values[f.idx()] = self.values[f.idx()].clone();
            }
        }
        for (i, pf) in Field::PHONES.iter().enumerate() {
            if self.present[pf.idx()] {
                c.e164[i] = self.e164[i].clone();
            }
        }
        c
    }
}

/// A stored customer.
#[derive(Debug, Clone, PartialEq)]
pub struct Customer {
    /// Database id (0 before insertion).
    pub id: i64,
    /// Field values.
    pub values: Values,
    /// E.164 forms of the phone fields.
    pub e164: [Option<String>; 3],
    /// Creation time, RFC 3339 UTC with microseconds.
    pub created_at: String,
    /// Last update time.
    pub updated_at: String,
}

/// The BlueRockTEL `language_id` of a language: 2 for English, 1 for French or none (the
/// API answers it and reads it back).
pub fn language_id(language: Option<&str>) -> i64 {
    if language == Some("en") {
        2
    } else {
        1
    }
}

impl Customer {
    /// A new customer with every field at its default.
    pub fn new() -> Customer {
        Customer {
            id: 0,
            values: defaults(),
            e164: [None, None, None],
            created_at: String::new(),
            updated_at: String::new(),
        }
    }
    /// Value of a field.
    pub fn get(&self, f: Field) -> Option<&Value> {
        self.values[f.idx()].as_ref()
    }
    /// Text value of a field.
    pub fn text(&self, f: Field) -> Option<&str> {
        self.get(f).and_then(Value::as_str)
    }
    /// Boolean value of a field (its default when NULL).
    pub fn flag(&self, f: Field) -> bool {
        match self.get(f) {
            Some(Value::Bool(b)) => *b,
            _ => matches!(f.def().default, Default::Bool(true)),
        }
    }
    /// Whether the stored field values are the same as `other`'s.
    pub fn same_values(&self, other: &Customer) -> bool {
        self.values == other.values && self.e164 == other.e164
    }
    /// The fields whose values differ from `before`'s, with the old and new values as text
    /// (the preview of an update).
    pub fn diff(&self, before: &Customer) -> Vec<FieldChange> {
        Field::all()
            .filter(|f| self.values[f.idx()] != before.values[f.idx()])
            .map(|f| FieldChange {
                field: f.key(),
                before: before.values[f.idx()].as_ref().map(Value::to_text),
                after: self.values[f.idx()].as_ref().map(Value::to_text),
            })
            .collect()
    }
    /// The derived VAT regime.
    pub fn vat_regime(&self) -> VatRegime {
        vat_regime(
            self.flag(Field::chargeVAT),
            self.flag(Field::applyVATAutoReverseOperators),
            self.text(Field::taxRegistrationNumber),
        )
    }

    /// The NAF label of the activity code (`Programmation informatique`), when the code is in
    /// the official list.
    pub fn activity_label(&self) -> Option<&'static str> {
        crate::lists::naf_label(self.text(Field::activityCode)?)
    }

    /// The API object (camelCase keys, never-null compatibility keys filled).
    pub fn to_api_json(&self) -> Json {
        let mut m = Map::new();
        m.insert("id".into(), json!(self.id));
        for d in FIELDS {
            let v = match (self.get(d.id), d.kind) {
                (Some(Value::Bool(b)), _) => json!(b),
                (None, Kind::Bool) => json!(self.flag(d.id)),
                (Some(Value::Int(i)), _) => json!(i),
                (Some(Value::Text(s)), _) => json!(s),
                (None, _) => Json::Null,
            };
            m.insert(d.api_key.to_string(), v);
        }
        // The pack key of the postal code differs from its API key; old clients read both.
        m.insert(
            "postalCode".into(),
            m.get("mainAddressPostalCode")
                .cloned()
                .unwrap_or(Json::Null),
        );
        m.insert("payer".into(), json!(self.flag(Field::payer)));
        for (i, f) in Field::PHONES.iter().enumerate() {
            m.insert(
                format!("{}E164", f.key()),
                self.e164[i].as_ref().map_or(Json::Null, |s| json!(s)),
            );
        }
        m.insert(
            "activityLabel".into(),
            self.activity_label().map_or(Json::Null, |s| json!(s)),
        );
        let regime = self.vat_regime();
        m.insert("vatRegime".into(), json!(regime.code()));
        m.insert(
            "vatMention".into(),
            regime.mention().map_or(Json::Null, |s| json!(s)),
        );
        if m.get("brand_id").is_none_or(Json::is_null) {
            m.insert("brand_id".into(), json!(1));
        }
        // Keys the BlueRockTEL SDK refuses as null; this project does not store them.
        for (k, v) in [
            ("abroad", json!(false)),
            ("zone", json!(0)),
            ("prospection_code_id", json!(1)),
            ("acceptEmails", json!(true)),
            ("acceptCalls", json!(true)),
            (
                "language_id",
                json!(language_id(self.text(Field::language))),
            ),
            ("isGroupingAccount", json!(false)),
            ("suppliers", json!("")),
            ("canSendSms", json!(false)),
            ("ftp", json!(false)),
            ("telco_exceptions_grid_to_redis", json!(false)),
            ("quickSearchIndex", json!(false)),
        ] {
            m.insert(k.into(), v);
        }
        m.insert("created_at".into(), json!(self.created_at));
        m.insert("updated_at".into(), json!(self.updated_at));
        Json::Object(m)
    }
}

impl std::default::Default for Customer {
    fn default() -> Self {
        Customer::new()
    }
}

/// How VAT is invoiced to a customer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum VatRegime {
    /// French VAT applies.
    Standard,
    /// Reverse charge between operators declared to Arcep.
    ReverseChargeOperator,
    /// Reverse charge for a taxable person in another member state.
    ReverseChargeEu,
    /// No VAT charged.
    NotCharged,
}

impl VatRegime {
    /// Every regime.
    pub const ALL: [VatRegime; 4] = [
        VatRegime::Standard,
        VatRegime::ReverseChargeOperator,
        VatRegime::ReverseChargeEu,
        VatRegime::NotCharged,
    ];
    /// API code.
    pub fn code(self) -> &'static str {
        match self {
            VatRegime::Standard => "standard",
            VatRegime::ReverseChargeOperator => "reverse_charge_operator",
            VatRegime::ReverseChargeEu => "reverse_charge_eu",
            VatRegime::NotCharged => "not_charged",
        }
    }
    /// Mention on invoices.
    pub fn mention(self) -> Option<&'static str> {
        match self {
            VatRegime::ReverseChargeOperator | VatRegime::ReverseChargeEu => {
                Some("Autoliquidation")
            }
            _ => None,
        }
    }
}

/// Compute the VAT regime from its three inputs.
pub fn vat_regime(
    charge_vat: bool,
    reverse_operators: bool,
    vat_number: Option<&str>,
) -> VatRegime {
    match (charge_vat, reverse_operators) {
        (true, true) => VatRegime::ReverseChargeOperator,
        (true, false) => VatRegime::Standard,
        // Stored VAT numbers were validated on write: the prefix tells the country.
        (false, _) => match vat_number {
            Some(v) if v.len() > 2 && !v.starts_with("FR") => VatRegime::ReverseChargeEu,
            _ => VatRegime::NotCharged,
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn regimes() {
        assert_eq!(vat_regime(true, false, None), VatRegime::Standard);
        assert_eq!(
            vat_regime(true, true, Some("FR46443121975")),
            VatRegime::ReverseChargeOperator
        );
        assert_eq!(
            vat_regime(false, false, Some("DE136695976")),
            VatRegime::ReverseChargeEu
        );
        assert_eq!(
            vat_regime(false, false, Some("FR46443121975")),
            VatRegime::NotCharged
        );
        assert_eq!(vat_regime(false, false, None), VatRegime::NotCharged);
    }

    #[test]
    fn api_object_has_no_null_in_required_keys() {
        let c = Customer::new();
        let j = c.to_api_json();
        for k in [
            "brand_id",
            "abroad",
            "zone",
            "prospection_code_id",
            "acceptEmails",
            "acceptCalls",
            "language_id",
            "isGroupingAccount",
            "suppliers",
            "canSendSms",
            "ftp",
            "telco_exceptions_grid_to_redis",
            "quickSearchIndex",
            "active",
            "isReseller",
            "chargeVAT",
            "applyVATAutoReverseOperators",
            "mergeInvoices",
            "isPayer",
            "onCallDuty",
            "vip",
        ] {
            assert!(!j[k].is_null(), "{k} is null");
        }
        assert_eq!(j["active"], json!(true));
        assert_eq!(j["chargeVAT"], json!(true));
        assert_eq!(j["vatRegime"], json!("standard"));
        assert_eq!(j["activityLabel"], Json::Null);
        let mut c = Customer::new();
        c.values[Field::activityCode.idx()] = Some(Value::Text("61.10Z".into()));
        assert_eq!(
            c.to_api_json()["activityLabel"],
            json!("Télécommunications filaires")
        );
        c.values[Field::activityCode.idx()] = Some(Value::Text("62.02Z".into()));
        assert_eq!(c.to_api_json()["activityLabel"], Json::Null);
    }
}
