//! The administrative subcommands of the `chronik-server` binary; without
//! one, the binary runs the broker.

pub mod restore;
pub mod user;
