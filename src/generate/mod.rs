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
pub mod virtual_inject;
pub mod writers;

use crate::dataset::{IdentificadorRow, PartidaRow, PedimentoRow, YearData};
use chrono::{Datelike, Duration, NaiveDate};
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

#[allow(dead_code)]
struct Lot {
    umt: String,
    pedimento_id: String,
    partida: i32,
    open: Decimal,
    fecha: NaiveDate,
    valor_unit: Decimal,
}

struct Sim<'a> {
    rng: Rng,
    h: &'a mut History,
    counters: BTreeMap<(i32, String, String), u32>,
}

/// The time of payment of every generated pedimento (Data Stage FechaPagoReal is written
/// with it; the dataset keeps it as hora_pago): same-day movements then order by number.
pub const HORA_PAGO: &str = "10:15:00";

const DESCRIPCIONES: [&str; 6] = [
    "RESINA DE POLIPROPILENO",
    "TORNILLO DE ACERO",
    "CIRCUITO IMPRESO ENSAMBLADO",
    "ARNÉS ELÉCTRICO",
    "LÁMINA DE ALUMINIO",
    "CONECTOR PLÁSTICO",
];

impl Sim<'_> {
    fn next_id(&mut self, c: &Company, fecha: NaiveDate) -> (String, String) {
        let y = fecha.year();
        let n = self
            .counters
            .entry((y, c.aduana.clone(), c.patente.clone()))
            .or_insert(0);
        *n += 1;
        // Anexo 22: the número's first digit is the last digit of the year.
        let numero = format!("{}{:06}", y % 10, *n);
        (
            format!("{y:04}-{}-{}-{numero}", c.aduana, c.patente),
            numero,
        )
    }

    #[allow(clippy::too_many_arguments)]
    fn pedimento(
        &mut self,
        c: &Company,
        fecha: NaiveDate,
        clave: &str,
        tipo_operacion: i32,
        lines: &[(String, String, Decimal, Decimal)], // fraccion, umt, qty, valor_unit
        immex: bool,
    ) -> String {
        let (id, numero) = self.next_id(c, fecha);
        let mut vd = Decimal::ZERO;
        let mut va = Decimal::ZERO;
        let tc = Decimal::new(1850000 + (self.rng.range(0, 20000) as i64), 5);
        let year = fecha.year();
        let mut partidas = vec![];
        let mut vc = Decimal::ZERO;
        for (i, (fr, umt, qty, vu)) in lines.iter().enumerate() {
            let valor = (*qty * *vu).round_dp(2);
            let dolares = (valor / tc).round_dp(2);
            let (aduana, comercial) = declared_values(tipo_operacion, valor, INCREMENTABLES_PCT);
            vd += dolares;
            va += aduana;
            vc += comercial;
            let igi_tasa = Decimal::from([0, 5, 10][(self.rng.next() % 3) as usize]);
            partidas.push(PartidaRow {
                pedimento_id: id.as_str().into(),
                partida: i as i32 + 1,
                fraccion: fr.as_str().into(),
                nico: Some("00".into()),
                descripcion: Some(DESCRIPCIONES[(fr.as_bytes()[7] % 6) as usize].into()),
                codigo_producto: None,
                pais_origen: Some("USA".into()),
                umc: Some(umt.as_str().into()),
                cantidad_umc: Some(*qty),
                umt: umt.as_str().into(),
                cantidad_umt: *qty,
                precio_unitario: Some(*vu),
                valor_aduana: aduana,
                valor_comercial: comercial,
                valor_dolares: dolares,
                igi_tasa: Some(igi_tasa),
                igi_importe: Some(Decimal::ZERO),
                iva_tasa: Some(Decimal::from(16)),
                iva_importe: Some(Decimal::ZERO),
                ieps_tasa: None,
                ieps_importe: None,
                dta_importe: None,
                source_line: 0,
            });
        }
        let yd = self.h.years.entry(year).or_default();
        yd.partidas.extend(partidas);
        if immex {
            yd.identificadores.push(IdentificadorRow {
                pedimento_id: id.clone(),
                partida: None,
                clave: "IM".into(),
                complemento1: Some(c.programa.clone()),
                complemento2: None,
                complemento3: None,
                source_line: 0,
            });
        }
        yd.pedimentos.push(PedimentoRow {
            pedimento_id: id.clone(),
            year,
            aduana_seccion: c.aduana.clone(),
            patente: c.patente.clone(),
            numero,
            tipo_operacion,
            clave: clave.into(),
            clave_declarada: clave.into(),
            tipo_pedimento: 1,
            rfc: c.rfc.clone(),
            nombre: Some(c.nombre.clone()),
            immex_programa: immex.then(|| c.programa.clone()),
            fecha_pago: fecha,
            fecha_entrada: Some(fecha),
            fecha_seleccion: Some(fecha),
            fecha_operacion: fecha,
            tipo_cambio: Some(tc),
            valor_dolares: vd,
            valor_aduana: va,
            valor_comercial: vc,
            rectifica_id: None,
            contraparte_id: None,
            contraparte_rfc: None,
            source_file: "generated".into(),
            source_line: 0,
            hora_pago: Some(HORA_PAGO.into()),
            consolidado: None,
        });
        id
    }

    fn set_counterpart(&mut self, id: &str, other_id: &str, other_rfc: &str) {
        let year: i32 = crate::model::PedimentoKey::year_of_id(id).expect("generated id");
        let yd = self.h.years.get_mut(&year).unwrap();
        if let Some(p) = yd
            .pedimentos
            .iter_mut()
            .rev()
            .find(|p| p.pedimento_id == id)
        {
            p.contraparte_id = Some(other_id.into());
            p.contraparte_rfc = Some(other_rfc.into());
        }
        yd.identificadores.push(IdentificadorRow {
            pedimento_id: id.into(),
            partida: None,
            clave: "V1".into(),
            complemento1: Some(other_id.into()),
            complemento2: Some(other_rfc.into()),
            complemento3: None,
            source_line: 0,
        });
    }
}

