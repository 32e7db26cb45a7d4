//! The axes of a sweep: `--set` values, ranges, linked paths and the strategy.
//!
//! Grammar of one `--set` (one dimension of the grid):
//!
//! ```text
//! set    = paths "=" values
//! paths  = PATH | PATH "," PATH ...        several paths: a linked axis
//! values = item "," item ...               one path
//!        | tuple ";" tuple ...             linked: a tuple is V "," V ..., one V per path
//! item   = V | LO ".." HI "/" N            N evenly spaced values, both ends included
//!            | LO ".." HI ":step=" S       LO, LO+S, LO+2S, ... up to HI
//! ```
//!
//! `V` is JSON when it parses as JSON (`10`, `0.5`, `true`, `"x"`) and a string
//! otherwise (`300s`). Range ends (and the step) are numbers (`60..3600:step=600`) or
//! durations (`5m..1h/6` gives 5m, 16m, 27m, 38m, 49m, 1h). The path `strategy` is the
//! strategy axis: its values are strategy names and each point is re-planned with
//! `Scenario::with_strategy` on the same random streams. A grid holds at most
//! [`MAX_POINTS`] points.

use dialtone_engine::SimDuration;
use dialtone_scenario::Strategy;
use serde_json::Value;

use crate::StudyError;
use crate::setpath::canonical;

/// The most points a sweep grid (or one range) may have.
pub const MAX_POINTS: usize = 10_000;

/// The path of the strategy axis.
pub const STRATEGY: &str = "strategy";

/// One dimension of a sweep grid: one path, or several linked paths varied together.
#[derive(Debug, Clone, PartialEq)]
pub struct Axis {
    /// The JSON paths (more than one: a linked axis).
    pub paths: Vec<String>,
    /// The values along this dimension: each a tuple with one value per path.
    pub values: Vec<Vec<Value>>,
}

fn input(s: &str, why: impl std::fmt::Display) -> StudyError {
    StudyError::Input(format!("--set {s:?}: {why}"))
}

/// Parses one `--set` (see the module docs for the grammar).
pub fn parse_set(s: &str) -> Result<Axis, StudyError> {
    let (lhs, rhs) = s.split_once('=').ok_or_else(|| {
        input(
            s,
            "write PATH=V1,V2,..., e.g. topology.dns.ttl=60s,300s or topology.dns.ttl=5m..1h/6",
        )
    })?;
    // Each path in its one spelling (clients.1.share is clients[1].share): a path swept
    // twice is caught however it was written, and names one results.csv column.
    let paths: Vec<String> = lhs
        .split(',')
        .map(|p| match p.trim() {
            STRATEGY => Ok(STRATEGY.to_owned()),
            p => canonical(p).map_err(|e| input(s, e)),
        })
        .collect::<Result<_, _>>()?;
    let values = if paths.len() == 1 {
        let mut v = Vec::new();
        for item in rhs.split(',') {
            v.extend(item_values(s, item.trim())?.into_iter().map(|x| vec![x]));
        }
        v
    } else {
        linked(s, &paths, rhs)?
    };
    if values.len() > MAX_POINTS {
        return Err(input(s, format!("more than {MAX_POINTS} values")));
    }
    if let Some(k) = paths.iter().position(|p| p == STRATEGY) {
        for t in &values {
            strategy_of(&t[k]).map_err(|e| input(s, e))?;
        }
    }
    Ok(Axis { paths, values })
}

/// The strategy a value of the strategy axis names.
pub fn strategy_of(v: &Value) -> Result<Strategy, String> {
    let names = Strategy::ALL
        .iter()
        .map(|x| x.name())
        .collect::<Vec<_>>()
        .join(", ");
    let shown = v.as_str().map_or_else(|| v.to_string(), str::to_owned);
    v.as_str()
        .and_then(|n| n.parse::<Strategy>().ok())
        .ok_or_else(|| format!("{shown:?} is not a strategy; strategies are {names}"))
}

