//! `dialtone-report`: one self-contained HTML page (inline SVG and CSS, no scripts, no
//! fetches) per output folder of `dialtone run`, `study`, `compare` or `sweep`, readable on
//! a phone and on paper.
//!
//! The report reads only the folder's files (summary.json, timeline.csv,
//! replications.csv), and only from a folder its writer finished (its manifest is there and
//! matches: `dialtone_study::folder`), never runs a simulation, and writes well-formed XHTML so it can be
//! checked with an XML parser. Charts are hand-written SVG ([`svg`]): exact, small, and
//! free of font or rendering dependencies.
//!
//! The files are read with `dialtone_study::io` into the very types that wrote them
//! ([`Summary`], [`StudySummary`], [`Comparison`], [`SweepSummary`](dialtone_study::sweep::SweepSummary)): the folder's kind
//! is summary.json's `kind`, and a missing or renamed key, another `kind` or
//! `schema_version` is an error naming the file and the key, never a 0 on the page.
#![warn(missing_docs, unreachable_pub)]

mod compare;
pub mod svg;
mod sweep;

pub use compare::compare_page;
pub use sweep::sweep_page;

use std::fmt::Write as _;
use std::path::Path;

use dialtone_scenario::Summary;
use dialtone_scenario::metrics::Mail;
use dialtone_study::compare::Comparison;
use dialtone_study::io::{self, Kind, ReadError};
use dialtone_study::stats::Stat;
use dialtone_study::{COLUMNS, Row, StudySummary};
use svg::{COLORS, Plot, esc, num};

