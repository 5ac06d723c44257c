//! `clientele serve`, `user add` and `lookup`: the commands of the API.

use crate::cmd::{FAILURE, OK, UNUSABLE};
use crate::{Cli, Output};
use clap::{Subcommand, ValueEnum};
use clientele_core::Lang;
use clientele_server::auth;
use clientele_server::index::{Answer, ContactNames};
use clientele_store::{ApiStore, StoreError};
use serde_json::{json, Value as Json};
use std::io::Read;
use std::sync::Arc;

/// `clientele user …`
#[derive(Subcommand)]
pub enum UserAction {
    /// Create a user; the password is read from standard input.
    Add {
        /// E-mail (the login).
        email: String,
        /// Display name (default: the part of the e-mail before `@`).
        #[arg(long)]
        name: Option<String>,
    },
}

/// Scope of a token.
#[derive(Clone, Copy, Debug, ValueEnum, PartialEq, Eq)]
pub enum ScopeArg {
    /// Read customers and contacts.
    Read,
    /// Read and write.
    Write,
    /// Only the call-routing routes (may be passed as `?api_token=`).
    Lookup,
}

fn open(cli: &Cli) -> Result<Arc<dyn ApiStore>, u8> {
    clientele_store::open_api(&cli.db).map_err(|e| {
        eprintln!(
            "clientele: cannot open the database {}: {e}",
            clientele_store::redact(&cli.db)
        );
        FAILURE
    })
}

fn failure(e: &StoreError) -> u8 {
    eprintln!("clientele: {e}");
    match e {
        StoreError::Db(_) | StoreError::Io(_) => FAILURE,
        _ => UNUSABLE,
    }
}

/// `clientele serve`.
pub fn serve(cli: &Cli, lang: Lang, args: &crate::ops::ServeArgs) -> Result<u8, u8> {
    let addr = args.addr().map_err(|e| {
        eprintln!("clientele: {e}");
        UNUSABLE
    })?;
    let mut opts = args.options(lang).map_err(|e| {
        eprintln!("clientele: {e}");
        UNUSABLE
    })?;
    let store = open(cli)?;
    // Asked before the runtime starts: the PostgreSQL client blocks on a runtime of its own.
    let no_users = store.count_users().is_ok_and(|n| n == 0);
    if no_users {
        // A one-time code, printed below: whoever reads this server's output may create the
        // first administrator in the browser (/setup); nobody else can.
        opts.setup_code = Some(setup_code());
    }
    let rt = tokio::runtime::Runtime::new().map_err(|e| {
        eprintln!("clientele: cannot start: {e}");
        FAILURE
    })?;
    // The last reference to the store is dropped here, after the runtime: closing
    // PostgreSQL connections blocks, which a runtime thread may not do.
    let keep = store.clone();
    let served = rt.block_on(async move {
        let listener = tokio::net::TcpListener::bind(addr).await.map_err(|e| {
            eprintln!("clientele: cannot listen on {addr}: {e}");
            FAILURE
        })?;
        eprintln!(
            "Clientèle listening on http://{addr} (database {})",
            clientele_store::redact(&cli.db)
        );
        if no_users {
            let db = if clientele_store::is_postgres(&cli.db) {
                "<the same database>".to_string()
            } else {
                cli.db.clone()
            };
            let url = opts
                .public_url
                .clone()
                .unwrap_or_else(|| format!("http://{addr}"));
            eprintln!(
                "No user yet: open {url}/setup and give the setup code {}\nto create the first administrator (or: clientele --db {db} user add you@example.fr)",
                opts.setup_code.as_deref().unwrap_or("")
            );
        }
        clientele_server::serve(store, listener, opts)
            .await
            .map_err(|e| {
                eprintln!("clientele: server error: {e}");
                FAILURE
            })?;
        Ok(OK)
    });
    drop(rt);
    drop(keep);
    served
}

