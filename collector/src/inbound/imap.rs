//! The IMAP watcher (`--imap-url`): the reply mailbox, watched for new email, each taken
//! through the pipeline. IDLE where the server has it (a new email is taken at once),
//! polling otherwise. An email is flagged (`$EarshotTaken`, and seen) only after the store
//! has recorded it, so a collector killed while processing takes it up again after restart;
//! the store's record by `Message-ID` makes that second pass, or a second replica watching
//! the same mailbox, a duplicate that changes nothing.

use std::sync::Arc;
use std::time::Duration;

use async_imap::Session;
use async_imap::types::UnsolicitedResponse;
use futures_util::StreamExt;
use tokio::io::{AsyncRead, AsyncWrite};
use tokio::net::TcpStream;

use super::reading::{MAX_INBOUND_BYTES, Unreadable};
use super::{InboundSettings, Source, TakeError, take, take_unreadable};
use crate::mail::MailBell;
use earshot_store::Store;

/// How often a mailbox without IDLE is looked at.
pub const IMAP_POLL: Duration = Duration::from_secs(30);
/// How long one IDLE lasts before it is renewed (servers drop one after 30 minutes).
pub const IDLE_RENEW: Duration = Duration::from_secs(5 * 60);
/// The wait before connecting again after the server or the network failed.
pub const RECONNECT_AFTER: Duration = Duration::from_secs(5);
/// The keyword an email gets once it is recorded.
pub const TAKEN_KEYWORD: &str = "$EarshotTaken";
/// How long connecting, logging in and each command may take.
const COMMAND_TIMEOUT: Duration = Duration::from_secs(60);

/// How the connection is protected.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Tls {
    /// `imaps://`: TLS from the first byte (port 993).
    Implicit,
    /// `imap://`: STARTTLS, required (port 143).
    StartTls,
    /// `imap://…?tls=none`: plain text, for a server on this machine (tests).
    None,
}

/// Where the reply mailbox is (`--imap-url`).
#[derive(Clone, PartialEq, Eq)]
pub struct ImapUrl {
    pub host: String,
    pub port: u16,
    pub tls: Tls,
    pub user: String,
    password: String,
    pub mailbox: String,
}

impl std::fmt::Debug for ImapUrl {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}", self.describe())
    }
}

impl ImapUrl {
    /// `imaps://user:password@host/INBOX`, `imap://…` (STARTTLS) or `imap://…?tls=none`.
    pub fn parse(url: &str) -> Result<Self, String> {
        let parsed =
            url::Url::parse(url.trim()).map_err(|err| format!("--imap-url is not a URL: {err}"))?;
        let tls_query = parsed
            .query_pairs()
            .find(|(key, _)| key == "tls")
            .map(|(_, value)| value.into_owned());
        let tls = match (parsed.scheme(), tls_query.as_deref()) {
            ("imaps", None) => Tls::Implicit,
            ("imap", None | Some("required")) => Tls::StartTls,
            ("imap", Some("none")) => Tls::None,
            ("imap" | "imaps", Some(other)) => {
                return Err(format!(
                    "--imap-url: tls={other} is not one of required, none"
                ));
            }
            _ => {
                return Err(
                    "--imap-url starts with imaps:// (TLS) or imap:// (STARTTLS)".to_owned(),
                );
            }
        };
        let host = parsed
            .host_str()
            .ok_or("--imap-url names no host")?
            .to_owned();
        let decode = |text: &str| {
            percent_encoding::percent_decode_str(text)
                .decode_utf8_lossy()
                .into_owned()
        };
        let user = decode(parsed.username());
        if user.is_empty() {
            return Err("--imap-url names no user (imaps://user:password@host/INBOX)".to_owned());
        }
        let mailbox = decode(parsed.path().trim_start_matches('/'));
        Ok(Self {
            port: parsed.port().unwrap_or(match tls {
                Tls::Implicit => 993,
                _ => 143,
            }),
            host,
            tls,
            user,
            password: decode(parsed.password().unwrap_or_default()),
            mailbox: if mailbox.is_empty() {
                "INBOX".to_owned()
            } else {
                mailbox
            },
        })
    }

    /// The server and mailbox, without credentials, for logs.
    pub fn describe(&self) -> String {
        let scheme = if self.tls == Tls::Implicit {
            "imaps"
        } else {
            "imap"
        };
        format!("{scheme}://{}:{}/{}", self.host, self.port, self.mailbox)
    }
}

