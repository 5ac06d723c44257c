//! Issues: every problem found in a file or a request, with a stable code and a message in
//! French or English.

use crate::catalogue::Field;
use serde::Serialize;

/// Message language.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Lang {
    /// English (default).
    #[default]
    En,
    /// French.
    Fr,
}

impl Lang {
    /// `fr`/`en` (anything starting with `fr` is French).
    pub fn parse(s: &str) -> Lang {
        if s.to_ascii_lowercase().starts_with("fr") {
            Lang::Fr
        } else {
            Lang::En
        }
    }
    /// The default from the environment: French when `LANG` starts with `fr`.
    pub fn from_env() -> Lang {
        std::env::var("LANG")
            .map(|l| Lang::parse(&l))
            .unwrap_or_default()
    }
}

/// Error or warning.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    /// Blocks the row (and, without `--skip-invalid`, the import).
    Error,
    /// Reported, never blocks.
    Warning,
}

macro_rules! problems {
    ($( $p:ident = $suffix:literal, $sev:ident, $scope:literal, $en:literal, $fr:literal; )*) => {
        /// What went wrong: the second half of an issue code.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
        pub enum Problem { $( #[doc = $en] $p, )* }

        impl Problem {
            /// Code suffix (`checksum` in `registrationNumber.checksum`).
            pub fn suffix(self) -> &'static str { match self { $( Problem::$p => $suffix, )* } }
            /// Severity of this problem.
            pub fn severity(self) -> Severity { match self { $( Problem::$p => Severity::$sev, )* } }
            /// The message template in `lang` (`{h}`, `{v}`, `{d}` unfilled); also reached
            /// through [`crate::messages::lookup`] as `issue.<suffix>`.
            pub(crate) fn template(self, lang: Lang) -> &'static str {
                match (self, lang) { $( (Problem::$p, Lang::En) => $en, (Problem::$p, Lang::Fr) => $fr, )* }
            }
            /// Every problem, with the fields or prefixes it applies to (for the documentation).
            pub fn all() -> &'static [(Problem, &'static str)] {
                &[ $( (Problem::$p, $scope), )* ]
            }
            /// The message id of its short title in words (`issue.title.duplicate_in_file`),
            /// which the report shows above the code.
            pub fn title_id(self) -> String {
                let name = match self { $( Problem::$p => stringify!($p), )* };
                format!("issue.title.{}", crate::catalogue::snake(name))
            }
        }
    };
}

