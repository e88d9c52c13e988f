//! The OpenAPI 3 document at `GET /openapi.json`, generated from the handlers' annotations
//! and the wire types in `shared` (utoipa), so it cannot drift from the code unnoticed: a
//! test checks it lists every route in [`crate::app::ROUTES`] and that the app serves every
//! path it lists.

use actix_web::HttpResponse;
use earshot_shared::{
    ApiError, ClientInfo, ErrorCode, FeedbackAccepted, Rating, RatingKind, SiteKey, Submission,
    Theme, WidgetSettings,
};
use utoipa::openapi::security::{Http, HttpAuthScheme, SecurityScheme};
use utoipa::{Modify, OpenApi};

use crate::store::SpamFilter;

#[derive(OpenApi)]
#[openapi(
    info(
        title = "Earshot collector",
        description = "Receives website feedback from the Earshot widget and gives it back to the site owner. \
                       Every refusal is JSON `{code, message, field}` with a stable `code`."
    ),
    paths(
        crate::ingest::submit_feedback,
        crate::ingest::preflight,
        crate::export::export_csv,
        crate::export::export_jsonl,
        crate::widget_settings::widget_config,
        crate::app::healthz,
        crate::metrics::metrics,
        openapi_json,
        loader,
        stylesheet,
        widget_file,
    ),
    components(schemas(Submission, Rating, RatingKind, ClientInfo, SiteKey, FeedbackAccepted, ApiError, ErrorCode, SpamFilter, WidgetSettings, Theme)),
    modifiers(&BearerToken),
    tags(
        (name = "ingest", description = "Public: what the widget calls"),
        (name = "widget", description = "Public: what the loader reads"),
        (name = "export", description = "Owner: needs an API token (`earshot token create`)"),
        (name = "operations", description = "Health, metrics and this document"),
        (name = "static", description = "The loader, the widget and its stylesheet"),
    )
)]
pub struct ApiDoc;

struct BearerToken;

impl Modify for BearerToken {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        if let Some(components) = openapi.components.as_mut() {
            let mut scheme = Http::new(HttpAuthScheme::Bearer);
            scheme.description =
                Some("An API token from `earshot token create`, e.g. `eshot_…`".into());
            components.add_security_scheme("token", SecurityScheme::Http(scheme));
        }
    }
}

/// This document.
#[utoipa::path(get, path = "/openapi.json", tag = "operations",
    responses((status = 200, description = "The OpenAPI 3 document", content_type = "application/json")))]
pub async fn openapi_json() -> HttpResponse {
    HttpResponse::Ok().content_type("application/json").body(
        ApiDoc::openapi()
            .to_pretty_json()
            .expect("the document serializes"),
    )
}

/// The loader: the one script a site owner pastes.
#[utoipa::path(get, path = "/earshot.js", tag = "static",
    responses((status = 200, description = "The loader script", content_type = "text/javascript")))]
#[allow(dead_code)]
fn loader() {}

/// The widget's stylesheet, linked inside its shadow root.
#[utoipa::path(get, path = "/earshot.css", tag = "static",
    responses((status = 200, description = "The widget stylesheet", content_type = "text/css")))]
#[allow(dead_code)]
fn stylesheet() {}

/// The widget's wasm-bindgen glue and WebAssembly.
#[utoipa::path(get, path = "/widget/{file}", tag = "static",
    params(("file" = String, Path, description = "earshot_widget.js or earshot_widget_bg.wasm")),
    responses(
        (status = 200, description = "The file"),
        (status = 404, description = "No such file", body = ApiError),
    ))]
#[allow(dead_code)]
fn widget_file() {}
