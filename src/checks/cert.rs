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
use crate::model;
use crate::profile::{self, CertProfile};
use chrono::{Datelike, Duration, Months, NaiveDate};
use polars::prelude::*;
use polars::sql::SQLContext;
use rust_decimal::{Decimal, RoundingStrategy};
use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;

pub const SERIES_FILE: &str = "cert/ratio_series.sql";
pub const SERIES_SQL: &str = include_str!("../../queries/cert/ratio_series.sql");

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

/// 60 % general (002 L521), 80 % sensitive sectors (002 L531).
pub fn threshold(sensitive: bool) -> Decimal {
    if sensitive {
        Decimal::new(80, 2)
    } else {
        Decimal::new(60, 2)
    }
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
    I32(Vec<Option<i32>>),
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
            Col::I32(v) => Series::new(name.into(), v),
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

// ---------------------------------------------------------------- company facts

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Sector {
    General,
    Sensible,
}

struct Facts {
    /// None = not stated in programas.csv.
    sector: Option<Sector>,
    /// Earliest programas.fecha_inicio.
    program_start: Option<NaiveDate>,
    /// First pedimento under an IMMEX program (immex_programa declared) up to as_of.
    first_immex: Option<NaiveDate>,
}

impl Facts {
    /// Program age start for the first-year exemption (002 L526): programas.fecha_inicio
    /// only. The first IMMEX pedimento of the dataset is a lower bound of the operations
    /// (the dataset may start later), so using it would grant the exemption wrongly.
    fn program_age_start(&self) -> Option<NaiveDate> {
        self.program_start
    }
    fn sensitive(&self) -> bool {
        self.sector == Some(Sector::Sensible)
    }
    /// Exempt from the 60 % test at `at`: program < 1 year old and not sensitive.
    fn exempt_at(&self, at: NaiveDate) -> bool {
        !self.sensitive()
            && self
                .program_age_start()
                .map(|s| at < s + Months::new(12))
                .unwrap_or(false)
    }
}

fn facts(ctx: &AuditContext, p: &CertProfile) -> Result<BTreeMap<String, Facts>, CheckError> {
    let mut out: BTreeMap<String, Facts> = BTreeMap::new();
    let blank = || Facts {
        sector: None,
        program_start: None,
        first_immex: None,
    };
    let pr = &p.programas;
    for i in 0..pr.height() {
        let Some(rfc) = av_str(pr, "rfc", i) else {
            continue;
        };
        let f = out.entry(rfc).or_insert_with(blank);
        match av_str(pr, "sector", i).as_deref() {
            Some("sensible") => f.sector = Some(Sector::Sensible),
            Some("general") if f.sector.is_none() => f.sector = Some(Sector::General),
            _ => {}
        }
        if let Some(d) = av_date(pr, "fecha_inicio", i) {
            f.program_start = Some(f.program_start.map_or(d, |x| x.min(d)));
        }
    }
    let first =
        ctx.table("current_pedimentos")
            .filter(col("immex_programa").is_not_null().and(
                col("fecha_operacion").lt_eq(lit(model::date32(ctx.as_of)).cast(DataType::Date)),
            ))
            .group_by([col("rfc")])
            .agg([col("fecha_operacion").min().alias("first")])
            .collect()?;
    for i in 0..first.height() {
        if let Some(rfc) = av_str(&first, "rfc", i) {
            out.entry(rfc).or_insert_with(blank).first_immex = av_date(&first, "first", i);
        }
    }
    Ok(out)
}

// ---------------------------------------------------------------- ratio series

/// One point of the return-ratio series.
#[derive(Clone, Debug)]
pub struct RatioPoint {
    pub rfc: String,
    pub sector: String,
    pub period_start: NaiveDate,
    pub period_end: NaiveDate,
    pub numerator: Decimal,
    pub denominator: Decimal,
    pub n_numerator: i64,
    pub n_denominator: i64,
    /// numerator / denominator, exact (None when the denominator is 0).
    pub ratio: Option<Decimal>,
    pub threshold: Decimal,
    pub exempt: bool,
    /// `pass`, `fail`, `exempt`, or `partial`: below the threshold on a window that starts
    /// before the dataset's first month, so the ratio may be understated or overstated
    /// (never reported as a plain failure).
    pub status: &'static str,
    /// threshold × denominator − numerator, rounded half-even to cents, when failing.
    pub shortfall: Option<Decimal>,
    /// The window starts on or after the first month with data.
    pub full_window: bool,
    /// First day of the first month with data in the dataset.
    pub data_from: NaiveDate,
}

fn ratio_points(
    ctx: &AuditContext,
    opts: &CertOptions,
    facts: &BTreeMap<String, Facts>,
    full_series: bool,
) -> Result<Vec<RatioPoint>, CheckError> {
    let mins = ctx
        .table("current_pedimentos")
        .select([col("fecha_operacion").min().alias("first")])
        .collect()?;
    let first = av_date(&mins, "first", 0)
        .unwrap_or(ctx.as_of)
        .min(ctx.as_of);
    let cal = if full_series {
        calendar(first, ctx.as_of)
    } else {
        vec![(window_start(ctx.as_of), ctx.as_of)]
    };
    let cal_df = frame(vec![
        (
            "period_start",
            Col::Date(cal.iter().map(|c| Some(c.0)).collect()),
        ),
        (
            "period_end",
            Col::Date(cal.iter().map(|c| Some(c.1)).collect()),
        ),
    ])?;
    let mut sql = SQLContext::new();
    for (name, lf) in &ctx.tables {
        sql.register(name, lf.clone());
    }
    sql.register("cert_calendar", cal_df.lazy());
    let text = ctx.render(&SERIES_SQL.replace("${cert_value}", opts.value_basis.sql_expr()));
    let df = sql
        .execute(&text)
        .and_then(|lf| lf.collect())
        .map_err(CheckError::query(SERIES_FILE))?;
    let first_month = first.with_day(1).unwrap();
    let mut out = vec![];
    for i in 0..df.height() {
        let rfc = av_str(&df, "rfc", i).unwrap_or_default();
        let f = facts.get(&rfc);
        let sensitive = f.map(|f| f.sensitive()).unwrap_or(false);
        let sector = match f.and_then(|f| f.sector) {
            Some(Sector::Sensible) => "sensible",
            Some(Sector::General) => "general",
            None => "unknown",
        };
        let period_start = av_date(&df, "period_start", i).unwrap();
        let period_end = av_date(&df, "period_end", i).unwrap();
        let numerator = av_dec(&df, "numerator", i).unwrap_or_default();
        let denominator = av_dec(&df, "denominator", i).unwrap_or_default();
        let t = threshold(sensitive);
        let exempt = f.map(|f| f.exempt_at(period_end)).unwrap_or(false);
        let ratio = (!denominator.is_zero()).then(|| numerator / denominator);
        let passes = numerator >= t * denominator;
        let full_window = period_start >= first_month;
        let status = if exempt {
            "exempt"
        } else if passes {
            "pass"
        } else if !full_window {
            "partial"
        } else {
            "fail"
        };
        let shortfall = (!passes).then(|| {
            (t * denominator - numerator)
                .round_dp_with_strategy(2, RoundingStrategy::MidpointNearestEven)
        });
        out.push(RatioPoint {
            rfc,
            sector: sector.into(),
            period_start,
            period_end,
            numerator,
            denominator,
            n_numerator: av_int(&df, "n_numerator", i).unwrap_or(0),
            n_denominator: av_int(&df, "n_denominator", i).unwrap_or(0),
            ratio,
            threshold: t,
            exempt,
            status,
            shortfall,
            full_window,
            data_from: first_month,
        });
    }
    if let Some(c) = &ctx.opts.company {
        out.retain(|p| &p.rfc == c);
    }
    Ok(out)
}

fn series_frame(points: &[RatioPoint], opts: &CertOptions) -> PolarsResult<DataFrame> {
    frame(vec![
        (
            "rfc",
            Col::Str(points.iter().map(|p| Some(p.rfc.clone())).collect()),
        ),
        (
            "sector",
            Col::Str(points.iter().map(|p| Some(p.sector.clone())).collect()),
        ),
        (
            "period_start",
            Col::Date(points.iter().map(|p| Some(p.period_start)).collect()),
        ),
        (
            "period_end",
            Col::Date(points.iter().map(|p| Some(p.period_end)).collect()),
        ),
        (
            "value_basis",
            Col::Str(
                points
                    .iter()
                    .map(|_| Some(opts.value_basis.column().into()))
                    .collect(),
            ),
        ),
        (
            "numerator",
            Col::Dec(points.iter().map(|p| Some(p.numerator)).collect(), 2),
        ),
        (
            "denominator",
            Col::Dec(points.iter().map(|p| Some(p.denominator)).collect(), 2),
        ),
        (
            "ratio",
            Col::Dec(
                points
                    .iter()
                    .map(|p| {
                        p.ratio.map(|r| {
                            r.round_dp_with_strategy(4, RoundingStrategy::MidpointNearestEven)
                        })
                    })
                    .collect(),
                4,
            ),
        ),
        (
            "threshold",
            Col::Dec(points.iter().map(|p| Some(p.threshold)).collect(), 2),
        ),
        (
            "exempt",
            Col::Bool(points.iter().map(|p| p.exempt).collect()),
        ),
        (
            "status",
            Col::Str(points.iter().map(|p| Some(p.status.to_string())).collect()),
        ),
        (
            "shortfall",
            Col::Dec(points.iter().map(|p| p.shortfall).collect(), 2),
        ),
        (
            "n_numerator",
            Col::Int(points.iter().map(|p| Some(p.n_numerator)).collect()),
        ),
        (
            "n_denominator",
            Col::Int(points.iter().map(|p| Some(p.n_denominator)).collect()),
        ),
        (
            "full_window",
            Col::Bool(points.iter().map(|p| p.full_window).collect()),
        ),
    ])
}

// ---------------------------------------------------------------- assessment

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Status {
    Pass,
    Fail,
    Unknown,
    NotApplicable,
}

impl Status {
    pub fn as_str(self) -> &'static str {
        match self {
            Status::Pass => "pass",
            Status::Fail => "fail",
            Status::Unknown => "unknown",
            Status::NotApplicable => "n/a",
        }
    }
}

