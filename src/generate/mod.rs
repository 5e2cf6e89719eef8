//! Deterministic (seeded) synthetic pedimento histories.
//!
//! Each company is an IMMEX manufacturer with a set of insumo fracciones. Every month it
//! imports insumos temporarily (IN), discharges them oldest first by returns (RT),
//! changes of regime (F4) and virtual transfers (V1) to a partner company (which files
//! the receiving V1 import), imports activo fijo (AF) once a year, and rectifies (R1) a
//! few imports. A share of the companies ([`Config::bom_share`]) are manufacturers
//! ([`bom`]): they import the insumos of a product's bill of materials and return the
//! product, which the ledger explodes into the insumos (with mermas; the desperdicio
//! leaves with the product or by monthly destruction actas). Clean histories never let a
//! lot reach 12 months open, never over-discharge (the generator takes each explosion from
//! its own FIFO lots, exactly as the ledger will), and declare program dates for activo
//! fijo, so a clean history has no findings. Violations are injected on request ([`Violation`]) on dedicated fracciones
//! so their expected findings are exact; the list is written to `injected.csv`.

pub mod bom;
pub mod cert_profiles;
mod inject;
mod month;
mod sim;
pub mod virtual_inject;
pub mod writers;

use crate::dataset::YearData;
use chrono::{Datelike, NaiveDate};
use rust_decimal::Decimal;
use std::collections::{BTreeMap, VecDeque};

pub use crate::model::rng::Rng;

/// A violation the generator can inject (`generate --inject KIND[,KIND...]`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Violation {
    /// An IN import of 100 units: 60 returned (RT), 30 changed regime (F4), 10 left open
    /// past 18 months → one TEMP-EXPIRED of 10 units per company. On a manufacturer, from
    /// an explosion: insumos A 200 and B 100 imported for a product taking 2 A + 1 B per
    /// unit, 60 + 30 units returned → TEMP-EXPIRED A 20 (partida 1) and B 10 (partida 2).
    Expired,
    /// 10 imported, 35 returned → one DESCARGO-EXCESS of 25. On a manufacturer, from an
    /// explosion: A 90 and B 100 imported, 45 units of a product taking 2 A + 2.5 B
    /// returned → DESCARGO-EXCESS of 12.5 (B) on the product's partida.
    Excess,
    /// A return in UMT 6 (pieza) of a fracción imported in UMT 1 (kilo) → DESCARGO-UNIT.
    Unit,
    /// A V1 export side naming a partner pedimento that does not exist → VIRTUAL-UNPAIRED.
    VirtualUnpaired,
    /// A V1 pair whose receiver declares 95 of 100 units → VIRTUAL-MISMATCH.
    VirtualMismatch,
    /// A V1 pair whose sender is filed 3 days after the receiver → VIRTUAL-LATE.
    VirtualLate,
}

impl Violation {
    pub const ALL: [Violation; 6] = [
        Violation::Expired,
        Violation::Excess,
        Violation::Unit,
        Violation::VirtualUnpaired,
        Violation::VirtualMismatch,
        Violation::VirtualLate,
    ];
    pub fn name(&self) -> &'static str {
        match self {
            Violation::Expired => "expired",
            Violation::Excess => "excess",
            Violation::Unit => "unit",
            Violation::VirtualUnpaired => "virtual-unpaired",
            Violation::VirtualMismatch => "virtual-mismatch",
            Violation::VirtualLate => "virtual-late",
        }
    }
    pub fn check_code(&self) -> &'static str {
        match self {
            Violation::Expired => "TEMP-EXPIRED",
            Violation::Excess => "DESCARGO-EXCESS",
            Violation::Unit => "DESCARGO-UNIT",
            Violation::VirtualUnpaired => "VIRTUAL-UNPAIRED",
            Violation::VirtualMismatch => "VIRTUAL-MISMATCH",
            Violation::VirtualLate => "VIRTUAL-LATE",
        }
    }
    pub fn parse(s: &str) -> Option<Violation> {
        Violation::ALL.into_iter().find(|v| v.name() == s)
    }
}

