//! `fasttrack templates export|import`: the programme's recommended plan as a JSON file (R7).

use anyhow::{bail, Context};
use clap::{Args, Subcommand};
use fasttrack_core::rules::engagement::TemplateSet;
use fasttrack_store::{AuditCtx, Store};

use crate::cli::DbArgs;

/// Template commands.
#[derive(Debug, Subcommand)]
pub enum TemplatesCommand {
    /// Write the template set (the recommended one when none is stored) as JSON.
    Export(ExportArgs),
    /// Replace the template set with a JSON file, after validating it.
    Import(ImportArgs),
}

/// Where to export.
#[derive(Debug, Args)]
pub struct ExportArgs {
    #[command(flatten)]
    pub db: DbArgs,
    /// Output file; standard output when absent.
    #[arg(long)]
    pub output: Option<std::path::PathBuf>,
}

/// What to import.
#[derive(Debug, Args)]
pub struct ImportArgs {
    #[command(flatten)]
    pub db: DbArgs,
    /// A JSON template set, as `export` writes it.
    pub file: std::path::PathBuf,
}

/// Runs a template command.
pub async fn run(cmd: TemplatesCommand) -> anyhow::Result<()> {
    match cmd {
        TemplatesCommand::Export(a) => {
            let store = Store::connect(&a.db.database_url).await?;
            let set = store.template_set_or(TemplateSet::recommended()).await?;
            store.close().await;
            let json = serde_json::to_string_pretty(&set)?;
            match a.output {
                Some(p) => {
                    std::fs::write(&p, json).with_context(|| format!("writing {}", p.display()))?
                }
                None => println!("{json}"),
            }
            Ok(())
        }
        TemplatesCommand::Import(a) => {
            let text = std::fs::read_to_string(&a.file)
                .with_context(|| format!("reading {}", a.file.display()))?;
            let set = parse(&text)?;
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
pub fn parse(text: &str) -> anyhow::Result<TemplateSet> {
    let set: TemplateSet =
        serde_json::from_str(text).context("the file is not a JSON template set")?;
    if let Err(invalid) = set.validate() {
        let lines: Vec<String> = invalid
            .0
            .iter()
            .map(|e| format!("  {}: {}", e.field, e.message))
            .collect();
        bail!("the template set is invalid:\n{}", lines.join("\n"));
    }
    Ok(set)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn r7_the_recommended_template_set_round_trips_through_json() {
        let set = TemplateSet::recommended();
        let json = serde_json::to_string_pretty(&set).unwrap();
        assert_eq!(parse(&json).unwrap(), set);
    }

    #[test]
    fn r7_an_invalid_template_set_is_refused_with_its_problems() {
        assert!(parse("{\"nope\": 1}").is_err());
        let mut set = TemplateSet::recommended();
        let dup = set.templates[0].tasks[0].clone();
        set.templates[0].tasks.push(dup);
        let err = parse(&serde_json::to_string(&set).unwrap())
            .unwrap_err()
            .to_string();
        assert!(err.contains("invalid"), "{err}");
    }
}