/// One assessment row.
#[derive(Clone, Debug)]
pub struct ReqRow {
    pub rfc: String,
    pub modality: &'static str,
    pub code: &'static str,
    pub requirement: &'static str,
    pub status: Status,
    pub measured: String,
    pub threshold: String,
    pub window: String,
    /// `pedimentos`, `profile`, `pedimentos+profile` or `manual`.
    pub basis: &'static str,
    /// The missing file/field when status is unknown for lack of data.
    pub missing: String,
    pub citation: &'static str,
    /// Id of the rule version applied (`cert_rules::VERSIONS`), or `none`.
    pub rule_version: &'static str,
    pub period_start: Option<NaiveDate>,
    pub amount: Option<Decimal>,
}

const NOT_VERIFIABLE: &str = "not verifiable from pedimentos/profile";

struct Ctx<'a> {
    p: &'a CertProfile,
    as_of: NaiveDate,
    opts: &'a CertOptions,
}

/// Outcome of one evaluation (before the row's fixed parts are added).
struct Eval {
    status: Status,
    measured: String,
    threshold: String,
    window: String,
    basis: &'static str,
    missing: String,
    period_start: Option<NaiveDate>,
    amount: Option<Decimal>,
}

fn ev(status: Status, measured: impl Into<String>, threshold: impl Into<String>) -> Eval {
    Eval {
        status,
        measured: measured.into(),
        threshold: threshold.into(),
        window: String::new(),
        basis: "profile",
        missing: String::new(),
        period_start: None,
        amount: None,
    }
}

fn missing(what: impl Into<String>, threshold: impl Into<String>) -> Eval {
    let w = what.into();
    Eval {
        missing: w.clone(),
        ..ev(Status::Unknown, format!("missing: {w}"), threshold)
    }
}

fn manual(threshold: &str) -> Eval {
    Eval {
        basis: "manual",
        ..ev(Status::Unknown, NOT_VERIFIABLE, threshold)
    }
}

fn na(why: &str) -> Eval {
    Eval {
        basis: "-",
        ..ev(Status::NotApplicable, why, "")
    }
}

impl Eval {
    fn window(mut self, w: impl Into<String>) -> Eval {
        self.window = w.into();
        self
    }
    fn basis(mut self, b: &'static str) -> Eval {
        self.basis = b;
        self
    }
}

fn rows_of<'a>(df: &'a DataFrame, rfc: &'a str) -> impl Iterator<Item = usize> + 'a {
    (0..df.height()).filter(move |i| av_str(df, "rfc", *i).as_deref() == Some(rfc))
}

