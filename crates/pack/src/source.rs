//! Where a pack's bytes come from (a path or an upload), what kind of file it is, and the
//! reader thread that hands rows over through a bounded channel.

use crate::error::PackError;
use crate::headers::unreadable;
use crate::limits;
use crate::rows::RawRow;
use clientele_core::issue::Lang;
use clientele_core::messages;
use clientele_core::msg;
use std::fs::File;
use std::io::{self, BufReader, Cursor, Read, Seek};
use std::path::PathBuf;
use std::sync::mpsc::{sync_channel, Receiver, SyncSender};
use std::sync::Arc;
use std::thread::JoinHandle;

/// Bytes shared between the caller and the reader thread without copying.
#[derive(Clone)]
pub(crate) struct Shared(pub(crate) Arc<Vec<u8>>);

impl AsRef<[u8]> for Shared {
    fn as_ref(&self) -> &[u8] {
        &self.0
    }
}

/// A seekable byte stream that can move to the reader thread.
pub(crate) trait ReadSeek: Read + Seek + Send {}
impl<T: Read + Seek + Send> ReadSeek for T {}

/// The bytes of a pack.
#[derive(Clone)]
pub(crate) enum Source {
    Path(PathBuf),
    Bytes(Shared),
}

impl Source {
    /// A fresh sequential reader from the start.
    pub(crate) fn reader(&self) -> io::Result<Box<dyn Read + Send>> {
        Ok(match self {
            Source::Path(p) => Box::new(File::open(p)?),
            Source::Bytes(b) => Box::new(Cursor::new(b.clone())),
        })
    }

    /// A fresh seekable reader (for the workbook readers).
    pub(crate) fn seekable(&self) -> io::Result<Box<dyn ReadSeek>> {
        Ok(match self {
            Source::Path(p) => Box::new(BufReader::new(File::open(p)?)),
            Source::Bytes(b) => Box::new(Cursor::new(b.clone())),
        })
    }

    /// Up to `n` bytes from the start.
    pub(crate) fn head(&self, n: usize) -> io::Result<Vec<u8>> {
        match self {
            Source::Path(p) => {
                let mut out = Vec::with_capacity(n.min(1 << 20));
                File::open(p)?.take(n as u64).read_to_end(&mut out)?;
                Ok(out)
            }
            Source::Bytes(b) => Ok(b.0[..n.min(b.0.len())].to_vec()),
        }
    }
}

/// What a file holds, judged by its content first and its extension second.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Format {
    Text,
    Xlsx,
    Xls,
    Ods,
}

const OLE_MAGIC: &[u8] = &[0xD0, 0xCF, 0x11, 0xE0, 0xA1, 0xB1, 0x1A, 0xE1];

/// Decide the format from the first bytes and the file name.
pub(crate) fn sniff(name: &str, head: &[u8], lang: Lang) -> Result<Format, PackError> {
    if head.is_empty() {
        return Err(PackError::Unusable(unreadable(
            lang,
            &msg!(lang, "pack.empty_file"),
        )));
    }
    let ext = name
        .rsplit_once('.')
        .map(|(_, e)| e.to_ascii_lowercase())
        .unwrap_or_default();
    let zip = head.starts_with(b"PK\x03\x04") || head.starts_with(b"PK\x05\x06");
    // An ODS zip stores its `mimetype` entry first and uncompressed, so its name is in clear.
    let ods = zip && contains(&head[..head.len().min(256)], b"opendocument.spreadsheet");
    let ole = head.starts_with(OLE_MAGIC);
    // Content wins over the extension: a `.xls` that is really an XLSX is common.
    if ods {
        return Ok(Format::Ods);
    }
    if zip {
        return Ok(Format::Xlsx);
    }
    if ole {
        return Ok(Format::Xls);
    }
    let binary = binary_kind(head);
    if let Some(Some(what)) = binary {
        return Err(limits::not_spreadsheet(lang, Some(what)));
    }
    match ext.as_str() {
        "xlsx" | "xlsm" | "xls" | "ods" | "xlsb" => {
            let id = match ext.as_str() {
                "ods" => "pack.not_ods",
                "xls" => "pack.not_xls",
                _ => "pack.not_excel",
            };
            Err(PackError::Unusable(unreadable(
                lang,
                &messages::text(lang, id),
            )))
        }
        _ if binary.is_some() => Err(limits::not_spreadsheet(lang, None)),
        _ => Ok(Format::Text),
    }
}

/// Well-known kinds of files that are not spreadsheets, by their first bytes: what they
/// are, as the id of a `pack.what.` message.
const MAGICS: &[(&[u8], &str)] = &[
    (b"\x89PNG", "pack.what.png"),
    (b"\xFF\xD8\xFF", "pack.what.jpeg"),
    (b"GIF8", "pack.what.gif"),
    (b"%PDF", "pack.what.pdf"),
    (b"{\\rtf", "pack.what.rtf"),
    (b"\x1F\x8B", "pack.what.gzip"),
    (b"Rar!", "pack.what.rar"),
    (b"7z\xBC\xAF", "pack.what.7z"),
];

/// A file that is plainly not text, once zip and OLE workbooks are ruled out: a known
/// magic number (`Some(Some(message id))`), or NUL bytes (text in UTF-16 carries a BOM,
/// which the reader requires). `Some(None)` when binary of an unknown kind.
fn binary_kind(head: &[u8]) -> Option<Option<&'static str>> {
    if let Some((_, what)) = MAGICS.iter().find(|(m, _)| head.starts_with(m)) {
        return Some(Some(what));
    }
    let utf16 = head.starts_with(b"\xFF\xFE") || head.starts_with(b"\xFE\xFF");
    if !utf16 && head.contains(&0) {
        return Some(None);
    }
    None
}

