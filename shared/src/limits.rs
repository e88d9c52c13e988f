//! Every limit the collector enforces, named once so the widget, the collector, the tests and
//! the README all agree.

/// Largest request body `POST /v1/feedback` reads, in bytes. Bigger bodies get `413`.
///
/// Generous enough for a comment of [`MAX_COMMENT_CHARS`] characters that are all escaped in
/// JSON (up to 6 bytes each), plus the other fields.
pub const MAX_BODY_BYTES: usize = 64 * 1024;

/// Longest comment a visitor may leave, in Unicode scalar values (what a person counts as
/// characters in the text box).
pub const MAX_COMMENT_CHARS: usize = 5_000;

/// Longest email address, in characters (RFC 5321's path limit is 254 octets; counted in
/// characters so that the OpenAPI document's `maxLength` states the rule exactly).
pub const MAX_EMAIL_CHARS: usize = 254;

/// Longest page URL, in characters. Longer URLs are almost always tracking noise.
pub const MAX_PAGE_URL_CHARS: usize = 2_048;

/// Longest referrer (the page that led the visitor to the site, `document.referrer`), in
/// characters. The widget leaves out a longer one rather than lose the feedback.
pub const MAX_REFERRER_CHARS: usize = 2_048;

/// Longest locale tag (BCP 47), in characters (ASCII only).
pub const MAX_LOCALE_CHARS: usize = 35;

/// Longest user agent string kept with a submission, in characters.
pub const MAX_USER_AGENT_CHARS: usize = 512;

/// Shortest and longest site key, in characters (ASCII only).
pub const SITE_KEY_BYTES: core::ops::RangeInclusive<usize> = 3..=64;

/// Longest site name, in characters.
pub const MAX_SITE_NAME_CHARS: usize = 100;

/// Longest viewport side a browser can plausibly report, in CSS pixels.
pub const MAX_VIEWPORT_PX: u32 = 100_000;

/// Submissions one visitor may send to one site per [`RATE_WINDOW_SECS`]; more get `429`.
/// A visitor is a keyed hash of IP address, user agent and site, never the address itself.
pub const RATE_LIMIT_PER_VISITOR: u32 = 10;

/// Submissions one site may receive per [`RATE_WINDOW_SECS`] from everyone together; more
/// get `429`. Protects the database and the owner's inbox from a flood.
pub const RATE_LIMIT_PER_SITE: u32 = 600;

/// The window the rate limits are counted over, in seconds.
pub const RATE_WINDOW_SECS: u64 = 60;

/// A submission sent less than this many milliseconds after the panel opened was not typed
/// by a person: it is kept, flagged as spam.
pub const MIN_OPEN_MS: u32 = 1_500;

/// Longest user id a page may pass to `earshot.setUser({id})`, in characters.
pub const MAX_USER_ID_CHARS: usize = 128;

/// Most entries a page may attach with `earshot.setMetadata({…})`.
pub const MAX_METADATA_ENTRIES: usize = 20;

/// Longest metadata key, in characters.
pub const MAX_METADATA_KEY_CHARS: usize = 64;

/// Longest metadata value, in characters.
pub const MAX_METADATA_VALUE_CHARS: usize = 500;

/// Longest question a site may put above the rating (`data-prompt`), in characters.
pub const MAX_PROMPT_CHARS: usize = 200;

/// How long browsers and proxies may cache a site's widget settings
/// (`GET /v1/sites/{key}/config`), in seconds: a change reaches visitors within this time.
pub const SETTINGS_MAX_AGE_SECS: u32 = 300;

/// Exports one collector streams at once; more wait their turn. Each holds a database
/// connection for as long as its client takes to download, so a few slow downloads must not
/// take every connection from ingest and the dashboard.
pub const MAX_CONCURRENT_EXPORTS: usize = 4;

/// The most bytes a screenshot may have as sent (2 MB).
pub const MAX_SCREENSHOT_BYTES: usize = 2_000_000;

/// The most pixels a screenshot may have (16 megapixels). Read from the image's header
/// before anything is decoded, so that a small file which would decode into gigabytes (a
/// decompression bomb) is refused unread.
pub const MAX_SCREENSHOT_PIXELS: u64 = 16_000_000;

/// The types a screenshot may be sent as (its `Content-Type`): PNG, JPEG and WebP. Nothing
/// else, SVG least of all (it can carry script).
pub const SCREENSHOT_TYPES: [&str; 3] = ["image/png", "image/jpeg", "image/webp"];
