//! R11: the languages the center assists in, and the spoken language that serves each.

use serde::{Deserialize, Serialize};

use crate::error::{Rule, RuleViolation};

/// A language a request or a user interface can be in (R11), as a BCP 47 tag.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub enum Language {
    #[serde(rename = "zh-Hant")]
    ChineseTraditional,
    #[serde(rename = "zh-Hans")]
    ChineseSimplified,
    #[serde(rename = "en")]
    English,
    #[serde(rename = "fr")]
    French,
    #[serde(rename = "de")]
    German,
    #[serde(rename = "it")]
    Italian,
    #[serde(rename = "ja")]
    Japanese,
    #[serde(rename = "ko")]
    Korean,
    #[serde(rename = "pt-BR")]
    PortugueseBrazil,
    #[serde(rename = "es")]
    Spanish,
    #[serde(rename = "th")]
    Thai,
    #[serde(rename = "vi")]
    Vietnamese,
}

/// A language staff speak. Chinese requests of either script are served in Mandarin (R11).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub enum SpokenLanguage {
    Mandarin,
    English,
    French,
    German,
    Italian,
    Japanese,
    Korean,
    Portuguese,
    Spanish,
    Thai,
    Vietnamese,
}

impl Language {
    /// Every supported language, in the order SPEC R11 lists them.
    pub const ALL: [Language; 12] = [
        Language::ChineseTraditional,
        Language::ChineseSimplified,
        Language::English,
        Language::French,
        Language::German,
        Language::Italian,
        Language::Japanese,
        Language::Korean,
        Language::PortugueseBrazil,
        Language::Spanish,
        Language::Thai,
        Language::Vietnamese,
    ];

    /// The BCP 47 tag.
    pub fn tag(self) -> &'static str {
        match self {
            Language::ChineseTraditional => "zh-Hant",
            Language::ChineseSimplified => "zh-Hans",
            Language::English => "en",
            Language::French => "fr",
            Language::German => "de",
            Language::Italian => "it",
            Language::Japanese => "ja",
            Language::Korean => "ko",
            Language::PortugueseBrazil => "pt-BR",
            Language::Spanish => "es",
            Language::Thai => "th",
            Language::Vietnamese => "vi",
        }
    }

    /// The language's own name for itself, for switchers and lists.
    pub fn native_name(self) -> &'static str {
        match self {
            Language::ChineseTraditional => "繁體中文",
            Language::ChineseSimplified => "简体中文",
            Language::English => "English",
            Language::French => "Français",
            Language::German => "Deutsch",
            Language::Italian => "Italiano",
            Language::Japanese => "日本語",
            Language::Korean => "한국어",
            Language::PortugueseBrazil => "Português (Brasil)",
            Language::Spanish => "Español",
            Language::Thai => "ไทย",
            Language::Vietnamese => "Tiếng Việt",
        }
    }

    /// R11: the spoken language of the staff who serve this language (both Chinese scripts → Mandarin).
    pub fn spoken(self) -> SpokenLanguage {
        match self {
            Language::ChineseTraditional | Language::ChineseSimplified => SpokenLanguage::Mandarin,
            Language::English => SpokenLanguage::English,
            Language::French => SpokenLanguage::French,
            Language::German => SpokenLanguage::German,
            Language::Italian => SpokenLanguage::Italian,
            Language::Japanese => SpokenLanguage::Japanese,
            Language::Korean => SpokenLanguage::Korean,
            Language::PortugueseBrazil => SpokenLanguage::Portuguese,
            Language::Spanish => SpokenLanguage::Spanish,
            Language::Thai => SpokenLanguage::Thai,
            Language::Vietnamese => SpokenLanguage::Vietnamese,
        }
    }

    /// R17: whether migration help is given in this language (8 languages, both Chinese scripts included).
    pub fn supports_migration(self) -> bool {
        !matches!(
            self,
            Language::Korean | Language::Thai | Language::Vietnamese
        )
    }

    /// The comma-separated list of supported tags, for refusals.
    pub fn supported_list() -> String {
        Language::ALL
            .iter()
            .map(|l| l.tag())
            .collect::<Vec<_>>()
            .join(", ")
    }

    /// R11: parses a language tag, accepting common variants (case, `_`, region or script subtags).
    pub fn parse(input: &str) -> Result<Language, RuleViolation> {
        let norm = input.trim().replace('_', "-").to_ascii_lowercase();
        let lang = match norm.as_str() {
            "zh-hant" | "zh-tw" | "zh-hk" | "zh-mo" | "zh-hant-tw" | "zh-hant-hk" => {
                Some(Language::ChineseTraditional)
            }
            "zh" | "zh-hans" | "zh-cn" | "zh-sg" | "zh-hans-cn" | "zh-hans-sg" => {
                Some(Language::ChineseSimplified)
            }
            "pt-br" | "pt" => Some(Language::PortugueseBrazil),
            other => {
                let primary = other.split('-').next().unwrap_or_default();
                match primary {
                    "en" => Some(Language::English),
                    "fr" => Some(Language::French),
                    "de" => Some(Language::German),
                    "it" => Some(Language::Italian),
                    "ja" => Some(Language::Japanese),
                    "ko" => Some(Language::Korean),
                    "es" => Some(Language::Spanish),
                    "th" => Some(Language::Thai),
                    "vi" => Some(Language::Vietnamese),
                    _ => None,
                }
            }
        };
        lang.ok_or_else(|| {
            RuleViolation::new(
                Rule::R11,
                format!(
                    "the center does not assist in '{}'; supported languages: {}",
                    input.trim(),
                    Language::supported_list()
                ),
            )
            .on_field("language")
            .with("supported", Language::supported_list())
        })
    }
}

