"""Turning digests into things people read: Markdown, HTML, JSON, an Atom feed, notifications."""