/// The tuples of a linked axis: `V,V;V,V`.
fn linked(s: &str, paths: &[String], rhs: &str) -> Result<Vec<Vec<Value>>, StudyError> {
    rhs.split(';')
        .map(|t| {
            let vals = t
                .split(',')
                .map(|v| scalar(s, v.trim()))
                .collect::<Result<Vec<_>, _>>()?;
            if vals.len() != paths.len() {
                return Err(input(
                    s,
                    format!(
                        "the tuple {t:?} has {} values for {} linked paths; write one value per path, tuples separated by ';', e.g. a,b=0.2,0.8;0.5,0.5",
                        vals.len(),
                        paths.len()
                    ),
                ));
            }
            Ok(vals)
        })
        .collect()
}

/// One value, not a range.
fn scalar(s: &str, v: &str) -> Result<Value, StudyError> {
    if v.is_empty() {
        return Err(input(s, "empty path or value"));
    }
    if v.contains("..") {
        return Err(input(
            s,
            "a range is not allowed in a linked axis; list the tuples",
        ));
    }
    Ok(serde_json::from_str(v).unwrap_or_else(|_| Value::String(v.to_owned())))
}

/// One item of a value list: a value, or the values of a range.
fn item_values(s: &str, item: &str) -> Result<Vec<Value>, StudyError> {
    match item.split_once("..") {
        None => Ok(vec![scalar(s, item)?]),
        Some((lo, rest)) => range(s, lo.trim(), rest.trim()),
    }
}

/// How the points of a range are chosen.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Spacing {
    Count(usize),
    Step(f64),
}

/// `LO..HI/N` or `LO..HI:step=S` (`rest` is what follows `..`).
fn range(s: &str, lo: &str, rest: &str) -> Result<Vec<Value>, StudyError> {
    let (hi, spec, step) = if let Some((hi, n)) = rest.split_once('/') {
        let n: usize = n
            .trim()
            .parse()
            .map_err(|_| input(s, format!("/{n}: the number of points is a whole number")))?;
        (hi, Some(n), None)
    } else if let Some((hi, st)) = rest.split_once(":step=") {
        (hi, None, Some(st.trim()))
    } else {
        return Err(input(
            s,
            "a range is LO..HI/N (N points) or LO..HI:step=S, e.g. 5m..1h/6 or 60..3600:step=600",
        ));
    };
    let hi = hi.trim();
    let num = |x: &str| x.parse::<f64>().ok().filter(|v| v.is_finite());
    let dur = |x: &str| x.parse::<SimDuration>().ok().map(|d| d.as_millis() as f64);
    let numbers = num(lo).is_some() && num(hi).is_some() && step.is_none_or(|x| num(x).is_some());
    let read = |x: &str| if numbers { num(x) } else { dur(x) };
    let (Some(a), Some(b)) = (read(lo), read(hi)) else {
        return Err(input(
            s,
            format!(
                "{lo}..{hi}: the ends (and the step) must be both numbers or both durations such as 5m and 1h"
            ),
        ));
    };
    let spacing = match step {
        None => Spacing::Count(spec.unwrap_or(0)),
        Some(st) => Spacing::Step(
            read(st).ok_or_else(|| input(s, format!("step {st:?} is not like the ends")))?,
        ),
    };
    let pts = points(a, b, spacing).map_err(|why| input(s, why))?;
    Ok(if numbers {
        numbers_json(&pts)
    } else {
        pts.iter()
            .map(|ms| Value::String(SimDuration::from_millis(ms.round() as u64).to_string()))
            .collect()
    })
}