// `{h}` is the column heading, `{v}` the value, `{d}` a detail.
problems! {
    Unreadable = "unreadable", Error, "file", "The file cannot be read: {d}", "Le fichier est illisible : {d}";
    NotSpreadsheet = "not_spreadsheet", Error, "file", "The file is not a spreadsheet{d} (accepted: .xlsx, .xls, .ods, .csv, .txt)", "Le fichier n'est pas un tableur{d} (formats acceptés : .xlsx, .xls, .ods, .csv, .txt)";
    TooLarge = "too_large", Error, "file", "The file is too large to check: {d}", "Le fichier est trop volumineux pour être contrôlé : {d}";
    NoHeader = "no_header", Error, "file", "No header row found in the first 20 rows{d} (at least two known column headings are needed)", "Aucune ligne d'en-tête dans les 20 premières lignes{d} (il faut au moins deux intitulés de colonne connus)";
    Unknown = "unknown", Warning, "header", "Unknown column \"{v}\", ignored{d}", "Colonne « {v} » inconnue, ignorée{d}";
    Unmapped = "unmapped", Error, "header", "Column \"{v}\" looks like \"{h}\"{d} but its heading is not one the pack knows: map it to that field, or ignore it on purpose, in the column mapping (nothing is imported until then)", "La colonne « {v} » ressemble à « {h} »{d} mais son intitulé n'est pas un de ceux du pack : associez-la à ce champ, ou ignorez-la volontairement, dans la correspondance des colonnes (rien n'est importé d'ici là)";
    NoHeading = "no_heading", Warning, "header", "Column {v} holds data (first on row {d}) but has no heading: ignored", "La colonne {v} contient des données (dès la ligne {d}) mais n'a pas d'intitulé : ignorée";
    DuplicateHeader = "duplicate", Error, "header", "Two columns are \"{h}\": {d}", "Deux colonnes correspondent à « {h} » : {d}";
    MissingName = "missing_name", Error, "header", "The file has no \"Raison sociale\" (company name) column", "Le fichier n'a pas de colonne « Raison sociale »";
    Required = "required", Error, "name", "{h} is required", "{h} est obligatoire";
    Invalid = "invalid", Error, "any field", "{h}: \"{v}\" is not valid{d}", "{h} : « {v} » n'est pas valide{d}";
    TooLong = "too_long", Error, "text fields", "{h} is too long ({d})", "{h} est trop long ({d})";
    Checksum = "checksum", Error, "registrationNumber, taxRegistrationNumber", "{h}: \"{v}\" has wrong check digits", "{h} : « {v} » a une clé de contrôle fausse";
    SirenOnly = "siren_only", Warning, "registrationNumber", "{h}: \"{v}\" is a SIREN (9 digits), not a SIRET (14 digits)", "{h} : « {v} » est un SIREN (9 chiffres), pas un SIRET (14 chiffres)";
    Length = "length", Error, "registrationNumber", "{h}: \"{v}\" has {d} digits; a SIRET has 14 (or a SIREN 9)", "{h} : « {v} » a {d} chiffres ; un SIRET en a 14 (ou un SIREN 9)";
    Scientific = "scientific", Error, "registrationNumber", "{h}: \"{v}\" was written in scientific notation by a spreadsheet and has lost digits; format the column as text and export again", "{h} : « {v} » a été écrit en notation scientifique par le tableur et a perdu des chiffres ; mettez la colonne au format texte et exportez de nouveau";
    Country = "country", Error, "taxRegistrationNumber", "{h}: \"{v}\" does not start with a known EU country prefix (FR, DE, EL, XI…)", "{h} : « {v} » ne commence pas par un préfixe de pays de l'UE connu (FR, DE, EL, XI…)";
    SirenMismatch = "siren_mismatch", Error, "taxRegistrationNumber", "{h}: the SIREN in \"{v}\" is not the SIRET's ({d})", "{h} : le SIREN de « {v} » n'est pas celui du SIRET ({d})";
    Ambiguous = "ambiguous", Warning, "capital", "{h}: \"{v}\" was read as {d} (the separator is taken as the decimal one); write 10000 or 10000,00 if a thousands separator was meant", "{h} : « {v} » a été lu comme {d} (le séparateur est pris pour la virgule décimale) ; écrivez 10000 ou 10000,00 s'il séparait les milliers";
    Padded = "padded", Warning, "postalCode", "{h}: \"{v}\" lost its leading zero; read as {d}", "{h} : « {v} » avait perdu son zéro initial ; lu comme {d}";
    FourDigits = "four_digits", Error, "postalCode", "{h}: \"{v}\" has 4 digits; a French postal code has 5 (did you mean {d}?)", "{h} : « {v} » a 4 chiffres ; un code postal français en a 5 (vouliez-vous dire {d} ?)";
    UnknownPostal = "unknown", Warning, "postalCode", "{h}: no commune has the postal code \"{v}\" in the official list{d}; for a CEDEX code, write CEDEX in the city", "{h} : aucune commune n'a le code postal « {v} » dans la liste officielle{d} ; pour un code CEDEX, écrivez CEDEX dans la ville";
    PostalMismatch = "postal_mismatch", Warning, "mainAddressCity", "{h}: \"{v}\" is not a commune of this postal code{d}", "{h} : « {v} » n'est pas une commune de ce code postal{d}";
    Spelling = "spelling", Warning, "mainAddressCity", "{h}: \"{v}\" is written \"{d}\" in the official list", "{h} : « {v} » s'écrit « {d} » dans la liste officielle";
    FormerCommune = "former_commune", Warning, "mainAddressCity", "{h}: \"{v}\" is a former commune, now part of {d}", "{h} : « {v} » est une ancienne commune, rattachée à {d}";
    UnknownNaf = "unknown", Warning, "activityCode", "{h}: \"{v}\" is not in the NAF rev. 2 list{d}", "{h} : « {v} » ne figure pas dans la nomenclature NAF rév. 2{d}";
    Redundant = "redundant", Warning, "accountsReference", "{h} is the same as the customer account; leave it blank", "{h} est identique au compte client ; laissez-le vide";
    NotReseller = "not_reseller", Warning, "resellerLevel", "{h} is set but the customer is not a reseller", "{h} est renseigné mais le client n'est pas revendeur";
    EuCustomer = "eu_customer", Warning, "chargeVAT", "VAT is charged to a customer with a VAT number of another EU country ({d}); usually 0", "La TVA est facturée à un client ayant un numéro de TVA d'un autre pays de l'UE ({d}) ; en général 0";
    NeedsFrVat = "needs_fr_vat", Warning, "applyVATAutoReverseOperators", "Operator reverse charge needs a valid French VAT number", "L'autoliquidation entre opérateurs demande un numéro de TVA français valide";
    VatNotCharged = "vat_not_charged", Warning, "applyVATAutoReverseOperators", "Operator reverse charge is set but VAT is not charged", "L'autoliquidation entre opérateurs est demandée mais la TVA n'est pas facturée";
    Short = "short", Warning, "phone, mobilePhone, fax", "{h}: \"{v}\" is a short number, kept as written", "{h} : « {v} » est un numéro court, gardé tel quel";
    DuplicateInFile = "duplicate_in_file", Error, "customerAccount", "{h} \"{v}\" already appears on row {d}", "{h} « {v} » figure déjà ligne {d}";
    Duplicate = "duplicate", Warning, "registrationNumber", "{h} \"{v}\" also appears on row {d}", "{h} « {v} » figure aussi ligne {d}";
    MatchedBySiret = "matched_by_siret", Warning, "customerAccount", "No customer account given: updates customer {d}, found by its SIRET", "Pas de compte client : met à jour le client {d}, trouvé par son SIRET";
    IdentityChanged = "identity_changed", Warning, "customerAccount", "{h} \"{v}\" names another company in the database: {d}; the import must confirm this change", "{h} « {v} » désigne une autre société dans la base : {d} ; l'import doit confirmer ce changement";
    Taken = "taken", Error, "customerAccount", "{h} \"{v}\" is already used by another customer", "{h} « {v} » est déjà utilisé par un autre client";
    UnknownClient = "unknown", Error, "client", "Contact linked to \"{v}\", which is neither a row of the Clients tab nor a known customer account", "Contact lié à « {v} », qui n'est ni une ligne de l'onglet Clients ni un compte client connu";
}

