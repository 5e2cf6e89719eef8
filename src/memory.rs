//! Memory housekeeping shared by the batched audit and the sharded ingest.

/// Returns freed heap pages to the OS between batches or shards (glibc keeps them in its
/// arenas otherwise, and the resident size would creep up batch after batch).
pub fn release() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    // SAFETY: malloc_trim only releases free memory held by the allocator.
    unsafe {
        libc::malloc_trim(0);
    }
}
