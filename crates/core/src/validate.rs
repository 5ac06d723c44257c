//! Turning raw cells (from a file or a request) into a validated [`Record`] and its issues.
//!
//! Two stages: [`parse_cells`] checks each cell on its own; [`check_row`] then runs the rules
//! that look at several fields (SIREN in the VAT number, French postal codes, VAT warnings),
//! against the merged view of the customer (the stored one for an update).

use crate::catalogue::{fold, Field, Kind, FIELDS, N_FIELDS};
use crate::ident::{self, phone::Phone, vat::VatError};
use crate::issue::{FieldIssue, Problem};
use crate::lists::{self, Place};
use crate::model::{default_value, Customer, Record, Str, Value, Values};

/// A raw cell as read from a spreadsheet, a CSV file or a JSON request.
#[derive(Debug, Clone, PartialEq)]
pub enum Cell {
    /// Blank.
    Empty,
    /// Text.
    Text(Str),
    /// A number cell.
    Float(f64),
    /// An integer cell.
    Int(i64),
    /// A boolean cell.
    Bool(bool),
    /// A spreadsheet error value (`#N/A`…).
    Error(Str),
}

/// Longest cell accepted; longer is an error on that cell.
pub const MAX_CELL_CHARS: usize = 10_000;

impl Cell {
    /// The cell as the user sees it (for reports).
    pub fn display(&self) -> String {
        match self {
            Cell::Empty => String::new(),
            Cell::Text(s) => s.to_string(),
            Cell::Float(f) => float_text(*f),
            Cell::Int(i) => i.to_string(),
            Cell::Bool(b) => if *b { "TRUE" } else { "FALSE" }.to_string(),
            Cell::Error(e) => e.to_string(),
        }
    }
    /// Whether the cell is blank (empty or only spaces).
    pub fn is_blank(&self) -> bool {
        match self {
            Cell::Empty => true,
            Cell::Text(s) => s.trim().is_empty(),
            _ => false,
        }
    }
}

/// A number as a spreadsheet would show it in a text column: `83210.0` → `83210`.
pub fn float_text(f: f64) -> String {
    if f.fract() == 0.0 && f.abs() < 1e15 {
        format!("{}", f as i64)
    } else {
        format!("{f}")
    }
}

/// Trim, and remove the one apostrophe our export puts before a formula-like character.
fn clean_text(s: &str) -> &str {
    let t = s.trim_matches(|c: char| c.is_whitespace());
    match t.strip_prefix('\'') {
        Some(rest) if rest.starts_with(['=', '+', '-', '@', '\t', '\r']) => rest,
        _ => t,
    }
}

/// What makes a cell's text unusable, if anything: a control character (line break, tab,
/// C1 control…), or U+FFFD, what decoding leaves of bytes that are not valid in the file's
/// encoding (a Windows-1252 byte in a file that declares UTF-8 with its BOM, a cut UTF-16
/// file: storing it would lose the character for good). Most cells are ASCII: a byte scan
/// then answers without decoding characters.
fn bad_characters(t: &str) -> Option<&'static str> {
    if t.is_ascii() {
        return t.bytes().any(|b| b < 0x20 || b == 0x7f).then_some(CONTROL);
    }
    t.chars().find_map(|c| match c {
        '\u{FFFD}' => {
            Some(" (unreadable character �: the file is not saved in the encoding it declares)")
        }
        c if c.is_control() => Some(CONTROL),
        _ => None,
    })
}

const CONTROL: &str = " (line break or control character)";

/// Raw cells of one row, by field (`None` = the source has no such column).
pub type Cells = [Option<Cell>; N_FIELDS];

/// Check every present cell on its own. Returns the record (present fields set, blanks at
/// their default) and the issues found. The cells are consumed: a text cell that is its
/// own value (most of them) becomes the value without a copy.
pub fn parse_cells(cells: Cells) -> (Record, Vec<FieldIssue>) {
    let mut rec = Record::empty();
    let issues = parse_cells_into(cells, &mut rec.present, (&mut rec.values, &mut rec.e164));
    (rec, issues)
}

/// [`parse_cells`] straight into a customer's values (the import parses every row into
/// the fresh customer it creates: no record in between, nothing moved twice): `present`
/// marks the fields the cells carry; their values are overwritten (a cell with an error
/// leaves `None`), the others are left as they were.
pub fn parse_cells_into(
    mut cells: Cells,
    present: &mut [bool; N_FIELDS],
    (values, e164): (&mut Values, &mut [Option<String>; 3]),
) -> Vec<FieldIssue> {
    let mut issues = Vec::new();
    for d in FIELDS {
        let Some(cell) = &cells[d.id.idx()] else {
            continue;
        };
        present[d.id.idx()] = true;
        if let Some(i) = Field::PHONES.iter().position(|p| *p == d.id) {
            // Set again below for a full number; a blank, short or bad one has none.
            e164[i] = None;
        }
        let value = &mut values[d.id.idx()];
        match parse_cell(d.id, d.kind, cell, &mut issues) {
            Parsed::Value(v) => *value = Some(v),
            Parsed::Keep => {
                *value = match cells[d.id.idx()].take() {
                    Some(Cell::Text(t)) => Some(Value::Text(t)),
                    _ => None,
                };
            }
            Parsed::Phone(raw, number) => {
                let i = Field::PHONES.iter().position(|p| *p == d.id).unwrap_or(0);
                e164[i] = number;
                *value = Some(Value::Text(raw.into()));
            }
            Parsed::Blank => *value = default_value(d.id),
            Parsed::Bad => *value = None,
        }
    }
    issues
}

enum Parsed {
    Value(Value),
    /// The value is the text cell itself, unchanged.
    Keep,
    Phone(String, Option<String>),
    Blank,
    Bad,
}

/// Parse one cell of field `f`: first what every cell must pass (no spreadsheet error, not
/// too long, no control characters), then the rules of the field's kind.
fn parse_cell(f: Field, kind: Kind, cell: &Cell, issues: &mut Vec<FieldIssue>) -> Parsed {
    // Borrow text cells: copying every cell of a million-row file shows in the profile.
    let raw: std::borrow::Cow<'_, str> = match cell {
        Cell::Text(s) => std::borrow::Cow::Borrowed(s),
        other => std::borrow::Cow::Owned(other.display()),
    };
    let raw = raw.as_ref();
    let text = clean_text(raw);
    let mut p = CellParse {
        f,
        cell,
        raw,
        text,
        // The cleaned text is the whole text cell: its string can become the value.
        whole: matches!(cell, Cell::Text(_)) && text.len() == raw.len(),
        issues,
    };
    if let Cell::Error(_) = cell {
        return p.bad(Problem::Invalid, " (spreadsheet error value)");
    }
    // Bytes bound characters from above: count characters only for long cells.
    if raw.len() > MAX_CELL_CHARS && raw.chars().count() > MAX_CELL_CHARS {
        return p.bad(
            Problem::TooLong,
            &format!("more than {MAX_CELL_CHARS} characters"),
        );
    }
    if cell.is_blank() {
        return Parsed::Blank;
    }
    if let Some(why) = bad_characters(text) {
        return p.bad(Problem::Invalid, why);
    }
    match kind {
        Kind::Account => p.at_most(32),
        Kind::Text(max) => p.at_most(max),
        Kind::LegalForm => p.legal_form(),
        Kind::Siret => p.siret(),
        Kind::Vat => p.vat(),
        Kind::Capital => p.capital(),
        Kind::Naf => match ident::naf::normalise(text) {
            Some(v) => Parsed::Value(Value::Text(v.into())),
            None => p.bad(Problem::Invalid, " (expected a NAF code such as 62.01Z)"),
        },
        Kind::Int(min, max) => p.int(min, max),
        // The leading zero a spreadsheet drops is put back by `pad_postal_code`, and the
        // French check happens in `check_row`: both once the country is known.
        Kind::PostalCode => p.own(),
        Kind::Country => p.country(),
        Kind::Url => match parse_url(text) {
            Some(u) if u == text => p.own(),
            Some(u) => Parsed::Value(Value::Text(u.into())),
            None => p.bad(
                Problem::Invalid,
                " (expected a web address such as https://www.example.fr)",
            ),
        },
        Kind::Email if is_email(text) => p.own(),
        Kind::Email => p.bad(
            Problem::Invalid,
            " (expected an e-mail address such as contact@example.fr)",
        ),
        Kind::Phone => p.phone(),
        Kind::Bool => match parse_bool(cell, text) {
            Some(b) => Parsed::Value(Value::Bool(b)),
            None => p.bad(Problem::Invalid, " (expected 1 or 0, oui or non)"),
        },
        Kind::Language => match fold(text).as_str() {
            "fr" | "francais" | "french" | "fra" => Parsed::Value(Value::Text("fr".into())),
            "en" | "anglais" | "english" | "eng" => Parsed::Value(Value::Text("en".into())),
            _ => p.bad(Problem::Invalid, " (expected fr or en)"),
        },
    }
}

