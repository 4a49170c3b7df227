//! sagepipe: run SageMaker Pipelines locally. `core` is the engine (no Python in it); `py` is
//! the thin PyO3 binding that exposes it as `sagepipe._core`.

pub mod core;
mod py;

pub use py::_core;

// The engine builds and drops large JSON trees (an 11 MB definition is ~10^6 small
// allocations); mimalloc halves that cost against glibc's malloc and returns memory sooner.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;
