//! Calendars as the scheduler and the R15 clocks read them: region hours and holidays, staff time
//! off, what every staff member looks like to the scheduler, and the service-level settings.

use std::collections::BTreeMap;

use fasttrack_core::calendar::{DayInterval, RegionCalendar, WorkingHours};
use fasttrack_core::types::IanaZone;
use serde_json::json;

use crate::audit::audit;
use crate::{new_id, read, write_tx, AuditCtx, Holiday, Region, Store, StoreError};

/// A staff member's absence, `[starts_at, ends_at)` in UTC seconds.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct TimeOff {
    pub id: String,
    pub user_id: String,
    pub starts_at: i64,
    pub ends_at: i64,
    pub reason: String,
}

/// A staff member who can hold meetings, as the scheduler needs them.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct StaffRow {
    pub user_id: String,
    pub name: String,
    pub email: String,
    pub role: String,
    pub region_id: String,
    pub weekly_capacity: i64,
}

/// Everything a slot search or a batch needs, read in a handful of queries.
#[derive(Debug, Clone, Default)]
pub struct SchedulingData {
    pub staff: Vec<StaffRow>,
    /// `(user_id, spoken language)` pairs.
    pub languages: Vec<(String, String)>,
    /// `(user_id, starts_at, ends_at)` of absences overlapping the window.
    pub time_off: Vec<(String, i64, i64)>,
    /// `(staff_id, starts_at, ends_at)` of booked meetings overlapping the window.
    pub bookings: Vec<(String, i64, i64)>,
    pub regions: Vec<Region>,
    pub holidays: Vec<Holiday>,
    /// Meetings ever booked: the round-robin cursor of fair assignment.
    pub total_bookings: i64,
}

/// R15: the programme's service-level targets.
#[derive(Debug, Clone, Copy, PartialEq, Eq, sqlx::FromRow)]
pub struct SlaSettings {
    pub first_response_minutes: i64,
    pub first_meeting_minutes: i64,
    pub near_breach_percent: i64,
}

impl Default for SlaSettings {
    fn default() -> Self {
        // 8 business hours to a first response, 40 to a first meeting; flag at 80 %.
        SlaSettings {
            first_response_minutes: 480,
            first_meeting_minutes: 2400,
            near_breach_percent: 80,
        }
    }
}

/// Reads stored working hours: `{"mon": ["09:00-12:30", …]}` (the core's form) or
/// `{"mon": [["09:00","12:30"], …]}` (the regions API's form).
pub fn parse_working_hours(json_text: &str) -> Result<WorkingHours, String> {
    let raw: BTreeMap<String, Vec<serde_json::Value>> =
        serde_json::from_str(json_text).map_err(|e| format!("working hours: {e}"))?;
    let mut week: [Vec<DayInterval>; 7] = Default::default();
    for (day, intervals) in raw {
        let wd = fasttrack_core::calendar::parse_weekday(&day)?;
        let slot = &mut week[wd.to_monday_zero_offset() as usize];
        for iv in intervals {
            let text = match &iv {
                serde_json::Value::String(s) => s.clone(),
                serde_json::Value::Array(pair) if pair.len() == 2 => format!(
                    "{}-{}",
                    pair[0].as_str().unwrap_or_default(),
                    pair[1].as_str().unwrap_or_default()
                ),
                other => return Err(format!("{day}: '{other}' is not an interval")),
            };
            slot.push(DayInterval::parse(&text).map_err(|e| format!("{day}: {e}"))?);
        }
        slot.sort();
    }
    WorkingHours::new(week)
}

/// R12: a region's calendar (zone, hours, holidays) from its stored rows.
pub fn region_calendar(
    region: &Region,
    holidays: &[Holiday],
) -> Result<RegionCalendar, StoreError> {
    let zone = IanaZone::parse(&region.time_zone)
        .map_err(|e| StoreError::Corrupt(format!("region {}: {e}", region.id)))?;
    let hours = parse_working_hours(&region.working_hours)
        .map_err(|e| StoreError::Corrupt(format!("region {}: {e}", region.id)))?;
    let days = holidays
        .iter()
        .filter(|h| h.region_id == region.id)
        .filter_map(|h| h.day.parse::<jiff::civil::Date>().ok());
    Ok(RegionCalendar::new(zone, hours).with_holidays(days))
}

impl Store {
    /// A region's calendar with its holidays.
    #[tracing::instrument(name = "Reading a region's calendar", skip_all)]
    pub async fn region_calendar(&self, region_id: &str) -> Result<RegionCalendar, StoreError> {
        let region = self.get_region(region_id).await?;
        let holidays = self.list_holidays(region_id).await?;
        region_calendar(&region, &holidays)
    }

