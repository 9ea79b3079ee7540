//! Whole numbers in decimal, both ways: the one formatter and the one reader of the module, without
//! `core::fmt` or `str::parse`, whose machinery would cost the download kilobytes for the handful of
//! numbers ever printed or read.

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

/// A signed `n` in decimal.
pub fn signed_decimal(n: i64) -> String {
    let magnitude = decimal(n.unsigned_abs());
    if n < 0 {
        ["-", &magnitude].concat()
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
    if text.is_empty() {
        return None;
    }
    text.bytes().try_fold(0u64, |value, digit| {
        let digit = digit.checked_sub(b'0').filter(|&digit| digit <= 9)?;
        value.checked_mul(10)?.checked_add(u64::from(digit))
    })
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
        for bad in ["", "18446744073709551616", "+1", "-1", " 1", "1.5", "1e3", "٣"] {
            assert_eq!(digits(bad), None, "{bad}");
        }
    }
}
