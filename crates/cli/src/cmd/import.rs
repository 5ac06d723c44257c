//! `clientele check` and `clientele import`: read a pack, validate it against the database,
//! write it (import only), and print the report.

use crate::args::{Cli, MapArgs, Output};
use crate::error::{CliError, CliResult, PREFIX};
use crate::{db, report};
use clientele_core::{msg, Lang};
use clientele_import::{changes, Report, RunError, RunOptions, Source};
use clientele_pack::ColumnMap;
use indicatif::{ProgressBar, ProgressStyle};
use std::io::{IsTerminal, Write};
use std::path::Path;

/// The column mapping of `--mapping FILE` then `--map` entries (a bad one is a usage error).
pub fn column_map(args: &MapArgs) -> CliResult<ColumnMap> {
    let mut map = match &args.mapping {
        None => ColumnMap::new(),
        Some(path) => {
            let text = std::fs::read_to_string(path).map_err(|e| {
                CliError::unusable(format!("cannot read the mapping {}: {e}", path.display()))
                    .because(e)
            })?;
            ColumnMap::parse(&text)
                .map_err(|e| CliError::unusable(format!("{}: {e}", path.display())))?
        }
    };
    for entry in &args.map {
        map.insert_entry(entry)
            .map_err(|e| CliError::unusable(format!("--map {e}")))?;
    }
    Ok(map)
}

/// Check (`opts.dry_run`) or import `file`, print the report in `format`; rows with
/// errors, or an identity change refused, are the input's errors (exit 1). With `changes`,
/// every change of every update is written there too (`--changes`).
pub fn run(
    cli: &Cli,
    lang: Lang,
    file: &Path,
    format: Output,
    mut opts: RunOptions,
    changes: Option<&Path>,
) -> CliResult {
    if !file.exists() {
        return Err(CliError::unusable(format!(
            "{}: no such file",
            file.display()
        )));
    }
    let list = changes
        .map(|out| ChangesFile::open(file, out))
        .transpose()?;
    opts.changes = list.as_ref().map(|l| l.raw.clone());
    // `check` opens the same way: it writes nothing, and the file is left in WAL.
    let store = db::open_for_import(&cli.db)?;
    let result = with_progress(|progress| {
        clientele_import::run(store.as_ref(), Source::Path(file), &opts, progress)
    });
    match result {
        Ok(r) => {
            print_report(&r, format, lang);
            if let Some(l) = list {
                l.write(lang)?;
            }
            outcome(&r, opts.dry_run, lang)
        }
        Err(RunError::Unusable(r)) => {
            print_report(&r, format, lang);
            let why = r
                .issues
                .first()
                .map(|i| i.message.as_str())
                .unwrap_or("unusable file");
            Err(CliError::unusable(format!("{}: {why}", file.display())))
        }
        Err(RunError::Store(e)) => Err(e.into()),
        Err(RunError::Io(e)) => Err(CliError::failure(e)),
    }
}

/// Run `work` with a row counter on a terminal's standard error (none when it is a file or
/// a pipe: a log full of spinner frames helps nobody).
fn with_progress<T>(work: impl FnOnce(&mut dyn FnMut(u64)) -> T) -> T {
    let bar = std::io::stderr().is_terminal().then(|| {
        let b = ProgressBar::new_spinner();
        b.set_style(
            ProgressStyle::with_template("{spinner} {pos} rows  {per_sec}  {elapsed}")
                .unwrap_or_else(|_| ProgressStyle::default_spinner()),
        );
        b
    });
    let mut progress = |n: u64| {
        if let Some(b) = &bar {
            b.set_position(n);
        }
    };
    let result = work(&mut progress);
    if let Some(b) = bar {
        b.finish_and_clear();
    }
    result
}

/// The exit status of a file that was read: its errors (or a refused identity change) are
/// the input's, said once more on standard error after the report.
fn outcome(r: &Report, dry_run: bool, lang: Lang) -> CliResult {
    if r.errors > 0 {
        let msg = if r.imported {
            msg!(lang, "cli.import.rows_not_imported", n = r.invalid)
        } else if dry_run {
            msg!(lang, "cli.import.errors", n = r.errors)
        } else {
            msg!(lang, "cli.import.errors_nothing_imported", n = r.errors)
        };
        Err(CliError::input(msg))
    } else if let Some(refused) = &r.refused {
        let hint = msg!(lang, "cli.import.identity_change_hint");
        Err(CliError::input(format!("{refused} ({hint})")))
    } else {
        Ok(())
    }
}

/// Print the report on standard output. A report that cannot be printed is said, but the
/// import it describes happened all the same: its exit code stays the import's.
fn print_report(r: &Report, format: Output, lang: Lang) {
    // Buffered: stdout flushes at every line, and a report can have a hundred thousand.
    let mut out = std::io::BufWriter::with_capacity(1 << 16, std::io::stdout().lock());
    let res = match format {
        Output::Json => serde_json::to_writer_pretty(&mut out, r)
            .map_err(std::io::Error::other)
            .and_then(|()| writeln!(out)),
        Output::Human => report::human(
            &mut out,
            r,
            lang,
            std::io::stdout().is_terminal() && std::env::var_os("NO_COLOR").is_none(),
        ),
    }
    .and_then(|()| out.flush());
    if let Err(e) = res {
        eprintln!("{PREFIX}cannot print the report: {e}");
    }
}

/// The file of `--changes`: the run writes its raw list into a temporary folder, turned
/// into the requested CSV or XLSX (for a spreadsheet, in the language of the messages) once
/// the run is over.
struct ChangesFile {
    out: std::path::PathBuf,
    out_file: std::fs::File,
    raw: std::path::PathBuf,
    _dir: tempfile::TempDir,
}

impl ChangesFile {
    /// Refuse the pack itself, and open the file now: an unwritable path is said before a
    /// long import rather than after it.
    fn open(pack: &Path, out: &Path) -> CliResult<ChangesFile> {
        if let (Ok(a), Ok(b)) = (pack.canonicalize(), out.canonicalize()) {
            if a == b {
                return Err(CliError::unusable(format!(
                    "--changes {} is the pack itself: choose another file",
                    out.display()
                )));
            }
        }
        let cannot = |e: std::io::Error| {
            CliError::failure(format!(
                "cannot write the changes to {}: {e}",
                out.display()
            ))
        };
        let out_file = std::fs::File::create(out).map_err(cannot)?;
        let dir = tempfile::tempdir().map_err(cannot)?;
        Ok(ChangesFile {
            out: out.to_path_buf(),
            out_file,
            raw: dir.path().join("changes.csv"),
            _dir: dir,
        })
    }

    /// Convert the raw list into the requested file.
    fn write(self, lang: Lang) -> CliResult {
        let cannot = |e: String| {
            CliError::failure(format!(
                "cannot write the changes to {}: {e}",
                self.out.display()
            ))
        };
        let raw = std::fs::File::open(&self.raw).map_err(|e| cannot(e.to_string()))?;
        let raw = std::io::BufReader::new(raw);
        let xlsx = self
            .out
            .extension()
            .is_some_and(|e| e.eq_ignore_ascii_case("xlsx"));
        if xlsx {
            let table = changes::to_xlsx(raw, lang).map_err(|e| cannot(e.to_string()))?;
            table.save(&self.out).map_err(|e| cannot(e.to_string()))?;
        } else {
            let out = std::io::BufWriter::new(&self.out_file);
            changes::to_csv(raw, lang, out)
                .map_err(|e| cannot(e.to_string()))?
                .flush()
                .map_err(|e| cannot(e.to_string()))?;
        }
        Ok(())
    }
}
