//! A realistic demo programme: regions on four continents, a cloud-suite catalogue, a few hundred
//! tenants (some lapsed), partners with relationships (some expired or revoked), staff covering all
//! twelve languages of R11, and one sign-in per role. Deterministic: the same data every time.

use anyhow::Context;
use fasttrack_store::{
    AuditCtx, Holiday, NewOrganization, NewUser, Plan, Region, Relationship, Service, StaffProfile,
    Store,
};
use jiff::{SignedDuration, Timestamp};
use serde_json::json;

/// The password every demo user signs in with.
pub const DEMO_PASSWORD: &str = "fasttrack-demo";

/// One printed sign-in.
#[derive(Debug, Clone)]
pub struct Credential {
    pub role: &'static str,
    pub email: String,
    pub organization: String,
}

/// A small deterministic generator (xorshift64*), so the demo is the same on every machine.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n.max(1)
    }
    fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        &items[self.below(items.len() as u64) as usize]
    }
}

struct RegionSpec {
    id: &'static str,
    name: &'static str,
    zone: &'static str,
    hours: &'static [(&'static str, &'static str)],
    holidays: &'static [(&'static str, &'static str)],
    /// (country, zone, language) of the tenants served from here.
    markets: &'static [(&'static str, &'static str, &'static str)],
    /// Spoken languages of its staff, one list per staff member.
    staff: &'static [&'static [&'static str]],
}

