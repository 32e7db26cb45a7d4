//! Replays the fuzz corpus and every crash ever found (fuzz/regressions/) through the same
//! entry points as the fuzz targets, on stable Rust: none may panic.

use crate::root;

fn files(dir: &str) -> Vec<std::path::PathBuf> {
    let mut v: Vec<_> = std::fs::read_dir(root().join(dir))
        .map(|d| {
            d.filter_map(|e| e.ok().map(|e| e.path()))
                .filter(|p| p.is_file())
                .collect()
        })
        .unwrap_or_default();
    v.sort();
    v
}

#[test]
fn the_fuzz_corpus_and_regressions_never_panic() {
    let parse = files("fuzz/corpus/parse");
    let run = files("fuzz/corpus/run");
    assert!(
        parse.len() >= 10 && run.len() >= 5,
        "the seed corpus comes from scenarios/"
    );
    for f in &parse {
        dialtone_scenario::fuzzing::parse(&std::fs::read(f).expect("read"));
    }
    for f in &run {
        dialtone_scenario::fuzzing::run(&std::fs::read(f).expect("read"));
    }
    for f in files("fuzz/regressions") {
        let data = std::fs::read(&f).expect("read");
        dialtone_scenario::fuzzing::parse(&data);
        dialtone_scenario::fuzzing::run(&data);
    }
}
