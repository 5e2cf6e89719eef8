//! CLI guards (issue #22 items 7-11 and "Smaller", issue #20 defect 4), end to end: the
//! built binary on a small generated history in a temp dir.
//!
//! - a half-swapped dataset (ingest killed between its two renames) is recovered by
//!   `audit`/`report`, or refused when it cannot be (another ingest holds the lock);
//! - `--profiles` missing / a file is an error, unknown file names are warned;
//! - `--company` is normalized and validated;
//! - an audit's outputs are one unit (`audit_manifest.json`), `report` refuses a mix;
//! - options are validated before any work; `--as-of` takes ingest's date formats;
//! - exit 1 of `--fail-on` says which findings; `report --year` without data is an error;
//! - a closed stdout pipe does not panic; text is not thousands-formatted.

mod common;

use common::*;
use pedaudit::generate::{self, Config, Violation};
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::sync::OnceLock;

struct Fixture {
    _tmp: tempfile::TempDir,
    dir: PathBuf,
    /// Dataset of history A (3 companies, 2020-2022, injected violations).
    ds: PathBuf,
    profiles: PathBuf,
    /// History B (2021-2023) as Data Stage files: ingesting it into `ds` replaces years.
    input_b: PathBuf,
    rfcs: Vec<String>,
}

fn fixture() -> &'static Fixture {
    static F: OnceLock<Fixture> = OnceLock::new();
    F.get_or_init(|| {
        let tmp = tempfile::tempdir().unwrap();
        let dir = tmp.path().to_path_buf();
        let h = generate::generate(&Config {
            seed: 7,
            companies: 3,
            start_year: 2020,
            years: 3,
            partidas: 900,
            inject: vec![Violation::Expired, Violation::Excess],
            bom_share: 0.0,
        });
        generate::writers::write_datastage(&h, &dir.join("a")).unwrap();
        generate::writers::write_profiles(&h, &dir.join("profiles")).unwrap();
        let mut rfcs: Vec<String> = h.injected.iter().map(|i| i.rfc.clone()).collect();
        rfcs.sort();
        rfcs.dedup();
        gen_datastage(&dir.join("b"), 2, 2021, 3, 900);
        let ds = dir.join("ds");
        ingest_ok(&dir.join("a"), &ds);
        Fixture {
            ds,
            profiles: dir.join("profiles"),
            input_b: dir.join("b"),
            rfcs,
            dir,
            _tmp: tmp,
        }
    })
}

fn run(args: &[&str]) -> Output {
    Command::new(bin())
        .args(args)
        .env_remove("PEDAUDIT_CRASH_AT")
        .output()
        .unwrap()
}

fn s(p: &Path) -> &str {
    p.to_str().unwrap()
}

fn text(o: &Output) -> (String, String) {
    (
        String::from_utf8_lossy(&o.stdout).to_string(),
        String::from_utf8_lossy(&o.stderr).to_string(),
    )
}

fn code(o: &Output) -> i32 {
    o.status.code().unwrap_or(-1)
}

fn findings_count(out: &Path) -> usize {
    parquet_rows(&out.join("findings.parquet")).len()
}

/// A copy of the fixture dataset on which an ingest of history B aborted between the
/// two renames of a year (the crash-point hook of `tests/kill.rs`).
fn half_swapped(name: &str) -> PathBuf {
    let f = fixture();
    let root = f.dir.join(name);
    copy_dir(&f.ds, &root);
    let out = ingest_cmd(&f.input_b, &root)
        .env("PEDAUDIT_CRASH_AT", "between-renames")
        .output()
        .unwrap();
    assert!(!out.status.success(), "the crash hook did not abort");
    let left = leftovers(&root);
    assert!(
        left.iter().any(|n| n.starts_with(".old-year=")),
        "expected .old-year=* in {left:?}"
    );
    root
}

