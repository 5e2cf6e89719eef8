//! Report defects of issue #20: the certification table (one row per requirement, a
//! verdict per modality), certification findings filed under the end of their window,
//! amounts at risk that are neither netted nor added across kinds, plazo buckets that keep
//! activo fijo apart from expired insumos, saldos export, and citations that name the legal
//! instrument instead of research notes.
//!
//! Golden file: `tests/golden/report/cert_section.md` (the certification section of
//! report.md for one fixture company). Regenerate after an intended change with
//! `UPDATE_GOLDEN=1 cargo test --test report_defects` and review the diff.

mod common;

use chrono::NaiveDate;
use pedaudit::checks::{self, AuditOptions};
use pedaudit::report::load::{Balance, Finding, Inputs};
use pedaudit::report::model::{self, BuildOptions, Index, Meta, Period};
use pedaudit::report::{self, ReportArgs};
use rust_decimal::Decimal;
use std::path::{Path, PathBuf};
use std::str::FromStr;

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn d(s: &str) -> NaiveDate {
    NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap()
}

fn dec(s: &str) -> Decimal {
    Decimal::from_str(s).unwrap()
}

/// Ingests `inputs` and runs the audit (every check) as of `as_of` into `<dir>/audit`.
fn audit_folder(dir: &Path, inputs: &[PathBuf], profiles: Option<PathBuf>, as_of: &str) {
    let ds = dir.join("ds");
    pedaudit::ingest::run(inputs, &ds, &Default::default()).unwrap();
    let cfg = pedaudit::audit::AuditConfig {
        dataset: ds,
        out: dir.join("audit"),
        options: AuditOptions {
            as_of: Some(d(as_of)),
            profiles,
            ..Default::default()
        },
        checks: checks::REGISTRY.iter().collect(),
        batching: checks::Batching::Whole,
        tool: "tests/report_defects.rs".into(),
    };
    pedaudit::audit::run(&cfg).unwrap();
}

/// English reports: these tests assert the English labels (Spanish: tests/report.rs).
fn args(dir: &Path) -> ReportArgs {
    let mut a = ReportArgs::new(&dir.join("ds"), &dir.join("audit"), &dir.join("reports"));
    a.lang = pedaudit::model::lang::Lang::En;
    a
}

/// The lines of the Markdown table that follows `heading`.
fn md_table<'a>(md: &'a str, heading: &str) -> Vec<&'a str> {
    let start = md
        .find(heading)
        .unwrap_or_else(|| panic!("no '{heading}' in:\n{md}"));
    md[start + heading.len()..]
        .lines()
        .skip_while(|l| !l.starts_with('|'))
        .take_while(|l| l.starts_with('|'))
        .collect()
}

// ------------------------------------------------------------------ defect 1

