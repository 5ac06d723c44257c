//! Netherlands: 9 digits + `B` + 2 digits; the 9 digits pass the BSN/RSIN 11-test, or (sole
//! traders since 2020) the whole `NL…` number passes ISO 7064 Mod 97-10 (stdnum `nl/btw`).

use super::VatError::{self, Checksum, Invalid};

/// Check the national part of a Dutch number; returns it with the 9-digit part zero-padded.
pub(super) fn check(n: &str) -> Result<String, VatError> {
    if n.len() < 4 || n.len() > 12 {
        return Err(Invalid);
    }
    let (body, tail) = n.split_at(n.len() - 3);
    let suffix = tail.strip_prefix('B').ok_or(Invalid)?;
    if super::digits(body).is_none() || super::digits(suffix).is_none() || super::num(suffix) == 0 {
        return Err(Invalid);
    }
    // leading zeros of the RSIN/BSN are often dropped ("NL4495445B01")
    let n = format!("{body:0>9}{tail}");
    let d = super::digits(&n[..9]).ok_or(Invalid)?;
    if !(bsn_ok(&d) || mod_97_10(&format!("NL{n}"))) {
        return Err(Checksum);
    }
    Ok(n)
}

/// The BSN/RSIN "11-test": weights 9..2 and -1 for the last digit.
fn bsn_ok(d: &[u32]) -> bool {
    let s = super::weighted(&d[..8], &[9, 8, 7, 6, 5, 4, 3, 2]) as i64 - i64::from(d[8]);
    d.iter().any(|&x| x != 0) && s.rem_euclid(11) == 0
}

/// ISO 7064 Mod 97-10 with letters counted as 10..35 (as in IBANs).
fn mod_97_10(s: &str) -> bool {
    let mut r: u32 = 0;
    for c in s.chars() {
        let Some(v) = c.to_digit(36) else {
            return false;
        };
        r = if v >= 10 {
            (r * 100 + v) % 97
        } else {
            (r * 10 + v) % 97
        };
    }
    r == 1
}

#[cfg(test)]
mod tests {
    use super::super::{validate, VatError};

    #[test]
    fn known_numbers() {
        assert_eq!(
            validate("NL4495445B01").map(|v| v.number),
            Ok("NL004495445B01".into())
        );
        assert!(validate("NL002455799B11").is_ok()); // sole trader, mod 97 form
        assert!(super::bsn_ok(&[0, 0, 4, 4, 9, 5, 4, 4, 5]));
        assert!(!super::bsn_ok(&[0, 0, 2, 4, 5, 5, 7, 9, 9]));
        assert_eq!(validate("NL123456789B90"), Err(VatError::Checksum));
        assert_eq!(validate("NL001241643801"), Err(VatError::Invalid));
        assert_eq!(validate("NL009122746B00"), Err(VatError::Invalid));
    }
}
