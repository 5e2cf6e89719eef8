//! Open temporary imports at the as-of date: aging buckets, saldos per partida,
//! vencimientos (what to return or regularize first) and the kardex summary.

use super::{Table, bucket_text, estado_text};
use crate::report::format::{mxn, qty, qty_opt};
use crate::report::model::ReportData;

pub fn aging(d: &ReportData) -> Table {
    let l = d.meta.lang;
    let mut t = Table::new(
        l,
        &[
            (
                "Fin del plazo a la fecha de corte",
                "Plazo end at as-of date",
                false,
            ),
            ("Partidas con saldo", "Open partidas", true),
            ("Valor del saldo MXN", "Open value", true),
            (
                "de ellas activo fijo: partidas",
                "of which activo fijo: partidas",
                true,
            ),
            ("valor activo fijo MXN", "activo fijo value", true),
        ],
    );
    for b in &d.aging {
        t.rows.push(vec![
            crate::report::model::AGE_BUCKETS
                .iter()
                .position(|x| *x == b.label)
                .map(|k| bucket_text(l, k))
                .unwrap_or_else(|| b.label.to_string()),
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
    let l = d.meta.lang;
    let mut t = Table::new(
        l,
        &[
            ("Pedimento", "Pedimento", false),
            ("Partida", "Partida", true),
            ("Clave", "Clave", false),
            ("Fracción", "Fracción", false),
            ("Fecha de operación", "Operated", false),
            ("Importado (UMT)", "Imported (UMT)", true),
            ("Descargado", "Discharged", true),
            ("Saldo", "Open", true),
            ("UMT", "UMT", false),
            ("Valor del saldo MXN", "Open value", true),
            ("Fin del plazo", "Plazo end", false),
            ("Días al fin del plazo", "Days to plazo end", true),
            ("Estado", "Estado", false),
        ],
    );
    for b in d.saldos.iter().take(MAX_SALDOS_ROWS) {
        t.rows.push(vec![
            b.pedimento_id.clone(),
            b.partida.to_string(),
            b.clave.clone().unwrap_or_default(),
            b.fraccion.clone().unwrap_or_default(),
            l.date(b.fecha_operacion),
            qty(b.imported),
            qty_opt(b.discharged),
            qty(b.open_qty),
            b.umt.clone().unwrap_or_default(),
            mxn(crate::report::model::open_value(b, b.open_qty)),
            b.vence.map(|v| l.date(v)).unwrap_or_default(),
            b.vence
                .map(|v| (v - d.as_of).num_days().to_string())
                .unwrap_or_default(),
            b.estado
                .as_deref()
                .map(|e| estado_text(l, e))
                .unwrap_or_default(),
        ]);
    }
    (t, d.saldos.len().saturating_sub(MAX_SALDOS_ROWS))
}

/// Reporte de vencimientos: the open partidas overdue or due within 90 days of the as-of
/// date, by plazo end, with their 30/60/90-day bucket (at most [`MAX_SALDOS_ROWS`] rows,
/// and how many were left out). What to return or regularize first.
pub fn vencimientos(d: &ReportData) -> (Table, usize) {
    let l = d.meta.lang;
    let mut t = Table::new(
        l,
        &[
            ("Rango", "Bucket", false),
            ("Fin del plazo", "Plazo end", false),
            ("Días al fin del plazo", "Days to plazo end", true),
            ("Pedimento", "Pedimento", false),
            ("Partida", "Partida", true),
            ("Fracción", "Fracción", false),
            ("Tipo de bien", "Tipo de bien", false),
            ("Saldo", "Open", true),
            ("UMT", "UMT", false),
            ("Valor del saldo MXN", "Open value", true),
        ],
    );
    let due: Vec<_> = d
        .saldos
        .iter()
        .filter(|b| b.vence.is_some_and(|v| (v - d.as_of).num_days() <= 90))
        .collect();
    for b in due.iter().take(MAX_SALDOS_ROWS) {
        let v = b.vence.expect("filtered");
        t.rows.push(vec![
            bucket_text(l, crate::report::model::age_bucket(b.vence, d.as_of)),
            l.date(v),
            (v - d.as_of).num_days().to_string(),
            b.pedimento_id.clone(),
            b.partida.to_string(),
            b.fraccion.clone().unwrap_or_default(),
            b.tipo_bien
                .as_deref()
                .map(|t| t.replace('_', " "))
                .unwrap_or_default(),
            qty(b.open_qty),
            b.umt.clone().unwrap_or_default(),
            mxn(crate::report::model::open_value(b, b.open_qty)),
        ]);
    }
    (t, due.len().saturating_sub(MAX_SALDOS_ROWS))
}

/// Goods shown in the kardex summary of HTML/Markdown; every good is in kardex.csv.
pub const MAX_KARDEX_GOODS: usize = 300;

/// Kardex summary: one row per good (fracción, UMT, pool) with the saldo at the start of
/// the period, entradas, salidas by kind and the closing saldo, all in the good's UMT
/// (never totalled across goods: the units differ). At most [`MAX_KARDEX_GOODS`] rows and
/// how many were left out.
pub fn kardex(d: &ReportData) -> (Table, usize) {
    use crate::report::kardex::{Kind, SALIDAS};
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
    let mut t = Table::picked(&cols);
    for g in d.kardex.iter().take(MAX_KARDEX_GOODS) {
        let unit = match crate::report::format::unit_name(&g.umt) {
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
