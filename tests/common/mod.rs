//! Shared test helpers: fixtures → temp dataset → checks; golden files; reliability helpers
//! (kill, hostile input, conflicts).
#![allow(dead_code)]

use arrow::util::display::{ArrayFormatter, FormatOptions};
use pedaudit::checks::{self, AuditContext, AuditOptions};
use pedaudit::dataset;
use polars::prelude::*;
use sha2::{Digest, Sha256};
use std::collections::BTreeMap;
use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
pub fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// One cell as text (null = empty, strings unquoted).
pub fn cell(df: &DataFrame, c: &str, i: usize) -> String {
    match df.column(c).unwrap().get(i).unwrap() {
        AnyValue::Null => String::new(),
        v => v
            .get_str()
            .map(str::to_string)
            .unwrap_or_else(|| v.to_string()),
    }
}

/// The named columns of every row, as text.
pub fn table(df: &DataFrame, cols: &[&str]) -> Vec<Vec<String>> {
    (0..df.height())
        .map(|i| cols.iter().map(|c| cell(df, c, i)).collect())
        .collect()
}

/// Owned strings, for comparing with [`table`] rows.
pub fn v(xs: &[&str]) -> Vec<String> {
    xs.iter().map(|s| s.to_string()).collect()
}

/// Ingests `inputs` into a fresh dataset under a temp dir.
pub fn ingest(inputs: &[PathBuf]) -> (tempfile::TempDir, PathBuf, pedaudit::ingest::IngestReport) {
    let dir = tempfile::tempdir().unwrap();
    let ds = dir.path().join("dataset");
    let r = pedaudit::ingest::run(inputs, &ds, &Default::default()).unwrap();
    (dir, ds, r)
}

pub fn audit(ds: &Path, opts: AuditOptions, codes: &[&str]) -> (AuditContext, DataFrame) {
    let ctx = AuditContext::open(ds, opts).unwrap();
    let names: Vec<String> = codes.iter().map(|s| s.to_string()).collect();
    let sel = checks::select(&names).unwrap();
    let df = checks::run(&ctx, &sel).unwrap();
    (ctx, df)
}

/// One line per finding with the fields that identify it (stable, for golden files).
pub fn render(df: &DataFrame) -> String {
    let cols = [
        "check_code",
        "severity",
        "rfc",
        "pedimento_id",
        "partida",
        "related_pedimento_id",
        "fraccion",
        "as_of",
        "quantity",
        "amount",
        "igi",
        "iva",
        "ieps",
        "message",
        "mensaje",
        "citation",
        "evidence",
    ];
    let mut out = String::new();
    for i in 0..df.height() {
        let vals: Vec<String> = cols
            .iter()
            .map(|c| match df.column(c).unwrap().get(i).unwrap() {
                AnyValue::Null => String::new(),
                v => v
                    .get_str()
                    .map(str::to_string)
                    .unwrap_or_else(|| v.to_string()),
            })
            .collect();
        // Every finding carries its Spanish text (what reports show by default).
        let (en, es) = (&vals[13], &vals[14]);
        assert!(
            !es.trim().is_empty() && es != en,
            "finding {i} ({}) has no Spanish mensaje: {vals:?}",
            vals[0]
        );
        out.push_str(&vals.join(" | "));
        out.push('\n');
    }
    out
}

/// The one golden-file helper: compares `actual` with `tests/golden/<name>` (`name` may
/// hold a folder, e.g. `report/x.md`). `UPDATE_GOLDEN=1` rewrites the file; a missing file is
/// created outside CI (with `CI` set it fails). A difference names the first differing lines.
pub fn golden(name: &str, actual: &str) {
    let p = root().join("tests/golden").join(name);
    if std::env::var_os("UPDATE_GOLDEN").is_some()
        || !p.exists() && std::env::var_os("CI").is_none()
    {
        std::fs::create_dir_all(p.parent().unwrap()).unwrap();
        std::fs::write(&p, actual).unwrap();
    }
    let expected = std::fs::read_to_string(&p).unwrap_or_else(|_| {
        panic!(
            "golden file {} missing; run the test with UPDATE_GOLDEN=1",
            p.display()
        )
    });
    if expected != actual {
        let diff: Vec<String> = expected
            .lines()
            .map(Some)
            .chain(std::iter::repeat(None))
            .zip(actual.lines().map(Some).chain(std::iter::repeat(None)))
            .take_while(|(a, b)| a.is_some() || b.is_some())
            .enumerate()
            .filter(|(_, (a, b))| a != b)
            .take(5)
            .map(|(i, (a, b))| {
                format!(
                    "line {}:\n  expected: {}\n  actual:   {}",
                    i + 1,
                    a.unwrap_or("<end>"),
                    b.unwrap_or("<end>")
                )
            })
            .collect();
        panic!(
            "golden {} differs ({} vs {} lines):\n{}\n(rerun with UPDATE_GOLDEN=1 if intended and review the diff)",
            p.display(),
            expected.lines().count(),
            actual.lines().count(),
            diff.join("\n")
        );
    }
}

