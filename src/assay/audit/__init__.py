"""Automated host audits: declarative checks, probes that read files, targets."""
