//! The PostgreSQL engine, for several collectors sharing one database.
//!
//! The [`Database`] contract is blocking, like SQLite; here it is built on `tokio-postgres`.
//! Each connection's socket is driven by a small runtime of its own (two threads, for the
//! whole process), and the contract's methods wait for their queries with a plain executor,
//! so they work from any thread (the blocking pool, the writer thread, the command line) and
//! never start or drop a Tokio runtime inside the server's.

use std::collections::HashSet;
use std::path::{Path, PathBuf};
use std::sync::{Arc, LazyLock, OnceLock};
use std::time::Duration;

use earshot_shared::{Rating, SiteKey, WidgetSettings};
use futures_util::TryStreamExt;
use tokio_postgres::config::SslMode;
use tokio_postgres::types::ToSql;
use tokio_postgres::{Client, NoTls, Row};
use tokio_postgres_rustls::MakeRustlsConnect;

use crate::contract::{AnsweredFeedback, FEEDBACK_COLUMNS, LatestMessage, thread_json_column};
use crate::contract::{
    Buckets, Database, DeliveryAttempt, Dialect, Durability, FeedbackFilter, FeedbackRow,
    FeedbackStatus, Page, PageSatisfaction, Pending, RatingCount, Screenshot, Site, SqlValue,
    StatsRows, StoreError, Stored, TokenInfo, day_of, describe_postgres, email_hash,
    legacy_email_hash, mailbox_key, message_key, metadata_json, now_millis, parse_metadata,
    parse_rating_kind, parse_widget, redact, widget_json,
};
use crate::mail_sql::{self, dollar_numbered as pg};
use crate::model::{
    AnswerRecord, AnswerSettings, Author, Delivery, DeliveryState, DueDelivery, DueMail,
    FoldedNotice, LinkPurpose, MailKind, NewReply, NotifyFeedback, OutgoingMail,
    OwnerNotifications, ReplyOutcome, Session, ThreadMessage, User, Webhook, WebhookFormat,
};
use crate::sql;
use crate::stats_sql;

mod inbound;

/// A statement of [`sql`] in PostgreSQL's spelling, converted once, the first time it runs:
/// for those run on most requests (a session, a token, a site, a submission).
macro_rules! pg_once {
    ($sql:expr) => {{
        static CONVERTED: LazyLock<String> = LazyLock::new(|| pg(&$sql));
        CONVERTED.as_str()
    }};
}

/// Connections each collector keeps for reads and edits (the writer has its own). Two
/// replicas stay far below PostgreSQL's default `max_connections` of 100.
pub(super) const POOL_SIZE: u32 = 16;
/// How long connecting may take, unless the URL says (`connect_timeout=`).
pub(crate) const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);
/// Idle time before TCP keepalives probe a connection.
const KEEPALIVE_IDLE: Duration = Duration::from_secs(30);
/// How long sent data may stay unacknowledged before the connection is given up.
const UNACKNOWLEDGED_TIMEOUT: Duration = Duration::from_secs(60);
/// How every connection names itself to the server (`pg_stat_activity.application_name`):
/// `earshot copy` looks for a collector still connected to its source by it.
pub(crate) const APPLICATION_NAME: &str = "earshot";
/// Taken while migrating, so replicas starting together migrate once.
const MIGRATION_LOCK: i64 = 0x6561_7273_686f_7401; // "earshot" + 1
/// The advisory lock of the replica merging the statistics' counts.
const STATS_LOCK: i64 = 0x6561_7273_686f_7402; // "earshot" + 2

/// The schema's migrations, in order (`migrations/postgres/`); `earshot_schema.version`
/// records how many have run. The first is the SQLite schema after its five migrations; a
/// test checks that both engines end with the same tables and columns.
const MIGRATIONS: &[&str] = &[
    include_str!("../migrations/postgres/0001_schema.sql"),
    include_str!("../migrations/postgres/0002_referrer.sql"),
    include_str!("../migrations/postgres/0003_conversations.sql"),
    include_str!("../migrations/postgres/0004_statistics.sql"),
    include_str!("../migrations/postgres/0005_screenshots.sql"),
    include_str!("../migrations/postgres/0006_acknowledged.sql"),
    include_str!("../migrations/postgres/0007_inbound_mail.sql"),
    include_str!("../migrations/postgres/0008_waiting.sql"),
    include_str!("../migrations/postgres/0009_time_zone.sql"),
];

/// Drives every connection's socket; lives as long as the process.
fn runtime() -> &'static tokio::runtime::Runtime {
    static RUNTIME: OnceLock<tokio::runtime::Runtime> = OnceLock::new();
    RUNTIME.get_or_init(|| {
        tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .thread_name("earshot-postgres")
            .enable_all()
            .build()
            .expect("starting the PostgreSQL I/O threads")
    })
}

/// Waits for a query. The future only talks to its connection's task over channels, so any
/// executor can wait for it, on any thread.
pub(crate) fn wait<T>(work: impl Future<Output = T>) -> T {
    futures_executor::block_on(work)
}

/// Reads and writes a connection's socket until it closes.
async fn drive<S, T>(connection: tokio_postgres::Connection<S, T>)
where
    S: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin,
    T: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin,
{
    if let Err(err) = connection.await {
        tracing::warn!(error = %describe_postgres(&err), "a PostgreSQL connection closed");
    }
}

/// libpq's `sslmode`, as Earshot applies it. Every TLS connection checks the server's
/// certificate (stricter than libpq's `require`, `prefer` and `allow`, which take any).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum TlsMode {
    /// `disable`, and `prefer` or no `sslmode` (plain TCP: `prefer` does not try TLS).
    Plain,
    /// `allow`: plain TCP, and TLS when the server refuses a plain connection.
    Allow,
    /// `require` and `verify-full`: TLS; the certificate's chain and the host name checked.
    VerifyFull,
    /// `verify-ca`: TLS; the certificate's chain checked, not the name it was issued to.
    VerifyCa,
}

impl TlsMode {
    fn parse(value: &str) -> Result<Self, StoreError> {
        Ok(match value {
            "disable" | "prefer" => Self::Plain,
            "allow" => Self::Allow,
            "require" | "verify-full" => Self::VerifyFull,
            "verify-ca" => Self::VerifyCa,
            other => {
                return Err(StoreError::Tls(format!(
                    "sslmode={other} is not one of disable, allow, prefer, require, verify-ca, verify-full"
                )));
            }
        })
    }
}

/// Takes libpq's `sslrootcert=FILE` and `sslmode` out of a URL (tokio-postgres knows neither
/// the first nor `sslmode`'s values `allow`, `verify-ca` and `verify-full`).
fn split_tls_options(url: &str) -> Result<(String, Option<PathBuf>, TlsMode), StoreError> {
    let Ok(mut parsed) = url::Url::parse(url) else {
        return Ok((url.to_owned(), None, TlsMode::Plain));
    };
    let mut file = None;
    let mut mode = None;
    let kept: Vec<(String, String)> = parsed
        .query_pairs()
        .filter_map(|(key, value)| match key.as_ref() {
            "sslrootcert" => {
                file = Some(PathBuf::from(value.as_ref()));
                None
            }
            "sslmode" => {
                mode = Some(value.into_owned());
                None
            }
            _ => Some((key.into_owned(), value.into_owned())),
        })
        .collect();
    let mode = mode.as_deref().map_or(Ok(TlsMode::Plain), TlsMode::parse)?;
    if file.is_none() && mode == TlsMode::Plain && !url.contains("sslmode") {
        return Ok((url.to_owned(), None, mode));
    }
    if kept.is_empty() {
        parsed.set_query(None);
    } else {
        parsed.query_pairs_mut().clear().extend_pairs(kept);
    }
    Ok((parsed.to_string(), file, mode))
}

/// Accepts a certificate whose chain verifies whatever name it was issued to: libpq's
/// `verify-ca`.
#[derive(Debug)]
struct AnyName(Arc<rustls::client::WebPkiServerVerifier>);