/// A reported value keeps at most this many characters (its real length is given beside
/// it): a 5 MB cell referenced by thousands of cells would otherwise copy 5 MB into every
/// issue of the report.
pub const MAX_VALUE_CHARS: usize = 300;

/// A value as an issue reports it: cut to [`MAX_VALUE_CHARS`] characters, with its real
/// length when it was cut.
pub fn reported_value(value: &str) -> (String, Option<usize>) {
    // A value of at most MAX_VALUE_CHARS bytes has at most that many characters.
    if value.len() <= MAX_VALUE_CHARS {
        return (value.to_string(), None);
    }
    match value.char_indices().nth(MAX_VALUE_CHARS) {
        None => (value.to_string(), None),
        Some((cut, _)) => (value[..cut].to_string(), Some(value.chars().count())),
    }
}

/// One problem, located in a file (row, column) or a request (field).
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Issue {
    /// Sheet name (null for a CSV file: every issue of the report has the same keys).
    pub sheet: Option<String>,
    /// Row number as the spreadsheet shows it.
    pub row: Option<u32>,
    /// Column letter.
    pub column: Option<String>,
    /// The header of that column as written in the file.
    pub header: Option<String>,
    /// Pack key of the field.
    pub field: Option<&'static str>,
    /// The raw value, cut to [`MAX_VALUE_CHARS`] characters.
    pub value: Option<String>,
    /// The value's real length in characters, when `value` was cut.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub value_length: Option<usize>,
    /// Error or warning.
    pub severity: Severity,
    /// Stable code `<field>.<problem>`.
    pub code: String,
    /// Human message (rendered in the requested language).
    pub message: String,
    /// The message's `{d}` as the rules gave it, when it reads the same in every language
    /// (a row number, a SIREN, a rule's expected format, translated by [`render`]): with
    /// `code`, `value` and the field it renders the message again in another language.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub detail: Option<String>,
    /// The message's `{d}` when it is a catalogue message of its own (both companies of
    /// an identity change, the heading a misspelled one resembles): its id and arguments.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub detail_message: Option<DetailMessage>,
    #[serde(skip)]
    /// The problem, for re-rendering.
    pub problem: Problem,
}

