//! A real SMTP server for the mail tests: Postfix's `smtp-sink` on a free port, writing each
//! message it accepts to a file of its own, which the tests parse with a MIME parser as a
//! mail client would. And a cable to cut: a relay in front of it that kills the server in the
//! middle of a message.

use std::io::{Read, Write};
use std::net::{Shutdown, TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use super::{browser_required, free_port};

fn sink_program() -> PathBuf {
    std::env::var_os("EARSHOT_SMTP_SINK")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from("/usr/sbin/smtp-sink"))
}

/// One message as the SMTP server received it.
#[derive(Debug, Clone)]
pub struct Mail {
    /// The envelope's recipient (`RCPT TO`).
    pub envelope_to: String,
    pub message_id: String,
    pub subject: String,
    /// `From`, as `Name <address>`.
    pub from: String,
    pub reply_to: Option<String>,
    pub to: String,
    pub text: String,
    pub html: String,
    /// Every header, names lowercased, values as raw text.
    pub headers: Vec<(String, String)>,
}

impl Mail {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(key, _)| key.eq_ignore_ascii_case(name))
            .map(|(_, value)| value.trim())
    }

    /// The first link in the text body that starts with `prefix`.
    pub fn link(&self, prefix: &str) -> Option<String> {
        self.text
            .split_whitespace()
            .find(|word| word.starts_with(prefix))
            .map(str::to_owned)
    }
}

fn mailbox(address: Option<&mail_parser::Address<'_>>) -> Option<String> {
    let first = address?.first()?;
    Some(match (&first.name, &first.address) {
        (Some(name), Some(address)) => format!("{name} <{address}>"),
        (None, Some(address)) => address.to_string(),
        _ => return None,
    })
}

fn parse(raw: &[u8]) -> Option<Mail> {
    let text = String::from_utf8_lossy(raw);
    let envelope_to = text
        .lines()
        .find_map(|line| line.strip_prefix("X-Rcpt-Args: "))?
        .trim()
        .trim_start_matches('<')
        .split('>')
        .next()?
        .to_owned();
    let message = mail_parser::MessageParser::default().parse(raw)?;
    let headers = message
        .headers_raw()
        .map(|(name, value)| (name.to_ascii_lowercase(), value.to_owned()))
        .collect();
    Some(Mail {
        envelope_to,
        message_id: message.message_id()?.to_owned(),
        subject: message.subject().unwrap_or_default().to_owned(),
        from: mailbox(message.from())?,
        reply_to: mailbox(message.reply_to()),
        to: mailbox(message.to())?,
        text: message.body_text(0)?.into_owned(),
        html: message.body_html(0)?.into_owned(),
        headers,
    })
}

pub struct SmtpSink {
    pub port: u16,
    dir: tempfile::TempDir,
    child: Option<Child>,
}

impl SmtpSink {
    /// Starts `smtp-sink` on a free port, or says why it cannot (a skip only when allowed).
    pub fn start() -> Option<Self> {
        if !sink_program().exists() {
            let message = format!(
                "{} is missing (Debian's postfix package): run `cargo xtask test`, or set EARSHOT_ALLOW_SKIPS=1 to skip",
                sink_program().display()
            );
            assert!(!browser_required(), "{message}");
            eprintln!("SKIPPED: {message}");
            return None;
        }
        let dir = tempfile::tempdir().unwrap();
        let mut sink = Self {
            port: free_port(),
            dir,
            child: None,
        };
        sink.spawn();
        Some(sink)
    }

    fn spawn(&mut self) {
        let mut command = Command::new(sink_program());
        // As root, smtp-sink must be told whose privileges to keep.
        if Command::new("id")
            .arg("-u")
            .output()
            .is_ok_and(|out| out.stdout.trim_ascii() == b"0")
        {
            command.args(["-u", "root"]);
        }
        let child = command
            .arg("-d")
            .arg(format!("{}/%M.", self.dir.path().display()))
            .arg(format!("127.0.0.1:{}", self.port))
            .arg("16")
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        self.child = Some(child);
        let deadline = Instant::now() + Duration::from_secs(10);
        while TcpStream::connect(("127.0.0.1", self.port)).is_err() {
            assert!(Instant::now() < deadline, "smtp-sink did not start");
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// Stops the server at once (SIGKILL).
    pub fn stop(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }

    /// Starts it again on the same port, keeping what it received.
    pub fn restart(&mut self) {
        self.stop();
        self.spawn();
    }

    /// What `--smtp-url` should say to reach it (it offers no TLS).
    pub fn url(&self) -> String {
        format!("smtp://127.0.0.1:{}?tls=none", self.port)
    }

    /// Every complete message received so far.
    pub fn messages(&self) -> Vec<Mail> {
        messages_in(self.dir.path())
    }

    /// How many messages the server took for `recipient`, whether or not they parse: what
    /// "once" is counted on.
    pub fn raw_count(&self, recipient: &str) -> usize {
        let wanted = format!("X-Rcpt-Args: <{recipient}>");
        std::fs::read_dir(self.dir.path())
            .unwrap()
            .filter_map(|entry| std::fs::read(entry.ok()?.path()).ok())
            .filter(|raw| {
                String::from_utf8_lossy(raw)
                    .lines()
                    .take_while(|line| !line.is_empty())
                    .any(|line| line.trim() == wanted)
            })
            .count()
    }

    /// Messages received in all, whether or not they parse.
    pub fn files(&self) -> usize {
        std::fs::read_dir(self.dir.path()).unwrap().count()
    }

    /// Waits until a message matching `wanted` arrived, and returns it.
    pub fn wait_for(&self, what: &str, wanted: impl Fn(&Mail) -> bool) -> Mail {
        super::eventually(what, Duration::from_secs(30), || {
            self.messages().into_iter().find(|mail| wanted(mail))
        })
    }
}

fn messages_in(dir: &Path) -> Vec<Mail> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(dir)
        .unwrap()
        .filter_map(|entry| Some(entry.ok()?.path()))
        .collect();
    files.sort();
    // A file being written may not parse yet; it is read again on the next look.
    files
        .iter()
        .filter_map(|file| parse(&std::fs::read(file).ok()?))
        .collect()
}

impl Drop for SmtpSink {
    fn drop(&mut self) {
        self.stop();
    }
}

/// Where a [`Cutter`] kills the server.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Cut {
    /// When the collector starts sending a message's content (`DATA`): the server never had
    /// the message.
    AtData,
    /// Once the server has taken the whole message, before its `250` reaches the collector:
    /// the server has it, the collector cannot know.
    BeforeAnswer,
}

