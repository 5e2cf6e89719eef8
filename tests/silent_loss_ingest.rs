//! Issue 22, ingest side: rows that vanished or changed with exit 0 under hostile input.
//! Each test reproduces one report of the issue and asserts that nothing is lost: every
//! physical line is accepted or rejected with a reason naming file, line and field, and
//! differing repeats are kept as conflicts (DATA-CONFLICT).

mod common;

use common::*;
use pedaudit::checks::{self, AuditContext, AuditOptions};
use pedaudit::ingest::{self, IngestReport};
use std::collections::BTreeMap;
use std::path::Path;

const CSV_H: &str = "pedimento,tipo_operacion,clave,rfc,nombre,fecha_pago,partida,fraccion,descripcion,umt,cantidad_umt,valor_aduana,valor_comercial,valor_dolares,descargo_pedimento,descargo_cantidad";

fn csv_row(over: &[(&str, &str)]) -> String {
    let mut v: BTreeMap<&str, &str> = [
        ("pedimento", "2024-240-3953-6000098"),
        ("tipo_operacion", "1"),
        ("clave", "A1"),
        ("rfc", "ABC010203XY1"),
        ("nombre", "ACME SA"),
        ("fecha_pago", "2024-03-05"),
        ("partida", "1"),
        ("fraccion", "84713001"),
        ("descripcion", "Tornillo"),
        ("umt", "6"),
        ("cantidad_umt", "10"),
        ("valor_aduana", "1000.00"),
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

fn csv_file(rows: &[String]) -> Vec<u8> {
    let mut s = format!("{CSV_H}\n");
    for r in rows {
        s.push_str(r);
        s.push('\n');
    }
    s.into_bytes()
}

fn file_of<'a>(r: &'a IngestReport, name: &str) -> &'a ingest::FileStats {
    r.files
        .iter()
        .find(|f| f.file.ends_with(name))
        .unwrap_or_else(|| panic!("{name} not in {:?}", r.files))
}

fn data_conflicts(root: &Path) -> usize {
    let ctx = AuditContext::open(root, AuditOptions::default()).unwrap();
    let def = checks::find("DATA-CONFLICT").unwrap();
    checks::run(&ctx, &[def]).unwrap().height()
}

/// Item 1: `"ACME SA` with no closing quote and a later `DELTA "X" SA`: the reader makes
/// one record of lines 2-4 with the right field count. Before: "rows read 2 = accepted 2",
/// lines 3 and 4 gone into a name. Now every physical line is read, and the lines of the
/// merged record are rejected naming the field.
#[test]
fn csv_unclosed_quote_swallowing_lines_rejects_each_line() {
    let d = tempfile::tempdir().unwrap();
    let text = csv_file(&[
        csv_row(&[("nombre", "\"ACME SA")]),
        csv_row(&[("partida", "2")]),
        csv_row(&[("partida", "3"), ("nombre", "DELTA \"X\" SA")]),
        csv_row(&[("partida", "4")]),
        csv_row(&[("partida", "5")]),
    ]);
    let files = vec![("q.csv".to_string(), text.clone())];
    let (r, root) = ingest_files(d.path(), &files).unwrap();
    assert_accounting(&r);
    let f = file_of(&r, "q.csv");
    assert_eq!(f.lines, 5, "{f:?}");
    assert_eq!(
        f.rows_read,
        data_lines(&text),
        "every physical line is read: {f:?}"
    );
    assert_eq!(f.lines, f.blank_lines + f.rows_read + f.joined_lines);
    let rj = rejects(&root, &r.run_id);
    let lines: Vec<&str> = rj.iter().map(|x| x["line"].as_str()).collect();
    assert_eq!(lines, ["2", "3", "4"], "{rj:?}");
    for x in &rj {
        assert_eq!(x["field"], "nombre", "{x:?}");
        assert!(x["source_file"].ends_with("q.csv"));
        assert!(x["reason"].starts_with("bad quoting"), "{x:?}");
    }
    assert_eq!((r.accepted, r.rejected), (2, 3));
    let names: Vec<String> = all_rows(&root, "pedimentos")
        .iter()
        .map(|p| p["nombre"].clone())
        .collect();
    assert!(names.iter().all(|n| !n.contains('\n')), "{names:?}");
}