impl std::fmt::Display for Language {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.tag())
    }
}

impl SpokenLanguage {
    /// Every spoken language staff can have.
    pub const ALL: [SpokenLanguage; 11] = [
        SpokenLanguage::Mandarin,
        SpokenLanguage::English,
        SpokenLanguage::French,
        SpokenLanguage::German,
        SpokenLanguage::Italian,
        SpokenLanguage::Japanese,
        SpokenLanguage::Korean,
        SpokenLanguage::Portuguese,
        SpokenLanguage::Spanish,
        SpokenLanguage::Thai,
        SpokenLanguage::Vietnamese,
    ];

    /// The stored name.
    pub fn as_str(self) -> &'static str {
        match self {
            SpokenLanguage::Mandarin => "mandarin",
            SpokenLanguage::English => "english",
            SpokenLanguage::French => "french",
            SpokenLanguage::German => "german",
            SpokenLanguage::Italian => "italian",
            SpokenLanguage::Japanese => "japanese",
            SpokenLanguage::Korean => "korean",
            SpokenLanguage::Portuguese => "portuguese",
            SpokenLanguage::Spanish => "spanish",
            SpokenLanguage::Thai => "thai",
            SpokenLanguage::Vietnamese => "vietnamese",
        }
    }

    /// Parses a stored name.
    pub fn parse(s: &str) -> Result<SpokenLanguage, String> {
        SpokenLanguage::ALL
            .into_iter()
            .find(|l| l.as_str() == s.trim().to_ascii_lowercase())
            .ok_or_else(|| {
                format!(
                    "unknown spoken language '{s}'; one of: {}",
                    SpokenLanguage::ALL.map(|l| l.as_str()).join(", ")
                )
            })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn r11_chinese_of_either_script_is_served_in_mandarin() {
        for tag in ["zh-Hant", "zh-TW", "zh-Hans", "zh-CN", "zh"] {
            assert_eq!(
                Language::parse(tag).unwrap().spoken(),
                SpokenLanguage::Mandarin,
                "{tag}"
            );
        }
    }

    #[test]
    fn r11_unsupported_language_is_refused_with_the_supported_list() {
        let err = Language::parse("nl").unwrap_err();
        assert_eq!(err.rule, Rule::R11);
        assert_eq!(err.field.as_deref(), Some("language"));
        assert!(err.message.contains("pt-BR") && err.message.contains("vi"));
    }

    #[test]
    fn r11_every_supported_tag_round_trips() {
        for l in Language::ALL {
            assert_eq!(Language::parse(l.tag()).unwrap(), l);
        }
    }

    #[test]
    fn r17_migration_help_is_given_in_eight_languages() {
        let spoken: std::collections::BTreeSet<_> = Language::ALL
            .into_iter()
            .filter(|l| l.supports_migration())
            .map(|l| l.spoken())
            .collect();
        assert_eq!(spoken.len(), 8, "Mandarin covers both Chinese scripts");
        assert_eq!(
            Language::ALL
                .iter()
                .filter(|l| l.supports_migration())
                .count(),
            9
        );
    }
}
