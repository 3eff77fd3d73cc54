//! A global allocator that keeps hostile length prefixes from aborting the
//! process.
//!
//! `kafka-protocol` 0.18 decodes an array by reading its element count off
//! the wire and calling `Vec::with_capacity(count)` before decoding a single
//! element (upstream issue, fixed by open pull requests #152/#161/#200). A
//! 14-byte Metadata request claiming 2^31 topics therefore asks for ~150 GB
//! at once; the system allocator refuses, and Rust's allocation-failure
//! handler aborts the whole broker, taking every client with it.
//!
//! [`HugeAllocGuard`] serves allocations of at least [`HUGE_ALLOCATION`]
//! bytes with an anonymous `mmap(MAP_NORESERVE)`: address space is reserved
//! but no memory is committed or accounted, so the request succeeds, only
//! the pages the decoder actually touches (bounded by the frame, itself
//! bounded by `max_frame_bytes`) ever become resident, and the decode then
//! fails normally with "not enough bytes". Smaller allocations go straight
//! to the system allocator. Legitimate allocations this large do not occur
//! in the broker (frames are capped far below), and would work the same way.
//!
//! Limits: relies on Linux honouring `MAP_NORESERVE`, which it does unless
//! `vm.overcommit_memory = 2` (strict accounting); with strict accounting
//! the mapping fails and the process aborts as before. On other systems the
//! guard is a plain pass-through to the system allocator.
//!
//! Install it in a binary with
//! `#[global_allocator] static ALLOC: HugeAllocGuard = HugeAllocGuard;`.

// The one place in the workspace that needs `unsafe`: a GlobalAlloc impl
// and the mmap/munmap calls behind it.
#![allow(unsafe_code)]

use std::alloc::{GlobalAlloc, Layout, System};

/// Allocations at least this large are served by `mmap(MAP_NORESERVE)`.
pub const HUGE_ALLOCATION: usize = 1 << 30;

/// The guarded allocator; see the module documentation.
#[derive(Debug, Clone, Copy, Default)]
pub struct HugeAllocGuard;

#[cfg(target_os = "linux")]
mod imp {
    use super::*;

    /// mmap returns page-aligned memory; larger alignments go to System.
    const MAP_ALIGN: usize = 4096;

    pub(super) fn is_huge(layout: Layout) -> bool {
        layout.size() >= HUGE_ALLOCATION && layout.align() <= MAP_ALIGN
    }

    /// Maps `size` bytes of zeroed, uncommitted memory; null on failure.
    pub(super) unsafe fn map(size: usize) -> *mut u8 {
        // SAFETY: an anonymous private mapping at a kernel-chosen address
        // has no preconditions; failure is reported as MAP_FAILED.
        let p = unsafe {
            libc::mmap(
                std::ptr::null_mut(),
                size,
                libc::PROT_READ | libc::PROT_WRITE,
                libc::MAP_PRIVATE | libc::MAP_ANONYMOUS | libc::MAP_NORESERVE,
                -1,
                0,
            )
        };
        if p == libc::MAP_FAILED {
            std::ptr::null_mut()
        } else {
            p.cast()
        }
    }

    /// Unmaps a block returned by [`map`] with the same size.
    pub(super) unsafe fn unmap(ptr: *mut u8, size: usize) {
        // SAFETY: the caller passes a block from `map` and its size, per the
        // GlobalAlloc contract (dealloc receives the allocation's layout).
        unsafe {
            libc::munmap(ptr.cast(), size);
        }
    }
}

#[cfg(not(target_os = "linux"))]
mod imp {
    use super::*;

    pub(super) fn is_huge(_layout: Layout) -> bool {
        false
    }

    pub(super) unsafe fn map(_size: usize) -> *mut u8 {
        std::ptr::null_mut()
    }

    pub(super) unsafe fn unmap(_ptr: *mut u8, _size: usize) {}
}

// SAFETY: every block is either from System (small layouts, delegated
// unchanged) or from `imp::map` (huge layouts: page-aligned, which satisfies
// any alignment up to the page size, zero-filled, valid for `size` bytes).
// Which one is decided by the layout alone, and GlobalAlloc guarantees
// dealloc/realloc receive the layout the block was allocated with.
unsafe impl GlobalAlloc for HugeAllocGuard {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        if imp::is_huge(layout) {
            // SAFETY: see the impl comment.
            unsafe { imp::map(layout.size()) }
        } else {
            // SAFETY: same contract as ours.
            unsafe { System.alloc(layout) }
        }
    }

    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        if imp::is_huge(layout) {
            // SAFETY: anonymous mappings are zero-filled.
            unsafe { imp::map(layout.size()) }
        } else {
            // SAFETY: same contract as ours.
            unsafe { System.alloc_zeroed(layout) }
        }
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        if imp::is_huge(layout) {
            // SAFETY: a huge layout means the block came from `map`.
            unsafe { imp::unmap(ptr, layout.size()) }
        } else {
            // SAFETY: a small layout means the block came from System.
            unsafe { System.dealloc(ptr, layout) }
        }
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        // SAFETY: GlobalAlloc::realloc requires `new_size`, rounded up to
        // the alignment, not to overflow isize, so this layout is valid.
        let new_layout = unsafe { Layout::from_size_align_unchecked(new_size, layout.align()) };
        if !imp::is_huge(layout) && !imp::is_huge(new_layout) {
            // SAFETY: both the old and new block belong to System.
            return unsafe { System.realloc(ptr, layout, new_size) };
        }
        // SAFETY: allocate, copy the common prefix, free the old block; each
        // call follows the routing rules above.
        unsafe {
            let new = self.alloc(new_layout);
            if !new.is_null() {
                std::ptr::copy_nonoverlapping(ptr, new, layout.size().min(new_size));
                self.dealloc(ptr, layout);
            }
            new
        }
    }
}

#[cfg(all(test, target_os = "linux"))]
mod tests {
    use super::*;

    #[test]
    fn a_huge_allocation_reserves_address_space_without_committing_it() {
        // 256 GiB: far more than any test machine's memory and swap, which
        // the system allocator refuses under the default overcommit policy.
        let layout = Layout::from_size_align(256 << 30, 8).unwrap();
        let guard = HugeAllocGuard;
        unsafe {
            let p = guard.alloc(layout);
            assert!(!p.is_null(), "MAP_NORESERVE mapping refused");
            // Touch both ends: only those pages become resident.
            *p = 1;
            *p.add(layout.size() - 1) = 2;
            assert_eq!(*p.add(4096), 0, "mapping is not zero-filled");
            guard.dealloc(p, layout);
        }
    }

    #[test]
    fn small_allocations_and_growth_across_the_threshold_keep_their_bytes() {
        let guard = HugeAllocGuard;
        unsafe {
            let small = Layout::from_size_align(64, 8).unwrap();
            let p = guard.alloc(small);
            assert!(!p.is_null());
            for i in 0..64 {
                *p.add(i) = i as u8;
            }
            let big = guard.realloc(p, small, HUGE_ALLOCATION);
            assert!(!big.is_null());
            for i in 0..64 {
                assert_eq!(*big.add(i), i as u8);
            }
            let back = guard.realloc(
                big,
                Layout::from_size_align(HUGE_ALLOCATION, 8).unwrap(),
                32,
            );
            assert!(!back.is_null());
            assert_eq!(*back.add(31), 31);
            guard.dealloc(back, Layout::from_size_align(32, 8).unwrap());
        }
    }
}
