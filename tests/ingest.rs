//! Ingest of the two input layouts: counts, reject reasons, exact values, idempotency,
//! rectificación superseding. Fixture: fixtures/datastage/ (hand-written, Latin-1, CRLF;
//! the comments in the expected lists say which line holds which defect).

mod common;
use common::*;
use pedaudit::dataset;
use polars::prelude::*;
use std::collections::BTreeMap;

fn ds_fixture() -> std::path::PathBuf {
    root().join("fixtures/datastage")
}

fn file<'a>(
    r: &'a pedaudit::ingest::IngestReport,
    suffix: &str,
) -> &'a pedaudit::ingest::FileStats {
    r.files.iter().find(|f| f.file.ends_with(suffix)).unwrap()
}

fn lf(ds: &std::path::Path, table: &str) -> LazyFrame {
    let files: Vec<PlRefPath> = dataset::dataset_table_files(ds, table)
        .into_iter()
        .map(|p| PlRefPath::new(p.to_string_lossy().to_string()))
        .collect();
    LazyFrame::scan_parquet_files(files.into_iter().collect(), Default::default()).unwrap()
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

#[test]
fn datastage_counts_and_reject_reasons() {
    let (_d, ds, r) = ingest(&[ds_fixture()]);
    assert_eq!(r.rows_read, 25);
    assert_eq!(r.accepted, 16);
    assert_eq!(r.rejected, 9);
    assert_eq!(r.rows_read, r.accepted + r.rejected);
    let f501 = file(&r, "_501.asc");
    let expect: BTreeMap<String, usize> = [
        ("bad date", 1),       // line 6: 2022-13-45
        ("bad RFC", 1),        // line 7: MNO01020
        ("unknown clave", 1),  // line 8: ZZ
        ("not a number", 1),   // line 9: TipoCambio 'veinte'
        ("truncated line", 1), // line 10
    ]
    .into_iter()
    .map(|(k, v)| (k.to_string(), v))
    .collect();
    assert_eq!(f501.rejected_by_reason, expect);
    let f551 = file(&r, "_551.asc");
    assert_eq!((f551.accepted, f551.rejected), (5, 4));
    for k in [
        "pedimento rejected",
        "missing pedimento",
        "bad field",
        "not a number",
    ] {
        assert_eq!(
            f551.rejected_by_reason.get(k),
            Some(&1),
            "{k}: {:?}",
            f551.rejected_by_reason
        );
    }
    assert!(
        file(&r, "_502.asc")
            .skipped
            .as_deref()
            .unwrap()
            .contains("not used")
    );
    // The rejects table names file, line and field.
    let rej = std::fs::read_dir(ds.join("rejects"))
        .unwrap()
        .next()
        .unwrap()
        .unwrap()
        .path();
    let df = LazyFrame::scan_parquet(
        PlRefPath::new(rej.to_string_lossy().to_string()),
        Default::default(),
    )
    .unwrap()
    .filter(
        col("line")
            .eq(lit(7i64))
            .and(col("record_type").eq(lit("501"))),
    )
    .collect()
    .unwrap();
    assert_eq!(cell(&df, "field", 0), "Rfc");
    assert!(
        cell(&df, "reason", 0).starts_with("bad RFC: RFC 'MNO01020'"),
        "{}",
        cell(&df, "reason", 0)
    );
    assert!(cell(&df, "source_file", 0).ends_with("1901508_501.asc"));
}

#[test]
fn exact_decimals_dates_and_latin1_roundtrip() {
    let (_d, ds, _r) = ingest(&[ds_fixture()]);
    let p = lf(&ds, "partidas")
        .sort(["pedimento_id", "partida"], Default::default())
        .collect()
        .unwrap();
    assert_eq!(cell(&p, "pedimento_id", 0), "2022-240-3953-2100001");
    assert_eq!(
        cell(&p, "valor_aduana", 0),
        "1000.50",
        "thousands separator accepted"
    );
    assert_eq!(
        cell(&p, "valor_aduana", 1),
        "99999999999.99",
        "no float rounding"
    );
    assert_eq!(cell(&p, "cantidad_umt", 0), "100.00000");
    assert_eq!(
        cell(&p, "descripcion", 3),
        "MÁQUINA AUTOMÁTICA PARA PROCESAMIENTO DE DATOS"
    );
    assert_eq!(
        p.column("valor_aduana").unwrap().dtype(),
        &DataType::Decimal(18, 2)
    );
    let h = lf(&ds, "pedimentos")
        .sort(["pedimento_id"], Default::default())
        .collect()
        .unwrap();
    assert_eq!(cell(&h, "tipo_cambio", 0), "20.12340");
    assert_eq!(
        cell(&h, "valor_aduana", 0),
        "100000001000.49",
        "header total = sum of partidas"
    );
    assert_eq!(cell(&h, "fecha_pago", 0), "2022-01-10");
    assert_eq!(
        cell(&h, "fecha_operacion", 0),
        "2022-01-11",
        "selección date from the Sel file"
    );
    assert_eq!(cell(&h, "immex_programa", 0), "1234567", "IM identificador");
    assert_eq!(
        cell(&h, "fecha_pago", 1),
        "2022-03-01",
        "yyyy/MM/dd accepted"
    );
    let ids: Vec<String> = (0..h.height())
        .map(|i| cell(&h, "pedimento_id", i))
        .collect();
    assert!(
        ids.contains(&"2022-240-3953-2100010".to_string()),
        "DDMMYYYY accepted"
    );
    let d = lf(&ds, "descargos").collect().unwrap();
    assert_eq!(cell(&d, "original_id", 0), "2022-240-3953-2100001");
    assert_eq!(cell(&d, "cantidad", 0), "60.00000");
}

#[test]
fn rectificacion_supersedes_and_keeps_original() {
    let (_d, ds, r) = ingest(&[ds_fixture()]);
    assert_eq!(r.superseded, 1);
    let ctx = pedaudit::checks::AuditContext::open(&ds, Default::default()).unwrap();
    let cur = ctx.table("current_pedimentos").collect().unwrap();
    let ids: Vec<String> = (0..cur.height())
        .map(|i| cell(&cur, "pedimento_id", i))
        .collect();
    assert!(
        !ids.contains(&"2022-240-3953-2100003".to_string()),
        "original superseded"
    );
    let i = ids
        .iter()
        .position(|x| x == "2022-240-3953-2100004")
        .unwrap();
    assert_eq!(
        cell(&cur, "clave", i),
        "IN",
        "R1 takes the clave of the pedimento it rectifies"
    );
    assert_eq!(cell(&cur, "clave_declarada", i), "R1");
    assert_eq!(cell(&cur, "rectifica_id", i), "2022-240-3953-2100003");
    assert_eq!(
        cell(&cur, "fecha_operacion", i),
        "2022-02-16",
        "plazo counts from the original's selección"
    );
    let all = ctx.table("pedimentos").collect().unwrap();
    assert_eq!(
        all.height(),
        cur.height() + 1,
        "the original stays for the audit trail"
    );
}

#[test]
fn reingest_is_idempotent() {
    let (_d, ds, r1) = ingest(&[ds_fixture()]);
    let n = |t: &str| dataset::count_rows(&ds, t).unwrap();
    let before = (
        n("pedimentos"),
        n("partidas"),
        n("identificadores"),
        n("descargos"),
    );
    let r2 = pedaudit::ingest::run(&[ds_fixture()], &ds, &Default::default()).unwrap();
    assert!(r2.files.iter().all(|f| {
        f.skipped
            .as_deref()
            .unwrap_or("")
            .contains("already ingested")
    }));
    assert_eq!(r2.rows_read, 0);
    let r3 = pedaudit::ingest::run(
        &[ds_fixture()],
        &ds,
        &pedaudit::ingest::IngestOptions {
            force: true,
            ..Default::default()
        },
    )
    .unwrap();
    assert_eq!(r3.accepted, r1.accepted);
    assert_eq!(
        before,
        (
            n("pedimentos"),
            n("partidas"),
            n("identificadores"),
            n("descargos")
        )
    );
    let y = r3.years[&2022].clone();
    assert_eq!((y.new, y.replaced), (0, 0));
    assert_eq!(y.identical, 5);
}

#[test]
fn csv_layout_and_its_rejects() {
    let dir = tempfile::tempdir().unwrap();
    let csv = dir.path().join("in.csv");
    let header = "pedimento,tipo_operacion,clave,rfc,fecha_pago,partida,fraccion,umt,cantidad_umt,valor_aduana,valor_comercial,valor_dolares";
    let rows = [
        "2023-240-3953-3000001,1,IN,ABC010203XY1,2023-05-01,1,39011001,1,10,100.00,100.00,5.00",
        "2023-240-3953-3000001,1,IN,ABC010203XY1,2023-05-01,2,39011002,1,\"1,500\",\"2,000.10\",100.00,5.00",
        "2023-240-3953-3000002,1,IN,ABC010203XY1,31/02/2023,1,39011001,1,10,100.00,100.00,5.00",
        "2023-240-3953-3000003,1,IN,XX,2023-05-01,1,39011001,1,10,100.00,100.00,5.00",
        "2023-240-3953-3000004,1,IN,ABC010203XY1,2023-05-01,1,39011001,1,diez,100.00,100.00,5.00",
        "2023-240-3953-3000005,1,Q9,ABC010203XY1,2023-05-01,1,39011001,1,10,100.00,100.00,5.00",
        "2023-240-3953-3000006,1,IN,ABC010203XY1,2023-05-01,1,39011001",
    ];
    std::fs::write(&csv, format!("{header}\n{}\n", rows.join("\n"))).unwrap();
    let ds = dir.path().join("ds");
    let r = pedaudit::ingest::run(&[csv], &ds, &Default::default()).unwrap();
    assert_eq!((r.rows_read, r.accepted, r.rejected), (7, 2, 5));
    let reasons: Vec<&String> = r.files[0].rejected_by_reason.keys().collect();
    assert_eq!(
        reasons,
        vec![
            "bad RFC",
            "bad date",
            "not a number",
            "truncated line",
            "unknown clave"
        ]
    );
    let p = lf(&ds, "partidas")
        .sort(["partida"], Default::default())
        .collect()
        .unwrap();
    assert_eq!(cell(&p, "cantidad_umt", 1), "1500.00000");
    assert_eq!(cell(&p, "valor_aduana", 1), "2000.10");
}

#[test]
fn generated_datastage_and_csv_give_the_same_dataset() {
    let dir = tempfile::tempdir().unwrap();
    let h = pedaudit::generate::generate(&pedaudit::generate::Config {
        partidas: 600,
        ..Default::default()
    });
    pedaudit::generate::writers::write_datastage(&h, &dir.path().join("ds_in")).unwrap();
    pedaudit::generate::writers::write_csv(&h, &dir.path().join("in.csv")).unwrap();
    let a = pedaudit::ingest::run(
        &[dir.path().join("ds_in")],
        &dir.path().join("a"),
        &Default::default(),
    )
    .unwrap();
    let b = pedaudit::ingest::run(
        &[dir.path().join("in.csv")],
        &dir.path().join("b"),
        &Default::default(),
    )
    .unwrap();
    assert_eq!((a.rejected, b.rejected), (0, 0));
    let gen_partidas: usize = h.years.values().map(|y| y.partidas.len()).sum();
    for t in ["pedimentos", "partidas"] {
        assert_eq!(
            dataset::count_rows(&dir.path().join("a"), t).unwrap(),
            dataset::count_rows(&dir.path().join("b"), t).unwrap(),
            "{t}"
        );
    }
    assert_eq!(
        dataset::count_rows(&dir.path().join("a"), "partidas").unwrap(),
        gen_partidas
    );
    let sum = |p: &std::path::Path| {
        lf(p, "partidas")
            .select([col("valor_aduana").sum(), col("cantidad_umt").sum()])
            .collect()
            .unwrap()
    };
    assert_eq!(sum(&dir.path().join("a")), sum(&dir.path().join("b")));
}
