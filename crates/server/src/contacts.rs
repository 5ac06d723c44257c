//! `/api/v1/contacts`: the contacts of a customer (bare arrays), CRUD, and the contact
//! owning a phone number.

use crate::auth::{Reader, Writer};
use crate::error::{ApiResult, Error, Invalid};
use crate::extract::ReqLang;
use crate::input::{cell_of, Input};
use crate::state::ApiContext;
use axum::extract::{Path, State};
use axum::http::{header, HeaderName, StatusCode};
use axum::Json as Body;
use clientele_core::contact::{
    self, column_by_key, Contact, ContactColumn, ContactIssue, ContactKind,
};
use clientele_core::ident::phone;
use clientele_core::issue::{Problem, Severity};
use clientele_core::validate::Cell;
use clientele_core::Lang;
use clientele_store::StoreError;
use serde_json::{json, Value as Json};

/// The customer a request names with `contactable_type` and `contactable_id`.
fn contactable(input: &Input, required: bool) -> ApiResult<Option<i64>> {
    if let Some(t) = input.text("contactable_type") {
        let folded: String = t
            .chars()
            .filter(char::is_ascii_alphanumeric)
            .collect::<String>()
            .to_ascii_lowercase();
        if !matches!(
            folded.as_str(),
            "appcustomer" | "appmodelscustomer" | "customer" | "customers" | ""
        ) {
            return Err(invalid(
                "contactable_type",
                "contactable_type.invalid",
                "The contactable type must be App\\Customer (or customer).",
            ));
        }
    }
    match input.text("contactable_id").map(|s| s.trim().to_string()) {
        Some(s) if !s.is_empty() => match s.parse::<i64>() {
            Ok(id) if id > 0 => Ok(Some(id)),
            _ => Err(invalid(
                "contactable_id",
                "contactable_id.invalid",
                "The contactable id must be a customer id.",
            )),
        },
        _ if required => Err(invalid(
            "contactable_id",
            "contactable_id.required",
            "The contactable id field is required.",
        )),
        _ => Ok(None),
    }
}

fn invalid(key: &str, code: &str, message: &str) -> Error {
    Error::Invalid(Box::new(Invalid::one(key, code, message)))
}

/// Validate the input on top of `base`.
fn validated(input: &Input, base: &Contact, lang: Lang) -> ApiResult<Contact> {
    let mut inv = Invalid::new();
    let mut cells: Vec<(&'static ContactColumn, Cell)> = Vec::new();
    for (k, v) in &input.map {
        let Some(col) = column_by_key(k) else {
            continue;
        };
        match cell_of(v) {
            // A JSON boolean in a column that is not a boolean is a wrong type, not "TRUE".
            Some(Cell::Bool(b)) if !matches!(col.kind, ContactKind::Bool(_)) => {
                let i = ContactIssue::new(
                    col.key,
                    Problem::Invalid,
                    b.to_string(),
                    " (true or false where a text or a number is expected)",
                );
                inv.push(i.key, &i.code(), &i.message(lang));
            }
            Some(c) => {
                // The API key wins over another spelling of the same column.
                if let Some(pos) = cells.iter().position(|(c2, _)| c2.key == col.key) {
                    if k != col.key {
                        continue;
                    }
                    cells.remove(pos);
                }
                cells.push((col, c));
            }
            None => inv.push(
                col.key,
                &format!("{}.invalid", col.key),
                &format!("{}: a single value is expected", col.key),
            ),
        }
    }
    let (c, issues) = contact::apply(base, &cells);
    for i in &issues {
        // A column of the wrong type was given: its error says enough.
        if i.problem == Problem::Required && inv.errors().contains_key(i.key) {
            continue;
        }
        match i.severity() {
            Severity::Error => inv.push(i.key, &i.code(), &i.message(lang)),
            Severity::Warning => inv.warn(i.key, &i.code(), &i.message(lang)),
        }
    }
    inv.check()?;
    Ok(c)
}

async fn customer_exists(state: &ApiContext, id: i64) -> ApiResult<()> {
    match state.db(move |s| s.customer(id).map(|_| ())).await {
        Err(Error::NotFound) => Err(invalid(
            "contactable_id",
            "contactable_id.unknown",
            "No customer has this id.",
        )),
        other => other,
    }
}

/// The contacts of a customer.
#[utoipa::path(get, path = "/api/v1/contacts", tag = "contacts",
    params(("contactable_type" = Option<String>, Query, description = "`App\\Customer` or `customer`"),
           ("contactable_id" = i64, Query, description = "Customer id")),
    responses((status = 200, description = "Bare array of contact objects", body = serde_json::Value), (status = 400, description = "Malformed request: a query string or form that is not UTF-8, malformed JSON or multipart"), (status = 401), (status = 403), (status = 422)),
    security(("bearer" = [])))]
