//! Finding, and installing when missing, what the build needs beyond cargo.
//!
//! The widget needs a Rust toolchain that can target `wasm32-unknown-unknown`. On most
//! machines that is `rustup target add wasm32-unknown-unknown`. Where rustup cannot download
//! the wasm32 standard library (this project's CI machines), Debian's `rustc-web` toolchain
//! builds std from source with `-Zbuild-std` and links with `wasm-ld` from `lld`.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::Once;
use std::time::Duration;

use crate::{Result, exec, output, root, step};

const TARGET: &str = "wasm32-unknown-unknown";
const DEBIAN_RUSTC: &str = "/usr/bin/rustc";
const DEBIAN_CARGO: &str = "/usr/bin/cargo";
const DEBIAN_STD_SOURCE: &str = "/usr/lib/rustlib/src/rust/library";
const DEBIAN_TOOLCHAIN_PACKAGES: &[&str] = &["rustc-web", "cargo-web", "rust-web-src", "lld-22"];
const DEBIAN_WASM_LINKER: &str = "wasm-ld-22";
const BROWSER_PACKAGES: &[&str] = &["chromium", "chromium-driver"];
pub const CHROMIUM: &str = "/usr/bin/chromium";
pub const CHROMEDRIVER: &str = "/usr/bin/chromedriver";

/// How the wasm build is done on this machine.
#[derive(Debug, Clone)]
pub enum WasmRust {
    /// rustup's toolchain has the wasm32 standard library.
    Rustup,
    /// Debian's toolchain, building std from source.
    DebianBuildStd,
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

    /// A cargo command that builds for wasm32, set up for this machine's way of doing it.
    pub fn wasm_cargo(&self, subcommand: &str) -> Command {
        match self.rust {
            WasmRust::Rustup => {
                let mut command = crate::cargo();
                command.args([subcommand, "--target", TARGET]);
                command.env("CARGO_TARGET_DIR", root().join("target/wasm"));
                command
            }
            WasmRust::DebianBuildStd => {
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
                    "CARGO_TARGET_DIR",
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
                    .env("RUSTC_BOOTSTRAP", "1")
                    .env(
                        "CARGO_TARGET_WASM32_UNKNOWN_UNKNOWN_LINKER",
                        DEBIAN_WASM_LINKER,
                    )
                    .env("CARGO_TARGET_DIR", root().join("target/wasm"))
                    .args([
                        subcommand,
                        "--target",
                        TARGET,
                        "-Zbuild-std=std,panic_abort",
                    ]);
                command
            }
        }
    }
}

fn has_wasm_std(rustc: &str) -> bool {
    output(Command::new(rustc).args(["--print", "sysroot"]))
        .map(|sysroot| {
            Path::new(&sysroot)
                .join("lib/rustlib")
                .join(TARGET)
                .join("lib")
                .is_dir()
        })
        .unwrap_or(false)
}

fn debian_toolchain_ready() -> bool {
    Path::new(DEBIAN_CARGO).exists()
        && Path::new(DEBIAN_STD_SOURCE).is_dir()
        && which(DEBIAN_WASM_LINKER).is_some()
}

fn wasm_rust() -> Result<WasmRust> {
    let rustc = std::env::var("RUSTC").unwrap_or_else(|_| "rustc".into());
    if has_wasm_std(&rustc) {
        eprintln!("    rustup's toolchain has the {TARGET} standard library");
        return Ok(WasmRust::Rustup);
    }
    if debian_toolchain_ready() {
        eprintln!("    using Debian's rustc-web toolchain, building std for {TARGET} from source");
        return Ok(WasmRust::DebianBuildStd);
    }
    if which("rustup").is_some() {
        eprintln!(
            "    the {TARGET} standard library is missing; trying `rustup target add {TARGET}`"
        );
        let added = run_with_timeout(
            Command::new("rustup").args(["target", "add", TARGET]),
            Duration::from_secs(90),
        );
        if added && has_wasm_std(&rustc) {
            return Ok(WasmRust::Rustup);
        }
        eprintln!("    rustup could not download it; falling back to Debian's toolchain");
    }
    apt_install(
        DEBIAN_TOOLCHAIN_PACKAGES,
        "a Rust toolchain that can build std for wasm32",
    )?;
    if debian_toolchain_ready() {
        Ok(WasmRust::DebianBuildStd)
    } else {
        Err(format!(
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

/// Installs Debian packages, running `apt-get update` once first.
pub fn apt_install(packages: &[&str], why: &str) -> Result {
    step(&format!("Installing {} ({why})", packages.join(" ")));
    if which("apt-get").is_none() {
        return Err(format!(
            "apt-get is not available: install {} with your system's package manager",
            packages.join(" ")
        ));
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
    let lock = std::fs::read_to_string(root().join("Cargo.lock"))
        .map_err(|err| format!("reading Cargo.lock: {err}"))?;
    let needle = format!("name = \"{package}\"\nversion = \"");
    let start = lock
        .find(&needle)
        .ok_or_else(|| format!("{package} is not in Cargo.lock"))?
        + needle.len();
    let end = lock[start..].find('"').ok_or("Cargo.lock is malformed")? + start;
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
