//! The message catalogue: every text shown to people in French and English, by id.
//!
//! One table ([`MESSAGES`]) holds the web pages' and the server's texts. The issue
//! messages stay in [`crate::issue`]'s table (one row per problem, next to its code and
//! severity) and the fields' names in [`crate::catalogue`]; both are reached through the
//! same lookup, as `issue.<suffix>` (`issue.checksum`) and `field.<packKey>`
//! (`field.name`). A text may hold named placeholders and plural choices:
//!
//! - `{name}`: the argument `name`, as given (the caller formats numbers, e.g. grouped);
//! - `{n|one|other}`: `one` or `other` by the number `n` ([`is_singular`]), so that
//!   "1 ligne rejetée" and "2 lignes rejetées" come from one message; the chosen form may
//!   hold placeholders itself (`{n|une ligne|{count} lignes}`).
//!
//! In Rust: `msg!(lang, "login.throttled", wait = w)` or [`format()`]; in the templates:
//! `t("upload.created_n", n=result.create)`. Ids are grouped by page or concern
//! (`common.` for texts several pages share).
//!
//! A missing id renders as the id itself, so that a forgotten message shows on the page
//! instead of failing it; the tests check that every id used exists.

use crate::catalogue::{FieldDef, FIELDS};
use crate::contact::ContactColumn;
use crate::issue::{Lang, Problem};
use std::collections::HashMap;
use std::sync::OnceLock;

/// One message: its id and its texts.
#[derive(Debug, Clone, Copy)]
pub struct Message {
    /// Stable id (`login.wrong_password`), grouped by page or concern.
    pub id: &'static str,
    /// French text.
    pub fr: &'static str,
    /// English text.
    pub en: &'static str,
}

impl Message {
    /// The text in `lang`, placeholders unfilled.
    pub fn text(&self, lang: Lang) -> &'static str {
        match lang {
            Lang::Fr => self.fr,
            Lang::En => self.en,
        }
    }
}

/// An argument of a message: text, or a number (which may also choose a plural).
#[derive(Debug, Clone, PartialEq)]
pub enum Arg {
    /// Inserted as is.
    Text(String),
    /// Inserted in digits; chooses the form of `{name|one|other}`.
    Num(i64),
}

impl Arg {
    fn number(&self) -> Option<i64> {
        match self {
            Arg::Num(n) => Some(*n),
            // A number the caller already formatted (`1 234`) still chooses a plural.
            Arg::Text(s) => s
                .chars()
                .filter(|c| !c.is_whitespace() && *c != '\u{202f}')
                .collect::<String>()
                .parse()
                .ok(),
        }
    }
}

impl std::fmt::Display for Arg {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Arg::Text(s) => f.write_str(s),
            Arg::Num(n) => write!(f, "{n}"),
        }
    }
}

impl From<&str> for Arg {
    fn from(s: &str) -> Arg {
        Arg::Text(s.to_string())
    }
}
impl From<String> for Arg {
    fn from(s: String) -> Arg {
        Arg::Text(s)
    }
}
impl From<&String> for Arg {
    fn from(s: &String) -> Arg {
        Arg::Text(s.clone())
    }
}
macro_rules! num_arg {
    ($($t:ty),*) => {$(
        impl From<$t> for Arg {
            fn from(n: $t) -> Arg {
                Arg::Num(i64::try_from(n).unwrap_or(i64::MAX))
            }
        }
    )*};
}
num_arg!(i32, i64, u32, u64, usize);

/// Whether `n` takes the singular in `lang`: 1 only, in both languages. CLDR would put
/// French 0 in the singular too ("0 ligne rejetée"), but the pages have always written
/// "0 inchangés", users read counts that way, and the browser tests assert it.
pub fn is_singular(_lang: Lang, n: i64) -> bool {
    n == 1
}

fn index() -> &'static HashMap<&'static str, &'static Message> {
    static INDEX: OnceLock<HashMap<&'static str, &'static Message>> = OnceLock::new();
    INDEX.get_or_init(|| MESSAGES.iter().map(|m| (m.id, m)).collect())
}

/// The raw text of a message (placeholders unfilled), or `None` for an unknown id.
/// `issue.<suffix>` names a problem of [`crate::issue`], `field.<packKey>` a field's name
/// ([`field_label`]).
pub fn lookup(lang: Lang, id: &str) -> Option<&'static str> {
    // `issue.title.*` are the problems' short titles, in the table below.
    if let Some(suffix) = id
        .strip_prefix("issue.")
        .filter(|s| !s.starts_with("title."))
    {
        return Problem::all()
            .iter()
            .find(|(p, _)| p.suffix() == suffix)
            .map(|(p, _)| p.template(lang));
    }
    if let Some(key) = id.strip_prefix("field.") {
        return FIELDS
            .iter()
            .find(|d| d.pack_key == key)
            .map(|d| field_label(lang, d));
    }
    index().get(id).map(|m| m.text(lang))
}

/// A field's name for people: its pack heading in French, its English label in English
/// (both live in the field catalogue, [`crate::catalogue`], beside the rest of the field).
pub fn field_label(lang: Lang, def: &FieldDef) -> &'static str {
    match lang {
        Lang::Fr => def.heading,
        Lang::En => def.label_en,
    }
}

/// A Contacts column's name for people, as [`field_label`] for the customer fields: both
/// texts live in [`crate::contact::COLUMNS`], beside the rest of the column.
pub fn contact_label(lang: Lang, column: &ContactColumn) -> &'static str {
    match lang {
        Lang::Fr => column.heading,
        Lang::En => column.label_en,
    }
}

/// Whether a message id exists.
pub fn exists(id: &str) -> bool {
    lookup(Lang::En, id).is_some()
}

/// A message without arguments (placeholders left as written).
pub fn text(lang: Lang, id: &str) -> String {
    format(lang, id, &[])
}

/// A message with its placeholders filled from `args`; an unknown id renders as itself.
pub fn format(lang: Lang, id: &str, args: &[(&str, Arg)]) -> String {
    match lookup(lang, id) {
        Some(t) => fill(lang, t, args),
        None => id.to_string(),
    }
}

/// Fill `{name}` and `{name|one|other}` in `template`; a chosen form is filled in turn, so
/// it may hold placeholders (`{n|une ligne|{count} lignes}`). A placeholder without its
/// argument stays as written (issue templates fill their own `{h}`, `{v}`, `{d}`).
pub fn fill(lang: Lang, template: &str, args: &[(&str, Arg)]) -> String {
    let mut out = String::with_capacity(template.len() + 16);
    let mut rest = template;
    while let Some(open) = rest.find('{') {
        out.push_str(&rest[..open]);
        let after = &rest[open + 1..];
        let Some(close) = matching_brace(after) else {
            out.push_str(&rest[open..]);
            return out;
        };
        let inner = &after[..close];
        let parts = split_forms(inner);
        let name = parts[0];
        match args.iter().find(|(k, _)| *k == name).map(|(_, v)| v) {
            Some(v) if parts.len() == 1 => out.push_str(&v.to_string()),
            Some(v) => {
                let one = v.number().is_some_and(|n| is_singular(lang, n));
                let form = if one {
                    parts[1]
                } else {
                    parts[parts.len() - 1]
                };
                out.push_str(&fill(lang, form, args));
            }
            None => {
                out.push('{');
                out.push_str(inner);
                out.push('}');
            }
        }
        rest = &after[close + 1..];
    }
    out.push_str(rest);
    out
}

