//! Croatia: OIB, 11 digits, ISO 7064 Mod 11,10 (stdnum `hr/oib`).

use super::VatError::{self, Checksum, Invalid};

/// Check the national part of a Croatian number.
pub(super) fn check(n: &str) -> Result<String, VatError> {
    let d = super::digits(n).ok_or(Invalid)?;
    if d.len() != 11 {
        return Err(Invalid);
    }
    if !super::mod_11_10(&d) {
        return Err(Checksum);
    }
    Ok(n.to_string())
}

#[cfg(test)]
mod tests {
    use super::super::{validate, VatError};

    #[test]
    fn known_numbers() {
        assert!(validate("HR 33392005961").is_ok());
        assert_eq!(validate("HR33392005962"), Err(VatError::Checksum));
        assert_eq!(validate("HR3339200596"), Err(VatError::Invalid));
    }
}
