//! Web origins (`scheme://host[:port]`) as browsers send them in the `Origin` header.

/// Parses what an owner typed (`https://Shop.example/`, `http://localhost:8080`) into the exact
/// string a browser would send as `Origin`: lowercase, punycode host, no default port, no path.
pub fn normalize_origin(input: &str) -> Result<String, String> {
    let url = url::Url::parse(input.trim()).map_err(|err| format!("{input:?}: {err}"))?;
    if !matches!(url.scheme(), "http" | "https") {
        return Err(format!(
            "{input:?}: an origin starts with http:// or https://"
        ));
    }
    if url.path() != "/" || url.query().is_some() || url.fragment().is_some() {
        return Err(format!(
            "{input:?}: an origin has no path, query or fragment (did you mean {}?)",
            url.origin().ascii_serialization()
        ));
    }
    if !url.username().is_empty() || url.password().is_some() {
        return Err(format!("{input:?}: an origin has no user name or password"));
    }
    Ok(url.origin().ascii_serialization())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn normalizes_like_a_browser() {
        assert_eq!(
            normalize_origin("https://Shop.Example/").unwrap(),
            "https://shop.example"
        );
        assert_eq!(
            normalize_origin("https://shop.example:443").unwrap(),
            "https://shop.example"
        );
        assert_eq!(
            normalize_origin("http://127.0.0.1:8080").unwrap(),
            "http://127.0.0.1:8080"
        );
        assert_eq!(
            normalize_origin("https://bücher.example").unwrap(),
            "https://xn--bcher-kva.example"
        );
    }

    #[test]
    fn refuses_what_is_not_an_origin() {
        assert!(normalize_origin("shop.example").is_err());
        assert!(normalize_origin("ftp://shop.example").is_err());
        assert!(normalize_origin("https://shop.example/path").is_err());
        assert!(normalize_origin("https://user:pw@shop.example").is_err());
    }
}
