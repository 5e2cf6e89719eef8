//! `report.html`: one self-contained page (inline CSS, inline SVG, no script, no external
//! resource). All text goes through [`super::format::html`].

use super::format::html as esc;
use super::model::ReportData;
use super::svg;
use super::tables::{self, Table};
use crate::model::lang::{Label, Lang};
use rust_decimal::Decimal;
use std::fmt::Write;

pub const CSS: &str = "\
body{font-family:-apple-system,'Segoe UI',Roboto,'DejaVu Sans',sans-serif;margin:24px auto;max-width:1200px;color:#222;line-height:1.4;padding:0 16px}\
h1{font-size:22px;border-bottom:3px solid #1f5f8b;padding-bottom:6px}\
h2{font-size:18px;margin-top:32px;border-bottom:1px solid #ccc;padding-bottom:3px;color:#1f5f8b}\
h3{font-size:15px;margin-top:20px}\
table{border-collapse:collapse;margin:8px 0 16px;font-size:12px}\
th,td{border:1px solid #ccc;padding:3px 6px;vertical-align:top}\
th{background:#eef3f7;text-align:left}\
td.r{text-align:right;white-space:nowrap}td.n{white-space:nowrap}p{font-size:13px}\
table.facts th{width:220px}\
tr.total td{font-weight:bold;background:#f7f7f7}\
.na{color:#777;font-style:italic}\
.cards{display:flex;gap:12px;flex-wrap:wrap;margin:12px 0}\
.card{border:1px solid #ccc;border-radius:6px;padding:8px 14px;min-width:200px}\
.card b{display:block;font-size:20px;color:#1f5f8b}\
.verdict-pass,.verdict-cumple{color:#27ae60;font-weight:bold}\
.verdict-fail,.verdict-no{color:#c0392b;font-weight:bold}\
.verdict-unknown{color:#b9770e;font-weight:bold}\
code{font-size:12px;background:#f4f4f4;padding:2px 4px;word-break:break-all}\
figure{margin:8px 0 20px}\
ul.checklist{list-style:none;padding-left:8px;font-size:13px}\
@media print{body{max-width:none;margin:0;padding:0;font-size:10px}\
h2{page-break-before:always;page-break-after:avoid}h1+table+h2,h2.first{page-break-before:avoid}\
h3{page-break-after:avoid}\
table{page-break-inside:auto;width:100%;table-layout:auto;font-size:9px}\
tr{page-break-inside:avoid}thead{display:table-header-group}\
td,th{white-space:normal!important;word-break:break-word;overflow-wrap:anywhere}\
td.r{white-space:nowrap!important}\
figure,svg,.cards{page-break-inside:avoid}svg{max-width:100%;height:auto}\
code{white-space:pre-wrap}a{color:inherit;text-decoration:none}}";

fn table(o: &mut String, t: &Table, total_last: bool) {
    o.push_str("<table><thead><tr>");
    for h in &t.headers {
        let _ = write!(o, "<th>{}</th>", esc(h));
    }
    o.push_str("</tr></thead><tbody>");
    let n = t.rows.len();
    for (i, r) in t.rows.iter().enumerate() {
        if total_last && i + 1 == n {
            o.push_str("<tr class=\"total\">");
        } else {
            o.push_str("<tr>");
        }
        for (k, c) in r.iter().enumerate() {
            if t.right.get(k).copied().unwrap_or(false) {
                let _ = write!(o, "<td class=\"r\">{}</td>", esc(c));
            } else if c.len() <= 32 && !c.contains(' ') {
                // Ids, dates, codes: keep on one line.
                let _ = write!(o, "<td class=\"n\">{}</td>", esc(c));
            } else {
                let _ = write!(o, "<td>{}</td>", esc(c));
            }
        }
        o.push_str("</tr>");
    }
    o.push_str("</tbody></table>\n");
}

fn na(o: &mut String, text: &str) {
    let _ = writeln!(o, "<p class=\"na\">{}</p>", esc(text));
}

fn verdict_class(v: &str) -> String {
    let w: String = v
        .to_lowercase()
        .chars()
        .take_while(|c| c.is_ascii_alphanumeric())
        .collect();
    format!("verdict-{w}")
}

