"""Prefect flows: thin orchestration over extractors/ and storage/."""
