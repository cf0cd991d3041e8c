//! The lifecycle of a request for assistance (SPEC §3 "Requests"), as a state machine.
//!
//! `submitted → accepted → scheduled → in_progress → completed`, or `declined` (with a reason) /
//! `withdrawn`. While the team waits for the requester's answer a request stays `submitted` with
//! `awaiting_requester` set: the R15 clock pauses then.

use serde::{Deserialize, Serialize};

/// Where a request is in its lifecycle.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub enum RequestState {
    Submitted,
    Accepted,
    Scheduled,
    InProgress,
    Completed,
    Declined,
    Withdrawn,
}

impl RequestState {
    /// Every state.
    pub const ALL: [RequestState; 7] = [
        RequestState::Submitted,
        RequestState::Accepted,
        RequestState::Scheduled,
        RequestState::InProgress,
        RequestState::Completed,
        RequestState::Declined,
        RequestState::Withdrawn,
    ];

    /// The stored name.
    pub fn as_str(self) -> &'static str {
        match self {
            RequestState::Submitted => "submitted",
            RequestState::Accepted => "accepted",
            RequestState::Scheduled => "scheduled",
            RequestState::InProgress => "in_progress",
            RequestState::Completed => "completed",
            RequestState::Declined => "declined",
            RequestState::Withdrawn => "withdrawn",
        }
    }

    /// Parses a stored name.
    pub fn parse(s: &str) -> Result<RequestState, String> {
        RequestState::ALL
            .into_iter()
            .find(|x| x.as_str() == s)
            .ok_or_else(|| format!("unknown request state '{s}'"))
    }

    /// Whether the request is finished (no further transition).
    pub fn is_final(self) -> bool {
        matches!(
            self,
            RequestState::Completed | RequestState::Declined | RequestState::Withdrawn
        )
    }
}

/// Something that happens to a request.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RequestEvent {
    /// Staff take it up, assigning a FastTrack Manager.
    Accept,
    /// Staff refuse it, with a reason.
    Decline,
    /// Staff ask the requester for more information.
    AskInfo,
    /// The requester answers a question.
    Respond,
    /// The requester withdraws it.
    Withdraw,
    /// Its first meeting is booked.
    Schedule,
    /// Its first meeting was held; the work is under way.
    Start,
    /// The work is done.
    Complete,
}

impl RequestEvent {
    /// The name used in the API and the audit log.
    pub fn as_str(self) -> &'static str {
        match self {
            RequestEvent::Accept => "accept",
            RequestEvent::Decline => "decline",
            RequestEvent::AskInfo => "ask_info",
            RequestEvent::Respond => "respond",
            RequestEvent::Withdraw => "withdraw",
            RequestEvent::Schedule => "schedule",
            RequestEvent::Start => "start",
            RequestEvent::Complete => "complete",
        }
    }
}

/// Who causes an event: the programme's staff or the requester's side (customer or partner).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EventSide {
    Programme,
    Requester,
}

/// A request's position: its state and whether the team waits for the requester.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Position {
    pub state: RequestState,
    pub awaiting_requester: bool,
}

/// An illegal transition (answered with 409).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("a request that is {} cannot {}{}", .from.as_str(), .event.as_str().replace('_', " "), .why)]
pub struct IllegalTransition {
    pub from: RequestState,
    pub event: RequestEvent,
    pub why: String,
}