/// Item 1: a stray quote that takes separators into one field, so that the line read
/// with its quotes has another field count than split at every comma (the header's):
/// rejected as bad quoting naming the field, not as a mere count error.
#[test]
fn csv_quote_induced_field_count_change_names_the_field() {
    let d = tempfile::tempdir().unwrap();
    let text = csv_file(&[
        csv_row(&[]),
        csv_row(&[
            ("partida", "2"),
            ("descripcion", "\"Tornillo"),
            ("umt", "6\""),
        ]),
    ]);
    let files = vec![("q.csv".to_string(), text)];
    let (r, root) = ingest_files(d.path(), &files).unwrap();
    assert_accounting(&r);
    let rj = rejects(&root, &r.run_id);
    assert_eq!(rj.len(), 1, "{rj:?}");
    assert_eq!(rj[0]["line"], "3");
    assert_eq!(rj[0]["field"], "descripcion");
    assert!(rj[0]["reason"].starts_with("bad quoting"), "{rj:?}");
}

/// Item 2: the same (pedimento, partida) twice in one CSV file. Identical repeats are
/// counted as duplicates and stored once (descargos not doubled); a different version is
/// a conflict (DATA-CONFLICT), the later row wins. Before: "2 accepted", 1 stored,
/// duplicates 0, no conflict.
#[test]
fn csv_repeated_partida_is_a_duplicate_or_a_conflict() {
    let d = tempfile::tempdir().unwrap();
    let desc = [
        ("descargo_pedimento", "2023-240-3953-5000001"),
        ("descargo_cantidad", "1"),
    ];
    let text = csv_file(&[
        csv_row(&desc),
        csv_row(&desc),
        csv_row(&[("partida", "2"), ("cantidad_umt", "100")]),
        csv_row(&[("partida", "2"), ("cantidad_umt", "5")]),
    ]);
    let files = vec![("dup.csv".to_string(), text)];
    let (r, root) = ingest_files(d.path(), &files).unwrap();
    assert_accounting(&r);
    assert_eq!((r.accepted, r.rejected), (4, 0));
    let f = file_of(&r, "dup.csv");
    assert_eq!((f.duplicates, f.conflicts), (2, 1), "{f:?}");
    let p = all_rows(&root, "partidas");
    assert_eq!(p.len(), 2);
    assert_eq!(p[1]["cantidad_umt"], "5.00000", "the later row wins");
    assert_eq!(all_rows(&root, "descargos").len(), 1, "not doubled");
    let c = all_rows(&root, "conflicts");
    assert_eq!(c.len(), 1, "{c:?}");
    assert_eq!(c[0]["source_line"], "4", "the replaced row's line");
    assert!(c[0]["source_file"].ends_with("dup.csv"));
    assert_eq!(data_conflicts(&root), 1);
}

