//! `/api/v1/customers`: list (Laravel paginator), show, by account, search, create, update,
//! delete. Input goes through the same rules as the pack import (`parse_cells` and
//! `check_row`), so a 422 carries the same codes as an import report.

use crate::auth::{Reader, Writer};
use crate::error::{ApiResult, Error, Invalid};
use crate::extract::{BaseUrl, ReqLang};
use crate::input::{cell_of, query_pairs, Input};
use crate::state::ApiContext;
use axum::extract::{Path, RawQuery, State};
use axum::http::{header, HeaderMap, HeaderName, HeaderValue, StatusCode};
use axum::Json as Body;
use clientele_core::catalogue::{field_by_api_key, Field, Kind};
use clientele_core::issue::{FieldIssue, Problem};
use clientele_core::model::{Customer, Record};
use clientele_core::msg;
use clientele_core::validate::{
    check_row, is_french_customer, pad_postal_code, parse_bool, parse_cells,
    refuse_short_postal_code, Cell, Cells,
};
use clientele_core::Lang;
use clientele_store::{ListQuery, SortKey, StoreError};
use serde_json::{json, Value as Json};

/// Largest page.
pub const MAX_PER_PAGE: u64 = 500;
/// Largest page number (beyond, offsets stop making sense).
const MAX_PAGE: u64 = 1_000_000_000;

/// Raw cells from the input, by field: the API key wins over other spellings of the same
/// field; unknown and read-only keys are ignored. A JSON boolean in a field that is not a
/// boolean is a wrong type (the pack would store a spreadsheet's TRUE as text): an issue.
fn cells_of(input: &Input, inv: &mut Invalid, issues: &mut Vec<FieldIssue>) -> Cells {
    let mut cells: Cells = std::array::from_fn(|_| None);
    let mut prio = [0u8; clientele_core::N_FIELDS];
    for (k, v) in &input.map {
        let Some(f) = field_by_api_key(k) else {
            continue;
        };
        let p = if f.def().api_key == k { 2 } else { 1 };
        if p < prio[f.idx()] {
            continue;
        }
        match cell_of(v) {
            Some(Cell::Bool(b)) if f.def().kind != Kind::Bool => {
                issues.push(FieldIssue::new(
                    f,
                    Problem::Invalid,
                    b.to_string(),
                    " (true or false where a text or a number is expected)",
                ));
            }
            Some(c) => {
                cells[f.idx()] = Some(c);
                prio[f.idx()] = p;
            }
            None => {
                let key = f.def().api_key;
                inv.push(
                    key,
                    &format!("{}.invalid", f.key()),
                    &format!("{key}: a single value is expected, not a list or an object"),
                );
            }
        }
    }
    cells
}

/// `language_id` from the input: 1 or 2 (null or blank: absent); anything else is an error.
fn language_id(input: &Input, inv: &mut Invalid, lang: Lang) -> Option<i64> {
    let id = match input.get("language_id")? {
        Json::Null => return None,
        Json::String(s) if s.trim().is_empty() => return None,
        Json::String(s) => s.trim().parse().ok(),
        Json::Number(n) => n.as_i64(),
        _ => None,
    };
    if let Some(id @ (1 | 2)) = id {
        return Some(id);
    }
    let message = msg!(lang, "api.language_id_invalid");
    inv.push("language_id", "language_id.invalid", &message);
    None
}

/// A resource id from the path: a positive integer, anything else is not found.
pub(crate) fn id_of(raw: &str) -> ApiResult<i64> {
    raw.parse::<i64>()
        .ok()
        .filter(|i| *i > 0)
        .ok_or(Error::NotFound)
}

