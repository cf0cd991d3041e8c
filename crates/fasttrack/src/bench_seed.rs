//! `fasttrack bench-seed`: the large synthetic programme the load benchmark runs against.
//!
//! The demo programme (regions, catalogue, plans, a few hundred realistic tenants) is loaded
//! first, then the bulk: up to a million tenants, thousands of partners and staff. Prints, as one
//! JSON line, the API tokens and ids the benchmark's scripts need.

use anyhow::Context;
use clap::Args;
use fasttrack_store::{AuditCtx, BulkPartner, BulkStaff, BulkTenant, NewUser, Store};
use serde_json::json;

/// What to load.
#[derive(Debug, Args)]
pub struct BenchSeedArgs {
    #[command(flatten)]
    pub db: crate::cli::DbArgs,
    /// Customer tenants to add to the demo programme.
    #[arg(long, default_value_t = 1_000_000)]
    pub tenants: u64,
    /// Partner organizations (tenants are shared out among them).
    #[arg(long, default_value_t = 10_000)]
    pub partners: u64,
    /// Programme staff.
    #[arg(long, default_value_t = 2_000)]
    pub staff: u64,
}

/// Words the tenants' names are made of; twenty of each, so a word matches one tenant in twenty.
const FIRST: [&str; 20] = [
    "Northwind",
    "Contoso",
    "Fabrikam",
    "Adatum",
    "Litware",
    "Tailspin",
    "Wingtip",
    "Proseware",
    "Lucerne",
    "Margie",
    "Woodgrove",
    "Alpine",
    "Blue Yonder",
    "Coho",
    "Fourth Coffee",
    "Humongous",
    "Lamna",
    "Relecloud",
    "Trey",
    "Wide World",
];
const SECOND: [&str; 20] = [
    "Logistics",
    "Bank",
    "Foods",
    "Textiles",
    "Pharma",
    "Energy",
    "Studios",
    "Motors",
    "Legal",
    "Health",
    "Travel",
    "Retail",
    "Systems",
    "Analytics",
    "Partners",
    "Insurance",
    "Media",
    "Telecom",
    "Farms",
    "Robotics",
];

/// A small deterministic generator (SplitMix64): the same programme on every run.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n.max(1)
    }
    fn uuid(&mut self) -> String {
        uuid::Uuid::from_u64_pair(self.next(), self.next()).to_string()
    }
}

/// The language spoken in each demo region, and a second one for staff there.
fn region_languages(region_id: &str) -> (&'static str, &'static str, &'static str) {
    match region_id {
        "americas-east" => ("en", "es", "US"),
        "americas-south" => ("pt-BR", "es", "BR"),
        "europe-west" => ("fr", "it", "FR"),
        "europe-central" => ("de", "it", "DE"),
        "asia-northeast" => ("ja", "ko", "JP"),
        "greater-china" => ("zh-Hans", "zh-Hant", "CN"),
        _ => ("th", "vi", "TH"),
    }
}

