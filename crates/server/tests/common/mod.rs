//! Test helpers: a real server on a free loopback port over a fresh database, and a
//! blocking HTTP client.
#![allow(dead_code)]

use clientele_server::auth;
use clientele_store::ApiStore;
use reqwest::blocking::{Client, RequestBuilder, Response};
use serde_json::Value as Json;
use std::sync::Arc;
use std::time::{Duration, Instant};

use clientele_testkit::hidden;
pub use clientele_testkit::Backend;

thread_local! {
    static BACKEND: std::cell::Cell<Backend> = const { std::cell::Cell::new(Backend::Sqlite) };
}

/// Run a test body on a backend; on PostgreSQL, skipped (and said so) when no server answers,
/// unless `CLIENTELE_TEST_PG_REQUIRED` is set.
pub fn with_backend(backend: Backend, test: fn()) {
    if backend == Backend::Postgres && !clientele_testkit::pg_available() {
        return;
    }
    BACKEND.with(|b| b.set(backend));
    test();
}

/// The backend of this thread's tests.
pub fn backend() -> Backend {
    BACKEND.with(|b| b.get())
}

/// The database the tests run against: a fresh SQLite file, or a fresh PostgreSQL
/// database (dropped with the value).
pub fn test_db() -> clientele_testkit::TestDb {
    clientele_testkit::TestDb::new(backend())
        .expect("PostgreSQL answered when the test began (with_backend)")
}

/// A running server.
pub struct TestServer {
    pub base: String,
    /// The database URL (SQLite path or PostgreSQL URL).
    pub url_db: String,
    pub store: Arc<dyn ApiStore>,
    pub client: Client,
    pub write: String,
    pub read: String,
    pub lookup: String,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    thread: Option<std::thread::JoinHandle<()>>,
    /// The database and folder of the test, dropped after the server stops; None for a
    /// second server on the same database.
    _db: Option<clientele_testkit::TestDb>,
}

impl TestServer {
    pub fn start() -> TestServer {
        TestServer::start_with(|_| {})
    }

    /// A server whose options `tune` changes first (login limits, queues, proxies).
    pub fn start_with(
        tune: impl FnOnce(&mut clientele_server::Options) + Send + 'static,
    ) -> TestServer {
        let db = test_db();
        let url = db.url.clone();
        let store = clientele_store::open_api(&url).expect("open store");
        let make = |scope: &str, allow: Option<&str>| {
            let (t, h) = auth::new_token();
            store
                .create_token(scope, &h, scope, allow, None)
                .expect("token");
            t
        };
        let (write, read, lookup) = (
            make("write", None),
            make("read", None),
            make("lookup", None),
        );
        let hash = auth::hash_password("correct horse").expect("hash");
        store
            .create_user("Ann Admin", "ann@example.fr", &hash)
            .expect("user");
        let s = TestServer::spawn(url, store, [write, read, lookup], Some(db), Box::new(tune));
        s.wait_ready();
        s
    }

    /// Another server on the same database (as behind a load balancer), returned as soon
    /// as it listens: its routing index may still be loading.
    pub fn second(&self) -> TestServer {
        let store = clientele_store::open_api(&self.url_db).expect("open store");
        TestServer::spawn(
            self.url_db.clone(),
            store,
            [self.write.clone(), self.read.clone(), self.lookup.clone()],
            None,
            Box::new(|_| {}),
        )
    }

