//! The soak in `cargo xtask bench`: sustained ingest on SQLite (`--sync full`, no rate
//! limits), a full CSV export every [`EXPORT_EVERY`] and the dashboard read every
//! [`DASHBOARD_EVERY`], for `--soak-seconds`. Every `--soak-sample` seconds it prints the
//! WAL's size, the database's size and the collector's resident memory; at the end, the WAL
//! after [`IDLE`] without load, resident memory after 100k and 1M submissions, the slopes per
//! 100k submissions, the log's bytes per request, and whether every acknowledged submission
//! is in a final export exactly once.
//!
//! Not part of `cargo xtask test`: it runs for minutes and its figures are for people.

use std::collections::HashSet;
use std::path::Path;
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

use anyhow::{Context, anyhow, bail};

use crate::{Result, exec, step};

/// How often the soak downloads a full CSV export over HTTP.
const EXPORT_EVERY: Duration = Duration::from_secs(30);
/// How often the soak reads the dashboard's inbox and statistics.
const DASHBOARD_EVERY: Duration = Duration::from_secs(2);
/// How long the collector is left without load before the last sample.
const IDLE: Duration = Duration::from_secs(5);
/// Concurrent clients, as in the soak that found the unbounded WAL.
const CONNECTIONS: u32 = 8;
/// The WAL's stated bound (the writer checkpoints past it; `journal_size_limit`).
const WAL_BOUND_BYTES: u64 = 64 * 1024 * 1024;

const EMAIL: &str = "soak@bench.example";
const PASSWORD: &str = "soak-bench-password";

/// Submissions with comments of every length up to the 5,000-character limit: most are a
/// sentence, one in ten is long (after [`super::bench::WRK_THREAD_IDS`]).
const SOAK_SCRIPT: &str = r#"local counter = 0
local started = os.time()
wrk.method = "POST"
wrk.headers["Content-Type"] = "text/plain;charset=UTF-8"
wrk.headers["Origin"] = "http://bench.example"
function request()
  counter = counter + 1
  local id = string.format("%08x-%04x-4000-8000-%012x", started % 4294967295, thread_id or 0, counter)
  local comment = "Lovely tea, slow delivery, and the \\\"gift\\\" box was dented."
  if counter % 10 == 0 then
    comment = string.rep("The parcel arrived late again. ", 1 + (counter * 7) % 160)
  end
  local body = '{"id":"' .. id .. '","site":"bench","rating":{"kind":"stars","value":' .. (1 + counter % 5) .. '},'
    .. '"comment":"' .. comment .. '",'
    .. '"page_url":"https://bench.example/tea/darjeeling?ref=newsletter","locale":"en-GB",'
    .. '"client":{"viewport_width":1280,"viewport_height":720,"user_agent":"Mozilla/5.0 (X11; Linux x86_64) wrk"},'
    .. '"open_ms":5000}'
  return wrk.format(nil, "/v1/feedback", nil, body)
end
"#;

/// One reading of the collector's footprint.
#[derive(Debug, Clone, Copy)]
struct Sample {
    seconds: f64,
    stored: u64,
    wal: u64,
    database: u64,
    rss: u64,
}

pub struct SoakArgs {
    pub seconds: u32,
    pub sample: u32,
}

