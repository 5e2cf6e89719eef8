//! The row structs of the dataset's tables (one per table, plus rejects), a year's rows
//! ([`YearData`]) and their content comparisons and value totals.

use super::*;

/// Pedimento header (Data Stage 501 + 506/507/701/Sel, or the CSV header columns).
#[derive(Debug, Clone, PartialEq)]
pub struct PedimentoRow {
    pub pedimento_id: Text,
    pub year: i32,
    pub aduana_seccion: Text,
    pub patente: Text,
    pub numero: Text,
    pub tipo_operacion: i32,
    /// Effective clave: for an R1 this is the clave of the pedimento it rectifies.
    pub clave: Text,
    /// Clave as declared (R1 for a rectificación).
    pub clave_declarada: Text,
    pub tipo_pedimento: i32,
    pub rfc: Text,
    pub nombre: Option<Text>,
    pub immex_programa: Option<Text>,
    pub fecha_pago: NaiveDate,
    pub fecha_entrada: Option<NaiveDate>,
    pub fecha_seleccion: Option<NaiveDate>,
    /// Date the operation counts from: selección automatizada if known, else payment
    /// (seed 004 L4089, L4097). For a rectificación: the date of the pedimento rectified.
    pub fecha_operacion: NaiveDate,
    pub tipo_cambio: Option<Decimal>,
    pub valor_dolares: Decimal,
    pub valor_aduana: Decimal,
    pub valor_comercial: Decimal,
    pub rectifica_id: Option<Text>,
    pub contraparte_id: Option<Text>,
    pub contraparte_rfc: Option<Text>,
    pub source_file: String,
    pub source_line: i64,
    /// Time of payment (`hh:mm:ss`) when the source gives it (Data Stage FechaPagoReal,
    /// or a CSV fecha_pago with a time): orders same-day operations in the ledger (PEPS).
    pub hora_pago: Option<Text>,
    /// A consolidated pedimento (Ley Aduanera art. 37): `Some(true)` when the source marks
    /// it (Data Stage: a Sel remesa with ConsecutivoRemesa 2 or more; CSV: the `consolidado`
    /// column), `Some(false)` when the source says it is not (CSV), `None` when it says
    /// nothing (read as not consolidated).
    /// Its first remesa is `fecha_seleccion` (the earliest selección); its closing is
    /// `fecha_pago`.
    pub consolidado: Option<bool>,
}

/// Value totals of each pedimento from its partidas (Data Stage 501 carries none):
/// (valor_dolares, valor_aduana, valor_comercial).
pub type Totals = FxMap<String, (Decimal, Decimal, Decimal)>;

pub fn header_totals<'a>(partidas: impl IntoIterator<Item = &'a PartidaRow>) -> Totals {
    let mut totals = Totals::default();
    for p in partidas {
        // Look up by &str first: the id is cloned once per pedimento, not per partida.
        let e = match totals.get_mut(p.pedimento_id.as_str()) {
            Some(e) => e,
            None => totals.entry(p.pedimento_id.to_string()).or_default(),
        };
        add_checked(&mut e.0, p.valor_dolares);
        add_checked(&mut e.1, p.valor_aduana);
        add_checked(&mut e.2, p.valor_comercial);
    }
    totals
}

/// `*t += v`, saturating at `Decimal::MAX`/`MIN` instead of panicking (a saturated sum is
/// far beyond DECIMAL(18,2): [`total_overflow`] rejects it).
pub fn add_checked(t: &mut Decimal, v: Decimal) {
    *t = t.checked_add(v).unwrap_or(if v.is_sign_negative() {
        Decimal::MIN
    } else {
        Decimal::MAX
    });
}

/// The first value total (valor_dolares, valor_aduana, valor_comercial) that does not fit
/// the header's DECIMAL(18,2) columns: stored, it would wrap.
pub fn total_overflow(t: &(Decimal, Decimal, Decimal)) -> Option<&'static str> {
    let max = crate::model::max_for(crate::model::MONEY_SCALE);
    [
        ("valor_dolares", t.0),
        ("valor_aduana", t.1),
        ("valor_comercial", t.2),
    ]
    .into_iter()
    .find(|(_, v)| v.abs() >= max)
    .map(|(c, _)| c)
}

impl PedimentoRow {
    /// Sets the header's value totals from [`header_totals`] (unchanged when it has none).
    pub fn set_totals(&mut self, totals: &Totals) {
        if let Some((vd, va, vc)) = totals.get(self.pedimento_id.as_str()) {
            self.valor_dolares = *vd;
            self.valor_aduana = *va;
            self.valor_comercial = *vc;
        }
    }
}

/// A string stored inline up to 24 bytes (a partida's ids and codes): no allocation
/// per field for the ~9 strings of each of millions of partidas.
pub type Text = compact_str::CompactString;

#[derive(Debug, Default, Clone, PartialEq)]
pub struct PartidaRow {
    pub pedimento_id: Text,
    pub partida: i32,
    pub fraccion: Text,
    pub nico: Option<Text>,
    pub descripcion: Option<Text>,
    pub codigo_producto: Option<Text>,
    pub pais_origen: Option<Text>,
    pub umc: Option<Text>,
    pub cantidad_umc: Option<Decimal>,
    pub umt: Text,
    pub cantidad_umt: Decimal,
    pub precio_unitario: Option<Decimal>,
    pub valor_aduana: Decimal,
    pub valor_comercial: Decimal,
    pub valor_dolares: Decimal,
    pub igi_tasa: Option<Decimal>,
    pub igi_importe: Option<Decimal>,
    pub iva_tasa: Option<Decimal>,
    pub iva_importe: Option<Decimal>,
    pub ieps_tasa: Option<Decimal>,
    pub ieps_importe: Option<Decimal>,
    pub dta_importe: Option<Decimal>,
    pub source_line: i64,
}

