//! `cargo xtask bench`: measures ingest and export against baselines run side by side in the
//! same run (these machines are noisy: medians of alternating rounds, and ratios), prints a
//! table and writes `target/bench/results.json`. A benchmark reports; it asserts nothing.
//!
//! - ingest: `wrk` POSTs unique submissions at 64 connections to the release `earshot serve`
//!   (every `201` committed to disk) and to `ingest_baseline`, an actix-web endpoint that
//!   decodes and validates the same body but stores nothing.
//! - export: 1,000,000 stored submissions exported as CSV by `earshot export` and by the
//!   `sqlite3` CLI from the same database file; time and peak memory from GNU time.
//! - PostgreSQL: the same ingest against one `earshot serve` on a PostgreSQL database and
//!   against two replicas sharing it (two `wrk`s at once, half the connections each), beside
//!   the SQLite and no-storage runs in the same rounds; the same export against `psql \copy`.
//! - widget: the built sizes (gzip) against their budgets, and in Chromium (the ignored test
//!   `tests/tests/widget_speed.rs`): loader → launcher shown, click → interactive dialog on a
//!   first visit (wasm fetched by the click) and once loaded, against a native `<dialog>`.

use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use anyhow::{Context, anyhow, bail};
use clap::Args;

use crate::{Result, cargo, exec, output, root, step, tools};

#[derive(Args)]
pub struct BenchArgs {
    /// Seconds each wrk run lasts.
    #[arg(long, default_value_t = 10)]
    seconds: u32,
    /// Alternating rounds of each measurement; the median is reported.
    #[arg(long, default_value_t = 3)]
    rounds: usize,
    /// Rows stored for the export benchmark.
    #[arg(long, default_value_t = 1_000_000)]
    rows: u64,
    /// Concurrent connections for the ingest benchmark.
    #[arg(long, default_value_t = 64)]
    connections: u32,
    /// Only the widget's sizes and browser timings (skips ingest and export).
    #[arg(long)]
    widget_only: bool,
    /// How long the soak runs (sustained ingest, exports and dashboard reads; WAL, database
    /// and memory sampled throughout); 0 skips it. About 2,000 submissions a second here, so
    /// 480 s reaches a million.
    #[arg(long, default_value_t = 120)]
    soak_seconds: u32,
    /// Seconds between the soak's samples.
    #[arg(long, default_value_t = 10)]
    soak_sample: u32,
    /// Only the soak (skips the widget, ingest and export benchmarks).
    #[arg(long)]
    soak_only: bool,
}

const ORIGIN: &str = "http://bench.example";

/// What one wrk run measured.
#[derive(Debug, Clone, Copy)]
struct Load {
    requests_per_sec: f64,
    p50_ms: f64,
    p99_ms: f64,
    failures: u64,
}

/// What one export run measured.
#[derive(Debug, Clone, Copy)]
struct ExportRun {
    seconds: f64,
    peak_mb: f64,
}

