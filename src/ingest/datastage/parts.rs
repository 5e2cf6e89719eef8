//! [`Parts`]: one sequence of rows held as the vectors they were parsed into.
//!
//! The 551 parse writes each table's partidas into a vector of their own; a shard's
//! tables are usually one year each, so each vector moves to its year whole. Joined into
//! one vector, every 400-byte row was copied when appended and again when filed under
//! its year (with the page faults of the new vectors): ~8% of a 10M ingest's CPU.

/// A sequence of `T` stored as parts, indexed as one sequence.
#[derive(Debug, Clone, PartialEq)]
pub(super) struct Parts<T> {
    parts: Vec<Vec<T>>,
    /// Index of each part's first item.
    starts: Vec<usize>,
    len: usize,
}

impl<T> Default for Parts<T> {
    fn default() -> Self {
        Parts {
            parts: vec![],
            starts: vec![],
            len: 0,
        }
    }
}

impl<T> Parts<T> {
    pub(super) fn len(&self) -> usize {
        self.len
    }

    /// Adds `v` as a part of its own (moved, not copied).
    pub(super) fn push_part(&mut self, v: Vec<T>) {
        if v.is_empty() {
            return;
        }
        self.starts.push(self.len);
        self.len += v.len();
        self.parts.push(v);
    }

    /// Starts a new (empty) part with room for `n` items: [`Self::push`] fills it.
    pub(super) fn new_part(&mut self, n: usize) {
        if self.parts.last().is_some_and(|p| p.is_empty()) {
            self.parts.pop();
            self.starts.pop();
        }
        self.starts.push(self.len);
        self.parts.push(Vec::with_capacity(n));
    }

    /// Appends `x` to the last part.
    pub(super) fn push(&mut self, x: T) {
        if self.parts.is_empty() {
            self.new_part(0);
        }
        self.parts.last_mut().expect("a part").push(x);
        self.len += 1;
    }

    pub(super) fn iter(&self) -> impl Iterator<Item = &T> {
        self.parts.iter().flatten()
    }

    /// The part holding item `i` and its index there.
    fn at(&self, i: usize) -> (usize, usize) {
        assert!(i < self.len, "index {i} out of {} items", self.len);
        let p = self.starts.partition_point(|s| *s <= i) - 1;
        (p, i - self.starts[p])
    }

    /// The items whose `keep` is true, part by part (a part kept whole is not moved).
    pub(super) fn retain_mask(self, keep: &[bool]) -> Parts<T> {
        let mut out = Parts::default();
        let mut at = 0;
        for p in self.parts {
            let k = &keep[at..at + p.len()];
            at += p.len();
            out.push_part(super::finish::filter_mask(p, k));
        }
        out
    }

    pub(super) fn into_parts(self) -> Vec<Vec<T>> {
        self.parts
    }
}

impl<T> std::ops::Index<usize> for Parts<T> {
    type Output = T;
    fn index(&self, i: usize) -> &T {
        let (p, j) = self.at(i);
        &self.parts[p][j]
    }
}

impl<T> std::ops::IndexMut<usize> for Parts<T> {
    fn index_mut(&mut self, i: usize) -> &mut T {
        let (p, j) = self.at(i);
        &mut self.parts[p][j]
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        /// Parts built from whole vectors and single pushes read, index, write and filter
        /// as the one vector of the same items.
        #[test]
        fn parts_are_their_concatenation(
            ops in proptest::collection::vec((0u8..3, proptest::collection::vec(0u32..100, 0..5)), 0..12),
            keep_seed in any::<u64>(),
        ) {
            let mut parts = Parts::default();
            let mut flat: Vec<u32> = vec![];
            for (kind, v) in ops {
                match kind {
                    0 => {
                        flat.extend(&v);
                        parts.push_part(v);
                    }
                    1 => {
                        parts.new_part(v.len());
                        for x in v {
                            flat.push(x);
                            parts.push(x);
                        }
                    }
                    _ => {
                        flat.push(7);
                        parts.push(7);
                    }
                }
            }
            prop_assert_eq!(parts.len(), flat.len());
            prop_assert_eq!(parts.iter().copied().collect::<Vec<_>>(), flat.clone());
            for i in 0..flat.len() {
                prop_assert_eq!(parts[i], flat[i]);
                parts[i] += 1;
                flat[i] += 1;
            }
            let keep: Vec<bool> = (0..flat.len()).map(|i| (keep_seed >> (i % 64)) & 1 == 1).collect();
            let kept: Vec<u32> = flat.iter().zip(&keep).filter(|x| *x.1).map(|x| *x.0).collect();
            let parts = parts.retain_mask(&keep);
            prop_assert_eq!(parts.len(), kept.len());
            prop_assert_eq!(parts.into_parts().concat(), kept);
        }
    }
}
