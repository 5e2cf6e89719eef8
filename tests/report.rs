//! End-to-end report tests: a small deterministic generated history with injected
//! violations → Data Stage files → ingest → audit (pedaudit::checks) → report.
//!
//! Golden files: `tests/golden/report/` (Markdown and JSON of one company). After an
//! intended change, regenerate them with
//! `UPDATE_GOLDEN=1 cargo test --test report` and review the diff.

mod common;

use pedaudit::generate::{self, Config, Violation};
use pedaudit::report::{self, ReportArgs};
use pedaudit::{checks, ingest};
use polars::prelude::*;
use std::path::{Path, PathBuf};
use std::sync::OnceLock;

struct Fixture {
    _dir: tempfile::TempDir,
    root: PathBuf,
    injected: Vec<generate::Injected>,
}

fn write_pq(df: &mut DataFrame, p: &Path) {
    let f = std::fs::File::create(p).unwrap();
    ParquetWriter::new(f).finish(df).unwrap();
}

fn run_audit(ds: &Path, profiles: &Path, out: &Path) {
    // Only the temp and data groups: checks added later (other groups) must not change
    // the golden files.
    let cfg = pedaudit::audit::AuditConfig {
        dataset: ds.to_path_buf(),
        out: out.to_path_buf(),
        options: checks::AuditOptions {
            profiles: Some(profiles.to_path_buf()),
            ..Default::default()
        },
        checks: checks::select(&["temp".into(), "data".into()]).unwrap(),
        batching: checks::Batching::Whole,
        tool: "tests/report.rs".into(),
    };
    pedaudit::audit::run(&cfg).unwrap();
}

/// Generated once for all tests in this file.
fn fixture() -> &'static Fixture {
    static F: OnceLock<Fixture> = OnceLock::new();
    F.get_or_init(|| {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path().to_path_buf();
        let h = generate::generate(&Config {
            seed: 11,
            companies: 2,
            start_year: 2022,
            years: 2,
            partidas: 700,
            inject: vec![Violation::Expired, Violation::Excess, Violation::Unit],
            bom_share: 0.0,
        });
        generate::writers::write_datastage(&h, &root.join("datastage")).unwrap();
        generate::writers::write_profiles(&h, &root.join("profiles")).unwrap();
        ingest::run(
            &[root.join("datastage")],
            &root.join("ds"),
            &ingest::IngestOptions::default(),
        )
        .unwrap();
        run_audit(
            &root.join("ds"),
            &root.join("profiles"),
            &root.join("audit"),
        );
        Fixture {
            injected: h.injected.clone(),
            _dir: dir,
            root,
        }
    })
}

fn args(f: &Fixture, out: &str) -> ReportArgs {
    ReportArgs::new(&f.root.join("ds"), &f.root.join("audit"), &f.root.join(out))
}

fn normalize(s: &str, root: &Path) -> String {
    s.replace(&root.display().to_string(), "<TMP>")
        .replace(
            &format!("pedimento-audit {}", env!("CARGO_PKG_VERSION")),
            "pedimento-audit <VERSION>",
        )
        .replace(
            &format!("\"tool_version\": \"{}\"", env!("CARGO_PKG_VERSION")),
            "\"tool_version\": \"<VERSION>\"",
        )
}

#[test]
fn golden_markdown_and_json() {
    let f = fixture();
    let mut a = args(f, "reports-golden");
    a.sample = Some(6);
    a.seed = 3;
    let written = report::run(&a).unwrap();
    assert_eq!(written.len(), 2, "one report per generated company");
    let first = &written[0];
    assert_eq!(
        first.dir,
        f.root
            .join("reports-golden")
            .join(&first.rfc)
            .join("2022-2023")
    );
    for file in [
        "report.html",
        "report.md",
        "findings.csv",
        "findings.json",
        "findings.parquet",
        "sample.csv",
        "saldos.csv",
        "report.xlsx",
    ] {
        assert!(first.dir.join(file).exists(), "{file} written");
    }
    let md = std::fs::read_to_string(first.dir.join("report.md")).unwrap();
    let json = std::fs::read_to_string(first.dir.join("findings.json")).unwrap();
    common::golden("report/report.md", &normalize(&md, &f.root));
    common::golden("report/findings.json", &normalize(&json, &f.root));
}

