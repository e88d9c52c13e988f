//! The `earshot` command line: what an owner sees when they get something wrong.

use std::process::{Command, Output};

fn earshot(db: &std::path::Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_earshot"))
        .args(args)
        .env("EARSHOT_DATABASE", db)
        .env("EARSHOT_PUBLIC_URL", "https://feedback.shop.example/")
        .output()
        .unwrap()
}

fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

#[test]
fn adding_a_site_prints_the_snippet_and_refuses_mistakes() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("earshot.db");

    let out = earshot(
        &db,
        &[
            "site",
            "add",
            "--name",
            "Shop",
            "--key",
            "shop",
            "--origin",
            "https://Shop.Example/",
        ],
    );
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(
        String::from_utf8(out.stdout).unwrap(),
        "<script src=\"https://feedback.shop.example/earshot.js\" data-site=\"shop\" async></script>\n"
    );

    let again = earshot(
        &db,
        &[
            "site",
            "add",
            "--name",
            "Shop",
            "--key",
            "shop",
            "--origin",
            "https://shop.example",
        ],
    );
    assert!(!again.status.success());
    assert!(
        stderr(&again).contains("exists already"),
        "{}",
        stderr(&again)
    );

    let path = earshot(
        &db,
        &[
            "site",
            "add",
            "--name",
            "Blog",
            "--origin",
            "https://blog.example/posts",
        ],
    );
    assert!(!path.status.success());
    assert!(
        stderr(&path).contains("did you mean https://blog.example"),
        "{}",
        stderr(&path)
    );

    let key = earshot(
        &db,
        &[
            "site",
            "add",
            "--name",
            "Bad",
            "--key",
            "Bad Key",
            "--origin",
            "https://b.example",
        ],
    );
    assert!(!key.status.success());
    assert!(stderr(&key).contains("site key"), "{}", stderr(&key));

    let list = String::from_utf8(earshot(&db, &["site", "list"]).stdout).unwrap();
    assert!(
        list.lines()
            .any(|line| line.starts_with("shop ") && line.contains("https://shop.example")),
        "{list}"
    );
    assert_eq!(list.lines().count(), 2, "a header and the one site: {list}");
}

#[test]
fn a_random_site_key_is_made_when_none_is_given() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("earshot.db");
    let out = earshot(
        &db,
        &[
            "site",
            "add",
            "--name",
            "Shop",
            "--origin",
            "https://shop.example",
        ],
    );
    assert!(out.status.success(), "{}", stderr(&out));
    let snippet = String::from_utf8(out.stdout).unwrap();
    let key = snippet
        .split("data-site=\"")
        .nth(1)
        .unwrap()
        .split('"')
        .next()
        .unwrap();
    assert_eq!(key.len(), 12);
    assert!(earshot_shared::SiteKey::parse(key).is_ok());
}

#[test]
fn exports_and_tokens_for_unknown_sites_are_refused() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("earshot.db");
    let export = earshot(&db, &["export", "--site", "nosuchsite"]);
    assert!(!export.status.success());
    assert!(
        stderr(&export).contains("no site has the key"),
        "{}",
        stderr(&export)
    );
    let token = earshot(&db, &["token", "create", "--site", "nosuchsite"]);
    assert!(!token.status.success());
    assert!(
        stderr(&token).contains("no site has the key"),
        "{}",
        stderr(&token)
    );
    let revoke = earshot(&db, &["token", "revoke", "42"]);
    assert!(!revoke.status.success());
}

