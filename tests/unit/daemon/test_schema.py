"""The D-Bus API is declared once (bootd.dbus.schema): the shipped
introspection file is its rendering, the service is refused when it differs,
and the client calls what it declares."""

from pathlib import Path
from typing import Annotated

import pytest
from dbus_fast.annotations import DBusSignature
from dbus_fast.service import ServiceInterface, dbus_method

from bootd.dbus import names, schema

SHIPPED = (Path(__file__).resolve().parents[3] / "bootd/dbus/org.bootd.xml").read_text(encoding="utf-8")

S = Annotated[str, DBusSignature("s")]


@pytest.mark.parametrize("iface", schema.INTERFACES, ids=lambda i: i.name)
def test_the_shipped_introspection_is_the_declaration(iface: schema.Interface) -> None:
    assert schema.introspection(iface) in SHIPPED


def test_every_manager_method_signal_and_property_is_declared_once() -> None:
    rows = schema.members(schema.MANAGER)
    assert len({(kind, name) for kind, name, *_ in rows}) == len(rows)
    assert {m.name for m in schema.MANAGER.methods} >= {"Boot", "BootCustom", "CancelBoot", "SetNextBoot"}


class _Drifted(ServiceInterface):
    """A Manager1 that renamed one argument and lacks everything else."""

    def __init__(self) -> None:
        super().__init__(names.MANAGER_IFACE)

    @dbus_method()
    def AddUrl(self, address: S) -> None:  # declared: AddUrl(url: s) -> ao
        return None


def test_a_service_that_differs_from_the_declaration_is_refused() -> None:
    with pytest.raises(RuntimeError, match="differs from bootd.dbus.schema") as e:
        schema.conform(_Drifted(), schema.MANAGER)
    assert "address:in:s" in str(e.value) and "url:in:s" in str(e.value)


def test_every_error_name_maps_to_its_class() -> None:
    from bootd import errors

    assert schema.ERRORS["org.bootd.Error.NotFound"] is errors.NotFound
    assert schema.ERRORS["org.bootd.Error.ResourceFailed"] is errors.ResourceError
    assert all(name.startswith("org.bootd.Error.") for name in schema.ERRORS)
