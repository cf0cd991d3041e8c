//! The web site over HTTP, as a browser without JavaScript sees it: sign-in, the customer's
//! landing page and request form, the partner's customers, staff triage and the meeting plan,
//! CSRF tokens on every form, and the language chosen for each page (R8, R9, R10, R11).

use fasttrack_core::Language;
use fasttrack_web::site::i18n;
use reqwest::header;
use serde_json::json;

use crate::helpers::{email, TestApp, PASSWORD};
use crate::on_both;

/// A browser: keeps cookies, does not follow redirects (the tests look at them).
struct Browser {
    http: reqwest::Client,
    base: String,
}

impl Browser {
    fn new(app: &TestApp) -> Browser {
        Browser {
            http: reqwest::Client::builder()
                .cookie_store(true)
                .redirect(reqwest::redirect::Policy::none())
                .build()
                .unwrap(),
            base: app.base.clone(),
        }
    }

    async fn get(&self, path: &str) -> (u16, String) {
        let r = self
            .http
            .get(format!("{}{path}", self.base))
            .send()
            .await
            .unwrap();
        let status = r.status().as_u16();
        let location = r
            .headers()
            .get(header::LOCATION)
            .map(|v| v.to_str().unwrap().to_string());
        let text = r.text().await.unwrap();
        (status, location.unwrap_or(text))
    }

    async fn post(&self, path: &str, form: &[(&str, &str)]) -> (u16, String) {
        let r = self
            .http
            .post(format!("{}{path}", self.base))
            .form(form)
            .send()
            .await
            .unwrap();
        let status = r.status().as_u16();
        let location = r
            .headers()
            .get(header::LOCATION)
            .map(|v| v.to_str().unwrap().to_string());
        let text = r.text().await.unwrap();
        (status, location.unwrap_or(text))
    }

    /// Signs in through the form, in English.
    async fn sign_in(app: &TestApp, who: &str) -> Browser {
        let b = Browser::new(app);
        b.get("/language?to=en&back=/").await;
        let (_, form) = b.get("/sign-in").await;
        let token = field(&form, "csrf_token");
        let (status, to) = b
            .post(
                "/sign-in",
                &[
                    ("csrf_token", &token),
                    ("next", "/"),
                    ("email", &email(who)),
                    ("password", PASSWORD),
                ],
            )
            .await;
        assert_eq!(status, 303, "{to}");
        b
    }

    /// The session's CSRF token, as the pages put it in their forms.
    async fn csrf(&self) -> String {
        let (_, page) = self.get("/requests").await;
        field(&page, "csrf_token")
    }
}

/// The value of the first hidden field `name` in a page.
fn field(html: &str, name: &str) -> String {
    html.split(&format!("name=\"{name}\" value=\""))
        .nth(1)
        .and_then(|s| s.split('"').next())
        .unwrap_or_else(|| panic!("no field {name} in {html}"))
        .to_string()
}

/// Every `<form …>` opening tag and its body up to `</form>`.
fn forms(html: &str) -> Vec<String> {
    html.split("<form")
        .skip(1)
        .map(|f| f.split("</form>").next().unwrap_or("").to_string())
        .collect()
}

async fn site_sign_in_refuses_forged_forms_and_wrong_passwords(app: &TestApp) {
    let b = Browser::new(app);
    b.get("/language?to=en&back=/").await;
    let (status, to) = b.get("/dashboard").await;
    assert_eq!((status, to.as_str()), (303, "/sign-in?next=%2Fdashboard"));
    let (_, form) = b.get("/sign-in?next=/dashboard").await;
    let token = field(&form, "csrf_token");
    assert_eq!(token.len(), 64);
    // A form posted without the cookie it was issued with is refused.
    let (status, _) = Browser::new(app)
        .post(
            "/sign-in",
            &[
                ("csrf_token", &token),
                ("email", &email("fasttrack_manager")),
                ("password", PASSWORD),
            ],
        )
        .await;
    assert_eq!(status, 403);
    let (status, page) = b
        .post(
            "/sign-in",
            &[
                ("csrf_token", &token),
                ("next", "/dashboard"),
                ("email", &email("fasttrack_manager")),
                ("password", "not it"),
            ],
        )
        .await;
    assert_eq!(status, 401);
    assert!(page.contains("Wrong e-mail or password"), "{page}");
    assert!(
        page.contains(&email("fasttrack_manager")),
        "the e-mail is kept"
    );
    let token = field(&page, "csrf_token");
    let (status, to) = b
        .post(
            "/sign-in",
            &[
                ("csrf_token", &token),
                ("next", "/dashboard"),
                ("email", &email("fasttrack_manager")),
                ("password", PASSWORD),
            ],
        )
        .await;
    assert_eq!((status, to.as_str()), (303, "/dashboard"));
    let (status, page) = b.get("/dashboard").await;
    assert_eq!(status, 200);
    for text in [
        "Programme dashboard",
        "Requests by state",
        "Demand and capacity by language",
        "<svg",
    ] {
        assert!(page.contains(text), "{text} missing");
    }
    // The dashboard is not for customers.
    let customer = Browser::sign_in(app, "customer").await;
    assert_eq!(customer.get("/dashboard").await.0, 403);
}
on_both!(site_sign_in_refuses_forged_forms_and_wrong_passwords);