/// The points of a range from `a` to `b`.
fn points(a: f64, b: f64, spacing: Spacing) -> Result<Vec<f64>, String> {
    if a == b {
        return Err("an empty range (its ends are equal); write the single value".into());
    }
    if a > b {
        return Err("a reversed range: write the smaller end first".into());
    }
    let n = match spacing {
        Spacing::Count(n) if n < 2 => {
            return Err(format!(
                "/{n}: a range has at least 2 points (its two ends)"
            ));
        }
        Spacing::Count(n) => n,
        Spacing::Step(st) if st.is_nan() || st <= 0.0 => {
            return Err("the step must be greater than zero".into());
        }
        Spacing::Step(st) => {
            let k = ((b - a) / st + 1e-9).floor();
            if k >= MAX_POINTS as f64 {
                return Err(format!("more than {MAX_POINTS} points"));
            }
            k as usize + 1
        }
    };
    if n > MAX_POINTS {
        return Err(format!("more than {MAX_POINTS} points"));
    }
    Ok((0..n)
        .map(|i| match spacing {
            Spacing::Count(_) if i + 1 == n => b,
            Spacing::Count(_) => a + (b - a) * i as f64 / (n - 1) as f64,
            Spacing::Step(st) => a + st * i as f64,
        })
        .collect())
}

/// Numbers as JSON: integers when every point is whole, else rounded to 12 significant
/// digits (no `0.6000000000000001`).
fn numbers_json(pts: &[f64]) -> Vec<Value> {
    let whole = pts
        .iter()
        .all(|x| (x - x.round()).abs() < 1e-9 && x.abs() < 9e15);
    pts.iter()
        .map(|&x| {
            if whole {
                Value::from(x.round() as i64)
            } else {
                let r: f64 = format!("{x:.11e}").parse().unwrap_or(x);
                serde_json::Number::from_f64(r).map_or(Value::Null, Value::Number)
            }
        })
        .collect()
}

/// Every combination of the axes' values, first axis slowest; a point is the values of
/// every path, in [`paths`] order. More than [`MAX_POINTS`] points, or a path on two
/// axes, is an error.
pub fn grid(axes: &[Axis]) -> Result<Vec<Vec<Value>>, StudyError> {
    let all = paths(axes);
    if let Some(p) = all
        .iter()
        .enumerate()
        .find_map(|(i, p)| all[..i].contains(p).then_some(p))
    {
        return Err(StudyError::Input(format!(
            "--set: the path {p} is swept twice; give each path once"
        )));
    }
    let size = axes
        .iter()
        .try_fold(1usize, |n, a| n.checked_mul(a.values.len()))
        .filter(|n| *n <= MAX_POINTS)
        .ok_or_else(|| {
            StudyError::Input(format!(
                "the sweep has more than {MAX_POINTS} grid points ({}); sweep fewer values",
                axes.iter()
                    .map(|a| a.values.len().to_string())
                    .collect::<Vec<_>>()
                    .join(" x ")
            ))
        })?;
    let mut out: Vec<Vec<Value>> = vec![Vec::new()];
    for a in axes {
        out = out
            .into_iter()
            .flat_map(|p| {
                a.values.iter().map(move |t| {
                    let mut q = p.clone();
                    q.extend(t.iter().cloned());
                    q
                })
            })
            .collect();
    }
    debug_assert_eq!(out.len(), size);
    Ok(out)
}

