//! The company partition of a batched audit: the dataset's rows split once, by company
//! batch, into scratch Parquet files, so that each batch reads only its own rows.
//!
//! Year files hold every company's pedimentos in pedimento order, so a batch cannot skip
//! row groups: filtering the whole dataset once per batch (what the batched audit did
//! before) decoded everything k times and held the filter's buffers (10M partidas, 7
//! batches: 19 s and 2.4 GB per batch; bench/results.md). Here every table is read once,
//! a record batch at a time, and each row is written to its batch's file: pedimentos and
//! conflicts by their RFC, the other tables through the year's pedimento → batch map
//! (children live in their pedimento's year; a child with no pedimento belongs to no
//! batch, as with the filter). Memory: one year's pedimento ids, one record batch, and
//! the writers' buffers (bounded in total by [`BUFFERED_ROWS`]).
//!
//! The files live in a temporary folder (the system's, `TMPDIR`) removed on drop; the
//! folders of audits killed before that are removed by the next batched audit.

use super::CheckError;
use crate::dataset::{self, ParWriter};
use arrow::array::{Array, RecordBatch, StringArray, UInt32Array};
use arrow::datatypes::SchemaRef;
use rayon::prelude::*;
use std::collections::HashMap;
use std::path::{Path, PathBuf};

/// The tables a batch context reads from the dataset (see `AuditContext::open_scoped`).
pub const TABLES: [&str; 5] = [
    "pedimentos",
    "conflicts",
    "partidas",
    "identificadores",
    "descargos",
];

/// Rows buffered by all of one table's writers together, before encoding.
const BUFFERED_ROWS: usize = 256 * 1024;

/// Scratch folders are `<temp>/pedaudit-batches-<pid>-<random>`.
const PREFIX: &str = "pedaudit-batches-";

/// Removes the scratch folders of audits that died without cleaning up (killed: the
/// folder is removed on drop, which a signal skips), recognized by a process id that no
/// longer runs (Linux: `/proc/<pid>`; elsewhere nothing is removed).
pub fn remove_orphans(tmp: &Path) {
    if !Path::new("/proc/self").exists() {
        return;
    }
    for e in std::fs::read_dir(tmp).into_iter().flatten().flatten() {
        let name = e.file_name();
        let Some(pid) = name
            .to_str()
            .and_then(|n| n.strip_prefix(PREFIX))
            .and_then(|n| n.split('-').next())
            .and_then(|p| p.parse::<u32>().ok())
        else {
            continue;
        };
        if !Path::new(&format!("/proc/{pid}")).exists() {
            let _ = std::fs::remove_dir_all(e.path());
        }
    }
}

/// Batch number of a row that belongs to no batch.
const NONE: u32 = u32::MAX;

/// The dataset split by company batch (see the module doc).
pub struct Partition {
    dir: tempfile::TempDir,
    batches: usize,
    /// Rows written per table.
    pub rows: Vec<(&'static str, u64)>,
}

impl Partition {
    /// Splits the dataset at `root` into `batches` (lists of RFCs, each company in one).
    pub fn build(root: &Path, batches: &[Vec<String>]) -> Result<Partition, CheckError> {
        remove_orphans(&std::env::temp_dir());
        let dir = tempfile::Builder::new()
            .prefix(&format!("{PREFIX}{}-", std::process::id()))
            .tempdir()
            .map_err(|e| {
                CheckError::Other(format!(
                    "cannot create the batched audit's scratch folder in {}: {e}",
                    std::env::temp_dir().display()
                ))
            })?;
        for b in 0..batches.len() {
            let d = dir.path().join(format!("b{b:05}"));
            std::fs::create_dir(&d).map_err(|e| io_err(&d, e))?;
        }
        let mut by_rfc: HashMap<&str, u32> = HashMap::default();
        for (i, b) in batches.iter().enumerate() {
            for rfc in b {
                by_rfc.insert(rfc.as_str(), i as u32);
            }
        }
        let mut p = Partition {
            dir,
            batches: batches.len(),
            rows: vec![],
        };
        // Years in parallel (each year's rows go to its own files in every batch
        // folder: `<table>-<year>.parquet`); the writers' buffers are bounded per year.
        let pending = (BUFFERED_ROWS / batches.len().max(1)).clamp(1024, 64 * 1024);
        let years = dataset::years(root);
        let counts = years
            .par_iter()
            .map(|&year| split_year(root, year, &p, &by_rfc, pending))
            .collect::<Result<Vec<_>, CheckError>>()?;
        for t in TABLES {
            let n = counts
                .iter()
                .flat_map(|c| c.iter().filter(|(n, _)| *n == t).map(|(_, r)| *r))
                .sum();
            p.rows.push((t, n));
        }
        Ok(p)
    }