/// Validate the input on top of `base` (a new customer or the stored one).
async fn validated(
    state: &ApiContext,
    input: &Input,
    base: &Customer,
    creating: bool,
    source: Source,
    lang: Lang,
) -> ApiResult<(Customer, Vec<Json>)> {
    let mut inv = Invalid::new();
    let mut type_issues = Vec::new();
    let mut cells = cells_of(input, &mut inv, &mut type_issues);
    let language_id = language_id(input, &mut inv, lang);
    let language_given = cells[Field::language.idx()].is_some()
        || type_issues.iter().any(|i| i.field == Field::language);
    // `language_id` alone sets the language, but only when it changes what the API answers:
    // a customer without a language already answers 1, and an SDK sending the object back
    // must not change it.
    if let Some(id) = language_id.filter(|_| !language_given) {
        if clientele_core::model::language_id(base.text(Field::language)) != id {
            let code = if id == 2 { "en" } else { "fr" };
            cells[Field::language.idx()] = Some(Cell::Text(code.into()));
        }
    }
    // A blank account on update keeps the stored one (on create, one is generated).
    if !creating
        && cells[Field::customerAccount.idx()]
            .as_ref()
            .is_some_and(Cell::is_blank)
    {
        cells[Field::customerAccount.idx()] = None;
    }
    let (rec, mut issues): (Record, Vec<FieldIssue>) = parse_cells(cells);
    issues.append(&mut type_issues);
    // A name of the wrong type was given: its error says enough.
    let named = rec.present[Field::name.idx()] || issues.iter().any(|i| i.field == Field::name);
    if creating && !named {
        issues.push(FieldIssue::new(Field::name, Problem::Required, "", ""));
    }
    if let Some(id) = language_id.filter(|_| language_given) {
        let language = rec.text(Field::language);
        let failed = issues.iter().any(|i| i.field == Field::language);
        if !failed && clientele_core::model::language_id(language) != id {
            let language = language.unwrap_or("");
            let message = msg!(
                lang,
                "api.language_id_mismatch",
                id = id,
                language = language
            );
            inv.push("language_id", "language_id.invalid", &message);
        }
    }
    let mut merged = rec.merge_into(base);
    match source {
        Source::Api => pad_postal_code(&rec.present, &mut merged, &mut issues),
        Source::Form => refuse_short_postal_code(&rec.present, &merged, &mut issues),
    }
    let was_french = (!creating).then(|| is_french_customer(base));
    check_row(&rec.present, &merged, was_french, &mut issues);
    inv.field_issues(&issues, lang);
    if let Some(account) = merged.text(Field::customerAccount).map(str::to_string) {
        if base.text(Field::customerAccount) != Some(account.as_str()) && inv.is_empty() {
            let a = account.clone();
            let taken = state
                .db(move |s| Ok(s.customer_by_account(&a).ok().map(|c| c.id)))
                .await?;
            if taken.is_some_and(|id| id != base.id) {
                inv.field_issues(
                    &[FieldIssue::new(
                        Field::customerAccount,
                        Problem::Taken,
                        account,
                        "",
                    )],
                    lang,
                );
            }
        }
    }
    let warnings = inv.warnings().to_vec();
    inv.check()?;
    merged.id = base.id;
    Ok((merged, warnings))
}

/// Name of the response header carrying the warnings of a successful create or update.
pub const WARNINGS_HEADER: &str = "x-clientele-warnings";

/// The warnings of a successful create or update, as a header: the BlueRockTEL body (the
/// customer object at the top level) stays exactly as its clients expect, and clients that
/// know Clientèle read `X-Clientele-Warnings`, a JSON array of `{key, code, message}` with
/// every non-ASCII character escaped (`\u00e9`) so that it is a valid header value.
fn warnings_header(warnings: &[Json]) -> HeaderMap {
    let mut h = HeaderMap::new();
    if warnings.is_empty() {
        return h;
    }
    let text = Json::Array(warnings.to_vec()).to_string();
    let mut ascii = String::with_capacity(text.len() + 16);
    for c in text.chars() {
        if c.is_ascii() {
            ascii.push(c);
        } else {
            let mut buf = [0u16; 2];
            for unit in c.encode_utf16(&mut buf) {
                ascii.push_str(&format!("\\u{unit:04x}"));
            }
        }
    }
    // Only printable ASCII is left (serde_json escapes control characters): always valid.
    if let Ok(v) = HeaderValue::from_str(&ascii) {
        h.insert(HeaderName::from_static(WARNINGS_HEADER), v);
    }
    h
}

