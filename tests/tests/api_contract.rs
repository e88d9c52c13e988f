//! The OpenAPI document is the contract: schemathesis (from PyPI) generates requests from
//! `/openapi.json` and sends them to the real binary, on SQLite and on PostgreSQL, with every
//! check it has (`--checks all`). A request the document allows must be accepted; one it
//! forbids must be refused with a 4xx; every answer must match the document; no 5xx. Any
//! finding fails the run. The screenshot upload is sent real images (PNG, JPEG, WebP), each
//! for a fresh submission (`tests/contract/screenshot_hooks.py`), and they must be stored.
//!
//! `cargo xtask test` installs schemathesis in `target/tools/` and names it in
//! `EARSHOT_SCHEMATHESIS`; a plain `cargo test` without it fails, naming that command, unless
//! `EARSHOT_ALLOW_SKIPS=1`.

mod common;

use std::path::PathBuf;
use std::process::Command;

use common::collector::{Collector, Engine};

/// Generated cases per operation and phase. About 2,000 requests per engine in all.
const MAX_EXAMPLES: &str = "150";
/// The site's page, sent as `Origin` with every generated request, so valid submissions get
/// as far as the database.
const ORIGIN: &str = "https://shop.example";

fn schemathesis() -> Option<PathBuf> {
    match std::env::var_os("EARSHOT_SCHEMATHESIS") {
        Some(path) => Some(PathBuf::from(path)),
        None if common::browser_required() => {
            panic!(
                "EARSHOT_SCHEMATHESIS is not set: the API contract would go untested. Run \
                 `cargo xtask test` (it installs schemathesis), or set EARSHOT_ALLOW_SKIPS=1 to skip"
            )
        }
        None => {
            eprintln!(
                "SKIPPED: EARSHOT_SCHEMATHESIS is not set (cargo xtask test installs schemathesis)"
            );
            None
        }
    }
}

#[test]
fn the_server_does_exactly_what_its_openapi_document_says() {
    let Some(schemathesis) = schemathesis() else {
        return;
    };
    for engine in Engine::all() {
        check_contract(&schemathesis, &engine);
    }
}

fn check_contract(schemathesis: &PathBuf, engine: &Engine) {
    // No rate limits: thousands of generated requests from one "visitor" are the point.
    let collector = Collector::start_on(
        engine,
        &[ORIGIN],
        &[
            "--rate-limit-visitor",
            "0",
            "--rate-limit-site",
            "0",
            "--metrics-token",
            "contract-metrics-token",
            // The screenshot hooks send each upload as a visitor of its own, through the
            // collector's trusted proxy (the test itself).
            "--trusted-proxies",
            "127.0.0.1",
        ],
    );
    let token = collector.create_token(None);
    let out = collector.cli(&["site", "widget", "demo", "--screenshots", "on"]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let images = collector.dir.path().join("images");
    write_images(&images);

    // Real identifiers, so generated requests reach past "unknown site": every path's
    // `{site}` and the body's `site` name the registered site.
    let config = collector.dir.path().join("schemathesis.toml");
    std::fs::write(
        &config,
        "[parameters]\n\"path.site\" = \"demo\"\n\"body.site\" = \"demo\"\n",
    )
    .unwrap();
    let report = common::artefacts_dir().join(format!("schemathesis-{}", engine.name()));
    let output = Command::new(schemathesis)
        .arg("--config-file")
        .arg(&config)
        .args(["run", &collector.url("/openapi.json")])
        .args(["--checks", "all", "--max-examples", MAX_EXAMPLES])
        .args(["--continue-on-failure", "--warnings", "off"])
        .args(["--header", &format!("Authorization: Bearer {token}")])
        .args(["--header", &format!("Origin: {ORIGIN}")])
        .args(["--report", "junit", "--report-dir"])
        .arg(&report)
        .env("NO_COLOR", "1")
        .env("PYTHONPATH", common::root().join("tests/contract"))
        .env("SCHEMATHESIS_HOOKS", "screenshot_hooks")
        .env("EARSHOT_CONTRACT_IMAGES", &images)
        .env("EARSHOT_CONTRACT_URL", collector.origin())
        .env("EARSHOT_CONTRACT_ORIGIN", ORIGIN)
        .output()
        .expect("schemathesis runs");
    let printed = String::from_utf8_lossy(&output.stdout);
    eprintln!("schemathesis on {}:\n{printed}", engine.name());
    if !output.status.success() {
        let log = collector.log();
        let tail: Vec<&str> = log.lines().rev().take(30).collect();
        panic!(
            "schemathesis found requests where the server and /openapi.json disagree on {} \
             (report in {}):\n{printed}\n{}\nlast lines of the server log:\n{}",
            engine.name(),
            report.display(),
            String::from_utf8_lossy(&output.stderr),
            tail.into_iter().rev().collect::<Vec<_>>().join("\n")
        );
    }
    // The run reached the database: the generated valid submissions were stored.
    let (status, csv) = collector.export(Some(&token), "feedback.csv?spam=include");
    assert_eq!(status, 200);
    let (_, rows) = common::parse_csv(&csv);
    assert!(
        rows.len() >= 20,
        "only {} generated submissions were stored: the run did not reach the database",
        rows.len()
    );
    // The images reached the decoder and were stored.
    let with_screenshot = rows
        .iter()
        .filter(|row| !common::cell(row, "screenshot").is_empty())
        .count();
    eprintln!(
        "{} submissions stored on {}, {with_screenshot} with a screenshot",
        rows.len(),
        engine.name()
    );
    // Random bytes make a valid image now and then (2 in a run); real ones, hundreds.
    assert!(
        with_screenshot >= 50,
        "only {with_screenshot} screenshots were stored: the upload was not sent real images"
    );
}

/// Small real images of each type a screenshot may be sent as, in `dir`: what the hooks
/// send to the upload.
fn write_images(dir: &std::path::Path) {
    use image::{DynamicImage, ImageFormat, Rgb, RgbImage, Rgba, RgbaImage};
    std::fs::create_dir_all(dir).unwrap();
    let photo = DynamicImage::ImageRgb8(RgbImage::from_fn(64, 48, |x, y| {
        Rgb([(x * 4) as u8, (y * 5) as u8, 90])
    }));
    let clear = DynamicImage::ImageRgba8(RgbaImage::from_fn(33, 17, |x, y| {
        Rgba([200, (x * 7) as u8, (y * 15) as u8, (x * y) as u8])
    }));
    let grey = DynamicImage::ImageLuma8(image::GrayImage::from_fn(20, 90, |x, _| {
        image::Luma([(x * 12) as u8])
    }));
    for (name, image, format) in [
        ("photo.png", &photo, ImageFormat::Png),
        ("clear.png", &clear, ImageFormat::Png),
        ("grey.png", &grey, ImageFormat::Png),
        ("photo.jpg", &photo, ImageFormat::Jpeg),
        ("grey.jpg", &grey, ImageFormat::Jpeg),
        ("photo.webp", &photo, ImageFormat::WebP),
        ("clear.webp", &clear, ImageFormat::WebP),
    ] {
        image.save_with_format(dir.join(name), format).unwrap();
    }
}
