//! How the dashboard answers: HTML pages, redirects, and its errors as pages.

use actix_web::http::StatusCode;
use actix_web::http::header;
use actix_web::{HttpResponse, ResponseError};
use earshot_store::StoreError;

use super::layout;

/// Why a dashboard request was not served. Answered with a page, not JSON.
#[derive(Debug, thiserror::Error)]
pub enum AdminError {
    #[error("sign in to continue")]
    SignIn { next: String, page: bool },
    #[error("this form has expired; reload the page and try again")]
    Csrf,
    #[error("this form was sent from another site; use the dashboard's own pages")]
    CrossSite,
    #[error("this account may not see that site")]
    Forbidden,
    #[error("there is nothing here")]
    NotFound,
    #[error("{0}")]
    BadRequest(String),
    #[error("the dashboard could not reach its database")]
    Storage(#[from] StoreError),
}

/// An owner's action refused by its rules is the form's mistake (400, said on a page); the
/// store's failures are the server's.
impl From<crate::owner::OwnerError> for AdminError {
    fn from(err: crate::owner::OwnerError) -> Self {
        use crate::owner::OwnerError;
        match err {
            OwnerError::Store(err) => Self::Storage(err),
            OwnerError::UnknownSite(_) => Self::NotFound,
            refused => Self::BadRequest(refused.to_string()),
        }
    }
}

impl ResponseError for AdminError {
    fn status_code(&self) -> StatusCode {
        match self {
            Self::SignIn { page: true, .. } => StatusCode::SEE_OTHER,
            Self::SignIn { page: false, .. } => StatusCode::UNAUTHORIZED,
            Self::Csrf | Self::CrossSite | Self::Forbidden => StatusCode::FORBIDDEN,
            Self::NotFound => StatusCode::NOT_FOUND,
            Self::BadRequest(_) => StatusCode::BAD_REQUEST,
            Self::Storage(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    fn error_response(&self) -> HttpResponse {
        if let Self::SignIn { next, page: true } = self {
            let target = format!(
                "/admin/login?next={}",
                percent_encoding::utf8_percent_encode(next, percent_encoding::NON_ALPHANUMERIC)
            );
            return HttpResponse::SeeOther()
                .insert_header((header::LOCATION, target))
                .finish();
        }
        if let Self::Storage(err) = self {
            tracing::error!(error = %err, "dashboard storage failure");
        }
        html(self.status_code(), layout::message(&self.to_string()))
    }
}

pub(super) fn html(status: StatusCode, markup: maud::Markup) -> HttpResponse {
    HttpResponse::build(status)
        .content_type("text/html; charset=utf-8")
        .body(markup.into_string())
}

pub(super) fn see_other(location: &str) -> HttpResponse {
    HttpResponse::SeeOther()
        .insert_header((header::LOCATION, location.to_owned()))
        .finish()
}
