//! VIRTUAL-* checks beyond the fixture harness: citations by rule version, the split
//! allocation, and the generator's injected virtual violations. The fixtures'
//! findings (against their `expected.csv`) and pairs tables are snapshotted by
//! tests/checks_fixtures.rs (`fixtures/VIRTUAL-*/findings.snap`).

use chrono::NaiveDate;
use pedaudit::checks::{self, AuditContext, AuditOptions, virtual_pairing};
use pedaudit::generate::{self, Violation};
use pedaudit::ingest;
use polars::prelude::*;
use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

/// Issue #19: a late V1 transfer on each side of the 2013 change cites the version of the
/// virtual-operation rules in force on the receiver's date (fixtures/VIRTUAL-VERSIONS).
#[test]
fn late_transfers_cite_the_rule_version_of_their_date() {
    let tmp = tempfile::tempdir().unwrap();
    let ds = tmp.path().join("ds");
    ingest_into(&[root().join("fixtures/VIRTUAL-VERSIONS/input.csv")], &ds);
    let (_ctx, df) = audit(&ds, NaiveDate::from_ymd_opt(2024, 6, 30));
    let late = df
        .clone()
        .lazy()
        .filter(col("check_code").eq(lit("VIRTUAL-LATE")))
        .sort(["pedimento_id"], Default::default())
        .collect()
        .unwrap();
    assert_eq!(late.height(), 2);
    let (c2013, c2022) = (cell(&late, "citation", 0), cell(&late, "citation", 1));
    assert_eq!(cell(&late, "pedimento_id", 0), "2013-240-3001-3000001");
    // Issue #19: the citation keeps the instrument and rule only; the numbering notes
    // (1.5.2 vs 2.5.2, 3.3.13) and the consolidated deadlines are in `explain VIRTUAL-LATE`.
    assert_eq!(
        c2013,
        "[MOA2007] Manual de Operación Aduanera 2007, apartado A.7, norma 123ª num. 2 y 4; \
         Ley Aduanera art. 185 fr. I"
    );
    assert_eq!(
        c2022,
        "[RCGMCE2013] Manual de Operación Aduanera 2007, apartado A.7, norma 123ª num. 2 y 4, \
         aplicado con las RCGMCE 2013; Ley Aduanera art. 185 fr. I"
    );
    let doc = checks::find("VIRTUAL-LATE").unwrap().doc;
    for note in [
        "regla 2.5.2",
        "3.3.13",
        "first 10 business days",
        "first 20 days",
    ] {
        assert!(doc.contains(note), "VIRTUAL-LATE.md lacks {note}");
    }
}

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn ingest_into(inputs: &[PathBuf], ds: &Path) {
    ingest::run(
        inputs,
        ds,
        &ingest::IngestOptions {
            force: false,
            ..Default::default()
        },
    )
    .expect("ingest");
}

fn audit(ds: &Path, as_of: Option<NaiveDate>) -> (AuditContext, DataFrame) {
    let ctx = AuditContext::open(
        ds,
        AuditOptions {
            as_of,
            ..Default::default()
        },
    )
    .expect("open");
    let sel = checks::select(&["virtual".to_string()]).unwrap();
    assert_eq!(sel.len(), 4, "four checks in group virtual");
    let df = checks::run(&ctx, &sel).expect("run");
    (ctx, df)
}

fn cell(df: &DataFrame, c: &str, i: usize) -> String {
    match df.column(c).unwrap().get(i).unwrap() {
        AnyValue::Null => String::new(),
        AnyValue::String(s) => s.to_string(),
        AnyValue::StringOwned(s) => s.to_string(),
        v => v.to_string().trim_matches('"').to_string(),
    }
}

fn rows(df: &DataFrame, cols: &[&str]) -> Vec<String> {
    (0..df.height())
        .map(|i| {
            cols.iter()
                .map(|c| cell(df, c, i))
                .collect::<Vec<_>>()
                .join(",")
        })
        .collect()
}

