//! EU VAT numbers (numéro de TVA intracommunautaire).
//!
//! One submodule per member state, each porting the national check of python-stdnum
//! (`stdnum/<cc>/…`). Each `check` takes the national part (ASCII only, prefix removed) and
//! returns it in its normalised form (e.g. the Belgian leading `0` restored).
//!
//! A well-formed number is not proof of registration (only VIES can tell).

mod at;
mod be;
mod bg;
mod cy;
mod cz;
mod de;
mod dk;
mod ee;
mod el;
mod es;
mod fi;
mod fr;
mod hr;
mod hu;
mod ie;
mod it;
mod lt;
mod lu;
mod lv;
mod mt;
mod nl;
mod pl;
mod pt;
mod ro;
mod se;
mod si;
mod sk;
mod xi;

pub use fr::fr_key;

/// Why a VAT number was rejected.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum VatError {
    /// Unknown or missing two-letter country prefix.
    Country,
    /// Wrong national format (length, characters, impossible component such as a date).
    Invalid,
    /// Well-formed but the check digits are wrong.
    Checksum,
}

/// A validated VAT number.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Vat {
    /// The two-letter prefix as it must be written ("EL" for Greece, "XI" Northern Ireland).
    pub country: &'static str,
    /// The compact full number including the prefix (e.g. "FR46443121975").
    pub number: String,
}

/// Prefixes accepted by [`validate`]: the 27 member states (Greece as `EL`) and `XI`.
pub const EU_PREFIXES: &[&str] = &[
    "AT", "BE", "BG", "CY", "CZ", "DE", "DK", "EE", "EL", "ES", "FI", "FR", "HR", "HU", "IE", "IT",
    "LT", "LU", "LV", "MT", "NL", "PL", "PT", "RO", "SE", "SI", "SK", "XI",
];

/// A national check: normalised national part, or why it is wrong.
type Check = fn(&str) -> Result<String, VatError>;

/// The national check of each prefix, in the order of [`EU_PREFIXES`].
const CHECKS: &[(&str, Check)] = &[
    ("AT", at::check),
    ("BE", be::check),
    ("BG", bg::check),
    ("CY", cy::check),
    ("CZ", cz::check),
    ("DE", de::check),
    ("DK", dk::check),
    ("EE", ee::check),
    ("EL", el::check),
    ("ES", es::check),
    ("FI", fi::check),
    ("FR", fr::check),
    ("HR", hr::check),
    ("HU", hu::check),
    ("IE", ie::check),
    ("IT", it::check),
    ("LT", lt::check),
    ("LU", lu::check),
    ("LV", lv::check),
    ("MT", mt::check),
    ("NL", nl::check),
    ("PL", pl::check),
    ("PT", pt::check),
    ("RO", ro::check),
    ("SE", se::check),
    ("SI", si::check),
    ("SK", sk::check),
    ("XI", xi::check),
];

/// Validate a VAT number written with its country prefix (separators allowed).
pub fn validate(s: &str) -> Result<Vat, VatError> {
    // Besides the common separators, ':' ',' and '/' appear in real numbers copied from
    // letterheads ("DK: 21599336", "CZ 640229/4448") and are never part of a VAT number.
    let mut c = super::compact(s);
    c.retain(|c| !matches!(c, ':' | ',' | '/'));
    // Greece is deliberately not accepted as "GR": VIES and invoices use "EL", and GB is no
    // longer in the EU (only Northern Ireland's XI is), so both are country errors.
    let (prefix, check) = c
        .get(..2)
        .and_then(|p| CHECKS.iter().find(|(k, _)| *k == p))
        .ok_or(VatError::Country)?;
    let national = c.get(2..).unwrap_or_default();
    // Every national format is ASCII; rejecting anything else here lets the per-country
    // checks slice by byte without risking a panic on a multi-byte character.
    // '(' ')' occur in Belgian "(0)…" numbers, '+' '*' in old Irish ones.
    let charset_ok = national.chars().all(|c| {
        c.is_ascii_uppercase() || c.is_ascii_digit() || matches!(c, '(' | ')' | '+' | '*')
    });
    if national.is_empty() || !charset_ok {
        return Err(VatError::Invalid);
    }
    let normalised = check(national)?;
    // Not `format!`: this runs for every VAT number of an import.
    let mut number = String::with_capacity(prefix.len() + normalised.len());
    number.push_str(prefix);
    number.push_str(&normalised);
    Ok(Vat {
        country: prefix,
        number,
    })
}