/// A detail of an issue that is a catalogue message ([`crate::messages`]): kept as its id
/// and arguments so that a stored report reads in the language of whoever opens it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, serde::Deserialize)]
pub struct DetailMessage {
    /// Message id (`pack.did_you_mean`).
    pub id: String,
    /// Its arguments by name, as text.
    #[serde(default)]
    pub args: std::collections::BTreeMap<String, String>,
}

impl DetailMessage {
    /// Message `id` with these arguments.
    pub fn new(id: &str, args: &[(&str, &str)]) -> DetailMessage {
        DetailMessage {
            id: id.to_string(),
            args: args
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect(),
        }
    }

    /// The message in `lang`, as problem `p`'s template takes it in `{d}` (some templates
    /// want it in brackets or after a space).
    pub fn text(&self, p: Problem, lang: Lang) -> String {
        let args: Vec<(&str, crate::messages::Arg)> = self
            .args
            .iter()
            .map(|(k, v)| (k.as_str(), crate::messages::Arg::Text(v.clone())))
            .collect();
        let text = crate::messages::format(lang, &self.id, &args);
        match p {
            Problem::Unknown | Problem::Unmapped | Problem::NotSpreadsheet => format!(" ({text})"),
            Problem::NoHeader => format!(" {text}"),
            _ => text,
        }
    }
}

/// A problem on one field, before it is placed in a file or a request.
#[derive(Debug, Clone, PartialEq)]
pub struct FieldIssue {
    /// The field.
    pub field: Field,
    /// What went wrong.
    pub problem: Problem,
    /// The raw value, as text.
    pub value: String,
    /// A detail for the message (expected format, other row…), may be empty.
    pub detail: String,
}

impl FieldIssue {
    /// Build a field issue.
    pub fn new(
        field: Field,
        problem: Problem,
        value: impl Into<String>,
        detail: impl Into<String>,
    ) -> Self {
        FieldIssue {
            field,
            problem,
            value: value.into(),
            detail: detail.into(),
        }
    }
    /// Severity.
    pub fn severity(&self) -> Severity {
        self.problem.severity()
    }
    /// Stable code.
    pub fn code(&self) -> String {
        format!("{}.{}", self.field.key(), self.problem.suffix())
    }
    /// Message in `lang`, naming the field by its heading (French) or label (English).
    pub fn message(&self, lang: Lang) -> String {
        let h = crate::messages::field_label(lang, self.field.def());
        render(self.problem, lang, h, &self.value, &self.detail)
    }
}

/// Render a problem's message.
pub fn render(problem: Problem, lang: Lang, heading: &str, value: &str, detail: &str) -> String {
    // Truncate absurd values so one 10,000-character cell does not flood the report.
    let value: String = if value.len() > 80 && value.chars().nth(80).is_some() {
        value.chars().take(77).chain("...".chars()).collect()
    } else {
        value.to_string()
    };
    let detail = if lang == Lang::Fr {
        french_detail(detail)
    } else {
        detail.to_string()
    };
    problem
        .template(lang)
        .replace("{h}", heading)
        .replace("{v}", &value)
        .replace("{d}", &detail)
}

