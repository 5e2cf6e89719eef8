//! The requirement catalogue of modalities A / AA / AAA and the evaluation of one requirement.

use super::*;
use std::sync::LazyLock;

pub(super) struct ReqDef {
    pub(super) modality: &'static str,
    pub(super) code: &'static str,
    pub(super) requirement: &'static str,
    pub(super) citation: &'static str,
}

/// Every requirement assessed, in report order (`src/catalogs/cert_requirements.csv`: the
/// 2013 citation is the one applied when the version in force checks a code under
/// `cert.rs`'s own text, see `cert_rules::resolve`).
pub(super) static REQS: LazyLock<Vec<ReqDef>> = LazyLock::new(|| {
    let leak = |s: &str| -> &'static str { Box::leak(s.to_string().into_boxed_str()) };
    csv::Reader::from_reader(REQS_CSV.as_bytes())
        .records()
        .map(|r| {
            let r = r.expect("cert_requirements.csv row");
            ReqDef {
                modality: leak(&r[0]),
                code: leak(&r[1]),
                requirement: leak(&r[2]),
                citation: leak(&r[3]),
            }
        })
        .collect()
});

pub(super) const REQS_CSV: &str = include_str!("../../catalogs/cert_requirements.csv");

pub(super) fn ratio_eval(pt: Option<&RatioPoint>, t: Decimal, basis_cur: &str) -> Eval {
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

// size-exception: one match arm per certification requirement code
pub(super) fn evaluate_req(
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
            let min = cert_rules::iparam("A-VI", "min_employees");
            let th = format!(">= {min} employees");
            let th = th.as_str();
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
                    if n >= min { Status::Pass } else { Status::Fail },
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
            let months = cert_rules::iparam("S-a", "min_months");
            let th = format!(">= {months} months before the as-of date");
            let th = th.as_str();
            match c.ops_start(rfc, f) {
                Some((d, src, exact)) => {
                    let ok = d + Months::new(months as u32) <= as_of;
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
            let additional = cert_rules::iparam("S-c", "additional_employees");
            let need = match c.opts.sc_headcount {
                ScHeadcount::TenPlusTwenty => {
                    cert_rules::iparam("A-VI", "min_employees") + additional
                }
                ScHeadcount::TwentyEach => additional,
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
            let min = cert_rules::param("S-e", "min_mxn");
            let th = format!(">= {}", money(min));
            let th = th.as_str();
            match c.money_field(rfc, "capital_maquinaria_mxn", th) {
                Ok(v) => ev(
                    if v >= min { Status::Pass } else { Status::Fail },
                    money(v),
                    th,
                ),
                Err(e) => e,
            }
        }
        "AA-a" | "AAA-a" => c.suppliers(rfc, def.code),
        "AA-b" | "AAA-b" => c.size(rfc, f, def.code),
        "AA-c" | "AAA-c" => c.credits(rfc, cert_rules::iparam(def.code, "months") as u32),
        "AA-d" | "AAA-d" => c.refunds(rfc, def.code),
        other => unreachable!("requirement {other} has no evaluation"),
    }
}