// Err carries the whole `unknown` evaluation (built once per requirement; size is moot).
#[allow(clippy::result_large_err)]
impl Ctx<'_> {
    /// The empresas.csv row of `rfc`, or the Eval saying what is missing.
    fn empresa(&self, rfc: &str, threshold: &str) -> Result<usize, Eval> {
        if !self.p.has("empresas.csv") {
            return Err(missing("empresas.csv", threshold));
        }
        rows_of(&self.p.empresas, rfc)
            .next()
            .ok_or_else(|| missing(format!("empresas.csv: no row for {rfc}"), threshold))
    }

    fn flag(&self, rfc: &str, field: &str, threshold: &str) -> Result<i64, Eval> {
        let i = self.empresa(rfc, threshold)?;
        av_int(&self.p.empresas, field, i)
            .ok_or_else(|| missing(format!("empresas.csv: {field}"), threshold))
    }

    /// Opinión positiva issued within the 30 days before the as-of date (002 L503).
    fn opinion(&self, rfc: &str) -> Eval {
        let th = "positive, issued within 30 days before the as-of date";
        let w = format!("{}..{}", self.as_of - Duration::days(30), self.as_of);
        let pos = match self.flag(rfc, "opinion_positiva", th) {
            Ok(v) => v,
            Err(e) => return e.window(w),
        };
        if pos != 1 {
            return ev(Status::Fail, "opinión negative", th).window(w);
        }
        let Ok(i) = self.empresa(rfc, th) else {
            return missing("empresas.csv", th);
        };
        let Some(d) = av_date(&self.p.empresas, "fecha_opinion", i) else {
            return missing("empresas.csv: fecha_opinion", th).window(w);
        };
        let age = (self.as_of - d).num_days();
        let ok = (0..=30).contains(&age);
        ev(
            if ok { Status::Pass } else { Status::Fail },
            format!("positive, issued {d} ({age} days before)"),
            th,
        )
        .window(w)
    }

    fn imss(&self, rfc: &str, bimestre: &str) -> Option<i64> {
        rows_of(&self.p.imss, rfc)
            .find(|i| av_str(&self.p.imss, "bimestre", *i).as_deref() == Some(bimestre))
            .and_then(|i| av_int(&self.p.imss, "trabajadores", i))
    }

    fn money_field(&self, rfc: &str, field: &str, th: &str) -> Result<Decimal, Eval> {
        let i = self.empresa(rfc, th)?;
        av_dec(&self.p.empresas, field, i)
            .ok_or_else(|| missing(format!("empresas.csv: {field}"), th))
    }

    /// Start of operations under the regime: empresas.fecha_inicio_operaciones (exact,
    /// `true`), else the first IMMEX pedimento in the dataset (`false`): the company
    /// operated at least since then, but the dataset may start after its operations did,
    /// so that date can prove a requirement met and never prove it failed.
    fn ops_start(&self, rfc: &str, f: Option<&Facts>) -> Option<(NaiveDate, &'static str, bool)> {
        let declared = if self.p.has("empresas.csv") {
            rows_of(&self.p.empresas, rfc)
                .next()
                .and_then(|i| av_date(&self.p.empresas, "fecha_inicio_operaciones", i))
        } else {
            None
        };
        declared
            .map(|d| (d, "empresas.csv fecha_inicio_operaciones", true))
            .or_else(|| {
                f.and_then(|f| f.first_immex)
                    .map(|d| (d, "first IMMEX pedimento in the dataset", false))
            })
    }

    /// AA-a / AAA-a: share of domestic insumos bought from compliant suppliers.
    fn suppliers(&self, rfc: &str, min_pct: i64) -> Eval {
        let th = format!(">= {min_pct}% of domestic insumos");
        let year = self.as_of.year() - 1;
        let w = format!("purchases {year}; supplier status at {}", self.as_of);
        if !self.p.has("proveedores.csv") {
            return missing("proveedores.csv", th).window(w);
        }
        let df = &self.p.proveedores;
        let rows: Vec<usize> = rows_of(df, rfc)
            .filter(|i| av_int(df, "year", *i) == Some(year as i64))
            .collect();
        if rows.is_empty() {
            return missing(
                format!("proveedores.csv: no purchases of {rfc} in {year}"),
                th,
            )
            .window(w);
        }
        let (mut total, mut good) = (Decimal::ZERO, Decimal::ZERO);
        for i in rows {
            let mut v = av_dec(df, "compras_mxn", i).unwrap_or_default();
            if self.opts.supplier_value == SupplierValue::ConIva {
                match av_dec(df, "iva_mxn", i) {
                    Some(x) => v += x,
                    None => {
                        return missing(
                            format!(
                                "proveedores.csv: iva_mxn (supplier_value=ConIva), line of {}",
                                av_str(df, "proveedor_rfc", i).unwrap_or_default()
                            ),
                            th,
                        )
                        .window(w);
                    }
                }
            }
            total += v;
            let fresh = av_date(df, "fecha_opinion", i)
                .map(|d| (0..=30).contains(&(self.as_of - d).num_days()))
                .unwrap_or(false);
            if av_int(df, "opinion_positiva", i) == Some(1)
                && fresh
                && av_int(df, "en_listas", i) == Some(0)
            {
                good += v;
            }
        }
        let ok = good * Decimal::from(100) >= Decimal::from(min_pct) * total;
        let share = if total.is_zero() {
            "n/a".to_string()
        } else {
            pct(good / total)
        };
        ev(
            if ok { Status::Pass } else { Status::Fail },
            format!("{share} ({} of {})", money(good), money(total)),
            th,
        )
        .window(w)
    }

    /// AA-b / AAA-b: years under the regime OR average IMSS headcount OR machinery.
    fn size(&self, rfc: &str, f: Option<&Facts>, years: u32, emp: i64, maq: i64) -> Eval {
        let th = format!(
            ">= {years} years OR > {emp} employees (avg) OR machinery > {}",
            money(Decimal::from(maq))
        );
        let prev = self.as_of.year() - 1;
        let w = format!("years to {}; headcount {prev}", self.as_of);
        let mut parts = vec![];
        let mut miss = vec![];
        let mut any_pass = false;
        let mut all_known = true;
        match self.ops_start(rfc, f) {
            Some((d, src, exact)) => {
                let ok = d + Months::new(12 * years) <= self.as_of;
                let full = (0..)
                    .take_while(|y| d + Months::new(12 * (*y as u32 + 1)) <= self.as_of)
                    .count();
                any_pass |= ok;
                parts.push(format!("{full} years since {d} ({src})"));
                if !ok && !exact {
                    // Only a lower bound of the years: cannot fail on it.
                    all_known = false;
                    miss.push("empresas.csv: fecha_inicio_operaciones".to_string());
                }
            }
            None => {
                all_known = false;
                miss.push("empresas.csv: fecha_inicio_operaciones".to_string());
            }
        }
        let bims: Vec<String> = (1..=6).map(|b| format!("{prev}-{b:02}")).collect();
        let counts: Vec<Option<i64>> = bims.iter().map(|b| self.imss(rfc, b)).collect();
        if counts.iter().all(Option::is_some) {
            let sum: i64 = counts.iter().flatten().sum();
            let avg = Decimal::from(sum) / Decimal::from(6);
            any_pass |= avg > Decimal::from(emp);
            parts.push(format!(
                "avg employees {}",
                avg.round_dp_with_strategy(2, RoundingStrategy::MidpointNearestEven)
                    .normalize()
            ));
        } else {
            all_known = false;
            let gone: Vec<&str> = bims
                .iter()
                .zip(&counts)
                .filter(|(_, c)| c.is_none())
                .map(|(b, _)| b.as_str())
                .collect();
            miss.push(format!("imss.csv: trabajadores for {}", gone.join(", ")));
        }
        match self.money_field(rfc, "maquinaria_mxn", &th) {
            Ok(m) => {
                any_pass |= m > Decimal::from(maq);
                parts.push(format!("machinery {}", money(m)));
            }
            Err(_) => {
                all_known = false;
                miss.push("empresas.csv: maquinaria_mxn".into());
            }
        }
        let status = if any_pass {
            Status::Pass
        } else if all_known {
            Status::Fail
        } else {
            Status::Unknown
        };
        Eval {
            missing: if status == Status::Unknown {
                miss.join("; ")
            } else {
                String::new()
            },
            basis: "pedimentos+profile",
            ..ev(status, parts.join("; "), th)
        }
        .window(w)
    }

    /// AA-c / AAA-c: no crédito fiscal in the last `months`, unless paid or under a
    /// deferred/instalment agreement (002 L556).
    fn credits(&self, rfc: &str, months: u32) -> Eval {
        let th = "0 unpaid credits (paid or under convenio allowed)";
        let from = self.as_of.checked_sub_months(Months::new(months)).unwrap() + Duration::days(1);
        let w = format!("{from}..{}", self.as_of);
        if !self.p.has("creditos.csv") {
            return missing("creditos.csv", th).window(w);
        }
        let df = &self.p.creditos;
        let (mut open, mut settled, mut amt) = (0, 0, Decimal::ZERO);
        for i in rows_of(df, rfc) {
            let Some(d) = av_date(df, "fecha", i) else {
                continue;
            };
            if d < from || d > self.as_of {
                continue;
            }
            if av_int(df, "pagado", i) == Some(1) || av_int(df, "convenio", i) == Some(1) {
                settled += 1;
            } else {
                open += 1;
                amt += av_dec(df, "monto_mxn", i).unwrap_or_default();
            }
        }
        let mut e = ev(
            if open == 0 {
                Status::Pass
            } else {
                Status::Fail
            },
            format!(
                "{open} unpaid ({}), {settled} paid or under convenio",
                money(amt)
            ),
            th,
        )
        .window(w);
        e.period_start = Some(from);
        if open > 0 {
            e.amount = Some(amt);
        }
        e
    }

    /// AA-d / AAA-d: IVA refunds denied (002 L549, L554).
    fn refunds(&self, rfc: &str) -> Eval {
        let th = match self.opts.refunds {
            RefundReading::Strict => "denied <= 20% of authorized and <= $5,000,000.00",
            RefundReading::BothExceeded => "not (denied > 20% of authorized and > $5,000,000.00)",
        };
        let from = window_start(self.as_of);
        let w = format!("{from}..{}", self.as_of);
        if !self.p.has("devoluciones.csv") {
            return missing("devoluciones.csv", th).window(w);
        }
        let df = &self.p.devoluciones;
        let (mut auth, mut denied) = (Decimal::ZERO, Decimal::ZERO);
        let mut undated = 0;
        for i in rows_of(df, rfc) {
            // The window counts refunds by the date they were requested, not ruled.
            let Some(d) = av_date(df, "fecha_solicitud", i) else {
                undated += 1;
                continue;
            };
            if d < from || d > self.as_of {
                continue;
            }
            auth += av_dec(df, "autorizado_mxn", i).unwrap_or_default();
            denied += av_dec(df, "negado_mxn", i).unwrap_or_default();
        }
        if undated > 0 {
            return missing(
                format!("devoluciones.csv: fecha_solicitud ({undated} rows of {rfc} without it)"),
                th,
            )
            .window(w);
        }
        let over_pct = denied * Decimal::from(100) > Decimal::from(20) * auth;
        let over_cap = denied > Decimal::from(5_000_000);
        let fail = match self.opts.refunds {
            RefundReading::Strict => over_pct || over_cap,
            RefundReading::BothExceeded => over_pct && over_cap,
        };
        let share = if auth.is_zero() {
            if denied.is_zero() {
                "0%".into()
            } else {
                "n/a (nothing authorized)".into()
            }
        } else {
            pct(denied / auth)
        };
        let mut e = ev(
            if fail { Status::Fail } else { Status::Pass },
            format!(
                "denied {} = {share} of authorized {}",
                money(denied),
                money(auth)
            ),
            th,
        )
        .window(w);
        e.period_start = Some(from);
        e
    }
}

