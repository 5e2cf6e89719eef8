//! IVA/IEPS certification (CERT-RATIO, CERT-A/AA/AAA) on hand-built fixtures
//! (`fixtures/CERT-RATIO/`, ratios computed by hand in the comments below) and on a
//! generated history. Golden file: `tests/golden/cert_assessment.txt`; regenerate with
//! `UPDATE_GOLDEN=1 cargo test --test cert`.

mod common;

use chrono::NaiveDate;
use pedaudit::checks::cert::{self, Assessment, CertOptions, Status, ValueBasis};
use pedaudit::checks::{AuditContext, AuditOptions};
use polars::prelude::*;
use rust_decimal::Decimal;
use std::path::{Path, PathBuf};
use std::str::FromStr;

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).to_path_buf()
}

fn d(s: &str) -> NaiveDate {
    NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap()
}

fn dec(s: &str) -> Decimal {
    Decimal::from_str(s).unwrap()
}

/// Ingests the fixture CSV into a temp dataset; returns (tempdir, dataset path).
fn dataset() -> (tempfile::TempDir, PathBuf) {
    let tmp = tempfile::tempdir().unwrap();
    let ds = tmp.path().join("ds");
    pedaudit::ingest::run(
        &[root().join("fixtures/CERT-RATIO/pedimentos.csv")],
        &ds,
        &pedaudit::ingest::IngestOptions {
            force: false,
            ..Default::default()
        },
    )
    .unwrap();
    (tmp, ds)
}

fn open(ds: &Path, profiles: Option<PathBuf>, as_of: &str) -> AuditContext {
    AuditContext::open(
        ds,
        AuditOptions {
            as_of: Some(d(as_of)),
            profiles,
            ..Default::default()
        },
    )
    .unwrap()
}

fn fixture_assessment(opts: &CertOptions) -> (tempfile::TempDir, AuditContext, Assessment) {
    let (tmp, ds) = dataset();
    let ctx = open(
        &ds,
        Some(root().join("fixtures/CERT-RATIO/profiles")),
        "2023-12-31",
    );
    let a = cert::evaluate_all(&ctx, opts).unwrap();
    (tmp, ctx, a)
}

/// The hand-checked expectations below were written from the 2013 text (RCGMCE 2013 regla
/// 5.2.13): they force that version, whatever the as-of date.
fn v2013() -> CertOptions {
    CertOptions {
        rule_version: Some("RCGMCE2013"),
        ..Default::default()
    }
}

fn point<'a>(a: &'a Assessment, rfc: &str, end: &str) -> &'a cert::RatioPoint {
    a.series
        .iter()
        .find(|p| p.rfc == rfc && p.period_end == d(end))
        .unwrap_or_else(|| panic!("no point {rfc} {end}"))
}

fn row<'a>(a: &'a Assessment, rfc: &str, code: &str) -> &'a cert::ReqRow {
    a.rows
        .iter()
        .find(|r| r.rfc == rfc && r.code == code)
        .unwrap()
}

#[test]
fn ratios_exact_at_as_of() {
    let (_t, _ctx, a) = fixture_assessment(&v2013());
    // AAA: IN 70,000 + 30,000 (2 partidas) = 100,000; RT 60,000 -> exactly 60 %: passes.
    let p = point(&a, "AAA010101AA1", "2023-12-31");
    assert_eq!(p.period_start, d("2023-01-01"));
    assert_eq!(p.numerator, dec("60000.00"));
    assert_eq!(p.denominator, dec("100000.00"));
    assert_eq!(p.ratio, Some(dec("0.6")));
    assert_eq!((p.status, p.shortfall), ("pass", None));
    // BBB: 59,990 / 100,000 = 59.99 %: fails; shortfall 0.60 x 100,000 - 59,990 = 10.00.
    let p = point(&a, "BBB010101BB2", "2023-12-31");
    assert_eq!(p.ratio, Some(dec("0.5999")));
    assert_eq!(p.status, "fail");
    assert_eq!(p.shortfall, Some(dec("10.00")));
    // CCC (sensible): RT 100,000 + F4 50,000 over IN 200,000 = 75 % < 80 %;
    // shortfall 0.80 x 200,000 - 150,000 = 10,000.00. The 60 % row (B-I-d) passes.
    let p = point(&a, "CCC010101CC3", "2023-12-31");
    assert_eq!(p.ratio, Some(dec("0.75")));
    assert_eq!(p.threshold, dec("0.80"));
    assert_eq!(p.shortfall, Some(dec("10000.00")));
    assert_eq!(row(&a, "CCC010101CC3", "S-b").status, Status::Fail);
    assert_eq!(row(&a, "CCC010101CC3", "S-b").amount, Some(dec("10000.00")));
    assert_eq!(row(&a, "CCC010101CC3", "B-I-d").status, Status::Pass);
    // EEE: the V1 export (transfer, IMMEX declared) counts as a return: 65,000 / 100,000;
    // the V1 export without IMMEX (10,000, a national supplier's virtual export) does not.
    let p = point(&a, "EEE010101EE5", "2023-12-31");
    assert_eq!(p.numerator, dec("65000.00"));
    assert_eq!(p.n_numerator, 1);
    assert_eq!(p.ratio, Some(dec("0.65")));
    // FFF: receives the transfer (V1 import = 65,000 in its denominator), returns 10,000
    // (15.38 %), but its program started 2023-06-01: first-year exemption (002 L526).
    let p = point(&a, "FFF010101FF6", "2023-12-31");
    assert_eq!(p.denominator, dec("65000.00"));
    assert_eq!(p.status, "exempt");
    assert_eq!(
        row(&a, "FFF010101FF6", "B-I-d").status,
        Status::NotApplicable
    );
}