async fn r8_customer_home_puts_quick_actions_first_and_a_card_per_eligible_service(app: &TestApp) {
    let b = Browser::sign_in(app, "customer").await;
    assert_eq!(b.get("/").await, (303, "/home".to_string()));
    let (status, page) = b.get("/home").await;
    assert_eq!(status, 200, "{page}");
    let quick = page.find("Quick actions").expect("quick actions");
    let cards = page.find("Your services").expect("deployment cards");
    assert!(quick < cards, "Quick actions come first");
    assert!(page.contains("/requests/new?channel=site_quick_action"));
    let api = app.sign_in(&email("customer")).await;
    let services = api
        .get(&format!(
            "/api/v1/organizations/{}/services",
            app.seed.cust_a
        ))
        .await;
    let services = services.body.as_array().unwrap().clone();
    assert!(!services.is_empty());
    for s in &services {
        let id = s["service_id"].as_str().unwrap();
        assert!(
            page.contains(&format!(
                "/requests/new?service={id}&amp;channel=site_deployment_card"
            )),
            "a card for {id}"
        );
        assert!(page.contains(&format!(
            "/requests/new?service={id}&amp;channel=site_services_list"
        )));
    }
    assert_eq!(
        page.matches("<article class=\"card service\">").count(),
        services.len()
    );
}
on_both!(r8_customer_home_puts_quick_actions_first_and_a_card_per_eligible_service);

async fn site_request_form_keeps_values_and_errors_by_field_then_files(app: &TestApp) {
    let b = Browser::sign_in(app, "customer").await;
    let (_, form) = b
        .get("/requests/new?service=mail&channel=site_deployment_card")
        .await;
    assert!(
        form.contains("value=\"mail\" checked"),
        "the card's service is ticked"
    );
    let token = field(&form, "csrf_token");
    let bad = [
        ("csrf_token", token.as_str()),
        ("org_id", app.seed.cust_a.as_str()),
        ("channel", "site_deployment_card"),
        ("services", "mail"),
        ("contact_name", "Ada Rossi"),
        ("contact_email", "not-an-address"),
        ("language", "it"),
        ("description", "Our mail needs moving"),
    ];
    let (status, page) = b.post("/requests", &bad).await;
    assert_eq!(status, 422, "{page}");
    assert!(page.contains("id=\"err-contact.email\""), "{page}");
    assert!(page.contains("id=\"err-kinds\""), "{page}");
    assert!(
        page.contains("Our mail needs moving"),
        "the description is kept"
    );
    assert!(
        page.contains("value=\"not-an-address\""),
        "the e-mail is kept"
    );
    let mut good = bad.to_vec();
    good[5] = ("contact_email", "ada@contoso.example");
    good.push(("kinds", "service_onboarding"));
    let (status, to) = b.post("/requests", &good).await;
    assert_eq!(status, 303, "{to}");
    let id = to.trim_start_matches("/requests/").to_string();
    let api = app.sign_in(&email("customer")).await;
    let r = api.get(&format!("/api/v1/requests/{id}")).await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(r.body["channel"], "site_deployment_card");
    let (status, page) = b.get(&to).await;
    assert_eq!(status, 200);
    assert!(page.contains("Our mail needs moving"));
    // Another tenant sees nothing of it.
    let other = Browser::sign_in(app, "customer_b").await;
    assert_eq!(other.get(&to).await.0, 404);
}
on_both!(site_request_form_keeps_values_and_errors_by_field_then_files);