/// French wording of the English details the rules attach (formats expected, limits).
/// Details that are data (a row number, a SIREN) pass through unchanged.
fn french_detail(d: &str) -> String {
    const PHRASES: &[(&str, &str)] = &[
        (
            " (spreadsheet error value)",
            " (valeur d'erreur du tableur)",
        ),
        (
            " (line break or control character)",
            " (saut de ligne ou caractère de contrôle)",
        ),
        (
            " (wrong format for that country)",
            " (format incorrect pour ce pays)",
        ),
        (
            " (expected an amount ≥ 0, e.g. 10 000 or 10000,50)",
            " (montant ≥ 0 attendu, ex. 10 000 ou 10000,50)",
        ),
        (
            " (expected a NAF code such as 62.01Z)",
            " (code NAF attendu, ex. 62.01Z)",
        ),
        (
            " (expected a web address such as https://www.example.fr)",
            " (adresse web attendue, ex. https://www.exemple.fr)",
        ),
        (
            " (expected an e-mail address such as contact@example.fr)",
            " (adresse e-mail attendue, ex. contact@exemple.fr)",
        ),
        (" (not a phone number)", " (pas un numéro de téléphone)"),
        (
            " (expected 1 or 0, oui or non)",
            " (1 ou 0, oui ou non attendu)",
        ),
        (" (expected fr or en)", " (fr ou en attendu)"),
        (
            " (expected 1, 2 or 3, Mlle, Mme or M.)",
            " (1, 2 ou 3, Mlle, Mme ou M. attendu)",
        ),
        (
            " (a SIRET has 14 digits; letters are only for a foreign customer)",
            " (un SIRET a 14 chiffres ; les lettres ne sont admises que pour un client étranger)",
        ),
        (
            " (a French postal code has 5 digits, e.g. 75001)",
            " (un code postal français a 5 chiffres, ex. 75001)",
        ),
        (" (expected a whole number", " (nombre entier attendu"),
        (" characters at most", " caractères au plus"),
        ("more than ", "plus de "),
        (" characters", " caractères"),
        (" from ", " de "),
        (" to ", " à "),
    ];
    let mut out = d.to_string();
    for (en, fr) in PHRASES {
        if out.contains(en) {
            out = out.replace(en, fr);
        }
    }
    out
}

impl Issue {
    /// An issue on a whole file (`file.*`) or its headers (`header.*`).
    pub fn file(
        prefix: &str,
        problem: Problem,
        lang: Lang,
        value: &str,
        detail: &str,
        heading: &str,
    ) -> Issue {
        let message = render(problem, lang, heading, value, detail);
        let (value, value_length) = if value.is_empty() {
            (None, None)
        } else {
            let (v, n) = reported_value(value);
            (Some(v), n)
        };
        Issue {
            sheet: None,
            row: None,
            column: None,
            header: None,
            field: None,
            value,
            value_length,
            severity: problem.severity(),
            code: format!("{prefix}.{}", problem.suffix()),
            message,
            // A file's or a header's detail is often already in the message language (a
            // system error, a catalogue message): kept only when the caller says it is
            // not ([`Issue::with_detail`], [`Issue::with_detail_message`]).
            detail: None,
            detail_message: None,
            problem,
        }
    }

    /// Keep the detail that made the message, which reads the same in every language.
    pub fn with_detail(mut self, detail: &str) -> Issue {
        self.detail = (!detail.is_empty()).then(|| detail.to_string());
        self
    }

    /// Keep the catalogue message that made the message's detail.
    pub fn with_detail_message(mut self, detail: DetailMessage) -> Issue {
        self.detail_message = Some(detail);
        self
    }
    /// Place a field issue in a file.
    pub fn at(
        fi: &FieldIssue,
        lang: Lang,
        sheet: Option<&str>,
        row: u32,
        column: Option<String>,
        header: Option<String>,
    ) -> Issue {
        let (value, value_length) = reported_value(&fi.value);
        Issue {
            sheet: sheet.map(str::to_string),
            row: Some(row),
            column,
            header,
            field: Some(fi.field.key()),
            value: Some(value),
            value_length,
            severity: fi.severity(),
            code: fi.code(),
            message: fi.message(lang),
            detail: (!fi.detail.is_empty()).then(|| fi.detail.clone()),
            detail_message: None,
            problem: fi.problem,
        }
    }

    /// The problem of an issue code (`postalCode.unknown`, `header.duplicate`): a suffix
    /// that several problems share is told apart by the field or prefix each applies to.
    pub fn problem_of(code: &str) -> Option<Problem> {
        let (prefix, suffix) = code.rsplit_once('.')?;
        let matching: Vec<&(Problem, &str)> = Problem::all()
            .iter()
            .filter(|(p, _)| p.suffix() == suffix)
            .collect();
        match matching.as_slice() {
            [(p, _)] => Some(*p),
            several => several
                .iter()
                .find(|(_, scope)| *scope == prefix)
                .map(|(p, _)| *p),
        }
    }
}

