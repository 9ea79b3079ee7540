//! A small allocator for the wasm module: power-of-two size classes, a free list per class, and fresh
//! blocks cut from the end of linear memory (grown 64 KiB pages at a time).
//!
//! Why not dlmalloc (what std uses): it is about 6 KB of the module, for general-purpose strengths an
//! agent console does not need. The library's allocations are small strings and vectors made and freed
//! over and over; a freed block goes back to its class's list and is reused for the next allocation of
//! that class, so memory stays flat over a shift (the soak test measures it). The cost is up to 2x
//! rounding per block and no returning of memory to the system, which wasm cannot do anyway.
//!
//! The bookkeeping ([`SizeClasses`]) is plain Rust over an abstract memory, so it is tested natively.

use core::alloc::Layout;

/// Smallest block: room for the free-list link.
const MIN_CLASS: u32 = 3;
/// Classes 2^3 .. 2^31 bytes.
const CLASSES: usize = 29;
/// wasm page size.
pub const PAGE: usize = 65_536;

/// The class (log2 of the block size) that serves `layout`, or `None` if no class is big enough.
pub fn class_of(layout: Layout) -> Option<u32> {
    let need = layout.size().max(layout.align()).max(1 << MIN_CLASS);
    let class = usize::BITS - (need - 1).leading_zeros();
    (class < MIN_CLASS + CLASSES as u32).then_some(class)
}

/// Where fresh blocks come from.
pub trait Memory {
    /// Adds `pages` pages at the end of memory; returns the old end (in bytes) or `None`.
    fn grow(&mut self, pages: usize) -> Option<usize>;
    /// Reads the free-list link stored in the free block at `addr`.
    ///
    /// # Safety
    /// `addr` is a block this allocator handed out and got back.
    unsafe fn read_link(&self, addr: usize) -> usize;
    /// Stores a free-list link in the free block at `addr`.
    ///
    /// # Safety
    /// As for [`Memory::read_link`].
    unsafe fn write_link(&mut self, addr: usize, link: usize);
}

/// Free lists and the bump region. Addresses are plain `usize`; 0 means none.
pub struct SizeClasses {
    free: [usize; CLASSES],
    next: usize,
    end: usize,
}

impl SizeClasses {
    /// No memory yet.
    pub const fn new() -> Self {
        SizeClasses { free: [0; CLASSES], next: 0, end: 0 }
    }

    /// A block for `class`: the last one freed, else a fresh one. 0 when memory cannot grow.
    ///
    /// # Safety
    /// Every address on the free lists came from [`SizeClasses::release`].
    pub unsafe fn take(&mut self, class: u32, memory: &mut impl Memory) -> usize {
        let Some(head) = class.checked_sub(MIN_CLASS).and_then(|index| self.free.get_mut(index as usize)) else {
            return 0;
        };
        if *head != 0 {
            let block = *head;
            *head = memory.read_link(block);
            return block;
        }
        let size = 1usize << class;
        // Blocks are aligned to their size (up to a page), so any alignment a class can hold is met.
        let align = size.min(PAGE);
        loop {
            let start = (self.next + align - 1) & !(align - 1);
            let Some(after) = start.checked_add(size) else { return 0 };
            if after <= self.end {
                self.next = after;
                return start;
            }
            let pages = (after - self.end).div_ceil(PAGE);
            let Some(old_end) = memory.grow(pages) else { return 0 };
            if old_end != self.end {
                // The first growth (or memory grown by someone else): our region starts at the old end,
                // which is page-aligned, so the next round fits.
                self.next = old_end;
            }
            self.end = old_end + pages * PAGE;
        }
    }

    /// Gives `block` back to `class`'s free list.
    ///
    /// # Safety
    /// `block` came from [`SizeClasses::take`] with the same `class` and is no longer used.
    pub unsafe fn release(&mut self, block: usize, class: u32, memory: &mut impl Memory) {
        if let Some(head) = class.checked_sub(MIN_CLASS).and_then(|index| self.free.get_mut(index as usize)) {
            memory.write_link(block, *head);
            *head = block;
        }
    }
}

