//! Sharded Data Stage ingest: bounded memory for inputs larger than the memory budget.
//!
//! The in-memory parse ([`datastage::parse`]) holds a run's whole input text and its rows
//! at once: its peak is several times the input's size. A larger input is cut by
//! pedimento into shards small enough to parse in memory, one after the other:
//!
//! 1. **plan**: the keys (aduana-sección, patente, número) of the 501 rows give K ranges
//!    with about as many pedimentos each (K = input bytes / shard bytes). Pedimentos whose
//!    parse looks another one up are kept in one shard with it: a 701 and the pedimento
//!    it rectifies (date and clave of the anterior), a 512 without `FechaOperacionOrig`
//!    and its original (year of the original).
//! 2. **split**: each file is streamed once; each data line goes to the shard of its
//!    pedimento. A file in pedimento order (the generator writes files so; whether SAT
//!    extracts always are is not verified) is not copied: the split keeps, per shard,
//!    the runs of consecutive lines it owns (byte range and first line number), and the
//!    shard parse reads them from the file. A file whose pedimentos are scattered (more
//!    than 64 runs per shard and 1 per 16 rows) is copied into one file per shard and
//!    record type (the header first), with each line's number in the original file on
//!    the side. Every record type of a pedimento is in its
//!    shard, so the parse of a shard is the parse of the whole input restricted to its
//!    pedimentos (ambiguous numbers, later requests and duplicates are all per pedimento
//!    number). A file's encoding is decided on the whole file.
//! 3. **parse**: shard by shard, the parse of [`datastage::parse_inputs`]. A year not in the
//!    dataset yet is written straight to its new partition ([`dataset::NewYearWriter`]);
//!    the rows of a year already there are staged as Parquet.
//! 4. **merge**: each year already in the dataset is merged with its staged rows
//!    ([`dataset::merge_year_rows`], streaming), one year at a time.
//!
//! Rows are never lost: per original file, rows read = accepted + rejected over the shards
//! (checked), and rejects name the original file and line.
//!
//! Layout: `plan.rs` (step 1), `split.rs` (step 2), this file (steps 3-4 and the driver).

mod plan;
mod split;

use crate::model::progress::{Message, ProgressHandle};
use plan::*;
use split::*;

use super::datastage::{self, Input};
use super::{FileStats, IngestError, Parsed, Result, YearCounts};
use crate::dataset::{self, NewRows, PedimentoRow, RejectRow};
use rayon::prelude::*;
use sha2::{Digest, Sha256};
use std::collections::{BTreeMap, HashMap, HashSet};
use std::fs;
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};

/// One Data Stage file of the run.
pub struct DsFile {
    pub path: PathBuf,
    /// SHA-256 (hex); `None` when [`super::run`] left it to the split's pass over the file
    /// (it could decide nothing: see `run`).
    pub hash: Option<String>,
    pub bytes: u64,
}

/// What a sharded ingest hands back to [`super::run`].
#[derive(Default)]
pub struct Outcome {
    pub files: Vec<FileStats>,
    pub rejects: Vec<RejectRow>,
    pub superseded: usize,
    pub years: BTreeMap<i32, YearCounts>,
    pub shards: usize,
}

fn io_err(path: &Path) -> impl FnOnce(std::io::Error) -> IngestError + '_ {
    move |source| IngestError::Read {
        path: path.to_path_buf(),
        source,
    }
}

/// Calls `f(line_number, line, byte_offset)` for each line of a file (1-based, `\n`
/// removed; a final empty line after the last `\n` is not a line, as in `text::lines`),
/// until `f` returns `false`. With a hasher, every byte of the file goes through it (also
/// after `f` stopped). The file is read in 1 MiB blocks and lines are slices of the block
/// (a line cut by the block's end is moved to the front of the next): no copy per line.
fn for_each_line(
    path: &Path,
    hasher: Option<&mut Sha256>,
    f: impl FnMut(usize, &[u8], u64) -> Result<bool>,
) -> Result<()> {
    lines_in_blocks(path, 1 << 20, hasher, f)
}

