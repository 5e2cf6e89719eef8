//! `report.xlsx`: the report's tables as typed Excel sheets (rust_xlsxwriter):
//!
//! | sheet (`--lang es` / `en`) | rows |
//! |---|---|
//! | `Hallazgos` / `Findings` | every finding of the report (the findings.csv columns, key facts included) |
//! | `Saldos` | open temporary-import partidas at the as-of date (the saldos.csv columns) |
//! | `Kardex` | per good: entradas, salidas by kind, running saldo (the kardex.csv rows) |
//! | `Vencimientos` | open value by days to plazo end (30/60/90-day buckets, activo fijo apart) |
//! | `Certificación` / `Certification` | one row per requirement, after one row per modality |
//! | `Serie del índice` / `Ratio series` | the rolling 12-month return ratio per month |
//! | `Rechazos` / `Rejects` | rows ingest rejected (rejects.csv: run, file, line, record type, field, reason) |
//! | `Muestra` / `Sample` | the auditor's sample (with `--sample N`) |
//! | `Regularización` / `Regularization` | the regularization estimate of expired lots (the regularizacion.csv rows, plus the two INPC months used) |
//! | `Tasas usadas` / `Rates used` | the INPC values and monthly recargo rates the estimate used, by month, with their source |
//!
//! Headers, severities, statuses and the finding text follow `--lang`; check codes do not.
//! Types: dates are Excel dates (`dd/mm/yyyy` in Spanish, `yyyy-mm-dd` in English), money and quantities are numbers
//! (`#,##0.00` / `#,##0.#####`), ratios are numbers formatted as percent (the update factor
//! a number with 4 decimals), months of a rate table dates (day 1, shown `mm/yyyy`), and identifiers
//! (pedimento, fracción, clave, UMT, RFC) are text so leading zeros survive. Excel stores
//! every number as a binary double: the exact decimals stay in findings.csv/saldos.csv/
//! findings.parquet; a cell holds the nearest double (exact to the cent below 10^13).

use super::ReportError;
use super::model::{ReportData, open_value};
use super::regularization::{self, Rates};
use crate::model::lang::Lang;
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
    /// A calendar month (its first day), shown as month and year.
    Month(NaiveDate),
    /// A number with 4 decimals (the CFF art. 17-A update factor).
    Factor(Decimal),
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
    month: Format,
    factor: Format,
}

fn sheet(
    wb: &mut Workbook,
    fm: &Formats,
    name: &str,
    headers: &[&str],
    rows: impl IntoIterator<Item = Vec<Cell>>,
) -> Result<(), XlsxError> {
    // "Low memory" mode: each row goes to the sheet's temporary file as it is written
    // (strings still in the workbook's shared string table, as in the standard mode),
    // so a sheet of a million kardex rows is never held as cells.
    let ws: &mut Worksheet = wb.add_worksheet_with_low_memory()?;
    ws.set_name(name)?;
    for (c, h) in headers.iter().enumerate() {
        ws.write_string_with_format(0, c as u16, *h, &fm.header)?;
        ws.set_column_width(c as u16, (h.chars().count() + 4).clamp(10, 40) as f64)?;
    }
    let mut last = 0u32;
    for (r, row) in rows.into_iter().enumerate() {
        let r = r as u32 + 1;
        last = r;
        for (c, cell) in row.iter().enumerate() {
            let c = c as u16;
            match cell {
                Cell::Text(s) if !s.is_empty() => {
                    ws.write_string(r, c, s)?;
                }
                Cell::Int(n) => {
                    ws.write_number(r, c, *n as f64)?;
                }
                Cell::Money(d) | Cell::Qty(d) | Cell::Pct(d) | Cell::Factor(d) => {
                    let f = match cell {
                        Cell::Money(_) => &fm.money,
                        Cell::Qty(_) => &fm.qty,
                        Cell::Pct(_) => &fm.pct,
                        _ => &fm.factor,
                    };
                    match excel_number(d) {
                        Some(v) => ws.write_number_with_format(r, c, v, f)?,
                        None => ws.write_string(r, c, d.to_string())?,
                    };
                }
                Cell::Date(d) | Cell::Month(d) => {
                    let x =
                        ExcelDateTime::from_ymd(d.year() as u16, d.month() as u8, d.day() as u8)?;
                    let f = if matches!(cell, Cell::Month(_)) {
                        &fm.month
                    } else {
                        &fm.date
                    };
                    ws.write_datetime_with_format(r, c, &x, f)?;
                }
                Cell::Text(_) | Cell::Empty => {}
            }
        }
    }
    ws.set_freeze_panes(1, 0)?;
    if !headers.is_empty() {
        ws.autofilter(0, 0, last, headers.len() as u16 - 1)?;
    }
    Ok(())
}

