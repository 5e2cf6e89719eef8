//! Benchmark (release only): generate a history, then time ingest and the audit.
//!
//! ```sh
//! cargo run --release --example bench -- ingest --partidas 1000000   # Data Stage → dataset
//! cargo run --release --example bench -- audit  --partidas 10000000  # ledger + all checks
//! cargo run --release --example bench -- all    --partidas 1000000
//! cargo run --release --example bench -- gen    --partidas 10000000  # write the input only
//! cargo run --release --example bench -- audit  --partidas 10000000 --bom-share 1.0  # a BOM on every company
//! cargo run --release --example bench -- ingest --partidas 10000000 --reuse [--memory-mb N]
//! ```
//! Prints one JSON line per phase: rows, seconds, rows/s and peak RSS (VmHWM, reset between
//! phases through /proc/self/clear_refs) — the numbers quoted in the issue notes and
//! bench/results.md. Generation is not timed. Never run it in the dev profile (6× slower).

use pedaudit::checks::{self, AuditContext, AuditOptions};
use pedaudit::generate::{self, Config, writers};
use std::path::PathBuf;
use std::time::Instant;

/// The allocator the product binary uses (src/main.rs), so the benchmark measures it.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn peak_rss_mb() -> f64 {
    let s = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    s.lines()
        .find(|l| l.starts_with("VmHWM:"))
        .and_then(|l| l.split_whitespace().nth(1))
        .and_then(|kb| kb.parse::<f64>().ok())
        .map(|kb| kb / 1024.0)
        .unwrap_or(0.0)
}

fn reset_peak() {
    let _ = std::fs::write("/proc/self/clear_refs", "5");
}

fn report(phase: &str, rows: usize, secs: f64, extra: &str) {
    println!(
        "{{\"phase\":\"{phase}\",\"rows\":{rows},\"seconds\":{secs:.3},\"rows_per_s\":{:.0},\"peak_rss_mb\":{:.0}{extra}}}",
        rows as f64 / secs.max(1e-9),
        peak_rss_mb()
    );
}

fn main() {
    pedaudit::memory::init();
    if std::env::var_os("RUST_MIN_STACK").is_none() {
        // SAFETY: first statement of main, before any thread exists (see src/main.rs).
        unsafe { std::env::set_var("RUST_MIN_STACK", "67108864") };
    }
    let args: Vec<String> = std::env::args().collect();
    let mode = args.get(1).cloned().unwrap_or_else(|| "all".into());
    let get = |name: &str, default: &str| -> String {
        args.iter()
            .position(|a| a == name)
            .and_then(|i| args.get(i + 1).cloned())
            .unwrap_or_else(|| default.to_string())
    };
    let partidas: usize = get("--partidas", "1000000").parse().expect("--partidas N");
    let companies: usize = get("--companies", "20").parse().expect("--companies N");
    let years: i32 = get("--years", "5").parse().expect("--years N");
    let work = PathBuf::from(get("--work", "out/bench"));
    let keep_inputs = args.iter().any(|a| a == "--keep");
    // Audit N companies at a time, as `audit --batch-companies N` (0 = the CLI default: batches
    // planned from the memory budget).
    let batch: usize = get("--batch", "0").parse().expect("--batch N");
    // Reuse a dataset written by an earlier `audit` run of the same size.
    let reuse = args.iter().any(|a| a == "--reuse");
    std::fs::create_dir_all(&work).unwrap();
    let cfg = Config {
        seed: 2024,
        companies,
        years,
        start_year: 2019,
        partidas,
        inject: generate::Violation::ALL.to_vec(),
        // Share of manufacturers with a bill of materials (`--bom-share 1.0`: every company).
        bom_share: get("--bom-share", "0")
            .parse()
            .expect("--bom-share 0.0-1.0"),
    };
    let ds = work.join(format!("dataset-{partidas}"));
    let profiles = work.join("profiles");
    // Ingest memory budget (MiB), as `ingest --memory-mb`; default the CLI's.
    let memory_mb: Option<u64> = args
        .iter()
        .position(|a| a == "--memory-mb")
        .map(|i| args[i + 1].parse().expect("--memory-mb N"));
    let input = work.join(format!("datastage-{partidas}"));
    if reuse && mode == "audit" && ds.exists() {
        audit(&ds, &profiles, batch, 0);
        return;
    }
    if reuse && mode == "ingest" && input.exists() {
        // Ingest files written by an earlier `gen` (or `--keep`) run: in a process that
        // did not generate them, so the peak is the ingest's own.
        let _ = std::fs::remove_dir_all(&ds);
        ingest(&input, &ds, memory_mb, None);
        return;
    }
    let t = Instant::now();
    let h = generate::generate(&cfg);
    let n_partidas: usize = h.years.values().map(|y| y.partidas.len()).sum();
    let n_ped: usize = h.years.values().map(|y| y.pedimentos.len()).sum();
    eprintln!(
        "generated {n_ped} pedimentos / {n_partidas} partidas in {:.1}s",
        t.elapsed().as_secs_f64()
    );
    writers::write_profiles(&h, &profiles).unwrap();
    let _ = std::fs::remove_dir_all(&ds);
    if mode == "gen" {
        // Only write the Data Stage input (and the profiles), for `ingest --reuse`.
        let _ = std::fs::remove_dir_all(&input);
        writers::write_datastage(&h, &input).unwrap();
        return;
    }
    if mode == "ingest" || mode == "all" {
        let _ = std::fs::remove_dir_all(&input);
        writers::write_datastage(&h, &input).unwrap();
        drop(h);
        ingest(&input, &ds, memory_mb, Some(n_partidas));
        if !keep_inputs {
            let _ = std::fs::remove_dir_all(&input);
        }
    } else {
        writers::write_dataset(&h, &ds).unwrap();
        drop(h);
    }
    if mode == "audit" || mode == "all" {
        audit(&ds, &profiles, batch, n_partidas);
    }
}

