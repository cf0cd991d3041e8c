//! `fasttrack templates export|import`: the programme's recommended plan as a JSON or YAML file (R7).

use anyhow::Context;
use clap::{Args, Subcommand, ValueEnum};
use fasttrack_core::rules::engagement::TemplateSet;
use fasttrack_store::{AuditCtx, Store};
use fasttrack_web::api::templates::{parse_template_set, render_template_set, TemplateFormat};

use crate::cli::DbArgs;

/// Template commands.
#[derive(Debug, Subcommand)]
pub enum TemplatesCommand {
    /// Write the template set (the recommended one when none is stored) as JSON or YAML.
    Export(ExportArgs),
    /// Replace the template set with a JSON or YAML file, after validating it.
    Import(ImportArgs),
}

/// A template file's format.
#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum Format {
    Json,
    Yaml,
}

impl From<Format> for TemplateFormat {
    fn from(f: Format) -> Self {
        match f {
            Format::Json => TemplateFormat::Json,
            Format::Yaml => TemplateFormat::Yaml,
        }
    }
}

/// The format asked for, else the one the file's extension names (`.yaml`/`.yml`), else JSON.
fn format_of(asked: Option<Format>, path: Option<&std::path::Path>) -> TemplateFormat {
    match (asked, path) {
        (Some(f), _) => f.into(),
        (None, Some(p)) => TemplateFormat::from_path(p),
        (None, None) => TemplateFormat::Json,
    }
}

/// Where to export.
#[derive(Debug, Args)]
pub struct ExportArgs {
    #[command(flatten)]
    pub db: DbArgs,
    /// Output file; standard output when absent.
    #[arg(long)]
    pub output: Option<std::path::PathBuf>,
    /// `json` or `yaml`; by default the output file's extension decides (JSON otherwise).
    #[arg(long, value_enum)]
    pub format: Option<Format>,
}

/// What to import.
#[derive(Debug, Args)]
pub struct ImportArgs {
    #[command(flatten)]
    pub db: DbArgs,
    /// A JSON or YAML template set, as `export` writes it.
    pub file: std::path::PathBuf,
    /// `json` or `yaml`; by default the file's extension decides (`.yaml`/`.yml`, else JSON).
    #[arg(long, value_enum)]
    pub format: Option<Format>,
}

/// Runs a template command.
pub async fn run(cmd: TemplatesCommand) -> anyhow::Result<()> {
    match cmd {
        TemplatesCommand::Export(a) => {
            let store = Store::connect(&a.db.database_url).await?;
            let set = store.template_set_or(TemplateSet::recommended()).await?;
            store.close().await;
            let format = format_of(a.format, a.output.as_deref());
            let text = render_template_set(&set, format).map_err(|e| anyhow::anyhow!("{e}"))?;
            match a.output {
                Some(p) => {
                    std::fs::write(&p, text).with_context(|| format!("writing {}", p.display()))?
                }
                None => println!("{text}"),
            }
            Ok(())
        }
        TemplatesCommand::Import(a) => {
            let text = std::fs::read_to_string(&a.file)
                .with_context(|| format!("reading {}", a.file.display()))?;
            let set = parse(&text, format_of(a.format, Some(&a.file)))?;
            let store = Store::connect(&a.db.database_url).await?;
            let ctx = AuditCtx {
                at: jiff::Timestamp::now().as_second(),
                ..AuditCtx::default()
            };
            store.put_template_set(&set, &ctx).await?;
            store.close().await;
            println!("imported {} templates", set.templates.len());
            Ok(())
        }
    }
}

/// Parses and validates a template set, naming every problem.
pub fn parse(text: &str, format: TemplateFormat) -> anyhow::Result<TemplateSet> {
    parse_template_set(text.as_bytes(), format).map_err(|e| match e {
        fasttrack_web::ApiError::Invalid(invalid) => {
            let lines: Vec<String> = invalid
                .0
                .iter()
                .map(|e| format!("  {}: {}", e.field, e.message))
                .collect();
            anyhow::anyhow!("the template set is invalid:\n{}", lines.join("\n"))
        }
        other => anyhow::anyhow!("the file is not a template set: {other}"),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn r7_the_recommended_template_set_round_trips_through_json() {
        let set = TemplateSet::recommended();
        let json = serde_json::to_string_pretty(&set).unwrap();
        assert_eq!(parse(&json, TemplateFormat::Json).unwrap(), set);
        let yaml = render_template_set(&set, TemplateFormat::Yaml).unwrap();
        assert_eq!(parse(&yaml, TemplateFormat::Yaml).unwrap(), set);
    }

    #[test]
    fn r7_an_invalid_template_set_is_refused_with_its_problems() {
        assert!(parse("{\"nope\": 1}", TemplateFormat::Json).is_err());
        let mut set = TemplateSet::recommended();
        let dup = set.templates[0].tasks[0].clone();
        set.templates[0].tasks.push(dup);
        let err = parse(&serde_json::to_string(&set).unwrap(), TemplateFormat::Json)
            .unwrap_err()
            .to_string();
        assert!(err.contains("invalid"), "{err}");
    }
}