    /// Number of batches.
    pub fn len(&self) -> usize {
        self.batches
    }

    pub fn is_empty(&self) -> bool {
        self.batches == 0
    }

    /// Where batch `b` keeps its share of `table` for a later pass (the virtual rows of
    /// the cross-company pairing), beside the batch folders.
    pub fn spill_path(&self, b: usize, table: &str) -> PathBuf {
        self.dir
            .path()
            .join(format!("spill-b{b:05}-{table}.parquet"))
    }

    /// The folder of batch `b` (`<table>-<year>.parquet` per table and year with rows).
    pub fn batch_dir(&self, b: usize) -> PathBuf {
        self.dir.path().join(format!("b{b:05}"))
    }

    /// The files of `table` in batch `b`'s folder, years ascending.
    pub fn files(dir: &Path, table: &str) -> Vec<PathBuf> {
        let mut v: Vec<PathBuf> = std::fs::read_dir(dir)
            .into_iter()
            .flatten()
            .flatten()
            .map(|e| e.path())
            .filter(|p| {
                p.file_name()
                    .and_then(|n| n.to_str())
                    .and_then(|n| n.strip_prefix(table))
                    .and_then(|n| n.strip_prefix('-'))
                    .and_then(|n| n.strip_suffix(".parquet"))
                    .is_some_and(|y| y.parse::<i32>().is_ok())
            })
            .collect();
        v.sort();
        v
    }
}

/// Splits one year's files into the batch folders; rows written per table.
fn split_year(
    root: &Path,
    year: i32,
    p: &Partition,
    by_rfc: &HashMap<&str, u32>,
    pending: usize,
) -> Result<Vec<(&'static str, u64)>, CheckError> {
    let ydir = dataset::year_dir(root, year);
    // Pedimentos first: their RFC gives the batch, and the year's id → batch map (sorted
    // by id) routes the children.
    let mut w = Writers::new(p, "pedimentos", year, pending);
    let mut ids: Vec<(Box<str>, u32)> = vec![];
    for file in dataset::table_files(&ydir, "pedimentos") {
        read(&file, |rb| {
            let rb = conform(rb, &w.schema, &file)?;
            let id = strings(&rb, "pedimento_id", &file)?;
            let rfc = strings(&rb, "rfc", &file)?;
            let mut to = Vec::with_capacity(rb.num_rows());
            for i in 0..rb.num_rows() {
                let b = rfc_batch(by_rfc, rfc, i);
                if b != NONE && id.is_valid(i) {
                    ids.push((id.value(i).into(), b));
                }
                to.push(b);
            }
            w.route(&rb, &to)
        })?;
    }
    let mut st = crate::timing::Stages::new("partition");
    let mut rows = vec![("pedimentos", w.finish()?)];
    st.mark(&format!("{year} pedimentos"));
    if !ids.is_sorted_by(|a, b| a.0 <= b.0) {
        ids.sort_unstable_by(|a, b| a.0.cmp(&b.0));
    }
    let mut w = Writers::new(p, "conflicts", year, pending);
    for file in dataset::table_files(&ydir, "conflicts") {
        read(&file, |rb| {
            let rb = conform(rb, &w.schema, &file)?;
            let rfc = strings(&rb, "rfc", &file)?;
            let to: Vec<u32> = (0..rb.num_rows())
                .map(|i| rfc_batch(by_rfc, rfc, i))
                .collect();
            w.route(&rb, &to)
        })?;
    }
    rows.push(("conflicts", w.finish()?));
    for t in ["partidas", "identificadores", "descargos"] {
        let mut w = Writers::new(p, t, year, pending);
        for file in dataset::table_files(&ydir, t) {
            read(&file, |rb| {
                let rb = conform(rb, &w.schema, &file)?;
                let id = strings(&rb, "pedimento_id", &file)?;
                // Children are in pedimento order: a cursor, with a search when a row
                // goes back (appended segments).
                let mut at = 0usize;
                let mut to = Vec::with_capacity(rb.num_rows());
                for i in 0..rb.num_rows() {
                    if !id.is_valid(i) {
                        to.push(NONE);
                        continue;
                    }
                    to.push(seek(&ids, &mut at, id.value(i)).unwrap_or(NONE));
                }
                w.route(&rb, &to)
            })?;
        }
        rows.push((t, w.finish()?));
        st.mark(&format!("{year} {t}"));
    }
    Ok(rows)
}

/// Forward steps [`seek`] takes one by one before it searches.
const SEEK_STEPS: usize = 8;

/// The value of key `v` in `ids` (sorted by key), moving the cursor `at`: rows come in key
/// order, so the cursor steps forward a few keys; a row that goes back or far ahead
/// searches. (Stepping any distance made a table with a few rows out of order quadratic:
/// each row after one that went back walked the cursor back up, key by key; 5-6 s a year
/// for 632 k identificadores with 5,950 such rows.)
pub(super) fn seek(ids: &[(Box<str>, u32)], at: &mut usize, v: &str) -> Option<u32> {
    if *at >= ids.len() || *ids[*at].0 > *v {
        *at = ids.partition_point(|x| *x.0 < *v);
    } else {
        let stop = (*at + SEEK_STEPS).min(ids.len());
        while *at < stop && *ids[*at].0 < *v {
            *at += 1;
        }
        if *at == stop && stop < ids.len() && *ids[*at].0 < *v {
            *at += ids[*at..].partition_point(|x| *x.0 < *v);
        }
    }
    match ids.get(*at) {
        Some((k, b)) if **k == *v => Some(*b),
        _ => None,
    }
}

fn io_err(path: &Path, e: std::io::Error) -> CheckError {
    CheckError::Other(format!("{}: {e}", path.display()))
}

fn ds_err(e: dataset::DatasetError) -> CheckError {
    CheckError::Other(e.to_string())
}

fn read(
    file: &Path,
    f: impl FnMut(RecordBatch) -> Result<(), dataset::DatasetError>,
) -> Result<(), CheckError> {
    dataset::for_each_batch(file, f).map_err(ds_err)
}

fn rfc_batch(by_rfc: &HashMap<&str, u32>, rfc: &StringArray, i: usize) -> u32 {
    if rfc.is_valid(i) {
        by_rfc.get(rfc.value(i)).copied().unwrap_or(NONE)
    } else {
        NONE
    }
}

pub(super) fn strings<'a>(
    rb: &'a RecordBatch,
    name: &str,
    file: &Path,
) -> Result<&'a StringArray, dataset::DatasetError> {
    rb.column_by_name(name)
        .and_then(|c| c.as_any().downcast_ref::<StringArray>())
        .ok_or_else(|| {
            dataset::DatasetError::Other(format!("{}: no text column {name}", file.display()))
        })
}

