//! `cargo xtask`: the build steps that need more than cargo. Run `cargo xtask --help`.
//!
//! Each command installs what it is missing (see `tools.rs`) and says what it is doing, so a
//! new machine needs nothing but this repository and a Rust toolchain.

mod bench;
mod postgres;
mod serve;
mod soak;
mod test;
mod tools;
mod trim;
mod vendor;
mod widget;

use std::path::{Path, PathBuf};
use std::process::{Command, ExitCode};

use anyhow::{Context, anyhow};
use clap::{Parser, Subcommand};

#[derive(Parser)]
#[command(name = "cargo xtask", about = "Earshot's build, run and test commands")]
struct Cli {
    #[command(subcommand)]
    command: Task,
}

#[derive(Subcommand)]
enum Task {
    /// Build the widget and the collector, then run the collector with a demo site.
    Serve(serve::ServeArgs),
    /// Run every check: formatting, clippy, host tests, widget tests and end-to-end tests in Chromium.
    Test(test::TestArgs),
    /// Measure ingest and export against baselines run side by side; writes target/bench/results.json.
    Bench(bench::BenchArgs),
    /// Build the widget (release, optimised) into target/widget and print its size.
    Widget,
    /// Build the release binary with the widget and www/ inside it: target/dist/earshot.
    Dist,
    /// Install every tool the build and the tests need, and nothing else.
    Setup,
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        Task::Serve(args) => serve::run(&args),
        Task::Test(args) => test::run(&args),
        Task::Bench(args) => bench::run(&args),
        Task::Widget => {
            tools::Toolchain::prepare().and_then(|tools| widget::build(&tools).map(|_| ()))
        }
        Task::Dist => dist(),
        Task::Setup => tools::Toolchain::prepare().and_then(|_| tools::ensure_browser()),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            // `{:#}`: what was being done, then what went wrong, on one line.
            eprintln!("\nxtask: error: {err:#}");
            ExitCode::FAILURE
        }
    }
}

/// What every step returns: an error says what was being done, then what went wrong.
pub type Result<T = ()> = anyhow::Result<T>;

/// The self-contained release binary: the widget built first, then the collector with the
/// `embed` feature, which copies `www/` and `target/widget/` into it.
fn dist() -> Result {
    let tools = tools::Toolchain::prepare()?;
    widget::build(&tools)?.check_budgets()?;
    step("Building the release collector with the web files inside (feature embed)");
    exec(cargo().args([
        "build",
        "--release",
        "--package",
        "earshot-collector",
        "--features",
        "embed",
    ]))?;
    let dist = root().join("target/dist");
    std::fs::create_dir_all(&dist).with_context(|| format!("creating {}", dist.display()))?;
    let binary = dist.join("earshot");
    std::fs::copy(root().join("target/release/earshot"), &binary).context("copying the binary")?;
    let size = std::fs::metadata(&binary)
        .with_context(|| binary.display().to_string())?
        .len();
    eprintln!(
        "    {} ({:.1} MB): copy it anywhere and run `earshot serve`; see deploy/ for systemd, Docker and a reverse proxy",
        binary.display(),
        size as f64 / 1_048_576.0
    );
    Ok(())
}

/// The repository root, found from this crate's manifest directory.
pub fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("xtask lives one folder below the repository root")
        .to_owned()
}

/// Prints a step header, the way every command announces what it is about to do.
pub fn step(what: &str) {
    eprintln!("\n==> {what}");
}

/// Runs a command to completion, failing with its name when it fails.
pub fn exec(command: &mut Command) -> Result {
    let shown = format!("{command:?}");
    eprintln!("    $ {}", shown.replace('"', ""));
    let status = command
        .status()
        .with_context(|| format!("could not start {shown}"))?;
    if status.success() {
        Ok(())
    } else {
        Err(anyhow!("{shown} failed ({status})"))
    }
}

/// The output of a command, if it ran and succeeded.
pub fn output(command: &mut Command) -> Option<String> {
    let out = command.output().ok()?;
    out.status
        .success()
        .then(|| String::from_utf8_lossy(&out.stdout).trim().to_owned())
}

/// The cargo that started us (rustup's), for host builds.
pub fn cargo() -> Command {
    let mut command = Command::new(std::env::var("CARGO").unwrap_or_else(|_| "cargo".into()));
    command.current_dir(root());
    command
}
