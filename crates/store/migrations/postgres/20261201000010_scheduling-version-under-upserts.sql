-- SQLite's scheduling-version triggers could not make their row under an upsert (see that
-- backend's migration of the same name), so the row is now made by the migrations, here too:
-- both backends start from the same row and stay at the same schema version.
INSERT INTO scheduling_version (id, v) VALUES (1, 0) ON CONFLICT (id) DO NOTHING;
