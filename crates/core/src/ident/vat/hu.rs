//! Hungary: ANUM, 8 digits, weights 9-7-3-1 mod 10 (stdnum `hu/anum`).

use super::VatError::{self, Checksum, Invalid};

/// Check the national part of a Hungarian number.
pub(super) fn check(n: &str) -> Result<String, VatError> {
    let d = super::digits(n).ok_or(Invalid)?;
    if d.len() != 8 {
        return Err(Invalid);
    }
    if !super::weighted(&d, &[9, 7, 3, 1, 9, 7, 3, 1]).is_multiple_of(10) {
        return Err(Checksum);
    }
    Ok(n.to_string())
}

#[cfg(test)]
mod tests {
    use super::super::{validate, VatError};

    #[test]
    fn known_numbers() {
        assert!(validate("HU-12892312").is_ok());
        assert_eq!(validate("HU-12892313"), Err(VatError::Checksum));
        assert_eq!(validate("HU1289231"), Err(VatError::Invalid));
    }
}
