//! The widget's visible text. Every string a visitor sees comes from here.

/// The text of the widget in one language.
#[derive(Debug, PartialEq)]
pub struct Texts {
    pub launcher: &'static str,
    pub title: &'static str,
    pub close: &'static str,
    pub rating_legend: &'static str,
    pub star_names: [&'static str; 5],
    pub comment_label: &'static str,
    pub comment_placeholder: &'static str,
    pub email_label: &'static str,
    pub email_hint: &'static str,
    pub honeypot_label: &'static str,
    pub submit: &'static str,
    pub sending: &'static str,
    pub thanks_title: &'static str,
    pub thanks_body: &'static str,
    pub done: &'static str,
    pub choose_rating: &'static str,
    pub network_error: &'static str,
    pub server_error: &'static str,
    pub retry: &'static str,
}

pub const EN: Texts = Texts {
    launcher: "Feedback",
    title: "How was your visit?",
    close: "Close",
    rating_legend: "Your rating",
    star_names: ["1 star", "2 stars", "3 stars", "4 stars", "5 stars"],
    comment_label: "Tell us more (optional)",
    comment_placeholder: "What did you like? What could be better?",
    email_label: "Email (optional)",
    email_hint: "Only if you would like a reply.",
    honeypot_label: "Leave this field empty",
    submit: "Send feedback",
    sending: "Sending…",
    thanks_title: "Thank you!",
    thanks_body: "Your feedback was sent. We read every message.",
    done: "Close",
    choose_rating: "Please choose a rating first.",
    network_error: "Your feedback could not be sent: the connection failed.",
    server_error: "Your feedback could not be sent. Please try again in a moment.",
    retry: "Try again",
};

/// The texts for a language tag; English until more languages are added.
pub fn texts(_lang: Option<&str>) -> &'static Texts {
    &EN
}
