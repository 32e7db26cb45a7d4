//! Integer simulated time: [`SimTime`] (an instant) and [`SimDuration`] (a span), both in
//! whole milliseconds.
//!
//! Human strings are the file format: `"250ms"`, `"90s"`, `"5m"`, `"2h30m"`, `"3d"`,
//! `"1.5h"`. The grammar is a non-empty sequence of `<number><unit>` components with units
//! strictly decreasing (`d`, `h`, `m`, `s`, `ms`), where `<number>` is decimal digits with an
//! optional fraction that must come out to whole milliseconds; the single string `"0"` is
//! also accepted. No signs, no spaces. [`SimDuration`]'s `Display` prints the canonical
//! form (largest units first, zero components omitted, `"0s"` for zero), and
//! `parse(display(d)) == d` for every `d`.

use std::fmt;
use std::ops::{Add, AddAssign, Sub};
use std::str::FromStr;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

use crate::error::DurationParseError;

const MS_PER_S: u64 = 1_000;
const MS_PER_M: u64 = 60 * MS_PER_S;
const MS_PER_H: u64 = 60 * MS_PER_M;
const MS_PER_D: u64 = 24 * MS_PER_H;

/// Units in the order they must appear, with their length in milliseconds.
const UNITS: [(&str, u64); 5] = [
    ("d", MS_PER_D),
    ("h", MS_PER_H),
    ("m", MS_PER_M),
    ("s", MS_PER_S),
    ("ms", 1),
];

/// A span of simulated time in whole milliseconds.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct SimDuration(u64);

/// An instant of simulated time: whole milliseconds since the start of the run.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct SimTime(u64);

impl SimDuration {
    /// The empty span.
    pub const ZERO: SimDuration = SimDuration(0);
    /// The longest representable span (about 584 million years).
    pub const MAX: SimDuration = SimDuration(u64::MAX);

    /// A span of `ms` milliseconds.
    pub const fn from_millis(ms: u64) -> Self {
        SimDuration(ms)
    }
    /// A span of `s` seconds, or `None` on overflow.
    pub const fn from_secs(s: u64) -> Option<Self> {
        match s.checked_mul(MS_PER_S) {
            Some(ms) => Some(SimDuration(ms)),
            None => None,
        }
    }
    /// A span of `m` minutes, or `None` on overflow.
    pub const fn from_mins(m: u64) -> Option<Self> {
        match m.checked_mul(MS_PER_M) {
            Some(ms) => Some(SimDuration(ms)),
            None => None,
        }
    }
    /// A span of `h` hours, or `None` on overflow.
    pub const fn from_hours(h: u64) -> Option<Self> {
        match h.checked_mul(MS_PER_H) {
            Some(ms) => Some(SimDuration(ms)),
            None => None,
        }
    }
    /// A span of `d` days, or `None` on overflow.
    pub const fn from_days(d: u64) -> Option<Self> {
        match d.checked_mul(MS_PER_D) {
            Some(ms) => Some(SimDuration(ms)),
            None => None,
        }
    }
    /// Rounds a non-negative number of seconds to the nearest millisecond. Negative, NaN
    /// and too large inputs give `None`. Use this to turn a sampled `f64` into time.
    pub fn from_secs_f64(s: f64) -> Option<Self> {
        let ms = (s * MS_PER_S as f64).round();
        // u64::MAX as f64 rounds up to 2^64, so `<` keeps the cast exact and in range.
        if ms.is_finite() && ms >= 0.0 && ms < u64::MAX as f64 {
            Some(SimDuration(ms as u64))
        } else {
            None
        }
    }
    /// The span in milliseconds.
    pub const fn as_millis(self) -> u64 {
        self.0
    }
    /// The span in seconds, as a float (for statistics and display only).
    pub fn as_secs_f64(self) -> f64 {
        self.0 as f64 / MS_PER_S as f64
    }
    /// The span in hours, as a float (for statistics and display only).
    pub fn as_hours_f64(self) -> f64 {
        self.0 as f64 / MS_PER_H as f64
    }
    /// `self + rhs`, or `None` on overflow.
    pub const fn checked_add(self, rhs: SimDuration) -> Option<SimDuration> {
        match self.0.checked_add(rhs.0) {
            Some(ms) => Some(SimDuration(ms)),
            None => None,
        }
    }
    /// `self * n`, or `None` on overflow.
    pub const fn checked_mul(self, n: u64) -> Option<SimDuration> {
        match self.0.checked_mul(n) {
            Some(ms) => Some(SimDuration(ms)),
            None => None,
        }
    }
    /// `self - rhs`, or zero if `rhs` is longer.
    pub const fn saturating_sub(self, rhs: SimDuration) -> SimDuration {
        SimDuration(self.0.saturating_sub(rhs.0))
    }
    /// Whether the span is empty.
    pub const fn is_zero(self) -> bool {
        self.0 == 0
    }
}

