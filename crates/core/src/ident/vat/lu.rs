//! Luxembourg: 8 digits, the last two the first six mod 89 (stdnum `lu/tva`).

use super::VatError::{self, Checksum, Invalid};

/// Check the national part of a Luxembourg number.
pub(super) fn check(n: &str) -> Result<String, VatError> {
    let d = super::digits(n).ok_or(Invalid)?;
    if d.len() != 8 {
        return Err(Invalid);
    }
    if super::num(&n[..6]) % 89 != super::num(&n[6..]) {
        return Err(Checksum);
    }
    Ok(n.to_string())
}

#[cfg(test)]
mod tests {
    use super::super::{validate, VatError};

    #[test]
    fn known_numbers() {
        assert!(validate("LU 150 274 42").is_ok());
        assert_eq!(validate("LU15027443"), Err(VatError::Checksum));
        assert_eq!(validate("LU1502744"), Err(VatError::Invalid));
    }
}
