//! Step 1, plan: the pedimento keys of the 501 rows cut into shard ranges, pedimentos that
//! look each other up kept together.

use super::*;

/// Column positions of the fields routing needs, from a file's header line.
pub(super) struct Cols {
    pub(super) own: Option<[usize; 3]>,
    /// 701: the anterior; 512: the original.
    pub(super) other: Option<[usize; 3]>,
    /// 512: `FechaOperacionOrig` (when empty, the original is looked up).
    pub(super) fecha_orig: Option<usize>,
}

pub(super) fn cols_of(header: &[u8], rtype: &str) -> Cols {
    let h = String::from_utf8_lossy(header.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(header));
    let cols: HashMap<String, usize> = h
        .trim_end_matches('\r')
        .split('|')
        .enumerate()
        .map(|(i, n)| (super::super::text::norm(n), i))
        .collect();
    let c = |n: &str| datastage::column_of(&cols, n);
    let three = |a: &str, p: &str, n: &str| Some([c(a)?, c(p)?, c(n)?]);
    let own = three("SeccionAduanera", "Patente", "Pedimento");
    let other = match rtype {
        "701" => three(
            "SeccionAduaneraAnterior",
            "PatenteAnterior",
            "PedimentoAnterior",
        ),
        "512" => three(
            "SeccionAduaneraDespOrig",
            "PatenteAduanalOrig",
            "PedimentoOriginal",
        ),
        _ => None,
    };
    Cols {
        own,
        other,
        fecha_orig: c("FechaOperacionOrig"),
    }
}

/// A pedimento's key from its three columns: aduana-sección (3 digits), patente (4) and
/// número (7) as one number (the order of the `PedimentoNumber` the parse uses). `None` when a
/// column is not a valid number: the parse rejects that row, wherever it lands.
pub(super) fn key(fields: &[&[u8]], c: [usize; 3]) -> Option<u64> {
    let num = |i: usize, n: usize| -> Option<u64> {
        let t = fields.get(i)?.trim_ascii();
        if t.is_empty() || t.len() > n || !t.iter().all(u8::is_ascii_digit) {
            return None;
        }
        Some(t.iter().fold(0u64, |a, d| a * 10 + u64::from(d - b'0')))
    };
    Some(num(c[0], 3)? * 100_000_000_000 + num(c[1], 4)? * 10_000_000 + num(c[2], 7)?)
}

pub(super) fn fields(line: &[u8]) -> smallvec::SmallVec<[&[u8]; 48]> {
    line.split(|b| *b == b'|').collect()
}

/// The key of a line from its columns `c`, splitting only the fields up to the last of
/// them (the split reads every line of the input).
pub(super) fn line_key(line: &[u8], c: [usize; 3]) -> Option<u64> {
    line_key_end(line, c).0
}

/// [`line_key`] and where the last of the key's fields ends (the offset of the `|` after
/// it; `None` when it is the line's last field): a line whose bytes up to that `|` equal
/// another's has the same key.
pub(super) fn line_key_end(line: &[u8], c: [usize; 3]) -> (Option<u64>, Option<usize>) {
    let last = c.iter().copied().max().unwrap_or(0);
    // Only the three fields, kept as they pass (a vector of every field was copied on
    // each call: 1% of a 10M ingest in memmove).
    let mut f: [&[u8]; 3] = [&[], &[], &[]];
    let mut seen = 0;
    let mut start = 0;
    let mut end_of_last = None;
    for (i, end) in super::super::text::Ends::new(line, b'|')
        .enumerate()
        .take(last + 1)
    {
        for (j, ci) in c.iter().enumerate() {
            if *ci == i {
                f[j] = &line[start..end];
                seen += 1;
            }
        }
        if i == last && end < line.len() {
            end_of_last = Some(end);
        }
        start = end + 1;
    }
    if seen < 3 {
        // A column past the line's end: `key` of the fields gives None too.
        return (None, None);
    }
    (key(&f, [0, 1, 2]), end_of_last)
}

/// Blank as `text::lines` + `str::trim` see it, decided on ASCII lines only: a line with
/// other bytes is routed, and the shard's parse (which knows the file's encoding) decides.
/// (`char::is_whitespace` of the ASCII range: `\t`, `\n`, VT, FF, `\r` and space; the
/// first other byte, usually the line's first, ends the scan.)
pub(super) fn ascii_blank(line: &[u8]) -> bool {
    line.iter().all(|b| crate::model::ascii_space(*b))
}

