//! When lookup attempts happen (PROTOCOL.md section 2): the first at once, attempts 2 to 7 after 3 s,
//! attempts 8 to 12 after 5 s; then the lookup has timed out (about 45 s with request times).

/// Attempts made by a waiting lookup before it fails with `timedout`.
pub const MAX_ATTEMPTS: u32 = 12;
/// Pause before attempts 2 to 7.
pub const SHORT_PAUSE_MS: u32 = 3_000;
/// Pause before attempts 8 to 12.
pub const LONG_PAUSE_MS: u32 = 5_000;

/// The pause before each attempt of one lookup, in milliseconds; ends when no attempt is left.
#[derive(Debug, Clone)]
pub struct Schedule {
    attempts: u32,
    made: u32,
}

impl Schedule {
    /// `wait: false` makes one attempt; `wait: true` up to [`MAX_ATTEMPTS`].
    pub fn new(wait: bool) -> Schedule {
        Schedule { attempts: if wait { MAX_ATTEMPTS } else { 1 }, made: 0 }
    }

    /// The 1-based number of the attempt last handed out.
    pub fn attempt(&self) -> u32 {
        self.made
    }
}

impl Iterator for Schedule {
    type Item = u32;

    fn next(&mut self) -> Option<u32> {
        if self.made >= self.attempts {
            return None;
        }
        self.made += 1;
        Some(match self.made {
            1 => 0,
            2..=7 => SHORT_PAUSE_MS,
            _ => LONG_PAUSE_MS,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn waiting_lookup_follows_the_production_plan() {
        let pauses: Vec<u32> = Schedule::new(true).collect();
        assert_eq!(pauses, [0, 3000, 3000, 3000, 3000, 3000, 3000, 5000, 5000, 5000, 5000, 5000]);
        assert_eq!(pauses.iter().sum::<u32>(), 43_000, "about 45 s once request times are added");
    }

    #[test]
    fn a_lookup_that_does_not_wait_tries_once_at_once() {
        assert_eq!(Schedule::new(false).collect::<Vec<_>>(), [0]);
    }

    #[test]
    fn the_attempt_number_follows_the_iteration() {
        let mut schedule = Schedule::new(true);
        assert_eq!(schedule.attempt(), 0);
        schedule.next();
        schedule.next();
        assert_eq!(schedule.attempt(), 2);
        assert_eq!(schedule.by_ref().count(), 10);
        assert_eq!(schedule.next(), None);
        assert_eq!(schedule.attempt(), MAX_ATTEMPTS);
    }
}
