//! The programme admin's pages: the service catalogue and plans, regions with their holidays
//! (imported from `.ics` files), staff and their languages, users, the template set (YAML) and
//! webhooks. Each reads and writes through the API's own handlers.

use std::fmt::Write as _;

use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::Response;
use axum::routing::{get, post};
use axum::{Json, Router};
use serde_json::json;

use super::{csrf_ok, doc, error_page, html, i18n, layout, s, see_other, value, Ctx, FormData};
use crate::api;
use crate::api::templates::{parse_template_set, render_template_set, TemplateFormat};
use crate::error::{ApiError, ApiResult};
use crate::extract::{ApiJson, ApiQuery, Caller};
use crate::state::AppState;
use crate::timeline::escape;

/// The admin pages' routes.
pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/admin", get(admin_page))
        .route("/admin/services", post(add_service))
        .route("/admin/regions/{id}/holidays", post(import_holidays))
        .route("/admin/templates", post(replace_templates))
        .route("/admin/webhooks", post(add_webhook))
}

/// A programme admin, or the page that says why not.
// The error is the page to send at once; it is built once per request, never copied.
#[allow(clippy::result_large_err)]
fn admin(ctx: &Ctx) -> Result<Caller, Response> {
    match &ctx.caller {
        None => Err(super::to_sign_in(ctx)),
        Some(c) if c.role() == fasttrack_core::Role::ProgrammeAdmin => Ok(c.clone()),
        Some(_) => Err(error_page(
            ctx,
            ApiError::Forbidden(i18n::text(ctx.lang, "admin-only", &[])),
        )),
    }
}

/// Everything an admin manages, on one page with a section each.
async fn admin_page(State(state): State<AppState>, ctx: Ctx) -> Response {
    let caller = match admin(&ctx) {
        Ok(c) => c,
        Err(r) => return r,
    };
    match render(&state, &ctx, &caller).await {
        Ok(body) => html(
            StatusCode::OK,
            layout(&ctx, &i18n::text(ctx.lang, "nav-admin", &[]), &body),
        ),
        Err(e) => error_page(&ctx, e),
    }
}

