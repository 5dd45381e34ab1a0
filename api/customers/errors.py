"""Customer and contact errors."""

from __future__ import annotations

from api.errors.base import Conflict, NotFound


class CustomerNotFound(NotFound):
    code = "customer.not_found"
    titles = {"en": "No such customer", "zh-CN": "客户不存在"}


class CustomerInUse(Conflict):
    code = "customer.in_use"
    titles = {
        "en": "The customer has sites or work orders; deactivate it instead",
        "zh-CN": "该客户仍有站点或工单，请改为停用",
    }


class CustomerCodeTaken(Conflict):
    code = "customer.code_taken"
    titles = {"en": "Another customer already uses this code", "zh-CN": "该客户编码已被使用"}


class ContactNotFound(NotFound):
    code = "contact.not_found"
    titles = {"en": "No such contact", "zh-CN": "联系人不存在"}
