//! Organizations: customer tenants (with tenant id and domains), partners, and the programme.

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::Json;
use fasttrack_core::policy::{Action, Resource};
use fasttrack_core::types::{text, Country, Domain, IanaZone};
use fasttrack_core::{error::Errors, Language, OrgKind, Role};
use fasttrack_store::{NewOrganization, Organization, OrganizationFilter, OrganizationPatch};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::{audit_ctx, authorize_org, authorize_programme, page, page_of, ts};
use crate::error::{ApiError, ApiResult};
use crate::extract::{ApiJson, ApiQuery, Caller};
use crate::state::AppState;

pub(super) fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list_orgs, create_org))
        .routes(routes!(get_org, update_org))
        .routes(routes!(tenant_services))
}

/// Where the onboarding of one service stands for a tenant.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum OnboardingState {
    NotStarted,
    Requested,
    InProgress,
    Completed,
}

/// One of a tenant's eligible services, as its deployment card shows it (R2, R8).
#[derive(Debug, Serialize, ToSchema)]
pub struct TenantServiceDoc {
    pub service_id: String,
    pub name: String,
    pub category: String,
    pub description: String,
    pub onboarding: OnboardingState,
}

/// R2/R9: a tenant's eligible services and their onboarding state (its admins, partners with a
/// live relationship, the programme). The partner's "Services" view and the deployment cards.
#[utoipa::path(get, path = "/api/v1/organizations/{id}/services", tag = "organizations", params(("id" = String, Path)),
    responses((status = 200, body = Vec<TenantServiceDoc>), (status = 404, body = crate::error::Problem)))]
pub(crate) async fn tenant_services(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> ApiResult<Json<Vec<TenantServiceDoc>>> {
    let org = state.store.get_org(&id).await?;
    authorize_org(
        &state,
        &caller,
        Action::Read,
        Resource::Organization,
        &org,
        None,
    )
    .await?;
    if org.kind != "customer" {
        return Err(ApiError::NotFound);
    }
    let eligible = state
        .store
        .eligible_services(&org.id, state.clock.now_secs())
        .await?;
    let catalogue = state.store.list_services().await?;
    let requests = state.store.request_services(&org.id).await?;
    let stage = |service: &str| {
        let mut best = OnboardingState::NotStarted;
        for (services, st) in &requests {
            let listed: Vec<String> = serde_json::from_str(services).unwrap_or_default();
            if !listed.iter().any(|s| s == service) {
                continue;
            }
            let this = match st.as_str() {
                "submitted" => OnboardingState::Requested,
                "accepted" | "scheduled" | "in_progress" => OnboardingState::InProgress,
                "completed" => OnboardingState::Completed,
                _ => OnboardingState::NotStarted,
            };
            let rank = |s: &OnboardingState| match s {
                OnboardingState::NotStarted => 0,
                OnboardingState::Requested => 1,
                OnboardingState::InProgress => 2,
                OnboardingState::Completed => 3,
            };
            if rank(&this) > rank(&best) {
                best = this;
            }
        }
        best
    };
    Ok(Json(
        catalogue
            .into_iter()
            .filter(|s| eligible.contains(&s.id))
            .map(|s| TenantServiceDoc {
                onboarding: stage(&s.id),
                service_id: s.id,
                name: s.name,
                category: s.category,
                description: s.description,
            })
            .collect(),
    ))
}

/// An organization as the API shows it.
#[derive(Debug, Serialize, ToSchema)]
pub struct OrgDoc {
    pub id: String,
    pub kind: OrgKind,
    pub name: String,
    /// The cloud tenant's id (customers only).
    pub tenant_id: Option<String>,
    pub region_id: Option<String>,
    pub country: String,
    pub time_zone: String,
    pub language: String,
    pub domains: Vec<String>,
    /// The partner that handles this customer's onboarding (R8), if any.
    pub partner_of_record: Option<String>,
    pub created_at: String,
    pub updated_at: String,
}

impl From<Organization> for OrgDoc {
    fn from(o: Organization) -> Self {
        OrgDoc {
            kind: OrgKind::parse(&o.kind).unwrap_or(OrgKind::Customer),
            domains: o.domain_list(),
            id: o.id,
            name: o.name,
            tenant_id: o.tenant_id,
            region_id: o.region_id,
            country: o.country,
            time_zone: o.time_zone,
            language: o.language,
            partner_of_record: o.partner_of_record,
            created_at: ts(o.created_at),
            updated_at: ts(o.updated_at),
        }
    }
}

page_of!(OrgPage, OrgDoc);

/// Filters for the organization list.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct OrgQuery {
    pub kind: Option<OrgKind>,
    pub region_id: Option<String>,
    /// Case-blind search: three characters or more are found anywhere in the name, a domain or
    /// the tenant id; fewer match the start of the name or of a domain.
    pub q: Option<String>,
    pub after: Option<String>,
    pub limit: Option<i64>,
}

