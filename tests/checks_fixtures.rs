//! The per-check fixture harness: every folder `fixtures/<NAME>/` with a `fixture.json` is
//! one case. The test ingests the case's inputs into a fresh dataset, runs the audit
//! (`audit::run`, the orchestration the CLI uses) with the case's options and snapshots the
//! findings with `insta` into `fixtures/<NAME>/findings.snap` (committed).
//!
//! `fixture.json` (paths relative to the folder; every key but `inputs` and `as_of` is
//! optional):
//!
//! ```json
//! {
//!   "inputs": ["input.csv"],          // Data Stage files/folders or documented CSV, one ingest run
//!   "profiles": "profiles",           // company profile folder (src/profile.rs)
//!   "as_of": "2024-06-30",            // evaluation date
//!   "checks": ["virtual"],            // codes or groups; default: the folder name (a code)
//!   "expiring_days": 60,              // TEMP-EXPIRING window
//!   "cert_rule_version": "RCGMCE2013",// force a certification rule version
//!   "tables": {"virtual_pairs.parquet": ["sender_id", "receiver_id"]}
//!                                     // persisted audit tables to snapshot (columns)
//! }
//! ```
//!
//! A case may also hold `expected.csv` (hand-written: the header is [`KEY`], one line per
//! finding in report order); the findings must equal it exactly.
//!
//! Rules the harness enforces:
//! - every code of the check registry has a folder named by the code whose findings include
//!   at least one of that code (so a new check without a fixture fails this test);
//! - a folder named by a code reads that check by default; other folders (variants such as
//!   `VIRTUAL-CLEAN`) name their checks;
//! - every folder under `fixtures/` is a case, except the shared inputs other tests read
//!   ([`SHARED_INPUTS`]); cases may point to those inputs instead of copying them.
//!
//! After an intended change: `INSTA_UPDATE=always cargo test --test checks_fixtures` (or
//! `cargo insta review`), then review the `.snap` diff.

mod common;

use common::*;
use pedaudit::audit::{self, AuditConfig};
use pedaudit::checks::{self, AuditOptions, Batching};
use polars::prelude::*;
use std::collections::BTreeMap;
use std::path::PathBuf;

/// Folders under `fixtures/` that hold inputs for other tests (and for cases that point to
/// them), not harness cases. `VIRTUAL-QTY` is the input of the `VIRTUAL-MISMATCH` case,
/// kept at its path because tests/report_defects.rs reads it.
const SHARED_INPUTS: [&str; 5] = [
    "datastage",
    "ledger",
    "ledger_rules",
    "VIRTUAL-QTY",
    "validation-year",
];

/// The columns of `expected.csv`.
const KEY: [&str; 8] = [
    "check_code",
    "severity",
    "rfc",
    "pedimento_id",
    "related_pedimento_id",
    "fraccion",
    "quantity",
    "amount",
];

#[derive(serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct Fixture {
    inputs: Vec<String>,
    #[serde(default)]
    profiles: Option<String>,
    as_of: String,
    #[serde(default)]
    checks: Vec<String>,
    #[serde(default)]
    expiring_days: Option<i64>,
    #[serde(default)]
    cert_rule_version: Option<String>,
    #[serde(default)]
    tables: BTreeMap<String, Vec<String>>,
}

struct Case {
    name: String,
    dir: PathBuf,
    fixture: Fixture,
}

fn fixtures_dir() -> PathBuf {
    root().join("fixtures")
}

/// Every case folder, sorted by name.
fn cases() -> Vec<Case> {
    let mut out = vec![];
    let mut missing = vec![];
    for e in std::fs::read_dir(fixtures_dir()).unwrap().flatten() {
        let name = e.file_name().to_string_lossy().to_string();
        if !e.path().is_dir() || SHARED_INPUTS.contains(&name.as_str()) {
            continue;
        }
        let f = e.path().join("fixture.json");
        let Ok(text) = std::fs::read_to_string(&f) else {
            missing.push(name);
            continue;
        };
        let fixture: Fixture =
            serde_json::from_str(&text).unwrap_or_else(|err| panic!("{}: {err}", f.display()));
        out.push(Case {
            name,
            dir: e.path(),
            fixture,
        });
    }
    assert!(
        missing.is_empty(),
        "fixture folders without fixture.json: {missing:?}"
    );
    out.sort_by(|a, b| a.name.cmp(&b.name));
    out
}

impl Case {
    fn path(&self, rel: &str) -> PathBuf {
        let p = self.dir.join(rel);
        assert!(p.exists(), "{}: {} does not exist", self.name, p.display());
        p
    }

    fn check_names(&self) -> Vec<String> {
        if !self.fixture.checks.is_empty() {
            return self.fixture.checks.clone();
        }
        assert!(
            checks::find(&self.name).is_some(),
            "{}: not a check code, so fixture.json must name its \"checks\"",
            self.name
        );
        vec![self.name.clone()]
    }

    fn options(&self) -> AuditOptions {
        let f = &self.fixture;
        let mut o = AuditOptions {
            as_of: Some(
                f.as_of
                    .parse()
                    .unwrap_or_else(|e| panic!("{}: as_of {:?}: {e}", self.name, f.as_of)),
            ),
            profiles: f.profiles.as_deref().map(|p| self.path(p)),
            ..Default::default()
        };
        if let Some(d) = f.expiring_days {
            o.expiring_days = d;
        }
        if let Some(v) = &f.cert_rule_version {
            let rv = checks::cert_rules::by_id(v)
                .unwrap_or_else(|| panic!("{}: unknown cert_rule_version {v}", self.name));
            o.cert.rule_version = Some(rv.id);
        }
        o
    }
}