#[test]
fn certification_table_has_one_row_per_requirement() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    audit_folder(
        dir,
        &[root().join("fixtures/CERT-RATIO/pedimentos.csv")],
        Some(root().join("fixtures/CERT-RATIO/profiles")),
        "2023-12-31",
    );
    let rfc = "CCC010101CC3";
    let mut a = args(dir);
    a.company = Some(rfc.into());
    let r = report::build_all(&a).unwrap().remove(0);

    // What the audit wrote for this company: one row per requirement.
    let stored = report::load::read_assessment(&dir.join("audit/cert_assessment.parquet"))
        .unwrap()
        .unwrap();
    let mine: Vec<_> = stored.iter().filter(|x| x.rfc == rfc).collect();
    assert!(mine.len() > 3, "several requirements per company");
    let rows = r.assessment.as_ref().unwrap();
    assert_eq!(rows.len(), mine.len());
    let codes: std::collections::BTreeSet<(&str, &str)> = rows
        .iter()
        .map(|x| (x.modality.as_str(), x.code.as_str()))
        .collect();
    assert_eq!(codes.len(), rows.len(), "each requirement once");

    let md = report::markdown::render(&r);
    let req = md_table(&md, "### Certification requirements");
    assert_eq!(
        req.len(),
        2 + mine.len(),
        "header + rule + one row per requirement"
    );
    assert!(req[0].contains("| Status |") && req[0].contains("| Missing evidence |"));
    for x in &mine {
        assert!(
            req.iter()
                .any(|l| l.contains(&format!("| {} | {} |", x.modality, x.code))),
            "row for {} {}",
            x.modality,
            x.code
        );
    }
    // CCC: 75 % against its own 80 % threshold: S-b fails with the window and measure.
    let sb = req.iter().find(|l| l.contains("| S-b |")).unwrap();
    assert!(
        sb.contains("| fail |") && sb.contains("2023-01-01..2023-12-31"),
        "{sb}"
    );

    // A verdict per modality, not one row per requirement.
    let v = md_table(&md, "### Certification (IVA/IEPS): verdict per modality");
    assert_eq!(v.len(), 2 + 3, "{v:?}");
    assert!(v[2].starts_with("| A | not met |"), "{v:?}");
    let modalities: Vec<&str> = r.modalities.iter().map(|m| m.modality.as_str()).collect();
    assert_eq!(modalities, ["A", "AA", "AAA"]);
    assert_eq!(r.cert_verdict.as_deref(), Some("none"));

    let html = report::html::render(&r);
    assert!(html.contains("<h3>Certification requirements</h3>"));
    assert!(html.contains("verdict-fail\">not met"));

    let start = md.find("### Certification (IVA/IEPS)").unwrap();
    let end = md.find("### Totals by check").unwrap();
    common::golden("report/cert_section.md", &md[start..end]);
}

// ------------------------------------------------------------------ defect 2

#[test]
fn cert_ratio_window_ending_in_period_is_listed() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    // The fixture (all 2023) plus one small 2024 import of BBB, so the dataset has 2024.
    // As of 2024-01-31 the window is 2023-02-01..2024-01-31: BBB 59,990 / 101,000 fails.
    let extra = dir.join("extra.csv");
    let fixture =
        std::fs::read_to_string(root().join("fixtures/CERT-RATIO/pedimentos.csv")).unwrap();
    let header = fixture.lines().next().unwrap();
    std::fs::write(
        &extra,
        format!(
            "{header}\n2024-240-3000-4000001,1,IN,BBB010101BB2,2024-01-10,1,39011001,1,10,1000.00,1000.00,50.00,1234567,2024-01-10\n"
        ),
    )
    .unwrap();
    audit_folder(
        dir,
        &[root().join("fixtures/CERT-RATIO/pedimentos.csv"), extra],
        Some(root().join("fixtures/CERT-RATIO/profiles")),
        "2024-01-31",
    );
    let all = report::load::read_findings(&dir.join("audit/findings.parquet")).unwrap();
    let stored = all
        .iter()
        .find(|f| f.check_code == "CERT-RATIO" && f.rfc == "BBB010101BB2")
        .expect("the audit reports BBB's ratio");
    // The finding is dated at the start of its window, before the report's period.
    assert_eq!(stored.period_start, Some(d("2023-02-01")));
    assert_eq!(stored.window_end(), Some(d("2024-01-31")));

    let mut a = args(dir);
    a.company = Some("BBB010101BB2".into());
    a.year = Some(2024);
    let r = report::build_all(&a).unwrap().remove(0);
    let listed: Vec<_> = r
        .findings
        .iter()
        .filter(|x| x.f.check_code == "CERT-RATIO")
        .collect();
    assert_eq!(listed.len(), 1, "the 2024 report lists the failed ratio");
    assert_eq!(
        listed[0].date,
        d("2024-01-31"),
        "filed under the window end"
    );
    let shortfall = stored.amount.unwrap();
    assert!(shortfall > Decimal::ZERO);
    assert_eq!(r.risk.cert_shortfall, shortfall);
    // The ratio point the chart shows for the same month agrees with the finding.
    let p = r
        .ratio
        .as_ref()
        .unwrap()
        .iter()
        .find(|p| p.month == "2024-01")
        .unwrap();
    assert_eq!(p.shortfall, Some(shortfall));
    let md = report::markdown::render(&r);
    assert!(md.contains(&format!(
        "| Certification shortfall (CERT-RATIO) | {} MXN |",
        report::format::mxn(shortfall)
    )));
    assert!(md.contains("### CERT-RATIO:"));

    // The previous year still lists it only if its window ends there: it does not.
    a.year = Some(2023);
    let r23 = report::build_all(&a).unwrap().remove(0);
    assert!(r23.findings.iter().all(|x| x.f.check_code != "CERT-RATIO"));
}