/// A cell being parsed by the rules of its kind: its text as read (`raw`, what issues
/// quote) and cleaned (`text`, what the rules read), and where its issues go.
struct CellParse<'a> {
    f: Field,
    cell: &'a Cell,
    raw: &'a str,
    text: &'a str,
    whole: bool,
    issues: &'a mut Vec<FieldIssue>,
}

impl CellParse<'_> {
    /// An error issue on the cell: the cell gives no value.
    fn bad(&mut self, p: Problem, detail: &str) -> Parsed {
        self.issues
            .push(FieldIssue::new(self.f, p, self.raw, detail));
        Parsed::Bad
    }

    /// The cleaned text as the value: the cell's own string when nothing was cleaned.
    fn own(&self) -> Parsed {
        if self.whole {
            Parsed::Keep
        } else {
            Parsed::Value(Value::Text(Str::from(self.text)))
        }
    }

    /// Text of at most `max` characters (bytes bound characters from above: characters
    /// are counted only for long text).
    fn at_most(&mut self, max: usize) -> Parsed {
        if self.text.len() > max && self.text.chars().count() > max {
            return self.bad(Problem::TooLong, &format!("{max} characters at most"));
        }
        self.own()
    }

    fn legal_form(&mut self) -> Parsed {
        match ident::legal_form::normalise(self.text) {
            Some(n) if n == self.text => self.own(),
            Some(n) => Parsed::Value(Value::Text(Str::from(n))),
            None if self.text.chars().count() <= 64 => self.own(),
            None => self.bad(Problem::TooLong, "64 characters at most"),
        }
    }

    fn siret(&mut self) -> Parsed {
        match parse_siret(self.cell, self.text) {
            Ok(v) if v == self.text => self.own(),
            Ok(v) => Parsed::Value(Value::Text(v.into())),
            Err((p, d)) => self.bad(p, &d),
        }
    }

    fn vat(&mut self) -> Parsed {
        match ident::vat::validate(self.text) {
            Ok(v) if v.number == self.text => self.own(),
            Ok(v) => Parsed::Value(Value::Text(v.number.into())),
            Err(VatError::Country) => self.bad(Problem::Country, ""),
            Err(VatError::Invalid) => {
                self.bad(Problem::Invalid, " (wrong format for that country)")
            }
            Err(VatError::Checksum) => self.bad(Problem::Checksum, ""),
        }
    }

    /// An amount; one written so that its separators could be read two ways (a text cell
    /// only: a number cell is unambiguous) is kept with a warning.
    fn capital(&mut self) -> Parsed {
        match parse_capital(self.cell, self.text) {
            Some(v) => {
                if is_ambiguous_amount(self.text) && matches!(self.cell, Cell::Text(_)) {
                    let issue = FieldIssue::new(self.f, Problem::Ambiguous, self.raw, v.clone());
                    self.issues.push(issue);
                }
                Parsed::Value(Value::Text(v.into()))
            }
            None => self.bad(
                Problem::Invalid,
                " (expected an amount ≥ 0, e.g. 10 000 or 10000,50)",
            ),
        }
    }

    fn int(&mut self, min: i64, max: i64) -> Parsed {
        match parse_int(self.cell, self.text) {
            Some(i) if i >= min && i <= max => Parsed::Value(Value::Int(i)),
            // BlueRockTEL's own default (its PHP SDK sends `resellerLevel: 0` on every
            // create): no level, stored as none, without a warning (pack-clients.md).
            Some(0) if self.f == Field::resellerLevel => Parsed::Blank,
            _ if max == i64::MAX => self.bad(
                Problem::Invalid,
                &format!(" (expected a whole number ≥ {min})"),
            ),
            _ => self.bad(
                Problem::Invalid,
                &format!(" (expected a whole number from {min} to {max})"),
            ),
        }
    }

    /// A country: any way of naming France is stored as `France`.
    fn country(&mut self) -> Parsed {
        if is_france(self.text) {
            Parsed::Value(Value::Text("France".into()))
        } else if self.text.chars().count() <= 64 {
            self.own()
        } else {
            self.bad(Problem::TooLong, "64 characters at most")
        }
    }

    fn phone(&mut self) -> Parsed {
        // A numeric cell drops the leading 0 of a French national number.
        let text = match self.cell {
            Cell::Float(_) | Cell::Int(_) if self.text.len() == 9 => format!("0{}", self.text),
            _ => self.text.to_string(),
        };
        match ident::phone::normalise(&text) {
            Ok(Phone::E164(e)) => Parsed::Phone(text, Some(e)),
            Ok(Phone::Short(s)) => {
                let issue = FieldIssue::new(self.f, Problem::Short, self.raw, "");
                self.issues.push(issue);
                Parsed::Phone(s, None)
            }
            Err(_) => self.bad(Problem::Invalid, " (not a phone number)"),
        }
    }
}

/// Whether a country cell names France.
pub fn is_france(s: &str) -> bool {
    matches!(
        fold(s).as_str(),
        "" | "france" | "fr" | "fra" | "republiquefrancaise"
    )
}

/// Parse a boolean cell.
pub fn parse_bool(cell: &Cell, text: &str) -> Option<bool> {
    match cell {
        Cell::Bool(b) => Some(*b),
        Cell::Float(f) if *f == 1.0 => Some(true),
        Cell::Float(f) if *f == 0.0 => Some(false),
        Cell::Int(1) => Some(true),
        Cell::Int(0) => Some(false),
        _ => {
            // Compare without allocating: booleans are most of a pack's cells.
            let is = |words: &[&str]| words.iter().any(|w| text.eq_ignore_ascii_case(w));
            if is(&["1", "1.0", "1,0", "oui", "o", "vrai", "true", "yes", "y"]) {
                Some(true)
            } else if is(&["0", "0.0", "0,0", "non", "n", "faux", "false", "no"]) {
                Some(false)
            } else {
                None
            }
        }
    }
}

