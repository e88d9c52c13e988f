//! The HTTP application in-process (`actix_web::test`), built by the same `build_app` as
//! `earshot serve`: the routes and answers that need no browser.

use actix_web::http::{Method, StatusCode, header};
use actix_web::test;
use earshot_collector::rate_limit::{RateLimitConfig, RateLimits};
use earshot_collector::store::Database;
use earshot_collector::{AppState, Store, app, store};
use earshot_shared::{ApiError, ErrorCode, RatingKind, SiteKey, Theme, WidgetSettings, limits};
use std::num::NonZeroU32;

fn state(dir: &tempfile::TempDir) -> AppState {
    let path = dir.path().join("earshot.db");
    let mut conn = store::open_connection(&path).unwrap();
    conn.add_site(
        &SiteKey::parse("demo").unwrap(),
        "Demo",
        &["https://shop.example".into()],
    )
    .unwrap();
    let www = dir.path().join("www");
    std::fs::create_dir_all(&www).unwrap();
    std::fs::write(www.join("earshot.js"), "/* loader */").unwrap();
    std::fs::write(www.join("earshot.css"), "/* styles */").unwrap();
    std::fs::create_dir_all(dir.path().join("widget")).unwrap();
    std::fs::write(dir.path().join("widget/earshot_widget.js"), "/* glue */").unwrap();
    AppState {
        store: Store::open(&path).unwrap(),
        metrics: Default::default(),
        sites: Default::default(),
        rate_limits: RateLimits::new(RateLimitConfig {
            per_visitor: NonZeroU32::new(limits::RATE_LIMIT_PER_VISITOR),
            per_site: NonZeroU32::new(limits::RATE_LIMIT_PER_SITE),
            window: std::time::Duration::from_secs(limits::RATE_WINDOW_SECS),
        }),
        assets: earshot_collector::assets::Assets::choose(
            Some(www),
            Some(dir.path().join("widget")),
        ),
        logins: Default::default(),
        passwords: Default::default(),
        trusted_proxies: Default::default(),
        timeouts: Default::default(),
        webhook_reach: Default::default(),
        metrics_token: None,
        setup: Default::default(),
        mail: None,
        conversations: Default::default(),
        inbound: Default::default(),
        mail_bell: Default::default(),
    }
}

/// The app exactly as `earshot serve` builds it.
macro_rules! app {
    ($dir:expr) => {
        test::init_service(app::build_app(state($dir))).await
    };
}

#[actix_web::test]
async fn health_is_reported() {
    let dir = tempfile::tempdir().unwrap();
    let app = app!(&dir);
    let response =
        test::call_service(&app, test::TestRequest::get().uri("/healthz").to_request()).await;
    assert_eq!(response.status(), StatusCode::OK);
}

/// `POST /v1/feedback` of a valid submission for `site`, as the widget sends it, without
/// `Origin` (add one to the request).
fn feedback_post(site: &str) -> test::TestRequest {
    let body = serde_json::json!({
        "id": uuid::Uuid::new_v4().to_string(),
        "site": site,
        "rating": {"kind": "stars", "value": 4},
        "page_url": "https://shop.example/",
        "open_ms": 5000,
    });
    test::TestRequest::post()
        .uri("/v1/feedback")
        .insert_header((header::CONTENT_TYPE, "text/plain"))
        .set_payload(body.to_string())
}

/// Without `Origin`, which page sent a submission cannot be checked: refused before the body
/// is read, whatever site it names (the OpenAPI document marks the header required).
#[actix_web::test]
async fn a_submission_without_origin_is_refused_whatever_its_site() {
    let dir = tempfile::tempdir().unwrap();
    let app = app!(&dir);
    for site in ["demo", "nosuchsite"] {
        let request = feedback_post(site).to_request();
        let response = test::call_service(&app, request).await;
        assert_eq!(response.status(), StatusCode::FORBIDDEN, "{site}");
        let error: ApiError = test::read_body_json(response).await;
        assert_eq!(error.code, ErrorCode::OriginNotAllowed, "{site}");
    }
}

/// Ingest sets no cookie, on acceptance as on refusal: a visitor is never tracked.
#[actix_web::test]
async fn ingest_sets_no_cookie() {
    let dir = tempfile::tempdir().unwrap();
    let app = app!(&dir);
    for (origin, expected) in [
        ("https://shop.example", StatusCode::CREATED),
        ("https://elsewhere.example", StatusCode::FORBIDDEN),
    ] {
        let request = feedback_post("demo")
            .insert_header((header::ORIGIN, origin))
            .to_request();
        let response = test::call_service(&app, request).await;
        assert_eq!(response.status(), expected, "{origin}");
        assert!(
            response.headers().get(header::SET_COOKIE).is_none(),
            "{origin}: {:?}",
            response.headers()
        );
    }
}

