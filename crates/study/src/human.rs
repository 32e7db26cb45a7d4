//! Numbers for people: the one duration formatter of every human output (the CLI's
//! summaries, the verdict, the reports).

use std::fmt::Write as _;

/// A duration in seconds for people: "5.9s", "52m5s", "1h51m", "2d3h4m" (issue 13 §1: no
/// "6656 s" and no milliseconds above a minute); "?" for a negative or non-finite value.
pub fn human_duration(secs: f64) -> String {
    if !secs.is_finite() || secs < 0.0 {
        return "?".into();
    }
    if secs < 60.0 {
        return format!("{secs:.1}s");
    }
    let (step, unit) = if secs < 3600.0 { (1.0, 1) } else { (60.0, 60) };
    let total = ((secs / step).round() as u64) * unit;
    let (d, h, m, s) = (
        total / 86_400,
        total / 3600 % 24,
        total / 60 % 60,
        total % 60,
    );
    let mut out = String::new();
    for (v, u) in [(d, "d"), (h, "h"), (m, "m"), (s, "s")] {
        if v > 0 || (u == "m" && out.is_empty()) {
            let _ = write!(out, "{v}{u}");
        }
    }
    out
}

/// A count for people: thousands separated by commas ("1,543,210").
pub fn human_count(n: f64) -> String {
    if !n.is_finite() {
        return "?".into();
    }
    let r = n.abs().round() as u64;
    let digits = r.to_string();
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    if n < 0.0 && r > 0 {
        out.insert(0, '-');
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_for_people_carry_no_milliseconds_above_a_minute() {
        assert_eq!(human_duration(5.9), "5.9s");
        assert_eq!(human_duration(3179.694), "53m");
        assert_eq!(human_duration(3125.4), "52m5s");
        assert_eq!(human_duration(3897.472), "1h5m");
        assert_eq!(human_duration(6656.0), "1h51m");
        assert_eq!(human_duration(65_572.853), "18h13m");
        assert_eq!(human_duration(153_473.4), "1d18h38m");
        assert_eq!(human_duration(60.0), "1m");
        assert_eq!(human_duration(-1.0), "?");
    }

    #[test]
    fn counts_are_grouped_by_thousands() {
        assert_eq!(human_count(0.0), "0");
        assert_eq!(human_count(999.4), "999");
        assert_eq!(human_count(1000.0), "1,000");
        assert_eq!(human_count(1_543_210.0), "1,543,210");
        assert_eq!(human_count(-143_800.0), "-143,800");
        assert_eq!(human_count(f64::NAN), "?");
    }
}
