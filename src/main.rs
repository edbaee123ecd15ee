//! `mcp-sandbox`: the command line. All logic lives in the `mcp-sandbox-runtime` library;
//! this binary only hands over the exit status.

fn main() {
    std::process::exit(mcp_sandbox_runtime::cli::main());
}
