//! `spawn_app()`: the real server on port 0 over a fresh, migrated database, plus a seeded
//! programme and signed-in HTTP clients for every role.

use std::sync::OnceLock;

use fasttrack::worker::WorkerConfig;
use fasttrack::Running;
use fasttrack_store::{
    AuditCtx, NewOrganization, NewUser, Plan, Region, Relationship, Service, StaffProfile, Store,
};
use fasttrack_web::WebConfig;
use reqwest::{Method, StatusCode};
use serde_json::{json, Value};

/// Which database a scenario runs on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Db {
    Sqlite,
    Postgres,
}

/// Runs a scenario on SQLite, and on PostgreSQL when configured.
#[macro_export]
macro_rules! on_both {
    ($name:ident) => {
        mod $name {
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn sqlite() {
                if let Some(app) = $crate::helpers::spawn_app($crate::helpers::Db::Sqlite).await {
                    super::$name(&app).await;
                    app.stop().await;
                }
            }

            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn postgres() {
                if let Some(app) = $crate::helpers::spawn_app($crate::helpers::Db::Postgres).await {
                    super::$name(&app).await;
                    app.stop().await;
                }
            }
        }
    };
}

/// Runs a scenario that starts its own server (`async fn(Db)`) on SQLite, and on PostgreSQL
/// when configured (the scenario returns early when its server cannot start there).
#[macro_export]
macro_rules! on_both_dbs {
    ($name:ident) => {
        mod $name {
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn sqlite() {
                super::$name($crate::helpers::Db::Sqlite).await;
            }

            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn postgres() {
                super::$name($crate::helpers::Db::Postgres).await;
            }
        }
    };
}

/// The password of every seeded user.
pub const PASSWORD: &str = "correct horse battery";

fn password_hash() -> String {
    static HASH: OnceLock<String> = OnceLock::new();
    HASH.get_or_init(|| fasttrack_web::password::hash_blocking(PASSWORD).expect("hash"))
        .clone()
}

/// The seeded programme's ids.
#[derive(Debug, Clone, Default)]
pub struct Seed {
    pub programme: String,
    /// Customer whose admin is `customer`; the partner has a live relationship with it.
    pub cust_a: String,
    /// Another customer, no relationship with anyone.
    pub cust_b: String,
    /// A customer whose relationship with the partner has expired.
    pub cust_expired: String,
    /// A customer that revoked its relationship with the partner.
    pub cust_revoked: String,
    pub partner: String,
    pub region: String,
    pub sub_a: String,
    pub sub_b: String,
    pub live_link: String,
}

/// A running server with its seed.
pub struct TestApp {
    pub running: Running,
    pub base: String,
    pub seed: Seed,
    pub store: Store,
    /// The database's URL, for a second process-like store or worker over the same database.
    pub database_url: String,
}

/// A cookie-keeping client, signed in (or not).
pub struct Client {
    pub http: reqwest::Client,
    pub base: String,
    pub csrf: Option<String>,
    pub bearer: Option<String>,
}

/// A response: status and body as JSON (or `Null`).
#[derive(Debug)]
pub struct Res {
    pub status: StatusCode,
    pub content_type: String,
    pub body: Value,
}

impl Client {
    /// Sends a request with an optional JSON body (adding the CSRF header when signed in by cookie).
    pub async fn send(&self, method: Method, path: &str, body: Option<&Value>) -> Res {
        let mut req = self.http.request(method, format!("{}{path}", self.base));
        if let Some(c) = &self.csrf {
            req = req.header("x-csrf-token", c);
        }
        if let Some(t) = &self.bearer {
            req = req.bearer_auth(t);
        }
        if let Some(b) = body {
            req = req.json(b);
        }
        let res = req.send().await.expect("request");
        let status = res.status();
        let content_type = res
            .headers()
            .get("content-type")
            .and_then(|v| v.to_str().ok())
            .unwrap_or("")
            .to_string();
        let text = res.text().await.unwrap_or_default();
        Res {
            status,
            content_type,
            body: serde_json::from_str(&text).unwrap_or(Value::Null),
        }
    }

    pub async fn get(&self, path: &str) -> Res {
        self.send(Method::GET, path, None).await
    }

    pub async fn post(&self, path: &str, body: Value) -> Res {
        self.send(Method::POST, path, Some(&body)).await
    }

    pub async fn patch(&self, path: &str, body: Value) -> Res {
        self.send(Method::PATCH, path, Some(&body)).await
    }
}

impl TestApp {
    /// A client with no credentials.
    pub fn anonymous(&self) -> Client {
        Client {
            http: reqwest::Client::builder()
                .cookie_store(true)
                .build()
                .expect("client"),
            base: self.base.clone(),
            csrf: None,
            bearer: None,
        }
    }

