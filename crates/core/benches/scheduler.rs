//! In-process scheduler benchmarks (R10–R12): one slot search, and one batch of 100,000 requests.
//!
//! Run with `cargo bench -p fasttrack-core --bench scheduler`; the figures go into BENCHMARKS.md.
//! The input comes from a seeded generator, so every run schedules the same requests, over real
//! IANA zones whose daylight-saving changes fall inside the four weeks searched.

use std::collections::{BTreeSet, HashMap};
use std::hint::black_box;
use std::time::Duration;

use criterion::{criterion_group, criterion_main, Criterion, SamplingMode, Throughput};
use fasttrack_core::calendar::{parse_intervals, resolve_local, RegionCalendar, WorkingHours};
use fasttrack_core::scheduling::{
    batch, find_slots, BatchOutcome, BatchRequest, BatchSettings, SlotQuery, StaffAvailability,
    UnplacedReason,
};
use fasttrack_core::types::IanaZone;
use fasttrack_core::{Language, SpokenLanguage};
use jiff::civil::date;
use jiff::{SignedDuration, Timestamp};

/// Sunday 9 March 2025, 00:00 UTC. The four weeks from here cross New York's spring-forward
/// (9 March), Rome's and Berlin's (30 March) and Sydney's fall-back (6 April).
const NOW: &str = "2025-03-09T00:00:00Z";
const HORIZON_DAYS: u32 = 28;
const GRID_MINUTES: u32 = 30;

