//! `openpoort`: the server and its command line (the work is done in the `idp` library).

use std::process::ExitCode;

use clap::Parser;

use idp::cli::Cli;

// Logins allocate many small, short-lived values across the runtime's threads, where glibc's
// malloc spent a seventh of the server's CPU (README, benchmarks).
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> ExitCode {
    let cli = Cli::parse();
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("openpoort: cannot start the async runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    match runtime.block_on(idp::run(cli)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("openpoort: {e}");
            ExitCode::FAILURE
        }
    }
}