async fn r9_partner_finds_a_customer_by_search_and_files_on_its_behalf(app: &TestApp) {
    let b = Browser::sign_in(app, "partner").await;
    assert_eq!(b.get("/").await, (303, "/customers".to_string()));
    let (status, page) = b.get("/customers?q=conto").await;
    assert_eq!(status, 200);
    assert!(
        page.contains(&format!("/customers/{}", app.seed.cust_a)),
        "{page}"
    );
    assert!(!page.contains("Fabrikam"), "no relationship with Fabrikam");
    // Only customers that granted a live relationship are there at all.
    assert_eq!(
        b.get(&format!("/customers/{}", app.seed.cust_b)).await.0,
        404
    );
    let (status, services) = b.get(&format!("/customers/{}", app.seed.cust_a)).await;
    assert_eq!(status, 200);
    assert!(services.contains("channel=partner_portal"));
    let (_, form) = b
        .get(&format!(
            "/requests/new?org={}&service=mail",
            app.seed.cust_a
        ))
        .await;
    let token = field(&form, "csrf_token");
    let (status, to) = b
        .post(
            "/requests",
            &[
                ("csrf_token", &token),
                ("org_id", &app.seed.cust_a),
                ("channel", "partner_portal"),
                ("kinds", "service_onboarding"),
                ("services", "mail"),
                ("contact_name", "Ada Rossi"),
                ("contact_email", "ada@contoso.example"),
                ("language", "it"),
                ("description", "On behalf of Contoso"),
            ],
        )
        .await;
    assert_eq!(status, 303, "{to}");
    let id = to.trim_start_matches("/requests/");
    let api = app.sign_in(&email("customer")).await;
    let r = api.get(&format!("/api/v1/requests/{id}")).await;
    assert_eq!(r.body["channel"], "partner_portal");
    assert_eq!(r.body["filed_by_org_id"], json!(app.seed.partner));
}
on_both!(r9_partner_finds_a_customer_by_search_and_files_on_its_behalf);

async fn r10_staff_accept_on_the_page_and_the_customer_confirms_the_meeting_plan(app: &TestApp) {
    let customer = Browser::sign_in(app, "customer").await;
    let (_, form) = customer
        .get("/requests/new?channel=site_quick_action")
        .await;
    let token = field(&form, "csrf_token");
    let (_, to) = customer
        .post(
            "/requests",
            &[
                ("csrf_token", &token),
                ("org_id", &app.seed.cust_a),
                ("channel", "site_quick_action"),
                ("kinds", "core_onboarding"),
                ("services", "mail"),
                ("contact_name", "Ada Rossi"),
                ("contact_email", "ada@contoso.example"),
                ("language", "it"),
                ("description", "Tenant setup"),
            ],
        )
        .await;
    let manager = Browser::sign_in(app, "fasttrack_manager").await;
    let (status, queue) = manager.get("/requests?state=submitted").await;
    assert_eq!(status, 200);
    assert!(
        queue.contains(&format!("href=\"{to}\"")),
        "the queue lists it"
    );
    let (_, page) = manager.get(&to).await;
    assert!(
        page.contains(&format!("action=\"{to}/accept\"")),
        "staff may accept"
    );
    let token = field(&page, "csrf_token");
    // Without the token nothing happens.
    let (status, _) = manager.post(&format!("{to}/accept"), &[]).await;
    assert_eq!(status, 403);
    let (status, back) = manager
        .post(&format!("{to}/accept"), &[("csrf_token", &token)])
        .await;
    assert_eq!((status, back.as_str()), (303, to.as_str()));
    let (_, page) = customer.get(&to).await;
    assert!(page.contains("Meeting plan"), "{page}");
    assert!(page.contains(&format!("action=\"{to}/plan-confirm\"")));
    let token = field(&page, "csrf_token");
    let (status, _) = customer
        .post(&format!("{to}/plan-confirm"), &[("csrf_token", &token)])
        .await;
    assert_eq!(status, 303);
    let (_, page) = customer.get(&to).await;
    assert!(page.contains(".ics\">Add to calendar</a>"), "{page}");
    assert!(!page.contains("plan-confirm"), "nothing left to confirm");
}
on_both!(r10_staff_accept_on_the_page_and_the_customer_confirms_the_meeting_plan);

