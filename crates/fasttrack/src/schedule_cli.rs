//! `fasttrack schedule --backlog`: books the first meeting of every accepted request that has
//! none (R10/R11), fairly across staff, and prints what it booked and what it could not place.

use anyhow::{bail, Context};
use clap::Args;
use fasttrack_store::{AuditCtx, Store};
use fasttrack_web::scheduler::{self, BacklogSettings};

/// Options of `fasttrack schedule`.
#[derive(Debug, Clone, Args)]
pub struct ScheduleArgs {
    #[command(flatten)]
    pub db: crate::cli::DbArgs,
    /// Book the first meeting of every accepted request without one.
    #[arg(long)]
    pub backlog: bool,
    /// Length of each meeting, in minutes.
    #[arg(long, default_value_t = 60)]
    pub length_minutes: i64,
    /// How many days ahead to look for slots.
    #[arg(long, default_value_t = fasttrack_core::scheduling::DEFAULT_HORIZON_DAYS)]
    pub horizon_days: u32,
    /// What the meetings are for.
    #[arg(long, default_value = "kick-off")]
    pub purpose: String,
    /// Print the report as JSON.
    #[arg(long)]
    pub json: bool,
}

/// Runs `fasttrack schedule`.
pub async fn run(args: ScheduleArgs) -> anyhow::Result<()> {
    if !args.backlog {
        bail!("say what to schedule: --backlog books every accepted request's first meeting");
    }
    if !(1..=90).contains(&args.horizon_days) {
        bail!("--horizon-days: between 1 and 90");
    }
    scheduler::check_length("length_minutes", args.length_minutes)
        .map_err(|_| anyhow::anyhow!("--length-minutes: between 1 and 480"))?;
    let store = Store::connect(&args.db.database_url)
        .await
        .context("opening the database")?;
    let now = jiff::Timestamp::now();
    let ctx = AuditCtx {
        at: now.as_second(),
        ..AuditCtx::default()
    };
    let settings = BacklogSettings {
        length_minutes: args.length_minutes,
        horizon_days: args.horizon_days,
        purpose: args.purpose.clone(),
        ..BacklogSettings::default()
    };
    let outcome = scheduler::schedule_backlog(&store, &settings, now, &ctx).await;
    store.close().await;
    let outcome = outcome.map_err(|e| anyhow::anyhow!("scheduling the backlog: {e}"))?;
    if args.json {
        let report = serde_json::json!({
            "booked": outcome.booked.iter().map(|m| serde_json::json!({
                "request_id": m.request_id, "meeting_id": m.id, "staff_id": m.staff_id,
                "start": fasttrack_web::api::ts(m.starts_at), "end": fasttrack_web::api::ts(m.ends_at),
            })).collect::<Vec<_>>(),
            "unplaced": outcome.unplaced,
        });
        println!("{report:#}");
    } else {
        for m in &outcome.booked {
            println!(
                "booked   {}  {}  staff {}",
                m.request_id.as_deref().unwrap_or("-"),
                fasttrack_web::api::ts(m.starts_at),
                m.staff_id
            );
        }
        for u in &outcome.unplaced {
            println!("unplaced {}  {}: {}", u.request_id, u.reason, u.message);
        }
        println!(
            "{} meeting(s) booked, {} request(s) not placed",
            outcome.booked.len(),
            outcome.unplaced.len()
        );
    }
    Ok(())
}
