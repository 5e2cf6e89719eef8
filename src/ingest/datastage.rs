//! SAT Data Stage reader (`<folio>_<tipo>.asc`, pipe-delimited, header row, Latin-1 or
//! UTF-8, CRLF, trailing `|`). Field order and names: ../shared/domain/datastage-layout.md;
//! columns are mapped by header name (case and punctuation ignored, known aliases
//! accepted), never by position. The mapping to the dataset is documented in
//! `docs/schema.md` ("Data Stage mapping").
//!
//! Record types used: 501 (header), 506 (fechas), 507 (identificadores), 512 (descargos),
//! 551 (partidas), 554 (identificadores de partida), 556 (tasas de partida),
//! 557 (contribuciones de partida), 701 (rectificaciones), Sel (selección automatizada).
//! Other record types are listed in the manifest as not used.

use super::{FileStats, Parsed, text};
use crate::dataset::{
    DescargoRow, FxMap, IdentificadorRow, PartidaRow, PedimentoRow, RejectRow, Text,
};
use crate::model::{self, FieldError, FieldResult, MONEY_SCALE, QTY_SCALE, RATE_SCALE, catalog};
use chrono::NaiveDate;
use rayon::prelude::*;
use rust_decimal::Decimal;
use std::collections::HashMap;
use std::path::{Path, PathBuf};

pub const USED: &[&str] = &[
    "501", "506", "507", "512", "551", "554", "556", "557", "701", "SEL",
];

/// The record type from a file name: `1901508_501.asc` → `501`, `x_Sel.asc` → `SEL`.
pub fn record_type_of(p: &Path) -> Option<String> {
    let name = p.file_name()?.to_str()?;
    let (stem, ext) = name.rsplit_once('.')?;
    if !matches!(ext.to_ascii_lowercase().as_str(), "asc" | "txt") {
        return None;
    }
    let t = stem
        .rsplit_once('_')
        .map(|x| x.1)
        .unwrap_or(stem)
        .to_ascii_uppercase();
    let known = t.len() == 3
        && t.bytes().all(|b| b.is_ascii_digit())
        && (t.starts_with('5') || t.starts_with('7'));
    if known || t == "SEL" || t == "INCI" || t == "RESUMEN" {
        Some(t)
    } else {
        None
    }
}

/// Aliases seen across Data Stage versions (normalized names).
const ALIASES: &[(&str, &[&str])] = &[
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
        const FIELDS: &[&str] = &[$(stringify!($name)),*];

        /// The [`FIELDS`] as constants (`f::Patente` = `FIELDS[0]`), named as in the layout.
        #[allow(non_upper_case_globals)]
        mod f {
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
);

/// A field of [`FIELDS`] by position: rows look fields up by index, not by name.
#[derive(Debug, Clone, Copy)]
struct Fd(usize);

impl Fd {
    fn name(self) -> &'static str {
        FIELDS[self.0]
    }
}

struct Table<'a> {
    file: String,
    /// Index of the file in this parse (for per-row bookkeeping without cloning names).
    fi: usize,
    /// The decoded text (borrowed when the file is UTF-8).
    text: std::borrow::Cow<'a, str>,
    /// Index of the request (folder + folio) in path order: a later request wins.
    req: usize,
    rtype: String,
    cols: HashMap<String, usize>,
    ncols: usize,
    /// Every name of [`FIELDS`] resolved once per file, misses included (a field the
    /// file lacks must not be searched again on every row).
    lookup: Vec<Option<usize>>,
    /// Data rows that have the header's field count: (line number, byte range in `text`).
    rows: Vec<(usize, usize, usize)>,
}

impl<'a> Table<'a> {
    fn lines(&self) -> impl Iterator<Item = (usize, &str)> + '_ {
        self.rows.iter().map(|&(ln, s, e)| (ln, &self.text[s..e]))
    }

    fn par_lines(&self) -> impl IndexedParallelIterator<Item = (usize, &str)> + '_ {
        self.rows
            .par_iter()
            .map(|&(ln, s, e)| (ln, &self.text[s..e]))
    }

    fn idx(&self, name: &str) -> Option<usize> {
        match FIELDS.iter().position(|n| *n == name) {
            Some(i) => self.lookup[i],
            None => self.idx_slow(name),
        }
    }

    fn idx_slow(&self, name: &str) -> Option<usize> {
        column_of(&self.cols, name)
    }
}

/// The column of field `name` in a header (`cols`: normalized name → position), known
/// aliases included.
pub(super) fn column_of(cols: &HashMap<String, usize>, name: &str) -> Option<usize> {
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
struct Row<'a, 'b> {
    t: &'a Table<'a>,
    /// The row's fields, in a vector the caller reuses from row to row (no allocation
    /// per row, and no 768-byte field array copied out of `new`: memmove was 1.7% of a
    /// 10M ingest's CPU there).
    f: &'b [&'a str],
}

type Fail = (String, String); // (field, reason)

/// A vector of fields for [`Row::new`] to reuse.
fn fields_buf<'a>() -> Vec<&'a str> {
    Vec::with_capacity(48)
}

impl<'a, 'b> Row<'a, 'b> {
    fn new(t: &'a Table<'a>, line: &'a str, buf: &'b mut Vec<&'a str>) -> Row<'a, 'b> {
        buf.clear();
        buf.extend(text::split_byte(line, b'|'));
        if buf.len() == t.ncols + 1 {
            buf.pop();
        }
        Row { t, f: buf }
    }

    fn raw(&self, name: Fd) -> &'a str {
        self.t.lookup[name.0]
            .and_then(|i| self.f.get(i))
            .map(|s| model::trim(s))
            .unwrap_or("")
    }
    fn req<T>(&self, name: Fd, p: impl Fn(&str) -> FieldResult<T>, kind: &str) -> Result<T, Fail> {
        p(self.raw(name)).map_err(|FieldError(e)| (name.name().to_string(), format!("{kind}: {e}")))
    }
    fn opt<T>(
        &self,
        name: Fd,
        p: impl Fn(&str) -> FieldResult<T>,
        kind: &str,
    ) -> Result<Option<T>, Fail> {
        let v = self.raw(name);
        if v.is_empty() {
            Ok(None)
        } else {
            p(v).map(Some)
                .map_err(|FieldError(e)| (name.name().to_string(), format!("{kind}: {e}")))
        }
    }
    fn text(&self, name: Fd) -> Option<String> {
        let v = self.raw(name);
        (!v.is_empty()).then(|| v.to_string())
    }
    /// [`Row::text`] as inline text (no allocation up to 24 bytes).
    fn ctext(&self, name: Fd) -> Option<Text> {
        let v = self.raw(name);
        (!v.is_empty()).then(|| Text::from(v))
    }
    fn triple(&self) -> Result<Triple, Fail> {
        self.triple_of(f::SeccionAduanera, f::Patente, f::Pedimento)
    }

    /// A pedimento reference from three columns (own key, anterior, original).
    fn triple_of(&self, aduana: Fd, patente: Fd, numero: Fd) -> Result<Triple, Fail> {
        Ok(Triple {
            aduana: self.req(aduana, |s| fixed::<3>(s, aduana.name()), "bad field")?,
            patente: self.req(patente, |s| fixed::<4>(s, patente.name()), "bad field")?,
            numero: self.req(numero, |s| fixed::<7>(s, numero.name()), "bad field")?,
        })
    }
}

/// (aduana-sección, patente, número) as fixed-width digits: Copy, no allocation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Triple {
    aduana: [u8; 3],
    patente: [u8; 4],
    numero: [u8; 7],
}

/// Hashed as one number (its 14 digits), not as three length-prefixed arrays: six
/// hasher writes per lookup, and every 5xx row makes two or three lookups. Any byte
/// works (equal triples give equal numbers).
impl std::hash::Hash for Triple {
    fn hash<H: std::hash::Hasher>(&self, h: &mut H) {
        let digits = self.aduana.iter().chain(&self.patente).chain(&self.numero);
        h.write_u64(digits.fold(0u64, |n, b| {
            n.wrapping_mul(10).wrapping_add(b.wrapping_sub(b'0') as u64)
        }));
    }
}

