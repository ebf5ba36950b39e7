//! `onsite-server`: the sync server and its administration commands.

use std::net::SocketAddr;
use std::path::PathBuf;

use anyhow::{Context, Result};
use clap::{CommandFactory, FromArgMatches, Parser, Subcommand};
use onsite_server::storage::Store;
use onsite_server::storage::postgres::PgStore;
use onsite_server::storage::sqlite::SqliteStore;
use onsite_server::{accounts, demo, devices, import};
use onsite_shared::ids::{ConferenceId, DeviceId};

mod settings;

#[derive(Parser)]
#[command(
    name = "onsite-server",
    version,
    about = "Onsite sync server: authoritative seats, push/pull sync, head office"
)]
struct Cli {
    /// A TOML file of settings (the flags' names, `[serve]` for serve's): under the
    /// environment and the flags, over the defaults. See `config check`.
    #[arg(long, global = true, env = "ONSITE_CONFIG")]
    config: Option<PathBuf>,
    /// How the server logs: `text` for people, `json` for a log collector (one object a line,
    /// with the request's id on every line of a request).
    #[arg(long, global = true, env = "ONSITE_LOG_FORMAT", default_value = "text")]
    log_format: LogFormat,
    /// Where the embedded SQLite database lives.
    #[arg(
        long,
        global = true,
        env = "ONSITE_DATA_DIR",
        default_value = "onsite-data"
    )]
    data_dir: PathBuf,
    /// Use PostgreSQL instead of the embedded SQLite file (several servers may share it),
    /// e.g. `postgres://onsite@db.internal/onsite`.
    #[arg(long, global = true, env = "DATABASE_URL")]
    database_url: Option<String>,
    /// PostgreSQL: the most connections this process holds (the database's
    /// `max_connections` is shared by every server on it).
    #[arg(long, global = true, env = "ONSITE_DB_POOL_SIZE", default_value_t = 16)]
    db_pool_size: u32,
    /// PostgreSQL: how long a request waits for a free connection before it is answered 503.
    #[arg(
        long,
        global = true,
        env = "ONSITE_DB_POOL_WAIT_SECONDS",
        default_value_t = 5
    )]
    db_pool_wait_seconds: u64,
    #[command(subcommand)]
    command: Command,
}

#[derive(Clone, Copy, clap::ValueEnum)]
enum LogFormat {
    Text,
    Json,
}

#[derive(clap::Args, Clone)]
struct ServeArgs {
    /// Address to listen on; port 0 picks a free port (printed on start).
    #[arg(long, env = "ONSITE_LISTEN", default_value = "127.0.0.1:7300")]
    listen: SocketAddr,
    /// How long an online reservation holds its seats before it expires.
    #[arg(long, env = "ONSITE_RESERVATION_HOLD_SECONDS", default_value_t = 900)]
    reservation_hold_seconds: i64,
    /// How much longer the seats stay held after that before the order expires, so that
    /// a payment made at the last second still finds them; the buyer's countdown is the
    /// hold alone.
    #[arg(long, env = "ONSITE_RESERVATION_GRACE_SECONDS", default_value_t = 300)]
    reservation_grace_seconds: i64,
    /// Give exact remaining seat counts in the public conference read, not only
    /// "available / few left / sold out".
    #[arg(long, env = "ONSITE_PUBLIC_EXACT_AVAILABILITY")]
    public_exact_availability: bool,
    /// The secret the payment provider signs its webhooks with (HMAC-SHA-256); without
    /// it, `POST /v1/payments/webhook` is off and only head office confirms payments.
    #[arg(long, env = "ONSITE_PAYMENT_WEBHOOK_SECRET", hide_env_values = true)]
    payment_webhook_secret: Option<String>,
    /// How long a client may take to send a request's headers (an idle connection is
    /// closed after it), and how long a request's body may stall.
    #[arg(long, env = "ONSITE_CLIENT_TIMEOUT_SECONDS", default_value_t = 15)]
    client_timeout_seconds: u64,
    /// The token `GET /metrics` answers to (`Authorization: Bearer …`); without it,
    /// `/metrics` is off. Prefer the environment variable: a flag shows in `ps`.
    #[arg(long, env = "ONSITE_METRICS_TOKEN")]
    metrics_token: Option<String>,
    /// The address of a reverse proxy in front of the server (it terminates TLS): its
    /// `X-Forwarded-For` and `X-Forwarded-Proto` are believed, nobody else's. Repeat it, or
    /// separate addresses with commas.
    #[arg(long, env = "ONSITE_TRUSTED_PROXIES", value_delimiter = ',')]
    trusted_proxy: Vec<std::net::IpAddr>,
}

