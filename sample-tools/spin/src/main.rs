//! `spin`: a hostile test fixture that burns CPU forever, to exercise the
//! sandbox's CPU/time limits (fuel, epoch interruption, wall-clock timeout).
//! Prints `spinning` to stderr, then never returns.

use std::hint::black_box;

fn main() {
    eprintln!("spinning");
    let mut counter = 0u64;
    loop {
        // black_box keeps the optimiser from proving the loop has no effect.
        counter = black_box(counter.wrapping_add(1));
    }
}