impl Company {
    /// Whether `fr` is an insumo of one of the company's products (any BOM version).
    pub fn is_insumo(&self, fr: &str) -> bool {
        self.products.iter().any(|p| {
            p.versions
                .iter()
                .any(|v| v.lines.iter().any(|l| self.fracciones[l.insumo].0 == fr))
        })
    }
}

/// Measured: a manufacturer's production order yields this many partidas × 10 on average
/// (3.5 insumos imported, and the product returns, transfers, leftover insumo returns and
/// rectificaciones they cause).
const MANUFACTURER_PARTIDAS_X10: usize = 32;

/// The clave of a discharge: 15 % virtual transfers to the partner company (when there is
/// one), 15 % changes of regime, the rest returns.
fn discharge_kind(rng: &mut Rng, companies: usize) -> &'static str {
    let r = rng.next() % 100;
    if companies > 1 && r < 15 {
        "V1"
    } else if r < 30 {
        "F4"
    } else {
        "RT"
    }
}

/// A manufacturer's discharges of products on `fecha`: each product's BOM in force gives
/// the insumo quantity per unit; the open lots allow `max` whole units; 40-90 % of them
/// are returned (all of them once an insumo lot is 200 days old). The insumos are taken
/// from `lots` by FIFO, as the ledger's explosion will (merma and desperdicio included:
/// a company that destroys its desperdicio takes it by the month's acta instead, the
/// same quantity). Appends the product partidas to `batches`; returns the desperdicio to
/// destroy per insumo (index into `c.fracciones`), empty unless the company destroys.
fn produce(
    rng: &mut Rng,
    c: &Company,
    ci: usize,
    fecha: NaiveDate,
    lots: &mut BTreeMap<String, VecDeque<Lot>>,
    batches: &mut BTreeMap<&'static str, Vec<(String, String, Decimal, Decimal)>>,
    companies: usize,
) -> BTreeMap<usize, Decimal> {
    let mut waste: BTreeMap<usize, Decimal> = BTreeMap::new();
    let destroys = bom::destroys_waste(ci);
    for p in &c.products {
        let Some(v) = p.at(fecha) else { continue };
        let mut max: Option<Decimal> = None;
        let mut old = false;
        for l in &v.lines {
            let q = lots.get(&c.fracciones[l.insumo].0);
            let open: Decimal = q
                .map(|q| q.iter().map(|x| x.open).sum())
                .unwrap_or_default();
            let per = l.per_unit();
            let mut u = (open / per).floor();
            // Decimal division rounds at 28 digits: never trust it by one unit.
            while u > Decimal::ZERO && u * per > open {
                u -= Decimal::ONE;
            }
            max = Some(max.map_or(u, |m| m.min(u)));
            old |= q
                .and_then(|q| q.front())
                .is_some_and(|x| (fecha - x.fecha).num_days() > 200);
        }
        let max = max.unwrap_or_default();
        if max <= Decimal::ZERO {
            continue;
        }
        let units = if old {
            max
        } else {
            let pct = Decimal::from(rng.range(40, 90));
            (max * pct / Decimal::ONE_HUNDRED)
                .round()
                .clamp(Decimal::ONE, max)
        };
        let mut valor = Decimal::ZERO;
        for l in &v.lines {
            let q = lots
                .get_mut(&c.fracciones[l.insumo].0)
                .expect("an open insumo");
            let mut want = units * l.per_unit();
            while want > Decimal::ZERO {
                let Some(front) = q.front_mut() else { break };
                let t = front.open.min(want);
                front.open -= t;
                want -= t;
                valor += t * front.valor_unit;
                if front.open.is_zero() {
                    q.pop_front();
                }
            }
            if destroys {
                *waste.entry(l.insumo).or_default() += l.waste(units);
            }
        }
        // The product is worth its insumos plus 30 % of value added.
        let vu = (valor * Decimal::new(13, 1) / units).round_dp(4);
        let kind = discharge_kind(rng, companies);
        batches
            .entry(kind)
            .or_default()
            .push((p.fraccion.clone(), "6".to_string(), units, vu));
    }
    waste.retain(|_, q| !q.is_zero());
    waste
}

