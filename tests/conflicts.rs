//! Duplicates and conflicts: the same pedimento in two files (identical → stored once;
//! different → the later version wins and the earlier goes to `conflicts`, reported by
//! DATA-CONFLICT), rectificaciones supersede (current_pedimentos), re-ingest of the same
//! hash is a no-op. (Partidas whose pedimento is missing and orphan identificadores are
//! rejected with reasons: see tests/hostile_input.rs `ds_cases`.)

mod common;

use common::*;
use pedaudit::checks::{self, AuditContext, AuditOptions};
use pedaudit::ingest::{self, IngestOptions};
use polars::prelude::*;

fn run(input: &std::path::Path, root: &std::path::Path) -> ingest::IngestReport {
    let r = ingest::run(&[input.to_path_buf()], root, &IngestOptions::default()).unwrap();
    assert_accounting(&r);
    r
}

fn write(dir: &std::path::Path, files: &[(String, Vec<u8>)]) {
    std::fs::create_dir_all(dir).unwrap();
    for (n, b) in files {
        std::fs::write(dir.join(n), b).unwrap();
    }
}

#[test]
fn identical_pedimento_in_two_requests_is_stored_once() {
    let d = tempfile::tempdir().unwrap();
    let input = d.path().join("in");
    // Same run, two folios with the same content (folio 2 with CRLF: other bytes),
    // and a byte-identical copy of a file (skipped as a duplicate, saying so).
    let crlf = |(n, b): (String, Vec<u8>)| {
        (
            n,
            String::from_utf8(b)
                .unwrap()
                .replace('\n', "\r\n")
                .into_bytes(),
        )
    };
    let (_, copy) = ds_file("1", "551", &[v551(&[])]);
    write(
        &input,
        &[
            ds_file("1", "501", &[v501(&[])]),
            ds_file("1", "551", &[v551(&[])]),
            crlf(ds_file("2", "501", &[v501(&[])])),
            crlf(ds_file("2", "551", &[v551(&[])])),
            ("4_551.asc".to_string(), copy),
        ],
    );
    let root = d.path().join("ds");
    let r = run(&input, &root);
    assert_eq!(r.accepted, 4);
    let dup = r
        .files
        .iter()
        .find(|f| f.file.ends_with("4_551.asc"))
        .unwrap();
    assert_eq!(
        dup.skipped.as_deref(),
        Some("duplicate of another input file in this run (same SHA-256)")
    );
    assert_eq!(all_rows(&root, "pedimentos").len(), 1);
    assert_eq!(all_rows(&root, "partidas").len(), 1);
    assert!(all_rows(&root, "conflicts").is_empty());
    // A later run with the same content in a file of different bytes: identical.
    let again = d.path().join("again");
    let (n, mut b) = ds_file("3", "501", &[v501(&[])]);
    b.extend_from_slice(b"\r\n");
    write(&again, &[(n, b), ds_file("3", "551", &[v551(&[])])]);
    let r = run(&again, &root);
    assert_eq!(r.years[&2024].identical, 1);
    assert_eq!(r.years[&2024].replaced, 0);
    assert_eq!(all_rows(&root, "pedimentos").len(), 1);
    assert!(all_rows(&root, "conflicts").is_empty());
    // The very same bytes again: a no-op that says so.
    let r = run(&input, &root);
    assert_eq!((r.rows_read, r.accepted, r.rejected), (0, 0, 0));
    assert!(r.years.is_empty(), "nothing merged");
    assert_eq!(r.files.len(), 5);
    for f in &r.files {
        assert_eq!(
            f.skipped.as_deref(),
            Some("already ingested (same SHA-256): no-op")
        );
        assert_eq!(f.sha256.len(), 64);
        assert!(f.bytes > 0);
    }
    // The manifest of that run says the same.
    // (the duplicate copy is also known now: its hash equals 1_551.asc)
    let m: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(root.join("_manifest").join(format!("{}.json", r.run_id)))
            .unwrap(),
    )
    .unwrap();
    assert_eq!(
        m["files"][0]["skipped"],
        "already ingested (same SHA-256): no-op"
    );
}