/// The collector's own window (`/widget/window`, opened where a page's CSP blocks
/// WebAssembly) sends from the collector's origin: accepted for a page on one of the site's
/// origins, and for no other page; a page elsewhere that only claims the site's address is
/// still refused.
#[actix_web::test]
async fn the_collectors_own_window_may_send_for_a_page_of_the_site_only() {
    let dir = tempfile::tempdir().unwrap();
    let app = app!(&dir);
    let post = |origin: &str, host: &str, page: &str| {
        let body = serde_json::json!({
            "id": uuid::Uuid::new_v4().to_string(),
            "site": "demo",
            "rating": {"kind": "stars", "value": 4},
            "page_url": page,
            "open_ms": 5000,
        });
        test::TestRequest::post()
            .uri("/v1/feedback")
            .insert_header((header::HOST, host))
            .insert_header((header::ORIGIN, origin))
            .insert_header((header::CONTENT_TYPE, "text/plain"))
            .set_payload(body.to_string())
            .to_request()
    };
    for (origin, host, page, expected) in [
        // From the window, for the shop's page.
        (
            "https://feedback.example",
            "feedback.example",
            "https://shop.example/cart",
            StatusCode::CREATED,
        ),
        (
            "http://127.0.0.1:8080",
            "127.0.0.1:8080",
            "https://shop.example/",
            StatusCode::CREATED,
        ),
        // From the window, for a page the site does not list.
        (
            "https://feedback.example",
            "feedback.example",
            "https://elsewhere.example/",
            StatusCode::FORBIDDEN,
        ),
        (
            "https://feedback.example",
            "feedback.example",
            "https://shop.example.evil/",
            StatusCode::FORBIDDEN,
        ),
        (
            "https://feedback.example",
            "feedback.example",
            "http://shop.example/",
            StatusCode::FORBIDDEN,
        ),
        // Not the collector's origin: a page elsewhere naming the shop's page.
        (
            "https://elsewhere.example",
            "feedback.example",
            "https://shop.example/",
            StatusCode::FORBIDDEN,
        ),
        (
            "https://feedback.example.evil",
            "feedback.example",
            "https://shop.example/",
            StatusCode::FORBIDDEN,
        ),
        (
            "null",
            "feedback.example",
            "https://shop.example/",
            StatusCode::FORBIDDEN,
        ),
    ] {
        let response = test::call_service(&app, post(origin, host, page)).await;
        assert_eq!(
            response.status(),
            expected,
            "{origin} via {host} for {page}"
        );
        if expected == StatusCode::FORBIDDEN {
            let error: ApiError = test::read_body_json(response).await;
            assert_eq!(error.code, ErrorCode::OriginNotAllowed);
        }
    }
}

/// The widget's texts, one language at a time, as the tables in `shared` hold them; a
/// browser that has them revalidates by ETag.
#[actix_web::test]
async fn the_widget_texts_are_served_one_language_at_a_time() {
    let dir = tempfile::tempdir().unwrap();
    let app = app!(&dir);
    use earshot_shared::texts::{LANGUAGES, SHOT_LANGUAGES};
    let widget = LANGUAGES.map(|texts| {
        (
            format!("/widget/texts/{}", texts.lang),
            serde_json::to_value(texts).unwrap(),
        )
    });
    // The screenshot editor's, apart: they weigh nothing on the widget's first load.
    let editor = SHOT_LANGUAGES.map(|texts| {
        (
            format!("/widget/screenshot-texts/{}", texts.lang),
            serde_json::to_value(texts).unwrap(),
        )
    });
    for (uri, texts) in widget.into_iter().chain(editor) {
        let response =
            test::call_service(&app, test::TestRequest::get().uri(&uri).to_request()).await;
        assert_eq!(response.status(), StatusCode::OK, "{uri}");
        let headers = response.headers().clone();
        assert_eq!(
            headers.get(header::ACCESS_CONTROL_ALLOW_ORIGIN).unwrap(),
            "*"
        );
        assert_eq!(headers.get("timing-allow-origin").unwrap(), "*");
        let body: serde_json::Value = test::read_body_json(response).await;
        assert_eq!(body, texts, "{uri}");
        let etag = headers.get(header::ETAG).unwrap().clone();
        let again = test::TestRequest::get()
            .uri(&uri)
            .insert_header((header::IF_NONE_MATCH, etag))
            .to_request();
        let response = test::call_service(&app, again).await;
        assert_eq!(response.status(), StatusCode::NOT_MODIFIED, "{uri}");
    }
    for uri in [
        "/widget/texts/xx",
        "/widget/texts/fr-CA",
        "/widget/texts/",
        "/widget/screenshot-texts/xx",
    ] {
        let response =
            test::call_service(&app, test::TestRequest::get().uri(uri).to_request()).await;
        assert_eq!(response.status(), StatusCode::NOT_FOUND, "{uri}");
        let error: ApiError = test::read_body_json(response).await;
        assert_eq!(error.code, ErrorCode::NotFound, "{uri}");
    }
}

