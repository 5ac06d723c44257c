//! Poland: NIP, 10 digits, weighted mod 11 (stdnum `pl/nip`).

use super::VatError::{self, Checksum, Invalid};

/// Check the national part of a Polish number.
pub(super) fn check(n: &str) -> Result<String, VatError> {
    let d = super::digits(n).ok_or(Invalid)?;
    if d.len() != 10 {
        return Err(Invalid);
    }
    let s = super::weighted(&d[..9], &[6, 5, 7, 2, 3, 4, 5, 6, 7]) % 11;
    if s != d[9] {
        return Err(Checksum);
    }
    Ok(n.to_string())
}

#[cfg(test)]
mod tests {
    use super::super::{validate, VatError};

    #[test]
    fn known_numbers() {
        assert!(validate("PL8567346215").is_ok());
        assert!(validate("PL 584-030-44-72").is_ok());
        assert_eq!(validate("PL8567346216"), Err(VatError::Checksum));
        assert_eq!(validate("PL856734621"), Err(VatError::Invalid));
    }
}
