//! `mcp-sandbox-init`: the native sandbox's init stages alone. `mcp-sandbox run` starts it
//! (found next to its own executable) for every native tool; it does not link the WebAssembly
//! runtime, so it starts in a fraction of the time the full binary takes.

fn main() {
    let argv: Vec<String> = std::env::args().collect();
    let code = mcp_sandbox_runtime::native::init_stage(&argv).unwrap_or_else(|| {
        eprintln!("mcp-sandbox-init: started by mcp-sandbox for native tools; not meant to be run by hand");
        2
    });
    std::process::exit(code);
}