/// A venue relay's settings.
#[derive(clap::Args, Clone)]
struct RelayArgs {
    /// The upstream server's address, as desks reach it (`https://…`).
    #[arg(long, env = "ONSITE_UPSTREAM")]
    upstream: String,
    /// The relay's one-time enrolment code from head office; needed the first time only.
    #[arg(long, env = "ONSITE_RELAY_CODE", hide_env_values = true)]
    code: Option<String>,
    /// Address to listen on: the venue network's (every interface by default); port 0
    /// picks a free port (printed on start).
    #[arg(long, env = "ONSITE_LISTEN", default_value = "0.0.0.0:7300")]
    listen: SocketAddr,
    /// Do not announce the relay on the venue network (DNS-SD); desks then need its address.
    #[arg(long, env = "ONSITE_NO_ADVERTISE")]
    no_advertise: bool,
}

#[derive(Subcommand)]
enum ConfigCommand {
    /// Checks the settings `serve` would run with, and that the database can be reached.
    Check,
}

#[derive(Subcommand)]
enum Command {
    /// Runs the server.
    Serve(ServeArgs),
    /// Runs a venue relay: keeps its own SQLite store in the data directory, mirrors the
    /// conference's log from the upstream server, serves the venue's desks (push held at the
    /// venue, shared between desks at once, forwarded upstream on their behalf).
    Relay(RelayArgs),
    /// Asks a running server whether it is up (`GET /v1/health`), for a container's health
    /// check: exits 0 when it answers 200.
    Health {
        #[arg(long, default_value = "http://127.0.0.1:7300")]
        url: String,
    },
    /// The settings: `config check` reads them as `serve` would (flags, environment, the
    /// `--config` file), checks them and the database, and says what is wrong.
    Config {
        #[command(subcommand)]
        command: ConfigCommand,
    },
    /// Takes a consistent copy of the SQLite database while the server runs and serves
    /// (PostgreSQL: use `pg_dump`, see the README).
    Backup {
        /// The backup file to write; it must not exist.
        #[arg(long)]
        to: PathBuf,
    },
    /// Puts a backup back, the server stopped: the database as it was is kept beside it, and
    /// desks push again what the backup does not have. With PostgreSQL, restore with
    /// `pg_restore` first, then run `restore --new-epoch`.
    Restore {
        /// The backup file (SQLite).
        #[arg(
            long,
            required_unless_present = "new_epoch",
            conflicts_with = "new_epoch"
        )]
        from: Option<PathBuf>,
        /// Only tell desks that the database was restored (after `pg_restore`).
        #[arg(long)]
        new_epoch: bool,
    },
    /// Imports a desk's log written by `onsite-desk-cli export-log` (a laptop that never got
    /// network again): decided exactly as the desk's own pushes.
    ImportDeskLog { file: PathBuf },
    /// Imports a conference and its confirmed registrations (JSON), or registrations into an
    /// existing conference (CSV). Importing the same file twice changes nothing.
    Import {
        file: PathBuf,
        /// `json` or `csv`; by default from the file's extension.
        #[arg(long)]
        format: Option<String>,
        /// For CSV: the conference the registrations belong to.
        #[arg(long, env = "ONSITE_CONFERENCE")]
        conference: Option<ConferenceId>,
        /// For CSV: the name of the system the rows come from (part of each row's identity).
        #[arg(long, default_value = "csv")]
        source: String,
    },
    /// Creates the demo conference with generated attendees, two desks and a head-office
    /// token, and prints how to use them.
    Demo {
        #[arg(long, default_value_t = 3_000)]
        attendees: usize,
        #[arg(long, default_value_t = 2026)]
        seed: u64,
    },
    /// Desks: enrol, list, revoke.
    Device {
        #[command(subcommand)]
        command: DeviceCommand,
    },
    /// Head-office API tokens.
    AdminToken {
        #[command(subcommand)]
        command: AdminTokenCommand,
    },
    /// Head-office people who sign in to the dashboard.
    User {
        #[command(subcommand)]
        command: UserCommand,
    },
}

