//! `fasttrack_store::backup::parse_backup` on arbitrary bytes (as UTF-8, as `fasttrack backup
//! import` reads its file), then, for a document it accepts, every check an import makes before
//! writing a row (`check_document`): against a fixed schema like the real one (a table whose
//! rows refer to each other, a table referring to it, one seeded by the migrations) and against
//! the schema the document itself describes, so the value and row-order checks are reached too.
//! A panic, or a parsed document that does not say what it must, is a finding.
#![no_main]

use fasttrack_store::backup::{
    check_document, parse_backup, Backup, ColumnDef, ColumnType, TableSchema, FORMAT, VERSION,
};
use libfuzzer_sys::fuzz_target;

/// The schema version the seeds carry.
const SCHEMA_VERSION: i64 = 7;

fn col(name: &str, kind: ColumnType) -> ColumnDef {
    ColumnDef {
        name: name.into(),
        kind,
    }
}

fn refs(list: &[(&str, &str, &str)]) -> Vec<(String, String, String)> {
    list.iter()
        .map(|(c, t, to)| (c.to_string(), t.to_string(), to.to_string()))
        .collect()
}

/// Three tables in the shape of the real ones (the seeds under fuzz/seeds/backup_import fit it).
fn fixed_schema() -> Vec<TableSchema> {
    vec![
        TableSchema {
            name: "orgs".into(),
            columns: vec![
                col("id", ColumnType::Text),
                col("name", ColumnType::Text),
                col("partner_of_record", ColumnType::Text),
                col("created_at", ColumnType::Integer),
            ],
            identity: vec![],
            references: refs(&[("partner_of_record", "orgs", "id")]),
        },
        TableSchema {
            name: "users".into(),
            columns: vec![
                col("id", ColumnType::Integer),
                col("org_id", ColumnType::Text),
                col("email", ColumnType::Text),
                col("active", ColumnType::Boolean),
                col("score", ColumnType::Real),
            ],
            identity: vec!["id".into()],
            references: refs(&[("org_id", "orgs", "id")]),
        },
        TableSchema {
            name: "sla_settings".into(),
            columns: vec![
                col("key", ColumnType::Text),
                col("hours", ColumnType::Integer),
            ],
            identity: vec![],
            references: vec![],
        },
    ]
}

/// The schema the document describes; a `parent` column refers to its own table's `id`, and an
/// `org_id` column to `orgs.id`.
fn own_schema(backup: &Backup) -> Vec<TableSchema> {
    backup
        .tables
        .iter()
        .map(|(name, data)| TableSchema {
            name: name.clone(),
            columns: data.columns.clone(),
            identity: vec![],
            references: data
                .columns
                .iter()
                .filter_map(|c| match c.name.as_str() {
                    "parent" => Some((c.name.clone(), name.clone(), "id".to_string())),
                    "org_id" => Some((c.name.clone(), "orgs".to_string(), "id".to_string())),
                    _ => None,
                })
                .collect(),
        })
        .collect()
}

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let Ok(backup) = parse_backup(text) else {
        return;
    };
    assert_eq!(backup.format, FORMAT);
    assert_eq!(backup.version, VERSION);
    // What an export writes of it reads back.
    let again = serde_json::to_string(&backup).expect("a parsed backup serialises");
    let reread = parse_backup(&again).expect("a serialised backup parses");
    assert_eq!(reread.tables.len(), backup.tables.len());

    let rows = |b: &Backup| -> usize { b.tables.values().map(|t| t.rows.len()).sum() };
    let _ = check_document(&backup, SCHEMA_VERSION, &fixed_schema());
    let own = own_schema(&backup);
    if let Ok(counts) = check_document(&backup, backup.schema_version, &own) {
        // Ordering rows never loses or invents one.
        assert_eq!(counts.values().sum::<usize>(), rows(&backup));
    }
});