/// [`for_each_line`] with blocks of `block` bytes (small in tests: lines cut by blocks).
fn lines_in_blocks(
    path: &Path,
    block: usize,
    mut hasher: Option<&mut Sha256>,
    mut f: impl FnMut(usize, &[u8], u64) -> Result<bool>,
) -> Result<()> {
    use std::io::Read;
    let mut file = fs::File::open(path).map_err(io_err(path))?;
    let mut buf = vec![0u8; block.max(1)];
    // buf[start..end]: read, not yet handed to `f` (the start of a line).
    let (mut start, mut end) = (0usize, 0usize);
    let (mut ln, mut offset) = (0usize, 0u64);
    let mut open = true;
    loop {
        if start > 0 {
            buf.copy_within(start..end, 0);
            end -= start;
            start = 0;
        }
        if end == buf.len() {
            // One line longer than the block: grow it.
            buf.resize(buf.len() * 2, 0);
        }
        let n = match file.read(&mut buf[end..]) {
            Ok(n) => n,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(io_err(path)(e)),
        };
        if n == 0 {
            // The last line, without its `\n`.
            if open && end > start {
                f(ln + 1, &buf[start..end], offset)?;
            }
            return Ok(());
        }
        if let Some(h) = hasher.as_deref_mut() {
            h.update(&buf[end..end + n]);
        }
        let from = end;
        end += n;
        if !open {
            start = end;
            continue;
        }
        for i in memchr::memchr_iter(b'\n', &buf[from..end]) {
            let nl = from + i;
            ln += 1;
            if !f(ln, &buf[start..nl], offset)? {
                if hasher.is_none() {
                    return Ok(());
                }
                open = false;
                break;
            }
            offset += (nl + 1 - start) as u64;
            start = nl + 1;
        }
        if !open {
            start = end;
        }
    }
}

