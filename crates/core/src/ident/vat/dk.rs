//! Denmark: CVR, 8 digits, weighted mod 11 (stdnum `dk/cvr`).

use super::VatError::{self, Checksum, Invalid};

/// Check the national part of a Danish number.
pub(super) fn check(n: &str) -> Result<String, VatError> {
    let d = super::digits(n).ok_or(Invalid)?;
    if d.len() != 8 || d[0] == 0 {
        return Err(Invalid);
    }
    if !super::weighted(&d, &[2, 7, 6, 5, 4, 3, 2, 1]).is_multiple_of(11) {
        return Err(Checksum);
    }
    Ok(n.to_string())
}

#[cfg(test)]
mod tests {
    use super::super::{validate, VatError};

    #[test]
    fn known_numbers() {
        assert!(validate("DK13585628").is_ok());
        assert_eq!(validate("DK13585627"), Err(VatError::Checksum));
        assert_eq!(validate("DK03585628"), Err(VatError::Invalid));
    }
}
