//! `earshot`: the collector's command line.

use std::fs::File;
use std::io::{self, BufWriter, IsTerminal, Write};
use std::num::NonZeroU32;
use std::process::ExitCode;
use std::time::Duration;

use actix_web::HttpServer;
use earshot_collector::cli::{
    Cli, Command, DEFAULT_LISTEN, DEFAULT_PUBLIC_URL, ExportArgs, ServeArgs, SiteCommand,
    TokenCommand, UserCommand,
};
use earshot_collector::rate_limit::{RateLimitConfig, RateLimits};
use earshot_collector::workers::{WorkerSettings, Workers};
use earshot_collector::{AppState, Store, accounts, app, export, owner, store};
use earshot_shared::limits::SETTINGS_MAX_AGE_SECS;
use earshot_shared::{RatingKind, Theme, limits};
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use tracing_subscriber::EnvFilter;

fn main() -> ExitCode {
    tracing_subscriber::fmt()
        .with_env_filter(
            EnvFilter::try_from_env("EARSHOT_LOG").unwrap_or_else(|_| EnvFilter::new("info")),
        )
        .with_writer(io::stderr)
        // Colours only for a person at a terminal: in a log file or the journal the escape
        // codes would be a third of every line.
        .with_ansi(io::stderr().is_terminal())
        .init();
    let cli = Cli::parse_noting_sources();
    let result = match cli.command {
        Command::Serve(ref args) => serve(&cli, args),
        Command::Site(ref command) => site(&cli, command),
        Command::Token(ref command) => token(&cli, command),
        Command::Export(ref args) => export(&cli, args),
        Command::User(ref command) => user(&cli, command),
        Command::Backup { ref output } => backup(&cli, output),
        Command::Copy { ref to, resume } => copy(&cli, to, resume),
        Command::Erase {
            ref email,
            ref site,
        } => erase(&cli, email, site.as_deref()),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            eprintln!("earshot: {err}");
            ExitCode::FAILURE
        }
    }
}

/// How long `earshot serve` lets requests in flight finish after SIGTERM or SIGINT.
const SHUTDOWN_GRACE_SECS: u64 = 30;

type CliResult = Result<(), Box<dyn std::error::Error>>;

