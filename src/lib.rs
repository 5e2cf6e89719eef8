//! pedimento-audit: a batch compliance auditor over Mexican customs filings (pedimentos).
//!
//! Data flows one way: input files → [`ingest`] → [`dataset`] (hive-partitioned Parquet)
//! → [`checks`] (a registry; SQL in `queries/` or one polars plan each) → [`findings`]
//! (one schema for every check) → [`report`].

pub mod checks;
pub mod dataset;
pub mod findings;
pub mod generate;
pub mod ingest;
pub mod memory;
pub mod model;
pub mod profile;
pub mod report;
pub mod timing;

/// mimalloc instead of glibc malloc: ingest builds and drops millions of small strings
/// per shard, and glibc's arenas spent ~20% of the ingest in malloc/free and page faults
/// (perf, 1M partidas). See `memory::release` for returning memory between audit batches.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;