/// Rows of `df` matching a check code, as (pedimento_id, quantity, amount, igi, iva) strings.
pub fn rows(df: &DataFrame, code: &str) -> Vec<(String, String, String, String, String)> {
    let f = df
        .clone()
        .lazy()
        .filter(col("check_code").eq(lit(code)))
        .collect()
        .unwrap();
    let s = |c: &str, i: usize| match f.column(c).unwrap().get(i).unwrap() {
        AnyValue::Null => String::new(),
        v => v
            .get_str()
            .map(str::to_string)
            .unwrap_or_else(|| v.to_string()),
    };
    (0..f.height())
        .map(|i| {
            (
                s("pedimento_id", i),
                s("quantity", i),
                s("amount", i),
                s("igi", i),
                s("iva", i),
            )
        })
        .collect()
}

/// Tables compared per year (conflicts included: it is part of the audit trail).
pub const TABLES: [&str; 5] = [
    "pedimentos",
    "partidas",
    "identificadores",
    "descargos",
    "conflicts",
];

/// Rows and a content digest (SHA-256 over every cell, formatted) of one table.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TableDigest {
    pub rows: usize,
    pub digest: String,
}

/// year → table → digest (a missing table file is absent from the inner map).
pub type Snapshot = BTreeMap<i32, BTreeMap<String, TableDigest>>;

pub fn table_digest(path: &Path) -> TableDigest {
    table_digest_files(&[path.to_path_buf()])
}

/// [`table_digest`] of a table stored as several files (base and appended segments).
pub fn table_digest_files(paths: &[PathBuf]) -> TableDigest {
    let batches: Vec<_> = paths
        .iter()
        .flat_map(|p| dataset::read_parquet(p).unwrap())
        .collect();
    let mut h = Sha256::new();
    let mut rows = 0;
    let opts = FormatOptions::default().with_null("<null>");
    for b in &batches {
        let fmts: Vec<ArrayFormatter> = b
            .columns()
            .iter()
            .map(|c| ArrayFormatter::try_new(c.as_ref(), &opts).unwrap())
            .collect();
        for r in 0..b.num_rows() {
            for f in &fmts {
                h.update(f.value(r).to_string().as_bytes());
                h.update([0x1f]);
            }
            h.update([0x1e]);
            rows += 1;
        }
    }
    TableDigest {
        rows,
        digest: format!("{:x}", h.finalize()),
    }
}

/// Digests of every `year=*` partition as it is on disk (no recovery applied).
pub fn snapshot(root: &Path) -> Snapshot {
    let mut s = Snapshot::new();
    for y in dataset::years(root) {
        let dir = dataset::year_dir(root, y);
        let mut t = BTreeMap::new();
        for table in TABLES {
            let files = dataset::table_files(&dir, table);
            if !files.is_empty() {
                t.insert(table.to_string(), table_digest_files(&files));
            }
        }
        s.insert(y, t);
    }
    s
}

/// Names in `root`, `root/rejects`, `root/_manifest` starting with `.tmp-` or `.old-`.
pub fn leftovers(root: &Path) -> Vec<String> {
    let mut v = vec![];
    for d in [
        root.to_path_buf(),
        root.join("rejects"),
        root.join("_manifest"),
    ] {
        for e in fs::read_dir(&d).into_iter().flatten().flatten() {
            let n = e.file_name().to_string_lossy().to_string();
            if n.starts_with(".tmp-") || n.starts_with(".old-") {
                v.push(n);
            }
        }
    }
    v.sort();
    v
}