/// The byte offset of the `}` closing a placeholder whose `{` came just before `s`.
fn matching_brace(s: &str) -> Option<usize> {
    let mut depth = 0usize;
    for (i, c) in s.char_indices() {
        match c {
            '{' => depth += 1,
            '}' if depth == 0 => return Some(i),
            '}' => depth -= 1,
            _ => {}
        }
    }
    None
}

/// `name|one|other` split at the bars outside nested placeholders.
fn split_forms(inner: &str) -> Vec<&str> {
    let mut parts = Vec::new();
    let (mut depth, mut start) = (0usize, 0);
    for (i, c) in inner.char_indices() {
        match c {
            '{' => depth += 1,
            '}' => depth = depth.saturating_sub(1),
            '|' if depth == 0 => {
                parts.push(&inner[start..i]);
                start = i + 1;
            }
            _ => {}
        }
    }
    parts.push(&inner[start..]);
    parts
}

/// `msg!(lang, "id")` or `msg!(lang, "id", n = 3, name = "x")`: a message as a `String`.
#[macro_export]
macro_rules! msg {
    ($lang:expr, $id:literal) => {
        $crate::messages::text($lang, $id)
    };
    ($lang:expr, $id:literal, $($k:ident = $v:expr),+ $(,)?) => {
        $crate::messages::format(
            $lang,
            $id,
            &[$((stringify!($k), $crate::messages::Arg::from($v))),+],
        )
    };
}

macro_rules! messages {
    ($( $id:literal => $fr:literal, $en:literal; )*) => {
        /// Every message of the pages and the server (issue messages: [`crate::issue`]).
        pub static MESSAGES: &[Message] = &[ $( Message { id: $id, fr: $fr, en: $en }, )* ];
    };
}