pub fn run(args: &SoakArgs, dir: &Path) -> Result<serde_json::Value> {
    step(&format!(
        "Soak: {} s of ingest ({CONNECTIONS} clients, --sync full) with a CSV export every {} s and the dashboard every {} s",
        args.seconds,
        EXPORT_EVERY.as_secs(),
        DASHBOARD_EVERY.as_secs()
    ));
    let db = dir.join("soak.db");
    super::bench::fresh_database(&db)?;
    let mut add_user = super::bench::earshot(&db);
    add_user
        .args(["user", "add", EMAIL, "--password-stdin"])
        .stdin(Stdio::piped())
        .stdout(Stdio::null());
    let mut child = add_user.spawn().context("running earshot user add")?;
    {
        use std::io::Write;
        let mut stdin = child.stdin.take().context("no stdin")?;
        writeln!(stdin, "{PASSWORD}").context("writing the password to earshot user add")?;
    }
    if !child.wait().is_ok_and(|status| status.success()) {
        bail!("could not create the soak's owner account");
    }
    let token = crate::output(
        super::bench::earshot(&db).args(["token", "create", "--name", "soak", "--site", "bench"]),
    )
    .context("could not create the soak's API token")?;

    let log = dir.join("soak.log");
    let port = super::bench::free_port();
    let mut serve = super::bench::earshot(&db);
    serve
        .args(super::bench::serve_args(port))
        .args(["--sync", "full"])
        .env("EARSHOT_LOG", "info");
    let log_file = std::fs::File::create(&log).with_context(|| log.display().to_string())?;
    let server = super::bench::start_logging(serve, port, log_file)?;
    let pid = server.pid();
    let base = format!("http://127.0.0.1:{port}");

    let script = dir.join("soak.lua");
    std::fs::write(
        &script,
        [super::bench::WRK_THREAD_IDS, SOAK_SCRIPT].concat(),
    )
    .with_context(|| script.display().to_string())?;
    let jar = dir.join("soak-cookies.txt");
    let _ = std::fs::remove_file(&jar);
    exec(Command::new("curl").args([
        "--silent",
        "--show-error",
        "--output",
        "/dev/null",
        "--cookie-jar",
        &jar.display().to_string(),
        "--data-urlencode",
        &format!("email={EMAIL}"),
        "--data-urlencode",
        &format!("password={PASSWORD}"),
        "--data-urlencode",
        "next=/admin/inbox",
        &format!("{base}/admin/login"),
    ]))?;

    let done = AtomicBool::new(false);
    let exports = AtomicU64::new(0);
    let dashboard_reads = AtomicU64::new(0);
    let started = Instant::now();
    let mut samples = Vec::new();
    let wal_path = dir.join("soak.db-wal");
    let sample = |stored: u64| Sample {
        seconds: started.elapsed().as_secs_f64(),
        stored,
        wal: file_size(&wal_path),
        database: file_size(&db),
        rss: resident_bytes(pid),
    };
    println!("| s | stored | WAL MB | database MB | RSS MB | exports | dashboard reads |");
    println!("|---|---|---|---|---|---|---|");
    let print = |at: &Sample, exports: u64, reads: u64| {
        println!(
            "| {:.0} | {} | {:.1} | {:.1} | {:.1} | {exports} | {reads} |",
            at.seconds,
            at.stored,
            mb(at.wal),
            mb(at.database),
            mb(at.rss)
        );
    };
    let wrk_text = std::thread::scope(|scope| -> Result<String> {
        let load = scope.spawn(|| {
            Command::new("wrk")
                .args([
                    "--threads",
                    "2",
                    "--connections",
                    &CONNECTIONS.to_string(),
                    "--duration",
                    &format!("{}s", args.seconds),
                    "--timeout",
                    "30s",
                    "--script",
                ])
                .arg(&script)
                .arg(format!("{base}/v1/feedback"))
                .output()
                .map(|out| String::from_utf8_lossy(&out.stdout).into_owned())
        });
        scope.spawn(|| {
            let mut next = Instant::now() + EXPORT_EVERY;
            while !done.load(Ordering::Relaxed) {
                if Instant::now() >= next {
                    let _ = Command::new("curl")
                        .args(["--silent", "--output", "/dev/null", "--header"])
                        .arg(format!("Authorization: Bearer {token}"))
                        .arg(format!("{base}/v1/sites/bench/feedback.csv"))
                        .status();
                    exports.fetch_add(1, Ordering::Relaxed);
                    next = Instant::now() + EXPORT_EVERY;
                }
                std::thread::sleep(Duration::from_millis(200));
            }
        });
        scope.spawn(|| {
            while !done.load(Ordering::Relaxed) {
                for page in ["inbox", "stats"] {
                    let _ = Command::new("curl")
                        .args(["--silent", "--output", "/dev/null", "--cookie"])
                        .arg(&jar)
                        .arg(format!("{base}/admin/{page}"))
                        .status();
                }
                dashboard_reads.fetch_add(1, Ordering::Relaxed);
                std::thread::sleep(DASHBOARD_EVERY);
            }
        });
        let every = Duration::from_secs(args.sample.max(1).into());
        while !load.is_finished() {
            std::thread::sleep(every.min(Duration::from_millis(500)));
            let due = samples.last().is_none_or(|last: &Sample| {
                started.elapsed().as_secs_f64() - last.seconds >= every.as_secs_f64()
            });
            if due && !load.is_finished() {
                let at = sample(stored_so_far(&base));
                print(
                    &at,
                    exports.load(Ordering::Relaxed),
                    dashboard_reads.load(Ordering::Relaxed),
                );
                samples.push(at);
            }
        }
        done.store(true, Ordering::Relaxed);
        load.join()
            .map_err(|_| anyhow!("the wrk thread panicked"))?
            .context("running wrk")
    })?;
    let under_load = sample(stored_so_far(&base));
    samples.push(under_load);
    std::thread::sleep(IDLE);
    let idle = sample(stored_so_far(&base));
    print(
        &idle,
        exports.load(Ordering::Relaxed),
        dashboard_reads.load(Ordering::Relaxed),
    );

    // Every acknowledged submission, exactly once, in an export started after the load.
    let (sent, refused) = wrk_counts(&wrk_text)
        .with_context(|| format!("could not read wrk's output:\n{wrk_text}"))?;
    let acknowledged = sent - refused;
    let jsonl = Command::new("curl")
        .args(["--silent", "--show-error", "--header"])
        .arg(format!("Authorization: Bearer {token}"))
        .arg(format!("{base}/v1/sites/bench/feedback.jsonl?spam=include"))
        .output()
        .context("exporting with curl")?
        .stdout;
    let mut ids = HashSet::new();
    let mut rows = 0u64;
    for line in jsonl
        .split(|byte| *byte == b'\n')
        .filter(|line| !line.is_empty())
    {
        let row: serde_json::Value = serde_json::from_slice(line).context("an export line")?;
        ids.insert(row["id"].as_str().unwrap_or_default().to_owned());
        rows += 1;
    }
    // The statistics page over everything stored, idle: SQL aggregation on the database.
    let stats_seconds = {
        let mut timings: Vec<f64> = (0..3)
            .map(|_| {
                let began = Instant::now();
                let _ = Command::new("curl")
                    .args(["--silent", "--output", "/dev/null", "--cookie"])
                    .arg(&jar)
                    .arg(format!("{base}/admin/stats"))
                    .status();
                began.elapsed().as_secs_f64()
            })
            .collect();
        timings.sort_by(f64::total_cmp);
        timings[1]
    };
    let requests_logged = idle.stored.max(1);
    let log_bytes = file_size(&log);
    drop(server);

    let peak_wal = samples.iter().map(|at| at.wal).max().unwrap_or(0);
    let at_least = |count: u64| samples.iter().find(|at| at.stored >= count).copied();
    let (rss_100k, rss_1m) = (at_least(100_000), at_least(1_000_000));
    let slope = |value: fn(&Sample) -> u64| -> Option<f64> {
        let first = at_least(100_000)?;
        let last = samples.last()?;
        let per = (last.stored.checked_sub(first.stored)? as f64) / 100_000.0;
        (per > 0.0).then(|| (value(last) as f64 - value(&first) as f64) / per)
    };
    let shown = |at: Option<Sample>| {
        at.map_or("not reached".to_owned(), |at| {
            format!("{:.1} MB (at {} s)", mb(at.rss), at.seconds as u64)
        })
    };
    let per_100k =
        |slope: Option<f64>| slope.map_or("n/a".to_owned(), |s| format!("{:+.1} MB", mb_f(s)));
    step("Soak results");
    println!("| measurement | value |");
    println!("|---|---|");
    println!(
        "| submissions acknowledged / exported once / exported rows | {acknowledged} / {} / {rows} |",
        ids.len()
    );
    println!(
        "| WAL peak under load / after {} s idle | {:.1} MB / {:.1} MB (bound {} MB) |",
        IDLE.as_secs(),
        mb(peak_wal),
        mb(idle.wal),
        WAL_BOUND_BYTES / 1024 / 1024
    );
    println!("| database at the end | {:.1} MB |", mb(idle.database));
    println!(
        "| statistics page over {} submissions, idle (median of 3) | {stats_seconds:.3} s |",
        idle.stored
    );
    println!("| RSS after 100k submissions | {} |", shown(rss_100k));
    println!("| RSS after 1M submissions | {} |", shown(rss_1m));
    println!("| RSS at the end, idle | {:.1} MB |", mb(idle.rss));
    println!(
        "| slope per 100k submissions: WAL / database / RSS | {} / {} / {} |",
        per_100k(slope(|at| at.wal)),
        per_100k(slope(|at| at.database)),
        per_100k(slope(|at| at.rss))
    );
    println!(
        "| log at info, bytes per request | {:.0} |",
        log_bytes as f64 / requests_logged as f64
    );
    // wrk stops with up to one request per connection in flight: stored, never counted.
    let complete =
        ids.len() as u64 == rows && rows >= acknowledged && rows <= sent + u64::from(CONNECTIONS);
    println!(
        "\nsoak: {}",
        if complete && peak_wal <= WAL_BOUND_BYTES {
            "every acknowledged submission exported once; the WAL stayed within its bound"
        } else if !complete {
            "EXPORT MISMATCH: acknowledged submissions missing or duplicated"
        } else {
            "THE WAL PASSED ITS BOUND"
        }
    );

    Ok(serde_json::json!({
        "seconds": args.seconds,
        "connections": CONNECTIONS,
        "acknowledged": acknowledged,
        "exported_rows": rows,
        "exported_unique_ids": ids.len(),
        "wal_peak_bytes": peak_wal,
        "wal_idle_bytes": idle.wal,
        "database_bytes": idle.database,
        "rss_after_100k_bytes": rss_100k.map(|at| at.rss),
        "rss_after_1m_bytes": rss_1m.map(|at| at.rss),
        "rss_idle_bytes": idle.rss,
        "slope_per_100k_bytes": {
            "wal": slope(|at| at.wal),
            "database": slope(|at| at.database),
            "rss": slope(|at| at.rss),
        },
        "stats_page_seconds": stats_seconds,
        "log_bytes_per_request": log_bytes as f64 / requests_logged as f64,
        "samples": samples.iter().map(|at| serde_json::json!({
            "seconds": at.seconds, "stored": at.stored, "wal": at.wal,
            "database": at.database, "rss": at.rss,
        })).collect::<Vec<_>>(),
    }))
}

