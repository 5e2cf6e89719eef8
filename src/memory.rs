//! Memory housekeeping shared by the batched audit and the sharded ingest.

/// Returns freed heap pages to the OS between batches or shards (allocators keep them
/// otherwise, and the resident size would creep up batch after batch): mimalloc (the
/// global allocator of the binary, see main.rs) through `mi_collect`, and glibc's heap (used by the C
/// libraries, e.g. zstd) through `malloc_trim`.
pub fn release() {
    // SAFETY: mi_collect only frees memory mimalloc no longer uses.
    unsafe {
        libmimalloc_sys::mi_collect(true);
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

/// Keeps pages mimalloc frees committed for `ms` milliseconds before returning them to
/// the OS (mimalloc v3's default: 1,000). The sharded ingest frees a shard's ~1 GB of rows
/// and text and allocates the same again ~1.7 s later; with the default delay those pages
/// went back to the OS in between and each shard faulted and zeroed them anew: 10M ingest
/// 35.0 s with 10.5 s of system time, against 30.9-31.4 s and 3.1-3.4 s with 10 s, peak
/// RSS 1.50 -> 1.72 GB (never purging: 31.0 s, 1.79 GB). The previous delay comes back
/// when the returned guard drops. A user's `MIMALLOC_PURGE_DELAY` wins.
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
