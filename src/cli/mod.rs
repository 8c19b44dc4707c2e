//! Command-line subcommands (the TUI is the default).

use std::process::ExitCode;

/// Entry point of the `karte` binary.
pub fn main() -> ExitCode {
    ExitCode::SUCCESS
}
