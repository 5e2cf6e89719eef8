//! Hostile input: encodings (Latin-1, UTF-8 with/without BOM), CRLF/LF, empty and
//! header-only files, stray spaces, thousands separators, every date format of
//! datastage-layout.md, and a table of malformed lines. Each case is either accepted
//! (the stored value is asserted) or rejected with a reason (kind, field and line are
//! asserted); in every case rows read = accepted + rejected and every data line of the
//! input is a row read (nothing silently dropped).

mod common;

use common::*;
use std::collections::BTreeMap;

fn tmp() -> tempfile::TempDir {
    tempfile::tempdir().unwrap()
}

/// The one pedimento row of the standard fixture.
fn only_pedimento(root: &std::path::Path) -> BTreeMap<String, String> {
    let rows = table_rows(root, 2024, "pedimentos");
    assert_eq!(rows.len(), 1, "{rows:?}");
    rows.into_iter().next().unwrap()
}

fn only_partida(root: &std::path::Path) -> BTreeMap<String, String> {
    let rows = table_rows(root, 2024, "partidas");
    assert_eq!(rows.len(), 1, "{rows:?}");
    rows.into_iter().next().unwrap()
}

/// Every input data line is a row read, per file.
fn assert_no_line_lost(files: &[(String, Vec<u8>)], r: &pedaudit::ingest::IngestReport) {
    assert_accounting(r);
    for (name, bytes) in files {
        let f = r
            .files
            .iter()
            .find(|f| f.file.ends_with(name.as_str()))
            .unwrap_or_else(|| panic!("{name} not in report"));
        assert_eq!(f.rows_read, data_lines(bytes), "{name}: {f:?}");
    }
}

#[test]
fn encodings_and_line_ends_are_accepted() {
    let body501 = format!("{H501}\n{}\n", v501(&[]));
    let body551 = format!("{H551}\n{}\n", v551(&[]));
    let variants: Vec<(&str, Vec<u8>, Vec<u8>)> = vec![
        ("latin1+crlf", latin1_crlf(&body501), latin1_crlf(&body551)),
        (
            "utf8 bom+lf",
            [b"\xEF\xBB\xBF".as_slice(), body501.as_bytes()].concat(),
            [b"\xEF\xBB\xBF".as_slice(), body551.as_bytes()].concat(),
        ),
        (
            "utf8 no bom+crlf",
            body501.replace('\n', "\r\n").into_bytes(),
            body551.replace('\n', "\r\n").into_bytes(),
        ),
        (
            "mixed: latin1 501, utf8 551, no trailing newline",
            latin1_crlf(&body501),
            body551.trim_end().as_bytes().to_vec(),
        ),
    ];
    for (what, a, b) in variants {
        let d = tmp();
        let files = vec![("1_501.asc".to_string(), a), ("1_551.asc".to_string(), b)];
        let (r, root) = ingest_files(d.path(), &files).unwrap();
        assert_no_line_lost(&files, &r);
        assert_eq!((r.accepted, r.rejected), (2, 0), "{what}");
        let p = only_pedimento(&root);
        assert_eq!(p["nombre"], "Compañía Ñandú SA", "{what}");
        assert_eq!(p["pedimento_id"], "2024-240-3953-6000098", "{what}");
        assert_eq!(p["fecha_pago"], "2024-03-05", "{what}");
        let pt = only_partida(&root);
        assert_eq!(pt["descripcion"], "Descripción", "{what}");
        assert_eq!(pt["valor_aduana"], "1000.00", "{what}");
    }
}

