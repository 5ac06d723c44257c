//! Property tests of the identifier checks: numbers generated with each algorithm's own
//! rule validate (with any spelling of separators and case), keep their normal form, and
//! the errors each algorithm promises to catch are caught: any single-digit change, and
//! the transposition of two adjacent digits where the algorithm detects it.
//!
//! The generators compute check digits independently of the code under test (from the
//! published algorithms, as python-stdnum describes them).

use clientele_core::ident::{compact, luhn, siren, siret, vat};
use proptest::prelude::*;

/// Modest case counts: these run in the normal suite.
fn config() -> ProptestConfig {
    ProptestConfig {
        cases: 256,
        // Failures are printed with their minimal input; no regression file is written.
        failure_persistence: None,
        ..ProptestConfig::default()
    }
}

fn digits_of(s: &str) -> Vec<u32> {
    s.bytes().map(|b| u32::from(b - b'0')).collect()
}

fn text_of(d: &[u32]) -> String {
    d.iter().map(|x| char::from(b'0' + *x as u8)).collect()
}

/// The Luhn check digit to append to `d`.
fn luhn_digit(d: &[u32]) -> u32 {
    let sum: u32 = d
        .iter()
        .rev()
        .enumerate()
        .map(|(i, &x)| {
            if i % 2 == 0 {
                let y = x * 2;
                y / 10 + y % 10
            } else {
                x
            }
        })
        .sum();
    (10 - sum % 10) % 10
}

fn with_luhn(mut d: Vec<u32>) -> String {
    d.push(luhn_digit(&d));
    text_of(&d)
}

fn num(d: &[u32]) -> u64 {
    d.iter().fold(0, |n, &x| n * 10 + u64::from(x))
}

/// ISO 7064 MOD 11,10: the check digit to append (DE, HR).
fn mod_11_10_digit(d: &[u32]) -> u32 {
    let mut p = 10;
    for &x in d {
        let s = (x + p) % 10;
        let s = if s == 0 { 10 } else { s };
        p = (2 * s) % 11;
    }
    (11 - p) % 10
}

fn weighted(d: &[u32], w: &[u32]) -> u32 {
    d.iter().zip(w).map(|(a, b)| a * b).sum()
}

/// A generated valid number: the national part for its prefix, and what the algorithm
/// promises to catch (`single`: any one digit changed; `swap`: two adjacent different
/// digits swapped, among the positions given).
struct Gen {
    prefix: &'static str,
    national: String,
    single: bool,
    /// Positions (in the national part) between which adjacent swaps are caught.
    swap: Option<std::ops::Range<usize>>,
    /// Luhn-based: a 0↔9 swap is the one it cannot see.
    luhn_swap: bool,
}

