//! libFuzzer target: see `sagepipe_fuzz::selection`.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| sagepipe_fuzz::selection(data));