#[test]
fn ratio_crosses_threshold_in_may() {
    let (_t, _ctx, a) = fixture_assessment(&v2013());
    // DDD: IN 100,000 (Jan 15), RT 50,000 (Feb 15), H1 20,000 (May 15).
    let s: Vec<(NaiveDate, &str, Option<Decimal>)> = a
        .series
        .iter()
        .filter(|p| p.rfc == "DDD010101DD4")
        .map(|p| (p.period_end, p.status, p.ratio))
        .collect();
    let month = |m: &str| *s.iter().find(|x| x.0 == d(m)).unwrap();
    // The dataset starts in January 2023: every window ending before December 2023
    // reaches back before the data, so a ratio below 60 % there is `partial`, not `fail`.
    assert_eq!(
        month("2023-01-31"),
        (d("2023-01-31"), "partial", Some(dec("0")))
    );
    assert_eq!(
        month("2023-04-30"),
        (d("2023-04-30"), "partial", Some(dec("0.5")))
    );
    assert_eq!(
        month("2023-05-31"),
        (d("2023-05-31"), "pass", Some(dec("0.7")))
    );
    let first_pass = s.iter().find(|x| x.1 == "pass").unwrap().0;
    assert_eq!(first_pass, d("2023-05-31"));
    // The calendar: month ends from the first month with data (2023-01) to the as-of date.
    assert_eq!(s.len(), 12);
    assert_eq!(s.last().unwrap().0, d("2023-12-31"));
}

#[test]
fn ratio_findings_and_parquet_frames() {
    let o = v2013();
    let (_t, ctx, a) = fixture_assessment(&o);
    let f = a.ratio_findings(ctx.as_of, &o).unwrap();
    let f = pedaudit::findings::conform(f, "test").unwrap();
    let rfcs: Vec<String> = f
        .column("rfc")
        .unwrap()
        .str()
        .unwrap()
        .iter()
        .flatten()
        .map(String::from)
        .collect();
    assert_eq!(rfcs, vec!["BBB010101BB2", "CCC010101CC3"]);
    let amounts: Vec<String> = (0..2)
        .map(|i| f.column("amount").unwrap().get(i).unwrap().to_string())
        .collect();
    assert_eq!(amounts, vec!["10.00", "10000.00"]);
    let (series, table) = cert::assess(&ctx, &o).unwrap();
    assert_eq!(
        series.column("ratio").unwrap().dtype(),
        &DataType::Decimal(18, 4)
    );
    assert_eq!(table.height(), 7 * 30, "7 companies x 30 requirements each");
    // The registry entries produce the same CERT-RATIO findings through the runner.
    let sel = pedaudit::checks::select(&["cert".into()]).unwrap();
    assert_eq!(
        sel.len(),
        5,
        "CERT-RATIO, CERT-A, CERT-AA, CERT-AAA, CERT-RENEWAL"
    );
    let all = pedaudit::checks::run(&ctx, &sel).unwrap();
    let n_ratio = all
        .column("check_code")
        .unwrap()
        .str()
        .unwrap()
        .iter()
        .flatten()
        .filter(|c| *c == "CERT-RATIO")
        .count();
    assert_eq!(n_ratio, 2);
}

