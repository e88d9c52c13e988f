//! The dashboard's HTML, written with maud: every `(value)` is escaped, so visitor text
//! (comments, URLs, emails, metadata) can only ever appear as text.

use earshot_shared::RatingKind;
use maud::{Markup, html};
use time::OffsetDateTime;

pub(super) use super::layout::layout;
use super::query::{StatsQuery, ViewQuery, given};
use super::stats::Report;
use crate::accounts::Session;
use earshot_store::model::Author;
use earshot_store::{FeedbackRow, FeedbackStatus, Site, Waiting};

pub fn login(next: &str, error: Option<&str>, email: &str) -> Markup {
    login_page(next, error, email, false)
}

/// The sign-in page; `first_run` when no account exists yet, with how to make one.
pub fn login_page(next: &str, error: Option<&str>, email: &str, first_run: bool) -> Markup {
    layout(
        "Sign in",
        None,
        "",
        html! {
            section.card.narrow {
                h1 { "Sign in" }
                @if first_run {
                    section.notice role="note" {
                        p { "No owner account exists yet. Open the set-up link that " code { "earshot serve" } " printed to its log when it started (it works for an hour), or create the account on the server:" }
                        p { code { "earshot user add you@example.com" } }
                        p { "It asks for a password (at least 10 characters); then sign in here." }
                    }
                }
                @if let Some(error) = error {
                    p.error role="alert" { (error) }
                }
                form.stack method="post" action="/admin/login" {
                    input type="hidden" name="next" value=(next);
                    label for="email" { "Email" }
                    input #email type="email" name="email" autocomplete="username" required value=(email);
                    label for="password" { "Password" }
                    input #password type="password" name="password" autocomplete="current-password" required;
                    button.primary type="submit" { "Sign in" }
                }
            }
        },
    )
}

fn datetime(millis: i64) -> OffsetDateTime {
    OffsetDateTime::from_unix_timestamp_nanos(i128::from(millis) * 1_000_000)
        .unwrap_or(OffsetDateTime::UNIX_EPOCH)
}

pub(super) use super::zone::Zone;

/// `2026-11-22`
fn day(millis: i64) -> String {
    let at = datetime(millis);
    format!("{}-{:02}-{:02}", at.year(), u8::from(at.month()), at.day())
}

/// The words of a thread's latest message the inbox shows.
const FIRST_WORDS_CHARS: usize = 120;

/// The first words of a message, cut at a word's end, with `…` when there is more.
fn first_words(text: &str) -> String {
    let text = text.split_whitespace().collect::<Vec<_>>().join(" ");
    if text.chars().count() <= FIRST_WORDS_CHARS {
        return text;
    }
    let cut: String = text.chars().take(FIRST_WORDS_CHARS).collect();
    let cut = cut.rsplit_once(' ').map_or(cut.as_str(), |(kept, _)| kept);
    format!("{cut}…")
}

/// `3 min`, `2 h 5 min`, `4 d 3 h`
pub(super) fn duration(millis: i64) -> String {
    let minutes = (millis / 60_000).max(0);
    match minutes {
        0 => "under a minute".to_owned(),
        1..60 => format!("{minutes} min"),
        60..1440 => format!("{} h {} min", minutes / 60, minutes % 60),
        _ => format!("{} d {} h", minutes / 1440, minutes % 1440 / 60),
    }
}

/// The rating as people read it, e.g. `4/5 ★` or `NPS 9`.
fn rating_text(kind: RatingKind, value: u8) -> String {
    match kind {
        RatingKind::Stars => format!("{value}/5 ★"),
        RatingKind::Thumbs if value == 1 => "Helpful".to_owned(),
        RatingKind::Thumbs => "Not helpful".to_owned(),
        RatingKind::Nps => format!("NPS {value}"),
        RatingKind::Emoji => {
            let names = [
                "Very dissatisfied",
                "Dissatisfied",
                "Neutral",
                "Satisfied",
                "Very satisfied",
            ];
            names
                .get(usize::from(value.saturating_sub(1)))
                .copied()
                .unwrap_or("?")
                .to_owned()
        }
    }
}

fn mood(kind: RatingKind, value: u8) -> &'static str {
    let score = super::stats::satisfaction(kind, value);
    if score >= 75.0 {
        "good"
    } else if score >= 40.0 {
        "fair"
    } else {
        "poor"
    }
}