fn contains(hay: &[u8], needle: &[u8]) -> bool {
    hay.windows(needle.len()).any(|w| w == needle)
}

/// Rows travel in batches: one channel message per row would cost more than parsing it.
const BATCH_ROWS: usize = 256;
/// A batch is also cut by its number of cells, so very wide rows keep memory bounded.
const BATCH_CELLS: usize = 1 << 16;
/// A batch is also cut by its text: with rows of at most `MAX_ROW_BYTES`, at most 8 × (1 +
/// 4) MB of text are in flight however large the cells.
const BATCH_BYTES: usize = 1 << 20;
/// Batches waiting in the channel; with the limits above, at most ~500k cells in flight.
const CHANNEL_BATCHES: usize = 8;

type Batch = Result<Vec<RawRow>, PackError>;

/// The producer side: collects rows into batches and sends them.
pub(crate) struct Sink {
    tx: SyncSender<Batch>,
    batch: Vec<RawRow>,
    cells: usize,
    /// Text bytes of the batch.
    bytes: usize,
    /// Text bytes of the whole file so far.
    total: u64,
    /// The stream was ended by an error: nothing more goes out.
    dead: bool,
    lang: Lang,
}

impl Sink {
    /// Queue a row; wholly blank rows are skipped. Returns false once the consumer is gone,
    /// or when the row or the file passes its text budget (the stream then ends with
    /// `file.too_large`).
    pub(crate) fn push(&mut self, row: RawRow) -> bool {
        if self.dead {
            return false;
        }
        let mut blank = true;
        let mut bytes = 0;
        for c in &row.cells {
            blank &= c.is_blank();
            bytes += limits::cell_bytes(c);
        }
        if blank {
            return true;
        }
        if bytes > limits::MAX_ROW_BYTES {
            let e = limits::row_too_large(self.lang, row.number);
            self.end_with(e);
            return false;
        }
        self.total += bytes as u64;
        if self.total > limits::MAX_FILE_TEXT {
            let e = limits::file_too_large(self.lang);
            self.end_with(e);
            return false;
        }
        self.cells += row.cells.len();
        self.bytes += bytes;
        self.batch.push(row);
        if self.batch.len() >= BATCH_ROWS || self.cells >= BATCH_CELLS || self.bytes >= BATCH_BYTES
        {
            self.cells = 0;
            self.bytes = 0;
            let batch = std::mem::replace(&mut self.batch, Vec::with_capacity(BATCH_ROWS));
            return self.tx.send(Ok(batch)).is_ok();
        }
        true
    }

    /// Send what is queued, then the error that ends the stream.
    pub(crate) fn fail(mut self, e: PackError) {
        self.end_with(e);
    }

    fn end_with(&mut self, e: PackError) {
        if !self.dead && self.flush() {
            let _ = self.tx.send(Err(e));
        }
        self.dead = true;
    }

    fn flush(&mut self) -> bool {
        if self.dead || self.batch.is_empty() {
            return true;
        }
        let batch = std::mem::take(&mut self.batch);
        self.tx.send(Ok(batch)).is_ok()
    }
}

impl Drop for Sink {
    fn drop(&mut self) {
        // The end of the producer: whatever is queued still goes out.
        self.flush();
    }
}

/// Run `produce` on its own thread; its rows come out of the returned iterator in order.
pub(crate) fn spawn<F>(lang: Lang, produce: F) -> Result<RowStream, PackError>
where
    F: FnOnce(Sink) + Send + 'static,
{
    let (tx, rx) = sync_channel(CHANNEL_BATCHES);
    let sink = Sink {
        tx,
        batch: Vec::with_capacity(BATCH_ROWS),
        cells: 0,
        bytes: 0,
        total: 0,
        dead: false,
        lang,
    };
    let handle = std::thread::Builder::new()
        .name("clientele-pack-reader".into())
        .spawn(move || produce(sink))?;
    Ok(RowStream {
        pending: Vec::new().into_iter(),
        rx,
        handle: Some(handle),
        done: false,
        lang,
    })
}

/// The consumer side: rows in file order, then `None`, or one error and then `None`.
pub(crate) struct RowStream {
    pending: std::vec::IntoIter<RawRow>,
    rx: Receiver<Batch>,
    handle: Option<JoinHandle<()>>,
    done: bool,
    lang: Lang,
}

impl Iterator for RowStream {
    type Item = Result<RawRow, PackError>;

    fn next(&mut self) -> Option<Self::Item> {
        loop {
            if let Some(r) = self.pending.next() {
                return Some(Ok(r));
            }
            if self.done {
                return None;
            }
            match self.rx.recv() {
                Ok(Ok(batch)) => self.pending = batch.into_iter(),
                Ok(Err(e)) => {
                    self.done = true;
                    return Some(Err(e));
                }
                Err(_) => {
                    self.done = true;
                    // The producer hung up: normally the end of the file, but a panic in a
                    // parser must not pass for a short file.
                    let panicked = self.handle.take().is_some_and(|h| h.join().is_err());
                    if panicked {
                        return Some(Err(PackError::Unusable(unreadable(
                            self.lang,
                            &msg!(self.lang, "pack.reader_failed"),
                        ))));
                    }
                    return None;
                }
            }
        }
    }
}
