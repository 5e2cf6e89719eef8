//! The assessment of every company (verdicts) and its frames: series, assessment table, findings.

use super::*;

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
pub(super) fn verdict_words(
    v: &str,
    rows: &[ReqRow],
    version: Option<&cert_rules::RuleVersion>,
) -> String {
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

pub(super) fn blocks(r: &ReqRow, opts: &CertOptions) -> bool {
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

pub(super) fn evaluate(
    ctx: &AuditContext,
    opts: &CertOptions,
    full_series: bool,
) -> Result<Assessment, CheckError> {
    let mut st = crate::timing::Stages::new("cert evaluate");
    let p = profile::load_cert(ctx.opts.profiles.as_deref())
        .map_err(|e| CheckError::Other(e.to_string()))?;
    st.mark("profiles");
    let facts = facts(ctx, &p)?;
    st.mark("facts");
    let series = ratio_points(ctx, opts, &facts, full_series)?;
    st.mark("series");
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
    // A batch assesses its own companies only: the profile lists every company, and what a
    // batch says about the others is dropped ([`AuditContext::filter_scope`]). Assessing
    // them anyway made the batched audit quadratic in the number of companies (10 M
    // partidas of 200 companies in 200 batches: `cert_as_of` 0.12 -> 0.08 s a batch).
    if let Some(scope) = &ctx.scope {
        let scope: BTreeSet<&str> = scope.iter().map(String::as_str).collect();
        companies.retain(|r| scope.contains(r.as_str()));
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
        for def in REQS.iter() {
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
    st.mark("requirements");
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
        // The measured / threshold / window / missing values are stored in English; the
        // Spanish message shows their Spanish form (one table: model::phrases).
        let es = crate::model::phrases::es;
        let mensaje = |r: &ReqRow| {
            let what = if r.status == Status::Fail {
                format!("no se cumple: valor medido {}", es(&r.measured))
            } else {
                format!("no puede verificarse: falta {}", es(&r.missing))
            };
            format!(
                "Certificación {} requisito {} ({}) {what}; umbral {}{}",
                r.modality,
                r.code,
                requirement_es(r.code).unwrap_or(r.requirement),
                es(&r.threshold),
                if r.window.is_empty() {
                    String::new()
                } else {
                    format!("; ventana {}", es(&r.window))
                }
            )
        };
        findings_frame(
            &rs.iter()
                .map(|r| Finding {
                    period_start: r.period_start,
                    // The shortfall is on the CERT-RATIO finding and the credit amount in
                    // the assessment table: no amount here, so sums across findings (and
                    // across AA/AAA, which test the same credits) do not double count.
                    amount: None,
                    message: msg(r),
                    mensaje: mensaje(r),
                    citation: r.citation.to_string(),
                    evidence: format!("cert_assessment:{}#{}", r.rfc, r.code),
                    ..Finding::new(code, sev(r), &r.rfc, as_of)
                })
                .collect::<Vec<_>>(),
        )
    }

    /// CERT-RATIO findings: ratio at the as-of date below threshold (not exempt).
    pub fn ratio_findings(&self, as_of: NaiveDate, opts: &CertOptions) -> PolarsResult<DataFrame> {
        let cur = opts.value_basis.currency();
        let rows = self
            .series
            .iter()
            .filter(|p| p.period_end == as_of && (p.status == "fail" || p.status == "partial"))
            .map(|p| Finding {
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
                // A partial window says so and is not a high finding (issue: never a ratio
                // failure on less than 12 months of data without saying so).
                ..Finding::new(
                    "CERT-RATIO",
                    if p.status == "partial" { "low" } else { "high" },
                    &p.rfc,
                    as_of,
                )
            })
            .collect::<Vec<_>>();
        findings_frame(&rows)
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

pub(in crate::checks) fn findings_frame(rows: &[Finding]) -> PolarsResult<DataFrame> {
    Finding::to_frame(rows)
}