fn ingest(
    input: &std::path::Path,
    ds: &std::path::Path,
    memory_mb: Option<u64>,
    n_partidas: Option<usize>,
) {
    let bytes: u64 = std::fs::read_dir(input)
        .unwrap()
        .flatten()
        .map(|e| e.metadata().unwrap().len())
        .sum();
    reset_peak();
    let t = Instant::now();
    let opts = pedaudit::ingest::IngestOptions {
        memory_mb,
        ..Default::default()
    };
    let r = pedaudit::ingest::run(&[input.to_path_buf()], ds, &opts).unwrap();
    let secs = t.elapsed().as_secs_f64();
    assert_eq!(r.rejected, 0);
    let n_partidas =
        n_partidas.unwrap_or_else(|| pedaudit::dataset::count_rows(ds, "partidas").unwrap());
    report(
        "ingest_datastage",
        r.rows_read,
        secs,
        &format!(
            ",\"partidas\":{n_partidas},\"partidas_per_s\":{:.0},\"input_mb\":{:.0},\"parse_s\":{:.3},\"write_s\":{:.3},\"shards\":{}",
            n_partidas as f64 / secs,
            bytes as f64 / 1e6,
            r.parse_seconds,
            r.write_seconds,
            r.shards
        ),
    );
}

fn audit(ds: &std::path::Path, profiles: &std::path::Path, batch: usize, n_partidas: usize) {
    let n_partidas = if n_partidas == 0 {
        pedaudit::dataset::count_rows(ds, "partidas").unwrap()
    } else {
        n_partidas
    };
    reset_peak();
    let t = Instant::now();
    let opts = AuditOptions {
        profiles: Some(profiles.to_path_buf()),
        ..Default::default()
    };
    // `--groups temp,cert` limits the checks (to measure one part); default all.
    let groups = std::env::var("BENCH_GROUPS").unwrap_or_default();
    let sel: Vec<&'static checks::CheckDef> = checks::REGISTRY
        .iter()
        .filter(|c| groups.is_empty() || groups.split(',').any(|g| g == c.group))
        .collect();
    let mut nothing = |_: &AuditContext, _: checks::Pass| Ok(());
    // As `audit` without flags: batches planned from the default memory budget; `--batch N`
    // as `audit --batch-companies N`.
    let batching = if batch > 0 {
        checks::Batching::Companies(batch)
    } else {
        checks::Batching::MemoryMb(pedaudit::memory::default_budget_mb())
    };
    let run = checks::run_with(ds, &opts, &sel, batching, &mut nothing).unwrap();
    let secs = t.elapsed().as_secs_f64();
    report(
        "audit_all_checks",
        n_partidas,
        secs,
        &format!(
            ",\"findings\":{},\"batches\":{}",
            run.findings.height(),
            run.batches
        ),
    );
}
