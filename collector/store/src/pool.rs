//! The [`Store`] handle the server shares: pools of connections for reads, and one writer
//! thread per collector that commits submissions in batches.

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, mpsc};
use std::thread;
use std::time::{Duration, Instant};

use earshot_shared::Submission;
use tokio::sync::oneshot;

use crate::contract::{Database, Durability, Location, Pending, StoreError, Stored, WRITER_IDLE};
use crate::{postgres, sqlite};

/// How many submissions may wait for the writer before `submit` waits too.
const WRITE_QUEUE: usize = 4_096;

/// How many queued submissions one transaction may hold.
const MAX_BATCH: usize = 512;

/// How often a request waiting for a pooled connection looks whether the server is known to
/// be unreachable (then it is answered at once rather than after the connect timeout).
const POOL_LOOK_EVERY: Duration = Duration::from_millis(200);

/// While the database cannot be reached, the writer tries to reconnect at most this often;
/// submissions arriving meanwhile are refused at once (nothing stored; the widget retries).
const WRITER_RECONNECT_EVERY: Duration = Duration::from_secs(1);

struct WriteJob {
    pending: Pending,
    reply: WriteReply,
}

type WriteReply = oneshot::Sender<Result<Stored, StoreError>>;

/// The connections a [`Store`] hands out.
enum Pool {
    /// Idle SQLite connections; a new one is opened when none is free.
    Sqlite {
        path: PathBuf,
        idle: Mutex<Vec<rusqlite::Connection>>,
    },
    Postgres {
        pool: r2d2::Pool<postgres::Manager>,
        reach: Arc<postgres::Reachability>,
    },
}

/// The handle the server shares between workers. Cloning is cheap.
#[derive(Clone)]
pub struct Store {
    location: Arc<Location>,
    writer: mpsc::SyncSender<WriteJob>,
    pool: Arc<Pool>,
    exports: Arc<tokio::sync::Semaphore>,
}

impl Store {
    /// Opens the SQLite database `path` and starts the writer thread.
    pub fn open(path: &Path) -> Result<Self, StoreError> {
        Self::open_at(&Location::Sqlite(path.to_owned()), Durability::PowerLoss)
    }

    /// Opens the database (migrating it) with the writer committing at the given
    /// durability.
    pub fn open_at(location: &Location, durability: Durability) -> Result<Self, StoreError> {
        let (writer_conn, pool): (Box<dyn Database>, Pool) = match location {
            Location::Sqlite(path) => {
                let conn = sqlite::open_connection(path)?;
                sqlite::set_durability(&conn, durability)?;
                let pool = Pool::Sqlite {
                    path: path.clone(),
                    idle: Mutex::default(),
                };
                (Box::new(conn), pool)
            }
            Location::Postgres(url) => {
                let mut conn = postgres::connect_migrated(url)?;
                conn.set_durability(durability)?;
                let reach = Arc::new(postgres::Reachability::default());
                let pool = postgres::pool(url, reach.clone())?;
                (Box::new(conn), Pool::Postgres { pool, reach })
            }
        };
        let (writer, jobs) = mpsc::sync_channel(WRITE_QUEUE);
        let reopen_at = location.clone();
        let writer_reach = match &pool {
            Pool::Postgres { reach, .. } => Some(reach.clone()),
            Pool::Sqlite { .. } => None,
        };
        // Whether the pool's latest attempt to connect failed too: once the pool reaches the
        // database again, the writer need not wait for its next turn to reconnect.
        let pool_reach = writer_reach.clone();
        let still_down = move || {
            pool_reach
                .as_ref()
                .is_some_and(|reach| reach.failure().is_some())
        };
        let reopen = move || -> Result<Box<dyn Database>, StoreError> {
            let Location::Postgres(url) = &reopen_at else {
                return Err(StoreError::WriterGone);
            };
            let attempt = postgres::connect_migrated(url).and_then(|mut conn| {
                conn.set_durability(durability)?;
                Ok(conn)
            });
            if let Some(reach) = &writer_reach {
                reach.record(&attempt);
            }
            Ok(Box::new(attempt?))
        };
        thread::Builder::new()
            .name("earshot-writer".into())
            .spawn(move || run_writer(writer_conn, jobs, reopen, still_down))
            .expect("spawning the storage writer thread");
        Ok(Self {
            location: Arc::new(location.clone()),
            writer,
            pool: Arc::new(pool),
            exports: Arc::new(tokio::sync::Semaphore::new(
                earshot_shared::limits::MAX_CONCURRENT_EXPORTS,
            )),
        })
    }

    /// Waits for one of the [`MAX_CONCURRENT_EXPORTS`] export slots, held until the permit
    /// is dropped. Blocking: call from a blocking context.
    ///
    /// [`MAX_CONCURRENT_EXPORTS`]: earshot_shared::limits::MAX_CONCURRENT_EXPORTS
    pub fn export_slot(&self) -> Result<tokio::sync::OwnedSemaphorePermit, StoreError> {
        futures_executor::block_on(self.exports.clone().acquire_owned())
            .map_err(|_| StoreError::WriterGone)
    }

