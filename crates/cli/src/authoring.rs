//! Writing scenarios and installing the command: `init` (a starting scenario), `schema`
//! (the JSON Schema of the format), `completions` (shell completion scripts) and `man`
//! (the manual page), all generated from the library and from clap's description of the
//! command line, so they never drift from it.

use std::io::Write;
use std::path::PathBuf;

use clap::{CommandFactory, Subcommand};
use dialtone_scenario::init::{InitOptions, starter_text};

use crate::{Cli, Failure};

/// `dialtone --version`: the package version and the git commit it was built from.
pub(crate) const VERSION: &str = concat!(
    env!("CARGO_PKG_VERSION"),
    " (commit ",
    env!("DIALTONE_COMMIT"),
    ")"
);

#[derive(Debug, Subcommand)]
pub(crate) enum Authoring {
    /// Write a starting scenario from a few choices (to stdout, or --out FILE).
    ///
    /// The file uses the database layout shorthand and a "notes" list of comments; it
    /// validates and runs as written. Example: dialtone init --sites 2
    /// --servers-per-site 3 --databases 24 --copies 3 --users 12000 --out org.json
    Init(InitArgs),
    /// Print the JSON Schema of the scenario format (scenarios name it in "$schema").
    ///
    /// Example: dialtone schema > scenarios/schema/dialtone.schema.json
    Schema,
    /// Print a shell completion script.
    ///
    /// Example: dialtone completions bash > ~/.local/share/bash-completion/completions/dialtone
    Completions {
        /// bash, zsh, fish, elvish or powershell.
        shell: clap_complete::Shell,
    },
    /// Print the manual page (roff), or write one page a command into --out.
    ///
    /// Example: dialtone man | man -l -
    Man {
        /// Write dialtone.1 and dialtone-COMMAND.1 here instead.
        #[arg(long)]
        out: Option<PathBuf>,
    },
}

/// `dialtone init`'s choices; each unset one takes the default it names.
#[derive(Debug, clap::Args)]
pub(crate) struct InitArgs {
    /// Sites, dc1, dc2, ... (default 2).
    #[arg(long)]
    sites: Option<u32>,
    /// Mailbox servers in each site, all DAG members (default 2).
    #[arg(long)]
    servers_per_site: Option<u32>,
    /// Mailbox databases (default 4).
    #[arg(long)]
    databases: Option<u32>,
    /// Copies of each database (default 3, or the number of servers if fewer).
    #[arg(long)]
    copies: Option<u32>,
    /// Users, spread evenly over the databases (default 2000).
    #[arg(long)]
    users: Option<u64>,
    /// Client mix KIND=SHARE,... of outlook-cached, outlook, outlook-manual, web,
    /// mobile (default outlook-cached=0.7,outlook-manual=0.05,web=0.1,mobile=0.15).
    #[arg(long)]
    clients: Option<String>,
    /// TTL of the client-facing DNS records (default 5m).
    #[arg(long)]
    ttl: Option<String>,
    /// A built-in strategy (default datacenter-switchover-dac; `dialtone list strategies`).
    #[arg(long)]
    strategy: Option<String>,
    /// Lag one copy of each database by this much, e.g. 7d (default none).
    #[arg(long)]
    lag: Option<String>,
    /// Master seed (default 42).
    #[arg(long)]
    seed: Option<u64>,
    /// Write the scenario here instead of stdout.
    #[arg(long)]
    out: Option<PathBuf>,
    /// Overwrite --out if it exists.
    #[arg(long)]
    force: bool,
}

pub(crate) fn run(a: Authoring) -> Result<(), Failure> {
    match a {
        Authoring::Init(args) => init(args),
        Authoring::Schema => print(dialtone_scenario::schema::schema_text().as_bytes()),
        Authoring::Completions { shell } => {
            let mut buf = Vec::new();
            clap_complete::generate(shell, &mut Cli::command(), "dialtone", &mut buf);
            print(&buf)
        }
        Authoring::Man { out: None } => {
            let mut buf = Vec::new();
            clap_mangen::Man::new(Cli::command())
                .render(&mut buf)
                .map_err(|e| Failure::Run(format!("man page: {e}")))?;
            print(&buf)
        }
        Authoring::Man { out: Some(dir) } => {
            std::fs::create_dir_all(&dir)
                .and_then(|()| clap_mangen::generate_to(Cli::command(), &dir))
                .map_err(|e| crate::io_failure(&dir.display().to_string(), &e))?;
            eprintln!("man pages: {}", dir.display());
            Ok(())
        }
    }
}

/// Writes to stdout; a closed pipe (`| head`) is not an error.
fn print(bytes: &[u8]) -> Result<(), Failure> {
    let _ = std::io::stdout().lock().write_all(bytes);
    Ok(())
}

fn duration(flag: &str, v: &str) -> Result<dialtone_engine::SimDuration, Failure> {
    v.parse()
        .map_err(|e| Failure::Input(format!("init: --{flag}: {e}")))
}

fn init(a: InitArgs) -> Result<(), Failure> {
    let d = InitOptions::default();
    let o = InitOptions {
        sites: a.sites.unwrap_or(d.sites),
        servers_per_site: a.servers_per_site.unwrap_or(d.servers_per_site),
        databases: a.databases.unwrap_or(d.databases),
        copies: a.copies,
        users: a.users.unwrap_or(d.users),
        clients: a.clients,
        ttl: a.ttl.as_deref().map_or(Ok(d.ttl), |t| duration("ttl", t))?,
        strategy: a.strategy.unwrap_or(d.strategy),
        lag: a.lag.as_deref().map(|t| duration("lag", t)).transpose()?,
        seed: a.seed.unwrap_or(d.seed),
    };
    let text = starter_text(&o).map_err(|e| Failure::Input(format!("init: {e}")))?;
    match a.out {
        None => print(text.as_bytes()),
        Some(path) if path.exists() && !a.force => Err(Failure::Input(format!(
            "{} exists; use --force to overwrite it",
            path.display()
        ))),
        Some(path) => {
            dialtone_study::io::write_atomic(&path, text.as_bytes())?;
            eprintln!(
                "scenario: {} (check it with `dialtone validate`)",
                path.display()
            );
            schema_beside(&path)
        }
    }
}

/// Writes the schema where the scenario's `"$schema"` (relative to the file) points, so an
/// editor validates the new file wherever it is; kept current when it is already there.
fn schema_beside(scenario: &std::path::Path) -> Result<(), Failure> {
    let dir = scenario.parent().unwrap_or(std::path::Path::new(""));
    let path = dir.join(dialtone_scenario::schema::SCHEMA_FILE);
    let text = dialtone_scenario::schema::schema_text();
    if std::fs::read_to_string(&path).is_ok_and(|old| old == text) {
        return Ok(());
    }
    if let Some(d) = path.parent() {
        std::fs::create_dir_all(d).map_err(|e| crate::io_failure(&d.display().to_string(), &e))?;
    }
    dialtone_study::io::write_atomic(&path, text.as_bytes())?;
    eprintln!("schema: {} (named by its \"$schema\")", path.display());
    Ok(())
}
