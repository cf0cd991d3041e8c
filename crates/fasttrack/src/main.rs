//! `fasttrack`: the web server, API, scheduler, worker and command-line tool in one binary.
#![forbid(unsafe_code)]

fn main() -> std::process::ExitCode {
    let cli = fasttrack::cli::parse();
    fasttrack::cli::init_logging(&cli);
    let rt = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("fasttrack: cannot start the async runtime: {e}");
            return std::process::ExitCode::FAILURE;
        }
    };
    match rt.block_on(fasttrack::cli::run(cli)) {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("fasttrack: {e:#}");
            std::process::ExitCode::FAILURE
        }
    }
}
