//! Regions: time zone and working hours of each part of the center (R12).

use std::collections::BTreeMap;

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::Json;
use fasttrack_core::error::Errors;
use fasttrack_core::policy::{Action, Resource};
use fasttrack_core::types::{code, text, IanaZone};
use fasttrack_store::Region;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::{audit_ctx, authorize_programme, ts};
use crate::error::{ApiError, ApiResult};
use crate::extract::{ApiJson, Caller};
use crate::state::AppState;

pub(super) fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list_regions, create_region))
        .routes(routes!(get_region))
}

/// Working hours: weekday (`mon`…`sun`) → local intervals `["09:00","12:30"]`.
pub type WorkingHours = BTreeMap<String, Vec<[String; 2]>>;

/// A region of the center.
#[derive(Debug, Serialize, ToSchema)]
pub struct RegionDoc {
    pub id: String,
    pub name: String,
    pub time_zone: String,
    #[schema(value_type = Object)]
    pub working_hours: WorkingHours,
    pub created_at: String,
    pub updated_at: String,
}

impl TryFrom<Region> for RegionDoc {
    type Error = ApiError;
    fn try_from(r: Region) -> ApiResult<Self> {
        Ok(RegionDoc {
            working_hours: serde_json::from_str(&r.working_hours)
                .map_err(|_| ApiError::Internal(format!("region {} has unreadable hours", r.id)))?,
            id: r.id,
            name: r.name,
            time_zone: r.time_zone,
            created_at: ts(r.created_at),
            updated_at: ts(r.updated_at),
        })
    }
}

/// A new region.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RegionCreate {
    pub id: String,
    pub name: String,
    pub time_zone: String,
    #[schema(value_type = Object)]
    pub working_hours: WorkingHours,
}

const DAYS: [&str; 7] = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"];

fn parse_hm(s: &str) -> Option<u32> {
    let (h, m) = s.split_once(':')?;
    if h.len() != 2 || m.len() != 2 {
        return None;
    }
    let (h, m): (u32, u32) = (h.parse().ok()?, m.parse().ok()?);
    (h <= 24 && m < 60 && h * 60 + m <= 24 * 60).then_some(h * 60 + m)
}

/// Checks working hours: known weekdays, `HH:MM` times, each interval non-empty, sorted and apart.
pub fn check_hours(errs: &mut Errors, hours: &WorkingHours) {
    for (day, intervals) in hours {
        if !DAYS.contains(&day.as_str()) {
            errs.add(
                format!("working_hours.{day}"),
                "weekdays are mon, tue, wed, thu, fri, sat, sun",
            );
            continue;
        }
        let mut last_end = 0;
        for (i, [a, b]) in intervals.iter().enumerate() {
            match (parse_hm(a), parse_hm(b)) {
                (Some(s), Some(e)) if s < e && s >= last_end => last_end = e,
                (Some(_), Some(_)) => errs.add(
                    format!("working_hours.{day}[{i}]"),
                    "intervals start before they end, in order, without overlapping",
                ),
                _ => errs.add(
                    format!("working_hours.{day}[{i}]"),
                    "times are HH:MM (00:00 to 24:00)",
                ),
            }
        }
    }
}

/// Every region.
#[utoipa::path(get, path = "/api/v1/regions", tag = "regions", responses((status = 200, body = Vec<RegionDoc>)))]
pub(crate) async fn list_regions(
    State(state): State<AppState>,
    caller: Caller,
) -> ApiResult<Json<Vec<RegionDoc>>> {
    authorize_programme(&state, &caller, Action::Read, Resource::ProgrammeSettings)?;
    let list = state.store.list_regions().await?;
    Ok(Json(
        list.into_iter()
            .map(RegionDoc::try_from)
            .collect::<ApiResult<_>>()?,
    ))
}

/// Adds a region (programme admins).
#[utoipa::path(post, path = "/api/v1/regions", tag = "regions", request_body = RegionCreate,
    responses((status = 201, body = RegionDoc), (status = 409, body = crate::error::Problem), (status = 422, body = crate::error::Problem)))]
pub(crate) async fn create_region(
    State(state): State<AppState>,
    caller: Caller,
    ApiJson(body): ApiJson<RegionCreate>,
) -> ApiResult<(StatusCode, Json<RegionDoc>)> {
    let grant = authorize_programme(&state, &caller, Action::Create, Resource::ProgrammeSettings)?;
    let mut errs = Errors::new();
    let id = errs.take("id", code(&body.id));
    let name = errs.take("name", text(&body.name, 200, true));
    let zone = errs.take("time_zone", IanaZone::parse(&body.time_zone));
    check_hours(&mut errs, &body.working_hours);
    errs.finish()?;
    let (Some(id), Some(name), Some(zone)) = (id, name, zone) else {
        return Err(ApiError::Internal("validated fields missing".into()));
    };
    if state.store.get_region(&id).await.is_ok() {
        return Err(ApiError::Conflict {
            field: "id".into(),
            message: format!("a region '{id}' already exists"),
        });
    }
    let r = Region {
        id,
        name,
        time_zone: zone.as_str().to_string(),
        working_hours: serde_json::to_string(&body.working_hours)
            .map_err(|e| ApiError::Internal(e.to_string()))?,
        created_at: 0,
        updated_at: 0,
    };
    let saved = state
        .store
        .upsert_region(&r, &audit_ctx(&state, &caller, &grant))
        .await?;
    Ok((StatusCode::CREATED, Json(saved.try_into()?)))
}

/// One region.
#[utoipa::path(get, path = "/api/v1/regions/{id}", tag = "regions", params(("id" = String, Path)),
    responses((status = 200, body = RegionDoc), (status = 404, body = crate::error::Problem)))]
pub(crate) async fn get_region(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> ApiResult<Json<RegionDoc>> {
    authorize_programme(&state, &caller, Action::Read, Resource::ProgrammeSettings)?;
    Ok(Json(state.store.get_region(&id).await?.try_into()?))
}
