//! Crash safety of `ingest`: the built binary ingests a generated history into a
//! dataset that already holds data and is killed (SIGKILL after random delays, and
//! deterministically via the `PEDAUDIT_CRASH_AT` abort hook in `dataset.rs`). After every
//! crash each year partition must be exactly as before or exactly as after (row counts
//! and a content digest per table), and the next run must recover (remove `.tmp-*`,
//! restore `.old-*`) and end exactly in the "after" state. Also: a second concurrent
//! ingest fails with the lock message; a lock file left by a dead process does not block.

mod common;

use common::*;
use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

struct Fixture {
    _tmp: tempfile::TempDir,
    dir: PathBuf,
    /// Dataset holding history A (years 2020-2022).
    base: PathBuf,
    /// History B as Data Stage files (years 2021-2023: overlaps, replaces, adds a year).
    input: PathBuf,
    before: Snapshot,
    after: Snapshot,
    clean: Duration,
}

fn fixture() -> Fixture {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().to_path_buf();
    gen_datastage(&dir.join("a"), 1, 2020, 3, 1200);
    gen_datastage(&dir.join("b"), 2, 2021, 3, 1500);
    let base = dir.join("base");
    ingest_ok(&dir.join("a"), &base);
    let before = snapshot(&base);
    let reference = dir.join("reference");
    copy_dir(&base, &reference);
    let t = Instant::now();
    ingest_ok(&dir.join("b"), &reference);
    let clean = t.elapsed();
    let after = snapshot(&reference);
    assert_eq!(
        before.keys().copied().collect::<Vec<_>>(),
        [2020, 2021, 2022]
    );
    assert_eq!(
        after.keys().copied().collect::<Vec<_>>(),
        [2020, 2021, 2022, 2023]
    );
    assert_eq!(before[&2020], after[&2020], "2020 is not in the new input");
    assert_ne!(before[&2021], after[&2021], "2021 must change");
    assert_ne!(before[&2022], after[&2022], "2022 must change");
    Fixture {
        _tmp: tmp,
        input: dir.join("b"),
        dir,
        base,
        before,
        after,
        clean,
    }
}

#[derive(Debug, Default)]
struct Tally {
    before: usize,
    after: usize,
    mid_swap: usize,
}

/// Asserts that every year of `root` is as before or as after (or, for a year caught
/// between the two renames, absent with its `.old-*` present), and that the same holds
/// strictly once `dataset::recover` has run (on a copy).
fn assert_before_or_after(f: &Fixture, root: &Path, what: &str, tally: &mut Tally) {
    let snap = snapshot(root);
    let years: BTreeSet<i32> = f
        .before
        .keys()
        .chain(f.after.keys())
        .chain(snap.keys())
        .copied()
        .collect();
    for y in &years {
        match snap.get(y) {
            Some(s) if Some(s) == f.before.get(y) => tally.before += 1,
            Some(s) if Some(s) == f.after.get(y) => tally.after += 1,
            Some(s) => panic!("{what}: year {y} is neither before nor after: {s:?}"),
            None if f.before.contains_key(y) => {
                assert!(
                    root.join(format!(".old-year={y}")).exists(),
                    "{what}: year {y} vanished without .old-year={y}"
                );
                tally.mid_swap += 1;
            }
            None => tally.before += 1, // new year not yet swapped in
        }
    }
    let scratch = root.with_extension("recovered");
    let _ = std::fs::remove_dir_all(&scratch);
    copy_dir(root, &scratch);
    pedaudit::dataset::recover(&scratch).unwrap();
    let rs = snapshot(&scratch);
    for y in &years {
        let s = rs.get(y);
        assert!(
            s == f.before.get(y) || s == f.after.get(y),
            "{what}: after recovery year {y} is neither before nor after"
        );
    }
    assert!(leftovers(&scratch).is_empty(), "{what}: recover left files");
    std::fs::remove_dir_all(&scratch).unwrap();
}

/// Runs the ingest again to completion: it must recover and reach exactly "after";
/// a further run must be a no-op (every file already ingested).
fn assert_next_run_recovers(f: &Fixture, root: &Path, what: &str) -> String {
    let out = ingest_ok(&f.input, root);
    let text =
        String::from_utf8_lossy(&out.stdout).to_string() + &String::from_utf8_lossy(&out.stderr);
    assert_eq!(
        snapshot(root),
        f.after,
        "{what}: next run did not reach 'after'"
    );
    assert!(leftovers(root).is_empty(), "{what}: {:?}", leftovers(root));
    let out = ingest_ok(&f.input, root);
    let again = String::from_utf8_lossy(&out.stdout);
    assert!(
        again.contains("renglones leídos 0 = aceptados 0 + rechazados 0"),
        "{what}: third run was not a no-op: {again}"
    );
    assert!(again.contains("ya ingerido"), "{again}");
    assert_eq!(snapshot(root), f.after);
    text
}

