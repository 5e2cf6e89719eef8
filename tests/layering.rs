//! Data flows one way: input → ingest → dataset → checks → findings → reports. A lower
//! layer never imports a higher one (`audit` sits between checks/findings and report); shared helpers (formatting, dates, text decoding,
//! seeded random numbers) live in `model`. This test reads `src/` and fails on any
//! `crate::<module>` path that crosses the line.

use std::path::Path;

/// (layer, modules it must not use).
const FORBIDDEN: &[(&str, &[&str])] = &[
    (
        "model",
        &[
            "ingest", "dataset", "profile", "checks", "findings", "audit", "report", "generate",
        ],
    ),
    (
        "findings",
        &["ingest", "profile", "checks", "audit", "report", "generate"],
    ),
    (
        "dataset",
        &["ingest", "profile", "checks", "audit", "report", "generate"],
    ),
    (
        "profile",
        &["ingest", "checks", "audit", "report", "generate"],
    ),
    (
        "ingest",
        &["profile", "checks", "audit", "report", "generate"],
    ),
    ("checks", &["ingest", "audit", "report", "generate"]),
    ("audit", &["ingest", "report", "generate"]),
    ("report", &["ingest", "generate"]),
    ("generate", &["checks", "report"]),
];

fn files(p: &Path, out: &mut Vec<std::path::PathBuf>) {
    if p.is_dir() {
        for e in std::fs::read_dir(p).unwrap().flatten() {
            files(&e.path(), out);
        }
    } else if p.is_file() && p.extension().is_some_and(|e| e == "rs") {
        out.push(p.to_path_buf());
    }
}

/// Every module named after `crate::` in `text`, including `crate::{a, b::c}` groups.
fn used(text: &str) -> Vec<String> {
    let mut out = vec![];
    let mut rest = text;
    while let Some(i) = rest.find("crate::") {
        rest = &rest[i + 7..];
        if let Some(group) = rest.strip_prefix('{') {
            let end = group.find('}').unwrap_or(group.len());
            for part in group[..end].split(',') {
                let name: String = part
                    .trim()
                    .chars()
                    .take_while(|c| c.is_alphanumeric() || *c == '_')
                    .collect();
                out.push(name);
            }
        } else {
            out.push(
                rest.chars()
                    .take_while(|c| c.is_alphanumeric() || *c == '_')
                    .collect(),
            );
        }
    }
    out
}

#[test]
fn lower_layers_never_import_higher_ones() {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut bad = vec![];
    for (layer, forbidden) in FORBIDDEN {
        let mut fs = vec![];
        files(&src.join(layer), &mut fs);
        files(&src.join(format!("{layer}.rs")), &mut fs);
        assert!(!fs.is_empty(), "no source for layer {layer}");
        for f in fs {
            let text = std::fs::read_to_string(&f).unwrap();
            for m in used(&text) {
                if forbidden.contains(&m.as_str()) {
                    bad.push(format!("{} uses crate::{m}", f.display()));
                }
            }
        }
    }
    bad.sort();
    bad.dedup();
    assert!(bad.is_empty(), "layering violations:\n{}", bad.join("\n"));
}

#[test]
fn the_scanner_sees_grouped_imports() {
    assert_eq!(
        used("use crate::{model, report::format}; x = crate::checks::run();"),
        vec!["model", "report", "checks"]
    );
}

/// Terminal rendering stays at the CLI edge: only `src/cli_progress.rs` uses indicatif;
/// the library reports progress through `model::progress`.
#[test]
fn indicatif_only_at_the_cli_edge() {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut fs = vec![];
    files(&src, &mut fs);
    let users: Vec<String> = fs
        .iter()
        .filter(|f| std::fs::read_to_string(f).unwrap().contains("indicatif::"))
        .map(|f| f.strip_prefix(&src).unwrap().display().to_string())
        .collect();
    assert_eq!(users, ["cli_progress.rs"]);
}
