//! The module's text helpers: whole numbers written and read (decimal, and hexadecimal escapes),
//! searches for ASCII bytes, joining, and form bytes decoded to text. Each is a few lines held by the
//! tests below to what `std` does, used instead of `core::fmt`, `str::parse`, `str`'s pattern
//! searchers, `memchr` and `from_utf8_lossy`, whose machinery would cost the download kilobytes
//! (docs/DESIGN.md, "Size").

/// `n` in decimal.
pub fn decimal(n: u64) -> String {
    let mut digits = [0u8; 20];
    let mut at = digits.len();
    let mut rest = n;
    loop {
        at -= 1;
        if let Some(slot) = digits.get_mut(at) {
            *slot = b'0' + (rest % 10) as u8;
        }
        rest /= 10;
        if rest == 0 {
            break;
        }
    }
    digits.get(at..).map(|digits| digits.iter().map(|&d| char::from(d)).collect()).unwrap_or_default()
}

/// `parts` one after another: `[..].concat()` without its generic joining code and panics.
pub fn concat(parts: &[&str]) -> String {
    let mut out = String::with_capacity(parts.iter().map(|part| part.len()).sum());
    for part in parts {
        out.push_str(part);
    }
    out
}

/// A signed `n` in decimal.
pub fn signed_decimal(n: i64) -> String {
    let magnitude = decimal(n.unsigned_abs());
    if n < 0 {
        concat(&["-", &magnitude])
    } else {
        magnitude
    }
}

/// The characters in `text` (its bytes that start one), counted without `str::chars().count()`'s
/// word-at-a-time machinery.
pub fn char_count(text: &str) -> usize {
    text.bytes().filter(|byte| byte & 0xC0 != 0x80).count()
}

/// The value of `text` if it is decimal digits and nothing else (no sign, no space), within `u64`.
pub fn digits(text: &str) -> Option<u64> {
    digits_in(text, 10)
}

/// The value of `text` if it is digits in `radix` (10 or 16, either case) and nothing else, within
/// `u64`: the one reader of numbers, for decimal fields and hexadecimal escapes alike.
pub fn digits_in(text: &str, radix: u8) -> Option<u64> {
    if text.is_empty() {
        return None;
    }
    text.bytes().try_fold(0u64, |value, digit| {
        let digit = digit_value(digit).filter(|&digit| digit < radix)?;
        value.checked_mul(u64::from(radix))?.checked_add(u64::from(digit))
    })
}

/// Where the first of `bytes` (ASCII) is in `text`. The searches here look for ASCII bytes one at a
/// time, which is all the module's texts need: `str`'s pattern searchers (`memchr` word at a time,
/// two-way for strings) cost the download more than they save on a few hundred bytes.
#[allow(clippy::manual_contains)] // `[u8]::contains` is memchr's word-at-a-time search: 213 B gzip more
pub fn find_any(text: &str, bytes: &[u8]) -> Option<usize> {
    text.bytes().position(|byte| bytes.iter().any(|&wanted| wanted == byte))
}

/// `text` split around the first `byte` (ASCII).
pub fn split_once_at(text: &str, byte: u8) -> Option<(&str, &str)> {
    let at = find_any(text, &[byte])?;
    Some((text.get(..at)?, text.get(at + 1..)?))
}

/// `text` split around the last `byte` (ASCII).
pub fn rsplit_once_at(text: &str, byte: u8) -> Option<(&str, &str)> {
    let at = text.bytes().rposition(|found| found == byte)?;
    Some((text.get(..at)?, text.get(at + 1..)?))
}

/// `text` up to its first `byte` (ASCII), or all of it.
pub fn before(text: &str, byte: u8) -> &str {
    split_once_at(text, byte).map_or(text, |(before, _)| before)
}

/// The value of one hexadecimal (or decimal) digit.
pub fn digit_value(byte: u8) -> Option<u8> {
    match byte {
        b'0'..=b'9' => Some(byte - b'0'),
        b'a'..=b'f' => Some(byte - b'a' + 10),
        b'A'..=b'F' => Some(byte - b'A' + 10),
        _ => None,
    }
}