// ------------------------------------------------------------------ defect 5

fn finding(code: &str, amount: &str, contributions: Option<(&str, &str)>) -> Finding {
    Finding {
        check_code: code.into(),
        severity: "high".into(),
        rfc: "AAA010101AA1".into(),
        pedimento_id: None,
        partida: None,
        related_pedimento_id: None,
        fraccion: None,
        period_start: Some(d("2024-03-01")),
        as_of: d("2024-06-30"),
        quantity: None,
        amount: Some(dec(amount)),
        igi: contributions.map(|c| dec(c.0)),
        iva: contributions.map(|c| dec(c.1)),
        ieps: None,
        message: String::new(),
        mensaje: String::new(),
        citation: "Ley Aduanera art. 108 fr. I".into(),
        evidence: String::new(),
    }
}

fn balance(id: &str, tipo: &str, vence: Option<&str>, value: &str) -> Balance {
    Balance {
        rfc: "AAA010101AA1".into(),
        pedimento_id: id.into(),
        partida: 1,
        fecha_operacion: d("2022-01-10"),
        imported: dec("10"),
        open_qty: dec("10"),
        valor_aduana: dec(value),
        fraccion: Some("84571001".into()),
        umt: Some("6".into()),
        clave: Some(if tipo == "activo_fijo" { "AF" } else { "IN" }.into()),
        discharged: Some(Decimal::ZERO),
        tipo_bien: Some(tipo.into()),
        vence: vence.map(d),
        estado: None,
    }
}

fn build(inputs: &Inputs) -> model::ReportData {
    let ix = Index::new(inputs);
    model::build(
        &ix,
        BuildOptions {
            rfc: "AAA010101AA1",
            period: Period {
                from: 2024,
                to: 2024,
            },
            as_of: d("2024-06-30"),
            meta: Meta {
                lang: pedaudit::model::lang::Lang::En,
                tool_version: "test".into(),
                command: "test".into(),
                dataset: "ds".into(),
                audit: "audit".into(),
            },
            sample: None,
        },
    )
}

#[test]
fn amounts_at_risk_are_not_netted_nor_mixed() {
    let inputs = Inputs {
        findings: vec![
            finding("TEMP-EXPIRED", "2000.00", Some(("100.00", "336.00"))),
            finding("VIRTUAL-UNPAIRED", "1000.00", None),
            finding("VIRTUAL-MISMATCH", "-500.00", None),
            finding("VIRTUAL-MISMATCH", "200.00", None),
            finding("CERT-RATIO", "300.00", None),
        ],
        dataset_years: vec![2024],
        ..Default::default()
    };
    let r = build(&inputs);
    assert_eq!(r.risk.expired_value, dec("2000.00"));
    assert_eq!(r.risk.unpaired_transfers, dec("1000.00"));
    assert_eq!(r.risk.transfer_differences, dec("700.00"), "|-500| + |200|");
    assert_eq!(r.risk.cert_shortfall, dec("300.00"));
    assert_eq!(r.risk.contributions, dec("436.00"));
    let mm = r
        .by_check
        .iter()
        .find(|c| c.code == "VIRTUAL-MISMATCH")
        .unwrap();
    assert_eq!(mm.totals.amount, dec("700.00"));

    let md = report::markdown::render(&r);
    let totals = md_table(&md, "### Totals by check");
    let total_row = totals.last().unwrap();
    assert!(total_row.starts_with("| Total |"), "{total_row}");
    assert!(
        total_row.contains("not added across checks"),
        "no amount total across unlike checks: {total_row}"
    );
    // Neither the netted sum (2000 + 1000 - 500 + 200 + 300) nor the plain sum of
    // absolute values appears anywhere as a headline.
    for bad in ["$3,000.00", "$4,000.00"] {
        assert!(!md.contains(bad), "{bad} in\n{md}");
    }
    assert!(md.contains(
        "| Value differences between transfer sides, absolute (VIRTUAL-MISMATCH) | $700.00 MXN |"
    ));
    let html = report::html::render(&r);
    assert!(!html.contains("Amount at risk<b>"));
    assert!(html.contains("Certification shortfall (CERT-RATIO)<b>$300.00 MXN</b>"));
}

