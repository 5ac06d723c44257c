//! France: `FR` + 2-character key + SIREN (stdnum `fr/tva`).

use super::VatError::{self, Checksum, Invalid};

/// Key characters: digits and letters without I and O (easily confused with 1 and 0).
const ALPHABET: &[u8; 34] = b"0123456789ABCDEFGHJKLMNPQRSTUVWXYZ";

/// Check the national part of a French number.
pub(super) fn check(n: &str) -> Result<String, VatError> {
    let b = n.as_bytes();
    if b.len() != 11 {
        return Err(Invalid);
    }
    let (Some(k0), Some(k1)) = (key_index(b[0]), key_index(b[1])) else {
        return Err(Invalid);
    };
    let siren = &n[2..];
    if !siren.bytes().all(|b| b.is_ascii_digit()) {
        return Err(Invalid);
    }
    // Monaco companies have FR numbers with no SIREN behind them
    if !is_monaco(siren) && !crate::ident::luhn(siren) {
        return Err(Checksum);
    }
    let ok = if k0 < 10 && k1 < 10 {
        (12 + 3 * (super::num(siren) % 97)) % 97 == k0 * 10 + k1
    } else {
        // new-style key, at least one letter (python-stdnum's algorithm)
        let check = if k0 < 10 {
            k0 * 24 + k1 - 10
        } else {
            k0 * 34 + k1 - 100
        };
        (super::num(siren) + 1 + check / 11) % 11 == check % 11
    };
    if !ok {
        return Err(Checksum);
    }
    Ok(n.to_string())
}

/// Position of a key character in [`ALPHABET`].
fn key_index(c: u8) -> Option<u64> {
    ALPHABET.iter().position(|&a| a == c).map(|p| p as u64)
}

/// A SIREN part starting with `000` is a Monaco registration, not a SIREN.
pub(super) fn is_monaco(siren: &str) -> bool {
    siren.starts_with("000")
}

/// The numeric key of a 9-digit SIREN: `(12 + 3 × (SIREN mod 97)) mod 97`, two digits.
pub fn fr_key(siren: &str) -> Option<String> {
    let c = crate::ident::compact(siren);
    if c.len() != 9 || super::digits(&c).is_none() {
        return None;
    }
    Some(format!("{:02}", (12 + 3 * (super::num(&c) % 97)) % 97))
}

#[cfg(test)]
mod tests {
    use super::super::{validate, VatError};
    use super::fr_key;

    #[test]
    fn numeric_key() {
        assert_eq!(fr_key("443121975").as_deref(), Some("46"));
        assert_eq!(fr_key("443 121 975").as_deref(), Some("46"));
        assert_eq!(fr_key("000004605").as_deref(), Some("53"));
        assert_eq!(fr_key("44312197"), None);
        assert_eq!(fr_key("44312197A"), None);
        assert_eq!(fr_key(""), None);
        let v = validate("FR46443121975");
        assert_eq!(v.as_ref().map(|v| v.country), Ok("FR"));
        assert_eq!(v.map(|v| v.number), Ok("FR46443121975".into()));
        assert!(validate("FR 40 303 265 045").is_ok());
        assert_eq!(validate("FR47443121975"), Err(VatError::Checksum));
        assert_eq!(validate("FR84323140391"), Err(VatError::Checksum));
    }

    #[test]
    fn letter_keys() {
        assert!(validate("FRK7399859412").is_ok());
        assert!(validate("FR4Z123456782").is_ok()); // new style starting with a digit
        assert_eq!(validate("FRK7399859312"), Err(VatError::Checksum));
        assert_eq!(validate("FRL7399859412"), Err(VatError::Checksum));
        assert_eq!(validate("FRIO334175221"), Err(VatError::Invalid));
    }

    #[test]
    fn siren_must_pass_luhn() {
        // key computed for a SIREN that fails Luhn
        let siren = "443121976";
        let n = format!("FR{}{siren}", fr_key(siren).unwrap_or_default());
        assert_eq!(validate(&n), Err(VatError::Checksum));
    }

    #[test]
    fn monaco() {
        let v = validate("FR 53 0000 04605");
        assert_eq!(v.as_ref().map(|v| v.number.as_str()), Ok("FR53000004605"));
        assert_eq!(v.as_ref().map(|v| v.fr_siren()), Ok(None));
        assert!(validate("FR16000063601").is_ok());
        assert_eq!(validate("FR54000004605"), Err(VatError::Checksum));
    }

    #[test]
    fn invalid_format() {
        assert_eq!(validate("FR4644312197"), Err(VatError::Invalid));
        assert_eq!(validate("FR464431219755"), Err(VatError::Invalid));
        assert_eq!(validate("FR4644312197A"), Err(VatError::Invalid));
        assert_eq!(validate("FR??443121975"), Err(VatError::Invalid));
    }
}
