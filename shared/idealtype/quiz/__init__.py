"""Quiz engine (numpy only): pools, round strategies, ideal-vector estimators, recommendations."""
