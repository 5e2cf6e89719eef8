//! The project's flat CSV layout: one row per partida, header fields repeated on every
//! row of a pedimento (what spreadsheets and broker systems export). Comma-separated,
//! RFC 4180 quoting, UTF-8 or Latin-1, header row required, columns matched by name.
//! The columns are documented in `docs/schema.md` ("CSV layout").
//!
//! Layout: `row.rs` (the columns and one record's parse), `read.rs` (the records, a batch
//! at a time, parsed in parallel), this file (files, quoting, lines, and one file's
//! records through [`parse_with`]'s steps).

mod read;
mod row;

use read::*;
pub use row::*;

use super::{FileStats, Parsed, text};
use crate::dataset::{
    DescargoRow, FxMap, IdentificadorRow, PartidaRow, PedimentoRow, RejectRow, Text, same_partida,
};
use crate::model::{
    self, FieldError, FieldResult, MONEY_SCALE, QTY_SCALE, RATE_SCALE, RejectReason, Separator,
};
use rayon::prelude::*;
use rust_decimal::Decimal;
use std::collections::{HashMap, HashSet};
use std::path::Path;

/// A HashSet with [`crate::dataset::Fx`] hashing.
type FxSet<T> = HashSet<T, std::hash::BuildHasherDefault<crate::dataset::Fx>>;

/// A record as the reject's `raw` text: its fields joined by commas, up to 500 chars.
fn raw_of(r: &csv::StringRecord) -> String {
    r.iter()
        .collect::<Vec<_>>()
        .join(",")
        .chars()
        .take(500)
        .collect()
}

/// Parses one CSV file into `parsed` (multi-line quoted fields rejected).
pub fn parse(path: &Path, bytes: &[u8], hash: &str, parsed: &mut Parsed) {
    parse_with(path, bytes, hash, &CsvOptions::default(), parsed)
}

/// How the CSV layout is read.
#[derive(Debug, Clone, Copy, Default)]
pub struct CsvOptions {
    /// Accept a quoted field with line breaks (RFC 4180 allows it). Off by default: an
    /// unclosed quote swallows the following lines into one field, and the merged record
    /// can have the right field count; every physical line of such a record is then
    /// rejected on its own, naming the field.
    pub multiline: bool,
}

/// The physical lines of a record: `span` is the text from its first byte to the next
/// record's; trailing empty lines (skipped by the reader) are not the record's.
fn record_lines(span: &str) -> Vec<(usize, &str)> {
    let mut v = text::lines(span);
    while v.last().is_some_and(|(_, l)| l.is_empty()) {
        v.pop();
    }
    if v.is_empty() {
        v.push((1, ""));
    }
    v
}

/// Whether a CR not followed by LF is in `t`.
fn has_lone_cr(t: &str) -> bool {
    let b = t.as_bytes();
    b.iter()
        .enumerate()
        .any(|(i, c)| *c == b'\r' && b.get(i + 1) != Some(&b'\n'))
}

