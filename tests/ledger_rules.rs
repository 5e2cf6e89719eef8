//! Descargo-ledger rules of issue #18 (sections 2 and 3), one hand-checked fixture per point
//! under fixtures/ledger_rules/<point>/ (pedimentos.csv + profiles/programas.csv). Each test
//! states the expected result, how it was computed by hand, and the rule it rests on; the
//! seed-line trail of every rule is in docs/citations.md (section "Ledger"). Every fixture
//! also checks that the native ledger equals its SQL definition.

mod common;
use chrono::NaiveDate;
use common::*;
use pedaudit::checks::{AuditContext, AuditOptions};
use polars::prelude::*;

fn dir(point: &str) -> std::path::PathBuf {
    root().join("fixtures/ledger_rules").join(point)
}

fn date(s: &str) -> NaiveDate {
    s.parse().unwrap()
}

/// Ingests a fixture and opens an audit of it at `as_of` with its profiles.
fn open(point: &str, as_of: &str) -> (tempfile::TempDir, std::path::PathBuf, AuditOptions) {
    let (d, ds, r) = ingest(&[dir(point).join("pedimentos.csv")]);
    assert_eq!(r.rejected, 0, "{:?}", r.files);
    let opts = AuditOptions {
        as_of: Some(date(as_of)),
        profiles: Some(dir(point).join("profiles")),
        ..Default::default()
    };
    (d, ds, opts)
}

fn cell(df: &DataFrame, c: &str, i: usize) -> String {
    match df.column(c).unwrap().get(i).unwrap() {
        AnyValue::Null => String::new(),
        v => v
            .get_str()
            .map(str::to_string)
            .unwrap_or_else(|| v.to_string()),
    }
}

/// ledger_balances as (pedimento_id, columns...) rows.
fn balances(ctx: &AuditContext, cols: &[&str]) -> Vec<Vec<String>> {
    let b = ctx.table("ledger_balances").collect().unwrap();
    (0..b.height())
        .map(|i| {
            std::iter::once("pedimento_id")
                .chain(cols.iter().copied())
                .map(|c| cell(&b, c, i))
                .collect()
        })
        .collect()
}

/// ledger_allocations as (method, import_id, discharge_id, cantidad) rows.
fn allocations(ctx: &AuditContext) -> Vec<(String, String, String, String)> {
    let a = ctx.table("ledger_allocations").collect().unwrap();
    (0..a.height())
        .map(|i| {
            (
                cell(&a, "method", i),
                cell(&a, "import_id", i),
                cell(&a, "discharge_id", i),
                cell(&a, "cantidad", i),
            )
        })
        .collect()
}

fn v(xs: &[&str]) -> Vec<String> {
    xs.iter().map(|s| s.to_string()).collect()
}

/// 2.1 A cancellation cuts off only the imports of the cancelled program.
/// programas: 1111111 (2015-01-01, open-ended, cancelled 2022-06-30, no prórroga) and
/// 2222222 (from 2022-07-15, open-ended).
/// - 2000001 IN 2022-03-01 declares IM 1111111: its program was cancelled, so it must leave
///   within 60 calendar days: 2022-06-30 + 60 = 2022-08-29 (< 18 months, 2023-09-01): vencido
///   at 2023-06-30 → TEMP-EXPIRED 10.
/// - 2000002 IN 2022-08-01 declares IM 2222222: 18 months, 2024-02-01: vigente.
/// - 2000003 IN 2022-09-01 without IM: by date the program in force is 2222222 (1111111 was
///   cancelled before): 2024-03-01, vigente.
/// - 2000004 IN 2022-10-03 declares IM 9999990, which the profile does not list: by date,
///   2222222: 2024-04-03, vigente.
///
/// Before the fix the latest cancellation of the company (2022-06-30) applied to all of them.
/// Rule: Manual de operación aduanera 2007, IMMEX, norma centesimadecimatercera (60 days after
/// the cancellation of *that* program; a new program covers its own imports).
#[test]
fn cancellation_cuts_only_its_program() {
    let (_d, ds, opts) = open("programs", "2023-06-30");
    let (ctx, df) = audit(&ds, opts, &["temp"]);
    assert_eq!(
        balances(&ctx, &["programa", "vence", "estado"]),
        vec![
            v(&["2022-240-3953-2000001", "1111111", "2022-08-29", "vencido"]),
            v(&["2022-240-3953-2000002", "2222222", "2024-02-01", "vigente"]),
            v(&["2022-240-3953-2000003", "2222222", "2024-03-01", "vigente"]),
            v(&["2022-240-3953-2000004", "2222222", "2024-04-03", "vigente"]),
        ]
    );
    let r = rows(&df, "TEMP-EXPIRED");
    assert_eq!(r.len(), 1, "{r:?}");
    assert_eq!(r[0].0, "2022-240-3953-2000001");
    assert_eq!(r[0].1, "10.00000");
}