/// Spanish is the default: headings, headers, dates, severities, finding texts and the
/// CSV headers are Spanish; `--lang en` gives the same report in English (both golden).
#[test]
fn spanish_by_default_english_on_request() {
    use pedaudit::model::lang::Lang;
    let f = fixture();
    let a = args(f, "reports-es");
    assert_eq!(a.lang, Lang::Es);
    let written = report::run(&a).unwrap();
    let dir = &written[0].dir;
    let md = std::fs::read_to_string(dir.join("report.md")).unwrap();
    for es in [
        "# Reporte de cumplimiento aduanero:",
        "## Resumen",
        "| Fecha de corte |",
        "## Hallazgos",
        "Fundamento legal:",
        "## Saldos por pedimento/partida (a la fecha de corte)",
        "| Revisión | Título | Severidad | Hallazgos | Monto MXN |",
        "--lang es`",
        " MXN |",
    ] {
        assert!(md.contains(es), "{es} missing in\n{md}");
    }
    for en in [
        "## Summary",
        "## Findings",
        "Legal basis",
        "Temporary import ",
        "| Message |",
    ] {
        assert!(!md.contains(en), "English '{en}' in the Spanish report");
    }
    // Severities translated in display, dates DD/MM/YYYY in text.
    assert!(md.contains("(alta, ") || md.contains("(media, "), "{md}");
    assert!(
        regex_like_ddmmyyyy(&md),
        "no DD/MM/YYYY date in the Spanish report"
    );
    let html = std::fs::read_to_string(dir.join("report.html")).unwrap();
    assert!(html.contains("<html lang=\"es\">") && html.contains("<h2>Resumen</h2>"));
    // Data files: Spanish headers, machine-readable values unchanged.
    let csv = std::fs::read_to_string(dir.join("findings.csv")).unwrap();
    let mut lines = csv.lines();
    let header = lines.next().unwrap();
    assert!(
        header.starts_with("\u{feff}clave_revision,severidad,rfc,pedimento,"),
        "{header}"
    );
    assert!(
        header.contains(",descripcion,fundamento_legal,"),
        "{header}"
    );
    let first = lines.next().unwrap();
    assert!(
        pedaudit::checks::REGISTRY
            .iter()
            .any(|c| first.starts_with(&format!("{},", c.code))),
        "check_code value unchanged: {first}"
    );
    assert!(
        first.contains(",high,")
            || first.contains(",medium,")
            || first.contains(",low,")
            || first.contains(",info,")
            || first.contains(",critical,"),
        "severity code unchanged: {first}"
    );
    let saldos = std::fs::read_to_string(dir.join("saldos.csv")).unwrap();
    assert!(
        saldos.starts_with(
            "rfc,pedimento,partida,clave,fraccion,tipo_bien,fecha_operacion,importado,"
        ),
        "{saldos}"
    );

    let mut en = args(f, "reports-en");
    en.lang = Lang::En;
    let written = report::run(&en).unwrap();
    let dir = &written[0].dir;
    let md_en = std::fs::read_to_string(dir.join("report.md")).unwrap();
    for s in [
        "# Customs compliance report:",
        "## Summary",
        "## Findings",
        "--lang en`",
    ] {
        assert!(md_en.contains(s), "{s} missing in\n{md_en}");
    }
    assert!(!md_en.contains("## Resumen") && !md_en.contains("Importación temporal"));
    let csv = std::fs::read_to_string(dir.join("findings.csv")).unwrap();
    assert!(csv.starts_with("\u{feff}check_code,severity,rfc,pedimento_id,"));
    let saldos = std::fs::read_to_string(dir.join("saldos.csv")).unwrap();
    assert!(saldos.starts_with("rfc,pedimento_id,partida,"));
    common::golden("report/report.en.md", &normalize(&md_en, &f.root));
}

