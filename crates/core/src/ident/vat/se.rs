//! Sweden: 10-digit organisation number (Luhn) followed by `01` (stdnum `se/vat`).

use super::VatError::{self, Checksum, Invalid};

/// Check the national part of a Swedish number.
pub(super) fn check(n: &str) -> Result<String, VatError> {
    let d = super::digits(n).ok_or(Invalid)?;
    if d.len() != 12 || !n.ends_with("01") {
        return Err(Invalid);
    }
    if crate::ident::luhn_checksum(&d[..10]) != 0 {
        return Err(Checksum);
    }
    Ok(n.to_string())
}

#[cfg(test)]
mod tests {
    use super::super::{validate, VatError};

    #[test]
    fn known_numbers() {
        assert!(validate("SE 123456789701").is_ok());
        assert_eq!(validate("SE123456789101"), Err(VatError::Checksum));
        assert_eq!(validate("SE123456789702"), Err(VatError::Invalid));
    }
}
