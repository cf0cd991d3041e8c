//! More pages: partner relationships (R16), the tenant's audit log, engagement work (comments,
//! guidance, skipping with a reason) and cancelling a meeting — each through the API's handler.

use std::fmt::Write as _;

use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::Response;
use axum::routing::{get, post};
use axum::{Json, Router};
use fasttrack_core::Role;
use serde_json::json;

use super::{
    csrf_ok, doc, error_page, html, i18n, layout, s, see_other, signed_in, urlencode, value, Ctx,
    FormData,
};
use crate::api;
use crate::error::{ApiError, ApiResult};
use crate::extract::{ApiJson, ApiQuery};
use crate::state::AppState;
use crate::timeline::escape;

/// These pages' routes.
pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/relationships", get(relationships_page))
        .route("/relationships/{id}/{action}", post(relationship_action))
        .route("/audit", get(audit_page))
        .route("/engagements/{id}/tasks/{task}/{action}", post(task_action))
        .route("/meetings/{id}/cancel", post(cancel_meeting))
        .route("/meetings/{id}/reschedule", post(reschedule_meeting))
}

/// R16: the viewer's partner relationships: a customer approves (choosing scopes and term),
/// declines or ends them; a partner sees its own and may end them.
async fn relationships_page(State(state): State<AppState>, ctx: Ctx) -> Response {
    let caller = match signed_in(&ctx) {
        Ok(c) => c,
        Err(r) => return r,
    };
    let page = match doc(json!({"limit": 100})) {
        Ok(q) => api::relationships::list_relationships(
            State(state.clone()),
            caller.clone(),
            ApiQuery(q),
        )
        .await
        .map(|Json(p)| value(p)),
        Err(e) => Err(e),
    };
    let page = match page {
        Ok(p) => p,
        Err(e) => return error_page(&ctx, e),
    };
    let customer = caller.role() == Role::CustomerAdmin;
    let mut body = format!("<h1>{}</h1>", ctx.t("relationships-title"));
    let items = page["items"].as_array().cloned().unwrap_or_default();
    if items.is_empty() {
        let _ = write!(body, "<p class=\"muted\">{}</p>", ctx.t("no-relationships"));
    }
    for r in items {
        let id = s(&r, "id");
        let status = r["status"].as_str().unwrap_or("");
        let other = if customer {
            r["partner_org_id"].as_str().unwrap_or("")
        } else {
            r["customer_org_id"].as_str().unwrap_or("")
        };
        let other_name = match state.store.get_org(other).await {
            Ok(o) => o.name,
            Err(_) => other.to_string(),
        };
        let actions: Vec<String> = r["scopes"]["actions"]
            .as_array()
            .map(|a| {
                a.iter()
                    .filter_map(|x| x.as_str())
                    .map(|x| ctx.t(&format!("scope-{}", x.replace('_', "-"))))
                    .collect()
            })
            .unwrap_or_default();
        let _ = write!(
            body,
            "<article class=\"card relationship\"><h2>{}</h2><p><span class=\"badge\">{}</span></p><dl class=\"facts\">\
             <dt>{}</dt><dd>{}</dd><dt>{}</dt><dd>{}</dd></dl>",
            escape(&other_name),
            ctx.t(&format!("relationship-{status}")),
            ctx.t("scopes"),
            actions.join(", "),
            ctx.t("expires"),
            r["expires_at"]
                .as_str()
                .map(|t| ctx.when(t))
                .unwrap_or_else(|| format!("{} {}", ctx.number(r["requested_days"].as_i64().unwrap_or(0)), ctx.t("days"))),
        );
        if customer && status == "requested" {
            let _ = write!(
                body,
                "<form method=\"post\" action=\"/relationships/{id}/approve\">{}<fieldset><legend>{}</legend>",
                ctx.csrf_field(),
                ctx.t("scopes")
            );
            for a in ["view", "file_requests", "own_tenant_tasks"] {
                let checked = if r["scopes"]["actions"]
                    .as_array()
                    .is_some_and(|x| x.iter().any(|v| v == a))
                {
                    " checked"
                } else {
                    ""
                };
                let _ = write!(
                    body,
                    "<label class=\"check\"><input type=\"checkbox\" name=\"actions\" value=\"{a}\"{checked}> {}</label>",
                    ctx.t(&format!("scope-{}", a.replace('_', "-")))
                );
            }
            let _ = write!(
                body,
                "</fieldset><label for=\"term-{id}\">{}</label><input id=\"term-{id}\" name=\"term_days\" type=\"number\" min=\"1\" max=\"730\" value=\"{}\">\
                 <button type=\"submit\">{}</button></form>\
                 <form method=\"post\" action=\"/relationships/{id}/decline\">{}<button type=\"submit\" class=\"secondary\">{}</button></form>",
                ctx.t("term-days"),
                r["requested_days"].as_i64().unwrap_or(365),
                ctx.t("action-approve"),
                ctx.csrf_field(),
                ctx.t("action-decline-relationship")
            );
        }
        if status == "active" {
            let _ = write!(
                body,
                "<form method=\"post\" action=\"/relationships/{id}/end\">{}<button type=\"submit\">{}</button></form>",
                ctx.csrf_field(),
                ctx.t("action-end-relationship")
            );
        }
        body.push_str("</article>");
    }
    html(
        StatusCode::OK,
        layout(
            &ctx,
            &i18n::text(ctx.lang, "relationships-title", &[]),
            &body,
        ),
    )
}

