//! Users of every organization, and programme staff's region and languages.

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::Json;
use fasttrack_core::policy::{Action, Resource};
use fasttrack_core::types::{text, Email, IanaZone};
use fasttrack_core::{error::Errors, Invalid, Language, OrgKind, Role, SpokenLanguage};
use fasttrack_store::{NewUser, StaffProfile, UserFilter, UserPatch};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::{audit_ctx, authorize_org, authorize_org_id, authorize_programme, page, page_of, ts};
use crate::error::{ApiError, ApiResult};
use crate::extract::{ApiJson, ApiQuery, Caller};
use crate::password;
use crate::state::AppState;

pub(super) fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list_users, create_user))
        .routes(routes!(get_user, update_user))
        .routes(routes!(end_user_sessions))
}

/// A user as the API shows it (never the password hash).
#[derive(Debug, Serialize, ToSchema)]
pub struct UserDoc {
    pub id: String,
    pub org_id: String,
    pub email: String,
    pub name: String,
    pub role: Role,
    pub language: String,
    pub time_zone: String,
    pub disabled: bool,
    /// Region, capacity and spoken languages of programme staff.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub staff: Option<StaffDoc>,
    pub created_at: String,
    pub updated_at: String,
}

/// A staff member's region, weekly capacity (meetings) and spoken languages (R11).
#[derive(Debug, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct StaffDoc {
    pub region_id: String,
    pub weekly_capacity: i64,
    pub languages: Vec<SpokenLanguage>,
}

impl UserDoc {
    /// Builds the document from the stored user and staff profile.
    pub fn from_parts(u: fasttrack_store::User, staff: Option<StaffProfile>) -> UserDoc {
        UserDoc {
            role: Role::parse(&u.role).unwrap_or(Role::CustomerAdmin),
            staff: staff.map(|s| StaffDoc {
                region_id: s.region_id,
                weekly_capacity: s.weekly_capacity,
                languages: s
                    .languages
                    .iter()
                    .filter_map(|l| SpokenLanguage::parse(l).ok())
                    .collect(),
            }),
            id: u.id,
            org_id: u.org_id,
            email: u.email,
            name: u.name,
            language: u.language,
            time_zone: u.time_zone,
            disabled: u.disabled,
            created_at: ts(u.created_at),
            updated_at: ts(u.updated_at),
        }
    }
}

page_of!(UserPage, UserDoc);

/// Filters for the user list.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct UserQuery {
    pub org_id: Option<String>,
    pub role: Option<Role>,
    /// Part of a name or e-mail address.
    pub q: Option<String>,
    pub after: Option<String>,
    pub limit: Option<i64>,
}

/// A new user.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UserCreate {
    pub org_id: String,
    pub email: String,
    pub name: String,
    pub role: Role,
    /// At least 10 characters; omit for users who sign in another way.
    pub password: Option<String>,
    /// Interface language (one of R11's); defaults to the organization's.
    pub language: Option<String>,
    /// IANA zone; defaults to the organization's.
    pub time_zone: Option<String>,
    /// Required for FastTrack Managers, Specialists and Center engineers.
    pub staff: Option<StaffDoc>,
}

/// Changes to a user.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UserUpdate {
    pub name: Option<String>,
    pub role: Option<Role>,
    pub password: Option<String>,
    pub language: Option<String>,
    pub time_zone: Option<String>,
    pub disabled: Option<bool>,
    pub staff: Option<StaffDoc>,
}

fn check_staff(errs: &mut Errors, role: Role, staff: &Option<StaffDoc>) -> Option<StaffProfile> {
    match (role.is_staff(), staff) {
        (true, None) => {
            errs.add(
                "staff",
                "FastTrack staff need a region, a weekly capacity and languages",
            );
            None
        }
        (false, Some(_)) => {
            errs.add(
                "staff",
                "only FastTrack Managers, Specialists and Center engineers have a staff profile",
            );
            None
        }
        (true, Some(s)) => {
            if s.languages.is_empty() {
                errs.add("staff.languages", "at least one spoken language");
            }
            if !(0..=200).contains(&s.weekly_capacity) {
                errs.add("staff.weekly_capacity", "between 0 and 200 meetings a week");
            }
            let mut langs: Vec<String> =
                s.languages.iter().map(|l| l.as_str().to_string()).collect();
            langs.sort();
            langs.dedup();
            Some(StaffProfile {
                region_id: s.region_id.clone(),
                weekly_capacity: s.weekly_capacity,
                languages: langs,
            })
        }
        (false, None) => None,
    }
}

/// Users the caller may see: everyone for the programme, their own organization's otherwise.
#[utoipa::path(get, path = "/api/v1/users", tag = "users", params(UserQuery),
    responses((status = 200, body = UserPage), (status = 401, body = crate::error::Problem)))]
