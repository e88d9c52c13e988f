//! Only the new words of a reply: the quoted history mail clients append ("On … wrote:" in
//! the widget's languages and the forms of Gmail, Outlook, Apple Mail and Thunderbird,
//! Outlook's "-----Original Message-----" and "From:" blocks, `>` lines) and the signature
//! after `-- ` are cut. An HTML-only email is cut at the containers clients quote in, then
//! turned into text (each block on its own line) by `mail-parser`'s converter.

/// How the clients introduce what they quote, by the end of the line (lowercase): English,
/// Spanish, French, German, Portuguese, Japanese, Chinese (simplified and traditional).
const ATTRIBUTION_ENDS: &[&str] = &[
    "wrote:",
    "escribió:",
    "a écrit :",
    "a écrit:",
    "schrieb:",
    "escreveu:",
    "のメール:",
    "のメール：",
    "書きました:",
    "書きました：",
    "写道:",
    "写道：",
    "寫道:",
    "寫道：",
];

/// How attributions start, in the languages whose clients put the date first.
const ATTRIBUTION_STARTS: &[&str] = &["on ", "el ", "le ", "am ", "em ", "op "];

/// Headers of a quoted message in Outlook's and Thunderbird's "From:" block, in the widget's
/// languages.
const FROM_LINES: &[&str] = &[
    "from:",
    "de :",
    "de:",
    "von:",
    "差出人:",
    "发件人:",
    "寄件者:",
];
const SENT_LINES: &[&str] = &[
    "sent:",
    "date:",
    "to:",
    "subject:",
    "enviado:",
    "fecha:",
    "envoyé :",
    "envoyé:",
    "gesendet:",
    "datum:",
    "an:",
    "betreff:",
    "para:",
    "assunto:",
    "送信日時:",
    "宛先:",
    "件名:",
    "发送时间:",
    "收件人:",
    "主题:",
];

fn is_attribution(line: &str) -> bool {
    let lower = line.trim().to_lowercase();
    if lower.is_empty() {
        return false;
    }
    if ATTRIBUTION_ENDS.iter().any(|end| lower.ends_with(end)) {
        return true;
    }
    // German clients name the writer after the verb: "Am 08.12.26 um 02:00 schrieb Shop:".
    if lower.starts_with("am ") && lower.contains(" schrieb ") && lower.ends_with(':') {
        return true;
    }
    // Gmail in Japanese and others: "2026年12月8日(火) 2:00 Shop <a@b.c>:".
    lower.ends_with(">:") && lower.contains('@')
}

/// Where an Outlook-style "From:" block starts: a "From:" line followed, within four lines,
/// by a "Sent:"/"To:"/"Subject:" line.
fn is_header_block(lines: &[&str], at: usize) -> bool {
    let first = lines[at].trim().to_lowercase();
    let first = first.trim_start_matches('*');
    if !FROM_LINES.iter().any(|from| first.starts_with(from)) {
        return false;
    }
    lines[at + 1..]
        .iter()
        .take(4)
        .map(|line| line.trim().to_lowercase())
        .any(|line| {
            let line = line.trim_start_matches('*');
            SENT_LINES.iter().any(|sent| line.starts_with(sent))
        })
}

/// Where clients put what they quote in HTML (lowercase): Gmail, Outlook (old and new),
/// Thunderbird, Apple Mail and Yahoo, and any `<blockquote>`.
const HTML_QUOTE_MARKS: &[&str] = &[
    "class=\"gmail_quote",
    "id=\"appendonsend\"",
    "id=\"divrplyfwdmsg\"",
    "id=\"mail-editor-reference-message-container\"",
    "class=\"moz-cite-prefix\"",
    "class=\"yahoo_quoted\"",
    "<blockquote",
];

/// Tags that start a line of their own in text.
const BLOCK_TAGS: &[&str] = &[
    "div",
    "p",
    "br",
    "hr",
    "tr",
    "li",
    "blockquote",
    "h1",
    "h2",
    "h3",
    "h4",
    "h5",
    "h6",
    "table",
];

/// The text of an HTML-only reply, without what it quotes. No HTML is kept.
pub fn html_text(html: &str) -> String {
    let lower = html.to_ascii_lowercase();
    // The quoting container starts at the tag the mark is in.
    let cut = HTML_QUOTE_MARKS
        .iter()
        .filter_map(|mark| lower.find(mark))
        .map(|at| lower[..at + 1].rfind('<').unwrap_or(at))
        .min()
        .unwrap_or(html.len());
    let kept = &html[..cut];
    let mut lined = String::with_capacity(kept.len() + 64);
    let mut rest = kept;
    while let Some(at) = rest.find('<') {
        lined.push_str(&rest[..at]);
        let tag = &rest[at + 1..];
        let name: String = tag
            .chars()
            .take_while(|c| c.is_ascii_alphanumeric())
            .collect::<String>()
            .to_ascii_lowercase();
        if BLOCK_TAGS.contains(&name.as_str()) && name != "br" {
            lined.push_str("<br>");
        }
        lined.push('<');
        rest = &rest[at + 1..];
    }
    lined.push_str(rest);
    mail_parser::decoders::html::html_to_text(&lined)
}