/// A valid VAT number of country `which`, from the random digits `r` (at least 14).
fn generate(which: usize, r: &[u32]) -> Option<Gen> {
    let nonzero = |x: u32| if x == 0 { 1 } else { x };
    let g = |prefix, national: String, single, swap, luhn_swap| {
        Some(Gen {
            prefix,
            national,
            single,
            swap,
            luhn_swap,
        })
    };
    match which {
        0 => {
            // FR: key (12 + 3 × (SIREN mod 97)) mod 97, then a Luhn-valid SIREN.
            let mut body = r[..8].to_vec();
            body[0] = nonzero(body[0]); // a leading 000 would be a Monaco number
            let siren = with_luhn(body);
            let key = (12 + 3 * (siren.parse::<u64>().ok()? % 97)) % 97;
            g("FR", format!("{key:02}{siren}"), true, Some(2..11), true)
        }
        1 => {
            // AT: U + 7 digits + (6 + 10 − Luhn checksum of the 7) mod 10.
            let d = &r[..7];
            let sum: u32 = d
                .iter()
                .rev()
                .enumerate()
                .map(|(i, &x)| {
                    if i % 2 == 1 {
                        let y = x * 2;
                        y / 10 + y % 10
                    } else {
                        x
                    }
                })
                .sum::<u32>()
                % 10;
            let check = (6 + 10 - sum) % 10;
            // Swaps are promised among the 7 digits: the check digit is compared, not summed.
            g(
                "AT",
                format!("U{}{check}", text_of(d)),
                true,
                Some(1..8),
                true,
            )
        }
        2 => {
            // BE: 0 + 7 digits, then 97 − (first 8 mod 97) as two digits.
            let mut d = vec![0];
            d.extend_from_slice(&r[..7]);
            if num(&d) == 0 {
                return None;
            }
            let check = 97 - num(&d) % 97;
            g(
                "BE",
                format!("{}{check:02}", text_of(&d)),
                true,
                Some(1..10),
                false,
            )
        }
        3 => {
            // DE: 8 digits (no leading 0) + ISO 7064 MOD 11,10.
            let mut d = r[..8].to_vec();
            d[0] = nonzero(d[0]);
            let c = mod_11_10_digit(&d);
            d.push(c);
            g("DE", text_of(&d), true, None, false)
        }
        4 => {
            // HR: 10 digits + ISO 7064 MOD 11,10.
            let mut d = r[..10].to_vec();
            let c = mod_11_10_digit(&d);
            d.push(c);
            g("HR", text_of(&d), true, None, false)
        }
        5 => {
            // DK: 8 digits, weights 2 7 6 5 4 3 2 1, sum ≡ 0 mod 11.
            let mut d = r[..7].to_vec();
            d[0] = nonzero(d[0]);
            let s = weighted(&d, &[2, 7, 6, 5, 4, 3, 2]) % 11;
            let c = (11 - s) % 11;
            if c == 10 {
                return None;
            }
            d.push(c);
            g("DK", text_of(&d), true, Some(0..8), false)
        }
        6 => {
            // FI: 8 digits, weights 7 9 10 5 8 4 2 1, sum ≡ 0 mod 11.
            let mut d = r[..7].to_vec();
            let s = weighted(&d, &[7, 9, 10, 5, 8, 4, 2]) % 11;
            let c = (11 - s) % 11;
            if c == 10 {
                return None;
            }
            d.push(c);
            g("FI", text_of(&d), true, Some(0..8), false)
        }
        7 => {
            // IT: 7 digits (not all 0), office 001–100, Luhn digit.
            let mut d = r[..7].to_vec();
            d[0] = nonzero(d[0]);
            let office = 1 + (r[7] * 10 + r[8]);
            d.extend(digits_of(&format!("{office:03}")));
            g("IT", with_luhn(d), true, Some(0..11), true)
        }
        8 => {
            // LU: 6 digits + (those mod 89) as two digits.
            let d = &r[..6];
            let check = num(d) % 89;
            g(
                "LU",
                format!("{}{check:02}", text_of(d)),
                true,
                Some(0..6),
                false,
            )
        }
        9 => {
            // PL: 9 digits, weights 6 5 7 2 3 4 5 6 7, check = sum mod 11 (10: no number).
            let mut d = r[..9].to_vec();
            let c = weighted(&d, &[6, 5, 7, 2, 3, 4, 5, 6, 7]) % 11;
            if c == 10 {
                return None;
            }
            d.push(c);
            g("PL", text_of(&d), true, Some(0..10), false)
        }
        10 => {
            // SE: 9 digits + Luhn digit + 01.
            let d = r[..9].to_vec();
            g("SE", format!("{}01", with_luhn(d)), true, Some(0..10), true)
        }
        11 => {
            // SI: 7 digits (no leading 0), check 11 − (weighted sum mod 11), 10 → 0.
            let mut d = r[..7].to_vec();
            d[0] = nonzero(d[0]);
            let c = 11 - weighted(&d, &[8, 7, 6, 5, 4, 3, 2]) % 11;
            if c == 11 {
                return None;
            }
            d.push(if c == 10 { 0 } else { c });
            g("SI", text_of(&d), true, Some(0..7), false)
        }
        _ => {
            // PT: 8 digits (no leading 0), check (11 − weighted sum mod 11) mod 11 mod 10.
            // 10 and 11 both give 0: a change between them is not caught, so no promise.
            let mut d = r[..8].to_vec();
            d[0] = nonzero(d[0]);
            let s = weighted(&d, &[9, 8, 7, 6, 5, 4, 3, 2]) % 11;
            d.push((11 - s) % 11 % 10);
            g("PT", text_of(&d), false, None, false)
        }
    }
}

const GENERATED_COUNTRIES: usize = 13;

