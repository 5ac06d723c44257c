//! The exit codes of `clientele`, in one leaf module that every command imports (and that
//! imports nothing of the crate), so that scripts can rely on one list.

/// Success (an export whose reader closed the pipe early is one too).
pub const OK: u8 = 0;
/// The input has errors (the file was read, some rows are wrong).
pub const INPUT_ERRORS: u8 = 1;
/// Unusable input or usage error.
pub const UNUSABLE: u8 = 2;
/// Database or I/O failure.
pub const FAILURE: u8 = 3;