#[derive(Subcommand)]
enum UserCommand {
    /// Adds a person (or sets a new password for one, ending their sessions).
    Add {
        #[arg(long)]
        email: String,
        /// At least 12 characters. Prefer the environment variable: a flag shows in `ps`.
        #[arg(long, env = "ONSITE_PASSWORD", hide_env_values = true)]
        password: String,
        /// owner (everything), staff (read, decide conflicts, enrol desks) or viewer (read).
        #[arg(long, default_value = "owner", value_parser = ["owner", "staff", "viewer"])]
        role: String,
    },
}

#[derive(Subcommand)]
enum DeviceCommand {
    /// Registers a desk for a conference and prints its one-time enrolment code.
    Enroll {
        #[arg(long, env = "ONSITE_CONFERENCE")]
        conference: ConferenceId,
        /// A name staff recognise, e.g. "North door 1".
        #[arg(long)]
        name: String,
    },
    /// Lists desks with their last contact.
    List {
        #[arg(long, env = "ONSITE_CONFERENCE")]
        conference: Option<ConferenceId>,
    },
    /// Revokes a desk: its token stops working at once.
    Revoke { device: DeviceId },
    /// Registers a venue relay for a conference and prints its one-time enrolment code
    /// (for `onsite-server relay --code`).
    EnrollRelay {
        #[arg(long, env = "ONSITE_CONFERENCE")]
        conference: ConferenceId,
        /// A name head office recognises, e.g. "Main hall relay".
        #[arg(long)]
        name: String,
    },
    /// A new one-time code for an enrolled desk whose database was copied or restored
    /// (its pushes answer `sync.client_diverged`): it re-enrols as the same desk.
    Reenrol { device: DeviceId },
}

#[derive(Subcommand)]
enum AdminTokenCommand {
    /// Makes a head-office token and prints it (it is stored only as a hash).
    Create {
        #[arg(long)]
        name: String,
    },
    /// Lists the head-office tokens: id (the start of its hash), name, made, revoked.
    List,
    /// Revokes a head-office token by the id `list` shows: it stops working at once.
    Revoke { id: String },
}

fn open_sqlite(data_dir: &std::path::Path) -> Result<SqliteStore> {
    std::fs::create_dir_all(data_dir)
        .with_context(|| format!("creating {}", data_dir.display()))?;
    let path = data_dir.join("onsite.sqlite3");
    SqliteStore::open(&path).with_context(|| format!("opening {}", path.display()))
}

#[tokio::main]
async fn main() -> Result<()> {
    let args: Vec<String> = std::env::args().collect();
    let mut command = Cli::command();
    if let Some(path) = settings::file_named(&args) {
        command = settings::apply(command, settings::read(&path)?);
    }
    let cli = Cli::from_arg_matches(&command.clone().get_matches_from(&args))
        .unwrap_or_else(|e| e.exit());
    match &cli.command {
        Command::Config {
            command: ConfigCommand::Check,
        } => return config_check(&cli, command, &args),
        Command::Health { url } => return health(url),
        _ => {}
    }
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| "onsite_server=info,tower_http=warn".into());
    let logs = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr);
    match cli.log_format {
        LogFormat::Text => logs.init(),
        // The current span's fields (the request id) on every line, and its parents'.
        LogFormat::Json => logs
            .json()
            .with_current_span(true)
            .with_span_list(true)
            .init(),
    }
    if cli.database_url.is_none()
        && let Some(done) = file_command(&cli)?
    {
        println!("{done}");
        return Ok(());
    }
    if cli.database_url.is_some() && matches!(cli.command, Command::Relay(_)) {
        anyhow::bail!(
            "a relay keeps its own SQLite store in --data-dir; --database-url is the upstream server's"
        );
    }
    match cli.database_url.clone() {
        Some(url) => {
            // The PostgreSQL client blocks; keep it off the async threads.
            let limits = onsite_server::storage::postgres::PoolLimits {
                max_size: cli.db_pool_size,
                wait: std::time::Duration::from_secs(cli.db_pool_wait_seconds.max(1)),
            };
            let store = tokio::task::spawn_blocking(move || PgStore::open_with(&url, limits))
                .await?
                .context("opening the PostgreSQL database")?;
            run(cli, store).await
        }
        None => {
            // A server holds its data directory's lock while it serves (a restore takes it).
            let _serving = matches!(cli.command, Command::Serve(_) | Command::Relay(_))
                .then(|| onsite_server::backup::lock_data_dir(&cli.data_dir))
                .transpose()?;
            let store = open_sqlite(&cli.data_dir)?;
            run(cli, store).await
        }
    }
}