    fn spawn(
        url_db: String,
        store: Arc<dyn ApiStore>,
        [write, read, lookup]: [String; 3],
        db: Option<clientele_testkit::TestDb>,
        tune: Box<dyn FnOnce(&mut clientele_server::Options) + Send>,
    ) -> TestServer {
        let (tx, rx) = tokio::sync::oneshot::channel::<()>();
        let (addr_tx, addr_rx) = std::sync::mpsc::channel();
        let s2 = store.clone();
        let thread = std::thread::spawn(move || {
            let rt = tokio::runtime::Builder::new_multi_thread()
                .worker_threads(2)
                .enable_all()
                .build()
                .expect("runtime");
            rt.block_on(async move {
                let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
                    .await
                    .expect("bind");
                addr_tx
                    .send(listener.local_addr().expect("addr"))
                    .expect("send addr");
                let mut opts = clientele_server::Options {
                    poll: Duration::from_millis(100),
                    login_failures_per_minute: 5,
                    ..Default::default()
                };
                tune(&mut opts);
                clientele_server::serve_until(s2, listener, opts, async {
                    let _ = rx.await;
                })
                .await
                .expect("serve");
            });
        });
        let addr = addr_rx
            .recv_timeout(Duration::from_secs(30))
            .expect("server address");
        let base = format!("http://{addr}");
        let client = Client::builder()
            .timeout(Duration::from_secs(60))
            .build()
            .expect("client");
        for _ in 0..200 {
            if client
                .get(format!("{base}/api/version"))
                .send()
                .is_ok_and(|r| r.status() == 200)
            {
                break;
            }
            std::thread::sleep(Duration::from_millis(25));
        }
        TestServer {
            base,
            url_db,
            store,
            client,
            write,
            read,
            lookup,
            stop: Some(tx),
            thread: Some(thread),
            _db: db,
        }
    }

    /// A client whose requests come from another loopback address (127.0.0.n).
    pub fn client_from(&self, n: u8) -> Client {
        Client::builder()
            .timeout(Duration::from_secs(60))
            .local_address(std::net::IpAddr::from([127, 0, 0, n]))
            .build()
            .expect("client")
    }

    /// POST a file to `/api/v1/imports?dryRun=1` with the write token: status and JSON body.
    pub fn json_multipart(&self, name: &str, bytes: Vec<u8>) -> (u16, Json) {
        let form = reqwest::blocking::multipart::Form::new().part(
            "file",
            reqwest::blocking::multipart::Part::bytes(bytes).file_name(name.to_string()),
        );
        let r = self
            .client
            .post(self.url("/api/v1/imports?dryRun=1"))
            .bearer_auth(&self.write)
            .multipart(form)
            .send()
            .expect("upload");
        read(r)
    }

