"""Errors of the conflict inbox, the quarantine and the device registry."""

from __future__ import annotations

from api.errors.base import Conflict, NotFound


class ConflictNotFound(NotFound):
    code = "sync_conflict.not_found"
    titles = {"en": "No such sync conflict", "zh-CN": "同步冲突不存在"}


class ConflictAlreadyResolved(Conflict):
    code = "sync_conflict.already_resolved"
    titles = {
        "en": "This sync conflict has already been resolved",
        "zh-CN": "该同步冲突已被处理",
    }


class ConflictUnreachable(Conflict):
    """The device's value can no longer be reached by office actions (e.g. a started order)."""

    code = "sync_conflict.unreachable"
    titles = {
        "en": "The work order can no longer take this value; choose another resolution",
        "zh-CN": "工单已无法采用该值，请选择其他处理方式",
    }


class QuarantineEntryNotFound(NotFound):
    code = "sync_quarantine.not_found"
    titles = {"en": "No such quarantined mutation", "zh-CN": "隔离的同步操作不存在"}


class QuarantineEntrySettled(Conflict):
    code = "sync_quarantine.already_settled"
    titles = {
        "en": "This quarantined mutation has already been discarded or re-applied",
        "zh-CN": "该隔离的同步操作已被丢弃或重新执行",
    }


class DeviceNotFound(NotFound):
    code = "sync_device.not_found"
    titles = {"en": "No such device", "zh-CN": "设备不存在"}
