//! Who may do what, for which tenant: the one place authorization is decided (R6 aside, R9 partners).
//!
//! Handlers name the resource, the action and the tenant the data belongs to; the policy answers
//! with a grant (saying for whom a partner acts) or a denial. A denial for a tenant the caller may
//! not even see is `Hidden`, so that the API answers 404 and leaks nothing about other tenants.

use jiff::Timestamp;
use serde::Serialize;

use crate::role::{OrgKind, Role};
use crate::rules::relationship::{Relationship, ScopeAction};

/// The signed-in caller.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Actor {
    pub user_id: String,
    pub org_id: String,
    pub role: Role,
}

/// What the caller wants to touch.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Resource {
    Organization,
    Subscription,
    /// Services, plans and which plan makes which service eligible.
    Catalogue,
    /// Regions, calendars, templates, webhooks: how the programme runs.
    ProgrammeSettings,
    Relationship,
    User,
    AuditLog,
    Request,
    Engagement,
    Meeting,
}

impl Resource {
    /// Every resource, for matrices.
    pub const ALL: [Resource; 10] = [
        Resource::Organization,
        Resource::Subscription,
        Resource::Catalogue,
        Resource::ProgrammeSettings,
        Resource::Relationship,
        Resource::User,
        Resource::AuditLog,
        Resource::Request,
        Resource::Engagement,
        Resource::Meeting,
    ];
}

/// What the caller wants to do.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Action {
    Read,
    Create,
    Update,
}

/// Whose data it is.
#[derive(Debug, Clone, Copy)]
pub enum Owner<'a> {
    /// Programme-wide data (the catalogue, settings), or a list across tenants that the store filters.
    Programme,
    /// Data of one organization; `link` is the relationship between the caller's partner organization
    /// and that organization, when there is one.
    Org {
        id: &'a str,
        kind: OrgKind,
        link: Option<&'a Relationship>,
    },
}

/// Permission granted; says for which customer a partner acts (R9: both are recorded).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Grant {
    pub acting_for: Option<String>,
}

/// Permission refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Denied {
    /// The caller may not know the data exists (another tenant).
    #[error("not found")]
    Hidden,
    /// The caller can see the data but may not do this to it.
    #[error("{0}")]
    Forbidden(String),
}

fn allow() -> Result<Grant, Denied> {
    Ok(Grant { acting_for: None })
}

fn forbid(role: Role, action: Action, resource: Resource) -> Result<Grant, Denied> {
    Err(Denied::Forbidden(format!(
        "a {} may not {} {}",
        role.as_str(),
        match action {
            Action::Read => "read",
            Action::Create => "create",
            Action::Update => "change",
        },
        match resource {
            Resource::Organization => "organizations",
            Resource::Subscription => "subscriptions",
            Resource::Catalogue => "the service catalogue",
            Resource::ProgrammeSettings => "programme settings",
            Resource::Relationship => "partner relationships",
            Resource::User => "users",
            Resource::AuditLog => "the audit log",
            Resource::Request => "requests",
            Resource::Engagement => "engagements",
            Resource::Meeting => "meetings",
        }
    )))
}

