//! Backup and restore (issue 8, point 5): `fasttrack export` writes the whole database as a
//! versioned JSON document and `fasttrack import` restores it into an empty database of either
//! kind; the demo programme goes SQLite → PostgreSQL → SQLite with nothing lost, and damaged,
//! foreign or mismatched documents are refused without writing anything.

use std::process::Command;

use fasttrack_store::backup::{parse_backup, BackupError};
use fasttrack_store::{Backup, Store};
use serde_json::{json, Value};

use crate::helpers::{email, fresh_postgres, seed, test_worker_config, Db, TestApp};
use crate::on_both_dbs;

/// Tables that may hold no rows after the demo programme and the activity below, and why; every
/// other table must hold rows, so a table added later that the round trip does not exercise is
/// noticed here. (None today: every table is exercised.)
const MAY_BE_EMPTY: &[&str] = &[
    // Sign-ins under way with an identity provider: transient, and the demo has no provider
    // (one needs a real issuer to answer its discovery document).
    "sign_in_attempts",
    "sign_in_providers",
];

/// Works the programme through the API so that every table holds rows: a request filed and
/// accepted (engagement, tracks, tasks, meeting plan, jobs), a task skipped (a deviation) and
/// commented, a meeting booked, tokens, a webhook, a widget token, templates, a programme setting
/// and time off.
async fn exercise_every_table(app: &TestApp) {
    let e = crate::engagements::accept_and_open(app, &["service_onboarding"], &["mail"]).await;
    let customer = app.sign_in(&email("customer")).await;
    let staff = app.sign_in(&email("fasttrack_manager")).await;
    let specialist = app.sign_in(&email("fasttrack_specialist")).await;
    let admin = app.sign_in(&email("programme_admin")).await;
    let key = crate::engagements::customer_task(&e, "core.", "remediate");
    let skipped = customer
        .post(
            &crate::engagements::path(&e, &key, "skip"),
            json!({"reason": "our network team already did this"}),
        )
        .await;
    assert_eq!(skipped.status, 200, "{}", skipped.body);
    let comment = staff
        .post(
            &crate::engagements::path(&e, &key, "comments"),
            json!({"body": "Noted — ça marche ✓"}),
        )
        .await;
    assert_eq!(comment.status, 201, "{}", comment.body);
    let request_id = e["request_ids"][0]
        .as_str()
        .expect("request id")
        .to_string();
    let slots = specialist
        .get(&format!("/api/v1/requests/{request_id}/slots?limit=1"))
        .await;
    let slot = &slots.body["slots"][0];
    let booked = specialist
        .post(
            "/api/v1/meetings",
            json!({"request_id": request_id, "staff_id": slot["staff_id"], "start": slot["start"],
                   "length_minutes": 60, "purpose": "kick-off"}),
        )
        .await;
    assert_eq!(booked.status, 201, "{}", booked.body);
    let token = customer
        .post("/api/v1/me/tokens", json!({"name": "automation"}))
        .await;
    assert_eq!(token.status, 201, "{}", token.body);
    let hook = customer
        .post(
            "/api/v1/webhooks",
            json!({"url": "https://hooks.example/fasttrack", "events": ["*"]}),
        )
        .await;
    assert_eq!(hook.status, 201, "{}", hook.body);
    let widget = customer
        .post(
            &format!("/api/v1/organizations/{}/widget-tokens", app.seed.cust_a),
            json!({"name": "Admin center", "allowed_origins": ["https://admin.example"]}),
        )
        .await;
    assert_eq!(widget.status, 201, "{}", widget.body);
    let templates = admin.get("/api/v1/templates").await;
    let put = admin
        .send(
            reqwest::Method::PUT,
            "/api/v1/templates",
            Some(&templates.body),
        )
        .await;
    assert_eq!(put.status, 200, "{}", put.body);
    let mut limits = admin.get("/api/v1/settings/migration-limits").await.body;
    limits["min_batch_mailboxes"] = json!(50);
    let put = admin
        .send(
            reqwest::Method::PUT,
            "/api/v1/settings/migration-limits",
            Some(&limits),
        )
        .await;
    assert_eq!(put.status, 200, "{}", put.body);
    let manager = app
        .store
        .get_user_by_email(&email("fasttrack_manager"))
        .await
        .expect("manager")
        .id;
    let now = jiff::Timestamp::now();
    let off = admin
        .post(
            &format!("/api/v1/staff/{manager}/time-off"),
            json!({"start": (now + jiff::SignedDuration::from_hours(24 * 60)).to_string(),
                   "end": (now + jiff::SignedDuration::from_hours(24 * 61)).to_string(), "reason": "leave"}),
        )
        .await;
    assert_eq!(off.status, 201, "{}", off.body);
}