const REGIONS: &[RegionSpec] = &[
    RegionSpec {
        id: "americas-east",
        name: "Americas East",
        zone: "America/New_York",
        hours: &[("09:00", "17:00")],
        holidays: &[
            ("2026-11-26", "Thanksgiving Day"),
            ("2026-12-25", "Christmas Day"),
            ("2027-01-01", "New Year's Day"),
            ("2027-01-18", "Martin Luther King Jr. Day"),
        ],
        markets: &[
            ("US", "America/New_York", "en"),
            ("US", "America/Chicago", "en"),
            ("CA", "America/Toronto", "fr"),
            ("MX", "America/Mexico_City", "es"),
            ("US", "America/Los_Angeles", "en"),
        ],
        staff: &[
            &["english"],
            &["english", "spanish"],
            &["english", "french"],
            &["english"],
            &["spanish", "english"],
            &["english"],
        ],
    },
    RegionSpec {
        id: "americas-south",
        name: "Latin America",
        zone: "America/Sao_Paulo",
        hours: &[("09:00", "12:00"), ("13:00", "18:00")],
        holidays: &[
            ("2026-11-20", "Dia da Consciência Negra"),
            ("2026-12-25", "Natal"),
            ("2027-01-01", "Confraternização Universal"),
            ("2027-02-08", "Carnaval"),
            ("2027-02-09", "Carnaval"),
        ],
        markets: &[
            ("BR", "America/Sao_Paulo", "pt-BR"),
            ("AR", "America/Argentina/Buenos_Aires", "es"),
            ("CL", "America/Santiago", "es"),
            ("CO", "America/Bogota", "es"),
        ],
        staff: &[
            &["portuguese", "spanish"],
            &["portuguese"],
            &["spanish", "english"],
            &["portuguese", "english"],
            &["spanish"],
        ],
    },
    RegionSpec {
        id: "europe-west",
        name: "Western Europe",
        zone: "Europe/Paris",
        hours: &[("09:00", "12:30"), ("13:30", "18:00")],
        holidays: &[
            ("2026-12-25", "Noël"),
            ("2027-01-01", "Jour de l'an"),
            ("2027-03-29", "Lundi de Pâques"),
            ("2027-05-01", "Fête du Travail"),
        ],
        markets: &[
            ("FR", "Europe/Paris", "fr"),
            ("ES", "Europe/Madrid", "es"),
            ("GB", "Europe/London", "en"),
            ("BE", "Europe/Brussels", "fr"),
            ("IE", "Europe/Dublin", "en"),
        ],
        staff: &[
            &["french", "english"],
            &["french"],
            &["spanish", "french"],
            &["english"],
            &["french", "italian"],
            &["english", "spanish"],
        ],
    },
    RegionSpec {
        id: "europe-central",
        name: "Central Europe",
        zone: "Europe/Berlin",
        hours: &[("08:30", "12:30"), ("13:30", "17:00")],
        holidays: &[
            ("2026-12-24", "Heiligabend"),
            ("2026-12-25", "1. Weihnachtstag"),
            ("2026-12-26", "2. Weihnachtstag"),
            ("2027-01-01", "Neujahr"),
            ("2027-01-06", "Epifania"),
        ],
        markets: &[
            ("DE", "Europe/Berlin", "de"),
            ("AT", "Europe/Vienna", "de"),
            ("CH", "Europe/Zurich", "de"),
            ("IT", "Europe/Rome", "it"),
            ("IT", "Europe/Rome", "it"),
        ],
        staff: &[
            &["german", "english"],
            &["german"],
            &["italian", "english"],
            &["italian", "german"],
            &["german", "french"],
            &["italian"],
        ],
    },
    RegionSpec {
        id: "asia-northeast",
        name: "Japan and Korea",
        zone: "Asia/Tokyo",
        hours: &[("09:00", "12:00"), ("13:00", "18:00")],
        holidays: &[
            ("2026-11-23", "勤労感謝の日"),
            ("2026-12-31", "大晦日"),
            ("2027-01-01", "元日"),
            ("2027-01-11", "成人の日"),
        ],
        markets: &[
            ("JP", "Asia/Tokyo", "ja"),
            ("JP", "Asia/Tokyo", "ja"),
            ("KR", "Asia/Seoul", "ko"),
        ],
        staff: &[
            &["japanese", "english"],
            &["japanese"],
            &["korean", "english"],
            &["korean"],
            &["japanese", "korean"],
        ],
    },
    RegionSpec {
        id: "greater-china",
        name: "Greater China",
        zone: "Asia/Shanghai",
        hours: &[("09:00", "12:00"), ("13:30", "18:00")],
        holidays: &[
            ("2027-01-01", "元旦"),
            ("2027-02-06", "春节"),
            ("2027-02-07", "春节"),
            ("2027-02-08", "春节"),
        ],
        markets: &[
            ("CN", "Asia/Shanghai", "zh-Hans"),
            ("TW", "Asia/Taipei", "zh-Hant"),
            ("HK", "Asia/Hong_Kong", "zh-Hant"),
            ("SG", "Asia/Singapore", "zh-Hans"),
        ],
        staff: &[
            &["mandarin", "english"],
            &["mandarin"],
            &["mandarin"],
            &["mandarin", "english"],
        ],
    },
    RegionSpec {
        id: "asia-southeast",
        name: "Southeast Asia",
        zone: "Asia/Bangkok",
        hours: &[("08:30", "12:00"), ("13:00", "17:30")],
        holidays: &[
            ("2026-12-05", "วันพ่อแห่งชาติ"),
            ("2026-12-31", "วันสิ้นปี"),
            ("2027-01-01", "วันขึ้นปีใหม่"),
            ("2027-02-06", "Tết Nguyên Đán"),
        ],
        markets: &[
            ("TH", "Asia/Bangkok", "th"),
            ("VN", "Asia/Ho_Chi_Minh", "vi"),
            ("VN", "Asia/Ho_Chi_Minh", "vi"),
            ("TH", "Asia/Bangkok", "th"),
        ],
        staff: &[
            &["thai", "english"],
            &["thai"],
            &["vietnamese", "english"],
            &["vietnamese"],
            &["english", "thai"],
        ],
    },
];

const SERVICES: &[(&str, &str, &str, &str)] = &[
    ("mail", "Mail and calendar", "Communication", "Business e-mail, calendars and contacts; migration from Exchange, IMAP, Google Workspace and others."),
    ("files", "File storage and sharing", "Collaboration", "Personal file storage and team document libraries with sharing; migration from file shares and Box."),
    ("chat-meetings", "Chat and meetings", "Communication", "Persistent team chat, online meetings and webinars."),
    ("sites", "Team sites and intranet", "Collaboration", "Intranet portals and team sites with news and pages."),
    ("office-apps", "Office apps", "Productivity", "Desktop, web and mobile word processing, spreadsheets and presentations."),
    ("device-management", "Device management", "Security", "Enrolment, configuration and compliance of Windows, macOS, iOS and Android devices."),
    ("identity", "Identity and access", "Security", "Directory synchronisation, single sign-on, multi-factor authentication and conditional access."),
    ("security", "Threat protection", "Security", "Protection of mail, endpoints and identities against phishing and malware."),
    ("compliance", "Information protection", "Compliance", "Sensitivity labels, data loss prevention, retention and eDiscovery."),
    ("voice", "Cloud phone system", "Communication", "Calling plans, phone numbers and auto attendants."),
];

