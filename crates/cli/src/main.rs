//! `dialtone`: the command-line front end. Thin: it parses arguments, calls the library
//! crates, prints, writes files atomically (`dialtone_study::io::write_atomic`), and maps errors to exit codes: 0 ok, 1 a run
//! failed, 2 bad input.
#![warn(missing_docs, unreachable_pub)]

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

mod args;
mod authoring;
mod bench;
mod study;

use clap::{Parser, Subcommand};
use dialtone_engine::SimDuration;
// Durations for people, as the reports write them.
use dialtone_scenario::Strategy;
use dialtone_scenario::spec::ActionSpec;
use dialtone_scenario::{Scenario, ScenarioError, Summary};
use dialtone_study::human::human_duration as human;
use dialtone_study::io::WriteError;

/// A discrete-event disaster simulator for Exchange-style mail systems.
#[derive(Debug, Parser)]
#[command(name = "dialtone", version = authoring::VERSION, about, long_about = None)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Run one replication of a scenario and print its summary.
    ///
    /// Example: dialtone run scenarios/site-failure-dac.json --out results/
    Run {
        /// The scenario file.
        scenario: PathBuf,
        /// Use this built-in strategy instead of the file's.
        #[arg(long)]
        strategy: Option<String>,
        /// Use this master seed instead of the file's.
        #[arg(long)]
        seed: Option<u64>,
        /// Set a value in the file before validation (repeatable): PATH=VALUE with PATH as
        /// in `sweep --set` (topology.dns.ttl, clients.1.share, strategy) and VALUE JSON
        /// or text (1h). Replays a compare variant or a sweep point.
        #[arg(long = "set", value_name = "PATH=VALUE")]
        sets: Vec<String>,
        /// Replay replication R of a study (its random streams are (seed, R)); a study
        /// whose replication fails prints this command. 0 to 9,999,999.
        #[arg(long, default_value_t = 0, value_parser = args::replication)]
        replication: u64,
        /// Write summary.json and timeline.csv (and trace.jsonl with --trace) here.
        #[arg(long)]
        out: Option<PathBuf>,
        /// Also write every trace record to OUT/trace.jsonl.
        #[arg(long, requires = "out")]
        trace: bool,
        /// Also write OUT/report.html.
        #[arg(long, requires = "out")]
        report: bool,
        /// Overwrite OUT if it already holds results.
        #[arg(long)]
        force: bool,
        /// What stdout prints: `text` for people, `json` for programs (summary.json's
        /// document; nothing else goes to stdout).
        #[arg(long, value_enum, default_value_t = Format::Text)]
        format: Format,
    },
    /// Build report.html from an existing output folder (run, study, compare or sweep).
    ///
    /// Example: dialtone report results/
    Report {
        /// The output folder.
        dir: PathBuf,
    },
    /// Run many replications of a scenario in parallel and summarise them.
    ///
    /// Example: dialtone study scenarios/site-failure-dac.json --replications 1000 --out study/
    Study {
        /// The scenario file.
        scenario: PathBuf,
        /// Use this strategy instead of the file's.
        #[arg(long)]
        strategy: Option<String>,
        /// Run only shard i of n (1-based), e.g. 2/3; merge the shards with `dialtone merge`.
        #[arg(long)]
        shard: Option<String>,
        /// Continue an interrupted study in --out without redoing finished replications.
        #[arg(long)]
        resume: bool,
        #[command(flatten)]
        opts: RunOpts,
    },
    /// Run several strategies and/or variants of the scenario on the same replications and
    /// compare them (paired, against the first arm).
    ///
    /// The arms: without --variant, the strategies of --strategies. With --variant, the
    /// variants are `base` (the file as given) then each --variant in order; without
    /// --strategies each runs its own file's strategy (arm label: the variant name), with
    /// it every variant x every strategy, variant slowest (label: VARIANT+STRATEGY). The
    /// first arm is the baseline. Every arm runs the same replications with the same seed:
    /// the same failures, mail and clients (common random numbers).
    ///
    /// Example: dialtone compare scenarios/db-corruption-dial-tone-same-server.json --strategies restore-only,dial-tone-same-server --replications 200
    ///
    /// Example: dialtone compare scenarios/site-failure-dac.json --variant ttl-1h:topology.dns.ttl=1h --variant no-dac:topology.dag.dac_mode=false,strategy=datacenter-switchover-non-dac --replications 200
    Compare {
        /// The scenario file.
        scenario: PathBuf,
        /// Comma-separated strategies, e.g. restore-only,dial-tone-same-server.
        #[arg(long)]
        strategies: Option<String>,
        // Not a doc comment: rustdoc would read the [1] as a link.
        #[arg(
            long = "variant",
            help = "A variant of the scenario (repeatable): NAME:PATH=VALUE[,PATH=VALUE...] sets values in the file (PATH as in `sweep --set`: topology.dns.ttl, clients.1.share or clients[1].share, strategy), or NAME=FILE runs another scenario file"
        )]
        variants: Vec<String>,
        /// Run only shard i of n (1-based) of every arm, e.g. 2/3; merge the shards with
        /// `dialtone merge`.
        #[arg(long)]
        shard: Option<String>,
        /// Continue an interrupted compare in --out without redoing finished replications.
        #[arg(long)]
        resume: bool,
        #[command(flatten)]
        opts: RunOpts,
    },
    /// Run a study at every point of a grid of scenario parameters.
    ///
    /// Every point runs the same replications with the same seed (common random numbers).
    ///
    /// Example: dialtone sweep scenarios/db-corruption-dial-tone-same-server.json --set topology.dns.ttl=5m..1h/6 --set strategy=restore-only,dial-tone-same-server --replications 100
    Sweep {
        /// The scenario file.
        scenario: PathBuf,
        // Not a doc comment: rustdoc would read the [1] as a link.
        #[arg(
            long = "set",
            required = true,
            help = "One dimension of the grid (repeatable). PATH=V1,V2,...: PATH is a JSON path (topology.dns.ttl; a list element is clients[1].share or clients.1.share); a value is JSON (10, 0.5, true) or text (300s). A value may be a range: LO..HI/N (N evenly spaced values, ends included: 5m..1h/6) or LO..HI:step=S (LO, LO+S, ... while at most HI: HI itself only when it falls on a step; 60..3600:step=600), numbers or durations. Linked paths vary together as one dimension: 'clients[0].share,clients[1].share=0.2,0.8;0.5,0.5' (one tuple a point, separated by ';'). strategy=A,B sweeps the strategy. At most 10,000 points"
        )]
        sets: Vec<String>,
        /// Run only shard i of n (1-based) of every point, e.g. 2/3; merge the shards with
        /// `dialtone merge`.
        #[arg(long)]
        shard: Option<String>,
        /// Continue an interrupted sweep in --out without redoing finished replications.
        #[arg(long)]
        resume: bool,
        #[command(flatten)]
        opts: RunOpts,
    },
    /// Merge the output folders of a sharded study, compare or sweep into the output of
    /// the whole.
    ///
    /// Example: dialtone merge shard-1 shard-2 shard-3 --out study/
    Merge {
        /// Shard output folders.
        #[arg(required = true)]
        dirs: Vec<PathBuf>,
        /// Where to write the merged study.
        #[arg(long)]
        out: PathBuf,
        /// Overwrite --out if it already holds results.
        #[arg(long)]
        force: bool,
    },
    /// Check scenario files and report every problem found.
    ///
    /// Example: dialtone validate scenarios/*.json
    Validate {
        /// Scenario files.
        #[arg(required = true)]
        files: Vec<PathBuf>,
    },
    /// List built-in strategies, the shipped scenarios or the playbook actions.
    ///
    /// Example: dialtone list strategies
    List {
        /// `strategies`, `scenarios` or `actions`.
        what: ListWhat,
        /// Folder of scenarios (for `list scenarios`).
        #[arg(long, default_value = "scenarios")]
        dir: PathBuf,
    },
    /// Parse durations as scenario files do and print them in milliseconds and in
    /// canonical form.
    ///
    /// Example: dialtone duration 90s 2h30m 1.5d
    Duration {
        /// Durations such as "250ms", "90s", "5m", "2h30m", "3d" or "1.5h".
        #[arg(required = true)]
        values: Vec<String>,
    },
    /// Run the benchmark set (every scenario of scenarios/ and scaled copies of
    /// enterprise-two-sites) and check each run's fingerprint against the recorded one.
    ///
    /// Prints per scenario: events, events/s, replications/s, peak memory and the
    /// fingerprint. A changed fingerprint exits 1 unless --update. See docs/PERFORMANCE.md.
    ///
    /// Example: dialtone bench --quick --format json
    Bench(bench::BenchArgs),
    #[command(flatten)]
    Authoring(authoring::Authoring),
}

