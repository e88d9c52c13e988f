//! Screenshots visitors attach to their feedback: `PUT /v1/feedback/{id}/screenshot`, sent
//! by the widget once its submission is stored (a submission never waits for its picture).
//!
//! Nothing a visitor sends is stored as sent: the image must be one whole PNG, JPEG or WebP
//! of the type it was sent as, with nothing after its end (a JPEG with a script appended is
//! refused, not trimmed), at most [`MAX_SCREENSHOT_BYTES`] and [`MAX_SCREENSHOT_PIXELS`]
//! (read from its header before anything is decoded: a decompression bomb is refused
//! unread); it is then decoded within a memory limit and encoded anew, which leaves EXIF,
//! text chunks and anything hidden in the file behind. JPEG stays JPEG (turned upright by
//! its EXIF orientation, then dropped); PNG and WebP become PNG. What is stored keeps the
//! same limit as what is sent: an encoding that would be larger is done again at a lower
//! quality or harder compression, then smaller. A thumbnail for the dashboard is made at
//! the same time. Memory and work are bounded: at most
//! [`MAX_CONCURRENT_UPLOADS`] bodies held at once, [`MAX_CONCURRENT_DECODES`] decodes, each
//! within [`MAX_DECODE_BYTES`], and each decode counted against the visitor's allowance for
//! refused requests.
//!
//! Each submission has at most one screenshot: a retry of one that was stored answers
//! `200` and stores nothing. A submission flagged as spam gets the usual answer and no
//! screenshot kept. Screenshots are off unless the site's owner turns them on.

use std::io::Cursor;
use std::time::Duration;

use actix_web::http::StatusCode;
use actix_web::http::header::{self, HeaderValue};
use actix_web::{HttpRequest, HttpResponse, ResponseError, web};
use earshot_shared::FeedbackAccepted;
use earshot_shared::limits::{MAX_SCREENSHOT_BYTES, MAX_SCREENSHOT_PIXELS};
use earshot_store::{Screenshot, StoreError, now_millis};
use image::codecs::png::{CompressionType, FilterType as PngFilter, PngEncoder};
use image::{DynamicImage, ImageDecoder, ImageFormat, ImageReader};
use tokio::sync::Semaphore;

use crate::error::AppError;
use crate::ingest::{allow_origin, origin_allowed, read_limited, visitor_of};
use crate::state::AppState;

/// Screenshots decoded at once; more wait their turn (each may take [`MAX_DECODE_BYTES`]).
pub const MAX_CONCURRENT_DECODES: usize = 2;
/// Uploads read, waiting or being decoded at once, each holding up to
/// [`MAX_SCREENSHOT_BYTES`] in memory; more are answered `429` (try again in a second).
pub const MAX_CONCURRENT_UPLOADS: usize = 8;
/// The most a decoder may allocate for one image: 16 megapixels of 16-bit RGBA.
pub const MAX_DECODE_BYTES: u64 = MAX_SCREENSHOT_PIXELS * 8;
/// The longest side of a thumbnail, in pixels.
pub const THUMBNAIL_PX: u32 = 320;
/// The qualities a JPEG screenshot is encoded anew at, best first: the next is tried only
/// when the image would be larger than [`MAX_SCREENSHOT_BYTES`] (a JPEG saved at a lower
/// quality than this grows when encoded at it).
const JPEG_QUALITIES: [u8; 3] = [85, 70, 55];
/// How much each side shrinks when no encoding of an image fits [`MAX_SCREENSHOT_BYTES`].
const SHRINK: f64 = 0.8;

/// The decoding slots every worker of the process shares.
static DECODERS: Semaphore = Semaphore::const_new(MAX_CONCURRENT_DECODES);
/// The upload slots, likewise.
static UPLOADS: Semaphore = Semaphore::const_new(MAX_CONCURRENT_UPLOADS);

/// A screenshot as it will be stored.
#[derive(Debug)]
pub struct Encoded {
    pub content_type: &'static str,
    pub width: u32,
    pub height: u32,
    pub image: Vec<u8>,
    pub thumbnail: Vec<u8>,
}

