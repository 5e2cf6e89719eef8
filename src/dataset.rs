//! The dataset: hive-partitioned Parquet, one directory per year of payment.
//!
//! ```text
//! <root>/year=2024/pedimentos.parquet
//!                 /partidas.parquet
//!                 /identificadores.parquet
//!                 /descargos.parquet
//!                 /conflicts.parquet      (earlier versions replaced by a different one)
//! <root>/rejects/<run>.parquet            (every rejected input row, with file/line/field/reason)
//! <root>/_manifest/<run>.json             (per input file: hash, rows read/accepted/rejected)
//! <root>/_manifest/files.tsv              (hashes already ingested: re-ingest is a no-op)
//! ```
//! A year is written to `<root>/.tmp-year=2024-<pid>/` and renamed into place (one atomic
//! rename per year), so a killed ingest leaves each year either as before or as after.
//!
//! Appended segments: when an ingest only adds pedimentos a year does not hold yet (the
//! usual monthly load), the year's files are not rewritten. The new rows go to segment files
//! `<table>-00001.parquet`, `<table>-00002.parquet`, ... beside the base `<table>.parquet`;
//! the old files are hard-linked into the `.tmp-year=*` directory, which is swapped in as
//! above. A table of a year is the base followed by its segments ([`table_files`]; engines
//! glob `year=*/<table>*.parquet`). A merge that replaces or extends stored pedimentos, or a
//! year past [`MAX_SEGMENTS`], rewrites the year into one base file again.
//! Money is Decimal128(18,2), quantities Decimal128(18,5), rates Decimal128(18,6).

use crate::model::{self, MONEY_SCALE, QTY_SCALE, RATE_SCALE};
use arrow::array::{
    Array, ArrayRef, Date32Array, Decimal128Array, Int32Array, Int64Array, RecordBatch, StringArray,
};
use arrow::datatypes::{DataType, Field, Schema, SchemaRef};
use chrono::NaiveDate;
use parquet::arrow::ArrowWriter;
use parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder;
use parquet::basic::{Compression, ZstdLevel};
use parquet::file::properties::WriterProperties;
use rayon::prelude::*;
use rust_decimal::Decimal;
use std::collections::{BTreeMap, HashSet};
use std::fs;
use std::path::{Path, PathBuf};
use std::sync::Arc;

#[derive(Debug, thiserror::Error)]
pub enum DatasetError {
    #[error("I/O error on {path}: {source}")]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("Parquet error on {path}: {source}")]
    Parquet {
        path: PathBuf,
        source: parquet::errors::ParquetError,
    },
    #[error("Arrow error: {0}")]
    Arrow(#[from] arrow::error::ArrowError),
    #[error("{0}")]
    Other(String),
}

pub type Result<T> = std::result::Result<T, DatasetError>;

pub fn io(path: &Path) -> impl FnOnce(std::io::Error) -> DatasetError + '_ {
    move |source| DatasetError::Io {
        path: path.to_path_buf(),
        source,
    }
}

fn pq(path: &Path) -> impl FnOnce(parquet::errors::ParquetError) -> DatasetError + '_ {
    move |source| DatasetError::Parquet {
        path: path.to_path_buf(),
        source,
    }
}

/// Pedimento header (Data Stage 501 + 506/507/701/Sel, or the CSV header columns).
#[derive(Debug, Clone, PartialEq)]
pub struct PedimentoRow {
    pub pedimento_id: String,
    pub year: i32,
    pub aduana_seccion: String,
    pub patente: String,
    pub numero: String,
    pub tipo_operacion: i32,
    /// Effective clave: for an R1 this is the clave of the pedimento it rectifies.
    pub clave: String,
    /// Clave as declared (R1 for a rectificación).
    pub clave_declarada: String,
    pub tipo_pedimento: i32,
    pub rfc: String,
    pub nombre: Option<String>,
    pub immex_programa: Option<String>,
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
    pub rectifica_id: Option<String>,
    pub contraparte_id: Option<String>,
    pub contraparte_rfc: Option<String>,
    pub source_file: String,
    pub source_line: i64,
    /// Time of payment (`hh:mm:ss`) when the source gives it (Data Stage FechaPagoReal,
    /// or a CSV fecha_pago with a time): orders same-day operations in the ledger (PEPS).
    pub hora_pago: Option<String>,
    /// A consolidated pedimento (Ley Aduanera art. 37): `Some(true)` when the source marks
    /// it (Data Stage: a Sel remesa with ConsecutivoRemesa 2 or more; CSV: the `consolidado`
    /// column), `Some(false)` when the source says it is not (CSV), `None` when it says
    /// nothing (read as not consolidated).
    /// Its first remesa is `fecha_seleccion` (the earliest selección); its closing is
    /// `fecha_pago`.
    pub consolidado: Option<bool>,
}

/// A small, fast hasher (FxHash) for the per-row lookups of short keys (pedimento ids,
/// key triples): SipHash, the std default, was a visible share of the ingest's profile.
#[derive(Default)]
pub struct Fx(u64);

impl std::hash::Hasher for Fx {
    fn finish(&self) -> u64 {
        // Finalizer (murmur3's fmix64): the multiply in `write` only carries a change of
        // the input's high bits into the state's high bits, and hashbrown picks buckets by
        // the low bits. Without it, keys that differ in the last digits of the número
        // (whose bytes land high in their word) shared buckets: a shard's pedimentos are a
        // dense key range, and the 501 stage ran 3x slower per shard at 10M than at 1M.
        let mut h = self.0;
        h ^= h >> 33;
        h = h.wrapping_mul(0xff51_afd7_ed55_8ccd);
        h ^= h >> 33;
        h = h.wrapping_mul(0xc4ce_b9fe_1a85_ec53);
        h ^ (h >> 33)
    }
    fn write(&mut self, bytes: &[u8]) {
        for chunk in bytes.chunks(8) {
            let mut b = [0u8; 8];
            b[..chunk.len()].copy_from_slice(chunk);
            self.word(u64::from_le_bytes(b));
        }
    }
    // Integers without the byte loop (the same state as `write` of their LE bytes).
    fn write_u64(&mut self, n: u64) {
        self.word(n);
    }
    fn write_usize(&mut self, n: usize) {
        self.word(n as u64);
    }
    fn write_u32(&mut self, n: u32) {
        self.word(n as u64);
    }
    fn write_i32(&mut self, n: i32) {
        self.word(n as u32 as u64);
    }
}

impl Fx {
    fn word(&mut self, w: u64) {
        self.0 = (self.0.rotate_left(5) ^ w).wrapping_mul(0x51_7c_c1_b7_27_22_0a_95);
    }
}