/// Item 3: the same partida twice in one 551 file with different quantities. Before: the
/// first row dropped as a "duplicate" visible only in the manifest; no conflict row. Now
/// the earlier version is a conflict (DATA-CONFLICT) and the counts are on the file.
#[test]
fn datastage_repeated_partida_with_other_content_is_a_conflict() {
    let d = tempfile::tempdir().unwrap();
    let files = vec![
        ds_file("1", "501", &[v501(&[])]),
        ds_file(
            "1",
            "551",
            &[
                v551(&[("CantidadUMTarifa", "100")]),
                v551(&[("SecuenciaFraccion", "2")]),
                v551(&[("SecuenciaFraccion", "2")]),
                v551(&[("CantidadUMTarifa", "7")]),
            ],
        ),
    ];
    let (r, root) = ingest_files(d.path(), &files).unwrap();
    assert_accounting(&r);
    assert_eq!((r.accepted, r.rejected), (5, 0));
    let f = file_of(&r, "1_551.asc");
    assert_eq!((f.duplicates, f.conflicts), (2, 1), "{f:?}");
    let p = all_rows(&root, "partidas");
    assert_eq!(p.len(), 2);
    assert_eq!(p[0]["cantidad_umt"], "7.00000");
    let c = all_rows(&root, "conflicts");
    assert_eq!(c.len(), 1, "{c:?}");
    assert!(c[0]["source_file"].ends_with("1_551.asc"), "{c:?}");
    assert_eq!(c[0]["source_line"], "2", "the replaced row");
    assert_eq!(data_conflicts(&root), 1);
}

/// Item 4: 12 partidas of 9,999,999,999,999,999.99 (each a valid DECIMAL(18,2)) made a
/// pedimento total that wrapped to -64,467,440,737,095,516.28 when stored. Now the
/// pedimento is rejected whole with the reason, in both layouts; other pedimentos stay.
#[test]
fn overflowing_pedimento_total_rejects_the_pedimento() {
    const BIG: &str = "9999999999999999.99";
    // Data Stage: pedimento ...098 overflows, ...099 is fine; a 557 row of the
    // overflowing one is rejected as a row of a rejected pedimento.
    let d = tempfile::tempdir().unwrap();
    let k99 = [("Pedimento", "6000099")];
    let mut p551: Vec<String> = vec![];
    let seqs: Vec<String> = (1..=12).map(|i| i.to_string()).collect();
    for s in &seqs {
        let s: &'static str = Box::leak(s.clone().into_boxed_str());
        p551.push(v551(&[("SecuenciaFraccion", s), ("ValorAduana", BIG)]));
    }
    p551.push(v551(&k99));
    let c557 = ds_line(
        H557,
        &[
            ("Patente", "3953"),
            ("Pedimento", "6000098"),
            ("SeccionAduanera", "240"),
            ("SecuenciaFraccion", "1"),
            ("ClaveContribucion", "6"),
            ("ImportePago", "10"),
            ("FechaPagoReal", "2024-03-05"),
        ],
    );
    let files = vec![
        ds_file("1", "501", &[v501(&[]), v501(&k99)]),
        ds_file("1", "551", &p551),
        ds_file("1", "557", &[c557]),
    ];
    let (r, root) = ingest_files(d.path(), &files).unwrap();
    assert_accounting(&r);
    assert_eq!((r.accepted, r.rejected), (2, 14), "{:?}", r.files);
    let peds = all_rows(&root, "pedimentos");
    assert_eq!(peds.len(), 1);
    assert_eq!(peds[0]["pedimento_id"], "2024-240-3953-6000099");
    assert_eq!(all_rows(&root, "partidas").len(), 1);
    let rj = rejects(&root, &r.run_id);
    let overflow = rj
        .iter()
        .filter(|x| x["reason"].starts_with("total overflow"))
        .count();
    assert_eq!(overflow, 13, "the 501 row and its 12 partidas: {rj:?}");
    assert!(
        rj.iter()
            .any(|x| x["record_type"] == "501" && x["field"] == "valor_aduana" && x["line"] == "2")
    );
    assert!(
        rj.iter()
            .any(|x| x["record_type"] == "557" && x["reason"].starts_with("pedimento rejected")),
        "{rj:?}"
    );
    // CSV: the same.
    let d = tempfile::tempdir().unwrap();
    let mut rows: Vec<String> = seqs
        .iter()
        .map(|s| csv_row(&[("partida", s), ("valor_aduana", BIG)]))
        .collect();
    rows.push(csv_row(&[("pedimento", "2024-240-3953-6000099")]));
    let files = vec![("big.csv".to_string(), csv_file(&rows))];
    let (r, root) = ingest_files(d.path(), &files).unwrap();
    assert_accounting(&r);
    assert_eq!((r.accepted, r.rejected), (1, 12));
    let rj = rejects(&root, &r.run_id);
    assert!(
        rj.iter().all(|x| x["field"] == "valor_aduana"
            && x["reason"].starts_with("total overflow")
            && x["source_file"].ends_with("big.csv")),
        "{rj:?}"
    );
    let peds = all_rows(&root, "pedimentos");
    assert_eq!(peds.len(), 1);
    assert_eq!(peds[0]["valor_aduana"], "1000.00");
}