    /// Removes one public holiday of a region; `NotFound` when there was none that day.
    #[tracing::instrument(name = "Removing a holiday", skip_all)]
    pub async fn delete_holiday(
        &self,
        region_id: &str,
        day: &str,
        ctx: &AuditCtx,
    ) -> Result<(), StoreError> {
        write_tx!(self, |tx| {
            let n = sqlx::query("DELETE FROM holidays WHERE region_id = $1 AND day = $2")
                .bind(region_id)
                .bind(day)
                .execute(&mut *tx)
                .await?
                .rows_affected();
            if n == 0 {
                return Err(StoreError::NotFound);
            }
            audit!(
                tx,
                ctx,
                None::<String>,
                "region.holiday_delete",
                "region",
                region_id.to_string(),
                json!({"day": day})
            );
            Ok(())
        })
    }

    /// Records an absence of a staff member.
    #[tracing::instrument(name = "Recording time off", skip_all)]
    pub async fn add_time_off(
        &self,
        user_id: &str,
        starts_at: i64,
        ends_at: i64,
        reason: &str,
        ctx: &AuditCtx,
    ) -> Result<TimeOff, StoreError> {
        let t = TimeOff {
            id: new_id(),
            user_id: user_id.to_string(),
            starts_at,
            ends_at,
            reason: reason.to_string(),
        };
        write_tx!(self, |tx| {
            sqlx::query(
                "INSERT INTO staff_time_off (id, user_id, starts_at, ends_at, reason) VALUES ($1, $2, $3, $4, $5)",
            )
            .bind(&t.id)
            .bind(&t.user_id)
            .bind(t.starts_at)
            .bind(t.ends_at)
            .bind(&t.reason)
            .execute(&mut *tx)
            .await?;
            audit!(
                tx,
                ctx,
                None::<String>,
                "staff.time_off_add",
                "user",
                t.user_id.clone(),
                json!({"id": t.id, "starts_at": t.starts_at, "ends_at": t.ends_at, "reason": t.reason})
            );
            Ok(())
        })?;
        Ok(t)
    }

    /// A staff member's absences ending after `from`, earliest first.
    #[tracing::instrument(name = "Listing time off", skip_all)]
    pub async fn list_time_off(
        &self,
        user_id: &str,
        from: i64,
    ) -> Result<Vec<TimeOff>, StoreError> {
        Ok(read!(self, |p| sqlx::query_as(
            "SELECT id, user_id, starts_at, ends_at, reason FROM staff_time_off
             WHERE user_id = $1 AND ends_at > $2 ORDER BY starts_at, id"
        )
        .bind(user_id)
        .bind(from)
        .fetch_all(p)
        .await?))
    }

    /// Removes an absence of a staff member.
    #[tracing::instrument(name = "Removing time off", skip_all)]
    pub async fn delete_time_off(
        &self,
        user_id: &str,
        id: &str,
        ctx: &AuditCtx,
    ) -> Result<(), StoreError> {
        write_tx!(self, |tx| {
            let n = sqlx::query("DELETE FROM staff_time_off WHERE id = $1 AND user_id = $2")
                .bind(id)
                .bind(user_id)
                .execute(&mut *tx)
                .await?
                .rows_affected();
            if n == 0 {
                return Err(StoreError::NotFound);
            }
            audit!(
                tx,
                ctx,
                None::<String>,
                "staff.time_off_delete",
                "user",
                user_id.to_string(),
                json!({"id": id})
            );
            Ok(())
        })
    }

