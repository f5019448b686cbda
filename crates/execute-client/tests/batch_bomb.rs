//! A decompression bomb: a brotli batch of under a kilobyte that expands to 1 GiB is refused with
//! `BatchError::TooLarge`, and decoding it allocates about `MAX_BATCH_BYTES`, not the gigabyte.
//! (Its own test binary: it counts every allocation of the process.)
#![allow(clippy::unwrap_used, unsafe_code)]

use nrd_execute_client::{BATCH_VERSION_BROTLI, BatchError, MAX_BATCH_BYTES, decode_batch};
use std::{
    alloc::{GlobalAlloc, Layout, System},
    io::Read,
    sync::atomic::{AtomicUsize, Ordering},
    time::Instant,
};

/// The system allocator, keeping the bytes live now and the most live since the last reset.
struct Counting;

static LIVE: AtomicUsize = AtomicUsize::new(0);
static PEAK: AtomicUsize = AtomicUsize::new(0);

fn grew(by: usize) {
    let live = LIVE.fetch_add(by, Ordering::SeqCst) + by;
    PEAK.fetch_max(live, Ordering::SeqCst);
}

// SAFETY: every call is forwarded to `System` unchanged; only counters are updated.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        let ptr = unsafe { System.alloc(layout) };
        if !ptr.is_null() {
            grew(layout.size());
        }
        ptr
    }

    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        let ptr = unsafe { System.alloc_zeroed(layout) };
        if !ptr.is_null() {
            grew(layout.size());
        }
        ptr
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        unsafe { System.dealloc(ptr, layout) };
        LIVE.fetch_sub(layout.size(), Ordering::SeqCst);
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        let new = unsafe { System.realloc(ptr, layout, new_size) };
        if !new.is_null() {
            // Count the moment both blocks may exist.
            grew(new_size);
            LIVE.fetch_sub(layout.size(), Ordering::SeqCst);
        }
        new
    }
}

#[global_allocator]
static GLOBAL: Counting = Counting;

const GIB: u64 = 1 << 30;

#[test]
fn a_brotli_bomb_stops_at_the_cap() {
    // 1 GiB of zeros, brotli quality 5 with the largest standard window.
    let mut bomb = vec![BATCH_VERSION_BROTLI];
    let params = brotli::enc::BrotliEncoderParams { quality: 5, lgwin: 24, ..Default::default() };
    brotli::BrotliCompress(&mut std::io::repeat(0).take(GIB), &mut bomb, &params).unwrap();
    assert!(bomb.len() < 1024, "the bomb is {} bytes", bomb.len());

    let live_before = LIVE.load(Ordering::SeqCst);
    PEAK.store(live_before, Ordering::SeqCst);
    let start = Instant::now();
    assert_eq!(decode_batch(&bomb), Err(BatchError::TooLarge));
    let elapsed = start.elapsed();
    let peak = PEAK.load(Ordering::SeqCst) - live_before;
    println!("{}-byte bomb of 1 GiB refused in {elapsed:.2?}, peak extra allocation {peak} bytes", bomb.len());
    // The output buffer stops at the cap (growing by doubling: up to 1.5x while it moves), plus a
    // ring buffer of at most the 16 MiB window, plus small tables.
    assert!(peak < 3 * MAX_BATCH_BYTES, "decoding the bomb allocated {peak} bytes");
    assert!(peak >= MAX_BATCH_BYTES / 2, "the decoder did decompress up to the cap ({peak} bytes)");
}
