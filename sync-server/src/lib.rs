//! The Onsite sync server. It hosts the authoritative aggregates and re-decides every event a
//! desk pushes. Built in the sync-server issue; this crate only reserves its place in the
//! workspace for now.
