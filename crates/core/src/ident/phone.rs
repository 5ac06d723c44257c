//! Phone numbers: E.164 normalisation on write (libphonenumber via the `phonenumber` crate)
//! and a cheap, parse-free key for the call-routing hot path.
//!
//! Both functions share [`shape`], the prefix handling (`00`, `(0)`, national `0`, overseas
//! prefixes, digits-only `33…`), so that what [`normalise`] stores is exactly what
//! [`fast_key`] computes for an incoming caller number.

use phonenumber::country::Id;
use phonenumber::Mode;

/// A normalised phone number.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Phone {
    /// A full number in E.164 ("+33123456789").
    E164(String),
    /// A short number (3615, 112, 3-6 digits) kept as written.
    Short(String),
}

/// The text is not a valid phone number.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct InvalidPhone;

/// French overseas departments dialled nationally with a `0`: national prefix → region and
/// its country calling code. They share France's national plan but not its `+33` code.
const OVERSEAS: &[(&str, Id, &str)] = &[
    ("0590", Id::GP, "590"),
    ("0690", Id::GP, "590"),
    ("0596", Id::MQ, "596"),
    ("0696", Id::MQ, "596"),
    ("0594", Id::GF, "594"),
    ("0694", Id::GF, "594"),
    ("0262", Id::RE, "262"),
    ("0692", Id::RE, "262"),
    ("0693", Id::RE, "262"),
    ("0269", Id::YT, "262"),
    ("0639", Id::YT, "262"),
];

/// Calling codes of the French numbering plan (metropolitan France and the overseas
/// departments): after them a trunk `0` written by habit ("+33 0 1 …") is dropped, and
/// their numbers share the 9-digit national format.
const TRUNK_ZERO_CODES: &[&str] = &["33", "590", "594", "596", "262"];

/// Longest E.164 number (ITU-T E.164: 15 digits).
const MAX_DIGITS: usize = 15;

/// How a number was written, once separators are gone.
#[derive(Debug, PartialEq, Eq)]
enum Shape {
    /// International: the digits after `+` (or `00`), country code first.
    Intl(String),
    /// National French-plan number with its leading `0`, the region it dials, and that
    /// region's calling code.
    National {
        digits: String,
        region: Id,
        cc: &'static str,
    },
    /// A short number (3–6 digits, no leading 0 or `+`).
    Short(String),
    /// Anything else (wrong length for a national number, …).
    Other(String),
}

/// Classify `raw` by its digits only; `None` when it has fewer than 3 or more than 15 digits.
fn shape(raw: &str) -> Option<Shape> {
    // "(0)" is the trunk prefix written after a country code ("+33 (0)1 …"): not dialled.
    let text = raw.replace("(0)", "");
    let plus = text.trim_start().starts_with('+');
    let mut digits: String = text.chars().filter(char::is_ascii_digit).collect();
    if !plus {
        if let Some(rest) = digits.strip_prefix("00") {
            digits = rest.to_string();
            return intl(digits);
        }
        if (10..=MAX_DIGITS).contains(&digits.len()) && !digits.starts_with('0') {
            // The digits-only international form of a PBX that strips the '+'
            // (33123456789, 590590123456, 34912345678): no national number of the French
            // plan has 10 or more digits without its leading 0.
            return intl(digits);
        }
        if digits.len() == 9 && !digits.starts_with('0') {
            // a PBX (or a numeric spreadsheet cell) that dropped the national 0
            digits.insert(0, '0');
        }
    }
    if !(3..=MAX_DIGITS).contains(&digits.len()) {
        return None;
    }
    if plus {
        return intl(digits);
    }
    if digits.len() == 10 && digits.starts_with('0') {
        let (region, cc) = OVERSEAS
            .iter()
            .find(|(p, _, _)| digits.starts_with(p))
            .map_or((Id::FR, "33"), |&(_, r, cc)| (r, cc));
        return Some(Shape::National { digits, region, cc });
    }
    if digits.len() <= 6 && !digits.starts_with('0') {
        return Some(Shape::Short(digits));
    }
    Some(Shape::Other(digits))
}