#[actix_web::test]
async fn a_preflight_is_answered_for_any_origin() {
    let dir = tempfile::tempdir().unwrap();
    let app = app!(&dir);
    let request = test::TestRequest::default()
        .method(Method::OPTIONS)
        .uri("/v1/feedback")
        .insert_header((header::ORIGIN, "https://anywhere.example"))
        .to_request();
    let response = test::call_service(&app, request).await;
    assert_eq!(response.status(), StatusCode::NO_CONTENT);
    assert_eq!(
        response
            .headers()
            .get(header::ACCESS_CONTROL_ALLOW_ORIGIN)
            .unwrap(),
        "https://anywhere.example"
    );
}

#[actix_web::test]
async fn wrong_methods_and_paths_get_json_errors() {
    let dir = tempfile::tempdir().unwrap();
    let app = app!(&dir);
    for (method, uri, status, code) in [
        (
            Method::GET,
            "/v1/feedback",
            StatusCode::METHOD_NOT_ALLOWED,
            ErrorCode::MethodNotAllowed,
        ),
        (
            Method::DELETE,
            "/v1/sites/demo/feedback.csv",
            StatusCode::METHOD_NOT_ALLOWED,
            ErrorCode::MethodNotAllowed,
        ),
        (
            Method::GET,
            "/v1/unknown",
            StatusCode::NOT_FOUND,
            ErrorCode::NotFound,
        ),
        (
            Method::GET,
            "/no-such-file.txt",
            StatusCode::NOT_FOUND,
            ErrorCode::NotFound,
        ),
        (
            Method::POST,
            "/somewhere",
            StatusCode::NOT_FOUND,
            ErrorCode::NotFound,
        ),
        (
            Method::GET,
            "/widget/missing.wasm",
            StatusCode::NOT_FOUND,
            ErrorCode::NotFound,
        ),
    ] {
        let request = test::TestRequest::default()
            .method(method.clone())
            .uri(uri)
            .to_request();
        let response = test::call_service(&app, request).await;
        assert_eq!(response.status(), status, "{method} {uri}");
        let body: ApiError = test::read_body_json(response).await;
        assert_eq!(body.code, code, "{method} {uri}");
    }

    // Every route answers a method it does not serve with 405 and the methods it does.
    for (_, path) in app::ROUTES {
        let uri = path
            .replace("{site}", "demo")
            .replace("{file}", "earshot_widget.js");
        let served: Vec<String> = app::ROUTES
            .iter()
            .filter(|(_, route)| route == path)
            .map(|(method, _)| method.to_uppercase())
            .collect();
        let request = test::TestRequest::default()
            .method(Method::PATCH)
            .uri(&uri)
            .to_request();
        let response = test::call_service(&app, request).await;
        assert_eq!(
            response.status(),
            StatusCode::METHOD_NOT_ALLOWED,
            "PATCH {uri}"
        );
        let allow = response
            .headers()
            .get(header::ALLOW)
            .unwrap_or_else(|| panic!("PATCH {uri}: no Allow header"))
            .to_str()
            .unwrap()
            .to_owned();
        assert_eq!(allow, served.join(", "), "PATCH {uri}");
        let body: ApiError = test::read_body_json(response).await;
        assert_eq!(body.code, ErrorCode::MethodNotAllowed);
    }
}

#[actix_web::test]
async fn the_loader_is_public_to_every_origin() {
    let dir = tempfile::tempdir().unwrap();
    let app = app!(&dir);
    let response = test::call_service(
        &app,
        test::TestRequest::get().uri("/earshot.js").to_request(),
    )
    .await;
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(
        response
            .headers()
            .get(header::ACCESS_CONTROL_ALLOW_ORIGIN)
            .unwrap(),
        "*"
    );
    assert!(
        response
            .headers()
            .get(header::CONTENT_TYPE)
            .unwrap()
            .to_str()
            .unwrap()
            .contains("javascript")
    );
}

