"""Reusable behavioural suites: any transport backend or gest-api generator can be run
through them (libens runs them against its own)."""