#[test]
fn plazo_buckets_keep_activo_fijo_apart_from_expired_insumos() {
    let inputs = Inputs {
        balances: vec![
            balance(
                "22 240 3000 0000001",
                "insumo",
                Some("2023-07-10"),
                "1000.00",
            ),
            balance(
                "22 240 3000 0000002",
                "insumo",
                Some("2024-07-20"),
                "400.00",
            ),
            balance(
                "22 240 3000 0000003",
                "activo_fijo",
                Some("2035-12-31"),
                "9000.00",
            ),
            balance("22 240 3000 0000004", "activo_fijo", None, "50.00"),
        ],
        dataset_years: vec![2024],
        ..Default::default()
    };
    let r = build(&inputs);
    let bucket = |label: &str| r.aging.iter().find(|b| b.label == label).unwrap();
    let overdue = bucket("overdue > 90 days");
    assert_eq!((overdue.partidas, overdue.value), (1, dec("1000.00")));
    assert_eq!(
        overdue.af_partidas, 0,
        "no activo fijo among the expired insumos"
    );
    let soon = bucket("due in 0-30 days");
    assert_eq!((soon.partidas, soon.value), (1, dec("400.00")));
    let far = bucket("due in > 90 days");
    assert_eq!(
        (far.partidas, far.af_partidas, far.af_value),
        (1, 1, dec("9000.00"))
    );
    let unknown = bucket("plazo unknown");
    assert_eq!((unknown.partidas, unknown.af_partidas), (1, 1));
    let total: Decimal = r.aging.iter().map(|b| b.value).sum();
    assert_eq!(total, r.open_total);
    // Saldos: every open partida, by plazo end, unknown last.
    let ids: Vec<&str> = r.saldos.iter().map(|b| b.pedimento_id.as_str()).collect();
    assert_eq!(
        ids,
        [
            "22 240 3000 0000001",
            "22 240 3000 0000002",
            "22 240 3000 0000003",
            "22 240 3000 0000004"
        ]
    );
    let md = report::markdown::render(&r);
    let s = md_table(&md, "## Saldos por pedimento/partida");
    assert_eq!(s.len(), 2 + 4);
    assert!(s[2].contains("| 2023-07-10 | -356 |"), "{}", s[2]);
    // Reporte de vencimientos: overdue or due within 90 days only, by plazo end.
    let v = md_table(&md, "Partidas overdue or due within 90 days");
    assert_eq!(v.len(), 2 + 2, "{v:?}");
    assert!(
        v[2].starts_with("| overdue > 90 days | 2023-07-10 | -356 |"),
        "{}",
        v[2]
    );
    assert!(
        v[3].starts_with("| due in 0-30 days | 2024-07-20 | 20 |"),
        "{}",
        v[3]
    );
}

