//! The real `earshot` binary, started on a free port with a database in a temporary folder
//! (SQLite) or a scratch PostgreSQL database, and killed when dropped.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

use earshot_collector::store::ScratchDatabase;

use super::{free_port, root};

/// The database a collector runs on.
#[derive(Clone)]
pub enum Engine {
    /// `earshot.db` in the collector's folder.
    Sqlite,
    /// A scratch database of its own on the test PostgreSQL server, shared by replicas.
    Postgres(Arc<ScratchDatabase>),
}

impl Engine {
    /// A fresh PostgreSQL database, when `EARSHOT_TEST_POSTGRES_URL` names a server (`cargo
    /// xtask test` starts one and requires it).
    pub fn postgres() -> Option<Self> {
        match std::env::var("EARSHOT_TEST_POSTGRES_URL") {
            Ok(admin) if !admin.is_empty() => Some(Self::Postgres(Arc::new(
                ScratchDatabase::create(&admin).expect("a scratch PostgreSQL database"),
            ))),
            _ if super::browser_required() => panic!(
                "EARSHOT_TEST_POSTGRES_URL is not set: PostgreSQL would go untested. Run \
                 `cargo xtask test` (it starts a server), or set EARSHOT_ALLOW_SKIPS=1 to skip"
            ),
            _ => {
                eprintln!("SKIPPED: EARSHOT_TEST_POSTGRES_URL is not set: no PostgreSQL");
                None
            }
        }
    }

    /// SQLite, and PostgreSQL when there is a server: what storage tests run on.
    pub fn all() -> Vec<Self> {
        std::iter::once(Self::Sqlite)
            .chain(Self::postgres())
            .collect()
    }

    pub fn name(&self) -> &'static str {
        match self {
            Self::Sqlite => "sqlite",
            Self::Postgres(_) => "postgres",
        }
    }

    /// Points an `earshot` command at this database.
    fn apply(&self, command: &mut Command, dir: &Path) {
        command.env("EARSHOT_DATABASE", dir.join("earshot.db"));
        match self {
            Self::Sqlite => command.env_remove("EARSHOT_DATABASE_URL"),
            Self::Postgres(database) => command.env("EARSHOT_DATABASE_URL", database.url()),
        };
    }
}

pub struct Collector {
    pub port: u16,
    pub dir: tempfile::TempDir,
    pub engine: Engine,
    serve_args: Vec<String>,
    child: Child,
}

/// The `earshot` binary the tests run: `EARSHOT_BIN`, or the one cargo built beside this test.
pub fn binary() -> PathBuf {
    if let Some(bin) = std::env::var_os("EARSHOT_BIN") {
        return bin.into();
    }
    let exe = std::env::current_exe().unwrap();
    let bin = exe.parent().unwrap().parent().unwrap().join("earshot");
    assert!(
        bin.exists(),
        "{} is missing: run `cargo build -p earshot-collector` (cargo xtask test does)",
        bin.display()
    );
    bin
}