#[test]
fn different_versions_later_wins_earlier_is_a_data_conflict() {
    let d = tempfile::tempdir().unwrap();
    // Same run: folio 2 sorts after folio 1 and wins.
    let input = d.path().join("in");
    write(
        &input,
        &[
            ds_file("1", "501", &[v501(&[])]),
            ds_file("1", "551", &[v551(&[])]),
            ds_file("2", "501", &[v501(&[("TipoCambio", "18.10000")])]),
            ds_file("2", "551", &[v551(&[("ValorAduana", "2000.00")])]),
        ],
    );
    let root = d.path().join("ds");
    run(&input, &root);
    let p = all_rows(&root, "pedimentos");
    assert_eq!(p.len(), 1);
    assert_eq!(p[0]["tipo_cambio"], "18.10000");
    assert!(p[0]["source_file"].ends_with("2_501.asc"));
    let pt = all_rows(&root, "partidas");
    assert_eq!(pt.len(), 1);
    assert_eq!(pt[0]["valor_aduana"], "2000.00");
    let c = all_rows(&root, "conflicts");
    assert_eq!(c.len(), 1);
    assert_eq!(c[0]["tipo_cambio"], "17.05000");
    assert!(c[0]["source_file"].ends_with("1_501.asc"));

    // A later run with a third version (different RFC): replaces, the second version
    // goes to conflicts too.
    let later = d.path().join("later");
    write(
        &later,
        &[
            ds_file("3", "501", &[v501(&[("Rfc", "XYZ010203AB1")])]),
            ds_file("3", "551", &[v551(&[])]),
        ],
    );
    let r = run(&later, &root);
    assert_eq!(r.years[&2024].replaced, 1);
    assert_eq!(all_rows(&root, "pedimentos")[0]["rfc"], "XYZ010203AB1");
    let c = all_rows(&root, "conflicts");
    assert_eq!(c.len(), 2, "{c:?}");
    // Re-ingesting the later input with --force does not record the conflict twice.
    ingest::run(
        &[later],
        &root,
        &IngestOptions {
            force: true,
            ..Default::default()
        },
    )
    .unwrap();
    let c2 = all_rows(&root, "conflicts");
    assert_eq!(c2.len(), 2, "{:?}", c2.last());

    // DATA-CONFLICT reports both earlier versions.
    let ctx = AuditContext::open(&root, AuditOptions::default()).unwrap();
    let def = checks::find("DATA-CONFLICT").unwrap();
    let f = checks::run(&ctx, &[def]).unwrap();
    assert_eq!(f.height(), 2);
    let ids = strings(&f, "pedimento_id");
    assert!(ids.iter().all(|v| v == "2024-240-3953-6000098"));
    let msgs = strings(&f, "message");
    assert!(msgs.iter().any(|m| m.contains("1_501.asc")), "{msgs:?}");
    assert!(msgs.iter().any(|m| m.contains("2_501.asc")), "{msgs:?}");
}

fn current_ids(root: &std::path::Path) -> Vec<String> {
    let ctx = AuditContext::open(root, AuditOptions::default()).unwrap();
    let df = ctx
        .sql(
            "SELECT pedimento_id FROM current_pedimentos ORDER BY pedimento_id",
            "test",
        )
        .unwrap();
    strings(&df, "pedimento_id")
}

fn strings(df: &DataFrame, name: &str) -> Vec<String> {
    let c = df.column(name).unwrap().str().unwrap();
    (0..c.len())
        .map(|i| c.get(i).unwrap_or("").to_string())
        .collect()
}

