//! `study`, `compare`, `sweep` and `merge`.

use std::io::{IsTerminal, Write};
use std::path::{Path, PathBuf};

use dialtone_scenario::Strategy;
use dialtone_study::io::{Journal, ReadError, read_journal, to_json, write_study};
use dialtone_study::stats::Stat;
use dialtone_study::sweep::{SweepPoint, SweepSummary, grid, parse_set, set_path};
use dialtone_study::{Row, Shard, StudyError, StudySummary, meta, run_replications, summarize};
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};

use dialtone_study::compare::Comparison;
use dialtone_study::verdict::{headline, verdict};

use crate::{Failure, Format, load};

impl From<StudyError> for Failure {
    fn from(e: StudyError) -> Self {
        match e {
            StudyError::Input(m) => Failure::Input(m),
            StudyError::Read(e) => Failure::Input(e.to_string()),
            other => Failure::Run(other.to_string()),
        }
    }
}

/// A progress bar on stderr with replications/s and an ETA; hidden when stderr is not a
/// terminal or with `--quiet`.
fn progress(total: u64, quiet: bool) -> ProgressBar {
    let target = if quiet || !std::io::stderr().is_terminal() {
        ProgressDrawTarget::hidden()
    } else {
        ProgressDrawTarget::stderr()
    };
    let bar = ProgressBar::with_draw_target(Some(total), target);
    if let Ok(style) =
        ProgressStyle::with_template("{bar:40} {pos}/{len} replications  {per_sec}  ETA {eta}")
    {
        bar.set_style(style);
    }
    bar
}

/// Refuses to overwrite a folder that already holds results, unless asked to.
fn check_out(dir: &Path, force: bool, resume: bool) -> Result<(), Failure> {
    let has = ["summary.json", "replications.csv", "journal.jsonl"]
        .iter()
        .any(|f| dir.join(f).exists());
    if has && !force && !resume {
        return Err(Failure::Input(format!(
            "{} already holds results; use --resume to continue it or --force to overwrite it",
            dir.display()
        )));
    }
    if force && !resume {
        for f in [
            "summary.json",
            "replications.csv",
            "journal.jsonl",
            "study.json",
            "results.csv",
        ] {
            let _ = std::fs::remove_file(dir.join(f));
        }
    }
    Ok(())
}

pub(crate) fn study(
    scenario: &Path,
    strategy: Option<&str>,
    shard: Option<&str>,
    resume: bool,
    o: &Opts<'_>,
) -> Result<(), Failure> {
    let sc = load(scenario, strategy)?;
    let n = o.replications.unwrap_or(sc.replications);
    if n == 0 {
        return Err(Failure::Input("--replications must be at least 1".into()));
    }
    let seed = o.seed.unwrap_or(sc.seed);
    let shard = shard.map(Shard::parse).transpose()?;
    let range = shard.map_or(0..n, |s| s.range(n));
    let m = meta(&sc, seed, n, shard);
    if resume && o.out.is_none() {
        return Err(Failure::Input(
            "--resume needs --out (the folder to continue)".into(),
        ));
    }
    let mut done_rows: Vec<Row> = Vec::new();
    let journal = match o.out {
        Some(dir) => {
            check_out(dir, o.force, resume)?;
            if resume {
                // A folder without study.json has nothing to check against; one whose
                // study.json cannot be read (another schema_version) is not resumed.
                let old = match dialtone_study::io::read_meta(dir) {
                    Ok(old) => Some(old),
                    Err(StudyError::Read(ReadError::Io { source, .. }))
                        if source.kind() == std::io::ErrorKind::NotFound =>
                    {
                        None
                    }
                    Err(e) => return Err(e.into()),
                };
                if let Some(old) = old
                    && (old.scenario_digest != m.scenario_digest
                        || old.seed != m.seed
                        || old.replications != m.replications
                        || old.shard != m.shard)
                {
                    return Err(Failure::Input(format!(
                        "{}: --resume with a different scenario, seed, size or shard than the folder's study",
                        dir.display()
                    )));
                }
                done_rows = read_journal(dir)?
                    .into_iter()
                    .filter(|r| range.contains(&r.replication))
                    .collect();
            }
            std::fs::create_dir_all(dir)
                .map_err(|e| Failure::Input(format!("{}: {e}", dir.display())))?;
            // study.json first, so an interrupted folder says what it is a study of.
            dialtone_study::io::write_json(&dir.join("study.json"), &m)?;
            Some(Journal::open(dir)?)
        }
        None => None,
    };
    let todo: Vec<u64> = range
        .clone()
        .filter(|r| {
            done_rows
                .binary_search_by_key(r, |x| x.replication)
                .is_err()
        })
        .collect();
    let bar = progress(range.end - range.start, o.quiet);
    bar.set_position(range.end - range.start - todo.len() as u64);
    let on_done = |row: &Row| {
        if let Some(j) = &journal {
            j.append(row);
        }
        bar.inc(1);
    };
    let mut rows = run_replications(&sc, seed, &todo, o.threads, &on_done)?;
    bar.finish_and_clear();
    rows.extend(done_rows);
    rows.sort_by_key(|r| r.replication);
    let summary = summarize(&m, &rows);
    match o.format {
        Format::Text => print_study(&summary),
        Format::Json => print_json(&to_json(&summary)?)?,
    }
    if let Some(dir) = o.out {
        write_study(dir, &m, &rows, &summary)?;
    }
    maybe_report(o)
}