fn parse_int(cell: &Cell, text: &str) -> Option<i64> {
    match cell {
        Cell::Int(i) => Some(*i),
        Cell::Float(f) if f.fract() == 0.0 && f.abs() < 9e15 => Some(*f as i64),
        Cell::Float(_) | Cell::Bool(_) => None,
        _ => {
            let t = text.trim();
            t.parse::<i64>().ok().or_else(|| {
                // "2.0" written by a spreadsheet export is still 2; "2.5" is not a whole number.
                let f: f64 = t.replace(',', ".").parse().ok()?;
                (f.fract() == 0.0 && f.abs() < 9e15).then_some(f as i64)
            })
        }
    }
}

fn parse_capital(cell: &Cell, text: &str) -> Option<String> {
    if let Cell::Float(f) = cell {
        return (*f >= 0.0 && f.is_finite())
            .then(|| float_text(*f))
            .and_then(|t| canonical_amount(&t));
    }
    if let Cell::Int(i) = cell {
        return (*i >= 0).then(|| i.to_string());
    }
    if !text.is_empty() && text.bytes().all(|b| b.is_ascii_digit()) && !text.starts_with('0') {
        // Plain digits (most amounts) come out of the rules below unchanged.
        return Some(text.to_string());
    }
    let mut t: String = text
        .chars()
        .filter(|c| !matches!(c, ' ' | '\u{a0}' | '\u{202f}' | '€' | '\''))
        .collect();
    for suffix in ["EUR", "eur", "euros", "Euros"] {
        if let Some(s) = t.strip_suffix(suffix) {
            t = s.to_string();
        }
    }
    // "10.000,50": the last separator is the decimal one, the others group thousands.
    if t.contains(',') && t.contains('.') {
        let last = t.rfind([',', '.'])?;
        let (int, frac) = t.split_at(last);
        t = format!("{}.{}", int.replace([',', '.'], ""), &frac[1..]);
    } else {
        t = t.replace(',', ".");
        if t.matches('.').count() > 1 {
            t = t.replace('.', "");
        }
    }
    if t.ends_with('.') {
        return None;
    }
    canonical_amount(&t)
}

/// "10,000" or "10.000": one separator followed by exactly 3 digits may separate thousands
/// (English or French habit) as well as decimals; read as decimals, and said so.
fn is_ambiguous_amount(text: &str) -> bool {
    let t = text.trim_end_matches([' ', '€']).trim();
    let Some(i) = t.find([',', '.']) else {
        return false;
    };
    let (int, frac) = (&t[..i], &t[i + 1..]);
    (1..=3).contains(&int.len())
        && int.bytes().all(|b| b.is_ascii_digit())
        && frac.len() == 3
        && frac.bytes().all(|b| b.is_ascii_digit())
}

/// The one text of an amount written `int[.frac]` (None unless digits): no leading zeros,
/// cents when there is a fraction, no fraction when it is zero. "10000,5" typed back by
/// Excel, a numeric cell 10000.5 and "10000.500" are all the stored "10000.50", so a pack
/// that went through a spreadsheet re-imports unchanged.
fn canonical_amount(t: &str) -> Option<String> {
    let (int, frac) = t.split_once('.').unwrap_or((t, ""));
    if int.is_empty()
        || !int.bytes().all(|b| b.is_ascii_digit())
        || !frac.bytes().all(|b| b.is_ascii_digit())
    {
        return None;
    }
    let int = match int.trim_start_matches('0') {
        "" => "0",
        i => i,
    };
    let frac = frac.trim_end_matches('0');
    Some(match frac.len() {
        0 => int.to_string(),
        1 => format!("{int}.{frac}0"),
        _ => format!("{int}.{frac}"),
    })
}

fn parse_siret(cell: &Cell, text: &str) -> Result<String, (Problem, String)> {
    match cell {
        // 14 digits fit exactly in a double: rebuild the number with its leading zeros.
        Cell::Float(f) if f.fract() == 0.0 && *f >= 0.0 && *f < 1e14 => {
            let n = *f as u64;
            return Ok(if n < 1_000_000_000 {
                format!("{n:09}")
            } else {
                format!("{n:014}")
            });
        }
        Cell::Int(n) if *n >= 0 && *n < 100_000_000_000_000 => {
            return Ok(if *n < 1_000_000_000 {
                format!("{n:09}")
            } else {
                format!("{n:014}")
            });
        }
        _ => {}
    }
    let t = text.trim();
    let lower = t.to_ascii_lowercase();
    if lower.contains('e')
        && lower
            .replace(['e', '+', '-', '.', ','], "")
            .bytes()
            .all(|b| b.is_ascii_digit())
    {
        // Every digit still there (2.9141777263178E+13: 14 digits, exponent 13) gives
        // the number back; fewer digits than the number has were lost.
        let (mantissa, exponent) = lower.split_once('e').unwrap_or((&lower, ""));
        let digits: String = mantissa.chars().filter(char::is_ascii_digit).collect();
        let whole = exponent
            .trim_start_matches('+')
            .parse::<usize>()
            .is_ok_and(|e| e + 1 == digits.len() && !mantissa.starts_with(['0', '-']));
        if whole && matches!(digits.len(), 9 | 14) {
            return Ok(digits);
        }
        if whole && matches!(digits.len(), 8 | 13) {
            // A SIREN or SIRET starting with 0, lost like in a numeric cell.
            return Ok(format!("0{digits}"));
        }
        return Err((Problem::Scientific, String::new()));
    }
    let c = ident::compact(t);
    if c.is_empty() {
        // Separators only ("-", "..."): no digit at all, not an empty SIRET to store (found
        // by fuzzing: "" was stored and read back as no value).
        return Err((Problem::Length, "0".into()));
    }
    if c.bytes().all(|b| b.is_ascii_digit()) {
        return Ok(c);
    }
    // Letters: a foreign registration number, judged in `check_row` once the country is known.
    Ok(t.to_string())
}

fn parse_url(t: &str) -> Option<std::borrow::Cow<'_, str>> {
    use std::borrow::Cow;
    if t.contains(char::is_whitespace) {
        return None;
    }
    // Compared in place, case-blind: a lower-cased copy of every address showed in the
    // import's profile, and most addresses are already as they will be stored.
    let has_scheme = |s: &str| t.get(..s.len()).is_some_and(|p| p.eq_ignore_ascii_case(s));
    let url: Cow<'_, str> = if has_scheme("http://") || has_scheme("https://") {
        let (scheme, rest) = t.split_once("://")?;
        if scheme.bytes().any(|b| b.is_ascii_uppercase()) {
            Cow::Owned(format!("{}://{rest}", scheme.to_ascii_lowercase()))
        } else {
            Cow::Borrowed(t)
        }
    } else if t.contains("://") {
        return None;
    } else {
        Cow::Owned(format!("https://{t}"))
    };
    let host = url.split_once("://")?.1.split(['/', '?', '#']).next()?;
    let host = host.rsplit_once('@').map_or(host, |(_, h)| h);
    let host_no_port = host.split(':').next()?;
    let valid = host_no_port.contains('.')
        && !host_no_port.starts_with('.')
        && !host_no_port.ends_with('.')
        && host_no_port
            .chars()
            .all(|c| c.is_alphanumeric() || c == '.' || c == '-');
    valid.then_some(url)
}

/// Whether a text is an e-mail address: one `@`, a domain with a dot, no spaces.
pub fn is_email(t: &str) -> bool {
    let Some((local, domain)) = t.split_once('@') else {
        return false;
    };
    !local.is_empty()
        && !domain.contains('@')
        && domain.contains('.')
        && !domain.starts_with('.')
        && !domain.ends_with('.')
        && !t.contains(char::is_whitespace)
}

