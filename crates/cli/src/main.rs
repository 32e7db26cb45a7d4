//! `dialtone`: the command-line front end. Thin: it parses arguments, calls the library
//! crates, prints, and maps errors to exit codes (0 ok, 1 a run failed, 2 bad input).
//!
//! Subcommands so far: `duration`, which checks duration strings exactly as scenario files
//! will read them. `run`, `study`, `compare`, `sweep` and `report` arrive with the
//! scenario, study and report crates.

use std::io::Write;
use std::process::ExitCode;

use clap::{Parser, Subcommand};
use dialtone_engine::SimDuration;

/// A discrete-event disaster simulator for Exchange-style mail systems.
#[derive(Debug, Parser)]
#[command(name = "dialtone", version, about, long_about = None)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Parse duration strings as scenario files do and print them in milliseconds and in
    /// canonical form.
    ///
    /// Example: dialtone duration 90s 2h30m 1.5d
    Duration {
        /// Durations such as "250ms", "90s", "5m", "2h30m", "3d" or "1.5h".
        #[arg(required = true)]
        values: Vec<String>,
    },
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    match cli.command {
        Command::Duration { values } => duration(&values),
    }
}

fn duration(values: &[String]) -> ExitCode {
    let mut out = std::io::stdout().lock();
    let mut bad = false;
    for v in values {
        match v.parse::<SimDuration>() {
            Ok(d) => {
                // A closed pipe (`| head`) is not an error worth reporting.
                if writeln!(out, "{v}\t{} ms\t{d}", d.as_millis()).is_err() {
                    return ExitCode::SUCCESS;
                }
            }
            Err(e) => {
                eprintln!("dialtone: {e}");
                bad = true;
            }
        }
    }
    if bad {
        ExitCode::from(2)
    } else {
        ExitCode::SUCCESS
    }
}
