//! CSV and text files: encoding and delimiter detection, and a streaming row producer.

use crate::error::PackError;
use crate::headers::{unreadable, unreadable_io, Schema};
use crate::rows::RawRow;
use crate::source::{spawn, RowStream, Source};
use clientele_core::issue::Lang;
use clientele_core::Cell;
use encoding_rs::{CoderResult, Decoder, Encoding, UTF_16BE, UTF_16LE, WINDOWS_1252};
use std::io::{self, Read};

/// How much of the file the delimiter is guessed from.
const SAMPLE_BYTES: usize = 64 * 1024;

/// A text encoding the reader handles.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum TextEncoding {
    Utf8,
    Utf8Bom,
    Utf16Le,
    Utf16Be,
    Windows1252,
}

impl TextEncoding {
    /// Name shown in reports.
    pub(crate) fn label(self) -> &'static str {
        match self {
            TextEncoding::Utf8 => "UTF-8",
            TextEncoding::Utf8Bom => "UTF-8 (BOM)",
            TextEncoding::Utf16Le => "UTF-16LE",
            TextEncoding::Utf16Be => "UTF-16BE",
            TextEncoding::Windows1252 => "windows-1252",
        }
    }

    fn bom_len(self) -> usize {
        match self {
            TextEncoding::Utf8Bom => 3,
            TextEncoding::Utf16Le | TextEncoding::Utf16Be => 2,
            _ => 0,
        }
    }

    /// The decoder to UTF-8, or None when the bytes already are UTF-8.
    fn encoding(self) -> Option<&'static Encoding> {
        match self {
            TextEncoding::Utf8 | TextEncoding::Utf8Bom => None,
            TextEncoding::Utf16Le => Some(UTF_16LE),
            TextEncoding::Utf16Be => Some(UTF_16BE),
            TextEncoding::Windows1252 => Some(WINDOWS_1252),
        }
    }
}

/// BOM, else valid UTF-8 (the whole file), else Windows-1252.
pub(crate) fn detect_encoding(src: &Source, head: &[u8]) -> io::Result<TextEncoding> {
    if head.starts_with(b"\xEF\xBB\xBF") {
        return Ok(TextEncoding::Utf8Bom);
    }
    if head.starts_with(b"\xFF\xFE") {
        return Ok(TextEncoding::Utf16Le);
    }
    if head.starts_with(b"\xFE\xFF") {
        return Ok(TextEncoding::Utf16Be);
    }
    // One accented letter in Windows-1252 on row 90,000 makes the file invalid UTF-8, so the
    // whole file is checked (streamed: a few milliseconds per 100 MB).
    let valid = match src {
        Source::Bytes(b) => std::str::from_utf8(&b.0).is_ok(),
        Source::Path(_) => is_utf8(src.reader()?)?,
    };
    Ok(if valid {
        TextEncoding::Utf8
    } else {
        TextEncoding::Windows1252
    })
}

/// Whether a stream is valid UTF-8, without holding it in memory.
fn is_utf8(mut r: impl Read) -> io::Result<bool> {
    let mut buf = vec![0u8; 1 << 16];
    let mut carry = 0;
    loop {
        let n = match r.read(&mut buf[carry..]) {
            Ok(n) => n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(e),
        };
        if n == 0 {
            // A sequence cut by the end of the file is invalid.
            return Ok(carry == 0);
        }
        let len = carry + n;
        match std::str::from_utf8(&buf[..len]) {
            Ok(_) => carry = 0,
            Err(e) if e.error_len().is_some() => return Ok(false),
            Err(e) => {
                // An incomplete sequence at the end of the chunk: keep it for the next read.
                let valid = e.valid_up_to();
                buf.copy_within(valid..len, 0);
                carry = len - valid;
            }
        }
    }
}