struct ReqDef {
    modality: &'static str,
    code: &'static str,
    requirement: &'static str,
    citation: &'static str,
}

const fn r(
    modality: &'static str,
    code: &'static str,
    requirement: &'static str,
    citation: &'static str,
) -> ReqDef {
    ReqDef {
        modality,
        code,
        requirement,
        citation,
    }
}

/// Every requirement assessed, in report order.
const REQS: &[ReqDef] = &[
    r(
        "A",
        "A-I",
        "Solicitud filed in Ventanilla Digital",
        "RCGMCE 2013 regla 5.2.13, apartado A, fr. I",
    ),
    r(
        "A",
        "A-II",
        "Inventory control per SAT provisions",
        "RCGMCE 2013 regla 5.2.13, apartado A, fr. II",
    ),
    r(
        "A",
        "A-III",
        "Opinión positiva (CFF 32-D) of the applicant",
        "RCGMCE 2013 regla 5.2.13, apartado A, fr. III",
    ),
    r(
        "A",
        "A-III-b",
        "Opinión positiva of socios, accionistas, legal rep., administrador",
        "RCGMCE 2013 regla 5.2.13, apartado A, fr. III",
    ),
    r(
        "A",
        "A-IV",
        "Not on SAT lists (CFF 69 except fr. VI, 69-B)",
        "RCGMCE 2013 regla 5.2.13, apartado A, fr. IV",
    ),
    r(
        "A",
        "A-V",
        "CSD in force; no CFF 17-H fr. X event in 12 months",
        "RCGMCE 2013 regla 5.2.13, apartado A, fr. V",
    ),
    r(
        "A",
        "A-VI",
        "IMSS cuotas paid for >= 10 employees, last bimestre of prior year",
        "RCGMCE 2013 regla 5.2.13, apartado A, fr. VI",
    ),
    r(
        "A",
        "A-VII",
        "Investment in Mexico per the Instructivo",
        "RCGMCE 2013 regla 5.2.13, apartado A, fr. VII",
    ),
    r(
        "A",
        "A-VIII",
        "Foreign clients and suppliers of the prior year reported",
        "RCGMCE 2013 regla 5.2.13, apartado A, fr. VIII",
    ),
    r(
        "A",
        "A-IX",
        "AGACE access for inspection visits",
        "RCGMCE 2013 regla 5.2.13, apartado A, fr. IX",
    ),
    r(
        "A",
        "B-I-a",
        "IMMEX program in force",
        "RCGMCE 2013 regla 5.2.13, apartado B, fr. I, inciso a)",
    ),
    r(
        "A",
        "B-I-b",
        "All program sites registered with SAT",
        "RCGMCE 2013 regla 5.2.13, apartado B, fr. I, inciso b)",
    ),
    r(
        "A",
        "B-I-c",
        "Infrastructure for the program's modality",
        "RCGMCE 2013 regla 5.2.13, apartado B, fr. I, inciso c)",
    ),
    r(
        "A",
        "B-I-d",
        "Return ratio >= 60% over the last 12 months",
        "RCGMCE 2013 regla 5.2.13, apartado B, fr. I, inciso d) (first-year programs: párrafo after inciso g))",
    ),
    r(
        "A",
        "B-I-e",
        "Legal use of the premises for >= 1 year from filing",
        "RCGMCE 2013 regla 5.2.13, apartado B, fr. I, inciso e)",
    ),
    r(
        "A",
        "B-I-f",
        "Process description with photos",
        "RCGMCE 2013 regla 5.2.13, apartado B, fr. I, inciso f)",
    ),
    r(
        "A",
        "B-I-g",
        "Maquila/sale/service contract or firm orders in force",
        "RCGMCE 2013 regla 5.2.13, apartado B, fr. I, inciso g)",
    ),
    r(
        "A",
        "S-a",
        "Sensitive sector: >= 12 months of IMMEX operations",
        "RCGMCE 2013 regla 5.2.13, apartado B, fr. I, sectores sensibles, inciso a)",
    ),
    r(
        "A",
        "S-b",
        "Sensitive sector: return ratio >= 80%",
        "RCGMCE 2013 regla 5.2.13, apartado B, fr. I, sectores sensibles, inciso b)",
    ),
    r(
        "A",
        "S-c",
        "Sensitive sector: IMSS >= 20 additional employees, last 3 bimestres",
        "RCGMCE 2013 regla 5.2.13, apartado B, fr. I, sectores sensibles, inciso c)",
    ),
    r(
        "A",
        "S-d",
        "Sensitive sector: partners declared ISR income, 2 prior years",
        "RCGMCE 2013 regla 5.2.13, apartado B, fr. I, sectores sensibles, inciso d)",
    ),
    r(
        "A",
        "S-e",
        "Sensitive sector: fixed capital or machinery >= $4,000,000",
        "RCGMCE 2013 regla 5.2.13, apartado B, fr. I, sectores sensibles, inciso e)",
    ),
    r(
        "AA",
        "AA-a",
        ">= 40% of domestic insumos from compliant suppliers",
        "RCGMCE 2013 regla 5.2.13, apartado C, fr. I, inciso a)",
    ),
    r(
        "AA",
        "AA-b",
        ">= 5 years under the regime, or > 1,000 employees, or machinery > $50M",
        "RCGMCE 2013 regla 5.2.13, apartado C, fr. I, inciso b)",
    ),
    r(
        "AA",
        "AA-c",
        "No unpaid crédito fiscal in the last 12 months",
        "RCGMCE 2013 regla 5.2.13, apartado C, fr. I, inciso c), and antepenúltimo párrafo",
    ),
    r(
        "AA",
        "AA-d",
        "IVA refunds denied within 20% / $5M",
        "RCGMCE 2013 regla 5.2.13, apartado C, fr. I, inciso d)",
    ),
    r(
        "AAA",
        "AAA-a",
        ">= 70% of domestic insumos from compliant suppliers",
        "RCGMCE 2013 regla 5.2.13, apartado C, fr. II, inciso a)",
    ),
    r(
        "AAA",
        "AAA-b",
        ">= 7 years under the regime, or > 2,500 employees, or machinery > $100M",
        "RCGMCE 2013 regla 5.2.13, apartado C, fr. II, inciso b)",
    ),
    r(
        "AAA",
        "AAA-c",
        "No unpaid crédito fiscal in the last 24 months",
        "RCGMCE 2013 regla 5.2.13, apartado C, fr. II, inciso c), and antepenúltimo párrafo",
    ),
    r(
        "AAA",
        "AAA-d",
        "IVA refunds denied within 20% / $5M",
        "RCGMCE 2013 regla 5.2.13, apartado C, fr. II, inciso d)",
    ),
];

