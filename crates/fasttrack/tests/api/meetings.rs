//! Online meetings over HTTP: slot search (R10–R12), booking without double booking, invites
//! (R13, parsed by an independent iCalendar parser), service-level clocks (R15) and the backlog.

use jiff::civil::{Date, Weekday};
use jiff::tz::TimeZone;
use jiff::{SignedDuration, Timestamp};
use reqwest::StatusCode;
use serde_json::{json, Value};

use crate::helpers::{assert_problem, email, Client, TestApp};
use crate::on_both;

/// A request body in `language`, in the customer's zone `tz` (the tenant's when `None`).
fn request_body(language: &str, tz: Option<&str>, preferred: &[[String; 2]]) -> Value {
    let mut b = json!({
        "kinds": ["service_onboarding"],
        "services": ["mail"],
        "contact": {"name": "Ada Rossi", "email": "ada@contoso.example"},
        "language": language,
        "preferred_windows": preferred,
        "description": "Mail onboarding"
    });
    if let Some(tz) = tz {
        b["time_zone"] = json!(tz);
    }
    b
}

/// Files a request as the customer and has the manager accept it; returns its id.
async fn accepted_request(app: &TestApp, body: Value) -> String {
    let customer = app.sign_in(&email("customer")).await;
    let r = customer.post("/api/v1/requests", body).await;
    assert_eq!(r.status, 201, "{}", r.body);
    let id = r.body["id"].as_str().unwrap().to_string();
    let manager = app.sign_in(&email("fasttrack_manager")).await;
    let a = manager
        .post(&format!("/api/v1/requests/{id}/accept"), json!({}))
        .await;
    assert_eq!(a.status, 200, "{}", a.body);
    id
}

fn ts(v: &Value) -> Timestamp {
    v.as_str().unwrap().parse().unwrap()
}

fn rome() -> TimeZone {
    TimeZone::get("Europe/Rome").unwrap()
}

/// The date of the first `weekday` at least `min_days` after now, in Rome.
fn next_weekday(app: &TestApp, weekday: Weekday, min_days: i64) -> Date {
    let now = app.running.state.clock.now();
    let mut d = rome()
        .to_datetime(now)
        .date()
        .checked_add(jiff::Span::new().days(min_days))
        .unwrap();
    while d.weekday() != weekday {
        d = d.tomorrow().unwrap();
    }
    d
}

/// An instant at `h:m` local time in Rome on `date`.
fn rome_at(date: Date, h: i8, m: i8) -> Timestamp {
    rome().to_timestamp(date.at(h, m, 0, 0)).unwrap()
}

/// Slots of a request, as JSON.
async fn slots(c: &Client, id: &str, query: &str) -> Vec<Value> {
    let r = c.get(&format!("/api/v1/requests/{id}/slots?{query}")).await;
    assert_eq!(r.status, 200, "{}", r.body);
    r.body["slots"].as_array().cloned().unwrap_or_default()
}

/// The id of a seeded user.
async fn user_id(app: &TestApp, who: &str) -> String {
    app.store.get_user_by_email(&email(who)).await.unwrap().id
}

/// GET returning the raw body: status, content type and text.
async fn get_text(c: &Client, path: &str) -> (StatusCode, String, String) {
    let mut req = c.http.get(format!("{}{path}", c.base));
    if let Some(t) = &c.bearer {
        req = req.bearer_auth(t);
    }
    let res = req.send().await.unwrap();
    let status = res.status();
    let ct = res
        .headers()
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_string();
    (status, ct, res.text().await.unwrap())
}

/// Runs one SQL statement straight on the test database, bypassing the application.
async fn raw_exec(url: &str, sql: &str) -> Result<u64, sqlx::Error> {
    use sqlx::Connection;
    if url.starts_with("postgres") {
        let mut c = sqlx::PgConnection::connect(url).await?;
        let n = sqlx::query(sqlx::AssertSqlSafe(sql.to_string()))
            .execute(&mut c)
            .await?
            .rows_affected();
        let _ = c.close().await;
        Ok(n)
    } else {
        let mut c = sqlx::SqliteConnection::connect(url).await?;
        let n = sqlx::query(sqlx::AssertSqlSafe(sql.to_string()))
            .execute(&mut c)
            .await?
            .rows_affected();
        let _ = c.close().await;
        Ok(n)
    }
}

/// Jobs whose dedupe key starts with `prefix`: (dedupe key, run_at, payload).
async fn jobs_like(url: &str, prefix: &str) -> Vec<(String, i64, Value)> {
    use sqlx::Connection;
    let sql = "SELECT dedupe_key, run_at, payload FROM jobs WHERE dedupe_key LIKE $1 ORDER BY id";
    let pattern = format!("{prefix}%");
    let rows: Vec<(String, i64, String)> = if url.starts_with("postgres") {
        let mut c = sqlx::PgConnection::connect(url).await.unwrap();
        sqlx::query_as(sql)
            .bind(pattern)
            .fetch_all(&mut c)
            .await
            .unwrap()
    } else {
        let mut c = sqlx::SqliteConnection::connect(url).await.unwrap();
        sqlx::query_as(sql)
            .bind(pattern)
            .fetch_all(&mut c)
            .await
            .unwrap()
    };
    rows.into_iter()
        .map(|(k, at, p)| (k, at, serde_json::from_str(&p).unwrap()))
        .collect()
}

/// Books the first slot offered for `id`; returns the meeting document.
/// Books the first offered slot that starts after `after`.
async fn book_first_after(c: &Client, id: &str, after: Timestamp) -> Value {
    let s = slots(c, id, "limit=100").await;
    let slot = s.iter().find(|s| ts(&s["start"]) > after).expect("a slot");
    let r = c
        .post(
            "/api/v1/meetings",
            json!({"request_id": id, "staff_id": slot["staff_id"], "start": slot["start"],
                   "length_minutes": 60, "purpose": "kick-off"}),
        )
        .await;
    assert_eq!(r.status, 201, "{}", r.body);
    r.body
}

