//! Latvia: PVN, 11 digits — legal entity (first digit > 3) or personal code (stdnum `lv/pvn`).

use super::VatError::{self, Checksum, Invalid};

/// Check the national part of a Latvian number.
pub(super) fn check(n: &str) -> Result<String, VatError> {
    let d = super::digits(n).ok_or(Invalid)?;
    if d.len() != 11 {
        return Err(Invalid);
    }
    let ok = if d[0] > 3 {
        super::weighted(&d, &[9, 1, 4, 8, 3, 10, 2, 5, 7, 6, 1]) % 11 == 3
    } else {
        // personal code: ddmmyy + century digit, then serial and check digit
        let year = 1800 + 100 * i64::from(d[6]) + i64::from(d[4] * 10 + d[5]);
        if !super::is_date(year, d[2] * 10 + d[3], d[0] * 10 + d[1]) {
            return Err(Invalid);
        }
        (1 + super::weighted(&d[..10], &[10, 5, 8, 4, 2, 1, 6, 3, 7, 9])) % 11 % 10 == d[10]
    };
    if !ok {
        return Err(Checksum);
    }
    Ok(n.to_string())
}

#[cfg(test)]
mod tests {
    use super::super::{validate, VatError};

    #[test]
    fn known_numbers() {
        assert!(validate("LV 4000 3521 600").is_ok());
        assert!(validate("LV161175-19997").is_ok()); // personal code
        assert_eq!(validate("LV40003521601"), Err(VatError::Checksum));
        assert_eq!(validate("LV161375-19997"), Err(VatError::Invalid)); // month 13
    }
}
