//! R6 in one place: programme staff advise; only the customer or its authorised partner changes the tenant.

use serde::{Deserialize, Serialize};

use crate::error::{Rule, RuleViolation};
use crate::role::Role;
use crate::rules::engagement::{OwnerSide, Task, TaskKind};

/// Who is acting on an engagement task, with what R6 needs to know about them.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TaskActor {
    pub user_id: String,
    pub role: Role,
    /// For a partner user: whether the live relationship grants the `own_tenant_tasks` scope (R16).
    pub partner_may_own_tenant_tasks: bool,
}

impl TaskActor {
    /// An actor with `role`; `partner_may_own_tenant_tasks` matters only for partner users.
    pub fn new(user_id: impl Into<String>, role: Role, partner_may_own_tenant_tasks: bool) -> Self {
        Self {
            user_id: user_id.into(),
            role,
            partner_may_own_tenant_tasks,
        }
    }

    /// The side of the engagement the actor stands on.
    pub fn side(&self) -> OwnerSide {
        side_of(self.role)
    }

    /// Whether the actor belongs to the programme (staff or programme admin).
    pub fn is_programme(&self) -> bool {
        self.role.is_staff() || self.role == Role::ProgrammeAdmin
    }
}

/// R6: the side a role stands on; programme admins count as programme staff.
pub fn side_of(role: Role) -> OwnerSide {
    match role {
        Role::CustomerAdmin => OwnerSide::Customer,
        Role::PartnerUser => OwnerSide::Partner,
        Role::FasttrackManager
        | Role::FasttrackSpecialist
        | Role::CenterEngineer
        | Role::ProgrammeAdmin => OwnerSide::Programme,
    }
}

fn refuse(message: impl Into<String>, task: Option<&Task>) -> RuleViolation {
    let v = RuleViolation::new(Rule::R6, message);
    match task {
        Some(t) => v.on_field("task").with("task", t.key.clone()),
        None => v,
    }
}

/// R6: whether `side` may own a task of `kind`; tenant changes belong to the customer or a partner with `own_tenant_tasks`.
pub fn ensure_may_own(
    side: OwnerSide,
    kind: TaskKind,
    partner_may_own_tenant_tasks: bool,
) -> Result<(), RuleViolation> {
    match (kind, side) {
        (TaskKind::Advisory, _) | (TaskKind::TenantChange, OwnerSide::Customer) => Ok(()),
        (TaskKind::TenantChange, OwnerSide::Partner) if partner_may_own_tenant_tasks => Ok(()),
        (TaskKind::TenantChange, OwnerSide::Partner) => Err(refuse(
            "a partner may own tasks that change the customer's tenant only when the customer has granted it the 'own_tenant_tasks' scope",
            None,
        )
        .on_field("owner")),
        (TaskKind::TenantChange, OwnerSide::Programme) => Err(refuse(
            "programme staff never own a task that changes the customer's tenant; it belongs to the customer or its authorised partner",
            None,
        )
        .on_field("owner")),
    }
}

/// R6: whether a user with `role` may be the owner of a task of `kind`.
pub fn ensure_role_may_own(
    role: Role,
    kind: TaskKind,
    partner_may_own_tenant_tasks: bool,
) -> Result<(), RuleViolation> {
    ensure_may_own(side_of(role), kind, partner_may_own_tenant_tasks)
}

/// R6: staff (and programme admins) may complete only advisory tasks owned by the programme side.
pub fn ensure_staff_may_complete(actor: &TaskActor, task: &Task) -> Result<(), RuleViolation> {
    match (task.kind, task.owner) {
        (TaskKind::TenantChange, _) => Err(refuse(
            format!(
                "programme staff never act on the customer's behalf: '{}' changes the customer's tenant, so only the customer or its authorised partner can complete it",
                task.title
            ),
            Some(task),
        )),
        (TaskKind::Advisory, OwnerSide::Programme) => Ok(()),
        (TaskKind::Advisory, owner) => Err(refuse(
            format!(
                "'{}' is owned by the {} side; {} may complete only the programme's own advisory tasks",
                task.title,
                owner.as_str(),
                actor.role.as_str()
            ),
            Some(task),
        )),
    }
}