/// A staff region: zone, hours Monday first (empty: day off), days off, languages spoken there.
struct Region {
    zone: &'static str,
    week: [&'static str; 7],
    holidays: &'static [(i16, i8, i8)],
    languages: &'static [SpokenLanguage],
}

const SPLIT_EU: &str = "09:00-13:00,14:00-18:00";

/// Eight regions with split hours. New York and Sydney also staff a Sunday night on-call shift
/// that the DST change runs through; Tokyo and Shanghai have a real public holiday in the window.
const REGIONS: [Region; 8] = [
    Region {
        zone: "Europe/Rome",
        week: [SPLIT_EU, SPLIT_EU, SPLIT_EU, SPLIT_EU, SPLIT_EU, "", ""],
        holidays: &[(2025, 3, 19)],
        languages: &[SpokenLanguage::Italian, SpokenLanguage::French],
    },
    Region {
        zone: "Europe/Berlin",
        week: [
            "08:00-12:00,13:00-17:00",
            "08:00-12:00,13:00-17:00",
            "08:00-12:00,13:00-17:00",
            "08:00-12:00,13:00-17:00",
            "08:00-12:00,13:00-15:00",
            "",
            "",
        ],
        holidays: &[(2025, 3, 28)],
        languages: &[SpokenLanguage::German, SpokenLanguage::French],
    },
    Region {
        zone: "America/New_York",
        week: [
            "09:00-12:00,13:00-17:30",
            "09:00-12:00,13:00-17:30",
            "09:00-12:00,13:00-17:30",
            "09:00-12:00,13:00-17:30",
            "09:00-12:00,13:00-17:30",
            "",
            "00:00-04:00",
        ],
        holidays: &[(2025, 3, 17)],
        languages: &[SpokenLanguage::Spanish, SpokenLanguage::French],
    },
    Region {
        zone: "America/Sao_Paulo",
        week: [
            "08:00-12:00,14:00-18:00",
            "08:00-12:00,14:00-18:00",
            "08:00-12:00,14:00-18:00",
            "08:00-12:00,14:00-18:00",
            "08:00-12:00,14:00-18:00",
            "",
            "",
        ],
        holidays: &[(2025, 3, 24)],
        languages: &[SpokenLanguage::Portuguese, SpokenLanguage::Spanish],
    },
    Region {
        zone: "Asia/Tokyo",
        week: [
            "09:00-12:00,13:00-18:00",
            "09:00-12:00,13:00-18:00",
            "09:00-12:00,13:00-18:00",
            "09:00-12:00,13:00-18:00",
            "09:00-12:00,13:00-18:00",
            "",
            "",
        ],
        // Vernal Equinox Day.
        holidays: &[(2025, 3, 20)],
        languages: &[SpokenLanguage::Japanese, SpokenLanguage::Korean],
    },
    Region {
        zone: "Asia/Shanghai",
        week: [
            "09:00-12:00,13:30-18:00",
            "09:00-12:00,13:30-18:00",
            "09:00-12:00,13:30-18:00",
            "09:00-12:00,13:30-18:00",
            "09:00-12:00,13:30-18:00",
            "",
            "",
        ],
        // Qingming.
        holidays: &[(2025, 4, 4)],
        languages: &[SpokenLanguage::Mandarin],
    },
    Region {
        zone: "Asia/Bangkok",
        week: [
            "08:30-12:00,13:00-17:30",
            "08:30-12:00,13:00-17:30",
            "08:30-12:00,13:00-17:30",
            "08:30-12:00,13:00-17:30",
            "08:30-12:00,13:00-17:30",
            "09:00-12:00",
            "",
        ],
        holidays: &[(2025, 4, 1)],
        languages: &[SpokenLanguage::Thai, SpokenLanguage::Vietnamese],
    },
    Region {
        zone: "Australia/Sydney",
        week: [
            "08:30-12:30,13:30-17:00",
            "08:30-12:30,13:30-17:00",
            "08:30-12:30,13:30-17:00",
            "08:30-12:30,13:30-17:00",
            "08:30-12:30,13:30-17:00",
            "",
            "01:00-05:00",
        ],
        holidays: &[(2025, 3, 14)],
        languages: &[
            SpokenLanguage::Mandarin,
            SpokenLanguage::Korean,
            SpokenLanguage::Vietnamese,
        ],
    },
];

/// Customers' zones: the regions' own and a few more.
const CUSTOMER_ZONES: [&str; 14] = [
    "Europe/Rome",
    "Europe/Berlin",
    "America/New_York",
    "America/Sao_Paulo",
    "Asia/Tokyo",
    "Asia/Shanghai",
    "Asia/Bangkok",
    "Australia/Sydney",
    "Europe/Paris",
    "Europe/London",
    "America/Mexico_City",
    "Asia/Seoul",
    "Asia/Taipei",
    "Asia/Ho_Chi_Minh",
];

/// Where most customers writing in a language are, by index in [`CUSTOMER_ZONES`].
fn home_zones(language: Language) -> &'static [usize] {
    match language {
        Language::ChineseTraditional => &[12, 5],
        Language::ChineseSimplified => &[5],
        Language::English => &[2, 9, 7],
        Language::French => &[8],
        Language::German => &[1],
        Language::Italian => &[0],
        Language::Japanese => &[4],
        Language::Korean => &[11],
        Language::PortugueseBrazil => &[3],
        Language::Spanish => &[10, 2],
        Language::Thai => &[6],
        Language::Vietnamese => &[13],
    }
}

/// A small deterministic generator (Knuth's MMIX LCG), so every run sees the same input.
struct Lcg(u64);

impl Lcg {
    /// A number in `0..n`.
    fn below(&mut self, n: usize) -> usize {
        self.0 = self
            .0
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        ((self.0 >> 33) % n as u64) as usize
    }

    /// True once in `n` times.
    fn one_in(&mut self, n: usize) -> bool {
        self.below(n) == 0
    }
}

fn now() -> Timestamp {
    NOW.parse().expect("a valid instant")
}

fn horizon_end() -> Timestamp {
    now() + SignedDuration::from_hours(24 * i64::from(HORIZON_DAYS))
}