/// 2.2 F4 on the export side (tipo_operacion 2) is a temporary export becoming definitive
/// (Anexo 22, Apéndice 2, clave F4, second supuesto; Ley Aduanera art. 114), not an IMMEX
/// discharge. 2000001 IN 10 on 2022-01-10 stays open (the F4 export of 2000002 does not
/// discharge it): plazo 2023-07-10, TEMP-EXPIRED 10 at 2023-09-01. The F4 export of
/// 73181599 (never imported) gives no DESCARGO-EXCESS. Before: 2000001 saldado and a
/// DESCARGO-EXCESS of 4 on 2000003.
#[test]
fn f4_export_is_not_a_discharge() {
    let (_d, ds, opts) = open("f4_export", "2023-09-01");
    let (ctx, df) = audit(&ds, opts, &["temp"]);
    assert!(allocations(&ctx).is_empty(), "{:?}", allocations(&ctx));
    assert!(rows(&df, "DESCARGO-EXCESS").is_empty());
    let r = rows(&df, "TEMP-EXPIRED");
    assert_eq!(r.len(), 1, "{r:?}");
    assert_eq!(
        (r[0].0.as_str(), r[0].1.as_str()),
        ("2022-240-3953-2000001", "10.00000")
    );
}

/// 2.3 Identificador AF (Anexo 22, Apéndice 8: activo fijo under a clave not exclusive to
/// it) on V1 transfers.
/// - Receiver RCV: V1 import 2000001 of a machine on 2022-01-10 with AF gets the activo-fijo
///   plazo (program 4444444 valid to 2030-12-31; Ley Aduanera art. 108 fr. III), tipo_bien
///   activo_fijo (out of the return-ratio denominator): vigente at 2023-09-01. Before: the
///   18-month insumo plazo, vencido since 2023-07-10 → TEMP-EXPIRED.
/// - Sender SND: an IN lot (2021-06-01, older) and an AF lot (2021-07-01) of the same
///   fracción; the V1 export with AF discharges the AF lot, not the older insumo lot.
#[test]
fn af_identificador_on_v1_transfers() {
    let (_d, ds, opts) = open("af_transfer", "2023-09-01");
    let (ctx, df) = audit(&ds, opts, &["temp"]);
    assert_eq!(
        balances(&ctx, &["tipo_bien", "vence", "estado"]),
        vec![
            v(&[
                "2022-240-3953-2000001",
                "activo_fijo",
                "2030-12-31",
                "vigente"
            ]),
            v(&["2021-240-3953-1000002", "insumo", "2022-12-01", "vencido"]),
            v(&[
                "2021-240-3953-1000003",
                "activo_fijo",
                "2030-12-31",
                "saldado"
            ]),
        ]
    );
    assert_eq!(
        allocations(&ctx),
        vec![(
            "FIFO".into(),
            "2021-240-3953-1000003".into(),
            "2022-240-3953-2000004".into(),
            "1.00000".into()
        )]
    );
    // The only expired lot is the sender's insumo (never discharged).
    let r = rows(&df, "TEMP-EXPIRED");
    assert_eq!(r.len(), 1, "{r:?}");
    assert_eq!(r[0].0, "2021-240-3953-1000002");
}