/// True when `s` holds a date written DD/MM/YYYY.
fn regex_like_ddmmyyyy(s: &str) -> bool {
    let b = s.as_bytes();
    b.windows(10).any(|w| {
        w.iter().enumerate().all(|(i, c)| match i {
            2 | 5 => *c == b'/',
            _ => c.is_ascii_digit(),
        })
    })
}

#[test]
fn every_injected_violation_is_reported_with_exact_decimals() {
    let f = fixture();
    let reports = report::build_all(&args(f, "unused")).unwrap();
    let total: usize = reports.iter().map(|r| r.findings.len()).sum();
    let audit = report::load::read_findings(&f.root.join("audit/findings.parquet")).unwrap();
    assert_eq!(
        total,
        audit.len(),
        "whole-period reports cover every finding"
    );
    assert!(!f.injected.is_empty());
    for inj in &f.injected {
        let r = reports.iter().find(|r| r.rfc == inj.rfc).unwrap();
        let hit = r.findings.iter().find(|x| {
            x.f.check_code == inj.check_code
                && x.f.pedimento_id.as_deref() == Some(inj.pedimento_id.as_str())
                && x.f.partida == Some(inj.partida)
        });
        let hit = hit.unwrap_or_else(|| panic!("injected {inj:?} missing from the report"));
        assert_eq!(hit.f.quantity, Some(inj.quantity));
        // JSON keeps the decimal as a string with its scale.
        let json: serde_json::Value = serde_json::from_str(&report::json::render(r)).unwrap();
        let arr = json["findings"].as_array().unwrap();
        assert_eq!(arr.len(), r.findings.len());
        assert!(
            arr.iter()
                .any(|o| o["pedimento_id"] == inj.pedimento_id.as_str()
                    && o["quantity"].as_str().is_some())
        );
    }
}

#[test]
fn csv_and_parquet_round_trip() {
    let f = fixture();
    let a = args(f, "reports-rt");
    let written = report::run(&a).unwrap();
    for w in &written {
        let back = report::load::read_findings(&w.dir.join("findings.parquet")).unwrap();
        let d = report::build_all(&ReportArgs {
            company: Some(w.rfc.clone()),
            ..a.clone()
        })
        .unwrap();
        let orig: Vec<_> = d[0].findings.iter().map(|x| x.f.clone()).collect();
        assert_eq!(back, orig, "findings.parquet round-trips exactly");
        let mut r = csv::Reader::from_path(w.dir.join("findings.csv")).unwrap();
        assert_eq!(r.headers().unwrap().len(), 24);
        assert_eq!(
            &r.headers().unwrap()[0],
            "clave_revision",
            "BOM not part of the header (Spanish headers by default)"
        );
        let rows: Vec<csv::StringRecord> = r.records().map(|x| x.unwrap()).collect();
        assert_eq!(rows.len(), orig.len());
        for (row, f) in rows.iter().zip(&orig) {
            assert_eq!(
                &row[10],
                f.amount.map(|x| x.to_string()).unwrap_or_default()
            );
        }
    }
}

