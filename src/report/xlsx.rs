//! `report.xlsx`: the report's tables as typed Excel sheets (rust_xlsxwriter):
//!
//! | sheet | rows |
//! |---|---|
//! | `Findings` | every finding of the report (the findings.csv columns, key facts included) |
//! | `Saldos` | open temporary-import partidas at the as-of date (the saldos.csv columns) |
//! | `Kardex` | per good: entradas, salidas by kind, running saldo (the kardex.csv rows) |
//! | `Vencimientos` | open value by days to plazo end (30/60/90-day buckets, activo fijo apart) |
//! | `Certification` | one row per requirement, after one row per modality |
//! | `Ratio series` | the rolling 12-month return ratio per month |
//! | `Rejects` | rows ingest rejected (rejects.csv: run, file, line, record type, field, reason) |
//! | `Sample` | the auditor's sample (with `--sample N`) |
//!
//! Types: dates are Excel dates (`yyyy-mm-dd`), money and quantities are numbers
//! (`#,##0.00` / `#,##0.#####`), ratios are numbers formatted as percent, and identifiers
//! (pedimento, fracción, clave, UMT, RFC) are text so leading zeros survive. Excel stores
//! every number as a binary double: the exact decimals stay in findings.csv/saldos.csv/
//! findings.parquet; a cell holds the nearest double (exact to the cent below 10^13).

use super::ReportError;
use super::model::{ReportData, open_value};
use chrono::{Datelike, NaiveDate};
use rust_decimal::Decimal;
use rust_decimal::prelude::ToPrimitive;
use rust_xlsxwriter::{ExcelDateTime, Format, Workbook, Worksheet, XlsxError};
use std::path::Path;

/// Data rows per sheet (Excel's limit is 1,048,576 rows including the header).
pub const MAX_SHEET_ROWS: usize = 1_000_000;

/// One typed cell.
enum Cell {
    Text(String),
    Int(i64),
    Money(Decimal),
    Qty(Decimal),
    /// A fraction shown as percent (0.6 → 60.00 %).
    Pct(Decimal),
    Date(NaiveDate),
    Empty,
}

fn text(s: impl Into<String>) -> Cell {
    Cell::Text(s.into())
}

fn opt<T>(v: Option<T>, f: impl FnOnce(T) -> Cell) -> Cell {
    v.map(f).unwrap_or(Cell::Empty)
}

struct Formats {
    header: Format,
    money: Format,
    qty: Format,
    pct: Format,
    date: Format,
}

fn sheet(
    wb: &mut Workbook,
    fm: &Formats,
    name: &str,
    headers: &[&str],
    rows: Vec<Vec<Cell>>,
) -> Result<(), XlsxError> {
    let ws: &mut Worksheet = wb.add_worksheet();
    ws.set_name(name)?;
    for (c, h) in headers.iter().enumerate() {
        ws.write_string_with_format(0, c as u16, *h, &fm.header)?;
        ws.set_column_width(c as u16, (h.chars().count() + 4).clamp(10, 40) as f64)?;
    }
    for (r, row) in rows.iter().enumerate() {
        let r = r as u32 + 1;
        for (c, cell) in row.iter().enumerate() {
            let c = c as u16;
            match cell {
                Cell::Text(s) if !s.is_empty() => {
                    ws.write_string(r, c, s)?;
                }
                Cell::Int(n) => {
                    ws.write_number(r, c, *n as f64)?;
                }
                Cell::Money(d) => {
                    ws.write_number_with_format(r, c, d.to_f64().unwrap_or(f64::NAN), &fm.money)?;
                }
                Cell::Qty(d) => {
                    ws.write_number_with_format(r, c, d.to_f64().unwrap_or(f64::NAN), &fm.qty)?;
                }
                Cell::Pct(d) => {
                    ws.write_number_with_format(r, c, d.to_f64().unwrap_or(f64::NAN), &fm.pct)?;
                }
                Cell::Date(d) => {
                    let x =
                        ExcelDateTime::from_ymd(d.year() as u16, d.month() as u8, d.day() as u8)?;
                    ws.write_datetime_with_format(r, c, &x, &fm.date)?;
                }
                Cell::Text(_) | Cell::Empty => {}
            }
        }
    }
    ws.set_freeze_panes(1, 0)?;
    if !headers.is_empty() {
        ws.autofilter(0, 0, rows.len() as u32, headers.len() as u16 - 1)?;
    }
    Ok(())
}

