"""Booting from the menu: plain and edited boots, the password prompt and
retry, the progress screen, and how a boot ends (failure or done)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from bootd.errors import AuthenticationRequired, BootdError, Cancelled
from bootd.model import BootOption, Severity

from .. import backend as be
from ..i18n import N_, _, error_text
from ..views.text import ProgressView, PromptView, TextView
from .host import Host, Outcome
from .progress import StepRate, describe_left

FAILED_TITLE = N_("Boot failed")


class BootController:
    def __init__(self, app: Host) -> None:
        self.app = app
        self.progress: ProgressView | None = None
        self.rate = StepRate()
        self.booting_name = ""

    def boot(self, option: BootOption, custom: BootOption | None, args: str | None) -> None:
        self.booting_name = option.name

        async def go() -> None:
            try:
                if custom is not None:
                    await self.app.backend.boot_custom(custom, self.app.console)
                else:
                    await self.app.backend.boot(option.id, self.app.console, args)
            except AuthenticationRequired:
                raise
            except Cancelled:
                self.show_cancelled()
            except BootdError as e:
                if self.progress is not None:
                    self.show_failure(error_text(e))
                else:
                    self.app.status(
                        _("Boot of {name} failed: {error}").format(name=option.name, error=error_text(e)),
                        Severity.ERROR,
                    )

        self.with_auth(go, N_("Boot"))

    def with_auth(self, call: Callable[[], Awaitable[None]], what: str) -> None:
        """Run ``call``; when the daemon wants the password, ask and retry."""

        async def attempt() -> None:
            try:
                await call()
            except AuthenticationRequired:
                self.ask_password(call, what)

        self.app.spawn(attempt(), what)

    def ask_password(self, call: Callable[[], Awaitable[None]], what: str, message: str = "") -> None:
        def ok(password: str) -> None:
            self.app.back()

            async def auth_then_call() -> None:
                try:
                    await self.app.backend.authenticate(password)
                except BootdError as e:
                    self.ask_password(call, what, error_text(e))
                    return
                await call()

            self.app.spawn(auth_then_call(), what)

        self.app.push(
            PromptView(_("Password required"), _("Password:"), ok, self.app.back, secret=True, message=message)
        )

    def show_progress(self, ev: be.BootProgress) -> None:
        if ev.fraction < 0:
            self.show_failure(ev.message)
            return
        if self.progress is None:
            name = self.booting_name
            candidate = self.app.model.options.get(self.app.model.candidate or "")
            if not name and candidate is not None:
                name = candidate.name  # started elsewhere: most likely autoboot
            self.progress = ProgressView(f'"{name}"' if name else "")
            self.rate = StepRate()
            self.app.push(self.progress)
        step = ev.text.translated(_) if ev.text is not None else ev.message
        if ev.transfer is not None:
            self.progress.download(step, ev.fraction, ev.transfer)
        else:
            self.progress.update(step, ev.fraction, describe_left(self.rate.update(ev.message, ev.fraction)))
        self.app.redraw()

    def cancel(self) -> None:
        """Ask the daemon to cancel the boot in progress (Esc on the progress screen)."""
        if self.progress is not None:
            self.progress.update(_("Cancelling the boot") + self.app.glyphs.ellipsis, 0.0)
            self.app.redraw()

        async def call() -> None:
            try:
                if not await self.app.backend.cancel_boot() and self.progress is not None:
                    # the daemon has no boot in progress (it ended, or the daemon restarted)
                    self.booting_name = ""
                    self.app.to_menu()
                    self.app.status(_("No boot is in progress"))
            except AuthenticationRequired:
                raise
            except BootdError as e:
                self.app.status(
                    _("The boot cannot be cancelled: {error}").format(error=error_text(e)), Severity.WARNING
                )

        self.with_auth(call, N_("Cancel the boot"))

    def show_cancelled(self) -> None:
        """Back to the menu after a cancelled boot (said once, however it was learnt)."""
        if self.progress is None and not any(isinstance(v, ProgressView) for v in self.app.stack):
            return
        self.booting_name = ""
        self.app.to_menu()
        newest = self.app.status_log[-1].message if self.app.status_log else ""
        if not newest.startswith("Boot cancelled") and newest != _("Boot cancelled"):
            self.app.status(_("Boot cancelled"))

    def show_failure(self, reason: str) -> None:
        """The failure screen; ``reason`` in the menu's language, or a text the catalogue may know."""
        reason = _(reason)
        top = self.app.stack[-1]
        if isinstance(top, TextView) and top.title == FAILED_TITLE and reason in top.text:
            return
        del self.app.stack[1:]
        self.progress = None
        self.booting_name = ""
        newest = self.app.status_log[-1].translated(_) if self.app.status_log else ""
        if reason not in newest:
            said = reason.lower().startswith("boot")  # the daemon's own words (an untranslated status)
            self.app.status(reason if said else _("Boot failed: {reason}").format(reason=reason), Severity.ERROR)
        lines: list[str | tuple[str, str]] = [("error", _("The boot failed:")), "", *reason.splitlines()]
        lines += ["", _("Press Esc to return to the menu.")]
        self.app.push(TextView(FAILED_TITLE, lines))

    def show_finished(self, summary: tuple[str, ...]) -> None:
        del self.app.stack[1:]
        self.progress = None
        self.booting_name = ""
        self.app.push(TextView(N_("Booted"), [_("The new kernel was loaded:"), "", *summary]))
        if self.app.exit_on_boot:
            self.app.quit(Outcome(booted=True, summary=summary))