/// A short name for a user agent: the browser and the system, e.g. `Firefox on Windows 10`,
/// from Project Woothee's dataset. The raw string is kept, shown on hover and exported.
pub fn browser(user_agent: &str) -> String {
    let known = |value: &str| !value.is_empty() && value != woothee::woothee::VALUE_UNKNOWN;
    match woothee::parser::Parser::new().parse(user_agent) {
        Some(found) if known(found.name) && known(found.os) => {
            format!("{} on {}", found.name, found.os)
        }
        Some(found) if known(found.name) => found.name.to_owned(),
        Some(found) if known(found.os) => format!("A browser on {}", found.os),
        _ => "An unknown browser".to_owned(),
    }
}

pub struct InboxView<'a> {
    pub owner: &'a Session,
    pub sites: &'a [Site],
    pub query: &'a ViewQuery,
    pub rows: &'a [FeedbackRow],
    pub total: u64,
    pub page: u64,
    pub back: String,
    pub export: String,
    pub newer: Option<String>,
    pub older: Option<String>,
    /// How many submissions of the covered sites are flagged as spam (the other filters
    /// apart), and the link to see them.
    pub spam: (u64, String),
}

fn site_name<'a>(sites: &'a [Site], key: &'a str) -> &'a str {
    sites
        .iter()
        .find(|site| site.key.as_str() == key)
        .map_or(key, |site| site.name.as_str())
}

fn site_select(sites: &[Site], chosen: Option<&str>) -> Markup {
    html! {
        select #site name="site" {
            option value="" { "All sites" }
            @for site in sites {
                option value=(site.key) selected[chosen == Some(site.key.as_str())] { (site.name) }
            }
        }
    }
}

