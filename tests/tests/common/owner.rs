//! An owner signed in to the dashboard over plain HTTP (for tests that need no browser):
//! the session cookie, the CSRF token of the forms, and the pages as HTML.

use super::collector::Collector;

pub struct OwnerSession {
    agent: ureq::Agent,
    base: String,
    cookie: String,
}

/// The value of `name="csrf"` in a page's first form.
pub fn csrf_in(page: &str) -> String {
    let start = page
        .find(r#"name="csrf" value=""#)
        .expect("a form with a CSRF token")
        + r#"name="csrf" value=""#.len();
    page[start..].split('"').next().unwrap().to_owned()
}

impl OwnerSession {
    pub fn sign_in(collector: &Collector, email: &str, password: &str) -> Self {
        let agent: ureq::Agent = ureq::Agent::config_builder()
            .http_status_as_error(false)
            .max_redirects(0)
            .build()
            .into();
        let base = collector.origin();
        let response = agent
            .post(&format!("{base}/admin/login"))
            .header("Origin", &base)
            .send_form([
                ("email", email),
                ("password", password),
                ("next", "/admin/inbox"),
            ])
            .unwrap();
        assert_eq!(response.status().as_u16(), 303, "signed in");
        let cookie = response
            .headers()
            .get_all("set-cookie")
            .iter()
            .filter_map(|value| value.to_str().ok())
            .find(|value| value.starts_with("earshot_session="))
            .expect("a session cookie")
            .split(';')
            .next()
            .unwrap()
            .to_owned();
        Self {
            agent,
            base,
            cookie,
        }
    }

    /// `GET path` as the signed-in owner.
    fn fetch(&self, path: &str) -> ureq::http::Response<ureq::Body> {
        self.agent
            .get(&format!("{}{path}", self.base))
            .header("Cookie", &self.cookie)
            .call()
            .unwrap()
    }

    /// A dashboard page: status and HTML.
    pub fn get(&self, path: &str) -> (u16, String) {
        let mut response = self.fetch(path);
        let status = response.status().as_u16();
        (status, response.body_mut().read_to_string().unwrap())
    }

    /// A file the dashboard serves (a screenshot): status, `Content-Type` and bytes.
    pub fn get_bytes(&self, path: &str) -> (u16, String, Vec<u8>) {
        let mut response = self.fetch(path);
        let status = response.status().as_u16();
        let content_type = response
            .headers()
            .get("content-type")
            .and_then(|value| value.to_str().ok())
            .unwrap_or_default()
            .to_owned();
        (
            status,
            content_type,
            response.body_mut().read_to_vec().unwrap(),
        )
    }

    /// Sends a form of the page at `page` (its CSRF token added) to `action`: the status and
    /// the `Location` answered.
    pub fn post(&self, page: &str, action: &str, fields: &[(&str, &str)]) -> (u16, String) {
        let (_, html) = self.get(page);
        let csrf = csrf_in(&html);
        let mut form: Vec<(&str, &str)> = vec![("csrf", &csrf)];
        form.extend_from_slice(fields);
        let mut response = self
            .agent
            .post(&format!("{}{action}", self.base))
            .header("Cookie", &self.cookie)
            .header("Origin", &self.base)
            .send_form(form)
            .unwrap();
        let status = response.status().as_u16();
        let location = response
            .headers()
            .get("location")
            .and_then(|value| value.to_str().ok())
            .map(str::to_owned);
        let body = response.body_mut().read_to_string().unwrap_or_default();
        (status, location.unwrap_or(body))
    }

    /// Replies to a submission from its page, as the reply box does.
    pub fn reply(&self, feedback_id: &str, body: &str) -> (u16, String) {
        let page = format!("/admin/feedback/{feedback_id}");
        self.post(&page, &format!("{page}/reply"), &[("body", body)])
    }
}
