//! Sizes (`"400GB"`), rates (`"300GB/h"`, `"20MB/s"`) and duration distributions
//! (`"10m"`, `"lognormal(20m, 10m)"`) as they are written in scenario files.

use std::fmt;

use dialtone_engine::{DurationDist, SimDuration};
use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// A size in bytes, written `"64KB"`, `"400GB"`, `"2TB"` (binary units: 1 KB = 1024 B).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct Size(pub u64);

impl Size {
    /// In whole megabytes, rounded up.
    pub fn mb(self) -> u64 {
        self.0.div_ceil(1 << 20)
    }
    /// In whole kilobytes, rounded up.
    pub fn kb(self) -> u64 {
        self.0.div_ceil(1 << 10)
    }
}

const UNITS: [(&str, u64); 5] = [
    ("TB", 1 << 40),
    ("GB", 1 << 30),
    ("MB", 1 << 20),
    ("KB", 1 << 10),
    ("B", 1),
];

fn parse_size(s: &str) -> Result<Size, String> {
    let t = s.trim();
    let Some((unit, mult)) = UNITS.iter().find(|(u, _)| t.ends_with(u)) else {
        return Err(format!(
            "size {s:?} needs a unit: B, KB, MB, GB or TB (e.g. \"400GB\")"
        ));
    };
    let num = t[..t.len() - unit.len()].trim();
    let v: f64 = num
        .parse()
        .map_err(|_| format!("size {s:?} is not a number followed by a unit (e.g. \"400GB\")"))?;
    if !v.is_finite() || v < 0.0 {
        return Err(format!("size {s:?} must be zero or more"));
    }
    let bytes = v * *mult as f64;
    if bytes >= u64::MAX as f64 {
        return Err(format!("size {s:?} is too large"));
    }
    Ok(Size(bytes.round() as u64))
}

impl fmt::Display for Size {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (u, m) in UNITS {
            if self.0 >= m && self.0.is_multiple_of(m) {
                return write!(f, "{}{u}", self.0 / m);
            }
        }
        write!(f, "{}B", self.0)
    }
}

impl<'de> Deserialize<'de> for Size {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        parse_size(&s).map_err(serde::de::Error::custom)
    }
}

impl Serialize for Size {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

/// A throughput in bytes per second, written `"20MB/s"` or `"300GB/h"`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Rate(pub f64);

impl Rate {
    /// In whole MB per second, at least 1.
    pub fn mb_per_s(self) -> u64 {
        ((self.0 / (1u64 << 20) as f64).round() as u64).max(1)
    }

    /// In whole bytes per second, at least 1.
    pub fn bytes_per_s(self) -> u64 {
        (self.0.round() as u64).max(1)
    }
}

impl<'de> Deserialize<'de> for Rate {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        let (size, per) = s.rsplit_once('/').ok_or_else(|| {
            serde::de::Error::custom(format!(
                "rate {s:?} needs a period: \"20MB/s\" or \"300GB/h\""
            ))
        })?;
        let secs = match per.trim() {
            "s" => 1.0,
            "m" | "min" => 60.0,
            "h" => 3600.0,
            other => {
                return Err(serde::de::Error::custom(format!(
                    "rate {s:?} has unknown period {other:?}: use /s, /m or /h"
                )));
            }
        };
        let size = parse_size(size).map_err(serde::de::Error::custom)?;
        if size.0 == 0 {
            return Err(serde::de::Error::custom(format!(
                "rate {s:?} must be more than zero"
            )));
        }
        Ok(Rate(size.0 as f64 / secs))
    }
}

impl Serialize for Rate {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(&format_args!("{}MB/s", self.mb_per_s()))
    }
}

/// A distribution of durations as written in files: a plain duration (fixed), or
/// `exponential(MEAN)`, `lognormal(MEAN, SD)`, `weibull(SHAPE, SCALE)`,
/// `gamma(SHAPE, SCALE)`, `uniform(MIN, MAX)`, `fixed(D)`, `empirical(D1, D2, ...)`.
#[derive(Debug, Clone, PartialEq)]
pub struct Dist(pub DurationDist, pub String);

