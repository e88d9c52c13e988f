//! Reading one raw email (RFC 5322, any MIME structure, charset and transfer encoding, with
//! `mail-parser`) within limits, into what the pipeline decides on: who sent it, the reply
//! tokens and thread references it carries, whether a machine sent it, a bounce's report,
//! and its new words as text (an HTML-only body is turned into text by the parser; no HTML
//! is kept).

use mail_parser::{MessageParser, MimeHeaders, PartType};
use sha2::{Digest, Sha256};

use super::quotes::{html_text, new_words};

/// The largest email taken, in bytes (`POST /v1/inbound-email` answers 413 above it; the IMAP
/// watcher records a larger one as unmatched without reading its body). Replies are text; a
/// few photos fit.
pub const MAX_INBOUND_BYTES: usize = 10 * 1024 * 1024;
/// The most MIME parts an email may have, nested messages included.
pub const MAX_MIME_PARTS: usize = 200;
/// The deepest nesting of messages and multiparts an email may have.
pub const MAX_MIME_DEPTH: usize = 12;
/// The longest subject kept, in characters.
const MAX_SUBJECT_CHARS: usize = 300;

/// Why an email cannot be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Unreadable {
    #[error("the email is larger than {MAX_INBOUND_BYTES} bytes")]
    TooLarge,
    #[error("the email has more than {MAX_MIME_PARTS} MIME parts")]
    TooManyParts,
    #[error("the email's MIME parts are nested deeper than {MAX_MIME_DEPTH}")]
    TooDeep,
    #[error("this is not an email (it has no From header)")]
    NotAnEmail,
}

/// A bounce's report (RFC 3464): the address that failed and what its server said.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Bounce {
    /// The recipient that failed (`Final-Recipient`), lowercase; `None` when not said.
    pub address: Option<String>,
    /// `Action: failed` (a delay or a relay report is only noted).
    pub failed: bool,
    /// The server's words: `Status` and `Diagnostic-Code`.
    pub words: String,
    /// The `Message-ID` of the email that bounced, from the returned headers.
    pub original_message_id: Option<String>,
}

/// An email as the pipeline sees it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Reading {
    /// `Message-ID` without its brackets, or `sha256:` and the hash of the bytes.
    pub key: String,
    /// The `From` address, lowercase; empty when there is none.
    pub sender: String,
    pub subject: String,
    /// Reply tokens found in the recipient headers (`+<token>@`).
    pub tokens: Vec<String>,
    /// The `Message-ID`s of `In-Reply-To` and `References`, without brackets, nearest first.
    pub references: Vec<String>,
    /// Why a machine sent it (RFC 3834 and the common conventions), if one did.
    pub automatic: Option<String>,
    pub bounce: Option<Bounce>,
    /// Only the new words, as text.
    pub words: String,
    /// Attachments that are not part of the text (named for the owner's note).
    pub attachments: Vec<String>,
}

/// The recipient headers a reply token is looked for in.
const RECIPIENT_HEADERS: &[&str] = &[
    "to",
    "cc",
    "delivered-to",
    "x-original-to",
    "envelope-to",
    "x-envelope-to",
];

/// Length of a reply token: 128 random bits in hex.
pub const TOKEN_CHARS: usize = 32;

/// Every `+<token>@` in a header's text.
fn tokens_in(value: &str, into: &mut Vec<String>) {
    let lower = value.to_ascii_lowercase();
    let bytes = lower.as_bytes();
    for (at, _) in lower.match_indices('+') {
        let start = at + 1;
        let end = start + TOKEN_CHARS;
        if end < bytes.len()
            && bytes[end] == b'@'
            && bytes[start..end].iter().all(u8::is_ascii_hexdigit)
        {
            let token = lower[start..end].to_owned();
            if !into.contains(&token) {
                into.push(token);
            }
        }
    }
}

/// `<a@b> <c@d>` → `["a@b", "c@d"]`.
fn message_ids(value: &str) -> Vec<String> {
    value
        .split(['<', '>', ' ', ',', '\t', '\r', '\n'])
        .map(str::trim)
        .filter(|id| id.contains('@'))
        .map(str::to_owned)
        .collect()
}