/// Applies `event` by `side` to a request at `pos`; returns the new position or why it is illegal.
pub fn apply(
    pos: Position,
    event: RequestEvent,
    side: EventSide,
) -> Result<Position, IllegalTransition> {
    use RequestEvent as E;
    use RequestState as S;
    let illegal = |why: &str| IllegalTransition {
        from: pos.state,
        event,
        why: why.to_string(),
    };
    let needs = |wanted: EventSide| -> Result<(), IllegalTransition> {
        if side == wanted {
            Ok(())
        } else if wanted == EventSide::Programme {
            Err(illegal(": only the programme's staff may"))
        } else {
            Err(illegal(": only the requester (customer or partner) may"))
        }
    };
    let to = |state: RequestState| Position {
        state,
        awaiting_requester: false,
    };
    match (pos.state, event) {
        (S::Submitted, E::Accept) => needs(EventSide::Programme).map(|_| to(S::Accepted)),
        (S::Submitted, E::Decline) => needs(EventSide::Programme).map(|_| to(S::Declined)),
        (S::Submitted | S::Accepted, E::AskInfo) => needs(EventSide::Programme).map(|_| Position {
            state: pos.state,
            awaiting_requester: true,
        }),
        (_, E::Respond) if pos.awaiting_requester => {
            needs(EventSide::Requester).map(|_| Position {
                state: pos.state,
                awaiting_requester: false,
            })
        }
        (_, E::Respond) => Err(illegal(": nobody asked a question")),
        (S::Submitted | S::Accepted | S::Scheduled, E::Withdraw) => {
            needs(EventSide::Requester).map(|_| to(S::Withdrawn))
        }
        (S::Accepted, E::Schedule) => Ok(to(S::Scheduled)),
        (S::Scheduled, E::Start) => needs(EventSide::Programme).map(|_| to(S::InProgress)),
        (S::InProgress, E::Complete) => needs(EventSide::Programme).map(|_| to(S::Completed)),
        (s, _) if s.is_final() => Err(illegal(": it is finished")),
        _ => Err(illegal("")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn at(state: RequestState) -> Position {
        Position {
            state,
            awaiting_requester: false,
        }
    }

    #[test]
    fn the_happy_path_runs_from_submitted_to_completed() {
        let mut p = at(RequestState::Submitted);
        for (e, side) in [
            (RequestEvent::Accept, EventSide::Programme),
            (RequestEvent::Schedule, EventSide::Programme),
            (RequestEvent::Start, EventSide::Programme),
            (RequestEvent::Complete, EventSide::Programme),
        ] {
            p = apply(p, e, side).unwrap();
        }
        assert_eq!(p.state, RequestState::Completed);
    }

    #[test]
    fn a_declined_request_cannot_be_accepted() {
        let p = apply(
            at(RequestState::Submitted),
            RequestEvent::Decline,
            EventSide::Programme,
        )
        .unwrap();
        let err = apply(p, RequestEvent::Accept, EventSide::Programme).unwrap_err();
        assert!(err.to_string().contains("declined"), "{err}");
    }

    #[test]
    fn only_staff_accept_and_only_the_requester_withdraws() {
        assert!(apply(
            at(RequestState::Submitted),
            RequestEvent::Accept,
            EventSide::Requester
        )
        .is_err());
        assert!(apply(
            at(RequestState::Submitted),
            RequestEvent::Withdraw,
            EventSide::Programme
        )
        .is_err());
        assert!(apply(
            at(RequestState::Scheduled),
            RequestEvent::Withdraw,
            EventSide::Requester
        )
        .is_ok());
    }

    #[test]
    fn asking_for_information_waits_for_the_requester_until_they_answer() {
        let p = apply(
            at(RequestState::Submitted),
            RequestEvent::AskInfo,
            EventSide::Programme,
        )
        .unwrap();
        assert!(p.awaiting_requester);
        assert!(apply(p, RequestEvent::Respond, EventSide::Programme).is_err());
        let p = apply(p, RequestEvent::Respond, EventSide::Requester).unwrap();
        assert_eq!(p, at(RequestState::Submitted));
        assert!(apply(p, RequestEvent::Respond, EventSide::Requester).is_err());
    }

    fn event() -> impl Strategy<Value = (RequestEvent, EventSide)> {
        let e = prop_oneof![
            Just(RequestEvent::Accept),
            Just(RequestEvent::Decline),
            Just(RequestEvent::AskInfo),
            Just(RequestEvent::Respond),
            Just(RequestEvent::Withdraw),
            Just(RequestEvent::Schedule),
            Just(RequestEvent::Start),
            Just(RequestEvent::Complete),
        ];
        (
            e,
            prop_oneof![Just(EventSide::Programme), Just(EventSide::Requester)],
        )
    }

    proptest! {
        #[test]
        fn final_states_never_change_and_completion_needs_acceptance(events in proptest::collection::vec(event(), 0..40)) {
            let mut p = at(RequestState::Submitted);
            let mut accepted = false;
            for (e, side) in events {
                let before = p;
                if let Ok(next) = apply(p, e, side) {
                    prop_assert!(!before.state.is_final(), "{before:?} moved on {e:?}");
                    if next.state == RequestState::Accepted { accepted = true; }
                    if next.state == RequestState::Completed { prop_assert!(accepted); }
                    p = next;
                }
            }
        }
    }
}
