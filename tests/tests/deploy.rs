//! The self-contained binary (`cargo xtask dist`; the test run builds the same with the
//! `embed` feature): started in an empty folder, with no `www/` and no built widget beside
//! it, it serves the loader, the widget (precompressed) and the demo site from inside itself,
//! and a visitor can leave feedback through it in Chromium.

mod common;

use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use common::browser;
use common::collector::http;
use common::host_site::HostSite;
use common::{browser_required, eventually, free_port};

/// The binary built with `--features embed`, if this run has one.
fn embedded_binary() -> Option<PathBuf> {
    let binary = std::env::var_os("EARSHOT_EMBEDDED_BIN").map(PathBuf::from);
    match binary {
        Some(binary) if binary.exists() => Some(binary),
        _ => {
            let message = "the self-contained binary is not built: run `cargo xtask test`, or set EARSHOT_ALLOW_SKIPS=1 to skip";
            assert!(!browser_required(), "{message}");
            eprintln!("SKIPPED: {message}");
            None
        }
    }
}

struct Server {
    child: Child,
    port: u16,
    _dir: tempfile::TempDir,
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn start(binary: &PathBuf, page_origin: &str) -> Server {
    let dir = tempfile::tempdir().unwrap();
    let port = free_port();
    let earshot = |args: &[&str]| {
        Command::new(binary)
            .args(args)
            .current_dir(dir.path())
            .env("EARSHOT_DATABASE", dir.path().join("earshot.db"))
            .env_remove("EARSHOT_WWW_DIR")
            .env_remove("EARSHOT_WIDGET_DIR")
            .env("EARSHOT_LOG", "warn")
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap()
    };
    let status = earshot(&[
        "site",
        "add",
        "--name",
        "Demo",
        "--key",
        "demo",
        "--origin",
        page_origin,
    ])
    .wait()
    .unwrap();
    assert!(status.success());
    let child = earshot(&["serve", "--listen", &format!("127.0.0.1:{port}")]);
    eventually(
        "the binary answers /healthz",
        Duration::from_secs(20),
        || {
            http()
                .get(&format!("http://127.0.0.1:{port}/healthz"))
                .call()
                .is_ok_and(|response| response.status() == 200)
                .then_some(())
        },
    );
    Server {
        child,
        port,
        _dir: dir,
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_self_contained_binary_serves_everything_from_inside_itself() {
    let Some(binary) = embedded_binary() else {
        return;
    };
    let page_port = free_port();
    let page_origin = format!("http://localhost:{page_port}");
    let server = start(&binary, &page_origin);
    let url = |path: &str| format!("http://127.0.0.1:{}{path}", server.port);

    let no_redirects = ureq::Agent::config_builder()
        .http_status_as_error(false)
        .max_redirects(0)
        .build()
        .new_agent();
    let response = no_redirects.get(&url("/demo")).call().unwrap();
    assert_eq!(response.status().as_u16(), 301);
    assert_eq!(response.headers().get("location").unwrap(), "/demo/");
    let mut page = http().get(&url("/demo/")).call().unwrap();
    assert_eq!(page.status().as_u16(), 200);
    assert!(
        page.body_mut()
            .read_to_string()
            .unwrap()
            .contains("Ferndale")
    );
    for (path, content_type) in [
        ("/earshot.css", "text/css"),
        ("/demo/shop.css", "text/css"),
        ("/earshot.js", "text/javascript"),
    ] {
        let response = http().get(&url(path)).call().unwrap();
        assert_eq!(response.status().as_u16(), 200, "{path}");
        assert!(
            response
                .headers()
                .get("content-type")
                .unwrap()
                .to_str()
                .unwrap()
                .starts_with(content_type),
            "{path}"
        );
    }
    let wasm = http()
        .get(&url("/widget/earshot_widget_bg.wasm"))
        .header("Accept-Encoding", "br")
        .call()
        .unwrap();
    assert_eq!(wasm.status().as_u16(), 200);
    assert_eq!(wasm.headers().get("content-encoding").unwrap(), "br");
    let etag = wasm
        .headers()
        .get("etag")
        .unwrap()
        .to_str()
        .unwrap()
        .to_owned();
    let again = http()
        .get(&url("/widget/earshot_widget_bg.wasm"))
        .header("Accept-Encoding", "br")
        .header("If-None-Match", &etag)
        .call()
        .unwrap();
    assert_eq!(again.status().as_u16(), 304, "revalidated by its ETag");
    assert_eq!(
        http()
            .get(&url("/../earshot.db"))
            .call()
            .unwrap()
            .status()
            .as_u16(),
        404
    );

    // And a visitor on a site can use it.
    let Some(browser) = browser::start().await else {
        return;
    };
    let shop = HostSite::start_on(page_port, &format!("http://127.0.0.1:{}", server.port));
    browser.client.goto(&shop.url()).await.unwrap();
    assert_eq!(
        browser
            .leave_feedback("Served from inside the binary")
            .await,
        "Thank you!"
    );
    browser.close().await;
}
