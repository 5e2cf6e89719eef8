//! Company records the descargo ledger reconciles with (issue #18): destruction records of
//! desperdicios (profile `desperdicios.csv`) and, below, the company's own Anexo 24
//! descargo report (SALDO-DIFF). One hand-checked fixture per point under
//! fixtures/ledger_rules/<point>/ (its README computes every number and names the rule);
//! golden findings in tests/golden/ledger_<point>.txt; every fixture also checks that the
//! native ledger equals its SQL definition. The seed-line trail is in docs/citations.md
//! (section "Ledger").

mod common;
use chrono::NaiveDate;
use common::*;
use pedaudit::checks::AuditOptions;
use polars::prelude::*;
use proptest::prelude::*;

fn dir(point: &str) -> std::path::PathBuf {
    root().join("fixtures/ledger_rules").join(point)
}

fn open(point: &str, as_of: &str) -> (tempfile::TempDir, std::path::PathBuf, AuditOptions) {
    let (d, ds, r) = ingest(&[dir(point).join("pedimentos.csv")]);
    assert_eq!(r.rejected, 0, "{:?}", r.files);
    let opts = AuditOptions {
        as_of: Some(as_of.parse::<NaiveDate>().unwrap()),
        profiles: Some(dir(point).join("profiles")),
        ..Default::default()
    };
    (d, ds, opts)
}

const P: &str = "2022-240-3953-";

/// Destruction records discharge desperdicio by PEPS, or from the lot they name; the BOM
/// explosion of a company with destruction records applies merma only (fixture README:
/// 510 = 100 × 5 × 1.02, acta DS-2022-01 20 kg PEPS from 4000001, DS-2022-02 30 kg EXPLICIT
/// from 4000002, DS-2022-03 of a fracción never imported: EXCESS 5).
#[test]
fn desperdicios_discharge_open_lots() {
    let (_d, ds, opts) = open("desperdicios", "2022-12-31");
    let (ctx, df) = audit(&ds, opts, &["temp"]);
    let a = ctx.table("ledger_allocations").collect().unwrap();
    let got = table(
        &a,
        &[
            "method",
            "fraccion",
            "import_id",
            "discharge_id",
            "discharge_clave",
            "cantidad",
            "bom_desperdicio_pct",
        ],
    );
    let i1 = format!("{P}4000001");
    let i2 = format!("{P}4000002");
    let rt = format!("{P}4000003");
    assert_eq!(
        got,
        vec![
            v(&[
                "FIFO",
                "39011001",
                &i1,
                "2022-240-3953-4000003",
                "RT",
                "510.00000",
                "0.000000"
            ]),
            v(&[
                "FIFO",
                "39011001",
                &i1,
                "ACTA DS-2022-01",
                "DESTRUCCION",
                "20.00000",
                ""
            ]),
            v(&[
                "EXPLICIT",
                "39011001",
                &i2,
                "ACTA DS-2022-02",
                "DESTRUCCION",
                "30.00000",
                ""
            ]),
            v(&[
                "EXCESS",
                "73181599",
                "",
                "ACTA DS-2022-03",
                "DESTRUCCION",
                "5.00000",
                ""
            ]),
        ],
        "{rt}"
    );
    let b = ctx.table("ledger_balances").collect().unwrap();
    assert_eq!(
        table(
            &b,
            &[
                "pedimento_id",
                "imported",
                "discharged",
                "open_qty",
                "estado"
            ]
        ),
        vec![
            v(&[&i1, "1000.00000", "530.00000", "470.00000", "vigente"]),
            v(&[&i2, "500.00000", "30.00000", "470.00000", "vigente"]),
        ]
    );
    let ex = rows(&df, "DESCARGO-EXCESS");
    assert_eq!(
        ex,
        vec![(
            "ACTA DS-2022-03".into(),
            "5.00000".into(),
            String::new(),
            String::new(),
            String::new()
        )]
    );
    assert!(rows(&df, "DESCARGO-NO-BOM").is_empty());
    golden("ledger_desperdicios.txt", &render(&df));
    assert_native_ledger_equals_sql(&ctx);
}