/// `bytes` as text, each sequence that is not UTF-8 replaced by U+FFFD as `String::from_utf8_lossy`
/// does (one for each maximal part of a sequence), without its validation and chunking machinery.
pub fn utf8_lossy(bytes: &[u8]) -> String {
    let mut out = String::with_capacity(bytes.len());
    let mut at = 0;
    while let Some(&lead) = bytes.get(at) {
        // The sequence's length and the range its second byte must fall in (Unicode, table 3-7).
        let (length, low, high) = match lead {
            0x00..=0x7F => (1, 0, 0),
            0xC2..=0xDF => (2, 0x80, 0xBF),
            0xE0 => (3, 0xA0, 0xBF),
            0xED => (3, 0x80, 0x9F),
            0xE1..=0xEF => (3, 0x80, 0xBF),
            0xF0 => (4, 0x90, 0xBF),
            0xF1..=0xF3 => (4, 0x80, 0xBF),
            0xF4 => (4, 0x80, 0x8F),
            _ => (0, 0, 0),
        };
        // The lead byte's bits of the character: all 7 of an ASCII byte, fewer the longer the sequence.
        let mut code = u32::from(if length == 1 { lead } else { lead & (0x7F >> length) });
        let mut taken = 1;
        while taken < length {
            let (low, high) = if taken == 1 { (low, high) } else { (0x80, 0xBF) };
            match bytes.get(at + taken) {
                Some(&next) if (low..=high).contains(&next) => code = code << 6 | u32::from(next & 0x3F),
                _ => break,
            }
            taken += 1;
        }
        let whole = taken == length;
        out.push(if whole {
            char::from_u32(code).unwrap_or(char::REPLACEMENT_CHARACTER)
        } else {
            char::REPLACEMENT_CHARACTER
        });
        at += taken;
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn writes_whole_numbers_as_display_does() {
        for n in [0, 7, 10, 99, 1234, u64::MAX] {
            assert_eq!(decimal(n), n.to_string());
        }
        for n in [i64::MIN, -42, 0, 42] {
            assert_eq!(signed_decimal(n), n.to_string());
        }
    }

    #[test]
    fn counts_characters_as_chars_does() {
        for text in ["", "abc", "é☃😀x", "\u{0}\u{7f}\u{80}\u{7ff}\u{800}\u{ffff}\u{10000}\u{10ffff}"] {
            assert_eq!(char_count(text), text.chars().count(), "{text:?}");
        }
    }

    #[test]
    fn reads_digits_and_nothing_else() {
        assert_eq!(digits("0"), Some(0));
        assert_eq!(digits("007"), Some(7));
        assert_eq!(digits("18446744073709551615"), Some(u64::MAX));
        for bad in ["", "18446744073709551616", "+1", "-1", " 1", "1.5", "1e3", "٣", "a"] {
            assert_eq!(digits(bad), None, "{bad}");
        }
        assert_eq!(digits_in("fF09", 16), Some(0xff09));
        for bad in ["", "g", "0x1", "-1", "1 "] {
            assert_eq!(digits_in(bad, 16), None, "{bad}");
        }
    }

    #[test]
    fn splits_as_str_does_around_ascii_bytes() {
        for text in ["", "a", "=", "a=b", "a=b=c", "é=ü=ö", "==", "x="] {
            assert_eq!(split_once_at(text, b'='), text.split_once('='), "{text}");
            assert_eq!(rsplit_once_at(text, b'='), text.rsplit_once('='), "{text}");
            assert_eq!(before(text, b'='), text.split('=').next().unwrap_or_default(), "{text}");
            assert_eq!(find_any(text, b"=b"), text.find(['=', 'b']), "{text}");
        }
    }

    #[test]
    fn reads_bytes_as_from_utf8_lossy_does() {
        let samples: [&[u8]; 12] = [
            b"",
            b"plain",
            "\u{e9}\u{2603}\u{1f600}".as_bytes(),
            b"\xff",
            b"a\xc3",
            b"\xe2\x98",
            b"\xe2\x98x",
            b"\xed\xa0\x80",
            b"\xf4\x90\x80\x80",
            b"\xf0\x9f\x98",
            b"\xc0\xaf\xe0\x80\xbf",
            b"\x80\xbf\xf5z",
        ];
        for bytes in samples {
            assert_eq!(utf8_lossy(bytes), String::from_utf8_lossy(bytes), "{bytes:?}");
        }
        for first in 0..=255u8 {
            for second in [0x00, 0x7F, 0x80, 0x8F, 0x90, 0x9F, 0xA0, 0xBF, 0xC0, 0xFF] {
                for third in [0x41, 0x80, 0xBF, 0xC0] {
                    let bytes = [first, second, third, 0x80, b'z'];
                    assert_eq!(utf8_lossy(&bytes), String::from_utf8_lossy(&bytes), "{bytes:?}");
                }
            }
        }
    }
}
