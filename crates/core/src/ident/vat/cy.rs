//! Cyprus: 8 digits and a check letter (stdnum `cy/vat`).

use super::VatError::{self, Checksum, Invalid};

/// Check the national part of a Cypriot number.
pub(super) fn check(n: &str) -> Result<String, VatError> {
    if n.len() != 9 {
        return Err(Invalid);
    }
    let d = super::digits(&n[..8]).ok_or(Invalid)?;
    // numbers starting with 12 are not issued
    if n.starts_with("12") {
        return Err(Invalid);
    }
    // digits in odd positions (1st, 3rd…) are translated before summing
    const TR: [u32; 10] = [1, 0, 5, 7, 9, 13, 15, 17, 19, 21];
    let sum: u32 = d
        .iter()
        .enumerate()
        .map(|(i, &x)| if i % 2 == 0 { TR[x as usize] } else { x })
        .sum();
    let expected = b'A' + (sum % 26) as u8;
    if n.as_bytes()[8] != expected {
        return Err(Checksum);
    }
    Ok(n.to_string())
}

#[cfg(test)]
mod tests {
    use super::super::{validate, VatError};

    #[test]
    fn known_numbers() {
        assert!(validate("CY-10259033P").is_ok());
        assert_eq!(validate("CY-10259033Z"), Err(VatError::Checksum));
        assert_eq!(validate("CY-12259033P"), Err(VatError::Invalid));
    }
}