// size-exception: the workbook, one sheet after another, in sheet order
fn build(d: &ReportData, rates: &Rates) -> Result<Workbook, XlsxError> {
    let l = d.meta.lang;
    let mut wb = Workbook::new();
    let fm = Formats {
        header: Format::new().set_bold(),
        money: Format::new().set_num_format("#,##0.00"),
        qty: Format::new().set_num_format("#,##0.#####"),
        pct: Format::new().set_num_format("0.00%"),
        date: Format::new().set_num_format(l.pick("dd/mm/yyyy", "yyyy-mm-dd")),
        month: Format::new().set_num_format(l.pick("mm/yyyy", "yyyy-mm")),
        factor: Format::new().set_num_format("0.0000"),
    };

    let findings = d.findings.iter().map(|rf| {
        let f = &rf.f;
        let b = rf.balance.as_ref();
        vec![
            text(&f.check_code),
            text(l.severity(&f.severity)),
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
            text(f.text(l)),
            text(f.cite(l)),
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
    });
    sheet(
        &mut wb,
        &fm,
        l.pick("Hallazgos", "Findings"),
        &pick(
            l,
            &[
                ("clave_revision", "check_code"),
                ("severidad", "severity"),
                ("rfc", "rfc"),
                ("pedimento", "pedimento_id"),
                ("partida", "partida"),
                ("pedimento_relacionado", "related_pedimento_id"),
                ("fraccion", "fraccion"),
                ("fecha_archivo", "filed_date"),
                ("inicio_periodo", "period_start"),
                ("fecha_corte", "as_of"),
                ("cantidad", "quantity"),
                ("monto", "amount"),
                ("igi", "igi"),
                ("iva", "iva"),
                ("ieps", "ieps"),
                ("descripcion", "message"),
                ("fundamento_legal", "citation"),
                ("evidencia", "evidence"),
                ("fin_plazo", "plazo_end"),
                ("dias_vencido", "days_overdue"),
                ("cantidad_importada", "imported_qty"),
                ("saldo", "open_qty"),
                ("umt", "umt"),
                ("unidad", "unit"),
            ],
        ),
        findings,
    )?;

    let saldos = d.saldos.iter().map(|b| {
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
    });
    sheet(
        &mut wb,
        &fm,
        "Saldos",
        // The columns of saldos.csv without the rfc (one company per workbook).
        &super::saldos::header(l)[1..],
        saldos,
    )?;

    let kardex = d.kardex.iter().flat_map(|g| {
        let unit = super::format::unit_name(&g.umt).unwrap_or_default();
        g.rows.iter().map(move |r| {
            vec![
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
            ]
        })
    });
    sheet(
        &mut wb,
        &fm,
        "Kardex",
        // The kardex.csv columns without the rfc, unit after umt.
        &{
            let h = super::kardex::header(l);
            [
                h[1], h[2], h[15], h[3], h[4], h[5], h[6], h[7], h[8], h[9], h[10], h[11], h[12],
                h[13], h[14],
            ]
        },
        kardex,
    )?;

    let buckets = d.aging.iter().map(|b| {
        vec![
            text(
                super::model::AGE_BUCKETS
                    .iter()
                    .position(|x| *x == b.label)
                    .map(|k| super::tables::bucket_text(l, k))
                    .unwrap_or_else(|| b.label.to_string()),
            ),
            Cell::Int(b.partidas as i64),
            Cell::Money(b.value),
            Cell::Int(b.af_partidas as i64),
            Cell::Money(b.af_value),
        ]
    });
    sheet(
        &mut wb,
        &fm,
        "Vencimientos",
        &pick(
            l,
            &[
                ("rango_fin_plazo", "plazo_end_bucket"),
                ("partidas_con_saldo", "open_partidas"),
                ("valor_saldo", "open_value"),
                ("partidas_activo_fijo", "activo_fijo_partidas"),
                ("valor_activo_fijo", "activo_fijo_value"),
            ],
        ),
        buckets,
    )?;

    let mut cert: Vec<Vec<Cell>> = d
        .modalities
        .iter()
        .map(|m| {
            vec![
                text(&m.modality),
                text(l.pick("(modalidad)", "(modality)")),
                text(match l {
                    Lang::Es => format!(
                        "{} cumple(n), {} no cumple(n), {} con datos faltantes, {} con evidencia manual, {} no aplica(n)",
                        m.pass, m.fail, m.missing, m.manual, m.na
                    ),
                    Lang::En => format!(
                        "{} pass, {} fail, {} data missing, {} manual evidence, {} n/a",
                        m.pass, m.fail, m.missing, m.manual, m.na
                    ),
                }),
                text(super::tables::status_text(l, m.verdict)),
            ]
        })
        .collect();
    for r in d.assessment.iter().flatten() {
        cert.push(vec![
            text(&r.modality),
            text(&r.code),
            text(match l {
                Lang::Es => crate::checks::cert::requirement_es(&r.code)
                    .map(str::to_string)
                    .unwrap_or_else(|| r.requirement.clone()),
                Lang::En => r.requirement.clone(),
            }),
            text(super::tables::status_text(l, &r.status)),
            text(l.phrase(&r.measured)),
            text(l.phrase(&r.threshold)),
            text(l.phrase(&r.window)),
            text(&r.basis),
            opt(r.missing.as_deref().map(|m| l.phrase(m)), Cell::Text),
            opt(r.amount, Cell::Money),
            text(&r.citation),
        ]);
    }
    sheet(
        &mut wb,
        &fm,
        l.pick("Certificación", "Certification"),
        &pick(
            l,
            &[
                ("modalidad", "modality"),
                ("clave", "code"),
                ("requisito", "requirement"),
                ("estado", "status"),
                ("valor_medido", "measured"),
                ("umbral", "threshold"),
                ("ventana", "window"),
                ("base", "basis"),
                ("faltante", "missing"),
                ("monto", "amount"),
                ("fundamento_legal", "citation"),
            ],
        ),
        cert,
    )?;

    let hundred = Decimal::from(100);
    let ratio = d.ratio.iter().flatten().map(|p| {
        vec![
            text(&p.month),
            opt(p.numerator, Cell::Money),
            opt(p.denominator, Cell::Money),
            opt(p.ratio_pct, |v| Cell::Pct(v / hundred)),
            opt(p.threshold_pct, |v| Cell::Pct(v / hundred)),
            opt(p.status.clone(), Cell::Text),
            opt(p.shortfall, Cell::Money),
        ]
    });
    sheet(
        &mut wb,
        &fm,
        l.pick("Serie del índice", "Ratio series"),
        &pick(
            l,
            &[
                ("mes", "month"),
                ("valor_retornado", "returned_value"),
                ("importaciones_temporales", "temporary_imports"),
                ("indice", "ratio"),
                ("umbral", "threshold"),
                ("estado", "status"),
                ("faltante", "shortfall"),
            ],
        ),
        ratio,
    )?;
    // Excel holds 1,048,576 rows a sheet: the rest stay in rejects.csv.
    let rejects = d.rejects.iter().take(MAX_SHEET_ROWS).map(|r| {
        vec![
            text(&r.run),
            text(&r.file),
            Cell::Int(r.line),
            text(&r.record_type),
            text(&r.field),
            text(l.reject_reason(&r.reason)),
            text(&r.raw),
        ]
    });
    sheet(
        &mut wb,
        &fm,
        l.pick("Rechazos", "Rejects"),
        &super::rejects::header(l),
        rejects,
    )?;
    if let Some(sm) = &d.sample {
        let picks = sm.picks.iter().map(|p| {
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
        });
        sheet(
            &mut wb,
            &fm,
            l.pick("Muestra", "Sample"),
            &pick(
                l,
                &[
                    ("orden", "order"),
                    ("pedimento", "pedimento_id"),
                    ("clave", "clave"),
                    ("fecha_pago", "fecha_pago"),
                    ("valor_aduana", "valor_aduana"),
                    ("estrato", "stratum"),
                    ("hallazgos", "findings"),
                    ("revisiones", "checks"),
                    ("motivo", "reason"),
                ],
            ),
            picks,
        )?;
    }
    regularization_sheets(&mut wb, &fm, d, rates)?;
    Ok(wb)
}

/// `YYYY-MM` → its first day.
fn month(ym: &str) -> Option<NaiveDate> {
    NaiveDate::parse_from_str(&format!("{ym}-01"), "%Y-%m-%d").ok()
}

/// The regularization estimate (one row per expired lot, oldest plazo end first) and the
/// dated rates it used, with their source.
fn regularization_sheets(
    wb: &mut Workbook,
    fm: &Formats,
    d: &ReportData,
    rates: &Rates,
) -> Result<(), XlsxError> {
    let l = d.meta.lang;
    let lines = regularization::lines(d, rates);
    let rows = lines.iter().take(MAX_SHEET_ROWS).enumerate().map(|(i, x)| {
        let mut row = vec![
            Cell::Int(i as i64 + 1),
            text(&x.pedimento_id),
            opt(x.partida, |p| Cell::Int(p.into())),
            opt(x.fraccion.clone(), Cell::Text),
            Cell::Date(x.vence),
            Cell::Money(x.contributions),
        ];
        match &x.estimate {
            Ok(e) => row.extend([
                opt(month(&e.inpc_from), Cell::Month),
                opt(month(&e.inpc_to), Cell::Month),
                Cell::Factor(e.factor),
                Cell::Money(e.actualizacion),
                Cell::Int(e.months.into()),
                Cell::Pct(e.recargo_pct / Decimal::from(100)),
                Cell::Money(e.recargos),
                Cell::Money(e.total),
                Cell::Empty,
            ]),
            Err(why) => {
                row.extend((0..8).map(|_| Cell::Empty));
                row.push(text(format!(
                    "{}: {why}",
                    l.pick("sin estimación", "no estimate")
                )));
            }
        }
        row
    });
    sheet(
        wb,
        fm,
        l.pick("Regularización", "Regularization"),
        &pick(
            l,
            &[
                ("orden", "order"),
                ("pedimento", "pedimento_id"),
                ("partida", "partida"),
                ("fraccion", "fraccion"),
                ("fin_plazo", "plazo_end"),
                ("contribuciones", "contributions"),
                ("inpc_mes_antiguo", "inpc_oldest_month"),
                ("inpc_mes_reciente", "inpc_recent_month"),
                ("factor_actualizacion", "update_factor"),
                ("actualizacion", "actualizacion"),
                ("meses_recargos", "recargo_months"),
                ("tasa_recargos", "recargo_rate"),
                ("recargos", "recargos"),
                ("total_estimado", "estimated_total"),
                ("nota", "note"),
            ],
        ),
        rows,
    )?;
    let used =
        regularization::rates_used(&lines, rates)
            .into_iter()
            .map(|(series, m, value, source)| {
                let (name, val, unit) = if series == "INPC" {
                    (
                        "INPC",
                        Cell::Qty(value),
                        l.pick(
                            "índice, base 2a quincena de julio de 2018 = 100",
                            "index, base second half of July 2018 = 100",
                        ),
                    )
                } else {
                    (
                        "recargos",
                        Cell::Pct(value / Decimal::from(100)),
                        l.pick("mensual", "monthly"),
                    )
                };
                vec![
                    text(name),
                    opt(month(&m), Cell::Month),
                    val,
                    text(unit),
                    text(source),
                ]
            });
    sheet(
        wb,
        fm,
        l.pick("Tasas usadas", "Rates used"),
        &pick(
            l,
            &[
                ("serie", "series"),
                ("mes", "month"),
                ("valor", "value"),
                ("unidad", "unit"),
                ("fuente", "source"),
            ],
        ),
        used,
    )
}

/// Headers in `l` from (Spanish, English) pairs.
fn pick(l: Lang, cols: &[(&'static str, &'static str)]) -> Vec<&'static str> {
    cols.iter().map(|c| l.pick(c.0, c.1)).collect()
}

