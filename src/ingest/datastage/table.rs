//! One Data Stage file as a table: header lookup by name (aliases, [`FIELDS`] resolved
//! once per file), rows as byte ranges into the decoded text, and [`Row`], the field
//! accessor whose errors name the field. The field split is `text::split_into`.

use super::super::{FileStats, text};
use super::{Input, USED};
use crate::dataset::{RejectRow, Text};
use crate::model::{self, FieldError, FieldResult, PedimentoNumber, RejectReason, fixed_digits};
use rayon::prelude::*;
use rust_decimal::Decimal;
use std::collections::HashMap;

/// Aliases seen across Data Stage versions (normalized names).
pub(super) const ALIASES: &[(&str, &[&str])] = &[
    (
        "clavedocumento",
        &["clave", "clavepedimento", "cvedocumento"],
    ),
    ("fechapagoreal", &["fechapago", "fechavalidacionpagor"]),
    ("fechavalidacionpagor", &["fechapagoreal", "fechapago"]),
    ("seccionaduanera", &["aduana", "aduanaseccion"]),
    ("totalfletes", &["fletes"]),
    ("curpagentea", &["curpagente"]),
    ("secuenciafraccion", &["secuencia", "partida"]),
    ("cantidadumtarifa", &["cantidadmtarifa", "cantidadtarifa"]),
    ("cantidadumcomercial", &["cantidadcomercial"]),
    ("identificadorcaso", &["identificador", "complementocaso1"]),
    ("complementocaso", &["complemento", "complementocaso2"]),
    ("mercanciadescargada", &["cantidaddescargada"]),
];

/// Declares [`FIELDS`] and, for each, a constant `f::<Name>` = its index, from one list.
macro_rules! fields {
    ($($name:ident),* $(,)?) => {
        /// Every column name the parsers ask for: resolved once per file (no per-row
        /// lookups by normalized name).
        pub(super) const FIELDS: &[&str] = &[$(stringify!($name)),*];

        /// The [`FIELDS`] as constants (`f::Patente` = `FIELDS[0]`), named as in the layout.
        #[allow(non_upper_case_globals)]
        pub(super) mod f {
            use super::Fd;
            fields!(@index 0usize; $($name),*);
        }
    };
    (@index $i:expr; $name:ident $(, $rest:ident)*) => {
        pub const $name: Fd = Fd($i);
        fields!(@index $i + 1; $($rest),*);
    };
    (@index $i:expr;) => {};
}

fields!(
    Patente,
    Pedimento,
    SeccionAduanera,
    TipoOperacion,
    ClaveDocumento,
    Rfc,
    FechaPagoReal,
    TipoCambio,
    TipoPedimento,
    NombreContribuyente,
    TipoFecha,
    FechaOperacion,
    FechaValidacionPagoR,
    FechaSeleccion,
    ClaveCaso,
    IdentificadorCaso,
    ComplementoCaso,
    SeccionAduaneraAnterior,
    PatenteAnterior,
    PedimentoAnterior,
    FechaOperacionAnterior,
    DocumentoAnterior,
    SecuenciaFraccion,
    Fraccion,
    SubdivisionFraccion,
    DescripcionMercancia,
    CodigoMercanciaProducto,
    PaisOrigenDestino,
    UnidadMedidaComercial,
    CantidadUMComercial,
    UnidadMedidaTarifa,
    CantidadUMTarifa,
    PrecioUnitario,
    ValorAduana,
    ValorComercial,
    ValorDolares,
    ClaveContribucion,
    TasaContribucion,
    ImportePago,
    SeccionAduaneraDespOrig,
    PatenteAduanalOrig,
    PedimentoOriginal,
    FechaOperacionOrig,
    FraccionOriginal,
    UnidadMedida,
    MercanciaDescargada,
    ConsecutivoRemesa,
);

/// A field of [`FIELDS`] by position: rows look fields up by index, not by name.
#[derive(Debug, Clone, Copy)]
pub(super) struct Fd(usize);

impl Fd {
    pub(super) fn name(self) -> &'static str {
        FIELDS[self.0]
    }
}

