//! `cargo xtask serve`: build everything and run the collector with a demo site, the way a
//! site owner would run it, with the database under `target/demo/`.

use std::path::Path;
use std::process::Command;

use anyhow::{Context, bail};
use clap::Args;

use crate::tools::Toolchain;
use crate::{Result, cargo, exec, output, root, step, widget};

#[derive(Args)]
pub struct ServeArgs {
    /// The port to listen on (on 127.0.0.1).
    #[arg(long, default_value_t = 8080)]
    port: u16,
}

const DEMO_SITE: &str = "demo";
const DEMO_OWNER: &str = "owner@demo.example";

pub fn run(args: &ServeArgs) -> Result {
    let tools = Toolchain::prepare()?;
    widget::build(&tools)?;

    step("Building the collector (release)");
    exec(cargo().args(["build", "--release", "--package", "earshot-collector"]))?;
    let earshot = root().join("target/release/earshot");

    let demo = root().join("target/demo");
    std::fs::create_dir_all(&demo).with_context(|| format!("creating {}", demo.display()))?;
    let database = demo.join("earshot.db");
    let public_url = format!("http://127.0.0.1:{}", args.port);
    let earshot_cmd = || {
        let mut command = Command::new(&earshot);
        command
            .current_dir(root())
            .env("EARSHOT_DATABASE", &database)
            .env("EARSHOT_PUBLIC_URL", &public_url);
        command
    };

    step("Preparing the demo site and an export token");
    let sites = output(earshot_cmd().args(["site", "list"])).unwrap_or_default();
    if !sites
        .lines()
        .any(|line| line.split_whitespace().next() == Some(DEMO_SITE))
    {
        exec(earshot_cmd().args([
            "site",
            "add",
            "--name",
            "Ferndale Tea Co. (demo)",
            "--key",
            DEMO_SITE,
            "--origin",
            &public_url,
            "--origin",
            &format!("http://localhost:{}", args.port),
        ]))?;
    }
    let token = demo_token(&demo.join("export-token"), earshot_cmd())?;
    let password = demo_owner(&demo.join("owner-password"), earshot_cmd())?;

    let base = public_url.clone();
    eprintln!(
        "\n    Demo shop:   {base}/demo/  (and an inline block on {base}/demo/brewing.html)\n    \
         Dashboard:   {base}/admin/  sign in as {DEMO_OWNER} with {password}\n    \
         Export (API): curl -H 'Authorization: Bearer {token}' {base}/v1/sites/{DEMO_SITE}/feedback.csv\n    \
         Export (CLI): EARSHOT_DATABASE={db} target/release/earshot export --site {DEMO_SITE}\n    \
         Stop with Ctrl-C.\n",
        db = database.display(),
    );

    step("Starting the collector");
    exec(
        earshot_cmd()
            .args(["serve", "--listen", &format!("127.0.0.1:{}", args.port)])
            .arg("--www-dir")
            .arg(root().join("www"))
            .arg("--widget-dir")
            .arg(widget::dist_dir()),
    )
}

/// The demo owner's password, made once (random) and kept in `path`; the account is created
/// with it for the dashboard.
fn demo_owner(path: &Path, mut earshot: Command) -> Result<String> {
    if let Ok(password) = std::fs::read_to_string(path) {
        return Ok(password.trim().to_owned());
    }
    let mut bytes = [0u8; 12];
    std::fs::File::open("/dev/urandom")
        .and_then(|mut random| std::io::Read::read_exact(&mut random, &mut bytes))
        .context("reading /dev/urandom")?;
    let password: String = bytes.iter().map(|b| format!("{b:02x}")).collect();
    let mut child = earshot
        .args([
            "user",
            "add",
            DEMO_OWNER,
            "--site",
            DEMO_SITE,
            "--password-stdin",
        ])
        .stdin(std::process::Stdio::piped())
        .spawn()
        .context("earshot user add")?;
    std::io::Write::write_all(
        &mut child.stdin.take().context("no stdin")?,
        format!("{password}\n").as_bytes(),
    )
    .context("writing the password to earshot user add")?;
    if !child
        .wait()
        .context("waiting for earshot user add")?
        .success()
    {
        bail!("could not create the demo owner");
    }
    std::fs::write(path, &password).with_context(|| path.display().to_string())?;
    Ok(password)
}

/// The demo's export token, created once and kept in `path` (only its hash is in the database).
fn demo_token(path: &Path, mut earshot: Command) -> Result<String> {
    if let Ok(token) = std::fs::read_to_string(path) {
        return Ok(token.trim().to_owned());
    }
    let token = output(earshot.args([
        "token",
        "create",
        "--name",
        "demo export",
        "--site",
        DEMO_SITE,
    ]))
    .context("could not create an export token")?;
    std::fs::write(path, &token).with_context(|| path.display().to_string())?;
    Ok(token)
}
