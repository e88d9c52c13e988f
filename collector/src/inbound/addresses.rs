//! Reply addresses: `support+<token>@feedback.example`, a plus-variant of the watched mailbox
//! (`--inbound-address`) that names one conversation, and for an owner's notice also that
//! owner. The token is 128 random bits in hex (the whole local part stays within the 64
//! characters SMTP allows); the database keeps only its SHA-256, as for conversation links.

use lettre::Address;

use super::reading::TOKEN_CHARS;
use crate::auth::{hash_token, random_secret};
use earshot_store::inbound::ReplyToken;
use earshot_store::{Database, StoreError, now_millis};

/// How long a reply address works, from the email that carried it: a visitor may answer
/// months later; after that their email waits as unmatched for an owner.
pub const REPLY_ADDRESS_DAYS: i64 = 365;

/// A new reply address for `token` on the inbound mailbox `inbound`.
pub fn new_reply_address(
    db: &mut dyn Database,
    inbound: &Address,
    token: &ReplyToken,
) -> Result<Address, StoreError> {
    let secret = random_secret("", TOKEN_CHARS / 2);
    let now = now_millis();
    db.add_reply_token(
        &hash_token(&secret),
        token,
        now,
        now + REPLY_ADDRESS_DAYS * 86_400_000,
    )?;
    Ok(plus_address(inbound, &secret))
}

/// `user+tag@domain` (a tag already on the address is replaced).
pub fn plus_address(inbound: &Address, tag: &str) -> Address {
    let user = inbound.user();
    let user = user.split_once('+').map_or(user, |(base, _)| base);
    Address::new(format!("{user}+{tag}"), inbound.domain())
        .expect("a valid address with a hex tag is valid")
}

/// Whether `address` is the inbound mailbox or one of its plus-variants (Earshot's own).
pub fn is_ours(inbound: &Address, address: &str) -> bool {
    let Some((user, domain)) = address.rsplit_once('@') else {
        return false;
    };
    let user = user.split_once('+').map_or(user, |(base, _)| base);
    let ours = inbound.user();
    let ours = ours.split_once('+').map_or(ours, |(base, _)| base);
    user.eq_ignore_ascii_case(ours) && domain.eq_ignore_ascii_case(inbound.domain())
}

/// "You can answer by replying", in the visitor's language (the widget's languages).
pub fn visitor_hint(lang: &str) -> &'static str {
    match lang {
        "es" => "Puede responder a este correo o en su página.",
        "fr" => "Vous pouvez répondre à cet e-mail ou sur votre page.",
        "de" => "Sie können auf diese E-Mail antworten oder auf Ihrer Seite.",
        "pt" => "Pode responder a este e-mail ou na sua página.",
        "ja" => "このメールに返信するか、あなたのページから回答できます。",
        "zh" => "您可以直接回复此邮件，或在您的页面上回复。",
        _ => "You can answer by replying to this email, or on your page.",
    }
}

/// What an owner's notice says when it can be answered by replying.
pub const OWNER_HINT: &str = "Reply to this email to answer the visitor: your reply goes to them from the site, as one written in the dashboard would.";

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plus_addresses_stay_within_smtp_bounds() {
        let inbound: Address = "support@feedback.example".parse().unwrap();
        let tagged = plus_address(&inbound, &"a".repeat(TOKEN_CHARS));
        assert_eq!(tagged.user().len(), "support+".len() + TOKEN_CHARS);
        assert!(tagged.user().len() <= 64);
        assert!(is_ours(&inbound, tagged.as_ref()));
        assert!(is_ours(&inbound, "SUPPORT@feedback.example"));
        assert!(!is_ours(&inbound, "support@elsewhere.example"));
    }
}
