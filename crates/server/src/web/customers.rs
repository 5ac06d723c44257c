//! Customer pages: the dashboard, the list with search and filters, a customer with its
//! contacts, the edit form (validated by the same rules as the pack and the API).

use super::error::{Page, WebError};
use super::forms::{Posted, WebQuery};
use super::session::{Web, CSRF_FIELD};
use crate::error::Error;
use crate::input::Input;
use crate::state::ApiContext;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect};
use clientele_core::catalogue::{Kind, FIELDS};
use clientele_core::messages;
use clientele_core::model::{Customer, VatRegime};
use clientele_core::{msg, Field, Lang};
use clientele_store::{ListQuery, SortKey};
use minijinja::{context, Value};
use serde_json::{json, Map, Value as Jv};
use std::collections::HashMap;

/// Customers per page of the list.
const PER_PAGE: u64 = 50;

/// A VAT regime's name (`customers.regime.<code>`).
fn regime_label(code: &str, lang: Lang) -> &'static str {
    let id = match code {
        "standard" => "customers.regime.standard",
        "reverse_charge_operator" => "customers.regime.reverse_charge_operator",
        "reverse_charge_eu" => "customers.regime.reverse_charge_eu",
        "not_charged" => "customers.regime.not_charged",
        _ => "customers.regime.unknown",
    };
    messages::lookup(lang, id).unwrap_or(id)
}

/// Counts by status, VIP, on-call, reseller level and VAT regime, with bar charts.
pub async fn dashboard(web: Web, State(state): State<ApiContext>) -> Page {
    let (stats, contacts, imports) = state
        .db(|s| {
            let imports: Vec<_> = s.imports()?.into_iter().take(5).collect();
            Ok((s.stats()?, s.count_contacts()?, imports))
        })
        .await?;
    let lang = web.lang;
    let total = stats.total.max(1) as f64;
    let bar = |label: String, n: u64, href: String| json!({"label": label, "n": n, "pct": (n as f64 * 100.0 / total).round(), "href": href});
    let (yes, no) = (
        msg!(lang, "dashboard.active_n"),
        msg!(lang, "dashboard.inactive_n"),
    );
    let status = vec![
        bar(yes, stats.active, "/customers?active=1".into()),
        bar(
            no,
            stats.total - stats.active.min(stats.total),
            "/customers?active=0".into(),
        ),
        bar("VIP".into(), stats.vip, "/customers?vip=1".into()),
        bar(
            msg!(lang, "dashboard.on_call_contract"),
            stats.on_call,
            "/customers?onCallDuty=1".into(),
        ),
    ];
    let levels: Vec<Jv> = stats
        .reseller_levels
        .iter()
        .map(|(level, n)| {
            let l = match level {
                Some(l) => msg!(lang, "dashboard.level", level = *l),
                None => msg!(lang, "dashboard.no_level"),
            };
            let href = level.map_or("/customers?reseller=1".into(), |l| {
                format!("/customers?level={l}")
            });
            bar(l, *n, href)
        })
        .collect();
    let regimes: Vec<Jv> = VatRegime::ALL
        .iter()
        .map(|r| {
            let n = stats
                .vat_regimes
                .iter()
                .find(|(c, _)| c == r.code())
                .map_or(0, |(_, n)| *n);
            bar(
                regime_label(r.code(), lang).into(),
                n,
                format!("/customers?regime={}", r.code()),
            )
        })
        .collect();
    Ok(web.page(
        "dashboard.html",
        "dashboard",
        context! {
            total => stats.total,
            contacts => contacts,
            status => Value::from_serialize(&status),
            levels => Value::from_serialize(&levels),
            regimes => Value::from_serialize(&regimes),
            imports => Value::from_serialize(&imports),
        },
    ))
}

/// The list's query string.
#[derive(Debug, Default, serde::Deserialize, serde::Serialize)]
pub struct ListParams {
    #[serde(default)]
    q: String,
    #[serde(default)]
    active: String,
    #[serde(default)]
    vip: String,
    #[serde(default, rename = "onCallDuty")]
    on_call: String,
    #[serde(default)]
    reseller: String,
    #[serde(default)]
    level: String,
    #[serde(default)]
    regime: String,
    /// A sort as the API writes it (`name`, `-updated_at`); the name, A to Z, by default.
    #[serde(default)]
    sort: String,
    #[serde(default)]
    page: String,
}

