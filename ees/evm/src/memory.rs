//! Frame memory buffers, recycled per thread.
//!
//! A frame's memory is a zeroed buffer whose length is its capacity; the EVM's memory size
//! (`mem_len`, what gas pays for) grows inside it without touching the allocator. When a
//! frame needs more, it takes a bigger buffer, copies what it wrote and gives the old one
//! back; a frame that ends gives its buffer back. Given-back buffers are zeroed where they
//! were written and kept for the next frame on this thread, as evmone keeps its execution
//! states: growing word by word to megabytes, as Solidity's allocator does, otherwise pays
//! for a reallocation copy, a zeroing pass and the page faults of fresh memory on every
//! transaction (about a tenth of the snailtracer benchmark), and every call pays an
//! allocation.

use std::cell::RefCell;

/// A fresh buffer's smallest size.
const MIN_BUFFER: usize = 1 << MIN_CLASS;
const MIN_CLASS: usize = 12;
/// Bytes the pool keeps per thread at most; a buffer that would go over is freed instead.
/// Bounded so that a run's memory stays small (one such pool per worker thread).
const POOL_BYTES: usize = 1 << MAX_CLASS;
const MAX_CLASS: usize = 24;

/// Zeroed buffers by size class: class `c` holds buffers of `2^c ..= 2^(c+1) - 1` bytes, each
/// `len() == capacity()`. Classes, not one list: a deep call chain gives back a thousand small
/// buffers, and a frame must not search them all.
struct Pool {
    classes: [Vec<Vec<u8>>; MAX_CLASS - MIN_CLASS + 1],
    bytes: usize,
}

thread_local! {
    static POOL: RefCell<Pool> = const { RefCell::new(Pool { classes: [const { Vec::new() }; MAX_CLASS - MIN_CLASS + 1], bytes: 0 }) };
}

/// The class of a buffer of `len` bytes (`MIN_BUFFER <= len <= POOL_BYTES`).
fn class_of(len: usize) -> usize {
    len.ilog2() as usize - MIN_CLASS
}

/// A zeroed buffer of at least `len` bytes: a kept one if one fits, else a new one of the next
/// power of two (at least [`MIN_BUFFER`]). Up to [`MIN_BUFFER`] (a frame's first touch) the
/// smallest that fits; past it, the largest, because memory that outgrew a small buffer tends
/// to go on growing, and each step up the ladder would copy what the frame wrote.
pub(crate) fn take(len: usize) -> Vec<u8> {
    let size = len.next_power_of_two().max(MIN_BUFFER);
    if size > POOL_BYTES {
        return vec![0; size];
    }
    let kept = POOL.with(|pool| {
        let mut pool = pool.borrow_mut();
        let fitting = class_of(size)..pool.classes.len();
        let class = match len <= MIN_BUFFER {
            true => fitting.into_iter().find(|&c| !pool.classes[c].is_empty()),
            false => fitting.into_iter().rev().find(|&c| !pool.classes[c].is_empty()),
        }?;
        let buffer = pool.classes[class].pop().expect("class not empty");
        pool.bytes -= buffer.len();
        Some(buffer)
    });
    kept.unwrap_or_else(|| vec![0; size])
}

/// Takes back a buffer whose bytes from `written` on are zero: zeroes the rest and keeps it,
/// unless the pool is full.
pub(crate) fn give(mut buffer: Vec<u8>, written: usize) {
    let len = buffer.len();
    if !(MIN_BUFFER..=POOL_BYTES).contains(&len) {
        return;
    }
    POOL.with(|pool| {
        let mut pool = pool.borrow_mut();
        if pool.bytes + len > POOL_BYTES {
            return;
        }
        buffer[..written.min(len)].fill(0);
        pool.bytes += len;
        pool.classes[class_of(len)].push(buffer);
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_buffer_comes_back_zeroed() {
        let mut buffer = take(100);
        assert!(buffer.len() >= 100 && buffer.iter().all(|&b| b == 0));
        buffer[..64].fill(0xab);
        let len = buffer.len();
        give(buffer, 64);
        let again = take(len);
        assert_eq!(again.len(), len);
        assert!(again.iter().all(|&b| b == 0), "a reused buffer holds no earlier frame's bytes");
    }

    #[test]
    fn the_pool_keeps_a_bounded_number_of_bytes() {
        let big: Vec<Vec<u8>> = (0..4).map(|_| take(POOL_BYTES / 2)).collect();
        for buffer in big {
            give(buffer, 0);
        }
        POOL.with(|pool| assert!(pool.borrow().bytes <= POOL_BYTES));
        let fresh = take(POOL_BYTES * 2);
        assert_eq!(fresh.len(), POOL_BYTES * 2, "larger than the pool: allocated, not kept");
    }
}
