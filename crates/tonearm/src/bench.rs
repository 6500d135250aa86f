pub fn run(_a: BenchArgs) -> anyhow::Result<()> {
    Ok(())
}
#[derive(Debug, clap::Args)]
pub struct BenchArgs {}
