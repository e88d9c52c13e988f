//! Every way a request can fail, and the JSON body each failure is answered with.

use actix_web::http::{StatusCode, header};
use actix_web::{HttpResponse, ResponseError};
use earshot_shared::limits::{MAX_BODY_BYTES, MAX_SCREENSHOT_BYTES};
use earshot_shared::{ApiError, ErrorCode, ValidationError};

use earshot_store::StoreError;

/// A refused or failed request. Each variant maps to one stable [`ErrorCode`].
#[derive(Debug, thiserror::Error)]
pub enum AppError {
    #[error("the body is not a valid submission: {message}")]
    InvalidJson {
        message: String,
        field: Option<String>,
    },
    #[error("the body is larger than {MAX_BODY_BYTES} bytes")]
    PayloadTooLarge,
    #[error("send the body as text/plain or application/json")]
    UnsupportedMediaType,
    #[error(transparent)]
    Invalid(#[from] ValidationError),
    #[error("no site has the key {0:?}")]
    UnknownSite(String),
    #[error("this site does not accept feedback from {0}")]
    OriginNotAllowed(String),
    #[error("the query is not valid: {0}")]
    InvalidQuery(String),
    #[error("too many submissions; try again in {} seconds", retry_after_secs(.0))]
    RateLimited(std::time::Duration),
    #[error("send a valid API token as 'Authorization: Bearer <token>'")]
    Unauthorized,
    #[error("this token may not read site {0:?}")]
    Forbidden(String),
    #[error("there is nothing at this address")]
    NotFound,
    #[error("this method is not served here")]
    MethodNotAllowed,
    #[error("the collector could not complete the request; nothing was stored")]
    Storage(StoreError),
    #[error(
        "the collector cannot reach its database; nothing was stored; try again in {UNAVAILABLE_RETRY_SECS} seconds"
    )]
    Unavailable(StoreError),
    #[error("the request was interrupted: {0}")]
    Payload(String),
    #[error("the request took too long to arrive; nothing was stored")]
    RequestTimeout,
    #[error("the screenshot is larger than {MAX_SCREENSHOT_BYTES} bytes")]
    ScreenshotTooLarge,
    #[error("send a screenshot as image/png, image/jpeg or image/webp")]
    ScreenshotType,
    #[error("no submission has the id {0:?}; send the submission first")]
    UnknownSubmission(String),
    #[error("site {0:?} does not accept screenshots; its owner can turn them on")]
    ScreenshotsOff(String),
    #[error("the screenshot is not a valid image: {0}")]
    InvalidImage(String),
}

/// What `Retry-After` says while the database cannot be reached: the widget's first retry
/// comes about as soon.
pub const UNAVAILABLE_RETRY_SECS: u64 = 5;

/// Outcomes the store reports about the request itself get their own answers; a database
/// that cannot be reached is `503 unavailable` (try again); only the backend's other
/// failures are `500 internal`. A site deleted while its feedback was being written is
/// `404 unknown-site`, as it would have been a moment later.
impl From<StoreError> for AppError {
    fn from(err: StoreError) -> Self {
        match err {
            StoreError::UnknownSite(key) => Self::UnknownSite(key),
            StoreError::UnknownToken(_) => Self::NotFound,
            unreachable if unreachable.is_unreachable() => Self::Unavailable(unreachable),
            other => Self::Storage(other),
        }
    }
}

/// Whole seconds to wait, rounded up so a client that waits exactly that long gets through.
fn retry_after_secs(wait: &std::time::Duration) -> u64 {
    wait.as_secs() + u64::from(wait.subsec_nanos() > 0)
}

impl AppError {
    pub fn code(&self) -> ErrorCode {
        match self {
            Self::InvalidJson { .. } | Self::Payload(_) => ErrorCode::InvalidJson,
            Self::PayloadTooLarge => ErrorCode::PayloadTooLarge,
            Self::UnsupportedMediaType => ErrorCode::UnsupportedMediaType,
            Self::Invalid(_) => ErrorCode::InvalidField,
            Self::UnknownSite(_) => ErrorCode::UnknownSite,
            Self::OriginNotAllowed(_) => ErrorCode::OriginNotAllowed,
            Self::InvalidQuery(_) => ErrorCode::InvalidQuery,
            Self::RateLimited(_) => ErrorCode::RateLimited,
            Self::Unauthorized => ErrorCode::Unauthorized,
            Self::Forbidden(_) => ErrorCode::Forbidden,
            Self::NotFound => ErrorCode::NotFound,
            Self::MethodNotAllowed => ErrorCode::MethodNotAllowed,
            Self::Storage(_) => ErrorCode::Internal,
            Self::Unavailable(_) => ErrorCode::Unavailable,
            Self::RequestTimeout => ErrorCode::RequestTimeout,
            Self::ScreenshotTooLarge => ErrorCode::PayloadTooLarge,
            Self::ScreenshotType => ErrorCode::UnsupportedMediaType,
            Self::UnknownSubmission(_) => ErrorCode::UnknownSubmission,
            Self::ScreenshotsOff(_) => ErrorCode::ScreenshotsOff,
            Self::InvalidImage(_) => ErrorCode::InvalidImage,
        }
    }

    /// The wire body: code, message and, where one field is at fault, its name.
    pub fn to_api_error(&self) -> ApiError {
        let field = match self {
            Self::Invalid(err) => Some(err.field().to_owned()),
            Self::InvalidJson { field, .. } => field.clone(),
            _ => None,
        };
        ApiError {
            code: self.code(),
            message: self.to_string(),
            field,
        }
    }
}