pub async fn list(
    _: Reader,
    State(state): State<ApiContext>,
    input: Input,
) -> ApiResult<Body<Json>> {
    let Some(id) = contactable(&input, true)? else {
        return Ok(Body(json!([])));
    };
    let rows = state.db(move |s| s.contacts_of(id)).await?;
    Ok(Body(Json::Array(
        rows.iter().map(Contact::to_api_json).collect(),
    )))
}

/// Create a contact of a customer; `lastName` is required.
#[utoipa::path(post, path = "/api/v1/contacts", tag = "contacts",
    params(("contactable_type" = Option<String>, Query, description = "`App\\Customer` or `customer`"),
           ("contactable_id" = i64, Query, description = "Customer id (also accepted in the body)")),
    request_body(content = serde_json::Value, description = "Contact fields"),
    responses((status = 201, description = "The created contact", body = serde_json::Value,
               headers(("Location" = String, description = "`/api/v1/contacts/{id}`"))),
              (status = 400, description = "Malformed request: a query string or form that is not UTF-8, malformed JSON or multipart"), (status = 401), (status = 403), (status = 422)),
    security(("bearer" = [])))]
pub async fn create(
    Writer(actor): Writer,
    State(state): State<ApiContext>,
    ReqLang(lang): ReqLang,
    input: Input,
) -> ApiResult<(StatusCode, [(HeaderName, String); 1], Body<Json>)> {
    let customer = contactable(&input, true)?.unwrap_or_default();
    let c = validated(&input, &Contact::new(customer), lang)?;
    customer_exists(&state, customer).await?;
    let stored = state.db_as(actor, move |s| s.create_contact(&c)).await?;
    state.sync().await?;
    let location = format!("/api/v1/contacts/{}", stored.id);
    Ok((
        StatusCode::CREATED,
        [(header::LOCATION, location)],
        Body(stored.to_api_json()),
    ))
}

/// One contact.
#[utoipa::path(get, path = "/api/v1/contacts/{id}", tag = "contacts",
    params(("id" = i64, Path, description = "Contact id")),
    responses((status = 200, description = "The contact object", body = serde_json::Value), (status = 401), (status = 403), (status = 404)),
    security(("bearer" = [])))]
pub async fn show(
    _: Reader,
    State(state): State<ApiContext>,
    Path(id): Path<String>,
) -> ApiResult<Body<Json>> {
    let id = crate::customers::id_of(&id)?;
    Ok(Body(state.db(move |s| s.contact(id)).await?.to_api_json()))
}

/// Update any subset of a contact's fields (`contactable_id` moves it to another customer).
#[utoipa::path(method(put, patch), path = "/api/v1/contacts/{id}", tag = "contacts",
    params(("id" = i64, Path, description = "Contact id")),
    request_body(content = serde_json::Value, description = "Any subset of the contact fields"),
    responses((status = 200, description = "The updated contact", body = serde_json::Value), (status = 400, description = "Malformed request: a query string or form that is not UTF-8, malformed JSON or multipart"), (status = 401), (status = 403), (status = 404), (status = 422)),
    security(("bearer" = [])))]