    pub fn location(&self) -> &Location {
        &self.location
    }

    /// Why the database cannot be reached, when the latest attempt to connect to it failed
    /// (PostgreSQL only: a SQLite file is always at hand). Without the server's address.
    pub fn unreachable(&self) -> Option<String> {
        match &*self.pool {
            Pool::Postgres { reach, .. } => reach.reason(),
            Pool::Sqlite { .. } => None,
        }
    }

    /// Stores a submission and returns once it is committed (or known from before). Spam is
    /// stored too, flagged, so the owner can review what was caught.
    pub async fn submit(
        &self,
        submission: Submission,
        received_at: i64,
    ) -> Result<Stored, StoreError> {
        let (reply, answer) = oneshot::channel();
        let job = WriteJob {
            pending: Pending {
                spam: submission.looks_like_spam(),
                submission,
                received_at,
            },
            reply,
        };
        // The queue is bounded; when it is full, wait for room on a blocking thread rather
        // than on the async worker.
        let writer = self.writer.clone();
        match writer.try_send(job) {
            Ok(()) => {}
            Err(mpsc::TrySendError::Full(job)) => {
                let sent = tokio::task::spawn_blocking(move || writer.send(job).is_ok()).await;
                if !sent.unwrap_or(false) {
                    return Err(StoreError::WriterGone);
                }
            }
            Err(mpsc::TrySendError::Disconnected(_)) => return Err(StoreError::WriterGone),
        }
        answer.await.map_err(|_| StoreError::WriterGone)?
    }

    /// Runs `work` on a pooled connection and puts the connection back. Blocking: call
    /// from a blocking context (a thread of its own, or the blocking pool).
    pub fn read<T>(
        &self,
        work: impl FnOnce(&mut dyn Database) -> Result<T, StoreError>,
    ) -> Result<T, StoreError> {
        match &*self.pool {
            Pool::Sqlite { path, idle } => {
                let pooled = idle.lock().expect("connection pool poisoned").pop();
                let mut conn = match pooled {
                    Some(conn) => conn,
                    None => sqlite::open_connection(path)?,
                };
                let result = work(&mut conn);
                idle.lock().expect("connection pool poisoned").push(conn);
                result
            }
            Pool::Postgres { pool, reach } => {
                let mut conn = pooled(pool, reach)?;
                work(&mut *conn)
            }
        }
    }

    /// Runs `write` on a pooled connection on the blocking thread pool: for the dashboard's
    /// and the command line's rare edits; submissions go through [`Store::submit`].
    pub async fn write_async<T: Send + 'static>(
        &self,
        write: impl FnOnce(&mut dyn Database) -> Result<T, StoreError> + Send + 'static,
    ) -> Result<T, StoreError> {
        self.read_async(write).await
    }

    /// Runs `read` on a pooled connection on the blocking thread pool.
    pub async fn read_async<T: Send + 'static>(
        &self,
        read: impl FnOnce(&mut dyn Database) -> Result<T, StoreError> + Send + 'static,
    ) -> Result<T, StoreError> {
        let store = self.clone();
        tokio::task::spawn_blocking(move || store.read(read))
            .await
            .map_err(|_| StoreError::WriterGone)?
    }
}

/// A pooled connection: waits while every connection is busy, up to the connect timeout,
/// but answers at once that the server cannot be reached when the latest attempt to connect
/// failed.
fn pooled(
    pool: &r2d2::Pool<postgres::Manager>,
    reach: &postgres::Reachability,
) -> Result<r2d2::PooledConnection<postgres::Manager>, StoreError> {
    let deadline = Instant::now() + postgres::CONNECT_TIMEOUT;
    loop {
        match pool.get_timeout(POOL_LOOK_EVERY) {
            // A connection lost while idle (the server restarted) is handed back, which
            // makes the pool drop it, and another is taken.
            Ok(mut conn) => {
                if !conn.is_broken() {
                    return Ok(conn);
                }
            }
            Err(err) => {
                if let Some(failure) = reach.failure() {
                    return Err(StoreError::Unavailable(failure));
                }
                if Instant::now() >= deadline {
                    return Err(err.into());
                }
            }
        }
    }
}