fn load(csv: &str) -> Result<DataFrame, String> {
    let d = tempfile::tempdir().unwrap();
    std::fs::write(d.path().join("desperdicios.csv"), csv).unwrap();
    pedaudit::profile::load_table(Some(d.path()), &pedaudit::profile::DESPERDICIOS).map_err(|e| {
        e.to_string()
            .replace(&d.path().display().to_string(), "DIR")
    })
}

/// desperdicios.csv is validated like the other profiles: file:line:field errors.
#[test]
fn desperdicios_profile_validation() {
    const H: &str = "rfc,fecha,acta,fraccion,umt,cantidad,pedimento\n";
    let ok = load(&format!(
        "{H}des101010ds1,2022-07-15,A1,39011001,1,20.5,22 240 3953 4000002\n"
    ))
    .unwrap();
    assert_eq!(cell(&ok, "rfc", 0), "DES101010DS1");
    assert_eq!(cell(&ok, "pedimento", 0), "2022-240-3953-4000002");
    assert_eq!(cell(&ok, "cantidad", 0), "20.50000");
    let cases = [
        (
            "DES101010DS1,2022-07-15,A1,39011001,1,0,\n",
            "DIR/desperdicios.csv:2: field 'cantidad'",
        ),
        (
            "DES101010DS1,2022-07-15,A1,39011001,1,1.000001,\n",
            "DIR/desperdicios.csv:2: field 'cantidad'",
        ),
        (
            "DES101010DS1,2022-13-15,A1,39011001,1,1,\n",
            "DIR/desperdicios.csv:2: field 'fecha'",
        ),
        (
            "DES101010DS1,2022-07-15,,39011001,1,1,\n",
            "DIR/desperdicios.csv:2: field 'acta'",
        ),
        (
            "DES101010DS1,2022-07-15,A1,39011001,1,1,4000002\n",
            "DIR/desperdicios.csv:2: field 'pedimento'",
        ),
        (
            "DES101010DS1,2022-07-15,A1,39011001,1,1,\n\
             DES101010DS1,2022-07-15,A1,39011001,1,2,\n",
            "DIR/desperdicios.csv:3: field 'fraccion'",
        ),
    ];
    for (rows, want) in cases {
        let e = load(&format!("{H}{rows}")).unwrap_err();
        assert!(e.starts_with(want), "{rows}: {e}");
    }
}

/// SALDO-DIFF: the company's Anexo 24 report follows another PEPS inside import 5000001 /
/// 5000002 and names an import the dataset does not hold (fixture README: +100 on 5000001,
/// -100 on 5000002, both 2000.00 and differing on return 5000004; -5 on 5000099). Lot B of
/// 5000002 agrees (40 = 40; the 2024 return is after the as-of date on both sides).
#[test]
fn saldo_diff_reconciles_the_company_report() {
    let (_d, ds, opts) = open("saldo_diff", "2023-12-31");
    let (ctx, df) = audit(&ds, opts, &["SALDO-DIFF"]);
    let f = df
        .clone()
        .lazy()
        .sort(["pedimento_id"], Default::default())
        .collect()
        .unwrap();
    let q = "2023-240-3953-";
    assert_eq!(
        table(
            &f,
            &[
                "pedimento_id",
                "partida",
                "related_pedimento_id",
                "fraccion",
                "quantity",
                "amount",
                "rfc"
            ]
        ),
        vec![
            v(&[
                &format!("{q}5000001"),
                "1",
                &format!("{q}5000004"),
                "39011001",
                "100.00000",
                "2000.00",
                "SAL101010SD1"
            ]),
            v(&[
                &format!("{q}5000002"),
                "1",
                &format!("{q}5000004"),
                "39011001",
                "-100.00000",
                "2000.00",
                "SAL101010SD1"
            ]),
            v(&[
                &format!("{q}5000099"),
                "",
                &format!("{q}5000004"),
                "39011001",
                "-5.00000",
                "",
                "SAL101010SD1"
            ]),
        ]
    );
    let m = cell(&f, "message", 0);
    assert!(
        m.contains("saldo 100.00000 per the company Anexo 24 report, 0.00000 per the ledger"),
        "{m}"
    );
    assert!(cell(&f, "message", 2).contains("not a temporary import"));
    golden("ledger_saldo_diff.txt", &render(&f));
    assert_native_ledger_equals_sql(&ctx);
    // With the 2024 return inside the window both sides count it: still only the A lots.
    let (_d2, ds2, mut o2) = open("saldo_diff", "2023-12-31");
    o2.as_of = Some("2024-06-30".parse().unwrap());
    let (_c2, df2) = audit(&ds2, o2, &["SALDO-DIFF"]);
    assert_eq!(df2.height(), 3);
    // Without the report file: nothing.
    let (_d3, ds3, mut o3) = open("saldo_diff", "2023-12-31");
    o3.profiles = Some(dir("desperdicios").join("profiles"));
    let (_c3, df3) = audit(&ds3, o3, &["SALDO-DIFF"]);
    assert_eq!(df3.height(), 0);
}

