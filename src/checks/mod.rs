//! The check registry and runner.
//!
//! A check is one entry of [`REGISTRY`]: a stable code, a title, a group, its legal
//! citation, its doc, the Rust shared tables it reads ([`CheckDef::needs`]) and either a
//! SQL file under `queries/` (portable SQL run by polars SQL here and by DuckDB in the
//! cross-engine test) or a Rust plan (`Plan`; the CERT-* plans in `cert/`, the VIRTUAL-*
//! plans in `virtual_pairing/`, which run SQL under `queries/virtual/` over the pairing).
//!
//! Shared computations are named tables in [`shared::TABLES`]: the SQL views under
//! `queries/views/` (materialized once per context in [`VIEWS`] order, so every check reads
//! the same ledger) and Rust tables computed once per context on first use (the
//! certification assessment, the virtual pairing). [`run`] computes the Rust tables the
//! selected checks need before those checks start; [`run_with`] runs checks that read a
//! cross-company table in the cross-company pass of a batched audit. The audit's outputs
//! (findings, persisted tables, manifest) are written by `audit::run` (the layer above).
//!
//! Adding a check: its file(s) (`queries/<CODE>.sql` + `queries/<CODE>.md`, or a plan under
//! `src/checks/`; Spanish texts in `es.rs`), one line in [`REGISTRY`] (naming the shared
//! tables it needs) and one fixture folder `fixtures/<CODE>/` (`fixture.json`: inputs,
//! profiles, as-of date, options; the committed `findings.snap`). tests/checks_fixtures.rs
//! discovers every folder, ingests and audits it and compares the findings with the
//! snapshot; it fails while a registry code has no folder or its folder produces no finding
//! of that code. Then regenerate `docs/checks/` and the README table
//! (tests/docs_registry.rs).

pub mod cert;
pub mod cert_renewal;
pub mod cert_rules;
pub mod context;
pub mod es;
pub mod ledger_native;
pub mod partition;
pub mod plan;
pub mod shared;
pub mod virtual_pairing;

use crate::findings;
pub use context::{AuditContext, AuditOptions, CheckError, Rows, Scope, company_batches};
pub use plan::{company_rows, pack_batches, plan_batches};
use polars::prelude::*;
use rayon::prelude::*;
use std::collections::BTreeMap;

/// How a check is computed.
pub enum CheckKind {
    /// Portable SQL; the text is compiled in from `queries/<file>`.
    Sql {
        file: &'static str,
        text: &'static str,
    },
    /// A polars plan (used where polars SQL lacks a feature; the function says why).
    Plan(fn(&AuditContext) -> Result<DataFrame, CheckError>),
}

pub struct CheckDef {
    pub code: &'static str,
    pub title: &'static str,
    /// Group name for `audit --check` (e.g. `temp`, `cert`, `virtual`).
    pub group: &'static str,
    pub citation: &'static str,
    pub kind: CheckKind,
    /// The Rust shared tables ([`shared::TABLES`]) it reads; the runner computes them
    /// before the check starts.
    pub needs: &'static [&'static str],
    /// Markdown doc: what it checks, why it matters, example, references.
    pub doc: &'static str,
}

macro_rules! sql {
    ($file:literal) => {
        CheckKind::Sql {
            file: $file,
            text: include_str!(concat!("../../queries/", $file)),
        }
    };
}

/// Shared views, materialized in this order before the checks run. Each is registered
/// under its name for the views and checks after it.
pub const VIEWS: &[(&str, &str, &str)] = &[
    (
        "current_pedimentos",
        "views/current_pedimentos.sql",
        include_str!("../../queries/views/current_pedimentos.sql"),
    ),
    (
        "ledger_movements",
        "views/ledger_movements.sql",
        include_str!("../../queries/views/ledger_movements.sql"),
    ),
    (
        "ledger_allocations",
        "views/ledger_allocations.sql",
        include_str!("../../queries/views/ledger_allocations.sql"),
    ),
    (
        "ledger_balances",
        "views/ledger_balances.sql",
        include_str!("../../queries/views/ledger_balances.sql"),
    ),
];