/// One case's outputs: the findings and the requested persisted tables, as text.
struct Outcome {
    findings: DataFrame,
    snapshot: String,
}

/// Ingests the case's inputs, runs the audit and renders the snapshot text.
fn run_case(case: &Case) -> Outcome {
    let tmp = tempfile::tempdir().unwrap();
    let ds = tmp.path().join("dataset");
    let inputs: Vec<PathBuf> = case.fixture.inputs.iter().map(|i| case.path(i)).collect();
    let r = pedaudit::ingest::run(&inputs, &ds, &Default::default())
        .unwrap_or_else(|e| panic!("{}: ingest: {e}", case.name));
    assert_accounting(&r);
    let sel = checks::select(&case.check_names()).unwrap();
    let cfg = AuditConfig {
        dataset: ds,
        out: tmp.path().join("out"),
        options: case.options(),
        checks: sel,
        batching: Batching::Whole,
        tool: "checks_fixtures".into(),
    };
    let out = audit::run(&cfg).unwrap_or_else(|e| panic!("{}: audit: {e}", case.name));
    let mut snap = format!(
        "inputs: {:?}; rejected rows: {}; checks: {:?}; as_of: {}\n-- findings ({})\n",
        case.fixture.inputs,
        r.rejected,
        case.check_names(),
        out.as_of,
        out.findings.height()
    );
    snap.push_str(&render(&out.findings));
    for (file, cols) in &case.fixture.tables {
        let df = audit::read_table(&cfg.out.join(file))
            .unwrap_or_else(|e| panic!("{}: table {file}: {e}", case.name));
        let mut lines: Vec<String> =
            table(&df, &cols.iter().map(String::as_str).collect::<Vec<_>>())
                .into_iter()
                .map(|r| r.join(" | "))
                .collect();
        lines.sort();
        snap.push_str(&format!("-- {file} ({})\n", cols.join(" | ")));
        for l in lines {
            snap.push_str(&l);
            snap.push('\n');
        }
    }
    Outcome {
        findings: out.findings,
        snapshot: snap,
    }
}

fn expected(case: &Case) -> Option<Vec<String>> {
    let text = std::fs::read_to_string(case.dir.join("expected.csv")).ok()?;
    let mut lines = text.lines();
    assert_eq!(
        lines.next().unwrap_or_default(),
        KEY.join(","),
        "{}: expected.csv header",
        case.name
    );
    Some(lines.map(str::to_string).collect())
}

fn snapshot_settings(case: &Case) -> insta::Settings {
    let mut s = insta::Settings::clone_current();
    s.set_snapshot_path(&case.dir);
    s.set_prepend_module_to_snapshot(false);
    s.set_omit_expression(true);
    s.set_input_file(case.dir.join("fixture.json"));
    s
}

#[test]
fn every_fixture_folder_matches_its_snapshot_and_every_check_has_one() {
    let cases = cases();
    // Cases are independent: run them on the machine's threads, compare after.
    let outcomes: Vec<Outcome> = std::thread::scope(|s| {
        let chunks: Vec<&[Case]> = cases.chunks(cases.len().div_ceil(2).max(1)).collect();
        let handles: Vec<_> = chunks
            .into_iter()
            .map(|c| s.spawn(move || c.iter().map(run_case).collect::<Vec<_>>()))
            .collect();
        handles
            .into_iter()
            .flat_map(|h| h.join().unwrap())
            .collect()
    });
    let mut failures = vec![];
    for (case, out) in cases.iter().zip(&outcomes) {
        if let Some(want) = expected(case) {
            let got: Vec<String> = table(&out.findings, &KEY)
                .into_iter()
                .map(|r| r.join(","))
                .collect();
            if got != want {
                failures.push(format!(
                    "{}: findings differ from expected.csv:\n  got:\n    {}\n  want:\n    {}",
                    case.name,
                    got.join("\n    "),
                    want.join("\n    ")
                ));
            }
        }
        if checks::find(&case.name).is_some() {
            let codes = out.findings.column("check_code").unwrap().str().unwrap();
            if !codes.iter().any(|c| c == Some(case.name.as_str())) {
                failures.push(format!(
                    "{}: the fixture of a check must produce at least one finding of it",
                    case.name
                ));
            }
        }
    }
    // Every registry code has its folder.
    let names: Vec<&str> = cases.iter().map(|c| c.name.as_str()).collect();
    for c in checks::REGISTRY {
        if !names.contains(&c.code) {
            failures.push(format!(
                "{}: no fixtures/{}/fixture.json (every check has a fixture folder)",
                c.code, c.code
            ));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
    for (case, out) in cases.iter().zip(&outcomes) {
        snapshot_settings(case).bind(|| {
            // Messages name input files by their path: the checkout's root is not part of
            // the expected text (CI clones elsewhere).
            let text = out
                .snapshot
                .replace(concat!(env!("CARGO_MANIFEST_DIR"), "/"), "<repo>/");
            insta::assert_snapshot!("findings", text);
        });
    }
}
