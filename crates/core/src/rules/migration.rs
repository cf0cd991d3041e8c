//! R14 and R17: the data-migration record (sources, volumes, waves) and the batch planner's limits.

use std::collections::BTreeMap;

use jiff::civil::Date;
use jiff::tz::TimeZone;
use jiff::{SignedDuration, Timestamp};
use serde::{Deserialize, Serialize};

use crate::error::{Invalid, Rule, RuleViolation};
use crate::language::Language;

const DAY_NS: i128 = 86_400 * 1_000_000_000;
const HOUR_NS: i128 = 3_600 * 1_000_000_000;
const MINUTE_NS: i128 = 60 * 1_000_000_000;
/// 1970-01-05, the first Monday after the Unix epoch, anchors the weekly window arithmetic.
const FIRST_MONDAY_NS: i128 = 4 * DAY_NS;

/// A day of the week, as programme settings name it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DayOfWeek {
    Monday,
    Tuesday,
    Wednesday,
    Thursday,
    Friday,
    Saturday,
    Sunday,
}

impl DayOfWeek {
    fn index(self) -> i128 {
        self as i128
    }
}

/// A point in the UTC week (`Monday 02:00`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct WeeklyTime {
    pub day: DayOfWeek,
    pub hour: u8,
    pub minute: u8,
}

impl WeeklyTime {
    fn offset_ns(self) -> i128 {
        self.day.index() * DAY_NS
            + i128::from(self.hour) * HOUR_NS
            + i128::from(self.minute) * MINUTE_NS
    }
}

/// How a daily cap is expressed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum DailyVolume {
    /// A share of the tenant's seats, compared exactly (`total × 100 ≤ seats × percent`).
    PercentOfSeats { percent: i64 },
    /// A fixed number of mailboxes.
    Mailboxes { mailboxes: i64 },
}

/// The daily mailbox cap for tenants of `min_seats..=max_seats` seats (`None`: no upper bound).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct DailyCap {
    pub min_seats: i64,
    pub max_seats: Option<i64>,
    pub volume: DailyVolume,
}

/// The oldest supported version of a source product.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MinVersion {
    pub source: SourceKind,
    pub version: String,
}

/// R17: every limit of the migration terms, a programme setting; `Default` gives the vendor's values.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MigrationLimits {
    /// The weekly window in which batches start; both ends are inside.
    pub window_opens: WeeklyTime,
    pub window_closes: WeeklyTime,
    /// Batches starting on one UTC date.
    pub max_batches_per_day: u32,
    /// Whole 24-hour periods between giving the schedule and a batch's start.
    pub notice_days: i64,
    /// Mailboxes that may be added to a batch, as a share of its original count.
    pub add_percent: i64,
    /// Mailboxes may be added until this many days (× 24 h) before the batch, inclusive.
    pub add_deadline_days: i64,
    /// Mailboxes may be removed until this many hours before the batch, inclusive.
    pub remove_deadline_hours: i64,
    /// The fewest mailboxes a batch holds, on its final count.
    pub min_batch_mailboxes: u32,
    /// Daily caps by tenant size, on the final counts.
    pub daily_caps: Vec<DailyCap>,
    /// The largest file migrated, in bytes; a file of exactly this size is migrated.
    pub max_file_bytes: u64,
    /// R1: seats needed for data-migration services; below it, guidance only.
    pub min_migration_seats: i64,
    /// IMAP systems one migration may draw from.
    pub max_imap_systems: u32,
    pub min_versions: Vec<MinVersion>,
}

impl Default for MigrationLimits {
    fn default() -> Self {
        Self {
            window_opens: WeeklyTime {
                day: DayOfWeek::Monday,
                hour: 2,
                minute: 0,
            },
            window_closes: WeeklyTime {
                day: DayOfWeek::Friday,
                hour: 20,
                minute: 0,
            },
            max_batches_per_day: 3,
            notice_days: 14,
            add_percent: 10,
            add_deadline_days: 3,
            remove_deadline_hours: 24,
            min_batch_mailboxes: 35,
            daily_caps: vec![
                DailyCap {
                    min_seats: 150,
                    max_seats: Some(1_000),
                    volume: DailyVolume::PercentOfSeats { percent: 25 },
                },
                DailyCap {
                    min_seats: 1_001,
                    max_seats: Some(5_000),
                    volume: DailyVolume::PercentOfSeats { percent: 20 },
                },
                DailyCap {
                    min_seats: 5_001,
                    max_seats: Some(10_000),
                    volume: DailyVolume::PercentOfSeats { percent: 15 },
                },
                DailyCap {
                    min_seats: 10_001,
                    max_seats: None,
                    volume: DailyVolume::Mailboxes { mailboxes: 1_500 },
                },
            ],
            max_file_bytes: 15_000_000_000,
            min_migration_seats: 500,
            max_imap_systems: 1,
            min_versions: vec![
                MinVersion {
                    source: SourceKind::Exchange,
                    version: "2003".into(),
                },
                MinVersion {
                    source: SourceKind::Domino,
                    version: "7.0.3".into(),
                },
                MinVersion {
                    source: SourceKind::GroupWise,
                    version: "7.0.4".into(),
                },
                MinVersion {
                    source: SourceKind::SmbFileShare,
                    version: "2.0".into(),
                },
            ],
        }
    }
}

impl MigrationLimits {
    /// Checks settings an admin typed: times of day that exist, versions that parse, non-negative numbers.
    pub fn validate(&self) -> Result<(), Invalid> {
        let mut errs = crate::error::Errors::new();
        for (field, w) in [
            ("window_opens", self.window_opens),
            ("window_closes", self.window_closes),
        ] {
            if w.hour > 23 || w.minute > 59 {
                errs.add(field, "a time of day is 00:00 to 23:59");
            }
        }
        if self.max_batches_per_day == 0 {
            errs.add("max_batches_per_day", "at least one batch a day");
        }
        for (field, v) in [
            ("notice_days", self.notice_days),
            ("add_percent", self.add_percent),
            ("add_deadline_days", self.add_deadline_days),
            ("remove_deadline_hours", self.remove_deadline_hours),
            ("min_migration_seats", self.min_migration_seats),
        ] {
            if v < 0 {
                errs.add(field, "must not be negative");
            }
        }
        for (i, c) in self.daily_caps.iter().enumerate() {
            let amount = match c.volume {
                DailyVolume::PercentOfSeats { percent } => percent,
                DailyVolume::Mailboxes { mailboxes } => mailboxes,
            };
            if amount < 0 || c.max_seats.is_some_and(|m| m < c.min_seats) {
                errs.add(
                    format!("daily_caps[{i}]"),
                    "a cap needs a seat range and a non-negative volume",
                );
            }
        }
        for (i, m) in self.min_versions.iter().enumerate() {
            if parse_version(&m.version).is_none() {
                errs.add(
                    format!("min_versions[{i}].version"),
                    "a version such as 7.0.3",
                );
            }
        }
        errs.finish()
    }

    /// R17: the daily mailbox cap for a tenant of `seats`, as a whole number (`None` when no tier covers it).
    pub fn daily_cap(&self, seats: i64) -> Option<i64> {
        let tier = self.cap_tier(seats)?;
        Some(match tier.volume {
            // Exact: total × 100 ≤ seats × p holds exactly for totals up to ⌊seats × p / 100⌋.
            DailyVolume::PercentOfSeats { percent } => {
                let cap = i128::from(seats.max(0)) * i128::from(percent) / 100;
                i64::try_from(cap).unwrap_or(i64::MAX)
            }
            DailyVolume::Mailboxes { mailboxes } => mailboxes,
        })
    }