/// Every check, in report order. Codes are never reused.
pub static REGISTRY: &[CheckDef] = &[
    CheckDef {
        code: "TEMP-EXPIRED",
        title: "Temporary import still open after its plazo",
        group: "temp",
        citation: "Ley Aduanera art. 108 fr. I (insumos, 18 months) and fr. III (activo fijo, while the IMMEX program is valid: Manual de Operación Aduanera 2007, apartado D, norma 121ª); plazo counted from the selección automatizada (Ley Aduanera arts. 35 and 43; Manual de Operación Aduanera 2007, apartado D, norma 2ª); RCGMCE 2013 regla 5.2.17 fr. VI",
        kind: sql!("TEMP-EXPIRED.sql"),
        needs: &[],
        doc: include_str!("../../queries/TEMP-EXPIRED.md"),
    },
    CheckDef {
        code: "TEMP-EXPIRING",
        title: "Temporary import whose plazo ends soon",
        group: "temp",
        citation: "Ley Aduanera art. 108 fr. I; plazo counted from the selección automatizada (Manual de Operación Aduanera 2007, apartado D, norma 2ª)",
        kind: sql!("TEMP-EXPIRING.sql"),
        needs: &[],
        doc: include_str!("../../queries/TEMP-EXPIRING.md"),
    },
    CheckDef {
        code: "TEMP-LATE-RETURN",
        title: "Temporary import discharged after its plazo",
        group: "temp",
        citation: "RCGMCE 2013 regla 5.2.17 fr. VI; Ley Aduanera art. 183 fr. II (RCGMCE 2013 regla 2.5.2)",
        kind: sql!("TEMP-LATE-RETURN.sql"),
        needs: &[],
        doc: include_str!("../../queries/TEMP-LATE-RETURN.md"),
    },
    CheckDef {
        code: "TEMP-PLAZO-UNKNOWN",
        title: "Temporary import whose plazo cannot be determined",
        group: "temp",
        citation: "Ley Aduanera arts. 106 and 108 fr. III; activo fijo stays while the IMMEX program is valid (Manual de Operación Aduanera 2007, apartado D, norma 121ª)",
        kind: sql!("TEMP-PLAZO-UNKNOWN.sql"),
        needs: &[],
        doc: include_str!("../../queries/TEMP-PLAZO-UNKNOWN.md"),
    },
    CheckDef {
        code: "DESCARGO-EXCESS",
        title: "Discharge with no open temporary import to discharge",
        group: "temp",
        citation: "Ley Aduanera arts. 108 and 109; discharge per the automated inventory control (Manual de Operación Aduanera 2007, apartado E, norma 23ª)",
        kind: sql!("DESCARGO-EXCESS.sql"),
        needs: &[],
        doc: include_str!("../../queries/DESCARGO-EXCESS.md"),
    },
    CheckDef {
        code: "DESCARGO-NO-BOM",
        title: "Discharge of a fracción never imported and with no bill of materials in force",
        group: "temp",
        citation: "Ley Aduanera arts. 108 and 109; insumos discharged per the bill of materials of the returned goods (Anexo 24; Manual de operación aduanera 2007, IMMEX, norma vigesimatercera)",
        kind: sql!("DESCARGO-NO-BOM.sql"),
        needs: &[],
        doc: include_str!("../../queries/DESCARGO-NO-BOM.md"),
    },
    CheckDef {
        code: "DESCARGO-UNIT",
        title: "Discharge declared in a different tariff unit than the import",
        group: "temp",
        citation: "Anexo 22 (RGCE 2017), campo UMT and Apéndice 7; quantities are discharged in the tariff unit of the import",
        kind: sql!("DESCARGO-UNIT.sql"),
        needs: &[],
        doc: include_str!("../../queries/DESCARGO-UNIT.md"),
    },
    CheckDef {
        code: "SALDO-DIFF",
        title: "Import lot whose saldo in the company's Anexo 24 report differs from the ledger",
        group: "temp",
        citation: "Ley Aduanera art. 59 fr. I and Anexo 24 (automated inventory control: descargos and saldos); RCGMCE 2013 regla 5.2.14 fr. VII",
        kind: sql!("SALDO-DIFF.sql"),
        needs: &[],
        doc: include_str!("../../queries/SALDO-DIFF.md"),
    },
    CheckDef {
        code: "DATA-CONFLICT",
        title: "Same pedimento received twice with different content",
        group: "data",
        citation: "Ley Aduanera art. 89 (rectificación de pedimentos): a pedimento changes only by rectificación",
        kind: sql!("DATA-CONFLICT.sql"),
        needs: &[],
        doc: include_str!("../../queries/DATA-CONFLICT.md"),
    },
    CheckDef {
        code: "CERT-RATIO",
        title: "IVA/IEPS certification: 12-month return ratio below 60% (80% sensitive sectors)",
        group: "cert",
        citation: "The rule in force on the as-of date (docs/rules.md): RCGMCE 2013 regla 5.2.13, apartado B, fr. I, inciso d) (60%) and its first-year exemption, sensitive sectors (Anexo I TER del Decreto IMMEX) inciso b) (80%); RGCE regla 7.1.2 (rubro A, programa IMMEX) from 2017",
        kind: CheckKind::Plan(cert::plan_ratio),
        needs: &[cert::SHARED_AS_OF],
        doc: include_str!("../../queries/cert/CERT-RATIO.md"),
    },
    CheckDef {
        code: "CERT-A",
        title: "IVA/IEPS certification modality A: requirement failed or unverifiable",
        group: "cert",
        citation: "The rule in force on the as-of date (docs/rules.md): RCGMCE 2013 regla 5.2.13, apartados A and B; RGCE reglas 7.1.1 and 7.1.2 (rubro A) from 2017",
        kind: CheckKind::Plan(cert::plan_a),
        needs: &[cert::SHARED_AS_OF],
        doc: include_str!("../../queries/cert/CERT-ASSESS.md"),
    },
    CheckDef {
        code: "CERT-AA",
        title: "IVA/IEPS certification modality AA: requirement failed or unverifiable",
        group: "cert",
        citation: "The rule in force on the as-of date (docs/rules.md): RCGMCE 2013 regla 5.2.13, apartado C, fr. I (and its paragraph on créditos fiscales under convenio); RGCE regla 7.1.3, fr. I from 2017",
        kind: CheckKind::Plan(cert::plan_aa),
        needs: &[cert::SHARED_AS_OF],
        doc: include_str!("../../queries/cert/CERT-ASSESS.md"),
    },
    CheckDef {
        code: "CERT-AAA",
        title: "IVA/IEPS certification modality AAA: requirement failed or unverifiable",
        group: "cert",
        citation: "The rule in force on the as-of date (docs/rules.md): RCGMCE 2013 regla 5.2.13, apartado C, fr. II (and its paragraph on créditos fiscales under convenio); RGCE regla 7.1.3, fr. II from 2017",
        kind: CheckKind::Plan(cert::plan_aaa),
        needs: &[cert::SHARED_AS_OF],
        doc: include_str!("../../queries/cert/CERT-ASSESS.md"),
    },
    CheckDef {
        code: "CERT-RENEWAL",
        title: "IVA/IEPS certification: renewal notice due or registration expired",
        group: "cert",
        citation: "RGCE regla 7.1.6 (vigencia) y regla 7.2.3 (aviso único de renovación); RCGMCE 2013 regla 5.2.14",
        kind: CheckKind::Plan(cert_renewal::plan),
        needs: &[],
        doc: include_str!("../../queries/cert/CERT-RENEWAL.md"),
    },
    CheckDef {
        code: "VIRTUAL-UNPAIRED",
        title: "Virtual operation with one side missing from the dataset",
        group: "virtual",
        citation: "Two pedimentos per virtual operation, the import side in the receiving company's name (Manual de Operación Aduanera 2007, apartado A.7, normas 123ª and 126ª; RCGMCE 2007 numbering); Anexo 22 (RGCE 2017), Apéndice 2, claves V1-V9",
        kind: CheckKind::Plan(virtual_pairing::unpaired),
        needs: &[virtual_pairing::SHARED],
        doc: include_str!("../../queries/virtual/VIRTUAL-UNPAIRED.md"),
    },
    CheckDef {
        code: "VIRTUAL-MISMATCH",
        title: "Virtual operation whose two sides disagree (goods, value, reference, RFC)",
        group: "virtual",
        citation: "No discrepancy in quantity and description between the pedimentos of a virtual operation (Manual de Operación Aduanera 2007, apartado A.7, norma 130ª)",
        kind: CheckKind::Plan(virtual_pairing::mismatch),
        needs: &[virtual_pairing::SHARED],
        doc: include_str!("../../queries/virtual/VIRTUAL-MISMATCH.md"),
    },
    CheckDef {
        code: "VIRTUAL-LATE",
        title: "Virtual operation presented outside its case's window",
        group: "virtual",
        citation: "Presentation dates of virtual operations (Manual de Operación Aduanera 2007, apartado A.7, norma 123ª num. 2 and 4; RCGMCE 2007 numbering); V5 on the same date (Manual de Operación Aduanera 2007, apartado E, norma 27ª)",
        kind: CheckKind::Plan(virtual_pairing::late),
        needs: &[virtual_pairing::SHARED],
        doc: include_str!("../../queries/virtual/VIRTUAL-LATE.md"),
    },
    CheckDef {
        code: "VIRTUAL-CLAVE",
        title: "Virtual pair whose claves or tipos de operación no case covers",
        group: "virtual",
        citation: "Anexo 22 (RGCE 2017), Apéndice 2, claves V1-V9; an export side and an import side per virtual operation (Manual de Operación Aduanera 2007, apartado A.7, norma 123ª)",
        kind: CheckKind::Plan(virtual_pairing::clave),
        needs: &[virtual_pairing::SHARED],
        doc: include_str!("../../queries/virtual/VIRTUAL-CLAVE.md"),
    },
];

