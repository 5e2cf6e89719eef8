//! Issue #18 section 1: returns of transformed goods through a bill of materials
//! (profile `bom.csv`). Fixture fixtures/ledger_rules/bom/ (its README hand-checks the
//! ledger). Rules: Ley Aduanera arts. 2 fr. XI, 108, 109; Anexo 5 RGCE 2017 criterio
//! 7/LA/N (mermas); the seed-line trail is in docs/citations.md, section "Ledger".

mod common;
use chrono::NaiveDate;
use common::*;
use pedaudit::checks::{AuditContext, AuditOptions};
use polars::prelude::*;

fn dir() -> std::path::PathBuf {
    root().join("fixtures/ledger_rules/bom")
}

fn open(as_of: &str) -> (tempfile::TempDir, std::path::PathBuf, AuditOptions) {
    let (d, ds, r) = ingest(&[dir().join("pedimentos.csv")]);
    assert_eq!(r.rejected, 0, "{:?}", r.files);
    let opts = AuditOptions {
        as_of: Some(as_of.parse::<NaiveDate>().unwrap()),
        profiles: Some(dir().join("profiles")),
        ..Default::default()
    };
    (d, ds, opts)
}

const P: &str = "2022-240-3953-";

fn id(n: &str) -> String {
    if n.is_empty() {
        String::new()
    } else {
        format!("{P}{n}")
    }
}

/// The two returns of product 85371099 (100 units each) explode into A 39011001
/// (5 kg + 2 % merma = 510), B 73181599 (3 pieces + 1 % desperdicio = 303) and C 32089099
/// (0.00125 kg = 0.125), discharged by PEPS from the 2022-01-10 import (A 1000, B 500,
/// C 1). The second return finds A 490 and B 197 open: EXCESS 20 and 106.
#[test]
fn bom_explodes_returns_into_insumos() {
    let (_d, ds, opts) = open("2022-12-31");
    let (ctx, _df) = audit(&ds, opts, &["temp"]);
    let a = ctx.table("ledger_allocations").collect().unwrap();
    let got = table(
        &a,
        &[
            "method",
            "fraccion",
            "import_id",
            "discharge_id",
            "cantidad",
            "producto_fraccion",
            "bom_consumo",
            "bom_valid_from",
        ],
    );
    let row = |m: &str, f: &str, i: &str, d: &str, q: &str, c: &str| {
        v(&[m, f, &id(i), &id(d), q, "85371099", c, "2021-01-01"])
    };
    assert_eq!(
        got,
        vec![
            row(
                "FIFO", "32089099", "2000001", "2000002", "0.12500", "0.001250"
            ),
            row(
                "FIFO", "32089099", "2000001", "2000005", "0.12500", "0.001250"
            ),
            row(
                "FIFO",
                "39011001",
                "2000001",
                "2000002",
                "510.00000",
                "5.000000"
            ),
            row("EXCESS", "39011001", "", "2000005", "20.00000", "5.000000"),
            row(
                "FIFO",
                "39011001",
                "2000001",
                "2000005",
                "490.00000",
                "5.000000"
            ),
            row(
                "FIFO",
                "73181599",
                "2000001",
                "2000002",
                "303.00000",
                "3.000000"
            ),
            row("EXCESS", "73181599", "", "2000005", "106.00000", "3.000000"),
            row(
                "FIFO",
                "73181599",
                "2000001",
                "2000005",
                "197.00000",
                "3.000000"
            ),
        ]
    );
    let b = ctx.table("ledger_balances").collect().unwrap();
    assert_eq!(
        table(&b, &["fraccion", "discharged", "open_qty", "estado"]),
        vec![
            v(&["32089099", "0.25000", "0.75000", "vigente"]),
            v(&["39011001", "1000.00000", "0.00000", "saldado"]),
            v(&["73181599", "500.00000", "0.00000", "saldado"]),
        ]
    );
}