/// Why a machine sent this email, by its headers and subject.
fn automatic(message: &mail_parser::Message<'_>, subject: &str) -> Option<String> {
    let raw = |name: &str| {
        message
            .headers_raw()
            .find(|(header, _)| header.eq_ignore_ascii_case(name))
            .map(|(_, value)| value.trim().to_ascii_lowercase())
    };
    if let Some(value) = raw("auto-submitted")
        && !value.starts_with("no")
    {
        return Some(format!("Auto-Submitted: {value}"));
    }
    for header in ["x-autoreply", "x-autorespond", "x-autoresponder"] {
        if raw(header).is_some() {
            return Some(format!("{header} header"));
        }
    }
    if let Some(value) = raw("precedence")
        && ["bulk", "auto_reply", "junk", "list"].contains(&value.as_str())
    {
        return Some(format!("Precedence: {value}"));
    }
    if raw("x-auto-response-suppress").is_some_and(|v| v.contains("all") || v.contains("oof")) {
        return Some("X-Auto-Response-Suppress header".to_owned());
    }
    let lower = subject.trim().to_lowercase();
    const OUT_OF_OFFICE: &[&str] = &[
        "out of office",
        "automatic reply",
        "auto-reply",
        "autoreply",
        "auto:",
        "abwesenheitsnotiz",
        "automatische antwort",
        "réponse automatique",
        "absence du bureau",
        "respuesta automática",
        "fuera de la oficina",
        "resposta automática",
        "ausente do escritório",
        "自動応答",
        "自動返信",
        "不在",
        "自动回复",
        "自動回覆",
    ];
    OUT_OF_OFFICE
        .iter()
        .find(|words| lower.starts_with(*words) || lower.contains(&format!(": {words}")))
        .map(|words| format!("an out-of-office subject ({words})"))
}

/// The fields of a delivery-status part: `Name: value` lines, lowercase names.
fn status_fields(text: &str) -> Vec<(String, String)> {
    let mut fields: Vec<(String, String)> = Vec::new();
    for line in text.lines() {
        if line.starts_with([' ', '\t']) {
            // A folded line continues the field before it.
            if let Some((_, value)) = fields.last_mut() {
                value.push(' ');
                value.push_str(line.trim());
            }
        } else if let Some((name, value)) = line.split_once(':') {
            fields.push((name.trim().to_ascii_lowercase(), value.trim().to_owned()));
        }
    }
    fields
}

fn bounce(message: &mail_parser::Message<'_>) -> Option<Bounce> {
    let root = message.root_part().content_type()?;
    let report = root.ctype().eq_ignore_ascii_case("multipart")
        && root
            .subtype()
            .is_some_and(|sub| sub.eq_ignore_ascii_case("report"))
        && root
            .attribute("report-type")
            .is_some_and(|kind| kind.eq_ignore_ascii_case("delivery-status"));
    if !report {
        return None;
    }
    let mut found = Bounce {
        address: None,
        failed: false,
        words: String::new(),
        original_message_id: None,
    };
    for part in &message.parts {
        let Some(kind) = part.content_type() else {
            continue;
        };
        let subtype = kind.subtype().unwrap_or_default().to_ascii_lowercase();
        match (kind.ctype().to_ascii_lowercase().as_str(), subtype.as_str()) {
            ("message", "delivery-status") => {
                let text = match &part.body {
                    PartType::Text(text) => text.to_string(),
                    PartType::Binary(bytes) | PartType::InlineBinary(bytes) => {
                        String::from_utf8_lossy(bytes).into_owned()
                    }
                    // Some parsers read the per-recipient fields as a message of headers.
                    PartType::Message(inner) => {
                        String::from_utf8_lossy(inner.raw_message()).into_owned()
                    }
                    _ => String::new(),
                };
                let mut words = Vec::new();
                for (name, value) in status_fields(&text) {
                    match name.as_str() {
                        "final-recipient" | "original-recipient" if found.address.is_none() => {
                            let address = value.rsplit(';').next().unwrap_or_default();
                            found.address = Some(address.trim().to_ascii_lowercase());
                        }
                        "action" => found.failed |= value.eq_ignore_ascii_case("failed"),
                        "status" | "diagnostic-code" => words.push(value),
                        _ => {}
                    }
                }
                found.words = words.join(" ");
            }
            ("message", "rfc822") | ("text", "rfc822-headers") | ("message", "rfc822-headers") => {
                let headers = match &part.body {
                    PartType::Message(inner) => inner.message_id().map(str::to_owned),
                    PartType::Text(text) => MessageParser::default()
                        .parse_headers(text.as_bytes())
                        .and_then(|inner| inner.message_id().map(str::to_owned)),
                    PartType::Binary(bytes) | PartType::InlineBinary(bytes) => {
                        MessageParser::default()
                            .parse_headers(bytes.as_ref())
                            .and_then(|inner| inner.message_id().map(str::to_owned))
                    }
                    _ => None,
                };
                if found.original_message_id.is_none() {
                    found.original_message_id = headers;
                }
            }
            _ => {}
        }
    }
    Some(found)
}

