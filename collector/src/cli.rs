//! The `earshot` command line. Every option can also be set with an `EARSHOT_*` environment
//! variable; the doc comments are the `--help` text.

use std::net::SocketAddr;
use std::path::PathBuf;

use clap::parser::ValueSource;
use clap::{ArgMatches, Args, CommandFactory, FromArgMatches, Parser, Subcommand};

use crate::client_ip::TrustedProxies;
use earshot_shared::limits;

use crate::export::{ExportQuery, Format, ThreadOption};
use earshot_store::{Durability, Location, SpamFilter};

/// Where `earshot serve` listens unless told otherwise.
pub const DEFAULT_LISTEN: &str = "127.0.0.1:8080";
/// The address visitors reach the collector at unless told otherwise: the default listen
/// address.
pub const DEFAULT_PUBLIC_URL: &str = "http://127.0.0.1:8080";

#[derive(Debug, Parser)]
#[command(
    name = "earshot",
    version,
    about = "Earshot: self-hosted website feedback"
)]
pub struct Cli {
    /// The SQLite database file; created and migrated when missing. Ignored with
    /// `--database-url`, unless this flag is given and the URL only comes from
    /// EARSHOT_DATABASE_URL (a flag wins over the environment).
    #[arg(
        long,
        env = "EARSHOT_DATABASE",
        default_value = "earshot.db",
        global = true
    )]
    pub database: PathBuf,

    /// A PostgreSQL database instead of the SQLite file, for several collectors sharing one
    /// database: `postgres://user:password@host:5432/earshot`. Created tables and migrations
    /// are applied on start.
    #[arg(
        long,
        env = "EARSHOT_DATABASE_URL",
        global = true,
        hide_env_values = true
    )]
    pub database_url: Option<String>,

    /// The address visitors' browsers reach this collector at; used in the snippet.
    #[arg(
        long,
        env = "EARSHOT_PUBLIC_URL",
        default_value = DEFAULT_PUBLIC_URL,
        global = true
    )]
    pub public_url: String,

    #[command(subcommand)]
    pub command: Command,

    /// Where `--database` and `--database-url` were given: on the command line, in the
    /// environment, or not at all.
    #[arg(skip)]
    pub sources: DatabaseSources,
}

/// Where each of the two database options came from.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct DatabaseSources {
    pub database: Option<ValueSource>,
    pub database_url: Option<ValueSource>,
}

impl DatabaseSources {
    /// The strongest source of each option: the command line, before or after the
    /// subcommand, beats the environment, which beats the default.
    fn of(matches: &ArgMatches) -> Self {
        let strongest = |id: &str| {
            let mut found = matches.value_source(id);
            let mut level = matches.subcommand();
            while let Some((_, sub)) = level {
                found = found.max(sub.value_source(id));
                level = sub.subcommand();
            }
            found
        };
        Self {
            database: strongest("database"),
            database_url: strongest("database_url"),
        }
    }
}

impl Cli {
    /// Parses the command line (exiting with clap's message on a mistake), noting where the
    /// database options came from.
    pub fn parse_noting_sources() -> Self {
        let matches = Self::command().get_matches();
        let mut cli = Self::from_arg_matches(&matches).unwrap_or_else(|err| err.exit());
        cli.sources = DatabaseSources::of(&matches);
        cli
    }