fn build(d: &ReportData) -> Result<Workbook, XlsxError> {
    let mut wb = Workbook::new();
    let fm = Formats {
        header: Format::new().set_bold(),
        money: Format::new().set_num_format("#,##0.00"),
        qty: Format::new().set_num_format("#,##0.#####"),
        pct: Format::new().set_num_format("0.00%"),
        date: Format::new().set_num_format("yyyy-mm-dd"),
    };

    let findings = d
        .findings
        .iter()
        .map(|rf| {
            let f = &rf.f;
            let b = rf.balance.as_ref();
            vec![
                text(&f.check_code),
                text(&f.severity),
                text(&f.rfc),
                opt(f.pedimento_id.clone(), Cell::Text),
                opt(f.partida, |p| Cell::Int(p.into())),
                opt(f.related_pedimento_id.clone(), Cell::Text),
                opt(f.fraccion.clone(), Cell::Text),
                Cell::Date(rf.date),
                opt(f.period_start, Cell::Date),
                Cell::Date(f.as_of),
                opt(f.quantity, Cell::Qty),
                opt(f.amount, Cell::Money),
                opt(f.igi, Cell::Money),
                opt(f.iva, Cell::Money),
                opt(f.ieps, Cell::Money),
                text(&f.message),
                text(&f.citation),
                text(&f.evidence),
                opt(b.and_then(|b| b.vence), Cell::Date),
                opt(b.and_then(|b| b.vence), |v| {
                    Cell::Int((d.as_of - v).num_days().max(0))
                }),
                opt(b.map(|b| b.imported), Cell::Qty),
                opt(b.map(|b| b.open_qty), Cell::Qty),
                opt(b.and_then(|b| b.umt.clone()), Cell::Text),
                opt(
                    b.and_then(|b| b.umt.as_deref())
                        .and_then(super::format::unit_name),
                    text,
                ),
            ]
        })
        .collect();
    sheet(
        &mut wb,
        &fm,
        "Findings",
        &[
            "check_code",
            "severity",
            "rfc",
            "pedimento_id",
            "partida",
            "related_pedimento_id",
            "fraccion",
            "filed_date",
            "period_start",
            "as_of",
            "quantity",
            "amount",
            "igi",
            "iva",
            "ieps",
            "message",
            "citation",
            "evidence",
            "plazo_end",
            "days_overdue",
            "imported_qty",
            "open_qty",
            "umt",
            "unit",
        ],
        findings,
    )?;

    let saldos = d
        .saldos
        .iter()
        .map(|b| {
            vec![
                text(&b.pedimento_id),
                Cell::Int(b.partida.into()),
                opt(b.clave.clone(), Cell::Text),
                opt(b.fraccion.clone(), Cell::Text),
                opt(b.tipo_bien.clone(), Cell::Text),
                Cell::Date(b.fecha_operacion),
                Cell::Qty(b.imported),
                opt(b.discharged, Cell::Qty),
                Cell::Qty(b.open_qty),
                opt(b.umt.clone(), Cell::Text),
                Cell::Money(b.valor_aduana),
                Cell::Money(open_value(b, b.open_qty)),
                opt(b.vence, Cell::Date),
                opt(b.vence, |v| Cell::Int((v - d.as_of).num_days())),
                opt(b.estado.clone(), Cell::Text),
            ]
        })
        .collect();
    sheet(
        &mut wb,
        &fm,
        "Saldos",
        // The columns of saldos.csv without the rfc (one company per workbook).
        &super::saldos::HEADER[1..],
        saldos,
    )?;

    let mut kardex = vec![];
    for g in &d.kardex {
        let unit = super::format::unit_name(&g.umt).unwrap_or_default();
        for r in &g.rows {
            kardex.push(vec![
                text(&g.fraccion),
                text(&g.umt),
                text(unit),
                text(g.pool),
                Cell::Date(r.fecha),
                text(r.kind.code()),
                text(r.kind.label(d.meta.lang)),
                text(&r.pedimento_id),
                opt(r.partida, |p| Cell::Int(p.into())),
                opt(r.clave.clone(), Cell::Text),
                Cell::Int(r.lots as i64),
                opt(r.producto_fraccion.clone(), Cell::Text),
                Cell::Qty(r.entrada),
                Cell::Qty(r.salida),
                Cell::Qty(r.saldo),
            ]);
        }
    }
    sheet(
        &mut wb,
        &fm,
        "Kardex",
        // The kardex.csv columns without the rfc, unit after umt.
        &[
            "fraccion",
            "umt",
            "unit",
            "pool",
            "fecha",
            "kind",
            "concepto",
            "pedimento_id",
            "partida",
            "clave",
            "lots",
            "producto_fraccion",
            "entrada",
            "salida",
            "saldo",
        ],
        kardex,
    )?;

    let buckets = d
        .aging
        .iter()
        .map(|b| {
            vec![
                text(b.label),
                Cell::Int(b.partidas as i64),
                Cell::Money(b.value),
                Cell::Int(b.af_partidas as i64),
                Cell::Money(b.af_value),
            ]
        })
        .collect();
    sheet(
        &mut wb,
        &fm,
        "Vencimientos",
        &[
            "plazo_end_bucket",
            "open_partidas",
            "open_value",
            "activo_fijo_partidas",
            "activo_fijo_value",
        ],
        buckets,
    )?;

    let mut cert: Vec<Vec<Cell>> = d
        .modalities
        .iter()
        .map(|m| {
            vec![
                text(&m.modality),
                text("(modality)"),
                text(format!(
                    "{} pass, {} fail, {} data missing, {} manual evidence, {} n/a",
                    m.pass, m.fail, m.missing, m.manual, m.na
                )),
                text(m.verdict),
            ]
        })
        .collect();
    for r in d.assessment.iter().flatten() {
        cert.push(vec![
            text(&r.modality),
            text(&r.code),
            text(&r.requirement),
            text(&r.status),
            text(&r.measured),
            text(&r.threshold),
            text(&r.window),
            text(&r.basis),
            opt(r.missing.clone(), Cell::Text),
            opt(r.amount, Cell::Money),
            text(&r.citation),
        ]);
    }
    sheet(
        &mut wb,
        &fm,
        "Certification",
        &[
            "modality",
            "code",
            "requirement",
            "status",
            "measured",
            "threshold",
            "window",
            "basis",
            "missing",
            "amount",
            "citation",
        ],
        cert,
    )?;

    let hundred = Decimal::from(100);
    let ratio = d
        .ratio
        .iter()
        .flatten()
        .map(|p| {
            vec![
                text(&p.month),
                opt(p.numerator, Cell::Money),
                opt(p.denominator, Cell::Money),
                opt(p.ratio_pct, |v| Cell::Pct(v / hundred)),
                opt(p.threshold_pct, |v| Cell::Pct(v / hundred)),
                opt(p.status.clone(), Cell::Text),
                opt(p.shortfall, Cell::Money),
            ]
        })
        .collect();
    sheet(
        &mut wb,
        &fm,
        "Ratio series",
        &[
            "month",
            "returned_value",
            "temporary_imports",
            "ratio",
            "threshold",
            "status",
            "shortfall",
        ],
        ratio,
    )?;
    // Excel holds 1,048,576 rows a sheet: the rest stay in rejects.csv.
    let rejects = d
        .rejects
        .iter()
        .take(MAX_SHEET_ROWS)
        .map(|r| {
            vec![
                text(&r.run),
                text(&r.file),
                Cell::Int(r.line),
                text(&r.record_type),
                text(&r.field),
                text(&r.reason),
                text(&r.raw),
            ]
        })
        .collect();
    sheet(&mut wb, &fm, "Rejects", &super::rejects::HEADER, rejects)?;
    if let Some(sm) = &d.sample {
        let picks = sm
            .picks
            .iter()
            .map(|p| {
                vec![
                    Cell::Int(p.order as i64),
                    text(&p.pedimento_id),
                    text(&p.clave),
                    opt(p.fecha_pago, Cell::Date),
                    opt(p.valor_aduana, Cell::Money),
                    text(&p.stratum),
                    Cell::Int(p.findings as i64),
                    text(&p.checks),
                    text(&p.reason),
                ]
            })
            .collect();
        sheet(
            &mut wb,
            &fm,
            "Sample",
            &[
                "order",
                "pedimento_id",
                "clave",
                "fecha_pago",
                "valor_aduana",
                "stratum",
                "findings",
                "checks",
                "reason",
            ],
            picks,
        )?;
    }
    Ok(wb)
}

pub fn write(d: &ReportData, path: &Path) -> Result<(), ReportError> {
    let err = |e: XlsxError| ReportError::Xlsx {
        path: path.to_path_buf(),
        reason: e.to_string(),
    };
    build(d).map_err(err)?.save(path).map_err(err)
}
