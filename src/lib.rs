//! pedimento-audit: a batch compliance auditor over Mexican customs filings (pedimentos).
//!
//! Data flows one way: input files → [`ingest`] → [`dataset`] (hive-partitioned Parquet)
//! → [`checks`] (a registry; SQL in `queries/` or one polars plan each) → [`findings`]
//! (one schema for every check) → [`report`].

pub mod audit;
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
