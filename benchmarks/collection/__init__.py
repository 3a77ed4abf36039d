"""Collection benchmark: rightsizer's batched collector against a per-resource collector, both
against the same synthetic organization (tests.support.synthetic_aws)."""
