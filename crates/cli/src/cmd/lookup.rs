//! `clientele lookup`: what the call-routing routes would answer for a number (or a
//! customer account), from the same index as the server.

use crate::args::{Cli, Output};
use crate::db;
use crate::error::CliResult;
use clientele_server::index::{Answer, ContactNames};
use clientele_store::ApiStore;
use serde_json::{json, Value as Json};

/// What the index answers for the input, read as a phone number and as an account.
struct Found {
    e164: Option<String>,
    by_phone: Option<Answer>,
    by_account: Option<Answer>,
    /// The names of the contact the phone number belongs to (the index holds none).
    phone_names: ContactNames,
}

/// `clientele lookup NUMBER`.
pub fn run(cli: &Cli, number: &str, format: Output) -> CliResult {
    let store = db::open_api(&cli.db)?;
    let index = clientele_server::index::load(store.as_ref())?;
    let by_phone = index.by_phone(number);
    let by_account = index.by_account(number);
    let (phone_details, phone_names) = details(store.as_ref(), by_phone.as_ref())?;
    let (account_details, _) = details(store.as_ref(), by_account.as_ref())?;
    let found = Found {
        e164: clientele_core::ident::phone::fast_key(number),
        by_phone,
        by_account,
        phone_names,
    };
    match format {
        Output::Json => {
            let out = routes_json(number, &found, phone_details, account_details);
            println!("{}", serde_json::to_string_pretty(&out).unwrap_or_default());
        }
        Output::Human => print_human(number, &found),
    }
    Ok(())
}

/// The details route's answer, and the contact's names it holds, read as the server does.
fn details(store: &dyn ApiStore, a: Option<&Answer>) -> CliResult<(Json, ContactNames)> {
    let Some(a) = a else {
        return Ok((json!({"known": false}), ContactNames::default()));
    };
    let names = match a.contact {
        Some(id) => ContactNames::read(store, id)?,
        None => ContactNames::default(),
    };
    Ok((a.details(&names), names))
}

/// What each routing route would answer, as JSON.
fn routes_json(number: &str, found: &Found, phone_details: Json, account_details: Json) -> Json {
    let (by_phone, by_account) = (found.by_phone.as_ref(), found.by_account.as_ref());
    json!({
        "input": number,
        "e164": found.e164,
        "phone": {
            "isKnownPhoneNumber": by_phone.is_some(),
            "isVipByPhoneNumber": flag(by_phone, |a| a.vip),
            "hasOnCallDutyContractByPhoneNumber": flag(by_phone, |a| a.on_call),
            "callerId": by_phone.map(Answer::caller_id),
            "details": phone_details,
        },
        "account": {
            "isKnownCustomerAccount": by_account.is_some(),
            "isVipByCustomerAccount": flag(by_account, |a| a.vip),
            "hasOnCallDutyContractByCustomerAccount": flag(by_account, |a| a.on_call),
            "details": account_details,
        },
    })
}

/// A yes/no route's answer: the flag, or the 404 it gives for an unknown input.
fn flag(found: Option<&Answer>, f: fn(&Answer) -> bool) -> Json {
    found.map_or(
        json!({"status": 404, "body": {"message": "not found"}}),
        |a| json!(f(a)),
    )
}

/// The answers for a person: the number's customer (or that it is unknown), then the
/// account's when the input is one.
fn print_human(number: &str, found: &Found) {
    let shown = found.e164.as_deref().unwrap_or(number);
    match &found.by_phone {
        Some(a) => {
            println!("Number {shown}: {}", describe(a, &found.phone_names));
            println!("  callerId: {}", a.caller_id());
        }
        None => println!(
            "Number {shown}: unknown (isKnownPhoneNumber false; VIP and on-call routes answer 404)"
        ),
    }
    if let Some(a) = &found.by_account {
        println!(
            "Account {number}: {}",
            describe(a, &ContactNames::default())
        );
    }
}

/// One customer's answer: account, name, flags, and the contact the number belongs to.
fn describe(a: &Answer, names: &ContactNames) -> String {
    let contact = a.contact.map_or(String::new(), |id| {
        format!(
            ", contact #{id} {}",
            [names.first_name.as_deref(), names.last_name.as_deref()]
                .into_iter()
                .flatten()
                .collect::<Vec<_>>()
                .join(" ")
        )
    });
    format!(
        "{} {} (VIP: {}, on-call: {}{contact})",
        a.account,
        a.name,
        yes(a.vip),
        yes(a.on_call)
    )
}

fn yes(b: bool) -> &'static str {
    if b {
        "yes"
    } else {
        "no"
    }
}
