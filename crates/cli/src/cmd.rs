//! The subcommands, thin over the crates.

use crate::report;
use crate::{Cli, Command, ExportFormat, Output};
use clientele_core::Lang;
use clientele_import::{RunError, RunOptions, Source};
use clientele_store::{Store, StoreError};
use indicatif::{ProgressBar, ProgressStyle};
use std::io::{IsTerminal, Write};
use std::path::Path;

/// Exit code: success.
pub const OK: u8 = 0;
/// Exit code: the input has errors.
pub const INPUT_ERRORS: u8 = 1;
/// Exit code: unusable input or usage error.
pub const UNUSABLE: u8 = 2;
/// Exit code: database or I/O failure.
pub const FAILURE: u8 = 3;

fn open_store(db: &str) -> Result<Box<dyn Store>, u8> {
    open_store_with(db, clientele_store::open)
}

fn open_store_with(
    db: &str,
    open: fn(&str) -> clientele_store::Result<Box<dyn Store>>,
) -> Result<Box<dyn Store>, u8> {
    open(db).map_err(|e| {
        eprintln!(
            "clientele: cannot open the database {}: {e}",
            clientele_store::redact(db)
        );
        FAILURE
    })
}

fn store_failure(e: &StoreError) -> u8 {
    eprintln!("clientele: {e}");
    match e {
        StoreError::NotFound | StoreError::Refused(_) | StoreError::Conflict(_) => UNUSABLE,
        StoreError::Db(_) | StoreError::Io(_) => FAILURE,
    }
}

/// Run the command; returns the exit code. Its writes (imports, undos, tokens) are recorded
/// as made by `cli:<OS user>` (`$USER`, else `$LOGNAME`; plain `cli` when neither is set).
pub fn run(cli: &Cli, lang: Lang) -> u8 {
    let user = std::env::var("USER")
        .or_else(|_| std::env::var("LOGNAME"))
        .ok()
        .filter(|u| !u.trim().is_empty());
    let actor = user.map_or_else(|| "cli".to_string(), |u| format!("cli:{}", u.trim()));
    clientele_store::audit::as_actor(&actor, || run_command(cli, lang))
}

fn run_command(cli: &Cli, lang: Lang) -> u8 {
    let result = match &cli.command {
        Command::Check {
            file,
            mapping,
            format,
        } => column_map(mapping).and_then(|mapping| {
            import(
                cli,
                lang,
                file,
                *format,
                RunOptions {
                    dry_run: true,
                    lang,
                    mapping,
                    ..RunOptions::default()
                },
            )
        }),
        Command::Import {
            file,
            skip_invalid,
            rejected,
            mapping,
            allow_identity_change,
            format,
        } => column_map(mapping).and_then(|mapping| {
            import(
                cli,
                lang,
                file,
                *format,
                RunOptions {
                    dry_run: false,
                    skip_invalid: *skip_invalid,
                    rejected: rejected.clone(),
                    lang,
                    mapping,
                    allow_identity_change: *allow_identity_change,
                },
            )
        }),
        Command::Imports { format } => imports(cli, *format),
        Command::Undo {
            import_id,
            force,
            format,
        } => undo(cli, *import_id, *force, *format),
        Command::Export { format, output } => export_format(*format, output.as_deref())
            .and_then(|f| export(cli, f, output.as_deref())),
        Command::Template { output } if !has_extension(output, &["xlsx"]) => {
            eprintln!(
                "clientele: the template is an Excel workbook: give a file name ending in .xlsx (not {})",
                output.display()
            );
            Err(UNUSABLE)
        }
        Command::Template { output } => clientele_pack::write_template(output)
            .map(|()| {
                eprintln!("Blank pack written to {}", output.display());
                OK
            })
            .map_err(|e| {
                eprintln!("clientele: cannot write {}: {e}", output.display());
                FAILURE
            }),
        Command::Codes => {
            print!("{}", clientele_core::issue::codes_markdown());
            Ok(OK)
        }
        Command::Settings {
            account_prefix,
            account_width,
        } => settings(cli, account_prefix.clone(), *account_width),
        Command::Serve { args } => crate::serve::serve(cli, lang, args),
        // Dispatched by main (operations commands).
        Command::Config { .. } | Command::Backup { .. } | Command::Restore { .. } => Ok(OK),
        Command::User { action } => crate::serve::user(cli, action),
        Command::Token { action } => crate::tokens::token(cli, action),
        Command::Lookup { number, format } => crate::serve::lookup(cli, number, *format),
    };
    result.unwrap_or_else(|code| code)
}

