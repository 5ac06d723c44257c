//! Austria: UID, `U` + 8 digits, the last a Luhn-derived check digit (stdnum `at/uid`).

use super::VatError::{self, Checksum, Invalid};

/// Check the national part of an Austrian number.
pub(super) fn check(n: &str) -> Result<String, VatError> {
    let rest = n.strip_prefix('U').ok_or(Invalid)?;
    let d = super::digits(rest).ok_or(Invalid)?;
    if d.len() != 8 {
        return Err(Invalid);
    }
    let expected = (6 + 10 - crate::ident::luhn_checksum(&d[..7])) % 10;
    if expected != d[7] {
        return Err(Checksum);
    }
    Ok(n.to_string())
}

#[cfg(test)]
mod tests {
    use super::super::{validate, VatError};

    #[test]
    fn known_numbers() {
        assert!(validate("ATU13585627").is_ok());
        assert!(validate("AT U 57194903").is_ok());
        assert_eq!(validate("ATU13585626"), Err(VatError::Checksum));
        assert_eq!(validate("AT13585627"), Err(VatError::Invalid));
    }
}
