//! `balloon [MIB]`: a hostile test fixture that allocates memory in 1 MiB
//! chunks, touching every page and keeping everything alive, to exercise the
//! sandbox's memory limit. With MIB it stops there and prints
//! `allocated <MIB> MiB`; without it, it grows until the host stops it (the
//! allocator then aborts, which is expected).

use std::hint::black_box;
use std::process::ExitCode;

const MIB: usize = 1 << 20;
const PAGE: usize = 4096;

fn main() -> ExitCode {
    let target = match std::env::args().nth(1).map(|s| s.parse::<usize>()) {
        None => None,
        Some(Ok(n)) => Some(n),
        Some(Err(e)) => {
            eprintln!("usage: balloon [MIB] ({e})");
            return ExitCode::FAILURE;
        }
    };
    let mut chunks: Vec<Vec<u8>> = Vec::new();
    while target.is_none_or(|t| chunks.len() < t) {
        let mut chunk = vec![0u8; MIB];
        for byte in chunk.iter_mut().step_by(PAGE) {
            *byte = 1;
        }
        chunks.push(black_box(chunk));
    }
    black_box(&chunks);
    println!("allocated {} MiB", chunks.len());
    ExitCode::SUCCESS
}