/// The format a `Content-Type` names, if it is one a screenshot may be sent as.
fn declared_format(request: &HttpRequest) -> Result<ImageFormat, AppError> {
    let essence = request
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|value| value.to_str().ok())
        .map(|value| {
            value
                .split(';')
                .next()
                .unwrap_or("")
                .trim()
                .to_ascii_lowercase()
        })
        .unwrap_or_default();
    match essence.as_str() {
        "image/png" => Ok(ImageFormat::Png),
        "image/jpeg" => Ok(ImageFormat::Jpeg),
        "image/webp" => Ok(ImageFormat::WebP),
        _ => Err(AppError::ScreenshotType),
    }
}

/// Whether the file ends where its format says it does: nothing appended.
fn ends_cleanly(bytes: &[u8], format: ImageFormat) -> bool {
    const IEND: [u8; 12] = [0, 0, 0, 0, b'I', b'E', b'N', b'D', 0xAE, 0x42, 0x60, 0x82];
    match format {
        ImageFormat::Png => bytes.ends_with(&IEND),
        ImageFormat::Jpeg => bytes.ends_with(&[0xFF, 0xD9]),
        ImageFormat::WebP => {
            bytes.len() >= 12
                && bytes.starts_with(b"RIFF")
                && u32::from_le_bytes([bytes[4], bytes[5], bytes[6], bytes[7]]) as usize + 8
                    == bytes.len()
        }
        _ => false,
    }
}

/// Checks, decodes and encodes anew a screenshot sent as `format`; the error says why it is
/// not an acceptable image. Blocking (CPU-bound): run it off the async workers.
pub fn reencode(bytes: &[u8], format: ImageFormat) -> Result<Encoded, String> {
    if image::guess_format(bytes).ok() != Some(format) {
        return Err(format!("it is not {}", format.to_mime_type()));
    }
    if !ends_cleanly(bytes, format) {
        return Err("it is cut short, or something follows its end".into());
    }
    let reader = || {
        let mut reader = ImageReader::with_format(Cursor::new(bytes), format);
        let mut limits = image::Limits::default();
        limits.max_alloc = Some(MAX_DECODE_BYTES);
        reader.limits(limits);
        reader
    };
    let (width, height) = reader()
        .into_dimensions()
        .map_err(|err| format!("its header cannot be read: {err}"))?;
    if u64::from(width) * u64::from(height) > MAX_SCREENSHOT_PIXELS {
        return Err(format!(
            "it has {width} × {height} pixels, more than {MAX_SCREENSHOT_PIXELS}"
        ));
    }
    let mut decoder = reader()
        .into_decoder()
        .map_err(|err| format!("it cannot be decoded: {err}"))?;
    let orientation = decoder
        .orientation()
        .unwrap_or(image::metadata::Orientation::NoTransforms);
    let mut image = DynamicImage::from_decoder(decoder)
        .map_err(|err| format!("it cannot be decoded: {err}"))?;
    image.apply_orientation(orientation);
    let thumbnail = image.thumbnail(THUMBNAIL_PX, THUMBNAIL_PX);
    let jpeg_kept = format == ImageFormat::Jpeg;
    let (image, image_bytes) = within_limit(image, jpeg_kept)?;
    let (content_type, thumbnail_bytes) = if jpeg_kept {
        ("image/jpeg", jpeg(&thumbnail, JPEG_QUALITIES[0])?)
    } else {
        ("image/png", png(&thumbnail, CompressionType::Fast)?)
    };
    Ok(Encoded {
        content_type,
        width: image.width(),
        height: image.height(),
        image: image_bytes,
        thumbnail: thumbnail_bytes,
    })
}