/// Item 5: 100.999 was stored as 101.00 and 0.000001 as 0. Nonzero decimals beyond the
/// column's scale are a reject naming the field; padding zeros (Data Stage's) are fine.
#[test]
fn extra_decimals_are_rejected_not_rounded() {
    let d = tempfile::tempdir().unwrap();
    let files = vec![
        ds_file("1", "501", &[v501(&[])]),
        ds_file(
            "1",
            "551",
            &[
                v551(&[("ValorAduana", "100.999")]),
                v551(&[("SecuenciaFraccion", "2"), ("CantidadUMTarifa", "0.000001")]),
                v551(&[("SecuenciaFraccion", "3"), ("ValorAduana", "100.9900")]),
            ],
        ),
    ];
    let (r, root) = ingest_files(d.path(), &files).unwrap();
    assert_accounting(&r);
    assert_eq!((r.accepted, r.rejected), (2, 2));
    let rj = rejects(&root, &r.run_id);
    let fields: Vec<(&str, &str)> = rj
        .iter()
        .map(|x| (x["line"].as_str(), x["field"].as_str()))
        .collect();
    assert_eq!(fields, [("2", "ValorAduana"), ("3", "CantidadUMTarifa")]);
    assert!(
        rj.iter().all(|x| x["reason"].contains("more than")),
        "{rj:?}"
    );
    let p = all_rows(&root, "partidas");
    assert_eq!(p.len(), 1);
    assert_eq!(p[0]["valor_aduana"], "100.99");
    // CSV: the same rule.
    let d = tempfile::tempdir().unwrap();
    let files = vec![(
        "x.csv".to_string(),
        csv_file(&[csv_row(&[("valor_dolares", "58.651")])]),
    )];
    let (r, root) = ingest_files(d.path(), &files).unwrap();
    assert_eq!((r.accepted, r.rejected), (0, 1));
    assert_eq!(rejects(&root, &r.run_id)[0]["field"], "valor_dolares");
}