/// Options every study-like command takes.
#[derive(Debug, clap::Args)]
struct RunOpts {
    /// Replications, 1 to 10,000,000 (default: the file's run.replications, which has
    /// the same limit).
    #[arg(long, value_parser = args::replications)]
    replications: Option<u64>,
    /// Worker threads, at most 256 (default 0: one a core). Results do not depend on it.
    #[arg(long, default_value_t = 0, value_parser = args::threads)]
    threads: usize,
    /// Master seed (default: the file's).
    #[arg(long)]
    seed: Option<u64>,
    /// Write the results here.
    #[arg(long)]
    out: Option<PathBuf>,
    /// Overwrite --out if it already holds results.
    #[arg(long)]
    force: bool,
    /// No progress bar.
    #[arg(long)]
    quiet: bool,
    /// Also write OUT/report.html.
    #[arg(long, requires = "out")]
    report: bool,
    /// What stdout prints: `text` for people, `json` for programs (summary.json's
    /// document, with the verdict for compare; nothing else goes to stdout).
    #[arg(long, value_enum, default_value_t = Format::Text)]
    format: Format,
}

/// What stdout prints.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub(crate) enum Format {
    /// A summary for people.
    Text,
    /// One JSON document (the keys of summary.json).
    Json,
}

impl RunOpts {
    fn opts(&self) -> study::Opts<'_> {
        study::Opts {
            replications: self.replications,
            threads: self.threads,
            seed: self.seed,
            out: self.out.as_deref(),
            quiet: self.quiet,
            force: self.force,
            report: self.report,
            format: self.format,
        }
    }
}

