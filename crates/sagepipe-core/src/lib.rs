//! The sagepipe engine, free of Python (this crate has no pyo3 dependency): definitions, the step graph, validation, expressions,
//! the scheduler, executors and the store.
//!
//! Each layer uses only its own and those below it (checked by `scripts/check_layers.py`):
//! `error`, `util`, `duration`, `proc` (the floor) → `store`, `sandbox` → `definition`, `dag`,
//! `expr`, `params`, `validate` → `selection`, `signature` → `executors` → `engine`.

pub mod dag;
pub mod definition;
pub mod duration;
pub mod engine;
pub mod error;
pub mod executors;
pub mod expr;
pub mod function_args;
pub mod params;
pub mod proc;
pub mod sandbox;
pub mod selection;
pub mod signature;
pub mod store;
pub mod util;
pub mod validate;
