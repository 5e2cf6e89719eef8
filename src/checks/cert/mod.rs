//! IVA/IEPS certification (RCGMCE 2013 regla 5.2.13, modalities A / AA / AAA; seed 002
//! L497-L556): the 12-month return ratio (`CERT-RATIO`) and one assessment row per
//! requirement of each modality (`CERT-A`, `CERT-AA`, `CERT-AAA`).
//!
//! The as-of date plays the role of the filing date (the rule anchors every window on the
//! "fecha de presentación de la solicitud").
//!
//! - Ratio: SQL in `queries/cert/ratio_series.sql` (sums per company and window). The
//!   calendar of month ends is built here because polars SQL has no `generate_series` /
//!   `DATE_TRUNC`; the ratio, threshold, exemption and shortfall are computed here in
//!   `rust_decimal` (exact; ratios rounded half-even to 4 decimals only for display; the
//!   pass test is `numerator >= threshold * denominator` on exact values, so 60.00 % passes:
//!   "al menos", seed 002 L521).
//! - Assessment: one row per requirement with status `pass` / `fail` / `unknown` / `n/a`,
//!   measured value, threshold, window, basis (`pedimentos`, `profile`, `manual`), the
//!   missing file/field when data is missing, and the seed citation. Requirements that no
//!   data can prove (filing in Ventanilla Digital, inventory control, ...) are `unknown`
//!   with basis `manual`: never `pass`.
//! - Verdict: the highest modality whose rows have no `fail` and no `unknown` other than
//!   manual ones (set [`CertOptions::manual_blocks_verdict`] to let manual rows block too).
//!   AA = A + AA rows (seed 002 L545 "adicionalmente"); AAA = A + AAA rows (002 L550).
//! - Findings: one per `fail` row and per `unknown` row whose data is missing (basis not
//!   manual), under the modality's code; `CERT-RATIO`: one per company whose ratio at the
//!   as-of date is below its threshold, amount = shortfall.

use super::{AuditContext, CheckError, cert_rules};
use crate::findings::Finding;
use crate::model;
use crate::profile::{self, CertProfile};
use chrono::{Datelike, Duration, Months, NaiveDate};
use polars::prelude::*;
use polars::sql::SQLContext;
use rust_decimal::{Decimal, RoundingStrategy};
use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;

mod assessment;
mod eval;
mod facts;
mod reqs;
pub use assessment::*;
pub use eval::*;
pub use facts::*;
use reqs::*;

pub const SERIES_FILE: &str = "cert/ratio_series.sql";
pub const SERIES_SQL: &str = include_str!("../../../queries/cert/ratio_series.sql");

/// Value of each partida on the two sides of the ratio (digest §2 ambiguities 1-2).
///
/// The rule compares "el valor de la mercancía ... retornada" with "el valor de las
/// importaciones temporales de insumos" (RCGMCE 2013 regla 5.2.13, apartado B, fr. I,
/// inciso d)). Each pedimento declares one peso value of its goods: the valor en aduana on
/// an import, the valor comercial on an export or return (Anexo 22, Instructivo de
/// llenado, campos VAL. ADU/VAL. USD and PRECIO PAGADO/VALOR COMERCIAL: "tratándose de
/// exportación y retornos ... el valor comercial"; an IMMEX return's valor comercial
/// includes the imported insumos plus the value added). Real Data Stage carries
/// ValorAduana = 0 on export lines, so any basis that reads valor en aduana on the return
/// side reads 0.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum ValueBasis {
    /// Default: the value each pedimento declares in pesos: valor en aduana on imports
    /// (tipo_operacion 1), valor comercial on exports and returns (tipo_operacion 2).
    Declarado,
    /// `partidas.valor_aduana` on both sides, MXN. Only meaningful where the source fills
    /// valor en aduana on export lines (SAT's Data Stage does not: returns count 0).
    ValorAduana,
    /// `partidas.valor_comercial` on both sides, MXN (excludes freight and insurance of the
    /// imports).
    ValorComercial,
    /// `partidas.valor_dolares` on both sides, USD (immune to MXN/USD swings).
    ValorDolares,
}