#[test]
fn audit_recovers_a_half_swapped_dataset() {
    let f = fixture();
    let root = half_swapped("half-audit");
    let years_before = pedaudit::dataset::years(&root);
    // Reference: the same crashed dataset recovered by the ingest's own recovery.
    let reference = f.dir.join("half-audit-ref");
    copy_dir(&root, &reference);
    pedaudit::dataset::recover(&reference).unwrap();
    assert!(
        pedaudit::dataset::years(&reference).len() > years_before.len(),
        "a year is missing before recovery"
    );
    // The library refuses to audit it as it is.
    let e = pedaudit::checks::AuditContext::open(&root, Default::default())
        .err()
        .expect("library audit of a half-swapped dataset must fail");
    assert!(e.to_string().contains("half-written"), "{e}");

    let out_ref = f.dir.join("half-audit-ref-out");
    let o = run(&["audit", "--dataset", s(&reference), "--out", s(&out_ref)]);
    assert!(matches!(code(&o), 0 | 1), "{:?}", text(&o));
    let out = f.dir.join("half-audit-out");
    let o = run(&["audit", "--dataset", s(&root), "--out", s(&out)]);
    let (_, err) = text(&o);
    assert!(matches!(code(&o), 0 | 1), "{err}");
    assert!(err.contains("recovered: restored year="), "{err}");
    assert!(leftovers(&root).is_empty(), "{:?}", leftovers(&root));
    assert_eq!(
        pedaudit::dataset::years(&root),
        pedaudit::dataset::years(&reference)
    );
    assert_eq!(findings_count(&out), findings_count(&out_ref));
}

#[test]
fn report_recovers_a_half_swapped_dataset() {
    let f = fixture();
    let root = half_swapped("half-report");
    // The library refuses it.
    let a = pedaudit::report::ReportArgs::new(&root, &f.dir.join("x"), &f.dir.join("y"));
    let e = pedaudit::report::build_all(&a).unwrap_err().to_string();
    assert!(e.contains("half-written"), "{e}");
    let o = run(&[
        "report",
        "--dataset",
        s(&root),
        "--audit",
        s(&f.dir.join("half-report-audit")),
        "--out",
        s(&f.dir.join("half-report-out")),
        "--run-audit",
    ]);
    let (_, err) = text(&o);
    assert_eq!(code(&o), 0, "{err}");
    assert!(err.contains("recovered:"), "{err}");
    assert!(leftovers(&root).is_empty());
}

#[test]
fn half_swapped_dataset_locked_by_an_ingest_is_refused() {
    let f = fixture();
    let root = half_swapped("half-locked");
    // Another process (this test) holds the ingest lock: the audit must not touch or
    // read the unfinished dataset.
    let lock = pedaudit::ingest::Lock::acquire(&root).unwrap();
    let out = f.dir.join("half-locked-out");
    let o = run(&["audit", "--dataset", s(&root), "--out", s(&out)]);
    let (_, err) = text(&o);
    assert_eq!(code(&o), 2, "{err}");
    assert!(err.contains("locked"), "{err}");
    assert!(!out.join("findings.parquet").exists());
    assert!(
        !leftovers(&root).is_empty(),
        "nothing was recovered under the lock"
    );
    drop(lock);
}

#[test]
fn profiles_path_errors_and_unknown_names_warned() {
    let f = fixture();
    let out = f.dir.join("prof-out");
    for bad in [
        f.dir.join("no-such-folder"),
        f.profiles.join("programas.csv"),
    ] {
        let o = run(&[
            "audit",
            "--dataset",
            s(&f.ds),
            "--out",
            s(&out),
            "--profiles",
            s(&bad),
        ]);
        let (_, err) = text(&o);
        assert_eq!(code(&o), 2, "{}: {err}", bad.display());
        assert!(
            err.contains("programas.csv"),
            "names the expected files: {err}"
        );
        assert!(!out.exists(), "no work before the options are checked");
    }
    // A misnamed profile file: warned, listing the known names.
    let p2 = f.dir.join("prof-misnamed");
    std::fs::create_dir_all(&p2).unwrap();
    std::fs::copy(f.profiles.join("programas.csv"), p2.join("programa.csv")).unwrap();
    let o = run(&[
        "audit",
        "--dataset",
        s(&f.ds),
        "--out",
        s(&out),
        "--check",
        "temp",
        "--profiles",
        s(&p2),
    ]);
    let (_, err) = text(&o);
    assert!(matches!(code(&o), 0 | 1), "{err}");
    assert!(
        err.contains("warning") && err.contains("programa.csv") && err.contains("programas.csv"),
        "{err}"
    );
}

