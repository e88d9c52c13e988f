//! The inbox's and the statistics' query strings, and the filter they make: the same filter
//! the export API builds, so an export is exactly what is shown.

use serde::Deserialize;

use super::respond::AdminError;
use crate::export;
use earshot_store::{Awaiting, FeedbackFilter, SpamFilter, now_millis};

/// Submissions per inbox page.
pub const PAGE_SIZE: u64 = 25;

/// The inbox's filters, as its GET form sends them (empty fields mean "any").
#[derive(Debug, Default, Deserialize)]
pub struct ViewQuery {
    pub site: Option<String>,
    pub min_rating: Option<String>,
    pub max_rating: Option<String>,
    pub status: Option<String>,
    pub from: Option<String>,
    pub to: Option<String>,
    pub q: Option<String>,
    pub has_email: Option<String>,
    /// `needed` (awaiting an answer) or `overdue`.
    pub answer: Option<String>,
    /// `only` (the spam view) or `include`; left out, spam is not shown.
    pub spam: Option<String>,
    /// Set after a triage form's redirect: the page says it was saved.
    pub saved: Option<String>,
    pub page: Option<u64>,
}

pub(super) const DAY_MS: i64 = 86_400_000;

/// A day picked as the end of a range counts whole: "until 2026-11-22" includes that day.
pub(super) fn until(text: Option<&str>, parsed: i64) -> i64 {
    if text.is_some_and(|text| text.len() == 10) {
        parsed + DAY_MS
    } else {
        parsed
    }
}

pub(super) fn given(value: &Option<String>) -> Option<&str> {
    value.as_deref().map(str::trim).filter(|v| !v.is_empty())
}

impl ViewQuery {
    /// The same filter the export API builds, so the export is exactly what is shown.
    pub(super) fn filter(&self) -> Result<FeedbackFilter, AdminError> {
        let rating = |value: &Option<String>, name: &str| {
            given(value)
                .map(|v| {
                    v.parse::<u8>().map_err(|_| {
                        AdminError::BadRequest(format!("{name} is a number from 0 to 10"))
                    })
                })
                .transpose()
        };
        export::ExportQuery {
            from: given(&self.from).map(str::to_owned),
            to: given(&self.to).map(str::to_owned),
            min_rating: rating(&self.min_rating, "the lowest rating")?,
            max_rating: rating(&self.max_rating, "the highest rating")?,
            status: given(&self.status).map(str::to_owned),
            spam: match given(&self.spam) {
                None | Some("exclude") => SpamFilter::Exclude,
                Some("include") => SpamFilter::Include,
                Some("only") => SpamFilter::Only,
                Some(_) => {
                    return Err(AdminError::BadRequest(
                        "spam is exclude, include or only".to_owned(),
                    ));
                }
            },
            q: given(&self.q).map(str::to_owned),
            has_email: given(&self.has_email).map(|v| v != "no"),
            thread: Default::default(),
        }
        .into_filter()
        .map_err(AdminError::BadRequest)
        .and_then(|mut filter| {
            filter.to = filter.to.map(|to| until(given(&self.to), to));
            filter.awaiting = match given(&self.answer) {
                None => None,
                Some("needed") => Some(Awaiting::Answer),
                Some("overdue") => Some(Awaiting::Overdue(now_millis())),
                Some(_) => {
                    return Err(AdminError::BadRequest(
                        "answer is needed or overdue".to_owned(),
                    ));
                }
            };
            Ok(filter)
        })
    }

    /// This view's query string, for links (export, pages) that keep the filters.
    pub(super) fn query_string(&self, page: Option<u64>) -> String {
        let mut out = url::form_urlencoded::Serializer::new(String::new());
        for (name, value) in [
            ("site", &self.site),
            ("min_rating", &self.min_rating),
            ("max_rating", &self.max_rating),
            ("status", &self.status),
            ("from", &self.from),
            ("to", &self.to),
            ("q", &self.q),
            ("has_email", &self.has_email),
            ("answer", &self.answer),
            ("spam", &self.spam),
        ] {
            if let Some(value) = given(value) {
                out.append_pair(name, value);
            }
        }
        if let Some(page) = page.filter(|page| *page > 1) {
            out.append_pair("page", &page.to_string());
        }
        out.finish()
    }
}

#[derive(Debug, Default, Deserialize)]
pub struct StatsQuery {
    pub site: Option<String>,
    pub from: Option<String>,
    pub to: Option<String>,
}