/// A HashMap with [`Fx`] hashing.
pub type FxMap<K, V> = std::collections::HashMap<K, V, std::hash::BuildHasherDefault<Fx>>;

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
        if let Some((vd, va, vc)) = totals.get(&self.pedimento_id) {
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
    pub reason: String,
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

fn utf8(name: &str, nullable: bool) -> Field {
    Field::new(name, DataType::Utf8, nullable)
}
fn dec(name: &str, scale: u32, nullable: bool) -> Field {
    Field::new(name, DataType::Decimal128(18, scale as i8), nullable)
}
fn date(name: &str, nullable: bool) -> Field {
    Field::new(name, DataType::Date32, nullable)
}
fn int(name: &str, nullable: bool) -> Field {
    Field::new(name, DataType::Int32, nullable)
}

pub fn pedimentos_schema() -> SchemaRef {
    Arc::new(Schema::new(vec![
        utf8("pedimento_id", false),
        utf8("aduana_seccion", false),
        utf8("patente", false),
        utf8("numero", false),
        int("tipo_operacion", false),
        utf8("clave", false),
        utf8("clave_declarada", false),
        int("tipo_pedimento", false),
        utf8("rfc", false),
        utf8("nombre", true),
        utf8("immex_programa", true),
        date("fecha_pago", false),
        date("fecha_entrada", true),
        date("fecha_seleccion", true),
        date("fecha_operacion", false),
        dec("tipo_cambio", QTY_SCALE, true),
        dec("valor_dolares", MONEY_SCALE, false),
        dec("valor_aduana", MONEY_SCALE, false),
        dec("valor_comercial", MONEY_SCALE, false),
        utf8("rectifica_id", true),
        utf8("contraparte_id", true),
        utf8("contraparte_rfc", true),
        utf8("source_file", false),
        Field::new("source_line", DataType::Int64, false),
        utf8("hora_pago", true),
        Field::new("consolidado", DataType::Boolean, true),
    ]))
}

pub fn partidas_schema() -> SchemaRef {
    Arc::new(Schema::new(vec![
        utf8("pedimento_id", false),
        int("partida", false),
        utf8("fraccion", false),
        utf8("nico", true),
        utf8("descripcion", true),
        utf8("codigo_producto", true),
        utf8("pais_origen", true),
        utf8("umc", true),
        dec("cantidad_umc", QTY_SCALE, true),
        utf8("umt", false),
        dec("cantidad_umt", QTY_SCALE, false),
        dec("precio_unitario", QTY_SCALE, true),
        dec("valor_aduana", MONEY_SCALE, false),
        dec("valor_comercial", MONEY_SCALE, false),
        dec("valor_dolares", MONEY_SCALE, false),
        dec("igi_tasa", RATE_SCALE, true),
        dec("igi_importe", MONEY_SCALE, true),
        dec("iva_tasa", RATE_SCALE, true),
        dec("iva_importe", MONEY_SCALE, true),
        dec("ieps_tasa", RATE_SCALE, true),
        dec("ieps_importe", MONEY_SCALE, true),
        dec("dta_importe", MONEY_SCALE, true),
        Field::new("source_line", DataType::Int64, false),
    ]))
}

pub fn identificadores_schema() -> SchemaRef {
    Arc::new(Schema::new(vec![
        utf8("pedimento_id", false),
        int("partida", true),
        utf8("clave", false),
        utf8("complemento1", true),
        utf8("complemento2", true),
        utf8("complemento3", true),
        Field::new("source_line", DataType::Int64, false),
    ]))
}

pub fn descargos_schema() -> SchemaRef {
    Arc::new(Schema::new(vec![
        utf8("pedimento_id", false),
        utf8("original_id", false),
        utf8("original_fraccion", true),
        utf8("unidad_medida", true),
        dec("cantidad", QTY_SCALE, true),
        date("fecha_original", true),
        Field::new("source_line", DataType::Int64, false),
    ]))
}

pub fn rejects_schema() -> SchemaRef {
    Arc::new(Schema::new(vec![
        utf8("source_file", false),
        Field::new("line", DataType::Int64, false),
        utf8("record_type", false),
        utf8("field", false),
        utf8("reason", false),
        utf8("raw", false),
    ]))
}

pub fn schema_of(table: &str) -> SchemaRef {
    match table {
        "pedimentos" | "conflicts" => pedimentos_schema(),
        "partidas" => partidas_schema(),
        "identificadores" => identificadores_schema(),
        "descargos" => descargos_schema(),
        "rejects" => rejects_schema(),
        other => panic!("unknown table {other}"),
    }
}

fn s<'a>(it: impl Iterator<Item = &'a str>) -> ArrayRef {
    Arc::new(StringArray::from_iter_values(it))
}
fn so<'a>(it: impl Iterator<Item = Option<&'a str>>) -> ArrayRef {
    Arc::new(StringArray::from_iter(it))
}
fn d(it: impl Iterator<Item = Decimal>, scale: u32) -> ArrayRef {
    Arc::new(
        Decimal128Array::from_iter_values(it.map(|x| model::to_scaled_i128(x, scale)))
            .with_precision_and_scale(18, scale as i8)
            .expect("valid decimal precision"),
    )
}
fn dopt(it: impl Iterator<Item = Option<Decimal>>, scale: u32) -> ArrayRef {
    Arc::new(
        Decimal128Array::from_iter(it.map(|x| x.map(|v| model::to_scaled_i128(v, scale))))
            .with_precision_and_scale(18, scale as i8)
            .expect("valid decimal precision"),
    )
}
fn dt(it: impl Iterator<Item = NaiveDate>) -> ArrayRef {
    Arc::new(Date32Array::from_iter_values(it.map(model::date32)))
}
fn dtopt(it: impl Iterator<Item = Option<NaiveDate>>) -> ArrayRef {
    Arc::new(Date32Array::from_iter(it.map(|x| x.map(model::date32))))
}
fn i32s(it: impl Iterator<Item = i32>) -> ArrayRef {
    Arc::new(Int32Array::from_iter_values(it))
}
fn i64s(it: impl Iterator<Item = i64>) -> ArrayRef {
    Arc::new(Int64Array::from_iter_values(it))
}

pub fn pedimentos_batch(rows: &[PedimentoRow]) -> Result<RecordBatch> {
    let r = rows;
    Ok(RecordBatch::try_new(
        pedimentos_schema(),
        vec![
            s(r.iter().map(|x| x.pedimento_id.as_str())),
            s(r.iter().map(|x| x.aduana_seccion.as_str())),
            s(r.iter().map(|x| x.patente.as_str())),
            s(r.iter().map(|x| x.numero.as_str())),
            i32s(r.iter().map(|x| x.tipo_operacion)),
            s(r.iter().map(|x| x.clave.as_str())),
            s(r.iter().map(|x| x.clave_declarada.as_str())),
            i32s(r.iter().map(|x| x.tipo_pedimento)),
            s(r.iter().map(|x| x.rfc.as_str())),
            so(r.iter().map(|x| x.nombre.as_deref())),
            so(r.iter().map(|x| x.immex_programa.as_deref())),
            dt(r.iter().map(|x| x.fecha_pago)),
            dtopt(r.iter().map(|x| x.fecha_entrada)),
            dtopt(r.iter().map(|x| x.fecha_seleccion)),
            dt(r.iter().map(|x| x.fecha_operacion)),
            dopt(r.iter().map(|x| x.tipo_cambio), QTY_SCALE),
            d(r.iter().map(|x| x.valor_dolares), MONEY_SCALE),
            d(r.iter().map(|x| x.valor_aduana), MONEY_SCALE),
            d(r.iter().map(|x| x.valor_comercial), MONEY_SCALE),
            so(r.iter().map(|x| x.rectifica_id.as_deref())),
            so(r.iter().map(|x| x.contraparte_id.as_deref())),
            so(r.iter().map(|x| x.contraparte_rfc.as_deref())),
            s(r.iter().map(|x| x.source_file.as_str())),
            i64s(r.iter().map(|x| x.source_line)),
            so(r.iter().map(|x| x.hora_pago.as_deref())),
            Arc::new(arrow::array::BooleanArray::from(
                r.iter().map(|x| x.consolidado).collect::<Vec<_>>(),
            )),
        ],
    )?)
}

