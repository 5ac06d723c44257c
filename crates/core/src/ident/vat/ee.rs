//! Estonia: KMKR, 9 digits, weights 3-7-1 mod 10 (stdnum `ee/kmkr`).

use super::VatError::{self, Checksum, Invalid};

/// Check the national part of an Estonian number.
pub(super) fn check(n: &str) -> Result<String, VatError> {
    let d = super::digits(n).ok_or(Invalid)?;
    if d.len() != 9 {
        return Err(Invalid);
    }
    if !super::weighted(&d, &[3, 7, 1, 3, 7, 1, 3, 7, 1]).is_multiple_of(10) {
        return Err(Checksum);
    }
    Ok(n.to_string())
}

#[cfg(test)]
mod tests {
    use super::super::{validate, VatError};

    #[test]
    fn known_numbers() {
        assert!(validate("EE100594102").is_ok());
        assert_eq!(validate("EE100594103"), Err(VatError::Checksum));
        assert_eq!(validate("EE10059410"), Err(VatError::Invalid));
    }
}