/// Parses one CSV file into `parsed`, per `opts`.
///
/// Accounting on physical lines: every line after the header is a blank line, a line of
/// an accepted record or a rejected line (`lines = blank_lines + rows_read +
/// joined_lines`, `joined_lines` being the continuation lines of multi-line records
/// accepted with [`CsvOptions::multiline`]).
///
/// Steps: the header's columns and the records ([`Records`]), read a batch at a time,
/// each batch's records parsed in parallel ([`parse_batch`]), then in file order checked
/// ([`FileRead::record`]) and kept or deduplicated ([`FileRead::keep`]); the pedimentos
/// whose totals overflow rejected ([`FileRead::reject_overflow`]), and the rows handed to
/// `parsed` ([`FileRead::finish`]).
pub fn parse_with(path: &Path, bytes: &[u8], hash: &str, opts: &CsvOptions, parsed: &mut Parsed) {
    let file = path.display().to_string();
    let (txt, enc) = text::decode(bytes);
    // A lone CR ends a line for the CSV reader (old Mac files): made an LF, so records,
    // their line numbers and the physical lines counted here all agree.
    let txt: std::borrow::Cow<str> = if txt.contains('\r') && has_lone_cr(&txt) {
        std::borrow::Cow::Owned(txt.replace("\r\n", "\n").replace('\r', "\n"))
    } else {
        txt
    };
    let stats = FileStats {
        file: file.clone(),
        layout: format!("csv ({enc})"),
        record_type: "partida".into(),
        bytes: bytes.len() as u64,
        sha256: hash.into(),
        ..Default::default()
    };
    let Some((columns, mut records)) = Records::of(&txt) else {
        parsed.files.push(stats); // empty file: nothing read
        return;
    };
    parsed.files.push(stats);
    // (`text::lines(txt).len()`, counted without building the list.)
    let total_lines = memchr::memchr_iter(b'\n', txt.as_bytes()).count()
        + usize::from(!txt.is_empty() && !txt.ends_with('\n'));
    let mut f = FileRead::new(file, &txt, columns);
    // At most a partida a line: the rows and their index never grow (nor move) again.
    f.partidas.reserve(total_lines);
    f.pindex.reserve(total_lines);
    let mut batch = Batch::default();
    let mut k = 0;
    let mut first = None;
    loop {
        let item = records.next();
        let at = item.as_ref().map_or(txt.len(), |i| i.byte());
        first.get_or_insert(at);
        batch.end_last(at);
        if batch.rows.len() == BATCH || item.is_none() {
            let pre = parse_batch(&f, &batch);
            for ((ln, start, end, slot), pre) in batch.rows.drain(..).zip(pre) {
                let span = txt.get(start..end.max(start)).unwrap_or("");
                match (pre, slot.map(|i| &batch.recs[i])) {
                    (Some(p), Ok(r)) => {
                        f.read += 1;
                        f.parsed_row(parsed, k, ln, &[(1, single_line(span))], r, p)
                    }
                    (_, r) => f.record(parsed, opts, k, ln, &record_lines(span), r),
                }
                k += 1;
            }
            batch.used = 0;
        }
        match item {
            None => break,
            Some(Item::Blank(_)) => {}
            Some(Item::Row(ln, b, res)) => batch.push(ln, b, res, &mut records.rec),
        }
    }
    // Physical lines after the header record.
    let first = first.unwrap_or(txt.len());
    let header_lines = record_lines(txt.get(..first).unwrap_or("")).len();
    if let Some(st) = parsed.files.iter_mut().find(|x| x.file == f.file) {
        st.lines = total_lines.saturating_sub(header_lines);
    }
    let mut rows = f.take_rows();
    f.reject_overflow(parsed, &mut rows);
    f.finish(parsed, rows);
}

/// The header's columns, resolved by name.
struct Columns {
    /// Each [`Col`]'s position in the header.
    pos: [Option<usize>; NCOLS],
    /// Column names by index (trimmed, lowercase).
    names: Vec<String>,
    /// Required columns the header lacks.
    missing: Vec<&'static str>,
    ncols: usize,
    /// A one-column header with another separator in it.
    hint: Option<Separator>,
}

impl Columns {
    fn of(header: &csv::StringRecord) -> Columns {
        let cols: HashMap<String, usize> = header
            .iter()
            .enumerate()
            .map(|(i, n)| (n.trim().to_lowercase(), i))
            .collect();
        let names: Vec<String> = header.iter().map(|n| n.trim().to_lowercase()).collect();
        let missing: Vec<&'static str> = REQUIRED
            .iter()
            .copied()
            .filter(|c| !cols.contains_key(*c))
            .collect();
        let mut pos = [None; NCOLS];
        for (p, c) in pos.iter_mut().zip(Col::all()) {
            *p = cols.get(c.name()).copied();
        }
        let ncols = header.len();
        // A one-column header with another separator in it: say so (spreadsheets in
        // Spanish locales save CSV with ';').
        let hint = match header.get(0) {
            Some(h) if ncols == 1 && h.contains(';') => Some(Separator::Semicolon),
            Some(h) if ncols == 1 && h.contains('\t') => Some(Separator::Tab),
            _ => None,
        };
        Columns {
            pos,
            names,
            missing,
            ncols,
            hint,
        }
    }

