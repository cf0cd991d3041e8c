//! The pages themselves. Each handler reads or changes through the API's own handlers, so a page
//! can do exactly what the API lets the same user do, no more.

use std::collections::BTreeMap;
use std::fmt::Write as _;

use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use fasttrack_core::rules::engagement::HelpKind;
use fasttrack_core::{Language, Role};
use serde::Deserialize;
use serde_json::{json, Value};

use super::i18n::{self, LANG_COOKIE};
use super::{
    csrf_ok, doc, error_page, html, layout, s, see_other, signed_in, urlencode, value, Ctx,
    FormData,
};
use crate::api;
use crate::api::auth::{check_credentials, new_secret, session_cookie, start_session};
use crate::api::engagements::{dashboard_figures, Dashboard};
use crate::error::{ApiError, ApiResult};
use crate::extract::{hash_secret, header_cookie, ApiJson, ApiQuery, Caller, SESSION_COOKIE};
use crate::state::AppState;
use crate::timeline::escape;

/// The cookie that carries the sign-in form's CSRF token (double submit: cookie and field).
const FORM_COOKIE: &str = "ft_form";

/// The site's routes.
pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/", get(root))
        .route("/language", get(language))
        .route("/sign-in", get(sign_in_page).post(sign_in_submit))
        .route("/sign-in/organization", post(sign_in_organization))
        .route("/sign-out", post(sign_out))
        .route("/home", get(home))
        .route("/requests", get(requests_page).post(file_submit))
        .route("/requests/new", get(request_form_page))
        .route("/requests/{id}", get(request_page))
        .route("/requests/{id}/{action}", post(request_action))
        .route("/customers", get(customers_page))
        .route("/customers/{id}", get(customer_services_page))
        .route("/engagements", get(engagements_page))
        .route("/engagements/{id}", get(engagement_page))
        .route(
            "/engagements/{id}/tasks/{task}/complete",
            post(task_complete),
        )
        .route("/dashboard", get(dashboard_page))
        .merge(super::more::routes())
        .merge(super::timeoff::routes())
        .merge(super::admin::routes())
        .merge(super::asset_routes())
}

async fn root(ctx: Ctx) -> Response {
    match ctx.role() {
        None => see_other("/sign-in"),
        Some(Role::CustomerAdmin) => see_other("/home"),
        Some(Role::PartnerUser) => see_other("/customers"),
        Some(Role::ProgrammeAdmin) => see_other("/dashboard"),
        Some(_) => see_other("/requests"),
    }
}

/// Only paths of this site may follow a sign-in or a language change (no open redirect).
// Browsers drop tabs and line breaks from a URL and read `\` as `/`, so `/\t/evil.example`
// would become `//evil.example`: any control character or backslash refuses the path.
pub(crate) fn local_path(next: Option<&str>, default: &str) -> String {
    match next {
        Some(p)
            if p.starts_with('/')
                && !p.starts_with("//")
                && !p.contains('\\')
                && !p.chars().any(char::is_control) =>
        {
            p.into()
        }
        _ => default.into(),
    }
}

/// The switcher's target language and the page to return to.
#[derive(Debug, Deserialize)]
struct LanguageQuery {
    to: Option<String>,
    back: Option<String>,
}

/// R11: the language switcher: remembers the choice in a cookie and returns to the page.
async fn language(State(state): State<AppState>, Query(q): Query<LanguageQuery>) -> Response {
    let back = local_path(q.back.as_deref(), "/");
    let mut res = see_other(&back);
    if let Some(lang) = q.to.as_deref().and_then(i18n::match_tag) {
        let cookie = format!(
            "{LANG_COOKIE}={}; Path=/; SameSite=Lax; Max-Age=31536000{}",
            lang.tag(),
            if state.config.secure_cookies {
                "; Secure"
            } else {
                ""
            }
        );
        if let Ok(v) = HeaderValue::from_str(&cookie) {
            res.headers_mut().append(header::SET_COOKIE, v);
        }
    }
    res
}

/// Where to go after signing in.
#[derive(Debug, Deserialize)]
struct NextQuery {
    next: Option<String>,
}

fn sign_in_form(ctx: &Ctx, next: &str, token: &str, email: &str, error: Option<&str>) -> String {
    let error = match error {
        Some(e) => format!(
            "<p class=\"error\" role=\"alert\" id=\"sign-in-error\">{}</p>",
            escape(e)
        ),
        None => String::new(),
    };
    format!(
        "<h1>{title}</h1>\n{error}\n<form method=\"post\" action=\"/sign-in\" class=\"card narrow\">\n\
         <input type=\"hidden\" name=\"csrf_token\" value=\"{token}\">\n\
         <input type=\"hidden\" name=\"next\" value=\"{next}\">\n\
         <label for=\"email\">{email_label}</label>\n\
         <input id=\"email\" name=\"email\" type=\"email\" autocomplete=\"username\" required value=\"{email}\">\n\
         <label for=\"password\">{password_label}</label>\n\
         <input id=\"password\" name=\"password\" type=\"password\" autocomplete=\"current-password\" required>\n\
         <button type=\"submit\">{submit}</button>\n</form>\n\
         <section class=\"card narrow\" aria-labelledby=\"sso-heading\">\n\
         <h2 id=\"sso-heading\">{sso_heading}</h2>\n<p>{sso_intro}</p>\n\
         <form method=\"post\" action=\"/sign-in/organization\">\n\
         <input type=\"hidden\" name=\"csrf_token\" value=\"{token}\">\n\
         <input type=\"hidden\" name=\"next\" value=\"{next}\">\n\
         <label for=\"sso-email\">{email_label}</label>\n\
         <input id=\"sso-email\" name=\"email\" type=\"email\" autocomplete=\"username\" required value=\"{email}\">\n\
         <button type=\"submit\">{sso_continue}</button>\n</form>\n</section>",
        sso_heading = ctx.t("sso-heading"),
        sso_intro = ctx.t("sso-intro"),
        sso_continue = ctx.t("sso-continue"),
        title = ctx.t("sign-in"),
        token = escape(token),
        next = escape(next),
        email = escape(email),
        email_label = ctx.t("field-email"),
        password_label = ctx.t("field-password"),
        submit = ctx.t("sign-in"),
    )
}

fn form_cookie(state: &AppState, token: &str) -> String {
    format!(
        "{FORM_COOKIE}={token}; Path=/sign-in; HttpOnly; SameSite=Strict; Max-Age=3600{}",
        if state.config.secure_cookies {
            "; Secure"
        } else {
            ""
        }
    )
}

/// The sign-in page's policy: its organization form is answered by a redirect to the
/// organization's identity provider, which `form-action 'self'` would block in browsers.
fn sign_in_csp(state: &AppState, mut res: Response) -> Response {
    let targets = if state.config.oidc_allow_http {
        "'self' https: http:"
    } else {
        "'self' https:"
    };
    let policy = format!(
        "default-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action {targets}"
    );
    if let Ok(v) = HeaderValue::from_str(&policy) {
        res.headers_mut().insert(header::CONTENT_SECURITY_POLICY, v);
    }
    res
}

fn with_cookie(mut res: Response, cookie: &str) -> Response {
    if let Ok(v) = HeaderValue::from_str(cookie) {
        res.headers_mut().append(header::SET_COOKIE, v);
    }
    res
}

/// The sign-in form, with a fresh CSRF token in a cookie and a hidden field.
async fn sign_in_page(
    State(state): State<AppState>,
    ctx: Ctx,
    Query(q): Query<NextQuery>,
) -> Response {
    let token = match new_secret() {
        Ok(t) => t,
        Err(e) => return e.into_response(),
    };
    let next = local_path(q.next.as_deref(), "/");
    let page = layout(
        &ctx,
        &i18n::text(ctx.lang, "sign-in", &[]),
        &sign_in_form(&ctx, &next, &token, "", None),
    );
    sign_in_csp(
        &state,
        with_cookie(html(StatusCode::OK, page), &form_cookie(&state, &token)),
    )
}

