//! Full certification profiles for generated companies (`empresas.csv`, `imss.csv`,
//! `proveedores.csv`, `creditos.csv`, `devoluciones.csv`; columns in `docs/profile.md`).
//!
//! The profile is built so that a generated company meets every data-checkable
//! requirement of modality A (RCGMCE 2013 regla 5.2.13, seed 002 L497-L542) but not AA:
//! AA-b (seed 002 L547) needs 5 years under the regime OR more than 1,000 employees OR
//! machinery above MXN 50 M, and a generated company has only the years of its history
//! (operations start at its first pedimento), 150-250 employees and MXN 20 M of machinery.
//! Everything else of AA (suppliers 80 % compliant, no credits, no denied refunds) passes,
//! so AA-b is the single reason. `programas.csv` stays with [`super::writers::write_profiles`].

use super::History;
use chrono::{Datelike, Duration, NaiveDate};
use std::fmt::Write as _;
use std::fs;
use std::path::Path;

/// Writes the certification profile tables into `dir` (next to `programas.csv`).
pub fn write_cert_profiles(h: &History, dir: &Path) -> std::io::Result<()> {
    let end = history_end(h);
    // First IMMEX pedimento of each company = declared start of operations.
    let first = |rfc: &str| {
        h.years
            .values()
            .flat_map(|y| y.pedimentos.iter())
            .filter(|p| p.rfc == rfc && p.immex_programa.is_some())
            .map(|p| p.fecha_operacion)
            .min()
    };
    let first_year = h.years.keys().next().copied().unwrap_or(end.year());
    write_cert_profiles_from(h, &first, first_year, dir)
}

fn history_end(h: &History) -> NaiveDate {
    h.end
        .unwrap_or_else(|| NaiveDate::from_ymd_opt(2020, 12, 31).unwrap())
}

/// [`write_cert_profiles`] of a history streamed to Data Stage files
/// ([`super::generate_datastage`]): the rows are gone, the stream kept what is needed.
pub fn write_cert_profiles_streamed(
    h: &History,
    s: &super::writers::DataStageStream,
    dir: &Path,
) -> std::io::Result<()> {
    let end = history_end(h);
    let first = |rfc: &str| s.first_immex.get(rfc).copied();
    let first_year = s.first_year().unwrap_or(end.year());
    write_cert_profiles_from(h, &first, first_year, dir)
}

/// Writes the tables for `h.companies`, given each company's first IMMEX pedimento date
/// and the first year of the history.
fn write_cert_profiles_from(
    h: &History,
    first: &dyn Fn(&str) -> Option<NaiveDate>,
    first_year: i32,
    dir: &Path,
) -> std::io::Result<()> {
    fs::create_dir_all(dir)?;
    let end = history_end(h);
    let opinion = end - Duration::days(10);
    let mut emp = String::from(
        "rfc,nombre,fecha_inicio_operaciones,capital_maquinaria_mxn,maquinaria_mxn,opinion_positiva,fecha_opinion,en_listas,csd_vigente\n",
    );
    let mut imss = String::from("rfc,bimestre,trabajadores\n");
    let mut prov = String::from(
        "rfc,proveedor_rfc,compras_mxn,iva_mxn,opinion_positiva,fecha_opinion,en_listas,year\n",
    );
    let mut dev =
        String::from("rfc,fecha_solicitud,fecha,solicitado_mxn,autorizado_mxn,negado_mxn\n");
    for (i, c) in h.companies.iter().enumerate() {
        let _ = writeln!(
            emp,
            "{},{},{},25000000.00,20000000.00,1,{opinion},0,1",
            c.rfc,
            c.nombre.replace(',', " "),
            first(&c.rfc).map(|d| d.to_string()).unwrap_or_default(),
        );
        for y in (first_year - 1)..=end.year() {
            for b in 1..=6 {
                let _ = writeln!(imss, "{},{y}-{b:02},{}", c.rfc, 150 + 10 * (i % 10) + b);
            }
            let _ = writeln!(
                prov,
                "{},PSI010101AB1,800000.00,128000.00,1,{opinion},0,{y}",
                c.rfc
            );
            let _ = writeln!(prov, "{},PSD010101AB2,200000.00,32000.00,0,,0,{y}", c.rfc);
            let _ = writeln!(
                dev,
                "{},{y}-05-15,{y}-06-30,500000.00,500000.00,0.00",
                c.rfc
            );
        }
    }
    fs::write(dir.join("empresas.csv"), emp)?;
    fs::write(dir.join("imss.csv"), imss)?;
    fs::write(dir.join("proveedores.csv"), prov)?;
    fs::write(
        dir.join("creditos.csv"),
        "rfc,fecha,monto_mxn,pagado,convenio\n",
    )?;
    fs::write(dir.join("devoluciones.csv"), dev)
}
