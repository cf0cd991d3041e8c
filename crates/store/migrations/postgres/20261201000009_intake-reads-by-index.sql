-- Every filing mails its region's managers. Found through users_role, each of the programme's
-- managers cost a read of its user row and of its staff profile: a few hundred table reads per
-- filing. With the email in the role index and the region in the profile's, the same join reads
-- only the two indexes (BENCHMARKS.md: 97 → 46 µs for 214 managers on SQLite).
DROP INDEX users_role;
CREATE INDEX users_role ON users(role, disabled, email, id);
CREATE INDEX staff_profiles_user_region ON staff_profiles(user_id, region_id);

-- Every change to a request looks up the webhooks of its tenant, of the filer's organization and
-- of the programme: by organization, not by reading every webhook ever registered (deactivated
-- ones are kept for the record).
CREATE INDEX webhooks_org ON webhooks(org_id);
