//! Bulgaria: 9 digits (legal entities) or 10 digits (EGN, PNF or other) (stdnum `bg/vat`).

use super::VatError::{self, Checksum, Invalid};

/// Check the national part of a Bulgarian number.
pub(super) fn check(n: &str) -> Result<String, VatError> {
    let d = super::digits(n).ok_or(Invalid)?;
    let ok = match d.len() {
        9 => legal(&d),
        10 => egn(&d) || pnf(&d) || other(&d),
        _ => return Err(Invalid),
    };
    if ok {
        Ok(n.to_string())
    } else {
        Err(Checksum)
    }
}

/// Legal entities: weights 1..8, retried with 3..10 when the remainder is 10.
fn legal(d: &[u32]) -> bool {
    let mut c = super::weighted(&d[..8], &[1, 2, 3, 4, 5, 6, 7, 8]) % 11;
    if c == 10 {
        c = super::weighted(&d[..8], &[3, 4, 5, 6, 7, 8, 9, 10]) % 11;
    }
    c % 10 == d[8]
}

/// EGN (personal number): a birth date and a weighted check digit.
fn egn(d: &[u32]) -> bool {
    let mut year = 1900 + i64::from(d[0] * 10 + d[1]);
    let mut month = d[2] * 10 + d[3];
    // the month carries the century: +40 for 2000s, +20 for 1800s
    if month > 40 {
        year += 100;
        month -= 40;
    } else if month > 20 {
        year -= 100;
        month -= 20;
    }
    let day = d[4] * 10 + d[5];
    super::is_date(year, month, day)
        && super::weighted(&d[..9], &[2, 4, 8, 5, 10, 9, 7, 3, 6]) % 11 % 10 == d[9]
}

/// PNF (personal number of a foreigner).
fn pnf(d: &[u32]) -> bool {
    super::weighted(&d[..9], &[21, 19, 17, 13, 11, 9, 7, 3, 1]) % 10 == d[9]
}

/// Other 10-digit numbers.
fn other(d: &[u32]) -> bool {
    let s = super::weighted(&d[..9], &[4, 3, 2, 7, 6, 5, 4, 3, 2]) % 11;
    (11 - s) % 11 == d[9]
}

#[cfg(test)]
mod tests {
    use super::super::{validate, VatError};

    #[test]
    fn known_numbers() {
        assert!(validate("BG175074752").is_ok());
        assert!(validate("BG7523169263").is_ok()); // EGN
        assert!(validate("BG7111042925").is_ok()); // PNF
        assert_eq!(validate("BG175074751"), Err(VatError::Checksum));
        assert_eq!(validate("BG17507475"), Err(VatError::Invalid));
    }
}
