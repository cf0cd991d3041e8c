//! The programme's recommended plan (R7) as data: admins read and replace the whole template set,
//! as JSON or YAML (`Content-Type: application/yaml`, `?format=yaml` or `Accept: application/yaml`).

use axum::extract::{FromRequest, Request, State};
use axum::http::{header, HeaderMap, HeaderValue};
use axum::response::{IntoResponse, Response};
use fasttrack_core::policy::{Action, Resource};
use fasttrack_core::rules::engagement::TemplateSet;
use fasttrack_core::Invalid;
use serde::Deserialize;
use utoipa::IntoParams;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::{audit_ctx, authorize_programme};
use crate::error::{ApiError, ApiResult};
use crate::extract::{parse_json, ApiQuery, Caller};
use crate::state::AppState;

pub(super) fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(get_templates, put_templates))
}

/// How a template set is written down.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TemplateFormat {
    Json,
    Yaml,
}

impl TemplateFormat {
    /// The format of a media type (`application/yaml`, `text/yaml`, `application/x-yaml`, JSON).
    pub fn from_media_type(mime: &str) -> Option<TemplateFormat> {
        let mime = mime
            .split(';')
            .next()
            .unwrap_or("")
            .trim()
            .to_ascii_lowercase();
        match mime.as_str() {
            "application/json" => Some(TemplateFormat::Json),
            "application/yaml" | "application/x-yaml" | "text/yaml" | "text/x-yaml" => {
                Some(TemplateFormat::Yaml)
            }
            m if m.starts_with("application/") && m.ends_with("+json") => {
                Some(TemplateFormat::Json)
            }
            _ => None,
        }
    }

    /// The format a file name's extension names (`.yaml`, `.yml`, else JSON).
    pub fn from_path(path: &std::path::Path) -> TemplateFormat {
        match path.extension().and_then(|e| e.to_str()) {
            Some(e) if e.eq_ignore_ascii_case("yaml") || e.eq_ignore_ascii_case("yml") => {
                TemplateFormat::Yaml
            }
            _ => TemplateFormat::Json,
        }
    }

    fn content_type(self) -> &'static str {
        match self {
            TemplateFormat::Json => "application/json",
            TemplateFormat::Yaml => "application/yaml",
        }
    }
}

/// Parses a template set and validates it: a syntax error is 400, a wrong shape or a broken
/// rule 422 naming the field.
pub fn parse_template_set(text: &[u8], format: TemplateFormat) -> ApiResult<TemplateSet> {
    let set: TemplateSet = match format {
        TemplateFormat::Json => parse_json(text)?,
        TemplateFormat::Yaml => {
            let text = std::str::from_utf8(text)
                .map_err(|_| ApiError::Malformed("the body is not valid UTF-8".into()))?;
            serde_saphyr::from_str(text).map_err(|e| {
                ApiError::Invalid(Invalid::one(
                    "body",
                    format!("not a YAML template set: {e}"),
                ))
            })?
        }
    };
    // YAML writes a NUL as "\0"; PostgreSQL cannot store one, so neither store takes it.
    if serde_json::to_string(&set).is_ok_and(|j| j.contains("\\u0000")) {
        return Err(ApiError::Malformed(
            "the template set must not contain NUL characters".into(),
        ));
    }
    set.validate()?;
    Ok(set)
}

/// Writes a template set down in `format`.
pub fn render_template_set(set: &TemplateSet, format: TemplateFormat) -> ApiResult<String> {
    match format {
        TemplateFormat::Json => serde_json::to_string_pretty(set)
            .map_err(|e| ApiError::Internal(format!("template set: {e}"))),
        TemplateFormat::Yaml => serde_saphyr::to_string(set)
            .map_err(|e| ApiError::Internal(format!("template set: {e}"))),
    }
}

fn respond(set: &TemplateSet, format: TemplateFormat) -> ApiResult<Response> {
    let text = render_template_set(set, format)?;
    Ok((
        [(
            header::CONTENT_TYPE,
            HeaderValue::from_static(format.content_type()),
        )],
        text,
    )
        .into_response())
}

/// How to write the template set.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct FormatQuery {
    /// `json` (default) or `yaml`; `Accept: application/yaml` asks for YAML too.
    pub format: Option<String>,
}

