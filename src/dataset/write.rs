//! Parquet writing (writer properties, the parallel row-group writer [`ParWriter`],
//! atomic writes) and reading.

use super::*;
use parquet::file::properties::EnabledStatistics;

/// Text columns whose values are (nearly) all different: written PLAIN, without the
/// dictionary parquet-rs tries first. Its interner hashed every value of a row group
/// before falling back (about 6% of a 10M ingest's CPU, for a dictionary as large as
/// the column); zstd still compresses these columns. Names of any table; a name a
/// schema does not have is ignored.
pub(super) const NO_DICTIONARY: &[&str] = &[
    "pedimento_id",
    "numero",
    "rectifica_id",
    "contraparte_id",
    "original_id",
    "raw",
];

/// Text columns written without min/max statistics: descriptive values nobody filters a
/// row group by (and, in rows sorted by pedimento, spread over every row group anyway).
/// parquet-rs compares every value with the page's min and max (a `memcmp` each: ~2%
/// of a 10M ingest's CPU across the text columns). The keys and the codes an auditor
/// filters by (pedimento, aduana, patente, número, clave, RFC, fracción, país) keep them.
pub(super) const NO_STATISTICS: &[&str] = &[
    "descripcion",
    "codigo_producto",
    "nico",
    "umc",
    "umt",
    "nombre",
    "immex_programa",
    "contraparte_id",
    "contraparte_rfc",
    "clave_declarada",
    "source_file",
    "hora_pago",
    "complemento1",
    "complemento2",
    "complemento3",
    "unidad_medida",
    "field",
    "reason",
    "raw",
];

/// Whole-number columns (line numbers; amounts and quantities, stored as INT64
/// decimals) whose values are nearly all different: no dictionary either (see
/// [`NO_DICTIONARY`]), and written DELTA_BINARY_PACKED instead of PLAIN: 8 bytes per
/// value became the bits of the differences, so zstd has far less to compress (a 10M
/// ingest's CPU -6%, its dataset -3.5%). A standard Parquet encoding: DuckDB, Spark,
/// DataFusion, pyarrow and polars read it.
pub(super) const DELTA: &[&str] = &[
    "source_line",
    "line",
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

pub(super) fn props() -> WriterProperties {
    props_with(
        Compression::ZSTD(ZstdLevel::try_new(1).unwrap()),
        EnabledStatistics::Page,
    )
}

/// [`props`] with another compression and statistics (scratch files: Snappy, faster to
/// write and read, and no statistics: each is read whole, once).
fn props_with(compression: Compression, statistics: EnabledStatistics) -> WriterProperties {
    let mut b = WriterProperties::builder()
        .set_compression(compression)
        .set_statistics_enabled(statistics)
        .set_max_row_group_row_count(Some(ROW_GROUP_ROWS));
    for c in NO_DICTIONARY.iter().chain(DELTA) {
        b = b.set_column_dictionary_enabled(parquet::schema::types::ColumnPath::from(*c), false);
    }
    for c in DELTA {
        b = b.set_column_encoding(
            parquet::schema::types::ColumnPath::from(*c),
            parquet::basic::Encoding::DELTA_BINARY_PACKED,
        );
    }
    for c in NO_STATISTICS {
        b = b.set_column_statistics_enabled(
            parquet::schema::types::ColumnPath::from(*c),
            EnabledStatistics::None,
        );
    }
    b.build()
}

/// Most rows per row group ([`props`] and [`ParWriter`]).
pub(super) const ROW_GROUP_ROWS: usize = 256 * 1024;
/// [`ParWriter`] encodes its pending rows once it has this many.
pub(super) const PENDING_ROWS: usize = 64 * 1024;

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
    /// Rows buffered before encoding ([`PENDING_ROWS`] unless [`Self::scratch`]).
    pending_rows: usize,
    /// Sync the file to disk on [`Self::finish`] (not for scratch files).
    sync: bool,
}

impl ParWriter {
    pub fn create(path: &Path, schema: SchemaRef) -> Result<ParWriter> {
        Self::open(path, schema, PENDING_ROWS, true)
    }

    /// A temporary file (the batched audit's company partition): `pending_rows` bounds
    /// the rows buffered (many such files are open at once), Snappy, no sync on finish.
    pub fn scratch(path: &Path, schema: SchemaRef, pending_rows: usize) -> Result<ParWriter> {
        Self::open(path, schema, pending_rows.max(1), false)
    }

    fn open(path: &Path, schema: SchemaRef, pending_rows: usize, sync: bool) -> Result<ParWriter> {
        let f = fs::File::create(path).map_err(io(path))?;
        let props = if sync {
            props()
        } else {
            props_with(Compression::SNAPPY, EnabledStatistics::None)
        };
        let w = ArrowWriter::try_new(f, schema.clone(), Some(props)).map_err(pq(path))?;
        let (writer, factory) = w.into_serialized_writer().map_err(pq(path))?;
        Ok(ParWriter {
            path: path.to_path_buf(),
            schema,
            writer,
            factory,
            pending: vec![],
            rows: 0,
            groups: 0,
            pending_rows,
            sync,
        })
    }