#[derive(Debug, Clone)]
pub struct Config {
    pub seed: u64,
    pub companies: usize,
    pub start_year: i32,
    pub years: i32,
    /// Approximate number of partidas to produce.
    pub partidas: usize,
    pub inject: Vec<Violation>,
    /// Share (0.0-1.0) of the companies that are manufacturers with a bill of materials
    /// ([`bom`]): their returns export products that the ledger explodes into insumos.
    /// 0.0 = the plain history (every return names the imported fracción).
    pub bom_share: f64,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            seed: 42,
            companies: 4,
            start_year: 2020,
            years: 3,
            partidas: 5_000,
            inject: vec![],
            bom_share: 0.0,
        }
    }
}

/// One injected violation and the finding it must produce.
#[derive(Debug, Clone)]
pub struct Injected {
    pub check_code: String,
    pub rfc: String,
    pub pedimento_id: String,
    pub partida: i32,
    pub quantity: Decimal,
}

#[derive(Debug, Clone)]
pub struct Company {
    pub rfc: String,
    pub nombre: String,
    pub programa: String,
    pub fracciones: Vec<(String, String)>, // (fraccion, umt)
    pub patente: String,
    pub aduana: String,
    /// The products of a manufacturer (empty for the others); see [`bom`].
    pub products: Vec<bom::Product>,
}

#[derive(Default)]
pub struct History {
    pub years: BTreeMap<i32, YearData>,
    pub companies: Vec<Company>,
    pub injected: Vec<Injected>,
    pub end: Option<NaiveDate>,
    /// `bom.csv` rows of the manufacturers (and of injected BOM violations).
    pub bom: Vec<bom::BomRow>,
    /// `desperdicios.csv` rows: the manufacturers' monthly actas de destrucción.
    pub desperdicios: Vec<bom::Destruction>,
}

/// The time of payment of every generated pedimento (Data Stage FechaPagoReal is written
/// with it; the dataset keeps it as hora_pago): same-day movements then order by number.
pub const HORA_PAGO: &str = "10:15:00";

/// Generates a history. Deterministic for a given config.
pub fn generate(cfg: &Config) -> History {
    let mut h = History::default();
    simulate(cfg, &mut h, &mut |_| Ok(())).expect("no flush error");
    for y in h.years.values_mut() {
        y.pedimentos
            .sort_by(|a, b| a.pedimento_id.cmp(&b.pedimento_id));
        y.partidas
            .sort_by(|a, b| (&a.pedimento_id, a.partida).cmp(&(&b.pedimento_id, b.partida)));
    }
    h
}

/// Generates the history of `cfg` straight into Data Stage files under `dir`, month by
/// month, in memory bounded by one month of rows and the open lots (not the whole
/// history as [`generate`] then [`writers::write_datastage`] hold it): the same files,
/// byte for byte. Returns the history without its rows (companies, injected violations,
/// end date) and what [`cert_profiles::write_cert_profiles_from`] needs.
pub fn generate_datastage(
    cfg: &Config,
    dir: &std::path::Path,
) -> std::io::Result<(History, writers::DataStageStream)> {
    let mut h = History::default();
    let mut out = writers::DataStageStream::new(dir)?;
    simulate(cfg, &mut h, &mut |h| out.add(h))?;
    out.add(&mut h)?;
    Ok((h, out))
}

