//! Parsers of the numeric command-line options: each holds the same limit as the
//! scenario file's field of the same meaning (`dialtone_scenario::validate::limits`), so
//! a value refused in a file is refused on the command line too, with exit code 2 and a
//! message saying what is allowed.

use dialtone_scenario::validate::limits;

/// A count for people: "10,000,000".
fn show(n: u64) -> String {
    dialtone_study::human::human_count(n as f64)
}

fn number(s: &str) -> Result<u64, String> {
    s.trim()
        .replace('_', "")
        .parse::<u64>()
        .map_err(|_| format!("{s:?} is not a whole number"))
}

/// `--replications N`: 1 to [`limits::REPLICATIONS`], as `run.replications` in a file.
pub(crate) fn replications(s: &str) -> Result<u64, String> {
    let n = number(s)?;
    if n == 0 || n > limits::REPLICATIONS {
        let more = if n == 0 {
            ""
        } else {
            "; for more, run several studies with different --seed values"
        };
        return Err(format!(
            "{n} replications: give between 1 and {} (the limit of run.replications in a \
             scenario file){more}",
            show(limits::REPLICATIONS)
        ));
    }
    Ok(n)
}

/// `--replication R` of `run`: a replication a study can have, 0 to
/// [`limits::REPLICATIONS`] - 1.
pub(crate) fn replication(s: &str) -> Result<u64, String> {
    let n = number(s)?;
    if n >= limits::REPLICATIONS {
        return Err(format!(
            "replication {n}: a study has at most {} replications, numbered from 0; give \
             0 to {}",
            show(limits::REPLICATIONS),
            show(limits::REPLICATIONS - 1)
        ));
    }
    Ok(n)
}

/// `--threads N`: 0 (one a core) to [`limits::THREADS`].
pub(crate) fn threads(s: &str) -> Result<usize, String> {
    let n = number(s)?;
    if n > limits::THREADS as u64 {
        return Err(format!(
            "{n} threads: give at most {} (0, the default, is one a core; more threads \
             than cores do not make a study faster)",
            limits::THREADS
        ));
    }
    Ok(n as usize)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn limits_of_the_numeric_options() {
        assert_eq!(replications("1"), Ok(1));
        assert_eq!(replications("10000000"), Ok(limits::REPLICATIONS));
        for bad in ["0", "10000001", "18446744073709551615", "-1", "x"] {
            assert!(replications(bad).is_err(), "{bad}");
        }
        assert!(replications("10000001").unwrap_err().contains("10,000,000"));
        assert_eq!(threads("0"), Ok(0));
        assert_eq!(threads("256"), Ok(limits::THREADS));
        assert!(threads("257").unwrap_err().contains("at most 256"));
        assert_eq!(replication("9999999"), Ok(limits::REPLICATIONS - 1));
        assert!(replication("10000000").is_err());
    }
}