#[derive(Debug, Clone, Copy, clap::ValueEnum)]
enum ListWhat {
    Strategies,
    Scenarios,
    Actions,
}

/// A count for people: "3,704,112".
fn count(n: u64) -> String {
    dialtone_study::human::human_count(n as f64)
}

/// Errors the binary reports; each maps to an exit code.
pub(crate) enum Failure {
    /// Bad input: exit 2.
    Input(String),
    /// A run failed: exit 1.
    Run(String),
}

impl From<WriteError> for Failure {
    fn from(e: WriteError) -> Self {
        io_failure(&e.path.display().to_string(), &e.source)
    }
}

/// A path the user gave that cannot be read or written is bad input (exit 2): the
/// message names the path, the cause and what to do.
/// A folder refusal is bad input (exit 2); an I/O error names its fix as [`io_failure`].
pub(crate) fn folder_failure(e: dialtone_study::folder::FolderError) -> Failure {
    match e {
        dialtone_study::folder::FolderError::Io { path, source } => {
            io_failure(&path.display().to_string(), &source)
        }
        other => Failure::Input(other.to_string()),
    }
}

pub(crate) fn io_failure(path: &str, e: &std::io::Error) -> Failure {
    use std::io::ErrorKind as K;
    let fix = match e.kind() {
        K::PermissionDenied | K::ReadOnlyFilesystem => {
            "make it writable, or choose another --out folder"
        }
        K::NotADirectory | K::AlreadyExists => {
            "a file is in the way where a folder should be: choose another path, or move the file"
        }
        K::IsADirectory => "a folder is in the way where a file should be: choose another path",
        K::NotFound => "check that the path exists and can hold files, or choose another one",
        K::StorageFull | K::QuotaExceeded => "free some space, or choose another --out folder",
        _ => "check the path and its permissions",
    };
    Failure::Input(format!("{path}: {e}; {fix}"))
}

impl From<ScenarioError> for Failure {
    fn from(e: ScenarioError) -> Self {
        Failure::Input(e.to_string())
    }
}

