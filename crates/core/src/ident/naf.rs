//! NAF rev. 2 activity codes (`62.01Z`).

/// `"62.01Z"` or `"6201Z"` (any case, spaces allowed) → `Some("62.01Z")`; `None` otherwise.
pub fn normalise(s: &str) -> Option<String> {
    let c: Vec<char> = s
        .chars()
        .filter(|c| !c.is_whitespace())
        .map(|c| c.to_ascii_uppercase())
        .collect();
    // ^\d{2}\.?\d{2}[A-Z]$ without a regex dependency
    let c: Vec<char> = match c.len() {
        6 if c[2] == '.' => [&c[..2], &c[3..]].concat(),
        5 => c,
        _ => return None,
    };
    let ok = c[..4].iter().all(|d| d.is_ascii_digit()) && c[4].is_ascii_uppercase();
    ok.then(|| format!("{}{}.{}{}{}", c[0], c[1], c[2], c[3], c[4]))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn normalises() {
        assert_eq!(normalise("62.01Z").as_deref(), Some("62.01Z"));
        assert_eq!(normalise("6201Z").as_deref(), Some("62.01Z"));
        assert_eq!(normalise(" 62.01z ").as_deref(), Some("62.01Z"));
        assert_eq!(normalise("62 01 z").as_deref(), Some("62.01Z"));
        assert_eq!(normalise("01.11Z").as_deref(), Some("01.11Z"));
    }

    #[test]
    fn rejects() {
        for s in [
            "", "62.01", "6201", "62.0Z1", "62-01Z", "62..01Z", "620.1Z", "62.01ZZ", "A2.01Z",
            "62.01É", "62.01é",
        ] {
            assert_eq!(normalise(s), None, "{s}");
        }
    }
}
