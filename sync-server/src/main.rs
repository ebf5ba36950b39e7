//! `onsite-server`: the sync server and its administration commands.

use std::net::SocketAddr;
use std::path::PathBuf;

use anyhow::{Context, Result};
use clap::{Parser, Subcommand};
use onsite_server::devices;
use onsite_server::storage::Store;
use onsite_server::storage::postgres::PgStore;
use onsite_server::storage::sqlite::SqliteStore;
use onsite_shared::ids::{ConferenceId, DeviceId};

#[derive(Parser)]
#[command(
    name = "onsite-server",
    version,
    about = "Onsite sync server: authoritative seats, push/pull sync, head office"
)]
struct Cli {
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
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Runs the server.
    Serve {
        /// Address to listen on; port 0 picks a free port (printed on start).
        #[arg(long, env = "ONSITE_LISTEN", default_value = "127.0.0.1:7300")]
        listen: SocketAddr,
        /// How long an online reservation holds its seats before it expires.
        #[arg(long, env = "ONSITE_RESERVATION_HOLD_SECONDS", default_value_t = 900)]
        reservation_hold_seconds: i64,
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
}

#[derive(Subcommand)]
enum AdminTokenCommand {
    /// Makes a head-office token and prints it (it is stored only as a hash).
    Create {
        #[arg(long)]
        name: String,
    },
}

fn open_sqlite(data_dir: &std::path::Path) -> Result<SqliteStore> {
    std::fs::create_dir_all(data_dir)
        .with_context(|| format!("creating {}", data_dir.display()))?;
    let path = data_dir.join("onsite.sqlite3");
    SqliteStore::open(&path).with_context(|| format!("opening {}", path.display()))
}

#[tokio::main]
async fn main() -> Result<()> {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| "onsite_server=info,tower_http=warn".into()),
        )
        .with_writer(std::io::stderr)
        .init();
    let cli = Cli::parse();
    match cli.database_url.clone() {
        Some(url) => {
            // The PostgreSQL client blocks; keep it off the async threads.
            let store = tokio::task::spawn_blocking(move || PgStore::open(&url))
                .await?
                .context("opening the PostgreSQL database")?;
            run(cli, store).await
        }
        None => {
            let store = open_sqlite(&cli.data_dir)?;
            run(cli, store).await
        }
    }
}

async fn run<S: Store>(cli: Cli, store: S) -> Result<()> {
    let now = chrono::Utc::now();
    match cli.command {
        Command::Serve {
            listen,
            reservation_hold_seconds,
        } => {
            let listener = tokio::net::TcpListener::bind(listen)
                .await
                .with_context(|| format!("binding {listen}"))?;
            let addr = listener.local_addr()?;
            // Tests and scripts read this line to find the port.
            println!("listening on http://{addr}");
            tracing::info!(%addr, "onsite-server started");
            let config = onsite_server::Config {
                reservation_hold: chrono::Duration::seconds(reservation_hold_seconds),
            };
            onsite_server::serve(listener, store, config, shutdown_signal()).await?;
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
            DeviceCommand::Revoke { device } => {
                store
                    .write(move |tx| devices::revoke(tx, device, now))
                    .await?;
                println!("device {device} revoked");
            }
        },
        Command::AdminToken {
            command: AdminTokenCommand::Create { name },
        } => {
            let token = store
                .write(move |tx| devices::create_admin_token(tx, &name, now))
                .await?;
            println!("{token}");
        }
    }
    Ok(())
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
