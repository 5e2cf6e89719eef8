//! Writes a generated [`History`] as real input files (Data Stage `.asc`, flat CSV),
//! the company profiles, the injected-violation list, or directly as a dataset.

use super::History;
use crate::dataset::{self, PartidaRow, PedimentoRow};
use std::collections::HashMap;
use std::fmt::Write as _;
use std::fs;
use std::io::Write;
use std::path::Path;

fn dd(d: chrono::NaiveDate) -> String {
    format!("{} {}", d.format("%Y-%m-%d"), super::HORA_PAGO)
}

fn opt<T: ToString>(x: &Option<T>) -> String {
    x.as_ref().map(|v| v.to_string()).unwrap_or_default()
}

/// Writes text as Latin-1 with CRLF line ends, like SAT's Data Stage files.
fn write_latin1(path: &Path, text: &str) -> std::io::Result<()> {
    let bytes = latin1(text);
    let mut f = std::io::BufWriter::new(fs::File::create(path)?);
    f.write_all(&bytes)?;
    f.flush()
}

const H501: &str = "Patente|Pedimento|SeccionAduanera|TipoOperacion|ClaveDocumento|SeccionAduaneraEntrada|CurpContribuyente|Rfc|CurpAgenteA|TipoCambio|TotalFletes|TotalSeguros|TotalEmbalajes|TotalIncrementables|TotalDeducibles|PesoBrutoMercancia|MedioTransporteSalida|MedioTransporteArribo|MedioTransporteEntrada_Salida|DestinoMercancia|NombreContribuyente|CalleContribuyente|NumInteriorContribuyente|NumExteriorContribuyente|CPContribuyente|MunicipioContribuyente|EntidadFedContribuyente|PaisContribuyente|TipoPedimento|FechaRecepcionPedimento|FechaPagoReal|";
const H551: &str = "Patente|Pedimento|SeccionAduanera|Fraccion|SecuenciaFraccion|SubdivisionFraccion|DescripcionMercancia|PrecioUnitario|ValorAduana|ValorComercial|ValorDolares|CantidadUMComercial|UnidadMedidaComercial|CantidadUMTarifa|UnidadMedidaTarifa|ValorAgregado|ClaveVinculacion|MetodoValorizacion|CodigoMercanciaProducto|MarcaMercanciaProducto|ModeloMercanciaProducto|PaisOrigenDestino|PaisCompradorVendedor|EntidadFedOrigen|EntidadFedDestino|EntidadFedComprador|EntidadFedVendedor|TipoOperacion|ClaveDocumento|FechaPagoReal|";
const H507: &str = "Patente|Pedimento|SeccionAduanera|ClaveCaso|IdentificadorCaso|TipoPedimento|ComplementoCaso|FechaValidacionPagoR|";
const H556: &str = "Patente|Pedimento|SeccionAduanera|Fraccion|SecuenciaFraccion|ClaveContribucion|TasaContribucion|TipoTasa|FechaPagoReal|";
const H701: &str = "Patente|Pedimento|SeccionAduanera|ClaveDocumento|FechaPago|PedimentoAnterior|PatenteAnterior|SeccionAduaneraAnterior|DocumentoAnterior|FechaOperacionAnterior|PedimentoOriginal|PatenteAduanalOrig|SeccionAduaneraDespOrig|FechaPagoReal|";
const HSEL: &str = "Patente|Pedimento|SeccionAduanera|ConsecutivoRemesa|NumeroSeleccion|FechaSeleccion|HoraSeleccion|SemaforoFiscal|ClaveDocumento|TipoOperacion|";

fn key(id: &str) -> (&str, &str, &str) {
    // YYYY-ASS-PPPP-NNNNNNN
    (&id[9..13], &id[14..21], &id[5..8])
}

