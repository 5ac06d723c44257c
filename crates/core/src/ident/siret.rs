//! SIRET: SIREN + 4-digit establishment number + check digit (14 digits).

/// SIREN of La Poste, whose establishments use a different check (see [`is_valid`]).
const LA_POSTE: &str = "356000000";

/// True for a valid 14-digit SIRET: Luhn over all 14 digits and a valid SIREN part; La Poste
/// establishments (`356000000xxxxx`) instead need a digit sum that is a multiple of 5.
pub fn is_valid(s: &str) -> bool {
    if s.len() == 14 && s.bytes().all(|b| b.is_ascii_digit()) && super::luhn(s) {
        return super::siren::is_valid(&s[..9]); // the common case, without copies
    }
    let c = super::compact(s);
    let Some(d) = super::digit_values(&c) else {
        return false;
    };
    if d.len() != 14 || !super::siren::is_valid(&c[..9]) {
        return false;
    }
    if super::luhn_checksum(&d) == 0 {
        return true;
    }
    // La Poste has too many establishments for the Luhn key space, so INSEE numbers them
    // with a digit sum divisible by 5 instead (the head office still passes Luhn).
    c.starts_with(LA_POSTE) && d.iter().sum::<u32>() % 5 == 0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn known_numbers() {
        assert!(is_valid("73282932000074"));
        assert!(is_valid("732 829 320 00074"));
        assert!(!is_valid("73282932000075"));
        assert!(!is_valid("73282932100074")); // Luhn broken in the establishment part
        assert!(!is_valid("7328293200007"));
        assert!(!is_valid("732829320000744"));
        assert!(!is_valid("7328293200007A"));
        assert!(!is_valid(""));
        assert!(!is_valid("73282932000074é"));
    }

    #[test]
    fn siren_part_must_be_valid() {
        // 14 digits that pass Luhn as a whole but whose first 9 digits do not
        let mut found = None;
        for last in 0..10u32 {
            let s = format!("7328293300007{last}");
            if crate::ident::luhn(&s) {
                found = Some(s);
            }
        }
        let s = found.unwrap_or_default();
        assert_eq!(s.len(), 14);
        assert!(!is_valid(&s));
    }

    #[test]
    fn la_poste() {
        assert!(is_valid("35600000009075"));
        assert!(is_valid("35600000000048")); // head office, passes Luhn
        assert!(!is_valid("35600000009076"));
        assert!(!is_valid("35600000009074"));
    }
}