#[test]
fn html_is_self_contained_and_escaped() {
    let f = fixture();
    // A findings file whose text would break HTML if it were not escaped.
    let audit2 = f.root.join("audit-evil");
    std::fs::create_dir_all(&audit2).unwrap();
    for v in ["ledger_allocations", "ledger_balances"] {
        std::fs::copy(
            f.root.join(format!("audit/{v}.parquet")),
            audit2.join(format!("{v}.parquet")),
        )
        .unwrap();
    }
    let mut df =
        ParquetReader::new(std::fs::File::open(f.root.join("audit/findings.parquet")).unwrap())
            .finish()
            .unwrap();
    let n = df.height();
    let evil: Vec<&str> = vec!["<script>alert('x')</script> & \"q\""; n];
    df.with_column(Column::new("message".into(), evil.clone()))
        .unwrap();
    df.with_column(Column::new("mensaje".into(), evil)).unwrap();
    write_pq(&mut df, &audit2.join("findings.parquet"));
    let mut a = args(f, "reports-evil");
    a.audit = audit2;
    let written = report::run(&a).unwrap();
    let html = std::fs::read_to_string(written[0].dir.join("report.html")).unwrap();
    assert!(
        !html.contains("<script"),
        "no script, and finding text is escaped"
    );
    assert!(html.contains("&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt; &amp; &quot;q&quot;"));
    // No network: the only URL is the SVG namespace.
    let urls = html.matches("http").count();
    assert_eq!(urls, html.matches("http://www.w3.org/2000/svg").count());
    assert!(html.contains("<svg") && html.contains("<style>"));
    let md = std::fs::read_to_string(written[0].dir.join("report.md")).unwrap();
    assert!(!md.contains("<script>"));
}

#[test]
fn sample_is_reproducible_and_starts_with_findings() {
    let f = fixture();
    let mut a = args(f, "unused");
    a.sample = Some(8);
    a.seed = 99;
    let r1 = report::build_all(&a).unwrap();
    let r2 = report::build_all(&a).unwrap();
    a.seed = 100;
    let r3 = report::build_all(&a).unwrap();
    let s1 = r1[0].sample.as_ref().unwrap();
    assert_eq!(s1, r2[0].sample.as_ref().unwrap(), "same seed, same sample");
    assert_ne!(
        s1.picks.iter().map(|p| &p.pedimento_id).collect::<Vec<_>>(),
        r3[0]
            .sample
            .as_ref()
            .unwrap()
            .picks
            .iter()
            .map(|p| &p.pedimento_id)
            .collect::<Vec<_>>(),
        "another seed draws other controls"
    );
    assert_eq!(s1.picks.len(), 8);
    let flagged: std::collections::BTreeSet<&str> = r1[0]
        .findings
        .iter()
        .filter_map(|x| x.f.pedimento_id.as_deref())
        .collect();
    // Findings strata come first, worst severity first, and there is at least one control.
    let k = flagged.len().min(6);
    for p in &s1.picks[..k] {
        assert!(flagged.contains(p.pedimento_id.as_str()), "{p:?}");
    }
    assert!(s1.picks.iter().any(|p| p.findings == 0));
    let ids: std::collections::BTreeSet<&str> =
        s1.picks.iter().map(|p| p.pedimento_id.as_str()).collect();
    assert_eq!(ids.len(), s1.picks.len(), "no pedimento drawn twice");
}

#[test]
fn multi_year_trend_and_balances_agree() {
    let f = fixture();
    let mut a = args(f, "unused");
    a.from = Some(2022);
    a.to = Some(2023);
    let reports = report::build_all(&a).unwrap();
    for r in &reports {
        assert_eq!(
            r.trend.iter().map(|y| y.year).collect::<Vec<_>>(),
            vec![2022, 2023]
        );
        let by_year: usize = r.trend.iter().map(|y| y.totals.findings).sum();
        assert_eq!(by_year, r.findings.len());
        // The last year's balance is measured at the as-of date: it must equal the
        // ledger_balances total the aging chart shows.
        let last = r.trend.last().unwrap();
        assert_eq!(last.balance_date, r.as_of);
        assert_eq!(last.open_value, Some(r.open_total));
        let aged: rust_decimal::Decimal = r.aging.iter().map(|b| b.value).sum();
        assert_eq!(aged, r.open_total);
    }
    // One year only keeps that year's findings.
    a.from = None;
    a.to = None;
    a.year = Some(2023);
    let one = report::build_all(&a).unwrap();
    for r in &one {
        assert!(
            r.findings
                .iter()
                .all(|x| x.date.format("%Y").to_string() == "2023")
        );
    }
}

