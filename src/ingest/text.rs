//! Text decoding shared by both layouts: UTF-8 (with or without BOM) or Latin-1
//! (Data Stage's usual encoding), CRLF or LF.

use std::borrow::Cow;

pub use crate::model::text::{decode, utf16_of};

/// Decodes bytes as UTF-8 (BOM stripped), or as Windows-1252/Latin-1 when `latin1` (the
/// encoding of a file decided once, applied to each of its shards).
pub fn decode_as(bytes: &[u8], latin1: bool) -> (Cow<'_, str>, &'static str) {
    let b = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
    if !latin1 && let Ok(s) = std::str::from_utf8(b) {
        return (Cow::Borrowed(s), "UTF-8");
    }
    let (s, _, _) = encoding_rs::WINDOWS_1252.decode(b);
    (s, "Latin-1")
}

/// Lines with their 1-based line numbers, `\r` stripped. A final empty line (file ending
/// in a newline) is not a line.
pub fn lines(text: &str) -> Vec<(usize, &str)> {
    let mut v: Vec<(usize, &str)> = Vec::with_capacity(text.len() / 100);
    v.extend(line_iter(text));
    v
}

/// [`lines`] one at a time, without the list. Newlines are found with `memchr` (SIMD):
/// a line is ~100-500 bytes, long enough for its search to beat the word-at-a-time
/// [`Ends`] (which wins on short fields).
pub fn line_iter(text: &str) -> impl Iterator<Item = (usize, &str)> {
    let b = text.as_bytes();
    let mut start = 0;
    let mut ln = 0;
    let mut ends = memchr::memchr_iter(b'\n', b);
    std::iter::from_fn(move || {
        let (end, last) = match ends.next() {
            Some(e) => (e, false),
            // The last line, without its `\n` (none when the text ends with one).
            None if start < b.len() => (b.len(), true),
            None => return None,
        };
        // `\n` is ASCII: both ends are char boundaries.
        let l = &text[start..end];
        let l = l.strip_suffix('\r').unwrap_or(l);
        start = end + 1;
        if last && l.is_empty() {
            return None; // a lone `\r` after the last `\n`: an empty final line
        }
        ln += 1;
        Some((ln, l))
    })
}

/// Appends the fields of `s` to `out`: `s.split(sep)` for an ASCII separator, 16 bytes
/// at a time (the Data Stage parse splits every line into its ~40 short fields: through
/// an iterator of [`Ends`] this was ~7% of a 10M ingest's CPU, now ~4.5%).
pub fn split_into<'a>(s: &'a str, sep: u8, out: &mut Vec<&'a str>) {
    debug_assert!(sep.is_ascii());
    let b = s.as_bytes();
    let mut start = 0;
    let mut base = 0;
    while let Some(chunk) = b.get(base..base + 16) {
        let mut m = eq_mask16(chunk.try_into().expect("16 bytes"), sep);
        while m != 0 {
            let end = base + m.trailing_zeros() as usize;
            out.push(&s[start..end]); // an ASCII byte: both ends are char boundaries
            start = end + 1;
            m &= m - 1;
        }
        base += 16;
    }
    for (i, c) in b[base..].iter().enumerate() {
        if *c == sep {
            out.push(&s[start..base + i]);
            start = base + i + 1;
        }
    }
    out.push(&s[start..]);
}

/// Bit i set where `chunk[i] == sep`: one SSE2 compare and a move of its mask (SSE2 is
/// in every x86-64 CPU; a plain loop did not compile to it).
#[cfg(target_arch = "x86_64")]
#[inline]
fn eq_mask16(chunk: &[u8; 16], sep: u8) -> u32 {
    use std::arch::x86_64::{_mm_cmpeq_epi8, _mm_movemask_epi8, _mm_set_epi64x, _mm_set1_epi8};
    let half = |h: &[u8]| i64::from_le_bytes(h.try_into().expect("8 bytes"));
    // SAFETY: these intrinsics only need SSE2, which every x86_64 target has (it is in
    // the architecture's baseline); they take values, no pointers.
    unsafe {
        let v = _mm_set_epi64x(half(&chunk[8..]), half(&chunk[..8]));
        _mm_movemask_epi8(_mm_cmpeq_epi8(v, _mm_set1_epi8(sep as i8))) as u32
    }
}

/// Bit i set where `chunk[i] == sep` (other targets).
#[cfg(not(target_arch = "x86_64"))]
#[inline]
fn eq_mask16(chunk: &[u8; 16], sep: u8) -> u32 {
    let mut m = 0u32;
    for (i, c) in chunk.iter().enumerate() {
        m |= u32::from(*c == sep) << i;
    }
    m
}

/// The positions of `sep` in `s`, then `s.len()` (where the last field ends), found a
/// word of 8 bytes at a time (SWAR: a byte equal to `sep` is a zero byte of `word ^
/// pattern`, marked exactly by the carry-free test of [`zero_bytes`]).
pub struct Ends<'a> {
    s: &'a [u8],
    pattern: u64,
    /// Offset of the next word to load.
    next: usize,
    /// Offset of the word `mask` marks.
    base: usize,
    mask: u64,
    done: bool,
}