/// One valid number of every prefix (python-stdnum's examples), spelled as found.
const ONE_OF_EACH: &[&str] = &[
    "ATU 142 43 102",
    "BE (0)468.561.072",
    "BG 103873594",
    "CY 10246672X",
    "CZ 25123891",
    "DE 118619592",
    "DK 10 50 32 80",
    "EE 100 931 558",
    "EL 039868210",
    "ES - Q0818001J",
    "FI 02459042",
    "FR 04409414364",
    "HR 33392005961",
    "HU -12509403",
    "IE 0005306C",
    "IT - 01404480202",
    "LT 100001354118",
    "LU 10059929",
    "LV 4000 3521 600",
    "MT 1039-6417",
    "NL 001241 643 B01",
    "PL 5211754253",
    "PT 500 019 720",
    "RO 1630615123457",
    "SE 202 100-5000 01",
    "SI 26808498",
    "SK 1078449064",
    "XI 980 7806 84",
];

/// `s` with separators a user may type between any characters, and random case.
fn respell(s: &str, seps: &[u8], lower: &[bool]) -> String {
    let mut out = String::new();
    for (i, c) in s.chars().enumerate() {
        let c = if lower.get(i).copied().unwrap_or(false) {
            c.to_ascii_lowercase()
        } else {
            c
        };
        out.push(c);
        match seps.get(i).copied().unwrap_or(0) % 8 {
            1 => out.push(' '),
            2 => out.push('.'),
            3 => out.push('-'),
            4 => out.push('\u{a0}'),
            5 => out.push('\u{202f}'),
            _ => {}
        }
    }
    out
}

fn change_digit(s: &str, pos: usize, by: u32) -> Option<String> {
    let mut b = s.as_bytes().to_vec();
    let c = *b.get(pos)?;
    if !c.is_ascii_digit() {
        return None;
    }
    b[pos] = b'0' + ((u32::from(c - b'0') + by) % 10) as u8;
    String::from_utf8(b).ok()
}

fn swap_adjacent(s: &str, pos: usize) -> Option<String> {
    let mut b = s.as_bytes().to_vec();
    let (x, y) = (*b.get(pos)?, *b.get(pos + 1)?);
    if x == y || !x.is_ascii_digit() || !y.is_ascii_digit() {
        return None;
    }
    b.swap(pos, pos + 1);
    String::from_utf8(b).ok()
}

/// A Luhn checksum cannot see 0↔9 swapped.
fn is_09(s: &str, pos: usize) -> bool {
    let b = s.as_bytes();
    matches!((b[pos], b[pos + 1]), (b'0', b'9') | (b'9', b'0'))
}

