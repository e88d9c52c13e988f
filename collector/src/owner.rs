//! What a site owner can do, written once for the command line (`earshot site …`, `earshot
//! token …`, `earshot erase`) and the dashboard: the rules for a site's name and origins,
//! the snippet, adding a site, its widget defaults, its retention and its promises, API
//! tokens, and erasure by email address. Both call these on a database connection; the
//! callers only turn answers into text or pages.

use earshot_shared::limits::MAX_SITE_NAME_CHARS;
use earshot_shared::{SiteKey, WidgetSettings};
use earshot_store::model::AnswerSettings;
use earshot_store::origin::normalize_origin;
use earshot_store::{Database, Site, StoreError, now_millis};

/// Why an owner's action was refused.
#[derive(Debug, thiserror::Error)]
pub enum OwnerError {
    /// What the owner gave breaks a rule; the message says which.
    #[error("{0}")]
    Invalid(String),
    /// A site with this key exists already.
    #[error("a site with the key {0} exists already")]
    SiteExists(String),
    /// No site has this key.
    #[error("no site has the key {0}")]
    UnknownSite(String),
    #[error(transparent)]
    Store(StoreError),
}

impl From<StoreError> for OwnerError {
    fn from(err: StoreError) -> Self {
        match err {
            StoreError::SiteExists(key) => Self::SiteExists(key),
            StoreError::UnknownSite(key) => Self::UnknownSite(key),
            other => Self::Store(other),
        }
    }
}

/// A site's name, trimmed: 1 to [`MAX_SITE_NAME_CHARS`] characters.
pub fn site_name(name: &str) -> Result<String, OwnerError> {
    let name = name.trim();
    if name.is_empty() || name.chars().count() > MAX_SITE_NAME_CHARS {
        return Err(OwnerError::Invalid(format!(
            "a site name has 1 to {MAX_SITE_NAME_CHARS} characters"
        )));
    }
    Ok(name.to_owned())
}

/// Origins as browsers send them (see `normalize_origin`); at least one.
pub fn origins<'a>(given: impl IntoIterator<Item = &'a str>) -> Result<Vec<String>, OwnerError> {
    let origins = given
        .into_iter()
        .map(str::trim)
        .filter(|origin| !origin.is_empty())
        .map(|origin| normalize_origin(origin).map_err(OwnerError::Invalid))
        .collect::<Result<Vec<_>, _>>()?;
    if origins.is_empty() {
        return Err(OwnerError::Invalid(
            "give at least one origin, e.g. https://shop.example".into(),
        ));
    }
    Ok(origins)
}