pub fn inbox(view: &InboxView<'_>) -> Markup {
    let query = view.query;
    let pages = view.total.div_ceil(super::query::PAGE_SIZE).max(1);
    let spam_view = given(&query.spam) == Some("only");
    let rating_options = |name: &str, chosen: Option<&str>| {
        html! {
            select id=(name) name=(name) {
                option value="" { "any" }
                @for value in 0..=10u8 {
                    @let text = value.to_string();
                    option value=(text) selected[chosen == Some(text.as_str())] { (text) }
                }
            }
        }
    };
    let body = html! {
        div.heading {
            h1 { @if spam_view { "Spam" } @else { "Inbox" } }
            p.count {
                (view.total) " submission" @if view.total != 1 { "s" }
                @match given(&query.spam) {
                    Some("only") => { " flagged as spam" }
                    Some("include") => { ", spam included" }
                    _ => { ", spam apart" }
                }
                @if !spam_view {
                    " · " a href=(view.spam.1) { "Spam (" (view.spam.0) ")" }
                } @else {
                    " · " a href=(format!("/admin/inbox{}", given(&query.site).map(|s| format!("?site={s}")).unwrap_or_default())) { "Back to the inbox" }
                }
            }
            a.button href=(view.export) { "Export these as CSV" }
        }
        @if query.saved.is_some() { p.notice role="status" { "Saved: the status and the note." } }
        @if spam_view {
            p.hint { "Sent faster than a person types, or with the hidden field filled that only bots see. Nothing was sent for these: no notice, no acknowledgement, no webhook. " strong { "Not spam" } " puts one back in the inbox and the statistics, without sending notices of long ago; one with an address then waits on you, due from now." }
        }
        details.filter-fold open data-fold=(if query.query_string(None).is_empty() { "phone" } else { "" }) {
        summary { "Filters" }
        form.filters method="get" action="/admin/inbox" {
            div { label for="site" { "Site" } (site_select(view.sites, given(&query.site))) }
            div { label for="min_rating" { "Rating from" } (rating_options("min_rating", given(&query.min_rating))) }
            div { label for="max_rating" { "to" } (rating_options("max_rating", given(&query.max_rating))) }
            div {
                label for="status" { "Status" }
                select #status name="status" {
                    option value="" { "any" }
                    @for status in FeedbackStatus::ALL {
                        option value=(status.as_str()) selected[given(&query.status) == Some(status.as_str())] { (status.label()) }
                    }
                }
            }
            div {
                label for="answer" { "Answer" }
                select #answer name="answer" {
                    option value="" { "any" }
                    option value="needed" selected[given(&query.answer) == Some("needed")] { "needs an answer" }
                    option value="overdue" selected[given(&query.answer) == Some("overdue")] { "overdue" }
                }
            }
            div { label for="from" { "Received from" } input #from type="date" name="from" value=[given(&query.from)]; }
            div { label for="to" { "until" } input #to type="date" name="to" value=[given(&query.to)]; }
            div.grow { label for="q" { "Contains" } input #q type="search" name="q" value=[given(&query.q)]; }
            div.check {
                input #has_email type="checkbox" name="has_email" value="yes" checked[given(&query.has_email).is_some_and(|v| v != "no")];
                label for="has_email" { "Left an email" }
            }
            @if let Some(spam) = given(&query.spam) { input type="hidden" name="spam" value=(spam); }
            div.actions {
                button.primary type="submit" { "Filter" }
                a href="/admin/inbox" { "Clear" }
            }
        }
        }
        @if view.rows.is_empty() {
            @if query.query_string(None).is_empty() && view.spam.0 == 0 {
                p.empty { "No feedback yet. Feedback arrives once your pages carry the site's snippet: copy it from the site's page under " a href="/admin/sites" { "Sites" } "." }
            } @else {
                p.empty { "No feedback matches these filters." }
            }
        }
        ol.items {
            @for row in view.rows {
                li { (item(view.owner, view.sites, &view.back, row)) }
            }
        }
        nav.pager aria-label="Pages" {
            @if let Some(newer) = &view.newer { a href=(newer) rel="prev" { "← Newer" } }
            span { "Page " (view.page) " of " (pages) }
            @if let Some(older) = &view.older { a href=(older) rel="next" { "Older →" } }
        }
    };
    layout("Inbox", Some(view.owner), "inbox", body)
}

/// One submission as the inbox and its own page show it, with the triage form (which
/// returns to `back`).
pub(super) fn item(owner: &Session, sites: &[Site], back: &str, row: &FeedbackRow) -> Markup {
    let site = site_name(sites, &row.site);
    let page = format!("/admin/feedback/{}", row.id);
    let zone = Zone::of(owner);
    html! {
        article.item id=(format!("feedback-{}", row.id)) {
            div.item-head {
                span class={ "rating " (mood(row.rating.kind, row.rating.value)) } { (rating_text(row.rating.kind, row.rating.value)) }
                span.site { (site) }
                a.when href=(page) { time datetime=(zone.day(row.received_at)) { (zone.when(row.received_at)) } }
                span class={ "status status-" (row.status.as_str()) } { (row.status.label()) }
                @if row.spam { span.spam { "Spam" } }
                @if row.unread { span.unread { "New answer" } }
                @match row.waiting() {
                    Waiting::OnUs { by } => {
                        span.waiting { "Waiting on us" }
                        @if row.overdue(earshot_store::now_millis()) {
                            span.overdue { "Overdue: the answer was due " (zone.when(by)) }
                        } @else {
                            span.awaiting { "Answer by " (zone.when(by)) }
                        }
                    }
                    Waiting::OnVisitor => { span.waiting { "Waiting on the visitor" } }
                    Waiting::Unsubscribed => { span.waiting { "Could not answer: the visitor stopped all email" } }
                    Waiting::Closed => {}
                }
            }
            @if row.comment.trim().is_empty() {
                p.comment.none { "No comment." }
            } @else {
                p.comment { (row.comment) }
            }
            @if let Some(latest) = &row.latest {
                p.latest {
                    @if latest.author == Author::Visitor { "The visitor wrote back " } @else { "An owner replied " }
                    (zone.when(latest.at)) ": " q { (first_words(&latest.words)) }
                }
            }
            dl.meta {
                div { dt { "Page" } dd { a href=(row.page_url) rel="noreferrer noopener nofollow" { (row.page_url) } } }
                @if let Some(referrer) = &row.referrer {
                    div { dt { "Came from" } dd { (referrer) } }
                }
                div { dt { "Language" } dd { @if row.locale.is_empty() { "—" } @else { (row.locale) } } }
                div { dt { "Browser" } dd title=(row.user_agent) { (browser(&row.user_agent)) } }
                @if let Some(email) = &row.email {
                    div { dt { "Email" } dd { (email) " · " a.reply href=(format!("{page}#reply")) { "Reply" } } }
                }
                @if let Some(user) = &row.user_id {
                    div { dt { "User" } dd { (user) } }
                }
                @if row.has_screenshot {
                    div { dt { "Screenshot" } dd { a href=(format!("{page}/screenshot/view")) { "View the screenshot" } } }
                }
                @if !row.metadata.is_empty() {
                    div { dt { "Metadata" } dd { @for (key, value) in &row.metadata { code { (key) "=" (value) } " " } } }
                }
                @if let Some(at) = row.first_response_at {
                    div { dt { "First response" } dd { "after " (duration(at - row.received_at)) } }
                }
                @if let Some(at) = row.first_answer_at {
                    div { dt { "First answer" } dd { "after " (duration(at - row.received_at)) } }
                }
            }
            form.triage method="post" action=(format!("/admin/feedback/{}", row.id)) {
                input type="hidden" name="csrf" value=(owner.csrf);
                input type="hidden" name="back" value=(back);
                label { span { "Status" }
                    select name="status" {
                        @for status in FeedbackStatus::ALL {
                            option value=(status.as_str()) selected[row.status == status] { (status.label()) }
                        }
                    }
                }
                label.grow { span { "Internal note" }
                    textarea name="note" rows="1" maxlength="5000" { (row.note) }
                }
                button type="submit" { "Save" }
            }
            @if row.spam {
                form.not-spam method="post" action=(format!("/admin/feedback/{}/not-spam", row.id)) {
                    input type="hidden" name="csrf" value=(owner.csrf);
                    input type="hidden" name="back" value=(back);
                    button type="submit" { "Not spam" }
                }
            }
        }
    }
}

/// The trend as an SVG: a bar per day (or week) for the count, a line for satisfaction.
fn trend(report: &Report) -> Markup {
    const W: f64 = 720.0;
    const H: f64 = 200.0;
    const TOP: f64 = 12.0;
    const BOTTOM: f64 = 24.0;
    let plot = H - TOP - BOTTOM;
    let n = report.buckets.len().max(1) as f64;
    let step = W / n;
    let most = report
        .buckets
        .iter()
        .map(|b| b.count)
        .max()
        .unwrap_or(0)
        .max(1) as f64;
    let points: Vec<String> = report
        .buckets
        .iter()
        .enumerate()
        .filter_map(|(i, bucket)| {
            bucket.satisfaction.map(|s| {
                format!(
                    "{:.1},{:.1}",
                    step * (i as f64 + 0.5),
                    TOP + plot * (1.0 - s / 100.0)
                )
            })
        })
        .collect();
    let first = report.buckets.first().map_or(0, |b| b.start);
    let last = report.buckets.last().map_or(0, |b| b.start);
    let label = format!(
        "{} submissions from {} to {}, {} per bar; the line is the average satisfaction",
        report.total,
        day(first),
        day(last),
        if report.bucket_days == 7 {
            "a week"
        } else {
            "a day"
        }
    );
    html! {
        svg.chart viewBox=(format!("0 0 {W} {H}")) role="img" aria-label=(label) {
            @for y in [0.0, 50.0, 100.0] {
                line.grid x1="0" x2=(W) y1=(format!("{:.1}", TOP + plot * (1.0 - y / 100.0))) y2=(format!("{:.1}", TOP + plot * (1.0 - y / 100.0))) {}
            }
            @for (i, bucket) in report.buckets.iter().enumerate() {
                @let height = plot * bucket.count as f64 / most;
                rect.bar x=(format!("{:.1}", step * i as f64 + step * 0.15)) y=(format!("{:.1}", TOP + plot - height))
                    width=(format!("{:.1}", step * 0.7)) height=(format!("{height:.1}")) {
                    title { (day(bucket.start)) ": " (bucket.count) }
                }
            }
            @if points.len() > 1 {
                polyline.line points=(points.join(" ")) {}
            }
            @for point in &points {
                @let (x, y) = point.split_once(',').unwrap_or(("0", "0"));
                circle.dot cx=(x) cy=(y) r="3" {}
            }
            text.axis x="0" y=(H - 6.0) { (day(first)) }
            text.axis x=(W) y=(H - 6.0) text-anchor="end" { (day(last)) }
            text.axis x=(W) y=(TOP - 2.0) text-anchor="end" { "100 %" }
        }
    }
}

fn distribution(kind: RatingKind, counts: &[(u8, u64)]) -> Markup {
    let most = counts.iter().map(|(_, n)| *n).max().unwrap_or(0).max(1) as f64;
    let row_height = 22.0;
    let height = row_height * counts.len() as f64;
    html! {
        svg.bars viewBox=(format!("0 0 320 {height}")) role="img"
            aria-label=(counts.iter().map(|(v, n)| format!("{}: {n}", rating_text(kind, *v))).collect::<Vec<_>>().join(", ")) {
            @for (i, (value, count)) in counts.iter().enumerate() {
                @let y = row_height * i as f64;
                text.axis x="0" y=(format!("{:.1}", y + 15.0)) { (rating_text(kind, *value)) }
                rect.bar x="120" y=(format!("{:.1}", y + 4.0)) width=(format!("{:.1}", 160.0 * *count as f64 / most)) height="14" {}
                text.axis x="316" y=(format!("{:.1}", y + 15.0)) text-anchor="end" { (count) }
            }
        }
    }
}

pub fn stats(
    session: &Session,
    sites: &[Site],
    query: &StatsQuery,
    report: &Report,
    from: i64,
    to: i64,
) -> Markup {
    let body = html! {
        div.heading { h1 { "Statistics" } }
        form.filters method="get" action="/admin/stats" {
            div { label for="site" { "Site" } (site_select(sites, given(&query.site))) }
            div { label for="from" { "From" } input #from type="date" name="from" value=(day(from)); }
            div { label for="to" { "Until" } input #to type="date" name="to" value=(day(to - 1)); }
            div.actions { button.primary type="submit" { "Show" } }
        }
        @let zone = Zone::of(session);
        @if zone.name() != super::zone::DEFAULT_ZONE {
            p.hint { "Days here run from midnight to midnight UTC, so every owner counts the same days; times elsewhere are in " (zone.name()) "." }
        }
        section.cards {
            div.card { p.big { (report.total) } p { "submissions, spam apart" } }
            @for kind in &report.kinds {
                div.card {
                    p.big { (format!("{:.1}", kind.score.1)) @if kind.score.0 != "NPS" { " %" } }
                    p { (kind.score.0) " · " (kind.kind.as_str()) ", average " (format!("{:.2}", kind.average)) " over " (kind.count) }
                }
            }
            div.card {
                p.big { @match report.median_response_ms { Some(ms) => (duration(ms)), None => "—" } }
                p { "median time to first response (" (report.responded) " answered)" }
            }
        }
        section.card #promises {
            h2 { "Answers on time" }
            @if report.promises.is_empty() {
                p.empty { "No answer has fallen due in this period." }
            } @else {
                p.hint { "Every wait on you is a promise: the first from the feedback's arrival, and a follow-up each time the visitor answers your reply, due the site's hours after that answer. A visitor who stopped all email could not be answered: that is neither kept nor missed." }
                table.stack {
                    thead { tr { th { "Site or owner" } th { "Promises kept" } th { "Kept" } th { "Late or missed" } th { "Of which follow-ups" } th { "Could not answer" } th { "Median time to first answer" } } }
                    tbody {
                        @for stat in &report.promises {
                            tr {
                                th scope="row" { @if stat.by == "site" { (site_name(sites, &stat.who)) } @else { (stat.who) } }
                                td data-label="Promises kept" { @match stat.share() { Some(share) => (format!("{share:.0} %")), None => "—" } }
                                td data-label="Kept" { (stat.kept) }
                                td data-label="Late or missed" { (stat.broken) }
                                td data-label="Of which follow-ups" { (stat.follow_ups) }
                                td data-label="Could not answer" { @if stat.by == "site" { (stat.unreachable) } @else { "—" } }
                                td data-label="Median time to first answer" { @match stat.median_answer_ms { Some(ms) => (duration(ms)), None => "—" } }
                            }
                        }
                    }
                }
            }
        }
        section.card {
            h2 { "Trend" }
            (trend(report))
        }
        @for kind in &report.kinds {
            section.card {
                h2 { "Distribution: " (kind.kind.as_str()) }
                (distribution(kind.kind, &kind.distribution))
            }
        }
        section.card {
            h2 { "Pages that need attention" }
            @if report.attention.is_empty() {
                p.empty { "No page has " (super::stats::MIN_RATINGS_FOR_ATTENTION) " ratings yet." }
            } @else {
                table {
                    thead { tr { th scope="col" { "Page" } th scope="col" { "Ratings" } th scope="col" { "Satisfaction" } } }
                    tbody {
                        @for page in &report.attention {
                            tr { td { (page.url) } td { (page.count) } td { (format!("{:.0} %", page.satisfaction)) } }
                        }
                    }
                }
            }
        }
    };
    layout("Statistics", Some(session), "stats", body)
}

#[cfg(test)]
mod tests {
    use crate::dashboard::pages::browser;

    #[test]
    fn common_browsers_and_systems_are_named() {
        for (user_agent, shown) in [
            (
                "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36",
                "Chrome on Windows 10",
            ),
            (
                "Mozilla/5.0 (X11; Linux x86_64; rv:133.0) Gecko/20100101 Firefox/133.0",
                "Firefox on Linux",
            ),
            (
                "Mozilla/5.0 (iPhone; CPU iPhone OS 18_1 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/18.1 Mobile/15E148 Safari/604.1",
                "Safari on iPhone",
            ),
            ("", "An unknown browser"),
            ("curl/8.5.0", "HTTP Library"),
        ] {
            assert_eq!(browser(user_agent), shown, "{user_agent}");
        }
    }
}