async fn r10_slot_search_respects_language_hours_holidays_and_customer_hours(app: &TestApp) {
    let staff = app.sign_in(&email("fasttrack_specialist")).await;
    let ny = TimeZone::get("America/New_York").unwrap();
    let id = accepted_request(app, request_body("it", Some("America/New_York"), &[])).await;
    let found = slots(&staff, &id, "length_minutes=60&limit=50&horizon_days=28").await;
    assert!(!found.is_empty(), "some slot within four weeks");
    let seeded = [
        user_id(app, "fasttrack_manager").await,
        user_id(app, "fasttrack_specialist").await,
        user_id(app, "center_engineer").await,
    ];
    let mut last = Timestamp::MIN;
    for s in &found {
        let (start, end) = (ts(&s["start"]), ts(&s["end"]));
        assert_eq!(end.duration_since(start), SignedDuration::from_mins(60));
        assert!(start >= last, "earliest first");
        last = start;
        assert!(seeded.contains(&s["staff_id"].as_str().unwrap().to_string()));
        // R12: inside the region's hours (Mon 09:00–12:30 / 13:30–18:00, Tue 09:00–18:00, Rome).
        let (a, b) = (rome().to_datetime(start), rome().to_datetime(end));
        let (am, bm) = (
            i32::from(a.hour()) * 60 + i32::from(a.minute()),
            i32::from(b.hour()) * 60 + i32::from(b.minute()),
        );
        match a.date().weekday() {
            Weekday::Monday => assert!(
                (540..=750).contains(&am) && bm <= 750 || am >= 810 && bm <= 1080,
                "{a}–{b}"
            ),
            Weekday::Tuesday => assert!(am >= 540 && bm <= 1080, "{a}–{b}"),
            other => panic!("a slot on {other:?}"),
        }
        assert_eq!(am % 30, 0, "on the 30-minute grid");
        // R10: inside the customer's hours, Mon–Fri 09:00–17:00 in New York.
        let (c, d) = (ny.to_datetime(start), ny.to_datetime(end));
        assert!(c.hour() >= 9 && (d.hour() < 17 || (d.hour() == 17 && d.minute() == 0)));
        assert_eq!(c.date(), d.date());
        assert!(
            s["start_local"].as_str().unwrap().ends_with("-05:00")
                || s["start_local"].as_str().unwrap().ends_with("-04:00")
        );
        assert_eq!(s["time_zone"], "America/New_York");
    }

    // A holiday takes the whole day away.
    let day = rome().to_datetime(ts(&found[0]["start"])).date();
    let admin = app.sign_in(&email("programme_admin")).await;
    let h = admin
        .post(
            &format!("/api/v1/regions/{}/holidays", app.seed.region),
            json!([{"day": day.to_string(), "name": "Festa"}]),
        )
        .await;
    assert_eq!(h.status, 200, "{}", h.body);
    let after = slots(&staff, &id, "limit=50").await;
    assert!(after
        .iter()
        .all(|s| rome().to_datetime(ts(&s["start"])).date() != day));

    // Time off takes a staff member away.
    let manager = user_id(app, "fasttrack_manager").await;
    let now = app.running.state.clock.now();
    let off = admin
        .post(
            &format!("/api/v1/staff/{manager}/time-off"),
            json!({"start": now.to_string(), "end": (now + SignedDuration::from_hours(40 * 24)).to_string(), "reason": "leave"}),
        )
        .await;
    assert_eq!(off.status, 201, "{}", off.body);
    let after = slots(&staff, &id, "limit=50").await;
    assert!(!after.is_empty());
    assert!(after.iter().all(|s| s["staff_id"] != manager.as_str()));
    assert_problem(
        &admin
            .post(
                &format!("/api/v1/staff/{manager}/time-off"),
                json!({"start": now.to_string(), "end": now.to_string()}),
            )
            .await,
        422,
    );

    // R11: nobody speaks French.
    let fr = accepted_request(app, request_body("fr", None, &[])).await;
    assert!(slots(&staff, &fr, "").await.is_empty());

    // Preferred windows order the results, they do not exclude.
    let tue = next_weekday(app, Weekday::Tuesday, 9);
    let window = [
        rome_at(tue, 15, 0).to_string(),
        rome_at(tue, 17, 0).to_string(),
    ];
    let pref = accepted_request(app, request_body("it", None, std::slice::from_ref(&window))).await;
    let ordered = slots(&staff, &pref, "limit=10").await;
    assert_eq!(ordered[0]["preferred"], true, "{ordered:?}");
    assert!(ts(&ordered[0]["start"]) >= ts(&json!(window[0])));
    let first_other = ordered
        .iter()
        .position(|s| s["preferred"] == false)
        .expect("slots outside the window are offered too");
    assert!(ordered[first_other..]
        .iter()
        .all(|s| s["preferred"] == false));
    assert_problem(
        &staff
            .get(&format!("/api/v1/requests/{pref}/slots?limit=0"))
            .await,
        422,
    );
}
on_both!(r10_slot_search_respects_language_hours_holidays_and_customer_hours);