async fn r12_staff_record_and_remove_their_time_off_on_a_page(app: &TestApp) {
    let b = Browser::sign_in(app, "center_engineer").await;
    let (status, page) = b.get("/time-off").await;
    assert_eq!(status, 200, "{page}");
    assert!(
        page.contains("href=\"/time-off\" aria-current=\"page\""),
        "in the staff menu"
    );
    let token = field(&page, "csrf_token");
    // The user's zone is Rome: 09:00 there on 1 December is 08:00 UTC.
    let (status, page) = b
        .post(
            "/time-off",
            &[
                ("csrf_token", &token),
                ("start", "2027-12-01T09:00"),
                ("end", "2027-11-30T09:00"),
                ("reason", "Training"),
            ],
        )
        .await;
    assert_eq!(status, 422, "an absence that ends before it starts: {page}");
    assert!(page.contains("id=\"err-end\""), "{page}");
    assert!(page.contains("value=\"Training\""), "the reason is kept");
    let (status, page) = b
        .post(
            "/time-off",
            &[("csrf_token", &token), ("start", "yesterday"), ("end", "")],
        )
        .await;
    assert_eq!(status, 422, "{page}");
    assert!(page.contains("id=\"err-start\"") && page.contains("id=\"err-end\""));
    let (status, to) = b
        .post(
            "/time-off",
            &[
                ("csrf_token", &token),
                ("start", "2027-12-01T09:00"),
                ("end", "2027-12-03T18:00"),
                ("reason", "Training"),
            ],
        )
        .await;
    assert_eq!(status, 303, "{to}");
    let me = app.sign_in(&email("center_engineer")).await;
    let who = me.get("/api/v1/me").await;
    let id = who.body["id"].as_str().unwrap().to_string();
    let list = me.get(&format!("/api/v1/staff/{id}/time-off")).await;
    assert_eq!(
        list.body[0]["start"], "2027-12-01T08:00:00Z",
        "{}",
        list.body
    );
    assert_eq!(list.body[0]["end"], "2027-12-03T17:00:00Z");
    let absence = list.body[0]["id"].as_str().unwrap().to_string();
    // Another staff member may not remove it; a customer may not even see the page.
    let other = Browser::sign_in(app, "fasttrack_specialist").await;
    let other_token = other.csrf().await;
    let (status, _) = other
        .post(
            &format!("/time-off/{id}/{absence}/remove"),
            &[("csrf_token", &other_token)],
        )
        .await;
    assert_eq!(status, 403);
    let customer = Browser::sign_in(app, "customer").await;
    assert_ne!(customer.get(&format!("/time-off?staff={id}")).await.0, 200);
    let (_, page) = b.get("/time-off").await;
    assert!(page.contains("Training"), "{page}");
    let (status, _) = b
        .post(
            &format!("/time-off/{id}/{absence}/remove"),
            &[("csrf_token", &token)],
        )
        .await;
    assert_eq!(status, 303);
    let list = me.get(&format!("/api/v1/staff/{id}/time-off")).await;
    assert_eq!(list.body.as_array().map(Vec::len), Some(0));
}
on_both!(r12_staff_record_and_remove_their_time_off_on_a_page);

async fn r11_rule_refusals_read_in_the_viewers_language(app: &TestApp) {
    let b = Browser::sign_in(app, "customer").await;
    let (_, form) = b.get("/requests/new").await;
    let token = field(&form, "csrf_token");
    let refused = [
        ("csrf_token", token.as_str()),
        ("org_id", app.seed.cust_a.as_str()),
        ("channel", "site_quick_action"),
        ("services", "mail"),
        ("kinds", "service_onboarding"),
        ("contact_name", "Ada Rossi"),
        ("contact_email", "ada@contoso.example"),
        ("language", "ru"),
        ("description", "Помогите"),
    ];
    b.get("/language?to=ja&back=/").await;
    let (status, page) = b.post("/requests", &refused).await;
    assert_eq!(status, 422, "{page}");
    let ja = i18n::text(Language::Japanese, "rule-r11-why", &[]);
    assert!(page.contains(&ja), "the R11 refusal in Japanese: {page}");
    b.get("/language?to=en&back=/").await;
    let (_, page) = b.post("/requests", &refused).await;
    assert!(page.contains("Refused by rule R11 (Languages)."), "{page}");
}
on_both!(r11_rule_refusals_read_in_the_viewers_language);