/// The column mapping of `--mapping FILE` then `--map` entries (a bad one is a usage error).
fn column_map(args: &crate::MapArgs) -> Result<clientele_pack::ColumnMap, u8> {
    let mut map = match &args.mapping {
        None => clientele_pack::ColumnMap::new(),
        Some(path) => {
            let text = std::fs::read_to_string(path).map_err(|e| {
                eprintln!("clientele: cannot read the mapping {}: {e}", path.display());
                UNUSABLE
            })?;
            clientele_pack::ColumnMap::parse(&text).map_err(|e| {
                eprintln!("clientele: {}: {e}", path.display());
                UNUSABLE
            })?
        }
    };
    for entry in &args.map {
        map.insert_entry(entry).map_err(|e| {
            eprintln!("clientele: --map {e}");
            UNUSABLE
        })?;
    }
    Ok(map)
}

fn import(cli: &Cli, lang: Lang, file: &Path, format: Output, opts: RunOptions) -> Result<u8, u8> {
    if !file.exists() {
        eprintln!("clientele: {}: no such file", file.display());
        return Err(UNUSABLE);
    }
    // `check` opens the same way: it writes nothing, and the file is left in WAL.
    let store = open_store_with(&cli.db, clientele_store::open_for_import)?;
    let bar = if std::io::stderr().is_terminal() {
        let b = ProgressBar::new_spinner();
        b.set_style(
            ProgressStyle::with_template("{spinner} {pos} rows  {per_sec}  {elapsed}")
                .unwrap_or_else(|_| ProgressStyle::default_spinner()),
        );
        Some(b)
    } else {
        None
    };
    let mut progress = |n: u64| {
        if let Some(b) = &bar {
            b.set_position(n);
        }
    };
    let result = clientele_import::run(store.as_ref(), Source::Path(file), &opts, &mut progress);
    if let Some(b) = bar {
        b.finish_and_clear();
    }
    match result {
        Ok(r) => {
            print_report(&r, format, lang);
            if r.errors > 0 {
                let fr = lang == Lang::Fr;
                let msg = match (r.imported, opts.dry_run, fr) {
                    (true, _, false) => {
                        format!("{} rows had errors and were not imported", r.invalid)
                    }
                    (true, _, true) => {
                        format!("{} lignes en erreur n'ont pas été importées", r.invalid)
                    }
                    (false, false, false) => {
                        format!("the file has {} errors; nothing was imported", r.errors)
                    }
                    (false, false, true) => {
                        format!("le fichier a {} erreurs ; rien n'a été importé", r.errors)
                    }
                    (false, true, false) => format!("the file has {} errors", r.errors),
                    (false, true, true) => format!("le fichier a {} erreurs", r.errors),
                };
                eprintln!("clientele: {msg}");
                Ok(INPUT_ERRORS)
            } else if let Some(refused) = &r.refused {
                let hint = if lang == Lang::Fr {
                    "relancez avec --allow-identity-change si c'est voulu"
                } else {
                    "run again with --allow-identity-change if this is meant"
                };
                eprintln!("clientele: {refused} ({hint})");
                Ok(INPUT_ERRORS)
            } else {
                Ok(OK)
            }
        }
        Err(RunError::Unusable(r)) => {
            print_report(&r, format, lang);
            eprintln!(
                "clientele: {}: {}",
                file.display(),
                r.issues
                    .first()
                    .map(|i| i.message.as_str())
                    .unwrap_or("unusable file")
            );
            Err(UNUSABLE)
        }
        Err(RunError::Store(e)) => Err(store_failure(&e)),
        Err(RunError::Io(e)) => {
            eprintln!("clientele: {e}");
            Err(FAILURE)
        }
    }
}

