//! Finland: ALV, 8 digits, weighted mod 11 (stdnum `fi/alv`).

use super::VatError::{self, Checksum, Invalid};

/// Check the national part of a Finnish number.
pub(super) fn check(n: &str) -> Result<String, VatError> {
    let d = super::digits(n).ok_or(Invalid)?;
    if d.len() != 8 {
        return Err(Invalid);
    }
    if !super::weighted(&d, &[7, 9, 10, 5, 8, 4, 2, 1]).is_multiple_of(11) {
        return Err(Checksum);
    }
    Ok(n.to_string())
}

#[cfg(test)]
mod tests {
    use super::super::{validate, VatError};

    #[test]
    fn known_numbers() {
        assert!(validate("FI 2077474-0").is_ok());
        assert_eq!(validate("FI20774741"), Err(VatError::Checksum));
        assert_eq!(validate("FI2077474"), Err(VatError::Invalid));
    }
}
