//! The report's tables as plain text cells, shared by the Markdown and HTML writers so
//! both show exactly the same content. Cells are unescaped: each writer escapes.

use super::format::{mxn, mxn_opt, pct, qty, qty_opt};
use super::model::{ReportData, ReportFinding};
use rust_decimal::Decimal;

/// Rows shown per check in Markdown/HTML; the full list is always in the CSV/JSON/Parquet.
pub const MAX_ROWS_PER_CHECK: usize = 500;

pub struct Table {
    pub headers: Vec<String>,
    /// Columns aligned right (numbers).
    pub right: Vec<bool>,
    pub rows: Vec<Vec<String>>,
}

impl Table {
    fn new(cols: &[(&'static str, bool)]) -> Table {
        Table {
            headers: cols.iter().map(|c| c.0.to_string()).collect(),
            right: cols.iter().map(|c| c.1).collect(),
            rows: vec![],
        }
    }
}

pub fn title(d: &ReportData) -> String {
    match &d.nombre {
        Some(n) => format!(
            "Customs compliance report: {n} ({}), {}",
            d.rfc,
            d.period.label()
        ),
        None => format!("Customs compliance report: {}, {}", d.rfc, d.period.label()),
    }
}

/// Key facts: company, period, as-of, data, ingest, tool, command.
pub fn facts(d: &ReportData) -> Vec<(&'static str, String)> {
    let data = match (d.data_from, d.data_to) {
        (Some(a), Some(b)) => format!(
            "{} pedimentos of this company paid from {a} to {b}",
            d.pedimentos_in_period
        ),
        _ => "no pedimentos of this company paid in the period".into(),
    };
    let i = &d.ingest;
    vec![
        (
            "Company",
            match &d.nombre {
                Some(n) => format!("{} ({n})", d.rfc),
                None => d.rfc.clone(),
            },
        ),
        (
            "Period",
            format!("{} to {}", d.period.start(), d.period.end()),
        ),
        ("Data in the period", data),
        ("As-of date", d.as_of.to_string()),
        (
            "Rows ingested (whole dataset)",
            if i.runs == 0 {
                "no ingest manifest in the dataset (it was not written by `ingest`)".into()
            } else {
                format!(
                    "{} read, {} accepted, {} rejected ({} ingest run(s), {} file(s))",
                    super::format::thousands(&i.rows_read.to_string()),
                    super::format::thousands(&i.accepted.to_string()),
                    super::format::thousands(&i.rejected.to_string()),
                    i.runs,
                    i.files
                )
            },
        ),
        (
            "Tool version",
            format!("pedimento-audit {}", d.meta.tool_version),
        ),
        ("Reproduce with", d.meta.command.clone()),
    ]
}

/// Certification verdict per modality, or None when `cert_assessment.parquet` is absent.
pub fn verdicts(d: &ReportData) -> Option<Table> {
    d.assessment.as_ref()?;
    let mut t = Table::new(&[
        ("Modality", false),
        ("Verdict", false),
        ("Pass", true),
        ("Fail", true),
        ("Data missing", true),
        ("Manual evidence", true),
        ("N/A", true),
    ]);
    for m in &d.modalities {
        t.rows.push(vec![
            m.modality.clone(),
            m.verdict.to_string(),
            m.pass.to_string(),
            m.fail.to_string(),
            m.missing.to_string(),
            m.manual.to_string(),
            m.na.to_string(),
        ]);
    }
    Some(t)
}

/// The certification requirements, one row per requirement, or None when
/// `cert_assessment.parquet` is absent.
pub fn requirements(d: &ReportData) -> Option<Table> {
    let a = d.assessment.as_ref()?;
    let mut t = Table::new(&[
        ("Modality", false),
        ("Code", false),
        ("Requirement", false),
        ("Status", false),
        ("Measured", false),
        ("Threshold", false),
        ("Window", false),
        ("Missing evidence", false),
        ("Legal basis", false),
    ]);
    for r in a {
        let missing = match (&r.missing, r.status.as_str(), r.basis.as_str()) {
            (Some(m), _, _) => m.clone(),
            (None, "unknown", "manual") => "manual: attach evidence".into(),
            _ => String::new(),
        };
        t.rows.push(vec![
            r.modality.clone(),
            r.code.clone(),
            r.requirement.clone(),
            r.status.clone(),
            r.measured.clone(),
            r.threshold.clone(),
            r.window.clone(),
            missing,
            r.citation.clone(),
        ]);
    }
    Some(t)
}

/// Headline amounts at risk: one line per kind of amount (never summed together).
pub fn risk(d: &ReportData) -> Vec<(&'static str, String)> {
    let r = &d.risk;
    vec![
        (
            "Contributions at risk (IGI + IVA + IEPS)",
            mxn(r.contributions),
        ),
        (
            "Customs value of expired temporary goods (TEMP-EXPIRED)",
            mxn(r.expired_value),
        ),
        (
            "Value of unpaired transfers (VIRTUAL-UNPAIRED)",
            mxn(r.unpaired_transfers),
        ),
        (
            "Value differences between transfer sides, absolute (VIRTUAL-MISMATCH)",
            mxn(r.transfer_differences),
        ),
        (
            "Certification shortfall (CERT-RATIO)",
            mxn(r.cert_shortfall),
        ),
        (
            "Open temporary imports at the as-of date",
            mxn(d.open_total),
        ),
    ]
}

pub fn totals(d: &ReportData) -> Table {
    let mut t = Table::new(&[
        ("Check", false),
        ("Title", false),
        ("Severity", false),
        ("Findings", true),
        ("Amount", true),
        ("Amount is", false),
        ("IGI", true),
        ("IVA", true),
        ("IEPS", true),
        ("Contributions", true),
    ]);
    for c in &d.by_check {
        let x = &c.totals;
        t.rows.push(vec![
            c.code.clone(),
            c.title.clone(),
            c.severity.clone(),
            x.findings.to_string(),
            mxn(x.amount),
            super::model::amount_meaning(&c.code).to_string(),
            mxn(x.igi),
            mxn(x.iva),
            mxn(x.ieps),
            mxn(x.contributions()),
        ]);
    }
    // Amounts of different checks measure different things: no total amount.
    let x = &d.totals;
    t.rows.push(vec![
        "Total".into(),
        String::new(),
        String::new(),
        x.findings.to_string(),
        String::new(),
        "not added across checks".into(),
        mxn(x.igi),
        mxn(x.iva),
        mxn(x.ieps),
        mxn(x.contributions()),
    ]);
    t
}

/// Return-ratio points, or None when `cert_ratio_series.parquet` is absent.
pub fn ratio(d: &ReportData) -> Option<Table> {
    let r = d.ratio.as_ref()?;
    let mut t = Table::new(&[
        ("Month (12-month window ending)", false),
        ("Returned value", true),
        ("Temporary imports", true),
        ("Ratio", true),
        ("≥ 60%", false),
        ("≥ 80%", false),
    ]);
    let yn = |v: Option<Decimal>, th: i64| match v {
        Some(v) if v >= Decimal::from(th) => "yes".to_string(),
        Some(_) => "no".to_string(),
        None => String::new(),
    };
    for p in r {
        t.rows.push(vec![
            p.month.clone(),
            mxn_opt(p.numerator),
            mxn_opt(p.denominator),
            p.ratio_pct.map(pct).unwrap_or_default(),
            yn(p.ratio_pct, 60),
            yn(p.ratio_pct, 80),
        ]);
    }
    Some(t)
}

pub fn aging(d: &ReportData) -> Table {
    let mut t = Table::new(&[
        ("Plazo end at as-of date", false),
        ("Open partidas", true),
        ("Open value", true),
        ("of which activo fijo: partidas", true),
        ("activo fijo value", true),
    ]);
    for b in &d.aging {
        t.rows.push(vec![
            b.label.to_string(),
            b.partidas.to_string(),
            mxn(b.value),
            b.af_partidas.to_string(),
            mxn(b.af_value),
        ]);
    }
    t.rows.push(vec![
        "Total".into(),
        d.aging
            .iter()
            .map(|b| b.partidas)
            .sum::<usize>()
            .to_string(),
        mxn(d.open_total),
        d.aging
            .iter()
            .map(|b| b.af_partidas)
            .sum::<usize>()
            .to_string(),
        mxn(d.aging.iter().map(|b| b.af_value).sum()),
    ]);
    t
}

/// Rows of the saldos table shown in HTML/Markdown; all of them are in saldos.csv.
pub const MAX_SALDOS_ROWS: usize = 500;

/// Saldos por pedimento/partida (open at the as-of date), ordered by plazo end; at most
/// [`MAX_SALDOS_ROWS`] rows, and how many were left out.
pub fn saldos(d: &ReportData) -> (Table, usize) {
    let mut t = Table::new(&[
        ("Pedimento", false),
        ("Partida", true),
        ("Clave", false),
        ("Fracción", false),
        ("Operated", false),
        ("Imported (UMT)", true),
        ("Discharged", true),
        ("Open", true),
        ("UMT", false),
        ("Open value", true),
        ("Plazo end", false),
        ("Days to plazo end", true),
        ("Estado", false),
    ]);
    for b in d.saldos.iter().take(MAX_SALDOS_ROWS) {
        t.rows.push(vec![
            b.pedimento_id.clone(),
            b.partida.to_string(),
            b.clave.clone().unwrap_or_default(),
            b.fraccion.clone().unwrap_or_default(),
            b.fecha_operacion.to_string(),
            qty(b.imported),
            qty_opt(b.discharged),
            qty(b.open_qty),
            b.umt.clone().unwrap_or_default(),
            mxn(super::model::open_value(b, b.open_qty)),
            b.vence.map(|v| v.to_string()).unwrap_or_default(),
            b.vence
                .map(|v| (v - d.as_of).num_days().to_string())
                .unwrap_or_default(),
            b.estado.clone().unwrap_or_default(),
        ]);
    }
    (t, d.saldos.len().saturating_sub(MAX_SALDOS_ROWS))
}

/// Reporte de vencimientos: the open partidas overdue or due within 90 days of the as-of
/// date, by plazo end, with their 30/60/90-day bucket (at most [`MAX_SALDOS_ROWS`] rows,
/// and how many were left out). What to return or regularize first.
pub fn vencimientos(d: &ReportData) -> (Table, usize) {
    let mut t = Table::new(&[
        ("Bucket", false),
        ("Plazo end", false),
        ("Days to plazo end", true),
        ("Pedimento", false),
        ("Partida", true),
        ("Fracción", false),
        ("Tipo de bien", false),
        ("Open", true),
        ("UMT", false),
        ("Open value", true),
    ]);
    let due: Vec<_> = d
        .saldos
        .iter()
        .filter(|b| b.vence.is_some_and(|v| (v - d.as_of).num_days() <= 90))
        .collect();
    for b in due.iter().take(MAX_SALDOS_ROWS) {
        let v = b.vence.expect("filtered");
        t.rows.push(vec![
            super::model::AGE_BUCKETS[super::model::age_bucket(b.vence, d.as_of)].to_string(),
            v.to_string(),
            (v - d.as_of).num_days().to_string(),
            b.pedimento_id.clone(),
            b.partida.to_string(),
            b.fraccion.clone().unwrap_or_default(),
            b.tipo_bien.clone().unwrap_or_default(),
            qty(b.open_qty),
            b.umt.clone().unwrap_or_default(),
            mxn(super::model::open_value(b, b.open_qty)),
        ]);
    }
    (t, due.len().saturating_sub(MAX_SALDOS_ROWS))
}

/// Rejected input rows (dataset-wide) grouped by file, record type and field, most
/// frequent first, with the first line of each group; None when ingest rejected nothing.
pub fn rejects(d: &ReportData) -> Option<Table> {
    if d.rejects.is_empty() {
        return None;
    }
    let mut groups: std::collections::BTreeMap<(&str, &str, &str), (usize, i64, &str)> =
        std::collections::BTreeMap::new();
    for r in d.rejects.iter() {
        let e = groups
            .entry((r.file.as_str(), r.record_type.as_str(), r.field.as_str()))
            .or_insert((0, r.line, r.reason.as_str()));
        e.0 += 1;
        if r.line < e.1 {
            e.1 = r.line;
            e.2 = r.reason.as_str();
        }
    }
    let mut g: Vec<_> = groups.into_iter().collect();
    g.sort_by(|a, b| b.1.0.cmp(&a.1.0).then(a.0.cmp(&b.0)));
    let l = d.meta.lang;
    let mut t = Table::new(&[
        (l.pick("Archivo", "File"), false),
        (l.pick("Registro", "Record"), false),
        (l.pick("Campo", "Field"), false),
        (l.pick("Renglones", "Rows"), true),
        (l.pick("Primera línea", "First line"), true),
        (
            l.pick("Motivo (primera línea)", "Reason (first line)"),
            false,
        ),
    ]);
    for ((file, rt, field), (n, line, reason)) in g.into_iter().take(50) {
        t.rows.push(vec![
            file.to_string(),
            rt.to_string(),
            field.to_string(),
            n.to_string(),
            line.to_string(),
            reason.to_string(),
        ]);
    }
    Some(t)
}

/// Goods shown in the kardex summary of HTML/Markdown; every good is in kardex.csv.
pub const MAX_KARDEX_GOODS: usize = 300;

/// Kardex summary: one row per good (fracción, UMT, pool) with the saldo at the start of
/// the period, entradas, salidas by kind and the closing saldo, all in the good's UMT
/// (never totalled across goods: the units differ). At most [`MAX_KARDEX_GOODS`] rows and
/// how many were left out.
pub fn kardex(d: &ReportData) -> (Table, usize) {
    use super::kardex::{Kind, SALIDAS};
    let l = d.meta.lang;
    let mut cols: Vec<(&'static str, bool)> = vec![
        ("Fracción", false),
        ("UMT", false),
        (l.pick("Régimen (pool)", "Pool"), false),
        (l.pick("Saldo inicial", "Opening saldo"), true),
        ("Entradas", true),
    ];
    // Salida kinds with a movement somewhere in this report (no all-empty columns).
    let used: Vec<usize> = (0..SALIDAS.len())
        .filter(|&k| d.kardex.iter().any(|g| !g.salidas[k].is_zero()))
        .collect();
    for &k in &used {
        cols.push((SALIDAS[k].label(l), true));
    }
    cols.push((l.pick("Saldo final", "Closing saldo"), true));
    cols.push((l.pick("Movimientos", "Movements"), true));
    let mut t = Table::new(&cols);
    for g in d.kardex.iter().take(MAX_KARDEX_GOODS) {
        let unit = match super::format::unit_name(&g.umt) {
            Some(n) => format!("{} {n}", g.umt),
            None => g.umt.clone(),
        };
        let mut row = vec![
            g.fraccion.clone(),
            unit,
            g.pool.replace('_', " "),
            qty(g.opening),
            qty(g.entradas),
        ];
        for &k in &used {
            row.push(qty(g.salidas[k]));
        }
        row.push(qty(g.closing));
        row.push(
            g.rows
                .iter()
                .filter(|r| r.kind != Kind::Opening)
                .count()
                .to_string(),
        );
        t.rows.push(row);
    }
    (t, d.kardex.len().saturating_sub(MAX_KARDEX_GOODS))
}

/// Check codes that appear in `by_month`, in report order.
pub fn month_checks(d: &ReportData) -> Vec<String> {
    d.by_check.iter().map(|c| c.code.clone()).collect()
}

pub fn by_month(d: &ReportData) -> Table {
    let checks = month_checks(d);
    let mut t = Table {
        headers: vec!["Month".to_string()],
        right: vec![false],
        rows: vec![],
    };
    for c in &checks {
        t.headers.push(c.clone());
        t.right.push(true);
    }
    t.headers.push("Total".into());
    t.right.push(true);
    for (m, counts) in &d.by_month {
        let mut row = vec![m.clone()];
        let mut tot = 0;
        for c in &checks {
            let n = counts.get(c).copied().unwrap_or(0);
            tot += n;
            row.push(n.to_string());
        }
        row.push(tot.to_string());
        t.rows.push(row);
    }
    t
}

pub fn trend(d: &ReportData) -> Table {
    let mut t = Table::new(&[
        ("Year", false),
        ("Findings", true),
        ("Contributions", true),
        ("Open balance at", false),
        ("Open partidas", true),
        ("Open value", true),
    ]);
    for y in &d.trend {
        t.rows.push(vec![
            y.year.to_string(),
            y.totals.findings.to_string(),
            mxn(y.totals.contributions()),
            if y.open_value.is_some() {
                y.balance_date.to_string()
            } else {
                "after as-of".into()
            },
            if y.open_value.is_some() {
                y.open_partidas.to_string()
            } else {
                String::new()
            },
            mxn_opt(y.open_value),
        ]);
    }
    t
}

pub fn sample_strata(d: &ReportData) -> Option<Table> {
    let s = d.sample.as_ref()?;
    let mut t = Table::new(&[("Stratum", false), ("Population", true), ("Drawn", true)]);
    for x in &s.strata {
        t.rows.push(vec![
            x.name.clone(),
            x.population.to_string(),
            x.drawn.to_string(),
        ]);
    }
    Some(t)
}

pub fn sample_picks(d: &ReportData) -> Option<Table> {
    let s = d.sample.as_ref()?;
    let mut t = Table::new(&[
        ("#", true),
        ("Pedimento", false),
        ("Clave", false),
        ("Paid", false),
        ("Valor aduana", true),
        ("Why picked", false),
    ]);
    for p in &s.picks {
        t.rows.push(vec![
            p.order.to_string(),
            p.pedimento_id.clone(),
            p.clave.clone(),
            p.fecha_pago.map(|x| x.to_string()).unwrap_or_default(),
            mxn_opt(p.valor_aduana),
            p.reason.clone(),
        ]);
    }
    Some(t)
}

/// Findings of one check (at most [`MAX_ROWS_PER_CHECK`] rows) and how many were left out.
pub fn findings_of(d: &ReportData, code: &str) -> (Table, usize) {
    let mut t = Table::new(&[
        ("#", true),
        ("Pedimento", false),
        ("Partida", true),
        ("Related pedimento", false),
        ("Fracción", false),
        ("Date", false),
        ("Quantity (UMT)", true),
        ("Amount", true),
        ("IGI", true),
        ("IVA", true),
        ("IEPS", true),
        ("Message", false),
        ("Evidence", false),
    ]);
    let all: Vec<&ReportFinding> = d
        .findings
        .iter()
        .filter(|f| f.f.check_code == code)
        .collect();
    for (i, rf) in all.iter().take(MAX_ROWS_PER_CHECK).enumerate() {
        let f = &rf.f;
        t.rows.push(vec![
            (i + 1).to_string(),
            f.pedimento_id.clone().unwrap_or_default(),
            f.partida.map(|p| p.to_string()).unwrap_or_default(),
            f.related_pedimento_id.clone().unwrap_or_default(),
            f.fraccion.clone().unwrap_or_default(),
            rf.date.to_string(),
            qty_opt(f.quantity),
            mxn_opt(f.amount),
            mxn_opt(f.igi),
            mxn_opt(f.iva),
            mxn_opt(f.ieps),
            f.message.clone(),
            f.evidence.clone(),
        ]);
    }
    (t, all.len().saturating_sub(MAX_ROWS_PER_CHECK))
}

/// How the numbers were obtained (shown at the end of every report).
pub const NOTES: &[&str] = &[
    "Findings come from the audit output folder (findings.parquet); this report does not re-run or re-evaluate any check.",
    "A finding about a window (certification ratio and requirements) is filed under the end of its window; any other finding under the check's period_start if it has one, else the evidence pedimento's fecha_operacion, else the as-of date. The report keeps findings filed inside the period.",
    "Amount is the check's main amount in MXN and means a different thing per check (column 'Amount is'), so amounts are never added across checks; a value difference is shown and summed as an absolute value. IGI, IVA and IEPS are contributions at risk as computed by the check. Totals are exact decimal sums.",
    "Open temporary-import balances come from ledger_balances.parquet, evaluated at the as-of date for the whole company (not limited to the period); value = valor_aduana × open quantity / imported quantity, rounded to cents per partida. They are bucketed by days from the as-of date to the end of the plazo (negative: overdue), activo fijo (plazo = IMMEX program validity) counted apart.",
    "Open balance per year: the ledger replayed at Dec 31 (or the as-of date if earlier): imported quantity of partidas operated by then minus ledger_allocations discharged by then; years starting after the as-of date are not computed.",
    "Rows ingested are dataset-wide totals over every ingest manifest (<dataset>/_manifest/*.json); manifests are not split by company.",
    "Rectified original pedimentos (superseded by an R1) are excluded from the pedimento counts and the sample.",
];
