//! `report.md`: the same content as the HTML report, charts shown as tables.

use super::format::md;
use super::model::ReportData;
use super::tables::{self, Table};
use crate::model::lang::{Label, Lang};
use std::fmt::Write;

fn table(out: &mut String, t: &Table) {
    let _ = writeln!(
        out,
        "| {} |",
        t.headers
            .iter()
            .map(|h| md(h))
            .collect::<Vec<_>>()
            .join(" | ")
    );
    let _ = writeln!(
        out,
        "|{}|",
        t.right
            .iter()
            .map(|r| if *r { "---:" } else { "---" })
            .collect::<Vec<_>>()
            .join("|")
    );
    for r in &t.rows {
        let _ = writeln!(
            out,
            "| {} |",
            r.iter().map(|c| md(c)).collect::<Vec<_>>().join(" | ")
        );
    }
    out.push('\n');
}

// size-exception: the Markdown page, one section after another, in page order
pub fn render(d: &ReportData) -> String {
    let l = d.meta.lang;
    let mut o = String::new();
    let _ = writeln!(o, "# {}\n", md(&tables::title(d)));
    o.push_str("| | |\n|---|---|\n");
    for (k, v) in tables::facts(d) {
        if k == l.label(Label::ReproduceWith) {
            let _ = writeln!(o, "| {k} | `{}` |", v.replace('`', "'").replace('|', "\\|"));
        } else {
            let _ = writeln!(o, "| {k} | {} |", md(&v));
        }
    }
    o.push('\n');

    let _ = writeln!(o, "## {}\n", l.label(Label::Summary));
    let _ = writeln!(
        o,
        "{} {}\n",
        d.totals.findings,
        l.pick("hallazgo(s) en el periodo.", "finding(s) in the period.")
    );
    let _ = writeln!(
        o,
        "| {} | MXN |\n|---|---:|",
        l.pick(
            "Monto en riesgo (cada uno es un tipo de valor distinto; no se suman entre sí)",
            "Amount at risk (each a different kind of value; not added together)"
        )
    );
    for (k, v) in tables::risk(d) {
        let _ = writeln!(o, "| {} | {} |", md(k), md(&v));
    }
    o.push('\n');
    let _ = writeln!(
        o,
        "### {}\n",
        l.pick(
            "Certificación (IVA/IEPS): dictamen por modalidad",
            "Certification (IVA/IEPS): verdict per modality"
        )
    );
    if let Some(v) = &d.cert_verdict {
        let _ = writeln!(
            o,
            "{}: **{}**\n",
            l.pick("Modalidad más alta que se cumple", "Highest modality met"),
            md(&tables::status_text(l, v))
        );
    }
    match tables::verdicts(d) {
        Some(t) if !t.rows.is_empty() => {
            table(&mut o, &t);
            if let Some(req) = tables::requirements(d) {
                let _ = writeln!(
                    o,
                    "### {}\n",
                    l.pick(
                        "Requisitos de la certificación",
                        "Certification requirements"
                    )
                );
                table(&mut o, &req);
            }
        }
        Some(_) => {
            let _ = writeln!(
                o,
                "{}\n",
                l.pick(
                    "No hay renglones de evaluación para esta empresa.",
                    "No assessment rows for this company."
                )
            );
        }
        None => {
            let _ = writeln!(
                o,
                "{}\n",
                l.pick(
                    "No disponible: la carpeta de auditoría no tiene cert_assessment.parquet.",
                    "Not available: the audit folder has no cert_assessment.parquet."
                )
            );
        }
    }
    let _ = writeln!(
        o,
        "### {}\n",
        l.pick("Totales por revisión", "Totals by check")
    );
    table(&mut o, &tables::totals(d));

    let _ = writeln!(
        o,
        "{}\n",
        l.pick(
            "## Gráficas (como tablas)\n\n### Índice de retorno móvil de 12 meses (umbrales 60% y 80%)",
            "## Charts (as tables)\n\n### Rolling 12-month return ratio (thresholds 60% and 80%)"
        )
    );
    match tables::ratio(d) {
        Some(t) if !t.rows.is_empty() => table(&mut o, &t),
        Some(_) => {
            let _ = writeln!(
                o,
                "{}\n",
                l.pick(
                    "No hay puntos del índice para esta empresa en el periodo.",
                    "No ratio points for this company in the period."
                )
            );
        }
        None => {
            let _ = writeln!(
                o,
                "{}\n",
                l.pick(
                    "No disponible: la carpeta de auditoría no tiene cert_ratio_series.parquet.",
                    "Not available: the audit folder has no cert_ratio_series.parquet."
                )
            );
        }
    }
    let _ = writeln!(
        o,
        "### {}\n",
        l.pick(
            "Vencimientos: saldo de importaciones temporales por días al fin del plazo",
            "Vencimientos: open temporary-import balance by days to plazo end"
        )
    );
    table(&mut o, &tables::aging(d));
    let (t, left) = tables::vencimientos(d);
    if t.rows.is_empty() {
        let _ = writeln!(
            o,
            "{}\n",
            l.pick(
                "Ninguna partida con saldo está vencida ni vence dentro de 90 días de la fecha de corte.",
                "No open partida is overdue or due within 90 days of the as-of date."
            )
        );
    } else {
        let _ = writeln!(
            o,
            "{}\n",
            l.pick(
                "Partidas vencidas o por vencer dentro de 90 días, por fin del plazo (retornar o regularizar primero):",
                "Partidas overdue or due within 90 days, by plazo end (return or regularize first):"
            )
        );
        table(&mut o, &t);
        if left > 0 {
            let _ = writeln!(
                o,
                "{left} {}\n",
                l.pick("más en saldos.csv.", "more in saldos.csv.")
            );
        }
    }
    let no_findings = l.pick(
        "No hay hallazgos en el periodo.",
        "No findings in the period.",
    );
    let _ = writeln!(
        o,
        "### {}\n",
        l.pick(
            "Hallazgos por revisión y mes",
            "Findings by check and month"
        )
    );
    if d.by_month.is_empty() {
        let _ = writeln!(o, "{no_findings}\n");
    } else {
        table(&mut o, &tables::by_month(d));
    }

    let _ = writeln!(
        o,
        "## {}\n",
        l.pick(
            "Saldos por pedimento/partida (a la fecha de corte)",
            "Saldos por pedimento/partida (open at the as-of date)"
        )
    );
    if d.saldos.is_empty() {
        let _ = writeln!(
            o,
            "{}\n",
            l.pick(
                "No hay saldos de importación temporal a la fecha de corte.",
                "No open temporary-import balance at the as-of date."
            )
        );
    } else {
        let (t, left) = tables::saldos(d);
        table(&mut o, &t);
        if left > 0 {
            let _ = writeln!(
                o,
                "{left} {}\n",
                l.pick(
                    "partida(s) más con saldo están en saldos.csv.",
                    "more open partida(s) are in saldos.csv."
                )
            );
        }
    }

    let _ = writeln!(
        o,
        "## {}\n",
        l.pick(
            "Kardex por mercancía (entradas, salidas por tipo, saldo; cantidades en la UMT de cada mercancía)",
            "Kardex per good (entradas, salidas by kind, saldo; quantities in the good's UMT)"
        )
    );
    if d.kardex.is_empty() {
        let _ = writeln!(
            o,
            "{}\n",
            l.pick(
                "Sin movimientos de importación temporal en el periodo.",
                "No temporary-import movement in the period."
            )
        );
    } else {
        let (t, left) = tables::kardex(d);
        table(&mut o, &t);
        if left > 0 {
            let _ = writeln!(
                o,
                "{left} {}\n",
                l.pick(
                    "mercancía(s) más en kardex.csv.",
                    "more good(s) are in kardex.csv."
                )
            );
        }
        let _ = writeln!(
            o,
            "{}\n",
            l.pick(
                "Cada movimiento con su saldo acumulado está en kardex.csv y en la hoja Kardex de report.xlsx.",
                "Every movement with its running saldo is in kardex.csv and the Kardex sheet of report.xlsx."
            )
        );
    }

    let _ = writeln!(o, "## {}\n", l.pick("Tendencia por año", "Trend per year"));
    table(&mut o, &tables::trend(d));

    if let (Some(s), Some(st), Some(picks)) =
        (&d.sample, tables::sample_strata(d), tables::sample_picks(d))
    {
        let _ = match l {
            Lang::Es => writeln!(
                o,
                "## Muestra para el auditor\n\n{} de {} pedimentos solicitados, seleccionados con semilla {} (también en sample.csv).\n",
                s.picks.len(),
                s.requested,
                s.seed
            ),
            Lang::En => writeln!(
                o,
                "## Auditor's sample\n\n{} of {} requested pedimentos drawn with seed {} (also in sample.csv).\n",
                s.picks.len(),
                s.requested,
                s.seed
            ),
        };
        table(&mut o, &st);
        table(&mut o, &picks);
    }

    let _ = writeln!(o, "## {}\n", l.label(Label::Findings));
    if d.by_check.is_empty() {
        let _ = writeln!(o, "{no_findings}\n");
    }
    for c in &d.by_check {
        let _ = writeln!(
            o,
            "### {}: {} ({}, {} {})\n",
            md(&c.code),
            md(&tables::check_title(l, &c.code, &c.title)),
            md(&l.severity(&c.severity)),
            c.totals.findings,
            l.pick("hallazgo(s)", "finding(s)")
        );
        for cit in &c.citations {
            let _ = writeln!(
                o,
                "{}: {}\n",
                l.label(Label::Citation),
                md(&l.citation(cit))
            );
        }
        let (t, left) = tables::findings_of(d, &c.code);
        table(&mut o, &t);
        if left > 0 {
            let _ = writeln!(
                o,
                "{left} {}\n",
                l.pick(
                    "hallazgo(s) más de esta revisión están en findings.csv.",
                    "more finding(s) of this check are in findings.csv."
                )
            );
        }
    }

    let _ = writeln!(
        o,
        "## {}\n",
        l.pick(
            "Renglones rechazados en la carga (todo el dataset)",
            "Rejected input rows (whole dataset)"
        )
    );
    match tables::rejects(d) {
        Some(t) => {
            let _ = writeln!(
                o,
                "{} {}\n",
                d.rejects.len(),
                l.pick(
                    "renglón(es) rechazados por la carga, por archivo, registro y campo; cada renglón con su línea y motivo está en rejects.csv y en la hoja Rechazos de report.xlsx.",
                    "row(s) rejected by ingest, by file, record and field; every row with its line and reason is in rejects.csv and the Rejects sheet of report.xlsx."
                )
            );
            table(&mut o, &t);
        }
        None => {
            let _ = writeln!(
                o,
                "{}\n",
                l.pick(
                    "La carga no rechazó ningún renglón.",
                    "Ingest rejected no row."
                )
            );
        }
    }

    let _ = writeln!(o, "## {}\n", l.pick("Notas", "Notes"));
    for n in tables::notes(l) {
        let _ = writeln!(o, "- {}", md(n));
    }
    o
}