/// `health`: one plain HTTP/1.0 request to the server's health route (the image has no curl),
/// answered within 5 seconds with a 200.
fn health(url: &str) -> Result<()> {
    use std::io::{Read, Write};
    let rest = url
        .strip_prefix("http://")
        .context("health checks speak plain HTTP to the server itself: http://HOST:PORT")?;
    let authority = rest.split('/').next().unwrap_or(rest);
    let addr = std::net::ToSocketAddrs::to_socket_addrs(authority)
        .with_context(|| format!("no address for {authority}"))?
        .next()
        .with_context(|| format!("no address for {authority}"))?;
    let timeout = std::time::Duration::from_secs(5);
    let mut stream = std::net::TcpStream::connect_timeout(&addr, timeout)
        .with_context(|| format!("connecting to {addr}"))?;
    stream.set_read_timeout(Some(timeout))?;
    stream.set_write_timeout(Some(timeout))?;
    write!(
        stream,
        "GET /v1/health HTTP/1.0\r\nHost: {authority}\r\nConnection: close\r\n\r\n"
    )?;
    let mut answer = Vec::new();
    stream.take(64 * 1024).read_to_end(&mut answer)?;
    let status_line = String::from_utf8_lossy(&answer)
        .lines()
        .next()
        .unwrap_or_default()
        .to_owned();
    anyhow::ensure!(
        status_line.split_whitespace().nth(1) == Some("200"),
        "the server answered {status_line:?}"
    );
    println!("up: {status_line}");
    Ok(())
}

/// `config check`: the settings `serve` would run with (the same command line with `serve` in
/// place of `config check`), each checked, and the database reached; secrets never shown.
fn config_check(cli: &Cli, command: clap::Command, args: &[String]) -> Result<()> {
    let at = args
        .iter()
        .position(|a| a == "config")
        .context("`config check` on the command line")?;
    let mut as_serve: Vec<String> = args[..at].to_vec();
    as_serve.push("serve".into());
    let Command::Serve(serve) =
        Cli::from_arg_matches(&command.try_get_matches_from(&as_serve)?)?.command
    else {
        anyhow::bail!("reading the serve settings")
    };
    let mut problems = Vec::new();
    let mut say = |ok: bool, what: String| {
        println!("{} {what}", if ok { "ok     " } else { "PROBLEM" });
        if !ok {
            problems.push(what);
        }
    };
    if let Some(file) = &cli.config {
        say(true, format!("settings file {}", file.display()));
    }
    say(true, format!("listen on {}", serve.listen));
    say(
        serve.reservation_hold_seconds > 0,
        format!(
            "reservations hold seats {} s",
            serve.reservation_hold_seconds
        ),
    );
    say(
        serve.reservation_grace_seconds >= 0,
        format!(
            "and {} s more before orders expire",
            serve.reservation_grace_seconds
        ),
    );
    say(
        serve.client_timeout_seconds > 0,
        format!(
            "clients get {} s to send a request",
            serve.client_timeout_seconds
        ),
    );
    say(
        true,
        if serve.trusted_proxy.is_empty() {
            "no trusted proxy: forwarding headers are ignored".to_owned()
        } else {
            format!(
                "forwarding headers believed from {}",
                serve
                    .trusted_proxy
                    .iter()
                    .map(ToString::to_string)
                    .collect::<Vec<_>>()
                    .join(", ")
            )
        },
    );
    for (name, secret) in [
        ("metrics token", &serve.metrics_token),
        ("payment webhook secret", &serve.payment_webhook_secret),
    ] {
        match secret.as_deref().map(str::trim) {
            None | Some("") => say(true, format!("{name}: not set (off)")),
            Some(s) => say(
                s.len() >= 16,
                format!("{name}: set ({} characters; at least 16)", s.len()),
            ),
        }
    }
    match &cli.database_url {
        Some(url) => match onsite_server::storage::postgres::check(url) {
            Ok(what) => say(true, format!("PostgreSQL reached: {what}")),
            Err(e) => say(false, format!("PostgreSQL: {e}")),
        },
        None => {
            let dir = &cli.data_dir;
            let probe = dir.join(".onsite-config-check");
            let writable = std::fs::create_dir_all(dir)
                .and_then(|()| std::fs::write(&probe, b"check"))
                .and_then(|()| std::fs::remove_file(&probe));
            match writable {
                Ok(()) => say(true, format!("SQLite in {} (writable)", dir.display())),
                Err(e) => say(false, format!("SQLite in {}: {e}", dir.display())),
            }
        }
    }
    if problems.is_empty() {
        println!("the settings are good");
        Ok(())
    } else {
        anyhow::bail!("{} problem(s) in the settings", problems.len())
    }
}