fn show(v: Option<f64>) -> String {
    match v {
        None => "-".into(),
        Some(x) if x.abs() >= 1e5 => format!("{x:.3e}"),
        Some(x) => format!("{x:.3}"),
    }
}

fn stat_line(o: &mut impl Write, name: &str, s: &Stat) -> std::io::Result<()> {
    let ci = s.ci95.map_or("-".into(), |[lo, hi]| {
        format!("[{}, {}]", show(Some(lo)), show(Some(hi)))
    });
    writeln!(
        o,
        "  {name:<36} {:>12} {:>28} {:>12} {:>12} {:>7.1}%",
        show(s.mean),
        ci,
        show(s.p50),
        show(s.p95),
        100.0 * s.null_share
    )
}

fn print_study(s: &StudySummary) {
    let mut o = std::io::stdout().lock();
    let _ = (|| -> std::io::Result<()> {
        writeln!(
            o,
            "study {}   strategy {}   seed {}   {} replications",
            s.scenario, s.strategy, s.seed, s.replications
        )?;
        writeln!(o, "  {}.", headline(s))?;
        writeln!(
            o,
            "  {:<36} {:>12} {:>28} {:>12} {:>12} {:>8}",
            "metric", "mean", "95% CI", "p50", "p95", "null"
        )?;
        for (name, st) in &s.metrics {
            stat_line(&mut o, name, st)?;
        }
        let t = &s.targets;
        writeln!(
            o,
            "  every database back within {}: {:.1}% of replications; no split brain: {:.1}%; no mail lost: {:.1}%",
            dialtone_engine::SimDuration::from_secs_f64(t.rto_target_s)
                .map_or("?".into(), |d| d.to_string()),
            100.0 * t.rto_met_share,
            100.0 * t.no_split_brain_share,
            100.0 * t.no_mail_lost_share
        )?;
        Ok(())
    })();
}

/// Options shared by compare and sweep.
pub(crate) struct Opts<'a> {
    pub(crate) replications: Option<u64>,
    pub(crate) threads: usize,
    pub(crate) seed: Option<u64>,
    pub(crate) out: Option<&'a Path>,
    pub(crate) quiet: bool,
    pub(crate) force: bool,
    pub(crate) report: bool,
    pub(crate) format: Format,
}

/// Prints one JSON document on stdout (`--format json`), made by
/// [`dialtone_study::io::to_json`].
pub(crate) fn print_json(text: &str) -> Result<(), Failure> {
    let mut o = std::io::stdout().lock();
    // A closed pipe (`| head`) is not an error worth reporting.
    let _ = o.write_all(text.as_bytes());
    Ok(())
}