/// Why a report cannot be built.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ReportError {
    /// A file could not be read or written.
    #[error("{path}: {source}")]
    Io {
        /// The file.
        path: String,
        /// Why.
        source: std::io::Error,
    },
    /// A file of the folder is missing, malformed, or of another kind or schema_version:
    /// names the file and the key.
    #[error(transparent)]
    Read(#[from] ReadError),
    /// The folder is locked by a writer, or was not finished (no manifest, a file missing
    /// or changed since): names the fix.
    #[error(transparent)]
    Folder(#[from] dialtone_study::folder::FolderError),
    /// report.html could not be written.
    #[error(transparent)]
    Write(#[from] dialtone_study::io::WriteError),
    /// The folder is not a dialtone output folder, or a file is malformed.
    #[error("{0}")]
    Input(String),
}

/// Builds the report of an output folder: summary.json's `kind` says which page. A folder
/// its writer did not finish (`dialtone_study::folder::check`) is refused.
pub fn build(dir: &Path) -> Result<String, ReportError> {
    dialtone_study::folder::check(dir)?;
    let file = dir.join("summary.json");
    match io::kind_of(&file)? {
        Kind::Run => Ok(run_page(
            &io::read_json(&file, Kind::Run)?,
            &io::read_timeline(dir)?,
        )),
        Kind::Study => study_page(
            &io::read_json(&file, Kind::Study)?,
            &io::parse_csv(&dir.join("replications.csv"))?,
        ),
        Kind::Compare => {
            let mut c: Comparison = io::read_json(&file, Kind::Compare)?;
            for s in &mut c.strategies {
                s.rows = io::parse_csv(&dir.join(format!("replications-{}.csv", s.arm)))?;
            }
            compare_page(&c)
        }
        Kind::Sweep => sweep_page(&io::read_json(&file, Kind::Sweep)?),
        other @ (Kind::StudyMeta | Kind::ArmsMeta) => Err(ReadError::Kind {
            file,
            found: format!("{:?}", other.as_str()),
            expected: "\"run\", \"study\", \"compare\" or \"sweep\"".into(),
        }
        .into()),
    }
}

/// Builds and writes `dir/report.html` atomically (`dialtone_study::io::write_atomic`);
/// returns its path.
pub fn write(dir: &Path) -> Result<std::path::PathBuf, ReportError> {
    let html = build(dir)?;
    let path = dir.join("report.html");
    dialtone_study::io::write_atomic(&path, html.as_bytes())?;
    Ok(path)
}

const CSS: &str = "body{font-family:system-ui,-apple-system,Segoe UI,Roboto,sans-serif;margin:0;color:#222;background:#fff}\
main{max-width:920px;margin:auto;padding:12px}h1{font-size:1.4em;margin:.4em 0}h2{font-size:1.1em;margin:1.2em 0 .3em}\
p.desc{color:#444}table{border-collapse:collapse;width:100%;font-size:.9em;margin:.5em 0}\
td,th{border-bottom:1px solid #ddd;padding:4px 6px;text-align:left;vertical-align:top}td.n{text-align:right;font-variant-numeric:tabular-nums}\
section{break-inside:avoid;page-break-inside:avoid}svg{max-width:100%;height:auto;display:block}\
.note{font-size:.85em;color:#555}@media print{main{max-width:none}h2{break-after:avoid}}";

pub(crate) fn page(title: &str, intro: &str, sections: &[String]) -> String {
    let mut h = String::new();
    h.push_str("<!DOCTYPE html>\n<html xmlns=\"http://www.w3.org/1999/xhtml\" lang=\"en\"><head><meta charset=\"utf-8\"/>");
    h.push_str("<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\"/>");
    let _ = write!(
        h,
        "<title>{}</title><style>{CSS}</style></head><body><main>",
        esc(title)
    );
    let _ = write!(h, "<h1>{}</h1>{intro}", esc(title));
    for s in sections {
        h.push_str(s);
    }
    h.push_str("<p class=\"note\">Generated by dialtone from the files in this folder. Definitions: docs/METRICS.md.</p></main></body></html>\n");
    h
}

pub(crate) fn section(title: &str, body: &str) -> String {
    format!("<section><h2>{}</h2>{body}</section>", esc(title))
}

fn show(v: Option<f64>) -> String {
    v.map_or("never".into(), num)
}

pub(crate) fn table(rows: &[(String, String)]) -> String {
    let mut t = String::from("<table class=\"summary\"><tbody>");
    for (k, v) in rows {
        let _ = write!(
            t,
            "<tr><th>{}</th><td class=\"n\" data-key=\"{}\">{}</td></tr>",
            esc(k),
            esc(k),
            esc(v)
        );
    }
    t.push_str("</tbody></table>");
    t
}

/// The fates of [`Mail`] the charts show, in [`FATES`] order.
fn fate_values(m: &Mail) -> [f64; 7] {
    [
        m.delivered_on_time,
        m.delivered_late,
        m.bounced,
        m.lost_silently,
        m.recovered,
        m.left_in_dial_tone,
        m.queued_at_end,
    ]
    .map(|x| x as f64)
}

const FATES: [(&str, &str); 7] = [
    ("delivered_on_time", "on time"),
    ("delivered_late", "late"),
    ("bounced", "bounced (NDR)"),
    ("lost_silently", "lost silently"),
    ("recovered", "recovered (subset of delivered)"),
    ("left_in_dial_tone", "left in dial tone (subset)"),
    ("queued_at_end", "queued at end"),
];

fn fates_chart(id: &str, values: &[f64], what: &str) -> String {
    let max = values.iter().copied().fold(1.0, f64::max);
    let mut p = Plot::new(
        id,
        &format!("Mail fates ({what})"),
        "fate",
        "messages",
        (0.0, FATES.len() as f64),
        (0.0, max * 1.1),
    );
    for (i, ((_, label), v)) in FATES.iter().zip(values).enumerate() {
        p.bar(
            i as f64 + 0.1,
            i as f64 + 0.9,
            *v,
            COLORS[i % COLORS.len()],
            &format!("{label}: {}", num(*v)),
        );
    }
    let ticks = FATES
        .iter()
        .enumerate()
        .map(|(i, (_, l))| (i as f64 + 0.5, l.split(' ').next().unwrap_or(l).to_owned()))
        .collect();
    p.finish(Some(ticks))
}

/// One lane of the timeline: a name and its intervals `(from_s, to_s, ok)`.
struct Lane {
    name: String,
    spans: Vec<(f64, f64, bool)>,
}

/// The lane of a timeline record, with its rank (sites, links, servers, the DAG's
/// quorum, then databases) and whether the component is up after it.
fn lane_of(comp: &str, what: &str, detail: &str) -> Option<(u8, String, bool)> {
    let (rank, prefix, ok) = match (comp, what) {
        ("site", "power-loss") => (0, "site", false),
        ("site", "power-on") => (0, "site", true),
        ("link", "cut") => (1, "link", false),
        ("link", "repaired") => (1, "link", true),
        ("server", "power-off" | "down") => (2, "server", false),
        ("server", "power-on" | "up") => (2, "server", true),
        ("cluster", "evaluated") => {
            return Some((
                3,
                "DAG quorum".into(),
                !detail.starts_with("quorum in None"),
            ));
        }
        ("db", "unavailable") => (4, "database", false),
        ("db", "serving") => (4, "database", true),
        _ => return None,
    };
    Some((rank, format!("{prefix} {detail}"), ok))
}

fn lanes_from(timeline: &str, horizon: f64) -> Vec<Lane> {
    // (lane name, time, ok) transitions, in file order (time order).
    let mut order: Vec<(u8, String)> = Vec::new();
    let mut events: Vec<(String, f64, bool)> = Vec::new();
    for line in timeline.lines().skip(1) {
        let cols = split_csv(line);
        if cols.len() < 4 {
            continue;
        }
        let Ok(t) = cols[0].parse::<f64>() else {
            continue;
        };
        if let Some((rank, name, ok)) = lane_of(&cols[1], &cols[2], &cols[3]) {
            if !order.iter().any(|(_, n)| *n == name) {
                order.push((rank, name.clone()));
            }
            events.push((name, t, ok));
        }
    }
    // Stable: within a kind, lanes keep the order they first changed in.
    order.sort_by_key(|(rank, _)| *rank);
    order
        .into_iter()
        .map(|(_, name)| {
            let mut spans = Vec::new();
            let (mut from, mut ok) = (0.0, true);
            for (_, t, s) in events.iter().filter(|(n, _, _)| *n == name) {
                if *s != ok {
                    spans.push((from, *t, ok));
                    from = *t;
                    ok = *s;
                }
            }
            spans.push((from, horizon, ok));
            Lane { name, spans }
        })
        .collect()
}

fn split_csv(line: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut cur = String::new();
    let mut quoted = false;
    let mut chars = line.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '"' if quoted && chars.peek() == Some(&'"') => {
                cur.push('"');
                chars.next();
            }
            '"' => quoted = !quoted,
            ',' if !quoted => out.push(std::mem::take(&mut cur)),
            c => cur.push(c),
        }
    }
    out.push(cur);
    out
}