#[test]
fn company_is_normalized_and_validated() {
    let f = fixture();
    let rfc = &f.rfcs[0];
    let up = f.dir.join("co-up");
    let o = run(&[
        "audit",
        "--dataset",
        s(&f.ds),
        "--out",
        s(&up),
        "--check",
        "temp",
        "--company",
        rfc,
    ]);
    assert!(matches!(code(&o), 0 | 1), "{:?}", text(&o));
    let n = findings_count(&up);
    assert!(n > 0, "the injected violations of {rfc} are found");
    let low = f.dir.join("co-low");
    let given = format!("  {}  ", rfc.to_lowercase());
    let o = run(&[
        "audit",
        "--dataset",
        s(&f.ds),
        "--out",
        s(&low),
        "--check",
        "temp",
        "--company",
        &given,
    ]);
    assert!(matches!(code(&o), 0 | 1), "{:?}", text(&o));
    assert_eq!(findings_count(&low), n, "lowercase RFC = same findings");
    // A typo: exit 2 (a CI gate must not pass), naming the close RFC.
    let typo = &rfc[..rfc.len() - 1];
    let bad = f.dir.join("co-typo");
    let o = run(&[
        "audit",
        "--dataset",
        s(&f.ds),
        "--out",
        s(&bad),
        "--company",
        typo,
        "--fail-on",
        "high",
    ]);
    let (_, err) = text(&o);
    assert_eq!(code(&o), 2, "{err}");
    assert!(
        err.contains("unknown company") && err.contains(rfc.as_str()),
        "{err}"
    );
    assert!(!bad.join("findings.parquet").exists());
}

#[test]
fn audit_outputs_are_one_unit_and_report_refuses_a_mix() {
    let f = fixture();
    let out = f.dir.join("unit-out");
    let profiles = s(&f.profiles);
    // A full audit writes the certification and virtual-pair tables too.
    let o = run(&[
        "audit",
        "--dataset",
        s(&f.ds),
        "--out",
        s(&out),
        "--profiles",
        profiles,
    ]);
    assert!(matches!(code(&o), 0 | 1), "{:?}", text(&o));
    assert!(out.join("cert_assessment.parquet").exists());
    let stale = f.dir.join("unit-stale.parquet");
    std::fs::copy(out.join("cert_assessment.parquet"), &stale).unwrap();
    // A narrower audit into the same folder: no table of the earlier run survives, and
    // the manifest names exactly what was written and the options used.
    let o = run(&[
        "audit",
        "--dataset",
        s(&f.ds),
        "--out",
        s(&out),
        "--check",
        "temp",
        "--as-of",
        "31/12/2022",
    ]);
    assert!(matches!(code(&o), 0 | 1), "{:?}", text(&o));
    for gone in [
        "cert_assessment.parquet",
        "cert_ratio_series.parquet",
        "virtual_pairs.parquet",
    ] {
        assert!(!out.join(gone).exists(), "{gone} of the earlier run left");
    }
    let m: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(out.join("audit_manifest.json")).unwrap())
            .unwrap();
    assert_eq!(m["as_of"], "2022-12-31", "--as-of in ingest's DD/MM/YYYY");
    let names: Vec<&str> = m["files"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["name"].as_str().unwrap())
        .collect();
    assert_eq!(
        names,
        [
            "findings.parquet",
            "ledger_allocations.parquet",
            "ledger_balances.parquet"
        ]
    );
    assert!(
        m["checks"]
            .as_array()
            .unwrap()
            .iter()
            .any(|c| c == "TEMP-EXPIRED")
    );
    assert!(m["version"].is_string());
    let companies = m["companies"].as_array().unwrap();
    assert!(
        f.rfcs.iter().all(|r| companies.iter().any(|c| c == r)),
        "every audited company is named: {companies:?}"
    );
    let report = |name: &str| {
        run(&[
            "report",
            "--dataset",
            s(&f.ds),
            "--audit",
            s(&out),
            "--out",
            s(&f.dir.join(name)),
        ])
    };
    let o = report("unit-r1");
    assert_eq!(code(&o), 0, "{:?}", text(&o));
    // An earlier run's file put back: refused, naming it.
    std::fs::copy(&stale, out.join("cert_assessment.parquet")).unwrap();
    let o = report("unit-r2");
    let (_, err) = text(&o);
    assert_eq!(code(&o), 2, "{err}");
    assert!(err.contains("cert_assessment.parquet"), "{err}");
    std::fs::remove_file(out.join("cert_assessment.parquet")).unwrap();
    // A file named by the manifest missing: refused.
    std::fs::rename(
        out.join("ledger_balances.parquet"),
        f.dir.join("unit-lb.parquet"),
    )
    .unwrap();
    let o = report("unit-r3");
    let (_, err) = text(&o);
    assert_eq!(code(&o), 2, "{err}");
    assert!(err.contains("ledger_balances.parquet"), "{err}");
    std::fs::rename(
        f.dir.join("unit-lb.parquet"),
        out.join("ledger_balances.parquet"),
    )
    .unwrap();
    // No manifest (interrupted audit, older version): refused by the CLI.
    std::fs::remove_file(out.join("audit_manifest.json")).unwrap();
    let o = report("unit-r4");
    let (_, err) = text(&o);
    assert_eq!(code(&o), 2, "{err}");
    assert!(err.contains("audit_manifest.json"), "{err}");
}