/// R6: whether `actor` may mark `task` done, whoever they are.
pub fn ensure_may_complete(actor: &TaskActor, task: &Task) -> Result<(), RuleViolation> {
    if actor.is_programme() {
        return ensure_staff_may_complete(actor, task);
    }
    let partner = actor.side() == OwnerSide::Partner;
    match task.kind {
        TaskKind::TenantChange if partner && !actor.partner_may_own_tenant_tasks => Err(refuse(
            format!(
                "'{}' changes the customer's tenant; the customer has not granted this partner the 'own_tenant_tasks' scope",
                task.title
            ),
            Some(task),
        )),
        TaskKind::TenantChange => Ok(()),
        // The programme marks its own work (a workshop held, a plan reviewed); the customer may skip it instead.
        TaskKind::Advisory if task.owner == OwnerSide::Programme => Err(refuse(
            format!(
                "'{}' is the programme's own advisory task; programme staff mark it done",
                task.title
            ),
            Some(task),
        )),
        TaskKind::Advisory => Ok(()),
    }
}

/// R6: whether `actor` may record a deviation (R7) on `task`; staff never deviate on tenant tasks.
pub fn ensure_may_deviate(actor: &TaskActor, task: &Task) -> Result<(), RuleViolation> {
    if actor.is_programme() {
        return match (task.kind, task.owner) {
            (TaskKind::Advisory, OwnerSide::Programme) => Ok(()),
            (TaskKind::TenantChange, _) => Err(refuse(
                format!(
                    "only the customer (or its authorised partner) may deviate from the recommended plan on '{}', a task that changes its tenant",
                    task.title
                ),
                Some(task),
            )),
            (TaskKind::Advisory, _) => Err(refuse(
                format!(
                    "'{}' is not the programme's task; only the customer (or its partner) may deviate on it",
                    task.title
                ),
                Some(task),
            )),
        };
    }
    if task.kind == TaskKind::TenantChange
        && actor.side() == OwnerSide::Partner
        && !actor.partner_may_own_tenant_tasks
    {
        return Err(refuse(
            format!(
                "'{}' changes the customer's tenant; the customer has not granted this partner the 'own_tenant_tasks' scope",
                task.title
            ),
            Some(task),
        ));
    }
    Ok(())
}

/// R6: whether `actor` may hand `task` to `new_owner`; tenant tasks are handed over only by the customer side.
pub fn ensure_may_reassign(
    actor: &TaskActor,
    task: &Task,
    new_owner: OwnerSide,
) -> Result<(), RuleViolation> {
    if task.kind == TaskKind::TenantChange && actor.is_programme() {
        return Err(refuse(
            format!(
                "programme staff cannot assign '{}', a task that changes the customer's tenant",
                task.title
            ),
            Some(task),
        ));
    }
    ensure_may_own(new_owner, task.kind, actor.partner_may_own_tenant_tasks)
        .map_err(|v| v.with("task", task.key.clone()))
}

/// R6: staff comment on any task and so do the customer and its partner; nothing here changes the tenant.
pub fn ensure_may_comment(_actor: &TaskActor, _task: &Task) -> Result<(), RuleViolation> {
    Ok(())
}