/// The list's sortable columns: the `sort` key (as the API's `sort` parameter), the store's
/// key and the heading's message id. Every one is read in the order of an index.
const SORTABLE: [(&str, SortKey, &str); 4] = [
    ("customerAccount", SortKey::Account, "common.account"),
    ("name", SortKey::Name, "customers.company_name"),
    ("created_at", SortKey::CreatedAt, "customers.created"),
    ("updated_at", SortKey::UpdatedAt, "customers.updated"),
];

/// Page numbers shown either side of the current one (first and last always are).
const PAGES_AROUND: u64 = 2;

/// The page numbers of the pager: the first, the last, and [`PAGES_AROUND`] either side of
/// `page`; `None` stands for the pages left out between two of them.
fn page_numbers(page: u64, pages: u64) -> Vec<Option<u64>> {
    let around = page.saturating_sub(PAGES_AROUND).max(1)..=(page + PAGES_AROUND).min(pages);
    let mut shown: Vec<u64> = std::iter::once(1)
        .chain(around)
        .chain(std::iter::once(pages))
        .collect();
    shown.dedup();
    let mut out = Vec::new();
    for n in shown {
        match out.last() {
            Some(Some(prev)) if n <= *prev => continue,
            // A gap of one page shows that page rather than an ellipsis standing for it.
            Some(Some(prev)) if n == prev + 2 => out.push(Some(prev + 1)),
            Some(Some(prev)) if n > prev + 2 => out.push(None),
            _ => {}
        }
        out.push(Some(n));
    }
    out
}

/// A link to the list with the same search and filters, another sort and page (the empty
/// parameters left out, so that the links stay short).
fn list_link(p: &ListParams, sort: &str, page: u64) -> String {
    let mut pairs: Vec<(&str, &str)> = [
        ("q", p.q.as_str()),
        ("active", &p.active),
        ("vip", &p.vip),
        ("onCallDuty", &p.on_call),
        ("reseller", &p.reseller),
        ("level", &p.level),
        ("regime", &p.regime),
        ("sort", sort),
    ]
    .into_iter()
    .filter(|(_, v)| !v.is_empty())
    .collect();
    let page = page.to_string();
    pairs.push(("page", &page));
    let query = serde_urlencoded::to_string(&pairs).unwrap_or_default();
    format!("/customers?{query}")
}

fn tri(s: &str) -> Option<bool> {
    match s {
        "1" => Some(true),
        "0" => Some(false),
        _ => None,
    }
}

