//! libFuzzer target: see `sagepipe_fuzz::expression`.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| sagepipe_fuzz::expression(data));
