//! `write-file PATH TEXT`: a sample tool that creates (or truncates) PATH and
//! writes TEXT to it, then prints `wrote <PATH>`. Failures are reported as
//! `write-file: <PATH>: <error>` on stderr with exit code 1.

use std::process::ExitCode;

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let [path, text] = args.as_slice() else {
        eprintln!("usage: write-file PATH TEXT");
        return ExitCode::FAILURE;
    };
    match std::fs::write(path, text) {
        Ok(()) => {
            println!("wrote {path}");
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("write-file: {path}: {e}");
            ExitCode::FAILURE
        }
    }
}