#[actix_web::test]
async fn metrics_count_outcomes_and_time_requests() {
    let dir = tempfile::tempdir().unwrap();
    let app = app!(&dir);
    let body = serde_json::json!({
        "id": uuid::Uuid::new_v4(), "site": "demo", "rating": {"kind": "stars", "value": 5},
        "page_url": "https://shop.example/", "open_ms": 3000,
    });
    for origin in ["https://shop.example", "https://evil.example"] {
        let request = test::TestRequest::post()
            .uri("/v1/feedback")
            .insert_header((header::CONTENT_TYPE, "text/plain"))
            .insert_header((header::ORIGIN, origin))
            .set_payload(body.to_string())
            .to_request();
        test::call_service(&app, request).await;
    }
    let response =
        test::call_service(&app, test::TestRequest::get().uri("/metrics").to_request()).await;
    assert_eq!(response.status(), StatusCode::OK);
    let text = String::from_utf8(test::read_body(response).await.to_vec()).unwrap();
    assert!(
        text.contains(r#"earshot_submissions_total{outcome="stored",code=""} 1"#),
        "{text}"
    );
    assert!(
        text.contains(
            r#"earshot_submissions_total{outcome="rejected",code="origin-not-allowed"} 1"#
        ),
        "{text}"
    );
    assert!(
        text.contains(r#"earshot_http_request_duration_seconds_count{method="POST",route="/v1/feedback",status="201"} 1"#),
        "{text}"
    );
}

#[actix_web::test]
async fn the_openapi_document_lists_every_route_and_every_listed_path_is_served() {
    let dir = tempfile::tempdir().unwrap();
    let app = app!(&dir);
    let response = test::call_service(
        &app,
        test::TestRequest::get().uri("/openapi.json").to_request(),
    )
    .await;
    assert_eq!(response.status(), StatusCode::OK);
    let doc: serde_json::Value = test::read_body_json(response).await;
    assert!(doc["openapi"].as_str().unwrap().starts_with("3."));
    for schema in ["Submission", "ApiError", "ErrorCode", "FeedbackAccepted"] {
        assert!(
            doc["components"]["schemas"][schema].is_object(),
            "{schema} is described"
        );
    }

    for (method, path) in app::ROUTES {
        assert!(
            doc["paths"][path][method].is_object(),
            "{method} {path} is not in the OpenAPI document"
        );
    }

    let paths = doc["paths"].as_object().unwrap();
    assert_eq!(
        paths.len(),
        app::ROUTES
            .iter()
            .map(|(_, p)| p)
            .collect::<std::collections::HashSet<_>>()
            .len()
    );
    for (path, item) in paths {
        for method in item.as_object().unwrap().keys() {
            let uri = path
                .replace("{site}", "demo")
                .replace("{file}", "earshot_widget.js")
                .replace("{lang}", "fr");
            let request = test::TestRequest::default()
                .method(Method::from_bytes(method.to_uppercase().as_bytes()).unwrap())
                .uri(&uri)
                .insert_header((header::ORIGIN, "https://shop.example"))
                .insert_header((header::CONTENT_TYPE, "text/plain"))
                .to_request();
            let response = test::call_service(&app, request).await;
            let status = response.status();
            assert_ne!(
                status,
                StatusCode::METHOD_NOT_ALLOWED,
                "{method} {path} is documented but not served"
            );
            if status == StatusCode::NOT_FOUND {
                let body: ApiError = test::read_body_json(response).await;
                assert_ne!(
                    body.code,
                    ErrorCode::NotFound,
                    "{method} {path} is documented but not served"
                );
            }
        }
    }
}

/// A screenshot is uploaded as the image file itself: the document says so (binary, one of
/// the three types), so that a client generated from it sends bytes, not a JSON array.
#[actix_web::test]
async fn the_openapi_document_describes_a_screenshot_as_binary_image_data() {
    let dir = tempfile::tempdir().unwrap();
    let app = app!(&dir);
    let response = test::call_service(
        &app,
        test::TestRequest::get().uri("/openapi.json").to_request(),
    )
    .await;
    let doc: serde_json::Value = test::read_body_json(response).await;
    let content = &doc["paths"]["/v1/feedback/{id}/screenshot"]["put"]["requestBody"]["content"];
    assert_eq!(
        content.as_object().unwrap().len(),
        limits::SCREENSHOT_TYPES.len(),
        "{content}"
    );
    for media_type in limits::SCREENSHOT_TYPES {
        assert_eq!(
            content[media_type]["schema"],
            serde_json::json!({"type": "string", "format": "binary"}),
            "{media_type}"
        );
    }
}

#[actix_web::test]
async fn widget_settings_are_public_cacheable_and_revalidated() {
    let dir = tempfile::tempdir().unwrap();
    let app = app!(&dir);
    let settings = WidgetSettings {
        rating: Some(RatingKind::Nps),
        color: Some("#0f766e".into()),
        theme: Theme::Dark,
        lang: Some("fr".into()),
        prompt: Some("Recommanderiez-vous ce site ?".into()),
        screenshots: true,
    };
    let mut conn = store::open_connection(&dir.path().join("earshot.db")).unwrap();
    conn.set_widget_settings("demo", &settings).unwrap();

    // Any page may read them: the loader fetches them from the host page's origin.
    let request = test::TestRequest::get()
        .uri("/v1/sites/demo/config")
        .insert_header((header::ORIGIN, "https://elsewhere.example"))
        .to_request();
    let response = test::call_service(&app, request).await;
    assert_eq!(response.status(), StatusCode::OK);
    let headers = response.headers().clone();
    assert_eq!(
        headers.get(header::ACCESS_CONTROL_ALLOW_ORIGIN).unwrap(),
        "*"
    );
    // The page's own performance tools see its timing, as for the widget's files.
    assert_eq!(headers.get("timing-allow-origin").unwrap(), "*");
    assert_eq!(
        headers
            .get(header::CACHE_CONTROL)
            .unwrap()
            .to_str()
            .unwrap(),
        format!("public, max-age={}", limits::SETTINGS_MAX_AGE_SECS)
    );
    let etag = headers.get(header::ETAG).unwrap().clone();
    let body: WidgetSettings = test::read_body_json(response).await;
    assert_eq!(body, settings);

    let request = test::TestRequest::get()
        .uri("/v1/sites/demo/config")
        .insert_header((header::IF_NONE_MATCH, etag.clone()))
        .to_request();
    let response = test::call_service(&app, request).await;
    assert_eq!(response.status(), StatusCode::NOT_MODIFIED);
    assert_eq!(response.headers().get(header::ETAG).unwrap(), &etag);
    assert_eq!(response.headers().get("timing-allow-origin").unwrap(), "*");
    assert!(test::read_body(response).await.is_empty());

    let request = test::TestRequest::get()
        .uri("/v1/sites/nope/config")
        .to_request();
    let response = test::call_service(&app, request).await;
    assert_eq!(response.status(), StatusCode::NOT_FOUND);
    let error: ApiError = test::read_body_json(response).await;
    assert_eq!(error.code, ErrorCode::UnknownSite);

    let request = test::TestRequest::post()
        .uri("/v1/sites/demo/config")
        .to_request();
    let response = test::call_service(&app, request).await;
    assert_eq!(response.status(), StatusCode::METHOD_NOT_ALLOWED);
}

#[actix_web::test]
async fn the_widget_is_served_precompressed_to_browsers_that_accept_it() {
    let dir = tempfile::tempdir().unwrap();
    let widget = dir.path().join("widget");
    std::fs::create_dir_all(&widget).unwrap();
    std::fs::write(widget.join("earshot_widget_bg.wasm"), b"\0asm raw").unwrap();
    std::fs::write(widget.join("earshot_widget_bg.wasm.br"), b"brotli bytes").unwrap();
    std::fs::write(widget.join("earshot_widget_bg.wasm.gz"), b"gzip bytes").unwrap();
    let app = app!(&dir);
    for (accept, encoding, body) in [
        (
            Some("gzip, deflate, br, zstd"),
            Some("br"),
            &b"brotli bytes"[..],
        ),
        (Some("gzip"), Some("gzip"), b"gzip bytes"),
        (Some("br;q=0, gzip;q=0.8"), Some("gzip"), b"gzip bytes"),
        (None, None, b"\0asm raw"),
    ] {
        let mut request = test::TestRequest::get().uri("/widget/earshot_widget_bg.wasm");
        if let Some(accept) = accept {
            request = request.insert_header((header::ACCEPT_ENCODING, accept));
        }
        let response = test::call_service(&app, request.to_request()).await;
        assert_eq!(response.status(), StatusCode::OK, "{accept:?}");
        let headers = response.headers().clone();
        assert_eq!(
            headers
                .get(header::CONTENT_ENCODING)
                .map(|v| v.to_str().unwrap()),
            encoding,
            "{accept:?}"
        );
        assert_eq!(
            headers.get(header::CONTENT_TYPE).unwrap(),
            "application/wasm"
        );
        assert_eq!(headers.get(header::VARY).unwrap(), "accept-encoding");
        assert_eq!(
            headers.get(header::ACCESS_CONTROL_ALLOW_ORIGIN).unwrap(),
            "*"
        );
        assert_eq!(test::read_body(response).await, body, "{accept:?}");
    }
    for path in [
        "/widget/..%2Fearshot.db",
        "/widget/.hidden",
        "/widget/missing.wasm",
    ] {
        let response =
            test::call_service(&app, test::TestRequest::get().uri(path).to_request()).await;
        assert_eq!(response.status(), StatusCode::NOT_FOUND, "{path}");
    }
}

// ---- Screenshots ------------------------------------------------------------------------

/// A PNG of `width` × `height` pixels, red with a white square in its corner.
fn png(width: u32, height: u32) -> Vec<u8> {
    let image = image::RgbImage::from_fn(width, height, |x, y| {
        if x < 8 && y < 8 {
            image::Rgb([255, 255, 255])
        } else {
            image::Rgb([200, 30, 30])
        }
    });
    let mut out = Vec::new();
    image::DynamicImage::ImageRgb8(image)
        .write_to(&mut std::io::Cursor::new(&mut out), image::ImageFormat::Png)
        .unwrap();
    out
}

/// A JPEG from a phone: an EXIF block (with a made-up position in it) right after its start.
fn jpeg_with_exif() -> Vec<u8> {
    let mut plain = Vec::new();
    image::codecs::jpeg::JpegEncoder::new_with_quality(&mut plain, 90)
        .encode_image(&image::RgbImage::from_pixel(
            64,
            48,
            image::Rgb([10, 120, 60]),
        ))
        .unwrap();
    let mut exif = b"Exif\0\0MM\0\x2a\0\0\0\x08GPS 51.4545N 2.5879W secret".to_vec();
    let length = u16::try_from(exif.len() + 2).unwrap().to_be_bytes();
    let mut out = plain[..2].to_vec();
    out.extend([0xFF, 0xE1, length[0], length[1]]);
    out.append(&mut exif);
    out.extend_from_slice(&plain[2..]);
    out
}

fn crc32(bytes: &[u8]) -> u32 {
    let mut crc = !0u32;
    for byte in bytes {
        crc ^= u32::from(*byte);
        for _ in 0..8 {
            crc = if crc & 1 == 1 {
                (crc >> 1) ^ 0xEDB8_8320
            } else {
                crc >> 1
            };
        }
    }
    !crc
}

/// A 40,000 × 40,000 PNG of a few hundred bytes, which would decode into 4.8 GB: a
/// decompression bomb. Its chunks are well formed; its pixels were never written.
fn png_bomb() -> Vec<u8> {
    let mut out = b"\x89PNG\r\n\x1a\n".to_vec();
    let mut chunk = |kind: &[u8], data: &[u8]| {
        out.extend(u32::try_from(data.len()).unwrap().to_be_bytes());
        let mut typed = kind.to_vec();
        typed.extend_from_slice(data);
        out.extend_from_slice(&typed);
        out.extend(crc32(&typed).to_be_bytes());
    };
    let mut header = Vec::new();
    header.extend(40_000u32.to_be_bytes());
    header.extend(40_000u32.to_be_bytes());
    header.extend([8, 2, 0, 0, 0]);
    chunk(b"IHDR", &header);
    chunk(b"IDAT", &[0x78, 0x9c, 0x03, 0x00, 0x00, 0x00, 0x00, 0x01]);
    chunk(b"IEND", &[]);
    out
}

/// Turns screenshots on for site `demo` (before the app has read the site: it caches it).
fn screenshots_on(dir: &tempfile::TempDir) {
    let mut conn = store::open_connection(&dir.path().join("earshot.db")).unwrap();
    let settings = WidgetSettings {
        screenshots: true,
        ..Default::default()
    };
    conn.set_widget_settings("demo", &settings).unwrap();
}

fn put_screenshot(id: &str, origin: &str, content_type: &str, body: Vec<u8>) -> test::TestRequest {
    test::TestRequest::put()
        .uri(&format!("/v1/feedback/{id}/screenshot"))
        .insert_header((header::ORIGIN, origin))
        .insert_header((header::CONTENT_TYPE, content_type))
        .set_payload(body)
}

/// Stores a submission for `demo` as the widget would, the panel open for `open_ms` (under
/// 1,500 it is spam); gives its id. (A macro: the app's type cannot be named here.)
macro_rules! stored_submission {
    ($app:expr) => {
        stored_submission!($app, 5000)
    };
    ($app:expr, $open_ms:expr) => {{
        let id = uuid::Uuid::new_v4().to_string();
        let body = serde_json::json!({
            "id": id,
            "site": "demo",
            "rating": {"kind": "stars", "value": 2},
            // With a comment: a rating alone is never spam for its speed.
            "comment": "The cart forgets my size",
            "page_url": "https://shop.example/cart",
            "open_ms": $open_ms,
        });
        let request = test::TestRequest::post()
            .uri("/v1/feedback")
            .insert_header((header::ORIGIN, "https://shop.example"))
            .insert_header((header::CONTENT_TYPE, "text/plain"))
            .set_payload(body.to_string())
            .to_request();
        assert_eq!(
            test::call_service($app, request).await.status(),
            StatusCode::CREATED
        );
        id
    }};
}

#[actix_web::test]
async fn a_screenshot_is_stored_once_and_encoded_anew_without_its_metadata() {
    let dir = tempfile::tempdir().unwrap();
    let app = app!(&dir);
    screenshots_on(&dir);
    let id = stored_submission!(&app);
    let request = put_screenshot(&id, "https://shop.example", "image/jpeg", jpeg_with_exif());
    let response = test::call_service(&app, request.to_request()).await;
    assert_eq!(response.status(), StatusCode::CREATED);
    assert_eq!(
        response
            .headers()
            .get(header::ACCESS_CONTROL_ALLOW_ORIGIN)
            .unwrap(),
        "https://shop.example"
    );

    let mut conn = store::open_connection(&dir.path().join("earshot.db")).unwrap();
    let (content_type, stored) = conn.screenshot_image(&id, false).unwrap().unwrap();
    assert_eq!(content_type, "image/jpeg");
    let text = String::from_utf8_lossy(&stored);
    assert!(
        !text.contains("Exif") && !text.contains("51.4545N"),
        "the EXIF block is gone"
    );
    let decoded = image::load_from_memory(&stored).unwrap();
    assert_eq!((decoded.width(), decoded.height()), (64, 48));
    assert_eq!(conn.screenshot_size(&id).unwrap(), Some((64, 48)));

    // For spam, the same answer and nothing kept.
    let spam = stored_submission!(&app, 10);
    let request = put_screenshot(&spam, "https://shop.example", "image/png", png(20, 20));
    let response = test::call_service(&app, request.to_request()).await;
    assert_eq!(response.status(), StatusCode::CREATED);
    assert_eq!(
        conn.screenshot_size(&spam).unwrap(),
        None,
        "spam keeps no screenshot"
    );

    // Sent again (a retry after a lost answer): nothing changes.
    let again = put_screenshot(&id, "https://shop.example", "image/png", png(20, 20));
    assert_eq!(
        test::call_service(&app, again.to_request()).await.status(),
        StatusCode::OK
    );
    assert_eq!(conn.screenshot_size(&id).unwrap(), Some((64, 48)));
}

#[actix_web::test]
async fn screenshots_that_are_not_clean_images_are_refused_and_nothing_is_stored() {
    let dir = tempfile::tempdir().unwrap();
    let app = app!(&dir);
    screenshots_on(&dir);
    let whole = png(40, 30);
    let mut script_after = jpeg_with_exif();
    script_after.extend_from_slice(b"<script>fetch('/admin')</script>");
    let svg = br#"<svg xmlns="http://www.w3.org/2000/svg" width="10" height="10"><script>alert(1)</script></svg>"#.to_vec();
    let cases: Vec<(&str, &str, Vec<u8>, StatusCode, ErrorCode)> = vec![
        (
            "a decompression bomb",
            "image/png",
            png_bomb(),
            StatusCode::UNPROCESSABLE_ENTITY,
            ErrorCode::InvalidImage,
        ),
        (
            "a truncated PNG",
            "image/png",
            whole[..whole.len() / 2].to_vec(),
            StatusCode::UNPROCESSABLE_ENTITY,
            ErrorCode::InvalidImage,
        ),
        (
            "a JPEG with a script after it",
            "image/jpeg",
            script_after,
            StatusCode::UNPROCESSABLE_ENTITY,
            ErrorCode::InvalidImage,
        ),
        (
            "an SVG",
            "image/svg+xml",
            svg.clone(),
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            ErrorCode::UnsupportedMediaType,
        ),
        (
            "an SVG sent as PNG",
            "image/png",
            svg,
            StatusCode::UNPROCESSABLE_ENTITY,
            ErrorCode::InvalidImage,
        ),
        (
            "a PNG sent as WebP",
            "image/webp",
            whole.clone(),
            StatusCode::UNPROCESSABLE_ENTITY,
            ErrorCode::InvalidImage,
        ),
        (
            "over 2 MB",
            "image/png",
            vec![0; limits::MAX_SCREENSHOT_BYTES + 1],
            StatusCode::PAYLOAD_TOO_LARGE,
            ErrorCode::PayloadTooLarge,
        ),
    ];
    let mut conn = store::open_connection(&dir.path().join("earshot.db")).unwrap();
    for (what, content_type, body, status, code) in cases {
        let id = stored_submission!(&app);
        let request = put_screenshot(&id, "https://shop.example", content_type, body);
        let response = test::call_service(&app, request.to_request()).await;
        assert_eq!(response.status(), status, "{what}");
        let error: ApiError = test::read_body_json(response).await;
        assert_eq!(error.code, code, "{what}: {}", error.message);
        if what == "a decompression bomb" {
            assert!(
                error.message.contains("40000 × 40000"),
                "refused unread: {}",
                error.message
            );
        }
        assert_eq!(
            conn.screenshot_size(&id).unwrap(),
            None,
            "{what}: nothing stored"
        );
    }

    // Not for a page of the site, for no submission, or for a site that does not take them.
    let id = stored_submission!(&app);
    let elsewhere = put_screenshot(&id, "https://elsewhere.example", "image/png", png(4, 4));
    let response = test::call_service(&app, elsewhere.to_request()).await;
    assert_eq!(response.status(), StatusCode::FORBIDDEN);
    let unknown = put_screenshot(
        &uuid::Uuid::new_v4().to_string(),
        "https://shop.example",
        "image/png",
        png(4, 4),
    );
    let response = test::call_service(&app, unknown.to_request()).await;
    assert_eq!(response.status(), StatusCode::NOT_FOUND);
    let error: ApiError = test::read_body_json(response).await;
    assert_eq!(error.code, ErrorCode::UnknownSubmission);
    assert_eq!(conn.screenshot_size(&id).unwrap(), None);
}

#[actix_web::test]
async fn screenshots_are_off_unless_the_site_turns_them_on() {
    let dir = tempfile::tempdir().unwrap();
    let app = app!(&dir);
    let id = stored_submission!(&app);
    let request = put_screenshot(&id, "https://shop.example", "image/png", png(4, 4));
    let response = test::call_service(&app, request.to_request()).await;
    assert_eq!(response.status(), StatusCode::FORBIDDEN);
    let error: ApiError = test::read_body_json(response).await;
    assert_eq!(error.code, ErrorCode::ScreenshotsOff);
    // The browser asks first (an image is not a simple body); any page may ask.
    let preflight = test::TestRequest::default()
        .method(Method::OPTIONS)
        .uri(&format!("/v1/feedback/{id}/screenshot"))
        .insert_header((header::ORIGIN, "https://shop.example"))
        .to_request();
    let response = test::call_service(&app, preflight).await;
    assert_eq!(response.status(), StatusCode::NO_CONTENT);
    assert_eq!(
        response
            .headers()
            .get(header::ACCESS_CONTROL_ALLOW_METHODS)
            .unwrap(),
        "PUT"
    );
}

/// Decoding is what costs: one visitor's decodes count against the allowance for refused
/// requests, so images that fail late cannot keep the decoders busy.
#[actix_web::test]
async fn a_visitor_cannot_keep_the_decoders_busy() {
    let dir = tempfile::tempdir().unwrap();
    let app = app!(&dir);
    screenshots_on(&dir);
    let id = stored_submission!(&app);
    let whole = png(40, 30);
    let truncated = whole[..whole.len() - 1].to_vec();
    let allowance = earshot_collector::rate_limit::REFUSALS_PER_VISITOR;
    for n in 0..allowance {
        let request = put_screenshot(&id, "https://shop.example", "image/png", truncated.clone());
        let response = test::call_service(&app, request.to_request()).await;
        assert_eq!(
            response.status(),
            StatusCode::UNPROCESSABLE_ENTITY,
            "attempt {n}"
        );
    }
    let request = put_screenshot(&id, "https://shop.example", "image/png", whole);
    let response = test::call_service(&app, request.to_request()).await;
    assert_eq!(response.status(), StatusCode::TOO_MANY_REQUESTS);
    assert!(response.headers().contains_key(header::RETRY_AFTER));
}

/// Two `Origin` headers, an allowed one first, are refused: which one counts would depend on
/// who reads them. (Before, the first was believed and the rest ignored.)
#[actix_web::test]
async fn a_request_with_two_origins_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let app = app!(&dir);
    screenshots_on(&dir);
    let request = feedback_post("demo")
        .append_header((header::ORIGIN, "https://shop.example"))
        .append_header((header::ORIGIN, "https://elsewhere.example"))
        .to_request();
    let response = test::call_service(&app, request).await;
    assert_eq!(response.status(), StatusCode::FORBIDDEN);
    let error: ApiError = test::read_body_json(response).await;
    assert_eq!(error.code, ErrorCode::OriginNotAllowed);
    assert!(
        error.message.contains("more than one Origin"),
        "{}",
        error.message
    );

    let id = stored_submission!(&app);
    let request = put_screenshot(&id, "https://shop.example", "image/png", png(20, 20))
        .append_header((header::ORIGIN, "https://elsewhere.example"));
    let response = test::call_service(&app, request.to_request()).await;
    assert_eq!(response.status(), StatusCode::FORBIDDEN);
    let error: ApiError = test::read_body_json(response).await;
    assert_eq!(error.code, ErrorCode::OriginNotAllowed);
}