#[test]
fn random_kills_leave_before_or_after_and_recover() {
    let f = fixture();
    let mut rng = Rng(0x5eed_0001);
    let max_ms = (f.clean.as_millis() as u64 * 5 / 4).max(20);
    let iterations = 10;
    let mut tally = Tally::default();
    let mut killed = 0;
    for i in 0..iterations {
        let root = f.dir.join(format!("kill-{i}"));
        copy_dir(&f.base, &root);
        let delay = rng.below(max_ms);
        let mut child = ingest_cmd(&f.input, &root)
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn()
            .unwrap();
        std::thread::sleep(Duration::from_millis(delay));
        if child.try_wait().unwrap().is_none() {
            killed += 1;
        }
        let _ = child.kill(); // SIGKILL
        child.wait().unwrap();
        let what = format!("kill after {delay} ms");
        assert_before_or_after(&f, &root, &what, &mut tally);
        assert_next_run_recovers(&f, &root, &what);
        std::fs::remove_dir_all(&root).unwrap();
    }
    eprintln!(
        "{iterations} kills (0..{max_ms} ms, clean run {:?}): {killed} killed while running; \
         year states seen: {tally:?}",
        f.clean
    );
    assert!(killed > 0, "no kill landed while the ingest was running");
}

#[test]
fn crash_points_leave_before_or_after_and_recover() {
    let f = fixture();
    let mut tally = Tally::default();
    for (point, leftover) in [
        ("after-tmp-write", Some(".tmp-year=")),
        ("between-renames", Some(".old-year=")),
        ("after-swap", None),
        ("before-manifest", None),
    ] {
        let root = f.dir.join(format!("crash-{point}"));
        copy_dir(&f.base, &root);
        let out = ingest_cmd(&f.input, &root)
            .env("PEDAUDIT_CRASH_AT", point)
            .output()
            .unwrap();
        assert!(!out.status.success(), "{point}: the hook did not abort");
        assert!(
            String::from_utf8_lossy(&out.stderr).contains("aborting (test hook)"),
            "{point}"
        );
        let left = leftovers(&root);
        if let Some(prefix) = leftover {
            assert!(
                left.iter().any(|n| n.starts_with(prefix)),
                "{point}: expected {prefix}* in {left:?}"
            );
        }
        assert_before_or_after(&f, &root, point, &mut tally);
        if point == "before-manifest" {
            // Every year swapped in, hashes not recorded: data is "after".
            assert_eq!(snapshot(&root), f.after);
        }
        let text = assert_next_run_recovers(&f, &root, point);
        if leftover.is_some() {
            assert!(text.contains("recuperado: "), "{point}: {text}");
        }
        std::fs::remove_dir_all(&root).unwrap();
    }
    eprintln!("crash points: year states seen: {tally:?}");
    assert!(
        tally.mid_swap > 0,
        "between-renames never caught a year mid-swap"
    );
}

#[test]
fn concurrent_ingest_fails_with_lock_message_and_dead_lock_does_not_block() {
    let tmp = tempfile::tempdir().unwrap();
    let input = tmp.path().join("in");
    gen_datastage(&input, 3, 2022, 1, 300);
    let root = tmp.path().join("ds");
    {
        let _held = pedaudit::ingest::Lock::acquire(&root).unwrap();
        let out = ingest_cmd(&input, &root).output().unwrap();
        assert_eq!(out.status.code(), Some(2));
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(
            err.contains("is locked by another ingest that is still running")
                && err.contains(&format!("pid {}", std::process::id())),
            "{err}"
        );
        assert!(
            pedaudit::dataset::years(&root).is_empty(),
            "nothing written"
        );
        // A second lock in the same process is refused too.
        assert!(matches!(
            pedaudit::ingest::Lock::acquire(&root),
            Err(pedaudit::ingest::IngestError::Locked(..))
        ));
    }
    // A lock file left by a process that died (pid that does not exist): not a lock.
    std::fs::write(root.join(".lock"), "pid 4194303\n").unwrap();
    ingest_ok(&input, &root);
    assert_eq!(pedaudit::dataset::years(&root), [2022]);
    let holder = std::fs::read_to_string(root.join(".lock")).unwrap();
    assert!(holder.starts_with("pid "), "{holder}");
}