pub fn write(d: &ReportData, rates: &Rates, path: &Path) -> Result<(), ReportError> {
    let err = |e: XlsxError| ReportError::Xlsx {
        path: path.to_path_buf(),
        reason: e.to_string(),
    };
    let mut st = crate::timing::Stages::new("report xlsx");
    // In low-memory mode rust_xlsxwriter writes each sheet's rows to a temporary file as
    // they come and panics when that write fails ("Couldn't write to xml file: No space
    // left on device", seen at 100 M partidas): the panic becomes this file's error.
    let built = catch_quietly(|| {
        let mut wb = build(d, rates).map_err(err)?;
        st.mark("built");
        wb.save(path).map_err(err)?;
        st.mark("saved");
        Ok(())
    });
    built.unwrap_or_else(|p| {
        let why = p
            .downcast_ref::<String>()
            .cloned()
            .or_else(|| p.downcast_ref::<&str>().map(|s| s.to_string()))
            .unwrap_or_default();
        Err(ReportError::Xlsx {
            path: path.to_path_buf(),
            reason: format!("the workbook's temporary files (TMPDIR) could not be written: {why}"),
        })
    })
}

thread_local! {
    /// Calls of [`catch_quietly`] running on this thread.
    static QUIET: std::cell::Cell<u32> = const { std::cell::Cell::new(0) };
}