/// Decides whether `actor` may do `action` on `resource` owned by `owner` (for `service`, when the
/// data concerns one), at `now`.
pub fn authorize(
    actor: &Actor,
    action: Action,
    resource: Resource,
    owner: Owner<'_>,
    service: Option<&str>,
    now: Timestamp,
) -> Result<Grant, Denied> {
    use Action::*;
    use Resource::*;
    let role = actor.role;
    if role == Role::ProgrammeAdmin {
        return allow();
    }
    // Programme-wide data: readable by every signed-in user, changed only by programme admins.
    if let Owner::Programme = owner {
        return match (resource, action) {
            (Catalogue | ProgrammeSettings, Read) => allow(),
            // Lists across tenants: staff see all; others get lists the store narrows to what they may see.
            (_, Read) if resource != AuditLog || !role.is_staff() => allow(),
            _ => forbid(role, action, resource),
        };
    }
    let Owner::Org { id, kind, link } = owner else {
        return Err(Denied::Hidden);
    };
    if role.is_staff() {
        return match (resource, action) {
            (AuditLog, _) => forbid(role, action, resource),
            (Request | Engagement | Meeting, _) => allow(),
            (_, Read) => allow(),
            _ => forbid(role, action, resource),
        };
    }
    let own = id == actor.org_id;
    // Partners form a public directory for signed-in users: their name and domains, nothing more.
    if !own && kind == OrgKind::Partner {
        return match (resource, action) {
            (Organization, Read) => allow(),
            _ => Err(Denied::Hidden),
        };
    }
    match role {
        Role::CustomerAdmin => {
            if !own {
                return Err(Denied::Hidden);
            }
            match (resource, action) {
                (Organization | User | Request | Engagement | Meeting, _) => allow(),
                (Relationship, Read | Update) => allow(),
                (Subscription | AuditLog | Catalogue | ProgrammeSettings, Read) => allow(),
                _ => forbid(role, action, resource),
            }
        }
        Role::PartnerUser => {
            if own {
                return match (resource, action) {
                    (Organization, Read | Update) => allow(),
                    (Relationship, _) => allow(),
                    (User | AuditLog, Read) => allow(),
                    _ => forbid(role, action, resource),
                };
            }
            // R9: a customer is visible only through a live relationship that covers the scope.
            let Some(rel) = link.filter(|r| r.allows(ScopeAction::View, None, now)) else {
                return Err(Denied::Hidden);
            };
            let needed = match (resource, action) {
                (Organization | Subscription | Request | Engagement | Meeting, Read) => {
                    ScopeAction::View
                }
                (Relationship, Read | Update) => ScopeAction::View,
                (Request | Meeting, Create | Update) => ScopeAction::FileRequests,
                (Engagement, Update) => ScopeAction::OwnTenantTasks,
                _ => return forbid(role, action, resource),
            };
            if rel.allows(needed, service, now) {
                Ok(Grant {
                    acting_for: Some(id.to_string()),
                })
            } else {
                Err(Denied::Forbidden(format!(
                    "the relationship with this customer does not grant '{}'{}",
                    needed.as_str(),
                    service
                        .map(|s| format!(" for service '{s}'"))
                        .unwrap_or_default()
                )))
            }
        }
        _ => Err(Denied::Hidden),
    }
}

/// Who may configure an organization's identity provider (OpenID Connect sign-in): its own admin
/// (a customer's admin, a partner's user), and programme admins for any organization, the
/// programme's own included. Staff may not; other tenants may not know the organization exists.
pub fn authorize_identity_provider(
    actor: &Actor,
    org_id: &str,
    kind: OrgKind,
) -> Result<(), Denied> {
    let own = actor.org_id == org_id;
    match actor.role {
        Role::ProgrammeAdmin => Ok(()),
        Role::CustomerAdmin if own && kind == OrgKind::Customer => Ok(()),
        Role::PartnerUser if own && kind == OrgKind::Partner => Ok(()),
        role if role.is_staff() || own || kind == OrgKind::Partner => {
            Err(Denied::Forbidden(format!(
                "a {} may not configure this organization's sign-in",
                role.as_str()
            )))
        }
        _ => Err(Denied::Hidden),
    }
}

/// Which role a first sign-in through an organization's identity provider may create: the one
/// role of a customer (its admin) or a partner (its user). `None` creates nobody (only existing
/// users sign in). Nobody is ever created in the programme's own organization: staff need a
/// region and languages a provider cannot know, and an identity provider must never mint
/// programme admins.
pub fn check_sign_in_role(kind: OrgKind, role: Option<Role>) -> Result<(), String> {
    match (kind, role) {
        (_, None) => Ok(()),
        (OrgKind::Customer, Some(Role::CustomerAdmin)) => Ok(()),
        (OrgKind::Partner, Some(Role::PartnerUser)) => Ok(()),
        (OrgKind::Programme, Some(r)) => Err(format!(
            "a first sign-in never creates programme users ('{}'); add staff and admins yourself",
            r.as_str()
        )),
        (k, Some(r)) => Err(format!(
            "a {} organization's users cannot have the role '{}'",
            k.as_str(),
            r.as_str()
        )),
    }
}