/// Signs in from the form: the same credential check and rate limit as the API, then a session
/// cookie and a redirect to where the user was going. Errors keep the e-mail in the form.
async fn sign_in_submit(
    State(state): State<AppState>,
    origin: crate::proxy::Origin,
    ctx: Ctx,
    headers: axum::http::HeaderMap,
    body: Bytes,
) -> Response {
    let f = FormData::parse(&body);
    let next = local_path(Some(f.get("next")), "/");
    let email = f.get("email").to_string();
    let sent_cookie = header_cookie(&headers, FORM_COOKIE).map(str::to_string);
    let again = |status: StatusCode, key: &str, args: &[(&str, &str)]| {
        let token = new_secret().unwrap_or_default();
        let message = i18n::text(ctx.lang, key, args);
        let page = layout(
            &ctx,
            &i18n::text(ctx.lang, "sign-in", &[]),
            &sign_in_form(&ctx, &next, &token, &email, Some(&message)),
        );
        sign_in_csp(
            &state,
            with_cookie(html(status, page), &form_cookie(&state, &token)),
        )
    };
    let token = f.get("csrf_token");
    if token.is_empty() || sent_cookie.as_deref() != Some(token) {
        return again(StatusCode::FORBIDDEN, "sign-in-expired", &[]);
    }
    let user =
        match check_credentials(&state, &email, f.get("password"), &origin.client_text()).await {
            Ok(u) => u,
            Err(ApiError::TooManyRequests { retry_after }) => {
                return again(
                    StatusCode::TOO_MANY_REQUESTS,
                    "sign-in-locked",
                    &[("seconds", &retry_after.to_string())],
                )
            }
            Err(ApiError::Unauthenticated | ApiError::Invalid(_)) => {
                return again(StatusCode::UNAUTHORIZED, "sign-in-wrong", &[])
            }
            Err(ApiError::Forbidden(_)) => {
                return again(StatusCode::FORBIDDEN, "sso-password-not-allowed", &[])
            }
            Err(e) => return e.into_response(),
        };
    let (secret, _csrf, _) = match start_session(&state, &user).await {
        Ok(s) => s,
        Err(e) => return e.into_response(),
    };
    let res = with_cookie(
        see_other(&next),
        &session_cookie(&state, &secret, state.config.session_seconds),
    );
    // The form's token has served its purpose.
    with_cookie(
        res,
        &format!("{FORM_COOKIE}=; Path=/sign-in; HttpOnly; SameSite=Strict; Max-Age=0"),
    )
}

/// "Sign in with your organization": the e-mail address's domain picks the organization's
/// identity provider, where the browser is sent (the form carries the sign-in form's CSRF token).
async fn sign_in_organization(
    State(state): State<AppState>,
    origin: crate::proxy::Origin,
    ctx: Ctx,
    headers: axum::http::HeaderMap,
    body: Bytes,
) -> Response {
    let f = FormData::parse(&body);
    let next = local_path(Some(f.get("next")), "/");
    let email = f.get("email").to_string();
    let again = |status: StatusCode, key: &str| {
        let token = new_secret().unwrap_or_default();
        let message = i18n::text(ctx.lang, key, &[]);
        let page = layout(
            &ctx,
            &i18n::text(ctx.lang, "sign-in", &[]),
            &sign_in_form(&ctx, &next, &token, &email, Some(&message)),
        );
        sign_in_csp(
            &state,
            with_cookie(html(status, page), &form_cookie(&state, &token)),
        )
    };
    let token = f.get("csrf_token");
    if token.is_empty() || header_cookie(&headers, FORM_COOKIE) != Some(token) {
        return again(StatusCode::FORBIDDEN, "sign-in-expired");
    }
    let uri = crate::oidc::redirect_uri(&state.config, &headers, &origin);
    match crate::oidc::begin(
        &state,
        &crate::oidc::Target::Email(email.clone()),
        &next,
        &uri,
    )
    .await
    {
        Ok(res) => res,
        Err(crate::oidc::Failure::NoProvider) => {
            again(StatusCode::NOT_FOUND, "sso-error-no-provider")
        }
        Err(f) => f.page(&ctx),
    }
}

/// Ends the session (the form carries its CSRF token).
async fn sign_out(
    State(state): State<AppState>,
    ctx: Ctx,
    headers: axum::http::HeaderMap,
    body: Bytes,
) -> Response {
    let form = FormData::parse(&body);
    let Some(caller) = ctx.caller.clone() else {
        return see_other("/sign-in");
    };
    if !csrf_ok(&ctx, &form) {
        return error_page(&ctx, ApiError::Csrf);
    }
    let secret = header_cookie(&headers, SESSION_COOKIE).map(str::to_string);
    if let Some(secret) = secret {
        let ctx_audit = api::audit_ctx(
            &state,
            &caller,
            &fasttrack_core::policy::Grant { acting_for: None },
        );
        if let Err(e) = state
            .store
            .revoke_session(&hash_secret(&secret), &caller.user, &ctx_audit)
            .await
        {
            return error_page(&ctx, e.into());
        }
    }
    with_cookie(see_other("/sign-in"), &session_cookie(&state, "", 0))
}

fn state_badge(ctx: &Ctx, state: &str) -> String {
    format!(
        "<span class=\"badge state-{st}\">{}</span>",
        ctx.t(&format!("state-{}", state.replace('_', "-"))),
        st = escape(state)
    )
}

/// R8b: a customer's landing page: Quick actions first, then a deployment card per eligible
/// service with its onboarding state and its own Request assistance, then the services list.
async fn home(State(state): State<AppState>, ctx: Ctx) -> Response {
    let caller = match signed_in(&ctx) {
        Ok(c) => c,
        Err(r) => return r,
    };
    if caller.role() != Role::CustomerAdmin {
        return root(ctx).await;
    }
    let org_id = caller.user.org_id.clone();
    let org = match api::orgs::get_org(State(state.clone()), caller.clone(), Path(org_id.clone()))
        .await
    {
        Ok(Json(o)) => value(o),
        Err(e) => return error_page(&ctx, e),
    };
    let services = match api::orgs::tenant_services(
        State(state.clone()),
        caller.clone(),
        Path(org_id.clone()),
    )
    .await
    {
        Ok(Json(s)) => value(s),
        Err(e) => return error_page(&ctx, e),
    };
    let mut body = format!(
        "<h1>{}</h1>\n<section class=\"quick\" aria-labelledby=\"qa\"><h2 id=\"qa\">{}</h2><div class=\"actions\">\
         <a class=\"button\" href=\"/requests/new?channel=site_quick_action\">{}</a>\
         <a class=\"button secondary\" href=\"/requests\">{}</a>\
         <a class=\"button secondary\" href=\"/engagements\">{}</a>\
         <a class=\"button secondary\" href=\"/relationships\">{}</a>\
         <a class=\"button secondary\" href=\"/audit\">{}</a></div></section>\n",
        ctx.ta("home-title", &[("tenant", org["name"].as_str().unwrap_or(""))]),
        ctx.t("quick-actions"),
        ctx.t("request-assistance"),
        ctx.t("my-requests"),
        ctx.t("my-engagements"),
        ctx.t("nav-relationships"),
        ctx.t("audit-log"),
    );
    body.push_str(&service_cards(&ctx, &services, None));
    body.push_str(&services_list(&ctx, &services, None));
    html(
        StatusCode::OK,
        layout(&ctx, &i18n::text(ctx.lang, "nav-home", &[]), &body),
    )
}

/// Deployment cards (R8b), each with its state and Request assistance.
fn service_cards(ctx: &Ctx, services: &Value, org: Option<&str>) -> String {
    let mut out = format!(
        "<section aria-labelledby=\"cards\"><h2 id=\"cards\">{}</h2><div class=\"cards\">",
        ctx.t("deployment-cards")
    );
    let list = services.as_array().cloned().unwrap_or_default();
    if list.is_empty() {
        let _ = write!(out, "<p class=\"muted\">{}</p>", ctx.t("no-services"));
    }
    let (channel, org_param) = match org {
        Some(o) => ("partner_portal", format!("&amp;org={}", escape(o))),
        None => ("site_deployment_card", String::new()),
    };
    for s in &list {
        let st = s["onboarding"].as_str().unwrap_or("not_started");
        let _ = write!(
            out,
            "<article class=\"card service\"><h3>{name}</h3><p class=\"muted\">{category}</p><p>{description}</p>\
             <p><span class=\"badge onboarding-{st}\">{state}</span></p>\
             <a class=\"button\" href=\"/requests/new?service={id}&amp;channel={channel}{org_param}\">{request}</a></article>",
            name = super::s(s, "name"),
            category = super::s(s, "category"),
            description = super::s(s, "description"),
            state = ctx.t(&format!("onboarding-{}", st.replace('_', "-"))),
            id = super::s(s, "service_id"),
            request = ctx.t("request-assistance"),
        );
    }
    out.push_str("</div></section>\n");
    out
}

/// The tenant's available services (R8b), from which help can be requested too.
fn services_list(ctx: &Ctx, services: &Value, org: Option<&str>) -> String {
    let mut out = format!(
        "<section aria-labelledby=\"svc\"><h2 id=\"svc\">{}</h2><table><thead><tr><th scope=\"col\">{}</th><th scope=\"col\">{}</th><th scope=\"col\">{}</th><th></th></tr></thead><tbody>",
        ctx.t("available-services"),
        ctx.t("col-service"),
        ctx.t("col-category"),
        ctx.t("col-onboarding"),
    );
    let (channel, org_param) = match org {
        Some(o) => ("partner_portal", format!("&amp;org={}", escape(o))),
        None => ("site_services_list", String::new()),
    };
    for s in services.as_array().cloned().unwrap_or_default() {
        let st = s["onboarding"].as_str().unwrap_or("not_started");
        let _ = write!(
            out,
            "<tr><td>{}</td><td>{}</td><td>{}</td><td><a href=\"/requests/new?service={}&amp;channel={channel}{org_param}\">{}</a></td></tr>",
            super::s(&s, "name"),
            super::s(&s, "category"),
            ctx.t(&format!("onboarding-{}", st.replace('_', "-"))),
            super::s(&s, "service_id"),
            ctx.t("request-assistance"),
        );
    }
    out.push_str("</tbody></table></section>\n");
    out
}

