//! Percent-encoding for query strings and form bodies, and decimal numbers, without `core::fmt`.
//!
//! The production script concatenated keys and credentials into URLs raw (PROTOCOL.md section 6);
//! every value we send goes through [`push_component`].

use alloc::borrow::ToOwned;
use alloc::string::String;
use alloc::vec::Vec;

use crate::no_panic::{split_byte, split_once_byte};

/// Appends `value` percent-encoded: everything but `A-Z a-z 0-9 - . _ ~` becomes `%XX` (UTF-8 bytes).
/// Safe both in a URL query and in an `application/x-www-form-urlencoded` body.
pub fn push_component(out: &mut String, value: &str) {
    for byte in value.bytes() {
        if byte.is_ascii_alphanumeric() || matches!(byte, b'-' | b'.' | b'_' | b'~') {
            out.push(char::from(byte));
        } else {
            out.push('%');
            out.push(hex_digit(byte >> 4));
            out.push(hex_digit(byte & 0x0f));
        }
    }
}

/// Builds `name=value&name=value`, both sides percent-encoded.
pub fn encode_pairs<'a>(pairs: impl IntoIterator<Item = (&'a str, &'a str)>) -> String {
    let mut out = String::new();
    for (name, value) in pairs {
        if !out.is_empty() {
            out.push('&');
        }
        push_component(&mut out, name);
        out.push('=');
        push_component(&mut out, value);
    }
    out
}

/// Splits a query string (without the `?`) into decoded `(name, value)` pairs, form-style:
/// `+` is a space, `%XX` a byte; a malformed escape is kept as written.
pub fn parse_query(query: &str) -> Vec<(String, String)> {
    split_byte(query, b'&')
        .filter(|part| !part.is_empty())
        .map(|part| match split_once_byte(part, b'=') {
            Some((name, value)) => (decode_component(name), decode_component(value)),
            None => (decode_component(part), String::new()),
        })
        .collect()
}

/// Decodes one form-encoded component. If the bytes it encodes are not UTF-8, the component is kept
/// as written (std's lossy decoding would cost the module a kilobyte for a case Glance never sends).
pub fn decode_component(text: &str) -> String {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut rest = bytes;
    while let Some((&byte, tail)) = rest.split_first() {
        rest = tail;
        match byte {
            b'+' => out.push(b' '),
            b'%' => match (tail.first().and_then(hex_value), tail.get(1).and_then(hex_value)) {
                (Some(high), Some(low)) => {
                    out.push(high << 4 | low);
                    rest = tail.get(2..).unwrap_or_default();
                }
                _ => out.push(b'%'),
            },
            other => out.push(other),
        }
    }
    if is_utf8(&out) {
        // SAFETY: checked just above.
        unsafe { String::from_utf8_unchecked(out) }
    } else {
        text.to_owned()
    }
}

/// Whether `bytes` are well-formed UTF-8: no stray continuation bytes, no overlong forms, no
/// surrogates, nothing above U+10FFFF. (std's validator is several times larger.)
pub fn is_utf8(bytes: &[u8]) -> bool {
    let mut rest = bytes;
    while let Some((&lead, tail)) = rest.split_first() {
        // Continuation bytes needed, and the allowed range of the first one.
        let (needed, low, high) = match lead {
            0x00..=0x7f => (0, 0, 0),
            0xc2..=0xdf => (1, 0x80, 0xbf),
            0xe0 => (2, 0xa0, 0xbf),
            0xed => (2, 0x80, 0x9f),
            0xe1..=0xef => (2, 0x80, 0xbf),
            0xf0 => (3, 0x90, 0xbf),
            0xf1..=0xf3 => (3, 0x80, 0xbf),
            0xf4 => (3, 0x80, 0x8f),
            _ => return false,
        };
        let Some((continuation, after)) = tail.split_at_checked(needed) else { return false };
        let in_range =
            |(i, &b): (usize, &u8)| if i == 0 { (low..=high).contains(&b) } else { (0x80..=0xbf).contains(&b) };
        if !continuation.iter().enumerate().all(in_range) {
            return false;
        }
        rest = after;
    }
    true
}

/// Appends `n` in decimal.
pub fn push_decimal(out: &mut String, mut n: u64) {
    let mut digits = [0u8; 20];
    let mut start = digits.len();
    loop {
        start -= 1;
        if let Some(slot) = digits.get_mut(start) {
            *slot = b'0' + (n % 10) as u8;
        }
        n /= 10;
        if n == 0 || start == 0 {
            break;
        }
    }
    for &digit in digits.get(start..).unwrap_or_default() {
        out.push(char::from(digit));
    }
}

/// Parses 1 to 19 ASCII digits (no sign, no spaces); `None` for anything else.
pub fn parse_decimal(digits: &str) -> Option<u64> {
    if digits.is_empty() || digits.len() > 19 {
        return None;
    }
    digits.bytes().try_fold(0u64, |n, b| b.is_ascii_digit().then(|| n * 10 + u64::from(b - b'0')))
}

/// Largest integer a JavaScript number holds exactly.
pub const MAX_SAFE_INTEGER: u64 = 9_007_199_254_740_991;

/// A JavaScript number that holds a whole number from 0 to [`MAX_SAFE_INTEGER`].
pub fn safe_integer(n: f64) -> Option<u64> {
    // `as` saturates and maps NaN to 0, so the round trip holds only for exact whole numbers in range.
    let whole = n as u64;
    (whole as f64 == n && whole <= MAX_SAFE_INTEGER).then_some(whole)
}

