//! Report exports read back by other programs: rejects.csv against the ingest manifest,
//! and report.xlsx opened with openpyxl (Python), a reader other than the writer, with the
//! cell types asserted (dates are dates, money is numeric, fracciones are text with their
//! leading zeros). Skips the openpyxl part, saying why, when python3 or openpyxl is absent
//! (.ci/run installs it).

use pedaudit::generate::{self, Config, Violation};
use pedaudit::report::{self, ReportArgs};
use pedaudit::{checks, ingest};
use polars::prelude::*;
use std::path::Path;
use std::process::Command;

fn write_pq(df: &mut DataFrame, p: &Path) {
    let f = std::fs::File::create(p).unwrap();
    ParquetWriter::new(f).finish(df).unwrap();
}

/// A small history with one corrupted 551 line (a rejected row), ingested and audited.
fn setup(root: &Path) {
    let h = generate::generate(&Config {
        seed: 5,
        companies: 1,
        start_year: 2022,
        years: 1,
        partidas: 250,
        inject: vec![Violation::Expired],
        bom_share: 0.0,
    });
    let ds_in = root.join("datastage");
    generate::writers::write_datastage(&h, &ds_in).unwrap();
    generate::writers::write_profiles(&h, &root.join("profiles")).unwrap();
    // Corrupt the quantity of the first 551 data row: ingest rejects that row.
    let f551 = std::fs::read_dir(&ds_in)
        .unwrap()
        .flatten()
        .map(|e| e.path())
        .find(|p| p.to_string_lossy().ends_with("_551.asc"))
        .unwrap();
    let bytes = std::fs::read(&f551).unwrap();
    let text = encoding_rs::WINDOWS_1252.decode(&bytes).0.to_string();
    let mut lines: Vec<String> = text.lines().map(str::to_string).collect();
    let mut cols: Vec<String> = lines[1].split('|').map(str::to_string).collect();
    cols[11] = "12x4".into();
    lines[1] = cols.join("|");
    let joined = lines.join("\n") + "\n";
    let (out, _, _) = encoding_rs::WINDOWS_1252.encode(&joined);
    std::fs::write(&f551, &*out).unwrap();
    ingest::run(
        &[ds_in],
        &root.join("ds"),
        &ingest::IngestOptions::default(),
    )
    .unwrap();
    // As of the end of 2023: the injected expired lot (imported January 2022) is past its
    // plazo, so the report has a regularization estimate.
    let opts = checks::AuditOptions {
        as_of: chrono::NaiveDate::from_ymd_opt(2023, 12, 31),
        profiles: Some(root.join("profiles")),
        ..Default::default()
    };
    let ctx = checks::AuditContext::open(&root.join("ds"), opts).unwrap();
    let sel = checks::select(&["temp".into(), "data".into()]).unwrap();
    let mut df = checks::run(&ctx, &sel).unwrap();
    let audit = root.join("audit");
    std::fs::create_dir_all(&audit).unwrap();
    write_pq(&mut df, &audit.join("findings.parquet"));
    for v in ["ledger_allocations", "ledger_balances"] {
        let mut t = ctx.table(v).collect().unwrap();
        write_pq(&mut t, &audit.join(format!("{v}.parquet")));
    }
}

const PY: &str = r#"
import sys, datetime, json
from openpyxl import load_workbook
wb = load_workbook(sys.argv[1])
out = {"sheets": wb.sheetnames}
def col(ws, name):
    hdr = [c.value for c in ws[1]]
    return hdr.index(name) + 1
def cells(ws, name):
    k = col(ws, name)
    return [ws.cell(row=r, column=k).value for r in range(2, ws.max_row + 1)]
def kinds(vals):
    return sorted({type(v).__name__ for v in vals if v is not None})
