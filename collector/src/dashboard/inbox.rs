//! The inbox (filter, page, triage, export the view) and the statistics page.

use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, web};
use serde::Deserialize;

use super::auth::{self, Owner};
use super::query::{DAY_MS, PAGE_SIZE, StatsQuery, ViewQuery, given, until};
use super::respond::{AdminError, html, see_other};
use super::{pages, stats};
use crate::export::{self, Format, STATUSES};
use crate::state::AppState;
use earshot_store::{
    self as store, Awaiting, Database, FeedbackFilter, FeedbackRow, FeedbackStatus, Page, Site,
    SpamFilter, StoreError,
};

/// Longest internal note, in characters.
pub const MAX_NOTE_CHARS: usize = 5_000;

/// The sites this owner may see, and the ones the view covers (one, or all of them).
pub(super) async fn scope(
    state: &AppState,
    owner: &Owner,
    site: Option<&str>,
) -> Result<(Vec<Site>, Vec<String>), AdminError> {
    let all = state.store.read_async(|db| db.sites()).await?;
    let visible: Vec<Site> = all
        .into_iter()
        .filter(|site| owner.0.user.may_read(site.key.as_str()))
        .collect();
    let covered = match site {
        Some(site) => {
            owner.check_site(site)?;
            if !visible.iter().any(|s| s.key.as_str() == site) {
                return Err(AdminError::NotFound);
            }
            vec![site.to_owned()]
        }
        None => visible.iter().map(|s| s.key.to_string()).collect(),
    };
    Ok((visible, covered))
}

pub(super) async fn inbox(
    state: web::Data<AppState>,
    owner: Owner,
    query: web::Query<ViewQuery>,
) -> Result<HttpResponse, AdminError> {
    let filter = query.filter()?;
    let (sites, covered) = scope(&state, &owner, given(&query.site)).await?;
    let page = query.page.unwrap_or(1).max(1);
    let (total, rows, spam) = {
        let filter = filter.clone();
        state
            .store
            .read_async(move |conn| {
                let (total, rows) = list_page(conn, &covered, &filter, page)?;
                let spam = FeedbackFilter {
                    spam: SpamFilter::Only,
                    ..FeedbackFilter::default()
                };
                Ok((total, rows, conn.count_feedback_in(&covered, &spam)?))
            })
            .await?
    };
    let spam_link = match given(&query.site) {
        Some(site) => format!(
            "/admin/inbox?{}",
            url::form_urlencoded::Serializer::new(String::new())
                .append_pair("site", site)
                .append_pair("spam", "only")
                .finish()
        ),
        None => "/admin/inbox?spam=only".to_owned(),
    };
    let view = pages::InboxView {
        owner: &owner.0,
        sites: &sites,
        query: &query,
        rows: &rows,
        total,
        page,
        back: format!("/admin/inbox?{}", query.query_string(Some(page))),
        export: format!("/admin/export.csv?{}", query.query_string(None)),
        newer: (page > 1).then(|| format!("/admin/inbox?{}", query.query_string(Some(page - 1)))),
        older: (page * PAGE_SIZE < total)
            .then(|| format!("/admin/inbox?{}", query.query_string(Some(page + 1)))),
        spam: (spam, spam_link),
    };
    Ok(html(StatusCode::OK, pages::inbox(&view)))
}