    fn cap_tier(&self, seats: i64) -> Option<&DailyCap> {
        self.daily_caps
            .iter()
            .find(|c| seats >= c.min_seats && c.max_seats.is_none_or(|m| seats <= m))
    }

    /// R17: whether `total` mailboxes in one UTC day stay under the cap for `seats`, compared without rounding.
    pub fn within_daily_cap(&self, seats: i64, total: i64) -> bool {
        match self.cap_tier(seats).map(|c| c.volume) {
            None => false,
            Some(DailyVolume::PercentOfSeats { percent }) => {
                i128::from(total) * 100 <= i128::from(seats) * i128::from(percent)
            }
            Some(DailyVolume::Mailboxes { mailboxes }) => total <= mailboxes,
        }
    }

    /// R17: whether `at` lies in the weekly window, both ends included.
    pub fn in_window(&self, at: Timestamp) -> bool {
        let x = (at.as_nanosecond() - FIRST_MONDAY_NS).rem_euclid(7 * DAY_NS);
        let (open, close) = (
            self.window_opens.offset_ns(),
            self.window_closes.offset_ns(),
        );
        if open <= close {
            open <= x && x <= close
        } else {
            // A window that wraps over the end of the week (Friday to Monday, say).
            x >= open || x <= close
        }
    }

    /// R17: whether a file of `bytes` is migrated (exactly the limit is).
    pub fn file_is_migrated(&self, bytes: u64) -> bool {
        bytes <= self.max_file_bytes
    }

    /// R17: whether a batch starting at `start` has the notice: whole 24-hour periods since `given`.
    pub fn has_notice(&self, given: Timestamp, start: Timestamp) -> bool {
        start.duration_since(given) >= hours(self.notice_days.saturating_mul(24))
    }

    fn min_version(&self, kind: SourceKind) -> Option<&str> {
        self.min_versions
            .iter()
            .find(|m| m.source == kind)
            .map(|m| m.version.as_str())
    }
}

/// A source environment product (R17).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SourceKind {
    Exchange,
    Domino,
    Imap,
    /// Mail, contacts and calendar; Drive to personal storage.
    GoogleWorkspace,
    GroupWise,
    SmbFileShare,
    Box,
}

impl SourceKind {
    /// The stored name.
    pub fn as_str(self) -> &'static str {
        match self {
            SourceKind::Exchange => "exchange",
            SourceKind::Domino => "domino",
            SourceKind::Imap => "imap",
            SourceKind::GoogleWorkspace => "google_workspace",
            SourceKind::GroupWise => "groupwise",
            SourceKind::SmbFileShare => "smb_file_share",
            SourceKind::Box => "box",
        }
    }

    /// Whether mailboxes migrate from it.
    pub fn carries_mail(self) -> bool {
        !matches!(self, SourceKind::SmbFileShare | SourceKind::Box)
    }

    /// Whether files migrate from it.
    pub fn carries_files(self) -> bool {
        matches!(
            self,
            SourceKind::GoogleWorkspace | SourceKind::SmbFileShare | SourceKind::Box
        )
    }
}

/// One source environment the customer migrates from (R14).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Source {
    pub kind: SourceKind,
    pub name: String,
    /// The product version (`2016 CU23`, `7.0.3 FP1`); needed where the terms set a minimum.
    pub version: Option<String>,
}

/// The volumes recorded for a migration (R14).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct Volumes {
    pub mailboxes: u64,
    pub users: u64,
    pub gigabytes: u64,
    pub files: u64,
}

/// One mailbox batch of the schedule.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Batch {
    /// Index into the plan's sources.
    pub source: usize,
    pub start: Timestamp,
    /// When the schedule holding this batch was given; `None` means it is being given now.
    pub scheduled_at: Option<Timestamp>,
    /// Mailboxes when the batch was scheduled; the 10% add allowance is counted on it.
    pub original_count: u32,
    pub added: u32,
    pub removed: u32,
    /// Target mailboxes in the batch that are not active (mail migrates only to active ones).
    pub inactive_targets: u32,
}

impl Batch {
    /// A batch of `count` mailboxes from `source`, scheduled at `scheduled_at`.
    pub fn new(
        source: usize,
        start: Timestamp,
        count: u32,
        scheduled_at: Option<Timestamp>,
    ) -> Self {
        Self {
            source,
            start,
            scheduled_at,
            original_count: count,
            added: 0,
            removed: 0,
            inactive_targets: 0,
        }
    }

    /// The final count: original, plus added, minus removed.
    pub fn count(&self) -> i64 {
        i64::from(self.original_count) + i64::from(self.added) - i64::from(self.removed)
    }
}

/// The kind of a file wave (R17: one pilot, then velocity waves).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum WaveKind {
    Pilot,
    Velocity,
}

/// One wave of a file migration.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct FileWave {
    pub source: usize,
    pub kind: WaveKind,
    pub start: Timestamp,
    pub files: u64,
    pub largest_file_bytes: u64,
}

/// The migration record and schedule the planner checks (R14, R17).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MigrationPlan {
    /// Paid seats of eligible plans (R1), which also pick the daily cap.
    pub seats: i64,
    pub language: Language,
    pub mail_service_onboarded: bool,
    pub sources: Vec<Source>,
    #[serde(default)]
    pub volumes: Volumes,
    pub batches: Vec<Batch>,
    #[serde(default)]
    pub file_waves: Vec<FileWave>,
}

/// A change to a scheduled batch's mailboxes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum BatchChange {
    Add { mailboxes: u32 },
    Remove { mailboxes: u32 },
}

fn broken(
    rule: Rule,
    field: impl Into<String>,
    limit: &str,
    message: impl Into<String>,
) -> RuleViolation {
    RuleViolation::new(rule, message)
        .on_field(field)
        .with("limit", limit)
}

/// A duration of `h` hours, bounded to ±20,000 years so that no setting can overflow the arithmetic.
fn hours(h: i64) -> SignedDuration {
    SignedDuration::from_hours(h.clamp(-24 * 366 * 20_000, 24 * 366 * 20_000))
}

/// `at` moved by `h` hours, pinned to the representable range rather than failing.
fn shift_hours(at: Timestamp, h: i64) -> Timestamp {
    at.checked_add(hours(h)).unwrap_or(if h < 0 {
        Timestamp::MIN
    } else {
        Timestamp::MAX
    })
}

fn utc_date(at: Timestamp) -> Date {
    at.to_zoned_datetime(TimeZone::UTC).date()
}

/// Reads the leading dotted number of a version (`7.0.3 FP1` → [7, 0, 3]).
fn parse_version(s: &str) -> Option<Vec<u64>> {
    let head: String = s
        .trim()
        .chars()
        .take_while(|c| c.is_ascii_digit() || *c == '.')
        .collect();
    let parts: Option<Vec<u64>> = head
        .trim_end_matches('.')
        .split('.')
        .map(|p| p.parse().ok())
        .collect();
    parts.filter(|p| !p.is_empty())
}

fn version_at_least(have: &[u64], need: &[u64]) -> bool {
    let n = have.len().max(need.len());
    let at = |v: &[u64], i: usize| v.get(i).copied().unwrap_or(0);
    for i in 0..n {
        match at(have, i).cmp(&at(need, i)) {
            std::cmp::Ordering::Greater => return true,
            std::cmp::Ordering::Less => return false,
            std::cmp::Ordering::Equal => {}
        }
    }
    true
}