impl rustls::client::danger::ServerCertVerifier for AnyName {
    fn verify_server_cert(
        &self,
        end_entity: &rustls::pki_types::CertificateDer<'_>,
        intermediates: &[rustls::pki_types::CertificateDer<'_>],
        server_name: &rustls::pki_types::ServerName<'_>,
        ocsp_response: &[u8],
        now: rustls::pki_types::UnixTime,
    ) -> Result<rustls::client::danger::ServerCertVerified, rustls::Error> {
        use rustls::CertificateError::{NotValidForName, NotValidForNameContext};
        // The chain is checked before the name: a name error means the chain verified.
        match self
            .0
            .verify_server_cert(end_entity, intermediates, server_name, ocsp_response, now)
        {
            Err(rustls::Error::InvalidCertificate(
                NotValidForName | NotValidForNameContext { .. },
            )) => Ok(rustls::client::danger::ServerCertVerified::assertion()),
            other => other,
        }
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &rustls::pki_types::CertificateDer<'_>,
        dss: &rustls::DigitallySignedStruct,
    ) -> Result<rustls::client::danger::HandshakeSignatureValid, rustls::Error> {
        self.0.verify_tls12_signature(message, cert, dss)
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &rustls::pki_types::CertificateDer<'_>,
        dss: &rustls::DigitallySignedStruct,
    ) -> Result<rustls::client::danger::HandshakeSignatureValid, rustls::Error> {
        self.0.verify_tls13_signature(message, cert, dss)
    }

    fn supported_verify_schemes(&self) -> Vec<rustls::SignatureScheme> {
        self.0.supported_verify_schemes()
    }
}

/// TLS that always verifies the server's certificate: against the certificates in
/// `sslrootcert` when given, else the Mozilla roots (webpki-roots); the name too unless
/// `verify-ca`.
fn tls(root_certificates: Option<&Path>, mode: TlsMode) -> Result<MakeRustlsConnect, StoreError> {
    use rustls::pki_types::CertificateDer;
    use rustls::pki_types::pem::PemObject;
    let mut roots = rustls::RootCertStore::empty();
    match root_certificates {
        Some(path) => {
            let unreadable = |err: &dyn std::fmt::Display| {
                StoreError::Tls(format!("sslrootcert={}: {err}", path.display()))
            };
            let certificates = CertificateDer::pem_file_iter(path)
                .map_err(|err| unreadable(&err))?
                .collect::<Result<Vec<_>, _>>()
                .map_err(|err| unreadable(&err))?;
            if certificates.is_empty() {
                return Err(unreadable(&"no certificate in the file"));
            }
            for certificate in certificates {
                roots.add(certificate).map_err(|err| unreadable(&err))?;
            }
        }
        None => roots.extend(webpki_roots::TLS_SERVER_ROOTS.iter().cloned()),
    }
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let builder = rustls::ClientConfig::builder_with_provider(provider.clone())
        .with_safe_default_protocol_versions()
        .map_err(|err| StoreError::Tls(err.to_string()))?;
    let config = if mode == TlsMode::VerifyCa {
        let verifier =
            rustls::client::WebPkiServerVerifier::builder_with_provider(Arc::new(roots), provider)
                .build()
                .map_err(|err| StoreError::Tls(err.to_string()))?;
        builder
            .dangerous()
            .with_custom_certificate_verifier(Arc::new(AnyName(verifier)))
            .with_no_client_auth()
    } else {
        builder.with_root_certificates(roots).with_no_client_auth()
    };
    Ok(MakeRustlsConnect::new(config))
}

/// The server a configuration names, as `host:port` (each of them when it names several),
/// for errors.
fn server_of(config: &tokio_postgres::Config) -> String {
    let ports = config.get_ports();
    config
        .get_hosts()
        .iter()
        .enumerate()
        .map(|(index, host)| {
            let port = ports.get(index).or(ports.first()).copied().unwrap_or(5432);
            match host {
                tokio_postgres::config::Host::Tcp(name) => format!("{name}:{port}"),
                #[cfg(unix)]
                tokio_postgres::config::Host::Unix(dir) => {
                    format!("{}/.s.PGSQL.{port}", dir.display())
                }
            }
        })
        .collect::<Vec<_>>()
        .join(", ")
}

/// Connects, with TLS when given one, and starts driving the connection's socket.
fn connect(
    config: tokio_postgres::Config,
    tls: Option<MakeRustlsConnect>,
) -> Result<Result<Client, tokio_postgres::Error>, StoreError> {
    let connecting = runtime().spawn(async move {
        let client = match tls {
            Some(tls) => {
                let (client, connection) = config.connect(tls).await?;
                tokio::spawn(drive(connection));
                client
            }
            None => {
                let (client, connection) = config.connect(NoTls).await?;
                tokio::spawn(drive(connection));
                client
            }
        };
        Ok::<_, tokio_postgres::Error>(client)
    });
    wait(connecting).map_err(|err| StoreError::Unavailable(err.to_string()))
}

/// One connection to PostgreSQL.
pub struct PgConn {
    pub(crate) client: Client,
    /// [`INSERT_BATCH`], prepared on first use.
    insert_batch: Option<tokio_postgres::Statement>,
}

/// A whole batch of submissions in one statement (one round trip, atomic): rows whose site
/// exists are inserted unless their id is stored already, and each new one that is not spam
/// gets a delivery queued for each of its site's webhooks. Returns, for each row in the
/// batch's order, whether its site exists and whether its id was inserted by this statement.
const INSERT_BATCH: &str = "
WITH batch AS (
    SELECT * FROM unnest($1::text[], $2::text[], $3::int8[], $4::text[], $5::int8[], $6::text[],
                         $7::text[], $8::text[], $9::text[], $10::text[], $11::int8[], $12::int8[],
                         $13::bool[], $14::text[], $15::text[], $16::text[], $17::text[])
                         WITH ORDINALITY
        AS b(id, site_key, received_at, rating_kind, rating_value, comment, email, page_url,
             locale, user_agent, viewport_width, viewport_height, spam, user_id, metadata,
             referrer, address_hash, n)
), new AS (
    INSERT INTO feedback (id, site_key, received_at, rating_kind, rating_value, comment, email,
                          page_url, locale, user_agent, viewport_width, viewport_height, spam,
                          user_id, metadata, referrer, answer_by, first_answer_by, unsubscribed_at)
    SELECT batch.id, batch.site_key, batch.received_at, rating_kind, rating_value, comment, email,
           page_url, locale, user_agent, viewport_width, viewport_height, spam, user_id, metadata,
           referrer, due.deadline, due.deadline,
           -- From an address that stopped all email: nobody can answer it.
           CASE WHEN due.deadline IS NOT NULL AND EXISTS (
                    SELECT 1 FROM unsubscribes
                    WHERE unsubscribes.site_key = batch.site_key
                      AND unsubscribes.email_hash IN (
                          batch.address_hash,
                          encode(sha256(convert_to(lower(trim(batch.email)), 'UTF8')), 'hex')))
                THEN batch.received_at END
    FROM batch JOIN sites ON sites.key = batch.site_key,
         LATERAL (SELECT CASE WHEN NOT spam AND coalesce(trim(email), '') <> ''
                              THEN batch.received_at + sites.answer_hours * 3600000 END AS deadline) AS due
    ORDER BY n
    ON CONFLICT (id) DO NOTHING
    RETURNING id, site_key, received_at, spam, trim(email) AS email
), deliveries AS (
    INSERT INTO webhook_deliveries (webhook_id, feedback_id, next_attempt_at, created_at, updated_at)
    SELECT webhooks.id, new.id, new.received_at, new.received_at, new.received_at
    FROM new JOIN webhooks ON webhooks.site_key = new.site_key
    WHERE NOT new.spam
), notices AS (
    INSERT INTO outbox (message_key, kind, site_key, feedback_id, user_id, recipient,
                        next_attempt_at, created_at, updated_at)
    SELECT replace(gen_random_uuid()::text, '-', ''), 'new-feedback', new.site_key, new.id,
           users.id, users.email, new.received_at, new.received_at, new.received_at
    FROM new JOIN users ON users.notify_feedback = 'each'
     AND (users.all_sites OR EXISTS (SELECT 1 FROM user_sites
                                     WHERE user_sites.user_id = users.id
                                       AND user_sites.site_key = new.site_key))
    WHERE NOT new.spam
), to_acknowledge AS (
    -- The first submission of the batch for each mailbox (a site's, a day's) that may be
    -- acknowledged at all.
    SELECT DISTINCT ON (new.site_key, batch.address_hash, new.received_at / 86400000)
           new.id, new.site_key, new.email, new.received_at, batch.address_hash,
           new.received_at / 86400000 AS day
    FROM new JOIN batch ON batch.id = new.id AND batch.site_key = new.site_key
             JOIN sites ON sites.key = new.site_key
    WHERE sites.acknowledge AND NOT new.spam AND coalesce(new.email, '') <> ''
      AND batch.address_hash IS NOT NULL
      AND NOT EXISTS (SELECT 1 FROM unsubscribes
                      WHERE unsubscribes.site_key = new.site_key
                        AND unsubscribes.email_hash IN (
                            batch.address_hash,
                            encode(sha256(convert_to(lower(new.email), 'UTF8')), 'hex')))
    ORDER BY new.site_key, batch.address_hash, new.received_at / 86400000, batch.n
), acknowledged_today AS (
    -- The primary key lets one acknowledgement a day per mailbox in, across batches and
    -- replicas; a conflict waits for the other transaction and then inserts nothing.
    INSERT INTO acknowledged (site_key, address_hash, day)
    SELECT site_key, address_hash, day FROM to_acknowledge
    ON CONFLICT (site_key, address_hash, day) DO NOTHING
    RETURNING site_key, address_hash, day
), acknowledgements AS (
    INSERT INTO outbox (message_key, kind, site_key, feedback_id, recipient, next_attempt_at,
                        created_at, updated_at)
    SELECT replace(gen_random_uuid()::text, '-', ''), 'acknowledgement', t.site_key, t.id,
           t.email, t.received_at, t.received_at, t.received_at
    FROM to_acknowledge t JOIN acknowledged_today a
      ON a.site_key = t.site_key AND a.address_hash = t.address_hash AND a.day = t.day
)
SELECT EXISTS (SELECT 1 FROM sites WHERE sites.key = batch.site_key), new.id IS NOT NULL
FROM batch LEFT JOIN new ON new.id = batch.id AND new.site_key = batch.site_key
ORDER BY batch.n";

impl PgConn {
    pub(crate) fn open(url: &str) -> Result<Self, StoreError> {
        let (url, root_certificates, mode) = split_tls_options(url)?;
        let mut config: tokio_postgres::Config = url.parse()?;
        if config.get_connect_timeout().is_none() {
            config.connect_timeout(CONNECT_TIMEOUT);
        }
        config.application_name(APPLICATION_NAME);
        // A connection whose peer vanished (a half-open socket after a failover) fails within
        // a minute instead of blocking its thread for the kernel's ~15 minutes.
        config.keepalives_idle(KEEPALIVE_IDLE);
        config.tcp_user_timeout(UNACKNOWLEDGED_TIMEOUT);
        let server = server_of(&config);
        let unreachable = |err: &tokio_postgres::Error| StoreError::Unreachable {
            server: server.clone(),
            reason: describe_postgres(err),
        };
        let client = match mode {
            TlsMode::Plain => connect(config.ssl_mode(SslMode::Disable).clone(), None),
            TlsMode::VerifyFull | TlsMode::VerifyCa => connect(
                config.ssl_mode(SslMode::Require).clone(),
                Some(tls(root_certificates.as_deref(), mode)?),
            ),
            TlsMode::Allow => {
                match connect(config.clone().ssl_mode(SslMode::Disable).clone(), None) {
                    // libpq's `allow`: TLS only when the server will not have it plain (its
                    // pg_hba.conf has `hostssl` lines only: SQLSTATE 28000).
                    Ok(Err(err))
                        if err.code() == Some(&tokio_postgres::error::SqlState::INVALID_AUTHORIZATION_SPECIFICATION) =>
                    {
                        connect(
                            config.ssl_mode(SslMode::Require).clone(),
                            Some(tls(root_certificates.as_deref(), TlsMode::VerifyFull)?),
                        )
                    }
                    other => other,
                }
            }
        }?
        .map_err(|err| unreachable(&err))?;
        Ok(Self {
            client,
            insert_batch: None,
        })
    }

