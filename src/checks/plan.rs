//! The batched audit's plan: how many rows each company has ([`company_rows`]) and how
//! companies are packed into batches under a memory budget ([`plan_batches`]).

use super::CheckError;
use crate::dataset;
use std::path::Path;

/// Rows of each company (its pedimentos plus their partidas), sorted by RFC: what a
/// batch of the audit holds in memory, for [`plan_batches`].
///
/// Year by year, two columns at a time, as the partition does (partition.rs): the year's
/// pedimento ids with their company, sorted, then each partida's pedimento id looked up
/// with a cursor (partidas are in pedimento order; a search when one goes back). A polars
/// join and group-by by pedimento held 2.8 GB at 100 M partidas (6 M pedimentos a year),
/// more than any batch.
pub fn company_rows(root: &Path) -> Result<Vec<(String, u64)>, CheckError> {
    use super::partition::{seek, strings};
    use arrow::array::Array;
    let err = |e: dataset::DatasetError| CheckError::Other(e.to_string());
    let mut rfcs: Vec<String> = vec![];
    let mut rfc_ix: std::collections::HashMap<String, u32> = Default::default();
    let mut rows: Vec<u64> = vec![];
    for year in dataset::years(root) {
        let dir = dataset::year_dir(root, year);
        let mut ids: Vec<(Box<str>, u32)> = vec![];
        for file in dataset::table_files(&dir, "pedimentos") {
            dataset::for_each_batch_of(&file, Some(&["pedimento_id", "rfc"]), |rb| {
                let (id, rfc) = (
                    strings(&rb, "pedimento_id", &file)?,
                    strings(&rb, "rfc", &file)?,
                );
                for i in (0..rb.num_rows()).filter(|&i| rfc.is_valid(i)) {
                    let r = rfc.value(i);
                    let k = match rfc_ix.get(r) {
                        Some(&k) => k,
                        None => {
                            rfcs.push(r.to_string());
                            rows.push(0);
                            rfc_ix.insert(r.to_string(), (rfcs.len() - 1) as u32);
                            (rfcs.len() - 1) as u32
                        }
                    };
                    rows[k as usize] += 1;
                    if id.is_valid(i) {
                        ids.push((id.value(i).into(), k));
                    }
                }
                Ok(())
            })
            .map_err(err)?;
        }
        if !ids.is_sorted_by(|a, b| a.0 <= b.0) {
            ids.sort_unstable_by(|a, b| a.0.cmp(&b.0));
        }
        for file in dataset::table_files(&dir, "partidas") {
            dataset::for_each_batch_of(&file, Some(&["pedimento_id"]), |rb| {
                let id = strings(&rb, "pedimento_id", &file)?;
                let mut at = 0usize;
                for i in (0..rb.num_rows()).filter(|&i| id.is_valid(i)) {
                    if let Some(c) = seek(&ids, &mut at, id.value(i)) {
                        rows[c as usize] += 1;
                    }
                }
                Ok(())
            })
            .map_err(err)?;
        }
    }
    let mut out: Vec<(String, u64)> = rfcs.into_iter().zip(rows).collect();
    out.sort_unstable();
    Ok(out)
}

/// Groups companies, in RFC order, into batches of at most `rows_per_batch` rows each (a
/// company larger than that is a batch of its own).
pub fn pack_batches(rows: &[(String, u64)], rows_per_batch: u64) -> Vec<Vec<String>> {
    let mut out: Vec<Vec<String>> = vec![];
    let mut held = 0u64;
    for (rfc, n) in rows {
        match out.last_mut() {
            Some(b) if held.saturating_add(*n) <= rows_per_batch => {
                b.push(rfc.clone());
                held += n;
            }
            _ => {
                out.push(vec![rfc.clone()]);
                held = *n;
            }
        }
    }
    out
}

/// The audit's company batches under a memory budget of `memory_mb` MiB (see
/// [`crate::memory::audit_rows_per_batch`]): companies grouped by their row counts so
/// that each batch fits.
pub fn plan_batches(root: &Path, memory_mb: u64) -> Result<Vec<Vec<String>>, CheckError> {
    let rows = company_rows(root)?;
    Ok(pack_batches(
        &rows,
        crate::memory::audit_rows_per_batch(memory_mb),
    ))
}
