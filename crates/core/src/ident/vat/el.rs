//! Greece: ΑΦΜ, 9 digits (old 8-digit numbers get a leading 0) (stdnum `gr/vat`).

use super::VatError::{self, Checksum, Invalid};

/// Check the national part of a Greek number; returns it with 9 digits.
pub(super) fn check(n: &str) -> Result<String, VatError> {
    let n = if n.len() == 8 {
        format!("0{n}")
    } else {
        n.to_string()
    };
    let d = super::digits(&n).ok_or(Invalid)?;
    if d.len() != 9 {
        return Err(Invalid);
    }
    let sum = d[..8].iter().fold(0u64, |acc, &x| acc * 2 + u64::from(x));
    if sum * 2 % 11 % 10 != u64::from(d[8]) {
        return Err(Checksum);
    }
    Ok(n)
}

#[cfg(test)]
mod tests {
    use super::super::{validate, VatError};

    #[test]
    fn known_numbers() {
        assert!(validate("EL 094259216 ").is_ok());
        assert_eq!(
            validate("EL 94051189").map(|v| v.number),
            Ok("EL094051189".into())
        );
        assert_eq!(validate("EL123456781"), Err(VatError::Checksum));
        assert_eq!(validate("EL1234567"), Err(VatError::Invalid));
    }
}
