//! Writes each fuzz target's starting corpus into `<dir>/<target>/` (what `cargo xtask fuzz`
//! runs first).

fn main() -> std::io::Result<()> {
    let dir = std::env::args_os()
        .nth(1)
        .map(std::path::PathBuf::from)
        .unwrap_or_else(|| "target/fuzz/corpus".into());
    for (target, _) in onsite_fuzz::TARGETS {
        let into = dir.join(target);
        std::fs::create_dir_all(&into)?;
        let seeds = onsite_fuzz::seeds::of(target);
        for (name, bytes) in &seeds {
            std::fs::write(into.join(format!("seed-{name}")), bytes)?;
        }
        println!("{target}: {} seed(s) in {}", seeds.len(), into.display());
    }
    Ok(())
}