fn company(i: usize, rng: &mut Rng) -> Company {
    let letters = |n: u64| -> String {
        let mut s = String::new();
        let mut x = n;
        for _ in 0..3 {
            s.push((b'A' + (x % 26) as u8) as char);
            x /= 26;
        }
        s
    };
    let rfc = format!(
        "{}{:02}0{}15{}{}",
        letters(i as u64 * 7 + 3),
        90 + (i % 10),
        1 + i % 9,
        letters(i as u64 + 11).chars().next().unwrap(),
        10 + i % 90
    );
    let nfr = 12;
    let fracciones = (0..nfr)
        .map(|k| {
            let fr = format!(
                "{:04}{:02}{:02}",
                3901 + (i * 13 + k * 7) % 5000,
                k % 90,
                1 + k % 9
            );
            let umt = if k % 3 == 0 { "6" } else { "1" };
            (fr, umt.to_string())
        })
        .collect();
    let _ = rng.next();
    Company {
        rfc,
        nombre: format!("MANUFACTURAS SINTÉTICAS {} SA DE CV", i + 1),
        programa: format!("{:07}", 1000000 + i * 37),
        fracciones,
        patente: format!("{:04}", 3000 + i % 7),
        aduana: ["240", "070", "800", "190"][i % 4].into(),
        products: vec![],
    }
}

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
            let mut c = company(i, &mut rng);
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
        (cfg.partidas * 10 / (companies.len() * months * MANUFACTURER_PARTIDAS_X10)).max(1);
    let mut sim = Sim {
        rng: rng.clone(),
        h,
        counters: BTreeMap::new(),
    };
    // Open lots per (company, fraccion).
    let mut lots: Vec<BTreeMap<String, VecDeque<Lot>>> =
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
            // Imports.
            for k in 0..per_month {
                let day = 1 + ((k * 5 + ci) % 27) as u32;
                let fecha = month_start.with_day(day).unwrap();
                let mut lines = vec![];
                if manufacturer {
                    // A production order: the insumos of one product's BOM in force for
                    // 50-500 units, merma and desperdicio included, in whole units.
                    let p = &c.products[(sim.rng.next() % c.products.len() as u64) as usize];
                    let units = Decimal::from(sim.rng.range(50, 500));
                    for l in &p.at(fecha).expect("a BOM from 2015 on").lines {
                        let (fr, umt) = c.fracciones[l.insumo].clone();
                        let qty = (units * l.per_unit()).ceil();
                        let vu = Decimal::new(sim.rng.range(150, 25000) as i64, 2);
                        lines.push((fr, umt, qty, vu));
                    }
                } else {
                    let n = sim.rng.range(1, 5) as usize;
                    for _ in 0..n {
                        let (fr, umt) = c.fracciones
                            [(sim.rng.next() % c.fracciones.len() as u64) as usize]
                            .clone();
                        let qty = Decimal::from(sim.rng.range(100, 5000));
                        let vu = Decimal::new(sim.rng.range(150, 25000) as i64, 2);
                        lines.push((fr, umt, qty, vu));
                    }
                }
                // Rectificación: 2% of imports are filed with quantities 10% higher and
                // rectified (R1) three days later with the right ones.
                let rect = sim.rng.chance(2);
                let id = if rect {
                    let wrong: Vec<_> = lines
                        .iter()
                        .map(|(f, u, q, v)| {
                            (f.clone(), u.clone(), (*q * Decimal::new(11, 1)).round(), *v)
                        })
                        .collect();
                    let orig = sim.pedimento(c, fecha, "IN", 1, &wrong, true);
                    let rfecha = fecha + Duration::days(3);
                    let r1 = sim.pedimento(c, rfecha, "R1", 1, &lines, true);
                    let yd = sim.h.years.get_mut(&rfecha.year()).unwrap();
                    let p = yd
                        .pedimentos
                        .iter_mut()
                        .rev()
                        .find(|p| p.pedimento_id == r1)
                        .unwrap();
                    p.clave = "IN".into();
                    p.tipo_pedimento = 2;
                    p.rectifica_id = Some(orig);
                    p.fecha_operacion = fecha;
                    r1
                } else {
                    sim.pedimento(c, fecha, "IN", 1, &lines, true)
                };
                let lot_fecha = fecha;
                for (i, (fr, umt, qty, vu)) in lines.iter().enumerate() {
                    lots[ci].entry(fr.clone()).or_default().push_back(Lot {
                        umt: umt.clone(),
                        pedimento_id: id.clone(),
                        partida: i as i32 + 1,
                        open: *qty,
                        fecha: lot_fecha,
                        valor_unit: *vu,
                    });
                }
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
            // Discharges at the end of the month: FIFO per fracción; anything older than
            // 10 months is discharged in full, the rest partly.
            let fecha = month_start.with_day(28).unwrap();
            let partner = (ci + 1) % companies.len();
            let mut batches: BTreeMap<&str, Vec<(String, String, Decimal, Decimal)>> =
                BTreeMap::new();
            // A manufacturer first returns products; the ledger explodes them into their
            // insumos (FIFO), and the insumos are only returned as such once old.
            let waste = produce(
                &mut sim.rng,
                c,
                ci,
                fecha,
                &mut lots[ci],
                &mut batches,
                companies.len(),
            );
            let held: Vec<String> = lots[ci].keys().cloned().collect();
            for fr in &held {
                let Some(q) = lots[ci].get_mut(fr) else {
                    continue;
                };
                let Some(umt) = q.front().map(|l| l.umt.clone()) else {
                    continue;
                };
                let mut take = Decimal::ZERO;
                let mut valor = Decimal::ZERO;
                let total: Decimal = q.iter().map(|l| l.open).sum();
                if total.is_zero() {
                    continue;
                }
                let forced: Decimal = q
                    .iter()
                    .filter(|l| (fecha - l.fecha).num_days() > 300)
                    .map(|l| l.open)
                    .sum();
                let mut want = if manufacturer && c.is_insumo(fr) {
                    forced
                } else {
                    let pct = Decimal::from(sim.rng.range(40, 90));
                    ((total * pct) / Decimal::from(100)).round().max(forced)
                };
                if want > total {
                    want = total;
                }
                while want > Decimal::ZERO {
                    let Some(front) = q.front_mut() else { break };
                    let t = front.open.min(want);
                    front.open -= t;
                    want -= t;
                    take += t;
                    valor += t * front.valor_unit;
                    if front.open.is_zero() {
                        q.pop_front();
                    }
                }
                if take.is_zero() {
                    continue;
                }
                let vu = (valor / take).round_dp(4);
                let mut kind = discharge_kind(&mut sim.rng, companies.len());
                if kind == "V1"
                    && companies[partner]
                        .products
                        .iter()
                        .any(|p| &p.fraccion == fr)
                {
                    // Never transfer a manufacturer its own product back: a discharge of
                    // that fracción by it is exploded into its insumos, not taken from the
                    // product's lot. Returned instead.
                    kind = "RT";
                }
                batches
                    .entry(kind)
                    .or_default()
                    .push((fr.clone(), umt.clone(), take, vu));
            }
            for (kind, lines) in batches {
                match kind {
                    "RT" => {
                        sim.pedimento(c, fecha, "RT", 2, &lines, true);
                    }
                    "F4" => {
                        sim.pedimento(c, fecha, "F4", 1, &lines, true);
                    }
                    _ => {
                        // Virtual transfer: the receiver's V1 import passes selección on
                        // the transfer day; the sender's V1 return follows (seed 004 L1686).
                        let rc = &companies[partner];
                        let recv = sim.pedimento(rc, fecha, "V1", 1, &lines, true);
                        let send = sim.pedimento(c, fecha, "V1", 2, &lines, true);
                        sim.set_counterpart(&recv, &send, &c.rfc);
                        sim.set_counterpart(&send, &recv, &rc.rfc);
                        for (i, (fr, umt, qty, vu)) in lines.iter().enumerate() {
                            lots[partner].entry(fr.clone()).or_default().push_back(Lot {
                                umt: umt.clone(),
                                pedimento_id: recv.clone(),
                                partida: i as i32 + 1,
                                open: *qty,
                                fecha,
                                valor_unit: *vu,
                            });
                        }
                    }
                }
            }
            // The month's acta de destrucción: the desperdicio of the products returned,
            // per insumo (discharged by PEPS after the day's pedimentos).
            let acta = format!("{}-{}", c.rfc, fecha.format("%Y%m"));
            for (k, cantidad) in waste {
                let (fr, umt) = &c.fracciones[k];
                sim.h.desperdicios.push(bom::Destruction {
                    rfc: c.rfc.clone(),
                    fecha,
                    acta: acta.clone(),
                    fraccion: fr.clone(),
                    umt: umt.clone(),
                    cantidad,
                });
            }
        }
        flush(sim.h)?;
    }
    // Injected violations, on dedicated fracciones (9900xxxx) so their findings are exact.
    for (ci, c) in companies.iter().enumerate() {
        for v in &cfg.inject {
            let fr = format!("9900{:02}{:02}", ci % 100, *v as u8 + 1);
            // One partida of the dedicated fracción: (UMT, quantity, unit value in cents).
            let line = |umt: &str, qty: i64, cents: i64| {
                [(
                    fr.clone(),
                    umt.to_string(),
                    Decimal::from(qty),
                    Decimal::new(cents, 2),
                )]
            };
            // A manufacturer's Expired and Excess come from explosions: a dedicated product
            // (9912CCKK) of two dedicated insumos A (9910CCKK, 2 kg per unit) and B
            // (9911CCKK, 1 kg per unit), no merma nor desperdicio.
            let dedicated = |head: &str| format!("{head}{:02}{:02}", ci % 100, *v as u8 + 1);
            let bom_case =
                !c.products.is_empty() && matches!(v, Violation::Expired | Violation::Excess);
            if bom_case {
                let (a, b, z) = (dedicated("9910"), dedicated("9911"), dedicated("9912"));
                // Consumo of B: 1 kg (Expired) or 2.5 kg (Excess).
                let cb = if *v == Violation::Expired {
                    Decimal::ONE
                } else {
                    Decimal::new(25, 1)
                };
                for (fr, consumo) in [(&a, Decimal::TWO), (&b, cb)] {
                    sim.h.bom.push(bom::BomRow {
                        rfc: c.rfc.clone(),
                        producto_fraccion: z.clone(),
                        producto_parte: format!("P{ci:04}-X{}", *v as u8 + 1),
                        insumo_fraccion: fr.clone(),
                        umt: "1".into(),
                        consumo,
                        merma_pct: Decimal::ZERO,
                        desperdicio_pct: Decimal::ZERO,
                        valid_from: bom::bom_start(),
                        valid_to: None,
                    });
                }
                let goods = |fr: &str, umt: &str, qty: i64| {
                    (
                        fr.to_string(),
                        umt.to_string(),
                        Decimal::from(qty),
                        Decimal::new(5000, 2),
                    )
                };
                if *v == Violation::Expired {
                    // Imported A 200, B 100; products returned short: 60 (RT) and 30 (F4)
                    // units take A 180 and B 90, so A 20 and B 10 stay open past 18 months.
                    let f0 = start + Duration::days(14);
                    let imp = [goods(&a, "1", 200), goods(&b, "1", 100)];
                    let id = sim.pedimento(c, f0, "IN", 1, &imp, true);
                    let rt = [goods(&z, "6", 60)];
                    sim.pedimento(c, f0 + Duration::days(60), "RT", 2, &rt, true);
                    let f4 = [goods(&z, "6", 30)];
                    sim.pedimento(c, f0 + Duration::days(90), "F4", 1, &f4, true);
                    for (partida, q) in [(1, 20), (2, 10)] {
                        sim.h.injected.push(Injected {
                            check_code: v.check_code().into(),
                            rfc: c.rfc.clone(),
                            pedimento_id: id.clone(),
                            partida,
                            quantity: Decimal::from(q),
                        });
                    }
                } else {
                    // Imported A 90, B 100; 45 units returned take A 90 (all of it) and
                    // B 112.5: 12.5 of B beyond its open lots, on the product's partida.
                    let f = start + Duration::days(200);
                    let imp = [goods(&a, "1", 90), goods(&b, "1", 100)];
                    sim.pedimento(c, f - Duration::days(30), "IN", 1, &imp, true);
                    let id = sim.pedimento(c, f, "RT", 2, &[goods(&z, "6", 45)], true);
                    sim.h.injected.push(Injected {
                        check_code: v.check_code().into(),
                        rfc: c.rfc.clone(),
                        pedimento_id: id,
                        partida: 1,
                        quantity: Decimal::new(125, 1),
                    });
                }
                continue;
            }
            match v {
                Violation::Expired => {
                    let f0 = start + Duration::days(14);
                    let id = sim.pedimento(c, f0, "IN", 1, &line("1", 100, 5000), true);
                    sim.pedimento(
                        c,
                        f0 + Duration::days(60),
                        "RT",
                        2,
                        &line("1", 60, 5000),
                        true,
                    );
                    sim.pedimento(
                        c,
                        f0 + Duration::days(90),
                        "F4",
                        1,
                        &line("1", 30, 5000),
                        true,
                    );
                    sim.h.injected.push(Injected {
                        check_code: v.check_code().into(),
                        rfc: c.rfc.clone(),
                        pedimento_id: id,
                        partida: 1,
                        quantity: Decimal::from(10),
                    });
                }
                Violation::Excess => {
                    // 10 imported, 35 returned: 25 discharged with nothing open (a return of
                    // a fracción never imported is DESCARGO-NO-BOM, not an excess).
                    let f = start + Duration::days(200);
                    sim.pedimento(
                        c,
                        f - Duration::days(30),
                        "IN",
                        1,
                        &line("1", 10, 1000),
                        true,
                    );
                    let id = sim.pedimento(c, f, "RT", 2, &line("1", 35, 1000), true);
                    sim.h.injected.push(Injected {
                        check_code: v.check_code().into(),
                        rfc: c.rfc.clone(),
                        pedimento_id: id,
                        partida: 1,
                        quantity: Decimal::from(25),
                    });
                }
                Violation::Unit => {
                    let f = end - Duration::days(40);
                    sim.pedimento(c, f, "IN", 1, &line("1", 500, 1000), true);
                    let id = sim.pedimento(
                        c,
                        f + Duration::days(5),
                        "RT",
                        2,
                        &line("6", 40, 1000),
                        true,
                    );
                    sim.h.injected.push(Injected {
                        check_code: v.check_code().into(),
                        rfc: c.rfc.clone(),
                        pedimento_id: id,
                        partida: 1,
                        quantity: Decimal::from(40),
                    });
                }
                // Injected below by virtual_inject.
                Violation::VirtualUnpaired
                | Violation::VirtualMismatch
                | Violation::VirtualLate => {}
            }
        }
    }
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
