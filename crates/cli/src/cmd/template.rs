//! `clientele template` and `clientele codes`: what a pack looks like, a blank one to fill
//! and the documentation of the issues a check can find in it.

use crate::error::{CliError, CliResult};
use crate::files::has_extension;
use std::path::Path;

/// `clientele template -o FILE.xlsx`: a blank pack.
pub fn template(output: &Path) -> CliResult {
    if !has_extension(output, &["xlsx"]) {
        return Err(CliError::unusable(format!(
            "the template is an Excel workbook: give a file name ending in .xlsx (not {})",
            output.display()
        )));
    }
    clientele_pack::write_template(output).map_err(|e| {
        CliError::failure(format!("cannot write {}: {e}", output.display())).because(e)
    })?;
    eprintln!("Blank pack written to {}", output.display());
    Ok(())
}

/// `clientele codes`: every issue code, as Markdown.
pub fn codes() -> CliResult {
    print!("{}", clientele_core::issue::codes_markdown());
    Ok(())
}