pub fn find(code: &str) -> Option<&'static CheckDef> {
    REGISTRY.iter().find(|c| c.code.eq_ignore_ascii_case(code))
}

/// Selects checks by code or group; `None` = all. Unknown names list the valid ones.
pub fn select(names: &[String]) -> Result<Vec<&'static CheckDef>, CheckError> {
    if names.is_empty() {
        return Ok(REGISTRY.iter().collect());
    }
    let mut out = vec![];
    for n in names {
        let matched: Vec<&CheckDef> = REGISTRY
            .iter()
            .filter(|c| c.code.eq_ignore_ascii_case(n) || c.group.eq_ignore_ascii_case(n))
            .collect();
        if matched.is_empty() {
            let mut valid: Vec<&str> = REGISTRY.iter().map(|c| c.code).collect();
            let mut groups: Vec<&str> = REGISTRY.iter().map(|c| c.group).collect();
            groups.dedup();
            valid.extend(groups);
            return Err(CheckError::Unknown(n.clone(), valid.join(", ")));
        }
        for m in matched {
            if !out.iter().any(|x: &&CheckDef| x.code == m.code) {
                out.push(m);
            }
        }
    }
    Ok(out)
}

/// Runs one check and conforms its output to the findings schema.
pub fn run_one(ctx: &AuditContext, c: &CheckDef) -> Result<DataFrame, CheckError> {
    let _t = crate::timing::Timer::new(c.code);
    let (df, src) = match &c.kind {
        CheckKind::Sql { file, text } => (ctx.sql(text, file)?, format!("queries/{file}")),
        CheckKind::Plan(f) => (f(ctx)?, format!("src/checks ({})", c.code)),
    };
    let df = findings::conform(df, &src)?;
    Ok(ctx.filter_company(df)?)
}