#[test]
fn cert_outputs_are_rendered_when_present_and_not_available_otherwise() {
    let f = fixture();
    let mut en = args(f, "unused");
    en.lang = pedaudit::model::lang::Lang::En;
    let d = report::build_all(&en).unwrap();
    let html = report::html::render(&d[0]);
    assert!(html.contains("no cert_ratio_series.parquet"));
    assert!(html.contains("no cert_assessment.parquet"));

    let audit2 = f.root.join("audit-cert");
    std::fs::create_dir_all(&audit2).unwrap();
    for v in ["findings", "ledger_allocations", "ledger_balances"] {
        std::fs::copy(
            f.root.join(format!("audit/{v}.parquet")),
            audit2.join(format!("{v}.parquet")),
        )
        .unwrap();
    }
    let rfc = d[0].rfc.clone();
    let mut ratio = df!(
        "rfc" => [rfc.as_str(), rfc.as_str()],
        "month" => ["2023-01", "2023-02"],
        "ratio" => [0.55f64, 0.85f64],
    )
    .unwrap();
    write_pq(&mut ratio, &audit2.join("cert_ratio_series.parquet"));
    let mut ass = df!(
        "rfc" => [rfc.as_str()],
        "verdict" => ["none"],
        "modality" => ["A"],
        "code" => ["B-I-d"],
        "requirement" => ["Return ratio >= 60%"],
        "status" => ["fail"],
        "measured" => ["55% < 60%"],
        "threshold" => [">= 60.00%"],
        "window" => ["2022-03-01..2023-02-28"],
        "basis" => ["pedimentos"],
    )
    .unwrap();
    write_pq(&mut ass, &audit2.join("cert_assessment.parquet"));
    let mut a = en.clone();
    a.audit = audit2;
    let d = report::build_all(&a).unwrap();
    let r = d.iter().find(|x| x.rfc == rfc).unwrap();
    let html = report::html::render(r);
    assert!(html.contains("60% (IMMEX, modality A)") && html.contains("stroke-dasharray"));
    assert!(html.contains("2023-02: 85.0%"), "fraction read as percent");
    assert!(html.contains("verdict-fail"));
    let md = report::markdown::render(r);
    assert!(md.contains("| 2023-01 |  |  | 55.0% | no | no |"), "{md}");
    assert!(md.contains("| A | not met | 0 | 1 | 0 | 0 | 0 |"), "{md}");
    assert!(md.contains(
        "| A | B-I-d | Return ratio &gt;= 60% | fail | 55% &lt; 60% | &gt;= 60.00% | 2022-03-01..2023-02-28 |"
    ) || md.contains(
        "| A | B-I-d | Return ratio >= 60% | fail | 55% &lt; 60% | >= 60.00% | 2022-03-01..2023-02-28 |"
    ), "{md}");
}

#[test]
fn errors_name_the_fix() {
    let f = fixture();
    let mut a = args(f, "unused");
    a.as_of = Some(chrono::NaiveDate::from_ymd_opt(2020, 1, 1).unwrap());
    let e = report::build_all(&a).unwrap_err().to_string();
    assert!(e.contains("--as-of 2020-01-01"), "{e}");
    let mut a = args(f, "unused");
    a.company = Some("XAXX010101000".into());
    let e = report::build_all(&a).unwrap_err().to_string();
    assert!(
        e.contains("unknown company") && e.contains(&f.injected[0].rfc),
        "{e}"
    );
    let mut a = args(f, "unused");
    a.audit = f.root.join("nope");
    let e = report::build_all(&a).unwrap_err().to_string();
    assert!(e.contains("--run-audit"), "{e}");
}