fn ratio_eval(pt: Option<&RatioPoint>, t: Decimal, basis_cur: &str) -> Eval {
    let th = format!(">= {}", pct(t));
    let Some(pt) = pt else {
        return ev(
            Status::Pass,
            "no temporary imports of insumos nor returns in the window (0 >= 0)",
            th,
        )
        .basis("pedimentos");
    };
    let passes = pt.numerator >= t * pt.denominator;
    let ratio = pt
        .ratio
        .map(pct)
        .unwrap_or_else(|| "n/a (no temporary imports)".into());
    // A failing ratio over a window the dataset covers only in part is not a failure of
    // the company: the imports or returns before the first month are missing.
    let partial = !passes && !pt.full_window;
    let mut e = ev(
        if passes {
            Status::Pass
        } else if partial {
            Status::Unknown
        } else {
            Status::Fail
        },
        format!(
            "{ratio} ({basis_cur} {} of {})",
            crate::model::numbers::thousands(&pt.numerator.to_string()),
            crate::model::numbers::thousands(&pt.denominator.to_string())
        ),
        th,
    )
    .basis("pedimentos")
    .window(format!("{}..{}", pt.period_start, pt.period_end));
    e.period_start = Some(pt.period_start);
    if partial {
        e.missing = format!(
            "pedimentos before {}: the 12-month window starts {} (partial window)",
            pt.data_from, pt.period_start
        );
    } else if !passes {
        e.amount = Some(
            (t * pt.denominator - pt.numerator)
                .round_dp_with_strategy(2, RoundingStrategy::MidpointNearestEven),
        );
    }
    e
}

fn evaluate_req(
    c: &Ctx,
    rfc: &str,
    f: Option<&Facts>,
    at_as_of: Option<&RatioPoint>,
    def: &ReqDef,
) -> Eval {
    let as_of = c.as_of;
    let sector = f.and_then(|f| f.sector);
    let new_program = f.map(|f| f.exempt_at(as_of)).unwrap_or(false);
    let prev = as_of.year() - 1;
    // Sensitive-sector rows: n/a for general companies, unknown without a sector.
    if def.code.starts_with("S-") {
        match sector {
            None => {
                return missing("programas.csv: sector", "applies to sensitive sectors")
                    .basis("profile");
            }
            Some(Sector::General) => return na("sector general"),
            Some(Sector::Sensible) => {}
        }
    }
    match def.code {
        "A-I" | "A-II" | "A-VII" | "A-IX" | "B-I-b" | "B-I-c" | "B-I-f" | "B-I-g" | "S-d" => {
            manual("document")
        }
        "A-III-b" => manual("positive, within 30 days"),
        "B-I-e" => manual(">= 1 year left"),
        "A-VIII" => {
            if new_program {
                na(
                    "exempt: program operating < 1 year (RCGMCE 2013 regla 5.2.13, apartado B, fr. I)",
                )
            } else {
                manual("all, prior fiscal year")
            }
        }
        "A-III" => c.opinion(rfc),
        "A-IV" => {
            let th = "not listed";
            match c.flag(rfc, "en_listas", th) {
                Ok(0) => ev(Status::Pass, "not listed", th),
                Ok(_) => ev(Status::Fail, "listed", th),
                Err(e) => e,
            }
            .window(format!("at {as_of}"))
        }
        "A-V" => {
            let th = "CSD in force";
            match c.flag(rfc, "csd_vigente", th) {
                Ok(1) => ev(
                    Status::Pass,
                    "CSD in force (17-H X events not verifiable from data)",
                    th,
                ),
                Ok(_) => ev(Status::Fail, "CSD not in force", th),
                Err(e) => e,
            }
            .window(format!("at {as_of}"))
        }
        "A-VI" => {
            let th = ">= 10 employees";
            let b = format!("{prev}-06");
            let w = format!("bimestre {b}");
            if !c.p.has("imss.csv") {
                if new_program {
                    return manual("hiring documents (program < 1 year, RCGMCE 2013 regla 5.2.13, apartado B, fr. I)").window(w);
                }
                return missing("imss.csv", th).window(w);
            }
            match c.imss(rfc, &b) {
                Some(n) => ev(
                    if n >= 10 { Status::Pass } else { Status::Fail },
                    format!("{n} employees"),
                    th,
                )
                .window(w),
                None if new_program => {
                    manual("hiring documents (program < 1 year, RCGMCE 2013 regla 5.2.13, apartado B, fr. I)").window(w)
                }
                None => missing(format!("imss.csv: trabajadores for bimestre {b}"), th).window(w),
            }
        }
        "B-I-a" => {
            let th = "in force, not cancelled";
            let w = format!("at {as_of}");
            if !c.p.has("programas.csv") {
                return missing("programas.csv", th).window(w);
            }
            let df = &c.p.programas;
            let rows: Vec<usize> = rows_of(df, rfc).collect();
            if rows.is_empty() {
                return missing(format!("programas.csv: no row for {rfc}"), th).window(w);
            }
            let mut desc = vec![];
            let mut ok = false;
            for i in rows {
                let ini = av_date(df, "fecha_inicio", i);
                let fin = av_date(df, "fecha_fin", i);
                let can = av_date(df, "fecha_cancelacion", i);
                let live = ini.is_none_or(|d| d <= as_of)
                    && fin.is_none_or(|d| d >= as_of)
                    && can.is_none_or(|d| d > as_of);
                ok |= live;
                desc.push(format!(
                    "{} {}..{}{}",
                    av_str(df, "programa", i).unwrap_or_else(|| "?".into()),
                    ini.map(|d| d.to_string()).unwrap_or_default(),
                    fin.map(|d| d.to_string()).unwrap_or_default(),
                    can.map(|d| format!(" cancelled {d}")).unwrap_or_default()
                ));
            }
            ev(
                if ok { Status::Pass } else { Status::Fail },
                desc.join("; "),
                th,
            )
            .window(w)
        }
        "B-I-d" => {
            if new_program {
                return na(
                    "exempt: program operating < 1 year (RCGMCE 2013 regla 5.2.13, apartado B, fr. I)",
                );
            }
            ratio_eval(at_as_of, threshold(false), c.opts.value_basis.currency())
        }
        "S-b" => ratio_eval(at_as_of, threshold(true), c.opts.value_basis.currency()),
        "S-a" => {
            let th = ">= 12 months before the as-of date";
            match c.ops_start(rfc, f) {
                Some((d, src, exact)) => {
                    let ok = d + Months::new(12) <= as_of;
                    let mut e = ev(
                        if ok {
                            Status::Pass
                        } else if exact {
                            Status::Fail
                        } else {
                            Status::Unknown
                        },
                        format!("operating since {d} ({src})"),
                        th,
                    )
                    .basis("pedimentos+profile")
                    .window(format!("{}..{as_of}", window_start(as_of)));
                    if !ok && !exact {
                        // The dataset may start after the operations did.
                        e.missing = "empresas.csv: fecha_inicio_operaciones".into();
                    }
                    e
                }
                None => missing(
                    "empresas.csv: fecha_inicio_operaciones (and no IMMEX pedimento)",
                    th,
                ),
            }
        }
        "S-c" => {
            let need = match c.opts.sc_headcount {
                ScHeadcount::TenPlusTwenty => 30,
                ScHeadcount::TwentyEach => 20,
            };
            let th = format!(
                ">= {need} employees in each bimestre ({:?})",
                c.opts.sc_headcount
            );
            let bims: Vec<String> = (4..=6).map(|b| format!("{prev}-{b:02}")).collect();
            let w = format!("bimestres {}", bims.join(", "));
            if !c.p.has("imss.csv") {
                return missing("imss.csv", th).window(w);
            }
            let counts: Vec<Option<i64>> = bims.iter().map(|b| c.imss(rfc, b)).collect();
            let gone: Vec<&str> = bims
                .iter()
                .zip(&counts)
                .filter(|(_, n)| n.is_none())
                .map(|(b, _)| b.as_str())
                .collect();
            if !gone.is_empty() {
                return missing(
                    format!("imss.csv: trabajadores for bimestre {}", gone.join(", ")),
                    th,
                )
                .window(w);
            }
            let min = counts.iter().flatten().min().copied().unwrap_or(0);
            ev(
                if min >= need {
                    Status::Pass
                } else {
                    Status::Fail
                },
                format!("minimum {min} employees"),
                th,
            )
            .window(w)
        }
        "S-e" => {
            let th = ">= $4,000,000.00";
            match c.money_field(rfc, "capital_maquinaria_mxn", th) {
                Ok(v) => ev(
                    if v >= Decimal::from(4_000_000) {
                        Status::Pass
                    } else {
                        Status::Fail
                    },
                    money(v),
                    th,
                ),
                Err(e) => e,
            }
        }
        "AA-a" => c.suppliers(rfc, 40),
        "AAA-a" => c.suppliers(rfc, 70),
        "AA-b" => c.size(rfc, f, 5, 1000, 50_000_000),
        "AAA-b" => c.size(rfc, f, 7, 2500, 100_000_000),
        "AA-c" => c.credits(rfc, 12),
        "AAA-c" => c.credits(rfc, 24),
        "AA-d" | "AAA-d" => c.refunds(rfc),
        other => unreachable!("requirement {other} has no evaluation"),
    }
}