/// Ingests Data Stage files shard by shard into the dataset at `root` (see the module
/// documentation). `shard_bytes`: the input text parsed at once.
pub fn ingest(
    files: &[DsFile],
    root: &Path,
    shard_bytes: u64,
    workers: usize,
    progress: &ProgressHandle,
) -> Result<Outcome> {
    // size-exception: the plan, split, parse and merge steps share the run's
    // counters and staging folders; not yet cut into functions (follow-up of issue #21).
    let mut st = crate::timing::Stages::new("shards");
    // Shards free and allocate the same ~1 GB every second or two: keep freed pages.
    let _hold = crate::memory::hold_freed_pages(crate::memory::HOLD_MS);
    let typed: Vec<(&DsFile, String)> = files
        .iter()
        .map(|f| (f, datastage::record_type_of(&f.path).unwrap_or_default()))
        .collect();
    let used = |t: &str| datastage::USED.contains(&t);
    let total: u64 = typed
        .iter()
        .filter(|(_, t)| used(t))
        .map(|(f, _)| f.bytes)
        .sum();
    // `workers` shards are parsed at once: each gets its share of the budget.
    let workers = workers.max(1);
    let each = (shard_bytes / workers as u64).max(1);
    let want = total.div_ceil(each).max(1) as usize;
    let plan = plan(&typed, want)?;
    let n = plan.shards();
    progress.message(Message::Shards {
        bytes: total,
        shards: n,
        mb: (total / n as u64) >> 20,
    });
    st.mark("plan");
    let dir = root.join(format!(".tmp-shards-{}", std::process::id()));
    if dir.exists() {
        fs::remove_dir_all(&dir).map_err(dataset::io(&dir))?;
    }
    for s in 0..n {
        let d = dir.join(format!("{s:04}"));
        fs::create_dir_all(&d).map_err(dataset::io(&d))?;
    }
    let splits: Vec<Split> = typed
        .par_iter()
        .enumerate()
        .map(|(fi, (f, t))| split_file((f, t), fi, &plan, &dir, used(t)))
        .collect::<Result<_>>()?;
    let copied = splits
        .iter()
        .filter(|s| matches!(s.place, Some(Place::Copied)))
        .count();
    if copied > 0 {
        progress.message(Message::CopiedToShards { files: copied });
    }
    st.mark("split");

    // Per original file: stats as `load` would give them for the whole file.
    let mut out = Outcome {
        shards: n,
        ..Default::default()
    };
    let mut totals: Vec<FileStats> = typed
        .iter()
        .zip(&splits)
        .map(|((f, t), sp)| FileStats {
            file: f.path.display().to_string(),
            layout: format!(
                "datastage ({})",
                if sp.latin1 { "Latin-1" } else { "UTF-8" }
            ),
            record_type: t.clone(),
            bytes: f.bytes,
            sha256: hash_of(f, sp).to_string(),
            blank_lines: sp.blank,
            skipped: (!used(t)).then(|| {
                format!(
                    "record type {t} is not used by the dataset ({} rows)",
                    sp.rows
                )
            }),
            ..Default::default()
        })
        .collect();
    // Files that go through the shards: used record types with a header.
    let routed: Vec<usize> = (0..typed.len())
        .filter(|i| used(&typed[*i].1) && splits[*i].has_header)
        .collect();
    let stage = dir.join("stage");
    // Per year: staged files per table, and the new pedimentos without a new partida.
    let mut staged: BTreeMap<i32, [Vec<PathBuf>; 5]> = BTreeMap::new();
    let mut no_partidas: BTreeMap<i32, HashSet<String>> = BTreeMap::new();
    let mut fresh: BTreeMap<i32, dataset::NewYearWriter> = BTreeMap::new();
    // Shards are parsed `workers` at a time (each half the size one shard would be, so
    // memory stays within the budget): the parse has long sequential stages (501 headers,
    // keyed lookups, the year split) and two of them at once keep both cores busy. Their
    // rows are written in shard order, so the dataset is the same for any `workers`.
    let order: Vec<usize> = (0..n).collect();
    for group in order.chunks(workers) {
        let parsed: Vec<Result<Parsed>> = group
            .par_iter()
            .map(|&s| parse_shard(&dir, s, &routed, &typed, &splits, progress))
            .collect();
        st.mark(&format!("parse {}", group[0]));
        // Per shard of the group, in order: its years' rows.
        let mut by_shard: Vec<(usize, BTreeMap<i32, dataset::YearData>)> = vec![];
        for (&s, parsed) in group.iter().zip(parsed) {
            let mut parsed = parsed?;
            for (&fi, fs_) in routed.iter().zip(&parsed.files) {
                debug_assert_eq!(totals[fi].file, fs_.file);
                add_stats(&mut totals[fi], fs_);
            }
            out.rejects.append(&mut parsed.rejects);
            out.superseded += parsed.superseded;
            by_shard.push((s, std::mem::take(&mut parsed.years)));
        }
        // Years not in the dataset yet are written straight to their new partition.
        for (_, years) in &by_shard {
            for y in years.keys() {
                if !fresh.contains_key(y) && !staged.contains_key(y) {
                    if dataset::year_dir(root, *y).exists() {
                        staged.insert(*y, Default::default());
                    } else {
                        fresh.insert(*y, dataset::NewYearWriter::create(root, *y)?);
                    }
                }
            }
        }
        // The group's rows of each new year, in shard order: one task per year writes
        // them and drops them (dropping millions of rows was a serial step here).
        let mut to_fresh: BTreeMap<i32, Vec<dataset::YearData>> = BTreeMap::new();
        let mut to_stage: Vec<(usize, i32, dataset::YearData)> = vec![];
        for (s, years) in by_shard {
            for (y, data) in years {
                if fresh.contains_key(&y) {
                    to_fresh.entry(y).or_default().push(data);
                } else {
                    to_stage.push((s, y, data));
                }
            }
        }
        fresh
            .iter_mut()
            .filter_map(|(y, w)| to_fresh.remove(y).map(|d| (w, d)))
            .collect::<Vec<_>>()
            .into_par_iter()
            .try_for_each(|(w, parts)| parts.into_iter().try_for_each(|d| w.write(&d)))?;
        let written: Vec<(i32, [PathBuf; 5], HashSet<String>)> = to_stage
            .into_par_iter()
            .map(|(s, y, data)| stage_year(&stage, s, y, &data))
            .collect::<std::result::Result<_, dataset::DatasetError>>()?;
        for (y, paths, none) in written {
            let e = staged.entry(y).or_default();
            for (v, p) in e.iter_mut().zip(paths) {
                v.push(p);
            }
            no_partidas.entry(y).or_default().extend(none);
        }
        st.mark(&format!("write {}", group[0]));
        // No `memory::release` here: mimalloc reuses the freed pages for the next
        // group and purges what stays unused by itself; forcing the release made every
        // group fault its pages in again (sys time 4.5-5.7 s instead of 1.6-2.5 s, 1M).
    }

    for (y, w) in fresh {
        let (pedimentos, partidas) = (w.pedimentos, w.partidas);
        out.years
            .insert(y, YearCounts::of(pedimentos, partidas, w.finish()?));
    }
    // Merge each year with its staged rows: one year at a time (memory), streaming.
    for (y, [peds, parts, idents, descs, confl]) in &staged {
        let pedimentos = read_pedimentos(peds)?;
        let conflicts = read_pedimentos(confl)?;
        let npartidas = parts
            .iter()
            .map(|p| dataset::parquet_rows(p))
            .sum::<dataset::Result<usize>>()?;
        let npeds = pedimentos.len();
        let empty = HashSet::new();
        let none = no_partidas.get(y).unwrap_or(&empty);
        let stats = dataset::merge_year_rows(
            root,
            *y,
            pedimentos,
            conflicts,
            &|id: &str| !none.contains(id),
            [
                NewRows::Files(parts),
                NewRows::Files(idents),
                NewRows::Files(descs),
            ],
            &dataset::KeepOld::default(),
        )?;
        out.years
            .insert(*y, YearCounts::of(npeds, npartidas, stats));
    }
    st.mark("merge");
    fs::remove_dir_all(&dir).map_err(dataset::io(&dir))?;
    out.files = totals;
    Ok(out)
}

