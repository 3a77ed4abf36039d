"""Collection benchmark: rightsizer's batched collector against a per-resource collector, both
against the same synthetic organization (rightsizer.testing.synthetic_aws)."""