    /// A client signed in by password as `email`.
    pub async fn sign_in(&self, email: &str) -> Client {
        let mut c = self.anonymous();
        let r = c
            .post(
                "/api/v1/auth/sign-in",
                json!({"email": email, "password": PASSWORD}),
            )
            .await;
        assert_eq!(r.status, StatusCode::OK, "sign-in of {email}: {:?}", r.body);
        c.csrf = r.body["csrf_token"].as_str().map(String::from);
        c
    }

    /// Moves the server's clock by `days`.
    pub fn advance_days(&self, days: i64) {
        self.running.state.clock.advance(days * 86_400);
    }

    /// Stops the server.
    pub async fn stop(self) {
        self.running.stop().await;
        // Each PostgreSQL scenario made a database of its own: drop it so runs leave nothing behind.
        if let (Some(name), Ok(server)) = (
            self.database_url
                .strip_prefix("postgres")
                .and_then(|_| self.database_url.rsplit('/').next()),
            std::env::var("FASTTRACK_TEST_POSTGRES"),
        ) {
            use sqlx::Connection;
            let name = name.split('?').next().unwrap_or(name);
            if let Ok(mut conn) = sqlx::PgConnection::connect(&server).await {
                let _ = sqlx::query(sqlx::AssertSqlSafe(format!(
                    "DROP DATABASE IF EXISTS {name} WITH (FORCE)"
                )))
                .execute(&mut conn)
                .await;
                let _ = conn.close().await;
            }
        }
    }
}

/// E-mail of the seeded user with `role` (`customer` and `partner` for the two outside roles).
pub fn email(role: &str) -> String {
    format!("{role}@seed.example")
}

/// The ids of a list answer's items, in order.
pub fn item_ids(r: &Res) -> Vec<String> {
    r.body["items"]
        .as_array()
        .unwrap_or_else(|| panic!("a list answer: {}", r.body))
        .iter()
        .map(|o| o["id"].as_str().expect("an item id").to_string())
        .collect()
}

/// The ids of the customers a partner's "My customers" search for `q` lists.
pub async fn customer_ids(partner: &Client, q: &str) -> Vec<String> {
    let r = partner.get(&format!("/api/v1/organizations?q={q}")).await;
    assert_eq!(r.status, 200, "{}", r.body);
    item_ids(&r)
}

/// The worker settings of the tests: no mail server, and quick polls and retries so that
/// scenarios finish in seconds.
pub fn test_worker_config() -> WorkerConfig {
    WorkerConfig {
        smtp_url: None,
        mail_from: "FastTrack <fasttrack@test.example>".into(),
        poll: std::time::Duration::from_millis(200),
        lease_seconds: 60,
        max_attempts: 20,
        backoff_base: std::time::Duration::from_secs(1),
        backoff_cap: std::time::Duration::from_secs(2),
        batch: 8,
        smtp_timeout: std::time::Duration::from_secs(10),
        sweep_every: std::time::Duration::from_secs(1),
    }
}

/// Starts the server on a fresh database; `None` when PostgreSQL is asked for but not configured.
pub async fn spawn_app(db: Db) -> Option<TestApp> {
    spawn_app_with(db, test_worker_config()).await
}

/// Starts the server and its worker with `worker` settings (for example a test SMTP server).
pub async fn spawn_app_with(db: Db, worker: WorkerConfig) -> Option<TestApp> {
    spawn_app_configured(db, WebConfig::default(), None, worker).await
}

/// Starts the server with `web` settings and, when `metrics_listen` is given, `/metrics` on a
/// listener of its own.
pub async fn spawn_app_configured(
    db: Db,
    web: WebConfig,
    metrics_listen: Option<&str>,
    worker: WorkerConfig,
) -> Option<TestApp> {
    let url = database_url(db).await?;
    let running = fasttrack::start_with_metrics(&url, "127.0.0.1:0", metrics_listen, web, worker)
        .await
        .expect("start server");
    let store = running.state.store.clone();
    let seed = seed(&store).await;
    Some(TestApp {
        base: format!("http://{}", running.addr),
        running,
        seed,
        store,
        database_url: url,
    })
}

/// The URL of a fresh, empty database; `None` when PostgreSQL is asked for but not configured.
pub async fn database_url(db: Db) -> Option<String> {
    match db {
        Db::Sqlite => {
            let path =
                std::env::temp_dir().join(format!("fasttrack-test-{}.db", uuid::Uuid::new_v4()));
            Some(format!("sqlite://{}", path.display()))
        }
        Db::Postgres => {
            let Ok(server) = std::env::var("FASTTRACK_TEST_POSTGRES") else {
                eprintln!("FASTTRACK_TEST_POSTGRES is not set: PostgreSQL scenario not run");
                return None;
            };
            Some(fresh_postgres(&server).await)
        }
    }
}

