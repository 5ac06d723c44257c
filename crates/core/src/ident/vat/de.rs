//! Germany: USt-IdNr., 9 digits, ISO 7064 Mod 11,10 (stdnum `de/vat`).

use super::VatError::{self, Checksum, Invalid};

/// Check the national part of a German number.
pub(super) fn check(n: &str) -> Result<String, VatError> {
    let d = super::digits(n).ok_or(Invalid)?;
    if d.len() != 9 || d[0] == 0 {
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
        assert!(validate("DE136695976").is_ok());
        assert_eq!(validate("DE136695978"), Err(VatError::Checksum));
        assert_eq!(validate("DE13669597"), Err(VatError::Invalid));
    }
}
