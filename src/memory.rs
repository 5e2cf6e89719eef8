//! Memory housekeeping shared by the batched audit and the sharded ingest.

/// Returns freed heap pages to the OS between batches or shards (allocators keep them
/// otherwise, and the resident size would creep up batch after batch): mimalloc (the
/// global allocator of the binary, see main.rs) through `mi_collect`, and glibc's heap (used by the C
/// libraries, e.g. zstd) through `malloc_trim`.
pub fn release() {
    // mi_collect(true) returns the calling thread's free pages to mimalloc's arenas and
    // then purges (decommits) every arena range scheduled for purging, whatever its delay.
    // Two things defeated it here before (session 31: the audit of a 10 M-partida history
    // with a bill of materials on every company stayed at 1.7-2.3 GB resident between
    // batches while holding 10 MB): the pages polars' and rayon's worker threads freed stay
    // with those threads' heaps until they collect, so every worker thread collects its
    // own; and mimalloc v3 skips the arena purge entirely while the purge delay is 0
    // ("nothing will be scheduled"), so the delay stays positive during the call (the
    // forced collect ignores it).
    let collect = || {
        // SAFETY: mi_collect only frees memory mimalloc no longer uses.
        unsafe { libmimalloc_sys::mi_collect(true) }
    };
    // SAFETY: as in `hold_freed_pages`.
    let before = unsafe { libmimalloc_sys::mi_option_get(MI_OPTION_PURGE_DELAY) };
    if before <= 0 {
        // SAFETY: as in `hold_freed_pages`.
        unsafe { libmimalloc_sys::mi_option_set(MI_OPTION_PURGE_DELAY, 1) };
    }
    polars_core::runtime::THREAD_POOL.broadcast(|_| collect());
    rayon::broadcast(|_| collect());
    collect();
    if before <= 0 {
        // SAFETY: as in `hold_freed_pages`.
        unsafe { libmimalloc_sys::mi_option_set(MI_OPTION_PURGE_DELAY, before) };
    }
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    // SAFETY: malloc_trim only releases free memory held by the allocator.
    unsafe {
        libc::malloc_trim(0);
    }
}

/// mimalloc's `mi_option_purge_delay` (index 15 of `mi_option_e` in both the v2 and v3
/// `mimalloc.h` vendored by libmimalloc-sys 0.1.49, which names no Rust constant for it).
const MI_OPTION_PURGE_DELAY: libmimalloc_sys::mi_option_t = 15;

/// How long the sharded ingest and the batched audit keep freed pages ([`hold_freed_pages`]):
/// longer than any run's step, so within a run they are never returned by the timer. A
/// delay of a few seconds is not "keep each page that long": mimalloc v3 schedules one
/// expiry per arena when the first range is freed and, when it passes, purges every range
/// freed since, including those freed a millisecond before (`mi_arena_try_purge`, v3
/// arena.c). With 10 s the 10 M-partida ingest still faulted ~1.5 GB back in and spent
/// 27 % of its samples zeroing pages (`clear_page_erms`): 26.6 s, 14.3 s of system time,
/// 856 k minor faults, against 21.3 s, 6.3 s and 472 k (the first touch of its peak) when
/// never purging, at 1.58 -> 1.78 GB peak (bench/results.md, session 32). The peak stays
/// bounded by the largest shard or batch: the next one reuses the same pages. [`release`]
/// still returns them (a forced collect ignores the delay).
pub const HOLD_MS: i64 = 600_000;

/// Keeps pages mimalloc frees committed for `ms` milliseconds before returning them to
/// the OS (mimalloc v3's default: 1,000): the sharded ingest frees a shard's rows and
/// text and allocates as much again a second later, and returning the pages in between
/// made each shard fault and zero them anew (see [`HOLD_MS`]). Keep `ms` finite: with -1
/// mimalloc schedules no purge at all, so not even [`release`] returns those pages (the
/// batched audit crept from 1.9 to 2.3 GB over the first 12 batches at 100 M partidas).
/// The previous delay comes back when the returned guard drops. A user's
/// `MIMALLOC_PURGE_DELAY` wins.
pub fn hold_freed_pages(ms: i64) -> PurgeDelay {
    if std::env::var_os("MIMALLOC_PURGE_DELAY").is_some() {
        return PurgeDelay(None);
    }
    // SAFETY: mi_option_get/set only read and store the option's value; mimalloc reads
    // it at its next purge decision.
    unsafe {
        let before = libmimalloc_sys::mi_option_get(MI_OPTION_PURGE_DELAY);
        libmimalloc_sys::mi_option_set(MI_OPTION_PURGE_DELAY, ms as _);
        PurgeDelay(Some(before))
    }
}

/// A `kB` field of `/proc/self/status` (e.g. `VmRSS:`, `VmHWM:`), in KiB; None where
/// the file or the field does not exist.
pub fn status_kb(key: &str) -> Option<u64> {
    kb_field(&std::fs::read_to_string("/proc/self/status").ok()?, key)
}

/// The value of a `Key:  123456 kB` line of a /proc file (status, meminfo), in KiB.
fn kb_field(text: &str, key: &str) -> Option<u64> {
    text.lines()
        .find(|l| l.starts_with(key))?
        .split_whitespace()
        .nth(1)?
        .parse()
        .ok()
}

