//! Assessment rows: status, evaluation helpers and the measurements of each requirement.

use super::*;

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

pub(super) const NOT_VERIFIABLE: &str = "not verifiable from pedimentos/profile";

pub(super) struct Ctx<'a> {
    pub(super) p: &'a CertProfile,
    pub(super) as_of: NaiveDate,
    pub(super) opts: &'a CertOptions,
}

/// Outcome of one evaluation (before the row's fixed parts are added).
pub(super) struct Eval {
    pub(super) status: Status,
    pub(super) measured: String,
    pub(super) threshold: String,
    pub(super) window: String,
    pub(super) basis: &'static str,
    pub(super) missing: String,
    pub(super) period_start: Option<NaiveDate>,
    pub(super) amount: Option<Decimal>,
}

pub(super) fn ev(
    status: Status,
    measured: impl Into<String>,
    threshold: impl Into<String>,
) -> Eval {
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

pub(super) fn missing(what: impl Into<String>, threshold: impl Into<String>) -> Eval {
    let w = what.into();
    Eval {
        missing: w.clone(),
        ..ev(Status::Unknown, format!("missing: {w}"), threshold)
    }
}

pub(super) fn manual(threshold: &str) -> Eval {
    Eval {
        basis: "manual",
        ..ev(Status::Unknown, NOT_VERIFIABLE, threshold)
    }
}

pub(super) fn na(why: &str) -> Eval {
    Eval {
        basis: "-",
        ..ev(Status::NotApplicable, why, "")
    }
}

impl Eval {
    pub(super) fn window(mut self, w: impl Into<String>) -> Eval {
        self.window = w.into();
        self
    }
    pub(super) fn basis(mut self, b: &'static str) -> Eval {
        self.basis = b;
        self
    }
}

pub(super) fn rows_of<'a>(df: &'a DataFrame, rfc: &'a str) -> impl Iterator<Item = usize> + 'a {
    (0..df.height()).filter(move |i| av_str(df, "rfc", *i).as_deref() == Some(rfc))
}

// Err carries the whole `unknown` evaluation (built once per requirement; size is moot).
#[allow(clippy::result_large_err)]
impl Ctx<'_> {
    /// The empresas.csv row of `rfc`, or the Eval saying what is missing.
    pub(super) fn empresa(&self, rfc: &str, threshold: &str) -> Result<usize, Eval> {
        if !self.p.has("empresas.csv") {
            return Err(missing("empresas.csv", threshold));
        }
        rows_of(&self.p.empresas, rfc)
            .next()
            .ok_or_else(|| missing(format!("empresas.csv: no row for {rfc}"), threshold))
    }

    pub(super) fn flag(&self, rfc: &str, field: &str, threshold: &str) -> Result<i64, Eval> {
        let i = self.empresa(rfc, threshold)?;
        av_int(&self.p.empresas, field, i)
            .ok_or_else(|| missing(format!("empresas.csv: {field}"), threshold))
    }

    /// Opinión positiva issued within the 30 days before the as-of date (002 L503).
    pub(super) fn opinion(&self, rfc: &str) -> Eval {
        let days = cert_rules::iparam("A-III", "max_opinion_age_days");
        let th = format!("positive, issued within {days} days before the as-of date");
        let th = th.as_str();
        let w = format!("{}..{}", self.as_of - Duration::days(days), self.as_of);
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
        let ok = (0..=days).contains(&age);
        ev(
            if ok { Status::Pass } else { Status::Fail },
            format!("positive, issued {d} ({age} days before)"),
            th,
        )
        .window(w)
    }

    pub(super) fn imss(&self, rfc: &str, bimestre: &str) -> Option<i64> {
        rows_of(&self.p.imss, rfc)
            .find(|i| av_str(&self.p.imss, "bimestre", *i).as_deref() == Some(bimestre))
            .and_then(|i| av_int(&self.p.imss, "trabajadores", i))
    }

    pub(super) fn money_field(&self, rfc: &str, field: &str, th: &str) -> Result<Decimal, Eval> {
        let i = self.empresa(rfc, th)?;
        av_dec(&self.p.empresas, field, i)
            .ok_or_else(|| missing(format!("empresas.csv: {field}"), th))
    }

    /// Start of operations under the regime: empresas.fecha_inicio_operaciones (exact,
    /// `true`), else the first IMMEX pedimento in the dataset (`false`): the company
    /// operated at least since then, but the dataset may start after its operations did,
    /// so that date can prove a requirement met and never prove it failed.
    pub(super) fn ops_start(
        &self,
        rfc: &str,
        f: Option<&Facts>,
    ) -> Option<(NaiveDate, &'static str, bool)> {
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
    pub(super) fn suppliers(&self, rfc: &str, code: &str) -> Eval {
        let min_pct = cert_rules::param(code, "min_pct");
        let days = cert_rules::iparam(code, "max_opinion_age_days");
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
                .map(|d| (0..=days).contains(&(self.as_of - d).num_days()))
                .unwrap_or(false);
            if av_int(df, "opinion_positiva", i) == Some(1)
                && fresh
                && av_int(df, "en_listas", i) == Some(0)
            {
                good += v;
            }
        }
        let ok = good * Decimal::from(100) >= min_pct * total;
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
    pub(super) fn size(&self, rfc: &str, f: Option<&Facts>, code: &str) -> Eval {
        let years = cert_rules::iparam(code, "min_years") as u32;
        let emp = cert_rules::param(code, "more_than_employees");
        let maq = cert_rules::param(code, "more_than_machinery_mxn");
        let th = format!(
            ">= {years} years OR > {emp} employees (avg) OR machinery > {}",
            money(maq)
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
            any_pass |= avg > emp;
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
                any_pass |= m > maq;
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
    pub(super) fn credits(&self, rfc: &str, months: u32) -> Eval {
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
    pub(super) fn refunds(&self, rfc: &str, code: &str) -> Eval {
        let max_pct = cert_rules::param(code, "max_denied_pct");
        let max_mxn = cert_rules::param(code, "max_denied_mxn");
        let th = match self.opts.refunds {
            RefundReading::Strict => {
                format!(
                    "denied <= {max_pct}% of authorized and <= {}",
                    money(max_mxn)
                )
            }
            RefundReading::BothExceeded => format!(
                "not (denied > {max_pct}% of authorized and > {})",
                money(max_mxn)
            ),
        };
        let th = th.as_str();
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
        let over_pct = denied * Decimal::from(100) > max_pct * auth;
        let over_cap = denied > max_mxn;
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