const PLANS: &[(&str, &str, bool, bool, &[&str])] = &[
    (
        "business-basic",
        "Business Basic",
        true,
        true,
        &["mail", "files", "chat-meetings", "sites"],
    ),
    (
        "business-standard",
        "Business Standard",
        true,
        true,
        &["mail", "files", "chat-meetings", "sites", "office-apps"],
    ),
    (
        "business-premium",
        "Business Premium",
        true,
        true,
        &[
            "mail",
            "files",
            "chat-meetings",
            "sites",
            "office-apps",
            "device-management",
            "identity",
            "security",
        ],
    ),
    (
        "enterprise-e3",
        "Enterprise E3",
        true,
        true,
        &[
            "mail",
            "files",
            "chat-meetings",
            "sites",
            "office-apps",
            "device-management",
            "identity",
            "compliance",
        ],
    ),
    (
        "enterprise-e5",
        "Enterprise E5",
        true,
        true,
        &[
            "mail",
            "files",
            "chat-meetings",
            "sites",
            "office-apps",
            "device-management",
            "identity",
            "security",
            "compliance",
            "voice",
        ],
    ),
    (
        "frontline-f3",
        "Frontline F3",
        true,
        true,
        &["mail", "files", "chat-meetings"],
    ),
    (
        "education-a1",
        "Education A1 (free)",
        false,
        false,
        &["mail", "files", "chat-meetings", "sites"],
    ),
    (
        "trial",
        "Trial (free)",
        false,
        false,
        &["mail", "files", "chat-meetings", "office-apps"],
    ),
];

const NAME_A: &[&str] = &[
    "Contoso",
    "Fabrikam",
    "Northwind",
    "Adatum",
    "Tailspin",
    "Woodgrove",
    "Litware",
    "Proseware",
    "Lucerne",
    "Alpine",
    "Coho",
    "Wingtip",
    "Trey",
    "Humongous",
    "Margie's",
    "Blue Yonder",
    "Fourth Coffee",
    "Graphic Design",
    "Relecloud",
    "VanArsdel",
    "Bellows",
    "Lamna",
    "Munson's",
    "Nod",
    "Southridge",
    "Wide World",
    "City Power",
    "Consolidated",
    "First Up",
    "Liberty",
];
const NAME_B: &[&str] = &[
    "Holdings",
    "Logistics",
    "Health",
    "Bank",
    "Manufacturing",
    "Retail",
    "Energy",
    "Insurance",
    "Foods",
    "Airlines",
    "Pharma",
    "Media",
    "Motors",
    "Hotels",
    "Telecom",
];
const PARTNERS: &[(&str, &str)] = &[
    ("Northwind Partners", "northwind-partners.example"),
    ("Cloud Journey Consulting", "cloudjourney.example"),
    ("Adatum Services", "adatum-services.example"),
    ("Blue Horizon IT", "bluehorizon.example"),
    ("Mosaic Digital", "mosaicdigital.example"),
    ("Sakura Systems", "sakura-systems.example"),
    ("Dragon Gate Integration", "dragongate.example"),
    ("Lotus Tech Thailand", "lotustech.example"),
    ("Saigon Cloud Works", "saigoncloud.example"),
    ("Andes Tecnologia", "andestec.example"),
    ("Rheinland Cloud GmbH", "rheinland-cloud.example"),
    ("Milano Digitale", "milanodigitale.example"),
    ("Lumière Conseil", "lumiere-conseil.example"),
    ("Hanbit Solutions", "hanbit.example"),
    ("Maple Leaf Managed Services", "mapleleaf-ms.example"),
    ("Iberia Modern Work", "iberia-mw.example"),
    ("Pampas Consultores", "pampas.example"),
    ("Harbour Bridge IT", "harbourbridge.example"),
    ("Emerald Isle Cloud", "emeraldisle.example"),
    ("Atlas Migration Partners", "atlas-migration.example"),
];