/// Runs the checks in parallel (rayon; polars parallelizes inside each) and returns all
/// findings, sorted. The shared tables the checks need ([`CheckDef::needs`]) are computed
/// first, beside the checks that need none; the checks that need them run after.
pub fn run(ctx: &AuditContext, checks: &[&CheckDef]) -> Result<DataFrame, CheckError> {
    let (dependent, plain): (Vec<&CheckDef>, Vec<&CheckDef>) =
        checks.iter().copied().partition(|c| !c.needs.is_empty());
    let tables = shared::needed(&dependent);
    let (ready, mut results): (Result<(), CheckError>, Vec<Result<DataFrame, CheckError>>) =
        rayon::join(
            || {
                tables
                    .iter()
                    .try_for_each(|t| ctx.shared_value(t.name).map(|_| ()))
            },
            || plain.par_iter().map(|c| run_counted(ctx, c)).collect(),
        );
    ready?;
    results.extend(
        dependent
            .par_iter()
            .map(|c| run_counted(ctx, c))
            .collect::<Vec<_>>(),
    );
    let mut all = findings::empty();
    for r in results {
        all.vstack_mut(&r?)?;
    }
    Ok(findings::sort(all)?)
}

/// [`run_one`], then one step of the context's progress.
fn run_counted(ctx: &AuditContext, c: &CheckDef) -> Result<DataFrame, CheckError> {
    let r = run_one(ctx, c);
    ctx.opts.progress.advance(1);
    r
}

