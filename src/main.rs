fn main() -> std::process::ExitCode {
    karte::cli::main()
}