/// The window a run's charts show: from two hours before the first failure to two hours
/// after the last change (within the horizon), in seconds.
fn window(s: &Summary, curves: &[(f64, f64)]) -> (f64, f64) {
    const TWO_HOURS: f64 = 7200.0;
    let first = s.first_failure_s.unwrap_or(0.0);
    let last = curves.iter().map(|(t, _)| *t).fold(first, f64::max);
    (
        (first - TWO_HOURS).max(0.0),
        (last + TWO_HOURS).min(s.horizon_s).max(first + 3600.0),
    )
}

/// The x label of a run's charts.
const TIME: &str = "time since the start (days, hours and minutes)";

/// The report of one run.
pub fn run_page(s: &Summary, timeline: &str) -> String {
    let svc = step_points(&s.curves.without_service);
    let (x0, x1) = window(s, &svc);
    let timeline_svg = run_timeline(s, timeline, (x0, x1));
    let users_svg = run_users(s, (x0, x1));
    let fates = fate_values(&s.metrics.mail);
    page(
        &format!("dialtone run: {}", s.scenario),
        &run_summary(s),
        &[
            section("Timeline", &timeline_svg),
            section("Users in service", &users_svg),
            section("Mail", &fates_chart("mail-fates", &fates, "this run")),
        ],
    )
}

/// A change-point curve as plot points.
fn step_points(v: &[(f64, u64)]) -> Vec<(f64, f64)> {
    v.iter().map(|&(t, x)| (t, x as f64)).collect()
}

