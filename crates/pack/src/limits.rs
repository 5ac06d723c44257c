//! What a pack may expand to: the bounds, the cuts the readers make to every cell and row,
//! and the errors of a file past them.
//!
//! A few kilobytes of zip can describe gigabytes of cells: a shared string of 5 MB
//! referenced by thousands of cells, an ODS row repeated 6,000 times with a cell repeated
//! 16,384 times, twenty million tiny shared strings. The workbook's zip is measured against
//! these bounds before calamine opens it (`zipguard`); the readers then cut every
//! cell and row to a bounded size, so the memory a check needs is bounded whatever the
//! input. A leaf module: the readers and the zip guard use it, it uses none of them.

use crate::error::PackError;
use clientele_core::issue::{DetailMessage, Issue, Lang, Problem};
use clientele_core::msg;
use clientele_core::Cell;

/// A cell keeps at most this many characters: Excel's own limit for a cell. No field
/// accepts as many (the longest, the comment, takes 10,000), so a longer cell is still
/// reported as too long, with the first characters as its value.
pub(crate) const MAX_CELL_CHARS: usize = 32_767;
/// A row may hold at most this much text (bytes, after the cut above); a real row holds a
/// few kilobytes.
pub(crate) const MAX_ROW_BYTES: usize = 4 << 20;
/// A file may hold at most this much text in all (bytes, as read: shared strings count once
/// per cell that shows them). A million-row pack holds a few hundred megabytes.
pub(crate) const MAX_FILE_TEXT: u64 = 2 << 30;
/// Shared strings of an XLSX at most (calamine keeps them all in memory, ~50 bytes each
/// beside their text): five times a 200,000-row pack whose every text cell is distinct.
pub(crate) const MAX_SHARED_STRINGS: u64 = 5_000_000;
/// Text bytes of the shared strings of an XLSX at most.
pub(crate) const MAX_SHARED_BYTES: u64 = 256 << 20;
/// Cells of the rectangles calamine makes of an ODS file's sheets, at most (32 bytes each):
/// a 400,000-row pack of 40 columns.
pub(crate) const MAX_ODS_CELLS: u64 = 16_000_000;
/// Text bytes of an ODS file once its repeats are expanded, at most.
pub(crate) const MAX_ODS_TEXT: u64 = 512 << 20;

/// `file.too_large` with a detail already in the message language.
pub(crate) fn too_large(lang: Lang, detail: &str) -> PackError {
    PackError::Unusable(Issue::file("file", Problem::TooLarge, lang, "", detail, ""))
}

/// `file.not_spreadsheet`, naming what the file looks like (`" (a PNG image)"`), if known:
/// `what` is the id of a `pack.what.` message.
pub(crate) fn not_spreadsheet(lang: Lang, what: Option<&str>) -> PackError {
    let Some(id) = what else {
        return PackError::Unusable(Issue::file(
            "file",
            Problem::NotSpreadsheet,
            lang,
            "",
            "",
            "",
        ));
    };
    let what = DetailMessage::new(id, &[]);
    let detail = what.text(Problem::NotSpreadsheet, lang);
    PackError::Unusable(
        Issue::file("file", Problem::NotSpreadsheet, lang, "", &detail, "")
            .with_detail_message(what),
    )
}

/// Megabytes, for messages.
pub(crate) fn mb(bytes: u64) -> u64 {
    bytes >> 20
}

/// A text cell, cut to [`MAX_CELL_CHARS`] characters.
pub(crate) fn text_cell(s: &str) -> Cell {
    Cell::Text(cut(s).into())
}

/// `s` cut to [`MAX_CELL_CHARS`] characters.
pub(crate) fn cut(s: &str) -> &str {
    // At most MAX_CELL_CHARS bytes is at most that many characters: the common case costs
    // one comparison.
    if s.len() <= MAX_CELL_CHARS {
        return s;
    }
    match s.char_indices().nth(MAX_CELL_CHARS) {
        Some((i, _)) => &s[..i],
        None => s,
    }
}

/// Bytes of text a cell holds (what it costs to carry).
pub(crate) fn cell_bytes(c: &Cell) -> usize {
    match c {
        Cell::Text(s) | Cell::Error(s) => s.len(),
        _ => 0,
    }
}

/// The error of a row over [`MAX_ROW_BYTES`].
pub(crate) fn row_too_large(lang: Lang, row: u32) -> PackError {
    let mut e = too_large(
        lang,
        &msg!(
            lang,
            "pack.row_too_large",
            row = row,
            mb = mb(MAX_ROW_BYTES as u64)
        ),
    );
    if let PackError::Unusable(i) = &mut e {
        i.row = Some(row);
    }
    e
}

/// The error of a file over [`MAX_FILE_TEXT`].
pub(crate) fn file_too_large(lang: Lang) -> PackError {
    too_large(
        lang,
        &msg!(lang, "pack.file_text_too_large", mb = mb(MAX_FILE_TEXT)),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cells_are_cut_on_characters() {
        let long = "é".repeat(MAX_CELL_CHARS + 5);
        assert_eq!(cut(&long).chars().count(), MAX_CELL_CHARS);
        assert_eq!(cut("abc"), "abc");
    }
}
