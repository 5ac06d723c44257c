//! Column mapping: which Clients field a file column holds when its heading does not say,
//! given by the user (CLI `--map`/`--mapping`, the API's `mapping` field, the web mapping
//! step) and applied by the reader before the headings are matched.
//!
//! A column the reader does not recognise is ignored with a warning, unless its heading or
//! its values look like a field: then ignoring it would silently lose that field (a
//! misspelled `Code postale` column dropped every postal code), so it is an error until
//! the mapping says which field it is or that it is ignored on purpose.

use clientele_core::catalogue::{fold, match_header, Field, FIELDS};
use clientele_core::ident;
use std::collections::BTreeMap;

/// What a mapped column becomes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Target {
    /// The column holds this field.
    Field(Field),
    /// The column is ignored on purpose.
    Ignore,
}

impl Target {
    /// Read a target as a user writes it: a field's pack key, API key or heading, or `-`,
    /// `ignore`, `ignorer` (or nothing) to ignore the column.
    pub fn parse(text: &str) -> Result<Target, String> {
        let t = text.trim();
        if t.is_empty() || t == "-" || matches!(fold(t).as_str(), "ignore" | "ignorer") {
            return Ok(Target::Ignore);
        }
        match_header(t).map(Target::Field).ok_or_else(|| {
            format!(
                "\"{t}\" is not a field (fields: {}; or - to ignore the column)",
                FIELDS
                    .iter()
                    .map(|d| d.pack_key)
                    .collect::<Vec<_>>()
                    .join(", ")
            )
        })
    }

    /// The target as the mapping file and the reports write it: the pack key, or `-`.
    pub fn key(self) -> &'static str {
        match self {
            Target::Field(f) => f.key(),
            Target::Ignore => "-",
        }
    }
}

/// File headings (compared folded, as the reader matches headings) and what they become.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ColumnMap {
    entries: BTreeMap<String, (String, Target)>,
}

impl ColumnMap {
    /// No mapping: every column is matched by its heading.
    pub fn new() -> ColumnMap {
        ColumnMap::default()
    }

    /// Whether no column is mapped.
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// Map a heading; a later entry for the same heading replaces the earlier one.
    pub fn insert(&mut self, heading: &str, target: Target) -> Result<(), String> {
        let key = fold(heading);
        if key.is_empty() {
            return Err(format!(
                "\"{heading}\": a mapping needs the column's heading"
            ));
        }
        self.entries
            .insert(key, (heading.trim().to_string(), target));
        Ok(())
    }

    /// Read one `Heading=field` entry (the heading may itself hold `=`: the last one
    /// separates).
    pub fn insert_entry(&mut self, entry: &str) -> Result<(), String> {
        let Some((heading, target)) = entry.rsplit_once('=') else {
            return Err(format!(
                "\"{entry}\": write HEADING=FIELD (or HEADING=- to ignore the column)"
            ));
        };
        let target = Target::parse(target).map_err(|e| format!("\"{entry}\": {e}"))?;
        self.insert(heading, target)
    }

    /// Read a mapping: a JSON object `{"Heading": "field", …}` (what the API and the web
    /// pages send, and what `clientele check --format json` reports), or lines
    /// `Heading=field` with `#` comments.
    pub fn parse(text: &str) -> Result<ColumnMap, String> {
        let mut map = ColumnMap::new();
        let trimmed = text.trim_start_matches('\u{feff}').trim();
        if trimmed.starts_with('{') {
            let object: BTreeMap<String, serde_json::Value> = serde_json::from_str(trimmed)
                .map_err(|e| format!("the mapping is not a JSON object of text values: {e}"))?;
            for (heading, target) in object {
                let target = match &target {
                    serde_json::Value::String(s) => Target::parse(s),
                    serde_json::Value::Null => Ok(Target::Ignore),
                    other => Err(format!("{other} is not a field name")),
                }
                .map_err(|e| format!("\"{heading}\": {e}"))?;
                map.insert(&heading, target)?;
            }
            return Ok(map);
        }
        for (n, line) in trimmed.lines().enumerate() {
            let line = line.trim();
            if line.is_empty() || line.starts_with('#') {
                continue;
            }
            map.insert_entry(line)
                .map_err(|e| format!("line {}: {e}", n + 1))?;
        }
        Ok(map)
    }