pub fn partidas_batch(r: &[PartidaRow]) -> Result<RecordBatch> {
    Ok(RecordBatch::try_new(
        partidas_schema(),
        vec![
            s(r.iter().map(|x| x.pedimento_id.as_str())),
            i32s(r.iter().map(|x| x.partida)),
            s(r.iter().map(|x| x.fraccion.as_str())),
            so(r.iter().map(|x| x.nico.as_deref())),
            so(r.iter().map(|x| x.descripcion.as_deref())),
            so(r.iter().map(|x| x.codigo_producto.as_deref())),
            so(r.iter().map(|x| x.pais_origen.as_deref())),
            so(r.iter().map(|x| x.umc.as_deref())),
            dopt(r.iter().map(|x| x.cantidad_umc), QTY_SCALE),
            s(r.iter().map(|x| x.umt.as_str())),
            d(r.iter().map(|x| x.cantidad_umt), QTY_SCALE),
            dopt(r.iter().map(|x| x.precio_unitario), QTY_SCALE),
            d(r.iter().map(|x| x.valor_aduana), MONEY_SCALE),
            d(r.iter().map(|x| x.valor_comercial), MONEY_SCALE),
            d(r.iter().map(|x| x.valor_dolares), MONEY_SCALE),
            dopt(r.iter().map(|x| x.igi_tasa), RATE_SCALE),
            dopt(r.iter().map(|x| x.igi_importe), MONEY_SCALE),
            dopt(r.iter().map(|x| x.iva_tasa), RATE_SCALE),
            dopt(r.iter().map(|x| x.iva_importe), MONEY_SCALE),
            dopt(r.iter().map(|x| x.ieps_tasa), RATE_SCALE),
            dopt(r.iter().map(|x| x.ieps_importe), MONEY_SCALE),
            dopt(r.iter().map(|x| x.dta_importe), MONEY_SCALE),
            i64s(r.iter().map(|x| x.source_line)),
        ],
    )?)
}

pub fn identificadores_batch(r: &[IdentificadorRow]) -> Result<RecordBatch> {
    Ok(RecordBatch::try_new(
        identificadores_schema(),
        vec![
            s(r.iter().map(|x| x.pedimento_id.as_str())),
            Arc::new(Int32Array::from_iter(r.iter().map(|x| x.partida))),
            s(r.iter().map(|x| x.clave.as_str())),
            so(r.iter().map(|x| x.complemento1.as_deref())),
            so(r.iter().map(|x| x.complemento2.as_deref())),
            so(r.iter().map(|x| x.complemento3.as_deref())),
            i64s(r.iter().map(|x| x.source_line)),
        ],
    )?)
}

pub fn descargos_batch(r: &[DescargoRow]) -> Result<RecordBatch> {
    Ok(RecordBatch::try_new(
        descargos_schema(),
        vec![
            s(r.iter().map(|x| x.pedimento_id.as_str())),
            s(r.iter().map(|x| x.original_id.as_str())),
            so(r.iter().map(|x| x.original_fraccion.as_deref())),
            so(r.iter().map(|x| x.unidad_medida.as_deref())),
            dopt(r.iter().map(|x| x.cantidad), QTY_SCALE),
            dtopt(r.iter().map(|x| x.fecha_original)),
            i64s(r.iter().map(|x| x.source_line)),
        ],
    )?)
}

pub fn rejects_batch(r: &[RejectRow]) -> Result<RecordBatch> {
    Ok(RecordBatch::try_new(
        rejects_schema(),
        vec![
            s(r.iter().map(|x| x.source_file.as_str())),
            i64s(r.iter().map(|x| x.line)),
            s(r.iter().map(|x| x.record_type.as_str())),
            s(r.iter().map(|x| x.field.as_str())),
            s(r.iter().map(|x| x.reason.as_str())),
            s(r.iter().map(|x| x.raw.as_str())),
        ],
    )?)
}

/// Columns whose values are (nearly) all different: written PLAIN, without the
/// dictionary parquet-rs tries first. Its interner hashed every value of a row group
/// before falling back (about 6% of a 10M ingest's CPU, for a dictionary as large as
/// the column); zstd still compresses these columns. Names of any table; a name a
/// schema does not have is ignored.
const NO_DICTIONARY: &[&str] = &[
    "pedimento_id",
    "numero",
    "rectifica_id",
    "contraparte_id",
    "original_id",
    "source_line",
    "line",
    "raw",
    "valor_dolares",
    "valor_aduana",
    "valor_comercial",
    "cantidad_umc",
    "cantidad_umt",
    "precio_unitario",
    "igi_importe",
    "iva_importe",
    "ieps_importe",
    "dta_importe",
    "cantidad",
];

fn props() -> WriterProperties {
    let mut b = WriterProperties::builder()
        .set_compression(Compression::ZSTD(ZstdLevel::try_new(1).unwrap()))
        .set_max_row_group_row_count(Some(ROW_GROUP_ROWS));
    for c in NO_DICTIONARY {
        b = b.set_column_dictionary_enabled(parquet::schema::types::ColumnPath::from(*c), false);
    }
    b.build()
}

/// Most rows per row group ([`props`] and [`ParWriter`]).
const ROW_GROUP_ROWS: usize = 256 * 1024;
/// [`ParWriter`] encodes its pending rows once it has this many.
const PENDING_ROWS: usize = 64 * 1024;

/// A Parquet file written a row group at a time with its columns encoded in parallel
/// (rayon): `ArrowWriter` encodes one column after the other on the calling thread, and
/// in the sharded ingest the writes between shard groups ran on one core of two. The
/// file has `ArrowWriter`'s schema metadata and [`props`]; rows are buffered across
/// writes up to [`PENDING_ROWS`] (memory), so row groups have 64K-256K rows, fewer for a
/// file's last one.
pub struct ParWriter {
    path: PathBuf,
    schema: SchemaRef,
    writer: parquet::file::writer::SerializedFileWriter<fs::File>,
    factory: parquet::arrow::arrow_writer::ArrowRowGroupWriterFactory,
    pending: Vec<RecordBatch>,
    rows: usize,
    groups: usize,
}

impl ParWriter {
    pub fn create(path: &Path, schema: SchemaRef) -> Result<ParWriter> {
        let f = fs::File::create(path).map_err(io(path))?;
        let w = ArrowWriter::try_new(f, schema.clone(), Some(props())).map_err(pq(path))?;
        let (writer, factory) = w.into_serialized_writer().map_err(pq(path))?;
        Ok(ParWriter {
            path: path.to_path_buf(),
            schema,
            writer,
            factory,
            pending: vec![],
            rows: 0,
            groups: 0,
        })
    }

    pub fn write(&mut self, batch: &RecordBatch) -> Result<()> {
        if batch.num_rows() == 0 {
            return Ok(());
        }
        self.pending.push(batch.clone());
        self.rows += batch.num_rows();
        if self.rows >= PENDING_ROWS {
            self.flush()?;
        }
        Ok(())
    }