    pub fn write(&mut self, batch: &RecordBatch) -> Result<()> {
        if batch.num_rows() == 0 {
            return Ok(());
        }
        self.pending.push(batch.clone());
        self.rows += batch.num_rows();
        if self.rows >= self.pending_rows {
            self.flush()?;
        }
        Ok(())
    }

    /// Encodes the pending rows as row groups of at most [`ROW_GROUP_ROWS`], each given
    /// as slices of the pending batches (concatenating them first copied every column:
    /// ~1% of a 10M ingest's CPU).
    fn flush(&mut self) -> Result<()> {
        let pending = std::mem::take(&mut self.pending);
        self.rows = 0;
        let mut group: Vec<RecordBatch> = vec![];
        let mut n = 0;
        for b in pending {
            let mut at = 0;
            while at < b.num_rows() {
                let take = (ROW_GROUP_ROWS - n).min(b.num_rows() - at);
                group.push(b.slice(at, take));
                (n, at) = (n + take, at + take);
                if n == ROW_GROUP_ROWS {
                    self.row_group(&std::mem::take(&mut group))?;
                    n = 0;
                }
            }
        }
        if n > 0 {
            self.row_group(&group)?;
        }
        Ok(())
    }

    /// One row group of the rows of `batches`, in order.
    fn row_group(&mut self, batches: &[RecordBatch]) -> Result<()> {
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
            .enumerate()
            .map(|(i, (mut w, field))| {
                for b in batches {
                    for leaf in compute_leaves(field, b.column(i))? {
                        w.write(&leaf)?;
                    }
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
        if self.sync {
            f.sync_all().map_err(io(&path))?;
        }
        Ok(())
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

pub(super) fn tmp_sibling(path: &Path) -> PathBuf {
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().to_string())
        .unwrap_or_default();
    path.with_file_name(format!(".tmp-{name}"))
}

/// Streams the record batches of a Parquet file to `f`, one at a time.
pub fn for_each_batch(path: &Path, f: impl FnMut(RecordBatch) -> Result<()>) -> Result<()> {
    for_each_batch_of(path, None, f)
}

/// [`for_each_batch`] decoding only the named `columns` (all when None; a name the file
/// lacks is skipped).
pub fn for_each_batch_of(
    path: &Path,
    columns: Option<&[&str]>,
    mut f: impl FnMut(RecordBatch) -> Result<()>,
) -> Result<()> {
    let file = fs::File::open(path).map_err(io(path))?;
    let mut b = ParquetRecordBatchReaderBuilder::try_new(file).map_err(pq(path))?;
    if let Some(cols) = columns {
        let mask =
            parquet::arrow::ProjectionMask::columns(b.parquet_schema(), cols.iter().copied());
        b = b.with_projection(mask);
    }
    let r = b.with_batch_size(64 * 1024).build().map_err(pq(path))?;
    for b in r {
        // A corrupt page fails here, after the footer was read: name the file.
        let b =
            b.map_err(|e| pq(path)(parquet::errors::ParquetError::ArrowError(e.to_string())))?;
        f(b)?;
    }
    Ok(())
}

/// Calls `f` with each non-null value of the text column `column` of the Parquet file at
/// `path`, streamed in Arrow batches of 64 k rows (no column is held whole: at 100 M
/// partidas a polars `unique` over the pedimentos' `rfc` held every value at once).
/// `Ok(false)`, without calling `f`, when the file has no such column (the caller decides
/// whether that is an error); a column of another string type is cast to text.
pub fn for_each_text(path: &Path, column: &str, mut f: impl FnMut(&str)) -> Result<bool> {
    use arrow::array::{Array, AsArray};
    let file = fs::File::open(path).map_err(io(path))?;
    let b = ParquetRecordBatchReaderBuilder::try_new(file).map_err(pq(path))?;
    if b.schema().column_with_name(column).is_none() {
        return Ok(false);
    }
    for_each_batch_of(path, Some(&[column]), |rb| {
        let c = rb.column_by_name(column).ok_or_else(|| {
            DatasetError::Other(format!("{}: no column {column}", path.display()))
        })?;
        let c = arrow::compute::cast(c, &DataType::Utf8).map_err(|e| {
            DatasetError::Other(format!("{}: column {column}: {e}", path.display()))
        })?;
        let s = c.as_string::<i32>();
        for i in (0..s.len()).filter(|&i| s.is_valid(i)) {
            f(s.value(i));
        }
        Ok(())
    })?;
    Ok(true)
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