/// Runs the simulation of [`generate`] into `h`, calling `flush` after every month of
/// the regular history (a row is never changed after the month that created it; the
/// injected violations come after the last month, with higher números). `flush` may
/// take the rows out of `h.years`.
fn simulate(
    cfg: &Config,
    h: &mut History,
    flush: &mut dyn FnMut(&mut History) -> std::io::Result<()>,
) -> std::io::Result<()> {
    let mut rng = Rng::new(cfg.seed);
    let start = NaiveDate::from_ymd_opt(cfg.start_year, 1, 1).unwrap();
    let end = NaiveDate::from_ymd_opt(cfg.start_year + cfg.years.max(1) - 1, 12, 31).unwrap();
    h.end = Some(end);
    let months = (cfg.years.max(1) * 12) as usize;
    // The first product's BOM changes half-way through a history of 2 months or more.
    let bom_change = (months >= 2).then(|| add_months(start, (months / 2) as u32));
    let companies: Vec<Company> = (0..cfg.companies.max(1))
        .map(|i| {
            let mut c = sim::company(i, &mut rng);
            if bom::is_manufacturer(i, cfg.bom_share) {
                c.products = bom::products(cfg.seed, i, &c, bom_change);
                h.bom.extend(bom::rows(&c, &c.products));
            }
            c
        })
        .collect();
    h.companies = companies.clone();
    // Measured: one import event yields ~3.3 partidas on average (3 imported, and the
    // discharges, transfers and rectificaciones they cause), so this lands near the target.
    // A manufacturer's production order yields ~MANUFACTURER_PARTIDAS_X10 / 10.
    let per_month_plain = (cfg.partidas * 10 / (companies.len() * months * 33)).max(1);
    let per_month_manuf =
        (cfg.partidas * 10 / (companies.len() * months * month::MANUFACTURER_PARTIDAS_X10)).max(1);
    let mut sim = sim::Sim {
        rng: rng.clone(),
        h,
        counters: BTreeMap::new(),
    };
    // Open lots per (company, fraccion).
    let mut lots: Vec<BTreeMap<String, VecDeque<sim::Lot>>> =
        (0..companies.len()).map(|_| BTreeMap::new()).collect();
    for m in 0..months {
        let month_start = add_months(start, m as u32);
        for (ci, c) in companies.iter().enumerate() {
            let manufacturer = !c.products.is_empty();
            let per_month = if manufacturer {
                per_month_manuf
            } else {
                per_month_plain
            };
            for k in 0..per_month {
                month::import(&mut sim, c, ci, k, month_start, &mut lots[ci]);
            }
            // Activo fijo once a year (program dates are in the profile).
            if m % 12 == 3 {
                let fecha = month_start.with_day(10).unwrap();
                let line = vec![(
                    "84798999".to_string(),
                    "6".to_string(),
                    Decimal::ONE,
                    Decimal::new(125000000, 2),
                )];
                sim.pedimento(c, fecha, "AF", 1, &line, true);
            }
            month::discharge(&mut sim, &companies, ci, month_start, &mut lots);
        }
        flush(sim.h)?;
    }
    inject::inject(&mut sim, &companies, cfg, start, end);
    virtual_inject::inject(sim.h, &cfg.inject, end);
    Ok(())
}

pub use crate::model::calendar::add_months;

/// Freight and insurance added to the price of a physical import (percent): the valor en
/// aduana of a generated import is its valor comercial plus these incrementables.
pub(crate) const INCREMENTABLES_PCT: i64 = 3;

/// The peso values a pedimento line declares, as SAT's Data Stage carries them (Anexo 22,
/// Instructivo de llenado): an import declares its valor en aduana (the price plus
/// `incrementables_pct` percent of freight and insurance) and its valor comercial; an
/// export or return declares only its valor comercial, and ValorAduana is 0.
/// Returns (valor_aduana, valor_comercial).
pub(crate) fn declared_values(
    tipo_operacion: i32,
    valor: Decimal,
    incrementables_pct: i64,
) -> (Decimal, Decimal) {
    if tipo_operacion == 2 {
        (Decimal::ZERO, valor)
    } else {
        let extra = (valor * Decimal::from(incrementables_pct) / Decimal::from(100)).round_dp(2);
        (valor + extra, valor)
    }
}