fn serve(cli: &Cli, args: &ServeArgs) -> CliResult {
    // Tests of deadlines move the clock ahead instead of waiting for days; only a debug
    // build listens (a release binary, as deployed, never moves its clock).
    if cfg!(debug_assertions)
        && let Some(ahead) = std::env::var("EARSHOT_CLOCK_AHEAD_SECS")
            .ok()
            .and_then(|secs| secs.parse::<i64>().ok())
    {
        earshot_collector::store::clock::move_clock_ahead(ahead * 1000);
        tracing::warn!(
            seconds = ahead,
            "the clock is moved ahead (EARSHOT_CLOCK_AHEAD_SECS, for tests only)"
        );
    }
    let location = cli.location()?;
    let store = Store::open_at(&location, args.sync)?;
    let rate_limits = RateLimits::new(RateLimitConfig {
        per_visitor: NonZeroU32::new(args.rate_limit_visitor),
        per_site: NonZeroU32::new(args.rate_limit_site),
        window: Duration::from_secs(limits::RATE_WINDOW_SECS),
    });
    let webhook_reach = if args.allow_private_webhooks {
        earshot_collector::webhooks::Reach::Anywhere
    } else {
        earshot_collector::webhooks::Reach::PublicOnly
    };
    let logins = earshot_collector::logins::LoginLimits::default();
    let assets =
        earshot_collector::assets::Assets::choose(args.www_dir.clone(), args.widget_dir.clone());
    let mail = match (&args.smtp_url, &args.mail_from) {
        (Some(url), Some(from)) if !url.trim().is_empty() => {
            let mailer = earshot_collector::mail::Mailer::new(
                url,
                from,
                &reachable_base(&cli.public_url, &args.listen),
            )?;
            tracing::info!(server = mailer.server(), from = %mailer.from_address(), "email is sent through SMTP");
            let mailer = match &args.inbound_address {
                Some(address) if !address.trim().is_empty() => {
                    mailer.with_reply_address(address)?
                }
                _ => mailer,
            };
            Some(std::sync::Arc::new(mailer))
        }
        _ => {
            tracing::warn!(
                "no --smtp-url: replies to visitors wait in the outbox until email is set up"
            );
            None
        }
    };
    let state = AppState {
        store,
        metrics: Default::default(),
        sites: Default::default(),
        rate_limits,
        assets: assets.clone(),
        logins,
        passwords: Default::default(),
        trusted_proxies: args.trusted_proxies.clone(),
        timeouts: earshot_collector::state::Timeouts {
            request: Duration::from_secs(args.request_timeout),
            export_idle: Duration::from_secs(args.export_idle_timeout),
        },
        webhook_reach,
        metrics_token: args.metrics_token.clone().filter(|token| !token.is_empty()),
        setup: Default::default(),
        mail,
        conversations: Default::default(),
        inbound: earshot_collector::inbound::InboundSettings {
            address: match args.inbound_address.as_deref().map(str::trim) {
                Some(address) if !address.is_empty() => Some(address.parse().map_err(|err| {
                    format!("--inbound-address {address:?} is not an email address: {err}")
                })?),
                _ => None,
            },
            mail_from: args.mail_from.clone(),
            secret: args
                .inbound_secret
                .clone()
                .filter(|secret| !secret.is_empty()),
        },
        mail_bell: Default::default(),
    };
    // The first run: no owner yet, so the log carries a one-time link to create one.
    if !state.store.read(|db| db.has_users())? {
        let token = state.setup.arm();
        tracing::info!(
            "no owner account yet: open {}/admin/setup?token={token} within an hour to create it and your first site (or run `earshot user add`)",
            reachable_base(&cli.public_url, &args.listen)
        );
    }
    if !assets.has_widget() {
        tracing::warn!(
            "no built widget in {}: build it with `cargo xtask serve` (or `cargo xtask dist`), or point --widget-dir at one",
            assets.describe_widget()
        );
    }
    tracing::info!(listen = %args.listen, database = %location.describe(), files = %assets.describe(), "earshot collector starting");
    let workers = Workers::start(
        &state,
        WorkerSettings {
            webhook_retry: Duration::from_secs(args.webhook_retry_secs.max(1)),
            webhook_reach,
            mail_retry: Duration::from_secs(args.mail_retry_secs),
            retention_every: Duration::from_secs(args.retention_interval_secs),
        },
    )?;
    let (imap_store, imap_settings, imap_bell) = (
        state.store.clone(),
        state.inbound.clone(),
        state.mail_bell.clone(),
    );
    let mut server = HttpServer::new(move || app::build_app(state.clone()))
        // Slow headers are answered with a JSON 408 by `slow_headers`; actix-web's own cut-off
        // stays behind it as a backstop.
        .on_connect(earshot_collector::slow_headers::on_connect)
        .client_request_timeout(earshot_collector::slow_headers::BACKSTOP_TIMEOUT)
        // On SIGTERM or SIGINT: stop accepting, let requests in flight finish (their
        // submissions are committed before they are answered), then stop.
        .shutdown_timeout(SHUTDOWN_GRACE_SECS)
        .bind(args.listen)?;
    if let Some(workers) = args.workers {
        server = server.workers(workers);
    }
    if args.inbound_address.is_some() && args.imap_url.is_none() && args.inbound_secret.is_none() {
        tracing::warn!(
            "--inbound-address without --imap-url or --inbound-secret: replies by email reach the mailbox, not the conversations"
        );
    }
    if let Some(url) = args
        .imap_url
        .as_deref()
        .filter(|url| !url.trim().is_empty())
    {
        let url = earshot_collector::inbound::imap::ImapUrl::parse(url)?;
        tracing::info!(mailbox = %url.describe(), "replies by email are taken from IMAP");
        earshot_collector::inbound::imap::start(earshot_collector::inbound::imap::Watcher {
            store: imap_store,
            settings: imap_settings,
            bell: imap_bell,
            url,
        })?;
    }
    let served = actix_web::rt::System::new().block_on(server.run());
    tracing::info!("stopping: letting background work finish");
    workers.stop();
    served?;
    tracing::info!("stopped");
    Ok(())
}

/// Where the owner's browser reaches this collector: `--public-url` when it was set, else the
/// listen address (the default public URL names the default port, which `--listen` may have
/// changed).
fn reachable_base(public_url: &str, listen: &std::net::SocketAddr) -> String {
    let public_url = public_url.trim_end_matches('/');
    if public_url == DEFAULT_PUBLIC_URL && listen.to_string() != DEFAULT_LISTEN {
        format!("http://{listen}")
    } else {
        public_url.to_owned()
    }
}

