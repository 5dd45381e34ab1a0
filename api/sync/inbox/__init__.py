"""The people side of sync: the conflict inbox, parked mutations and device health.

Dispatchers read and resolve conflict records (PROTOCOL.md § 6.5, § 8.6), settle
quarantined mutations (§ 6.6, § 7.5), read each device's sync health (§ 13) and
retire devices (§ 12). Resolutions are ordinary writes, so they sync back to the
technician's devices like any other change.
"""
