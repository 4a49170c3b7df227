//! Loose ISO-8601 durations as SageMaker's `CacheConfig.ExpireAfter` accepts them:
//! `P30D`, `p30d`, `30d`, `T12H`, `PT1H`, `P4DT12H`, `30dT5h`, `5y`, `T16m`.

/// Seconds in the duration, or a message saying why the text is not one.
pub fn parse_duration(text: &str) -> Result<f64, String> {
    let s = text.trim().to_ascii_uppercase();
    let s = s.strip_prefix('P').unwrap_or(&s);
    if s.is_empty() {
        return Err(format!(
            "'{text}' is not a duration: expected e.g. 'P30D', '30d', 'T12H' or 'PT1H'"
        ));
    }
    let (date, time) = match s.split_once('T') {
        Some((d, t)) => (d, Some(t)),
        None => (s, None),
    };
    let mut total = 0.0;
    let mut any = false;
    for (part, units) in [
        (
            date,
            &[
                ('Y', 365.0 * 86400.0),
                ('M', 30.0 * 86400.0),
                ('W', 7.0 * 86400.0),
                ('D', 86400.0),
            ][..],
        ),
        (time.unwrap_or(""), &[('H', 3600.0), ('M', 60.0), ('S', 1.0)][..]),
    ] {
        let mut num = String::new();
        let mut unit_pos = 0;
        for c in part.chars() {
            if c.is_ascii_digit() || c == '.' {
                num.push(c);
                continue;
            }
            let Some(k) = units[unit_pos..].iter().position(|(u, _)| *u == c) else {
                return Err(format!("'{text}' is not a duration: unexpected '{c}'"));
            };
            let value: f64 = num
                .parse()
                .map_err(|_| format!("'{text}' is not a duration: '{c}' has no number"))?;
            total += value * units[unit_pos + k].1;
            unit_pos += k + 1;
            num.clear();
            any = true;
        }
        if !num.is_empty() {
            return Err(format!("'{text}' is not a duration: number '{num}' has no unit"));
        }
    }
    if time == Some("") || !any {
        return Err(format!(
            "'{text}' is not a duration: expected e.g. 'P30D', '30d', 'T12H' or 'PT1H'"
        ));
    }
    Ok(total)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepts_service_forms() {
        assert_eq!(parse_duration("P30D"), Ok(30.0 * 86400.0));
        assert_eq!(parse_duration("p30d"), Ok(30.0 * 86400.0));
        assert_eq!(parse_duration("T12H"), Ok(12.0 * 3600.0));
        assert_eq!(parse_duration("PT1H"), Ok(3600.0));
        assert_eq!(parse_duration("P4DT12H"), Ok(4.0 * 86400.0 + 12.0 * 3600.0));
        assert_eq!(parse_duration("30dT5h"), Ok(30.0 * 86400.0 + 5.0 * 3600.0));
        assert_eq!(parse_duration("T16m"), Ok(960.0));
        assert_eq!(parse_duration("P1M"), Ok(30.0 * 86400.0));
    }

    #[test]
    fn rejects_garbage() {
        for bad in ["", "P", "30", "PT", "1X", "D5", "P1DT"] {
            assert!(parse_duration(bad).is_err(), "{bad}");
        }
    }
}
