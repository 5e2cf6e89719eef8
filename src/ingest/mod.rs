//! Ingest: input files → validated rows → year partitions of the dataset.
//!
//! Two layouts are read: SAT Data Stage (`datastage.rs`, the real format) and the
//! project's flat CSV (`csv.rs`). Both produce [`Parsed`]; [`run`] then writes each year
//! atomically, writes every rejected row with its reason, and a manifest per run.
//! Invariant, checked before anything is written: for every file,
//! rows read = rows accepted + rows rejected.

pub mod csv;
pub mod datastage;
mod files;
pub mod shard;
pub mod text;

use crate::dataset::{self, RejectRow, YearData};
use serde::Serialize;
use std::collections::{BTreeMap, HashSet};
use std::fs;
use std::io::Write;
use std::path::{Path, PathBuf};

use files::{Known, head_is_utf16, hex, known_files, manifest_dir, request_of, sha256_file};
pub use files::{Lock, Unlisted, list_inputs, list_inputs_skipping, sha256_hex};

#[derive(Debug, thiserror::Error)]
pub enum IngestError {
    #[error("{0}")]
    Dataset(#[from] dataset::DatasetError),
    #[error("cannot read {path}: {source}")]
    Read {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error(
        "dataset {0} is locked by another ingest that is still running ({1}); wait for it to finish"
    )]
    Locked(PathBuf, String),
    #[error(
        "accounting error in {file}: read {read} rows but accepted {accepted} + rejected {rejected}"
    )]
    Accounting {
        file: String,
        read: usize,
        accepted: usize,
        rejected: usize,
    },
    #[error(
        "line accounting error in {file}: {lines} physical lines but {blank} blank + {read} rows read + {joined} joined lines"
    )]
    Lines {
        file: String,
        lines: usize,
        blank: usize,
        read: usize,
        joined: usize,
    },
    #[error("no input files found under {0}")]
    NoInput(PathBuf),
}

pub type Result<T> = std::result::Result<T, IngestError>;

/// Per-input-file accounting, written to the manifest and printed in the summary.
#[derive(Debug, Clone, Default, Serialize)]
pub struct FileStats {
    pub file: String,
    pub layout: String,
    pub record_type: String,
    pub bytes: u64,
    pub sha256: String,
    pub rows_read: usize,
    pub accepted: usize,
    pub rejected: usize,
    /// Rejected rows by kind ([`crate::model::RejectKind::key`]).
    pub rejected_by_reason: BTreeMap<String, usize>,
    /// Rectificaciones in this file that supersede an earlier pedimento (Data Stage: on
    /// the 701 file; CSV: rows with `rectifica`).
    pub superseded: usize,
    /// Accepted rows not stored again: the same row came twice, or the same pedimento's
    /// rows of this record type are taken from a later Data Stage request.
    pub duplicates: usize,
    /// Of `duplicates`: rows that replaced an earlier, different row of the same key in
    /// the same file (the earlier version is kept in `conflicts`, reported by
    /// DATA-CONFLICT). The others are identical repeats.
    pub conflicts: usize,
    /// Empty (or whitespace/separator-only) lines: not rows, not counted in `rows_read`.
    pub blank_lines: usize,
    /// CSV: physical lines after the header (0 when not counted). Every one is a blank
    /// line, a row read, or a continuation line of an accepted multi-line record:
    /// `lines = blank_lines + rows_read + joined_lines`.
    pub lines: usize,
    /// CSV: continuation lines of multi-line records (accepted only when allowed).
    pub joined_lines: usize,
    /// Set when the file was not parsed (already ingested, record type not used).
    pub skipped: Option<String>,
}

/// What the parsers hand to [`run`]: rows by year, rejects, per-file stats.
#[derive(Debug, Default)]
pub struct Parsed {
    pub years: BTreeMap<i32, YearData>,
    pub rejects: Vec<RejectRow>,
    pub files: Vec<FileStats>,
    /// Pedimentos whose rectificación (R1) is in this input.
    pub superseded: usize,
}

