"""User errors."""

from __future__ import annotations

from api.errors.base import Conflict, InvalidInput, NotFound


class UserNotFound(NotFound):
    code = "user.not_found"
    titles = {"en": "No such user", "zh-CN": "用户不存在"}


class EmailTaken(Conflict):
    code = "user.email_taken"
    titles = {"en": "A user with this email already exists", "zh-CN": "该邮箱已被其他用户使用"}


class WeakPassword(InvalidInput):
    code = "user.weak_password"
    titles = {"en": "The password is too weak", "zh-CN": "密码强度不足"}