/// `rb` with the columns of `schema` (a year file written before a nullable column
/// existed lacks it: nulls; a type written differently is cast).
fn conform(
    rb: RecordBatch,
    schema: &SchemaRef,
    file: &Path,
) -> Result<RecordBatch, dataset::DatasetError> {
    if rb.schema().fields() == schema.fields() {
        return RecordBatch::try_new(schema.clone(), rb.columns().to_vec())
            .map_err(arrow_err(file));
    }
    let n = rb.num_rows();
    let cols = schema
        .fields()
        .iter()
        .map(|f| match rb.column_by_name(f.name()) {
            Some(c) if c.data_type() == f.data_type() => Ok(c.clone()),
            Some(c) => arrow::compute::cast(c, f.data_type()).map_err(arrow_err(file)),
            None => Ok(arrow::array::new_null_array(f.data_type(), n)),
        })
        .collect::<Result<Vec<_>, _>>()?;
    RecordBatch::try_new(schema.clone(), cols).map_err(arrow_err(file))
}

fn arrow_err(file: &Path) -> impl Fn(arrow::error::ArrowError) -> dataset::DatasetError + '_ {
    move |e| dataset::DatasetError::Other(format!("{}: {e}", file.display()))
}

/// One table's writers, one per batch.
struct Writers {
    table: &'static str,
    year: i32,
    schema: SchemaRef,
    dirs: Vec<PathBuf>,
    out: Vec<Option<ParWriter>>,
    pending: usize,
    rows: u64,
}