/// The delimiter: `;` before `,` before tab, the first that splits a header row out of the
/// first rows; failing that, the first of them present on the first non-blank line.
pub(crate) fn detect_delimiter(sample: &str, schema: Schema) -> u8 {
    const CANDIDATES: [u8; 3] = [b';', b',', b'\t'];
    for d in CANDIDATES {
        let mut rdr = csv::ReaderBuilder::new()
            .delimiter(d)
            .has_headers(false)
            .flexible(true)
            .from_reader(sample.as_bytes());
        for rec in rdr.byte_records().take(20) {
            let Ok(rec) = rec else { break };
            let known = rec
                .iter()
                .filter(|h| schema.matches(&String::from_utf8_lossy(h)).is_some())
                .count();
            if known >= 2 {
                return d;
            }
        }
    }
    let first = sample.lines().find(|l| !l.trim().is_empty()).unwrap_or("");
    CANDIDATES
        .into_iter()
        .find(|d| first.as_bytes().contains(d))
        .unwrap_or(b';')
}

/// Encoding and delimiter used for a text file.
pub(crate) struct TextInfo {
    pub(crate) encoding: TextEncoding,
    pub(crate) delimiter: u8,
}

/// Detect the encoding and delimiter, and start streaming the rows.
pub(crate) fn open_text(
    src: Source,
    head: &[u8],
    schema: Schema,
    lang: Lang,
) -> Result<(TextInfo, RowStream), PackError> {
    let encoding = detect_encoding(&src, head).map_err(|e| unreadable_io(lang, &e))?;
    let body = &head[encoding.bom_len().min(head.len())..];
    let sample = match encoding.encoding() {
        None => String::from_utf8_lossy(&body[..body.len().min(SAMPLE_BYTES)]).into_owned(),
        Some(enc) => enc
            .decode_without_bom_handling(&body[..body.len().min(SAMPLE_BYTES)])
            .0
            .into_owned(),
    };
    let delimiter = detect_delimiter(&sample, schema);
    let stream = spawn(lang, move |mut sink| {
        let mut produce = || -> Result<(), PackError> {
            let mut raw = src.reader().map_err(|e| unreadable_io(lang, &e))?;
            io::copy(
                &mut (&mut raw).take(encoding.bom_len() as u64),
                &mut io::sink(),
            )
            .map_err(|e| unreadable_io(lang, &e))?;
            let input: Box<dyn Read + Send> = match encoding.encoding() {
                None => raw,
                Some(enc) => Box::new(DecodeReader::new(
                    raw,
                    enc.new_decoder_without_bom_handling(),
                )),
            };
            let mut rdr = csv::ReaderBuilder::new()
                .delimiter(delimiter)
                .has_headers(false)
                .flexible(true)
                .buffer_capacity(1 << 16)
                .from_reader(input);
            let mut rec = csv::ByteRecord::new();
            let mut number: u32 = 0;
            let mut next_line: u64 = 1;
            loop {
                match rdr.read_byte_record(&mut rec) {
                    Ok(false) => return Ok(()),
                    Ok(true) => {}
                    Err(e) => {
                        let mut issue = unreadable(lang, &e.to_string());
                        issue.row = Some(number.saturating_add(1));
                        return Err(PackError::Unusable(issue));
                    }
                }
                // The csv parser drops empty lines, which a spreadsheet shows as rows: count
                // them back from the lines consumed so row numbers match what the user sees.
                // A record's position is where parsing started, before the empty lines.
                let start = rec.position().map_or(next_line, csv::Position::line);
                next_line = rdr.position().line();
                let consumed = next_line.saturating_sub(start);
                let skipped = if consumed > 1 {
                    let inner = rec
                        .iter()
                        .map(|f| f.iter().filter(|&&b| b == b'\n').count() as u64)
                        .sum::<u64>();
                    u32::try_from(consumed - 1 - inner.min(consumed - 1)).unwrap_or(u32::MAX)
                } else {
                    0
                };
                number = number.saturating_add(1).saturating_add(skipped);
                let cells = rec
                    .iter()
                    .map(|f| {
                        if f.is_empty() {
                            Cell::Empty
                        } else {
                            // The input is valid UTF-8 (checked or decoded); the lossy path
                            // is only a guard, and a slower one.
                            match std::str::from_utf8(f) {
                                Ok(t) => crate::limits::text_cell(t),
                                Err(_) => crate::limits::text_cell(&String::from_utf8_lossy(f)),
                            }
                        }
                    })
                    .collect();
                if !sink.push(RawRow { number, cells }) {
                    return Ok(());
                }
            }
        };
        if let Err(e) = produce() {
            sink.fail(e);
        }
    })?;
    Ok((
        TextInfo {
            encoding,
            delimiter,
        },
        stream,
    ))
}

