//! Visitor and owner text made safe for one line of an email's header or a list: the one
//! piece of mail that the inbound side uses too, kept apart so that it imports nothing.

/// Text for a header: one line (no CR, LF or other control characters, which could start a
/// header of their own), at most `max` characters.
pub fn one_line(text: &str, max: usize) -> String {
    let line: String = text
        .chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect();
    let line = line.split_whitespace().collect::<Vec<_>>().join(" ");
    match line.char_indices().nth(max) {
        Some((cut, _)) => format!("{}…", &line[..cut]),
        None => line,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Names and subjects can never start a header of their own.
    #[test]
    fn header_text_is_one_line() {
        assert_eq!(
            one_line("Shop\r\nBcc: evil@example.com", 100),
            "Shop Bcc: evil@example.com"
        );
        assert_eq!(one_line("a\u{0}b\tc", 100), "a b c");
        assert_eq!(one_line("abcdef", 3), "abc…");
    }
}