fn taken(e: StoreError, c: &Customer, lang: Lang) -> Error {
    match e {
        StoreError::Conflict(_) => {
            let mut inv = Invalid::new();
            inv.field_issues(
                &[FieldIssue::new(
                    Field::customerAccount,
                    Problem::Taken,
                    c.text(Field::customerAccount).unwrap_or_default(),
                    "",
                )],
                lang,
            );
            Error::Invalid(Box::new(inv))
        }
        other => other.into(),
    }
}

fn parse_whole(input: &Input, key: &str, default: u64, max: u64, inv: &mut Invalid) -> u64 {
    match input.text(key).map(|s| s.trim().to_string()) {
        None => default,
        Some(s) if s.is_empty() => default,
        Some(s) => match s.parse::<u64>() {
            Ok(n) if (1..=max).contains(&n) => n,
            _ => {
                inv.push(
                    key,
                    &format!("{key}.invalid"),
                    &format!("The {key} must be a whole number between 1 and {max}."),
                );
                default
            }
        },
    }
}

const FILTERS: &str = "name, customerAccount, term_match, active, vip, onCallDuty, isReseller, resellerLevel, vatRegime";
const SORTS: &str = "id, name, customerAccount, created_at, updated_at";

/// A sort as the API's `sort` parameter (and the customer list page's) writes it: a key,
/// `-` before it for descending (`-updated_at`).
pub(crate) fn parse_sort(text: &str) -> Option<(SortKey, bool)> {
    let (desc, key) = text.strip_prefix('-').map_or((false, text), |k| (true, k));
    let k = match key {
        "id" => SortKey::Id,
        "name" => SortKey::Name,
        "customerAccount" | "customer_account" => SortKey::Account,
        "created_at" | "createdAt" => SortKey::CreatedAt,
        "updated_at" | "updatedAt" => SortKey::UpdatedAt,
        _ => return None,
    };
    Some((k, desc))
}

/// Read filters, sort and page of a list request.
fn list_query(input: &Input) -> ApiResult<(ListQuery, u64, u64)> {
    let mut inv = Invalid::new();
    let page = parse_whole(input, "page", 1, MAX_PAGE, &mut inv);
    let per_page = parse_whole(input, "per_page", 15, MAX_PER_PAGE, &mut inv);
    let mut q = ListQuery::default();
    let mut unknown = Vec::new();
    for (k, v) in &input.map {
        let Some(name) = k.strip_prefix("filter[").and_then(|r| r.strip_suffix(']')) else {
            continue;
        };
        let text = match v {
            Json::String(s) => s.trim().to_string(),
            Json::Null => continue,
            other => other.to_string(),
        };
        if text.is_empty() {
            continue;
        }
        let key = format!("filter[{name}]");
        match name {
            "name" => q.name = Some(text),
            "customerAccount" | "customer_account" => q.account = Some(text),
            "term_match" | "term" => q.term = Some(text),
            "active" | "vip" | "onCallDuty" | "on_call_duty" | "isReseller" | "is_reseller" => {
                let f = field_by_api_key(name).unwrap_or(Field::active);
                match parse_bool(&Cell::Text(text.as_str().into()), &text) {
                    Some(b) => q.flags.push((f, b)),
                    None => inv.push(&key, &format!("{key}.invalid"), &format!("The {key} filter must be 1 or 0 (true or false).")),
                }
            }
            "resellerLevel" | "reseller_level" => match text.parse::<i64>() {
                Ok(n) if (1..=99).contains(&n) => q.reseller_level = Some(n),
                _ => inv.push(&key, &format!("{key}.invalid"), &format!("The {key} filter must be a whole number from 1 to 99.")),
            },
            "vatRegime" | "vat_regime" => match clientele_core::VatRegime::ALL.iter().find(|r| r.code() == text) {
                Some(r) => q.vat_regime = Some(r.code().to_string()),
                None => inv.push(&key, &format!("{key}.invalid"), &format!("The {key} filter must be one of standard, reverse_charge_operator, reverse_charge_eu, not_charged.")),
            },
            other => unknown.push(other.to_string()),
        }
    }
    if !unknown.is_empty() {
        unknown.sort();
        return Err(Error::BadRequest(format!(
            "Requested filter(s) `{}` are not allowed. Allowed filter(s) are `{FILTERS}`.",
            unknown.join(", ")
        )));
    }
    if let Some(sort) = input.text("sort").filter(|s| !s.trim().is_empty()) {
        let first = sort.split(',').next().unwrap_or("").trim();
        let Some(sort) = parse_sort(first) else {
            return Err(Error::BadRequest(format!(
                "Requested sort(s) `{first}` is not allowed. Allowed sort(s) are `{SORTS}`."
            )));
        };
        q.sort = Some(sort);
    }
    inv.check()?;
    q.limit = per_page;
    q.offset = (page - 1).saturating_mul(per_page);
    Ok((q, page, per_page))
}