/// One page of the inbox: feedback awaiting an answer first, the soonest deadline first,
/// then everything else, newest first. Returns the total and the page's rows.
fn list_page(
    conn: &mut dyn Database,
    sites: &[String],
    filter: &FeedbackFilter,
    page: u64,
) -> Result<(u64, Vec<FeedbackRow>), StoreError> {
    let total = conn.count_feedback_in(sites, filter)?;
    let (offset, limit) = ((page - 1) * PAGE_SIZE, PAGE_SIZE);
    let mut rows = Vec::new();
    let mut list = |conn: &mut dyn Database, filter: &FeedbackFilter, page: Page| {
        conn.for_each_feedback_in(sites, filter, page, &mut |row| {
            rows.push(row);
            Ok(())
        })
    };
    if filter.awaiting.is_some() {
        list(conn, filter, Page::DeadlineFirst { offset, limit })?;
        return Ok((total, rows));
    }
    let awaiting = FeedbackFilter {
        awaiting: Some(Awaiting::Answer),
        ..filter.clone()
    };
    let first = conn.count_feedback_in(sites, &awaiting)?;
    let shown = if offset < first {
        list(conn, &awaiting, Page::DeadlineFirst { offset, limit })?
    } else {
        0
    };
    if shown < limit {
        let rest = FeedbackFilter {
            awaiting: Some(Awaiting::Nothing),
            ..filter.clone()
        };
        list(
            conn,
            &rest,
            Page::NewestFirst {
                offset: offset.saturating_sub(first),
                limit: limit - shown,
            },
        )?;
    }
    Ok((total, rows))
}

/// The inbox's current view as CSV: the same filter, through the export API's code.
pub(super) async fn export_view(
    request: HttpRequest,
    state: web::Data<AppState>,
    owner: Owner,
    query: web::Query<ViewQuery>,
) -> Result<HttpResponse, AdminError> {
    let filter = query.filter()?;
    let (_, covered) = scope(&state, &owner, given(&query.site)).await?;
    let name = match given(&query.site) {
        Some(site) => format!("earshot-{site}.csv"),
        None => "earshot-feedback.csv".to_owned(),
    };
    Ok(export::stream_export(
        state.store.clone(),
        covered,
        filter,
        Format::Csv.into(),
        export::collector_address(&request),
        &name,
        state.timeouts.export_idle,
    ))
}

#[derive(Deserialize)]
pub(super) struct TriageForm {
    csrf: String,
    status: String,
    #[serde(default)]
    note: String,
    back: Option<String>,
}

pub(super) async fn triage(
    state: web::Data<AppState>,
    owner: Owner,
    id: web::Path<String>,
    form: web::Form<TriageForm>,
) -> Result<HttpResponse, AdminError> {
    owner.check_csrf(&form.csrf)?;
    let Some(status) = FeedbackStatus::parse(&form.status) else {
        return Err(AdminError::BadRequest(format!(
            "the status is one of {}",
            STATUSES.join(", ")
        )));
    };
    if form.note.chars().count() > MAX_NOTE_CHARS {
        return Err(AdminError::BadRequest(format!(
            "a note has at most {MAX_NOTE_CHARS} characters"
        )));
    }
    let id = id.into_inner();
    let lookup = id.clone();
    let row = state
        .store
        .read_async(move |conn| conn.feedback_by_id(&lookup))
        .await?;
    // Feedback of a site the account may not see does not exist, as far as it knows.
    match row {
        Some(row) if owner.0.user.may_read(&row.site) => {}
        _ => return Err(AdminError::NotFound),
    }
    let note = form.note.trim().to_owned();
    state
        .store
        .read_async(move |conn| conn.triage(&id, status, &note))
        .await?;
    if status == FeedbackStatus::Resolved {
        // The visitor's notice may have been queued.
        state.mail_bell.ring();
    }
    let back = auth::safe_next(form.back.as_deref());
    Ok(see_other(&saying_saved(&back)))
}

/// `back` with `saved=1` in its query, so the page it shows says the change was saved.
fn saying_saved(back: &str) -> String {
    let (path, fragment) = back
        .split_once('#')
        .map_or((back, None), |(p, f)| (p, Some(f)));
    let path = path
        .replace("saved=1&", "")
        .replace("&saved=1", "")
        .replace("?saved=1", "");
    let joiner = if path.contains('?') { '&' } else { '?' };
    match fragment {
        Some(fragment) => format!("{path}{joiner}saved=1#{fragment}"),
        None => format!("{path}{joiner}saved=1"),
    }
}

#[derive(Deserialize)]
pub(super) struct NotSpamForm {
    csrf: String,
    back: Option<String>,
}

