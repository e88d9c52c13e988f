//! Operations routes: the health check and the Prometheus metrics.

use std::time::Duration;

use actix_web::http::header::{self, HeaderValue};
use actix_web::{HttpRequest, HttpResponse, web};

use crate::error::AppError;
use crate::state::AppState;

/// How long `/healthz` waits for the database: a load balancer's check gets an answer
/// within a second whatever the database does.
pub const HEALTH_BUDGET: Duration = Duration::from_millis(800);

/// Whether the collector and its database answer: `200 {"status": "ok"}`, else `503` with
/// what is wrong, within [`HEALTH_BUDGET`] either way.
#[utoipa::path(get, path = "/healthz", tag = "operations",
    responses(
        (status = 200, description = "Healthy"),
        (status = 503, description = "unavailable: the database cannot be reached or does not answer; the message says which", body = earshot_shared::ApiError),
    ))]
pub async fn healthz(state: web::Data<AppState>) -> HttpResponse {
    let problem = match state.store.unreachable() {
        // Known down: no need to wait for another attempt to fail.
        Some(reason) => Some(format!("the database cannot be reached: {reason}")),
        None => match tokio::time::timeout(HEALTH_BUDGET, state.store.read_async(|db| db.ping()))
            .await
        {
            Ok(Ok(())) => None,
            Ok(Err(err)) => {
                tracing::warn!(error = %err, "health check: the database failed");
                Some(match state.store.unreachable() {
                    Some(reason) => format!("the database cannot be reached: {reason}"),
                    None if err.is_unreachable() => {
                        "the database cannot be reached (the collector's log says why)".to_owned()
                    }
                    None => "the database answered with an error (the collector's log says which)"
                        .to_owned(),
                })
            }
            Err(_) => Some(format!(
                "the database did not answer within {} ms",
                HEALTH_BUDGET.as_millis()
            )),
        },
    };
    let mut response = match &problem {
        None => HttpResponse::Ok(),
        Some(_) => HttpResponse::ServiceUnavailable(),
    };
    response.insert_header((header::CACHE_CONTROL, HeaderValue::from_static("no-store")));
    match problem {
        None => response.json(serde_json::json!({ "status": "ok" })),
        Some(message) => response.json(serde_json::json!({
            "status": "unavailable",
            "code": earshot_shared::ErrorCode::Unavailable,
            "message": message,
        })),
    }
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