    /// Where the data lives, from `--database` and `--database-url`: the URL when given,
    /// except that a `--database` flag wins over a URL from the environment (and says so).
    /// Both as flags is a mistake.
    pub fn location(&self) -> Result<Location, Box<dyn std::error::Error>> {
        let url = self
            .database_url
            .as_deref()
            .filter(|url| !url.trim().is_empty());
        let file_flag = self.sources.database == Some(ValueSource::CommandLine);
        let url_flag = self.sources.database_url == Some(ValueSource::CommandLine);
        match url {
            Some(_) if file_flag && url_flag => {
                Err("--database and --database-url both name a database: give one of them".into())
            }
            Some(_) if file_flag => {
                eprintln!(
                    "earshot: using the SQLite file {} (--database); EARSHOT_DATABASE_URL is set too and ignored",
                    self.database.display()
                );
                Ok(Location::Sqlite(self.database.clone()))
            }
            _ => Ok(Location::from_options(
                &self.database,
                self.database_url.as_deref(),
            )?),
        }
    }
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run the collector: the ingest API, the export API, the widget files and www/.
    Serve(ServeArgs),
    /// Add and list the sites that may send feedback.
    #[command(subcommand)]
    Site(SiteCommand),
    /// Create, list and revoke API tokens for the export API.
    #[command(subcommand)]
    Token(TokenCommand),
    /// Create and list the owner accounts of the dashboard.
    #[command(subcommand)]
    User(UserCommand),
    /// Write a site's feedback as CSV to a file or standard output.
    Export(ExportArgs),
    /// Copy a live SQLite database to a new file, consistently, while the collector keeps
    /// accepting feedback (for PostgreSQL, use pg_dump: see the README).
    Backup {
        /// The file to write; it must not exist yet.
        #[arg(long, short)]
        output: PathBuf,
    },
    /// Copy the whole database (sites, feedback, tokens, accounts, webhooks, deliveries) to
    /// another engine or file: `--to postgres://…` from SQLite, or `--to earshot.db` from
    /// PostgreSQL. Stop the collector first, or the copy misses what arrives meanwhile
    Copy {
        /// The target: a `postgres://` URL, or a SQLite file (created when missing). It must be
        /// empty unless `--resume`
        #[arg(long)]
        to: String,
        /// Go on with a copy that stopped: rows the target holds already are kept
        #[arg(long)]
        resume: bool,
    },
    /// Delete everything left with one email address (a visitor's request for erasure).
    Erase {
        /// The visitor's email address.
        email: String,
        /// Only on this site; without it, every site.
        #[arg(long)]
        site: Option<String>,
    },
}

#[derive(Debug, Args)]
pub struct ServeArgs {
    /// The address and port to listen on.
    #[arg(long, env = "EARSHOT_LISTEN", default_value = DEFAULT_LISTEN)]
    pub listen: SocketAddr,

    /// The folder of static web files (loader, stylesheet, demo site); default `www`, or the
    /// copies inside a binary built with `cargo xtask dist`.
    #[arg(long, env = "EARSHOT_WWW_DIR")]
    pub www_dir: Option<PathBuf>,

    /// The folder of the built widget (wasm-bindgen output), served under /widget/; default
    /// `target/widget`, or the copies inside a binary built with `cargo xtask dist`.
    #[arg(long, env = "EARSHOT_WIDGET_DIR")]
    pub widget_dir: Option<PathBuf>,

    /// HTTP worker threads; defaults to the number of CPU cores.
    #[arg(long, env = "EARSHOT_WORKERS")]
    pub workers: Option<usize>,

    /// What an acknowledged submission survives: `full` (power loss: fsync before every
    /// answer) or `normal` (a crash or kill of the collector; faster).
    #[arg(long, env = "EARSHOT_SYNC", value_enum, default_value = "full")]
    pub sync: Durability,

    /// Submissions one visitor may send to one site per minute; 0 turns the limit off.
    #[arg(long, env = "EARSHOT_RATE_LIMIT_VISITOR", default_value_t = limits::RATE_LIMIT_PER_VISITOR)]
    pub rate_limit_visitor: u32,

    /// Submissions one site may receive per minute from all visitors; 0 turns the limit off.
    #[arg(long, env = "EARSHOT_RATE_LIMIT_SITE", default_value_t = limits::RATE_LIMIT_PER_SITE)]
    pub rate_limit_site: u32,

    /// Reverse proxies (addresses or networks, comma-separated, e.g. 10.0.0.0/8) whose
    /// X-Forwarded-For names the visitor, for rate limits. None by default: behind a proxy,
    /// every visitor would otherwise share its address.
    #[arg(long, env = "EARSHOT_TRUSTED_PROXIES", default_value = "")]
    pub trusted_proxies: TrustedProxies,

    /// Seconds before a failed webhook delivery is tried again; the wait doubles each time.
    #[arg(long, env = "EARSHOT_WEBHOOK_RETRY_SECS", default_value_t = 10)]
    pub webhook_retry_secs: u64,

    /// Seconds a request may take from its arrival to its answer (headers and body
    /// included); a body that arrives more slowly is refused with 408 and the connection
    /// closed.
    #[arg(long, env = "EARSHOT_REQUEST_TIMEOUT", default_value_t = crate::state::REQUEST_TIMEOUT_SECS, value_parser = clap::value_parser!(u64).range(1..))]
    pub request_timeout: u64,

    /// Seconds a streamed export waits for a client that stopped reading before it ends the
    /// download and frees its export slot.
    #[arg(long, env = "EARSHOT_EXPORT_IDLE_TIMEOUT", default_value_t = crate::state::EXPORT_IDLE_TIMEOUT_SECS, value_parser = clap::value_parser!(u64).range(1..))]
    pub export_idle_timeout: u64,

