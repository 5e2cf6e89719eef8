//! `ingest`: input files into the dataset, with recovery of an interrupted ingest and
//! the checks of the dataset folder, the profiles and the company named.

use super::*;

pub fn ingest(a: IngestArgs) -> Result<i32> {
    let t = Instant::now();
    let l = a.lang;
    match l {
        Lang::Es => eprintln!(
            "ingiriendo {} ruta(s) de entrada en {} ...",
            a.inputs.len(),
            a.dataset.display()
        ),
        Lang::En => eprintln!(
            "ingesting {} input path(s) into {} ...",
            a.inputs.len(),
            a.dataset.display()
        ),
    }
    let r = ingest::run_with(
        &a.inputs,
        &a.dataset,
        &ingest::IngestOptions {
            force: a.force,
            memory_mb: Some(a.memory_mb),
            progress: crate::cli_progress::handle(l),
        },
        &ingest::csv::CsvOptions {
            multiline: a.csv_multiline,
        },
    )
    .map_err(|e| not_writable(e, &a.dataset))?;
    for act in &r.recovered {
        eprintln!("{}: {act}", l.pick("recuperado", "recovered"));
    }
    let mut t1 = term_table(
        match l {
            Lang::Es => vec!["archivo", "tipo", "leídos", "aceptados", "rechazados"],
            Lang::En => vec!["file", "type", "read", "accepted", "rejected"],
        },
        &[2, 3, 4],
    );
    // Notes (reject kinds, skipped files) go under the table, one wrapped line a file.
    let mut notes = vec![];
    for f in &r.files {
        let note = match &f.skipped {
            Some(s) => l.phrase(s),
            None => f
                .rejected_by_reason
                .iter()
                .map(|(k, v)| format!("{}: {v}", l.reject_kind(k)))
                .collect::<Vec<_>>()
                .join("; "),
        };
        let name = std::path::Path::new(&f.file)
            .file_name()
            .map(|s| s.to_string_lossy().to_string())
            .unwrap_or_default();
        t1.add_row(vec![
            name.clone(),
            f.record_type.clone(),
            num(f.rows_read),
            num(f.accepted),
            num(f.rejected),
        ]);
        if !note.is_empty() {
            notes.push(format!("{name}: {note}"));
        }
    }
    println!("{t1}");
    for n in &notes {
        print_wrapped(n);
    }
    let mut t2 = term_table(
        match l {
            Lang::Es => vec![
                "año",
                "pedimentos",
                "partidas",
                "nuevos",
                "idénticos",
                "sustituidos",
            ],
            Lang::En => vec![
                "year",
                "pedimentos",
                "partidas",
                "new",
                "identical",
                "replaced",
            ],
        },
        &[1, 2, 3, 4, 5],
    );
    for (y, c) in &r.years {
        t2.add_row(vec![
            y.to_string(),
            num(c.pedimentos),
            num(c.partidas),
            num(c.new),
            num(c.identical),
            num(c.replaced),
        ]);
    }
    println!("{t2}");
    let secs = t.elapsed().as_secs_f64();
    let rate = r.rows_read as f64 / secs.max(1e-9);
    print_wrapped(&match l {
        Lang::Es => format!(
            "renglones leídos {} = aceptados {} + rechazados {}; rectificaciones que sustituyen a un original: {}; {:.2} s ({} renglones/s); ejecución {}",
            num(r.rows_read),
            num(r.accepted),
            num(r.rejected),
            num(r.superseded),
            secs,
            num(rate as u64),
            r.run_id
        ),
        Lang::En => format!(
            "rows read {} = accepted {} + rejected {}; rectificaciones superseding an original: {}; {:.2} s ({} rows/s); run {}",
            num(r.rows_read),
            num(r.accepted),
            num(r.rejected),
            num(r.superseded),
            secs,
            num(rate as u64),
            r.run_id
        ),
    });
    if r.rejected > 0 {
        print_wrapped(&format!(
            "{}: {}",
            l.pick(
                "renglones rechazados con archivo, línea, campo y motivo",
                "rejected rows with file, line, field and reason"
            ),
            a.dataset
                .join("rejects")
                .join(format!("{}.parquet", r.run_id))
                .display()
        ));
    }
    Ok(0)
}

