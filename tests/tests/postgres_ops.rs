//! PostgreSQL in production, with the real binary: a database that goes down (on a throwaway
//! cluster of its own that the test stops and starts), managed databases' `sslmode` values
//! against the test server's TLS, and webhooks sent again with the same delivery id.

mod common;

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::Arc;
use std::time::Duration;

use common::collector::{Collector, Engine, binary, feedback_body, http};
use common::receiver::{Receiver, header};
use common::{eventually, free_port};
use earshot_collector::store::{Location, ScratchDatabase};
use earshot_collector::webhooks::{self, WebhookFormat};

const ORIGIN: &str = "https://shop.example";

/// A PostgreSQL cluster of the test's own, in a temporary folder on a free port, that the
/// test may stop and start (the shared test server must stay up for the other tests).
struct Cluster {
    dir: tempfile::TempDir,
    bin: PathBuf,
    port: u16,
}

impl Cluster {
    /// Starts one with `initdb` and `pg_ctl` from the newest PostgreSQL installed; None (or
    /// a failure, where the test run requires PostgreSQL) when there is none.
    fn start() -> Option<Self> {
        let mut versions: Vec<(u32, PathBuf)> = std::fs::read_dir("/usr/lib/postgresql")
            .into_iter()
            .flatten()
            .flatten()
            .filter(|entry| entry.path().join("bin/initdb").exists())
            .filter_map(|entry| Some((entry.file_name().to_str()?.parse().ok()?, entry.path())))
            .collect();
        versions.sort();
        let Some((_, version)) = versions.pop() else {
            assert!(
                std::env::var_os("EARSHOT_E2E_REQUIRED").is_none(),
                "no PostgreSQL server in /usr/lib/postgresql: the outage would go untested"
            );
            eprintln!("SKIPPED: no PostgreSQL server installed");
            return None;
        };
        let dir = tempfile::tempdir().unwrap();
        if is_root() {
            // The server refuses to run as root: the folder goes to the postgres user.
            let owned = Command::new("chown")
                .args(["-R", "postgres:postgres"])
                .arg(dir.path())
                .status()
                .unwrap();
            assert!(owned.success());
        }
        let cluster = Self {
            bin: version.join("bin"),
            port: free_port(),
            dir,
        };
        cluster.run(
            "initdb",
            &[
                "--auth=trust",
                "--username=postgres",
                "--no-sync",
                "--pgdata",
                &cluster.data(),
            ],
        );
        cluster.pg_ctl("start");
        Some(cluster)
    }

    fn data(&self) -> String {
        self.dir.path().join("data").display().to_string()
    }

    /// A server program, to run as the postgres user when the test runs as root.
    fn command(&self, program: &str) -> Command {
        let path = self.bin.join(program);
        let mut command = if is_root() {
            let mut command = Command::new("runuser");
            command.args(["-u", "postgres", "--"]).arg(&path);
            command
        } else {
            Command::new(&path)
        };
        command.current_dir("/");
        command
    }