async fn render(state: &AppState, ctx: &Ctx, caller: &Caller) -> ApiResult<String> {
    let st = || State(state.clone());
    let mut out = format!(
        "<h1>{}</h1><nav class=\"toc\"><a href=\"#catalogue\">{}</a> · <a href=\"#regions\">{}</a> · <a href=\"#staff\">{}</a> · <a href=\"#users\">{}</a> · <a href=\"#templates\">{}</a> · <a href=\"#webhooks\">{}</a></nav>",
        ctx.t("nav-admin"),
        ctx.t("admin-catalogue"),
        ctx.t("admin-regions"),
        ctx.t("admin-staff"),
        ctx.t("admin-users"),
        ctx.t("admin-templates"),
        ctx.t("admin-webhooks"),
    );
    // Catalogue and plans (R2).
    let Json(services) = api::catalogue::list_services(st(), caller.clone()).await?;
    let Json(plans) = api::catalogue::list_plans(st(), caller.clone()).await?;
    let _ = write!(
        out,
        "<section id=\"catalogue\"><h2>{}</h2><table><thead><tr><th scope=\"col\">Id</th><th scope=\"col\">{}</th><th scope=\"col\">{}</th></tr></thead><tbody>",
        ctx.t("admin-catalogue"),
        ctx.t("col-service"),
        ctx.t("col-category")
    );
    for sv in value(services).as_array().cloned().unwrap_or_default() {
        let _ = write!(
            out,
            "<tr><td><code>{}</code></td><td>{}</td><td>{}</td></tr>",
            s(&sv, "id"),
            s(&sv, "name"),
            s(&sv, "category")
        );
    }
    let _ = write!(
        out,
        "</tbody></table><form method=\"post\" action=\"/admin/services\" class=\"card\">{}<h3>{}</h3>\
         <label for=\"svc-id\">Id</label><input id=\"svc-id\" name=\"id\" required pattern=\"[a-z0-9-]+\">\
         <label for=\"svc-name\">{}</label><input id=\"svc-name\" name=\"name\" required>\
         <label for=\"svc-category\">{}</label><input id=\"svc-category\" name=\"category\" required>\
         <label for=\"svc-description\">{}</label><textarea id=\"svc-description\" name=\"description\" rows=\"2\"></textarea>\
         <button type=\"submit\">{}</button></form><h3>{}</h3><table><thead><tr><th scope=\"col\">Id</th><th scope=\"col\">{}</th><th scope=\"col\">{}</th></tr></thead><tbody>",
        ctx.csrf_field(),
        ctx.t("admin-add-service"),
        ctx.t("col-service"),
        ctx.t("col-category"),
        ctx.t("field-description"),
        ctx.t("admin-add-service"),
        ctx.t("admin-plans"),
        ctx.t("col-plan"),
        ctx.t("field-services"),
    );
    for p in value(plans).as_array().cloned().unwrap_or_default() {
        let svc: Vec<String> = p["services"]
            .as_array()
            .map(|a| a.iter().filter_map(|x| x.as_str().map(escape)).collect())
            .unwrap_or_default();
        let _ = write!(
            out,
            "<tr><td><code>{}</code></td><td>{}</td><td>{}</td></tr>",
            s(&p, "id"),
            s(&p, "name"),
            svc.join(", ")
        );
    }
    out.push_str("</tbody></table></section>");
    // Regions, their hours and holidays (R12).
    let Json(regions) = api::regions::list_regions(st(), caller.clone()).await?;
    let _ = write!(
        out,
        "<section id=\"regions\"><h2>{}</h2>",
        ctx.t("admin-regions")
    );
    for r in value(regions).as_array().cloned().unwrap_or_default() {
        let id = r["id"].as_str().unwrap_or("").to_string();
        let holidays = api::calendars::holiday_list(state, &id).await?;
        let days: Vec<String> = holidays
            .holidays
            .iter()
            .take(12)
            .map(|h| format!("{} {}", escape(&h.day), escape(&h.name)))
            .collect();
        let _ = write!(
            out,
            "<article class=\"card\"><h3>{} <small class=\"muted\">{}</small></h3><p>{}: {}</p>\
             <form method=\"post\" action=\"/admin/regions/{}/holidays\">{}<label for=\"ics-{}\">{}</label>\
             <textarea id=\"ics-{}\" name=\"ics\" rows=\"3\" placeholder=\"BEGIN:VCALENDAR…\" required></textarea><button type=\"submit\">{}</button></form></article>",
            s(&r, "name"),
            s(&r, "time_zone"),
            ctx.t("admin-holidays"),
            if days.is_empty() { "—".to_string() } else { days.join(" · ") },
            escape(&id),
            ctx.csrf_field(),
            escape(&id),
            ctx.t("admin-import-ics"),
            escape(&id),
            ctx.t("admin-import"),
        );
    }
    out.push_str("</section>");
    // Staff and users.
    let Json(users) =
        api::users::list_users(st(), caller.clone(), ApiQuery(doc(json!({"limit": 200}))?)).await?;
    let users = value(users);
    let items = users["items"].as_array().cloned().unwrap_or_default();
    let _ = write!(
        out,
        "<section id=\"staff\"><h2>{}</h2><table><thead><tr><th scope=\"col\">{}</th><th scope=\"col\">{}</th><th scope=\"col\">{}</th><th scope=\"col\">{}</th></tr></thead><tbody>",
        ctx.t("admin-staff"),
        ctx.t("col-name"),
        ctx.t("col-role"),
        ctx.t("admin-languages"),
        ctx.t("weekly-capacity"),
    );
    for u in items.iter().filter(|u| !u["staff"].is_null()) {
        let langs: Vec<String> = u["staff"]["languages"]
            .as_array()
            .map(|a| a.iter().filter_map(|x| x.as_str().map(escape)).collect())
            .unwrap_or_default();
        let _ = write!(
            out,
            "<tr><td><a href=\"/time-off?staff={}\">{}</a></td><td>{}</td><td>{}</td><td>{}</td></tr>",
            escape(&super::urlencode(u["id"].as_str().unwrap_or(""))),
            s(u, "name"),
            ctx.t(&format!(
                "role-{}",
                u["role"].as_str().unwrap_or("").replace('_', "-")
            )),
            langs.join(", "),
            u["staff"]["weekly_capacity"].as_i64().unwrap_or(0)
        );
    }
    let _ = write!(
        out,
        "</tbody></table></section><section id=\"users\"><h2>{}</h2><table><thead><tr><th scope=\"col\">{}</th><th scope=\"col\">{}</th><th scope=\"col\">{}</th></tr></thead><tbody>",
        ctx.t("admin-users"),
        ctx.t("col-name"),
        ctx.t("field-email"),
        ctx.t("col-role"),
    );
    for u in &items {
        let _ = write!(
            out,
            "<tr><td>{}</td><td>{}</td><td>{}</td></tr>",
            s(u, "name"),
            s(u, "email"),
            ctx.t(&format!(
                "role-{}",
                u["role"].as_str().unwrap_or("").replace('_', "-")
            )),
        );
    }
    out.push_str("</tbody></table></section>");
    // The template set as YAML (R7).
    let set = state
        .store
        .template_set_or(fasttrack_core::rules::engagement::TemplateSet::recommended())
        .await?;
    let yaml = render_template_set(&set, TemplateFormat::Yaml)?;
    let _ = write!(
        out,
        "<section id=\"templates\"><h2>{}</h2><p><a href=\"/api/v1/templates?format=yaml\">{}</a></p>\
         <form method=\"post\" action=\"/admin/templates\">{}<label for=\"yaml\">{}</label>\
         <textarea id=\"yaml\" name=\"yaml\" rows=\"16\" class=\"code\" spellcheck=\"false\">{}</textarea><button type=\"submit\">{}</button></form></section>",
        ctx.t("admin-templates"),
        ctx.t("admin-download-yaml"),
        ctx.csrf_field(),
        ctx.t("admin-templates-yaml"),
        escape(&yaml),
        ctx.t("admin-replace-templates"),
    );
    // Webhooks.
    let Json(hooks) =
        api::webhooks::list_webhooks(st(), caller.clone(), ApiQuery(doc(json!({}))?)).await?;
    let _ = write!(
        out,
        "<section id=\"webhooks\"><h2>{}</h2><ul>",
        ctx.t("admin-webhooks")
    );
    for h in value(hooks).as_array().cloned().unwrap_or_default() {
        let events: Vec<String> = h["events"]
            .as_array()
            .map(|a| a.iter().filter_map(|x| x.as_str().map(escape)).collect())
            .unwrap_or_default();
        let _ = write!(
            out,
            "<li><code>{}</code> — {}</li>",
            s(&h, "url"),
            events.join(", ")
        );
    }
    let _ = write!(
        out,
        "</ul><form method=\"post\" action=\"/admin/webhooks\" class=\"card\">{}<label for=\"hook-url\">URL</label><input id=\"hook-url\" name=\"url\" type=\"url\" required>\
         <label for=\"hook-events\">{}</label><input id=\"hook-events\" name=\"events\" value=\"request.submitted request.scheduled\" required>\
         <button type=\"submit\">{}</button></form></section>",
        ctx.csrf_field(),
        ctx.t("admin-events"),
        ctx.t("admin-add-webhook"),
    );
    Ok(out)
}