    /// Let webhooks reach this machine and private networks (loopback, 10/8, 172.16/12,
    /// 192.168/16, link-local...). Off by default, so an owner account cannot make the
    /// collector call services behind its firewall.
    #[arg(long, env = "EARSHOT_ALLOW_PRIVATE_WEBHOOKS")]
    pub allow_private_webhooks: bool,

    /// A token that `GET /metrics` requires as `Authorization: Bearer <token>`. Without it
    /// the metrics are public (they hold counts and timings, no visitor data).
    #[arg(long, env = "EARSHOT_METRICS_TOKEN", hide_env_values = true)]
    pub metrics_token: Option<String>,

    /// The SMTP server email is sent through: `smtp://user:password@host:587` (STARTTLS,
    /// required), `smtps://user:password@host:465` (TLS), or `smtp://host:25?tls=none` for a
    /// relay on this machine. Without it, replies wait in the outbox and the dashboard says
    /// so; nothing else changes.
    #[arg(
        long,
        env = "EARSHOT_SMTP_URL",
        hide_env_values = true,
        requires = "mail_from"
    )]
    pub smtp_url: Option<String>,

    /// The address email is sent from, e.g. `feedback@shop.example`; the name shown is the
    /// site's. Its domain needs SPF, DKIM and DMARC records (see the README).
    #[arg(long, env = "EARSHOT_MAIL_FROM")]
    pub mail_from: Option<String>,

    /// Seconds between retention passes (each site's feedback older than it keeps is
    /// deleted; also once at start).
    #[arg(long, env = "EARSHOT_RETENTION_INTERVAL_SECS", default_value_t = crate::workers::RETENTION_EVERY.as_secs(), value_parser = clap::value_parser!(u64).range(1..))]
    pub retention_interval_secs: u64,

    /// Seconds before an email the SMTP server did not take is tried again; the wait
    /// doubles each time, for ten attempts.
    #[arg(long, env = "EARSHOT_MAIL_RETRY_SECS", default_value_t = crate::mail::RETRY_FIRST_SECS, value_parser = clap::value_parser!(u64).range(1..))]
    pub mail_retry_secs: u64,

    /// The mailbox replies come back to, e.g. `support@feedback.shop.example`: every email
    /// to a visitor or owner carries a reply address `support+<token>@…` that names its
    /// conversation, so the mailbox must take its plus-variants (most do). Its mail reaches
    /// Earshot through `POST /v1/inbound-email` (see --inbound-secret).
    #[arg(long, env = "EARSHOT_INBOUND_ADDRESS")]
    pub inbound_address: Option<String>,

    /// The bearer secret `POST /v1/inbound-email` asks for (a mail provider's inbound
    /// webhook, an MTA's pipe). Without it the route refuses every request.
    #[arg(long, env = "EARSHOT_INBOUND_SECRET", hide_env_values = true)]
    pub inbound_secret: Option<String>,

    /// The reply mailbox to watch: `imaps://user:password@host/INBOX` (TLS),
    /// `imap://user:password@host/INBOX` (STARTTLS, required), or `imap://…?tls=none` for a
    /// server on this machine. Each new email is taken once (IDLE where the server has it,
    /// else every 30 s) and flagged `$EarshotTaken` once stored.
    #[arg(long, env = "EARSHOT_IMAP_URL", hide_env_values = true)]
    pub imap_url: Option<String>,
}

#[derive(Debug, Subcommand)]
pub enum SiteCommand {
    /// Register a site and print the snippet to paste into its pages.
    Add {
        /// A name for people, e.g. "Shop".
        #[arg(long)]
        name: String,
        /// An origin whose pages may send feedback, e.g. https://shop.example (repeatable).
        #[arg(long = "origin", required = true)]
        origins: Vec<String>,
        /// The public site key to use in the snippet; a random one when left out.
        #[arg(long)]
        key: Option<String>,
    },
    /// List the sites, their origins and how much feedback each holds.
    List,
    /// Delete a site's feedback once it is older than some days (at once, then by serve at
    /// every --retention-interval-secs, hourly by default).
    Retention {
        /// The site's key.
        key: String,
        /// Keep this many days of feedback.
        #[arg(long, conflicts_with = "forever", required_unless_present = "forever")]
        days: Option<u32>,
        /// Keep feedback forever (the default).
        #[arg(long)]
        forever: bool,
    },
    /// Show or change a site's widget defaults; the snippet's data-* attributes still win.
    Widget {
        /// The site's key.
        key: String,
        /// The rating scale: stars, thumbs, nps or emoji ("" for the default).
        #[arg(long)]
        rating: Option<String>,
        /// The accent colour, #rgb or #rrggbb ("" to clear).
        #[arg(long)]
        color: Option<String>,
        /// light, dark or auto (follows the visitor's system).
        #[arg(long)]
        theme: Option<String>,
        /// The widget's language, e.g. fr ("" to follow the visitor's browser).
        #[arg(long)]
        lang: Option<String>,
        /// The question above the rating ("" for the built-in one).
        #[arg(long)]
        prompt: Option<String>,
        /// Whether visitors may attach a screenshot: on or off (the default: a screenshot
        /// can show personal data).
        #[arg(long, value_parser = ["on", "off"])]
        screenshots: Option<String>,
    },
}