// The texts, by page or concern: `common` for those several pages share.
messages! {
    // api
    "api.language_id_invalid" => "Le language_id doit être 1 (français) ou 2 (anglais).",
        "The language_id must be 1 (French) or 2 (English).";
    "api.language_id_mismatch" => "Le language_id {id} ne correspond pas à la langue « {language} ».",
        "The language_id {id} does not match the language \"{language}\".";
    "api.upload_malformed" => "L’envoi du fichier est incomplet ou mal formé (le transfert a-t-il été interrompu ?) : envoyez le fichier de nouveau, en multipart/form-data avec le champ « file ».",
        "The file upload is incomplete or malformed (was the transfer cut short?): send the file again, as multipart/form-data with a \"file\" field.";
    // base
    "base.log_out" => "Se déconnecter",
        "Log out";
    "base.main_navigation" => "Navigation principale",
        "Main navigation";
    "base.skip_to_content" => "Aller au contenu",
        "Skip to content";
    // cli: the command line's texts (its import report and exit messages)
    "cli.import.errors" => "le fichier a {n} {n|erreur|erreurs}",
        "the file has {n} {n|error|errors}";
    "cli.import.errors_nothing_imported" => "le fichier a {n} {n|erreur|erreurs} ; rien n'a été importé",
        "the file has {n} {n|error|errors}; nothing was imported";
    "cli.import.identity_change_hint" => "relancez avec --allow-identity-change si c'est voulu",
        "run again with --allow-identity-change if this is meant";
    "cli.import.rows_not_imported" => "{n} {n|ligne en erreur n'a pas été importée|lignes en erreur n'ont pas été importées}",
        "{n} {n|row had errors and was not imported|rows had errors and were not imported}";
    "cli.report.check_complete" => "Vérification terminée, rien n'a été écrit.",
        "Check complete; nothing was written.";
    "cli.report.columns_ignored" => "Colonnes ignorées : {columns}",
        "Columns ignored: {columns}";
    "cli.report.columns_mapped" => "Colonnes associées par la correspondance : {columns}",
        "Columns mapped: {columns}";
    "cli.report.columns_recognised" => "Colonnes reconnues : {n}",
        "Columns recognised: {n}";
    "cli.report.counts" => "{rows} {rows|ligne|lignes} · {valid} {valid|valide|valides} · {invalid} en erreur · {create} à créer · {update} à mettre à jour · {unchanged} {unchanged|inchangée|inchangées} · {errors} {errors|erreur|erreurs} · {warnings} {warnings|avertissement|avertissements}",
        "{rows} {rows|row|rows} · {valid} valid · {invalid} invalid · {create} create · {update} update · {unchanged} unchanged · {errors} {errors|error|errors} · {warnings} {warnings|warning|warnings}";
    "cli.report.encoding" => "encodage {encoding}, séparateur {delimiter}",
        "encoding {encoding}, delimiter {delimiter}";
    "cli.report.identity_changes" => "{n|1 mise à jour ferait de son client une autre société|{n} mises à jour feraient de leur client une autre société}",
        "{n|1 update would make its customer another company|{n} updates would make their customers other companies}";
    "cli.report.imported" => "Import enregistré.",
        "Imported.";
    "cli.report.imported_id" => "Import #{id} enregistré.",
        "Imported (import #{id}).";
    "cli.report.more_issues" => "… {n} {n|autre problème : --format json les donne tous|autres problèmes : --format json les donne tous}",
        "… {n} {n|more issue: --format json lists them all|more issues: --format json lists them all}";
    "cli.report.nothing_imported" => "Rien n'a été importé.",
        "Nothing was imported.";
    "cli.report.rejected_rows" => "Lignes rejetées : {file}",
        "Rejected rows: {file}";
    "cli.report.row" => "Ligne {row}",
        "Row {row}";
    "cli.report.sheet" => "onglet {sheet}",
        "sheet {sheet}";
    // Short tags in a column eight characters wide.
    "cli.report.tag_error" => "erreur",
        "error";
    "cli.report.tag_warning" => "avert.",
        "warning";
    // common
    "common.account" => "Compte",
        "Account";
    "common.action" => "Action",
        "Action";
    "common.api_tokens" => "Jetons d’API",
        "API tokens";
    "common.by" => "par",
        "by";
    "common.contacts" => "Contacts",
        "Contacts";
    "common.created" => "Créés",
        "Created";
    "common.customers" => "Clients",
        "Customers";
    "common.dashboard" => "Tableau de bord",
        "Dashboard";
    "common.date" => "Date",
        "Date";
    "common.e_mail_address" => "Adresse e-mail",
        "E-mail address";
    "common.edit" => "Modifier",
        "Edit";
    "common.file" => "Fichier",
        "File";
    "common.history" => "Historique",
        "History";
    "common.import_a_pack" => "Importer un pack",
        "Import a pack";
    "common.import_history" => "Historique des imports",
        "Import history";
    "common.import_no" => "Import n°",
        "Import #";
    "common.name" => "Nom",
        "Name";
    "common.no" => "Non",
        "No";
    "common.no_import_yet" => "Aucun import pour l’instant.",
        "No import yet.";
    "common.no_user_exists_yet_create" => "Aucun utilisateur n’existe encore. Créez le premier sur le serveur :",
        "No user exists yet. Create the first one on the server:";
    "common.status" => "Statut",
        "Status";
    "common.unchanged" => "Inchangés",
        "Unchanged";
    "common.updated" => "Mis à jour",
        "Updated";
    "common.vat_regime" => "Régime de TVA",
        "VAT regime";
    "common.yes" => "Oui",
        "Yes";
    // contact: the Contacts tab's messages
    "contact.customer_column" => "Client",
        "Customer";
    // customer
    "customer.changes_saved" => "Modifications enregistrées.",
        "Changes saved.";
    "customer.contact_added" => "contact ajouté",
        "contact added";
    "customer.contact_deleted" => "contact supprimé",
        "contact deleted";
    "customer.contact_updated" => "contact modifié",
        "contact updated";
    "customer.created_by_import" => "créé par l’import n°",
        "created by import #";
    "customer.created_on" => "Créé le",
        "Created";
    "customer.creation" => "création",
        "created";
    "customer.details" => "Fiche",
        "Details";
    "customer.invoice_mention" => "mention sur facture :",
        "invoice mention:";
    "customer.landline" => "Fixe",
        "Landline";
    "customer.mobile" => "Mobile",
        "Mobile";
    "customer.modification" => "modification",
        "updated";
    "customer.no_change_recorded_through_the" => "Aucune modification enregistrée depuis l’API ou les pages (les mises à jour par import figurent dans l’historique des imports).",
        "No change recorded through the API or the pages (updates by imports are in the import history).";
    "customer.no_contact" => "Aucun contact.",
        "No contact.";
    "customer.no_special_invoice_mention" => "pas de mention particulière sur facture",
        "no special invoice mention";
    "customer.regime" => "Régime :",
        "Regime:";
    "customer.role" => "Fonction",
        "Role";
    "customer.updated_on" => "modifié le",
        "updated";
    "customer.vat" => "TVA",
        "VAT";
    // customers
    "customers.active" => "Actif",
        "Active";
    "customers.all" => "Tous",
        "All";
    "customers.city" => "Ville",
        "City";
    "customers.company_name" => "Raison sociale",
        "Company name";
    "customers.created" => "Créé le",
        "Created";
    "customers.customer_s" => "client(s)",
        "customer(s)";
    "customers.filter" => "Filtrer",
        "Filter";
    "customers.inactive" => "inactif",
        "inactive";
    "customers.next" => "Suivante",
        "Next";
    "customers.no_customer_matches" => "Aucun client ne correspond.",
        "No customer matches.";
    "customers.on_call" => "Astreinte",
        "On call";
    "customers.on_call_lower" => "astreinte",
        "on call";
    "customers.page" => "Page",
        "Page";
    "customers.page_n" => "Page {n}",
        "Page {n}";
    "customers.pages" => "Pages",
        "Pages";
    "customers.phone" => "Téléphone",
        "Phone";
    "customers.previous" => "Précédente",
        "Previous";
    "customers.regime.not_charged" => "TVA non facturée",
        "VAT not charged";
    "customers.regime.reverse_charge_eu" => "Autoliquidation intracommunautaire",
        "Reverse charge, EU";
    "customers.regime.reverse_charge_operator" => "Autoliquidation opérateurs (Arcep)",
        "Reverse charge, operators (Arcep)";
    "customers.regime.standard" => "TVA française",
        "French VAT";
    "customers.regime.unknown" => "Inconnu",
        "Unknown";
    "customers.reseller" => "Revendeur",
        "Reseller";
    "customers.reseller_level" => "Niveau revendeur",
        "Reseller level";
    "customers.search_account_name_siret_vat" => "Rechercher (compte, nom, SIRET, TVA, téléphone)",
        "Search (account, name, SIRET, VAT, phone)";
    "customers.updated" => "Modifié le",
        "Updated";
    // dashboard
    "dashboard.active_n" => "Actifs",
        "Active";
    "dashboard.contacts" => "contacts",
        "contacts";
    "dashboard.customers" => "clients",
        "customers";
    "dashboard.imported" => "importé",
        "imported";
    "dashboard.inactive_n" => "Inactifs",
        "Inactive";
    "dashboard.latest_imports" => "Derniers imports",
        "Latest imports";
    "dashboard.level" => "Niveau {level}",
        "Level {level}";
    "dashboard.no_level" => "Sans niveau",
        "No level";
    "dashboard.none" => "Aucun",
        "None";
    "dashboard.on_call_contract" => "Astreinte",
        "On-call contract";
    "dashboard.resellers_by_level" => "Revendeurs par niveau",
        "Resellers by level";
    "dashboard.state" => "État",
        "State";
    "dashboard.undone" => "annulé",
        "undone";
    // edit
    "edit.cancel" => "Annuler",
        "Cancel";
    "edit.communes_of_this_code" => "Communes de ce code :",
        "Communes of this code:";
    "edit.customer" => "Client",
        "Customer";
    "edit.group.address" => "Adresse et coordonnées",
        "Address and contact details";
    "edit.group.identity" => "Identité",
        "Identity";
    "edit.group.other" => "Revendeur, facturation et divers",
        "Reseller, billing and other";
    "edit.group.routing" => "Routage des appels",
        "Call routing";
    "edit.group.tax" => "Fiscalité",
        "Tax";
    "edit.language.en" => "Anglais",
        "English";
    "edit.language.fr" => "Français",
        "French";
    "edit.nothing_was_saved_fix_the" => "Rien n’a été enregistré : corrigez les champs signalés.",
        "Nothing was saved: fix the fields marked below.";
    "edit.save" => "Enregistrer",
        "Save";
    // error
    "error.back_to_the_dashboard" => "Retour au tableau de bord",
        "Back to the dashboard";
    "error.busy" => "Le serveur traite déjà d’autres contrôles et imports ({waiting} en attente) : réessayez dans quelques secondes.",
        "The server is busy with other checks and imports ({waiting} waiting): try again in a few seconds.";
    "error.csrf" => "Formulaire refusé : il a expiré ou ne vient pas de Clientèle. Rechargez la page et recommencez.",
        "Form refused: it expired or did not come from Clientèle. Reload the page and try again.";
    "error.error" => "erreur",
        "error";
    "error.file_too_large" => "Fichier trop volumineux.",
        "File too large.";
    "error.not_found" => "Cette page n’existe pas (ou plus).",
        "This page does not exist (any more).";
    "error.server" => "Erreur du serveur ; l’incident est journalisé.",
        "Server error; it has been logged.";
    "error.title.400" => "Requête incorrecte",
        "Bad request";
    "error.title.403" => "Accès refusé",
        "Access denied";
    "error.title.404" => "Page introuvable",
        "Page not found";
    "error.title.409" => "Action impossible pour l’instant",
        "This cannot be done now";
    "error.title.413" => "Fichier trop volumineux",
        "File too large";
    "error.title.422" => "Données refusées",
        "Data refused";
    "error.title.429" => "Trop de tentatives",
        "Too many attempts";
    "error.title.500" => "Erreur du serveur",
        "Server error";
    "error.title.503" => "Serveur occupé",
        "Server busy";
    "error.title.other" => "Erreur",
        "Error";
    // forms
    "fix.all_codes" => "Toutes les anomalies",
        "All issues";
    "fix.all_columns" => "Toutes les colonnes",
        "All columns";
    "fix.back_to_report" => "Revenir au rapport",
        "Back to the report";
    "fix.bad_cell" => "Cellule inconnue : indiquez la ligne et la colonne.",
        "Unknown cell: give its row and column.";
    "fix.check_corrected" => "Contrôler le fichier corrigé",
        "Check the corrected file";
    "fix.check_explained" => "Le fichier corrigé est contrôlé comme un nouvel envoi, avec la même correspondance des colonnes ; vous l'importez ensuite depuis son rapport. Le fichier d'origine reste tel quel.",
        "The corrected file is checked as a new upload, with the same column mapping; you then import it from its report. The original file stays as it was.";
    "fix.corrected_suffix" => "corrigé",
        "corrected";
    "fix.download_corrected" => "Télécharger le fichier corrigé",
        "Download the corrected file";
    "fix.error_rows" => "lignes en erreur",
        "rows with errors";
    "fix.errors" => "erreurs",
        "errors";
    "fix.failed" => "Échec : la page est rechargée.",
        "Failed: the page is reloaded.";
    "fix.find" => "Rechercher",
        "Find";
    "fix.find_and_replace" => "Rechercher et remplacer dans une colonne",
        "Find and replace in a column";
    "fix.find_empty" => "Indiquez le texte à rechercher.",
        "Give the text to find.";
    "fix.intro" => "Corrigez les cellules ici : chaque saisie est vérifiée aussitôt par les règles de l'import. Les lignes en erreur sont affichées d'abord.",
        "Fix the cells here: each entry is checked at once by the import's rules. Rows with errors are shown first.";
    "fix.issue" => "Anomalie",
        "Issue";
    "fix.keys" => "Clavier : flèches pour se déplacer, Entrée ou F2 pour modifier (ou tapez directement), Entrée pour valider et descendre, Tab pour valider et passer à droite, Échap pour annuler, Ctrl+Z pour défaire.",
        "Keyboard: arrows to move, Enter or F2 to edit (or just type), Enter to save and go down, Tab to save and go right, Escape to cancel, Ctrl+Z to undo.";
    "fix.loading" => "Chargement…",
        "Loading…";
    "fix.needs_script" => "La grille de correction a besoin de JavaScript. Sans lui, corrigez le classeur annoté puis envoyez-le de nouveau :",
        "The fixing grid needs JavaScript. Without it, fix the annotated workbook and upload it again:";
    "fix.no_rows" => "Aucune ligne ne correspond à ce filtre.",
        "No row matches this filter.";
    "fix.of" => "sur",
        "of";
    "fix.pages" => "Pages de lignes",
        "Pages of rows";
    "fix.replace_in_column" => "Remplacer dans la colonne",
        "Replace in the column";
    "fix.replace_scope" => "Remplace dans toutes les lignes du fichier, dans cette colonne seulement ; « Défaire » annule le remplacement en une fois.",
        "Replaces in every row of the file, in this column only; \"Undo\" takes the whole replacement back.";
    "fix.replace_with" => "Remplacer par",
        "Replace with";
    "fix.replaced" => "cellules remplacées",
        "cells replaced";
    "fix.rows_shown" => "lignes",
        "rows";
    "fix.saved" => "Enregistré.",
        "Saved.";
    "fix.saving" => "Vérification…",
        "Checking…";
    "fix.show" => "Afficher",
        "Show";
    "fix.show_all" => "toutes les lignes",
        "all rows";
    "fix.show_errors" => "les lignes en erreur",
        "rows with errors";
    "fix.show_issues" => "les lignes avec erreur ou avertissement",
        "rows with errors or warnings";
    "fix.warnings" => "avertissements",
        "warnings";
    "fix.title" => "Corriger dans le navigateur",
        "Fix in the browser";
    "fix.too_big" => "Ce fichier est trop grand pour la grille de correction (plus de {cells} cellules) : corrigez le classeur annoté, puis envoyez-le de nouveau.",
        "This file is too big for the fixing grid (more than {cells} cells): fix the annotated workbook, then upload it again.";
    "fix.undo" => "Défaire",
        "Undo";
    "forms.query_key_twice" => "Adresse mal formée : le paramètre « {key} » est donné plusieurs fois.",
        "Malformed address: the parameter “{key}” is given more than once.";
    "forms.query_malformed" => "Adresse mal formée : {error}.",
        "Malformed address: {error}.";
    "forms.query_unreadable" => "Adresse mal formée : son paramètre n’est pas lisible.",
        "Malformed address: its query string cannot be read.";
    "forms.unreadable" => "Formulaire illisible : rechargez la page et recommencez.",
        "The form cannot be read: reload the page and try again.";
    // import
    // The list of every change of an update, for people (CSV and XLSX headings).
    "import.changes_account" => "Compte client",
        "Customer account";
    "import.changes_after" => "Après",
        "After";
    "import.changes_before" => "Avant",
        "Before";
    "import.changes_field" => "Champ",
        "Field";
    "import.changes_field_key" => "Clé du champ",
        "Field key";
    "import.changes_identity" => "Changement d’identité",
        "Identity change";
    "import.changes_name_after" => "Raison sociale après",
        "Company name after";
    "import.changes_name_before" => "Raison sociale avant",
        "Company name before";
    "import.changes_row" => "Ligne",
        "Row";
    "import.changes_sheet" => "Modifications",
        "Changes";
    "import.check_the_file" => "Contrôler le fichier",
        "Check the file";
    "import.choose_a_file" => "Choisissez un fichier (XLSX, XLS, ODS ou CSV) : le fichier envoyé est vide ou absent.",
        "Choose a file (XLSX, XLS, ODS or CSV): the file sent is empty or missing.";
    "import.download_a_blank_pack_xlsx" => "Télécharger un pack vierge (modèle XLSX)",
        "Download a blank pack (XLSX template)";
    "import.drop_the_packs_clients_tab" => "Déposez l’onglet Clients du pack (XLSX, XLS, ODS ou CSV). Rien n’est écrit tant que vous n’avez pas lu le rapport et cliqué sur « Importer ».",
        "Drop the pack’s Clients tab (XLSX, XLS, ODS or CSV). Nothing is written until you have read the report and clicked “Import”.";
    "import.identity_change_siret" => "« {before_name} » (SIRET {before}) deviendrait « {after_name} » (SIRET {after})",
        "\"{before_name}\" (SIRET {before}) would become \"{after_name}\" (SIRET {after})";
    "import.identity_change_vat" => "« {before_name} » (TVA {before}) deviendrait « {after_name} » (TVA {after})",
        "\"{before_name}\" (VAT {before}) would become \"{after_name}\" (VAT {after})";
    "import.identity_refused" => "{n|1 client deviendrait une autre société (sa raison sociale et son SIRET ou numéro de TVA changent)|{n} clients deviendraient d'autres sociétés (leur raison sociale et leur SIRET ou numéro de TVA changent)} : rien n'a été importé ; vérifiez les lignes marquées customerAccount.identity_changed et confirmez le changement pour importer",
        "{n|1 customer would become another company (its name and SIRET or VAT number all change)|{n} customers would become other companies (their names and SIRET or VAT numbers all change)}: nothing was imported; check the rows marked customerAccount.identity_changed and confirm the change to import";
    "import.import_a_customer_pack" => "Importer un pack client",
        "Import a customer pack";
    "import.or_drop_it_here" => "ou glissez-le ici",
        "or drop it here";
    "import.pack_file" => "Fichier du pack",
        "Pack file";
    "import.send_with_form" => "Envoyez le fichier avec le formulaire.",
        "Send the file with the form.";
    // imports
    "imports.by" => "Par",
        "By";
    "imports.rejected" => "Rejetés",
        "Rejected";
    "imports.undo" => "Annuler l’import",
        "Undo";
    "imports.undo_anyway_changes_made_since" => "Annuler quand même (les modifications faites depuis seront perdues)",
        "Undo anyway (changes made since are lost)";
    "imports.undo_import" => "Annuler l’import n°",
        "Undo import #";
    "imports.already_undone" => "l'import n°{id} a déjà été annulé ({at} UTC).",
        "import #{id} was already undone ({at} UTC).";
    "imports.undo_refused_changed" => "{n|le client {accounts} a été modifié|{n} clients ont été modifiés ({accounts})} après l'import n°{id} : annulez d'abord les imports ou modifications plus récents, ou forcez l'annulation (ces modifications seront perdues).",
        "{n|customer {accounts} was changed|{n} customers were changed ({accounts})} after import #{id}: undo the later imports or changes first, or force the undo (those changes are lost).";
    "imports.undo_refused" => "Annulation refusée :",
        "Undo refused:";
    "imports.undo_this_import_customers_it" => "Annuler cet import ? Les clients créés seront supprimés et les clients modifiés restaurés.",
        "Undo this import? Customers it created are deleted and customers it changed are restored.";
    "imports.undone_on" => "annulé le",
        "undone on";
    "imports.undone_the_database_is_back" => "annulé : la base est revenue à son état d’avant.",
        "undone: the database is back to its previous state.";
    // issue.title: each problem's short title in words (`Problem::title_id`), shown above
    // its code in the report
    "issue.title.ambiguous" => "Montant ambigu",
        "Ambiguous amount";
    "issue.title.checksum" => "Clé de contrôle fausse",
        "Wrong check digits";
    "issue.title.country" => "Préfixe de pays inconnu",
        "Unknown country prefix";
    "issue.title.duplicate" => "SIRET en double",
        "SIRET twice in the file";
    "issue.title.duplicate_header" => "Colonne en double",
        "Duplicate column";
    "issue.title.duplicate_in_file" => "Compte en double dans le fichier",
        "Account twice in the file";
    "issue.title.eu_customer" => "TVA facturée à un client de l’UE",
        "VAT charged to an EU customer";
    "issue.title.former_commune" => "Ancienne commune",
        "Former commune";
    "issue.title.four_digits" => "Code postal à 4 chiffres",
        "Four-digit postal code";
    "issue.title.identity_changed" => "Devient une autre société",
        "Becomes another company";
    "issue.title.invalid" => "Valeur non valide",
        "Invalid value";
    "issue.title.length" => "Mauvais nombre de chiffres",
        "Wrong number of digits";
    "issue.title.matched_by_siret" => "Client trouvé par son SIRET",
        "Customer found by its SIRET";
    "issue.title.missing_name" => "Pas de colonne Raison sociale",
        "No company name column";
    "issue.title.needs_fr_vat" => "Numéro de TVA français requis",
        "French VAT number needed";
    "issue.title.no_header" => "Ligne d’en-tête introuvable",
        "No header row";
    "issue.title.no_heading" => "Colonne sans intitulé",
        "Column without heading";
    "issue.title.not_reseller" => "Niveau sans revendeur",
        "Level without reseller";
    "issue.title.not_spreadsheet" => "Pas un tableur",
        "Not a spreadsheet";
    "issue.title.padded" => "Zéro initial rétabli",
        "Leading zero restored";
    "issue.title.postal_mismatch" => "Ville hors de ce code postal",
        "City not of this postal code";
    "issue.title.redundant" => "Identique au compte client",
        "Same as the customer account";
    "issue.title.required" => "Valeur obligatoire manquante",
        "Required value missing";
    "issue.title.scientific" => "Notation scientifique",
        "Scientific notation";
    "issue.title.short" => "Numéro court",
        "Short number";
    "issue.title.siren_mismatch" => "SIREN différent de celui du SIRET",
        "SIREN differs from the SIRET’s";
    "issue.title.siren_only" => "SIREN au lieu d’un SIRET",
        "SIREN instead of a SIRET";
    "issue.title.spelling" => "Orthographe de la commune",
        "Spelling of the commune";
    "issue.title.taken" => "Compte déjà pris",
        "Account already taken";
    "issue.title.too_large" => "Fichier trop volumineux",
        "File too large";
    "issue.title.too_long" => "Valeur trop longue",
        "Value too long";
    "issue.title.unknown" => "Colonne inconnue",
        "Unknown column";
    "issue.title.unknown_client" => "Client du contact introuvable",
        "Contact’s customer not found";
    "issue.title.unknown_naf" => "Code NAF inconnu",
        "Unknown NAF code";
    "issue.title.unknown_postal" => "Code postal inconnu",
        "Unknown postal code";
    "issue.title.unmapped" => "Colonne à associer",
        "Column to map";
    "issue.title.unreadable" => "Fichier illisible",
        "Unreadable file";
    "issue.title.vat_not_charged" => "TVA non facturée",
        "VAT not charged";
    // login
    "login.accounts_are_created_with_clientele" => "Les comptes se créent avec « clientele user add » sur le serveur.",
        "Accounts are created with “clientele user add” on the server.";
    "login.log_in" => "Connexion",
        "Log in";
    "login.log_in_button" => "Se connecter",
        "Log in";
    "login.or_restart_clientele_serve_it" => "ou redémarrez « clientele serve » : il affiche un code pour le créer dans le navigateur.",
        "or restart “clientele serve”: it prints a code to create it in the browser.";
    "login.password" => "Mot de passe",
        "Password";
    "login.throttled" => "Trop de tentatives : réessayez dans {wait}.",
        "Too many attempts: try again in {wait}.";
    "login.wait_minutes" => "{m|une minute|{m} minutes}",
        "{m|a minute|{m} minutes}";
    "login.wait_seconds" => "{s|une seconde|{s} secondes}",
        "{s|a second|{s} seconds}";
    "login.wrong_password" => "Adresse e-mail ou mot de passe incorrect.",
        "Wrong e-mail address or password.";
    // pack: details of the issues met reading a file (`{d}` of `issue.unreadable`,
    // `issue.too_large`, `issue.not_spreadsheet`, `issue.no_header`, `issue.unknown`…)
    "pack.by_its_values" => "d'après ses valeurs",
        "by its values";
    "pack.columns_pair" => "colonnes {first} et {second}",
        "columns {first} and {second}";
    "pack.content_damaged" => "son contenu est abîmé (XML mal formé)",
        "its content is damaged (malformed XML)";
    "pack.did_you_mean" => "vouliez-vous dire « {heading} » ?",
        "did you mean \"{heading}\"?";
    "pack.empty_file" => "le fichier est vide",
        "the file is empty";
    "pack.file_text_too_large" => "ses cellules contiennent plus de {mb} Mo de texte",
        "its cells hold more than {mb} MB of text";
    "pack.impossible_size" => "une feuille déclare une taille impossible (fichier abîmé ?)",
        "a sheet declares an impossible size (damaged file?)";
    "pack.no_contacts_sheet" => "le classeur n'a pas de feuille « Contacts »",
        "the workbook has no \"Contacts\" sheet";
    "pack.no_sheet" => "le classeur n'a aucune feuille",
        "the workbook has no sheet";
    "pack.not_excel" => "ce n'est pas un classeur Excel (fichier abîmé ou renommé ?)",
        "it is not an Excel workbook (damaged or renamed file?)";
    "pack.not_ods" => "ce n'est pas un classeur OpenDocument (fichier abîmé ou renommé ?)",
        "it is not an OpenDocument spreadsheet (damaged or renamed file?)";
    "pack.not_xls" => "ce n'est pas un classeur Excel 97-2003 (fichier abîmé ou renommé ?)",
        "it is not an Excel 97-2003 workbook (damaged or renamed file?)";
    "pack.ods_cells" => "ses feuilles s'étendent à plus de {max} cellules (lignes et colonnes répétées)",
        "its sheets expand to more than {max} cells (repeated rows and columns)";
    "pack.ods_damaged" => "le classeur OpenDocument est abîmé (son contenu n'a pas pu être lu)",
        "the OpenDocument spreadsheet is damaged (its content could not be read)";
    "pack.ods_text" => "ses cellules s'étendent à plus de {mb} Mo de texte (lignes et colonnes répétées)",
        "its cells expand to more than {mb} MB of text (repeated rows and columns)";
    "pack.of_sheet" => "de la feuille « {sheet} »",
        "of sheet \"{sheet}\"";
    "pack.part_unpacks" => "sa partie {name} se décompresse en {mb} Mo à partir de {kb} Ko",
        "its part {name} unpacks to {mb} MB from {kb} KB";
    "pack.password" => "il est protégé par un mot de passe : enregistrez-le sans",
        "it is protected by a password: save it without one";
    "pack.reader_failed" => "la lecture a échoué sur un contenu mal formé",
        "the reader failed on malformed content";
    "pack.row_too_large" => "la ligne {row} contient plus de {mb} Mo de texte",
        "row {row} holds more than {mb} MB of text";
    "pack.rows_out_of_order" => "lignes dans le désordre dans la feuille",
        "rows out of order in the sheet";
    "pack.shared_bytes" => "ses textes distincts dépassent {mb} Mo",
        "its distinct texts hold more than {mb} MB";
    "pack.shared_count" => "il contient plus de {max} textes distincts ({n} déclarés ou trouvés)",
        "it has more than {max} distinct texts ({n} declared or found)";
    "pack.sheet_damaged" => "le contenu de la feuille est abîmé (XML mal formé)",
        "the sheet's content is damaged (malformed XML)";
    "pack.unpacks_to" => "il se décompresse en {mb} Mo",
        "it unpacks to {mb} MB";
    "pack.what.7z" => "une archive 7-Zip",
        "a 7-Zip archive";
    "pack.what.gif" => "une image GIF",
        "a GIF image";
    "pack.what.gzip" => "une archive gzip",
        "a gzip archive";
    "pack.what.jpeg" => "une image JPEG",
        "a JPEG image";
    "pack.what.opendocument" => "un fichier OpenDocument qui n'est pas un classeur",
        "an OpenDocument file that is not a spreadsheet";
    "pack.what.pdf" => "un document PDF",
        "a PDF document";
    "pack.what.png" => "une image PNG",
        "a PNG image";
    "pack.what.powerpoint" => "une présentation PowerPoint",
        "a PowerPoint presentation";
    "pack.what.rar" => "une archive RAR",
        "a RAR archive";
    "pack.what.rtf" => "un document RTF",
        "an RTF document";
    "pack.what.word" => "un document Word",
        "a Word document";
    "pack.what.zip" => "une archive zip",
        "a zip archive";
    "pack.workbook_malformed" => "la structure du classeur est mal formée",
        "the workbook structure is malformed";
    "pack.xls_damaged" => "le classeur Excel 97-2003 est abîmé (son contenu n'a pas pu être lu)",
        "the Excel 97-2003 workbook is damaged (its content could not be read)";
    "pack.xls_other_document" => "ce n'est pas un classeur Excel 97-2003 (un autre document Office, ou un fichier abîmé ?)",
        "it is not an Excel 97-2003 workbook (another Office document, or a damaged file?)";
    "pack.xlsb" => "les classeurs binaires Excel (.xlsb) ne sont pas lus : enregistrez-le en .xlsx",
        "Excel binary workbooks (.xlsb) are not read: save it as .xlsx";
    "pack.xlsx_damaged" => "le classeur Excel est abîmé (son contenu n'a pas pu être lu)",
        "the Excel workbook is damaged (its content could not be read)";
    "pack.zip_damaged" => "il est abîmé ou incomplet (ce n'est pas une archive zip complète : le téléchargement ou la copie a-t-il été interrompu ?)",
        "it is damaged or incomplete (not a complete zip archive: was the download or copy cut short?)";
    // setup
    "setup.bad_email" => "Adresse e-mail invalide.",
        "This is not a valid e-mail address.";
    "setup.closed" => "La création dans le navigateur n’est pas ouverte sur ce serveur : créez le premier utilisateur avec « clientele user add », ou redémarrez « clientele serve » pour obtenir un code.",
        "Creating the first user in the browser is not open on this server: use “clientele user add”, or restart “clientele serve” to get a code.";
    "setup.create_the_administrator" => "Créer l’administrateur",
        "Create the administrator";
    "setup.first_run" => "Première installation",
        "First run";
    "setup.no_user_exists_yet_create" => "Aucun utilisateur n’existe encore. Créez le premier administrateur avec le code que « clientele serve » a affiché à son démarrage (dans le journal du service).",
        "No user exists yet. Create the first administrator with the code “clientele serve” printed when it started (in the service’s log).";
    "setup.password_at_least_10_characters" => "Mot de passe (10 caractères au moins)",
        "Password (at least 10 characters)";
    "setup.password_common" => "Ce mot de passe est parmi les plus courants (facile à deviner) : choisissez-en un autre.",
        "This password is one of the most common ones (easily guessed): choose another.";
    "setup.password_short" => "Mot de passe trop court : 10 caractères au moins.",
        "Password too short: at least 10 characters.";
    "setup.passwords_differ" => "Les deux mots de passe diffèrent.",
        "The two passwords differ.";
    "setup.setup_code" => "Code de première installation",
        "Setup code";
    "setup.the_same_password" => "Le même mot de passe",
        "The same password";
    "setup.wrong_code" => "Code de première installation incorrect : recopiez celui que « clientele serve » a affiché au démarrage.",
        "Wrong setup code: copy the one “clientele serve” printed when it started.";
    // tokens
    "tokens.after" => "après",
        "after";
    "tokens.allowed_networks" => "Réseaux autorisés",
        "Allowed networks";
    "tokens.any" => "toutes",
        "any";
    "tokens.created" => "Créé",
        "Created";
    "tokens.expiry" => "Expiration",
        "Expiry";
    "tokens.last_used" => "Dernier usage",
        "Last used";
    "tokens.never" => "jamais",
        "never";
    "tokens.no_token" => "Aucun jeton.",
        "No token.";
    "tokens.revoke" => "Révoquer",
        "Revoke";
    "tokens.revoke_this_token_clients_using" => "Révoquer ce jeton ? Les clients qui l’utilisent seront refusés.",
        "Revoke this token? Clients using it will be refused.";
    "tokens.revoke_token" => "Révoquer le jeton n°",
        "Revoke token #";
    "tokens.revoked" => "révoqué.",
        "revoked.";
    "tokens.scope" => "Portée",
        "Scope";
    "tokens.token_no" => "Jeton n°",
        "Token #";
    "tokens.tokens_give_access_to_the" => "Les jetons donnent accès à l’API. Ceux de « /api/login » expirent après une période sans usage ; les autres se créent avec « clientele token create ». Un jeton révoqué est refusé par tous les serveurs en moins d’une seconde.",
        "Tokens give access to the API. Those of “/api/login” expire after a time unused; the others are made with “clientele token create”. A revoked token is refused by every server within a second.";
    "tokens.unused" => "sans usage",
        "unused";
    "tokens.user" => "Utilisateur",
        "User";
    // upload
    "upload.after" => "Après",
        "After";
    "upload.already_imported" => "Ce fichier a déjà été importé (ou est en cours d’import) : déposez-le de nouveau pour un nouvel import.",
        "This file was already imported (or is being imported): upload it again for a new import.";
    "upload.already_running" => "Un contrôle ou un import de ce fichier est déjà en cours.",
        "A check or import of this file is already running.";
    "upload.and" => "et",
        "and";
    "upload.apply_and_check_again" => "Appliquer et contrôler de nouveau",
        "Apply and check again";
    "upload.as_last_time" => "comme la dernière fois",
        "as last time";
    "upload.before" => "Avant",
        "Before";
    "upload.being_checked_on_another_server" => "Contrôle en cours sur un autre serveur…",
        "Being checked on another server…";
    "upload.being_imported_on_another_server" => "Import en cours sur un autre serveur…",
        "Being imported on another server…";
    "upload.by_column" => "Par colonne",
        "By column";
    "upload.by_row" => "Par ligne",
        "By row";
    "upload.bytes" => "{n|octet|octets}",
        "{n|byte|bytes}";
    "upload.cannot_produce" => "Impossible de produire ce fichier : {error}",
        "This file cannot be produced: {error}";
    "upload.changes_all_fields" => "Tous les champs",
        "All fields";
    "upload.changes_company" => "Raison sociale",
        "Company name";
    "upload.changes_count" => "{count} {n|champ modifié|champs modifiés} sur {customers_count} {customers|client|clients}",
        "{count} {n|field change|field changes} on {customers_count} {customers|customer|customers}";
    "upload.changes_download_csv" => "Télécharger toutes les modifications (CSV)",
        "Download every change (CSV)";
    "upload.changes_download_xlsx" => "Télécharger toutes les modifications (XLSX)",
        "Download every change (XLSX)";
    "upload.changes_filter" => "Filtrer",
        "Filter";
    "upload.changes_identity" => "Changement d’identité",
        "Identity change";
    "upload.changes_identity_only" => "Changements d’identité seulement",
        "Identity changes only";
    "upload.changes_matching" => "{count} {n|modification correspond|modifications correspondent} au filtre.",
        "{count} {n|change matches|changes match} the filter.";
    "upload.changes_next" => "Suivante",
        "Next";
    "upload.changes_none_matching" => "Aucune modification ne correspond au filtre.",
        "No change matches the filter.";
    "upload.changes_not_kept" => "La liste complète des modifications de ce fichier n’a pas été conservée : déposez-le de nouveau pour la voir.",
        "The full list of changes of this file was not kept: upload it again to see it.";
    "upload.changes_page" => "Page {page} sur {pages}",
        "Page {page} of {pages}";
    "upload.changes_pages" => "Pages des modifications",
        "Pages of the changes";
    "upload.changes_previous" => "Précédente",
        "Previous";
    "upload.changes_search" => "Compte ou raison sociale",
        "Account or company name";
    "upload.changes_show_all" => "Tout afficher",
        "Show all";
    "upload.changes_to_existing_customers" => "Modifications des clients existants",
        "Changes to existing customers";
    "upload.check_not_finished" => "Le contrôle de ce fichier n’est pas terminé.",
        "The check of this file is not finished.";
    "upload.check_report" => "Rapport de contrôle",
        "Check report";
    "upload.checking" => "Contrôle en cours…",
        "Checking…";
    "upload.column" => "Colonne",
        "Column";
    "upload.column_mapping" => "Correspondance des colonnes",
        "Column mapping";
    "upload.column_refused" => "Colonne {column} : {error}",
        "Column {column}: {error}";
    "upload.columns_unmapped" => "Des colonnes ressemblent à des champs du pack sans y être associées : choisissez leur champ (ou ignorez-les) dans « Correspondance des colonnes », puis importez.",
        "Some columns look like pack fields but are not mapped: choose their field (or ignore them) under “Column mapping”, then import.";
    "upload.confirm_identity" => "{n|Je confirme que ce client devient une autre société|Je confirme que ces {count} clients deviennent d’autres sociétés}",
        "{n|I confirm that this customer becomes another company|I confirm that these {count} customers become other companies}";
    "upload.confirm_identity_first" => "Cet import ferait de clients existants d’autres sociétés : cochez la confirmation au-dessus du bouton Importer si c’est voulu.",
        "This import would make existing customers other companies: tick the confirmation above the Import button if this is meant.";
    "upload.contacts_contacts_tab" => "Contacts (onglet Contacts)",
        "Contacts (Contacts tab)";
    "upload.contacts_n" => "{n|contact|contacts}",
        "{n|contact|contacts}";
    "upload.created_n" => "{n|créé|créés}",
        "created";
    "upload.delimiter" => "séparateur",
        "delimiter";
    "upload.done" => "terminé :",
        "done:";
    "upload.download_the_annotated_workbook_xlsx" => "Télécharger le fichier annoté (XLSX)",
        "Download the annotated workbook (XLSX)";
    "upload.download_the_rejected_rows" => "Télécharger les lignes en erreur",
        "Download the rejected rows";
    "upload.encoding" => "Encodage",
        "Encoding";
    "upload.errors" => "Erreurs",
        "Errors";
    "upload.errors_n" => "{n|erreur|erreurs}",
        "{n|error|errors}";
    "upload.field" => "Champ",
        "Field";
    "upload.file_and_rows" => "Fichier et lignes",
        "File and rows";
    "upload.first_values" => "Premières valeurs",
        "First values";
    "upload.fix_the_errors_in_your" => "Corrigez les erreurs dans votre tableur puis déposez le fichier de nouveau, ou importez seulement les lignes valides.",
        "Fix the errors in your spreadsheet and upload the file again, or import only the valid rows.";
    "upload.has_errors" => "Le fichier contient des erreurs : corrigez-les, ou cochez « ignorer les lignes invalides ».",
        "The file has errors: fix them, or tick “skip invalid rows”.";
    "upload.fix_in_browser" => "Corriger dans le navigateur",
        "Fix in the browser";
    "upload.heading_in_the_file" => "Intitulé dans le fichier",
        "Heading in the file";
    "upload.identity_changes" => "{n|1 client existant deviendrait une autre société|{count} clients existants deviendraient d’autres sociétés}",
        "{n|1 existing customer would become another company|{count} existing customers would become other companies}";
    "upload.ignore_this_column" => "— Ignorer cette colonne —",
        "— Ignore this column —";
    "upload.ignored" => "ignorées",
        "ignored";
    "upload.import" => "Importer",
        "Import";
    "upload.importing" => "Import en cours…",
        "Importing…";
    "upload.issue" => "Problème",
        "Issue";
    "upload.issue_views" => "Vues des problèmes",
        "Views of the issues";
    "upload.issues_by_row" => "Problèmes par ligne",
        "Issues by row";
    "upload.it_had" => "Avant l’annulation :",
        "Before the undo:";
    "upload.issues_by_column" => "Problèmes par colonne",
        "Issues by column";
    "upload.kib" => "Kio",
        "KiB";
    "upload.mapped" => "associée par la correspondance",
        "mapped";
    "upload.mapping_offered_not_applied" => "Ses choix sont présélectionnés ci-dessous, mais ne s’appliquent que lorsque vous cliquez sur « Appliquer et contrôler de nouveau ».",
        "Its choices are selected below, but apply only when you press \"Apply and check again\".";
    "upload.mapping_used_last_time" => "Correspondance utilisée la dernière fois pour ces intitulés",
        "Mapping used last time for these headings";
    "upload.message" => "Message",
        "Message";
    "upload.mib" => "Mio",
        "MiB";
    "upload.more_issues_not_listed_see" => "autres problèmes non listés (voir le fichier annoté)",
        "more issues not listed (see the annotated workbook)";
    "upload.more_see_the_annotated_workbook" => "autres (voir le fichier annoté)",
        "more (see the annotated workbook)";
    "upload.next_rows" => "Lignes suivantes",
        "Next rows";
    "upload.no_issue_the_file_can" => "Aucun problème : le fichier peut être importé.",
        "No issue: the file can be imported.";
    "upload.no_usable_report" => "Ce fichier n’a pas (encore) de rapport de contrôle utilisable.",
        "This file has no usable check report (yet).";
    "upload.nothing_was_imported_the_file" => "Rien n’a été importé : le fichier contient des erreurs.",
        "Nothing was imported: the file has errors.";
    "upload.pack_field" => "Champ du pack",
        "Pack field";
    "upload.page_of" => "page {page} sur {pages}",
        "page {page} of {pages}";
    "upload.pages_of_rows" => "Pages des lignes",
        "Pages of rows";
    "upload.previous_rows" => "Lignes précédentes",
        "Previous rows";
    "upload.recognised_columns" => "Colonnes reconnues",
        "Recognised columns";
    "upload.refresh" => "Actualiser",
        "Refresh";
    "upload.row" => "Ligne",
        "Row";
    "upload.rows" => "Lignes",
        "Rows";
    "upload.rows_read" => "lignes lues",
        "rows read";
    "upload.rows_rejected_n" => "{n|ligne rejetée|lignes rejetées}",
        "{n|row rejected|rows rejected}";
    "upload.rows_with_issues" => "{n|Une ligne a des problèmes|Lignes {first} à {last} sur {total} ayant des problèmes}",
        "{n|One row has issues|Rows {first} to {last} of {total} with issues}";
    "upload.see_the_customers" => "Voir les clients",
        "See the customers";
    "upload.sheet" => "Onglet",
        "Sheet";
    "upload.skip_invalid_rows" => "Ignorer les lignes invalides",
        "Skip invalid rows";
    "upload.some_columns_look_like_pack" => "Des colonnes ressemblent à des champs du pack mais leur intitulé n’est pas reconnu. Vérifiez le champ proposé pour chacune (ou choisissez « Ignorer »), puis contrôlez de nouveau : rien n’est importé d’ici là.",
        "Some columns look like pack fields but their headings are not recognised. Check the field proposed for each (or choose “Ignore”), then check again: nothing is imported until then.";
    "upload.the_check_failed" => "Le contrôle a échoué :",
        "The check failed:";
    "upload.the_check_or_import_of" => "Le contrôle ou l’import de ce fichier a été interrompu (serveur redémarré ?) ; rien n’a été écrit. Déposez-le de nouveau.",
        "The check or import of this file was interrupted (server restarted?); nothing was written. Upload it again.";
    "upload.the_import_failed_the_database" => "L’import a échoué ; la base n’a pas changé.",
        "The import failed; the database did not change.";
    "upload.their_names_and_their_sirets" => "leur raison sociale et leur SIRET (ou numéro de TVA) changent tous deux. Le plus souvent, les comptes clients du fichier sont déjà pris par d’autres clients.",
        "their names and their SIRETs (or VAT numbers) all change. Most often, the file’s customer accounts are already taken by other customers.";
    "upload.this_file_cannot_be_read" => "Ce fichier ne peut pas être lu comme un pack :",
        "This file cannot be read as a pack:";
    "upload.this_page_updates_itself" => "La page se met à jour toute seule.",
        "This page updates itself.";
    "upload.to_confirm_proposed_from_the" => "à confirmer : proposé d’après l’intitulé ou les valeurs",
        "to confirm: proposed from the heading or the values";
    "upload.to_create" => "À créer",
        "To create";
    "upload.to_update" => "À mettre à jour",
        "To update";
    "upload.unchanged_n" => "{n|inchangé|inchangés}",
        "unchanged";
    "upload.undone_on" => "annulé le",
        "undone on";
    "upload.updated" => "mis à jour",
        "updated";
    "upload.upload_a_file" => "Déposer un fichier",
        "Upload a file";
    "upload.upload_another_file" => "Déposer un autre fichier",
        "Upload another file";
    "upload.uploaded" => "déposé le",
        "uploaded";
    "upload.value" => "Valeur",
        "Value";
    "upload.waiting_in_the_queue_files" => "En file d’attente : fichiers avant celui-ci",
        "Waiting in the queue: files ahead of this one";
    "upload.warnings" => "Avertissements",
        "Warnings";
    "upload.warnings_n" => "{n|avertissement|avertissements}",
        "{n|warning|warnings}";
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashSet;

    #[test]
    fn ids_are_unique_and_texts_agree() {
        let mut seen = HashSet::new();
        for m in MESSAGES {
            assert!(seen.insert(m.id), "{} given twice", m.id);
            assert!(!m.fr.is_empty() && !m.en.is_empty(), "{} is empty", m.id);
            // Every `{name}` inserted, at any depth (plural forms may nest placeholders). A
            // plural choice `{n|…}` may exist in one language only ("créé"/"créés": "created").
            let names = |t: &str| -> Vec<String> {
                let mut v: Vec<String> = t
                    .split('{')
                    .skip(1)
                    .filter_map(|p| {
                        let name: String = p
                            .chars()
                            .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
                            .collect();
                        p[name.len()..].starts_with('}').then_some(name)
                    })
                    .collect();
                v.sort();
                v.dedup();
                v
            };
            assert_eq!(names(m.fr), names(m.en), "{}: placeholders differ", m.id);
        }
    }

    #[test]
    fn placeholders_and_plurals() {
        let n = |lang, k: i64| {
            fill(
                lang,
                "{n} {n|ligne rejetée|lignes rejetées}",
                &[("n", k.into())],
            )
        };
        assert_eq!(n(Lang::Fr, 1), "1 ligne rejetée");
        assert_eq!(n(Lang::Fr, 0), "0 lignes rejetées");
        assert_eq!(n(Lang::Fr, 2), "2 lignes rejetées");
        let en = |k: i64| fill(Lang::En, "{n} {n|row|rows}", &[("n", k.into())]);
        assert_eq!(en(1), "1 row");
        assert_eq!(en(0), "0 rows");
        // A grouped number still chooses; a missing argument stays visible.
        assert_eq!(
            fill(Lang::Fr, "{n|un|des} {x}", &[("n", "1\u{202f}000".into())]),
            "des {x}"
        );
        assert_eq!(fill(Lang::En, "a {b", &[]), "a {b");
        let nested = |k: i64| {
            fill(
                Lang::Fr,
                "{n|une ligne|{count} lignes}",
                &[("n", k.into()), ("count", format!("{k}").into())],
            )
        };
        assert_eq!(nested(1), "une ligne");
        assert_eq!(nested(12), "12 lignes");
    }

    #[test]
    fn lookups() {
        assert_eq!(text(Lang::En, "no.such.id"), "no.such.id");
        assert!(exists("issue.checksum"));
        assert_eq!(
            lookup(Lang::En, "field.name"),
            Some(crate::Field::name.def().label_en)
        );
        assert!(lookup(Lang::Fr, "issue.unknown").is_some_and(|t| t.starts_with("Colonne")));
        for m in MESSAGES {
            assert!(exists(m.id));
        }
    }
}

/// The server checks its own ids (`every_message_id_exists` in its `web::layout`); these
/// crates use the catalogue too, and have no page to show a missing id on but a report.
#[cfg(test)]
mod ids_in_use {
    use super::exists;

    /// Every `"group.id"` literal of the groups below, in the Rust sources of core, pack,
    /// import and the command line, names a message.
    #[test]
    fn every_message_id_of_these_crates_exists() {
        let groups = ["cli", "common", "contact", "import", "pack"];
        let crates = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
        let dirs: Vec<_> = ["core", "pack", "import", "cli"]
            .iter()
            .map(|c| crates.join(c).join("src"))
            .collect();
        let ids = clientele_testkit::message_ids_in(&dirs, |g, rest| {
            groups.contains(&g) && !["rs", "html", "xlsx", "csv", "toml"].contains(&rest)
        });
        assert!(
            ids.iter()
                .filter(|(f, _)| !f.ends_with("messages.rs"))
                .count()
                > 50
        );
        for (file, id) in ids {
            assert!(exists(&id), "{file}: no message {id}");
        }
    }
}
