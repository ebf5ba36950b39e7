fn main() {
    eprintln!("onsite-server: not built yet (see the sync-server issue)");
    std::process::exit(2);
}
