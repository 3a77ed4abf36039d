"""Large-input benchmark: 100,000 resources through the rules and every output format."""
