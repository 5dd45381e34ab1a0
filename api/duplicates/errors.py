"""Duplicate and merge errors: each a stable code the office's client branches on."""

from __future__ import annotations

from api.errors.base import Conflict, InvalidInput, NotFound


class SuggestionNotFound(NotFound):
    code = "duplicate.not_found"
    titles = {"en": "No such duplicate suggestion", "zh-CN": "重复工单建议不存在"}


class MergeIntoItself(InvalidInput):
    code = "duplicate.merge_into_itself"
    titles = {
        "en": "A work order cannot be merged into itself",
        "zh-CN": "工单不能合并到自身",
    }


class OtherCustomer(InvalidInput):
    code = "duplicate.other_customer"
    titles = {
        "en": "Only orders of the same customer can be merged",
        "zh-CN": "只能合并同一客户的工单",
    }


class AlreadyMerged(Conflict):
    code = "duplicate.already_merged"
    titles = {
        "en": "This work order was already merged into another one",
        "zh-CN": "该工单已合并到其他工单",
    }


class PrimaryFinished(Conflict):
    code = "duplicate.primary_cancelled"
    titles = {
        "en": "A cancelled or merged work order cannot take in another one",
        "zh-CN": "已取消或已合并的工单不能作为合并目标",
    }


class SuggestionDecided(Conflict):
    code = "duplicate.already_decided"
    titles = {
        "en": "This suggestion was already resolved by a merge",
        "zh-CN": "该建议已因合并而处理",
    }