/// The run's summary table.
fn run_summary(s: &Summary) -> String {
    let m = &s.metrics;
    let mail = &m.mail;
    table(&[
        ("scenario".into(), s.scenario.clone()),
        ("strategy".into(), s.strategy.clone()),
        ("seed".into(), s.seed.to_string()),
        ("replications".into(), "1".into()),
        (
            "user-minutes without send/receive".into(),
            num(m.user_minutes_without_send_receive),
        ),
        (
            "user-minutes without history".into(),
            num(m.user_minutes_without_history),
        ),
        (
            "service back for 50% / 95% / all".into(),
            format!(
                "{} / {} / {}",
                hm(m.time_to_service_p50_s),
                hm(m.time_to_service_p95_s),
                hm(m.time_to_service_all_s)
            ),
        ),
        ("history back for all".into(), hm(m.time_to_history_all_s)),
        (
            "residual outage (mean wait of a user who tries during an outage; not a total: more short outages lower it, see user-minutes)".into(),
            m.residual_outage_s
                .map_or_else(|| "no outage".into(), human_duration),
        ),
        (
            "split brain".into(),
            if m.split_brain_ms == 0 {
                "none".into()
            } else {
                format!(
                    "{}, {} messages",
                    human_duration(m.split_brain_ms as f64 / 1000.0),
                    m.split_brain_messages
                )
            },
        ),
        ("operator hours".into(), format!("{:.2}", m.operator_hours)),
        ("helpdesk hours".into(), format!("{:.2}", m.helpdesk_hours)),
        ("mail accepted".into(), count(mail.accepted)),
        (
            "mail not delivered (bounced + lost silently + queued at end)".into(),
            count(mail.bounced + mail.lost_silently + mail.queued_at_end),
        ),
        ("mail bounced".into(), count(mail.bounced)),
        ("mail lost silently".into(), count(mail.lost_silently)),
        ("mail queued at end".into(), count(mail.queued_at_end)),
    ])
}

/// The timeline chart: a lane per component, the playbook's steps, the failure.
fn run_timeline(s: &Summary, timeline: &str, (x0, x1): (f64, f64)) -> String {
    let horizon = s.horizon_s;
    let lanes = lanes_from(timeline, horizon);
    let lane_h = 22.0;
    let steps: Vec<(String, f64)> = s
        .playbook
        .steps
        .iter()
        .filter_map(|st| Some((st.name.clone(), st.finished_s?)))
        .collect();
    let height = 110.0 + lane_h * (lanes.len() as f64 + 1.0);
    let y = (0.0, lanes.len() as f64 + 1.0);
    let mut p = Plot::new(
        "timeline",
        "Timeline of component states",
        TIME,
        "",
        (x0, x1),
        y,
    )
    .height(height)
    .left_margin(150.0)
    .x_duration()
    .no_y_axis();
    let mut lanes_svg = String::new();
    for (i, lane) in lanes.iter().enumerate() {
        let y = 62.0 + lane_h * i as f64;
        let _ = write!(
            lanes_svg,
            r##"<g class="lane" data-name="{}"><text x="4" y="{:.1}" font-size="11" fill="#222">{}</text>"##,
            esc(&lane.name),
            y + 14.0,
            esc(&lane.name)
        );
        for &(a, b, ok) in &lane.spans {
            let (pa, pb) = (p.px(a), p.px(b));
            if pb > pa {
                let color = if ok { "#009E73" } else { "#D55E00" };
                let _ = write!(
                    lanes_svg,
                    r#"<rect class="span" data-ok="{ok}" x="{pa:.1}" y="{y:.1}" width="{:.1}" height="{:.1}" fill="{color}"><title>{}: {} from {} to {}</title></rect>"#,
                    pb - pa,
                    lane_h - 6.0,
                    esc(&lane.name),
                    if ok { "up" } else { "down" },
                    human_duration(a),
                    human_duration(b)
                );
            }
        }
        lanes_svg.push_str("</g>");
    }
    let y = 62.0 + lane_h * lanes.len() as f64;
    let _ = write!(
        lanes_svg,
        r##"<g class="lane" data-name="playbook"><text x="4" y="{:.1}" font-size="11" fill="#222">playbook steps</text>"##,
        y + 14.0
    );
    for (name, t) in &steps {
        let px = p.px(*t);
        let _ = write!(
            lanes_svg,
            r##"<line class="step" x1="{px:.1}" x2="{px:.1}" y1="{y:.1}" y2="{:.1}" stroke="#0072B2" stroke-width="2"><title>{}: done at {}</title></line>"##,
            y + lane_h - 6.0,
            esc(name),
            human_duration(*t)
        );
    }
    lanes_svg.push_str("</g>");
    p.raw(&lanes_svg);
    if let Some(t) = s.first_failure_s {
        p.vmark(t, "failure", "#D55E00");
    }
    p.legend("up / serving", "#009E73");
    p.legend("down / unavailable", "#D55E00");
    p.legend("playbook step done", "#0072B2");
    p.finish(None)
}