/// Commits what is queued, in batches. A lost connection is replaced before the next batch.
fn run_writer(
    mut conn: Box<dyn Database>,
    jobs: mpsc::Receiver<WriteJob>,
    reopen: impl Fn() -> Result<Box<dyn Database>, StoreError>,
    still_down: impl Fn() -> bool,
) {
    let mut wrote_since_idle = false;
    // Set while the database cannot be reached (the latest reconnection failed).
    let mut outage: Option<Outage> = None;
    loop {
        let first = match jobs.recv_timeout(WRITER_IDLE) {
            Ok(job) => job,
            Err(mpsc::RecvTimeoutError::Timeout) => {
                if wrote_since_idle {
                    // Until the maintenance is done: a checkpoint held back by a long read
                    // (an export) is tried again every WRITER_IDLE.
                    wrote_since_idle = match conn.after_writes(true) {
                        Ok(done) => !done,
                        Err(err) => {
                            tracing::warn!(error = %err, "idle database maintenance failed");
                            false
                        }
                    };
                }
                continue;
            }
            Err(mpsc::RecvTimeoutError::Disconnected) => break,
        };
        wrote_since_idle = true;
        let mut batch = vec![first];
        while batch.len() < MAX_BATCH {
            match jobs.try_recv() {
                Ok(job) => batch.push(job),
                Err(_) => break,
            }
        }
        if conn.is_broken() {
            if let Some(outage) = &outage
                && outage.tried.elapsed() < WRITER_RECONNECT_EVERY
                && still_down()
            {
                for job in batch {
                    let _ = job
                        .reply
                        .send(Err(StoreError::Unavailable(outage.failure.clone())));
                }
                continue;
            }
            match reopen() {
                Ok(fresh) => {
                    note_reconnected(&mut outage);
                    conn = fresh;
                }
                Err(err) => {
                    note_unreachable(&mut outage, &err);
                    for job in batch {
                        let _ = job
                            .reply
                            .send(Err(StoreError::Unavailable(err.to_string())));
                    }
                    continue;
                }
            }
        }
        let pending: Vec<&Pending> = batch.iter().map(|job| &job.pending).collect();
        let mut written = conn.write_batch(&pending);
        if written.is_err() && conn.is_broken() {
            // Lost mid-batch: reconnect and send the batch again. Safe: what was committed
            // before the connection went comes back as a duplicate, stored once.
            match reopen() {
                Ok(fresh) => {
                    note_reconnected(&mut outage);
                    conn = fresh;
                    written = conn.write_batch(&pending);
                }
                Err(err) => note_unreachable(&mut outage, &err),
            }
        }
        let outcomes = match written {
            Ok(outcomes) => outcomes,
            // The whole transaction failed (on PostgreSQL one bad row aborts it): write each
            // submission alone, so only the bad one fails. Not when the connection is gone:
            // then each would fail the same way (the next batch reconnects).
            Err(err) if batch.len() > 1 && !conn.is_broken() => {
                tracing::warn!(error = %err, size = batch.len(), "a batch failed; writing its submissions one by one");
                pending
                    .iter()
                    .map(|one| match conn.write_batch(&[one]) {
                        Ok(mut outcome) => outcome.pop().unwrap_or(Err(StoreError::WriterGone)),
                        Err(err) => Err(StoreError::BatchFailed(err.to_string())),
                    })
                    .collect()
            }
            // The database is unreachable: said once, when the outage began.
            Err(err) if conn.is_broken() => {
                let message = err.to_string();
                pending
                    .iter()
                    .map(|_| Err(StoreError::Unavailable(message.clone())))
                    .collect()
            }
            Err(err) => {
                tracing::error!(error = %err, size = batch.len(), "writing a batch failed");
                let message = err.to_string();
                pending
                    .iter()
                    .map(|_| Err(StoreError::BatchFailed(message.clone())))
                    .collect()
            }
        };
        for (job, outcome) in batch.into_iter().zip(outcomes) {
            let _ = job.reply.send(outcome);
        }
        if let Err(err) = conn.after_writes(false) {
            tracing::warn!(error = %err, "database maintenance after a batch failed");
        }
    }
}

/// The writer's view of a database it cannot reach.
struct Outage {
    began: Instant,
    /// The latest attempt to reconnect.
    tried: Instant,
    failure: String,
}

/// Logs what is true when the writer has a connection again: a lost one replaced at once,
/// or the end of an outage.
fn note_reconnected(outage: &mut Option<Outage>) {
    match outage.take() {
        Some(outage) => tracing::info!(
            down_for_secs = outage.began.elapsed().as_secs(),
            "the database answers again: submissions are stored again"
        ),
        None => tracing::warn!("the writer's database connection was lost; reconnected"),
    }
}

/// Logs the start of an outage once (not every failed retry), and notes when it was seen.
fn note_unreachable(outage: &mut Option<Outage>, err: &StoreError) {
    let now = Instant::now();
    let began = match outage {
        Some(outage) => outage.began,
        None => {
            tracing::error!(
            error = %err,
            "the database cannot be reached: submissions are refused with 503 (nothing stored; \
             the widget keeps them and retries) while the writer tries to reconnect every second"
            );
            now
        }
    };
    *outage = Some(Outage {
        began,
        tried: now,
        failure: err.to_string(),
    });
}

impl Location {
    /// One connection, with the schema brought up to date: for the command line's one-off
    /// work. The server uses [`Store::open`].
    pub fn connect(&self) -> Result<Box<dyn Database>, StoreError> {
        Ok(match self {
            Self::Sqlite(path) => Box::new(sqlite::open_connection(path)?),
            Self::Postgres(url) => Box::new(postgres::connect_migrated(url)?),
        })
    }
}