#[derive(Debug, Subcommand)]
pub enum TokenCommand {
    /// Create a token for the export API; it is printed once and only its hash is kept.
    Create {
        /// What the token is for, e.g. "nightly backup".
        #[arg(long, default_value = "api")]
        name: String,
        /// Limit the token to one site; without it the token reads every site.
        #[arg(long)]
        site: Option<String>,
    },
    /// List tokens (never their secret).
    List,
    /// Revoke a token by its id, as shown by `earshot token list`.
    Revoke { id: i64 },
}

#[derive(Debug, Subcommand)]
pub enum UserCommand {
    /// Create an owner account for the dashboard (/admin). Asks for the password, or reads
    /// it from standard input with --password-stdin.
    Add {
        /// The owner's email address, used to sign in.
        email: String,
        /// Limit the account to this site (repeatable); without it, every site.
        #[arg(long = "site")]
        sites: Vec<String>,
        /// Read the password from the first line of standard input.
        #[arg(long)]
        password_stdin: bool,
    },
    /// List the accounts and the sites each may see.
    List,
}

#[derive(Debug, Args)]
pub struct ExportArgs {
    /// The key of the site to export.
    #[arg(long)]
    pub site: String,
    /// Write to this file instead of standard output.
    #[arg(long, short)]
    pub output: Option<PathBuf>,
    /// The format: CSV for spreadsheets, JSON Lines for programs.
    #[arg(long, value_enum, default_value = "csv")]
    pub format: Format,
    /// Only feedback received at or after this day (2026-11-01) or RFC 3339 time.
    #[arg(long)]
    pub from: Option<String>,
    /// Only feedback received before this day or RFC 3339 time.
    #[arg(long)]
    pub to: Option<String>,
    /// Only ratings at least this high.
    #[arg(long)]
    pub min_rating: Option<u8>,
    /// Only ratings at most this high.
    #[arg(long)]
    pub max_rating: Option<u8>,
    /// Only feedback with this status (new, in-progress, resolved).
    #[arg(long)]
    pub status: Option<String>,
    /// Whether to leave out, include, or export only feedback flagged as spam.
    #[arg(long, value_enum, default_value = "exclude")]
    pub spam: SpamFilter,
    /// Only feedback whose comment, page URL, email or note contains these words.
    #[arg(long)]
    pub text: Option<String>,
    /// Only feedback that left an email address (true) or did not (false).
    #[arg(long)]
    pub has_email: Option<bool>,
    /// JSON Lines: each record carries its whole conversation (replies and answers).
    #[arg(long)]
    pub thread: bool,
}

impl ExportArgs {
    /// The same filter the HTTP API builds from its query string.
    pub fn query(&self) -> ExportQuery {
        ExportQuery {
            from: self.from.clone(),
            to: self.to.clone(),
            min_rating: self.min_rating,
            max_rating: self.max_rating,
            status: self.status.clone(),
            spam: self.spam,
            q: self.text.clone(),
            has_email: self.has_email,
            thread: if self.thread {
                ThreadOption::Include
            } else {
                ThreadOption::Exclude
            },
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::CommandFactory;

    #[test]
    fn the_command_line_is_well_formed() {
        Cli::command().debug_assert();
    }

    fn sources(args: &[&str]) -> DatabaseSources {
        DatabaseSources::of(&Cli::command().try_get_matches_from(args).unwrap())
    }

    /// A flag counts as given on the command line before or after the subcommand.
    #[test]
    fn database_flags_are_found_on_either_side_of_the_subcommand() {
        let before = sources(&["earshot", "--database", "a.db", "site", "list"]);
        let after = sources(&["earshot", "site", "list", "--database", "a.db"]);
        for found in [before, after] {
            assert_eq!(found.database, Some(ValueSource::CommandLine));
        }
        assert_ne!(
            sources(&["earshot", "site", "list"]).database,
            Some(ValueSource::CommandLine)
        );
    }
}