fn parse_dist(s: &str) -> Result<DurationDist, String> {
    let t = s.trim();
    let dur = |x: &str| -> Result<SimDuration, String> {
        x.trim().parse::<SimDuration>().map_err(|e| e.to_string())
    };
    let num = |x: &str| -> Result<f64, String> {
        x.trim()
            .parse::<f64>()
            .map_err(|_| format!("{x:?} is not a number"))
    };
    let Some(open) = t.find('(') else {
        return dur(t).map(DurationDist::Fixed).map_err(|e| {
            format!("{e}; or write a distribution: exponential(10h), lognormal(20m, 10m), weibull(2, 1000h), uniform(1m, 5m), empirical(1m, 2m)")
        });
    };
    if !t.ends_with(')') {
        return Err(format!(
            "distribution {s:?} is missing its closing parenthesis"
        ));
    }
    let name = t[..open].trim();
    let args: Vec<&str> = t[open + 1..t.len() - 1].split(',').collect();
    let want = |n: usize| {
        if args.len() == n {
            Ok(())
        } else {
            Err(format!(
                "{name}(...) takes {n} argument(s), got {}",
                args.len()
            ))
        }
    };
    let d = match name {
        "fixed" => {
            want(1)?;
            DurationDist::Fixed(dur(args[0])?)
        }
        "exponential" | "exp" => {
            want(1)?;
            DurationDist::Exponential {
                mean: dur(args[0])?,
            }
        }
        "lognormal" => {
            want(2)?;
            DurationDist::LogNormal {
                mean: dur(args[0])?,
                sd: dur(args[1])?,
            }
        }
        "weibull" => {
            want(2)?;
            DurationDist::Weibull {
                shape: num(args[0])?,
                scale: dur(args[1])?,
            }
        }
        "gamma" => {
            want(2)?;
            DurationDist::Gamma {
                shape: num(args[0])?,
                scale: dur(args[1])?,
            }
        }
        "uniform" => {
            want(2)?;
            DurationDist::Uniform {
                min: dur(args[0])?,
                max: dur(args[1])?,
            }
        }
        "empirical" => {
            DurationDist::Empirical(args.iter().map(|a| dur(a)).collect::<Result<_, _>>()?)
        }
        other => {
            return Err(format!(
                "unknown distribution {other:?}: use fixed, exponential, lognormal, weibull, gamma, uniform or empirical"
            ));
        }
    };
    d.validate()
        .map_err(|e| format!("distribution {s:?}: {e}"))?;
    Ok(d)
}

impl<'de> Deserialize<'de> for Dist {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        parse_dist(&s)
            .map(|d| Dist(d, s.clone()))
            .map_err(serde::de::Error::custom)
    }
}

impl Serialize for Dist {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.1)
    }
}

impl Dist {
    /// A fixed duration.
    pub fn fixed(d: &str) -> Self {
        let v = d.parse().unwrap_or(SimDuration::ZERO);
        Dist(DurationDist::Fixed(v), d.to_owned())
    }
    /// Parses a distribution string (for defaults written in code).
    pub fn parse(s: &str) -> Result<Self, String> {
        parse_dist(s).map(|d| Dist(d, s.to_owned()))
    }
}

/// The JSON Schema of sizes, rates and distributions: strings, with the pattern of what
/// the parsers above accept (`dialtone schema`).
mod schema {
    use std::borrow::Cow;

    use schemars::{JsonSchema, Schema, SchemaGenerator, json_schema};

    const SIZE: &str = r"[0-9]*\.?[0-9]+\s*(TB|GB|MB|KB|B)";
    const DURATION: &str = r"(0|([0-9]*\.?[0-9]+(d|h|ms|m|s))+)";

    fn string(pattern: String, description: &str, ex: &[&str]) -> Schema {
        json_schema!({
            "type": "string",
            "pattern": pattern,
            "description": description,
            "examples": ex,
        })
    }

