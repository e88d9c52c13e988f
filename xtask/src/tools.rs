//! Finding, and installing when missing, what the build needs beyond cargo.
//!
//! The widget is built for `wasm32-unknown-unknown` with the standard library compiled from
//! source (`-Zbuild-std`), on every machine. rustup's prebuilt wasm32 std is compiled for
//! speed and with unwinding machinery the widget never uses; built from source, with the
//! size features of the widget's profile, the same widget is several KB smaller, and its size
//! no longer depends on how a machine got its toolchain. So the build needs the standard
//! library's source: rustup's `rust-src` component on most machines, or, where rustup cannot
//! download components, Debian's `rustc-web` toolchain, whose `rust-web-src` is that source
//! and whose `wasm-ld` links. `RUSTC_BOOTSTRAP=1` lets a stable compiler take the unstable
//! `-Z` flags that building std needs.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::Once;
use std::time::Duration;

use anyhow::{Context, anyhow, bail};

use crate::{Result, exec, output, root, step};

const TARGET: &str = "wasm32-unknown-unknown";
const DEBIAN_RUSTC: &str = "/usr/bin/rustc";
const DEBIAN_CARGO: &str = "/usr/bin/cargo";
const DEBIAN_TOOLCHAIN_PACKAGES: &[&str] = &["rustc-web", "cargo-web", "rust-web-src", "lld-22"];
const DEBIAN_WASM_LINKER: &str = "wasm-ld-22";
const BROWSER_PACKAGES: &[&str] = &["chromium", "chromium-driver"];
pub const CHROMIUM: &str = "/usr/bin/chromium";
pub const CHROMEDRIVER: &str = "/usr/bin/chromedriver";

/// The standard library crates built for wasm32 (`panic_abort`: the profiles' panic strategy).
const BUILD_STD: &str = "-Zbuild-std=std,panic_abort";

/// How the wasm build is done on this machine. Either way std is built from source with the
/// same flags, so the widget is the same whichever path a machine takes.
#[derive(Debug, Clone)]
pub enum WasmRust {
    /// rustup's toolchain with its `rust-src` component; links with its bundled `rust-lld`.
    Rustup,
    /// Debian's `rustc-web` toolchain with `rust-web-src`; links with `wasm-ld` from `lld`.
    Debian,
}

/// Everything the widget build needs, found or installed.
#[derive(Debug, Clone)]
pub struct Toolchain {
    pub rust: WasmRust,
    pub wasm_bindgen: PathBuf,
    pub wasm_bindgen_test_runner: PathBuf,
    /// `None` when Node.js is not installed: the widget then ships unoptimised (bigger).
    pub wasm_opt: Option<PathBuf>,
    /// The JavaScript minifier for the loader; `None` without Node.js (the loader is then
    /// served as written, over its size budget).
    pub terser: Option<PathBuf>,
}

impl Toolchain {
    pub fn prepare() -> Result<Self> {
        step("Checking the WebAssembly toolchain");
        let rust = wasm_rust()?;
        let (wasm_bindgen, wasm_bindgen_test_runner) = wasm_bindgen()?;
        let (wasm_opt, terser) = match node_tools()? {
            Some((wasm_opt, terser)) => (Some(wasm_opt), Some(terser)),
            None => (None, None),
        };
        Ok(Self {
            rust,
            wasm_bindgen,
            wasm_bindgen_test_runner,
            wasm_opt,
            terser,
        })
    }

