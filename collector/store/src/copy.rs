//! `earshot copy`: a whole Earshot database from one engine to the other (or to a fresh file
//! of the same), table by table in foreign-key order, with every id, time, hash and secret
//! as it was. Rows are streamed in batches of [`BATCH_ROWS`], each batch one transaction on
//! the target, so memory stays constant whatever the size; a copy that stopped can be run
//! again with `resume`, which goes on after the last row the target holds (and skips rows it
//! already has in the small tables).
//!
//! Both engines have the same tables and columns (a test checks it); only the value types
//! differ (SQLite's 0/1 where PostgreSQL has booleans), and the identity columns of
//! PostgreSQL are moved past the copied ids at the end.

use rusqlite::types::Value as SqliteValue;
use rusqlite::{Connection, params_from_iter};
use tokio_postgres::types::ToSql;

use crate::contract::{Location, StoreError};
use crate::postgres::{PgConn, wait};

/// Rows written per transaction on the target.
pub const BATCH_ROWS: usize = 1_000;
/// The same for screenshots, each up to 2 MB with its thumbnail: a batch stays under about
/// 20 MB in memory.
pub const SCREENSHOT_BATCH_ROWS: usize = 8;

/// Rows per batch for `table`.
fn batch_rows(table: &str) -> usize {
    if table == "screenshots" {
        SCREENSHOT_BATCH_ROWS
    } else {
        BATCH_ROWS
    }
}

/// The tables, in an order where every row's references are copied before it: the name, the
/// key the rows are read in, and the identity column a resumed copy goes on after.
pub const TABLES: [(&str, &str, Option<&str>); 18] = [
    ("sites", "key", None),
    ("unsubscribes", "site_key, email_hash", None),
    ("acknowledged", "site_key, address_hash, day", None),
    ("site_origins", "site_key, origin", None),
    ("users", "id", Some("id")),
    ("user_sites", "user_id, site_key", None),
    ("api_tokens", "id", Some("id")),
    ("sessions", "token_hash", None),
    ("webhooks", "id", Some("id")),
    ("feedback", "seq", Some("seq")),
    ("screenshots", "feedback_id", None),
    ("webhook_deliveries", "id", Some("id")),
    ("messages", "id", Some("id")),
    ("conversation_links", "token_hash", None),
    ("outbox", "id", Some("id")),
    ("reply_tokens", "token_hash", None),
    ("inbound_mail", "id", Some("id")),
    ("undeliverable", "email_hash", None),
];

/// Tables the database derives from the others and that are not copied: the statistics'
/// hourly counts, which the target's triggers count anew as the feedback arrives.
pub const DERIVED: [&str; 2] = ["stats_ratings", "stats_pages"];

/// A value as either engine gives it.
#[derive(Debug, Clone, PartialEq)]
enum Cell {
    Null,
    Int(i64),
    Bool(bool),
    Text(String),
    Bytes(Vec<u8>),
}

/// A target column's type, where the engine has types to bind to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Bool,
    Int,
    Text,
    Bytes,
}