    /// The name of column `i` (0-based), or `field N` past the header.
    fn name(&self, i: usize) -> String {
        self.names
            .get(i)
            .cloned()
            .unwrap_or_else(|| format!("field {}", i + 1))
    }
}

/// One CSV file being read: its text and columns, and what its records gave so far.
struct FileRead<'t> {
    file: String,
    txt: &'t str,
    cols: Columns,
    /// Rows read (records, or each line of a rejected multi-line record).
    read: usize,
    /// Continuation lines of accepted multi-line records.
    joined: usize,
    accepted: usize,
    /// Each pedimento's header, from the first record that gave it (with its line).
    headers: FxMap<String, (PedimentoRow, usize)>,
    /// Pedimentos in the order of their first record.
    order: Vec<String>,
    /// The partidas kept so far. (Kept in a vector beside an index: a map of whole rows moved every row on each
    /// resize, and zeroed fresh pages for it, the most of a large file's parse.)
    partidas: Vec<PartidaRow>,
    /// (pedimento, partida) -> (index in `partidas`, index of the record that gave it).
    pindex: FxMap<(Text, i32), (usize, usize)>,
    /// Descargos and identificadores with the record that gave them: a record replaced
    /// by a later one of the same partida (or repeating it) gives none. In record order.
    descargos: Vec<(usize, DescargoRow)>,
    idents: Vec<(usize, IdentificadorRow)>,
    /// Records whose partida a later record replaced.
    dead: FxSet<usize>,
    /// Earlier versions of a partida replaced by a later, different row of this file.
    replaced: Vec<PartidaRow>,
    /// Accepted rows not stored again (a repeat or an earlier version), per pedimento.
    dup_of: FxMap<Text, usize>,
    /// Every accepted record, to reject a whole pedimento: (line, pedimento, byte range
    /// of its first line, continuation lines).
    recs: Vec<(usize, Text, (usize, usize), usize)>,
}

/// The rows a file's accepted records gave, with the pedimentos' totals.
struct FileRows {
    partidas: Vec<PartidaRow>,
    /// (pedimento, partida) -> (index in `partidas`, record).
    index: FxMap<(Text, i32), (usize, usize)>,
    descargos: Vec<DescargoRow>,
    idents: Vec<IdentificadorRow>,
    totals: crate::dataset::Totals,
}