const STAFF_FIRST: &[&str] = &[
    "Alex", "Sam", "Maria", "Kenji", "Li", "Ana", "Lukas", "Chloé", "Giulia", "Min-jun", "Somchai",
    "Linh", "Diego", "Priya", "Jonas", "Mei", "Yuki", "Rafael",
];
const STAFF_LAST: &[&str] = &[
    "Rivera", "Schmidt", "Rossi", "Tanaka", "Wang", "Silva", "Martin", "Kim", "Nguyen", "Suzuki",
    "García", "Chen", "Dubois", "Bianchi", "Weber", "Park", "Srisuk", "Costa",
];

fn hours_json(hours: &[(&str, &str)]) -> String {
    let day: Vec<[&str; 2]> = hours.iter().map(|(a, b)| [*a, *b]).collect();
    json!({"mon": day, "tue": day, "wed": day, "thu": day, "fri": day}).to_string()
}

fn slug(s: &str) -> String {
    s.to_lowercase()
        .chars()
        .map(|c| match c {
            'á' | 'à' | 'â' | 'ä' | 'ã' => 'a',
            'é' | 'è' | 'ê' | 'ë' => 'e',
            'í' | 'ì' | 'î' | 'ï' => 'i',
            'ó' | 'ò' | 'ô' | 'ö' | 'õ' => 'o',
            'ú' | 'ù' | 'û' | 'ü' => 'u',
            'ç' => 'c',
            'ñ' => 'n',
            other => other,
        })
        .map(|c| if c.is_ascii_alphanumeric() { c } else { '-' })
        .collect::<String>()
        .split('-')
        .filter(|p| !p.is_empty())
        .collect::<Vec<_>>()
        .join("-")
}

fn days(n: i64) -> SignedDuration {
    SignedDuration::from_hours(24 * n)
}