/// What the request form starts from.
#[derive(Debug, Deserialize, Default)]
struct NewRequestQuery {
    service: Option<String>,
    channel: Option<String>,
    org: Option<String>,
}

/// The request form, with field-level errors next to their fields and the entered values kept.
#[allow(clippy::too_many_arguments)]
fn request_form(
    ctx: &Ctx,
    org_id: &str,
    tenant_name: &str,
    services: &Value,
    channel: &str,
    values: &FormData,
    errors: &BTreeMap<String, String>,
    default_tz: &str,
) -> String {
    let err = |field: &str| match errors.get(field) {
        Some(m) => format!(
            "<p class=\"field-error\" id=\"err-{field}\">{}</p>",
            escape(m)
        ),
        None => String::new(),
    };
    let described = |field: &str| {
        if errors.contains_key(field) {
            format!(" aria-invalid=\"true\" aria-describedby=\"err-{field}\"")
        } else {
            String::new()
        }
    };
    let mut out = format!(
        "<h1>{}</h1>\n<p class=\"muted\">{}</p>\n",
        ctx.t("request-form-title"),
        ctx.ta("request-form-for", &[("tenant", tenant_name)])
    );
    if !errors.is_empty() {
        let _ = write!(
            out,
            "<div class=\"error\" role=\"alert\">{}</div>",
            ctx.t("form-has-errors")
        );
    }
    let _ = write!(
        out,
        "<form method=\"post\" action=\"/requests\" class=\"card\" novalidate>{}\
         <input type=\"hidden\" name=\"org_id\" value=\"{}\"><input type=\"hidden\" name=\"channel\" value=\"{}\">",
        ctx.csrf_field(),
        escape(org_id),
        escape(channel)
    );
    // Kinds of help.
    let chosen_kinds = values.all("kinds");
    let _ = write!(
        out,
        "<fieldset{}><legend>{}</legend>{}",
        described("kinds"),
        ctx.t("field-kinds"),
        err("kinds")
    );
    for k in HelpKind::ALL {
        let checked = if chosen_kinds.contains(&k.as_str()) {
            " checked"
        } else {
            ""
        };
        let _ = write!(
            out,
            "<label class=\"check\"><input type=\"checkbox\" name=\"kinds\" value=\"{v}\"{checked}> {}</label>",
            ctx.t(&format!("kind-{}", k.as_str().replace('_', "-"))),
            v = k.as_str()
        );
    }
    out.push_str("</fieldset>");
    // Services.
    let chosen_services = values.all("services");
    let _ = write!(
        out,
        "<fieldset{}><legend>{}</legend>{}",
        described("services"),
        ctx.t("field-services"),
        err("services")
    );
    for s in services.as_array().cloned().unwrap_or_default() {
        let id = s["service_id"].as_str().unwrap_or("");
        let checked = if chosen_services.contains(&id) {
            " checked"
        } else {
            ""
        };
        let _ = write!(
            out,
            "<label class=\"check\"><input type=\"checkbox\" name=\"services\" value=\"{}\"{checked}> {}</label>",
            escape(id),
            super::s(&s, "name")
        );
    }
    out.push_str("</fieldset>");
    let text_field = |out: &mut String, name: &str, field: &str, kind: &str, auto: &str| {
        let _ = write!(
            out,
            "<label for=\"{name}\">{}</label>{}<input id=\"{name}\" name=\"{name}\" type=\"{kind}\" autocomplete=\"{auto}\" value=\"{}\"{}>",
            ctx.t(&format!("field-{}", name.replace('_', "-"))),
            err(field),
            escape(values.get(name)),
            described(field)
        );
    };
    text_field(&mut out, "contact_name", "contact.name", "text", "name");
    text_field(&mut out, "contact_email", "contact.email", "email", "email");
    text_field(&mut out, "contact_phone", "contact.phone", "tel", "tel");
    // Language (R11).
    let chosen_lang = match values.get("language") {
        "" => ctx.lang.tag(),
        l => l,
    };
    let _ = write!(
        out,
        "<label for=\"language\">{}</label>{}<select id=\"language\" name=\"language\"{}>",
        ctx.t("field-language"),
        err("language"),
        described("language")
    );
    for l in Language::ALL {
        let sel = if l.tag() == chosen_lang {
            " selected"
        } else {
            ""
        };
        let _ = write!(
            out,
            "<option value=\"{}\"{sel}>{}</option>",
            l.tag(),
            l.native_name()
        );
    }
    out.push_str("</select>");
    let tz = match values.get("time_zone") {
        "" => default_tz,
        t => t,
    };
    let _ = write!(
        out,
        "<label for=\"time_zone\">{}</label>{}<input id=\"time_zone\" name=\"time_zone\" value=\"{}\"{}>",
        ctx.t("field-time-zone"),
        err("time_zone"),
        escape(tz),
        described("time_zone")
    );
    let _ = write!(
        out,
        "<label for=\"description\">{}</label>{}<textarea id=\"description\" name=\"description\" rows=\"5\"{}>{}</textarea>",
        ctx.t("field-description"),
        err("description"),
        described("description"),
        escape(values.get("description"))
    );
    // R14: migration facts, used with the data-migration kind.
    let _ = write!(
        out,
        "<fieldset><legend>{}</legend>{}{}<label for=\"migration_source\">{}</label><select id=\"migration_source\" name=\"migration_source\">",
        ctx.t("field-migration"),
        err("migration"),
        err("migration.sources"),
        ctx.t("field-migration-source"),
    );
    for src in [
        "",
        "exchange",
        "domino",
        "imap",
        "google_workspace",
        "group_wise",
        "smb_file_share",
        "box",
    ] {
        let sel = if values.get("migration_source") == src {
            " selected"
        } else {
            ""
        };
        let label = if src.is_empty() {
            ctx.t("none")
        } else {
            ctx.t(&format!("source-{}", src.replace('_', "-")))
        };
        let _ = write!(out, "<option value=\"{src}\"{sel}>{label}</option>");
    }
    out.push_str("</select>");
    for n in ["mailboxes", "users", "gigabytes"] {
        let _ = write!(
            out,
            "<label for=\"migration_{n}\">{}</label>{}<input id=\"migration_{n}\" name=\"migration_{n}\" type=\"number\" min=\"0\" value=\"{}\">",
            ctx.t(&format!("field-migration-{n}")),
            err(&format!("migration.volumes.{n}")),
            escape(values.get(&format!("migration_{n}")))
        );
    }
    let _ = write!(
        out,
        "</fieldset><button type=\"submit\">{}</button></form>",
        ctx.t("submit-request")
    );
    out
}

/// The tenant the form files for: the customer's own, or the one a partner picked.
async fn form_tenant(
    state: &AppState,
    caller: &Caller,
    org: Option<&str>,
) -> ApiResult<(Value, Value)> {
    let org_id = match (caller.role(), org) {
        (Role::CustomerAdmin, _) => caller.user.org_id.clone(),
        (_, Some(o)) if !o.is_empty() => o.to_string(),
        _ => return Err(fasttrack_core::Invalid::one("org_id", "pick a customer first").into()),
    };
    let Json(o) =
        api::orgs::get_org(State(state.clone()), caller.clone(), Path(org_id.clone())).await?;
    let Json(svc) =
        api::orgs::tenant_services(State(state.clone()), caller.clone(), Path(org_id)).await?;
    Ok((value(o), value(svc)))
}

async fn request_form_page(
    State(state): State<AppState>,
    ctx: Ctx,
    Query(q): Query<NewRequestQuery>,
) -> Response {
    let caller = match signed_in(&ctx) {
        Ok(c) => c,
        Err(r) => return r,
    };
    let (org, services) = match form_tenant(&state, &caller, q.org.as_deref()).await {
        Ok(x) => x,
        Err(ApiError::Invalid(_)) => return see_other("/customers"),
        Err(e) => return error_page(&ctx, e),
    };
    let channel = match (caller.role(), q.channel.as_deref()) {
        (Role::PartnerUser, _) => "partner_portal",
        (
            _,
            Some(
                c @ ("site_quick_action"
                | "site_deployment_card"
                | "site_services_list"
                | "admin_center_widget"),
            ),
        ) => c,
        _ => "site_quick_action",
    };
    let mut values = FormData::default();
    if let Some(s) = &q.service {
        values.0.push(("services".into(), s.clone()));
        values.0.push(("kinds".into(), "service_onboarding".into()));
    }
    values
        .0
        .push(("contact_name".into(), caller.user.name.clone()));
    values
        .0
        .push(("contact_email".into(), caller.user.email.clone()));
    let body = request_form(
        &ctx,
        org["id"].as_str().unwrap_or(""),
        org["name"].as_str().unwrap_or(""),
        &services,
        channel,
        &values,
        &BTreeMap::new(),
        org["time_zone"].as_str().unwrap_or("UTC"),
    );
    html(
        StatusCode::OK,
        layout(
            &ctx,
            &i18n::text(ctx.lang, "request-form-title", &[]),
            &body,
        ),
    )
}

