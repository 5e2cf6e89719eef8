//! `trace`: follow one pedimento through the audit's output.
//!
//! For one pedimento (and optionally one partida): its header facts (dataset), what it
//! imported temporarily (ledger_balances: imported, discharged, open, plazo end, estado),
//! what discharged it (ledger_allocations where it is the import: which return, transfer or
//! cambio de régimen, quantity, date, FIFO or explicit), what it discharged when it is
//! itself a discharge, and every finding that cites it (`pedimento_id`,
//! `related_pedimento_id` or its id in `evidence`). Read-only; nothing is recomputed.
//!
//! Output: plain text that fits 80 columns ([`render_text`]) or JSON ([`render_json`]).

use super::ReportError;
use super::kardex::{discharge_kind, split_bom};
use super::load::{Allocation, Balance, Finding, Inputs, Pedimento};
use crate::model::lang::Lang;
use chrono::NaiveDate;
use rust_decimal::Decimal;
use serde_json::{Value, json};
use std::path::PathBuf;

#[derive(clap::Args, Debug, Clone)]
pub struct TraceArgs {
    /// Dataset folder (pedimento headers).
    #[arg(long, default_value = "dataset")]
    pub dataset: PathBuf,
    /// Audit output folder (findings and ledger tables).
    #[arg(long, default_value = "out/audit")]
    pub audit: PathBuf,
    /// The pedimento to follow (as in the findings: aduana-patente-número, e.g.
    /// 24-47-3456-4000123, or as the dataset spells it).
    pub pedimento: String,
    /// Only this partida.
    #[arg(long)]
    pub partida: Option<i32>,
    /// Output format.
    #[arg(long, value_enum, default_value_t = TraceFormat::Text)]
    pub format: TraceFormat,
    /// Language of the text: es (Spanish, default) or en (English). JSON keys do not change.
    #[arg(long, value_enum, default_value_t = Lang::Es)]
    pub lang: Lang,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum TraceFormat {
    Text,
    Json,
}

/// A salida of an imported partida (or an import a discharge took from).
#[derive(Debug, Clone, PartialEq)]
pub struct Link {
    /// The import partida (on `discharged_by`) or the discharge partida (on `discharges`).
    pub partida: i32,
    /// The other side: discharge pedimento/partida (on `discharged_by`) or import.
    pub other_id: String,
    pub other_partida: Option<i32>,
    pub clave: Option<String>,
    /// Kardex concept (retorno, cambio de régimen, ...; consumo (BOM) for BOM rows).
    pub kind: &'static str,
    pub fecha: NaiveDate,
    pub cantidad: Decimal,
    /// BOM rows: of `cantidad`, the merma/desperdicio part.
    pub merma_desperdicio: Decimal,
    pub method: Option<String>,
    pub fraccion: Option<String>,
}

#[derive(Debug, Clone)]
pub struct Trace {
    pub lang: Lang,
    pub pedimento_id: String,
    pub partida: Option<i32>,
    pub header: Option<Pedimento>,
    pub as_of: Option<NaiveDate>,
    /// Temporary-import partidas of this pedimento (ledger_balances).
    pub imported: Vec<Balance>,
    /// Allocations that discharged this pedimento's imports.
    pub discharged_by: Vec<Link>,
    /// Allocations this pedimento made as a discharge.
    pub discharges: Vec<Link>,
    /// Findings citing it.
    pub findings: Vec<Finding>,
}

/// The pedimento ids are compared without separators and case (`24 47 3456 4000123`,
/// `24-47-3456-4000123` and `2447345640001 23` name the same pedimento).
fn norm(s: &str) -> String {
    s.chars()
        .filter(|c| c.is_ascii_alphanumeric())
        .map(|c| c.to_ascii_uppercase())
        .collect()
}

fn link(
    l: Lang,
    a: &Allocation,
    partida: i32,
    other_id: String,
    other_partida: Option<i32>,
) -> Link {
    let (_, waste) = split_bom(a);
    let kind = if a.producto_fraccion.is_some() {
        super::kardex::Kind::ConsumoBom
    } else {
        discharge_kind(a.discharge_clave.as_deref())
    };
    Link {
        partida,
        other_id,
        other_partida,
        clave: a.discharge_clave.clone(),
        kind: kind.label(l),
        fecha: a.discharge_fecha,
        cantidad: a.cantidad,
        merma_desperdicio: waste,
        method: a.method.clone(),
        fraccion: a.producto_fraccion.clone(),
    }
}

/// Builds the trace of `pedimento` from loaded inputs. Error when the pedimento is in
/// neither the dataset nor the audit output.
pub fn build(
    inp: &Inputs,
    pedimento: &str,
    partida: Option<i32>,
    lang: Lang,
) -> Result<Trace, ReportError> {
    let key = norm(pedimento);
    let header = inp
        .pedimentos
        .iter()
        .find(|p| norm(&p.pedimento_id) == key)
        .cloned();
    // The id as the data spells it.
    let id = header
        .as_ref()
        .map(|p| p.pedimento_id.clone())
        .or_else(|| {
            inp.balances
                .iter()
                .find(|b| norm(&b.pedimento_id) == key)
                .map(|b| b.pedimento_id.clone())
        })
        .or_else(|| {
            inp.findings
                .iter()
                .find_map(|f| f.pedimento_id.clone().filter(|p| norm(p) == key))
        })
        .ok_or_else(|| {
            ReportError::NoData(format!(
                "pedimento '{pedimento}' (not in the dataset nor in the audit output)"
            ))
        })?;
    let part_ok = |p: i32| partida.is_none_or(|x| x == p);
    let imported: Vec<Balance> = inp
        .balances
        .iter()
        .filter(|b| b.pedimento_id == id && part_ok(b.partida))
        .cloned()
        .collect();
    let mut imported = imported;
    imported.sort_by_key(|b| b.partida);
    let mut discharged_by: Vec<Link> = inp
        .allocations
        .iter()
        .filter(|a| a.import_id == id && part_ok(a.import_partida))
        .map(|a| {
            link(
                lang,
                a,
                a.import_partida,
                a.discharge_id.clone().unwrap_or_default(),
                a.discharge_partida,
            )
        })
        .collect();
    discharged_by.sort_by(|a, b| {
        (a.partida, a.fecha, &a.other_id, a.other_partida).cmp(&(
            b.partida,
            b.fecha,
            &b.other_id,
            b.other_partida,
        ))
    });
    let mut discharges: Vec<Link> = inp
        .allocations
        .iter()
        .filter(|a| {
            a.discharge_id.as_deref() == Some(id.as_str())
                && a.discharge_partida.is_none_or(part_ok)
        })
        .map(|a| {
            link(
                lang,
                a,
                a.discharge_partida.unwrap_or(0),
                a.import_id.clone(),
                Some(a.import_partida),
            )
        })
        .collect();
    discharges.sort_by(|a, b| {
        (a.partida, &a.other_id, a.other_partida).cmp(&(b.partida, &b.other_id, b.other_partida))
    });
    let findings: Vec<Finding> = inp
        .findings
        .iter()
        .filter(|f| {
            let own = f.pedimento_id.as_deref() == Some(id.as_str());
            let cites = own
                || f.related_pedimento_id.as_deref() == Some(id.as_str())
                || f.evidence.contains(id.as_str());
            cites && (partida.is_none() || !own || f.partida.is_none_or(part_ok))
        })
        .cloned()
        .collect();
    Ok(Trace {
        lang,
        pedimento_id: id,
        partida,
        header,
        as_of: inp.findings.iter().map(|f| f.as_of).max(),
        imported,
        discharged_by,
        discharges,
        findings,
    })
}

/// Labels of the text output (Spanish, English).
mod label {
    pub const TITLE: (&str, &str) = ("Pedimento", "Pedimento");
    pub const NOT_IN_DATASET: (&str, &str) = (
        "no está en el dataset (solo en la salida de la auditoría)",
        "not in the dataset (only in the audit output)",
    );
    pub const IMPORTED: (&str, &str) = (
        "Importación temporal (saldos a la fecha de corte)",
        "Imported temporarily (saldos at the as-of date)",
    );
    pub const NONE_IMPORTED: (&str, &str) = (
        "ninguna partida de importación temporal",
        "no temporary-import partida",
    );
    pub const DISCHARGED_BY: (&str, &str) = ("Descargado por", "Discharged by");
    pub const NONE_DISCHARGED: (&str, &str) = ("nada descargado todavía", "nothing discharged yet");
    pub const DISCHARGES: (&str, &str) = (
        "Descarga (como retorno, transferencia o cambio de régimen)",
        "Discharges (as a retorno, transfer or cambio de régimen)",
    );
    pub const FINDINGS: (&str, &str) = ("Hallazgos que lo citan", "Findings citing it");
    pub const NONE_FINDINGS: (&str, &str) = ("ninguno", "none");
}

const WIDTH: usize = 80;

/// Wraps `text` at [`WIDTH`] columns with `indent` spaces on every line.
fn wrap(out: &mut String, indent: usize, text: &str) {
    wrap_hanging(out, indent, indent, text)
}

/// Wraps `text` at [`WIDTH`] columns: `first` spaces before the first line, `indent`
/// before the following ones.
fn wrap_hanging(out: &mut String, first: usize, indent: usize, text: &str) {
    let pad = " ".repeat(indent);
    let mut line = " ".repeat(first);
    let mut empty = true;
    let flush = |out: &mut String, line: &mut String, empty: &mut bool| {
        if !*empty {
            out.push_str(line.trim_end());
            out.push('\n');
        }
        *line = pad.clone();
        *empty = true;
    };
    for w in text.split_whitespace() {
        let mut w: String = w.to_string();
        if !empty && line.chars().count() + 1 + w.chars().count() > WIDTH {
            flush(out, &mut line, &mut empty);
        }
        // A word longer than a whole line: hard-split it.
        loop {
            let room = WIDTH - line.chars().count() - usize::from(!empty);
            if w.chars().count() <= room {
                break;
            }
            if !empty {
                flush(out, &mut line, &mut empty);
                continue;
            }
            let head: String = w.chars().take(room).collect();
            w = w.chars().skip(room).collect();
            line.push_str(&head);
            empty = false;
            flush(out, &mut line, &mut empty);
        }
        if !empty {
            line.push(' ');
        }
        line.push_str(&w);
        empty = false;
    }
    flush(out, &mut line, &mut empty);
}

fn q(d: Decimal) -> String {
    super::format::qty(d)
}

/// Plain text, every line at most 80 columns, in `t.lang`.
// size-exception: one report section after another, in print order
pub fn render_text(t: &Trace) -> String {
    use std::fmt::Write;
    let l = t.lang;
    let p = |x: (&'static str, &'static str)| l.pick(x.0, x.1);
    let es = l == Lang::Es;
    let mut o = String::new();
    let part = t
        .partida
        .map(|n| format!(", partida {n}"))
        .unwrap_or_default();
    let _ = writeln!(o, "{} {}{part}", p(label::TITLE), t.pedimento_id);
    match &t.header {
        Some(h) => {
            let who = match &h.nombre {
                Some(n) => format!("{} {n}", h.rfc),
                None => h.rfc.clone(),
            };
            wrap(&mut o, 2, &format!("RFC: {who}"));
            let line = if es {
                format!(
                    "Clave {}, pagado {}, operado {}",
                    h.clave,
                    l.date(h.fecha_pago),
                    l.date(h.fecha_operacion)
                )
            } else {
                format!(
                    "Clave {}, paid {}, operated {}",
                    h.clave,
                    l.date(h.fecha_pago),
                    l.date(h.fecha_operacion)
                )
            };
            wrap(&mut o, 2, &line);
            let _ = writeln!(
                o,
                "  {}: {}",
                l.pick("Valor en aduana", "Valor en aduana (customs value)"),
                l.money(h.valor_aduana)
            );
        }
        None => {
            let _ = writeln!(o, "  {}", p(label::NOT_IN_DATASET));
        }
    }
    if let Some(a) = t.as_of {
        let _ = writeln!(
            o,
            "  {} {}",
            l.pick("Auditoría con fecha de corte", "Audit as of"),
            l.date(a)
        );
    }

    // A pure discharge (a return, a transfer) imported nothing: skip the import sections.
    let is_import = !t.imported.is_empty() || t.discharges.is_empty();
    if is_import {
        let _ = writeln!(o, "\n{}", p(label::IMPORTED));
        if t.imported.is_empty() {
            let _ = writeln!(o, "  {}", p(label::NONE_IMPORTED));
        }
    }
    for b in &t.imported {
        let _ = writeln!(
            o,
            "  Partida {} {} {} UMT {} ({})",
            b.partida,
            l.pick("fracción", "fracción"),
            b.fraccion.as_deref().unwrap_or("-"),
            b.umt.as_deref().unwrap_or("-"),
            b.tipo_bien.as_deref().unwrap_or("-").replace('_', " ")
        );
        let discharged = b.discharged.unwrap_or(b.imported - b.open_qty);
        wrap(
            &mut o,
            4,
            &if es {
                format!(
                    "importado {}, descargado {}, saldo {}",
                    q(b.imported),
                    q(discharged),
                    q(b.open_qty)
                )
            } else {
                format!(
                    "imported {}, discharged {}, open {}",
                    q(b.imported),
                    q(discharged),
                    q(b.open_qty)
                )
            },
        );
        let end = l.pick("fin del plazo", "plazo end");
        let plazo = match (b.vence, t.as_of) {
            (Some(v), _) if b.open_qty <= Decimal::ZERO => format!("{end} {}", l.date(v)),
            (Some(v), Some(a)) => {
                let days = (v - a).num_days();
                if days < 0 {
                    format!(
                        "{end} {} ({} {})",
                        l.date(v),
                        -days,
                        l.pick("días vencido", "days overdue")
                    )
                } else {
                    format!(
                        "{end} {} ({days} {})",
                        l.date(v),
                        l.pick("días restantes", "days left")
                    )
                }
            }
            (Some(v), None) => format!("{end} {}", l.date(v)),
            (None, _) => format!("{end} {}", l.pick("desconocido", "unknown")),
        };
        wrap(
            &mut o,
            4,
            &format!(
                "{plazo}; {}: {}",
                l.pick("estado", "estado"),
                b.estado.as_deref().unwrap_or("-")
            ),
        );
    }

    let links = |o: &mut String, title: &str, ls: &[Link], none: &str| {
        let _ = writeln!(o, "\n{title}");
        if ls.is_empty() {
            let _ = writeln!(o, "  {none}");
        }
        for k in ls {
            let other = match k.other_partida {
                Some(n) => format!("{}/{n}", k.other_id),
                None => k.other_id.clone(),
            };
            let mut s = format!(
                "Partida {}: {} {} {} {} {} ({}), {} {}",
                k.partida,
                k.kind,
                other,
                k.clave.as_deref().unwrap_or(""),
                l.pick("el", "on"),
                l.date(k.fecha),
                k.method.as_deref().unwrap_or("-"),
                l.pick("cantidad", "qty"),
                q(k.cantidad)
            );
            if let Some(f) = &k.fraccion {
                s += &format!(", {} {f}", l.pick("producto", "product"));
            }
            if !k.merma_desperdicio.is_zero() {
                s += &format!(
                    ", {} merma/desperdicio {}",
                    l.pick("de ello", "of which"),
                    q(k.merma_desperdicio)
                );
            }
            wrap_hanging(o, 2, 6, &s.replace("  ", " "));
        }
    };
    if is_import {
        links(
            &mut o,
            p(label::DISCHARGED_BY),
            &t.discharged_by,
            p(label::NONE_DISCHARGED),
        );
    }
    if !t.discharges.is_empty() {
        links(&mut o, p(label::DISCHARGES), &t.discharges, "");
    }

    let _ = writeln!(o, "\n{} ({})", p(label::FINDINGS), t.findings.len());
    if t.findings.is_empty() {
        let _ = writeln!(o, "  {}", p(label::NONE_FINDINGS));
    }
    for f in &t.findings {
        let mut head = format!("{} [{}]", f.check_code, l.severity(&f.severity));
        if let Some(n) = f.partida {
            head += &format!(" partida {n}");
        }
        if let Some(r) = &f.related_pedimento_id {
            head += &format!(" {} {r}", l.pick("relacionado", "related"));
        }
        if let Some(a) = f.amount {
            head += &format!(" {}", l.money(a));
        }
        wrap_hanging(&mut o, 2, 6, &head);
        wrap(&mut o, 4, f.text(l));
        if !f.citation.is_empty() {
            wrap(
                &mut o,
                4,
                &format!(
                    "{}: {}",
                    l.pick("Fundamento", "Basis"),
                    l.citation(&f.citation)
                ),
            );
        }
    }
    o
}

fn dec(d: Decimal) -> Value {
    Value::String(d.to_string())
}

/// JSON: decimals as strings (exact), dates ISO.
pub fn render_json(t: &Trace) -> String {
    let link = |l: &Link| {
        json!({
            "partida": l.partida,
            "other_pedimento_id": l.other_id,
            "other_partida": l.other_partida,
            "clave": l.clave,
            "kind": l.kind,
            "fecha": l.fecha.to_string(),
            "cantidad": dec(l.cantidad),
            "merma_desperdicio": dec(l.merma_desperdicio),
            "method": l.method,
            "producto_fraccion": l.fraccion,
        })
    };
    let v = json!({
        "pedimento_id": t.pedimento_id,
        "partida": t.partida,
        "as_of": t.as_of.map(|d| d.to_string()),
        "header": t.header.as_ref().map(|h| json!({
            "rfc": h.rfc,
            "nombre": h.nombre,
            "clave": h.clave,
            "fecha_pago": h.fecha_pago.to_string(),
            "fecha_operacion": h.fecha_operacion.to_string(),
            "valor_aduana": dec(h.valor_aduana),
        })),
        "imported": t.imported.iter().map(|b| json!({
            "partida": b.partida,
            "fraccion": b.fraccion,
            "umt": b.umt,
            "tipo_bien": b.tipo_bien,
            "fecha_operacion": b.fecha_operacion.to_string(),
            "imported": dec(b.imported),
            "discharged": b.discharged.map(dec),
            "open_qty": dec(b.open_qty),
            "valor_aduana": dec(b.valor_aduana),
            "vence": b.vence.map(|d| d.to_string()),
            "estado": b.estado,
        })).collect::<Vec<_>>(),
        "discharged_by": t.discharged_by.iter().map(link).collect::<Vec<_>>(),
        "discharges": t.discharges.iter().map(link).collect::<Vec<_>>(),
        "findings": t.findings.iter().map(|f| json!({
            "check_code": f.check_code,
            "severity": f.severity,
            "pedimento_id": f.pedimento_id,
            "partida": f.partida,
            "related_pedimento_id": f.related_pedimento_id,
            "amount": f.amount.map(dec),
            "message": f.message,
            "mensaje": f.mensaje,
            "citation": f.citation,
            "evidence": f.evidence,
        })).collect::<Vec<_>>(),
    });
    let mut s = serde_json::to_string_pretty(&v).expect("json");
    s.push('\n');
    s
}

#[cfg(test)]
mod tests {
    use super::*;
    #[test]
    fn wrap_fits_80_columns() {
        let mut o = String::new();
        let long = "word ".repeat(40) + &"x".repeat(120);
        wrap(&mut o, 4, &long);
        assert!(o.lines().all(|l| l.chars().count() <= WIDTH), "{o}");
        assert!(o.lines().all(|l| l.starts_with("    ")));
        assert_eq!(
            o.split_whitespace().filter(|w| *w == "word").count(),
            40,
            "no word lost"
        );
        assert_eq!(norm("24 47-3456 4000123"), "244734564000123");
    }
}
