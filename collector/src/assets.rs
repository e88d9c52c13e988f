//! The static files: the loader, the widget's stylesheet and the demo site (`www/`), and the
//! built widget (`target/widget/`). Served from those folders, or, in a release binary built
//! with the `embed` feature (`cargo xtask dist`), from copies inside the binary itself.
//!
//! The build writes `.br` and `.gz` beside the widget's files (at the highest levels, which
//! on-the-fly compression cannot afford); a browser gets the smallest encoding it accepts.

use std::borrow::Cow;
use std::path::PathBuf;

use actix_files::NamedFile;
use actix_web::http::StatusCode;
use actix_web::http::header::{self, ContentEncoding, EntityTag, HeaderValue, IfNoneMatch};
use actix_web::{HttpMessage, HttpRequest, HttpResponse};

use crate::error::AppError;

/// The encodings the build writes, best first, with their file extensions.
const PRECOMPRESSED: [(ContentEncoding, &str, &str); 2] = [
    (ContentEncoding::Brotli, "br", "br"),
    (ContentEncoding::Gzip, "gzip", "gz"),
];

/// The two folders of static files.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Folder {
    /// `www/`: loader source, stylesheet, demo site.
    Www,
    /// The built widget: glue, wasm, minified loader.
    Widget,
}

#[cfg(feature = "embed")]
mod embedded {
    #[derive(rust_embed::Embed)]
    #[folder = "../www/"]
    pub struct Www;

    #[derive(rust_embed::Embed)]
    #[folder = "../target/widget/"]
    pub struct Widget;
}

/// Where the static files come from.
#[derive(Debug, Clone)]
pub enum Assets {
    /// Folders on disk (`--www-dir`, `--widget-dir`).
    Dirs { www: PathBuf, widget: PathBuf },
    /// Inside this binary.
    #[cfg(feature = "embed")]
    Embedded,
}

/// A file found, on disk or in the binary.
pub enum Found {
    Disk(PathBuf),
    Bytes {
        data: Cow<'static, [u8]>,
        etag: String,
    },
}

impl Assets {
    /// The folders, unless the binary carries the files and no folder was named.
    pub fn choose(www: Option<PathBuf>, widget: Option<PathBuf>) -> Self {
        #[cfg(feature = "embed")]
        if www.is_none() && widget.is_none() {
            return Self::Embedded;
        }
        Self::Dirs {
            www: www.unwrap_or_else(|| "www".into()),
            widget: widget.unwrap_or_else(|| "target/widget".into()),
        }
    }

    /// Whether the built widget is there to serve.
    pub fn has_widget(&self) -> bool {
        self.find(Folder::Widget, "earshot_widget_bg.wasm")
            .is_some()
    }

    /// Says where the widget's files come from, for the start-up log.
    pub fn describe_widget(&self) -> String {
        match self {
            Self::Dirs { widget, .. } => widget.display().to_string(),
            #[cfg(feature = "embed")]
            Self::Embedded => "the binary".to_owned(),
        }
    }

    /// Says where the files come from, for the start-up log.
    pub fn describe(&self) -> String {
        match self {
            Self::Dirs { www, widget } => format!(
                "web files from {}, the widget from {}",
                www.display(),
                widget.display()
            ),
            #[cfg(feature = "embed")]
            Self::Embedded => "inside the binary".to_owned(),
        }
    }

    pub fn find(&self, folder: Folder, path: &str) -> Option<Found> {
        match self {
            Self::Dirs { www, widget } => {
                let dir = match folder {
                    Folder::Www => www,
                    Folder::Widget => widget,
                };
                let file = dir.join(path);
                file.is_file().then_some(Found::Disk(file))
            }
            #[cfg(feature = "embed")]
            Self::Embedded => {
                let file = match folder {
                    Folder::Www => <embedded::Www as rust_embed::RustEmbed>::get(path),
                    Folder::Widget => <embedded::Widget as rust_embed::RustEmbed>::get(path),
                }?;
                let hash = file.metadata.sha256_hash();
                let etag = hash[..12].iter().map(|b| format!("{b:02x}")).collect();
                Some(Found::Bytes {
                    data: file.data,
                    etag,
                })
            }
        }
    }

    pub fn is_dir(&self, folder: Folder, path: &str) -> bool {
        self.find(
            folder,
            &format!("{}/index.html", path.trim_end_matches('/')),
        )
        .is_some()
    }
}

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

/// A relative path of plain names: no `..`, no dot-files, no empty segments.
pub fn plain(path: &str) -> bool {
    !path.is_empty()
        && path.split('/').all(|segment| {
            !segment.is_empty()
                && !segment.starts_with('.')
                && segment
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b'-'))
        })
}

/// Answers with `found`, or `304 Not Modified` when the browser's copy has its ETag.
pub async fn respond(
    found: Found,
    mime: mime_guess::Mime,
    encoding: Option<ContentEncoding>,
    request: &HttpRequest,
) -> Result<HttpResponse, AppError> {
    let mut response = match found {
        Found::Disk(path) => {
            let mut file = NamedFile::open_async(&path)
                .await
                .map_err(|_| AppError::NotFound)?
                .set_content_type(mime)
                .disable_content_disposition()
                .use_etag(true);
            if let Some(encoding) = encoding {
                file = file.set_content_encoding(encoding);
            }
            file.into_response(request)
        }
        Found::Bytes { data, etag } => {
            let tag = EntityTag::new_strong(etag);
            let unchanged =
                request
                    .get_header::<IfNoneMatch>()
                    .is_some_and(|matches| match matches {
                        IfNoneMatch::Any => true,
                        IfNoneMatch::Items(items) => items.iter().any(|item| item.weak_eq(&tag)),
                    });
            let mut response = HttpResponse::build(if unchanged {
                StatusCode::NOT_MODIFIED
            } else {
                StatusCode::OK
            });
            response
                .insert_header((header::ETAG, tag.to_string()))
                .content_type(mime.as_ref());
            if let Some(encoding) = encoding {
                response.insert_header((header::CONTENT_ENCODING, encoding.as_str()));
            }
            if unchanged {
                response.finish()
            } else {
                response.body(data.into_owned())
            }
        }
    };
    response
        .headers_mut()
        .insert(header::VARY, HeaderValue::from_static("accept-encoding"));
    Ok(response)
}

/// Serves `path` from `folder`, or its precompressed variant when the browser accepts one.
pub async fn serve(
    assets: &Assets,
    folder: Folder,
    path: &str,
    request: &HttpRequest,
) -> Result<HttpResponse, AppError> {
    if !plain(path) {
        return Err(AppError::NotFound);
    }
    let mime = mime_guess::from_path(path).first_or_octet_stream();
    for (encoding, coding, extension) in PRECOMPRESSED {
        if accepts(request, coding)
            && let Some(found) = assets.find(folder, &format!("{path}.{extension}"))
        {
            return respond(found, mime, Some(encoding), request).await;
        }
    }
    let found = assets.find(folder, path).ok_or(AppError::NotFound)?;
    respond(found, mime, None, request).await
}