    /// Every active staff member with their languages, absences and bookings in `[from, to)`,
    /// and every region calendar: what the scheduler needs.
    #[tracing::instrument(name = "Reading staff availability", skip_all)]
    pub async fn scheduling_data(&self, from: i64, to: i64) -> Result<SchedulingData, StoreError> {
        let staff: Vec<StaffRow> = read!(self, |p| sqlx::query_as(
            "SELECT u.id AS user_id, u.name, u.email, u.role, s.region_id, s.weekly_capacity
             FROM users u JOIN staff_profiles s ON s.user_id = u.id
             WHERE NOT u.disabled ORDER BY u.id"
        )
        .fetch_all(p)
        .await?);
        let languages: Vec<(String, String)> = read!(self, |p| sqlx::query_as(
            "SELECT user_id, language FROM staff_languages ORDER BY user_id, language"
        )
        .fetch_all(p)
        .await?);
        let time_off: Vec<(String, i64, i64)> = read!(self, |p| {
            sqlx::query_as(
            "SELECT user_id, starts_at, ends_at FROM staff_time_off WHERE ends_at > $1 AND starts_at < $2"
        )
        .bind(from)
        .bind(to)
        .fetch_all(p)
        .await?
        });
        let bookings: Vec<(String, i64, i64)> = read!(self, |p| sqlx::query_as(
            "SELECT staff_id, starts_at, ends_at FROM meetings
             WHERE state = 'booked' AND ends_at > $1 AND starts_at < $2"
        )
        .bind(from)
        .bind(to)
        .fetch_all(p)
        .await?);
        let total_bookings: i64 = read!(self, |p| sqlx::query_scalar(
            "SELECT COUNT(*) FROM meetings"
        )
        .fetch_one(p)
        .await?);
        let regions = self.list_regions().await?;
        let holidays: Vec<Holiday> = read!(self, |p| sqlx::query_as(
            "SELECT region_id, day, name FROM holidays ORDER BY region_id, day"
        )
        .fetch_all(p)
        .await?);
        Ok(SchedulingData {
            staff,
            languages,
            time_off,
            bookings,
            regions,
            holidays,
            total_bookings,
        })
    }

    /// A number that changes whenever anything [`Store::scheduling_data`] reads changes, in the
    /// same commit (kept by triggers): a copy of the team built after reading it is current until
    /// it moves.
    #[tracing::instrument(name = "Reading the scheduling version", skip_all)]
    pub async fn scheduling_version(&self) -> Result<i64, StoreError> {
        // The migrations make the row and nothing deletes it; without it no change would ever
        // show, so its absence is an error rather than a version.
        let v: Option<(i64,)> = self
            .inline_row("SELECT v FROM scheduling_version WHERE id = 1", &[])
            .await?;
        v.map(|(v,)| v)
            .ok_or_else(|| StoreError::Corrupt("the scheduling version's row is missing".into()))
    }

    /// R15: the programme's service-level targets.
    #[tracing::instrument(name = "Reading the service-level targets", skip_all)]
    pub async fn sla_settings(&self) -> Result<SlaSettings, StoreError> {
        let row: Option<SlaSettings> = read!(self, |p| {
            sqlx::query_as(
            "SELECT first_response_minutes, first_meeting_minutes, near_breach_percent FROM sla_settings WHERE id = 1"
        )
        .fetch_optional(p)
        .await?
        });
        Ok(row.unwrap_or_default())
    }

    /// R15: changes the programme's service-level targets.
    #[tracing::instrument(name = "Saving the service-level targets", skip_all)]
    pub async fn save_sla_settings(
        &self,
        s: &SlaSettings,
        ctx: &AuditCtx,
    ) -> Result<SlaSettings, StoreError> {
        write_tx!(self, |tx| {
            sqlx::query(
                "INSERT INTO sla_settings (id, first_response_minutes, first_meeting_minutes, near_breach_percent, updated_at)
                 VALUES (1, $1, $2, $3, $4)
                 ON CONFLICT (id) DO UPDATE SET first_response_minutes = excluded.first_response_minutes,
                    first_meeting_minutes = excluded.first_meeting_minutes,
                    near_breach_percent = excluded.near_breach_percent, updated_at = excluded.updated_at",
            )
            .bind(s.first_response_minutes)
            .bind(s.first_meeting_minutes)
            .bind(s.near_breach_percent)
            .bind(ctx.at)
            .execute(&mut *tx)
            .await?;
            audit!(
                tx,
                ctx,
                None::<String>,
                "sla.settings",
                "sla_settings",
                "1".to_string(),
                json!({"first_response_minutes": s.first_response_minutes,
                       "first_meeting_minutes": s.first_meeting_minutes,
                       "near_breach_percent": s.near_breach_percent})
            );
            Ok(())
        })?;
        self.sla_settings().await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn r12_both_stored_forms_of_working_hours_read_the_same() {
        let a = parse_working_hours(r#"{"mon": [["09:00","12:30"],["13:30","18:00"]]}"#).unwrap();
        let b = parse_working_hours(r#"{"mon": ["09:00-12:30", "13:30-18:00"]}"#).unwrap();
        assert_eq!(a, b);
        assert!(parse_working_hours(r#"{"mon": [["18:00","09:00"]]}"#).is_err());
        assert!(parse_working_hours(r#"{"funday": []}"#).is_err());
    }
}