#[test]
fn options_are_validated_before_any_work() {
    let f = fixture();
    let out = f.dir.join("opt-out");
    // audit's and report's options (report's --memory-mb shares audit's meaning).
    for (cmd, bad) in [
        ("audit", vec!["--fail-on", "severe"]),
        ("audit", vec!["--check", "tmep"]),
        ("audit", vec!["--as-of", "2022-13-45"]),
        ("audit", vec!["--expiring-days", "-5"]),
        ("report", vec!["--as-of", "yesterday"]),
        ("report", vec!["--memory-mb", "0"]),
    ] {
        let mut args = vec![cmd, "--dataset", s(&f.ds), "--out", s(&out)];
        args.extend(&bad);
        let o = run(&args);
        let (_, err) = text(&o);
        assert_eq!(code(&o), 2, "{bad:?}: {err}");
        assert!(err.contains(bad[1]), "{bad:?} named: {err}");
        assert!(!out.exists(), "{bad:?}: work was done before rejecting it");
    }
    // Valid values of --fail-on are listed.
    let o = run(&["audit", "--dataset", s(&f.ds), "--fail-on", "severe"]);
    assert!(text(&o).1.contains("critical, high, medium, low, info"));
    let g = f.dir.join("opt-gen");
    for bad in [vec!["--format", "xlsx"], vec!["--inject", "expired,bogus"]] {
        let mut args = vec!["generate", "--out", s(&g), "--partidas", "50"];
        args.extend(&bad);
        let o = run(&args);
        assert_eq!(code(&o), 2, "{bad:?}: {:?}", text(&o));
        assert!(!g.exists(), "{bad:?}: generated before rejecting it");
    }
}

