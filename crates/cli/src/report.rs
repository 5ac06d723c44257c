//! The human rendering of an import report: counts first, then the issues grouped by row so
//! that the person fixing the spreadsheet can walk down it once.

use clientele_core::{Lang, Severity};
use clientele_import::Report;
use std::io::{self, Write};

/// Rows of issues printed before pointing at `--format json`.
const MAX_PRINTED: usize = 200;

fn paint(s: &str, code: &str, color: bool) -> String {
    if color {
        format!("\x1b[{code}m{s}\x1b[0m")
    } else {
        s.to_string()
    }
}

/// Write the report for a person.
pub fn human(out: &mut dyn Write, r: &Report, lang: Lang, color: bool) -> io::Result<()> {
    let fr = lang == Lang::Fr;
    let mut source = r.file.clone();
    if let Some(s) = &r.sheet {
        source.push_str(&if fr {
            format!(" (onglet {s})")
        } else {
            format!(" (sheet {s})")
        });
    }
    if let (Some(e), Some(d)) = (&r.encoding, &r.delimiter) {
        source.push_str(&if fr {
            format!(" (encodage {e}, séparateur {d})")
        } else {
            format!(" (encoding {e}, delimiter {d})")
        });
    }
    writeln!(out, "{}", paint(&source, "1", color))?;
    if !r.columns.is_empty() {
        writeln!(
            out,
            "{} {}",
            if fr {
                "Colonnes reconnues :"
            } else {
                "Columns recognised:"
            },
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
            if fr {
                "Colonnes associées par la correspondance :"
            } else {
                "Columns mapped:"
            },
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
            if fr {
                "Colonnes ignorées :"
            } else {
                "Columns ignored:"
            },
            names.join(", ")
        )?;
    }
    let labels = if fr {
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
        let n = r.identity_changes;
        let text = match (fr, n) {
            (true, 1) => "1 mise à jour ferait de son client une autre société".to_string(),
            (true, n) => format!("{n} mises à jour feraient de leur client une autre société"),
            (false, 1) => "1 update would make its customer another company".to_string(),
            (false, n) => format!("{n} updates would make their customers other companies"),
        };
        writeln!(out, "{}", paint(&text, "31", color))?;
    }

    let mut last_row = None;
    for (n, i) in r.issues.iter().enumerate() {
        if n == MAX_PRINTED {
            writeln!(
                out,
                "… {} {}",
                r.issues.len() - MAX_PRINTED + r.issues_not_listed as usize,
                if fr {
                    "autres problèmes : --format json les donne tous"
                } else {
                    "more issues: --format json lists them all"
                }
            )?;
            break;
        }
        if i.row != last_row {
            match i.row {
                Some(row) => writeln!(
                    out,
                    "{}",
                    paint(
                        &format!("{} {row}", if fr { "Ligne" } else { "Row" }),
                        "1",
                        color
                    )
                )?,
                None => writeln!(
                    out,
                    "{}",
                    paint(if fr { "Fichier" } else { "File" }, "1", color)
                )?,
            }
            last_row = i.row;
        }
        let (tag, c) = match i.severity {
            Severity::Error => (if fr { "erreur" } else { "error" }, "31"),
            Severity::Warning => (if fr { "avert." } else { "warning" }, "33"),
        };
        let place = match (&i.column, &i.header) {
            (Some(c), Some(h)) => format!("{c} {h}"),
            (Some(c), None) => c.clone(),
            _ => String::new(),
        };
        writeln!(
            out,
            "  {:<8} {:<28} {}  [{}]",
            paint(tag, c, color),
            truncate(&place, 28),
            i.message,
            i.code
        )?;
    }
    let status = if r.imported {
        let id = r.import_id.map(|i| format!(" #{i}")).unwrap_or_default();
        paint(
            &if fr {
                format!("Import{id} enregistré.")
            } else {
                format!("Imported (import{id}).")
            },
            "32",
            color,
        )
    } else if let Some(refused) = &r.refused {
        paint(refused, "31", color)
    } else if r.errors > 0 {
        paint(
            if fr {
                "Rien n'a été importé."
            } else {
                "Nothing was imported."
            },
            "31",
            color,
        )
    } else {
        paint(
            if fr {
                "Vérification terminée, rien n'a été écrit."
            } else {
                "Check complete; nothing was written."
            },
            "32",
            color,
        )
    };
    writeln!(out, "{status}")?;
    if let Some(f) = &r.rejected_file {
        writeln!(
            out,
            "{} {f}",
            if fr {
                "Lignes rejetées :"
            } else {
                "Rejected rows:"
            }
        )?;
    }
    Ok(())
}

fn truncate(s: &str, n: usize) -> String {
    if s.chars().count() <= n {
        s.to_string()
    } else {
        s.chars().take(n - 1).chain(std::iter::once('…')).collect()
    }
}