/// An international number, with a habitual trunk `0` after the calling code removed
/// ("+33 0 1 …", "+49 0 69 …"): for the French plan, and for every country whose national
/// prefix is `0` (libphonenumber drops it there too, so the routing key of the number as
/// written is the E.164 form stored; found by fuzzing: "+49 069 8419540" was stored as
/// +49698419540 but looked up as +490698419540).
fn intl(mut digits: String) -> Option<Shape> {
    if let Some(cc) = TRUNK_ZERO_CODES.iter().find(|cc| digits.starts_with(*cc)) {
        if digits[cc.len()..].starts_with('0') {
            digits.remove(cc.len());
        }
    } else if let Some(n) = zero_prefix_code_len(&digits) {
        if digits[n..].starts_with('0') {
            digits.remove(n);
        }
    }
    if !(3..=MAX_DIGITS).contains(&digits.len()) {
        return None;
    }
    Some(Shape::Intl(digits))
}

/// Parse with the `phonenumber` crate, default region FR; overseas prefixes (0590…) select
/// their region first. Short numbers (3–6 digits) are kept as written.
pub fn normalise(raw: &str) -> Result<Phone, InvalidPhone> {
    let t = raw.trim();
    // Only digits and the usual separators; letters ("ext", "poste", "abc") are rejected
    // rather than guessed at.
    let allowed = |c: char| {
        c.is_ascii_digit() || c.is_whitespace() || matches!(c, '+' | '.' | '-' | '/' | '(' | ')')
    };
    if t.is_empty() || !t.chars().all(allowed) || t.matches('+').count() > 1 {
        return Err(InvalidPhone);
    }
    if t.contains('+') && !t.starts_with('+') {
        return Err(InvalidPhone);
    }
    let parsed = match shape(t).ok_or(InvalidPhone)? {
        Shape::Short(_) => return Ok(Phone::Short(t.to_string())),
        Shape::Intl(d) => phonenumber::parse(None, format!("+{d}")),
        Shape::National { digits, region, .. } => phonenumber::parse(Some(region), digits),
        // no national or international form we recognise: storing a guess would break the
        // normalise/fast_key agreement, so refuse it
        Shape::Other(_) => return Err(InvalidPhone),
    };
    let number = parsed.map_err(|_| InvalidPhone)?;
    if !phonenumber::is_valid(&number) {
        return Err(InvalidPhone);
    }
    let e164 = number.format().mode(Mode::E164).to_string();
    // Routing finds a caller by the cheap key of the number as written ([`fast_key`]): a
    // number whose key is not its stored form would never be found, so it is refused
    // rather than stored (odd writings only, such as two zeros after a calling code).
    if fast_key(t).as_deref() != Some(e164.as_str()) {
        return Err(InvalidPhone);
    }
    Ok(Phone::E164(e164))
}

/// The routing hot path: a cheap E.164 guess for a caller number (no parse, no regex);
/// `None` when it has fewer than 3 or more than 15 digits.
pub fn fast_key(raw: &str) -> Option<String> {
    Some(match shape(raw)? {
        Shape::Intl(d) => format!("+{d}"),
        Shape::National { digits, cc, .. } => format!("+{cc}{}", &digits[1..]),
        Shape::Short(d) => d,
        // best effort: a 0-leading number of unusual length is taken as French
        Shape::Other(d) => match d.strip_prefix('0') {
            Some(rest) => format!("+33{rest}"),
            None => d,
        },
    })
}

/// Whether a caller key (from [`fast_key`]) is a whole number of a country outside the
/// French numbering plan: its calling code is known and the rest has a length that
/// country's numbers can have. Such a number must match exactly: on its last 9 digits it
/// would reach a French customer who merely shares them (+44 1 40 00 00 46 and
/// 01 40 00 00 46). A foreign-looking key of no possible length (a PBX that prefixed an
/// outside-line 0: 00 1 40 00 00 46) may still fall back. No parse: a table of lengths by
/// calling code, built once from libphonenumber's metadata (routing must not parse).
pub fn is_foreign(key: &str) -> bool {
    let Some(digits) = key.strip_prefix('+') else {
        return false;
    };
    if TRUNK_ZERO_CODES.iter().any(|cc| digits.starts_with(cc)) {
        return false;
    }
    let table = national_lengths();
    // Calling codes are prefix-free: at most one of the first 1 to 3 digits is one.
    calling_code(digits, |cc, rest| {
        table
            .get(&cc)
            .is_some_and(|lengths| u16::try_from(rest.len()).is_ok_and(|l| lengths.contains(&l)))
    })
    .is_some()
}