    /// Encodes the pending rows as row groups of at most [`ROW_GROUP_ROWS`].
    fn flush(&mut self) -> Result<()> {
        let pending = std::mem::take(&mut self.pending);
        self.rows = 0;
        let rows = match pending.len() {
            0 => return Ok(()),
            1 => pending.into_iter().next().expect("one batch"),
            _ => arrow::compute::concat_batches(&self.schema, &pending)
                .map_err(|e| pq(&self.path)(e.into()))?,
        };
        let mut at = 0;
        while at < rows.num_rows() {
            let n = ROW_GROUP_ROWS.min(rows.num_rows() - at);
            self.row_group(&rows.slice(at, n))?;
            at += n;
        }
        Ok(())
    }

    fn row_group(&mut self, rows: &RecordBatch) -> Result<()> {
        use parquet::arrow::arrow_writer::{ArrowColumnChunk, compute_leaves};
        let path = &self.path;
        let writers = self
            .factory
            .create_column_writers(self.groups)
            .map_err(pq(path))?;
        // Flat schemas: one leaf (and one writer) per column.
        let chunks: Vec<ArrowColumnChunk> = writers
            .into_par_iter()
            .zip(self.schema.fields().par_iter())
            .zip(rows.columns().par_iter())
            .map(|((mut w, field), col)| {
                for leaf in compute_leaves(field, col)? {
                    w.write(&leaf)?;
                }
                w.close()
            })
            .collect::<parquet::errors::Result<_>>()
            .map_err(pq(path))?;
        let mut rg = self.writer.next_row_group().map_err(pq(path))?;
        for c in chunks {
            c.append_to_row_group(&mut rg).map_err(pq(path))?;
        }
        rg.close().map_err(pq(path))?;
        self.groups += 1;
        Ok(())
    }

    /// Writes the last rows and the footer; syncs the file to disk.
    pub fn finish(mut self) -> Result<()> {
        self.flush()?;
        let path = self.path.clone();
        let f = self.writer.into_inner().map_err(pq(&path))?;
        f.sync_all().map_err(io(&path))
    }
}

/// Writes batches (all of one schema) to `path` as one Parquet file.
pub fn write_parquet(path: &Path, schema: SchemaRef, batches: &[RecordBatch]) -> Result<()> {
    let mut w = ParWriter::create(path, schema)?;
    for b in batches {
        w.write(b)?;
    }
    w.finish()
}

/// [`write_parquet`] to a hidden sibling `.tmp-<name>`, then renamed into place: readers
/// never see a half-written file; [`recover`] removes the leftovers of a killed run.
pub fn write_parquet_atomic(path: &Path, schema: SchemaRef, batches: &[RecordBatch]) -> Result<()> {
    let tmp = tmp_sibling(path);
    write_parquet(&tmp, schema, batches)?;
    fs::rename(&tmp, path).map_err(io(path))
}

/// Writes bytes to a hidden sibling `.tmp-<name>` and renames it into place.
pub fn write_atomic(path: &Path, bytes: &[u8]) -> Result<()> {
    let tmp = tmp_sibling(path);
    {
        use std::io::Write;
        let mut f = fs::File::create(&tmp).map_err(io(&tmp))?;
        f.write_all(bytes).map_err(io(&tmp))?;
        f.sync_all().map_err(io(&tmp))?;
    }
    fs::rename(&tmp, path).map_err(io(path))
}

fn tmp_sibling(path: &Path) -> PathBuf {
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().to_string())
        .unwrap_or_default();
    path.with_file_name(format!(".tmp-{name}"))
}

/// Streams the record batches of a Parquet file to `f`, one at a time.
pub fn for_each_batch(path: &Path, mut f: impl FnMut(RecordBatch) -> Result<()>) -> Result<()> {
    let file = fs::File::open(path).map_err(io(path))?;
    let r = ParquetRecordBatchReaderBuilder::try_new(file)
        .map_err(pq(path))?
        .with_batch_size(64 * 1024)
        .build()
        .map_err(pq(path))?;
    for b in r {
        // A corrupt page fails here, after the footer was read: name the file.
        let b =
            b.map_err(|e| pq(path)(parquet::errors::ParquetError::ArrowError(e.to_string())))?;
        f(b)?;
    }
    Ok(())
}

/// Reads a whole Parquet file written by this module.
pub fn read_parquet(path: &Path) -> Result<Vec<RecordBatch>> {
    let mut out = vec![];
    for_each_batch(path, |b| {
        out.push(b);
        Ok(())
    })?;
    Ok(out)
}

pub fn year_dir(root: &Path, year: i32) -> PathBuf {
    root.join(format!("year={year}"))
}

/// Segments a table of a year may hold before an append rewrites the year whole.
pub const MAX_SEGMENTS: u32 = 24;

/// The segment number of `name` for `table`: 0 for the base `<table>.parquet`, n for
/// `<table>-NNNNN.parquet`, None for anything else.
fn segment_of(name: &str, table: &str) -> Option<u32> {
    let rest = name.strip_prefix(table)?.strip_suffix(".parquet")?;
    if rest.is_empty() {
        return Some(0);
    }
    let n = rest.strip_prefix('-')?;
    (n.len() == 5 && n.bytes().all(|b| b.is_ascii_digit()))
        .then(|| n.parse().ok())
        .flatten()
        .filter(|n| *n > 0)
}

fn segments(dir: &Path, table: &str) -> Vec<(u32, PathBuf)> {
    let mut v: Vec<(u32, PathBuf)> = fs::read_dir(dir)
        .into_iter()
        .flatten()
        .flatten()
        .filter_map(|e| {
            let n = e.file_name();
            segment_of(n.to_str()?, table).map(|k| (k, e.path()))
        })
        .collect();
    v.sort();
    v
}

/// The files of `table` in a year directory, in row order: the base `<table>.parquet`
/// (when present) then the appended segments `<table>-NNNNN.parquet` in number order.
pub fn table_files(dir: &Path, table: &str) -> Vec<PathBuf> {
    segments(dir, table).into_iter().map(|(_, p)| p).collect()
}

/// The files of `table` over every year of the dataset, years ascending.
pub fn dataset_table_files(root: &Path, table: &str) -> Vec<PathBuf> {
    years(root)
        .into_iter()
        .flat_map(|y| table_files(&year_dir(root, y), table))
        .collect()
}

/// Years present in the dataset, ascending.
pub fn years(root: &Path) -> Vec<i32> {
    let mut ys: Vec<i32> = fs::read_dir(root)
        .into_iter()
        .flatten()
        .flatten()
        .filter_map(|e| {
            e.file_name()
                .to_str()
                .and_then(|n| n.strip_prefix("year="))
                .and_then(|y| y.parse().ok())
        })
        .collect();
    ys.sort();
    ys
}

/// Keeps the rows of `batch` whose `pedimento_id` is not in `drop`.
fn filter_out(batch: &RecordBatch, drop: &HashSet<String>) -> Result<RecordBatch> {
    let ids = batch
        .column(0)
        .as_any()
        .downcast_ref::<StringArray>()
        .ok_or_else(|| DatasetError::Other("first column is not pedimento_id".into()))?;
    let mask: arrow::array::BooleanArray = ids
        .iter()
        .map(|v| Some(!drop.contains(v.unwrap_or(""))))
        .collect();
    Ok(arrow::compute::filter_record_batch(batch, &mask)?)
}

