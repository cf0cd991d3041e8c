//! Who a user is in the programme (SPEC §1) and which kind of organization they belong to.

use serde::{Deserialize, Serialize};

/// The kind of an organization: a customer tenant, a partner, or the programme itself (the vendor's center).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub enum OrgKind {
    Customer,
    Partner,
    Programme,
}

/// A user's role (SPEC §1).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub enum Role {
    CustomerAdmin,
    PartnerUser,
    FasttrackManager,
    FasttrackSpecialist,
    CenterEngineer,
    ProgrammeAdmin,
}

impl Role {
    /// Every role, for matrices and forms.
    pub const ALL: [Role; 6] = [
        Role::CustomerAdmin,
        Role::PartnerUser,
        Role::FasttrackManager,
        Role::FasttrackSpecialist,
        Role::CenterEngineer,
        Role::ProgrammeAdmin,
    ];

    /// The stored name.
    pub fn as_str(self) -> &'static str {
        match self {
            Role::CustomerAdmin => "customer_admin",
            Role::PartnerUser => "partner_user",
            Role::FasttrackManager => "fasttrack_manager",
            Role::FasttrackSpecialist => "fasttrack_specialist",
            Role::CenterEngineer => "center_engineer",
            Role::ProgrammeAdmin => "programme_admin",
        }
    }

    /// Parses a stored name.
    pub fn parse(s: &str) -> Result<Role, String> {
        Role::ALL
            .into_iter()
            .find(|r| r.as_str() == s)
            .ok_or_else(|| {
                format!(
                    "unknown role '{s}'; one of: {}",
                    Role::ALL.map(|r| r.as_str()).join(", ")
                )
            })
    }

    /// Programme staff who deliver the service (not the admin, not customers or partners).
    pub fn is_staff(self) -> bool {
        matches!(
            self,
            Role::FasttrackManager | Role::FasttrackSpecialist | Role::CenterEngineer
        )
    }

    /// Whether the role belongs to the programme's own organization.
    pub fn is_programme(self) -> bool {
        self.is_staff() || self == Role::ProgrammeAdmin
    }

    /// The kind of organization a user with this role must belong to.
    pub fn org_kind(self) -> OrgKind {
        match self {
            Role::CustomerAdmin => OrgKind::Customer,
            Role::PartnerUser => OrgKind::Partner,
            _ => OrgKind::Programme,
        }
    }
}

impl OrgKind {
    /// The stored name.
    pub fn as_str(self) -> &'static str {
        match self {
            OrgKind::Customer => "customer",
            OrgKind::Partner => "partner",
            OrgKind::Programme => "programme",
        }
    }

    /// Parses a stored name.
    pub fn parse(s: &str) -> Result<OrgKind, String> {
        match s {
            "customer" => Ok(OrgKind::Customer),
            "partner" => Ok(OrgKind::Partner),
            "programme" => Ok(OrgKind::Programme),
            _ => Err(format!(
                "unknown organization kind '{s}'; one of: customer, partner, programme"
            )),
        }
    }
}