/// The SIREN inside an already validated, compact French VAT number (None for Monaco's
/// `FRkk000…` numbers and other countries).
pub fn fr_siren_of_valid(vat: &str) -> Option<&str> {
    let siren = vat.strip_prefix("FR")?.get(2..11)?;
    (!siren.starts_with("000")).then_some(siren)
}

/// [`is_french`] of a customer.
pub fn is_french_customer(c: &Customer) -> bool {
    is_french(
        c.text(Field::mainAddressCountry),
        c.text(Field::taxRegistrationNumber),
    )
}

/// Whether a customer is French: country blank or France, and VAT number (if any) `FR…`.
pub fn is_french(country: Option<&str>, vat: Option<&str>) -> bool {
    country.is_none_or(is_france) && vat.is_none_or(|v| v.starts_with("FR"))
}

/// A numeric cell (or a CSV saved by a spreadsheet) drops the leading zero of the French
/// postal codes 01000–09999: a French customer's 4-digit code gets it back, with a
/// warning. A foreign postal code is free text ("1000" in Brussels stays "1000"), so this
/// runs on the customer as it will be stored (`merged`, its country known), before
/// [`check_row`].
pub fn pad_postal_code(
    present: &[bool; N_FIELDS],
    merged: &mut Customer,
    issues: &mut Vec<FieldIssue>,
) {
    if let Some(pc) = short_french_postal_code(present, merged) {
        let padded = format!("0{pc}");
        issues.push(FieldIssue::new(
            Field::postalCode,
            Problem::Padded,
            pc,
            padded.clone(),
        ));
        merged.values[Field::postalCode.idx()] = Some(Value::Text(padded.into()));
    }
}

/// A postal code typed in a form is never rewritten: 4 digits for a French customer is an
/// error that proposes the padded code (`7501` for a Paris address is not `07501`, in
/// Ardèche). [`pad_postal_code`] is for spreadsheets, whose numeric cells lose the zero.
pub fn refuse_short_postal_code(
    present: &[bool; N_FIELDS],
    merged: &Customer,
    issues: &mut Vec<FieldIssue>,
) {
    if let Some(pc) = short_french_postal_code(present, merged) {
        let padded = format!("0{pc}");
        issues.push(FieldIssue::new(
            Field::postalCode,
            Problem::FourDigits,
            pc,
            padded,
        ));
    }
}

/// The given postal code of a French customer when it has 4 digits.
fn short_french_postal_code(present: &[bool; N_FIELDS], merged: &Customer) -> Option<String> {
    if !present[Field::postalCode.idx()]
        || !is_french(
            merged.text(Field::mainAddressCountry),
            merged.text(Field::taxRegistrationNumber),
        )
    {
        return None;
    }
    merged
        .text(Field::postalCode)
        .filter(|pc| pc.len() == 4 && pc.bytes().all(|b| b.is_ascii_digit()))
        .map(str::to_string)
}

/// The warnings of the official lists on a stored customer (postal code, city, activity
/// code), for its page: a customer saved despite them, or before the lists were checked.
pub fn list_issues(c: &Customer) -> Vec<FieldIssue> {
    let mut carried = [false; N_FIELDS];
    for f in [
        Field::postalCode,
        Field::mainAddressCity,
        Field::activityCode,
    ] {
        carried[f.idx()] = true;
    }
    let mut issues = Vec::new();
    check_row(&carried, c, None, &mut issues);
    issues.retain(|i| {
        matches!(
            i.problem,
            Problem::UnknownPostal
                | Problem::PostalMismatch
                | Problem::Spelling
                | Problem::FormerCommune
                | Problem::UnknownNaf
        )
    });
    issues
}

/// A French postal code (well-formed) and city against the official lists.
fn check_place(pc: &str, city: &str, issues: &mut Vec<FieldIssue>) {
    let paren = |s: String| {
        if s.is_empty() {
            s
        } else {
            format!(" ({s})")
        }
    };
    match lists::check_place(pc, city) {
        Place::Ok => {}
        Place::UnknownCode { city_codes } => issues.push(FieldIssue::new(
            Field::postalCode,
            Problem::UnknownPostal,
            pc,
            paren(city_codes),
        )),
        Place::Spelling { official } => issues.push(FieldIssue::new(
            Field::mainAddressCity,
            Problem::Spelling,
            city,
            official,
        )),
        Place::Former { now } => issues.push(FieldIssue::new(
            Field::mainAddressCity,
            Problem::FormerCommune,
            city,
            now,
        )),
        Place::Mismatch { suggestion } => issues.push(FieldIssue::new(
            Field::mainAddressCity,
            Problem::PostalMismatch,
            city,
            paren(suggestion),
        )),
    }
}

/// Cross-field rules, on the customer as it will be stored (`merged`), reporting on the
/// fields the source carried (`carried`), and on the postal code and SIRET when the source
/// makes a stored customer French or foreign (`was_french`: what it was; they are judged
/// by it: a customer that becomes French must have French ones). Rules that concern one
/// field only were run by [`parse_cells`]; fields that failed there are absent from
/// `merged` and skipped here.
pub fn check_row(
    carried: &[bool; N_FIELDS],
    merged: &Customer,
    was_french: Option<bool>,
    issues: &mut Vec<FieldIssue>,
) {
    let vat = merged.text(Field::taxRegistrationNumber);
    let french = is_french(merged.text(Field::mainAddressCountry), vat);
    let rules = RowRules {
        carried,
        merged,
        vat,
        french,
        // `was_french`: whether the stored customer was (None for a new one).
        nationality: was_french.is_some_and(|w| w != french),
    };
    rules.name(issues);
    rules.siret(issues);
    rules.vat_siren(issues);
    rules.postal_code(issues);
    rules.official_lists(issues);
    rules.accounts_reference(issues);
    rules.reseller(issues);
    rules.vat_flags(issues);
}

/// What the cross-field rules of [`check_row`] read: the customer as it will be stored,
/// which fields to report on, and whether it is French.
struct RowRules<'a> {
    carried: &'a [bool; N_FIELDS],
    merged: &'a Customer,
    /// The VAT number as it will be stored.
    vat: Option<&'a str>,
    french: bool,
    /// The source changes a stored customer's nationality: its postal code and SIRET are
    /// judged again as if the source carried them.
    nationality: bool,
}