#[test]
fn widget_defaults_are_shown_changed_and_checked() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("earshot.db");
    let add = earshot(
        &db,
        &[
            "site",
            "add",
            "--name",
            "Docs",
            "--key",
            "docs",
            "--origin",
            "https://docs.example",
        ],
    );
    assert!(add.status.success(), "{}", stderr(&add));

    let settings = |out: &Output| -> serde_json::Value {
        assert!(out.status.success(), "{}", stderr(out));
        serde_json::from_slice(&out.stdout).unwrap()
    };
    let shown = settings(&earshot(&db, &["site", "widget", "docs"]));
    assert_eq!(shown, serde_json::json!({"theme": "auto"}));

    let changed = settings(&earshot(
        &db,
        &[
            "site",
            "widget",
            "docs",
            "--rating",
            "thumbs",
            "--color",
            "#0F766E",
            "--theme",
            "dark",
            "--prompt",
            "Was this page helpful?",
        ],
    ));
    assert_eq!(
        changed,
        serde_json::json!({"rating": "thumbs", "color": "#0F766E", "theme": "dark",
                           "prompt": "Was this page helpful?"})
    );
    // Only what is given changes; an empty value clears.
    let cleared = settings(&earshot(&db, &["site", "widget", "docs", "--color", ""]));
    assert_eq!(cleared["color"], serde_json::Value::Null);
    assert_eq!(cleared["rating"], "thumbs");

    for (args, message) in [
        (&["--rating", "hearts"][..], "--rating is one of"),
        (&["--color", "blue"][..], "--color: the colour must be"),
        (&["--theme", "sepia"][..], "--theme is one of"),
        (&["--lang", "pt_BR"][..], "--lang:"),
    ] {
        let out = earshot(&db, &[&["site", "widget", "docs"][..], args].concat());
        assert!(!out.status.success(), "{args:?}");
        assert!(stderr(&out).contains(message), "{args:?}: {}", stderr(&out));
    }
    let unknown = earshot(&db, &["site", "widget", "nope"]);
    assert!(!unknown.status.success());
    assert!(
        stderr(&unknown).contains("no site has the key"),
        "{}",
        stderr(&unknown)
    );
}

#[test]
fn accounts_retention_and_erasure_from_the_command_line() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("earshot.db");
    let add = earshot(
        &db,
        &[
            "site",
            "add",
            "--name",
            "Shop",
            "--key",
            "shop",
            "--origin",
            "https://shop.example",
        ],
    );
    assert!(add.status.success(), "{}", stderr(&add));

    let with_stdin = |args: &[&str], input: &str| {
        use std::io::Write;
        let mut child = Command::new(env!("CARGO_BIN_EXE_earshot"))
            .args(args)
            .env("EARSHOT_DATABASE", &db)
            .stdin(std::process::Stdio::piped())
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .unwrap();
        child
            .stdin
            .take()
            .unwrap()
            .write_all(input.as_bytes())
            .unwrap();
        child.wait_with_output().unwrap()
    };
    let short = with_stdin(
        &["user", "add", "ann@shop.example", "--password-stdin"],
        "short\n",
    );
    assert!(!short.status.success());
    assert!(
        stderr(&short).contains("at least 10 characters"),
        "{}",
        stderr(&short)
    );
    let ok = with_stdin(
        &[
            "user",
            "add",
            "ann@shop.example",
            "--site",
            "shop",
            "--password-stdin",
        ],
        "a long enough password\n",
    );
    assert!(ok.status.success(), "{}", stderr(&ok));
    let again = with_stdin(
        &["user", "add", "ANN@shop.example", "--password-stdin"],
        "a long enough password\n",
    );
    assert!(
        stderr(&again).contains("exists already"),
        "{}",
        stderr(&again)
    );
    let unknown = with_stdin(
        &[
            "user",
            "add",
            "bo@shop.example",
            "--site",
            "nope",
            "--password-stdin",
        ],
        "a long enough password\n",
    );
    assert!(
        stderr(&unknown).contains("no site has the key"),
        "{}",
        stderr(&unknown)
    );
    let list = earshot(&db, &["user", "list"]);
    assert_eq!(
        String::from_utf8_lossy(&list.stdout)
            .split_whitespace()
            .collect::<Vec<_>>(),
        ["ann@shop.example", "shop"]
    );

    let retention = earshot(&db, &["site", "retention", "shop", "--days", "90"]);
    assert!(retention.status.success(), "{}", stderr(&retention));
    assert!(
        stderr(&retention).contains("keeps 90 days"),
        "{}",
        stderr(&retention)
    );
    let neither = earshot(&db, &["site", "retention", "shop"]);
    assert!(!neither.status.success(), "--days or --forever is required");
    let erase = earshot(&db, &["erase", "ada@example.com"]);
    assert!(erase.status.success(), "{}", stderr(&erase));
    assert!(
        stderr(&erase).contains("Deleted 0 submission(s)"),
        "{}",
        stderr(&erase)
    );
}