/// An ingest error caused by a dataset folder the user cannot write (read-only mount,
/// permissions) says so, instead of "cannot read .lock".
pub(super) fn not_writable(e: ingest::IngestError, root: &Path) -> anyhow::Error {
    use std::io::ErrorKind as K;
    let denied = |src: &std::io::Error| {
        matches!(src.kind(), K::PermissionDenied | K::ReadOnlyFilesystem)
            || src.raw_os_error() == Some(libc::EROFS)
    };
    let cause = match &e {
        ingest::IngestError::Read { path, source } if path.starts_with(root) && denied(source) => {
            Some(source.to_string())
        }
        ingest::IngestError::Dataset(dataset::DatasetError::Io { path, source })
            if path.starts_with(root) && denied(source) =>
        {
            Some(source.to_string())
        }
        _ => None,
    };
    match cause {
        Some(c) => anyhow::anyhow!(
            "dataset folder {} is not writable ({c}): ingest must create its lock file and year partitions there; \
             fix its permissions or mount, or pass a writable --dataset",
            root.display()
        ),
        None => e.into(),
    }
}

/// A dataset an ingest left half-swapped (`.tmp-*`, `.old-year=*`: killed between its two
/// renames) is recovered with the ingest's own recovery, under the ingest lock, before it
/// is read; when that is not possible (another ingest still running, read-only dataset)
/// the command refuses. Never reads a dataset with a year missing.
pub(super) fn recover_dataset(root: &Path) -> Result<()> {
    let left = dataset::unfinished(root);
    if left.is_empty() {
        return Ok(());
    }
    let lock = match ingest::Lock::acquire(root) {
        Ok(l) => l,
        Err(e @ ingest::IngestError::Locked(..)) => {
            bail!(
                "{e}; its unfinished files ({}) are not readable yet",
                left.join(", ")
            )
        }
        Err(e) => bail!(
            "dataset {} was left half-written by an interrupted ingest ({}) and cannot be recovered here ({e}); \
             run `pedimento-audit ingest` on it with write access (it recovers first), then retry",
            root.display(),
            left.join(", ")
        ),
    };
    let actions = dataset::recover(root).with_context(|| {
        format!(
            "recovering dataset {} after an interrupted ingest",
            root.display()
        )
    })?;
    for act in &actions {
        eprintln!(
            "recovered: {act} (dataset {} after an interrupted ingest)",
            root.display()
        );
    }
    drop(lock);
    Ok(())
}

/// `--profiles` must be an existing folder; unknown files in it are warned about.
pub(super) fn check_profiles(dir: Option<&Path>) -> Result<()> {
    let Some(dir) = dir else { return Ok(()) };
    let unknown = pedaudit::profile::check_dir(dir)?;
    if !unknown.is_empty() {
        eprintln!(
            "warning: {}: unknown profile file(s) {} ignored; known names: {}",
            dir.display(),
            unknown.join(", "),
            pedaudit::profile::known_files().join(", ")
        );
    }
    Ok(())
}

/// Levenshtein distance (for "did you mean" lists of RFCs).
pub(super) fn distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut prev: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut cur = vec![i + 1];
        for (j, cb) in b.iter().enumerate() {
            let sub = prev[j] + usize::from(ca != *cb);
            cur.push(sub.min(prev[j + 1] + 1).min(cur[j] + 1));
        }
        prev = cur;
    }
    prev[b.len()]
}

/// `--company`: trimmed and uppercased, and one of the dataset's companies (like
/// `report`); an unknown RFC is an error listing the closest ones.
pub(super) fn normalize_company(root: &Path, c: &str) -> Result<String> {
    let rfc = c.trim().to_uppercase();
    if dataset::years(root).is_empty() {
        return Ok(rfc); // no dataset: the audit reports that
    }
    let known: Vec<String> = checks::company_batches(root, usize::MAX)?.concat();
    if known.contains(&rfc) {
        return Ok(rfc);
    }
    let mut close: Vec<(usize, &String)> = known
        .iter()
        .map(|k| (distance(&rfc, k), k))
        .filter(|(d, _)| *d <= 3)
        .collect();
    close.sort();
    let hint = if close.is_empty() {
        String::new()
    } else {
        let c: Vec<&str> = close.iter().map(|(_, k)| k.as_str()).collect();
        format!("did you mean {}? ", c.join(", "))
    };
    let list: Vec<&str> = known.iter().take(30).map(String::as_str).collect();
    let more = if known.len() > 30 {
        format!(" (and {} more)", known.len() - 30)
    } else {
        String::new()
    };
    bail!(
        "unknown company '{rfc}' in dataset {}; {hint}companies in the dataset: {}{more}",
        root.display(),
        list.join(", ")
    )
}
