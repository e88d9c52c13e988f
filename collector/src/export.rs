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

/// One column of the export (the same field in JSON Lines): its name, and what it holds as
/// the README's table says it (that table is made from these: see the test
/// `the_readme_lists_the_columns_from_the_code`).
pub struct Column {
    pub name: &'static str,
    pub content: &'static str,
}

/// The columns, in order; add columns only at the end.
pub const COLUMNS: [Column; 28] = [
    Column {
        name: "id",
        content: "the submission's UUID, made by the widget",
    },
    Column {
        name: "received_at",
        content: "when the collector stored it, RFC 3339 in UTC",
    },
    Column {
        name: "site",
        content: "the site key",
    },
    Column {
        name: "rating_kind",
        content: "`stars`, `thumbs`, `nps` or `emoji`",
    },
    Column {
        name: "rating",
        content: "the value: 1–5 for stars and emoji, 0 (no) or 1 (yes) for thumbs, 0–10 for NPS",
    },
    Column {
        name: "comment",
        content: "the visitor's text, exactly as written (see below)",
    },
    Column {
        name: "email",
        content: "the address the visitor left for a reply, or empty",
    },
    Column {
        name: "page_url",
        content: "the page the visitor was on when they pressed send",
    },
    Column {
        name: "locale",
        content: "the page's language (`<html lang>`), else the browser's",
    },
    Column {
        name: "user_agent",
        content: "the browser's user agent",
    },
    Column {
        name: "viewport_width",
        content: "the browser window's width, in CSS pixels",
    },
    Column {
        name: "viewport_height",
        content: "the browser window's height, in CSS pixels",
    },
    Column {
        name: "status",
        content: "`new`, `in-progress` or `resolved`",
    },
    Column {
        name: "spam",
        content: "`true` when the submission was flagged as spam (only in exports that ask for spam)",
    },
    Column {
        name: "user_id",
        content: "the id the page gave with `earshot.setUser`, or empty",
    },
    Column {
        name: "metadata",
        content: "what the page gave with `earshot.setMetadata`, as a JSON object (`{\"plan\":\"pro\"}`), or empty",
    },
    Column {
        name: "referrer",
        content: "the page that led the visitor to the site (`document.referrer`, which browsers trim to the origin across sites), or empty; up to 2,048 characters, left out by the widget when longer",
    },
    Column {
        name: "screenshot",
        content: "the dashboard's address of the screenshot the visitor attached (`https://…/admin/feedback/{id}/screenshot`, for signed-in owners of the site), or empty",
    },
    Column {
        name: "conversation",
        content: "who it waits on: `waiting-on-us` (an answer is owed), `waiting-on-visitor` (an owner answered last), `closed` (resolved, spam, or no address) or `unsubscribed` (the visitor stopped all email: nobody could answer)",
    },
    Column {
        name: "answer_by",
        content: "the deadline of the latest wait on us (from arrival, or from the visitor's latest answer after a reply), RFC 3339, or empty when nothing was ever owed",
    },
    Column {
        name: "first_response_at",
        content: "when the status first changed or the first reply was sent, RFC 3339, or empty",
    },
    Column {
        name: "first_answer_at",
        content: "when an owner first replied to the visitor, RFC 3339, or empty",
    },
    Column {
        name: "answered_on_time",
        content: "for the latest wait: `true` when answered by `answer_by`, `false` when answered later or still unanswered past it, empty when not due yet or nothing is owed",
    },
    Column {
        name: "replies",
        content: "how many replies the owners sent",
    },
    Column {
        name: "visitor_answers",
        content: "how many answers the visitor wrote back (on their conversation page)",
    },
    Column {
        name: "last_message_at",
        content: "when the latest reply or answer was written, RFC 3339, or empty",
    },
    Column {
        name: "unsubscribed",
        content: "`true` when the visitor stopped all email from the site (and did not keep this conversation's replies)",
    },
    Column {
        name: "note",
        content: "the owners' internal note (formula-safe like the visitor's text)",
    },
];

