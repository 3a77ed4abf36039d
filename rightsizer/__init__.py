"""rightsizer: a read-only AWS cost-optimization and right-sizing analyzer."""

__version__ = "0.1.0"
