//! `echo-json`: a well-behaved sample tool. Reads a JSON value from stdin and
//! prints `{"echo":<value>}` on stdout (exit 0); invalid JSON is reported as
//! `echo-json: invalid JSON: <err>` on stderr with exit code 2.

use std::io::{Read, Write};

fn main() {
    let mut input = Vec::new();
    if let Err(e) = std::io::stdin().read_to_end(&mut input) {
        eprintln!("echo-json: reading stdin: {e}");
        exit(2);
    }
    match serde_json::from_slice::<serde_json::Value>(&input) {
        Ok(value) => println!("{}", serde_json::json!({ "echo": value })),
        Err(e) => {
            eprintln!("echo-json: invalid JSON: {e}");
            exit(2);
        }
    }
}

/// Exits with `code`. (An `ExitCode` returned from `main` reaches a WASI 0.2
/// host only as success or failure, i.e. 0 or 1, hence `exit-with-code`.)
fn exit(code: u8) -> ! {
    let _ = std::io::stdout().flush();
    wasi::cli::exit::exit_with_code(code);
    unreachable!("exit-with-code returned")
}
