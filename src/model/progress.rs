//! Progress of long work (ingest bytes, audit checks, reports written), reported by the
//! library through a small trait so that the terminal rendering (indicatif bars, plain
//! lines) stays at the CLI edge (`src/cli.rs`); the library never prints progress itself.
//!
//! A stage is `begin(stage, total, unit)`, any number of `advance(n)`, then `end()`.
//! Besides the counts, the library has a few things to say while it works (an input path
//! it skips, a large file it starts parsing, rows not stored again, the shard plan): it
//! sends them as typed [`Message`]s, and the sink renders them in the command's language
//! ([`Message::text`]); with no sink they are dropped.
//! Implementations must be cheap and thread-safe: checks run in parallel and call
//! `advance` from rayon workers.

use super::lang::Lang;
use std::sync::Arc;

/// What a stage counts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Unit {
    Bytes,
    /// Checks run (one per check and company batch).
    Checks,
    Reports,
}

/// The stages the library reports.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Stage {
    /// Reading and hashing the input files.
    IngestRead,
    /// Parsing the input files into rows.
    IngestParse,
    /// Running the checks.
    Audit,
    /// Building and writing the reports.
    Report,
}

/// A line the library says while it works; [`Message::text`] words it in a language.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Message {
    /// An input path not read; `why` is the English reason (worded by `Lang::phrase`).
    Skipped { path: String, why: String },
    /// A large Data Stage file read and decoded, before its rows are parsed.
    Parsing {
        file: String,
        rows: usize,
        encoding: String,
    },
    /// Accepted rows of a file not stored again (a repeat, or taken from a later file or
    /// request); `conflicts` of them are a different version of a partida (DATA-CONFLICT).
    NotStoredAgain {
        file: String,
        duplicates: usize,
        conflicts: usize,
    },
    /// The plan of a sharded ingest (input larger than the memory budget).
    Shards { bytes: u64, shards: usize, mb: u64 },
    /// Files not in pedimento order, whose lines were copied into the shards.
    CopiedToShards { files: usize },
}

impl Message {
    /// The line in `l` (no leading indentation, no newline).
    pub fn text(&self, l: Lang) -> String {
        match (self, l) {
            (Message::Skipped { path, why }, Lang::Es) => {
                format!("omitido {path}: {}", l.phrase(why))
            }
            (Message::Skipped { path, why }, Lang::En) => format!("skipped {path}: {why}"),
            (
                Message::Parsing {
                    file,
                    rows,
                    encoding,
                },
                Lang::Es,
            ) => format!("leído {file}: {rows} renglones ({encoding}), analizando..."),
            (
                Message::Parsing {
                    file,
                    rows,
                    encoding,
                },
                Lang::En,
            ) => format!("read {file}: {rows} rows ({encoding}), parsing..."),
            (
                Message::NotStoredAgain {
                    file,
                    duplicates,
                    conflicts,
                },
                Lang::Es,
            ) => format!(
                "{file}: {duplicates} renglón(es) aceptado(s) no se guardan de nuevo (repetidos, o tomados de un archivo o solicitud posterior); {conflicts} de ellos, otra versión de una partida de este archivo, guardados en conflictos (DATA-CONFLICT)"
            ),
            (
                Message::NotStoredAgain {
                    file,
                    duplicates,
                    conflicts,
                },
                Lang::En,
            ) => format!(
                "{file}: {duplicates} accepted row(s) not stored again (a repeat, or taken from a later file or request); {conflicts} of them a different version of a partida of this file, kept in conflicts (DATA-CONFLICT)"
            ),
            (Message::Shards { bytes, shards, mb }, Lang::Es) => format!(
                "{bytes} bytes de entrada Data Stage: analizados en {shards} fragmento(s) de ~{mb} MB"
            ),
            (Message::Shards { bytes, shards, mb }, Lang::En) => format!(
                "{bytes} bytes of Data Stage input: parsed in {shards} shard(s) of ~{mb} MB"
            ),
            (Message::CopiedToShards { files }, Lang::Es) => format!(
                "{files} archivo(s) fuera del orden de pedimentos: sus líneas se copiaron a los fragmentos"
            ),
            (Message::CopiedToShards { files }, Lang::En) => format!(
                "{files} file(s) not in pedimento order: their lines copied into the shards"
            ),
        }
    }
}

