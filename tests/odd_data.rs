//! Checks never crash on odd but valid data: zero quantities and values, negative values
//! in a rectificación, pedimentos paid on Feb 29, a plazo ending on a Saturday, a
//! company with a single pedimento, activo fijo without a program, a zero discharge.
//! The fixture is a CSV (layout in src/ingest/csv.rs); every check of the registry runs
//! at several evaluation dates (including Feb 29 and the weekend plazo end).

mod common;

use chrono::NaiveDate;
use common::*;
use pedaudit::checks::{self, AuditContext, AuditOptions};
use polars::prelude::*;

const CSV: &str = "pedimento,tipo_operacion,clave,clave_original,rfc,nombre,immex_programa,fecha_pago,fecha_seleccion,rectifica,partida,fraccion,umt,cantidad_umt,valor_aduana,valor_comercial,valor_dolares,descargo_pedimento,descargo_fraccion,descargo_cantidad,descargo_umt,identificadores
2024-240-3953-1000001,1,IN,,AAA010101AA1,Uno SA,IMMEX-1,2024-02-29,2024-02-29,,1,84713001,6,0,0,0,0,,,,,IM:IMMEX-1
2024-240-3953-1000001,1,IN,,AAA010101AA1,Uno SA,IMMEX-1,2024-02-29,2024-02-29,,2,84713002,6,100,1000,1000,55,,,,,IM:IMMEX-1
2023-240-3953-1000002,1,IN,,AAA010101AA1,Uno SA,IMMEX-1,2023-01-06,2023-01-06,,1,84713001,6,50,500,500,25,,,,,IM:IMMEX-1
2023-240-3953-1000003,1,R1,IN,AAA010101AA1,Uno SA,IMMEX-1,2023-02-01,,2023-240-3953-1000002,1,84713001,6,-5,-100,-100,-5,,,,,IM:IMMEX-1
2024-240-3953-1000004,2,RT,,AAA010101AA1,Uno SA,IMMEX-1,2024-02-29,2024-02-29,,1,84713001,6,5,50,50,3,2023-240-3953-1000003,84713001,5,6,IM:IMMEX-1
2024-240-3953-1000005,2,RT,,AAA010101AA1,Uno SA,IMMEX-1,2024-03-02,2024-03-02,,1,84713002,6,0,0,0,0,2024-240-3953-1000001,84713002,0,6,IM:IMMEX-1
2024-470-1234-0000001,1,A1,,BBB010101BB1,Dos SA,,2024-03-30,,,1,39269099,6,1,10,10,1,,,,,
2024-240-3953-2000001,1,AF,,CCC010101CC1,Tres SA,,2024-02-29,2024-02-29,,1,84713001,1,1,99999,99999,5000,,,,,
";

#[test]
fn every_check_runs_on_odd_but_valid_data() {
    let d = tempfile::tempdir().unwrap();
    let input = d.path().join("in");
    std::fs::create_dir_all(&input).unwrap();
    std::fs::write(input.join("odd.csv"), CSV).unwrap();
    let root = d.path().join("ds");
    let r = pedaudit::ingest::run(&[input], &root, &Default::default()).unwrap();
    assert_accounting(&r);
    assert_eq!(
        (r.rows_read, r.accepted, r.rejected),
        (8, 8, 0),
        "every odd row is valid: {:?}",
        r.files
    );
    assert_eq!(r.superseded, 1);
    let ps = all_rows(&root, "partidas");
    assert!(ps.iter().any(|p| p["cantidad_umt"] == "0.00000"));
    assert!(ps.iter().any(|p| p["valor_aduana"] == "-100.00"));

    let all: Vec<&checks::CheckDef> = checks::REGISTRY.iter().collect();
    let date = |s: &str| NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap();
    let mut expired_at = vec![];
    let mut rectified_at = vec![];
    for as_of in [
        None,
        Some(date("2023-01-06")),
        Some(date("2024-02-29")),
        Some(date("2024-07-05")), // Friday before the plazo end
        Some(date("2024-07-06")), // Saturday: 2023-01-06 + 18 months
        Some(date("2024-07-08")), // next Monday
        Some(date("2025-08-29")), // 2024-02-29 + 18 months
        Some(date("2028-02-29")),
    ] {
        let ctx = AuditContext::open(
            &root,
            AuditOptions {
                as_of,
                ..Default::default()
            },
        )
        .unwrap_or_else(|e| panic!("open at {as_of:?}: {e}"));
        let f = checks::run(&ctx, &all).unwrap_or_else(|e| panic!("checks at {as_of:?}: {e}"));
        assert_eq!(
            f.schema(),
            pedaudit::findings::empty().schema(),
            "findings schema at {as_of:?}"
        );
        let codes = f.column("check_code").unwrap().str().unwrap();
        let ids = f.column("pedimento_id").unwrap().str().unwrap();
        let expired: Vec<String> = (0..f.height())
            .filter(|i| codes.get(*i) == Some("TEMP-EXPIRED"))
            .filter_map(|i| ids.get(i).map(str::to_string))
            .collect();
        expired_at.push((as_of, expired));
        // The 2023-01-06 import as rectified (R1 2023-240-3953-1000003; its plazo runs
        // from the original's date): plazo end, open quantity, state.
        let b = ctx
            .table("ledger_balances")
            .filter(col("pedimento_id").eq(lit("2023-240-3953-1000003")))
            .collect()
            .unwrap();
        let row = table(&b, &["vence", "open_qty", "estado"]);
        rectified_at.push((as_of, row));
    }
    // TEMP-EXPIRED at every date, the Friday/Saturday/Monday around the 2023 import's plazo
    // end included: the 2023 import (rectified to -5 units, then returned) is reported at
    // no date; only the 100 units of 2024-02-29 (nothing discharged) expire, after
    // 2025-08-29.
    let ids = |v: &[&str]| v.iter().map(|s| s.to_string()).collect::<Vec<_>>();
    let want: Vec<(Option<NaiveDate>, Vec<String>)> = vec![
        (None, vec![]),
        (Some(date("2023-01-06")), vec![]),
        (Some(date("2024-02-29")), vec![]),
        (Some(date("2024-07-05")), vec![]),
        (Some(date("2024-07-06")), vec![]),
        (Some(date("2024-07-08")), vec![]),
        (Some(date("2025-08-29")), vec![]),
        (Some(date("2028-02-29")), ids(&["2024-240-3953-1000001"])),
    ];
    assert_eq!(expired_at, want, "TEMP-EXPIRED by as_of");
    // Its plazo ends on Saturday 2024-07-06 (2023-01-06 + 18 months, from the original's
    // date), before and after that weekend; nothing of it is open (saldado).
    for (as_of, row) in &rectified_at {
        assert_eq!(
            row,
            &vec![vec![
                "2024-07-06".to_string(),
                "-5.00000".into(),
                "saldado".into()
            ]],
            "rectified import at {as_of:?}"
        );
    }
    // Nothing has expired on the day of the first import; the 2024-02-29 import of 100
    // units (only 0 discharged) has expired by 2028.
    assert!(expired_at[1].1.is_empty(), "{expired_at:?}");
    assert!(
        expired_at[7]
            .1
            .iter()
            .any(|id| id == "2024-240-3953-1000001"),
        "{expired_at:?}"
    );
    // The rectified original (2023-...-1000002) is never reported: it is superseded.
    for (_, ids) in &expired_at {
        assert!(!ids.iter().any(|id| id == "2023-240-3953-1000002"));
    }
}