/// The list with search, filters and pagination.
pub async fn list(
    web: Web,
    State(state): State<ApiContext>,
    WebQuery(p): WebQuery<ListParams>,
) -> Page {
    let lang = web.lang;
    let page = p.page.parse::<u64>().unwrap_or(1).clamp(1, 1_000_000);
    // An unknown sort (a hand-edited link) is the default rather than an error page.
    let sort = crate::customers::parse_sort(p.sort.trim())
        .filter(|(k, _)| SORTABLE.iter().any(|(_, key, _)| key == k))
        .unwrap_or((SortKey::Name, false));
    let mut flags = Vec::new();
    for (f, v) in [
        (Field::active, &p.active),
        (Field::vip, &p.vip),
        (Field::onCallDuty, &p.on_call),
        (Field::isReseller, &p.reseller),
    ] {
        if let Some(b) = tri(v) {
            flags.push((f, b));
        }
    }
    let term = p.q.trim().to_string();
    let q = ListQuery {
        term: (!term.is_empty()).then_some(term),
        flags,
        reseller_level: p.level.trim().parse().ok(),
        vat_regime: VatRegime::ALL
            .iter()
            .find(|r| r.code() == p.regime)
            .map(|r| r.code().to_string()),
        sort: Some(sort),
        offset: (page - 1) * PER_PAGE,
        limit: PER_PAGE,
        ..ListQuery::default()
    };
    let (rows, total) = state.db(move |s| s.list_customers(&q)).await?;
    let rows: Vec<Jv> = rows
        .iter()
        .map(|c| {
            json!({
                "id": c.id,
                "account": c.text(Field::customerAccount),
                "name": c.text(Field::name),
                "siret": c.text(Field::registrationNumber),
                "city": c.text(Field::mainAddressCity),
                "phone": c.text(Field::phone).or(c.text(Field::mobilePhone)),
                "active": c.flag(Field::active),
                "vip": c.flag(Field::vip),
                "onCall": c.flag(Field::onCallDuty),
                "regime": regime_label(c.vat_regime().code(), lang),
                "created": c.created_at,
                "updated": c.updated_at,
            })
        })
        .collect();
    let pages = total.div_ceil(PER_PAGE).max(1);
    // The sort as the links write it: none for the default, so that the default list's
    // links stay as they were.
    let sort_text = match sort {
        (SortKey::Name, false) => String::new(),
        (key, desc) => SORTABLE
            .iter()
            .find(|(_, k, _)| *k == key)
            .map(|(name, _, _)| format!("{}{name}", if desc { "-" } else { "" }))
            .unwrap_or_default(),
    };
    let link = |n: u64| list_link(&p, &sort_text, n);
    // Each sortable heading: a link that sorts by it (from page 1), ascending first, then
    // the other way once it is the sort.
    let headings: Vec<Jv> = SORTABLE
        .iter()
        .map(|(name, key, label)| {
            let current = (sort.0 == *key).then_some(sort.1);
            let next = if current == Some(false) {
                format!("-{name}")
            } else {
                (*name).to_string()
            };
            json!({
                "label": messages::text(lang, label),
                "href": list_link(&p, &next, 1),
                "sort": current.map(|desc| if desc { "descending" } else { "ascending" }),
            })
        })
        .collect();
    let numbers: Vec<Jv> = page_numbers(page, pages)
        .into_iter()
        .map(|n| match n {
            Some(n) => json!({"n": n, "href": link(n), "current": n == page}),
            None => json!({"gap": true}),
        })
        .collect();
    let regimes: Vec<Jv> = VatRegime::ALL
        .iter()
        .map(|r| json!({"code": r.code(), "label": regime_label(r.code(), lang)}))
        .collect();
    Ok(web.page(
        "customers.html",
        "customers",
        context! {
            rows => Value::from_serialize(&rows),
            total => total,
            page => page,
            pages => pages,
            numbers => Value::from_serialize(&numbers),
            headings => Value::from_serialize(&headings),
            prev => (page > 1).then(|| link(page - 1)),
            next => (page < pages).then(|| link(page + 1)),
            p => Value::from_serialize(&p),
            regimes => Value::from_serialize(&regimes),
        },
    ))
}

fn id_of(raw: &str) -> Result<i64, WebError> {
    crate::customers::id_of(raw).map_err(|_| WebError::not_found())
}

/// Every field of a customer for display: label, value as text, boolean or not, the
/// official lists' warnings on it, and a note (the label of the activity code).
fn fields_of(c: &Customer, lang: Lang) -> Vec<Jv> {
    let warnings = clientele_core::validate::list_issues(c);
    FIELDS
        .iter()
        .map(|d| {
            let v = c.get(d.id);
            let text = match (d.kind, v) {
                (Kind::Bool, _) => {
                    let b = c.flag(d.id);
                    messages::text(lang, if b { "common.yes" } else { "common.no" })
                }
                (_, Some(v)) => v.to_text(),
                (_, None) => String::new(),
            };
            let warn: Vec<String> = warnings
                .iter()
                .filter(|i| i.field == d.id)
                .map(|i| i.message(lang))
                .collect();
            let note = (d.id == Field::activityCode).then(|| c.activity_label()).flatten();
            json!({"key": d.api_key, "label": messages::field_label(lang, d), "value": text, "url": d.kind == Kind::Url,
                   "warnings": warn, "note": note})
        })
        .collect()
}

/// Entries of a customer's history shown on its page.
const HISTORY: u64 = 50;

