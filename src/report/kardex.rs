//! Kardex per good: for every (RFC, fracción, UMT, pool) of a company, the entradas
//! (temporary imports) and the salidas by kind (retorno, cambio de régimen, regularización,
//! transferencia virtual, consumption through a bill of materials and its merma/desperdicio)
//! with the running saldo, over the report period and up to the as-of date.
//!
//! Built from the audit's ledger tables only (`ledger_balances.parquet` for the entradas and
//! their pool, `ledger_allocations.parquet` for the salidas); nothing is recomputed. The
//! pool is the ledger's: activo fijo (`tipo_bien` = `activo_fijo`) or insumo (everything
//! else). A salida is the part of one discharge partida that discharged imports of the
//! good (several FIFO/explicit allocations of one discharge to one good are one row).
//! EXCESS allocations (discharged with nothing open) are not salidas of any saldo: they are
//! reported by DESCARGO-EXCESS. Allocations after the as-of date are not counted, as in
//! `ledger_balances`.
//!
//! BOM rows: the allocated quantity of an insumo is `product × consumo × (100 + merma% +
//! desperdicio%) / 100`; the kardex splits it into consumption (`× 100 / (100 + m + d)`) and
//! merma/desperdicio (the rest, so the two add up exactly).
//!
//! Written as `kardex.csv` (UTF-8 BOM, exact decimals), a `Kardex` xlsx sheet and a summary
//! section (one row per good) in the HTML and Markdown reports.

use super::ReportError;
use super::load::{Allocation, Balance};
use super::model::{Index, Period, is_activo_fijo};
use crate::model::lang::Lang;
use chrono::NaiveDate;
use rust_decimal::Decimal;
use std::collections::{BTreeMap, HashMap};
use std::path::Path;
use std::sync::OnceLock;

/// What a kardex row is. Labels: [`Kind::label`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Kind {
    /// Saldo at the start of the period (movements before it).
    Opening,
    Entrada,
    Retorno,
    CambioRegimen,
    Regularizacion,
    Transferencia,
    /// Insumo consumed by a product's discharge through its bill of materials.
    ConsumoBom,
    /// The merma and desperdicio part of a BOM consumption.
    MermaDesperdicio,
    /// A discharge clave the catalogue does not classify.
    OtraSalida,
}

/// The salida kinds, in column order of the summary.
pub const SALIDAS: [Kind; 7] = [
    Kind::Retorno,
    Kind::CambioRegimen,
    Kind::Regularizacion,
    Kind::Transferencia,
    Kind::ConsumoBom,
    Kind::MermaDesperdicio,
    Kind::OtraSalida,
];

impl Kind {
    /// The label users see. Terms of art stay Spanish in English output too.
    pub fn label(self, l: Lang) -> &'static str {
        match self {
            Kind::Opening => l.pick("saldo inicial", "opening saldo"),
            Kind::Entrada => l.pick(
                "entrada (importación temporal)",
                "entrada (temporary import)",
            ),
            Kind::Retorno => "retorno",
            Kind::CambioRegimen => "cambio de régimen",
            Kind::Regularizacion => l.pick("regularización", "regularización"),
            Kind::Transferencia => "transferencia virtual",
            Kind::ConsumoBom => l.pick("consumo (BOM)", "BOM consumption"),
            Kind::MermaDesperdicio => "merma/desperdicio",
            Kind::OtraSalida => l.pick("otra salida", "other salida"),
        }
    }
    /// Short code for the CSV/xlsx `kind` column (stable, machine-readable).
    pub fn code(self) -> &'static str {
        match self {
            Kind::Opening => "opening",
            Kind::Entrada => "entrada",
            Kind::Retorno => "retorno",
            Kind::CambioRegimen => "cambio_regimen",
            Kind::Regularizacion => "regularizacion",
            Kind::Transferencia => "transferencia",
            Kind::ConsumoBom => "consumo_bom",
            Kind::MermaDesperdicio => "merma_desperdicio",
            Kind::OtraSalida => "otra_salida",
        }
    }
}