/// The new words of a reply's text.
pub fn new_words(text: &str) -> String {
    let text = text.replace("\r\n", "\n").replace('\r', "\n");
    let lines: Vec<&str> = text.lines().collect();
    let mut kept: Vec<&str> = Vec::new();
    for (at, line) in lines.iter().enumerate() {
        let trimmed = line.trim_end();
        if trimmed == "--" || *line == "-- " {
            break;
        }
        let lower = trimmed.trim().to_lowercase();
        if lower.starts_with("-----original message-----")
            || lower.starts_with("-----ursprüngliche nachricht-----")
            || lower.starts_with("-----message d'origine-----")
            || lower.starts_with("-----mensaje original-----")
            || lower.starts_with("-----mensagem original-----")
            || lower.starts_with("________________________________")
            || lower.starts_with("---------- forwarded message")
        {
            break;
        }
        if is_header_block(&lines, at) {
            break;
        }
        if is_attribution(trimmed) {
            break;
        }
        // An attribution wrapped over two lines ("On Tue, 8 Dec 2026 at 02:00, Shop <" then
        // "support+…@shop.example> wrote:").
        if let Some(next) = lines.get(at + 1) {
            let starts = ATTRIBUTION_STARTS
                .iter()
                .any(|start| lower.starts_with(start));
            if starts && is_attribution(next) && !next.trim_start().starts_with('>') {
                break;
            }
        }
        if trimmed.trim_start().starts_with('>') {
            continue;
        }
        kept.push(trimmed);
    }
    // Blank lines at either end go; those between paragraphs stay.
    while kept.last().is_some_and(|line| line.trim().is_empty()) {
        kept.pop();
    }
    let first = kept
        .iter()
        .position(|line| !line.trim().is_empty())
        .unwrap_or(kept.len());
    kept[first..].join("\n")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quoted_history_and_signatures_are_cut() {
        let cases = [
            (
                "Thanks, it works!\n\nOn Tue, Dec 8, 2026 at 2:00 AM Shop <support+ab@shop.example> wrote:\n> Fixed.\n",
                "Thanks, it works!",
            ),
            (
                "Merci !\n\nLe mar. 8 déc. 2026 à 02:00, Shop <s@shop.example> a écrit :\n> Corrigé.",
                "Merci !",
            ),
            (
                "Danke.\n\nAm 08.12.2026 um 02:00 schrieb Shop <s@shop.example>:\n> Behoben.",
                "Danke.",
            ),
            (
                "¡Gracias!\n\nEl mar, 8 dic 2026 a las 2:00, Shop (<s@x.example>) escribió:\n> Hecho.",
                "¡Gracias!",
            ),
            (
                "Obrigado!\n\nEm ter., 8 de dez. de 2026 às 02:00, Shop <s@x.example> escreveu:\n> Feito.",
                "Obrigado!",
            ),
            (
                "ありがとう。\n\n2026年12月8日(火) 2:00 Shop <s@x.example>:\n> 直しました。",
                "ありがとう。",
            ),
            (
                "谢谢！\n\nShop <s@x.example> 于2026年12月8日周二 02:00写道：\n> 已修复。",
                "谢谢！",
            ),
            (
                "Great\n\nOn 8 Dec 2026, at 02:00, Shop <\nsupport+ab@shop.example> wrote:\n\n> Fixed.",
                "Great",
            ),
            (
                "Yes please.\n\n-----Original Message-----\nFrom: Shop\nSent: Tuesday\nFixed.",
                "Yes please.",
            ),
            (
                "Yes.\n\n________________________________\nFrom: Shop <s@x.example>\nSent: Tuesday, December 8, 2026 2:00 AM\nTo: me\nSubject: Re: your feedback\n\nFixed.",
                "Yes.",
            ),
            (
                "Sure.\n\nFrom: Shop <s@x.example>\nDate: Tuesday\nTo: me\n\nFixed.",
                "Sure.",
            ),
            ("Bye\n-- \nAda Lovelace\nAnalytical Engines Ltd", "Bye"),
            (
                "Danke!\n\nAm 08.12.26 um 02:00 schrieb Demo shop:\n> Behoben.",
                "Danke!",
            ),
            ("Line one\n\nLine two\r\n", "Line one\n\nLine two"),
            ("> quoted only\nmine", "mine"),
        ];
        for (text, expected) in cases {
            assert_eq!(new_words(text), expected, "{text:?}");
        }
    }

    #[test]
    fn html_only_replies_lose_their_quotes_and_tags() {
        let html = "<html><head><style>P {margin:0}</style></head><body><div>Thanks &amp; <b>bye</b></div>\
                    <div>Second line</div><div id=\"appendonsend\"></div><hr><div id=\"divRplyFwdMsg\">\
                    <b>From:</b> Shop</div><div>Old words</div></body></html>";
        assert_eq!(new_words(&html_text(html)), "Thanks & bye\nSecond line");
        let gmail = "<div dir=\"ltr\">New</div><br><div class=\"gmail_quote\"><div>On Tue wrote:</div><blockquote>Old</blockquote></div>";
        assert_eq!(new_words(&html_text(gmail)), "New");
    }

    /// Words that merely mention writing are kept.
    #[test]
    fn ordinary_lines_stay() {
        assert_eq!(
            new_words("I wrote: the checkout fails\non Safari."),
            "I wrote: the checkout fails\non Safari."
        );
    }
}
