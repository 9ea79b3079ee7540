//! Taking items out of the agent's small lists without a panic path: `Vec::remove` checks its index
//! with a formatted panic, which alone brings number formatting into the module.

/// Takes the first item that `matches` out of `list` (its order is not kept). (`dyn`: one copy of it
/// per list, not one per caller.)
pub fn take_where<T>(list: &mut Vec<T>, matches: &dyn Fn(&T) -> bool) -> Option<T> {
    let at = list.iter().position(matches)?;
    // Checked again, so that no bounds panic is compiled in.
    (at < list.len()).then(|| list.swap_remove(at))
}

/// Takes the first item that `matches` out of `list`, keeping the order of the others.
pub fn remove_where<T>(list: &mut Vec<T>, matches: &dyn Fn(&T) -> bool) -> Option<T> {
    let at = list.iter().position(matches)?;
    remove_at(list, at)
}

/// Takes item `at` out of `list`, keeping the order of the others; `None` past the end.
pub fn remove_at<T>(list: &mut Vec<T>, at: usize) -> Option<T> {
    // The item is walked to the end, one swap at a time, and popped.
    let mut rest = list.get_mut(at..)?.iter_mut();
    let mut moving = rest.next()?;
    for next in rest {
        std::mem::swap(moving, next);
        moving = next;
    }
    list.pop()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn remove_at_keeps_the_order_of_the_others() {
        for at in 0..4 {
            let mut list = vec![10, 11, 12, 13];
            let mut expected = list.clone();
            let removed = expected.remove(at);
            assert_eq!(remove_at(&mut list, at), Some(removed));
            assert_eq!(list, expected);
        }
        let mut list = vec![1, 2];
        assert_eq!(remove_at(&mut list, 2), None);
        assert_eq!(remove_at(&mut list, 9), None);
        assert_eq!(list, [1, 2]);
        assert_eq!(remove_at(&mut Vec::<u8>::new(), 0), None);
    }

    #[test]
    fn take_and_remove_where_take_the_first_match() {
        let mut list = vec![1, 2, 3, 2, 5];
        assert_eq!(remove_where(&mut list, &|&n| n == 2), Some(2));
        assert_eq!(list, [1, 3, 2, 5]);
        assert_eq!(take_where(&mut list, &|&n| n == 1), Some(1));
        assert_eq!(list, [5, 3, 2]);
        assert_eq!(take_where(&mut list, &|&n| n == 9), None);
        assert_eq!(remove_where(&mut list, &|&n| n == 9), None);
    }
}
