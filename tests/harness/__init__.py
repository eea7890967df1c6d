"""Vireo integration-test harness: several libvirt test hosts on one machine
(network + mount namespaces, each with its own libvirtd), see hosts.py."""

from .hosts import HostSet, Host, HarnessError, cleanup_stale  # noqa: F401
