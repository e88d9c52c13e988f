//! The whole HTTP application in one place: [`build_app`] is what `earshot serve` runs and
//! what the tests call, routes and middleware included.

use actix_web::body::MessageBody;
use actix_web::dev::{ServiceFactory, ServiceRequest, ServiceResponse};
use actix_web::http::header::{self, HeaderValue};
use actix_web::middleware::{Compress, DefaultHeaders, from_fn};
use actix_web::{App, HttpResponse, ResponseError, guard, web};

use crate::error::AppError;
use crate::state::{AppState, REQUEST_TIMEOUT_SECS};
use crate::{
    conversation, dashboard, export, files, ingest, openapi, operations, screenshots,
    widget_settings,
};

/// The application `earshot serve` runs on each worker: every route, the JSON 404, and the
/// middleware (request log, compression, the request time limit).
pub fn build_app(
    state: AppState,
) -> App<
    impl ServiceFactory<
        ServiceRequest,
        Config = (),
        Response = ServiceResponse<impl MessageBody>,
        Error = actix_web::Error,
        InitError = (),
    >,
> {
    App::new()
        .configure(configure(state))
        .default_service(web::to(not_found))
        .wrap(from_fn(limit_request_time))
        .wrap(compress())
        .wrap(from_fn(log_request))
        .wrap(from_fn(crate::slow_headers::headers_arrived))
}

/// Every route the collector serves, as (method, path pattern), static files included.
/// `configure` registers these paths; a test checks the OpenAPI document lists each one and
/// that the app serves every path the document lists. Add a route here when you add one.
pub const ROUTES: &[(&str, &str)] = &[
    ("get", HEALTHZ),
    ("get", METRICS),
    ("get", OPENAPI),
    ("post", FEEDBACK),
    ("options", FEEDBACK),
    ("put", SCREENSHOT),
    ("options", SCREENSHOT),
    ("get", EXPORT_CSV),
    ("get", EXPORT_JSONL),
    ("get", WIDGET_CONFIG),
    ("post", crate::inbound::http::PATH),
    ("get", LOADER),
    ("get", STYLESHEET),
    ("get", WIDGET_WINDOW),
    ("get", WIDGET_TEXTS),
    ("get", SCREENSHOT_TEXTS),
    ("get", WIDGET_FILE),
];
const HEALTHZ: &str = "/healthz";
const LOADER: &str = "/earshot.js";
const STYLESHEET: &str = "/earshot.css";
const WIDGET_FILE: &str = "/widget/{file}";
const WIDGET_WINDOW: &str = "/widget/window";
const WIDGET_TEXTS: &str = "/widget/texts/{lang}";
const SCREENSHOT_TEXTS: &str = "/widget/screenshot-texts/{lang}";
const METRICS: &str = "/metrics";
const OPENAPI: &str = "/openapi.json";
const FEEDBACK: &str = "/v1/feedback";
const SCREENSHOT: &str = "/v1/feedback/{id}/screenshot";
const EXPORT_CSV: &str = "/v1/sites/{site}/feedback.csv";
const EXPORT_JSONL: &str = "/v1/sites/{site}/feedback.jsonl";
const WIDGET_CONFIG: &str = "/v1/sites/{site}/config";

/// Registers every route. Used by `earshot serve` and by the in-process tests.
pub fn configure(state: AppState) -> impl FnOnce(&mut web::ServiceConfig) {
    move |cfg| {
        cfg.app_data(web::Data::new(state))
            .service(
                web::resource(HEALTHZ)
                    .route(web::get().to(operations::healthz))
                    .default_service(wrong_method(HEALTHZ)),
            )
            .service(
                web::resource(METRICS)
                    .route(web::get().to(operations::metrics))
                    .default_service(wrong_method(METRICS)),
            )
            .service(
                web::resource(OPENAPI)
                    .route(web::get().to(openapi::openapi_json))
                    .default_service(wrong_method(OPENAPI)),
            )
            .service(
                web::resource(FEEDBACK)
                    .route(web::post().to(ingest::submit_feedback))
                    .route(web::method(actix_web::http::Method::OPTIONS).to(ingest::preflight))
                    .default_service(wrong_method(FEEDBACK)),
            )
            .service(
                web::resource(SCREENSHOT)
                    .route(web::put().to(screenshots::upload))
                    .route(web::method(actix_web::http::Method::OPTIONS).to(screenshots::preflight))
                    .default_service(wrong_method(SCREENSHOT)),
            )
            .service(
                web::resource(EXPORT_CSV)
                    .route(web::get().to(export::export_csv))
                    .default_service(wrong_method(EXPORT_CSV)),
            )
            .service(
                web::resource(EXPORT_JSONL)
                    .route(web::get().to(export::export_jsonl))
                    .default_service(wrong_method(EXPORT_JSONL)),
            )
            .service(
                web::resource(WIDGET_CONFIG)
                    .route(web::get().to(widget_settings::widget_config))
                    .default_service(wrong_method(WIDGET_CONFIG)),
            )
            .service(
                web::resource(LOADER)
                    .wrap(public_asset_headers())
                    .route(web::get().to(files::loader))
                    .default_service(wrong_method(LOADER)),
            )
            .service(
                web::resource(STYLESHEET)
                    .wrap(public_asset_headers())
                    .route(web::get().to(files::stylesheet))
                    .default_service(wrong_method(STYLESHEET)),
            )
            .service(
                web::resource(crate::inbound::http::PATH)
                    .route(web::post().to(crate::inbound::http::inbound_email))
                    .default_service(wrong_method(crate::inbound::http::PATH)),
            )
            .configure(dashboard::configure)
            .configure(conversation::configure)
            .service(web::scope("/v1").default_service(web::to(not_found)))
            .service(
                web::resource(WIDGET_WINDOW)
                    .route(web::get().to(files::widget_window))
                    .default_service(wrong_method(WIDGET_WINDOW)),
            )
            // The widget's files are fetched by pages on other origins (module import, wasm
            // streaming), which needs CORS; they are public, so any origin may read them.
            .service(
                web::resource(WIDGET_TEXTS)
                    .wrap(public_asset_headers())
                    .route(web::get().to(files::widget_texts))
                    .default_service(wrong_method(WIDGET_TEXTS)),
            )
            .service(
                web::resource(SCREENSHOT_TEXTS)
                    .wrap(public_asset_headers())
                    .route(web::get().to(files::screenshot_texts))
                    .default_service(wrong_method(SCREENSHOT_TEXTS)),
            )
            .service(
                web::resource(WIDGET_FILE)
                    .wrap(public_asset_headers())
                    .route(web::get().to(files::widget_file))
                    .default_service(wrong_method(WIDGET_FILE)),
            )
            .service(
                web::resource("/{path:.*}")
                    .guard(guard::Get())
                    .wrap(public_asset_headers())
                    .route(web::get().to(files::www_file)),
            );
    }
}

