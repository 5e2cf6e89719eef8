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

//!
//! Layout of this folder: `table.rs` (a file as a table of rows, header lookup, field
//! accessor), `resolve.rs` (the one resolver from a row's pedimento reference to its
//! header), `records.rs` (pedimento-level record types), `partidas.rs` (partida-level
//! record types and value totals), `finish.rs` (latest request kept, rows to years).

mod finish;
mod partidas;
mod parts;
mod records;
mod resolve;
mod table;

use super::Parsed;
use crate::dataset::PedimentoRow;
use crate::model;
use crate::model::PedimentoNumber;
use crate::model::progress::ProgressHandle;
use finish::{distribute, keep_latest, latest};
use rayon::prelude::*;
use std::collections::HashMap;
use std::path::{Path, PathBuf};
pub(super) use table::column_of;
use table::{Loaded, Table, load};

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
    parse_in_with(files, parsed, dataset, &ProgressHandle::default())
}

/// [`parse_in`], telling `progress` about large files as they are parsed.
pub fn parse_in_with(
    files: &[(PathBuf, Vec<u8>, String)],
    parsed: &mut Parsed,
    dataset: Option<&Path>,
    progress: &ProgressHandle,
) {
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
    parse_inputs_with(&inputs, parsed, dataset, progress)
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
    parse_inputs_with(files, parsed, dataset, &ProgressHandle::default())
}

/// [`parse_inputs_in`], telling `progress` about large files as they are parsed
/// ([`Message::Parsing`](crate::model::progress::Message::Parsing)).
pub fn parse_inputs_with(
    files: &[Input],
    parsed: &mut Parsed,
    dataset: Option<&Path>,
    progress: &ProgressHandle,
) {
    let mut first = Parsed::default();
    let missing = parse_seeded(files, &mut first, &[], progress);
    if let Some(root) = dataset
        && !missing.is_empty()
    {
        let seeds = dataset_headers(root, &missing);
        if !seeds.is_empty() {
            first = Parsed::default();
            parse_seeded(files, &mut first, &seeds, &ProgressHandle::default());
        }
    }
    parsed.absorb(first);
}

/// The stored headers of the pedimentos with these (aduana-sección, patente, número).
fn dataset_headers(
    root: &Path,
    keys: &std::collections::HashSet<PedimentoNumber>,
) -> Vec<PedimentoRow> {
    let mut out = vec![];
    for y in crate::dataset::years(root) {
        for p in crate::dataset::table_files(&crate::dataset::year_dir(root, y), "pedimentos") {
            let Ok(batches) = crate::dataset::read_parquet(&p) else {
                continue;
            };
            for b in &batches {
                for h in crate::dataset::pedimento_rows(b).unwrap_or_default() {
                    let t = PedimentoNumber::of_stored(&h.aduana_seccion, &h.patente, &h.numero);
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
fn parse_seeded(
    files: &[Input],
    parsed: &mut Parsed,
    seeds: &[PedimentoRow],
    progress: &ProgressHandle,
) -> std::collections::HashSet<PedimentoNumber> {
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
            load(input, &rtype, fi, progress)
        })
        .collect();
    st.mark("load");
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

    let n501: usize = tables
        .get("501")
        .map_or(0, |ts| ts.iter().map(|t| t.rows.len()).sum());
    let mut ctx = resolve::Ctx::new(!single, n501);
    records::headers_501(take(&mut tables, "501"), &mut ctx, parsed, &mut dups);
    let seeded_from = ctx.rows.len();
    records::seed_headers(&mut ctx, seeds);
    st.mark("501");
    let n551: usize = tables
        .get("551")
        .map_or(0, |ts| ts.iter().map(|t| t.rows.len()).sum());
    let t551 = take(&mut tables, "551");
    let mut p = partidas::partidas_551(t551, &ctx, n551, files.len(), parsed, &mut dups);
    let mut sums = partidas::value_totals(&mut ctx, &mut p, parsed, &mut dups, &names);
    st.mark("551");
    records::fechas_506(take(&mut tables, "506"), &mut ctx, parsed);
    records::seleccion(take(&mut tables, "SEL"), &mut ctx, parsed);
    st.mark("506");
    let mut idents = vec![];
    let mut ireq = vec![]; // (request, file) per identificador
    let t507 = take(&mut tables, "507");
    records::identificadores_507(t507, &mut ctx, parsed, &mut idents, &mut ireq);
    st.mark("507");
    records::rectificaciones_701(take(&mut tables, "701"), &mut ctx, parsed, &names);
    st.mark("701");
    let by_type = [take(&mut tables, "556"), take(&mut tables, "557")];
    let contribs = partidas::contribuciones(by_type, &ctx, &p, parsed);
    st.mark("556/557");
    // (One request, or no row of another request than its header's: nothing to compare.)
    partidas::apply_contribs(contribs, single || !ctx.mixed(), &mut p, &mut dups);
    st.mark("contrib-apply");
    let t554 = take(&mut tables, "554");
    partidas::identificadores_554(t554, &ctx, &p, parsed, &mut idents, &mut ireq);
    st.mark("554");
    let descargos = records::descargos_512(take(&mut tables, "512"), &ctx, parsed);
    st.mark("512");
    let single = single || !ctx.mixed();
    let kept = keep_latest(
        &ctx,
        p,
        &mut sums,
        (idents, ireq),
        descargos,
        dups,
        &names,
        parsed,
        single,
    );
    st.mark("keep-latest");
    let missing = distribute(ctx, sums, seeded_from, kept, parsed);
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
            h.immex_programa = Some(p.trim().into());
        }
    } else if clave.len() == 2 && clave.starts_with('V') && clave.as_bytes()[1].is_ascii_digit() {
        if let Some(k) = c1.and_then(|s| model::PedimentoKey::parse(s).ok()) {
            h.contraparte_id = Some(k.id_text());
        }
        if let Some(r) = c2.and_then(|s| model::rfc(s).ok()) {
            h.contraparte_rfc = Some(r);
        }
    }
}