fn calendar(zone: &str, week: [&str; 7]) -> RegionCalendar {
    let days = week.map(|d| {
        if d.is_empty() {
            Vec::new()
        } else {
            parse_intervals(d).expect("valid hours")
        }
    });
    RegionCalendar::new(
        IanaZone::parse(zone).expect("a real zone"),
        WorkingHours::new(days).expect("valid hours"),
    )
}

fn region_calendar(r: &Region) -> RegionCalendar {
    calendar(r.zone, r.week).with_holidays(r.holidays.iter().map(|&(y, m, d)| date(y, m, d)))
}

/// `n` staff spread over the regions; all speak English, most their region's languages, some one
/// more. Each has some meetings already booked, some are on leave, loads differ.
fn team(n: usize, rng: &mut Lcg) -> Vec<StaffAvailability> {
    let calendars: Vec<RegionCalendar> = REGIONS.iter().map(region_calendar).collect();
    let working: Vec<Vec<(Timestamp, Timestamp)>> = calendars
        .iter()
        .map(|c| c.working_intervals(now(), horizon_end()))
        .collect();
    (0..n)
        .map(|i| {
            let r = i % REGIONS.len();
            let mut languages = BTreeSet::from([SpokenLanguage::English]);
            for &l in REGIONS[r].languages {
                if !rng.one_in(3) {
                    languages.insert(l);
                }
            }
            if rng.one_in(10) {
                languages.insert(SpokenLanguage::ALL[rng.below(SpokenLanguage::ALL.len())]);
            }
            let mut bookings = Vec::new();
            for _ in 0..rng.below(15) {
                let (a, b) = working[r][rng.below(working[r].len())];
                let halves = (b.duration_since(a).as_mins() / 30).max(1);
                let start = a + SignedDuration::from_mins(30 * rng.below(halves as usize) as i64);
                let end = (start + SignedDuration::from_mins([30, 60][rng.below(2)])).min(b);
                bookings.push((start, end));
            }
            let time_off = if rng.one_in(8) {
                let start = now() + SignedDuration::from_hours(24 * rng.below(24) as i64);
                let days = 1 + rng.below(5) as i64;
                vec![(start, start + SignedDuration::from_hours(24 * days))]
            } else {
                Vec::new()
            };
            StaffAvailability {
                staff_id: format!("staff-{i:05}"),
                languages,
                calendar: calendars[r].clone(),
                time_off,
                load: bookings.len() as u32,
                bookings,
            }
        })
        .collect()
}

/// Customers' working hours: three office patterns in each zone, and round-the-clock operations.
fn customer_calendars() -> Vec<Vec<RegionCalendar>> {
    let office = "08:00-17:00";
    let split = "09:00-12:00,14:00-18:00";
    let long = "07:00-19:00";
    let always = "00:00-24:00";
    CUSTOMER_ZONES
        .iter()
        .map(|z| {
            vec![
                calendar(z, [office, office, office, office, office, "", ""]),
                calendar(z, [split, split, split, split, split, "", ""]),
                calendar(z, [long, long, long, long, long, long, ""]),
                calendar(z, [always; 7]),
            ]
        })
        .collect()
}

/// `n` requests: a quarter in English, the rest in any of the 12 languages; most customers in
/// their language's home zone; one in ten with a preferred morning.
fn requests(n: usize, rng: &mut Lcg) -> Vec<BatchRequest> {
    let customers = customer_calendars();
    (0..n)
        .map(|i| {
            let language = if rng.one_in(4) {
                Language::English
            } else {
                Language::ALL[rng.below(Language::ALL.len())]
            };
            let zone = if rng.one_in(7) {
                rng.below(CUSTOMER_ZONES.len())
            } else {
                let home = home_zones(language);
                home[rng.below(home.len())]
            };
            let pattern = if rng.one_in(20) { 3 } else { rng.below(3) };
            let customer = customers[zone][pattern].clone();
            let preferred = if rng.one_in(10) {
                let day = date(2025, 3, 10 + rng.below(20) as i8);
                let from = resolve_local(customer.tz(), day.at(9, 0, 0, 0)).expect("a real time");
                vec![(from, from + SignedDuration::from_hours(4))]
            } else {
                Vec::new()
            };
            BatchRequest {
                request_id: format!("req-{i:06}"),
                language,
                length: SignedDuration::from_mins([30, 60, 60, 90][rng.below(4)]),
                customer,
                preferred,
            }
        })
        .collect()
}