/// The image encoded anew (as JPEG, or else PNG) in at most [`MAX_SCREENSHOT_BYTES`], so that
/// what is stored keeps the limit the upload was held to: a new encoding can be larger than
/// the file sent (a JPEG saved at low quality, a PNG a browser compressed harder). Fast first;
/// then harder compression or lower quality; then smaller, [`SHRINK`] a side at a time.
/// Returns the image as encoded (its size may be smaller than the one sent) and its bytes.
fn within_limit(mut image: DynamicImage, as_jpeg: bool) -> Result<(DynamicImage, Vec<u8>), String> {
    let fits = |bytes: &Vec<u8>| bytes.len() <= MAX_SCREENSHOT_BYTES;
    loop {
        if as_jpeg {
            for quality in JPEG_QUALITIES {
                let bytes = jpeg(&image, quality)?;
                if fits(&bytes) {
                    return Ok((image, bytes));
                }
            }
        } else {
            for compression in [CompressionType::Fast, CompressionType::Best] {
                let bytes = png(&image, compression)?;
                if fits(&bytes) {
                    return Ok((image, bytes));
                }
            }
        }
        let side = |length: u32| ((f64::from(length) * SHRINK) as u32).max(1);
        if image.width() == 1 && image.height() == 1 {
            return Err("it cannot be stored within the size limit".into());
        }
        image = image.resize_exact(
            side(image.width()),
            side(image.height()),
            image::imageops::FilterType::Triangle,
        );
    }
}

fn jpeg(image: &DynamicImage, quality: u8) -> Result<Vec<u8>, String> {
    let mut out = Vec::new();
    image::codecs::jpeg::JpegEncoder::new_with_quality(&mut out, quality)
        .encode_image(&DynamicImage::ImageRgb8(image.to_rgb8()))
        .map_err(|err| format!("encoding: {err}"))?;
    Ok(out)
}

fn png(image: &DynamicImage, compression: CompressionType) -> Result<Vec<u8>, String> {
    // 8 bits a channel, with alpha only if the image has any.
    let image = if image.color().has_alpha() {
        DynamicImage::ImageRgba8(image.to_rgba8())
    } else {
        DynamicImage::ImageRgb8(image.to_rgb8())
    };
    let mut out = Vec::new();
    image
        .write_with_encoder(PngEncoder::new_with_quality(
            &mut out,
            compression,
            PngFilter::Adaptive,
        ))
        .map_err(|err| format!("encoding: {err}"))?;
    Ok(out)
}

/// `PUT /v1/feedback/{id}/screenshot`: the screenshot of a stored submission.
#[utoipa::path(put, path = "/v1/feedback/{id}/screenshot", tag = "ingest",
    params(
        ("id" = String, Path, description = "The submission's id, as it was sent"),
        ("Origin" = String, Header, description = "One of the site's allowed origins"),
    ),
    request_body(description = "One PNG, JPEG or WebP image, at most 2 MB and 16 megapixels", content(
        (Vec<u8> = "image/png"), (Vec<u8> = "image/jpeg"), (Vec<u8> = "image/webp"),
    )),
    responses(
        (status = 201, description = "Stored", body = FeedbackAccepted),
        (status = 200, description = "The submission has its screenshot already; nothing changed", body = FeedbackAccepted),
        (status = 403, description = "origin-not-allowed, or screenshots-off: the site does not accept screenshots", body = earshot_shared::ApiError),
        (status = 404, description = "unknown-submission: send the submission first", body = earshot_shared::ApiError),
        (status = 413, description = "payload-too-large: over 2 MB", body = earshot_shared::ApiError),
        (status = 415, description = "unsupported-media-type: not image/png, image/jpeg or image/webp", body = earshot_shared::ApiError),
        (status = 422, description = "invalid-image: not one whole image of its type, or over 16 megapixels", body = earshot_shared::ApiError),
        (status = 429, description = "rate-limited: too many uploads at once, or this visitor's allowance of decodes is spent; try again after Retry-After seconds", body = earshot_shared::ApiError),
        (status = 500, description = "internal; nothing stored", body = earshot_shared::ApiError),
    ))]
pub async fn upload(
    request: HttpRequest,
    state: web::Data<AppState>,
    id: web::Path<String>,
    payload: web::Payload,
) -> HttpResponse {
    let origin = request.headers().get(header::ORIGIN).cloned();
    let mut response = match accept(&request, &state, &id, payload, origin.as_ref()).await {
        Ok(status) => HttpResponse::build(status).json(FeedbackAccepted {
            id: id.parse().unwrap_or_default(),
        }),
        Err(err) => {
            tracing::debug!(code = err.code().as_str(), "screenshot refused");
            err.error_response()
        }
    };
    if let Some(origin) = &origin {
        allow_origin(&mut response, origin);
    }
    response
}