    fn migrate(&mut self) -> Result<(), StoreError> {
        wait(async {
            let tx = self.client.transaction().await?;
            tx.execute("SELECT pg_advisory_xact_lock($1)", &[&MIGRATION_LOCK])
                .await?;
            tx.batch_execute("CREATE TABLE IF NOT EXISTS earshot_schema (version BIGINT NOT NULL)")
                .await?;
            let version = match tx
                .query_opt("SELECT version FROM earshot_schema", &[])
                .await?
            {
                Some(row) => row.try_get::<_, i64>(0)? as usize,
                None => {
                    tx.execute("INSERT INTO earshot_schema (version) VALUES (0)", &[])
                        .await?;
                    0
                }
            };
            if version > MIGRATIONS.len() {
                return Err(StoreError::NewerSchema {
                    found: version,
                    known: MIGRATIONS.len(),
                });
            }
            for (index, sql) in MIGRATIONS.iter().enumerate().skip(version) {
                tx.batch_execute(sql).await?;
                tx.execute(
                    "UPDATE earshot_schema SET version = $1",
                    &[&((index + 1) as i64)],
                )
                .await?;
                tracing::info!(version = index + 1, "database migrated");
            }
            tx.commit().await?;
            Ok(())
        })
    }

    /// What the writer's commits survive.
    pub(super) fn set_durability(&mut self, durability: Durability) -> Result<(), StoreError> {
        let setting = match durability {
            Durability::PowerLoss => "SET synchronous_commit = on",
            Durability::ProcessCrash => "SET synchronous_commit = off",
        };
        Ok(wait(self.client.batch_execute(setting))?)
    }
}

/// A connection with the schema brought up to date.
pub(super) fn connect_migrated(url: &str) -> Result<PgConn, StoreError> {
    let mut conn = PgConn::open(url)?;
    conn.migrate()?;
    Ok(conn)
}

/// What the collector last learnt of its PostgreSQL server: why the latest attempt to
/// connect failed, until one succeeds. Requests waiting for a connection look here, so that
/// while the server is down they are answered at once instead of after [`CONNECT_TIMEOUT`].
#[derive(Debug, Default)]
pub(crate) struct Reachability {
    /// The whole error (the server's address included), and its reason alone.
    failure: std::sync::Mutex<Option<(String, String)>>,
}

impl Reachability {
    /// Notes how an attempt to connect ended.
    pub(crate) fn record<T>(&self, attempt: &Result<T, StoreError>) {
        let mut failure = self.failure.lock().expect("reachability poisoned");
        match attempt {
            Ok(_) => *failure = None,
            Err(StoreError::Unreachable { reason, .. }) => {
                *failure = Some((attempt_text(attempt), reason.clone()));
            }
            Err(err) if err.is_unreachable() => *failure = Some((err.to_string(), err.to_string())),
            Err(_) => {}
        }
    }

    /// Why the server cannot be reached, when the latest attempt to connect failed.
    pub(crate) fn failure(&self) -> Option<String> {
        let failure = self.failure.lock().expect("reachability poisoned");
        failure.as_ref().map(|(whole, _)| whole.clone())
    }

    /// The same without the server's address, for `/healthz`.
    pub(crate) fn reason(&self) -> Option<String> {
        let failure = self.failure.lock().expect("reachability poisoned");
        failure.as_ref().map(|(_, reason)| reason.clone())
    }
}

fn attempt_text<T>(attempt: &Result<T, StoreError>) -> String {
    attempt
        .as_ref()
        .err()
        .map(ToString::to_string)
        .unwrap_or_default()
}

/// Opens and checks connections for the pool.
pub(super) struct Manager {
    url: String,
    reach: Arc<Reachability>,
}

impl r2d2::ManageConnection for Manager {
    type Connection = PgConn;
    type Error = StoreError;

    fn connect(&self) -> Result<PgConn, StoreError> {
        let attempt = PgConn::open(&self.url);
        self.reach.record(&attempt);
        attempt
    }

    fn is_valid(&self, conn: &mut PgConn) -> Result<(), StoreError> {
        conn.ping()
    }

    fn has_broken(&self, conn: &mut PgConn) -> bool {
        conn.client.is_closed()
    }
}

pub(super) fn pool(url: &str, reach: Arc<Reachability>) -> Result<r2d2::Pool<Manager>, StoreError> {
    Ok(r2d2::Pool::builder()
        .max_size(POOL_SIZE)
        .min_idle(Some(2))
        // A closed connection is noticed by `has_broken`; no round trip on every checkout.
        .test_on_check_out(false)
        .connection_timeout(CONNECT_TIMEOUT)
        // Failed attempts are in `Reachability` and the writer's log lines; r2d2 would log
        // each retry of each attempt.
        .error_handler(Box::new(r2d2::NopErrorHandler))
        .build(Manager {
            url: url.to_owned(),
            reach,
        })?)
}

type Param = Box<dyn ToSql + Sync + Send>;

fn params(values: Vec<SqlValue>) -> Vec<Param> {
    values
        .into_iter()
        .map(|value| match value {
            SqlValue::Int(n) => Box::new(n) as Param,
            SqlValue::Text(text) => Box::new(text) as Param,
        })
        .collect()
}

fn refs(params: &[Param]) -> Vec<&(dyn ToSql + Sync)> {
    params
        .iter()
        .map(|param| param.as_ref() as &(dyn ToSql + Sync))
        .collect()
}

fn feedback_row(row: &Row) -> Result<FeedbackRow, StoreError> {
    let kind: String = row.try_get(4)?;
    Ok(FeedbackRow {
        seq: row.try_get(0)?,
        id: row.try_get(1)?,
        received_at: row.try_get(2)?,
        site: row.try_get(3)?,
        rating: Rating {
            kind: parse_rating_kind(&kind),
            value: row.try_get::<_, i64>(5)?.clamp(0, 255) as u8,
        },
        comment: row.try_get(6)?,
        email: row.try_get(7)?,
        page_url: row.try_get(8)?,
        locale: row.try_get(9)?,
        user_agent: row.try_get(10)?,
        viewport_width: row.try_get::<_, i64>(11)?.clamp(0, u32::MAX.into()) as u32,
        viewport_height: row.try_get::<_, i64>(12)?.clamp(0, u32::MAX.into()) as u32,
        status: FeedbackStatus::stored(row.try_get::<_, &str>(13)?),
        spam: row.try_get(14)?,
        user_id: row.try_get(15)?,
        metadata: parse_metadata(row.try_get(16)?),
        note: row.try_get(17)?,
        first_response_at: row.try_get(18)?,
        referrer: row.try_get(19)?,
        first_answer_at: row.try_get(20)?,
        answer_by: row.try_get(21)?,
        has_screenshot: row.try_get(22)?,
        answered_at: row.try_get(23)?,
        unread: row.try_get(24)?,
        unsubscribed_at: row.try_get(25)?,
        replies_kept: row.try_get(26)?,
        latest: LatestMessage::read(row.try_get(27)?, row.try_get(28)?),
        replies: row.try_get::<_, i64>(29)?.clamp(0, u32::MAX.into()) as u32,
        visitor_answers: row.try_get::<_, i64>(30)?.clamp(0, u32::MAX.into()) as u32,
        thread_json: if row.len() > 31 {
            row.try_get(31)?
        } else {
            None
        },
    })
}

fn thread_message_row(row: &Row) -> Result<ThreadMessage, StoreError> {
    Ok(ThreadMessage {
        id: row.try_get(0)?,
        feedback_id: row.try_get(1)?,
        author: Author::stored(row.try_get::<_, &str>(2)?),
        author_email: row.try_get(3)?,
        body: row.try_get(4)?,
        created_at: row.try_get(5)?,
    })
}

/// Whether `email` asked for no more email from `site`.
async fn unsubscribed(
    client: &impl tokio_postgres::GenericClient,
    site: &str,
    email: &str,
) -> Result<bool, StoreError> {
    Ok(client
        .query_opt(
            &pg(mail_sql::UNSUBSCRIBED),
            &[&site, &email_hash(email), &legacy_email_hash(email)],
        )
        .await?
        .is_some())
}

/// A shared `INSERT` in PostgreSQL's spelling, answering the new row's id (SQLite reads
/// `last_insert_rowid()` instead).
fn returning_id(insert: &str) -> String {
    format!("{} RETURNING id", pg(insert))
}

/// Queues one email; returns its id.
#[allow(clippy::too_many_arguments)]
async fn insert_mail(
    client: &impl tokio_postgres::GenericClient,
    kind: MailKind,
    site: Option<&str>,
    feedback: Option<&str>,
    thread_message: Option<i64>,
    user: Option<i64>,
    window: Option<(i64, i64)>,
    recipient: &str,
    now: i64,
) -> Result<i64, StoreError> {
    let (start, end) = (window.map(|w| w.0), window.map(|w| w.1));
    Ok(client
        .query_one(
            &returning_id(mail_sql::INSERT_MAIL),
            &[
                &message_key(),
                &kind.as_str(),
                &site,
                &feedback,
                &thread_message,
                &user,
                &start,
                &end,
                &recipient,
                &now,
            ],
        )
        .await?
        .try_get(0)?)
}

/// An outbox row's kind; one this build does not know is never sent.
fn mail_kind(text: &str) -> Result<MailKind, StoreError> {
    MailKind::parse(text)
        .ok_or_else(|| StoreError::Unavailable(format!("unknown kind of email {text:?}")))
}

fn count(value: i64) -> u32 {
    value.clamp(0, u32::MAX.into()) as u32
}

fn webhook_row(row: &Row, from: usize) -> Result<Webhook, StoreError> {
    let format: String = row.try_get(from + 4)?;
    Ok(Webhook {
        id: row.try_get(from)?,
        site: row.try_get(from + 1)?,
        url: row.try_get(from + 2)?,
        secret: row.try_get(from + 3)?,
        format: WebhookFormat::parse(&format).unwrap_or(WebhookFormat::Json),
    })
}

fn token_row(row: &Row) -> Result<TokenInfo, StoreError> {
    Ok(TokenInfo {
        id: row.try_get(0)?,
        name: row.try_get(1)?,
        site: row.try_get(2)?,
        created_at: row.try_get(3)?,
        revoked: row.try_get(4)?,
    })
}

fn site_from(row: &Row, origins: Vec<String>) -> Result<Site, StoreError> {
    let key: String = row.try_get(0)?;
    let key = SiteKey::parse(&key).map_err(|_| StoreError::UnknownSite(key.clone()))?;
    let widget: String = row.try_get(3)?;
    Ok(Site {
        key,
        name: row.try_get(1)?,
        origins,
        created_at: row.try_get(2)?,
        widget: parse_widget(&widget),
        retention_days: row
            .try_get::<_, Option<i64>>(4)?
            .map(|days| days.clamp(0, u32::MAX.into()) as u32),
        answers: AnswerSettings {
            reply_to: row.try_get(5)?,
            answer_hours: count(row.try_get(6)?),
            promise_shown: row.try_get(7)?,
            acknowledge: row.try_get(8)?,
            notify_resolved: row.try_get(9)?,
        },
    })
}

async fn user_sites(
    client: &impl tokio_postgres::GenericClient,
    id: i64,
    all_sites: bool,
) -> Result<Option<Vec<String>>, StoreError> {
    if all_sites {
        return Ok(None);
    }
    let rows = client.query(pg_once!(sql::USER_SITES), &[&id]).await?;
    Ok(Some(
        rows.iter()
            .map(|row| row.try_get(0))
            .collect::<Result<_, _>>()?,
    ))
}

impl Database for PgConn {
    fn ping(&mut self) -> Result<(), StoreError> {
        wait(self.client.simple_query(sql::PING))?;
        Ok(())
    }