impl ValueBasis {
    /// Short name, for the audit trail and the `value_basis` column.
    pub fn column(self) -> &'static str {
        match self {
            ValueBasis::Declarado => "declarado",
            ValueBasis::ValorAduana => "valor_aduana",
            ValueBasis::ValorComercial => "valor_comercial",
            ValueBasis::ValorDolares => "valor_dolares",
        }
    }
    /// SQL expression of a partida's value, over `current_pedimentos p` joined to
    /// `partidas pa` (portable: a plain CASE).
    pub fn sql_expr(self) -> &'static str {
        match self {
            ValueBasis::Declarado => {
                "CASE WHEN p.tipo_operacion = 2 THEN pa.valor_comercial ELSE pa.valor_aduana END"
            }
            ValueBasis::ValorAduana => "pa.valor_aduana",
            ValueBasis::ValorComercial => "pa.valor_comercial",
            ValueBasis::ValorDolares => "pa.valor_dolares",
        }
    }
    pub fn currency(self) -> &'static str {
        match self {
            ValueBasis::ValorDolares => "USD",
            _ => "MXN",
        }
    }
    pub fn parse(s: &str) -> Option<ValueBasis> {
        match s {
            "declarado" => Some(ValueBasis::Declarado),
            "valor_aduana" => Some(ValueBasis::ValorAduana),
            "valor_comercial" => Some(ValueBasis::ValorComercial),
            "valor_dolares" => Some(ValueBasis::ValorDolares),
            _ => None,
        }
    }
}

/// AA-d / AAA-d: "improcedencia ... más del 20% del total de las devoluciones autorizadas
/// ..., siempre que el monto negado ... no supere cinco millones de pesos" (002 L549).
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum RefundReading {
    /// Default, literal: the requirement holds only if denied <= 20 % of authorized AND
    /// denied <= MXN 5,000,000 ("siempre que" adds a condition); fails if either is exceeded.
    Strict,
    /// Fails only when denied > 20 % AND denied > MXN 5,000,000 (the 5 M as a tolerance).
    BothExceeded,
}

/// S-c: "por lo menos 20 empleados adicionales a los señalados en el Apartado A, fracción
/// VI" over the last three bimestres of the prior year (002 L532).
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum ScHeadcount {
    /// Default: >= 30 (the 10 of A-VI + 20 additional) in each of the three bimestres.
    TenPlusTwenty,
    /// >= 20 in each of the three bimestres (the A-VI ten is checked separately).
    TwentyEach,
}

/// AA-a / AAA-a: "el 40% del valor de los insumos adquiridos" (002 L546): with or without IVA.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum SupplierValue {
    /// Default: `proveedores.compras_mxn` (value without IVA).
    SinIva,
    /// `compras_mxn + iva_mxn` (iva_mxn required; changes the share only when suppliers
    /// are taxed at different rates).
    ConIva,
}

#[derive(Clone, Debug)]
pub struct CertOptions {
    pub value_basis: ValueBasis,
    pub refunds: RefundReading,
    pub sc_headcount: ScHeadcount,
    pub supplier_value: SupplierValue,
    /// When true, manual (not verifiable) requirements block the verdict too (then no
    /// company gets any modality from data alone).
    pub manual_blocks_verdict: bool,
    /// Apply this rule version (`cert_rules::VERSIONS` id) instead of the one in force on
    /// the as-of date (e.g. to compare a history against the 2013 text).
    pub rule_version: Option<&'static str>,
}

impl Default for CertOptions {
    fn default() -> Self {
        CertOptions {
            value_basis: ValueBasis::Declarado,
            refunds: RefundReading::Strict,
            sc_headcount: ScHeadcount::TenPlusTwenty,
            supplier_value: SupplierValue::SinIva,
            manual_blocks_verdict: false,
            rule_version: None,
        }
    }
}

impl CertOptions {
    /// The choices, for the audit trail.
    pub fn describe(&self) -> String {
        format!(
            "value_basis={}; refunds={:?}; sc_headcount={:?}; supplier_value={:?}; manual_blocks_verdict={}; rules={}",
            self.value_basis.column(),
            self.refunds,
            self.sc_headcount,
            self.supplier_value,
            self.manual_blocks_verdict,
            self.rule_version.unwrap_or("in force on the as-of date")
        )
    }
}

/// The minimum return ratio: B-I-d (general, 60 %, 002 L521) or S-b (sensitive sectors,
/// 80 %, 002 L531), from `src/catalogs/cert_thresholds.csv`.
pub fn threshold(sensitive: bool) -> Decimal {
    cert_rules::param(if sensitive { "S-b" } else { "B-I-d" }, "min_ratio")
}