fn copy(cli: &Cli, to: &str, resume: bool) -> CliResult {
    let from = cli.location()?;
    let to = if to.starts_with("postgres://") || to.starts_with("postgresql://") {
        store::Location::Postgres(to.to_owned())
    } else {
        store::Location::Sqlite(to.strip_prefix("sqlite://").unwrap_or(to).into())
    };
    eprintln!("Copying {} to {}", from.describe(), to.describe());
    // A collector still writing to the source: what it writes during the copy is missed.
    if let Some(writer) = store::copy::live_writer(&from)? {
        eprintln!(
            "earshot: warning: {writer}. Stop every collector before copying, or what it writes meanwhile is missed; then run the same command with --resume to copy the rest."
        );
    }
    let started = std::time::Instant::now();
    // A bar per table for a person watching; scripts get the summary only.
    let watching = io::stderr().is_terminal();
    let mut bar: Option<(String, ProgressBar)> = None;
    let report = store::copy::copy(&from, &to, resume, &mut |table, copied, total| {
        if !watching {
            return;
        }
        if bar.as_ref().is_none_or(|(name, _)| name != table) {
            if let Some((_, done)) = bar.take() {
                done.finish();
            }
            let fresh = ProgressBar::with_draw_target(Some(total), ProgressDrawTarget::stderr());
            fresh.set_style(
                ProgressStyle::with_template(&format!(
                    "{table:<20} {{bar:30}} {{pos}}/{{len}} rows ({{per_sec}}, {{eta}} left)"
                ))
                .expect("a valid progress template"),
            );
            bar = Some((table.to_owned(), fresh));
        }
        if let Some((_, current)) = &bar {
            current.set_position(copied);
        }
    })
    .map_err(|err| match err {
        // Refused before anything was written (the same database, a target not empty...).
        store::StoreError::Copy(_) => err.to_string(),
        err => format!(
            "{err}\nThe copy stopped; the target keeps what it holds. Run the same command with --resume to go on."
        ),
    })?;
    if let Some((_, done)) = bar.take() {
        done.finish();
    }
    let seconds = started.elapsed().as_secs_f64();
    let rows: u64 = report.tables.iter().map(|(_, from, _)| from).sum();
    let mut out = io::stderr().lock();
    writeln!(out, "{:<20} {:>10} {:>10}", "table", "source", "target")?;
    for (table, source, target) in &report.tables {
        writeln!(out, "{table:<20} {source:>10} {target:>10}")?;
    }
    writeln!(
        out,
        "{rows} rows in {seconds:.1} s ({:.0} rows/s)",
        rows as f64 / seconds.max(0.001)
    )?;
    if !report.source_changed.is_empty() {
        let changed: Vec<String> = report
            .source_changed
            .iter()
            .map(|(table, then, now)| format!("{table} {then} → {now}"))
            .collect();
        return Err(format!(
            "the source changed while it was copied ({}): a collector is still writing to it. Stop every collector, then run the same command with --resume to copy the rest.",
            changed.join(", ")
        )
        .into());
    }
    if !report.complete() {
        return Err("the target does not hold every row of the source: run the same command with --resume to copy the rest".into());
    }
    Ok(())
}

fn backup(cli: &Cli, output: &std::path::Path) -> CliResult {
    let store::Location::Sqlite(database) = cli.location()? else {
        return Err(
            "earshot backup copies a SQLite database; for PostgreSQL use pg_dump \
                    (see the README, \"Backups and moving between engines\")"
                .into(),
        );
    };
    if !database.exists() {
        return Err(format!("{} does not exist", database.display()).into());
    }
    let started = std::time::Instant::now();
    let report = store::sqlite::backup(&database, output)?;
    if report.integrity != "ok" {
        return Err(format!(
            "the copy in {} failed its integrity check: {}",
            output.display(),
            report.integrity
        )
        .into());
    }
    println!(
        "{}: {} submissions, {} sites, {:.1} MB, integrity ok, in {:.1} s",
        output.display(),
        report.submissions,
        report.sites,
        report.bytes as f64 / 1_000_000.0,
        started.elapsed().as_secs_f64()
    );
    Ok(())
}

fn erase(cli: &Cli, email: &str, site: Option<&str>) -> CliResult {
    let mut conn = cli.location()?.connect()?;
    if let Some(site) = site {
        conn.site(site)?
            .ok_or_else(|| store::StoreError::UnknownSite(site.into()))?;
    }
    let deleted = owner::erase(&mut *conn, email, &|key| {
        site.is_none_or(|site| site == key)
    })?;
    eprintln!("Deleted {deleted} submission(s) left with {email}.");
    Ok(())
}