/// The certification page at a glance: the ratio now against the company's own threshold,
/// the shortfall, months to the next failure at the current pace, and the manual
/// requirements whose evidence must be attached.
fn cert_glance(o: &mut String, d: &ReportData) {
    let l = d.meta.lang;
    let _ = writeln!(
        o,
        "<h3 id=\"certification\">{}</h3>",
        esc(l.pick("Certificación de un vistazo", "Certification at a glance"))
    );
    match &d.cert_headline {
        Some(h) => {
            let below = h.ratio < h.threshold;
            let _ = write!(
                o,
                "<div class=\"cards\"><div class=\"card\">{}<b class=\"{}\">{}</b>{}</div>",
                esc(&format!(
                    "{} ({} {})",
                    l.pick("Índice de retorno a 12 meses", "12-month return ratio"),
                    l.pick("ventana que termina en", "window ending"),
                    h.month
                )),
                if below {
                    "verdict-fail"
                } else {
                    "verdict-pass"
                },
                esc(&super::format::pct(h.ratio)),
                esc(&format!(
                    "{} {}{}",
                    l.pick("umbral de la empresa", "company threshold"),
                    super::format::pct(h.threshold),
                    if h.partial {
                        l.pick(" (ventana parcial)", " (partial window)")
                    } else {
                        ""
                    }
                ))
            );
            let _ = write!(
                o,
                "<div class=\"card\">{}<b>{}</b></div>",
                esc(l.pick("Faltante para el umbral", "Shortfall to the threshold")),
                esc(&match h.shortfall {
                    Some(s) => l.money(s),
                    None => l.pick("ninguno", "none").to_string(),
                })
            );
            let pace = match h.pace {
                Some(p) => format!(
                    "{}{} {}",
                    if p > rust_decimal::Decimal::ZERO {
                        "+"
                    } else {
                        ""
                    },
                    p.normalize(),
                    l.pick("pp/mes", "pp/month")
                ),
                None => "n/a".into(),
            };
            let _ = writeln!(
                o,
                "<div class=\"card\">{}<b>{}</b>{} {}</div></div>",
                esc(l.pick(
                    "Meses para el próximo incumplimiento al ritmo actual",
                    "Months to the next failure at the current pace"
                )),
                esc(&match h.months_to_failure {
                    Some(0) => l.pick("ya incumple", "already failing").to_string(),
                    Some(m) => m.to_string(),
                    None => "n/a".into(),
                }),
                esc(l.pick("ritmo:", "pace:")),
                esc(&pace)
            );
            let _ = writeln!(
                o,
                "<p>{}</p>",
                esc(l.pick(
                    "Ritmo: el cambio mensual promedio del índice en los últimos 3 meses ((índice actual − índice de 3 meses antes) / 3, en puntos porcentuales). Meses para el incumplimiento: (índice − umbral) / −ritmo, redondeado hacia arriba; «n/a» cuando el índice no baja.",
                    "Pace: the average monthly change of the ratio over the last 3 months ((ratio now − ratio 3 months earlier) / 3, in percentage points). Months to failure: (ratio − threshold) / −pace, rounded up; \"n/a\" when the ratio is not falling."
                ))
            );
        }
        None => na(
            o,
            l.pick(
                "Sin serie del índice de retorno (cert_ratio_series.parquet) para esta empresa.",
                "No return-ratio series (cert_ratio_series.parquet) for this company.",
            ),
        ),
    }
    // Checklist of the requirements no data can prove.
    let manual: Vec<_> = d
        .assessment
        .iter()
        .flatten()
        .filter(|r| r.status == "unknown" && r.basis == "manual")
        .collect();
    if !manual.is_empty() {
        let _ = writeln!(
            o,
            "<p><b>{}</b></p><ul class=\"checklist\">",
            esc(l.pick(
                "Requisitos a comprobar con evidencia adjunta (no se pueden verificar con los datos):",
                "Requirements to prove with attached evidence (the data cannot verify them):"
            ))
        );
        for r in manual {
            let _ = write!(
                o,
                "<li>&#9744; <b>{} {}</b>: {}",
                esc(&r.modality),
                esc(&r.code),
                esc(match l {
                    Lang::Es => crate::checks::cert::requirement_es(&r.code)
                        .unwrap_or(r.requirement.as_str()),
                    Lang::En => r.requirement.as_str(),
                })
            );
            if !r.citation.is_empty() {
                let _ = write!(
                    o,
                    " <span class=\"na\">({})</span>",
                    esc(&l.citation(&r.citation))
                );
            }
            o.push_str("</li>");
        }
        o.push_str("</ul>\n");
    }
}