/// Result of [`run_batched`].
pub struct AuditRun {
    pub as_of: chrono::NaiveDate,
    pub findings: DataFrame,
    pub batches: usize,
    /// Every company of the dataset, sorted, when the run planned company batches (the
    /// plan listed them); None for a run in one pass.
    pub companies: Option<Vec<String>>,
}

/// Which pass a context passed to the `each` callback of [`run_batched`] belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Pass {
    /// Everything at once (no batching).
    Whole,
    /// One batch of companies, once it is open: its views are final (the ledger), and the
    /// callback runs while the batch's checks run (on another thread).
    CompaniesOpen,
    /// One batch of companies, after its checks (ledger, cert and data checks): the Rust
    /// tables they computed.
    Companies,
    /// The cross-company pass (virtual pairing), with lazy views.
    CrossCompany,
}

/// How the audit splits the dataset into company batches.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Batching {
    /// Everything at once.
    Whole,
    /// N companies per batch (`audit --batch-companies N`).
    Companies(usize),
    /// Batches planned so that each fits a memory budget in MiB (`audit --memory-mb`):
    /// companies grouped by their row counts ([`plan::plan_batches`]); one batch when
    /// everything fits.
    MemoryMb(u64),
}

impl Batching {
    /// The company batches of this plan for the dataset at `root` (None = everything at
    /// once, in one context).
    pub fn plan(&self, root: &std::path::Path) -> Result<Option<Vec<Vec<String>>>, CheckError> {
        match *self {
            Batching::Whole | Batching::Companies(0) => Ok(None),
            Batching::Companies(n) => Ok(Some(company_batches(root, n)?)),
            Batching::MemoryMb(mb) => {
                let batches = plan::plan_batches(root, mb)?;
                Ok((batches.len() > 1).then_some(batches))
            }
        }
    }
}

/// The callback of [`run_with`]: sees each context of the run once per [`Pass`] (a batch
/// twice: [`Pass::CompaniesOpen`] on another thread while its checks run, then
/// [`Pass::Companies`]).
pub type Each<'a> = dyn FnMut(&AuditContext, Pass) -> Result<(), CheckError> + Send + 'a;