pub fn widget_dir() -> PathBuf {
    std::env::var_os("EARSHOT_WIDGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| root().join("target/widget"))
}

impl Collector {
    /// Starts a collector with one site, `demo`, that accepts feedback from `origins`.
    pub fn start(origins: &[&str]) -> Self {
        Self::start_with(origins, &[])
    }

    /// Like [`Collector::start`], with more options for `earshot serve`.
    pub fn start_with(origins: &[&str], serve_args: &[&str]) -> Self {
        Self::start_on(&Engine::Sqlite, origins, serve_args)
    }

    /// Like [`Collector::start_with`], on this database.
    pub fn start_on(engine: &Engine, origins: &[&str], serve_args: &[&str]) -> Self {
        let dir = tempfile::tempdir().unwrap();
        let port = free_port();
        let collector_origin = format!("http://127.0.0.1:{port}");
        let mut add = vec!["site", "add", "--name", "Demo shop", "--key", "demo"];
        for origin in origins {
            add.extend(["--origin", origin]);
        }
        let out = earshot(engine, dir.path(), &collector_origin, &add);
        assert!(
            out.status.success(),
            "site add failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        let snippet = String::from_utf8(out.stdout).unwrap();
        assert_eq!(
            snippet.trim(),
            format!(
                r#"<script src="{collector_origin}/earshot.js" data-site="demo" async></script>"#
            )
        );

        let serve_args: Vec<String> = serve_args.iter().map(|arg| arg.to_string()).collect();
        let child = serve(engine, dir.path(), port, &serve_args);
        let collector = Self {
            port,
            dir,
            engine: engine.clone(),
            serve_args,
            child,
        };
        collector.wait_until_healthy();
        collector
    }

    /// A collector on an empty SQLite database: no site, no account (the first run).
    pub fn start_empty() -> Self {
        Self::start_existing(&Engine::Sqlite, tempfile::tempdir().unwrap())
    }

    /// A collector on the database as it is: `dir/earshot.db` (SQLite) or the engine's
    /// PostgreSQL database; nothing is added.
    pub fn start_existing(engine: &Engine, dir: tempfile::TempDir) -> Self {
        let port = free_port();
        let child = serve(engine, dir.path(), port, &[]);
        let collector = Self {
            port,
            dir,
            engine: engine.clone(),
            serve_args: Vec::new(),
            child,
        };
        collector.wait_until_healthy();
        collector
    }

    /// Another collector on this one's database (PostgreSQL): a replica behind the same
    /// load balancer.
    pub fn replica(&self) -> Self {
        let dir = tempfile::tempdir().unwrap();
        let port = free_port();
        let child = serve(&self.engine, dir.path(), port, &self.serve_args);
        let replica = Self {
            port,
            dir,
            engine: self.engine.clone(),
            serve_args: self.serve_args.clone(),
            child,
        };
        replica.wait_until_healthy();
        replica
    }

    /// Kills the collector with SIGKILL: no shutdown, no flush, like a power cut for the process.
    pub fn kill_9(&mut self) {
        self.child.kill().unwrap();
        self.child.wait().unwrap();
    }

    /// Sends SIGTERM, as a service manager does to stop it, and waits for the process to end
    /// (at most 60 s); returns how it ended.
    pub fn terminate(&mut self) -> std::process::ExitStatus {
        let sent = Command::new("kill")
            .args(["-TERM", &self.child.id().to_string()])
            .status()
            .unwrap();
        assert!(sent.success(), "kill -TERM failed");
        let deadline = Instant::now() + Duration::from_secs(60);
        loop {
            if let Some(status) = self.child.try_wait().unwrap() {
                return status;
            }
            assert!(
                Instant::now() < deadline,
                "the collector was still running 60 s after SIGTERM"
            );
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// Stops the collector (SIGTERM) and starts it again on the same port and database, with
    /// other options for `earshot serve`.
    pub fn restart_with(&mut self, serve_args: &[&str]) {
        self.terminate();
        self.serve_args = serve_args.iter().map(|arg| arg.to_string()).collect();
        self.restart();
    }

    /// Starts the collector again on the same port and database.
    pub fn restart(&mut self) {
        self.child = serve(&self.engine, self.dir.path(), self.port, &self.serve_args);
        self.wait_until_healthy();
    }

    /// Stops the collector and starts it again with its clock `seconds` ahead
    /// (`EARSHOT_CLOCK_AHEAD_SECS`): deadlines and reminders without waiting for days.
    pub fn restart_with_clock_ahead(&mut self, seconds: i64) {
        self.terminate();
        let mut args = self.serve_args.clone();
        args.push(format!("--clock-ahead={seconds}"));
        self.child = serve(&self.engine, self.dir.path(), self.port, &args);
        self.wait_until_healthy();
    }

    fn wait_until_healthy(&self) {
        let deadline = Instant::now() + Duration::from_secs(20);
        while Instant::now() < deadline {
            if let Ok(response) = ureq::get(&self.url("/healthz")).call()
                && response.status() == 200
            {
                return;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        panic!(
            "the collector did not become healthy; its log:\n{}",
            self.log()
        );
    }

    /// The collector's process id.
    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// The collector process's resident memory, in bytes (Linux `/proc`).
    pub fn resident_bytes(&self) -> u64 {
        let status = std::fs::read_to_string(format!("/proc/{}/status", self.pid())).unwrap();
        let kb: u64 = status
            .lines()
            .find_map(|line| line.strip_prefix("VmRSS:"))
            .and_then(|rest| rest.split_whitespace().next())
            .and_then(|kb| kb.parse().ok())
            .expect("VmRSS in /proc/PID/status");
        kb * 1024
    }

    pub fn origin(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.origin())
    }

    pub fn database(&self) -> PathBuf {
        self.dir.path().join("earshot.db")
    }

    pub fn log(&self) -> String {
        std::fs::read_to_string(self.dir.path().join("earshot.log")).unwrap_or_default()
    }

    /// Runs an `earshot` subcommand against this collector's database.
    pub fn cli(&self, args: &[&str]) -> Output {
        earshot(&self.engine, self.dir.path(), &self.origin(), args)
    }

    /// Creates a dashboard account with this password, limited to `sites` if any are given.
    pub fn add_user(&self, email: &str, password: &str, sites: &[&str]) {
        let mut args = vec!["user", "add", email, "--password-stdin"];
        for site in sites {
            args.extend(["--site", site]);
        }
        let mut command = Command::new(binary());
        self.engine.apply(&mut command, self.dir.path());
        let mut child = command
            .args(&args)
            .env("EARSHOT_LOG", "warn")
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        use std::io::Write;
        writeln!(child.stdin.take().unwrap(), "{password}").unwrap();
        let out = child.wait_with_output().unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
    }

    /// GETs `/v1/sites/demo/{path_and_query}` (an export), with `token` as bearer if given.
    pub fn export(&self, token: Option<&str>, path_and_query: &str) -> (u16, Vec<u8>) {
        let mut request = http().get(&self.url(&format!("/v1/sites/demo/{path_and_query}")));
        if let Some(token) = token {
            request = request.header("Authorization", &format!("Bearer {token}"));
        }
        let mut response = request.call().unwrap();
        let status = response.status().as_u16();
        (status, response.body_mut().read_to_vec().unwrap())
    }

    /// Creates an export token (for `site`, or every site) and returns it.
    pub fn create_token(&self, site: Option<&str>) -> String {
        let mut args = vec!["token", "create", "--name", "test"];
        if let Some(site) = site {
            args.extend(["--site", site]);
        }
        let out = self.cli(&args);
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8(out.stdout).unwrap().trim().to_owned()
    }
}

fn serve(engine: &Engine, dir: &Path, port: u16, extra: &[String]) -> Child {
    // `--clock-ahead=N` and `--env=NAME=VALUE` are this helper's, not the binary's: they
    // become the environment.
    let ahead = extra
        .iter()
        .find_map(|arg| arg.strip_prefix("--clock-ahead="))
        .map(str::to_owned);
    let environment: Vec<(&str, &str)> = extra
        .iter()
        .filter_map(|arg| arg.strip_prefix("--env="))
        .filter_map(|pair| pair.split_once('='))
        .collect();
    let extra: Vec<&String> = extra
        .iter()
        .filter(|arg| !arg.starts_with("--clock-ahead=") && !arg.starts_with("--env="))
        .collect();
    let log = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(dir.join("earshot.log"))
        .unwrap();
    let mut command = Command::new(binary());
    engine.apply(&mut command, dir);
    command
        .args([
            "serve",
            "--listen",
            &format!("127.0.0.1:{port}"),
            "--workers",
            "2",
        ])
        .arg("--www-dir")
        .arg(root().join("www"))
        .arg("--widget-dir")
        .arg(widget_dir())
        .args(extra)
        .envs(ahead.map(|secs| ("EARSHOT_CLOCK_AHEAD_SECS", secs)))
        .envs(environment)
        .env("EARSHOT_LOG", "info")
        .stdout(Stdio::null())
        .stderr(log)
        .spawn()
        .unwrap()
}

fn earshot(engine: &Engine, dir: &Path, public_url: &str, args: &[&str]) -> Output {
    let mut command = Command::new(binary());
    engine.apply(&mut command, dir);
    command
        .args(args)
        .env("EARSHOT_PUBLIC_URL", public_url)
        .env("EARSHOT_LOG", "warn")
        .output()
        .unwrap()
}

impl Drop for Collector {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// An HTTP client that hands back 4xx and 5xx answers instead of failing on them.
pub fn http() -> ureq::Agent {
    ureq::Agent::config_builder()
        .http_status_as_error(false)
        .build()
        .new_agent()
}

/// A valid submission for the site `demo` with this comment, as the widget sends it; `extra`
/// fields are merged over it.
pub fn feedback_body(comment: &str, extra: serde_json::Value) -> serde_json::Value {
    let mut body = serde_json::json!({
        "id": uuid::Uuid::new_v4().to_string(),
        "site": "demo",
        "rating": { "kind": "stars", "value": 4 },
        "comment": comment,
        "page_url": "https://shop.example/",
        "open_ms": 6_000,
    });
    if let Some(extra) = extra.as_object() {
        for (key, value) in extra {
            body[key] = value.clone();
        }
    }
    body
}

impl Collector {
    /// POSTs `body` to `/v1/feedback` from a page on `origin`; returns the status.
    pub fn post_feedback(
        &self,
        agent: &ureq::Agent,
        origin: &str,
        body: &serde_json::Value,
    ) -> u16 {
        agent
            .post(&self.url("/v1/feedback"))
            .content_type("text/plain")
            .header("Origin", origin)
            .send(body.to_string())
            .unwrap()
            .status()
            .as_u16()
    }
}
