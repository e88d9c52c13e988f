//! `cargo xtask test`: the whole test run, as CI runs it.

use std::process::Command;
use std::time::Instant;

use anyhow::Context;
use clap::Args;

use crate::tools::{self, CHROMEDRIVER, Toolchain};
use crate::{Result, cargo, exec, postgres, step, widget};

#[derive(Args)]
pub struct TestArgs {}

pub fn run(_args: &TestArgs) -> Result {
    let started = Instant::now();
    let mut timings = Vec::new();
    let mut timed = |name: &'static str, task: &mut dyn FnMut() -> Result| -> Result {
        let began = Instant::now();
        let result = task();
        timings.push((name, began.elapsed()));
        result
    };

    timed("formatting", &mut || {
        step("Checking formatting (cargo fmt --check)");
        exec(cargo().args(["fmt", "--all", "--", "--check"]))
    })?;
    timed("clippy", &mut || {
        step("Linting (cargo clippy --all-targets -D warnings)");
        exec(cargo().args([
            "clippy",
            "--workspace",
            "--all-targets",
            "--",
            "-D",
            "warnings",
        ]))
    })?;
    timed("vendored yew", &mut crate::vendor::check_yew)?;
    let mut toolchain = None;
    let mut postgres_url = None;
    let mut schemathesis = None;
    timed("set-up", &mut || {
        toolchain = Some(Toolchain::prepare()?);
        tools::ensure_browser()?;
        tools::ensure_smtp_sink()?;
        tools::ensure_dovecot()?;
        postgres_url = Some(postgres::ensure()?);
        schemathesis = Some(tools::ensure_schemathesis()?);
        Ok(())
    })?;
    let toolchain = toolchain.expect("set up above");
    let postgres_url = postgres_url.expect("set up above");
    let schemathesis = schemathesis.expect("set up above");
    timed("widget build and size budgets", &mut || {
        widget::build(&toolchain)?.check_budgets()
    })?;
    let embedded = crate::root().join("target/e2e-bin/earshot-embedded");
    timed("self-contained binary", &mut || {
        step(
            "Building the collector with the web files inside (feature embed), as `cargo xtask dist` does",
        );
        exec(cargo().args([
            "clippy",
            "--package",
            "earshot-collector",
            "--features",
            "embed",
            "--",
            "-D",
            "warnings",
        ]))?;
        exec(cargo().args([
            "build",
            "--package",
            "earshot-collector",
            "--features",
            "embed",
        ]))?;
        let folder = embedded.parent().expect("a folder");
        std::fs::create_dir_all(folder)
            .with_context(|| format!("creating {}", folder.display()))?;
        std::fs::copy(crate::root().join("target/debug/earshot"), &embedded)
            .context("copying the self-contained binary")?;
        Ok(())
    })?;
    timed("host and end-to-end tests", &mut || {
        // cargo builds target/debug/earshot for the collector's own CLI tests, with the same
        // features as everything else in this run; the end-to-end tests use that binary.
        step(
            "Running host tests (storage on SQLite and PostgreSQL), the API contract (schemathesis), then end-to-end tests in Chromium",
        );
        exec(
            cargo()
                .args(["test", "--workspace", "--exclude", "earshot-widget"])
                .env("EARSHOT_E2E_REQUIRED", "1")
                .env("EARSHOT_TEST_POSTGRES_URL", &postgres_url)
                .env("EARSHOT_WIDGET_DIR", widget::dist_dir())
                .env("EARSHOT_EMBEDDED_BIN", &embedded)
                .env("EARSHOT_SCHEMATHESIS", &schemathesis)
                .env("EARSHOT_SMTP_SINK", tools::SMTP_SINK)
                .env("EARSHOT_DOVECOT", tools::DOVECOT)
                .env("CHROMEDRIVER", CHROMEDRIVER),
        )
    })?;
    timed("widget tests", &mut || {
        step("Running the widget's tests in headless Chromium (wasm-bindgen-test)");
        let mut command: Command = toolchain.wasm_cargo("test", &[]);
        exec(
            command
                .args(["--package", "earshot-widget"])
                .env(
                    "CARGO_TARGET_WASM32_UNKNOWN_UNKNOWN_RUNNER",
                    &toolchain.wasm_bindgen_test_runner,
                )
                .env("CHROMEDRIVER", CHROMEDRIVER)
                .env("WASM_BINDGEN_TEST_TIMEOUT", "120"),
        )
    })?;

    step("Summary");
    for (name, took) in &timings {
        eprintln!("    {name:<28} {:>6.1} s", took.as_secs_f64());
    }
    eprintln!(
        "    {:<28} {:>6.1} s",
        "total",
        started.elapsed().as_secs_f64()
    );
    eprintln!("    all checks passed");
    Ok(())
}