/// Item 12: two symbolic link loops (`l1 -> .`, `l2 -> .`) made the ingest run forever
/// with growing memory; one dangling link aborted the whole run. Now loops are detected
/// and not followed, the dangling link is a skipped input with its reason, and the
/// files are read once.
#[cfg(unix)]
#[test]
fn symlink_loops_and_dangling_links_are_skipped_with_a_reason() {
    use std::os::unix::fs::symlink;
    let d = tempfile::tempdir().unwrap();
    let input = d.path().join("in");
    std::fs::create_dir_all(input.join("sub")).unwrap();
    for (n, b) in [
        ds_file("1", "501", &[v501(&[])]),
        ds_file("1", "551", &[v551(&[])]),
    ] {
        std::fs::write(input.join("sub").join(n), b).unwrap();
    }
    symlink(".", input.join("l1")).unwrap();
    symlink(".", input.join("l2")).unwrap();
    symlink("..", input.join("sub").join("up")).unwrap();
    symlink("missing_551.asc", input.join("dangling_551.asc")).unwrap();
    let root = d.path().join("ds");
    let (tx, rx) = std::sync::mpsc::channel();
    let (i2, r2) = (input.clone(), root.clone());
    std::thread::spawn(move || {
        let _ = tx.send(ingest::run(&[i2], &r2, &Default::default()));
    });
    let r = rx
        .recv_timeout(std::time::Duration::from_secs(60))
        .expect("the ingest ends (no endless walk through link loops)")
        .expect("one dangling link does not abort the run");
    assert_accounting(&r);
    assert_eq!((r.accepted, r.rejected), (2, 0));
    let parsed: Vec<&str> = r
        .files
        .iter()
        .filter(|f| f.skipped.is_none())
        .map(|f| f.file.as_str())
        .collect();
    assert_eq!(parsed.len(), 2, "each file read once: {:?}", r.files);
    let skipped: Vec<(&str, &str)> = r
        .files
        .iter()
        .filter_map(|f| f.skipped.as_deref().map(|s| (f.file.as_str(), s)))
        .collect();
    assert!(
        skipped.iter().any(
            |(f, s)| f.ends_with("dangling_551.asc") && s.starts_with("dangling symbolic link")
        ),
        "{skipped:?}"
    );
    for l in ["l1", "l2"] {
        assert!(
            skipped
                .iter()
                .any(|(f, s)| f.ends_with(l) && s.starts_with("symbolic link loop")),
            "{l}: {skipped:?}"
        );
    }
    assert_eq!(all_rows(&root, "partidas").len(), 1);
}

/// Item 6: a 551 file arriving in a later run than its 501 was rejected "missing
/// pedimento" although the 501 was in the dataset. Now it resolves against the stored
/// pedimento: its partidas are added (a partida given again replaces the stored one),
/// the header's totals cover all of them, and the stored identificadores stay.
#[test]
fn datastage_551_in_a_later_run_resolves_against_the_dataset() {
    let d = tempfile::tempdir().unwrap();
    let root = d.path().join("ds");
    let run_dir = |name: &str, files: &[(String, Vec<u8>)]| {
        let input = d.path().join(name);
        std::fs::create_dir_all(&input).unwrap();
        for (n, b) in files {
            std::fs::write(input.join(n), b).unwrap();
        }
        ingest::run(&[input], &root, &Default::default()).unwrap()
    };
    let i507 = ds_line(
        H507,
        &[
            ("Patente", "3953"),
            ("Pedimento", "6000098"),
            ("SeccionAduanera", "240"),
            ("ClaveCaso", "IM"),
            ("IdentificadorCaso", "123"),
            ("FechaValidacionPagoR", "2024-03-05"),
        ],
    );
    let r = run_dir(
        "first",
        &[
            ds_file("1", "501", &[v501(&[])]),
            ds_file("1", "551", &[v551(&[])]),
            ds_file("1", "507", &[i507]),
        ],
    );
    assert_eq!((r.accepted, r.rejected), (3, 0));
    // A later run: only a 551 file, partida 2 and partida 1 again (same content).
    let r = run_dir(
        "later",
        &[ds_file(
            "2",
            "551",
            &[
                v551(&[]),
                v551(&[("SecuenciaFraccion", "2"), ("ValorAduana", "500.00")]),
            ],
        )],
    );
    assert_accounting(&r);
    assert_eq!(
        (r.accepted, r.rejected),
        (2, 0),
        "{:?}",
        rejects(&root, &r.run_id)
    );
    let p = all_rows(&root, "partidas");
    let got: Vec<(&str, &str)> = p
        .iter()
        .map(|x| (x["partida"].as_str(), x["valor_aduana"].as_str()))
        .collect();
    assert_eq!(got.len(), 2, "{got:?}");
    assert!(got.contains(&("1", "1000.00")) && got.contains(&("2", "500.00")));
    let h = all_rows(&root, "pedimentos");
    assert_eq!(h.len(), 1);
    assert_eq!(h[0]["valor_aduana"], "1500.00", "totals of all partidas");
    assert_eq!(h[0]["immex_programa"], "123", "the stored header kept");
    assert_eq!(
        all_rows(&root, "identificadores").len(),
        1,
        "stored 507 kept"
    );
    assert_eq!(all_rows(&root, "conflicts").len(), 0);
    // Partida 2 again, with another value: replaced, and the stored version of the
    // pedimento is a conflict (DATA-CONFLICT), not a silent change.
    let r = run_dir(
        "changed",
        &[ds_file(
            "4",
            "551",
            &[v551(&[
                ("SecuenciaFraccion", "2"),
                ("ValorAduana", "600.00"),
            ])],
        )],
    );
    assert_eq!((r.accepted, r.rejected), (1, 0));
    let h = all_rows(&root, "pedimentos");
    assert_eq!(h[0]["valor_aduana"], "1600.00");
    let c = all_rows(&root, "conflicts");
    assert_eq!(c.len(), 1, "{c:?}");
    assert_eq!(c[0]["valor_aduana"], "1500.00", "the stored version");
    assert_eq!(data_conflicts(&root), 1);
    // A 551 row of a pedimento in neither the input nor the dataset: still rejected.
    let r = run_dir(
        "orphan",
        &[ds_file("3", "551", &[v551(&[("Pedimento", "6000777")])])],
    );
    assert_eq!((r.accepted, r.rejected), (0, 1));
    assert!(rejects(&root, &r.run_id)[0]["reason"].starts_with("missing pedimento"));
}

