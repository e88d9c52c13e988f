//! Feedback as CSV, the same bytes whether asked for over HTTP or with `earshot export`.
//!
//! Rows are read and written one at a time, so an export of any size runs in constant memory;
//! over HTTP the bytes go out in chunks as they are produced.

use std::io::{self, Write};

use actix_web::http::header;
use actix_web::web::{self, Bytes};
use actix_web::{HttpRequest, HttpResponse};
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;
use tokio::sync::mpsc;

use crate::app::AppState;
use crate::auth::authorize_site;
use crate::error::AppError;
use crate::store::{self, FeedbackRow, StoreError};

/// The header row, in order. Documented in the README; add columns only at the end.
pub const CSV_COLUMNS: [&str; 13] = [
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
];

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

fn timestamp(millis: i64) -> String {
    OffsetDateTime::from_unix_timestamp_nanos(i128::from(millis) * 1_000_000)
        .ok()
        .and_then(|at| at.format(&Rfc3339).ok())
        .unwrap_or_default()
}

/// Writes the header row and every submission of `site_key` to `out`; returns the row count.
pub fn write_csv(
    conn: &rusqlite::Connection,
    site_key: &str,
    out: impl Write,
) -> Result<u64, StoreError> {
    let mut csv = csv::Writer::from_writer(out);
    let io_error =
        |err: csv::Error| StoreError::BatchFailed(format!("writing the export failed: {err}"));
    csv.write_record(CSV_COLUMNS).map_err(io_error)?;
    let rows = store::for_each_feedback(conn, site_key, |row: FeedbackRow| {
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
            &row.status,
        ])
        .map_err(io_error)
    })?;
    csv.flush().map_err(|err| io_error(err.into()))?;
    Ok(rows)
}

/// A `Write` that hands full chunks to an HTTP response body, waiting when the client is slow.
struct ChunkSender {
    buffer: Vec<u8>,
    chunks: mpsc::Sender<Result<Bytes, io::Error>>,
}

impl ChunkSender {
    fn send(&mut self) -> io::Result<()> {
        if self.buffer.is_empty() {
            return Ok(());
        }
        let chunk = Bytes::from(std::mem::replace(
            &mut self.buffer,
            Vec::with_capacity(CHUNK_BYTES),
        ));
        self.chunks
            .blocking_send(Ok(chunk))
            .map_err(|_| io::Error::new(io::ErrorKind::BrokenPipe, "the client went away"))
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

/// `GET /v1/sites/{site}/feedback.csv`: every submission of the site, streamed.
pub async fn export_csv(
    request: HttpRequest,
    state: web::Data<AppState>,
    site: web::Path<String>,
) -> Result<HttpResponse, AppError> {
    let site_key = site.into_inner();
    authorize_site(&request, &state.store, &site_key).await?;

    let (chunks, body) = mpsc::channel(CHUNKS_AHEAD);
    let store = state.store.clone();
    let key = site_key.clone();
    actix_web::rt::task::spawn_blocking(move || {
        let mut sender = ChunkSender {
            buffer: Vec::with_capacity(CHUNK_BYTES),
            chunks: chunks.clone(),
        };
        let result = store.read(|conn| write_csv(conn, &key, &mut sender));
        match result {
            Ok(rows) => tracing::info!(site = %key, rows, "exported"),
            Err(err) => {
                tracing::error!(site = %key, error = %err, "export failed part way");
                // Breaking the stream makes the client see a failed download, not a short file.
                let _ = chunks.blocking_send(Err(io::Error::other(err.to_string())));
            }
        }
    });

    let stream = futures_util::stream::unfold(body, |mut body| async move {
        body.recv().await.map(|chunk| (chunk, body))
    });
    let filename = format!("earshot-{site_key}.csv");
    Ok(HttpResponse::Ok()
        .content_type("text/csv; charset=utf-8")
        .insert_header((
            header::CONTENT_DISPOSITION,
            format!("attachment; filename=\"{filename}\""),
        ))
        .insert_header((header::CACHE_CONTROL, "no-store"))
        .streaming(stream))
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
    fn timestamps_are_rfc3339_utc() {
        assert_eq!(timestamp(0), "1970-01-01T00:00:00Z");
        assert_eq!(timestamp(1_764_000_000_123), "2025-11-24T16:00:00.123Z");
    }
}