fn last_day(d: NaiveDate) -> NaiveDate {
    let first = d.with_day(1).unwrap();
    first + Months::new(1) - Duration::days(1)
}

/// First day of the 12-month window that ends on `end` (inclusive on both sides).
pub fn window_start(end: NaiveDate) -> NaiveDate {
    end.checked_sub_months(Months::new(12)).unwrap() + Duration::days(1)
}

/// Calendar points: every month end from the month of `first` up to (not including)
/// `as_of`, then `as_of` itself. Each is (window start, window end).
pub fn calendar(first: NaiveDate, as_of: NaiveDate) -> Vec<(NaiveDate, NaiveDate)> {
    let mut out = vec![];
    let mut m = first.with_day(1).unwrap();
    loop {
        let end = last_day(m);
        if end >= as_of {
            break;
        }
        out.push((window_start(end), end));
        m = m + Months::new(1);
    }
    out.push((window_start(as_of), as_of));
    out
}

// ---------------------------------------------------------------- frame helpers

pub(super) fn av_str(df: &DataFrame, c: &str, i: usize) -> Option<String> {
    match df.column(c).ok()?.get(i).ok()? {
        AnyValue::String(s) => Some(s.to_string()),
        AnyValue::StringOwned(s) => Some(s.to_string()),
        AnyValue::Null => None,
        other => Some(other.to_string()),
    }
}

pub(super) fn av_date(df: &DataFrame, c: &str, i: usize) -> Option<NaiveDate> {
    match df.column(c).ok()?.get(i).ok()? {
        AnyValue::Date(d) => Some(model::from_date32(d)),
        _ => None,
    }
}

fn av_dec(df: &DataFrame, c: &str, i: usize) -> Option<Decimal> {
    match df.column(c).ok()?.get(i).ok()? {
        AnyValue::Decimal(v, _, s) => Some(Decimal::from_i128_with_scale(v, s as u32)),
        AnyValue::Int32(v) => Some(Decimal::from(v)),
        AnyValue::Int64(v) => Some(Decimal::from(v)),
        _ => None,
    }
}

fn av_int(df: &DataFrame, c: &str, i: usize) -> Option<i64> {
    match df.column(c).ok()?.get(i).ok()? {
        AnyValue::Int32(v) => Some(v as i64),
        AnyValue::Int64(v) => Some(v),
        AnyValue::UInt32(v) => Some(v as i64),
        AnyValue::UInt64(v) => Some(v as i64),
        _ => None,
    }
}

enum Col {
    Str(Vec<Option<String>>),
    Date(Vec<Option<NaiveDate>>),
    Dec(Vec<Option<Decimal>>, usize),
    Int(Vec<Option<i64>>),
    Bool(Vec<bool>),
}

fn frame(cols: Vec<(&str, Col)>) -> PolarsResult<DataFrame> {
    let mut out: Vec<Column> = vec![];
    for (name, c) in cols {
        let s = match c {
            Col::Str(v) => Series::new(name.into(), v),
            Col::Date(v) => Series::new(
                name.into(),
                v.into_iter()
                    .map(|d| d.map(model::date32))
                    .collect::<Vec<_>>(),
            )
            .cast(&DataType::Date)?,
            Col::Dec(v, scale) => Series::new(
                name.into(),
                v.into_iter()
                    .map(|d| d.map(|x| x.round_dp(scale as u32).to_string()))
                    .collect::<Vec<_>>(),
            )
            .strict_cast(&DataType::Decimal(18, scale))?,
            Col::Int(v) => Series::new(name.into(), v),
            Col::Bool(v) => Series::new(name.into(), v),
        };
        out.push(s.into());
    }
    DataFrame::new_infer_height(out)
}

/// Percent with 2 decimals, rounded half-even (display only).
fn pct(r: Decimal) -> String {
    let mut v =
        (r * Decimal::from(100)).round_dp_with_strategy(2, RoundingStrategy::MidpointNearestEven);
    v.rescale(2);
    format!("{v}%")
}

fn money(d: Decimal) -> String {
    let mut v = d.round_dp_with_strategy(2, RoundingStrategy::MidpointNearestEven);
    v.rescale(2);
    crate::model::numbers::mxn(v)
}

/// `(series, assessment)` as DataFrames (written as `cert_ratio_series.parquet` and
/// `cert_assessment.parquet` by `audit`).
pub fn assess(
    ctx: &AuditContext,
    opts: &CertOptions,
) -> Result<(DataFrame, DataFrame), CheckError> {
    let a = evaluate_all(ctx, opts)?;
    Ok((a.series_frame(opts)?, a.assessment_frame(ctx.as_of, opts)?))
}

