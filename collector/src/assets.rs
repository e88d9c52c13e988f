//! The widget's files, served precompressed: the build writes `.br` and `.gz` beside each
//! file (at the highest levels, which on-the-fly compression cannot afford), and a browser
//! gets the smallest encoding it accepts.

use std::path::{Path, PathBuf};

use actix_files::NamedFile;
use actix_web::http::header::{self, ContentEncoding, HeaderValue};
use actix_web::{HttpRequest, HttpResponse, web};

use crate::app::AppState;
use crate::error::AppError;

/// The encodings the build writes, best first, with their file extensions.
const PRECOMPRESSED: [(ContentEncoding, &str, &str); 2] = [
    (ContentEncoding::Brotli, "br", "br"),
    (ContentEncoding::Gzip, "gzip", "gz"),
];

/// Whether `Accept-Encoding` accepts `coding` (a `q=0` refuses it).
fn accepts(request: &HttpRequest, coding: &str) -> bool {
    request
        .headers()
        .get_all(header::ACCEPT_ENCODING)
        .filter_map(|value| value.to_str().ok())
        .flat_map(|value| value.split(','))
        .any(|item| {
            let mut parts = item.split(';').map(str::trim);
            parts
                .next()
                .is_some_and(|name| name.eq_ignore_ascii_case(coding))
                && !parts.any(|param| {
                    param
                        .strip_prefix("q=")
                        .and_then(|q| q.parse::<f32>().ok())
                        .is_some_and(|q| q == 0.0)
                })
        })
}

/// Serves `dir/name`, or its precompressed variant when the browser accepts one.
pub async fn serve(
    dir: &Path,
    name: &str,
    request: &HttpRequest,
) -> Result<HttpResponse, AppError> {
    // One plain file name: no separators, no dot-files, nothing to escape the directory with.
    let plain = !name.is_empty()
        && !name.starts_with('.')
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b'-'));
    if !plain {
        return Err(AppError::NotFound);
    }
    let path = dir.join(name);
    if !path.is_file() {
        return Err(AppError::NotFound);
    }
    let mime = mime_guess::from_path(&path).first_or_octet_stream();
    for (encoding, coding, extension) in PRECOMPRESSED {
        let variant = PathBuf::from(format!("{}.{extension}", path.display()));
        if accepts(request, coding) && variant.is_file() {
            let file = NamedFile::open_async(&variant)
                .await
                .map_err(|_| AppError::NotFound)?
                .set_content_type(mime)
                .set_content_encoding(encoding)
                .disable_content_disposition()
                .use_etag(true);
            let mut response = file.into_response(request);
            response
                .headers_mut()
                .insert(header::VARY, HeaderValue::from_static("accept-encoding"));
            return Ok(response);
        }
    }
    let file = NamedFile::open_async(&path)
        .await
        .map_err(|_| AppError::NotFound)?
        .disable_content_disposition()
        .use_etag(true);
    let mut response = file.into_response(request);
    response
        .headers_mut()
        .insert(header::VARY, HeaderValue::from_static("accept-encoding"));
    Ok(response)
}

/// `GET /widget/{file}`: the wasm-bindgen glue and the wasm.
pub async fn widget_file(
    state: web::Data<AppState>,
    file: web::Path<String>,
    request: HttpRequest,
) -> Result<HttpResponse, AppError> {
    serve(&state.widget_dir, &file, &request).await
}

/// `GET /earshot.js`: the minified loader the build puts beside the widget, else the source
/// in `www/` (a collector run before the widget was ever built).
pub async fn loader(
    state: web::Data<AppState>,
    request: HttpRequest,
) -> Result<HttpResponse, AppError> {
    let dir = if state.widget_dir.join("earshot.js").is_file() {
        &state.widget_dir
    } else {
        &state.www_dir
    };
    serve(dir, "earshot.js", &request).await
}