/// Decodes a byte stream to UTF-8 on the fly, so a Windows-1252 or UTF-16 file is never
/// held whole in memory.
struct DecodeReader<R> {
    inner: R,
    decoder: Decoder,
    input: Vec<u8>,
    in_start: usize,
    in_end: usize,
    output: Vec<u8>,
    out_start: usize,
    out_end: usize,
    eof: bool,
    finished: bool,
}

impl<R: Read> DecodeReader<R> {
    fn new(inner: R, decoder: Decoder) -> Self {
        DecodeReader {
            inner,
            decoder,
            input: vec![0; 1 << 15],
            in_start: 0,
            in_end: 0,
            // Windows-1252 grows up to 3×, UTF-16 up to 1.5×: room for a full input buffer.
            output: vec![0; 3 << 15],
            out_start: 0,
            out_end: 0,
            eof: false,
            finished: false,
        }
    }
}

impl<R: Read> Read for DecodeReader<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        loop {
            if self.out_start < self.out_end {
                let n = buf.len().min(self.out_end - self.out_start);
                buf[..n].copy_from_slice(&self.output[self.out_start..self.out_start + n]);
                self.out_start += n;
                return Ok(n);
            }
            if self.finished || buf.is_empty() {
                return Ok(0);
            }
            if self.in_start == self.in_end && !self.eof {
                let n = match self.inner.read(&mut self.input) {
                    Ok(n) => n,
                    Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                    Err(e) => return Err(e),
                };
                self.in_start = 0;
                self.in_end = n;
                self.eof = n == 0;
            }
            let (result, read, written, _) = self.decoder.decode_to_utf8(
                &self.input[self.in_start..self.in_end],
                &mut self.output,
                self.eof,
            );
            self.in_start += read;
            self.out_start = 0;
            self.out_end = written;
            // After the last call with `last = true` that consumed everything, the decoder
            // must not be called again.
            if self.eof && result == CoderResult::InputEmpty {
                self.finished = true;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decode_reader_windows_1252_in_small_reads() {
        let bytes: Vec<u8> = b"caf\xe9;na\xefve\n".repeat(10_000);
        // Reads of 7 bytes split characters between calls; the bytes must still add up.
        let mut r = DecodeReader::new(&bytes[..], WINDOWS_1252.new_decoder_without_bom_handling());
        let mut out = Vec::new();
        let mut chunk = [0u8; 7];
        while let Ok(n @ 1..) = r.read(&mut chunk) {
            out.extend_from_slice(&chunk[..n]);
        }
        assert_eq!(
            String::from_utf8(out).ok(),
            Some("café;naïve\n".repeat(10_000))
        );
        let mut r = DecodeReader::new(&bytes[..], WINDOWS_1252.new_decoder_without_bom_handling());
        let mut all = String::new();
        r.read_to_string(&mut all).expect("valid UTF-8 out");
        assert_eq!(all, "café;naïve\n".repeat(10_000));
    }

    #[test]
    fn utf8_check_across_chunks() {
        let mut s = "é".repeat(100_000).into_bytes();
        assert!(is_utf8(&s[..]).unwrap_or(false));
        s.push(0xC3);
        assert!(!is_utf8(&s[..]).unwrap_or(true));
        assert!(!is_utf8(&b"abc\xe9def"[..]).unwrap_or(true));
    }

    #[test]
    fn delimiters() {
        assert_eq!(
            detect_delimiter("Raison sociale;SIRET\nA;1\n", Schema::Clients),
            b';'
        );
        assert_eq!(
            detect_delimiter("Raison sociale,SIRET\nA,1\n", Schema::Clients),
            b','
        );
        assert_eq!(
            detect_delimiter(
                "Raison sociale\tCapital social, en €\tSIRET\n",
                Schema::Clients
            ),
            b'\t'
        );
        assert_eq!(
            detect_delimiter(
                "Liste, mars; avril\nRaison sociale,SIRET\n",
                Schema::Clients
            ),
            b','
        );
        assert_eq!(detect_delimiter("a,b\n", Schema::Clients), b',');
        assert_eq!(detect_delimiter("", Schema::Clients), b';');
    }
}