/// Smaller: UTF-16 input was labelled "Latin-1" in the manifest (and read as garbage).
/// Now it is decoded and labelled as what it is.
#[test]
fn utf16_input_is_decoded_and_labelled() {
    let utf16le = |(name, bytes): (String, Vec<u8>)| {
        let text = String::from_utf8(bytes).unwrap();
        let mut out = vec![0xFF, 0xFE];
        for u in text.replace('\n', "\r\n").encode_utf16() {
            out.extend(u.to_le_bytes());
        }
        (name, out)
    };
    let d = tempfile::tempdir().unwrap();
    let files = vec![
        utf16le(ds_file("1", "501", &[v501(&[])])),
        utf16le(ds_file("1", "551", &[v551(&[])])),
    ];
    let (r, root) = ingest_files(d.path(), &files).unwrap();
    assert_accounting(&r);
    assert_eq!((r.accepted, r.rejected), (2, 0), "{:?}", r.files);
    for f in &r.files {
        assert_eq!(f.layout, "datastage (UTF-16LE)", "{f:?}");
    }
    assert_eq!(
        all_rows(&root, "pedimentos")[0]["nombre"],
        "Compañía Ñandú SA"
    );
}

/// Smaller: a corrupt Parquet page (the footer intact) gave an error that did not name
/// the file. Reading it now fails naming it.
#[test]
fn corrupt_parquet_error_names_the_file() {
    let d = tempfile::tempdir().unwrap();
    let rows: Vec<String> = (1..=400)
        .map(|i| {
            let s: &'static str = Box::leak(i.to_string().into_boxed_str());
            v551(&[("SecuenciaFraccion", s)])
        })
        .collect();
    let files = vec![
        ds_file("1", "501", &[v501(&[])]),
        ds_file("1", "551", &rows),
    ];
    let (_, root) = ingest_files(d.path(), &files).unwrap();
    let p = pedaudit::dataset::year_dir(&root, 2024).join("partidas.parquet");
    let mut bytes = std::fs::read(&p).unwrap();
    // Garbage over the first page's header (right after the 4-byte magic): the footer
    // is intact, the file opens, its first batch fails.
    for b in &mut bytes[4..24] {
        *b = 0xA5;
    }
    std::fs::write(&p, &bytes).unwrap();
    let e = pedaudit::dataset::read_parquet(&p).expect_err("corrupt pages");
    assert!(
        e.to_string().contains("partidas.parquet"),
        "the error names the file: {e} / {e:?}"
    );
}
