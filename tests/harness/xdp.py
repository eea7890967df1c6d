"""A host NIC with a lower largest MTU than a plain veth's 65535, for the
network MTU checks (docs/networks.md "Host network setup").

The harness NICs are veths, whose IFLA_MAX_MTU is 65535 and cannot be set.
The kernel lowers it by itself when a native XDP program sits on the veth's
peer (veth_xdp_set: the peer's max_mtu becomes one page's frame, 3506 with
4 KiB pages), so a pass-everything XDP program on a host NIC's root end
(``vireo-vhNnJ``) gives that host's ``ethJ`` a real, lower maximum the
agent reports like any NIC's. The program is loaded and attached with
bpf(2) from here (no compiler, no ELF object): a bpf_link that lives as
long as its descriptor, so closing it (or the test process ending) takes
the program off and the maximum goes back to 65535."""

import ctypes
import os
import socket
import struct

_NR_BPF = 321                      # x86_64
_BPF_PROG_LOAD, _BPF_LINK_CREATE = 5, 28
_BPF_PROG_TYPE_XDP, _BPF_XDP = 6, 37
_XDP_FLAGS_DRV_MODE = 4            # native: what lowers the peer's maximum
_libc = ctypes.CDLL(None, use_errno=True)


def _bpf(cmd, attr):
    buf = ctypes.create_string_buffer(attr, 128)
    fd = _libc.syscall(_NR_BPF, cmd, buf, len(buf))
    if fd < 0:
        e = ctypes.get_errno()
        raise OSError(e, "bpf(%d): %s" % (cmd, os.strerror(e)))
    return fd


class XdpPass:
    """``with XdpPass("vireo-vh1n2"):`` a native XDP_PASS program on that
    (root-namespace) device while the block runs."""

    def __init__(self, ifname):
        self.ifname, self.fd = ifname, None

    def __enter__(self):
        insns = struct.pack("<BBhi", 0xb7, 0, 0, 2) + struct.pack("<BBhi", 0x95, 0, 0, 0)  # r0 = XDP_PASS; exit
        code, lic = ctypes.create_string_buffer(insns), ctypes.create_string_buffer(b"GPL")
        prog = _bpf(_BPF_PROG_LOAD, struct.pack("<IIQQIIQII16sII", _BPF_PROG_TYPE_XDP, 2, ctypes.addressof(code),
                                                ctypes.addressof(lic), 0, 0, 0, 0, 0, b"", 0, _BPF_XDP))
        try:
            self.fd = _bpf(_BPF_LINK_CREATE, struct.pack("<IIII", prog, socket.if_nametoindex(self.ifname),
                                                         _BPF_XDP, _XDP_FLAGS_DRV_MODE))
        finally:
            os.close(prog)
        return self

    def __exit__(self, *exc):
        os.close(self.fd)
        self.fd = None
