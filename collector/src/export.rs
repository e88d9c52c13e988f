//! Feedback as CSV, the same bytes whether asked for over HTTP or with `earshot export`.
//!
//! Rows are read and written one at a time, so an export of any size runs in constant memory;
//! over HTTP the bytes go out in chunks as they are produced.

use std::io::{self, Write};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use actix_web::http::header;
use actix_web::web::{self, Bytes};
use actix_web::{HttpRequest, HttpResponse};
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;
use tokio::sync::mpsc;

use crate::auth::authorize_site;
use crate::error::AppError;
use crate::state::AppState;
#[allow(unused_imports)] // named in the OpenAPI annotations only
use earshot_shared::ApiError;
pub use earshot_store::timestamp;
use earshot_store::{
    Database, FeedbackFilter, FeedbackRow, FeedbackStatus, Page, SpamFilter, StoreError,
};

/// The header row, in order. Documented in the README; add columns only at the end.
pub const CSV_COLUMNS: [&str; 18] = [
    "id",
    "received_at",
    "site",
    "rating_kind",
    "rating",
    "comment",
    "email",
    "page_url",
    "locale",
    "user_agent",
    "viewport_width",
    "viewport_height",
    "status",
    "spam",
    "user_id",
    "metadata",
    "referrer",
    "screenshot",
];

/// The collector's address as the client reached it (`https://feedback.example`), for the
/// links an export or a page carries.
pub fn collector_address(request: &HttpRequest) -> String {
    let info = request.connection_info();
    format!("{}://{}", info.scheme(), info.host())
}

/// Where an owner sees a submission's screenshot, on the collector at `address`.
pub fn screenshot_link(address: &str, id: &str) -> String {
    format!(
        "{}/admin/feedback/{id}/screenshot",
        address.trim_end_matches('/')
    )
}

/// Bytes gathered before a chunk is sent to the client.
const CHUNK_BYTES: usize = 64 * 1024;
/// Chunks produced ahead of a slow client before the export waits for it.
const CHUNKS_AHEAD: usize = 4;

/// Makes visitor text safe to open in a spreadsheet: a cell that starts with `=`, `+`, `-`,
/// `@`, a tab or a carriage return would be run as a formula, so it gets a leading `'`
/// (OWASP's rule for CSV injection). Everything else is left exactly as the visitor wrote it.
pub fn neutralize_formula(cell: &str) -> std::borrow::Cow<'_, str> {
    if cell.starts_with(['=', '+', '-', '@', '\t', '\r']) {
        format!("'{cell}").into()
    } else {
        cell.into()
    }
}

/// Parses a time bound as an owner writes it: RFC 3339 (`2026-11-01T08:00:00Z`) or a UTC day
/// (`2026-11-01`, meaning its midnight). Returns Unix milliseconds.
pub fn parse_time(text: &str) -> Result<i64, String> {
    let full = if text.len() == 10 {
        format!("{text}T00:00:00Z")
    } else {
        text.to_owned()
    };
    OffsetDateTime::parse(&full, &Rfc3339)
        .map(|at| (at.unix_timestamp_nanos() / 1_000_000) as i64)
        .map_err(|_| {
            format!(
                "{text:?} is not a date (2026-11-01) or an RFC 3339 time (2026-11-01T08:00:00Z)"
            )
        })
}

/// The export formats.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Format {
    /// CSV with a header row, for spreadsheets.
    Csv,
    /// One JSON object per line, for programs.
    Jsonl,
}

impl Format {
    pub fn content_type(self) -> &'static str {
        match self {
            Self::Csv => "text/csv; charset=utf-8",
            Self::Jsonl => "application/jsonl; charset=utf-8",
        }
    }

    pub fn extension(self) -> &'static str {
        match self {
            Self::Csv => "csv",
            Self::Jsonl => "jsonl",
        }
    }
}

/// One submission as a JSON Lines record: the CSV's columns, with JSON types.
#[derive(serde::Serialize)]
struct JsonRecord<'a> {
    id: &'a str,
    received_at: String,
    site: &'a str,
    rating_kind: &'a str,
    rating: u8,
    comment: &'a str,
    email: Option<&'a str>,
    page_url: &'a str,
    locale: &'a str,
    user_agent: &'a str,
    viewport_width: u32,
    viewport_height: u32,
    status: &'a str,
    spam: bool,
    user_id: Option<&'a str>,
    metadata: &'a std::collections::BTreeMap<String, String>,
    referrer: Option<&'a str>,
    /// The dashboard's address of the visitor's screenshot, if they attached one.
    screenshot: Option<String>,
}