impl<'a> Ends<'a> {
    pub fn new(s: &'a [u8], sep: u8) -> Ends<'a> {
        Ends {
            s,
            pattern: u64::from_ne_bytes([sep; 8]),
            next: 0,
            base: 0,
            mask: 0,
            done: false,
        }
    }
}

/// 0x80 in each byte of `x` that is zero, 0 elsewhere (no false positives: the add cannot
/// carry into the next byte).
fn zero_bytes(x: u64) -> u64 {
    const LOW7: u64 = 0x7f7f_7f7f_7f7f_7f7f;
    !(((x & LOW7).wrapping_add(LOW7)) | x | LOW7)
}

impl Iterator for Ends<'_> {
    type Item = usize;

    #[inline]
    fn next(&mut self) -> Option<usize> {
        loop {
            if self.mask != 0 {
                let i = self.base + (self.mask.trailing_zeros() / 8) as usize;
                self.mask &= self.mask - 1;
                return Some(i);
            }
            let n = self.s.len();
            if self.next >= n {
                if self.done {
                    return None;
                }
                self.done = true;
                return Some(n);
            }
            self.base = self.next;
            let word = match self.s.get(self.base..self.base + 8) {
                Some(w) => u64::from_le_bytes(w.try_into().expect("8 bytes")),
                None => {
                    // The tail, padded with a byte that is not the separator.
                    let mut w = [!(self.pattern as u8); 8];
                    w[..n - self.base].copy_from_slice(&self.s[self.base..]);
                    u64::from_le_bytes(w)
                }
            };
            self.mask = zero_bytes(word ^ self.pattern);
            self.next = self.base + 8;
        }
    }
}

/// Header names normalized for matching: lowercase ASCII letters and digits only.
pub fn norm(name: &str) -> String {
    name.chars()
        .filter(|c| c.is_ascii_alphanumeric())
        .map(|c| c.to_ascii_lowercase())
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        /// `Ends` and `split_into` split as `str::split` of an ASCII byte, on text with
        /// multi-byte chars and separators at any offset of an 8- or 16-byte word.
        #[test]
        fn split_is_str_split(s in "[|a é\u{80}\u{7c7c}\n]{0,40}", sep in prop_oneof![Just(b'|'), Just(b'\n')]) {
            let std: Vec<&str> = s.split(sep as char).collect();
            let mut start = 0;
            let ours: Vec<&str> = Ends::new(s.as_bytes(), sep)
                .map(|end| {
                    let f = &s[start..end];
                    start = end + 1;
                    f
                })
                .collect();
            prop_assert_eq!(&ours, &std);
            let mut into = vec!["before"];
            split_into(&s, sep, &mut into);
            prop_assert_eq!(&into[1..], &std[..]);
        }
    }

    proptest! {
        /// `lines` is `str::split('\n')` with `\r` stripped and a final empty line
        /// dropped.
        #[test]
        fn lines_are_split_lines(s in "[a\r\n|é]{0,40}") {
            let mut want: Vec<(usize, &str)> = s
                .split('\n')
                .enumerate()
                .map(|(i, l)| (i + 1, l.strip_suffix('\r').unwrap_or(l)))
                .collect();
            if want.last().is_some_and(|l| l.1.is_empty()) {
                want.pop();
            }
            prop_assert_eq!(lines(&s), want);
        }
    }

    #[test]
    fn utf16_is_decoded_and_labelled() {
        let text = "Descripción|x\r\n";
        let mut le: Vec<u8> = vec![0xFF, 0xFE];
        let mut be: Vec<u8> = vec![0xFE, 0xFF];
        let mut le_nobom: Vec<u8> = vec![];
        for u in text.encode_utf16() {
            le.extend(u.to_le_bytes());
            be.extend(u.to_be_bytes());
            le_nobom.extend(u.to_le_bytes());
        }
        for (bytes, label) in [(le, "UTF-16LE"), (be, "UTF-16BE"), (le_nobom, "UTF-16LE")] {
            let (s, enc) = decode(&bytes);
            assert_eq!(enc, label);
            assert_eq!(s, text);
        }
        // Latin-1 and UTF-8 text is not UTF-16.
        assert_eq!(decode(b"Descripci\xf3n|x\r\n").1, "Latin-1");
    }

    #[test]
    fn latin1_and_bom() {
        let latin1 = b"Descripci\xf3n|x\r\n";
        let (s, enc) = decode(latin1);
        assert_eq!(enc, "Latin-1");
        assert!(s.contains("Descripción"));
        let (s, enc) = decode("\u{feff}año|b\n".as_bytes());
        assert_eq!(enc, "UTF-8");
        assert_eq!(lines(&s), vec![(1, "año|b")]);
    }
}