fn print_report(r: &clientele_import::Report, format: Output, lang: Lang) {
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
        eprintln!("clientele: cannot print the report: {e}");
    }
}

fn imports(cli: &Cli, format: Output) -> Result<u8, u8> {
    let store = open_store(&cli.db)?;
    let list = store.imports().map_err(|e| store_failure(&e))?;
    match format {
        Output::Json => println!(
            "{}",
            serde_json::to_string_pretty(&list).unwrap_or_default()
        ),
        Output::Human => {
            if list.is_empty() {
                println!("No imports yet.");
            }
            for i in &list {
                println!(
                    "#{:<4} {}  {}  created {} updated {} unchanged {} rejected {}{}",
                    i.id,
                    i.at,
                    i.file,
                    i.created,
                    i.updated,
                    i.unchanged,
                    i.rejected,
                    i.undone_at
                        .as_ref()
                        .map(|u| format!("  (undone {u})"))
                        .unwrap_or_default()
                );
            }
        }
    }
    Ok(OK)
}

fn undo(cli: &Cli, id: i64, force: bool, format: Output) -> Result<u8, u8> {
    let store = open_store(&cli.db)?;
    match store.undo_import(id, force) {
        Ok(rec) => {
            match format {
                Output::Json => {
                    println!("{}", serde_json::to_string_pretty(&rec).unwrap_or_default())
                }
                Output::Human => println!(
                    "Import #{id} ({}) undone: {} customers removed, {} restored.",
                    rec.file, rec.created, rec.updated
                ),
            }
            Ok(OK)
        }
        Err(StoreError::NotFound) => {
            eprintln!("clientele: no import #{id}");
            Err(UNUSABLE)
        }
        Err(e) => Err(store_failure(&e)),
    }
}

/// Whether `p`'s extension is one of `exts` (any case).
fn has_extension(p: &Path, exts: &[&str]) -> bool {
    p.extension()
        .and_then(|e| e.to_str())
        .is_some_and(|e| exts.iter().any(|x| e.eq_ignore_ascii_case(x)))
}

/// The export format: as asked, else from the output file's extension (CSV by default). A
/// format that contradicts the extension is refused: `clients.xlsx` holding CSV text is a
/// file Excel refuses to open.
fn export_format(asked: Option<ExportFormat>, output: Option<&Path>) -> Result<ExportFormat, u8> {
    let named = output.and_then(|p| {
        [
            (ExportFormat::Xlsx, &["xlsx"][..]),
            (ExportFormat::Csv, &["csv", "txt"][..]),
            (ExportFormat::Jsonl, &["jsonl", "ndjson"][..]),
        ]
        .into_iter()
        .find(|(_, exts)| has_extension(p, exts))
        .map(|(f, _)| f)
    });
    if let (None, Some(p)) = (asked, output) {
        if named.is_none() && has_extension(p, &["json", "xls", "ods"]) {
            // One object per line is no JSON document, and the workbooks are written as
            // .xlsx only: better refused than a file its name lies about.
            eprintln!(
                "clientele: cannot export to {}: use a .csv, .xlsx or .jsonl file name, or give --format",
                p.display()
            );
            return Err(UNUSABLE);
        }
    }
    match (asked, named) {
        (Some(a), Some(n)) if a != n => {
            eprintln!(
                "clientele: --format {} does not match the file name {} (a {} file)",
                format_name(a),
                output
                    .map(Path::display)
                    .map(|d| d.to_string())
                    .unwrap_or_default(),
                format_name(n)
            );
            Err(UNUSABLE)
        }
        (Some(a), _) => Ok(a),
        (None, n) => Ok(n.unwrap_or(ExportFormat::Csv)),
    }
}