/// The template set: one template per track (core, each service or `*`, migration, adoption),
/// with tasks, phases, owner sides, guidance, links, dependencies and day offsets; as JSON, or
/// YAML with `?format=yaml` or `Accept: application/yaml`.
#[utoipa::path(get, path = "/api/v1/templates", tag = "templates", params(FormatQuery),
    responses((status = 200, body = Object), (status = 422, body = crate::error::Problem)))]
pub(crate) async fn get_templates(
    State(state): State<AppState>,
    caller: Caller,
    headers: HeaderMap,
    ApiQuery(q): ApiQuery<FormatQuery>,
) -> ApiResult<Response> {
    authorize_programme(&state, &caller, Action::Read, Resource::ProgrammeSettings)?;
    let format = match q.format.as_deref() {
        Some("json") => TemplateFormat::Json,
        Some("yaml") => TemplateFormat::Yaml,
        Some(_) => return Err(Invalid::one("format", "json or yaml").into()),
        None => {
            let accept = headers
                .get(header::ACCEPT)
                .and_then(|v| v.to_str().ok())
                .unwrap_or("");
            if accept
                .split(',')
                .any(|a| TemplateFormat::from_media_type(a) == Some(TemplateFormat::Yaml))
            {
                TemplateFormat::Yaml
            } else {
                TemplateFormat::Json
            }
        }
    };
    let set = state
        .store
        .template_set_or(TemplateSet::recommended())
        .await?;
    respond(&set, format)
}

/// Replaces the template set (programme admins), sent as JSON or as YAML
/// (`Content-Type: application/yaml`); an invalid set is refused field by field (422) and
/// changes nothing. Engagements already open keep their tasks. Answers in the format it was sent.
#[utoipa::path(put, path = "/api/v1/templates", tag = "templates", request_body = Object,
    responses((status = 200, body = Object), (status = 403, body = crate::error::Problem),
              (status = 415, body = crate::error::Problem), (status = 422, body = crate::error::Problem)))]
pub(crate) async fn put_templates(
    State(state): State<AppState>,
    caller: Caller,
    req: Request,
) -> ApiResult<Response> {
    let grant = authorize_programme(&state, &caller, Action::Update, Resource::ProgrammeSettings)?;
    let ct = req
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_string();
    let format = TemplateFormat::from_media_type(&ct).ok_or_else(|| {
        ApiError::UnsupportedMediaType(format!(
            "send the template set as application/json or application/yaml (got '{}')",
            if ct.is_empty() {
                "no content type"
            } else {
                &ct
            }
        ))
    })?;
    let bytes = axum::body::Bytes::from_request(req, &state)
        .await
        .map_err(|e| {
            if e.status() == axum::http::StatusCode::PAYLOAD_TOO_LARGE {
                ApiError::TooLarge
            } else {
                ApiError::Malformed(format!("could not read the body: {e}"))
            }
        })?;
    let set = parse_template_set(&bytes, format)?;
    state
        .store
        .put_template_set(&set, &audit_ctx(&state, &caller, &grant))
        .await?;
    respond(&set, format)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn r7_the_recommended_template_set_round_trips_through_yaml_and_json() {
        let set = TemplateSet::recommended();
        for format in [TemplateFormat::Yaml, TemplateFormat::Json] {
            let text = render_template_set(&set, format).unwrap();
            assert_eq!(parse_template_set(text.as_bytes(), format).unwrap(), set);
        }
    }

    #[test]
    fn r7_an_invalid_yaml_template_set_is_refused_naming_the_problem() {
        let err =
            parse_template_set(b"version: 1\ntemplates: nope\n", TemplateFormat::Yaml).unwrap_err();
        assert!(matches!(err, ApiError::Invalid(_)), "{err:?}");
        let mut set = TemplateSet::recommended();
        let dup = set.templates[0].tasks[0].clone();
        set.templates[0].tasks.push(dup);
        let yaml = render_template_set(&set, TemplateFormat::Yaml).unwrap();
        assert!(matches!(
            parse_template_set(yaml.as_bytes(), TemplateFormat::Yaml),
            Err(ApiError::Invalid(_))
        ));
    }

    #[test]
    fn yaml_media_types_and_file_names_are_recognised() {
        assert_eq!(
            TemplateFormat::from_media_type("application/yaml; charset=utf-8"),
            Some(TemplateFormat::Yaml)
        );
        assert_eq!(TemplateFormat::from_media_type("text/plain"), None);
        assert_eq!(
            TemplateFormat::from_path(std::path::Path::new("plan.YML")),
            TemplateFormat::Yaml
        );
    }
}