/// R17 (with R1 and R11): checks a whole plan against every limit and names each one it breaks.
pub fn check_plan(
    plan: &MigrationPlan,
    limits: &MigrationLimits,
    now: Timestamp,
) -> Result<(), Vec<RuleViolation>> {
    let mut out = Vec::new();
    if plan.seats < limits.min_migration_seats {
        out.push(
            broken(
                Rule::R1,
                "seats",
                "min_migration_seats",
                format!(
                    "the tenant has {} seats; data-migration services need at least {} (below that, migration guidance only)",
                    plan.seats, limits.min_migration_seats
                ),
            )
            .with("allowed", limits.min_migration_seats.to_string()),
        );
    }
    if !plan.language.supports_migration() {
        let supported: Vec<&str> = Language::ALL
            .iter()
            .filter(|l| l.supports_migration())
            .map(|l| l.tag())
            .collect();
        out.push(
            broken(
                Rule::R11,
                "language",
                "migration_language",
                format!(
                    "migration help is not given in '{}'; it is given in: {}",
                    plan.language.tag(),
                    supported.join(", ")
                ),
            )
            .with("supported", supported.join(", ")),
        );
    }
    check_sources(plan, limits, &mut out);
    check_batches(plan, limits, now, &mut out);
    check_days(plan, limits, &mut out);
    check_file_waves(plan, limits, &mut out);
    if out.is_empty() {
        Ok(())
    } else {
        Err(out)
    }
}

fn check_sources(plan: &MigrationPlan, limits: &MigrationLimits, out: &mut Vec<RuleViolation>) {
    let mut imap = 0u32;
    for (i, s) in plan.sources.iter().enumerate() {
        if s.kind == SourceKind::Imap {
            imap += 1;
            if imap > limits.max_imap_systems {
                out.push(broken(
                    Rule::R17,
                    format!("sources[{i}].kind"),
                    "max_imap_systems",
                    format!(
                        "a migration draws from at most {} IMAP system(s)",
                        limits.max_imap_systems
                    ),
                ));
            }
        }
        let Some(need) = limits.min_version(s.kind) else {
            continue;
        };
        let field = format!("sources[{i}].version");
        let have = s.version.as_deref().and_then(parse_version);
        match (have, parse_version(need)) {
            (Some(have), Some(need_v)) if version_at_least(&have, &need_v) => {}
            (Some(_), _) => out.push(
                broken(
                    Rule::R17,
                    field,
                    "min_source_version",
                    format!(
                        "{} {} is not supported; the oldest supported version is {need}",
                        s.kind.as_str(),
                        s.version.as_deref().unwrap_or_default()
                    ),
                )
                .with("allowed", need),
            ),
            (None, _) => out.push(
                broken(
                    Rule::R17,
                    field,
                    "min_source_version",
                    format!(
                        "record the version of '{}' ({} {need} or later is supported)",
                        s.name,
                        s.kind.as_str()
                    ),
                )
                .with("allowed", need),
            ),
        }
    }
}

fn check_batches(
    plan: &MigrationPlan,
    limits: &MigrationLimits,
    now: Timestamp,
    out: &mut Vec<RuleViolation>,
) {
    if !plan.batches.is_empty() && !plan.mail_service_onboarded {
        out.push(broken(
            Rule::R17,
            "mail_service_onboarded",
            "mail_after_mail_service",
            "mail migrates only after the mail service is onboarded",
        ));
    }
    for (i, b) in plan.batches.iter().enumerate() {
        let at = |f: &str| format!("batches[{i}].{f}");
        match plan.sources.get(b.source) {
            None => out.push(broken(
                Rule::R17,
                at("source"),
                "mail_source",
                "no such source in the plan",
            )),
            Some(s) if !s.kind.carries_mail() => out.push(broken(
                Rule::R17,
                at("source"),
                "mail_source",
                format!(
                    "mailboxes do not migrate from {} ({})",
                    s.name,
                    s.kind.as_str()
                ),
            )),
            Some(_) => {}
        }
        if b.inactive_targets > 0 {
            out.push(
                broken(
                    Rule::R17,
                    at("inactive_targets"),
                    "active_mailboxes",
                    format!(
                        "{} target mailbox(es) are not active; mail migrates only to active mailboxes",
                        b.inactive_targets
                    ),
                )
                .with("value", b.inactive_targets.to_string()),
            );
        }
        if !limits.in_window(b.start) {
            out.push(
                broken(
                    Rule::R17,
                    at("start"),
                    "window",
                    format!(
                        "{} is outside the batch window ({} {:02}:{:02} to {} {:02}:{:02} UTC, both included)",
                        b.start,
                        day_name(limits.window_opens.day),
                        limits.window_opens.hour,
                        limits.window_opens.minute,
                        day_name(limits.window_closes.day),
                        limits.window_closes.hour,
                        limits.window_closes.minute
                    ),
                )
                .with("value", b.start.to_string()),
            );
        }
        let given = b.scheduled_at.unwrap_or(now);
        if !limits.has_notice(given, b.start) {
            out.push(
                broken(
                    Rule::R17,
                    at("start"),
                    "notice_days",
                    format!(
                        "a batch is scheduled at least {} whole days ahead; {} is too soon after {given}",
                        limits.notice_days, b.start
                    ),
                )
                .with("allowed", limits.notice_days.to_string()),
            );
        }
        if i128::from(b.added) * 100 > i128::from(b.original_count) * i128::from(limits.add_percent)
        {
            out.push(
                broken(
                    Rule::R17,
                    at("added"),
                    "add_percent",
                    format!(
                        "{} mailboxes added to a batch of {}; at most {}% of the original count may be added",
                        b.added, b.original_count, limits.add_percent
                    ),
                )
                .with("value", b.added.to_string()),
            );
        }
        if b.count() < 0 {
            out.push(broken(
                Rule::R17,
                at("removed"),
                "min_batch_mailboxes",
                "more mailboxes removed than the batch holds",
            ));
        } else if b.count() < i64::from(limits.min_batch_mailboxes) {
            out.push(
                broken(
                    Rule::R17,
                    at("count"),
                    "min_batch_mailboxes",
                    format!(
                        "a batch holds at least {} mailboxes; this one holds {}",
                        limits.min_batch_mailboxes,
                        b.count()
                    ),
                )
                .with("value", b.count().to_string())
                .with("allowed", limits.min_batch_mailboxes.to_string()),
            );
        }
    }
    check_source_order(plan, out);
}

/// R17: one source environment after another; a source's batches may not resume once another's began.
fn check_source_order(plan: &MigrationPlan, out: &mut Vec<RuleViolation>) {
    let mut order: Vec<usize> = (0..plan.batches.len()).collect();
    order.sort_by_key(|&i| (plan.batches[i].start, i));
    let mut finished = Vec::new();
    let mut current: Option<usize> = None;
    for i in order {
        let src = plan.batches[i].source;
        if current == Some(src) {
            continue;
        }
        if finished.contains(&src) {
            out.push(broken(
                Rule::R17,
                format!("batches[{i}].source"),
                "one_source_after_another",
                "sources migrate one after another: this batch returns to a source after another source's batches began",
            ));
            continue;
        }
        finished.extend(current);
        current = Some(src);
    }
}

