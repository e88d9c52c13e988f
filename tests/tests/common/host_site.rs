//! The demo shop (`www/demo/`) served on its own origin, as a site owner's web server would:
//! the collector is elsewhere, so everything the widget does crosses origins, as in real life.
//! It can also play a hostile or locked-down host: a strict Content-Security-Policy (with
//! violation reports collected), or a global stylesheet that attacks every element.

use std::sync::{Arc, Mutex};
use std::thread;

use actix_web::{App, HttpResponse, HttpServer, web};

use super::root;

/// How the host page treats the widget.
#[derive(Debug, Clone, Default)]
pub struct HostOptions {
    /// A `Content-Security-Policy` header for the page; violations are reported to the host.
    pub csp: Option<String>,
    /// Add a stylesheet that tries to break everything on the page.
    pub hostile_css: bool,
    /// More attributes for the snippet's `<script>` tag, e.g. `data-position="top-left"`.
    pub snippet_attributes: String,
    /// The demo page served at `/`: `index.html` (the shop) unless this names another, such
    /// as `brewing.html` (a guide with the inline block).
    pub page: Option<&'static str>,
    /// HTML added at the end of the page's `<head>`, e.g. a script the measurement needs.
    pub head_html: String,
    /// The site key in the snippet, when not `demo`.
    pub site: Option<String>,
}

/// The hostile stylesheet: rules a careless or hostile host page could have.
pub const HOSTILE_CSS: &str = "* { all: unset; }
button { display: none !important; }
html { font-size: 40px; }
div { position: absolute; }
earshot-widget { display: none; }
";

pub struct HostSite {
    pub port: u16,
    /// The CSP violation reports the browser sent, as JSON text.
    pub csp_reports: Arc<Mutex<Vec<String>>>,
    handle: actix_web::dev::ServerHandle,
}

/// A collector whose site `demo` accepts the host site's origin, and that host site.
pub fn shop_with_collector(options: HostOptions) -> (super::collector::Collector, HostSite) {
    let port = super::free_port();
    let collector = super::collector::Collector::start(&[&format!("http://localhost:{port}")]);
    let shop = HostSite::start_with(port, &collector.origin(), options);
    (collector, shop)
}

impl HostSite {
    /// Serves the demo shop at `http://localhost:{port}/`, its snippet pointing at `collector`.
    pub fn start_on(port: u16, collector_origin: &str) -> Self {
        Self::start_with(port, collector_origin, HostOptions::default())
    }

    pub fn start_with(port: u16, collector_origin: &str, options: HostOptions) -> Self {
        let file = options.page.unwrap_or("index.html");
        let mut page = std::fs::read_to_string(root().join("www/demo").join(file))
            .unwrap()
            .replace(
                r#"src="/earshot.js""#,
                &format!(r#"src="{collector_origin}/earshot.js""#),
            );
        assert!(
            page.contains(collector_origin),
            "the demo page has no snippet to point"
        );
        if !options.snippet_attributes.is_empty() {
            page = page.replace(
                r#"data-site="demo""#,
                &format!(r#"data-site="demo" {}"#, options.snippet_attributes),
            );
        }
        if let Some(site) = &options.site {
            page = page.replace(r#"data-site="demo""#, &format!(r#"data-site="{site}""#));
        }
        if !options.head_html.is_empty() {
            page = page.replace("</head>", &format!("{}\n</head>", options.head_html));
        }
        if options.hostile_css {
            page = page.replace(
                "</head>",
                "  <link rel=\"stylesheet\" href=\"hostile.css\">\n</head>",
            );
        }
        let csp = options
            .csp
            .map(|policy| format!("{policy}; report-uri /csp-report"));
        let csp_reports = Arc::new(Mutex::new(Vec::new()));
        let reports = csp_reports.clone();
        let (sender, receiver) = std::sync::mpsc::channel();
        thread::spawn(move || {
            actix_web::rt::System::new().block_on(async move {
                let server = HttpServer::new(move || {
                    let (page, csp, reports) = (page.clone(), csp.clone(), reports.clone());
                    App::new()
                        .route(
                            "/",
                            web::get().to(move || {
                                let (page, csp) = (page.clone(), csp.clone());
                                async move {
                                    let mut response = HttpResponse::Ok();
                                    response.content_type("text/html; charset=utf-8");
                                    if let Some(csp) = csp {
                                        response.insert_header(("Content-Security-Policy", csp));
                                    }
                                    response.body(page)
                                }
                            }),
                        )
                        .route(
                            "/hostile.css",
                            web::get().to(|| async {
                                HttpResponse::Ok()
                                    .content_type("text/css")
                                    .body(HOSTILE_CSS)
                            }),
                        )
                        .route(
                            "/csp-report",
                            web::post().to(move |body: web::Bytes| {
                                reports
                                    .lock()
                                    .unwrap()
                                    .push(String::from_utf8_lossy(&body).into_owned());
                                async { HttpResponse::NoContent().finish() }
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
        Self {
            port,
            csp_reports,
            handle,
        }
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
