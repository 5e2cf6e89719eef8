//! Progress of long work (ingest bytes, audit checks, reports written), reported by the
//! library through a small trait so that the terminal rendering (indicatif bars, plain
//! lines) stays at the CLI edge (`src/cli.rs`); the library never prints progress itself.
//!
//! A stage is `begin(stage, total, unit)`, any number of `advance(n)`, then `end()`.
//! Implementations must be cheap and thread-safe: checks run in parallel and call
//! `advance` from rayon workers.

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

/// Receives progress events.
pub trait Progress: Send + Sync {
    fn begin(&self, stage: Stage, total: u64, unit: Unit);
    fn advance(&self, n: u64);
    fn end(&self);
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
    }
}