impl<'t> FileRead<'t> {
    fn new(file: String, txt: &'t str, cols: Columns) -> FileRead<'t> {
        FileRead {
            file,
            txt,
            cols,
            read: 0,
            joined: 0,
            accepted: 0,
            headers: FxMap::default(),
            order: vec![],
            partidas: vec![],
            pindex: FxMap::default(),
            descargos: vec![],
            idents: vec![],
            dead: FxSet::default(),
            replaced: vec![],
            dup_of: FxMap::default(),
            recs: vec![],
        }
    }

    fn reject(
        &self,
        parsed: &mut Parsed,
        ln: usize,
        field: &str,
        reason: RejectReason,
        raw: String,
    ) {
        parsed.reject(RejectRow {
            source_file: self.file.clone(),
            line: ln as i64,
            record_type: "partida".into(),
            field: field.into(),
            reason,
            raw,
        })
    }

    /// Rejects a record counted as read; a multi-line record (allowed) is rejected line
    /// by line, each of its lines counted.
    fn reject_record(
        &mut self,
        parsed: &mut Parsed,
        ln: usize,
        lines: &[(usize, &str)],
        field: &str,
        reason: RejectReason,
        raw: String,
    ) {
        if lines.len() == 1 {
            return self.reject(parsed, ln, field, reason, raw);
        }
        self.read -= 1;
        for &(i, l) in lines {
            if !l.trim().is_empty() {
                self.read += 1;
                let raw = l.chars().take(500).collect();
                self.reject(parsed, ln + i - 1, field, reason.clone(), raw);
            }
        }
    }

    /// One record (`k`-th, at line `ln`, of physical `lines`): rejected with its reason,
    /// or parsed and kept ([`FileRead::keep`]).
    fn record(
        &mut self,
        parsed: &mut Parsed,
        opts: &CsvOptions,
        k: usize,
        ln: usize,
        lines: &[(usize, &str)],
        r: Result<&csv::StringRecord, RejectReason>,
    ) {
        let r = match r {
            Ok(r) => r,
            Err(e) => {
                for &(i, l) in lines {
                    self.read += 1;
                    let raw = l.chars().take(500).collect();
                    self.reject(parsed, ln + i - 1, "", e.clone(), raw);
                }
                return;
            }
        };
        let ncols = self.cols.ncols;
        // A record spanning several lines comes from a quoted field with a line break:
        // legitimate only when allowed and the record is well formed; else an unclosed or
        // stray quote may have swallowed the following lines. Then every physical line
        // is read and rejected on its own, so none disappears from the accounting.
        if lines.len() > 1 {
            let field = r
                .iter()
                .position(|f| f.contains('\n') || f.contains('\r'))
                .map(|i| self.cols.name(i))
                .unwrap_or_default();
            let last = ln + lines.len() - 1;
            let well_formed = r.len() == ncols && self.cols.missing.is_empty();
            if !(opts.multiline && well_formed) {
                let reason = if well_formed {
                    RejectReason::QuotedFieldSpansLines {
                        field: field.clone(),
                        first: ln,
                        last,
                    }
                } else {
                    RejectReason::UnclosedQuote {
                        first: ln,
                        last,
                        fields: r.len(),
                        header: ncols,
                        field: field.clone(),
                    }
                };
                for &(i, l) in lines {
                    if l.trim().is_empty() {
                        continue; // an empty line inside the quote: a blank line
                    }
                    self.read += 1;
                    let raw = l.chars().take(500).collect();
                    self.reject(parsed, ln + i - 1, &field, reason.clone(), raw);
                }
                return;
            }
        }
        self.read += 1;
        if !self.cols.missing.is_empty() {
            let field = self.cols.missing.join(",");
            let reason = RejectReason::MissingColumns {
                columns: self.cols.missing.iter().map(|c| c.to_string()).collect(),
                hint: self.cols.hint,
            };
            return self.reject_record(parsed, ln, lines, &field, reason, raw_of(r));
        }
        if r.len() != ncols {
            // Quotes that change the field count: split at every comma the line has the
            // header's count, read with its quotes it has not (a stray or unbalanced
            // quote took separators into a field). Say which field.
            let line = lines.first().map(|x| x.1).unwrap_or("");
            let naive = line.split(',').count();
            let quoted = r
                .iter()
                .position(|f| f.contains(','))
                .filter(|_| line.contains('"') && naive == ncols);
            if let Some(i) = quoted {
                let name = self.cols.name(i);
                let reason = RejectReason::QuotesSplitField {
                    index: i + 1,
                    name: name.clone(),
                    fields: r.len(),
                    parts: naive,
                    header: ncols,
                };
                return self.reject_record(parsed, ln, lines, &name, reason, raw_of(r));
            }
        }
        let (fields, header) = (r.len(), ncols);
        if fields < header {
            let reason = RejectReason::TruncatedLine { fields, header };
            return self.reject_record(parsed, ln, lines, "", reason, raw_of(r));
        }
        if fields > header {
            let reason = RejectReason::TooManyFields { fields, header };
            return self.reject_record(parsed, ln, lines, "", reason, raw_of(r));
        }
        let rec = Rec {
            pos: &self.cols.pos,
            r,
        };
        let out = parse_row(&rec, &self.file, ln);
        self.parsed_row(parsed, k, ln, lines, r, out)
    }

    /// A well-formed record (already counted as read) and its parse: rejected with the
    /// failing field, or kept ([`FileRead::keep`]).
    fn parsed_row(
        &mut self,
        parsed: &mut Parsed,
        k: usize,
        ln: usize,
        lines: &[(usize, &str)],
        r: &csv::StringRecord,
        out: Result<RowOut, Fail>,
    ) {
        match out {
            Err((field, reason)) => {
                self.reject_record(parsed, ln, lines, &field, reason, raw_of(r))
            }
            Ok(out) => self.keep(parsed, k, ln, lines, out, r),
        }
    }

    /// A parsed record: rejected when its header fields contradict an earlier record of
    /// its pedimento; counted once when it repeats an earlier record of its partida;
    /// replacing the earlier one (kept as a conflict) when it differs.
    fn keep(
        &mut self,
        parsed: &mut Parsed,
        k: usize,
        ln: usize,
        lines: &[(usize, &str)],
        out: RowOut,
        r: &csv::StringRecord,
    ) {
        let id = out.partida.pedimento_id.clone();
        if let Some((h, first)) = self.headers.get(id.as_str()) {
            let same = h.rfc == out.header.rfc
                && h.clave_declarada == out.header.clave_declarada
                && h.fecha_pago == out.header.fecha_pago
                && h.tipo_operacion == out.header.tipo_operacion;
            if !same {
                let reason = RejectReason::InconsistentHeader { first_line: *first };
                return self.reject_record(parsed, ln, lines, "pedimento", reason, raw_of(r));
            }
        } else {
            self.order.push(out.header.pedimento_id.to_string());
            self.headers
                .insert(out.header.pedimento_id.to_string(), (out.header, ln));
        }
        self.accepted += 1;
        self.joined += lines.len() - 1;
        let first = lines.first().map_or("", |l| l.1);
        let at = (first.as_ptr() as usize).wrapping_sub(self.txt.as_ptr() as usize);
        self.recs.push((
            ln,
            id.clone(),
            (at, at.wrapping_add(first.len())),
            lines.len() - 1,
        ));
        let key = (id, out.partida.partida);
        let (descargos, idents) = (&self.descargos, &self.idents);
        let same_extras = |j: usize| {
            // (Both lists are in record order: record `j`'s rows are one run of each.)
            let d = descargos.partition_point(|x| x.0 < j)..descargos.partition_point(|x| x.0 <= j);
            let d: Vec<_> = descargos[d].iter().map(|x| &x.1).collect();
            let i = idents.partition_point(|x| x.0 < j)..idents.partition_point(|x| x.0 <= j);
            let i: Vec<_> = idents[i].iter().map(|x| &x.1).collect();
            let strip_d = |x: &DescargoRow| {
                (
                    x.original_id.clone(),
                    x.original_fraccion.clone(),
                    x.unidad_medida.clone(),
                    x.cantidad,
                )
            };
            let strip_i = |x: &IdentificadorRow| {
                (
                    x.partida,
                    x.clave.clone(),
                    x.complemento1.clone(),
                    x.complemento2.clone(),
                    x.complemento3.clone(),
                )
            };
            d.iter()
                .map(|x| strip_d(x))
                .eq(out.descargo.iter().map(strip_d))
                && i.iter()
                    .map(|x| strip_i(x))
                    .eq(out.idents.iter().map(strip_i))
        };
        match self.pindex.get(&key).copied() {
            Some((at, j)) if same_partida(&self.partidas[at], &out.partida) && same_extras(j) => {
                // The same row again: stored once, counted.
                *self.dup_of.entry(key.0).or_default() += 1;
                return;
            }
            Some((at, j)) => {
                // Another version of the partida: the later row wins, the earlier is a
                // conflict (DATA-CONFLICT), never dropped silently.
                self.dead.insert(j);
                *self.dup_of.entry(key.0.clone()).or_default() += 1;
                let old = std::mem::replace(&mut self.partidas[at], out.partida);
                self.replaced.push(old);
                self.pindex.insert(key, (at, k));
            }
            None => {
                self.pindex.insert(key, (self.partidas.len(), k));
                self.partidas.push(out.partida);
            }
        }
        self.descargos.extend(out.descargo.map(|d| (k, d)));
        self.idents.extend(out.idents.into_iter().map(|i| (k, i)));
    }

    /// The rows of the records kept (not replaced by a later record), with the totals.
    fn take_rows(&mut self) -> FileRows {
        let dead = &self.dead;
        let descargos: Vec<DescargoRow> = std::mem::take(&mut self.descargos)
            .into_iter()
            .filter(|x| !dead.contains(&x.0))
            .map(|x| x.1)
            .collect();
        let idents: Vec<IdentificadorRow> = std::mem::take(&mut self.idents)
            .into_iter()
            .filter(|x| !dead.contains(&x.0))
            .map(|x| x.1)
            .collect();
        let partidas = std::mem::take(&mut self.partidas);
        let index = std::mem::take(&mut self.pindex);
        let totals = crate::dataset::header_totals(&partidas);
        FileRows {
            partidas,
            index,
            descargos,
            idents,
            totals,
        }
    }

    /// Totals that do not fit DECIMAL(18,2): the pedimento is rejected, every record of it
    /// (a wrapped total would be stored otherwise).
    fn reject_overflow(&mut self, parsed: &mut Parsed, rows: &mut FileRows) {
        let overflow: HashMap<String, &'static str> = rows
            .totals
            .iter()
            .filter_map(|(id, t)| crate::dataset::total_overflow(t).map(|c| (id.clone(), c)))
            .collect();
        if overflow.is_empty() {
            return;
        }
        let mut recs = std::mem::take(&mut self.recs);
        recs.sort_by_key(|r| r.0);
        for (ln, id, (s, e), extra) in recs {
            let raw: String = self.txt.get(s..e).unwrap_or("").chars().take(500).collect();
            if let Some(col) = overflow.get(id.as_str()) {
                self.accepted -= 1;
                let reason = RejectReason::TotalOverflow {
                    column: col.to_string(),
                    pedimento: id.to_string(),
                };
                self.reject(parsed, ln, col, reason.clone(), raw);
                // The continuation lines of a multi-line record: rejected with it.
                for l in ln + 1..=ln + extra {
                    self.joined -= 1;
                    self.read += 1;
                    self.reject(parsed, l, col, reason.clone(), String::new());
                }
            }
        }
        for id in overflow.keys() {
            self.headers.remove(id);
            rows.totals.remove(id);
            self.dup_of.remove(id.as_str());
        }
        self.order.retain(|id| !overflow.contains_key(id));
        rows.partidas
            .retain(|p| !overflow.contains_key(p.pedimento_id.as_str()));
        rows.index = (rows.partidas.iter().enumerate())
            .map(|(i, p)| ((p.pedimento_id.clone(), p.partida), (i, 0)))
            .collect();
        rows.descargos
            .retain(|d| !overflow.contains_key(&d.pedimento_id));
        rows.idents
            .retain(|i| !overflow.contains_key(&i.pedimento_id));
        self.replaced
            .retain(|p| !overflow.contains_key(p.pedimento_id.as_str()));
    }

    /// The file's counts, and its rows into `parsed`: headers with their totals (and the
    /// header of an identificador), an earlier file's version of a pedimento replaced,
    /// the earlier versions of a partida as conflicts.
    fn finish(mut self, parsed: &mut Parsed, rows: FileRows) {
        let file = self.file.clone();
        let FileRows {
            partidas,
            index,
            descargos,
            idents,
            totals,
        } = rows;
        parsed.accept(&file, self.accepted);
        if let Some(f) = parsed.files.iter_mut().find(|f| f.file == file) {
            f.rows_read = self.read;
            f.joined_lines = self.joined;
            f.blank_lines = f.lines.saturating_sub(self.read + self.joined);
            f.duplicates += self.dup_of.values().sum::<usize>();
            f.conflicts += self.replaced.len();
        }
        let op_dates: HashMap<String, chrono::NaiveDate> = self
            .headers
            .iter()
            .map(|(k, (h, _))| (k.clone(), h.fecha_operacion))
            .collect();
        // Identificadores also fill the header (IM program, virtual counterpart).
        for i in idents.iter().filter(|i| i.partida.is_none()) {
            if let Some((h, _)) = self.headers.get_mut(&i.pedimento_id) {
                super::datastage::apply_identifier(
                    h,
                    &i.clave,
                    i.complemento1.as_deref(),
                    i.complemento2.as_deref(),
                );
            }
        }
        // A pedimento already read from an earlier file of this run: this (later) file's
        // version wins. Its earlier partidas, identificadores and descargos are dropped
        // (counted as duplicates of the earlier file); the earlier header stays for
        // `YearData::dedupe`, which keeps it as a conflict when it differs.
        let here: HashSet<&str> = self.order.iter().map(String::as_str).collect();
        let mut dropped: HashMap<String, usize> = HashMap::new();
        for y in parsed.years.values_mut() {
            let src: HashMap<&str, &String> = y
                .pedimentos
                .iter()
                .filter(|p| here.contains(p.pedimento_id.as_str()))
                .map(|p| (p.pedimento_id.as_str(), &p.source_file))
                .collect();
            if src.is_empty() {
                continue;
            }
            y.partidas
                .retain(|p| match src.get(p.pedimento_id.as_str()) {
                    Some(f) => {
                        *dropped.entry((*f).clone()).or_default() += 1;
                        false
                    }
                    None => true,
                });
            y.identificadores
                .retain(|i| !src.contains_key(i.pedimento_id.as_str()));
            y.descargos
                .retain(|d| !src.contains_key(d.pedimento_id.as_str()));
        }
        for f in parsed.files.iter_mut() {
            if let Some(n) = dropped.get(&f.file) {
                f.duplicates += n;
            }
        }
        let mut replaced_of: HashMap<String, Vec<PartidaRow>> = HashMap::new();
        for p in std::mem::take(&mut self.replaced) {
            replaced_of
                .entry(p.pedimento_id.to_string())
                .or_default()
                .push(p);
        }
        for id in std::mem::take(&mut self.order) {
            let (mut h, _) = self.headers.remove(&id).unwrap();
            h.set_totals(&totals);
            if let Some(ant) = &h.rectifica_id {
                parsed.supersede(&file);
                if let Some(d) = op_dates.get(ant.as_str()) {
                    h.fecha_operacion = *d;
                }
            }
            // A partida given twice with different content: the pedimento as the earlier
            // row had it is a conflict (its totals with that row), named by the row's line.
            for old in replaced_of.remove(&id).unwrap_or_default() {
                let kept = &partidas[index[&(Text::from(id.as_str()), old.partida)].0];
                let mut c = h.clone();
                let sub = |t: Decimal, k: Decimal, o: Decimal| {
                    t.checked_sub(k).and_then(|x| x.checked_add(o)).unwrap_or(t)
                };
                c.valor_dolares = sub(h.valor_dolares, kept.valor_dolares, old.valor_dolares);
                c.valor_aduana = sub(h.valor_aduana, kept.valor_aduana, old.valor_aduana);
                c.valor_comercial =
                    sub(h.valor_comercial, kept.valor_comercial, old.valor_comercial);
                c.source_line = old.source_line;
                parsed.years.entry(c.year).or_default().conflicts.push(c);
            }
            parsed.years.entry(h.year).or_default().pedimentos.push(h);
        }
        let mut ps = partidas;
        // (Each (pedimento, partida) once: the unstable sort gives the one order.)
        ps.par_sort_unstable_by(|a, b| {
            (&a.pedimento_id, a.partida).cmp(&(&b.pedimento_id, b.partida))
        });
        parsed.push_by_year(ps, idents, descargos);
    }
}
