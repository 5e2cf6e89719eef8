//! Spanish output has no English left: the fixtures (Data Stage with bad rows, the CSV
//! corpus, the virtual and ledger fixtures, the certification fixture with profiles) go
//! through ingest, audit and report with the default language, and the terminal output,
//! report.md, findings.csv, rejects.csv, kardex.csv and saldos.csv are searched for English
//! words. Stored values (reject reasons, certification measured/threshold texts,
//! citations) stay English in Parquet and are shown through `model::reject` (reject
//! reasons) and `model::phrases` (the others); a phrase missing there shows up here. The same run checks the terminal summaries fit
//! 80 columns.

use std::path::{Path, PathBuf};
use std::process::Command;

const BIN: &str = env!("CARGO_BIN_EXE_pedimento-audit");

/// Lowercase English words that have no business in Spanish text (matched as whole words,
/// case-sensitive, so claves such as `IN` and Spanish words do not match).
const ENGLISH: &[&str] = &[
    "the",
    "of",
    "with",
    "missing",
    "expired",
    "not",
    "is",
    "and",
    "rows",
    "row",
    "fields",
    "header",
    "must",
    "has",
    "employees",
    "listed",
    "window",
    "threshold",
    "measured",
    "unknown",
    "before",
    "days",
    "months",
    "years",
    "since",
    "positive",
    "negative",
    "issued",
    "rejected",
    "accepted",
    "partial",
    "none",
    "fails",
    "needs",
    "each",
    "side",
    "company",
    "per",
    "within",
    "number",
    "empty",
    "pending",
    "rules",
    "met",
    "at",
    "from",
    "for",
];

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// Runs the CLI; every stdout line (the summary tables and sentences) fits 80 columns.
fn run(args: &[&str]) -> String {
    let out = Command::new(BIN).args(args).output().unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    for line in stdout.lines() {
        assert!(
            line.chars().count() <= 80,
            "{args:?}: a line of {} characters:\n{line}\n{stdout}",
            line.chars().count()
        );
    }
    assert!(
        !stdout.contains("cantidad"),
        "no quantity totals across units in the summaries: {stdout}"
    );
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(out.status.success(), "{args:?}: {text}");
    text
}

/// English words in `text`, with the line they are on (the `Reproducir con` command line
/// and file paths are not prose and are skipped).
fn english(text: &str) -> Vec<String> {
    let mut hits = vec![];
    for line in text.lines() {
        if line.contains("pedimento-audit ") || line.contains("Reproducir con") {
            continue;
        }
        // Paths (fixture names) are not prose.
        let prose: String = line
            .split(|c: char| c.is_whitespace() || c == ',' || c == '|')
            .filter(|w| !w.contains('/'))
            .collect::<Vec<_>>()
            .join(" ");
        for w in prose.split(|c: char| !c.is_alphanumeric() && c != '_') {
            if ENGLISH.contains(&w) {
                hits.push(format!("{w:?} in: {line}"));
                break;
            }
        }
    }
    hits
}

/// One CSV column's values (header row skipped).
fn column(path: &Path, name: &str) -> Vec<String> {
    let bytes = std::fs::read(path).unwrap();
    let body = bytes.strip_prefix("\u{feff}".as_bytes()).unwrap_or(&bytes);
    let mut r = csv::Reader::from_reader(body);
    let i = r
        .headers()
        .unwrap()
        .iter()
        .position(|h| h == name)
        .unwrap_or_else(|| panic!("{} has no column {name}", path.display()));
    r.records().map(|x| x.unwrap()[i].to_string()).collect()
}

fn header(path: &Path) -> String {
    let text = std::fs::read_to_string(path).unwrap();
    text.trim_start_matches('\u{feff}')
        .lines()
        .next()
        .unwrap_or_default()
        .to_string()
}

