//! The human rendering of an import report: counts first, then the issues grouped by row so
//! that the person fixing the spreadsheet can walk down it once.

use clientele_core::{msg, Lang, Severity};
use clientele_import::Report;
use std::io::{self, Write};

/// Rows of issues printed before pointing at `--format json`.
const MAX_PRINTED: usize = 200;

/// How to write: in which language (the texts are `cli.report.` messages of the
/// catalogue), and whether with terminal colours.
#[derive(Clone, Copy)]
struct Style {
    lang: Lang,
    color: bool,
}

impl Style {
    /// `s` in the colour (an SGR code) when colours are on.
    fn paint(self, s: &str, code: &str) -> String {
        if self.color {
            format!("\x1b[{code}m{s}\x1b[0m")
        } else {
            s.to_string()
        }
    }
}

/// Write the report for a person: the file, its columns, the counts, the issues, and what
/// was done.
pub fn human(out: &mut dyn Write, r: &Report, lang: Lang, color: bool) -> io::Result<()> {
    let st = Style { lang, color };
    writeln!(out, "{}", st.paint(&source(r, st), "1"))?;
    columns(out, r, st)?;
    counts(out, r, st)?;
    issues(out, r, st)?;
    writeln!(out, "{}", status(r, st))?;
    if let Some(f) = &r.rejected_file {
        writeln!(out, "{}", msg!(lang, "cli.report.rejected_rows", file = f))?;
    }
    Ok(())
}

/// The file, with its sheet, or the encoding and delimiter a text file was read with.
fn source(r: &Report, st: Style) -> String {
    let mut source = r.file.clone();
    if let Some(s) = &r.sheet {
        source.push_str(&format!(
            " ({})",
            msg!(st.lang, "cli.report.sheet", sheet = s)
        ));
    }
    if let (Some(e), Some(d)) = (&r.encoding, &r.delimiter) {
        let read_as = msg!(st.lang, "cli.report.encoding", encoding = e, delimiter = d);
        source.push_str(&format!(" ({read_as})"));
    }
    source
}

/// How many columns were recognised, which the mapping named, which were ignored.
fn columns(out: &mut dyn Write, r: &Report, st: Style) -> io::Result<()> {
    if !r.columns.is_empty() {
        let n = r.columns.len();
        writeln!(
            out,
            "{}",
            msg!(st.lang, "cli.report.columns_recognised", n = n)
        )?;
    }
    let mapped: Vec<String> = r
        .columns
        .iter()
        .chain(&r.ignored_columns)
        .filter(|c| c.mapped)
        .map(|c| format!("{} \"{}\" → {}", c.column, c.header, c.field.unwrap_or("-")))
        .collect();
    if !mapped.is_empty() {
        let columns = mapped.join(", ");
        writeln!(
            out,
            "{}",
            msg!(st.lang, "cli.report.columns_mapped", columns = columns)
        )?;
    }
    if !r.ignored_columns.is_empty() {
        let names: Vec<String> = r
            .ignored_columns
            .iter()
            .map(|c| format!("{} \"{}\"", c.column, c.header))
            .collect();
        let columns = names.join(", ");
        writeln!(
            out,
            "{}",
            msg!(st.lang, "cli.report.columns_ignored", columns = columns)
        )?;
    }
    Ok(())
}

/// The counts on one line, then the identity changes that the import would refuse.
fn counts(out: &mut dyn Write, r: &Report, st: Style) -> io::Result<()> {
    // One message for the whole line, each count choosing its own plural.
    let summary = msg!(
        st.lang,
        "cli.report.counts",
        rows = r.rows,
        valid = r.valid,
        invalid = r.invalid,
        create = r.create,
        update = r.update,
        unchanged = r.unchanged,
        errors = r.errors,
        warnings = r.warnings
    );
    writeln!(out, "{summary}")?;
    if r.identity_changes > 0 {
        let text = msg!(
            st.lang,
            "cli.report.identity_changes",
            n = r.identity_changes
        );
        writeln!(out, "{}", st.paint(&text, "31"))?;
    }
    Ok(())
}

/// The issues, under a heading for each row (or the file), up to [`MAX_PRINTED`].
fn issues(out: &mut dyn Write, r: &Report, st: Style) -> io::Result<()> {
    let mut last_row = None;
    for (n, i) in r.issues.iter().enumerate() {
        if n == MAX_PRINTED {
            let n = r.issues.len() - MAX_PRINTED + r.issues_not_listed as usize;
            writeln!(out, "{}", msg!(st.lang, "cli.report.more_issues", n = n))?;
            break;
        }
        if i.row != last_row {
            let heading = match i.row {
                Some(row) => msg!(st.lang, "cli.report.row", row = row),
                None => msg!(st.lang, "common.file"),
            };
            writeln!(out, "{}", st.paint(&heading, "1"))?;
            last_row = i.row;
        }
        let (tag, c) = match i.severity {
            Severity::Error => (msg!(st.lang, "cli.report.tag_error"), "31"),
            Severity::Warning => (msg!(st.lang, "cli.report.tag_warning"), "33"),
        };
        let place = match (&i.column, &i.header) {
            (Some(c), Some(h)) => format!("{c} {h}"),
            (Some(c), None) => c.clone(),
            _ => String::new(),
        };
        writeln!(
            out,
            "  {:<8} {:<28} {}  [{}]",
            st.paint(&tag, c),
            truncate(&place, 28),
            i.message,
            i.code
        )?;
    }
    Ok(())
}

/// What was done: imported, refused, nothing (errors), or only checked.
fn status(r: &Report, st: Style) -> String {
    if r.imported {
        let text = match r.import_id {
            Some(id) => msg!(st.lang, "cli.report.imported_id", id = id),
            None => msg!(st.lang, "cli.report.imported"),
        };
        st.paint(&text, "32")
    } else if let Some(refused) = &r.refused {
        st.paint(refused, "31")
    } else if r.errors > 0 {
        st.paint(&msg!(st.lang, "cli.report.nothing_imported"), "31")
    } else {
        st.paint(&msg!(st.lang, "cli.report.check_complete"), "32")
    }
}

fn truncate(s: &str, n: usize) -> String {
    if s.chars().count() <= n {
        s.to_string()
    } else {
        s.chars().take(n - 1).chain(std::iter::once('…')).collect()
    }
}