#[test]
fn empty_header_only_and_blank_files_read_zero_rows() {
    let cases: Vec<(&str, Vec<u8>)> = vec![
        ("9_501.asc", vec![]),
        ("9_551.asc", format!("{H551}\r\n").into_bytes()),
        ("9_507.asc", b"\xEF\xBB\xBF".to_vec()),
        ("9_554.asc", b"\r\n\r\n\n".to_vec()),
        ("empty.csv", vec![]),
        ("header.csv", b"pedimento,tipo_operacion\n".to_vec()),
        ("blank.csv", b"\n\n\r\n".to_vec()),
    ];
    let d = tmp();
    let files: Vec<(String, Vec<u8>)> = cases
        .iter()
        .map(|(n, b)| (n.to_string(), b.clone()))
        .collect();
    let (r, root) = ingest_files(d.path(), &files).unwrap();
    assert_no_line_lost(&files, &r);
    assert_eq!((r.rows_read, r.accepted, r.rejected), (0, 0, 0));
    assert_eq!(r.files.len(), cases.len());
    assert!(pedaudit::dataset::years(&root).is_empty());
    let blank = r
        .files
        .iter()
        .find(|f| f.file.ends_with("9_554.asc"))
        .unwrap();
    assert_eq!(blank.blank_lines, 2, "{blank:?}");
}

#[test]
fn stray_spaces_thousands_separators_header_variants() {
    let d = tmp();
    // Header names in other case/spacing and the alias `Clave`; blank lines inside.
    let h501 = H501
        .replace("ClaveDocumento", "Clave")
        .replace("Patente", "PATENTE")
        .replace("SeccionAduanera|", "Seccion Aduanera|");
    let row501 = v501(&[
        ("Patente", " 3953 "),
        ("Rfc", " abc010203xy1 "),
        ("TipoCambio", " 1,017.05 "),
        ("ClaveDocumento", " a1 "),
    ]);
    let row501 = row501.trim_end_matches('|').to_string(); // no trailing separator
    let t501 = format!("{h501}\n\n{row501}\n   \n");
    let t551 = format!(
        "{H551}\n{}\n{}\n",
        v551(&[
            ("ValorAduana", "1,234,567.50"),
            ("CantidadUMTarifa", " 1,000.5 "),
            ("Fraccion", "8471.30.01"),
            ("Pedimento", "  6000098"),
        ]),
        v551(&[("SecuenciaFraccion", "2"), ("ValorAduana", "12,34.5")]),
    );
    let files = vec![
        ("1_501.asc".to_string(), t501.into_bytes()),
        ("1_551.asc".to_string(), t551.into_bytes()),
    ];
    let (r, root) = ingest_files(d.path(), &files).unwrap();
    assert_no_line_lost(&files, &r);
    assert_eq!((r.accepted, r.rejected), (2, 1));
    let p = only_pedimento(&root);
    assert_eq!(p["rfc"], "ABC010203XY1");
    assert_eq!(p["patente"], "3953");
    assert_eq!(p["clave"], "A1");
    assert_eq!(p["tipo_cambio"], "1017.05000");
    let pt = only_partida(&root);
    assert_eq!(pt["valor_aduana"], "1234567.50");
    assert_eq!(pt["cantidad_umt"], "1000.50000");
    assert_eq!(pt["fraccion"], "84713001");
    let rj = rejects(&root, &r.run_id);
    assert_eq!(rj.len(), 1);
    assert_eq!(rj[0]["field"], "ValorAduana");
    assert!(rj[0]["reason"].starts_with("not a number"), "{rj:?}");
    assert!(rj[0]["reason"].contains("misplaced comma"), "{rj:?}");
    assert_eq!(rj[0]["line"], "3");
    let f501 = r.files.iter().find(|f| f.record_type == "501").unwrap();
    assert_eq!(f501.blank_lines, 2);
}

