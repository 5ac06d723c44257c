//! The error every command returns: the message `main` prints once (after `clientele: `)
//! and the exit code it stands for. The cause is kept as the error's source, so that a
//! caller can ask what happened underneath (a closed pipe) without reading the text.

use crate::exit;
use clientele_store::StoreError;
use std::error::Error;
use std::fmt;
use std::io;

/// What starts every error line on standard error.
pub const PREFIX: &str = "clientele: ";

/// What a command returns.
pub type CliResult<T = ()> = Result<T, CliError>;

/// A command that did not succeed: its exit code, what to tell the person, and the cause.
#[derive(Debug)]
pub struct CliError {
    code: u8,
    message: String,
    source: Option<Box<dyn Error + Send + Sync>>,
}

impl CliError {
    /// An error with exit code `code`.
    pub fn new(code: u8, message: impl Into<String>) -> Self {
        CliError {
            code,
            message: message.into(),
            source: None,
        }
    }

    /// The input has errors (exit 1).
    pub fn input(message: impl Into<String>) -> Self {
        Self::new(exit::INPUT_ERRORS, message)
    }

    /// Unusable input or usage error (exit 2).
    pub fn unusable(message: impl Into<String>) -> Self {
        Self::new(exit::UNUSABLE, message)
    }

    /// Database or I/O failure (exit 3).
    pub fn failure(message: impl Into<String>) -> Self {
        Self::new(exit::FAILURE, message)
    }

    /// The same error, caused by `source`.
    pub fn because(mut self, source: impl Into<Box<dyn Error + Send + Sync>>) -> Self {
        self.source = Some(source.into());
        self
    }

    /// The exit code.
    pub fn code(&self) -> u8 {
        self.code
    }

    /// Tell the person: one line (or more, for a message that has them) on standard error.
    pub fn print(&self) {
        eprintln!("{PREFIX}{}", self.message);
    }
}

impl fmt::Display for CliError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl Error for CliError {
    fn source(&self) -> Option<&(dyn Error + 'static)> {
        self.source.as_deref().map(|e| e as &(dyn Error + 'static))
    }
}

/// A store error says itself what failed; what the request asked that cannot be (not
/// found, refused, conflict) is the caller's to fix (2), the database's failures are 3.
impl From<StoreError> for CliError {
    fn from(e: StoreError) -> Self {
        let code = match e {
            StoreError::NotFound | StoreError::Refused(_) | StoreError::Conflict(_) => {
                exit::UNUSABLE
            }
            StoreError::Db(_) | StoreError::Io(_) => exit::FAILURE,
        };
        CliError::new(code, e.to_string()).because(e)
    }
}

/// Whether `e`, or anything that caused it, is a write to a pipe whose reader has gone
/// (`clientele export | head`).
///
/// The chain is walked with `source()`, with two detours where it hides its causes:
/// `io::Error::source()` answers the source of the error it wraps, not that error itself
/// (so `get_ref()` is followed too), and `csv::Error` has no `source()` at all (the pack's
/// CSV exporter wraps its writer's failures in one), so its kind is opened.
pub fn is_broken_pipe(e: &(dyn Error + 'static)) -> bool {
    let mut next = Some(e);
    while let Some(e) = next {
        if let Some(io) = e.downcast_ref::<io::Error>() {
            if io.kind() == io::ErrorKind::BrokenPipe {
                return true;
            }
            if io.get_ref().is_some_and(|inner| is_broken_pipe(inner)) {
                return true;
            }
        }
        if let Some(csv) = e.downcast_ref::<csv::Error>() {
            if let csv::ErrorKind::Io(io) = csv.kind() {
                if is_broken_pipe(io) {
                    return true;
                }
            }
        }
        next = e.source();
    }
    false
}

#[cfg(test)]
mod tests {
    use super::*;
    use clientele_pack::PackError;

    fn pipe() -> io::Error {
        io::Error::from(io::ErrorKind::BrokenPipe)
    }

    #[test]
    fn a_closed_pipe_is_found_at_any_depth() {
        assert!(is_broken_pipe(&pipe()));
        // What the kernel says (EPIPE), as a write to standard output gets it.
        assert!(is_broken_pipe(&io::Error::from_raw_os_error(32)));
        // A JSONL export: the callback's own write fails, the store keeps it as Io.
        let store = StoreError::Io(pipe());
        assert!(is_broken_pipe(&store));
        // A CSV export: the csv writer's error, made an io::Error by the pack, a PackError,
        // made an io::Error by the callback, kept by the store, under the command's error.
        let csv = io::Error::from(csv::Error::from(pipe()));
        let pack = io::Error::other(PackError::Io(csv));
        let cli = CliError::failure("export failed").because(StoreError::Io(pack));
        assert!(is_broken_pipe(&cli));
        // Boxed as a database error's cause.
        assert!(is_broken_pipe(&StoreError::Db(Box::new(pipe()))));
    }

    #[test]
    fn other_failures_are_not_a_closed_pipe() {
        assert!(!is_broken_pipe(&io::Error::from(
            io::ErrorKind::StorageFull
        )));
        // The words are not enough: only the kind counts.
        assert!(!is_broken_pipe(&io::Error::other(
            "Broken pipe (os error 32)"
        )));
        let db = StoreError::Db(Box::new(io::Error::other("disk I/O error")));
        assert!(!is_broken_pipe(&CliError::failure("x").because(db)));
        assert!(!is_broken_pipe(&CliError::failure("no cause")));
    }

    #[test]
    fn store_errors_keep_their_exit_code_and_text() {
        let e = CliError::from(StoreError::Conflict("account 7 taken".into()));
        assert_eq!(
            (e.code(), e.to_string().as_str()),
            (exit::UNUSABLE, "conflict: account 7 taken")
        );
        let e = CliError::from(StoreError::Db(Box::new(io::Error::other("gone"))));
        assert_eq!(
            (e.code(), e.to_string().as_str()),
            (exit::FAILURE, "database error: gone")
        );
        assert!(e.source().is_some());
    }
}
