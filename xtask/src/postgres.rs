//! A PostgreSQL server for the tests and benchmarks of the second storage engine: the one
//! `EARSHOT_TEST_POSTGRES_URL` names, or else this machine's Debian cluster, installed,
//! started and given a role of its own when missing. Each test then creates a scratch
//! database of its own through that role, and drops it.

use std::process::Command;

use anyhow::Context;

use crate::tools::{apt_install, is_root, which};
use crate::{Result, exec, output, step};

/// The role the tests connect as; it may create databases, nothing more.
const ROLE: &str = "earshot_test";
/// Only for this local test server, which listens on localhost.
const PASSWORD: &str = "earshot_test";

/// The address of a server and role that may create databases.
pub fn ensure() -> Result<String> {
    if let Ok(url) = std::env::var("EARSHOT_TEST_POSTGRES_URL")
        && !url.is_empty()
    {
        eprintln!("    PostgreSQL: EARSHOT_TEST_POSTGRES_URL is set; using that server");
        return Ok(url);
    }
    step("Checking PostgreSQL (the tests run every storage test on it too)");
    if which("pg_lsclusters").is_none() || server_versions().is_empty() {
        apt_install(&["postgresql"], "the PostgreSQL engine's tests")?;
    }
    let cluster = match cluster() {
        Some(cluster) => cluster,
        None => {
            let version = server_versions()
                .pop()
                .context("PostgreSQL is installed but /usr/lib/postgresql holds no server")?;
            exec(as_root("pg_createcluster").args([&version, "main"]))?;
            cluster().context("pg_createcluster made no cluster")?
        }
    };
    if cluster.online {
        eprintln!(
            "    PostgreSQL {} cluster {} is running on port {}",
            cluster.version, cluster.name, cluster.port
        );
    } else {
        eprintln!(
            "    Starting PostgreSQL {} cluster {}",
            cluster.version, cluster.name
        );
        exec(as_root("pg_ctlcluster").args([
            "--skip-systemctl-redirect",
            &cluster.version,
            &cluster.name,
            "start",
        ]))?;
    }
    let create_role = format!(
        "DO $$ BEGIN IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = '{ROLE}') THEN \
         CREATE ROLE {ROLE} LOGIN CREATEDB PASSWORD '{PASSWORD}'; END IF; END $$"
    );
    exec(as_postgres("psql").args([
        "--port",
        &cluster.port,
        "--quiet",
        "--no-psqlrc",
        "-v",
        "ON_ERROR_STOP=1",
        "--command",
        &create_role,
    ]))?;
    Ok(format!(
        "postgres://{ROLE}:{PASSWORD}@127.0.0.1:{}/postgres",
        cluster.port
    ))
}

/// The installed server versions, oldest first (`/usr/lib/postgresql/<version>/bin/postgres`).
fn server_versions() -> Vec<String> {
    let mut versions: Vec<(u32, String)> = std::fs::read_dir("/usr/lib/postgresql")
        .into_iter()
        .flatten()
        .flatten()
        .filter(|entry| entry.path().join("bin/postgres").exists())
        .filter_map(|entry| {
            let name = entry.file_name().into_string().ok()?;
            Some((name.parse().ok()?, name))
        })
        .collect();
    versions.sort();
    versions.into_iter().map(|(_, name)| name).collect()
}

struct Cluster {
    version: String,
    name: String,
    port: String,
    online: bool,
}

/// The first cluster `pg_lsclusters` lists.
fn cluster() -> Option<Cluster> {
    let listing = output(Command::new("pg_lsclusters").arg("--no-header"))?;
    let mut fields = listing.lines().next()?.split_whitespace();
    Some(Cluster {
        version: fields.next()?.to_owned(),
        name: fields.next()?.to_owned(),
        port: fields.next()?.to_owned(),
        online: fields.next()? == "online",
    })
}

fn as_root(program: &str) -> Command {
    if is_root() {
        Command::new(program)
    } else {
        let mut command = Command::new("sudo");
        command.arg(program);
        command
    }
}

/// As the `postgres` system user, whom the server trusts on its local socket.
fn as_postgres(program: &str) -> Command {
    let mut command = if is_root() {
        let mut command = Command::new("runuser");
        command.args(["-u", "postgres", "--", program]);
        command
    } else {
        let mut command = Command::new("sudo");
        command.args(["-u", "postgres", program]);
        command
    };
    // Somewhere the postgres user may read, so psql does not complain.
    command.current_dir("/");
    command
}