pub(super) struct Table<'a> {
    pub(super) file: String,
    /// Index of the file in this parse (for per-row bookkeeping without cloning names).
    pub(super) fi: usize,
    /// The decoded text (borrowed when the file is UTF-8).
    pub(super) text: std::borrow::Cow<'a, str>,
    /// Index of the request (folder + folio) in path order: a later request wins.
    pub(super) req: usize,
    pub(super) rtype: String,
    pub(super) cols: HashMap<String, usize>,
    pub(super) ncols: usize,
    /// Every name of [`FIELDS`] resolved once per file, misses included (a field the
    /// file lacks must not be searched again on every row).
    pub(super) lookup: Vec<Option<usize>>,
    /// Data rows that have the header's field count: (line number, byte range in `text`).
    pub(super) rows: Vec<(usize, usize, usize)>,
}

impl<'a> Table<'a> {
    pub(super) fn lines(&self) -> impl Iterator<Item = (usize, &str)> + '_ {
        self.rows.iter().map(|&(ln, s, e)| (ln, &self.text[s..e]))
    }

    pub(super) fn par_lines(&self) -> impl IndexedParallelIterator<Item = (usize, &str)> + '_ {
        self.rows
            .par_iter()
            .map(|&(ln, s, e)| (ln, &self.text[s..e]))
    }

    pub(super) fn idx(&self, name: &str) -> Option<usize> {
        match FIELDS.iter().position(|n| *n == name) {
            Some(i) => self.lookup[i],
            None => self.idx_slow(name),
        }
    }

    pub(super) fn idx_slow(&self, name: &str) -> Option<usize> {
        column_of(&self.cols, name)
    }
}

/// The column of field `name` in a header (`cols`: normalized name → position), known
/// aliases included.
pub(in crate::ingest) fn column_of(cols: &HashMap<String, usize>, name: &str) -> Option<usize> {
    let n = text::norm(name);
    if let Some(i) = cols.get(&n) {
        return Some(*i);
    }
    ALIASES
        .iter()
        .find(|(k, _)| *k == n)
        .and_then(|(_, alts)| alts.iter().find_map(|a| cols.get(*a).copied()))
}

/// Accessor for one row, producing errors that name the field.
pub(super) struct Row<'a, 'b> {
    pub(super) t: &'a Table<'a>,
    /// The row's fields, in a vector the caller reuses from row to row (no allocation
    /// per row, and no 768-byte field array copied out of `new`: memmove was 1.7% of a
    /// 10M ingest's CPU there).
    pub(super) f: &'b [&'a str],
}

/// (field, reason).
pub(super) type Fail = (String, RejectReason);

/// A reject kind that takes a field error (`RejectReason::BadField`, ...).
pub(super) type Kind = fn(FieldError) -> RejectReason;

/// A vector of fields for [`Row::new`] to reuse.
pub(super) fn fields_buf<'a>() -> Vec<&'a str> {
    Vec::with_capacity(48)
}

impl<'a, 'b> Row<'a, 'b> {
    pub(super) fn new(t: &'a Table<'a>, line: &'a str, buf: &'b mut Vec<&'a str>) -> Row<'a, 'b> {
        buf.clear();
        text::split_into(line, b'|', buf);
        if buf.len() == t.ncols + 1 {
            buf.pop();
        }
        Row { t, f: buf }
    }

    pub(super) fn raw(&self, name: Fd) -> &'a str {
        self.t.lookup[name.0]
            .and_then(|i| self.f.get(i))
            .map(|s| model::trim(s))
            .unwrap_or("")
    }
    pub(super) fn req<T>(
        &self,
        name: Fd,
        p: impl Fn(&str) -> FieldResult<T>,
        kind: Kind,
    ) -> Result<T, Fail> {
        p(self.raw(name)).map_err(|e| (name.name().to_string(), kind(e)))
    }
    pub(super) fn opt<T>(
        &self,
        name: Fd,
        p: impl Fn(&str) -> FieldResult<T>,
        kind: Kind,
    ) -> Result<Option<T>, Fail> {
        let v = self.raw(name);
        if v.is_empty() {
            Ok(None)
        } else {
            p(v).map(Some)
                .map_err(|e| (name.name().to_string(), kind(e)))
        }
    }
    pub(super) fn text(&self, name: Fd) -> Option<String> {
        let v = self.raw(name);
        (!v.is_empty()).then(|| v.to_string())
    }
    /// [`Row::text`] as inline text (no allocation up to 24 bytes).
    pub(super) fn ctext(&self, name: Fd) -> Option<Text> {
        let v = self.raw(name);
        (!v.is_empty()).then(|| Text::from(v))
    }
    pub(super) fn triple(&self) -> Result<PedimentoNumber, Fail> {
        self.triple_of(f::SeccionAduanera, f::Patente, f::Pedimento)
    }

    /// A pedimento reference from three columns (own key, anterior, original).
    pub(super) fn triple_of(
        &self,
        aduana: Fd,
        patente: Fd,
        numero: Fd,
    ) -> Result<PedimentoNumber, Fail> {
        Ok(PedimentoNumber {
            aduana: self.req(
                aduana,
                |s| fixed_digits::<3>(s, aduana.name()),
                RejectReason::BadField,
            )?,
            patente: self.req(
                patente,
                |s| fixed_digits::<4>(s, patente.name()),
                RejectReason::BadField,
            )?,
            numero: self.req(
                numero,
                |s| fixed_digits::<7>(s, numero.name()),
                RejectReason::BadField,
            )?,
        })
    }
}

