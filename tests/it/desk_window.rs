//! The desk app opens a real window, configured by the root `tauri.conf.json`.

use std::process::{Command, Stdio};
use std::time::Duration;

use anyhow::{Context, Result};
use onsite_tests::display::{VirtualDisplay, terminate};
use onsite_tests::workspace;

#[test]
fn the_desk_window_opens_with_the_title_from_the_root_tauri_config() -> Result<()> {
    let config_path = workspace::root().join("tauri.conf.json");
    let config: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(&config_path).context("reading the root tauri.conf.json")?,
    )?;
    let title = config["app"]["windows"][0]["title"]
        .as_str()
        .context("the root config names a window title")?;

    let display = VirtualDisplay::start()?;
    let data_dir = tempfile_dir()?;
    let mut desk = Command::new(workspace::binary("onsite-desk")?)
        .env("DISPLAY", display.name())
        .env("XDG_DATA_HOME", &data_dir)
        .env("XDG_CONFIG_HOME", &data_dir)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .context("starting onsite-desk")?;

    let seen = display.wait_for_window(title, Duration::from_secs(60));
    // Give the page a moment to render before the screenshot a person may look at.
    std::thread::sleep(Duration::from_secs(2));
    let shot = workspace::artefacts("screenshots")?.join("desk-window.png");
    let shot_result = display.screenshot(&shot);
    let still_running = desk.try_wait()?.is_none();
    terminate(&mut desk);
    let _ = std::fs::remove_dir_all(&data_dir);

    assert_eq!(
        seen?, title,
        "the window title comes from the root tauri.conf.json"
    );
    assert!(
        still_running,
        "the desk app kept running with its window open"
    );
    shot_result?;
    Ok(())
}

fn tempfile_dir() -> Result<std::path::PathBuf> {
    let dir = std::env::temp_dir().join(format!("onsite-desk-window-{}", std::process::id()));
    std::fs::create_dir_all(&dir)?;
    Ok(dir)
}
