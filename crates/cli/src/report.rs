//! The human rendering of an import report: counts first, then the issues grouped by row so
//! that the person fixing the spreadsheet can walk down it once.

use clientele_core::{Lang, Severity};
use clientele_import::Report;
use std::io::{self, Write};

/// Rows of issues printed before pointing at `--format json`.
const MAX_PRINTED: usize = 200;

/// How to write: in which language, and whether with terminal colours.
#[derive(Clone, Copy)]
struct Style {
    fr: bool,
    color: bool,
}

impl Style {
    /// `en` or `fr`, as the language asks.
    fn say<'a>(self, en: &'a str, fr: &'a str) -> &'a str {
        if self.fr {
            fr
        } else {
            en
        }
    }

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
    let st = Style {
        fr: lang == Lang::Fr,
        color,
    };
    writeln!(out, "{}", st.paint(&source(r, st), "1"))?;
    columns(out, r, st)?;
    counts(out, r, st)?;
    issues(out, r, st)?;
    writeln!(out, "{}", status(r, st))?;
    if let Some(f) = &r.rejected_file {
        writeln!(out, "{} {f}", st.say("Rejected rows:", "Lignes rejetées :"))?;
    }
    Ok(())
}

/// The file, with its sheet, or the encoding and delimiter a text file was read with.
fn source(r: &Report, st: Style) -> String {
    let mut source = r.file.clone();
    if let Some(s) = &r.sheet {
        source.push_str(&if st.fr {
            format!(" (onglet {s})")
        } else {
            format!(" (sheet {s})")
        });
    }
    if let (Some(e), Some(d)) = (&r.encoding, &r.delimiter) {
        source.push_str(&if st.fr {
            format!(" (encodage {e}, séparateur {d})")
        } else {
            format!(" (encoding {e}, delimiter {d})")
        });
    }
    source
}

/// How many columns were recognised, which the mapping named, which were ignored.
fn columns(out: &mut dyn Write, r: &Report, st: Style) -> io::Result<()> {
    if !r.columns.is_empty() {
        writeln!(
            out,
            "{} {}",
            st.say("Columns recognised:", "Colonnes reconnues :"),
            r.columns.len()
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
        writeln!(
            out,
            "{} {}",
            st.say(
                "Columns mapped:",
                "Colonnes associées par la correspondance :"
            ),
            mapped.join(", ")
        )?;
    }
    if !r.ignored_columns.is_empty() {
        let names: Vec<String> = r
            .ignored_columns
            .iter()
            .map(|c| format!("{} \"{}\"", c.column, c.header))
            .collect();
        writeln!(
            out,
            "{} {}",
            st.say("Columns ignored:", "Colonnes ignorées :"),
            names.join(", ")
        )?;
    }
    Ok(())
}

/// The counts on one line, then the identity changes that the import would refuse.
fn counts(out: &mut dyn Write, r: &Report, st: Style) -> io::Result<()> {
    let labels = if st.fr {
        [
            "lignes",
            "valides",
            "en erreur",
            "à créer",
            "à mettre à jour",
            "inchangées",
            "erreurs",
            "avertissements",
        ]
    } else {
        [
            "rows",
            "valid",
            "invalid",
            "create",
            "update",
            "unchanged",
            "errors",
            "warnings",
        ]
    };
    let values = [
        r.rows,
        r.valid,
        r.invalid,
        r.create,
        r.update,
        r.unchanged,
        r.errors,
        r.warnings,
    ];
    let summary: Vec<String> = labels
        .iter()
        .zip(values)
        .map(|(l, v)| format!("{v} {l}"))
        .collect();
    writeln!(out, "{}", summary.join(" · "))?;
    if r.identity_changes > 0 {
        let text = match (st.fr, r.identity_changes) {
            (true, 1) => "1 mise à jour ferait de son client une autre société".to_string(),
            (true, n) => format!("{n} mises à jour feraient de leur client une autre société"),
            (false, 1) => "1 update would make its customer another company".to_string(),
            (false, n) => format!("{n} updates would make their customers other companies"),
        };
        writeln!(out, "{}", st.paint(&text, "31"))?;
    }
    Ok(())
}

/// The issues, under a heading for each row (or the file), up to [`MAX_PRINTED`].
fn issues(out: &mut dyn Write, r: &Report, st: Style) -> io::Result<()> {
    let mut last_row = None;
    for (n, i) in r.issues.iter().enumerate() {
        if n == MAX_PRINTED {
            writeln!(
                out,
                "… {} {}",
                r.issues.len() - MAX_PRINTED + r.issues_not_listed as usize,
                st.say(
                    "more issues: --format json lists them all",
                    "autres problèmes : --format json les donne tous"
                )
            )?;
            break;
        }
        if i.row != last_row {
            let heading = match i.row {
                Some(row) => format!("{} {row}", st.say("Row", "Ligne")),
                None => st.say("File", "Fichier").to_string(),
            };
            writeln!(out, "{}", st.paint(&heading, "1"))?;
            last_row = i.row;
        }
        let (tag, c) = match i.severity {
            Severity::Error => (st.say("error", "erreur"), "31"),
            Severity::Warning => (st.say("warning", "avert."), "33"),
        };
        let place = match (&i.column, &i.header) {
            (Some(c), Some(h)) => format!("{c} {h}"),
            (Some(c), None) => c.clone(),
            _ => String::new(),
        };
        writeln!(
            out,
            "  {:<8} {:<28} {}  [{}]",
            st.paint(tag, c),
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
        let id = r.import_id.map(|i| format!(" #{i}")).unwrap_or_default();
        let text = if st.fr {
            format!("Import{id} enregistré.")
        } else {
            format!("Imported (import{id}).")
        };
        st.paint(&text, "32")
    } else if let Some(refused) = &r.refused {
        st.paint(refused, "31")
    } else if r.errors > 0 {
        st.paint(
            st.say("Nothing was imported.", "Rien n'a été importé."),
            "31",
        )
    } else {
        st.paint(
            st.say(
                "Check complete; nothing was written.",
                "Vérification terminée, rien n'a été écrit.",
            ),
            "32",
        )
    }
}

fn truncate(s: &str, n: usize) -> String {
    if s.chars().count() <= n {
        s.to_string()
    } else {
        s.chars().take(n - 1).chain(std::iter::once('…')).collect()
    }
}
