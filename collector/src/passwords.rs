//! Checking owners' passwords within a fixed memory bound.
//!
//! An argon2id check with OWASP's parameters fills 19 MiB of memory. Run on the blocking
//! pool as it comes, 32 strangers posting wrong passwords at once made 32 such buffers;
//! the allocator kept them (freed blocks of that size stay in its arenas), and every round
//! of attempts on fresh threads added ~620 MB that was never given back. Here at most
//! [`MAX_CONCURRENT_PASSWORD_CHECKS`] checks run at once, each in one of as many buffers
//! that are allocated once and reused; at most [`MAX_WAITING_PASSWORD_CHECKS`] more wait
//! their turn, and beyond that a sign-in is answered "busy" at once. So a flood of sign-ins
//! costs a bounded amount of memory, whatever its size.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use argon2::password_hash::PasswordHash;
use argon2::{Algorithm, Argon2, Block, Params, Version};
use tokio::sync::Semaphore;

/// Password checks that run at the same time (one per core of a small server).
pub const MAX_CONCURRENT_PASSWORD_CHECKS: usize = 2;
/// Sign-ins that may wait for a check; more are refused at once as busy.
pub const MAX_WAITING_PASSWORD_CHECKS: usize = 64;

/// Why a password could not be checked now.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum CheckError {
    #[error("too many sign-ins are waiting; try again in a moment")]
    Busy,
}

/// The bounded password checker the dashboard's sign-in shares. Cloning shares it.
#[derive(Clone)]
pub struct PasswordChecks {
    running: Arc<Semaphore>,
    waiting: Arc<AtomicUsize>,
    /// argon2's working memory, one buffer per running check, reused.
    buffers: Arc<Mutex<Vec<Vec<Block>>>>,
}

impl Default for PasswordChecks {
    fn default() -> Self {
        Self {
            running: Arc::new(Semaphore::new(MAX_CONCURRENT_PASSWORD_CHECKS)),
            waiting: Arc::new(AtomicUsize::new(0)),
            buffers: Arc::new(Mutex::new(Vec::with_capacity(
                MAX_CONCURRENT_PASSWORD_CHECKS,
            ))),
        }
    }
}

/// Counts a sign-in as waiting for as long as it lives (also when its client goes away).
struct Waiting(Arc<AtomicUsize>);

impl Drop for Waiting {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::AcqRel);
    }
}

impl PasswordChecks {
    /// Whether `password` matches the PHC-format argon2 `hash`, checked on the blocking pool
    /// once a turn is free.
    pub async fn verify(&self, hash: String, password: String) -> Result<bool, CheckError> {
        if self.waiting.fetch_add(1, Ordering::AcqRel) >= MAX_WAITING_PASSWORD_CHECKS {
            self.waiting.fetch_sub(1, Ordering::AcqRel);
            return Err(CheckError::Busy);
        }
        let waiting = Waiting(self.waiting.clone());
        let turn = self
            .running
            .clone()
            .acquire_owned()
            .await
            .map_err(|_| CheckError::Busy)?;
        drop(waiting);
        let buffers = self.buffers.clone();
        let valid = actix_web::rt::task::spawn_blocking(move || {
            let mut memory = buffers
                .lock()
                .expect("password buffers lock poisoned")
                .pop()
                .unwrap_or_default();
            let valid = verify_with_memory(&hash, password.as_bytes(), &mut memory);
            buffers
                .lock()
                .expect("password buffers lock poisoned")
                .push(memory);
            drop(turn);
            valid
        })
        .await
        .unwrap_or(false);
        Ok(valid)
    }
}

