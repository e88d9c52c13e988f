//! The OpenAPI 3 document at `GET /openapi.json`, generated from the handlers' annotations
//! and the wire types in `shared` (utoipa), so it cannot drift from the code unnoticed: a
//! test checks it lists every route in [`crate::app::ROUTES`] and that the app serves every
//! path it lists.
//!
//! The derived schemas say which fields exist; [`exact_rules`] then states every rule the
//! server enforces (lengths, patterns, per-kind rating ranges), built from the constants in
//! `earshot_shared::limits`. `cargo xtask test` runs schemathesis with `--checks all` against
//! the real binary: a request the document allows must not be refused, and one it forbids
//! must be.

use std::sync::OnceLock;

use actix_web::HttpResponse;
use earshot_shared::limits::{
    MAX_COMMENT_CHARS, MAX_EMAIL_CHARS, MAX_LOCALE_CHARS, MAX_METADATA_ENTRIES,
    MAX_METADATA_KEY_CHARS, MAX_METADATA_VALUE_CHARS, MAX_PAGE_URL_CHARS, MAX_REFERRER_CHARS,
    MAX_USER_AGENT_CHARS, MAX_USER_ID_CHARS, MAX_VIEWPORT_PX, SCREENSHOT_TYPES, SITE_KEY_BYTES,
};
use earshot_shared::{
    ApiError, ClientInfo, ErrorCode, FeedbackAccepted, Rating, RatingKind, SiteKey, Submission,
    Theme, WidgetSettings,
};
use serde_json::{Value, json};
use utoipa::openapi::security::{Http, HttpAuthScheme, SecurityScheme};
use utoipa::{Modify, OpenApi};

use earshot_store::SpamFilter;

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
        crate::screenshots::upload,
        crate::screenshots::preflight,
        crate::export::export_csv,
        crate::export::export_jsonl,
        crate::widget_settings::widget_config,
        crate::inbound::http::inbound_email,
        crate::operations::healthz,
        crate::operations::metrics,
        openapi_json,
        loader,
        stylesheet,
        widget_file,
        widget_window,
        widget_texts,
        screenshot_texts,
    ),
    components(schemas(Submission, Rating, RatingKind, ClientInfo, SiteKey, FeedbackAccepted, ApiError, ErrorCode, SpamFilter, crate::export::ThreadOption, WidgetSettings, Theme, crate::inbound::http::InboundTaken, crate::inbound::http::InboundError, crate::inbound::http::InboundErrorCode)),
    modifiers(&BearerToken),
    tags(
        (name = "ingest", description = "Public: what the widget calls"),
        (name = "widget", description = "Public: what the loader reads"),
        (name = "export", description = "Owner: needs an API token (`earshot token create`)"),
        (name = "operations", description = "Health, metrics and this document"),
        (name = "inbound email", description = "Mail providers and MTAs: raw emails, with the `--inbound-secret`"),
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
            let mut inbound = Http::new(HttpAuthScheme::Bearer);
            inbound.description =
                Some("The `--inbound-secret` the collector was started with".into());
            components.add_security_scheme("inbound_secret", SecurityScheme::Http(inbound));
        }
    }
}

/// Characters Rust's `char::is_control` or `char::is_whitespace` match, as a regex class body
/// that ECMAScript and Python read alike (`\s` differs between them).
const CONTROL_OR_SPACE: &str =
    r"\u0000-\u0020\u007f-\u00a0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000";

/// A text without NUL characters.
const NO_NUL: &str = r"^[^\u0000]*$";

/// The document as served: derived from the code, then [`exact_rules`].
pub fn document() -> Value {
    let mut document =
        serde_json::to_value(ApiDoc::openapi()).expect("the OpenAPI document serializes");
    exact_rules(&mut document);
    document
}