/// R6: written guidance is attached by programme staff (and admins), the advisory side of the programme.
pub fn ensure_may_attach_guidance(actor: &TaskActor, task: &Task) -> Result<(), RuleViolation> {
    if actor.is_programme() {
        Ok(())
    } else {
        Err(refuse(
            "guidance is attached by programme staff; the customer and its partner can comment",
            Some(task),
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rules::engagement::{Phase, TaskState};

    fn task(kind: TaskKind, owner: OwnerSide) -> Task {
        Task {
            key: "core.configure-tenant".into(),
            title: "Configure the tenant".into(),
            phase: Phase::Enable,
            owner,
            kind,
            guidance: String::new(),
            links: Vec::new(),
            depends_on: Vec::new(),
            starts_on: jiff::civil::date(2026, 6, 1),
            due_on: jiff::civil::date(2026, 6, 5),
            state: TaskState::Open,
            chosen_option: None,
            done_by: None,
            done_by_role: None,
            done_at: None,
        }
    }

    fn actor(role: Role, may_own: bool) -> TaskActor {
        TaskActor::new("u1", role, may_own)
    }

    const STAFF: [Role; 4] = [
        Role::FasttrackManager,
        Role::FasttrackSpecialist,
        Role::CenterEngineer,
        Role::ProgrammeAdmin,
    ];

    #[test]
    fn r6_staff_can_never_own_a_tenant_change_task() {
        for role in STAFF {
            let err = ensure_role_may_own(role, TaskKind::TenantChange, true).unwrap_err();
            assert_eq!(err.rule, Rule::R6);
            assert!(err.message.contains("never own"), "{}", err.message);
        }
    }

    #[test]
    fn r6_customer_owns_tenant_change_tasks() {
        assert!(ensure_role_may_own(Role::CustomerAdmin, TaskKind::TenantChange, false).is_ok());
    }

    #[test]
    fn r6_partner_owns_tenant_tasks_only_with_the_own_tenant_tasks_scope() {
        assert!(ensure_may_own(OwnerSide::Partner, TaskKind::TenantChange, true).is_ok());
        let err = ensure_may_own(OwnerSide::Partner, TaskKind::TenantChange, false).unwrap_err();
        assert!(err.message.contains("own_tenant_tasks"), "{}", err.message);
    }

    #[test]
    fn r6_anyone_may_own_an_advisory_task() {
        for side in [
            OwnerSide::Customer,
            OwnerSide::Partner,
            OwnerSide::Programme,
        ] {
            assert!(ensure_may_own(side, TaskKind::Advisory, false).is_ok());
        }
    }

    #[test]
    fn r6_staff_cannot_complete_a_tenant_change_task_whoever_owns_it() {
        for role in STAFF {
            for owner in [
                OwnerSide::Customer,
                OwnerSide::Partner,
                OwnerSide::Programme,
            ] {
                let err =
                    ensure_may_complete(&actor(role, true), &task(TaskKind::TenantChange, owner))
                        .unwrap_err();
                assert_eq!(err.rule, Rule::R6);
                assert_eq!(err.field.as_deref(), Some("task"));
            }
        }
    }

    #[test]
    fn r6_staff_complete_their_own_advisory_tasks() {
        for role in STAFF {
            let t = task(TaskKind::Advisory, OwnerSide::Programme);
            assert!(ensure_staff_may_complete(&actor(role, false), &t).is_ok());
        }
    }

    #[test]
    fn r6_staff_cannot_complete_the_customers_advisory_task() {
        let t = task(TaskKind::Advisory, OwnerSide::Customer);
        assert!(ensure_may_complete(&actor(Role::FasttrackSpecialist, false), &t).is_err());
    }

    #[test]
    fn r6_customer_completes_tenant_changes_and_partner_needs_the_scope() {
        let t = task(TaskKind::TenantChange, OwnerSide::Customer);
        assert!(ensure_may_complete(&actor(Role::CustomerAdmin, false), &t).is_ok());
        assert!(ensure_may_complete(&actor(Role::PartnerUser, true), &t).is_ok());
        let err = ensure_may_complete(&actor(Role::PartnerUser, false), &t).unwrap_err();
        assert_eq!(err.rule, Rule::R6);
    }

    #[test]
    fn r6_customer_does_not_mark_the_programmes_advisory_task_done() {
        let t = task(TaskKind::Advisory, OwnerSide::Programme);
        assert!(ensure_may_complete(&actor(Role::CustomerAdmin, false), &t).is_err());
    }

    #[test]
    fn r6_staff_cannot_deviate_on_a_tenant_task() {
        let t = task(TaskKind::TenantChange, OwnerSide::Customer);
        assert!(ensure_may_deviate(&actor(Role::FasttrackManager, false), &t).is_err());
        assert!(ensure_may_deviate(&actor(Role::CustomerAdmin, false), &t).is_ok());
    }

    #[test]
    fn r6_staff_cannot_hand_a_tenant_task_to_anyone() {
        let t = task(TaskKind::TenantChange, OwnerSide::Customer);
        assert!(
            ensure_may_reassign(&actor(Role::CenterEngineer, true), &t, OwnerSide::Partner)
                .is_err()
        );
        assert!(
            ensure_may_reassign(&actor(Role::CustomerAdmin, true), &t, OwnerSide::Partner).is_ok()
        );
        assert!(
            ensure_may_reassign(&actor(Role::CustomerAdmin, true), &t, OwnerSide::Programme)
                .is_err()
        );
    }

    #[test]
    fn r6_staff_comment_and_attach_guidance_on_tenant_tasks() {
        let t = task(TaskKind::TenantChange, OwnerSide::Customer);
        let staff = actor(Role::FasttrackSpecialist, false);
        assert!(ensure_may_comment(&staff, &t).is_ok());
        assert!(ensure_may_attach_guidance(&staff, &t).is_ok());
        assert!(ensure_may_attach_guidance(&actor(Role::CustomerAdmin, false), &t).is_err());
    }
}