#[test]
fn rectificacion_supersedes_in_data_stage_and_csv() {
    // Data Stage: 6000099 is an R1 whose 701 names 6000098.
    let d = tempfile::tempdir().unwrap();
    let input = d.path().join("in");
    let r1 = [
        ("Pedimento", "6000099"),
        ("ClaveDocumento", "R1"),
        ("TipoPedimento", "2"),
        ("FechaPagoReal", "2024-04-01 09:00:00"),
    ];
    write(
        &input,
        &[
            ds_file("1", "501", &[v501(&[]), v501(&r1)]),
            ds_file(
                "1",
                "551",
                &[
                    v551(&[]),
                    v551(&[("Pedimento", "6000099"), ("ValorAduana", "-100.00")]),
                ],
            ),
            ds_file(
                "1",
                "701",
                &[ds_line(
                    H701,
                    &[
                        ("Patente", "3953"),
                        ("Pedimento", "6000099"),
                        ("SeccionAduanera", "240"),
                        ("ClaveDocumento", "R1"),
                        ("PedimentoAnterior", "6000098"),
                        ("PatenteAnterior", "3953"),
                        ("SeccionAduaneraAnterior", "240"),
                        ("DocumentoAnterior", "A1"),
                        ("FechaOperacionAnterior", "2024-03-05 10:00:00"),
                    ],
                )],
            ),
        ],
    );
    let root = d.path().join("ds");
    let r = run(&input, &root);
    assert_eq!(r.superseded, 1);
    let f701 = r.files.iter().find(|f| f.record_type == "701").unwrap();
    assert_eq!(f701.superseded, 1, "per-file superseded count");
    assert_eq!(current_ids(&root), ["2024-240-3953-6000099"]);
    let p = all_rows(&root, "pedimentos");
    assert_eq!(p.len(), 2, "the original stays for the audit trail");
    let rect = p
        .iter()
        .find(|x| x["pedimento_id"].ends_with("6000099"))
        .unwrap();
    assert_eq!(rect["rectifica_id"], "2024-240-3953-6000098");
    assert_eq!(rect["clave"], "A1");
    assert_eq!(rect["clave_declarada"], "R1");
    assert_eq!(rect["fecha_operacion"], "2024-03-05");
    assert_eq!(rect["valor_aduana"], "-100.00");
    assert!(all_rows(&root, "conflicts").is_empty(), "not a conflict");

    // CSV: same thing through the `rectifica` column.
    let d = tempfile::tempdir().unwrap();
    let csv = "pedimento,tipo_operacion,clave,clave_original,rfc,fecha_pago,rectifica,partida,fraccion,umt,cantidad_umt,valor_aduana,valor_comercial,valor_dolares\n\
        2024-240-3953-6000098,1,IN,,ABC010203XY1,2024-03-05,,1,84713001,6,10,1000,1000,58\n\
        2024-240-3953-6000099,1,R1,IN,ABC010203XY1,2024-04-01,2024-240-3953-6000098,1,84713001,6,8,800,800,46\n";
    let input = d.path().join("in");
    write(&input, &[("r.csv".to_string(), csv.as_bytes().to_vec())]);
    let root = d.path().join("ds");
    let r = run(&input, &root);
    assert_eq!(r.files[0].superseded, 1);
    assert_eq!(current_ids(&root), ["2024-240-3953-6000099"]);
}

#[test]
fn unchanged_partidas_file_of_a_new_request_version_is_not_lost() {
    let d = tempfile::tempdir().unwrap();
    let root = d.path().join("ds");
    let first = d.path().join("first");
    write(
        &first,
        &[
            ds_file("1", "501", &[v501(&[])]),
            ds_file(
                "1",
                "551",
                &[v551(&[]), v551(&[("SecuenciaFraccion", "2")])],
            ),
        ],
    );
    run(&first, &root);
    // Request 2: a corrected 501, and a 551 byte-identical to request 1's (its hash is
    // known). The whole request is parsed again, so the partidas stay.
    let second = d.path().join("second");
    let (_, same551) = ds_file(
        "1",
        "551",
        &[v551(&[]), v551(&[("SecuenciaFraccion", "2")])],
    );
    write(
        &second,
        &[
            ds_file("2", "501", &[v501(&[("TipoCambio", "19.00000")])]),
            ("2_551.asc".to_string(), same551),
        ],
    );
    let r = run(&second, &root);
    assert!(r.files.iter().all(|f| f.skipped.is_none()), "{:?}", r.files);
    assert_eq!(all_rows(&root, "partidas").len(), 2);
    let p = all_rows(&root, "pedimentos");
    assert_eq!(p[0]["tipo_cambio"], "19.00000");
    assert_eq!(p[0]["valor_aduana"], "2000.00");
    // Request 3: another 501 version whose 551 rows are all rejected: the header is
    // replaced, the stored partidas and totals are kept (and the rejects say why).
    let third = d.path().join("third");
    write(
        &third,
        &[
            ds_file("3", "501", &[v501(&[("TipoCambio", "20.00000")])]),
            ds_file("3", "551", &[v551(&[("Fraccion", "bad")])]),
        ],
    );
    let r = run(&third, &root);
    assert_eq!(r.rejected, 1);
    assert_eq!(all_rows(&root, "partidas").len(), 2);
    let p = all_rows(&root, "pedimentos");
    assert_eq!(p[0]["tipo_cambio"], "20.00000");
    assert_eq!(p[0]["valor_aduana"], "2000.00");
    assert_eq!(all_rows(&root, "conflicts").len(), 2);
}

