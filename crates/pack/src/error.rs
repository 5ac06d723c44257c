//! The error of the crate: a leaf module, so that every reader and writer can return it
//! without depending on the crate root.

use clientele_core::issue::Issue;

/// Why a pack could not be read or written.
#[derive(thiserror::Error, Debug)]
pub enum PackError {
    /// The file cannot be used: one `file.*` or `header.*` error issue.
    #[error("{}", .0.message)]
    Unusable(Issue),
    /// Reading or writing a file failed.
    #[error("I/O error: {0}")]
    Io(#[from] std::io::Error),
    /// The XLSX writer failed.
    #[error("cannot write the workbook: {0}")]
    Xlsx(#[from] rust_xlsxwriter::XlsxError),
}

/// Result with a [`PackError`].
pub type Result<T, E = PackError> = std::result::Result<T, E>;