/// `model::fraccion` as inline text, without collecting chars when the field is already
/// 8 digits (the usual case).
pub(super) fn fraccion_text(s: &str) -> FieldResult<Text> {
    let t = model::trim(s);
    if t.len() == 8 && t.bytes().all(|b| b.is_ascii_digit()) {
        return Ok(Text::from(t));
    }
    model::fraccion(s).map(Text::from)
}

pub(super) fn dec(s: &str, scale: u32) -> FieldResult<Decimal> {
    model::decimal(s, scale)
}

pub(super) const REQUIRED: &[(&str, &[&str])] = &[
    (
        "501",
        &[
            "Patente",
            "Pedimento",
            "SeccionAduanera",
            "TipoOperacion",
            "ClaveDocumento",
            "Rfc",
            "FechaPagoReal",
        ],
    ),
    (
        "551",
        &[
            "Patente",
            "Pedimento",
            "SeccionAduanera",
            "Fraccion",
            "SecuenciaFraccion",
            "ValorAduana",
            "ValorComercial",
            "ValorDolares",
            "CantidadUMTarifa",
            "UnidadMedidaTarifa",
        ],
    ),
    (
        "507",
        &["Patente", "Pedimento", "SeccionAduanera", "ClaveCaso"],
    ),
    (
        "554",
        &[
            "Patente",
            "Pedimento",
            "SeccionAduanera",
            "SecuenciaFraccion",
            "ClaveCaso",
        ],
    ),
    (
        "556",
        &[
            "Patente",
            "Pedimento",
            "SeccionAduanera",
            "SecuenciaFraccion",
            "ClaveContribucion",
            "TasaContribucion",
        ],
    ),
    (
        "557",
        &[
            "Patente",
            "Pedimento",
            "SeccionAduanera",
            "SecuenciaFraccion",
            "ClaveContribucion",
            "ImportePago",
        ],
    ),
    (
        "512",
        &[
            "Patente",
            "Pedimento",
            "SeccionAduanera",
            "PatenteAduanalOrig",
            "PedimentoOriginal",
            "SeccionAduaneraDespOrig",
        ],
    ),
    (
        "701",
        &[
            "Patente",
            "Pedimento",
            "SeccionAduanera",
            "PedimentoAnterior",
            "PatenteAnterior",
            "SeccionAduaneraAnterior",
        ],
    ),
    (
        "506",
        &[
            "Patente",
            "Pedimento",
            "SeccionAduanera",
            "TipoFecha",
            "FechaOperacion",
        ],
    ),
    (
        "SEL",
        &["Patente", "Pedimento", "SeccionAduanera", "FechaSeleccion"],
    ),
];

/// One file read: its stats, the rows rejected on shape, and the table of good rows.
pub(super) struct Loaded<'a> {
    pub(super) stats: FileStats,
    pub(super) rejects: Vec<RejectRow>,
    pub(super) table: Option<Table<'a>>,
}

/// The header line of a file's text, its data lines that are not blank as (line number
/// `line_no` gives, byte range in `txt`), and the count of blank ones: one pass over the
/// lines, none of them listed.
fn data_lines(
    txt: &str,
    line_no: impl Fn(usize) -> usize,
) -> (Option<String>, Vec<(usize, usize, usize)>, usize) {
    let base = txt.as_ptr() as usize;
    let mut it = text::line_iter(txt);
    let header = it.next().map(|(_, h)| h.to_string());
    let mut data: Vec<(usize, usize, usize)> = Vec::with_capacity(txt.len() / 128);
    let mut blank = 0;
    for (ln, l) in it {
        if model::trim(l).is_empty() {
            blank += 1;
            continue;
        }
        let s = l.as_ptr() as usize - base;
        data.push((line_no(ln), s, s + l.len()));
    }
    (header, data, blank)
}