fn user(cli: &Cli, command: &UserCommand) -> CliResult {
    let mut conn = cli.location()?.connect()?;
    match command {
        UserCommand::Add {
            email,
            sites,
            password_stdin,
        } => {
            earshot_shared::feedback::validate_email(email.trim())
                .map_err(|err| format!("{email:?}: {err}"))?;
            let password = if *password_stdin {
                let mut line = String::new();
                io::stdin().read_line(&mut line)?;
                line.trim_end_matches(['\r', '\n']).to_owned()
            } else {
                let first = rpassword::prompt_password(format!("Password for {email}: "))?;
                let again = rpassword::prompt_password("Again: ")?;
                if first != again {
                    return Err("the two passwords differ".into());
                }
                first
            };
            if password.chars().count() < accounts::MIN_PASSWORD_CHARS {
                return Err(format!(
                    "a password has at least {} characters",
                    accounts::MIN_PASSWORD_CHARS
                )
                .into());
            }
            let hash = accounts::hash_password(&password);
            let scope = (!sites.is_empty()).then_some(sites.as_slice());
            let user = accounts::add_user(&mut *conn, email, &hash, scope)?;
            eprintln!(
                "Added {} ({}). Sign in at {}/admin",
                user.email,
                match &user.sites {
                    None => "every site".to_owned(),
                    Some(sites) => format!("sites: {}", sites.join(", ")),
                },
                cli.public_url.trim_end_matches('/')
            );
        }
        UserCommand::List => {
            let mut out = io::stdout().lock();
            for user in conn.users()? {
                let sites = user.sites.map_or("every site".to_owned(), |s| s.join(" "));
                writeln!(out, "{:<32} {sites}", user.email)?;
            }
        }
    }
    Ok(())
}

fn site(cli: &Cli, command: &SiteCommand) -> CliResult {
    let mut conn = cli.location()?.connect()?;
    match command {
        SiteCommand::Add { name, origins, key } => {
            let site = owner::add_site(&mut *conn, name, origins, key.as_deref())?;
            eprintln!(
                "Added site {:?} ({}), accepting feedback from {}.",
                site.name,
                site.key,
                site.origins.join(", ")
            );
            eprintln!("Paste this into every page that should show the widget:\n");
            println!("{}", owner::snippet(&cli.public_url, &site.key));
        }
        SiteCommand::List => {
            let mut rows = vec![[
                "key".to_owned(),
                "feedback".to_owned(),
                "name".to_owned(),
                "origins".to_owned(),
            ]];
            for site in conn.sites()? {
                let count = conn.feedback_count(site.key.as_str())?;
                rows.push([
                    site.key.to_string(),
                    count.to_string(),
                    site.name.clone(),
                    site.origins.join(" "),
                ]);
            }
            write_columns(
                &mut io::stdout().lock(),
                &rows,
                &[false, true, false, false],
            )?;
        }
        SiteCommand::Retention { key, days, .. } => {
            let deleted = owner::set_retention(&mut *conn, key, *days)?;
            match days {
                Some(days) => eprintln!(
                    "Site {key} keeps {days} days of feedback; {deleted} older submission(s) deleted now, the rest as they age (hourly)."
                ),
                None => eprintln!("Site {key} keeps its feedback forever."),
            }
        }
        SiteCommand::Widget {
            key,
            rating,
            color,
            theme,
            lang,
            prompt,
            screenshots,
        } => {
            let site = conn
                .site(key)?
                .ok_or_else(|| store::StoreError::UnknownSite(key.clone()))?;
            let mut settings = site.widget;
            if let Some(rating) = rating {
                settings.rating = match rating.trim() {
                    "" => None,
                    kind => Some(
                        RatingKind::parse(kind)
                            .ok_or("--rating is one of stars, thumbs, nps, emoji")?,
                    ),
                };
            }
            if let Some(theme) = theme {
                settings.theme =
                    Theme::parse(theme).ok_or("--theme is one of auto, light, dark")?;
            }
            // An empty value clears the setting, so the built-in default applies again.
            let optional = |value: &Option<String>, current: Option<String>| match value {
                Some(value) if value.trim().is_empty() => None,
                Some(value) => Some(value.trim().to_owned()),
                None => current,
            };
            settings.color = optional(color, settings.color);
            settings.lang = optional(lang, settings.lang);
            settings.prompt = optional(prompt, settings.prompt);
            if let Some(screenshots) = screenshots {
                settings.screenshots = screenshots == "on";
            }
            let any_change = [rating, color, theme, lang, prompt, screenshots]
                .iter()
                .any(|value| value.is_some());
            if any_change {
                owner::save_widget(&mut *conn, key, &settings).map_err(|err| format!("--{err}"))?;
                eprintln!(
                    "Saved. Visitors see the change within {SETTINGS_MAX_AGE_SECS} seconds (browser cache)."
                );
            }
            println!("{}", serde_json::to_string_pretty(&settings)?);
        }
    }
    Ok(())
}

