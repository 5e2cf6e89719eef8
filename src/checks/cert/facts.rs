//! Company facts (sector, program dates, headcount...) and the monthly return-ratio series.

use super::*;

// ---------------------------------------------------------------- company facts

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Sector {
    General,
    Sensible,
}

pub(super) struct Facts {
    /// None = not stated in programas.csv.
    pub(super) sector: Option<Sector>,
    /// Earliest programas.fecha_inicio.
    pub(super) program_start: Option<NaiveDate>,
    /// First pedimento under an IMMEX program (immex_programa declared) up to as_of.
    pub(super) first_immex: Option<NaiveDate>,
}

impl Facts {
    /// Program age start for the first-year exemption (002 L526): programas.fecha_inicio
    /// only. The first IMMEX pedimento of the dataset is a lower bound of the operations
    /// (the dataset may start later), so using it would grant the exemption wrongly.
    pub(super) fn program_age_start(&self) -> Option<NaiveDate> {
        self.program_start
    }
    pub(super) fn sensitive(&self) -> bool {
        self.sector == Some(Sector::Sensible)
    }
    /// Exempt from the 60 % test at `at`: program < 1 year old and not sensitive.
    pub(super) fn exempt_at(&self, at: NaiveDate) -> bool {
        !self.sensitive()
            && self
                .program_age_start()
                .map(|s| {
                    at < s + Months::new(cert_rules::iparam("B-I-d", "exempt_first_months") as u32)
                })
                .unwrap_or(false)
    }
}

pub(super) fn facts(
    ctx: &AuditContext,
    p: &CertProfile,
) -> Result<BTreeMap<String, Facts>, CheckError> {
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

pub(super) fn ratio_points(
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

pub(super) fn series_frame(points: &[RatioPoint], opts: &CertOptions) -> PolarsResult<DataFrame> {
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