    fn run(&self, program: &str, args: &[&str]) {
        let out = self.command(program).args(args).output().unwrap();
        assert!(
            out.status.success(),
            "{program} {args:?}: {}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
    }

    /// `pg_ctl start`, `stop` (fast: connections are ended, as in a restart) and waits.
    fn pg_ctl(&self, action: &str) {
        let options = format!(
            "-p {} -k {} -c listen_addresses=127.0.0.1 -c fsync=off",
            self.port,
            self.dir.path().display()
        );
        let log = self.dir.path().join("server.log").display().to_string();
        let data = self.data();
        let mut args = vec![action, "--pgdata", &data, "--wait"];
        match action {
            "start" => args.extend(["--options", &options, "--log", &log]),
            _ => args.extend(["--mode", "fast"]),
        }
        self.run("pg_ctl", &args);
    }

    fn admin_url(&self) -> String {
        format!("postgres://postgres@127.0.0.1:{}/postgres", self.port)
    }
}

impl Drop for Cluster {
    fn drop(&mut self) {
        let _ = self
            .command("pg_ctl")
            .args(["stop", "--pgdata", &self.data(), "--mode", "immediate"])
            .output();
    }
}

fn is_root() -> bool {
    Command::new("id")
        .arg("-u")
        .output()
        .is_ok_and(|out| String::from_utf8_lossy(&out.stdout).trim() == "0")
}

/// An HTTP client that gives up after 3 s: a collector that makes a health check or a
/// submission wait for the database's 10 s connect timeout fails the test.
fn impatient() -> ureq::Agent {
    ureq::Agent::config_builder()
        .http_status_as_error(false)
        .timeout_global(Some(Duration::from_secs(3)))
        .build()
        .new_agent()
}

/// What an answer says: status, `Retry-After`, and the JSON body.
fn ask(
    request: Result<ureq::http::Response<ureq::Body>, ureq::Error>,
) -> (u16, Option<String>, serde_json::Value) {
    let mut response = request.expect("an answer within 3 s");
    let retry_after = response
        .headers()
        .get("Retry-After")
        .map(|value| value.to_str().unwrap().to_owned());
    let body = response.body_mut().read_to_string().unwrap();
    (
        response.status().as_u16(),
        retry_after,
        serde_json::from_str(&body).unwrap_or(serde_json::Value::Null),
    )
}

/// The database stops under a running collector: `/healthz` says so at once (503 and what is
/// wrong), a submission is refused at once with `503 unavailable` and `Retry-After` (so the
/// widget keeps it and retries), the log says what is true once; when the database is back,
/// the same submission is stored.
#[test]
fn a_database_outage_is_answered_at_once_and_said() {
    let Some(cluster) = Cluster::start() else {
        return;
    };
    let scratch = Arc::new(ScratchDatabase::create(&cluster.admin_url()).unwrap());
    let engine = Engine::Postgres(scratch.clone());
    // No rate limits: the test retries faster than a visitor would.
    let mut collector = Collector::start_on(
        &engine,
        &[ORIGIN],
        &["--rate-limit-visitor", "0", "--rate-limit-site", "0"],
    );
    let agent = impatient();
    let stored_before = feedback_body("before the outage", serde_json::json!({}));
    assert_eq!(collector.post_feedback(&agent, ORIGIN, &stored_before), 201);
    let (status, _, _) = ask(agent.get(&collector.url("/healthz")).call());
    assert_eq!(status, 200);

    cluster.pg_ctl("stop");

    let (status, _, health) = ask(agent.get(&collector.url("/healthz")).call());
    assert_eq!(status, 503, "{health}");
    assert_eq!(health["status"], "unavailable");
    let message = health["message"].as_str().unwrap();
    assert!(message.contains("cannot be reached"), "{message}");
    assert!(
        !message.contains("127.0.0.1"),
        "the database's address stays in the log: {message}"
    );

    let during = feedback_body("during the outage", serde_json::json!({}));
    for _ in 0..3 {
        let (status, retry_after, refused) = ask(agent
            .post(&collector.url("/v1/feedback"))
            .content_type("text/plain")
            .header("Origin", ORIGIN)
            .send(during.to_string()));
        assert_eq!(status, 503, "{refused}");
        assert_eq!(refused["code"], "unavailable");
        assert_eq!(retry_after.as_deref(), Some("5"));
    }

    cluster.pg_ctl("start");
    eventually(
        "the collector healthy again",
        Duration::from_secs(30),
        || (ask(agent.get(&collector.url("/healthz")).call()).0 == 200).then_some(()),
    );
    // The widget's retry, with the same id: stored now, and only now.
    let retried = eventually(
        "the retried submission stored",
        Duration::from_secs(30),
        || {
            let status = collector.post_feedback(&agent, ORIGIN, &during);
            (status != 503).then_some(status)
        },
    );
    assert_eq!(
        retried, 201,
        "nothing was stored while the database was down"
    );
    assert_eq!(collector.post_feedback(&agent, ORIGIN, &during), 200);

    collector.terminate();
    let log = collector.log();
    assert_eq!(
        log.matches("submissions are refused with 503").count(),
        1,
        "the outage is said once, not on every refused submission:\n{log}"
    );
    assert!(log.contains("the database answers again"), "{log}");
    assert!(!log.contains("cannot be reopened"), "{log}");
    drop(collector);
    drop(scratch);
}

/// The `sslmode` values managed databases hand out, with the test server's TLS (Debian's
/// self-signed certificate for `localhost`) and its certificate as the CA.
#[test]
fn managed_databases_sslmode_values_are_accepted_with_libpq_meaning() {
    const SNAKEOIL: &str = "/etc/ssl/certs/ssl-cert-snakeoil.pem";
    let Some(Engine::Postgres(database)) = Engine::postgres() else {
        return;
    };
    if !Path::new(SNAKEOIL).exists() {
        assert!(
            std::env::var_os("EARSHOT_E2E_REQUIRED").is_none(),
            "no snakeoil certificate: TLS would go untested"
        );
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let with = |host: &str, query: &str| {
        let mut url = url::Url::parse(database.url()).unwrap();
        url.set_host(Some(host)).unwrap();
        url.set_query(Some(query));
        let out = Command::new(binary())
            .args(["--database-url", url.as_str(), "site", "list"])
            .env("EARSHOT_DATABASE", dir.path().join("unused.db"))
            .env_remove("EARSHOT_DATABASE_URL")
            .env("EARSHOT_LOG", "warn")
            .output()
            .unwrap();
        (
            out.status.success(),
            String::from_utf8_lossy(&out.stderr).into_owned(),
        )
    };
    // The certificate names `localhost`: verify-full to that name, through 127.0.0.1.
    let full = format!("sslmode=verify-full&sslrootcert={SNAKEOIL}&hostaddr=127.0.0.1");
    let (ok, stderr) = with("localhost", &full);
    assert!(ok, "verify-full with the server's CA: {stderr}");

    // The same certificate reached as 127.0.0.1: its name does not match.
    let (ok, stderr) = with(
        "127.0.0.1",
        &format!("sslmode=verify-full&sslrootcert={SNAKEOIL}"),
    );
    assert!(!ok, "verify-full checks the name");
    assert!(
        stderr.contains("127.0.0.1:5432") || stderr.contains("127.0.0.1:"),
        "the error names the host: {stderr}"
    );
    assert!(
        stderr.contains("certificate") || stderr.contains("Name"),
        "{stderr}"
    );

    // verify-ca checks the chain only, so the name does not matter.
    let (ok, stderr) = with(
        "127.0.0.1",
        &format!("sslmode=verify-ca&sslrootcert={SNAKEOIL}"),
    );
    assert!(ok, "verify-ca: {stderr}");

    // Without the CA, the self-signed certificate is refused.
    let (ok, stderr) = with("localhost", "sslmode=verify-ca&hostaddr=127.0.0.1");
    assert!(!ok && stderr.contains("localhost:"), "{stderr}");

    // allow: plain, since the server takes plain connections.
    let (ok, stderr) = with("127.0.0.1", "sslmode=allow");
    assert!(ok, "allow: {stderr}");

    let (ok, stderr) = with("127.0.0.1", "sslmode=sometimes");
    assert!(!ok && stderr.contains("verify-full"), "{stderr}");
}

/// A webhook answered 500 is sent again with the same `Earshot-Delivery` id (receivers
/// de-duplicate on it: delivery is at least once).
#[test]
fn a_webhook_sent_again_carries_the_same_delivery_id() {
    for engine in Engine::all() {
        let receiver = Receiver::start(vec![500]);
        let collector = Collector::start_on(
            &engine,
            &[ORIGIN],
            &["--webhook-retry-secs", "1", "--allow-private-webhooks"],
        );
        let location = match &engine {
            Engine::Sqlite => Location::Sqlite(collector.database()),
            Engine::Postgres(database) => Location::Postgres(database.url().to_owned()),
        };
        let mut db = location.connect().unwrap();
        webhooks::add_webhook(&mut *db, "demo", &receiver.url(), WebhookFormat::Json).unwrap();
        let body = feedback_body("announce me", serde_json::json!({}));
        assert_eq!(collector.post_feedback(&http(), ORIGIN, &body), 201);
        let calls = receiver.wait_for(2);
        let ids: Vec<&str> = calls
            .iter()
            .map(|(headers, _)| header(headers, "Earshot-Delivery"))
            .collect();
        assert!(!ids[0].is_empty());
        assert_eq!(ids[0], ids[1], "{} on {}", ids.join(" "), engine.name());
        assert_eq!(calls[0].1, calls[1].1, "the same body");
    }
}

/// A webhook receiver that holds its first answer until the test lets it go (then `200`),
/// and counts every request.
struct HeldReceiver {
    port: u16,
    calls: Arc<std::sync::atomic::AtomicUsize>,
    arrived: std::sync::mpsc::Receiver<()>,
    release: std::sync::mpsc::Sender<()>,
    answered: std::sync::mpsc::Receiver<()>,
}

impl HeldReceiver {
    fn start() -> Self {
        use std::io::{BufRead, BufReader, Read, Write};
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        let calls = Arc::new(std::sync::atomic::AtomicUsize::new(0));
        let (arrived_tx, arrived) = std::sync::mpsc::channel();
        let (release, release_rx) = std::sync::mpsc::channel::<()>();
        let (answered_tx, answered) = std::sync::mpsc::channel();
        let counted = calls.clone();
        std::thread::spawn(move || {
            for stream in listener.incoming() {
                let Ok(mut stream) = stream else { break };
                let mut reader = BufReader::new(stream.try_clone().unwrap());
                let mut length = 0;
                loop {
                    let mut line = String::new();
                    if reader.read_line(&mut line).unwrap_or(0) == 0 || line == "\r\n" {
                        break;
                    }
                    if let Some((name, value)) = line.split_once(':')
                        && name.eq_ignore_ascii_case("content-length")
                    {
                        length = value.trim().parse().unwrap_or(0);
                    }
                }
                let mut body = vec![0; length];
                let _ = reader.read_exact(&mut body);
                let first = counted.fetch_add(1, std::sync::atomic::Ordering::SeqCst) == 0;
                if first {
                    let _ = arrived_tx.send(());
                    let _ = release_rx.recv();
                }
                let _ = stream.write_all(
                    b"HTTP/1.1 200 OK\r\nContent-Length: 0\r\nConnection: close\r\n\r\n",
                );
                drop(stream);
                if first {
                    let _ = answered_tx.send(());
                }
            }
        });
        Self {
            port,
            calls,
            arrived,
            release,
            answered,
        }
    }
}

/// How long the database stays down under a webhook being sent: longer than the 10 s
/// connect timeout, as a restart under load or a failover can be.
const OUTAGE: Duration = Duration::from_secs(12);

/// The database stops while a webhook is being sent: its outcome is recorded once the
/// database is back, and it is not sent again (before, the claim waited out its lease, 210 s,
/// and the webhook went out a second time).
#[test]
fn a_webhook_sent_while_the_database_restarts_is_not_sent_again() {
    let Some(cluster) = Cluster::start() else {
        return;
    };
    let scratch = Arc::new(ScratchDatabase::create(&cluster.admin_url()).unwrap());
    let engine = Engine::Postgres(scratch.clone());
    let receiver = HeldReceiver::start();
    let collector = Collector::start_on(
        &engine,
        &[ORIGIN],
        &["--allow-private-webhooks", "--webhook-retry-secs", "1"],
    );
    let location = Location::Postgres(scratch.url().to_owned());
    let url = format!("http://127.0.0.1:{}/hook", receiver.port);
    webhooks::add_webhook(
        &mut *location.connect().unwrap(),
        "demo",
        &url,
        WebhookFormat::Json,
    )
    .unwrap();
    let body = feedback_body("announce me once", serde_json::json!({}));
    assert_eq!(collector.post_feedback(&http(), ORIGIN, &body), 201);

    receiver
        .arrived
        .recv_timeout(Duration::from_secs(30))
        .expect("the webhook sent");
    cluster.pg_ctl("stop");
    receiver.release.send(()).unwrap();
    receiver
        .answered
        .recv_timeout(Duration::from_secs(10))
        .unwrap();
    // An outage longer than the 10 s a connection may take: the scenario, not a wait for
    // something to happen.
    std::thread::sleep(OUTAGE);
    cluster.pg_ctl("start");

    let delivery = eventually(
        "the delivery recorded as delivered",
        Duration::from_secs(30),
        || {
            let mut db = location.connect().ok()?;
            let deliveries = db.deliveries("demo", 10).ok()?;
            deliveries
                .into_iter()
                .find(|delivery| delivery.state == webhooks::DeliveryState::Delivered)
        },
    );
    assert_eq!(delivery.attempts, 1);
    assert_eq!(
        receiver.calls.load(std::sync::atomic::Ordering::SeqCst),
        1,
        "sent once"
    );
    drop(collector);
    drop(scratch);
}