/// The output folder `c` writes, locked for the whole command (docs/METRICS.md, "Output
/// folders"): a second writer exits 2 naming the holder.
fn lock_out(c: &Command) -> Result<Option<dialtone_study::folder::FolderLock>, Failure> {
    let dir = match c {
        Command::Run { out, .. } => out.as_deref(),
        // Nothing to lock (nor to create) when the folder is not there.
        Command::Report { dir } => Some(dir.as_path()).filter(|d| d.is_dir()),
        Command::Study { opts, .. }
        | Command::Compare { opts, .. }
        | Command::Sweep { opts, .. } => opts.out.as_deref(),
        Command::Merge { out, .. } => Some(out.as_path()),
        _ => None,
    };
    let Some(dir) = dir else { return Ok(None) };
    let line = std::env::args().collect::<Vec<_>>().join(" ");
    let lock = dialtone_study::folder::FolderLock::acquire(dir, &line).map_err(folder_failure)?;
    if lock.removed_temporaries > 0 {
        eprintln!(
            "{}: removed {} temporary file(s) left by an interrupted writer",
            dir.display(),
            lock.removed_temporaries
        );
    }
    Ok(Some(lock))
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let res = lock_out(&cli.command).and_then(|lock| {
        let res = dispatch(cli.command);
        drop(lock);
        res
    });
    match res {
        Ok(()) => ExitCode::SUCCESS,
        Err(Failure::Input(m)) => {
            eprintln!("dialtone: {m}");
            ExitCode::from(2)
        }
        Err(Failure::Run(m)) => {
            eprintln!("dialtone: {m}");
            ExitCode::from(1)
        }
    }
}

fn dispatch(command: Command) -> Result<(), Failure> {
    match command {
        Command::Run {
            scenario,
            strategy,
            sets,
            seed,
            replication,
            out,
            trace,
            report,
            force,
            format,
        } => check_run_out(out.as_deref(), force)
            .and_then(|()| {
                let what = RunWhat {
                    strategy: strategy.as_deref(),
                    sets: &sets,
                    seed,
                    replication,
                    format,
                };
                run(&scenario, &what, out.as_deref(), trace)
            })
            .and_then(|()| match (report, out.as_deref()) {
                (true, Some(d)) => write_report(d),
                _ => Ok(()),
            }),
        Command::Report { dir } => write_report(&dir),
        Command::Study {
            scenario,
            strategy,
            shard,
            resume,
            opts,
        } => study::study(
            &scenario,
            strategy.as_deref(),
            shard.as_deref(),
            resume,
            &opts.opts(),
        ),
        Command::Compare {
            scenario,
            strategies,
            variants,
            shard,
            resume,
            opts,
        } => {
            let a = study::CompareArgs {
                strategies: strategies.as_deref(),
                variants: &variants,
                shard: shard.as_deref(),
                resume,
            };
            study::compare(&scenario, &a, &opts.opts())
        }
        Command::Sweep {
            scenario,
            sets,
            shard,
            resume,
            opts,
        } => study::sweep(&scenario, &sets, shard.as_deref(), resume, &opts.opts()),
        Command::Merge { dirs, out, force } => study::merge(&dirs, &out, force),
        Command::Validate { files } => validate(&files),
        Command::List { what, dir } => list(what, &dir),
        Command::Duration { values } => duration(&values),
        Command::Bench(b) => bench::run(&b),
        Command::Authoring(a) => authoring::run(a),
    }
}

pub(crate) fn load(path: &Path, strategy: Option<&str>) -> Result<Scenario, Failure> {
    let dialtone_scenario::validate::Source { file, name, text } =
        dialtone_scenario::validate::read(path)?;
    let spec = dialtone_scenario::validate::parse_spec(&file, &text)?;
    let sc = dialtone_scenario::validate::validate(&file, &name, spec, strategy)?;
    for w in &sc.warnings {
        eprintln!("{file}: warning: {w}");
    }
    Ok(sc)
}

/// Which replication `dialtone run` runs.
struct RunWhat<'a> {
    strategy: Option<&'a str>,
    sets: &'a [String],
    seed: Option<u64>,
    replication: u64,
    format: Format,
}