/// The assessment rows and the verdict of each company.
pub struct Assessment {
    pub series: Vec<RatioPoint>,
    pub rows: Vec<ReqRow>,
    pub verdicts: BTreeMap<String, &'static str>,
    /// Per company, the verdict in words: what it rests on and what is pending, e.g.
    /// "AA met on 12 verifiable requirements; 18 manual requirements pending (A-I, ...)".
    pub verdict_detail: BTreeMap<String, String>,
    /// The rule version applied (None: the as-of date is outside every known version).
    pub version: Option<&'static cert_rules::RuleVersion>,
}

/// The verdict in words: the modality reached, how many of its requirements were verified
/// from data, and which manual ones are pending (a modality is only "met" on data when no
/// requirement fails or is unknown for lack of data; manual ones are listed, never passed).
fn verdict_words(v: &str, rows: &[ReqRow], version: Option<&cert_rules::RuleVersion>) -> String {
    let Some(version) = version else {
        return format!(
            "unknown: {}",
            rows.first().map(|r| r.missing.as_str()).unwrap_or("")
        );
    };
    let scope = if v == "none" { "A" } else { v };
    let of = || {
        rows.iter()
            .filter(move |r| r.modality == "A" || r.modality == scope)
    };
    let verified = of().filter(|r| matches!(r.status, Status::Pass)).count();
    let manual: Vec<&str> = of()
        .filter(|r| r.status == Status::Unknown && r.basis == "manual")
        .map(|r| r.code)
        .collect();
    let blocking: Vec<&str> = rows
        .iter()
        .filter(|r| {
            r.status == Status::Fail || (r.status == Status::Unknown && r.basis != "manual")
        })
        .map(|r| r.code)
        .collect();
    let head = if v == "none" {
        format!(
            "no modality met ({} failing or missing data: {})",
            blocking.len(),
            blocking.join(", ")
        )
    } else {
        format!("{v} met on {verified} verifiable requirements")
    };
    format!(
        "{head}; {} manual requirements pending ({}); rules: {}",
        manual.len(),
        manual.join(", "),
        version.instrument
    )
}

fn blocks(r: &ReqRow, opts: &CertOptions) -> bool {
    r.status == Status::Fail
        || (r.status == Status::Unknown && (r.basis != "manual" || opts.manual_blocks_verdict))
}

/// Computes the full monthly series and the assessment.
pub fn evaluate_all(ctx: &AuditContext, opts: &CertOptions) -> Result<Assessment, CheckError> {
    evaluate(ctx, opts, true)
}

/// The assessment with the ratio at the as-of date only (what the registry checks need;
/// the series then has one point per company).
pub fn evaluate_at_as_of(ctx: &AuditContext, opts: &CertOptions) -> Result<Assessment, CheckError> {
    evaluate(ctx, opts, false)
}

