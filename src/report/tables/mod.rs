//! The report's tables as plain text cells, shared by the Markdown and HTML writers so
//! both show exactly the same content. Cells are unescaped: each writer escapes.

use super::format::{mxn, mxn_opt, qty_opt};
use super::model::{ReportData, ReportFinding};
use crate::model::lang::{Label, Lang};

mod cert;
mod open;
pub use cert::{ratio, requirements, verdicts};
pub use open::{MAX_KARDEX_GOODS, MAX_SALDOS_ROWS, aging, kardex, saldos, vencimientos};

/// Rows shown per check in Markdown/HTML; the full list is always in the CSV/JSON/Parquet.
pub const MAX_ROWS_PER_CHECK: usize = 500;

pub struct Table {
    pub headers: Vec<String>,
    /// Columns aligned right (numbers).
    pub right: Vec<bool>,
    pub rows: Vec<Vec<String>>,
}

impl Table {
    /// Columns as (Spanish header, English header, right-aligned).
    fn new(l: Lang, cols: &[(&'static str, &'static str, bool)]) -> Table {
        Table {
            headers: cols.iter().map(|c| l.pick(c.0, c.1).to_string()).collect(),
            right: cols.iter().map(|c| c.2).collect(),
            rows: vec![],
        }
    }

    /// Columns whose headers are already in the report's language: (header, right-aligned).
    fn picked(cols: &[(&'static str, bool)]) -> Table {
        Table {
            headers: cols.iter().map(|c| c.0.to_string()).collect(),
            right: cols.iter().map(|c| c.1).collect(),
            rows: vec![],
        }
    }
}

pub fn title(d: &ReportData) -> String {
    let t = d.meta.lang.pick(
        "Reporte de cumplimiento aduanero",
        "Customs compliance report",
    );
    match &d.nombre {
        Some(n) => format!("{t}: {n} ({}), {}", d.rfc, d.period.label()),
        None => format!("{t}: {}, {}", d.rfc, d.period.label()),
    }
}

/// Key facts: company, period, as-of, data, ingest, tool, command.
pub fn facts(d: &ReportData) -> Vec<(&'static str, String)> {
    let l = d.meta.lang;
    let data = match (d.data_from, d.data_to) {
        (Some(a), Some(b)) => match l {
            Lang::Es => format!(
                "{} pedimentos de esta empresa pagados del {} al {}",
                d.pedimentos_in_period,
                l.date(a),
                l.date(b)
            ),
            Lang::En => format!(
                "{} pedimentos of this company paid from {a} to {b}",
                d.pedimentos_in_period
            ),
        },
        _ => l
            .pick(
                "ningún pedimento de esta empresa pagado en el periodo",
                "no pedimentos of this company paid in the period",
            )
            .into(),
    };
    let i = &d.ingest;
    let n = |x: u64| super::format::thousands(&x.to_string());
    vec![
        (
            l.pick("Empresa", "Company"),
            match &d.nombre {
                Some(nm) => format!("{} ({nm})", d.rfc),
                None => d.rfc.clone(),
            },
        ),
        (
            l.label(Label::Period),
            format!(
                "{} {} {}",
                l.date(d.period.start()),
                l.pick("al", "to"),
                l.date(d.period.end())
            ),
        ),
        (l.pick("Datos en el periodo", "Data in the period"), data),
        (l.label(Label::AsOf), l.date(d.as_of)),
        (
            l.pick(
                "Renglones ingeridos (todo el conjunto de datos)",
                "Rows ingested (whole dataset)",
            ),
            if i.runs == 0 {
                l.pick(
                    "el conjunto de datos no tiene manifiesto de ingesta (no lo escribió `ingest`)",
                    "no ingest manifest in the dataset (it was not written by `ingest`)",
                )
                .into()
            } else {
                match l {
                    Lang::Es => format!(
                        "{} leídos, {} aceptados, {} rechazados ({} ingesta(s), {} archivo(s))",
                        n(i.rows_read),
                        n(i.accepted),
                        n(i.rejected),
                        i.runs,
                        i.files
                    ),
                    Lang::En => format!(
                        "{} read, {} accepted, {} rejected ({} ingest run(s), {} file(s))",
                        n(i.rows_read),
                        n(i.accepted),
                        n(i.rejected),
                        i.runs,
                        i.files
                    ),
                }
            },
        ),
        (
            l.pick("Versión de la herramienta", "Tool version"),
            format!("pedimento-audit {}", d.meta.tool_version),
        ),
        (l.label(Label::ReproduceWith), d.meta.command.clone()),
    ]
}

/// Display name of a certification status or verdict code (`pass`, `not met`, ...).
pub fn status_text(l: Lang, code: &str) -> String {
    match l {
        Lang::En => code.to_string(),
        Lang::Es => match code {
            "pass" => "cumple",
            "fail" => "no cumple",
            "unknown" => "sin verificar",
            "n/a" | "na" | "not applicable" => "no aplica",
            "met" => "cumplida",
            "not met" => "no cumplida",
            "not verified" => "sin verificar",
            "none" => "ninguna",
            "exempt" => "exenta",
            "partial" => "parcial",
            other => other,
        }
        .to_string(),
    }
}

/// Display name of a balance estado (`ledger_balances.estado`, stored in Spanish).
pub fn estado_text(l: Lang, code: &str) -> String {
    match l {
        Lang::Es => code.to_string(),
        Lang::En => match code {
            "vigente" => "current",
            "por vencer" => "expiring",
            "vencido" => "expired",
            "plazo desconocido" => "plazo unknown",
            "saldado" => "settled",
            other => other,
        }
        .to_string(),
    }
}

/// Display name of an aging bucket ([`super::model::AGE_BUCKETS`] holds the English ones).
pub fn bucket_text(l: Lang, i: usize) -> String {
    const ES: [&str; 8] = [
        "vencido hace más de 90 días",
        "vencido hace 31-90 días",
        "vencido hace 1-30 días",
        "vence en 0-30 días",
        "vence en 31-60 días",
        "vence en 61-90 días",
        "vence en más de 90 días",
        "plazo desconocido",
    ];
    match l {
        Lang::Es => ES.get(i).copied().unwrap_or_default().to_string(),
        Lang::En => super::model::AGE_BUCKETS
            .get(i)
            .copied()
            .unwrap_or_default()
            .to_string(),
    }
}

/// A check's title in the report language.
pub fn check_title(l: Lang, code: &str, fallback: &str) -> String {
    crate::checks::find(code)
        .map(|c| crate::checks::title(c, l).to_string())
        .unwrap_or_else(|| fallback.to_string())
}

/// Headline amounts at risk: one line per kind of amount (never summed together).
pub fn risk(d: &ReportData) -> Vec<(&'static str, String)> {
    let l = d.meta.lang;
    let r = &d.risk;
    vec![
        (
            l.pick(
                "Contribuciones en riesgo (IGI + IVA + IEPS)",
                "Contributions at risk (IGI + IVA + IEPS)",
            ),
            l.money(r.contributions),
        ),
        (
            l.pick(
                "Valor en aduana de mercancía temporal vencida (TEMP-EXPIRED)",
                "Customs value of expired temporary goods (TEMP-EXPIRED)",
            ),
            l.money(r.expired_value),
        ),
        (
            l.pick(
                "Valor de transferencias sin contraparte (VIRTUAL-UNPAIRED)",
                "Value of unpaired transfers (VIRTUAL-UNPAIRED)",
            ),
            l.money(r.unpaired_transfers),
        ),
        (
            l.pick(
                "Diferencias de valor entre lados de transferencias, en valor absoluto (VIRTUAL-MISMATCH)",
                "Value differences between transfer sides, absolute (VIRTUAL-MISMATCH)",
            ),
            l.money(r.transfer_differences),
        ),
        (
            l.pick(
                "Faltante para la certificación (CERT-RATIO)",
                "Certification shortfall (CERT-RATIO)",
            ),
            l.money(r.cert_shortfall),
        ),
        (
            l.pick(
                "Importaciones temporales con saldo a la fecha de corte",
                "Open temporary imports at the as-of date",
            ),
            l.money(d.open_total),
        ),
    ]
}

pub fn totals(d: &ReportData) -> Table {
    let l = d.meta.lang;
    let mut t = Table::new(
        l,
        &[
            ("Revisión", "Check", false),
            ("Título", "Title", false),
            ("Severidad", "Severity", false),
            ("Hallazgos", "Findings", true),
            ("Monto MXN", "Amount", true),
            ("El monto es", "Amount is", false),
            ("IGI MXN", "IGI", true),
            ("IVA MXN", "IVA", true),
            ("IEPS MXN", "IEPS", true),
            ("Contribuciones MXN", "Contributions", true),
        ],
    );
    for c in &d.by_check {
        let x = &c.totals;
        t.rows.push(vec![
            c.code.clone(),
            check_title(l, &c.code, &c.title),
            l.severity(&c.severity),
            x.findings.to_string(),
            mxn(x.amount),
            super::model::amount_meaning_in(&c.code, l).to_string(),
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
        l.pick("no se suma entre revisiones", "not added across checks")
            .into(),
        mxn(x.igi),
        mxn(x.iva),
        mxn(x.ieps),
        mxn(x.contributions()),
    ]);
    t
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
    let mut t = Table::picked(&[
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
            l.reject_reason(reason),
        ]);
    }
    Some(t)
}

/// Check codes that appear in `by_month`, in report order.
pub fn month_checks(d: &ReportData) -> Vec<String> {
    d.by_check.iter().map(|c| c.code.clone()).collect()
}

pub fn by_month(d: &ReportData) -> Table {
    let checks = month_checks(d);
    let mut t = Table {
        headers: vec![d.meta.lang.pick("Mes", "Month").to_string()],
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
    let l = d.meta.lang;
    let mut t = Table::new(
        l,
        &[
            ("Año", "Year", false),
            ("Hallazgos", "Findings", true),
            ("Contribuciones MXN", "Contributions", true),
            ("Saldo al", "Open balance at", false),
            ("Partidas con saldo", "Open partidas", true),
            ("Valor del saldo MXN", "Open value", true),
        ],
    );
    for y in &d.trend {
        t.rows.push(vec![
            y.year.to_string(),
            y.totals.findings.to_string(),
            mxn(y.totals.contributions()),
            if y.open_value.is_some() {
                l.date(y.balance_date)
            } else {
                l.pick("posterior a la fecha de corte", "after as-of")
                    .into()
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
    let l = d.meta.lang;
    let s = d.sample.as_ref()?;
    let mut t = Table::new(
        l,
        &[
            ("Estrato", "Stratum", false),
            ("Población", "Population", true),
            ("Seleccionados", "Drawn", true),
        ],
    );
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
    let l = d.meta.lang;
    let s = d.sample.as_ref()?;
    let mut t = Table::new(
        l,
        &[
            ("#", "#", true),
            ("Pedimento", "Pedimento", false),
            ("Clave", "Clave", false),
            ("Fecha de pago", "Paid", false),
            ("Valor en aduana MXN", "Valor aduana", true),
            ("Motivo de selección", "Why picked", false),
        ],
    );
    for p in &s.picks {
        t.rows.push(vec![
            p.order.to_string(),
            p.pedimento_id.clone(),
            p.clave.clone(),
            p.fecha_pago.map(|x| l.date(x)).unwrap_or_default(),
            mxn_opt(p.valor_aduana),
            p.reason.clone(),
        ]);
    }
    Some(t)
}

/// Findings of one check (at most [`MAX_ROWS_PER_CHECK`] rows) and how many were left out.
pub fn findings_of(d: &ReportData, code: &str) -> (Table, usize) {
    let l = d.meta.lang;
    let mut t = Table::new(
        l,
        &[
            ("#", "#", true),
            ("Pedimento", "Pedimento", false),
            ("Partida", "Partida", true),
            ("Pedimento relacionado", "Related pedimento", false),
            ("Fracción", "Fracción", false),
            ("Fecha", "Date", false),
            ("Cantidad (UMT)", "Quantity (UMT)", true),
            ("Monto MXN", "Amount", true),
            ("IGI MXN", "IGI", true),
            ("IVA MXN", "IVA", true),
            ("IEPS MXN", "IEPS", true),
            ("Descripción", "Message", false),
            ("Evidencia", "Evidence", false),
        ],
    );
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
            l.date(rf.date),
            qty_opt(f.quantity),
            mxn_opt(f.amount),
            mxn_opt(f.igi),
            mxn_opt(f.iva),
            mxn_opt(f.ieps),
            f.text(l).to_string(),
            f.evidence.clone(),
        ]);
    }
    (t, all.len().saturating_sub(MAX_ROWS_PER_CHECK))
}

/// How the numbers were obtained (shown at the end of every report), in `l`.
pub fn notes(l: Lang) -> &'static [&'static str] {
    match l {
        Lang::Es => NOTES_ES,
        Lang::En => NOTES,
    }
}

/// [`NOTES`] in Spanish.
pub const NOTES_ES: &[&str] = &[
    "Los hallazgos provienen de la carpeta de salida de la auditoría (findings.parquet); este reporte no vuelve a ejecutar ni a evaluar ninguna revisión.",
    "Un hallazgo sobre una ventana (índice y requisitos de la certificación) se archiva en el fin de su ventana; cualquier otro, en el period_start de la revisión si lo tiene, si no en la fecha de operación del pedimento de evidencia y, si no, en la fecha de corte. El reporte conserva los hallazgos archivados dentro del periodo.",
    "El monto es el monto principal de la revisión en MXN y significa algo distinto en cada revisión (columna 'El monto es'), por eso nunca se suman montos de revisiones distintas; una diferencia de valor se muestra y se suma en valor absoluto. IGI, IVA e IEPS son las contribuciones en riesgo calculadas por la revisión. Los totales son sumas decimales exactas.",
    "Los saldos de importación temporal provienen de ledger_balances.parquet, evaluados a la fecha de corte para toda la empresa (no solo el periodo); valor = valor_aduana × cantidad con saldo / cantidad importada, redondeado a centavos por partida. Se agrupan por días de la fecha de corte al fin del plazo (negativo: vencido); el activo fijo (plazo = vigencia del programa IMMEX) se cuenta aparte.",
    "Saldo por año: el kardex reconstruido al 31 de diciembre (o a la fecha de corte si es anterior): cantidad importada de las partidas operadas hasta entonces menos lo descargado en ledger_allocations hasta entonces; los años que empiezan después de la fecha de corte no se calculan.",
    "Los renglones ingeridos son totales de todo el conjunto de datos sobre todos los manifiestos de ingesta (<dataset>/_manifest/*.json); los manifiestos no se dividen por empresa.",
    "Los pedimentos originales rectificados (sustituidos por un R1) se excluyen de los conteos de pedimentos y de la muestra.",
];

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