/// The kardex of a whole-period report ends, per good, at the ledger's open quantity, and
/// every row's saldo is the previous saldo plus entrada minus salida.
#[test]
fn kardex_saldo_chains_and_closes_at_the_ledger_balance() {
    use pedaudit::report::kardex::Kind;
    use rust_decimal::Decimal;
    let f = fixture();
    let reports = report::build_all(&args(f, "unused")).unwrap();
    let balances =
        report::load::read_balances(&f.root.join("audit/ledger_balances.parquet")).unwrap();
    let mut checked = 0;
    for r in &reports {
        assert!(!r.kardex.is_empty(), "{} has a kardex", r.rfc);
        for g in &r.kardex {
            assert_eq!(g.rows[0].kind, Kind::Opening);
            let mut saldo = g.opening;
            for row in &g.rows[1..] {
                saldo += row.entrada - row.salida;
                assert_eq!(
                    row.saldo, saldo,
                    "{} {} running saldo",
                    g.fraccion, row.fecha
                );
                assert!(row.fecha <= r.as_of);
            }
            assert_eq!(g.closing, saldo);
            let open: Decimal = balances
                .iter()
                .filter(|b| {
                    b.rfc == g.rfc
                        && b.fraccion.as_deref() == Some(g.fraccion.as_str())
                        && b.umt.as_deref() == Some(g.umt.as_str())
                        && (b.tipo_bien.as_deref() == Some("activo_fijo"))
                            == (g.pool == "activo_fijo")
                })
                .map(|b| b.open_qty)
                .sum();
            assert_eq!(
                g.closing, open,
                "{} {} closes at the ledger",
                g.fraccion, g.umt
            );
            checked += 1;
        }
    }
    assert!(checked > 5);
    // A one-year report opens at the saldo carried from the year before.
    let mut a = args(f, "unused");
    a.year = Some(2023);
    let y = report::build_all(&a).unwrap();
    assert!(y[0].kardex.iter().any(|g| !g.opening.is_zero()));
    assert!(y[0].kardex.iter().all(|g| {
        g.rows[1..]
            .iter()
            .all(|r| r.fecha >= chrono::NaiveDate::from_ymd_opt(2023, 1, 1).unwrap())
    }));
}

#[test]
fn golden_kardex_csv() {
    let f = fixture();
    let written = report::run(&args(f, "reports-kardex")).unwrap();
    let bytes = std::fs::read(written[0].dir.join("kardex.csv")).unwrap();
    assert!(bytes.starts_with("\u{feff}".as_bytes()), "UTF-8 BOM");
    let text = String::from_utf8(bytes).unwrap();
    // The first 60 rows: enough to show opening, entradas, salidas and the saldo.
    let head: String = text.lines().take(61).map(|l| format!("{l}\n")).collect();
    common::golden("report/kardex_head.csv", &head);
}

fn trace_cli(f: &Fixture, args: &[&str]) -> String {
    let o = std::process::Command::new(env!("CARGO_BIN_EXE_pedimento-audit"))
        .arg("trace")
        .arg("--dataset")
        .arg(f.root.join("ds"))
        .arg("--audit")
        .arg(f.root.join("audit"))
        .args(args)
        .output()
        .unwrap();
    assert!(
        o.status.success(),
        "trace {args:?}: {}",
        String::from_utf8_lossy(&o.stderr)
    );
    String::from_utf8(o.stdout).unwrap()
}

