//! `read-file PATH...`: a sample tool that prints the raw contents of each
//! file to stdout. Failures are reported as `read-file: <PATH>: <error>` on
//! stderr and make the exit code 1 (after every path has been tried).

use std::io::Write;
use std::process::ExitCode;

fn main() -> ExitCode {
    let paths: Vec<String> = std::env::args().skip(1).collect();
    if paths.is_empty() {
        eprintln!("usage: read-file PATH...");
        return ExitCode::FAILURE;
    }
    let mut stdout = std::io::stdout().lock();
    let mut code = ExitCode::SUCCESS;
    for path in &paths {
        let result = std::fs::read(path).and_then(|data| stdout.write_all(&data));
        if let Err(e) = result {
            eprintln!("read-file: {path}: {e}");
            code = ExitCode::FAILURE;
        }
    }
    let _ = stdout.flush();
    code
}
