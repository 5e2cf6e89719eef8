//! CLI edge: parse arguments, call the library, print summaries, map errors to exit
//! codes (0 ok / no findings at --fail-on, 1 findings at or above --fail-on, 2 failure).

mod cli;
mod cli_progress;

use anyhow::{Context, Result};
use clap::Parser;
use cli::{Cli, Command};

/// mimalloc instead of glibc malloc (chosen by the binary, not forced on users of the
/// library): ingest builds and drops millions of small strings
/// per shard, and glibc's arenas spent ~20% of the ingest in malloc/free and page faults
/// (perf, 1M partidas). See `memory::release` for returning memory between audit batches.
#[cfg(not(feature = "alloc-count"))]
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// With `--features alloc-count` (diagnostics only): mimalloc behind a counter of the
/// bytes the program holds, which `PEDAUDIT_TIMING=1` prints beside the resident size
/// (`live N MB`): resident memory that grows while the live bytes do not is the
/// allocator's (held or fragmented pages); live bytes that grow are kept by the program.
/// Off by default: one atomic add per allocation and free.
#[cfg(feature = "alloc-count")]
#[global_allocator]
static GLOBAL: Counting = Counting;

#[cfg(feature = "alloc-count")]
struct Counting;

#[cfg(feature = "alloc-count")]
// SAFETY: every call forwards to mimalloc with the caller's arguments; the counter only
// adds and subtracts sizes.
unsafe impl std::alloc::GlobalAlloc for Counting {
    unsafe fn alloc(&self, l: std::alloc::Layout) -> *mut u8 {
        pedaudit::memory::count_alloc(l.size() as isize);
        // SAFETY: the caller's contract, forwarded.
        unsafe { mimalloc::MiMalloc.alloc(l) }
    }
    unsafe fn alloc_zeroed(&self, l: std::alloc::Layout) -> *mut u8 {
        pedaudit::memory::count_alloc(l.size() as isize);
        // SAFETY: the caller's contract, forwarded.
        unsafe { mimalloc::MiMalloc.alloc_zeroed(l) }
    }
    unsafe fn dealloc(&self, p: *mut u8, l: std::alloc::Layout) {
        pedaudit::memory::count_alloc(-(l.size() as isize));
        // SAFETY: the caller's contract, forwarded.
        unsafe { mimalloc::MiMalloc.dealloc(p, l) }
    }
    unsafe fn realloc(&self, p: *mut u8, l: std::alloc::Layout, n: usize) -> *mut u8 {
        pedaudit::memory::count_alloc(n as isize - l.size() as isize);
        // SAFETY: the caller's contract, forwarded.
        unsafe { mimalloc::MiMalloc.realloc(p, l, n) }
    }
}

fn main() {
    pedaudit::memory::init();
    // polars and rayon worker threads evaluate deep plans (the ledger views) recursively;
    // give every thread a large stack unless the user chose one. Set before any thread
    // exists (std reads it once, at the first spawn).
    if std::env::var_os("RUST_MIN_STACK").is_none() {
        // SAFETY: first statement of main, no other thread is running yet.
        unsafe { std::env::set_var("RUST_MIN_STACK", "67108864") };
    }
    // `pedimento-audit explain X | head`: a closed pipe ends the process quietly, as for
    // any Unix filter, instead of a panic in println! (Rust ignores SIGPIPE by default).
    #[cfg(unix)]
    // SAFETY: restoring the default disposition of one signal before any thread exists.
    unsafe {
        libc::signal(libc::SIGPIPE, libc::SIG_DFL);
    }
    let cli = Cli::parse();
    // Deep polars plans need a larger stack than the main thread's default in some builds.
    let worker = std::thread::Builder::new()
        .stack_size(256 * 1024 * 1024)
        .spawn(move || run(cli))
        .expect("spawn main worker");
    let result = worker
        .join()
        .unwrap_or_else(|_| Err(anyhow::anyhow!("internal error (panic)")));
    match result {
        Ok(code) => std::process::exit(code),
        Err(e) => {
            eprintln!("error: {e}");
            for cause in e.chain().skip(1) {
                eprintln!("  caused by: {cause}");
            }
            std::process::exit(2);
        }
    }
}

fn run(cli: Cli) -> Result<i32> {
    match cli.command {
        Command::Generate(a) => cli::generate(a).context("generate failed"),
        Command::Ingest(a) => cli::ingest(a).context("ingest failed"),
        Command::Audit(a) => cli::audit(a).context("audit failed"),
        Command::Report(a) => cli::report(a).context("report failed"),
        Command::Trace(a) => cli::trace(a).context("trace failed"),
        Command::Rules { lang } => {
            print!("{}", cli::rules(lang));
            Ok(0)
        }
        Command::Explain { code, lang } => cli::explain(&code, lang),
    }
}
