"""Outputs: yearly summaries and statistics, plots, the HTML report and provenance."""