/// States in the document every rule `Submission::validate`, `SiteKey::parse` and the export
/// query enforce, which derived schemas cannot say: lengths in characters, patterns, the value
/// range of each rating kind, the nil UUID, empty strings that count as absent.
fn exact_rules(document: &mut Value) {
    let schemas = &mut document["components"]["schemas"];
    let site = &mut schemas["SiteKey"];
    site["minLength"] = json!(SITE_KEY_BYTES.start());
    site["maxLength"] = json!(SITE_KEY_BYTES.end());
    site["pattern"] = json!(format!(
        "^[a-z0-9-]{{{},{}}}$",
        SITE_KEY_BYTES.start(),
        SITE_KEY_BYTES.end()
    ));

    schemas["Rating"] = json!({
        "description": "A rating: its kind and a value within that kind's range.",
        "oneOf": earshot_shared::RatingKind::ALL.map(|kind| {
            let (min, max) = kind.bounds();
            json!({
                "type": "object",
                "required": ["kind", "value"],
                "additionalProperties": false,
                "properties": {
                    "kind": {"type": "string", "enum": [kind.as_str()]},
                    "value": {"type": "integer", "minimum": min, "maximum": max},
                },
            })
        }),
    });

    // The config answer also states the site's promise to answer, once per language.
    schemas["WidgetSettings"]["patternProperties"] = json!({
        "^promise-[a-z]{2}$": {
            "type": "string",
            "description": "The site's promise to answer (\"We answer within 2 days.\"), in one of the widget's languages; present when the site states it",
        },
    });

    let client = &mut schemas["ClientInfo"]["properties"];
    for side in ["viewport_width", "viewport_height"] {
        whole_number(&mut client[side], MAX_VIEWPORT_PX);
    }
    limit(&mut client["user_agent"], MAX_USER_AGENT_CHARS, NO_NUL);

    let submission = &mut schemas["Submission"];
    submission["additionalProperties"] = json!(false);
    let fields = &mut submission["properties"];
    fields["id"]["pattern"] = json!(
        "^(?!0{8}-0{4}-0{4}-0{4}-0{12}$)[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$"
    );
    limit(&mut fields["comment"], MAX_COMMENT_CHARS, NO_NUL);
    let not_at = format!("[^@{CONTROL_OR_SPACE}]");
    let not_at_or_dot = format!("[^@.{CONTROL_OR_SPACE}]");
    limit(
        &mut fields["email"],
        MAX_EMAIL_CHARS,
        &format!("^(|{not_at}+@{not_at_or_dot}{not_at}*\\.{not_at}*{not_at_or_dot})$"),
    );
    describe(
        &mut fields["email"],
        "An empty string counts as no address.",
    );
    limit(
        &mut fields["page_url"],
        MAX_PAGE_URL_CHARS,
        &format!("^https?://[^/?#{CONTROL_OR_SPACE}][^{CONTROL_OR_SPACE}]*$"),
    );
    limit(
        &mut fields["referrer"],
        MAX_REFERRER_CHARS,
        &format!("^(|https?://[^/?#{CONTROL_OR_SPACE}][^{CONTROL_OR_SPACE}]*)$"),
    );
    describe(
        &mut fields["referrer"],
        "An empty string counts as no referrer.",
    );
    limit(
        &mut fields["locale"],
        MAX_LOCALE_CHARS,
        "^(|[A-Za-z0-9]{1,8}(-[A-Za-z0-9]{1,8})*)$",
    );
    limit(&mut fields["user_id"], MAX_USER_ID_CHARS, NO_NUL);
    describe(&mut fields["user_id"], "An empty string counts as no id.");
    whole_number(&mut fields["open_ms"], u32::MAX);
    let metadata = &mut fields["metadata"];
    metadata["maxProperties"] = json!(MAX_METADATA_ENTRIES);
    metadata["propertyNames"] = json!({
        "type": "string",
        "minLength": 1,
        "maxLength": MAX_METADATA_KEY_CHARS,
        "pattern": r"^[^\u0000-\u001f\u007f-\u009f]*$",
    });
    metadata["additionalProperties"] = json!({
        "type": "string",
        "maxLength": MAX_METADATA_VALUE_CHARS,
        "pattern": NO_NUL,
    });

    if let Some(parameters) =
        document["paths"]["/widget/{file}"]["get"]["parameters"].as_array_mut()
    {
        for parameter in parameters {
            parameter["schema"] = json!({"type": "string", "enum": crate::files::WIDGET_FILES});
        }
    }

    let languages: Vec<&str> = earshot_shared::texts::LANGUAGES
        .iter()
        .map(|texts| texts.lang)
        .collect();
    for path in ["/widget/texts/{lang}", "/widget/screenshot-texts/{lang}"] {
        if let Some(parameters) = document["paths"][path]["get"]["parameters"].as_array_mut() {
            for parameter in parameters {
                parameter["schema"] = json!({"type": "string", "enum": languages});
            }
        }
    }

    // A screenshot is the image file's bytes as they are, not JSON: binary, in one of the
    // types it may be sent as (derived, `Vec<u8>` reads as an array of integers).
    let body =
        &mut document["paths"]["/v1/feedback/{id}/screenshot"]["put"]["requestBody"]["content"];
    for media_type in SCREENSHOT_TYPES {
        body[media_type] = json!({"schema": {"type": "string", "format": "binary"}});
    }

    // The widget sends `text/plain` (no CORS preflight); programs may say `application/json`.
    let body = &mut document["paths"]["/v1/feedback"]["post"]["requestBody"]["content"];
    body["application/json"] = body["text/plain"].clone();

    for format in ["csv", "jsonl"] {
        let path = format!("/v1/sites/{{site}}/feedback.{format}");
        export_rules(&mut document["paths"][path.as_str()]["get"]["parameters"]);
    }
    for path in [
        "/v1/sites/{site}/config",
        "/v1/sites/{site}/feedback.csv",
        "/v1/sites/{site}/feedback.jsonl",
    ] {
        site_parameter(&mut document["paths"][path]);
    }
}