/// The kind of a discharge clave, from `src/catalogs/discharge_claves.csv`.
pub fn discharge_kind(clave: Option<&str>) -> Kind {
    static K: OnceLock<HashMap<String, String>> = OnceLock::new();
    let m = K.get_or_init(|| {
        let mut r = csv::Reader::from_reader(crate::model::catalog::DISCHARGES.as_bytes());
        let mut m = HashMap::new();
        for rec in r.records().flatten() {
            if let (Some(c), Some(k)) = (rec.get(0), rec.get(2)) {
                m.entry(c.trim().to_string())
                    .or_insert_with(|| k.trim().to_string());
            }
        }
        m
    });
    match clave.and_then(|c| m.get(c.trim())).map(String::as_str) {
        Some("retorno" | "retorno_mismo_estado") => Kind::Retorno,
        Some("cambio_regimen") => Kind::CambioRegimen,
        Some("regularizacion") => Kind::Regularizacion,
        Some("transferencia") => Kind::Transferencia,
        _ => Kind::OtraSalida,
    }
}

/// One line of a good's kardex.
#[derive(Debug, Clone, PartialEq)]
pub struct Row {
    pub fecha: NaiveDate,
    pub kind: Kind,
    /// The import (entrada) or the discharge (salida) pedimento; empty on the opening row.
    pub pedimento_id: String,
    pub partida: Option<i32>,
    pub clave: Option<String>,
    /// Salidas: how many import partidas this discharge took from.
    pub lots: usize,
    /// BOM rows: the product's fracción.
    pub producto_fraccion: Option<String>,
    pub entrada: Decimal,
    pub salida: Decimal,
    /// Saldo after this row.
    pub saldo: Decimal,
}

/// One good's kardex.
#[derive(Debug, Clone, PartialEq)]
pub struct Good {
    pub rfc: String,
    pub fraccion: String,
    pub umt: String,
    /// `insumo` or `activo_fijo`.
    pub pool: &'static str,
    pub opening: Decimal,
    /// Opening row first (when the period starts after the first movement), then the
    /// movements of the period in ledger order.
    pub rows: Vec<Row>,
    pub entradas: Decimal,
    /// Salidas of the period by kind, in [`SALIDAS`] order.
    pub salidas: [Decimal; SALIDAS.len()],
    pub closing: Decimal,
}

fn pool_of(b: &Balance) -> &'static str {
    if is_activo_fijo(b) {
        "activo_fijo"
    } else {
        "insumo"
    }
}

/// Splits a BOM allocation into (consumption, merma + desperdicio), exactly.
pub fn split_bom(a: &Allocation) -> (Decimal, Decimal) {
    let extra = a.bom_merma_pct.unwrap_or_default() + a.bom_desperdicio_pct.unwrap_or_default();
    if a.producto_fraccion.is_none() || extra <= Decimal::ZERO {
        return (a.cantidad, Decimal::ZERO);
    }
    let hundred = Decimal::from(100);
    let consumo = (a.cantidad * hundred / (hundred + extra)).round_dp(5);
    (consumo, a.cantidad - consumo)
}

/// One movement of a good before the kardex rows are made: where it comes from, and the
/// ledger order (date, imports before discharges, pedimento, partida, kind), borrowing
/// the inputs' strings (a company's movements are sorted and merged without a copy of
/// their ids; only the rows of the period are built).
struct Move<'a> {
    fecha: NaiveDate,
    /// 0 = entrada (import), 1 = salida (discharge).
    order: u8,
    pedimento_id: &'a str,
    /// The sort's partida (0 for a discharge without one).
    partida: i32,
    kind: Kind,
    /// The balance (entrada) or the allocation (salida) of the inputs.
    src: usize,
    /// A salida's quantity (the consumption or the merma/desperdicio part of a BOM row).
    salida: Decimal,
}

impl Move<'_> {
    fn key(&self) -> (NaiveDate, u8, &str, i32, Kind) {
        (
            self.fecha,
            self.order,
            self.pedimento_id,
            self.partida,
            self.kind,
        )
    }
}

