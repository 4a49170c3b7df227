//! sagepipe's Python binding: the thin PyO3 layer that exposes the engine (the `sagepipe-core`
//! crate, which has no Python in it) as `sagepipe._core`.

mod py;

pub use py::_core;

// The engine builds and drops large JSON trees (an 11 MB definition is ~10^6 small
// allocations); mimalloc halves that cost against glibc's malloc and returns memory sooner.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;