/// `f`, with a panic on this thread caught and returned, and without the panic hook's
/// message on stderr (the caller reports it as its own error; the default hook would print
/// "thread panicked at ..." above it). Panics elsewhere go to the hook as before.
fn catch_quietly<R>(f: impl FnOnce() -> R) -> std::thread::Result<R> {
    static HOOK: std::sync::Once = std::sync::Once::new();
    HOOK.call_once(|| {
        let previous = std::panic::take_hook();
        std::panic::set_hook(Box::new(move |info| {
            if QUIET.with(|q| q.get()) == 0 {
                previous(info)
            }
        }));
    });
    QUIET.with(|q| q.set(q.get() + 1));
    let r = std::panic::catch_unwind(std::panic::AssertUnwindSafe(f));
    QUIET.with(|q| q.set(q.get() - 1));
    r
}

/// `d` as an Excel number (Excel stores every number as an IEEE double: the one place the
/// report leaves `Decimal`), or None when the double would not read back as exactly `d`
/// at its scale; the cell then holds the exact decimal as text, never a rounded amount.
fn excel_number(d: &Decimal) -> Option<f64> {
    let v = d.to_f64()?;
    let back = Decimal::from_f64_retain(v)?.round_dp(d.scale());
    (back == *d).then_some(v)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_caught_panic_is_returned_and_the_next_call_works() {
        let r = catch_quietly(|| -> u32 { panic!("Couldn't write to xml file") });
        let p = r.expect_err("the panic is returned");
        assert_eq!(
            p.downcast_ref::<&str>(),
            Some(&"Couldn't write to xml file")
        );
        assert_eq!(catch_quietly(|| 7).ok(), Some(7));
        assert_eq!(QUIET.with(|q| q.get()), 0);
    }

    #[test]
    fn money_cells_are_numbers_only_when_exact() {
        let d = |s: &str| s.parse::<Decimal>().unwrap();
        assert_eq!(excel_number(&d("4488946.95")), Some(4_488_946.95));
        assert_eq!(excel_number(&d("0.10")), Some(0.1));
        // 20 significant digits: no double holds it; kept as exact text.
        assert_eq!(excel_number(&d("123456789012345678.91")), None);
    }
}