#[test]
fn fail_on_says_which_findings_and_empty_period_is_an_error() {
    let f = fixture();
    let out = f.dir.join("fail-out");
    let o = run(&[
        "audit",
        "--dataset",
        s(&f.ds),
        "--out",
        s(&out),
        "--check",
        "temp",
        "--fail-on",
        "high",
    ]);
    let (_, err) = text(&o);
    assert_eq!(code(&o), 1, "{err}");
    let rows = parquet_rows(&out.join("findings.parquet"));
    let expired = rows
        .iter()
        .filter(|r| r["check_code"] == "TEMP-EXPIRED" && r["severity"] == "high")
        .count();
    assert!(expired > 0);
    assert!(err.contains("--fail-on high"), "{err}");
    assert!(
        err.contains(&format!("TEMP-EXPIRED high: {expired}")),
        "count by code and severity: {err}"
    );
    assert!(err.contains("ejemplos:"), "{err}");
    // A year without data for the company: an error, not an empty report.
    let rfc = &f.rfcs[0];
    let r = f.dir.join("fail-reports");
    let o = run(&[
        "report",
        "--dataset",
        s(&f.ds),
        "--audit",
        s(&out),
        "--out",
        s(&r),
        "--company",
        rfc,
        "--year",
        "2019",
    ]);
    let (_, err) = text(&o);
    assert_eq!(code(&o), 2, "{err}");
    assert!(err.contains("no data") && err.contains("2020"), "{err}");
    assert!(!r.join(rfc).join("2019").exists());
    let o = run(&[
        "report",
        "--dataset",
        s(&f.ds),
        "--audit",
        s(&out),
        "--out",
        s(&r),
        "--from",
        "2015",
        "--to",
        "2016",
    ]);
    assert_eq!(code(&o), 2, "{:?}", text(&o));
}

#[test]
fn closed_stdout_pipe_does_not_panic() {
    let (reader, writer) = std::io::pipe().unwrap();
    drop(reader); // every write to stdout now fails with EPIPE
    let o = Command::new(bin())
        .args(["explain", "TEMP-EXPIRED"])
        .stdout(writer)
        .stderr(std::process::Stdio::piped())
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(!err.contains("panic"), "{err}");
    assert!(
        !matches!(o.status.code(), Some(2) | Some(101)),
        "{:?}",
        o.status
    );
}

#[test]
fn summary_table_keeps_text_as_text() {
    let f = fixture();
    let rfc = &f.rfcs[0];
    // One check and one company: a one-row summary table.
    let o = run(&[
        "audit",
        "--dataset",
        s(&f.ds),
        "--out",
        s(&f.dir.join("sum-out")),
        "--check",
        "TEMP-EXPIRED",
        "--company",
        rfc,
    ]);
    let (out, err) = text(&o);
    assert!(matches!(code(&o), 0 | 1), "{err}");
    let row = out
        .lines()
        .find(|l| l.contains("TEMP-EXPIRED"))
        .unwrap_or_else(|| panic!("no summary row: {out}"));
    // One table per company, under a line naming it.
    assert!(out.contains(&format!(": {rfc}\n")), "{out}");
    assert!(row.starts_with("| TEMP-EXPIRED "), "{row}");
    assert!(!row.contains("T,EMP"), "{row}");
}

/// `ingest --csv-multiline` accepts a quoted field with a line break (RFC 4180); without it
/// both physical lines of that record are rejected (an unclosed quote must not swallow
/// lines silently).
#[test]
fn csv_multiline_is_an_ingest_option() {
    let tmp = tempfile::tempdir().unwrap();
    let csv = tmp.path().join("multi.csv");
    std::fs::write(
        &csv,
        "pedimento,tipo_operacion,clave,rfc,nombre,fecha_pago,partida,fraccion,umt,cantidad_umt,valor_aduana,valor_comercial,valor_dolares\n\
         2024-240-3000-6000001,1,IN,AAA010101AA1,\"ACME\nSA\",2024-01-10,1,39011001,1,100,1000.00,1000.00,50.00\n",
    )
    .unwrap();
    let rows = |flag: bool| {
        let ds = tmp.path().join(if flag { "ds-multi" } else { "ds" });
        let mut args = vec!["ingest", s(&csv), "--dataset", s(&ds)];
        if flag {
            args.push("--csv-multiline");
        }
        let o = run(&args);
        assert!(o.status.success(), "{:?}", text(&o));
        std::fs::read_dir(&ds)
            .unwrap()
            .flatten()
            .filter(|e| e.file_name().to_string_lossy().starts_with("year="))
            .count()
    };
    assert_eq!(
        rows(false),
        0,
        "the multi-line record is rejected by default"
    );
    assert_eq!(rows(true), 1, "accepted with --csv-multiline");
}
