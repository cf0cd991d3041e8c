//! Newtypes parsed once at the edge, so an invalid value cannot exist past it.

use serde::{Deserialize, Serialize};

/// A normalised e-mail address (trimmed, lower-cased, one `@`, a dotted domain).
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct Email(String);

impl Email {
    /// Parses and normalises an address.
    pub fn parse(input: &str) -> Result<Email, String> {
        let s = input.trim().to_lowercase();
        if s.is_empty() {
            return Err("an e-mail address is required".into());
        }
        if s.len() > 254 {
            return Err("an e-mail address is at most 254 characters".into());
        }
        let Some((local, domain)) = s.split_once('@') else {
            return Err(format!(
                "'{}' is not an e-mail address: it has no '@'",
                input.trim()
            ));
        };
        if local.is_empty() || local.len() > 64 || domain.contains('@') {
            return Err(format!("'{}' is not an e-mail address", input.trim()));
        }
        if s.chars()
            .any(|c| c.is_whitespace() || c.is_control() || "<>()[],;:\"\\".contains(c))
        {
            return Err(format!(
                "'{}' contains characters not allowed in an e-mail address",
                input.trim()
            ));
        }
        Domain::parse(domain)
            .map_err(|e| format!("the domain of '{}' is invalid: {e}", input.trim()))?;
        Ok(Email(s))
    }

    /// The address as text.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The part after the `@`.
    pub fn domain(&self) -> &str {
        self.0.rsplit('@').next().unwrap_or_default()
    }
}

impl TryFrom<String> for Email {
    type Error = String;
    fn try_from(s: String) -> Result<Self, String> {
        Email::parse(&s)
    }
}

impl From<Email> for String {
    fn from(e: Email) -> String {
        e.0
    }
}

impl std::fmt::Display for Email {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

/// An internet domain name, lower-cased (`contoso.com`).
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct Domain(String);

impl Domain {
    /// Parses a domain: labels of letters, digits and hyphens, at least two labels.
    pub fn parse(input: &str) -> Result<Domain, String> {
        let s = input.trim().trim_end_matches('.').to_lowercase();
        if s.len() > 253 || s.is_empty() {
            return Err("a domain has 1 to 253 characters".into());
        }
        let labels: Vec<&str> = s.split('.').collect();
        if labels.len() < 2 {
            return Err(format!("'{s}' is not a domain: it needs a dot"));
        }
        for l in &labels {
            let ok = !l.is_empty()
                && l.len() <= 63
                && !l.starts_with('-')
                && !l.ends_with('-')
                && l.chars().all(|c| c.is_alphanumeric() || c == '-');
            if !ok {
                return Err(format!("'{s}' is not a valid domain name"));
            }
        }
        Ok(Domain(s))
    }

    /// The domain as text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl TryFrom<String> for Domain {
    type Error = String;
    fn try_from(s: String) -> Result<Self, String> {
        Domain::parse(&s)
    }
}

impl From<Domain> for String {
    fn from(d: Domain) -> String {
        d.0
    }
}

/// A valid IANA time-zone name (`Europe/Rome`), checked against the bundled time-zone database.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct IanaZone(String);

impl IanaZone {
    /// Parses a zone name; it must be known to the time-zone database.
    pub fn parse(input: &str) -> Result<IanaZone, String> {
        let s = input.trim();
        if s.is_empty() {
            return Err("a time zone is required".into());
        }
        match jiff::tz::TimeZone::get(s) {
            Ok(tz) => Ok(IanaZone(tz.iana_name().unwrap_or(s).to_string())),
            Err(_) => Err(format!(
                "'{s}' is not an IANA time zone (for example Europe/Rome)"
            )),
        }
    }

    /// The zone's name.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The zone itself, for arithmetic.
    pub fn tz(&self) -> jiff::tz::TimeZone {
        // The name was validated at parse time; UTC is only a defensive fallback.
        jiff::tz::TimeZone::get(&self.0).unwrap_or(jiff::tz::TimeZone::UTC)
    }
}

impl TryFrom<String> for IanaZone {
    type Error = String;
    fn try_from(s: String) -> Result<Self, String> {
        IanaZone::parse(&s)
    }
}

impl From<IanaZone> for String {
    fn from(z: IanaZone) -> String {
        z.0
    }
}

/// An ISO 3166-1 alpha-2 country code, upper-cased.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct Country(String);

impl Country {
    /// Parses two ASCII letters.
    pub fn parse(input: &str) -> Result<Country, String> {
        let s = input.trim().to_ascii_uppercase();
        if s.len() == 2 && s.chars().all(|c| c.is_ascii_uppercase()) {
            Ok(Country(s))
        } else {
            Err(format!(
                "'{}' is not an ISO 3166-1 alpha-2 country code (for example IT)",
                input.trim()
            ))
        }
    }

    /// The code as text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl TryFrom<String> for Country {
    type Error = String;
    fn try_from(s: String) -> Result<Self, String> {
        Country::parse(&s)
    }
}

impl From<Country> for String {
    fn from(c: Country) -> String {
        c.0
    }
}

/// Checks a free-text field: trimmed, not empty unless allowed, at most `max` characters, no control characters.
pub fn text(input: &str, max: usize, required: bool) -> Result<String, String> {
    let s = input.trim();
    if required && s.is_empty() {
        return Err("this field is required".into());
    }
    let n = s.chars().count();
    if n > max {
        return Err(format!("at most {max} characters (got {n})"));
    }
    if s.chars()
        .any(|c| c.is_control() && c != '\n' && c != '\t' && c != '\r')
    {
        return Err("control characters are not allowed".into());
    }
    Ok(s.to_string())
}

/// Checks a machine identifier (a plan or service code): lower-case ASCII letters, digits, `-` and `_`.
pub fn code(input: &str) -> Result<String, String> {
    let s = input.trim();
    if s.is_empty() || s.len() > 64 {
        return Err("a code has 1 to 64 characters".into());
    }
    if !s
        .chars()
        .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-' || c == '_')
    {
        return Err(format!("'{s}' may only hold a-z, 0-9, '-' and '_'"));
    }
    Ok(s.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn email_missing_at_symbol_is_rejected() {
        assert!(Email::parse("ursula.example.com").is_err());
    }

    #[test]
    fn email_is_normalised_to_lower_case() {
        assert_eq!(
            Email::parse("  Ada@Contoso.COM ").unwrap().as_str(),
            "ada@contoso.com"
        );
    }

    #[test]
    fn unknown_time_zone_is_rejected() {
        assert!(IanaZone::parse("Mars/Olympus").is_err());
        assert_eq!(
            IanaZone::parse("Europe/Rome").unwrap().as_str(),
            "Europe/Rome"
        );
    }

    #[test]
    fn too_long_text_is_rejected() {
        assert!(text(&"x".repeat(201), 200, true).is_err());
        assert!(text("", 200, true).is_err());
        assert_eq!(text(" ok ", 200, true).unwrap(), "ok");
    }

    proptest! {
        #[test]
        fn a_parsed_email_always_reparses_to_itself(local in "[a-z0-9._+-]{1,20}", dom in "[a-z0-9]{1,10}\\.[a-z]{2,6}") {
            let e = Email::parse(&format!("{local}@{dom}")).unwrap();
            prop_assert_eq!(Email::parse(e.as_str()).unwrap(), e);
        }

        #[test]
        fn email_parsing_never_panics(s in ".{0,300}") {
            let _ = Email::parse(&s);
        }
    }
}
