//! API tokens for owner routes. A token is 32 random bytes shown once at creation; the
//! database keeps only its SHA-256, so a leaked database does not leak working tokens.
//! (A fast hash is right here: tokens are random, not passwords, so there is nothing to
//! brute-force.)

use actix_web::HttpRequest;
use actix_web::http::header;
use sha2::{Digest, Sha256};

use crate::error::AppError;
use earshot_store::{Store, TokenInfo};

/// Every token starts with this, so a leaked one is easy to recognise (and to scan for).
pub const TOKEN_PREFIX: &str = "eshot_";

/// Makes a new random token.
pub fn generate_token() -> String {
    random_secret(TOKEN_PREFIX, 32)
}

/// `prefix` followed by `bytes` random bytes from the operating system, in hex: API tokens,
/// session and CSRF tokens, webhook secrets.
pub fn random_secret(prefix: &str, bytes: usize) -> String {
    let mut random = vec![0u8; bytes];
    getrandom::fill(&mut random).expect("the operating system's random number generator failed");
    let mut secret = String::with_capacity(prefix.len() + 2 * bytes);
    secret.push_str(prefix);
    for byte in random {
        secret.push_str(&format!("{byte:02x}"));
    }
    secret
}

/// The form in which a token is stored and looked up.
pub fn hash_token(token: &str) -> String {
    format!("{:x}", Sha256::digest(token.as_bytes()))
}

/// The bearer token of a request, if it has one.
fn bearer(request: &HttpRequest) -> Option<&str> {
    let value = request
        .headers()
        .get(header::AUTHORIZATION)?
        .to_str()
        .ok()?;
    let (scheme, token) = value.split_once(' ')?;
    scheme.eq_ignore_ascii_case("bearer").then(|| token.trim())
}

/// Checks that the request carries a live token allowed to read `site_key`.
pub async fn authorize_site(
    request: &HttpRequest,
    store: &Store,
    site_key: &str,
) -> Result<TokenInfo, AppError> {
    let token = bearer(request).ok_or(AppError::Unauthorized)?;
    if !token.starts_with(TOKEN_PREFIX) {
        return Err(AppError::Unauthorized);
    }
    let hash = hash_token(token);
    let site_key_owned = site_key.to_owned();
    let (token, site) = store
        .read_async(move |conn| Ok((conn.token_by_hash(&hash)?, conn.site(&site_key_owned)?)))
        .await?;
    let token = token.ok_or(AppError::Unauthorized)?;
    if token
        .site
        .as_deref()
        .is_some_and(|allowed| allowed != site_key)
    {
        return Err(AppError::Forbidden(site_key.to_owned()));
    }
    if site.is_none() {
        return Err(AppError::UnknownSite(site_key.to_owned()));
    }
    Ok(token)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_are_random_and_hashes_stable() {
        let a = generate_token();
        let b = generate_token();
        assert_ne!(a, b);
        assert!(a.starts_with(TOKEN_PREFIX));
        assert_eq!(a.len(), TOKEN_PREFIX.len() + 64);
        assert_ne!(hash_token(&a), hash_token(&b));
    }

    #[test]
    fn token_hashes_match_a_known_answer() {
        // SHA-256 of the token's text, as Python's hashlib computes it: a change here would
        // make every stored token stop working.
        let token = format!("{TOKEN_PREFIX}{}", "ab".repeat(32));
        assert_eq!(
            hash_token(&token),
            "5346e6e18f5ef919109c3d731509bde8402138d86b30c4485c7231e4f2276907"
        );
    }
}
