//! Where a pack's bytes come from (a path or an upload), what kind of file it is, and the
//! reader thread that hands rows over through a bounded channel.

use crate::headers::unreadable;
use crate::read::RawRow;
use crate::PackError;
use clientele_core::issue::Lang;
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
            "the file is empty",
            "le fichier est vide",
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
    match ext.as_str() {
        "xlsx" | "xlsm" | "xls" | "ods" | "xlsb" => {
            let (en, fr) = match ext.as_str() {
                "ods" => (
                    "it is not an OpenDocument spreadsheet (damaged or renamed file?)",
                    "ce n'est pas un classeur OpenDocument (fichier abîmé ou renommé ?)",
                ),
                "xls" => (
                    "it is not an Excel 97-2003 workbook (damaged or renamed file?)",
                    "ce n'est pas un classeur Excel 97-2003 (fichier abîmé ou renommé ?)",
                ),
                _ => (
                    "it is not an Excel workbook (damaged or renamed file?)",
                    "ce n'est pas un classeur Excel (fichier abîmé ou renommé ?)",
                ),
            };
            Err(PackError::Unusable(unreadable(lang, en, fr)))
        }
        _ => Ok(Format::Text),
    }
}

fn contains(hay: &[u8], needle: &[u8]) -> bool {
    hay.windows(needle.len()).any(|w| w == needle)
}

/// Rows travel in batches: one channel message per row would cost more than parsing it.
const BATCH_ROWS: usize = 256;
/// A batch is also cut by its number of cells, so very wide rows keep memory bounded.
const BATCH_CELLS: usize = 1 << 16;
/// Batches waiting in the channel; with the two limits above, at most ~500k cells in flight.
const CHANNEL_BATCHES: usize = 8;

type Batch = Result<Vec<RawRow>, PackError>;

/// The producer side: collects rows into batches and sends them.
pub(crate) struct Sink {
    tx: SyncSender<Batch>,
    batch: Vec<RawRow>,
    cells: usize,
}

impl Sink {
    /// Queue a row; wholly blank rows are skipped. Returns false once the consumer is gone.
    pub(crate) fn push(&mut self, row: RawRow) -> bool {
        if row.cells.iter().all(clientele_core::Cell::is_blank) {
            return true;
        }
        self.cells += row.cells.len();
        self.batch.push(row);
        if self.batch.len() >= BATCH_ROWS || self.cells >= BATCH_CELLS {
            self.cells = 0;
            let batch = std::mem::replace(&mut self.batch, Vec::with_capacity(BATCH_ROWS));
            return self.tx.send(Ok(batch)).is_ok();
        }
        true
    }

    /// Send what is queued, then the error that ends the stream.
    pub(crate) fn fail(mut self, e: PackError) {
        if self.flush() {
            let _ = self.tx.send(Err(e));
        }
    }

    fn flush(&mut self) -> bool {
        if self.batch.is_empty() {
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
                            "the reader failed on malformed content",
                            "la lecture a échoué sur un contenu mal formé",
                        ))));
                    }
                    return None;
                }
            }
        }
    }
}