/// `POST /admin/feedback/{id}/not-spam`: an owner says a submission flagged as spam is not.
/// It counts everywhere from now on, statistics included; nothing of long ago is sent.
pub(super) async fn not_spam(
    state: web::Data<AppState>,
    owner: Owner,
    id: web::Path<String>,
    form: web::Form<NotSpamForm>,
) -> Result<HttpResponse, AdminError> {
    owner.check_csrf(&form.csrf)?;
    let id = id.into_inner();
    let lookup = id.clone();
    let row = state
        .store
        .read_async(move |conn| conn.feedback_by_id(&lookup))
        .await?;
    match row {
        Some(row) if owner.0.user.may_read(&row.site) => {}
        _ => return Err(AdminError::NotFound),
    }
    let now = store::now_millis();
    state
        .store
        .read_async(move |conn| conn.restore_spam(&id, now))
        .await?;
    let back = auth::safe_next(form.back.as_deref());
    Ok(see_other(&back))
}

pub(super) async fn stats_page(
    state: web::Data<AppState>,
    owner: Owner,
    query: web::Query<StatsQuery>,
) -> Result<HttpResponse, AdminError> {
    let (sites, covered) = scope(&state, &owner, given(&query.site)).await?;
    let parse = |value: &Option<String>| {
        given(value)
            .map(export::parse_time)
            .transpose()
            .map_err(AdminError::BadRequest)
    };
    let now = store::now_millis();
    let from = parse(&query.from)?.unwrap_or(now - 30 * DAY_MS);
    let to = parse(&query.to)?
        .map(|to| until(given(&query.to), to))
        .unwrap_or(now);
    if to <= from {
        return Err(AdminError::BadRequest(
            "the end comes before the start".into(),
        ));
    }
    let report = state
        .store
        .read_async(move |conn| stats::Report::compute(conn, &covered, from, to))
        .await?;
    Ok(html(
        StatusCode::OK,
        pages::stats(&owner.0, &sites, &query, &report, from, to),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;
    use earshot_shared::{ClientInfo, Rating, RatingKind, SiteKey, Submission};
    use earshot_store::{Durability, Store};

    /// The inbox's pages across the line between feedback awaiting an answer (first, the
    /// soonest deadline first) and the rest (newest first): every submission once, in order.
    #[actix_web::test]
    async fn pages_cross_from_awaiting_to_the_rest_without_gaps() {
        for database in earshot_store::testing::databases() {
            let mut conn = database.location.connect().unwrap();
            conn.add_site(&SiteKey::parse("demo").unwrap(), "Demo", &[])
                .unwrap();
            let store = Store::open_at(&database.location, Durability::PowerLoss).unwrap();
            // 30 submissions, one every second; every sixth leaves an address (5 awaiting).
            let mut awaiting = Vec::new();
            let mut rest = Vec::new();
            for n in 0..30i64 {
                let id = uuid::Uuid::new_v4();
                let submission = Submission {
                    id,
                    site: SiteKey::parse("demo").unwrap(),
                    rating: Rating {
                        kind: RatingKind::Stars,
                        value: 3,
                    },
                    comment: format!("number {n}"),
                    email: (n % 6 == 0).then(|| format!("v{n}@example.com")),
                    page_url: "https://shop.example/".into(),
                    referrer: None,
                    locale: "en".into(),
                    client: ClientInfo::default(),
                    open_ms: 5_000,
                    honeypot: String::new(),
                    user_id: None,
                    metadata: Default::default(),
                };
                store.submit(submission, 1_000 * (n + 1)).await.unwrap();
                if n % 6 == 0 {
                    awaiting.push(id.to_string());
                } else {
                    rest.push(id.to_string());
                }
            }
            rest.reverse(); // newest first
            let expected: Vec<String> = awaiting.into_iter().chain(rest).collect();
            let sites = ["demo".to_owned()];
            let filter = FeedbackFilter::default();
            let mut seen = Vec::new();
            for page in 1..=2 {
                let (total, rows) = list_page(&mut *conn, &sites, &filter, page).unwrap();
                assert_eq!(total, 30);
                assert_eq!(rows.len(), if page == 1 { 25 } else { 5 });
                seen.extend(rows.into_iter().map(|row| row.id));
            }
            assert_eq!(seen, expected, "{:?}", database.location);
        }
    }
}