/// What a stored report keeps of an issue, to render its message again in another
/// language (see [`render_stored`]).
#[derive(Debug, Clone, Copy, Default)]
pub struct Stored<'a> {
    /// Its code.
    pub code: &'a str,
    /// Its field: a pack key, or a contact column's key on the Contacts tab.
    pub field: Option<&'a str>,
    /// Whether it is an issue of the Contacts tab.
    pub contact: bool,
    /// Its value.
    pub value: &'a str,
    /// Its language-neutral detail ([`Issue::detail`]).
    pub detail: Option<&'a str>,
    /// Its detail as a catalogue message ([`Issue::detail_message`]).
    pub detail_message: Option<&'a DetailMessage>,
}

/// The message of an issue of a report made with this version, in `lang`; `None` when what
/// the report kept is not enough (the stored message then stands): the details of
/// `header.duplicate`, `file.unreadable` and `file.too_large` are kept in the report's
/// language only.
pub fn render_stored(issue: &Stored<'_>, lang: Lang) -> Option<String> {
    let problem = Issue::problem_of(issue.code)?;
    let prefix = issue.code.rsplit_once('.').map_or("", |(p, _)| p);
    let whole_file = prefix == "header" || prefix == "file";
    let detail = match (issue.detail_message, issue.detail) {
        (Some(m), _) => m.text(problem, lang),
        (None, Some(d)) => d.to_string(),
        // A field's issue keeps any detail it has; so do these file and header issues.
        (None, None)
            if !whole_file
                || matches!(
                    problem,
                    Problem::Unknown
                        | Problem::Unmapped
                        | Problem::NoHeader
                        | Problem::NotSpreadsheet
                        | Problem::MissingName
                ) =>
        {
            String::new()
        }
        (None, None) => return None,
    };
    let heading = if !problem.template(Lang::En).contains("{h}") {
        String::new()
    } else if issue.contact && !whole_file {
        // As [`crate::contact::ContactIssue::message`] names the column.
        match crate::contact::COLUMNS
            .iter()
            .find(|c| Some(c.key) == issue.field)
        {
            Some(c) => crate::messages::contact_label(lang, c).to_string(),
            None => crate::msg!(lang, "contact.customer_column"),
        }
    } else {
        // A field's issue, or `header.unmapped` naming the field the column looks like.
        let d = crate::catalogue::FIELDS
            .iter()
            .find(|d| Some(d.pack_key) == issue.field)?;
        crate::messages::field_label(lang, d).to_string()
    };
    Some(render(problem, lang, &heading, issue.value, &detail))
}

