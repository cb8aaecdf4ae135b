"""What the stored text means: fingerprints, relevance, facts, stories and novelty.

Pure functions, free of Prefect and DuckDB: storage/analysis.py reads their
inputs from the database and writes their outputs back.
"""