/// Writes one Data Stage request per year: `<dir>/<folio>_<tipo>.asc`.
pub fn write_datastage(h: &History, dir: &Path) -> std::io::Result<usize> {
    fs::create_dir_all(dir)?;
    let mut files = 0;
    let all: HashMap<&str, &PedimentoRow> = h
        .years
        .values()
        .flat_map(|y| y.pedimentos.iter())
        .map(|p| (p.pedimento_id.as_str(), p))
        .collect();
    for (year, y) in &h.years {
        let folio = folio(*year);
        let mut s501 = String::from(H501) + "\n";
        let mut s551 = String::from(H551) + "\n";
        let mut s507 = String::from(H507) + "\n";
        let mut s556 = String::from(H556) + "\n";
        let mut s701 = String::from(H701) + "\n";
        let mut ssel = String::from(HSEL) + "\n";
        let by_id: HashMap<&str, &PedimentoRow> = y
            .pedimentos
            .iter()
            .map(|p| (p.pedimento_id.as_str(), p))
            .collect();
        for p in &y.pedimentos {
            write_pedimento(&mut s501, &mut s701, &mut ssel, p, &all);
        }
        for i in &y.identificadores {
            write_507(&mut s507, i, by_id[i.pedimento_id.as_str()]);
        }
        for pt in &y.partidas {
            write_partida(&mut s551, &mut s556, pt, by_id[pt.pedimento_id.as_str()]);
        }
        for (t, s) in [
            ("501", s501),
            ("551", s551),
            ("507", s507),
            ("556", s556),
            ("701", s701),
            ("Sel", ssel),
        ] {
            write_latin1(&dir.join(format!("{folio}_{t}.asc")), &s)?;
            files += 1;
        }
    }
    Ok(files)
}

fn folio(year: i32) -> String {
    format!("{}{:03}", year, 1)
}

/// The 501 line of `p`, and its 701 (rectificación) or selección line.
fn write_pedimento(
    s501: &mut String,
    s701: &mut String,
    ssel: &mut String,
    p: &PedimentoRow,
    all: &HashMap<&str, &PedimentoRow>,
) {
    let (pa, nu, ad) = key(&p.pedimento_id);
    let _ = writeln!(
        s501,
        "{pa}|{nu}|{ad}|{}|{}|{ad}||{}||{}|0|0|0|0|0|1000.000|7|7|7|9|{}|||||||MEX|{}|{}|{}|",
        p.tipo_operacion,
        p.clave_declarada,
        p.rfc,
        opt(&p.tipo_cambio),
        opt(&p.nombre),
        p.tipo_pedimento,
        dd(p.fecha_pago),
        dd(p.fecha_pago)
    );
    if let Some(ant) = &p.rectifica_id {
        let (apa, anu, aad) = key(ant);
        let a = all.get(ant.as_str());
        let _ = writeln!(
            s701,
            "{pa}|{nu}|{ad}|R1|{}|{anu}|{apa}|{aad}|{}|{}|{anu}|{apa}|{aad}|{}|",
            dd(p.fecha_pago),
            a.map(|a| a.clave_declarada.as_str()).unwrap_or(&p.clave),
            a.map(|a| dd(a.fecha_pago)).unwrap_or_default(),
            dd(p.fecha_pago)
        );
    } else if let Some(sel) = p.fecha_seleccion {
        let _ = writeln!(
            ssel,
            "{pa}|{nu}|{ad}|1|1|{}|10:30:00|0|{}|{}|",
            sel.format("%Y-%m-%d"),
            p.clave_declarada,
            p.tipo_operacion
        );
    }
}

fn write_507(s507: &mut String, i: &dataset::IdentificadorRow, p: &PedimentoRow) {
    let (pa, nu, ad) = key(&i.pedimento_id);
    let _ = writeln!(
        s507,
        "{pa}|{nu}|{ad}|{}|{}|{}|{}|{}|",
        i.clave,
        opt(&i.complemento1),
        p.tipo_pedimento,
        opt(&i.complemento2),
        dd(p.fecha_pago)
    );
}