/// The form as the API's request document.
pub(crate) fn request_body(f: &FormData) -> Value {
    let mut b = json!({
        "org_id": f.get("org_id"),
        "channel": f.get("channel"),
        "kinds": f.all("kinds"),
        "services": f.all("services"),
        "contact": {"name": f.get("contact_name"), "email": f.get("contact_email")},
        "language": f.get("language"),
        "description": f.get("description"),
    });
    if !f.get("contact_phone").is_empty() {
        b["contact"]["phone"] = json!(f.get("contact_phone"));
    }
    if !f.get("time_zone").is_empty() {
        b["time_zone"] = json!(f.get("time_zone"));
    }
    if !f.get("migration_source").is_empty() {
        let n = |k: &str| f.get(k).parse::<i64>().unwrap_or(0);
        b["migration"] = json!({
            "sources": [{"kind": f.get("migration_source"), "name": f.get("migration_source"), "version": null}],
            "volumes": {"mailboxes": n("migration_mailboxes"), "users": n("migration_users"),
                        "gigabytes": n("migration_gigabytes"), "files": 0},
            "waves": []
        });
    }
    b
}

/// Files a request from the form (R8b, R9): on success the request's page; on refusal the
/// form again, each error next to its field and every value kept.
async fn file_submit(State(state): State<AppState>, ctx: Ctx, body: Bytes) -> Response {
    let caller = match signed_in(&ctx) {
        Ok(c) => c,
        Err(r) => return r,
    };
    let form = FormData::parse(&body);
    if !csrf_ok(&ctx, &form) {
        return error_page(&ctx, ApiError::Csrf);
    }
    let result = match doc::<api::requests::RequestCreate>(request_body(&form)) {
        Ok(b) => api::requests::file_request(State(state.clone()), caller.clone(), ApiJson(b))
            .await
            .map(|(_, Json(d))| d.id),
        Err(e) => Err(e),
    };
    let errors: BTreeMap<String, String> = match result {
        Ok(id) => return see_other(&format!("/requests/{}", urlencode(&id))),
        Err(ApiError::Invalid(inv)) => inv.0.into_iter().map(|e| (e.field, e.message)).collect(),
        Err(ApiError::Rule(v)) => {
            let field = v.field.clone().unwrap_or_else(|| "description".into());
            BTreeMap::from([(field, super::rule_text(&ctx, &v))])
        }
        Err(e) => return error_page(&ctx, e),
    };
    let org = form.get("org_id");
    let (org, services) = match form_tenant(&state, &caller, (!org.is_empty()).then_some(org)).await
    {
        Ok(x) => x,
        Err(e) => return error_page(&ctx, e),
    };
    let page = request_form(
        &ctx,
        org["id"].as_str().unwrap_or(""),
        org["name"].as_str().unwrap_or(""),
        &services,
        form.get("channel"),
        &form,
        &errors,
        org["time_zone"].as_str().unwrap_or("UTC"),
    );
    html(
        StatusCode::UNPROCESSABLE_ENTITY,
        layout(
            &ctx,
            &i18n::text(ctx.lang, "request-form-title", &[]),
            &page,
        ),
    )
}

/// Queue and list filters.
#[derive(Debug, Deserialize, Default)]
struct ListQuery {
    state: Option<String>,
    language: Option<String>,
    region_id: Option<String>,
}

/// Requests the viewer may see; for staff, the queue with its filters.
async fn requests_page(
    State(state): State<AppState>,
    ctx: Ctx,
    Query(f): Query<ListQuery>,
) -> Response {
    let caller = match signed_in(&ctx) {
        Ok(c) => c,
        Err(r) => return r,
    };
    let mut q = json!({"limit": 100});
    for (k, v) in [
        ("state", &f.state),
        ("language", &f.language),
        ("region_id", &f.region_id),
    ] {
        if let Some(v) = v.as_deref().filter(|v| !v.is_empty()) {
            q[k] = json!(v);
        }
    }
    let page = match doc(q) {
        Ok(q) => api::requests::list_requests(State(state.clone()), caller.clone(), ApiQuery(q))
            .await
            .map(|Json(p)| value(p)),
        Err(e) => Err(e),
    };
    let page = match page {
        Ok(p) => p,
        Err(e) => return error_page(&ctx, e),
    };
    let staff = caller.role().is_programme();
    let title_key = if staff { "queue-title" } else { "my-requests" };
    let mut body = format!("<h1>{}</h1>", ctx.t(title_key));
    if !staff {
        let _ = write!(
            body,
            "<p><a class=\"button\" href=\"/requests/new?channel=site_quick_action\">{}</a></p>",
            ctx.t("request-assistance")
        );
    }
    // Filters: a GET form changes nothing, so it needs no token.
    let _ = write!(
        body,
        "<form method=\"get\" action=\"/requests\" class=\"filters\"><label for=\"f-state\">{}</label><select id=\"f-state\" name=\"state\"><option value=\"\">{}</option>",
        ctx.t("col-state"),
        ctx.t("any")
    );
    for st in [
        "submitted",
        "accepted",
        "scheduled",
        "in_progress",
        "completed",
        "declined",
        "withdrawn",
    ] {
        let sel = if f.state.as_deref() == Some(st) {
            " selected"
        } else {
            ""
        };
        let _ = write!(
            body,
            "<option value=\"{st}\"{sel}>{}</option>",
            ctx.t(&format!("state-{}", st.replace('_', "-")))
        );
    }
    let _ = write!(
        body,
        "</select><label for=\"f-language\">{}</label><select id=\"f-language\" name=\"language\"><option value=\"\">{}</option>",
        ctx.t("field-language"),
        ctx.t("any")
    );
    for l in Language::ALL {
        let sel = if f.language.as_deref() == Some(l.tag()) {
            " selected"
        } else {
            ""
        };
        let _ = write!(
            body,
            "<option value=\"{}\"{sel}>{}</option>",
            l.tag(),
            l.native_name()
        );
    }
    let _ = write!(
        body,
        "</select><button type=\"submit\">{}</button></form>",
        ctx.t("filter")
    );
    let items = page["items"].as_array().cloned().unwrap_or_default();
    if items.is_empty() {
        let _ = write!(body, "<p class=\"muted\">{}</p>", ctx.t("no-requests"));
    } else {
        let _ = write!(
            body,
            "<table><thead><tr><th scope=\"col\">{}</th><th scope=\"col\">{}</th><th scope=\"col\">{}</th><th scope=\"col\">{}</th><th scope=\"col\">{}</th></tr></thead><tbody>",
            ctx.t("col-filed"),
            ctx.t("col-services"),
            ctx.t("field-language"),
            ctx.t("col-state"),
            ctx.t("col-channel")
        );
        for r in items {
            let services: Vec<String> = r["services"]
                .as_array()
                .map(|a| a.iter().filter_map(|s| s.as_str().map(escape)).collect())
                .unwrap_or_default();
            let _ = write!(
                body,
                "<tr><td><a href=\"/requests/{id}\">{}</a></td><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
                ctx.when(r["created_at"].as_str().unwrap_or("")),
                services.join(", "),
                s(&r, "language"),
                state_badge(&ctx, r["state"].as_str().unwrap_or("")),
                ctx.t(&format!(
                    "channel-{}",
                    r["channel"].as_str().unwrap_or("api").replace('_', "-")
                )),
                id = s(&r, "id"),
            );
        }
        body.push_str("</tbody></table>");
    }
    html(
        StatusCode::OK,
        layout(&ctx, &i18n::text(ctx.lang, title_key, &[]), &body),
    )
}