impl ResponseError for AppError {
    fn status_code(&self) -> StatusCode {
        match self.code() {
            ErrorCode::InvalidJson | ErrorCode::InvalidQuery => StatusCode::BAD_REQUEST,
            ErrorCode::RateLimited => StatusCode::TOO_MANY_REQUESTS,
            ErrorCode::PayloadTooLarge => StatusCode::PAYLOAD_TOO_LARGE,
            ErrorCode::UnsupportedMediaType => StatusCode::UNSUPPORTED_MEDIA_TYPE,
            ErrorCode::InvalidField | ErrorCode::InvalidImage => StatusCode::UNPROCESSABLE_ENTITY,
            ErrorCode::UnknownSite | ErrorCode::NotFound | ErrorCode::UnknownSubmission => {
                StatusCode::NOT_FOUND
            }
            ErrorCode::OriginNotAllowed | ErrorCode::Forbidden | ErrorCode::ScreenshotsOff => {
                StatusCode::FORBIDDEN
            }
            ErrorCode::Unauthorized => StatusCode::UNAUTHORIZED,
            ErrorCode::MethodNotAllowed => StatusCode::METHOD_NOT_ALLOWED,
            ErrorCode::RequestTimeout => StatusCode::REQUEST_TIMEOUT,
            ErrorCode::Internal | ErrorCode::Unknown => StatusCode::INTERNAL_SERVER_ERROR,
            ErrorCode::Unavailable => StatusCode::SERVICE_UNAVAILABLE,
        }
    }

    fn error_response(&self) -> HttpResponse {
        match self {
            Self::Storage(err) => tracing::error!(error = %err, "storage failed"),
            // The outage itself is logged once by the store, not on every request.
            Self::Unavailable(err) => tracing::debug!(error = %err, "the database is unreachable"),
            _ => {}
        }
        let mut response = HttpResponse::build(self.status_code());
        match self {
            Self::Unauthorized => {
                response.insert_header((header::WWW_AUTHENTICATE, "Bearer realm=\"earshot\""));
            }
            Self::RateLimited(wait) => {
                response.insert_header((header::RETRY_AFTER, retry_after_secs(wait).to_string()));
            }
            Self::Unavailable(_) => {
                response.insert_header((header::RETRY_AFTER, UNAVAILABLE_RETRY_SECS.to_string()));
            }
            // The rest of a body that came too slowly is not waited for.
            Self::RequestTimeout => {
                response.force_close();
            }
            _ => {}
        }
        response.json(self.to_api_error())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use actix_web::body::to_bytes;

    #[actix_web::test]
    async fn errors_are_json_with_code_message_and_field() {
        let err = AppError::Invalid(ValidationError::CommentTooLong);
        let response = err.error_response();
        assert_eq!(response.status(), StatusCode::UNPROCESSABLE_ENTITY);
        let body = to_bytes(response.into_body()).await.unwrap();
        let api: ApiError = serde_json::from_slice(&body).unwrap();
        assert_eq!(api.code, ErrorCode::InvalidField);
        assert_eq!(api.field.as_deref(), Some("comment"));
        assert!(api.message.contains("5000"), "{}", api.message);
    }

    /// A storage failure answers `500 internal` with a fixed sentence: the database's own
    /// message (paths, SQL, server names) stays in the log.
    #[actix_web::test]
    async fn an_internal_error_tells_nothing_of_the_storage() {
        let err = AppError::from(StoreError::BatchFailed(
            "PostgreSQL: relation \"secret_table_name\" does not exist (42P01)".into(),
        ));
        let response = err.error_response();
        assert_eq!(response.status(), StatusCode::INTERNAL_SERVER_ERROR);
        let body = to_bytes(response.into_body()).await.unwrap();
        let api: ApiError = serde_json::from_slice(&body).unwrap();
        assert_eq!(api.code, ErrorCode::Internal);
        assert_eq!(
            api.message,
            "the collector could not complete the request; nothing was stored"
        );
        assert!(!String::from_utf8_lossy(&body).contains("secret_table_name"));
    }

    /// A database that cannot be reached is `503 unavailable` with `Retry-After`, so the
    /// widget keeps the submission and tries again; its host stays in the log.
    #[actix_web::test]
    async fn an_unreachable_database_is_503_with_retry_after() {
        let err = AppError::from(StoreError::Unreachable {
            server: "db.internal:5432".into(),
            reason: "Connection refused (os error 111)".into(),
        });
        let response = err.error_response();
        assert_eq!(response.status(), StatusCode::SERVICE_UNAVAILABLE);
        assert_eq!(
            response.headers().get(header::RETRY_AFTER).unwrap(),
            &UNAVAILABLE_RETRY_SECS.to_string()
        );
        let body = to_bytes(response.into_body()).await.unwrap();
        let api: ApiError = serde_json::from_slice(&body).unwrap();
        assert_eq!(api.code, ErrorCode::Unavailable);
        assert!(!String::from_utf8_lossy(&body).contains("db.internal"));
    }

    /// The store's outcomes about the request itself are answered as such, not as 500.
    #[test]
    fn a_site_deleted_meanwhile_is_an_unknown_site() {
        let err = AppError::from(StoreError::UnknownSite("gone".into()));
        assert_eq!(err.code(), ErrorCode::UnknownSite);
        assert_eq!(err.status_code(), StatusCode::NOT_FOUND);
    }
}