/// A customer: every field, its VAT regime and invoice mention, its contacts.
pub async fn show(web: Web, State(state): State<ApiContext>, Path(id): Path<String>) -> Page {
    let id = id_of(&id)?;
    let (c, contacts, mut history, created_by) = state
        .db(move |s| {
            Ok((
                s.customer(id)?,
                s.contacts_of(id)?,
                s.audit_of("customer", id, HISTORY)?,
                s.creating_import(id)?,
            ))
        })
        .await
        .map_err(|e| WebError::from(e).with_lang(web.lang))?;
    // The import that created it is the oldest entry (later imports' updates are in the
    // import history, not per customer: see docs/decisions.md).
    if let Some((import, file, at, actor)) = created_by {
        history.push(clientele_store::AuditRecord {
            at,
            actor: actor.unwrap_or_else(|| "—".into()),
            action: "import".into(),
            kind: "import".into(),
            item: import,
            label: Some(file),
        });
    }
    let lang = web.lang;
    let regime = c.vat_regime();
    let contacts: Vec<Jv> = contacts.iter().map(|k| k.to_api_json()).collect();
    Ok(web.page(
        "customer.html",
        "customers",
        context! {
            id => c.id,
            name => c.text(Field::name),
            account => c.text(Field::customerAccount),
            fields => Value::from_serialize(fields_of(&c, lang)),
            regime => regime_label(regime.code(), lang),
            mention => regime.mention(),
            contacts => Value::from_serialize(&contacts),
            created_at => c.created_at.clone(),
            updated_at => c.updated_at.clone(),
            history => Value::from_serialize(&history),
            saved => web.path.contains("saved=1"),
        },
    ))
}

/// The communes of a postal code, for the edit form's proposals: a JSON array of names in
/// their official spelling (empty for a code no commune has).
pub async fn communes(_web: Web, Path(code): Path<String>) -> axum::Json<Vec<&'static str>> {
    axum::Json(clientele_core::lists::city_names_of(&code))
}

/// The edit form's fields: label, input name, current or submitted value, type, errors and
/// warnings.
fn form_fields(
    values: &HashMap<String, String>,
    errors: &Map<String, Jv>,
    warnings: &[Jv],
    lang: Lang,
) -> Vec<Jv> {
    FIELDS
        .iter()
        .map(|d| {
            let warn: Vec<&Jv> = warnings
                .iter()
                .filter(|w| w["key"] == d.api_key)
                .map(|w| &w["message"])
                .collect();
            json!({
                "key": d.api_key,
                "label": messages::field_label(lang, d),
                "value": values.get(d.api_key).cloned().unwrap_or_default(),
                "bool": d.kind == Kind::Bool,
                "options": options(d.kind, lang),
                "errors": errors.get(d.api_key).cloned().unwrap_or(Jv::Null),
                "warnings": warn,
                "help": d.help,
                "group": group_of(d.id),
            })
        })
        .collect()
}

/// The choices of a field with a closed list (value, label), for a select; none for free
/// input.
fn options(kind: Kind, lang: Lang) -> Vec<(&'static str, &'static str)> {
    let name = |id: &'static str| messages::lookup(lang, id).unwrap_or(id);
    match kind {
        Kind::Language => vec![
            ("fr", name("edit.language.fr")),
            ("en", name("edit.language.en")),
        ],
        Kind::LegalForm => clientele_core::ident::legal_form::ABBREVIATIONS
            .iter()
            .map(|a| (*a, *a))
            .collect(),
        _ => Vec::new(),
    }
}

/// The section of the edit form a field belongs to (index into [`GROUPS`]).
fn group_of(f: Field) -> usize {
    match f {
        Field::customerAccount
        | Field::accountsReference
        | Field::name
        | Field::type_
        | Field::capital
        | Field::activityCode
        | Field::sector_id
        | Field::origin_id => 0,
        Field::registrationNumber
        | Field::taxRegistrationNumber
        | Field::chargeVAT
        | Field::applyVATAutoReverseOperators => 1,
        Field::mainAddressLine1
        | Field::mainAddressLine2
        | Field::postalCode
        | Field::mainAddressCity
        | Field::mainAddressCountry
        | Field::website
        | Field::phone
        | Field::mobilePhone
        | Field::fax
        | Field::emailAddress => 2,
        Field::active | Field::onCallDuty | Field::vip => 3,
        _ => 4,
    }
}

/// The edit form's sections, in order (their titles' message ids).
const GROUPS: [&str; 5] = [
    "edit.group.identity",
    "edit.group.tax",
    "edit.group.address",
    "edit.group.routing",
    "edit.group.other",
];

/// The form's fields by section, and the key of the first field in error (focused).
fn form_groups(fields: Vec<Jv>, lang: Lang) -> (Vec<Jv>, Option<String>) {
    let first_error = fields
        .iter()
        .find(|f| !f["errors"].is_null())
        .and_then(|f| f["key"].as_str().map(str::to_string));
    let groups = GROUPS
        .iter()
        .enumerate()
        .map(|(i, id)| {
            let members: Vec<&Jv> = fields.iter().filter(|f| f["group"] == i).collect();
            json!({"title": messages::text(lang, id), "fields": members})
        })
        .collect();
    (groups, first_error)
}

