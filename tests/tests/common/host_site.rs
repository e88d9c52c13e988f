//! The demo shop (`www/demo/`) served on its own origin, as a site owner's web server would:
//! the collector is elsewhere, so everything the widget does crosses origins, as in real life.

use std::thread;

use actix_web::{App, HttpResponse, HttpServer, web};

use super::root;

pub struct HostSite {
    pub port: u16,
    handle: actix_web::dev::ServerHandle,
}

impl HostSite {
    /// Serves the demo shop at `http://localhost:{port}/`, its snippet pointing at `collector`.
    pub fn start_on(port: u16, collector_origin: &str) -> Self {
        let page = std::fs::read_to_string(root().join("www/demo/index.html"))
            .unwrap()
            .replace(
                r#"src="/earshot.js""#,
                &format!(r#"src="{collector_origin}/earshot.js""#),
            );
        assert!(
            page.contains(collector_origin),
            "the demo page has no snippet to point"
        );
        let (sender, receiver) = std::sync::mpsc::channel();
        thread::spawn(move || {
            actix_web::rt::System::new().block_on(async move {
                let server = HttpServer::new(move || {
                    let page = page.clone();
                    App::new()
                        .route(
                            "/",
                            web::get().to(move || {
                                let page = page.clone();
                                async move {
                                    HttpResponse::Ok()
                                        .content_type("text/html; charset=utf-8")
                                        .body(page)
                                }
                            }),
                        )
                        .service(actix_files::Files::new("/", root().join("www/demo")))
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
        Self { port, handle }
    }

    /// The origin the site's pages are on; `localhost`, while the collector is on 127.0.0.1.
    pub fn origin(&self) -> String {
        format!("http://localhost:{}", self.port)
    }

    pub fn url(&self) -> String {
        format!("{}/", self.origin())
    }
}

impl Drop for HostSite {
    fn drop(&mut self) {
        drop(self.handle.stop(false));
    }
}
