//! Step 2, split: each file streamed once, each data line to its shard (runs of lines
//! kept in place, or a copy per shard for a scattered file).

use super::*;

/// What splitting one file found.
#[derive(Default, Clone)]
pub(super) struct Split {
    pub(super) latin1: bool,
    pub(super) blank: usize,
    /// Data lines (after the header, blank ones excluded).
    pub(super) rows: usize,
    pub(super) has_header: bool,
    /// Where a routed file's lines are for the shard parse.
    pub(super) place: Option<Place>,
    /// SHA-256 (hex) of the file, computed by the split when [`DsFile::hash`] is `None`.
    pub(super) hash: Option<String>,
}

/// Where the shard parse finds a routed file's lines.
#[derive(Clone)]
pub(super) enum Place {
    /// In the original file: per shard, its runs of consecutive data lines. A file in
    /// pedimento order (as the generator writes them) has about one run per
    /// shard, and nothing is copied.
    Runs {
        header: Vec<u8>,
        runs: Vec<Vec<Run>>,
    },
    /// Copied into `<dir>/<shard>/<fi>.asc`, with the line numbers in `.lines`: a file
    /// whose pedimentos are scattered (too many runs to keep).
    Copied,
}

/// Consecutive data lines of one file that go to one shard.
#[derive(Clone, Copy)]
pub(super) struct Run {
    /// Byte range of the lines in the file (their `\n`s included).
    pub(super) start: u64,
    pub(super) end: u64,
    pub(super) first_line: u32,
    pub(super) lines: u32,
}

pub(super) fn shard_path(dir: &Path, shard: usize, fi: usize, ext: &str) -> PathBuf {
    dir.join(format!("{shard:04}")).join(format!("{fi}.{ext}"))
}

/// Splits file `fi`: counts its lines, decides its encoding and, when `route`, finds where
/// each shard's lines are ([`Place`]): runs in the file, or copied when scattered.
pub(super) fn split_file(
    (f, rtype): (&DsFile, &str),
    fi: usize,
    plan: &Plan,
    dir: &Path,
    route: bool,
) -> Result<Split> {
    let mut sp = Split::default();
    let mut utf8 = true;
    let mut cols: Option<Cols> = None;
    let mut header = vec![];
    let mut runs: Vec<Vec<Run>> = vec![vec![]; if route { plan.shards() } else { 0 }];
    let (mut nruns, mut scattered) = (0usize, false);
    // The run being extended: (shard, run).
    let mut cur: Option<(usize, Run)> = None;
    let mut hasher = f.hash.is_none().then(Sha256::new);
    // The previous line's bytes up to the `|` after its key (when it has such a `|`
    // within 64 bytes), and its shard.
    struct Same {
        bytes: [u8; 64],
        len: usize,
        shard: usize,
    }
    let mut same = Same {
        bytes: [0; 64],
        len: 0,
        shard: 0,
    };
    for_each_line(&f.path, hasher.as_mut(), |ln, line, offset| {
        if utf8 && !line.is_ascii() && std::str::from_utf8(line).is_err() {
            utf8 = false;
        }
        if ln == 1 {
            sp.has_header = true;
            if route {
                cols = Some(cols_of(line, rtype));
                header = line.to_vec();
            }
            return Ok(true);
        }
        if ascii_blank(line) {
            sp.blank += 1;
            // A blank line is not routed: it ends the run.
            if let Some((s, r)) = cur.take() {
                runs[s].push(r);
            }
            return Ok(true);
        }
        sp.rows += 1;
        if !route || scattered {
            return Ok(true);
        }
        let c = cols.as_ref().expect("header read first");
        // A pedimento's lines are usually consecutive: a line that starts as the
        // previous one up to the `|` after its key's fields has its key, and its shard
        // (the key's parse and the shard lookup were ~4% of a 10M ingest's CPU).
        let s = match c.own {
            None => plan.shard(None),
            Some(_)
                if same.len > 0
                    && line.get(same.len) == Some(&b'|')
                    && line.starts_with(&same.bytes[..same.len]) =>
            {
                same.shard
            }
            Some(own) => {
                let (k, end) = line_key_end(line, own);
                let s = plan.shard(k);
                same.len = 0;
                if let Some(e) = end.filter(|e| *e <= same.bytes.len()) {
                    same.bytes[..e].copy_from_slice(&line[..e]);
                    same.len = e;
                    same.shard = s;
                }
                s
            }
        };
        // `offset` + the line + its `\n` (absent on a last line without one).
        let end = (offset + line.len() as u64 + 1).min(f.bytes);
        match &mut cur {
            Some((cs, r)) if *cs == s && r.end == offset => {
                r.end = end;
                r.lines += 1;
            }
            _ => {
                if let Some((cs, r)) = cur.take() {
                    runs[cs].push(r);
                }
                nruns += 1;
                // Scattered: more runs than a few per shard and 1 per 16 rows.
                if nruns > 64 * plan.shards() && nruns > sp.rows / 16 {
                    scattered = true;
                    return Ok(true);
                }
                let run = Run {
                    start: offset,
                    end,
                    first_line: ln as u32,
                    lines: 1,
                };
                cur = Some((s, run));
            }
        }
        Ok(true)
    })?;
    if let Some((s, r)) = cur.take() {
        runs[s].push(r);
    }
    sp.latin1 = !utf8;
    sp.hash = hasher.map(|h| super::super::hex(&h.finalize()));
    if route && sp.has_header {
        sp.place = Some(if scattered {
            copy_file((f, rtype), fi, plan, dir)?;
            Place::Copied
        } else {
            Place::Runs { header, runs }
        });
    }
    Ok(sp)
}