#[test]
fn saldos_csv_lists_every_open_partida() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    audit_folder(
        dir,
        &[root().join("fixtures/ledger/pedimentos.csv")],
        Some(root().join("fixtures/ledger/profiles")),
        "2024-12-31",
    );
    let written = report::run(&args(dir)).unwrap();
    assert!(!written.is_empty());
    let balances = report::load::read_balances(&dir.join("audit/ledger_balances.parquet")).unwrap();
    let mut checked = 0;
    for w in &written {
        let mut rd = csv::Reader::from_path(w.dir.join("saldos.csv")).unwrap();
        assert_eq!(
            rd.headers().unwrap().iter().collect::<Vec<_>>(),
            report::saldos::HEADER
        );
        let rows: Vec<csv::StringRecord> = rd.records().map(|x| x.unwrap()).collect();
        let open: Vec<&Balance> = balances
            .iter()
            .filter(|b| b.rfc == w.rfc && b.open_qty > Decimal::ZERO)
            .collect();
        assert_eq!(rows.len(), open.len(), "{}", w.rfc);
        for row in &rows {
            let b = open
                .iter()
                .find(|b| b.pedimento_id == row[1] && b.partida.to_string() == row[2])
                .unwrap();
            assert_eq!(dec(&row[9]), b.open_qty, "exact open quantity");
            assert_eq!(row[15], b.estado.clone().unwrap_or_default());
            checked += 1;
        }
    }
    assert!(checked > 0, "the ledger fixture has open balances");

    // findings.csv: a UTF-8 BOM, and the key facts of an expired partida from the ledger.
    let mut expired = 0;
    for w in &written {
        let bytes = std::fs::read(w.dir.join("findings.csv")).unwrap();
        assert!(bytes.starts_with("\u{feff}check_code,".as_bytes()));
        let mut rd = csv::Reader::from_reader(&bytes[3..]);
        let h = rd.headers().unwrap().clone();
        let col = |n: &str| h.iter().position(|x| x == n).unwrap();
        for row in rd.records().map(|x| x.unwrap()) {
            if &row[0] != "TEMP-EXPIRED" {
                continue;
            }
            let b = balances
                .iter()
                .find(|b| b.pedimento_id == row[3] && b.partida.to_string() == row[4])
                .unwrap();
            let vence = b.vence.unwrap();
            assert_eq!(row[col("plazo_end")], vence.to_string());
            let overdue: i64 = row[col("days_overdue")].parse().unwrap();
            assert_eq!(overdue, (d("2024-12-31") - vence).num_days());
            assert!(overdue > 0);
            assert_eq!(dec(&row[col("open_qty")]), b.open_qty);
            assert_eq!(dec(&row[col("imported_qty")]), b.imported);
            let umt = b.umt.clone().unwrap();
            assert_eq!(row[col("umt")], umt);
            assert_eq!(
                &row[col("unit")],
                report::format::unit_name(&umt).unwrap(),
                "Apéndice 7 name"
            );
            expired += 1;
        }
    }
    assert!(expired > 0, "the ledger fixture has expired partidas");
    assert_eq!(report::format::unit_name("1"), Some("KILO"));
}

// ------------------------------------------------------------------ defect 3

/// A research note where a legal instrument belongs: `seed 00…`, `not in the seeds`,
/// `verify the rule in force`, or a bare `00N Lnnn` line reference.
fn research_note(s: &str) -> Option<String> {
    let lower = s.to_lowercase();
    for bad in [
        "seed 00",
        "not in the seeds",
        "not in seed",
        "verify the rule",
    ] {
        if lower.contains(bad) {
            return Some(bad.into());
        }
    }
    let b = s.as_bytes();
    for i in 0..b.len().saturating_sub(5) {
        let boundary = i == 0 || !b[i - 1].is_ascii_alphanumeric();
        if boundary
            && b[i] == b'0'
            && b[i + 1] == b'0'
            && b[i + 2].is_ascii_digit()
            && b[i + 3] == b' '
            && b[i + 4] == b'L'
            && b[i + 5].is_ascii_digit()
        {
            return Some(s[i..(i + 10).min(s.len())].to_string());
        }
    }
    None
}

