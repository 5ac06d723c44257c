//! Clientèle pack: read customer packs (CSV, XLSX, XLS, ODS) into rows of raw cells, and
//! write packs (blank template, exports, rejected rows, annotated copies of a user's file).
//!
//! Reading streams: rows are produced on a separate thread and handed over through a
//! bounded channel, so memory does not grow with the number of rows and parsing overlaps
//! the caller's validation.

// `PackError::Unusable` carries a whole `Issue` (the published API); it is built once per
// file, so the size of the `Err` side does not matter.
#![allow(clippy::result_large_err)]
#![warn(missing_docs)]

mod csvread;
mod headers;
mod limits;
pub mod mapping;
mod read;
mod source;
mod workbook;
mod write;

pub use headers::{match_contact_header, CONTACT_FIELDS};
pub use mapping::{ColumnMap, Target};
pub use read::{
    column_letter, has_contacts, has_contacts_bytes, open, open_bytes, open_bytes_mapped,
    open_mapped, Column, Opened, RawRow, Tab,
};
pub use write::{
    annotate, write_rejected, write_template, CsvExporter, RejectedWriter, XlsxExporter,
};

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
