//! Malta: 8 digits, weighted mod 37 (stdnum `mt/vat`).

use super::VatError::{self, Checksum, Invalid};

/// Check the national part of a Maltese number.
pub(super) fn check(n: &str) -> Result<String, VatError> {
    let d = super::digits(n).ok_or(Invalid)?;
    if d.len() != 8 || d[0] == 0 {
        return Err(Invalid);
    }
    if !super::weighted(&d, &[3, 4, 6, 7, 8, 9, 10, 1]).is_multiple_of(37) {
        return Err(Checksum);
    }
    Ok(n.to_string())
}

#[cfg(test)]
mod tests {
    use super::super::{validate, VatError};

    #[test]
    fn known_numbers() {
        assert!(validate("MT 1167-9112").is_ok());
        assert_eq!(validate("MT11679113"), Err(VatError::Checksum));
        assert_eq!(validate("MT01679112"), Err(VatError::Invalid));
    }
}