fn mb(bytes: u64) -> f64 {
    bytes as f64 / 1e6
}

fn mb_f(bytes: f64) -> f64 {
    bytes / 1e6
}

fn file_size(path: &Path) -> u64 {
    std::fs::metadata(path).map_or(0, |meta| meta.len())
}

/// VmRSS of a process, from `/proc` (0 where there is none).
fn resident_bytes(pid: u32) -> u64 {
    std::fs::read_to_string(format!("/proc/{pid}/status"))
        .ok()
        .and_then(|status| {
            status
                .lines()
                .find(|line| line.starts_with("VmRSS:"))
                .and_then(|line| line.split_whitespace().nth(1)?.parse::<u64>().ok())
        })
        .map_or(0, |kib| kib * 1024)
}

/// Submissions this collector stored, from its `/metrics` (stored and spam outcomes).
fn stored_so_far(base: &str) -> u64 {
    let Some(text) =
        crate::output(Command::new("curl").args(["--silent", &format!("{base}/metrics")]))
    else {
        return 0;
    };
    text.lines()
        .filter(|line| {
            line.starts_with(r#"earshot_submissions_total{outcome="stored""#)
                || line.starts_with(r#"earshot_submissions_total{outcome="spam""#)
        })
        .filter_map(|line| line.rsplit(' ').next()?.parse::<u64>().ok())
        .sum()
}

/// Requests wrk completed and those answered with something other than 2xx or 3xx.
fn wrk_counts(text: &str) -> Option<(u64, u64)> {
    let sent = text
        .lines()
        .find(|line| line.contains(" requests in "))?
        .split_whitespace()
        .next()?
        .parse()
        .ok()?;
    let refused = text
        .lines()
        .find(|line| line.contains("Non-2xx or 3xx responses:"))
        .and_then(|line| line.rsplit(' ').next()?.parse().ok())
        .unwrap_or(0);
    Some((sent, refused))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_wrk_counts() {
        let text = "Running 10s test\n  2 threads and 8 connections\n  \
                    12345 requests in 10.00s, 1.23MB read\n  Non-2xx or 3xx responses: 7\n";
        assert_eq!(wrk_counts(text), Some((12_345, 7)));
        assert_eq!(
            wrk_counts("  99 requests in 1.00s, 1KB read\n"),
            Some((99, 0))
        );
    }
}
