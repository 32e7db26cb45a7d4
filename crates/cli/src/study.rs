//! `study`, `compare`, `sweep` and `merge`.

use std::io::{IsTerminal, Write};
use std::path::{Path, PathBuf};

use dialtone_scenario::Strategy;
use dialtone_scenario::metrics::Kind;
use dialtone_study::arms::{self, ArmJournal, ArmsMeta};
use dialtone_study::compare::{self, Comparison, parse_variant};
use dialtone_study::cost::{self, CostLog};
use dialtone_study::io::{Journal, ReadError, read_journal, to_json, write_study};
use dialtone_study::stats::Stat;
use dialtone_study::sweep::{self, SweepSummary, parse_set};
use dialtone_study::{
    Row, Shard, StudyError, StudySummary, meta, run_replications_with, summarize,
};
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};

use dialtone_study::human::{human_count, human_duration};
use dialtone_study::verdict::{headline, verdict};

use crate::{Failure, Format, load};

impl From<StudyError> for Failure {
    fn from(e: StudyError) -> Self {
        match e {
            StudyError::Input(m) => Failure::Input(m),
            StudyError::Read(e) => Failure::Input(e.to_string()),
            StudyError::Io { path, source } => crate::io_failure(&path, &source),
            StudyError::Folder(e) => crate::folder_failure(e),
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
        .any(|f| dir.join(f).exists())
        || !arm_files(dir).is_empty();
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
            "timeline.csv",
            "trace.jsonl",
            dialtone_study::folder::MANIFEST,
        ] {
            let _ = std::fs::remove_file(dir.join(f));
        }
        for f in arm_files(dir) {
            let _ = std::fs::remove_file(f);
        }
    }
    Ok(())
}

/// The rows files of a compare or sweep in `dir` (`replications-*.csv`).
fn arm_files(dir: &Path) -> Vec<PathBuf> {
    std::fs::read_dir(dir)
        .map(|d| {
            d.filter_map(|e| e.ok().map(|e| e.path()))
                .filter(|p| {
                    p.file_name()
                        .and_then(|n| n.to_str())
                        .is_some_and(|n| n.starts_with("replications-") && n.ends_with(".csv"))
                })
                .collect()
        })
        .unwrap_or_default()
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
                if old.is_none() {
                    arms::check_unknown(dir)?;
                }
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
                let (rows, dropped) = read_journal(dir)?;
                say_dropped(dir, dropped);
                done_rows = rows
                    .into_iter()
                    .filter(|r| range.contains(&r.replication))
                    .collect();
            }
            std::fs::create_dir_all(dir)
                .map_err(|e| crate::io_failure(&dir.display().to_string(), &e))?;
            dialtone_study::folder::begin(dir).map_err(StudyError::from)?;
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
    let costs = CostLog::default();
    let on_done = |row: &Row, events: u64, micros: u64| {
        if let Some(j) = &journal {
            j.append(row);
        }
        costs.push(0, row.replication, events, micros);
        bar.inc(1);
    };
    let mut rows = run_replications_with(&sc, seed, &todo, o.threads, &on_done)?;
    bar.finish_and_clear();
    if let Some(s) = cost::slow(&costs.into_sorted()) {
        let replay = dialtone_study::replay_command(&sc, seed, s.worst.replication);
        eprintln!(
            "{}: warning: {}",
            scenario.display(),
            s.message("", &replay)
        );
    }
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

/// Says on stderr how many damaged journal lines `--resume` dropped (their replications
/// run again).
fn say_dropped(dir: &Path, dropped: usize) {
    if dropped > 0 {
        eprintln!(
            "{}: --resume dropped {dropped} damaged journal line{} (a bad or missing checksum, a torn or unreadable line); {} again",
            dir.join("journal.jsonl").display(),
            if dropped == 1 { "" } else { "s" },
            if dropped == 1 {
                "its replication runs"
            } else {
                "their replications run"
            }
        );
    }
}