/// `--database` on the command line wins over `EARSHOT_DATABASE_URL` in the environment (left
/// set after following the README's replicas section), and says so; both as flags is refused.
#[test]
fn a_database_flag_wins_over_a_url_in_the_environment() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("named.db");
    // Nothing listens there: using it would fail.
    let unreachable = "postgres://earshot:secret@127.0.0.1:9/earshot";
    let run = |args: &[&str]| {
        Command::new(env!("CARGO_BIN_EXE_earshot"))
            .args(args)
            .env_remove("EARSHOT_DATABASE")
            .env("EARSHOT_DATABASE_URL", unreachable)
            .output()
            .unwrap()
    };
    let db_arg = db.to_str().unwrap();
    let added = run(&[
        "--database",
        db_arg,
        "site",
        "add",
        "--name",
        "Shop",
        "--key",
        "shop",
        "--origin",
        "https://shop.example",
    ]);
    assert!(added.status.success(), "{}", stderr(&added));
    assert!(
        stderr(&added).contains("using the SQLite file")
            && stderr(&added).contains("EARSHOT_DATABASE_URL"),
        "says which database it uses: {}",
        stderr(&added)
    );
    // After the subcommand too.
    let listed = run(&["site", "list", "--database", db_arg]);
    assert!(listed.status.success(), "{}", stderr(&listed));
    assert!(String::from_utf8_lossy(&listed.stdout).contains("shop"));

    let both = run(&[
        "--database",
        db_arg,
        "--database-url",
        unreachable,
        "site",
        "list",
    ]);
    assert!(!both.status.success());
    assert!(stderr(&both).contains("give one"), "{}", stderr(&both));
}

/// `earshot site list` and `token list` line their columns up whatever the keys' and names'
/// lengths.
#[test]
fn listings_line_their_columns_up() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("earshot.db");
    for (key, name) in [
        ("abc", "A"),
        (
            "a-rather-long-site-key-of-thirty",
            "A name longer than twenty-four characters",
        ),
    ] {
        let out = earshot(
            &db,
            &[
                "site",
                "add",
                "--name",
                name,
                "--key",
                key,
                "--origin",
                "https://a.example",
            ],
        );
        assert!(out.status.success(), "{}", stderr(&out));
    }
    let list = String::from_utf8(earshot(&db, &["site", "list"]).stdout).unwrap();
    let lines: Vec<&str> = list.lines().collect();
    assert_eq!(lines.len(), 3, "{list}");
    // Each column starts where its header does: the feedback counts end under "feedback",
    // names and origins start under theirs.
    let feedback_end = lines[0].find("feedback").unwrap() + "feedback".len();
    let name_start = lines[0].find("name").unwrap();
    let origins_start = lines[0].find("origins").unwrap();
    for line in &lines[1..] {
        assert_eq!(&line[feedback_end - 1..feedback_end], "0", "{list}");
        assert_eq!(&line[name_start..=name_start], "A", "{list}");
        assert_eq!(
            &line[origins_start..origins_start + 8],
            "https://",
            "{list}"
        );
    }

    // Tokens likewise: the state column starts under its header.
    for name in ["api", "a token name longer than the twenty characters"] {
        let out = earshot(&db, &["token", "create", "--name", name]);
        assert!(out.status.success(), "{}", stderr(&out));
    }
    let tokens = String::from_utf8(earshot(&db, &["token", "list"]).stdout).unwrap();
    let lines: Vec<&str> = tokens.lines().collect();
    let state_start = lines[0].find("state").unwrap();
    for line in &lines[1..] {
        assert_eq!(&line[state_start..], "active", "{tokens}");
    }
}
