//! `report.md`: the same content as the HTML report, charts shown as tables.

use super::format::md;
use super::model::ReportData;
use super::tables::{self, Table};
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

pub fn render(d: &ReportData) -> String {
    let mut o = String::new();
    let _ = writeln!(o, "# {}\n", md(&tables::title(d)));
    o.push_str("| | |\n|---|---|\n");
    for (k, v) in tables::facts(d) {
        if k == "Reproduce with" {
            let _ = writeln!(o, "| {k} | `{}` |", v.replace('`', "'").replace('|', "\\|"));
        } else {
            let _ = writeln!(o, "| {k} | {} |", md(&v));
        }
    }
    o.push('\n');

    o.push_str("## Summary\n\n");
    let _ = writeln!(o, "{} finding(s) in the period.\n", d.totals.findings);
    o.push_str("| Amount at risk (each a different kind of value; not added together) | MXN |\n|---|---:|\n");
    for (k, v) in tables::risk(d) {
        let _ = writeln!(o, "| {} | {} |", md(k), md(&v));
    }
    o.push('\n');
    o.push_str("### Certification (IVA/IEPS): verdict per modality\n\n");
    if let Some(v) = &d.cert_verdict {
        let _ = writeln!(o, "Highest modality met: **{}**\n", md(v));
    }
    match tables::verdicts(d) {
        Some(t) if !t.rows.is_empty() => {
            table(&mut o, &t);
            if let Some(req) = tables::requirements(d) {
                o.push_str("### Certification requirements\n\n");
                table(&mut o, &req);
            }
        }
        Some(_) => o.push_str("No assessment rows for this company.\n\n"),
        None => o.push_str("Not available: the audit folder has no cert_assessment.parquet.\n\n"),
    }
    o.push_str("### Totals by check\n\n");
    table(&mut o, &tables::totals(d));

    o.push_str(
        "## Charts (as tables)\n\n### Rolling 12-month return ratio (thresholds 60% and 80%)\n\n",
    );
    match tables::ratio(d) {
        Some(t) if !t.rows.is_empty() => table(&mut o, &t),
        Some(_) => o.push_str("No ratio points for this company in the period.\n\n"),
        None => o.push_str("Not available: the audit folder has no cert_ratio_series.parquet.\n\n"),
    }
    o.push_str("### Vencimientos: open temporary-import balance by days to plazo end\n\n");
    table(&mut o, &tables::aging(d));
    let (t, left) = tables::vencimientos(d);
    if t.rows.is_empty() {
        o.push_str("No open partida is overdue or due within 90 days of the as-of date.\n\n");
    } else {
        o.push_str("Partidas overdue or due within 90 days, by plazo end (return or regularize first):\n\n");
        table(&mut o, &t);
        if left > 0 {
            let _ = writeln!(o, "{left} more in saldos.csv.\n");
        }
    }
    o.push_str("### Findings by check and month\n\n");
    if d.by_month.is_empty() {
        o.push_str("No findings in the period.\n\n");
    } else {
        table(&mut o, &tables::by_month(d));
    }

    o.push_str("## Saldos por pedimento/partida (open at the as-of date)\n\n");
    if d.saldos.is_empty() {
        o.push_str("No open temporary-import balance at the as-of date.\n\n");
    } else {
        let (t, left) = tables::saldos(d);
        table(&mut o, &t);
        if left > 0 {
            let _ = writeln!(o, "{left} more open partida(s) are in saldos.csv.\n");
        }
    }

    let l = d.meta.lang;
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

    o.push_str("## Trend per year\n\n");
    table(&mut o, &tables::trend(d));

    if let (Some(s), Some(st), Some(picks)) =
        (&d.sample, tables::sample_strata(d), tables::sample_picks(d))
    {
        let _ = writeln!(
            o,
            "## Auditor's sample\n\n{} of {} requested pedimentos drawn with seed {} (also in sample.csv).\n",
            s.picks.len(),
            s.requested,
            s.seed
        );
        table(&mut o, &st);
        table(&mut o, &picks);
    }

    o.push_str("## Findings\n\n");
    if d.by_check.is_empty() {
        o.push_str("No findings in the period.\n\n");
    }
    for c in &d.by_check {
        let _ = writeln!(
            o,
            "### {}: {} ({}, {} finding(s))\n",
            md(&c.code),
            md(&c.title),
            md(&c.severity),
            c.totals.findings
        );
        for cit in &c.citations {
            let _ = writeln!(o, "Legal basis: {}\n", md(cit));
        }
        let (t, left) = tables::findings_of(d, &c.code);
        table(&mut o, &t);
        if left > 0 {
            let _ = writeln!(
                o,
                "{left} more finding(s) of this check are in findings.csv.\n"
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
                    "renglón(es) rechazados por la carga, por archivo, registro y campo; cada renglón con su línea y motivo está en rejects.csv y en la hoja Rejects de report.xlsx.",
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

    o.push_str("## Notes\n\n");
    for n in tables::NOTES {
        let _ = writeln!(o, "- {}", md(n));
    }
    o
}
