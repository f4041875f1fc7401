"""Cross-cutting code every elearn-data process needs: settings, sharding, pools, errors, server bootstrap, logs."""
