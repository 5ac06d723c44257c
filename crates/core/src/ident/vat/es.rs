//! Spain: NIF — DNI (digits + letter), NIE (X/Y/Z), K/L/M, or CIF (legal entities)
//! (stdnum `es/nif`, `es/dni`, `es/nie`, `es/cif`).

use super::VatError::{self, Checksum, Invalid};

/// Check letters of the DNI, indexed by the number mod 23.
const DNI_LETTERS: &[u8; 23] = b"TRWAGMYFPDXBNJZSQVHLCKE";

/// Check the national part of a Spanish number.
pub(super) fn check(n: &str) -> Result<String, VatError> {
    let b = n.as_bytes();
    if b.len() != 9 || super::digits(&n[1..8]).is_none() {
        return Err(Invalid);
    }
    let last = b[8];
    let ok = match b[0] {
        b'0'..=b'9' => dni_letter(&n[..8]) == Some(last),
        // K (Spaniards under 14), L (non-resident Spaniards), M (foreigners without NIE)
        // use the DNI letter over the 7 digits
        b'K' | b'L' | b'M' => dni_letter(&n[1..8]) == Some(last),
        // NIE: X, Y, Z stand for 0, 1, 2 in front of the digits
        b'X' | b'Y' | b'Z' => {
            let lead = char::from(b'0' + (b[0] - b'X'));
            dni_letter(&format!("{lead}{}", &n[1..8])) == Some(last)
        }
        // CIF: either a digit or a letter as check character depending on the entity
        // type; the sources disagree on which types use which, so accept both (as stdnum)
        b'A'..=b'H' | b'J' | b'N' | b'P' | b'Q' | b'R' | b'S' | b'U' | b'V' | b'W' => {
            let d = super::digits(&n[1..8]).ok_or(Invalid)?;
            let c = crate::ident::luhn_check_digit(&d);
            last == b'0' + c as u8 || last == b"JABCDEFGHI"[c as usize]
        }
        _ => return Err(Invalid),
    };
    if ok {
        Ok(n.to_string())
    } else {
        Err(Checksum)
    }
}

/// The DNI check letter of an all-digit string.
fn dni_letter(digits: &str) -> Option<u8> {
    let v: u64 = digits.parse().ok()?;
    Some(DNI_LETTERS[(v % 23) as usize])
}

#[cfg(test)]
mod tests {
    use super::super::{validate, VatError};

    #[test]
    fn known_numbers() {
        assert!(validate("ESB64717838").is_ok()); // CIF
        assert!(validate("ES54362315K").is_ok()); // DNI
        assert!(validate("ESX5253868R").is_ok()); // NIE
        assert!(validate("ESQ2818015F").is_ok()); // CIF with a letter
        assert_eq!(validate("ESB64717839"), Err(VatError::Checksum));
        assert_eq!(validate("ES54362315Z"), Err(VatError::Checksum));
        assert_eq!(validate("ESX2482300A"), Err(VatError::Checksum));
        assert_eq!(validate("ESO1234567L"), Err(VatError::Invalid));
        assert_eq!(validate("ESJ992165831"), Err(VatError::Invalid));
    }
}