s = wb["Saldos"]
out["saldos_fecha"] = kinds(cells(s, "fecha_operacion"))
out["saldos_vence"] = kinds(cells(s, "vence"))
out["saldos_valor"] = kinds(cells(s, "valor_aduana"))
out["saldos_fraccion"] = kinds(cells(s, "fraccion"))
out["saldos_pedimento"] = kinds(cells(s, "pedimento_id"))
f = wb["Findings"]
out["findings_amount"] = kinds(cells(f, "amount"))
out["findings_as_of"] = kinds(cells(f, "as_of"))
k = wb["Kardex"]
out["kardex_fecha"] = kinds(cells(k, "fecha"))
out["kardex_saldo"] = kinds(cells(k, "saldo"))
out["kardex_fraccion"] = kinds(cells(k, "fraccion"))
out["kardex_first_fracciones"] = [v for v in cells(k, "fraccion")][:3]
out["kardex_rows"] = k.max_row - 1
g = wb["Regularization"]
out["reg_rows"] = g.max_row - 1
out["reg_vence"] = kinds(cells(g, "plazo_end"))
out["reg_contrib"] = kinds(cells(g, "contributions"))
out["reg_factor"] = kinds(cells(g, "update_factor"))
out["reg_months"] = kinds(cells(g, "recargo_months"))
out["reg_rate"] = kinds(cells(g, "recargo_rate"))
out["reg_total"] = kinds(cells(g, "estimated_total"))
out["reg_inpc_month"] = kinds(cells(g, "inpc_recent_month"))
out["reg_pedimento"] = kinds(cells(g, "pedimento_id"))
out["reg_fraccion"] = kinds(cells(g, "fraccion"))
out["reg_fracciones"] = [v for v in cells(g, "fraccion") if v is not None][:3]
out["reg_factor_format"] = g.cell(row=2, column=col(g, "update_factor")).number_format
t = wb["Rates used"]
out["rates_series"] = sorted(set(cells(t, "series")))
out["rates_month"] = kinds(cells(t, "month"))
out["rates_value"] = kinds(cells(t, "value"))
out["rates_source"] = kinds(cells(t, "source"))
r = wb["Rejects"]
out["rejects"] = [[r.cell(row=i, column=c).value for c in range(2, 7)] for i in range(2, r.max_row + 1)]
out["rejects_line"] = kinds(cells(r, "line"))
print(json.dumps(out, default=str))
"#;