/// Loads the demo programme as of `now`; returns one sign-in per role.
pub async fn load(store: &Store, now: Timestamp) -> anyhow::Result<Vec<Credential>> {
    let mut rng = Rng(0x5EED_F457_7EAC_0001);
    let at = now.as_second();
    let ctx = AuditCtx {
        at,
        ..AuditCtx::default()
    };
    let password =
        fasttrack_web::password::hash_blocking(DEMO_PASSWORD).map_err(|e| anyhow::anyhow!(e))?;
    let mut creds = Vec::new();

    for r in REGIONS {
        store
            .upsert_region(
                &Region {
                    id: r.id.into(),
                    name: r.name.into(),
                    time_zone: r.zone.into(),
                    working_hours: hours_json(r.hours),
                    created_at: at,
                    updated_at: at,
                },
                &ctx,
            )
            .await?;
        let hol: Vec<Holiday> = r
            .holidays
            .iter()
            .map(|(d, n)| Holiday {
                region_id: r.id.into(),
                day: (*d).into(),
                name: (*n).into(),
            })
            .collect();
        store.upsert_holidays(r.id, &hol, &ctx).await?;
    }
    for (id, name, category, description) in SERVICES {
        store
            .upsert_service(
                &Service {
                    id: (*id).into(),
                    name: (*name).into(),
                    category: (*category).into(),
                    description: (*description).into(),
                    created_at: at,
                    updated_at: at,
                },
                &ctx,
            )
            .await?;
    }
    for (id, name, paid, eligible, services) in PLANS {
        store
            .upsert_plan(
                &Plan {
                    id: (*id).into(),
                    name: (*name).into(),
                    paid: *paid,
                    eligible: *eligible,
                    services: services.iter().map(|s| s.to_string()).collect(),
                    created_at: at,
                    updated_at: at,
                },
                &ctx,
            )
            .await?;
    }

    let programme = crate::cli::programme_org(store, &ctx).await?;
    let user = |org: &fasttrack_store::Organization,
                email: String,
                name: String,
                role: &str,
                staff: Option<StaffProfile>| NewUser {
        org_id: org.id.clone(),
        email,
        name,
        role: role.into(),
        password_hash: Some(password.clone()),
        language: org.language.clone(),
        time_zone: org.time_zone.clone(),
        staff,
    };
    store
        .create_user(
            &user(
                &programme,
                "admin@fasttrack.example".into(),
                "Programme Admin".into(),
                "programme_admin",
                None,
            ),
            &ctx,
        )
        .await?;
    creds.push(Credential {
        role: "programme_admin",
        email: "admin@fasttrack.example".into(),
        organization: programme.name.clone(),
    });

    // Staff: every region's team; roles rotate so each region has managers, specialists and engineers.
    let mut n = 0usize;
    for r in REGIONS {
        for (i, langs) in r.staff.iter().enumerate() {
            let role = [
                "fasttrack_manager",
                "fasttrack_specialist",
                "center_engineer",
            ][i % 3];
            let first = STAFF_FIRST[n % STAFF_FIRST.len()];
            let last = STAFF_LAST[(n * 7 + 3) % STAFF_LAST.len()];
            let email = format!("{}.{}.{n}@fasttrack.example", slug(first), slug(last));
            let mut u = user(
                &programme,
                email.clone(),
                format!("{first} {last}"),
                role,
                Some(StaffProfile {
                    region_id: r.id.into(),
                    weekly_capacity: 15 + (n as i64 % 3) * 5,
                    languages: langs.iter().map(|s| s.to_string()).collect(),
                }),
            );
            u.time_zone = r.zone.into();
            store.create_user(&u, &ctx).await?;
            if n < 3 {
                creds.push(Credential {
                    role: [
                        "fasttrack_manager",
                        "fasttrack_specialist",
                        "center_engineer",
                    ][n],
                    email,
                    organization: format!("{} ({})", programme.name, r.name),
                });
            }
            n += 1;
        }
    }
    // The first region's first three staff are a manager, a specialist and an engineer: printed above.

    let mut partners = Vec::new();
    for (i, (name, domain)) in PARTNERS.iter().enumerate() {
        let region = &REGIONS[i % REGIONS.len()];
        let (country, zone, lang) = region.markets[0];
        let org = store
            .create_org(
                &NewOrganization {
                    kind: "partner".into(),
                    name: (*name).into(),
                    tenant_id: None,
                    region_id: Some(region.id.into()),
                    country: country.into(),
                    time_zone: zone.into(),
                    language: lang.into(),
                    domains: vec![(*domain).into()],
                    partner_of_record: None,
                },
                &ctx,
            )
            .await?;
        let email = format!("consultant@{domain}");
        store
            .create_user(
                &user(
                    &org,
                    email.clone(),
                    format!("{name} Consultant"),
                    "partner_user",
                    None,
                ),
                &ctx,
            )
            .await?;
        if i == 0 {
            creds.push(Credential {
                role: "partner_user",
                email,
                organization: org.name.clone(),
            });
        }
        partners.push(org);
    }

    let tenants = 320;
    for i in 0..tenants {
        let region = &REGIONS[i % REGIONS.len()];
        let (country, zone, lang) = *rng.pick(region.markets);
        let name = if i < NAME_A.len() {
            format!("{} {}", NAME_A[i], NAME_B[i % NAME_B.len()])
        } else {
            format!("{} {} {}", rng.pick(NAME_A), rng.pick(NAME_B), country)
        };
        let domain = format!("{}-{i}.example", slug(&name));
        let tenant_uuid = uuid::Uuid::from_u64_pair(rng.next(), rng.next()).to_string();
        let partner_of_record = (i % 9 == 4).then(|| partners[i % partners.len()].id.clone());
        let org = store
            .create_org(
                &NewOrganization {
                    kind: "customer".into(),
                    name: name.clone(),
                    tenant_id: Some(tenant_uuid),
                    region_id: Some(region.id.into()),
                    country: country.into(),
                    time_zone: zone.into(),
                    language: lang.into(),
                    domains: vec![domain.clone()],
                    partner_of_record,
                },
                &ctx,
            )
            .await
            .with_context(|| format!("creating demo tenant {name}"))?;
        // Seats: many mid-size tenants, some small (under the 150-seat threshold), some very large.
        let seats = match rng.below(10) {
            0 => 40 + rng.below(100) as i64,
            1..=5 => 150 + rng.below(850) as i64,
            6..=8 => 1_000 + rng.below(9_000) as i64,
            _ => 10_000 + rng.below(40_000) as i64,
        };
        let plan = *rng.pick(&[
            "business-basic",
            "business-standard",
            "business-premium",
            "enterprise-e3",
            "enterprise-e5",
            "frontline-f3",
        ]);
        // About one tenant in eight has let its subscription lapse (R1: its engagements pause).
        let (state, starts, ends) = match rng.below(8) {
            0 => (
                "expired",
                now - days(500),
                Some(now - days(30 + rng.below(90) as i64)),
            ),
            1 if i % 2 == 0 => ("suspended", now - days(200), Some(now + days(165))),
            _ => (
                "active",
                now - days(30 + rng.below(600) as i64),
                Some(now + days(60 + rng.below(700) as i64)),
            ),
        };
        store
            .create_subscription(
                &fasttrack_store::NewSubscription {
                    org_id: org.id.clone(),
                    plan_id: plan.to_string(),
                    seats,
                    state: state.to_string(),
                    starts_at: starts.as_second(),
                    ends_at: ends.map(|e| e.as_second()),
                },
                &ctx,
            )
            .await?;
        if i % 11 == 0 {
            store
                .create_subscription(
                    &fasttrack_store::NewSubscription {
                        org_id: org.id.clone(),
                        plan_id: "trial".into(),
                        seats: 25,
                        state: "active".into(),
                        starts_at: (now - days(10)).as_second(),
                        ends_at: Some((now + days(20)).as_second()),
                    },
                    &ctx,
                )
                .await?;
        }
        let admin_email = format!("admin@{domain}");
        store
            .create_user(
                &user(
                    &org,
                    admin_email.clone(),
                    format!("{name} IT Admin"),
                    "customer_admin",
                    None,
                ),
                &ctx,
            )
            .await?;
        if i == 0 {
            creds.push(Credential {
                role: "customer_admin",
                email: admin_email,
                organization: name.clone(),
            });
        }
        // Relationships: most tenants work with a partner; a few links have expired or were revoked.
        if i % 3 != 2 {
            let partner = if i % 3 == 0 {
                &partners[0]
            } else {
                &partners[(i / 3) % partners.len()]
            };
            let kind = rng.below(10);
            let requested_at = now - days(400);
            let (status, approved_at, expires_at, ended_at) = match kind {
                0 => ("active", Some(requested_at), Some(now - days(20)), None), // expired
                1 => (
                    "ended",
                    Some(requested_at),
                    Some(now + days(300)),
                    Some(now - days(15)),
                ), // revoked
                2 => ("requested", None, None, None),
                _ => (
                    "active",
                    Some(now - days(60)),
                    Some(now + days(40 + rng.below(600) as i64)),
                    None,
                ),
            };
            let requested_at = if status == "requested" {
                now - days(5)
            } else {
                requested_at
            };
            let actions = if i % 2 == 0 {
                json!(["view", "file_requests", "own_tenant_tasks"])
            } else {
                json!(["view", "file_requests"])
            };
            let r = Relationship {
                id: fasttrack_store::new_id(),
                partner_org_id: partner.id.clone(),
                customer_org_id: org.id.clone(),
                status: status.into(),
                scope_actions: actions.to_string(),
                scope_services: None,
                requested_days: 365,
                requested_at: requested_at.as_second(),
                requested_by: "demo".into(),
                approved_at: approved_at.map(|t| t.as_second()),
                approved_by: approved_at.map(|_| "demo".into()),
                expires_at: expires_at.map(|t| t.as_second()),
                ended_at: ended_at.map(|t| t.as_second()),
                ended_by: ended_at.map(|_| "demo".into()),
                updated_at: at,
            };
            store.create_relationship(&r, &ctx).await?;
        }
    }
    Ok(creds)
}

/// Prints the demo's sign-ins.
pub fn print_credentials(creds: &[Credential]) {
    println!("Demo programme loaded. Sign in with password '{DEMO_PASSWORD}' as:");
    for c in creds {
        println!("  {:<22} {:<45} {}", c.role, c.email, c.organization);
    }
}
