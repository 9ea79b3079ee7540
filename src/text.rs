//! The one number formatter of the module: whole numbers in decimal, without `core::fmt`, whose
//! machinery would cost the download kilobytes for the handful of numbers ever printed.

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
}