/// One request: its facts and history, the triage forms for staff, the answer and withdraw
/// forms for the requester, the meeting plan to confirm and the meetings booked.
async fn request_page(State(state): State<AppState>, ctx: Ctx, Path(id): Path<String>) -> Response {
    let caller = match signed_in(&ctx) {
        Ok(c) => c,
        Err(r) => return r,
    };
    let r = match api::requests::get_request(State(state.clone()), caller.clone(), Path(id.clone()))
        .await
    {
        Ok(Json(d)) => value(d),
        Err(e) => return error_page(&ctx, e),
    };
    let st = r["state"].as_str().unwrap_or("");
    let mut body = format!(
        "<h1>{} {}</h1><dl class=\"facts\">",
        ctx.t("request-title"),
        state_badge(&ctx, st)
    );
    let kinds: Vec<String> = r["kinds"]
        .as_array()
        .map(|a| {
            a.iter()
                .filter_map(|k| k.as_str())
                .map(|k| ctx.t(&format!("kind-{}", k.replace('_', "-"))))
                .collect()
        })
        .unwrap_or_default();
    let services: Vec<String> = r["services"]
        .as_array()
        .map(|a| a.iter().filter_map(|s| s.as_str().map(escape)).collect())
        .unwrap_or_default();
    for (k, v) in [
        (
            "col-filed",
            ctx.when(r["created_at"].as_str().unwrap_or("")),
        ),
        ("field-kinds", kinds.join(", ")),
        ("field-services", services.join(", ")),
        ("field-language", s(&r, "language")),
        ("field-time-zone", s(&r, "time_zone")),
        (
            "col-channel",
            ctx.t(&format!(
                "channel-{}",
                r["channel"].as_str().unwrap_or("api").replace('_', "-")
            )),
        ),
        (
            "field-contact-name",
            format!(
                "{} &lt;{}&gt;",
                escape(r["contact"]["name"].as_str().unwrap_or("")),
                escape(r["contact"]["email"].as_str().unwrap_or(""))
            ),
        ),
        ("field-description", s(&r, "description")),
    ] {
        let _ = write!(body, "<dt>{}</dt><dd>{v}</dd>", ctx.t(k));
    }
    if let Some(reason) = r["state_reason"].as_str() {
        let _ = write!(
            body,
            "<dt>{}</dt><dd>{}</dd>",
            ctx.t("reason"),
            escape(reason)
        );
    }
    body.push_str("</dl>");
    let action_form = |action: &str, label_key: &str, field: Option<(&str, &str)>| {
        let extra = match field {
            Some((name, label)) => format!(
                "<label for=\"{action}-{name}\">{}</label><textarea id=\"{action}-{name}\" name=\"{name}\" rows=\"2\" required></textarea>",
                ctx.t(label)
            ),
            None => String::new(),
        };
        format!(
            "<form method=\"post\" action=\"/requests/{}/{action}\" class=\"card action\">{}{extra}<button type=\"submit\">{}</button></form>",
            escape(&id),
            ctx.csrf_field(),
            ctx.t(label_key)
        )
    };
    let staff = caller.role().is_programme();
    let mut actions = String::new();
    if staff && st == "submitted" {
        actions.push_str(&action_form("accept", "action-accept", None));
        actions.push_str(&action_form(
            "decline",
            "action-decline",
            Some(("reason", "reason")),
        ));
        actions.push_str(&action_form(
            "ask-info",
            "action-ask-info",
            Some(("message", "question")),
        ));
    }
    if !staff && r["awaiting_requester"].as_bool() == Some(true) {
        actions.push_str(&action_form(
            "respond",
            "action-respond",
            Some(("message", "answer")),
        ));
    }
    if !staff && ["submitted", "accepted"].contains(&st) {
        actions.push_str(&action_form(
            "withdraw",
            "action-withdraw",
            Some(("reason", "reason")),
        ));
    }
    if !actions.is_empty() {
        let _ = write!(
            body,
            "<section><h2>{}</h2><div class=\"actions-grid\">{actions}</div></section>",
            ctx.t("actions")
        );
    }
    // The meeting plan (R5, R10).
    if let Ok(Some(row)) = state.store.meeting_plan(&id).await {
        let plan: Value = serde_json::from_str(&row.body).unwrap_or(Value::Null);
        let _ = write!(
            body,
            "<section><h2>{}</h2><table><thead><tr><th scope=\"col\">{}</th><th scope=\"col\">{}</th><th scope=\"col\">{}</th><th scope=\"col\">{}</th></tr></thead><tbody>",
            ctx.t("meeting-plan"),
            ctx.t("col-purpose"),
            ctx.t("col-when"),
            ctx.t("col-staff"),
            ctx.t("col-state")
        );
        for m in plan["meetings"].as_array().cloned().unwrap_or_default() {
            let when = match m["start"].as_str() {
                Some(t) => ctx.when(t),
                None => escape(m["note"].as_str().unwrap_or("")),
            };
            let _ = write!(
                body,
                "<tr><td>{}</td><td>{when}</td><td>{}</td><td>{}</td></tr>",
                s(&m, "purpose"),
                s(&m, "staff_name"),
                ctx.t(&format!(
                    "plan-{}",
                    m["status"].as_str().unwrap_or("proposed")
                ))
            );
        }
        body.push_str("</tbody></table>");
        let waiting = plan["meetings"]
            .as_array()
            .is_some_and(|a| a.iter().any(|m| m["status"] == "proposed"));
        if waiting && matches!(caller.role(), Role::CustomerAdmin | Role::PartnerUser) {
            body.push_str(&action_form("plan-confirm", "action-confirm-plan", None));
        }
        if staff {
            body.push_str(&action_form("plan-propose", "action-propose-plan", None));
        }
        body.push_str("</section>");
    }
    // R10: staff, the customer or its partner book from the slots the scheduler offers (the
    // request's language, inside both sides' business hours); staff also see the calendars.
    let mut free_slots: Vec<Value> = Vec::new();
    if ["accepted", "scheduled", "in_progress"].contains(&st) {
        let slots = match doc(json!({"limit": 6})) {
            Ok(q) => api::meetings::slots(
                State(state.clone()),
                caller.clone(),
                Path(id.clone()),
                ApiQuery(q),
            )
            .await
            .map(|Json(l)| value(l)),
            Err(e) => Err(e),
        };
        if let Ok(l) = slots {
            free_slots = l["slots"].as_array().cloned().unwrap_or_default();
            let _ = write!(
                body,
                "<section><h2>{}</h2><ul class=\"slots\">",
                ctx.t("proposed-slots")
            );
            if free_slots.is_empty() {
                let _ = write!(body, "<li class=\"muted\">{}</li>", ctx.t("no-slots"));
            }
            for sl in &free_slots {
                let _ = write!(
                    body,
                    "<li><form method=\"post\" action=\"/requests/{}/book\" class=\"inline\">{}\
                     <input type=\"hidden\" name=\"staff_id\" value=\"{}\"><input type=\"hidden\" name=\"start\" value=\"{}\">\
                     {} — {} <button type=\"submit\">{}</button></form></li>",
                    escape(&id),
                    ctx.csrf_field(),
                    s(sl, "staff_id"),
                    s(sl, "start"),
                    ctx.when(sl["start"].as_str().unwrap_or("")),
                    s(sl, "staff_name"),
                    ctx.t("action-book")
                );
            }
            body.push_str("</ul></section>");
        }
        if staff {
            body.push_str(&staff_calendars(&state, &ctx, &caller, &free_slots).await);
        }
    }
    // Meetings booked.
    let meetings = match doc(json!({"request_id": id, "limit": 100})) {
        Ok(q) => api::meetings::list_meetings(State(state.clone()), caller.clone(), ApiQuery(q))
            .await
            .map(|Json(p)| value(p)),
        Err(e) => Err(e),
    };
    if let Ok(m) = meetings {
        let items = m["items"].as_array().cloned().unwrap_or_default();
        let _ = write!(body, "<section><h2>{}</h2>", ctx.t("meetings"));
        if items.is_empty() {
            let _ = write!(body, "<p class=\"muted\">{}</p>", ctx.t("no-meetings"));
        } else {
            body.push_str("<ul class=\"meetings\">");
            for m in items {
                let cancel = if m["state"] == "booked" {
                    let mut options = String::new();
                    for sl in &free_slots {
                        let _ = write!(
                            options,
                            "<option value=\"{}|{}\">{} — {}</option>",
                            s(sl, "staff_id"),
                            s(sl, "start"),
                            ctx.when(sl["start"].as_str().unwrap_or("")),
                            s(sl, "staff_name")
                        );
                    }
                    let reschedule = if options.is_empty() {
                        String::new()
                    } else {
                        format!(
                            "<form method=\"post\" action=\"/meetings/{mid}/reschedule\" class=\"inline\">{}<label for=\"move-{mid}\">{}</label> <select id=\"move-{mid}\" name=\"slot\">{options}</select> <button type=\"submit\" class=\"secondary\">{}</button></form>",
                            ctx.csrf_field(),
                            ctx.t("move-to"),
                            ctx.t("action-reschedule"),
                            mid = s(&m, "id"),
                        )
                    };
                    format!(
                        "<form method=\"post\" action=\"/meetings/{}/cancel\" class=\"inline\">{}<button type=\"submit\" class=\"link\">{}</button></form> {reschedule}",
                        s(&m, "id"),
                        ctx.csrf_field(),
                        ctx.t("action-cancel-meeting")
                    )
                } else {
                    String::new()
                };
                let _ = write!(
                    body,
                    "<li><strong>{}</strong> — {} — {} <a href=\"{}\">{}</a> · <a href=\"/api/v1/meetings/{}.ics\">{}</a> {cancel}</li>",
                    s(&m, "purpose"),
                    ctx.when(m["start"].as_str().unwrap_or("")),
                    ctx.t(&format!("meeting-{}", m["state"].as_str().unwrap_or("booked"))),
                    s(&m, "online_link"),
                    ctx.t("join-online"),
                    s(&m, "id"),
                    ctx.t("add-to-calendar"),
                );
            }
            body.push_str("</ul>");
        }
        body.push_str("</section>");
    }
    // History.
    let _ = write!(
        body,
        "<section><h2>{}</h2><ol class=\"history\">",
        ctx.t("history")
    );
    for h in r["history"].as_array().cloned().unwrap_or_default() {
        let _ = write!(
            body,
            "<li>{} — {}{}</li>",
            ctx.when(h["at"].as_str().unwrap_or("")),
            state_badge(&ctx, h["to_state"].as_str().unwrap_or("")),
            h["note"]
                .as_str()
                .map(|n| format!(" — {}", escape(n)))
                .unwrap_or_default()
        );
    }
    body.push_str("</ol></section>");
    html(
        StatusCode::OK,
        layout(&ctx, &i18n::text(ctx.lang, "request-title", &[]), &body),
    )
}

