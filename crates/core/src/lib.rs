//! Clientèle core: the field catalogue, identifier checks, validation rules and issue codes.
//! No I/O lives here.

pub mod catalogue;
pub mod contact;
pub mod ident;
pub mod issue;
pub mod lists;
pub mod messages;
pub mod model;
pub mod validate;

pub use catalogue::{Field, Kind, FIELDS, N_FIELDS};
pub use issue::{DetailMessage, FieldIssue, Issue, Lang, Problem, Severity};
pub use model::{Customer, Record, Value, VatRegime};
pub use validate::Cell;