async fn accept(
    request: &HttpRequest,
    state: &AppState,
    id: &str,
    payload: web::Payload,
    origin: Option<&HeaderValue>,
) -> Result<StatusCode, AppError> {
    let format = declared_format(request)?;
    let origin = origin.and_then(|value| value.to_str().ok()).unwrap_or("");
    if origin.is_empty() {
        return Err(AppError::OriginNotAllowed(
            "a request without an Origin header".to_owned(),
        ));
    }
    if crate::ingest::several_origins(request) {
        return Err(AppError::OriginNotAllowed(
            crate::ingest::SEVERAL_ORIGINS.to_owned(),
        ));
    }
    let key = id.to_owned();
    let (row, size) = state
        .store
        .read_async(move |db| Ok((db.feedback_by_id(&key)?, db.screenshot_size(&key)?)))
        .await?;
    let row = row.ok_or_else(|| AppError::UnknownSubmission(id.to_owned()))?;
    let site = state
        .sites
        .get(&state.store, &row.site)
        .await?
        .ok_or_else(|| AppError::UnknownSite(row.site.clone()))?;
    if !origin_allowed(request, &site.origins, origin, &row.page_url) {
        return Err(AppError::OriginNotAllowed(origin.to_owned()));
    }
    if !site.widget.screenshots {
        return Err(AppError::ScreenshotsOff(row.site.clone()));
    }
    if size.is_some() {
        return Ok(StatusCode::OK);
    }
    // Bodies in memory are bounded: a crowd of uploads (say, one id sent a thousand times at
    // once) waits outside, not in the heap.
    let _upload = UPLOADS
        .try_acquire()
        .map_err(|_| AppError::RateLimited(Duration::from_secs(1)))?;
    let body = read_limited(request, payload, MAX_SCREENSHOT_BYTES, || {
        AppError::ScreenshotTooLarge
    })
    .await?;
    // Spam gets the answer anything else would (a bot learns nothing), and nothing is kept.
    if row.spam {
        return Ok(StatusCode::CREATED);
    }
    // Decoding is the costly part: each decode counts against the visitor's allowance for
    // refused requests (30 a minute), so that nobody keeps the decoders busy with images
    // that fail at their last byte. A visitor's own screenshots, one per submission, stay
    // well within it.
    let visitor = visitor_of(state, request, site.key.as_str());
    state
        .rate_limits
        .check_refusal(&visitor)
        .map_err(AppError::RateLimited)?;
    let encoded = {
        // The semaphore is never closed, so a slot always comes.
        let _slot = DECODERS.acquire().await.ok();
        web::block(move || reencode(&body, format))
            .await
            .map_err(|_| AppError::Storage(StoreError::Unavailable("shutting down".into())))?
            .map_err(AppError::InvalidImage)?
    };
    let screenshot = Screenshot {
        feedback_id: id.to_owned(),
        content_type: encoded.content_type.to_owned(),
        width: encoded.width,
        height: encoded.height,
        image: encoded.image,
        thumbnail: encoded.thumbnail,
        created_at: now_millis(),
    };
    let added = state
        .store
        .read_async(move |db| db.add_screenshot(&screenshot))
        .await?;
    Ok(if added {
        StatusCode::CREATED
    } else {
        StatusCode::OK
    })
}

/// CORS preflight for the upload: an image is not a body a page may send without asking.
#[utoipa::path(options, path = "/v1/feedback/{id}/screenshot", tag = "ingest",
    params(("id" = String, Path, description = "The submission's id")),
    responses((status = 204, description = "PUT with content-type is allowed")))]
