//! Italy: partita IVA, 11 digits with a province office code and Luhn (stdnum `it/iva`).

use super::VatError::{self, Checksum, Invalid};

/// Check the national part of an Italian number.
pub(super) fn check(n: &str) -> Result<String, VatError> {
    let d = super::digits(n).ok_or(Invalid)?;
    if d.len() != 11 || super::num(&n[..7]) == 0 {
        return Err(Invalid);
    }
    // digits 8-10 are the issuing office: 001-100, or a few special codes
    let office = super::num(&n[7..10]);
    if !((1..=100).contains(&office) || matches!(office, 120 | 121 | 888 | 999)) {
        return Err(Invalid);
    }
    if crate::ident::luhn_checksum(&d) != 0 {
        return Err(Checksum);
    }
    Ok(n.to_string())
}

#[cfg(test)]
mod tests {
    use super::super::{validate, VatError};

    #[test]
    fn known_numbers() {
        assert!(validate("IT00743110157").is_ok());
        assert_eq!(validate("IT00743110158"), Err(VatError::Checksum));
        assert_eq!(validate("IT00687129980"), Err(VatError::Invalid));
    }
}