proptest! {
    #![proptest_config(config())]

    #[test]
    fn generated_sirens_and_sirets_validate(
        body in prop::collection::vec(0u32..10, 13),
        seps in prop::collection::vec(any::<u8>(), 14),
    ) {
        let siren_s = with_luhn(body[..8].to_vec());
        prop_assert!(siren::is_valid(&siren_s), "{siren_s}");
        prop_assert!(siren::is_valid(&respell(&siren_s, &seps, &[])));
        let mut d = digits_of(&siren_s);
        d.extend_from_slice(&body[8..12]);
        let siret_s = with_luhn(d);
        prop_assert!(siret::is_valid(&siret_s), "{siret_s}");
        prop_assert!(siret::is_valid(&respell(&siret_s, &seps, &[])));
        prop_assert_eq!(compact(&respell(&siret_s, &seps, &[])), siret_s.clone());
        // And its VAT number, built from the SIREN, validates with it.
        let key = vat::fr_key(&siren_s).expect("a valid SIREN has a key");
        let v = vat::validate(&format!("FR{key}{siren_s}")).expect("FR number");
        if !siren_s.starts_with("000") {
            prop_assert_eq!(v.fr_siren(), Some(siren_s.as_str()));
        }
    }

    #[test]
    fn siren_and_siret_catch_single_digit_changes_and_swaps(
        body in prop::collection::vec(0u32..10, 13),
        pos in 0usize..14,
        by in 1u32..10,
    ) {
        let siren_s = with_luhn(body[..8].to_vec());
        let mut d = digits_of(&siren_s);
        d.extend_from_slice(&body[8..12]);
        let siret_s = with_luhn(d);
        // La Poste's establishments follow another rule (see `siret::is_valid`).
        prop_assume!(!siret_s.starts_with("356000000"));
        if let Some(bad) = change_digit(&siren_s, pos % 9, by) {
            prop_assert!(!siren::is_valid(&bad), "{siren_s} → {bad}");
        }
        if let Some(bad) = change_digit(&siret_s, pos, by) {
            prop_assert!(!siret::is_valid(&bad), "{siret_s} → {bad}");
        }
        if pos % 9 < 8 {
            if let Some(bad) = swap_adjacent(&siren_s, pos % 9) {
                if !is_09(&siren_s, pos % 9) {
                    prop_assert!(!siren::is_valid(&bad), "{siren_s} → {bad}");
                }
            }
        }
        if pos < 13 {
            if let Some(bad) = swap_adjacent(&siret_s, pos) {
                if !is_09(&siret_s, pos) && !bad.starts_with("356000000") {
                    prop_assert!(!siret::is_valid(&bad), "{siret_s} → {bad}");
                }
            }
        }
        prop_assert!(luhn(&siret_s));
    }

    #[test]
    fn generated_vat_numbers_validate_in_any_spelling(
        which in 0usize..GENERATED_COUNTRIES,
        r in prop::collection::vec(0u32..10, 14),
        seps in prop::collection::vec(any::<u8>(), 16),
        lower in prop::collection::vec(any::<bool>(), 16),
    ) {
        let Some(gen) = generate(which, &r) else { return Ok(()) };
        let number = format!("{}{}", gen.prefix, gen.national);
        let v = vat::validate(&number);
        prop_assert!(v.is_ok(), "{number}: {v:?}");
        let v = v.expect("checked");
        prop_assert_eq!(&v.number, &number);
        prop_assert_eq!(v.country, gen.prefix);
        let spelled = respell(&number, &seps, &lower);
        prop_assert_eq!(vat::validate(&spelled), Ok(v.clone()), "{}", spelled);
        // The normal form is its own normal form.
        prop_assert_eq!(vat::validate(&v.number), Ok(v));
    }

    #[test]
    fn vat_checks_catch_what_their_algorithm_promises(
        which in 0usize..GENERATED_COUNTRIES,
        r in prop::collection::vec(0u32..10, 14),
        pos in 0usize..14,
        by in 1u32..10,
    ) {
        let Some(gen) = generate(which, &r) else { return Ok(()) };
        let n = &gen.national;
        if gen.single {
            if let Some(bad) = change_digit(n, pos % n.len(), by) {
                let full = format!("{}{bad}", gen.prefix);
                prop_assert!(vat::validate(&full).is_err(), "{}{} → {}", gen.prefix, n, full);
            }
        }
        if let Some(range) = &gen.swap {
            let p = range.start + pos % (range.len().max(2) - 1);
            if p + 1 < range.end {
                if let Some(bad) = swap_adjacent(n, p) {
                    if !(gen.luhn_swap && is_09(n, p)) {
                        let full = format!("{}{bad}", gen.prefix);
                        prop_assert!(vat::validate(&full).is_err(), "{}{} → {}", gen.prefix, n, full);
                    }
                }
            }
        }
    }

    #[test]
    fn every_prefix_accepts_any_spelling_of_a_valid_number(
        which in 0usize..ONE_OF_EACH.len(),
        seps in prop::collection::vec(any::<u8>(), 20),
        lower in prop::collection::vec(any::<bool>(), 20),
    ) {
        let v = vat::validate(ONE_OF_EACH[which]).expect("example is valid");
        let spelled = respell(&v.number, &seps, &lower);
        prop_assert_eq!(vat::validate(&spelled), Ok(v.clone()), "{}", spelled);
        prop_assert_eq!(vat::validate(&v.number), Ok(v));
    }

    #[test]
    fn compact_is_idempotent(s in "\\PC{0,40}") {
        let c = compact(&s);
        prop_assert_eq!(compact(&c), c.clone());
        prop_assert_eq!(siren::is_valid(&s), siren::is_valid(&c));
        prop_assert_eq!(siret::is_valid(&s), siret::is_valid(&c));
    }
}

#[test]
fn one_of_each_covers_every_prefix() {
    let mut seen: Vec<&str> = ONE_OF_EACH
        .iter()
        .map(|s| vat::validate(s).expect("valid").country)
        .collect();
    seen.dedup();
    assert_eq!(seen, vat::EU_PREFIXES);
}