/// 2.4 Pools per regime: AF lot 2000001 (1 machine, 2022-01-05) and IN lot 2000002 (10,
/// 2022-01-10) of the same fracción and UMT. The RT of 10 (no AF) discharges the insumos
/// only: 10 from 2000002; the F5 of 1 (activo fijo, Anexo 22 Apéndice 2 clave F5) discharges
/// the AF lot. One shared pool gave RT → 1 AF + 9 IN and F5 → 1 IN.
#[test]
fn insumos_and_activo_fijo_do_not_share_a_pool() {
    let (_d, ds, opts) = open("pools", "2022-12-31");
    let (ctx, df) = audit(&ds, opts, &["temp"]);
    assert_eq!(
        allocations(&ctx),
        vec![
            (
                "FIFO".into(),
                "2022-240-3953-2000002".into(),
                "2022-240-3953-2000003".into(),
                "10.00000".into()
            ),
            (
                "FIFO".into(),
                "2022-240-3953-2000001".into(),
                "2022-240-3953-2000004".into(),
                "1.00000".into()
            ),
        ]
    );
    assert!(rows(&df, "DESCARGO-EXCESS").is_empty());
}

/// 2.5 Every temporary clave has its plazo. All imports on 2022-01-10 (fracciones 9503000k):
/// E1, E3, V5 (import side with IM: devolución to the IMMEX), V7: 18 months → 2023-07-10
/// (Ley Aduanera art. 108 fr. I); BP, AJ, BA: 6 months → 2022-07-10; AD, BD, BI: 1 year →
/// 2023-01-10 (art. 106; Manual de operación aduanera 2007, importaciones temporales);
/// E2, E4: activo fijo, program 7777777 open-ended → no end, vigente. The V5 import without
/// IM (95039999) is a resident's importación definitiva: no lot. The H1 returns of BP and AJ
/// and the RT of E1 discharge them: no DESCARGO-EXCESS (before: 3 false findings, and no
/// lot at all for E1-E4, V5, V7, BP, AD, BD, BI, AJ).
#[test]
fn every_temporary_clave_has_its_plazo() {
    let (_d, ds, opts) = open("plazos", "2023-09-01");
    let (ctx, df) = audit(&ds, opts, &["temp"]);
    let mut got: Vec<Vec<String>> = balances(&ctx, &["clave", "vence", "estado"])
        .into_iter()
        .map(|r| r[1..].to_vec())
        .collect();
    got.sort();
    let mut want = vec![
        v(&["AD", "2023-01-10", "vencido"]),
        v(&["AJ", "2022-07-10", "saldado"]),
        v(&["BA", "2022-07-10", "vencido"]),
        v(&["BD", "2023-01-10", "vencido"]),
        v(&["BI", "2023-01-10", "vencido"]),
        v(&["BP", "2022-07-10", "saldado"]),
        v(&["E1", "2023-07-10", "saldado"]),
        v(&["E2", "", "vigente"]),
        v(&["E3", "2023-07-10", "vencido"]),
        v(&["E4", "", "vigente"]),
        v(&["V5", "2023-07-10", "vencido"]),
        v(&["V7", "2023-07-10", "vencido"]),
    ];
    want.sort();
    assert_eq!(got, want);
    assert!(rows(&df, "DESCARGO-EXCESS").is_empty());
    assert!(rows(&df, "TEMP-PLAZO-UNKNOWN").is_empty());
}

/// 2.6 V4 (retorno virtual of insumos incorporated in parts listed in an automotive
/// constancia de transferencia; Anexo 22 Apéndice 2 clave V4) discharges: IN 50 on
/// 2022-01-10, V4 50 on 2022-06-01 → saldado, no TEMP-EXPIRED at 2023-09-01 (before: 50
/// open past 2023-07-10).
#[test]
fn v4_discharges_insumos() {
    let (_d, ds, opts) = open("v4", "2023-09-01");
    let (ctx, df) = audit(&ds, opts, &["temp"]);
    assert_eq!(
        balances(&ctx, &["discharged", "estado"]),
        vec![v(&["2022-240-3953-2000001", "50.00000", "saldado"])]
    );
    assert!(rows(&df, "TEMP-EXPIRED").is_empty());
}