/// Every path of the axes, in order (a linked axis contributes each of its paths).
pub fn paths(axes: &[Axis]) -> Vec<String> {
    axes.iter().flat_map(|a| a.paths.iter().cloned()).collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn vals(s: &str) -> Vec<Value> {
        parse_set(s)
            .unwrap_or_else(|e| panic!("{e}"))
            .values
            .into_iter()
            .map(|mut t| t.remove(0))
            .collect()
    }

    fn err(s: &str) -> String {
        parse_set(s).expect_err(s).to_string()
    }

    #[test]
    fn lists_of_values() {
        assert_eq!(
            vals("topology.dns.ttl=60s,300s,3600s"),
            vec![json!("60s"), json!("300s"), json!("3600s")]
        );
        assert_eq!(
            vals("workload.messages_per_user_per_day=10,60"),
            vec![json!(10), json!(60)]
        );
        assert!(parse_set("nothing").is_err());
        assert!(err("a.b=1,,2").contains("empty"));
    }

    #[test]
    fn ranges_of_durations_and_numbers() {
        assert_eq!(
            vals("topology.dns.ttl=5m..1h/6"),
            ["5m", "16m", "27m", "38m", "49m", "1h"].map(|s| json!(s))
        );
        assert_eq!(
            vals("topology.dns.ttl=60..3600:step=600"),
            [60, 660, 1260, 1860, 2460, 3060].map(|x| json!(x))
        );
        assert_eq!(
            vals("topology.dns.ttl=30s..2m:step=30s"),
            ["30s", "1m", "1m30s", "2m"].map(|s| json!(s))
        );
        assert_eq!(vals("a=0.2..0.8/4"), [0.2, 0.4, 0.6, 0.8].map(|x| json!(x)));
        assert_eq!(vals("a=0..10/3"), [0, 5, 10].map(|x| json!(x)));
        // A range is one item of a list.
        assert_eq!(vals("a=0,1..3/3,9"), [0, 1, 2, 3, 9].map(|x| json!(x)));
    }

    #[test]
    fn bad_ranges_are_refused_with_the_reason() {
        assert!(err("a=1h..5m/3").contains("reversed"));
        assert!(err("a=5..5/3").contains("empty range"));
        assert!(err("a=1..5/1").contains("at least 2 points"));
        assert!(err("a=1..5/0").contains("at least 2 points"));
        assert!(err("a=1..5:step=0").contains("greater than zero"));
        assert!(err("a=1..5:step=-1").contains("greater than zero"));
        assert!(err("a=0..1/20000").contains("more than 10000"));
        assert!(err("a=0..100000:step=1").contains("more than 10000"));
        assert!(err("a=5m..60").contains("LO..HI/N"));
        assert!(err("a=5m..60/3").contains("both numbers or both durations"));
        assert!(err("a=1..x/3").contains("both numbers or both durations"));
    }

    #[test]
    fn a_linked_axis_is_one_dimension() {
        let l = parse_set("clients[0].share,clients.1.share=0.2,0.8;0.5,0.5").expect("linked");
        assert_eq!(
            l.paths,
            vec!["clients[0].share", "clients[1].share"],
            "one spelling"
        );
        assert_eq!(
            l.values,
            vec![vec![json!(0.2), json!(0.8)], vec![json!(0.5), json!(0.5)]]
        );
        let t = parse_set("topology.dns.ttl=1m,5m,1h").expect("ttl");
        let g = grid(&[l.clone(), t.clone()]).expect("grid");
        // 2 x 3, not 2 x 2 x 3: the linked pair moves together.
        assert_eq!(g.len(), 6);
        assert_eq!(g[0], vec![json!(0.2), json!(0.8), json!("1m")]);
        assert_eq!(g[5], vec![json!(0.5), json!(0.5), json!("1h")]);
        assert_eq!(paths(&[l, t]).len(), 3);
        assert!(err("a,b=1,2;3").contains("has 1 values for 2 linked paths"));
        assert!(err("a,b=1..2/2,3").contains("not allowed in a linked axis"));
    }

    #[test]
    fn the_strategy_axis_takes_strategy_names() {
        let s = parse_set("strategy=restore-only,dial-tone-same-server").expect("strategies");
        assert_eq!(s.values.len(), 2);
        assert!(err("strategy=restore-only,nope").contains("not a strategy"));
    }

    #[test]
    fn grids_are_limited_and_paths_unique() {
        let big = parse_set("a=0..1/200").expect("200");
        let e = grid(&[big.clone(), big.clone()]).expect_err("duplicate");
        assert!(e.to_string().contains("swept twice"), "{e}");
        let (a, b) = (
            parse_set("clients[0].share=0.5").expect("a"),
            parse_set("clients.0.share=0.6").expect("b"),
        );
        assert_eq!(a.paths, b.paths);
        let e = grid(&[a, b]).expect_err("one path, two spellings");
        assert!(e.to_string().contains("swept twice"), "{e}");
        let other = parse_set("b=0..1/200").expect("200");
        let e = grid(&[big.clone(), other]).expect_err("40,000 points");
        assert!(e.to_string().contains("more than 10000"), "{e}");
        let ok = parse_set("b=0..1/50").expect("50");
        assert_eq!(grid(&[big, ok]).expect("10,000").len(), 10_000);
    }
}
