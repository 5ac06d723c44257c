//! Identifier checks (SIREN/SIRET, VAT numbers, postal codes, legal forms, NAF, phones).
//!
//! Modelled on python-stdnum: one small submodule per identifier, each taking the text a user
//! typed in a spreadsheet cell. Nothing here panics on any input: cells are untrusted.

pub mod legal_form;
pub mod naf;
pub mod phone;
pub mod postal;
pub mod siren;
pub mod siret;
pub mod vat;

/// Strip spaces (incl. NBSP and U+202F), dots and dashes, and upper-case ASCII letters.
pub fn compact(s: &str) -> String {
    // '/' is kept on purpose: in a SIRET column it is not a separator users type, so a
    // slash should make the number fail rather than silently change its meaning.
    if s.is_ascii() {
        // Byte by byte (every SIRET and VAT number of an import): the same filter, since
        // an ASCII byte is the char it encodes.
        let mut out = String::with_capacity(s.len());
        for c in s.bytes().map(char::from) {
            if !(c.is_whitespace() || matches!(c, '.' | '-')) {
                out.push(c.to_ascii_uppercase());
            }
        }
        return out;
    }
    s.chars()
        .filter(|c| !(c.is_whitespace() || matches!(c, '.' | '-' | '\u{00A0}' | '\u{202F}')))
        .map(|c| c.to_ascii_uppercase())
        .collect()
}

/// True when `digits` is non-empty, all ASCII digits, and passes the Luhn check.
pub fn luhn(digits: &str) -> bool {
    // Allocation-free: this runs for every SIRET and VAT number of an import.
    let b = digits.as_bytes();
    if b.is_empty() || !b.iter().all(u8::is_ascii_digit) {
        return false;
    }
    let sum: u32 = b
        .iter()
        .rev()
        .enumerate()
        .map(|(i, &c)| {
            let x = u32::from(c - b'0');
            if i % 2 == 1 {
                let y = x * 2;
                y / 10 + y % 10
            } else {
                x
            }
        })
        .sum();
    sum.is_multiple_of(10)
}

/// The values of an all-ASCII-digit string; `None` if empty or any other character.
pub(crate) fn digit_values(s: &str) -> Option<Vec<u32>> {
    if s.is_empty() {
        return None;
    }
    s.chars()
        .map(|c| c.to_digit(10).filter(|_| c.is_ascii_digit()))
        .collect()
}

/// Luhn checksum as python-stdnum computes it: the rightmost digit is not doubled; a valid
/// number (check digit included) gives 0. Some VAT algorithms (AT) need the raw value.
pub(crate) fn luhn_checksum(d: &[u32]) -> u32 {
    d.iter()
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
        % 10
}

/// The Luhn check digit to append to `d` (used by the Spanish CIF).
pub(crate) fn luhn_check_digit(d: &[u32]) -> u32 {
    let mut with_zero = d.to_vec();
    with_zero.push(0);
    (10 - luhn_checksum(&with_zero)) % 10
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn compact_strips_separators() {
        assert_eq!(compact(" fr 46-443.121\u{a0}975\u{202f}"), "FR46443121975");
        assert_eq!(compact("a/b"), "A/B");
        assert_eq!(compact("é"), "é");
        assert_eq!(compact(""), "");
    }

    #[test]
    fn luhn_basics() {
        assert!(luhn("732829320"));
        assert!(!luhn("732829321"));
        assert!(!luhn(""));
        assert!(!luhn("73282932a"));
        assert!(!luhn("７３２")); // full-width digits are not ASCII digits
        assert!(luhn("0"));
    }

    #[test]
    fn luhn_check_digit_matches() {
        // 7992739871 + check digit 3 is the textbook Luhn example
        assert_eq!(luhn_check_digit(&[7, 9, 9, 2, 7, 3, 9, 8, 7, 1]), 3);
    }
}
