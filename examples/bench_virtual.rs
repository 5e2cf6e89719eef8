//! Benchmark of VIRTUAL-PAIRING: generates ≥1,000,000 virtual pedimentos (V1 pairs
//! between 12 companies over 3 years, with per 1,000 transfers a few wrong references,
//! splits and unpaired senders), writes them as a dataset, and times each stage.
//!
//! ```text
//! cargo run --release --example bench_virtual -- [ITERATIONS (default 520000)] [DATASET_DIR]
//! ```
//! 520,000 iterations give about 1.03 million virtual pedimentos. Without DATASET_DIR a
//! temporary folder is used and removed afterwards.

use pedaudit::checks::{self, AuditContext, AuditOptions, virtual_pairing};
use pedaudit::generate::{virtual_inject, writers};
use polars::prelude::*;
use std::time::Instant;

/// The allocator the product binary uses (src/main.rs), so the benchmark measures it.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().collect();
    let iterations: usize = args
        .get(1)
        .map(|s| s.parse())
        .transpose()?
        .unwrap_or(520_000);
    let tmp = tempfile::tempdir()?;
    let dir = args
        .get(2)
        .map(std::path::PathBuf::from)
        .unwrap_or_else(|| tmp.path().join("ds"));

    let t = Instant::now();
    let h = virtual_inject::bulk(iterations, 12, 2022, 3, 42);
    let n_ped: usize = h.years.values().map(|y| y.pedimentos.len()).sum();
    let n_part: usize = h.years.values().map(|y| y.partidas.len()).sum();
    println!(
        "generate: {n_ped} virtual pedimentos, {n_part} partidas in {:.2}s",
        t.elapsed().as_secs_f64()
    );

    let t = Instant::now();
    writers::write_dataset(&h, &dir)?;
    println!(
        "write dataset: {:.2}s ({})",
        t.elapsed().as_secs_f64(),
        dir.display()
    );
    drop(h);

    let t = Instant::now();
    let ctx = AuditContext::open(&dir, AuditOptions::default())?;
    println!(
        "open context (tables + ledger views): {:.2}s",
        t.elapsed().as_secs_f64()
    );

    let t = Instant::now();
    let (sides, rfcs) = virtual_pairing::load(&ctx)?;
    let t_load = t.elapsed().as_secs_f64();
    let n_sides = sides.len();
    let t = Instant::now();
    let p = virtual_pairing::pair(sides);
    let t_pair = t.elapsed().as_secs_f64();
    let t = Instant::now();
    let tables = virtual_pairing::tables(
        &p,
        &rfcs,
        pedaudit::model::date32(ctx.as_of),
        virtual_pairing::VALUE_TOLERANCE_PCT,
    )?;
    let t_tables = t.elapsed().as_secs_f64();
    let fallback = p
        .pairs
        .iter()
        .filter(|x| x.method == virtual_pairing::Method::Fallback)
        .count();
    println!(
        "pairing: load {t_load:.2}s, match {t_pair:.2}s, tables {t_tables:.2}s; {n_sides} sides -> {} pairs ({fallback} by fallback) in {} groups",
        tables.pairs.height(),
        p.groups
    );

    let t = Instant::now();
    let sel = checks::select(&["virtual".to_string()])?;
    let df = checks::run(&ctx, &sel)?;
    println!(
        "audit --check virtual (pairing again + 4 SQL rules): {:.2}s, {} findings",
        t.elapsed().as_secs_f64(),
        df.height()
    );
    let counts = df
        .clone()
        .lazy()
        .group_by([col("check_code")])
        .agg([len()])
        .sort(["check_code"], Default::default())
        .collect()?;
    println!("{counts}");
    Ok(())
}
