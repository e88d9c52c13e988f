//! Operations routes: the health check and the Prometheus metrics.

use actix_web::http::header::{self, HeaderValue};
use actix_web::{HttpRequest, HttpResponse, web};

use crate::error::AppError;
use crate::state::AppState;

/// Whether the collector and its database answer.
#[utoipa::path(get, path = "/healthz", tag = "operations",
    responses(
        (status = 200, description = "Healthy"),
        (status = 500, description = "The database does not answer", body = earshot_shared::ApiError),
    ))]
pub async fn healthz(state: web::Data<AppState>) -> Result<HttpResponse, AppError> {
    state.store.read_async(|db| db.ping()).await?;
    Ok(HttpResponse::Ok()
        .insert_header((header::CACHE_CONTROL, HeaderValue::from_static("no-store")))
        .json(serde_json::json!({ "status": "ok" })))
}

/// Prometheus metrics: submissions by outcome and error code, request latency by route.
#[utoipa::path(get, path = "/metrics", tag = "operations",
    responses(
        (status = 200, description = "Prometheus text format", content_type = "application/openmetrics-text"),
        (status = 401, description = "unauthorized: the collector asks for --metrics-token", body = earshot_shared::ApiError),
    ))]
pub async fn metrics(
    request: HttpRequest,
    state: web::Data<AppState>,
) -> Result<HttpResponse, AppError> {
    if let Some(token) = &state.metrics_token {
        let sent = request
            .headers()
            .get(header::AUTHORIZATION)
            .and_then(|value| value.to_str().ok())
            .and_then(|value| value.strip_prefix("Bearer "))
            .unwrap_or("");
        let same = sent.len() == token.len()
            && sent
                .bytes()
                .zip(token.bytes())
                .fold(0u8, |acc, (a, b)| acc | (a ^ b))
                == 0;
        if !same {
            return Err(AppError::Unauthorized);
        }
    }
    state.metrics.observe_sizes(state.store.location());
    Ok(HttpResponse::Ok()
        .content_type("application/openmetrics-text; version=1.0.0; charset=utf-8")
        .body(state.metrics.render()))
}