/// The 551 line of a partida and its 556 (contribution rate) lines.
fn write_partida(s551: &mut String, s556: &mut String, pt: &PartidaRow, p: &PedimentoRow) {
    let (pa, nu, ad) = key(&pt.pedimento_id);
    write_551(s551, pa, nu, ad, pt, p);
    for (code, tasa) in [
        ("6", &pt.igi_tasa),
        ("3", &pt.iva_tasa),
        ("5", &pt.ieps_tasa),
    ] {
        if let Some(t) = tasa {
            let _ = writeln!(
                s556,
                "{pa}|{nu}|{ad}|{}|{}|{code}|{t}|1|{}|",
                pt.fraccion,
                pt.partida,
                dd(p.fecha_pago)
            );
        }
    }
}

/// Data Stage files written as the generator produces rows ([`super::generate_datastage`]),
/// the same bytes as [`write_datastage`] of the whole history. A file lists its
/// pedimentos (and partidas) sorted by id, that is by (aduana, patente), then número;
/// números grow as rows are created, so each (year, file, aduana-patente) group is
/// appended to a part file in creation order, and [`Self::finish`] concatenates the parts
/// in group order. The 507 lines keep creation order, as in the whole history.
pub struct DataStageStream {
    dir: std::path::PathBuf,
    parts: std::path::PathBuf,
    /// (year, file type) → the aduana-patente groups with a part file.
    groups: std::collections::BTreeMap<(i32, &'static str), std::collections::BTreeSet<String>>,
    years: std::collections::BTreeSet<i32>,
    pub pedimentos: usize,
    pub partidas: usize,
    /// First IMMEX pedimento's fecha_operacion per RFC (for the certification profiles).
    pub first_immex: HashMap<String, chrono::NaiveDate>,
}

/// File types of a Data Stage request, in the order [`write_datastage`] writes them.
const TYPES: [&str; 6] = ["501", "551", "507", "556", "701", "Sel"];

impl DataStageStream {
    pub fn new(dir: &Path) -> std::io::Result<DataStageStream> {
        fs::create_dir_all(dir)?;
        let parts = dir.join(".parts");
        if parts.exists() {
            fs::remove_dir_all(&parts)?;
        }
        fs::create_dir_all(&parts)?;
        Ok(DataStageStream {
            dir: dir.to_path_buf(),
            parts,
            groups: Default::default(),
            years: Default::default(),
            pedimentos: 0,
            partidas: 0,
            first_immex: HashMap::new(),
        })
    }

    /// The first year with a pedimento.
    pub fn first_year(&self) -> Option<i32> {
        self.years.first().copied()
    }

    fn part(&self, year: i32, t: &str, group: &str) -> std::path::PathBuf {
        self.parts.join(format!("{year}_{t}_{group}"))
    }

    /// Takes the rows out of `h.years` and appends their lines to the part files.
    pub fn add(&mut self, h: &mut History) -> std::io::Result<()> {
        let years = std::mem::take(&mut h.years);
        for (year, mut y) in years {
            self.years.insert(year);
            self.pedimentos += y.pedimentos.len();
            self.partidas += y.partidas.len();
            y.pedimentos
                .sort_by(|a, b| a.pedimento_id.cmp(&b.pedimento_id));
            y.partidas
                .sort_by(|a, b| (&a.pedimento_id, a.partida).cmp(&(&b.pedimento_id, b.partida)));
            for p in y.pedimentos.iter().filter(|p| p.immex_programa.is_some()) {
                let f = self
                    .first_immex
                    .entry(p.rfc.to_string())
                    .or_insert(p.fecha_operacion);
                *f = (*f).min(p.fecha_operacion);
            }
            let by_id: HashMap<&str, &PedimentoRow> = y
                .pedimentos
                .iter()
                .map(|p| (p.pedimento_id.as_str(), p))
                .collect();
            // Per aduana-patente group: the 501, 701, Sel, 551 and 556 text.
            let mut text: std::collections::BTreeMap<&str, [String; 5]> = Default::default();
            for p in &y.pedimentos {
                let [s501, s701, ssel, _, _] = text.entry(group(&p.pedimento_id)).or_default();
                write_pedimento(s501, s701, ssel, p, &by_id);
            }
            for pt in &y.partidas {
                let [_, _, _, s551, s556] = text.entry(group(&pt.pedimento_id)).or_default();
                write_partida(s551, s556, pt, by_id[pt.pedimento_id.as_str()]);
            }
            let mut s507 = String::new();
            for i in &y.identificadores {
                write_507(&mut s507, i, by_id[i.pedimento_id.as_str()]);
            }
            let text = text
                .into_iter()
                .flat_map(|(g, [a, b, c, d, e])| {
                    [("501", a), ("701", b), ("Sel", c), ("551", d), ("556", e)]
                        .map(|(t, s)| ((t, g), s))
                })
                .chain([(("507", ""), s507)]);
            for ((t, g), s) in text {
                if s.is_empty() {
                    continue;
                }
                self.groups
                    .entry((year, t))
                    .or_default()
                    .insert(g.to_string());
                let mut f = fs::OpenOptions::new()
                    .create(true)
                    .append(true)
                    .open(self.part(year, t, g))?;
                f.write_all(&latin1(&s))?;
            }
        }
        Ok(())
    }

