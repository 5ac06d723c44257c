//! The subcommands, one file each (or per small family), thin over the crates. Each returns
//! a [`crate::error::CliResult`]: `main` prints the error, once, and exits with its code.

pub mod backup;
pub mod config_check;
pub mod export;
pub mod history;
pub mod import;
pub mod lookup;
pub mod serve;
pub mod settings;
pub mod template;
pub mod token;
pub mod user;