/// Copies file `fi`'s lines into its shard files (`<dir>/<shard>/<fi>.asc` and `.lines`).
pub(super) fn copy_file(
    (f, rtype): (&DsFile, &str),
    fi: usize,
    plan: &Plan,
    dir: &Path,
) -> Result<()> {
    let mut cols: Option<Cols> = None;
    let mut out: Vec<(BufWriter<fs::File>, BufWriter<fs::File>)> = vec![];
    for_each_line(&f.path, None, |ln, line, _| {
        if ln == 1 {
            cols = Some(cols_of(line, rtype));
            for s in 0..plan.shards() {
                let open = |ext: &str| -> Result<BufWriter<fs::File>> {
                    let p = shard_path(dir, s, fi, ext);
                    Ok(BufWriter::with_capacity(
                        256 << 10,
                        fs::File::create(&p).map_err(io_err(&p))?,
                    ))
                };
                let (mut d, l) = (open("asc")?, open("lines")?);
                d.write_all(line).map_err(io_err(&f.path))?;
                d.write_all(b"\n").map_err(io_err(&f.path))?;
                out.push((d, l));
            }
            return Ok(true);
        }
        if ascii_blank(line) {
            return Ok(true);
        }
        let c = cols.as_ref().expect("header read first");
        let k = c.own.and_then(|own| line_key(line, own));
        let (d, l) = &mut out[plan.shard(k)];
        d.write_all(line).map_err(io_err(&f.path))?;
        d.write_all(b"\n").map_err(io_err(&f.path))?;
        l.write_all(&(ln as u32).to_le_bytes())
            .map_err(io_err(&f.path))?;
        Ok(true)
    })?;
    for (d, l) in out {
        d.into_inner()
            .map_err(|e| io_err(&f.path)(e.into_error()))?;
        l.into_inner()
            .map_err(|e| io_err(&f.path)(e.into_error()))?;
    }
    Ok(())
}

/// Shard `s`'s lines of file `fi` (its header first) and their line numbers in the file.
pub(super) fn shard_text(
    dir: &Path,
    s: usize,
    fi: usize,
    f: &DsFile,
    place: &Place,
) -> Result<(Vec<u8>, Vec<u32>)> {
    match place {
        Place::Copied => {
            let p = shard_path(dir, s, fi, "asc");
            let bytes = fs::read(&p).map_err(io_err(&p))?;
            let lp = shard_path(dir, s, fi, "lines");
            let raw = fs::read(&lp).map_err(io_err(&lp))?;
            let lines = raw
                .chunks_exact(4)
                .map(|c| u32::from_le_bytes([c[0], c[1], c[2], c[3]]))
                .collect();
            fs::remove_file(&p).map_err(dataset::io(&p))?;
            fs::remove_file(&lp).map_err(dataset::io(&lp))?;
            Ok((bytes, lines))
        }
        Place::Runs { header, runs } => {
            use std::io::{Read, Seek, SeekFrom};
            let runs = &runs[s];
            let size: u64 = runs.iter().map(|r| r.end - r.start + 1).sum();
            let mut bytes = Vec::with_capacity(header.len() + 1 + size as usize);
            bytes.extend_from_slice(header);
            bytes.push(b'\n');
            let mut lines = Vec::with_capacity(runs.iter().map(|r| r.lines as usize).sum());
            if runs.is_empty() {
                return Ok((bytes, lines));
            }
            let mut file = fs::File::open(&f.path).map_err(io_err(&f.path))?;
            for r in runs {
                // Read into the vector's spare capacity (`read_to_end`): zeroing it
                // first, to overwrite it at once, was ~1% of a 10M ingest's CPU.
                let want = (r.end - r.start) as usize;
                file.seek(SeekFrom::Start(r.start))
                    .map_err(io_err(&f.path))?;
                let got = (&mut file)
                    .take(want as u64)
                    .read_to_end(&mut bytes)
                    .map_err(io_err(&f.path))?;
                if got != want {
                    return Err(io_err(&f.path)(std::io::ErrorKind::UnexpectedEof.into()));
                }
                if bytes.last() != Some(&b'\n') {
                    bytes.push(b'\n');
                }
                lines.extend(r.first_line..r.first_line + r.lines);
            }
            Ok((bytes, lines))
        }
    }
}

/// Adds a shard's counts of one file to the file's totals.
pub(super) fn add_stats(total: &mut FileStats, s: &FileStats) {
    total.rows_read += s.rows_read;
    total.accepted += s.accepted;
    total.rejected += s.rejected;
    total.superseded += s.superseded;
    total.duplicates += s.duplicates;
    total.blank_lines += s.blank_lines;
    for (k, v) in &s.rejected_by_reason {
        *total.rejected_by_reason.entry(k.clone()).or_default() += v;
    }
}
