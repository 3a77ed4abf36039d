"""Errors that end a run with exit code 2 and one clear line on stderr."""


class RightsizerError(Exception):
    """A problem the user can fix (config, credentials, input files): exit code 2."""


class ConfigError(RightsizerError):
    """The config file is missing, unreadable or invalid."""
