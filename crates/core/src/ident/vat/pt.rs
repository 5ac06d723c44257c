//! Portugal: NIF, 9 digits, weighted mod 11 (stdnum `pt/nif`).

use super::VatError::{self, Checksum, Invalid};

/// Check the national part of a Portuguese number.
pub(super) fn check(n: &str) -> Result<String, VatError> {
    let d = super::digits(n).ok_or(Invalid)?;
    if d.len() != 9 || d[0] == 0 {
        return Err(Invalid);
    }
    let s = super::weighted(&d[..8], &[9, 8, 7, 6, 5, 4, 3, 2]) % 11;
    if (11 - s) % 11 % 10 != d[8] {
        return Err(Checksum);
    }
    Ok(n.to_string())
}

#[cfg(test)]
mod tests {
    use super::super::{validate, VatError};

    #[test]
    fn known_numbers() {
        assert!(validate("PT501964843").is_ok());
        assert_eq!(validate("PT501964842"), Err(VatError::Checksum));
        assert_eq!(validate("PT001964843"), Err(VatError::Invalid));
    }
}
