//! Test databases: SQLite always, PostgreSQL when `EARSHOT_TEST_POSTGRES_URL` names a
//! server (`cargo xtask test` requires it). For this crate's tests and, with the `testing`
//! feature, the collector's.

use crate::contract::Location;
use crate::postgres::ScratchDatabase;

pub struct TestDatabase {
    pub location: Location,
    _dir: tempfile::TempDir,
    _scratch: Option<ScratchDatabase>,
}

pub fn databases() -> Vec<TestDatabase> {
    let dir = tempfile::tempdir().unwrap();
    let mut all = vec![TestDatabase {
        location: Location::Sqlite(dir.path().join("earshot.db")),
        _dir: dir,
        _scratch: None,
    }];
    match std::env::var("EARSHOT_TEST_POSTGRES_URL") {
        Ok(admin) if !admin.is_empty() => {
            let scratch = ScratchDatabase::create(&admin).expect("a scratch PostgreSQL database");
            all.push(TestDatabase {
                location: Location::Postgres(scratch.url().to_owned()),
                _dir: tempfile::tempdir().unwrap(),
                _scratch: Some(scratch),
            });
        }
        // A skip is never silent: without a server the run fails and says how to get one,
        // unless it asked to skip (EARSHOT_ALLOW_SKIPS=1).
        _ if std::env::var_os("EARSHOT_E2E_REQUIRED").is_some()
            || std::env::var_os("EARSHOT_ALLOW_SKIPS").is_none() =>
        {
            panic!(
                "EARSHOT_TEST_POSTGRES_URL is not set: the PostgreSQL engine would go untested. \
                 Run `cargo xtask test` (it starts a server), or set EARSHOT_ALLOW_SKIPS=1 to skip"
            )
        }
        _ => eprintln!("SKIPPED: EARSHOT_TEST_POSTGRES_URL is not set: testing SQLite only"),
    }
    all
}
