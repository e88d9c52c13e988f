//! A real IMAP server for the inbound mail tests: a private Dovecot (Debian's `dovecot-imapd`
//! and `dovecot-lmtpd`) from a throwaway configuration in a temporary folder, on free ports,
//! with one mailbox (`ada`); test messages are delivered into it over LMTP as an MTA would.
//! Stopped when dropped.

use std::io::{BufRead, BufReader, Write};
use std::net::TcpStream;
use std::path::PathBuf;
use std::process::Command;
use std::time::Duration;

use super::{browser_required, eventually, free_port};

pub const USER: &str = "ada";
pub const PASSWORD: &str = "secret";

fn program() -> PathBuf {
    std::env::var_os("EARSHOT_DOVECOT")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from("/usr/sbin/dovecot"))
}

pub struct Dovecot {
    pub imap_port: u16,
    pub lmtp_port: u16,
    dir: tempfile::TempDir,
}

impl Dovecot {
    /// Starts Dovecot, or says why it cannot (a skip only when allowed).
    pub fn start() -> Option<Self> {
        if !program().exists() {
            let message = format!(
                "{} is missing (Debian's dovecot-imapd and dovecot-lmtpd): run `cargo xtask test`, or set EARSHOT_ALLOW_SKIPS=1 to skip",
                program().display()
            );
            assert!(!browser_required(), "{message}");
            eprintln!("SKIPPED: {message}");
            return None;
        }
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path();
        let (imap_port, lmtp_port) = (free_port(), free_port());
        std::fs::create_dir_all(path.join("mail")).unwrap();
        std::fs::write(
            path.join("passwd"),
            format!("{USER}:{{PLAIN}}{PASSWORD}::::::\n"),
        )
        .unwrap();
        let config = format!(
            r#"protocols = imap lmtp
base_dir = {dir}/run
state_dir = {dir}/state
log_path = {dir}/dovecot.log
listen = 127.0.0.1
ssl = no
disable_plaintext_auth = no
auth_mechanisms = plain login
mail_location = maildir:{dir}/mail/%u
default_internal_user = dovecot
default_internal_group = dovecot
default_login_user = dovenull
mail_uid = nobody
mail_gid = nogroup
first_valid_uid = 1
passdb {{
  driver = passwd-file
  args = scheme=PLAIN username_format=%n {dir}/passwd
}}
userdb {{
  driver = static
  args = uid=nobody gid=nogroup home={dir}/mail/%u
}}
service imap-login {{
  inet_listener imap {{
    address = 127.0.0.1
    port = {imap_port}
  }}
  inet_listener imaps {{
    port = 0
  }}
}}
service lmtp {{
  inet_listener lmtp {{
    address = 127.0.0.1
    port = {lmtp_port}
  }}
}}
protocol lmtp {{
  postmaster_address = postmaster@localhost
}}
"#,
            dir = path.display()
        );
        std::fs::write(path.join("dovecot.conf"), config).unwrap();
        // Dovecot's processes run as other users: they must reach the folder and the mail.
        let status = Command::new("chmod")
            .arg("0755")
            .arg(path)
            .status()
            .unwrap();
        assert!(status.success());
        let status = Command::new("chown")
            .args(["-R", "nobody:nogroup"])
            .arg(path.join("mail"))
            .status()
            .unwrap();
        assert!(status.success());
        let status = Command::new(program())
            .arg("-c")
            .arg(path.join("dovecot.conf"))
            .status()
            .unwrap();
        assert!(status.success(), "dovecot did not start");
        let dovecot = Self {
            imap_port,
            lmtp_port,
            dir,
        };
        eventually("Dovecot listening", Duration::from_secs(20), || {
            (TcpStream::connect(("127.0.0.1", imap_port)).is_ok()
                && TcpStream::connect(("127.0.0.1", lmtp_port)).is_ok())
            .then_some(())
        });
        Some(dovecot)
    }

    /// What `--imap-url` should say to reach the mailbox (no TLS on this test server).
    pub fn imap_url(&self) -> String {
        format!(
            "imap://{USER}:{PASSWORD}@127.0.0.1:{}/INBOX?tls=none",
            self.imap_port
        )
    }

    /// Delivers one message into the mailbox over LMTP, as the mail server would.
    pub fn deliver(&self, raw: &str) {
        let stream = TcpStream::connect(("127.0.0.1", self.lmtp_port)).unwrap();
        stream
            .set_read_timeout(Some(Duration::from_secs(30)))
            .unwrap();
        let mut reader = BufReader::new(stream.try_clone().unwrap());
        let mut writer = stream;
        let mut expect = |code: &str| loop {
            let mut line = String::new();
            reader.read_line(&mut line).unwrap();
            assert!(
                line.starts_with(code),
                "LMTP said {line:?}, expected {code}"
            );
            if line.as_bytes().get(3) != Some(&b'-') {
                break;
            }
        };
        expect("220");
        for (command, code) in [
            ("LHLO earshot.test".to_owned(), "250"),
            ("MAIL FROM:<sender@example.net>".to_owned(), "250"),
            (format!("RCPT TO:<{USER}>"), "250"),
            ("DATA".to_owned(), "354"),
        ] {
            write!(writer, "{command}\r\n").unwrap();
            expect(code);
        }
        let mut data = String::new();
        for line in raw.replace("\r\n", "\n").lines() {
            // Dot-stuffing.
            if line.starts_with('.') {
                data.push('.');
            }
            data.push_str(line);
            data.push_str("\r\n");
        }
        data.push_str(".\r\n");
        writer.write_all(data.as_bytes()).unwrap();
        expect("250");
        write!(writer, "QUIT\r\n").unwrap();
    }

    /// How many messages in the mailbox, and how many of them are flagged as seen.
    pub fn counts(&self) -> (usize, usize) {
        let mailbox = self.dir.path().join("mail").join(USER);
        let names = |folder: &str| -> Vec<String> {
            std::fs::read_dir(mailbox.join(folder))
                .map(|entries| {
                    entries
                        .filter_map(|entry| {
                            Some(entry.ok()?.file_name().to_string_lossy().into_owned())
                        })
                        .collect()
                })
                .unwrap_or_default()
        };
        let new = names("new");
        let cur = names("cur");
        let seen = cur
            .iter()
            .filter(|name| {
                name.rsplit_once(":2,")
                    .is_some_and(|(_, flags)| flags.contains('S'))
            })
            .count();
        (new.len() + cur.len(), seen)
    }
}

impl Drop for Dovecot {
    fn drop(&mut self) {
        if let Ok(pid) = std::fs::read_to_string(self.dir.path().join("run/master.pid")) {
            let _ = Command::new("kill").arg(pid.trim()).status();
        }
    }
}