/// R12: the calendars of the staff the slots name, for the coming week: free time per day in the
/// viewer's zone, and how many meetings each already holds.
async fn staff_calendars(state: &AppState, ctx: &Ctx, caller: &Caller, slots: &[Value]) -> String {
    let mut seen: Vec<String> = Vec::new();
    for sl in slots {
        if let Some(id) = sl["staff_id"].as_str() {
            if !seen.iter().any(|x| x == id) && seen.len() < 3 {
                seen.push(id.to_string());
            }
        }
    }
    if seen.is_empty() {
        return String::new();
    }
    let tz = jiff::tz::TimeZone::get(&ctx.zone).unwrap_or(jiff::tz::TimeZone::UTC);
    let mut out = format!(
        "<section><h2>{}</h2><div class=\"cards\">",
        ctx.t("staff-calendars")
    );
    for staff_id in seen {
        let Ok(q) = doc(json!({})) else { continue };
        let Ok(Json(a)) = api::calendars::availability(
            State(state.clone()),
            caller.clone(),
            Path(staff_id.clone()),
            ApiQuery(q),
        )
        .await
        else {
            continue;
        };
        let a = value(a);
        let name = state
            .store
            .get_user(&staff_id)
            .await
            .map(|u| u.name)
            .unwrap_or_else(|_| staff_id.clone());
        let mut days: BTreeMap<String, Vec<String>> = BTreeMap::new();
        for iv in a["free"].as_array().cloned().unwrap_or_default() {
            let (Some(start), Some(end)) = (
                iv["start"]
                    .as_str()
                    .and_then(|t| t.parse::<jiff::Timestamp>().ok()),
                iv["end"]
                    .as_str()
                    .and_then(|t| t.parse::<jiff::Timestamp>().ok()),
            ) else {
                continue;
            };
            let (a, b) = (tz.to_datetime(start), tz.to_datetime(end));
            days.entry(a.date().to_string()).or_default().push(format!(
                "{:02}:{:02}–{:02}:{:02}",
                a.hour(),
                a.minute(),
                b.hour(),
                b.minute()
            ));
        }
        let booked = a["bookings"].as_array().map_or(0, |b| b.len() as i64);
        let _ = write!(
            out,
            "<article class=\"card\"><h3>{}</h3><p class=\"muted\">{} · {}: {}</p><dl class=\"facts\">",
            escape(&name),
            s(&a, "time_zone"),
            ctx.t("meetings"),
            ctx.number(booked)
        );
        for (day, free) in days.iter().take(7) {
            let _ = write!(out, "<dt>{}</dt><dd>{}</dd>", escape(day), free.join(", "));
        }
        if days.is_empty() {
            let _ = write!(out, "<dt>—</dt><dd>{}</dd>", ctx.t("no-slots"));
        }
        out.push_str("</dl></article>");
    }
    out.push_str("</div></section>");
    out
}

/// The triage and requester actions of a request page, each through the API's handler.
async fn request_action(
    State(state): State<AppState>,
    ctx: Ctx,
    Path((id, action)): Path<(String, String)>,
    body: Bytes,
) -> Response {
    let caller = match signed_in(&ctx) {
        Ok(c) => c,
        Err(r) => return r,
    };
    let form = FormData::parse(&body);
    if !csrf_ok(&ctx, &form) {
        return error_page(&ctx, ApiError::Csrf);
    }
    let st = State(state.clone());
    let p = Path(id.clone());
    let c = caller.clone();
    let result: ApiResult<()> = match action.as_str() {
        "accept" => match doc(json!({})) {
            Ok(b) => api::requests::accept(st, c, p, ApiJson(b))
                .await
                .map(|_| ()),
            Err(e) => Err(e),
        },
        "decline" => match doc(json!({"reason": form.get("reason")})) {
            Ok(b) => api::requests::decline(st, c, p, ApiJson(b))
                .await
                .map(|_| ()),
            Err(e) => Err(e),
        },
        "ask-info" => match doc(json!({"message": form.get("message")})) {
            Ok(b) => api::requests::ask_info(st, c, p, ApiJson(b))
                .await
                .map(|_| ()),
            Err(e) => Err(e),
        },
        "respond" => match doc(json!({"message": form.get("message")})) {
            Ok(b) => api::requests::respond(st, c, p, ApiJson(b))
                .await
                .map(|_| ()),
            Err(e) => Err(e),
        },
        "withdraw" => match doc(json!({"reason": form.get("reason")})) {
            Ok(b) => api::requests::withdraw(st, c, p, ApiJson(b))
                .await
                .map(|_| ()),
            Err(e) => Err(e),
        },
        "plan-confirm" => api::plans::confirm_meeting_plan(st, c, p).await.map(|_| ()),
        "book" => match doc(json!({"request_id": id, "staff_id": form.get("staff_id"),
                                   "start": form.get("start"), "purpose": "kick-off"}))
        {
            Ok(b) => api::meetings::book_meeting(st, c, ApiJson(b))
                .await
                .map(|_| ()),
            Err(e) => Err(e),
        },
        "plan-propose" => api::plans::propose_meeting_plan(st, c, p).await.map(|_| ()),
        _ => Err(ApiError::NotFound),
    };
    match result {
        Ok(()) => see_other(&format!("/requests/{}", urlencode(&id))),
        Err(e) => error_page(&ctx, e),
    }
}

/// Search for My customers.
#[derive(Debug, Deserialize, Default)]
struct SearchQuery {
    q: Option<String>,
}

/// R9: a partner's customers (only those with a live relationship), searched on the server by
/// name, domain or tenant id.
async fn customers_page(
    State(state): State<AppState>,
    ctx: Ctx,
    Query(f): Query<SearchQuery>,
) -> Response {
    let caller = match signed_in(&ctx) {
        Ok(c) => c,
        Err(r) => return r,
    };
    let q = f.q.clone().unwrap_or_default();
    let mut query = json!({"kind": "customer", "limit": 50});
    if !q.trim().is_empty() {
        query["q"] = json!(q.trim());
    }
    let page = match doc(query) {
        Ok(qq) => api::orgs::list_orgs(State(state.clone()), caller.clone(), ApiQuery(qq))
            .await
            .map(|Json(p)| value(p)),
        Err(e) => Err(e),
    };
    let page = match page {
        Ok(p) => p,
        Err(e) => return error_page(&ctx, e),
    };
    let mut body = format!(
        "<h1>{}</h1><form method=\"get\" action=\"/customers\" class=\"filters\" role=\"search\">\
         <label for=\"q\">{}</label><input id=\"q\" name=\"q\" type=\"search\" value=\"{}\" data-live-search=\"#customer-list\" autocomplete=\"off\">\
         <button type=\"submit\">{}</button></form><div id=\"customer-list\">",
        ctx.t("nav-customers"),
        ctx.t("search-customers"),
        escape(&q),
        ctx.t("search")
    );
    let items = page["items"].as_array().cloned().unwrap_or_default();
    if items.is_empty() {
        let _ = write!(body, "<p class=\"muted\">{}</p>", ctx.t("no-customers"));
    } else {
        let _ = write!(
            body,
            "<table><thead><tr><th scope=\"col\">{}</th><th scope=\"col\">{}</th><th scope=\"col\">{}</th></tr></thead><tbody>",
            ctx.t("col-customer"),
            ctx.t("col-domains"),
            ctx.t("col-tenant-id")
        );
        for o in items {
            let domains: Vec<String> = o["domains"]
                .as_array()
                .map(|a| a.iter().filter_map(|d| d.as_str().map(escape)).collect())
                .unwrap_or_default();
            let _ = write!(
                body,
                "<tr><td><a href=\"/customers/{}\">{}</a></td><td>{}</td><td>{}</td></tr>",
                s(&o, "id"),
                s(&o, "name"),
                domains.join(", "),
                s(&o, "tenant_id")
            );
        }
        body.push_str("</tbody></table>");
    }
    body.push_str("</div>");
    html(
        StatusCode::OK,
        layout(&ctx, &i18n::text(ctx.lang, "nav-customers", &[]), &body),
    )
}