#[test]
fn spanish_output_has_no_english_words() {
    let dir = tempfile::tempdir().unwrap();
    let t = dir.path();
    let fx = root().join("fixtures");
    let p = |x: &Path| x.to_string_lossy().to_string();
    let mut terminal = String::new();
    let mut leaks = vec![];
    let mut estimates = 0;

    // Run 1: bad Data Stage rows, the CSV corpus, virtual and ledger fixtures.
    let mut inputs = vec![
        p(&fx.join("datastage")),
        p(&root().join("tests/corpus/csv")),
        p(&fx.join("ledger/pedimentos.csv")),
    ];
    for v in [
        "VIRTUAL-CLAVE",
        "VIRTUAL-LATE",
        "VIRTUAL-QTY",
        "VIRTUAL-VERSIONS",
    ] {
        inputs.push(p(&fx.join(v).join("input.csv")));
    }
    // Run 2: the certification fixture with its profiles.
    // Run 1's profiles: the ledger fixture's, plus a user inpc.csv with the two INPC
    // months the regularization estimate of its expired lots needs (June 2023 and
    // November 2024).
    let prof = t.join("profiles-a");
    std::fs::create_dir_all(&prof).unwrap();
    for e in std::fs::read_dir(fx.join("ledger/profiles"))
        .unwrap()
        .flatten()
    {
        std::fs::copy(e.path(), prof.join(e.file_name())).unwrap();
    }
    std::fs::write(
        prof.join("inpc.csv"),
        "periodo,inpc,fuente\n2023-06,128.084,user\n2024-11,137.424,user\n",
    )
    .unwrap();
    let runs: Vec<(Vec<String>, PathBuf, &str)> = vec![
        (inputs, prof, "a"),
        (
            vec![p(&fx.join("CERT-RATIO/pedimentos.csv"))],
            fx.join("CERT-RATIO/profiles"),
            "b",
        ),
    ];
    for (inputs, profiles, name) in &runs {
        let ds = p(&t.join(format!("ds-{name}")));
        let au = p(&t.join(format!("au-{name}")));
        let rep = t.join(format!("rep-{name}"));
        let mut a: Vec<&str> = vec!["ingest", "--dataset", &ds];
        a.extend(inputs.iter().map(String::as_str));
        terminal += &run(&a);
        terminal += &run(&[
            "audit",
            "--dataset",
            &ds,
            "--out",
            &au,
            "--profiles",
            &p(profiles),
        ]);
        terminal += &run(&[
            "report",
            "--dataset",
            &ds,
            "--audit",
            &au,
            "--out",
            &p(&rep),
            "--profiles",
            &p(profiles),
        ]);
        let reports: Vec<PathBuf> = walk(&rep)
            .into_iter()
            .filter(|f| f.ends_with("report.md"))
            .map(|f| f.parent().unwrap().to_path_buf())
            .collect();
        assert!(!reports.is_empty(), "run {name} wrote reports");
        for r in reports {
            let md = std::fs::read_to_string(r.join("report.md")).unwrap();
            leaks.extend(english(&md).into_iter().map(|h| format!("report.md: {h}")));
            for (file, cols) in [
                ("findings.csv", &["descripcion", "fundamento_legal"][..]),
                ("rejects.csv", &["motivo"][..]),
                ("kardex.csv", &["concepto"][..]),
            ] {
                let f = r.join(file);
                leaks.extend(
                    english(&header(&f))
                        .into_iter()
                        .map(|h| format!("{file} header: {h}")),
                );
                for c in cols {
                    for v in column(&f, c) {
                        leaks.extend(english(&v).into_iter().map(|h| format!("{file} {c}: {h}")));
                    }
                }
            }
            let reg = r.join("regularizacion.csv");
            leaks.extend(
                english(&header(&reg))
                    .into_iter()
                    .map(|h| format!("regularizacion.csv header: {h}")),
            );
            for v in column(&reg, "nota") {
                leaks.extend(
                    english(&v)
                        .into_iter()
                        .map(|h| format!("regularizacion.csv: {h}")),
                );
            }
            estimates += column(&reg, "total_estimado")
                .iter()
                .filter(|v| !v.is_empty())
                .count();
            for f in ["saldos.csv", "rejects.csv", "kardex.csv"] {
                let h = header(&r.join(f));
                for en in ["reason", "source_file", "kind", "pool", "unit", "open_qty"] {
                    assert!(!h.split(',').any(|x| x == en), "{f} header in English: {h}");
                }
            }
        }
    }
    assert!(terminal.contains("rechazados"), "{terminal}");
    // The user's INPC months give estimates for the lots that need exactly those.
    assert!(
        estimates > 0,
        "no regularization estimate with the user's inpc.csv"
    );
    leaks.extend(
        english(&terminal)
            .into_iter()
            .map(|h| format!("terminal: {h}")),
    );
    assert!(
        leaks.is_empty(),
        "English in Spanish output:\n{}",
        leaks.join("\n")
    );
}

fn walk(d: &Path) -> Vec<PathBuf> {
    let mut out = vec![];
    for e in std::fs::read_dir(d).unwrap().flatten() {
        let p = e.path();
        if p.is_dir() {
            out.extend(walk(&p));
        } else {
            out.push(p);
        }
    }
    out
}