/// Checks `password` against a PHC-format argon2 hash, computing in `memory` (grown to the
/// hash's memory cost when smaller, never shrunk). A hash that cannot be parsed matches no
/// password.
pub fn verify_with_memory(hash: &str, password: &[u8], memory: &mut Vec<Block>) -> bool {
    let Ok(parsed) = PasswordHash::new(hash) else {
        return false;
    };
    let Ok(algorithm) = Algorithm::try_from(parsed.algorithm) else {
        return false;
    };
    let version = match parsed.version.map(Version::try_from).transpose() {
        Ok(version) => version.unwrap_or_default(),
        Err(_) => return false,
    };
    let Ok(params) = Params::try_from(&parsed) else {
        return false;
    };
    let (Some(salt), Some(expected)) = (parsed.salt, parsed.hash) else {
        return false;
    };
    let mut salt_bytes = [0u8; 64];
    let Ok(salt) = salt.decode_b64(&mut salt_bytes) else {
        return false;
    };
    if memory.len() < params.block_count() {
        memory.resize(params.block_count(), Block::default());
    }
    let mut computed = vec![0u8; expected.len()];
    let argon2 = Argon2::new(algorithm, version, params);
    if argon2
        .hash_password_into_with_memory(password, salt, &mut computed, memory.as_mut_slice())
        .is_err()
    {
        return false;
    }
    // Compared in constant time: every byte is looked at whatever the first difference.
    computed
        .iter()
        .zip(expected.as_bytes())
        .fold(0u8, |acc, (a, b)| acc | (a ^ b))
        == 0
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Computed independently with the reference implementation's Python binding
    /// (argon2-cffi: `argon2.low_level.hash_secret(b"correct horse battery", b"earshot-salt-16b",
    /// time_cost=2, memory_cost=19456, parallelism=1, hash_len=32, type=Type.ID)`).
    const KNOWN: &str = "$argon2id$v=19$m=19456,t=2,p=1$ZWFyc2hvdC1zYWx0LTE2Yg$OJuJY/2Q5LEWXpC/FU8si7omjNcddJPlnAXUK/1vcak";

    #[test]
    fn a_known_hash_matches_its_password_only() {
        let mut memory = Vec::new();
        assert!(verify_with_memory(
            KNOWN,
            b"correct horse battery",
            &mut memory
        ));
        assert!(!verify_with_memory(
            KNOWN,
            b"correct horse batterY",
            &mut memory
        ));
        assert_eq!(memory.len(), 19_456, "the buffer is the hash's memory cost");
    }

    #[test]
    fn a_buffer_is_reused_and_bad_hashes_match_nothing() {
        let mut memory = Vec::new();
        assert!(verify_with_memory(
            KNOWN,
            b"correct horse battery",
            &mut memory
        ));
        let buffer = memory.as_ptr();
        assert!(!verify_with_memory(KNOWN, b"another password", &mut memory));
        assert_eq!(
            memory.as_ptr(),
            buffer,
            "no new allocation for a second check"
        );
        assert!(!verify_with_memory("not a hash", b"x", &mut memory));
        assert!(!verify_with_memory(
            "$argon2id$v=19$m=19456,t=2,p=1$c2FsdA$",
            b"x",
            &mut memory
        ));
    }

    #[actix_web::test]
    async fn beyond_the_waiting_room_a_check_is_refused_as_busy() {
        let checks = PasswordChecks::default();
        // Fill every running turn and the waiting room by hand.
        let turns: Vec<_> = (0..MAX_CONCURRENT_PASSWORD_CHECKS)
            .map(|_| checks.running.clone().try_acquire_owned().unwrap())
            .collect();
        checks
            .waiting
            .store(MAX_WAITING_PASSWORD_CHECKS, Ordering::SeqCst);
        assert_eq!(
            checks.verify(KNOWN.into(), "x".into()).await,
            Err(CheckError::Busy)
        );
        checks.waiting.store(0, Ordering::SeqCst);
        drop(turns);
        assert_eq!(
            checks
                .verify(KNOWN.into(), "correct horse battery".into())
                .await,
            Ok(true)
        );
        assert_eq!(checks.waiting.load(Ordering::SeqCst), 0);
        assert_eq!(checks.buffers.lock().unwrap().len(), 1);
    }
}