pub fn copy_dir(from: &Path, to: &Path) {
    fs::create_dir_all(to).unwrap();
    for e in fs::read_dir(from).unwrap().flatten() {
        let p = e.path();
        let t = to.join(e.file_name());
        if p.is_dir() {
            copy_dir(&p, &t);
        } else {
            fs::copy(&p, &t).unwrap();
        }
    }
}

pub fn bin() -> PathBuf {
    PathBuf::from(env!("CARGO_BIN_EXE_pedimento-audit"))
}

/// Runs `pedimento-audit ingest <input> --dataset <root>` to completion.
pub fn ingest_cmd(input: &Path, root: &Path) -> Command {
    let mut c = Command::new(bin());
    c.arg("ingest").arg(input).arg("--dataset").arg(root);
    c.env_remove("PEDAUDIT_CRASH_AT");
    c
}

pub fn ingest_ok(input: &Path, root: &Path) -> Output {
    let out = ingest_cmd(input, root).output().unwrap();
    assert!(
        out.status.success(),
        "ingest failed: {}\n{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    out
}

/// Writes a generated history as Data Stage files under `dir`.
pub fn gen_datastage(dir: &Path, seed: u64, start_year: i32, years: i32, partidas: usize) {
    let cfg = pedaudit::generate::Config {
        seed,
        companies: 3,
        start_year,
        years,
        partidas,
        inject: vec![],
        bom_share: 0.0,
    };
    let h = pedaudit::generate::generate(&cfg);
    pedaudit::generate::writers::write_datastage(&h, dir).unwrap();
}

/// Tiny deterministic PRNG (splitmix64) for delays and mutations.
pub struct Rng(pub u64);
impl Rng {
    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }
    pub fn below(&mut self, n: u64) -> u64 {
        if n == 0 { 0 } else { self.next_u64() % n }
    }
}

/// Every row of a Parquet file as column → formatted value (`<null>` for nulls).
pub fn parquet_rows(path: &Path) -> Vec<BTreeMap<String, String>> {
    let mut out = vec![];
    if !path.exists() {
        return out;
    }
    let opts = FormatOptions::default().with_null("<null>");
    for b in dataset::read_parquet(path).unwrap() {
        let schema = b.schema();
        let fmts: Vec<ArrayFormatter> = b
            .columns()
            .iter()
            .map(|c| ArrayFormatter::try_new(c.as_ref(), &opts).unwrap())
            .collect();
        for r in 0..b.num_rows() {
            out.push(
                schema
                    .fields()
                    .iter()
                    .zip(&fmts)
                    .map(|(f, v)| (f.name().clone(), v.value(r).to_string()))
                    .collect(),
            );
        }
    }
    out
}

/// Rows of one table of one year.
pub fn table_rows(root: &Path, year: i32, table: &str) -> Vec<BTreeMap<String, String>> {
    dataset::table_files(&dataset::year_dir(root, year), table)
        .iter()
        .flat_map(|p| parquet_rows(p))
        .collect()
}

/// Rows of one table over all years.
pub fn all_rows(root: &Path, table: &str) -> Vec<BTreeMap<String, String>> {
    dataset::years(root)
        .into_iter()
        .flat_map(|y| table_rows(root, y, table))
        .collect()
}

/// The rejects written by one run.
pub fn rejects(root: &Path, run_id: &str) -> Vec<BTreeMap<String, String>> {
    parquet_rows(&root.join("rejects").join(format!("{run_id}.parquet")))
}

/// Ingests files written into `dir/in` (name, bytes) into `dir/ds` in process.
pub fn ingest_files(
    dir: &Path,
    files: &[(String, Vec<u8>)],
) -> Result<(pedaudit::ingest::IngestReport, PathBuf), pedaudit::ingest::IngestError> {
    let input = dir.join("in");
    let _ = fs::remove_dir_all(&input);
    fs::create_dir_all(&input).unwrap();
    for (n, b) in files {
        fs::write(input.join(n), b).unwrap();
    }
    let root = dir.join("ds");
    let r = pedaudit::ingest::run(&[input], &root, &pedaudit::ingest::IngestOptions::default())?;
    Ok((r, root))
}

/// Data lines of a text file as the readers see them: non-blank lines after the header.
pub fn data_lines(bytes: &[u8]) -> usize {
    let (t, _) = pedaudit::ingest::text::decode(bytes);
    pedaudit::ingest::text::lines(&t)
        .iter()
        .skip(1)
        .filter(|(_, l)| !l.trim().is_empty())
        .count()
}