pub(crate) async fn list_users(
    State(state): State<AppState>,
    caller: Caller,
    ApiQuery(q): ApiQuery<UserQuery>,
) -> ApiResult<Json<UserPage>> {
    let org_id = if caller.role().is_programme() {
        authorize_programme(&state, &caller, Action::Read, Resource::User)?;
        q.org_id
    } else {
        let org = q.org_id.unwrap_or_else(|| caller.user.org_id.clone());
        authorize_org_id(&state, &caller, Action::Read, Resource::User, &org).await?;
        Some(org)
    };
    let f = UserFilter {
        org_id,
        role: q.role.map(|r| r.as_str().to_string()),
        q: q.q,
    };
    let p = state.store.list_users(&f, &page(q.after, q.limit)?).await?;
    let mut profiles = match (p.items.first(), p.items.last()) {
        (Some(a), Some(b)) => state.store.staff_profiles_between(&a.id, &b.id).await?,
        _ => Default::default(),
    };
    let items = p
        .items
        .into_iter()
        .map(|u| {
            let profile = profiles.remove(&u.id);
            UserDoc::from_parts(u, profile)
        })
        .collect();
    Ok(Json(UserPage {
        items,
        next: p.next,
    }))
}

/// Creates a user in an organization; the role must fit the organization's kind.
#[utoipa::path(post, path = "/api/v1/users", tag = "users", request_body = UserCreate,
    responses((status = 201, body = UserDoc), (status = 409, body = crate::error::Problem), (status = 422, body = crate::error::Problem)))]
pub(crate) async fn create_user(
    State(state): State<AppState>,
    caller: Caller,
    ApiJson(body): ApiJson<UserCreate>,
) -> ApiResult<(StatusCode, Json<UserDoc>)> {
    let org = state
        .store
        .get_org(&body.org_id)
        .await
        .map_err(|e| match e {
            fasttrack_store::StoreError::NotFound => {
                ApiError::Invalid(Invalid::one("org_id", "no such organization"))
            }
            other => other.into(),
        })?;
    let grant = authorize_org(&state, &caller, Action::Create, Resource::User, &org, None).await?;
    // Only programme admins create programme roles; a customer admin creates customer admins.
    if body.role.is_programme() && caller.role() != Role::ProgrammeAdmin {
        return Err(ApiError::Forbidden(
            "only programme admins create programme staff".into(),
        ));
    }
    let mut errs = Errors::new();
    let email = errs.take("email", Email::parse(&body.email));
    let name = errs.take("name", text(&body.name, 200, true));
    let org_kind = OrgKind::parse(&org.kind).map_err(ApiError::Internal)?;
    if body.role.org_kind() != org_kind {
        errs.add(
            "role",
            format!(
                "a {} belongs to a {} organization, not a {}",
                body.role.as_str(),
                body.role.org_kind().as_str(),
                org_kind.as_str()
            ),
        );
    }
    if let Some(p) = &body.password {
        if let Err(m) = password::check_new_password(p) {
            errs.add("password", m);
        }
    }
    let language = match &body.language {
        Some(l) => match Language::parse(l) {
            Ok(l) => Some(l.tag().to_string()),
            Err(v) => {
                errs.add("language", v.message);
                None
            }
        },
        None => Some(org.language.clone()),
    };
    let zone = match &body.time_zone {
        Some(z) => errs.take(
            "time_zone",
            IanaZone::parse(z).map(|z| z.as_str().to_string()),
        ),
        None => Some(org.time_zone.clone()),
    };
    let staff = check_staff(&mut errs, body.role, &body.staff);
    if let Some(s) = &staff {
        if state.store.get_region(&s.region_id).await.is_err() {
            errs.add("staff.region_id", "no such region");
        }
    }
    errs.finish()?;
    let (Some(email), Some(name), Some(language), Some(time_zone)) = (email, name, language, zone)
    else {
        return Err(ApiError::Internal("validated fields missing".into()));
    };
    let password_hash = match body.password {
        Some(p) => Some(password::hash(p).await?),
        None => None,
    };
    let new = NewUser {
        org_id: org.id.clone(),
        email: email.as_str().to_string(),
        name,
        role: body.role.as_str().to_string(),
        password_hash,
        language,
        time_zone,
        staff,
    };
    let u = state
        .store
        .create_user(&new, &audit_ctx(&state, &caller, &grant))
        .await?;
    let profile = state.store.get_staff_profile(&u.id).await?;
    Ok((StatusCode::CREATED, Json(UserDoc::from_parts(u, profile))))
}

/// One user.
#[utoipa::path(get, path = "/api/v1/users/{id}", tag = "users", params(("id" = String, Path)),
    responses((status = 200, body = UserDoc), (status = 404, body = crate::error::Problem)))]