async fn r11_chinese_request_is_served_by_mandarin_staff(app: &TestApp) {
    let now = Timestamp::now().as_second();
    let wang = app
        .store
        .create_user(
            &fasttrack_store::NewUser {
                org_id: app.seed.programme.clone(),
                email: "wang@seed.example".into(),
                name: "Wang Li".into(),
                role: "center_engineer".into(),
                password_hash: None,
                language: "en".into(),
                time_zone: "Europe/Rome".into(),
                staff: Some(fasttrack_store::StaffProfile {
                    region_id: app.seed.region.clone(),
                    weekly_capacity: 20,
                    languages: vec!["mandarin".into(), "english".into()],
                }),
            },
            &fasttrack_store::AuditCtx {
                at: now,
                ..Default::default()
            },
        )
        .await
        .unwrap()
        .id;
    let staff = app.sign_in(&email("fasttrack_specialist")).await;
    for lang in ["zh-Hant", "zh-Hans"] {
        let id = accepted_request(app, request_body(lang, None, &[])).await;
        let found = slots(&staff, &id, "limit=20").await;
        assert!(!found.is_empty(), "{lang}");
        assert!(
            found.iter().all(|s| s["staff_id"] == wang.as_str()),
            "{lang}: {found:?}"
        );
        // Booking a Chinese request with Italian/English staff is refused under R11.
        let other = user_id(app, "center_engineer").await;
        let r = staff
            .post(
                "/api/v1/meetings",
                json!({"request_id": id, "staff_id": other, "start": found[0]["start"]}),
            )
            .await;
        assert_problem(&r, 422);
        assert_eq!(r.body["rule"], "R11", "{}", r.body);
    }
}
on_both!(r11_chinese_request_is_served_by_mandarin_staff);

/// Servers keep the team slot search reads in memory (`scheduler::current_team`): a change
/// another process commits straight to the database must show at once, through the triggers that
/// move the scheduling version — time off, a booking, a staff member switched off.
async fn r12_slot_search_sees_changes_committed_by_another_server(app: &TestApp) {
    let staff = app.sign_in(&email("fasttrack_specialist")).await;
    let id = accepted_request(app, request_body("it", None, &[])).await;
    let before = slots(&staff, &id, "limit=50").await;
    assert!(!before.is_empty());
    let now = app.running.state.clock.now().as_second();

    // Time off for whoever holds the first slot, written behind the application's back.
    let away = before[0]["staff_id"].as_str().unwrap().to_string();
    raw_exec(
        &app.database_url,
        &format!(
            "INSERT INTO staff_time_off (id, user_id, starts_at, ends_at) VALUES ('ext-off', '{away}', {}, {})",
            now - 3600,
            now + 100 * 86_400
        ),
    )
    .await
    .unwrap();
    let after = slots(&staff, &id, "limit=50").await;
    assert!(
        after.iter().all(|s| s["staff_id"] != away.as_str()),
        "{after:?}"
    );

    // Removing it gives the slots back exactly.
    raw_exec(
        &app.database_url,
        "DELETE FROM staff_time_off WHERE id = 'ext-off'",
    )
    .await
    .unwrap();
    assert_eq!(slots(&staff, &id, "limit=50").await, before);

    // A staff member switched off by another server is offered no more.
    raw_exec(
        &app.database_url,
        &format!("UPDATE users SET disabled = TRUE WHERE id = '{away}'"),
    )
    .await
    .unwrap();
    let after = slots(&staff, &id, "limit=50").await;
    assert!(after.iter().all(|s| s["staff_id"] != away.as_str()));
    raw_exec(
        &app.database_url,
        &format!("UPDATE users SET disabled = FALSE WHERE id = '{away}'"),
    )
    .await
    .unwrap();
    assert_eq!(slots(&staff, &id, "limit=50").await, before);

    // A change that is not the team's (a customer's name) keeps the version, and the answer.
    let version = app.running.state.store.scheduling_version().await.unwrap();
    raw_exec(
        &app.database_url,
        &format!(
            "UPDATE users SET name = 'Renamed' WHERE email = '{}'",
            email("customer")
        ),
    )
    .await
    .unwrap();
    assert_eq!(
        app.running.state.store.scheduling_version().await.unwrap(),
        version
    );
}
on_both!(r12_slot_search_sees_changes_committed_by_another_server);

/// Saving again what already exists (a holiday of the same day, a staff profile) is an upsert;
/// on SQLite its conflict policy used to override the scheduling version's trigger, and every
/// such save failed with 409 once the team had changed at all.
async fn r12_a_holiday_and_a_staff_profile_saved_again_are_saved(app: &TestApp) {
    let admin = app.sign_in(&email("programme_admin")).await;
    let monday = next_weekday(app, Weekday::Monday, 2);
    let holidays = format!("/api/v1/regions/{}/holidays", app.seed.region);
    for name in ["Festa", "Festa del Santo Patrono"] {
        let h = admin
            .post(
                &holidays,
                json!([{"day": monday.to_string(), "name": name}]),
            )
            .await;
        assert_eq!(h.status, 200, "{}", h.body);
    }
    let listed = admin.get(&holidays).await;
    assert_eq!(listed.status, 200, "{}", listed.body);
    let names: Vec<&str> = listed.body["holidays"]
        .as_array()
        .expect("a list")
        .iter()
        .filter(|h| h["day"] == monday.to_string())
        .filter_map(|h| h["name"].as_str())
        .collect();
    assert_eq!(names, vec!["Festa del Santo Patrono"]);

    let manager = user_id(app, "fasttrack_manager").await;
    let path = format!("/api/v1/users/{manager}");
    let before = admin.get(&path).await;
    assert_eq!(before.status, 200, "{}", before.body);
    for capacity in [7, 9] {
        let mut staff = before.body["staff"].clone();
        staff["weekly_capacity"] = json!(capacity);
        let r = admin.patch(&path, json!({"staff": staff})).await;
        assert_eq!(r.status, 200, "{}", r.body);
        assert_eq!(r.body["staff"]["weekly_capacity"], capacity);
    }
}
on_both!(r12_a_holiday_and_a_staff_profile_saved_again_are_saved);

