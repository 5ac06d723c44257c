//! Slovakia: IČ DPH, 10 digits divisible by 11, or a birth number (stdnum `sk/dph`).

use super::VatError::{self, Checksum, Invalid};

/// Check the national part of a Slovak number.
pub(super) fn check(n: &str) -> Result<String, VatError> {
    let d = super::digits(n).ok_or(Invalid)?;
    if d.len() != 10 {
        return Err(Invalid);
    }
    if super::birth_number(n).is_ok() {
        return Ok(n.to_string());
    }
    // business numbers: no leading 0 and a third digit in 2,3,4,7,8,9
    if d[0] == 0 || !matches!(d[2], 2 | 3 | 4 | 7 | 8 | 9) {
        return Err(Invalid);
    }
    if !super::num(n).is_multiple_of(11) {
        return Err(Checksum);
    }
    Ok(n.to_string())
}

#[cfg(test)]
mod tests {
    use super::super::{validate, VatError};

    #[test]
    fn known_numbers() {
        assert!(validate("SK 202 274 96 19").is_ok());
        assert_eq!(validate("SK2022749618"), Err(VatError::Checksum));
        assert_eq!(validate("SK0122749619"), Err(VatError::Invalid));
    }
}
