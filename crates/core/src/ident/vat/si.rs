//! Slovenia: DDV, 8 digits, weighted mod 11 (stdnum `si/ddv`).

use super::VatError::{self, Checksum, Invalid};

/// Check the national part of a Slovenian number.
pub(super) fn check(n: &str) -> Result<String, VatError> {
    let d = super::digits(n).ok_or(Invalid)?;
    if d.len() != 8 || d[0] == 0 {
        return Err(Invalid);
    }
    // 11 - (sum mod 11); 10 becomes 0 and 11 can never match
    let c = 11 - super::weighted(&d[..7], &[8, 7, 6, 5, 4, 3, 2]) % 11;
    let c = if c == 10 { 0 } else { c };
    if c != d[7] {
        return Err(Checksum);
    }
    Ok(n.to_string())
}

#[cfg(test)]
mod tests {
    use super::super::{validate, VatError};

    #[test]
    fn known_numbers() {
        assert!(validate("SI 5022 3054").is_ok());
        assert_eq!(validate("SI50223055"), Err(VatError::Checksum));
        assert_eq!(validate("SI05022305"), Err(VatError::Invalid));
    }
}