/// R9: a customer's Services as its partner sees them, each with Request assistance.
async fn customer_services_page(
    State(state): State<AppState>,
    ctx: Ctx,
    Path(id): Path<String>,
) -> Response {
    let caller = match signed_in(&ctx) {
        Ok(c) => c,
        Err(r) => return r,
    };
    let (org, services) = match form_tenant(&state, &caller, Some(&id)).await {
        Ok(x) => x,
        Err(e) => return error_page(&ctx, e),
    };
    let mut body = format!(
        "<h1>{}</h1><p><a class=\"button\" href=\"/requests/new?org={}\">{}</a></p>",
        ctx.ta(
            "customer-services",
            &[("tenant", org["name"].as_str().unwrap_or(""))]
        ),
        escape(&id),
        ctx.t("request-assistance")
    );
    body.push_str(&service_cards(&ctx, &services, Some(&id)));
    body.push_str(&services_list(&ctx, &services, Some(&id)));
    html(
        StatusCode::OK,
        layout(&ctx, &i18n::text(ctx.lang, "nav-customers", &[]), &body),
    )
}

/// Engagements the viewer may see.
async fn engagements_page(State(state): State<AppState>, ctx: Ctx) -> Response {
    let caller = match signed_in(&ctx) {
        Ok(c) => c,
        Err(r) => return r,
    };
    let page = match doc(json!({"limit": 100})) {
        Ok(q) => {
            api::engagements::list_engagements(State(state.clone()), caller.clone(), ApiQuery(q))
                .await
                .map(|Json(p)| value(p))
        }
        Err(e) => Err(e),
    };
    let page = match page {
        Ok(p) => p,
        Err(e) => return error_page(&ctx, e),
    };
    let mut body = format!("<h1>{}</h1>", ctx.t("my-engagements"));
    let items = page["items"].as_array().cloned().unwrap_or_default();
    if items.is_empty() {
        let _ = write!(body, "<p class=\"muted\">{}</p>", ctx.t("no-engagements"));
    } else {
        let _ = write!(
            body,
            "<table><thead><tr><th scope=\"col\">{}</th><th scope=\"col\">{}</th><th scope=\"col\">{}</th></tr></thead><tbody>",
            ctx.t("col-started"),
            ctx.t("col-customer"),
            ctx.t("col-state")
        );
        for e in items {
            let _ = write!(
                body,
                "<tr><td><a href=\"/engagements/{}\">{}</a></td><td>{}</td><td>{}</td></tr>",
                s(&e, "id"),
                s(&e, "start_day"),
                s(&e, "org_id"),
                ctx.t(&format!(
                    "engagement-{}",
                    e["state"].as_str().unwrap_or("active")
                ))
            );
        }
        body.push_str("</tbody></table>");
    }
    html(
        StatusCode::OK,
        layout(&ctx, &i18n::text(ctx.lang, "my-engagements", &[]), &body),
    )
}

/// R3–R7: an engagement's tracks, phases and tasks, the timeline, and the tasks the viewer may
/// complete (the customer's side for tenant tasks, staff for their own advisory tasks).
async fn engagement_page(
    State(state): State<AppState>,
    ctx: Ctx,
    Path(id): Path<String>,
) -> Response {
    let caller = match signed_in(&ctx) {
        Ok(c) => c,
        Err(r) => return r,
    };
    let e = match api::engagements::get_engagement(
        State(state.clone()),
        caller.clone(),
        Path(id.clone()),
    )
    .await
    {
        Ok(Json(d)) => value(d),
        Err(err) => return error_page(&ctx, err),
    };
    let customer_side = matches!(caller.role(), Role::CustomerAdmin | Role::PartnerUser);
    let mut body = format!(
        "<h1>{}</h1><p>{}</p><figure class=\"timeline\"><img src=\"/engagements/{}/timeline.svg\" alt=\"{}\"></figure>",
        ctx.t("engagement-title"),
        ctx.t(&format!("engagement-{}", e["state"].as_str().unwrap_or("active"))),
        escape(&id),
        ctx.t("timeline")
    );
    for track in e["tracks"].as_array().cloned().unwrap_or_default() {
        let _ = write!(
            body,
            "<section class=\"track\"><h2>{}</h2><table><thead><tr><th scope=\"col\">{}</th><th scope=\"col\">{}</th><th scope=\"col\">{}</th><th scope=\"col\">{}</th><th scope=\"col\">{}</th><th></th></tr></thead><tbody>",
            s(&track, "name"),
            ctx.t("col-phase"),
            ctx.t("col-task"),
            ctx.t("col-owner"),
            ctx.t("col-due"),
            ctx.t("col-state")
        );
        for t in track["tasks"].as_array().cloned().unwrap_or_default() {
            let open = t["state"] == "open";
            let owner = t["owner"].as_str().unwrap_or("");
            let may = open
                && if customer_side {
                    owner != "programme"
                } else {
                    owner == "programme" && t["kind"] == "advisory"
                };
            let button = if may {
                format!(
                    "<form method=\"post\" action=\"/engagements/{}/tasks/{}/complete\" class=\"inline\">{}<button type=\"submit\">{}</button></form>",
                    escape(&id),
                    s(&t, "key"),
                    ctx.csrf_field(),
                    ctx.t("action-complete")
                )
            } else {
                String::new()
            };
            let key = s(&t, "key");
            let task_form = |action: &str, field: &str, label: &str, button: &str| {
                format!(
                    "<form method=\"post\" action=\"/engagements/{}/tasks/{key}/{action}\">{}<label for=\"{action}-{key}\">{}</label><textarea id=\"{action}-{key}\" name=\"{field}\" rows=\"2\" required></textarea><button type=\"submit\" class=\"secondary\">{}</button></form>",
                    escape(&id),
                    ctx.csrf_field(),
                    ctx.t(label),
                    ctx.t(button)
                )
            };
            let mut work = task_form("comment", "body", "comment", "action-comment");
            if !customer_side {
                work.push_str(&task_form(
                    "guidance",
                    "text",
                    "guidance",
                    "action-guidance",
                ));
            }
            if customer_side && open {
                work.push_str(&task_form("skip", "reason", "reason", "action-skip"));
            }
            let overdue = if t["overdue"] == true {
                format!(" <span class=\"badge overdue\">{}</span>", ctx.t("overdue"))
            } else {
                String::new()
            };
            let _ = write!(
                body,
                "<tr><td>{}</td><td>{}<details><summary>{}</summary><p>{}</p>{work}</details></td><td>{}</td><td>{}{overdue}</td><td>{}</td><td>{button}</td></tr>",
                ctx.t(&format!("phase-{}", t["phase"].as_str().unwrap_or("initiate"))),
                s(&t, "title"),
                ctx.t("guidance"),
                s(&t, "guidance"),
                ctx.t(&format!("owner-{owner}")),
                s(&t, "due_on"),
                ctx.t(&format!("task-{}", t["state"].as_str().unwrap_or("open"))),
            );
        }
        body.push_str("</tbody></table></section>");
    }
    let risks = e["risks"].as_array().cloned().unwrap_or_default();
    if !risks.is_empty() {
        let _ = write!(body, "<section><h2>{}</h2><ul>", ctx.t("risks"));
        for r in risks {
            let _ = write!(body, "<li>{}</li>", s(&r, "message"));
        }
        body.push_str("</ul></section>");
    }
    html(
        StatusCode::OK,
        layout(&ctx, &i18n::text(ctx.lang, "engagement-title", &[]), &body),
    )
}

/// Marks a task done through the API's handler (R5, R6 refusals shown as such).
async fn task_complete(
    State(state): State<AppState>,
    ctx: Ctx,
    Path((id, task)): Path<(String, String)>,
    body: Bytes,
) -> Response {
    let caller = match signed_in(&ctx) {
        Ok(c) => c,
        Err(r) => return r,
    };
    let form = FormData::parse(&body);
    if !csrf_ok(&ctx, &form) {
        return error_page(&ctx, ApiError::Csrf);
    }
    match api::engagements::complete_task(State(state), caller, Path((id.clone(), task))).await {
        Ok(_) => see_other(&format!("/engagements/{}", urlencode(&id))),
        Err(e) => error_page(&ctx, e),
    }
}