pub const H501: &str = "Patente|Pedimento|SeccionAduanera|TipoOperacion|ClaveDocumento|SeccionAduaneraEntrada|CurpContribuyente|Rfc|CurpAgenteA|TipoCambio|TotalFletes|TotalSeguros|TotalEmbalajes|TotalIncrementables|TotalDeducibles|PesoBrutoMercancia|MedioTransporteSalida|MedioTransporteArribo|MedioTransporteEntrada_Salida|DestinoMercancia|NombreContribuyente|CalleContribuyente|NumInteriorContribuyente|NumExteriorContribuyente|CPContribuyente|MunicipioContribuyente|EntidadFedContribuyente|PaisContribuyente|TipoPedimento|FechaRecepcionPedimento|FechaPagoReal|";
pub const H551: &str = "Patente|Pedimento|SeccionAduanera|Fraccion|SecuenciaFraccion|SubdivisionFraccion|DescripcionMercancia|PrecioUnitario|ValorAduana|ValorComercial|ValorDolares|CantidadUMComercial|UnidadMedidaComercial|CantidadUMTarifa|UnidadMedidaTarifa|ValorAgregado|ClaveVinculacion|MetodoValorizacion|CodigoMercanciaProducto|MarcaMercanciaProducto|ModeloMercanciaProducto|PaisOrigenDestino|PaisCompradorVendedor|EntidadFedOrigen|EntidadFedDestino|EntidadFedComprador|EntidadFedVendedor|TipoOperacion|ClaveDocumento|FechaPagoReal|";
pub const H507: &str = "Patente|Pedimento|SeccionAduanera|ClaveCaso|IdentificadorCaso|TipoPedimento|ComplementoCaso|FechaValidacionPagoR|";
pub const H554: &str = "Patente|Pedimento|SeccionAduanera|Fraccion|SecuenciaFraccion|ClaveCaso|IdentificadorCaso|ComplementoCaso|FechaPagoReal|";
pub const H557: &str = "Patente|Pedimento|SeccionAduanera|Fraccion|SecuenciaFraccion|ClaveContribucion|FormaPago|ImportePago|FechaPagoReal|";
pub const H512: &str = "Patente|Pedimento|SeccionAduanera|PatenteAduanalOrig|PedimentoOriginal|SeccionAduaneraDespOrig|DocumentoOriginal|FechaOperacionOrig|FraccionOriginal|UnidadMedida|MercanciaDescargada|TipoPedimento|FechaPagoReal|";
pub const H701: &str = "Patente|Pedimento|SeccionAduanera|ClaveDocumento|FechaPago|PedimentoAnterior|PatenteAnterior|SeccionAduaneraAnterior|DocumentoAnterior|FechaOperacionAnterior|PedimentoOriginal|PatenteAduanalOrig|SeccionAduaneraDespOrig|FechaPagoReal|";

pub fn header_of(rtype: &str) -> &'static str {
    match rtype {
        "501" => H501,
        "551" => H551,
        "507" => H507,
        "554" => H554,
        "557" => H557,
        "512" => H512,
        "701" => H701,
        other => panic!("no header for {other}"),
    }
}

/// A pipe line for `header` (trailing `|`) with the given column values, others empty.
pub fn ds_line(header: &str, vals: &[(&str, &str)]) -> String {
    let mut s = String::new();
    for col in header.trim_end_matches('|').split('|') {
        if let Some((_, v)) = vals.iter().rev().find(|(k, _)| *k == col) {
            s.push_str(v);
        }
        s.push('|');
    }
    s
}

pub const KEY: [(&str, &str); 3] = [
    ("Patente", "3953"),
    ("Pedimento", "6000098"),
    ("SeccionAduanera", "240"),
];

/// A valid 501 row (pedimento 2024-240-3953-6000098) with overrides.
pub fn v501(over: &[(&'static str, &'static str)]) -> String {
    let mut v: Vec<(&str, &str)> = KEY.to_vec();
    v.extend([
        ("TipoOperacion", "1"),
        ("ClaveDocumento", "A1"),
        ("Rfc", "ABC010203XY1"),
        ("TipoCambio", "17.05000"),
        ("NombreContribuyente", "Compañía Ñandú SA"),
        ("TipoPedimento", "1"),
        ("FechaPagoReal", "2024-03-05 10:00:00"),
    ]);
    v.extend_from_slice(over);
    ds_line(H501, &v)
}

