//! [`Fx`], the fast hasher of the ingest's keyed lookups.

/// A small, fast hasher (FxHash) for the per-row lookups of short keys (pedimento ids,
/// key triples): SipHash, the std default, was a visible share of the ingest's profile.
#[derive(Default)]
pub struct Fx(u64);

impl std::hash::Hasher for Fx {
    fn finish(&self) -> u64 {
        // Finalizer (murmur3's fmix64): the multiply in `write` only carries a change of
        // the input's high bits into the state's high bits, and hashbrown picks buckets by
        // the low bits. Without it, keys that differ in the last digits of the número
        // (whose bytes land high in their word) shared buckets: a shard's pedimentos are a
        // dense key range, and the 501 stage ran 3x slower per shard at 10M than at 1M.
        let mut h = self.0;
        h ^= h >> 33;
        h = h.wrapping_mul(0xff51_afd7_ed55_8ccd);
        h ^= h >> 33;
        h = h.wrapping_mul(0xc4ce_b9fe_1a85_ec53);
        h ^ (h >> 33)
    }
    fn write(&mut self, bytes: &[u8]) {
        for chunk in bytes.chunks(8) {
            let mut b = [0u8; 8];
            b[..chunk.len()].copy_from_slice(chunk);
            self.word(u64::from_le_bytes(b));
        }
    }
    // Integers without the byte loop (the same state as `write` of their LE bytes).
    fn write_u64(&mut self, n: u64) {
        self.word(n);
    }
    fn write_usize(&mut self, n: usize) {
        self.word(n as u64);
    }
    fn write_u32(&mut self, n: u32) {
        self.word(n as u64);
    }
    fn write_i32(&mut self, n: i32) {
        self.word(n as u32 as u64);
    }
}

impl Fx {
    fn word(&mut self, w: u64) {
        self.0 = (self.0.rotate_left(5) ^ w).wrapping_mul(0x51_7c_c1_b7_27_22_0a_95);
    }
}

/// A HashMap with [`Fx`] hashing.
pub type FxMap<K, V> = std::collections::HashMap<K, V, std::hash::BuildHasherDefault<Fx>>;