/// A value of metric `name` for people: durations as "1h51m" (signed for a difference),
/// `split_brain_ms` too; counts and user-minutes with thousands separators; hours and
/// shares with decimals; "-" for null.
fn show(name: &str, v: Option<f64>) -> String {
    let Some(x) = v else {
        return "-".into();
    };
    let sign = if x < 0.0 { "-" } else { "" };
    if name.ends_with("_s") {
        format!("{sign}{}", human_duration(x.abs()))
    } else if name == "split_brain_ms" {
        // Summed over databases: database-time, as `run` says it.
        format!("{:.2} database-h", x / 3_600_000.0)
    } else if name == "availability" {
        // A share near 1: five decimals, so a significant difference is not "0.000".
        format!("{x:.5}")
    } else if name.ends_with("_hours") {
        format!("{x:.3}")
    } else if x.abs() >= 100.0 || x == x.trunc() {
        human_count(x)
    } else {
        format!("{x:.2}")
    }
}

fn stat_line(o: &mut impl Write, name: &str, s: &Stat) -> std::io::Result<()> {
    let show = |v| show(name, v);
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
fn compare_json(c: &Comparison) -> CompareJson<'_> {
    CompareJson {
        comparison: c,
        verdict: verdict(c),
    }
}

/// `compare --format json`: summary.json's document, its keys in its order (`kind` and
/// `schema_version` first, as every output), then the verdict.
#[derive(serde::Serialize)]
struct CompareJson<'a> {
    #[serde(flatten)]
    comparison: &'a Comparison,
    verdict: Vec<String>,
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
        writeln!(w, "  {}: {}.", s.arm, headline(&s.summary))?;
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

/// What `compare` compares, besides the file.
pub(crate) struct CompareArgs<'a> {
    /// `--strategies`, comma-separated.
    pub(crate) strategies: Option<&'a str>,
    /// `--variant`s.
    pub(crate) variants: &'a [String],
    /// `--shard i/n`.
    pub(crate) shard: Option<&'a str>,
    /// `--resume`.
    pub(crate) resume: bool,
}

/// The scenario file's JSON (variants and sweep points are set in it).
pub(crate) fn json_of(path: &Path) -> Result<serde_json::Value, Failure> {
    let src = dialtone_scenario::validate::read(path)?;
    Ok(dialtone_scenario::validate::parse_json(
        &src.file, &src.text,
    )?)
}

/// Runs the arms of a compare or sweep (`runs[k]`: scenario and seed) under `meta`: its
/// shard's replications of every arm, skipping those in the journal with `--resume`,
/// journaling each finished one when there is an --out. Rows per arm, sorted.
fn run_arms_out(
    runs: &[(&dialtone_scenario::Scenario, u64)],
    meta: &ArmsMeta,
    resume: bool,
    o: &Opts<'_>,
) -> Result<Vec<Vec<Row>>, Failure> {
    if resume && o.out.is_none() {
        return Err(Failure::Input(
            "--resume needs --out (the folder to continue)".into(),
        ));
    }
    let mut done: Vec<Vec<Row>> = vec![Vec::new(); runs.len()];
    let journal = match o.out {
        Some(dir) => {
            check_out(dir, o.force, resume)?;
            if resume {
                let dropped;
                (done, dropped) = arms::resume(dir, meta)?;
                say_dropped(dir, dropped);
            }
            arms::write_meta(dir, meta)?;
            Some(ArmJournal::open(dir)?)
        }
        None => None,
    };
    let todo = arms::todo(meta, &done);
    let total = (meta.range().end - meta.range().start) * runs.len() as u64;
    let bar = progress(total, o.quiet);
    bar.set_position(total - todo.iter().map(|t| t.len() as u64).sum::<u64>());
    let costs = CostLog::default();
    let on_done = |k: usize, row: &Row, events: u64, micros: u64| {
        if let Some(j) = &journal {
            j.append(k, row);
        }
        costs.push(k, row.replication, events, micros);
        bar.inc(1);
    };
    let new = arms::run_arms_with(runs, &todo, o.threads, &on_done)?;
    bar.finish_and_clear();
    warn_slow(runs, meta, costs);
    Ok(done
        .into_iter()
        .zip(new)
        .map(|(mut d, n)| {
            d.extend(n);
            d.sort_by_key(|r| r.replication);
            d
        })
        .collect())
}