    /// What a heading is mapped to, if it is.
    pub fn get(&self, heading: &str) -> Option<Target> {
        self.entries.get(&fold(heading)).map(|(_, t)| *t)
    }

    /// The mapping as a JSON object (heading as first written → pack key or `-`).
    pub fn to_json(&self) -> serde_json::Value {
        serde_json::Value::Object(
            self.entries
                .values()
                .map(|(h, t)| (h.clone(), serde_json::Value::from(t.key())))
                .collect(),
        )
    }
}

/// A key past this many bytes is shortened (PostgreSQL refuses index entries of more than
/// about 2,700 bytes; files exported from other tools can have a hundred long headings).
const HEADING_SET_MAX: usize = 1000;

/// The key a mapping is remembered under: the file's headings folded as the reader
/// compares them (case, accents, spaces and punctuation ignored), blank ones left out,
/// sorted and joined by commas (a folded heading has none). The same columns in another
/// order, or spelled with other capitals or accents, give the same key. A very long key
/// keeps its beginning and a hash of the whole.
pub fn heading_set<'a>(headings: impl IntoIterator<Item = &'a str>) -> String {
    let mut folded: Vec<String> = headings
        .into_iter()
        .map(fold)
        .filter(|h| !h.is_empty())
        .collect();
    folded.sort();
    folded.dedup();
    let key = folded.join(",");
    if key.len() <= HEADING_SET_MAX {
        return key;
    }
    // FNV-1a: stable across builds and Rust versions, unlike the standard hasher.
    let hash = key.bytes().fold(0xcbf2_9ce4_8422_2325_u64, |h, b| {
        (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3)
    });
    // Folded text is ASCII or whole characters; cut on a character boundary.
    let mut cut = HEADING_SET_MAX - 20;
    while !key.is_char_boundary(cut) {
        cut -= 1;
    }
    format!("{}#{hash:016x}", &key[..cut])
}

/// Sampled values must be this share of one field's shape for the column to look like it.
const VALUES_SHARE: f64 = 0.8;
/// And there must be at least this many non-blank ones.
const VALUES_MIN: usize = 3;

/// The field a column's values look like, when they are unmistakable: valid SIRETs (a
/// column of 14-digit Luhn-valid numbers is a SIRET), valid EU VAT numbers, web addresses,
/// e-mail addresses.
pub fn field_from_values<'a>(values: impl Iterator<Item = &'a str>) -> Option<Field> {
    let mut seen = 0usize;
    let mut counts = [0usize; 4];
    const KINDS: [Field; 4] = [
        Field::registrationNumber,
        Field::taxRegistrationNumber,
        Field::website,
        Field::emailAddress,
    ];
    for v in values.map(str::trim).filter(|v| !v.is_empty()) {
        seen += 1;
        let compact = ident::compact(v);
        if compact.len() == 14 && ident::siret::is_valid(&compact) {
            counts[0] += 1;
        } else if compact.len() > 8
            && compact.as_bytes()[..2].iter().all(u8::is_ascii_alphabetic)
            && ident::vat::validate(v).is_ok()
        {
            counts[1] += 1;
        } else if looks_like_url(v) {
            counts[2] += 1;
        } else if looks_like_email(v) {
            counts[3] += 1;
        }
    }
    if seen < VALUES_MIN {
        return None;
    }
    counts
        .iter()
        .zip(KINDS)
        .find(|(n, _)| **n as f64 >= VALUES_SHARE * seen as f64)
        .map(|(_, f)| f)
}

fn looks_like_url(v: &str) -> bool {
    let l = v.to_ascii_lowercase();
    (l.starts_with("http://") || l.starts_with("https://") || l.starts_with("www."))
        && !v.contains(char::is_whitespace)
}

