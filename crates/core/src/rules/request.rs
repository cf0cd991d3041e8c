//! Filing a request for assistance: the fields of SPEC §3 parsed, then R1, R2, R8, R11 and R17's
//! language rule applied, in one pure function the API, the widget and the pages share.

use jiff::Timestamp;
use serde::{Deserialize, Serialize};

use crate::error::{Errors, Invalid, Rule, RuleViolation};
use crate::language::Language;
use crate::rules::eligibility::{self, EligibilitySettings, MigrationLevel, SubscriptionFacts};
use crate::rules::engagement::HelpKind;
use crate::rules::migration::{Source, Volumes};
use crate::types::{text, Email, IanaZone};

/// The way a request came in (R8, R9).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub enum Channel {
    /// The "Need help?" widget in the tenant's admin center (R8a).
    AdminCenterWidget,
    /// "Request assistance" under Quick actions on the site's landing page (R8b).
    SiteQuickAction,
    /// The Request assistance action of a service's deployment card (R8b).
    SiteDeploymentCard,
    /// The site's list of the tenant's available services (R8b).
    SiteServicesList,
    /// A partner filing on a customer's behalf (R9).
    PartnerPortal,
    /// The REST API.
    Api,
}

impl Channel {
    /// The stored name.
    pub fn as_str(self) -> &'static str {
        match self {
            Channel::AdminCenterWidget => "admin_center_widget",
            Channel::SiteQuickAction => "site_quick_action",
            Channel::SiteDeploymentCard => "site_deployment_card",
            Channel::SiteServicesList => "site_services_list",
            Channel::PartnerPortal => "partner_portal",
            Channel::Api => "api",
        }
    }
}

/// Who files: the tenant's own admin, or a partner acting for it (R9).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Filer {
    Customer,
    Partner,
    Programme,
}

/// The requester's contact.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Contact {
    pub name: String,
    pub email: String,
    #[serde(default)]
    pub phone: Option<String>,
}

/// Migration facts recorded with a request (R14).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
pub struct MigrationFacts {
    pub sources: Vec<Source>,
    pub volumes: Volumes,
    /// Planned waves as the customer describes them (free text per wave).
    #[serde(default)]
    pub waves: Vec<String>,
}

/// A request as filed, before any check.
#[derive(Debug, Clone, Default)]
pub struct Draft {
    pub kinds: Vec<HelpKind>,
    pub services: Vec<String>,
    pub contact: Option<Contact>,
    pub language: String,
    /// The customer's zone; the tenant's when absent.
    pub time_zone: Option<String>,
    /// Preferred meeting windows as RFC 3339 pairs.
    pub preferred_windows: Vec<(String, String)>,
    pub description: String,
    pub migration: Option<MigrationFacts>,
}

/// What the rules need to know about the tenant and the filing.
#[derive(Debug, Clone)]
pub struct Context<'a> {
    pub channel: Channel,
    pub filer: Filer,
    pub tenant_zone: &'a str,
    /// The partner of record that handles this tenant's onboarding (R8), if any.
    pub partner_of_record: Option<&'a str>,
    pub subscriptions: &'a [SubscriptionFacts],
    pub settings: &'a EligibilitySettings,
    /// Services the tenant's current plans make eligible (R2).
    pub eligible_services: &'a [String],
    /// Every service of the catalogue.
    pub known_services: &'a [String],
    pub now: Timestamp,
}

/// A request that passed every check.
#[derive(Debug, Clone, PartialEq)]
pub struct Valid {
    pub kinds: Vec<HelpKind>,
    pub services: Vec<String>,
    pub contact: Contact,
    pub language: Language,
    pub time_zone: IanaZone,
    pub preferred_windows: Vec<(Timestamp, Timestamp)>,
    pub description: String,
    pub migration: Option<MigrationFacts>,
    pub migration_level: Option<MigrationLevel>,
}