/// The kardex of one company for `period`, up to `as_of`: one [`Good`] per good with a
/// movement in the period or an opening saldo, sorted by fracción, UMT, pool.
pub fn build(ix: &Index, rfc: &str, period: Period, as_of: NaiveDate) -> Vec<Good> {
    let inp = ix.inputs;
    type Key<'a> = (&'a str, &'a str, &'static str);
    let mut moves: BTreeMap<Key, Vec<Move>> = BTreeMap::new();
    let empty = vec![];
    for &i in ix.balances.get(rfc).unwrap_or(&empty) {
        let b = &inp.balances[i];
        if b.fecha_operacion > as_of {
            continue;
        }
        let key: Key = (
            b.fraccion.as_deref().unwrap_or_default(),
            b.umt.as_deref().unwrap_or_default(),
            pool_of(b),
        );
        let m = moves.entry(key).or_default();
        m.push(Move {
            fecha: b.fecha_operacion,
            order: 0,
            pedimento_id: &b.pedimento_id,
            partida: b.partida,
            kind: Kind::Entrada,
            src: i,
            salida: Decimal::ZERO,
        });
        // Salidas of this import, aggregated per (discharge, kind) below.
        for &k in ix
            .allocs
            .get(&(b.pedimento_id.as_str(), b.partida))
            .unwrap_or(&empty)
        {
            let a = &inp.allocations[k];
            if a.discharge_fecha > as_of {
                continue;
            }
            let kind = if a.producto_fraccion.is_some() {
                Kind::ConsumoBom
            } else {
                discharge_kind(a.discharge_clave.as_deref())
            };
            let (q, waste) = split_bom(a);
            let mut push = |kind: Kind, q: Decimal| {
                m.push(Move {
                    fecha: a.discharge_fecha,
                    order: 1,
                    pedimento_id: a.discharge_id.as_deref().unwrap_or_default(),
                    partida: a.discharge_partida.unwrap_or(0),
                    kind,
                    src: k,
                    salida: q,
                });
            };
            push(kind, q);
            if waste > Decimal::ZERO {
                push(Kind::MermaDesperdicio, waste);
            }
        }
    }
    let mut out = vec![];
    for ((fraccion, umt, pool), mut ms) in moves {
        ms.sort_by(|a, b| a.key().cmp(&b.key()));
        if let Some(g) = good(ix, rfc, period, as_of, (fraccion, umt, pool), &ms) {
            out.push(g);
        }
    }
    out
}