async fn site_every_post_form_carries_the_sessions_csrf_token(app: &TestApp) {
    // A request in the plan state, so that every kind of form shows somewhere.
    let customer_api = app.sign_in(&email("customer")).await;
    let r = customer_api
        .post(
            "/api/v1/requests",
            json!({"kinds": ["core_onboarding"], "services": ["mail"],
                   "contact": {"name": "Ada", "email": "ada@contoso.example"},
                   "language": "it", "description": "x"}),
        )
        .await;
    let id = r.body["id"].as_str().unwrap().to_string();
    let manager_api = app.sign_in(&email("fasttrack_manager")).await;
    manager_api
        .post(&format!("/api/v1/requests/{id}/accept"), json!({}))
        .await;
    let list = manager_api
        .get(&format!("/api/v1/engagements?org_id={}", app.seed.cust_a))
        .await;
    let engagement = list.body["items"][0]["id"].as_str().unwrap().to_string();
    let pages = [
        "/home".to_string(),
        "/requests".into(),
        "/requests/new".into(),
        format!("/requests/{id}"),
        "/engagements".into(),
        format!("/engagements/{engagement}"),
        "/customers".into(),
        format!("/customers/{}", app.seed.cust_a),
        "/dashboard".into(),
        "/relationships".into(),
        "/audit".into(),
        "/admin".into(),
        "/time-off".into(),
    ];
    let mut checked = 0;
    for who in [
        "customer",
        "partner",
        "fasttrack_manager",
        "center_engineer",
        "programme_admin",
    ] {
        let b = Browser::sign_in(app, who).await;
        let token = b.csrf().await;
        for p in &pages {
            let (status, html) = b.get(p).await;
            if status != 200 {
                continue;
            }
            for f in forms(&html) {
                let head = f.split('>').next().unwrap_or("");
                if head.contains("method=\"get\"") {
                    continue;
                }
                assert!(
                    f.contains(&format!("name=\"csrf_token\" value=\"{token}\"")),
                    "{who} on {p}: a form without the session's token: <form{f}"
                );
                checked += 1;
            }
        }
    }
    assert!(checked >= 10, "only {checked} forms seen");
}
on_both!(site_every_post_form_carries_the_sessions_csrf_token);

async fn r11_pages_speak_the_switchers_language_then_the_users_then_the_browsers(app: &TestApp) {
    let anonymous = Browser::new(app);
    let with_accept = anonymous
        .http
        .get(format!("{}/sign-in", app.base))
        .header(header::ACCEPT_LANGUAGE, "ja-JP, en;q=0.5")
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(with_accept.contains("<html lang=\"ja\">"));
    assert!(with_accept.contains(&i18n::text(Language::Japanese, "field-password", &[])));
    // The seeded customer's setting is Italian.
    let b = Browser::new(app);
    let (_, form) = b.get("/sign-in").await;
    let token = field(&form, "csrf_token");
    b.post(
        "/sign-in",
        &[
            ("csrf_token", &token),
            ("next", "/home"),
            ("email", &email("customer")),
            ("password", PASSWORD),
        ],
    )
    .await;
    let (_, home) = b.get("/home").await;
    assert!(home.contains("<html lang=\"it\">"), "the user's setting");
    assert!(home.contains(&i18n::text(Language::Italian, "quick-actions", &[])));
    // The switcher wins, and returns to the page.
    let (status, to) = b.get("/language?to=th&back=%2Fhome").await;
    assert_eq!((status, to.as_str()), (303, "/home"));
    let (_, home) = b.get("/home").await;
    assert!(home.contains("<html lang=\"th\">"));
    assert!(home.contains(&i18n::text(Language::Thai, "quick-actions", &[])));
    // Every language is offered by the switcher, named in itself.
    for l in Language::ALL {
        assert!(home.contains(l.native_name()), "{}", l.tag());
    }
}
on_both!(r11_pages_speak_the_switchers_language_then_the_users_then_the_browsers);

