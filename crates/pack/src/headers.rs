//! Header matching for both tabs, and the issues a header row can raise.

use clientele_core::catalogue::{fold, match_header, suggest_header, FIELDS};
use clientele_core::issue::{DetailMessage, Issue, Lang, Problem};
use clientele_core::messages::field_label;

/// The Contacts tab columns: (French heading, API key), in pack order.
pub const CONTACT_FIELDS: &[(&str, &str)] = &[
    ("Client", "contactable_id"),
    ("Civilité", "civility"),
    ("Prénom", "firstName"),
    ("Nom", "lastName"),
    ("Adresse email", "emailAddress"),
    ("Téléphone mobile", "mobilePhone"),
    ("Téléphone fixe", "landlinePhone"),
    ("Rôle", "role"),
    ("Service", "service"),
    ("Actif", "active"),
    ("Représentant légal", "legalRepresentative"),
    ("Destinataire des factures", "invoicesRecipient"),
    ("Destinataire des newsletters", "newslettersRecipient"),
    ("Commentaire", "comment"),
];

/// Other spellings of the `Client` link column: it holds a row number or a customer account.
const CONTACT_CLIENT_ALIASES: &[&str] = &[
    "Compte client",
    "customerAccount",
    "customer",
    "contactable",
];

/// Find the Contacts column a header names (folded heading or API key); the index is into
/// [`CONTACT_FIELDS`].
pub fn match_contact_header(header: &str) -> Option<usize> {
    let f = fold(header);
    if f.is_empty() {
        return None;
    }
    if CONTACT_CLIENT_ALIASES.iter().any(|a| fold(a) == f) {
        return Some(0);
    }
    CONTACT_FIELDS
        .iter()
        .position(|(h, k)| fold(h) == f || fold(k) == f)
}

/// The closest Contacts heading to an unknown header, when reasonably close.
fn suggest_contact_header(header: &str) -> Option<&'static str> {
    let f = fold(header);
    if f.is_empty() {
        return None;
    }
    CONTACT_FIELDS
        .iter()
        .map(|(h, _)| (similarity(&f, &fold(h)), *h))
        .filter(|(score, _)| *score >= 0.5)
        .max_by(|a, b| a.0.total_cmp(&b.0))
        .map(|(_, h)| h)
}

/// Normalised Levenshtein similarity (1.0 = equal), as the Clients suggestion uses.
fn similarity(a: &str, b: &str) -> f64 {
    let a: Vec<char> = a.chars().collect();
    let b: Vec<char> = b.chars().collect();
    let longest = a.len().max(b.len());
    if longest == 0 {
        return 1.0;
    }
    let mut prev: Vec<usize> = (0..=b.len()).collect();
    let mut cur = vec![0; b.len() + 1];
    for (i, ca) in a.iter().enumerate() {
        cur[0] = i + 1;
        for (j, cb) in b.iter().enumerate() {
            let cost = usize::from(ca != cb);
            cur[j + 1] = (prev[j] + cost).min(prev[j + 1] + 1).min(cur[j] + 1);
        }
        std::mem::swap(&mut prev, &mut cur);
    }
    1.0 - prev[b.len()] as f64 / longest as f64
}

/// Which schema a header row is matched against.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Schema {
    Clients,
    Contacts,
}

impl Schema {
    /// Index of the field a header names.
    pub(crate) fn matches(self, header: &str) -> Option<usize> {
        match self {
            Schema::Clients => match_header(header).map(|f| f.idx()),
            Schema::Contacts => match_contact_header(header),
        }
    }

    /// The heading of a field, as messages name it.
    pub(crate) fn heading(self, field: usize, lang: Lang) -> &'static str {
        match self {
            Schema::Clients => FIELDS.get(field).map_or("", |d| field_label(lang, d)),
            Schema::Contacts => CONTACT_FIELDS.get(field).map_or("", |(h, _)| h),
        }
    }

    /// A known heading close to an unknown header.
    pub(crate) fn suggest(self, header: &str) -> Option<&'static str> {
        match self {
            Schema::Clients => suggest_header(header),
            Schema::Contacts => suggest_contact_header(header),
        }
    }
}

/// `file.unreadable` with a detail already in the message language (a `pack.` message, or
/// the system's own words).
pub(crate) fn unreadable(lang: Lang, detail: &str) -> Issue {
    Issue::file("file", Problem::Unreadable, lang, "", detail, "")
}

/// An input file that cannot be opened or read: `file.unreadable` with the system's reason
/// (a missing file is bad input, not an I/O failure of ours).
pub(crate) fn unreadable_io(lang: Lang, e: &std::io::Error) -> crate::error::PackError {
    let detail = e.to_string();
    crate::PackError::Unusable(unreadable(lang, &detail))
}

/// `header.unknown` for one column, with the closest known heading when there is one.
pub(crate) fn unknown_header(schema: Schema, lang: Lang, header: &str) -> Issue {
    let Some(s) = schema.suggest(header) else {
        return Issue::file("header", Problem::Unknown, lang, header, "", "");
    };
    // Kept as its message, so that the report reads in the language of whoever opens it.
    let suggestion = DetailMessage::new("pack.did_you_mean", &[("heading", s)]);
    let detail = suggestion.text(Problem::Unknown, lang);
    Issue::file("header", Problem::Unknown, lang, header, &detail, "")
        .with_detail_message(suggestion)
}

/// `header.unmapped`: an unknown column that looks like field `f`, by its heading or (when
/// `by_values`) by its first values.
pub(crate) fn unmapped_header(
    lang: Lang,
    header: &str,
    f: clientele_core::Field,
    by_values: bool,
) -> Issue {
    let heading = field_label(lang, f.def());
    if !by_values {
        return Issue::file("header", Problem::Unmapped, lang, header, "", heading);
    }
    let why = DetailMessage::new("pack.by_its_values", &[]);
    let detail = why.text(Problem::Unmapped, lang);
    Issue::file("header", Problem::Unmapped, lang, header, &detail, heading)
        .with_detail_message(why)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn contact_headers() {
        assert_eq!(match_contact_header("Prenom"), Some(2));
        assert_eq!(match_contact_header("firstName"), Some(2));
        assert_eq!(match_contact_header("CLIENT"), Some(0));
        assert_eq!(match_contact_header("contactable_id"), Some(0));
        assert_eq!(match_contact_header("Destinataire des factures"), Some(11));
        assert_eq!(match_contact_header("Remarques"), None);
        assert_eq!(match_contact_header(""), None);
        assert_eq!(suggest_contact_header("Prenon"), Some("Prénom"));
        assert_eq!(suggest_contact_header("zzzzzzzzzz"), None);
    }

    #[test]
    fn unknown_header_suggests() {
        let i = unknown_header(Schema::Clients, Lang::En, "Cde postal");
        assert_eq!(i.code, "header.unknown");
        assert!(
            i.message.contains("did you mean \"Code Postal\""),
            "{}",
            i.message
        );
        let i = unknown_header(Schema::Clients, Lang::Fr, "zzzzzzzzzzzzzz");
        assert!(!i.message.contains('('), "{}", i.message);
    }
}
