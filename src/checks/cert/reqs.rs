//! The requirement catalogue of modalities A / AA / AAA and the evaluation of one requirement.

use super::*;

pub(super) struct ReqDef {
    pub(super) modality: &'static str,
    pub(super) code: &'static str,
    pub(super) requirement: &'static str,
    pub(super) citation: &'static str,
}

pub(super) const fn r(
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
pub(super) const REQS: &[ReqDef] = &[
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