impl Parsed {
    /// Files partida-level rows (partidas, identificadores, descargos) under the year of
    /// their pedimento, the year its id carries.
    fn push_by_year(
        &mut self,
        partidas: impl IntoIterator<Item = dataset::PartidaRow>,
        idents: impl IntoIterator<Item = dataset::IdentificadorRow>,
        descargos: impl IntoIterator<Item = dataset::DescargoRow>,
    ) {
        let year_of = |id: &str| crate::model::PedimentoKey::year_of_id(id).unwrap_or(0);
        for p in partidas {
            self.years
                .entry(year_of(&p.pedimento_id))
                .or_default()
                .partidas
                .push(p);
        }
        for i in idents {
            self.years
                .entry(year_of(&i.pedimento_id))
                .or_default()
                .identificadores
                .push(i);
        }
        for d in descargos {
            self.years
                .entry(year_of(&d.pedimento_id))
                .or_default()
                .descargos
                .push(d);
        }
    }

    /// Records a reject and counts it on its file.
    pub fn reject(&mut self, r: RejectRow) {
        if let Some(f) = self.files.iter_mut().find(|f| f.file == r.source_file) {
            f.rejected += 1;
            *f.rejected_by_reason
                .entry(r.reason.kind().key().to_string())
                .or_default() += 1;
        }
        self.rejects.push(r);
    }

    /// Counts a rectificación that supersedes an earlier pedimento, on its file.
    pub fn supersede(&mut self, file: &str) {
        self.superseded += 1;
        if let Some(f) = self.files.iter_mut().find(|f| f.file == file) {
            f.superseded += 1;
        }
    }

    /// Adds another parse's rows, rejects and stats.
    pub fn absorb(&mut self, other: Parsed) {
        self.files.extend(other.files);
        self.rejects.extend(other.rejects);
        self.superseded += other.superseded;
        for (y, d) in other.years {
            let e = self.years.entry(y).or_default();
            if e.pedimentos.is_empty() && e.partidas.is_empty() && e.conflicts.is_empty() {
                let partial = std::mem::take(&mut e.partial);
                *e = d;
                e.partial.extend(partial);
                continue;
            }
            e.pedimentos.extend(d.pedimentos);
            e.partidas.extend(d.partidas);
            e.identificadores.extend(d.identificadores);
            e.descargos.extend(d.descargos);
            e.conflicts.extend(d.conflicts);
            e.partial.extend(d.partial);
        }
    }

    /// Takes back one accepted row of `file` (a row rejected after it was accepted, e.g.
    /// with its pedimento); the caller records the reject.
    pub fn unaccept(&mut self, file: &str) {
        if let Some(f) = self.files.iter_mut().find(|f| f.file == file) {
            f.accepted = f.accepted.saturating_sub(1);
        }
    }

    pub fn accept(&mut self, file: &str, n: usize) {
        if let Some(f) = self.files.iter_mut().find(|f| f.file == file) {
            f.accepted += n;
        }
    }

    /// Fails if any file's rows do not add up (a bug, never bad input).
    pub fn check_accounting(&self) -> Result<()> {
        for f in &self.files {
            if f.skipped.is_none() && f.rows_read != f.accepted + f.rejected {
                return Err(IngestError::Accounting {
                    file: f.file.clone(),
                    read: f.rows_read,
                    accepted: f.accepted,
                    rejected: f.rejected,
                });
            }
            if f.skipped.is_none()
                && f.lines > 0
                && f.lines != f.blank_lines + f.rows_read + f.joined_lines
            {
                return Err(IngestError::Lines {
                    file: f.file.clone(),
                    lines: f.lines,
                    blank: f.blank_lines,
                    read: f.rows_read,
                    joined: f.joined_lines,
                });
            }
        }
        Ok(())
    }
}

/// Options of one ingest run.
#[derive(Debug, Clone, Default)]
pub struct IngestOptions {
    /// Re-parse files whose hash was already ingested.
    pub force: bool,
    /// Peak memory to aim for, in MiB (default [`DEFAULT_MEMORY_MB`]). Data Stage input
    /// larger than [`IngestOptions::shard_bytes`] is parsed in shards (`shard.rs`).
    pub memory_mb: Option<u64>,
    /// Progress sink: bytes read+hashed, then bytes parsed (silent by default).
    pub progress: crate::model::progress::ProgressHandle,
}