/// `trace` on an injected expired import: its partidas, what discharged them, what is open
/// and the finding; text fits 80 columns, JSON parses. Golden files for both.
#[test]
fn trace_follows_one_pedimento() {
    let f = fixture();
    let inj = f
        .injected
        .iter()
        .find(|i| i.check_code == "TEMP-EXPIRED")
        .expect("an expired import is injected");
    let text = trace_cli(f, &[&inj.pedimento_id]);
    for l in text.lines() {
        assert!(l.chars().count() <= 80, "over 80 columns: {l}");
        assert!(!l.contains('\u{1b}'), "no control characters");
    }
    assert!(text.contains("TEMP-EXPIRED"), "{text}");
    assert!(text.contains("vencido"), "{text}");
    common::golden("report/trace.txt", &text);
    // Spanish by default, English with --lang en; terms of art stay.
    assert!(text.contains("Descargado por"), "{text}");
    let en = trace_cli(f, &[&inj.pedimento_id, "--lang", "en"]);
    assert!(
        en.contains("Discharged by") && en.contains("retorno"),
        "{en}"
    );
    let json = trace_cli(f, &[&inj.pedimento_id, "--format", "json"]);
    let v: serde_json::Value = serde_json::from_str(&json).unwrap();
    assert_eq!(v["pedimento_id"], inj.pedimento_id.as_str());
    let found = v["findings"].as_array().unwrap();
    assert!(found.iter().any(|x| x["check_code"] == "TEMP-EXPIRED"));
    common::golden("report/trace.json", &json);
    // --partida narrows to one partida; separators in the id do not matter.
    let spaced = inj.pedimento_id.replace('-', " ");
    let one = trace_cli(
        f,
        &[
            &spaced,
            "--partida",
            &inj.partida.to_string(),
            "--format",
            "json",
        ],
    );
    let v: serde_json::Value = serde_json::from_str(&one).unwrap();
    assert!(
        v["imported"]
            .as_array()
            .unwrap()
            .iter()
            .all(|b| b["partida"] == inj.partida)
    );
    // An unknown pedimento is an error that names it.
    let o = std::process::Command::new(env!("CARGO_BIN_EXE_pedimento-audit"))
        .args(["trace", "--dataset"])
        .arg(f.root.join("ds"))
        .arg("--audit")
        .arg(f.root.join("audit"))
        .arg("99-999-9999-9999999")
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&o.stderr).contains("99-999-9999-9999999"));
}

/// `<out>/index.html` lists every company and period with a link and headline numbers,
/// and keeps the reports of earlier runs; the report prints without clipped columns.
#[test]
fn index_page_lists_every_report() {
    let f = fixture();
    let mut a = args(f, "reports-index");
    a.year = Some(2022);
    report::run(&a).unwrap();
    a.year = Some(2023);
    let written = report::run(&a).unwrap();
    let out = f.root.join("reports-index");
    let index = std::fs::read_to_string(out.join("index.html")).unwrap();
    for w in &written {
        for y in ["2022", "2023"] {
            let href = format!("{}/{y}/report.html", w.rfc);
            assert!(index.contains(&href), "index links {href}");
            assert!(out.join(&href).exists());
        }
    }
    let s: report::index::Summary = serde_json::from_str(
        &std::fs::read_to_string(written[0].dir.join("summary.json")).unwrap(),
    )
    .unwrap();
    assert_eq!(s.findings, written[0].findings);
    assert_eq!(s.period, "2023");
    assert!(index.contains(&format!(">{}<", s.findings)));
    assert!(index.contains("<html lang=\"es\">"));
    let html = std::fs::read_to_string(written[0].dir.join("report.html")).unwrap();
    assert!(html.contains("@media print"));
    assert!(
        html.contains("overflow-wrap:anywhere"),
        "cells wrap when printed"
    );
    assert!(html.contains("id=\"kardex\"") && html.contains("id=\"rejects\""));
}

/// Every file under `dir` (relative path → bytes), `report.xlsx` without its
/// `docProps/core.xml` (the workbook's creation time): compared as unzipped parts.
fn folder_files(dir: &Path) -> std::collections::BTreeMap<String, Vec<u8>> {
    let mut out = std::collections::BTreeMap::new();
    for e in walkdir::WalkDir::new(dir).sort_by_file_name() {
        let e = e.unwrap();
        if !e.file_type().is_file() {
            continue;
        }
        let rel = e.path().strip_prefix(dir).unwrap().display().to_string();
        let bytes = std::fs::read(e.path()).unwrap();
        if rel.ends_with("report.xlsx") {
            let mut z = ::zip::ZipArchive::new(std::io::Cursor::new(bytes)).unwrap();
            for i in 0..z.len() {
                let mut part = z.by_index(i).unwrap();
                let name = part.name().unwrap().to_string();
                if name != "docProps/core.xml" {
                    let mut b = vec![];
                    std::io::Read::read_to_end(&mut part, &mut b).unwrap();
                    out.insert(format!("{rel}!{name}"), b);
                }
            }
        } else {
            out.insert(rel, bytes);
        }
    }
    out
}

