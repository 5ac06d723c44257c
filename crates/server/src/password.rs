//! The password policy: at least [`MIN_CHARS`] characters, and none of the most common
//! passwords (`data/common-passwords.txt`, see `data/README.md`), compared without regard
//! to case. Applied wherever a password is set.

use std::collections::HashSet;
use std::sync::OnceLock;

/// Shortest password accepted, in characters.
pub const MIN_CHARS: usize = 10;

/// The list, compiled into the binary.
const COMMON: &str = include_str!("../data/common-passwords.txt");

fn common() -> &'static HashSet<String> {
    static SET: OnceLock<HashSet<String>> = OnceLock::new();
    SET.get_or_init(|| {
        COMMON
            .lines()
            .map(str::trim)
            // Shorter ones are refused by length already.
            .filter(|l| l.chars().count() >= MIN_CHARS)
            .map(str::to_lowercase)
            .collect()
    })
}

/// Why a password is refused, in English (the command line's and the logs' language).
pub fn check(password: &str) -> Result<(), String> {
    let n = password.chars().count();
    if n < MIN_CHARS {
        return Err(format!(
            "the password is too short: {n} characters, at least {MIN_CHARS} needed"
        ));
    }
    if common().contains(&password.to_lowercase()) {
        return Err(
            "the password is one of the most common passwords (easily guessed): choose another"
                .into(),
        );
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn policy() {
        assert!(check("password").unwrap_err().contains("too short"));
        assert!(check("s3cret").unwrap_err().contains("too short"));
        assert!(check("1234567890").unwrap_err().contains("most common"));
        assert!(check("QwErTyUiOp").unwrap_err().contains("most common"));
        assert!(check("correct horse battery").is_ok());
        // Characters, not bytes: 10 accented letters are long enough.
        assert!(check("éléphantéé").is_ok());
        assert!(common().len() > 1_000);
    }
}
