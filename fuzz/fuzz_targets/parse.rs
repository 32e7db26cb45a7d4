//! Fuzz target: the scenario parser and validator on arbitrary bytes.
#![no_main]
libfuzzer_sys::fuzz_target!(|data: &[u8]| dialtone_scenario::fuzzing::parse(data));
