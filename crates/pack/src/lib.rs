//! Clientèle pack: read customer packs (CSV, XLSX, XLS, ODS) into rows of raw cells, and
//! write packs (blank template, exports, rejected rows, annotated copies of a user's file).
//!
//! Reading streams: rows are produced on a separate thread and handed over through a
//! bounded channel, so memory does not grow with the number of rows and parsing overlaps
//! the caller's validation.

// `PackError::Unusable` carries a whole `Issue` (the published API); it is built once per
// file, so the size of the `Err` side does not matter.
#![allow(clippy::result_large_err)]

// The modules depend one way, leaves first: `error`, `headers`, `mapping` and `limits` use
// nothing of the crate but each other in that order; `rows` holds the row and column types
// every reader shares; `source` (the bytes, the format, the reader thread), then
// `zipguard`, `csvread` and `workbook` (the readers); `read` opens a pack with them, and
// `write` reuses `read` for the annotated copy, and `table` (plain lists for people) uses
// `write`'s formats. No module imports one that imports it.
mod csvread;
mod error;
mod headers;
mod limits;
pub mod mapping;
mod read;
mod rows;
mod source;
mod table;
mod workbook;
mod write;
mod zipguard;

pub use error::{PackError, Result};

pub use headers::{match_contact_header, CONTACT_FIELDS};
pub use mapping::{heading_set, ColumnMap, Target};
pub use read::{
    column_letter, has_contacts, has_contacts_bytes, open, open_bytes, open_bytes_mapped,
    open_mapped, Opened,
};
pub use rows::{Column, RawRow, Tab};
pub use table::{CsvTable, TableCell, XlsxTable};
pub use write::{
    annotate, corrected, write_rejected, write_template, Corrected, CsvExporter, RejectedWriter,
    XlsxExporter,
};