/// Users in service, overall and by client kind.
fn run_users(s: &Summary, (x0, x1): (f64, f64)) -> String {
    let c = &s.curves;
    let users = c.users as f64;
    let svc = step_points(&c.without_service);
    let hist = step_points(&c.without_history);
    let inv = |v: &[(f64, f64)], total: f64| -> Vec<(f64, f64)> {
        v.iter().map(|&(t, x)| (t, total - x)).collect()
    };
    let mut u = Plot::new(
        "users",
        "Users in service",
        TIME,
        "users",
        (x0, x1),
        (0.0, users * 1.05),
    )
    .x_duration();
    u.step("can send and receive", COLORS[0], &inv(&svc, users), x1);
    u.step(
        "can read their history (incl. offline copies)",
        COLORS[1],
        &inv(&hist, users),
        x1,
    );
    let users_svg = u.finish(None);
    let mut k = Plot::new(
        "users-by-kind",
        "Users in service by client kind (share of each kind)",
        TIME,
        "share in service",
        (x0, x1),
        (0.0, 1.05),
    )
    .x_duration();
    for (i, kc) in c.by_kind.iter().enumerate() {
        let n = (kc.users as f64).max(1.0);
        let series: Vec<(f64, f64)> = step_points(&kc.without_service)
            .iter()
            .map(|&(t, x)| (t, 1.0 - x / n))
            .collect();
        k.step(&kc.kind, COLORS[(i + 2) % COLORS.len()], &series, x1);
    }
    users_svg + &k.finish(None)
}

/// The non-null values of metric `name` over the rows.
pub(crate) fn column(rows: &[Row], name: &str) -> Vec<f64> {
    let Some(i) = COLUMNS.iter().position(|(c, _)| *c == name) else {
        return Vec::new();
    };
    rows.iter()
        .filter_map(|r| r.values.get(i).copied().flatten())
        .collect()
}

/// The statistics of metric `name` (present in any summary read back: reading checks
/// every column is there).
pub(crate) fn stat<'a>(s: &'a StudySummary, metric: &str) -> Result<&'a Stat, ReportError> {
    s.metric(metric).ok_or_else(|| {
        ReportError::Input(format!(
            "the study summary of {} has no `metrics.{metric}`",
            s.scenario
        ))
    })
}

fn mean_ci(v: &Stat) -> String {
    mean_ci_as(v, show)
}

/// Durations for people: one formatter, in the study crate (the CLI and the verdict use
/// it too).
pub use dialtone_study::human::human_duration;

/// A count of messages for people: "3,704,112".
fn count(n: u64) -> String {
    dialtone_study::human::human_count(n as f64)
}

/// [`human_duration`], "never" for a null.
pub(crate) fn hm(v: Option<f64>) -> String {
    v.map_or("never".into(), human_duration)
}

/// `mean_ci` of a metric by its key: durations (keys ending in `_s`) as [`hm`].
pub(crate) fn mean_ci_of(key: &str, v: &Stat) -> String {
    if key.ends_with("_s") {
        mean_ci_as(v, hm)
    } else {
        mean_ci(v)
    }
}

fn mean_ci_as(v: &Stat, show: fn(Option<f64>) -> String) -> String {
    let m = match v.ci95 {
        Some([lo, hi]) => format!("{} [{}, {}]", show(v.mean), show(Some(lo)), show(Some(hi))),
        None => show(v.mean),
    };
    // The mean is of the replications that got there: say how many did not.
    if v.nulls > 0 && v.mean.is_some() {
        format!("{m}; never in {:.0}%", 100.0 * v.null_share)
    } else {
        m
    }
}

/// The steps of the empirical CDF of `sorted` values (at most about 200 of them).
pub(crate) fn ecdf_points(sorted: &[f64]) -> Vec<(f64, f64)> {
    let n = sorted.len().max(1) as f64;
    let step = (sorted.len() / 200).max(1);
    let mut cdf: Vec<(f64, f64)> = sorted
        .iter()
        .enumerate()
        .step_by(step)
        .map(|(i, x)| (*x, (i + 1) as f64 / n))
        .collect();
    if let Some(&last) = sorted.last() {
        cdf.push((last, 1.0));
    }
    cdf
}