/// 2.7 An empty fecha_fin is an open-ended program (docs/profile.md): the AF lot of a
/// company whose program 9999999 has no end and no cancellation stays vigente (Ley Aduanera
/// art. 108 fr. III: while the program is valid), no TEMP-PLAZO-UNKNOWN. A company without
/// any program row still gets TEMP-PLAZO-UNKNOWN (tests/ledger.rs, EEE).
#[test]
fn open_ended_program_keeps_activo_fijo_vigente() {
    let (_d, ds, opts) = open("open_ended", "2023-09-01");
    let (ctx, df) = audit(&ds, opts, &["temp"]);
    assert_eq!(
        balances(&ctx, &["programa", "vence", "estado"]),
        vec![v(&["2022-240-3953-2000001", "9999999", "", "vigente"])]
    );
    assert!(rows(&df, "TEMP-PLAZO-UNKNOWN").is_empty());
}

/// 2.8 A3 regularizes open temporary imports, but also goods never imported temporarily
/// (Anexo 22, Apéndice 2, clave A3, first supuesto): the A3 of 7 units of 73182999 (no
/// temporary import) gives no DESCARGO-EXCESS. The A3 of 12 of 73181699 discharges the 10
/// open units of 2000002 (IN 2021-01-11, plazo 2022-07-11) and the other 2 are dropped; the
/// regularization came 52 days after the plazo (2022-07-11 → 2022-09-01) → TEMP-LATE-RETURN 10.
#[test]
fn a3_discharges_open_imports_only() {
    let (_d, ds, opts) = open("a3", "2023-09-01");
    let (ctx, df) = audit(&ds, opts, &["temp"]);
    assert!(rows(&df, "DESCARGO-EXCESS").is_empty());
    assert_eq!(
        allocations(&ctx),
        vec![(
            "FIFO".into(),
            "2021-240-3953-1000002".into(),
            "2022-240-3953-2000003".into(),
            "10.00000".into()
        )]
    );
    let r = rows(&df, "TEMP-LATE-RETURN");
    assert_eq!(r.len(), 1, "{r:?}");
    assert_eq!(r[0].1, "10.00000");
    let msg = cell(&df, "message", 0);
    assert!(msg.contains("52 day(s)"), "{msg}");
}

/// 3. TEMP-LATE-RETURN (RCGMCE 2013 regla 5.2.17 fr. VI; Ley Aduanera art. 183 fr. II):
/// - 2000001 IN 100 (valor 10,000.00, IGI 10 %, IVA 16 %) on 2022-01-10, plazo 2023-07-10;
///   RT 3000002 of 100 on 2023-08-09: 30 days late (21 days to 2023-07-31 + 9). Amount
///   10,000.00; IGI 1,000.00; IVA 16 % of 11,000.00 = 1,760.00.
/// - 2000003 IN 10 on 2022-02-01 returned 2022-05-02: on time, no finding.
/// - 2000005 IN 5 (valor 500.00, IGI 0) on 2022-08-31: 18 months end on 2024-02-29 (month
///   end, leap year); RT 4000006 on 2024-03-02: 2 days late. IVA 16 % of 500.00 = 80.00.
///
/// No finding is an as-of balance: TEMP-EXPIRED stays empty.
#[test]
fn temp_late_return_reports_days_and_contributions() {
    let (_d, ds, opts) = open("late_return", "2024-06-30");
    let (_ctx, df) = audit(&ds, opts, &["temp"]);
    assert!(rows(&df, "TEMP-EXPIRED").is_empty());
    let r = rows(&df, "TEMP-LATE-RETURN");
    assert_eq!(
        r,
        vec![
            (
                "2022-240-3953-2000001".into(),
                "100.00000".into(),
                "10000.00".into(),
                "1000.00".into(),
                "1760.00".into()
            ),
            (
                "2022-240-3953-2000005".into(),
                "5.00000".into(),
                "500.00".into(),
                "0.00".into(),
                "80.00".into()
            ),
        ]
    );
    let late = df
        .clone()
        .lazy()
        .filter(col("check_code").eq(lit("TEMP-LATE-RETURN")))
        .collect()
        .unwrap();
    let m0 = cell(&late, "message", 0);
    let m1 = cell(&late, "message", 1);
    assert!(
        m0.contains("30 day(s) after its plazo ended 2023-07-10"),
        "{m0}"
    );
    assert!(
        m1.contains("2 day(s) after its plazo ended 2024-02-29"),
        "{m1}"
    );
    assert_eq!(
        cell(&late, "related_pedimento_id", 0),
        "2023-240-3953-3000002"
    );
    // Before the plazo ended nothing is late: at 2023-08-01 the first RT has not happened.
    let (_d2, ds2, mut o2) = open("late_return", "2024-06-30");
    o2.as_of = Some(date("2023-08-01"));
    let (_c2, df2) = audit(&ds2, o2, &["TEMP-LATE-RETURN"]);
    assert!(rows(&df2, "TEMP-LATE-RETURN").is_empty());
}

