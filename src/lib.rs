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
pub mod model;
pub mod profile;
pub mod report;
pub mod timing;

/// Keeps large freed blocks in glibc's heap instead of returning them to the OS: ingest
/// builds and drops many large vectors, and each fresh mapping is faulted in again page by
/// page (a fifth of ingest time). Call once at the start of `main`.
pub fn tune_allocator() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    // SAFETY: mallopt only changes allocator thresholds; called before other threads exist.
    unsafe {
        libc::mallopt(libc::M_MMAP_THRESHOLD, 1 << 30);
        libc::mallopt(libc::M_TRIM_THRESHOLD, 1 << 30);
    }
}