/// Writes rows as columns two spaces apart, each as wide as its widest cell (counted in
/// characters), right-aligned where `right` says; the last column is not padded.
fn write_columns<const N: usize>(
    out: &mut impl Write,
    rows: &[[String; N]],
    right: &[bool; N],
) -> io::Result<()> {
    let mut widths = [0; N];
    for row in rows {
        for (width, cell) in widths.iter_mut().zip(row) {
            *width = (*width).max(cell.chars().count());
        }
    }
    for row in rows {
        let mut line = String::new();
        for (column, cell) in row.iter().enumerate() {
            let pad = " ".repeat(widths[column] - cell.chars().count());
            if column > 0 {
                line.push_str("  ");
            }
            if right[column] {
                line.push_str(&pad);
                line.push_str(cell);
            } else {
                line.push_str(cell);
                if column + 1 < N {
                    line.push_str(&pad);
                }
            }
        }
        writeln!(out, "{}", line.trim_end())?;
    }
    Ok(())
}

fn token(cli: &Cli, command: &TokenCommand) -> CliResult {
    let mut conn = cli.location()?.connect()?;
    match command {
        TokenCommand::Create { name, site } => {
            let (id, token) = owner::create_token(&mut *conn, name, site.as_deref())?;
            let scope = site
                .as_deref()
                .map_or("every site".to_owned(), |site| format!("site {site}"));
            eprintln!("Created token {id} ({name}) for {scope}. It is shown only this once:\n");
            println!("{token}");
        }
        TokenCommand::List => {
            let mut rows = vec![[
                "id".to_owned(),
                "name".to_owned(),
                "site".to_owned(),
                "state".to_owned(),
            ]];
            for token in conn.tokens()? {
                let state = if token.revoked { "revoked" } else { "active" };
                rows.push([
                    token.id.to_string(),
                    token.name,
                    token.site.unwrap_or_else(|| "*".to_owned()),
                    state.to_owned(),
                ]);
            }
            write_columns(
                &mut io::stdout().lock(),
                &rows,
                &[true, false, false, false],
            )?;
        }
        TokenCommand::Revoke { id } => {
            if !owner::revoke_token(&mut *conn, *id, None)? {
                return Err(store::StoreError::UnknownToken(*id).into());
            }
            eprintln!("Revoked token {id}.");
        }
    }
    Ok(())
}

fn export(cli: &Cli, args: &ExportArgs) -> CliResult {
    let mut conn = cli.location()?.connect()?;
    if conn.site(&args.site)?.is_none() {
        return Err(format!(
            "no site has the key {:?} (see `earshot site list`)",
            args.site
        )
        .into());
    }
    let query = args.query();
    let shape = export::Shape {
        format: args.format,
        threads: query.threads(args.format),
    };
    let filter = query.into_filter()?;
    // A progress bar only for a person watching; scripts and pipes get only the data.
    let progress = if io::stderr().is_terminal() {
        let total = conn.count_feedback(&args.site, &filter)?;
        let bar = ProgressBar::with_draw_target(Some(total), ProgressDrawTarget::stderr());
        bar.set_style(
            ProgressStyle::with_template(
                "{bar:40} {pos}/{len} submissions ({per_sec}, {eta} left)",
            )
            .expect("a valid progress template"),
        );
        bar
    } else {
        ProgressBar::hidden()
    };
    let tick = || progress.inc(1);
    let rows = match &args.output {
        Some(path) => {
            let mut file = BufWriter::new(File::create(path)?);
            let rows = export::write_export(
                &mut *conn,
                &args.site,
                &filter,
                shape,
                &cli.public_url,
                &mut file,
                tick,
            )?;
            file.flush()?;
            file.into_inner()
                .map_err(|err| err.into_error())?
                .sync_all()?;
            rows
        }
        None => {
            let stdout = BufWriter::new(io::stdout().lock());
            export::write_export(
                &mut *conn,
                &args.site,
                &filter,
                shape,
                &cli.public_url,
                stdout,
                tick,
            )?
        }
    };
    progress.finish_and_clear();
    if let Some(path) = &args.output {
        eprintln!("Wrote {rows} submissions to {}.", path.display());
    }
    Ok(())
}
