//! The baseline for `cargo xtask bench`: an actix-web endpoint that reads and decodes the
//! same body as `POST /v1/feedback`, validates it, and answers `201` without storing
//! anything. The gap between it and `earshot serve` is the cost of storage and the checks.
//!
//! `cargo run --release --example ingest_baseline -- 127.0.0.1:8090`

use actix_web::{App, HttpResponse, HttpServer, web};
use earshot_collector::ingest::parse_submission;
use earshot_shared::FeedbackAccepted;

async fn accept(body: web::Bytes) -> HttpResponse {
    match parse_submission(&body) {
        Ok(submission) if submission.validate().is_ok() => {
            HttpResponse::Created().json(FeedbackAccepted { id: submission.id })
        }
        _ => HttpResponse::BadRequest().finish(),
    }
}

fn main() -> std::io::Result<()> {
    let listen = std::env::args()
        .nth(1)
        .unwrap_or_else(|| "127.0.0.1:8090".into());
    actix_web::rt::System::new().block_on(
        HttpServer::new(|| {
            App::new()
                .app_data(web::PayloadConfig::new(
                    earshot_shared::limits::MAX_BODY_BYTES,
                ))
                .route("/v1/feedback", web::post().to(accept))
        })
        .bind(listen)?
        .run(),
    )
}
