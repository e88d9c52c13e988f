//! The answer to a connection whose first request's headers do not arrive in time:
//! `408 request-timeout` with the JSON body every other error has, then the connection is
//! closed. (actix-web's own answer to slow headers has an empty body, and no setting
//! changes it.)

use std::any::Any;
use std::cell::Cell;
use std::io::Write;
use std::os::fd::{AsRawFd, BorrowedFd, RawFd};
use std::rc::Rc;
use std::time::Duration;

use actix_web::body::MessageBody;
use actix_web::dev::{Extensions, ServiceRequest, ServiceResponse};
use actix_web::middleware::Next;

use crate::error::AppError;

/// How long a new connection may take to send its first request's headers.
pub const HEADERS_TIMEOUT: Duration = Duration::from_secs(5);
/// actix-web's own cut-off for slow headers, left as a backstop behind [`HEADERS_TIMEOUT`]
/// (it answers with an empty body).
pub const BACKSTOP_TIMEOUT: Duration = Duration::from_secs(7);

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Phase {
    Waiting,
    HeadersIn,
    Closed,
}

/// Kept in the connection's data, which actix drops together with the connection (and its
/// socket): marks the connection closed and cancels its timer.
struct Watch {
    phase: Rc<Cell<Phase>>,
    timer: actix_web::rt::task::JoinHandle<()>,
}

impl Drop for Watch {
    fn drop(&mut self) {
        self.phase.set(Phase::Closed);
        self.timer.abort();
    }
}

/// For `HttpServer::on_connect`: starts the connection's timer.
pub fn on_connect(connection: &dyn Any, data: &mut Extensions) {
    let Some(stream) = connection.downcast_ref::<actix_web::rt::net::TcpStream>() else {
        return;
    };
    let fd = stream.as_raw_fd();
    let phase = Rc::new(Cell::new(Phase::Waiting));
    let timer = actix_web::rt::spawn({
        let phase = phase.clone();
        async move {
            actix_web::rt::time::sleep(HEADERS_TIMEOUT).await;
            if phase.get() == Phase::Waiting {
                answer_too_slow(fd);
            }
        }
    });
    data.insert(Watch { phase, timer });
}

/// Middleware: a request's headers have arrived, so its connection's timer has nothing to do.
pub async fn headers_arrived(
    request: ServiceRequest,
    next: Next<impl MessageBody>,
) -> Result<ServiceResponse<impl MessageBody>, actix_web::Error> {
    if let Some(watch) = request.request().conn_data::<Watch>() {
        watch.phase.set(Phase::HeadersIn);
    }
    next.call(request).await
}

/// Writes the JSON `408` to the connection and shuts it down; actix then sees it closed and
/// drops it.
fn answer_too_slow(fd: RawFd) {
    // SAFETY: the timer runs on the worker thread that owns the connection, and only while
    // the phase is `Waiting`: the connection's data, whose drop marks it `Closed` (and
    // cancels the timer), is dropped with the connection and its socket, and nothing on this
    // thread runs in between. So `fd` is still this connection's open socket here.
    let socket = unsafe { BorrowedFd::borrow_raw(fd) };
    let Ok(socket) = socket.try_clone_to_owned() else {
        return;
    };
    let mut stream = std::net::TcpStream::from(socket);
    let body = serde_json::to_string(&AppError::RequestTimeout.to_api_error())
        .expect("an error serialises");
    let response = format!(
        "HTTP/1.1 408 Request Timeout\r\ncontent-type: application/json\r\n\
         content-length: {}\r\nconnection: close\r\n\r\n{body}",
        body.len()
    );
    // The socket's send buffer is empty (nothing was answered yet), so this small write
    // does not block.
    let _ = stream.write_all(response.as_bytes());
    let _ = stream.shutdown(std::net::Shutdown::Both);
}