/// A connection, plain or TLS.
trait Connection: AsyncRead + AsyncWrite + Unpin + Send + std::fmt::Debug {}
impl<T: AsyncRead + AsyncWrite + Unpin + Send + std::fmt::Debug> Connection for T {}
type Stream = Box<dyn Connection>;

fn io_error(err: impl std::fmt::Display) -> String {
    err.to_string()
}

async fn tls_wrap(
    host: &str,
    tcp: TcpStream,
) -> Result<tokio_rustls::client::TlsStream<TcpStream>, String> {
    let roots = tokio_rustls::rustls::RootCertStore {
        roots: webpki_roots::TLS_SERVER_ROOTS.to_vec(),
    };
    let config = tokio_rustls::rustls::ClientConfig::builder_with_provider(Arc::new(
        tokio_rustls::rustls::crypto::ring::default_provider(),
    ))
    .with_safe_default_protocol_versions()
    .map_err(io_error)?
    .with_root_certificates(roots)
    .with_no_client_auth();
    let name =
        tokio_rustls::rustls::pki_types::ServerName::try_from(host.to_owned()).map_err(io_error)?;
    tokio_rustls::TlsConnector::from(Arc::new(config))
        .connect(name, tcp)
        .await
        .map_err(io_error)
}

async fn connect(url: &ImapUrl) -> Result<Session<Stream>, String> {
    let tcp = TcpStream::connect((url.host.as_str(), url.port))
        .await
        .map_err(io_error)?;
    let stream: Stream = match url.tls {
        Tls::Implicit => Box::new(tls_wrap(&url.host, tcp).await?),
        Tls::None => Box::new(tcp),
        Tls::StartTls => {
            let mut client = async_imap::Client::new(tcp);
            client
                .read_response()
                .await
                .map_err(io_error)?
                .ok_or("the server closed the connection")?;
            client
                .run_command_and_check_ok("STARTTLS", None)
                .await
                .map_err(|err| format!("STARTTLS refused: {err}"))?;
            Box::new(tls_wrap(&url.host, client.into_inner()).await?)
        }
    };
    let mut client = async_imap::Client::new(stream);
    if url.tls != Tls::StartTls {
        client
            .read_response()
            .await
            .map_err(io_error)?
            .ok_or("the server closed the connection")?;
    }
    let mut session = client
        .login(&url.user, &url.password)
        .await
        .map_err(|(err, _)| format!("login refused: {err}"))?;
    session.select(&url.mailbox).await.map_err(io_error)?;
    Ok(session)
}

/// What the watcher needs from the collector.
#[derive(Clone)]
pub struct Watcher {
    pub store: Store,
    pub settings: InboundSettings,
    pub bell: MailBell,
    pub url: ImapUrl,
}

/// Takes every email not taken yet; returns how many.
async fn take_new(watcher: &Watcher, session: &mut Session<Stream>) -> Result<usize, String> {
    let uids = session
        .uid_search(format!("UNKEYWORD {TAKEN_KEYWORD} UNDELETED"))
        .await
        .map_err(io_error)?;
    let mut uids: Vec<u32> = uids.into_iter().collect();
    uids.sort_unstable();
    let mut taken = 0;
    for uid in uids {
        let size = {
            let fetches = session
                .uid_fetch(uid.to_string(), "RFC822.SIZE")
                .await
                .map_err(io_error)?;
            let fetches: Vec<_> = fetches.collect().await;
            fetches
                .into_iter()
                .filter_map(Result::ok)
                .find_map(|fetch| fetch.size)
                .unwrap_or(0) as usize
        };
        let raw: Vec<u8> = if size > MAX_INBOUND_BYTES {
            Vec::new()
        } else {
            let fetches = session
                .uid_fetch(uid.to_string(), "BODY.PEEK[]")
                .await
                .map_err(io_error)?;
            let fetches: Vec<_> = fetches.collect().await;
            fetches
                .into_iter()
                .filter_map(Result::ok)
                .find_map(|fetch| fetch.body().map(<[u8]>::to_vec))
                .unwrap_or_default()
        };
        let store = watcher.store.clone();
        let settings = watcher.settings.clone();
        let bell = watcher.bell.clone();
        let place = format!("{}:{uid}", watcher.url.describe());
        let outcome = tokio::task::spawn_blocking(move || {
            if size > MAX_INBOUND_BYTES {
                // Not read: recorded under its place in the mailbox, for the owner to see.
                return take_unreadable(
                    &store,
                    place.as_bytes(),
                    &Unreadable::TooLarge,
                    Source::Imap,
                )
                .map_err(|err| err.to_string());
            }
            match take(&store, &settings, &bell, &raw, Source::Imap) {
                Ok(outcome) => Ok(outcome),
                Err(TakeError::Unreadable(why)) => {
                    take_unreadable(&store, &raw, &why, Source::Imap).map_err(|err| err.to_string())
                }
                Err(TakeError::Store(err)) => Err(err.to_string()),
            }
        })
        .await
        .map_err(io_error)??;
        tracing::debug!(
            uid,
            outcome = outcome.outcome.as_str(),
            duplicate = outcome.duplicate,
            "IMAP email taken"
        );
        // Recorded: now it may be flagged. A crash before this line takes it again (a
        // duplicate the store recognises).
        let updates = session
            .uid_store(uid.to_string(), format!("+FLAGS ({TAKEN_KEYWORD} \\Seen)"))
            .await
            .map_err(io_error)?;
        let _: Vec<_> = updates.collect().await;
        taken += 1;
    }
    Ok(taken)
}