/// The Laravel paginator body. `query` is the request's query string without `page`
/// (encoded, possibly empty): page links keep the filters, sort and page size, as Laravel's
/// `withQueryString()` does.
pub fn paginator(
    path: &str,
    query: &str,
    page: u64,
    per_page: u64,
    total: u64,
    data: Vec<Json>,
) -> Json {
    let last_page = total.div_ceil(per_page).max(1);
    let offset = (page - 1) * per_page;
    let url = |n: u64| match query {
        "" => format!("{path}?page={n}"),
        q => format!("{path}?{q}&page={n}"),
    };
    let n = data.len() as u64;
    json!({
        "current_page": page,
        "data": data,
        "first_page_url": url(1),
        "from": if n == 0 { Json::Null } else { json!(offset + 1) },
        "last_page": last_page,
        "last_page_url": url(last_page),
        "next_page_url": if page < last_page { json!(url(page + 1)) } else { Json::Null },
        "path": path,
        "per_page": per_page,
        "prev_page_url": if page > 1 { json!(url(page - 1)) } else { Json::Null },
        "to": if n == 0 { Json::Null } else { json!(offset + n) },
        "total": total,
    })
}

/// Paginated list of customers.
#[utoipa::path(get, path = "/api/v1/customers", tag = "customers",
    params(("page" = Option<u64>, Query, description = "Page, from 1"),
           ("per_page" = Option<u64>, Query, description = "Page size, 15 by default, at most 500"),
           ("filter[name]" = Option<String>, Query, description = "Name contains (accent- and case-insensitive)"),
           ("filter[customerAccount]" = Option<String>, Query, description = "Account equals"),
           ("filter[term_match]" = Option<String>, Query, description = "Account, name, SIRET, VAT number or phone matches"),
           ("filter[active]" = Option<bool>, Query), ("filter[vip]" = Option<bool>, Query), ("filter[onCallDuty]" = Option<bool>, Query),
           ("filter[isReseller]" = Option<bool>, Query), ("filter[resellerLevel]" = Option<i64>, Query),
           ("sort" = Option<String>, Query, description = "id, name, customerAccount, created_at, updated_at; `-` for descending")),
    responses((status = 200, description = "Laravel paginator of customer objects", body = serde_json::Value),
              (status = 400, description = "Unknown filter or sort"), (status = 401), (status = 403), (status = 422, description = "Bad page, per_page or filter value")),
    security(("bearer" = [])))]
pub async fn list(
    _: Reader,
    State(state): State<ApiContext>,
    BaseUrl(base): BaseUrl,
    RawQuery(raw_query): RawQuery,
    input: Input,
) -> ApiResult<Body<Json>> {
    let (q, page, per_page) = list_query(&input)?;
    let kept: Vec<(String, String)> = query_pairs(raw_query.as_deref().unwrap_or(""))?
        .into_iter()
        .filter(|(k, _)| k != "page")
        .collect();
    let query = serde_urlencoded::to_string(&kept).map_err(Error::internal)?;
    let (rows, total) = state.db(move |s| s.list_customers(&q)).await?;
    let path = format!("{base}/api/v1/customers");
    Ok(Body(paginator(
        &path,
        &query,
        page,
        per_page,
        total,
        rows.iter().map(Customer::to_api_json).collect(),
    )))
}

