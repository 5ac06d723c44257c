//! French postal codes.

/// True for a French postal code: 5 digits, departments 01–95 (Corsica `20xxx`), overseas
/// `971`–`976` and `986`–`988`, and Monaco `98000`.
pub fn is_valid_fr(s: &str) -> bool {
    let c = s.trim();
    if c.len() != 5 || !c.bytes().all(|b| b.is_ascii_digit()) {
        return false;
    }
    let b = c.as_bytes();
    match (b[0], b[1], b[2]) {
        (b'0', b'0', _) => false,
        (b'0'..=b'8', _, _) => true,
        (b'9', b'0'..=b'5', _) => true,
        // 971 Guadeloupe (incl. St-Barthélemy 97133, St-Martin 97150) … 976 Mayotte
        (b'9', b'7', b'1'..=b'6') => true,
        // 986 Wallis-et-Futuna, 987 Polynésie, 988 Nouvelle-Calédonie
        (b'9', b'8', b'6'..=b'8') => true,
        // Monaco uses the French postal system with this single code
        (b'9', b'8', _) => c == "98000",
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn valid_codes() {
        for c in [
            "75001", "01000", "20000", "20090", "13001", "95000", "97133", "97150", "97100",
            "97200", "97300", "97400", "97500", "97600", "98600", "98700", "98800", "98000",
        ] {
            assert!(is_valid_fr(c), "{c}");
        }
    }

    #[test]
    fn invalid_codes() {
        for c in [
            "00100",
            "96000",
            "99000",
            "1234",
            "7500A",
            "97700",
            "97800",
            "97900",
            "98100",
            "98500",
            "98900",
            "98001",
            "750011",
            "",
            "７５００１",
            "75 001",
        ] {
            assert!(!is_valid_fr(c), "{c}");
        }
    }
}