/// descargos_anexo24.csv is validated like the other profiles.
#[test]
fn anexo24_profile_validation() {
    const H: &str = "pedimento_descargo,pedimento_importacion,partida,fraccion,cantidad\n";
    let load = |rows: &str| {
        let d = tempfile::tempdir().unwrap();
        std::fs::write(d.path().join("descargos_anexo24.csv"), format!("{H}{rows}")).unwrap();
        pedaudit::profile::load_table(Some(d.path()), &pedaudit::profile::ANEXO24).map_err(|e| {
            e.to_string()
                .replace(&d.path().display().to_string(), "DIR")
        })
    };
    let ok = load("acta ds-1,23 240 3953 5000001,,39011001,1\n").unwrap();
    assert_eq!(cell(&ok, "pedimento_descargo", 0), "ACTA ds-1");
    assert_eq!(
        cell(&ok, "pedimento_importacion", 0),
        "2023-240-3953-5000001"
    );
    for (rows, want) in [
        (
            "5000003,2023-240-3953-5000001,1,39011001,1\n",
            "DIR/descargos_anexo24.csv:2: field 'pedimento_descargo'",
        ),
        (
            "2023-240-3953-5000003,2023-240-3953-5000001,x,39011001,1\n",
            "DIR/descargos_anexo24.csv:2: field 'partida'",
        ),
        (
            "2023-240-3953-5000003,2023-240-3953-5000001,1,39011001,-1\n",
            "DIR/descargos_anexo24.csv:2: field 'cantidad'",
        ),
    ] {
        let e = load(rows).unwrap_err();
        assert!(e.starts_with(want), "{rows}: {e}");
    }
}

/// PEPS by the moment of payment: two imports paid the same day at 13:58 (3000001) and
/// 11:48 (3000002); the return discharges the 11:48 one, and the expired balance (value
/// 2000, IGI 200, IVA 352) sits on 3000001 (fixture README).
#[test]
fn peps_orders_same_day_imports_by_payment_time() {
    let (_d, ds, opts) = open("peps_hora", "2023-09-01");
    let (ctx, df) = audit(&ds, opts, &["temp"]);
    let a = ctx.table("ledger_allocations").collect().unwrap();
    assert_eq!(
        table(&a, &["method", "import_id", "discharge_id", "cantidad"]),
        vec![v(&[
            "FIFO",
            "2022-240-3953-3000002",
            "2022-240-3953-3000003",
            "100.00000"
        ])]
    );
    let exp = rows(&df, "TEMP-EXPIRED");
    assert_eq!(
        exp,
        vec![(
            "2022-240-3953-3000001".into(),
            "100.00000".into(),
            "2000.00".into(),
            "200.00".into(),
            "352.00".into()
        )]
    );
    let m = ctx
        .table("ledger_movements")
        .filter(col("kind").eq(lit("I")))
        .sort(["pedimento_id"], Default::default())
        .collect()
        .unwrap();
    assert_eq!(
        table(&m, &["pedimento_id", "pago"]),
        vec![
            v(&["2022-240-3953-3000001", "2022-01-10 13:58:00"]),
            v(&["2022-240-3953-3000002", "2022-01-10 11:48:00"]),
        ]
    );
    golden("ledger_peps_hora.txt", &render(&df));
    assert_native_ledger_equals_sql(&ctx);
}