/// A horizontal bar chart as inline SVG (no script, no inline style: the CSP allows neither).
fn bar_chart(title: &str, rows: &[(String, i64)], empty: &str) -> String {
    if rows.is_empty() {
        return format!(
            "<figure class=\"chart\"><figcaption>{}</figcaption><p class=\"muted\">{}</p></figure>",
            escape(title),
            escape(empty)
        );
    }
    let max = rows.iter().map(|r| r.1).max().unwrap_or(1).max(1);
    let row_h = 26;
    let height = rows.len() * row_h + 8;
    let mut svg = format!(
        "<figure class=\"chart\"><figcaption>{t}</figcaption>\
         <svg xmlns=\"http://www.w3.org/2000/svg\" viewBox=\"0 0 480 {height}\" width=\"100%\" role=\"img\" aria-label=\"{t}\">",
        t = escape(title)
    );
    for (i, (label, n)) in rows.iter().enumerate() {
        let y = i * row_h + 4;
        let w = (*n as f64 / max as f64 * 260.0).round() as i64;
        let _ = write!(
            svg,
            "<text x=\"150\" y=\"{ty}\" text-anchor=\"end\" font-size=\"13\" fill=\"#1f2937\">{label}</text>\
             <rect x=\"158\" y=\"{y}\" width=\"{w}\" height=\"18\" rx=\"3\" fill=\"#2563eb\"><title>{label}: {n}</title></rect>\
             <text x=\"{tx}\" y=\"{ty}\" font-size=\"13\" fill=\"#1f2937\">{n}</text>",
            ty = y + 14,
            tx = 164 + w,
            label = escape(label),
        );
    }
    svg.push_str("</svg></figure>");
    svg
}

fn rows(ctx: &Ctx, prefix: Option<&str>, map: &BTreeMap<String, i64>) -> Vec<(String, i64)> {
    map.iter()
        .map(|(k, v)| {
            let label = match (prefix, k.is_empty()) {
                (_, true) => "—".into(),
                (Some(p), false) => {
                    i18n::text(ctx.lang, &format!("{p}-{}", k.replace('_', "-")), &[])
                }
                (None, false) => k.clone(),
            };
            (label, *v)
        })
        .collect()
}

fn dashboard_body(ctx: &Ctx, d: &Dashboard) -> String {
    let median = match d.median_hours_to_first_meeting {
        Some(h) => format!("{h:.1} h"),
        None => "—".into(),
    };
    let open: i64 = ["submitted", "accepted", "scheduled", "in_progress"]
        .iter()
        .filter_map(|s| d.requests_by_state.get(*s))
        .sum();
    let nothing = i18n::text(ctx.lang, "nothing-yet", &[]);
    let mut out = format!(
        "<h1>{}</h1>\n<section class=\"tiles\" aria-label=\"{}\">\
         <div class=\"tile\"><span class=\"num\">{}</span><span>{}</span></div>\
         <div class=\"tile\"><span class=\"num\">{median}</span><span>{}</span></div>\
         <div class=\"tile\"><span class=\"num\">{}</span><span>{}</span></div>\
         <div class=\"tile{breach_class}\"><span class=\"num\">{}</span><span>{}</span></div>\
         <div class=\"tile\"><span class=\"num\">{}</span><span>{}</span></div>\
         </section>\n<section class=\"charts\">",
        ctx.t("dashboard-title"),
        ctx.t("key-figures"),
        ctx.number(open),
        ctx.t("open-requests"),
        ctx.t("median-first-meeting"),
        ctx.number(d.overdue_tasks.count),
        ctx.t("overdue-tasks"),
        ctx.number(d.sla_breached),
        ctx.t("sla-breaches"),
        ctx.number(d.sla_near_breach),
        ctx.t("sla-near-breaches"),
        breach_class = if d.sla_breached > 0 { " alert" } else { "" },
    );
    out.push_str(&bar_chart(
        &i18n::text(ctx.lang, "requests-by-state", &[]),
        &rows(ctx, Some("state"), &d.requests_by_state),
        &nothing,
    ));
    out.push_str(&bar_chart(
        &i18n::text(ctx.lang, "requests-by-language", &[]),
        &rows(ctx, None, &d.requests_by_language),
        &nothing,
    ));
    out.push_str(&bar_chart(
        &i18n::text(ctx.lang, "requests-by-region", &[]),
        &rows(ctx, None, &d.requests_by_region),
        &nothing,
    ));
    out.push_str(&bar_chart(
        &i18n::text(ctx.lang, "engagements-by-phase", &[]),
        &rows(ctx, Some("phase"), &d.engagements_by_phase),
        &nothing,
    ));
    let _ = write!(
        out,
        "</section>\n<h2>{}</h2>\n<table>\n<thead><tr><th scope=\"col\">{}</th><th scope=\"col\">{}</th><th scope=\"col\">{}</th><th scope=\"col\">{}</th></tr></thead><tbody>",
        ctx.t("demand-capacity"),
        ctx.t("field-language"),
        ctx.t("open-requests"),
        ctx.t("col-staff"),
        ctx.t("weekly-capacity")
    );
    for l in &d.languages {
        let flag = if l.staff == 0 && l.demand > 0 {
            " class=\"alert\""
        } else {
            ""
        };
        let _ = write!(
            out,
            "<tr{flag}><th scope=\"row\">{}</th><td>{}</td><td>{}</td><td>{}</td></tr>",
            escape(&l.language),
            ctx.number(l.demand),
            ctx.number(l.staff),
            ctx.number(l.weekly_capacity)
        );
    }
    out.push_str("</tbody></table>\n");
    let _ = writeln!(out, "<h2>{}</h2>", ctx.t("overdue-tasks"));
    if d.overdue_tasks.items.is_empty() {
        let _ = write!(out, "<p class=\"muted\">{}</p>", ctx.t("no-overdue"));
    } else {
        let _ = write!(
            out,
            "<table>\n<thead><tr><th scope=\"col\">{}</th><th scope=\"col\">{}</th><th scope=\"col\">{}</th></tr></thead><tbody>",
            ctx.t("col-due"),
            ctx.t("col-task"),
            ctx.t("col-owner")
        );
        for o in &d.overdue_tasks.items {
            let _ = write!(
                out,
                "<tr><td>{}</td><td><a href=\"/engagements/{}\">{}</a></td><td>{}</td></tr>",
                escape(&o.due_on),
                escape(&o.engagement_id),
                escape(&o.title),
                ctx.t(&format!("owner-{}", o.owner)),
            );
        }
        out.push_str("</tbody></table>");
    }
    out
}

/// The programme dashboard (staff): the API's figures as tiles, charts and tables.
async fn dashboard_page(State(state): State<AppState>, ctx: Ctx) -> Response {
    let caller = match signed_in(&ctx) {
        Ok(c) => c,
        Err(r) => return r,
    };
    if !caller.role().is_programme() {
        return error_page(
            &ctx,
            ApiError::Forbidden(i18n::text(ctx.lang, "dashboard-staff-only", &[])),
        );
    }
    match dashboard_figures(&state).await {
        Ok(d) => html(
            StatusCode::OK,
            layout(
                &ctx,
                &i18n::text(ctx.lang, "dashboard-title", &[]),
                &dashboard_body(&ctx, &d),
            ),
        ),
        Err(e) => error_page(&ctx, e),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_local_paths_follow_a_sign_in() {
        assert_eq!(local_path(Some("/dashboard?x=1"), "/"), "/dashboard?x=1");
        assert_eq!(local_path(Some("//evil.example/"), "/"), "/");
        assert_eq!(local_path(Some("https://evil.example/"), "/"), "/");
        assert_eq!(local_path(Some("/\\evil.example"), "/"), "/");
        assert_eq!(local_path(None, "/home"), "/home");
    }

    #[test]
    fn charts_escape_their_labels_and_scale_to_the_largest_bar() {
        let svg = bar_chart("By <state>", &[("a&b".into(), 2), ("c".into(), 4)], "");
        assert!(svg.contains("By &lt;state&gt;"));
        assert!(svg.contains("a&amp;b"));
        assert!(svg.contains("width=\"260\""), "{svg}");
        assert!(svg.contains("width=\"130\""), "{svg}");
    }

    #[test]
    fn the_request_form_becomes_the_apis_document() {
        let f = FormData::parse(
            b"org_id=o1&channel=site_quick_action&kinds=core_onboarding&kinds=data_migration&services=mail\
              &contact_name=Ada&contact_email=ada%40x.example&language=it&description=Help\
              &migration_source=imap&migration_mailboxes=250",
        );
        let b = request_body(&f);
        assert_eq!(b["kinds"], json!(["core_onboarding", "data_migration"]));
        assert_eq!(b["contact"]["email"], "ada@x.example");
        assert_eq!(b["migration"]["volumes"]["mailboxes"], 250);
        assert!(doc::<crate::api::requests::RequestCreate>(b).is_ok());
    }
}
