//! `clientele export`: every customer in the pack format, as CSV, XLSX or JSON lines, to a
//! file or to standard output.

use crate::args::{Cli, ExportFormat};
use crate::db;
use crate::error::{is_broken_pipe, CliError, CliResult};
use crate::files::has_extension;
use clientele_store::Store;
use std::error::Error;
use std::io::{BufWriter, Write};
use std::path::Path;

/// `clientele export [--format F] [-o FILE]`.
pub fn run(cli: &Cli, asked: Option<ExportFormat>, output: Option<&Path>) -> CliResult {
    let format = format_for(asked, output)?;
    let store = db::open(&cli.db)?;
    match write(store.as_ref(), format, output) {
        // `clientele export | head` closes the pipe early: that is not a failure. The
        // closed pipe is found by the error's causes, whatever wraps it on the way up.
        Err(e) if is_broken_pipe(&e) => Ok(()),
        written => written,
    }
}

/// The export format: as asked, else from the output file's extension (CSV by default). A
/// format that contradicts the extension is refused: `clients.xlsx` holding CSV text is a
/// file Excel refuses to open.
fn format_for(asked: Option<ExportFormat>, output: Option<&Path>) -> CliResult<ExportFormat> {
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
            return Err(CliError::unusable(format!(
                "cannot export to {}: use a .csv, .xlsx or .jsonl file name, or give --format",
                p.display()
            )));
        }
    }
    match (asked, named) {
        (Some(a), Some(n)) if a != n => Err(CliError::unusable(format!(
            "--format {} does not match the file name {} (a {} file)",
            format_name(a),
            output
                .map(Path::display)
                .map(|d| d.to_string())
                .unwrap_or_default(),
            format_name(n)
        ))),
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

/// Write the export to `output` (`-` or none: standard output).
fn write(store: &dyn Store, format: ExportFormat, output: Option<&Path>) -> CliResult {
    let file = output.filter(|p| *p != Path::new("-"));
    let sink: Box<dyn Write> = match (format, file) {
        (ExportFormat::Xlsx, _) => return write_xlsx(store, file),
        (_, Some(p)) => Box::new(std::fs::File::create(p).map_err(|e| {
            CliError::failure(format!("export failed: {}: {e}", p.display())).because(e)
        })?),
        (_, None) => Box::new(std::io::stdout().lock()),
    };
    let sink = BufWriter::new(sink);
    if format == ExportFormat::Csv {
        write_csv(store, sink)
    } else {
        write_jsonl(store, sink)
    }
}

/// An export step that failed: said as such, its cause kept (a closed pipe is found there).
fn failed<E: Error + Send + Sync + 'static>(e: E) -> CliError {
    CliError::failure(format!("export failed: {e}")).because(e)
}

/// The workbook is built whole (rows stream to a temporary file) and then saved to `file`,
/// or written to standard output when there is none.
fn write_xlsx(store: &dyn Store, file: Option<&Path>) -> CliResult {
    let mut x = clientele_pack::XlsxExporter::new();
    store
        .for_each_customer(&mut |c| x.write(c).map_err(std::io::Error::other))
        .map_err(failed)?;
    match file {
        Some(p) => x.save(p).map_err(failed),
        None => {
            let bytes = x.save_to_buffer().map_err(failed)?;
            std::io::stdout().lock().write_all(&bytes).map_err(failed)
        }
    }
}

/// The pack's CSV, as French Excel opens it (the exporter writes the BOM and the headings).
fn write_csv(store: &dyn Store, sink: impl Write) -> CliResult {
    let mut w = clientele_pack::CsvExporter::new(sink).map_err(failed)?;
    store
        .for_each_customer(&mut |c| w.write(c).map_err(std::io::Error::other))
        .map_err(failed)?;
    // The csv writer's buffer, then ours: a failure of either is the export's.
    let mut inner = w.finish().map_err(failed)?;
    inner.flush().map_err(failed)
}

/// One API customer object per line.
fn write_jsonl(store: &dyn Store, mut sink: impl Write) -> CliResult {
    store
        .for_each_customer(&mut |c| writeln!(sink, "{}", c.to_api_json()))
        .map_err(failed)?;
    sink.flush().map_err(failed)
}
