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
use comfy_table::Table;
use pedaudit::model::lang::Lang;
use pedaudit::{checks, dataset, findings, generate, ingest, report};
use polars::prelude::*;
use std::path::{Path, PathBuf};
use std::time::Instant;

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