#[test]
fn identical_requests_do_not_double_dependent_rows() {
    // Two requests carrying the same pedimento with its 507, 512 and 557 rows: the rows
    // are stored once (IGI not doubled, one descargo, one identificador), in one run
    // and across runs.
    let request = |folio: &str, crlf: bool| -> Vec<(String, Vec<u8>)> {
        let key = [
            ("Patente", "3953"),
            ("Pedimento", "6000098"),
            ("SeccionAduanera", "240"),
        ];
        let mut i507 = key.to_vec();
        i507.extend([("ClaveCaso", "IM"), ("IdentificadorCaso", "123")]);
        let mut d512 = key.to_vec();
        d512.extend([
            ("PatenteAduanalOrig", "3953"),
            ("PedimentoOriginal", "5000001"),
            ("SeccionAduaneraDespOrig", "240"),
            ("FechaOperacionOrig", "2023-05-01"),
            ("MercanciaDescargada", "4"),
            ("UnidadMedida", "6"),
        ]);
        let mut c557 = key.to_vec();
        c557.extend([
            ("SecuenciaFraccion", "1"),
            ("ClaveContribucion", "6"),
            ("ImportePago", "10.00"),
        ]);
        [
            ds_file(folio, "501", &[v501(&[])]),
            ds_file(folio, "551", &[v551(&[])]),
            ds_file(folio, "507", &[ds_line(H507, &i507)]),
            ds_file(folio, "512", &[ds_line(H512, &d512)]),
            ds_file(folio, "557", &[ds_line(H557, &c557)]),
        ]
        .into_iter()
        .map(|(n, b)| {
            let b = if crlf {
                String::from_utf8(b)
                    .unwrap()
                    .replace('\n', "\r\n")
                    .into_bytes()
            } else {
                b
            };
            (n, b)
        })
        .collect()
    };
    let check = |root: &std::path::Path| {
        let p = all_rows(root, "partidas");
        assert_eq!(p.len(), 1);
        assert_eq!(p[0]["igi_importe"], "10.00", "IGI counted once");
        assert_eq!(all_rows(root, "identificadores").len(), 1);
        let d = all_rows(root, "descargos");
        assert_eq!(d.len(), 1);
        assert_eq!(d[0]["cantidad"], "4.00000");
        assert!(all_rows(root, "conflicts").is_empty());
    };
    let d = tempfile::tempdir().unwrap();
    let input = d.path().join("in");
    let mut files = request("1", false);
    files.extend(request("2", true));
    write(&input, &files);
    let root = d.path().join("ds");
    let r = run(&input, &root);
    assert_eq!(r.rejected, 0);
    check(&root);
    let dups: usize = r.files.iter().map(|f| f.duplicates).sum();
    assert_eq!(dups, 5, "request 1's rows are duplicates of request 2's");
    // Across runs.
    let later = d.path().join("later");
    let mut files = request("3", false);
    for f in files.iter_mut() {
        f.1.extend_from_slice(b"\n"); // other bytes, same rows
    }
    write(&later, &files);
    run(&later, &root);
    check(&root);
}