/// A file's SHA-256: given by [`super::run`], or computed by its split.
fn hash_of<'a>(f: &'a DsFile, sp: &'a Split) -> &'a str {
    f.hash
        .as_deref()
        .or(sp.hash.as_deref())
        .expect("a file is hashed before or during its split")
}

/// Reads shard `s`'s files (and their line numbers), parses them, checks the accounting
/// and dedupes each year's rows.
fn parse_shard(
    dir: &Path,
    s: usize,
    routed: &[usize],
    typed: &[(&DsFile, String)],
    splits: &[Split],
    progress: &ProgressHandle,
) -> Result<Parsed> {
    let bufs: Vec<(Vec<u8>, Vec<u32>)> = routed
        .iter()
        .map(|&fi| {
            let place = splits[fi]
                .place
                .as_ref()
                .expect("a routed file has a place");
            shard_text(dir, s, fi, typed[fi].0, place)
        })
        .collect::<Result<_>>()?;
    let inputs: Vec<Input> = routed
        .iter()
        .zip(&bufs)
        .map(|(&fi, (bytes, lines))| Input {
            path: &typed[fi].0.path,
            bytes,
            hash: hash_of(typed[fi].0, &splits[fi]),
            latin1: Some(splits[fi].latin1),
            lines: Some(lines),
        })
        .collect();
    let mut parsed = Parsed::default();
    datastage::parse_inputs_with(&inputs, &mut parsed, None, progress);
    drop(inputs);
    drop(bufs);
    parsed.check_accounting()?;
    for data in parsed.years.values_mut() {
        data.dedupe();
    }
    Ok(parsed)
}

