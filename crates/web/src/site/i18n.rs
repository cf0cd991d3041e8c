//! The interface's words in the 12 languages of R11: one Fluent file per language under
//! `crates/web/locales/`, compiled into the binary, and the choice of language for a request
//! (the switcher's cookie, then the user's setting, then `Accept-Language`, then English).

use std::collections::HashMap;
use std::sync::OnceLock;

use axum::http::{header, HeaderMap};
use fasttrack_core::Language;
use fluent_bundle::concurrent::FluentBundle;
use fluent_bundle::{FluentArgs, FluentResource, FluentValue};

/// The cookie the language switcher sets.
pub const LANG_COOKIE: &str = "ft_lang";

/// The Fluent source of a language.
pub fn source(lang: Language) -> &'static str {
    match lang {
        Language::ChineseTraditional => include_str!("../../locales/zh-Hant.ftl"),
        Language::ChineseSimplified => include_str!("../../locales/zh-Hans.ftl"),
        Language::English => include_str!("../../locales/en.ftl"),
        Language::French => include_str!("../../locales/fr.ftl"),
        Language::German => include_str!("../../locales/de.ftl"),
        Language::Italian => include_str!("../../locales/it.ftl"),
        Language::Japanese => include_str!("../../locales/ja.ftl"),
        Language::Korean => include_str!("../../locales/ko.ftl"),
        Language::PortugueseBrazil => include_str!("../../locales/pt-BR.ftl"),
        Language::Spanish => include_str!("../../locales/es.ftl"),
        Language::Thai => include_str!("../../locales/th.ftl"),
        Language::Vietnamese => include_str!("../../locales/vi.ftl"),
    }
}

type Bundle = FluentBundle<FluentResource>;

fn bundles() -> &'static HashMap<Language, Bundle> {
    static BUNDLES: OnceLock<HashMap<Language, Bundle>> = OnceLock::new();
    BUNDLES.get_or_init(|| {
        let mut out = HashMap::new();
        for lang in Language::ALL {
            let id = lang
                .tag()
                .parse()
                .unwrap_or_else(|_| unic_langid::LanguageIdentifier::default());
            let mut bundle = FluentBundle::new_concurrent(vec![id]);
            // Isolation marks would show as stray characters in attributes and plain text.
            bundle.set_use_isolating(false);
            // A broken file keeps what parsed; the completeness test refuses it before release.
            let resource = match FluentResource::try_new(source(lang).to_string()) {
                Ok(r) => r,
                Err((r, errors)) => {
                    tracing::error!(?lang, ?errors, "a Fluent file does not parse");
                    r
                }
            };
            if let Err(errors) = bundle.add_resource(resource) {
                tracing::error!(?lang, ?errors, "a Fluent file repeats a message");
            }
            out.insert(lang, bundle);
        }
        out
    })
}

/// The text of `key` in `lang` with `args`; English when the language lacks it, the key itself
/// when English does too (the completeness test keeps both from happening).
pub fn text(lang: Language, key: &str, args: &[(&str, &str)]) -> String {
    let mut fargs = FluentArgs::new();
    for (k, v) in args {
        fargs.set(*k, FluentValue::from(*v));
    }
    for l in [lang, Language::English] {
        let Some(bundle) = bundles().get(&l) else {
            continue;
        };
        let Some(pattern) = bundle.get_message(key).and_then(|m| m.value()) else {
            continue;
        };
        let mut errors = Vec::new();
        let out = bundle.format_pattern(pattern, Some(&fargs), &mut errors);
        return out.into_owned();
    }
    key.to_string()
}

/// The first supported language in an `Accept-Language` header, by quality.
pub fn from_accept_language(header: &str) -> Option<Language> {
    let mut ranked: Vec<(f32, usize, &str)> = header
        .split(',')
        .enumerate()
        .filter_map(|(i, part)| {
            let mut it = part.split(';');
            let tag = it.next()?.trim();
            let q = it
                .find_map(|p| p.trim().strip_prefix("q="))
                .and_then(|q| q.parse::<f32>().ok())
                .unwrap_or(1.0);
            (!tag.is_empty() && q > 0.0).then_some((q, i, tag))
        })
        .collect();
    ranked.sort_by(|a, b| b.0.total_cmp(&a.0).then(a.1.cmp(&b.1)));
    ranked.into_iter().find_map(|(_, _, tag)| match_tag(tag))
}

/// A BCP 47 tag to one of R11's languages (`zh-TW` → Traditional, `pt` → Brazilian, …).
pub fn match_tag(tag: &str) -> Option<Language> {
    if let Ok(l) = Language::parse(tag) {
        return Some(l);
    }
    let lower = tag.to_ascii_lowercase();
    if lower.starts_with("zh") {
        let traditional = ["hant", "tw", "hk", "mo"]
            .iter()
            .any(|m| lower.split(['-', '_']).any(|p| p == *m));
        return Some(if traditional {
            Language::ChineseTraditional
        } else {
            Language::ChineseSimplified
        });
    }
    let primary = lower.split(['-', '_']).next()?;
    Language::ALL
        .into_iter()
        .find(|l| l.tag().split('-').next() == Some(primary))
}

