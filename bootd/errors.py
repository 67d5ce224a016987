"""The BootdError tree.  Each class names the D-Bus error it becomes.

Stdlib only (layer L0).  Messages are written for people: they say what
failed and, where it helps, what to do.
"""

from __future__ import annotations

from typing import Self

ERROR_PREFIX = "org.bootd.Error"


def N_(template: str) -> str:  # noqa: N802  # bootd.model.N_'s twin: this module imports only the stdlib
    """Mark a message template for the catalogues (see :func:`bootd.model.N_`)."""
    return template


class BootdError(Exception):
    """Root of every error bootd reports to a person."""

    dbus_name: str = f"{ERROR_PREFIX}.Failed"

    template: str = ""
    """The message's ``N_``-marked template, when it was made with :meth:`of`
    (a client translates it: :class:`bootd.model.Text`)."""
    template_args: tuple[tuple[str, str], ...] = ()

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message

    @classmethod
    def of(cls, template: str, /, **args: object) -> Self:
        """The error ``template`` (marked with ``N_``) makes with ``args``; it keeps both.
        An argument with a template of its own (a :class:`bootd.model.Text`, or an
        error made with ``of``) keeps
        it beside its English text as ``name.template`` and ``name.FIELD``, as
        ``Text.of`` does, so that a client translates it too."""
        values = {k: str(v) for k, v in args.items()}
        pairs = list(values.items())
        for name, value in args.items():
            inner = getattr(value, "template", "")
            if isinstance(inner, str) and inner:  # a Text, or an error made with of()
                fields = getattr(value, "template_args" if isinstance(value, BaseException) else "args", ())
                pairs.append((f"{name}.template", inner))
                pairs.extend((f"{name}.{k}", str(v)) for k, v in fields)
        error = cls(template.format(**values))
        error.template, error.template_args = template, tuple(pairs)
        return error

    def __str__(self) -> str:
        return self.message


class ConfigError(BootdError):
    """A setting or configuration file is invalid."""

    dbus_name = f"{ERROR_PREFIX}.InvalidConfig"


class InvalidArgument(BootdError):
    """A caller passed something that cannot be right."""

    dbus_name = f"{ERROR_PREFIX}.InvalidArgument"


class NotFound(BootdError):
    """A device, option, file or URL does not exist."""

    dbus_name = f"{ERROR_PREFIX}.NotFound"


class PermissionDenied(BootdError):
    """The caller may not do this (not root, or the password is required)."""

    dbus_name = f"{ERROR_PREFIX}.PermissionDenied"


class AuthenticationRequired(PermissionDenied):
    """A password is set and this connection has not authenticated."""

    dbus_name = f"{ERROR_PREFIX}.AuthenticationRequired"


class Busy(BootdError):
    """Another boot is in progress, or too many calls are in flight."""

    dbus_name = f"{ERROR_PREFIX}.Busy"


class Cancelled(BootdError):
    """Someone cancelled the operation (a boot in progress) before it finished."""

    dbus_name = f"{ERROR_PREFIX}.Cancelled"


class CommandError(BootdError):
    """An external command failed; carries its argv, status and output."""

    dbus_name = f"{ERROR_PREFIX}.CommandFailed"

    def __init__(self, argv: list[str], returncode: int, stdout: str = "", stderr: str = "") -> None:
        detail = (stderr or stdout).strip().splitlines()
        command = argv[0] if argv else "?"
        if detail:
            self.template, self.template_args = (
                N_("{command} failed: {detail}"),
                (("command", command), ("detail", detail[-1])),
            )
        else:
            self.template = N_("{command} failed: exit status {status}")
            self.template_args = (("command", command), ("status", str(returncode)))
        super().__init__(f"{command} failed: {detail[-1] if detail else f'exit status {returncode}'}")
        self.argv = argv
        self.returncode = returncode
        self.stdout = stdout
        self.stderr = stderr


class MountError(BootdError):
    """A device could not be mounted read-only."""

    dbus_name = f"{ERROR_PREFIX}.MountFailed"


class ResourceError(BootdError):
    """A kernel, initrd or DTB could not be found, fetched or verified."""

    dbus_name = f"{ERROR_PREFIX}.ResourceFailed"


class ResourceNotFound(ResourceError):
    """The server (or filesystem) says the file is not there.

    Network discovery tries the next PXE config candidate on this error and
    gives up on any other."""


class DtbError(BootdError):
    """A device tree could not be read, patched or validated."""

    dbus_name = f"{ERROR_PREFIX}.DeviceTree"


class HookError(BootdError):
    """A boot hook failed; the boot stops."""

    dbus_name = f"{ERROR_PREFIX}.HookFailed"


class KexecError(BootdError):
    """kexec could not load or execute the new kernel."""

    dbus_name = f"{ERROR_PREFIX}.KexecFailed"


class NetworkError(BootdError):
    """A network interface, lease or download failed."""

    dbus_name = f"{ERROR_PREFIX}.Network"


class Timeout(BootdError):
    """Something took longer than it may."""

    dbus_name = f"{ERROR_PREFIX}.Timeout"


class Unsupported(BootdError):
    """This machine or build cannot do what was asked."""

    dbus_name = f"{ERROR_PREFIX}.NotSupported"


class SignatureRefused(PermissionDenied):
    """``signed_boot = enforce``: a file or the command line of the option
    does not verify against the owner's keyring."""
