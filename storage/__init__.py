"""DuckDB: schema files, the migrator, and every query. Nothing here imports Prefect."""