    fn is_broken(&mut self) -> bool {
        self.client.is_closed()
    }

    /// The whole batch is one statement, [`INSERT_BATCH`]. A submission whose site is gone
    /// inserts nothing (rather than aborting the statement) and fails alone.
    fn write_batch(
        &mut self,
        batch: &[&Pending],
    ) -> Result<Vec<Result<Stored, StoreError>>, StoreError> {
        let statement = match &self.insert_batch {
            Some(statement) => statement.clone(),
            None => {
                let statement = wait(self.client.prepare(INSERT_BATCH))?;
                self.insert_batch = Some(statement.clone());
                statement
            }
        };
        let column = |value: &dyn Fn(&Pending) -> String| -> Vec<String> {
            batch.iter().map(|job| value(job)).collect()
        };
        let optional = |value: &dyn Fn(&Pending) -> Option<String>| -> Vec<Option<String>> {
            batch.iter().map(|job| value(job)).collect()
        };
        let number = |value: &dyn Fn(&Pending) -> i64| -> Vec<i64> {
            batch.iter().map(|job| value(job)).collect()
        };
        let ids = column(&|job| job.submission.id.to_string());
        let outcomes = wait(self.client.query(
            &statement,
            &[
                &ids,
                &column(&|job| job.submission.site.as_str().to_owned()),
                &number(&|job| job.received_at),
                &column(&|job| job.submission.rating.kind.as_str().to_owned()),
                &number(&|job| job.submission.rating.value.into()),
                &column(&|job| job.submission.comment.clone()),
                &optional(&|job| job.submission.email.clone()),
                &column(&|job| job.submission.page_url.clone()),
                &column(&|job| job.submission.locale.clone()),
                &column(&|job| job.submission.client.user_agent.clone()),
                &number(&|job| job.submission.client.viewport_width.into()),
                &number(&|job| job.submission.client.viewport_height.into()),
                &batch.iter().map(|job| job.spam).collect::<Vec<bool>>(),
                &optional(&|job| job.submission.user_id.clone()),
                &optional(&|job| metadata_json(&job.submission.metadata)),
                &optional(&|job| job.submission.referrer.clone()),
                &optional(&|job| job.submission.email.as_deref().map(email_hash)),
            ],
        ))?;
        if outcomes.len() != batch.len() {
            return Err(StoreError::BatchFailed(format!(
                "{} outcomes for a batch of {}",
                outcomes.len(),
                batch.len()
            )));
        }
        // Several copies of one id in a batch: the first is the new one.
        let mut reported = HashSet::new();
        batch
            .iter()
            .zip(&ids)
            .zip(&outcomes)
            .map(|((job, id), row)| {
                let (site_known, inserted): (bool, bool) = (row.try_get(0)?, row.try_get(1)?);
                Ok(if !site_known {
                    Err(StoreError::UnknownSite(job.submission.site.to_string()))
                } else if inserted && reported.insert(id) {
                    Ok(Stored::New)
                } else {
                    Ok(Stored::Duplicate)
                })
            })
            .collect()
    }

    fn add_site(
        &mut self,
        key: &SiteKey,
        name: &str,
        origins: &[String],
    ) -> Result<Site, StoreError> {
        wait(async {
            let tx = self.client.transaction().await?;
            let created_at = now_millis();
            let inserted = tx
                .execute(&pg(sql::ADD_SITE), &[&key.as_str(), &name, &created_at])
                .await?;
            if inserted == 0 {
                return Err(StoreError::SiteExists(key.to_string()));
            }
            for origin in origins {
                tx.execute(&pg(sql::ADD_ORIGIN), &[&key.as_str(), origin])
                    .await?;
            }
            tx.commit().await?;
            Ok(Site::added(key, name, origins, created_at))
        })
    }

    fn update_site(&mut self, key: &str, name: &str, origins: &[String]) -> Result<(), StoreError> {
        wait(async {
            let tx = self.client.transaction().await?;
            if tx.execute(&pg(sql::RENAME_SITE), &[&key, &name]).await? == 0 {
                return Err(StoreError::UnknownSite(key.to_owned()));
            }
            tx.execute(&pg(sql::DROP_ORIGINS), &[&key]).await?;
            for origin in origins {
                tx.execute(&pg(sql::ADD_ORIGIN), &[&key, origin]).await?;
            }
            tx.commit().await?;
            Ok(())
        })
    }

    fn delete_site(&mut self, key: &str) -> Result<u64, StoreError> {
        wait(async {
            let tx = self.client.transaction().await?;
            // Locked first: a replica's writer storing feedback for this site meanwhile waits,
            // then finds the site gone (its submission fails alone) instead of making the
            // site's deletion fail on the foreign key.
            if tx
                .query_opt("SELECT 1 FROM sites WHERE key = $1 FOR UPDATE", &[&key])
                .await?
                .is_none()
            {
                return Err(StoreError::UnknownSite(key.to_owned()));
            }
            let feedback = tx.execute(&pg(sql::DELETE_SITE_FEEDBACK), &[&key]).await?;
            if tx.execute(&pg(sql::DELETE_SITE), &[&key]).await? == 0 {
                return Err(StoreError::UnknownSite(key.to_owned()));
            }
            tx.commit().await?;
            Ok(feedback)
        })
    }

    fn set_retention(&mut self, key: &str, days: Option<u32>) -> Result<(), StoreError> {
        let days = days.map(i64::from);
        let changed = wait(self.client.execute(&pg(sql::SET_RETENTION), &[&key, &days]))?;
        if changed == 0 {
            return Err(StoreError::UnknownSite(key.to_owned()));
        }
        Ok(())
    }

    fn apply_retention(&mut self, now: i64) -> Result<u64, StoreError> {
        wait(
            self.client
                .execute(&pg(mail_sql::FORGET_ACKNOWLEDGED), &[&(day_of(now) - 1)]),
        )?;
        Ok(wait(self.client.execute(
            "DELETE FROM feedback USING sites
             WHERE sites.key = feedback.site_key
               AND sites.retention_days IS NOT NULL
               AND feedback.received_at < $1 - sites.retention_days * 86400000",
            &[&now],
        ))?)
    }

    fn erase_email(&mut self, email: &str, sites: &[String]) -> Result<u64, StoreError> {
        if sites.is_empty() {
            return Ok(0);
        }
        let sites = sites.to_vec();
        let erased = wait(self.client.execute(
            "DELETE FROM feedback WHERE lower(email) = lower($1) AND site_key = ANY($2)",
            &[&email.trim(), &sites],
        ))?;
        wait(
            self.client
                .execute(&pg(crate::inbound::ERASE_UNMATCHED_FROM), &[&email.trim()]),
        )?;
        Ok(erased)
    }

    fn set_widget_settings(
        &mut self,
        key: &str,
        settings: &WidgetSettings,
    ) -> Result<(), StoreError> {
        let changed = wait(
            self.client
                .execute(&pg(sql::SET_WIDGET), &[&key, &widget_json(settings)]),
        )?;
        if changed == 0 {
            return Err(StoreError::UnknownSite(key.to_owned()));
        }
        Ok(())
    }

    fn site(&mut self, key: &str) -> Result<Option<Site>, StoreError> {
        wait(async {
            let Some(row) = self.client.query_opt(pg_once!(sql::SITE), &[&key]).await? else {
                return Ok(None);
            };
            let origins = self
                .client
                .query(pg_once!(sql::SITE_ORIGINS), &[&key])
                .await?
                .iter()
                .map(|row| row.try_get(0))
                .collect::<Result<_, _>>()?;
            Ok(Some(site_from(&row, origins)?))
        })
    }

    fn sites(&mut self) -> Result<Vec<Site>, StoreError> {
        wait(async {
            let rows = self
                .client
                .query(
                    "SELECT key, name, created_at, widget, retention_days, reply_to, answer_hours, promise_shown, acknowledge, notify_resolved FROM sites ORDER BY created_at, key",
                    &[],
                )
                .await?;
            let origins = self
                .client
                .query(
                    "SELECT site_key, origin FROM site_origins ORDER BY site_key, origin",
                    &[],
                )
                .await?;
            rows.iter()
                .map(|row| {
                    let key: String = row.try_get(0)?;
                    let mine = origins
                        .iter()
                        .filter(|origin| origin.try_get::<_, &str>(0).is_ok_and(|of| of == key))
                        .map(|origin| origin.try_get(1))
                        .collect::<Result<_, _>>()?;
                    site_from(row, mine)
                })
                .collect()
        })
    }

    fn add_token(&mut self, name: &str, hash: &str, site: Option<&str>) -> Result<i64, StoreError> {
        if let Some(site_key) = site
            && self.site(site_key)?.is_none()
        {
            return Err(StoreError::UnknownSite(site_key.to_owned()));
        }
        let row = wait(self.client.query_one(
            &returning_id(sql::ADD_TOKEN),
            &[&name, &hash, &site, &now_millis()],
        ))?;
        Ok(row.try_get(0)?)
    }