#[test]
fn every_date_format_of_the_layout() {
    // datastage-layout.md: `YYYY-MM-DD HH:MM:SS`, `yyyy/MM/dd HH:mm:ss`, `DDMMYYYY`,
    // `DD/MM/YYYY`, `YYYYMMDDhhmmss` (plus plain `YYYY-MM-DD`, `YYYYMMDD`).
    let good = [
        "2024-02-29 17:48:15",
        "2024/02/29 17:48:15",
        "29022024",
        "29/02/2024",
        "20240229174815",
        "2024-02-29",
        "20240229",
        "29-02-2024",
    ];
    for fecha in good {
        let d = tmp();
        let files = vec![
            ds_file("1", "501", &[v501(&[("FechaPagoReal", fecha)])]),
            ds_file("1", "551", &[v551(&[("FechaPagoReal", fecha)])]),
        ];
        let (r, root) = ingest_files(d.path(), &files).unwrap();
        assert_no_line_lost(&files, &r);
        assert_eq!((r.accepted, r.rejected), (2, 0), "{fecha}");
        assert_eq!(only_pedimento(&root)["fecha_pago"], "2024-02-29", "{fecha}");
    }
    let bad = [
        "2023-02-29",
        "30/02/2024",
        "2024-13-01",
        "31042024",
        "2024-03-05x",
        "05.03.2024",
        "1850-01-01",
        "2024-3-5",
        "hoy",
        "00000000",
    ];
    for fecha in bad {
        let d = tmp();
        let files = vec![
            ds_file("1", "501", &[v501(&[("FechaPagoReal", fecha)])]),
            ds_file("1", "551", &[v551(&[("FechaPagoReal", "")])]),
        ];
        let (r, root) = ingest_files(d.path(), &files).unwrap();
        assert_no_line_lost(&files, &r);
        assert_eq!((r.accepted, r.rejected), (0, 2), "{fecha}");
        let rj = rejects(&root, &r.run_id);
        let h = rj.iter().find(|x| x["record_type"] == "501").unwrap();
        assert_eq!(h["field"], "FechaPagoReal", "{fecha}");
        assert!(h["reason"].starts_with("bad date"), "{fecha}: {h:?}");
        // The partida points at its rejected header.
        let p = rj.iter().find(|x| x["record_type"] == "551").unwrap();
        assert!(
            p["reason"].starts_with("pedimento rejected: its 501 row"),
            "{p:?}"
        );
    }
}

