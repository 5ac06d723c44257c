//! French legal forms (forme juridique).

use unicode_normalization::UnicodeNormalization;

/// Known spellings (folded: upper case, no accents, no dots, spaces, dashes or apostrophes)
/// and the abbreviation stored for each.
const FORMS: &[(&str, &str)] = &[
    ("EI", "EI"),
    ("ENTREPRISEINDIVIDUELLE", "EI"),
    ("EIRL", "EIRL"),
    ("ENTREPRISEINDIVIDUELLEARESPONSABILITELIMITEE", "EIRL"),
    ("MICROENTREPRISE", "Micro-entreprise"),
    ("MICROENTREPRENEUR", "Micro-entreprise"),
    ("AUTOENTREPRENEUR", "Micro-entreprise"),
    ("AUTOENTREPRISE", "Micro-entreprise"),
    ("SNC", "SNC"),
    ("SOCIETEENNOMCOLLECTIF", "SNC"),
    ("SCS", "SCS"),
    ("SOCIETEENCOMMANDITESIMPLE", "SCS"),
    ("SCA", "SCA"),
    ("SOCIETEENCOMMANDITEPARACTIONS", "SCA"),
    ("SARL", "SARL"),
    ("SOCIETEARESPONSABILITELIMITEE", "SARL"),
    ("EURL", "EURL"),
    ("ENTREPRISEUNIPERSONNELLEARESPONSABILITELIMITEE", "EURL"),
    ("SELARL", "SELARL"),
    ("SA", "SA"),
    ("SOCIETEANONYME", "SA"),
    ("SAS", "SAS"),
    ("SOCIETEPARACTIONSSIMPLIFIEE", "SAS"),
    ("SASU", "SASU"),
    ("SOCIETEPARACTIONSSIMPLIFIEEUNIPERSONNELLE", "SASU"),
    ("SELAS", "SELAS"),
    ("SELASU", "SELASU"),
    ("SCI", "SCI"),
    ("SOCIETECIVILEIMMOBILIERE", "SCI"),
    ("SCOP", "SCOP"),
    ("SCIC", "SCIC"),
    ("GIE", "GIE"),
    ("GROUPEMENTDINTERETECONOMIQUE", "GIE"),
    ("ASSOCIATION", "Association"),
    ("ASSOCIATIONLOI1901", "Association"),
    ("ASSOCIATIONLOIDE1901", "Association"),
];

/// Every form as stored (each once, in the table's order), for a list to choose from.
pub const ABBREVIATIONS: &[&str] = &[
    "EI",
    "EIRL",
    "Micro-entreprise",
    "SNC",
    "SCS",
    "SCA",
    "SARL",
    "EURL",
    "SELARL",
    "SA",
    "SAS",
    "SASU",
    "SELAS",
    "SELASU",
    "SCI",
    "SCOP",
    "SCIC",
    "GIE",
    "Association",
];

/// The normalised abbreviation of a known legal form ("S.A.S." → "SAS"), `None` for unknown text.
pub fn normalise(s: &str) -> Option<&'static str> {
    // Fold so that "Société à responsabilité limitée", "s.a.r.l" and "SARL" compare equal:
    // decompose accents and drop the combining marks, keep only letters and digits.
    let folded: String = if s.is_ascii() {
        // NFD leaves ASCII as it is, and its letters upper-case to one letter: no need
        // for the Unicode iterators on the common case.
        s.bytes()
            .filter(u8::is_ascii_alphanumeric)
            .map(|b| char::from(b.to_ascii_uppercase()))
            .collect()
    } else {
        s.nfd()
            .filter(|c| c.is_alphanumeric())
            .flat_map(char::to_uppercase)
            .collect()
    };
    if folded.is_empty() {
        return None;
    }
    FORMS.iter().find(|(k, _)| *k == folded).map(|(_, v)| *v)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn abbreviations_are_the_stored_forms() {
        let mut stored: Vec<&str> = FORMS.iter().map(|(_, a)| *a).collect();
        stored.dedup();
        assert_eq!(stored, ABBREVIATIONS);
        for a in ABBREVIATIONS {
            assert_eq!(normalise(a), Some(*a), "{a}");
        }
    }

    #[test]
    fn abbreviations() {
        for f in [
            "EI", "EIRL", "SNC", "SCS", "SCA", "SARL", "EURL", "SELARL", "SA", "SAS", "SASU",
            "SELAS", "SELASU", "SCI", "SCOP", "SCIC", "GIE",
        ] {
            assert_eq!(normalise(f), Some(f), "{f}");
            assert_eq!(normalise(&f.to_lowercase()), Some(f), "{f}");
        }
    }

    #[test]
    fn spellings() {
        assert_eq!(normalise("S.A.S."), Some("SAS"));
        assert_eq!(normalise("s.a.r.l"), Some("SARL"));
        assert_eq!(normalise(" S A R L "), Some("SARL"));
        assert_eq!(normalise("S.A."), Some("SA"));
        assert_eq!(normalise("auto-entrepreneur"), Some("Micro-entreprise"));
        assert_eq!(normalise("Auto Entrepreneur"), Some("Micro-entreprise"));
        assert_eq!(normalise("micro entreprise"), Some("Micro-entreprise"));
        assert_eq!(normalise("Micro-entreprise"), Some("Micro-entreprise"));
        assert_eq!(normalise("association"), Some("Association"));
        assert_eq!(normalise("Association loi 1901"), Some("Association"));
        assert_eq!(normalise("Société à responsabilité limitée"), Some("SARL"));
        assert_eq!(normalise("société par actions simplifiée"), Some("SAS"));
        assert_eq!(normalise("Groupement d'intérêt économique"), Some("GIE"));
    }

    #[test]
    fn unknown() {
        for s in [
            "",
            "   ",
            "...",
            "Ltd",
            "GmbH",
            "S.A.S.U.X",
            "SARLU",
            "société",
        ] {
            assert_eq!(normalise(s), None, "{s}");
        }
    }
}