    fn token_by_hash(&mut self, hash: &str) -> Result<Option<TokenInfo>, StoreError> {
        wait(
            self.client
                .query_opt(pg_once!(sql::TOKEN_BY_HASH), &[&hash]),
        )?
        .as_ref()
        .map(token_row)
        .transpose()
    }

    fn tokens(&mut self) -> Result<Vec<TokenInfo>, StoreError> {
        wait(self.client.query(sql::TOKENS, &[]))?
            .iter()
            .map(token_row)
            .collect()
    }

    fn revoke_token(&mut self, id: i64) -> Result<(), StoreError> {
        let changed = wait(
            self.client
                .execute(&pg(sql::REVOKE_TOKEN), &[&id, &now_millis()]),
        )?;
        if changed == 0 {
            return Err(StoreError::UnknownToken(id));
        }
        Ok(())
    }

    fn count_feedback_in(
        &mut self,
        sites: &[String],
        filter: &FeedbackFilter,
    ) -> Result<u64, StoreError> {
        let (clause, values) = filter.sql(sites, Dialect::Postgres);
        let values = params(values);
        let sql = format!("SELECT count(*) FROM feedback WHERE {clause}");
        let row = wait(self.client.query_one(&sql, &refs(&values)))?;
        Ok(row.try_get::<_, i64>(0)? as u64)
    }

    fn feedback_stats(
        &mut self,
        sites: &[String],
        from: i64,
        to: i64,
        buckets: Buckets,
    ) -> Result<StatsRows, StoreError> {
        wait(async {
            // One snapshot: the answers agree with each other.
            let tx = self
                .client
                .build_transaction()
                .read_only(true)
                .isolation_level(tokio_postgres::IsolationLevel::RepeatableRead)
                .start()
                .await?;
            let (probe, sites_values) = stats_sql::any_arrived(sites, Dialect::Postgres);
            let mut arrivals = Vec::new();
            for (start, end) in stats_sql::probe_windows(from, to) {
                let mut window = vec![SqlValue::Int(start), SqlValue::Int(end)];
                window.extend(sites_values.iter().cloned());
                let window = params(window);
                let arrived: bool = tx.query_one(&probe, &refs(&window)).await?.try_get(0)?;
                arrivals.push(((start, end), arrived));
            }
            let (from, to) = stats_sql::widened(from, to, |start, end| {
                Ok::<_, StoreError>(
                    arrivals
                        .iter()
                        .find(|(window, _)| *window == (start, end))
                        .is_none_or(|(_, arrived)| *arrived),
                )
            })?;
            let sql = stats_sql::statements(sites, from, to, buckets, Dialect::Postgres);
            let values = params(sql.params);
            let args = refs(&values);
            let response_values = params(sql.response_params);
            let response_args = refs(&response_values);
            let mut ratings = Vec::new();
            for row in tx.query(&sql.ratings, &args).await? {
                let kind: String = row.try_get(0)?;
                ratings.push(RatingCount {
                    kind: parse_rating_kind(&kind),
                    value: row.try_get::<_, i64>(1)? as u8,
                    bucket: row.try_get(2)?,
                    count: row.try_get::<_, i64>(3)? as u64,
                });
            }
            let mut pages = Vec::new();
            for row in tx.query(&sql.pages, &args).await? {
                pages.push(PageSatisfaction {
                    url: row.try_get(0)?,
                    count: row.try_get::<_, i64>(1)? as u64,
                    satisfaction: row.try_get::<_, f64>(2)?,
                });
            }
            let responded = tx
                .query_one(&sql.responded, &response_args)
                .await?
                .try_get::<_, i64>(0)? as u64;
            let median_response_ms = if responded == 0 {
                None
            } else {
                let offset = (responded / 2) as i64;
                let mut with_offset = response_args.clone();
                with_offset.push(&offset);
                tx.query_opt(&sql.median, &with_offset)
                    .await?
                    .map(|row| row.try_get::<_, i64>(0))
                    .transpose()?
            };
            tx.commit().await?;
            Ok(StatsRows {
                ratings,
                pages,
                responded,
                median_response_ms,
            })
        })
    }

    /// Rows stream in as the server produces them (one statement, so one consistent
    /// snapshot); the connection reads ahead only as fast as `each` takes them, so an export
    /// of millions holds a few in memory.
    fn compact_stats(&mut self) -> Result<u64, StoreError> {
        wait(async {
            let tx = self.client.transaction().await?;
            // One replica at a time; the others find the work done.
            let ours: bool = tx
                .query_one("SELECT pg_try_advisory_xact_lock($1)", &[&STATS_LOCK])
                .await?
                .try_get(0)?;
            if ours {
                for statement in stats_sql::COMPACT {
                    tx.execute(statement, &[]).await?;
                }
            }
            let rows: i64 = tx.query_one(sql::STATS_ROWS, &[]).await?.try_get(0)?;
            tx.commit().await?;
            Ok(rows as u64)
        })
    }

    fn for_each_feedback_in(
        &mut self,
        sites: &[String],
        filter: &FeedbackFilter,
        page: Page,
        each: &mut dyn FnMut(FeedbackRow) -> Result<(), StoreError>,
    ) -> Result<u64, StoreError> {
        let (clause, values) = filter.sql(sites, Dialect::Postgres);
        let values = params(values);
        let sql = format!(
            "SELECT {FEEDBACK_COLUMNS} FROM feedback WHERE {clause} {}",
            page.order_by()
        );
        wait(async {
            let rows = self.client.query_raw(&sql, refs(&values)).await?;
            let mut rows = std::pin::pin!(rows);
            let mut count = 0;
            while let Some(row) = rows.try_next().await? {
                each(feedback_row(&row)?)?;
                count += 1;
            }
            Ok(count)
        })
    }

    fn for_each_feedback_with_threads_in(
        &mut self,
        sites: &[String],
        filter: &FeedbackFilter,
        each: &mut dyn FnMut(FeedbackRow) -> Result<(), StoreError>,
    ) -> Result<u64, StoreError> {
        let (clause, values) = filter.sql(sites, Dialect::Postgres);
        let values = params(values);
        let sql = format!(
            "SELECT {FEEDBACK_COLUMNS}, {} FROM feedback WHERE {clause} {}",
            thread_json_column(Dialect::Postgres),
            Page::All.order_by()
        );
        wait(async {
            let rows = self.client.query_raw(&sql, refs(&values)).await?;
            let mut rows = std::pin::pin!(rows);
            let mut count = 0;
            while let Some(row) = rows.try_next().await? {
                each(feedback_row(&row)?)?;
                count += 1;
            }
            Ok(count)
        })
    }

    fn feedback_by_id(&mut self, id: &str) -> Result<Option<FeedbackRow>, StoreError> {
        wait(self.client.query_opt(pg_once!(sql::FEEDBACK_BY_ID), &[&id]))?
            .as_ref()
            .map(feedback_row)
            .transpose()
    }

    fn add_screenshot(&mut self, screenshot: &Screenshot) -> Result<bool, StoreError> {
        let added = wait(self.client.execute(
            pg_once!(sql::ADD_SCREENSHOT),
            &[
                &screenshot.feedback_id,
                &screenshot.content_type,
                &i64::from(screenshot.width),
                &i64::from(screenshot.height),
                &screenshot.image,
                &screenshot.thumbnail,
                &screenshot.created_at,
            ],
        ))?;
        Ok(added == 1)
    }

    fn screenshot_image(
        &mut self,
        feedback_id: &str,
        thumbnail: bool,
    ) -> Result<Option<(String, Vec<u8>)>, StoreError> {
        let statement = if thumbnail {
            pg_once!(sql::SCREENSHOT_THUMBNAIL)
        } else {
            pg_once!(sql::SCREENSHOT_IMAGE)
        };
        wait(self.client.query_opt(statement, &[&feedback_id]))?
            .map(|row| Ok((row.try_get(0)?, row.try_get(1)?)))
            .transpose()
    }

    fn screenshot_size(&mut self, feedback_id: &str) -> Result<Option<(u32, u32)>, StoreError> {
        wait(
            self.client
                .query_opt(pg_once!(sql::SCREENSHOT_SIZE), &[&feedback_id]),
        )?
        .map(|row| {
            let side = |index: usize| -> Result<u32, StoreError> {
                Ok(u32::try_from(row.try_get::<_, i64>(index)?).unwrap_or(u32::MAX))
            };
            Ok((side(0)?, side(1)?))
        })
        .transpose()
    }

    fn triage(&mut self, id: &str, status: FeedbackStatus, note: &str) -> Result<bool, StoreError> {
        wait(async {
            let tx = self.client.transaction().await?;
            let Some(before) = tx
                .query_opt(
                    "SELECT status, site_key, email, spam FROM feedback WHERE id = $1 FOR UPDATE",
                    &[&id],
                )
                .await?
            else {
                return Ok(false);
            };
            let (was, site, email, spam): (String, String, Option<String>, bool) = (
                before.try_get(0)?,
                before.try_get(1)?,
                before.try_get(2)?,
                before.try_get(3)?,
            );
            let now = now_millis();
            tx.execute(&pg(mail_sql::TRIAGE), &[&id, &status.as_str(), &note, &now])
                .await?;
            // The visitor hears that it was resolved, once, when the site says so.
            let resolved_now = status == FeedbackStatus::Resolved
                && FeedbackStatus::stored(&was) != FeedbackStatus::Resolved;
            if let Some(email) =
                email.filter(|email| resolved_now && !spam && !email.trim().is_empty())
            {
                let notify: bool = tx
                    .query_one(&pg(mail_sql::SITE_ANSWERS), &[&site])
                    .await?
                    .try_get(2)?;
                let told = tx
                    .query_opt(&pg(mail_sql::RESOLUTION_SENT), &[&id])
                    .await?
                    .is_some();
                if notify && !told && !unsubscribed(&tx, &site, &email).await? {
                    insert_mail(
                        &tx,
                        MailKind::Resolved,
                        Some(&site),
                        Some(id),
                        None,
                        None,
                        None,
                        email.trim(),
                        now,
                    )
                    .await?;
                }
            }
            tx.commit().await?;
            Ok(true)
        })
    }