#[test]
fn research_note_detector() {
    assert!(research_note("Ley Aduanera art. 108 (seed 004 L4089)").is_some());
    assert!(research_note("18 meses; not in the seeds").is_some());
    assert!(research_note("RCGMCE 2013 regla 5.2.13 (002 L547)").is_some());
    assert!(research_note("numbering of 2007, verify the rule in force").is_some());
    assert!(research_note("Ley Aduanera art. 108 fr. I").is_none());
    assert!(research_note("RCGMCE 2013 regla 5.2.13, apartado A, fr. VI").is_none());
    assert!(research_note("pedimento 2023-240-3000-3000001 L1").is_none());
}

/// Sources whose citations other branches clean (issue #20): the lead's
/// `src/checks/cert.rs` (CERT-* finding and assessment citations) and the ledger work
/// (`plazos.csv`, `discharge_claves.csv`, TEMP-* / DESCARGO-* SQL). Empty this list when
/// those branches are merged; the test then covers every finding and catalogue.
const CLEANED_ELSEWHERE: &[&str] = &[];

#[test]
fn registry_citations_and_docs_name_the_instrument() {
    for c in checks::REGISTRY {
        if let Some(bad) = research_note(c.citation) {
            panic!("{} citation has '{bad}': {}", c.code, c.citation);
        }
        if let Some(bad) = research_note(c.doc) {
            panic!("{} doc has '{bad}'", c.code);
        }
    }
}

#[test]
fn catalogue_citations_name_the_instrument() {
    let dir = root().join("src/catalogs");
    let mut seen = 0;
    for e in std::fs::read_dir(&dir).unwrap() {
        let p = e.unwrap().path();
        let name = p.file_name().unwrap().to_string_lossy().to_string();
        if CLEANED_ELSEWHERE.contains(&name.as_str()) {
            continue;
        }
        let text = std::fs::read_to_string(&p).unwrap();
        if name.ends_with(".csv") {
            // No research note in any field of a catalogue (the user-visible `cita`
            // included); the hook also forbids the strings in the whole file.
            let mut rd = csv::Reader::from_reader(text.as_bytes());
            let h = rd.headers().unwrap().clone();
            for (i, rec) in rd.records().enumerate() {
                for (col, v) in h.iter().zip(rec.unwrap().iter()) {
                    if let Some(bad) = research_note(v) {
                        panic!("{name} row {} column {col}: '{bad}' in {v}", i + 2);
                    }
                }
            }
            seen += 1;
        } else if let Some(bad) = research_note(&text) {
            panic!("{name}: '{bad}'");
        }
    }
    assert!(seen >= 1);
}

#[test]
fn user_visible_query_texts_name_the_instrument() {
    let q = root().join("queries");
    let mut files = vec![
        q.join("DATA-CONFLICT.sql"),
        q.join("DATA-CONFLICT.md"),
        q.join("cert/CERT-RATIO.md"),
        q.join("cert/CERT-ASSESS.md"),
    ];
    for e in std::fs::read_dir(q.join("virtual")).unwrap() {
        files.push(e.unwrap().path());
    }
    for p in files {
        let text = std::fs::read_to_string(&p).unwrap();
        if let Some(bad) = research_note(&text) {
            panic!("{}: '{bad}'", p.display());
        }
    }
}

