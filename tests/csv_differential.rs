//! CSV differential test (issue 22, "Done when"): over generated files whose text fields
//! hold quotes, separators and line breaks, quoted or not (unclosed and stray quotes
//! included), every record the ingest accepts round-trips through the `csv` crate's
//! strict reader (equal field counts required) to the same fields, and every physical
//! line is accounted for: a line of an accepted record, a rejected line, or a blank
//! line (no data in it), never two of these; `lines = blank + read + joined`.

use pedaudit::ingest::{self, Parsed, csv::CsvOptions};
use proptest::prelude::*;
use std::collections::{BTreeMap, BTreeSet};

const HEADER: &str = "pedimento,tipo_operacion,clave,rfc,nombre,fecha_pago,partida,fraccion,descripcion,codigo_producto,umt,cantidad_umt,valor_aduana,valor_comercial,valor_dolares";
const NOMBRE: usize = 4;
const PARTIDA: usize = 6;
const DESCRIPCION: usize = 8;
const CODIGO: usize = 9;

/// How a text field is written.
#[derive(Debug, Clone, Copy)]
enum Q {
    /// As is (a quote or comma in it is what it is).
    Raw,
    /// RFC 4180: in quotes, inner quotes doubled.
    Quoted,
    /// An opening quote never closed.
    Unclosed,
}

fn field(text: &str, q: Q) -> String {
    match q {
        Q::Raw => text.to_string(),
        Q::Quoted => format!("\"{}\"", text.replace('"', "\"\"")),
        Q::Unclosed => format!("\"{text}"),
    }
}

fn q() -> impl Strategy<Value = Q> {
    prop_oneof![4 => Just(Q::Raw), 4 => Just(Q::Quoted), 1 => Just(Q::Unclosed)]
}

/// Text with letters, spaces, quotes, separators and line breaks.
fn text() -> impl Strategy<Value = String> {
    "[a-z0-9 ,\"\n]{0,10}"
}

type RowSpec = ((String, Q), (String, Q), (String, Q));

fn row_spec() -> impl Strategy<Value = RowSpec> {
    ((text(), q()), (text(), q()), (text(), q()))
}

fn file_text(rows: &[RowSpec]) -> String {
    let mut s = format!("{HEADER}\n");
    for (i, ((nombre, qn), (desc, qd), (code, qc))) in rows.iter().enumerate() {
        s.push_str(&format!(
            "2024-240-3953-6000098,1,A1,ABC010203XY1,{},2024-03-05,{},84713001,{},{},6,10,1000.00,1000,58.65\n",
            field(nombre, *qn),
            i + 1,
            field(desc, *qd),
            field(code, *qc),
        ));
    }
    s
}

fn trimmed(s: &str) -> Option<String> {
    let t = s.trim();
    (!t.is_empty()).then(|| t.to_string())
}