/// One Data Stage malformed case: extra lines per record type, and the rejects
/// expected as (record type, reason kind, field, line).
struct DsCase {
    name: &'static str,
    extra: Vec<(&'static str, String)>,
    expect: Vec<(&'static str, &'static str, &'static str, usize)>,
}

fn o(k: &'static str, v: &'static str) -> (&'static str, &'static str) {
    (k, v)
}

fn ds_cases() -> Vec<DsCase> {
    let other = [o("Pedimento", "6000099")];
    let with_other = |mut v: Vec<(&'static str, &'static str)>| {
        v.insert(0, other[0]);
        v
    };
    let c = |name, extra, expect| DsCase {
        name,
        extra,
        expect,
    };
    vec![
        c(
            "truncated 551",
            vec![("551", "3953|6000098|240|84713001|2|".to_string())],
            vec![("551", "truncated line", "", 3)],
        ),
        c(
            "too many fields 501",
            vec![("501", v501(&other) + "x|y|")],
            vec![("501", "too many fields", "", 3)],
        ),
        c(
            "bad RFC",
            vec![("501", v501(&with_other(vec![o("Rfc", "AB1010203XY1")])))],
            vec![("501", "bad RFC", "Rfc", 3)],
        ),
        c(
            "RFC with bad month",
            vec![("501", v501(&with_other(vec![o("Rfc", "ABC011303XY1")])))],
            vec![("501", "bad RFC", "Rfc", 3)],
        ),
        c(
            "unknown clave",
            vec![("501", v501(&with_other(vec![o("ClaveDocumento", "ZZ")])))],
            vec![("501", "unknown clave", "ClaveDocumento", 3)],
        ),
        c(
            "bad TipoOperacion",
            vec![("501", v501(&with_other(vec![o("TipoOperacion", "3")])))],
            vec![("501", "bad field", "TipoOperacion", 3)],
        ),
        c(
            "non-digit patente",
            vec![("501", v501(&with_other(vec![o("Patente", "39S3")])))],
            vec![("501", "bad field", "Patente", 3)],
        ),
        c(
            "pedimento too long",
            vec![("501", v501(&[o("Pedimento", "60000981")]))],
            vec![("501", "bad field", "Pedimento", 3)],
        ),
        c(
            "empty aduana",
            vec![("501", v501(&with_other(vec![o("SeccionAduanera", "")])))],
            vec![("501", "bad field", "SeccionAduanera", 3)],
        ),
        c(
            "bad tipo de cambio",
            vec![("501", v501(&with_other(vec![o("TipoCambio", "17,05")])))],
            vec![("501", "not a number", "TipoCambio", 3)],
        ),
        c(
            "decimal with two points",
            vec![(
                "551",
                v551(&[o("SecuenciaFraccion", "2"), o("ValorDolares", "1.2.3")]),
            )],
            vec![("551", "not a number", "ValorDolares", 3)],
        ),
        c(
            "exponent",
            vec![(
                "551",
                v551(&[o("SecuenciaFraccion", "2"), o("ValorAduana", "1e5")]),
            )],
            vec![("551", "not a number", "ValorAduana", 3)],
        ),
        c(
            "NaN",
            vec![(
                "551",
                v551(&[o("SecuenciaFraccion", "2"), o("ValorComercial", "NaN")]),
            )],
            vec![("551", "not a number", "ValorComercial", 3)],
        ),
        c(
            "too large for DECIMAL(18,2)",
            vec![(
                "551",
                v551(&[
                    o("SecuenciaFraccion", "2"),
                    o("ValorAduana", "99999999999999999999"),
                ]),
            )],
            vec![("551", "not a number", "ValorAduana", 3)],
        ),
        c(
            "empty cantidad",
            vec![(
                "551",
                v551(&[o("SecuenciaFraccion", "2"), o("CantidadUMTarifa", "")]),
            )],
            vec![("551", "not a number", "CantidadUMTarifa", 3)],
        ),
        c(
            "fraccion of 7 digits",
            vec![(
                "551",
                v551(&[o("SecuenciaFraccion", "2"), o("Fraccion", "8471300")]),
            )],
            vec![("551", "bad field", "Fraccion", 3)],
        ),
        c(
            "partida 0",
            vec![("551", v551(&[o("SecuenciaFraccion", "0")]))],
            vec![("551", "bad field", "SecuenciaFraccion", 3)],
        ),
        c(
            "empty UMT",
            vec![(
                "551",
                v551(&[o("SecuenciaFraccion", "2"), o("UnidadMedidaTarifa", "")]),
            )],
            vec![("551", "bad field", "UnidadMedidaTarifa", 3)],
        ),
        c(
            "partida whose pedimento is missing",
            vec![("551", v551(&other))],
            vec![("551", "missing pedimento", "Pedimento", 3)],
        ),
        c(
            "partida whose 501 was rejected",
            vec![
                ("501", v501(&with_other(vec![o("Rfc", "X")]))),
                ("551", v551(&other)),
            ],
            vec![
                ("501", "bad RFC", "Rfc", 3),
                ("551", "pedimento rejected", "Pedimento", 3),
            ],
        ),
        c(
            "orphan identificador (pedimento missing)",
            vec![(
                "507",
                ds_line(
                    H507,
                    &[
                        o("Patente", "3953"),
                        o("Pedimento", "6000099"),
                        o("SeccionAduanera", "240"),
                        o("ClaveCaso", "IM"),
                    ],
                ),
            )],
            vec![("507", "missing pedimento", "Pedimento", 2)],
        ),
        c(
            "empty identificador",
            vec![("507", ds_line(H507, &KEY))],
            vec![("507", "bad field", "ClaveCaso", 2)],
        ),
        c(
            "orphan partida identificador (partida missing)",
            vec![(
                "554",
                ds_line(
                    H554,
                    &[
                        KEY[0],
                        KEY[1],
                        KEY[2],
                        o("SecuenciaFraccion", "7"),
                        o("ClaveCaso", "EB"),
                    ],
                ),
            )],
            vec![("554", "missing partida", "SecuenciaFraccion", 2)],
        ),
        c(
            "contribución of a missing partida",
            vec![(
                "557",
                ds_line(
                    H557,
                    &[
                        KEY[0],
                        KEY[1],
                        KEY[2],
                        o("SecuenciaFraccion", "9"),
                        o("ClaveContribucion", "6"),
                        o("ImportePago", "10"),
                    ],
                ),
            )],
            vec![("557", "missing partida", "SecuenciaFraccion", 2)],
        ),
        c(
            "descargo with bad original",
            vec![(
                "512",
                ds_line(
                    H512,
                    &[
                        KEY[0],
                        KEY[1],
                        KEY[2],
                        o("PatenteAduanalOrig", "3953"),
                        o("PedimentoOriginal", "ABC"),
                        o("SeccionAduaneraDespOrig", "240"),
                    ],
                ),
            )],
            vec![("512", "bad field", "PedimentoOriginal", 2)],
        ),
        c(
            "rectificación of a missing pedimento header",
            vec![(
                "701",
                ds_line(
                    H701,
                    &[
                        o("Patente", "3953"),
                        o("Pedimento", "6000099"),
                        o("SeccionAduanera", "240"),
                        o("PedimentoAnterior", "6000098"),
                        o("PatenteAnterior", "3953"),
                        o("SeccionAduaneraAnterior", "240"),
                    ],
                ),
            )],
            vec![("701", "missing pedimento", "Pedimento", 2)],
        ),
        c(
            "NUL bytes and control characters",
            vec![("501", "\0\0\0|\u{1}|\u{7f}".to_string())],
            vec![("501", "truncated line", "", 3)],
        ),
        c(
            "separator-only line",
            vec![("551", "|||".to_string())],
            vec![("551", "truncated line", "", 3)],
        ),
        c(
            "very long line",
            vec![("551", "9".repeat(100_000))],
            vec![("551", "truncated line", "", 3)],
        ),
    ]
}

#[test]
fn malformed_data_stage_lines_are_rejected_with_reasons() {
    let cases = ds_cases();
    let mut tried = 0;
    let mut rejected = 0;
    for case in &cases {
        let d = tmp();
        let mut by_type: BTreeMap<&str, Vec<String>> = BTreeMap::new();
        by_type.entry("501").or_default().push(v501(&[]));
        by_type.entry("551").or_default().push(v551(&[]));
        for (t, l) in &case.extra {
            by_type.entry(t).or_default().push(l.clone());
        }
        let files: Vec<(String, Vec<u8>)> =
            by_type.iter().map(|(t, ls)| ds_file("1", t, ls)).collect();
        let (r, root) = ingest_files(d.path(), &files).unwrap();
        assert_no_line_lost(&files, &r);
        let rj = rejects(&root, &r.run_id);
        assert_eq!(rj.len(), case.expect.len(), "{}: {rj:?}", case.name);
        assert_eq!(r.rejected, case.expect.len(), "{}", case.name);
        for (t, kind, field, line) in &case.expect {
            let hit = rj.iter().find(|x| x["record_type"] == *t).unwrap();
            assert_eq!(
                pedaudit::model::RejectKind::of_stored(&hit["reason"]).map_or("", |k| k.key()),
                *kind,
                "{}: {hit:?}",
                case.name
            );
            assert_eq!(hit["field"], *field, "{}: {hit:?}", case.name);
            assert_eq!(hit["line"], line.to_string(), "{}: {hit:?}", case.name);
            assert!(hit["source_file"].ends_with(&format!("1_{t}.asc")));
        }
        // The valid pedimento and partida always land.
        assert_eq!(
            only_pedimento(&root)["pedimento_id"],
            "2024-240-3953-6000098"
        );
        assert_eq!(only_partida(&root)["partida"], "1");
        tried += case.extra.len();
        rejected += r.rejected;
    }
    eprintln!(
        "Data Stage: {} cases, {tried} malformed lines, {rejected} rejected with a reason, 0 lost",
        cases.len()
    );
}

const CSV_H: &str = "pedimento,tipo_operacion,clave,clave_original,rfc,nombre,fecha_pago,rectifica,partida,fraccion,descripcion,umt,cantidad_umt,valor_aduana,valor_comercial,valor_dolares,identificadores";

fn csv_row(over: &[(&str, &str)]) -> String {
    let mut v: BTreeMap<&str, &str> = [
        ("pedimento", "2024-240-3953-6000098"),
        ("tipo_operacion", "1"),
        ("clave", "A1"),
        ("rfc", "ABC010203XY1"),
        ("nombre", "\"Compañía, SA\""),
        ("fecha_pago", "2024-03-05"),
        ("partida", "1"),
        ("fraccion", "84713001"),
        ("descripcion", "Tornillo"),
        ("umt", "6"),
        ("cantidad_umt", "10"),
        ("valor_aduana", "\"1,000.00\""),
        ("valor_comercial", "1000"),
        ("valor_dolares", "58.65"),
    ]
    .into_iter()
    .collect();
    for (k, x) in over {
        v.insert(k, x);
    }
    CSV_H
        .split(',')
        .map(|c| v.get(c).copied().unwrap_or(""))
        .collect::<Vec<_>>()
        .join(",")
}

#[test]
fn csv_accepts_quoting_multiline_and_encodings() {
    let text = format!(
        "{CSV_H}\n{}\n{}\n{}\n",
        csv_row(&[]),
        csv_row(&[
            ("partida", "2"),
            ("descripcion", "\"Tuerca, 3/4\"\" acero\nlínea 2\""),
        ]),
        csv_row(&[("partida", "3"), ("descripcion", "Perno 3/4\" zincado")]),
    );
    for (what, bytes) in [
        ("utf8", text.clone().into_bytes()),
        ("latin1 crlf", latin1_crlf(&text)),
        (
            "utf8 bom",
            [b"\xEF\xBB\xBF".as_slice(), text.as_bytes()].concat(),
        ),
    ] {
        // By default a field with a line break is rejected, each of its lines, naming
        // the field (an unclosed quote looks the same).
        let d = tmp();
        let files = vec![("p.csv".to_string(), bytes.clone())];
        let (r, root) = ingest_files(d.path(), &files).unwrap();
        assert_accounting(&r);
        assert_eq!(
            (r.rows_read, r.accepted, r.rejected),
            (4, 2, 2),
            "{what}: {:?}",
            rejects(&root, &r.run_id)
        );
        let rj = rejects(&root, &r.run_id);
        assert!(
            rj.iter().all(|x| x["field"] == "descripcion"
                && x["reason"]
                    .starts_with("bad quoting: the quoted field descripcion spans lines 3-4")),
            "{what}: {rj:?}"
        );
        // Allowed explicitly, the record is read whole.
        let d = tmp();
        let input = d.path().join("in");
        std::fs::create_dir_all(&input).unwrap();
        std::fs::write(input.join("p.csv"), &bytes).unwrap();
        let root = d.path().join("ds");
        let r = pedaudit::ingest::run_with(
            &[input],
            &root,
            &Default::default(),
            &pedaudit::ingest::csv::CsvOptions { multiline: true },
        )
        .unwrap();
        assert_accounting(&r);
        assert_eq!((r.rows_read, r.accepted, r.rejected), (3, 3, 0), "{what}");
        assert_eq!(r.files[0].joined_lines, 1, "{what}");
        let p = only_pedimento(&root);
        assert_eq!(p["nombre"], "Compañía, SA", "{what}");
        let ps = table_rows(&root, 2024, "partidas");
        assert_eq!(ps[0]["valor_aduana"], "1000.00", "{what}");
        assert!(
            ps[1]["descripcion"].starts_with("Tuerca, 3/4\" acero")
                && ps[1]["descripcion"].ends_with("línea 2"),
            "{what}: {:?}",
            ps[1]["descripcion"]
        );
        assert_eq!(ps[2]["descripcion"], "Perno 3/4\" zincado", "{what}");
        assert_eq!(p["valor_aduana"], "3000.00", "{what}: total of partidas");
    }
}

#[test]
fn csv_bad_quoting_rejects_every_swallowed_line() {
    // Line 3 opens a quote that is never closed: the CSV reader would swallow lines
    // 3-6 into one record. Every physical line must be read and rejected on its own.
    // (No other quote on those lines: a later quote would close it.)
    let d = tmp();
    let plain = |p: &'static str| {
        csv_row(&[
            ("partida", p),
            ("nombre", "Compania SA"),
            ("valor_aduana", "1000.00"),
        ])
    };
    let text = format!(
        "{CSV_H}\n{}\n{}\n{}\n{}\n{}\n",
        plain("1"),
        csv_row(&[
            ("partida", "2"),
            ("nombre", "Compania SA"),
            ("valor_aduana", "1000.00"),
            ("descripcion", "\"Tornillo sin cierre"),
        ]),
        plain("3"),
        plain("4"),
        plain("5"),
    );
    let files = vec![("q.csv".to_string(), text.into_bytes())];
    let (r, root) = ingest_files(d.path(), &files).unwrap();
    assert_accounting(&r);
    assert_eq!((r.rows_read, r.accepted, r.rejected), (5, 1, 4));
    let rj = rejects(&root, &r.run_id);
    let lines: Vec<&str> = rj.iter().map(|x| x["line"].as_str()).collect();
    assert_eq!(lines, ["3", "4", "5", "6"]);
    for x in &rj {
        assert!(
            x["reason"].starts_with("bad quoting: an unclosed or stray quote at line 3"),
            "{x:?}"
        );
    }
}

#[test]
fn csv_unclosed_quote_closed_by_a_later_quote_on_the_same_line() {
    // The quote is closed by the next quote of the same line: one record, too few
    // fields, rejected; the following lines are unaffected.
    let d = tmp();
    let text = format!(
        "{CSV_H}\n{}\n{}\n{}\n",
        csv_row(&[]),
        csv_row(&[("partida", "2"), ("descripcion", "\"Tornillo sin cierre")]),
        csv_row(&[("partida", "3")]),
    );
    let files = vec![("q.csv".to_string(), text.into_bytes())];
    let (r, root) = ingest_files(d.path(), &files).unwrap();
    assert_no_line_lost(&files, &r);
    assert_eq!((r.rows_read, r.accepted, r.rejected), (3, 2, 1));
    let rj = rejects(&root, &r.run_id);
    assert_eq!(rj[0]["line"], "3");
    assert!(rj[0]["reason"].starts_with("truncated line"), "{rj:?}");
}

#[test]
fn malformed_csv_lines_are_rejected_with_reasons() {
    let cases: Vec<(&str, String, &str, &str)> = vec![
        (
            "unquoted thousands comma",
            csv_row(&[("partida", "2"), ("valor_comercial", "1,000.00")]),
            "too many fields",
            "",
        ),
        (
            "truncated",
            "2024-240-3953-6000098,1,A1".into(),
            "truncated line",
            "",
        ),
        (
            "bad pedimento",
            csv_row(&[("pedimento", "2024-240-3953")]),
            "bad field",
            "pedimento",
        ),
        (
            "fecha_pago outside the pedimento's year",
            csv_row(&[("partida", "2"), ("fecha_pago", "2023-12-31")]),
            "bad date",
            "fecha_pago",
        ),
        (
            "bad date",
            csv_row(&[("partida", "2"), ("fecha_pago", "2024-02-30")]),
            "bad date",
            "fecha_pago",
        ),
        (
            "bad RFC",
            csv_row(&[("partida", "2"), ("rfc", "ABC0102")]),
            "bad RFC",
            "rfc",
        ),
        (
            "unknown clave",
            csv_row(&[("partida", "2"), ("clave", "Q9")]),
            "unknown clave",
            "clave",
        ),
        (
            "partida not a number",
            csv_row(&[("partida", "uno")]),
            "bad field",
            "partida",
        ),
        (
            "negative partida",
            csv_row(&[("partida", "-1")]),
            "bad field",
            "partida",
        ),
        (
            "fraccion letters",
            csv_row(&[("partida", "2"), ("fraccion", "8471300A")]),
            "bad field",
            "fraccion",
        ),
        (
            "money not a number",
            csv_row(&[("partida", "2"), ("valor_dolares", "$58")]),
            "not a number",
            "valor_dolares",
        ),
        (
            "inconsistent header within a pedimento",
            csv_row(&[("partida", "2"), ("rfc", "XYZ010203XY1")]),
            "inconsistent header",
            "pedimento",
        ),
        (
            "bad rectifica key",
            csv_row(&[("pedimento", "2024-240-3953-6000097"), ("rectifica", "x")]),
            "bad field",
            "rectifica",
        ),
        (
            "bad identificador",
            csv_row(&[("partida", "2"), ("identificadores", "TOOLONG:1")]),
            "bad field",
            "identificadores",
        ),
        (
            "binary garbage",
            "\u{0}\u{1}\u{2}\u{fffd}".into(),
            "truncated line",
            "",
        ),
    ];
    let mut rejected = 0;
    for (name, line, kind, field) in &cases {
        let d = tmp();
        let text = format!("{CSV_H}\n{}\n{line}\n", csv_row(&[]));
        let files = vec![("m.csv".to_string(), text.into_bytes())];
        let (r, root) = ingest_files(d.path(), &files).unwrap();
        assert_no_line_lost(&files, &r);
        assert_eq!((r.accepted, r.rejected), (1, 1), "{name}");
        let rj = rejects(&root, &r.run_id);
        assert_eq!(rj.len(), 1, "{name}");
        assert_eq!(
            pedaudit::model::RejectKind::of_stored(&rj[0]["reason"]).map_or("", |k| k.key()),
            *kind,
            "{name}: {:?}",
            rj[0]
        );
        assert_eq!(rj[0]["field"], *field, "{name}: {:?}", rj[0]);
        assert_eq!(rj[0]["line"], "3", "{name}");
        rejected += 1;
    }
    // A header that lacks required columns: every row rejected, naming them.
    let d = tmp();
    let text = "pedimento,rfc\n2024-240-3953-6000098,ABC010203XY1\n".to_string();
    let files = vec![("h.csv".to_string(), text.into_bytes())];
    let (r, root) = ingest_files(d.path(), &files).unwrap();
    assert_no_line_lost(&files, &r);
    let rj = rejects(&root, &r.run_id);
    assert_eq!(rj.len(), 1);
    assert!(rj[0]["reason"].starts_with("missing column: the header lacks tipo_operacion"));
    rejected += 1;
    // Semicolon-separated (Spanish-locale spreadsheet): every row rejected, with a hint.
    let d = tmp();
    let text = CSV_H.replace(',', ";") + "\n" + &csv_row(&[]).replace(',', ";") + "\n";
    let files = vec![("s.csv".to_string(), text.into_bytes())];
    let (r, root) = ingest_files(d.path(), &files).unwrap();
    assert_no_line_lost(&files, &r);
    let rj = rejects(&root, &r.run_id);
    assert_eq!(rj.len(), 1);
    assert!(
        rj[0]["reason"].contains("this layout is comma-separated"),
        "{:?}",
        rj[0]
    );
    rejected += 1;
    eprintln!(
        "CSV: {} malformed lines, {rejected} rejected with a reason, 0 lost",
        cases.len() + 2
    );
}

#[test]
fn files_that_are_not_inputs_are_listed_and_ignored() {
    let d = tmp();
    let files = vec![
        ("notes.md".to_string(), b"# notes\nnothing here\n".to_vec()),
        ("1901508.zip".to_string(), b"PK\x03\x04garbage".to_vec()),
        (
            "1901508_Resumen.asc".to_string(),
            b"Folio|RFCoPatenteAduanal|\n1|X|\n".to_vec(),
        ),
        (
            "1_501.asc".to_string(),
            format!("{H501}\n{}\n", v501(&[])).into_bytes(),
        ),
        (
            "1_551.TXT".to_string(),
            format!("{H551}\n{}\n", v551(&[])).into_bytes(),
        ),
        ("UPPER.CSV".to_string(), b"pedimento\n".to_vec()),
    ];
    let (r, _root) = ingest_files(d.path(), &files).unwrap();
    assert_accounting(&r);
    assert_eq!((r.rows_read, r.accepted, r.rejected), (2, 2, 0));
    let note = |n: &str| {
        r.files
            .iter()
            .find(|f| f.file.ends_with(n))
            .unwrap()
            .skipped
            .clone()
    };
    assert!(note("notes.md").unwrap().starts_with("not an input file"));
    assert!(
        note("1901508.zip")
            .unwrap()
            .starts_with("ZIP archives are not read")
    );
    assert!(note("1901508_Resumen.asc").unwrap().contains("not used"));
    assert_eq!(note("1_551.TXT"), None);
    assert_eq!(note("UPPER.CSV"), None);
}
