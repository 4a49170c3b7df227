//! sagepipe: run SageMaker Pipelines locally. `core` is the engine (no Python in it); `py` is
//! the thin PyO3 binding that exposes it as `sagepipe._core`.

pub mod core;
mod py;

pub use py::_core;