/// Real Data Stage carries ValorAduana = 0 on export lines (the value is in
/// ValorComercial): the default basis values each side as its pedimento declares it
/// (valor en aduana of the imports, valor comercial of the returns), so the ratio is the
/// real one; valuing the returns by valor en aduana reads 0 % for every company.
/// Fixture `fixtures/CERT-RATIO/basis.csv`, hand-checked:
///   IN  valor_aduana 103,000.00 (valor comercial 100,000.00 + 3 % freight and insurance)
///   RT  valor_aduana 0, valor_comercial 70,000.00 (insumos + value added)
///   declarado:       70,000 / 103,000 = 0.6796 -> pass (>= 60 %)
///   valor_aduana:         0 / 103,000 = 0      -> fail, shortfall 61,800.00
///   valor_comercial: 70,000 / 100,000 = 0.70   -> pass
#[test]
fn default_basis_reads_returns_at_valor_comercial() {
    let tmp = tempfile::tempdir().unwrap();
    let ds = tmp.path().join("ds");
    pedaudit::ingest::run(
        &[root().join("fixtures/CERT-RATIO/basis.csv")],
        &ds,
        &Default::default(),
    )
    .unwrap();
    let ctx = open(&ds, None, "2023-12-31");
    let at = |o: &CertOptions| {
        let a = cert::evaluate_all(&ctx, o).unwrap();
        point(&a, "HHH010101HH8", "2023-12-31").clone()
    };
    let p = at(&CertOptions::default());
    assert_eq!(CertOptions::default().value_basis, ValueBasis::Declarado);
    assert_eq!(
        (p.numerator, p.denominator),
        (dec("70000.00"), dec("103000.00"))
    );
    assert_eq!(p.status, "pass");
    let lit = at(&CertOptions {
        value_basis: ValueBasis::ValorAduana,
        ..Default::default()
    });
    assert_eq!(lit.numerator, dec("0.00"));
    assert_eq!((lit.status, lit.shortfall), ("fail", Some(dec("61800.00"))));
    let com = at(&CertOptions {
        value_basis: ValueBasis::ValorComercial,
        ..Default::default()
    });
    assert_eq!(com.ratio, Some(dec("0.7")));
}

#[test]
fn usd_basis_is_an_option() {
    let o = CertOptions {
        value_basis: ValueBasis::ValorDolares,
        ..v2013()
    };
    let (_t, _ctx, a) = fixture_assessment(&o);
    // valor_dolares = valor_aduana / 20 in the fixture: same ratio, USD amounts.
    let p = point(&a, "BBB010101BB2", "2023-12-31");
    assert_eq!(p.denominator, dec("5000.00"));
    assert_eq!(p.numerator, dec("2999.50"));
    assert_eq!(p.shortfall, Some(dec("0.50")));
}

#[test]
fn missing_headcount_is_unknown_not_pass() {
    let (_t, _ctx, a) = fixture_assessment(&v2013());
    let r = row(&a, "GGG010101GG7", "A-VI");
    assert_eq!(r.status, Status::Unknown);
    assert_eq!(r.missing, "imss.csv: trabajadores for bimestre 2022-06");
    assert_eq!(a.verdicts["GGG010101GG7"], "none");
    // Without any profile folder every profile requirement is unknown, naming the file.
    let (_t2, ds) = dataset();
    let ctx = open(&ds, None, "2023-12-31");
    let a = cert::evaluate_all(&ctx, &v2013()).unwrap();
    let r = row(&a, "AAA010101AA1", "A-VI");
    assert_eq!(
        (r.status, r.missing.as_str()),
        (Status::Unknown, "imss.csv")
    );
    assert!(
        a.rows
            .iter()
            .all(|r| r.status != Status::Pass || r.basis == "pedimentos")
    );
    assert!(a.verdicts.values().all(|v| *v == "none"));
}

#[test]
fn verdicts_and_options() {
    let (_t, _ctx, a) = fixture_assessment(&v2013());
    let v: Vec<(&str, &str)> = a.verdicts.iter().map(|(k, v)| (k.as_str(), *v)).collect();
    assert_eq!(
        v,
        vec![
            ("AAA010101AA1", "AAA"),
            ("BBB010101BB2", "none"),
            ("CCC010101CC3", "none"),
            ("DDD010101DD4", "A"),
            ("EEE010101EE5", "A"),
            ("FFF010101FF6", "A"),
            ("GGG010101GG7", "none"),
        ]
    );
    // Manual rows are never pass; with manual_blocks_verdict nobody gets a modality.
    assert!(
        a.rows
            .iter()
            .filter(|r| r.basis == "manual")
            .all(|r| r.status == Status::Unknown)
    );
    let o = CertOptions {
        manual_blocks_verdict: true,
        ..v2013()
    };
    let (_t, _ctx, a) = fixture_assessment(&o);
    assert!(a.verdicts.values().all(|v| *v == "none"));
}