/// Metadata in a CSV cell: a JSON object (`{"plan":"pro"}`), or empty when there is none.
fn metadata_cell(metadata: &std::collections::BTreeMap<String, String>) -> String {
    if metadata.is_empty() {
        String::new()
    } else {
        serde_json::to_string(metadata).unwrap_or_default()
    }
}

fn export_error(err: impl std::fmt::Display) -> StoreError {
    StoreError::Export(err.to_string())
}

/// Writes every submission of `site_key` that matches `filter` to `out`, calling `progress`
/// after each row; returns the row count. `address` is the collector's, for the links to
/// screenshots.
pub fn write_export(
    conn: &mut dyn Database,
    site_key: &str,
    filter: &FeedbackFilter,
    format: Format,
    address: &str,
    out: impl Write,
    progress: impl FnMut(),
) -> Result<u64, StoreError> {
    write_export_in(
        conn,
        &[site_key.to_owned()],
        filter,
        format,
        address,
        out,
        progress,
    )
}

/// [`write_export`] over several sites (the dashboard's view of every site an owner may see).
pub fn write_export_in(
    conn: &mut dyn Database,
    sites: &[String],
    filter: &FeedbackFilter,
    format: Format,
    address: &str,
    out: impl Write,
    mut progress: impl FnMut(),
) -> Result<u64, StoreError> {
    let screenshot = |row: &FeedbackRow| {
        row.has_screenshot
            .then(|| screenshot_link(address, &row.id))
    };
    match format {
        Format::Csv => {
            let mut csv = csv::Writer::from_writer(out);
            csv.write_record(CSV_COLUMNS).map_err(export_error)?;
            let rows =
                conn.for_each_feedback_in(sites, filter, Page::All, &mut |row: FeedbackRow| {
                    csv.write_record([
                        row.id.as_str(),
                        &timestamp(row.received_at),
                        &row.site,
                        row.rating.kind.as_str(),
                        &row.rating.value.to_string(),
                        &neutralize_formula(&row.comment),
                        &neutralize_formula(row.email.as_deref().unwrap_or("")),
                        &neutralize_formula(&row.page_url),
                        &neutralize_formula(&row.locale),
                        &neutralize_formula(&row.user_agent),
                        &row.viewport_width.to_string(),
                        &row.viewport_height.to_string(),
                        row.status.as_str(),
                        if row.spam { "true" } else { "false" },
                        &neutralize_formula(row.user_id.as_deref().unwrap_or("")),
                        &metadata_cell(&row.metadata),
                        &neutralize_formula(row.referrer.as_deref().unwrap_or("")),
                        &screenshot(&row).unwrap_or_default(),
                    ])
                    .map_err(export_error)?;
                    progress();
                    Ok(())
                })?;
            csv.flush().map_err(export_error)?;
            Ok(rows)
        }
        Format::Jsonl => {
            let mut out = io::BufWriter::new(out);
            let rows =
                conn.for_each_feedback_in(sites, filter, Page::All, &mut |row: FeedbackRow| {
                    let record = JsonRecord {
                        id: &row.id,
                        received_at: timestamp(row.received_at),
                        site: &row.site,
                        rating_kind: row.rating.kind.as_str(),
                        rating: row.rating.value,
                        comment: &row.comment,
                        email: row.email.as_deref(),
                        page_url: &row.page_url,
                        locale: &row.locale,
                        user_agent: &row.user_agent,
                        viewport_width: row.viewport_width,
                        viewport_height: row.viewport_height,
                        status: row.status.as_str(),
                        spam: row.spam,
                        user_id: row.user_id.as_deref(),
                        metadata: &row.metadata,
                        referrer: row.referrer.as_deref(),
                        screenshot: screenshot(&row),
                    };
                    serde_json::to_writer(&mut out, &record).map_err(export_error)?;
                    out.write_all(b"\n").map_err(export_error)?;
                    progress();
                    Ok(())
                })?;
            out.flush().map_err(export_error)?;
            Ok(rows)
        }
    }
}

/// The query string of the export routes.
#[derive(Debug, Default, serde::Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct ExportQuery {
    /// Received at or after: a day (`2026-11-01`) or an RFC 3339 time.
    pub from: Option<String>,
    /// Received before: a day or an RFC 3339 time.
    pub to: Option<String>,
    pub min_rating: Option<u8>,
    pub max_rating: Option<u8>,
    /// `new`, `in-progress` or `resolved`.
    pub status: Option<String>,
    /// `exclude` (default), `include` or `only`.
    #[serde(default)]
    pub spam: SpamFilter,
    /// Words the comment, page URL, email or note contains.
    pub q: Option<String>,
    /// `true`: only submissions with an email address; `false`: only those without.
    pub has_email: Option<bool>,
}