/// Warns on stderr when a replication of a compare or sweep cost far more than the first
/// ones (`dialtone_study::cost`).
fn warn_slow(runs: &[(&dialtone_scenario::Scenario, u64)], meta: &ArmsMeta, costs: CostLog) {
    if let Some(s) = cost::slow(&costs.into_sorted()) {
        let k = s.worst.arm;
        let (sc, seed) = runs[k];
        let replay = dialtone_study::replay_command(sc, seed, s.worst.replication);
        let arm = meta.arms.get(k).map_or("", |a| a.label.as_str());
        eprintln!("{}: warning: {}", sc.file, s.message(arm, &replay));
    }
}

fn replications(o: &Opts<'_>, default: u64) -> Result<u64, Failure> {
    match o.replications.unwrap_or(default) {
        0 => Err(Failure::Input("--replications must be at least 1".into())),
        n => Ok(n),
    }
}

pub(crate) fn compare(path: &Path, a: &CompareArgs<'_>, o: &Opts<'_>) -> Result<(), Failure> {
    let sc = load(path, None)?;
    let json = json_of(path)?;
    let list = a
        .strategies
        .unwrap_or("")
        .split(',')
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(|s| s.parse::<Strategy>())
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| Failure::Input(format!("--strategies: {e}")))?;
    let variants = a
        .variants
        .iter()
        .map(|v| parse_variant(v))
        .collect::<Result<Vec<_>, _>>()?;
    let base = compare::Base {
        scenario: &sc,
        json: &json,
    };
    let arms = compare::arms(&base, &variants, &list)?;
    for w in compare::size_warnings(&arms) {
        eprintln!("{}: warning: {w}", path.display());
    }
    let opts = compare::ArmOptions {
        arms: &arms,
        replications: replications(o, sc.replications)?,
        seed: o.seed.unwrap_or(sc.seed),
        threads: o.threads,
        independent: false,
    };
    let meta = opts.meta(a.shard.map(Shard::parse).transpose()?);
    let runs: Vec<_> = arms
        .iter()
        .zip(&meta.arms)
        .map(|(a, m)| (&a.scenario, m.seed))
        .collect();
    let rows = run_arms_out(&runs, &meta, a.resume, o)?;
    let c = Comparison::assemble(compare::heads(&arms, &meta), &meta, rows);
    match o.format {
        Format::Text => print_compare(&c),
        Format::Json => print_json(&to_json(&compare_json(&c))?)?,
    }
    if let Some(dir) = o.out {
        compare::write(dir, &meta, &c)?;
    }
    maybe_report(o)
}

/// `compare`'s text: the verdict first, then the arms, every metric's mean and paired
/// difference.
fn print_compare(c: &Comparison) {
    let width = c
        .strategies
        .iter()
        .map(|s| s.arm.chars().count())
        .max()
        .unwrap_or(0)
        .max(12);
    let mut w = std::io::stdout().lock();
    let _ = (|| -> std::io::Result<()> {
        print_verdict(&mut w, c)?;
        for s in &c.strategies {
            if let Some(v) = &s.variant {
                let what = match (&v.file, v.settings.is_empty()) {
                    (Some(f), _) => format!("the file {f}"),
                    (None, true) => "the file as given".to_owned(),
                    (None, false) => v
                        .settings
                        .iter()
                        .map(|(p, x)| format!("{p}={x}"))
                        .collect::<Vec<_>>()
                        .join(", "),
                };
                writeln!(w, "  arm {}: strategy {}, {what}", s.arm, s.strategy)?;
            }
        }
        write!(w, "  {:<36}", "metric (mean)")?;
        for s in &c.strategies {
            write!(w, " {:>width$}", s.arm)?;
        }
        writeln!(w)?;
        for (i, (name, _)) in dialtone_study::COLUMNS.iter().enumerate() {
            write!(w, "  {name:<36}")?;
            for s in &c.strategies {
                write!(w, " {:>width$}", show(name, s.summary.metrics[i].1.mean))?;
            }
            writeln!(w)?;
        }
        for (arm, diffs) in &c.differences {
            writeln!(
                w,
                "\n  {} − {} (paired, 95% CI; * significant)",
                arm, c.strategies[0].arm
            )?;
            for (name, d) in diffs {
                let ci = d.ci95.map_or("-".into(), |[lo, hi]| {
                    format!("[{}, {}]", show(name, Some(lo)), show(name, Some(hi)))
                });
                writeln!(
                    w,
                    "  {name:<36} {:>12} {ci:>28} {}",
                    show(name, d.mean),
                    if d.significant { "*" } else { "" }
                )?;
            }
        }
        Ok(())
    })();
}

