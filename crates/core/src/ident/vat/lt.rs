//! Lithuania: PVM, 9 digits (legal entities) or 12 digits (temporary) (stdnum `lt/pvm`).

use super::VatError::{self, Checksum, Invalid};

/// Check the national part of a Lithuanian number.
pub(super) fn check(n: &str) -> Result<String, VatError> {
    let d = super::digits(n).ok_or(Invalid)?;
    // the digit before the check digit's neighbour is always 1
    let ok_shape = match d.len() {
        9 => d[7] == 1,
        12 => d[10] == 1,
        _ => false,
    };
    if !ok_shape {
        return Err(Invalid);
    }
    let body = &d[..d.len() - 1];
    let sum = |shift: usize| -> u32 {
        body.iter()
            .enumerate()
            .map(|(i, &x)| (1 + ((i + shift) % 9) as u32) * x)
            .sum()
    };
    let mut c = sum(0) % 11;
    if c == 10 {
        c = sum(2) % 11;
    }
    if c % 10 != d[d.len() - 1] {
        return Err(Checksum);
    }
    Ok(n.to_string())
}

#[cfg(test)]
mod tests {
    use super::super::{validate, VatError};

    #[test]
    fn known_numbers() {
        assert!(validate("LT119511515").is_ok());
        assert!(validate("LT100001919017").is_ok());
        assert!(validate("LT100004801610").is_ok()); // second round of weights
        assert_eq!(validate("LT100001919018"), Err(VatError::Checksum));
        assert_eq!(validate("LT100001354"), Err(VatError::Invalid));
    }
}