/// The `--format` value of a format, as clap spells it.
fn format_name(f: ExportFormat) -> String {
    clap::ValueEnum::to_possible_value(&f)
        .map(|v| v.get_name().to_string())
        .unwrap_or_default()
}

fn export(cli: &Cli, format: ExportFormat, output: Option<&Path>) -> Result<u8, u8> {
    let store = open_store(&cli.db)?;
    let to_stdout = output.is_none_or(|p| p == Path::new("-"));
    let fail = |e: String| {
        // `clientele export | head` closes the pipe early: that is not a failure.
        if e.contains("Broken pipe") || e.contains("os error 32") {
            return OK;
        }
        eprintln!("clientele: export failed: {e}");
        FAILURE
    };
    match format {
        ExportFormat::Xlsx => {
            let mut x = clientele_pack::XlsxExporter::new();
            store
                .for_each_customer(&mut |c| x.write(c).map_err(std::io::Error::other))
                .map_err(|e| fail(e.to_string()))?;
            if to_stdout {
                let bytes = x.save_to_buffer().map_err(|e| fail(e.to_string()))?;
                std::io::stdout()
                    .lock()
                    .write_all(&bytes)
                    .map_err(|e| fail(e.to_string()))?;
            } else if let Some(p) = output {
                x.save(p).map_err(|e| fail(e.to_string()))?;
            }
        }
        ExportFormat::Csv | ExportFormat::Jsonl => {
            let sink: Box<dyn Write> = match output {
                Some(p) if !to_stdout => Box::new(
                    std::fs::File::create(p).map_err(|e| fail(format!("{}: {e}", p.display())))?,
                ),
                _ => Box::new(std::io::stdout().lock()),
            };
            let mut sink = std::io::BufWriter::new(sink);
            if format == ExportFormat::Csv {
                let mut w =
                    clientele_pack::CsvExporter::new(sink).map_err(|e| fail(e.to_string()))?;
                store
                    .for_each_customer(&mut |c| w.write(c).map_err(std::io::Error::other))
                    .map_err(|e| fail(e.to_string()))?;
                let mut inner = w.finish().map_err(|e| fail(e.to_string()))?;
                inner.flush().map_err(|e| fail(e.to_string()))?;
            } else {
                store
                    .for_each_customer(&mut |c| writeln!(sink, "{}", c.to_api_json()))
                    .map_err(|e| fail(e.to_string()))?;
                sink.flush().map_err(|e| fail(e.to_string()))?;
            }
        }
    }
    Ok(OK)
}

fn settings(cli: &Cli, prefix: Option<String>, width: Option<usize>) -> Result<u8, u8> {
    let store = open_store(&cli.db)?;
    let mut s = store.settings().map_err(|e| store_failure(&e))?;
    if prefix.is_some() || width.is_some() {
        if let Some(p) = prefix {
            if p.is_empty()
                || p.len() > 16
                || p.chars().any(|c| c.is_ascii_digit() || c.is_whitespace())
            {
                eprintln!("clientele: the account prefix must be 1 to 16 characters, without digits or spaces");
                return Err(UNUSABLE);
            }
            s.account_prefix = p;
        }
        if let Some(w) = width {
            if !(1..=12).contains(&w) {
                eprintln!("clientele: the account width must be between 1 and 12");
                return Err(UNUSABLE);
            }
            s.account_width = w;
        }
        store.set_settings(&s).map_err(|e| store_failure(&e))?;
    }
    let next = store.next_account().map_err(|e| store_failure(&e))?;
    println!(
        "account prefix: {}\naccount width: {}\nnext generated account: {next}",
        s.account_prefix, s.account_width,
    );
    Ok(OK)
}