/// Stages shard `s`'s rows of year `y` (a year already in the dataset) as Parquet under
/// `stage/year=Y/`; returns the files and the new pedimentos without a partida.
fn stage_year(
    stage: &Path,
    s: usize,
    y: i32,
    data: &dataset::YearData,
) -> dataset::Result<(i32, [PathBuf; 5], HashSet<String>)> {
    let ydir = stage.join(format!("year={y}"));
    fs::create_dir_all(&ydir).map_err(dataset::io(&ydir))?;
    let p = |t: &str| ydir.join(format!("{t}-{s:04}.parquet"));
    let with: HashSet<&str> = data
        .partidas
        .iter()
        .map(|p| p.pedimento_id.as_str())
        .collect();
    let none: HashSet<String> = data
        .pedimentos
        .iter()
        .filter(|h| !with.contains(h.pedimento_id.as_str()))
        .map(|h| h.pedimento_id.to_string())
        .collect();
    let paths = [
        p("pedimentos"),
        p("partidas"),
        p("identificadores"),
        p("descargos"),
        p("conflicts"),
    ];
    for ((t, path), b) in dataset::TABLES.iter().zip(&paths).zip(data.batches()?) {
        dataset::write_parquet(path, dataset::schema_of(t), &[b])?;
    }
    dataset::write_parquet(
        &paths[4],
        dataset::pedimentos_schema(),
        &[dataset::pedimentos_batch(&data.conflicts)?],
    )?;
    Ok((y, paths, none))
}

/// The header rows of staged Parquet files (pedimentos or conflicts).
fn read_pedimentos(files: &[PathBuf]) -> dataset::Result<Vec<PedimentoRow>> {
    let mut rows = vec![];
    for p in files {
        dataset::for_each_batch(p, |b| {
            rows.extend(dataset::pedimento_rows(&b)?);
            Ok(())
        })?;
    }
    Ok(rows)
}

#[cfg(test)]
mod tests {
    use super::*;

    proptest::proptest! {
        /// The key of a line from its three fields is the key of all its fields.
        #[test]
        fn line_key_is_the_key_of_the_split_line(
            line in "[0-9 |x]{0,30}",
            c in proptest::array::uniform3(0usize..8),
        ) {
            let b = line.as_bytes();
            proptest::prop_assert_eq!(line_key(b, c), key(&fields(b), c));
        }

        /// Where `line_key_end` says the key's fields end, a `|` follows them, and any
        /// line with the same bytes up to it has the same key (the split's fast path).
        #[test]
        fn lines_alike_up_to_the_key_end_have_its_key(
            line in "[0-9 |x]{0,30}",
            tail in "[0-9 |x]{0,10}",
            c in proptest::array::uniform3(0usize..8),
        ) {
            let b = line.as_bytes();
            let (k, end) = line_key_end(b, c);
            proptest::prop_assert_eq!(k, line_key(b, c));
            if let Some(e) = end {
                proptest::prop_assert_eq!(b[e], b'|');
                let other = [&b[..=e], tail.as_bytes()].concat();
                proptest::prop_assert_eq!(line_key(&other, c), k);
            }
        }
    }

    /// Lines cut by the block's end, longer than a block, CRLF, blank, and a last line
    /// without `\n`: the same lines, numbers and offsets as splitting the whole text, and
    /// the hash of every byte, also when the callback stops early.
    #[test]
    fn lines_read_in_blocks_are_the_lines_of_the_file() {
        let dir = tempfile::tempdir().unwrap();
        let text: &[u8] = b"h|a|b\r\n1|long line well past one block|x\n\n \t\n2|y\r\n\xf3|z\nlast";
        let path = dir.path().join("1_501.asc");
        fs::write(&path, text).unwrap();
        let mut want = vec![];
        let mut at = 0u64;
        for (i, l) in text.split(|b| *b == b'\n').enumerate() {
            want.push((i + 1, l.to_vec(), at));
            at += l.len() as u64 + 1;
        }
        let digest = format!("{:x}", Sha256::digest(text));
        for block in [1, 3, 7, 64, 1 << 20] {
            let mut got = vec![];
            let mut h = Sha256::new();
            lines_in_blocks(&path, block, Some(&mut h), |ln, l, off| {
                got.push((ln, l.to_vec(), off));
                Ok(true)
            })
            .unwrap();
            assert_eq!(got, want, "block {block}");
            assert_eq!(format!("{:x}", h.finalize()), digest, "block {block}");
            // Stopped after the second line: still the hash of the whole file.
            let (mut n, mut h) = (0, Sha256::new());
            lines_in_blocks(&path, block, Some(&mut h), |_, _, _| {
                n += 1;
                Ok(n < 2)
            })
            .unwrap();
            assert_eq!(n, 2, "block {block}");
            assert_eq!(format!("{:x}", h.finalize()), digest, "block {block}");
        }
        for l in ["", " ", "\t \r", "\x0b\x0c"] {
            assert!(ascii_blank(l.as_bytes()), "{l:?}");
            assert!(l.trim().is_empty());
        }
        for l in ["x", " x ", "\u{a0}", "\u{2003}"] {
            assert!(!ascii_blank(l.as_bytes()), "{l:?}");
        }
    }