#[derive(Debug, Clone, PartialEq)]
pub struct IdentificadorRow {
    pub pedimento_id: String,
    /// None for pedimento-level identifiers (507), the partida number for 554.
    pub partida: Option<i32>,
    pub clave: String,
    pub complemento1: Option<String>,
    pub complemento2: Option<String>,
    pub complemento3: Option<String>,
    pub source_line: i64,
}

#[derive(Debug, Clone, PartialEq)]
pub struct DescargoRow {
    pub pedimento_id: String,
    pub original_id: String,
    pub original_fraccion: Option<String>,
    pub unidad_medida: Option<String>,
    pub cantidad: Option<Decimal>,
    pub fecha_original: Option<NaiveDate>,
    pub source_line: i64,
}

#[derive(Debug, Clone, PartialEq)]
pub struct RejectRow {
    pub source_file: String,
    pub line: i64,
    pub record_type: String,
    pub field: String,
    /// Stored as its English rendering.
    pub reason: RejectReason,
    pub raw: String,
}

/// Everything one ingest produced, for one year.
#[derive(Debug, Default, Clone)]
pub struct YearData {
    pub pedimentos: Vec<PedimentoRow>,
    pub partidas: Vec<PartidaRow>,
    pub identificadores: Vec<IdentificadorRow>,
    pub descargos: Vec<DescargoRow>,
    /// Earlier versions of a pedimento replaced within the same run (DATA-CONFLICT trail).
    pub conflicts: Vec<PedimentoRow>,
    /// Pedimentos whose header was not in this run's input: rows of a later run (a 551
    /// after its 501) resolved against the dataset. Their rows add to the stored ones
    /// (see [`KeepOld`]) instead of replacing the pedimento.
    pub partial: HashSet<String>,
}

/// What a merge keeps of the stored rows of pedimentos that arrive only partly
/// ([`YearData::partial`]): their stored partidas except those given again (same
/// number), and their stored identificadores/descargos unless new ones arrive.
#[derive(Debug, Default)]
pub struct KeepOld {
    pub ids: HashSet<String>,
    /// (pedimento, partida) given again: the stored row is replaced.
    pub partidas_replaced: HashSet<(String, i32)>,
    pub with_identificadores: HashSet<String>,
    pub with_descargos: HashSet<String>,
    /// Partial pedimentos with a stored partida given again with other content (fracción,
    /// quantity or values): the stored header goes to `conflicts` (DATA-CONFLICT).
    pub changed: HashSet<String>,
}

pub const TABLES: [&str; 4] = ["pedimentos", "partidas", "identificadores", "descargos"];

/// Same pedimento content, ignoring where it was read from (file and line).
pub fn same_content(a: &PedimentoRow, b: &PedimentoRow) -> bool {
    let mut b2 = b.clone();
    b2.source_file = a.source_file.clone();
    b2.source_line = a.source_line;
    *a == b2
}

/// Same partida content, ignoring the line it was read from.
pub fn same_partida(a: &PartidaRow, b: &PartidaRow) -> bool {
    a.source_line == b.source_line && a == b || {
        let mut b2 = b.clone();
        b2.source_line = a.source_line;
        *a == b2
    }
}

impl YearData {
    /// The rows of each table of [`TABLES`] as one batch, in that order.
    pub fn batches(&self) -> Result<[RecordBatch; 4]> {
        Ok([
            pedimentos_batch(&self.pedimentos)?,
            partidas_batch(&self.partidas)?,
            identificadores_batch(&self.identificadores)?,
            descargos_batch(&self.descargos)?,
        ])
    }

    /// Removes duplicates that arrive in one run from several files: the later version of
    /// a pedimento wins (the earlier goes to `conflicts` when it differs) and the later
    /// row of a partida wins.
    pub fn dedupe(&mut self) {
        // Headers in strictly increasing id order (as the Data Stage parse leaves them)
        // have no duplicate: one pass of comparisons instead of a map of every id.
        if self
            .pedimentos
            .windows(2)
            .all(|w| w[0].pedimento_id < w[1].pedimento_id)
        {
            return;
        }
        let winner: Vec<usize> = {
            let mut last: FxMap<&str, usize> = FxMap::default();
            last.reserve(self.pedimentos.len());
            for (i, p) in self.pedimentos.iter().enumerate() {
                last.insert(p.pedimento_id.as_str(), i);
            }
            if last.len() == self.pedimentos.len() {
                return;
            }
            self.pedimentos
                .iter()
                .map(|p| last[p.pedimento_id.as_str()])
                .collect()
        };
        let all = std::mem::take(&mut self.pedimentos);
        for (i, p) in all.iter().enumerate() {
            let w = winner[i];
            if w == i {
                self.pedimentos.push(p.clone());
            } else if !same_content(&all[w], p) {
                self.conflicts.push(p.clone());
            }
        }
        self.dedupe_partidas();
    }

    /// Keeps the last row of each (pedimento_id, partida), in order. Keys are borrowed:
    /// no allocation per row.
    fn dedupe_partidas(&mut self) {
        let mut seen: std::collections::HashSet<(&str, i32), std::hash::BuildHasherDefault<Fx>> =
            Default::default();
        seen.reserve(self.partidas.len());
        let mut keep = vec![false; self.partidas.len()];
        for (i, p) in self.partidas.iter().enumerate().rev() {
            keep[i] = seen.insert((p.pedimento_id.as_str(), p.partida));
        }
        if keep.iter().all(|k| *k) {
            return;
        }
        let mut i = 0;
        self.partidas.retain(|_| {
            i += 1;
            keep[i - 1]
        });
    }
}