async fn r16_customer_approves_a_partners_ask_with_chosen_scopes_and_ends_it(app: &TestApp) {
    let partner_api = app.sign_in(&email("partner")).await;
    let ask = partner_api
        .post(
            "/api/v1/relationships",
            json!({"customer_org_id": app.seed.cust_b,
                   "scopes": {"actions": ["view", "file_requests", "own_tenant_tasks"], "services": null},
                   "term_days": 365}),
        )
        .await;
    assert_eq!(ask.status, 201, "{}", ask.body);
    let id = ask.body["id"].as_str().unwrap().to_string();
    let b = Browser::sign_in(app, "customer_b").await;
    let (status, page) = b.get("/relationships").await;
    assert_eq!(status, 200);
    assert!(page.contains("Northwind Partners"), "{page}");
    assert!(page.contains(&format!("action=\"/relationships/{id}/approve\"")));
    let token = field(&page, "csrf_token");
    // The customer narrows the scopes: no changes in its tenant, and a shorter term.
    let (status, to) = b
        .post(
            &format!("/relationships/{id}/approve"),
            &[
                ("csrf_token", &token),
                ("actions", "view"),
                ("actions", "file_requests"),
                ("term_days", "90"),
            ],
        )
        .await;
    assert_eq!((status, to.as_str()), (303, "/relationships"));
    let r = partner_api
        .get(&format!("/api/v1/relationships/{id}"))
        .await;
    assert_eq!(r.body["status"], "active", "{}", r.body);
    assert_eq!(
        r.body["scopes"]["actions"],
        json!(["view", "file_requests"])
    );
    // The audit log shows it to the customer, and only its own records.
    let (status, audit) = b.get("/audit").await;
    assert_eq!(status, 200);
    assert!(audit.contains("relationship"), "{audit}");
    let (status, _) = b
        .post(
            &format!("/relationships/{id}/end"),
            &[("csrf_token", &token)],
        )
        .await;
    assert_eq!(status, 303);
    let r = partner_api
        .get(&format!("/api/v1/relationships/{id}"))
        .await;
    assert_eq!(r.body["status"], "ended");
    // Another customer cannot act on it.
    let other = Browser::sign_in(app, "customer").await;
    let token = other.csrf().await;
    let (status, _) = other
        .post(
            &format!("/relationships/{id}/approve"),
            &[("csrf_token", &token), ("term_days", "30")],
        )
        .await;
    assert!(status == 404 || status == 403, "{status}");
}
on_both!(r16_customer_approves_a_partners_ask_with_chosen_scopes_and_ends_it);

async fn site_admin_pages_manage_catalogue_holidays_templates_and_webhooks(app: &TestApp) {
    let staff = Browser::sign_in(app, "fasttrack_manager").await;
    assert_eq!(staff.get("/admin").await.0, 403);
    let b = Browser::sign_in(app, "programme_admin").await;
    let (status, page) = b.get("/admin").await;
    assert_eq!(status, 200, "{page}");
    for section in [
        "id=\"catalogue\"",
        "id=\"regions\"",
        "id=\"staff\"",
        "id=\"users\"",
        "id=\"templates\"",
        "id=\"webhooks\"",
    ] {
        assert!(page.contains(section), "{section}");
    }
    let token = field(&page, "csrf_token");
    // Holidays from a standard .ics file (R12).
    let ics = "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//test//EN\r\nBEGIN:VEVENT\r\nUID:xmas@test\r\nDTSTART;VALUE=DATE:20271225\r\nSUMMARY:Natale\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n";
    let (status, to) = b
        .post(
            &format!("/admin/regions/{}/holidays", app.seed.region),
            &[("csrf_token", &token), ("ics", ics)],
        )
        .await;
    assert_eq!((status, to.as_str()), (303, "/admin#regions"));
    let (_, page) = b.get("/admin").await;
    assert!(page.contains("2027-12-25 Natale"), "{page}");
    // A service added to the catalogue.
    let (status, _) = b
        .post(
            "/admin/services",
            &[
                ("csrf_token", &token),
                ("id", "whiteboard"),
                ("name", "Whiteboard"),
                ("category", "Collaboration"),
                ("description", ""),
            ],
        )
        .await;
    assert_eq!(status, 303);
    // The template set, edited as YAML.
    let yaml = field(&page.replace("<textarea id=\"yaml\" name=\"yaml\" rows=\"16\" class=\"code\" spellcheck=\"false\">", "name=\"yaml\" value=\"").replace("</textarea><button type=\"submit\">Replace", "\"</textarea><button type=\"submit\">Replace"), "yaml");
    let yaml = yaml
        .replace("&quot;", "\"")
        .replace("&#39;", "'")
        .replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&amp;", "&");
    let admin_api = app.sign_in(&email("programme_admin")).await;
    let first = admin_api.get("/api/v1/templates").await.body["templates"][0]["name"]
        .as_str()
        .unwrap()
        .to_string();
    let edited = yaml.replacen(&first, "Baseline edited on the page", 1);
    let (status, to) = b
        .post(
            "/admin/templates",
            &[("csrf_token", &token), ("yaml", &edited)],
        )
        .await;
    assert_eq!((status, to.as_str()), (303, "/admin#templates"));
    let now = admin_api.get("/api/v1/templates").await;
    assert_eq!(
        now.body["templates"][0]["name"],
        "Baseline edited on the page"
    );
    let (status, _) = b
        .post(
            "/admin/templates",
            &[("csrf_token", &token), ("yaml", "templates: 7")],
        )
        .await;
    assert_eq!(status, 422);
    // A webhook.
    let (status, _) = b
        .post(
            "/admin/webhooks",
            &[
                ("csrf_token", &token),
                ("url", "https://hooks.example/fasttrack"),
                ("events", "request.submitted"),
            ],
        )
        .await;
    assert_eq!(status, 303);
    let (_, page) = b.get("/admin").await;
    assert!(page.contains("https://hooks.example/fasttrack"));
    assert!(page.contains("Whiteboard"));
}
on_both!(site_admin_pages_manage_catalogue_holidays_templates_and_webhooks);

