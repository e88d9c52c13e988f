//! Links in a visitor's emails: to their conversation page, and to unsubscribe. Each holds 256
//! random bits in its address, of which the database keeps only the SHA-256; a link made to
//! unsubscribe opens nothing else (mail providers may follow `List-Unsubscribe`).

use crate::auth::{hash_token, random_secret};
use earshot_store::model::LinkPurpose;
use earshot_store::{Database, StoreError, now_millis};

/// Where conversation pages live.
pub const PATH: &str = "/conversation";
/// Where unsubscribe links lead.
pub const UNSUBSCRIBE_PATH: &str = "/unsubscribe";
/// How long a conversation link works, from the email that carried it.
pub const LINK_DAYS: i64 = 90;
/// How long an unsubscribe link works, from the email that carried it.
pub const UNSUBSCRIBE_LINK_DAYS: i64 = 365;

/// A new link for a submission's visitor: the token to put in the address (only its hash is
/// stored).
pub fn new_token(
    db: &mut dyn Database,
    purpose: LinkPurpose,
    feedback_id: &str,
) -> Result<String, StoreError> {
    let token = random_secret("", 32);
    let now = now_millis();
    let days = match purpose {
        LinkPurpose::Conversation => LINK_DAYS,
        LinkPurpose::Unsubscribe => UNSUBSCRIBE_LINK_DAYS,
    };
    db.add_link(
        purpose,
        feedback_id,
        &hash_token(&token),
        now,
        now + days * 86_400_000,
    )?;
    Ok(token)
}

/// The address of a link.
pub fn link(public_url: &str, purpose: LinkPurpose, token: &str) -> String {
    let path = match purpose {
        LinkPurpose::Conversation => PATH,
        LinkPurpose::Unsubscribe => UNSUBSCRIBE_PATH,
    };
    format!("{}{path}/{token}", public_url.trim_end_matches('/'))
}

/// Whether `token` could be one of ours (64 hex digits): anything else is not looked up.
pub fn well_formed(token: &str) -> bool {
    token.len() == 64 && token.bytes().all(|b| b.is_ascii_hexdigit())
}
