//! Manufacturers for the generator: bills of materials (profile `bom.csv`) and
//! destruction records of desperdicio (profile `desperdicios.csv`).
//!
//! A share of the generated IMMEX companies ([`super::Config::bom_share`]) are
//! manufacturers: each makes [`PRODUCTS`] products (fracción in UMT 6, pieza, and a número
//! de parte) from 2-5 of its insumo fracciones, with a consumption per unit, a merma % and
//! a desperdicio %. The first product's BOM changes half-way through the history (a second
//! version with 0.10 more of every insumo), so the version in force on a return's date
//! matters. A manufacturer imports insumos in production orders (the BOM of one product
//! for 50-500 units) and returns the products, which the ledger explodes into the insumos
//! (docs/profile.md, bom.csv). Half the manufacturers destroy their desperdicio under
//! actas (one per month, one row per insumo): the ledger then explodes merma only and the
//! actas discharge the desperdicio; the other half return it with the product (the
//! explosion includes it).
//!
//! Quantities are exact: consumo has 2 decimals and the percentages 1, so a whole number
//! of products explodes into at most 5 decimals, the precision of the ledger's explosion
//! (no rounding anywhere).

use super::{Company, Rng};
use chrono::{Duration, NaiveDate};
use rust_decimal::Decimal;

/// Products per manufacturer.
pub const PRODUCTS: usize = 3;

/// One BOM line: an insumo of the company (index into [`Company::fracciones`]).
#[derive(Debug, Clone)]
pub struct Line {
    pub insumo: usize,
    pub consumo: Decimal,
    pub merma_pct: Decimal,
    pub desperdicio_pct: Decimal,
}

impl Line {
    /// Insumo quantity one unit of product takes out of the insumo's lots: consumo plus
    /// merma plus desperdicio (whichever way the desperdicio leaves the regime).
    pub fn per_unit(&self) -> Decimal {
        self.consumo * (Decimal::ONE_HUNDRED + self.merma_pct + self.desperdicio_pct)
            / Decimal::ONE_HUNDRED
    }
    /// The desperdicio of `units` products (what an acta destroys).
    pub fn waste(&self, units: Decimal) -> Decimal {
        units * self.consumo * self.desperdicio_pct / Decimal::ONE_HUNDRED
    }
}

/// A BOM version: lines in force from `from` to `to` (inclusive; `None` = open-ended).
#[derive(Debug, Clone)]
pub struct Version {
    pub from: NaiveDate,
    pub to: Option<NaiveDate>,
    pub lines: Vec<Line>,
}

#[derive(Debug, Clone)]
pub struct Product {
    pub fraccion: String,
    pub parte: String,
    pub versions: Vec<Version>,
}

impl Product {
    /// The version in force on `d`.
    pub fn at(&self, d: NaiveDate) -> Option<&Version> {
        self.versions
            .iter()
            .find(|v| v.from <= d && v.to.is_none_or(|t| d <= t))
    }
}

/// One row of `bom.csv`.
#[derive(Debug, Clone)]
pub struct BomRow {
    pub rfc: String,
    pub producto_fraccion: String,
    pub producto_parte: String,
    pub insumo_fraccion: String,
    pub umt: String,
    pub consumo: Decimal,
    pub merma_pct: Decimal,
    pub desperdicio_pct: Decimal,
    pub valid_from: NaiveDate,
    pub valid_to: Option<NaiveDate>,
}

/// One row of `desperdicios.csv` (an acta de destrucción, per insumo fracción).
#[derive(Debug, Clone)]
pub struct Destruction {
    pub rfc: String,
    pub fecha: NaiveDate,
    pub acta: String,
    pub fraccion: String,
    pub umt: String,
    pub cantidad: Decimal,
}

/// First day of the generated BOMs (the generated programs start on it too).
pub fn bom_start() -> NaiveDate {
    NaiveDate::from_ymd_opt(2015, 1, 1).unwrap()
}

/// Whether company `ci` is a manufacturer when `share` (0..=1) of the companies are:
/// a fixed spread of the indexes, so the same companies stay manufacturers whatever the
/// number of companies, and `share` 1.0 makes every company one.
pub fn is_manufacturer(ci: usize, share: f64) -> bool {
    let pct = (share.clamp(0.0, 1.0) * 100.0).round() as usize;
    (ci * 61 + 17) % 100 < pct
}

/// Whether manufacturer `ci` destroys its desperdicio under actas (else returns it).
pub fn destroys_waste(ci: usize) -> bool {
    ci % 4 < 2
}

