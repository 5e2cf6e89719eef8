//! Incremental ingest: adding a month of filings to a dataset writes only the new rows
//! (appended segments, `dataset::table_files`), leaves the stored files untouched, and gives
//! the same dataset content and findings as ingesting everything at once.

mod common;
use common::*;
use pedaudit::checks::AuditOptions;
use pedaudit::dataset;
use pedaudit::generate::{self, Config, Violation};
use pedaudit::ingest::{self, IngestOptions};
use std::collections::BTreeMap;
use std::fs;
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};

fn run(inputs: &[PathBuf], root: &Path, memory_mb: Option<u64>) -> ingest::IngestReport {
    ingest::run(
        inputs,
        root,
        &IngestOptions {
            force: false,
            memory_mb,
            ..Default::default()
        },
    )
    .unwrap()
}

fn sorted(root: &Path, table: &str) -> Vec<String> {
    let mut v: Vec<String> = all_rows(root, table)
        .into_iter()
        .map(|r| format!("{r:?}"))
        .collect();
    v.sort();
    v
}

fn assert_same_dataset(a: &Path, b: &Path) {
    assert_eq!(dataset::years(a), dataset::years(b));
    for t in TABLES {
        let (x, y) = (sorted(a, t), sorted(b, t));
        assert_eq!(x.len(), y.len(), "{t}: row counts differ");
        assert_eq!(x, y, "{t}: rows differ");
    }
}

fn findings(root: &Path, profiles: &Path) -> String {
    let opts = AuditOptions {
        profiles: Some(profiles.to_path_buf()),
        ..Default::default()
    };
    let (_ctx, df) = audit(root, opts, &[]);
    render(&df)
}

/// A generated history as the documented CSV, split by month of payment: everything before
/// the last two months, the month before last, the last month.
fn months(dir: &Path) -> [PathBuf; 3] {
    let h = generate::generate(&Config {
        seed: 23,
        companies: 3,
        years: 2,
        partidas: 3000,
        inject: Violation::ALL.to_vec(),
        ..Default::default()
    });
    let all = dir.join("all.csv");
    generate::writers::write_csv(&h, &all).unwrap();
    generate::writers::write_profiles(&h, &dir.join("profiles")).unwrap();
    let text = fs::read_to_string(&all).unwrap();
    let mut lines = text.lines();
    let header = lines.next().unwrap();
    let col = header.split(',').position(|c| c == "fecha_pago").unwrap();
    let rows: Vec<(&str, &str)> = lines
        .map(|l| (&l.split(',').nth(col).unwrap()[..7], l))
        .collect();
    let mut ms: Vec<&str> = rows.iter().map(|(m, _)| *m).collect();
    ms.sort();
    ms.dedup();
    let (m1, m2) = (ms[ms.len() - 2], ms[ms.len() - 1]);
    assert_eq!(&m1[..4], &m2[..4], "the last two months are in one year");
    let part = |name: &str, keep: &dyn Fn(&str) -> bool| -> PathBuf {
        let p = dir.join(name);
        let mut s = format!("{header}\n");
        for (m, l) in &rows {
            if keep(m) {
                s.push_str(l);
                s.push('\n');
            }
        }
        fs::write(&p, s).unwrap();
        p
    };
    [
        part("base.csv", &|m| m < m1),
        part("month1.csv", &|m| m == m1),
        part("month2.csv", &|m| m == m2),
    ]
}

/// (inode, mtime, size) of every file of a year directory.
fn files_of(dir: &Path) -> BTreeMap<String, (u64, i64, u64)> {
    fs::read_dir(dir)
        .unwrap()
        .flatten()
        .map(|e| {
            let m = e.metadata().unwrap();
            (
                e.file_name().to_string_lossy().to_string(),
                (m.ino(), m.mtime_nsec() + m.mtime() * 1_000_000_000, m.len()),
            )
        })
        .collect()
}

#[test]
fn adding_months_appends_segments_and_equals_a_full_ingest() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let [base, m1, m2] = months(d);
    let full = d.join("full");
    run(&[base.clone(), m1.clone(), m2.clone()], &full, None);
    for (name, budget) in [("inc", None), ("inc-sharded", Some(1))] {
        let inc = d.join(name);
        run(std::slice::from_ref(&base), &inc, budget);
        let years = dataset::years(&inc);
        let last = *years.last().unwrap();
        let ydir = dataset::year_dir(&inc, last);
        let before = files_of(&ydir);
        assert!(before.contains_key("partidas.parquet"), "{before:?}");
        let r1 = run(std::slice::from_ref(&m1), &inc, budget);
        assert!(r1.years[&last].new > 0 && r1.years[&last].replaced == 0);
        let r2 = run(std::slice::from_ref(&m2), &inc, budget);
        assert!(r2.years[&last].new > 0 && r2.years[&last].replaced == 0);
        let after = files_of(&ydir);
        // The stored files are the same files (hard links: same inode, never rewritten).
        for (f, meta) in &before {
            if f != "conflicts.parquet" {
                assert_eq!(after.get(f), Some(meta), "{name}: {f} was rewritten");
            }
        }
        for t in ["pedimentos", "partidas"] {
            let files: Vec<String> = dataset::table_files(&ydir, t)
                .iter()
                .map(|p| p.file_name().unwrap().to_string_lossy().to_string())
                .collect();
            assert_eq!(
                files,
                [
                    format!("{t}.parquet"),
                    format!("{t}-00001.parquet"),
                    format!("{t}-00002.parquet")
                ],
                "{name}"
            );
        }
        // Earlier years are not touched at all.
        assert_same_dataset(&full, &inc);
        assert!(leftovers(&inc).is_empty(), "{:?}", leftovers(&inc));
        assert_eq!(
            findings(&full, &d.join("profiles")),
            findings(&inc, &d.join("profiles")),
            "{name}"
        );
    }
}

#[test]
fn a_replacement_rewrites_the_year_into_one_file() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let [base, m1, m2] = months(d);
    let inc = d.join("inc");
    run(&[base], &inc, None);
    run(std::slice::from_ref(&m1), &inc, None);
    let last = *dataset::years(&inc).last().unwrap();
    let ydir = dataset::year_dir(&inc, last);
    assert_eq!(dataset::table_files(&ydir, "partidas").len(), 2);
    run(std::slice::from_ref(&m2), &inc, None);
    // month2's first row again with its valor en aduana changed: a different version of a
    // stored pedimento, so the year is merged and rewritten.
    let rows_before = sorted(&inc, "partidas").len();
    let text = fs::read_to_string(&m2).unwrap();
    let mut lines: Vec<String> = text.lines().map(str::to_string).collect();
    let header: Vec<&str> = lines[0].split(',').collect();
    let c = header.iter().position(|h| *h == "valor_aduana").unwrap();
    let mut cells: Vec<String> = lines[1].split(',').map(str::to_string).collect();
    cells[c] = format!("1{}", cells[c]);
    lines[1] = cells.join(",");
    let changed = d.join("month2-fixed.csv");
    fs::write(&changed, lines.join("\n") + "\n").unwrap();
    let r = run(&[changed], &inc, None);
    assert!(r.years[&last].replaced >= 1, "{:?}", r.years);
    for t in ["pedimentos", "partidas", "identificadores", "descargos"] {
        let files = dataset::table_files(&ydir, t);
        assert_eq!(files.len(), 1, "{t}: {files:?}");
        assert!(files[0].ends_with(format!("{t}.parquet")));
    }
    assert_eq!(sorted(&inc, "partidas").len(), rows_before);
    assert!(
        !sorted(&inc, "conflicts").is_empty(),
        "the old version is kept"
    );
}