pub async fn preflight(request: HttpRequest) -> HttpResponse {
    let mut response = HttpResponse::NoContent()
        .insert_header((header::ACCESS_CONTROL_ALLOW_METHODS, "PUT"))
        .insert_header((header::ACCESS_CONTROL_ALLOW_HEADERS, "content-type"))
        .insert_header((header::ACCESS_CONTROL_MAX_AGE, "86400"))
        .finish();
    if let Some(origin) = request.headers().get(header::ORIGIN) {
        allow_origin(&mut response, origin);
    }
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The widget's editor (`www/earshot-shot.js`) scales and re-encodes a picture to fit
    /// before sending it: by the limits this collector applies, not by older ones.
    #[test]
    fn the_editor_sends_within_the_collectors_limits() {
        use earshot_shared::limits::{
            MAX_SCREENSHOT_BYTES, MAX_SCREENSHOT_PIXELS, SCREENSHOT_TYPES,
        };
        let editor = include_str!("../../www/earshot-shot.js");
        for line in [
            format!("const MAX_BYTES = {MAX_SCREENSHOT_BYTES};"),
            format!("const MAX_PIXELS = {MAX_SCREENSHOT_PIXELS};"),
            format!(
                "const TYPES = {};",
                serde_json::to_string(&SCREENSHOT_TYPES).unwrap()
            )
            .replace(",", ", "),
        ] {
            assert!(editor.contains(&line), "www/earshot-shot.js lacks {line}");
        }
    }

    fn png_bytes(width: u32, height: u32) -> Vec<u8> {
        let image = DynamicImage::ImageRgb8(image::RgbImage::from_pixel(
            width,
            height,
            image::Rgb([200, 40, 40]),
        ));
        let mut out = Vec::new();
        image
            .write_to(&mut Cursor::new(&mut out), ImageFormat::Png)
            .unwrap();
        out
    }

    #[test]
    fn a_png_is_encoded_anew_with_a_thumbnail() {
        let encoded = reencode(&png_bytes(1280, 640), ImageFormat::Png).unwrap();
        assert_eq!(encoded.content_type, "image/png");
        assert_eq!((encoded.width, encoded.height), (1280, 640));
        let thumbnail = image::load_from_memory(&encoded.thumbnail).unwrap();
        assert_eq!((thumbnail.width(), thumbnail.height()), (320, 160));
    }

    /// Noise, which no PNG compression shrinks: larger than the limit however it is
    /// encoded, so it is made smaller until it fits rather than stored over the limit.
    #[test]
    fn what_no_encoding_fits_is_made_smaller_until_it_does() {
        let mut seed: u32 = 0x2545_f491;
        let mut noise = move || {
            seed ^= seed << 13;
            seed ^= seed >> 17;
            seed ^= seed << 5;
            seed as u8
        };
        let image = DynamicImage::ImageRgb8(image::RgbImage::from_fn(1000, 800, |_, _| {
            image::Rgb([noise(), noise(), noise()])
        }));
        assert!(png(&image, CompressionType::Best).unwrap().len() > MAX_SCREENSHOT_BYTES);
        let (smaller, bytes) = within_limit(image, false).unwrap();
        assert!(bytes.len() <= MAX_SCREENSHOT_BYTES, "{} B", bytes.len());
        assert_eq!((smaller.width(), smaller.height()), (800, 640));
        let stored = image::load_from_memory(&bytes).unwrap();
        assert_eq!((stored.width(), stored.height()), (800, 640));
    }

    #[test]
    fn what_is_not_one_whole_image_of_its_type_is_refused() {
        let png = png_bytes(10, 10);
        assert!(
            reencode(&png, ImageFormat::Jpeg).is_err(),
            "a PNG sent as JPEG"
        );
        assert!(
            reencode(&png[..png.len() - 20], ImageFormat::Png).is_err(),
            "cut short"
        );
        let mut appended = png.clone();
        appended.extend_from_slice(b"<script>alert(1)</script>");
        assert!(
            reencode(&appended, ImageFormat::Png).is_err(),
            "a script after it"
        );
        let svg = br#"<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>"#;
        assert!(reencode(svg, ImageFormat::Png).is_err(), "SVG");
        assert!(reencode(b"", ImageFormat::WebP).is_err(), "nothing");
    }
}