/// A fresh, empty database of `db`'s kind; `None` when PostgreSQL is not configured.
async fn fresh(db: Db) -> Option<String> {
    match db {
        Db::Sqlite => Some(format!(
            "sqlite://{}",
            std::env::temp_dir()
                .join(format!("fasttrack-backup-{}.db", uuid::Uuid::new_v4()))
                .display()
        )),
        Db::Postgres => match std::env::var("FASTTRACK_TEST_POSTGRES") {
            Ok(server) => Some(fresh_postgres(&server).await),
            Err(_) => {
                eprintln!("FASTTRACK_TEST_POSTGRES is not set: PostgreSQL scenario not run");
                None
            }
        },
    }
}

/// The tables of a backup as canonical JSON text: what must survive a round trip byte for byte.
fn tables_text(b: &Backup) -> String {
    serde_json::to_string(&b.tables).expect("tables serialise")
}

fn rows(b: &Backup) -> usize {
    b.tables.values().map(|t| t.rows.len()).sum()
}

async fn restore(url: &str, b: &Backup) -> Store {
    let store = Store::connect(url).await.expect("connect");
    store.import_backup(b).await.expect("import");
    store
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn demo_programme_round_trips_sqlite_postgres_sqlite_with_nothing_lost() {
    // The test's HTTP clients need rustls' crypto provider, which the webhook client installs.
    let _ = fasttrack::webhooks::client();
    let now = jiff::Timestamp::now();
    let source_url = fresh(Db::Sqlite).await.expect("sqlite");
    let source = Store::connect(&source_url).await.expect("connect");
    fasttrack::demo::load(&source, now).await.expect("demo");
    // The test programme's users next to the demo's, then activity through the real server.
    let seeded = seed(&source).await;
    let running = fasttrack::start(
        &source_url,
        "127.0.0.1:0",
        fasttrack_web::WebConfig::default(),
        test_worker_config(),
    )
    .await
    .expect("server");
    let app = TestApp {
        base: format!("http://{}", running.addr),
        running,
        seed: seeded,
        store: source.clone(),
        database_url: source_url.clone(),
    };
    exercise_every_table(&app).await;
    app.running.stop().await;
    let source = Store::connect(&source_url).await.expect("connect");
    let first = source.export_backup(now).await.expect("export");
    assert_eq!(first.format, "fasttrack-backup");
    assert_eq!(first.version, 1);
    assert_eq!(first.schema_version, source.schema_version().await.unwrap());
    let unexpectedly_empty: Vec<&String> = first
        .tables
        .iter()
        .filter(|(name, t)| t.rows.is_empty() && !MAY_BE_EMPTY.contains(&name.as_str()))
        .map(|(name, _)| name)
        .collect();
    assert!(
        unexpectedly_empty.is_empty(),
        "the demo leaves tables {unexpectedly_empty:?} empty: fill them in the demo or list them in MAY_BE_EMPTY"
    );
    for name in MAY_BE_EMPTY {
        assert!(
            first.tables.contains_key(*name),
            "MAY_BE_EMPTY names {name}, which no longer exists"
        );
    }
    // Through the document's text, as a file would carry it.
    let first = parse_backup(&serde_json::to_string(&first).unwrap()).expect("parse");

    let mut through_postgres = None;
    match fresh(Db::Postgres).await {
        Some(pg_url) => {
            let pg = restore(&pg_url, &first).await;
            let second = pg.export_backup(now).await.expect("export from PostgreSQL");
            assert_eq!(second.source, "postgres");
            assert_eq!(
                tables_text(&second),
                tables_text(&first),
                "SQLite → PostgreSQL changed the data"
            );
            // The identity sequences moved past the restored ids: new jobs do not collide.
            let max_job = first.tables["jobs"]
                .rows
                .iter()
                .filter_map(|r| r[0].as_i64())
                .max()
                .unwrap_or(0);
            let id = pg
                .enqueue_job("mail", None, &json!({}), 0, 0)
                .await
                .expect("enqueue after restore")
                .expect("new job");
            assert!(
                id > max_job,
                "new job id {id} after restored ids up to {max_job}"
            );
            pg.close().await;
            through_postgres = Some(second);
            crate::helpers::drop_postgres(&pg_url).await;
        }
        None => eprintln!("PostgreSQL leg of the round trip not run"),
    }
    let back = through_postgres.as_ref().unwrap_or(&first);
    let target_url = fresh(Db::Sqlite).await.expect("sqlite");
    let target = restore(&target_url, back).await;
    let third = target.export_backup(now).await.expect("export");
    assert_eq!(
        tables_text(&third),
        tables_text(&first),
        "the round trip changed the data"
    );
    // The restored programme works: the partner search index was rebuilt by its triggers.
    let orgs = &first.tables["organizations"];
    let name_col = orgs.columns.iter().position(|c| c.name == "name").unwrap();
    let word = orgs.rows[0][name_col]
        .as_str()
        .and_then(|n| n.split_whitespace().next())
        .unwrap_or("a")
        .to_lowercase();
    let search = |s: &Store| {
        let s = s.clone();
        let word = word.clone();
        async move {
            s.list_orgs(
                &fasttrack_store::OrganizationFilter {
                    q: Some(word),
                    ..Default::default()
                },
                &fasttrack_store::Page::new(None, 100),
            )
            .await
            .expect("search")
            .items
            .into_iter()
            .map(|o| o.id)
            .collect::<Vec<_>>()
        }
    };
    let found = search(&target).await;
    assert!(!found.is_empty(), "searching '{word}' after restore");
    assert_eq!(found, search(&source).await, "search after restore");
    eprintln!(
        "BACKUP REPORT {}",
        json!({"tables": first.tables.len(), "rows": rows(&first),
               "empty_tables": first.tables.iter().filter(|(_, t)| t.rows.is_empty()).map(|(n, _)| n.clone()).collect::<Vec<_>>(),
               "through_postgres": through_postgres.is_some()})
    );
    source.close().await;
    target.close().await;
}

async fn import_refuses_a_non_empty_database_and_bad_documents_without_writing(db: Db) {
    let Some(url) = fresh(db).await else {
        return;
    };
    let store = Store::connect(&url).await.expect("connect");
    seed(&store).await;
    let good = store
        .export_backup(jiff::Timestamp::now())
        .await
        .expect("export");
    let before = tables_text(&good);

    // Into the database it came from: not empty, refused, nothing changed.
    match store.import_backup(&good).await {
        Err(BackupError::NotEmpty(tables)) => {
            assert!(tables.contains(&"organizations".to_string()), "{tables:?}")
        }
        other => panic!("import into a non-empty database: {other:?}"),
    }
    let after = store.export_backup(jiff::Timestamp::now()).await.unwrap();
    assert_eq!(tables_text(&after), before);

    let Some(empty_url) = fresh(db).await else {
        return;
    };
    let empty = Store::connect(&empty_url).await.expect("connect");
    let text = serde_json::to_string(&good).unwrap();

    // Cut short, another format, another version: refused before anything is read.
    assert!(matches!(
        parse_backup(&text[..text.len() / 2]),
        Err(BackupError::Invalid(m)) if m.contains("truncated")
    ));
    let mut v: Value = serde_json::from_str(&text).unwrap();
    v["version"] = json!(2);
    assert!(matches!(
        parse_backup(&v.to_string()),
        Err(BackupError::Invalid(m)) if m.contains("version 2")
    ));
    v["version"] = json!(1);
    v["format"] = json!("pg_dump");
    assert!(matches!(
        parse_backup(&v.to_string()),
        Err(BackupError::Invalid(_))
    ));

    // A schema this database does not have.
    let mut other_schema = good.clone();
    other_schema.schema_version += 1;
    assert!(matches!(
        empty.import_backup(&other_schema).await,
        Err(BackupError::SchemaMismatch { .. })
    ));

    // Unknown table, unknown column, a value of the wrong type, a missing table: each named.
    let mut unknown_table = good.clone();
    let some = unknown_table.tables["regions"].clone();
    unknown_table.tables.insert("nonsense".into(), some);
    let mut unknown_column = good.clone();
    unknown_column.tables.get_mut("regions").unwrap().columns[1].name = "colour".into();
    let mut wrong_type = good.clone();
    let subs = wrong_type.tables.get_mut("subscriptions").unwrap();
    let seats = subs.columns.iter().position(|c| c.name == "seats").unwrap();
    subs.rows[0][seats] = json!("three hundred");
    let mut missing_table = good.clone();
    missing_table.tables.remove("users");
    // A dangling reference fails inside the transaction: the rows before it are rolled back.
    let mut dangling = good.clone();
    let users = dangling.tables.get_mut("users").unwrap();
    let org_col = users
        .columns
        .iter()
        .position(|c| c.name == "org_id")
        .unwrap();
    users.rows[0][org_col] = json!("no-such-organization");
    for (doc, needle) in [
        (&unknown_table, "nonsense"),
        (&unknown_column, "colour"),
        (&wrong_type, "subscriptions"),
        (&missing_table, "users"),
    ] {
        match empty.import_backup(doc).await {
            Err(BackupError::Invalid(m)) => assert!(m.contains(needle), "{m}"),
            other => panic!("{needle}: {other:?}"),
        }
    }
    assert!(
        empty.import_backup(&dangling).await.is_err(),
        "a dangling reference is refused"
    );
    let still = empty.export_backup(jiff::Timestamp::now()).await.unwrap();
    for (name, t) in &still.tables {
        assert!(
            t.rows.is_empty() || name == "sla_settings",
            "a refused import left rows in {name}"
        );
    }
    // And the good document still restores into it.
    empty.import_backup(&good).await.expect("import");
    let restored = empty.export_backup(jiff::Timestamp::now()).await.unwrap();
    assert_eq!(tables_text(&restored), before);
    store.close().await;
    empty.close().await;
    for u in [&url, &empty_url] {
        crate::helpers::drop_postgres(u).await;
    }
}
on_both_dbs!(import_refuses_a_non_empty_database_and_bad_documents_without_writing);

fn fasttrack(args: &[&str]) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_fasttrack"))
        .args(args)
        .env_remove("FASTTRACK_DATABASE_URL")
        .env_remove("FASTTRACK_CONFIG")
        .output()
        .expect("the fasttrack binary runs")
}

