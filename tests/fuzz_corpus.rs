//! The fuzz corpus kept in the repository (`tests/corpus/`): inputs that once broke, or
//! nearly broke, a parser (unclosed quotes, repeated partidas, extra decimals, overflowing
//! totals, CRLF without a final newline, a 551 row with a field too many, malformed
//! profile rows). Every file goes through its parser on every test run: no panic, the
//! accounting identity holds (rows read = accepted + rejected), and a profile error names
//! file, line and field. Add a file here when a fuzz run (tests/fuzz.rs with a large
//! PROPTEST_CASES) finds a new case.

mod common;
use common::*;
use std::path::Path;

fn corpus(kind: &str) -> Vec<std::path::PathBuf> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/corpus")
        .join(kind);
    let mut v: Vec<_> = std::fs::read_dir(dir)
        .unwrap()
        .flatten()
        .map(|e| e.path())
        .collect();
    v.sort();
    assert!(!v.is_empty(), "empty corpus {kind}");
    v
}

#[test]
fn csv_corpus_is_accounted_for() {
    for f in corpus("csv") {
        let d = tempfile::tempdir().unwrap();
        let r = pedaudit::ingest::run(
            std::slice::from_ref(&f),
            &d.path().join("ds"),
            &Default::default(),
        )
        .unwrap_or_else(|e| panic!("{}: {e}", f.display()));
        assert_accounting(&r);
        assert!(
            r.rejected > 0,
            "{}: every corpus file has a bad line",
            f.display()
        );
    }
}

#[test]
fn datastage_corpus_is_accounted_for() {
    let d = tempfile::tempdir().unwrap();
    let r = pedaudit::ingest::run(
        &[Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/corpus/datastage")],
        &d.path().join("ds"),
        &Default::default(),
    )
    .unwrap();
    assert_accounting(&r);
    assert!(
        r.rejected > 0,
        "the 551 row with an extra field is rejected"
    );
}

#[test]
fn profile_corpus_errors_name_file_line_field() {
    for f in corpus("profile") {
        let d = tempfile::tempdir().unwrap();
        std::fs::copy(&f, d.path().join(f.file_name().unwrap())).unwrap();
        let e = pedaudit::profile::load_cert(Some(d.path()))
            .err()
            .unwrap_or_else(|| panic!("{} must be rejected", f.display()))
            .to_string();
        let name = f.file_name().unwrap().to_string_lossy().to_string();
        assert!(e.contains(&format!("{name}:2: field '")), "{name}: {e}");
    }
}