/// A JavaScript number that holds a non-negative integer, in decimal; `None` for anything else.
pub fn integer_text(n: f64) -> Option<String> {
    safe_integer(n).map(decimal)
}

/// `n` in decimal.
pub fn decimal(n: u64) -> String {
    let mut out = String::new();
    push_decimal(&mut out, n);
    out
}

fn hex_digit(nibble: u8) -> char {
    char::from(if nibble < 10 { b'0' + nibble } else { b'A' + nibble - 10 })
}

fn hex_value(byte: &u8) -> Option<u8> {
    match byte {
        b'0'..=b'9' => Some(byte - b'0'),
        b'a'..=b'f' => Some(byte - b'a' + 10),
        b'A'..=b'F' => Some(byte - b'A' + 10),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::prelude::rust_2021::*;

    fn encoded(value: &str) -> String {
        let mut out = String::new();
        push_component(&mut out, value);
        out
    }

    #[test]
    fn reserved_characters_and_unicode_are_escaped() {
        assert_eq!(encoded("a b&c=d+e/f?g#h%"), "a%20b%26c%3Dd%2Be%2Ff%3Fg%23h%25");
        assert_eq!(encoded("$1$1700000000$abc-_"), "%241%241700000000%24abc-_");
        assert_eq!(encoded("Zoë"), "Zo%C3%AB");
        assert_eq!(encoded("AZaz09-._~"), "AZaz09-._~");
    }

    #[test]
    fn pairs_join_with_ampersands() {
        assert_eq!(encode_pairs([("a", "1"), ("b c", "x&y")]), "a=1&b%20c=x%26y");
        assert_eq!(encode_pairs([]), "");
    }

    #[test]
    fn decoding_reverses_encoding() {
        for value in ["", "plain", "a b&c=d", "Zoë ☃", "100%", "%%41", "+"] {
            assert_eq!(decode_component(&encoded(value)), value);
        }
        assert_eq!(decode_component("a+b%20c"), "a b c");
        assert_eq!(decode_component("bad%zz%4"), "bad%zz%4");
        assert_eq!(decode_component("%FF"), "%FF");
    }

    #[test]
    fn queries_split_into_decoded_pairs() {
        assert_eq!(
            parse_query("SessionKey=12%2034&flag&&x=a=b"),
            [
                ("SessionKey".to_owned(), "12 34".to_owned()),
                ("flag".to_owned(), String::new()),
                ("x".to_owned(), "a=b".to_owned()),
            ]
        );
    }

    #[test]
    fn decimals_cover_the_whole_range() {
        assert_eq!(decimal(0), "0");
        assert_eq!(decimal(7), "7");
        assert_eq!(decimal(1_700_000_000), "1700000000");
        assert_eq!(decimal(u64::MAX), "18446744073709551615");
    }

    #[test]
    fn utf8_check_agrees_with_std_on_every_short_sequence() {
        for first in 0..=255u8 {
            for second in 0..=255u8 {
                for third in [0x00, 0x41, 0x80, 0x8f, 0x90, 0x9f, 0xa0, 0xbf, 0xc0, 0xc2, 0xe0, 0xed, 0xf0, 0xf4, 0xff]
                {
                    let bytes = [first, second, third];
                    for len in 1..=3 {
                        let sample = &bytes[..len];
                        assert_eq!(is_utf8(sample), std::str::from_utf8(sample).is_ok(), "{sample:02x?}");
                    }
                }
            }
        }
        for text in ["", "plain", "Zoë", "☃", "😀 and 𝄞", "\u{10FFFF}"] {
            assert!(is_utf8(text.as_bytes()), "{text}");
        }
        for bad in
            [&b"\xf4\x90\x80\x80"[..], b"\xf0\x8f\xbf\xbf", b"\xed\xa0\x80", b"\xc0\x80", b"\xf8\x88\x80\x80\x80"]
        {
            assert!(!is_utf8(bad), "{bad:02x?}");
        }
    }

    #[test]
    fn decimal_parsing_takes_digits_only() {
        assert_eq!(parse_decimal("0"), Some(0));
        assert_eq!(parse_decimal("007"), Some(7));
        assert_eq!(parse_decimal("1700000000"), Some(1_700_000_000));
        assert_eq!(parse_decimal("9999999999999999999"), Some(9_999_999_999_999_999_999));
        for bad in ["", "+1", "-1", " 1", "1 ", "1e3", "0x10", "12a", "99999999999999999999"] {
            assert_eq!(parse_decimal(bad), None, "{bad:?}");
        }
    }

    #[test]
    fn only_safe_non_negative_integers_become_text() {
        assert_eq!(integer_text(4400.0).as_deref(), Some("4400"));
        assert_eq!(integer_text(0.0).as_deref(), Some("0"));
        assert_eq!(integer_text(9_007_199_254_740_991.0).as_deref(), Some("9007199254740991"));
        for bad in [-1.0, -0.5, 1.5, f64::NAN, f64::INFINITY, f64::NEG_INFINITY, 1e300, 9_007_199_254_740_992.0] {
            assert_eq!(integer_text(bad), None, "{bad}");
        }
        assert_eq!(safe_integer(-0.0), Some(0));
    }
}
