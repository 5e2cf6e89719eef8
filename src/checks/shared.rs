//! Named shared tables: the computations several checks read (and the audit persists),
//! registered once in [`TABLES`] under a name.
//!
//! A shared table is either a SQL view under `queries/views/` (materialized, or planned in
//! lazy contexts, when the context opens, in [`super::VIEWS`] order; read with
//! [`AuditContext::table`]) or a Rust function computed once per context on first use and
//! kept in the context ([`AuditContext::shared`]). A check names the Rust tables it reads in
//! [`super::CheckDef::needs`]: the runner computes them before those checks start (beside
//! the checks that need none), and a batched audit runs a check whose tables are
//! cross-company in its cross-company pass. [`Persist`] says which tables the audit writes
//! into its output folder.

use super::{AuditContext, CheckDef, CheckError, cert, virtual_pairing};
use polars::prelude::*;
use std::any::Any;
use std::sync::Arc;

/// A computed Rust table (one value per context; see [`AuditContext::shared`]).
pub type Value = Arc<dyn Any + Send + Sync>;

/// How a shared table is computed.
pub enum TableKind {
    /// A view of [`super::VIEWS`] (SQL under `queries/views/`), registered as a SQL table.
    View,
    /// A Rust function, computed on first use.
    Rust(fn(&AuditContext) -> Result<Value, CheckError>),
}

/// The files a persisted shared table writes: (file name, frame) pairs.
pub type PersistFiles = fn(&AuditContext) -> Result<Vec<(&'static str, DataFrame)>, CheckError>;

/// When the audit writes a shared table into its output folder, and how.
pub enum Persist {
    Never,
    /// Always, as `<name>.parquet` (views only).
    Always,
    /// When a selected check needs the named table: the frames `files` returns, each as
    /// `<file name>`.
    WhenNeeded {
        table: &'static str,
        files: PersistFiles,
    },
}

pub struct TableDef {
    pub name: &'static str,
    pub kind: TableKind,
    /// Computed over every company at once (a batched audit computes it, and runs the
    /// checks that need it, in its cross-company pass).
    pub cross_company: bool,
    pub persist: Persist,
    /// What one row is.
    pub doc: &'static str,
}

/// Every shared table.
pub static TABLES: &[TableDef] = &[
    TableDef {
        name: "current_pedimentos",
        kind: TableKind::View,
        cross_company: false,
        persist: Persist::Never,
        doc: "the pedimentos in force (a rectificación supersedes the pedimento it rectifies)",
    },
    TableDef {
        name: "ledger_movements",
        kind: TableKind::View,
        cross_company: false,
        persist: Persist::Never,
        doc: "temporary imports and their discharges (bill of materials exploded)",
    },
    TableDef {
        name: "ledger_allocations",
        kind: TableKind::View,
        cross_company: false,
        persist: Persist::Always,
        doc: "discharge quantity allocated to an import partida (FIFO)",
    },
    TableDef {
        name: "ledger_balances",
        kind: TableKind::View,
        cross_company: false,
        persist: Persist::Always,
        doc: "open balance and plazo of an import partida",
    },
    TableDef {
        name: cert::SHARED_AS_OF,
        kind: TableKind::Rust(cert::shared_as_of),
        cross_company: false,
        persist: Persist::WhenNeeded {
            table: cert::SHARED_AS_OF,
            files: cert::persisted_tables,
        },
        doc: "the IVA/IEPS certification assessment at the as-of date (the CERT-* checks); \
              the audit writes the full monthly ratio series and the assessment \
              (cert_ratio_series.parquet, cert_assessment.parquet)",
    },
    TableDef {
        name: virtual_pairing::SHARED,
        kind: TableKind::Rust(virtual_pairing::shared),
        cross_company: true,
        persist: Persist::WhenNeeded {
            table: virtual_pairing::SHARED,
            files: virtual_pairing::persisted_tables,
        },
        doc: "the pairing of virtual operations: virtual_sides, virtual_pairs (written as \
              virtual_pairs.parquet), virtual_lines",
    },
];

pub fn find(name: &str) -> Option<&'static TableDef> {
    TABLES.iter().find(|t| t.name == name)
}

/// The Rust tables the `checks` need, in registry order.
pub fn needed(checks: &[&CheckDef]) -> Vec<&'static TableDef> {
    TABLES
        .iter()
        .filter(|t| matches!(t.kind, TableKind::Rust(_)))
        .filter(|t| checks.iter().any(|c| c.needs.contains(&t.name)))
        .collect()
}

/// Whether a check reads a cross-company table (then a batched audit runs it in its
/// cross-company pass).
pub fn is_cross_company(c: &CheckDef) -> bool {
    c.needs
        .iter()
        .any(|n| find(n).is_some_and(|t| t.cross_company))
}

/// Which of a context's persisted tables [`persisted`] gives.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Persisted {
    /// The views (final once the context is open: no check computes them).
    Views,
    /// The Rust tables (computed by the checks that need them).
    Computed,
    All,
}

/// The files the audit writes from the shared tables of a context of this kind
/// (`cross_company` = the cross-company pass) for the `checks` selected, as
/// `(file name, frame)`.
pub fn persisted(
    ctx: &AuditContext,
    checks: &[&CheckDef],
    cross_company: bool,
    which: Persisted,
) -> Result<Vec<(String, DataFrame)>, CheckError> {
    let mut out = vec![];
    for t in TABLES.iter().filter(|t| t.cross_company == cross_company) {
        match (&t.persist, which) {
            (Persist::Never, _)
            | (Persist::Always, Persisted::Computed)
            | (Persist::WhenNeeded { .. }, Persisted::Views) => {}
            (Persist::Always, _) => {
                out.push((format!("{}.parquet", t.name), ctx.table(t.name).collect()?))
            }
            (Persist::WhenNeeded { table, files }, _) => {
                if checks.iter().any(|c| c.needs.contains(table)) {
                    for (name, df) in files(ctx)? {
                        out.push((name.to_string(), df));
                    }
                }
            }
        }
    }
    Ok(out)
}