pub(crate) async fn get_user(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> ApiResult<Json<UserDoc>> {
    let u = state.store.get_user(&id).await?;
    if u.id != caller.user.id {
        authorize_org_id(&state, &caller, Action::Read, Resource::User, &u.org_id).await?;
    }
    let profile = state.store.get_staff_profile(&u.id).await?;
    Ok(Json(UserDoc::from_parts(u, profile)))
}

/// Changes a user; disabling one, or changing their role or password, ends their sessions.
#[utoipa::path(patch, path = "/api/v1/users/{id}", tag = "users", params(("id" = String, Path)), request_body = UserUpdate,
    responses((status = 200, body = UserDoc), (status = 404, body = crate::error::Problem), (status = 422, body = crate::error::Problem)))]
pub(crate) async fn update_user(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    ApiJson(body): ApiJson<UserUpdate>,
) -> ApiResult<Json<UserDoc>> {
    let u = state.store.get_user(&id).await?;
    let (org, grant) =
        authorize_org_id(&state, &caller, Action::Update, Resource::User, &u.org_id).await?;
    let current_role = Role::parse(&u.role).map_err(ApiError::Internal)?;
    if (current_role.is_programme() || body.role.is_some_and(|r| r.is_programme()))
        && caller.role() != Role::ProgrammeAdmin
    {
        return Err(ApiError::Forbidden(
            "only programme admins change programme staff".into(),
        ));
    }
    let mut errs = Errors::new();
    let name = body
        .name
        .as_ref()
        .and_then(|n| errs.take("name", text(n, 200, true)));
    let role = body.role.unwrap_or(current_role);
    let org_kind = OrgKind::parse(&org.kind).map_err(ApiError::Internal)?;
    if role.org_kind() != org_kind {
        errs.add(
            "role",
            format!(
                "a {} cannot belong to a {} organization",
                role.as_str(),
                org_kind.as_str()
            ),
        );
    }
    if let Some(p) = &body.password {
        if let Err(m) = password::check_new_password(p) {
            errs.add("password", m);
        }
    }
    let language = body
        .language
        .as_ref()
        .and_then(|l| match Language::parse(l) {
            Ok(l) => Some(l.tag().to_string()),
            Err(v) => {
                errs.add("language", v.message);
                None
            }
        });
    let time_zone = body.time_zone.as_ref().and_then(|z| {
        errs.take(
            "time_zone",
            IanaZone::parse(z).map(|z| z.as_str().to_string()),
        )
    });
    let staff = if body.staff.is_some()
        || body
            .role
            .is_some_and(|r| r.is_staff() != current_role.is_staff())
    {
        check_staff(&mut errs, role, &body.staff)
    } else {
        None
    };
    if let Some(s) = &staff {
        if state.store.get_region(&s.region_id).await.is_err() {
            errs.add("staff.region_id", "no such region");
        }
    }
    if body.disabled == Some(true) && u.id == caller.user.id {
        errs.add("disabled", "you cannot disable yourself");
    }
    errs.finish()?;
    let password_hash = match body.password {
        Some(p) => Some(password::hash(p).await?),
        None => None,
    };
    let patch = UserPatch {
        name,
        role: body.role.map(|r| r.as_str().to_string()),
        password_hash,
        language,
        time_zone,
        disabled: body.disabled,
        staff,
    };
    let u = state
        .store
        .update_user(&id, &patch, &audit_ctx(&state, &caller, &grant))
        .await?;
    let profile = state.store.get_staff_profile(&u.id).await?;
    Ok(Json(UserDoc::from_parts(u, profile)))
}

/// Signs a user out everywhere (a lost laptop, a leaver): every live session of theirs ends at
/// once. Whoever may change the user may do it; programme staff only by a programme admin.
#[utoipa::path(delete, path = "/api/v1/users/{id}/sessions", tag = "users", params(("id" = String, Path)),
    responses((status = 200, body = super::auth::SessionsEnded), (status = 403, body = crate::error::Problem),
              (status = 404, body = crate::error::Problem)))]
pub(crate) async fn end_user_sessions(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> ApiResult<Json<super::auth::SessionsEnded>> {
    let u = state.store.get_user(&id).await?;
    let org = state.store.get_org(&u.org_id).await?;
    let kind = OrgKind::parse(&org.kind).map_err(ApiError::Internal)?;
    let role = Role::parse(&u.role).map_err(ApiError::Internal)?;
    let link = if caller.role() == Role::PartnerUser && kind == OrgKind::Customer {
        super::partner_link(&state, &caller.user.org_id, &org.id).await?
    } else {
        None
    };
    let grant = fasttrack_core::policy::end_sessions(
        &caller.actor,
        &u.id,
        role,
        fasttrack_core::policy::Owner::Org {
            id: &org.id,
            kind,
            link: link.as_ref(),
        },
        state.clock.now(),
    )?;
    let ended = state
        .store
        .revoke_user_sessions(&u, &audit_ctx(&state, &caller, &grant))
        .await?;
    Ok(Json(super::auth::SessionsEnded { ended }))
}