/// Default memory budget of an ingest (MiB).
pub const DEFAULT_MEMORY_MB: u64 = 1536;
// 1536 MiB / 8 = 192 MiB, capped at SHARD_BYTES_MAX (96 MiB) of input per shard.

/// Peak memory of the Data Stage parse per byte of input text, rounded up (measured,
/// release build: 2,017 MB of peak RSS for 339 MB parsed at once at 1M partidas; sharded
/// 10M partidas with 208 MB shards, 1,824 MB, of which ~250-390 MB stays resident between
/// shards; see bench/results.md).
pub const PEAK_PER_INPUT_BYTE: u64 = 8;

/// The most Data Stage text parsed at once, whatever the budget: larger shards were not
/// faster but slower, their larger peak being paid in first-touch page faults (measured,
/// release build, 2 cores, text parsed at once 192 MiB (two shards of 96 MiB) against 96
/// MiB: 10M partidas 20.9 s at 1.70 GB against 19.8 s at 1.09 GB, 1M 2.59 s against
/// 2.27 s; less was slower again: 64 MiB 20.5 s, 48 MiB 21.0 s; bench/results.md).
pub const SHARD_BYTES_MAX: u64 = 96 << 20;

impl IngestOptions {
    /// Data Stage text parsed at once: the memory budget over the parse's peak per byte,
    /// at most [`SHARD_BYTES_MAX`].
    pub fn shard_bytes(&self) -> u64 {
        let budget = (self.memory_mb.unwrap_or(DEFAULT_MEMORY_MB) << 20) / PEAK_PER_INPUT_BYTE;
        budget.min(SHARD_BYTES_MAX)
    }
}

/// Result of [`run`]: the run id and what happened per file and per year.
#[derive(Debug, Default, Serialize)]
pub struct IngestReport {
    pub run_id: String,
    pub files: Vec<FileStats>,
    pub years: BTreeMap<i32, YearCounts>,
    pub rows_read: usize,
    pub accepted: usize,
    pub rejected: usize,
    pub superseded: usize,
    pub recovered: Vec<String>,
    /// Wall seconds: reading + parsing, and merging + writing Parquet.
    pub parse_seconds: f64,
    pub write_seconds: f64,
    /// Shards the Data Stage input was parsed in (0: in memory, at once).
    pub shards: usize,
}

#[derive(Debug, Default, Clone, Serialize)]
pub struct YearCounts {
    pub pedimentos: usize,
    pub partidas: usize,
    pub new: usize,
    pub identical: usize,
    pub replaced: usize,
}

impl YearCounts {
    pub fn of(pedimentos: usize, partidas: usize, m: dataset::MergeStats) -> YearCounts {
        YearCounts {
            pedimentos,
            partidas,
            new: m.new,
            identical: m.identical,
            replaced: m.replaced,
        }
    }

    /// Adds another merge of the same year in the same run.
    fn add(&mut self, o: &YearCounts) {
        self.pedimentos += o.pedimentos;
        self.partidas += o.partidas;
        self.new += o.new;
        self.identical += o.identical;
        self.replaced += o.replaced;
    }
}

/// Parses `inputs` and merges them into the dataset at `root`.
pub fn run(inputs: &[PathBuf], root: &Path, opts: &IngestOptions) -> Result<IngestReport> {
    run_with(inputs, root, opts, &csv::CsvOptions::default())
}