/// The header row: the columns' names, in order.
pub const CSV_COLUMNS: [&str; COLUMNS.len()] = {
    let mut names = [""; COLUMNS.len()];
    let mut i = 0;
    while i < COLUMNS.len() {
        names[i] = COLUMNS[i].name;
        i += 1;
    }
    names
};

/// The columns as the README's Markdown table.
pub fn columns_table() -> String {
    let mut table = String::from("| column | content |\n|---|---|\n");
    for column in &COLUMNS {
        table.push_str(&format!("| `{}` | {} |\n", column.name, column.content));
    }
    table
}

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
    conversation: &'static str,
    answer_by: Option<String>,
    first_response_at: Option<String>,
    first_answer_at: Option<String>,
    answered_on_time: Option<bool>,
    replies: u32,
    visitor_answers: u32,
    last_message_at: Option<String>,
    unsubscribed: bool,
    note: &'a str,
    /// The whole conversation, oldest first, when asked for (`thread=include`).
    #[serde(skip_serializing_if = "Option::is_none")]
    thread: Option<Vec<ThreadRecord>>,
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
    shape: impl Into<Shape>,
    address: &str,
    out: impl Write,
    progress: impl FnMut(),
) -> Result<u64, StoreError> {
    write_export_in(
        conn,
        &[site_key.to_owned()],
        filter,
        shape,
        address,
        out,
        progress,
    )
}

/// What an export writes: its format, and (JSON Lines) whether each record carries its
/// thread.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Shape {
    pub format: Format,
    pub threads: bool,
}

impl From<Format> for Shape {
    fn from(format: Format) -> Self {
        Self {
            format,
            threads: false,
        }
    }
}

/// One message of a thread as stored in [`FeedbackRow::thread_json`].
#[derive(serde::Deserialize)]
struct StoredMessage {
    author: String,
    author_email: Option<String>,
    body: String,
    at: i64,
}

/// One message of a thread in a JSON Lines record.
#[derive(serde::Serialize)]
struct ThreadRecord {
    /// `owner` or `visitor`.
    author: String,
    /// The owner who wrote a reply.
    author_email: Option<String>,
    body: String,
    at: String,
}

fn thread_records(json: Option<&str>) -> Option<Vec<ThreadRecord>> {
    let stored: Vec<StoredMessage> = serde_json::from_str(json?).unwrap_or_default();
    Some(
        stored
            .into_iter()
            .map(|message| ThreadRecord {
                author: message.author,
                author_email: message.author_email,
                body: message.body,
                at: timestamp(message.at),
            })
            .collect(),
    )
}

/// [`write_export`] over several sites (the dashboard's view of every site an owner may see).
pub fn write_export_in(
    conn: &mut dyn Database,
    sites: &[String],
    filter: &FeedbackFilter,
    shape: impl Into<Shape>,
    address: &str,
    out: impl Write,
    mut progress: impl FnMut(),
) -> Result<u64, StoreError> {
    let shape = shape.into();
    let screenshot = |row: &FeedbackRow| {
        row.has_screenshot
            .then(|| screenshot_link(address, &row.id))
    };
    let now = earshot_store::now_millis();
    let time = |at: Option<i64>| at.map(timestamp);
    match shape.format {
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
                        row.waiting().as_str(),
                        &time(row.answer_by).unwrap_or_default(),
                        &time(row.first_response_at).unwrap_or_default(),
                        &time(row.first_answer_at).unwrap_or_default(),
                        match row.answered_on_time(now) {
                            Some(true) => "true",
                            Some(false) => "false",
                            None => "",
                        },
                        &row.replies.to_string(),
                        &row.visitor_answers.to_string(),
                        &time(row.latest.as_ref().map(|latest| latest.at)).unwrap_or_default(),
                        if row.unsubscribed_at.is_some() {
                            "true"
                        } else {
                            "false"
                        },
                        &neutralize_formula(&row.note),
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
            let mut each = |row: FeedbackRow| {
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
                    conversation: row.waiting().as_str(),
                    answer_by: time(row.answer_by),
                    first_response_at: time(row.first_response_at),
                    first_answer_at: time(row.first_answer_at),
                    answered_on_time: row.answered_on_time(now),
                    replies: row.replies,
                    visitor_answers: row.visitor_answers,
                    last_message_at: time(row.latest.as_ref().map(|latest| latest.at)),
                    unsubscribed: row.unsubscribed_at.is_some(),
                    note: &row.note,
                    thread: thread_records(row.thread_json.as_deref()),
                };
                serde_json::to_writer(&mut out, &record).map_err(export_error)?;
                out.write_all(b"\n").map_err(export_error)?;
                progress();
                Ok(())
            };
            let rows = if shape.threads {
                conn.for_each_feedback_with_threads_in(sites, filter, &mut each)?
            } else {
                conn.for_each_feedback_in(sites, filter, Page::All, &mut each)?
            };
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
    /// `include`: each JSON Lines record carries its whole conversation (`thread`); `exclude`
    /// (default) leaves it out. A CSV has the conversation's counts only, either way.
    #[serde(default)]
    pub thread: ThreadOption,
}

