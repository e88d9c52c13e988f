//! The offline queue: a submission that could not reach the collector (no network, a 5xx)
//! waits in `localStorage` and is sent again with backoff, when the browser comes back
//! online, and on the next page load. It keeps its id, so however many times it is sent, the
//! collector stores it once.

use std::time::Duration;

use earshot_shared::json::decimal;
use web_sys::Storage;

use crate::api;
use crate::config::WidgetConfig;

/// Every queued submission is one `localStorage` entry: this prefix, the site key, when it
/// was queued (ms since the epoch) and the submission id. The screenshot editor
/// (`www/earshot-shot.js`) reads these keys to tell a submission still on its way from one
/// that will never arrive.
const PREFIX: &str = "earshot-queue:";
/// A submission still unsent after this long is dropped: the visitor's browser is not a
/// place to keep their words forever.
const MAX_AGE_MS: f64 = 7.0 * 24.0 * 3600.0 * 1000.0;
/// The first wait before a retry; it doubles up to [`MAX_BACKOFF`].
const FIRST_BACKOFF: Duration = Duration::from_secs(5);
const MAX_BACKOFF: Duration = Duration::from_secs(300);

fn storage() -> Option<Storage> {
    // Private browsing or a blocked storage: then there is simply no queue.
    gloo::utils::window().local_storage().ok().flatten()
}

fn site_prefix(config: &WidgetConfig) -> String {
    [PREFIX, config.site.as_str(), ":"].concat()
}

/// Keeps a submission's JSON to send later.
pub fn push(config: &WidgetConfig, id: &str, body: &str) -> bool {
    let queued_at = decimal(js_sys::Date::now() as u64);
    let key = [&site_prefix(config), queued_at.as_str(), ":", id].concat();
    storage().is_some_and(|storage| storage.set_item(&key, body).is_ok())
}

/// When the entry under `key` was queued, in ms since the epoch. (Parsed as an integer:
/// float parsing would add about 15 KB to the wasm.)
fn queued_at(config: &WidgetConfig, key: &str) -> Option<f64> {
    let millis: u64 = key
        .strip_prefix(&site_prefix(config))?
        .split(':')
        .next()?
        .parse()
        .ok()?;
    Some(millis as f64)
}

/// The queued submissions of this site, as (storage key, JSON).
fn queued(storage: &Storage, config: &WidgetConfig) -> Vec<(String, String)> {
    let prefix = site_prefix(config);
    let count = storage.length().unwrap_or(0);
    (0..count)
        .filter_map(|index| storage.key(index).ok().flatten())
        .filter(|key| key.starts_with(&prefix))
        .filter_map(|key| {
            storage
                .get_item(&key)
                .ok()
                .flatten()
                .map(|body| (key, body))
        })
        .collect()
}

/// Tries to send everything queued; returns how many are still waiting.
pub async fn flush(config: &WidgetConfig) -> usize {
    let Some(storage) = storage() else { return 0 };
    let mut waiting = 0;
    let now = js_sys::Date::now();
    for (key, body) in queued(&storage, config) {
        if queued_at(config, &key).is_none_or(|at| now - at > MAX_AGE_MS) {
            let _ = storage.remove_item(&key);
            continue;
        }
        match api::send(config, &body).await {
            Err(err) if err.is_transient() => waiting += 1,
            // Stored, or refused for good (it would never be accepted): either way, done.
            _ => {
                let _ = storage.remove_item(&key);
            }
        }
    }
    waiting
}

/// Sends what an earlier page left queued, and keeps trying: with backoff while anything is
/// waiting, and at once whenever the browser comes back online.
pub fn start(config: WidgetConfig) {
    let online = config.clone();
    gloo::events::EventListener::new(&gloo::utils::window(), "online", move |_| {
        let config = online.clone();
        yew::platform::spawn_local(async move {
            flush(&config).await;
        });
    })
    .forget();
    retry_with_backoff(config);
}

/// Flushes now, then again after a growing wait while anything is left.
pub fn retry_with_backoff(config: WidgetConfig) {
    yew::platform::spawn_local(async move {
        let mut wait = FIRST_BACKOFF;
        while flush(&config).await > 0 {
            yew::platform::time::sleep(wait).await;
            wait = next_wait(wait);
        }
    });
}

/// The wait before the retry after one that waited `wait`: twice as long, at most
/// [`MAX_BACKOFF`].
fn next_wait(wait: Duration) -> Duration {
    (wait * 2).min(MAX_BACKOFF)
}

#[cfg(test)]
mod tests {
    use super::*;
    use wasm_bindgen_test::*;

    wasm_bindgen_test_configure!(run_in_browser);

    /// The README's promise: retries after 5 s, doubling, never more than 5 minutes apart.
    #[wasm_bindgen_test]
    fn retries_wait_5_s_then_twice_as_long_up_to_5_min() {
        let waits: Vec<u64> =
            std::iter::successors(Some(FIRST_BACKOFF), |wait| Some(next_wait(*wait)))
                .take(9)
                .map(|wait| wait.as_secs())
                .collect();
        assert_eq!(waits, [5, 10, 20, 40, 80, 160, 300, 300, 300]);
    }

    /// Queued entries are read back by site, time and id; a week-old one is past keeping.
    #[wasm_bindgen_test]
    fn a_queued_entry_is_dated_by_its_key() {
        let config = WidgetConfig::from_lookup(
            |name| (name == "site").then(|| "demo".to_owned()),
            "https://collector.example".into(),
            &crate::i18n::EN,
        )
        .unwrap();
        let key = [site_prefix(&config).as_str(), "1700000000000:some-id"].concat();
        assert_eq!(queued_at(&config, &key), Some(1_700_000_000_000.0));
        assert_eq!(queued_at(&config, "earshot-queue:other:1:some-id"), None);
        assert_eq!(MAX_AGE_MS, 604_800_000.0, "7 days");
    }
}
