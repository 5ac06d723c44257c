//! Durations as people type them (`90d`, `12h`): token lifetimes and serve's idle timeout.

/// A duration such as `90d`, `12h`, `30m`, `45s` or `2w`, in seconds.
pub fn parse_duration(s: &str) -> Result<i64, String> {
    let t = s.trim();
    let split = t
        .find(|c: char| !c.is_ascii_digit())
        .ok_or_else(|| format!("{s}: give a unit (s, m, h, d or w), e.g. 90d"))?;
    let (n, unit) = t.split_at(split);
    let n: i64 = n
        .parse()
        .map_err(|_| format!("{s}: expected a number then a unit, e.g. 90d"))?;
    let mult = match unit {
        "s" => 1,
        "m" => 60,
        "h" => 3600,
        "d" => 86_400,
        "w" => 7 * 86_400,
        _ => return Err(format!("{s}: unknown unit {unit:?} (s, m, h, d or w)")),
    };
    match n.checked_mul(mult) {
        Some(v) if v > 0 && v <= 100 * 365 * 86_400 => Ok(v),
        _ => Err(format!("{s}: expected between 1 second and 100 years")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations() {
        assert_eq!(parse_duration("90d"), Ok(90 * 86_400));
        assert_eq!(parse_duration("12h"), Ok(12 * 3600));
        assert_eq!(parse_duration("2s"), Ok(2));
        assert_eq!(parse_duration("1w"), Ok(604_800));
        assert!(parse_duration("90").is_err());
        assert!(parse_duration("d").is_err());
        assert!(parse_duration("0s").is_err());
        assert!(parse_duration("5y").is_err());
        assert!(parse_duration("99999999999999999d").is_err());
    }
}