#[test]
fn same_pedimento_in_two_csv_files_later_file_wins_whole() {
    let d = tempfile::tempdir().unwrap();
    let input = d.path().join("in");
    let head = "pedimento,tipo_operacion,clave,rfc,fecha_pago,partida,fraccion,umt,cantidad_umt,valor_aduana,valor_comercial,valor_dolares,descargo_pedimento,descargo_cantidad,identificadores\n";
    let a = format!(
        "{head}2024-240-3953-6000098,2,RT,ABC010203XY1,2024-03-05,1,84713001,6,1,10,10,1,2023-240-3953-5000001,1,IM:1\n\
         2024-240-3953-6000098,2,RT,ABC010203XY1,2024-03-05,2,84713001,6,1,10,10,1,2023-240-3953-5000001,1,\n\
         2024-240-3953-6000098,2,RT,ABC010203XY1,2024-03-05,3,84713001,6,1,10,10,1,,,\n"
    );
    // b: the same pedimento, same header fields, only partidas 1 and 2.
    let b = format!(
        "{head}2024-240-3953-6000098,2,RT,ABC010203XY1,2024-03-05,1,84713001,6,1,10,10,1,2023-240-3953-5000001,1,IM:1\n\
         2024-240-3953-6000098,2,RT,ABC010203XY1,2024-03-05,2,84713001,6,1,10,10,1,2023-240-3953-5000001,1,\n"
    );
    write(
        &input,
        &[
            ("a.csv".to_string(), a.into_bytes()),
            ("b.csv".to_string(), b.into_bytes()),
        ],
    );
    let root = d.path().join("ds");
    let r = run(&input, &root);
    assert_eq!(r.accepted, 5);
    assert_eq!(
        all_rows(&root, "partidas").len(),
        2,
        "b.csv's version, whole"
    );
    assert_eq!(all_rows(&root, "descargos").len(), 2, "not doubled");
    assert_eq!(all_rows(&root, "identificadores").len(), 1, "not doubled");
    assert_eq!(all_rows(&root, "pedimentos")[0]["valor_aduana"], "20.00");
    let fa = r.files.iter().find(|f| f.file.ends_with("a.csv")).unwrap();
    assert_eq!(fa.duplicates, 3);
    // The versions differ (3 partidas vs 2: other totals): a.csv's is a conflict.
    let c = all_rows(&root, "conflicts");
    assert_eq!(c.len(), 1);
    assert_eq!(c[0]["valor_aduana"], "30.00");
    assert!(c[0]["source_file"].ends_with("a.csv"));
}

/// A partida listed twice in one 551 file: the later row wins, in the earlier row's
/// place, counted as a duplicate of the file, and the header's totals add the kept rows
/// only. (The ingest takes a 551 file without repeats as it is parsed; this one goes
/// through the row-by-row path.)
#[test]
fn partida_repeated_in_one_file_later_row_wins() {
    let d = tempfile::tempdir().unwrap();
    let input = d.path().join("in");
    write(
        &input,
        &[
            ds_file("1", "501", &[v501(&[])]),
            ds_file(
                "1",
                "551",
                &[
                    v551(&[]),
                    v551(&[("SecuenciaFraccion", "2"), ("ValorAduana", "500.00")]),
                    v551(&[("ValorAduana", "700.00")]),
                ],
            ),
        ],
    );
    let root = d.path().join("ds");
    let r = run(&input, &root);
    assert_eq!((r.accepted, r.rejected), (4, 0));
    let f551 = r
        .files
        .iter()
        .find(|f| f.file.ends_with("1_551.asc"))
        .unwrap();
    assert_eq!(f551.duplicates, 1);
    let p = all_rows(&root, "partidas");
    let got: Vec<(&str, &str)> = p
        .iter()
        .map(|r| (r["partida"].as_str(), r["valor_aduana"].as_str()))
        .collect();
    assert_eq!(got, [("1", "700.00"), ("2", "500.00")]);
    assert_eq!(all_rows(&root, "pedimentos")[0]["valor_aduana"], "1200.00");
}
