//! The server's settings from a TOML file (`--config FILE`, or `ONSITE_CONFIG`), under the
//! environment and the flags: a flag wins over its environment variable, which wins over the
//! file, which wins over the built-in default. The file's values become the flags' defaults,
//! so every setting is read, checked and documented in one place (the flags).
//!
//! ```toml
//! data_dir = "/var/lib/onsite"
//! # database_url = "postgres://onsite@db.internal/onsite?sslmode=verify-full"
//! log_format = "json"
//!
//! [serve]
//! listen = "0.0.0.0:7300"
//! client_timeout_seconds = 15
//! # metrics_token and payment_webhook_secret: better in the environment (or a file only the
//! # service can read).
//! ```
//!
//! A key the server does not know is refused (a typo would silently do nothing otherwise).

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use anyhow::{Context, Result, bail};

/// The flags a file may set at the top (every command's) and under `[serve]`.
const GLOBAL: &[&str] = &[
    "data_dir",
    "database_url",
    "db_pool_size",
    "db_pool_wait_seconds",
    "log_format",
];
const SERVE: &[&str] = &[
    "listen",
    "reservation_hold_seconds",
    "reservation_grace_seconds",
    "public_exact_availability",
    "payment_webhook_secret",
    "client_timeout_seconds",
    "metrics_token",
    "trusted_proxy",
];

/// The settings file a command line names (`--config FILE`, `--config=FILE`) or the
/// environment does (`ONSITE_CONFIG`), read before the flags are parsed.
pub(crate) fn file_named(args: &[String]) -> Option<PathBuf> {
    let mut it = args.iter();
    while let Some(a) = it.next() {
        if a == "--config" {
            return it.next().map(PathBuf::from);
        }
        if let Some(path) = a.strip_prefix("--config=") {
            return Some(PathBuf::from(path));
        }
    }
    std::env::var_os("ONSITE_CONFIG")
        .filter(|v| !v.is_empty())
        .map(PathBuf::from)
}

/// A file's settings as flag defaults: `(section, flag id, value)`.
pub(crate) fn read(path: &Path) -> Result<Vec<(Option<&'static str>, &'static str, String)>> {
    let text =
        std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?;
    let table: BTreeMap<String, toml::Value> =
        toml::from_str(&text).with_context(|| format!("{} is not valid TOML", path.display()))?;
    let mut out = Vec::new();
    for (key, value) in &table {
        if key == "serve" {
            let Some(serve) = value.as_table() else {
                bail!("{}: [serve] must be a table", path.display());
            };
            for (k, v) in serve {
                let id = known(SERVE, k)
                    .with_context(|| format!("{}: [serve] has no setting {k:?}", path.display()))?;
                out.push((Some("serve"), id, text_of(path, k, v)?));
            }
        } else {
            let id = known(GLOBAL, key).with_context(|| {
                format!(
                    "{}: no setting {key:?} (known: {}, and [serve]: {})",
                    path.display(),
                    GLOBAL.join(", "),
                    SERVE.join(", ")
                )
            })?;
            out.push((None, id, text_of(path, key, value)?));
        }
    }
    Ok(out)
}

fn known(list: &'static [&'static str], key: &str) -> Option<&'static str> {
    list.iter().copied().find(|k| *k == key)
}

/// A value as the flag would be typed.
fn text_of(path: &Path, key: &str, value: &toml::Value) -> Result<String> {
    Ok(match value {
        toml::Value::String(s) => s.clone(),
        toml::Value::Integer(i) => i.to_string(),
        toml::Value::Boolean(b) => b.to_string(),
        other => bail!(
            "{}: {key} must be a string, a whole number or true/false, not {}",
            path.display(),
            other.type_str()
        ),
    })
}

/// `command` with the file's settings as its flags' defaults.
pub(crate) fn apply(
    mut command: clap::Command,
    settings: Vec<(Option<&'static str>, &'static str, String)>,
) -> clap::Command {
    for (section, id, value) in settings {
        let set = |arg: clap::Arg| {
            // A switch has no value to default to: it is on when the file says true.
            if matches!(arg.get_action(), clap::ArgAction::SetTrue) {
                arg.default_value(if value == "true" { "true" } else { "false" })
            } else {
                arg.default_value(value.clone())
            }
        };
        command = match section {
            None => command.mut_arg(id, set),
            Some(sub) => command.mut_subcommand(sub, |c| c.mut_arg(id, set)),
        };
    }
    command
}

#[cfg(test)]
mod tests {
    use super::*;

    fn file(text: &str) -> PathBuf {
        let path = std::env::temp_dir().join(format!(
            "onsite-settings-{}.toml",
            uuid::Uuid::now_v7().simple()
        ));
        std::fs::write(&path, text).unwrap();
        path
    }

    #[test]
    fn a_file_names_known_settings_only() {
        let good = file(
            "data_dir = \"/var/lib/onsite\"\n[serve]\nlisten = \"0.0.0.0:7300\"\nclient_timeout_seconds = 20\npublic_exact_availability = true\n",
        );
        let read = read(&good).unwrap();
        assert!(read.contains(&(None, "data_dir", "/var/lib/onsite".into())));
        assert!(read.contains(&(Some("serve"), "client_timeout_seconds", "20".into())));
        for (bad, says) in [
            ("data_dri = \"x\"", "no setting \"data_dri\""),
            ("[serve]\nlisen = \"x\"", "[serve] has no setting \"lisen\""),
            ("serve = 3", "must be a table"),
            ("[serve]\nlisten = [1]", "must be a string"),
            ("data_dir = ", "not valid TOML"),
        ] {
            let path = file(bad);
            let err = format!("{:#}", super::read(&path).unwrap_err());
            assert!(err.contains(says), "{bad}: {err}");
            std::fs::remove_file(path).unwrap();
        }
        std::fs::remove_file(good).unwrap();
    }

    #[test]
    fn the_settings_file_is_named_by_the_flag_before_the_environment() {
        let args = |a: &[&str]| a.iter().map(|s| (*s).to_owned()).collect::<Vec<_>>();
        assert_eq!(
            file_named(&args(&[
                "onsite-server",
                "--config",
                "/etc/onsite/a.toml",
                "serve"
            ])),
            Some(PathBuf::from("/etc/onsite/a.toml"))
        );
        assert_eq!(
            file_named(&args(&["onsite-server", "--config=/b.toml"])),
            Some(PathBuf::from("/b.toml"))
        );
    }
}