/// Counts parts and nesting, nested messages included.
fn within_limits(
    message: &mail_parser::Message<'_>,
    depth: usize,
    parts: &mut usize,
) -> Result<(), Unreadable> {
    if depth > MAX_MIME_DEPTH {
        return Err(Unreadable::TooDeep);
    }
    // Multipart nesting within one message: follow the part tree from the root.
    fn tree_depth(message: &mail_parser::Message<'_>, id: u32, depth: usize) -> usize {
        match message.parts.get(id as usize).map(|part| &part.body) {
            Some(PartType::Multipart(children)) => children
                .iter()
                .filter(|child| **child > id)
                .map(|child| tree_depth(message, *child, depth + 1))
                .max()
                .unwrap_or(depth),
            _ => depth,
        }
    }
    *parts += message.parts.len();
    if *parts > MAX_MIME_PARTS {
        return Err(Unreadable::TooManyParts);
    }
    if depth + tree_depth(message, 0, 0) > MAX_MIME_DEPTH {
        return Err(Unreadable::TooDeep);
    }
    for part in &message.parts {
        if let PartType::Message(inner) = &part.body {
            within_limits(inner, depth + 1, parts)?;
        }
    }
    Ok(())
}

/// One line, at most `max` characters.
fn line(text: &str, max: usize) -> String {
    crate::mail::text::one_line(text, max)
}

/// Reads an email.
pub fn read(raw: &[u8]) -> Result<Reading, Unreadable> {
    if raw.len() > MAX_INBOUND_BYTES {
        return Err(Unreadable::TooLarge);
    }
    let message = MessageParser::default()
        .parse(raw)
        .ok_or(Unreadable::NotAnEmail)?;
    // Every email has a From (RFC 5322); bytes without one are not an email.
    if message.from().is_none_or(|from| from.first().is_none()) {
        return Err(Unreadable::NotAnEmail);
    }
    within_limits(&message, 0, &mut 0)?;
    let key = match message
        .message_id()
        .map(str::trim)
        .filter(|id| !id.is_empty())
    {
        Some(id) => line(id, 400),
        None => format!("sha256:{:x}", Sha256::digest(raw)),
    };
    let sender = message
        .from()
        .and_then(|from| from.first())
        .and_then(|from| from.address.as_deref())
        .map(|address| address.trim().to_lowercase())
        .unwrap_or_default();
    let subject = line(message.subject().unwrap_or_default(), MAX_SUBJECT_CHARS);
    let mut tokens = Vec::new();
    for (name, value) in message.headers_raw() {
        if RECIPIENT_HEADERS
            .iter()
            .any(|wanted| name.eq_ignore_ascii_case(wanted))
        {
            tokens_in(value, &mut tokens);
        }
    }
    let mut references = Vec::new();
    for (name, value) in message.headers_raw() {
        if name.eq_ignore_ascii_case("in-reply-to") {
            references.extend(message_ids(value));
        }
    }
    for (name, value) in message.headers_raw() {
        if name.eq_ignore_ascii_case("references") {
            // The nearest reference is the last.
            references.extend(message_ids(value).into_iter().rev());
        }
    }
    let bounce = bounce(&message);
    let automatic = automatic(&message, &subject);
    // An HTML-only email (the parser offers its HTML as the text body) is cut at its quoting
    // containers before it becomes text.
    let words = match message.text_part(0) {
        Some(part) if part.is_text_html() => {
            new_words(&html_text(part.text_contents().unwrap_or_default()))
        }
        _ => new_words(&message.body_text(0).unwrap_or_default()),
    };
    let attachments = message
        .attachments()
        .map(|part| {
            part.attachment_name()
                .map(|name| line(name, 100))
                .unwrap_or_else(|| "an unnamed attachment".to_owned())
        })
        .collect();
    Ok(Reading {
        key,
        sender,
        subject,
        tokens,
        references,
        automatic,
        bounce,
        words,
        attachments,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_are_found_in_plus_addresses() {
        let mut found = Vec::new();
        tokens_in(
            "Shop <Support+0123456789ABCDEF0123456789abcdef@shop.example>, other+short@x.example",
            &mut found,
        );
        assert_eq!(found, vec!["0123456789abcdef0123456789abcdef".to_owned()]);
    }

    #[test]
    fn garbage_is_not_an_email_and_nothing_panics() {
        assert_eq!(read(b""), Err(Unreadable::NotAnEmail));
        for bytes in [
            &b"\xff\xfe\x00garbage"[..],
            b"no colon here\r\n\r\nbody",
            b":\r\n",
        ] {
            let _ = read(bytes);
        }
    }

    #[test]
    fn deep_nesting_is_refused() {
        let mut raw = String::from("From: a@b.example\r\nMessage-ID: <deep@x>\r\n");
        for level in 0..(MAX_MIME_DEPTH + 2) {
            raw.push_str(&format!(
                "Content-Type: multipart/mixed; boundary=\"b{level}\"\r\n\r\n--b{level}\r\n"
            ));
        }
        raw.push_str("Content-Type: text/plain\r\n\r\nhi\r\n");
        assert_eq!(read(raw.as_bytes()), Err(Unreadable::TooDeep));
    }
}
