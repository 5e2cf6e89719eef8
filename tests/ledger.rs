//! Descargo ledger and TEMP-*/DESCARGO-* checks on hand-checked fixtures
//! (fixtures/ledger/pedimentos.csv; expected values computed by hand in the comments).

mod common;
use common::*;
use pedaudit::checks::AuditOptions;
use polars::prelude::*;

fn fixture() -> (tempfile::TempDir, std::path::PathBuf) {
    let (d, ds, r) = ingest(&[root().join("fixtures/ledger/pedimentos.csv")]);
    assert_eq!(r.rejected, 0, "{:?}", r.files);
    (d, ds)
}

fn opts() -> AuditOptions {
    AuditOptions {
        profiles: Some(root().join("fixtures/ledger/profiles")),
        ..Default::default()
    }
}

#[test]
fn temp_expired_100_units_60_rt_30_f4_10_open() {
    let (_d, ds) = fixture();
    let (ctx, df) = audit(&ds, opts(), &["TEMP-EXPIRED"]);
    assert_eq!(ctx.as_of.to_string(), "2023-09-01");
    let r = rows(&df, "TEMP-EXPIRED");
    // AAA: 100 - 60 (RT) - 30 (F4) = 10 open since 2022-01-10, plazo ended 2023-07-10.
    // amount = 10000.00 * 10/100 = 1000.00; IGI 10% = 100.00; IVA 16% of 1100.00 = 176.00.
    // FFF: the explicit descargo names 2000041, so 2000040 (40 units, 4000.00) stays open.
    assert_eq!(
        r,
        vec![
            (
                "2022-240-3953-2000001".into(),
                "10.00000".into(),
                "1000.00".into(),
                "100.00".into(),
                "176.00".into()
            ),
            (
                "2022-240-3953-2000040".into(),
                "40.00000".into(),
                "4000.00".into(),
                "0.00".into(),
                "640.00".into()
            ),
        ]
    );
}

#[test]
fn fifo_across_two_imports_and_expiring() {
    let (_d, ds) = fixture();
    let (ctx, df) = audit(&ds, opts(), &["TEMP-EXPIRING"]);
    // BBB: imports 50 (Feb) + 50 (Mar), RT 70 in April: 50 from the first, 20 from the
    // second; 30 of the second open, plazo ends 2023-09-01 = as-of → por vencer.
    assert_eq!(
        rows(&df, "TEMP-EXPIRING"),
        vec![(
            "2022-240-3953-2000011".into(),
            "30.00000".into(),
            "3600.00".into(),
            "".into(),
            "".into()
        )]
    );
    let alloc = ctx
        .table("ledger_allocations")
        .filter(col("rfc").eq(lit("BBB020202BB2")))
        .select([col("import_id"), col("cantidad").cast(DataType::String)])
        .collect()
        .unwrap();
    let strs = |c: &str| -> Vec<String> {
        let s = alloc.column(c).unwrap().str().unwrap().clone();
        (0..s.len())
            .map(|i| s.get(i).unwrap().to_string())
            .collect()
    };
    let (ids, q) = (strs("import_id"), strs("cantidad"));
    assert_eq!(ids, vec!["2022-240-3953-2000010", "2022-240-3953-2000011"]);
    assert_eq!(q, vec!["50.00000", "20.00000"]);
}

#[test]
fn excess_unit_and_unknown_plazo() {
    let (_d, ds) = fixture();
    let (_ctx, df) = audit(
        &ds,
        opts(),
        &[
            "DESCARGO-EXCESS",
            "DESCARGO-NO-BOM",
            "DESCARGO-UNIT",
            "TEMP-PLAZO-UNKNOWN",
        ],
    );
    // 2000004 returns 73181599, which the company never imported and has no bill of
    // materials for: DESCARGO-NO-BOM (issue #18 §1), not DESCARGO-EXCESS.
    assert!(rows(&df, "DESCARGO-EXCESS").is_empty());
    assert_eq!(
        rows(&df, "DESCARGO-NO-BOM"),
        vec![(
            "2022-240-3953-2000004".into(),
            "25.00000".into(),
            "250.00".into(),
            "".into(),
            "".into()
        )]
    );
    assert_eq!(
        rows(&df, "DESCARGO-UNIT"),
        vec![(
            "2022-240-3953-2000013".into(),
            "12.00000".into(),
            "1200.00".into(),
            "".into(),
            "".into()
        )]
    );
    // Activo fijo without program dates → unknown; with program dates (DDD) → vigente.
    assert_eq!(
        rows(&df, "TEMP-PLAZO-UNKNOWN"),
        vec![(
            "2022-240-3953-2000031".into(),
            "1.00000".into(),
            "300000.00".into(),
            "".into(),
            "".into()
        )]
    );
}

#[test]
fn rectificacion_changes_quantity() {
    let (_d, ds) = fixture();
    let (ctx, df) = audit(&ds, opts(), &["temp"]);
    // CCC imported 200, rectified to 150 (R1), returned 150: nothing open, no finding.
    assert!(render(&df).lines().all(|l| !l.contains("CCC030303CC3")));
    let bal = ctx
        .table("ledger_balances")
        .filter(col("rfc").eq(lit("CCC030303CC3")))
        .collect()
        .unwrap();
    assert_eq!(bal.height(), 1);
    assert_eq!(
        bal.column("pedimento_id").unwrap().str().unwrap().get(0),
        Some("2022-240-3953-2000021")
    );
    assert_eq!(
        bal.column("estado").unwrap().str().unwrap().get(0),
        Some("saldado")
    );
    // The R1 keeps the original's selección date (plazo counts from it).
    assert_eq!(
        bal.column("fecha_operacion")
            .unwrap()
            .get(0)
            .unwrap()
            .to_string(),
        "2022-02-10"
    );
}

#[test]
fn activo_fijo_without_profile_is_unknown() {
    let (_d, ds) = fixture();
    let (_ctx, df) = audit(&ds, AuditOptions::default(), &["TEMP-PLAZO-UNKNOWN"]);
    assert_eq!(
        rows(&df, "TEMP-PLAZO-UNKNOWN").len(),
        2,
        "both AF imports lack program dates"
    );
}

#[test]
fn golden_findings_of_the_ledger_fixture() {
    let (_d, ds) = fixture();
    let (_ctx, df) = audit(&ds, opts(), &["temp", "data"]);
    golden("ledger_findings.txt", &render(&df));
}

#[test]
fn as_of_moves_the_state() {
    let (_d, ds) = fixture();
    let o = AuditOptions {
        as_of: Some(chrono::NaiveDate::from_ymd_opt(2023, 1, 1).unwrap()),
        ..opts()
    };
    let (_ctx, df) = audit(&ds, o, &["TEMP-EXPIRED"]);
    assert!(
        rows(&df, "TEMP-EXPIRED").is_empty(),
        "nothing has expired by 2023-01-01"
    );
}

/// The native ledger views and their SQL definitions agree on the hand-checked fixture.
#[test]
fn native_ledger_equals_the_sql_ledger() {
    let (_d, ds) = fixture();
    let ctx = pedaudit::checks::AuditContext::open(&ds, opts()).unwrap();
    assert!(ctx.table("ledger_allocations").collect().unwrap().height() > 0);
    assert_native_ledger_equals_sql(&ctx);
}