impl SimTime {
    /// The start of every run.
    pub const ZERO: SimTime = SimTime(0);
    /// The last representable instant.
    pub const MAX: SimTime = SimTime(u64::MAX);

    /// The instant `ms` milliseconds after the start.
    pub const fn from_millis(ms: u64) -> Self {
        SimTime(ms)
    }
    /// Milliseconds since the start.
    pub const fn as_millis(self) -> u64 {
        self.0
    }
    /// Seconds since the start, as a float (for statistics and display only).
    pub fn as_secs_f64(self) -> f64 {
        self.0 as f64 / MS_PER_S as f64
    }
    /// The span from the start to this instant.
    pub const fn since_start(self) -> SimDuration {
        SimDuration(self.0)
    }
    /// `self + d`, or `None` past [`SimTime::MAX`].
    pub const fn checked_add(self, d: SimDuration) -> Option<SimTime> {
        match self.0.checked_add(d.0) {
            Some(ms) => Some(SimTime(ms)),
            None => None,
        }
    }
    /// `self + d`, clamped to [`SimTime::MAX`].
    pub const fn saturating_add(self, d: SimDuration) -> SimTime {
        SimTime(self.0.saturating_add(d.0))
    }
    /// The span from `earlier` to `self`, or `None` if `earlier` is later.
    pub const fn checked_duration_since(self, earlier: SimTime) -> Option<SimDuration> {
        match self.0.checked_sub(earlier.0) {
            Some(ms) => Some(SimDuration(ms)),
            None => None,
        }
    }
    /// The span from `earlier` to `self`, or zero if `earlier` is later.
    pub const fn saturating_duration_since(self, earlier: SimTime) -> SimDuration {
        SimDuration(self.0.saturating_sub(earlier.0))
    }
}

/// Panics on overflow, like `std::time::Instant + Duration`; use
/// [`SimTime::checked_add`] where the operands come from user input.
impl Add<SimDuration> for SimTime {
    type Output = SimTime;
    fn add(self, rhs: SimDuration) -> SimTime {
        SimTime(self.0.checked_add(rhs.0).expect("SimTime overflow"))
    }
}

impl AddAssign<SimDuration> for SimTime {
    fn add_assign(&mut self, rhs: SimDuration) {
        *self = *self + rhs;
    }
}

/// Panics if `rhs` is later than `self`; use [`SimTime::checked_duration_since`] otherwise.
impl Sub<SimTime> for SimTime {
    type Output = SimDuration;
    fn sub(self, rhs: SimTime) -> SimDuration {
        SimDuration(
            self.0
                .checked_sub(rhs.0)
                .expect("SimTime subtraction underflow"),
        )
    }
}

/// Panics on overflow; use [`SimDuration::checked_add`] where operands come from input.
impl Add for SimDuration {
    type Output = SimDuration;
    fn add(self, rhs: SimDuration) -> SimDuration {
        SimDuration(self.0.checked_add(rhs.0).expect("SimDuration overflow"))
    }
}

impl AddAssign for SimDuration {
    fn add_assign(&mut self, rhs: SimDuration) {
        *self = *self + rhs;
    }
}

