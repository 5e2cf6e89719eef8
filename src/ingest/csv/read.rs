//! Reading a CSV file's records: a batch at a time ([`Batch`], bounding the records held
//! in memory), each batch's well-formed records parsed in parallel ([`parse_batch`]).

use super::*;

/// Records parsed at once (in parallel, [`parse_batch`]): also bounds the records held
/// in memory, whatever the file's size.
pub(super) const BATCH: usize = 1 << 13;

/// A record's one line (its span less the line break and any empty lines after it) when
/// it has one, else None: the text [`record_lines`] gives as the record's only line.
pub(super) fn one_line(span: &str) -> Option<&str> {
    let l = span.trim_end_matches(['\r', '\n']);
    (!l.contains('\n')).then_some(l)
}

/// The line of a one-line record ([`one_line`]).
pub(super) fn single_line(span: &str) -> &str {
    one_line(span).unwrap_or(span)
}

/// A batch of records: (line, start byte, end byte (the next record's or blank line's
/// start), the index of its record in `recs` or why the reader failed), and the records
/// (reused from batch to batch).
#[derive(Default)]
pub(super) struct Batch {
    pub(super) rows: Vec<(usize, usize, usize, Result<usize, RejectReason>)>,
    pub(super) recs: Vec<csv::StringRecord>,
    pub(super) used: usize,
}

impl Batch {
    /// Ends the last record (if not yet ended) where the next record or blank line starts.
    pub(super) fn end_last(&mut self, at: usize) {
        if let Some(last) = self.rows.last_mut()
            && last.2 == usize::MAX
        {
            last.2 = at;
        }
    }

    /// Adds a record (swapped out of `rec`, which gets a record to reuse).
    pub(super) fn push(
        &mut self,
        ln: usize,
        byte: usize,
        res: Result<(), RejectReason>,
        rec: &mut csv::StringRecord,
    ) {
        let slot = res.map(|()| {
            if self.used == self.recs.len() {
                self.recs.push(csv::StringRecord::new());
            }
            std::mem::swap(&mut self.recs[self.used], rec);
            self.used += 1;
            self.used - 1
        });
        self.rows.push((ln, byte, usize::MAX, slot));
    }
}

/// The parse of each record of `batch` that is well formed (one line, the header's field
/// count, no required column missing), in parallel; None for the others (checked and
/// rejected in order by [`FileRead::record`]).
pub(super) fn parse_batch(f: &FileRead, batch: &Batch) -> Vec<Option<Result<RowOut, Fail>>> {
    let cols = &f.cols;
    batch
        .rows
        .par_iter()
        .with_min_len(256)
        .map(|(ln, start, end, slot)| {
            let r = &batch.recs[*slot.as_ref().ok()?];
            if !cols.missing.is_empty() || r.len() != cols.ncols {
                return None;
            }
            one_line(f.txt.get(*start..(*end).max(*start)).unwrap_or(""))?;
            let rec = Rec { pos: &cols.pos, r };
            Some(parse_row(&rec, &f.file, *ln))
        })
        .collect()
}

/// What the reader gives after the header: a record (line, byte offset, read or why it
/// failed; the record itself in [`Records::rec`]), or a record of only separators or
/// spaces at a byte offset (skipped, counted as blank lines). Empty lines are skipped by
/// the CSV reader; both are counted as `blank_lines`.
pub(super) enum Item {
    Row(usize, usize, Result<(), RejectReason>),
    Blank(usize),
}

impl Item {
    pub(super) fn byte(&self) -> usize {
        match self {
            Item::Row(_, b, _) | Item::Blank(b) => *b,
        }
    }
}

/// The records of a file after its header, one at a time.
pub(super) struct Records<'t> {
    txt: &'t str,
    rdr: csv::Reader<&'t [u8]>,
    /// The last record read.
    pub(super) rec: csv::StringRecord,
}

impl<'t> Records<'t> {
    /// The header's columns and the records of `txt`; None for a file without a header.
    pub(super) fn of(txt: &'t str) -> Option<(Columns, Records<'t>)> {
        let mut rdr = csv::ReaderBuilder::new()
            .has_headers(false)
            .flexible(true)
            .from_reader(txt.as_bytes());
        let mut header = csv::StringRecord::new();
        if !matches!(rdr.read_record(&mut header), Ok(true)) {
            return None;
        }
        let rec = csv::StringRecord::new();
        Some((Columns::of(&header), Records { txt, rdr, rec }))
    }

    /// The reader's position of a record after CRLF is the LF that ends the previous
    /// line (the CR ended the record): the record starts after the line ends.
    fn at(&self, pos: &csv::Position) -> (usize, usize) {
        let (mut line, mut b) = (pos.line() as usize, pos.byte() as usize);
        let bytes = self.txt.as_bytes();
        while b < bytes.len() && (bytes[b] == b'\r' || bytes[b] == b'\n') {
            if bytes[b] == b'\n' {
                line += 1;
            }
            b += 1;
        }
        (line, b)
    }

    pub(super) fn next(&mut self) -> Option<Item> {
        match self.rdr.read_record(&mut self.rec) {
            Ok(false) => None,
            Ok(true) => {
                let pos = self
                    .rec
                    .position()
                    .cloned()
                    .unwrap_or_else(csv::Position::new);
                let (line, byte) = self.at(&pos);
                if self.rec.iter().all(|f| f.trim().is_empty()) {
                    return Some(Item::Blank(byte));
                }
                Some(Item::Row(line, byte, Ok(())))
            }
            Err(e) => {
                let pos = e.position().cloned().unwrap_or_else(csv::Position::new);
                let (line, byte) = self.at(&pos);
                let error = e.to_string();
                Some(Item::Row(line, byte, Err(RejectReason::BadCsv { error })))
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_line_is_the_only_line_record_lines_gives() {
        let spans = [
            "a,b\n",
            "a,b\r\n",
            "a,b",
            "a,b\n\n\n",
            "a,b\r\n\r\n",
            "",
            "\n",
            "a\nb\n",
            "a\r\nb",
            "\"x\ny\",z\n",
        ];
        for span in spans {
            let lines = record_lines(span);
            match one_line(span) {
                Some(l) => assert_eq!(lines, vec![(1, l)], "{span:?}"),
                None => assert!(lines.len() > 1, "{span:?}"),
            }
        }
    }

    #[test]
    fn every_column_resolves_to_its_own_name() {
        let names: Vec<&str> = REQUIRED.iter().chain(OPTIONAL).copied().collect();
        assert_eq!(Col::all().count(), names.len());
        for (c, n) in Col::all().zip(&names) {
            assert_eq!(c.name(), *n);
            assert_eq!(Col::of(n), c);
        }
    }
}