    /// A shard's text and the line numbers of its data lines.
    type ShardText = (Vec<u8>, Vec<u32>);

    /// A 501 file of `n` pedimentos (keys in `order`), a blank line in the middle, and
    /// its split into 4 shards; returns the shard texts and whether the file was copied.
    fn split_501(order: &[u32]) -> (Vec<ShardText>, bool) {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("2024001_501.asc");
        let mut text = b"Patente|Pedimento|SeccionAduanera|Rfc|\n".to_vec();
        for (i, k) in order.iter().enumerate() {
            if i == order.len() / 2 {
                text.extend_from_slice(b" \n");
            }
            text.extend_from_slice(
                format!("3001|{}|070|AAA010101AAA|\n", 4_000_000 + k).as_bytes(),
            );
        }
        text.pop(); // the last line without its '\n'
        fs::write(&path, &text).unwrap();
        let f = DsFile {
            path,
            hash: Some(String::new()),
            bytes: text.len() as u64,
        };
        let typed = [(&f, "501".to_string())];
        let plan = plan(&typed, 4).unwrap();
        assert_eq!(plan.shards(), 4);
        let tmp = dir.path().join("shards");
        for s in 0..4 {
            fs::create_dir_all(tmp.join(format!("{s:04}"))).unwrap();
        }
        let sp = split_file((&f, "501"), 0, &plan, &tmp, true).unwrap();
        assert_eq!((sp.rows, sp.blank), (order.len(), 1));
        let place = sp.place.unwrap();
        let copied = matches!(place, Place::Copied);
        let texts = (0..4)
            .map(|s| shard_text(&tmp, s, 0, &f, &place).unwrap())
            .collect();
        (texts, copied)
    }

    /// Lines of every shard, as (line number, line), sorted.
    fn lines_of(texts: &[ShardText]) -> Vec<(u32, String)> {
        let mut v: Vec<(u32, String)> = texts
            .iter()
            .flat_map(|(t, ln)| {
                let s = String::from_utf8(t.clone()).unwrap();
                let body: Vec<String> = s.lines().skip(1).map(str::to_string).collect();
                assert_eq!(body.len(), ln.len());
                ln.iter().copied().zip(body).collect::<Vec<_>>()
            })
            .collect();
        v.sort();
        v
    }

    #[test]
    fn a_file_in_pedimento_order_is_read_in_place_and_a_scattered_one_copied() {
        let n = 4000u32;
        let sorted: Vec<u32> = (0..n).collect();
        // A fixed permutation: every pedimento's neighbour is far away.
        let scattered: Vec<u32> = (0..n).map(|i| (i * 2_999) % n).collect();
        let (in_place, copied) = split_501(&sorted);
        assert!(!copied, "a sorted file is read in place");
        let (moved, copied) = split_501(&scattered);
        assert!(copied, "a scattered file is copied");
        for texts in [&in_place, &moved] {
            // Every shard starts with the header; each line once, with its line number.
            assert!(texts.iter().all(|(t, _)| t.starts_with(b"Patente|")));
            let lines = lines_of(texts);
            assert_eq!(lines.len(), n as usize);
            let first = &lines[0];
            assert_eq!(first.0, 2);
        }
        // Sorted: shard s holds the s-th quarter of the keys, the blank line skipped.
        let l = lines_of(&in_place);
        assert_eq!(
            l[(n / 2) as usize].0,
            n / 2 + 3,
            "line numbers skip the blank line"
        );
        assert!(
            l.iter().all(|(_, t)| t.ends_with('|')),
            "the last line is complete"
        );
        let sizes: Vec<usize> = in_place.iter().map(|(_, ln)| ln.len()).collect();
        assert_eq!(sizes, vec![1000; 4]);
    }
}