/// The highest rating any scale has (NPS: 10), and so the highest `min_rating` or
/// `max_rating` an export accepts.
pub const MAX_RATING_FILTER: u8 = 10;

/// The statuses a submission can have, as queries and exports name them.
pub const STATUSES: [&str; 3] = FeedbackStatus::NAMES;

impl ExportQuery {
    pub fn into_filter(self) -> Result<FeedbackFilter, String> {
        let status = match self.status.as_deref() {
            None => None,
            Some(text) => Some(
                FeedbackStatus::parse(text)
                    .ok_or_else(|| format!("status is one of {}", STATUSES.join(", ")))?,
            ),
        };
        for (name, rating) in [
            ("min_rating", self.min_rating),
            ("max_rating", self.max_rating),
        ] {
            if rating.is_some_and(|rating| rating > MAX_RATING_FILTER) {
                return Err(format!("{name} is between 0 and {MAX_RATING_FILTER}"));
            }
        }
        if self.q.as_deref().is_some_and(|q| q.contains('\0')) {
            return Err("q holds a NUL character".to_owned());
        }
        Ok(FeedbackFilter {
            from: self.from.as_deref().map(parse_time).transpose()?,
            to: self.to.as_deref().map(parse_time).transpose()?,
            min_rating: self.min_rating,
            max_rating: self.max_rating,
            status,
            spam: self.spam,
            text: self.q.filter(|q| !q.trim().is_empty()),
            has_email: self.has_email,
            awaiting: None,
        })
    }
}

/// A `Write` that hands full chunks to an HTTP response body, waiting when the client is slow,
/// but no longer than `idle`: a client that has stopped reading loses its download and frees
/// the export slot (and, on SQLite, no snapshot is pinned meanwhile: see `store::sqlite`).
struct ChunkSender {
    buffer: Vec<u8>,
    chunks: mpsc::Sender<Result<Bytes, io::Error>>,
    idle: std::time::Duration,
}

impl ChunkSender {
    fn send(&mut self) -> io::Result<()> {
        if self.buffer.is_empty() {
            return Ok(());
        }
        let mut chunk = Ok(Bytes::from(std::mem::replace(
            &mut self.buffer,
            Vec::with_capacity(CHUNK_BYTES),
        )));
        let started = std::time::Instant::now();
        let mut pause = std::time::Duration::from_millis(1);
        loop {
            match self.chunks.try_send(chunk) {
                Ok(()) => return Ok(()),
                Err(mpsc::error::TrySendError::Closed(_)) => {
                    return Err(io::Error::new(
                        io::ErrorKind::BrokenPipe,
                        "the client went away",
                    ));
                }
                Err(mpsc::error::TrySendError::Full(back)) => {
                    if started.elapsed() >= self.idle {
                        return Err(io::Error::new(
                            io::ErrorKind::TimedOut,
                            "the client stopped reading the export",
                        ));
                    }
                    chunk = back;
                    std::thread::sleep(pause);
                    pause = (pause * 2).min(std::time::Duration::from_millis(50));
                }
            }
        }
    }
}