/// Runs an admin form after the CSRF check, then returns to the admin page's section.
async fn admin_form<F, Fut>(ctx: &Ctx, body: &Bytes, anchor: &str, f: F) -> Response
where
    F: FnOnce(Caller, FormData) -> Fut,
    Fut: std::future::Future<Output = ApiResult<()>>,
{
    let caller = match admin(ctx) {
        Ok(c) => c,
        Err(r) => return r,
    };
    let form = FormData::parse(body);
    if !csrf_ok(ctx, &form) {
        return error_page(ctx, ApiError::Csrf);
    }
    match f(caller, form).await {
        Ok(()) => see_other(&format!("/admin#{anchor}")),
        Err(e) => error_page(ctx, e),
    }
}

async fn add_service(State(state): State<AppState>, ctx: Ctx, body: Bytes) -> Response {
    admin_form(&ctx, &body, "catalogue", |caller, form| async move {
        let b = doc(json!({"id": form.get("id"), "name": form.get("name"),
                           "category": form.get("category"), "description": form.get("description")}))?;
        api::catalogue::create_service(State(state), caller, ApiJson(b))
            .await
            .map(|_| ())
    })
    .await
}

async fn import_holidays(
    State(state): State<AppState>,
    ctx: Ctx,
    Path(id): Path<String>,
    body: Bytes,
) -> Response {
    admin_form(&ctx, &body, "regions", |caller, form| async move {
        let mut headers = HeaderMap::new();
        headers.insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static("text/calendar"),
        );
        let ics = Bytes::from(form.get("ics").to_string());
        api::calendars::import_holidays_ics(State(state), caller, Path(id), headers, ics)
            .await
            .map(|_| ())
    })
    .await
}

async fn replace_templates(State(state): State<AppState>, ctx: Ctx, body: Bytes) -> Response {
    admin_form(&ctx, &body, "templates", |caller, form| async move {
        let set = parse_template_set(form.get("yaml").as_bytes(), TemplateFormat::Yaml)?;
        let grant = api::authorize_programme(
            &state,
            &caller,
            fasttrack_core::policy::Action::Update,
            fasttrack_core::policy::Resource::ProgrammeSettings,
        )?;
        state
            .store
            .put_template_set(&set, &api::audit_ctx(&state, &caller, &grant))
            .await?;
        Ok(())
    })
    .await
}

async fn add_webhook(State(state): State<AppState>, ctx: Ctx, body: Bytes) -> Response {
    admin_form(&ctx, &body, "webhooks", |caller, form| async move {
        let events: Vec<&str> = form.get("events").split_whitespace().collect();
        let b = doc(json!({"url": form.get("url"), "events": events}))?;
        api::webhooks::create_webhook(State(state), caller, ApiJson(b))
            .await
            .map(|_| ())
    })
    .await
}