async fn export_and_import_commands_restore_a_database(db: Db) {
    let Some(target) = fresh(db).await else {
        return;
    };
    let source = fresh(Db::Sqlite).await.expect("sqlite");
    let store = Store::connect(&source).await.expect("connect");
    seed(&store).await;
    store.close().await;
    let dir = std::env::temp_dir().join(format!("fasttrack-backup-{}", uuid::Uuid::new_v4()));
    std::fs::create_dir_all(&dir).unwrap();
    let file = dir.join("backup.json");
    let file = file.to_str().unwrap();

    let out = fasttrack(&["export", "--database-url", &source, "--output", file]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let out = fasttrack(&["import", "--database-url", &target, "--input", file]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(String::from_utf8_lossy(&out.stdout).contains("imported"));
    // Exported again to standard output: the same tables.
    let out = fasttrack(&["export", "--database-url", &target]);
    assert!(out.status.success());
    let again = parse_backup(&String::from_utf8_lossy(&out.stdout)).expect("stdout backup");
    let original = parse_backup(&std::fs::read_to_string(file).unwrap()).unwrap();
    assert_eq!(tables_text(&again), tables_text(&original));
    assert!(rows(&original) > 0);
    // A second import is refused with a clear message and a failing exit status.
    let out = fasttrack(&["import", "--database-url", &target, "--input", file]);
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("not empty"), "{err}");
    let _ = std::fs::remove_dir_all(&dir);
    crate::helpers::drop_postgres(&target).await;
}
on_both_dbs!(export_and_import_commands_restore_a_database);