/// A valid 551 row (partida 1 of the pedimento above) with overrides.
pub fn v551(over: &[(&'static str, &'static str)]) -> String {
    let mut v: Vec<(&str, &str)> = KEY.to_vec();
    v.extend([
        ("Fraccion", "84713001"),
        ("SecuenciaFraccion", "1"),
        ("DescripcionMercancia", "Descripción"),
        ("ValorAduana", "1000.00"),
        ("ValorComercial", "1000.00"),
        ("ValorDolares", "58.65"),
        ("CantidadUMTarifa", "10.000"),
        ("UnidadMedidaTarifa", "6"),
        ("FechaPagoReal", "2024-03-05 10:00:00"),
    ]);
    v.extend_from_slice(over);
    ds_line(H551, &v)
}

/// A Data Stage file `<folio>_<rtype>.asc`: header + lines, LF, UTF-8.
pub fn ds_file(folio: &str, rtype: &str, lines: &[String]) -> (String, Vec<u8>) {
    let mut s = String::from(header_of(rtype)) + "\n";
    for l in lines {
        s.push_str(l);
        s.push('\n');
    }
    (format!("{folio}_{rtype}.asc"), s.into_bytes())
}

pub fn latin1_crlf(text: &str) -> Vec<u8> {
    let t = text.replace("\r\n", "\n").replace('\n', "\r\n");
    encoding_rs::WINDOWS_1252.encode(&t).0.into_owned()
}

/// Asserts the invariant on every parsed file of a report.
pub fn assert_accounting(r: &pedaudit::ingest::IngestReport) {
    for f in &r.files {
        if f.skipped.is_none() {
            assert_eq!(f.rows_read, f.accepted + f.rejected, "{f:?}");
            assert_eq!(
                f.rejected,
                f.rejected_by_reason.values().sum::<usize>(),
                "{f:?}"
            );
        }
    }
    assert_eq!(r.rows_read, r.accepted + r.rejected);
}

/// The ledger views are computed natively (src/checks/ledger_native.rs); their SQL
/// definitions (queries/views/ledger_allocations.sql and ledger_balances.sql, what other
/// engines run) must give the same rows, in the same order, with the same schema. Also
/// asserts that the context's views are the native ones (the native path did not fall back
/// to the SQL).
pub fn assert_native_ledger_equals_sql(ctx: &AuditContext) {
    let view = |n: &str| {
        let v = pedaudit::checks::VIEWS.iter().find(|v| v.0 == n).unwrap();
        (v.1, v.2)
    };
    let (afile, atext) = view("ledger_allocations");
    let (bfile, btext) = view("ledger_balances");
    let alloc = ctx.sql(atext, afile).unwrap();
    let bal = ctx
        .sql_with(
            btext,
            bfile,
            &[("ledger_allocations", alloc.clone().lazy())],
        )
        .unwrap();
    let native = ctx
        .native_ledger()
        .unwrap()
        .expect("the native ledger applies to this data");
    for (name, sql, native) in [
        ("ledger_allocations", &alloc, &native.allocations),
        ("ledger_balances", &bal, &native.balances),
    ] {
        let registered = ctx.table(name).collect().unwrap();
        assert!(
            registered.equals_missing(native),
            "{name}: context view is not the native one"
        );
        assert_eq!(sql.schema(), native.schema(), "{name}: schema");
        assert!(
            sql.equals_missing(native),
            "{name}: native differs from the SQL\nSQL:\n{sql}\nnative:\n{native}"
        );
    }
}

/// Property-test settings for CI: `cases` cases (`PROPTEST_CASES` overrides) from a fixed
/// seed (`PROPTEST_RNG_SEED` overrides), no failure-persistence files.
pub fn proptest_config(cases: u32) -> proptest::test_runner::Config {
    let env = |k: &str| std::env::var(k).ok().and_then(|v| v.parse::<u64>().ok());
    proptest::test_runner::Config {
        cases: env("PROPTEST_CASES").map_or(cases, |c| c as u32),
        rng_seed: proptest::test_runner::RngSeed::Fixed(env("PROPTEST_RNG_SEED").unwrap_or(21)),
        failure_persistence: None,
        ..proptest::test_runner::Config::default()
    }
}