    fn add_user(
        &mut self,
        email: &str,
        password_hash: &str,
        sites: Option<&[String]>,
    ) -> Result<User, StoreError> {
        wait(async {
            let tx = self.client.transaction().await?;
            let Some(row) = tx
                .query_opt(
                    &returning_id(sql::ADD_USER),
                    &[&email, &password_hash, &sites.is_none(), &now_millis()],
                )
                .await?
            else {
                return Err(StoreError::UserExists(email.to_owned()));
            };
            let id: i64 = row.try_get(0)?;
            for site in sites.unwrap_or_default() {
                if tx
                    .query_opt(&pg(sql::SITE_EXISTS), &[site])
                    .await?
                    .is_none()
                {
                    return Err(StoreError::UnknownSite(site.clone()));
                }
                tx.execute(&pg(sql::ADD_USER_SITE), &[&id, site]).await?;
            }
            tx.commit().await?;
            Ok(User {
                id,
                email: email.to_owned(),
                sites: sites.map(<[String]>::to_vec),
            })
        })
    }

    fn user_by_email(&mut self, email: &str) -> Result<Option<(User, String)>, StoreError> {
        wait(async {
            let Some(row) = self
                .client
                .query_opt(&pg(sql::USER_BY_EMAIL), &[&email])
                .await?
            else {
                return Ok(None);
            };
            let id: i64 = row.try_get(0)?;
            let sites = user_sites(&self.client, id, row.try_get(3)?).await?;
            Ok(Some((
                User {
                    id,
                    email: row.try_get(1)?,
                    sites,
                },
                row.try_get(2)?,
            )))
        })
    }

    fn has_users(&mut self) -> Result<bool, StoreError> {
        wait(async {
            Ok(self
                .client
                .query_one(sql::ANY_USER, &[])
                .await?
                .try_get(0)?)
        })
    }

    fn users(&mut self) -> Result<Vec<User>, StoreError> {
        wait(async {
            let rows = self.client.query(sql::USERS, &[]).await?;
            let mut users = Vec::with_capacity(rows.len());
            for row in rows {
                let id: i64 = row.try_get(0)?;
                users.push(User {
                    id,
                    email: row.try_get(1)?,
                    sites: user_sites(&self.client, id, row.try_get(2)?).await?,
                });
            }
            Ok(users)
        })
    }

    fn add_session(
        &mut self,
        token_hash: &str,
        user_id: i64,
        csrf: &str,
        now: i64,
        expires_at: i64,
    ) -> Result<(), StoreError> {
        wait(async {
            let tx = self.client.transaction().await?;
            tx.execute(
                &pg(sql::ADD_SESSION),
                &[&token_hash, &user_id, &csrf, &now, &expires_at],
            )
            .await?;
            // Expired sessions are dropped whenever someone signs in.
            tx.execute(&pg(sql::DROP_EXPIRED_SESSIONS), &[&now]).await?;
            tx.commit().await?;
            Ok(())
        })
    }

    fn session(&mut self, token_hash: &str, now: i64) -> Result<Option<Session>, StoreError> {
        wait(async {
            let Some(row) = self
                .client
                .query_opt(pg_once!(sql::SESSION), &[&token_hash, &now])
                .await?
            else {
                return Ok(None);
            };
            let id: i64 = row.try_get(0)?;
            Ok(Some(Session {
                user: User {
                    id,
                    email: row.try_get(1)?,
                    sites: user_sites(&self.client, id, row.try_get(2)?).await?,
                },
                csrf: row.try_get(3)?,
                time_zone: row.try_get(4)?,
            }))
        })
    }

    fn end_session(&mut self, token_hash: &str) -> Result<(), StoreError> {
        wait(self.client.execute(&pg(sql::END_SESSION), &[&token_hash]))?;
        Ok(())
    }

    fn set_time_zone(&mut self, user_id: i64, zone: &str) -> Result<(), StoreError> {
        wait(
            self.client
                .execute(&pg(sql::SET_TIME_ZONE), &[&user_id, &zone]),
        )?;
        Ok(())
    }

    fn add_webhook(
        &mut self,
        site: &str,
        url: &str,
        secret: &str,
        format: WebhookFormat,
    ) -> Result<i64, StoreError> {
        let row = wait(self.client.query_one(
            &returning_id(sql::ADD_WEBHOOK),
            &[&site, &url, &secret, &format.as_str(), &now_millis()],
        ))?;
        Ok(row.try_get(0)?)
    }

    fn webhooks(&mut self, site: &str) -> Result<Vec<Webhook>, StoreError> {
        wait(self.client.query(&pg(sql::WEBHOOKS), &[&site]))?
            .iter()
            .map(|row| webhook_row(row, 0))
            .collect()
    }

    fn webhook(&mut self, site: &str, id: i64) -> Result<Option<Webhook>, StoreError> {
        wait(self.client.query_opt(&pg(sql::WEBHOOK), &[&id, &site]))?
            .map(|row| webhook_row(&row, 0))
            .transpose()
    }

    fn delete_webhook(&mut self, site: &str, id: i64) -> Result<bool, StoreError> {
        Ok(wait(self.client.execute(&pg(sql::DELETE_WEBHOOK), &[&id, &site]))? == 1)
    }

    fn deliveries(&mut self, site: &str, limit: u32) -> Result<Vec<Delivery>, StoreError> {
        wait(
            self.client
                .query(&pg(sql::DELIVERIES), &[&site, &i64::from(limit)]),
        )?
        .iter()
        .map(|row| {
            Ok(Delivery {
                id: row.try_get(0)?,
                url: row.try_get(1)?,
                feedback_id: row.try_get(2)?,
                state: DeliveryState::stored(row.try_get::<_, &str>(3)?),
                attempts: row.try_get::<_, i64>(4)?.clamp(0, u32::MAX.into()) as u32,
                last_status: row
                    .try_get::<_, Option<i64>>(5)?
                    .map(|status| status.clamp(0, u16::MAX.into()) as u16),
                last_error: row.try_get(6)?,
                updated_at: row.try_get(7)?,
            })
        })
        .collect()
    }

    /// `FOR UPDATE SKIP LOCKED`: replicas polling together each take different deliveries.
    fn claim_due_deliveries(
        &mut self,
        now: i64,
        lease_until: i64,
        limit: u32,
    ) -> Result<Vec<DueDelivery>, StoreError> {
        wait(self.client.query(
            "WITH due AS (
                 SELECT id FROM webhook_deliveries
                 WHERE state = 'pending' AND next_attempt_at <= $1
                 ORDER BY next_attempt_at LIMIT $3
                 FOR UPDATE SKIP LOCKED)
             UPDATE webhook_deliveries d SET next_attempt_at = $2
             FROM due, webhooks w
             WHERE d.id = due.id AND w.id = d.webhook_id
             RETURNING d.id, w.id, w.site_key, w.url, w.secret, w.format, d.feedback_id, d.attempts",
            &[&now, &lease_until, &i64::from(limit)],
        ))?
        .iter()
        .map(|row| {
            Ok(DueDelivery {
                id: row.try_get(0)?,
                webhook: webhook_row(row, 1)?,
                feedback_id: row.try_get(6)?,
                attempts: row.try_get::<_, i64>(7)?.clamp(0, u32::MAX.into()) as u32,
            })
        })
        .collect()
    }

    fn record_delivery(&mut self, id: i64, attempt: &DeliveryAttempt) -> Result<(), StoreError> {
        wait(self.client.execute(
            &pg(sql::RECORD_DELIVERY),
            &[
                &id,
                &attempt.state.as_str(),
                &i64::from(attempt.attempts),
                &attempt.status.map(i64::from),
                &attempt.error,
                &attempt.next_attempt_at,
                &attempt.now,
            ],
        ))?;
        Ok(())
    }

    fn set_answer_settings(
        &mut self,
        key: &str,
        settings: &AnswerSettings,
    ) -> Result<(), StoreError> {
        let changed = wait(self.client.execute(
            &pg(mail_sql::SET_ANSWER_SETTINGS),
            &[
                &key,
                &settings.reply_to,
                &i64::from(settings.answer_hours),
                &settings.promise_shown,
                &settings.acknowledge,
                &settings.notify_resolved,
            ],
        ))?;
        if changed == 0 {
            return Err(StoreError::UnknownSite(key.to_owned()));
        }
        Ok(())
    }

    fn owner_notifications(&mut self, user_id: i64) -> Result<OwnerNotifications, StoreError> {
        let Some(row) = wait(
            self.client
                .query_opt(&pg(mail_sql::OWNER_NOTIFICATIONS), &[&user_id]),
        )?
        else {
            return Ok(OwnerNotifications::default());
        };
        Ok(OwnerNotifications {
            feedback: NotifyFeedback::parse(row.try_get(0)?).unwrap_or_default(),
            answers: row.try_get(1)?,
        })
    }

    fn set_owner_notifications(
        &mut self,
        user_id: i64,
        notifications: &OwnerNotifications,
    ) -> Result<(), StoreError> {
        wait(self.client.execute(
            &pg(mail_sql::SET_OWNER_NOTIFICATIONS),
            &[
                &user_id,
                &notifications.feedback.as_str(),
                &notifications.answers,
            ],
        ))?;
        Ok(())
    }

    fn unsubscribe(&mut self, site: &str, email: &str, now: i64) -> Result<bool, StoreError> {
        wait(async {
            let tx = self.client.transaction().await?;
            if tx
                .query_opt(&pg(sql::SITE_EXISTS), &[&site])
                .await?
                .is_none()
            {
                return Ok(false);
            }
            tx.execute(
                &pg(mail_sql::UNSUBSCRIBE),
                &[&site, &email_hash(email), &now],
            )
            .await?;
            let mailbox = mailbox_key(email);
            for row in tx
                .query(&pg(mail_sql::WAITING_FOR_VISITORS), &[&site])
                .await?
            {
                let (id, recipient): (i64, String) = (row.try_get(0)?, row.try_get(1)?);
                if mailbox_key(&recipient) == mailbox {
                    tx.execute(&pg(mail_sql::GIVE_UP), &[&id, &now]).await?;
                }
            }
            tx.commit().await?;
            Ok(true)
        })
    }

