//! The audit plans its company batches from the memory budget (`audit --memory-mb`): a
//! small budget gives more batches, each within the budget, and the same findings as one
//! batch.

use pedaudit::checks::{self, AuditContext, AuditOptions, Batching, CheckDef, Pass};
use pedaudit::generate::{self, Config, Violation};
use polars::prelude::*;

fn render(df: &DataFrame) -> String {
    let mut s = String::new();
    for i in 0..df.height() {
        let row: Vec<String> = df
            .columns()
            .iter()
            .map(|c| format!("{}", c.get(i).unwrap()))
            .collect();
        s.push_str(&row.join("|"));
        s.push('\n');
    }
    s
}

#[test]
fn batches_are_planned_from_the_memory_budget() {
    let dir = tempfile::tempdir().unwrap();
    let cfg = Config {
        seed: 11,
        companies: 5,
        years: 2,
        partidas: 3000,
        inject: Violation::ALL.to_vec(),
        ..Default::default()
    };
    let h = generate::generate(&cfg);
    let ds = dir.path().join("ds");
    generate::writers::write_dataset(&h, &ds).unwrap();
    generate::writers::write_profiles(&h, &dir.path().join("profiles")).unwrap();
    let opts = AuditOptions {
        profiles: Some(dir.path().join("profiles")),
        ..Default::default()
    };

    // Rows per company = its pedimentos + their partidas, as the dataset holds them.
    let rows = checks::company_rows(&ds).unwrap();
    assert_eq!(rows.len(), 5);
    let peds: usize = h.years.values().map(|y| y.pedimentos.len()).sum();
    let parts: usize = h.years.values().map(|y| y.partidas.len()).sum();
    let total: u64 = rows.iter().map(|r| r.1).sum();
    assert_eq!(total as usize, peds + parts);

    // A budget holding about two companies' rows beyond the reserve.
    let biggest = rows.iter().map(|r| r.1).max().unwrap();
    let want_rows = biggest * 2 + 1;
    let small_mb = pedaudit::memory::AUDIT_RESERVE_MB
        + (want_rows * pedaudit::memory::AUDIT_BYTES_PER_ROW).div_ceil(1 << 20);
    let cap = pedaudit::memory::audit_rows_per_batch(small_mb);
    assert!(
        cap >= biggest * 2 && cap < total,
        "cap {cap}, total {total}"
    );
    let planned = checks::plan_batches(&ds, small_mb).unwrap();
    assert!(
        planned.len() > 1 && planned.len() < rows.len(),
        "{planned:?}"
    );
    for b in &planned {
        let n: u64 = rows.iter().filter(|r| b.contains(&r.0)).map(|r| r.1).sum();
        assert!(n <= cap, "batch {b:?} holds {n} rows > {cap}");
    }
    // Every company once, in RFC order.
    let flat: Vec<String> = planned.concat();
    let rfcs: Vec<String> = rows.iter().map(|r| r.0.clone()).collect();
    assert_eq!(flat, rfcs);
    // A budget holding everything: one batch.
    let big_mb = pedaudit::memory::AUDIT_RESERVE_MB
        + (total * pedaudit::memory::AUDIT_BYTES_PER_ROW).div_ceil(1 << 20);
    assert_eq!(checks::plan_batches(&ds, big_mb).unwrap().len(), 1);
    // A budget below the reserve: one company per batch.
    assert_eq!(checks::plan_batches(&ds, 1).unwrap().len(), rows.len());

    let all: Vec<&'static CheckDef> = checks::REGISTRY.iter().collect();
    let mut contexts = vec![];
    let mut each = |ctx: &AuditContext, p: Pass| {
        contexts.push((p, ctx.scope.clone()));
        Ok(())
    };
    let small =
        checks::run_with(&ds, &opts, &all, Batching::MemoryMb(small_mb), &mut each).unwrap();
    assert_eq!(small.batches, planned.len());
    let scopes: Vec<Vec<String>> = contexts
        .iter()
        .filter(|c| c.0 == Pass::Companies)
        .map(|c| c.1.clone().unwrap())
        .collect();
    assert_eq!(scopes, planned, "each batch audited as planned");
    assert_eq!(
        contexts
            .iter()
            .filter(|c| c.0 == Pass::CrossCompany)
            .count(),
        1
    );

    let mut nothing = |_: &AuditContext, _: Pass| Ok(());
    let one = checks::run_with(&ds, &opts, &all, Batching::MemoryMb(big_mb), &mut nothing).unwrap();
    assert_eq!(one.batches, 1);
    assert_eq!(one.as_of, small.as_of);
    assert!(one.findings.height() >= 15, "{}", one.findings.height());
    // The cross-company pass of the batched run pairs the virtual pedimentos the batches
    // collected (no dataset scan): the same virtual findings as the one-batch run.
    let codes = one.findings.column("check_code").unwrap().str().unwrap();
    assert!(
        codes.iter().flatten().any(|c| c.starts_with("VIRTUAL-")),
        "the generated history has virtual findings"
    );
    assert_eq!(render(&one.findings), render(&small.findings));
}

/// `pack_batches` never splits a company, keeps RFC order and starts a batch when the
/// next company would not fit.
#[test]
fn packing_by_rows() {
    let rows: Vec<(String, u64)> = [("A", 40), ("B", 50), ("C", 200), ("D", 10), ("E", 90)]
        .iter()
        .map(|(r, n)| (r.to_string(), *n))
        .collect();
    let b = checks::pack_batches(&rows, 100);
    assert_eq!(
        b,
        vec![vec!["A", "B"], vec!["C"], vec!["D", "E"]]
            .into_iter()
            .map(|v| v.into_iter().map(String::from).collect::<Vec<_>>())
            .collect::<Vec<_>>()
    );
    assert_eq!(checks::pack_batches(&rows, 1000).len(), 1);
    assert_eq!(checks::pack_batches(&rows, 1).len(), 5);
}