/// R17: per UTC date of a batch's start, the number of batches and the daily cap on final counts.
fn check_days(plan: &MigrationPlan, limits: &MigrationLimits, out: &mut Vec<RuleViolation>) {
    if plan.batches.is_empty() {
        return;
    }
    if limits.cap_tier(plan.seats).is_none() {
        out.push(broken(
            Rule::R17,
            "seats",
            "daily_cap",
            format!("no daily cap is set for a tenant of {} seats", plan.seats),
        ));
        return;
    }
    let mut days: BTreeMap<Date, Vec<usize>> = BTreeMap::new();
    let mut order: Vec<usize> = (0..plan.batches.len()).collect();
    order.sort_by_key(|&i| (plan.batches[i].start, i));
    for i in order {
        days.entry(utc_date(plan.batches[i].start))
            .or_default()
            .push(i);
    }
    for (day, idx) in days {
        for &i in idx.iter().skip(limits.max_batches_per_day as usize) {
            out.push(
                broken(
                    Rule::R17,
                    format!("batches[{i}].start"),
                    "max_batches_per_day",
                    format!(
                        "{} batches start on {day} (UTC); at most {} a day",
                        idx.len(),
                        limits.max_batches_per_day
                    ),
                )
                .with("day", day.to_string()),
            );
        }
        let mut total = 0i64;
        for &i in &idx {
            total += plan.batches[i].count().max(0);
            if !limits.within_daily_cap(plan.seats, total) {
                let day_total: i64 = idx.iter().map(|&j| plan.batches[j].count().max(0)).sum();
                let cap = limits.daily_cap(plan.seats).unwrap_or_default();
                out.push(
                    broken(
                        Rule::R17,
                        format!("batches[{i}].count"),
                        "daily_cap",
                        format!(
                            "{day_total} mailboxes on {day} (UTC) exceed the daily cap of {cap} for a tenant of {} seats",
                            plan.seats
                        ),
                    )
                    .with("day", day.to_string())
                    .with("value", day_total.to_string())
                    .with("allowed", cap.to_string()),
                );
                break;
            }
        }
    }
}

/// R17: file waves: a file source, no file over the size limit, one pilot wave and it comes first.
fn check_file_waves(plan: &MigrationPlan, limits: &MigrationLimits, out: &mut Vec<RuleViolation>) {
    let mut order: Vec<usize> = (0..plan.file_waves.len()).collect();
    order.sort_by_key(|&i| (plan.file_waves[i].start, i));
    for (n, &i) in order.iter().enumerate() {
        let w = &plan.file_waves[i];
        let at = |f: &str| format!("file_waves[{i}].{f}");
        match plan.sources.get(w.source) {
            Some(s) if s.kind.carries_files() => {}
            _ => out.push(broken(
                Rule::R17,
                at("source"),
                "file_source",
                "files migrate from SMB file shares, Box or Google Drive only",
            )),
        }
        if !limits.file_is_migrated(w.largest_file_bytes) {
            out.push(
                broken(
                    Rule::R17,
                    at("largest_file_bytes"),
                    "max_file_bytes",
                    format!(
                        "files over {} bytes (15 GB) are not migrated; leave them out of the wave",
                        limits.max_file_bytes
                    ),
                )
                .with("value", w.largest_file_bytes.to_string())
                .with("allowed", limits.max_file_bytes.to_string()),
            );
        }
        match (n, w.kind) {
            (0, WaveKind::Velocity) => out.push(broken(
                Rule::R17,
                at("kind"),
                "pilot_wave_first",
                "file migration starts with one pilot wave, before any velocity wave",
            )),
            (n, WaveKind::Pilot) if n > 0 => out.push(broken(
                Rule::R17,
                at("kind"),
                "pilot_wave_first",
                "there is one pilot wave, the first; the later waves are velocity waves",
            )),
            _ => {}
        }
    }
}

fn day_name(d: DayOfWeek) -> &'static str {
    match d {
        DayOfWeek::Monday => "Monday",
        DayOfWeek::Tuesday => "Tuesday",
        DayOfWeek::Wednesday => "Wednesday",
        DayOfWeek::Thursday => "Thursday",
        DayOfWeek::Friday => "Friday",
        DayOfWeek::Saturday => "Saturday",
        DayOfWeek::Sunday => "Sunday",
    }
}

/// R17: adds or removes mailboxes of scheduled batch `index` at `at`; returns the changed plan, or every limit the change breaks.
pub fn check_change(
    plan: &MigrationPlan,
    index: usize,
    change: BatchChange,
    at: Timestamp,
    limits: &MigrationLimits,
) -> Result<MigrationPlan, Vec<RuleViolation>> {
    let Some(batch) = plan.batches.get(index) else {
        return Err(vec![broken(
            Rule::R17,
            "batch",
            "batch",
            format!("the plan has no batch {index}"),
        )]);
    };
    let mut out = Vec::new();
    let mut next = *batch;
    let field = |f: &str| format!("batches[{index}].{f}");
    match change {
        BatchChange::Add { mailboxes } => {
            let deadline = shift_hours(batch.start, -limits.add_deadline_days.saturating_mul(24));
            if at > deadline {
                out.push(
                    broken(
                        Rule::R17,
                        field("added"),
                        "add_deadline",
                        format!(
                            "mailboxes may be added until {} days before the batch ({deadline})",
                            limits.add_deadline_days
                        ),
                    )
                    .with("allowed", deadline.to_string()),
                );
            }
            next.added = batch.added.saturating_add(mailboxes);
            if i128::from(next.added) * 100
                > i128::from(batch.original_count) * i128::from(limits.add_percent)
            {
                let allowed =
                    i128::from(batch.original_count) * i128::from(limits.add_percent) / 100;
                out.push(
                    broken(
                        Rule::R17,
                        field("added"),
                        "add_percent",
                        format!(
                            "at most {}% of the batch's original {} mailboxes ({allowed}) may be added; this would add {}",
                            limits.add_percent, batch.original_count, next.added
                        ),
                    )
                    .with("value", next.added.to_string())
                    .with("allowed", allowed.to_string()),
                );
            }
        }
        BatchChange::Remove { mailboxes } => {
            let deadline = shift_hours(batch.start, -limits.remove_deadline_hours);
            if at > deadline {
                out.push(
                    broken(
                        Rule::R17,
                        field("removed"),
                        "remove_deadline",
                        format!(
                            "mailboxes may be removed until {} hours before the batch ({deadline})",
                            limits.remove_deadline_hours
                        ),
                    )
                    .with("allowed", deadline.to_string()),
                );
            }
            next.removed = batch.removed.saturating_add(mailboxes);
        }
    }
    let mut changed = plan.clone();
    changed.batches[index] = next;
    // The final count decides the minimum and the day's cap; the rest of the plan was checked before.
    if next.count() < i64::from(limits.min_batch_mailboxes) {
        out.push(
            broken(
                Rule::R17,
                field("count"),
                "min_batch_mailboxes",
                format!(
                    "a batch holds at least {} mailboxes; this change leaves {}",
                    limits.min_batch_mailboxes,
                    next.count()
                ),
            )
            .with("value", next.count().to_string()),
        );
    }
    let mut day = Vec::new();
    check_days(&changed, limits, &mut day);
    out.extend(day.into_iter().filter(|v| {
        v.detail
            .iter()
            .any(|(k, val)| k == "limit" && val == "daily_cap")
    }));
    if out.is_empty() {
        Ok(changed)
    } else {
        Err(out)
    }
}

