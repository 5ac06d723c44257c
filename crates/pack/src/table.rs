//! Plain tables for people (a heading row, then rows of text and numbers), as CSV the way
//! French Excel opens it or as XLSX: the lists made from a check, such as every change of
//! its updates. The same safety as the exports: CSV text that would start a formula is
//! escaped, XLSX text is always written as a string.

use crate::error::PackError;
use crate::write::{csv_safe, header_format, truncate_for_xlsx, width_for, UTF8_BOM};
use clientele_core::catalogue::Field;
use rust_xlsxwriter::{Workbook, Worksheet};
use std::io::{self, Write};

/// A cell of a table.
#[derive(Debug, Clone, Copy)]
pub enum TableCell<'a> {
    /// A number (a row number): a number in XLSX.
    Number(u64),
    /// Text, the value of `field` if any (a `+33…` phone number is not escaped in CSV).
    Text(Option<Field>, &'a str),
}

/// A table written as CSV: UTF-8 with BOM, `;`, CRLF, as the exports.
pub struct CsvTable<W: Write> {
    w: csv::Writer<W>,
}

impl<W: Write> CsvTable<W> {
    /// Start the table: the BOM and the heading row.
    pub fn new(mut w: W, headings: &[&str]) -> Result<Self, PackError> {
        w.write_all(UTF8_BOM)?;
        let mut w = csv::WriterBuilder::new()
            .delimiter(b';')
            .terminator(csv::Terminator::CRLF)
            .from_writer(w);
        w.write_record(headings).map_err(io::Error::from)?;
        Ok(CsvTable { w })
    }

    /// Write one row.
    pub fn write(&mut self, cells: &[TableCell<'_>]) -> Result<(), PackError> {
        let record: Vec<std::borrow::Cow<'_, str>> = cells
            .iter()
            .map(|c| match *c {
                TableCell::Number(n) => n.to_string().into(),
                TableCell::Text(field, s) => csv_safe(field, s),
            })
            .collect();
        self.w
            .write_record(record.iter().map(|s| s.as_bytes()))
            .map_err(io::Error::from)?;
        Ok(())
    }

    /// Flush and give the writer back.
    pub fn finish(self) -> Result<W, PackError> {
        self.w
            .into_inner()
            .map_err(|e| PackError::Io(e.into_error()))
    }
}

/// Rows of one XLSX sheet at most (Excel's limit, the heading row included).
const XLSX_MAX_ROWS: u32 = 1_048_576;

/// A table written as an XLSX workbook; rows stream to temporary files when possible. A
/// table longer than a sheet goes on in further sheets (`Name 2`, `Name 3`…), each with
/// the heading row.
pub struct XlsxTable {
    wb: Workbook,
    name: String,
    headings: Vec<String>,
    sheets: usize,
    row: u32,
}

impl XlsxTable {
    /// Start the table on a sheet named `name`.
    pub fn new(name: &str, headings: &[&str]) -> Result<Self, PackError> {
        let mut t = XlsxTable {
            wb: Workbook::new(),
            name: name.to_string(),
            headings: headings.iter().map(|h| h.to_string()).collect(),
            sheets: 0,
            row: 0,
        };
        t.add_sheet()?;
        Ok(t)
    }

    fn add_sheet(&mut self) -> Result<(), PackError> {
        // Constant memory needs a writable temporary directory; without one, the sheet is
        // kept in memory instead of failing.
        if self.wb.add_worksheet_with_constant_memory().is_err() {
            self.wb.add_worksheet();
        }
        let ws = self.wb.worksheet_from_index(self.sheets)?;
        self.sheets += 1;
        let name = if self.sheets == 1 {
            self.name.clone()
        } else {
            format!("{} {}", self.name, self.sheets)
        };
        ws.set_name(name)?;
        let bold = header_format();
        for (i, h) in self.headings.iter().enumerate() {
            let col = u16::try_from(i).map_err(|_| io::Error::other("too many columns"))?;
            ws.set_column_width(col, width_for(h))?;
            ws.write_string_with_format(0, col, h, &bold)?;
        }
        ws.set_freeze_panes(1, 0)?;
        self.row = 1;
        Ok(())
    }

    fn sheet(&mut self) -> Result<&mut Worksheet, PackError> {
        Ok(self.wb.worksheet_from_index(self.sheets - 1)?)
    }

    /// Write one row.
    pub fn write(&mut self, cells: &[TableCell<'_>]) -> Result<(), PackError> {
        if self.row >= XLSX_MAX_ROWS {
            self.add_sheet()?;
        }
        let row = self.row;
        let ws = self.sheet()?;
        for (i, c) in cells.iter().enumerate() {
            let col = u16::try_from(i).map_err(|_| io::Error::other("too many columns"))?;
            match *c {
                TableCell::Number(n) => {
                    ws.write_number(row, col, n as f64)?;
                }
                TableCell::Text(_, "") => {}
                TableCell::Text(_, s) => {
                    ws.write_string(row, col, truncate_for_xlsx(s))?;
                }
            }
        }
        self.row += 1;
        Ok(())
    }

    /// The workbook as bytes.
    pub fn save_to_buffer(mut self) -> Result<Vec<u8>, PackError> {
        Ok(self.wb.save_to_buffer()?)
    }

    /// Write the workbook to a file.
    pub fn save(mut self, path: &std::path::Path) -> Result<(), PackError> {
        self.wb.save(path)?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn csv_rows_are_formula_safe() {
        let mut t = CsvTable::new(Vec::new(), &["Ligne", "Valeur"]).expect("table");
        t.write(&[TableCell::Number(7), TableCell::Text(None, "=HYPERLINK(1)")])
            .expect("row");
        t.write(&[
            TableCell::Number(8),
            TableCell::Text(Some(Field::phone), "+33123456789"),
        ])
        .expect("row");
        let bytes = t.finish().expect("finish");
        let text = String::from_utf8(bytes).expect("utf-8");
        assert_eq!(
            text,
            "\u{feff}Ligne;Valeur\r\n7;'=HYPERLINK(1)\r\n8;+33123456789\r\n"
        );
    }
}