/// Why a request was refused: bad fields (nothing else checked), or a programme rule.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Refusal {
    #[error(transparent)]
    Invalid(#[from] Invalid),
    #[error(transparent)]
    Rule(#[from] RuleViolation),
}

const MAX_WINDOWS: usize = 20;

fn parse_phone(p: &str) -> Result<String, String> {
    let s = p.trim();
    if s.len() > 32
        || !s
            .chars()
            .all(|c| c.is_ascii_digit() || " +-().".contains(c))
        || !s.chars().any(|c| c.is_ascii_digit())
    {
        return Err("a phone number has digits, spaces, '+', '-', '(' and ')' (at most 32)".into());
    }
    Ok(s.to_string())
}

/// Checks a request: fields first (all reported together), then R11, R1, R8, R2 and R17's languages.
pub fn check(draft: &Draft, ctx: &Context<'_>) -> Result<Valid, Refusal> {
    let mut errs = Errors::new();
    let mut kinds = draft.kinds.clone();
    kinds.sort();
    kinds.dedup();
    if kinds.is_empty() {
        errs.add("kinds", "name at least one kind of help");
    }
    let mut services: Vec<String> = Vec::new();
    for (i, s) in draft.services.iter().enumerate() {
        if !ctx.known_services.contains(s) {
            errs.add(format!("services[{i}]"), format!("no such service '{s}'"));
        } else if !services.contains(s) {
            services.push(s.clone());
        }
    }
    let needs_service = kinds
        .iter()
        .any(|k| matches!(k, HelpKind::ServiceOnboarding | HelpKind::DataMigration));
    if needs_service && draft.services.is_empty() {
        errs.add(
            "services",
            "service onboarding and data migration name at least one service",
        );
    }
    let contact = match &draft.contact {
        None => {
            errs.add("contact", "a contact (name and e-mail) is required");
            None
        }
        Some(c) => {
            let name = errs.take("contact.name", text(&c.name, 200, true));
            let email = errs.take("contact.email", Email::parse(&c.email));
            let phone = match c.phone.as_deref().filter(|p| !p.trim().is_empty()) {
                Some(p) => errs.take("contact.phone", parse_phone(p)).map(Some),
                None => Some(None),
            };
            match (name, email, phone) {
                (Some(name), Some(email), Some(phone)) => Some(Contact {
                    name,
                    email: email.as_str().to_string(),
                    phone,
                }),
                _ => None,
            }
        }
    };
    let zone = errs.take(
        "time_zone",
        IanaZone::parse(draft.time_zone.as_deref().unwrap_or(ctx.tenant_zone)),
    );
    if draft.preferred_windows.len() > MAX_WINDOWS {
        errs.add(
            "preferred_windows",
            format!("at most {MAX_WINDOWS} windows"),
        );
    }
    let mut windows = Vec::new();
    for (i, (a, b)) in draft.preferred_windows.iter().enumerate().take(MAX_WINDOWS) {
        match (a.parse::<Timestamp>(), b.parse::<Timestamp>()) {
            (Ok(s), Ok(e)) if s < e => windows.push((s, e)),
            (Ok(_), Ok(_)) => errs.add(format!("preferred_windows[{i}]"), "a window starts before it ends"),
            _ => errs.add(
                format!("preferred_windows[{i}]"),
                "a window is two RFC 3339 instants, for example [\"2026-12-01T09:00:00Z\", \"2026-12-01T12:00:00Z\"]",
            ),
        }
    }
    let description = errs.take("description", text(&draft.description, 5000, false));
    let wants_migration = kinds.contains(&HelpKind::DataMigration);
    match (&draft.migration, wants_migration) {
        (Some(m), true) => {
            if m.sources.is_empty() {
                errs.add(
                    "migration.sources",
                    "name at least one source environment (R14)",
                );
            }
            if m.sources.len() > 20 {
                errs.add("migration.sources", "at most 20 source environments");
            }
            for (i, s) in m.sources.iter().enumerate() {
                if let Err(msg) = text(&s.name, 200, true) {
                    errs.add(format!("migration.sources[{i}].name"), msg);
                }
            }
            if m.waves.len() > 50 {
                errs.add("migration.waves", "at most 50 waves");
            }
        }
        (None, true) => errs.add(
            "migration",
            "data migration needs its sources and volumes (R14)",
        ),
        (Some(_), false) => errs.add(
            "migration",
            "migration facts go with the data_migration kind of help",
        ),
        (None, false) => {}
    }
    errs.finish()?;
    // R11 comes before eligibility: an unsupported language is refused whatever the tenant.
    let language = Language::parse(&draft.language)?;
    let eligibility = eligibility::ensure_eligible(ctx.subscriptions, ctx.settings, ctx.now)?;
    if let (Some(partner), Filer::Customer) = (ctx.partner_of_record, ctx.filer) {
        return Err(RuleViolation::new(
            Rule::R8,
            "this tenant's onboarding is handled by its partner of record; ask the partner, who files requests on the tenant's behalf",
        )
        .on_field("tenant")
        .with("partner_of_record", partner)
        .into());
    }
    eligibility::ensure_services_eligible(&services, ctx.eligible_services)?;
    if wants_migration && !language.supports_migration() {
        return Err(RuleViolation::new(
            Rule::R17,
            format!(
                "migration help is given in Chinese (Mandarin), English, French, German, Italian, Japanese, Portuguese (Brazil) and Spanish, not in {}",
                language.native_name()
            ),
        )
        .on_field("language")
        .into());
    }
    let (Some(contact), Some(time_zone), Some(description)) = (contact, zone, description) else {
        return Err(Invalid::one("body", "incomplete request").into());
    };
    Ok(Valid {
        kinds,
        services,
        contact,
        language,
        time_zone,
        preferred_windows: windows,
        description,
        migration_level: wants_migration.then_some(eligibility.migration),
        migration: draft.migration.clone(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rules::eligibility::SubscriptionState;
    use crate::rules::migration::SourceKind;

    fn now() -> Timestamp {
        "2026-06-01T10:00:00Z".parse().unwrap()
    }

    fn subs(seats: i64, state: SubscriptionState) -> Vec<SubscriptionFacts> {
        vec![SubscriptionFacts {
            plan: "business".into(),
            paid: true,
            plan_eligible: true,
            seats,
            state,
            starts_at: "2026-01-01T00:00:00Z".parse().unwrap(),
            ends_at: None,
        }]
    }

    fn draft() -> Draft {
        Draft {
            kinds: vec![HelpKind::ServiceOnboarding],
            services: vec!["mail".into()],
            contact: Some(Contact {
                name: "Ada".into(),
                email: "ada@contoso.example".into(),
                phone: Some("+39 02 1234 5678".into()),
            }),
            language: "it".into(),
            time_zone: None,
            preferred_windows: vec![("2026-06-02T07:00:00Z".into(), "2026-06-02T10:00:00Z".into())],
            description: "Help with mail".into(),
            migration: None,
        }
    }

    fn run(
        d: &Draft,
        subs: &[SubscriptionFacts],
        filer: Filer,
        partner: Option<&str>,
    ) -> Result<Valid, Refusal> {
        let eligible = vec!["mail".to_string(), "files".to_string()];
        let known = vec![
            "mail".to_string(),
            "files".to_string(),
            "device-management".to_string(),
        ];
        check(
            d,
            &Context {
                channel: Channel::Api,
                filer,
                tenant_zone: "Europe/Rome",
                partner_of_record: partner,
                subscriptions: subs,
                settings: &EligibilitySettings::default(),
                eligible_services: &eligible,
                known_services: &known,
                now: now(),
            },
        )
    }

    fn rule(r: Result<Valid, Refusal>) -> Rule {
        match r {
            Err(Refusal::Rule(v)) => v.rule,
            other => panic!("expected a rule refusal, got {other:?}"),
        }
    }

    #[test]
    fn a_complete_request_passes_and_takes_the_tenant_zone() {
        let v = run(
            &draft(),
            &subs(300, SubscriptionState::Active),
            Filer::Customer,
            None,
        )
        .unwrap();
        assert_eq!(v.time_zone.as_str(), "Europe/Rome");
        assert_eq!(v.language, Language::Italian);
    }

    #[test]
    fn r1_request_from_an_inactive_subscription_is_refused() {
        assert_eq!(
            rule(run(
                &draft(),
                &subs(300, SubscriptionState::Expired),
                Filer::Customer,
                None
            )),
            Rule::R1
        );
    }

    #[test]
    fn r2_ineligible_service_is_refused() {
        let mut d = draft();
        d.services = vec!["device-management".into()];
        assert_eq!(
            rule(run(
                &d,
                &subs(300, SubscriptionState::Active),
                Filer::Customer,
                None
            )),
            Rule::R2
        );
    }

    #[test]
    fn r11_unsupported_language_is_refused_and_chinese_is_accepted() {
        let mut d = draft();
        d.language = "nl".into();
        assert_eq!(
            rule(run(
                &d,
                &subs(300, SubscriptionState::Active),
                Filer::Customer,
                None
            )),
            Rule::R11
        );
        d.language = "zh-TW".into();
        assert!(run(
            &d,
            &subs(300, SubscriptionState::Active),
            Filer::Customer,
            None
        )
        .is_ok());
    }

    #[test]
    fn r8_a_tenant_with_a_partner_of_record_is_sent_to_its_partner() {
        assert_eq!(
            rule(run(
                &draft(),
                &subs(300, SubscriptionState::Active),
                Filer::Customer,
                Some("p1")
            )),
            Rule::R8
        );
        assert!(run(
            &draft(),
            &subs(300, SubscriptionState::Active),
            Filer::Partner,
            Some("p1")
        )
        .is_ok());
    }

    #[test]
    fn r14_migration_needs_sources_and_r17_its_language() {
        let mut d = draft();
        d.kinds = vec![HelpKind::DataMigration];
        let err = run(
            &d,
            &subs(600, SubscriptionState::Active),
            Filer::Customer,
            None,
        )
        .unwrap_err();
        assert!(
            matches!(err, Refusal::Invalid(ref i) if i.0[0].field == "migration"),
            "{err:?}"
        );
        d.migration = Some(MigrationFacts {
            sources: vec![Source {
                kind: SourceKind::Imap,
                name: "Old mail".into(),
                version: None,
            }],
            volumes: Volumes {
                mailboxes: 400,
                users: 400,
                gigabytes: 900,
                files: 0,
            },
            waves: vec![],
        });
        let v = run(
            &d,
            &subs(600, SubscriptionState::Active),
            Filer::Customer,
            None,
        )
        .unwrap();
        assert_eq!(v.migration_level, Some(MigrationLevel::Full));
        let v = run(
            &d,
            &subs(300, SubscriptionState::Active),
            Filer::Customer,
            None,
        )
        .unwrap();
        assert_eq!(
            v.migration_level,
            Some(MigrationLevel::GuidanceOnly),
            "R1: below 500 seats, guidance only"
        );
        d.language = "ko".into();
        assert_eq!(
            rule(run(
                &d,
                &subs(600, SubscriptionState::Active),
                Filer::Customer,
                None
            )),
            Rule::R17
        );
    }

    #[test]
    fn bad_fields_are_all_reported_together() {
        let mut d = draft();
        d.kinds.clear();
        d.contact = Some(Contact {
            name: "".into(),
            email: "nope".into(),
            phone: Some("call me".into()),
        });
        d.preferred_windows = vec![("2026-06-02T10:00:00Z".into(), "2026-06-02T09:00:00Z".into())];
        d.time_zone = Some("Nowhere/Land".into());
        let Err(Refusal::Invalid(inv)) = run(
            &d,
            &subs(300, SubscriptionState::Active),
            Filer::Customer,
            None,
        ) else {
            panic!("expected field errors");
        };
        let fields: Vec<&str> = inv.0.iter().map(|e| e.field.as_str()).collect();
        assert_eq!(
            fields,
            vec![
                "kinds",
                "contact.name",
                "contact.email",
                "contact.phone",
                "time_zone",
                "preferred_windows[0]"
            ]
        );
    }
}