pub fn run(args: &BenchArgs) -> Result {
    if args.soak_only {
        ensure_tools()?;
        build_release()?;
        let dir = root().join("target/bench");
        std::fs::create_dir_all(&dir).with_context(|| format!("creating {}", dir.display()))?;
        let soak = soak(args, &dir)?;
        return write_results(&serde_json::json!({ "soak": soak }));
    }
    let widget = bench_widget(args)?;
    if args.widget_only {
        print_widget(&widget);
        return write_results(&serde_json::json!({ "widget": widget }));
    }
    ensure_tools()?;
    build_release()?;
    let dir = root().join("target/bench");
    std::fs::create_dir_all(&dir).with_context(|| format!("creating {}", dir.display()))?;

    let postgres = crate::postgres::ensure()?;
    let ingest = bench_ingest(args, &dir, &postgres)?;
    let (earshot_load, normal_load, baseline_load) = (ingest.full, ingest.normal, ingest.baseline);
    let (earshot_export, sqlite_export) = bench_export(args, &dir)?;
    let (pg_export, psql_export) = bench_export_postgres(args, &dir, &postgres)?;
    let mail = bench_mail(args)?;
    let stats = bench_stats(args)?;
    let soak = soak(args, &dir)?;

    let ingest_ratio = earshot_load.requests_per_sec / baseline_load.requests_per_sec;
    let normal_ratio = normal_load.requests_per_sec / baseline_load.requests_per_sec;
    let export_ratio = sqlite_export.seconds / earshot_export.seconds;
    let rows_per_sec = |run: &ExportRun| args.rows as f64 / run.seconds;
    step("Results (medians)");
    println!("| measurement | earshot | baseline | ratio |");
    println!("|---|---|---|---|");
    for (name, load, ratio) in [
        ("--sync full", &earshot_load, ingest_ratio),
        ("--sync normal", &normal_load, normal_ratio),
    ] {
        println!(
            "| ingest req/s, {} connections, {name} | {:.0} | {:.0} (no storage) | {:.2} |",
            args.connections, load.requests_per_sec, baseline_load.requests_per_sec, ratio
        );
        println!(
            "| ingest p50 / p99 latency, {name} | {:.2} / {:.2} ms | {:.2} / {:.2} ms | |",
            load.p50_ms, load.p99_ms, baseline_load.p50_ms, baseline_load.p99_ms
        );
    }
    println!(
        "| export {} rows, rows/s | {:.0} | {:.0} (sqlite3 -csv) | {:.2} |",
        args.rows,
        rows_per_sec(&earshot_export),
        rows_per_sec(&sqlite_export),
        export_ratio
    );
    println!(
        "| export peak memory | {:.1} MB | {:.1} MB | |",
        earshot_export.peak_mb, sqlite_export.peak_mb
    );
    for (name, load) in [
        ("PostgreSQL, one collector", &ingest.postgres),
        ("PostgreSQL, two replicas", &ingest.replicas),
    ] {
        println!(
            "| ingest req/s, {} connections, {name} | {:.0} | {:.0} (SQLite --sync full) | {:.2} |",
            args.connections,
            load.requests_per_sec,
            earshot_load.requests_per_sec,
            load.requests_per_sec / earshot_load.requests_per_sec
        );
        println!(
            "| ingest p50 / p99 latency, {name} | {:.2} / {:.2} ms | {:.2} / {:.2} ms | |",
            load.p50_ms, load.p99_ms, earshot_load.p50_ms, earshot_load.p99_ms
        );
    }
    println!(
        "| export {} rows from PostgreSQL, rows/s | {:.0} | {:.0} (psql \\copy) | {:.2} |",
        args.rows,
        rows_per_sec(&pg_export),
        rows_per_sec(&psql_export),
        psql_export.seconds / pg_export.seconds
    );
    println!(
        "| export peak memory, PostgreSQL | {:.1} MB | {:.1} MB | |",
        pg_export.peak_mb, psql_export.peak_mb
    );
    println!(
        "\ningest: {} submissions committed, {} non-2xx answers; ratio = earshot / baseline (higher is better)",
        ingest.stored,
        earshot_load.failures
            + normal_load.failures
            + ingest.postgres.failures
            + ingest.replicas.failures
    );
    println!("export: ratio = sqlite3 time / earshot time (above 1: earshot is faster)");
    print_mail(&mail);
    print_stats(&stats);
    print_widget(&widget);

    let results = serde_json::json!({
        "ingest": {
            "connections": args.connections,
            "seconds_per_run": args.seconds,
            "rounds": args.rounds,
            "earshot_sync_full": load_json(&earshot_load),
            "earshot_sync_normal": load_json(&normal_load),
            "baseline_no_storage": load_json(&baseline_load),
            "ratio_sync_full": ingest_ratio,
            "ratio_sync_normal": normal_ratio,
            "postgres_one_collector": load_json(&ingest.postgres),
            "postgres_two_replicas": load_json(&ingest.replicas),
            "ratio_postgres_over_sqlite_full": ingest.postgres.requests_per_sec / earshot_load.requests_per_sec,
            "ratio_two_replicas_over_one": ingest.replicas.requests_per_sec / ingest.postgres.requests_per_sec,
            "stored": ingest.stored,
        },
        "export": {
            "rows": args.rows,
            "rounds": args.rounds,
            "earshot": export_json(&earshot_export, args.rows),
            "sqlite3_cli": export_json(&sqlite_export, args.rows),
            "ratio_sqlite_time_over_earshot_time": export_ratio,
            "postgres": export_json(&pg_export, args.rows),
            "psql_copy": export_json(&psql_export, args.rows),
            "ratio_psql_time_over_earshot_time": psql_export.seconds / pg_export.seconds,
        },
        "widget": widget,
        "mail": mail,
        "statistics": stats,
        "soak": soak,
    });
    write_results(&results)
}

/// How fast email leaves the release collector for a real SMTP server (`tests/tests/speed.rs`),
/// beside the same server taking a message directly.
fn bench_mail(args: &BenchArgs) -> Result<serde_json::Value> {
    tools::ensure_smtp_sink()?;
    step("Timing email: new feedback to the owner's notice, a reply to the visitor's email");
    ignored_bench("speed", "email", args)
}

/// The statistics page over 1.2 million submissions beside the same page over 12,000
/// (`tests/tests/speed.rs`).
fn bench_stats(args: &BenchArgs) -> Result<serde_json::Value> {
    step("Timing the statistics page over 12,000 and 1.2 million submissions");
    ignored_bench("speed", "statistics", args)
}

