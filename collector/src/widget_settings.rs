//! `GET /v1/sites/{site}/config`: a site's widget defaults, read by the loader before it draws
//! the launcher. Public (the snippet's pages are), cacheable, and cheap to revalidate.

use actix_web::http::header::{self, HeaderValue};
use actix_web::{HttpRequest, HttpResponse, web};
use earshot_shared::limits::SETTINGS_MAX_AGE_SECS;
use sha2::{Digest, Sha256};

use crate::error::AppError;
use crate::state::AppState;
#[allow(unused_imports)] // named in the OpenAPI annotations only
use earshot_shared::{ApiError, WidgetSettings};

/// The widget's defaults, with the site's promise to answer in each language the widget
/// speaks (`promise-en`, `promise-fr`…) when the site states it.
fn config_body(site: &earshot_store::Site) -> serde_json::Value {
    let mut body = serde_json::to_value(&site.widget).unwrap_or_else(|_| serde_json::json!({}));
    if site.answers.promise_shown
        && let Some(fields) = body.as_object_mut()
    {
        for texts in crate::conversation::texts::LANGUAGES {
            let time = crate::conversation::texts::promise_time(texts, site.answers.answer_hours);
            fields.insert(
                format!("promise-{}", texts.lang),
                texts.promise.replace("{promise}", &time).into(),
            );
        }
    }
    body
}

/// A site's widget defaults. The snippet's `data-*` attributes override each of them.
#[utoipa::path(get, path = "/v1/sites/{site}/config", tag = "widget",
    params(("site" = String, Path, description = "The site key")),
    responses(
        (status = 200, description = "The site's widget settings; cacheable, with an ETag", body = WidgetSettings),
        (status = 304, description = "Unchanged since the ETag sent in If-None-Match"),
        (status = 404, description = "No site has this key (`unknown-site`)", body = ApiError),
    ))]
pub async fn widget_config(
    state: web::Data<AppState>,
    site: web::Path<String>,
    request: HttpRequest,
) -> Result<HttpResponse, AppError> {
    let key = site.into_inner();
    let site = state
        .sites
        .get(&state.store, &key)
        .await?
        .ok_or(AppError::UnknownSite(key))?;
    let body = serde_json::to_vec(&config_body(&site))
        .map_err(|err| AppError::Payload(err.to_string()))?;
    let digest = Sha256::digest(&body);
    let etag: String = digest[..12]
        .iter()
        .map(|byte| format!("{byte:02x}"))
        .collect();
    let etag = format!("\"{etag}\"");
    let cache = format!("public, max-age={SETTINGS_MAX_AGE_SECS}");
    let unchanged = request
        .headers()
        .get(header::IF_NONE_MATCH)
        .and_then(|value| value.to_str().ok())
        .is_some_and(|tags| {
            tags.split(',')
                .any(|tag| tag.trim() == etag || tag.trim() == "*")
        });
    let mut response = if unchanged {
        HttpResponse::NotModified()
    } else {
        HttpResponse::Ok()
    };
    response
        .insert_header((header::ETAG, etag))
        .insert_header((header::CACHE_CONTROL, cache))
        .insert_header((
            header::ACCESS_CONTROL_ALLOW_ORIGIN,
            HeaderValue::from_static("*"),
        ))
        // Like the widget's files: the host page's performance tools may see what it costs.
        .insert_header(("Timing-Allow-Origin", HeaderValue::from_static("*")));
    Ok(if unchanged {
        response.finish()
    } else {
        response.content_type("application/json").body(body)
    })
}
