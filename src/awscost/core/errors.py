"""Errors a user can act on. The CLI prints them as one line (no traceback) and exits with `exit_code`."""

from __future__ import annotations


class AwsCostError(Exception):
    """Base for every error caused by input, configuration or the environment (not by a bug)."""

    exit_code = 2

    def __init__(
        self, message: str, *, where: str | None = None, hint: str | None = None, param: str | None = None
    ) -> None:
        self.message = message
        self.where = where  # a file (and line), account, region, URL ...
        self.hint = hint
        # The library parameter at fault ("kinds", "renew_days"), when the error is about a value passed in:
        # rendered under its own name from Python, and as its flag (--kinds) by the command line.
        self.param = param
        self.param_label: str | None = None  # how the caller spells `param`: the command line sets its flag
        super().__init__(self.render())

    def label_param(self, label: str | None) -> None:
        """Name the parameter as the caller spelt it (`--kinds` for `kinds`) in this error's message."""
        if label:
            self.param_label = label
            self.args = (self.render(),)

    def render(self, param_label: str | None = None) -> str:
        """One line: where, what, hint. The parameter is named as its caller spelt it, when known."""
        where = self.where or (param_label or self.param_label or self.param)
        text = f"{where}: {self.message}" if where else self.message
        if self.hint:
            text += f" ({self.hint})"
        return text


class ConfigError(AwsCostError):
    """A bad or unreadable setting; `where` names the file and key."""


class InputError(AwsCostError):
    """A bad file, argument or value given by the user; `where` names the file/line or option."""


class StoreError(AwsCostError):
    """The store could not be opened, read or written."""

    exit_code = 3


class AwsAccessError(AwsCostError):
    """AWS could not be reached or refused a call that the whole command depends on."""

    exit_code = 4


class ReportError(AwsCostError):
    """A report was written without some of its sections (each named); the rest of the file is usable."""

    exit_code = 7


class MissingExtraError(AwsCostError):
    """A feature needs an optional package that is not installed; the hint names the extra to install."""


class NotBuiltError(AwsCostError):
    """A capability that is declared but not implemented yet. Said plainly rather than faked."""

    exit_code = 70


class AwsCostWarning(UserWarning):
    """Something the user should know about a result that is still right as far as it goes (a dataset loaded by
    older readers, a fee that cannot be amortized). Issued with `warnings.warn`; the command line prints it as
    one `awscost: warning:` line, a job's result lists it."""


# Exit code of `awscost collect` when some (not all) account/region/kind units failed; what succeeded is stored.
EXIT_PARTIAL_FAILURE = 5