/// The export query: dates or RFC 3339 times, ratings within the scales, known statuses. An
/// empty value is refused like any malformed one.
fn export_rules(parameters: &mut Value) {
    let Some(parameters) = parameters.as_array_mut() else {
        return;
    };
    for parameter in parameters {
        let schema = match parameter["name"].as_str() {
            Some("from" | "to") => json!({"anyOf": [
                {"type": "string", "format": "date", "pattern": r"^\d{4}-\d{2}-\d{2}$"},
                {"type": "string", "format": "date-time"},
            ]}),
            Some("min_rating" | "max_rating") => json!({
                "type": "integer",
                "minimum": 0,
                "maximum": crate::export::MAX_RATING_FILTER,
            }),
            Some("status") => json!({"type": "string", "enum": crate::export::STATUSES}),
            Some("q") => json!({"type": "string", "pattern": NO_NUL}),
            _ => continue,
        };
        parameter["schema"] = schema;
    }
}

/// A path's `{site}` parameter is a site key.
fn site_parameter(path: &mut Value) {
    let Some(operations) = path.as_object_mut() else {
        return;
    };
    for operation in operations.values_mut() {
        if let Some(parameters) = operation["parameters"].as_array_mut() {
            for parameter in parameters {
                if parameter["name"] == "site" && parameter["in"] == "path" {
                    parameter["schema"] = json!({"$ref": "#/components/schemas/SiteKey"});
                }
            }
        }
    }
}

/// An unsigned whole number up to `max`; `int32` would say 2³¹ − 1, which is not the rule.
fn whole_number(schema: &mut Value, max: u32) {
    if let Some(schema) = schema.as_object_mut() {
        schema.remove("format");
    }
    schema["minimum"] = json!(0);
    schema["maximum"] = json!(max);
}

fn limit(schema: &mut Value, max_chars: usize, pattern: &str) {
    schema["maxLength"] = json!(max_chars);
    schema["pattern"] = json!(pattern);
}

fn describe(schema: &mut Value, sentence: &str) {
    let text = schema["description"].as_str().unwrap_or("").to_owned();
    schema["description"] = json!(format!("{text} {sentence}").trim().to_owned());
}

/// This document.
#[utoipa::path(get, path = "/openapi.json", tag = "operations",
    responses((status = 200, description = "The OpenAPI 3 document", content_type = "application/json")))]
pub async fn openapi_json() -> HttpResponse {
    static DOCUMENT: OnceLock<String> = OnceLock::new();
    let body = DOCUMENT.get_or_init(|| {
        serde_json::to_string_pretty(&document()).expect("the document serializes")
    });
    HttpResponse::Ok()
        .content_type("application/json")
        .body(body.as_str())
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
    params(("file" = String, Path, description = "The glue or the WebAssembly")),
    responses(
        (status = 200, description = "The file"),
        (status = 404, description = "No such file", body = ApiError),
    ))]
#[allow(dead_code)]
fn widget_file() {}

/// The widget in a window of the collector's own, which the loader opens on pages whose
/// Content-Security-Policy blocks WebAssembly.
#[utoipa::path(get, path = "/widget/window", tag = "static",
    responses((status = 200, description = "The window's page", content_type = "text/html")))]
#[allow(dead_code)]
fn widget_window() {}

/// The widget's texts in one language, which the loader fetches beside the wasm.
#[utoipa::path(get, path = "/widget/texts/{lang}", tag = "static",
    params(("lang" = String, Path, description = "A language the widget speaks")),
    responses(
        (status = 200, description = "The texts", content_type = "application/json"),
        (status = 404, description = "A language the widget does not speak", body = ApiError),
    ))]
#[allow(dead_code)]
fn widget_texts() {}

/// The screenshot editor's texts in one language, which it fetches when a visitor asks to
/// add a screenshot.
#[utoipa::path(get, path = "/widget/screenshot-texts/{lang}", tag = "static",
    params(("lang" = String, Path, description = "A language the widget speaks")),
    responses(
        (status = 200, description = "The texts", content_type = "application/json"),
        (status = 404, description = "A language the widget does not speak", body = ApiError),
    ))]
#[allow(dead_code)]
fn screenshot_texts() {}