/// The native ledger equals its SQL definition on every fixture of this file.
#[test]
fn native_ledger_equals_sql_on_rule_fixtures() {
    for (point, as_of) in [
        ("programs", "2023-06-30"),
        ("f4_export", "2023-09-01"),
        ("af_transfer", "2023-09-01"),
        ("pools", "2022-12-31"),
        ("plazos", "2023-09-01"),
        ("v4", "2023-09-01"),
        ("open_ended", "2023-09-01"),
        ("a3", "2023-09-01"),
        ("late_return", "2024-06-30"),
        ("bom", "2022-12-31"),
        ("desperdicios", "2022-12-31"),
        ("versions", "2012-06-30"),
        ("consolidado", "2023-07-31"),
    ] {
        let (_d, ds, opts) = open(point, as_of);
        let ctx = AuditContext::open(&ds, opts).unwrap();
        assert_native_ledger_equals_sql(&ctx);
    }
}

/// Rule versions (issue #19): the plazo and the default IVA rate are the versions in force
/// on the import's date (src/catalogs/plazos.csv, tasas_contribucion.csv; docs/rules.md).
/// IN imports, 10 units of 1000.00, IGI 10 % where declared, as of 2012-06-30:
/// - 2006-06-01: no plazo version covers the date (the earliest, MOA2007, starts 2007-01-01):
///   `plazo desconocido` and TEMP-PLAZO-UNKNOWN saying why, never the 18 months of a later
///   version;
/// - 2008-03-03: plazo MOA2007, 18 months → 2009-09-03, vencido; no IVA rate declared and the
///   default version (16 %, LIVA2010) starts 2010-01-01: IVA empty and the message says so;
/// - 2010-02-01: 18 months → 2011-08-01, vencido; IVA at the default 16 % of
///   (1000.00 + 100.00) = 176.00, the citation names the version.
#[test]
fn plazo_and_default_iva_rate_by_version_in_force() {
    let (_d, ds, opts) = open("versions", "2012-06-30");
    let (ctx, df) = audit(&ds, opts, &["temp"]);
    let b = balances(&ctx, &["vence", "estado", "cita"]);
    assert_eq!(b.len(), 3);
    assert_eq!(b[0][0], "2006-240-3953-6000001");
    assert_eq!(
        (b[0][1].as_str(), b[0][2].as_str()),
        ("", "plazo desconocido")
    );
    assert!(
        b[0][3].starts_with("No version of the plazo of clave IN in force on 2006-06-01"),
        "{}",
        b[0][3]
    );
    assert_eq!(
        (b[1][1].as_str(), b[1][2].as_str()),
        ("2009-09-03", "vencido")
    );
    assert!(
        b[1][3].starts_with("[MOA2007] Ley Aduanera art. 108 fr. I"),
        "{}",
        b[1][3]
    );
    assert_eq!(
        (b[2][1].as_str(), b[2][2].as_str()),
        ("2011-08-01", "vencido")
    );
    assert_eq!(
        rows(&df, "TEMP-EXPIRED"),
        vec![
            (
                "2008-240-3953-8000001".into(),
                "10.00000".into(),
                "1000.00".into(),
                "100.00".into(),
                "".into()
            ),
            (
                "2010-240-3953-0000001".into(),
                "10.00000".into(),
                "1000.00".into(),
                "100.00".into(),
                "176.00".into()
            ),
        ]
    );
    let f = df
        .clone()
        .lazy()
        .filter(col("check_code").eq(lit("TEMP-EXPIRED")))
        .sort(["pedimento_id"], Default::default())
        .collect()
        .unwrap();
    assert!(cell(&f, "message", 0).contains(
        "IVA unknown: the pedimento declares no IVA rate and no default rate is in force on 2008-03-03"
    ));
    assert!(!cell(&f, "citation", 0).contains("LIVA2010"));
    assert!(!cell(&f, "message", 1).contains("IVA unknown"));
    assert!(
        cell(&f, "citation", 1)
            .contains("; IVA at the default rate of [LIVA2010] Ley del IVA art. 1")
    );
    let u = df
        .clone()
        .lazy()
        .filter(col("check_code").eq(lit("TEMP-PLAZO-UNKNOWN")))
        .collect()
        .unwrap();
    assert_eq!(u.height(), 1);
    assert_eq!(cell(&u, "pedimento_id", 0), "2006-240-3953-6000001");
    assert!(
        cell(&u, "message", 0)
            .contains("no version of the plazo rule in force on its date 2006-06-01"),
        "{}",
        cell(&u, "message", 0)
    );
    assert_native_ledger_equals_sql(&ctx);
}

