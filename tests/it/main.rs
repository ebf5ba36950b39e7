//! Onsite's integration tests: one binary, real processes (matklad's "one test binary").

mod backup;
mod badge;
mod dashboard;
mod deploy;
mod desk;
mod desk_app;
mod desk_window;
mod fuzz;
mod hostile;
mod import;
mod in_process;
mod registration;
mod rehearsal;
mod relay;
mod simulation;
mod sync_server;
mod upgrade;
