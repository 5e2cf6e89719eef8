//! Terminal rendering of the library's progress events (`model::progress`): indicatif bars
//! with rate and ETA when stderr is a terminal; otherwise plain lines on stderr at most
//! every [`PLAIN_EVERY`] (a stage shorter than that prints nothing, so tests and short runs
//! stay quiet). Labels and the library's messages ([`Message`]) in the command's language.
//! The only module that uses indicatif.

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use pedaudit::model::lang::Lang;
use pedaudit::model::progress::{Message, Progress, ProgressHandle, Stage, Unit};
use std::io::IsTerminal;
use std::sync::Arc;
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// Interval of the plain progress lines when stderr is not a terminal.
pub const PLAIN_EVERY: Duration = Duration::from_secs(15);

struct Plain {
    label: String,
    unit: Unit,
    total: u64,
    done: u64,
    started: Instant,
    last: Instant,
}

enum State {
    Idle,
    Bar(ProgressBar),
    Plain(Plain),
}

pub struct Terminal {
    lang: Lang,
    tty: bool,
    state: Mutex<State>,
}

/// The progress sink of a command: bars on a terminal, plain lines otherwise.
pub fn handle(lang: Lang) -> ProgressHandle {
    ProgressHandle::new(Arc::new(Terminal {
        lang,
        tty: std::io::stderr().is_terminal(),
        state: Mutex::new(State::Idle),
    }))
}

fn label(l: Lang, s: Stage) -> &'static str {
    match s {
        Stage::IngestRead => l.pick("lectura", "reading"),
        Stage::IngestParse => l.pick("análisis", "parsing"),
        Stage::Audit => l.pick("revisiones", "checks"),
        Stage::Report => l.pick("reportes", "reports"),
    }
}

fn unit_word(l: Lang, u: Unit) -> &'static str {
    match u {
        Unit::Bytes => "",
        Unit::Checks => l.pick("revisiones", "checks"),
        Unit::Reports => l.pick("reportes", "reports"),
    }
}

/// `12.3 MiB` / `45`.
fn amount(u: Unit, n: u64) -> String {
    match u {
        Unit::Bytes => format!("{}", indicatif::HumanBytes(n)),
        _ => n.to_string(),
    }
}

impl Progress for Terminal {
    fn begin(&self, stage: Stage, total: u64, unit: Unit) {
        let l = self.lang;
        let mut st = self.state.lock().unwrap_or_else(|e| e.into_inner());
        if let State::Bar(b) = &*st {
            b.finish_and_clear();
        }
        *st = if self.tty {
            let tmpl = match unit {
                Unit::Bytes => format!(
                    "{{prefix:>12}} [{{bar:30}}] {{bytes}}/{{total_bytes}} {{bytes_per_sec}} {} {{eta}}",
                    l.pick("faltan", "ETA")
                ),
                _ => format!(
                    "{{prefix:>12}} [{{bar:30}}] {{pos}}/{{len}} {} {{per_sec}} {} {{eta}}",
                    unit_word(l, unit),
                    l.pick("faltan", "ETA")
                ),
            };
            let b = ProgressBar::with_draw_target(Some(total), ProgressDrawTarget::stderr());
            if let Ok(style) = ProgressStyle::with_template(&tmpl) {
                b.set_style(style.progress_chars("=> "));
            }
            b.set_prefix(label(l, stage));
            State::Bar(b)
        } else {
            let now = Instant::now();
            State::Plain(Plain {
                label: label(l, stage).to_string(),
                unit,
                total,
                done: 0,
                started: now,
                last: now,
            })
        };
    }

    fn advance(&self, n: u64) {
        let l = self.lang;
        let mut st = self.state.lock().unwrap_or_else(|e| e.into_inner());
        match &mut *st {
            State::Bar(b) => b.inc(n),
            State::Plain(p) => {
                p.done += n;
                if p.last.elapsed() >= PLAIN_EVERY {
                    p.last = Instant::now();
                    let secs = p.started.elapsed().as_secs_f64().max(1e-9);
                    let rate = p.done as f64 / secs;
                    let left = p.total.saturating_sub(p.done) as f64 / rate.max(1e-9);
                    let pct = if p.total == 0 {
                        100.0
                    } else {
                        p.done as f64 * 100.0 / p.total as f64
                    };
                    let per_sec = match p.unit {
                        Unit::Bytes => amount(p.unit, rate as u64),
                        _ => format!("{rate:.1}"),
                    };
                    eprintln!(
                        "{}: {} / {} ({pct:.0} %), {per_sec}/s, {} {:.0} s",
                        p.label,
                        amount(p.unit, p.done),
                        amount(p.unit, p.total),
                        l.pick("faltan", "ETA"),
                        left
                    );
                }
            }
            State::Idle => {}
        }
    }

    fn end(&self) {
        let mut st = self.state.lock().unwrap_or_else(|e| e.into_inner());
        if let State::Bar(b) = &*st {
            b.finish_and_clear();
        }
        *st = State::Idle;
    }

    /// The library's lines, on stderr in the command's language (above a running bar).
    fn message(&self, m: &Message) {
        let line = format!("  {}", m.text(self.lang));
        let st = self.state.lock().unwrap_or_else(|e| e.into_inner());
        match &*st {
            State::Bar(b) => b.suspend(|| eprintln!("{line}")),
            _ => eprintln!("{line}"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plain_mode_is_quiet_for_short_stages_and_counts() {
        let t = Terminal {
            lang: Lang::Es,
            tty: false,
            state: Mutex::new(State::Idle),
        };
        t.begin(Stage::Audit, 10, Unit::Checks);
        t.advance(4);
        match &*t.state.lock().unwrap() {
            State::Plain(p) => {
                assert_eq!((p.done, p.total), (4, 10));
                assert_eq!(p.label, "revisiones");
            }
            _ => panic!("plain state expected off a terminal"),
        }
        t.end();
        assert!(matches!(&*t.state.lock().unwrap(), State::Idle));
        assert_eq!(amount(Unit::Bytes, 2048), "2.00 KiB");
    }
}