/// Receives progress events.
pub trait Progress: Send + Sync {
    fn begin(&self, stage: Stage, total: u64, unit: Unit);
    fn advance(&self, n: u64);
    fn end(&self);
    /// A line to show the user (default: dropped).
    fn message(&self, _m: &Message) {}
}

/// A cloneable, optional progress sink to carry in option structs (`Default` = silent).
#[derive(Clone, Default)]
pub struct ProgressHandle(Option<Arc<dyn Progress>>);

impl ProgressHandle {
    pub fn new(p: Arc<dyn Progress>) -> Self {
        ProgressHandle(Some(p))
    }
    pub fn begin(&self, stage: Stage, total: u64, unit: Unit) {
        if let Some(p) = &self.0 {
            p.begin(stage, total, unit);
        }
    }
    pub fn advance(&self, n: u64) {
        if let Some(p) = &self.0 {
            p.advance(n);
        }
    }
    pub fn end(&self) {
        if let Some(p) = &self.0 {
            p.end();
        }
    }
    pub fn message(&self, m: Message) {
        if let Some(p) = &self.0 {
            p.message(&m);
        }
    }
}

impl std::fmt::Debug for ProgressHandle {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(if self.0.is_some() {
            "ProgressHandle(on)"
        } else {
            "ProgressHandle(off)"
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Mutex;

    #[derive(Default)]
    struct Log(Mutex<Vec<String>>);
    impl Progress for Log {
        fn begin(&self, s: Stage, t: u64, u: Unit) {
            self.0.lock().unwrap().push(format!("{s:?} {t} {u:?}"));
        }
        fn advance(&self, n: u64) {
            self.0.lock().unwrap().push(format!("+{n}"));
        }
        fn end(&self) {
            self.0.lock().unwrap().push("end".into());
        }
    }

    #[test]
    fn handle_forwards_and_default_is_silent() {
        let log = Arc::new(Log::default());
        let h = ProgressHandle::new(log.clone());
        h.begin(Stage::Audit, 3, Unit::Checks);
        h.advance(2);
        h.end();
        assert_eq!(*log.0.lock().unwrap(), ["Audit 3 Checks", "+2", "end"]);
        let off = ProgressHandle::default();
        off.advance(1); // no sink: nothing happens
        assert_eq!(format!("{off:?}"), "ProgressHandle(off)");
        off.message(Message::CopiedToShards { files: 1 }); // dropped
    }

    #[test]
    fn messages_in_both_languages() {
        let m = Message::Skipped {
            path: "in/x".into(),
            why: "dangling symbolic link (to /gone): nothing to read".into(),
        };
        assert_eq!(
            m.text(Lang::Es),
            "omitido in/x: enlace simbólico roto (a /gone): nada que leer"
        );
        assert_eq!(
            m.text(Lang::En),
            "skipped in/x: dangling symbolic link (to /gone): nothing to read"
        );
        let p = Message::Parsing {
            file: "a_551.asc".into(),
            rows: 120000,
            encoding: "latin-1".into(),
        };
        assert!(
            p.text(Lang::Es)
                .starts_with("leído a_551.asc: 120000 renglones")
        );
        assert!(p.text(Lang::En).starts_with("read a_551.asc: 120000 rows"));
        let s = Message::Shards {
            bytes: 10,
            shards: 2,
            mb: 0,
        };
        assert!(s.text(Lang::Es).contains("fragmento(s)"));
        assert!(s.text(Lang::En).contains("shard(s)"));
    }
}