/// A partidas batch without the rows whose (pedimento_id, partida) is in `drop`.
fn filter_out_pairs(batch: &RecordBatch, drop: &HashSet<(String, i32)>) -> Result<RecordBatch> {
    let ids = col::<StringArray>(batch, "pedimento_id")?;
    let n = col::<arrow::array::Int32Array>(batch, "partida")?;
    let mask: arrow::array::BooleanArray = (0..batch.num_rows())
        .map(|i| Some(!drop.contains(&(ids.value(i).to_string(), n.value(i)))))
        .collect();
    Ok(arrow::compute::filter_record_batch(batch, &mask)?)
}

/// What a year merge did, for the run summary and the manifest.
#[derive(Debug, Default, Clone, Copy)]
pub struct MergeStats {
    pub new: usize,
    pub identical: usize,
    pub replaced: usize,
}

/// New rows of one table for a year: in memory, or Parquet files staged by a sharded
/// ingest (streamed into the partition, never loaded whole).
pub enum NewRows<'a> {
    Batch(RecordBatch),
    Files(&'a [PathBuf]),
}

/// Merges new rows for one year into the existing partition and swaps it in atomically.
/// A pedimento already present with identical content is kept once; one present with
/// different content is replaced by the new version and the old header goes to
/// `conflicts.parquet` (the DATA-CONFLICT audit trail).
pub fn merge_year(root: &Path, year: i32, new: &YearData) -> Result<MergeStats> {
    let with_partidas: HashSet<&str> = new
        .partidas
        .iter()
        .map(|p| p.pedimento_id.as_str())
        .collect();
    let mut pedimentos = new.pedimentos.clone();
    let mut keep = KeepOld::default();
    if !new.partial.is_empty() {
        keep.ids = new.partial.clone();
        let of = |id: &str| new.partial.contains(id);
        keep.partidas_replaced = new
            .partidas
            .iter()
            .filter(|p| of(&p.pedimento_id))
            .map(|p| (p.pedimento_id.to_string(), p.partida))
            .collect();
        keep.with_identificadores = new
            .identificadores
            .iter()
            .filter(|i| of(&i.pedimento_id))
            .map(|i| i.pedimento_id.clone())
            .collect();
        keep.with_descargos = new
            .descargos
            .iter()
            .filter(|d| of(&d.pedimento_id))
            .map(|d| d.pedimento_id.clone())
            .collect();
        // The totals of a partial pedimento with new partidas: the new ones plus the
        // stored ones kept.
        let olds = table_files(&year_dir(root, year), "partidas");
        if !olds.is_empty() {
            let mut add: FxMap<String, (Decimal, Decimal, Decimal)> = FxMap::default();
            let given: FxMap<(&str, i32), &PartidaRow> = new
                .partidas
                .iter()
                .filter(|p| of(&p.pedimento_id))
                .map(|p| ((p.pedimento_id.as_str(), p.partida), p))
                .collect();
            for old in &olds {
                for_each_batch(old, |b| {
                    let ids = col::<StringArray>(&b, "pedimento_id")?;
                    let n = col::<arrow::array::Int32Array>(&b, "partida")?;
                    let fr = col::<StringArray>(&b, "fraccion")?;
                    let q = col::<arrow::array::Decimal128Array>(&b, "cantidad_umt")?;
                    let v = |c: &str| col::<arrow::array::Decimal128Array>(&b, c);
                    let (vd, va, vc) = (
                        v("valor_dolares")?,
                        v("valor_aduana")?,
                        v("valor_comercial")?,
                    );
                    for i in 0..b.num_rows() {
                        let id = ids.value(i);
                        if let Some(p) = given.get(&(id, n.value(i))) {
                            let m = |a: &arrow::array::Decimal128Array, scale: u32| {
                                Decimal::from_i128_with_scale(a.value(i), scale)
                            };
                            let same = p.fraccion.as_str() == fr.value(i)
                                && p.cantidad_umt == m(q, QTY_SCALE)
                                && p.valor_dolares == m(vd, MONEY_SCALE)
                                && p.valor_aduana == m(va, MONEY_SCALE)
                                && p.valor_comercial == m(vc, MONEY_SCALE);
                            if !same {
                                keep.changed.insert(id.to_string());
                            }
                            continue;
                        }
                        if with_partidas.contains(id)
                            && of(id)
                            && !keep
                                .partidas_replaced
                                .contains(&(id.to_string(), n.value(i)))
                        {
                            let dec = |a: &arrow::array::Decimal128Array| {
                                Decimal::from_i128_with_scale(a.value(i), MONEY_SCALE)
                            };
                            let e = add.entry(id.to_string()).or_default();
                            add_checked(&mut e.0, dec(vd));
                            add_checked(&mut e.1, dec(va));
                            add_checked(&mut e.2, dec(vc));
                        }
                    }
                    Ok(())
                })?;
            }
            for p in pedimentos.iter_mut() {
                if let Some((d, a, c)) = add.get(&p.pedimento_id) {
                    add_checked(&mut p.valor_dolares, *d);
                    add_checked(&mut p.valor_aduana, *a);
                    add_checked(&mut p.valor_comercial, *c);
                }
            }
        }
    }
    merge_year_rows(
        root,
        year,
        pedimentos,
        new.conflicts.clone(),
        &|id: &str| with_partidas.contains(id),
        [
            NewRows::Batch(partidas_batch(&new.partidas)?),
            NewRows::Batch(identificadores_batch(&new.identificadores)?),
            NewRows::Batch(descargos_batch(&new.descargos)?),
        ],
        &keep,
    )
}