fn evaluate(
    ctx: &AuditContext,
    opts: &CertOptions,
    full_series: bool,
) -> Result<Assessment, CheckError> {
    let p = profile::load_cert(ctx.opts.profiles.as_deref())
        .map_err(|e| CheckError::Other(e.to_string()))?;
    let facts = facts(ctx, &p)?;
    let series = ratio_points(ctx, opts, &facts, full_series)?;
    let mut companies: BTreeSet<String> = series.iter().map(|s| s.rfc.clone()).collect();
    companies.extend(facts.keys().cloned());
    for i in 0..p.empresas.height() {
        if let Some(r) = av_str(&p.empresas, "rfc", i) {
            companies.insert(r);
        }
    }
    if let Some(c) = &ctx.opts.company {
        companies.retain(|r| r == c);
    }
    let c = Ctx {
        p: &p,
        as_of: ctx.as_of,
        opts,
    };
    let mut rows = vec![];
    let mut verdicts = BTreeMap::new();
    let mut verdict_detail = BTreeMap::new();
    // The rule version in force on the as-of date (the date that plays the filing date).
    let version = match opts.rule_version {
        Some(id) => Some(cert_rules::by_id(id).ok_or_else(|| {
            CheckError::Other(format!(
                "unknown certification rule version {id} (known: {})",
                cert_rules::ids().join(", ")
            ))
        })?),
        None => cert_rules::in_force(ctx.as_of),
    };
    for rfc in &companies {
        let f = facts.get(rfc);
        let at = series
            .iter()
            .find(|s| &s.rfc == rfc && s.period_end == ctx.as_of);
        let start = rows.len();
        for def in REQS {
            let (e, citation) = match version
                .map(|v| cert_rules::resolve(v, def.code, def.citation))
            {
                None => (
                    missing(cert_rules::uncovered_reason(ctx.as_of), "-").basis("rules"),
                    "-",
                ),
                Some(cert_rules::Applies::Cite(cite)) => (evaluate_req(&c, rfc, f, at, def), cite),
                Some(cert_rules::Applies::Manual(cite)) => (manual("-"), cite),
                Some(cert_rules::Applies::Repealed(why)) => (na(why), why),
            };
            rows.push(ReqRow {
                rfc: rfc.clone(),
                modality: def.modality,
                code: def.code,
                requirement: def.requirement,
                status: e.status,
                measured: e.measured,
                threshold: e.threshold,
                window: e.window,
                basis: e.basis,
                missing: e.missing,
                citation,
                rule_version: version.map(|v| v.id).unwrap_or("none"),
                period_start: e.period_start,
                amount: e.amount,
            });
        }
        let mine = &rows[start..];
        let ok = |m: &str| !mine.iter().any(|r| r.modality == m && blocks(r, opts));
        let v = if ok("A") && ok("AAA") {
            "AAA"
        } else if ok("A") && ok("AA") {
            "AA"
        } else if ok("A") {
            "A"
        } else {
            "none"
        };
        verdict_detail.insert(rfc.clone(), verdict_words(v, mine, version));
        verdicts.insert(rfc.clone(), v);
    }
    Ok(Assessment {
        series,
        rows,
        verdicts,
        verdict_detail,
        version,
    })
}

impl Assessment {
    pub fn series_frame(&self, opts: &CertOptions) -> PolarsResult<DataFrame> {
        series_frame(&self.series, opts)
    }

    pub fn assessment_frame(
        &self,
        as_of: NaiveDate,
        opts: &CertOptions,
    ) -> PolarsResult<DataFrame> {
        let rs = &self.rows;
        let s = |f: &dyn Fn(&ReqRow) -> String| Col::Str(rs.iter().map(|r| Some(f(r))).collect());
        frame(vec![
            ("rfc", s(&|r| r.rfc.clone())),
            ("verdict", s(&|r| self.verdicts[&r.rfc].to_string())),
            (
                "verdict_detail",
                s(&|r| self.verdict_detail[&r.rfc].clone()),
            ),
            ("rule_version", s(&|r| r.rule_version.to_string())),
            ("modality", s(&|r| r.modality.to_string())),
            ("code", s(&|r| r.code.to_string())),
            ("requirement", s(&|r| r.requirement.to_string())),
            ("status", s(&|r| r.status.as_str().to_string())),
            ("measured", s(&|r| r.measured.clone())),
            ("threshold", s(&|r| r.threshold.clone())),
            ("window", s(&|r| r.window.clone())),
            ("basis", s(&|r| r.basis.to_string())),
            (
                "missing",
                Col::Str(
                    rs.iter()
                        .map(|r| (!r.missing.is_empty()).then(|| r.missing.clone()))
                        .collect(),
                ),
            ),
            ("amount", Col::Dec(rs.iter().map(|r| r.amount).collect(), 2)),
            ("citation", s(&|r| r.citation.to_string())),
            ("as_of", Col::Date(rs.iter().map(|_| Some(as_of)).collect())),
            ("options", s(&|_| opts.describe())),
        ])
    }

    /// Findings: one per failed row and per unknown row with missing data (not manual).
    pub fn findings(&self, code: &str, as_of: NaiveDate) -> PolarsResult<DataFrame> {
        let modality = code.trim_start_matches("CERT-");
        let rs: Vec<&ReqRow> = self
            .rows
            .iter()
            .filter(|r| r.modality == modality)
            .filter(|r| {
                r.status == Status::Fail || (r.status == Status::Unknown && r.basis != "manual")
            })
            .collect();
        let sev = |r: &ReqRow| match (r.status, r.modality) {
            (Status::Fail, "A") => "high",
            (Status::Fail, _) => "medium",
            _ => "info",
        };
        let msg = |r: &ReqRow| {
            let what = if r.status == Status::Fail {
                format!("fails: measured {}", r.measured)
            } else {
                format!("cannot be verified: missing {}", r.missing)
            };
            format!(
                "Certification {} requirement {} ({}) {what}; threshold {}{}",
                r.modality,
                r.code,
                r.requirement,
                r.threshold,
                if r.window.is_empty() {
                    String::new()
                } else {
                    format!("; window {}", r.window)
                }
            )
        };
        let mensaje = |r: &ReqRow| {
            let what = if r.status == Status::Fail {
                format!("no se cumple: valor medido {}", r.measured)
            } else {
                format!("no puede verificarse: falta {}", r.missing)
            };
            format!(
                "Certificación {} requisito {} ({}) {what}; umbral {}{}",
                r.modality,
                r.code,
                requirement_es(r.code).unwrap_or(r.requirement),
                r.threshold,
                if r.window.is_empty() {
                    String::new()
                } else {
                    format!("; ventana {}", r.window)
                }
            )
        };
        findings_frame(
            code,
            rs.iter()
                .map(|r| FindingRow {
                    severity: sev(r),
                    rfc: r.rfc.clone(),
                    period_start: r.period_start,
                    // The shortfall is on the CERT-RATIO finding and the credit amount in
                    // the assessment table: no amount here, so sums across findings (and
                    // across AA/AAA, which test the same credits) do not double count.
                    amount: None,
                    message: msg(r),
                    mensaje: mensaje(r),
                    citation: r.citation.to_string(),
                    evidence: format!("cert_assessment:{}#{}", r.rfc, r.code),
                })
                .collect(),
            as_of,
        )
    }

