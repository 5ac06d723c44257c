//! SIREN (Système d'identification du répertoire des entreprises): 9 digits, Luhn.

/// True for a 9-digit, Luhn-valid SIREN (separators allowed).
pub fn is_valid(s: &str) -> bool {
    if s.len() == 9 && s.bytes().all(|b| b.is_ascii_digit()) {
        return super::luhn(s); // already compact: skip the copy
    }
    let c = super::compact(s);
    c.len() == 9 && super::luhn(&c)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn known_numbers() {
        assert!(is_valid("732829320"));
        assert!(is_valid("732 829 320"));
        assert!(is_valid("356000000")); // La Poste
        assert!(is_valid("443121975"));
        assert!(!is_valid("732829321"));
        assert!(!is_valid("732829330"));
        assert!(!is_valid("73282932"));
        assert!(!is_valid("7328293200"));
        assert!(!is_valid("73282932A"));
        assert!(!is_valid(""));
        assert!(!is_valid("ééééééééé"));
    }
}