/// Which shard each pedimento key goes to.
pub(super) struct Plan {
    /// Lower bounds of shards 1..K (ascending).
    pub(super) bounds: Vec<u64>,
    /// Keys kept with another pedimento's shard.
    pub(super) pinned: crate::dataset::FxMap<u64, usize>,
}

impl Plan {
    pub(super) fn shards(&self) -> usize {
        self.bounds.len() + 1
    }

    pub(super) fn range(&self, k: u64) -> usize {
        self.bounds.partition_point(|b| *b <= k)
    }

    pub(super) fn shard(&self, k: Option<u64>) -> usize {
        match k {
            None => 0,
            Some(k) => self
                .pinned
                .get(&k)
                .copied()
                .unwrap_or_else(|| self.range(k)),
        }
    }
}

pub(super) fn find(parent: &mut HashMap<u64, u64>, k: u64) -> u64 {
    let mut r = k;
    while let Some(&p) = parent.get(&r) {
        if p == r {
            break;
        }
        r = p;
    }
    // Path compression.
    let mut x = k;
    while let Some(&p) = parent.get(&x) {
        if p == r {
            break;
        }
        parent.insert(x, r);
        x = p;
    }
    r
}

pub(super) fn plan(files: &[(&DsFile, String)], shards: usize) -> Result<Plan> {
    // Per file: the 501 keys, and the (row, looked-up pedimento) links of 701/512 rows.
    type Found = (Vec<u64>, Vec<(u64, u64)>);
    let per_file: Vec<Found> = files
        .par_iter()
        .filter(|(_, t)| matches!(t.as_str(), "501" | "701" | "512"))
        .map(|(f, rtype)| {
            let mut keys = vec![];
            let mut links = vec![];
            let mut cols = None;
            for_each_line(&f.path, None, |ln, line, _| {
                if ln == 1 {
                    cols = Some(cols_of(line, rtype));
                    return Ok(true);
                }
                let c = cols.as_ref().expect("header read first");
                let Some(own) = c.own else { return Ok(false) };
                if rtype == "501" {
                    // Only the key: split the fields up to its columns.
                    keys.extend(line_key(line, own));
                    return Ok(true);
                }
                let fs_ = fields(line);
                let Some(k) = key(&fs_, own) else {
                    return Ok(true);
                };
                match rtype.as_str() {
                    "701" => {
                        if let Some(o) = c.other.and_then(|o| key(&fs_, o)) {
                            links.push((k, o));
                        }
                    }
                    _ => {
                        let dated = c
                            .fecha_orig
                            .and_then(|i| fs_.get(i))
                            .is_some_and(|v| !v.trim_ascii().is_empty());
                        if !dated && let Some(o) = c.other.and_then(|o| key(&fs_, o)) {
                            links.push((k, o));
                        }
                    }
                }
                Ok(true)
            })?;
            Ok((keys, links))
        })
        .collect::<Result<_>>()?;
    let mut keys: Vec<u64> = per_file.iter().flat_map(|x| x.0.iter().copied()).collect();
    keys.par_sort_unstable();
    keys.dedup();
    let mut bounds: Vec<u64> = (1..shards)
        .filter_map(|i| keys.get(i * keys.len() / shards).copied())
        .collect();
    bounds.dedup();
    drop(keys);
    let mut plan = Plan {
        bounds,
        pinned: Default::default(),
    };
    // Linked pedimentos: one shard per connected group (the shard of its smallest key).
    let mut parent: HashMap<u64, u64> = HashMap::new();
    for (a, b) in per_file.iter().flat_map(|x| x.1.iter().copied()) {
        parent.entry(a).or_insert(a);
        parent.entry(b).or_insert(b);
        let (ra, rb) = (find(&mut parent, a), find(&mut parent, b));
        if ra != rb {
            let (lo, hi) = if ra < rb { (ra, rb) } else { (rb, ra) };
            parent.insert(hi, lo);
        }
    }
    let members: Vec<u64> = parent.keys().copied().collect();
    for k in members {
        let root = find(&mut parent, k);
        let s = plan.range(root);
        if s != plan.range(k) {
            plan.pinned.insert(k, s);
        }
    }
    Ok(plan)
}