/// The language of a page: the switcher's cookie, the user's setting, the browser's, English.
pub fn choose(headers: &HeaderMap, user_language: Option<&str>) -> Language {
    let from_cookie = crate::extract::header_cookie(headers, LANG_COOKIE).and_then(match_tag);
    from_cookie
        .or_else(|| user_language.and_then(match_tag))
        .or_else(|| {
            headers
                .get(header::ACCEPT_LANGUAGE)
                .and_then(|v| v.to_str().ok())
                .and_then(from_accept_language)
        })
        .unwrap_or(Language::English)
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeSet;

    use fluent_syntax::ast;

    use super::*;

    /// Message ids and the variables each one uses.
    fn messages(lang: Language) -> HashMap<String, BTreeSet<String>> {
        let resource = fluent_syntax::parser::parse(source(lang))
            .unwrap_or_else(|(_, e)| panic!("{lang:?} does not parse: {e:?}"));
        let mut out = HashMap::new();
        for entry in resource.body {
            if let ast::Entry::Message(m) = entry {
                let mut vars = BTreeSet::new();
                if let Some(p) = &m.value {
                    for el in &p.elements {
                        if let ast::PatternElement::Placeable { expression } = el {
                            collect_vars(expression, &mut vars);
                        }
                    }
                }
                assert!(
                    out.insert(m.id.name.to_string(), vars).is_none(),
                    "{lang:?} repeats {}",
                    m.id.name
                );
            }
        }
        out
    }

    fn collect_vars(e: &ast::Expression<&str>, vars: &mut BTreeSet<String>) {
        match e {
            ast::Expression::Inline(ast::InlineExpression::VariableReference { id }) => {
                vars.insert(id.name.to_string());
            }
            ast::Expression::Select { selector, variants } => {
                if let ast::InlineExpression::VariableReference { id } = selector {
                    vars.insert(id.name.to_string());
                }
                for v in variants {
                    for el in &v.value.elements {
                        if let ast::PatternElement::Placeable { expression } = el {
                            collect_vars(expression, vars);
                        }
                    }
                }
            }
            _ => {}
        }
    }

    /// Words that are the same in every language (names, codes).
    const SAME_EVERYWHERE: &[&str] = &["brand", "lang-name", "service-code"];

    #[test]
    fn r11_every_language_has_every_key_with_the_same_variables() {
        let english = messages(Language::English);
        assert!(english.len() > 50, "the English file is the reference");
        for lang in Language::ALL {
            let other = messages(lang);
            for (key, vars) in &english {
                let theirs = other
                    .get(key)
                    .unwrap_or_else(|| panic!("{} lacks '{key}'", lang.tag()));
                assert_eq!(theirs, vars, "{} '{key}' uses other variables", lang.tag());
            }
            for key in other.keys() {
                assert!(
                    english.contains_key(key),
                    "{} has '{key}', which English lacks",
                    lang.tag()
                );
            }
        }
    }

    #[test]
    fn r11_no_english_is_left_behind_in_another_language() {
        for lang in Language::ALL {
            if lang == Language::English {
                continue;
            }
            let mut same = Vec::new();
            for key in messages(Language::English).keys() {
                if SAME_EVERYWHERE.contains(&key.as_str()) {
                    continue;
                }
                let (en, other) = (text(Language::English, key, &[]), text(lang, key, &[]));
                if en == other && en.chars().any(|c| c.is_ascii_alphabetic()) && en.len() > 3 {
                    same.push(key.clone());
                }
            }
            assert!(
                same.is_empty(),
                "{} still reads English in {same:?}",
                lang.tag()
            );
        }
    }

    #[test]
    fn r11_languages_are_chosen_from_cookie_then_user_then_browser() {
        let mut h = HeaderMap::new();
        h.insert(
            header::ACCEPT_LANGUAGE,
            "fr-CH, fr;q=0.9, en;q=0.8".parse().unwrap(),
        );
        assert_eq!(choose(&h, None), Language::French);
        assert_eq!(choose(&h, Some("ja")), Language::Japanese);
        h.insert(header::COOKIE, "a=b; ft_lang=th".parse().unwrap());
        assert_eq!(choose(&h, Some("ja")), Language::Thai);
        assert_eq!(choose(&HeaderMap::new(), None), Language::English);
    }

    #[test]
    fn r11_chinese_tags_map_to_their_script() {
        assert_eq!(match_tag("zh-TW"), Some(Language::ChineseTraditional));
        assert_eq!(match_tag("zh-Hant-HK"), Some(Language::ChineseTraditional));
        assert_eq!(match_tag("zh-CN"), Some(Language::ChineseSimplified));
        assert_eq!(match_tag("zh"), Some(Language::ChineseSimplified));
        assert_eq!(match_tag("pt"), Some(Language::PortugueseBrazil));
        assert_eq!(match_tag("en-GB"), Some(Language::English));
        assert_eq!(match_tag("ru"), None);
        assert_eq!(
            from_accept_language("ru, de;q=0.5, es;q=0.7"),
            Some(Language::Spanish)
        );
    }

    #[test]
    fn placeholders_are_filled_in() {
        let s = text(Language::English, "home-title", &[("tenant", "Contoso")]);
        assert!(s.contains("Contoso"), "{s}");
    }
}