impl Write for ChunkSender {
    fn write(&mut self, bytes: &[u8]) -> io::Result<usize> {
        self.buffer.extend_from_slice(bytes);
        if self.buffer.len() >= CHUNK_BYTES {
            self.send()?;
        }
        Ok(bytes.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        self.send()
    }
}

/// `GET /v1/sites/{site}/feedback.csv` and `.jsonl`: the site's feedback, filtered by the
/// query string, streamed.
pub async fn export_feedback(
    request: HttpRequest,
    state: web::Data<AppState>,
    site: web::Path<String>,
    format: Format,
) -> Result<HttpResponse, AppError> {
    let site_key = site.into_inner();
    authorize_site(&request, &state.store, &site_key).await?;
    let filter = web::Query::<ExportQuery>::from_query(request.query_string())
        .map_err(|err| AppError::InvalidQuery(err.to_string()))?
        .into_inner()
        .into_filter()
        .map_err(AppError::InvalidQuery)?;

    let filename = format!("earshot-{site_key}.{}", format.extension());
    Ok(stream_export(
        state.store.clone(),
        vec![site_key],
        filter,
        format,
        collector_address(&request),
        &filename,
        state.timeouts.export_idle,
    ))
}

/// The export of `sites` under `filter` as a streamed download named `filename`: written on
/// a blocking thread, sent in chunks as they fill. Used by the export API and the dashboard.
pub fn stream_export(
    store: earshot_store::Store,
    sites: Vec<String>,
    filter: FeedbackFilter,
    format: Format,
    address: String,
    filename: &str,
    idle: std::time::Duration,
) -> HttpResponse {
    let (chunks, body) = mpsc::channel(CHUNKS_AHEAD);
    // Set when the export fails part way: the body then ends with an error, so the client
    // sees a failed download rather than a short file that looks complete.
    let failed = Arc::new(AtomicBool::new(false));
    let failure = failed.clone();
    actix_web::rt::task::spawn_blocking(move || {
        let mut sender = ChunkSender {
            buffer: Vec::with_capacity(CHUNK_BYTES),
            chunks: chunks.clone(),
            idle,
        };
        let result = store.export_slot().and_then(|_slot| {
            store.read(|conn| {
                write_export_in(conn, &sites, &filter, format, &address, &mut sender, || ())
            })
        });
        let sites = sites.join(",");
        match result {
            Ok(rows) => tracing::info!(%sites, rows, "exported"),
            Err(err) => {
                tracing::warn!(%sites, error = %err, "export ended part way");
                failure.store(true, Ordering::Release);
            }
        }
    });

    let stream = futures_util::stream::unfold(Some(body), move |body| {
        let failed = failed.clone();
        async move {
            let mut body = body?;
            match body.recv().await {
                Some(chunk) => Some((chunk, Some(body))),
                None if failed.load(Ordering::Acquire) => {
                    Some((Err(io::Error::other("the export failed part way")), None))
                }
                None => None,
            }
        }
    });
    HttpResponse::Ok()
        .content_type(format.content_type())
        .insert_header((
            header::CONTENT_DISPOSITION,
            format!("attachment; filename=\"{filename}\""),
        ))
        .insert_header((header::CACHE_CONTROL, "no-store"))
        .streaming(stream)
}

/// Export a site's feedback as CSV (UTF-8, a header row, formulas neutralised), streamed.
#[utoipa::path(get, path = "/v1/sites/{site}/feedback.csv", tag = "export",
    params(("site" = String, Path, description = "The site key"), ExportQuery),
    security(("token" = [])),
    responses(
        (status = 200, description = "The CSV", content_type = "text/csv"),
        (status = 400, description = "invalid-query", body = ApiError),
        (status = 401, description = "unauthorized", body = ApiError),
        (status = 403, description = "forbidden: the token is for another site", body = ApiError),
        (status = 404, description = "unknown-site", body = ApiError),
    ))]
pub async fn export_csv(
    request: HttpRequest,
    state: web::Data<AppState>,
    site: web::Path<String>,
) -> Result<HttpResponse, AppError> {
    export_feedback(request, state, site, Format::Csv).await
}

/// Export a site's feedback as JSON Lines, one object per submission, streamed.
#[utoipa::path(get, path = "/v1/sites/{site}/feedback.jsonl", tag = "export",
    params(("site" = String, Path, description = "The site key"), ExportQuery),
    security(("token" = [])),
    responses(
        (status = 200, description = "One JSON object per line", content_type = "application/jsonl"),
        (status = 400, description = "invalid-query", body = ApiError),
        (status = 401, description = "unauthorized", body = ApiError),
        (status = 403, description = "forbidden: the token is for another site", body = ApiError),
        (status = 404, description = "unknown-site", body = ApiError),
    ))]
pub async fn export_jsonl(
    request: HttpRequest,
    state: web::Data<AppState>,
    site: web::Path<String>,
) -> Result<HttpResponse, AppError> {
    export_feedback(request, state, site, Format::Jsonl).await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formulas_are_neutralised_and_nothing_else_changes() {
        assert_eq!(neutralize_formula("=1+1"), "'=1+1");
        assert_eq!(neutralize_formula("+33 6 12"), "'+33 6 12");
        assert_eq!(neutralize_formula("-2"), "'-2");
        assert_eq!(neutralize_formula("@SUM(A1)"), "'@SUM(A1)");
        assert_eq!(neutralize_formula("\tx"), "'\tx");
        assert_eq!(neutralize_formula("\rx"), "'\rx");
        for kept in ["", "Great, \"really\"\nthanks", "a=b", "'quoted", "日本語"] {
            assert_eq!(neutralize_formula(kept), kept);
        }
    }

    #[test]
    fn time_bounds_are_days_or_rfc3339() {
        assert_eq!(parse_time("1970-01-02").unwrap(), 86_400_000);
        assert_eq!(
            parse_time("2025-11-24T16:00:00.123Z").unwrap(),
            1_764_000_000_123
        );
        assert_eq!(
            parse_time("2025-11-24T17:00:00+01:00").unwrap(),
            1_764_000_000_000
        );
        assert!(parse_time("yesterday").is_err());
    }

    #[test]
    fn timestamps_are_rfc3339_utc() {
        assert_eq!(timestamp(0), "1970-01-01T00:00:00Z");
        assert_eq!(timestamp(1_764_000_000_123), "2025-11-24T16:00:00.123Z");
    }
}