impl Writers {
    fn new(p: &Partition, table: &'static str, year: i32, pending: usize) -> Writers {
        Writers {
            table,
            year,
            schema: dataset::schema_of(table),
            dirs: (0..p.batches).map(|b| p.batch_dir(b)).collect(),
            out: (0..p.batches).map(|_| None).collect(),
            pending,
            rows: 0,
        }
    }

    /// Writes row `i` of `rb` to batch `to[i]` (none for [`NONE`]).
    fn route(&mut self, rb: &RecordBatch, to: &[u32]) -> Result<(), dataset::DatasetError> {
        let mut idx: Vec<Vec<u32>> = vec![vec![]; self.out.len()];
        for (i, &b) in to.iter().enumerate() {
            if b != NONE {
                idx[b as usize].push(i as u32);
            }
        }
        for (b, rows) in idx.into_iter().enumerate().filter(|(_, r)| !r.is_empty()) {
            let w = match &mut self.out[b] {
                Some(w) => w,
                slot => {
                    let path = self.dirs[b].join(format!("{}-{}.parquet", self.table, self.year));
                    slot.insert(ParWriter::scratch(
                        &path,
                        self.schema.clone(),
                        self.pending,
                    )?)
                }
            };
            let part = if rows.len() == rb.num_rows() {
                rb.clone()
            } else {
                arrow::compute::take_record_batch(rb, &UInt32Array::from(rows))
                    .map_err(arrow_err(Path::new(self.table)))?
            };
            self.rows += part.num_rows() as u64;
            w.write(&part)?;
        }
        Ok(())
    }

    /// Closes the files; the rows written.
    fn finish(self) -> Result<u64, CheckError> {
        for w in self.out.into_iter().flatten() {
            w.finish().map_err(ds_err)?;
        }
        Ok(self.rows)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The cursor finds every key and misses absent ones, in order, going back, and far
    /// ahead (the rows of a table with some rows out of order).
    #[test]
    fn seek_finds_keys_in_any_order() {
        let ids: Vec<(Box<str>, u32)> = (0..1_000u32)
            .map(|i| (format!("k{:05}", 2 * i).into_boxed_str(), i))
            .collect();
        let mut at = 0;
        let mut order: Vec<u32> = (0..2_000).collect();
        // In order, then a few going back between rows far ahead.
        order.extend([1_990, 3, 1_500, 1_999, 0, 1_001, 1_002, 40, 1_998]);
        for n in order {
            let key = format!("k{n:05}");
            let want = (n % 2 == 0).then_some(n / 2);
            assert_eq!(seek(&ids, &mut at, &key), want, "{key}");
        }
        assert_eq!(seek(&ids, &mut at, "k99999"), None);
        assert_eq!(seek(&ids, &mut at, "k00000"), Some(0));
    }
}