#[test]
fn finding_citations_name_the_instrument() {
    let tmp = tempfile::tempdir().unwrap();
    let mut runs: Vec<(PathBuf, Option<PathBuf>, &str)> = vec![
        (
            root().join("fixtures/CERT-RATIO/pedimentos.csv"),
            Some(root().join("fixtures/CERT-RATIO/profiles")),
            "2023-12-31",
        ),
        (
            root().join("fixtures/ledger/pedimentos.csv"),
            Some(root().join("fixtures/ledger/profiles")),
            "2024-12-31",
        ),
    ];
    for v in [
        "VIRTUAL-CLEAN",
        "VIRTUAL-FALLBACK",
        "VIRTUAL-QTY",
        "VIRTUAL-LATE",
        "VIRTUAL-SPLIT",
        "VIRTUAL-UNPAIRED",
        "VIRTUAL-CLAVE",
    ] {
        runs.push((
            root().join("fixtures").join(v).join("input.csv"),
            None,
            "2024-12-31",
        ));
    }
    let mut codes = std::collections::BTreeSet::new();
    for (k, (input, profiles, as_of)) in runs.into_iter().enumerate() {
        let dir = tmp.path().join(k.to_string());
        audit_folder(&dir, &[input], profiles, as_of);
        for f in report::load::read_findings(&dir.join("audit/findings.parquet")).unwrap() {
            codes.insert(f.check_code.clone());
            if CLEANED_ELSEWHERE.contains(&f.check_code.as_str()) {
                continue;
            }
            if let Some(bad) = research_note(&f.citation) {
                panic!("{} cite has '{bad}': {}", f.check_code, f.citation);
            }
            if let Some(bad) = research_note(&f.message) {
                panic!("{} message has '{bad}': {}", f.check_code, f.message);
            }
        }
    }
    for c in [
        "VIRTUAL-UNPAIRED",
        "VIRTUAL-MISMATCH",
        "VIRTUAL-LATE",
        "VIRTUAL-CLAVE",
    ] {
        assert!(codes.contains(c), "fixtures exercise {c}: {codes:?}");
    }
}

// ------------------------------------------------------------------ Excel

/// Reads `report.xlsx` back with openpyxl (another reader than the writer) and returns,
/// per sheet, the header and every row as `[python type name, value as text]` pairs.
fn read_xlsx_with_openpyxl(path: &Path) -> Option<serde_json::Value> {
    let probe = std::process::Command::new("python3")
        .args(["-c", "import openpyxl"])
        .output();
    if !probe.is_ok_and(|o| o.status.success()) {
        eprintln!("SKIPPED: python3 with openpyxl not available; report.xlsx types not checked");
        return None;
    }
    let script = r#"
import json, sys, openpyxl
wb = openpyxl.load_workbook(sys.argv[1])
out = {}
for ws in wb.worksheets:
    rows = [[[type(c.value).__name__, "" if c.value is None else str(c.value), c.number_format] for c in r] for r in ws.iter_rows()]
    out[ws.title] = rows
print(json.dumps(out))
"#;
    let o = std::process::Command::new("python3")
        .args(["-c", script])
        .arg(path)
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    Some(serde_json::from_slice(&o.stdout).unwrap())
}