impl Vat {
    /// True for a French (FR) number, Monaco's included.
    pub fn is_french(&self) -> bool {
        self.country == "FR"
    }

    /// The SIREN inside a French number; `None` for Monaco (`000` SIREN part) or non-French.
    pub fn fr_siren(&self) -> Option<&str> {
        if !self.is_french() {
            return None;
        }
        // number = "FR" + 2-char key + 9-digit SIREN (guaranteed by fr::check)
        let siren = self.number.get(4..13)?;
        (!fr::is_monaco(siren)).then_some(siren)
    }
}

// ---- helpers shared by the national checks ----

/// Digit values of an all-digit string (`None` otherwise); see [`super::digit_values`].
fn digits(s: &str) -> Option<Vec<u32>> {
    super::digit_values(s)
}

/// Σ weight × digit.
fn weighted(d: &[u32], w: &[u32]) -> u32 {
    d.iter().zip(w).map(|(a, b)| a * b).sum()
}

/// ISO 7064 Mod 11, 10 over the full number (check digit included).
fn mod_11_10(d: &[u32]) -> bool {
    let mut check = 5;
    for &n in d {
        let c = if check == 0 { 10 } else { check };
        check = ((c * 2) % 11 + n) % 10;
    }
    check == 1
}

/// The decimal string (at most 18 digits, all ASCII) as a number; 0 on anything else.
fn num(s: &str) -> u64 {
    s.parse().unwrap_or(0)
}

/// Whether year-month-day is a real calendar date.
fn is_date(y: i64, m: u32, d: u32) -> bool {
    let leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
    let days = match m {
        1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
        4 | 6 | 9 | 11 => 30,
        2 if leap => 29,
        2 => 28,
        _ => return false,
    };
    (1..=days).contains(&d)
}

