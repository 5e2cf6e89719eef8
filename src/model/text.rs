//! Decoding of input text files (Data Stage, CSV, profiles): UTF-16, UTF-8 or Latin-1.

use std::borrow::Cow;

/// UTF-16 text: by its byte order mark, or (no mark) by the zero bytes every ASCII
/// character has in UTF-16 and no text file has otherwise: a quarter of the first 4 KiB
/// or more, nearly all at odd offsets (little-endian) or at even ones (big-endian).
pub fn utf16_of(bytes: &[u8]) -> Option<&'static encoding_rs::Encoding> {
    if bytes.starts_with(b"\xFF\xFE") {
        return Some(encoding_rs::UTF_16LE);
    }
    if bytes.starts_with(b"\xFE\xFF") {
        return Some(encoding_rs::UTF_16BE);
    }
    let head = &bytes[..bytes.len().min(4096)];
    if head.len() < 4 {
        return None;
    }
    let (mut even, mut odd) = (0usize, 0usize);
    for (i, b) in head.iter().enumerate() {
        if *b == 0 {
            if i % 2 == 0 {
                even += 1;
            } else {
                odd += 1;
            }
        }
    }
    let zeros = even + odd;
    if zeros * 4 < head.len() {
        return None;
    }
    if odd * 10 >= zeros * 9 {
        Some(encoding_rs::UTF_16LE)
    } else if even * 10 >= zeros * 9 {
        Some(encoding_rs::UTF_16BE)
    } else {
        None
    }
}

/// Decodes bytes as UTF-16 when they are ([`utf16_of`]), as UTF-8 when valid (BOM
/// stripped), else as Windows-1252/Latin-1.
pub fn decode(bytes: &[u8]) -> (Cow<'_, str>, &'static str) {
    if let Some(enc) = utf16_of(bytes) {
        // (The BOM, when there is one, is removed by the decoder.)
        let (s, _, _) = enc.decode(bytes);
        let s = s
            .strip_prefix('\u{feff}')
            .map(str::to_string)
            .map(Cow::Owned)
            .unwrap_or(s);
        let label = if enc == encoding_rs::UTF_16LE {
            "UTF-16LE"
        } else {
            "UTF-16BE"
        };
        return (Cow::Owned(s.into_owned()), label);
    }
    let b = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
    match std::str::from_utf8(b) {
        Ok(s) => (Cow::Borrowed(s), "UTF-8"),
        Err(_) => {
            let (s, _, _) = encoding_rs::WINDOWS_1252.decode(b);
            (s, "Latin-1")
        }
    }
}