/// One good's kardex from its sorted movements (None without a movement in the period
/// and without an opening saldo).
fn good(
    ix: &Index,
    rfc: &str,
    period: Period,
    as_of: NaiveDate,
    (fraccion, umt, pool): (&str, &str, &'static str),
    ms: &[Move],
) -> Option<Good> {
    let inp = ix.inputs;
    let end = period.end().min(as_of);
    let mut opening = Decimal::ZERO;
    let mut rows: Vec<Row> = vec![];
    // One salida row per (discharge partida, kind): consecutive movements of one
    // discharge and kind are one row. Movements before the period only add up to the
    // opening saldo; those after its end are left out.
    let mut k = 0;
    while k < ms.len() {
        let m = &ms[k];
        let mut salida = m.salida;
        let mut lots = 1;
        let mut next = k + 1;
        if m.kind != Kind::Entrada {
            let partida = inp.allocations[m.src].discharge_partida;
            while let Some(n) = ms.get(next).filter(|n| {
                n.kind == m.kind
                    && n.fecha == m.fecha
                    && n.pedimento_id == m.pedimento_id
                    && inp.allocations[n.src].discharge_partida == partida
            }) {
                salida += n.salida;
                lots += 1;
                next += 1;
            }
        }
        k = next;
        let entrada = match m.kind {
            Kind::Entrada => inp.balances[m.src].imported,
            _ => Decimal::ZERO,
        };
        if m.fecha < period.start() {
            opening += entrada - salida;
            continue;
        }
        if m.fecha > end {
            continue;
        }
        rows.push(if m.kind == Kind::Entrada {
            let b = &inp.balances[m.src];
            Row {
                fecha: m.fecha,
                kind: Kind::Entrada,
                pedimento_id: b.pedimento_id.clone(),
                partida: Some(b.partida),
                clave: b.clave.clone(),
                lots: 1,
                producto_fraccion: None,
                entrada,
                salida: Decimal::ZERO,
                saldo: Decimal::ZERO,
            }
        } else {
            let a = &inp.allocations[m.src];
            Row {
                fecha: m.fecha,
                kind: m.kind,
                pedimento_id: m.pedimento_id.to_string(),
                partida: a.discharge_partida,
                clave: a.discharge_clave.clone(),
                lots,
                producto_fraccion: a.producto_fraccion.clone(),
                entrada: Decimal::ZERO,
                salida,
                saldo: Decimal::ZERO,
            }
        });
    }
    let mut entradas = Decimal::ZERO;
    let mut salidas = [Decimal::ZERO; SALIDAS.len()];
    let mut saldo = opening;
    for r in rows.iter_mut() {
        saldo += r.entrada - r.salida;
        r.saldo = saldo;
        entradas += r.entrada;
        if let Some(k) = SALIDAS.iter().position(|k| *k == r.kind) {
            salidas[k] += r.salida;
        }
    }
    if rows.is_empty() && opening.is_zero() {
        return None;
    }
    rows.insert(
        0,
        Row {
            fecha: period.start(),
            kind: Kind::Opening,
            pedimento_id: String::new(),
            partida: None,
            clave: None,
            lots: 0,
            producto_fraccion: None,
            entrada: Decimal::ZERO,
            salida: Decimal::ZERO,
            saldo: opening,
        },
    );
    Some(Good {
        rfc: rfc.to_string(),
        fraccion: fraccion.to_string(),
        umt: umt.to_string(),
        pool,
        opening,
        rows,
        entradas,
        salidas,
        closing: saldo,
    })
}

pub const HEADER: [&str; 16] = [
    "rfc",
    "fraccion",
    "umt",
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
    "unit",
];

/// [`HEADER`] in Spanish, same order (`kind` stays the machine code; `concepto` is its
/// label in the report language).
pub const HEADER_ES: [&str; 16] = [
    "rfc",
    "fraccion",
    "umt",
    "grupo",
    "fecha",
    "tipo",
    "concepto",
    "pedimento",
    "partida",
    "clave",
    "lotes",
    "fraccion_producto",
    "entrada",
    "salida",
    "saldo",
    "unidad",
];

/// The header row in `l`.
pub fn header(l: Lang) -> [&'static str; 16] {
    match l {
        Lang::Es => HEADER_ES,
        Lang::En => HEADER,
    }
}

/// `kardex.csv`: every row of every good, UTF-8 BOM, exact decimals, ISO dates.
pub fn write(goods: &[Good], lang: Lang, path: &Path) -> Result<(), ReportError> {
    let mut w = super::csv::with_bom(path, header(lang))?;
    for g in goods {
        let unit = super::format::unit_name(&g.umt).unwrap_or_default();
        for r in &g.rows {
            w.write_record([
                g.rfc.as_str(),
                &g.fraccion,
                &g.umt,
                g.pool,
                &r.fecha.to_string(),
                r.kind.code(),
                r.kind.label(lang),
                &r.pedimento_id,
                &r.partida.map(|p| p.to_string()).unwrap_or_default(),
                r.clave.as_deref().unwrap_or_default(),
                &r.lots.to_string(),
                r.producto_fraccion.as_deref().unwrap_or_default(),
                &r.entrada.to_string(),
                &r.salida.to_string(),
                &r.saldo.to_string(),
                unit,
            ])
            .map_err(|e| ReportError::csv(path, e))?;
        }
    }
    w.flush().map_err(ReportError::io(path))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn alloc(q: i64, producto: Option<&str>, m: i64, d: i64) -> Allocation {
        Allocation {
            import_id: "I".into(),
            import_partida: 1,
            discharge_fecha: NaiveDate::from_ymd_opt(2024, 1, 1).unwrap(),
            cantidad: Decimal::new(q, 2),
            discharge_id: Some("D".into()),
            discharge_partida: Some(1),
            discharge_clave: Some("RT".into()),
            method: Some("FIFO".into()),
            producto_fraccion: producto.map(str::to_string),
            bom_merma_pct: Some(Decimal::from(m)),
            bom_desperdicio_pct: Some(Decimal::from(d)),
        }
    }

    #[test]
    fn bom_split_adds_up_exactly() {
        // 110.00 = 100 consumed + 10 (5 % merma + 5 % desperdicio).
        let (c, w) = split_bom(&alloc(11000, Some("84713001"), 5, 5));
        assert_eq!(c, Decimal::from(100));
        assert_eq!(w, Decimal::from(10));
        // Not a BOM row: all of it is the discharge's own kind.
        let (c, w) = split_bom(&alloc(11000, None, 5, 5));
        assert_eq!((c, w), (Decimal::new(11000, 2), Decimal::ZERO));
        // Odd percentages: still exact in sum.
        let a = alloc(1000, Some("1"), 3, 0);
        let (c, w) = split_bom(&a);
        assert_eq!(c + w, a.cantidad);
    }

    #[test]
    fn kinds_come_from_the_catalogue() {
        assert_eq!(discharge_kind(Some("RT")), Kind::Retorno);
        assert_eq!(discharge_kind(Some("H1")), Kind::Retorno);
        assert_eq!(discharge_kind(Some("F4")), Kind::CambioRegimen);
        assert_eq!(discharge_kind(Some("A3")), Kind::Regularizacion);
        assert_eq!(discharge_kind(Some("V1")), Kind::Transferencia);
        assert_eq!(discharge_kind(Some("ZZ")), Kind::OtraSalida);
        assert_eq!(discharge_kind(None), Kind::OtraSalida);
    }
}