    /// Wait until the routing index is loaded (routing stops answering 503).
    pub fn wait_ready(&self) {
        for _ in 0..2400 {
            let st = self
                .client
                .get(self.url("/api/isKnownPhoneNumber?phoneNumber=0100000000"))
                .bearer_auth(&self.lookup)
                .send()
                .map(|r| r.status().as_u16());
            if st.is_ok_and(|st| st != 503) {
                return;
            }
            std::thread::sleep(Duration::from_millis(25));
        }
        panic!("the routing index of {} never loaded", self.base);
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    /// A request with the JSON content type every SDK request carries.
    pub fn req(&self, method: &str, path: &str, token: &str) -> RequestBuilder {
        let m = reqwest::Method::from_bytes(method.as_bytes()).expect("method");
        self.client
            .request(m, self.url(path))
            .bearer_auth(token)
            .header("Accept", "application/json")
    }

    pub fn json(&self, method: &str, path: &str, token: &str, body: &Json) -> (u16, Json) {
        let r = self
            .req(method, path, token)
            .json(body)
            .send()
            .expect("send");
        read(r)
    }

    pub fn get(&self, path: &str, token: &str) -> (u16, Json) {
        read(
            self.req("GET", path, token)
                .header("Content-Type", "application/json")
                .send()
                .expect("send"),
        )
    }

    pub fn text(&self, path: &str) -> (u16, String) {
        let r = self.client.get(self.url(path)).send().expect("send");
        (r.status().as_u16(), r.text().unwrap_or_default())
    }

    pub fn customer_count(&self) -> u64 {
        let q = clientele_store::ListQuery {
            limit: 1,
            ..Default::default()
        };
        self.store.list_customers(&q).expect("count").1
    }

    /// Wait for the server's poll loop to see writes made behind its back.
    pub fn settle(&self) {
        std::thread::sleep(Duration::from_millis(400));
    }
}

impl Drop for TestServer {
    fn drop(&mut self) {
        if let Some(s) = self.stop.take() {
            let _ = s.send(());
        }
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

pub fn read(r: Response) -> (u16, Json) {
    let status = r.status().as_u16();
    let text = r.text().unwrap_or_default();
    let body = serde_json::from_str(&text).unwrap_or(Json::String(text));
    (status, body)
}

/// Run each named test function on SQLite and on PostgreSQL (see [`with_backend`]): one
/// module of tests a backend.
#[allow(unused_macros)]
macro_rules! on_both {
    ($($name:ident),* $(,)?) => {
        mod sqlite { $( #[test] fn $name() { super::common::with_backend(super::common::Backend::Sqlite, super::$name) } )* }
        mod postgres { $( #[test] fn $name() { super::common::with_backend(super::common::Backend::Postgres, super::$name) } )* }
    };
}

// Pages: log in through the form, upload a pack and wait for its check.

pub fn http() -> reqwest::blocking::Client {
    reqwest::blocking::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .timeout(Duration::from_secs(60))
        .build()
        .expect("client")
}

/// Log in through the form as Ann; returns the session cookie and a CSRF token of the session.
pub fn login(s: &TestServer, c: &reqwest::blocking::Client) -> (String, String) {
    login_as(s, c, "ann@example.fr", "correct horse")
}

pub fn login_as(
    s: &TestServer,
    c: &reqwest::blocking::Client,
    email: &str,
    password: &str,
) -> (String, String) {
    let page = c.get(s.url("/login")).send().expect("login page");
    let pre = page
        .headers()
        .get_all("set-cookie")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find_map(|v| v.strip_prefix("clientele_login="))
        .and_then(|v| v.split(';').next())
        .expect("login cookie")
        .to_string();
    let html = page.text().expect("html");
    let token = hidden(&html, "_csrf");
    assert_eq!(token, pre, "double-submit token in form and cookie");
    let r = c
        .post(s.url("/login"))
        .header("Cookie", format!("clientele_login={pre}"))
        .form(&[
            ("_csrf", token.as_str()),
            ("email", email),
            ("password", password),
            ("next", "/customers"),
        ])
        .send()
        .expect("login");
    assert_eq!(r.status(), 303);
    assert_eq!(r.headers()["location"], "/customers");
    let set = r.headers()["set-cookie"]
        .to_str()
        .expect("cookie")
        .to_string();
    assert!(
        set.contains("HttpOnly") && set.contains("SameSite=Lax"),
        "{set}"
    );
    let session = set
        .strip_prefix("clientele_session=")
        .and_then(|v| v.split(';').next())
        .expect("session cookie")
        .to_string();
    let home = c
        .get(s.url("/"))
        .header("Cookie", format!("clientele_session={session}"))
        .send()
        .expect("home")
        .text()
        .expect("html");
    (session, hidden(&home, "_csrf"))
}

/// Upload a pack through the form and wait for its report; returns the upload's path.
pub fn upload_and_wait(
    s: &TestServer,
    c: &reqwest::blocking::Client,
    cookie: &str,
    csrf: &str,
    name: &str,
    bytes: &[u8],
) -> String {
    let form = reqwest::blocking::multipart::Form::new()
        .text("_csrf", csrf.to_string())
        .part(
            "file",
            reqwest::blocking::multipart::Part::bytes(bytes.to_vec()).file_name(name.to_string()),
        );
    let r = c
        .post(s.url("/import"))
        .header("Cookie", cookie)
        .multipart(form)
        .send()
        .expect("upload");
    assert_eq!(r.status(), 303);
    let page = r.headers()["location"]
        .to_str()
        .expect("location")
        .to_string();
    wait_until_done(s, c, cookie, &page);
    page
}

/// Poll an upload's progress until its job is over.
pub fn wait_until_done(s: &TestServer, c: &reqwest::blocking::Client, cookie: &str, page: &str) {
    let start = Instant::now();
    loop {
        let p: serde_json::Value = c
            .get(s.url(&format!("{page}/progress")))
            .header("Cookie", cookie)
            .send()
            .expect("progress")
            .json()
            .expect("json");
        if p["running"] == false {
            return;
        }
        assert!(start.elapsed() < Duration::from_secs(60), "job never ended");
        std::thread::sleep(Duration::from_millis(50));
    }
}