async fn relationship_action(
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
    let (st, c, p) = (State(state), caller, Path(id));
    let result: ApiResult<()> = match action.as_str() {
        "approve" => {
            let term = form.get("term_days").parse::<i64>().unwrap_or(0);
            match doc(
                json!({"scopes": {"actions": form.all("actions"), "services": null}, "term_days": term}),
            ) {
                Ok(b) => api::relationships::approve_relationship(st, c, p, ApiJson(b))
                    .await
                    .map(|_| ()),
                Err(e) => Err(e),
            }
        }
        "decline" => api::relationships::decline_relationship(st, c, p)
            .await
            .map(|_| ()),
        "end" => api::relationships::end_relationship(st, c, p)
            .await
            .map(|_| ()),
        _ => Err(ApiError::NotFound),
    };
    match result {
        Ok(()) => see_other("/relationships"),
        Err(e) => error_page(&ctx, e),
    }
}

/// The audit log: a customer reads its tenant's records, programme admins every record.
async fn audit_page(State(state): State<AppState>, ctx: Ctx) -> Response {
    let caller = match signed_in(&ctx) {
        Ok(c) => c,
        Err(r) => return r,
    };
    let mut q = json!({"limit": 100});
    if !caller.role().is_programme() {
        q["tenant_org_id"] = json!(caller.user.org_id);
    }
    let page = match doc(q) {
        Ok(q) => api::audit::list_audit(State(state.clone()), caller.clone(), ApiQuery(q))
            .await
            .map(|Json(p)| value(p)),
        Err(e) => Err(e),
    };
    let page = match page {
        Ok(p) => p,
        Err(e) => return error_page(&ctx, e),
    };
    let mut body = format!(
        "<h1>{}</h1><table><thead><tr><th scope=\"col\">{}</th><th scope=\"col\">{}</th><th scope=\"col\">{}</th><th scope=\"col\">{}</th></tr></thead><tbody>",
        ctx.t("audit-log"),
        ctx.t("col-when"),
        ctx.t("col-who"),
        ctx.t("col-action"),
        ctx.t("col-what")
    );
    let mut names: std::collections::HashMap<String, String> = Default::default();
    for a in page["items"].as_array().cloned().unwrap_or_default() {
        let who = match a["actor_user_id"].as_str() {
            Some(u) => {
                if !names.contains_key(u) {
                    let n = state
                        .store
                        .get_user(u)
                        .await
                        .map(|u| u.name)
                        .unwrap_or_else(|_| u.to_string());
                    names.insert(u.to_string(), n);
                }
                escape(names.get(u).map(String::as_str).unwrap_or(u))
            }
            None => ctx.t("system"),
        };
        let acting = match a["acting_for_org_id"].as_str() {
            Some(_) => format!(" <span class=\"badge\">{}</span>", ctx.t("on-behalf")),
            None => String::new(),
        };
        let _ = write!(
            body,
            "<tr><td>{}</td><td>{who}{acting}</td><td><code>{}</code></td><td>{} <code>{}</code></td></tr>",
            ctx.when(a["at"].as_str().unwrap_or("")),
            s(&a, "action"),
            s(&a, "entity"),
            s(&a, "entity_id"),
        );
    }
    body.push_str("</tbody></table>");
    html(
        StatusCode::OK,
        layout(&ctx, &i18n::text(ctx.lang, "audit-log", &[]), &body),
    )
}