/// The length of the calling code `digits` starts with that `accept` takes (given the code
/// and the digits after it). Calling codes are prefix-free: at most one of the first 1 to 3
/// digits is one.
fn calling_code(digits: &str, accept: impl Fn(u16, &str) -> bool) -> Option<usize> {
    (1..=3).find(|&n| match (digits.get(..n), digits.get(n..)) {
        (Some(cc), Some(rest)) => cc.parse::<u16>().is_ok_and(|cc| accept(cc, rest)),
        _ => false,
    })
}

/// The length of the calling code `digits` starts with, when that country dials a national
/// prefix `0` (Germany, the United Kingdom, …; not Italy, whose numbers keep their 0).
fn zero_prefix_code_len(digits: &str) -> Option<usize> {
    static CODES: std::sync::OnceLock<std::collections::HashSet<u16>> = std::sync::OnceLock::new();
    let codes = CODES.get_or_init(|| {
        let mut by_code: std::collections::HashMap<u16, bool> = Default::default();
        for m in phonenumber::metadata::DATABASE.iter() {
            // Every region of a calling code must agree (+1, +7, +44 share theirs).
            let zero = m.national_prefix() == Some("0");
            let e = by_code.entry(m.country_code()).or_insert(true);
            *e &= zero;
        }
        by_code
            .into_iter()
            .filter(|(_, z)| *z)
            .map(|(c, _)| c)
            .collect()
    });
    calling_code(digits, |cc, _| codes.contains(&cc))
}

/// The possible lengths of national numbers, by country calling code.
fn national_lengths() -> &'static std::collections::HashMap<u16, Vec<u16>> {
    static TABLE: std::sync::OnceLock<std::collections::HashMap<u16, Vec<u16>>> =
        std::sync::OnceLock::new();
    TABLE.get_or_init(|| {
        let mut table: std::collections::HashMap<u16, Vec<u16>> = Default::default();
        use phonenumber::Type;
        // Dialable number types (the general descriptor's lengths are often left out).
        let kinds = [
            Type::FixedLine,
            Type::Mobile,
            Type::TollFree,
            Type::PremiumRate,
            Type::SharedCost,
            Type::PersonalNumber,
            Type::Voip,
            Type::Pager,
            Type::Uan,
            Type::Voicemail,
        ];
        for m in phonenumber::metadata::DATABASE.iter() {
            let lengths = table.entry(m.country_code()).or_default();
            lengths.extend_from_slice(m.descriptors().general().possible_length());
            for k in kinds {
                if let Some(d) = m.descriptors().get(k) {
                    lengths.extend_from_slice(d.possible_length());
                }
            }
        }
        table
    })
}