#[test]
fn split_allocation_adds_up() {
    let tmp = tempfile::tempdir().unwrap();
    let ds = tmp.path().join("ds");
    ingest_into(&[root().join("fixtures/VIRTUAL-SPLIT/input.csv")], &ds);
    let (ctx, df) = audit(&ds, NaiveDate::from_ymd_opt(2024, 6, 30));
    assert_eq!(df.height(), 0);
    let t = virtual_pairing::virtual_tables(&ctx).unwrap();
    let got = rows(
        &t.pairs
            .clone()
            .lazy()
            .sort(["sender_id", "receiver_id"], Default::default())
            .collect()
            .unwrap(),
        &[
            "sender_id",
            "receiver_id",
            "group_senders",
            "group_receivers",
            "allocated_quantity",
        ],
    );
    assert_eq!(
        got,
        vec![
            "2024-240-3001-4000006,2024-240-3000-4000006,1,2,80.00000",
            "2024-240-3001-4000006,2024-240-3000-4000007,1,2,40.00000",
            "2024-240-3001-4000008,2024-240-3000-4000008,2,1,30.00000",
            "2024-240-3001-4000009,2024-240-3000-4000008,2,1,20.00000",
        ]
    );
}

fn generated(inject: Vec<Violation>) -> (tempfile::TempDir, PathBuf, generate::History) {
    let cfg = generate::Config {
        seed: 7,
        companies: 4,
        start_year: 2021,
        years: 2,
        partidas: 2500,
        inject,
        bom_share: 0.0,
    };
    let h = generate::generate(&cfg);
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("datastage");
    generate::writers::write_datastage(&h, &dir).unwrap();
    let ds = tmp.path().join("ds");
    ingest_into(&[dir], &ds);
    (tmp, ds, h)
}

#[test]
fn generated_clean_history_has_no_virtual_findings() {
    let (_tmp, ds, h) = generated(vec![]);
    let (ctx, df) = audit(&ds, None);
    assert_eq!(df.height(), 0, "{df}");
    let t = virtual_pairing::virtual_tables(&ctx).unwrap();
    let n_virtual: usize = h
        .years
        .values()
        .flat_map(|y| &y.pedimentos)
        .filter(|p| p.clave == "V1")
        .count();
    assert!(n_virtual > 20, "the clean history has virtual transfers");
    assert_eq!(t.pairs.height() * 2, n_virtual, "every V1 is paired once");
}

#[test]
fn generated_injected_virtual_violations_are_all_found() {
    let kinds = vec![
        Violation::VirtualUnpaired,
        Violation::VirtualMismatch,
        Violation::VirtualLate,
    ];
    let (_tmp, ds, h) = generated(kinds);
    let (_ctx, df) = audit(&ds, None);
    let got: BTreeSet<String> = rows(&df, &["check_code", "rfc", "pedimento_id", "quantity"])
        .into_iter()
        .collect();
    let want: BTreeSet<String> = h
        .injected
        .iter()
        .filter(|i| i.check_code.starts_with("VIRTUAL-"))
        .map(|i| {
            format!(
                "{},{},{},{}",
                i.check_code,
                i.rfc,
                i.pedimento_id,
                i.quantity
                    .round_dp(5)
                    .to_string()
                    .parse::<rust_decimal::Decimal>()
                    .unwrap()
                    .round_dp(5)
            )
        })
        .collect();
    assert_eq!(want.len(), 12, "3 kinds x 4 companies");
    // Quantities print with 5 decimals in polars; compare on the numeric value.
    let norm = |s: &String| -> String {
        let mut p: Vec<String> = s.split(',').map(str::to_string).collect();
        let q: rust_decimal::Decimal = p[3].parse().unwrap();
        p[3] = q.normalize().to_string();
        p.join(",")
    };
    let got: BTreeSet<String> = got.iter().map(norm).collect();
    let want: BTreeSet<String> = want.iter().map(norm).collect();
    assert_eq!(got, want);
}