/// Drops a database made by [`fresh_postgres`] (nothing for other URLs).
pub async fn drop_postgres(url: &str) {
    use sqlx::Connection;
    let (Some(name), Ok(server)) = (
        url.strip_prefix("postgres")
            .and_then(|_| url.rsplit('/').next()),
        std::env::var("FASTTRACK_TEST_POSTGRES"),
    ) else {
        return;
    };
    let name = name.split('?').next().unwrap_or(name);
    if let Ok(mut conn) = sqlx::PgConnection::connect(&server).await {
        let _ = sqlx::query(sqlx::AssertSqlSafe(format!(
            "DROP DATABASE IF EXISTS {name} WITH (FORCE)"
        )))
        .execute(&mut conn)
        .await;
        let _ = conn.close().await;
    }
}

/// Creates an empty database on the PostgreSQL server and returns its URL.
pub async fn fresh_postgres(server: &str) -> String {
    use sqlx::Connection;
    let name = format!("ft_test_{}", uuid::Uuid::new_v4().simple());
    let mut conn = sqlx::PgConnection::connect(server)
        .await
        .expect("connect to FASTTRACK_TEST_POSTGRES");
    sqlx::query(sqlx::AssertSqlSafe(format!("CREATE DATABASE {name}")))
        .execute(&mut conn)
        .await
        .expect("create test database");
    let _ = conn.close().await;
    // Replace the database part of the URL (after the last '/', before any '?').
    let (base, query) = match server.split_once('?') {
        Some((b, q)) => (b, format!("?{q}")),
        None => (server, String::new()),
    };
    let root = base.rsplit_once('/').map(|(r, _)| r).unwrap_or(base);
    format!("{root}/{name}{query}")
}