/// A new organization.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct OrgCreate {
    pub kind: OrgKind,
    pub name: String,
    /// Required for customers: the cloud tenant's id (a UUID).
    pub tenant_id: Option<String>,
    pub region_id: Option<String>,
    /// ISO 3166-1 alpha-2.
    pub country: String,
    /// IANA zone.
    pub time_zone: String,
    /// One of R11's languages.
    pub language: String,
    #[serde(default)]
    pub domains: Vec<String>,
    pub partner_of_record: Option<String>,
}

/// Changes to an organization; absent fields stay as they are, `null` clears optional ones.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct OrgUpdate {
    pub name: Option<String>,
    #[serde(default, with = "double_option")]
    #[schema(value_type = Option<String>)]
    pub region_id: Option<Option<String>>,
    pub country: Option<String>,
    pub time_zone: Option<String>,
    pub language: Option<String>,
    pub domains: Option<Vec<String>>,
    #[serde(default, with = "double_option")]
    #[schema(value_type = Option<String>)]
    pub partner_of_record: Option<Option<String>>,
}

/// Tells an absent field (`None`) from an explicit `null` (`Some(None)`).
pub mod double_option {
    use serde::{Deserialize, Deserializer};

    /// Deserializes a present field, `null` included.
    pub fn deserialize<'de, D: Deserializer<'de>, T: Deserialize<'de>>(
        d: D,
    ) -> Result<Option<Option<T>>, D::Error> {
        Option::<T>::deserialize(d).map(Some)
    }
}

fn check_domains(errs: &mut Errors, domains: &[String]) -> Vec<String> {
    if domains.len() > 50 {
        errs.add("domains", "at most 50 domains");
    }
    let mut out = Vec::new();
    for (i, d) in domains.iter().enumerate() {
        match Domain::parse(d) {
            Ok(d) if !out.contains(&d.as_str().to_string()) => out.push(d.as_str().to_string()),
            Ok(_) => errs.add(format!("domains[{i}]"), "listed twice"),
            Err(m) => errs.add(format!("domains[{i}]"), m),
        }
    }
    out
}

fn check_language(errs: &mut Errors, l: &str) -> Option<String> {
    match Language::parse(l) {
        Ok(l) => Some(l.tag().to_string()),
        Err(v) => {
            errs.add("language", v.message);
            None
        }
    }
}

pub(crate) async fn check_refs(
    state: &AppState,
    errs: &mut Errors,
    region: Option<&str>,
    partner: Option<&str>,
) -> ApiResult<()> {
    if let Some(r) = region {
        if state.store.get_region(r).await.is_err() {
            errs.add("region_id", "no such region");
        }
    }
    if let Some(p) = partner {
        match state.store.get_org(p).await {
            Ok(o) if o.kind == "partner" => {}
            Ok(_) => errs.add("partner_of_record", "not a partner organization"),
            Err(fasttrack_store::StoreError::NotFound) => {
                errs.add("partner_of_record", "no such organization")
            }
            Err(e) => return Err(e.into()),
        }
    }
    Ok(())
}

/// Organizations the caller may see. Customers see themselves and the partner directory; partners
/// their customers (through live relationships) and the directory; the programme sees all.
#[utoipa::path(get, path = "/api/v1/organizations", tag = "organizations", params(OrgQuery),
    responses((status = 200, body = OrgPage), (status = 401, body = crate::error::Problem)))]
pub(crate) async fn list_orgs(
    State(state): State<AppState>,
    caller: Caller,
    ApiQuery(q): ApiQuery<OrgQuery>,
) -> ApiResult<Json<OrgPage>> {
    authorize_programme(&state, &caller, Action::Read, Resource::Organization)?;
    let mut f = OrganizationFilter {
        kind: q.kind.map(|k| k.as_str().to_string()),
        region_id: q.region_id,
        q: q.q.map(|s| s.chars().take(200).collect()),
        ..Default::default()
    };
    match caller.role() {
        r if r.is_programme() => {}
        _ if q.kind == Some(OrgKind::Partner) => {}
        Role::PartnerUser => {
            f.kind = Some("customer".into());
            f.visible_to_partner = Some((caller.user.org_id.clone(), state.clock.now_secs()));
        }
        _ => f.only = Some(caller.user.org_id.clone()),
    }
    let p = state.store.list_orgs(&f, &page(q.after, q.limit)?).await?;
    Ok(Json(OrgPage {
        items: p.items.into_iter().map(OrgDoc::from).collect(),
        next: p.next,
    }))
}

/// Creates an organization (programme admins).
#[utoipa::path(post, path = "/api/v1/organizations", tag = "organizations", request_body = OrgCreate,
    responses((status = 201, body = OrgDoc), (status = 403, body = crate::error::Problem), (status = 409, body = crate::error::Problem), (status = 422, body = crate::error::Problem)))]