fn looks_like_email(v: &str) -> bool {
    match v.split_once('@') {
        Some((local, domain)) => {
            !local.is_empty()
                && domain.contains('.')
                && !domain.starts_with('.')
                && !v.contains(char::is_whitespace)
        }
        None => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn heading_sets_ignore_order_case_and_accents() {
        let a = heading_set(["Raison sociale", "Code postale", "Commercial", ""]);
        assert_eq!(a, "codepostale,commercial,raisonsociale");
        assert_eq!(
            heading_set(["COMMERCIAL", "code  postale", "Raison Sociale"]),
            a
        );
        assert_ne!(heading_set(["Raison sociale", "Code postal"]), a);
        // Long sets stay short enough for an index, and distinct.
        let many: Vec<String> = (0..200).map(|i| format!("Colonne numéro {i}")).collect();
        let long = heading_set(many.iter().map(String::as_str));
        assert!(long.len() <= 1000, "{}", long.len());
        let fewer = heading_set(many[1..].iter().map(String::as_str));
        assert_ne!(long, fewer);
    }

    #[test]
    fn targets_by_any_name() {
        assert_eq!(
            Target::parse("postalCode"),
            Ok(Target::Field(Field::postalCode))
        );
        assert_eq!(
            Target::parse("mainAddressPostalCode"),
            Ok(Target::Field(Field::postalCode))
        );
        assert_eq!(
            Target::parse("Code Postal"),
            Ok(Target::Field(Field::postalCode))
        );
        assert_eq!(Target::parse("-"), Ok(Target::Ignore));
        assert_eq!(Target::parse("Ignorer"), Ok(Target::Ignore));
        assert!(Target::parse("colour").unwrap_err().contains("postalCode"));
    }

    #[test]
    fn entries_files_and_json() {
        let mut m = ColumnMap::new();
        m.insert_entry("Code postale=postalCode").unwrap();
        m.insert_entry(" Commercial = - ").unwrap();
        assert_eq!(
            m.get("CODE POSTALE"),
            Some(Target::Field(Field::postalCode))
        );
        assert_eq!(m.get("commercial"), Some(Target::Ignore));
        assert_eq!(m.get("Ville"), None);
        assert!(m.insert_entry("no equals sign").is_err());
        assert!(m.insert_entry("=postalCode").is_err());

        let lines = "# pack of 2026\nCode postale = postalCode\n\nCommercial=-\n";
        assert_eq!(ColumnMap::parse(lines).unwrap(), m);
        let json = r#"{"Code postale": "postalCode", "Commercial": null}"#;
        assert_eq!(ColumnMap::parse(json).unwrap(), m);
        assert_eq!(ColumnMap::parse(&m.to_json().to_string()).unwrap(), m);
        let e = ColumnMap::parse("Ville=town\n").unwrap_err();
        assert!(e.starts_with("line 1:"), "{e}");
        assert!(ColumnMap::parse(r#"{"Ville": 3}"#).is_err());
    }

    #[test]
    fn values_that_name_their_field() {
        let sirets = ["73282932000074", "542 051 180 00066", "44306184100047", ""];
        assert_eq!(
            field_from_values(sirets.into_iter()),
            Some(Field::registrationNumber)
        );
        let vats = ["FR40303265045", "DE136695976", "FR 40 303265045"];
        assert_eq!(
            field_from_values(vats.into_iter()),
            Some(Field::taxRegistrationNumber)
        );
        let sites = ["https://a.fr", "www.b.com", "http://c.org/x"];
        assert_eq!(field_from_values(sites.into_iter()), Some(Field::website));
        let mails = ["a@b.fr", "x.y@z.com", "q@r.eu"];
        assert_eq!(
            field_from_values(mails.into_iter()),
            Some(Field::emailAddress)
        );
        // Two values are too few to judge; names are no field.
        assert_eq!(
            field_from_values(["73282932000074", "44306184100047"].into_iter()),
            None
        );
        assert_eq!(
            field_from_values(["Dupont", "Martin", "Durand"].into_iter()),
            None
        );
        // 14-digit numbers that fail the Luhn check are not SIRETs.
        let numbers = ["12345678901234", "11111111111112", "98765432109876"];
        assert_eq!(field_from_values(numbers.into_iter()), None);
    }
}
