//! The errors the core returns: a broken programme rule, or invalid input field by field.

use serde::Serialize;

/// The numbered rules of SPEC §2, so that every refusal can say which rule it applies.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
pub enum Rule {
    R1,
    R2,
    R3,
    R4,
    R5,
    R6,
    R7,
    R8,
    R9,
    R10,
    R11,
    R12,
    R13,
    R14,
    R15,
    R16,
    R17,
}

impl Rule {
    /// The rule's short name, as SPEC §2 titles it.
    pub fn title(self) -> &'static str {
        match self {
            Rule::R1 => "Eligibility",
            Rule::R2 => "Eligible services",
            Rule::R3 => "Onboarding has two parts",
            Rule::R4 => "Adoption runs in parallel",
            Rule::R5 => "Phases",
            Rule::R6 => "Advisory only",
            Rule::R7 => "Recommended approach",
            Rule::R8 => "Two ways in",
            Rule::R9 => "Partners",
            Rule::R10 => "Meetings",
            Rule::R11 => "Languages",
            Rule::R12 => "Business hours by region",
            Rule::R13 => "Remote only",
            Rule::R14 => "Guidance on migration",
            Rule::R15 => "Service levels",
            Rule::R16 => "Partner relationships",
            Rule::R17 => "Migration batches",
        }
    }
}

impl std::fmt::Display for Rule {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{self:?}")
    }
}

/// One invalid input field: where it is (a JSON-pointer-like path) and what is wrong with it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct FieldError {
    pub field: String,
    pub message: String,
}

impl FieldError {
    /// An error for `field` with a human-readable `message`.
    pub fn new(field: impl Into<String>, message: impl Into<String>) -> Self {
        Self {
            field: field.into(),
            message: message.into(),
        }
    }
}

/// Input that cannot be accepted as it stands; lists every bad field, not just the first.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid input: {}", .0.iter().map(|e| format!("{}: {}", e.field, e.message)).collect::<Vec<_>>().join("; "))]
pub struct Invalid(pub Vec<FieldError>);

impl Invalid {
    /// A single-field error.
    pub fn one(field: impl Into<String>, message: impl Into<String>) -> Self {
        Self(vec![FieldError::new(field, message)])
    }
}

/// Collects field errors while parsing a whole input, so the caller reports all of them at once.
#[derive(Debug, Default)]
pub struct Errors(Vec<FieldError>);

impl Errors {
    /// An empty collector.
    pub fn new() -> Self {
        Self::default()
    }

    /// Records one error.
    pub fn add(&mut self, field: impl Into<String>, message: impl Into<String>) {
        self.0.push(FieldError::new(field, message));
    }

    /// Keeps the value of `r`, or records its errors under `field` and returns `None`.
    pub fn take<T>(&mut self, field: &str, r: Result<T, String>) -> Option<T> {
        match r {
            Ok(v) => Some(v),
            Err(m) => {
                self.add(field, m);
                None
            }
        }
    }

    /// Whether nothing has been recorded.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// `Ok(())` when nothing was recorded, else every recorded error.
    pub fn finish(self) -> Result<(), Invalid> {
        if self.0.is_empty() {
            Ok(())
        } else {
            Err(Invalid(self.0))
        }
    }
}

/// A refusal by one of the programme's rules, naming the rule and, where one is to blame, the field.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{rule} ({}): {message}", .rule.title())]
pub struct RuleViolation {
    pub rule: Rule,
    pub message: String,
    pub field: Option<String>,
    /// Extra machine-readable facts (for example the list of supported languages).
    pub detail: Vec<(String, String)>,
}

impl RuleViolation {
    /// A refusal by `rule` with an explanation.
    pub fn new(rule: Rule, message: impl Into<String>) -> Self {
        Self {
            rule,
            message: message.into(),
            field: None,
            detail: Vec::new(),
        }
    }

    /// Names the input field the refusal is about.
    pub fn on_field(mut self, field: impl Into<String>) -> Self {
        self.field = Some(field.into());
        self
    }

    /// Adds a machine-readable fact.
    pub fn with(mut self, key: impl Into<String>, value: impl Into<String>) -> Self {
        self.detail.push((key.into(), value.into()));
        self
    }
}