/// The document `compare --format json` prints: summary.json's keys plus `verdict`.
fn compare_json(c: &Comparison) -> Result<serde_json::Value, Failure> {
    let mut v = serde_json::to_value(c).map_err(|e| Failure::Run(e.to_string()))?;
    if let Some(m) = v.as_object_mut() {
        m.insert("verdict".into(), verdict(c).into());
    }
    Ok(v)
}

/// The first screen of `compare`: the verdict, then each strategy's headline.
fn print_verdict(w: &mut impl Write, c: &Comparison) -> std::io::Result<()> {
    writeln!(
        w,
        "compare {}   seed {}   {} replications each (common random numbers)",
        c.scenario, c.seed, c.replications
    )?;
    for v in verdict(c) {
        writeln!(w, "  {v}")?;
    }
    for s in &c.strategies {
        writeln!(w, "  {}: {}.", s.strategy, headline(&s.summary))?;
    }
    writeln!(w)
}

/// Writes the report if asked to.
fn maybe_report(o: &Opts<'_>) -> Result<(), Failure> {
    match (o.report, o.out) {
        (true, Some(d)) => crate::write_report(d),
        _ => Ok(()),
    }
}

pub(crate) fn compare(path: &Path, strategies: &str, o: &Opts<'_>) -> Result<(), Failure> {
    let (n, threads, seed, out, quiet, force) =
        (o.replications, o.threads, o.seed, o.out, o.quiet, o.force);
    let sc = load(path, None)?;
    let list = strategies
        .split(',')
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(|s| s.parse::<Strategy>())
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| Failure::Input(format!("--strategies: {e}")))?;
    let n = n.unwrap_or(sc.replications);
    if let Some(dir) = out {
        check_out(dir, force, false)?;
    }
    let bar = progress(n * list.len() as u64, quiet);
    let opts = dialtone_study::compare::CompareOptions {
        scenario: &sc,
        strategies: &list,
        replications: n,
        seed: seed.unwrap_or(sc.seed),
        threads,
        independent: false,
    };
    let c = dialtone_study::compare::compare(&opts, &|_| bar.inc(1))?;
    bar.finish_and_clear();
    match o.format {
        Format::Text => print_compare(&c),
        Format::Json => print_json(&to_json(&compare_json(&c)?)?)?,
    }
    if let Some(dir) = out {
        std::fs::create_dir_all(dir)
            .map_err(|e| Failure::Input(format!("{}: {e}", dir.display())))?;
        dialtone_study::io::write_compare(dir, &c)?;
    }
    maybe_report(o)
}

/// `compare`'s text: the verdict first, then every metric's mean and paired difference.
fn print_compare(c: &Comparison) {
    let mut w = std::io::stdout().lock();
    let _ = (|| -> std::io::Result<()> {
        print_verdict(&mut w, c)?;
        write!(w, "  {:<36}", "metric (mean)")?;
        for s in &c.strategies {
            write!(w, " {:>28}", s.strategy)?;
        }
        writeln!(w)?;
        for (i, (name, _)) in dialtone_study::COLUMNS.iter().enumerate() {
            write!(w, "  {name:<36}")?;
            for s in &c.strategies {
                write!(w, " {:>28}", show(s.summary.metrics[i].1.mean))?;
            }
            writeln!(w)?;
        }
        for (strat, diffs) in &c.differences {
            writeln!(
                w,
                "\n  {} − {} (paired, 95% CI; * significant)",
                strat, c.strategies[0].strategy
            )?;
            for (name, d) in diffs {
                let ci = d.ci95.map_or("-".into(), |[lo, hi]| {
                    format!("[{}, {}]", show(Some(lo)), show(Some(hi)))
                });
                writeln!(
                    w,
                    "  {name:<36} {:>12} {ci:>28} {}",
                    show(d.mean),
                    if d.significant { "*" } else { "" }
                )?;
            }
        }
        Ok(())
    })();
}