/// [`merge_year`] of new headers (in memory) and new partidas, identificadores and
/// descargos (`rows`, in that order). `has_partidas`: whether a new pedimento has at
/// least one new partida.
pub fn merge_year_rows(
    root: &Path,
    year: i32,
    mut pedimentos: Vec<PedimentoRow>,
    mut conflicts: Vec<PedimentoRow>,
    has_partidas: &dyn Fn(&str) -> bool,
    rows: [NewRows; 3],
    keep: &KeepOld,
) -> Result<MergeStats> {
    let dir = year_dir(root, year);
    let mut stats = MergeStats::default();
    let new_ids: HashSet<String> = pedimentos.iter().map(|p| p.pedimento_id.clone()).collect();
    let mut existing_headers: BTreeMap<String, PedimentoRow> = BTreeMap::new();
    for f in table_files(&dir, "pedimentos") {
        for_each_batch(&f, |b| {
            for row in pedimento_rows(&b)? {
                if new_ids.contains(&row.pedimento_id) {
                    existing_headers.insert(row.pedimento_id.clone(), row);
                }
            }
            Ok(())
        })?;
    }
    // A new version of a pedimento that arrives without any partida (its 551 rows all
    // rejected, or the request lacks its 551 file) keeps the partidas already stored,
    // and the value totals computed from them: a header alone never erases partidas.
    let keep_partidas: HashSet<String> = new_ids
        .iter()
        .filter(|id| !has_partidas(id) && existing_headers.contains_key(*id))
        .cloned()
        .collect();
    for p in pedimentos.iter_mut() {
        if keep_partidas.contains(&p.pedimento_id) {
            let old = &existing_headers[&p.pedimento_id];
            p.valor_dolares = old.valor_dolares;
            p.valor_aduana = old.valor_aduana;
            p.valor_comercial = old.valor_comercial;
        }
    }
    // A partial pedimento's stored partidas are replaced one by one (`keep`), its stored
    // identificadores and descargos only when new ones arrive.
    let drop_partidas: HashSet<String> = new_ids
        .difference(&keep_partidas)
        .filter(|id| !keep.ids.contains(*id))
        .cloned()
        .collect();
    let drop_of = |with: &HashSet<String>| -> HashSet<String> {
        new_ids
            .iter()
            .filter(|id| !keep.ids.contains(*id) || with.contains(*id))
            .cloned()
            .collect()
    };
    let (drop_identificadores, drop_descargos) = if keep.ids.is_empty() {
        (None, None)
    } else {
        (
            Some(drop_of(&keep.with_identificadores)),
            Some(drop_of(&keep.with_descargos)),
        )
    };
    for p in &pedimentos {
        match existing_headers.get(&p.pedimento_id) {
            None => stats.new += 1,
            Some(old) if same_content(old, p) => stats.identical += 1,
            Some(old) => {
                stats.replaced += 1;
                // A partial pedimento (rows of a later run added to it) is updated, not
                // a different version of it.
                if !keep.ids.contains(&p.pedimento_id) || keep.changed.contains(&p.pedimento_id) {
                    conflicts.push(old.clone());
                }
            }
        }
    }
    let tmp = root.join(format!(".tmp-year={year}-{}", std::process::id()));
    if tmp.exists() {
        fs::remove_dir_all(&tmp).map_err(io(&tmp))?;
    }
    fs::create_dir_all(&tmp).map_err(io(&tmp))?;
    // Only new pedimentos (nothing stored to drop, replace or extend): append segments.
    let next_segment = TABLES
        .iter()
        .filter_map(|t| segments(&dir, t).last().map(|(k, _)| k + 1))
        .max()
        .unwrap_or(1);
    if dir.exists()
        && existing_headers.is_empty()
        && keep.ids.is_empty()
        && next_segment <= MAX_SEGMENTS
    {
        let [partidas, identificadores, descargos] = rows;
        return append_year(
            &dir,
            &tmp,
            next_segment,
            [
                NewRows::Batch(pedimentos_batch(&pedimentos)?),
                partidas,
                identificadores,
                descargos,
            ],
            conflicts,
        )
        .map(|()| stats);
    }
    let [partidas, identificadores, descargos] = rows;
    let new_rows = [
        NewRows::Batch(pedimentos_batch(&pedimentos)?),
        partidas,
        identificadores,
        descargos,
    ];
    drop(pedimentos);
    for (table, nb) in TABLES.iter().zip(new_rows) {
        let path = tmp.join(format!("{table}.parquet"));
        let mut w = ParWriter::create(&path, schema_of(table))?;
        for old in table_files(&dir, table) {
            let drop = match *table {
                "partidas" => &drop_partidas,
                "identificadores" => drop_identificadores.as_ref().unwrap_or(&new_ids),
                "descargos" => drop_descargos.as_ref().unwrap_or(&new_ids),
                _ => &new_ids,
            };
            let pairs = (*table == "partidas" && !keep.partidas_replaced.is_empty())
                .then_some(&keep.partidas_replaced);
            for_each_batch(&old, |b| {
                let mut kept = filter_out(&b, drop)?;
                if let Some(pairs) = pairs {
                    kept = filter_out_pairs(&kept, pairs)?;
                }
                w.write(&kept)
            })?;
        }
        match nb {
            NewRows::Batch(b) => w.write(&b)?,
            NewRows::Files(files) => {
                for f in files {
                    for_each_batch(f, |b| w.write(&b))?;
                }
            }
        }
        w.finish()?;
    }
    write_conflicts(&dir, &tmp, conflicts)?;
    crash_point("after-tmp-write");
    swap_in(&tmp, &dir)?;
    crash_point("after-swap");
    Ok(stats)
}

/// The append path of [`merge_year_rows`]: the year's files are hard-linked into `tmp`, the
/// new rows of each table written as segment `seg`, and `tmp` swapped in. No stored byte is
/// rewritten.
fn append_year(
    dir: &Path,
    tmp: &Path,
    seg: u32,
    new_rows: [NewRows; 4],
    conflicts: Vec<PedimentoRow>,
) -> Result<()> {
    for e in fs::read_dir(dir).map_err(io(dir))? {
        let e = e.map_err(io(dir))?;
        if e.file_name() == "conflicts.parquet" {
            continue;
        }
        let to = tmp.join(e.file_name());
        if fs::hard_link(e.path(), &to).is_err() {
            fs::copy(e.path(), &to).map_err(io(&to))?;
        }
    }
    for (table, nb) in TABLES.iter().zip(new_rows) {
        if let NewRows::Batch(b) = &nb
            && b.num_rows() == 0
        {
            continue;
        }
        let path = tmp.join(format!("{table}-{seg:05}.parquet"));
        let mut w = ParWriter::create(&path, schema_of(table))?;
        match nb {
            NewRows::Batch(b) => w.write(&b)?,
            NewRows::Files(files) => {
                for f in files {
                    for_each_batch(f, |b| w.write(&b))?;
                }
            }
        }
        w.finish()?;
    }
    write_conflicts(dir, tmp, conflicts)?;
    crash_point("after-tmp-write");
    swap_in(tmp, dir)?;
    crash_point("after-swap");
    Ok(())
}

/// Writes `tmp/conflicts.parquet`: the year's stored conflicts plus the new ones.
fn write_conflicts(dir: &Path, tmp: &Path, mut conflicts: Vec<PedimentoRow>) -> Result<()> {
    // conflicts accumulate: keep the old ones, add the new.
    // A conflict already recorded (e.g. the same input re-ingested after a crash, before
    // its hash was recorded) is not recorded twice.
    let mut cb = vec![];
    let oldc = dir.join("conflicts.parquet");
    if oldc.exists() {
        let old = read_parquet(&oldc)?;
        let mut known: Vec<PedimentoRow> = vec![];
        for b in &old {
            known.extend(pedimento_rows(b)?);
        }
        conflicts.retain(|c| {
            !known
                .iter()
                .any(|k| k.pedimento_id == c.pedimento_id && k == c)
        });
        cb.extend(old);
    }
    cb.push(pedimentos_batch(&distinct(conflicts))?);
    write_parquet(&tmp.join("conflicts.parquet"), pedimentos_schema(), &cb)
}

/// Conflicts recorded once each (the same earlier version may come from several files).
fn distinct(conflicts: Vec<PedimentoRow>) -> Vec<PedimentoRow> {
    let mut unique: Vec<PedimentoRow> = vec![];
    for c in conflicts {
        if !unique.contains(&c) {
            unique.push(c);
        }
    }
    unique
}

/// Writes a year that is not in the dataset yet from rows that arrive in parts (the
/// shards of a sharded ingest), straight into its `.tmp-year=*` directory, then swaps it
/// in: nothing to merge with, so nothing is staged.
pub struct NewYearWriter {
    year: i32,
    dir: PathBuf,
    tmp: PathBuf,
    writers: Vec<ParWriter>,
    conflicts: Vec<PedimentoRow>,
    pub pedimentos: usize,
    pub partidas: usize,
}