/// (company, day, hour of payment, quantity, operation, explicit (movement index, quantity)).
/// Operations: 0 IN of insumo A 39011001; 1 AF import of machine M 84798999; 2 RT of A;
/// 3 RT of product Z 85371099 (exploded through the BOM into A); 4 F5 of M (activo-fijo
/// pool); 5 RT of M without AF (insumo pool: finds nothing, pools never mix).
type Op = (u8, u8, u8, u16, u8, Option<(u8, u16)>);

fn ops() -> impl Strategy<Value = Vec<Op>> {
    prop::collection::vec(
        (
            0u8..2,
            0u8..200,
            0u8..24,
            1u16..500,
            0u8..6,
            prop::option::weighted(0.3, (0u8..40, 1u16..500)),
        ),
        1..40,
    )
}

/// Destruction records: (company, day, quantity, import named (movement index)).
fn actas() -> impl Strategy<Value = Vec<(u8, u8, u16, Option<u8>)>> {
    prop::collection::vec(
        (
            0u8..2,
            0u8..200,
            1u16..300,
            prop::option::weighted(0.4, 0u8..40),
        ),
        0..8,
    )
}

proptest! {
    // Four cases from a fixed seed (repeatable in CI); PROPTEST_CASES and
    // PROPTEST_RNG_SEED widen or vary the search.
    #![proptest_config(common::proptest_config(4))]
    /// The ledger conserves quantity with BOM explosion, per-regime pools, destruction
    /// records and payment times: per company, imported = discharged from imports + open,
    /// and every discharged unit is allocated or an excess; the native sweep equals the SQL.
    #[test]
    fn ledger_conserves_quantity_with_bom_pools_and_destruction(moves in ops(), des in actas()) {
        let dir = tempfile::tempdir().unwrap();
        let csv = dir.path().join("h.csv");
        let prof = dir.path().join("profiles");
        std::fs::create_dir_all(&prof).unwrap();
        let rfcs = ["AAA010101AA1", "BBB020202BB2"];
        let mut s = String::from("pedimento,tipo_operacion,clave,rfc,immex_programa,fecha_pago,partida,fraccion,umt,cantidad_umt,valor_aduana,valor_comercial,valor_dolares,descargo_pedimento,descargo_fraccion,descargo_cantidad\n");
        let id = |i: usize| format!("2023-240-3953-{:07}", 3000000 + i);
        for (i, (c, day, hour, q, op, exp)) in moves.iter().enumerate() {
            let date = chrono::NaiveDate::from_ymd_opt(2023, 1, 1).unwrap()
                + chrono::Duration::days(*day as i64);
            let (t, clave, fr, umt) = match op {
                0 => (1, "IN", "39011001", "1"),
                1 => (1, "AF", "84798999", "6"),
                2 => (2, "RT", "39011001", "1"),
                3 => (2, "RT", "85371099", "6"),
                4 => (1, "F5", "84798999", "6"),
                _ => (2, "RT", "84798999", "6"),
            };
            let desc = match exp {
                Some((k, eq)) if t == 2 => format!("{},{fr},{eq}", id(*k as usize % moves.len())),
                _ => ",,".to_string(),
            };
            s.push_str(&format!(
                "{},{t},{clave},{},1234567,{date} {hour:02}:30:00,1,{fr},{umt},{q},{q}.00,{q}.00,1.00,{desc}\n",
                id(i),
                rfcs[*c as usize]
            ));
        }
        std::fs::write(&csv, s).unwrap();
        let mut b = String::from("rfc,producto_fraccion,producto_parte,insumo_fraccion,umt,consumo,merma_pct,desperdicio_pct,valid_from,valid_to\n");
        for r in rfcs {
            b.push_str(&format!("{r},85371099,,39011001,1,2,1.5,3,2020-01-01,\n"));
        }
        std::fs::write(prof.join("bom.csv"), b).unwrap();
        let mut d = String::from("rfc,fecha,acta,fraccion,umt,cantidad,pedimento\n");
        for (i, (c, day, q, k)) in des.iter().enumerate() {
            let date = chrono::NaiveDate::from_ymd_opt(2023, 1, 1).unwrap()
                + chrono::Duration::days(*day as i64);
            let named = k.map(|k| id(k as usize % moves.len())).unwrap_or_default();
            d.push_str(&format!("{},{date},A{i},39011001,1,{q},{named}\n", rfcs[*c as usize]));
        }
        std::fs::write(prof.join("desperdicios.csv"), d).unwrap();
        let ds = dir.path().join("ds");
        pedaudit::ingest::run(&[csv], &ds, &Default::default()).unwrap();
        let ctx = pedaudit::checks::AuditContext::open(&ds, AuditOptions {
            as_of: Some(chrono::NaiveDate::from_ymd_opt(2030, 1, 1).unwrap()),
            profiles: Some(prof),
            ..Default::default()
        }).unwrap();
        assert_native_ledger_equals_sql(&ctx);
        let sum = |lf: LazyFrame, c: &str| -> rust_decimal::Decimal {
            let df = lf.select([col(c).sum()]).collect().unwrap();
            let s = df.column(c).unwrap().get(0).unwrap().to_string();
            if s == "null" { rust_decimal::Decimal::ZERO } else { s.parse().unwrap() }
        };
        for rfc in rfcs {
            let f = |t: &str| ctx.table(t).filter(col("rfc").eq(lit(rfc)));
            let imported = sum(f("ledger_movements").filter(col("kind").eq(lit("I"))), "cantidad");
            let discharged = sum(f("ledger_movements").filter(col("kind").eq(lit("D"))), "cantidad");
            let alloc = sum(f("ledger_allocations").filter(col("import_id").is_not_null()), "cantidad");
            let excess = sum(f("ledger_allocations").filter(col("import_id").is_null()), "cantidad");
            let open = sum(f("ledger_balances"), "open_qty");
            prop_assert_eq!(imported, alloc + open);
            prop_assert_eq!(discharged, alloc + excess);
        }
        // Pools never mix: no PEPS allocation pairs an activo-fijo import with an RT (which
    // without AF discharges insumos; an explicit descargo follows the import it names).
        let mixed = ctx.table("ledger_allocations").filter(col("import_id").is_not_null())
            .join(ctx.table("ledger_movements").filter(col("kind").eq(lit("I"))),
                  [col("import_id"), col("import_partida")], [col("pedimento_id"), col("partida")],
                  JoinArgs::new(JoinType::Inner))
            .filter(col("method").eq(lit("FIFO")))
            .filter(col("pool").eq(lit("activo_fijo")).and(col("discharge_clave").eq(lit("RT"))))
            .collect().unwrap();
        prop_assert_eq!(mixed.height(), 0);
    }
}

/// A 512 naming the original of a rectified import applies to the rectificación in force
/// (fixture README: EXPLICIT 40 from R1 6000003, not PEPS from the older 6000001).
#[test]
fn explicit_descargo_follows_the_rectification_chain() {
    let (_d, ds, opts) = open("rect_512", "2022-12-31");
    let (ctx, _df) = audit(&ds, opts, &["temp"]);
    let a = ctx.table("ledger_allocations").collect().unwrap();
    assert_eq!(
        table(&a, &["method", "import_id", "discharge_id", "cantidad"]),
        vec![v(&[
            "EXPLICIT",
            "2022-240-3953-6000003",
            "2022-240-3953-6000004",
            "40.00000"
        ])]
    );
    let b = ctx.table("ledger_balances").collect().unwrap();
    assert_eq!(
        table(&b, &["pedimento_id", "discharged", "open_qty"]),
        vec![
            v(&["2022-240-3953-6000001", "0.00000", "100.00000"]),
            v(&["2022-240-3953-6000003", "40.00000", "60.00000"]),
        ]
    );
    assert_native_ledger_equals_sql(&ctx);
}
