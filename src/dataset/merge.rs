//! Merging a year's new rows with the stored year (rewrite or appended segments) and
//! writing conflicts.

use super::*;

/// Keeps the rows of `batch` whose `pedimento_id` is not in `drop`.
pub(super) fn filter_out(batch: &RecordBatch, drop: &HashSet<String>) -> Result<RecordBatch> {
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
pub(super) fn filter_out_pairs(
    batch: &RecordBatch,
    drop: &HashSet<(String, i32)>,
) -> Result<RecordBatch> {
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

impl NewRows<'_> {
    /// Writes these rows (one batch, or every batch of the files) to `w`.
    fn write_to(self, w: &mut ParWriter) -> Result<()> {
        match self {
            NewRows::Batch(b) => w.write(&b),
            NewRows::Files(files) => {
                for f in files {
                    for_each_batch(f, |b| w.write(&b))?;
                }
                Ok(())
            }
        }
    }
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
                if let Some((d, a, c)) = add.get(p.pedimento_id.as_str()) {
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
    let new_ids: HashSet<String> = pedimentos
        .iter()
        .map(|p| p.pedimento_id.to_string())
        .collect();
    let mut existing_headers: BTreeMap<String, PedimentoRow> = BTreeMap::new();
    for f in table_files(&dir, "pedimentos") {
        for_each_batch(&f, |b| {
            for row in pedimento_rows(&b)? {
                if new_ids.contains(row.pedimento_id.as_str()) {
                    existing_headers.insert(row.pedimento_id.to_string(), row);
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
        if keep_partidas.contains(p.pedimento_id.as_str()) {
            let old = &existing_headers[p.pedimento_id.as_str()];
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
        match existing_headers.get(p.pedimento_id.as_str()) {
            None => stats.new += 1,
            Some(old) if same_content(old, p) => stats.identical += 1,
            Some(old) => {
                stats.replaced += 1;
                // A partial pedimento (rows of a later run added to it) is updated, not
                // a different version of it.
                if !keep.ids.contains(p.pedimento_id.as_str())
                    || keep.changed.contains(p.pedimento_id.as_str())
                {
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
        nb.write_to(&mut w)?;
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
pub(super) fn append_year(
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
        nb.write_to(&mut w)?;
        w.finish()?;
    }
    write_conflicts(dir, tmp, conflicts)?;
    crash_point("after-tmp-write");
    swap_in(tmp, dir)?;
    crash_point("after-swap");
    Ok(())
}

/// Writes `tmp/conflicts.parquet`: the year's stored conflicts plus the new ones.
pub(super) fn write_conflicts(
    dir: &Path,
    tmp: &Path,
    mut conflicts: Vec<PedimentoRow>,
) -> Result<()> {
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
pub(super) fn distinct(conflicts: Vec<PedimentoRow>) -> Vec<PedimentoRow> {
    let mut unique: Vec<PedimentoRow> = vec![];
    for c in conflicts {
        if !unique.contains(&c) {
            unique.push(c);
        }
    }
    unique
}