/// The commands on the SQLite file itself, run without opening the store: a backup (beside a
/// running server) and a restore (the server stopped). `None`: not one of them.
fn file_command(cli: &Cli) -> Result<Option<String>> {
    use onsite_server::backup;
    let db = backup::database(&cli.data_dir);
    Ok(Some(match &cli.command {
        Command::Backup { to } => {
            let s = backup::backup(&db, to)?;
            format!(
                "backup of {} written to {}: {} events, {} bytes",
                db.display(),
                to.display(),
                s.events,
                s.bytes
            )
        }
        Command::Restore {
            from: Some(from), ..
        } => {
            let _lock = backup::lock_data_dir(&cli.data_dir)?;
            let s = backup::restore(&db, from, chrono::Utc::now())?;
            let kept = s
                .kept
                .map(|k| format!("; the database as it was is kept at {}", k.display()))
                .unwrap_or_default();
            format!(
                "{} restored from {}: {} events{kept}. Desks push again what it lacks at their next sync.",
                db.display(),
                from.display(),
                s.events
            )
        }
        Command::Restore { from: None, .. } => {
            anyhow::bail!(
                "--new-epoch is for PostgreSQL (with --database-url); SQLite restores with --from"
            )
        }
        _ => return Ok(None),
    }))
}

/// Binds `listen` and says where on standard output (tests and scripts read this line to
/// find the port).
async fn listen_on(listen: SocketAddr) -> Result<(tokio::net::TcpListener, SocketAddr)> {
    let listener = tokio::net::TcpListener::bind(listen)
        .await
        .with_context(|| format!("binding {listen}"))?;
    let addr = listener.local_addr()?;
    println!("listening on http://{addr}");
    Ok((listener, addr))
}