    fn mark_unsubscribed(
        &mut self,
        site: &str,
        email: &str,
        kept: Option<&str>,
        now: i64,
    ) -> Result<(), StoreError> {
        wait(async {
            let tx = self.client.transaction().await?;
            if let Some(kept) = kept {
                tx.execute(&pg(mail_sql::KEEP_REPLIES), &[&kept]).await?;
                tx.execute(&pg(mail_sql::REQUEUE_KEPT_REPLIES), &[&kept, &now])
                    .await?;
            }
            tx.execute(&pg(mail_sql::MARK_UNREACHABLE), &[&site, &email, &now])
                .await?;
            tx.commit().await?;
            Ok(())
        })
    }

    fn unsubscribed_at(&mut self, site: &str, email: &str) -> Result<Option<i64>, StoreError> {
        Ok(wait(
            self.client
                .query_opt(&pg(mail_sql::UNSUBSCRIBED_AT), &[&site, &email_hash(email)]),
        )?
        .map(|row| row.try_get(0))
        .transpose()?)
    }

    fn resubscribe(
        &mut self,
        site: &str,
        email: &str,
        since: i64,
        now: i64,
    ) -> Result<bool, StoreError> {
        wait(async {
            let tx = self.client.transaction().await?;
            let removed = tx
                .execute(
                    &pg(mail_sql::RESUBSCRIBE),
                    &[&site, &email_hash(email), &since],
                )
                .await?;
            if removed == 0 {
                return Ok(false);
            }
            tx.execute(&pg(mail_sql::MARK_REACHABLE), &[&site, &email, &since])
                .await?;
            tx.execute(
                &pg(mail_sql::REQUEUE_GIVEN_UP),
                &[&site, &email.trim(), &since, &now],
            )
            .await?;
            tx.commit().await?;
            Ok(true)
        })
    }

    fn is_unsubscribed(&mut self, site: &str, email: &str) -> Result<bool, StoreError> {
        wait(unsubscribed(&self.client, site, email))
    }

    fn queue_digests(&mut self, now: i64) -> Result<u64, StoreError> {
        let now = now - mail_sql::DIGEST_SETTLE_MS;
        wait(async {
            let tx = self.client.transaction().await?;
            let owners = tx.query(mail_sql::DIGEST_OWNERS, &[]).await?;
            let mut queued = 0;
            for owner in owners {
                let (id, email, often, until): (i64, String, String, Option<i64>) = (
                    owner.try_get(0)?,
                    owner.try_get(1)?,
                    owner.try_get(2)?,
                    owner.try_get(3)?,
                );
                let Some(period) =
                    NotifyFeedback::parse(&often).and_then(NotifyFeedback::period_ms)
                else {
                    continue;
                };
                match until {
                    None => {}
                    Some(until) if until + period > now => continue,
                    Some(until) => {
                        // Another collector may be at the same owner: whoever moves the
                        // period on queues the digest.
                        if tx
                            .execute(&pg(mail_sql::ADVANCE_DIGEST), &[&id, &Some(until), &now])
                            .await?
                            == 0
                        {
                            continue;
                        }
                        let count: i64 = tx
                            .query_one(&pg(&sql::DIGEST_COUNT), &[&id, &until, &now])
                            .await?
                            .try_get(0)?;
                        if count > 0 {
                            insert_mail(
                                &tx,
                                MailKind::Digest,
                                None,
                                None,
                                None,
                                Some(id),
                                Some((until, now)),
                                &email,
                                now,
                            )
                            .await?;
                            queued += 1;
                        }
                        continue;
                    }
                }
                tx.execute(&pg(mail_sql::ADVANCE_DIGEST), &[&id, &until, &now])
                    .await?;
            }
            tx.commit().await?;
            Ok(queued)
        })
    }

    fn queue_reminders(&mut self, now: i64, lead_ms: i64) -> Result<u64, StoreError> {
        wait(async {
            let tx = self.client.transaction().await?;
            let due = tx.query(&pg(mail_sql::DUE_SOON), &[&now, &lead_ms]).await?;
            let mut reminded = 0;
            for row in due {
                let (feedback, site): (String, String) = (row.try_get(0)?, row.try_get(1)?);
                if tx
                    .execute(&pg(mail_sql::MARK_REMINDED), &[&feedback, &now])
                    .await?
                    == 0
                {
                    continue;
                }
                for owner in tx.query(&pg(mail_sql::OWNERS_OF_SITE), &[&site]).await? {
                    let (user, email): (i64, String) = (owner.try_get(0)?, owner.try_get(1)?);
                    insert_mail(
                        &tx,
                        MailKind::Reminder,
                        Some(&site),
                        Some(&feedback),
                        None,
                        Some(user),
                        None,
                        &email,
                        now,
                    )
                    .await?;
                }
                reminded += 1;
            }
            tx.commit().await?;
            Ok(reminded)
        })
    }

    fn digest_feedback(
        &mut self,
        user_id: i64,
        from: i64,
        to: i64,
        limit: u32,
    ) -> Result<(u64, Vec<FeedbackRow>), StoreError> {
        wait(async {
            let count: i64 = self
                .client
                .query_one(&pg(&sql::DIGEST_COUNT), &[&user_id, &from, &to])
                .await?
                .try_get(0)?;
            let rows = self
                .client
                .query(
                    &pg(&sql::DIGEST_PAGE),
                    &[&user_id, &from, &to, &i64::from(limit)],
                )
                .await?
                .iter()
                .map(feedback_row)
                .collect::<Result<Vec<_>, _>>()?;
            Ok((count.max(0) as u64, rows))
        })
    }

    fn answer_records(
        &mut self,
        sites: &[String],
        from: i64,
        to: i64,
    ) -> Result<Vec<AnswerRecord>, StoreError> {
        let sites = sites.to_vec();
        wait(self.client.query(
            &pg(&mail_sql::ANSWER_RECORDS.replace("{sites}", "= ANY(?3)")),
            &[&from, &to, &sites],
        ))?
        .iter()
        .map(|row| {
            Ok(AnswerRecord {
                site: row.try_get(0)?,
                received_at: row.try_get(1)?,
                answer_by: row.try_get(2)?,
                first_answer_at: row.try_get(3)?,
                answered_by: row.try_get(4)?,
                follow_up: row.try_get(5)?,
                unreachable: row.try_get(6)?,
            })
        })
        .collect()
    }

    fn add_reply(&mut self, reply: &NewReply) -> Result<ReplyOutcome, StoreError> {
        wait(async {
            let tx = self.client.transaction().await?;
            let outcome = reply_in(&tx, reply).await?;
            tx.commit().await?;
            Ok(outcome)
        })
    }

    fn add_visitor_answer(
        &mut self,
        feedback_id: &str,
        body: &str,
        now: i64,
    ) -> Result<Option<i64>, StoreError> {
        wait(async {
            let tx = self.client.transaction().await?;
            let message = visitor_answer_in(&tx, feedback_id, body, now).await?;
            tx.commit().await?;
            Ok(message)
        })
    }

    fn restore_spam(&mut self, id: &str, now: i64) -> Result<bool, StoreError> {
        Ok(wait(self.client.execute(&pg(sql::NOT_SPAM), &[&id, &now]))? == 1)
    }

    fn mark_read(&mut self, feedback_id: &str) -> Result<(), StoreError> {
        wait(self.client.execute(&pg(sql::MARK_READ), &[&feedback_id]))?;
        Ok(())
    }

    fn thread_message(&mut self, id: i64) -> Result<Option<ThreadMessage>, StoreError> {
        wait(self.client.query_opt(&pg(sql::THREAD_MESSAGE), &[&id]))?
            .as_ref()
            .map(thread_message_row)
            .transpose()
    }

    fn thread(&mut self, feedback_id: &str) -> Result<Vec<ThreadMessage>, StoreError> {
        wait(self.client.query(&pg(sql::THREAD), &[&feedback_id]))?
            .iter()
            .map(thread_message_row)
            .collect()
    }

    fn mail_for(&mut self, feedback_id: &str) -> Result<Vec<OutgoingMail>, StoreError> {
        wait(self.client.query(&pg(sql::MAIL_FOR), &[&feedback_id]))?
            .iter()
            .map(|row| {
                Ok(OutgoingMail {
                    id: row.try_get(0)?,
                    kind: mail_kind(row.try_get::<_, &str>(1)?)?,
                    feedback_id: row.try_get(2)?,
                    thread_message: row.try_get(3)?,
                    recipient: row.try_get(4)?,
                    state: DeliveryState::stored(row.try_get::<_, &str>(5)?),
                    attempts: count(row.try_get(6)?),
                    last_error: row.try_get(7)?,
                    next_attempt_at: row.try_get(8)?,
                    updated_at: row.try_get(9)?,
                })
            })
            .collect()
    }

    fn pending_mail(&mut self) -> Result<u64, StoreError> {
        let pending: i64 = wait(self.client.query_one(sql::PENDING_MAIL, &[]))?.try_get(0)?;
        Ok(pending.max(0) as u64)
    }