/// Engagement work on a task: a comment (anyone who may see it), written guidance (staff),
/// skipping with a reason (the customer's side; recorded as a deviation, R7).
async fn task_action(
    State(state): State<AppState>,
    ctx: Ctx,
    Path((id, task, action)): Path<(String, String, String)>,
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
    let (st, c, p) = (State(state), caller, Path((id.clone(), task)));
    let result: ApiResult<()> = match action.as_str() {
        "comment" => match doc(json!({"body": form.get("body")})) {
            Ok(b) => api::engagements::comment_task(st, c, p, ApiJson(b))
                .await
                .map(|_| ()),
            Err(e) => Err(e),
        },
        "guidance" => match doc(json!({"text": form.get("text"), "links": []})) {
            Ok(b) => api::engagements::attach_guidance(st, c, p, ApiJson(b))
                .await
                .map(|_| ()),
            Err(e) => Err(e),
        },
        "skip" => match doc(json!({"reason": form.get("reason")})) {
            Ok(b) => api::engagements::skip_task(st, c, p, ApiJson(b))
                .await
                .map(|_| ()),
            Err(e) => Err(e),
        },
        _ => Err(ApiError::NotFound),
    };
    match result {
        Ok(()) => see_other(&format!("/engagements/{}", urlencode(&id))),
        Err(e) => error_page(&ctx, e),
    }
}

/// Cancels a meeting (the invite's cancellation goes out), back to its request.
async fn cancel_meeting(
    State(state): State<AppState>,
    ctx: Ctx,
    Path(id): Path<String>,
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
    let reason = form.get("reason");
    let body = if reason.is_empty() {
        json!({})
    } else {
        json!({"reason": reason})
    };
    let result = match doc(body) {
        Ok(b) => api::meetings::cancel_meeting(State(state), caller, Path(id), ApiJson(b))
            .await
            .map(|Json(m)| value(m)),
        Err(e) => Err(e),
    };
    match result {
        Ok(m) => match m["request_id"].as_str() {
            Some(r) => see_other(&format!("/requests/{}", urlencode(r))),
            None => see_other("/requests"),
        },
        Err(e) => error_page(&ctx, e),
    }
}

/// Moves a meeting to one of the offered slots (a new version of the same invite goes out).
async fn reschedule_meeting(
    State(state): State<AppState>,
    ctx: Ctx,
    Path(id): Path<String>,
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
    let (staff_id, start) = form.get("slot").split_once('|').unwrap_or(("", ""));
    let result = match doc(json!({"start": start, "staff_id": staff_id})) {
        Ok(b) => api::meetings::reschedule_meeting(State(state), caller, Path(id), ApiJson(b))
            .await
            .map(|Json(m)| value(m)),
        Err(e) => Err(e),
    };
    match result {
        Ok(m) => match m["request_id"].as_str() {
            Some(r) => see_other(&format!("/requests/{}", urlencode(r))),
            None => see_other("/requests"),
        },
        Err(e) => error_page(&ctx, e),
    }
}
