//! A short-lived in-memory cache of the site registry, so the ingest path does not read the
//! database for every submission. A change made with `earshot site …` (another process)
//! reaches a running collector within [`SITE_CACHE_TTL`].

use std::collections::HashMap;
use std::sync::{Arc, RwLock};
use std::time::{Duration, Instant};

use earshot_store::{Site, Store, StoreError};

/// How long a looked-up site (or the fact that a key is unknown) is trusted.
pub const SITE_CACHE_TTL: Duration = Duration::from_secs(5);
/// At most this many keys are remembered; unknown keys sent by a bot cannot grow it further.
const MAX_ENTRIES: usize = 10_000;

/// When a key was looked up, and the site it named (`None`: no such site).
type Entry = (Instant, Option<Arc<Site>>);

#[derive(Clone, Default)]
pub struct SiteCache {
    entries: Arc<RwLock<HashMap<String, Entry>>>,
}

impl SiteCache {
    /// The site with this key, from memory when fresh, else from the database.
    pub async fn get(&self, store: &Store, key: &str) -> Result<Option<Arc<Site>>, StoreError> {
        if let Some((fetched, site)) = self.entries.read().expect("site cache poisoned").get(key)
            && fetched.elapsed() < SITE_CACHE_TTL
        {
            return Ok(site.clone());
        }
        let owned = key.to_owned();
        let site = store
            .read_async(move |conn| conn.site(&owned))
            .await?
            .map(Arc::new);
        let mut entries = self.entries.write().expect("site cache poisoned");
        if entries.len() >= MAX_ENTRIES {
            entries.retain(|_, (fetched, _)| fetched.elapsed() < SITE_CACHE_TTL);
            if entries.len() >= MAX_ENTRIES {
                entries.clear();
            }
        }
        entries.insert(key.to_owned(), (Instant::now(), site.clone()));
        Ok(site)
    }
}

/// A random site key: 12 characters from an alphabet without look-alikes (no 0/o, 1/l).
pub fn random_site_key() -> String {
    const ALPHABET: &[u8] = b"abcdefghijkmnpqrstuvwxyz23456789";
    let mut bytes = [0u8; 12];
    getrandom::fill(&mut bytes).expect("the operating system's random number generator failed");
    bytes
        .iter()
        .map(|b| ALPHABET[usize::from(*b) % ALPHABET.len()] as char)
        .collect()
}
