//! Stage timings for profiling runs: with `PEDAUDIT_TIMING=1`, how long each ingest stage,
//! view and check took is printed on stderr, to find what dominates a run (on Linux with
//! the resident and peak resident memory at the end of the stage, and the bytes the
//! program holds when built with `--features alloc-count`).

use std::time::Instant;

/// Now, when timings are on.
fn start() -> Option<Instant> {
    let on = std::env::var_os("PEDAUDIT_TIMING").is_some_and(|v| v == "1");
    on.then(Instant::now)
}

/// Times a scope: prints `timing <name>` when dropped.
pub struct Timer(Stages);

impl Timer {
    pub fn new(name: &'static str) -> Timer {
        Timer(Stages::new(name))
    }
}

impl Drop for Timer {
    fn drop(&mut self) {
        self.0.mark("");
    }
}

/// Consecutive stages of one function: `mark(name)` ends the stage named `name`.
pub struct Stages {
    prefix: &'static str,
    last: Option<Instant>,
    /// The process's CPU time at the last mark (threads summed).
    cpu: f64,
}

impl Stages {
    pub fn new(prefix: &'static str) -> Stages {
        let last = start();
        Stages {
            prefix,
            last,
            // (No system call when timing is off: the parse of each shard makes one.)
            cpu: if last.is_some() { cpu_seconds() } else { 0.0 },
        }
    }

    pub fn mark(&mut self, stage: &str) {
        if let Some(t) = self.last {
            let sep = if stage.is_empty() { "" } else { " " };
            let cpu = cpu_seconds();
            eprintln!(
                "timing {}{sep}{stage}: {:.3}s cpu {:.3}s{}",
                self.prefix,
                t.elapsed().as_secs_f64(),
                cpu - self.cpu,
                rss()
            );
            self.last = Some(Instant::now());
            self.cpu = cpu;
        }
    }
}

/// User + system CPU time of the process so far, all threads (0 where unknown): a stage's
/// CPU time over its wall time is how many cores it kept busy.
fn cpu_seconds() -> f64 {
    #[cfg(unix)]
    {
        // SAFETY: getrusage only writes the struct it is given.
        let mut u: libc::rusage = unsafe { std::mem::zeroed() };
        if unsafe { libc::getrusage(libc::RUSAGE_SELF, &mut u) } == 0 {
            let tv = |t: libc::timeval| t.tv_sec as f64 + t.tv_usec as f64 / 1e6;
            return tv(u.ru_utime) + tv(u.ru_stime);
        }
    }
    0.0
}

/// `  rss N MB, peak M MB` from /proc/self/status (Linux), else empty.
fn rss() -> String {
    use crate::memory::status_kb;
    match (status_kb("VmRSS:"), status_kb("VmHWM:")) {
        (Some(r), Some(p)) => {
            let live = crate::memory::live_mb()
                .map(|l| format!(", live {l} MB"))
                .unwrap_or_default();
            format!("  rss {} MB, peak {} MB{live}", r >> 10, p >> 10)
        }
        _ => String::new(),
    }
}