/// Runs `checks` over the dataset, in batches of `batch` companies when `batch > 0` (see
/// [`run_with`]).
pub fn run_batched(
    root: &std::path::Path,
    opts: &AuditOptions,
    checks: &[&'static CheckDef],
    batch: usize,
    each: &mut Each,
) -> Result<AuditRun, CheckError> {
    run_with(root, opts, checks, Batching::Companies(batch), each)
}

/// Runs `checks` over the dataset, in company batches planned by `batching`, to bound
/// memory on large datasets: the ledger, the certification and the data checks are per
/// company, so batching gives the same findings. The virtual-pairing checks pair across
/// companies and run once more over the virtual pedimentos of the whole dataset with lazy
/// views. `each` sees every context (to write per-batch tables; it should not keep them,
/// or memory grows with the number of batches).
pub fn run_with(
    root: &std::path::Path,
    opts: &AuditOptions,
    checks: &[&'static CheckDef],
    batching: Batching,
    each: &mut Each,
) -> Result<AuditRun, CheckError> {
    use crate::model::progress::{Stage, Unit};
    let pg = opts.progress.clone();
    let Some(batches) = batching.plan(root)? else {
        pg.begin(Stage::Audit, checks.len() as u64, Unit::Checks);
        let ctx = AuditContext::open(root, opts.clone())?;
        let findings = run(&ctx, checks)?;
        each(&ctx, Pass::Whole)?;
        pg.end();
        return Ok(AuditRun {
            as_of: ctx.as_of,
            findings,
            batches: 1,
            companies: None,
        });
    };
    let mut opts = opts.clone();
    if opts.as_of.is_none() {
        // Fix the evaluation date once, from the whole dataset, for every batch (from
        // the pedimentos: a whole-dataset context planned its ledger views, which took
        // longer than a batch and peaked above one).
        opts.as_of = Some(context::max_fecha_pago(root)?);
    }
    let (cross, per): (Vec<&CheckDef>, Vec<&CheckDef>) = checks
        .iter()
        .copied()
        .partition(|c| shared::is_cross_company(c));
    let n_batches = if per.is_empty() { 0 } else { batches.len() };
    pg.begin(
        Stage::Audit,
        (n_batches * per.len() + cross.len()) as u64,
        Unit::Checks,
    );
    let mut all = findings::empty();
    // Every company of the dataset (the plan's), for `dataset_rfcs`: the pairing asks
    // whether a counterpart company is present even when it is in another batch.
    let rfcs =
        DataFrame::new_infer_height(vec![Series::new("rfc".into(), batches.concat()).into()])?;
    // The virtual pedimentos and their rows, collected from the batches for the
    // cross-company pass (a few per thousand rows): that pass then reads no dataset file.
    // Scanning the whole dataset for them instead peaked at 4 GB at 100 M partidas. Each
    // batch writes its share to the partition's scratch folder (file paths by table): kept
    // in memory, 200 batches' small frames grew the resident memory batch after batch.
    let mut virtual_rows: Option<BTreeMap<String, Vec<std::path::PathBuf>>> =
        (!cross.is_empty() && !per.is_empty()).then(BTreeMap::new);
    let mut split = None;
    if !per.is_empty() {
        // The partition and each batch free what they used and the next step allocates
        // about as much again: the freed pages stay with the allocator for the run instead
        // of going back to the OS at once and being faulted and zeroed anew by the next
        // batch (see `memory::HOLD_MS`; figures in bench/results.md). The largest batch
        // still bounds the peak. A batch that leaves the process above its budget gives
        // them back (`memory::release`); all go back after the loop. Not sooner: returning
        // them after every batch above 9/10 of the budget made the 10 M-partida audit with
        // a bill of materials on every company 60 -> 82 s at the same peak (each batch of
        // that history peaks at 1.9-2.3 GB by itself).
        let hold = crate::memory::hold_freed_pages(crate::memory::HOLD_MS);
        // Every table is split by batch once (partition.rs); each batch then reads only
        // its own rows.
        let split = split.insert({
            let _t = crate::timing::Timer::new("batch partition");
            partition::Partition::build(root, &batches)?
        });
        let budget_mb = match batching {
            Batching::MemoryMb(mb) => mb,
            _ => crate::memory::default_budget_mb(),
        };
        for (b, companies) in batches.iter().enumerate() {
            let scope = Scope {
                companies: Some(companies.clone()),
                lazy_views: false,
                virtual_only: false,
                rows: Rows::Batch(split.batch_dir(b)),
                dataset_rfcs: Some(rfcs.clone()),
            };
            let mut st = crate::timing::Stages::new("batch");
            let ctx = AuditContext::open_scoped(root, opts.clone(), &scope)?;
            st.mark("open");
            all.vstack_mut(&detach(run_persisting(&ctx, &per, each)?)?)?;
            st.mark("checks and views persisted");
            each(&ctx, Pass::Companies)?;
            st.mark("persist");
            if let Some(v) = virtual_rows.as_mut() {
                for (t, mut df) in ctx.virtual_rows()? {
                    if df.height() > 0 {
                        let path = split.spill_path(b, &t);
                        write_frame(&mut df, &path)?;
                        v.entry(t).or_default().push(path);
                    }
                }
                st.mark("virtual rows");
            }
            drop(ctx);
            if crate::memory::resident_mb().is_some_and(|mb| mb > budget_mb) {
                crate::memory::release();
            }
            st.mark(&format!("end (findings {} KB)", all.estimated_size() >> 10));
        }
        drop(hold);
        crate::memory::release();
    }
    // Findings are few, but one chunk per batch: keep them in one.
    all.rechunk_mut();
    if !cross.is_empty() {
        // Only the virtual pedimentos: the pairing never needs the rest.
        let rows = match virtual_rows {
            Some(v) => Rows::Frames(
                v.into_iter()
                    .map(|(t, paths)| Ok((t, read_frames(&paths)?)))
                    .collect::<Result<_, CheckError>>()?,
            ),
            // Only cross-company checks asked for: no batch read the rows.
            None => Rows::Dataset,
        };
        drop(split);
        let scope = Scope {
            companies: None,
            lazy_views: true,
            virtual_only: true,
            rows,
            dataset_rfcs: Some(rfcs),
        };
        let ctx = AuditContext::open_scoped(root, opts.clone(), &scope)?;
        all.vstack_mut(&run(&ctx, &cross)?)?;
        each(&ctx, Pass::CrossCompany)?;
    }
    pg.end();
    Ok(AuditRun {
        as_of: opts.as_of.expect("set above"),
        findings: findings::sort(all)?,
        batches: batches.len(),
        companies: Some({
            let mut c = batches.concat();
            c.sort();
            c
        }),
    })
}

/// [`run`] on a batch's context while `each` sees it as [`Pass::CompaniesOpen`] on another
/// thread: its views are written while the checks run (the checks leave part of a core
/// idle; writing the views after them took 0.3 s of each 10 M-partida batch).
fn run_persisting(
    ctx: &AuditContext,
    checks: &[&CheckDef],
    each: &mut Each,
) -> Result<DataFrame, CheckError> {
    std::thread::scope(|s| {
        let open = s.spawn(|| each(ctx, Pass::CompaniesOpen));
        let found = run(ctx, checks);
        let open = open.join().unwrap_or_else(|p| std::panic::resume_unwind(p));
        open.and(found)
    })
}

/// `df` in buffers of its own. A frame built by filtering or slicing a batch's tables
/// shares their buffers (a text column's views point into the batch's whole text): the
/// few findings a batch adds to the run's would keep every batch's tables alive (100 M
/// partidas: +4.2 MB a batch, 850 MB after 200 batches, the creep of the audit's peak
/// from 1.5 to 2.7 GB).
fn detach(df: DataFrame) -> PolarsResult<DataFrame> {
    let idx = IdxCa::from_vec("i".into(), (0..df.height() as IdxSize).collect());
    let cols = df
        .columns()
        .iter()
        .map(|c| match c.dtype() {
            DataType::String => {
                let owned: StringChunked = c.str()?.iter().collect();
                Ok(owned.with_name(c.name().clone()).into_column())
            }
            _ => c.take(&idx),
        })
        .collect::<PolarsResult<Vec<_>>>()?;
    DataFrame::new(df.height(), cols)
}

/// Writes one batch's share of a table to the scratch folder: zstd level 1 and no
/// statistics (read back whole, once; polars' default zstd level 3 and min/max of every
/// column were ~5% of a 10M audit's CPU across its 20 batches' spills).
fn write_frame(df: &mut DataFrame, path: &std::path::Path) -> Result<(), CheckError> {
    let f = std::fs::File::create(path)
        .map_err(|e| CheckError::Other(format!("{}: {e}", path.display())))?;
    ParquetWriter::new(f)
        .with_compression(fast_zstd())
        .with_statistics(polars::prelude::StatisticsOptions {
            min_value: false,
            max_value: false,
            distinct_count: false,
            null_count: false,
            ..Default::default()
        })
        .finish(df)?;
    Ok(())
}

/// zstd level 1, the dataset's own compression (`dataset::write`): polars' default
/// level 3 compresses the audit's frames ~2x slower for a few percent of size.
pub fn fast_zstd() -> ParquetCompression {
    ParquetCompression::Zstd(polars_parquet::write::ZstdLevel::try_new(1).ok())
}

/// One table's rows gathered batch by batch (the files [`write_frame`] wrote), in one
/// frame.
fn read_frames(paths: &[std::path::PathBuf]) -> Result<DataFrame, CheckError> {
    let mut df: Option<DataFrame> = None;
    for p in paths {
        let f = std::fs::File::open(p)
            .map_err(|e| CheckError::Other(format!("{}: {e}", p.display())))?;
        let d = ParquetReader::new(f).finish()?;
        match df.as_mut() {
            Some(df) => {
                df.vstack_mut(&d)?;
            }
            None => df = Some(d),
        }
    }
    let mut df = df.ok_or_else(|| CheckError::Other("no batch rows to gather".into()))?;
    df.rechunk_mut();
    Ok(df)
}

/// One check's page for `docs/checks/<CODE>.md` (the text `explain` prints).
pub fn check_page(c: &CheckDef) -> String {
    format!(
        "# {} — {}\n\nGroup: `{}`. Legal basis: {}\n\n{}",
        c.code,
        c.title,
        c.group,
        c.citation,
        c.doc.trim_start()
    )
}

/// A check's title in `lang` (the registry's English title when no Spanish one exists).
pub fn title(c: &CheckDef, lang: crate::model::lang::Lang) -> &'static str {
    match (lang, es::of(c.code)) {
        (crate::model::lang::Lang::Es, Some(e)) => e.title,
        _ => c.title,
    }
}

/// A check's legal basis in `lang`.
pub fn citation(c: &CheckDef, lang: crate::model::lang::Lang) -> &'static str {
    match (lang, es::of(c.code)) {
        (crate::model::lang::Lang::Es, Some(e)) => e.citation,
        _ => c.citation,
    }
}