/// Runs `test`, a benchmark kept among the end-to-end tests (in `tests/tests/{binary}.rs`,
/// ignored by the test run), against the release binary, and reads the figures it prints on
/// its `EARSHOT_BENCH` line.
fn ignored_bench(binary: &str, test: &str, args: &BenchArgs) -> Result<serde_json::Value> {
    let out = cargo()
        .args([
            "test",
            "--package",
            "earshot-e2e",
            "--test",
            binary,
            "--",
            "--ignored",
            "--exact",
            test,
            "--nocapture",
        ])
        .env("EARSHOT_BIN", root().join("target/release/earshot"))
        .env("EARSHOT_BENCH_ROUNDS", (args.rounds * 2 + 1).to_string())
        .env("EARSHOT_SMTP_SINK", tools::SMTP_SINK)
        .env("EARSHOT_E2E_REQUIRED", "1")
        .stderr(Stdio::inherit())
        .output()
        .with_context(|| format!("running {test}"))?;
    let stdout = String::from_utf8_lossy(&out.stdout);
    stdout
        .lines()
        .find_map(|line| line.strip_prefix("EARSHOT_BENCH "))
        .and_then(|json| serde_json::from_str(json).ok())
        .with_context(|| format!("{test} printed no result:\n{stdout}"))
}

fn print_mail(mail: &serde_json::Value) {
    let ms = |key: &str| mail[key].as_f64().unwrap_or(f64::NAN);
    let direct = ms("direct_smtp_ms");
    println!("\n| email (median) | earshot | baseline: direct SMTP | ratio | target |");
    println!("|---|---|---|---|---|");
    for (name, key) in [
        (
            "new feedback → owner's notice accepted",
            "new_feedback_to_notice_ms",
        ),
        (
            "owner's reply → visitor's email accepted",
            "reply_to_visitor_email_ms",
        ),
    ] {
        println!(
            "| {name} | {:.0} ms | {direct:.1} ms | {:.0} | ≤ 5000 ms |",
            ms(key),
            ms(key) / direct
        );
    }
}

fn print_stats(stats: &serde_json::Value) {
    let ms = |key: &str| stats[key].as_f64().unwrap_or(f64::NAN);
    println!(
        "\n| statistics page, last 30 days (median) | {} submissions | baseline: {} submissions | ratio | target |",
        stats["large_rows"], stats["small_rows"]
    );
    println!("|---|---|---|---|---|");
    println!(
        "| time | {:.0} ms | {:.0} ms | {:.2} | ≤ 200 ms |",
        ms("large_ms"),
        ms("small_ms"),
        ms("large_ms") / ms("small_ms")
    );
}

fn build_release() -> Result {
    step("Building the release collector and the ingest baseline");
    exec(cargo().args([
        "build",
        "--release",
        "--package",
        "earshot-collector",
        "--bin",
        "earshot",
        "--example",
        "ingest_baseline",
    ]))
}

fn soak(args: &BenchArgs, dir: &Path) -> Result<serde_json::Value> {
    if args.soak_seconds == 0 {
        return Ok(serde_json::Value::Null);
    }
    crate::soak::run(
        &crate::soak::SoakArgs {
            seconds: args.soak_seconds,
            sample: args.soak_sample,
        },
        dir,
    )
}

fn write_results(results: &serde_json::Value) -> Result {
    let dir = root().join("target/bench");
    std::fs::create_dir_all(&dir).with_context(|| format!("creating {}", dir.display()))?;
    let path = dir.join("results.json");
    std::fs::write(&path, serde_json::to_string_pretty(results).unwrap())
        .with_context(|| path.display().to_string())?;
    eprintln!("\n    wrote {}", path.display());
    Ok(())
}

/// Builds the widget (sizes), then measures it in Chromium against the release collector.
fn bench_widget(args: &BenchArgs) -> Result<serde_json::Value> {
    let toolchain = tools::Toolchain::prepare()?;
    let sizes = crate::widget::build(&toolchain)?;
    tools::ensure_browser()?;
    step("Building the release collector");
    exec(cargo().args([
        "build",
        "--release",
        "--package",
        "earshot-collector",
        "--bin",
        "earshot",
    ]))?;
    step("Timing the widget in Chromium (fresh browser each round)");
    let timings = ignored_bench("widget_speed", "widget_speed_in_chromium", args)?;
    Ok(serde_json::json!({
        "sizes_bytes": {
            "loader_gzip": sizes.loader_gzip,
            "loader_budget_gzip": crate::widget::LOADER_BUDGET_GZIP,
            "wasm": sizes.wasm,
            "wasm_gzip": sizes.wasm_gzip,
            "glue_gzip": sizes.glue_gzip,
            "stylesheet_gzip": sizes.stylesheet_gzip,
            "widget_gzip": sizes.widget_gzip(),
            "widget_budget_gzip": crate::widget::WIDGET_BUDGET_GZIP,
            "widget_brotli": sizes.widget_brotli(),
            "widget_budget_brotli": crate::widget::WIDGET_BUDGET_BROTLI,
        },
        "chromium": timings,
    }))
}