pub(crate) fn sweep(
    path: &Path,
    sets: &[String],
    shard: Option<&str>,
    resume: bool,
    o: &Opts<'_>,
) -> Result<(), Failure> {
    let file = path.display().to_string();
    let base = json_of(path)?;
    let name = dialtone_scenario::validate::stem(path);
    let axes = sets
        .iter()
        .map(|s| parse_set(s))
        .collect::<Result<Vec<_>, _>>()?;
    if axes.is_empty() {
        return Err(Failure::Input(
            "sweep needs at least one --set PATH=V1,V2".into(),
        ));
    }
    // Every grid point is validated before any runs.
    let pts = sweep::points(&file, &name, &base, &axes)?;
    let n = replications(o, pts[0].2.replications)?;
    let seeded: Vec<_> = pts
        .iter()
        .map(|(l, _, sc)| (l.as_str(), sc, o.seed.unwrap_or(sc.seed)))
        .collect();
    let meta = ArmsMeta::new(
        Kind::Sweep,
        &seeded,
        n,
        shard.map(Shard::parse).transpose()?,
    );
    let runs: Vec<_> = seeded.iter().map(|(_, sc, s)| (*sc, *s)).collect();
    let rows = run_arms_out(&runs, &meta, resume, o)?;
    let s = SweepSummary::of_points(&name, &axes, &pts, &meta, &rows);
    match o.format {
        Format::Text => print_sweep(&s),
        Format::Json => print_json(&to_json(&s)?)?,
    }
    if let Some(dir) = o.out {
        sweep::write(dir, &meta, &s, &rows)?;
    }
    maybe_report(o)
}

fn print_sweep(s: &SweepSummary) {
    let headline = [
        "user_minutes_without_send_receive",
        "time_to_service_p95_s",
        "mail_not_delivered",
    ];
    let mut w = std::io::stdout().lock();
    let n = s.points.first().map_or(0, |p| p.summary.replications);
    let _ = writeln!(
        w,
        "sweep {}   {} points x {n} replications",
        s.scenario,
        s.points.len()
    );
    for p in &s.points {
        let _ = write!(w, "  {:<48}", p.point);
        for h in headline {
            let _ = write!(
                w,
                " {h}={} ",
                show(h, p.summary.metric(h).and_then(|st| st.mean))
            );
        }
        let _ = writeln!(w);
    }
}

pub(crate) fn merge(dirs: &[PathBuf], out: &Path, force: bool) -> Result<(), Failure> {
    let refs: Vec<&Path> = dirs.iter().map(PathBuf::as_path).collect();
    let first = refs.first().map(|d| d.join("study.json"));
    if let Some(f) = first
        && dialtone_study::io::kind_of(&f).ok() == Some(Kind::ArmsMeta)
    {
        return merge_arms(&refs, out, force);
    }
    let (m, rows) = dialtone_study::io::merge(&refs)?;
    check_out(out, force, false)?;
    let summary = summarize(&m, &rows);
    print_study(&summary);
    write_study(out, &m, &rows, &summary)?;
    Ok(())
}

/// `merge` of the shards of a compare or a sweep.
fn merge_arms(refs: &[&Path], out: &Path, force: bool) -> Result<(), Failure> {
    let meta = dialtone_study::arms::read_meta(refs[0])?;
    check_out(out, force, false)?;
    if meta.summary == Kind::Sweep {
        let (m, s, rows) = sweep::merge(refs)?;
        print_sweep(&s);
        sweep::write(out, &m, &s, &rows)?;
    } else {
        let (m, c) = compare::merge(refs)?;
        print_compare(&c);
        compare::write(out, &m, &c)?;
    }
    Ok(())
}
