//! An import killed with SIGKILL in the middle leaves the database exactly as before.

mod common;

use clientele_testkit::siret_vat;
use common::{row, Backend, TestDb};
use std::io::Write;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

fn big_pack(db: &TestDb, n: u64) -> std::path::PathBuf {
    let path = db.path("big.csv");
    let mut f = std::io::BufWriter::new(std::fs::File::create(&path).expect("create"));
    writeln!(
        f,
        "Compte client;Raison sociale;SIRET;Numéro de TVA intracommunautaire;Ville"
    )
    .expect("w");
    for i in 1..=n {
        let (siret, vat) = siret_vat(i);
        writeln!(f, "BIG{i:07};Client {i};{siret};{vat};Lyon").expect("w");
    }
    f.flush().expect("flush");
    path
}

fn killed_import_changes_nothing(db: &TestDb) {
    let small = db.path("small.csv");
    common::write_csv(
        &small,
        &[
            row(&["Compte client", "Raison sociale"]),
            row(&["CL0001", "Before"]),
            row(&["CL0002", "Also before"]),
        ],
    );
    assert!(db
        .run(&["import", small.to_str().expect("p")])
        .status
        .success());
    let before = db.customers();
    let (_, imports_before) = db.json(&["imports"]);
    let big = big_pack(db, 400_000);

    let mut child = Command::new(env!("CARGO_BIN_EXE_clientele"))
        .args(["--db", &db.url, "import", big.to_str().expect("p")])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("spawn");
    // Wait until the import is visibly writing, or for a while on PostgreSQL, then kill it
    // without warning. Alone on a SQLite file the import writes new pages straight into the
    // database file under a rollback journal (on WAL, the log would grow instead).
    let size = |p: &str| std::fs::metadata(p).map(|m| m.len()).unwrap_or(0);
    let wal = format!("{}-wal", db.url);
    let sqlite = !db.url.starts_with("postgres");
    let db_before = size(&db.url);
    let start = Instant::now();
    loop {
        std::thread::sleep(Duration::from_millis(20));
        let writing = size(&wal) > 4_000_000 || size(&db.url) > db_before + 4_000_000;
        if writing || start.elapsed() > Duration::from_millis(if sqlite { 20_000 } else { 1_500 }) {
            break;
        }
    }
    assert!(
        child.try_wait().expect("wait").is_none(),
        "the import finished before it could be killed; make the pack bigger"
    );
    // SAFETY: plain kill(2) on our own child's pid.
    unsafe { libc::kill(child.id() as i32, libc::SIGKILL) };
    let _ = child.wait();

    if sqlite {
        assert!(
            size(&db.url) > db_before + 4_000_000,
            "the import was killed before it wrote into the database file"
        );
    }
    assert_eq!(db.customers(), before);
    let (_, imports_after) = db.json(&["imports"]);
    assert_eq!(imports_after, imports_before);
    // And the database still works.
    let (code, r) = db.json(&["import", small.to_str().expect("p")]);
    assert_eq!((code, r["unchanged"].as_u64()), (0, Some(2)));
}

#[test]
fn sqlite_killed_import_changes_nothing() {
    if let Some(db) = TestDb::new(Backend::Sqlite) {
        killed_import_changes_nothing(&db);
    }
}

#[test]
fn postgres_killed_import_changes_nothing() {
    if let Some(db) = TestDb::new(Backend::Postgres) {
        killed_import_changes_nothing(&db);
    }
}

/// Alone on its file, an import runs under a rollback journal and leaves the file in WAL;
/// next to another connection (a server, say) it stays on WAL and that connection keeps
/// reading.
#[test]
fn sqlite_import_journal_mode() {
    let Some(db) = TestDb::new(Backend::Sqlite) else {
        return;
    };
    let mode = |c: &rusqlite::Connection| -> String {
        c.query_row("PRAGMA journal_mode", [], |r| r.get(0))
            .expect("journal mode")
    };
    let pack = big_pack(&db, 2_000);
    assert!(db
        .run(&["import", pack.to_str().expect("p")])
        .status
        .success());
    let reader = rusqlite::Connection::open(&db.url).expect("open");
    assert_eq!(mode(&reader), "wal");
    assert!(!std::path::Path::new(&format!("{}-journal", db.url)).exists());
    let count = |c: &rusqlite::Connection| -> i64 {
        c.query_row("SELECT COUNT(*) FROM customers", [], |r| r.get(0))
            .expect("count")
    };
    assert_eq!(count(&reader), 2_000);

    // The reader holds the file open: the next import cannot take it to itself.
    let second = db.path("second.csv");
    common::write_csv(
        &second,
        &[
            row(&["Compte client", "Raison sociale"]),
            row(&["NEXT0001", "Next door"]),
        ],
    );
    let (code, r) = db.json(&["import", second.to_str().expect("p")]);
    assert_eq!((code, r["create"].as_u64()), (0, Some(1)));
    assert_eq!(mode(&reader), "wal");
    assert_eq!(count(&reader), 2_001);
}
