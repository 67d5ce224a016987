"""PXE config resolution (pure): candidates, URL joining, options."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from bootd.model import Resource, Source
from bootd.parsers import pxe
from bootd.parsers.pxe import Candidate, Lease

MAC = "52:54:00:AB:CD:EF"


def urls(lease: Lease) -> list[str]:
    cands, _ = pxe.config_candidates(lease)
    return [c.url for c in cands]


def test_search_order_from_bootfile_directory() -> None:
    lease = Lease.from_params(
        {"interface": "eth0", "mac": MAC, "ip": "192.168.2.91", "siaddr": "10.0.0.1", "bootfile": "pxe/pxelinux.0"}
    )
    assert urls(lease) == [
        "tftp://10.0.0.1/pxe/pxelinux.cfg/01-52-54-00-ab-cd-ef",
        "tftp://10.0.0.1/pxe/pxelinux.cfg/C0A8025B",
        "tftp://10.0.0.1/pxe/pxelinux.cfg/C0A8025",
        "tftp://10.0.0.1/pxe/pxelinux.cfg/C0A802",
        "tftp://10.0.0.1/pxe/pxelinux.cfg/C0A80",
        "tftp://10.0.0.1/pxe/pxelinux.cfg/C0A8",
        "tftp://10.0.0.1/pxe/pxelinux.cfg/C0A",
        "tftp://10.0.0.1/pxe/pxelinux.cfg/C0",
        "tftp://10.0.0.1/pxe/pxelinux.cfg/C",
        "tftp://10.0.0.1/pxe/pxelinux.cfg/default",
    ]
    cands, _ = pxe.config_candidates(lease)
    assert {c.base for c in cands} == {"tftp://10.0.0.1/pxe/"}


def test_server_is_option_66_then_siaddr_then_server_id() -> None:
    base = {"mac": MAC, "ip": "10.1.1.1", "bootfile": "pxelinux.0"}
    assert urls(Lease.from_params({**base, "tftp": "h66", "siaddr": "1.1.1.1"}))[0].startswith("tftp://h66/")
    assert urls(Lease.from_params({**base, "siaddr": "1.1.1.1", "serverid": "2.2.2.2"}))[0].startswith(
        "tftp://1.1.1.1/"
    )
    assert urls(Lease.from_params({**base, "siaddr": "0.0.0.0", "serverid": "2.2.2.2"}))[0].startswith(
        "tftp://2.2.2.2/"
    )


def test_full_url_conffile_is_the_only_candidate() -> None:
    lease = Lease.from_params({"mac": MAC, "ip": "10.0.0.5", "siaddr": "10.0.0.1", "pxeconffile": "http://h/c/x.cfg"})
    cands, _ = pxe.config_candidates(lease)
    assert cands == [Candidate("http://h/c/x.cfg", "http://h/c/")]


def test_conffile_under_path_prefix() -> None:
    lease = Lease.from_params(
        {"siaddr": "10.0.0.1", "pxepathprefix": "/srv/boot/", "pxeconffile": "menus/a.cfg", "bootfile": "x/y.0"}
    )
    assert pxe.config_candidates(lease)[0] == [
        Candidate("tftp://10.0.0.1/srv/boot/menus/a.cfg", "tftp://10.0.0.1/srv/boot/")
    ]


def test_url_prefix_search() -> None:
    lease = Lease.from_params({"mac": MAC, "ip": "10.0.0.5", "pxepathprefix": "http://h:8080/p/"})
    got = urls(lease)
    assert got[0] == "http://h:8080/p/pxelinux.cfg/01-52-54-00-ab-cd-ef"
    assert got[1] == "http://h:8080/p/pxelinux.cfg/0A000005"
    assert got[-1] == "http://h:8080/p/pxelinux.cfg/default"


def test_no_server_means_no_candidates_and_a_warning() -> None:
    cands, diags = pxe.config_candidates(Lease.from_params({"bootfile": "pxelinux.0"}))
    assert cands == [] and diags and "no server" in diags[0].message
    assert pxe.config_candidates(Lease.from_params({"ip": "10.0.0.2"})) == ([], [])


def test_ipv6_server_is_bracketed() -> None:
    assert (
        urls(Lease.from_params({"tftp": "fd00::1", "bootfile": "a.0"}))[-1] == "tftp://[fd00::1]/pxelinux.cfg/default"
    )


def test_join() -> None:
    assert pxe.join("tftp://s/a/b/", "k") == "tftp://s/a/b/k"
    assert pxe.join("tftp://s/a/b/", "../k") == "tftp://s/a/k"
    assert pxe.join("tftp://s/a/b/", "/k") == "tftp://s/k"
    assert pxe.join("tftp://s/a/b/", "::k") == "tftp://s/k"
    assert pxe.join("tftp://s/a/b/", "other::x/k") == "tftp://other/x/k"
    assert pxe.join("tftp://s/a/b/", "http://h/k") == "http://h/k"
    assert pxe.join("http://h:80/p-", "k") == "http://h:80/p-k"  # a prefix is a string prefix
    assert pxe.join("tftp://s", "k") == "tftp://s/k"
    assert pxe.join("tftp://s/", "../../../k") == "tftp://s/k"


def test_hex_names() -> None:
    assert pxe.ip_names("192.168.2.91")[:2] == ["C0A8025B", "C0A8025"]
    assert pxe.ip_names("not an ip") == [] and pxe.ip_names("1.2.3.400") == []
    assert pxe.mac_name("AA:BB:CC:DD:EE:FF") == "01-aa-bb-cc-dd-ee-ff"


def test_url_candidates() -> None:
    assert pxe.url_candidates("http://h/x/menu.cfg") == [Candidate("http://h/x/menu.cfg", "http://h/x/")]
    assert pxe.url_candidates("http://h/x/") == [Candidate("http://h/x/pxelinux.cfg/default", "http://h/x/")]
    lease = Lease.from_params({"mac": MAC, "ip": "10.0.0.5"})
    got = pxe.url_candidates("tftp://s/p/", lease)
    assert got[0].url == "tftp://s/p/pxelinux.cfg/01-52-54-00-ab-cd-ef" and len(got) == 10


def test_parse_config_resolves_against_prefix_and_reads_includes() -> None:
    cand = Candidate("tftp://s/p/pxelinux.cfg/default", "tftp://s/p/")
    files = {"tftp://s/p/extra.cfg": "LABEL extra\n  KERNEL ../k2\n"}
    asked: list[str] = []

    def read(url: str) -> str | None:
        asked.append(url)
        return files.get(url)

    text = (
        "DEFAULT b\nLABEL a\n  KERNEL vmlinuz\n  INITRD i1,i2\n"
        "LABEL b\n  LINUX /abs\n  APPEND x=1\n  IPAPPEND 3\nINCLUDE extra.cfg\n"
    )
    lease = Lease.from_params({"mac": MAC, "ip": "10.0.0.5", "siaddr": "10.0.0.1", "router": "10.0.0.254"})
    res = pxe.parse_config(text, cand, device="eth0", read=read, lease=lease)
    assert asked == ["tftp://s/p/extra.cfg"]
    by = {o.id: o for o in res.options}
    assert list(by) == ["eth0/pxe/a", "eth0/pxe/b", "eth0/pxe/extra"]
    assert [o.order for o in res.options] == [0, 1, 2]
    assert all(o.source is Source.PXE and o.device == "eth0" for o in res.options)
    assert by["eth0/pxe/a"].kernel == Resource.remote("tftp://s/p/vmlinuz")
    assert by["eth0/pxe/a"].initrds == (Resource.remote("tftp://s/p/i1"), Resource.remote("tftp://s/p/i2"))
    assert by["eth0/pxe/b"].kernel == Resource.remote("tftp://s/abs")
    assert by["eth0/pxe/b"].default and not by["eth0/pxe/a"].default
    assert by["eth0/pxe/b"].args == "x=1 ip=10.0.0.5:10.0.0.1:10.0.0.254:255.255.255.0 BOOTIF=01-52-54-00-ab-cd-ef"
    assert by["eth0/pxe/extra"].kernel == Resource.remote("tftp://s/k2")


def test_bootfile_option() -> None:
    lease = Lease.from_params({"interface": "eth1", "siaddr": "10.0.0.1", "bootfile": "/images/vmlinuz"})
    opt = pxe.bootfile_option(lease, device="eth1")
    assert opt is not None
    assert opt.kernel == Resource.remote("tftp://10.0.0.1/images/vmlinuz")
    assert opt.id == "eth1/pxe/bootfile" and opt.default and opt.name == "vmlinuz (eth1)"
    assert pxe.bootfile_option(Lease.from_params({"siaddr": "1.2.3.4"}), device="x") is None
    url = pxe.bootfile_option(Lease.from_params({"bootfile": "http://h/k"}), device="x")
    assert url is not None and url.kernel == Resource.remote("http://h/k")


params_st = st.dictionaries(
    st.sampled_from(["mac", "ip", "siaddr", "tftp", "serverid", "bootfile", "boot_file", "pxeconffile",
                     "pxepathprefix", "reboottime", "interface", "router"]),
    st.text(max_size=40),
)  # fmt: skip


@given(params_st)
def test_candidates_never_raise(params: dict[str, str]) -> None:
    lease = Lease.from_params(params)
    cands, _ = pxe.config_candidates(lease)
    assert len(cands) <= 10
    for c in cands:
        assert pxe.is_url(c.url)
    pxe.bootfile_option(lease, device="eth0")


@given(st.text(max_size=400), st.text(max_size=30))
def test_parse_config_never_raises(text: str, name: str) -> None:
    res = pxe.parse_config(text, Candidate("tftp://s/p/x", "tftp://s/p/"), device="eth0", read=lambda u: text)
    for opt in res.options:
        assert opt.source is Source.PXE
    pxe.join("tftp://s/p/", name)
