//! Romania: CIF, 2–10 digits with a weighted check digit, or a 13-digit CNP (stdnum `ro/cf`).

use super::VatError::{self, Checksum, Invalid};

/// Check the national part of a Romanian number.
pub(super) fn check(n: &str) -> Result<String, VatError> {
    let d = super::digits(n).ok_or(Invalid)?;
    if d[0] == 0 {
        return Err(Invalid);
    }
    let ok = match d.len() {
        13 => cnp(&d)?,
        2..=10 => {
            // right-align the digits before the check digit on 9 weights
            let body = &d[..d.len() - 1];
            let w = &[7, 5, 3, 2, 1, 7, 5, 3, 2][9 - body.len()..];
            10 * super::weighted(body, w) % 11 % 10 == d[d.len() - 1]
        }
        _ => return Err(Invalid),
    };
    if !ok {
        return Err(Checksum);
    }
    Ok(n.to_string())
}

/// CNP (personal numeric code): sex/century digit, birth date, county, serial, check digit.
fn cnp(d: &[u32]) -> Result<bool, VatError> {
    let century = match d[0] {
        3 | 4 => 1800,
        5 | 6 => 2000,
        // 1, 2 and residents (7, 8, 9): stdnum assumes 1900 to build a date
        _ => 1900,
    };
    let year = century + i64::from(d[1] * 10 + d[2]);
    if !super::is_date(year, d[3] * 10 + d[4], d[5] * 10 + d[6]) {
        return Err(Invalid);
    }
    let c = super::weighted(&d[..12], &[2, 7, 9, 1, 4, 6, 3, 5, 8, 2, 7, 9]) % 11;
    Ok(if c == 10 { 1 } else { c } == d[12])
}

#[cfg(test)]
mod tests {
    use super::super::{validate, VatError};

    #[test]
    fn known_numbers() {
        assert_eq!(
            validate("RO 185 472 90").map(|v| v.number),
            Ok("RO18547290".into())
        );
        assert!(validate("RO1630615123457").is_ok()); // CNP
        assert!(validate("RO573768").is_ok());
        assert_eq!(validate("RO18547291"), Err(VatError::Checksum));
        assert_eq!(validate("RO1630615123458"), Err(VatError::Checksum));
        assert_eq!(validate("RO1631315123457"), Err(VatError::Invalid)); // month 13
        assert_eq!(validate("RO018547290"), Err(VatError::Invalid));
        assert_eq!(validate("RO1"), Err(VatError::Invalid));
    }
}
