//! Memory housekeeping shared by the batched audit and the sharded ingest.

/// Returns freed heap pages to the OS between batches or shards (allocators keep them
/// otherwise, and the resident size would creep up batch after batch): mimalloc (the
/// global allocator, see lib.rs) through `mi_collect`, and glibc's heap (used by the C
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