impl Default for SizeClasses {
    fn default() -> Self {
        Self::new()
    }
}

#[cfg(all(target_arch = "wasm32", not(feature = "std")))]
pub use wasm::SizeClassAllocator;

#[cfg(all(target_arch = "wasm32", not(feature = "std")))]
mod wasm {
    use super::{class_of, Memory, SizeClasses};
    use core::alloc::{GlobalAlloc, Layout};
    use core::cell::UnsafeCell;

    struct LinearMemory;

    impl Memory for LinearMemory {
        fn grow(&mut self, pages: usize) -> Option<usize> {
            let old_pages = core::arch::wasm32::memory_grow(0, pages);
            (old_pages != usize::MAX).then(|| old_pages * super::PAGE)
        }
        unsafe fn read_link(&self, addr: usize) -> usize {
            *(addr as *const usize)
        }
        unsafe fn write_link(&mut self, addr: usize, link: usize) {
            *(addr as *mut usize) = link;
        }
    }

    /// The module's global allocator.
    pub struct SizeClassAllocator(UnsafeCell<SizeClasses>);

    impl SizeClassAllocator {
        /// An allocator with no memory yet.
        pub const fn new() -> Self {
            SizeClassAllocator(UnsafeCell::new(SizeClasses::new()))
        }
    }

    impl Default for SizeClassAllocator {
        fn default() -> Self {
            Self::new()
        }
    }

    // SAFETY: wasm32 without the atomics feature runs one thread, and the allocator never re-enters.
    #[cfg(not(target_feature = "atomics"))]
    unsafe impl Sync for SizeClassAllocator {}

    unsafe impl GlobalAlloc for SizeClassAllocator {
        unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
            match class_of(layout) {
                Some(class) => (*self.0.get()).take(class, &mut LinearMemory) as *mut u8,
                None => core::ptr::null_mut(),
            }
        }

        unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
            if let Some(class) = class_of(layout) {
                (*self.0.get()).release(ptr as usize, class, &mut LinearMemory);
            }
        }

        unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
            let new_layout = Layout::from_size_align_unchecked(new_size, layout.align());
            if class_of(layout) == class_of(new_layout) {
                return ptr; // the block already has room
            }
            let new = self.alloc(new_layout);
            if !new.is_null() {
                core::ptr::copy_nonoverlapping(ptr, new, layout.size().min(new_size));
                self.dealloc(ptr, layout);
            }
            new
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;
    use std::prelude::rust_2021::*;

    /// Memory that starts `start` bytes in, grows by pages up to `limit`, and stores links in a map.
    struct FakeMemory {
        end: usize,
        limit: usize,
        links: HashMap<usize, usize>,
    }

    impl FakeMemory {
        fn new(start: usize, limit: usize) -> Self {
            FakeMemory { end: start, limit, links: HashMap::new() }
        }
    }

    impl Memory for FakeMemory {
        fn grow(&mut self, pages: usize) -> Option<usize> {
            let old = self.end;
            (old + pages * PAGE <= self.limit).then(|| {
                self.end += pages * PAGE;
                old
            })
        }
        unsafe fn read_link(&self, addr: usize) -> usize {
            self.links[&addr]
        }
        unsafe fn write_link(&mut self, addr: usize, link: usize) {
            self.links.insert(addr, link);
        }
    }

    fn layout(size: usize, align: usize) -> Layout {
        Layout::from_size_align(size, align).unwrap()
    }

    #[test]
    fn classes_round_up_to_powers_of_two() {
        assert_eq!(class_of(layout(0, 1)), Some(3));
        assert_eq!(class_of(layout(1, 1)), Some(3));
        assert_eq!(class_of(layout(8, 8)), Some(3));
        assert_eq!(class_of(layout(9, 1)), Some(4));
        assert_eq!(class_of(layout(4, 64)), Some(6), "alignment counts");
        assert_eq!(class_of(layout(100_000, 1)), Some(17));
        assert_eq!(class_of(layout(1 << 31, 1)), Some(31));
        assert_eq!(class_of(layout((1 << 31) + 1, 1)), None);
    }

    #[test]
    fn blocks_do_not_overlap_and_are_aligned_to_their_size() {
        let mut memory = FakeMemory::new(3 * PAGE, 64 * PAGE);
        let mut classes = SizeClasses::new();
        let mut blocks: Vec<(usize, usize)> = Vec::new();
        for class in [3, 5, 4, 12, 3, 16, 7, 17, 3] {
            let block = unsafe { classes.take(class, &mut memory) };
            let size = 1 << class;
            assert!(block >= 3 * PAGE && block + size <= memory.end, "inside grown memory");
            assert_eq!(block % size.min(PAGE), 0, "class {class} aligned");
            assert!(blocks.iter().all(|&(b, s)| block + size <= b || b + s <= block), "no overlap");
            blocks.push((block, size));
        }
    }

    #[test]
    fn freed_blocks_are_reused_last_in_first_out_per_class() {
        let mut memory = FakeMemory::new(PAGE, 8 * PAGE);
        let mut classes = SizeClasses::new();
        let (a, b, c) =
            unsafe { (classes.take(5, &mut memory), classes.take(5, &mut memory), classes.take(6, &mut memory)) };
        unsafe {
            classes.release(a, 5, &mut memory);
            classes.release(b, 5, &mut memory);
            assert_ne!(classes.take(6, &mut memory), c, "class 6 gets a fresh block: c is still in use");
            assert_eq!(classes.take(5, &mut memory), b);
            assert_eq!(classes.take(5, &mut memory), a);
        }
    }

    #[test]
    fn a_steady_workload_stops_growing_memory() {
        let mut memory = FakeMemory::new(PAGE, 64 * PAGE);
        let mut classes = SizeClasses::new();
        let mut end_after_first_round = 0;
        for round in 0..1000 {
            let blocks: Vec<(usize, u32)> =
                [3, 4, 9, 5, 12, 3].iter().map(|&class| (unsafe { classes.take(class, &mut memory) }, class)).collect();
            for (block, class) in blocks {
                unsafe { classes.release(block, class, &mut memory) };
            }
            if round == 0 {
                end_after_first_round = memory.end;
            }
        }
        assert_eq!(memory.end, end_after_first_round);
    }

    #[test]
    fn the_first_growth_is_used_not_wasted() {
        let mut memory = FakeMemory::new(5 * PAGE, 64 * PAGE);
        let mut classes = SizeClasses::new();
        assert_eq!(unsafe { classes.take(4, &mut memory) }, 5 * PAGE);
        assert_eq!(memory.end, 6 * PAGE, "one page grown, and it holds the block");
        assert_eq!(unsafe { classes.take(16, &mut memory) }, 6 * PAGE);
        assert_eq!(memory.end, 7 * PAGE);
        assert_eq!(
            unsafe { classes.take(3, &mut memory) },
            7 * PAGE,
            "fresh blocks come after the last one: the padding before an aligned block is not revisited"
        );
    }

    #[test]
    fn bad_classes_get_no_block() {
        let mut memory = FakeMemory::new(PAGE, 4 * PAGE);
        let mut classes = SizeClasses::new();
        assert_eq!(unsafe { classes.take(2, &mut memory) }, 0);
        assert_eq!(unsafe { classes.take(32, &mut memory) }, 0);
    }

    #[test]
    fn exhausted_memory_gives_null_not_a_panic() {
        let mut memory = FakeMemory::new(PAGE, 2 * PAGE);
        let mut classes = SizeClasses::new();
        assert_ne!(unsafe { classes.take(15, &mut memory) }, 0);
        assert_eq!(unsafe { classes.take(17, &mut memory) }, 0, "two pages do not fit in what is left");
        assert_ne!(unsafe { classes.take(4, &mut memory) }, 0, "small blocks still fit");
    }
}
