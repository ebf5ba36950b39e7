//! A throwaway PostgreSQL cluster per test: `initdb` and `pg_ctl` in a temporary directory, on
//! a free port, as the `postgres` user when running as root (initdb refuses root). Stopped and
//! removed on drop.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use anyhow::{Context, Result, bail};

pub struct PgCluster {
    bin: PathBuf,
    dir: PathBuf,
    pub port: u16,
    as_postgres: bool,
}

fn is_root() -> bool {
    Command::new("id")
        .arg("-u")
        .output()
        .map(|o| String::from_utf8_lossy(&o.stdout).trim() == "0")
        .unwrap_or(false)
}

fn pg_bin() -> Result<PathBuf> {
    let mut versions: Vec<PathBuf> = std::fs::read_dir("/usr/lib/postgresql")
        .context("PostgreSQL is not installed (apt-get install postgresql; `cargo xtask test` installs it)")?
        .filter_map(|e| e.ok().map(|e| e.path().join("bin")))
        .filter(|p| p.join("initdb").is_file())
        .collect();
    versions.sort_by_key(|p| {
        p.parent()
            .and_then(|v| v.file_name())
            .and_then(|v| v.to_str())
            .and_then(|v| v.parse::<u32>().ok())
            .unwrap_or(0)
    });
    versions
        .pop()
        .context("no initdb under /usr/lib/postgresql")
}

fn free_port() -> Result<u16> {
    Ok(std::net::TcpListener::bind("127.0.0.1:0")?
        .local_addr()?
        .port())
}

impl PgCluster {
    pub fn start() -> Result<Self> {
        Self::start_with_max_connections(200)
    }

    /// A cluster that takes at most `max` connections at once (3 of them kept for superusers
    /// by PostgreSQL's default).
    pub fn start_with_max_connections(max: u32) -> Result<Self> {
        Self::start_inner(max, false)
    }

    /// A cluster that speaks TLS only (`hostssl`), with a certificate for `127.0.0.1` signed by
    /// a CA of its own, made with `openssl`: [`PgCluster::ca`] is that CA's certificate.
    pub fn start_with_tls() -> Result<Self> {
        Self::start_inner(200, true)
    }

    /// The CA certificate of a [`PgCluster::start_with_tls`] cluster.
    pub fn ca(&self) -> std::path::PathBuf {
        self.dir.join("tls").join("ca.crt")
    }

    fn start_inner(max: u32, tls: bool) -> Result<Self> {
        let bin = pg_bin()?;
        let dir = std::env::temp_dir().join(format!("onsite-pg-{}", uuid::Uuid::now_v7().simple()));
        std::fs::create_dir_all(&dir)?;
        if tls {
            make_certificates(&dir.join("tls"))?;
        }
        let as_postgres = is_root();
        if as_postgres {
            let status = Command::new("chown")
                .args(["-R", "postgres:postgres"])
                .arg(&dir)
                .status()?;
            if !status.success() {
                bail!("chown of the cluster directory failed");
            }
        }
        let port = free_port()?;
        let cluster = Self {
            bin,
            dir,
            port,
            as_postgres,
        };
        cluster.run(
            "initdb",
            &[
                "-D",
                cluster.data().as_str(),
                "-A",
                "trust",
                "-U",
                "postgres",
                "-E",
                "UTF8",
                "--no-locale",
                "--no-sync",
            ],
        )?;
        let mut options = format!(
            "-p {port} -k /tmp -c listen_addresses=127.0.0.1 -c fsync=off -c synchronous_commit=off \
             -c full_page_writes=off -c max_connections={max}"
        );
        if tls {
            let tls_dir = cluster.dir.join("tls");
            options.push_str(&format!(
                " -c ssl=on -c ssl_cert_file={} -c ssl_key_file={}",
                tls_dir.join("server.crt").display(),
                tls_dir.join("server.key").display()
            ));
            // TCP connections to the databases must use TLS; the socket and the maintenance
            // database (where the harness creates databases) need not.
            std::fs::write(
                format!("{}/pg_hba.conf", cluster.data()),
                "local all all trust\n\
                 hostnossl postgres all 127.0.0.1/32 trust\n\
                 hostssl all all 127.0.0.1/32 trust\n\
                 hostnossl all all 0.0.0.0/0 reject\n",
            )?;
        }
        let log = format!("{}/server.log", cluster.data());
        cluster.run(
            "pg_ctl",
            &[
                "-D",
                cluster.data().as_str(),
                "-l",
                &log,
                "-w",
                "-o",
                &options,
                "start",
            ],
        )?;
        Ok(cluster)
    }

    fn data(&self) -> String {
        self.dir.join("data").display().to_string()
    }