/// This process's resident memory (MiB), when the OS tells it.
pub fn resident_mb() -> Option<u64> {
    status_kb("VmRSS:").map(|kb| kb >> 10)
}

/// Restores mimalloc's purge delay when dropped (see [`hold_freed_pages`]).
pub struct PurgeDelay(Option<std::os::raw::c_long>);

impl Drop for PurgeDelay {
    fn drop(&mut self) {
        if let Some(before) = self.0 {
            // SAFETY: as in `hold_freed_pages`.
            unsafe { libmimalloc_sys::mi_option_set(MI_OPTION_PURGE_DELAY, before) }
        }
    }
}

/// Process-wide memory settings, called first thing in `main`: transparent huge pages
/// off for this process. On this product's 2-core VMs a first touch of a 2 MiB huge page
/// costs far more than of its 4 KiB pages (the host backs guest memory on demand): with
/// THP, 28% of a 1M-partida ingest was the kernel zeroing huge pages and the audit's
/// system time doubled (1M audit 4.4-4.8 s with THP, 2.6-3.3 s without; ingest
/// 5.9-6.8 s vs 5.2-5.3 s; bench/results.md).
pub fn init() {
    #[cfg(target_os = "linux")]
    // SAFETY: prctl(PR_SET_THP_DISABLE) only sets a flag on this process's memory map.
    unsafe {
        libc::prctl(libc::PR_SET_THP_DISABLE, 1, 0, 0, 0);
    }
}

/// The audit's memory budget when `--memory-mb` is not given (MiB) and the machine's
/// available memory cannot be read.
pub const FALLBACK_BUDGET_MB: u64 = 2048;

/// The default budget never goes above this (MiB): the product aims at a 2 GB peak.
pub const MAX_DEFAULT_BUDGET_MB: u64 = 2048;

/// The machine's available memory (MiB): `MemAvailable` of `/proc/meminfo`.
pub fn available_mb() -> Option<u64> {
    let text = std::fs::read_to_string("/proc/meminfo").ok()?;
    parse_mem_available(&text)
}

/// `MemAvailable:  123456 kB` → MiB.
fn parse_mem_available(meminfo: &str) -> Option<u64> {
    kb_field(meminfo, "MemAvailable:").map(|kb| kb / 1024)
}

/// The audit's default budget (MiB): three quarters of the available memory, at most
/// [`MAX_DEFAULT_BUDGET_MB`] and at least 256; [`FALLBACK_BUDGET_MB`] when unknown.
pub fn default_budget_mb() -> u64 {
    budget_from_available(available_mb())
}

fn budget_from_available(available: Option<u64>) -> u64 {
    match available {
        Some(a) => (a / 4 * 3).clamp(256, MAX_DEFAULT_BUDGET_MB),
        None => FALLBACK_BUDGET_MB,
    }
}

/// Resident memory a materialized audit context costs per row of its batch (a partida or
/// a pedimento), in bytes, at its peak (the batch's tables, the ledger views and the
/// checks running in parallel): measured on the 10M-partida history, one company of
/// ~465k rows a batch (bench/results.md, session 27).
pub const AUDIT_BYTES_PER_ROW: u64 = 2600;

/// What the audit holds besides its batch (MiB): the binary, polars' pools, the findings,
/// the cross-company virtual pass's plans.
pub const AUDIT_RESERVE_MB: u64 = 384;

/// How many rows (partidas + pedimentos) one audit batch may hold under `budget_mb`
/// (at least 1: a company larger than the budget is still audited, alone).
pub fn audit_rows_per_batch(budget_mb: u64) -> u64 {
    (budget_mb.saturating_sub(AUDIT_RESERVE_MB) << 20)
        .checked_div(AUDIT_BYTES_PER_ROW)
        .unwrap_or(0)
        .max(1)
}

/// Bytes the program holds, counted by the binary's allocator when built with
/// `--features alloc-count` (see main.rs); 0 otherwise.
static LIVE: std::sync::atomic::AtomicIsize = std::sync::atomic::AtomicIsize::new(0);

/// Adds `bytes` (negative for a free) to the live count (the `alloc-count` allocator).
#[inline]
pub fn count_alloc(bytes: isize) {
    LIVE.fetch_add(bytes, std::sync::atomic::Ordering::Relaxed);
}

/// The bytes the program holds (MiB), when the binary counts them (`alloc-count`).
pub fn live_mb() -> Option<isize> {
    cfg!(feature = "alloc-count").then(|| LIVE.load(std::sync::atomic::Ordering::Relaxed) >> 20)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn default_budget_from_meminfo() {
        let m = "MemTotal:  24000000 kB\nMemFree: 100 kB\nMemAvailable:   1048576 kB\n";
        assert_eq!(parse_mem_available(m), Some(1024));
        assert_eq!(budget_from_available(Some(1024)), 768);
        assert_eq!(budget_from_available(Some(64_000)), MAX_DEFAULT_BUDGET_MB);
        assert_eq!(budget_from_available(Some(100)), 256);
        assert_eq!(budget_from_available(None), FALLBACK_BUDGET_MB);
        assert!(audit_rows_per_batch(AUDIT_RESERVE_MB + 1) >= 1);
        assert!(audit_rows_per_batch(4096) > audit_rows_per_batch(2048));
    }
}
