//! Prometheus metrics at `GET /metrics`: what was accepted and refused, and how fast.

use std::sync::Arc;

use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::{Histogram, exponential_buckets};
use prometheus_client::registry::Registry;

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct OutcomeLabels {
    /// `stored`, `duplicate`, `spam`, or `rejected`.
    outcome: &'static str,
    /// The error code for `rejected`, else empty.
    code: &'static str,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct RequestLabels {
    /// One of [`METHOD_LABELS`] or `other`: a client may send any token as its method, and
    /// each label set is a series kept for good.
    method: &'static str,
    /// The route's pattern (`/v1/sites/{site}/feedback.csv`), never the raw path, so the
    /// number of series stays bounded.
    route: String,
    status: String,
}

type LatencyHistogram = Family<RequestLabels, Histogram, fn() -> Histogram>;

/// The collector's metrics. Cloning shares them.
#[derive(Clone)]
pub struct Metrics {
    registry: Arc<Registry>,
    submissions: Family<OutcomeLabels, Counter>,
    latency: LatencyHistogram,
    /// Sizes read when the metrics are asked for.
    database_bytes: Gauge,
    wal_bytes: Gauge,
    resident_memory_bytes: Gauge,
}

/// What happened to one `POST /v1/feedback`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    Stored,
    Duplicate,
    Spam,
    Rejected(earshot_shared::ErrorCode),
}

fn latency_histogram() -> Histogram {
    // 0.1 ms to about 3 s.
    Histogram::new(exponential_buckets(0.000_1, 2.0, 16))
}

impl Default for Metrics {
    fn default() -> Self {
        let mut registry = Registry::with_prefix("earshot");
        let submissions = Family::<OutcomeLabels, Counter>::default();
        registry.register(
            "submissions",
            "Feedback submissions by outcome (stored, duplicate, spam, rejected) and error code",
            submissions.clone(),
        );
        let latency: LatencyHistogram = Family::new_with_constructor(latency_histogram);
        registry.register(
            "http_request_duration_seconds",
            "Time from request to response headers, by method, route and status",
            latency.clone(),
        );
        let database_bytes = Gauge::default();
        registry.register(
            "sqlite_database_bytes",
            "Size of the SQLite database file (0 on PostgreSQL)",
            database_bytes.clone(),
        );
        let wal_bytes = Gauge::default();
        registry.register(
            "sqlite_wal_bytes",
            "Size of the SQLite write-ahead log file (0 on PostgreSQL); kept under 64 MiB",
            wal_bytes.clone(),
        );
        let resident_memory_bytes = Gauge::default();
        registry.register(
            "process_resident_memory_bytes",
            "Resident memory of the collector process",
            resident_memory_bytes.clone(),
        );
        Self {
            registry: Arc::new(registry),
            submissions,
            latency,
            database_bytes,
            wal_bytes,
            resident_memory_bytes,
        }
    }
}

impl Metrics {
    pub fn count_submission(&self, outcome: Outcome) {
        let labels = match outcome {
            Outcome::Stored => OutcomeLabels {
                outcome: "stored",
                code: "",
            },
            Outcome::Duplicate => OutcomeLabels {
                outcome: "duplicate",
                code: "",
            },
            Outcome::Spam => OutcomeLabels {
                outcome: "spam",
                code: "",
            },
            Outcome::Rejected(code) => OutcomeLabels {
                outcome: "rejected",
                code: code.as_str(),
            },
        };
        self.submissions.get_or_create(&labels).inc();
    }

    pub fn observe_request(&self, method: &str, route: &str, status: u16, seconds: f64) {
        let labels = RequestLabels {
            method: method_label(method),
            route: route.to_owned(),
            status: status.to_string(),
        };
        self.latency.get_or_create(&labels).observe(seconds);
    }

    /// Records the sizes of the database's files and of the process.
    pub fn observe_sizes(&self, location: &earshot_store::Location) {
        if let earshot_store::Location::Sqlite(path) = location {
            let size = std::fs::metadata(path).map(|meta| meta.len()).unwrap_or(0);
            self.database_bytes.set(size as i64);
            self.wal_bytes
                .set(earshot_store::sqlite::wal_bytes(path) as i64);
        }
        if let Some(rss) = resident_memory_bytes() {
            self.resident_memory_bytes.set(rss as i64);
        }
    }

    /// The metrics in Prometheus' text format.
    pub fn render(&self) -> String {
        let mut text = String::new();
        prometheus_client::encoding::text::encode(&mut text, &self.registry)
            .expect("writing to a String cannot fail");
        text
    }
}

/// The methods the metrics name; any other is counted as `other`.
pub const METHOD_LABELS: &[&str] = &["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"];

/// The label for a request's method, from a fixed set.
fn method_label(method: &str) -> &'static str {
    METHOD_LABELS
        .iter()
        .find(|known| **known == method)
        .copied()
        .unwrap_or("other")
}

/// This process's resident memory, from `/proc/self/status` (Linux; `None` elsewhere).
pub fn resident_memory_bytes() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|line| line.starts_with("VmRSS:"))?;
    let kb: u64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kb * 1024)
}

#[cfg(test)]
mod tests {
    use super::*;
    use earshot_shared::ErrorCode;

    #[test]
    fn counts_and_latencies_are_rendered() {
        let metrics = Metrics::default();
        metrics.count_submission(Outcome::Stored);
        metrics.count_submission(Outcome::Stored);
        metrics.count_submission(Outcome::Rejected(ErrorCode::RateLimited));
        metrics.observe_request("POST", "/v1/feedback", 201, 0.002);
        let text = metrics.render();
        assert!(
            text.contains(r#"earshot_submissions_total{outcome="stored",code=""} 2"#),
            "{text}"
        );
        assert!(
            text.contains(r#"earshot_submissions_total{outcome="rejected",code="rate-limited"} 1"#),
            "{text}"
        );
        assert!(text.contains(r#"earshot_http_request_duration_seconds_count{method="POST",route="/v1/feedback",status="201"} 1"#), "{text}");
    }

    #[test]
    fn made_up_methods_share_one_label() {
        let metrics = Metrics::default();
        for n in 0..100 {
            metrics.observe_request(&format!("X{n}"), "unmatched", 404, 0.001);
        }
        let text = metrics.render();
        assert!(text.contains(r#"earshot_http_request_duration_seconds_count{method="other",route="unmatched",status="404"} 100"#), "{text}");
        assert!(!text.contains("X1"), "{text}");
    }
}