#[test]
fn xlsx_has_typed_sheets_readable_by_another_reader() {
    let mut f = finding("TEMP-EXPIRED", "1234.56", Some(("100.00", "213.53")));
    f.fraccion = Some("01022901".into());
    f.pedimento_id = Some("22 240 3000 0000001".into());
    f.partida = Some(1);
    f.quantity = Some(dec("12.5"));
    let mut b = balance(
        "22 240 3000 0000001",
        "insumo",
        Some("2024-08-15"),
        "1000.00",
    );
    b.fraccion = Some("01022901".into());
    b.open_qty = dec("4");
    let inputs = Inputs {
        findings: vec![f],
        balances: vec![b],
        ratio: Some(vec![pedaudit::report::load::RatioPoint {
            rfc: "AAA010101AA1".into(),
            month: "2024-05".into(),
            ratio_pct: Some(dec("75")),
            numerator: Some(dec("75000.00")),
            denominator: Some(dec("100000.00")),
            threshold_pct: Some(dec("80")),
            status: Some("fail".into()),
            shortfall: Some(dec("5000.00")),
            full_window: Some(true),
        }]),
        dataset_years: vec![2024],
        ..Default::default()
    };
    let r = build(&inputs);
    let tmp = tempfile::tempdir().unwrap();
    let path = tmp.path().join("report.xlsx");
    report::xlsx::write(&r, &report::regularization::Rates::vendored(), &path).unwrap();
    assert!(std::fs::metadata(&path).unwrap().len() > 0);
    let Some(book) = read_xlsx_with_openpyxl(&path) else {
        return;
    };
    let names: Vec<&String> = book.as_object().unwrap().keys().collect();
    for s in [
        "Findings",
        "Saldos",
        "Vencimientos",
        "Certification",
        "Ratio series",
    ] {
        assert!(names.iter().any(|n| *n == s), "sheet {s} in {names:?}");
    }
    // The cell under a header, as (type, text, number format).
    let cell = |sheet: &str, header: &str, row: usize| -> (String, String, String) {
        let rows = book[sheet].as_array().unwrap();
        let h = rows[0].as_array().unwrap();
        let c = h
            .iter()
            .position(|x| x[1] == header)
            .unwrap_or_else(|| panic!("{sheet} has no column {header}"));
        let v = &rows[row][c];
        (
            v[0].as_str().unwrap().into(),
            v[1].as_str().unwrap().into(),
            v[2].as_str().unwrap().into(),
        )
    };
    // Fracción stays text with its leading zero; money and quantities are numbers; dates
    // are dates.
    assert_eq!(cell("Findings", "fraccion", 1).0, "str");
    assert_eq!(cell("Findings", "fraccion", 1).1, "01022901");
    assert_eq!(cell("Findings", "pedimento_id", 1).0, "str");
    let amount = cell("Findings", "amount", 1);
    assert_eq!((amount.0.as_str(), amount.1.as_str()), ("float", "1234.56"));
    assert_eq!(amount.2, "#,##0.00");
    assert_eq!(cell("Findings", "quantity", 1).1, "12.5");
    assert_eq!(cell("Findings", "partida", 1).0, "int");
    let filed = cell("Findings", "filed_date", 1);
    assert_eq!(filed.0, "datetime");
    assert!(filed.1.starts_with("2024-03-01"), "{filed:?}");
    assert_eq!(cell("Saldos", "fraccion", 1).1, "01022901");
    assert_eq!(cell("Saldos", "vence", 1).0, "datetime");
    assert!(cell("Saldos", "vence", 1).1.starts_with("2024-08-15"));
    // openpyxl gives whole numbers back as int: compare the number, not its spelling.
    let num = |c: (String, String, String)| -> f64 {
        assert!(c.0 == "int" || c.0 == "float", "a number, not {c:?}");
        c.1.parse().unwrap()
    };
    assert_eq!(num(cell("Saldos", "open_qty", 1)), 4.0);
    assert_eq!(num(cell("Saldos", "open_value", 1)), 400.0);
    assert_eq!(cell("Saldos", "days_to_vence", 1).0, "int");
    let ratio = cell("Ratio series", "ratio", 1);
    assert_eq!((ratio.0.as_str(), ratio.1.as_str()), ("float", "0.75"));
    assert_eq!(ratio.2, "0.00%");
    assert_eq!(num(cell("Ratio series", "shortfall", 1)), 5000.0);
    assert_eq!(num(cell("Vencimientos", "open_value", 5)), 400.0);
    // Key facts of the finding's partida from the ledger.
    let plazo = cell("Findings", "plazo_end", 1);
    assert_eq!(plazo.0, "datetime");
    assert!(plazo.1.starts_with("2024-08-15"), "{plazo:?}");
    assert_eq!(num(cell("Findings", "open_qty", 1)), 4.0);
    assert_eq!(cell("Findings", "umt", 1).1, "6");
    assert_eq!(
        cell("Findings", "unit", 1).1,
        report::format::unit_name("6").unwrap()
    );
}