#[test]
fn golden_assessment() {
    let o = v2013();
    let (_t, ctx, _a) = fixture_assessment(&o);
    let (_, table) = cert::assess(&ctx, &o).unwrap();
    let got = cert::render(&table).unwrap();
    common::golden("cert_assessment.txt", &got);
}

#[test]
fn generated_company_passes_a_not_aa() {
    use pedaudit::generate;
    let tmp = tempfile::tempdir().unwrap();
    let cfg = generate::Config {
        seed: 7,
        companies: 2,
        start_year: 2021,
        years: 2,
        partidas: 1500,
        inject: vec![],
        bom_share: 0.0,
    };
    let h = generate::generate(&cfg);
    let ds = tmp.path().join("ds");
    let prof = tmp.path().join("profiles");
    generate::writers::write_dataset(&h, &ds).unwrap();
    generate::writers::write_profiles(&h, &prof).unwrap();
    generate::cert_profiles::write_cert_profiles(&h, &prof).unwrap();
    let ctx = AuditContext::open(
        &ds,
        AuditOptions {
            profiles: Some(prof),
            ..Default::default()
        },
    )
    .unwrap();
    let a = cert::evaluate_all(&ctx, &v2013()).unwrap();
    assert_eq!(a.verdicts.len(), 2);
    for (rfc, v) in &a.verdicts {
        assert_eq!(*v, "A", "{rfc}");
        assert_eq!(row(&a, rfc, "AA-b").status, Status::Fail);
        assert_eq!(row(&a, rfc, "B-I-d").status, Status::Pass);
        // AA-b is the only AA requirement that fails.
        let aa_fail: Vec<&str> = a
            .rows
            .iter()
            .filter(|r| &r.rfc == rfc && r.modality == "AA" && r.status == Status::Fail)
            .map(|r| r.code)
            .collect();
        assert_eq!(aa_fail, vec!["AA-b"]);
    }
}

#[test]
fn profile_validation_names_file_line_field() {
    use pedaudit::profile;
    let tmp = tempfile::tempdir().unwrap();
    let p = tmp.path();
    std::fs::write(
        p.join("imss.csv"),
        "rfc,bimestre,trabajadores\nAAA010101AA1,2023-07,10\n",
    )
    .unwrap();
    let e = profile::load_cert(Some(p)).err().unwrap().to_string();
    assert!(e.contains("imss.csv:2: field 'bimestre'"), "{e}");
    std::fs::remove_file(p.join("imss.csv")).unwrap();
    std::fs::write(p.join("empresas.csv"), "rfc,sector\nAAA010101AA1,general\n").unwrap();
    let e = profile::load_cert(Some(p)).err().unwrap().to_string();
    assert!(e.contains("sector is read from programas.csv"), "{e}");
    std::fs::write(
        p.join("empresas.csv"),
        "rfc,nombre\nAAA010101AA1,X\nAAA010101AA1,Y\n",
    )
    .unwrap();
    let e = profile::load_cert(Some(p)).err().unwrap().to_string();
    assert!(e.contains("empresas.csv:3: field 'rfc'"), "{e}");
    std::fs::remove_file(p.join("empresas.csv")).unwrap();
    std::fs::write(p.join("programas.csv"), "rfc,sector\nAAA010101AA1,textil\n").unwrap();
    let e = profile::load_cert(Some(p)).err().unwrap().to_string();
    assert!(e.contains("'textil' is not general or sensible"), "{e}");
}

/// `audit --check cert` writes both Parquet tables and prints the assessment.
#[test]
fn cli_writes_parquet_tables() {
    let (tmp, ds) = dataset();
    let out = tmp.path().join("audit");
    let o = std::process::Command::new(env!("CARGO_BIN_EXE_pedimento-audit"))
        .env("RUST_MIN_STACK", "67108864")
        .args([
            "audit",
            "--check",
            "cert",
            "--as-of",
            "2023-12-31",
            "--dataset",
        ])
        .arg(&ds)
        .arg("--profiles")
        .arg(root().join("fixtures/CERT-RATIO/profiles"))
        .arg("--out")
        .arg(&out)
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&o.stdout);
    assert!(
        o.status.success(),
        "{stdout}{}",
        String::from_utf8_lossy(&o.stderr)
    );
    assert!(
        stdout.contains("BBB010101BB2: verdict none (as of 2023-12-31)"),
        "{stdout}"
    );
    let read = |f: &str| {
        let file = std::fs::File::open(out.join(f)).unwrap();
        ParquetReader::new(file).finish().unwrap()
    };
    let series = read("cert_ratio_series.parquet");
    let may = series
        .lazy()
        .filter(
            col("rfc")
                .eq(lit("DDD010101DD4"))
                .and(col("status").eq(lit("pass"))),
        )
        .select([col("period_end").min()])
        .collect()
        .unwrap();
    assert_eq!(
        may.column("period_end")
            .unwrap()
            .get(0)
            .unwrap()
            .to_string(),
        "2023-05-31"
    );
    assert_eq!(read("cert_assessment.parquet").height(), 7 * 30);
    let f = read("findings.parquet");
    assert!(f.height() >= 2);
}

