//! Czechia: DIČ, 8 digits (legal), 9 starting with 6 (special) or a birth number (stdnum `cz/dic`).

use super::VatError::{self, Checksum, Invalid};

/// Check the national part of a Czech number.
pub(super) fn check(n: &str) -> Result<String, VatError> {
    let d = super::digits(n).ok_or(Invalid)?;
    match d.len() {
        8 => {
            if d[0] == 9 {
                return Err(Invalid);
            }
            let s = super::weighted(&d[..7], &[8, 7, 6, 5, 4, 3, 2]) % 11;
            let c = (11 - s) % 11;
            let expected = if c == 0 { 1 } else { c } % 10;
            if expected != d[7] {
                return Err(Checksum);
            }
        }
        9 if d[0] == 6 => {
            // individuals without a birth number; the first digit is not weighted
            let s = super::weighted(&d[1..8], &[8, 7, 6, 5, 4, 3, 2]) % 11;
            let expected = (8 - (10 - i64::from(s)).rem_euclid(11)).rem_euclid(10);
            if expected != i64::from(d[8]) {
                return Err(Checksum);
            }
        }
        9 | 10 => super::birth_number(n)?,
        _ => return Err(Invalid),
    }
    Ok(n.to_string())
}

#[cfg(test)]
mod tests {
    use super::super::{validate, VatError};

    #[test]
    fn known_numbers() {
        assert!(validate("CZ25123891").is_ok());
        assert!(validate("CZ7103192745").is_ok());
        assert!(validate("CZ640903926").is_ok());
        assert!(validate("CZ991231123").is_ok()); // 9-digit birth number (1899)
        assert_eq!(validate("CZ590312123"), Err(VatError::Invalid)); // 9 digits after 1953
        assert_eq!(validate("CZ25123890"), Err(VatError::Checksum));
        assert_eq!(validate("CZ7103192746"), Err(VatError::Checksum));
        assert_eq!(validate("CZ1103492745"), Err(VatError::Invalid)); // no 49th month
    }
}
