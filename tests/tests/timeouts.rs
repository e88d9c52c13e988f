//! Clients that send or read too slowly: a body that trickles in is cut off, and an export
//! nobody reads gives its slot back. Against the real binary, over raw TCP where a normal
//! client would not misbehave.

mod common;

use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::Duration;

use common::collector::{Collector, feedback_body, http};
use earshot_shared::limits::MAX_CONCURRENT_EXPORTS;
use earshot_shared::{ApiError, ErrorCode};

const ORIGIN: &str = "https://shop.example";
/// Submissions behind the export of the stalled-download test.
const ROWS: usize = 3_000;

/// Reads what the server sends until it closes the connection (or 60 s pass, which fails).
fn read_until_closed(stream: &mut TcpStream) -> String {
    stream
        .set_read_timeout(Some(Duration::from_secs(60)))
        .unwrap();
    let mut answer = Vec::new();
    match stream.read_to_end(&mut answer) {
        Ok(_) => {}
        Err(err) => panic!(
            "the connection was still open after 60 s ({err}); got: {}",
            String::from_utf8_lossy(&answer)
        ),
    }
    String::from_utf8_lossy(&answer).into_owned()
}

/// A connection whose receive buffer stays small (the kernel may otherwise let a socket
/// buffer tens of MB, and a client that does not read would never hold anything back).
fn stalled_client(port: u16) -> TcpStream {
    let socket = socket2::Socket::new(socket2::Domain::IPV4, socket2::Type::STREAM, None).unwrap();
    socket.set_recv_buffer_size(16 * 1024).unwrap();
    let address: std::net::SocketAddr = ([127, 0, 0, 1], port).into();
    socket.connect(&address.into()).unwrap();
    socket.into()
}

#[test]
fn a_body_that_trickles_in_is_cut_off_and_its_connection_closed() {
    let collector = Collector::start_with(&[ORIGIN], &["--request-timeout", "2"]);
    let mut stream = TcpStream::connect(("127.0.0.1", collector.port)).unwrap();
    write!(
        stream,
        "POST /v1/feedback HTTP/1.1\r\nHost: 127.0.0.1\r\nOrigin: {ORIGIN}\r\n\
         Content-Type: text/plain\r\nContent-Length: 1000\r\n\r\n{{"
    )
    .unwrap();
    // Nothing more is sent: the server must answer and hang up by itself.
    let answer = read_until_closed(&mut stream);
    assert!(answer.starts_with("HTTP/1.1 408"), "{answer}");
    let body = answer.split("\r\n\r\n").nth(1).unwrap();
    let error: ApiError = serde_json::from_str(body).unwrap();
    assert_eq!(error.code, ErrorCode::RequestTimeout);

    // Well-behaved clients are served as before.
    let body = feedback_body("fine", serde_json::json!({}));
    assert_eq!(collector.post_feedback(&http(), ORIGIN, &body), 201);
}

#[test]
fn an_export_nobody_reads_gives_its_slot_back() {
    let collector = Collector::start_with(
        &[ORIGIN],
        &[
            "--export-idle-timeout",
            "1",
            "--rate-limit-visitor",
            "0",
            "--rate-limit-site",
            "0",
        ],
    );
    // Enough feedback that an export fills every buffer between the collector and a client
    // that does not read (about 12 MB of CSV, against the server's send buffer of 4 MB).
    let comment = "a long comment that makes the export big ".repeat(100);
    let agent = http();
    for _ in 0..ROWS {
        let body = feedback_body(
            &comment,
            serde_json::json!({ "rating": { "kind": "stars", "value": 3 } }),
        );
        assert_eq!(collector.post_feedback(&agent, ORIGIN, &body), 201);
    }
    let token = collector.create_token(Some("demo"));

    // Every export slot is taken by a client that asks and then never reads.
    let stalled: Vec<TcpStream> = (0..MAX_CONCURRENT_EXPORTS)
        .map(|_| {
            let mut stream = stalled_client(collector.port);
            write!(
                stream,
                "GET /v1/sites/demo/feedback.csv HTTP/1.1\r\nHost: 127.0.0.1\r\n\
                 Authorization: Bearer {token}\r\n\r\n"
            )
            .unwrap();
            stream
        })
        .collect();
    // Each has its slot once its first rows arrive (the rows are written only after it).
    let mut started = Vec::new();
    for stream in &stalled {
        let mut stream = stream;
        stream
            .set_read_timeout(Some(Duration::from_secs(60)))
            .unwrap();
        let mut seen = Vec::new();
        let mut byte = [0u8; 1];
        while !String::from_utf8_lossy(&seen).contains("id,received_at") {
            assert_eq!(stream.read(&mut byte).unwrap(), 1, "the export began");
            seen.push(byte[0]);
        }
        started.push(seen);
    }

    // Another owner's export still completes: the stalled ones time out and free their slots.
    let agent = ureq::Agent::config_builder()
        .http_status_as_error(false)
        .timeout_global(Some(Duration::from_secs(120)))
        .build()
        .new_agent();
    let mut response = agent
        .get(&collector.url("/v1/sites/demo/feedback.csv"))
        .header("Authorization", &format!("Bearer {token}"))
        .call()
        .unwrap();
    assert_eq!(response.status(), 200);
    let csv = response
        .body_mut()
        .with_config()
        .limit(100 * 1024 * 1024)
        .read_to_vec()
        .unwrap();
    assert_eq!(common::parse_csv(&csv).1.len(), ROWS);

    // And a stalled download ends as a failure, not as a file that looks complete.
    for (mut stream, seen) in stalled.into_iter().zip(started) {
        let answer = String::from_utf8_lossy(&seen).into_owned() + &read_until_closed(&mut stream);
        assert!(answer.starts_with("HTTP/1.1 200"), "{}", &answer[..80]);
        assert!(
            answer.len() < csv.len(),
            "the stalled client got only part of it"
        );
        assert!(
            !answer.ends_with("0\r\n\r\n"),
            "the chunked body must not end cleanly"
        );
    }
}

/// Headers that never finish are answered `408` with the JSON body every error has, and the
/// connection is closed. (Before, actix-web's own 408 came with an empty body.)
#[test]
fn headers_that_never_finish_get_a_json_408() {
    let collector = Collector::start(&[ORIGIN]);
    let mut stream = TcpStream::connect(("127.0.0.1", collector.port)).unwrap();
    write!(
        stream,
        "GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: "
    )
    .unwrap();
    let answer = read_until_closed(&mut stream);
    assert!(answer.starts_with("HTTP/1.1 408"), "{answer}");
    let (head, body) = answer.split_once("\r\n\r\n").unwrap();
    assert!(
        head.to_ascii_lowercase()
            .contains("content-type: application/json"),
        "{head}"
    );
    let error: ApiError = serde_json::from_str(body).unwrap();
    assert_eq!(error.code, ErrorCode::RequestTimeout);

    // A connection that sent its headers in time is not cut off by that timer.
    let mut stream = TcpStream::connect(("127.0.0.1", collector.port)).unwrap();
    write!(
        stream,
        "GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n"
    )
    .unwrap();
    let answer = read_until_closed(&mut stream);
    assert!(answer.starts_with("HTTP/1.1 200"), "{answer}");
}