/// The documentation of every issue code, as Markdown (kept in `docs/issue-codes.md`).
pub fn codes_markdown() -> String {
    let mut out = String::from(
        "# Issue codes\n\nGenerated by `clientele codes`; a test checks this file is up to date.\n\n\
         Every problem has a stable code `<field>.<problem>`, where `<field>` is a pack key\n\
         (`registrationNumber`), or `header`, `file` or `client`. Errors block a row; warnings never do.\n\n\
         | Code | Applies to | Severity | Message (English) | Message (français) |\n|---|---|---|---|---|\n",
    );
    for (p, scope) in Problem::all() {
        let sev = match p.severity() {
            Severity::Error => "error",
            Severity::Warning => "warning",
        };
        let code = if scope.contains(',') || scope.contains(' ') {
            format!("`<field>.{}`", p.suffix())
        } else {
            format!("`{scope}.{}`", p.suffix())
        };
        out.push_str(&format!(
            "| {code} | {scope} | {sev} | {} | {} |\n",
            p.template(Lang::En).replace('|', "\\|"),
            p.template(Lang::Fr).replace('|', "\\|")
        ));
    }
    out.push_str("\nIn messages, `{h}` is the column heading, `{v}` the value as written and `{d}` a detail.\n");
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every problem has a title in words in both languages, found from the codes it is
    /// reported under (the report's captions read them that way).
    #[test]
    fn every_problem_has_a_title() {
        for (p, scope) in Problem::all() {
            for prefix in scope.split(", ").filter(|s| !s.contains(' ')) {
                let code = format!("{prefix}.{}", p.suffix());
                assert_eq!(Issue::problem_of(&code), Some(*p), "{code}");
            }
            let id = p.title_id();
            for lang in [Lang::Fr, Lang::En] {
                let t = crate::messages::lookup(lang, &id);
                assert!(t.is_some_and(|t| !t.is_empty()), "no title {id}");
            }
        }
        assert_eq!(
            Problem::DuplicateInFile.title_id(),
            "issue.title.duplicate_in_file"
        );
    }

    #[test]
    fn codes_name_their_problem() {
        assert_eq!(
            Issue::problem_of("postalCode.unknown"),
            Some(Problem::UnknownPostal)
        );
        assert_eq!(Issue::problem_of("header.unknown"), Some(Problem::Unknown));
        assert_eq!(
            Issue::problem_of("header.duplicate"),
            Some(Problem::DuplicateHeader)
        );
        assert_eq!(
            Issue::problem_of("registrationNumber.duplicate"),
            Some(Problem::Duplicate)
        );
        assert_eq!(Issue::problem_of("vip.invalid"), Some(Problem::Invalid));
        assert_eq!(Issue::problem_of("vip.nonsense"), None);
    }

    #[test]
    fn stored_issues_render_in_another_language() {
        // A field's issue, from its detail as the rules gave it.
        let fi = FieldIssue::new(
            Field::vip,
            Problem::Invalid,
            "x",
            " (expected 1 or 0, oui or non)",
        );
        let fr = Issue::at(&fi, Lang::Fr, None, 2, None, None);
        let stored = Stored {
            code: &fr.code,
            field: fr.field,
            value: "x",
            detail: fr.detail.as_deref(),
            ..Stored::default()
        };
        assert_eq!(render_stored(&stored, Lang::En), Some(fi.message(Lang::En)));
        // A header's suggestion, from its catalogue message.
        let dm = DetailMessage::new("pack.did_you_mean", &[("heading", "Ville")]);
        let fr = Issue::file(
            "header",
            Problem::Unknown,
            Lang::Fr,
            "Vile",
            &dm.text(Problem::Unknown, Lang::Fr),
            "",
        )
        .with_detail_message(dm.clone());
        assert!(
            fr.message.contains("vouliez-vous dire « Ville » ?"),
            "{}",
            fr.message
        );
        let stored = Stored {
            code: &fr.code,
            value: "Vile",
            detail_message: fr.detail_message.as_ref(),
            ..Stored::default()
        };
        assert_eq!(
            render_stored(&stored, Lang::En).as_deref(),
            Some("Unknown column \"Vile\", ignored (did you mean \"Ville\"?)")
        );
        // A detail kept in the report's language only: the stored message stands.
        let stored = Stored {
            code: "file.unreadable",
            ..Stored::default()
        };
        assert_eq!(render_stored(&stored, Lang::En), None);
    }

    #[test]
    fn details_are_translated() {
        let m = render(
            Problem::Invalid,
            Lang::Fr,
            "Client VIP",
            "peut-être",
            " (expected 1 or 0, oui or non)",
        );
        assert_eq!(
            m,
            "Client VIP : « peut-être » n'est pas valide (1 ou 0, oui ou non attendu)"
        );
        let m = render(
            Problem::Invalid,
            Lang::Fr,
            "Niveau",
            "100",
            " (expected a whole number from 1 to 99)",
        );
        assert_eq!(
            m,
            "Niveau : « 100 » n'est pas valide (nombre entier attendu de 1 à 99)"
        );
        let m = render(
            Problem::TooLong,
            Lang::Fr,
            "Ville",
            "x",
            "255 characters at most",
        );
        assert_eq!(m, "Ville est trop long (255 caractères au plus)");
        let m = render(
            Problem::DuplicateInFile,
            Lang::Fr,
            "Compte client",
            "CL1",
            "4",
        );
        assert_eq!(m, "Compte client « CL1 » figure déjà ligne 4");
        let m = render(
            Problem::Invalid,
            Lang::En,
            "VIP",
            "x",
            " (expected 1 or 0, oui or non)",
        );
        assert!(m.ends_with("(expected 1 or 0, oui or non)"));
    }
}