/// Y 94032099 (no BOM, never imported) and W 84713001 (BOM expired 2021-12-31, before the
/// 2022-08-01 return) are DESCARGO-NO-BOM, not DESCARGO-EXCESS; the insumo excesses of the
/// second return of Z stay DESCARGO-EXCESS and name the product and BOM line.
/// Amounts: 60000 × 20 / 510 = 2352.94; 60000 × 106 / 303 = 20990.10.
#[test]
fn no_bom_and_insumo_excess_findings() {
    let (_d, ds, opts) = open("2022-12-31");
    let (_ctx, df) = audit(&ds, opts, &["temp"]);
    let nb = rows(&df, "DESCARGO-NO-BOM");
    assert_eq!(
        nb.iter()
            .map(|r| (r.0.clone(), r.1.clone(), r.2.clone()))
            .collect::<Vec<_>>(),
        vec![
            (id("2000003"), "10.00000".into(), "3000.00".into()),
            (id("2000004"), "5.00000".into(), "5000.00".into()),
        ]
    );
    let ex = rows(&df, "DESCARGO-EXCESS");
    assert_eq!(
        ex.iter()
            .map(|r| (r.0.clone(), r.1.clone(), r.2.clone()))
            .collect::<Vec<_>>(),
        vec![
            (id("2000005"), "20.00000".into(), "2352.94".into()),
            (id("2000005"), "106.00000".into(), "20990.10".into()),
        ]
    );
    let f = df
        .clone()
        .lazy()
        .filter(col("check_code").eq(lit("DESCARGO-EXCESS")))
        .collect()
        .unwrap();
    for i in 0..f.height() {
        let m = cell(&f, "message", i);
        assert!(m.contains("product fraccion 85371099"), "{m}");
        assert!(m.contains("valid from 2021-01-01"), "{m}");
    }
    let f = df
        .clone()
        .lazy()
        .filter(col("check_code").eq(lit("DESCARGO-NO-BOM")))
        .collect()
        .unwrap();
    assert!(cell(&f, "message", 0).contains("no line for this product"));
    assert!(cell(&f, "message", 1).contains("not valid on that date"));
    // No TEMP-EXPIRED for the insumos the returns consumed (as of their plazo).
    let (_d2, ds2, opts2) = open("2023-09-01");
    let (_c, df2) = audit(&ds2, opts2, &["temp"]);
    let exp = rows(&df2, "TEMP-EXPIRED");
    assert_eq!(exp.len(), 1, "{exp:?}");
    assert_eq!(exp[0].1, "0.75000");
}

/// The native ledger equals its SQL definition on the BOM fixture (exploded movements
/// share pedimento_id and partida and differ by fracción).
#[test]
fn native_ledger_equals_sql_on_bom_fixture() {
    for as_of in ["2022-06-30", "2022-12-31", "2023-09-01"] {
        let (_d, ds, opts) = open(as_of);
        let ctx = AuditContext::open(&ds, opts).unwrap();
        assert_native_ledger_equals_sql(&ctx);
    }
}

fn load(csv: &str) -> Result<DataFrame, String> {
    let d = tempfile::tempdir().unwrap();
    std::fs::write(d.path().join("bom.csv"), csv).unwrap();
    pedaudit::profile::load_table(Some(d.path()), &pedaudit::profile::BOM).map_err(|e| {
        e.to_string()
            .replace(&d.path().display().to_string(), "DIR")
    })
}

const H: &str = "rfc,producto_fraccion,producto_parte,insumo_fraccion,umt,consumo,merma_pct,desperdicio_pct,valid_from,valid_to\n";

/// bom.csv is validated like the other profiles: file:line:field errors.
#[test]
fn bom_profile_validation() {
    let ok = load(&format!(
        "{H}BOM101010BM1,85371099,,32089099,1,0.000125,0,,2021-01-01,\n"
    ))
    .unwrap();
    assert_eq!(cell(&ok, "consumo", 0), "0.000125");
    assert_eq!(
        ok.column("consumo").unwrap().dtype(),
        &DataType::Decimal(18, 6)
    );
    let cases = [
        (
            "BOM101010BM1,85371099,,32089099,1,0.0000001,0,,2021-01-01,\n",
            "DIR/bom.csv:2: field 'consumo'",
        ),
        (
            "BOM101010BM1,85371099,,32089099,1,-1,0,,2021-01-01,\n",
            "DIR/bom.csv:2: field 'consumo'",
        ),
        (
            "BOM101010BM1,85371099,,32089099,1,1,x,,2021-01-01,\n",
            "DIR/bom.csv:2: field 'merma_pct'",
        ),
        (
            "BOM101010BM1,85371099,,32089099,1,1,0,,2021-01-01,2020-12-31\n",
            "DIR/bom.csv:2: field 'valid_to'",
        ),
        (
            "BOM101010BM1,85371099,,32089099,1,1,0,,,\n",
            "DIR/bom.csv:2: field 'valid_from'",
        ),
        (
            "BOM101010BM1,85371099,,32089099,1,1,0,,2021-01-01,\n\
             BOM101010BM1,85371099,,32089099,1,2,0,,2021-06-01,\n",
            "DIR/bom.csv:3: field 'valid_from'",
        ),
    ];
    for (rows, want) in cases {
        let e = load(&format!("{H}{rows}")).unwrap_err();
        assert!(e.starts_with(want), "{rows}: {e}");
    }
    // Consecutive periods do not overlap.
    load(&format!(
        "{H}BOM101010BM1,85371099,,32089099,1,1,0,,2021-01-01,2021-05-31\n\
         BOM101010BM1,85371099,,32089099,1,2,0,,2021-06-01,\n"
    ))
    .unwrap();
}