fn check(text: &str, multiline: bool) -> Result<(), TestCaseError> {
    let mut parsed = Parsed::default();
    let bytes = text.as_bytes();
    let h = ingest::sha256_hex(bytes);
    ingest::csv::parse_with(
        std::path::Path::new("/diff/x.csv"),
        bytes,
        &h,
        &CsvOptions { multiline },
        &mut parsed,
    );
    prop_assert!(parsed.check_accounting().is_ok(), "{:?}", parsed.files);
    let f = &parsed.files[0];
    prop_assert_eq!(f.rows_read, f.accepted + f.rejected);
    prop_assert_eq!(f.rejected, parsed.rejects.len());

    // The strict reader's records by their first line.
    let mut strict: BTreeMap<usize, Result<csv::StringRecord, String>> = BTreeMap::new();
    let mut rdr = csv::ReaderBuilder::new()
        .has_headers(true)
        .flexible(false)
        .from_reader(bytes);
    for r in rdr.records() {
        match r {
            Ok(r) => {
                let line = r.position().unwrap().line() as usize;
                strict.insert(line, Ok(r));
            }
            Err(e) => {
                if let Some(p) = e.position() {
                    strict.insert(p.line() as usize, Err(e.to_string()));
                }
            }
        }
    }

    // Every stored partida is a record the strict reader reads the same.
    let empty = Default::default();
    let year = parsed.years.get(&2024).unwrap_or(&empty);
    let mut accepted_lines: BTreeSet<usize> = BTreeSet::new();
    for p in &year.partidas {
        let ln = p.source_line as usize;
        let rec = match strict.get(&ln) {
            Some(Ok(r)) => r,
            other => {
                return Err(TestCaseError::fail(format!(
                    "accepted line {ln} is not a strict record: {other:?}\n{text:?}"
                )));
            }
        };
        prop_assert_eq!(rec.len(), HEADER.split(',').count());
        prop_assert_eq!(rec[PARTIDA].trim().parse::<i32>().ok(), Some(p.partida));
        prop_assert_eq!(
            p.descripcion.as_deref().map(str::to_string),
            trimmed(&rec[DESCRIPCION]),
            "line {}: {:?}",
            ln,
            text
        );
        prop_assert_eq!(
            p.codigo_producto.as_deref().map(str::to_string),
            trimmed(&rec[CODIGO])
        );
        let span = 1 + rec.iter().map(|f| f.matches('\n').count()).sum::<usize>();
        prop_assert!(multiline || span == 1, "a multi-line record accepted");
        for l in ln..ln + span {
            prop_assert!(accepted_lines.insert(l), "line {} twice", l);
        }
    }
    prop_assert_eq!(year.partidas.len(), f.accepted, "partidas are distinct");
    for h in &year.pedimentos {
        let rec = strict[&(h.source_line as usize)].as_ref().unwrap();
        let nombre = trimmed(&rec[NOMBRE]);
        prop_assert_eq!(h.nombre.as_deref(), nombre.as_deref());
    }

    // Physical lines: accepted, rejected or blank, each once.
    let rejected: BTreeSet<usize> = parsed.rejects.iter().map(|r| r.line as usize).collect();
    prop_assert_eq!(
        rejected.len(),
        parsed.rejects.len(),
        "a line rejected twice"
    );
    prop_assert!(rejected.is_disjoint(&accepted_lines));
    let lines: Vec<&str> = {
        let mut v: Vec<&str> = text.split('\n').collect();
        if v.last() == Some(&"") {
            v.pop();
        }
        v
    };
    prop_assert_eq!(f.lines, lines.len() - 1);
    for (i, l) in lines.iter().enumerate().skip(1) {
        let n = i + 1;
        let data = l.chars().any(|c| c.is_ascii_alphanumeric());
        if data {
            prop_assert!(
                accepted_lines.contains(&n) || rejected.contains(&n),
                "line {} ({:?}) neither accepted nor rejected\n{:?}",
                n,
                l,
                text
            );
        }
    }
    prop_assert!(
        accepted_lines
            .iter()
            .chain(&rejected)
            .all(|n| *n >= 2 && *n <= lines.len())
    );
    prop_assert_eq!(
        accepted_lines.len() + rejected.len() + f.blank_lines,
        lines.len() - 1,
        "physical lines = lines of records + rejected lines + blank lines"
    );
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 384, failure_persistence: None, ..ProptestConfig::default() })]

    /// Multi-line fields not allowed (the default): every accepted record is one line.
    #[test]
    fn accepted_csv_records_round_trip(rows in proptest::collection::vec(row_spec(), 1..7)) {
        check(&file_text(&rows), false)?;
    }

    /// Multi-line fields allowed: accepted records may span lines, and still round-trip.
    #[test]
    fn accepted_multiline_csv_records_round_trip(rows in proptest::collection::vec(row_spec(), 1..7)) {
        check(&file_text(&rows), true)?;
    }
}