#[test]
fn rejects_csv_and_xlsx_read_by_openpyxl() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    setup(root);
    // English sheet and column names (the reader script below names them); the Spanish
    // workbook has the same types under Spanish names.
    let mut args = ReportArgs::new(&root.join("ds"), &root.join("audit"), &root.join("reports"));
    args.lang = pedaudit::model::lang::Lang::En;
    // A user inpc.csv (profiles folder) with the months the vendored table lacks, so every
    // expired lot gets an estimate: test values, labelled as such (not INEGI figures).
    let vendored = report::regularization::Rates::vendored();
    let mut inpc = String::from("periodo,inpc,fuente\n");
    for y in 2018..=2026 {
        for m in 1..=12 {
            let k = format!("{y}-{m:02}");
            if !vendored.inpc.contains_key(&k) {
                inpc += &format!("{k},150.000,test fixture (not INEGI)\n");
            }
        }
    }
    std::fs::write(root.join("profiles/inpc.csv"), inpc).unwrap();
    args.profiles = Some(root.join("profiles"));
    let written = report::run(&args).unwrap();
    let w = &written[0];

    // rejects.csv: every rejected row of the manifest, with file, line, field and reason.
    let manifest_rejected = report::load::read_manifests(&root.join("ds"))
        .unwrap()
        .rejected;
    assert!(manifest_rejected >= 1);
    let bytes = std::fs::read(w.dir.join("rejects.csv")).unwrap();
    assert!(bytes.starts_with("\u{feff}".as_bytes()), "UTF-8 BOM");
    let mut r = csv::Reader::from_reader(&bytes[3..]);
    assert_eq!(
        r.headers().unwrap().iter().collect::<Vec<_>>(),
        report::rejects::HEADER.to_vec()
    );
    let rows: Vec<csv::StringRecord> = r.records().map(|x| x.unwrap()).collect();
    assert_eq!(rows.len() as u64, manifest_rejected);
    let bad = rows
        .iter()
        .find(|x| &x[4] == "CantidadUMComercial")
        .expect("the corrupted field is named");
    assert!(bad[1].ends_with("_551.asc"), "file named: {}", &bad[1]);
    assert_eq!(&bad[2], "2", "line 2 (after the header)");
    assert!(
        bad[5].contains("12x4"),
        "reason shows the value: {}",
        &bad[5]
    );
    let md = std::fs::read_to_string(w.dir.join("report.md")).unwrap();
    assert!(md.contains("CantidadUMComercial"), "summary in the report");

    // report.xlsx through openpyxl.
    let py = Command::new("python3")
        .args(["-c", "import openpyxl"])
        .output();
    match py {
        Err(e) => {
            eprintln!("SKIP xlsx reader check: python3 not runnable ({e})");
            return;
        }
        Ok(o) if !o.status.success() => {
            eprintln!(
                "SKIP xlsx reader check: openpyxl not installed (pip install openpyxl): {}",
                String::from_utf8_lossy(&o.stderr).trim()
            );
            return;
        }
        Ok(_) => {}
    }
    let o = Command::new("python3")
        .args(["-c", PY])
        .arg(w.dir.join("report.xlsx"))
        .output()
        .unwrap();
    assert!(
        o.status.success(),
        "openpyxl failed: {}",
        String::from_utf8_lossy(&o.stderr)
    );
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    let sheets: Vec<&str> = v["sheets"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s.as_str().unwrap())
        .collect();
    for s in [
        "Findings",
        "Saldos",
        "Kardex",
        "Vencimientos",
        "Certification",
        "Ratio series",
        "Rejects",
        "Regularization",
        "Rates used",
    ] {
        assert!(sheets.contains(&s), "sheet {s} in {sheets:?}");
    }
    let kinds = |k: &str| -> Vec<String> {
        v[k].as_array()
            .unwrap_or_else(|| panic!("{k}: {v}"))
            .iter()
            .map(|x| x.as_str().unwrap().to_string())
            .collect()
    };
    // Dates are dates (openpyxl reads an Excel date as datetime), money and quantities
    // are numbers, identifiers are text.
    assert_eq!(kinds("saldos_fecha"), ["datetime"]);
    assert_eq!(kinds("saldos_vence"), ["datetime"]);
    assert_eq!(kinds("findings_as_of"), ["datetime"]);
    assert_eq!(kinds("kardex_fecha"), ["datetime"]);
    for k in ["saldos_valor", "findings_amount", "kardex_saldo"] {
        let t = kinds(k);
        assert!(
            !t.is_empty() && t.iter().all(|x| x == "float" || x == "int"),
            "{k} numeric: {t:?}"
        );
    }
    for k in ["saldos_fraccion", "saldos_pedimento", "kardex_fraccion"] {
        assert_eq!(kinds(k), ["str"], "{k} is text");
    }
    // Fracciones keep their 8 digits (leading zeros included) as text.
    for f in v["kardex_first_fracciones"].as_array().unwrap() {
        let f = f.as_str().unwrap();
        assert_eq!(f.len(), 8, "fracción {f}");
    }
    let d = report::build_all(&ReportArgs::new(
        &root.join("ds"),
        &root.join("audit"),
        &root.join("unused"),
    ))
    .unwrap();
    let rows: usize = d[0].kardex.iter().map(|g| g.rows.len()).sum();
    assert_eq!(
        v["kardex_rows"], rows as u64,
        "every kardex row in the sheet"
    );
    assert_eq!(kinds("rejects_line"), ["int"]);

    // The regularization estimate: one row per expired lot (as in regularizacion.csv),
    // dates as dates, money and the factor as numbers, months as integers, identifiers
    // as text.
    let csv_rows =
        csv::Reader::from_reader(&std::fs::read(w.dir.join("regularizacion.csv")).unwrap()[3..])
            .records()
            .count();
    assert!(csv_rows > 0, "the Expired violation gives expired lots");
    assert_eq!(v["reg_rows"], csv_rows as u64, "every lot in the sheet");
    assert_eq!(kinds("reg_vence"), ["datetime"]);
    assert_eq!(kinds("reg_inpc_month"), ["datetime"]);
    for k in ["reg_contrib", "reg_factor", "reg_rate", "reg_total"] {
        let t = kinds(k);
        assert!(
            !t.is_empty() && t.iter().all(|x| x == "float" || x == "int"),
            "{k} numeric: {t:?}"
        );
    }
    assert_eq!(kinds("reg_months"), ["int"]);
    assert_eq!(kinds("reg_pedimento"), ["str"]);
    assert_eq!(kinds("reg_fraccion"), ["str"]);
    for f in v["reg_fracciones"].as_array().unwrap() {
        assert_eq!(f.as_str().unwrap().len(), 8, "fracción {f}");
    }
    assert_eq!(v["reg_factor_format"], "0.0000");
    // The rates used: both series, months as dates, values as numbers, a source per row.
    assert_eq!(v["rates_series"], serde_json::json!(["INPC", "recargos"]));
    assert_eq!(kinds("rates_month"), ["datetime"]);
    let t = kinds("rates_value");
    assert!(t.iter().all(|x| x == "float" || x == "int"), "{t:?}");
    assert_eq!(kinds("rates_source"), ["str"]);
    let rej = v["rejects"].as_array().unwrap();
    assert_eq!(rej.len() as u64, manifest_rejected);
    assert!(
        rej.iter()
            .any(|r| r[3] == "CantidadUMComercial" && r[1] == 2)
    );
}