async fn r12_holiday_import_from_ics_blocks_the_day(app: &TestApp) {
    let admin = app.sign_in(&email("programme_admin")).await;
    let staff = app.sign_in(&email("fasttrack_specialist")).await;
    let monday = next_weekday(app, Weekday::Monday, 2);
    let compact = monday.strftime("%Y%m%d").to_string();
    let next = monday.tomorrow().unwrap().strftime("%Y%m%d").to_string();
    let ics = format!(
        "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//test//holidays//EN\r\nBEGIN:VEVENT\r\nUID:h1@test\r\n\
         DTSTART;VALUE=DATE:{compact}\r\nDTEND;VALUE=DATE:{next}\r\nSUMMARY:Festa del Santo Patrono\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n"
    );
    let url = format!(
        "{}/api/v1/regions/{}/holidays.ics",
        app.base, app.seed.region
    );
    let res = admin
        .http
        .post(&url)
        .header("x-csrf-token", admin.csrf.clone().unwrap())
        .header("content-type", "text/calendar")
        .body(ics)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    let body: Value = res.json().await.unwrap();
    assert!(body["holidays"]
        .as_array()
        .unwrap()
        .iter()
        .any(|h| h["day"] == monday.to_string() && h["name"] == "Festa del Santo Patrono"));

    let id = accepted_request(app, request_body("it", None, &[])).await;
    let found = slots(&staff, &id, "limit=100&horizon_days=14").await;
    assert!(!found.is_empty());
    assert!(found
        .iter()
        .all(|s| rome().to_datetime(ts(&s["start"])).date() != monday));
    // Booking on the holiday is refused under R12.
    let r = staff
        .post(
            "/api/v1/meetings",
            json!({"request_id": id, "staff_id": found[0]["staff_id"],
                   "start": rome_at(monday, 10, 0).to_string()}),
        )
        .await;
    assert_problem(&r, 422);
    assert_eq!(r.body["rule"], "R12", "{}", r.body);

    // A broken file is refused, naming its line, and changes nothing.
    let res = admin
        .http
        .post(&url)
        .header("x-csrf-token", admin.csrf.clone().unwrap())
        .header("content-type", "text/calendar")
        .body("BEGIN:VCALENDAR\r\nBEGIN:VEVENT\r\nDTSTART;VALUE=DATE:2026-13-45\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n")
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 422);
    let problem: Value = res.json().await.unwrap();
    assert!(
        problem["errors"][0]["message"]
            .as_str()
            .unwrap()
            .contains("line"),
        "{problem}"
    );
    // Staff other than admins cannot change calendars.
    let res = staff
        .http
        .post(&url)
        .header("x-csrf-token", staff.csrf.clone().unwrap())
        .header("content-type", "text/calendar")
        .body("BEGIN:VCALENDAR\r\nEND:VCALENDAR\r\n")
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 403);
}
on_both!(r12_holiday_import_from_ics_blocks_the_day);

async fn r10_booking_is_atomic_no_double_booking(app: &TestApp) {
    let staff = app.sign_in(&email("fasttrack_specialist")).await;
    let id = accepted_request(app, request_body("it", None, &[])).await;
    let slot = slots(&staff, &id, "limit=1").await.remove(0);
    let body = json!({"request_id": id, "staff_id": slot["staff_id"], "start": slot["start"],
                      "length_minutes": 60, "purpose": "kick-off"});

    // On PostgreSQL a second server process shares the database: the race spans both.
    let second = if app.database_url.starts_with("postgres") {
        Some(
            fasttrack::start(
                &app.database_url,
                "127.0.0.1:0",
                fasttrack_web::WebConfig::default(),
                crate::helpers::test_worker_config(),
            )
            .await
            .expect("second server"),
        )
    } else {
        None
    };
    let bases: Vec<String> = std::iter::once(app.base.clone())
        .chain(second.as_ref().map(|s| format!("http://{}", s.addr)))
        .collect();
    let mut racers = Vec::new();
    for i in 0..64 {
        let c = Client {
            http: staff.http.clone(),
            base: bases[i % bases.len()].clone(),
            csrf: staff.csrf.clone(),
            bearer: None,
        };
        let b = body.clone();
        racers.push(tokio::spawn(
            async move { c.post("/api/v1/meetings", b).await },
        ));
    }
    let mut won = Vec::new();
    let mut lost = 0;
    for r in racers {
        let r = r.await.unwrap();
        match r.status.as_u16() {
            201 => won.push(r.body),
            409 => {
                assert_problem(&r, 409);
                lost += 1;
            }
            other => panic!("unexpected {other}: {}", r.body),
        }
    }
    assert_eq!(won.len(), 1, "exactly one booking wins");
    assert_eq!(lost, 63);
    let req = staff.get(&format!("/api/v1/requests/{id}")).await;
    assert_eq!(req.body["state"], "scheduled");
    let list = staff
        .get(&format!("/api/v1/meetings?request_id={id}&state=booked"))
        .await;
    assert_eq!(list.body["items"].as_array().unwrap().len(), 1);

    // The database itself refuses an overlapping booked meeting, whatever path writes it.
    let m = &won[0];
    let start = ts(&m["start"]).as_second();
    let sql = format!(
        "INSERT INTO meetings (id, uid, request_id, staff_id, purpose, starts_at, ends_at, state, sequence, online_link, created_at, updated_at)
         VALUES ('raw-1', 'raw-1', '{id}', '{}', 'raw', {}, {}, 'booked', 0, 'https://meet.fasttrack.example/raw', 0, 0)",
        m["staff_id"].as_str().unwrap(),
        start + 1800,
        start + 5400
    );
    let err = raw_exec(&app.database_url, &sql).await.unwrap_err();
    assert!(
        err.to_string().contains("meetings_no_overlap"),
        "the database names the rule it enforces: {err}"
    );
    // A cancelled meeting frees its time.
    let c = staff
        .post(
            &format!("/api/v1/meetings/{}/cancel", m["id"].as_str().unwrap()),
            json!({}),
        )
        .await;
    assert_eq!(c.status, 200, "{}", c.body);
    let again = staff.post("/api/v1/meetings", body).await;
    assert_eq!(again.status, 201, "{}", again.body);
    if let Some(s) = second {
        s.stop().await;
    }
}
on_both!(r10_booking_is_atomic_no_double_booking);