impl Triple {
    fn a(&self) -> &str {
        std::str::from_utf8(&self.aduana).unwrap_or("")
    }
    fn p(&self) -> &str {
        std::str::from_utf8(&self.patente).unwrap_or("")
    }
    fn n(&self) -> &str {
        std::str::from_utf8(&self.numero).unwrap_or("")
    }
}

/// Left-pads a numeric code to N digits without allocating (same rules as `model::digits`).
fn fixed<const N: usize>(s: &str, what: &str) -> FieldResult<[u8; N]> {
    let t = model::trim(s).as_bytes();
    if t.is_empty() || t.len() > N || !t.iter().all(u8::is_ascii_digit) {
        return model::digits(s, N, what).map(|_| [b'0'; N]);
    }
    let mut out = [b'0'; N];
    out[N - t.len()..].copy_from_slice(t);
    Ok(out)
}

/// `model::fraccion` as inline text, without collecting chars when the field is already
/// 8 digits (the usual case).
fn fraccion_text(s: &str) -> FieldResult<Text> {
    let t = model::trim(s);
    if t.len() == 8 && t.bytes().all(|b| b.is_ascii_digit()) {
        return Ok(Text::from(t));
    }
    model::fraccion(s).map(Text::from)
}

fn dec(s: &str, scale: u32) -> FieldResult<Decimal> {
    model::decimal(s, scale)
}

const REQUIRED: &[(&str, &[&str])] = &[
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
struct Loaded<'a> {
    stats: FileStats,
    rejects: Vec<RejectRow>,
    table: Option<Table<'a>>,
}