/// A batched audit moves `ledger_movements` to the batch's scratch folder once the native
/// ledger has read it (checks/context.rs, `spill`): what each batch's checks read of the
/// three ledger tables equals the whole-dataset context's rows of its companies (same
/// schema, same rows), on a generated history with a bill of materials on every company.
#[test]
fn batched_ledger_tables_equal_the_whole_ones() {
    use pedaudit::checks::{self, Batching, CheckDef, Pass};
    use pedaudit::generate::{self, Config, Violation};
    let dir = tempfile::tempdir().unwrap();
    let h = generate::generate(&Config {
        seed: 23,
        companies: 3,
        years: 2,
        partidas: 4000,
        inject: Violation::ALL.to_vec(),
        bom_share: 1.0,
        ..Default::default()
    });
    let ds = dir.path().join("ds");
    generate::writers::write_dataset(&h, &ds).unwrap();
    generate::writers::write_profiles(&h, &dir.path().join("profiles")).unwrap();
    let mut opts = AuditOptions {
        profiles: Some(dir.path().join("profiles")),
        ..Default::default()
    };
    const VIEWS: [&str; 3] = ["ledger_movements", "ledger_allocations", "ledger_balances"];
    let all: Vec<&'static CheckDef> = checks::REGISTRY.iter().collect();
    let mut got: Vec<Vec<DataFrame>> = vec![vec![]; VIEWS.len()];
    let mut each = |ctx: &AuditContext, p: Pass| {
        if p == Pass::Companies {
            let plan = ctx.table("ledger_movements").describe_plan().unwrap();
            assert!(plan.contains("Parquet"), "not spilled: {plan}");
            // Only this batch's spilled view is on disk: earlier batches' contexts removed
            // theirs when dropped (this is the test binary's only batched audit).
            assert_eq!(spilled_views().len(), 1, "{:?}", spilled_views());
            for (k, v) in VIEWS.iter().enumerate() {
                got[k].push(ctx.table(v).collect().unwrap());
            }
        }
        Ok(())
    };
    let run = checks::run_with(&ds, &opts, &all, Batching::Companies(1), &mut each).unwrap();
    assert_eq!(run.batches, 3);
    opts.as_of = Some(run.as_of);
    let whole = AuditContext::open(&ds, opts).unwrap();
    for (k, v) in VIEWS.iter().enumerate() {
        let w = whole.table(v).collect().unwrap();
        let cols: Vec<String> = w.get_column_names().iter().map(|c| c.to_string()).collect();
        let cols: Vec<&str> = cols.iter().map(String::as_str).collect();
        let mut b: Option<DataFrame> = None;
        for df in &got[k] {
            assert_eq!(df.schema(), w.schema(), "{v}: schema");
            match b.as_mut() {
                Some(b) => {
                    b.vstack_mut(df).unwrap();
                }
                None => b = Some(df.clone()),
            }
        }
        let (mut want, mut have) = (table(&w, &cols), table(&b.unwrap(), &cols));
        want.sort();
        have.sort();
        assert!(want.len() > 100, "{v}: {} rows", want.len());
        assert_eq!(have, want, "{v}");
    }
    // The history exercises the bill of materials and the units the spilled table feeds.
    let m = whole.table("ledger_movements").collect().unwrap();
    let kinds = m.column("kind").unwrap().str().unwrap();
    assert!(kinds.iter().any(|k| k == Some("U")));
    assert!(m.column("producto_fraccion").unwrap().null_count() < m.height());
}

/// The spilled view files in this process's batch scratch folders
/// (`<temp>/pedaudit-batches-<pid>-*/b*/view-*.parquet`).
fn spilled_views() -> Vec<std::path::PathBuf> {
    let prefix = format!("pedaudit-batches-{}-", std::process::id());
    let ls = |d: &std::path::Path| -> Vec<std::path::PathBuf> {
        std::fs::read_dir(d)
            .into_iter()
            .flatten()
            .flatten()
            .map(|e| e.path())
            .collect()
    };
    ls(&std::env::temp_dir())
        .into_iter()
        .filter(|p| {
            p.file_name()
                .unwrap()
                .to_string_lossy()
                .starts_with(&prefix)
        })
        .flat_map(|d| ls(&d))
        .flat_map(|b| ls(&b))
        .filter(|f| {
            f.file_name()
                .unwrap()
                .to_string_lossy()
                .starts_with("view-")
        })
        .collect()
}
