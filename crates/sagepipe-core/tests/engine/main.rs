//! The engine's behaviour through its public entry points (`engine::start`, the execution
//! handle, `engine::plan`, `engine::resume_selection`, the store), with a fake `Host` in place of
//! Python and a temp store: what runs when, retries, stop, caching, selective runs and the
//! verdict on an execution whose owner died, each read back from the store's records.

mod common;

mod cache;
mod recovery;
mod retries;
mod scheduling;
mod selective;
mod stop;
