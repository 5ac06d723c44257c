//! File-name helpers of the commands that write files.

use std::path::Path;

/// Whether `p`'s extension is one of `exts` (any case).
pub fn has_extension(p: &Path, exts: &[&str]) -> bool {
    p.extension()
        .and_then(|e| e.to_str())
        .is_some_and(|e| exts.iter().any(|x| e.eq_ignore_ascii_case(x)))
}