/// The name of the shared table holding the assessment at the as-of date with the
/// context's options (see [`super::shared`]), read by the four registry plans below (each
/// used to recompute it: the ratio SQL joins every partida, four times per run).
pub const SHARED_AS_OF: &str = "cert_as_of";

/// Computes the [`SHARED_AS_OF`] table: the assessment with the full monthly series,
/// whose last window ends on the as-of date ([`calendar`]), so the checks (which read only
/// that window) and the persisted series share one evaluation (two per batch before: the
/// series SQL over every partida twice).
pub fn shared_as_of(ctx: &AuditContext) -> Result<super::shared::Value, CheckError> {
    Ok(Arc::new(evaluate_all(ctx, &ctx.opts.cert)?))
}

/// What the audit writes when a certification check ran: the full monthly ratio series
/// and the assessment, with the context's options.
pub fn persisted_tables(ctx: &AuditContext) -> Result<Vec<(&'static str, DataFrame)>, CheckError> {
    let a = default_assessment(ctx)?;
    let (series, assessment) = (
        a.series_frame(&ctx.opts.cert)?,
        a.assessment_frame(ctx.as_of, &ctx.opts.cert)?,
    );
    // Only this context's companies: the profile lists every company, so each batch of a
    // batched audit used to repeat the others' rows.
    let assessment = ctx.filter_scope(assessment)?;
    Ok(vec![
        ("cert_ratio_series.parquet", series),
        ("cert_assessment.parquet", assessment),
    ])
}

/// The assessment at the as-of date with the context's options ([`SHARED_AS_OF`]).
pub fn default_assessment(ctx: &AuditContext) -> Result<Arc<Assessment>, CheckError> {
    ctx.shared::<Assessment>(SHARED_AS_OF)
}

/// Registry plan for `CERT-RATIO` (the context's options).
pub fn plan_ratio(ctx: &AuditContext) -> Result<DataFrame, CheckError> {
    Ok(default_assessment(ctx)?.ratio_findings(ctx.as_of, &ctx.opts.cert)?)
}

pub fn plan_a(ctx: &AuditContext) -> Result<DataFrame, CheckError> {
    Ok(default_assessment(ctx)?.findings("CERT-A", ctx.as_of)?)
}

pub fn plan_aa(ctx: &AuditContext) -> Result<DataFrame, CheckError> {
    Ok(default_assessment(ctx)?.findings("CERT-AA", ctx.as_of)?)
}

pub fn plan_aaa(ctx: &AuditContext) -> Result<DataFrame, CheckError> {
    Ok(default_assessment(ctx)?.findings("CERT-AAA", ctx.as_of)?)
}

/// The assessment as text tables, one per company (used by `audit --check cert` and the
/// golden test).
pub fn render(df: &DataFrame) -> PolarsResult<String> {
    let mut out = String::new();
    let mut current: Option<String> = None;
    let mut table: Option<comfy_table::Table> = None;
    let flush = |out: &mut String, t: Option<comfy_table::Table>| {
        if let Some(t) = t {
            out.push_str(&t.to_string());
            out.push('\n');
        }
    };
    for i in 0..df.height() {
        let g = |c: &str| av_str(df, c, i).unwrap_or_default();
        let rfc = g("rfc");
        if current.as_deref() != Some(rfc.as_str()) {
            flush(&mut out, table.take());
            out.push_str(&format!(
                "{rfc}: verdict {} (as of {})\n",
                g("verdict"),
                g("as_of")
            ));
            let mut t = comfy_table::Table::new();
            t.load_style(comfy_table::presets::ASCII_MARKDOWN);
            t.set_header(vec![
                "code",
                "status",
                "requirement",
                "measured",
                "threshold",
                "window",
                "cite",
            ]);
            table = Some(t);
            current = Some(rfc.clone());
        }
        let status = g("status");
        if let Some(t) = table.as_mut() {
            t.add_row(vec![
                g("code"),
                status,
                g("requirement"),
                g("measured"),
                g("threshold"),
                g("window"),
                g("citation")
                    .trim_start_matches("RCGMCE 2013 regla 5.2.13, ")
                    .to_string(),
            ]);
        }
    }
    flush(&mut out, table.take());
    Ok(out)
}