impl NewYearWriter {
    pub fn create(root: &Path, year: i32) -> Result<NewYearWriter> {
        let dir = year_dir(root, year);
        let tmp = root.join(format!(".tmp-year={year}-{}", std::process::id()));
        if tmp.exists() {
            fs::remove_dir_all(&tmp).map_err(io(&tmp))?;
        }
        fs::create_dir_all(&tmp).map_err(io(&tmp))?;
        let writers = TABLES
            .iter()
            .map(|t| ParWriter::create(&tmp.join(format!("{t}.parquet")), schema_of(t)))
            .collect::<Result<_>>()?;
        Ok(NewYearWriter {
            year,
            dir,
            tmp,
            writers,
            conflicts: vec![],
            pedimentos: 0,
            partidas: 0,
        })
    }

    /// Appends one part's rows (deduplicated within the part; parts never share a
    /// pedimento).
    pub fn write(&mut self, data: &YearData) -> Result<()> {
        debug_assert!(data.pedimentos.iter().all(|p| p.year == self.year));
        for (w, b) in self.writers.iter_mut().zip(data.batches()?) {
            w.write(&b)?;
        }
        self.conflicts.extend(data.conflicts.iter().cloned());
        self.pedimentos += data.pedimentos.len();
        self.partidas += data.partidas.len();
        Ok(())
    }

    /// Closes the files, writes the conflicts and swaps the year in.
    pub fn finish(self) -> Result<MergeStats> {
        for w in self.writers {
            w.finish()?;
        }
        write_parquet(
            &self.tmp.join("conflicts.parquet"),
            pedimentos_schema(),
            &[pedimentos_batch(&distinct(self.conflicts))?],
        )?;
        crash_point("after-tmp-write");
        swap_in(&self.tmp, &self.dir)?;
        crash_point("after-swap");
        Ok(MergeStats {
            new: self.pedimentos,
            ..Default::default()
        })
    }
}

/// Test hook for the crash tests (`tests/kill.rs`): when the environment variable
/// `PEDAUDIT_CRASH_AT` equals `point`, the process aborts right here, as a `kill -9`
/// would stop it. Points: `after-tmp-write` (a year fully written to `.tmp-*`, not yet
/// swapped), `between-renames` (old year moved to `.old-*`, new not yet in place),
/// `after-swap` (a year swapped in), `before-manifest` (all years swapped, manifest and
/// `files.tsv` not yet written). Does nothing when the variable is unset.
pub fn crash_point(point: &str) {
    if std::env::var_os("PEDAUDIT_CRASH_AT").is_some_and(|v| v == point) {
        eprintln!("PEDAUDIT_CRASH_AT={point}: aborting (test hook)");
        std::process::abort();
    }
}

/// Renames `tmp` to `dir`, replacing it. The old directory is first renamed aside, so at
/// every instant `dir` is either the complete old or the complete new partition; a crash
/// between the two renames leaves `dir` absent and `.old-*` present, which
/// [`recover`] rolls back on the next run.
fn swap_in(tmp: &Path, dir: &Path) -> Result<()> {
    if dir.exists() {
        let aside = dir.with_file_name(format!(
            ".old-{}",
            dir.file_name().unwrap().to_string_lossy()
        ));
        if aside.exists() {
            fs::remove_dir_all(&aside).map_err(io(&aside))?;
        }
        fs::rename(dir, &aside).map_err(io(dir))?;
        crash_point("between-renames");
        fs::rename(tmp, dir).map_err(io(dir))?;
        fs::remove_dir_all(&aside).map_err(io(&aside))?;
    } else {
        fs::rename(tmp, dir).map_err(io(dir))?;
    }
    Ok(())
}

/// Cleans up after a killed run: removes half-written `.tmp-*` directories and files (in
/// the root, `rejects/` and `_manifest/`) and restores a `.old-year=*` directory whose
/// replacement never landed (or removes it when the replacement did land).
pub fn recover(root: &Path) -> Result<Vec<String>> {
    let mut actions = vec![];
    for sub in ["rejects", "_manifest"] {
        let Ok(entries) = fs::read_dir(root.join(sub)) else {
            continue;
        };
        for e in entries.flatten() {
            let name = e.file_name().to_string_lossy().to_string();
            if name.starts_with(".tmp-") {
                remove_any(&e.path())?;
                actions.push(format!("removed unfinished {sub}/{name}"));
            }
        }
    }
    let Ok(entries) = fs::read_dir(root) else {
        return Ok(actions);
    };
    for e in entries.flatten() {
        let name = e.file_name().to_string_lossy().to_string();
        if name.starts_with(".tmp-") {
            remove_any(&e.path())?;
            actions.push(format!("removed unfinished {name}"));
        } else if let Some(orig) = name.strip_prefix(".old-") {
            let target = root.join(orig);
            if target.exists() {
                remove_any(&e.path())?;
                actions.push(format!("removed stale {name}"));
            } else {
                fs::rename(e.path(), &target).map_err(io(&target))?;
                actions.push(format!("restored {orig} from {name}"));
            }
        }
    }
    actions.sort();
    Ok(actions)
}

/// What a killed ingest left behind and [`recover`] would clean up: `.tmp-*` and
/// `.old-*` entries in the root, `rejects/` and `_manifest/` (relative names, sorted).
/// Empty for a consistent dataset. Reading only; readers (`audit`, `report`) use it to
/// refuse or recover a half-swapped dataset instead of silently missing a year.
pub fn unfinished(root: &Path) -> Vec<String> {
    let mut out = vec![];
    for sub in ["", "rejects", "_manifest"] {
        let Ok(entries) = fs::read_dir(root.join(sub)) else {
            continue;
        };
        for e in entries.flatten() {
            let name = e.file_name().to_string_lossy().to_string();
            let top_old = sub.is_empty() && name.starts_with(".old-");
            if name.starts_with(".tmp-") || top_old {
                out.push(if sub.is_empty() {
                    name
                } else {
                    format!("{sub}/{name}")
                });
            }
        }
    }
    out.sort();
    out
}

fn remove_any(p: &Path) -> Result<()> {
    if p.is_dir() {
        fs::remove_dir_all(p).map_err(io(p))
    } else {
        fs::remove_file(p).map_err(io(p))
    }
}

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

