//! Shared test helpers: ingest fixtures into a temp dataset, run checks, render findings.
#![allow(dead_code)]

use pedaudit::checks::{self, AuditContext, AuditOptions};
use polars::prelude::*;
use std::path::{Path, PathBuf};

pub fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// Ingests `inputs` into a fresh dataset under a temp dir.
pub fn ingest(inputs: &[PathBuf]) -> (tempfile::TempDir, PathBuf, pedaudit::ingest::IngestReport) {
    let dir = tempfile::tempdir().unwrap();
    let ds = dir.path().join("dataset");
    let r = pedaudit::ingest::run(inputs, &ds, &Default::default()).unwrap();
    (dir, ds, r)
}

pub fn audit(ds: &Path, opts: AuditOptions, codes: &[&str]) -> (AuditContext, DataFrame) {
    let ctx = AuditContext::open(ds, opts).unwrap();
    let names: Vec<String> = codes.iter().map(|s| s.to_string()).collect();
    let sel = checks::select(&names).unwrap();
    let df = checks::run(&ctx, &sel).unwrap();
    (ctx, df)
}

/// One line per finding with the fields that identify it (stable, for golden files).
pub fn render(df: &DataFrame) -> String {
    let cols = [
        "check_code",
        "severity",
        "rfc",
        "pedimento_id",
        "partida",
        "related_pedimento_id",
        "fraccion",
        "as_of",
        "quantity",
        "amount",
        "igi",
        "iva",
        "ieps",
        "message",
        "citation",
        "evidence",
    ];
    let mut out = String::new();
    for i in 0..df.height() {
        let vals: Vec<String> = cols
            .iter()
            .map(|c| match df.column(c).unwrap().get(i).unwrap() {
                AnyValue::Null => String::new(),
                v => v
                    .get_str()
                    .map(str::to_string)
                    .unwrap_or_else(|| v.to_string()),
            })
            .collect();
        out.push_str(&vals.join(" | "));
        out.push('\n');
    }
    out
}

/// Compares `actual` with `tests/golden/<name>`; `UPDATE_GOLDEN=1` rewrites the file.
pub fn golden(name: &str, actual: &str) {
    let p = root().join("tests/golden").join(name);
    if std::env::var("UPDATE_GOLDEN").is_ok() || !p.exists() && std::env::var("CI").is_err() {
        std::fs::create_dir_all(p.parent().unwrap()).unwrap();
        std::fs::write(&p, actual).unwrap();
    }
    let expected = std::fs::read_to_string(&p).unwrap_or_else(|_| {
        panic!(
            "golden file {} missing; run with UPDATE_GOLDEN=1",
            p.display()
        )
    });
    assert_eq!(
        expected, actual,
        "golden {name} differs; run with UPDATE_GOLDEN=1 to accept"
    );
}

/// Rows of `df` matching a check code, as (pedimento_id, quantity, amount, igi, iva) strings.
pub fn rows(df: &DataFrame, code: &str) -> Vec<(String, String, String, String, String)> {
    let f = df
        .clone()
        .lazy()
        .filter(col("check_code").eq(lit(code)))
        .collect()
        .unwrap();
    let s = |c: &str, i: usize| match f.column(c).unwrap().get(i).unwrap() {
        AnyValue::Null => String::new(),
        v => v
            .get_str()
            .map(str::to_string)
            .unwrap_or_else(|| v.to_string()),
    };
    (0..f.height())
        .map(|i| {
            (
                s("pedimento_id", i),
                s("quantity", i),
                s("amount", i),
                s("igi", i),
                s("iva", i),
            )
        })
        .collect()
}
