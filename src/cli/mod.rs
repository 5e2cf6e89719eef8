//! clap structs and the thin glue from arguments to library calls.
//!
//! Layout: `args.rs` (clap structs), one file per command group (`cmd_generate.rs`,
//! `cmd_ingest.rs`, `cmd_audit.rs`, `cmd_info.rs`: report, trace, explain, rules).

mod args;
mod cmd_audit;
mod cmd_generate;
mod cmd_info;
mod cmd_ingest;

pub use args::*;
pub use cmd_audit::*;
pub use cmd_generate::*;
pub use cmd_info::*;
pub use cmd_ingest::*;

use anyhow::{Context, Result, bail};
use chrono::NaiveDate;
use clap::{Args, Parser, Subcommand, ValueEnum};
use comfy_table::{CellAlignment, ContentArrangement, Table};
use pedaudit::model::lang::Lang;
use pedaudit::{checks, dataset, findings, generate, ingest, report};
use polars::prelude::*;
use std::path::{Path, PathBuf};
use std::time::Instant;

/// Width of the terminal summaries (tables and sentences).
pub const TERM_WIDTH: usize = 80;

/// A terminal summary table: at most [`TERM_WIDTH`] columns (cells wrap), condensed
/// ASCII borders, the `right` columns (numbers) right-aligned.
fn term_table(header: Vec<&str>, right: &[usize]) -> Table {
    let mut t = Table::new();
    t.load_style(comfy_table::presets::ASCII_FULL_CONDENSED)
        .set_content_arrangement(ContentArrangement::Dynamic)
        .set_width(TERM_WIDTH as u16)
        .set_header(header);
    for &i in right {
        if let Some(c) = t.column_mut(i) {
            c.set_cell_alignment(CellAlignment::Right);
            c.set_constraint(comfy_table::ColumnConstraint::ContentWidth);
        }
    }
    t
}

/// A count with thousands separators.
fn num(n: impl ToString) -> String {
    report::format::thousands(&n.to_string())
}

/// `text` broken at spaces into lines of at most [`TERM_WIDTH`] characters (a word longer
/// than that, such as a long path, gets a line of its own); continuation lines indented.
fn wrap(text: &str) -> Vec<String> {
    let mut lines: Vec<String> = vec![];
    let mut cur = String::new();
    for w in text.split(' ') {
        let len = cur.chars().count();
        if !cur.trim().is_empty() && len + 1 + w.chars().count() > TERM_WIDTH {
            lines.push(std::mem::take(&mut cur));
            cur.push_str("  ");
        } else if !cur.is_empty() && !cur.ends_with("  ") {
            cur.push(' ');
        }
        cur.push_str(w);
    }
    if !cur.trim().is_empty() {
        lines.push(cur);
    }
    lines
}

fn print_wrapped(text: &str) {
    for l in wrap(text) {
        println!("{l}");
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A read-only dataset says so (it used to say "cannot read <dataset>/.lock").
    #[test]
    fn read_only_dataset_message_says_not_writable() {
        let root = Path::new("/data/ds");
        for kind in [
            std::io::ErrorKind::PermissionDenied,
            std::io::ErrorKind::ReadOnlyFilesystem,
        ] {
            let e = ingest::IngestError::Read {
                path: root.join(".lock"),
                source: std::io::Error::from(kind),
            };
            let m = not_writable(e, root).to_string();
            assert!(m.contains("not writable") && m.contains("/data/ds"), "{m}");
        }
        // Other errors pass through unchanged.
        let e = ingest::IngestError::NoInput(PathBuf::from("x"));
        assert!(not_writable(e, root).to_string().contains("no input files"));
    }

    #[test]
    fn rules_in_spanish_translate_the_headings() {
        let es = rules(Lang::Es);
        for h in [
            "# Versiones de las reglas que aplica el producto",
            "## Certificación en materia de IVA e IEPS",
            "| id | instrumento | vigente desde |",
            "### Requisitos por versión",
            "## Días hábiles",
        ] {
            assert!(es.contains(h), "{h} missing:\n{es}");
        }
        for h in ["# Rule versions", "## Business days", "checked from data"] {
            assert!(!es.contains(h), "{h} left in English:\n{es}");
        }
        assert_eq!(rules(Lang::En), checks::cert_rules::markdown());
    }

    #[test]
    fn distance_and_severity_order() {
        assert_eq!(distance("KAA910215M1", "KAA910215M11"), 1);
        assert_eq!(distance("abc", "abc"), 0);
        assert_eq!(Severity::High.at_or_above(), ["critical", "high"]);
        assert_eq!(Severity::Info.at_or_above().len(), 5);
    }
}
