//! Ireland: 7 digits + 1 or 2 letters (new), or digit, letter/+/*, 5 digits, letter (old)
//! (stdnum `ie/vat`).

use super::VatError::{self, Checksum, Invalid};

/// Check letters, indexed by the weighted sum mod 23.
const ALPHABET: &[u8; 23] = b"WABCDEFGHIJKLMNOPQRSTUV";

/// Check the national part of an Irish number.
pub(super) fn check(n: &str) -> Result<String, VatError> {
    let b = n.as_bytes();
    if !(8..=9).contains(&b.len())
        || !b[0].is_ascii_digit()
        || super::digits(&n[2..7]).is_none()
        || !b[7..].iter().all(|c| ALPHABET.contains(c))
    {
        return Err(Invalid);
    }
    let expected = if let Some(d) = super::digits(&n[..7]) {
        // new style: the optional 9th letter takes part in the sum
        let extra = b.get(8).map_or(0, |&c| letter_value(c));
        check_letter(&d, extra)
    } else if b.len() == 8 && (b[1].is_ascii_uppercase() || b[1] == b'+' || b[1] == b'*') {
        // old style: the first digit moves to the end, the letter/symbol is ignored
        let mut d = vec![0];
        d.extend(n[2..7].bytes().map(|c| u32::from(c - b'0')));
        d.push(u32::from(b[0] - b'0'));
        check_letter(&d, 0)
    } else {
        return Err(Invalid);
    };
    if b[7] != expected {
        return Err(Checksum);
    }
    Ok(n.to_string())
}

/// Position of a letter in [`ALPHABET`] (0 when absent, as python's `index('')`).
fn letter_value(c: u8) -> u32 {
    ALPHABET
        .iter()
        .position(|&a| a == c)
        .map_or(0, |p| p as u32)
}

/// The check letter for 7 digits and the value of the optional second letter.
fn check_letter(d: &[u32], extra: u32) -> u8 {
    let s = super::weighted(d, &[8, 7, 6, 5, 4, 3, 2]) + 9 * extra;
    ALPHABET[(s % 23) as usize]
}

#[cfg(test)]
mod tests {
    use super::super::{validate, VatError};

    #[test]
    fn known_numbers() {
        assert!(validate("IE6433435F").is_ok());
        assert!(validate("IE8D79739I").is_ok()); // old style
        assert!(validate("IE6433435IH").is_ok()); // new style with two letters
        assert_eq!(validate("IE6433435E"), Err(VatError::Checksum));
        assert_eq!(validate("IE8?79739J"), Err(VatError::Invalid));
        assert_eq!(validate("IE643343"), Err(VatError::Invalid));
    }
}
