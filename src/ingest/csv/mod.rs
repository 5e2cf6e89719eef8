//! The project's flat CSV layout: one row per partida, header fields repeated on every
//! row of a pedimento (what spreadsheets and broker systems export). Comma-separated,
//! RFC 4180 quoting, UTF-8 or Latin-1, header row required, columns matched by name.
//! The columns are documented in `docs/schema.md` ("CSV layout").
//!
//! Layout: `row.rs` (the columns and one record's parse), this file (files, quoting, lines).

mod row;

pub use row::*;

use super::{FileStats, Parsed, text};
use crate::dataset::{
    DescargoRow, IdentificadorRow, PartidaRow, PedimentoRow, RejectRow, same_partida,
};
use crate::model::{
    self, FieldError, FieldResult, MONEY_SCALE, QTY_SCALE, RATE_SCALE, RejectReason, Separator,
};
use rust_decimal::Decimal;
use std::collections::HashMap;
use std::path::Path;

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
pub fn parse_with(path: &Path, bytes: &[u8], hash: &str, opts: &CsvOptions, parsed: &mut Parsed) {
    // size-exception: one pass over the records with the per-pedimento dedupe state
    // in locals; not yet cut into functions (left for a follow-up of issue #21).
    let file = path.display().to_string();
    let (txt, enc) = text::decode(bytes);
    // A lone CR ends a line for the CSV reader (old Mac files): made an LF, so records,
    // their line numbers and the physical lines counted here all agree.
    let txt: std::borrow::Cow<str> = if txt.contains('\r') && has_lone_cr(&txt) {
        std::borrow::Cow::Owned(txt.replace("\r\n", "\n").replace('\r', "\n"))
    } else {
        txt
    };
    let mut stats = FileStats {
        file: file.clone(),
        layout: format!("csv ({enc})"),
        record_type: "partida".into(),
        bytes: bytes.len() as u64,
        sha256: hash.into(),
        ..Default::default()
    };
    let mut rdr = csv::ReaderBuilder::new()
        .has_headers(false)
        .flexible(true)
        .from_reader(txt.as_bytes());
    let mut records = rdr.records();
    let header = match records.next() {
        Some(Ok(h)) => h,
        _ => {
            parsed.files.push(stats); // empty file: nothing read
            return;
        }
    };
    let cols: HashMap<String, usize> = header
        .iter()
        .enumerate()
        .map(|(i, n)| (n.trim().to_lowercase(), i))
        .collect();
    let names: Vec<String> = header.iter().map(|n| n.trim().to_lowercase()).collect();
    let missing: Vec<&str> = REQUIRED
        .iter()
        .copied()
        .filter(|c| !cols.contains_key(*c))
        .collect();
    let ncols = header.len();
    // A one-column header with another separator in it: say so (spreadsheets in
    // Spanish locales save CSV with ';').
    let hint = match header.get(0) {
        Some(h) if ncols == 1 && h.contains(';') => Some(Separator::Semicolon),
        Some(h) if ncols == 1 && h.contains('\t') => Some(Separator::Tab),
        _ => None,
    };
    // (line, byte offset, record). Empty lines are skipped by the CSV reader; lines of
    // only separators (`,,,`) are skipped here; both are counted as `blank_lines`.
    let mut rows: Vec<(usize, usize, Result<csv::StringRecord, RejectReason>)> = vec![];
    let mut blank_records: Vec<(usize, usize)> = vec![];
    // The reader's position of a record after CRLF is the LF that ends the previous
    // line (the CR ended the record): the record starts after the line ends.
    let at = |pos: &csv::Position| {
        let (mut line, mut b) = (pos.line() as usize, pos.byte() as usize);
        let bytes = txt.as_bytes();
        while b < bytes.len() && (bytes[b] == b'\r' || bytes[b] == b'\n') {
            if bytes[b] == b'\n' {
                line += 1;
            }
            b += 1;
        }
        (line, b)
    };
    loop {
        match records.next() {
            None => break,
            Some(Ok(r)) => {
                let pos = r.position().cloned().unwrap_or_else(csv::Position::new);
                let (line, byte) = at(&pos);
                if r.iter().all(|f| f.trim().is_empty()) {
                    blank_records.push((byte, rows.len()));
                    continue;
                }
                rows.push((line, byte, Ok(r)));
            }
            Some(Err(e)) => {
                let pos = e.position().cloned().unwrap_or_else(csv::Position::new);
                let (line, byte) = at(&pos);
                let error = e.to_string();
                rows.push((line, byte, Err(RejectReason::BadCsv { error })));
            }
        }
    }
    // Physical lines after the header record.
    let first = rows
        .first()
        .map(|r| r.1)
        .into_iter()
        .chain(blank_records.first().map(|b| b.0))
        .min()
        .unwrap_or(txt.len());
    let header_lines = record_lines(txt.get(..first).unwrap_or("")).len();
    // (`text::lines(&txt).len()`, counted without building the list.)
    let total_lines = memchr::memchr_iter(b'\n', txt.as_bytes()).count()
        + usize::from(!txt.is_empty() && !txt.ends_with('\n'));
    stats.lines = total_lines.saturating_sub(header_lines);
    parsed.files.push(stats);
    let mut read = 0;
    let mut joined = 0;
    let mut headers: HashMap<String, (PedimentoRow, usize)> = HashMap::new();
    let mut order: Vec<String> = vec![];
    // (pedimento, partida) -> (row, index of the record that gave it).
    let mut partidas: HashMap<(String, i32), (PartidaRow, usize)> = HashMap::new();
    // Descargos and identificadores with the record that gave them: a record replaced by
    // a later one of the same partida (or repeating it) gives none.
    let mut descargos: Vec<(usize, DescargoRow)> = vec![];
    let mut idents: Vec<(usize, IdentificadorRow)> = vec![];
    let mut dead: std::collections::HashSet<usize> = Default::default();
    // Earlier versions of a partida replaced by a later, different row of this file.
    let mut replaced: Vec<PartidaRow> = vec![];
    // Accepted rows not stored again (a repeat or an earlier version), per pedimento.
    let mut dup_of: HashMap<String, usize> = HashMap::new();
    // Every accepted record: (line, pedimento, raw), to reject a whole pedimento.
    // (Line, pedimento, byte range of its first line, continuation lines.)
    let mut recs: Vec<(usize, String, (usize, usize), usize)> = vec![];
    let mut accepted = 0;
    let reject =
        |parsed: &mut Parsed, ln: usize, field: &str, reason: RejectReason, raw: String| {
            parsed.reject(RejectRow {
                source_file: file.clone(),
                line: ln as i64,
                record_type: "partida".into(),
                field: field.into(),
                reason,
                raw,
            })
        };
    let ends: Vec<usize> = rows
        .iter()
        .skip(1)
        .map(|x| x.1)
        .chain([txt.len()])
        .collect();
    for (k, ((ln, start, r), end)) in rows.into_iter().zip(ends).enumerate() {
        // The record's text ends where a blank record between it and the next begins.
        // (Both are in file order: the first blank record after `start`.)
        let next_blank = blank_records.partition_point(|b| b.0 <= start);
        let end = blank_records
            .get(next_blank)
            .map(|b| b.0)
            .filter(|b| *b < end)
            .unwrap_or(end);
        let span = txt.get(start..end.max(start)).unwrap_or("");
        let span_lines = record_lines(span);
        let r = match r {
            Ok(r) => r,
            Err(e) => {
                for (i, l) in &span_lines {
                    read += 1;
                    reject(
                        parsed,
                        ln + i - 1,
                        "",
                        e.clone(),
                        l.chars().take(500).collect(),
                    );
                }
                continue;
            }
        };
        // A record spanning several lines comes from a quoted field with a line break:
        // legitimate only when allowed and the record is well formed; else an unclosed or
        // stray quote may have swallowed the following lines. Then every physical line
        // is read and rejected on its own, so none disappears from the accounting.
        if span_lines.len() > 1 {
            let field = r
                .iter()
                .position(|f| f.contains('\n') || f.contains('\r'))
                .map(|i| {
                    names
                        .get(i)
                        .cloned()
                        .unwrap_or_else(|| format!("field {}", i + 1))
                })
                .unwrap_or_default();
            let last = ln + span_lines.len() - 1;
            let well_formed = r.len() == ncols && missing.is_empty();
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
                for (i, l) in span_lines {
                    if l.trim().is_empty() {
                        continue; // an empty line inside the quote: a blank line
                    }
                    read += 1;
                    reject(
                        parsed,
                        ln + i - 1,
                        &field,
                        reason.clone(),
                        l.chars().take(500).collect(),
                    );
                }
                continue;
            }
        }
        read += 1;
        // A multi-line record (allowed) that is rejected: each of its lines is.
        let mut reject =
            |parsed: &mut Parsed, ln: usize, field: &str, reason: RejectReason, raw: String| {
                if span_lines.len() == 1 {
                    return reject(parsed, ln, field, reason, raw);
                }
                read -= 1;
                for (i, l) in &span_lines {
                    if !l.trim().is_empty() {
                        read += 1;
                        reject(
                            parsed,
                            ln + i - 1,
                            field,
                            reason.clone(),
                            l.chars().take(500).collect(),
                        );
                    }
                }
            };
        let raw: String = r
            .iter()
            .collect::<Vec<_>>()
            .join(",")
            .chars()
            .take(500)
            .collect();
        if !missing.is_empty() {
            reject(
                parsed,
                ln,
                &missing.join(","),
                RejectReason::MissingColumns {
                    columns: missing.iter().map(|c| c.to_string()).collect(),
                    hint,
                },
                raw,
            );
            continue;
        }
        if r.len() != ncols {
            // Quotes that change the field count: split at every comma the line has the
            // header's count, read with its quotes it has not (a stray or unbalanced
            // quote took separators into a field). Say which field.
            let line = span_lines.first().map(|x| x.1).unwrap_or("");
            let naive = line.split(',').count();
            let quoted = r
                .iter()
                .position(|f| f.contains(','))
                .filter(|_| line.contains('"') && naive == ncols);
            if let Some(i) = quoted {
                let name = names
                    .get(i)
                    .cloned()
                    .unwrap_or_else(|| format!("field {}", i + 1));
                reject(
                    parsed,
                    ln,
                    &name,
                    RejectReason::QuotesSplitField {
                        index: i + 1,
                        name: name.clone(),
                        fields: r.len(),
                        parts: naive,
                        header: ncols,
                    },
                    raw,
                );
                continue;
            }
        }
        if r.len() < ncols {
            reject(
                parsed,
                ln,
                "",
                RejectReason::TruncatedLine {
                    fields: r.len(),
                    header: ncols,
                },
                raw,
            );
            continue;
        }
        if r.len() > ncols {
            reject(
                parsed,
                ln,
                "",
                RejectReason::TooManyFields {
                    fields: r.len(),
                    header: ncols,
                },
                raw,
            );
            continue;
        }
        let rec = Rec { cols: &cols, r: &r };
        match parse_row(&rec, &file, ln) {
            Err((field, reason)) => reject(parsed, ln, &field, reason, raw),
            Ok(out) => {
                let id = out.header.pedimento_id.clone();
                if let Some((h, first)) = headers.get(&id) {
                    let same = h.rfc == out.header.rfc
                        && h.clave_declarada == out.header.clave_declarada
                        && h.fecha_pago == out.header.fecha_pago
                        && h.tipo_operacion == out.header.tipo_operacion;
                    if !same {
                        let first = *first;
                        reject(
                            parsed,
                            ln,
                            "pedimento",
                            RejectReason::InconsistentHeader { first_line: first },
                            raw,
                        );
                        continue;
                    }
                } else {
                    order.push(id.clone());
                    headers.insert(id.clone(), (out.header, ln));
                }
                accepted += 1;
                joined += span_lines.len() - 1;
                let first = span_lines.first().map_or("", |l| l.1);
                let at = (first.as_ptr() as usize).wrapping_sub(txt.as_ptr() as usize);
                recs.push((
                    ln,
                    id.clone(),
                    (at, at.wrapping_add(first.len())),
                    span_lines.len() - 1,
                ));
                let key = (id, out.partida.partida);
                let same_extras = |j: usize| {
                    let d: Vec<_> = descargos
                        .iter()
                        .filter(|x| x.0 == j)
                        .map(|x| &x.1)
                        .collect();
                    let i: Vec<_> = idents.iter().filter(|x| x.0 == j).map(|x| &x.1).collect();
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
                match partidas.get(&key) {
                    Some((old, j)) if same_partida(old, &out.partida) && same_extras(*j) => {
                        // The same row again: stored once, counted.
                        *dup_of.entry(key.0).or_default() += 1;
                        continue;
                    }
                    Some((_, j)) => {
                        // Another version of the partida: the later row wins, the earlier
                        // is a conflict (DATA-CONFLICT), never dropped silently.
                        let j = *j;
                        dead.insert(j);
                        *dup_of.entry(key.0.clone()).or_default() += 1;
                        let (old, _) = partidas.remove(&key).expect("present");
                        replaced.push(old);
                    }
                    None => {}
                }
                partidas.insert(key, (out.partida, k));
                descargos.extend(out.descargo.map(|d| (k, d)));
                idents.extend(out.idents.into_iter().map(|i| (k, i)));
            }
        }
    }
    let descargos: Vec<DescargoRow> = descargos
        .into_iter()
        .filter(|x| !dead.contains(&x.0))
        .map(|x| x.1)
        .collect();
    let idents: Vec<IdentificadorRow> = idents
        .into_iter()
        .filter(|x| !dead.contains(&x.0))
        .map(|x| x.1)
        .collect();
    let partidas: HashMap<(String, i32), PartidaRow> =
        partidas.into_iter().map(|(k, v)| (k, v.0)).collect();
    // Totals that do not fit DECIMAL(18,2): the pedimento is rejected, every record of it
    // (a wrapped total would be stored otherwise).
    let mut totals = crate::dataset::header_totals(partidas.values());
    let overflow: HashMap<String, &'static str> = totals
        .iter()
        .filter_map(|(id, t)| crate::dataset::total_overflow(t).map(|c| (id.clone(), c)))
        .collect();
    let mut partidas = partidas;
    let mut descargos = descargos;
    let mut idents = idents;
    if !overflow.is_empty() {
        let mut recs = recs;
        recs.sort_by_key(|r| r.0);
        for (ln, id, (s, e), extra) in recs {
            let raw: String = txt.get(s..e).unwrap_or("").chars().take(500).collect();
            if let Some(col) = overflow.get(&id) {
                accepted -= 1;
                let reason = RejectReason::TotalOverflow {
                    column: col.to_string(),
                    pedimento: id.clone(),
                };
                reject(parsed, ln, col, reason.clone(), raw);
                // The continuation lines of a multi-line record: rejected with it.
                for l in ln + 1..=ln + extra {
                    joined -= 1;
                    read += 1;
                    reject(parsed, l, col, reason.clone(), String::new());
                }
            }
        }
        for id in overflow.keys() {
            headers.remove(id);
            totals.remove(id);
            dup_of.remove(id);
        }
        order.retain(|id| !overflow.contains_key(id));
        partidas.retain(|k, _| !overflow.contains_key(&k.0));
        descargos.retain(|d| !overflow.contains_key(&d.pedimento_id));
        idents.retain(|i| !overflow.contains_key(&i.pedimento_id));
        replaced.retain(|p| !overflow.contains_key(p.pedimento_id.as_str()));
    }
    parsed.accept(&file, accepted);
    if let Some(f) = parsed.files.iter_mut().find(|f| f.file == file) {
        f.rows_read = read;
        f.joined_lines = joined;
        f.blank_lines = f.lines.saturating_sub(read + joined);
        f.duplicates += dup_of.values().sum::<usize>();
        f.conflicts += replaced.len();
    }
    let op_dates: HashMap<String, chrono::NaiveDate> = headers
        .iter()
        .map(|(k, (h, _))| (k.clone(), h.fecha_operacion))
        .collect();
    // Identificadores also fill the header (IM program, virtual counterpart).
    for i in idents.iter().filter(|i| i.partida.is_none()) {
        if let Some((h, _)) = headers.get_mut(&i.pedimento_id) {
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
    let here: std::collections::HashSet<&String> = order.iter().collect();
    let mut dropped: HashMap<String, usize> = HashMap::new();
    for y in parsed.years.values_mut() {
        let src: HashMap<&str, &String> = y
            .pedimentos
            .iter()
            .filter(|p| here.contains(&p.pedimento_id))
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
    for p in replaced {
        replaced_of
            .entry(p.pedimento_id.to_string())
            .or_default()
            .push(p);
    }
    for id in order {
        let (mut h, _) = headers.remove(&id).unwrap();
        h.set_totals(&totals);
        if let Some(ant) = &h.rectifica_id {
            parsed.supersede(&file);
            if let Some(d) = op_dates.get(ant) {
                h.fecha_operacion = *d;
            }
        }
        // A partida given twice with different content: the pedimento as the earlier row
        // had it is a conflict (its totals with that row), named by the row's line.
        for old in replaced_of.remove(&id).unwrap_or_default() {
            let kept = &partidas[&(id.clone(), old.partida)];
            let mut c = h.clone();
            let sub = |t: Decimal, k: Decimal, o: Decimal| {
                t.checked_sub(k).and_then(|x| x.checked_add(o)).unwrap_or(t)
            };
            c.valor_dolares = sub(h.valor_dolares, kept.valor_dolares, old.valor_dolares);
            c.valor_aduana = sub(h.valor_aduana, kept.valor_aduana, old.valor_aduana);
            c.valor_comercial = sub(h.valor_comercial, kept.valor_comercial, old.valor_comercial);
            c.source_line = old.source_line;
            parsed.years.entry(c.year).or_default().conflicts.push(c);
        }
        parsed.years.entry(h.year).or_default().pedimentos.push(h);
    }
    let mut ps: Vec<PartidaRow> = partidas.into_values().collect();
    ps.sort_by(|a, b| (&a.pedimento_id, a.partida).cmp(&(&b.pedimento_id, b.partida)));
    parsed.push_by_year(ps, idents, descargos);
}