/// The cross-company pass of a batched audit plans only the view the pairing reads
/// (planning the ledger views over the virtual pedimentos cost more time and memory than
/// a batch), and the evaluation date comes from the pedimentos alone.
#[test]
fn cross_company_pass_plans_no_ledger_view() {
    let dir = tempfile::tempdir().unwrap();
    let h = generate::generate(&Config {
        seed: 2,
        companies: 3,
        years: 1,
        partidas: 800,
        inject: vec![Violation::VirtualLate],
        ..Default::default()
    });
    let ds = dir.path().join("ds");
    generate::writers::write_dataset(&h, &ds).unwrap();
    let scope = checks::Scope {
        companies: None,
        lazy_views: true,
        virtual_only: true,
        rows: checks::Rows::Dataset,
        dataset_rfcs: None,
    };
    let ctx = AuditContext::open_scoped(&ds, AuditOptions::default(), &scope).unwrap();
    assert!(ctx.tables.contains_key("current_pedimentos"));
    for v in ["ledger_movements", "ledger_allocations", "ledger_balances"] {
        assert!(
            !ctx.tables.contains_key(v),
            "{v} planned in the virtual pass"
        );
    }
    let whole = AuditContext::open(&ds, AuditOptions::default()).unwrap();
    assert_eq!(checks::context::max_fecha_pago(&ds).unwrap(), whole.as_of);
}

/// The batched audit's company partition (checks/partition.rs): every row of the dataset
/// lands in exactly one batch folder, the one of its company (children follow their
/// pedimento), including rows appended as year segments by a second ingest.
#[test]
fn partition_puts_each_row_in_its_company_batch() {
    use pedaudit::checks::partition::{Partition, TABLES};
    let dir = tempfile::tempdir().unwrap();
    let h = generate::generate(&Config {
        seed: 5,
        companies: 4,
        years: 2,
        partidas: 1500,
        inject: Violation::ALL.to_vec(),
        ..Default::default()
    });
    let ds = dir.path().join("ds");
    generate::writers::write_dataset(&h, &ds).unwrap();
    let read = |files: Vec<std::path::PathBuf>| -> DataFrame {
        let mut out: Option<DataFrame> = None;
        for f in files {
            let df = ParquetReader::new(std::fs::File::open(&f).unwrap())
                .finish()
                .unwrap();
            match &mut out {
                Some(o) => {
                    o.vstack_mut(&df).unwrap();
                }
                None => out = Some(df),
            }
        }
        out.unwrap_or_default()
    };
    let batches = checks::company_batches(&ds, 3).unwrap();
    assert_eq!(batches.len(), 2, "{batches:?}");
    let p = Partition::build(&ds, &batches).unwrap();
    assert_eq!(p.len(), 2);
    // The whole dataset, per table, and where each pedimento belongs.
    let peds = read(pedaudit::dataset::dataset_table_files(&ds, "pedimentos"));
    let ids = peds.column("pedimento_id").unwrap().str().unwrap().clone();
    let rfcs = peds.column("rfc").unwrap().str().unwrap().clone();
    let batch_of_rfc = |r: &str| batches.iter().position(|b| b.iter().any(|x| x == r));
    let batch_of_ped: std::collections::HashMap<String, usize> = (0..peds.height())
        .map(|i| {
            let id = ids.get(i).unwrap().to_string();
            (id, batch_of_rfc(rfcs.get(i).unwrap()).unwrap())
        })
        .collect();
    for t in TABLES {
        let whole = read(pedaudit::dataset::dataset_table_files(&ds, t)).height();
        let mut split = 0;
        for b in 0..p.len() {
            let df = read(Partition::files(&p.batch_dir(b), t));
            split += df.height();
            if df.height() == 0 {
                continue;
            }
            if t == "conflicts" {
                let r = df.column("rfc").unwrap().str().unwrap().clone();
                assert!(r.iter().all(|r| batch_of_rfc(r.unwrap()) == Some(b)));
            } else {
                let id = df.column("pedimento_id").unwrap().str().unwrap().clone();
                for v in id.iter() {
                    assert_eq!(batch_of_ped.get(v.unwrap()), Some(&b), "{t} row of {v:?}");
                }
            }
        }
        assert_eq!(split, whole, "{t}: rows split = rows in the dataset");
        let counted = p.rows.iter().find(|(n, _)| *n == t).unwrap().1;
        assert_eq!(counted as usize, whole, "{t}: rows counted");
    }
    assert!(peds.height() > 100);
}

/// A killed batched audit leaves its scratch folder; the next one removes the folders of
/// processes that no longer run, never a running one's.
#[cfg(target_os = "linux")]
#[test]
fn orphan_scratch_folders_are_removed() {
    let tmp = tempfile::tempdir().unwrap();
    // Linux pids stay below 2^22: this one never runs.
    let dead = tmp.path().join("pedaudit-batches-999999999-abc");
    let alive = tmp
        .path()
        .join(format!("pedaudit-batches-{}-abc", std::process::id()));
    let other = tmp.path().join("pedaudit-other-1");
    for d in [&dead, &alive, &other] {
        std::fs::create_dir_all(d.join("b00000")).unwrap();
    }
    pedaudit::checks::partition::remove_orphans(tmp.path());
    assert!(!dead.exists());
    assert!(alive.exists());
    assert!(other.exists());
}