/// `clientele user add`.
pub fn user(cli: &Cli, action: &UserAction) -> Result<u8, u8> {
    let UserAction::Add { email, name } = action;
    let email = email.trim();
    if !email.contains('@') || email.contains(char::is_whitespace) {
        eprintln!("clientele: {email}: not an e-mail address");
        return Err(UNUSABLE);
    }
    let mut input = String::new();
    if std::io::IsTerminal::is_terminal(&std::io::stdin()) {
        eprintln!("Password (then Enter):");
    }
    std::io::stdin().read_to_string(&mut input).map_err(|e| {
        eprintln!("clientele: cannot read the password: {e}");
        FAILURE
    })?;
    let password = input
        .lines()
        .next()
        .unwrap_or("")
        .trim_end_matches('\r')
        .to_string();
    if let Err(e) = clientele_server::password::check(&password) {
        eprintln!("clientele: {e} (read from standard input)");
        return Err(UNUSABLE);
    }
    let hash = auth::hash_password(&password).map_err(|e| {
        eprintln!("clientele: cannot hash the password: {e}");
        FAILURE
    })?;
    let name = name
        .clone()
        .unwrap_or_else(|| email.split('@').next().unwrap_or(email).to_string());
    let store = open(cli)?;
    let u = store
        .create_user(&name, email, &hash)
        .map_err(|e| failure(&e))?;
    eprintln!("User #{} {} <{}> created.", u.id, u.name, u.email);
    Ok(OK)
}

fn flag(found: Option<&Answer>, f: fn(&Answer) -> bool) -> Json {
    found.map_or(
        json!({"status": 404, "body": {"message": "not found"}}),
        |a| json!(f(a)),
    )
}

/// `clientele lookup`: the answers of the routing routes, from the same index as the server.
pub fn lookup(cli: &Cli, number: &str, format: Output) -> Result<u8, u8> {
    let store = open(cli)?;
    let index = clientele_server::index::load(store.as_ref()).map_err(|e| failure(&e))?;
    let by_phone = index.by_phone(number);
    let by_account = index.by_account(number);
    let e164 = clientele_core::ident::phone::fast_key(number);
    // The index holds no contact names: the details read them as the server does.
    let details = |a: Option<&Answer>| -> Result<(Json, ContactNames), u8> {
        let Some(a) = a else {
            return Ok((json!({"known": false}), ContactNames::default()));
        };
        let names = match a.contact {
            Some(id) => ContactNames::read(store.as_ref(), id).map_err(|e| failure(&e))?,
            None => ContactNames::default(),
        };
        Ok((a.details(&names), names))
    };
    let (phone_details, phone_names) = details(by_phone.as_ref())?;
    let (account_details, _) = details(by_account.as_ref())?;
    let out = json!({
        "input": number,
        "e164": e164,
        "phone": {
            "isKnownPhoneNumber": by_phone.is_some(),
            "isVipByPhoneNumber": flag(by_phone.as_ref(), |a| a.vip),
            "hasOnCallDutyContractByPhoneNumber": flag(by_phone.as_ref(), |a| a.on_call),
            "callerId": by_phone.as_ref().map(Answer::caller_id),
            "details": phone_details,
        },
        "account": {
            "isKnownCustomerAccount": by_account.is_some(),
            "isVipByCustomerAccount": flag(by_account.as_ref(), |a| a.vip),
            "hasOnCallDutyContractByCustomerAccount": flag(by_account.as_ref(), |a| a.on_call),
            "details": account_details,
        },
    });
    match format {
        Output::Json => println!("{}", serde_json::to_string_pretty(&out).unwrap_or_default()),
        Output::Human => {
            let describe = |a: &Answer, names: &ContactNames| {
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
            };
            match &by_phone {
                Some(a) => {
                    println!("Number {}: {}", e164.as_deref().unwrap_or(number), describe(a, &phone_names));
                    println!("  callerId: {}", a.caller_id());
                }
                None => println!("Number {}: unknown (isKnownPhoneNumber false; VIP and on-call routes answer 404)", e164.as_deref().unwrap_or(number)),
            }
            if let Some(a) = &by_account {
                println!(
                    "Account {number}: {}",
                    describe(a, &ContactNames::default())
                );
            }
        }
    }
    Ok(OK)
}

fn yes(b: bool) -> &'static str {
    if b {
        "yes"
    } else {
        "no"
    }
}

/// A one-time setup code: 16 letters and digits (about 80 bits), in four groups to read
/// aloud, without the characters that look alike (0/O, 1/I/L).
fn setup_code() -> String {
    use rand::Rng;
    const ALPHABET: &[u8] = b"23456789ABCDEFGHJKMNPQRSTUVWXYZ";
    let mut rng = rand::thread_rng();
    let chars: Vec<char> = (0..16)
        .map(|_| char::from(ALPHABET[rng.gen_range(0..ALPHABET.len())]))
        .collect();
    chars
        .chunks(4)
        .map(|c| c.iter().collect::<String>())
        .collect::<Vec<_>>()
        .join("-")
}