impl fmt::Display for SimDuration {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.0 == 0 {
            return f.write_str("0s");
        }
        let mut rest = self.0;
        for (unit, len) in UNITS {
            let n = rest / len;
            rest %= len;
            if n > 0 {
                write!(f, "{n}{unit}")?;
            }
        }
        Ok(())
    }
}

impl fmt::Debug for SimDuration {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "SimDuration({self})")
    }
}

/// Prints the span since the start in duration syntax, e.g. `1d10h`.
impl fmt::Display for SimTime {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(&SimDuration(self.0), f)
    }
}

impl fmt::Debug for SimTime {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "SimTime({self})")
    }
}

impl FromStr for SimDuration {
    type Err = DurationParseError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        parse_duration(s).map(SimDuration)
    }
}

/// Parses an offset from the start, in duration syntax (`"1d10h"` is 34 hours in).
impl FromStr for SimTime {
    type Err = DurationParseError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        parse_duration(s).map(SimTime)
    }
}

fn parse_duration(input: &str) -> Result<u64, DurationParseError> {
    use DurationParseError as E;
    if input.is_empty() {
        return Err(E::Empty);
    }
    if input == "0" {
        return Ok(0);
    }
    let bytes = input.as_bytes();
    if bytes[0] == b'-' {
        return Err(E::Negative {
            input: input.to_owned(),
        });
    }
    let mut total: u64 = 0;
    let mut pos = 0;
    // Index into UNITS of the last unit seen; the next must be strictly smaller.
    let mut last_unit: Option<usize> = None;
    while pos < bytes.len() {
        // Number: digits, optionally '.' digits.
        let num_start = pos;
        while pos < bytes.len() && bytes[pos].is_ascii_digit() {
            pos += 1;
        }
        let int_part = &input[num_start..pos];
        let mut frac_part = "";
        if pos < bytes.len() && bytes[pos] == b'.' {
            pos += 1;
            let frac_start = pos;
            while pos < bytes.len() && bytes[pos].is_ascii_digit() {
                pos += 1;
            }
            frac_part = &input[frac_start..pos];
            if frac_part.is_empty() {
                return Err(E::Malformed {
                    input: input.to_owned(),
                    position: pos,
                });
            }
        }
        if int_part.is_empty() && frac_part.is_empty() {
            return Err(E::Malformed {
                input: input.to_owned(),
                position: num_start,
            });
        }
        // Unit: ASCII letters.
        let unit_start = pos;
        while pos < bytes.len() && bytes[pos].is_ascii_alphabetic() {
            pos += 1;
        }
        let unit = &input[unit_start..pos];
        if unit.is_empty() {
            return Err(if pos == bytes.len() {
                E::MissingUnit {
                    input: input.to_owned(),
                }
            } else {
                E::Malformed {
                    input: input.to_owned(),
                    position: pos,
                }
            });
        }
        let Some(unit_idx) = UNITS.iter().position(|(u, _)| *u == unit) else {
            return Err(E::UnknownUnit {
                input: input.to_owned(),
                unit: unit.to_owned(),
            });
        };
        if last_unit.is_some_and(|l| unit_idx <= l) {
            return Err(E::UnitOrder {
                input: input.to_owned(),
                unit: unit.to_owned(),
            });
        }
        last_unit = Some(unit_idx);
        let len = UNITS[unit_idx].1;
        let overflow = || E::Overflow {
            input: input.to_owned(),
        };
        let int_val: u64 = if int_part.is_empty() {
            0
        } else {
            int_part.parse().map_err(|_| overflow())?
        };
        let mut ms = int_val.checked_mul(len).ok_or_else(overflow)?;
        if !frac_part.is_empty() {
            // frac_part / 10^k * len must be a whole number of milliseconds.
            let digits = frac_part.trim_end_matches('0');
            if digits.len() > 18 {
                return Err(E::SubMillisecond {
                    input: input.to_owned(),
                });
            }
            let scale = 10u128.pow(digits.len() as u32);
            let numer: u128 = if digits.is_empty() {
                0
            } else {
                digits.parse::<u128>().map_err(|_| overflow())? * u128::from(len)
            };
            if !numer.is_multiple_of(scale) {
                return Err(E::SubMillisecond {
                    input: input.to_owned(),
                });
            }
            let extra = u64::try_from(numer / scale).map_err(|_| overflow())?;
            ms = ms.checked_add(extra).ok_or_else(overflow)?;
        }
        total = total.checked_add(ms).ok_or_else(overflow)?;
    }
    Ok(total)
}

