//! Text decoding shared by both layouts: UTF-8 (with or without BOM) or Latin-1
//! (Data Stage's usual encoding), CRLF or LF.

use std::borrow::Cow;

/// Decodes bytes as UTF-8 when valid (BOM stripped), else as Windows-1252/Latin-1.
pub fn decode(bytes: &[u8]) -> (Cow<'_, str>, &'static str) {
    let b = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
    match std::str::from_utf8(b) {
        Ok(s) => (Cow::Borrowed(s), "UTF-8"),
        Err(_) => {
            let (s, _, _) = encoding_rs::WINDOWS_1252.decode(b);
            (s, "Latin-1")
        }
    }
}

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
    for l in split_byte(text, b'\n') {
        v.push((v.len() + 1, l.strip_suffix('\r').unwrap_or(l)));
    }
    if let Some((_, last)) = v.last()
        && last.is_empty()
    {
        v.pop();
    }
    v
}

/// `s.split(sep)` for an ASCII separator, found with memchr: std's char searcher made a
/// memcmp call per separator (5% of a 10M ingest's CPU when splitting fields).
pub fn split_byte(s: &str, sep: u8) -> impl Iterator<Item = &str> {
    debug_assert!(sep.is_ascii());
    let mut start = 0;
    memchr::memchr_iter(sep, s.as_bytes())
        .chain([s.len()])
        .map(move |end| {
            let f = &s[start..end]; // an ASCII byte: both ends are char boundaries
            start = end + 1;
            f
        })
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