    impl JsonSchema for super::Size {
        fn schema_name() -> Cow<'static, str> {
            "Size".into()
        }
        fn json_schema(_: &mut SchemaGenerator) -> Schema {
            string(
                format!(r"^\s*{SIZE}\s*$"),
                "A size: a number and a binary unit B, KB, MB, GB or TB (1 KB = 1024 B).",
                &["75KB", "400GB", "1.5TB"],
            )
        }
    }

    impl JsonSchema for super::Rate {
        fn schema_name() -> Cow<'static, str> {
            "Rate".into()
        }
        fn json_schema(_: &mut SchemaGenerator) -> Schema {
            string(
                format!(r"^\s*{SIZE}\s*/\s*(s|m|min|h)\s*$"),
                "A throughput: a size per second, minute or hour.",
                &["20MB/s", "300GB/h"],
            )
        }
    }

    impl JsonSchema for super::Dist {
        fn schema_name() -> Cow<'static, str> {
            "Distribution".into()
        }
        fn json_schema(_: &mut SchemaGenerator) -> Schema {
            string(
                format!(
                    r"^\s*({DURATION}|(fixed|exponential|exp|lognormal|weibull|gamma|uniform|empirical)\s*\(.*\))\s*$"
                ),
                "A duration (fixed), or a distribution of durations: exponential(MEAN), \
                 lognormal(MEAN, SD), weibull(SHAPE, SCALE), gamma(SHAPE, SCALE), \
                 uniform(MIN, MAX), fixed(D), empirical(D1, D2, ...).",
                &["10m", "lognormal(20m, 10m)", "weibull(2, 1000h)"],
            )
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn size(s: &str) -> Result<Size, String> {
        serde_json::from_value(serde_json::Value::String(s.into())).map_err(|e| e.to_string())
    }

    #[test]
    fn sizes_and_rates_parse() {
        assert_eq!(size("400GB").map(|s| s.mb()), Ok(400 * 1024));
        assert_eq!(size("64KB").map(|s| s.kb()), Ok(64));
        assert_eq!(size("1.5TB").map(|s| s.mb()), Ok(1536 * 1024));
        assert!(size("400").unwrap_err().contains("needs a unit"));
        assert!(size("-1GB").is_err());
        let r: Rate = serde_json::from_str("\"300GB/h\"").expect("rate");
        assert_eq!(r.mb_per_s(), 85);
        let r: Rate = serde_json::from_str("\"20MB/s\"").expect("rate");
        assert_eq!(r.mb_per_s(), 20);
        assert!(serde_json::from_str::<Rate>("\"20MB\"").is_err());
        assert!(serde_json::from_str::<Rate>("\"0MB/s\"").is_err());
    }

    #[test]
    fn distributions_parse_and_refuse_nonsense() {
        assert_eq!(
            Dist::parse("10m").map(|d| d.0),
            Ok(DurationDist::Fixed(SimDuration::from_millis(600_000)))
        );
        assert!(matches!(
            Dist::parse("lognormal(20m, 10m)").map(|d| d.0),
            Ok(DurationDist::LogNormal { .. })
        ));
        assert!(matches!(
            Dist::parse("weibull(2, 1000h)").map(|d| d.0),
            Ok(DurationDist::Weibull { .. })
        ));
        assert!(
            matches!(Dist::parse("empirical(1m, 2m, 5m)").map(|d| d.0), Ok(DurationDist::Empirical(v)) if v.len() == 3)
        );
        assert!(
            Dist::parse("normal(5m)")
                .unwrap_err()
                .contains("unknown distribution")
        );
        assert!(
            Dist::parse("lognormal(5m)")
                .unwrap_err()
                .contains("takes 2")
        );
        assert!(Dist::parse("weibull(0, 5m)").is_err());
        assert!(Dist::parse("uniform(5m, 1m)").is_err());
        assert!(
            Dist::parse("exponential(5m")
                .unwrap_err()
                .contains("parenthesis")
        );
        assert!(Dist::parse("5 minutes").is_err());
    }
}