pub(crate) async fn create_org(
    State(state): State<AppState>,
    caller: Caller,
    ApiJson(body): ApiJson<OrgCreate>,
) -> ApiResult<(StatusCode, Json<OrgDoc>)> {
    let grant = authorize_programme(&state, &caller, Action::Create, Resource::Organization)?;
    let mut errs = Errors::new();
    let name = errs.take("name", text(&body.name, 200, true));
    let tenant_id = match (body.kind, &body.tenant_id) {
        (OrgKind::Customer, None) => {
            errs.add("tenant_id", "a customer needs its tenant id");
            None
        }
        (OrgKind::Customer, Some(t)) => match uuid::Uuid::parse_str(t.trim()) {
            Ok(u) => Some(u.to_string()),
            Err(_) => {
                errs.add("tenant_id", "a tenant id is a UUID (8-4-4-4-12 hex digits)");
                None
            }
        },
        (_, Some(_)) => {
            errs.add("tenant_id", "only customers have a tenant id");
            None
        }
        (_, None) => None,
    };
    let country = errs.take("country", Country::parse(&body.country));
    let zone = errs.take("time_zone", IanaZone::parse(&body.time_zone));
    let language = check_language(&mut errs, &body.language);
    let domains = check_domains(&mut errs, &body.domains);
    if body.partner_of_record.is_some() && body.kind != OrgKind::Customer {
        errs.add(
            "partner_of_record",
            "only customers have a partner of record",
        );
    }
    check_refs(
        &state,
        &mut errs,
        body.region_id.as_deref(),
        body.partner_of_record.as_deref(),
    )
    .await?;
    errs.finish()?;
    let (Some(name), Some(country), Some(zone), Some(language)) = (name, country, zone, language)
    else {
        return Err(ApiError::Internal("validated fields missing".into()));
    };
    let new = NewOrganization {
        kind: body.kind.as_str().to_string(),
        name,
        tenant_id,
        region_id: body.region_id,
        country: country.as_str().to_string(),
        time_zone: zone.as_str().to_string(),
        language,
        domains,
        partner_of_record: body.partner_of_record,
    };
    let org = state
        .store
        .create_org(&new, &audit_ctx(&state, &caller, &grant))
        .await?;
    Ok((StatusCode::CREATED, Json(org.into())))
}

/// One organization (404 when the caller may not see it).
#[utoipa::path(get, path = "/api/v1/organizations/{id}", tag = "organizations", params(("id" = String, Path)),
    responses((status = 200, body = OrgDoc), (status = 404, body = crate::error::Problem)))]
pub(crate) async fn get_org(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> ApiResult<Json<OrgDoc>> {
    let org = state.store.get_org(&id).await?;
    authorize_org(
        &state,
        &caller,
        Action::Read,
        Resource::Organization,
        &org,
        None,
    )
    .await?;
    Ok(Json(org.into()))
}

/// Changes an organization (its own admins, or programme admins).
#[utoipa::path(patch, path = "/api/v1/organizations/{id}", tag = "organizations", params(("id" = String, Path)), request_body = OrgUpdate,
    responses((status = 200, body = OrgDoc), (status = 404, body = crate::error::Problem), (status = 422, body = crate::error::Problem)))]
pub(crate) async fn update_org(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    ApiJson(body): ApiJson<OrgUpdate>,
) -> ApiResult<Json<OrgDoc>> {
    let org = state.store.get_org(&id).await?;
    let grant = authorize_org(
        &state,
        &caller,
        Action::Update,
        Resource::Organization,
        &org,
        None,
    )
    .await?;
    if caller.role() != Role::ProgrammeAdmin
        && (body.region_id.is_some() || body.partner_of_record.is_some())
    {
        return Err(ApiError::Forbidden(
            "only programme admins assign regions and partners of record".into(),
        ));
    }
    let mut errs = Errors::new();
    let name = body
        .name
        .as_ref()
        .and_then(|n| errs.take("name", text(n, 200, true)));
    let country = body
        .country
        .as_ref()
        .and_then(|c| errs.take("country", Country::parse(c).map(|c| c.as_str().to_string())));
    let time_zone = body.time_zone.as_ref().and_then(|z| {
        errs.take(
            "time_zone",
            IanaZone::parse(z).map(|z| z.as_str().to_string()),
        )
    });
    let language = body
        .language
        .as_ref()
        .and_then(|l| check_language(&mut errs, l));
    let domains = body.domains.as_ref().map(|d| check_domains(&mut errs, d));
    if matches!(body.partner_of_record, Some(Some(_))) && org.kind != "customer" {
        errs.add(
            "partner_of_record",
            "only customers have a partner of record",
        );
    }
    check_refs(
        &state,
        &mut errs,
        body.region_id.as_ref().and_then(|r| r.as_deref()),
        body.partner_of_record.as_ref().and_then(|p| p.as_deref()),
    )
    .await?;
    errs.finish()?;
    let patch = OrganizationPatch {
        name,
        region_id: body.region_id,
        country,
        time_zone,
        language,
        domains,
        partner_of_record: body.partner_of_record,
    };
    let org = state
        .store
        .update_org(&id, &patch, &audit_ctx(&state, &caller, &grant))
        .await?;
    Ok(Json(org.into()))
}