/// Whether `actor` may end every session of a user with `target_role` in the organization
/// `owner`: whoever may change the user may sign them out everywhere, except that programme
/// staff are signed out only by a programme admin (as only they change staff). Everyone may end
/// their own sessions.
pub fn end_sessions(
    actor: &Actor,
    target_user_id: &str,
    target_role: Role,
    owner: Owner<'_>,
    now: Timestamp,
) -> Result<Grant, Denied> {
    if target_user_id == actor.user_id {
        return allow();
    }
    let grant = authorize(actor, Action::Update, Resource::User, owner, None, now)?;
    if target_role.is_programme() && actor.role != Role::ProgrammeAdmin {
        return Err(Denied::Forbidden(
            "only programme admins sign programme staff out".into(),
        ));
    }
    Ok(grant)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rules::relationship::Scopes;
    use std::collections::BTreeMap;

    const NOW: &str = "2026-06-01T12:00:00Z";

    fn now() -> Timestamp {
        NOW.parse().unwrap()
    }

    /// How the caller stands to the data's owner in the matrix.
    #[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
    enum Standing {
        OwnOrg,
        OtherCustomer,
        LiveLink,
        ExpiredLink,
        RevokedLink,
    }

    fn relationship(standing: Standing) -> Option<Relationship> {
        let t0: Timestamp = "2026-01-01T00:00:00Z".parse().unwrap();
        let scopes = Scopes {
            actions: vec![ScopeAction::View, ScopeAction::FileRequests],
            services: None,
        };
        let mut r = Relationship::ask(scopes, 365, t0).ok()?;
        match standing {
            Standing::LiveLink => r.approve(None, None, t0).ok()?,
            Standing::ExpiredLink => r.approve(None, Some(30), t0).ok()?,
            Standing::RevokedLink => {
                r.approve(None, None, t0).ok()?;
                r.end("2026-03-01T00:00:00Z".parse().unwrap()).ok()?;
            }
            _ => return None,
        }
        Some(r)
    }

    fn decide(role: Role, standing: Standing, resource: Resource, action: Action) -> &'static str {
        let actor = Actor {
            user_id: "u".into(),
            org_id: match role {
                Role::CustomerAdmin => "cust-a".into(),
                Role::PartnerUser => "partner-p".into(),
                _ => "programme".into(),
            },
            role,
        };
        let link = relationship(standing);
        let id = match (standing, role) {
            (Standing::OwnOrg, _) => actor.org_id.clone(),
            _ => "cust-b".to_string(),
        };
        let kind = match (standing, role) {
            (Standing::OwnOrg, Role::PartnerUser) => OrgKind::Partner,
            (Standing::OwnOrg, r) if r.is_programme() => OrgKind::Programme,
            _ => OrgKind::Customer,
        };
        let owner = Owner::Org {
            id: &id,
            kind,
            link: link.as_ref(),
        };
        match authorize(&actor, action, resource, owner, None, now()) {
            Ok(g) if g.acting_for.is_some() => "for",
            Ok(_) => "ok",
            Err(Denied::Hidden) => "404",
            Err(Denied::Forbidden(_)) => "403",
        }
    }

    /// The expected decision for every role × standing × resource, for read and write (create/update).
    /// Columns: Organization, Subscription, Catalogue, ProgrammeSettings, Relationship, User, AuditLog,
    /// Request, Engagement, Meeting. Each cell is "read/create/update".
    fn expected() -> BTreeMap<(Role, Standing), [&'static str; 10]> {
        use Standing::*;
        let mut m = BTreeMap::new();
        let all_ok = ["ok/ok/ok"; 10];
        for s in [OwnOrg, OtherCustomer, LiveLink, ExpiredLink, RevokedLink] {
            m.insert((Role::ProgrammeAdmin, s), all_ok);
            for staff in [
                Role::FasttrackManager,
                Role::FasttrackSpecialist,
                Role::CenterEngineer,
            ] {
                m.insert(
                    (staff, s),
                    [
                        "ok/403/403",
                        "ok/403/403",
                        "ok/403/403",
                        "ok/403/403",
                        "ok/403/403",
                        "ok/403/403",
                        "403/403/403",
                        "ok/ok/ok",
                        "ok/ok/ok",
                        "ok/ok/ok",
                    ],
                );
            }
        }
        let customer_own = [
            "ok/ok/ok",
            "ok/403/403",
            "ok/403/403",
            "ok/403/403",
            "ok/403/ok",
            "ok/ok/ok",
            "ok/403/403",
            "ok/ok/ok",
            "ok/ok/ok",
            "ok/ok/ok",
        ];
        m.insert((Role::CustomerAdmin, OwnOrg), customer_own);
        for s in [OtherCustomer, LiveLink, ExpiredLink, RevokedLink] {
            m.insert((Role::CustomerAdmin, s), ["404/404/404"; 10]);
        }
        m.insert(
            (Role::PartnerUser, OwnOrg),
            [
                "ok/403/ok",
                "403/403/403",
                "403/403/403",
                "403/403/403",
                "ok/ok/ok",
                "ok/403/403",
                "ok/403/403",
                "403/403/403",
                "403/403/403",
                "403/403/403",
            ],
        );
        for s in [OtherCustomer, ExpiredLink, RevokedLink] {
            m.insert((Role::PartnerUser, s), ["404/404/404"; 10]);
        }
        // The live link grants view and file_requests, but not own_tenant_tasks.
        m.insert(
            (Role::PartnerUser, LiveLink),
            [
                "for/403/403",
                "for/403/403",
                "403/403/403",
                "403/403/403",
                "for/403/for",
                "403/403/403",
                "403/403/403",
                "for/for/for",
                "for/403/403",
                "for/for/for",
            ],
        );
        m
    }

    #[test]
    fn authorization_matrix_every_role_resource_and_tenant_standing() {
        let mut failures = Vec::new();
        for ((role, standing), row) in expected() {
            for (i, resource) in Resource::ALL.into_iter().enumerate() {
                let got = [Action::Read, Action::Create, Action::Update]
                    .map(|a| decide(role, standing, resource, a))
                    .join("/");
                if got != row[i] {
                    failures.push(format!(
                        "{role:?} {standing:?} {resource:?}: expected {} got {got}",
                        row[i]
                    ));
                }
            }
        }
        assert!(failures.is_empty(), "{}", failures.join("\n"));
    }

    #[test]
    fn r9_partner_link_limited_to_a_service_does_not_cover_another() {
        let t0: Timestamp = "2026-01-01T00:00:00Z".parse().unwrap();
        let mut r = Relationship::ask(
            Scopes {
                actions: vec![ScopeAction::FileRequests],
                services: Some(vec!["mail".into()]),
            },
            365,
            t0,
        )
        .unwrap();
        r.approve(None, None, t0).unwrap();
        let actor = Actor {
            user_id: "u".into(),
            org_id: "p".into(),
            role: Role::PartnerUser,
        };
        let owner = Owner::Org {
            id: "c",
            kind: OrgKind::Customer,
            link: Some(&r),
        };
        assert!(authorize(
            &actor,
            Action::Create,
            Resource::Request,
            owner,
            Some("mail"),
            now()
        )
        .is_ok());
        assert!(matches!(
            authorize(
                &actor,
                Action::Create,
                Resource::Request,
                owner,
                Some("files"),
                now()
            ),
            Err(Denied::Forbidden(_))
        ));
    }

    #[test]
    fn programme_wide_lists_are_readable_but_only_admins_change_the_catalogue() {
        let actor = Actor {
            user_id: "u".into(),
            org_id: "c".into(),
            role: Role::CustomerAdmin,
        };
        assert!(authorize(
            &actor,
            Action::Read,
            Resource::Catalogue,
            Owner::Programme,
            None,
            now()
        )
        .is_ok());
        assert!(authorize(
            &actor,
            Action::Create,
            Resource::Catalogue,
            Owner::Programme,
            None,
            now()
        )
        .is_err());
        let staff = Actor {
            role: Role::FasttrackManager,
            ..actor
        };
        assert!(authorize(
            &staff,
            Action::Read,
            Resource::AuditLog,
            Owner::Programme,
            None,
            now()
        )
        .is_err());
    }

    fn actor(role: Role, org: &str) -> Actor {
        Actor {
            user_id: "u".into(),
            org_id: org.into(),
            role,
        }
    }

    #[test]
    fn only_the_organizations_admin_or_a_programme_admin_configures_its_identity_provider() {
        use OrgKind::*;
        let decide = |role: Role, org_of_actor: &str, org: &str, kind: OrgKind| {
            match authorize_identity_provider(&actor(role, org_of_actor), org, kind) {
                Ok(()) => "ok",
                Err(Denied::Hidden) => "404",
                Err(Denied::Forbidden(_)) => "403",
            }
        };
        assert_eq!(decide(Role::CustomerAdmin, "c", "c", Customer), "ok");
        assert_eq!(decide(Role::CustomerAdmin, "c", "d", Customer), "404");
        assert_eq!(decide(Role::CustomerAdmin, "c", "p", Partner), "403");
        assert_eq!(decide(Role::CustomerAdmin, "c", "prog", Programme), "404");
        assert_eq!(decide(Role::PartnerUser, "p", "p", Partner), "ok");
        assert_eq!(decide(Role::PartnerUser, "p", "c", Customer), "404");
        assert_eq!(decide(Role::PartnerUser, "p", "q", Partner), "403");
        assert_eq!(
            decide(Role::ProgrammeAdmin, "prog", "prog", Programme),
            "ok"
        );
        assert_eq!(decide(Role::ProgrammeAdmin, "prog", "c", Customer), "ok");
        for staff in [
            Role::FasttrackManager,
            Role::FasttrackSpecialist,
            Role::CenterEngineer,
        ] {
            assert_eq!(decide(staff, "prog", "prog", Programme), "403");
            assert_eq!(decide(staff, "prog", "c", Customer), "403");
        }
    }

    #[test]
    fn a_first_sign_in_creates_only_the_organizations_own_role_and_never_programme_users() {
        use OrgKind::*;
        assert!(check_sign_in_role(Customer, Some(Role::CustomerAdmin)).is_ok());
        assert!(check_sign_in_role(Partner, Some(Role::PartnerUser)).is_ok());
        for kind in [Customer, Partner, Programme] {
            assert!(check_sign_in_role(kind, None).is_ok());
            assert!(check_sign_in_role(kind, Some(Role::ProgrammeAdmin)).is_err());
            assert!(check_sign_in_role(kind, Some(Role::FasttrackManager)).is_err());
        }
        assert!(check_sign_in_role(Customer, Some(Role::PartnerUser)).is_err());
        assert!(check_sign_in_role(Partner, Some(Role::CustomerAdmin)).is_err());
        assert!(check_sign_in_role(Programme, Some(Role::CenterEngineer)).is_err());
    }

    #[test]
    fn sessions_are_ended_by_the_user_or_by_whoever_may_change_the_user() {
        let actor = |role: Role, org: &str| Actor {
            user_id: format!("{}-u", role.as_str()),
            org_id: org.into(),
            role,
        };
        let cust = Owner::Org {
            id: "cust-a",
            kind: OrgKind::Customer,
            link: None,
        };
        let programme = Owner::Org {
            id: "prog",
            kind: OrgKind::Programme,
            link: None,
        };
        let admin_a = actor(Role::CustomerAdmin, "cust-a");
        assert!(end_sessions(&admin_a, "other", Role::CustomerAdmin, cust, now()).is_ok());
        assert!(end_sessions(
            &admin_a,
            "customer_admin-u",
            Role::CustomerAdmin,
            cust,
            now()
        )
        .is_ok());
        let admin_b = actor(Role::CustomerAdmin, "cust-b");
        assert_eq!(
            end_sessions(&admin_b, "other", Role::CustomerAdmin, cust, now()),
            Err(Denied::Hidden),
            "another tenant's users are invisible"
        );
        let manager = actor(Role::FasttrackManager, "prog");
        assert!(matches!(
            end_sessions(&manager, "other", Role::CustomerAdmin, cust, now()),
            Err(Denied::Forbidden(_))
        ));
        assert!(matches!(
            end_sessions(&manager, "other", Role::CenterEngineer, programme, now()),
            Err(Denied::Forbidden(_))
        ));
        let pa = actor(Role::ProgrammeAdmin, "prog");
        assert!(end_sessions(&pa, "other", Role::CenterEngineer, programme, now()).is_ok());
        assert!(end_sessions(&pa, "other", Role::CustomerAdmin, cust, now()).is_ok());
    }
}