/// [`run`] with options for the CSV layout (e.g. multi-line quoted fields allowed).
// size-exception: the ingest run in order (hash, skip, parse, check, merge, manifest) over shared run state
pub fn run_with(
    inputs: &[PathBuf],
    root: &Path,
    opts: &IngestOptions,
    csv_opts: &csv::CsvOptions,
) -> Result<IngestReport> {
    let mut st = crate::timing::Stages::new("ingest");
    let _lock = Lock::acquire(root)?;
    let recovered = dataset::recover(root)?;
    let (files, unlisted) = list_inputs_skipping(inputs)?;
    for (p, why) in &unlisted {
        opts.progress
            .message(crate::model::progress::Message::Skipped {
                path: p.display().to_string(),
                why: why.clone(),
            });
    }
    if files.is_empty() {
        return Err(IngestError::NoInput(
            inputs.first().cloned().unwrap_or_default(),
        ));
    }
    let known = if opts.force {
        Known::none()
    } else {
        known_files(root)
    };
    // Data Stage input larger than one shard is parsed shard by shard (`shard.rs`); its
    // files are then hashed as streams and read again by the shards, never whole.
    let shard_bytes = opts.shard_bytes();
    let sizes: Vec<u64> = files
        .iter()
        .map(|f| fs::metadata(f).map(|m| m.len()).unwrap_or(0))
        .collect();
    let ds_bytes: u64 = files
        .iter()
        .zip(&sizes)
        .filter(|(f, _)| datastage::record_type_of(f).is_some())
        .map(|(_, b)| b)
        .sum();
    let sharded = ds_bytes > shard_bytes;
    // A file's hash decides two things here: skip it when the manifest has it, or when
    // another input of this run has it. Neither can happen to a file whose size no
    // other input and no manifest record has: a sharded run leaves the hashing of such
    // a file to the split, which reads it anyway (one pass over the input fewer). With
    // records from before the manifest had sizes, every file is hashed here.
    let mut size_count: std::collections::HashMap<u64, usize> = Default::default();
    for b in &sizes {
        *size_count.entry(*b).or_default() += 1;
    }
    let unique_size =
        |b: u64| size_count[&b] == 1 && known.sizes.as_ref().is_some_and(|k| !k.contains(&b));
    // Read and hash the files in parallel (SHA-256 of a large input is not free).
    use crate::model::progress::{Stage, Unit};
    use rayon::prelude::*;
    let pg = &opts.progress;
    pg.begin(Stage::IngestRead, sizes.iter().sum(), Unit::Bytes);
    type Read = (PathBuf, Option<Vec<u8>>, u64, Option<String>);
    let read: Vec<Read> = files
        .into_par_iter()
        .zip(sizes)
        .map(|(f, size)| {
            let err = |e| IngestError::Read {
                path: f.clone(),
                source: e,
            };
            if sharded && datastage::record_type_of(&f).is_some() {
                if unique_size(size) {
                    return Ok((f, None, size, None)); // hashed by the split
                }
                let (len, hash) = sha256_file(&f).map_err(err)?;
                pg.advance(len);
                return Ok((f, None, len, Some(hash)));
            }
            let bytes = fs::read(&f).map_err(err)?;
            let hash = sha256_hex(&bytes);
            let len = bytes.len() as u64;
            pg.advance(len);
            Ok((f, Some(bytes), len, Some(hash)))
        })
        .collect::<Result<_>>()?;
    pg.end();
    let is_known = |h: &Option<String>| h.as_ref().is_some_and(|h| known.hashes.contains(h));
    // Data Stage files of one request (`<dir>/<folio>_*.asc`) depend on each other (551
    // rows need their 501 row): when any file of a request is new, the whole request
    // is parsed again, else a new 501 would replace a pedimento whose unchanged 551
    // file was skipped, and its partidas would be lost.
    let fresh_requests: HashSet<(PathBuf, String)> = read
        .iter()
        .filter(|(_, _, _, h)| !is_known(h))
        .filter_map(|(p, _, _, _)| request_of(p))
        .collect();
    let mut loaded: Vec<Read> = vec![];
    let mut skipped: Vec<FileStats> = unlisted
        .into_iter()
        .map(|(p, why)| FileStats {
            record_type: datastage::record_type_of(&p).unwrap_or_else(|| "csv".into()),
            file: p.display().to_string(),
            skipped: Some(why),
            ..Default::default()
        })
        .collect();
    let mut seen_in_run: HashSet<String> = HashSet::new();
    for (f, bytes, len, hash) in read {
        let name = f.display().to_string();
        let ext = f
            .extension()
            .map(|e| e.to_string_lossy().to_ascii_lowercase())
            .unwrap_or_default();
        let note = if datastage::record_type_of(&f).is_none() && ext != "csv" {
            Some(if ext == "zip" {
                "ZIP archives are not read: extract the Data Stage files first"
            } else {
                "not an input file (Data Stage <folio>_<tipo>.asc/.txt or .csv): ignored"
            })
        } else if bytes.is_none() && head_is_utf16(&f) {
            // The shards split files at LF bytes: UTF-16 text would be cut mid-character.
            Some(
                "UTF-16 Data Stage file in a sharded ingest (input larger than the memory budget): convert it to UTF-8 or Latin-1, or raise --memory-mb",
            )
        } else if is_known(&hash) && !request_of(&f).is_some_and(|r| fresh_requests.contains(&r)) {
            Some("already ingested (same SHA-256): no-op")
        } else if hash.as_ref().is_some_and(|h| seen_in_run.contains(h)) {
            Some("duplicate of another input file in this run (same SHA-256)")
        } else {
            None
        };
        if let Some(note) = note {
            skipped.push(FileStats {
                record_type: datastage::record_type_of(&f).unwrap_or_else(|| "csv".into()),
                file: name,
                bytes: len,
                sha256: hash.unwrap_or_default(),
                skipped: Some(note.into()),
                ..Default::default()
            });
            continue;
        }
        if let Some(h) = &hash {
            seen_in_run.insert(h.clone());
        }
        loaded.push((f, bytes, len, hash));
    }
    let (ds, csvs): (Vec<_>, Vec<_>) = loaded
        .into_iter()
        .partition(|(p, _, _, _)| datastage::record_type_of(p).is_some());
    let t_parse = std::time::Instant::now();
    st.mark("read+hash");
    let ds_len: u64 = ds.iter().map(|(_, _, len, _)| len).sum();
    pg.begin(
        Stage::IngestParse,
        ds_len + csvs.iter().map(|(_, _, len, _)| len).sum::<u64>(),
        Unit::Bytes,
    );
    // Data Stage rows are parsed before the CSV rows (which win on dedupe). A sharded run
    // parses only the CSV files here: they are checked before anything is written, then
    // the shards check, stage and merge theirs, before the CSV years are merged.
    let mut parsed = Parsed::default();
    let mut shard_files: Vec<shard::DsFile> = vec![];
    if sharded {
        shard_files = ds
            .into_iter()
            .map(|(path, _, bytes, hash)| shard::DsFile { path, hash, bytes })
            .collect();
    } else if !ds.is_empty() {
        let ds: Vec<(PathBuf, Vec<u8>, String)> = ds
            .into_iter()
            .map(|(p, b, _, h)| {
                let h = h.expect("only a sharded run's files are hashed later");
                (p, b.unwrap_or_default(), h)
            })
            .collect();
        datastage::parse_in_with(&ds, &mut parsed, Some(root), pg);
        pg.advance(ds_len);
    }
    for (p, bytes, len, hash) in &csvs {
        let hash = hash.as_deref().expect("a CSV file is hashed when read");
        csv::parse_with(
            p,
            bytes.as_deref().unwrap_or_default(),
            hash,
            csv_opts,
            &mut parsed,
        );
        pg.advance(*len);
    }
    let mut report = IngestReport {
        run_id: run_id(),
        recovered,
        ..Default::default()
    };
    if !shard_files.is_empty() {
        parsed.check_accounting()?;
        // Shards parsed at once: one per core, up to 4 (each parse is itself parallel).
        let workers = rayon::current_num_threads().clamp(1, 4);
        let mut out = shard::ingest(&shard_files, root, shard_bytes, workers, pg)?;
        report.shards = out.shards;
        report.years = out.years;
        out.files.append(&mut parsed.files);
        parsed.files = out.files;
        out.rejects.append(&mut parsed.rejects);
        parsed.rejects = out.rejects;
        parsed.superseded += out.superseded;
        pg.advance(ds_len);
    }
    pg.end();
    parsed.check_accounting()?;
    st.mark("parse");
    for y in parsed.years.values_mut() {
        y.dedupe();
    }
    st.mark("dedupe");
    report.superseded = parsed.superseded;
    report.parse_seconds = t_parse.elapsed().as_secs_f64();
    let t_write = std::time::Instant::now();
    // Years are independent partitions: merge them in parallel.
    let results: Vec<(
        i32,
        std::result::Result<dataset::MergeStats, dataset::DatasetError>,
    )> = parsed
        .years
        .par_iter()
        .map(|(y, data)| (*y, dataset::merge_year(root, *y, data)))
        .collect();
    for (y, r) in results {
        let st = r?;
        let data = &parsed.years[&y];
        let c = YearCounts::of(data.pedimentos.len(), data.partidas.len(), st);
        report.years.entry(y).or_default().add(&c);
    }
    report.write_seconds = t_write.elapsed().as_secs_f64();
    st.mark("merge+write");
    dataset::crash_point("before-manifest");
    let mdir = manifest_dir(root);
    fs::create_dir_all(&mdir).map_err(dataset::io(&mdir))?;
    if !parsed.rejects.is_empty() {
        let rdir = root.join("rejects");
        fs::create_dir_all(&rdir).map_err(dataset::io(&rdir))?;
        let batch = dataset::rejects_batch(&parsed.rejects)?;
        dataset::write_parquet_atomic(
            &rdir.join(format!("{}.parquet", report.run_id)),
            dataset::rejects_schema(),
            &[batch],
        )?;
    }
    report.files = parsed.files;
    report.files.extend(skipped);
    // Repeated and replaced rows are said, not only written to the manifest.
    for f in &report.files {
        if f.duplicates > 0 || f.conflicts > 0 {
            opts.progress
                .message(crate::model::progress::Message::NotStoredAgain {
                    file: f.file.clone(),
                    duplicates: f.duplicates,
                    conflicts: f.conflicts,
                });
        }
    }
    for f in &report.files {
        report.rows_read += f.rows_read;
        report.accepted += f.accepted;
        report.rejected += f.rejected;
    }
    let json = serde_json::to_string_pretty(&report).expect("report serializes");
    let mpath = mdir.join(format!("{}.json", report.run_id));
    dataset::write_atomic(&mpath, json.as_bytes())?;
    // Hashes are recorded last: a run killed before this point re-parses its files (the
    // merge is idempotent). One write per run; a line cut short by a kill is ended first
    // so it cannot swallow the next record.
    let tsv = mdir.join("files.tsv");
    let mut lines = String::new();
    if fs::read(&tsv).is_ok_and(|b| !b.is_empty() && !b.ends_with(b"\n")) {
        lines.push('\n');
    }
    // Parsed files and files of record types not used (both fully handled) are recorded.
    let handled = |f: &&FileStats| {
        f.skipped
            .as_deref()
            .is_none_or(|s| s.starts_with("record type"))
    };
    for fs_ in report.files.iter().filter(handled) {
        lines.push_str(&format!(
            "{}\t{}\t{}\t{}\n",
            fs_.sha256, fs_.file, report.run_id, fs_.bytes
        ));
    }
    let mut f = fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(&tsv)
        .map_err(dataset::io(&tsv))?;
    f.write_all(lines.as_bytes()).map_err(dataset::io(&tsv))?;
    f.sync_all().map_err(dataset::io(&tsv))?;
    Ok(report)
}

fn run_id() -> String {
    let now = chrono::Utc::now();
    format!(
        "ingest-{}-{}",
        now.format("%Y%m%dT%H%M%S%3f"),
        std::process::id()
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shard_size_follows_the_budget_up_to_its_cap() {
        let of = |mb| IngestOptions {
            memory_mb: mb,
            ..Default::default()
        };
        // A small budget: an eighth of it.
        assert_eq!(of(Some(256)).shard_bytes(), 32 << 20);
        // The default (1536 MiB) and anything larger: the cap, not an eighth.
        assert_eq!(of(None).shard_bytes(), SHARD_BYTES_MAX);
        assert_eq!(of(Some(16_384)).shard_bytes(), SHARD_BYTES_MAX);
    }
}
