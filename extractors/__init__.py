"""Fetching, parsing and extraction. Nothing here imports Prefect."""