/// The products of manufacturer `ci` (`change` = the date the first product's BOM changes,
/// `None` for a history too short for it). Deterministic by (seed, ci), independent of the
/// history's random stream.
pub fn products(seed: u64, ci: usize, c: &Company, change: Option<NaiveDate>) -> Vec<Product> {
    let mut rng = Rng::new(seed ^ (ci as u64 + 1).wrapping_mul(0xA24B_AED4_963E_E407));
    let destroys = destroys_waste(ci);
    (0..PRODUCTS)
        .map(|j| {
            let n = rng.range(2, 5) as usize;
            // n distinct insumos: a partial Fisher-Yates shuffle of the company's fracciones.
            let mut idx: Vec<usize> = (0..c.fracciones.len()).collect();
            for k in 0..n {
                let r = k + (rng.next() % (idx.len() - k) as u64) as usize;
                idx.swap(k, r);
            }
            let lines: Vec<Line> = idx[..n]
                .iter()
                .map(|&insumo| Line {
                    insumo,
                    consumo: Decimal::new(rng.range(25, 400) as i64, 2),
                    merma_pct: Decimal::new(rng.range(0, 50) as i64, 1),
                    // A destroyer's lines all have desperdicio, so it files an acta every
                    // month it produces.
                    desperdicio_pct: Decimal::new(
                        rng.range(if destroys { 5 } else { 0 }, 80) as i64,
                        1,
                    ),
                })
                .collect();
            let versions = match change.filter(|_| j == 0) {
                Some(d) => vec![
                    Version {
                        from: bom_start(),
                        to: Some(d - Duration::days(1)),
                        lines: lines.clone(),
                    },
                    Version {
                        from: d,
                        to: None,
                        lines: lines
                            .into_iter()
                            .map(|l| Line {
                                consumo: l.consumo + Decimal::new(10, 2),
                                ..l
                            })
                            .collect(),
                    },
                ],
                None => vec![Version {
                    from: bom_start(),
                    to: None,
                    lines,
                }],
            };
            Product {
                // Heading by company, subheading 9x (insumo fracciones use 00-11), so no
                // product is another company's product or anyone's insumo.
                fraccion: format!(
                    "{:04}{:02}{:02}",
                    8401 + (ci / 100) % 1400,
                    90 + j,
                    ci % 100
                ),
                parte: format!("P{ci:04}-{}", j + 1),
                versions,
            }
        })
        .collect()
}

/// The `bom.csv` rows of a manufacturer's products.
pub fn rows(c: &Company, products: &[Product]) -> Vec<BomRow> {
    let mut out = vec![];
    for p in products {
        for v in &p.versions {
            for l in &v.lines {
                let (fr, umt) = &c.fracciones[l.insumo];
                out.push(BomRow {
                    rfc: c.rfc.clone(),
                    producto_fraccion: p.fraccion.clone(),
                    producto_parte: p.parte.clone(),
                    insumo_fraccion: fr.clone(),
                    umt: umt.clone(),
                    consumo: l.consumo,
                    merma_pct: l.merma_pct,
                    desperdicio_pct: l.desperdicio_pct,
                    valid_from: v.from,
                    valid_to: v.to,
                });
            }
        }
    }
    out
}

/// Writes `bom.csv` and `desperdicios.csv` into `dir` (only the files with rows: a history
/// without manufacturers has neither).
pub fn write(h: &super::History, dir: &std::path::Path) -> std::io::Result<()> {
    use std::fmt::Write as _;
    if !h.bom.is_empty() {
        let mut s = String::from(
            "rfc,producto_fraccion,producto_parte,insumo_fraccion,umt,consumo,merma_pct,desperdicio_pct,valid_from,valid_to\n",
        );
        for r in &h.bom {
            let _ = writeln!(
                s,
                "{},{},{},{},{},{},{},{},{},{}",
                r.rfc,
                r.producto_fraccion,
                r.producto_parte,
                r.insumo_fraccion,
                r.umt,
                r.consumo,
                r.merma_pct,
                r.desperdicio_pct,
                r.valid_from,
                r.valid_to.map(|d| d.to_string()).unwrap_or_default()
            );
        }
        std::fs::write(dir.join("bom.csv"), s)?;
    }
    if !h.desperdicios.is_empty() {
        let mut s = String::from("rfc,fecha,acta,fraccion,umt,cantidad,pedimento\n");
        for r in &h.desperdicios {
            let _ = writeln!(
                s,
                "{},{},{},{},{},{},",
                r.rfc,
                r.fecha,
                r.acta,
                r.fraccion,
                r.umt,
                r.cantidad.normalize()
            );
        }
        std::fs::write(dir.join("desperdicios.csv"), s)?;
    }
    Ok(())
}
