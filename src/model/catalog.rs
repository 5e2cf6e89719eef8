//! Vendored catalogs (compiled in) and the project's rule tables (plazos, discharges).
//! Sources are listed in `src/catalogs/README.md`.

use std::collections::{HashMap, HashSet};
use std::sync::OnceLock;

pub const APENDICE2: &str = include_str!("../catalogs/apendice2_claves_pedimento.csv");
pub const APENDICE8: &str = include_str!("../catalogs/apendice8_identificadores.csv");
pub const PLAZOS: &str = include_str!("../catalogs/plazos.csv");
pub const DISCHARGES: &str = include_str!("../catalogs/discharge_claves.csv");

/// Claves of the 2007-era manual (seed 004 L4239-4255, L2770-2794) that no longer appear in
/// Apéndice 2 but do appear in historical filings: A2/A6 (PITEX), H2/H3 (maquila),
/// J1/J2 (returns). Accepted so old history can be ingested.
pub const LEGACY_CLAVES: &[&str] = &["A2", "A6", "H2", "H3", "J1", "J2"];

fn records(text: &str) -> Vec<csv::StringRecord> {
    let mut r = csv::ReaderBuilder::new()
        .has_headers(true)
        .from_reader(text.as_bytes());
    r.records().filter_map(|x| x.ok()).collect()
}

/// Every clave de pedimento accepted by ingest (Apéndice 2 plus legacy claves).
pub fn claves() -> &'static HashSet<String> {
    static C: OnceLock<HashSet<String>> = OnceLock::new();
    C.get_or_init(|| {
        let mut s: HashSet<String> = records(APENDICE2)
            .iter()
            .map(|r| r[0].trim().to_string())
            .collect();
        s.extend(LEGACY_CLAVES.iter().map(|c| c.to_string()));
        s
    })
}

/// One row of `plazos.csv`: how long a temporary import under `clave` may stay.
#[derive(Debug, Clone)]
pub struct Plazo {
    pub clave: String,
    pub tipo_bien: String,
    /// Months counted from the import's selección date; None when the plazo is the
    /// program's validity (`por_programa`) or unknown.
    pub meses: Option<u32>,
    pub por_programa: bool,
    pub cita: String,
}

pub fn plazos() -> &'static HashMap<String, Plazo> {
    static P: OnceLock<HashMap<String, Plazo>> = OnceLock::new();
    P.get_or_init(|| {
        records(PLAZOS)
            .iter()
            .map(|r| {
                let p = Plazo {
                    clave: r[0].to_string(),
                    tipo_bien: r[1].to_string(),
                    meses: r[2].trim().parse().ok(),
                    por_programa: r[3].trim() == "1",
                    cita: r[4].to_string(),
                };
                (p.clave.clone(), p)
            })
            .collect()
    })
}

/// Contribution codes of Anexo 22 Apéndice 12 used by the dataset. Apéndice 12 is not in
/// the seeds; these four codes are the long-standing SAAI ones (external knowledge).
pub const CONTRIB_DTA: &str = "1";
pub const CONTRIB_IVA: &str = "3";
pub const CONTRIB_IEPS: &str = "5";
pub const CONTRIB_IGI: &str = "6";

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn catalogs_load() {
        let c = claves();
        for k in [
            "IN", "AF", "RT", "V1", "V5", "F4", "F5", "A3", "H1", "R1", "A1", "H2",
        ] {
            assert!(c.contains(k), "{k}");
        }
        assert!(!c.contains("ZZ"));
        let p = plazos();
        assert_eq!(p["IN"].meses, Some(18));
        assert!(p["AF"].por_programa);
    }
}