/// Consolidated pedimentos (Ley Aduanera art. 37): the plazo start follows the reading in
/// force on the import's date (src/catalogs/virtual_versions.csv, inicio_plazo_consolidado).
/// fixtures/ledger_rules/consolidado, IN imports of 10 units, as of 2023-07-31 (60-day
/// expiring window):
/// - 2013-240-3953-3000001, consolidated, first remesa (fecha_seleccion) 2013-01-07, closing
///   (fecha_pago) 2013-02-12: MOA2007 is in force on 2013-01-07; the 2007 manual counts the
///   plazo from the first remesa, declared as the entry date (Manual de Operación Aduanera
///   2007, apartado E, norma 34ª; apartado D, norma 2ª): 2013-01-07 + 18 months =
///   2014-07-07 (the 2013 reading would give 2013-02-12 + 18 = 2014-08-12): vencido;
/// - 2022-240-3953-2000001, consolidated, first remesa 2022-01-10, closing 2022-02-15:
///   RCGMCE2013 is in force; RCGMCE 2013 regla 4.3.1 counts it from the closing of the
///   consolidated pedimento before the SAAI: 2022-02-15 + 18 = 2023-08-15, 15 days after
///   the as-of date: por vencer (TEMP-EXPIRING), where the 2007 reading (2023-07-10) would
///   make it vencido;
/// - 2022-240-3953-2000002, not consolidated (consolidado 0), selección 2022-01-10:
///   2023-07-10, vencido (TEMP-EXPIRED), its citation names no consolidated reading.
#[test]
fn consolidated_plazo_starts_by_the_reading_in_force() {
    let (_d, ds, opts) = open("consolidado", "2023-07-31");
    let (ctx, df) = audit(&ds, opts, &["temp"]);
    let b = balances(&ctx, &["vence", "estado", "cita"]);
    assert_eq!(b.len(), 3);
    let by_id = |id: &str| b.iter().find(|r| r[0] == id).unwrap().clone();
    let a = by_id("2013-240-3953-3000001");
    assert_eq!((a[1].as_str(), a[2].as_str()), ("2014-07-07", "vencido"));
    assert!(
        a[3].contains("; consolidated pedimento [MOA2007]: plazo from its first remesa 2013-01-07 (Manual de Operación Aduanera 2007, apartado E, norma 34ª)"),
        "{}",
        a[3]
    );
    let c = by_id("2022-240-3953-2000001");
    assert_eq!((c[1].as_str(), c[2].as_str()), ("2023-08-15", "por vencer"));
    assert!(
        c[3].contains("; consolidated pedimento [RCGMCE2013]: plazo from its closing 2022-02-15 (RCGMCE 2013 regla 4.3.1)"),
        "{}",
        c[3]
    );
    let n = by_id("2022-240-3953-2000002");
    assert_eq!((n[1].as_str(), n[2].as_str()), ("2023-07-10", "vencido"));
    assert!(!n[3].contains("consolidated"), "{}", n[3]);
    let codes = |code: &str| -> Vec<String> { rows(&df, code).into_iter().map(|r| r.0).collect() };
    assert_eq!(
        codes("TEMP-EXPIRED"),
        v(&["2013-240-3953-3000001", "2022-240-3953-2000002"])
    );
    assert_eq!(codes("TEMP-EXPIRING"), v(&["2022-240-3953-2000001"]));
    assert_native_ledger_equals_sql(&ctx);
}