    fn run(&self, tool: &str, args: &[&str]) -> Result<()> {
        self.output(tool, args).map(drop)
    }

    /// Runs one of the cluster's tools and returns what it wrote on stdout.
    fn output(&self, tool: &str, args: &[&str]) -> Result<String> {
        let program = self.bin.join(tool);
        let mut cmd = if self.as_postgres {
            let mut c = Command::new("runuser");
            c.args(["-u", "postgres", "--"]).arg(&program);
            c
        } else {
            Command::new(&program)
        };
        let out = cmd
            .args(args)
            .stdin(Stdio::null())
            .output()
            .with_context(|| format!("running {tool}"))?;
        if !out.status.success() {
            bail!(
                "{tool} failed: {}{}",
                String::from_utf8_lossy(&out.stdout),
                String::from_utf8_lossy(&out.stderr)
            );
        }
        Ok(String::from_utf8_lossy(&out.stdout).into_owned())
    }

    /// A plain SQL dump of a database, data as `INSERT`s (so that [`PgCluster::load`] can run
    /// it through the client; `COPY ... FROM stdin` needs psql).
    pub fn dump(&self, database: &str) -> Result<String> {
        self.output(
            "pg_dump",
            &[
                "--inserts",
                "--no-owner",
                "--no-privileges",
                "-d",
                &self.url(database),
            ],
        )
    }

    /// Creates a database from a dump of [`PgCluster::dump`] and returns its URL.
    ///
    /// The pull is ordered by the transaction id each event was written in (`events.tx`), and
    /// a dump carries the ids of the cluster it came from, which may be ahead of this one's:
    /// such events would stay invisible to pull until this cluster's ids caught up. The events
    /// get the loading transaction's id instead, so they pull in position order. psql's
    /// meta-commands (`\restrict`, from pg_dump 17.6 on) are left out: the client runs SQL only.
    pub fn load(&self, database: &str, dump: &str) -> Result<String> {
        let url = self.database(database)?;
        let dump: String = dump
            .lines()
            .filter(|l| !l.starts_with('\\'))
            .flat_map(|l| [l, "\n"])
            .collect();
        let mut client = postgres::Client::connect(&url, postgres::NoTls)?;
        client.batch_execute(&format!(
            "BEGIN;\n{dump}\nUPDATE public.events SET tx = pg_current_xact_id();\nCOMMIT;"
        ))?;
        Ok(url)
    }

    /// Creates a database and returns its URL.
    pub fn database(&self, name: &str) -> Result<String> {
        let mut client = postgres::Client::connect(&self.url("postgres"), postgres::NoTls)?;
        client.batch_execute(&format!("CREATE DATABASE {name}"))?;
        Ok(self.url(name))
    }

    pub fn url(&self, database: &str) -> String {
        format!("postgres://postgres@127.0.0.1:{}/{database}", self.port)
    }
}

impl Drop for PgCluster {
    fn drop(&mut self) {
        let _ = self.run(
            "pg_ctl",
            &["-D", self.data().as_str(), "-m", "immediate", "-w", "stop"],
        );
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// A CA and a server certificate for `127.0.0.1` (and no other name) signed by it, in `dir`.
fn make_certificates(dir: &Path) -> Result<()> {
    std::fs::create_dir_all(dir)?;
    let run = |args: &[&str]| -> Result<()> {
        let out = Command::new("openssl")
            .args(args)
            .current_dir(dir)
            .stdin(Stdio::null())
            .output()
            .context("running openssl")?;
        if !out.status.success() {
            bail!("openssl {args:?}: {}", String::from_utf8_lossy(&out.stderr));
        }
        Ok(())
    };
    run(&[
        "req",
        "-x509",
        "-newkey",
        "rsa:2048",
        "-nodes",
        "-keyout",
        "ca.key",
        "-out",
        "ca.crt",
        "-days",
        "2",
        "-subj",
        "/CN=Onsite test CA",
    ])?;
    run(&[
        "req",
        "-newkey",
        "rsa:2048",
        "-nodes",
        "-keyout",
        "server.key",
        "-out",
        "server.csr",
        "-subj",
        "/CN=127.0.0.1",
    ])?;
    std::fs::write(dir.join("san.ext"), "subjectAltName=IP:127.0.0.1\n")?;
    run(&[
        "x509",
        "-req",
        "-in",
        "server.csr",
        "-CA",
        "ca.crt",
        "-CAkey",
        "ca.key",
        "-CAcreateserial",
        "-out",
        "server.crt",
        "-days",
        "2",
        "-extfile",
        "san.ext",
    ])?;
    std::fs::set_permissions(
        dir.join("server.key"),
        std::os::unix::fs::PermissionsExt::from_mode(0o600),
    )?;
    Ok(())
}
