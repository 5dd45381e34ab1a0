"""Authentication errors."""

from __future__ import annotations

from api.errors.base import InvalidInput, NotFound, Unauthenticated


class InvalidCredentials(Unauthenticated):
    code = "auth.invalid_credentials"
    titles = {"en": "Wrong tenant, email or password", "zh-CN": "租户、邮箱或密码错误"}


class InvalidRefreshToken(Unauthenticated):
    code = "auth.invalid_refresh_token"
    titles = {
        "en": "The refresh token is invalid, expired or revoked",
        "zh-CN": "刷新令牌无效、已过期或已撤销",
    }


class RefreshTokenReused(Unauthenticated):
    code = "auth.refresh_token_reused"
    titles = {
        "en": "This refresh token was already used; the session has been revoked",
        "zh-CN": "该刷新令牌已被使用，会话已被撤销",
    }


class SessionNotFound(NotFound):
    code = "auth.session_not_found"
    titles = {"en": "No such session", "zh-CN": "会话不存在"}


class ApiKeyNotFound(NotFound):
    code = "auth.api_key_not_found"
    titles = {"en": "No such API key", "zh-CN": "API 密钥不存在"}


class ScopeNotGrantable(InvalidInput):
    code = "auth.scope_not_grantable"
    titles = {
        "en": "An API key cannot be given this scope",
        "zh-CN": "API 密钥不能被授予该权限范围",
    }
