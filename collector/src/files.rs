//! The routes that serve static files: the loader, the widget's files, its stylesheet and
//! everything else in `www/`, from the [`Assets`] the collector was started with.

use actix_web::http::header;
use actix_web::{HttpRequest, HttpResponse, web};

use std::borrow::Cow;
use std::sync::OnceLock;

use sha2::{Digest, Sha256};

use crate::assets::{Folder, Found, plain, respond, serve};
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

/// One language's texts as served: its code, its JSON and the JSON's ETag.
type ServedTexts = Vec<(&'static str, String, String)>;

/// The JSON of every language of a table of texts, made once per process.
fn serve_texts<T: serde::Serialize + 'static>(
    table: impl IntoIterator<Item = &'static T>,
    lang: fn(&T) -> &'static str,
) -> ServedTexts {
    table
        .into_iter()
        .map(|texts| {
            let json = serde_json::to_string(texts).expect("texts are plain strings");
            let hash = Sha256::digest(json.as_bytes());
            let etag = hash[..12].iter().map(|b| format!("{b:02x}")).collect();
            (lang(texts), json, etag)
        })
        .collect()
}

/// The texts of `lang` from `all`, with their ETag; 404 for a language not there.
async fn respond_texts(
    all: &'static ServedTexts,
    lang: &str,
    request: &HttpRequest,
) -> Result<HttpResponse, AppError> {
    let (_, json, etag) = all
        .iter()
        .find(|(code, ..)| *code == lang)
        .ok_or(AppError::NotFound)?;
    let found = Found::Bytes {
        data: Cow::Borrowed(json.as_bytes()),
        etag: etag.clone(),
    };
    respond(found, mime_guess::mime::APPLICATION_JSON, None, request).await
}

/// `GET /widget/texts/{lang}`: the widget's texts in one language (`fr`: the loader sends
/// the primary subtag it chose), as JSON, which the loader fetches beside the wasm.
/// Generated from the tables in `earshot_shared::texts`, so they cannot differ from what
/// the widget's tests check; once per process, with an ETag, so a returning visitor's
/// browser revalidates them as it does the wasm.
pub async fn widget_texts(
    lang: web::Path<String>,
    request: HttpRequest,
) -> Result<HttpResponse, AppError> {
    static TEXTS: OnceLock<ServedTexts> = OnceLock::new();
    let all = TEXTS.get_or_init(|| serve_texts(earshot_shared::texts::LANGUAGES, |t| t.lang));
    respond_texts(all, &lang, &request).await
}

/// `GET /widget/screenshot-texts/{lang}`: the screenshot editor's texts in one language,
/// which the editor (`www/earshot-shot.js`) fetches when a visitor asks to add a
/// screenshot: apart from the widget's, so that they weigh nothing on its first load.
pub async fn screenshot_texts(
    lang: web::Path<String>,
    request: HttpRequest,
) -> Result<HttpResponse, AppError> {
    static TEXTS: OnceLock<ServedTexts> = OnceLock::new();
    let all = TEXTS.get_or_init(|| serve_texts(earshot_shared::texts::SHOT_LANGUAGES, |t| t.lang));
    respond_texts(all, &lang, &request).await
}

/// What the window serves: no inline script, the widget's own files only.
const WINDOW_CSP: &str = "default-src 'none'; script-src 'self' 'wasm-unsafe-eval'; \
    style-src 'self'; connect-src 'self'; base-uri 'none'; form-action 'none'; \
    frame-ancestors 'none'";

/// The window's page: the widget's script does the rest, once the page that opened it has
/// said who it is. Relative links, so a collector under a path prefix works too.
const WINDOW_PAGE: &str = r#"<!doctype html>
<html>
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Feedback{site}</title>
<script src="../widget-window.js" defer></script>
</head>
<body>
<p id="alone" hidden>This window shows a website's feedback form. Open it with the website's feedback button.</p>
</body>
</html>
"#;

/// `GET /widget/window`: the widget in a window of the collector's own, for pages whose
/// Content-Security-Policy blocks WebAssembly. The loader's fallback
/// (`www/earshot-window.js`) opens it from the launcher's click; it runs under the
/// collector's CSP, which allows the wasm, and learns the page's address and settings from
/// its opener by `postMessage` (`www/widget-window.js`).
pub async fn widget_window(
    state: web::Data<AppState>,
    query: web::Query<WindowQuery>,
) -> Result<HttpResponse, AppError> {
    // The window names the site it speaks for ("Feedback · Demo shop"): the visitor sees
    // whose feedback form opened. An unknown or missing key names none.
    let name = match query.into_inner().site {
        Some(key) => state
            .store
            .read_async(move |db| db.site(&key))
            .await?
            .map(|site| site.name),
        None => None,
    };
    let site = name.map_or_else(String::new, |name| {
        format!(" · {}", maud::html! { (name) }.into_string())
    });
    Ok(HttpResponse::Ok()
        .content_type("text/html; charset=utf-8")
        .insert_header((header::CONTENT_SECURITY_POLICY, WINDOW_CSP))
        .insert_header((header::X_FRAME_OPTIONS, "DENY"))
        .insert_header((header::X_CONTENT_TYPE_OPTIONS, "nosniff"))
        .insert_header((header::CACHE_CONTROL, "no-cache"))
        .body(WINDOW_PAGE.replace("{site}", &site)))
}

#[derive(serde::Deserialize)]
pub struct WindowQuery {
    /// The site key of the page that opened the window.
    site: Option<String>,
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

/// `GET /earshot.css`: the widget's stylesheet, which the loader puts in the shadow root:
/// the minified copy the build puts beside the widget, else the source in `www/`.
pub async fn stylesheet(
    state: web::Data<AppState>,
    request: HttpRequest,
) -> Result<HttpResponse, AppError> {
    let folder = if state.assets.find(Folder::Widget, "earshot.css").is_some() {
        Folder::Widget
    } else {
        Folder::Www
    };
    serve(&state.assets, folder, "earshot.css", &request).await
}

/// The files of `www/` fetched only on demand (the screenshot editor, the window for pages
/// that block WebAssembly), which the build minifies beside the widget: the minified copy
/// is served when there is one.
pub const ON_DEMAND: [&str; 4] = [
    "earshot-shot.js",
    "earshot-shot.css",
    "earshot-window.js",
    "widget-window.js",
];

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
    if ON_DEMAND.contains(&path) && state.assets.find(Folder::Widget, path).is_some() {
        return serve(&state.assets, Folder::Widget, path, &request).await;
    }
    serve(&state.assets, Folder::Www, path, &request).await
}