    /// Writes each year's files (header, then the parts in group order) and removes the
    /// parts. Returns the number of files written.
    pub fn finish(&self) -> std::io::Result<usize> {
        let mut files = 0;
        for &year in &self.years {
            for t in TYPES {
                let header = match t {
                    "501" => H501,
                    "551" => H551,
                    "507" => H507,
                    "556" => H556,
                    "701" => H701,
                    _ => HSEL,
                };
                let path = self.dir.join(format!("{}_{t}.asc", folio(year)));
                let mut out = std::io::BufWriter::new(fs::File::create(&path)?);
                out.write_all(&latin1(&(String::from(header) + "\n")))?;
                for g in self.groups.get(&(year, t)).into_iter().flatten() {
                    let part = self.part(year, t, g);
                    std::io::copy(&mut fs::File::open(&part)?, &mut out)?;
                    fs::remove_file(&part)?;
                }
                out.flush()?;
                files += 1;
            }
        }
        fs::remove_dir_all(&self.parts)?;
        Ok(files)
    }
}

/// The part of a pedimento id that sorts its file before the número: `YYYY-AAA-PPPP`.
fn group(id: &str) -> &str {
    &id[..13]
}

/// Text as Latin-1 with CRLF line ends (see [`write_latin1`]).
fn latin1(text: &str) -> Vec<u8> {
    let text = text.replace('\n', "\r\n");
    let (bytes, _, _) = encoding_rs::WINDOWS_1252.encode(&text);
    bytes.into_owned()
}

fn write_551(s: &mut String, pa: &str, nu: &str, ad: &str, pt: &PartidaRow, p: &PedimentoRow) {
    let _ = writeln!(
        s,
        "{pa}|{nu}|{ad}|{}|{}|{}|{}|{}|{}|{}|{}|{}|{}|{}|{}|0|0|1|{}|||{}|{}|||||{}|{}|{}|",
        pt.fraccion,
        pt.partida,
        opt(&pt.nico),
        opt(&pt.descripcion),
        opt(&pt.precio_unitario),
        pt.valor_aduana,
        pt.valor_comercial,
        pt.valor_dolares,
        opt(&pt.cantidad_umc),
        opt(&pt.umc),
        pt.cantidad_umt,
        pt.umt,
        opt(&pt.codigo_producto),
        opt(&pt.pais_origen),
        opt(&pt.pais_origen),
        p.tipo_operacion,
        p.clave_declarada,
        dd(p.fecha_pago)
    );
}

pub const CSV_HEADER: &str = "pedimento,tipo_operacion,clave,clave_original,rfc,nombre,immex_programa,fecha_pago,fecha_seleccion,tipo_cambio,rectifica,contraparte_pedimento,contraparte_rfc,partida,fraccion,descripcion,codigo_producto,pais_origen,umc,cantidad_umc,umt,cantidad_umt,precio_unitario,valor_aduana,valor_comercial,valor_dolares,igi_tasa,iva_tasa,ieps_tasa,identificadores";

fn q(s: &str) -> String {
    if s.contains([',', '"', '\n']) {
        format!("\"{}\"", s.replace('"', "\"\""))
    } else {
        s.to_string()
    }
}

/// Writes the flat CSV layout (one row per partida), UTF-8.
pub fn write_csv(h: &History, path: &Path) -> std::io::Result<usize> {
    let mut out = std::io::BufWriter::new(fs::File::create(path)?);
    writeln!(out, "{CSV_HEADER}")?;
    let mut n = 0;
    for y in h.years.values() {
        let by_id: HashMap<&str, &PedimentoRow> = y
            .pedimentos
            .iter()
            .map(|p| (p.pedimento_id.as_str(), p))
            .collect();
        let mut ids: HashMap<&str, Vec<String>> = HashMap::new();
        for i in &y.identificadores {
            let mut s = i.clave.clone();
            for c in [&i.complemento1, &i.complemento2] {
                s.push(':');
                s.push_str(c.as_deref().unwrap_or(""));
            }
            ids.entry(i.pedimento_id.as_str()).or_default().push(s);
        }
        for pt in &y.partidas {
            let p = by_id[pt.pedimento_id.as_str()];
            let orig = if p.clave_declarada == "R1" {
                p.clave.clone()
            } else {
                Default::default()
            };
            writeln!(
                out,
                "{},{},{},{},{},{},{},{},{},{},{},{},{},{},{},{},{},{},{},{},{},{},{},{},{},{},{},{},{},{}",
                p.pedimento_id,
                p.tipo_operacion,
                p.clave_declarada,
                orig,
                p.rfc,
                q(&opt(&p.nombre)),
                opt(&p.immex_programa),
                p.fecha_pago,
                opt(&p.fecha_seleccion),
                opt(&p.tipo_cambio),
                opt(&p.rectifica_id),
                opt(&p.contraparte_id),
                opt(&p.contraparte_rfc),
                pt.partida,
                pt.fraccion,
                q(&opt(&pt.descripcion)),
                opt(&pt.codigo_producto),
                opt(&pt.pais_origen),
                opt(&pt.umc),
                opt(&pt.cantidad_umc),
                pt.umt,
                pt.cantidad_umt,
                opt(&pt.precio_unitario),
                pt.valor_aduana,
                pt.valor_comercial,
                pt.valor_dolares,
                opt(&pt.igi_tasa),
                opt(&pt.iva_tasa),
                opt(&pt.ieps_tasa),
                q(&ids
                    .get(p.pedimento_id.as_str())
                    .map(|v| v.join(";"))
                    .unwrap_or_default()),
            )?;
            n += 1;
        }
    }
    out.flush()?;
    Ok(n)
}

/// Writes `programas.csv` (IMMEX program validity) for the generated companies, and the
/// manufacturers' `bom.csv` and `desperdicios.csv` ([`super::bom::write`]).
pub fn write_profiles(h: &History, dir: &Path) -> std::io::Result<()> {
    fs::create_dir_all(dir)?;
    let mut s =
        String::from("rfc,programa,fecha_inicio,fecha_fin,fecha_cancelacion,prorroga,sector\n");
    for c in &h.companies {
        let _ = writeln!(
            s,
            "{},{},2015-01-01,2035-12-31,,0,general",
            c.rfc, c.programa
        );
    }
    fs::write(dir.join("programas.csv"), s)?;
    super::bom::write(h, dir)
}

/// Writes the injected violations and the findings they must produce.
pub fn write_injected(h: &History, path: &Path) -> std::io::Result<()> {
    let mut s = String::from("check_code,rfc,pedimento_id,partida,quantity\n");
    for i in &h.injected {
        let _ = writeln!(
            s,
            "{},{},{},{},{}",
            i.check_code, i.rfc, i.pedimento_id, i.partida, i.quantity
        );
    }
    fs::write(path, s)
}

/// Writes the history straight into a dataset (skips text parsing; for large benchmarks).
pub fn write_dataset(h: &History, root: &Path) -> Result<(), dataset::DatasetError> {
    use rayon::prelude::*;
    fs::create_dir_all(root).map_err(dataset::io(root))?;
    h.years
        .par_iter()
        .map(|(y, data)| dataset::merge_year(root, *y, data).map(|_| ()))
        .collect()
}