/// Any plazo length in months: ledger_balances.sql has one branch per length that
/// src/catalogs/plazos.csv uses (polars SQL takes only literal intervals), and the native
/// ledger computes any length; this keeps the two in step when a clave is added.
#[test]
fn every_catalog_plazo_length_has_its_sql_branch() {
    let sql = include_str!("../queries/views/ledger_balances.sql");
    let mut r = csv::Reader::from_reader(pedaudit::model::catalog::PLAZOS.as_bytes());
    let h = r.headers().unwrap().clone();
    let mi = h.iter().position(|c| c == "meses").unwrap();
    let mut seen = 0;
    for rec in r.records() {
        let m = rec.unwrap()[mi].trim().to_string();
        if m.is_empty() {
            continue;
        }
        seen += 1;
        let branch = format!(
            "WHEN pl.meses = {m} THEN CAST(i.inicio_plazo + INTERVAL '{m} months' AS DATE)"
        );
        assert!(sql.contains(&branch), "ledger_balances.sql lacks: {branch}");
    }
    assert!(seen >= 3);
}

/// Catalog and ledger SQL carry legal instruments only (the line trail is in docs/).
#[test]
fn ledger_files_cite_instruments_not_seed_lines() {
    for f in [
        "src/catalogs/plazos.csv",
        "src/catalogs/discharge_claves.csv",
        "src/catalogs/tasas_contribucion.csv",
        "queries/views/ledger_movements.sql",
        "queries/views/ledger_allocations.sql",
        "queries/views/ledger_balances.sql",
        "queries/TEMP-EXPIRED.sql",
        "queries/TEMP-EXPIRED.md",
        "queries/TEMP-EXPIRING.sql",
        "queries/TEMP-EXPIRING.md",
        "queries/TEMP-PLAZO-UNKNOWN.sql",
        "queries/TEMP-PLAZO-UNKNOWN.md",
        "queries/TEMP-LATE-RETURN.sql",
        "queries/TEMP-LATE-RETURN.md",
        "queries/DESCARGO-EXCESS.sql",
        "queries/DESCARGO-EXCESS.md",
        "queries/DESCARGO-UNIT.sql",
        "queries/DESCARGO-UNIT.md",
        "queries/SALDO-DIFF.sql",
        "queries/SALDO-DIFF.md",
    ] {
        let t = std::fs::read_to_string(root().join(f)).unwrap();
        for bad in ["seed 00", "not in the seeds"] {
            assert!(!t.contains(bad), "{f} contains '{bad}'");
        }
    }
}

/// The native ledger's fixed output schemas ([`ledger_native::alloc_schema`],
/// [`ledger_native::balance_schema`]) are the ones polars plans for the SQL views, on a
/// plain history and on one with bills of materials and destruction actas: the SQL and
/// the native path cannot drift apart. (Planned, not run: only the schemas are compared.)
#[test]
fn fixed_ledger_schemas_equal_the_planned_sql() {
    use pedaudit::checks::ledger_native;
    let view = |n: &str| {
        let v = pedaudit::checks::VIEWS.iter().find(|v| v.0 == n).unwrap();
        (v.1, v.2)
    };
    let (afile, atext) = view("ledger_allocations");
    let (bfile, btext) = view("ledger_balances");
    for (point, as_of) in [("programs", "2023-06-30"), ("desperdicios", "2022-12-31")] {
        let (_d, ds, opts) = open(point, as_of);
        let ctx = AuditContext::open(&ds, opts).unwrap();
        let alloc = ctx.sql_lazy(atext, afile).unwrap();
        let alloc_schema = alloc.clone().collect_schema().unwrap();
        let balance_schema = ctx
            .sql_lazy_with(btext, bfile, &[("ledger_allocations", alloc)])
            .unwrap()
            .collect_schema()
            .unwrap();
        assert_eq!(
            *alloc_schema,
            ledger_native::alloc_schema(),
            "{point}: ledger_allocations.sql vs ledger_native::alloc_schema"
        );
        assert_eq!(
            *balance_schema,
            ledger_native::balance_schema(),
            "{point}: ledger_balances.sql vs ledger_native::balance_schema"
        );
    }
}