    /// CERT-RATIO findings: ratio at the as-of date below threshold (not exempt).
    pub fn ratio_findings(&self, as_of: NaiveDate, opts: &CertOptions) -> PolarsResult<DataFrame> {
        let cur = opts.value_basis.currency();
        let rows = self
            .series
            .iter()
            .filter(|p| p.period_end == as_of && (p.status == "fail" || p.status == "partial"))
            .map(|p| FindingRow {
                // A partial window says so and is not a high finding (issue: never a ratio
                // failure on less than 12 months of data without saying so).
                severity: if p.status == "partial" { "low" } else { "high" },
                rfc: p.rfc.clone(),
                period_start: Some(p.period_start),
                amount: if cur == "MXN" && p.status == "fail" {
                    p.shortfall
                } else {
                    None
                },
                message: format!(
                    "{}Return ratio {} over {}..{} is below {} ({} sector): returned/transferred/changed regime {cur} {} vs temporary imports of insumos {cur} {}; shortfall {cur} {} (value basis {})",
                    if p.status == "partial" {
                        format!(
                            "Partial window (the dataset starts {}; operations before it are missing): ",
                            p.data_from
                        )
                    } else {
                        String::new()
                    },
                    p.ratio
                        .map(pct)
                        .unwrap_or_else(|| "n/a".into()),
                    p.period_start,
                    p.period_end,
                    pct(p.threshold),
                    p.sector,
                    crate::model::numbers::thousands(&p.numerator.to_string()),
                    crate::model::numbers::thousands(&p.denominator.to_string()),
                    crate::model::numbers::thousands(
                        &p.shortfall.unwrap_or_default().to_string()
                    ),
                    opts.value_basis.column()
                ),
                mensaje: format!(
                    "{}Índice de retorno {} del {} al {} por debajo de {} (sector {}): retornado/transferido/cambio de régimen {cur} {} contra importaciones temporales de insumos {cur} {}; faltante {cur} {} (base de valor {})",
                    if p.status == "partial" {
                        format!(
                            "Ventana parcial (los datos inician el {}; faltan las operaciones anteriores): ",
                            p.data_from
                        )
                    } else {
                        String::new()
                    },
                    p.ratio
                        .map(pct)
                        .unwrap_or_else(|| "n/d".into()),
                    p.period_start,
                    p.period_end,
                    pct(p.threshold),
                    sector_es(&p.sector),
                    crate::model::numbers::thousands(&p.numerator.to_string()),
                    crate::model::numbers::thousands(&p.denominator.to_string()),
                    crate::model::numbers::thousands(
                        &p.shortfall.unwrap_or_default().to_string()
                    ),
                    opts.value_basis.column()
                ),
                citation: if p.threshold == threshold(true) {
                    "RCGMCE 2013 regla 5.2.13, apartado B, fr. I, sectores sensibles inciso b)".into()
                } else {
                    "RCGMCE 2013 regla 5.2.13, apartado B, fr. I, inciso d)".into()
                },
                evidence: format!("cert_ratio_series:{}@{}", p.rfc, p.period_end),
            })
            .collect();
        findings_frame("CERT-RATIO", rows, as_of)
    }
}

/// Spanish name of a certification requirement (`ReqDef::requirement` is English).
pub fn requirement_es(code: &str) -> Option<&'static str> {
    Some(match code {
        "A-I" => "solicitud presentada en la Ventanilla Digital",
        "A-II" => "control de inventarios conforme a las disposiciones del SAT",
        "A-III" => "opinión positiva (CFF art. 32-D) del solicitante",
        "A-III-b" => "opinión positiva de socios, accionistas, representante legal y administrador",
        "A-IV" => "no estar en las listas del SAT (CFF art. 69, salvo fr. VI, y art. 69-B)",
        "A-V" => "CSD vigente; sin supuesto del CFF art. 17-H fr. X en 12 meses",
        "A-VI" => {
            "cuotas IMSS pagadas de al menos 10 trabajadores, último bimestre del año anterior"
        }
        "A-VII" => "inversión en México conforme al instructivo",
        "A-VIII" => "clientes y proveedores extranjeros del año anterior reportados",
        "A-IX" => "acceso de la AGACE para visitas de inspección",
        "B-I-a" => "programa IMMEX vigente",
        "B-I-b" => "todos los domicilios del programa registrados ante el SAT",
        "B-I-c" => "infraestructura para la modalidad del programa",
        "B-I-d" => "índice de retorno de al menos 60% en los últimos 12 meses",
        "B-I-e" => "legal uso del inmueble por al menos 1 año desde la solicitud",
        "B-I-f" => "descripción del proceso con fotografías",
        "B-I-g" => "contrato de maquila, compraventa o servicios, u órdenes en firme, vigentes",
        "S-a" => "sector sensible: al menos 12 meses de operaciones IMMEX",
        "S-b" => "sector sensible: índice de retorno de al menos 80%",
        "S-c" => {
            "sector sensible: al menos 20 trabajadores adicionales en el IMSS, últimos 3 bimestres"
        }
        "S-d" => "sector sensible: socios que declararon ingresos para ISR, 2 años anteriores",
        "S-e" => "sector sensible: activo fijo o maquinaria de al menos $4,000,000",
        "AA-a" => "al menos 40% de insumos nacionales de proveedores cumplidos",
        "AA-b" => {
            "al menos 5 años en el régimen, o más de 1,000 trabajadores, o maquinaria de más de $50 millones"
        }
        "AA-c" => "sin crédito fiscal firme no pagado en los últimos 12 meses",
        "AA-d" => "devoluciones de IVA negadas dentro de 20% / $5 millones",
        "AAA-a" => "al menos 70% de insumos nacionales de proveedores cumplidos",
        "AAA-b" => {
            "al menos 7 años en el régimen, o más de 2,500 trabajadores, o maquinaria de más de $100 millones"
        }
        "AAA-c" => "sin crédito fiscal firme no pagado en los últimos 24 meses",
        "AAA-d" => "devoluciones de IVA negadas dentro de 20% / $5 millones",
        _ => return None,
    })
}

fn sector_es(sector: &str) -> String {
    match sector {
        "unknown" => "desconocido".into(),
        other => other.into(),
    }
}

pub(super) struct FindingRow {
    pub severity: &'static str,
    pub rfc: String,
    pub period_start: Option<NaiveDate>,
    pub amount: Option<Decimal>,
    pub message: String,
    /// The same finding in Spanish (the `mensaje` column).
    pub mensaje: String,
    pub citation: String,
    pub evidence: String,
}

pub(super) fn findings_frame(
    code: &str,
    rows: Vec<FindingRow>,
    as_of: NaiveDate,
) -> PolarsResult<DataFrame> {
    let n = rows.len();
    let none = || Col::Str(vec![None; n]);
    frame(vec![
        ("check_code", Col::Str(vec![Some(code.to_string()); n])),
        (
            "severity",
            Col::Str(rows.iter().map(|r| Some(r.severity.into())).collect()),
        ),
        (
            "rfc",
            Col::Str(rows.iter().map(|r| Some(r.rfc.clone())).collect()),
        ),
        ("pedimento_id", none()),
        ("partida", Col::I32(vec![None; n])),
        ("related_pedimento_id", none()),
        ("fraccion", none()),
        (
            "period_start",
            Col::Date(rows.iter().map(|r| r.period_start).collect()),
        ),
        ("as_of", Col::Date(vec![Some(as_of); n])),
        ("quantity", Col::Dec(vec![None; n], 5)),
        (
            "amount",
            Col::Dec(rows.iter().map(|r| r.amount).collect(), 2),
        ),
        ("igi", Col::Dec(vec![None; n], 2)),
        ("iva", Col::Dec(vec![None; n], 2)),
        ("ieps", Col::Dec(vec![None; n], 2)),
        (
            "message",
            Col::Str(rows.iter().map(|r| Some(r.message.clone())).collect()),
        ),
        (
            "mensaje",
            Col::Str(rows.iter().map(|r| Some(r.mensaje.clone())).collect()),
        ),
        (
            "citation",
            Col::Str(rows.iter().map(|r| Some(r.citation.clone())).collect()),
        ),
        (
            "evidence",
            Col::Str(rows.iter().map(|r| Some(r.evidence.clone())).collect()),
        ),
    ])
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

/// The assessment at the as-of date with the context's options, computed once per context and
/// shared by the four registry plans below (each used to recompute it: the ratio SQL joins
/// every partida, four times per run). [`super::run`] computes it before the plans run, so
/// they never compute it concurrently.
pub fn default_assessment(ctx: &AuditContext) -> Result<Arc<Assessment>, CheckError> {
    if let Some(a) = ctx.cert_default.get() {
        return Ok(a.clone());
    }
    let a = Arc::new(evaluate_at_as_of(ctx, &ctx.opts.cert)?);
    // Another thread may have set it meanwhile: same inputs, same assessment.
    Ok(ctx.cert_default.get_or_init(|| a).clone())
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