fn col<'a, T: 'static>(b: &'a RecordBatch, name: &str) -> Result<&'a T> {
    b.column_by_name(name)
        .and_then(|c| c.as_any().downcast_ref::<T>())
        .ok_or_else(|| DatasetError::Other(format!("column {name} missing or of wrong type")))
}

/// Decodes a pedimentos batch back into rows (used by merges and tests).
pub fn pedimento_rows(b: &RecordBatch) -> Result<Vec<PedimentoRow>> {
    let st = |n: &str| col::<StringArray>(b, n);
    let (id, ad, pa, nu) = (
        st("pedimento_id")?,
        st("aduana_seccion")?,
        st("patente")?,
        st("numero")?,
    );
    let (cl, cd, rf, no, im) = (
        st("clave")?,
        st("clave_declarada")?,
        st("rfc")?,
        st("nombre")?,
        st("immex_programa")?,
    );
    let (re, ci, cr, sf) = (
        st("rectifica_id")?,
        st("contraparte_id")?,
        st("contraparte_rfc")?,
        st("source_file")?,
    );
    let to = col::<Int32Array>(b, "tipo_operacion")?;
    let tp = col::<Int32Array>(b, "tipo_pedimento")?;
    let sl = col::<Int64Array>(b, "source_line")?;
    // Datasets written before hora_pago existed lack the column: no time.
    let hp = match b.schema().index_of("hora_pago") {
        Ok(_) => Some(col::<StringArray>(b, "hora_pago")?),
        Err(_) => None,
    };
    // Likewise consolidado (datasets written before it existed: unknown).
    let co = match b.schema().index_of("consolidado") {
        Ok(_) => Some(col::<arrow::array::BooleanArray>(b, "consolidado")?),
        Err(_) => None,
    };
    let dte = |n: &str| col::<Date32Array>(b, n);
    let (fp, fe, fs_, fo) = (
        dte("fecha_pago")?,
        dte("fecha_entrada")?,
        dte("fecha_seleccion")?,
        dte("fecha_operacion")?,
    );
    let dc = |n: &str| col::<Decimal128Array>(b, n);
    let (tc, vd, va, vc) = (
        dc("tipo_cambio")?,
        dc("valor_dolares")?,
        dc("valor_aduana")?,
        dc("valor_comercial")?,
    );
    let opt_s = |a: &StringArray, i: usize| (!a.is_null(i)).then(|| a.value(i).to_string());
    let opt_d = |a: &Date32Array, i: usize| (!a.is_null(i)).then(|| model::from_date32(a.value(i)));
    let dv =
        |a: &Decimal128Array, i: usize| Decimal::from_i128_with_scale(a.value(i), a.scale() as u32);
    let mut out = Vec::with_capacity(b.num_rows());
    for i in 0..b.num_rows() {
        let pid = id.value(i).to_string();
        let year: i32 = crate::model::PedimentoKey::year_of_id(&pid).unwrap_or(0);
        out.push(PedimentoRow {
            pedimento_id: pid,
            year,
            aduana_seccion: ad.value(i).into(),
            patente: pa.value(i).into(),
            numero: nu.value(i).into(),
            tipo_operacion: to.value(i),
            clave: cl.value(i).into(),
            clave_declarada: cd.value(i).into(),
            tipo_pedimento: tp.value(i),
            rfc: rf.value(i).into(),
            nombre: opt_s(no, i),
            immex_programa: opt_s(im, i),
            fecha_pago: model::from_date32(fp.value(i)),
            fecha_entrada: opt_d(fe, i),
            fecha_seleccion: opt_d(fs_, i),
            fecha_operacion: model::from_date32(fo.value(i)),
            tipo_cambio: (!tc.is_null(i)).then(|| dv(tc, i)),
            valor_dolares: dv(vd, i),
            valor_aduana: dv(va, i),
            valor_comercial: dv(vc, i),
            rectifica_id: opt_s(re, i),
            contraparte_id: opt_s(ci, i),
            contraparte_rfc: opt_s(cr, i),
            source_file: sf.value(i).into(),
            source_line: sl.value(i),
            hora_pago: hp.and_then(|a| opt_s(a, i)),
            consolidado: co.and_then(|a| (!a.is_null(i)).then(|| a.value(i))),
        });
    }
    Ok(out)
}

/// The number of rows of a Parquet file (from its footer).
pub fn parquet_rows(p: &Path) -> Result<usize> {
    let f = fs::File::open(p).map_err(io(p))?;
    let r = ParquetRecordBatchReaderBuilder::try_new(f).map_err(pq(p))?;
    Ok(r.metadata().file_metadata().num_rows() as usize)
}

/// Row counts per table over all years (for summaries and tests).
pub fn count_rows(root: &Path, table: &str) -> Result<usize> {
    let mut n = 0;
    for y in years(root) {
        let p = year_dir(root, y).join(format!("{table}.parquet"));
        if p.exists() {
            n += parquet_rows(&p)?;
        }
    }
    Ok(n)
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

#[cfg(test)]
mod tests {
    use super::*;
    use std::hash::{BuildHasher, BuildHasherDefault};

    /// Rows written in small batches come back in order, in row groups of 64K-256K rows
    /// (the last one smaller).
    #[test]
    fn par_writer_buffers_rows_into_row_groups() {
        use arrow::array::Int64Array;
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("t.parquet");
        let schema = Arc::new(Schema::new(vec![
            Field::new("n", DataType::Int64, false),
            Field::new("s", DataType::Utf8, true),
        ]));
        let mut w = ParWriter::create(&path, schema.clone()).unwrap();
        let total = 700_000i64;
        for start in (0..total).step_by(5_000) {
            let n: Vec<i64> = (start..start + 5_000).collect();
            let s: Vec<Option<String>> = n
                .iter()
                .map(|i| (i % 3 > 0).then(|| i.to_string()))
                .collect();
            let b = RecordBatch::try_new(
                schema.clone(),
                vec![
                    Arc::new(Int64Array::from(n)),
                    Arc::new(arrow::array::StringArray::from(s)),
                ],
            )
            .unwrap();
            w.write(&b).unwrap();
        }
        w.finish().unwrap();
        let f = fs::File::open(&path).unwrap();
        let r = ParquetRecordBatchReaderBuilder::try_new(f).unwrap();
        let groups: Vec<i64> = r
            .metadata()
            .row_groups()
            .iter()
            .map(|g| g.num_rows())
            .collect();
        assert_eq!(groups.iter().sum::<i64>(), total);
        let (last, full) = groups.split_last().unwrap();
        assert!(
            full.iter().all(|g| (65_536..=262_144).contains(g)),
            "{groups:?}"
        );
        assert!(*last <= 262_144, "{groups:?}");
        let mut next = 0i64;
        for b in r.build().unwrap() {
            let b = b.unwrap();
            let n = b.column(0).as_any().downcast_ref::<Int64Array>().unwrap();
            let s = b
                .column(1)
                .as_any()
                .downcast_ref::<arrow::array::StringArray>()
                .unwrap();
            for i in 0..b.num_rows() {
                assert_eq!(n.value(i), next);
                assert_eq!(s.is_null(i), next % 3 == 0);
                next += 1;
            }
        }
        assert_eq!(next, total);
    }

    /// Keys of one shard differ in the last digits of the número; hashbrown takes the
    /// bucket from the hash's low bits, so those must differ too.
    #[test]
    fn fx_spreads_keys_that_differ_in_their_last_digits() {
        let b = BuildHasherDefault::<Fx>::default();
        let buckets: std::collections::HashSet<u64> = (9_000_000..9_004_096u32)
            .map(|n| {
                let mut numero = [0u8; 7];
                numero.copy_from_slice(n.to_string().as_bytes());
                (([b'0', b'7', b'0'], *b"3001", numero), 2024i32)
            })
            .map(|k| b.hash_one(k) & 4095)
            .collect();
        // Uniform hashing puts 4,096 keys in about 2,590 of 4,096 buckets.
        assert!(buckets.len() > 2_400, "{} buckets", buckets.len());
    }
}