/// Seeds a programme: a region, services, a plan, customers, a partner and a user per role.
pub async fn seed(store: &Store) -> Seed {
    let now = jiff::Timestamp::now().as_second();
    let ctx = AuditCtx {
        at: now,
        ..AuditCtx::default()
    };
    let mut s = Seed {
        region: "emea".into(),
        ..Seed::default()
    };
    store
        .upsert_region(
            &Region {
                id: s.region.clone(),
                name: "Europe".into(),
                time_zone: "Europe/Rome".into(),
                working_hours: json!({"mon": [["09:00","12:30"],["13:30","18:00"]], "tue": [["09:00","18:00"]]}).to_string(),
                created_at: now,
                updated_at: now,
            },
            &ctx,
        )
        .await
        .expect("region");
    for (id, name) in [
        ("mail", "Mail"),
        ("files", "Files"),
        ("device-management", "Devices"),
    ] {
        store
            .upsert_service(
                &Service {
                    id: id.into(),
                    name: name.into(),
                    category: "Core".into(),
                    description: String::new(),
                    created_at: now,
                    updated_at: now,
                },
                &ctx,
            )
            .await
            .expect("service");
    }
    store
        .upsert_plan(
            &Plan {
                id: "business".into(),
                name: "Business".into(),
                paid: true,
                eligible: true,
                services: vec!["mail".into(), "files".into()],
                created_at: now,
                updated_at: now,
            },
            &ctx,
        )
        .await
        .expect("plan");
    let org = |kind: &str, name: &str, n: u32| NewOrganization {
        kind: kind.into(),
        name: name.into(),
        tenant_id: (kind == "customer").then(|| uuid::Uuid::new_v4().to_string()),
        region_id: Some("emea".into()),
        country: "IT".into(),
        time_zone: "Europe/Rome".into(),
        language: "it".into(),
        domains: vec![format!(
            "{}-{n}.example",
            name.to_lowercase().replace(' ', "-")
        )],
        partner_of_record: None,
    };
    s.programme = store
        .create_org(&org("programme", "FastTrack Center", 0), &ctx)
        .await
        .expect("org")
        .id;
    s.cust_a = store
        .create_org(&org("customer", "Contoso", 1), &ctx)
        .await
        .expect("org")
        .id;
    s.cust_b = store
        .create_org(&org("customer", "Fabrikam", 2), &ctx)
        .await
        .expect("org")
        .id;
    s.cust_expired = store
        .create_org(&org("customer", "Litware", 3), &ctx)
        .await
        .expect("org")
        .id;
    s.cust_revoked = store
        .create_org(&org("customer", "Adatum", 4), &ctx)
        .await
        .expect("org")
        .id;
    s.partner = store
        .create_org(&org("partner", "Northwind Partners", 5), &ctx)
        .await
        .expect("org")
        .id;
    let year = 365 * 86_400;
    s.sub_a = store
        .create_subscription(
            &fasttrack_store::NewSubscription {
                org_id: s.cust_a.clone(),
                plan_id: "business".into(),
                seats: 300,
                state: "active".into(),
                starts_at: now - year,
                ends_at: Some(now + year),
            },
            &ctx,
        )
        .await
        .expect("sub")
        .id;
    s.sub_b = store
        .create_subscription(
            &fasttrack_store::NewSubscription {
                org_id: s.cust_b.clone(),
                plan_id: "business".into(),
                seats: 900,
                state: "active".into(),
                starts_at: now - year,
                ends_at: Some(now + year),
            },
            &ctx,
        )
        .await
        .expect("sub")
        .id;
    for c in [&s.cust_expired, &s.cust_revoked] {
        store
            .create_subscription(
                &fasttrack_store::NewSubscription {
                    org_id: c.to_string(),
                    plan_id: "business".into(),
                    seats: 200,
                    state: "active".into(),
                    starts_at: now - year,
                    ends_at: Some(now + year),
                },
                &ctx,
            )
            .await
            .expect("sub");
    }
    let link = |customer: &str, status: &str, expires: i64, ended: Option<i64>| Relationship {
        id: fasttrack_store::new_id(),
        partner_org_id: s.partner.clone(),
        customer_org_id: customer.into(),
        status: status.into(),
        scope_actions: r#"["view","file_requests"]"#.into(),
        scope_services: None,
        requested_days: 365,
        requested_at: now - 200 * 86_400,
        requested_by: "seed".into(),
        approved_at: Some(now - 200 * 86_400),
        approved_by: Some("seed".into()),
        expires_at: Some(expires),
        ended_at: ended,
        ended_by: ended.map(|_| "seed".into()),
        updated_at: now,
    };
    s.live_link = store
        .create_relationship(&link(&s.cust_a, "active", now + 100 * 86_400, None), &ctx)
        .await
        .expect("link")
        .id;
    store
        .create_relationship(&link(&s.cust_expired, "active", now - 86_400, None), &ctx)
        .await
        .expect("link");
    store
        .create_relationship(
            &link(
                &s.cust_revoked,
                "ended",
                now + 100 * 86_400,
                Some(now - 86_400),
            ),
            &ctx,
        )
        .await
        .expect("link");
    let hash = password_hash();
    let users = [
        ("programme_admin", s.programme.clone()),
        ("fasttrack_manager", s.programme.clone()),
        ("fasttrack_specialist", s.programme.clone()),
        ("center_engineer", s.programme.clone()),
        ("customer", s.cust_a.clone()),
        ("customer_b", s.cust_b.clone()),
        ("partner", s.partner.clone()),
    ];
    for (who, org_id) in users {
        let role = match who {
            "customer" | "customer_b" => "customer_admin",
            "partner" => "partner_user",
            r => r,
        };
        let staff = role.starts_with("fasttrack_") || role == "center_engineer";
        store
            .create_user(
                &NewUser {
                    org_id,
                    email: email(who),
                    name: who.replace('_', " "),
                    role: role.into(),
                    password_hash: Some(hash.clone()),
                    language: "it".into(),
                    time_zone: "Europe/Rome".into(),
                    staff: staff.then(|| StaffProfile {
                        region_id: "emea".into(),
                        weekly_capacity: 20,
                        languages: vec!["italian".into(), "english".into()],
                    }),
                },
                &ctx,
            )
            .await
            .expect("user");
    }
    s
}

/// How many jobs wait in the queue.
pub async fn pending_jobs(store: &Store) -> i64 {
    store
        .job_counts()
        .await
        .expect("job counts")
        .into_iter()
        .filter(|(s, _)| s == "pending")
        .map(|(_, n)| n)
        .sum()
}

/// Asserts that a response is an RFC 9457 problem document with `status`.
pub fn assert_problem(r: &Res, status: u16) {
    assert_eq!(r.status.as_u16(), status, "body: {}", r.body);
    assert!(
        r.content_type.starts_with("application/problem+json"),
        "content type {} for {}",
        r.content_type,
        r.body
    );
    assert_eq!(
        r.body["status"].as_u64(),
        Some(u64::from(status)),
        "{}",
        r.body
    );
    assert!(
        r.body["type"].is_string() && r.body["title"].is_string(),
        "{}",
        r.body
    );
}

/// The `field` names in a problem document's errors.
pub fn problem_fields(r: &Res) -> Vec<String> {
    r.body["errors"]
        .as_array()
        .map(|a| {
            a.iter()
                .filter_map(|e| e["field"].as_str().map(String::from))
                .collect()
        })
        .unwrap_or_default()
}

/// The `ft_session=…` pair a sign-in answer sets, ready for a `Cookie` header.
pub fn session_cookie(headers: &reqwest::header::HeaderMap) -> Option<String> {
    headers
        .get_all("set-cookie")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find_map(|c| {
            c.split(';')
                .next()
                .filter(|kv| kv.starts_with("ft_session="))
        })
        .map(String::from)
}
