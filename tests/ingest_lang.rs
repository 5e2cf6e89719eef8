//! The lines the ingest library says while it works (a skipped input path, rows not
//! stored again, the shard plan) reach the terminal through the progress sink
//! (`model::progress::Message`), worded in the command's language: Spanish by default and
//! with `--lang es`, English with `--lang en`, never the other language's words.

mod common;

use common::*;
use std::path::Path;
use std::process::Command;

/// Phrases of each language's ingest messages (`Message::text`).
const ENGLISH: [&str; 5] = [
    "skipped ",
    "not stored again",
    "shard(s)",
    "of Data Stage input",
    "rows (",
];
const SPANISH: [&str; 4] = [
    "omitido ",
    "no se guardan de nuevo",
    "fragmento(s)",
    "de entrada Data Stage",
];

/// `ingest` of `input` into `root` with `extra` arguments; its stderr.
fn ingest_stderr(input: &Path, root: &Path, extra: &[&str]) -> String {
    let out = Command::new(bin())
        .arg("ingest")
        .arg(input)
        .arg("--dataset")
        .arg(root)
        .args(extra)
        .env_remove("PEDAUDIT_CRASH_AT")
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr).to_string();
    assert!(
        out.status.success(),
        "ingest {extra:?} failed: {}\n{err}",
        String::from_utf8_lossy(&out.stdout)
    );
    err
}

/// A request and the same request again under another folio (CRLF: other bytes, same
/// rows: its rows are not stored again), plus a dangling symbolic link (skipped).
fn small_input(dir: &Path) {
    std::fs::create_dir_all(dir).unwrap();
    let crlf = |(n, b): (String, Vec<u8>)| {
        (
            n,
            String::from_utf8(b)
                .unwrap()
                .replace('\n', "\r\n")
                .into_bytes(),
        )
    };
    for (n, b) in [
        ds_file("1", "501", &[v501(&[])]),
        ds_file("1", "551", &[v551(&[])]),
        crlf(ds_file("2", "501", &[v501(&[])])),
        crlf(ds_file("2", "551", &[v551(&[])])),
    ] {
        std::fs::write(dir.join(n), b).unwrap();
    }
    #[cfg(unix)]
    std::os::unix::fs::symlink("missing_551.asc", dir.join("dangling_551.asc")).unwrap();
}

#[test]
fn ingest_lines_follow_the_language() {
    let d = tempfile::tempdir().unwrap();
    let small = d.path().join("small");
    small_input(&small);
    // Larger than the 1 MiB budget's shard (128 KiB of input): parsed in shards.
    let big = d.path().join("big");
    gen_datastage(&big, 3, 2021, 2, 1500);

    for (lang, extra) in [("default", &[][..]), ("es", &["--lang", "es"][..])] {
        let mut err = ingest_stderr(&small, &d.path().join(format!("s-{lang}")), extra);
        let mut args = extra.to_vec();
        args.extend(["--memory-mb", "1"]);
        err += &ingest_stderr(&big, &d.path().join(format!("b-{lang}")), &args);
        #[cfg(unix)]
        assert!(
            err.contains("omitido ") && err.contains("enlace simbólico roto"),
            "{lang}: {err}"
        );
        assert!(err.contains("no se guardan de nuevo"), "{lang}: {err}");
        assert!(err.contains("fragmento(s)"), "{lang}: {err}");
        for en in ENGLISH {
            assert!(
                !err.contains(en),
                "{lang}: English '{en}' on stderr:\n{err}"
            );
        }
    }

    let mut err = ingest_stderr(&small, &d.path().join("s-en"), &["--lang", "en"]);
    err += &ingest_stderr(
        &big,
        &d.path().join("b-en"),
        &["--lang", "en", "--memory-mb", "1"],
    );
    #[cfg(unix)]
    assert!(
        err.contains("skipped ") && err.contains("dangling symbolic link"),
        "{err}"
    );
    assert!(err.contains("not stored again"), "{err}");
    assert!(err.contains("shard(s)"), "{err}");
    for es in SPANISH {
        assert!(!err.contains(es), "en: Spanish '{es}' on stderr:\n{err}");
    }
}