// size-exception: the HTML page, one section after another, in page order
pub fn render(d: &ReportData) -> String {
    let l = d.meta.lang;
    let mut o = String::new();
    let title = tables::title(d);
    let _ = write!(
        o,
        "<!DOCTYPE html>\n<html lang=\"{lang}\"><head><meta charset=\"utf-8\"><meta name=\"viewport\" content=\"width=device-width, initial-scale=1\"><meta name=\"generator\" content=\"pedimento-audit {v}\"><title>{t}</title><style>{CSS}</style></head><body>\n<h1>{t}</h1>\n",
        lang = l.code(),
        v = esc(&d.meta.tool_version),
        t = esc(&title)
    );
    o.push_str("<table class=\"facts\"><tbody>");
    for (k, v) in tables::facts(d) {
        if k == l.label(Label::ReproduceWith) {
            let _ = write!(
                o,
                "<tr><th>{}</th><td><code>{}</code></td></tr>",
                esc(k),
                esc(&v)
            );
        } else {
            let _ = write!(o, "<tr><th>{}</th><td>{}</td></tr>", esc(k), esc(&v));
        }
    }
    o.push_str("</tbody></table>\n");

    // Summary.
    let _ = write!(
        o,
        "<h2>{}</h2>\n<div class=\"cards\"><div class=\"card\">{}<b>{}</b></div>",
        l.label(Label::Summary),
        l.pick("Hallazgos en el periodo", "Findings in the period"),
        d.totals.findings
    );
    for (label, value) in tables::risk(d) {
        let _ = write!(
            o,
            "<div class=\"card\">{}<b>{}</b></div>",
            esc(label),
            esc(&value)
        );
    }
    let _ = write!(
        o,
        "</div>\n<p>{}</p>\n",
        l.pick(
            "Cada monto anterior es un tipo de valor distinto; no se suman entre sí.",
            "Each amount above is a different kind of value; they are not added together."
        )
    );
    cert_glance(&mut o, d);
    let _ = writeln!(
        o,
        "<h3>{}</h3>",
        l.pick(
            "Certificación (IVA/IEPS): dictamen por modalidad",
            "Certification (IVA/IEPS): verdict per modality"
        )
    );
    if let Some(v) = &d.cert_verdict {
        let _ = writeln!(
            o,
            "<p>{}: <b class=\"{}\">{}</b></p>",
            l.pick("Modalidad más alta que se cumple", "Highest modality met"),
            esc(&verdict_class(if v == "none" { "no" } else { "pass" })),
            esc(&tables::status_text(l, v))
        );
    }
    match tables::verdicts(d) {
        Some(t) if !t.rows.is_empty() => {
            o.push_str("<table><thead><tr>");
            for h in &t.headers {
                let _ = write!(o, "<th>{}</th>", esc(h));
            }
            o.push_str("</tr></thead><tbody>");
            for r in &t.rows {
                let _ = write!(
                    o,
                    "<tr><td>{}</td><td class=\"{}\">{}</td>",
                    esc(&r[0]),
                    esc(&verdict_class(match r[1].as_str() {
                        "met" | "cumplida" => "pass",
                        "not met" | "no cumplida" => "fail",
                        _ => "unknown",
                    })),
                    esc(&r[1])
                );
                for c in &r[2..] {
                    let _ = write!(o, "<td class=\"r\">{}</td>", esc(c));
                }
                o.push_str("</tr>");
            }
            o.push_str("</tbody></table>\n");
            if let Some(req) = tables::requirements(d) {
                let _ = writeln!(
                    o,
                    "<h3>{}</h3>",
                    l.pick(
                        "Requisitos de la certificación",
                        "Certification requirements"
                    )
                );
                table(&mut o, &req, false);
            }
        }
        Some(_) => na(
            &mut o,
            l.pick(
                "No hay renglones de evaluación para esta empresa.",
                "No assessment rows for this company.",
            ),
        ),
        None => na(
            &mut o,
            l.pick(
                "No disponible: la carpeta de auditoría no tiene cert_assessment.parquet.",
                "Not available: the audit folder has no cert_assessment.parquet.",
            ),
        ),
    }
    let _ = writeln!(
        o,
        "<h3>{}</h3>",
        l.pick("Totales en riesgo por revisión", "Totals at risk by check")
    );
    table(&mut o, &tables::totals(d), true);

    // Charts.
    let ratio_title = l.pick(
        "Índice de retorno móvil de 12 meses",
        "Rolling 12-month return ratio",
    );
    let _ = writeln!(
        o,
        "<h2>{}</h2>\n<h3>{ratio_title}</h3>",
        l.pick("Gráficas", "Charts")
    );
    match &d.ratio {
        Some(r) if !r.is_empty() => {
            let pts: Vec<(String, Option<Decimal>)> =
                r.iter().map(|p| (p.month.clone(), p.ratio_pct)).collect();
            let partial: Vec<bool> = r
                .iter()
                .map(|p| p.full_window == Some(false) || p.status.as_deref() == Some("partial"))
                .collect();
            let as_of_month = d.as_of.format("%Y-%m").to_string();
            let _ = writeln!(
                o,
                "<figure>{}</figure>",
                svg::ratio_chart(
                    ratio_title,
                    &pts,
                    &[
                        (
                            Decimal::from(60),
                            l.pick("60% (IMMEX, modalidad A)", "60% (IMMEX, modality A)"),
                        ),
                        (
                            Decimal::from(80),
                            l.pick("80% (sectores sensibles)", "80% (sensitive sectors)"),
                        ),
                    ],
                    &svg::RatioMarks {
                        x_title: d.meta.lang.pick(
                            "Mes en que termina la ventana de 12 meses",
                            "Month the 12-month window ends",
                        ),
                        y_title: d
                            .meta
                            .lang
                            .pick("Índice de retorno (%)", "Return ratio (%)"),
                        as_of: Some((
                            as_of_month.as_str(),
                            d.meta.lang.pick("fecha de corte", "as-of date"),
                        )),
                        partial: &partial,
                        partial_label: d.meta.lang.pick("ventana parcial", "partial window"),
                    },
                )
            );
            if let Some(t) = tables::ratio(d) {
                table(&mut o, &t, false);
            }
        }
        Some(_) => na(
            &mut o,
            l.pick(
                "No hay puntos del índice para esta empresa en el periodo.",
                "No ratio points for this company in the period.",
            ),
        ),
        None => na(
            &mut o,
            l.pick(
                "No disponible: la carpeta de auditoría no tiene cert_ratio_series.parquet.",
                "Not available: the audit folder has no cert_ratio_series.parquet.",
            ),
        ),
    }
    let _ = writeln!(
        o,
        "<h3>{}</h3>",
        l.pick(
            "Vencimientos: saldo de importaciones temporales por días al fin del plazo (a la fecha de corte)",
            "Vencimientos: open temporary-import balance by days to plazo end (at the as-of date)"
        )
    );
    let items: Vec<(String, Decimal)> = d
        .aging
        .iter()
        .map(|b| {
            let label = crate::report::model::AGE_BUCKETS
                .iter()
                .position(|x| *x == b.label)
                .map(|k| tables::bucket_text(l, k))
                .unwrap_or_else(|| b.label.to_string());
            (label, b.value)
        })
        .collect();
    let _ = writeln!(
        o,
        "<figure>{}</figure>",
        svg::bars(
            l.pick(
                "Valor del saldo de importaciones temporales por días al fin del plazo (MXN)",
                "Open temporary-import value by days to plazo end (MXN)"
            ),
            &items
        )
    );
    table(&mut o, &tables::aging(d), true);
    let (t, left) = tables::vencimientos(d);
    if t.rows.is_empty() {
        na(
            &mut o,
            l.pick(
                "Ninguna partida con saldo está vencida ni vence dentro de 90 días de la fecha de corte.",
                "No open partida is overdue or due within 90 days of the as-of date.",
            ),
        );
    } else {
        let _ = writeln!(
            o,
            "<p>{}</p>",
            l.pick(
                "Partidas vencidas o por vencer dentro de 90 días, por fin del plazo (retornar o regularizar primero):",
                "Partidas overdue or due within 90 days, by plazo end (return or regularize first):"
            )
        );
        table(&mut o, &t, false);
        if left > 0 {
            let _ = writeln!(
                o,
                "<p class=\"na\">{left} {}</p>",
                l.pick("más en saldos.csv.", "more in saldos.csv.")
            );
        }
    }
    let by_month_title = l.pick(
        "Hallazgos por revisión y mes",
        "Findings by check and month",
    );
    let _ = writeln!(o, "<h3>{by_month_title}</h3>");
    let no_findings = l.pick(
        "No hay hallazgos en el periodo.",
        "No findings in the period.",
    );
    if d.by_month.is_empty() {
        na(&mut o, no_findings);
    } else {
        // Every month of the period up to the as-of date (and any month with findings),
        // so gaps show as gaps.
        let mut months: std::collections::BTreeSet<String> = d.by_month.keys().cloned().collect();
        let last = d.period.end().min(d.as_of);
        let mut m = d.period.start();
        while m <= last {
            months.insert(m.format("%Y-%m").to_string());
            m = crate::model::calendar::add_months(m, 1);
        }
        let months: Vec<String> = months.into_iter().collect();
        let series: Vec<(String, Vec<usize>)> = tables::month_checks(d)
            .into_iter()
            .map(|c| {
                let v = months
                    .iter()
                    .map(|mo| {
                        d.by_month
                            .get(mo)
                            .and_then(|x| x.get(&c))
                            .copied()
                            .unwrap_or(0)
                    })
                    .collect();
                (c, v)
            })
            .collect();
        let _ = writeln!(
            o,
            "<figure>{}</figure>",
            svg::stacked(by_month_title, &months, &series)
        );
        table(&mut o, &tables::by_month(d), false);
    }

    let _ = writeln!(
        o,
        "<h2>{}</h2>",
        l.pick(
            "Saldos por pedimento/partida (a la fecha de corte)",
            "Saldos por pedimento/partida (open at the as-of date)"
        )
    );
    if d.saldos.is_empty() {
        na(
            &mut o,
            l.pick(
                "No hay saldos de importación temporal a la fecha de corte.",
                "No open temporary-import balance at the as-of date.",
            ),
        );
    } else {
        let (t, left) = tables::saldos(d);
        table(&mut o, &t, false);
        if left > 0 {
            let _ = writeln!(
                o,
                "<p class=\"na\">{left} {}</p>",
                l.pick(
                    "partida(s) más con saldo están en saldos.csv.",
                    "more open partida(s) are in saldos.csv."
                )
            );
        }
    }

    let _ = writeln!(
        o,
        "<h2 id=\"kardex\">{}</h2>",
        esc(l.pick(
            "Kardex por mercancía (entradas, salidas por tipo, saldo; cantidades en la UMT de cada mercancía)",
            "Kardex per good (entradas, salidas by kind, saldo; quantities in the good's UMT)"
        ))
    );
    if d.kardex.is_empty() {
        na(
            &mut o,
            l.pick(
                "Sin movimientos de importación temporal en el periodo.",
                "No temporary-import movement in the period.",
            ),
        );
    } else {
        let (t, left) = tables::kardex(d);
        table(&mut o, &t, false);
        if left > 0 {
            let _ = writeln!(
                o,
                "<p class=\"na\">{left} {}</p>",
                l.pick(
                    "mercancía(s) más en kardex.csv.",
                    "more good(s) are in kardex.csv."
                )
            );
        }
        let _ = writeln!(
            o,
            "<p>{}</p>",
            esc(l.pick(
                "Cada movimiento con su saldo acumulado está en kardex.csv y en la hoja Kardex de report.xlsx.",
                "Every movement with its running saldo is in kardex.csv and the Kardex sheet of report.xlsx."
            ))
        );
    }

    let _ = writeln!(
        o,
        "<h2>{}</h2>",
        l.pick("Tendencia por año", "Trend per year")
    );
    if d.trend.len() > 1 {
        let items: Vec<(String, Decimal)> = d
            .trend
            .iter()
            .map(|y| (y.year.to_string(), y.totals.contributions()))
            .collect();
        let _ = writeln!(
            o,
            "<figure>{}</figure>",
            svg::bars(
                l.pick(
                    "Contribuciones en riesgo por año (hallazgos archivados en ese año, MXN)",
                    "Contributions at risk per year (findings filed in that year, MXN)"
                ),
                &items
            )
        );
    }
    table(&mut o, &tables::trend(d), false);

    if let (Some(s), Some(st), Some(picks)) =
        (&d.sample, tables::sample_strata(d), tables::sample_picks(d))
    {
        let _ = match l {
            crate::model::lang::Lang::Es => writeln!(
                o,
                "<h2>Muestra para el auditor</h2>\n<p>{} de {} pedimentos solicitados, seleccionados con semilla {} (también en sample.csv).</p>",
                s.picks.len(),
                s.requested,
                s.seed
            ),
            crate::model::lang::Lang::En => writeln!(
                o,
                "<h2>Auditor's sample</h2>\n<p>{} of {} requested pedimentos drawn with seed {} (also in sample.csv).</p>",
                s.picks.len(),
                s.requested,
                s.seed
            ),
        };
        table(&mut o, &st, false);
        table(&mut o, &picks, false);
    }

    let _ = writeln!(o, "<h2>{}</h2>", l.label(Label::Findings));
    if d.by_check.is_empty() {
        na(&mut o, no_findings);
    }
    for c in &d.by_check {
        let _ = writeln!(
            o,
            "<h3 id=\"{id}\">{code}: {title} ({sev}, {n} {word})</h3>",
            id = esc(&c.code.to_lowercase()),
            code = esc(&c.code),
            title = esc(&tables::check_title(l, &c.code, &c.title)),
            sev = esc(&l.severity(&c.severity)),
            n = c.totals.findings,
            word = l.pick("hallazgo(s)", "finding(s)")
        );
        for cit in &c.citations {
            let _ = writeln!(
                o,
                "<p><b>{}:</b> {}</p>",
                l.label(Label::Citation),
                esc(&l.citation(cit))
            );
        }
        let (t, left) = tables::findings_of(d, &c.code);
        table(&mut o, &t, false);
        if left > 0 {
            let _ = writeln!(
                o,
                "<p class=\"na\">{left} {}</p>",
                l.pick(
                    "hallazgo(s) más de esta revisión están en findings.csv.",
                    "more finding(s) of this check are in findings.csv."
                )
            );
        }
    }
    let _ = writeln!(
        o,
        "<h2 id=\"rejects\">{}</h2>",
        esc(l.pick(
            "Renglones rechazados en la carga (todo el dataset)",
            "Rejected input rows (whole dataset)"
        ))
    );
    match tables::rejects(d) {
        Some(t) => {
            let _ = writeln!(
                o,
                "<p>{} {}</p>",
                d.rejects.len(),
                esc(l.pick(
                    "renglón(es) rechazados por la carga, por archivo, registro y campo; cada renglón con su línea y motivo está en rejects.csv y en la hoja Rechazos de report.xlsx.",
                    "row(s) rejected by ingest, by file, record and field; every row with its line and reason is in rejects.csv and the Rejects sheet of report.xlsx."
                ))
            );
            table(&mut o, &t, false);
        }
        None => na(
            &mut o,
            l.pick(
                "La carga no rechazó ningún renglón.",
                "Ingest rejected no row.",
            ),
        ),
    }
    let _ = write!(o, "<h2>{}</h2>\n<ul>", l.pick("Notas", "Notes"));
    for n in tables::notes(l) {
        let _ = write!(o, "<li>{}</li>", esc(n));
    }
    o.push_str("</ul>\n</body></html>\n");
    o
}