/// Customers matching a term (account, name, SIRET, VAT number), best first, at most 50.
#[utoipa::path(get, path = "/api/v1/customers/search", tag = "customers",
    params(("term" = String, Query, description = "Search term")),
    responses((status = 200, description = "Bare array of customer objects", body = serde_json::Value), (status = 400, description = "Malformed request: a query string or form that is not UTF-8, malformed JSON or multipart"), (status = 401), (status = 403)),
    security(("bearer" = [])))]
pub async fn search(
    _: Reader,
    State(state): State<ApiContext>,
    input: Input,
) -> ApiResult<Body<Json>> {
    let term = input
        .first_text(&["term", "q", "filter[term_match]"])
        .map(|t| t.trim().to_string())
        .unwrap_or_default();
    if term.is_empty() {
        return Ok(Body(json!([])));
    }
    let q = ListQuery {
        term: Some(term),
        limit: 50,
        // An array of the best matches: no total to count.
        without_count: true,
        ..ListQuery::default()
    };
    let (rows, _) = state.db(move |s| s.list_customers(&q)).await?;
    Ok(Body(Json::Array(
        rows.iter().map(Customer::to_api_json).collect(),
    )))
}

/// One customer.
#[utoipa::path(get, path = "/api/v1/customers/{id}", tag = "customers",
    params(("id" = i64, Path, description = "Customer id")),
    responses((status = 200, description = "The customer object", body = serde_json::Value), (status = 401), (status = 403), (status = 404)),
    security(("bearer" = [])))]
pub async fn show(
    _: Reader,
    State(state): State<ApiContext>,
    Path(id): Path<String>,
) -> ApiResult<Body<Json>> {
    let id = id_of(&id)?;
    let c = state.db(move |s| s.customer(id)).await?;
    Ok(Body(c.to_api_json()))
}

/// One customer by account.
#[utoipa::path(get, path = "/api/v1/customerAccounts/{customerAccount}", tag = "customers",
    params(("customerAccount" = String, Path, description = "Customer account")),
    responses((status = 200, description = "The customer object", body = serde_json::Value), (status = 401), (status = 403), (status = 404)),
    security(("bearer" = [])))]
pub async fn by_account(
    _: Reader,
    State(state): State<ApiContext>,
    Path(account): Path<String>,
) -> ApiResult<Body<Json>> {
    let c = state
        .db(move |s| s.customer_by_account(account.trim()))
        .await?;
    Ok(Body(c.to_api_json()))
}

/// Create a customer: only `name` is required; the account is generated when absent.
#[utoipa::path(post, path = "/api/v1/customers", tag = "customers",
    request_body(content = serde_json::Value, description = "Customer fields by API key (camelCase or snake_case), as JSON, form or query string"),
    responses((status = 201, description = "The created customer", body = serde_json::Value,
               headers(("Location" = String, description = "`/api/v1/customers/{id}`"))),
              (status = 400, description = "Malformed body"),
              (status = 401), (status = 403), (status = 422, description = "`{message, errors, codes}`")),
    security(("bearer" = [])))]
pub async fn create(
    Writer(actor): Writer,
    State(state): State<ApiContext>,
    ReqLang(lang): ReqLang,
    input: Input,
) -> ApiResult<(StatusCode, [(HeaderName, String); 1], HeaderMap, Body<Json>)> {
    let (c, warnings) =
        validated(&state, &input, &Customer::new(), true, Source::Api, lang).await?;
    let c2 = c.clone();
    let stored = state
        .db_as(actor, move |s| Ok(s.create_customer(&c2)))
        .await?
        .map_err(|e| taken(e, &c, lang))?;
    state.sync().await?;
    let location = format!("/api/v1/customers/{}", stored.id);
    Ok((
        StatusCode::CREATED,
        [(header::LOCATION, location)],
        warnings_header(&warnings),
        Body(stored.to_api_json()),
    ))
}

