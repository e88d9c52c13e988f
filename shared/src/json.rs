//! A submission's JSON written by hand, for the widget: serde's serialiser, and the
//! formatting machinery it brings along, would add kilobytes to the wasm every visitor
//! downloads. The tests check that it writes exactly what `serde_json` writes from the
//! same submission, so the collector (which reads it with serde) sees no difference.

use crate::feedback::Submission;

const HEX: &[u8; 16] = b"0123456789abcdef";

impl Submission {
    /// The body of `POST /v1/feedback`: the document `serde_json::to_string` writes, field
    /// for field, with the optional fields left out when empty as the serde attributes say.
    pub fn to_json(&self) -> String {
        let mut out = String::with_capacity(320 + self.comment.len());
        let mut id = [0u8; uuid::fmt::Hyphenated::LENGTH];
        out.push_str("{\"id\":\"");
        out.push_str(self.id.hyphenated().encode_lower(&mut id));
        out.push_str("\",\"site\":");
        push_string(&mut out, self.site.as_str());
        out.push_str(",\"rating\":{\"kind\":\"");
        out.push_str(self.rating.kind.as_str());
        out.push_str("\",\"value\":");
        push_decimal(&mut out, self.rating.value.into());
        out.push_str("},\"comment\":");
        push_string(&mut out, &self.comment);
        if let Some(email) = &self.email {
            out.push_str(",\"email\":");
            push_string(&mut out, email);
        }
        out.push_str(",\"page_url\":");
        push_string(&mut out, &self.page_url);
        if let Some(referrer) = &self.referrer {
            out.push_str(",\"referrer\":");
            push_string(&mut out, referrer);
        }
        out.push_str(",\"locale\":");
        push_string(&mut out, &self.locale);
        out.push_str(",\"client\":{\"viewport_width\":");
        push_decimal(&mut out, self.client.viewport_width.into());
        out.push_str(",\"viewport_height\":");
        push_decimal(&mut out, self.client.viewport_height.into());
        out.push_str(",\"user_agent\":");
        push_string(&mut out, &self.client.user_agent);
        out.push_str("},\"open_ms\":");
        push_decimal(&mut out, self.open_ms.into());
        if !self.honeypot.is_empty() {
            out.push_str(",\"honeypot\":");
            push_string(&mut out, &self.honeypot);
        }
        if let Some(user_id) = &self.user_id {
            out.push_str(",\"user_id\":");
            push_string(&mut out, user_id);
        }
        if !self.metadata.is_empty() {
            out.push_str(",\"metadata\":{");
            for (n, (key, value)) in self.metadata.iter().enumerate() {
                if n > 0 {
                    out.push(',');
                }
                push_string(&mut out, key);
                out.push(':');
                push_string(&mut out, value);
            }
            out.push('}');
        }
        out.push('}');
        out
    }
}

/// `text` as a JSON string, escaped as `serde_json` escapes it: quotes, backslashes and
/// control characters; everything else as it is.
pub fn push_string(out: &mut String, text: &str) {
    out.push('"');
    for c in text.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            '\u{8}' => out.push_str("\\b"),
            '\u{c}' => out.push_str("\\f"),
            c if c < ' ' => {
                out.push_str("\\u00");
                out.push(char::from(HEX[usize::from(c as u8 >> 4)]));
                out.push(char::from(HEX[usize::from(c as u8 & 15)]));
            }
            c => out.push(c),
        }
    }
    out.push('"');
}

/// `value` in decimal digits (what `to_string` gives, without the formatting machinery).
pub fn push_decimal(out: &mut String, mut value: u64) {
    let mut digits = [0u8; 20];
    let mut start = digits.len();
    loop {
        start -= 1;
        digits[start] = b'0' + (value % 10) as u8;
        value /= 10;
        if value == 0 {
            break;
        }
    }
    for digit in &digits[start..] {
        out.push(char::from(*digit));
    }
}

/// `value` in decimal digits, as a new string.
pub fn decimal(value: impl Into<u64>) -> String {
    let mut out = String::new();
    push_decimal(&mut out, value.into());
    out
}

#[cfg(test)]
mod tests {
    use uuid::Uuid;

    use super::*;
    use crate::feedback::Metadata;
    use crate::feedback::{ClientInfo, Rating, RatingKind};
    use crate::site::SiteKey;

    fn full() -> Submission {
        Submission {
            id: Uuid::from_u128(0x67e5_5044_10b1_426f_9247_bb68_0e5f_e0c8),
            site: SiteKey::parse("shop-1").unwrap(),
            rating: Rating {
                kind: RatingKind::Nps,
                value: 10,
            },
            // Everything an escaper can get wrong: quotes, backslashes, every control
            // character, non-ASCII, a character outside the BMP, a lone `/`.
            comment: format!(
                "\"quoted\" \\ back/slash {} é — 素晴らしい 👍 \u{7f}\u{2028}",
                (0u8..0x20).map(char::from).collect::<String>()
            ),
            email: Some("ada@example.com".into()),
            page_url: "https://shop.example/cart?step=2&x=\"1\"#top".into(),
            referrer: Some("https://search.example/?q=tea".into()),
            locale: "en-GB".into(),
            client: ClientInfo {
                viewport_width: 4_294_967_295,
                viewport_height: 0,
                user_agent: "Mozilla/5.0 (X11; Linux x86_64)".into(),
            },
            open_ms: 1_234_567,
            honeypot: "filled\tby a bot".into(),
            user_id: Some("customer-42".into()),
            metadata: Metadata::from_iter([
                ("plan".into(), "pro".into()),
                ("a \"key\"".into(), "line\nbreak".into()),
                ("seats".into(), "3".into()),
            ]),
        }
    }

    #[test]
    fn the_hand_written_json_is_what_serde_writes() {
        let minimal = Submission {
            email: None,
            honeypot: String::new(),
            user_id: None,
            metadata: Metadata::new(),
            comment: String::new(),
            locale: String::new(),
            ..full()
        };
        for submission in [full(), minimal] {
            assert_eq!(
                submission.to_json(),
                serde_json::to_string(&submission).unwrap()
            );
            let back: Submission = serde_json::from_str(&submission.to_json()).unwrap();
            assert_eq!(back, submission);
        }
    }

    #[test]
    fn decimals_are_written_like_to_string() {
        for value in [
            0,
            7,
            10,
            99,
            100,
            65_535,
            1_000_000,
            u64::from(u32::MAX),
            u64::MAX,
        ] {
            assert_eq!(decimal(value), value.to_string());
        }
    }
}