/// Reports built a group of companies at a time (a budget so small that each company
/// is a group of its own) are the reports built from every company's rows at once, file
/// for file; `--company` reads only its company and writes that company's same files.
#[test]
fn small_memory_budget_writes_the_same_reports() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    let h = generate::generate(&Config {
        seed: 5,
        companies: 5,
        start_year: 2021,
        years: 2,
        partidas: 1500,
        inject: vec![
            Violation::Expired,
            Violation::Excess,
            Violation::Unit,
            Violation::VirtualUnpaired,
            Violation::VirtualMismatch,
        ],
        bom_share: 0.4,
    });
    generate::writers::write_datastage(&h, &root.join("datastage")).unwrap();
    generate::writers::write_profiles(&h, &root.join("profiles")).unwrap();
    let (ds, audit) = (root.join("ds"), root.join("audit"));
    ingest::run(
        &[root.join("datastage")],
        &ds,
        &ingest::IngestOptions::default(),
    )
    .unwrap();
    pedaudit::audit::run(&pedaudit::audit::AuditConfig {
        dataset: ds.clone(),
        out: audit.clone(),
        options: checks::AuditOptions {
            profiles: Some(root.join("profiles")),
            ..Default::default()
        },
        checks: checks::REGISTRY.iter().collect(),
        batching: checks::Batching::Whole,
        tool: "tests/report.rs".into(),
    })
    .unwrap();
    // The same --out for every run: the folder name is part of each report's command.
    let out = root.join("reports");
    let mut a = ReportArgs::new(&ds, &audit, &out);
    a.sample = Some(8);
    let mut run = |memory_mb: Option<u64>, company: Option<&str>, keep: &str| {
        a.memory_mb = memory_mb;
        a.company = company.map(str::to_string);
        let plan = report::plan::Plan::new(&a).unwrap();
        let groups = plan.groups.clone();
        let written = report::run(&a).unwrap();
        std::fs::rename(&out, root.join(keep)).unwrap();
        (groups, written)
    };
    let (whole, all) = run(None, None, "whole");
    let (tiny, _) = run(Some(1), None, "tiny");
    assert_eq!(whole.len(), 1, "a small history fits the default budget");
    assert_eq!(all.len(), 5, "one report per company");
    let rfcs: Vec<String> = all.iter().map(|w| w.rfc.clone()).collect();
    assert_eq!(whole[0], rfcs);
    assert_eq!(
        tiny,
        rfcs.iter().map(|r| vec![r.clone()]).collect::<Vec<_>>(),
        "a budget below the reserve: one company a group, in RFC order"
    );
    let (w, t) = (
        folder_files(&root.join("whole")),
        folder_files(&root.join("tiny")),
    );
    assert!(w.keys().any(|k| k.ends_with("sample.csv")) && w.len() > 5 * 12);
    assert_eq!(w.keys().collect::<Vec<_>>(), t.keys().collect::<Vec<_>>());
    for (k, v) in &w {
        assert!(t[k] == *v, "{k} differs between one group and five");
    }
    // --company: that company's report only, the same files.
    let (one, _) = run(Some(1), Some(&rfcs[2].to_lowercase()), "one");
    assert_eq!(one, vec![vec![rfcs[2].clone()]]);
    let o = folder_files(&root.join("one"));
    let prefix = format!("{}/", rfcs[2]);
    for (k, v) in &o {
        if k == "index.html" {
            continue;
        }
        assert!(k.starts_with(&prefix), "{k}");
        assert!(
            w[k] == *v,
            "{k} differs between --company and every company"
        );
    }
    assert_eq!(
        o.len(),
        1 + w.keys().filter(|k| k.starts_with(&prefix)).count()
    );
}