    /// A cargo command that builds for wasm32 with std built from source, set up for this
    /// machine's toolchain. `rustflags` are added to the wasm32 compilations only (never to
    /// build scripts or proc macros, which run on the host).
    pub fn wasm_cargo(&self, subcommand: &str, rustflags: &[&str]) -> Command {
        let mut command = match self.rust {
            WasmRust::Rustup => crate::cargo(),
            WasmRust::Debian => {
                let mut command = Command::new(DEBIAN_CARGO);
                command.current_dir(root());
                // rustup's cargo set these for us; Debian's toolchain must not see them.
                for var in [
                    "RUSTUP_TOOLCHAIN",
                    "CARGO",
                    "RUSTC",
                    "RUSTDOC",
                    "RUSTC_WRAPPER",
                    "RUSTC_WORKSPACE_WRAPPER",
                    "CARGO_ENCODED_RUSTFLAGS",
                    "CARGO_MANIFEST_DIR",
                    "CARGO_PKG_NAME",
                ] {
                    command.env_remove(var);
                }
                let path = std::env::var("PATH").unwrap_or_default();
                command
                    .env("PATH", format!("/usr/bin:{path}"))
                    .env("RUSTC", DEBIAN_RUSTC)
                    .env(
                        "CARGO_TARGET_WASM32_UNKNOWN_UNKNOWN_LINKER",
                        DEBIAN_WASM_LINKER,
                    );
                command
            }
        };
        // The wasm build has a target dir of its own: the host build's artefacts are for
        // another target, and on the Debian path for another compiler.
        command
            .env("RUSTC_BOOTSTRAP", "1")
            .env("CARGO_TARGET_DIR", root().join("target/wasm"))
            .env(
                "CARGO_TARGET_WASM32_UNKNOWN_UNKNOWN_RUSTFLAGS",
                rustflags.join(" "),
            )
            .args([subcommand, "--target", TARGET, BUILD_STD]);
        command
    }
}

/// The source of the standard library that `rustc` would build std from, if it is there.
fn std_source(rustc: &str) -> Option<PathBuf> {
    let sysroot = output(Command::new(rustc).args(["--print", "sysroot"]))?;
    let library = Path::new(&sysroot).join("lib/rustlib/src/rust/library");
    library.join("std/Cargo.toml").is_file().then_some(library)
}

fn debian_toolchain_ready() -> bool {
    Path::new(DEBIAN_CARGO).exists()
        && std_source(DEBIAN_RUSTC).is_some()
        && which(DEBIAN_WASM_LINKER).is_some()
}

/// `EARSHOT_WASM_TOOLCHAIN=debian` (or `rustup`) picks the path instead of detecting it: to
/// compare the two paths' widgets on one machine.
const TOOLCHAIN_CHOICE: &str = "EARSHOT_WASM_TOOLCHAIN";

fn wasm_rust() -> Result<WasmRust> {
    let rustc = std::env::var("RUSTC").unwrap_or_else(|_| "rustc".into());
    match std::env::var(TOOLCHAIN_CHOICE).as_deref() {
        Ok("debian") => {
            if !debian_toolchain_ready() {
                apt_install(DEBIAN_TOOLCHAIN_PACKAGES, "the Debian toolchain, as asked")?;
            }
            eprintln!("    using Debian's rustc-web toolchain ({TOOLCHAIN_CHOICE}=debian)");
            return Ok(WasmRust::Debian);
        }
        Ok("rustup") | Err(_) => {}
        Ok(other) => {
            bail!("{TOOLCHAIN_CHOICE}={other}: expected `rustup` or `debian`");
        }
    }
    let rustup = which("rustup").is_some();
    if rustup && std_source(&rustc).is_some() {
        eprintln!(
            "    rustup's toolchain has the standard library's source (rust-src): std is built from it for {TARGET}"
        );
        return Ok(WasmRust::Rustup);
    }
    if rustup {
        eprintln!(
            "    rustup's rust-src component is missing; trying `rustup component add rust-src`"
        );
        let added = run_with_timeout(
            Command::new("rustup").args(["component", "add", "rust-src"]),
            Duration::from_secs(180),
        );
        if added && std_source(&rustc).is_some() {
            return Ok(WasmRust::Rustup);
        }
        eprintln!("    rustup could not download rust-src; falling back to Debian's toolchain");
    }
    if debian_toolchain_ready() {
        eprintln!(
            "    using Debian's rustc-web toolchain and its std source (rust-web-src) for {TARGET}"
        );
        return Ok(WasmRust::Debian);
    }
    apt_install(
        DEBIAN_TOOLCHAIN_PACKAGES,
        "a Rust toolchain with the standard library's source, to build std for wasm32",
    )?;
    if debian_toolchain_ready() {
        Ok(WasmRust::Debian)
    } else {
        Err(anyhow!(
            "installed {DEBIAN_TOOLCHAIN_PACKAGES:?} but the toolchain is still incomplete"
        ))
    }
}

