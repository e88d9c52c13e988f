//! The [`Store`] handle the server shares: pools of connections for reads, and one writer
//! thread per collector that commits submissions in batches.

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, mpsc};
use std::thread;

use earshot_shared::Submission;
use tokio::sync::oneshot;

use crate::contract::{Database, Durability, Location, Pending, StoreError, Stored, WRITER_IDLE};
use crate::{postgres, sqlite};

/// How many submissions may wait for the writer before `submit` waits too.
const WRITE_QUEUE: usize = 4_096;

/// How many queued submissions one transaction may hold.
const MAX_BATCH: usize = 512;

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
    Postgres(r2d2::Pool<postgres::Manager>),
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
                (Box::new(conn), Pool::Postgres(postgres::pool(url)?))
            }
        };
        let (writer, jobs) = mpsc::sync_channel(WRITE_QUEUE);
        let reopen_at = location.clone();
        let reopen = move || -> Result<Box<dyn Database>, StoreError> {
            let Location::Postgres(url) = &reopen_at else {
                return Err(StoreError::WriterGone);
            };
            let mut conn = postgres::connect_migrated(url)?;
            conn.set_durability(durability)?;
            Ok(Box::new(conn))
        };
        thread::Builder::new()
            .name("earshot-writer".into())
            .spawn(move || run_writer(writer_conn, jobs, reopen))
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
            Pool::Postgres(pool) => {
                // A connection lost while idle (the server restarted) is handed back, which
                // makes the pool drop it, and another is taken.
                let mut conn = pool.get()?;
                for _ in 0..postgres::POOL_SIZE {
                    if !conn.is_broken() {
                        break;
                    }
                    drop(conn);
                    conn = pool.get()?;
                }
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

/// Commits what is queued, in batches. A lost connection is replaced before the next batch.
fn run_writer(
    mut conn: Box<dyn Database>,
    jobs: mpsc::Receiver<WriteJob>,
    reopen: impl Fn() -> Result<Box<dyn Database>, StoreError>,
) {
    let mut wrote_since_idle = false;
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
            match reopen() {
                Ok(fresh) => {
                    tracing::warn!("the writer's database connection was lost; reconnected");
                    conn = fresh;
                }
                Err(err) => {
                    tracing::error!(error = %err, "the writer's database connection was lost and cannot be reopened");
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
                    tracing::warn!(
                        "the writer's database connection was lost mid-batch; reconnected"
                    );
                    conn = fresh;
                    written = conn.write_batch(&pending);
                }
                Err(err) => {
                    tracing::error!(error = %err, "the writer's database connection cannot be reopened")
                }
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