/// The one line an owner pastes into their pages, loading the widget from `base` (the
/// collector's public address).
pub fn snippet(base: &str, key: &SiteKey) -> String {
    let base = base.trim_end_matches('/');
    format!(r#"<script src="{base}/earshot.js" data-site="{key}" async></script>"#)
}

/// Adds a site under `key`, or a random key when none is given.
pub fn add_site(
    db: &mut dyn Database,
    name: &str,
    origins: &[String],
    key: Option<&str>,
) -> Result<Site, OwnerError> {
    let name = site_name(name)?;
    let origins = self::origins(origins.iter().map(String::as_str))?;
    let key = match key.map(str::trim).filter(|key| !key.is_empty()) {
        Some(key) => key.to_owned(),
        None => crate::sites::random_site_key(),
    };
    let key = SiteKey::parse(&key).map_err(|err| OwnerError::Invalid(err.to_string()))?;
    Ok(db.add_site(&key, &name, &origins)?)
}

/// Checks a site's widget defaults and saves them.
pub fn save_widget(
    db: &mut dyn Database,
    key: &str,
    settings: &WidgetSettings,
) -> Result<(), OwnerError> {
    settings
        .validate()
        .map_err(|err| OwnerError::Invalid(format!("{}: {err}", err.field())))?;
    db.site(key)?
        .ok_or_else(|| OwnerError::UnknownSite(key.to_owned()))?;
    Ok(db.set_widget_settings(key, settings)?)
}

/// The longest retention an owner may set, in days (100 years).
pub const MAX_RETENTION_DAYS: u32 = 36_500;

/// Keeps `days` of a site's feedback (`None`: forever) and deletes what is older now;
/// returns how many submissions went. Later ones go as they age (`workers`, hourly).
pub fn set_retention(
    db: &mut dyn Database,
    key: &str,
    days: Option<u32>,
) -> Result<u64, OwnerError> {
    if days.is_some_and(|days| !(1..=MAX_RETENTION_DAYS).contains(&days)) {
        return Err(OwnerError::Invalid(format!(
            "a site keeps its feedback for 1 to {MAX_RETENTION_DAYS} days, or forever"
        )));
    }
    db.site(key)?
        .ok_or_else(|| OwnerError::UnknownSite(key.to_owned()))?;
    db.set_retention(key, days)?;
    Ok(db.apply_retention(now_millis())?)
}

/// The longest email address, in characters (RFC 5321's path limit).
pub const MAX_EMAIL_CHARS: usize = 254;

/// The longest answer time a site may promise, in hours (30 days).
pub const MAX_ANSWER_HOURS: u32 = 720;

/// Checks and saves what a site promises and tells its visitors by email: the reply address
/// (such as support@shop.example; empty leaves `Reply-To` out) and the answer time.
pub fn save_answer_settings(
    db: &mut dyn Database,
    key: &str,
    mut settings: AnswerSettings,
) -> Result<(), OwnerError> {
    settings.reply_to = match settings.reply_to.as_deref().map(str::trim) {
        None | Some("") => None,
        Some(address)
            if address.chars().count() > MAX_EMAIL_CHARS
                || address.parse::<lettre::Address>().is_err() =>
        {
            return Err(OwnerError::Invalid(format!(
                "{address:?} is not an email address such as support@shop.example"
            )));
        }
        Some(address) => Some(address.to_owned()),
    };
    if !(1..=MAX_ANSWER_HOURS).contains(&settings.answer_hours) {
        return Err(OwnerError::Invalid(format!(
            "a site answers within 1 to {MAX_ANSWER_HOURS} hours"
        )));
    }
    db.site(key)?
        .ok_or_else(|| OwnerError::UnknownSite(key.to_owned()))?;
    Ok(db.set_answer_settings(key, &settings)?)
}

/// The longest name of an API token, in characters.
pub const MAX_TOKEN_NAME_CHARS: usize = 100;

/// A new API token named `name` (trimmed, 1 to [`MAX_TOKEN_NAME_CHARS`] characters) for
/// `site`, or for every site: its id and the token itself, which is shown once and kept only
/// as a hash.
pub fn create_token(
    db: &mut dyn Database,
    name: &str,
    site: Option<&str>,
) -> Result<(i64, String), OwnerError> {
    let name = name.trim();
    if name.is_empty() || name.chars().count() > MAX_TOKEN_NAME_CHARS {
        return Err(OwnerError::Invalid(format!(
            "a token's name has 1 to {MAX_TOKEN_NAME_CHARS} characters, e.g. \"spreadsheet\""
        )));
    }
    if let Some(site) = site {
        db.site(site)?
            .ok_or_else(|| OwnerError::UnknownSite(site.to_owned()))?;
    }
    let token = crate::auth::generate_token();
    let id = db.add_token(name, &crate::auth::hash_token(&token), site)?;
    Ok((id, token))
}

/// Revokes the token `id`; with `site`, only a token of that site (an account that manages
/// one site cannot revoke another's, or an every-site token). Whether it was revoked.
pub fn revoke_token(
    db: &mut dyn Database,
    id: i64,
    site: Option<&str>,
) -> Result<bool, OwnerError> {
    let found = db.tokens()?.into_iter().find(|token| token.id == id);
    let allowed = found.is_some_and(|token| site.is_none() || token.site.as_deref() == site);
    if allowed {
        db.revoke_token(id)?;
    }
    Ok(allowed)
}

/// Deletes everything left with `email` (trimmed; any case) on the sites `may_erase`
/// allows: a visitor's request for erasure. How many submissions went.
pub fn erase(
    db: &mut dyn Database,
    email: &str,
    may_erase: &dyn Fn(&str) -> bool,
) -> Result<u64, OwnerError> {
    let email = email.trim();
    if email.is_empty() {
        return Err(OwnerError::Invalid(
            "give the email address to erase".into(),
        ));
    }
    let sites: Vec<String> = db
        .sites()?
        .into_iter()
        .map(|site| site.key.to_string())
        .filter(|key| may_erase(key))
        .collect();
    Ok(db.erase_email(email, &sites)?)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_and_origins_follow_one_rule() {
        assert_eq!(site_name("  Shop ").unwrap(), "Shop");
        assert!(site_name(" ").is_err());
        assert!(site_name(&"x".repeat(MAX_SITE_NAME_CHARS + 1)).is_err());
        assert_eq!(
            origins(["https://Shop.example/", "", "http://localhost:8080"]).unwrap(),
            ["https://shop.example", "http://localhost:8080"]
        );
        assert!(origins(["", " "]).is_err());
        assert!(origins(["https://shop.example/path"]).is_err());
    }

    #[test]
    fn the_snippet_names_the_collector_and_the_site() {
        let key = SiteKey::parse("shop").unwrap();
        assert_eq!(
            snippet("https://feedback.example/", &key),
            r#"<script src="https://feedback.example/earshot.js" data-site="shop" async></script>"#
        );
    }

    /// Tokens and erasure keep one rule whoever asks: a token's name, a site-limited
    /// revocation, erasure within the sites allowed.
    #[test]
    fn tokens_and_erasure_follow_one_rule() {
        let dir = tempfile::tempdir().unwrap();
        let mut db = earshot_store::open_connection(&dir.path().join("owner.db")).unwrap();
        for key in ["shop", "docs"] {
            add_site(&mut db, key, &["https://shop.example".into()], Some(key)).unwrap();
        }
        assert!(matches!(
            create_token(&mut db, "  ", None),
            Err(OwnerError::Invalid(_))
        ));
        assert!(matches!(
            create_token(&mut db, "x", Some("nope")),
            Err(OwnerError::UnknownSite(_))
        ));
        let (shop, token) = create_token(&mut db, " sheet ", Some("shop")).unwrap();
        assert!(token.starts_with("eshot_"), "{token}");
        let (every, _) = create_token(&mut db, "all", None).unwrap();
        let names: Vec<String> = db.tokens().unwrap().into_iter().map(|t| t.name).collect();
        assert_eq!(names, ["sheet", "all"]);
        assert!(
            !revoke_token(&mut db, every, Some("shop")).unwrap(),
            "not this site's"
        );
        assert!(
            !revoke_token(&mut db, shop, Some("docs")).unwrap(),
            "another site's"
        );
        assert!(revoke_token(&mut db, shop, Some("shop")).unwrap());
        assert!(revoke_token(&mut db, every, None).unwrap());
        assert!(!revoke_token(&mut db, 999, None).unwrap(), "no such token");

        assert!(matches!(
            erase(&mut db, " ", &|_| true),
            Err(OwnerError::Invalid(_))
        ));
        assert_eq!(
            erase(&mut db, "ada@example.com", &|key| key == "shop").unwrap(),
            0
        );
    }
}
