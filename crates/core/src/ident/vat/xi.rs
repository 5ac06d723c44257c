//! Northern Ireland: `XI` + a UK VAT number, checked as stdnum `gb/vat`.

use super::VatError::{self, Checksum, Invalid};

/// Check the national part of a Northern Ireland number.
pub(super) fn check(n: &str) -> Result<String, VatError> {
    match n.len() {
        // government departments (GD000–GD499) and health authorities (HA500–HA999)
        5 => {
            let v = super::digits(&n[2..])
                .map(|_| super::num(&n[2..]))
                .ok_or(Invalid)?;
            let ok = (n.starts_with("GD") && v < 500) || (n.starts_with("HA") && v >= 500);
            if !ok {
                return Err(Invalid);
            }
        }
        11 if n.starts_with("GD8888") || n.starts_with("HA8888") => {
            if super::digits(&n[6..]).is_none() {
                return Err(Invalid);
            }
            let v = super::num(&n[6..9]);
            let ok = (n.starts_with("GD") && v < 500) || (n.starts_with("HA") && v >= 500);
            if !ok {
                return Err(Invalid);
            }
            if v % 97 != super::num(&n[9..]) {
                return Err(Checksum);
            }
        }
        // standard (9 digits) or with a 3-digit branch suffix (12 digits, suffix unchecked)
        9 | 12 => {
            let d = super::digits(n).ok_or(Invalid)?;
            let s = super::weighted(&d[..9], &[8, 7, 6, 5, 4, 3, 2, 10, 1]) % 97;
            // numbers issued from 100 onwards may also sum to 42 or 55 (newer series)
            let ok = if super::num(&n[..3]) >= 100 {
                matches!(s, 0 | 42 | 55)
            } else {
                s == 0
            };
            if !ok {
                return Err(Checksum);
            }
        }
        _ => return Err(Invalid),
    }
    Ok(n.to_string())
}

#[cfg(test)]
mod tests {
    use super::super::{validate, VatError};

    #[test]
    fn known_numbers() {
        assert!(validate("XI 980 7806 84").is_ok());
        assert!(validate("XI242338087388").is_ok()); // branch trader
        assert!(validate("XI002425728").is_ok());
        assert!(validate("XIGD001").is_ok());
        assert!(validate("XIHA500").is_ok());
        assert_eq!(validate("XI802311781"), Err(VatError::Checksum));
        assert_eq!(validate("XIGD500"), Err(VatError::Invalid));
        assert_eq!(validate("XI98078068"), Err(VatError::Invalid));
    }
}