/// One English request from a Berlin office against 50 candidate staff in all eight regions.
fn slot_search(c: &mut Criterion) {
    let staff = team(50, &mut Lcg(7));
    let customer = calendar(
        "Europe/Berlin",
        [
            "08:00-17:00",
            "08:00-17:00",
            "08:00-17:00",
            "08:00-17:00",
            "08:00-17:00",
            "",
            "",
        ],
    );
    let mut query = SlotQuery::new(
        Language::English,
        SignedDuration::from_mins(60),
        customer.clone(),
        now(),
    );
    query.horizon_days = HORIZON_DAYS;
    query.grid_minutes = GRID_MINUTES;
    let found = find_slots(&staff, &query).expect("a valid query");
    assert_eq!(found.len(), query.limit, "the search finds a full page");

    let mut group = c.benchmark_group("slot_search");
    group.bench_function("one_request_50_staff_4_weeks", |b| {
        b.iter(|| find_slots(black_box(&staff), black_box(&query)))
    });
    // The floor under any search: laying out the customer's and the eight regions' working
    // intervals over the same four weeks, which every search does before looking for a slot.
    let regions: Vec<RegionCalendar> = REGIONS.iter().map(region_calendar).collect();
    group.bench_function("floor_calendar_layout_9_calendars_4_weeks", |b| {
        b.iter(|| {
            let mut n = customer.working_intervals(now(), horizon_end()).len();
            for r in black_box(&regions) {
                n += r.working_intervals(now(), horizon_end()).len();
            }
            n
        })
    });
    group.finish();
}

/// 100,000 requests in the 12 languages over 2,000 staff in eight regions, four weeks ahead.
fn batch_100k(c: &mut Criterion) {
    let mut rng = Lcg(11);
    let staff = team(2_000, &mut rng);
    let requests = requests(100_000, &mut rng);
    let settings = BatchSettings {
        now: now(),
        horizon_days: HORIZON_DAYS,
        grid_minutes: GRID_MINUTES,
        rotation: 0,
    };
    report(&batch(&staff, &requests, &settings).expect("valid settings"));

    let mut group = c.benchmark_group("batch");
    group.sample_size(10);
    group.sampling_mode(SamplingMode::Flat);
    group.warm_up_time(Duration::from_secs(3));
    group.measurement_time(Duration::from_secs(20));
    group.throughput(Throughput::Elements(requests.len() as u64));
    group.bench_function("100k_requests_2000_staff_8_regions_4_weeks", |b| {
        b.iter_with_large_drop(|| batch(black_box(&staff), black_box(&requests), &settings))
    });
    group.finish();
}

/// Prints what the batch placed, for BENCHMARKS.md.
fn report(out: &BatchOutcome) {
    let mut reasons: HashMap<&str, usize> = HashMap::new();
    for u in &out.unplaced {
        let reason = match u.reason {
            UnplacedReason::NoStaffSpeaksLanguage => "no staff speaks the language",
            UnplacedReason::NoSlotInHorizon => "no slot in the horizon",
            UnplacedReason::InvalidRequest(_) => "invalid request",
        };
        *reasons.entry(reason).or_default() += 1;
    }
    let preferred = out.assignments.iter().filter(|a| a.slot.preferred).count();
    println!(
        "batch outcome: {} placed ({preferred} in a preferred window), {} unplaced {reasons:?}",
        out.assignments.len(),
        out.unplaced.len()
    );
}

criterion_group!(benches, slot_search, batch_100k);
criterion_main!(benches);
