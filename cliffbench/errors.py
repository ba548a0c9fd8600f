"""User-facing errors: each is printed as a single line and ends the job with exit code 2."""


class CliffbenchError(Exception):
    """Base class of errors caused by the user's config, data or environment (not by a bug)."""


class ConfigError(CliffbenchError):
    """A config value is invalid or inconsistent (checked before any work starts)."""


class DataError(CliffbenchError):
    """Input data is malformed (wrong arrays, shapes, non-finite values, bad labels)."""


class MissingResourceError(CliffbenchError):
    """Data or model weights are not available locally; the message says where and how to get them."""