/// The report of a study, from its summary and its rows (replications.csv).
pub fn study_page(s: &StudySummary, rows: &[Row]) -> Result<String, ReportError> {
    let t = &s.targets;
    let summary = table(&[
        ("scenario".into(), s.scenario.clone()),
        ("strategy".into(), s.strategy.clone()),
        ("seed".into(), s.seed.to_string()),
        ("replications".into(), s.replications.to_string()),
        (
            "user-minutes without send/receive, mean [95% CI]".into(),
            mean_ci(stat(s, "user_minutes_without_send_receive")?),
        ),
        (
            "time to service for 95%, mean [95% CI]".into(),
            mean_ci_of("time_to_service_p95_s", stat(s, "time_to_service_p95_s")?),
        ),
        (
            "mail not delivered (bounced + lost silently + queued at end), mean [95% CI]".into(),
            mean_ci(stat(s, "mail_not_delivered")?),
        ),
        (
            "operator hours, mean [95% CI]".into(),
            mean_ci(stat(s, "operator_hours")?),
        ),
        (
            "every database back within the RTO target".into(),
            format!("{:.1}%", 100.0 * t.rto_met_share),
        ),
        (
            "no split brain".into(),
            format!("{:.1}%", 100.0 * t.no_split_brain_share),
        ),
    ]);
    let mut v = column(rows, "user_minutes_without_send_receive");
    v.sort_by(f64::total_cmp);
    let (lo, hi) = (
        v.first().copied().unwrap_or(0.0),
        v.last().copied().unwrap_or(1.0),
    );
    let bins = 40usize;
    let width = ((hi - lo) / bins as f64).max(f64::MIN_POSITIVE);
    let mut counts = vec![0u64; bins];
    for x in &v {
        counts[(((x - lo) / width) as usize).min(bins - 1)] += 1;
    }
    let top = counts.iter().copied().max().unwrap_or(1) as f64;
    let mut h = Plot::new(
        "downtime-histogram",
        "Distribution of user-minutes without send/receive",
        "user-minutes",
        "replications",
        (lo, lo + width * bins as f64),
        (0.0, top * 1.1),
    );
    for (i, c) in counts.iter().enumerate() {
        let a = lo + width * i as f64;
        h.bar(
            a,
            a + width,
            *c as f64,
            COLORS[0],
            &format!("{}-{}: {c}", num(a), num(a + width)),
        );
    }
    let st = stat(s, "user_minutes_without_send_receive")?;
    let marks = [("p50", st.p50), ("p95", st.p95), ("p99", st.p99)];
    for (label, m) in marks {
        if let Some(x) = m {
            h.vmark(x, label, "#D55E00");
        }
    }
    let hist = h.finish(None);
    let mut e = Plot::new(
        "downtime-ecdf",
        "Empirical CDF of user-minutes without send/receive",
        "user-minutes",
        "share of replications",
        (lo, hi.max(lo + 1.0)),
        (0.0, 1.0),
    );
    e.step("ECDF", COLORS[0], &ecdf_points(&v), hi);
    for (label, m) in marks {
        if let Some(x) = m {
            e.vmark(x, label, "#D55E00");
        }
    }
    let ecdf = e.finish(None);
    // A mean is null only when every replication's value was: no bar.
    let fates = FATES
        .iter()
        .map(|(key, _)| Ok(stat(s, &format!("mail_{key}"))?.mean.unwrap_or(0.0)))
        .collect::<Result<Vec<f64>, ReportError>>()?;
    Ok(page(
        &format!("dialtone study: {}", s.scenario),
        &summary,
        &[
            section("Downtime across replications", &(hist + &ecdf)),
            section(
                "Mail",
                &fates_chart("mail-fates", &fates, "mean per replication"),
            ),
        ],
    ))
}

/// Mean and 95% interval of a statistic, the interval collapsing to the mean when it has
/// none; `None` when no replication has a value (never reached: drawn as "never", not as
/// a number).
pub(crate) fn estimate(v: &Stat) -> Option<(f64, f64, f64)> {
    let m = v.mean?;
    Some((m, v.ci95.map_or(m, |c| c[0]), v.ci95.map_or(m, |c| c[1])))
}

#[cfg(test)]
mod duration_tests {
    use super::hm;

    #[test]
    fn durations_in_tables_are_hours_and_minutes() {
        assert_eq!(hm(Some(6656.0)), "1h51m");
        assert_eq!(hm(Some(3125.4)), "52m5s");
        assert_eq!(hm(Some(5.94)), "5.9s");
        assert_eq!(hm(Some(35_383.9)), "9h50m");
        assert_eq!(hm(Some(90_061.0)), "1d1h1m");
        assert_eq!(hm(None), "never");
    }
}