/// Decodes one file and checks each row's shape. Pure (no shared state), so the files
/// of a run are loaded in parallel; rows are byte ranges into the decoded text, not
/// copies.
fn load<'a>(input: &Input<'a>, rtype: &str, fi: usize) -> Loaded<'a> {
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
    let base = txt.as_ptr() as usize;
    let (header, data) = {
        let lines = text::lines(&txt);
        let data: Vec<(usize, usize, usize)> = lines
            .iter()
            .skip(1)
            .filter(|(_, l)| !model::trim(l).is_empty())
            .map(|(ln, l)| {
                let s = l.as_ptr() as usize - base;
                (line_no(*ln), s, s + l.len())
            })
            .collect();
        stats.blank_lines = lines.len().saturating_sub(1) - data.len();
        (lines.first().map(|(_, h)| h.to_string()), data)
    };
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
        // Periodic progress on long runs (stderr; the summary table follows on stdout).
        eprintln!("  read {file}: {} rows ({enc}), parsing...", data.len());
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
                reason: format!(
                    "missing column: the header of this file lacks {}",
                    missing.join(", ")
                ),
                raw: l.chars().take(500).collect(),
            });
            continue;
        }
        let mut nf = l.bytes().filter(|b| *b == b'|').count() + 1;
        // (The last field, found by memrchr: `rsplit` searched char by char.)
        if nf == ncols + 1
            && l.rfind('|')
                .is_some_and(|i| model::trim(&l[i + 1..]).is_empty())
        {
            nf -= 1;
        }
        if nf != ncols {
            let kind = if nf < ncols {
                "truncated line"
            } else {
                "too many fields"
            };
            rejects.push(RejectRow {
                source_file: file.clone(),
                line: ln as i64,
                record_type: rtype.into(),
                field: String::new(),
                reason: format!("{kind}: {nf} fields, the header has {ncols}"),
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

/// What [`Ctx::resolve_memo`] remembers of the last row it resolved: its (triple, date),
/// the pedimento and that header's index in `rows`.
#[derive(Default)]
struct Memo {
    last: Option<(RowRef, (Triple, i32), usize)>,
}

/// The pedimento reference of a dependent row: its triple and date.
type RowRef = (Triple, Option<NaiveDate>);

struct Ctx {
    /// Accepted 501 rows by (triple, year): their index in `rows`. The map holds small
    /// entries, not the rows: every 5xx row looks its pedimento up here, and a table of
    /// 300-byte buckets missed the cache on most probes.
    headers: FxMap<(Triple, i32), usize>,
    rows: Vec<PedimentoRow>,
    /// Per row of `rows`: its key in `headers` (the cursor of [`Ctx::resolve_memo`]).
    keys: Vec<(Triple, i32)>,
    /// Years per triple (to resolve rows that carry no usable date).
    years_of: FxMap<Triple, Vec<i32>>,
    /// 501 rows rejected: dependent rows are rejected with a pointer to them.
    rejected_headers: HashMap<Triple, String>,
    /// Per row of `rows`: the request of its 501 row.
    reqs: Vec<usize>,
    /// Several requests in the run: rows are checked against their header's request.
    multi: bool,
    /// A row came from another request than its pedimento's 501 (or a 501 replaced one
    /// of another request): only then can a request supersede another's rows, and the
    /// per-key "latest request" maps are built (they cost 4-5% of a 10M ingest, whose 5
    /// yearly requests never overlap).
    mixed: std::sync::atomic::AtomicBool,
    /// Per row of `rows` when some pedimento is rejected after its 501 row was accepted
    /// (a value total that overflows): its later rows are rejected. Empty otherwise.
    dead: Vec<bool>,
    /// Pedimentos (triples) some dependent row named without a 501 row for it.
    missing: std::sync::Mutex<std::collections::HashSet<Triple>>,
    /// Rows of `rows` whose 501 replaced a different earlier version in this run (that
    /// version is already a conflict: a partida of another request is not one again).
    replaced: std::collections::HashSet<usize>,
}

impl Ctx {
    fn row(&self, k: &(Triple, i32)) -> &PedimentoRow {
        &self.rows[self.headers[k]]
    }
    /// The header of a key `resolve` returned.
    fn row_mut(&mut self, k: &(Triple, i32)) -> &mut PedimentoRow {
        &mut self.rows[self.headers[k]]
    }
    /// [`Ctx::resolve`] for a row of request `req` that is kept per latest request
    /// (507, 551, 554, 556/557, 512); notes when its pedimento's 501 is of another.
    /// Remembers the last row's answer: the rows of a pedimento are consecutive in a file
    /// (551: one per partida, 556/557: several per partida), and each resolve is two or
    /// three probes of tables far larger than the cache.
    fn resolve_memo(
        &self,
        memo: &mut Memo,
        t: &Triple,
        date: Option<NaiveDate>,
        req: usize,
    ) -> Result<((Triple, i32), usize), Fail> {
        if let Some(((mt, md), k, at)) = &memo.last
            && mt == t
            && *md == date
        {
            return Ok((*k, *at));
        }
        let (k, at) = self.resolve_at(memo, t, date)?;
        self.alive(at)?;
        if self.multi && self.reqs[at] != req {
            self.mixed.store(true, std::sync::atomic::Ordering::Relaxed);
        }
        Ok((k, at))
    }
    /// [`Ctx::resolve`] with the header's index in `rows`, for a row that follows the row
    /// `memo` last resolved. Files list pedimentos in the order of their 501 rows, so the
    /// next pedimento is usually the next header: when `keys` there is the row's own
    /// (triple, year of its date) it is the header `headers` would give (each key has one
    /// index), found without a probe of a table larger than the cache. Otherwise (no
    /// date, another order, another year) it is looked up as [`Ctx::locate`] does.
    fn resolve_at(
        &self,
        memo: &mut Memo,
        t: &Triple,
        date: Option<NaiveDate>,
    ) -> Result<((Triple, i32), usize), Fail> {
        if let Some(d) = date
            && let Some((_, _, at)) = memo.last
            && let Some(k) = self.keys.get(at + 1)
            && k.0 == *t
            && k.1 == chrono::Datelike::year(&d)
        {
            memo.last = Some(((*t, date), *k, at + 1));
            return Ok((*k, at + 1));
        }
        let (k, at) = self.locate(t, date)?;
        let at = at.unwrap_or_else(|| self.headers[&k]);
        memo.last = Some(((*t, date), k, at));
        Ok((k, at))
    }
    /// Fails for a pedimento rejected after its 501 row was accepted.
    #[inline]
    fn alive(&self, at: usize) -> Result<(), Fail> {
        if self.dead.is_empty() || !self.dead[at] {
            return Ok(());
        }
        Err((
            "Pedimento".into(),
            format!(
                "pedimento rejected: {} was rejected (total overflow; see its 501 row, {}:{})",
                self.rows[at].pedimento_id, self.rows[at].source_file, self.rows[at].source_line
            ),
        ))
    }
    /// Whether a row may come from another request than its pedimento's 501.
    fn mixed(&self) -> bool {
        self.mixed.load(std::sync::atomic::Ordering::Relaxed)
    }
    /// Finds the pedimento a dependent row belongs to.
    fn resolve(&self, t: &Triple, date: Option<NaiveDate>) -> Result<(Triple, i32), Fail> {
        let (k, at) = self.locate(t, date)?;
        if !self.dead.is_empty() {
            self.alive(at.unwrap_or_else(|| self.headers[&k]))?;
        }
        Ok(k)
    }
    /// [`Ctx::resolve`], with the header's index in `rows` when its lookup found it (the
    /// row's own date names the year; not when the year came from `years_of`).
    fn locate(
        &self,
        t: &Triple,
        date: Option<NaiveDate>,
    ) -> Result<((Triple, i32), Option<usize>), Fail> {
        if let Some(d) = date {
            use chrono::Datelike;
            let k = (*t, d.year());
            if let Some(&at) = self.headers.get(&k) {
                return Ok((k, Some(at)));
            }
        }
        match self.years_of.get(t).map(|v| v.as_slice()) {
            Some([y]) => Ok(((*t, *y), None)),
            Some(ys) if ys.len() > 1 => {
                // Several years share this number: take the latest paid on or before the date.
                if let Some(d) = date {
                    let best = ys
                        .iter()
                        .filter(|y| self.row(&(*t, **y)).fecha_pago <= d)
                        .max();
                    if let Some(y) = best {
                        return Ok(((*t, *y), None));
                    }
                }
                Err((
                    "Pedimento".into(),
                    format!(
                        "ambiguous pedimento: {}-{}-{} exists in years {:?}; the row's date does not pick one",
                        t.a(),
                        t.p(),
                        t.n(),
                        ys
                    ),
                ))
            }
            _ => {
                if let Some(at) = self.rejected_headers.get(t) {
                    Err((
                        "Pedimento".into(),
                        format!("pedimento rejected: its 501 row ({at}) was rejected"),
                    ))
                } else {
                    if let Ok(mut m) = self.missing.lock() {
                        m.insert(*t);
                    }
                    Err((
                        "Pedimento".into(),
                        format!(
                            "missing pedimento: no 501 datos generales row for {}-{}-{} (in this input or the dataset)",
                            t.a(),
                            t.p(),
                            t.n()
                        ),
                    ))
                }
            }
        }
    }
}

/// `YYYY-ASS-PPPP-NNNNNNN` (the dataset's `pedimento_id`), built without `format!`: one
/// per 551-557 row.
fn pid(t: &Triple, year: i32) -> String {
    pid_text(t, year).into()
}

/// [`pid`] as inline text (no allocation: one per 551 row).
fn pid_text(t: &Triple, year: i32) -> Text {
    if !(0..=9999).contains(&year) {
        return compact_str::format_compact!("{year:04}-{}-{}-{}", t.a(), t.p(), t.n());
    }
    let y = year as u32;
    let mut b = [0u8; 21];
    for (i, d) in [y / 1000, y / 100 % 10, y / 10 % 10, y % 10]
        .iter()
        .enumerate()
    {
        b[i] = b'0' + *d as u8;
    }
    b[4] = b'-';
    b[5..8].copy_from_slice(&t.aduana);
    b[8] = b'-';
    b[9..13].copy_from_slice(&t.patente);
    b[13] = b'-';
    b[14..21].copy_from_slice(&t.numero);
    // Triple's bytes are ASCII digits (`fixed`).
    Text::from_utf8(b).expect("ASCII digits")
}

fn reject_row(parsed: &mut Parsed, t: &Table, line: usize, f: &str, fail: Fail) {
    let raw: String = f.chars().take(500).collect();
    parsed.reject(RejectRow {
        source_file: t.file.clone(),
        line: line as i64,
        record_type: t.rtype.clone(),
        field: fail.0,
        reason: fail.1,
        raw,
    });
}

/// One Data Stage file to parse: a whole file, or the rows of one file that fall in one
/// shard of a sharded ingest (`shard.rs`).
pub struct Input<'a> {
    /// The original file: it names the rows in stats and rejects and gives the request.
    pub path: &'a Path,
    pub bytes: &'a [u8],
    pub hash: &'a str,
    /// A shard is decoded as its whole file was (`Some(true)`: Latin-1), decided when the
    /// file was split; `None`: detect.
    pub latin1: Option<bool>,
    /// A shard's data lines' numbers in the original file (a shard has no blank lines).
    pub lines: Option<&'a [u32]>,
}

/// Parses a set of Data Stage files (all record types of one or more requests).
pub fn parse(files: &[(PathBuf, Vec<u8>, String)], parsed: &mut Parsed) {
    parse_in(files, parsed, None)
}

/// [`parse`], resolving rows whose 501 is not in the input against the dataset at
/// `dataset` ([`parse_inputs_in`]).
pub fn parse_in(files: &[(PathBuf, Vec<u8>, String)], parsed: &mut Parsed, dataset: Option<&Path>) {
    let inputs: Vec<Input> = files
        .iter()
        .map(|(p, b, h)| Input {
            path: p,
            bytes: b,
            hash: h,
            latin1: None,
            lines: None,
        })
        .collect();
    parse_inputs_in(&inputs, parsed, dataset)
}

/// Parses a set of Data Stage inputs (all record types of one or more requests; in a
/// sharded ingest, the rows of one shard).
pub fn parse_inputs(files: &[Input], parsed: &mut Parsed) {
    parse_inputs_in(files, parsed, None)
}

/// [`parse_inputs`], resolving the dependent rows (551, 507, ...) whose pedimento has no
/// 501 row in this input against the pedimentos already in the dataset at `dataset` (a
/// 551 file that arrives in a later run than its 501). Such rows are rare: the input is
/// parsed once; only when some row misses its pedimento and the dataset has it, it is
/// parsed again with those headers known.
pub fn parse_inputs_in(files: &[Input], parsed: &mut Parsed, dataset: Option<&Path>) {
    let mut first = Parsed::default();
    let missing = parse_seeded(files, &mut first, &[]);
    if let Some(root) = dataset
        && !missing.is_empty()
    {
        let seeds = dataset_headers(root, &missing);
        if !seeds.is_empty() {
            first = Parsed::default();
            parse_seeded(files, &mut first, &seeds);
        }
    }
    parsed.absorb(first);
}

/// The stored headers of the pedimentos with these (aduana-sección, patente, número).
fn dataset_headers(root: &Path, keys: &std::collections::HashSet<Triple>) -> Vec<PedimentoRow> {
    let mut out = vec![];
    for y in crate::dataset::years(root) {
        for p in crate::dataset::table_files(&crate::dataset::year_dir(root, y), "pedimentos") {
            let Ok(batches) = crate::dataset::read_parquet(&p) else {
                continue;
            };
            for b in &batches {
                for h in crate::dataset::pedimento_rows(b).unwrap_or_default() {
                    let t = Triple {
                        aduana: fixed::<3>(&h.aduana_seccion, "").unwrap_or([0; 3]),
                        patente: fixed::<4>(&h.patente, "").unwrap_or([0; 4]),
                        numero: fixed::<7>(&h.numero, "").unwrap_or([0; 7]),
                    };
                    if keys.contains(&t) {
                        out.push(h);
                    }
                }
            }
        }
    }
    out
}

/// The parse, with `seeds` (stored headers) known as pedimentos besides the 501 rows;
/// returns the pedimentos some row missed.
#[allow(clippy::type_complexity)]
fn parse_seeded(
    files: &[Input],
    parsed: &mut Parsed,
    seeds: &[PedimentoRow],
) -> std::collections::HashSet<Triple> {
    let mut tables: HashMap<String, Vec<Table>> = HashMap::new();
    let request = |p: &Path| {
        let stem = p.file_stem().and_then(|s| s.to_str()).unwrap_or("");
        (
            p.parent().map(Path::to_path_buf),
            stem.rsplit_once('_').map(|x| x.0.to_string()),
        )
    };
    let mut requests: Vec<_> = files.iter().map(|i| request(i.path)).collect();
    requests.sort();
    requests.dedup();
    // One request (the usual case): no row can be superseded by a later request.
    let single = requests.len() <= 1;
    let mut st = crate::timing::Stages::new("datastage");
    let loaded: Vec<Loaded> = files
        .par_iter()
        .enumerate()
        .map(|(fi, input)| {
            let rtype = record_type_of(input.path).unwrap_or_default();
            load(input, &rtype, fi)
        })
        .collect();
    let names: Vec<String> = loaded.iter().map(|l| l.stats.file.clone()).collect();
    for (l, Input { path: p, .. }) in loaded.into_iter().zip(files) {
        parsed.files.push(l.stats);
        for r in l.rejects {
            parsed.reject(r);
        }
        if let Some(mut t) = l.table {
            t.req = requests.binary_search(&request(p)).unwrap_or(0);
            tables.entry(t.rtype.clone()).or_default().push(t);
        }
    }
    // The same pedimento may come in several requests (overlapping date ranges): for
    // each pedimento and record type the rows of the latest request that has any are
    // stored, the others are counted as `duplicates` of their file (accepted, not
    // stored twice: IGI, descargos and identificadores must not double).
    let mut dups: Vec<usize> = vec![0; files.len()];
    fn take<'a>(tables: &mut HashMap<String, Vec<Table<'a>>>, k: &str) -> Vec<Table<'a>> {
        tables.remove(k).unwrap_or_default()
    }

    st.mark("load");
    // 501: headers.
    let mut ctx = Ctx {
        headers: FxMap::default(),
        rows: vec![],
        keys: vec![],
        years_of: FxMap::default(),
        rejected_headers: HashMap::new(),
        reqs: vec![],
        multi: !single,
        mixed: false.into(),
        dead: vec![],
        replaced: Default::default(),
        missing: Default::default(),
    };
    let n501: usize = tables
        .get("501")
        .map_or(0, |ts| ts.iter().map(|t| t.rows.len()).sum());
    ctx.headers.reserve(n501);
    ctx.rows.reserve(n501);
    ctx.keys.reserve(n501);
    ctx.years_of.reserve(n501);
    for t in take(&mut tables, "501") {
        let mut accepted = 0;
        let mut buf = fields_buf();
        for (ln, f) in t.lines() {
            let r = Row::new(&t, f, &mut buf);
            match header_501(&r) {
                Ok((tr, mut row)) => {
                    row.source_line = ln as i64;
                    let key = (tr, row.year);
                    if let Some(&i) = ctx.headers.get(&key) {
                        if crate::dataset::same_content(&ctx.rows[i], &row) {
                            accepted += 1; // identical duplicate: kept once
                            dups[t.fi] += 1;
                            continue;
                        }
                        // A different version: the later row wins, the earlier is kept as a conflict.
                        let year = row.year;
                        if ctx.reqs[i] != t.req {
                            *ctx.mixed.get_mut() = true;
                            ctx.reqs[i] = t.req;
                        }
                        let old = std::mem::replace(&mut ctx.rows[i], row);
                        parsed.years.entry(year).or_default().conflicts.push(old);
                        ctx.replaced.insert(i);
                    } else {
                        ctx.years_of.entry(tr).or_default().push(row.year);
                        ctx.headers.insert(key, ctx.rows.len());
                        ctx.keys.push(key);
                        ctx.rows.push(row);
                        ctx.reqs.push(t.req);
                    }
                    accepted += 1;
                }
                Err(fail) => {
                    if let Ok(tr) = r.triple() {
                        ctx.rejected_headers
                            .insert(tr, format!("{}:{}", t.file, ln));
                    }
                    reject_row(parsed, &t, ln, f, fail);
                }
            }
        }
        parsed.accept(&t.file, accepted);
    }

    // Stored headers of pedimentos this input's rows name without their 501 row.
    let seeded_from = ctx.rows.len();
    for h in seeds {
        let tr = Triple {
            aduana: fixed::<3>(&h.aduana_seccion, "").unwrap_or([0; 3]),
            patente: fixed::<4>(&h.patente, "").unwrap_or([0; 4]),
            numero: fixed::<7>(&h.numero, "").unwrap_or([0; 7]),
        };
        let key = (tr, h.year);
        if ctx.headers.contains_key(&key) || ctx.rejected_headers.contains_key(&tr) {
            continue;
        }
        ctx.years_of.entry(tr).or_default().push(h.year);
        ctx.headers.insert(key, ctx.rows.len());
        ctx.keys.push(key);
        ctx.rows.push(h.clone());
        ctx.reqs.push(0);
    }
    st.mark("501");
    // 551 partidas (parsed in parallel: the largest table by far).
    let n551: usize = tables
        .get("551")
        .map_or(0, |ts| ts.iter().map(|t| t.rows.len()).sum());
    // Reserved when the first table is not taken as it is (an unused reservation would
    // stay resident: freed pages are kept for reuse during a sharded ingest).
    let mut partidas: Vec<PartidaRow> = vec![];
    let mut preq: Vec<(usize, usize)> = Vec::with_capacity(n551);
    let mut pkeys: Vec<(Triple, i32)> = Vec::with_capacity(n551);
    let mut pindex: FxMap<(Triple, i32, i32), usize> = FxMap::default();
    pindex.reserve(n551);
    // Partidas replaced by a later row of the same partida: (index in `partidas`, the
    // earlier row, its file, whether it differs), and per file the count of those that
    // differ (conflicts).
    let mut replaced: Vec<(usize, PartidaRow, usize, bool)> = vec![];
    let mut confl: Vec<usize> = vec![0; files.len()];
    for t in take(&mut tables, "551") {
        // Keys (or the failure) and rows in two vectors, each written in place by the
        // parallel parse: a clean first table becomes `partidas` as it is, without moving
        // every 400-byte row once more (that copy was ~4% of a 10M ingest's CPU). A row
        // that failed is a placeholder, never stored.
        let mut results: Vec<Result<(Triple, i32), Fail>> = vec![];
        let mut rows: Vec<PartidaRow> = vec![];
        t.par_lines()
            .map_init(
                || (Memo::default(), fields_buf()),
                |(memo, buf), (ln, f)| {
                    let mut parse = || {
                        let r = Row::new(&t, f, buf);
                        let tr = r.triple()?;
                        let pd = r.opt(f::FechaPagoReal, model::date, "bad date")?;
                        let mut p = partida_551(&r, ln)?;
                        let (key, _) = ctx.resolve_memo(memo, &tr, pd, t.req)?;
                        p.pedimento_id = pid_text(&key.0, key.1);
                        Ok((key, p))
                    };
                    match parse() {
                        Ok((key, p)) => (Ok(key), p),
                        Err(e) => (Err(e), PartidaRow::default()),
                    }
                },
            )
            .unzip_into_vecs(&mut results, &mut rows);
        if partidas.is_empty() && results.iter().all(|r| r.is_ok()) {
            // Every row new and distinct: the rows are the partidas, in order.
            let distinct = results.iter().zip(&rows).enumerate().all(|(j, (key, p))| {
                let key = *key.as_ref().expect("checked ok");
                let k = (key.0, key.1, p.partida);
                pindex.insert(k, j).is_none() && {
                    pkeys.push(key);
                    preq.push((t.req, t.fi));
                    true
                }
            });
            if distinct {
                partidas = rows;
                parsed.accept(&t.file, partidas.len());
                continue;
            }
            // A partida repeated: start over, row by row.
            pindex.clear();
            pkeys.clear();
            preq.clear();
        }
        partidas.reserve(n551.saturating_sub(partidas.len()));
        let mut acc = 0;
        for ((ln, f), (res, p)) in t.lines().zip(results.into_iter().zip(rows)) {
            match res {
                Ok(key) => {
                    match pindex.entry((key.0, key.1, p.partida)) {
                        std::collections::hash_map::Entry::Occupied(e) => {
                            // Same partida again: the later row wins. An identical
                            // repeat is counted; a different version is also a conflict
                            // (the earlier row's pedimento goes to `conflicts`).
                            let i = *e.get();
                            let fi = preq[i].1;
                            dups[fi] += 1;
                            let old = std::mem::replace(&mut partidas[i], p);
                            // (A partida of another file whose pedimento's 501 was
                            // replaced by a different version: already a conflict.)
                            let differs = !crate::dataset::same_partida(&old, &partidas[i])
                                && (fi == t.fi || !ctx.replaced.contains(&ctx.headers[&key]));
                            if differs {
                                confl[fi] += 1;
                            }
                            replaced.push((i, old, fi, differs));
                            preq[i] = (t.req, t.fi);
                        }
                        std::collections::hash_map::Entry::Vacant(e) => {
                            e.insert(partidas.len());
                            partidas.push(p);
                            preq.push((t.req, t.fi));
                            pkeys.push(key);
                        }
                    }
                    acc += 1;
                }
                Err(e) => reject_row(parsed, &t, ln, f, e),
            }
        }
        parsed.accept(&t.file, acc);
    }

    // Value totals per header (501 carries none), checked: a total that does not fit
    // DECIMAL(18,2) rejects its pedimento (the 501 row and every partida now; its other
    // rows, parsed next, as rows of a rejected pedimento) instead of wrapping when stored.
    // Summed over every partida; recomputed at the end only when some are not kept.
    let mut sums = vec![(Decimal::ZERO, Decimal::ZERO, Decimal::ZERO); ctx.rows.len()];
    {
        let mut last: Option<(&(Triple, i32), usize)> = None;
        for (p, k) in partidas.iter().zip(&pkeys) {
            let at = match last {
                Some((lk, at)) if lk == k => at,
                _ => ctx.headers[k],
            };
            last = Some((k, at));
            let e = &mut sums[at];
            crate::dataset::add_checked(&mut e.0, p.valor_dolares);
            crate::dataset::add_checked(&mut e.1, p.valor_aduana);
            crate::dataset::add_checked(&mut e.2, p.valor_comercial);
        }
    }
    let overflow: Vec<(usize, &'static str)> = sums
        .iter()
        .enumerate()
        .filter_map(|(at, t)| crate::dataset::total_overflow(t).map(|c| (at, c)))
        .collect();
    if !overflow.is_empty() {
        ctx.dead = vec![false; ctx.rows.len()];
        let mut why: HashMap<usize, String> = HashMap::new();
        for (at, col) in &overflow {
            ctx.dead[*at] = true;
            let h = &ctx.rows[*at];
            let reason = format!(
                "total overflow: the {col} of pedimento {} (the sum of its partidas) does not fit DECIMAL(18,2); the pedimento is rejected",
                h.pedimento_id
            );
            parsed.unaccept(&h.source_file);
            parsed.reject(RejectRow {
                source_file: h.source_file.clone(),
                line: h.source_line,
                record_type: "501".into(),
                field: (*col).into(),
                reason: reason.clone(),
                raw: String::new(),
            });
            why.insert(*at, reason);
        }
        let col_of = |at: usize| overflow.iter().find(|o| o.0 == at).map_or("", |o| o.1);
        // Earlier rows of a repeated partida of such a pedimento: rejected too.
        let mut kept = vec![];
        for (i, old, fi, differs) in std::mem::take(&mut replaced) {
            let at = ctx.headers[&pkeys[i]];
            match why.get(&at) {
                Some(reason) => {
                    dups[fi] -= 1;
                    confl[fi] -= differs as usize;
                    parsed.unaccept(&names[fi]);
                    parsed.reject(RejectRow {
                        source_file: names[fi].clone(),
                        line: old.source_line,
                        record_type: "551".into(),
                        field: col_of(at).into(),
                        reason: reason.clone(),
                        raw: String::new(),
                    });
                }
                None => kept.push((i, old, fi, differs)),
            }
        }
        replaced = kept;
        for (i, (p, k)) in partidas.iter().zip(&pkeys).enumerate() {
            let at = ctx.headers[k];
            if let Some(reason) = why.get(&at) {
                let file = &names[preq[i].1];
                parsed.unaccept(file);
                parsed.reject(RejectRow {
                    source_file: file.clone(),
                    line: p.source_line,
                    record_type: "551".into(),
                    field: col_of(at).into(),
                    reason: reason.clone(),
                    raw: String::new(),
                });
            }
        }
    }
    st.mark("551");
    // 506 fechas: TipoFecha 1 = entrada.
    for t in take(&mut tables, "506") {
        let mut acc = 0;
        let mut memo = Memo::default();
        let mut buf = fields_buf();
        for (ln, f) in t.lines() {
            let r = Row::new(&t, f, &mut buf);
            let res = (|| {
                let tr = r.triple()?;
                let tipo = r.raw(f::TipoFecha).to_string();
                let fecha = r.req(f::FechaOperacion, model::date, "bad date")?;
                let pd = r.opt(f::FechaValidacionPagoR, model::date, "bad date")?;
                let (_, at) = ctx.resolve_at(&mut memo, &tr, pd.or(Some(fecha)))?;
                ctx.alive(at)?;
                Ok::<_, Fail>((at, tipo, fecha))
            })();
            match res {
                Ok((at, tipo, fecha)) => {
                    if tipo == "1" {
                        ctx.rows[at].fecha_entrada = Some(fecha);
                    }
                    acc += 1;
                }
                Err(e) => reject_row(parsed, &t, ln, f, e),
            }
        }
        parsed.accept(&t.file, acc);
    }

    // Sel: fecha de selección automatizada (the date plazos count from, seed 004 L4089).
    for t in take(&mut tables, "SEL") {
        let mut acc = 0;
        let mut memo = Memo::default();
        let mut buf = fields_buf();
        for (ln, f) in t.lines() {
            let r = Row::new(&t, f, &mut buf);
            let res = (|| {
                let tr = r.triple()?;
                let fecha = r.req(f::FechaSeleccion, model::date, "bad date")?;
                let (_, at) = ctx.resolve_at(&mut memo, &tr, Some(fecha))?;
                ctx.alive(at)?;
                Ok::<_, Fail>((at, fecha))
            })();
            match res {
                Ok((at, fecha)) => {
                    let h = &mut ctx.rows[at];
                    // Several remesas: the plazo starts with the first selección.
                    if h.fecha_seleccion.is_none_or(|d| fecha < d) {
                        h.fecha_seleccion = Some(fecha);
                        h.fecha_operacion = fecha;
                    }
                    acc += 1;
                }
                Err(e) => reject_row(parsed, &t, ln, f, e),
            }
        }
        parsed.accept(&t.file, acc);
    }

    st.mark("506");
    // 507 identificadores (pedimento level). IM → IMMEX program; V-series → counterpart.
    let mut idents: Vec<IdentificadorRow> = vec![];
    let mut ireq: Vec<(usize, usize)> = vec![]; // (request, file) per identificador
    for t in take(&mut tables, "507") {
        let mut acc = 0;
        let mut memo = Memo::default();
        let mut buf = fields_buf();
        for (ln, f) in t.lines() {
            let r = Row::new(&t, f, &mut buf);
            let res = (|| {
                let tr = r.triple()?;
                let pd = r.opt(f::FechaValidacionPagoR, model::date, "bad date")?;
                let (_, at) = ctx.resolve_memo(&mut memo, &tr, pd, t.req)?;
                let clave = r.raw(f::ClaveCaso).to_uppercase();
                if clave.is_empty() {
                    return Err((
                        "ClaveCaso".into(),
                        "bad field: identificador is empty".into(),
                    ));
                }
                Ok::<_, Fail>((
                    at,
                    clave,
                    r.text(f::IdentificadorCaso),
                    r.text(f::ComplementoCaso),
                ))
            })();
            match res {
                Ok((at, clave, c1, c2)) => {
                    let h = &mut ctx.rows[at];
                    apply_identifier(h, &clave, c1.as_deref(), c2.as_deref());
                    ireq.push((t.req, t.fi));
                    idents.push(IdentificadorRow {
                        pedimento_id: h.pedimento_id.clone(),
                        partida: None,
                        clave,
                        complemento1: c1,
                        complemento2: c2,
                        complemento3: None,
                        source_line: ln as i64,
                    });
                    acc += 1;
                }
                Err(e) => reject_row(parsed, &t, ln, f, e),
            }
        }
        parsed.accept(&t.file, acc);
    }

    st.mark("507");
    // 701 rectificaciones: the R1 names the pedimento it rectifies (anterior).
    #[allow(clippy::type_complexity)]
    let mut rect: HashMap<(Triple, i32), (String, Option<String>, Option<NaiveDate>, usize)> =
        HashMap::new();
    for t in take(&mut tables, "701") {
        let mut acc = 0;
        let mut buf = fields_buf();
        for (ln, f) in t.lines() {
            let r = Row::new(&t, f, &mut buf);
            let res = (|| {
                let tr = r.triple()?;
                let pd = r.opt(f::FechaPagoReal, model::date, "bad date")?;
                let key = ctx.resolve(&tr, pd)?;
                let ant = r.triple_of(
                    f::SeccionAduaneraAnterior,
                    f::PatenteAnterior,
                    f::PedimentoAnterior,
                )?;
                let fa = r.opt(f::FechaOperacionAnterior, model::date, "bad date")?;
                let ant_year = match fa {
                    Some(d) => chrono::Datelike::year(&d),
                    None => ctx.resolve(&ant, None).map(|k| k.1).unwrap_or(key.1),
                };
                let doc = r.text(f::DocumentoAnterior).map(|s| s.to_uppercase());
                Ok::<_, Fail>((key, pid(&ant, ant_year), doc, fa))
            })();
            match res {
                Ok((key, ant, doc, fa)) => {
                    rect.insert(key, (ant, doc, fa, t.fi));
                    acc += 1;
                }
                Err(e) => reject_row(parsed, &t, ln, f, e),
            }
        }
        parsed.accept(&t.file, acc);
    }
    // The rectified pedimentos' date and clave, as they were before any rectificación
    // is applied (only those named by a 701 row are looked up).
    let anteriores: std::collections::HashSet<&str> = rect.values().map(|r| r.0.as_str()).collect();
    let mut op_dates: HashMap<String, NaiveDate> = HashMap::new();
    let mut claves_of: HashMap<String, String> = HashMap::new();
    if !anteriores.is_empty() {
        for h in &ctx.rows {
            if anteriores.contains(h.pedimento_id.as_str()) {
                op_dates.insert(h.pedimento_id.clone(), h.fecha_operacion);
                claves_of.insert(h.pedimento_id.clone(), h.clave.clone());
            }
        }
    }
    drop(anteriores);
    for (key, (ant, doc, fa, fi)) in rect {
        let h = ctx.row_mut(&key);
        h.tipo_pedimento = 2;
        if h.clave == "R1"
            && let Some(c) = doc.clone().or_else(|| claves_of.get(&ant).cloned())
        {
            h.clave = c;
        }
        // A rectificación passes no selección (seed 004 L686): the operation keeps the
        // date of the pedimento it rectifies.
        if let Some(d) = op_dates.get(&ant).copied().or(fa) {
            h.fecha_operacion = d;
        }
        h.rectifica_id = Some(ant);
        parsed.supersede(&names[fi]);
    }

    st.mark("701");
    // 556 tasas and 557 contribuciones of the partida (applied below, per request).
    // (partida index, tasa (556) or importe (557), contribution, value, request, file)
    let mut contribs: Vec<(usize, bool, Option<Contrib>, Decimal, usize, usize)> = vec![];
    for rtype in ["556", "557"] {
        let tasa = rtype == "556";
        for t in take(&mut tables, rtype) {
            let mut acc = 0;
            // Parse in parallel (read-only lookups), apply in order.
            let results: Vec<Result<(usize, Option<Contrib>, Decimal), Fail>> = t
                .par_lines()
                // `last`: the previous row's partida and its index (a partida's
                // contributions are consecutive).
                .map_init(
                    || {
                        let last: Option<((Triple, i32, i32), usize)> = None;
                        (Memo::default(), last, fields_buf())
                    },
                    |(memo, last, buf), (_, f)| {
                        let r = Row::new(&t, f, buf);
                        let tr = r.triple()?;
                        let pd = r.opt(f::FechaPagoReal, model::date, "bad date")?;
                        let (key, _) = ctx.resolve_memo(memo, &tr, pd, t.req)?;
                        let sec = r.req(
                            f::SecuenciaFraccion,
                            |s| {
                                s.parse::<i32>().map_err(|_| {
                                    FieldError(format!("'{s}' is not a partida number"))
                                })
                            },
                            "bad field",
                        )?;
                        let pk = (key.0, key.1, sec);
                        let i = match *last {
                            Some((k, i)) if k == pk => i,
                            // The next partida (as stored: its key, once): the index the
                            // map holds for it, without a probe.
                            Some((_, i))
                                if pkeys.get(i + 1) == Some(&key)
                                    && partidas[i + 1].partida == sec =>
                            {
                                *last = Some((pk, i + 1));
                                i + 1
                            }
                            _ => {
                                let i = *pindex.get(&pk).ok_or_else(|| {
                                    (
                                        "SecuenciaFraccion".to_string(),
                                        format!(
                                            "missing partida: no 551 row for partida {sec} of {}",
                                            pid(&key.0, key.1)
                                        ),
                                    )
                                })?;
                                *last = Some((pk, i));
                                i
                            }
                        };
                        let code = Contrib::of(r.raw(f::ClaveContribucion).trim_start_matches('0'));
                        let v = if tasa {
                            r.req(f::TasaContribucion, |s| dec(s, RATE_SCALE), "not a number")?
                        } else {
                            r.req(f::ImportePago, |s| dec(s, MONEY_SCALE), "not a number")?
                        };
                        Ok::<_, Fail>((i, code, v))
                    },
                )
                .collect();
            for ((ln, f), res) in t.lines().zip(results) {
                match res {
                    Ok((i, code, v)) => {
                        contribs.push((i, tasa, code, v, t.req, t.fi));
                        acc += 1;
                    }
                    Err(e) => reject_row(parsed, &t, ln, f, e),
                }
            }
            parsed.accept(&t.file, acc);
        }
    }

    st.mark("556/557");
    // Per pedimento and record type, only the latest request's contributions count.
    // (One request: nothing to compare.)
    let single = single || !ctx.mixed();
    let cmax = if single {
        FxMap::default()
    } else {
        latest(contribs.iter().map(|c| ((pkeys[c.0], c.1), c.4)))
    };
    for (i, tasa, code, v, req, fi) in contribs {
        if !single && cmax[&(pkeys[i], tasa)] != req {
            dups[fi] += 1;
            continue;
        }
        let p = &mut partidas[i];
        let add =
            |slot: &mut Option<Decimal>, v: Decimal| *slot = Some(slot.unwrap_or_default() + v);
        match (tasa, code) {
            (true, Some(Contrib::Igi)) => p.igi_tasa = Some(v),
            (true, Some(Contrib::Iva)) => p.iva_tasa = Some(v),
            (true, Some(Contrib::Ieps)) => p.ieps_tasa = Some(v),
            (false, Some(Contrib::Igi)) => add(&mut p.igi_importe, v),
            (false, Some(Contrib::Iva)) => add(&mut p.iva_importe, v),
            (false, Some(Contrib::Ieps)) => add(&mut p.ieps_importe, v),
            (false, Some(Contrib::Dta)) => add(&mut p.dta_importe, v),
            _ => {} // other contributions are kept in the source only
        }
    }

    st.mark("contrib-apply");
    // 554 identificadores de partida.
    for t in take(&mut tables, "554") {
        let mut acc = 0;
        let mut memo = Memo::default();
        let mut buf = fields_buf();
        for (ln, f) in t.lines() {
            let r = Row::new(&t, f, &mut buf);
            let res = (|| {
                let tr = r.triple()?;
                let pd = r.opt(f::FechaPagoReal, model::date, "bad date")?;
                let (key, _) = ctx.resolve_memo(&mut memo, &tr, pd, t.req)?;
                let sec = r.req(
                    f::SecuenciaFraccion,
                    |s| {
                        s.parse::<i32>()
                            .map_err(|_| FieldError(format!("'{s}' is not a partida number")))
                    },
                    "bad field",
                )?;
                let id = pid(&key.0, key.1);
                if !pindex.contains_key(&(key.0, key.1, sec)) {
                    return Err((
                        "SecuenciaFraccion".into(),
                        format!("missing partida: no 551 row for partida {sec} of {id}"),
                    ));
                }
                let clave = r.raw(f::ClaveCaso).to_uppercase();
                if clave.is_empty() {
                    return Err((
                        "ClaveCaso".into(),
                        "bad field: identificador is empty".into(),
                    ));
                }
                Ok::<_, Fail>(IdentificadorRow {
                    pedimento_id: id,
                    partida: Some(sec),
                    clave,
                    complemento1: r.text(f::IdentificadorCaso),
                    complemento2: r.text(f::ComplementoCaso),
                    complemento3: None,
                    source_line: ln as i64,
                })
            })();
            match res {
                Ok(row) => {
                    idents.push(row);
                    ireq.push((t.req, t.fi));
                    acc += 1;
                }
                Err(e) => reject_row(parsed, &t, ln, f, e),
            }
        }
        parsed.accept(&t.file, acc);
    }

    st.mark("554");
    // 512 descargos: which temporary import a return/virtual operation discharges.
    let mut descargos: Vec<DescargoRow> = vec![];
    let mut dreq: Vec<(usize, usize)> = vec![];
    for t in take(&mut tables, "512") {
        let mut acc = 0;
        let mut memo = Memo::default();
        let mut buf = fields_buf();
        for (ln, f) in t.lines() {
            let r = Row::new(&t, f, &mut buf);
            let res = (|| {
                let tr = r.triple()?;
                let pd = r.opt(f::FechaPagoReal, model::date, "bad date")?;
                let (key, _) = ctx.resolve_memo(&mut memo, &tr, pd, t.req)?;
                let orig = r.triple_of(
                    f::SeccionAduaneraDespOrig,
                    f::PatenteAduanalOrig,
                    f::PedimentoOriginal,
                )?;
                let fo = r.opt(f::FechaOperacionOrig, model::date, "bad date")?;
                let oy = match fo {
                    Some(d) => chrono::Datelike::year(&d),
                    None => ctx.resolve(&orig, None).map(|k| k.1).map_err(|_| {
                        (
                            "FechaOperacionOrig".to_string(),
                            "bad date: empty, and the original pedimento is not in this input"
                                .to_string(),
                        )
                    })?,
                };
                Ok::<_, Fail>(DescargoRow {
                    pedimento_id: pid(&key.0, key.1),
                    original_id: pid(&orig, oy),
                    original_fraccion: r.opt(f::FraccionOriginal, model::fraccion, "bad field")?,
                    unidad_medida: r.text(f::UnidadMedida),
                    cantidad: r.opt(
                        f::MercanciaDescargada,
                        |s| dec(s, QTY_SCALE),
                        "not a number",
                    )?,
                    fecha_original: fo,
                    source_line: ln as i64,
                })
            })();
            match res {
                Ok(row) => {
                    descargos.push(row);
                    dreq.push((t.req, t.fi));
                    acc += 1;
                }
                Err(e) => reject_row(parsed, &t, ln, f, e),
            }
        }
        parsed.accept(&t.file, acc);
    }

    st.mark("512");
    // Keep, per pedimento and record type, the rows of the latest request.
    let single = single || !ctx.mixed();
    let mut keep = keep_mask(&pkeys, &preq, &mut dups, single);
    if !ctx.dead.is_empty() {
        // Partidas of a rejected pedimento (rejected with it, not duplicates).
        for (k, kp) in pkeys.iter().zip(keep.iter_mut()) {
            if ctx.dead[ctx.headers[k]] {
                *kp = false;
            }
        }
    }
    // Totals of the header from its kept partidas (501 carries no value totals), summed
    // per header index: a partida's pedimento is its key's header, found once per run of
    // partidas of one pedimento (the sums are `dataset::header_totals`', in the same order).
    // Summed after the 551 rows; again here only when some partidas are not kept.
    if keep.iter().any(|k| !k) {
        sums = vec![(Decimal::ZERO, Decimal::ZERO, Decimal::ZERO); ctx.rows.len()];
        let mut last: Option<(&(Triple, i32), usize)> = None;
        for ((p, k), _) in partidas.iter().zip(&pkeys).zip(&keep).filter(|x| *x.1) {
            let at = match last {
                Some((lk, at)) if lk == k => at,
                _ => ctx.headers[k],
            };
            last = Some((k, at));
            let e = &mut sums[at];
            crate::dataset::add_checked(&mut e.0, p.valor_dolares);
            crate::dataset::add_checked(&mut e.1, p.valor_aduana);
            crate::dataset::add_checked(&mut e.2, p.valor_comercial);
        }
    }
    // A partida given twice with different content: the pedimento as it was with the
    // earlier row (its totals with that row, named by that row's file and line) is a
    // conflict, reported by DATA-CONFLICT.
    for (i, old, fi, differs) in replaced {
        if !differs || !keep[i] {
            continue;
        }
        let at = ctx.headers[&pkeys[i]];
        let (kept, t) = (&partidas[i], sums[at]);
        let mut c = ctx.rows[at].clone();
        let swap = |t: Decimal, k: Decimal, o: Decimal| {
            t.checked_sub(k).and_then(|x| x.checked_add(o)).unwrap_or(t)
        };
        c.valor_dolares = swap(t.0, kept.valor_dolares, old.valor_dolares);
        c.valor_aduana = swap(t.1, kept.valor_aduana, old.valor_aduana);
        c.valor_comercial = swap(t.2, kept.valor_comercial, old.valor_comercial);
        c.source_file = names[fi].clone();
        c.source_line = old.source_line;
        parsed.years.entry(c.year).or_default().conflicts.push(c);
    }
    let partidas = filter_mask(partidas, &keep);
    let keep = {
        let keys: Vec<(&str, bool)> = idents
            .iter()
            .map(|i| (i.pedimento_id.as_str(), i.partida.is_some()))
            .collect();
        keep_mask(&keys, &ireq, &mut dups, single)
    };
    let idents = filter_mask(idents, &keep);
    let keep = {
        let keys: Vec<&str> = descargos.iter().map(|d| d.pedimento_id.as_str()).collect();
        keep_mask(&keys, &dreq, &mut dups, single)
    };
    let descargos = filter_mask(descargos, &keep);
    for (f, n) in names.iter().zip(&dups) {
        if *n > 0
            && let Some(st) = parsed.files.iter_mut().find(|s| &s.file == f)
        {
            st.duplicates += n;
        }
    }
    for (f, n) in names.iter().zip(&confl) {
        if *n > 0
            && let Some(st) = parsed.files.iter_mut().find(|s| &s.file == f)
        {
            st.conflicts += n;
        }
    }

    st.mark("keep-latest");
    let mut per_year: std::collections::BTreeMap<i32, usize> = Default::default();
    for k in &pkeys {
        *per_year.entry(k.1).or_default() += 1;
    }
    for (y, n) in per_year {
        parsed.years.entry(y).or_default().partidas.reserve(n);
    }
    drop(ctx.headers);
    let dead = std::mem::take(&mut ctx.dead);
    let missing = std::mem::take(&mut ctx.missing)
        .into_inner()
        .unwrap_or_default();
    for (at, (mut row, (vd, va, vc))) in ctx.rows.into_iter().zip(sums).enumerate() {
        if dead.get(at) == Some(&true) {
            continue; // rejected (total overflow)
        }
        if at >= seeded_from {
            // A stored pedimento this input adds rows to.
            parsed
                .years
                .entry(row.year)
                .or_default()
                .partial
                .insert(row.pedimento_id.clone());
        }
        (row.valor_dolares, row.valor_aduana, row.valor_comercial) = (vd, va, vc);
        parsed
            .years
            .entry(row.year)
            .or_default()
            .pedimentos
            .push(row);
    }
    let year_of = |id: &str| id[..4].parse::<i32>().unwrap_or(0);
    for p in partidas {
        parsed
            .years
            .entry(year_of(&p.pedimento_id))
            .or_default()
            .partidas
            .push(p);
    }
    for i in idents {
        parsed
            .years
            .entry(year_of(&i.pedimento_id))
            .or_default()
            .identificadores
            .push(i);
    }
    for d in descargos {
        parsed
            .years
            .entry(year_of(&d.pedimento_id))
            .or_default()
            .descargos
            .push(d);
    }
    for y in parsed.years.values_mut() {
        y.pedimentos
            .par_sort_by(|a, b| a.pedimento_id.cmp(&b.pedimento_id));
        // Usually already in order (a request lists partidas by pedimento): check first.
        let key = |a: &PartidaRow, b: &PartidaRow| {
            (&a.pedimento_id, a.partida).cmp(&(&b.pedimento_id, b.partida))
        };
        if !y.partidas.is_sorted_by(|a, b| key(a, b).is_le()) {
            y.partidas.par_sort_by(key);
        }
    }
    st.mark("totals+years+sort");
    missing
}

/// Applies a pedimento-level identifier to the header. Conventions (documented in
/// docs/schema.md): `IM` complemento 1 = IMMEX program; an identifier whose clave is a
/// virtual clave (V1-V9) names the counterpart: complemento 1 = counterpart pedimento
/// (`YYYY-ASS-PPPP-NNNNNNN` or `YY ASS PPPP NNNNNNN`), complemento 2 = counterpart RFC.
pub fn apply_identifier(h: &mut PedimentoRow, clave: &str, c1: Option<&str>, c2: Option<&str>) {
    if clave == "IM" {
        if let Some(p) = c1 {
            h.immex_programa = Some(p.trim().to_string());
        }
    } else if clave.len() == 2 && clave.starts_with('V') && clave.as_bytes()[1].is_ascii_digit() {
        if let Some(k) = c1.and_then(|s| model::PedimentoKey::parse(s).ok()) {
            h.contraparte_id = Some(k.id());
        }
        if let Some(r) = c2.and_then(|s| model::rfc(s).ok()) {
            h.contraparte_rfc = Some(r);
        }
    }
}

fn header_501(r: &Row) -> Result<(Triple, PedimentoRow), Fail> {
    let tr = r.triple()?;
    let tipo_operacion = r.req(f::TipoOperacion, model::tipo_operacion, "bad field")?;
    let clave = r.req(f::ClaveDocumento, model::clave, "unknown clave")?;
    let rfc = r.req(f::Rfc, model::rfc, "bad RFC")?;
    let fecha_pago = r.req(f::FechaPagoReal, model::date, "bad date")?;
    let tipo_cambio = r.opt(f::TipoCambio, |s| dec(s, QTY_SCALE), "not a number")?;
    let year = chrono::Datelike::year(&fecha_pago);
    let tipo_pedimento = match r.raw(f::TipoPedimento) {
        "2" => 2,
        _ => 1,
    };
    let row = PedimentoRow {
        pedimento_id: pid(&tr, year),
        year,
        aduana_seccion: tr.a().to_string(),
        patente: tr.p().to_string(),
        numero: tr.n().to_string(),
        tipo_operacion,
        clave: clave.clone(),
        clave_declarada: clave,
        tipo_pedimento,
        rfc,
        nombre: r.text(f::NombreContribuyente),
        immex_programa: None,
        fecha_pago,
        fecha_entrada: None,
        fecha_seleccion: None,
        fecha_operacion: fecha_pago,
        tipo_cambio,
        valor_dolares: Decimal::ZERO,
        valor_aduana: Decimal::ZERO,
        valor_comercial: Decimal::ZERO,
        rectifica_id: None,
        contraparte_id: None,
        contraparte_rfc: None,
        source_file: r.t.file.clone(),
        source_line: 0,
        hora_pago: model::time_of(r.raw(f::FechaPagoReal)),
        consolidado: None,
    };
    Ok((tr, row))
}

fn partida_551(r: &Row, ln: usize) -> Result<PartidaRow, Fail> {
    let money = |n: Fd| r.req(n, |s| dec(s, MONEY_SCALE), "not a number");
    Ok(PartidaRow {
        pedimento_id: Text::default(),
        partida: r.req(
            f::SecuenciaFraccion,
            |s| {
                s.parse::<i32>()
                    .ok()
                    .filter(|n| *n > 0)
                    .ok_or_else(|| FieldError(format!("'{s}' is not a partida number")))
            },
            "bad field",
        )?,
        fraccion: r.req(f::Fraccion, fraccion_text, "bad field")?,
        nico: r.ctext(f::SubdivisionFraccion),
        descripcion: r.ctext(f::DescripcionMercancia),
        codigo_producto: r.ctext(f::CodigoMercanciaProducto),
        pais_origen: r.ctext(f::PaisOrigenDestino),
        umc: r.ctext(f::UnidadMedidaComercial),
        cantidad_umc: r.opt(
            f::CantidadUMComercial,
            |s| dec(s, QTY_SCALE),
            "not a number",
        )?,
        umt: r.req(
            f::UnidadMedidaTarifa,
            |s| {
                if s.is_empty() {
                    Err(FieldError("unidad de medida de tarifa is empty".into()))
                } else {
                    Ok(Text::from(s))
                }
            },
            "bad field",
        )?,
        cantidad_umt: r.req(f::CantidadUMTarifa, |s| dec(s, QTY_SCALE), "not a number")?,
        precio_unitario: r.opt(f::PrecioUnitario, |s| dec(s, QTY_SCALE), "not a number")?,
        valor_aduana: money(f::ValorAduana)?,
        valor_comercial: money(f::ValorComercial)?,
        valor_dolares: money(f::ValorDolares)?,
        igi_tasa: None,
        igi_importe: None,
        iva_tasa: None,
        iva_importe: None,
        ieps_tasa: None,
        ieps_importe: None,
        dta_importe: None,
        source_line: ln as i64,
    })
}

/// The latest request per key.
fn latest<K: std::hash::Hash + Eq>(keys: impl Iterator<Item = (K, usize)>) -> FxMap<K, usize> {
    let mut m: FxMap<K, usize> = FxMap::default();
    for (k, r) in keys {
        let e = m.entry(k).or_insert(r);
        *e = (*e).max(r);
    }
    m
}

/// Which rows come from the latest request for their key; the others are counted as
/// duplicates of their file (`reqs`: (request, file index) per row).
fn keep_mask<K: std::hash::Hash + Eq + Copy>(
    keys: &[K],
    reqs: &[(usize, usize)],
    dups: &mut [usize],
    single: bool,
) -> Vec<bool> {
    if single {
        return vec![true; keys.len()];
    }
    let max = latest(keys.iter().copied().zip(reqs.iter().map(|r| r.0)));
    keys.iter()
        .zip(reqs)
        .map(|(k, (req, fi))| {
            let keep = max[k] == *req;
            if !keep {
                dups[*fi] += 1;
            }
            keep
        })
        .collect()
}

fn filter_mask<T>(rows: Vec<T>, keep: &[bool]) -> Vec<T> {
    if keep.iter().all(|k| *k) {
        return rows; // no move of every row
    }
    rows.into_iter()
        .zip(keep)
        .filter_map(|(r, k)| k.then_some(r))
        .collect()
}

/// The contributions the dataset keeps (Apéndice 12 codes, `model::catalog`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Contrib {
    Igi,
    Iva,
    Ieps,
    Dta,
}

impl Contrib {
    fn of(code: &str) -> Option<Contrib> {
        match code {
            catalog::CONTRIB_IGI => Some(Contrib::Igi),
            catalog::CONTRIB_IVA => Some(Contrib::Iva),
            catalog::CONTRIB_IEPS => Some(Contrib::Ieps),
            catalog::CONTRIB_DTA => Some(Contrib::Dta),
            _ => None,
        }
    }
}