/// A customer's values as the form shows them (booleans as `1`/`0`).
fn values_of(c: &Customer) -> HashMap<String, String> {
    FIELDS
        .iter()
        .filter_map(|d| {
            let v = match d.kind {
                Kind::Bool => if c.flag(d.id) { "1" } else { "0" }.to_string(),
                _ => c.get(d.id)?.to_text(),
            };
            Some((d.api_key.to_string(), v))
        })
        .collect()
}

/// The edit form.
pub async fn edit_form(web: Web, State(state): State<ApiContext>, Path(id): Path<String>) -> Page {
    let id = id_of(&id)?;
    let c = state
        .db(move |s| s.customer(id))
        .await
        .map_err(|e| WebError::from(e).with_lang(web.lang))?;
    Ok(web.page(
        "edit.html",
        "customers",
        context! {
            id => c.id,
            name => c.text(Field::name),
            groups => Value::from_serialize(form_groups(form_fields(&values_of(&c), &Map::new(), &[], web.lang), web.lang).0),
        },
    ))
}

/// Save the edit form: the same rules as the API; errors shown next to their fields.
pub async fn edit(
    State(state): State<ApiContext>,
    Path(id): Path<String>,
    Posted { web, form }: Posted,
) -> Page {
    let id = id_of(&id)?;
    let submitted: HashMap<String, String> = form
        .iter()
        .filter(|(k, _)| k != CSRF_FIELD)
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect();
    let input = Input {
        map: submitted
            .iter()
            .map(|(k, v)| (k.clone(), Jv::String(v.clone())))
            .collect(),
    };
    let actor = web.session.user.email.clone();
    match crate::customers::apply_update(
        &state,
        actor,
        id,
        &input,
        crate::customers::Source::Form,
        web.lang,
    )
    .await
    {
        Ok(_) => Ok(Redirect::to(&format!("/customers/{id}?saved=1")).into_response()),
        Err(Error::Invalid(inv)) => {
            let name = state
                .db(move |s| s.customer(id))
                .await
                .ok()
                .and_then(|c| c.text(Field::name).map(str::to_string));
            let fields = form_fields(&submitted, inv.errors(), inv.warnings(), web.lang);
            let in_error: Vec<Jv> = fields
                .iter()
                .filter(|f| !f["errors"].is_null())
                .map(|f| json!({"key": f["key"], "label": f["label"], "errors": f["errors"]}))
                .collect();
            let (groups, first_error) = form_groups(fields, web.lang);
            let mut r = web.page(
                "edit.html",
                "customers",
                context! {
                    id => id,
                    name => name,
                    invalid => true,
                    in_error => Value::from_serialize(&in_error),
                    first_error => first_error,
                    groups => Value::from_serialize(&groups),
                },
            );
            *r.status_mut() = StatusCode::UNPROCESSABLE_ENTITY;
            Ok(r)
        }
        Err(e) => Err(WebError::from(e).with_lang(web.lang)),
    }
}

#[cfg(test)]
mod tests {
    use super::page_numbers;

    #[test]
    fn pager_shows_first_last_and_neighbours() {
        assert_eq!(page_numbers(1, 1), [Some(1)]);
        assert_eq!(page_numbers(1, 3), [Some(1), Some(2), Some(3)]);
        assert_eq!(
            page_numbers(1, 100),
            [Some(1), Some(2), Some(3), None, Some(100)]
        );
        // A single page left out is shown rather than an ellipsis.
        assert_eq!(
            page_numbers(5, 9),
            [
                Some(1),
                Some(2),
                Some(3),
                Some(4),
                Some(5),
                Some(6),
                Some(7),
                Some(8),
                Some(9)
            ]
        );
        assert_eq!(
            page_numbers(50, 100),
            [
                Some(1),
                None,
                Some(48),
                Some(49),
                Some(50),
                Some(51),
                Some(52),
                None,
                Some(100)
            ]
        );
        assert_eq!(
            page_numbers(100, 100),
            [Some(1), None, Some(98), Some(99), Some(100)]
        );
    }
}
