//! The frame of every dashboard page (head, header, navigation) and the page that only says
//! something.

use maud::{DOCTYPE, Markup, html};

use crate::accounts::Session;

pub(super) fn layout(
    title: &str,
    session: Option<&Session>,
    current: &str,
    body: Markup,
) -> Markup {
    html! {
        (DOCTYPE)
        html lang="en" {
            head {
                meta charset="utf-8";
                meta name="viewport" content="width=device-width, initial-scale=1";
                meta name="robots" content="noindex";
                title { (title) " · Earshot" }
                link rel="stylesheet" href="/admin/admin.css";
                script src="/admin/admin.js" defer {}
            }
            body {
                header.top {
                    a.brand href="/admin/inbox" { "Earshot" }
                    @if let Some(session) = session {
                        nav aria-label="Dashboard" {
                            a href="/admin/inbox" aria-current=[(current == "inbox").then_some("page")] { "Inbox" }
                            a href="/admin/unmatched" aria-current=[(current == "unmatched").then_some("page")] { "Unmatched mail" }
                            a href="/admin/stats" aria-current=[(current == "stats").then_some("page")] { "Statistics" }
                            a href="/admin/sites" aria-current=[(current == "sites").then_some("page")] { "Sites" }
                            a href="/admin/erase" aria-current=[(current == "erase").then_some("page")] { "Erase" }
                            a href="/admin/account" aria-current=[(current == "account").then_some("page")] { "Your email" }
                        }
                        form.signout method="post" action="/admin/logout" {
                            input type="hidden" name="csrf" value=(session.csrf);
                            span.who { (session.user.email) }
                            button.link type="submit" { "Sign out" }
                        }
                    }
                }
                main { (body) }
            }
        }
    }
}

/// A page that only says something (errors).
pub fn message(text: &str) -> Markup {
    layout(
        "Earshot",
        None,
        "",
        html! {
            section.card.narrow {
                p { (text) }
                p { a href="/admin/inbox" { "Back to the inbox" } }
            }
        },
    )
}