pub(crate) fn sweep(path: &Path, sets: &[String], o: &Opts<'_>) -> Result<(), Failure> {
    let (n, threads, seed, out, quiet, force) =
        (o.replications, o.threads, o.seed, o.out, o.quiet, o.force);
    let file = path.display().to_string();
    let text = std::fs::read_to_string(path)
        .map_err(|e| Failure::Input(format!("{file}: cannot read the file: {e}")))?;
    let base: serde_json::Value =
        serde_json::from_str(&text).map_err(|e| Failure::Input(format!("{file}: {e}")))?;
    let name = path
        .file_stem()
        .map_or("scenario".into(), |s| s.to_string_lossy().into_owned());
    let axes = sets
        .iter()
        .map(|s| parse_set(s))
        .collect::<Result<Vec<_>, _>>()?;
    if axes.is_empty() {
        return Err(Failure::Input(
            "sweep needs at least one --set PATH=V1,V2".into(),
        ));
    }
    let points = grid(&axes);
    // Validate every grid point before running any.
    let mut scenarios = Vec::new();
    for p in &points {
        let mut v = base.clone();
        for (a, x) in axes.iter().zip(p) {
            set_path(&mut v, &a.path, x.clone())?;
        }
        let label = axes
            .iter()
            .zip(p)
            .map(|(a, x)| format!("{}={}", a.path, x))
            .collect::<Vec<_>>()
            .join(" ");
        let spec =
            dialtone_scenario::validate::parse_spec(&format!("{file} ({label})"), &v.to_string())?;
        let sc =
            dialtone_scenario::validate::validate(&format!("{file} ({label})"), &name, spec, None)?;
        scenarios.push((label, p.clone(), sc));
    }
    if let Some(dir) = out {
        check_out(dir, force, false)?;
    }
    let n0 = n.unwrap_or(scenarios[0].2.replications);
    let bar = progress(n0 * scenarios.len() as u64, quiet);
    let mut table = Vec::new();
    for (label, values, sc) in &scenarios {
        let s = seed.unwrap_or(sc.seed);
        let idx: Vec<u64> = (0..n0).collect();
        let rows = run_replications(sc, s, &idx, threads, &|_| bar.inc(1))?;
        table.push(SweepPoint {
            point: label.clone(),
            values: values.clone(),
            summary: summarize(&meta(sc, s, n0, None), &rows),
            rows,
        });
    }
    bar.finish_and_clear();
    let sweep = SweepSummary::new(&name, &axes, table);
    match o.format {
        Format::Text => print_sweep(&sweep, n0),
        Format::Json => print_json(&to_json(&sweep)?)?,
    }
    if let Some(dir) = out {
        std::fs::create_dir_all(dir)
            .map_err(|e| Failure::Input(format!("{}: {e}", dir.display())))?;
        dialtone_study::io::write_sweep(dir, &sweep)?;
    }
    maybe_report(o)
}

/// `sweep`'s text: a few headline means per point.
fn print_sweep(sweep: &SweepSummary, n0: u64) {
    let headline = [
        "user_minutes_without_send_receive",
        "time_to_service_p95_s",
        "mail_not_delivered",
    ];
    let mut w = std::io::stdout().lock();
    let _ = writeln!(
        w,
        "sweep {}   {} points x {n0} replications",
        sweep.scenario,
        sweep.points.len()
    );
    for p in &sweep.points {
        let (label, s) = (&p.point, &p.summary);
        let _ = write!(w, "  {label:<48}");
        for h in headline {
            let st = s.metrics.iter().find(|(n, _)| n == h).map(|(_, st)| st);
            let _ = write!(w, " {h}={} ", show(st.and_then(|st| st.mean)));
        }
        let _ = writeln!(w);
    }
}

pub(crate) fn merge(dirs: &[PathBuf], out: &Path, force: bool) -> Result<(), Failure> {
    let refs: Vec<&Path> = dirs.iter().map(PathBuf::as_path).collect();
    let (m, rows) = dialtone_study::io::merge(&refs)?;
    check_out(out, force, false)?;
    let summary = summarize(&m, &rows);
    print_study(&summary);
    write_study(out, &m, &rows, &summary)?;
    Ok(())
}