/// A check's `explain` page body in `lang`.
pub fn doc(c: &CheckDef, lang: crate::model::lang::Lang) -> &'static str {
    match (lang, es::of(c.code)) {
        (crate::model::lang::Lang::Es, Some(e)) => e.doc,
        _ => c.doc,
    }
}

/// The text `explain CODE` prints, in `lang`.
pub fn explain_text(c: &CheckDef, lang: crate::model::lang::Lang) -> String {
    let basis = lang.pick("Fundamento legal", "Legal basis");
    format!(
        "{} — {}\n\n{basis}: {}\n\n{}",
        c.code,
        title(c, lang),
        citation(c, lang),
        doc(c, lang).trim_start()
    )
}

/// One check's Spanish page for `docs/checks/<CODE>.es.md`.
pub fn check_page_es(c: &CheckDef) -> String {
    let l = crate::model::lang::Lang::Es;
    format!(
        "# {} — {}\n\nGrupo: `{}`. Fundamento legal: {}\n\n{}",
        c.code,
        title(c, l),
        c.group,
        citation(c, l),
        doc(c, l).trim_start()
    )
}

/// The README's table of checks, one row per registry entry.
pub fn check_table() -> String {
    let mut out =
        String::from("| code | group | what it finds | legal basis |\n|---|---|---|---|\n");
    for c in REGISTRY {
        out.push_str(&format!(
            "| [`{}`](docs/checks/{}.md) | {} | {} | {} |\n",
            c.code,
            c.code,
            c.group,
            c.title,
            c.citation.replace('|', "\\|")
        ));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every queries/*.sql is registered and every registry entry exists.
    #[test]
    fn every_check_has_spanish_texts() {
        for c in REGISTRY {
            let e = es::of(c.code)
                .unwrap_or_else(|| panic!("{}: no Spanish texts in checks/es.rs", c.code));
            assert!(
                !e.title.trim().is_empty() && !e.citation.trim().is_empty(),
                "{}",
                c.code
            );
            assert!(
                e.doc.trim().len() > 200,
                "{}: Spanish doc too short",
                c.code
            );
            assert_ne!(e.doc, c.doc, "{}: Spanish doc is the English one", c.code);
        }
        for e in es::ES {
            assert!(
                find(e.code).is_some(),
                "{}: Spanish texts for no check",
                e.code
            );
        }
    }

    #[test]
    fn registry_matches_queries_folder() {
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("queries");
        let mut files: Vec<String> = std::fs::read_dir(&dir)
            .unwrap()
            .flatten()
            .map(|e| e.file_name().to_string_lossy().to_string())
            .filter(|n| n.ends_with(".sql"))
            .collect();
        files.sort();
        let mut registered: Vec<String> = REGISTRY
            .iter()
            .filter_map(|c| match c.kind {
                CheckKind::Sql { file, .. } => Some(file.to_string()),
                _ => None,
            })
            .collect();
        registered.sort();
        assert_eq!(files, registered);
        let mut codes: Vec<&str> = REGISTRY.iter().map(|c| c.code).collect();
        codes.sort();
        codes.dedup();
        assert_eq!(codes.len(), REGISTRY.len(), "check codes are unique");
    }

    #[test]
    fn select_by_group_and_unknown() {
        assert!(select(&["temp".into()]).unwrap().len() >= 4);
        let e = select(&["NOPE".into()]).err().unwrap().to_string();
        assert!(e.contains("TEMP-EXPIRED"), "{e}");
    }
}