fn print_widget(widget: &serde_json::Value) {
    let sizes = &widget["sizes_bytes"];
    let times = &widget["chromium"];
    let ms = |key: &str| times[key].as_f64().unwrap_or(f64::NAN);
    println!("\n| widget | earshot | baseline | ratio |");
    println!("|---|---|---|---|");
    println!(
        "| loader, gzip | {} B | budget {} B | {:.2} |",
        sizes["loader_gzip"],
        sizes["loader_budget_gzip"],
        sizes["loader_gzip"].as_f64().unwrap_or(0.0)
            / sizes["loader_budget_gzip"].as_f64().unwrap_or(1.0)
    );
    for (encoding, key, budget) in [
        ("gzip", "widget_gzip", "widget_budget_gzip"),
        ("brotli", "widget_brotli", "widget_budget_brotli"),
    ] {
        let budget = &sizes[budget];
        println!(
            "| widget (wasm + glue + css), {encoding} | {} B | budget {budget} B | {:.2} |",
            sizes[key],
            sizes[key].as_f64().unwrap_or(0.0) / budget.as_f64().unwrap_or(1.0)
        );
    }
    println!(
        "| wasm on the wire (as served) | {} B | | |",
        times["wasm_transfer_bytes"]
    );
    println!(
        "| loader → launcher shown | {:.1} ms | | |",
        ms("loader_to_launcher_ms")
    );
    println!(
        "| click → interactive, first visit (fetch + compile) | {:.1} ms | {:.1} ms (native <dialog>) | {:.1} |",
        ms("cold_click_to_interactive_ms"),
        ms("native_dialog_click_to_interactive_ms"),
        ms("cold_click_to_interactive_ms") / ms("native_dialog_click_to_interactive_ms")
    );
    println!(
        "| click → interactive, widget loaded | {:.1} ms | {:.1} ms (native <dialog>) | {:.1} |",
        ms("warm_click_to_interactive_ms"),
        ms("native_dialog_click_to_interactive_ms"),
        ms("warm_click_to_interactive_ms") / ms("native_dialog_click_to_interactive_ms")
    );
    println!(
        "widget: medians of {} fresh-browser rounds; ratio = earshot / baseline (lower is better)",
        times["rounds"]
    );
}

fn load_json(load: &Load) -> serde_json::Value {
    serde_json::json!({
        "requests_per_sec": load.requests_per_sec,
        "p50_ms": load.p50_ms,
        "p99_ms": load.p99_ms,
        "non_2xx": load.failures,
    })
}

fn export_json(run: &ExportRun, rows: u64) -> serde_json::Value {
    serde_json::json!({
        "seconds": run.seconds,
        "rows_per_sec": rows as f64 / run.seconds,
        "peak_memory_mb": run.peak_mb,
    })
}

fn ensure_tools() -> Result {
    step("Checking the benchmark tools");
    let missing: Vec<&str> = [
        ("wrk", "wrk"),
        ("sqlite3", "sqlite3"),
        ("time", "/usr/bin/time"),
        ("curl", "curl"),
    ]
    .into_iter()
    .filter(|(_, binary)| tools::which(binary).is_none() && !Path::new(binary).exists())
    .map(|(package, _)| package)
    .collect();
    if missing.is_empty() {
        eprintln!("    wrk, sqlite3, GNU time and curl are installed");
        return Ok(());
    }
    tools::apt_install(&missing, "load generation and the export baseline")
}

pub(crate) fn earshot(db: &Path) -> Command {
    let mut command = Command::new(root().join("target/release/earshot"));
    command
        .env("EARSHOT_DATABASE", db)
        .env("EARSHOT_LOG", "warn");
    command
}

/// `command` (psql) given the database `url` without its password, which goes in
/// `PGPASSWORD`: commands are echoed, passwords are not.
fn psql(mut command: Command, url: &str) -> Command {
    let (scheme, rest) = url.split_once("://").unwrap_or(("", url));
    let (userinfo, host) = rest.split_once('@').unwrap_or(("", rest));
    match userinfo.split_once(':') {
        Some((user, password)) => {
            command
                .arg(format!("{scheme}://{user}@{host}"))
                .env("PGPASSWORD", password);
        }
        None => {
            command.arg(url);
        }
    }
    command
}

/// `earshot` on a PostgreSQL database.
fn earshot_pg(url: &str) -> Command {
    let mut command = Command::new(root().join("target/release/earshot"));
    command
        .env("EARSHOT_DATABASE_URL", url)
        .env("EARSHOT_LOG", "warn");
    command
}

/// An empty PostgreSQL database named `name` with the bench site; returns its URL.
fn fresh_postgres(admin: &str, name: &str) -> Result<String> {
    for sql in [
        format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"),
        format!("CREATE DATABASE {name}"),
    ] {
        exec(psql(Command::new("psql"), admin).args(["--quiet", "--command", &sql]))?;
    }
    let (server, _) = admin
        .rsplit_once('/')
        .context("the PostgreSQL URL has no database name")?;
    let url = format!("{server}/{name}");
    add_bench_site(earshot_pg(&url))?;
    Ok(url)
}

