//! Panic-free forms of a few std operations. Their std versions panic with messages that format values
//! (indexes, lengths, the string itself), and each such panic site keeps `core::fmt` in the wasm module.
//! These return `None` instead, which also suits input that a page or the network controls.

use alloc::vec::Vec;

/// Splits `text` around the first `byte` (an ASCII byte, so both sides stay valid UTF-8).
pub fn split_once_byte(text: &str, byte: u8) -> Option<(&str, &str)> {
    let at = text.bytes().position(|b| b == byte)?;
    Some((text.get(..at)?, text.get(at + 1..)?))
}

/// The index of the first byte for which `matches` holds.
pub fn find_byte(text: &str, matches: impl Fn(u8) -> bool) -> Option<usize> {
    text.bytes().position(matches)
}

/// `text` split at byte `at`; `None` if `at` is not a character boundary within it.
pub fn split_at(text: &str, at: usize) -> Option<(&str, &str)> {
    Some((text.get(..at)?, text.get(at..)?))
}

/// Removes and returns `items[at]`, keeping the order of the rest.
pub fn remove_at<T>(items: &mut Vec<T>, at: usize) -> Option<T> {
    // Walk the item to the end by swaps (std's `rotate_left` is large), then pop it.
    let mut tail = items.get_mut(at..).filter(|tail| !tail.is_empty())?;
    while let Some((item, rest)) = core::mem::take(&mut tail).split_first_mut() {
        if let Some(next) = rest.first_mut() {
            core::mem::swap(item, next);
        }
        tail = rest;
    }
    items.pop()
}

/// Iterates the parts of `text` between `separator` bytes.
pub fn split_byte(text: &str, separator: u8) -> impl Iterator<Item = &str> {
    let mut rest = Some(text);
    core::iter::from_fn(move || {
        let current = rest?;
        match split_once_byte(current, separator) {
            Some((part, after)) => {
                rest = Some(after);
                Some(part)
            }
            None => rest.take(),
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::prelude::rust_2021::*;

    #[test]
    fn splitting_matches_std() {
        assert_eq!(split_once_byte("a=b=c", b'='), Some(("a", "b=c")));
        assert_eq!(split_once_byte("abc", b'='), None);
        assert_eq!(split_once_byte("é=", b'='), Some(("é", "")));
        assert_eq!(split_at("héllo", 3), Some(("hé", "llo")));
        assert_eq!(split_at("héllo", 2), None, "inside a character");
        assert_eq!(split_at("ab", 3), None);
        for text in ["", "a", "a&b", "&&a&", "x=1&y=2"] {
            assert_eq!(split_byte(text, b'&').collect::<Vec<_>>(), text.split('&').collect::<Vec<_>>(), "{text}");
        }
        assert_eq!(find_byte("ab/c?d", |b| b == b'?' || b == b'/'), Some(2));
    }

    #[test]
    fn remove_at_keeps_order_and_refuses_bad_indexes() {
        let mut items = vec![1, 2, 3, 4];
        assert_eq!(remove_at(&mut items, 1), Some(2));
        assert_eq!(items, [1, 3, 4]);
        assert_eq!(remove_at(&mut items, 3), None);
        assert_eq!(remove_at(&mut items, 2), Some(4));
        assert_eq!(items, [1, 3]);
    }
}