/// R17: proposes batches for `mailboxes` from one source (index 0) that pass [`check_plan`]:
/// inside the window, at most the daily number, at least the minimum each, under the daily cap,
/// and no earlier than the notice after `now` (nor before `start`).
pub fn propose_schedule(
    mailboxes: u32,
    seats: i64,
    start: Timestamp,
    now: Timestamp,
    limits: &MigrationLimits,
) -> Result<Vec<Batch>, RuleViolation> {
    if seats < limits.min_migration_seats {
        return Err(broken(
            Rule::R1,
            "seats",
            "min_migration_seats",
            format!(
                "the tenant has {seats} seats; data-migration services need at least {} (below that, migration guidance only)",
                limits.min_migration_seats
            ),
        ));
    }
    if mailboxes == 0 {
        return Ok(Vec::new());
    }
    let min = i64::from(limits.min_batch_mailboxes.max(1));
    let total = i64::from(mailboxes);
    if total < min {
        return Err(broken(
            Rule::R17,
            "mailboxes",
            "min_batch_mailboxes",
            format!("{mailboxes} mailboxes cannot fill a batch of at least {min}"),
        ));
    }
    let cap = limits.daily_cap(seats).ok_or_else(|| {
        broken(
            Rule::R17,
            "seats",
            "daily_cap",
            format!("no daily cap is set for a tenant of {seats} seats"),
        )
    })?;
    if limits.max_batches_per_day == 0 || cap < min {
        return Err(broken(
            Rule::R17,
            "seats",
            "daily_cap",
            format!("a daily cap of {cap} mailboxes cannot hold a batch of {min}"),
        ));
    }
    // Fewest days the cap allows; each day then gets an even share, which stays within [min, cap].
    let day_count = (total + cap - 1) / cap;
    if day_count * min > total {
        return Err(broken(
            Rule::R17,
            "mailboxes",
            "daily_cap",
            format!("{mailboxes} mailboxes cannot be split into days of {min} to {cap} mailboxes"),
        ));
    }
    let notice = shift_hours(now, limits.notice_days.saturating_mul(24));
    let earliest = start.max(notice);
    let out_of_range = || {
        broken(
            Rule::R17,
            "start",
            "window",
            "no batch time can be found from this start",
        )
    };
    let mut date = utc_date(earliest);
    let mut batches = Vec::new();
    let mut day = 0i64;
    let mut idle_days = 0;
    while day < day_count {
        let slots = day_slots(date, earliest, limits).ok_or_else(out_of_range)?;
        date = date.tomorrow().map_err(|_| out_of_range())?;
        if slots.is_empty() {
            idle_days += 1;
            if idle_days > 14 {
                return Err(out_of_range());
            }
            continue;
        }
        idle_days = 0;
        let day_total = total / day_count + i64::from(day < total % day_count);
        let n = (day_total / min)
            .min(i64::from(limits.max_batches_per_day))
            .min(slots.len() as i64)
            .max(1);
        for k in 0..n {
            let count = day_total / n + i64::from(k < day_total % n);
            let slot = slots[(k as usize) * slots.len() / (n as usize)];
            batches.push(Batch::new(
                0,
                slot,
                u32::try_from(count).unwrap_or(u32::MAX),
                Some(now),
            ));
        }
        day += 1;
    }
    Ok(batches)
}