/// Loads the programme and prints the benchmark's credentials as JSON.
pub async fn run(args: BenchSeedArgs) -> anyhow::Result<()> {
    let store = Store::connect(&args.db.database_url).await?;
    if !store.is_empty().await? {
        anyhow::bail!("bench-seed loads only into an empty database");
    }
    let now = jiff::Timestamp::now();
    let at = now.as_second();
    let until = at + 730 * 86_400;
    let started = std::time::Instant::now();
    crate::demo::load(&store, now)
        .await
        .context("loading the demo programme")?;
    let regions = store.list_regions().await?;
    anyhow::ensure!(!regions.is_empty(), "the demo programme has no regions");
    let mut rng = Rng(0xBE4C_4000_0000_0001);

    let partners: Vec<BulkPartner> = (0..args.partners)
        .map(|i| BulkPartner {
            id: rng.uuid(),
            name: format!("{} Consulting {i}", FIRST[(i % 20) as usize]),
            domain: format!("p{i}.partners.example"),
            user_id: rng.uuid(),
        })
        .collect();
    let mut tenants = Vec::with_capacity(usize::try_from(args.tenants).unwrap_or(0));
    let chunk = 50_000;
    let mut loaded = 0;
    for i in 0..args.tenants {
        let region = &regions[(i % regions.len() as u64) as usize];
        let (lang, _, country) = region_languages(&region.id);
        tenants.push(BulkTenant {
            id: rng.uuid(),
            name: format!(
                "{} {} {i}",
                FIRST[rng.below(20) as usize],
                SECOND[rng.below(20) as usize]
            ),
            tenant_id: rng.uuid(),
            domain: format!("t{i}.tenants.example"),
            region_id: region.id.clone(),
            country: country.into(),
            time_zone: region.time_zone.clone(),
            language: lang.into(),
            plan_id: "business-premium".into(),
            seats: 150 + rng.below(5_000) as i64,
            // Most tenants work with a partner; partner 0 is the one the benchmark signs in as.
            partner_id: (i % 10 != 9 && !partners.is_empty())
                .then(|| partners[(i % partners.len() as u64) as usize].id.clone()),
        });
        if tenants.len() == chunk || i + 1 == args.tenants {
            let p: &[BulkPartner] = if loaded == 0 { &partners } else { &[] };
            store.bulk_tenants(p, &tenants, at, until).await?;
            loaded += tenants.len();
            eprintln!(
                "bench-seed: {loaded} tenants after {:.0} s",
                started.elapsed().as_secs_f64()
            );
            tenants.clear();
        }
    }
    if args.tenants == 0 && !partners.is_empty() {
        store.bulk_tenants(&partners, &[], at, until).await?;
    }

    let programme = crate::cli::programme_org(&store, &AuditCtx::default()).await?;
    let staff: Vec<BulkStaff> = (0..args.staff)
        .map(|i| {
            let region = &regions[(i % regions.len() as u64) as usize];
            let (first, second, _) = region_languages(&region.id);
            let mut languages = vec![first.to_string(), "en".to_string()];
            if i % 3 == 0 {
                languages.push(second.to_string());
            }
            languages.dedup();
            BulkStaff {
                user_id: rng.uuid(),
                email: format!("expert{i}@staff.example"),
                role: if i % 10 == 0 {
                    "fasttrack_manager"
                } else {
                    "fasttrack_specialist"
                }
                .into(),
                region_id: region.id.clone(),
                time_zone: region.time_zone.clone(),
                languages,
            }
        })
        .collect();
    store.bulk_staff(&staff, &programme.id, at).await?;

    // The benchmark's callers: a customer admin of a bulk tenant, partner 0's user, a manager.
    let ctx = AuditCtx {
        at,
        ..AuditCtx::default()
    };
    let first_tenant = store
        .list_orgs(
            &fasttrack_store::OrganizationFilter {
                q: Some("t0.tenants.example".into()),
                ..Default::default()
            },
            &fasttrack_store::Page::new(None, 1),
        )
        .await?
        .items
        .into_iter()
        .next()
        .context("the first bulk tenant is missing (run with --tenants 1 or more)")?;
    let customer = store
        .create_user(
            &NewUser {
                org_id: first_tenant.id.clone(),
                email: "bench@t0.tenants.example".into(),
                name: "Bench Admin".into(),
                role: "customer_admin".into(),
                password_hash: None,
                language: first_tenant.language.clone(),
                time_zone: first_tenant.time_zone.clone(),
                staff: None,
            },
            &ctx,
        )
        .await?;
    let partner_user = match partners.first() {
        Some(p) => Some(store.get_user(&p.user_id).await?),
        None => None,
    };
    let manager = match staff.iter().find(|s| s.role == "fasttrack_manager") {
        Some(s) => Some(store.get_user(&s.user_id).await?),
        None => None,
    };
    let mut token = |user: &fasttrack_store::User| {
        let secret = format!("ftb_{}{}", rng.uuid(), rng.uuid()).replace('-', "");
        (user.clone(), secret)
    };
    let mut out = serde_json::Map::new();
    for (key, user) in [
        ("customer_token", Some(customer)),
        ("partner_token", partner_user),
        ("staff_token", manager),
    ] {
        if let Some(user) = user {
            let (user, secret) = token(&user);
            store
                .create_token(
                    &user,
                    "bench",
                    &fasttrack_web::extract::hash_secret(&secret),
                    &ctx,
                )
                .await?;
            out.insert(key.into(), json!(secret));
        }
    }
    out.insert("customer_org_id".into(), json!(first_tenant.id));
    out.insert("tenants".into(), json!(args.tenants));
    out.insert("partners".into(), json!(args.partners));
    out.insert("staff".into(), json!(args.staff));
    out.insert(
        "seconds".into(),
        json!((started.elapsed().as_secs_f64() * 10.0).round() / 10.0),
    );
    println!("{}", serde_json::Value::Object(out));
    store.close().await;
    Ok(())
}