/// The wasm-bindgen CLI must be exactly the version of the `wasm-bindgen` crate in Cargo.lock.
fn wasm_bindgen() -> Result<(PathBuf, PathBuf)> {
    let version = locked_version("wasm-bindgen")?;
    let cargo_bin = cargo_home().join("bin");
    let cli = cargo_bin.join("wasm-bindgen");
    let runner = cargo_bin.join("wasm-bindgen-test-runner");
    let installed = output(Command::new(&cli).arg("--version"));
    if installed.as_deref().is_some_and(|v| v.ends_with(&version)) && runner.exists() {
        eprintln!("    wasm-bindgen {version} is installed");
        return Ok((cli, runner));
    }
    step(&format!(
        "Installing wasm-bindgen-cli {version} (matches Cargo.lock; takes a few minutes once)"
    ));
    // No --locked: one of the CLI's locked dependencies is missing from the registry mirror
    // these machines use, and resolving afresh works.
    exec(crate::cargo().args([
        "install",
        "wasm-bindgen-cli",
        "--version",
        &format!("={version}"),
    ]))?;
    Ok((cli, runner))
}

/// The npm packages of `xtask/package.json`: wasm-opt (binaryen), terser (the loader's
/// minifier) and axe-core. Returns the paths of wasm-opt and terser.
fn node_tools() -> Result<Option<(PathBuf, PathBuf)>> {
    let tools = root().join("xtask");
    let wasm_opt = tools.join("node_modules/.bin/wasm-opt");
    let terser = tools.join("node_modules/.bin/terser");
    let axe = tools.join("node_modules/axe-core/axe.min.js");
    if wasm_opt.exists() && terser.exists() && axe.exists() {
        eprintln!("    wasm-opt (binaryen), terser and axe-core (npm) are installed");
        return Ok(Some((wasm_opt, terser)));
    }
    if which("npm").is_none() {
        if which("apt-get").is_none() {
            eprintln!(
                "    warning: npm is missing, so wasm-opt, terser and axe-core cannot be installed; the widget will be larger"
            );
            return Ok(None);
        }
        apt_install(
            &["npm"],
            "Node.js tools: wasm-opt, the loader minifier, axe-core",
        )?;
    }
    step(
        "Installing wasm-opt (npm binaryen; Debian's is too old for LLVM's output), terser and axe-core",
    );
    exec(
        Command::new("npm")
            .args(["ci", "--no-audit", "--no-fund", "--prefix"])
            .arg(&tools),
    )?;
    Ok(Some((wasm_opt, terser)))
}

/// Chromium and chromedriver, for the widget's tests and the end-to-end tests.
pub fn ensure_browser() -> Result {
    if Path::new(CHROMIUM).exists() && Path::new(CHROMEDRIVER).exists() {
        eprintln!("    Chromium and chromedriver are installed");
        return Ok(());
    }
    apt_install(BROWSER_PACKAGES, "a headless browser for the tests")
}

/// Postfix's `smtp-sink`: the SMTP server the mail tests send to; it writes each message it
/// accepts to a file, which the tests read back and parse.
pub const SMTP_SINK: &str = "/usr/sbin/smtp-sink";

pub fn ensure_smtp_sink() -> Result {
    if Path::new(SMTP_SINK).exists() {
        eprintln!("    smtp-sink (Postfix) is installed");
        return Ok(());
    }
    // Postfix's own daemon is not started by the tests; only its smtp-sink tool is used.
    apt_install(&["postfix"], "smtp-sink, an SMTP server for the mail tests")
}

/// Dovecot: the IMAP server the inbound mail tests watch (each test starts a private one
/// from a throwaway configuration; the package's own service is not started) and its LMTP
/// server, through which the tests deliver messages as a mail server would.
pub const DOVECOT: &str = "/usr/sbin/dovecot";

pub fn ensure_dovecot() -> Result {
    if Path::new(DOVECOT).exists() && Path::new("/usr/lib/dovecot/lmtp").exists() {
        eprintln!("    Dovecot (IMAP, LMTP) is installed");
        return Ok(());
    }
    apt_install(
        &["dovecot-imapd", "dovecot-lmtpd"],
        "Dovecot, an IMAP server for the inbound mail tests",
    )
}