pub async fn update(
    Writer(actor): Writer,
    State(state): State<ApiContext>,
    ReqLang(lang): ReqLang,
    Path(id): Path<String>,
    input: Input,
) -> ApiResult<Body<Json>> {
    let id = crate::customers::id_of(&id)?;
    let stored = state.db(move |s| s.contact(id)).await?;
    let mut base = stored.clone();
    if let Some(customer) = contactable(&input, false)? {
        if customer != base.customer_id {
            customer_exists(&state, customer).await?;
            base.customer_id = customer;
        }
    }
    let c = validated(&input, &base, lang)?;
    // Nothing changed: no write, `updated_at` kept (as Laravel's save() of a clean model).
    if c == stored {
        return Ok(Body(stored.to_api_json()));
    }
    let stored = state.db_as(actor, move |s| s.update_contact(&c)).await?;
    state.sync().await?;
    Ok(Body(stored.to_api_json()))
}

/// Delete a contact.
#[utoipa::path(delete, path = "/api/v1/contacts/{id}", tag = "contacts",
    params(("id" = i64, Path, description = "Contact id")),
    responses((status = 200, description = "`{\"message\":\"Deleted.\"}`", body = serde_json::Value), (status = 400, description = "Malformed request: a query string or form that is not UTF-8, malformed JSON or multipart"), (status = 401), (status = 403), (status = 404)),
    security(("bearer" = [])))]
pub async fn delete(
    Writer(actor): Writer,
    State(state): State<ApiContext>,
    Path(id): Path<String>,
    _input: Input,
) -> ApiResult<Body<Json>> {
    let id = crate::customers::id_of(&id)?;
    state.db_as(actor, move |s| s.delete_contact(id)).await?;
    state.sync().await?;
    Ok(Body(json!({"message": "Deleted."})))
}

/// The contact owning a phone number, with its customer's name.
#[utoipa::path(get, path = "/api/v1/contacts/numbers", tag = "contacts",
    params(("phoneNumber" = String, Query, description = "Phone number, any usual spelling")),
    responses((status = 200, description = "`{\"data\":{…contact…,\"company\":\"…\"}}`", body = serde_json::Value),
              (status = 404, description = "`{\"response\":\"Contact not found\"}`"), (status = 400, description = "Malformed request: a query string or form that is not UTF-8, malformed JSON or multipart"), (status = 401), (status = 403), (status = 422)),
    security(("bearer" = [])))]
pub async fn by_number(
    _: Reader,
    State(state): State<ApiContext>,
    input: Input,
) -> ApiResult<Body<Json>> {
    let Some(raw) = input
        .first_text(&["phoneNumber", "phone_number", "number"])
        .filter(|s| !s.trim().is_empty())
    else {
        return Err(invalid(
            "phoneNumber",
            "phoneNumber.required",
            "The phone number field is required.",
        ));
    };
    let Some(e164) = phone::fast_key(&raw).filter(|e| e.starts_with('+')) else {
        return Err(Error::ContactNotFound);
    };
    let found = state
        .db(move |s| {
            let Some(c) = s.contact_by_phone(&e164)? else {
                return Ok(None);
            };
            let company = match s.customer(c.customer_id) {
                Ok(cu) => cu.text(clientele_core::Field::name).map(str::to_string),
                Err(StoreError::NotFound) => None,
                Err(e) => return Err(e),
            };
            Ok(Some((c, company)))
        })
        .await?;
    let Some((c, company)) = found else {
        return Err(Error::ContactNotFound);
    };
    let mut j = c.to_api_json();
    if let Json::Object(m) = &mut j {
        m.insert("company".into(), json!(company.unwrap_or_default()));
    }
    Ok(Body(json!({ "data": j })))
}
