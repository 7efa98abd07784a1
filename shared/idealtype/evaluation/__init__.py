"""Offline evaluation of quiz strategies with simulated users (see DESIGN.md, "Recommendation
quality: how it is measured"): user models, protocols, metrics, a runner that drives the same
strategy objects the API serves, and a report writer (JSON, Markdown, PNG)."""