async fn run<S: Store>(cli: Cli, store: S) -> Result<()> {
    let now = chrono::Utc::now();
    match cli.command {
        Command::Config { .. } | Command::Health { .. } => {
            unreachable!("answered before the store is opened")
        }
        Command::Relay(RelayArgs {
            upstream,
            code,
            listen,
            no_advertise,
        }) => {
            let (listener, addr) = listen_on(listen).await?;
            tracing::info!(%addr, %upstream, "onsite-server relay started");
            onsite_server::relay::serve(
                listener,
                store,
                onsite_server::relay::Options {
                    upstream: &upstream,
                    code: code.as_deref(),
                    advertise: !no_advertise,
                },
                onsite_server::Config::default(),
                shutdown_signal(),
            )
            .await?;
        }
        Command::Serve(ServeArgs {
            listen,
            reservation_hold_seconds,
            reservation_grace_seconds,
            public_exact_availability,
            payment_webhook_secret,
            client_timeout_seconds,
            metrics_token,
            trusted_proxy,
        }) => {
            let (listener, addr) = listen_on(listen).await?;
            tracing::info!(%addr, "onsite-server started");
            let config = onsite_server::Config {
                reservation_hold: chrono::Duration::seconds(reservation_hold_seconds),
                reservation_grace: chrono::Duration::seconds(reservation_grace_seconds.max(0)),
                public_exact_availability,
                payment_webhook_secret: payment_webhook_secret.filter(|s| !s.is_empty()),
                client_timeout: std::time::Duration::from_secs(client_timeout_seconds.max(1)),
                metrics_token: metrics_token.filter(|t| !t.trim().is_empty()),
                trusted_proxies: trusted_proxy,
            };
            onsite_server::serve(listener, store, config, shutdown_signal()).await?;
        }
        Command::Backup { .. } => anyhow::bail!(
            "a PostgreSQL database is backed up with pg_dump (see the README), not by the server"
        ),
        Command::Restore { new_epoch, .. } => {
            anyhow::ensure!(
                new_epoch,
                "a PostgreSQL database is restored with pg_restore, then `restore --new-epoch`"
            );
            store.write(onsite_server::backup::new_epoch).await?;
            println!(
                "the database's epoch is new: desks pull again from the start and push what it lacks"
            );
        }
        Command::ImportDeskLog { file } => {
            let text = std::fs::read_to_string(&file)
                .with_context(|| format!("reading {}", file.display()))?;
            let log: onsite_shared::protocol::DeskLog = serde_json::from_str(&text)
                .with_context(|| format!("{} is not a desk's log", file.display()))?;
            let device = log.device;
            let i = onsite_server::desk_log::import(&store, log, now).await?;
            if i.revoked {
                eprintln!("note: desk {device} is revoked; its events were imported all the same");
            }
            println!(
                "desk {device}: {} events: {} accepted, {} compensated, {} rejected, {} on the server already",
                i.events, i.accepted, i.compensated, i.rejected, i.already
            );
        }
        Command::Device { command } => match command {
            DeviceCommand::Enroll { conference, name } => {
                let e = store
                    .write(move |tx| devices::enroll(tx, conference, &name, now))
                    .await?;
                println!(
                    "device {}\nenrolment code {} (valid until {})",
                    e.device_id, e.code, e.expires_at
                );
            }
            DeviceCommand::List { conference } => {
                let rows = store.read(move |tx| devices::list(tx, conference)).await?;
                println!("{}", serde_json::to_string_pretty(&rows)?);
            }
            DeviceCommand::Reenrol { device } => {
                let e = store
                    .write(move |tx| devices::reenroll(tx, device, now))
                    .await?;
                println!(
                    "device {}\nre-enrolment code {} (valid until {})",
                    e.device_id, e.code, e.expires_at
                );
            }
            DeviceCommand::Revoke { device } => {
                store
                    .write(move |tx| devices::revoke(tx, device, now))
                    .await?;
                println!("device {device} revoked");
            }
            DeviceCommand::EnrollRelay { conference, name } => {
                let e = store
                    .write(move |tx| {
                        onsite_server::relay::registry::enroll(tx, conference, &name, now)
                    })
                    .await?;
                println!(
                    "relay {}\nenrolment code {} (valid until {})",
                    e.device_id, e.code, e.expires_at
                );
            }
        },
        Command::Import {
            file,
            format,
            conference,
            source,
        } => {
            let format = format
                .or_else(|| {
                    file.extension()
                        .and_then(|e| e.to_str())
                        .map(str::to_lowercase)
                })
                .unwrap_or_else(|| "json".to_owned());
            let text = std::fs::read_to_string(&file)
                .with_context(|| format!("reading {}", file.display()))?;
            match format.as_str() {
                "json" => {
                    let data: import::ImportFile =
                        serde_json::from_str(&text).with_context(|| {
                            format!("{} is not a valid import file", file.display())
                        })?;
                    let (id, new) =
                        import_file(&store, data, &file.display().to_string(), now).await?;
                    println!("conference {id}: {new} registrations imported");
                }
                "csv" => {
                    let conference = conference.context("a CSV import needs --conference")?;
                    let registrations = import::parse_csv(&text).map_err(|e| {
                        anyhow::anyhow!("{} is not a valid registrations CSV: {e}", file.display())
                    })?;
                    let run = import::ImportRun {
                        conference,
                        source,
                        file: file.display().to_string(),
                        actor: None,
                    };
                    let new = import_registrations(&store, run, registrations, now).await?;
                    println!("conference {conference}: {new} registrations imported");
                }
                other => anyhow::bail!("unknown import format {other:?}: use json or csv"),
            }
        }
        Command::Demo { attendees, seed } => {
            let data = demo::demo_file(attendees, seed);
            let (id, new) = import_file(&store, data, "the demo", now).await?;
            let token = store
                .write(move |tx| devices::create_admin_token(tx, "demo head office", now))
                .await?;
            let north = store
                .write(move |tx| devices::enroll(tx, id, "North door", now))
                .await?;
            let south = store
                .write(move |tx| devices::enroll(tx, id, "South door", now))
                .await?;
            println!("demo conference {id}: {new} registrations imported");
            println!("head-office token: {token}");
            // A person for the dashboard, with a fresh password each run.
            let password = devices::new_token("")?[..20].to_owned();
            let hashed = accounts::hash_password(&password)?;
            let email = store
                .write(move |tx| accounts::set_user(tx, "office@demo.example", &hashed, now))
                .await?;
            println!("dashboard: sign in as {email} with password {password}");
            println!("desk \"North door\" enrolment code: {}", north.code);
            println!("desk \"South door\" enrolment code: {}", south.code);
        }
        Command::User {
            command:
                UserCommand::Add {
                    email,
                    password,
                    role,
                },
        } => {
            let role = accounts::Role::parse(&role).context("a role")?;
            let hashed = accounts::hash_password(&password)?;
            let email = store
                .write(move |tx| {
                    let email = accounts::set_user(tx, &email, &hashed, now)?;
                    accounts::set_role(tx, &email, role)?;
                    Ok::<_, accounts::AccountError>(email)
                })
                .await?;
            println!("{email} can sign in to the dashboard as {}", role.as_str());
        }
        Command::AdminToken { command } => match command {
            AdminTokenCommand::Create { name } => {
                let token = store
                    .write(move |tx| devices::create_admin_token(tx, &name, now))
                    .await?;
                println!("{token}");
            }
            AdminTokenCommand::List => {
                let rows = store.read(devices::admin_tokens).await?;
                println!("{}", serde_json::to_string_pretty(&rows)?);
            }
            AdminTokenCommand::Revoke { id } => {
                let shown = id.clone();
                store
                    .write(move |tx| devices::revoke_admin_token(tx, &id, now))
                    .await
                    .with_context(|| format!("no single head-office token has the id {shown}"))?;
                println!("head-office token {shown} revoked");
            }
        },
    }
    Ok(())
}