fn public_asset_headers() -> DefaultHeaders {
    DefaultHeaders::new()
        .add((header::ACCESS_CONTROL_ALLOW_ORIGIN, "*"))
        .add((header::X_CONTENT_TYPE_OPTIONS, "nosniff"))
        // Lets the host page's own performance tools see the widget's sizes and timings.
        .add(("Timing-Allow-Origin", "*"))
        // Revalidate with the ETag on each load, so a new widget reaches visitors at once.
        .add((header::CACHE_CONTROL, "no-cache"))
}

/// Compression for everything the collector sends (the wasm shrinks to about a third).
pub fn compress() -> Compress {
    Compress::default()
}

/// Logs one line per request and records its latency: no IP address, no query string (it
/// may hold filters with personal data), just what an operator needs.
pub async fn log_request(
    request: ServiceRequest,
    next: actix_web::middleware::Next<impl actix_web::body::MessageBody>,
) -> Result<ServiceResponse<impl actix_web::body::MessageBody>, actix_web::Error> {
    let started = std::time::Instant::now();
    let method = request.method().clone();
    let path = loggable_path(request.path());
    let metrics = request
        .app_data::<web::Data<AppState>>()
        .map(|state| state.metrics.clone());
    let response = next.call(request).await?;
    let elapsed = started.elapsed();
    let status = response.status().as_u16();
    tracing::info!(%method, path, status, micros = elapsed.as_micros() as u64, "request");
    if let Some(metrics) = metrics {
        let route = response
            .request()
            .match_pattern()
            .unwrap_or_else(|| "unmatched".into());
        metrics.observe_request(method.as_str(), &route, status, elapsed.as_secs_f64());
    }
    Ok(response)
}

/// A path as the log may keep it: a conversation page's address holds the token that opens
/// it, which the log must not (anyone who reads the log could read and answer).
fn loggable_path(path: &str) -> String {
    use crate::conversation::links::{PATH, UNSUBSCRIBE_PATH};
    for prefix in [PATH, UNSUBSCRIBE_PATH] {
        if let Some(rest) = path
            .strip_prefix(prefix)
            .and_then(|rest| rest.strip_prefix('/'))
        {
            let after = rest.find('/').map_or("", |slash| &rest[slash..]);
            return format!("{prefix}/…{after}");
        }
    }
    path.to_owned()
}

/// Cuts off a request that has not been answered within [`Timeouts::request`]: a client that
/// trickles its body in byte by byte is answered `408 request-timeout` and its connection
/// closed.
pub async fn limit_request_time(
    request: ServiceRequest,
    next: actix_web::middleware::Next<impl actix_web::body::MessageBody>,
) -> Result<ServiceResponse<impl actix_web::body::MessageBody>, actix_web::Error> {
    let limit = request
        .app_data::<web::Data<AppState>>()
        .map(|state| state.timeouts.request)
        .unwrap_or(std::time::Duration::from_secs(REQUEST_TIMEOUT_SECS));
    let method = request.method().clone();
    let path = loggable_path(request.path());
    match actix_web::rt::time::timeout(limit, next.call(request)).await {
        Ok(response) => response,
        Err(_) => {
            tracing::info!(%method, path, "request timed out");
            Err(AppError::RequestTimeout.into())
        }
    }
}

/// JSON 404 for the whole app, including paths that match no route.
pub async fn not_found() -> HttpResponse {
    AppError::NotFound.error_response()
}

/// `405 method-not-allowed` with `Allow` naming the methods `path` is served with, as
/// [`ROUTES`] lists them.
fn wrong_method(path: &'static str) -> actix_web::Route {
    web::to(move || async move {
        let allowed: Vec<String> = ROUTES
            .iter()
            .filter(|(_, route)| *route == path)
            .map(|(method, _)| method.to_uppercase())
            .collect();
        let mut response = AppError::MethodNotAllowed.error_response();
        if let Ok(allow) = HeaderValue::from_str(&allowed.join(", ")) {
            response.headers_mut().insert(header::ALLOW, allow);
        }
        response
    })
}

#[cfg(test)]
mod tests {
    #[test]
    fn conversation_tokens_stay_out_of_the_log() {
        assert_eq!(
            super::loggable_path("/unsubscribe/0123abcd"),
            "/unsubscribe/…"
        );
        assert_eq!(
            super::loggable_path("/conversation/0123abcd"),
            "/conversation/…"
        );
        assert_eq!(
            super::loggable_path("/conversation.css"),
            "/conversation.css"
        );
        assert_eq!(super::loggable_path("/v1/feedback"), "/v1/feedback");
    }
}