/// Adds the bench site with `command` (`earshot` pointed at a database).
fn add_bench_site(mut command: Command) -> Result {
    let added = command
        .args([
            "site", "add", "--name", "Bench", "--key", "bench", "--origin", ORIGIN,
        ])
        .stdout(Stdio::null())
        .status()
        .context("running earshot site add")?;
    added
        .success()
        .then_some(())
        .context("could not create the bench site")
}

/// How many submissions the bench site holds, from `earshot site list`.
fn stored(mut command: Command) -> u64 {
    output(command.args(["site", "list"]))
        .and_then(|list| {
            list.lines()
                .find(|line| line.starts_with("bench "))
                .and_then(|line| line.split_whitespace().nth(1)?.parse().ok())
        })
        .unwrap_or(0)
}

pub(crate) fn fresh_database(db: &Path) -> Result {
    for suffix in ["", "-wal", "-shm"] {
        let _ = std::fs::remove_file(format!("{}{suffix}", db.display()));
    }
    add_bench_site(earshot(db))
}

pub(crate) fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

pub(crate) struct Server(Child);

impl Server {
    pub(crate) fn pid(&self) -> u32 {
        self.0.id()
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn start(command: Command, port: u16) -> Result<Server> {
    start_with_stderr(command, port, Stdio::null())
}

/// Like [`start`], with the collector's log (standard error) written to `log`.
pub(crate) fn start_logging(command: Command, port: u16, log: std::fs::File) -> Result<Server> {
    start_with_stderr(command, port, Stdio::from(log))
}

fn start_with_stderr(mut command: Command, port: u16, stderr: Stdio) -> Result<Server> {
    let child = command
        .stdout(Stdio::null())
        .stderr(stderr)
        .spawn()
        .with_context(|| format!("starting {command:?}"))?;
    let server = Server(child);
    let deadline = Instant::now() + Duration::from_secs(20);
    while TcpStream::connect(("127.0.0.1", port)).is_err() {
        if Instant::now() > deadline {
            bail!("nothing listened on port {port}");
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    Ok(server)
}

/// Numbers wrk's threads, so that each thread's submission ids differ: the start of every
/// wrk script here.
pub(crate) const WRK_THREAD_IDS: &str = r#"local threads = 0
function setup(thread)
  threads = threads + 1
  thread:set("thread_id", threads)
end
"#;

/// Unique submissions: the time, the wrk thread and a counter make each id (after
/// [`WRK_THREAD_IDS`]).
const WRK_SCRIPT: &str = r#"local counter = 0
local started = os.time()
-- Several wrk at once (two replicas) each get their own seed, so their ids differ too.
local seed = 0
function init(args)
  seed = tonumber(args[1]) or 0
end
wrk.method = "POST"
wrk.headers["Content-Type"] = "text/plain;charset=UTF-8"
wrk.headers["Origin"] = "http://bench.example"
function request()
  counter = counter + 1
  local id = string.format("%08x-%04x-4000-8000-%012x", started % 4294967295, seed * 256 + (thread_id or 0), counter)
  local body = '{"id":"' .. id .. '","site":"bench","rating":{"kind":"stars","value":4},'
    .. '"comment":"Lovely tea, slow delivery, and the \\"gift\\" box was dented.\\nWill order again.",'
    .. '"page_url":"https://bench.example/tea/darjeeling?ref=newsletter","locale":"en-GB",'
    .. '"client":{"viewport_width":1280,"viewport_height":720,"user_agent":"Mozilla/5.0 (X11; Linux x86_64) wrk"},'
    .. '"open_ms":5000}'
  return wrk.format(nil, "/v1/feedback", nil, body)
end
"#;

/// The medians of each ingest configuration.
struct Ingest {
    baseline: Load,
    full: Load,
    normal: Load,
    postgres: Load,
    replicas: Load,
    stored: u64,
}

pub(crate) fn serve_args(port: u16) -> Vec<String> {
    [
        "serve",
        "--listen",
        &format!("127.0.0.1:{port}"),
        "--rate-limit-visitor",
        "0",
        "--rate-limit-site",
        "0",
    ]
    .map(str::to_owned)
    .to_vec()
}

fn bench_ingest(args: &BenchArgs, dir: &Path, postgres: &str) -> Result<Ingest> {
    step(
        "Ingest: earshot on SQLite and on PostgreSQL (one collector, two replicas) against a no-storage baseline",
    );
    let script = dir.join("post.lua");
    std::fs::write(&script, [WRK_THREAD_IDS, WRK_SCRIPT].concat())
        .with_context(|| script.display().to_string())?;

    let mut servers = Vec::new();
    let mut ports = Vec::new();
    for sync in ["full", "normal"] {
        let db = dir.join(format!("ingest-{sync}.db"));
        fresh_database(&db)?;
        let port = free_port();
        let mut serve = earshot(&db);
        serve.args(serve_args(port)).args(["--sync", sync]);
        servers.push((start(serve, port)?, db));
        ports.push(port);
    }
    // Two collectors on one PostgreSQL database, both running throughout: "one collector"
    // loads the first, "two replicas" loads both at once.
    let url = fresh_postgres(postgres, "earshot_bench_ingest")?;
    let mut replicas = Vec::new();
    let mut replica_ports = Vec::new();
    for _ in 0..2 {
        let port = free_port();
        let mut serve = earshot_pg(&url);
        serve.args(serve_args(port));
        replicas.push(start(serve, port)?);
        replica_ports.push(port);
    }
    let baseline_port = free_port();
    let mut baseline = Command::new(root().join("target/release/examples/ingest_baseline"));
    baseline.arg(format!("127.0.0.1:{baseline_port}"));
    let _baseline = start(baseline, baseline_port)?;

    let mut runs: [Vec<Load>; 5] = Default::default();
    for round in 1..=args.rounds {
        for (index, name) in ["baseline", "full", "normal", "postgres", "2 replicas"]
            .into_iter()
            .enumerate()
        {
            let load = match index {
                0 => wrk(args, &script, baseline_port, args.connections, 0)?,
                1 | 2 => wrk(args, &script, ports[index - 1], args.connections, 0)?,
                3 => wrk(args, &script, replica_ports[0], args.connections, 0)?,
                _ => {
                    let half = (args.connections / 2).max(1);
                    let (first, second) = std::thread::scope(|scope| {
                        let first = scope.spawn(|| wrk(args, &script, replica_ports[0], half, 1));
                        let second = scope.spawn(|| wrk(args, &script, replica_ports[1], half, 2));
                        (first.join(), second.join())
                    });
                    let (first, second) = (
                        first.map_err(|_| anyhow!("wrk thread panicked"))??,
                        second.map_err(|_| anyhow!("wrk thread panicked"))??,
                    );
                    Load {
                        requests_per_sec: first.requests_per_sec + second.requests_per_sec,
                        p50_ms: first.p50_ms.max(second.p50_ms),
                        p99_ms: first.p99_ms.max(second.p99_ms),
                        failures: first.failures + second.failures,
                    }
                }
            };
            eprintln!(
                "    round {round} {name:<10} {:>8.0} req/s  p50 {:>6.2} ms  p99 {:>6.2} ms  non-2xx {}",
                load.requests_per_sec, load.p50_ms, load.p99_ms, load.failures
            );
            runs[index].push(load);
        }
    }
    let stored = servers
        .iter()
        .map(|(_, db)| stored(earshot(db)))
        .sum::<u64>()
        + stored(earshot_pg(&url));
    Ok(Ingest {
        baseline: median_load(&runs[0]),
        full: median_load(&runs[1]),
        normal: median_load(&runs[2]),
        postgres: median_load(&runs[3]),
        replicas: median_load(&runs[4]),
        stored,
    })
}

fn wrk(args: &BenchArgs, script: &Path, port: u16, connections: u32, seed: u32) -> Result<Load> {
    let out = Command::new("wrk")
        .args([
            "--threads",
            "2",
            "--connections",
            &connections.to_string(),
            "--duration",
            &format!("{}s", args.seconds),
            "--latency",
            "--script",
        ])
        .arg(script)
        .arg(format!("http://127.0.0.1:{port}/v1/feedback"))
        .args(["--", &seed.to_string()])
        .output()
        .context("running wrk")?;
    let text = String::from_utf8_lossy(&out.stdout);
    parse_wrk(&text).with_context(|| format!("could not read wrk's output:\n{text}"))
}

/// Reads requests/s, the 50th and 99th latency percentiles and failures from `wrk --latency`.
fn parse_wrk(text: &str) -> Option<Load> {
    let millis = |value: &str| -> Option<f64> {
        let (number, unit) = value.split_at(value.find(|c: char| c.is_ascii_alphabetic())?);
        let number: f64 = number.parse().ok()?;
        Some(match unit {
            "us" => number / 1000.0,
            "ms" => number,
            "s" => number * 1000.0,
            "m" => number * 60_000.0,
            _ => return None,
        })
    };
    let percentile = |label: &str| {
        text.lines()
            .map(str::trim)
            .find_map(|line| line.strip_prefix(label).map(str::trim))
            .and_then(millis)
    };
    let requests_per_sec = text
        .lines()
        .find_map(|line| line.trim().strip_prefix("Requests/sec:"))?
        .trim()
        .parse()
        .ok()?;
    let failures = text
        .lines()
        .find_map(|line| line.trim().strip_prefix("Non-2xx or 3xx responses:"))
        .and_then(|n| n.trim().parse().ok())
        .unwrap_or(0);
    let socket_errors = text
        .lines()
        .find_map(|line| line.trim().strip_prefix("Socket errors:"))
        .map(|rest| {
            rest.split(',')
                .filter_map(|part| part.split_whitespace().nth(1)?.parse::<u64>().ok())
                .sum::<u64>()
        })
        .unwrap_or(0);
    Some(Load {
        requests_per_sec,
        p50_ms: percentile("50%")?,
        p99_ms: percentile("99%")?,
        failures: failures + socket_errors,
    })
}

fn bench_export(args: &BenchArgs, dir: &Path) -> Result<(ExportRun, ExportRun)> {
    step(&format!(
        "Export: {} rows as CSV, earshot export against sqlite3 -csv",
        args.rows
    ));
    let db = dir.join("export.db");
    fresh_database(&db)?;
    let fill = format!(
        "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < {rows})
         INSERT INTO feedback (id, site_key, received_at, rating_kind, rating_value, comment, email,
                               page_url, locale, user_agent, viewport_width, viewport_height)
         SELECT printf('%08x-0000-4000-8000-%012x', i, i), 'bench', 1764000000000 + i * 1000, 'stars',
                1 + i % 5, 'Lovely tea, slow delivery, and the \"gift\" box was dented.' || char(10) || 'Order ' || i,
                CASE WHEN i % 3 = 0 THEN 'visitor' || i || '@example.com' END,
                'https://bench.example/tea/' || (i % 200), 'en-GB',
                'Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 Chrome/156.0 Safari/537.36', 1280, 720
         FROM n;",
        rows = args.rows
    );
    let started = Instant::now();
    exec(Command::new("sqlite3").arg(&db).arg(fill))?;
    eprintln!(
        "    stored {} rows in {:.1} s",
        args.rows,
        started.elapsed().as_secs_f64()
    );

    let earshot_csv = dir.join("export-earshot.csv");
    let sqlite_csv = dir.join("export-sqlite3.csv");
    let query = "SELECT id, received_at, site_key, rating_kind, rating_value, comment, email, page_url, \
                 locale, user_agent, viewport_width, viewport_height, status, spam \
                 FROM feedback WHERE site_key = 'bench' AND spam = 0 ORDER BY seq";
    let (earshot, sqlite) = export_rounds(
        args,
        "sqlite3",
        || {
            let mut sqlite = gnu_time("sqlite3");
            sqlite.args(["-csv", "-header"]).arg(&db).arg(query).stdout(
                std::fs::File::create(&sqlite_csv)
                    .with_context(|| sqlite_csv.display().to_string())?,
            );
            Ok(sqlite)
        },
        ("EARSHOT_DATABASE", db.as_os_str()),
        &earshot_csv,
    )?;
    let size = |path: &PathBuf| std::fs::metadata(path).map(|m| m.len()).unwrap_or(0);
    eprintln!(
        "    files: earshot {:.1} MB, sqlite3 {:.1} MB",
        size(&earshot_csv) as f64 / 1e6,
        size(&sqlite_csv) as f64 / 1e6
    );
    Ok((earshot, sqlite))
}

/// Alternating rounds of `baseline` and of `earshot export` on the database that
/// `database` (an environment variable and its value) names, each under GNU time; the
/// medians of each.
fn export_rounds(
    args: &BenchArgs,
    name: &str,
    baseline: impl Fn() -> Result<Command>,
    database: (&str, &std::ffi::OsStr),
    output: &Path,
) -> Result<(ExportRun, ExportRun)> {
    let mut earshot_runs = Vec::new();
    let mut baseline_runs = Vec::new();
    for round in 1..=args.rounds {
        let baseline_run = timed(baseline()?)?;
        let mut ours = gnu_time(root().join("target/release/earshot"));
        ours.args(["export", "--site", "bench", "--output"])
            .arg(output)
            .env(database.0, database.1)
            .env("EARSHOT_LOG", "warn");
        let earshot_run = timed(ours)?;
        eprintln!(
            "    round {round} earshot {:>6.2} s {:>6.1} MB   {name} {:>6.2} s {:>6.1} MB",
            earshot_run.seconds, earshot_run.peak_mb, baseline_run.seconds, baseline_run.peak_mb
        );
        earshot_runs.push(earshot_run);
        baseline_runs.push(baseline_run);
    }
    Ok((median_export(&earshot_runs), median_export(&baseline_runs)))
}

fn bench_export_postgres(
    args: &BenchArgs,
    dir: &Path,
    postgres: &str,
) -> Result<(ExportRun, ExportRun)> {
    step(&format!(
        "Export from PostgreSQL: {} rows as CSV, earshot export against psql \\copy",
        args.rows
    ));
    let url = fresh_postgres(postgres, "earshot_bench_export")?;
    let fill = format!(
        "INSERT INTO feedback (id, site_key, received_at, rating_kind, rating_value, comment, email,
                               page_url, locale, user_agent, viewport_width, viewport_height)
         SELECT lpad(to_hex(i), 8, '0') || '-0000-4000-8000-' || lpad(to_hex(i), 12, '0'), 'bench',
                1764000000000 + i * 1000, 'stars', 1 + i % 5,
                'Lovely tea, slow delivery, and the \"gift\" box was dented.' || chr(10) || 'Order ' || i,
                CASE WHEN i % 3 = 0 THEN 'visitor' || i || '@example.com' END,
                'https://bench.example/tea/' || (i % 200), 'en-GB',
                'Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 Chrome/156.0 Safari/537.36', 1280, 720
         FROM generate_series(1, {rows}) AS i",
        rows = args.rows
    );
    let started = Instant::now();
    exec(psql(Command::new("psql"), &url).args([
        "--quiet",
        "--command",
        &fill,
        "--command",
        "VACUUM ANALYZE feedback",
    ]))?;
    eprintln!(
        "    stored {} rows in {:.1} s",
        args.rows,
        started.elapsed().as_secs_f64()
    );
    let earshot_csv = dir.join("export-postgres-earshot.csv");
    let psql_csv = dir.join("export-postgres-psql.csv");
    let copy = format!(
        "\\copy (SELECT id, received_at, site_key, rating_kind, rating_value, comment, email, page_url, \
         locale, user_agent, viewport_width, viewport_height, status, spam FROM feedback \
         WHERE site_key = 'bench' AND NOT spam ORDER BY seq) TO '{}' WITH (FORMAT csv, HEADER)",
        psql_csv.display()
    );
    export_rounds(
        args,
        "psql",
        || {
            let mut psql = psql(gnu_time("psql"), &url);
            psql.args(["--quiet", "--command", &copy]);
            Ok(psql)
        },
        ("EARSHOT_DATABASE_URL", std::ffi::OsStr::new(&url)),
        &earshot_csv,
    )
}

/// `program` under GNU time, which reports its elapsed seconds and peak memory (see
/// [`timed`]).
fn gnu_time(program: impl AsRef<std::ffi::OsStr>) -> Command {
    let mut command = Command::new("/usr/bin/time");
    command.args(["-f", "%e %M"]).arg(program);
    command
}

/// Runs a command made by [`gnu_time`]: elapsed seconds and peak memory.
fn timed(mut command: Command) -> Result<ExportRun> {
    let out = command
        .stderr(Stdio::piped())
        .output()
        .with_context(|| format!("running {command:?}"))?;
    if !out.status.success() {
        bail!(
            "{command:?} failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
    let stderr = String::from_utf8_lossy(&out.stderr);
    let last = stderr.lines().last().unwrap_or("");
    let mut fields = last.split_whitespace();
    let seconds: f64 = fields
        .next()
        .and_then(|s| s.parse().ok())
        .context("no time from GNU time")?;
    let kilobytes: f64 = fields
        .next()
        .and_then(|s| s.parse().ok())
        .context("no memory from GNU time")?;
    Ok(ExportRun {
        seconds: seconds.max(0.01),
        peak_mb: kilobytes / 1024.0,
    })
}

fn median(mut values: Vec<f64>) -> f64 {
    values.sort_by(f64::total_cmp);
    values[values.len() / 2]
}

fn median_load(runs: &[Load]) -> Load {
    Load {
        requests_per_sec: median(runs.iter().map(|r| r.requests_per_sec).collect()),
        p50_ms: median(runs.iter().map(|r| r.p50_ms).collect()),
        p99_ms: median(runs.iter().map(|r| r.p99_ms).collect()),
        failures: runs.iter().map(|r| r.failures).sum(),
    }
}

fn median_export(runs: &[ExportRun]) -> ExportRun {
    ExportRun {
        seconds: median(runs.iter().map(|r| r.seconds).collect()),
        peak_mb: median(runs.iter().map(|r| r.peak_mb).collect()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_wrk_output() {
        let text = "Running 10s test @ http://127.0.0.1:1/v1/feedback
  2 threads and 64 connections
  Latency Distribution
     50%  812.00us
     75%    1.20ms
     90%    2.01ms
     99%   10.43ms
  120000 requests in 10.00s, 20.00MB read
  Socket errors: connect 0, read 2, write 0, timeout 1
  Non-2xx or 3xx responses: 3
Requests/sec:  12000.50
Transfer/sec:      2.00MB
";
        let load = parse_wrk(text).unwrap();
        assert_eq!(load.requests_per_sec, 12000.5);
        assert!((load.p50_ms - 0.812).abs() < 1e-9);
        assert_eq!(load.p99_ms, 10.43);
        assert_eq!(load.failures, 6);
    }
}