/// The scenario of `dialtone run`: the file, with `--set` values when there are any.
fn run_scenario(path: &Path, what: &RunWhat<'_>) -> Result<Scenario, Failure> {
    if what.sets.is_empty() {
        return load(path, what.strategy);
    }
    let mut sets = what
        .sets
        .iter()
        .map(|s| {
            dialtone_study::compare::setting(s).map_err(|why| {
                Failure::Input(format!(
                    "--set {s:?}: {why}; write PATH=VALUE (e.g. topology.dns.ttl=1h)"
                ))
            })
        })
        .collect::<Result<Vec<_>, _>>()?;
    if let Some(s) = what.strategy {
        sets.push((
            dialtone_study::sweep::STRATEGY.to_owned(),
            serde_json::Value::String(s.to_owned()),
        ));
    }
    let json = study::json_of(path)?;
    let file = path.display().to_string();
    let name = dialtone_scenario::validate::stem(path);
    let sc = dialtone_study::sweep::scenario_at(&file, &name, &json, &sets, "--set")?;
    for w in &sc.warnings {
        eprintln!("{file}: warning: {w}");
    }
    Ok(sc)
}

fn run(path: &Path, what: &RunWhat<'_>, out: Option<&Path>, trace: bool) -> Result<(), Failure> {
    let sc = run_scenario(path, what)?;
    let seed = what.seed.unwrap_or(sc.seed);
    let r = what.replication;
    let failed = |e| Failure::Run(format!("{}: {e}", path.display()));
    // With --out the trace streams to the folder's files as the run goes (memory does
    // not grow with the trace); they take their final names in write_run.
    let (summary, files) = match out {
        Some(dir) => {
            let existed = dir.exists();
            let files = dialtone_study::io::RunTrace::create(dir, trace)?;
            match dialtone_scenario::run_with(&sc, seed, r, files) {
                Ok((s, f)) => (s, Some(f)),
                Err(e) => {
                    if !existed {
                        let _ = std::fs::remove_dir(dir);
                    }
                    return Err(failed(e));
                }
            }
        }
        None => (dialtone_scenario::run(&sc, seed, r).map_err(failed)?, None),
    };
    match what.format {
        Format::Text => print_summary(&summary),
        Format::Json => study::print_json(&dialtone_study::io::to_json(&summary)?)?,
    }
    if let (Some(dir), Some(files)) = (out, files) {
        dialtone_study::io::write_run(dir, &summary, files)?;
    }
    Ok(())
}

/// Prints a line to stdout; a closed pipe (`| head`) is not an error: the process just
/// stops printing.
macro_rules! out {
    ($($arg:tt)*) => {{
        let mut o = std::io::stdout().lock();
        if writeln!(o, $($arg)*).is_err() {
            std::process::exit(0);
        }
    }};
}

/// A run's output folder that already holds results is overwritten only with --force.
fn check_run_out(out: Option<&Path>, force: bool) -> Result<(), Failure> {
    match out {
        Some(d) if !force && d.join("summary.json").exists() => Err(Failure::Input(format!(
            "{} already holds results; use --force to overwrite them",
            d.display()
        ))),
        Some(d) => {
            // A trace of an earlier run must not be listed in this run's manifest.
            let _ = std::fs::remove_file(d.join("trace.jsonl"));
            Ok(())
        }
        None => Ok(()),
    }
}

/// Writes DIR/report.html and says where.
pub(crate) fn write_report(dir: &Path) -> Result<(), Failure> {
    let path = dialtone_report::write(dir).map_err(|e| Failure::Input(e.to_string()))?;
    eprintln!("report: {}", path.display());
    Ok(())
}

fn opt_s(v: Option<f64>) -> String {
    v.map_or("never".into(), human)
}