/// Last 9 digits of an E.164 number (or all digits when fewer): the fallback routing key.
pub fn last9(e164: &str) -> &str {
    let s = e164.strip_prefix('+').unwrap_or(e164);
    // 9 characters from the end, counted in chars so odd input cannot split a UTF-8 char
    match s.char_indices().rev().nth(8) {
        Some((i, _)) => &s[i..],
        None => s,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Found by fuzzing (fuzz/artifacts/phone): numbers written with a trunk 0 after the
    /// calling code, stored by libphonenumber without it but keyed with it for routing.
    #[test]
    fn the_routing_key_of_a_number_is_its_stored_form() {
        for raw in [
            ")49038890190",
            "+(0)31 0)90040 001 ",
            "+(49002  27/1(26",
            "+3106 2 1742124",
            "+3860.056836557",
            "+4 00 763339588",
            "+43 0221631/658",
            "+43 06 219658",
            "+43 06 23559658",
            "+430 12 219658",
            "+43012958",
            "+44 00 7624096658",
            "+44 07170 740958",
            "+490 690 12 14 56",
            "+490698419540",
            "+88 00 76240958",
            ".27-0/0.27-0/081814",
            "0.020030404050",
            "00 460)1 40 00 00 46",
            "00310333186110",
            "004908252486  25220",
            "20033 66 8089",
            "252 09)6(0780 46",
            "261625 8537",
            "270859601010",
            "3300666766645",
            "370880011011",
            "38 00/38 0 3 12 715",
            "40075600 4400\t\t",
            "43 0264320958",
            "4306773488",
            "49023401000",
            "49044(82 5 3036",
            "49078502439",
            "5-305 -055-3010",
            "5501254574920",
            "6/209203236158",
            "60066646610",
            "6200 554-055-3010",
            "640043004045",
            "64033000045",
            "6600688191197",
            "78345810095(1",
            "8202322574920",
            "82061(8276 2 36",
            "82081612495160",
            "820833148021480",
            "9610010022345",
            "9640154358954",
        ] {
            if let Ok(Phone::E164(e)) = normalise(raw) {
                assert_eq!(fast_key(raw).as_deref(), Some(e.as_str()), "{raw:?}");
                assert_eq!(normalise(&e), Ok(Phone::E164(e.clone())), "{raw:?}");
            }
        }
        assert_eq!(normalise("+49 (0)69 8419540"), e164("+49698419540"));
        assert_eq!(fast_key("+490698419540").as_deref(), Some("+49698419540"));
        assert_eq!(
            fast_key("+44 07170 740958").as_deref(),
            Some("+447170740958")
        );
        // Italy's numbers keep their 0.
        assert_eq!(
            fast_key("+39 06 1234 5678").as_deref(),
            Some("+390612345678")
        );
    }

    fn e164(s: &str) -> Result<Phone, InvalidPhone> {
        Ok(Phone::E164(s.to_string()))
    }

    #[test]
    fn french_spellings() {
        for raw in [
            "01 23 45 67 89",
            "0123456789",
            "01.23.45.67.89",
            "01-23-45-67-89",
            "+33 1 23 45 67 89",
            "+33 (0)1 23 45 67 89",
            "+33(0)123456789",
            "0033123456789",
            "0033 (0)1 23 45 67 89",
            "33123456789",
            "+33 0 1 23 45 67 89",
            "123456789",
            "\u{a0}01\u{202f}23 45 67 89 ",
        ] {
            assert_eq!(normalise(raw), e164("+33123456789"), "{raw}");
        }
        assert_eq!(normalise("06 12 34 56 78"), e164("+33612345678"));
    }

    #[test]
    fn overseas_prefixes() {
        // example numbers from libphonenumber's metadata for each region
        let cases = [
            ("0590 20 12 34", "+590590201234"),
            ("0690 00 12 34", "+590690001234"),
            ("0596 30 12 34", "+596596301234"),
            ("0696 20 12 34", "+596696201234"),
            ("0594 10 12 34", "+594594101234"),
            ("0694 20 12 34", "+594694201234"),
            ("0262 16 12 34", "+262262161234"),
            ("0692 12 34 56", "+262692123456"),
            ("0693 00 12 34", "+262693001234"),
            ("0269 60 12 34", "+262269601234"),
            ("0639 01 23 45", "+262639012345"),
        ];
        for (raw, want) in cases {
            assert_eq!(normalise(raw), e164(want), "{raw}");
            assert_eq!(fast_key(raw).as_deref(), Some(want), "{raw}");
        }
    }

    #[test]
    fn short_numbers() {
        assert_eq!(normalise("3615"), Ok(Phone::Short("3615".into())));
        assert_eq!(normalise("112"), Ok(Phone::Short("112".into())));
        assert_eq!(normalise(" 3 6 1 5 "), Ok(Phone::Short("3 6 1 5".into())));
        assert_eq!(fast_key("3615").as_deref(), Some("3615"));
    }

    #[test]
    fn invalid() {
        for raw in [
            "",
            "   ",
            "abc",
            "01 23 45 67 8a",
            "0123",
            "12",
            "+",
            "0",
            "01234567890123456",
            "1+33123456789",
            "++33123456789",
            "0123456789 ext 12",
            "+33 1 23",
            "0023456789",
            "+999123456789",
            "01 23 45 67 89 00",
            "é",
            "06 12 34 56 78 ☎",
        ] {
            assert_eq!(normalise(raw), Err(InvalidPhone), "{raw}");
        }
    }

    #[test]
    fn fast_key_basics() {
        assert_eq!(fast_key("01 23 45 67 89").as_deref(), Some("+33123456789"));
        assert_eq!(
            fast_key("+44 20 7946 0000").as_deref(),
            Some("+442079460000")
        );
        assert_eq!(
            fast_key("0044 20 7946 0000").as_deref(),
            Some("+442079460000")
        );
        assert_eq!(fast_key("12"), None);
        assert_eq!(fast_key(""), None);
        assert_eq!(fast_key("1234567890123456"), None);
        assert_eq!(fast_key("abc"), None);
        assert_eq!(
            fast_key("☎ 01 23 45 67 89").as_deref(),
            Some("+33123456789")
        );
    }

    #[test]
    fn digits_only_international_numbers() {
        for (raw, want) in [
            ("590590201234", "+590590201234"),
            ("34912345678", "+34912345678"),
            ("330140000046", "+33140000046"),
            ("4930123456", "+4930123456"),
        ] {
            assert_eq!(fast_key(raw).as_deref(), Some(want), "{raw}");
        }
        assert_eq!(normalise("590590201234"), e164("+590590201234"));
        assert_eq!(normalise("34912345678"), e164("+34912345678"));
        assert_eq!(normalise("330140000046"), e164("+33140000046"));
    }

    #[test]
    fn foreign_numbers() {
        for key in ["+34912345678", "+442079460000", "+32477123456"] {
            assert!(is_foreign(key), "{key}");
        }
        // French plan, short numbers, and keys that are no valid number
        for key in [
            "+33140000046",
            "+590590201234",
            "3615",
            "+140000046",
            "+999123",
        ] {
            assert!(!is_foreign(key), "{key}");
        }
    }

    #[test]
    fn last9_keys() {
        assert_eq!(last9("+33123456789"), "123456789");
        assert_eq!(last9("+590690123456"), "690123456");
        assert_eq!(last9("+3361"), "3361");
        assert_eq!(last9("3615"), "3615");
        assert_eq!(last9(""), "");
        assert_eq!(last9("ééééééééééé"), "ééééééééé");
    }

    /// Whatever `normalise` accepts as E.164, `fast_key` must find from the same text.
    #[test]
    fn normalise_and_fast_key_agree() {
        // national numbers (10 digits with the 0) of every prefix family
        let nationals = [
            "0123456789",
            "0298765432",
            "0387654321",
            "0476543210",
            "0565432109",
            "0612345678",
            "0798765432",
            "0801234567",
            "0912345678",
            "0590201234",
            "0690001234",
            "0596301234",
            "0696201234",
            "0594101234",
            "0694201234",
            "0262161234",
            "0692123456",
            "0693001234",
            "0269601234",
            "0639012345",
        ];
        let mut checked = 0;
        for n in nationals {
            let rest = &n[1..];
            let spaced: String = n
                .as_bytes()
                .chunks(2)
                .map(|c| String::from_utf8_lossy(c).into_owned())
                .collect::<Vec<_>>()
                .join(" ");
            let Some(want) = fast_key(n) else {
                panic!("no key for {n}");
            };
            let cc = want
                .strip_suffix(rest)
                .and_then(|p| p.strip_prefix('+'))
                .unwrap_or("");
            let spellings = [
                n.to_string(),
                spaced.clone(),
                spaced.replace(' ', "."),
                spaced.replace(' ', "-"),
                spaced.replace(' ', "\u{a0}"),
                spaced.replace(' ', "\u{202f}"),
                format!(" {spaced} "),
                rest.to_string(),
                format!("+{cc}{rest}"),
                format!("+{cc} {rest}"),
                format!("+{cc} (0){rest}"),
                format!("+{cc}(0) {rest}"),
                format!("+{cc} 0{rest}"),
                format!("00{cc}{rest}"),
                format!("00 {cc} {rest}"),
                format!("00{cc} (0){rest}"),
                format!("{cc}{rest}"),
            ];
            for s in spellings {
                if let Ok(Phone::E164(x)) = normalise(&s) {
                    assert_eq!(fast_key(&s), Some(x.clone()), "{s}");
                    // every spelling of one number reaches the same key
                    assert_eq!(x, want, "{s}");
                    checked += 1;
                }
            }
        }
        // 20 numbers × 17 spellings, the digits-only international forms (33…, 590590…)
        // included
        assert_eq!(checked, 20 * 17, "accepted {checked} spellings");
    }
}
