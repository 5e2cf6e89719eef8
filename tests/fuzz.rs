//! Property tests (proptest): the CSV and Data Stage parsers and the field parsers never
//! panic, and every row is accounted for (rows read = accepted + rejected; for Data
//! Stage, every non-blank data line is a row read).
//!
//! CI runs a bounded number of cases (well under 60 s in the dev profile). Longer run:
//! `PROPTEST_CASES=100000 cargo test --release --test fuzz` (every property then runs
//! that many cases; the end-to-end property runs a tenth of them).

mod common;

use common::*;
use pedaudit::ingest::{self, Parsed};
use pedaudit::model;
use proptest::prelude::*;
use std::path::PathBuf;

/// Cases per property: `PROPTEST_CASES` when set, else `default`.
fn cases(default: u32) -> u32 {
    std::env::var("PROPTEST_CASES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

fn config(default: u32) -> ProptestConfig {
    ProptestConfig {
        cases: cases(default),
        failure_persistence: None,
        ..ProptestConfig::default()
    }
}

/// Characters that break parsers: separators, quotes, line ends, NUL, BOM, non-ASCII,
/// digits and signs.
const HOSTILE: &[&str] = &[
    "|", ",", "\"", "\n", "\r\n", "\r", "\0", "\u{feff}", "ñ", "Ó", "\u{fffd}", " ", "\t", "-",
    "+", ".", "0", "9", "e", "'", "𝄞", ";", ":", "/",
];

#[derive(Debug, Clone)]
enum Mutation {
    Delete(usize),
    Insert(usize, usize),
    Replace(usize, usize),
    Truncate(usize),
    DuplicateLine(usize),
}

fn mutation() -> impl Strategy<Value = Mutation> {
    prop_oneof![
        any::<usize>().prop_map(Mutation::Delete),
        (any::<usize>(), 0..HOSTILE.len()).prop_map(|(a, b)| Mutation::Insert(a, b)),
        (any::<usize>(), 0..HOSTILE.len()).prop_map(|(a, b)| Mutation::Replace(a, b)),
        any::<usize>().prop_map(Mutation::Truncate),
        any::<usize>().prop_map(Mutation::DuplicateLine),
    ]
}

fn apply(text: &str, muts: &[Mutation]) -> String {
    let mut chars: Vec<String> = text.chars().map(|c| c.to_string()).collect();
    for m in muts {
        let n = chars.len().max(1);
        match m {
            Mutation::Delete(i) => {
                if !chars.is_empty() {
                    chars.remove(i % n);
                }
            }
            Mutation::Insert(i, h) => chars.insert(i % (chars.len() + 1), HOSTILE[*h].into()),
            Mutation::Replace(i, h) => {
                if !chars.is_empty() {
                    chars[i % n] = HOSTILE[*h].into();
                }
            }
            Mutation::Truncate(i) => chars.truncate(i % (n + 1)),
            Mutation::DuplicateLine(i) => {
                let s: String = chars.concat();
                let lines: Vec<&str> = s.split('\n').collect();
                let k = i % lines.len();
                let mut out: Vec<&str> = lines.clone();
                out.insert(k, lines[k]);
                chars = out.join("\n").chars().map(|c| c.to_string()).collect();
            }
        }
    }
    chars.concat()
}

fn encode(text: &str, latin1: bool) -> Vec<u8> {
    if latin1 {
        encoding_rs::WINDOWS_1252.encode(text).0.into_owned()
    } else {
        text.as_bytes().to_vec()
    }
}

fn valid_ds() -> Vec<(&'static str, String)> {
    let k = [("Patente", "3953"), ("SeccionAduanera", "240")];
    let i507 = ds_line(
        H507,
        &[
            k[0],
            k[1],
            ("Pedimento", "6000098"),
            ("ClaveCaso", "IM"),
            ("IdentificadorCaso", "123"),
        ],
    );
    let i554 = ds_line(
        H554,
        &[
            k[0],
            k[1],
            ("Pedimento", "6000098"),
            ("SecuenciaFraccion", "1"),
            ("ClaveCaso", "EB"),
        ],
    );
    let r701 = ds_line(
        H701,
        &[
            k[0],
            k[1],
            ("Pedimento", "6000099"),
            ("PedimentoAnterior", "6000098"),
            ("PatenteAnterior", "3953"),
            ("SeccionAduaneraAnterior", "240"),
        ],
    );
    vec![
        (
            "501",
            format!(
                "{H501}\n{}\n{}\n",
                v501(&[]),
                v501(&[("Pedimento", "6000099"), ("ClaveDocumento", "R1")])
            ),
        ),
        (
            "551",
            format!(
                "{H551}\n{}\n{}\n{}\n",
                v551(&[]),
                v551(&[("SecuenciaFraccion", "2"), ("ValorAduana", "1,234.50")]),
                v551(&[("Pedimento", "6000099")])
            ),
        ),
        ("507", format!("{H507}\n{i507}\n")),
        ("554", format!("{H554}\n{i554}\n")),
        ("701", format!("{H701}\n{r701}\n")),
    ]
}

const CSV_TEXT: &str = "pedimento,tipo_operacion,clave,clave_original,rfc,nombre,fecha_pago,rectifica,partida,fraccion,descripcion,umt,cantidad_umt,valor_aduana,valor_comercial,valor_dolares,identificadores,descargo_pedimento,descargo_cantidad
2024-240-3953-6000098,1,IN,,ABC010203XY1,\"Compañía, SA\",2024-03-05,,1,84713001,\"Tornillo 3/4\"\"\",6,10,\"1,000.00\",1000,58.65,IM:123;P.EB,,
2024-240-3953-6000098,1,IN,,ABC010203XY1,\"Compañía, SA\",2024-03-05,,2,8471.30.01,Tuerca,6,0,0,0,0,,,
2024-240-3953-6000099,1,R1,IN,ABC010203XY1,Otra,2024-04-01,2024-240-3953-6000098,1,84713001,x,6,-5,-100,-100,-5,,,
2024-240-3953-6000100,2,RT,,ABC010203XY1,,29/02/2024,,1,84713001,,6,3,10,10,1,,2024-240-3953-6000098,3
";

fn check_ds(files: Vec<(&str, Vec<u8>)>) -> Result<(), TestCaseError> {
    let input: Vec<(PathBuf, Vec<u8>, String)> = files
        .into_iter()
        .map(|(t, b)| {
            let h = ingest::sha256_hex(&b);
            (PathBuf::from(format!("/fuzz/1_{t}.asc")), b, h)
        })
        .collect();
    let mut parsed = Parsed::default();
    ingest::datastage::parse(&input, &mut parsed);
    prop_assert!(parsed.check_accounting().is_ok(), "{:?}", parsed.files);
    for (p, b, _) in &input {
        let f = parsed
            .files
            .iter()
            .find(|f| f.file == p.display().to_string())
            .unwrap();
        prop_assert_eq!(f.rows_read, data_lines(b), "{:?}", f);
    }
    let rejected: usize = parsed.files.iter().map(|f| f.rejected).sum();
    prop_assert_eq!(rejected, parsed.rejects.len());
    Ok(())
}

fn check_csv(bytes: Vec<u8>) -> Result<(), TestCaseError> {
    let mut parsed = Parsed::default();
    let h = ingest::sha256_hex(&bytes);
    ingest::csv::parse(std::path::Path::new("/fuzz/x.csv"), &bytes, &h, &mut parsed);
    prop_assert!(parsed.check_accounting().is_ok(), "{:?}", parsed.files);
    prop_assert_eq!(parsed.files.len(), 1);
    prop_assert_eq!(parsed.files[0].rejected, parsed.rejects.len());
    Ok(())
}

proptest! {
    #![proptest_config(config(1000))]

    #[test]
    fn datastage_arbitrary_bytes(b501 in proptest::collection::vec(any::<u8>(), 0..400),
                                 b551 in proptest::collection::vec(any::<u8>(), 0..400)) {
        check_ds(vec![("501", b501), ("551", b551)])?;
    }

    #[test]
    fn datastage_mutated_lines(muts in proptest::collection::vec((0usize..5, mutation()), 0..8),
                               latin1 in any::<bool>(), crlf in any::<bool>()) {
        let mut files = vec![];
        for (i, (t, text)) in valid_ds().into_iter().enumerate() {
            let m: Vec<Mutation> = muts.iter().filter(|(k, _)| *k == i).map(|x| x.1.clone()).collect();
            let mut s = apply(&text, &m);
            if crlf { s = s.replace('\n', "\r\n"); }
            files.push((t, encode(&s, latin1)));
        }
        check_ds(files)?;
    }

    #[test]
    fn csv_arbitrary_bytes(b in proptest::collection::vec(any::<u8>(), 0..600)) {
        check_csv(b)?;
    }

    #[test]
    fn csv_arbitrary_bytes_after_a_valid_header(b in proptest::collection::vec(any::<u8>(), 0..600)) {
        let mut bytes = CSV_TEXT.lines().next().unwrap().as_bytes().to_vec();
        bytes.push(b'\n');
        bytes.extend(b);
        check_csv(bytes)?;
    }

    #[test]
    fn csv_mutated_lines(muts in proptest::collection::vec(mutation(), 0..8),
                         latin1 in any::<bool>(), crlf in any::<bool>()) {
        let mut s = apply(CSV_TEXT, &muts);
        if crlf { s = s.replace('\n', "\r\n"); }
        check_csv(encode(&s, latin1))?;
    }

    #[test]
    fn decimal_never_panics(s in any::<String>(), t in "[-+]?[0-9,]{0,25}(\\.[0-9]{0,12})?", scale in 0u32..=6) {
        for x in [&s, &t] {
            if let Ok(d) = model::decimal(x, scale) {
                prop_assert!(d.abs() < model::max_for(scale));
                // Never more decimals than the column holds (padding zeros are dropped).
                prop_assert!(d.scale() <= scale);
                // What parsed re-parses to the same value.
                prop_assert_eq!(model::decimal(&d.to_string(), scale).unwrap(), d);
                let _ = model::to_scaled_i128(d, scale);
            }
        }
    }

    #[test]
    fn date_never_panics(s in any::<String>(), t in "[0-9]{0,14}", u in "[0-9]{1,4}[-/][0-9]{1,2}[-/][0-9]{1,4}( [0-9:]{0,8})?") {
        for x in [&s, &t, &u] {
            if let Ok(d) = model::date(x) {
                prop_assert!((1900..=2200).contains(&chrono::Datelike::year(&d)));
                prop_assert_eq!(model::from_date32(model::date32(d)), d);
            }
        }
    }

    #[test]
    fn rfc_never_panics(s in any::<String>(), t in "[A-ZÑ&a-z0-9]{10,14}") {
        for x in [&s, &t] {
            if let Ok(r) = model::rfc(x) {
                let n = r.chars().count();
                prop_assert!(n == 12 || n == 13);
                prop_assert_eq!(model::rfc(&r).unwrap(), r.clone());
            }
        }
    }

    #[test]
    fn pedimento_key_never_panics(s in any::<String>(), t in "[0-9]{1,5}[- /][0-9]{1,4}[- /][0-9]{1,5}[- /][0-9]{1,8}") {
        for x in [&s, &t] {
            if let Ok(k) = model::PedimentoKey::parse(x) {
                prop_assert_eq!(model::PedimentoKey::parse(&k.id()).unwrap(), k);
                prop_assert_eq!(k.id().len() >= 21, true);
            }
            let _ = model::digits(x, 7, "x");
            let _ = model::fraccion(x);
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: (cases(160) / 10).max(16), ..config(16) })]

    /// End to end through `ingest::run` (Parquet rejects with hostile raw text,
    /// manifest): never an error other than I/O, accounting holds.
    #[test]
    fn ingest_run_end_to_end(muts in proptest::collection::vec((0usize..6, mutation()), 1..10),
                             latin1 in any::<bool>()) {
        let d = tempfile::tempdir().unwrap();
        let mut files: Vec<(String, Vec<u8>)> = vec![];
        for (i, (t, text)) in valid_ds().into_iter().enumerate() {
            let m: Vec<Mutation> = muts.iter().filter(|(k, _)| *k == i).map(|x| x.1.clone()).collect();
            files.push((format!("1_{t}.asc"), encode(&apply(&text, &m), latin1)));
        }
        let m: Vec<Mutation> = muts.iter().filter(|(k, _)| *k == 5).map(|x| x.1.clone()).collect();
        files.push(("p.csv".into(), encode(&apply(CSV_TEXT, &m), latin1)));
        let (r, root) = ingest_files(d.path(), &files).unwrap();
        assert_accounting(&r);
        prop_assert_eq!(rejects(&root, &r.run_id).len(), r.rejected);
    }
}
