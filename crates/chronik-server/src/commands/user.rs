//! `chronik-server user add`: create or update a SASL user in a credentials
//! file (needs the `auth` feature).

use std::path::PathBuf;

use anyhow::{bail, Context};

/// `chronik-server user ...`
#[derive(Debug, clap::Subcommand)]
pub enum UserCommand {
    /// Create a user, or replace its password, in a credentials file.
    Add(UserAddArgs),
}

/// Arguments of `chronik-server user add`.
#[derive(Debug, clap::Args)]
pub struct UserAddArgs {
    /// Credentials file (created if missing)
    #[arg(long, env = "CHRONIK_SASL_CREDENTIALS", value_name = "FILE")]
    pub credentials: PathBuf,
    /// Username
    #[arg(long)]
    pub username: String,
    /// Password (visible in the process list and shell history: prefer
    /// --password-stdin)
    #[arg(long, conflicts_with = "password_stdin")]
    pub password: Option<String>,
    /// Read the password from the first line of standard input
    #[arg(long)]
    pub password_stdin: bool,
    /// PBKDF2 iterations (4096 to 16384)
    #[arg(long, default_value_t = 4096)]
    pub iterations: u32,
}

/// Runs a `user` subcommand.
pub fn run(cmd: UserCommand) -> anyhow::Result<()> {
    match cmd {
        UserCommand::Add(args) => {
            let password = match (&args.password, args.password_stdin) {
                (Some(p), false) => p.clone(),
                (None, true) => {
                    let mut line = String::new();
                    std::io::stdin()
                        .read_line(&mut line)
                        .context("reading the password from stdin")?;
                    line.trim_end_matches(['\r', '\n']).to_string()
                }
                _ => bail!("give the password with --password or --password-stdin"),
            };
            add(&args, &password)
        }
    }
}

#[cfg(feature = "auth")]
fn add(args: &UserAddArgs, password: &str) -> anyhow::Result<()> {
    chronik_auth::add_user(&args.credentials, &args.username, password, args.iterations)?;
    println!(
        "user {:?} saved in {}",
        args.username,
        args.credentials.display()
    );
    Ok(())
}

#[cfg(not(feature = "auth"))]
fn add(_args: &UserAddArgs, _password: &str) -> anyhow::Result<()> {
    bail!("`user add` needs a chronik-server built with the `auth` feature")
}