impl RowRules<'_> {
    /// Whether the rules report on field `f`.
    fn present(&self, f: Field) -> bool {
        self.carried[f.idx()]
            || (self.nationality && matches!(f, Field::postalCode | Field::registrationNumber))
    }

    /// The name is required (unless its cell already failed: one error is enough).
    fn name(&self, issues: &mut Vec<FieldIssue>) {
        let failed = issues
            .iter()
            .any(|i| i.field == Field::name && i.severity() == crate::issue::Severity::Error);
        if self.present(Field::name) && self.merged.text(Field::name).is_none() && !failed {
            issues.push(FieldIssue::new(Field::name, Problem::Required, "", ""));
        }
    }

    /// SIRET: French rules for French customers; anything else is a foreign number.
    fn siret(&self, issues: &mut Vec<FieldIssue>) {
        let Some(reg) = self.merged.text(Field::registrationNumber) else {
            return;
        };
        if !(self.present(Field::registrationNumber) && self.french) {
            return;
        }
        let digits = reg.bytes().all(|b| b.is_ascii_digit());
        let p = if !digits {
            Some((
                Problem::Invalid,
                " (a SIRET has 14 digits; letters are only for a foreign customer)".to_string(),
            ))
        } else {
            match reg.len() {
                14 if !ident::siret::is_valid(reg) => Some((Problem::Checksum, String::new())),
                14 => None,
                9 if !ident::siren::is_valid(reg) => Some((Problem::Checksum, String::new())),
                9 => Some((Problem::SirenOnly, String::new())),
                n => Some((Problem::Length, n.to_string())),
            }
        };
        if let Some((p, d)) = p {
            issues.push(FieldIssue::new(Field::registrationNumber, p, reg, d));
        }
    }

    /// VAT: the SIREN inside a French number is the SIRET's. Stored and parsed VAT numbers
    /// are already validated and compact, so their parts are read without checking again.
    fn vat_siren(&self, issues: &mut Vec<FieldIssue>) {
        let Some(v) = self.vat else {
            return;
        };
        if !(self.present(Field::taxRegistrationNumber) || self.present(Field::registrationNumber))
        {
            return;
        }
        if let (Some(siren), Some(reg)) = (
            fr_siren_of_valid(v),
            self.merged.text(Field::registrationNumber),
        ) {
            if reg.len() >= 9 && reg.bytes().all(|b| b.is_ascii_digit()) && &reg[..9] != siren {
                issues.push(FieldIssue::new(
                    Field::taxRegistrationNumber,
                    Problem::SirenMismatch,
                    v,
                    format!("{} ≠ {}", siren, &reg[..9]),
                ));
            }
        }
    }

    /// A French postal code has 5 digits; a foreign one is only bounded in length.
    fn postal_code(&self, issues: &mut Vec<FieldIssue>) {
        if !self.present(Field::postalCode) {
            return;
        }
        let Some(pc) = self.merged.text(Field::postalCode) else {
            return;
        };
        if self.french && !ident::postal::is_valid_fr(pc) {
            issues.push(FieldIssue::new(
                Field::postalCode,
                Problem::Invalid,
                pc,
                " (a French postal code has 5 digits, e.g. 75001)",
            ));
        } else if !self.french && pc.chars().count() > 16 {
            issues.push(FieldIssue::new(
                Field::postalCode,
                Problem::TooLong,
                pc,
                "16 characters at most",
            ));
        }
    }

    /// The official lists (warnings only: they lag reality by months). Foreign customers
    /// are not checked against French lists.
    fn official_lists(&self, issues: &mut Vec<FieldIssue>) {
        if !self.french {
            return;
        }
        let merged = self.merged;
        if self.present(Field::postalCode) || self.present(Field::mainAddressCity) {
            if let Some(pc) = merged
                .text(Field::postalCode)
                .filter(|pc| ident::postal::is_valid_fr(pc))
            {
                check_place(
                    pc,
                    merged.text(Field::mainAddressCity).unwrap_or(""),
                    issues,
                );
            }
        }
        if !self.present(Field::activityCode) {
            return;
        }
        if let Some(code) = merged.text(Field::activityCode) {
            if lists::naf_label(code).is_none() {
                let near = lists::naf_neighbours(code);
                let detail = if near.is_empty() {
                    String::new()
                } else {
                    format!(" ({near})")
                };
                issues.push(FieldIssue::new(
                    Field::activityCode,
                    Problem::UnknownNaf,
                    code,
                    detail,
                ));
            }
        }
    }

    /// An accounts reference equal to the customer account says nothing more.
    fn accounts_reference(&self, issues: &mut Vec<FieldIssue>) {
        if !self.present(Field::accountsReference) {
            return;
        }
        if let (Some(a), Some(b)) = (
            self.merged.text(Field::accountsReference),
            self.merged.text(Field::customerAccount),
        ) {
            if a == b {
                issues.push(FieldIssue::new(
                    Field::accountsReference,
                    Problem::Redundant,
                    a,
                    "",
                ));
            }
        }
    }

    /// A reseller level on a customer that is not a reseller.
    fn reseller(&self, issues: &mut Vec<FieldIssue>) {
        let merged = self.merged;
        if (self.present(Field::resellerLevel) || self.present(Field::isReseller))
            && merged.get(Field::resellerLevel).is_some()
            && !merged.flag(Field::isReseller)
        {
            let v = merged
                .get(Field::resellerLevel)
                .map(Value::to_text)
                .unwrap_or_default();
            issues.push(FieldIssue::new(
                Field::resellerLevel,
                Problem::NotReseller,
                v,
                "",
            ));
        }
    }

    /// VAT charged to an EU customer, and the operators' reverse charge, which needs a
    /// French VAT number and VAT charged.
    fn vat_flags(&self, issues: &mut Vec<FieldIssue>) {
        let (merged, vat) = (self.merged, self.vat);
        let touches_vat = self.present(Field::chargeVAT)
            || self.present(Field::taxRegistrationNumber)
            || self.present(Field::applyVATAutoReverseOperators);
        if !touches_vat {
            return;
        }
        if let Some(v) = vat {
            // Whatever the reverse-charge flag: that one has its own warning below.
            if merged.flag(Field::chargeVAT) && !v.starts_with("FR") {
                issues.push(FieldIssue::new(
                    Field::chargeVAT,
                    Problem::EuCustomer,
                    "1",
                    v,
                ));
            }
        }
        if merged.flag(Field::applyVATAutoReverseOperators) {
            if !vat.is_some_and(|v| v.starts_with("FR")) {
                issues.push(FieldIssue::new(
                    Field::applyVATAutoReverseOperators,
                    Problem::NeedsFrVat,
                    "1",
                    "",
                ));
            }
            if !merged.flag(Field::chargeVAT) {
                issues.push(FieldIssue::new(
                    Field::applyVATAutoReverseOperators,
                    Problem::VatNotCharged,
                    "1",
                    "",
                ));
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::issue::{Lang, Severity};

    /// Found by fuzzing (fuzz/artifacts/cells): a SIRET cell of separators only.
    #[test]
    fn a_siret_of_separators_is_an_error_not_an_empty_value() {
        for raw in ["-", "...", " . - "] {
            let err = parse_siret(&Cell::Text(raw.into()), raw).unwrap_err();
            assert_eq!(err.0, Problem::Length, "{raw:?}");
        }
        assert_eq!(
            parse_siret(&Cell::Text("732 829 320 00074".into()), "732 829 320 00074"),
            Ok("73282932000074".to_string())
        );
    }

    #[test]
    fn undecodable_bytes_are_an_error() {
        let (c, issues) = run(&[(Field::name, t("Caf\u{FFFD} Noir"))]);
        assert_eq!(codes(&issues), vec!["name.invalid"]);
        assert_eq!(c.text(Field::name), None);
    }

    #[test]
    fn control_characters_ascii_or_not() {
        for bad in ["a\tb", "a\nb", "x\u{7f}", "é\r", "Noël\u{85}", "\u{9f}"] {
            assert_eq!(bad_characters(bad), Some(CONTROL), "{bad:?}");
        }
        for good in ["Hôtel Müller", "SAS", "", "a b", "€ 10 000"] {
            assert_eq!(bad_characters(good), None, "{good:?}");
        }
    }

    fn row(pairs: &[(Field, Cell)]) -> Cells {
        let mut c: Cells = std::array::from_fn(|_| None);
        for (f, v) in pairs {
            c[f.idx()] = Some(v.clone());
        }
        c
    }

    fn run(pairs: &[(Field, Cell)]) -> (Customer, Vec<FieldIssue>) {
        let (rec, mut issues) = parse_cells(row(pairs));
        let mut merged = rec.merge_into(&Customer::new());
        pad_postal_code(&rec.present, &mut merged, &mut issues);
        check_row(&rec.present, &merged, None, &mut issues);
        (merged, issues)
    }

    fn codes(issues: &[FieldIssue]) -> Vec<String> {
        issues.iter().map(FieldIssue::code).collect()
    }

    fn t(s: &str) -> Cell {
        Cell::Text(s.into())
    }

    #[test]
    fn booleans() {
        for (c, want) in [
            (t("1"), Some(true)),
            (t("Oui"), Some(true)),
            (t("o"), Some(true)),
            (t("VRAI"), Some(true)),
            (t("yes"), Some(true)),
            (t("0"), Some(false)),
            (t("non"), Some(false)),
            (t("Faux"), Some(false)),
            (t("No"), Some(false)),
            (Cell::Float(1.0), Some(true)),
            (Cell::Float(0.0), Some(false)),
            (Cell::Bool(true), Some(true)),
            (t("maybe"), None),
            (Cell::Float(2.0), None),
        ] {
            let text = c.display();
            assert_eq!(parse_bool(&c, &text), want, "{c:?}");
        }
        let (cust, issues) = run(&[(Field::name, t("A")), (Field::vip, t("peut-être"))]);
        assert_eq!(codes(&issues), vec!["vip.invalid"]);
        assert!(!cust.flag(Field::vip));
    }

    #[test]
    fn capital_amounts() {
        for (input, want) in [
            ("10000", Some("10000")),
            ("10 000", Some("10000")),
            ("10 000 €", Some("10000")),
            ("10 000,50", Some("10000.50")),
            ("10000.50", Some("10000.50")),
            ("10\u{a0}000", Some("10000")),
            ("10\u{202f}000,5", Some("10000.50")),
            ("10.000,50", Some("10000.50")),
            ("10000,5", Some("10000.50")),
            ("10000.500", Some("10000.50")),
            ("10000.00", Some("10000")),
            ("0,5", Some("0.50")),
            ("007500", Some("7500")),
            ("0", Some("0")),
            ("12.345", Some("12.345")),
            ("1234.567", Some("1234.567")),
            ("-5", None),
            ("abc", None),
            ("10,", None),
        ] {
            assert_eq!(parse_capital(&t(input), input).as_deref(), want, "{input}");
        }
        assert_eq!(
            parse_capital(&Cell::Float(37000.0), "37000").as_deref(),
            Some("37000")
        );
        assert_eq!(
            parse_capital(&Cell::Float(10000.5), "10000.5").as_deref(),
            Some("10000.50")
        );
    }

    #[test]
    fn ambiguous_amounts_are_warned() {
        for raw in ["10,000", "10.000", "250,500 €"] {
            let (_, issues) = run(&[(Field::name, t("A")), (Field::capital, t(raw))]);
            assert_eq!(codes(&issues), vec!["capital.ambiguous"], "{raw}");
        }
        for raw in ["10 000", "10000,50", "1,5", "10.000,00", "1234,567"] {
            let (_, issues) = run(&[(Field::name, t("A")), (Field::capital, t(raw))]);
            assert!(issues.is_empty(), "{raw}: {:?}", codes(&issues));
        }
    }

    #[test]
    fn numeric_cells_in_text_columns() {
        let (c, issues) = run(&[
            (Field::name, t("A")),
            (Field::postalCode, Cell::Float(6000.0)),
            (Field::registrationNumber, Cell::Float(73282932000074.0)),
            (Field::mainAddressLine1, Cell::Float(83210.0)),
        ]);
        assert_eq!(c.text(Field::postalCode), Some("06000"));
        assert_eq!(c.text(Field::registrationNumber), Some("73282932000074"));
        assert_eq!(c.text(Field::mainAddressLine1), Some("83210"));
        assert_eq!(codes(&issues), vec!["postalCode.padded"]);
    }

    #[test]
    fn postal_codes_are_padded_only_for_french_customers() {
        let (c, issues) = run(&[
            (Field::name, t("A")),
            (Field::postalCode, Cell::Float(1000.0)),
            (Field::mainAddressCountry, t("Belgique")),
        ]);
        assert_eq!(c.text(Field::postalCode), Some("1000"));
        assert!(issues.is_empty(), "{:?}", codes(&issues));
        let (c, _) = run(&[
            (Field::name, t("A")),
            (Field::postalCode, t("1000")),
            (Field::taxRegistrationNumber, t("BE0403170701")),
        ]);
        assert_eq!(c.text(Field::postalCode), Some("1000"));
        let (c, issues) = run(&[(Field::name, t("A")), (Field::postalCode, t("1000"))]);
        assert_eq!(c.text(Field::postalCode), Some("01000"));
        assert_eq!(codes(&issues), vec!["postalCode.padded"]);
    }

    #[test]
    fn becoming_french_rechecks_postal_code_and_siret() {
        // A Belgian customer whose country is cleared (blank = France).
        let mut base = Customer::new();
        base.values[Field::name.idx()] = Some(Value::Text("A".into()));
        base.values[Field::mainAddressCountry.idx()] = Some(Value::Text("Belgique".into()));
        base.values[Field::postalCode.idx()] = Some(Value::Text("B-1000".into()));
        base.values[Field::registrationNumber.idx()] = Some(Value::Text("BE-XYZ".into()));
        let mut cells: Cells = std::array::from_fn(|_| None);
        cells[Field::mainAddressCountry.idx()] = Some(Cell::Empty);
        let (rec, mut issues) = parse_cells(cells);
        let mut merged = rec.merge_into(&base);
        pad_postal_code(&rec.present, &mut merged, &mut issues);
        check_row(
            &rec.present,
            &merged,
            Some(is_french_customer(&base)),
            &mut issues,
        );
        assert_eq!(
            codes(&issues),
            vec!["registrationNumber.invalid", "postalCode.invalid"]
        );
        // A French customer said again to be French: nothing to re-check.
        let mut french = Customer::new();
        french.values[Field::name.idx()] = Some(Value::Text("B".into()));
        french.values[Field::registrationNumber.idx()] = Some(Value::Text("732829320".into()));
        let mut cells: Cells = std::array::from_fn(|_| None);
        cells[Field::mainAddressCountry.idx()] = Some(Cell::Text("France".into()));
        let (rec, mut issues) = parse_cells(cells);
        let merged = rec.merge_into(&french);
        check_row(&rec.present, &merged, Some(true), &mut issues);
        assert!(issues.is_empty(), "{:?}", codes(&issues));
    }

    #[test]
    fn siret_rules() {
        let (_, i) = run(&[
            (Field::name, t("A")),
            (Field::registrationNumber, t("732 829 320 00075")),
        ]);
        assert_eq!(codes(&i), vec!["registrationNumber.checksum"]);
        let (_, i) = run(&[
            (Field::name, t("A")),
            (Field::registrationNumber, t("732829320")),
        ]);
        assert_eq!(codes(&i), vec!["registrationNumber.siren_only"]);
        let (_, i) = run(&[
            (Field::name, t("A")),
            (Field::registrationNumber, t("1234")),
        ]);
        assert_eq!(codes(&i), vec!["registrationNumber.length"]);
        let (_, i) = run(&[
            (Field::name, t("A")),
            (Field::registrationNumber, t("7.3282932E+13")),
        ]);
        assert_eq!(codes(&i), vec!["registrationNumber.scientific"]);
        // every digit still there: the number comes back
        let (c, i) = run(&[
            (Field::name, t("A")),
            (Field::registrationNumber, t("2.9141777263178E+13")),
        ]);
        assert_eq!(codes(&i), Vec::<String>::new());
        assert_eq!(c.text(Field::registrationNumber), Some("29141777263178"));
        let (c, _) = run(&[
            (Field::name, t("A")),
            (Field::registrationNumber, t("1.234567800012E+12")),
        ]);
        assert_eq!(c.text(Field::registrationNumber), Some("01234567800012"));
        for lost in ["2.914177726317E+13", "2.91417772631780E+14", "1.2E+3"] {
            let (_, i) = run(&[(Field::name, t("A")), (Field::registrationNumber, t(lost))]);
            assert_eq!(codes(&i), vec!["registrationNumber.scientific"], "{lost}");
        }
        let (_, i) = run(&[
            (Field::name, t("A")),
            (Field::registrationNumber, t("HRB 12345")),
        ]);
        assert_eq!(codes(&i), vec!["registrationNumber.invalid"]);
        let (c, i) = run(&[
            (Field::name, t("A")),
            (Field::registrationNumber, t("HRB 12345")),
            (Field::mainAddressCountry, t("Allemagne")),
        ]);
        assert!(i.is_empty(), "{i:?}");
        assert_eq!(c.text(Field::registrationNumber), Some("HRB 12345"));
    }

    #[test]
    fn vat_cross_checks() {
        let (_, i) = run(&[
            (Field::name, t("A")),
            (Field::registrationNumber, t("73282932000074")),
            (Field::taxRegistrationNumber, t("FR 46 443 121 975")),
        ]);
        assert_eq!(codes(&i), vec!["taxRegistrationNumber.siren_mismatch"]);
        let (c, i) = run(&[
            (Field::name, t("A")),
            (Field::registrationNumber, t("44312197500014")),
            (Field::taxRegistrationNumber, t("fr46443121975")),
        ]);
        assert!(codes(&i)
            .iter()
            .all(|c| c != "taxRegistrationNumber.siren_mismatch"));
        assert_eq!(c.text(Field::taxRegistrationNumber), Some("FR46443121975"));
        let (_, i) = run(&[
            (Field::name, t("A")),
            (Field::taxRegistrationNumber, t("DE136695976")),
        ]);
        assert_eq!(codes(&i), vec!["chargeVAT.eu_customer"]);
        let (_, i) = run(&[
            (Field::name, t("A")),
            (Field::taxRegistrationNumber, t("DE136695976")),
            (Field::chargeVAT, t("1")),
            (Field::applyVATAutoReverseOperators, t("1")),
        ]);
        assert_eq!(
            codes(&i),
            vec![
                "chargeVAT.eu_customer",
                "applyVATAutoReverseOperators.needs_fr_vat"
            ]
        );
        let (c, i) = run(&[
            (Field::name, t("A")),
            (Field::taxRegistrationNumber, t("DE136695976")),
            (Field::chargeVAT, t("0")),
        ]);
        assert!(i.is_empty());
        assert_eq!(c.vat_regime().code(), "reverse_charge_eu");
        let (_, i) = run(&[
            (Field::name, t("A")),
            (Field::applyVATAutoReverseOperators, t("1")),
            (Field::chargeVAT, t("0")),
        ]);
        assert_eq!(
            codes(&i),
            vec![
                "applyVATAutoReverseOperators.needs_fr_vat",
                "applyVATAutoReverseOperators.vat_not_charged"
            ]
        );
        let (_, i) = run(&[
            (Field::name, t("A")),
            (Field::taxRegistrationNumber, t("XX123")),
        ]);
        assert_eq!(codes(&i), vec!["taxRegistrationNumber.country"]);
        let (_, i) = run(&[
            (Field::name, t("A")),
            (Field::taxRegistrationNumber, t("FR47443121975")),
        ]);
        assert_eq!(codes(&i), vec!["taxRegistrationNumber.checksum"]);
    }

    #[test]
    fn other_warnings_and_errors() {
        let (_, i) = run(&[
            (Field::name, t("A")),
            (Field::customerAccount, t("CL1")),
            (Field::accountsReference, t("CL1")),
        ]);
        assert_eq!(codes(&i), vec!["accountsReference.redundant"]);
        let (_, i) = run(&[(Field::name, t("A")), (Field::resellerLevel, t("2"))]);
        assert_eq!(codes(&i), vec!["resellerLevel.not_reseller"]);
        let (_, i) = run(&[
            (Field::name, t("A")),
            (Field::resellerLevel, Cell::Float(2.5)),
            (Field::isReseller, t("1")),
        ]);
        assert_eq!(codes(&i), vec!["resellerLevel.invalid"]);
        let (_, i) = run(&[
            (Field::name, t("A")),
            (Field::resellerLevel, t("100")),
            (Field::isReseller, t("1")),
        ]);
        assert_eq!(codes(&i), vec!["resellerLevel.invalid"]);
        // 0 is the BlueRockTEL SDK's default: no level, no warning, in every spelling.
        for zero in [t("0"), t("00"), t("0.0"), Cell::Int(0), Cell::Float(0.0)] {
            let (c, i) = run(&[(Field::name, t("A")), (Field::resellerLevel, zero.clone())]);
            assert!(i.is_empty(), "{zero:?}: {:?}", codes(&i));
            assert_eq!(c.get(Field::resellerLevel), None, "{zero:?}");
        }
        let (_, i) = run(&[(Field::name, t("  "))]);
        assert_eq!(codes(&i), vec!["name.required"]);
        let (_, i) = run(&[(Field::name, t("A\nB"))]);
        assert_eq!(codes(&i), vec!["name.invalid"]);
        let (_, i) = run(&[(Field::name, t(&"x".repeat(10_001)))]);
        assert_eq!(codes(&i), vec!["name.too_long"]);
        let (_, i) = run(&[(Field::name, t("A")), (Field::postalCode, t("96000"))]);
        assert_eq!(codes(&i), vec!["postalCode.invalid"]);
        let (_, i) = run(&[
            (Field::name, t("A")),
            (Field::postalCode, t("SW1A 1AA")),
            (Field::mainAddressCountry, t("Royaume-Uni")),
        ]);
        assert!(i.is_empty());
        assert!(i.iter().all(|x| x.severity() != Severity::Error));
    }

    #[test]
    fn text_fields_and_formats() {
        let (c, i) = run(&[
            (Field::name, t("  Café  de   la Gare ")),
            (Field::website, t("www.example.fr")),
            (Field::emailAddress, t("a@b.fr")),
            (Field::type_, t("s.a.s.")),
            (Field::activityCode, t("6201z")),
            (Field::language, t("Français")),
            (Field::mainAddressLine1, t("'=1+1")),
        ]);
        assert!(i.is_empty(), "{i:?}");
        assert_eq!(c.text(Field::name), Some("Café  de   la Gare"));
        assert_eq!(c.text(Field::website), Some("https://www.example.fr"));
        assert_eq!(c.text(Field::type_), Some("SAS"));
        assert_eq!(c.text(Field::activityCode), Some("62.01Z"));
        assert_eq!(c.text(Field::language), Some("fr"));
        assert_eq!(c.text(Field::mainAddressLine1), Some("=1+1"));
        let (_, i) = run(&[
            (Field::name, t("A")),
            (Field::website, t("ftp://x.fr")),
            (Field::emailAddress, t("a b@c.fr")),
        ]);
        assert_eq!(codes(&i), vec!["website.invalid", "emailAddress.invalid"]);
    }

    #[test]
    fn web_addresses_keep_their_text_and_get_a_lower_case_scheme() {
        for (cell, stored) in [
            ("https://www.example.fr", Some("https://www.example.fr")),
            (
                "http://example.fr/Tarifs?x=1",
                Some("http://example.fr/Tarifs?x=1"),
            ),
            ("HTTPS://Www.Example.fr/A", Some("https://Www.Example.fr/A")),
            ("Http://café.fr", Some("http://café.fr")),
            ("example.fr:8080/a", Some("https://example.fr:8080/a")),
            ("user@example.fr", Some("https://user@example.fr")),
            ("ftp://example.fr", None),
            ("HTTP:/example.fr", None),
            ("https://localhost", None),
            ("https://.example.fr", None),
            ("https://exa mple.fr", None),
            ("https://ex_ample.fr", None),
            ("é", None),
        ] {
            let (c, i) = run(&[(Field::name, t("A")), (Field::website, t(cell))]);
            assert_eq!(c.text(Field::website), stored, "{cell}");
            let invalid = codes(&i) == vec!["website.invalid"];
            assert_eq!(invalid, stored.is_none(), "{cell}: {i:?}");
        }
    }

    fn place(pc: &str, city: &str) -> Vec<FieldIssue> {
        run(&[
            (Field::name, t("A")),
            (Field::postalCode, t(pc)),
            (Field::mainAddressCity, t(city)),
        ])
        .1
    }

    #[test]
    fn addresses_against_the_official_lists() {
        for (pc, city) in [
            ("75001", "Paris"),
            ("75008", "PARIS CEDEX 08"),
            ("13001", "Marseille"),
            ("69003", "Lyon"),
            ("20000", "Ajaccio"),
            ("20200", "Bastia"),
            ("97400", "Saint-Denis"),
            ("97200", "Fort-de-France"),
            ("98000", "Monaco"),
            ("42000", "Saint-Étienne"),
            ("76037", "ROUEN CEDEX 1"),
            ("51300", "Vitry-le-François"),
        ] {
            let i = place(pc, city);
            assert!(i.is_empty(), "{pc} {city}: {:?}", codes(&i));
        }
        let i = place("75001", "Lyon");
        assert_eq!(codes(&i), vec!["mainAddressCity.postal_mismatch"]);
        assert_eq!(i[0].severity(), Severity::Warning);
        assert_eq!(
            i[0].message(Lang::En),
            "City: \"Lyon\" is not a commune of this postal code (75001 → Paris; \
             Lyon → 69001, 69002, 69003, 69004, 69005, 69006, 69007, 69008 (+1))"
        );
        assert_eq!(
            i[0].message(Lang::Fr),
            "Ville : « Lyon » n'est pas une commune de ce code postal (75001 → Paris; \
             Lyon → 69001, 69002, 69003, 69004, 69005, 69006, 69007, 69008 (+1))"
        );
        let i = place("13001", "Marseile");
        assert_eq!(
            i[0].message(Lang::En),
            "City: \"Marseile\" is not a commune of this postal code (13001 → Marseille)"
        );
        let i = place("69000", "Lyon");
        assert_eq!(codes(&i), vec!["postalCode.unknown"]);
        assert!(i[0].message(Lang::Fr).starts_with(
            "Code Postal : aucune commune n'a le code postal « 69000 » dans la liste officielle \
             (Lyon → 69001,"
        ));
        let i = place("42000", "ST ETIENNE");
        assert_eq!(codes(&i), vec!["mainAddressCity.spelling"]);
        assert_eq!(
            i[0].message(Lang::Fr),
            "Ville : « ST ETIENNE » s'écrit « Saint-Étienne » dans la liste officielle"
        );
        let i = place("01200", "Bellegarde-sur-Valserine");
        assert_eq!(codes(&i), vec!["mainAddressCity.former_commune"]);
        assert_eq!(
            i[0].message(Lang::En),
            "City: \"Bellegarde-sur-Valserine\" is a former commune, now part of Valserhône (01200)"
        );
        // A padded code is checked once padded; a blank city checks the code alone.
        let (_, i) = run(&[
            (Field::name, t("A")),
            (Field::postalCode, Cell::Float(6000.0)),
            (Field::mainAddressCity, t("Nice")),
        ]);
        assert_eq!(codes(&i), vec!["postalCode.padded"]);
        let (_, i) = run(&[(Field::name, t("A")), (Field::postalCode, t("75999"))]);
        assert_eq!(codes(&i), vec!["postalCode.unknown"]);
        // Padded, "7500" is the real 07500 of Guilherand-Granges; a malformed code has its
        // error only.
        assert_eq!(
            codes(&place("7500", "Paris")),
            vec!["postalCode.padded", "mainAddressCity.postal_mismatch"]
        );
        assert_eq!(codes(&place("96000", "Paris")), vec!["postalCode.invalid"]);
    }

    #[test]
    fn list_issues_of_a_stored_customer() {
        let (mut c, _) = run(&[
            (Field::name, t("A")),
            (Field::postalCode, t("13001")),
            (Field::mainAddressCity, t("Marseile")),
            (Field::activityCode, t("62.02Z")),
            (Field::registrationNumber, t("1234")),
        ]);
        assert_eq!(
            codes(&list_issues(&c)),
            vec!["mainAddressCity.postal_mismatch", "activityCode.unknown"]
        );
        c.values[Field::mainAddressCountry.idx()] = Some(Value::Text("Italie".into()));
        assert!(list_issues(&c).is_empty());
    }

    #[test]
    fn foreign_customers_are_not_checked_against_french_lists() {
        let (_, i) = run(&[
            (Field::name, t("A")),
            (Field::postalCode, t("75001")),
            (Field::mainAddressCity, t("Bruxelles")),
            (Field::mainAddressCountry, t("Belgique")),
            (Field::activityCode, t("62.02Z")),
        ]);
        assert!(i.is_empty(), "{:?}", codes(&i));
    }

    #[test]
    fn activity_codes_against_naf() {
        let (c, i) = run(&[(Field::name, t("A")), (Field::activityCode, t("6202Z"))]);
        assert_eq!(codes(&i), vec!["activityCode.unknown"]);
        assert_eq!(c.text(Field::activityCode), Some("62.02Z"));
        assert_eq!(
            i[0].message(Lang::En),
            "Activity code (NAF): \"62.02Z\" is not in the NAF rev. 2 list (62.02A, 62.02B)"
        );
        for ok in ["62.01Z", "61.10Z", "6202A", "01.11Z", "99.00Z"] {
            let (_, i) = run(&[(Field::name, t("A")), (Field::activityCode, t(ok))]);
            assert!(i.is_empty(), "{ok}: {:?}", codes(&i));
        }
    }

    #[test]
    fn phones() {
        let (c, i) = run(&[
            (Field::name, t("A")),
            (Field::phone, t("01 23 45 67 89")),
            (Field::mobilePhone, Cell::Float(612345678.0)),
            (Field::fax, t("3615")),
        ]);
        assert_eq!(codes(&i), vec!["fax.short"]);
        assert_eq!(c.e164[0].as_deref(), Some("+33123456789"));
        assert_eq!(c.e164[1].as_deref(), Some("+33612345678"));
        assert_eq!(c.e164[2], None);
        let (_, i) = run(&[(Field::name, t("A")), (Field::phone, t("n/a"))]);
        assert_eq!(codes(&i), vec!["phone.invalid"]);
    }
}
