//! `application/x-www-form-urlencoded`, both ways, as the URL Standard writes and reads it: the
//! request bodies and queries the module sends, and the queries of the URLs it is given. (The
//! `form_urlencoded` crate does the same with a 768-byte table and generic code: 980 B gzip more in
//! the module; tests/properties.rs holds this one to that crate's output.)

use crate::text::{digit_value, split_once_at};

const HEX: &[u8; 16] = b"0123456789ABCDEF";

/// `name=value&…`, each name and value encoded.
pub fn encode(pairs: &[(&str, &str)]) -> String {
    let mut out = String::new();
    for &(name, value) in pairs {
        if !out.is_empty() {
            out.push('&');
        }
        push_encoded(&mut out, name);
        out.push('=');
        push_encoded(&mut out, value);
    }
    out
}

/// Appends `text` encoded: ASCII letters, digits and `*-._` as they are, a space as `+`, every other
/// byte as `%XX`.
fn push_encoded(out: &mut String, text: &str) {
    for byte in text.bytes() {
        match byte {
            b'a'..=b'z' | b'A'..=b'Z' | b'0'..=b'9' | b'*' | b'-' | b'.' | b'_' => out.push(char::from(byte)),
            b' ' => out.push('+'),
            _ => {
                out.push('%');
                out.push(hex_digit(byte >> 4));
                out.push(hex_digit(byte & 15));
            }
        }
    }
}

fn hex_digit(nibble: u8) -> char {
    HEX.get(usize::from(nibble)).map_or('0', |&digit| char::from(digit))
}

/// The name and value pairs of `text`, decoded (`+` is a space, `%XX` a byte, and bytes that are not
/// UTF-8 become U+FFFD); empty pieces between `&`s are skipped.
pub fn decode(text: &str) -> Vec<(String, String)> {
    let mut pairs = Vec::new();
    let mut rest = Some(text);
    while let Some(text) = rest {
        let (piece, after) = split_once_at(text, b'&').map_or((text, None), |(piece, after)| (piece, Some(after)));
        rest = after;
        if !piece.is_empty() {
            let (name, value) = split_once_at(piece, b'=').unwrap_or((piece, ""));
            pairs.push((decode_part(name), decode_part(value)));
        }
    }
    pairs
}

fn decode_part(text: &str) -> String {
    let mut bytes = Vec::with_capacity(text.len());
    let mut rest = text.bytes();
    while let Some(byte) = rest.next() {
        match byte {
            b'+' => bytes.push(b' '),
            b'%' => {
                let mut ahead = rest.clone();
                match (ahead.next().and_then(digit_value), ahead.next().and_then(digit_value)) {
                    (Some(high), Some(low)) => {
                        bytes.push(high << 4 | low);
                        rest = ahead;
                    }
                    _ => bytes.push(b'%'),
                }
            }
            _ => bytes.push(byte),
        }
    }
    crate::text::utf8_lossy(&bytes)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn encodes_as_forms_do() {
        assert_eq!(
            encode(&[("ssnkey", "12 34"), ("loginkey", "a/b+c=d&e~é")]),
            "ssnkey=12+34&loginkey=a%2Fb%2Bc%3Dd%26e%7E%C3%A9"
        );
        assert_eq!(encode(&[]), "");
        assert_eq!(encode(&[("", "")]), "=");
    }

    #[test]
    fn decodes_as_forms_do() {
        assert_eq!(
            decode("a=1+2&&b=%41%zz%4&c&=x&d=%FF"),
            [("a", "1 2"), ("b", "A%zz%4"), ("c", ""), ("", "x"), ("d", "\u{fffd}")]
                .map(|(name, value)| (name.to_owned(), value.to_owned()))
        );
    }
}
