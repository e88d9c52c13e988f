//! A webhook receiver on a free port: records every request it gets.

use std::time::Duration;

/// One request a webhook receiver got: its headers and body.
pub type Call = (Vec<(String, String)>, String);

/// A webhook receiver: records every request, answers with the statuses given, in order
/// (then 200).
pub struct Receiver {
    port: u16,
    pub requests: std::sync::Arc<std::sync::Mutex<Vec<Call>>>,
    handle: actix_web::dev::ServerHandle,
}

impl Receiver {
    pub fn start(statuses: Vec<u16>) -> Self {
        use actix_web::{App, HttpRequest, HttpResponse, HttpServer, web};
        let port = super::free_port();
        let requests = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
        let statuses = std::sync::Arc::new(std::sync::Mutex::new(statuses));
        let (sender, receiver) = std::sync::mpsc::channel();
        let recorded = requests.clone();
        std::thread::spawn(move || {
            actix_web::rt::System::new().block_on(async move {
                let server = HttpServer::new(move || {
                    let (recorded, statuses) = (recorded.clone(), statuses.clone());
                    App::new().route(
                        "/hook",
                        web::post().to(move |request: HttpRequest, body: String| {
                            let headers = request
                                .headers()
                                .iter()
                                .map(|(k, v)| (k.to_string(), v.to_str().unwrap_or("").to_owned()))
                                .collect();
                            recorded.lock().unwrap().push((headers, body));
                            let mut statuses = statuses.lock().unwrap();
                            let status = if statuses.is_empty() {
                                200
                            } else {
                                statuses.remove(0)
                            };
                            async move {
                                HttpResponse::build(
                                    actix_web::http::StatusCode::from_u16(status).unwrap(),
                                )
                                .finish()
                            }
                        }),
                    )
                })
                .workers(1)
                .bind(("127.0.0.1", port))
                .unwrap()
                .run();
                sender.send(server.handle()).unwrap();
                server.await.unwrap();
            });
        });
        let handle = receiver.recv().unwrap();
        Self {
            port,
            requests,
            handle,
        }
    }

    pub fn url(&self) -> String {
        format!("http://127.0.0.1:{}/hook", self.port)
    }

    pub fn wait_for(&self, count: usize) -> Vec<Call> {
        let deadline = std::time::Instant::now() + Duration::from_secs(30);
        loop {
            let requests = self.requests.lock().unwrap().clone();
            if requests.len() >= count {
                return requests;
            }
            assert!(
                std::time::Instant::now() < deadline,
                "only {} webhook calls",
                requests.len()
            );
            std::thread::sleep(Duration::from_millis(100));
        }
    }
}

impl Drop for Receiver {
    fn drop(&mut self) {
        drop(self.handle.stop(false));
    }
}

pub fn header<'a>(headers: &'a [(String, String)], name: &str) -> &'a str {
    headers
        .iter()
        .find(|(key, _)| key.eq_ignore_ascii_case(name))
        .map_or("", |(_, value)| value.as_str())
}