    /// `FOR UPDATE SKIP LOCKED`: replicas polling together each take different emails.
    fn claim_due_mail(
        &mut self,
        now: i64,
        lease_until: i64,
        limit: u32,
    ) -> Result<Vec<DueMail>, StoreError> {
        wait(self.client.query(
            "WITH due AS (
                 SELECT id FROM outbox
                 WHERE state = 'pending' AND next_attempt_at <= $1
                 ORDER BY kind <> 'reply', next_attempt_at, id LIMIT $3
                 FOR UPDATE SKIP LOCKED)
             UPDATE outbox o SET next_attempt_at = $2
             FROM due WHERE o.id = due.id
             RETURNING o.id, o.message_key, o.kind, o.site_key, o.feedback_id, o.thread_message,
                       o.user_id, o.window_start, o.window_end, o.recipient, o.attempts",
            &[&now, &lease_until, &i64::from(limit)],
        ))?
        .iter()
        .map(|row| {
            let window = match (
                row.try_get::<_, Option<i64>>(7)?,
                row.try_get::<_, Option<i64>>(8)?,
            ) {
                (Some(start), Some(end)) => Some((start, end)),
                _ => None,
            };
            Ok(DueMail {
                id: row.try_get(0)?,
                message_key: row.try_get(1)?,
                kind: mail_kind(row.try_get::<_, &str>(2)?)?,
                site: row.try_get(3)?,
                feedback_id: row.try_get(4)?,
                thread_message: row.try_get(5)?,
                user_id: row.try_get(6)?,
                window,
                recipient: row.try_get(9)?,
                attempts: count(row.try_get(10)?),
            })
        })
        .collect()
    }

    fn fold_notice(&mut self, mail: &DueMail, now: i64, send_at: i64) -> Result<(), StoreError> {
        wait(async {
            let tx = self.client.transaction().await?;
            tx.execute(&pg(mail_sql::FOLD), &[&mail.id, &now, &mail_sql::FOLDED])
                .await?;
            if let Some(user) = mail.user_id {
                // Two collectors folding for one owner at once queue one catch-up email.
                tx.execute(
                    "SELECT pg_advisory_xact_lock(hashtextextended('earshot catch-up ' || $1::int8::text, 0))",
                    &[&user],
                )
                .await?;
                if tx
                    .query_opt(&pg(mail_sql::CATCH_UP_WAITING), &[&user, &now])
                    .await?
                    .is_none()
                {
                    let from: Option<i64> = tx
                        .query_one(&pg(mail_sql::LAST_CATCH_UP_END), &[&user])
                        .await?
                        .try_get(0)?;
                    tx.execute(
                        &pg(mail_sql::INSERT_CATCH_UP),
                        &[
                            &message_key(),
                            &user,
                            &from.unwrap_or(now).min(now),
                            &send_at,
                            &mail.recipient,
                            &now,
                        ],
                    )
                    .await?;
                }
            }
            tx.commit().await?;
            Ok(())
        })
    }

    fn folded_notices(
        &mut self,
        user_id: i64,
        from: i64,
        to: i64,
    ) -> Result<Vec<FoldedNotice>, StoreError> {
        wait(async {
            let rows = self
                .client
                .query(
                    &pg(mail_sql::FOLDED_NOTICES),
                    &[&user_id, &from, &to, &mail_sql::FOLDED],
                )
                .await?;
            rows.iter()
                .map(|row| {
                    Ok(FoldedNotice {
                        kind: mail_kind(row.try_get(0)?)?,
                        site: row.try_get(1)?,
                        feedback_id: row.try_get(2)?,
                    })
                })
                .collect()
        })
    }

    fn record_mail(&mut self, id: i64, attempt: &DeliveryAttempt) -> Result<(), StoreError> {
        wait(self.client.execute(
            &pg(sql::RECORD_MAIL),
            &[
                &id,
                &attempt.state.as_str(),
                &i64::from(attempt.attempts),
                &attempt.error,
                &attempt.next_attempt_at,
                &attempt.now,
            ],
        ))?;
        Ok(())
    }

    fn add_link(
        &mut self,
        purpose: LinkPurpose,
        feedback_id: &str,
        token_hash: &str,
        now: i64,
        expires_at: i64,
    ) -> Result<(), StoreError> {
        wait(async {
            let tx = self.client.transaction().await?;
            tx.execute(&pg(mail_sql::DROP_EXPIRED_LINKS), &[&now])
                .await?;
            tx.execute(
                &pg(mail_sql::ADD_LINK),
                &[
                    &token_hash,
                    &feedback_id,
                    &purpose.as_str(),
                    &now,
                    &expires_at,
                ],
            )
            .await?;
            tx.commit().await?;
            Ok(())
        })
    }

    fn link_target(
        &mut self,
        purpose: LinkPurpose,
        token_hash: &str,
        now: i64,
    ) -> Result<Option<String>, StoreError> {
        Ok(wait(self.client.query_opt(
            &pg(mail_sql::LINK_TARGET),
            &[&token_hash, &purpose.as_str(), &now],
        ))?
        .map(|row| row.try_get(0))
        .transpose()?)
    }
}

/// A database of its own on a PostgreSQL server, dropped with this guard: what the tests
/// and benchmarks run against, so runs never share tables.
pub struct ScratchDatabase {
    admin_url: String,
    name: String,
    url: String,
}

impl ScratchDatabase {
    /// Creates an empty database through `admin_url` (a role allowed to create databases).
    pub fn create(admin_url: &str) -> Result<Self, StoreError> {
        let name = format!("earshot_scratch_{}", uuid::Uuid::new_v4().simple());
        let mut url =
            url::Url::parse(admin_url).map_err(|_| StoreError::BadLocation(redact(admin_url)))?;
        url.set_path(&name);
        let admin = PgConn::open(admin_url)?;
        wait(
            admin
                .client
                .batch_execute(&format!("CREATE DATABASE {name}")),
        )?;
        Ok(Self {
            admin_url: admin_url.to_owned(),
            name,
            url: url.to_string(),
        })
    }

    /// The address of the new database.
    pub fn url(&self) -> &str {
        &self.url
    }
}

impl Drop for ScratchDatabase {
    fn drop(&mut self) {
        let dropped = PgConn::open(&self.admin_url).and_then(|admin| {
            Ok(wait(admin.client.batch_execute(&format!(
                "DROP DATABASE IF EXISTS {} WITH (FORCE)",
                self.name
            )))?)
        });
        if let Err(err) = dropped {
            tracing::warn!(database = %self.name, error = %err, "a scratch database was left behind");
        }
    }
}

/// [`Database::add_reply`] within a transaction the caller commits (an owner's reply that
/// arrived by email is recorded in the same one).
pub(crate) async fn reply_in(
    tx: &tokio_postgres::Transaction<'_>,
    reply: &NewReply,
) -> Result<ReplyOutcome, StoreError> {
    // Locked: an erasure of this visitor meanwhile waits for the reply, then takes it.
    let Some(row) = tx
        .query_opt(
            "SELECT site_key, email, replies_kept FROM feedback WHERE id = $1 FOR UPDATE",
            &[&reply.feedback_id],
        )
        .await?
    else {
        return Ok(ReplyOutcome::UnknownFeedback);
    };
    let (site, email, replies_kept): (String, Option<String>, bool) =
        (row.try_get(0)?, row.try_get(1)?, row.try_get(2)?);
    let Some(email) = email.filter(|email| !email.trim().is_empty()) else {
        return Ok(ReplyOutcome::NoEmail);
    };
    if !replies_kept && unsubscribed(tx, &site, &email).await? {
        return Ok(ReplyOutcome::Unsubscribed);
    }
    let message: i64 = tx
        .query_one(
            &returning_id(sql::ADD_OWNER_MESSAGE),
            &[
                &reply.feedback_id,
                &reply.author_email,
                &reply.body,
                &reply.now,
            ],
        )
        .await?
        .try_get(0)?;
    tx.execute(&pg(sql::MARK_ANSWERED), &[&reply.feedback_id, &reply.now])
        .await?;
    tx.execute(
        &pg(sql::ANSWER_FOLLOW_UPS),
        &[&reply.feedback_id, &reply.now],
    )
    .await?;
    let mail = insert_mail(
        tx,
        MailKind::Reply,
        Some(&site),
        Some(&reply.feedback_id),
        Some(message),
        None,
        None,
        email.trim(),
        reply.now,
    )
    .await?;
    Ok(ReplyOutcome::Queued { message, mail })
}

/// [`Database::add_visitor_answer`] within a transaction the caller commits (an answer that
/// arrived by email is recorded in the same one).
pub(crate) async fn visitor_answer_in(
    tx: &tokio_postgres::Transaction<'_>,
    feedback_id: &str,
    body: &str,
    now: i64,
) -> Result<Option<i64>, StoreError> {
    let Some(row) = tx
        .query_opt(
            &format!("{} FOR UPDATE OF feedback", pg(sql::ANSWERED_FEEDBACK)),
            &[&feedback_id],
        )
        .await?
    else {
        return Ok(None);
    };
    let site: String = row.try_get(0)?;
    let answered = AnsweredFeedback {
        email: row.try_get(1)?,
        spam: row.try_get(2)?,
        answered_at: row.try_get(3)?,
        status: FeedbackStatus::stored(row.try_get::<_, &str>(4)?),
        unsubscribed_at: row.try_get(5)?,
        answer_by: row.try_get(6)?,
        answer_hours: row.try_get(7)?,
    };
    let promise = answered.new_promise(now);
    let message: i64 = tx
        .query_one(
            &returning_id(sql::ADD_VISITOR_MESSAGE),
            &[&feedback_id, &body, &now, &promise],
        )
        .await?
        .try_get(0)?;
    tx.execute(&pg(sql::REOPEN), &[&feedback_id, &promise])
        .await?;
    for owner in tx.query(&pg(mail_sql::OWNERS_OF_SITE), &[&site]).await? {
        let (user, email, answers): (i64, String, bool) =
            (owner.try_get(0)?, owner.try_get(1)?, owner.try_get(3)?);
        if answers {
            insert_mail(
                tx,
                MailKind::VisitorAnswer,
                Some(&site),
                Some(feedback_id),
                Some(message),
                Some(user),
                None,
                &email,
                now,
            )
            .await?;
        }
    }
    Ok(Some(message))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sslrootcert_and_sslmode_are_taken_out_of_the_url() {
        assert_eq!(
            split_tls_options("postgres://u:p@db/e?sslmode=verify-full&sslrootcert=/etc/ca.pem")
                .unwrap(),
            (
                "postgres://u:p@db/e".to_owned(),
                Some(PathBuf::from("/etc/ca.pem")),
                TlsMode::VerifyFull
            )
        );
        assert_eq!(
            split_tls_options("postgres://u:p@db/e?sslrootcert=ca.pem&connect_timeout=3").unwrap(),
            (
                "postgres://u:p@db/e?connect_timeout=3".to_owned(),
                Some(PathBuf::from("ca.pem")),
                TlsMode::Plain
            )
        );
        assert_eq!(
            split_tls_options("postgres://u:p@db/e").unwrap(),
            ("postgres://u:p@db/e".to_owned(), None, TlsMode::Plain)
        );
        for (value, mode) in [
            ("disable", TlsMode::Plain),
            ("allow", TlsMode::Allow),
            ("prefer", TlsMode::Plain),
            ("require", TlsMode::VerifyFull),
            ("verify-ca", TlsMode::VerifyCa),
            ("verify-full", TlsMode::VerifyFull),
        ] {
            let url = format!("postgres://u:p@db/e?sslmode={value}");
            assert_eq!(split_tls_options(&url).unwrap().2, mode, "{value}");
        }
        let refused = split_tls_options("postgres://u:p@db/e?sslmode=sometimes").unwrap_err();
        assert!(refused.to_string().contains("verify-full"), "{refused}");
    }
}
