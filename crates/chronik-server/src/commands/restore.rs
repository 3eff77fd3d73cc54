//! `chronik-server restore`: rebuild a data directory from a backup,
//! verifying checksums (needs the `backup` feature).

use std::path::PathBuf;

/// Arguments of `chronik-server restore`.
#[derive(Debug, clap::Args)]
pub struct RestoreArgs {
    /// Backup to restore from: fs:///DIR or s3://BUCKET/PREFIX?region=R&endpoint=URL
    #[arg(long, env = "CHRONIK_BACKUP", value_name = "URL")]
    pub from: String,
    /// Data directory to create (must not exist or be empty)
    #[arg(long, value_name = "DIR")]
    pub data_dir: PathBuf,
}

/// Runs `chronik-server restore`.
#[cfg(feature = "backup")]
pub fn run(args: RestoreArgs) -> anyhow::Result<()> {
    use anyhow::Context;
    chronik_backup::install_tls_provider();
    let target = chronik_backup::BackupTarget::parse(&args.from)?;
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .context("starting the async runtime")?;
    let report = runtime.block_on(chronik_backup::restore(&target, &args.data_dir))?;
    println!(
        "restored {} files ({} bytes) into {}",
        report.files,
        report.bytes,
        args.data_dir.display()
    );
    Ok(())
}

/// Runs `chronik-server restore`: without the `backup` feature, an error
/// naming the feature.
#[cfg(not(feature = "backup"))]
pub fn run(_args: RestoreArgs) -> anyhow::Result<()> {
    anyhow::bail!("`restore` needs a chronik-server built with the `backup` feature")
}
