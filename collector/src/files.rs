//! The routes that serve static files: the loader, the widget's files, its stylesheet and
//! everything else in `www/`, from the [`Assets`] the collector was started with.

use actix_web::http::header;
use actix_web::{HttpRequest, HttpResponse, web};

use crate::assets::{Folder, plain, serve};
use crate::error::AppError;
use crate::state::AppState;

/// The files `GET /widget/{file}` serves: the wasm-bindgen glue and the wasm. The loader
/// lives in the same folder but has its own route; compressed copies are chosen by
/// `Accept-Encoding`, never named.
pub const WIDGET_FILES: [&str; 2] = ["earshot_widget.js", "earshot_widget_bg.wasm"];

/// `GET /widget/{file}`: the wasm-bindgen glue and the wasm.
pub async fn widget_file(
    state: web::Data<AppState>,
    file: web::Path<String>,
    request: HttpRequest,
) -> Result<HttpResponse, AppError> {
    if !WIDGET_FILES.contains(&file.as_str()) {
        return Err(AppError::NotFound);
    }
    serve(&state.assets, Folder::Widget, &file, &request).await
}

/// `GET /earshot.js`: the minified loader the build puts beside the widget, else the source
/// in `www/` (a collector run before the widget was ever built).
pub async fn loader(
    state: web::Data<AppState>,
    request: HttpRequest,
) -> Result<HttpResponse, AppError> {
    let folder = if state.assets.find(Folder::Widget, "earshot.js").is_some() {
        Folder::Widget
    } else {
        Folder::Www
    };
    serve(&state.assets, folder, "earshot.js", &request).await
}

/// `GET /earshot.css`: the widget's stylesheet, which the loader puts in the shadow root.
pub async fn stylesheet(
    state: web::Data<AppState>,
    request: HttpRequest,
) -> Result<HttpResponse, AppError> {
    serve(&state.assets, Folder::Www, "earshot.css", &request).await
}

/// `GET /{path}`: everything else in `www/`; a folder serves its `index.html`.
pub async fn www_file(
    state: web::Data<AppState>,
    path: web::Path<String>,
    request: HttpRequest,
) -> Result<HttpResponse, AppError> {
    let path = path.into_inner();
    let path = path.trim_start_matches('/');
    if path.is_empty() || path.ends_with('/') {
        let index = format!("{path}index.html");
        return serve(&state.assets, Folder::Www, &index, &request).await;
    }
    if plain(path) && state.assets.is_dir(Folder::Www, path) {
        // `/demo` → `/demo/`, so the page's relative links resolve inside its folder.
        return Ok(HttpResponse::MovedPermanently()
            .insert_header((header::LOCATION, format!("/{path}/")))
            .finish());
    }
    serve(&state.assets, Folder::Www, path, &request).await
}
