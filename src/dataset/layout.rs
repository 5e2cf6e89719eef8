//! The layout on disk: year directories, base files and segments, row counts.

use super::*;

pub fn year_dir(root: &Path, year: i32) -> PathBuf {
    root.join(format!("year={year}"))
}

/// Segments a table of a year may hold before an append rewrites the year whole.
pub const MAX_SEGMENTS: u32 = 24;

/// The segment number of `name` for `table`: 0 for the base `<table>.parquet`, n for
/// `<table>-NNNNN.parquet`, None for anything else.
pub(super) fn segment_of(name: &str, table: &str) -> Option<u32> {
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

pub(super) fn segments(dir: &Path, table: &str) -> Vec<(u32, PathBuf)> {
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