/// Decodes one file and checks each row's shape. Pure (no shared state), so the files
/// of a run are loaded in parallel; rows are byte ranges into the decoded text, not
/// copies.
pub(super) fn load<'a>(
    input: &Input<'a>,
    rtype: &str,
    fi: usize,
    progress: &crate::model::progress::ProgressHandle,
) -> Loaded<'a> {
    let (path, bytes, hash) = (input.path, input.bytes, input.hash);
    let file = path.display().to_string();
    let (txt, enc) = match input.latin1 {
        Some(latin1) => text::decode_as(bytes, latin1),
        None => text::decode(bytes),
    };
    // A shard's data lines carry their line numbers in the original file.
    let line_no = |ln: usize| match input.lines {
        Some(lines) => lines[ln - 2] as usize,
        None => ln,
    };
    let mut stats = FileStats {
        file: file.clone(),
        layout: format!("datastage ({enc})"),
        record_type: rtype.to_string(),
        bytes: bytes.len() as u64,
        sha256: hash.to_string(),
        ..Default::default()
    };
    let mut rejects = vec![];
    let (header, data, blank) = data_lines(&txt, line_no);
    stats.blank_lines = blank;
    if !USED.contains(&rtype) {
        stats.skipped = Some(format!(
            "record type {rtype} is not used by the dataset ({} rows)",
            data.len()
        ));
        return Loaded {
            stats,
            rejects,
            table: None,
        };
    }
    stats.rows_read = data.len();
    if data.len() >= 100_000 {
        // Said on long runs (the CLI prints it on stderr, in its language).
        progress.message(crate::model::progress::Message::Parsing {
            file: file.clone(),
            rows: data.len(),
            encoding: enc.to_string(),
        });
    }
    let Some(header) = header else {
        // empty file: 0 rows read, nothing to do
        return Loaded {
            stats,
            rejects,
            table: None,
        };
    };
    let mut names: Vec<&str> = header.split('|').collect();
    if names.last().is_some_and(|n| n.trim().is_empty()) {
        names.pop();
    }
    let cols: HashMap<String, usize> = names
        .iter()
        .enumerate()
        .map(|(i, n)| (text::norm(n), i))
        .collect();
    let ncols = names.len();
    let mut t = Table {
        file: file.clone(),
        fi,
        text: std::borrow::Cow::Borrowed(""),
        req: 0,
        rtype: rtype.to_string(),
        cols,
        ncols,
        lookup: vec![],
        rows: Vec::with_capacity(data.len()),
    };
    t.lookup = FIELDS.iter().map(|n| t.idx_slow(n)).collect();
    let required = REQUIRED
        .iter()
        .find(|(r, _)| *r == rtype)
        .map(|x| x.1)
        .unwrap_or(&[]);
    let missing: Vec<&str> = required
        .iter()
        .copied()
        .filter(|c| t.idx(c).is_none())
        .collect();
    for (ln, s, e) in data {
        let l = &txt[s..e];
        if !missing.is_empty() {
            rejects.push(RejectRow {
                source_file: file.clone(),
                line: ln as i64,
                record_type: rtype.into(),
                field: missing.join(","),
                reason: RejectReason::MissingColumnsOfFile {
                    columns: missing.iter().map(|c| c.to_string()).collect(),
                },
                raw: l.chars().take(500).collect(),
            });
            continue;
        }
        let mut nf = bytecount::count(l.as_bytes(), b'|') + 1;
        // (The last field, found by memrchr: `rsplit` searched char by char, and
        // `rfind` compares each hit's bytes with `memcmp`.)
        if nf == ncols + 1
            && memchr::memrchr(b'|', l.as_bytes())
                .is_some_and(|i| model::trim(&l[i + 1..]).is_empty())
        {
            nf -= 1;
        }
        if nf != ncols {
            let (fields, header) = (nf, ncols);
            let reason = if nf < ncols {
                RejectReason::TruncatedLine { fields, header }
            } else {
                RejectReason::TooManyFields { fields, header }
            };
            rejects.push(RejectRow {
                source_file: file.clone(),
                line: ln as i64,
                record_type: rtype.into(),
                field: String::new(),
                reason,
                raw: l.chars().take(500).collect(),
            });
            continue;
        }
        t.rows.push((ln, s, e));
    }
    t.text = txt;
    Loaded {
        stats,
        rejects,
        table: Some(t),
    }
}