/// Installs Debian packages, running `apt-get update` once first.
pub fn apt_install(packages: &[&str], why: &str) -> Result {
    step(&format!("Installing {} ({why})", packages.join(" ")));
    if which("apt-get").is_none() {
        bail!(
            "apt-get is not available: install {} with your system's package manager",
            packages.join(" ")
        );
    }
    let sudo = if is_root() { None } else { Some("sudo") };
    static UPDATE: Once = Once::new();
    let mut updated = Ok(());
    UPDATE.call_once(|| {
        updated = exec(apt_command(sudo).args(["update", "-qq"]));
    });
    updated?;
    exec(
        apt_command(sudo)
            .args(["install", "-y", "-qq", "--no-install-recommends"])
            .args(packages)
            .env("DEBIAN_FRONTEND", "noninteractive"),
    )
}

fn apt_command(sudo: Option<&str>) -> Command {
    match sudo {
        Some(sudo) => {
            let mut command = Command::new(sudo);
            command.arg("apt-get");
            command
        }
        None => Command::new("apt-get"),
    }
}

pub fn is_root() -> bool {
    output(Command::new("id").arg("-u")).as_deref() == Some("0")
}

/// The version of a package as pinned in Cargo.lock.
pub fn locked_version(package: &str) -> Result<String> {
    let lock = std::fs::read_to_string(root().join("Cargo.lock")).context("reading Cargo.lock")?;
    let needle = format!("name = \"{package}\"\nversion = \"");
    let start = lock
        .find(&needle)
        .with_context(|| format!("{package} is not in Cargo.lock"))?
        + needle.len();
    let end = lock[start..].find('"').context("Cargo.lock is malformed")? + start;
    Ok(lock[start..end].to_owned())
}

fn cargo_home() -> PathBuf {
    std::env::var_os("CARGO_HOME")
        .map(PathBuf::from)
        .unwrap_or_else(|| {
            PathBuf::from(std::env::var_os("HOME").unwrap_or_default()).join(".cargo")
        })
}

pub fn which(program: &str) -> Option<PathBuf> {
    std::env::var_os("PATH").and_then(|paths| {
        std::env::split_paths(&paths)
            .map(|dir| dir.join(program))
            .find(|candidate| candidate.is_file())
    })
}

fn run_with_timeout(command: &mut Command, limit: Duration) -> bool {
    let Ok(mut child) = command.spawn() else {
        return false;
    };
    let started = std::time::Instant::now();
    loop {
        match child.try_wait() {
            Ok(Some(status)) => return status.success(),
            Ok(None) if started.elapsed() < limit => std::thread::sleep(Duration::from_millis(200)),
            _ => {
                let _ = child.kill();
                let _ = child.wait();
                return false;
            }
        }
    }
}

/// The schemathesis release the API contract test runs (PyPI); pinned so a new release's new
/// checks arrive in a commit of their own, not in somebody's unrelated change.
const SCHEMATHESIS_VERSION: &str = "4.32.5";

/// schemathesis in a virtual environment of its own under `target/tools/`, installed from
/// PyPI when missing. Returns the `schemathesis` program.
pub fn ensure_schemathesis() -> Result<PathBuf> {
    let venv = root().join(format!("target/tools/schemathesis-{SCHEMATHESIS_VERSION}"));
    let program = venv.join("bin/schemathesis");
    if program.is_file() {
        eprintln!("    schemathesis {SCHEMATHESIS_VERSION} is installed");
        return Ok(program);
    }
    step(&format!(
        "Installing schemathesis {SCHEMATHESIS_VERSION} from PyPI into {} (the API contract test)",
        venv.display()
    ));
    if which("python3").is_none() {
        apt_install(&["python3", "python3-venv"], "Python, for schemathesis")?;
    }
    let made = |venv: &Path| {
        Command::new("python3")
            .args(["-m", "venv"])
            .arg(venv)
            .status()
            .is_ok_and(|status| status.success())
    };
    if !made(&venv) {
        // Debian splits venv (and its bundled pip) into a package of its own.
        let _ = std::fs::remove_dir_all(&venv);
        apt_install(&["python3-venv"], "virtual environments, for schemathesis")?;
        if !made(&venv) {
            bail!("python3 -m venv {} failed", venv.display());
        }
    }
    let installed = exec(
        Command::new(venv.join("bin/pip"))
            .args(["install", "--quiet", "--disable-pip-version-check"])
            .arg(format!("schemathesis=={SCHEMATHESIS_VERSION}")),
    );
    if let Err(err) = installed {
        let _ = std::fs::remove_dir_all(&venv);
        return Err(err);
    }
    Ok(program)
}