/// The whole flow in headless Chromium (tests/browser/flow.mjs, Playwright), on SQLite: the
/// widget in the example admin center, the site's form, the partner's search, staff booking,
/// the customer's meeting and timeline, and the switcher to Japanese and Thai. Screenshots go
/// to docs/screenshots. CI installs Chromium and the Node package and sets
/// FASTTRACK_BROWSER_TESTS=1, which makes a missing browser a failure rather than a skip.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn browser_flow() {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    let script = root.join("tests/browser/flow.mjs");
    let ready = root
        .join("tests/browser/node_modules/playwright-core")
        .exists()
        && std::path::Path::new("/usr/bin/chromium").exists();
    if !ready {
        assert!(
            std::env::var_os("FASTTRACK_BROWSER_TESTS").is_none(),
            "FASTTRACK_BROWSER_TESTS is set but Chromium or tests/browser/node_modules is missing"
        );
        eprintln!("skipped: install chromium and run `npm ci --prefix tests/browser`");
        return;
    }
    let Some(app) = crate::helpers::spawn_app(crate::helpers::Db::Sqlite).await else {
        return;
    };
    // The admin center page gets an origin of its own, which the widget token allows.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let customer = app.sign_in(&email("customer")).await;
    let t = customer
        .post(
            &format!("/api/v1/organizations/{}/widget-tokens", app.seed.cust_a),
            json!({"name": "admin center", "allowed_origins": [format!("http://127.0.0.1:{port}")]}),
        )
        .await;
    assert_eq!(t.status, 201, "{}", t.body);
    let token = t.body["token"].as_str().unwrap().to_string();
    let mut cmd = std::process::Command::new("node");
    cmd.arg(&script)
        .env("BASE", &app.base)
        .env("SCREENSHOTS", root.join("docs/screenshots"))
        .env("ADMIN_CENTER_PORT", port.to_string())
        .env("WIDGET_TOKEN", token)
        .env("PASSWORD", PASSWORD)
        .env("CUSTOMER", email("customer"))
        .env("PARTNER", email("partner"))
        .env("MANAGER", email("fasttrack_manager"))
        .env("CUSTOMER_NAME", "Contoso")
        .env(
            "THAI_QUICK_ACTIONS",
            i18n::text(Language::Thai, "quick-actions", &[]),
        );
    // The server runs on this runtime: wait for the browser off it.
    let out = tokio::task::spawn_blocking(move || cmd.output())
        .await
        .unwrap()
        .expect("node runs");
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    println!("{stdout}");
    assert!(
        out.status.success(),
        "the browser flow failed:\n{stdout}\n{stderr}"
    );
    app.stop().await;
}