/// Whole-hour batch times on `date` (UTC) inside the window and not before `earliest`.
fn day_slots(date: Date, earliest: Timestamp, limits: &MigrationLimits) -> Option<Vec<Timestamp>> {
    let midnight = date.to_zoned_datetime(TimeZone::UTC).ok()?.timestamp();
    let mut out = Vec::new();
    for h in 0..24 {
        let t = midnight.checked_add(SignedDuration::from_hours(h)).ok()?;
        if t >= earliest && limits.in_window(t) {
            out.push(t);
        }
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn ts(s: &str) -> Timestamp {
        s.parse().unwrap()
    }

    /// Monday 1 June 2026; the schedule is given a month before.
    const MONDAY: &str = "2026-06-01";
    const GIVEN: &str = "2026-05-01T00:00:00Z";

    fn at(day_offset: i64, hm: &str) -> Timestamp {
        let base = ts(&format!("{MONDAY}T{hm}:00Z"));
        base.checked_add(SignedDuration::from_hours(24 * day_offset))
            .unwrap()
    }

    fn batch(start: Timestamp, count: u32) -> Batch {
        Batch::new(0, start, count, Some(ts(GIVEN)))
    }

    fn plan(seats: i64, batches: Vec<Batch>) -> MigrationPlan {
        MigrationPlan {
            seats,
            language: Language::English,
            mail_service_onboarded: true,
            sources: vec![Source {
                kind: SourceKind::Exchange,
                name: "Exchange 2016".into(),
                version: Some("2016 CU23".into()),
            }],
            volumes: Volumes::default(),
            batches,
            file_waves: Vec::new(),
        }
    }

    fn check(p: &MigrationPlan) -> Result<(), Vec<RuleViolation>> {
        check_plan(p, &MigrationLimits::default(), ts(GIVEN))
    }

    fn limits_broken(r: Result<(), Vec<RuleViolation>>) -> Vec<String> {
        r.err()
            .unwrap_or_default()
            .iter()
            .map(|v| {
                v.detail
                    .iter()
                    .find(|(k, _)| k == "limit")
                    .unwrap()
                    .1
                    .clone()
            })
            .collect()
    }

    fn refused_for(r: Result<(), Vec<RuleViolation>>, limit: &str, field: &str) {
        let vs = r.expect_err("the plan should be refused");
        assert!(
            vs.iter().any(|v| v.field.as_deref() == Some(field)
                && v.detail.contains(&("limit".into(), limit.into()))),
            "expected {limit} on {field}, got {vs:#?}"
        );
    }

    #[test]
    fn r17_the_fixture_monday_is_a_monday() {
        assert_eq!(
            utc_date(at(0, "12:00")).weekday(),
            jiff::civil::Weekday::Monday
        );
    }

    #[test]
    fn r17_batch_at_monday_0200_utc_is_inside_window() {
        check(&plan(2000, vec![batch(at(0, "02:00"), 100)])).unwrap();
    }

    #[test]
    fn r17_batch_at_monday_0159_is_refused() {
        refused_for(
            check(&plan(2000, vec![batch(at(0, "01:59"), 100)])),
            "window",
            "batches[0].start",
        );
        let just_before = at(0, "02:00")
            .checked_sub(SignedDuration::from_nanos(1))
            .unwrap();
        refused_for(
            check(&plan(2000, vec![batch(just_before, 100)])),
            "window",
            "batches[0].start",
        );
    }

    #[test]
    fn r17_batch_at_friday_2000_utc_is_inside_window() {
        check(&plan(2000, vec![batch(at(4, "20:00"), 100)])).unwrap();
    }

    #[test]
    fn r17_batch_after_friday_2000_is_refused() {
        let just_after = at(4, "20:00")
            .checked_add(SignedDuration::from_secs(1))
            .unwrap();
        refused_for(
            check(&plan(2000, vec![batch(just_after, 100)])),
            "window",
            "batches[0].start",
        );
        refused_for(
            check(&plan(2000, vec![batch(at(5, "12:00"), 100)])),
            "window",
            "batches[0].start",
        );
        refused_for(
            check(&plan(2000, vec![batch(at(6, "23:00"), 100)])),
            "window",
            "batches[0].start",
        );
    }

    #[test]
    fn r17_three_batches_a_day_are_allowed() {
        let b = vec![
            batch(at(1, "02:00"), 50),
            batch(at(1, "10:00"), 50),
            batch(at(1, "23:59"), 50),
        ];
        check(&plan(2000, b)).unwrap();
    }

    #[test]
    fn r17_fourth_batch_on_a_utc_day_is_refused() {
        let b = vec![
            batch(at(1, "02:00"), 40),
            batch(at(1, "10:00"), 40),
            batch(at(1, "18:00"), 40),
            batch(at(1, "19:00"), 40),
        ];
        refused_for(
            check(&plan(2000, b)),
            "max_batches_per_day",
            "batches[3].start",
        );
    }

    #[test]
    fn r17_day_is_the_utc_date_of_the_batch_start() {
        // Three on Tuesday and one at 00:00 Wednesday UTC: two different days.
        let b = vec![
            batch(at(1, "02:00"), 40),
            batch(at(1, "10:00"), 40),
            batch(at(1, "23:59"), 40),
            batch(at(2, "00:00"), 40),
        ];
        check(&plan(2000, b)).unwrap();
    }

    #[test]
    fn r17_exactly_14_days_notice_is_allowed() {
        let start = at(1, "10:00");
        let given = start
            .checked_sub(SignedDuration::from_hours(14 * 24))
            .unwrap();
        check(&plan(2000, vec![Batch::new(0, start, 100, Some(given))])).unwrap();
    }

    #[test]
    fn r17_one_second_short_of_14_whole_days_notice_is_refused() {
        let start = at(1, "10:00");
        let given = start
            .checked_sub(SignedDuration::from_secs(14 * 86_400 - 1))
            .unwrap();
        refused_for(
            check(&plan(2000, vec![Batch::new(0, start, 100, Some(given))])),
            "notice_days",
            "batches[0].start",
        );
    }

    #[test]
    fn r17_a_batch_without_a_schedule_date_counts_notice_from_now() {
        let start = at(1, "10:00");
        let p = plan(2000, vec![Batch::new(0, start, 100, None)]);
        let now_ok = start
            .checked_sub(SignedDuration::from_hours(14 * 24))
            .unwrap();
        assert!(check_plan(&p, &MigrationLimits::default(), now_ok).is_ok());
        let late = now_ok.checked_add(SignedDuration::from_secs(1)).unwrap();
        assert!(check_plan(&p, &MigrationLimits::default(), late).is_err());
    }

    #[test]
    fn r17_batch_of_35_is_allowed() {
        check(&plan(2000, vec![batch(at(1, "10:00"), 35)])).unwrap();
    }

    #[test]
    fn r17_batch_of_34_is_refused() {
        refused_for(
            check(&plan(2000, vec![batch(at(1, "10:00"), 34)])),
            "min_batch_mailboxes",
            "batches[0].count",
        );
    }

    #[test]
    fn r17_minimum_applies_to_the_final_count() {
        let mut b = batch(at(1, "10:00"), 40);
        b.removed = 6;
        refused_for(
            check(&plan(2000, vec![b])),
            "min_batch_mailboxes",
            "batches[0].count",
        );
        b.removed = 5;
        check(&plan(2000, vec![b])).unwrap();
    }

    fn one_day(seats: i64, total: u32) -> MigrationPlan {
        // Split over three batches of one day so that the cap, not the batch, is what is measured.
        let a = total / 3;
        plan(
            seats,
            vec![
                batch(at(2, "02:00"), a),
                batch(at(2, "08:00"), a),
                batch(at(2, "14:00"), total - 2 * a),
            ],
        )
    }

    #[test]
    fn r17_cap_compares_exactly_without_rounding() {
        // 20% of 1,003 seats is 200.6: 200 fits, 201 does not (rounding would have let it through).
        check(&one_day(1_003, 200)).unwrap();
        refused_for(check(&one_day(1_003, 201)), "daily_cap", "batches[2].count");
        assert!(MigrationLimits::default().within_daily_cap(1_003, 200));
        assert!(!MigrationLimits::default().within_daily_cap(1_003, 201));
    }

    #[test]
    fn r17_cap_is_25_percent_up_to_1000_seats() {
        check(&one_day(1_000, 250)).unwrap();
        refused_for(check(&one_day(1_000, 251)), "daily_cap", "batches[2].count");
        check(&one_day(500, 125)).unwrap();
        refused_for(check(&one_day(500, 126)), "daily_cap", "batches[2].count");
    }

    #[test]
    fn r17_cap_is_20_percent_from_1001_to_5000_seats() {
        check(&one_day(1_001, 200)).unwrap();
        refused_for(check(&one_day(1_001, 201)), "daily_cap", "batches[2].count");
        check(&one_day(5_000, 1_000)).unwrap();
        refused_for(
            check(&one_day(5_000, 1_001)),
            "daily_cap",
            "batches[2].count",
        );
    }

    #[test]
    fn r17_cap_is_15_percent_from_5001_to_10000_seats() {
        check(&one_day(5_001, 750)).unwrap();
        refused_for(check(&one_day(5_001, 751)), "daily_cap", "batches[2].count");
        check(&one_day(10_000, 1_500)).unwrap();
        refused_for(
            check(&one_day(10_000, 1_501)),
            "daily_cap",
            "batches[2].count",
        );
    }

    #[test]
    fn r17_cap_is_1500_mailboxes_above_10000_seats() {
        check(&one_day(10_001, 1_500)).unwrap();
        refused_for(
            check(&one_day(10_001, 1_501)),
            "daily_cap",
            "batches[2].count",
        );
        check(&one_day(250_000, 1_500)).unwrap();
        refused_for(
            check(&one_day(250_000, 1_501)),
            "daily_cap",
            "batches[2].count",
        );
    }

    #[test]
    fn r17_cap_applies_to_final_counts_per_utc_day() {
        let mut p = one_day(1_000, 240);
        p.batches[0].added = 8;
        p.batches[0].original_count = 80;
        check(&p).unwrap();
        p.batches[1].added = 3;
        p.batches[1].original_count = 80;
        refused_for(check(&p), "daily_cap", "batches[2].count");
        // The same volume over two UTC days is fine.
        p.batches[2].start = at(3, "02:00");
        check(&p).unwrap();
    }

    #[test]
    fn r17_adding_10_percent_of_the_original_count_is_allowed() {
        let p = plan(2000, vec![batch(at(7, "10:00"), 100)]);
        let now = at(4, "10:00");
        let changed = check_change(
            &p,
            0,
            BatchChange::Add { mailboxes: 10 },
            now,
            &MigrationLimits::default(),
        )
        .unwrap();
        assert_eq!(changed.batches[0].count(), 110);
        check(&changed).unwrap();
    }

    #[test]
    fn r17_adding_more_than_10_percent_of_the_original_count_is_refused() {
        let limits = MigrationLimits::default();
        let p = plan(2000, vec![batch(at(7, "10:00"), 100)]);
        let now = at(0, "10:00");
        let err =
            check_change(&p, 0, BatchChange::Add { mailboxes: 11 }, now, &limits).unwrap_err();
        assert_eq!(limits_broken(Err(err)), vec!["add_percent"]);
        // Cumulative, and counted on the original count even after removals.
        let p = check_change(&p, 0, BatchChange::Remove { mailboxes: 30 }, now, &limits).unwrap();
        let p = check_change(&p, 0, BatchChange::Add { mailboxes: 6 }, now, &limits).unwrap();
        let p2 = check_change(&p, 0, BatchChange::Add { mailboxes: 4 }, now, &limits).unwrap();
        assert_eq!(p2.batches[0].count(), 80);
        assert!(check_change(&p2, 0, BatchChange::Add { mailboxes: 1 }, now, &limits).is_err());
    }

    #[test]
    fn r17_adding_exactly_3_days_before_is_allowed() {
        let start = at(7, "10:00");
        let now = start.checked_sub(SignedDuration::from_hours(72)).unwrap();
        let p = plan(2000, vec![batch(start, 100)]);
        check_change(
            &p,
            0,
            BatchChange::Add { mailboxes: 1 },
            now,
            &MigrationLimits::default(),
        )
        .unwrap();
    }

    #[test]
    fn r17_adding_less_than_3_days_before_is_refused() {
        let start = at(7, "10:00");
        let now = start
            .checked_sub(SignedDuration::from_secs(72 * 3600 - 1))
            .unwrap();
        let p = plan(2000, vec![batch(start, 100)]);
        let err = check_change(
            &p,
            0,
            BatchChange::Add { mailboxes: 1 },
            now,
            &MigrationLimits::default(),
        )
        .unwrap_err();
        assert_eq!(limits_broken(Err(err)), vec!["add_deadline"]);
    }

    #[test]
    fn r17_removing_exactly_24_hours_before_is_allowed() {
        let start = at(7, "10:00");
        let now = start.checked_sub(SignedDuration::from_hours(24)).unwrap();
        let p = plan(2000, vec![batch(start, 100)]);
        let changed = check_change(
            &p,
            0,
            BatchChange::Remove { mailboxes: 65 },
            now,
            &MigrationLimits::default(),
        )
        .unwrap();
        assert_eq!(changed.batches[0].count(), 35);
    }

    #[test]
    fn r17_removing_less_than_24_hours_before_is_refused() {
        let start = at(7, "10:00");
        let now = start
            .checked_sub(SignedDuration::from_secs(24 * 3600 - 1))
            .unwrap();
        let p = plan(2000, vec![batch(start, 100)]);
        let err = check_change(
            &p,
            0,
            BatchChange::Remove { mailboxes: 1 },
            now,
            &MigrationLimits::default(),
        )
        .unwrap_err();
        assert_eq!(limits_broken(Err(err)), vec!["remove_deadline"]);
    }

    #[test]
    fn r17_removing_below_35_is_refused() {
        let p = plan(2000, vec![batch(at(7, "10:00"), 100)]);
        let err = check_change(
            &p,
            0,
            BatchChange::Remove { mailboxes: 66 },
            at(0, "10:00"),
            &MigrationLimits::default(),
        )
        .unwrap_err();
        assert_eq!(limits_broken(Err(err)), vec!["min_batch_mailboxes"]);
    }

    #[test]
    fn r17_adding_past_the_daily_cap_is_refused() {
        let mut p = one_day(1_000, 250);
        for b in &mut p.batches {
            b.original_count = b.count() as u32;
        }
        let err = check_change(
            &p,
            0,
            BatchChange::Add { mailboxes: 1 },
            ts(GIVEN),
            &MigrationLimits::default(),
        )
        .unwrap_err();
        assert_eq!(limits_broken(Err(err)), vec!["daily_cap"]);
    }

    fn file_plan(waves: Vec<FileWave>) -> MigrationPlan {
        let mut p = plan(2000, Vec::new());
        p.sources.push(Source {
            kind: SourceKind::SmbFileShare,
            name: "\\\\fs01\\shares".into(),
            version: Some("3.1.1".into()),
        });
        p.file_waves = waves;
        p
    }

    fn wave(kind: WaveKind, day: i64, largest: u64) -> FileWave {
        FileWave {
            source: 1,
            kind,
            start: at(day, "10:00"),
            files: 10_000,
            largest_file_bytes: largest,
        }
    }

    #[test]
    fn r17_exactly_15gb_file_is_allowed() {
        assert!(MigrationLimits::default().file_is_migrated(15_000_000_000));
        check(&file_plan(vec![wave(WaveKind::Pilot, 1, 15_000_000_000)])).unwrap();
    }

    #[test]
    fn r17_file_one_byte_over_15gb_is_refused() {
        assert!(!MigrationLimits::default().file_is_migrated(15_000_000_001));
        refused_for(
            check(&file_plan(vec![wave(WaveKind::Pilot, 1, 15_000_000_001)])),
            "max_file_bytes",
            "file_waves[0].largest_file_bytes",
        );
    }

    #[test]
    fn r17_files_start_with_one_pilot_wave_then_velocity_waves() {
        check(&file_plan(vec![
            wave(WaveKind::Velocity, 8, 1),
            wave(WaveKind::Pilot, 1, 1),
            wave(WaveKind::Velocity, 9, 1),
        ]))
        .unwrap();
    }

    #[test]
    fn r17_velocity_wave_before_the_pilot_is_refused() {
        refused_for(
            check(&file_plan(vec![
                wave(WaveKind::Pilot, 8, 1),
                wave(WaveKind::Velocity, 1, 1),
            ])),
            "pilot_wave_first",
            "file_waves[1].kind",
        );
        refused_for(
            check(&file_plan(vec![
                wave(WaveKind::Pilot, 1, 1),
                wave(WaveKind::Pilot, 8, 1),
            ])),
            "pilot_wave_first",
            "file_waves[1].kind",
        );
    }

    #[test]
    fn r17_files_do_not_migrate_from_a_mail_only_source() {
        let mut w = wave(WaveKind::Pilot, 1, 1);
        w.source = 0;
        refused_for(
            check(&file_plan(vec![w])),
            "file_source",
            "file_waves[0].source",
        );
    }

    fn with_source(kind: SourceKind, version: Option<&str>) -> MigrationPlan {
        let mut p = plan(2000, Vec::new());
        p.sources = vec![Source {
            kind,
            name: "src".into(),
            version: version.map(String::from),
        }];
        p
    }

    #[test]
    fn r17_source_versions_at_the_minimum_are_allowed() {
        for (kind, v) in [
            (SourceKind::Exchange, "2003"),
            (SourceKind::Exchange, "2019"),
            (SourceKind::Domino, "7.0.3"),
            (SourceKind::Domino, "7.0.3 FP1"),
            (SourceKind::Domino, "8.5"),
            (SourceKind::GroupWise, "7.0.4"),
            (SourceKind::GroupWise, "18"),
            (SourceKind::SmbFileShare, "2.0"),
            (SourceKind::SmbFileShare, "3.1.1"),
        ] {
            assert!(check(&with_source(kind, Some(v))).is_ok(), "{kind:?} {v}");
        }
        for kind in [
            SourceKind::Imap,
            SourceKind::GoogleWorkspace,
            SourceKind::Box,
        ] {
            check(&with_source(kind, None)).unwrap();
        }
    }

    #[test]
    fn r17_source_versions_below_the_minimum_are_refused() {
        for (kind, v) in [
            (SourceKind::Exchange, Some("2000")),
            (SourceKind::Domino, Some("7.0.2")),
            (SourceKind::Domino, Some("6.5")),
            (SourceKind::GroupWise, Some("7.0.3")),
            (SourceKind::SmbFileShare, Some("1.0")),
            (SourceKind::Exchange, None),
            (SourceKind::Domino, Some("unknown")),
        ] {
            refused_for(
                check(&with_source(kind, v)),
                "min_source_version",
                "sources[0].version",
            );
        }
    }

    #[test]
    fn r17_one_imap_system_only() {
        let mut p = with_source(SourceKind::Imap, None);
        check(&p).unwrap();
        p.sources.push(Source {
            kind: SourceKind::Imap,
            name: "second".into(),
            version: None,
        });
        refused_for(check(&p), "max_imap_systems", "sources[1].kind");
    }

    #[test]
    fn r17_mail_migrates_only_after_the_mail_service_is_onboarded() {
        let mut p = plan(2000, vec![batch(at(1, "10:00"), 100)]);
        p.mail_service_onboarded = false;
        refused_for(
            check(&p),
            "mail_after_mail_service",
            "mail_service_onboarded",
        );
    }

    #[test]
    fn r17_mail_migrates_only_to_active_mailboxes() {
        let mut b = batch(at(1, "10:00"), 100);
        b.inactive_targets = 1;
        refused_for(
            check(&plan(2000, vec![b])),
            "active_mailboxes",
            "batches[0].inactive_targets",
        );
    }

    #[test]
    fn r17_mail_does_not_migrate_from_a_file_share() {
        let mut p = plan(2000, vec![batch(at(1, "10:00"), 100)]);
        p.sources[0] = Source {
            kind: SourceKind::Box,
            name: "Box".into(),
            version: None,
        };
        refused_for(check(&p), "mail_source", "batches[0].source");
    }

    fn two_sources(batches: Vec<Batch>) -> MigrationPlan {
        let mut p = plan(2000, batches);
        p.sources.push(Source {
            kind: SourceKind::GoogleWorkspace,
            name: "Gmail".into(),
            version: None,
        });
        p
    }

    #[test]
    fn r17_sources_migrate_one_after_another() {
        let mut b2 = batch(at(2, "10:00"), 50);
        b2.source = 1;
        check(&two_sources(vec![
            batch(at(1, "10:00"), 50),
            batch(at(1, "12:00"), 50),
            b2,
        ]))
        .unwrap();
    }

    #[test]
    fn r17_interleaved_sources_are_refused() {
        let mut b2 = batch(at(1, "12:00"), 50);
        b2.source = 1;
        refused_for(
            check(&two_sources(vec![
                batch(at(1, "10:00"), 50),
                b2,
                batch(at(2, "10:00"), 50),
            ])),
            "one_source_after_another",
            "batches[2].source",
        );
    }

    #[test]
    fn r11_migration_help_only_in_its_eight_languages() {
        let mut p = plan(2000, vec![batch(at(1, "10:00"), 100)]);
        for l in [
            Language::ChineseTraditional,
            Language::ChineseSimplified,
            Language::PortugueseBrazil,
        ] {
            p.language = l;
            check(&p).unwrap();
        }
        p.language = Language::Korean;
        let vs = check(&p).unwrap_err();
        assert_eq!(vs[0].rule, Rule::R11);
        assert_eq!(vs[0].field.as_deref(), Some("language"));
    }

    #[test]
    fn r1_migration_needs_500_seats_and_499_is_guidance_only() {
        check(&plan(500, vec![batch(at(1, "10:00"), 100)])).unwrap();
        let vs = check(&plan(499, vec![batch(at(1, "10:00"), 100)])).unwrap_err();
        assert!(vs
            .iter()
            .any(|v| v.rule == Rule::R1 && v.field.as_deref() == Some("seats")));
        assert!(propose_schedule(
            1_000,
            499,
            at(1, "00:00"),
            ts(GIVEN),
            &MigrationLimits::default()
        )
        .is_err());
    }

    #[test]
    fn r17_every_broken_limit_is_named() {
        let mut late = batch(at(5, "10:00"), 20);
        late.inactive_targets = 2;
        let mut p = plan(2000, vec![late]);
        p.language = Language::Thai;
        let mut got = limits_broken(check(&p));
        got.sort();
        assert_eq!(
            got,
            vec![
                "active_mailboxes",
                "migration_language",
                "min_batch_mailboxes",
                "window"
            ]
        );
    }

    #[test]
    fn r17_limits_are_programme_settings() {
        let limits = MigrationLimits {
            max_batches_per_day: 4,
            min_batch_mailboxes: 10,
            window_closes: WeeklyTime {
                day: DayOfWeek::Saturday,
                hour: 12,
                minute: 0,
            },
            ..MigrationLimits::default()
        };
        limits.validate().unwrap();
        let b = vec![
            batch(at(5, "02:00"), 10),
            batch(at(5, "03:00"), 10),
            batch(at(5, "04:00"), 10),
            batch(at(5, "12:00"), 10),
        ];
        check_plan(&plan(2000, b), &limits, ts(GIVEN)).unwrap();
    }

    #[test]
    fn r17_default_limits_validate() {
        MigrationLimits::default().validate().unwrap();
        let bad = MigrationLimits {
            window_opens: WeeklyTime {
                day: DayOfWeek::Monday,
                hour: 24,
                minute: 0,
            },
            ..MigrationLimits::default()
        };
        assert!(bad.validate().is_err());
    }

    #[test]
    fn r17_proposed_schedule_starts_after_the_notice_and_passes_the_plan_check() {
        let now = ts("2026-06-03T15:27:00Z");
        let batches =
            propose_schedule(3_000, 2_000, now, now, &MigrationLimits::default()).unwrap();
        let earliest = now
            .checked_add(SignedDuration::from_hours(14 * 24))
            .unwrap();
        assert!(batches.iter().all(|b| b.start >= earliest));
        assert_eq!(batches.iter().map(|b| b.count()).sum::<i64>(), 3_000);
        check_plan(&plan(2_000, batches), &MigrationLimits::default(), now).unwrap();
    }

    #[test]
    fn r17_propose_refuses_fewer_mailboxes_than_one_batch() {
        let err = propose_schedule(
            34,
            2_000,
            at(0, "00:00"),
            ts(GIVEN),
            &MigrationLimits::default(),
        )
        .unwrap_err();
        assert_eq!(err.rule, Rule::R17);
        assert!(propose_schedule(
            35,
            2_000,
            at(0, "00:00"),
            ts(GIVEN),
            &MigrationLimits::default()
        )
        .is_ok());
    }

    proptest! {
        #[test]
        fn r17_proposed_schedules_always_pass_check_plan(
            mailboxes in 35u32..40_000,
            seats in 500i64..60_000,
            start_secs in 1_700_000_000i64..2_100_000_000,
            now_back_secs in -3_000_000i64..3_000_000,
        ) {
            let limits = MigrationLimits::default();
            let start = Timestamp::from_second(start_secs).unwrap();
            let now = Timestamp::from_second(start_secs - now_back_secs).unwrap();
            let batches = propose_schedule(mailboxes, seats, start, now, &limits).unwrap();
            prop_assert_eq!(batches.iter().map(|b| b.count()).sum::<i64>(), i64::from(mailboxes));
            prop_assert!(batches.iter().all(|b| b.start >= start));
            let p = plan(seats, batches);
            let checked = check_plan(&p, &limits, now);
            prop_assert!(checked.is_ok(), "{:?}", checked);
        }
    }
}