impl Serialize for SimDuration {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for SimDuration {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = <std::borrow::Cow<'de, str>>::deserialize(d)?;
        s.parse().map_err(serde::de::Error::custom)
    }
}

impl Serialize for SimTime {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for SimTime {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = <std::borrow::Cow<'de, str>>::deserialize(d)?;
        s.parse().map_err(serde::de::Error::custom)
    }
}

/// Durations and times are strings in files (`"90s"`, `"2h30m"`, `"1d10h"`): their JSON
/// Schema says so, with the pattern the parser accepts.
#[cfg(feature = "schemars")]
mod schema {
    use std::borrow::Cow;

    use schemars::{JsonSchema, Schema, SchemaGenerator, json_schema};

    /// What `parse_duration` accepts: `0`, or NUMBER UNIT parts (the parser also wants
    /// the units in decreasing order, which a pattern does not check).
    const PATTERN: &str = r"^(0|([0-9]*\.?[0-9]+(d|h|ms|m|s))+)$";

    impl JsonSchema for super::SimDuration {
        fn schema_name() -> Cow<'static, str> {
            "Duration".into()
        }
        fn json_schema(_: &mut SchemaGenerator) -> Schema {
            json_schema!({
                "type": "string",
                "pattern": PATTERN,
                "description": "A duration: a number and a unit (ms, s, m, h, d), parts may be combined: \"250ms\", \"90s\", \"5m\", \"2h30m\", \"1.5d\".",
                "examples": ["5m", "2h30m", "7d"]
            })
        }
    }

    impl JsonSchema for super::SimTime {
        fn schema_name() -> Cow<'static, str> {
            "Time".into()
        }
        fn json_schema(_: &mut SchemaGenerator) -> Schema {
            json_schema!({
                "type": "string",
                "pattern": PATTERN,
                "description": "A time since the start of the run, written as a duration: \"1d10h\" is day 2 at 10:00.",
                "examples": ["10h", "1d10h"]
            })
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn d(s: &str) -> u64 {
        s.parse::<SimDuration>()
            .unwrap_or_else(|e| panic!("{s}: {e}"))
            .as_millis()
    }

    #[test]
    fn parses_the_documented_examples() {
        assert_eq!(d("250ms"), 250);
        assert_eq!(d("90s"), 90_000);
        assert_eq!(d("5m"), 300_000);
        assert_eq!(d("2h30m"), 9_000_000);
        assert_eq!(d("3d"), 259_200_000);
        assert_eq!(d("1d10h"), 122_400_000);
        assert_eq!(d("0"), 0);
        assert_eq!(d("0s"), 0);
        assert_eq!(d("1.5h"), 5_400_000);
        assert_eq!(d("0.25s"), 250);
        assert_eq!(d(".5s"), 500);
        assert_eq!(d("1h0.5m"), 3_630_000);
        assert_eq!(d("1s500ms"), 1_500);
    }

    #[test]
    fn rejects_bad_strings_with_the_right_error() {
        use DurationParseError as E;
        let err = |s: &str| s.parse::<SimDuration>().expect_err(s);
        assert!(matches!(err(""), E::Empty));
        assert!(matches!(err("-3s"), E::Negative { .. }));
        assert!(matches!(err("5 minutes"), E::Malformed { position: 1, .. }));
        assert!(matches!(err("5minutes"), E::UnknownUnit { unit, .. } if unit == "minutes"));
        assert!(matches!(err("90"), E::MissingUnit { .. }));
        assert!(matches!(err("30m2h"), E::UnitOrder { .. }));
        assert!(matches!(err("1h1h"), E::UnitOrder { .. }));
        assert!(matches!(err("0.0001s"), E::SubMillisecond { .. }));
        assert!(matches!(err("1.s"), E::Malformed { .. }));
        assert!(matches!(err("h"), E::Malformed { .. }));
        assert!(matches!(err("99999999999999999999d"), E::Overflow { .. }));
        assert!(matches!(err("300000000000d"), E::Overflow { .. }));
        assert!(matches!(err("+5s"), E::Malformed { .. }));
        assert!(matches!(err(" 5s"), E::Malformed { .. }));
    }

    #[test]
    fn error_messages_say_what_to_write() {
        let msg = "5 minutes".parse::<SimDuration>().unwrap_err().to_string();
        assert!(msg.contains("\"5 minutes\""), "{msg}");
        assert!(msg.contains("2h30m"), "{msg}");
        let msg = "-3s".parse::<SimDuration>().unwrap_err().to_string();
        assert!(msg.contains("negative"), "{msg}");
    }

    #[test]
    fn displays_canonically() {
        assert_eq!(SimDuration::ZERO.to_string(), "0s");
        assert_eq!(SimDuration::from_millis(250).to_string(), "250ms");
        assert_eq!(SimDuration::from_millis(9_000_000).to_string(), "2h30m");
        assert_eq!(SimDuration::from_millis(90_000).to_string(), "1m30s");
        assert_eq!(SimDuration::from_millis(86_400_001).to_string(), "1d1ms");
        assert_eq!(SimTime::from_millis(122_400_000).to_string(), "1d10h");
    }

    #[test]
    fn serde_uses_human_strings() {
        let v: SimDuration = serde_json::from_str("\"2h30m\"").expect("parse");
        assert_eq!(v.as_millis(), 9_000_000);
        assert_eq!(serde_json::to_string(&v).expect("ser"), "\"2h30m\"");
        let e = serde_json::from_str::<SimDuration>("\"5 minutes\"").unwrap_err();
        assert!(e.to_string().contains("5 minutes"));
        assert!(serde_json::from_str::<SimDuration>("300").is_err());
        let t: SimTime = serde_json::from_str("\"1d10h\"").expect("parse");
        assert_eq!(t, SimTime::from_millis(122_400_000));
    }

    #[test]
    fn from_secs_f64_rounds_and_refuses_nonsense() {
        assert_eq!(SimDuration::from_secs_f64(1.0004), Some(SimDuration(1000)));
        assert_eq!(SimDuration::from_secs_f64(1.0006), Some(SimDuration(1001)));
        assert_eq!(SimDuration::from_secs_f64(-1.0), None);
        assert_eq!(SimDuration::from_secs_f64(f64::NAN), None);
        assert_eq!(SimDuration::from_secs_f64(f64::INFINITY), None);
        assert_eq!(SimDuration::from_secs_f64(1e30), None);
    }

    #[test]
    fn arithmetic_is_checked() {
        assert_eq!(SimTime::MAX.checked_add(SimDuration(1)), None);
        assert_eq!(
            SimTime(5).checked_duration_since(SimTime(7)),
            None,
            "no negative spans"
        );
        assert_eq!(SimTime(7) - SimTime(5), SimDuration(2));
        assert_eq!(SimDuration::from_days(u64::MAX), None);
    }

    proptest! {
        #[test]
        fn display_then_parse_round_trips(ms in any::<u64>()) {
            let dur = SimDuration(ms);
            let back: SimDuration = dur.to_string().parse().expect("round trip");
            prop_assert_eq!(back, dur);
        }

        #[test]
        fn components_add_up(d in 0u64..1000, h in 0u64..24, m in 0u64..60, s in 0u64..60, ms in 0u64..1000) {
            let text = format!("{d}d{h}h{m}m{s}s{ms}ms");
            let want = d * MS_PER_D + h * MS_PER_H + m * MS_PER_M + s * MS_PER_S + ms;
            prop_assert_eq!(text.parse::<SimDuration>().expect("parse").as_millis(), want);
        }

        #[test]
        fn parser_never_panics(s in "\\PC{0,24}") {
            let _ = s.parse::<SimDuration>();
        }
    }
}
