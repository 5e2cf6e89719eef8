//! Years written whole ([`NewYearWriter`]), the atomic swap of a year directory, crash
//! points for the kill tests, and recovery of an interrupted ingest.

use super::*;

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
pub(super) fn swap_in(tmp: &Path, dir: &Path) -> Result<()> {
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

pub(super) fn remove_any(p: &Path) -> Result<()> {
    if p.is_dir() {
        fs::remove_dir_all(p).map_err(io(p))
    } else {
        fs::remove_file(p).map_err(io(p))
    }
}
