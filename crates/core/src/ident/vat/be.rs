//! Belgium: enterprise number, 10 digits, mod-97 check (stdnum `be/vat`).

use super::VatError::{self, Checksum, Invalid};

/// Check the national part of a Belgian number; returns it with 10 digits.
pub(super) fn check(n: &str) -> Result<String, VatError> {
    // "(0)" and the old 9-digit form are common spellings of the leading 0
    let n = match n.strip_prefix("(0)") {
        Some(rest) => format!("0{rest}"),
        None => n.to_string(),
    };
    let n = if n.len() == 9 { format!("0{n}") } else { n };
    let d = super::digits(&n).ok_or(Invalid)?;
    // enterprise numbers start with 0 or (since 2023) 1
    if d.len() != 10 || super::num(&n) == 0 || d[0] > 1 {
        return Err(Invalid);
    }
    if !(super::num(&n[..8]) + super::num(&n[8..])).is_multiple_of(97) {
        return Err(Checksum);
    }
    Ok(n)
}

#[cfg(test)]
mod tests {
    use super::super::{validate, VatError};

    #[test]
    fn known_numbers() {
        assert_eq!(
            validate("BE 428759497").map(|v| v.number),
            Ok("BE0428759497".into())
        );
        assert!(validate("BE0403019261").is_ok());
        assert_eq!(validate("BE431150351"), Err(VatError::Checksum));
        assert_eq!(validate("BE0000000000"), Err(VatError::Invalid));
    }
}
