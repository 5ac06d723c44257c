//! The rows and columns every reader produces: a leaf module, so that the readers (CSV,
//! workbooks, the reader thread) and the opening of a pack all depend on it and not on
//! each other.

use crate::headers::Schema;
use clientele_core::validate::Cell;

/// Which tab to read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Tab {
    /// The customers (sheet `Clients`, else the first sheet; a CSV file).
    Clients,
    /// The contacts (sheet `Contacts`; a CSV file is read as a contacts table).
    Contacts,
}

impl Tab {
    pub(crate) fn schema(self) -> Schema {
        match self {
            Tab::Clients => Schema::Clients,
            Tab::Contacts => Schema::Contacts,
        }
    }
}

/// A column of the header row.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Column {
    /// Index of the column in the sheet (0 = `A`), also the index into [`RawRow::cells`].
    pub index: usize,
    /// Column letter: `A`, `B`, … `AA`.
    pub letter: String,
    /// The header as written (trimmed).
    pub header: String,
    /// The field it matches: an index into `FIELDS` (Clients, i.e. `Field::idx()`) or into
    /// [`CONTACT_FIELDS`](crate::CONTACT_FIELDS) (Contacts); `None` for an unknown header
    /// (the column is ignored).
    pub field: Option<usize>,
    /// Whether the column mapping decided the field (or that the column is ignored), not
    /// the heading.
    pub mapped: bool,
    /// The first few non-blank values of the column (at most [`SAMPLES`], each cut to 40
    /// characters), for the mapping step.
    pub samples: Vec<String>,
}

/// Sample values kept per column.
pub const SAMPLES: usize = 3;

/// One non-blank data row.
#[derive(Debug, Clone, PartialEq)]
pub struct RawRow {
    /// Row number as the spreadsheet shows it (1-based).
    pub number: u32,
    /// Cells by column index, padded with `Cell::Empty` to at least the header's width.
    pub cells: Vec<Cell>,
}
