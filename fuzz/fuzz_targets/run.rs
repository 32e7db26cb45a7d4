//! Fuzz target: a whole short run of a fuzzed scenario.
#![no_main]
libfuzzer_sys::fuzz_target!(|data: &[u8]| dialtone_scenario::fuzzing::run(data));