/// A relay between the collector and the SMTP server that, once, kills the server mid-send
/// and drops the connection.
pub struct Cutter {
    pub port: u16,
    cut: Arc<AtomicBool>,
    armed: Arc<AtomicBool>,
    stopped: Arc<AtomicBool>,
}

impl Cutter {
    pub fn start(sink: Arc<Mutex<SmtpSink>>) -> Self {
        Self::start_at(sink, Cut::AtData)
    }

    pub fn start_at(sink: Arc<Mutex<SmtpSink>>, at: Cut) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        let cut = Arc::new(AtomicBool::new(false));
        let armed = Arc::new(AtomicBool::new(true));
        let stopped = Arc::new(AtomicBool::new(false));
        let (cut_flag, armed_flag, stop_flag) = (cut.clone(), armed.clone(), stopped.clone());
        std::thread::spawn(move || {
            for client in listener.incoming() {
                if stop_flag.load(Ordering::SeqCst) {
                    break;
                }
                let Ok(client) = client else { continue };
                let sink_port = sink.lock().unwrap().port;
                let Ok(server) = TcpStream::connect(("127.0.0.1", sink_port)) else {
                    // The server is down: the collector sees its connection closed.
                    let _ = client.shutdown(Shutdown::Both);
                    continue;
                };
                let (sink, cut, armed) = (sink.clone(), cut_flag.clone(), armed_flag.clone());
                std::thread::spawn(move || relay(client, server, sink, cut, armed, at));
            }
        });
        Self {
            port,
            cut,
            armed,
            stopped,
        }
    }

    pub fn url(&self) -> String {
        format!("smtp://127.0.0.1:{}?tls=none", self.port)
    }

    /// Whether the server has been killed mid-send.
    pub fn has_cut(&self) -> bool {
        self.cut.load(Ordering::SeqCst)
    }
}

impl Drop for Cutter {
    fn drop(&mut self) {
        self.stopped.store(true, Ordering::SeqCst);
        self.armed.store(false, Ordering::SeqCst);
        let _ = TcpStream::connect(("127.0.0.1", self.port));
    }
}

fn relay(
    mut client: TcpStream,
    mut server: TcpStream,
    sink: Arc<Mutex<SmtpSink>>,
    cut: Arc<AtomicBool>,
    armed: Arc<AtomicBool>,
    at: Cut,
) {
    // Server to client, as it comes, unless muted: the answer that must not arrive is
    // swallowed, and noted.
    let mute = Arc::new(AtomicBool::new(false));
    let answered = Arc::new(AtomicBool::new(false));
    {
        let (mut from, mut to) = (server.try_clone().unwrap(), client.try_clone().unwrap());
        let (mute, answered) = (mute.clone(), answered.clone());
        std::thread::spawn(move || {
            let mut buffer = [0u8; 4096];
            loop {
                match from.read(&mut buffer) {
                    Ok(0) | Err(_) => break,
                    Ok(read) if !mute.load(Ordering::SeqCst) => {
                        if to.write_all(&buffer[..read]).is_err() {
                            break;
                        }
                    }
                    Ok(_) => answered.store(true, Ordering::SeqCst),
                }
            }
            let _ = to.shutdown(Shutdown::Both);
        });
    }
    // Client to server, watching for DATA or the message's end.
    let mut seen = Vec::new();
    let mut buffer = [0u8; 4096];
    loop {
        let read = match client.read(&mut buffer) {
            Ok(0) | Err(_) => break,
            Ok(read) => read,
        };
        seen.extend_from_slice(&buffer[..read]);
        let contains = |needle: &[u8]| {
            seen.windows(needle.len())
                .any(|window| window.eq_ignore_ascii_case(needle))
        };
        match at {
            Cut::AtData if contains(b"DATA\r\n") && armed.swap(false, Ordering::SeqCst) => {
                sink.lock().unwrap().stop();
                cut.store(true, Ordering::SeqCst);
                let _ = client.shutdown(Shutdown::Both);
                let _ = server.shutdown(Shutdown::Both);
                return;
            }
            Cut::BeforeAnswer if contains(b"\r\n.\r\n") && armed.swap(false, Ordering::SeqCst) => {
                mute.store(true, Ordering::SeqCst);
                let _ = server.write_all(&buffer[..read]);
                // Once the server has answered (swallowed above), it has the message; it
                // dies before the answer reaches the collector.
                let deadline = Instant::now() + Duration::from_secs(10);
                while !answered.load(Ordering::SeqCst) && Instant::now() < deadline {
                    std::thread::sleep(Duration::from_millis(5));
                }
                sink.lock().unwrap().stop();
                cut.store(true, Ordering::SeqCst);
                let _ = client.shutdown(Shutdown::Both);
                let _ = server.shutdown(Shutdown::Both);
                return;
            }
            _ => {}
        }
        if server.write_all(&buffer[..read]).is_err() {
            break;
        }
    }
    let _ = server.shutdown(Shutdown::Both);
}
