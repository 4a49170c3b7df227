//! libFuzzer target: see `sagepipe_fuzz::definition`.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| sagepipe_fuzz::definition(data));