/// One connection: take what is there, then wait (IDLE or poll) and take again, until the
/// connection fails.
async fn watch_once(watcher: &Watcher) -> Result<(), String> {
    let mut session = tokio::time::timeout(COMMAND_TIMEOUT, connect(&watcher.url))
        .await
        .map_err(|_| "connecting timed out".to_owned())??;
    let idle = session
        .capabilities()
        .await
        .map_err(io_error)?
        .has_str("IDLE");
    tracing::info!(mailbox = %watcher.url.describe(), idle, "watching the reply mailbox");
    // The server tells of email that arrived while another command ran (taking, or starting
    // IDLE) beside that command's answer: such news means looking again at once, not
    // waiting for the next IDLE news, which would not come for it.
    let news = session.unsolicited_responses.clone();
    let arrived = || {
        let mut arrived = false;
        while let Ok(response) = news.try_recv() {
            arrived |= matches!(
                response,
                UnsolicitedResponse::Exists(_) | UnsolicitedResponse::Recent(_)
            );
        }
        arrived
    };
    loop {
        tokio::time::timeout(COMMAND_TIMEOUT * 10, take_new(watcher, &mut session))
            .await
            .map_err(|_| "taking new email timed out".to_owned())??;
        if arrived() {
            continue;
        }
        if idle {
            let mut handle = session.idle();
            handle.init().await.map_err(io_error)?;
            if !arrived() {
                let (wait, _interrupt) = handle.wait_with_timeout(IDLE_RENEW);
                wait.await.map_err(io_error)?;
            }
            session = handle.done().await.map_err(io_error)?;
        } else {
            tokio::time::sleep(IMAP_POLL).await;
            session.noop().await.map_err(io_error)?;
        }
    }
}

/// Watches the mailbox on a thread of its own for as long as the process runs, connecting
/// again after any failure.
pub fn start(watcher: Watcher) -> std::io::Result<std::thread::JoinHandle<()>> {
    std::thread::Builder::new()
        .name("earshot-imap".into())
        .spawn(move || {
            let runtime = match tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
            {
                Ok(runtime) => runtime,
                Err(err) => {
                    tracing::error!(error = %err, "the IMAP watcher could not start");
                    return;
                }
            };
            runtime.block_on(async {
                loop {
                    if let Err(err) = watch_once(&watcher).await {
                        tracing::warn!(mailbox = %watcher.url.describe(), error = %err, "the IMAP watcher lost its mailbox; connecting again");
                    }
                    tokio::time::sleep(RECONNECT_AFTER).await;
                }
            });
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn imap_urls_require_tls_unless_told_otherwise() {
        let url = ImapUrl::parse("imaps://ada%40x.example:p%40ss@mail.example/Replies").unwrap();
        assert_eq!(
            (
                url.tls,
                url.port,
                url.user.as_str(),
                url.password.as_str(),
                url.mailbox.as_str()
            ),
            (Tls::Implicit, 993, "ada@x.example", "p@ss", "Replies")
        );
        assert!(!format!("{url:?}").contains("p@ss"));
        let url = ImapUrl::parse("imap://ada:pw@mail.example").unwrap();
        assert_eq!(
            (url.tls, url.port, url.mailbox.as_str()),
            (Tls::StartTls, 143, "INBOX")
        );
        let url = ImapUrl::parse("imap://ada:pw@127.0.0.1:1143/INBOX?tls=none").unwrap();
        assert_eq!((url.tls, url.port), (Tls::None, 1143));
        assert!(ImapUrl::parse("imaps://ada:pw@mail.example?tls=none").is_err());
        assert!(ImapUrl::parse("http://mail.example").is_err());
        assert!(ImapUrl::parse("imap://mail.example").is_err(), "no user");
    }
}