/// What was copied: for each table, the rows in the source and in the target at the end.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CopyReport {
    pub tables: Vec<(&'static str, u64, u64)>,
    /// Tables whose source changed while the copy ran: its rows when the table was copied and
    /// at the end. Something (a collector) still writes to the source.
    pub source_changed: Vec<(&'static str, u64, u64)>,
}

impl CopyReport {
    /// Whether every table holds as many rows in the target as in the source.
    pub fn complete(&self) -> bool {
        self.tables.iter().all(|(_, from, to)| from == to)
    }
}

/// One end of a copy.
enum End {
    Sqlite(Connection),
    Postgres(PgConn),
}

impl End {
    fn open(location: &Location) -> Result<Self, StoreError> {
        Ok(match location {
            Location::Sqlite(path) => Self::Sqlite(crate::sqlite::open_connection(path)?),
            Location::Postgres(url) => Self::Postgres(crate::postgres::connect_migrated(url)?),
        })
    }

    fn count(&mut self, table: &str) -> Result<u64, StoreError> {
        let sql = format!("SELECT count(*) FROM {table}");
        Ok(match self {
            Self::Sqlite(conn) => conn.query_row(&sql, [], |row| row.get::<_, i64>(0))? as u64,
            Self::Postgres(pg) => {
                wait(pg.client.query_one(&sql, &[]))?.try_get::<_, i64>(0)? as u64
            }
        })
    }

    /// The table's columns, in their order in this engine.
    fn columns(&mut self, table: &str) -> Result<Vec<String>, StoreError> {
        Ok(match self {
            Self::Sqlite(conn) => conn
                .prepare(&format!("SELECT name FROM pragma_table_info('{table}')"))?
                .query_map([], |row| row.get(0))?
                .collect::<Result<_, _>>()?,
            Self::Postgres(pg) => wait(pg.client.query(
                "SELECT column_name::text FROM information_schema.columns
                 WHERE table_schema = current_schema() AND table_name = $1
                 ORDER BY ordinal_position",
                &[&table],
            ))?
            .iter()
            .map(|row| row.try_get(0))
            .collect::<Result<_, _>>()?,
        })
    }

    /// The highest value of `column`, for resuming after it.
    fn max(&mut self, table: &str, column: &str) -> Result<Option<i64>, StoreError> {
        let sql = format!("SELECT max({column}) FROM {table}");
        Ok(match self {
            Self::Sqlite(conn) => conn.query_row(&sql, [], |row| row.get(0))?,
            Self::Postgres(pg) => wait(pg.client.query_one(&sql, &[]))?.try_get(0)?,
        })
    }

    /// Reads the table's rows in key order (after `after` on the identity column), a batch
    /// at a time, handing each batch to `batch`.
    fn read(
        &mut self,
        table: &str,
        columns: &[String],
        order: &str,
        after: Option<(&str, i64)>,
        batch: &mut dyn FnMut(Vec<Vec<Cell>>) -> Result<(), StoreError>,
    ) -> Result<(), StoreError> {
        let filter = after
            .map(|(column, value)| format!(" WHERE {column} > {value}"))
            .unwrap_or_default();
        let sql = format!(
            "SELECT {} FROM {table}{filter} ORDER BY {order}",
            columns.join(", ")
        );
        match self {
            Self::Sqlite(conn) => {
                let mut statement = conn.prepare(&sql)?;
                let mut rows = statement.query([])?;
                let rows_per_batch = batch_rows(table);
                let mut pending = Vec::with_capacity(rows_per_batch);
                while let Some(row) = rows.next()? {
                    let mut cells = Vec::with_capacity(columns.len());
                    for index in 0..columns.len() {
                        cells.push(match row.get::<_, SqliteValue>(index)? {
                            SqliteValue::Null => Cell::Null,
                            SqliteValue::Integer(value) => Cell::Int(value),
                            SqliteValue::Text(text) => Cell::Text(text),
                            SqliteValue::Real(value) => Cell::Text(value.to_string()),
                            SqliteValue::Blob(bytes) => Cell::Bytes(bytes),
                        });
                    }
                    pending.push(cells);
                    if pending.len() == rows_per_batch {
                        batch(std::mem::take(&mut pending))?;
                    }
                }
                if !pending.is_empty() {
                    batch(pending)?;
                }
            }
            Self::Postgres(pg) => {
                // A cursor in a read-only transaction: one snapshot, fetched a batch at a time.
                wait(pg.client.batch_execute(&format!(
                    "BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY; \
                     DECLARE earshot_copy NO SCROLL CURSOR FOR {sql}"
                )))?;
                let fetched = (|| -> Result<(), StoreError> {
                    loop {
                        let rows = wait(pg.client.query(
                            &format!("FETCH {} FROM earshot_copy", batch_rows(table)),
                            &[],
                        ))?;
                        if rows.is_empty() {
                            return Ok(());
                        }
                        let mut cells = Vec::with_capacity(rows.len());
                        for row in &rows {
                            let mut values = Vec::with_capacity(columns.len());
                            for (index, column) in row.columns().iter().enumerate() {
                                let ty = column.type_();
                                values.push(if *ty == tokio_postgres::types::Type::BOOL {
                                    row.try_get::<_, Option<bool>>(index)?
                                        .map_or(Cell::Null, Cell::Bool)
                                } else if *ty == tokio_postgres::types::Type::INT8 {
                                    row.try_get::<_, Option<i64>>(index)?
                                        .map_or(Cell::Null, Cell::Int)
                                } else if *ty == tokio_postgres::types::Type::BYTEA {
                                    row.try_get::<_, Option<Vec<u8>>>(index)?
                                        .map_or(Cell::Null, Cell::Bytes)
                                } else {
                                    row.try_get::<_, Option<String>>(index)?
                                        .map_or(Cell::Null, Cell::Text)
                                });
                            }
                            cells.push(values);
                        }
                        batch(cells)?;
                    }
                })();
                let ended = wait(pg.client.batch_execute("COMMIT"));
                fetched?;
                ended?;
            }
        }
        Ok(())
    }

    /// Writes a batch in one transaction; rows whose key is there already are left as they
    /// are (a resumed copy).
    fn write(
        &mut self,
        table: &str,
        columns: &[String],
        kinds: &[Kind],
        rows: Vec<Vec<Cell>>,
    ) -> Result<(), StoreError> {
        match self {
            Self::Sqlite(conn) => {
                let placeholders = vec!["?"; columns.len()].join(", ");
                let sql = format!(
                    "INSERT INTO {table} ({}) VALUES ({placeholders}) ON CONFLICT DO NOTHING",
                    columns.join(", ")
                );
                let tx = conn.transaction()?;
                {
                    let mut insert = tx.prepare_cached(&sql)?;
                    for row in rows {
                        insert.execute(params_from_iter(row.into_iter().map(
                            |cell| match cell {
                                Cell::Null => SqliteValue::Null,
                                Cell::Int(value) => SqliteValue::Integer(value),
                                Cell::Bool(value) => SqliteValue::Integer(i64::from(value)),
                                Cell::Text(text) => SqliteValue::Text(text),
                                Cell::Bytes(bytes) => SqliteValue::Blob(bytes),
                            },
                        )))?;
                    }
                }
                tx.commit()?;
            }
            Self::Postgres(pg) => {
                // One statement per batch (a round trip for a thousand rows): the values as
                // parameters, $1 … $n, row after row.
                let width = columns.len();
                let tuples: Vec<String> = (0..rows.len())
                    .map(|row| {
                        let cells: Vec<String> = (1..=width)
                            .map(|n| format!("${}", row * width + n))
                            .collect();
                        format!("({})", cells.join(", "))
                    })
                    .collect();
                let sql = format!(
                    "INSERT INTO {table} ({}) OVERRIDING SYSTEM VALUE VALUES {} ON CONFLICT DO NOTHING",
                    columns.join(", "),
                    tuples.join(", ")
                );
                let values: Vec<Box<dyn ToSql + Sync + Send>> = rows
                    .into_iter()
                    .flat_map(|row| row.into_iter().zip(kinds.iter().copied()))
                    .map(|(cell, kind)| -> Box<dyn ToSql + Sync + Send> {
                        match (cell, kind) {
                            (Cell::Null, Kind::Bool) => Box::new(None::<bool>),
                            (Cell::Null, Kind::Int) => Box::new(None::<i64>),
                            (Cell::Null, Kind::Text) => Box::new(None::<String>),
                            (Cell::Null, Kind::Bytes) => Box::new(None::<Vec<u8>>),
                            (Cell::Int(value), Kind::Bool) => Box::new(value != 0),
                            (Cell::Bool(value), Kind::Int) => Box::new(i64::from(value)),
                            (Cell::Bool(value), _) => Box::new(value),
                            (Cell::Int(value), _) => Box::new(value),
                            (Cell::Text(text), _) => Box::new(text),
                            (Cell::Bytes(bytes), _) => Box::new(bytes),
                        }
                    })
                    .collect();
                let params: Vec<&(dyn ToSql + Sync)> = values
                    .iter()
                    .map(|value| value.as_ref() as &(dyn ToSql + Sync))
                    .collect();
                wait(pg.client.execute(&sql, &params))?;
            }
        }
        Ok(())
    }

    /// The types of `columns` here: PostgreSQL's, for binding; SQLite takes any value.
    fn kinds(&mut self, table: &str, columns: &[String]) -> Result<Vec<Kind>, StoreError> {
        Ok(match self {
            Self::Sqlite(_) => vec![Kind::Text; columns.len()],
            Self::Postgres(pg) => {
                let rows = wait(pg.client.query(
                    "SELECT column_name::text, data_type::text FROM information_schema.columns
                     WHERE table_schema = current_schema() AND table_name = $1",
                    &[&table],
                ))?;
                columns
                    .iter()
                    .map(|column| {
                        let data_type = rows
                            .iter()
                            .find(|row| row.get::<_, String>(0) == *column)
                            .map(|row| row.get::<_, String>(1))
                            .unwrap_or_default();
                        match data_type.as_str() {
                            "boolean" => Kind::Bool,
                            "bigint" | "integer" | "smallint" => Kind::Int,
                            "bytea" => Kind::Bytes,
                            _ => Kind::Text,
                        }
                    })
                    .collect()
            }
        })
    }

    /// After writing ids explicitly, the next generated id must come after them.
    fn after_table(&mut self, table: &str, identity: Option<&str>) -> Result<(), StoreError> {
        if let (Self::Postgres(pg), Some(column)) = (self, identity) {
            wait(pg.client.batch_execute(&format!(
                "SELECT setval(pg_get_serial_sequence('{table}', '{column}'), \
                 coalesce((SELECT max({column}) FROM {table}), 0) + 1, false)"
            )))?;
        }
        Ok(())
    }
}

/// Copies every table of the Earshot database at `from` into the one at `to` (created and
/// migrated when missing). Refuses a target that holds anything unless `resume`, which goes
/// on where a stopped copy ended. `progress` hears each table and the rows copied so far.
pub fn copy(
    from: &Location,
    to: &Location,
    resume: bool,
    progress: &mut dyn FnMut(&str, u64, u64),
) -> Result<CopyReport, StoreError> {
    if from.describe() == to.describe() {
        return Err(StoreError::Copy(
            "the source and the target are the same database".into(),
        ));
    }
    let mut source = End::open(from)?;
    if let Location::Sqlite(path) = to {
        // Like a backup, a copy holds every secret: only its owner may read it.
        crate::sqlite::create_private(path)
            .map_err(|err| StoreError::Copy(format!("{}: {err}", path.display())))?;
    }
    let mut target = End::open(to)?;
    if !resume {
        for (table, _, _) in TABLES {
            if target.count(table)? > 0 {
                return Err(StoreError::Copy(format!(
                    "{} already holds data (table {table}); copy into an empty database, or pass --resume to go on with a copy that stopped",
                    to.describe()
                )));
            }
        }
    }
    let mut report = CopyReport::default();
    for (table, order, identity) in TABLES {
        let total = source.count(table)?;
        let columns = source.columns(table)?;
        let target_columns = target.columns(table)?;
        let same_columns = {
            let mut a = columns.clone();
            let mut b = target_columns.clone();
            a.sort();
            b.sort();
            a == b
        };
        if !same_columns {
            return Err(StoreError::Copy(format!(
                "table {table} has other columns in the target: is one side older? ({} / {})",
                columns.join(","),
                target_columns.join(",")
            )));
        }
        let kinds = target.kinds(table, &columns)?;
        let after = match identity {
            Some(column) if resume => target.max(table, column)?.map(|max| (column, max)),
            _ => None,
        };
        let mut copied = if after.is_some() {
            target.count(table)?
        } else {
            0
        };
        progress(table, copied, total);
        source.read(table, &columns, order, after, &mut |rows| {
            copied += rows.len() as u64;
            target.write(table, &columns, &kinds, rows)?;
            progress(table, copied, total);
            Ok(())
        })?;
        target.after_table(table, identity)?;
        report.tables.push((table, total, target.count(table)?));
    }
    for (table, total, _) in &report.tables {
        let now = source.count(table)?;
        if now != *total {
            report.source_changed.push((table, *total, now));
        }
    }
    Ok(report)
}

/// Whether a collector seems to be using `location`, and why it seems so: on PostgreSQL,
/// another Earshot process's connections to the database; on SQLite, another process holding
/// the database open in WAL mode (the shared lock every connection keeps on its `-shm` file).
pub fn live_writer(location: &Location) -> Result<Option<String>, StoreError> {
    match location {
        Location::Postgres(url) => {
            let conn = PgConn::open(url)?;
            let others: i64 = wait(conn.client.query_one(
                "SELECT count(*) FROM pg_stat_activity
                 WHERE datname = current_database() AND application_name = $1
                   AND pid <> pg_backend_pid()",
                &[&crate::postgres::APPLICATION_NAME],
            ))?
            .try_get(0)?;
            Ok((others > 0).then(|| {
                format!(
                    "{} has {others} open connection(s) from Earshot: a collector is running on it",
                    location.describe()
                )
            }))
        }
        Location::Sqlite(path) => {
            let mut shm = path.as_os_str().to_owned();
            shm.push("-shm");
            Ok(sqlite_open_elsewhere(std::path::Path::new(&shm)).then(|| {
                format!(
                    "another process has {} open: a collector is probably running on it",
                    path.display()
                )
            }))
        }
    }
}

/// Whether another process holds a lock on the byte of a `-shm` file that every SQLite
/// connection in WAL mode keeps a shared lock on while it is open (SQLite's unix VFS: the
/// "DMS" lock at offset 128). Asked with `F_GETLK`, which takes no lock itself.
fn sqlite_open_elsewhere(shm: &std::path::Path) -> bool {
    use std::os::fd::AsRawFd;
    const DMS_LOCK_OFFSET: libc::off_t = 128;
    let Ok(file) = std::fs::OpenOptions::new().read(true).write(true).open(shm) else {
        return false;
    };
    // SAFETY: a zeroed flock is a valid value; F_GETLK only reads and writes it.
    let mut lock: libc::flock = unsafe { std::mem::zeroed() };
    lock.l_type = libc::F_WRLCK as _;
    lock.l_whence = libc::SEEK_SET as _;
    lock.l_start = DMS_LOCK_OFFSET;
    lock.l_len = 1;
    // SAFETY: the descriptor is open for as long as `file` lives; `lock` is a valid flock.
    let asked = unsafe { libc::fcntl(file.as_raw_fd(), libc::F_GETLK, &mut lock) };
    asked == 0 && lock.l_type != libc::F_UNLCK as libc::c_short
}