/// Imports a JSON file: the conference first, then the registrations in batches.
async fn import_file<S: Store>(
    store: &S,
    data: import::ImportFile,
    file: &str,
    now: chrono::DateTime<chrono::Utc>,
) -> Result<(ConferenceId, usize)> {
    let slug = data.conference.new.details.slug.clone();
    let given = data.conference.new.id;
    let id = match given {
        Some(id) => id,
        None => store
            .read(move |tx| onsite_server::admin::conference_by_slug(tx, &slug))
            .await?
            .unwrap_or_else(|| ConferenceId::from_uuid(uuid::Uuid::now_v7())),
    };
    let header = import::ImportFile {
        registrations: Vec::new(),
        ..data.clone()
    };
    store
        .write(move |tx| {
            let mut rec = onsite_server::recorder::Recorder::new(tx, id, now);
            import::ensure_conference(&mut rec, &header)
        })
        .await
        .map_err(|e| anyhow::anyhow!("{e}"))?;
    let run = import::ImportRun {
        conference: id,
        source: data.source,
        file: file.to_owned(),
        actor: None,
    };
    let new = import_registrations(store, run, data.registrations, now).await?;
    Ok((id, new))
}

/// Imports registrations in transactions of 100, with a progress bar.
async fn import_registrations<S: Store>(
    store: &S,
    run: import::ImportRun,
    registrations: Vec<import::ImportRegistration>,
    now: chrono::DateTime<chrono::Utc>,
) -> Result<usize> {
    let progress = indicatif::ProgressBar::new(registrations.len() as u64);
    progress.set_style(
        indicatif::ProgressStyle::with_template("{msg} [{bar:40}] {pos}/{len} ({eta})")
            .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar())
            .progress_chars("=> "),
    );
    progress.set_message("importing registrations");
    let imported =
        import::import_registrations(store, run, registrations, now, |n| progress.inc(n as u64))
            .await;
    let new = match imported {
        Ok(new) => new,
        Err(import::ImportError::Problems(problems)) => {
            let shown: Vec<&str> = problems.iter().take(20).map(String::as_str).collect();
            anyhow::bail!(
                "the import was refused and nothing was imported; {} problem(s):\n  {}{}",
                problems.len(),
                shown.join("\n  "),
                if problems.len() > shown.len() {
                    "\n  …"
                } else {
                    ""
                }
            );
        }
        Err(e) => anyhow::bail!("{e}"),
    };
    progress.finish_with_message("imported");
    Ok(new)
}

async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let terminate = async {
        if let Ok(mut s) = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())
        {
            s.recv().await;
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {},
        () = terminate => {},
    }
}