/// Update any subset of a customer's fields.
#[utoipa::path(method(put, patch), path = "/api/v1/customers/{id}", tag = "customers",
    params(("id" = i64, Path, description = "Customer id")),
    request_body(content = serde_json::Value, description = "Any subset of the customer fields"),
    responses((status = 200, description = "The updated customer", body = serde_json::Value), (status = 400), (status = 401), (status = 403), (status = 404), (status = 422)),
    security(("bearer" = [])))]
pub async fn update(
    Writer(actor): Writer,
    State(state): State<ApiContext>,
    ReqLang(lang): ReqLang,
    Path(id): Path<String>,
    input: Input,
) -> ApiResult<(HeaderMap, Body<Json>)> {
    let (stored, warnings) =
        apply_update(&state, actor, id_of(&id)?, &input, Source::Api, lang).await?;
    Ok((warnings_header(&warnings), Body(stored.to_api_json())))
}

/// Where a customer's values come from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Source {
    /// An API client: values as its data holds them (often from spreadsheets), so a French
    /// postal code that lost its zero gets it back, with a warning, as in a pack.
    Api,
    /// A person typing in the edit form: nothing typed is rewritten.
    Form,
}

/// Validate `input` (API keys) on top of customer `id` and store it: the API's update and
/// the web edit form; the write is recorded as made by `actor`. Gives the stored customer
/// and the warnings.
pub(crate) async fn apply_update(
    state: &ApiContext,
    actor: String,
    id: i64,
    input: &Input,
    source: Source,
    lang: Lang,
) -> ApiResult<(Customer, Vec<Json>)> {
    let base = state.db(move |s| s.customer(id)).await?;
    let (c, warnings) = validated(state, input, &base, false, source, lang).await?;
    // Like Laravel's save() of a clean model: no write, so `updated_at` (which decides
    // routing among customers sharing a number) only moves on a real change.
    if c.same_values(&base) {
        return Ok((base, warnings));
    }
    let c2 = c.clone();
    let stored = state
        .db_as(actor, move |s| Ok(s.update_customer(&c2)))
        .await?
        .map_err(|e| taken(e, &c, lang))?;
    state.sync().await?;
    Ok((stored, warnings))
}

/// Delete a customer and its contacts.
#[utoipa::path(delete, path = "/api/v1/customers/{id}", tag = "customers",
    params(("id" = i64, Path, description = "Customer id")),
    responses((status = 200, description = "`{\"message\":\"Deleted.\"}`", body = serde_json::Value), (status = 400, description = "Malformed request: a query string or form that is not UTF-8, malformed JSON or multipart"), (status = 401), (status = 403), (status = 404)),
    security(("bearer" = [])))]
pub async fn delete(
    Writer(actor): Writer,
    State(state): State<ApiContext>,
    Path(id): Path<String>,
    _input: Input,
) -> ApiResult<Body<Json>> {
    let id = id_of(&id)?;
    state.db_as(actor, move |s| s.delete_customer(id)).await?;
    state.sync().await?;
    Ok(Body(json!({"message": "Deleted."})))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paginator_shapes() {
        let p = paginator("http://h/api/v1/customers", "", 1, 15, 0, vec![]);
        assert_eq!(p["last_page"], json!(1));
        assert_eq!(p["current_page"], json!(1));
        assert_eq!(p["from"], Json::Null);
        let p = paginator("http://h/p", "sort=-id", 2, 15, 31, vec![json!({}); 15]);
        assert_eq!(p["last_page"], json!(3));
        assert_eq!(p["from"], json!(16));
        assert_eq!(p["to"], json!(30));
        assert_eq!(p["next_page_url"], json!("http://h/p?sort=-id&page=3"));
        assert_eq!(p["prev_page_url"], json!("http://h/p?sort=-id&page=1"));
        assert_eq!(p["path"], json!("http://h/p"));
    }
}