fn print_summary(s: &Summary) {
    let m = &s.metrics;
    let mail = &m.mail;
    let mut o = std::io::stdout().lock();
    let _ = (|| -> std::io::Result<()> {
        writeln!(
            o,
            "scenario {}   strategy {}   seed {}",
            s.scenario, s.strategy, s.seed
        )?;
        writeln!(o, "  {}", dialtone_study::verdict::run_headline(s))?;
        writeln!(
            o,
            "  users without send/receive   {:>14.0} user-minutes",
            m.user_minutes_without_send_receive
        )?;
        writeln!(
            o,
            "  users without history       {:>14.0} user-minutes  (+ {:.0} reading offline copies)",
            m.user_minutes_without_history, m.user_minutes_offline_readable
        )?;
        writeln!(
            o,
            "  service back for 50% / 95% / all   {} / {} / {}",
            opt_s(m.time_to_service_p50_s),
            opt_s(m.time_to_service_p95_s),
            opt_s(m.time_to_service_all_s)
        )?;
        writeln!(
            o,
            "  history back for all        {}",
            opt_s(m.time_to_history_all_s)
        )?;
        writeln!(
            o,
            "  split brain                 {:.1} database-hours, {} messages",
            m.split_brain_ms as f64 / 3_600_000.0,
            m.split_brain_messages
        )?;
        writeln!(
            o,
            "  operators {:.2} h, helpdesk {:.2} h ({} profile changes), {} refused actions",
            m.operator_hours, m.helpdesk_hours, m.profile_changes, m.failed_actions
        )?;
        writeln!(
            o,
            "  mail accepted {}: on time {}, late {}, bounced {}, lost silently {}, queued {} (recovered {}, left in dial tone {})",
            count(mail.accepted),
            count(mail.delivered_on_time),
            count(mail.delivered_late),
            count(mail.bounced),
            count(mail.lost_silently),
            count(mail.queued_at_end),
            count(mail.recovered),
            count(mail.left_in_dial_tone)
        )?;
        match &s.playbook.stuck {
            Some(why) => writeln!(o, "  playbook stuck: {why}")?,
            None if s.playbook.started => {
                writeln!(o, "  playbook finished ({} steps)", s.playbook.steps.len())?
            }
            None => {}
        }
        Ok(())
    })();
}

fn validate(files: &[PathBuf]) -> Result<(), Failure> {
    let mut bad = Vec::new();
    for f in files {
        match load(f, None) {
            Ok(sc) => out!(
                "{}: ok ({} databases, {} users, strategy {})",
                f.display(),
                sc.world.databases.len(),
                sc.world.cohorts.iter().map(|c| c.users).sum::<u64>(),
                sc.strategy
            ),
            Err(Failure::Input(m)) | Err(Failure::Run(m)) => bad.push(m),
        }
    }
    if bad.is_empty() {
        Ok(())
    } else {
        Err(Failure::Input(bad.join("\n")))
    }
}

fn list(what: ListWhat, dir: &Path) -> Result<(), Failure> {
    match what {
        ListWhat::Strategies => {
            for s in Strategy::ALL {
                out!("{:<32} {}", s.name(), s.description());
            }
        }
        ListWhat::Actions => ActionSpec::NAMES.iter().for_each(|a| out!("{a}")),
        ListWhat::Scenarios => {
            let mut files: Vec<PathBuf> = std::fs::read_dir(dir)
                .map_err(|e| {
                    Failure::Input(format!("{}: cannot list scenarios: {e}", dir.display()))
                })?
                .filter_map(|e| e.ok().map(|e| e.path()))
                .filter(|p| p.extension().is_some_and(|x| x == "json"))
                .collect();
            files.sort();
            for f in files {
                let desc = std::fs::read_to_string(&f)
                    .ok()
                    .and_then(|t| dialtone_scenario::validate::parse_json("", &t).ok())
                    .and_then(|v| {
                        v.get("description")
                            .and_then(|d| d.as_str())
                            .map(str::to_owned)
                    })
                    .unwrap_or_default();
                let first = desc.split(". ").next().unwrap_or("");
                out!(
                    "{:<34} {first}",
                    f.file_stem()
                        .map(|s| s.to_string_lossy())
                        .unwrap_or_default()
                );
            }
        }
    }
    Ok(())
}

fn duration(values: &[String]) -> Result<(), Failure> {
    let mut out = std::io::stdout().lock();
    let mut bad = Vec::new();
    for v in values {
        match v.parse::<SimDuration>() {
            Ok(d) => {
                // A closed pipe (`| head`) is not an error worth reporting.
                if writeln!(out, "{v}\t{} ms\t{d}", d.as_millis()).is_err() {
                    return Ok(());
                }
            }
            Err(e) => bad.push(e.to_string()),
        }
    }
    if bad.is_empty() {
        Ok(())
    } else {
        Err(Failure::Input(bad.join("\n")))
    }
}