/// The rule version is the one in force on the as-of date, and every row says which:
/// a generated 2013-2014 history audited at 2014-12-31 applies RCGMCE 2013 regla 5.2.13;
/// the same history at 2022-12-31 applies RGCE Título 7 (supplier share repealed in 2019,
/// AA 2 years); at 2015-06-30 no encoded version covers the date: every requirement is
/// unknown with that reason, and no modality is granted.
#[test]
fn rules_in_force_follow_the_as_of_date() {
    use pedaudit::generate;
    let tmp = tempfile::tempdir().unwrap();
    let h = generate::generate(&generate::Config {
        seed: 3,
        companies: 1,
        start_year: 2013,
        years: 2,
        partidas: 600,
        inject: vec![],
        bom_share: 0.0,
    });
    let ds = tmp.path().join("ds");
    let prof = tmp.path().join("profiles");
    generate::writers::write_dataset(&h, &ds).unwrap();
    generate::writers::write_profiles(&h, &prof).unwrap();
    generate::cert_profiles::write_cert_profiles(&h, &prof).unwrap();
    let at = |as_of: &str| {
        let ctx = open(&ds, Some(prof.clone()), as_of);
        cert::evaluate_all(&ctx, &CertOptions::default()).unwrap()
    };
    let a14 = at("2014-12-31");
    assert_eq!(a14.version.unwrap().id, "RCGMCE2013");
    assert!(a14.rows.iter().all(|r| r.rule_version == "RCGMCE2013"));
    let rfc = a14.rows[0].rfc.clone();
    assert!(
        row(&a14, &rfc, "B-I-d")
            .citation
            .starts_with("RCGMCE 2013 regla 5.2.13, apartado B")
    );
    assert_ne!(row(&a14, &rfc, "AA-a").status, Status::NotApplicable);
    let a22 = at("2022-12-31");
    assert_eq!(a22.version.unwrap().id, "RGCE2019");
    assert_eq!(
        row(&a22, &rfc, "B-I-d").citation,
        "RGCE, regla 7.1.2 (rubro A, programa IMMEX)"
    );
    assert_eq!(row(&a22, &rfc, "AA-a").status, Status::NotApplicable);
    assert!(a22.verdict_detail[&rfc].contains("RGCE 2019 a 2023"));
    let a15 = at("2015-06-30");
    assert!(a15.version.is_none());
    assert!(a15.rows.iter().all(|r| {
        r.status == Status::Unknown
            && r.missing
                .starts_with("no certification rule version known for 2015-06-30")
    }));
    assert!(a15.verdicts.values().all(|v| *v == "none"));
}

/// CERT-RENEWAL on its fixture (fixtures/CERT-RENEWAL/README.md has the hand check).
#[test]
fn renewal_findings() {
    let (_t, ds) = dataset();
    let ctx = open(
        &ds,
        Some(root().join("fixtures/CERT-RENEWAL/profiles")),
        "2023-12-31",
    );
    let sel = pedaudit::checks::select(&["CERT-RENEWAL".into()]).unwrap();
    let f = pedaudit::checks::run(&ctx, &sel).unwrap();
    let got: Vec<String> = (0..f.height())
        .map(|i| {
            let g = |c: &str| f.column(c).unwrap().get(i).unwrap().to_string();
            format!("{} {} {}", g("rfc"), g("severity"), g("message"))
        })
        .collect();
    assert_eq!(got.len(), 2, "{got:#?}");
    assert!(
        got[0].starts_with("\"AAA010101AA1\" \"medium\""),
        "{}",
        got[0]
    );
    assert!(
        got[0].contains("due from 2023-11-30 to 2024-01-14 (9 business days left)"),
        "{}",
        got[0]
    );
    assert!(
        got[1].starts_with("\"BBB010101BB2\" \"high\""),
        "{}",
        got[1]
    );
    assert!(got[1].contains("expired 2023-02-28"), "{}", got[1]);
}