/// Czech/Slovak birth number (rodné číslo), 9 or 10 digits, as python-stdnum `cz/rc`.
fn birth_number(n: &str) -> Result<(), VatError> {
    let d = digits(n).ok_or(VatError::Invalid)?;
    if d.len() != 9 && d.len() != 10 {
        return Err(VatError::Invalid);
    }
    let mut year = 1900 + i64::from(d[0] * 10 + d[1]);
    // women have 50 added to the month, and 20 is added when the daily serial overflows
    let month = (d[2] * 10 + d[3]) % 50 % 20;
    let day = d[4] * 10 + d[5];
    if d.len() == 9 {
        // 9-digit numbers were only issued before 1954
        if year >= 1980 {
            year -= 100;
        }
        if year > 1953 {
            return Err(VatError::Invalid);
        }
    } else if year < 1954 {
        year += 100;
    }
    if !is_date(year, month, day) {
        return Err(VatError::Invalid);
    }
    if d.len() == 10 && num(&n[..9]) % 11 % 10 != u64::from(d[9]) {
        return Err(VatError::Checksum);
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn prefixes_and_checks_agree() {
        assert_eq!(EU_PREFIXES.len(), 28);
        let keys: Vec<&str> = CHECKS.iter().map(|(k, _)| *k).collect();
        assert_eq!(keys, EU_PREFIXES);
    }

    #[test]
    fn country_errors() {
        for s in [
            "",
            "F",
            "46443121975",
            "GR094259216",
            "GB980780684",
            "QQ124567",
            "US123",
            "É1234",
        ] {
            assert_eq!(validate(s), Err(VatError::Country), "{s}");
        }
    }

    #[test]
    fn invalid_characters() {
        assert_eq!(validate("FR"), Err(VatError::Invalid));
        assert_eq!(validate("FR46443121975é"), Err(VatError::Invalid));
        assert_eq!(validate("FR4644312197_"), Err(VatError::Invalid));
        assert_eq!(validate("DE13669597６"), Err(VatError::Invalid));
    }

    #[test]
    fn separators() {
        let v = validate("fr 46 443.121-975").ok();
        assert_eq!(v.map(|v| v.number), Some("FR46443121975".to_string()));
        assert!(validate("DK: 21599336").is_ok());
        assert!(validate("CZ 640229/4448").is_ok());
        assert!(validate("BE (0)468.561.072").is_ok());
        assert!(validate("IT: 02331250163").is_ok());
    }

    #[test]
    fn fr_siren_and_is_french() {
        let v = validate("FR46443121975").ok();
        assert_eq!(v.as_ref().and_then(|v| v.fr_siren()), Some("443121975"));
        assert_eq!(v.as_ref().map(|v| v.is_french()), Some(true));
        let monaco = validate("FR53000004605").ok();
        assert_eq!(monaco.as_ref().map(|v| v.is_french()), Some(true));
        assert_eq!(monaco.as_ref().and_then(|v| v.fr_siren()), None);
        let de = validate("DE136695976").ok();
        assert_eq!(de.as_ref().map(|v| v.is_french()), Some(false));
        assert_eq!(de.as_ref().and_then(|v| v.fr_siren()), None);
    }

    /// python-stdnum tests/test_eu_vat.doctest: numbers found online, all valid.
    #[test]
    fn stdnum_valid_numbers() {
        let numbers = [
            "ATU 142 43 102",
            "ATU 57194903",
            "ATU61195628",
            "BE (0)468.561.072",
            "BE 0202.239.951",
            "BE 444.503.092",
            "BE697449992",
            "BG 103873594",
            "BG 131202360",
            "BG7111042925",
            "BG7523169263",
            "BG8032056031",
            "CY 10246672X",
            "CY00632993 F",
            "CZ 25123891",
            "CZ 640229/4448",
            "CZ 640903926",
            "CZ 6956220612",
            "CZ 736028/5163",
            "CZ00023205",
            "DE 118619592",
            "DE 813 11 38 75",
            "DK 10 50 32 80",
            "DK-27630308",
            "EE 100 931 558",
            "EE101256753",
            "ES - Q0818001J",
            "ES 54362315K",
            "ES A-28184661",
            "ES B64717838",
            "ES J99216582",
            "ES Q-2818015-F",
            "ES X-5253868-R",
            "ES Y5277343F",
            "ES Z5277343K",
            "ES-x-2482300w",
            "ES F13005293",
            "ES R9600075G",
            "ES W4003922D",
            "EL 039868210",
            "EL 94051189",
            "El 800 179 925",
            "FI 02459042",
            "FI 0982651-1",
            "FR 04409414364",
            "FR K 7399859412",
            "Fr 40 303 265 045",
            "FR16000063601",
            "FR32000000330",
            "HU -12509403",
            "HU 10672101",
            "IE 0005306C",
            "IE 632 3420 C",
            "IE 8223200u",
            "IE6433435IH",
            "IE6433435OA",
            "IE8D79739I",
            "IE9Y71814N",
            "IT - 01404480202",
            "IT 00118439991",
            "LT 100001354118",
            "LT 119511515",
            "LT100004801610",
            "LU 10059929",
            "LU.248.70.640",
            "LV 4000 3521 600",
            "LV 90000528023",
            "MT 1039-6417",
            "MT 20630321",
            "NL 001241 643 B01",
            "NL-8197.38.116.B.01",
            "NL4495445B01",
            "NL001162938B28",
            "NL001452330B47",
            "NL001617419B92",
            "NL002455799B11",
            "PL 5211754253",
            "PL 584-030-44-72",
            "PT 500 019 720",
            "PT503038083",
            "RO 1630615123457",
            "RO 1822964",
            "RO 573768",
            "RO16241790",
            "SE 202 100-5000 01",
            "SE556043606401",
            "SI 26808498",
            "SI-89036999",
            "SK 1078449064",
            "SK 202 274 96 19",
            "SK2022193459",
        ];
        for n in numbers {
            assert!(validate(n).is_ok(), "{n}: {:?}", validate(n));
        }
    }

    /// python-stdnum tests/test_eu_vat.doctest: mangled check digits.
    #[test]
    fn stdnum_checksum_numbers() {
        let numbers = [
            "ATU 143 43 102",
            "ATU46080904",
            "BE 0406.139.583",
            "BE697449982",
            "BG 1037735942",
            "BG 147147471",
            "CY 10246672F",
            "CY00632893 F",
            "CZ 25557481",
            "CZ 8058018314",
            "DE 125014855",
            "DE - 266297673",
            "DK 11 96 56 58",
            "DK10159817",
            "EE 100 941 558",
            "EE101256754",
            "ES 54362415K",
            "ES K-2814015-F",
            "ES-x-2322300w",
            "Es-a48951310",
            "EL 094013834",
            "EL: 094269805",
            "FR 04409414264",
            "FR 21 326 565 603",
            "FR K 7399859312",
            "FR L 7399859412",
            "IE 4731823H",
            "IE 632 3421 C",
            "IE 5339273F",
            "IE8D79729I",
            "LV 40003189715",
            "LV 90000528022",
            "LV-10103241337",
            "LV-42103048181",
            "SK 1078449164",
            "SK 302 274 96 19",
            "SK 2030 237 945",
            "SK 2020457679",
        ];
        for n in numbers {
            assert_eq!(validate(n), Err(VatError::Checksum), "{n}");
        }
    }

    /// python-stdnum tests/test_eu_vat.doctest: formatting, component and length errors.
    #[test]
    fn stdnum_invalid_numbers() {
        let numbers = [
            "AT1 142 43 102",
            "ATU 1515B209",
            "BE 02A2.239.951",
            "BG 10X8735941",
            "CY-102590Z3P",
            "DE 246X595 415",
            "DE 011125440",
            "IE 4550C59S",
            "IE 069385V8",
            "NL 001241643801",
            "NL 009122746B00",
            "NL B06753742B01",
            "NL 82X569759b01",
            "SK A078449064",
            "SK 012 274 96 19",
            "SK 2010 237 945",
            "CY-12259033P",
            "CZ 95123891",
            "IT 00687129980",
            "LT 100001354",
            "LT 100001509922",
            "ATU 151592092",
            "CY-1225903322",
            "ES B-583784312",
            "FR000076090",
            "NL006866304B021",
            "SE 55643359201",
            "SE 5567003255201",
        ];
        for n in numbers {
            assert_eq!(validate(n), Err(VatError::Invalid), "{n}");
        }
    }

    #[test]
    fn no_panic_on_odd_input() {
        let long = "9".repeat(200);
        for s in [
            "FR",
            "ATU",
            "BE()",
            "BE(0)",
            "NLB01",
            "NL",
            "NLB",
            "IE+",
            "IE1+",
            "ES",
            "ESX",
            "XIGD",
            "XIHA",
            "XIGD8888",
            "RO0",
            "RO",
            "CZ9",
            "LT1",
            "ELA",
            "SK",
            "FR??",
            &format!("DE{long}"),
            &format!("RO{long}"),
            &format!("NL{long}B01"),
            &format!("BE{long}"),
            &format!("LU{long}"),
            &format!("XI{long}"),
            &format!("IT{long}"),
        ] {
            let _ = validate(s);
        }
    }
}