async fn r13_invite_has_online_link_and_no_location(app: &TestApp) {
    let staff = app.sign_in(&email("fasttrack_specialist")).await;
    let id = accepted_request(app, request_body("it", None, &[])).await;
    // A slot more than a day ahead, so that its reminder is still to come whatever the hour.
    let day_after = app.running.state.clock.now() + SignedDuration::from_hours(25);
    let m = book_first_after(&staff, &id, day_after).await;
    let link = m["online_link"].as_str().unwrap();
    assert!(link.starts_with("https://"), "{link}");
    assert!(m.get("location").is_none());
    let mid = m["id"].as_str().unwrap();
    let (status, ct, ics) = get_text(&staff, &format!("/api/v1/meetings/{mid}.ics")).await;
    assert_eq!(status, 200);
    assert!(
        ics.split("\r\n").all(|l| l.len() <= 75),
        "folded at 75 octets"
    );
    let ics = ics.replace("\r\n ", "");
    assert!(
        ct.starts_with("text/calendar") && ct.contains("method=REQUEST"),
        "{ct}"
    );
    assert!(ics.contains("METHOD:REQUEST\r\n"));
    assert!(ics.contains(&format!("URL;VALUE=URI:{link}\r\n")));
    assert!(!ics.contains("LOCATION"));
    assert!(ics.contains("SEQUENCE:0\r\n"));
    assert!(ics.contains("ATTENDEE"));
    assert!(ics.contains("mailto:ada@contoso.example"));

    // The invite went out by mail with its .ics, and a reminder waits for 24 hours before.
    let uid = m["uid"].as_str().unwrap();
    let jobs = jobs_like(&app.database_url, &format!("meeting:{uid}:")).await;
    let invite = jobs
        .iter()
        .find(|j| j.0.ends_with(":0:invite"))
        .expect("invite job");
    assert_eq!(invite.2["template"], "meeting_invite");
    assert_eq!(invite.2["language"], "it");
    assert_eq!(invite.2["ics"]["method"], "REQUEST");
    assert!(invite.2["ics"]["content"]
        .as_str()
        .unwrap()
        .replace("\r\n ", "")
        .contains(link));
    let reminder = jobs
        .iter()
        .find(|j| j.0.ends_with(":0:reminder"))
        .expect("reminder job");
    assert_eq!(reminder.1, ts(&m["start"]).as_second() - 86_400);
    assert_eq!(reminder.2["template"], "meeting_reminder");

    // Rescheduling keeps the UID, raises the SEQUENCE and keeps the old version.
    let later = slots(&staff, &id, "limit=100").await;
    let new_slot = later
        .iter()
        .find(|s| s["staff_id"] == m["staff_id"] && ts(&s["start"]) > ts(&m["end"]))
        .expect("a later slot");
    let r = staff
        .post(
            &format!("/api/v1/meetings/{mid}/reschedule"),
            json!({"start": new_slot["start"]}),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(r.body["uid"], uid);
    assert_eq!(r.body["sequence"], 1);
    assert_eq!(r.body["replaces_id"], mid);
    assert_eq!(r.body["online_link"], link);
    let old = staff.get(&format!("/api/v1/meetings/{mid}")).await;
    assert_eq!(old.body["state"], "rescheduled");
    assert_eq!(old.body["replaced_by"], r.body["id"]);
    let new_id = r.body["id"].as_str().unwrap().to_string();
    let (_, _, ics) = get_text(&staff, &format!("/api/v1/meetings/{new_id}/invite.ics")).await;
    let ics = ics.replace("\r\n ", "");
    assert!(ics.contains("SEQUENCE:1\r\n") && ics.contains(&format!("UID:{uid}\r\n")));

    // Cancelling sends METHOD:CANCEL with a higher SEQUENCE still.
    let c = staff
        .post(
            &format!("/api/v1/meetings/{new_id}/cancel"),
            json!({"reason": "customer asked"}),
        )
        .await;
    assert_eq!(c.status, 200, "{}", c.body);
    assert_eq!(c.body["state"], "cancelled");
    let (_, ct, ics) = get_text(&staff, &format!("/api/v1/meetings/{new_id}.ics")).await;
    let ics = ics.replace("\r\n ", "");
    assert!(ct.contains("method=CANCEL"), "{ct}");
    assert!(ics.contains("METHOD:CANCEL\r\n") && ics.contains("SEQUENCE:2\r\n"));
    assert!(ics.contains("STATUS:CANCELLED"));
    let jobs = jobs_like(&app.database_url, &format!("meeting:{uid}:")).await;
    let cancel = jobs
        .iter()
        .find(|j| j.0.ends_with(":2:cancel"))
        .expect("cancel job");
    assert_eq!(cancel.2["template"], "meeting_cancelled");
    assert_eq!(cancel.2["ics"]["method"], "CANCEL");
    // The customer of another tenant sees nothing of it.
    let other = app.sign_in(&email("customer_b")).await;
    assert_problem(&other.get(&format!("/api/v1/meetings/{new_id}")).await, 404);
    let (status, _, _) = get_text(&other, &format!("/api/v1/meetings/{new_id}.ics")).await;
    assert_eq!(status, 404);
    assert_problem(
        &staff
            .post(&format!("/api/v1/meetings/{new_id}/cancel"), json!({}))
            .await,
        409,
    );
}
on_both!(r13_invite_has_online_link_and_no_location);

/// What Python's `icalendar` reads from an invite.
const PARSE: &str = r#"
import json, sys
from icalendar import Calendar
cal = Calendar.from_ical(open(sys.argv[1], 'rb').read())
ev = [c for c in cal.walk() if c.name == 'VEVENT'][0]
print(json.dumps({
    "method": str(cal.get('method')),
    "uid": str(ev.get('uid')),
    "sequence": int(ev.get('sequence')),
    "start": ev.decoded('dtstart').strftime('%Y-%m-%dT%H:%M:%SZ'),
    "end": ev.decoded('dtend').strftime('%Y-%m-%dT%H:%M:%SZ'),
    "utc": ev.decoded('dtstart').utcoffset().total_seconds() == 0,
    "url": str(ev.get('url')),
    "location": ev.get('location') is not None,
    "organizer": str(ev.get('organizer')),
    "attendees": [str(a) for a in (ev.get('attendee') if isinstance(ev.get('attendee'), list) else [ev.get('attendee')])],
    "description": str(ev.get('description')),
}))
"#;

fn python_parse(ics: &str) -> Value {
    let dir = std::env::temp_dir().join(format!("ft-ics-{}", uuid::Uuid::new_v4()));
    std::fs::create_dir_all(&dir).unwrap();
    let file = dir.join("invite.ics");
    std::fs::write(&file, ics).unwrap();
    let out = std::process::Command::new("python3")
        .arg("-c")
        .arg(PARSE)
        .arg(&file)
        .output()
        .expect("python3 (with `pip install icalendar`, see .ci/run)");
    let _ = std::fs::remove_dir_all(&dir);
    assert!(
        out.status.success(),
        "python icalendar failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).unwrap()
}

async fn invites_parse_with_python_icalendar(app: &TestApp) {
    let staff = app.sign_in(&email("fasttrack_specialist")).await;
    // Commas, semicolons and non-ASCII text must survive escaping and folding.
    let mut body = request_body("it", None, &[]);
    body["contact"]["name"] = json!("Zoë O'Brien; Rossi, Ada");
    let id = accepted_request(app, body).await;
    // The slot is searched at the length booked: a 60-minute slot late in the customer's day has
    // no room for 90 minutes, which made this test fail in the last hour and a half of it.
    let s = slots(&staff, &id, "limit=1&length_minutes=90")
        .await
        .remove(0);
    let m = staff
        .post(
            "/api/v1/meetings",
            json!({"request_id": id, "staff_id": s["staff_id"], "start": s["start"], "length_minutes": 90,
                   "purpose": "Kick-off; mail, files & identity — verifica iniziale della configurazione del tenant"}),
        )
        .await;
    assert_eq!(m.status, 201, "{}", m.body);
    let mid = m.body["id"].as_str().unwrap();
    let (_, _, ics) = get_text(&staff, &format!("/api/v1/meetings/{mid}.ics")).await;
    let parsed = python_parse(&ics);
    assert_eq!(parsed["method"], "REQUEST");
    assert_eq!(parsed["uid"], m.body["uid"]);
    assert_eq!(parsed["sequence"], 0);
    assert_eq!(parsed["utc"], true);
    assert_eq!(
        ts(&parsed["start"]),
        ts(&m.body["start"]),
        "DTSTART is the booked start"
    );
    assert_eq!(
        ts(&parsed["end"]),
        ts(&m.body["end"]),
        "DTEND is the booked end"
    );
    assert_eq!(
        ts(&parsed["end"]).duration_since(ts(&parsed["start"])),
        SignedDuration::from_mins(90)
    );
    assert_eq!(parsed["url"], m.body["online_link"]);
    assert_eq!(parsed["location"], false);
    assert!(parsed["description"]
        .as_str()
        .unwrap()
        .contains("verifica iniziale della configurazione del tenant"));
    assert!(parsed["organizer"].as_str().unwrap().starts_with("mailto:"));

    // The mailed copy parses too, and the cancellation is a CANCEL of the same UID.
    let c = staff
        .post(&format!("/api/v1/meetings/{mid}/cancel"), json!({}))
        .await;
    assert_eq!(c.status, 200);
    let uid = m.body["uid"].as_str().unwrap();
    let jobs = jobs_like(&app.database_url, &format!("meeting:{uid}:")).await;
    for (key, _, payload) in jobs.iter().filter(|j| j.2.get("ics").is_some()) {
        let p = python_parse(payload["ics"]["content"].as_str().unwrap());
        assert_eq!(p["uid"], uid, "{key}");
        assert_eq!(ts(&p["start"]), ts(&m.body["start"]), "{key}");
        assert_eq!(p["method"], payload["ics"]["method"], "{key}");
    }
    assert!(jobs.iter().any(|j| j.0.ends_with(":1:cancel")));
}
on_both!(invites_parse_with_python_icalendar);

async fn r15_sla_clock_counts_business_minutes_and_pauses(app: &TestApp) {
    // Pin the clock to Monday 08:00 in Rome (before business hours), at least a day ahead.
    let clock = &app.running.state.clock;
    let monday = next_weekday(app, Weekday::Monday, 1);
    let move_to = |t: Timestamp| clock.advance(t.as_second() - clock.now().as_second());
    move_to(rome_at(monday, 8, 0));
    let customer = app.sign_in(&email("customer")).await;
    let r = customer
        .post("/api/v1/requests", request_body("it", None, &[]))
        .await;
    assert_eq!(r.status, 201, "{}", r.body);
    let id = r.body["id"].as_str().unwrap().to_string();
    let sla = |c: &Client, id: &str| {
        let path = format!("/api/v1/requests/{id}/sla");
        let c = Client {
            http: c.http.clone(),
            base: c.base.clone(),
            csrf: c.csrf.clone(),
            bearer: None,
        };
        async move {
            let r = c.get(&path).await;
            assert_eq!(r.status, 200, "{}", r.body);
            r.body
        }
    };

    // Monday 11:00: two business hours have run (09:00–11:00).
    move_to(rome_at(monday, 11, 0));
    let manager = app.sign_in(&email("fasttrack_manager")).await;
    let s = sla(&manager, &id).await;
    assert_eq!(s["first_response"]["elapsed_minutes"], 120, "{s}");
    assert_eq!(s["first_response"]["target_minutes"], 480);
    assert_eq!(s["first_meeting"]["target_minutes"], 2400);
    assert_eq!(s["first_response"]["running"], true);
    // The team asks the customer a question: that is the first response, and the clocks pause.
    let ask = manager
        .post(
            &format!("/api/v1/requests/{id}/ask-info"),
            json!({"message": "Quanti utenti?"}),
        )
        .await;
    assert_eq!(ask.status, 200, "{}", ask.body);

    // Monday 13:00 (lunch break): the customer answers; the pause was 11:00–13:00, so 11:00–12:30
    // does not count. Ending inside the break keeps the figures exact to the minute.
    move_to(rome_at(monday, 13, 0));
    let customer = app.sign_in(&email("customer")).await;
    let ans = customer
        .post(
            &format!("/api/v1/requests/{id}/respond"),
            json!({"message": "300"}),
        )
        .await;
    assert_eq!(ans.status, 200, "{}", ans.body);

    // Tuesday 10:00: 120 (Mon 09–11) + 270 (Mon 13:30–18) + 60 (Tue 09–10) = 450.
    move_to(rome_at(monday.tomorrow().unwrap(), 10, 0));
    let manager = app.sign_in(&email("fasttrack_manager")).await;
    let s = sla(&manager, &id).await;
    assert_eq!(s["first_response"]["running"], false);
    assert_eq!(s["first_response"]["elapsed_minutes"], 120, "{s}");
    assert_eq!(s["first_response"]["breached"], false);
    assert_eq!(s["first_meeting"]["elapsed_minutes"], 450, "{s}");
    assert_eq!(s["first_meeting"]["remaining_minutes"], 2400 - 450);
    assert_eq!(s["pauses"].as_array().unwrap().len(), 1);
    let paused_at = ts(&s["pauses"][0]["start"]);
    assert!(paused_at >= rome_at(monday, 11, 0) && paused_at < rome_at(monday, 11, 1));
    assert_eq!(s["time_zone"], "Europe/Rome");

    // The next Monday is a holiday: the weekend (no hours on Wed–Sun in this region) and the
    // holiday add nothing; Tuesday adds 540. Next Monday 10:00: 120 + 270 + 540 = 930.
    let next_monday = monday.checked_add(jiff::Span::new().days(7)).unwrap();
    let admin = app.sign_in(&email("programme_admin")).await;
    let h = admin
        .post(
            &format!("/api/v1/regions/{}/holidays", app.seed.region),
            json!([{"day": next_monday.to_string(), "name": "Festa"}]),
        )
        .await;
    assert_eq!(h.status, 200, "{}", h.body);
    move_to(rome_at(next_monday, 10, 0));
    let manager = app.sign_in(&email("fasttrack_manager")).await;
    let s = sla(&manager, &id).await;
    assert_eq!(s["first_meeting"]["elapsed_minutes"], 930, "{s}");
    assert_eq!(s["first_meeting"]["near_breach"], false);

    // Targets are programme settings: at 1,000 minutes, 930 is near breach; at 600, breached.
    let admin = app.sign_in(&email("programme_admin")).await;
    let put = |minutes: i64| {
        let c = Client {
            http: admin.http.clone(),
            base: admin.base.clone(),
            csrf: admin.csrf.clone(),
            bearer: None,
        };
        async move {
            c.send(
                reqwest::Method::PUT,
                "/api/v1/sla/settings",
                Some(&json!({"first_response_minutes": 480, "first_meeting_minutes": minutes, "near_breach_percent": 80})),
            )
            .await
        }
    };
    assert_eq!(put(1000).await.status, 200);
    let s = sla(&manager, &id).await;
    assert_eq!(s["first_meeting"]["near_breach"], true, "{s}");
    assert_eq!(put(600).await.status, 200);
    let s = sla(&manager, &id).await;
    assert_eq!(s["first_meeting"]["breached"], true, "{s}");

    // The queue shows it to staff, least time left first; others may not read the queue.
    let q = manager
        .get("/api/v1/sla/queue?sort=time_left&breached=true")
        .await;
    assert_eq!(q.status, 200, "{}", q.body);
    assert!(q.body["items"]
        .as_array()
        .unwrap()
        .iter()
        .any(|i| i["request_id"] == id.as_str()));
    let customer = app.sign_in(&email("customer")).await;
    assert_problem(&customer.get("/api/v1/sla/queue").await, 403);
    assert_problem(&manager.get("/api/v1/sla/queue?sort=nonsense").await, 422);
}
on_both!(r15_sla_clock_counts_business_minutes_and_pauses);

async fn schedule_backlog_books_every_accepted_request_or_says_why(app: &TestApp) {
    let mut italian = Vec::new();
    for _ in 0..3 {
        italian.push(accepted_request(app, request_body("it", None, &[])).await);
    }
    let japanese = accepted_request(app, request_body("ja", None, &[])).await;
    // A tenant whose subscription lapses after its request was accepted: paused (R1).
    let customer_b = app.sign_in(&email("customer_b")).await;
    let r = customer_b
        .post("/api/v1/requests", request_body("it", None, &[]))
        .await;
    assert_eq!(r.status, 201, "{}", r.body);
    let paused = r.body["id"].as_str().unwrap().to_string();
    let manager = app.sign_in(&email("fasttrack_manager")).await;
    let a = manager
        .post(&format!("/api/v1/requests/{paused}/accept"), json!({}))
        .await;
    assert_eq!(a.status, 200, "{}", a.body);
    app.store
        .update_subscription(
            &app.seed.sub_b,
            None,
            None,
            Some("suspended"),
            None,
            &fasttrack_store::AuditCtx {
                at: Timestamp::now().as_second(),
                ..Default::default()
            },
        )
        .await
        .unwrap();

    assert_problem(
        &manager
            .post("/api/v1/admin/schedule-backlog", json!({}))
            .await,
        403,
    );
    let admin = app.sign_in(&email("programme_admin")).await;
    let run = admin
        .post(
            "/api/v1/admin/schedule-backlog",
            json!({"length_minutes": 60}),
        )
        .await;
    assert_eq!(run.status, 200, "{}", run.body);
    let booked = run.body["booked"].as_array().unwrap();
    assert_eq!(booked.len(), 3, "{}", run.body);
    let mut staff: Vec<&str> = booked
        .iter()
        .map(|b| b["staff_id"].as_str().unwrap())
        .collect();
    staff.sort();
    staff.dedup();
    assert_eq!(
        staff.len(),
        3,
        "spread fairly across the three staff: {}",
        run.body
    );
    for id in &italian {
        assert!(booked.iter().any(|b| b["request_id"] == id.as_str()));
        let r = admin.get(&format!("/api/v1/requests/{id}")).await;
        assert_eq!(r.body["state"], "scheduled");
    }
    let unplaced = run.body["unplaced"].as_array().unwrap();
    let why = |id: &str| {
        unplaced
            .iter()
            .find(|u| u["request_id"] == id)
            .map(|u| u["reason"].as_str().unwrap().to_string())
    };
    assert_eq!(why(&japanese).as_deref(), Some("no_staff_speaks_language"));
    assert_eq!(why(&paused).as_deref(), Some("subscription_inactive"));
    // Booking the paused tenant's request by hand is refused under R1 too.
    let staff_c = app.sign_in(&email("fasttrack_specialist")).await;
    let r = staff_c
        .post(
            "/api/v1/meetings",
            json!({"request_id": paused, "staff_id": booked[0]["staff_id"], "start": booked[0]["start"]}),
        )
        .await;
    assert_problem(&r, 422);
    assert_eq!(r.body["rule"], "R1");

    // A second run finds nothing new to book.
    let again = admin
        .post("/api/v1/admin/schedule-backlog", json!({}))
        .await;
    assert_eq!(
        again.body["booked"].as_array().unwrap().len(),
        0,
        "{}",
        again.body
    );

    // The command line does the same: a new accepted request gets its meeting.
    let late = accepted_request(app, request_body("it", None, &[])).await;
    fasttrack::schedule_cli::run(fasttrack::schedule_cli::ScheduleArgs {
        db: fasttrack::cli::DbArgs {
            database_url: app.database_url.clone(),
        },
        backlog: true,
        length_minutes: 60,
        horizon_days: 28,
        purpose: "kick-off".into(),
        json: true,
    })
    .await
    .expect("fasttrack schedule --backlog");
    let r = admin.get(&format!("/api/v1/requests/{late}")).await;
    assert_eq!(r.body["state"], "scheduled");
}
on_both!(schedule_backlog_books_every_accepted_request_or_says_why);

async fn r15_near_breaches_notify_the_fasttrack_manager_once_per_clock(app: &TestApp) {
    // Targets that a fortnight nearly uses up: the first-response clock nears its target after
    // 1,000 business minutes (1% of 100,000), the first-meeting clock never does.
    let admin = app.sign_in(&email("programme_admin")).await;
    let s = admin
        .send(
            reqwest::Method::PUT,
            "/api/v1/sla/settings",
            Some(
                &json!({"first_response_minutes": 100_000, "first_meeting_minutes": 500_000,
                         "near_breach_percent": 1}),
            ),
        )
        .await;
    assert_eq!(s.status, 200, "{}", s.body);
    let customer = app.sign_in(&email("customer")).await;
    let r = customer
        .post("/api/v1/requests", request_body("it", None, &[]))
        .await;
    assert_eq!(r.status, 201, "{}", r.body);
    let id = r.body["id"].as_str().unwrap().to_string();
    let now = app.running.state.clock.now();
    let alerts = fasttrack_web::api::sla::near_breach_alerts(&app.store, now)
        .await
        .unwrap();
    assert!(alerts.is_empty(), "nothing is near breach yet: {alerts:?}");
    // Two weeks on (the seeded region works 1,020 minutes a week): the first response is near.
    let later = now + SignedDuration::from_hours(24 * 15);
    let alerts = fasttrack_web::api::sla::near_breach_alerts(&app.store, later)
        .await
        .unwrap();
    assert_eq!(alerts.len(), 1, "{alerts:?}");
    let a = &alerts[0].payload;
    assert_eq!(a["template"], "sla_near_breach");
    assert_eq!(a["vars"]["request_id"], json!(id));
    assert_eq!(a["vars"]["clock"], "first_response");
    // Nobody owns the request yet: every FastTrack Manager hears of it.
    assert_eq!(a["to"], json!([email("fasttrack_manager")]));
    // The mail reads in the tenant's language, with the clock's name translated.
    let mail = fasttrack_web::mail::render(
        "sla_near_breach",
        fasttrack_core::Language::Italian,
        &a["vars"],
    )
    .unwrap();
    assert!(mail.text.contains("prima risposta"), "{}", mail.text);
    assert!(mail.text.contains(&id));
    // The sweep queues it once, however often it runs.
    let before = crate::helpers::pending_jobs(&app.store).await;
    for _ in 0..3 {
        fasttrack::sweeps::sla_near_breach_alerts(&app.store, later)
            .await
            .unwrap();
    }
    assert_eq!(crate::helpers::pending_jobs(&app.store).await, before + 1);
    // Once accepted, the first response has happened; its manager owns what is left.
    let manager = app.sign_in(&email("fasttrack_manager")).await;
    let a = manager
        .post(&format!("/api/v1/requests/{id}/accept"), json!({}))
        .await;
    assert_eq!(a.status, 200, "{}", a.body);
    let alerts = fasttrack_web::api::sla::near_breach_alerts(&app.store, later)
        .await
        .unwrap();
    assert!(
        alerts
            .iter()
            .all(|a| a.payload["vars"]["clock"] != "first_response"),
        "{alerts:?}"
    );
}
on_both!(r15_near_breaches_notify_the_fasttrack_manager_once_per_clock);
