//! The harness for Onsite's one integration-test binary (`tests/it`): real processes, real
//! files, a real X server. Nothing here is mocked.
//!
//! # Layout
//! - [`workspace`]: where the workspace and its built binaries are.
//! - [`display`]: a private Xvfb server for tests that open real windows.

pub mod cups;
pub mod dashboard;
pub mod desk;
pub mod display;
pub mod in_process;
pub mod partition;
pub mod postgres;
pub mod rehearsal;
pub mod relay;
pub mod server;
pub mod simulation;
pub mod webdriver;
pub mod workspace;
