"""newsmon: scheduled news monitoring over feeds, deduplicated against a seed corpus."""

__version__ = "0.1.0"
