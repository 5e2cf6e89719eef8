//! Stage timings for profiling runs.

/// With `PEDAUDIT_TIMING=1`, prints how long each view and check took (stderr), to find
/// what dominates a run.
pub struct Timer {
    name: &'static str,
    start: Option<std::time::Instant>,
}

impl Timer {
    pub fn new(name: &'static str) -> Timer {
        let on = std::env::var_os("PEDAUDIT_TIMING").is_some_and(|v| v == "1");
        Timer {
            name,
            start: on.then(std::time::Instant::now),
        }
    }
}

impl Drop for Timer {
    fn drop(&mut self) {
        if let Some(t) = self.start {
            eprintln!("timing {}: {:.3}s", self.name, t.elapsed().as_secs_f64());
        }
    }
}

/// Consecutive stages of one function: `mark(name)` ends the stage named `name` (with
/// `PEDAUDIT_TIMING=1`, prints its time).
pub struct Stages {
    prefix: &'static str,
    last: Option<std::time::Instant>,
}

impl Stages {
    pub fn new(prefix: &'static str) -> Stages {
        let on = std::env::var_os("PEDAUDIT_TIMING").is_some_and(|v| v == "1");
        Stages {
            prefix,
            last: on.then(std::time::Instant::now),
        }
    }

    pub fn mark(&mut self, stage: &str) {
        if let Some(t) = self.last {
            eprintln!(
                "timing {} {stage}: {:.3}s",
                self.prefix,
                t.elapsed().as_secs_f64()
            );
            self.last = Some(std::time::Instant::now());
        }
    }
}