/// Whether a JSON Lines export carries each submission's conversation.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum ThreadOption {
    /// Leave it out (the default).
    #[default]
    Exclude,
    /// Each record's `thread`: the replies and answers, oldest first.
    Include,
}

/// The highest rating any scale has (NPS: 10), and so the highest `min_rating` or
/// `max_rating` an export accepts.
pub const MAX_RATING_FILTER: u8 = 10;

/// The statuses a submission can have, as queries and exports name them.
pub const STATUSES: [&str; 3] = FeedbackStatus::NAMES;

impl ExportQuery {
    /// Whether the export carries each conversation's thread (JSON Lines only: a CSV has
    /// its counts).
    pub fn threads(&self, format: Format) -> bool {
        self.thread == ThreadOption::Include && format == Format::Jsonl
    }

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
    let query = web::Query::<ExportQuery>::from_query(request.query_string())
        .map_err(|err| AppError::InvalidQuery(err.to_string()))?
        .into_inner();
    let threads = query.threads(format);
    let filter = query.into_filter().map_err(AppError::InvalidQuery)?;

    let filename = format!("earshot-{site_key}.{}", format.extension());
    Ok(stream_export(
        state.store.clone(),
        vec![site_key],
        filter,
        Shape { format, threads },
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
    shape: Shape,
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
                write_export_in(conn, &sites, &filter, shape, &address, &mut sender, || ())
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
        .content_type(shape.format.content_type())
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

    /// The README's table of columns is the one made from [`COLUMNS`]; run with
    /// `EARSHOT_BLESS=1` to write it there after changing them.
    #[test]
    fn the_readme_lists_the_columns_from_the_code() {
        const START: &str = "<!-- export columns: made from collector/src/export.rs -->\n";
        const END: &str = "<!-- end of export columns -->";
        let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../README.md");
        let readme = std::fs::read_to_string(&path).unwrap();
        let start = readme
            .find(START)
            .expect("the README marks the table's start")
            + START.len();
        let end = start + readme[start..].find(END).expect("and its end");
        let table = columns_table();
        if std::env::var_os("EARSHOT_BLESS").is_some() {
            let written = format!("{}{table}{}", &readme[..start], &readme[end..]);
            std::fs::write(&path, written).unwrap();
            return;
        }
        assert_eq!(
            readme[start..end],
            table,
            "the README's table of export columns differs from the code: run this test with EARSHOT_BLESS=1"
        );
    }

    #[test]
    fn timestamps_are_rfc3339_utc() {
        assert_eq!(timestamp(0), "1970-01-01T00:00:00Z");
        assert_eq!(timestamp(1_764_000_000_123), "2025-11-24T16:00:00.123Z");
    }
}
